/*
 * Sign-in, refresh-token rotation with reuse detection, sign-out, and
 * the public keys.  A session is a family of refresh tokens: each refresh
 * retires the token presented and hands out a new one; a retired token
 * presented again after the grace window revokes the whole family.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth.h"

#define REFRESH_COOKIE	"gh_refresh"
#define REFRESH_BYTES	32

/* Keys are lowered here, in SQL, so that every case of a name is one key. */
GH_SQL(SQL_THROTTLE_GET) = {{
    "SELECT max(ceil(extract(epoch FROM locked_until - now())))::int "
    "FROM login_throttle WHERE key IN (lower($1), lower($2)) "
    "AND locked_until > now() HAVING count(*) > 0" }};

/*
 * One sign-in at a time per identifier: parallel guesses would all pass
 * the check above before any of them is counted.
 */
GH_SQL(SQL_THROTTLE_LOCK) = {{
    "SELECT pg_try_advisory_xact_lock(hashtext(lower($1)))" }};

/* The delay doubles with each failure past the free ones, up to a cap. */
GH_SQL(SQL_THROTTLE_FAIL) = {{
    "INSERT INTO login_throttle AS t (key, failures, locked_until) "
    "VALUES (lower($1), 1, CASE WHEN 1 > $2::int THEN now() + "
    " interval '1 second' END) "
    "ON CONFLICT (key) DO UPDATE SET "
    " failures = CASE WHEN t.updated_at < now() - interval '1 day' THEN 1 "
    "  ELSE t.failures + 1 END, "
    " updated_at = now(), "
    " locked_until = CASE WHEN t.updated_at >= now() - interval '1 day' "
    "  AND t.failures + 1 > $2::int THEN now() + "
    "  make_interval(secs => least($3::int, "
    "   power(2, least(t.failures + 1 - $2::int - 1, 30))::int)) END" }};

GH_SQL(SQL_THROTTLE_CLEAR) = {{
    "DELETE FROM login_throttle WHERE key IN (lower($1), lower($2))" }};

GH_SQL(SQL_LOGIN_USER) = {{
    "SELECT u.password_hash, u.disabled, " USER_COLS " FROM users u "
    "WHERE lower(u.username) = lower($1) OR lower(u.email) = lower($1) "
    "LIMIT 1" }};

GH_SQL(SQL_REHASH) = {{
    "UPDATE users SET password_hash = $2 WHERE id = $1" }};

GH_SQL(SQL_SESSION_NEW) = {{
    "INSERT INTO sessions (user_id, expires_at, ip, user_agent) "
    "VALUES ($1, now() + make_interval(secs => $2::int), $3, "
    " left($4, 512)) RETURNING id" }};

GH_SQL(SQL_TOKEN_NEW) = {{
    "INSERT INTO refresh_tokens (token_hash, session_id) "
    "VALUES (decode($1, 'hex'), $2)" }};

/*
 * The token, its family and its user, locked so that two refreshes of one
 * family take turns.  in_grace: retired less than the grace window ago.
 */
GH_SQL(SQL_REFRESH_FIND) = {{
    "SELECT s.id, rt.retired_at IS NOT NULL, "
    " rt.retired_at > now() - make_interval(secs => $2::int), "
    " s.revoked_at IS NOT NULL OR s.expires_at <= now() OR u.disabled, "
    " " USER_COLS " "
    "FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id "
    "JOIN users u ON u.id = s.user_id "
    "WHERE rt.token_hash = decode($1, 'hex') FOR UPDATE OF rt, s" }};

/*
 * One live token per session: a token used again within the grace window
 * retires the one handed out a moment ago, so no second branch survives
 * to escape reuse detection.
 */
GH_SQL(SQL_TOKEN_RETIRE) = {{
    "UPDATE refresh_tokens SET retired_at = now() "
    "WHERE session_id = $1 AND retired_at IS NULL" }};

GH_SQL(SQL_SESSION_TOUCH) = {{
    "UPDATE sessions SET last_used_at = now() WHERE id = $1" }};

GH_SQL(SQL_SESSION_REVOKE) = {{
    "UPDATE sessions SET revoked_at = now(), revoked_reason = $3 "
    "WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL" }};

