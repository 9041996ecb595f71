/* Accounts: sign-up, availability, the profile. */
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "account.h"
#include "audit.h"
#include "email.h"
#include "handlers.h"
#include "password.h"
#include "throttle.h"

GH_SQL(SQL_REGISTER) = {{
    "INSERT INTO users AS u (username, email, password_hash) "
    "VALUES ($1, $2, $3) RETURNING " USER_COLS }};

GH_SQL(SQL_USERNAME_TAKEN) = {{
    "SELECT 1 FROM users WHERE lower(username) = lower($1)" }};
GH_SQL(SQL_EMAIL_TAKEN) = {{
    "SELECT 1 FROM users WHERE lower(email) = lower($1)" }};

/* A new password's hash, or -1 having answered. */
static int
hash_password(struct gh_req *req, const char *pw, char *hash, size_t len)
{
	if (gh_password_hash(&auth_cfg.argon2, pw, strlen(pw), hash,
	    len) == 0)
		return 0;
	return gh_problem(req, 500, "internal error");
}

enum { R_USERNAME, R_EMAIL, R_PASSWORD };
static const struct gh_field register_fields[] = {
	{ "username",	GH_STRING, .maxlen = AUTH_USERNAME_MAX,
	    .valid = auth_valid_username },
	{ "email",	GH_STRING, .maxlen = AUTH_EMAIL_MAX,
	    .valid = auth_valid_email },
	{ "password",	GH_STRING, .minlen = AUTH_PW_MIN, .maxlen = AUTH_PW_MAX,
	    .valid = auth_valid_password },
	{ NULL }
};

void
auth_register(struct gh_req *req)
{
	struct gh_values v;
	struct gh_row	 r;
	PGresult	*res;
	json_t		*out;
	const char	*p[3], *pw, *why, *uid;
	char		 hash[GH_PASSWORD_HASH_MAX];

	if (gh_body_json(req, register_fields, &v) != 0)
		return;
	p[0] = gh_vstr(&v, R_USERNAME);
	p[1] = gh_vstr(&v, R_EMAIL);
	pw = gh_vstr(&v, R_PASSWORD);
	if ((why = auth_password_personal(pw, p[0], p[1])) != NULL)
		gh_field_error(req, "password", "%s", why);
	if (gh_errors_reply(req, 422) != 0)
		return;
	/* Counted before the costly hash: a flood of sign-ups costs little. */
	if (auth_throttle(req, gh_printf(&req->arena, "register:%s",
	    auth_client_net(req)), auth_cfg.register_limit, 3600,
	    "sign-ups") != 0 ||
	    hash_password(req, pw, hash, sizeof(hash)) != 0)
		return;
	p[2] = hash;
	if (gh_db_begin(req) != 0)
		return;
	if ((res = gh_db_exec(req, SQL_REGISTER, 3, p)) == NULL) {
		gh_db_reply_error(req, NULL);
		return;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		auth_reply_taken(req, res);
		return;
	}
	r = GH_ROW(res, 0);
	uid = gh_row_str(&r, UC_ID);
	if (gh_row_failed(req, &r) || (out = auth_user_body(req, res)) == NULL)
		return;
	/* The address is proven by the link in this mail, sent on commit. */
	if (auth_email_verify_send(req, uid, p[0], p[1], NULL) != 0 ||
	    auth_audit(req, "signup", uid, NULL) != 0 ||
	    gh_db_commit(req) != 0) {
		json_decref(out);
		return;
	}
	gh_reply_json(req, 201, out);
}

enum { AV_USERNAME, AV_EMAIL };
static const struct gh_field availability_params[] = {
	{ "username",	GH_STRING | GH_OPTIONAL, .maxlen = AUTH_USERNAME_MAX,
	    .valid = auth_valid_username },
	{ "email",	GH_STRING | GH_OPTIONAL, .maxlen = AUTH_EMAIL_MAX,
	    .valid = auth_valid_email },
	{ NULL }
};

/*
 * Whether a username or an e-mail is free, for sign-up forms.  It tells
 * which accounts exist, so it is throttled per client address.
 */
void
auth_availability(struct gh_req *req)
{
	struct gh_values v;
	const char	*value, *key;
	PGresult	*res;
	int		 byname;

	if (gh_query_params(req, availability_params, &v) != 0)
		return;
	if (gh_vhas(&v, AV_USERNAME) == gh_vhas(&v, AV_EMAIL)) {
		gh_problem(req, 400, "give exactly one of the query "
		    "parameters username and email");
		return;
	}
	byname = gh_vhas(&v, AV_USERNAME);
	value = gh_vstr(&v, byname ? AV_USERNAME : AV_EMAIL);
	key = gh_printf(&req->arena, "availability:%s",
	    req->remote_addr != NULL ? req->remote_addr : "-");
	if (auth_throttle(req, key, auth_cfg.availability_limit, 60,
	    "lookups") != 0)
		return;
	res = gh_db_query(req, byname ? SQL_USERNAME_TAKEN : SQL_EMAIL_TAKEN,
	    1, &value);
	if (res == NULL)
		return;
	gh_reply_json(req, 200, json_pack("{s:s, s:b}",
	    byname ? "username" : "email", value,
	    "available", gh_rows(res) == 0));
}

