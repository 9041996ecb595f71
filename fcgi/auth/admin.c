/* Administration: users, their roles, state and address; the first admin. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "account.h"
#include "audit.h"
#include "email.h"
#include "handlers.h"
#include "password.h"

/* A user as an admin sees it; the key is the list's sort key, for its cursor. */
#define ADMIN_COLS	USER_COLS ", u.disabled, " GH_SQL_TS_KEY("u.created_at")
enum { AC_DISABLED = UC__COUNT, AC_KEY };

/*
 * Newest first, after the cursor's (created_at, id), so pages stay stable
 * while users sign up and whatever becomes of the last user of a page.
 * starting_after (a user id, resolved here) is the older way to say where
 * a page starts; it finds nothing after a user who was deleted.
 */
GH_SQL(SQL_ADMIN_USERS) = {{
    "SELECT " ADMIN_COLS " FROM users u "
    "WHERE ($1::text IS NULL OR strpos(lower(u.username), lower($1)) > 0 "
    "  OR strpos(lower(u.email), lower($1)) > 0) "
    "AND ($2::uuid IS NULL OR (u.created_at, u.id) < "
    "  (SELECT created_at, id FROM users WHERE id = $2::uuid)) "
    "AND ($4::timestamptz IS NULL OR "
    "  (u.created_at, u.id) < ($4::timestamptz, $5::uuid)) "
    "ORDER BY u.created_at DESC, u.id DESC LIMIT $3::int" }};

GH_SQL(SQL_ADMIN_UPDATE) = {{
    "UPDATE users u SET role = coalesce($2, u.role), "
    " disabled = coalesce($3::boolean, u.disabled), "
    " email = coalesce($4, u.email), updated_at = now() "
    "WHERE u.id = $1::uuid RETURNING " ADMIN_COLS }};

/* The address before the change, locked until it is made. */
GH_SQL(SQL_ADMIN_OLD_EMAIL) = {{
    "SELECT email, email_verified_at IS NOT NULL FROM users "
    "WHERE id = $1::uuid FOR UPDATE" }};
enum { OE_EMAIL, OE_VERIFIED };

/* The address a user had before an admin's change. */
struct admin_old {
	const char	*email;		/* NULL: no change */
	int		 verified;
};

GH_SQL(SQL_REVOKE_USER) = {{
    "UPDATE sessions SET revoked_at = now(), revoked_reason = 'disabled' "
    "WHERE user_id = $1::uuid AND revoked_at IS NULL" }};

GH_SQL(SQL_MAKE_ADMIN) = {{
    "UPDATE users SET role = 'admin', updated_at = now() "
    "WHERE lower(username) = lower($1) RETURNING id" }};

GH_SQL(SQL_AUDIT_CLI) = {{
    "INSERT INTO audit_log (event, user_id, detail) "
    "VALUES ('role_change', $1, '{\"role\":\"admin\",\"by\":\"cli\"}')" }};

/* Check gh_row_failed after. */
static json_t *
admin_user_json(struct gh_row *r)
{
	json_t	*u = auth_user_json(r);

	json_object_set_new(u, "disabled", json_boolean(gh_row_bool(r,
	    AC_DISABLED)));
	return u;
}

enum { AQ_LIMIT, AQ_CURSOR, AQ_Q, AQ_AFTER };
static const struct gh_field list_params[] = {
	GH_PAGE_FIELDS,
	{ "q",			GH_STRING | GH_OPTIONAL,
	    .maxlen = AUTH_EMAIL_MAX },
	{ "starting_after",	GH_STRING | GH_OPTIONAL,
	    .valid = gh_valid_uuid },
	{ NULL }
};