GH_SQL(SQL_SESSION_REVOKE_ALL) = {{
    "UPDATE sessions SET revoked_at = now(), revoked_reason = $2 "
    "WHERE user_id = $1 AND revoked_at IS NULL" }};

static const char *
num(struct gh_req *req, long long n)
{
	return gh_printf(&req->arena, "%lld", n);
}

static void
set_refresh_cookie(struct gh_req *req, const char *token, long long max_age)
{
	gh_header(req, "Set-Cookie", gh_printf(&req->arena,
	    REFRESH_COOKIE "=%s; Path=/api/v1/auth; Max-Age=%lld; HttpOnly;%s "
	    "SameSite=Strict", token, max_age,
	    auth_cfg.cookie_secure ? " Secure;" : ""));
}

/*
 * Adds a new refresh token to the session and answers with it and a new
 * access token.  The caller's transaction is committed here.
 */
static void
issue_tokens(struct gh_req *req, int status, const char *session_id,
    PGresult *ures, int ucol)
{
	struct gh_claims c;
	const char	*p[2], *refresh, *jti;
	char		*jwt;
	time_t		 now = time(NULL);

	memset(&c, 0, sizeof(c));
	if ((refresh = gh_random_token(&req->arena, REFRESH_BYTES)) == NULL) {
		gh_problem(req, 500, "internal error");
		return;
	}
	if ((p[0] = gh_sha256_hex(&req->arena, refresh,
	    strlen(refresh))) == NULL) {
		gh_problem(req, 500, "out of memory");
		return;
	}
	p[1] = session_id;
	if (gh_db_query(req, SQL_TOKEN_NEW, 2, p) == NULL)
		return;
	snprintf(c.sub, sizeof(c.sub), "%s", PQgetvalue(ures, 0, ucol));
	snprintf(c.role, sizeof(c.role), "%s", PQgetvalue(ures, 0, ucol + 3));
	snprintf(c.sid, sizeof(c.sid), "%s", session_id);
	if ((jti = gh_random_token(&req->arena, 16)) == NULL) {
		gh_problem(req, 500, "internal error");
		return;
	}
	snprintf(c.jti, sizeof(c.jti), "%s", jti);
	c.iat = now;
	c.exp = now + gh_auth_access_ttl();
	if (gh_token_sign(gh_auth_keys(), gh_auth_issuer(), gh_auth_audience(),
	    &c, &req->arena, &jwt) != 0) {
		gh_problem(req, 500, "internal error");
		return;
	}
	if (gh_db_commit(req) != 0)
		return;
	set_refresh_cookie(req, refresh, auth_cfg.refresh_ttl);
	gh_reply_json(req, status, json_pack("{s:s, s:s, s:I, s:s, s:I, s:o}",
	    "access_token", jwt, "token_type", "Bearer",
	    "expires_in", (json_int_t)gh_auth_access_ttl(),
	    "refresh_token", refresh,
	    "refresh_expires_in", (json_int_t)auth_cfg.refresh_ttl,
	    "user", auth_user_json(ures, 0, ucol)));
}

/* The account's own key: typing its e-mail instead of its name is no way round. */
static const char *
account_key(struct gh_req *req, const char *user_id)
{
	return user_id == NULL ? NULL : gh_printf(&req->arena, "user:%s",
	    user_id);
}

/*
 * Password (and code) checks on signed-in actions share the account's
 * count with sign-in: a stolen access token is no unthrottled oracle.
 * 0 when the account may try; else it has answered 429.
 */
int
auth_account_may_try(struct gh_req *req, const char *user_id)
{
	PGresult	*res;

	if ((res = gh_db_query(req, SQL_THROTTLE_GET, 2, (const char *[]){
	    account_key(req, user_id), NULL })) == NULL)
		return -1;
	if (PQntuples(res) == 0)
		return 0;
	gh_header(req, "Retry-After", PQgetvalue(res, 0, 0));
	return gh_problem(req, 429, "too many wrong passwords; try again in "
	    "%s seconds", PQgetvalue(res, 0, 0));
}