void
auth_me(struct gh_req *req)
{
	PGresult	*res;
	json_t		*out;

	json_t		*pending;

	if ((res = auth_session(req, NULL)) == NULL ||
	    auth_email_pending(req, gh_auth_user(req)->sub, &pending) != 0)
		return;
	if ((out = auth_user_body(req, res)) == NULL) {
		json_decref(pending);
		return;
	}
	/* A change waiting for its confirmation, or null. */
	json_object_set_new(out, "email_change", pending != NULL ? pending :
	    json_null());
	gh_reply_json(req, 200, out);
}

GH_SQL(SQL_UPDATE_ME) = {{
    "UPDATE users u SET username = coalesce($2, u.username), "
    " email = coalesce($3, u.email), updated_at = now() "
    "WHERE u.id = $1 RETURNING " USER_COLS }};

GH_SQL(SQL_SET_PASSWORD) = {{
    "UPDATE users SET password_hash = $2, password_changed_at = now(), "
    " updated_at = now() WHERE id = $1" }};

/* Every session but the one in use: a new password ends the others. */
GH_SQL(SQL_END_OTHER_SESSIONS) = {{
    "UPDATE sessions SET revoked_at = now(), revoked_reason = 'password' "
    "WHERE user_id = $1 AND id IS DISTINCT FROM $2::uuid "
    "AND revoked_at IS NULL" }};

GH_SQL(SQL_DELETE_ME) = {{
    "DELETE FROM users WHERE id = $1" }};

enum { U_USERNAME, U_EMAIL, U_PASSWORD };
static const struct gh_field update_fields[] = {
	{ "username",	GH_STRING | GH_OPTIONAL, .maxlen = AUTH_USERNAME_MAX,
	    .valid = auth_valid_username },
	{ "email",	GH_STRING | GH_OPTIONAL, .maxlen = AUTH_EMAIL_MAX,
	    .valid = auth_valid_email },
	{ "current_password", GH_STRING | GH_OPTIONAL, .maxlen = 1024 },
	{ NULL }
};

/*
 * A new e-mail address for the signed-in user (another mailbox: a change
 * of case only is not one) waits for its confirmation: free now, within
 * the mail throttle, a link mailed to it.  *pending says so for the
 * answer.  0, or -1 answered.
 */
static int
email_change(struct gh_req *req, const char *uid, const char *username,
    const char *email, json_t **pending)
{
	const char	*expires;
	long long	 retry;
	int		 rc;

	if ((rc = auth_email_taken(req, uid, email)) != 0)
		return rc < 0 ? -1 : gh_problem_field(req, 409, "email",
		    "is already taken");
	if ((rc = auth_email_mail_hit(req, uid, email, &retry)) != 0)
		return rc < 0 ? -1 : auth_email_mail_refused(req, retry);
	if (auth_email_change_start(req, uid, username, email,
	    &expires) != 0 ||
	    auth_audit_json(req, "email_change_requested", uid, json_pack(
	    "{s:s}", "new_email", email)) != 0)
		return -1;
	if ((*pending = json_pack("{s:s, s:s}", "new_email", email,
	    "expires_at", expires)) == NULL)
		return gh_problem(req, 500, "out of memory");
	return 0;
}

/*
 * The username changes at once.  An e-mail address does not: the new
 * one must confirm by its link first (202, with the change pending), and
 * asking for it needs the current password, as what a new address
 * allows (a password reset sent there) is as much as a new password.
 * The current address again cancels a change still pending.
 */