void
auth_admin_users(struct gh_req *req)
{
	struct gh_values q;
	struct gh_page	 pg;
	PGresult	*res;
	json_t		*arr;

	if (auth_session(req, GH_ROLE_ADMIN) == NULL ||
	    gh_query_params(req, list_params, &q) != 0 ||
	    gh_page_init(req, &q, AQ_LIMIT, 20, "tu", &pg) != 0)
		return;
	if ((res = gh_db_query(req, SQL_ADMIN_USERS, 5, (const char *[]){
	    gh_vstr(&q, AQ_Q), gh_vstr(&q, AQ_AFTER), pg.fetch, pg.key[0],
	    pg.key[1] })) == NULL)
		return;
	if ((arr = gh_rows_json(req, res, gh_page_count(&pg, res),
	    admin_user_json)) == NULL)
		return;
	gh_reply_json(req, 200, gh_page_json(&req->arena, &pg, arr, res,
	    (const int[]){ AC_KEY, UC_ID }));
}

enum { A_ROLE, A_DISABLED, A_EMAIL };
static const struct gh_field admin_fields[] = {
	{ "role",	GH_STRING | GH_OPTIONAL,
	    .choices = (const char *const[]){ GH_ROLE_USER, GH_ROLE_ADMIN,
	    NULL } },
	{ "disabled",	GH_BOOL | GH_OPTIONAL },
	{ "email",	GH_STRING | GH_OPTIONAL, .maxlen = AUTH_EMAIL_MAX,
	    .valid = auth_valid_email },
	{ NULL }
};

/*
 * An admin's new address for a user takes effect at once, unverified
 * (the user asked for it because the old mailbox is lost, or is no
 * longer theirs): the new address gets a verification link, the old one
 * a notice without a way back, and every pending link dies (email.c).
 * old->email is the address before, or NULL when it does not change.
 * 0, or -1 answered (404 when there is no such user).
 */
static int
admin_email_before(struct gh_req *req, const char *id, const char *email,
    struct admin_old *old)
{
	struct gh_row	 r;
	PGresult	*res;

	memset(old, 0, sizeof(*old));
	if (email == NULL)
		return 0;
	if ((res = gh_db_query(req, SQL_ADMIN_OLD_EMAIL, 1, &id)) == NULL)
		return -1;
	if (gh_rows(res) == 0)
		return gh_problem(req, 404, "no such user");
	r = GH_ROW(res, 0);
	old->email = gh_row_str(&r, OE_EMAIL);
	old->verified = gh_row_bool(&r, OE_VERIFIED);
	if (gh_row_failed(req, &r))
		return -1;
	if (strcmp(old->email, email) == 0)
		old->email = NULL;
	return 0;
}

static int
admin_email_after(struct gh_req *req, struct gh_row *r,
    const struct admin_old *old)
{
	const char	*id, *username, *email;

	id = gh_row_str(r, UC_ID);
	username = gh_row_str(r, UC_USERNAME);
	email = gh_row_str(r, UC_EMAIL);
	if (gh_row_failed(req, r))
		return -1;
	/* A change of case only is the same mailbox: nothing to prove. */
	if (strcasecmp(old->email, email) != 0 && auth_email_admin_changed(
	    req, id, username, old->email, old->verified, email) != 0)
		return -1;
	return auth_audit_json(req, "email_change", id, json_pack(
	    "{s:s, s:s, s:s}", "by", "admin", "old_email", old->email,
	    "new_email", email));
}

