/* Accounts: sign-up, availability, the profile. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"

GH_SQL(SQL_REGISTER) = {{
    "INSERT INTO users AS u (username, email, password_hash) "
    "VALUES ($1, $2, $3) RETURNING " USER_COLS }};

GH_SQL(SQL_ME) = {{
    "SELECT " USER_COLS " FROM users u "
    "JOIN sessions s ON s.user_id = u.id "
    "WHERE u.id = $1 AND s.id = $2 AND s.revoked_at IS NULL "
    "AND s.expires_at > now() AND NOT u.disabled" }};

GH_SQL(SQL_USERNAME_TAKEN) = {{
    "SELECT 1 FROM users WHERE lower(username) = lower($1)" }};
GH_SQL(SQL_EMAIL_TAKEN) = {{
    "SELECT 1 FROM users WHERE lower(email) = lower($1)" }};

json_t *
auth_user_json(PGresult *res, int row, int col)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}",
	    "id", PQgetvalue(res, row, col),
	    "username", PQgetvalue(res, row, col + 1),
	    "email", PQgetvalue(res, row, col + 2),
	    "role", PQgetvalue(res, row, col + 3),
	    "created_at", PQgetvalue(res, row, col + 4));
}

/* The password's own rules come after the type checks, with its name. */
static int
password_ok(struct gh_req *req, const char *pw, const char *user,
    const char *email, const char *field)
{
	const char	*why;

	if ((why = auth_password_weak(pw, user, email)) == NULL)
		return 0;
	return gh_problem_field(req, 422, field, "%s", why);
}

/* A unique violation named for the field it is about. */
static int
reply_taken(struct gh_req *req, PGresult *res)
{
	const char	*c = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
	const char	*field;

	if (c != NULL && strcmp(c, "users_username_lower_key") == 0)
		field = "username";
	else if (c != NULL && strcmp(c, "users_email_lower_key") == 0)
		field = "email";
	else
		return gh_db_reply_error(req, res);
	return gh_problem_field(req, 409, field, "is already taken");
}

/*
 * The client's address as a throttle counts it: an IPv4 address, or the
 * /64 of an IPv6 one (one host often holds a whole /64).
 */
static const char *
client_net(struct gh_req *req)
{
	struct in6_addr	 a;
	char		*s;

	if (req->remote_addr == NULL)
		return "-";
	if (strchr(req->remote_addr, ':') == NULL ||
	    inet_pton(AF_INET6, req->remote_addr, &a) != 1 ||
	    (s = gh_alloc(&req->arena, INET6_ADDRSTRLEN + 4)) == NULL)
		return req->remote_addr;
	memset(a.s6_addr + 8, 0, 8);
	if (inet_ntop(AF_INET6, &a, s, INET6_ADDRSTRLEN) == NULL)
		return req->remote_addr;
	strcat(s, "/64");
	return s;
}

enum { R_USERNAME, R_EMAIL, R_PASSWORD };
static const struct gh_field register_fields[] = {
	{ "username",	GH_STRING, .maxlen = 40, .valid = auth_valid_username },
	{ "email",	GH_STRING, .maxlen = 254, .valid = auth_valid_email },
	{ "password",	GH_STRING, .maxlen = 1024 },
	{ NULL }
};

void
auth_register(struct gh_req *req)
{
	struct gh_values v;
	PGresult	*res;
	const char	*p[3];
	char		 hash[256];

	if (gh_body_json(req, register_fields, &v) != 0)
		return;
	p[0] = gh_vstr(&v, R_USERNAME);
	p[1] = gh_vstr(&v, R_EMAIL);
	if (password_ok(req, gh_vstr(&v, R_PASSWORD), p[0], p[1],
	    "password") != 0)
		return;
	/* Counted before the costly hash: a flood of sign-ups costs little. */
	if (auth_throttle(req, gh_printf(&req->arena, "register:%s",
	    client_net(req)), auth_cfg.register_limit, 3600, "sign-ups") != 0)
		return;
	if (gh_password_hash(&auth_cfg.argon2, gh_vstr(&v, R_PASSWORD),
	    strlen(gh_vstr(&v, R_PASSWORD)), hash, sizeof(hash)) != 0) {
		gh_problem(req, 500, "internal error");
		return;
	}
	p[2] = hash;
	if (gh_db_begin(req) != 0)
		return;
	if ((res = gh_db_exec(req, SQL_REGISTER, 3, p)) == NULL) {
		gh_db_reply_error(req, NULL);
		return;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		reply_taken(req, res);
		return;
	}
	if (auth_audit(req, "signup", PQgetvalue(res, 0, 0), NULL) != 0 ||
	    gh_db_commit(req) != 0)
		return;
	gh_reply_json(req, 201, json_pack("{s:o}", "user",
	    auth_user_json(res, 0, 0)));
}