void
auth_account_failed(struct gh_req *req, const char *user_id)
{
	gh_db_query(req, SQL_THROTTLE_FAIL, 3, (const char *[]){
	    account_key(req, user_id), num(req, auth_cfg.login_free),
	    num(req, auth_cfg.login_delay_max) });
}

static int
login_failed(struct gh_req *req, const char *key, const char *user_id)
{
	const char	*p[3];

	p[0] = key;
	p[1] = num(req, auth_cfg.login_free);
	p[2] = num(req, auth_cfg.login_delay_max);
	if (gh_db_begin(req) != 0 ||
	    gh_db_query(req, SQL_THROTTLE_FAIL, 3, p) == NULL)
		return -1;
	p[0] = account_key(req, user_id);
	if (p[0] != NULL && gh_db_query(req, SQL_THROTTLE_FAIL, 3, p) == NULL)
		return -1;
	if (auth_audit(req, "login_failed", user_id, NULL) != 0 ||
	    gh_db_commit(req) != 0)
		return -1;
	return gh_problem(req, 401, "the login or the password is wrong");
}

enum { L_LOGIN, L_PASSWORD, L_TOTP, L_RECOVERY };
static const struct gh_field login_fields[] = {
	{ "login",		GH_STRING, .maxlen = 254 },
	{ "password",		GH_STRING, .maxlen = 1024 },
	{ "totp",		GH_STRING | GH_OPTIONAL, .maxlen = 16 },
	{ "recovery_code",	GH_STRING | GH_OPTIONAL, .maxlen = 64 },
	{ NULL }
};

/*
 * An unknown login and a wrong password get the same answer after the
 * same work (a dummy verify), and count against the identifier typed.
 */
void
auth_login(struct gh_req *req)
{
	struct gh_values v;
	PGresult	*res, *ures;
	const char	*p[4], *pw, *hash, *uid = NULL;
	char		 newhash[256], *key;
	size_t		 pwlen;
	int		 rc, on, ok;

	if (gh_body_json(req, login_fields, &v) != 0)
		return;
	key = gh_printf(&req->arena, "login:%s", gh_vstr(&v, L_LOGIN));
	if (key == NULL) {
		gh_problem(req, 500, "out of memory");
		return;
	}
	pw = gh_vstr(&v, L_PASSWORD);
	pwlen = strlen(pw);
	/*
	 * The whole sign-in is one transaction holding a lock on the
	 * identifier, so that guesses sent in parallel are counted one by
	 * one instead of all passing the check before any is counted.
	 */
	p[0] = key;
	if (gh_db_begin(req) != 0 ||
	    (res = gh_db_query(req, SQL_THROTTLE_LOCK, 1, p)) == NULL)
		return;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		gh_header(req, "Retry-After", "1");
		gh_problem(req, 429, "another sign-in with this name is under "
		    "way; try again in a second");
		return;
	}
	p[0] = gh_vstr(&v, L_LOGIN);
	if ((ures = gh_db_query(req, SQL_LOGIN_USER, 1, p)) == NULL)
		return;
	if (PQntuples(ures) > 0)
		uid = PQgetvalue(ures, 0, 2);
	p[0] = key;
	p[1] = account_key(req, uid);
	if ((res = gh_db_query(req, SQL_THROTTLE_GET, 2, p)) == NULL)
		return;
	if (PQntuples(res) > 0) {
		gh_header(req, "Retry-After", PQgetvalue(res, 0, 0));
		gh_problem(req, 429, "too many failed sign-ins; try again in "
		    "%s seconds", PQgetvalue(res, 0, 0));
		return;
	}
	if (uid == NULL) {
		gh_password_dummy_verify(&auth_cfg.argon2, pw, pwlen);
		login_failed(req, key, NULL);
		return;
	}
	hash = PQgetvalue(ures, 0, 0);
	if ((rc = gh_password_verify(hash, pw, pwlen)) != 0) {
		if (rc < 0)
			gh_log_errx("login", "user %s: unreadable hash", uid);
		login_failed(req, key, uid);
		return;
	}
	if (strcmp(PQgetvalue(ures, 0, 1), "t") == 0) {
		gh_problem(req, 403, "this account is disabled");
		return;
	}
	/* Asked only after the right password: it reveals nothing else. */
	if ((on = auth_totp_check(req, uid, gh_vstr(&v, L_TOTP),
	    gh_vstr(&v, L_RECOVERY), &ok)) < 0)
		return;
	if (on && !ok) {
		if (!gh_vhas(&v, L_TOTP) && !gh_vhas(&v, L_RECOVERY)) {
			gh_problem_json(req, 401, "a one-time code is "
			    "required: send totp (or a recovery_code)",
			    json_pack("{s:b}", "mfa_required", 1));
			return;
		}
		gh_db_rollback(req);
		login_failed(req, key, uid);
		return;
	}
	/* Hashes made under older settings are brought up to date. */
	if (gh_password_needs_rehash(hash, &auth_cfg.argon2) &&
	    gh_password_hash(&auth_cfg.argon2, pw, pwlen, newhash,
	    sizeof(newhash)) == 0) {
		p[0] = uid;
		p[1] = newhash;
		if (gh_db_query(req, SQL_REHASH, 2, p) == NULL)
			return;
	}
	p[0] = uid;
	p[1] = num(req, auth_cfg.refresh_ttl);
	p[2] = req->remote_addr;
	p[3] = gh_header_in(req, "User-Agent");
	if (gh_db_query(req, SQL_THROTTLE_CLEAR, 2,
	    (const char *[]){ key, account_key(req, uid) }) == NULL ||
	    (res = gh_db_query(req, SQL_SESSION_NEW, 4, p)) == NULL ||
	    auth_audit(req, "login", uid, NULL) != 0)
		return;
	issue_tokens(req, 200, PQgetvalue(res, 0, 0), ures, 2);
}

