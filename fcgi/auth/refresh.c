/*
 * A session's tokens: what the JSON sign-in, its refresh, and the OAuth
 * token endpoint all hand out, made in one place.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "account.h"
#include "audit.h"
#include "refresh.h"

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
    " s.revoked_at IS NOT NULL OR s.expires_at <= now() OR u.disabled, "
    " s.client_id, s.scope "
    "FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id "
    "JOIN users u ON u.id = s.user_id "
    "WHERE rt.token_hash = decode($1, 'hex') FOR UPDATE OF rt, s" }};
enum { RF_SID = UC__COUNT, RF_RETIRED, RF_IN_GRACE, RF_ENDED, RF_CLIENT,
    RF_SCOPE };

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

GH_SQL(SQL_SESSION_REUSED) = {{
    "UPDATE sessions SET revoked_at = now(), revoked_reason = "
    " 'refresh_reuse' WHERE id = $1 AND revoked_at IS NULL" }};

/*
 * A new refresh token in the session (when refresh is not NULL) and an
 * access token for it, in the caller's transaction.  0, or -1 answered.
 */
int
auth_tokens_new(struct gh_req *req, const char *sid, const char *sub,
    const char *role, char **access, char **refresh)
{
	return auth_tokens_new_bound(req, sid, sub, role, NULL, access,
	    refresh);
}

/* The same, the access token bound to a DPoP key (cnf.jkt) unless NULL. */
int
auth_tokens_new_bound(struct gh_req *req, const char *sid, const char *sub,
    const char *role, const char *jkt, char **access, char **refresh)
{
	struct gh_claims c;
	const char	*p[2], *jti;
	time_t		 now = time(NULL);

	memset(&c, 0, sizeof(c));
	if (refresh != NULL) {
		if ((*refresh = gh_random_token(&req->arena,
		    AUTH_REFRESH_BYTES)) == NULL ||
		    (p[0] = gh_sha256_hex(&req->arena, *refresh,
		    strlen(*refresh))) == NULL)
			return gh_problem(req, 500, "internal error");
		p[1] = sid;
		if (gh_db_query(req, SQL_TOKEN_NEW, 2, p) == NULL)
			return -1;
	}
	if ((jti = gh_random_token(&req->arena, 16)) == NULL)
		return gh_problem(req, 500, "internal error");
	snprintf(c.sub, sizeof(c.sub), "%s", sub);
	snprintf(c.role, sizeof(c.role), "%s", role);
	snprintf(c.sid, sizeof(c.sid), "%s", sid != NULL ? sid : "");
	snprintf(c.jti, sizeof(c.jti), "%s", jti);
	snprintf(c.jkt, sizeof(c.jkt), "%s", jkt != NULL ? jkt : "");
	c.iat = now;
	c.exp = now + gh_auth_access_ttl();
	if (gh_token_sign(gh_auth_keys(), gh_auth_issuer(), gh_auth_audience(),
	    &c, &req->arena, access) != 0)
		return gh_problem(req, 500, "internal error");
	return 0;
}

/*
 * Finds and locks a refresh token's session, in a transaction begun
 * here, and says what state it is in.  0 with rot filled, or -1
 * answered.  The caller decides what a state means for it.
 */
int
auth_rotation_find(struct gh_req *req, const char *token,
    struct auth_rotation *rot)
{
	struct gh_row	 r;
	PGresult	*res;
	const char	*p[2];
	int		 retired, in_grace, ended;

	memset(rot, 0, sizeof(*rot));
	if ((p[0] = gh_sha256_hex(&req->arena, token, strlen(token))) == NULL ||
	    (p[1] = gh_printf(&req->arena, "%lld",
	    auth_cfg.refresh_grace)) == NULL)
		return gh_problem(req, 500, "out of memory");
	if (gh_db_begin(req) != 0 ||
	    (res = gh_db_query(req, SQL_REFRESH_FIND, 2, p)) == NULL)
		return -1;
	if (gh_rows(res) == 0) {
		rot->state = AUTH_ROTATE_UNKNOWN;
		return 0;
	}
	r = GH_ROW(res, 0);
	rot->uid = gh_row_str(&r, UC_ID);
	rot->sid = gh_row_str(&r, RF_SID);
	retired = gh_row_bool(&r, RF_RETIRED);
	in_grace = gh_row_bool(&r, RF_IN_GRACE);
	ended = gh_row_bool(&r, RF_ENDED);
	rot->client_id = gh_row_str_or_null(&r, RF_CLIENT);
	rot->scope = gh_row_str_or_null(&r, RF_SCOPE);
	if (gh_row_failed(req, &r))
		return -1;
	rot->user = res;
	if (ended)
		rot->state = AUTH_ROTATE_ENDED;
	else if (retired && !in_grace)
		rot->state = AUTH_ROTATE_REUSED;
	else
		rot->state = AUTH_ROTATE_LIVE;
	return 0;
}

/* A retired token again: stolen.  Ends the whole family, and commits. */
int
auth_rotation_reused(struct gh_req *req, const struct auth_rotation *rot)
{
	if (gh_db_query(req, SQL_SESSION_REUSED, 1, &rot->sid) == NULL ||
	    auth_audit(req, "refresh_reuse", rot->uid, NULL) != 0 ||
	    gh_db_commit(req) != 0)
		return -1;
	return 0;
}

/* Retires the live token; the caller adds the next one and commits. */
int
auth_rotation_retire(struct gh_req *req, const struct auth_rotation *rot)
{
	if (gh_db_query(req, SQL_TOKEN_RETIRE, 1, &rot->sid) == NULL ||
	    gh_db_query(req, SQL_SESSION_TOUCH, 1, &rot->sid) == NULL)
		return -1;
	return 0;
}