/*
 * Whether a username or an e-mail is free, for sign-up forms.  It tells
 * which accounts exist, so it is throttled per client address.
 */
void
auth_availability(struct gh_req *req)
{
	const char	*username, *email, *value, *why, *key;
	PGresult	*res;

	username = gh_query(req, "username");
	email = gh_query(req, "email");
	if ((username == NULL) == (email == NULL)) {
		gh_problem(req, 400, "give exactly one of the query "
		    "parameters username and email");
		return;
	}
	value = username != NULL ? username : email;
	why = username != NULL ? auth_valid_username(value) :
	    auth_valid_email(value);
	if (why != NULL) {
		gh_problem(req, 422, "%s: %s", username != NULL ?
		    "username" : "email", why);
		return;
	}
	key = gh_printf(&req->arena, "availability:%s",
	    req->remote_addr != NULL ? req->remote_addr : "-");
	if (auth_throttle(req, key, auth_cfg.availability_limit, 60,
	    "lookups") != 0)
		return;
	res = gh_db_query(req, username != NULL ? SQL_USERNAME_TAKEN :
	    SQL_EMAIL_TAKEN, 1, &value);
	if (res == NULL)
		return;
	gh_reply_json(req, 200, json_pack("{s:s, s:b}",
	    username != NULL ? "username" : "email", value,
	    "available", PQntuples(res) == 0));
}

/*
 * A valid token is not enough to act on an account: its session must
 * still be open and the account enabled, and a role is read from the
 * database, not from the token (a demoted admin's token says "admin" for
 * up to GH_ACCESS_TTL).  Returns the user's row (USER_COLS), or NULL
 * after answering 401 or 403.
 */
PGresult *
auth_session(struct gh_req *req, const char *role)
{
	const struct gh_claims *c;
	PGresult	*res = NULL;
	const char	*p[2];

	if (gh_auth_require(req, NULL) != 0)
		return NULL;
	c = gh_auth_user(req);
	p[0] = c->sub;
	p[1] = c->sid;
	if (c->sid[0] != '\0' && (res = gh_db_query(req, SQL_ME, 2, p)) == NULL)
		return NULL;
	if (res == NULL || PQntuples(res) == 0) {
		gh_header(req, "WWW-Authenticate", "Bearer realm=\"gatehouse\", "
		    "error=\"invalid_token\", error_description=\"the session "
		    "has ended\"");
		gh_problem(req, 401, "the session has ended; sign in again");
		return NULL;
	}
	if (role != NULL && strcmp(PQgetvalue(res, 0, 3), role) != 0) {
		gh_problem(req, 403, "this needs the %s role", role);
		return NULL;
	}
	return res;
}

void
auth_me(struct gh_req *req)
{
	PGresult	*res;

	if ((res = auth_session(req, NULL)) == NULL)
		return;
	gh_reply_json(req, 200, json_pack("{s:o}", "user",
	    auth_user_json(res, 0, 0)));
}

GH_SQL(SQL_USER_PW) = {{
    "SELECT u.password_hash FROM users u WHERE u.id = $1 AND NOT u.disabled" }};

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

/*
 * Checks the current password of the token's user: 0 when right; else it
 * has answered (403 when wrong, so a client can tell it from a dead token).
 */
static int
check_current_password(struct gh_req *req, const char *uid, const char *pw)
{
	PGresult	*res;
	int		 rc;

	if (auth_account_may_try(req, uid) != 0 ||
	    (res = gh_db_query(req, SQL_USER_PW, 1, &uid)) == NULL)
		return -1;
	if (PQntuples(res) == 0)
		return gh_problem(req, 401, "the account is gone or disabled");
	rc = gh_password_verify(PQgetvalue(res, 0, 0), pw, strlen(pw));
	if (rc == 0)
		return 0;
	auth_account_failed(req, uid);
	return gh_problem_field(req, 403, "current_password", "is wrong");
}

