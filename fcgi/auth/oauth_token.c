/*
 * The back channel: the token endpoint (authorization_code with PKCE,
 * refresh_token with rotation, DPoP-bound tokens), UserInfo, revocation
 * (RFC 7009) and introspection (RFC 7662).  Errors are OAuth's JSON, not
 * problem+json.
 */
#include <string.h>
#include <time.h>

#include "auth.h"
#include "account.h"
#include "audit.h"
#include "oauth.h"
#include "oauth_handlers.h"
#include "refresh.h"

GH_SQL(SQL_CODE_FIND) = {{
    "SELECT c.client_id, c.user_id, c.redirect_uri, c.code_challenge, "
    " c.scope, c.nonce, extract(epoch FROM c.auth_time)::bigint, "
    " array_to_json(c.amr)::text, c.idp_session_id, c.used_at IS NOT NULL, "
    " c.expires_at <= now(), c.session_id, u.role, u.username, u.email, "
    " u.disabled, u.email_verified_at IS NOT NULL "
    "FROM oauth_codes c JOIN users u ON u.id = c.user_id "
    "WHERE c.code_hash = decode($1, 'hex') FOR UPDATE OF c" }};
enum { CF_CLIENT, CF_USER, CF_REDIRECT, CF_CHALLENGE, CF_SCOPE, CF_NONCE,
    CF_AUTH_TIME, CF_AMR, CF_IDP, CF_USED, CF_EXPIRED, CF_SESSION, CF_ROLE,
    CF_USERNAME, CF_EMAIL, CF_DISABLED, CF_EMAIL_VERIFIED };

/* A code used twice: the tokens its first use issued die (RFC 6749 4.1.2). */
GH_SQL(SQL_CODE_REPLAY) = {{
    "UPDATE sessions SET revoked_at = now(), revoked_reason = 'code_replay' "
    "WHERE id = $1 AND revoked_at IS NULL" }};

GH_SQL(SQL_CODE_USED) = {{
    "UPDATE oauth_codes SET used_at = now(), session_id = $2 "
    "WHERE code_hash = decode($1, 'hex')" }};

GH_SQL(SQL_OAUTH_SESSION_NEW) = {{
    "INSERT INTO sessions (user_id, expires_at, ip, user_agent, client_id, "
    " scope, idp_session_id, dpop_jkt) "
    "VALUES ($1, now() + make_interval(secs => $2::int), $3, left($4, 512), "
    " $5, $6, $7, $8) RETURNING id" }};

/* The key a public client's refresh tokens are bound to, if any. */
GH_SQL(SQL_SESSION_JKT) = {{
    "SELECT dpop_jkt FROM sessions WHERE id = $1" }};
enum { SJ_JKT };
enum { SN_ID };

/* A live session of a client, for UserInfo, revocation, introspection. */
GH_SQL(SQL_OAUTH_SESSION) = {{
    "SELECT s.client_id, s.scope, u.id, u.username, u.email, "
    " extract(epoch FROM s.created_at)::bigint, "
    " u.email_verified_at IS NOT NULL "
    "FROM sessions s JOIN users u ON u.id = s.user_id "
    "WHERE s.id = $1 AND s.client_id IS NOT NULL AND s.revoked_at IS NULL "
    "AND s.expires_at > now() AND NOT u.disabled" }};
enum { OS_CLIENT, OS_SCOPE, OS_USER, OS_USERNAME, OS_EMAIL, OS_CREATED,
    OS_EMAIL_VERIFIED };

/* The session of a live refresh token (not retired). */
GH_SQL(SQL_REFRESH_SESSION) = {{
    "SELECT s.id, extract(epoch FROM s.expires_at)::bigint "
    "FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id "
    "WHERE rt.token_hash = decode($1, 'hex') AND rt.retired_at IS NULL" }};
enum { RS_SID, RS_EXPIRES };

