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
#include "account.h"
#include "audit.h"
#include "handlers.h"
#include "mfa.h"
#include "throttle.h"

#define REFRESH_BYTES	32

GH_SQL(SQL_LOGIN_USER) = {{
    "SELECT " USER_COLS ", u.password_hash, u.disabled FROM users u "
    "WHERE lower(u.username) = lower($1) OR lower(u.email) = lower($1) "
    "LIMIT 1" }};
enum { LU_HASH = UC__COUNT, LU_DISABLED };

GH_SQL(SQL_REHASH) = {{
    "UPDATE users SET password_hash = $2 WHERE id = $1" }};

GH_SQL(SQL_SESSION_NEW) = {{
    "INSERT INTO sessions (user_id, expires_at, ip, user_agent) "
    "VALUES ($1, now() + make_interval(secs => $2::int), $3, "
    " left($4, 512)) RETURNING id" }};
enum { SN_ID };

GH_SQL(SQL_TOKEN_NEW) = {{
    "INSERT INTO refresh_tokens (token_hash, session_id) "
    "VALUES (decode($1, 'hex'), $2)" }};

/*
 * The token, its family and its user, locked so that two refreshes of one
 * family take turns.  in_grace: retired less than the grace window ago.
 */
GH_SQL(SQL_REFRESH_FIND) = {{
    "SELECT " USER_COLS ", s.id, rt.retired_at IS NOT NULL, "
    " coalesce(rt.retired_at > now() - make_interval(secs => $2::int), "
    "  false), "
    " s.revoked_at IS NOT NULL OR s.expires_at <= now() OR u.disabled "
    "FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id "
    "JOIN users u ON u.id = s.user_id "
    "WHERE rt.token_hash = decode($1, 'hex') FOR UPDATE OF rt, s" }};
enum { RF_SID = UC__COUNT, RF_RETIRED, RF_IN_GRACE, RF_ENDED };

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

/*
 * Adds a new refresh token to the session and answers with it and a new
 * access token, for the user of ures's first row (USER_COLS first).  The
 * caller's transaction is committed here.
 */
static void
issue_tokens(struct gh_req *req, int status, const char *session_id,
    const PGresult *ures)
{
	struct gh_claims c;
	struct gh_row	 r = GH_ROW(ures, 0);
	const char	*p[2], *refresh, *jti, *sub, *role;
	char		*jwt;
	json_t		*user;
	time_t		 now = time(NULL);

	sub = gh_row_str(&r, UC_ID);
	role = gh_row_str(&r, UC_ROLE);
	if (gh_row_failed(req, &r))
		return;
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
	snprintf(c.sub, sizeof(c.sub), "%s", sub);
	snprintf(c.role, sizeof(c.role), "%s", role);
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
	if ((user = auth_user_json(&r)) == NULL) {
		gh_problem(req, 500, "out of memory");
		return;
	}
	if (gh_db_commit(req) != 0) {
		json_decref(user);
		return;
	}
	auth_refresh_cookie(req, refresh, auth_cfg.refresh_ttl);
	gh_reply_json(req, status, json_pack("{s:s, s:s, s:I, s:s, s:I, s:o}",
	    "access_token", jwt, "token_type", "Bearer",
	    "expires_in", (json_int_t)gh_auth_access_ttl(),
	    "refresh_token", refresh,
	    "refresh_expires_in", (json_int_t)auth_cfg.refresh_ttl,
	    "user", user));
}