enum { U_USERNAME, U_EMAIL };
static const struct gh_field update_fields[] = {
	{ "username",	GH_STRING | GH_OPTIONAL, .maxlen = 40,
	    .valid = auth_valid_username },
	{ "email",	GH_STRING | GH_OPTIONAL, .maxlen = 254,
	    .valid = auth_valid_email },
	{ NULL }
};

void
auth_me_update(struct gh_req *req)
{
	struct gh_values v;
	PGresult	*res;
	const char	*p[3];

	if (auth_session(req, NULL) == NULL ||
	    gh_body_json(req, update_fields, &v) != 0)
		return;
	if (!gh_vhas(&v, U_USERNAME) && !gh_vhas(&v, U_EMAIL)) {
		gh_problem(req, 422, "give username, email or both");
		return;
	}
	p[0] = gh_auth_user(req)->sub;
	p[1] = gh_vstr(&v, U_USERNAME);
	p[2] = gh_vstr(&v, U_EMAIL);
	if (gh_db_begin(req) != 0)
		return;
	if ((res = gh_db_exec(req, SQL_UPDATE_ME, 3, p)) == NULL) {
		gh_db_reply_error(req, NULL);
		return;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		reply_taken(req, res);
		return;
	}
	if (PQntuples(res) == 0) {
		gh_problem(req, 404, "the account is gone");
		return;
	}
	if (auth_audit(req, "profile_change", p[0], NULL) != 0 ||
	    gh_db_commit(req) != 0)
		return;
	gh_reply_json(req, 200, json_pack("{s:o}", "user",
	    auth_user_json(res, 0, 0)));
}

enum { P_CURRENT, P_NEW };
static const struct gh_field password_fields[] = {
	{ "current_password",	GH_STRING, .maxlen = 1024 },
	{ "new_password",	GH_STRING, .maxlen = 1024 },
	{ NULL }
};

void
auth_me_password(struct gh_req *req)
{
	const struct gh_claims *c;
	struct gh_values v;
	const char	*p[2];
	char		 hash[256];

	if (auth_session(req, NULL) == NULL ||
	    gh_body_json(req, password_fields, &v) != 0)
		return;
	c = gh_auth_user(req);
	if (check_current_password(req, c->sub, gh_vstr(&v, P_CURRENT)) != 0 ||
	    password_ok(req, gh_vstr(&v, P_NEW), NULL, NULL,
	    "new_password") != 0)
		return;
	if (gh_password_hash(&auth_cfg.argon2, gh_vstr(&v, P_NEW),
	    strlen(gh_vstr(&v, P_NEW)), hash, sizeof(hash)) != 0) {
		gh_problem(req, 500, "internal error");
		return;
	}
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

/* One transaction: the user, and by cascade its sessions and tokens. */
void
auth_me_delete(struct gh_req *req)
{
	const struct gh_claims *c;
	struct gh_values v;
	PGresult	*res;

	if (auth_session(req, NULL) == NULL ||
	    gh_body_json(req, delete_fields, &v) != 0)
		return;
	c = gh_auth_user(req);
	if (check_current_password(req, c->sub, gh_vstr(&v, D_PASSWORD)) != 0)
		return;
	if (gh_db_begin(req) != 0 ||
	    (res = gh_db_query(req, SQL_DELETE_ME, 1,
	    (const char *[]){ c->sub })) == NULL ||
	    auth_audit(req, "account_deleted", c->sub, NULL) != 0 ||
	    gh_db_commit(req) != 0)
		return;
	gh_header(req, "Set-Cookie", auth_cfg.cookie_secure ?
	    "gh_refresh=; Path=/api/v1/auth; Max-Age=0; HttpOnly; Secure; "
	    "SameSite=Strict" : "gh_refresh=; Path=/api/v1/auth; Max-Age=0; "
	    "HttpOnly; SameSite=Strict");
	gh_reply(req, 204, NULL, NULL, 0);
}