GH_SQL(SQL_OAUTH_REVOKE) = {{
    "UPDATE sessions SET revoked_at = now(), revoked_reason = 'oauth_revoke' "
    "WHERE id = $1 AND client_id = $2 AND revoked_at IS NULL" }};

static const char *
num(struct gh_req *req, long long n)
{
	return gh_printf(&req->arena, "%lld", n);
}

/*
 * The claims a scope releases about its user, for the ID token and
 * UserInfo alike.  email_verified is true only once a link mailed to
 * that very address was opened (a changed address starts unverified),
 * so a client may take a true one as proof of the mailbox.
 */
static int
scope_claims(json_t *j, unsigned scope, const char *username,
    const char *email, int email_verified)
{
	if ((scope & OAUTH_SCOPE_PROFILE) && json_object_set_new(j,
	    "preferred_username", json_string(username)) != 0)
		return -1;
	if ((scope & OAUTH_SCOPE_EMAIL) && (json_object_set_new(j, "email",
	    json_string(email)) != 0 || json_object_set_new(j,
	    "email_verified", json_boolean(email_verified)) != 0))
		return -1;
	return 0;
}

struct id_claims {
	const char	*client_id, *sub, *sid, *nonce, *amr;
	const char	*username, *email, *access;
	long long	 auth_time;
	unsigned	 scope;
	int		 email_verified;
};

/* The ID token: typ JWT, so it is never taken for an access token. */
static char *
id_token(struct gh_req *req, const struct id_claims *ic)
{
	json_t		*j, *amr;
	char		*jwt = NULL, *ath;
	time_t		 now = time(NULL);

	if ((ath = oauth_at_hash(&req->arena, ic->access)) == NULL ||
	    (amr = json_loads(ic->amr, 0, NULL)) == NULL)
		return NULL;
	j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:s}",
	    "iss", oauth_cfg.issuer, "sub", ic->sub, "aud", ic->client_id,
	    "exp", (json_int_t)(now + gh_auth_access_ttl()),
	    "iat", (json_int_t)now, "auth_time", (json_int_t)ic->auth_time,
	    "amr", amr, "at_hash", ath);
	if (j == NULL)
		return NULL;
	if ((ic->nonce == NULL || json_object_set_new(j, "nonce",
	    json_string(ic->nonce)) == 0) &&
	    (ic->sid == NULL || json_object_set_new(j, "sid",
	    json_string(ic->sid)) == 0) &&
	    scope_claims(j, ic->scope, ic->username, ic->email,
	    ic->email_verified) == 0 &&
	    gh_jws_sign(gh_auth_keys(), "JWT", j, &req->arena, &jwt) != 0)
		jwt = NULL;
	json_decref(j);
	return jwt;
}

/*
 * The role an access token carries: the user's own only for a
 * first-party client (one that skips consent), so a third-party
 * application never holds an admin's power.
 */
static const char *
token_role(const struct oauth_client *cl, const char *user_role)
{
	return cl->skip_consent ? user_role : GH_ROLE_USER;
}

/* RFC 9449 5: a bound token is of type DPoP, so the client sends it so. */
static const char *
token_type(const char *jkt)
{
	return jkt != NULL ? "DPoP" : "Bearer";
}

static int
token_reply(struct gh_req *req, const char *access, const char *refresh,
    const char *scope, const char *idt, const char *jkt)
{
	json_t	*j;

	j = json_pack("{s:s, s:s, s:I, s:s}", "access_token", access,
	    "token_type", token_type(jkt), "expires_in",
	    (json_int_t)gh_auth_access_ttl(), "scope", scope);
	if (j != NULL && refresh != NULL)
		json_object_set_new(j, "refresh_token", json_string(refresh));
	if (j != NULL && idt != NULL)
		json_object_set_new(j, "id_token", json_string(idt));
	gh_header(req, "Pragma", "no-cache");
	gh_reply_json(req, 200, j);
	return 0;
}