static int
refresh_refused(struct gh_req *req, const char *why)
{
	/* The cookie is useless now: tell the browser to drop it. */
	set_refresh_cookie(req, "", 0);
	return gh_problem(req, 401, "%s", why);
}

enum { F_REFRESH };
static const struct gh_field refresh_fields[] = {
	{ "refresh_token", GH_STRING | GH_OPTIONAL, .maxlen = 128 },
	{ NULL }
};

void
auth_refresh(struct gh_req *req)
{
	struct gh_values v;
	PGresult	*res;
	const char	*token = NULL, *p[2], *sid;
	char		*hex;

	if (gh_has_body(req)) {
		if (gh_body_json(req, refresh_fields, &v) != 0)
			return;
		token = gh_vstr(&v, F_REFRESH);
	}
	if (token == NULL)
		token = gh_cookie(req, REFRESH_COOKIE);
	if (token == NULL || *token == '\0') {
		gh_problem(req, 401, "a refresh token is required (in the "
		    "body as refresh_token, or the " REFRESH_COOKIE " cookie)");
		return;
	}
	if ((hex = gh_sha256_hex(&req->arena, token, strlen(token))) == NULL) {
		gh_problem(req, 500, "out of memory");
		return;
	}
	p[0] = hex;
	p[1] = num(req, auth_cfg.refresh_grace);
	if (gh_db_begin(req) != 0 ||
	    (res = gh_db_query(req, SQL_REFRESH_FIND, 2, p)) == NULL)
		return;
	if (PQntuples(res) == 0) {
		refresh_refused(req, "the refresh token is not valid");
		return;
	}
	sid = PQgetvalue(res, 0, 0);
	if (strcmp(PQgetvalue(res, 0, 3), "t") == 0) {
		refresh_refused(req, "the session has ended; sign in again");
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 1), "t") == 0 &&
	    strcmp(PQgetvalue(res, 0, 2), "t") != 0) {
		/* A retired token again: stolen.  End the whole family. */
		if (gh_db_query(req, SQL_SESSION_REVOKE, 3, (const char *[]){
		    sid, PQgetvalue(res, 0, 4), "refresh_reuse" }) == NULL ||
		    auth_audit(req, "refresh_reuse", PQgetvalue(res, 0, 4),
		    NULL) != 0 || gh_db_commit(req) != 0)
			return;
		refresh_refused(req, "this refresh token was already used; "
		    "the session is ended");
		return;
	}
	if (gh_db_query(req, SQL_TOKEN_RETIRE, 1, &sid) == NULL ||
	    gh_db_query(req, SQL_SESSION_TOUCH, 1, &sid) == NULL)
		return;
	issue_tokens(req, 200, sid, res, 4);
}