/* Counts the failure (and audits it) in a transaction of its own. */
static int
login_failed(struct gh_req *req, const char *key, const char *user_id)
{
	if (gh_db_begin(req) != 0 ||
	    auth_login_failed(req, key, user_id) != 0 ||
	    auth_audit(req, "login_failed", user_id, NULL) != 0 ||
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
	struct gh_row	 r;
	PGresult	*res, *ures;
	const char	*p[4], *login, *pw, *hash = NULL, *uid = NULL;
	char		 newhash[GH_PASSWORD_HASH_MAX], *key;
	size_t		 pwlen;
	int		 rc, on, ok, disabled = 0;

	if (gh_body_json(req, login_fields, &v) != 0)
		return;
	login = gh_vstr(&v, L_LOGIN);
	if ((key = gh_printf(&req->arena, "login:%s", login)) == NULL) {
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
	if (gh_db_begin(req) != 0 || auth_login_lock(req, key) != 0 ||
	    (ures = gh_db_query(req, SQL_LOGIN_USER, 1, &login)) == NULL)
		return;
	if (gh_rows(ures) > 0) {
		r = GH_ROW(ures, 0);
		uid = gh_row_str(&r, UC_ID);
		hash = gh_row_str(&r, LU_HASH);
		disabled = gh_row_bool(&r, LU_DISABLED);
		if (gh_row_failed(req, &r))
			return;
	}
	if (auth_login_may_try(req, key, uid) != 0)
		return;
	if (uid == NULL) {
		gh_password_dummy_verify(&auth_cfg.argon2, pw, pwlen);
		login_failed(req, key, NULL);
		return;
	}
	if ((rc = gh_password_verify(hash, pw, pwlen)) != 0) {
		if (rc < 0)
			gh_log_errx("login", "user %s: unreadable hash", uid);
		login_failed(req, key, uid);
		return;
	}
	if (disabled) {
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
	    sizeof(newhash)) == 0 &&
	    gh_db_query(req, SQL_REHASH, 2, (const char *[]){ uid,
	    newhash }) == NULL)
		return;
	p[0] = uid;
	p[1] = num(req, auth_cfg.refresh_ttl);
	p[2] = req->remote_addr;
	p[3] = gh_header_in(req, "User-Agent");
	if (auth_login_clear(req, key, uid) != 0 ||
	    (res = gh_db_query(req, SQL_SESSION_NEW, 4, p)) == NULL ||
	    auth_audit(req, "login", uid, NULL) != 0)
		return;
	r = GH_ROW(res, 0);
	p[0] = gh_row_str(&r, SN_ID);
	if (gh_row_failed(req, &r))
		return;
	issue_tokens(req, 200, p[0], ures);
}

static int
refresh_refused(struct gh_req *req, const char *why)
{
	/* The cookie is useless now: tell the browser to drop it. */
	auth_refresh_cookie(req, "", 0);
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
	struct gh_row	 r;
	PGresult	*res;
	const char	*token = NULL, *p[2], *sid, *uid;
	char		*hex;
	int		 retired, in_grace, ended;

	if (gh_has_body(req)) {
		if (gh_body_json(req, refresh_fields, &v) != 0)
			return;
		token = gh_vstr(&v, F_REFRESH);
	}
	if (token == NULL)
		token = gh_cookie(req, AUTH_REFRESH_COOKIE);
	if (token == NULL || *token == '\0') {
		gh_problem(req, 401, "a refresh token is required (in the "
		    "body as refresh_token, or the " AUTH_REFRESH_COOKIE
		    " cookie)");
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
	if (gh_rows(res) == 0) {
		refresh_refused(req, "the refresh token is not valid");
		return;
	}
	r = GH_ROW(res, 0);
	uid = gh_row_str(&r, UC_ID);
	sid = gh_row_str(&r, RF_SID);
	retired = gh_row_bool(&r, RF_RETIRED);
	in_grace = gh_row_bool(&r, RF_IN_GRACE);
	ended = gh_row_bool(&r, RF_ENDED);
	if (gh_row_failed(req, &r))
		return;
	if (ended) {
		refresh_refused(req, "the session has ended; sign in again");
		return;
	}
	if (retired && !in_grace) {
		/* A retired token again: stolen.  End the whole family. */
		if (gh_db_query(req, SQL_SESSION_REVOKE, 3, (const char *[]){
		    sid, uid, "refresh_reuse" }) == NULL ||
		    auth_audit(req, "refresh_reuse", uid, NULL) != 0 ||
		    gh_db_commit(req) != 0)
			return;
		refresh_refused(req, "this refresh token was already used; "
		    "the session is ended");
		return;
	}
	if (gh_db_query(req, SQL_TOKEN_RETIRE, 1, &sid) == NULL ||
	    gh_db_query(req, SQL_SESSION_TOUCH, 1, &sid) == NULL)
		return;
	issue_tokens(req, 200, sid, res);
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
	auth_refresh_cookie(req, "", 0);
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
	auth_refresh_cookie(req, "", 0);
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
enum { SL_ID, SL_CREATED, SL_USED, SL_EXPIRES, SL_IP, SL_AGENT };

/* My sessions: where I am signed in, so I can end the ones I don't know. */
void
auth_sessions_list(struct gh_req *req)
{
	const struct gh_claims *c;
	struct gh_row	 r;
	PGresult	*res;
	json_t		*arr, *s;
	const char	*id;
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
	for (i = 0; i < gh_rows(res); i++) {
		r = GH_ROW(res, i);
		id = gh_row_str(&r, SL_ID);
		s = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}",
		    "id", id,
		    "created_at", gh_row_time(&r, SL_CREATED),
		    "last_used_at", gh_row_time(&r, SL_USED),
		    "expires_at", gh_row_time(&r, SL_EXPIRES),
		    "ip", gh_row_str(&r, SL_IP),
		    "user_agent", gh_row_str(&r, SL_AGENT),
		    "current", strcmp(id, c->sid) == 0);
		if (gh_row_failed(req, &r)) {
			json_decref(s);
			json_decref(arr);
			return;
		}
		json_array_append_new(arr, s);
	}
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