enum { AC_CODE, AC_REDIRECT, AC_VERIFIER };
static const struct gh_field code_fields[] = {
	{ "code",		GH_STRING, .maxlen = 128 },
	{ "redirect_uri",	GH_STRING, .maxlen = OAUTH_URI_MAX },
	{ "code_verifier",	GH_STRING, .minlen = OAUTH_VERIFIER_MIN,
	    .maxlen = OAUTH_VERIFIER_MAX },
	{ NULL }
};

/*
 * The DPoP proof of a token request (RFC 9449 5): 0 with *jkt the
 * thumbprint of its key, or NULL when none came and none was needed;
 * -1 answered.  The proof is spent whatever the grant then says.
 */
static int
token_dpop(struct gh_req *req, const struct oauth_client *cl,
    const char **jkt)
{
	struct gh_dpop	 p;
	const char	*proof, *htu, *why;
	int		 rc;

	*jkt = NULL;
	if ((proof = gh_header_in(req, "DPoP")) == NULL || *proof == '\0') {
		if (cl->dpop_required)
			return oauth_error(req, 400, "invalid_dpop_proof",
			    "this client must send a DPoP proof with every "
			    "token request");
		return 0;
	}
	if ((htu = gh_printf(&req->arena, "%s%s", oauth_cfg.issuer,
	    OAUTH_BASE "/token")) == NULL)
		return gh_problem(req, 500, "out of memory");
	if (gh_dpop_check(proof, req->method, htu, NULL, time(NULL),
	    gh_auth_dpop_window(), &p, &why) != 0)
		return oauth_error(req, 400, "invalid_dpop_proof", why);
	/* The token endpoint's own nonces (RFC 9449 8), when asked for. */
	if ((rc = gh_dpop_nonce_require(req, "token", &p, &why)) == -1)
		return oauth_error(req, 400, "use_dpop_nonce", why);
	if (rc != 0)
		return -1;
	if ((rc = gh_dpop_fresh(req, &p)) < 0)
		return -1;
	if (rc == 0)
		return oauth_error(req, 400, "invalid_dpop_proof", "the DPoP "
		    "proof was used before");
	if ((*jkt = gh_strdup(&req->arena, p.jkt)) == NULL)
		return gh_problem(req, 500, "out of memory");
	return 0;
}