void
auth_logout(struct gh_req *req)
{
	const struct gh_claims *c;

	if (auth_session(req, NULL) == NULL)
		return;
	c = gh_auth_user(req);
	if (c->sid[0] != '\0' && gh_db_query(req, SQL_SESSION_REVOKE, 3,
	    (const char *[]){ c->sid, c->sub, "logout" }) == NULL)
		return;
	set_refresh_cookie(req, "", 0);
	gh_reply(req, 204, NULL, NULL, 0);
}

void
auth_logout_all(struct gh_req *req)
{
	const struct gh_claims *c;

	if (auth_session(req, NULL) == NULL)
		return;
	c = gh_auth_user(req);
	if (gh_db_begin(req) != 0 ||
	    gh_db_query(req, SQL_SESSION_REVOKE_ALL, 2,
	    (const char *[]){ c->sub, "logout_all" }) == NULL ||
	    auth_audit(req, "logout_all", c->sub, NULL) != 0 ||
	    gh_db_commit(req) != 0)
		return;
	set_refresh_cookie(req, "", 0);
	gh_reply(req, 204, NULL, NULL, 0);
}

/* Public keys: cacheable for a while, since rotation keeps old ones. */
void
auth_jwks(struct gh_req *req)
{
	gh_header(req, "Cache-Control", "public, max-age=300");
	gh_reply_json(req, 200, gh_keyset_jwks(gh_auth_keys()));
}

GH_SQL(SQL_SESSIONS_LIST) = {{
    "SELECT id, " TS("created_at") ", " TS("last_used_at") ", "
    " " TS("expires_at") ", coalesce(ip, ''), coalesce(user_agent, '') "
    "FROM sessions WHERE user_id = $1 AND revoked_at IS NULL "
    "AND expires_at > now() ORDER BY created_at DESC LIMIT 100" }};

/* My sessions: where I am signed in, so I can end the ones I don't know. */
void
auth_sessions_list(struct gh_req *req)
{
	const struct gh_claims *c;
	PGresult	*res;
	json_t		*arr;
	int		 i;

	if (auth_session(req, NULL) == NULL)
		return;
	c = gh_auth_user(req);
	if ((res = gh_db_query(req, SQL_SESSIONS_LIST, 1,
	    (const char *[]){ c->sub })) == NULL)
		return;
	if ((arr = json_array()) == NULL) {
		gh_problem(req, 500, "out of memory");
		return;
	}
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, "
		    "s:s, s:s, s:b}",
		    "id", PQgetvalue(res, i, 0),
		    "created_at", PQgetvalue(res, i, 1),
		    "last_used_at", PQgetvalue(res, i, 2),
		    "expires_at", PQgetvalue(res, i, 3),
		    "ip", PQgetvalue(res, i, 4),
		    "user_agent", PQgetvalue(res, i, 5),
		    "current", strcmp(PQgetvalue(res, i, 0), c->sid) == 0));
	gh_reply_json(req, 200, json_pack("{s:o}", "sessions", arr));
}

/* Ends one of my sessions; someone else's is "not found", like a bad id. */
void
auth_session_end(struct gh_req *req)
{
	const struct gh_claims *c;
	const char	*id = gh_param(req, "id");
	PGresult	*res;

	if (auth_session(req, NULL) == NULL)
		return;
	c = gh_auth_user(req);
	if (!gh_is_uuid(id)) {
		gh_problem(req, 404, "no such session");
		return;
	}
	if ((res = gh_db_query(req, SQL_SESSION_REVOKE, 3,
	    (const char *[]){ id, c->sub, "ended" })) == NULL)
		return;
	if (strcmp(PQcmdTuples(res), "0") == 0) {
		gh_problem(req, 404, "no such session");
		return;
	}
	gh_reply(req, 204, NULL, NULL, 0);
}