void
auth_me_update(struct gh_req *req)
{
	struct gh_values v;
	struct gh_row	 r;
	PGresult	*ures, *res;
	json_t		*out, *pending = NULL;
	const char	*p[3], *email, *current, *username;
	int		 change;

	if ((ures = auth_session(req, NULL)) == NULL ||
	    gh_body_json(req, update_fields, &v) != 0)
		return;
	if (!gh_vhas(&v, U_USERNAME) && !gh_vhas(&v, U_EMAIL)) {
		gh_problem(req, 422, "give username, email or both");
		return;
	}
	r = GH_ROW(ures, 0);
	current = gh_row_str(&r, UC_EMAIL);
	if (gh_row_failed(req, &r))
		return;
	email = gh_vstr(&v, U_EMAIL);
	change = email != NULL && strcasecmp(email, current) != 0;
	if (change && !gh_vhas(&v, U_PASSWORD))
		gh_field_error(req, "current_password", "is required to "
		    "change the e-mail address");
	if (gh_errors_reply(req, 422) != 0 ||
	    (change && auth_password_recheck(req, "current_password",
	    gh_vstr(&v, U_PASSWORD)) != 0))
		return;
	p[0] = gh_auth_user(req)->sub;
	p[1] = gh_vstr(&v, U_USERNAME);
	p[2] = change ? NULL : email;
	if (gh_db_begin(req) != 0)
		return;
	if ((res = gh_db_exec(req, SQL_UPDATE_ME, 3, p)) == NULL) {
		gh_db_reply_error(req, NULL);
		return;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		auth_reply_taken(req, res);
		return;
	}
	if (gh_rows(res) == 0) {
		gh_problem(req, 404, "the account is gone");
		return;
	}
	r = GH_ROW(res, 0);
	username = gh_row_str(&r, UC_USERNAME);
	if (gh_row_failed(req, &r))
		return;
	if (change ? email_change(req, p[0], username, email, &pending) != 0 :
	    email != NULL && auth_email_change_cancel(req, p[0]) != 0)
		return;
	if ((out = auth_user_body(req, res)) == NULL) {
		json_decref(pending);
		return;
	}
	if (pending != NULL)
		json_object_set_new(out, "email_change", pending);
	if (((p[1] != NULL || p[2] != NULL) &&
	    auth_audit(req, "profile_change", p[0], NULL) != 0) ||
	    gh_db_commit(req) != 0) {
		json_decref(out);
		return;
	}
	gh_reply_json(req, change ? 202 : 200, out);
}

enum { P_CURRENT, P_NEW };
static const struct gh_field password_fields[] = {
	{ "current_password",	GH_STRING, .maxlen = 1024 },
	{ "new_password",	GH_STRING, .minlen = AUTH_PW_MIN,
	    .maxlen = AUTH_PW_MAX, .valid = auth_valid_password },
	{ NULL }
};

void
auth_me_password(struct gh_req *req)
{
	const struct gh_claims *c;
	struct gh_values v;
	const char	*p[2];
	char		 hash[GH_PASSWORD_HASH_MAX];

	if (auth_session(req, NULL) == NULL ||
	    gh_body_json(req, password_fields, &v) != 0 ||
	    auth_password_recheck(req, "current_password",
	    gh_vstr(&v, P_CURRENT)) != 0 ||
	    hash_password(req, gh_vstr(&v, P_NEW), hash, sizeof(hash)) != 0)
		return;
	c = gh_auth_user(req);
	p[0] = c->sub;
	p[1] = hash;
	if (gh_db_begin(req) != 0 ||
	    gh_db_query(req, SQL_SET_PASSWORD, 2, p) == NULL)
		return;
	p[1] = c->sid[0] != '\0' ? c->sid : NULL;
	if (gh_db_query(req, SQL_END_OTHER_SESSIONS, 2, p) == NULL ||
	    auth_audit(req, "password_change", c->sub, NULL) != 0 ||
	    gh_db_commit(req) != 0)
		return;
	gh_reply(req, 204, NULL, NULL, 0);
}

enum { D_PASSWORD };
static const struct gh_field delete_fields[] = {
	{ "password",	GH_STRING, .maxlen = 1024 },
	{ NULL }
};

/*
 * POST /api/v1/auth/me/password/verify: the password checked and nothing
 * else done (but a wrong one counted, like any failed sign-in, so that
 * this is no free guess).  A client deleting an account asks this before
 * it deletes the media, which live in another database: a wrong password
 * then deletes nothing anywhere (docs/console.md).
 */
void
auth_me_password_verify(struct gh_req *req)
{
	struct gh_values v;

	if (auth_session(req, NULL) == NULL ||
	    gh_body_json(req, delete_fields, &v) != 0 ||
	    auth_password_recheck(req, "password",
	    gh_vstr(&v, D_PASSWORD)) != 0)
		return;
	gh_reply(req, 204, NULL, NULL, 0);
}

/* One transaction: the user, and by cascade its sessions and tokens. */
void
auth_me_delete(struct gh_req *req)
{
	const struct gh_claims *c;
	struct gh_values v;

	if (auth_session(req, NULL) == NULL ||
	    gh_body_json(req, delete_fields, &v) != 0 ||
	    auth_password_recheck(req, "password",
	    gh_vstr(&v, D_PASSWORD)) != 0)
		return;
	c = gh_auth_user(req);
	if (gh_db_begin(req) != 0 ||
	    gh_db_query(req, SQL_DELETE_ME, 1,
	    (const char *[]){ c->sub }) == NULL ||
	    auth_audit(req, "account_deleted", c->sub, NULL) != 0 ||
	    gh_db_commit(req) != 0)
		return;
	auth_refresh_cookie(req, "", 0);
	gh_reply(req, 204, NULL, NULL, 0);
}