static void
grant_code(struct gh_req *req, json_t *form, const struct oauth_client *cl,
    const char *jkt)
{
	struct gh_values v;
	struct gh_row	 r;
	struct id_claims ic;
	PGresult	*res;
	const char	*hash, *client, *redirect, *challenge, *sid, *role;
	const char	*p[8], *first_sid, *idp;
	char		*access, *refresh = NULL, *idt = NULL;
	unsigned	 scope;
	int		 used, expired, disabled;

	if (oauth_params(req, form, code_fields, &v) != 0)
		return;
	if ((hash = oauth_hash_hex(req, gh_vstr(&v, AC_CODE))) == NULL) {
		gh_problem(req, 500, "out of memory");
		return;
	}
	if (gh_db_begin(req) != 0 ||
	    (res = gh_db_query(req, SQL_CODE_FIND, 1, &hash)) == NULL)
		return;
	if (gh_rows(res) == 0) {
		oauth_error(req, 400, "invalid_grant", "the code is not valid");
		return;
	}
	memset(&ic, 0, sizeof(ic));
	r = GH_ROW(res, 0);
	client = gh_row_str(&r, CF_CLIENT);
	ic.sub = gh_row_str(&r, CF_USER);
	redirect = gh_row_str(&r, CF_REDIRECT);
	challenge = gh_row_str(&r, CF_CHALLENGE);
	ic.amr = gh_row_str(&r, CF_AMR);
	ic.nonce = gh_row_str_or_null(&r, CF_NONCE);
	ic.auth_time = gh_row_int(&r, CF_AUTH_TIME);
	idp = ic.sid = gh_row_str_or_null(&r, CF_IDP);
	used = gh_row_bool(&r, CF_USED);
	expired = gh_row_bool(&r, CF_EXPIRED);
	first_sid = gh_row_str_or_null(&r, CF_SESSION);
	role = gh_row_str(&r, CF_ROLE);
	ic.username = gh_row_str(&r, CF_USERNAME);
	ic.email = gh_row_str(&r, CF_EMAIL);
	disabled = gh_row_bool(&r, CF_DISABLED);
	ic.email_verified = gh_row_bool(&r, CF_EMAIL_VERIFIED);
	if (gh_row_failed(req, &r))
		return;
	if (used) {
		if (first_sid != NULL && (gh_db_query(req, SQL_CODE_REPLAY, 1,
		    &first_sid) == NULL || auth_audit(req, "oauth_code_replay",
		    ic.sub, NULL) != 0))
			return;
		if (gh_db_commit(req) != 0)
			return;
		oauth_error(req, 400, "invalid_grant", "the code was already "
		    "used; the tokens it gave are revoked");
		return;
	}
	/* One answer for every mismatch: a guesser learns nothing. */
	if (expired || disabled || strcmp(client, cl->id) != 0 ||
	    strcmp(redirect, gh_vstr(&v, AC_REDIRECT)) != 0 ||
	    !oauth_pkce_verify(gh_vstr(&v, AC_VERIFIER), challenge)) {
		oauth_error(req, 400, "invalid_grant", "the code is not valid "
		    "for this request");
		return;
	}
	if (oauth_scope_parse(gh_row_str(&r, CF_SCOPE), &scope) != 0) {
		gh_problem(req, 500, "internal error");
		return;
	}
	p[0] = ic.sub;
	p[1] = num(req, auth_cfg.refresh_ttl);
	p[2] = req->remote_addr;
	p[3] = gh_header_in(req, "User-Agent");
	p[4] = cl->id;
	p[5] = gh_row_str(&r, CF_SCOPE);
	p[6] = idp;
	/*
	 * A public client's refresh tokens are bound to the key too; a
	 * confidential one's are held by its secret (RFC 9449 5).
	 */
	p[7] = cl->confidential ? NULL : jkt;
	if ((res = gh_db_query(req, SQL_OAUTH_SESSION_NEW, 8, p)) == NULL)
		return;
	r = GH_ROW(res, 0);
	sid = gh_row_str(&r, SN_ID);
	if (gh_row_failed(req, &r))
		return;
	if (gh_db_query(req, SQL_CODE_USED, 2, (const char *[]){ hash,
	    sid }) == NULL ||
	    auth_tokens_new_bound(req, sid, ic.sub, token_role(cl, role), jkt,
	    &access, (scope & OAUTH_SCOPE_OFFLINE) && cl->grant_refresh ?
	    &refresh : NULL) != 0)
		return;
	ic.client_id = cl->id;
	ic.access = access;
	ic.scope = scope;
	if ((scope & OAUTH_SCOPE_OPENID) && (idt = id_token(req, &ic)) == NULL) {
		gh_problem(req, 500, "internal error");
		return;
	}
	if (auth_audit(req, "oauth_token", ic.sub, NULL) != 0 ||
	    gh_db_commit(req) != 0)
		return;
	token_reply(req, access, refresh, p[5], idt, jkt);
}

enum { RG_TOKEN, RG_SCOPE };
static const struct gh_field refresh_fields[] = {
	{ "refresh_token",	GH_STRING, .maxlen = 128 },
	{ "scope",		GH_STRING | GH_OPTIONAL, .maxlen = 500 },
	{ NULL }
};

/*
 * Rotation and reuse detection are the JSON refresh's (refresh.c); a
 * token is good only at the client it was issued to, and a narrower
 * scope may be asked, never a wider one.
 */
/*
 * A session bound to a key (a public client's, RFC 9449 5) is refreshed
 * only with a proof of that key.  0 fine, -1 answered.
 */