void
auth_admin_user_update(struct gh_req *req)
{
	struct gh_values v;
	struct gh_row	 r;
	struct admin_old old;
	const char	*id = gh_param(req, "id"), *p[4];
	PGresult	*res;
	json_t		*u;
	int		 disable;

	if (auth_session(req, GH_ROLE_ADMIN) == NULL ||
	    gh_body_json(req, admin_fields, &v) != 0)
		return;
	if (!gh_is_uuid(id)) {
		gh_problem(req, 404, "no such user");
		return;
	}
	if (!gh_vhas(&v, A_ROLE) && !gh_vhas(&v, A_DISABLED) &&
	    !gh_vhas(&v, A_EMAIL)) {
		gh_problem(req, 422, "give role, disabled, email, or more than "
		    "one of them");
		return;
	}
	disable = gh_vbool(&v, A_DISABLED, 0);
	/* An admin who demotes or disables themself may lock everyone out. */
	if (strcasecmp(id, gh_auth_user(req)->sub) == 0) {
		gh_problem(req, 409, "an admin cannot change their own role, "
		    "state or address here (their own address changes "
		    "through PATCH /api/v1/auth/me); ask another admin");
		return;
	}
	p[0] = id;
	p[1] = gh_vstr(&v, A_ROLE);
	p[2] = gh_vhas(&v, A_DISABLED) ? (disable ? "true" : "false") : NULL;
	p[3] = gh_vstr(&v, A_EMAIL);
	if (gh_db_begin(req) != 0 ||
	    admin_email_before(req, id, p[3], &old) != 0)
		return;
	if ((res = gh_db_exec(req, SQL_ADMIN_UPDATE, 4, p)) == NULL) {
		gh_db_reply_error(req, NULL);
		return;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		auth_reply_taken(req, res);
		return;
	}
	if (gh_rows(res) == 0) {
		gh_problem(req, 404, "no such user");
		return;
	}
	r = GH_ROW(res, 0);
	u = admin_user_json(&r);
	if (gh_row_failed(req, &r))
		goto fail;
	if (disable && gh_db_query(req, SQL_REVOKE_USER, 1, p) == NULL)
		goto fail;
	if (old.email != NULL && admin_email_after(req, &r, &old) != 0)
		goto fail;
	/* Both values were validated: plain words, safe inside JSON. */
	if (((p[1] != NULL || p[2] != NULL) &&
	    auth_audit(req, gh_vhas(&v, A_ROLE) ? "role_change" :
	    "disabled_change", id, gh_printf(&req->arena,
	    "{\"role\":%s%s%s,\"disabled\":%s}", p[1] ? "\"" : "",
	    p[1] ? p[1] : "null", p[1] ? "\"" : "",
	    p[2] ? p[2] : "null")) != 0) ||
	    gh_db_commit(req) != 0)
		goto fail;
	gh_reply_json(req, 200, json_pack("{s:o}", "user", u));
	return;
fail:
	json_decref(u);
}

/*
 * `gatehouse-auth --make-admin NAME`: the sysadmin's way to the first
 * admin, after NAME signed up.  Uses the service's own settings (GH_DB,
 * GH_DB_PASSWORD_FILE) and connection code; the role and its audit line
 * are one transaction.
 */
static int
cli_ok(PGresult *res)
{
	if (gh_db_ok(res))
		return 1;
	fprintf(stderr, "gatehouse-auth: %s", res != NULL ?
	    PQresultErrorMessage(res) : "no database connection (see above)\n");
	return 0;
}

enum { MA_ID, MA__COUNT };

int
auth_cli_make_admin(const char *username)
{
	struct gh_arena	 arena;
	struct gh_row	 r;
	PGresult	*res;
	const char	*uid;
	int		 rc = 1;

	gh_log_setup("auth", GH_LOG_WARN);
	gh_arena_init(&arena);
	if (gh_db_setup("gatehouse-auth-cli") != 0 ||
	    gh_db_run_begin(&arena) != 0 ||
	    !cli_ok(res = gh_db_run(&arena, SQL_MAKE_ADMIN, 1, &username)))
		goto done;
	if (gh_rows(res) == 0) {
		fprintf(stderr, "gatehouse-auth: no user named %s; sign up "
		    "first, then run this again\n", username);
		goto done;
	}
	r = GH_ROW(res, 0);
	uid = gh_row_str(&r, MA_ID);
	if (!cli_ok(gh_db_run(&arena, SQL_AUDIT_CLI, 1, &uid)))
		goto done;
	if (gh_db_run_commit(&arena) != 0) {
		fprintf(stderr, "gatehouse-auth: the change was not "
		    "committed (see above)\n");
		goto done;
	}
	printf("%s is now an admin\n", username);
	rc = 0;
done:
	gh_arena_free(&arena);
	gh_db_close();
	return rc;
}
