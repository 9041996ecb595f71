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
#include "refresh.h"
#include "signin.h"


GH_SQL(SQL_SESSION_NEW) = {{
    "INSERT INTO sessions (user_id, expires_at, ip, user_agent) "
    "VALUES ($1, now() + make_interval(secs => $2::int), $3, "
    " left($4, 512)) RETURNING id" }};
enum { SN_ID };

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
	struct gh_row	 r = GH_ROW(ures, 0);
	const char	*sub, *role;
	char		*jwt, *refresh;
	json_t		*user;

	sub = gh_row_str(&r, UC_ID);
	role = gh_row_str(&r, UC_ROLE);
	if (gh_row_failed(req, &r))
		return;
	if (auth_tokens_new(req, session_id, sub, role, &jwt, &refresh) != 0)
		return;
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

enum { L_LOGIN, L_PASSWORD, L_TOTP, L_RECOVERY };
static const struct gh_field login_fields[] = {
	{ "login",		GH_STRING, .maxlen = 254 },
	{ "password",		GH_STRING, .maxlen = 1024 },
	{ "totp",		GH_STRING | GH_OPTIONAL, .maxlen = 16 },
	{ "recovery_code",	GH_STRING | GH_OPTIONAL, .maxlen = 64 },
	{ NULL }
};

/* The credentials are checked in signin.c, as for the provider's page. */
void
auth_login(struct gh_req *req)
{
	struct gh_values v;
	struct auth_signin si;
	struct gh_row	 r;
	PGresult	*res;
	const char	*p[4];

	if (gh_body_json(req, login_fields, &v) != 0)
		return;
	memset(&si, 0, sizeof(si));
	si.login = gh_vstr(&v, L_LOGIN);
	si.password = gh_vstr(&v, L_PASSWORD);
	si.totp = gh_vstr(&v, L_TOTP);
	si.recovery = gh_vstr(&v, L_RECOVERY);
	si.event = "login";
	switch (auth_signin_check(req, &si)) {
	case AUTH_SIGNIN_OK:
		break;
	case AUTH_SIGNIN_WRONG:
		gh_problem(req, 401, "the login or the password is wrong");
		return;
	case AUTH_SIGNIN_DISABLED:
		gh_problem(req, 403, "this account is disabled");
		return;
	case AUTH_SIGNIN_MFA:
		gh_problem_json(req, 401, "a one-time code is required: send "
		    "totp (or a recovery_code)", json_pack("{s:b}",
		    "mfa_required", 1));
		return;
	case AUTH_SIGNIN_UNVERIFIED:
		gh_problem_json(req, 403, auth_signin_unverified_text(&si),
		    json_pack("{s:b, s:b}", "email_verification_required", 1,
		    "verification_mailed", si.mailed == AUTH_MAILED_LINK));
		return;
	default:
		return;
	}
	p[0] = si.uid;
	p[1] = num(req, auth_cfg.refresh_ttl);
	p[2] = req->remote_addr;
	p[3] = gh_header_in(req, "User-Agent");
	if ((res = gh_db_query(req, SQL_SESSION_NEW, 4, p)) == NULL)
		return;
	r = GH_ROW(res, 0);
	p[0] = gh_row_str(&r, SN_ID);
	if (gh_row_failed(req, &r))
		return;
	issue_tokens(req, 200, p[0], si.user);
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
	struct auth_rotation rot;
	const char	*token = NULL;

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
	if (auth_rotation_find(req, token, &rot) != 0)
		return;
	/*
	 * An OAuth client's session is refreshed at the token endpoint,
	 * by its client only: here it is no token at all.
	 */
	if (rot.state == AUTH_ROTATE_UNKNOWN || rot.client_id != NULL) {
		refresh_refused(req, "the refresh token is not valid");
		return;
	}
	if (rot.state == AUTH_ROTATE_ENDED) {
		refresh_refused(req, "the session has ended; sign in again");
		return;
	}
	if (rot.state == AUTH_ROTATE_REUSED) {
		if (auth_rotation_reused(req, &rot) != 0)
			return;
		refresh_refused(req, "this refresh token was already used; "
		    "the session is ended");
		return;
	}
	if (auth_rotation_retire(req, &rot) != 0)
		return;
	issue_tokens(req, 200, rot.sid, rot.user);
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