static int
refresh_bound(struct gh_req *req, const char *sid, const char *jkt)
{
	struct gh_row	 r;
	PGresult	*res;
	const char	*bound;

	if ((res = gh_db_query(req, SQL_SESSION_JKT, 1, &sid)) == NULL)
		return -1;
	if (gh_rows(res) == 0)
		return 0;
	r = GH_ROW(res, 0);
	bound = gh_row_str_or_null(&r, SJ_JKT);
	if (gh_row_failed(req, &r))
		return -1;
	if (bound == NULL)
		return 0;
	if (jkt == NULL)
		return oauth_error(req, 400, "invalid_dpop_proof", "this "
		    "refresh token is bound to a DPoP key: send a DPoP proof");
	if (strcmp(bound, jkt) != 0)
		return oauth_error(req, 400, "invalid_grant", "this refresh "
		    "token is bound to another DPoP key");
	return 0;
}

static void
grant_refresh(struct gh_req *req, json_t *form, const struct oauth_client *cl,
    const char *jkt)
{
	struct gh_values v;
	struct auth_rotation rot;
	struct gh_row	 r;
	const char	*role, *scope_text;
	char		*access, *refresh;
	unsigned	 granted, asked;

	if (oauth_params(req, form, refresh_fields, &v) != 0 ||
	    auth_rotation_find(req, gh_vstr(&v, RG_TOKEN), &rot) != 0)
		return;
	if (rot.state == AUTH_ROTATE_UNKNOWN || rot.client_id == NULL ||
	    strcmp(rot.client_id, cl->id) != 0 || rot.scope == NULL) {
		oauth_error(req, 400, "invalid_grant", "the refresh token is "
		    "not valid");
		return;
	}
	if (rot.state == AUTH_ROTATE_ENDED) {
		oauth_error(req, 400, "invalid_grant", "the session has ended");
		return;
	}
	if (rot.state == AUTH_ROTATE_REUSED) {
		if (auth_rotation_reused(req, &rot) != 0)
			return;
		oauth_error(req, 400, "invalid_grant", "the refresh token was "
		    "already used; the session is ended");
		return;
	}
	if (oauth_scope_parse(rot.scope, &granted) != 0) {
		gh_problem(req, 500, "internal error");
		return;
	}
	asked = granted;
	scope_text = rot.scope;
	if (gh_vhas(&v, RG_SCOPE)) {
		if (oauth_scope_parse(gh_vstr(&v, RG_SCOPE), &asked) != 0 ||
		    asked == 0 || (asked & ~granted) != 0) {
			oauth_error(req, 400, "invalid_scope", "scope must be "
			    "within the one granted");
			return;
		}
		scope_text = oauth_scope_text(&req->arena, asked);
	}
	r = GH_ROW(rot.user, 0);
	role = gh_row_str(&r, UC_ROLE);
	if (gh_row_failed(req, &r) || refresh_bound(req, rot.sid, jkt) != 0)
		return;
	if (auth_rotation_retire(req, &rot) != 0 ||
	    auth_tokens_new_bound(req, rot.sid, rot.uid, token_role(cl, role),
	    jkt, &access, &refresh) != 0 ||
	    gh_db_commit(req) != 0)
		return;
	token_reply(req, access, refresh, scope_text, NULL, jkt);
}

/*
 * client_credentials (RFC 6749 4.4): a confidential client acting for
 * itself.  Its token names no user (sub "client:<id>", role "client", no
 * session), so gh_auth_require refuses it wherever a user is needed, and
 * it has no refresh token or ID token; the user scopes mean nothing here.
 */
static void
grant_client(struct gh_req *req, json_t *form, const struct oauth_client *cl,
    const char *jkt)
{
	struct gh_claims c;
	const char	*scope, *jti;
	char		*access;
	time_t		 now = time(NULL);
	json_t		*j;
	int		 n;

	if (!cl->confidential) {
		oauth_error(req, 400, "unauthorized_client", "only a "
		    "confidential client may use client_credentials");
		return;
	}
	scope = json_string_value(json_object_get(form, "scope"));
	if (scope != NULL && *scope != '\0') {
		oauth_error(req, 400, "invalid_scope", "a client's own token "
		    "carries no scope");
		return;
	}
	memset(&c, 0, sizeof(c));
	n = snprintf(c.sub, sizeof(c.sub), "client:%s", cl->id);
	if (n < 0 || (size_t)n >= sizeof(c.sub) ||
	    (jti = gh_random_token(&req->arena, 16)) == NULL) {
		gh_problem(req, 500, "internal error");
		return;
	}
	snprintf(c.role, sizeof(c.role), "%s", GH_ROLE_CLIENT);
	snprintf(c.jti, sizeof(c.jti), "%s", jti);
	snprintf(c.jkt, sizeof(c.jkt), "%s", jkt != NULL ? jkt : "");
	c.iat = now;
	c.exp = now + gh_auth_access_ttl();
	if (gh_token_sign(gh_auth_keys(), gh_auth_issuer(), gh_auth_audience(),
	    &c, &req->arena, &access) != 0) {
		gh_problem(req, 500, "internal error");
		return;
	}
	if (auth_audit(req, "oauth_client_token", NULL, gh_printf(&req->arena,
	    "{\"client_id\":\"%s\"}", cl->id)) != 0)
		return;
	j = json_pack("{s:s, s:s, s:I}", "access_token", access,
	    "token_type", token_type(jkt), "expires_in",
	    (json_int_t)gh_auth_access_ttl());
	gh_header(req, "Pragma", "no-cache");
	gh_reply_json(req, 200, j);
}

void
oauth_token(struct gh_req *req)
{
	struct oauth_client cl;
	const char	*gt, *jkt;
	json_t		*form;

	if ((form = oauth_form(req)) == NULL ||
	    oauth_client_auth(req, form, &cl) != 0 ||
	    token_dpop(req, &cl, &jkt) != 0)
		return;
	if ((gt = json_string_value(json_object_get(form,
	    "grant_type"))) == NULL) {
		oauth_error(req, 400, "invalid_request", "grant_type is "
		    "required, once");
		return;
	}
	if (strcmp(gt, "authorization_code") == 0 && cl.grant_code)
		grant_code(req, form, &cl, jkt);
	else if (strcmp(gt, "refresh_token") == 0 && cl.grant_refresh)
		grant_refresh(req, form, &cl, jkt);
	else if (strcmp(gt, "client_credentials") == 0 && cl.grant_cc)
		grant_client(req, form, &cl, jkt);
	else if (strcmp(gt, "authorization_code") == 0 ||
	    strcmp(gt, "refresh_token") == 0 ||
	    strcmp(gt, "client_credentials") == 0)
		oauth_error(req, 400, "unauthorized_client", "this client may "
		    "not use that grant");
	else
		oauth_error(req, 400, "unsupported_grant_type", "grant_type "
		    "must be authorization_code, refresh_token or "
		    "client_credentials");
}

/* A live session of an OAuth client, by id: 1 found, 0 not, -1 answered. */
static int
oauth_session(struct gh_req *req, const char *sid, struct gh_row *r)
{
	PGresult	*res;

	if (sid == NULL || !gh_is_uuid(sid))
		return 0;
	if ((res = gh_db_query(req, SQL_OAUTH_SESSION, 1, &sid)) == NULL)
		return -1;
	if (gh_rows(res) == 0)
		return 0;
	*r = GH_ROW(res, 0);
	return 1;
}

/* 401 in the token's own scheme (RFC 6750 3.1, RFC 9449 7.1). */
static void
userinfo_refused(struct gh_req *req, const struct gh_claims *c,
    const char *why)
{
	gh_header(req, "WWW-Authenticate", gh_printf(&req->arena,
	    "%s realm=\"gatehouse\", error=\"invalid_token\", "
	    "error_description=\"%s\"%s", c->jkt[0] != '\0' ? "DPoP" :
	    "Bearer", why, c->jkt[0] != '\0' ? ", algs=\"" GH_DPOP_ALGS "\"" :
	    ""));
	gh_problem(req, 401, "%s", why);
}

/* UserInfo (OIDC Core 5.3): the claims of the session's scope. */
void
oauth_userinfo(struct gh_req *req)
{
	const struct gh_claims *c;
	struct gh_row	 r;
	const char	*scope, *username, *email;
	unsigned	 mask;
	json_t		*j;
	int		 rc, verified;

	if (gh_auth_verify(req) != 0)
		return;
	c = gh_auth_user(req);
	/*
	 * A client's own token names no user, so it has no claims to give:
	 * the token is not good here, which is a 401 (OIDC Core 5.3.3,
	 * RFC 6750 3.1), not a refusal of a user's right (403).
	 */
	if (strcmp(c->role, GH_ROLE_CLIENT) == 0) {
		userinfo_refused(req, c, "a client's own token names no user");
		return;
	}
	if ((rc = oauth_session(req, c->sid, &r)) < 0)
		return;
	if (rc == 0) {
		userinfo_refused(req, c, "the token is not an OAuth client's, "
		    "or its session has ended");
		return;
	}
	scope = gh_row_str(&r, OS_SCOPE);
	username = gh_row_str(&r, OS_USERNAME);
	email = gh_row_str(&r, OS_EMAIL);
	verified = gh_row_bool(&r, OS_EMAIL_VERIFIED);
	if (gh_row_failed(req, &r))
		return;
	if (oauth_scope_parse(scope, &mask) != 0 ||
	    !(mask & OAUTH_SCOPE_OPENID)) {
		userinfo_refused(req, c, "the token was not granted openid");
		return;
	}
	if ((j = json_pack("{s:s}", "sub", c->sub)) == NULL ||
	    scope_claims(j, mask, username, email, verified) != 0) {
		json_decref(j);
		gh_problem(req, 500, "out of memory");
		return;
	}
	gh_reply_json(req, 200, j);
}

/*
 * Which of this client's sessions a token (refresh or access) belongs
 * to: its id, or NULL for a token that is not one of the client's live
 * ones.  exp is the token's expiry.
 */
static const char *
token_session(struct gh_req *req, const char *token, const char *hint,
    const struct oauth_client *cl, long long *exp, long long *iat, int *rc,
    struct gh_row *sess, int *is_refresh, char jkt[48])
{
	struct gh_claims c;
	struct gh_row	 r;
	PGresult	*res;
	const char	*hex, *why, *sid = NULL, *client;

	(void)hint;	/* both kinds are tried: a hint is only a hint */
	*rc = 0;
	*is_refresh = 0;
	jkt[0] = '\0';
	if ((hex = oauth_hash_hex(req, token)) == NULL) {
		*rc = gh_problem(req, 500, "out of memory");
		return NULL;
	}
	if ((res = gh_db_query(req, SQL_REFRESH_SESSION, 1, &hex)) == NULL) {
		*rc = -1;
		return NULL;
	}
	if (gh_rows(res) > 0) {
		r = GH_ROW(res, 0);
		sid = gh_row_str(&r, RS_SID);
		*exp = gh_row_int(&r, RS_EXPIRES);
		if (gh_row_failed(req, &r)) {
			*rc = -1;
			return NULL;
		}
		*is_refresh = 1;
	} else if (gh_token_verify(gh_auth_keys(), token, gh_auth_issuer(),
	    gh_auth_audience(), time(NULL), 0, &c, &why) == 0 &&
	    c.sid[0] != '\0') {
		sid = gh_strdup(&req->arena, c.sid);
		*exp = c.exp;
		*iat = c.iat;
		memcpy(jkt, c.jkt, sizeof(c.jkt));
	}
	if (sid == NULL || (*rc = oauth_session(req, sid, sess)) <= 0)
		return NULL;
	client = gh_row_str(sess, OS_CLIENT);
	if (gh_row_failed(req, sess)) {
		*rc = -1;
		return NULL;
	}
	if (*is_refresh)
		*iat = gh_row_int(sess, OS_CREATED);
	return strcmp(client, cl->id) == 0 ? sid : NULL;
}

enum { RV_TOKEN, RV_HINT };
static const struct gh_field revoke_fields[] = {
	{ "token",		GH_STRING, .maxlen = GH_TOKEN_MAX },
	{ "token_type_hint",	GH_STRING | GH_OPTIONAL, .maxlen = 32 },
	{ NULL }
};

/*
 * RFC 7009: either kind of token ends its session (the family with it).
 * 200 whatever the token was, so nothing is learnt by trying.
 */
void
oauth_revoke(struct gh_req *req)
{
	struct oauth_client cl;
	struct gh_values v;
	struct gh_row	 sess;
	const char	*sid;
	long long	 exp = 0, iat = 0;
	json_t		*form;
	char		 jkt[48];
	int		 rc, is_refresh;

	if ((form = oauth_form(req)) == NULL ||
	    oauth_client_auth(req, form, &cl) != 0 ||
	    oauth_params(req, form, revoke_fields, &v) != 0)
		return;
	sid = token_session(req, gh_vstr(&v, RV_TOKEN), gh_vstr(&v, RV_HINT),
	    &cl, &exp, &iat, &rc, &sess, &is_refresh, jkt);
	if (rc < 0)
		return;
	if (sid != NULL && gh_db_query(req, SQL_OAUTH_REVOKE, 2,
	    (const char *[]){ sid, cl.id }) == NULL)
		return;
	gh_reply(req, 200, NULL, NULL, 0);
}

/*
 * RFC 7662, for confidential clients and their own tokens: an access
 * token is active only while its session lives, whatever its exp says.
 */
void
oauth_introspect(struct gh_req *req)
{
	struct oauth_client cl;
	struct gh_values v;
	struct gh_row	 sess;
	const char	*sid, *scope, *uid, *username;
	long long	 exp = 0, iat = 0;
	json_t		*form, *out;
	char		 jkt[48];
	int		 rc, is_refresh;

	if ((form = oauth_form(req)) == NULL ||
	    oauth_client_auth(req, form, &cl) != 0)
		return;
	if (!cl.confidential) {
		oauth_error(req, 401, "invalid_client", "introspection is for "
		    "confidential clients");
		return;
	}
	if (oauth_params(req, form, revoke_fields, &v) != 0)
		return;
	sid = token_session(req, gh_vstr(&v, RV_TOKEN), gh_vstr(&v, RV_HINT),
	    &cl, &exp, &iat, &rc, &sess, &is_refresh, jkt);
	if (rc < 0)
		return;
	if (sid == NULL) {
		gh_reply_json(req, 200, json_pack("{s:b}", "active", 0));
		return;
	}
	scope = gh_row_str(&sess, OS_SCOPE);
	uid = gh_row_str(&sess, OS_USER);
	username = gh_row_str(&sess, OS_USERNAME);
	if (gh_row_failed(req, &sess))
		return;
	out = json_pack("{s:b, s:s, s:s, s:s, s:I, s:I, s:s, s:s}",
	    "active", 1, "scope", scope, "client_id", cl.id,
	    "sub", uid, "exp", (json_int_t)exp, "iat", (json_int_t)iat,
	    "token_type", is_refresh ? "refresh_token" : jkt[0] != '\0' ?
	    "DPoP" : "Bearer", "username", username);
	/* RFC 9449 6.2: a resource that introspects learns the binding. */
	if (out != NULL && jkt[0] != '\0')
		json_object_set_new(out, "cnf", json_pack("{s:s}", "jkt", jkt));
	gh_reply_json(req, 200, out);
}
