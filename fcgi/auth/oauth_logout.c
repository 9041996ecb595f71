/*
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).  An
 * application sends the browser here with the ID token it holds: the
 * provider session ends and so do that user's sessions of that client,
 * and the browser goes back only to a URI the client registered for it.
 * Without an ID token anyone could sign the user out with a link, so the
 * user is asked first, by a form that must come from this page.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "auth.h"
#include "audit.h"
#include "oauth.h"
#include "oauth_handlers.h"

GH_SQL(SQL_IDP_END) = {{
    "UPDATE idp_sessions SET revoked_at = now() "
    "WHERE revoked_at IS NULL AND user_id = $1 "
    "AND (id = $2::uuid OR token_hash = decode($3, 'hex'))" }};

GH_SQL(SQL_IDP_END_COOKIE) = {{
    "UPDATE idp_sessions SET revoked_at = now() "
    "WHERE revoked_at IS NULL AND token_hash = decode($1, 'hex') "
    "RETURNING user_id" }};
enum { EC_USER };

GH_SQL(SQL_CLIENT_USER_END) = {{
    "UPDATE sessions SET revoked_at = now(), revoked_reason = 'rp_logout' "
    "WHERE user_id = $1 AND client_id = $2 AND revoked_at IS NULL" }};

struct logout {
	const char	*client_id;	/* NULL: no client named */
	const char	*user_id;	/* from the ID token; NULL without */
	const char	*sid;		/* the ID token's provider session */
	const char	*uri;		/* post_logout_redirect_uri, checked */
	const char	*state;
	struct oauth_client cl;
};

static const char *
param(json_t *params, const char *name, size_t maxlen)
{
	const char	*s = json_string_value(json_object_get(params, name));

	return s != NULL && *s != '\0' && strlen(s) <= maxlen ? s : NULL;
}

static int
refused(struct gh_req *req, const char *why)
{
	char	*w, *body;

	req->problem = why;
	if ((w = oauth_html(&req->arena, why)) == NULL ||
	    (body = gh_printf(&req->arena, "<p class=\"error\">%s</p>"
	    "<p>You have not been signed out. Go back to the application "
	    "and try again.</p>", w)) == NULL)
		return gh_problem(req, 500, "out of memory");
	return oauth_page(req, 400, "Sign-out refused", body);
}

/* Our public key kid, from the JWKS: P-256 x and y. */
static EVP_PKEY *
jwk_key(struct gh_req *req, const char *kid)
{
	json_t		*jwks, *k;
	size_t		 i, xl, yl;
	unsigned char	*x, *y, pt[65];
	const char	*sx, *sy, *id;
	OSSL_PARAM_BLD	*b = NULL;
	OSSL_PARAM	*p = NULL;
	EVP_PKEY_CTX	*ctx = NULL;
	EVP_PKEY	*pk = NULL;

	if ((jwks = gh_keyset_jwks(gh_auth_keys())) == NULL ||
	    oauth_defer_json(req, jwks) != 0)
		return NULL;
	json_array_foreach(json_object_get(jwks, "keys"), i, k) {
		id = json_string_value(json_object_get(k, "kid"));
		if (id == NULL || strcmp(id, kid) != 0)
			continue;
		sx = json_string_value(json_object_get(k, "x"));
		sy = json_string_value(json_object_get(k, "y"));
		if (sx == NULL || sy == NULL ||
		    gh_b64url_decode(&req->arena, sx, strlen(sx), &x, &xl) != 0 ||
		    gh_b64url_decode(&req->arena, sy, strlen(sy), &y, &yl) != 0 ||
		    xl != 32 || yl != 32)
			return NULL;
		pt[0] = 0x04;
		memcpy(pt + 1, x, 32);
		memcpy(pt + 33, y, 32);
		if ((b = OSSL_PARAM_BLD_new()) == NULL ||
		    !OSSL_PARAM_BLD_push_utf8_string(b,
		    OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(b,
		    OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt)) ||
		    (p = OSSL_PARAM_BLD_to_param(b)) == NULL ||
		    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) ==
		    NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
		    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, p) != 1)
			pk = NULL;
		break;
	}
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(p);
	OSSL_PARAM_BLD_free(b);
	return pk;
}

/* 1 when sig (r || s, 64 bytes) signs input with pk. */
static int
es256_ok(EVP_PKEY *pk, const char *input, const unsigned char *sig)
{
	ECDSA_SIG	*es = NULL;
	BIGNUM		*r, *s;
	unsigned char	*der = NULL;
	EVP_MD_CTX	*md = NULL;
	int		 n, ok = 0;

	r = BN_bin2bn(sig, 32, NULL);
	s = BN_bin2bn(sig + 32, 32, NULL);
	if (r == NULL || s == NULL || (es = ECDSA_SIG_new()) == NULL ||
	    ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		goto done;
	}
	if ((n = i2d_ECDSA_SIG(es, &der)) <= 0 ||
	    (md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) != 1)
		goto done;
	ok = EVP_DigestVerify(md, der, (size_t)n,
	    (const unsigned char *)input, strlen(input)) == 1;
done:
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	return ok;
}

/*
 * An ID token of ours (typ JWT, so never an access token): its claims,
 * or NULL.  The signature and the issuer are checked; the expiry is not,
 * since the application may well hold an old one when the user leaves.
 */
static json_t *
id_token_claims(struct gh_req *req, const char *jwt)
{
	const char	*d1, *d2, *kid;
	char		*input;
	unsigned char	*h, *p, *sig;
	size_t		 hl, pl, sl;
	json_t		*hdr = NULL, *claims = NULL;
	EVP_PKEY	*pk = NULL;
	int		 ok = 0;

	if (strlen(jwt) > GH_TOKEN_MAX || (d1 = strchr(jwt, '.')) == NULL ||
	    (d2 = strchr(d1 + 1, '.')) == NULL || strchr(d2 + 1, '.') != NULL)
		return NULL;
	if (gh_b64url_decode(&req->arena, jwt, d1 - jwt, &h, &hl) != 0 ||
	    gh_b64url_decode(&req->arena, d1 + 1, d2 - d1 - 1, &p, &pl) != 0 ||
	    gh_b64url_decode(&req->arena, d2 + 1, strlen(d2 + 1), &sig,
	    &sl) != 0 || sl != 64 ||
	    (input = gh_printf(&req->arena, "%.*s", (int)(d2 - jwt), jwt)) ==
	    NULL)
		return NULL;
	if ((hdr = json_loadb((const char *)h, hl, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL ||
	    strcmp(json_string_value(json_object_get(hdr, "alg")) != NULL ?
	    json_string_value(json_object_get(hdr, "alg")) : "", "ES256") != 0 ||
	    strcmp(json_string_value(json_object_get(hdr, "typ")) != NULL ?
	    json_string_value(json_object_get(hdr, "typ")) : "", "JWT") != 0 ||
	    json_object_get(hdr, "crit") != NULL ||
	    (kid = json_string_value(json_object_get(hdr, "kid"))) == NULL ||
	    (pk = jwk_key(req, kid)) == NULL || !es256_ok(pk, input, sig))
		goto done;
	if ((claims = json_loadb((const char *)p, pl, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL || !json_is_object(claims) ||
	    json_string_value(json_object_get(claims, "iss")) == NULL ||
	    strcmp(json_string_value(json_object_get(claims, "iss")),
	    oauth_cfg.issuer) != 0 ||
	    json_string_value(json_object_get(claims, "sub")) == NULL ||
	    json_string_value(json_object_get(claims, "aud")) == NULL)
		goto done;
	ok = oauth_defer_json(req, claims) == 0;
	if (!ok)
		claims = NULL;
done:
	EVP_PKEY_free(pk);
	json_decref(hdr);
	if (!ok)
		json_decref(claims);
	return ok ? claims : NULL;
}

/*
 * The request's parameters, checked: 0, or -1 having answered with an
 * error page (never a redirect to an unchecked URI).
 */
static int
logout_parse(struct gh_req *req, json_t *params, struct logout *lo)
{
	const char	*hint, *cid;
	json_t		*c;
	int		 rc;

	memset(lo, 0, sizeof(*lo));
	hint = param(params, "id_token_hint", GH_TOKEN_MAX);
	cid = param(params, "client_id", 64);
	lo->uri = param(params, "post_logout_redirect_uri", 2000);
	lo->state = param(params, "state", 500);
	if (hint != NULL) {
		if ((c = id_token_claims(req, hint)) == NULL)
			return refused(req, "the ID token is not one of ours");
		lo->user_id = json_string_value(json_object_get(c, "sub"));
		lo->sid = json_string_value(json_object_get(c, "sid"));
		if (cid != NULL && strcmp(cid,
		    json_string_value(json_object_get(c, "aud"))) != 0)
			return refused(req, "the ID token is another "
			    "application's");
		cid = json_string_value(json_object_get(c, "aud"));
	}
	if (cid != NULL) {
		if ((rc = oauth_client_load(req, cid, &lo->cl)) < 0)
			return -1;
		if (rc == 1)
			return refused(req, "unknown application");
		lo->client_id = lo->cl.id;
	}
	if (lo->uri != NULL && (lo->client_id == NULL ||
	    !oauth_client_has_uri(lo->cl.logout_uris, lo->uri, 0)))
		return refused(req, "the address to go back to is not one "
		    "the application registered");
	return 0;
}

static char *
state_escaped(struct gh_req *req, const char *state)
{
	char	*e;

	if ((e = oauth_query_escape(&req->arena, state)) == NULL)
		return NULL;
	return gh_printf(&req->arena, "state=%s", e);
}

/*
 * Ends the provider session (the ID token's, and this browser's if it is
 * the same user's; without a token, this browser's) and the user's
 * sessions of the client; then back to the client, or a page.
 */
static void
logout_do(struct gh_req *req, struct logout *lo)
{
	const char	*c = gh_cookie(req, OAUTH_IDP_COOKIE), *hash = NULL;
	const char	*user = lo->user_id, *loc, *body, *detail = NULL;
	struct gh_row	 r;
	PGresult	*res;

	if (c != NULL && (hash = oauth_hash_hex(req, c)) == NULL) {
		gh_problem(req, 500, "out of memory");
		return;
	}
	if (gh_db_begin(req) != 0)
		return;
	if (user != NULL) {
		if (gh_db_query(req, SQL_IDP_END, 3, (const char *[]){ user,
		    lo->sid != NULL && gh_is_uuid(lo->sid) ? lo->sid : NULL,
		    hash != NULL ? hash : "" }) == NULL)
			return;
	} else if (hash != NULL) {
		if ((res = gh_db_query(req, SQL_IDP_END_COOKIE, 1, &hash)) ==
		    NULL)
			return;
		if (gh_rows(res) > 0) {
			r = GH_ROW(res, 0);
			user = gh_row_str(&r, EC_USER);
			if (gh_row_failed(req, &r))
				return;
		}
	}
	if (user != NULL && lo->client_id != NULL &&
	    gh_db_query(req, SQL_CLIENT_USER_END, 2, (const char *[]){ user,
	    lo->client_id }) == NULL)
		return;
	if (lo->client_id != NULL && (detail = gh_printf(&req->arena,
	    "{\"client_id\":\"%s\"}", lo->client_id)) == NULL) {
		gh_problem(req, 500, "out of memory");
		return;
	}
	if (user != NULL && auth_audit(req, "oauth_logout", user,
	    detail) != 0)
		return;
	if (gh_db_commit(req) != 0)
		return;
	oauth_idp_cookie_clear(req);
	if (lo->uri != NULL) {
		loc = lo->uri;
		if (lo->state != NULL && (loc = state_escaped(req,
		    lo->state)) != NULL)
			loc = gh_printf(&req->arena, "%s%c%s", lo->uri,
			    strchr(lo->uri, '?') != NULL ? '&' : '?', loc);
		if (loc == NULL) {
			gh_problem(req, 500, "out of memory");
			return;
		}
		gh_header(req, "Location", loc);
		gh_reply(req, 303, NULL, NULL, 0);
		return;
	}
	body = "<p>You are signed out of gatehouse. You can close this page.</p>";
	oauth_page(req, 200, "Signed out", body);
}

static json_t *
query_params(struct gh_req *req)
{
	const char	*q = req->query != NULL ? req->query : "";
	json_t		*params;

	if ((params = json_object()) == NULL ||
	    oauth_defer_json(req, params) != 0 ||
	    gh_params_parse(q, strlen(q), params) != 0) {
		gh_problem(req, 500, "out of memory");
		return NULL;
	}
	return params;
}

/* A hidden field, escaped; "" when v is NULL. */
static char *
hidden(struct gh_req *req, const char *name, const char *v)
{
	char	*e;

	if (v == NULL)
		return "";
	if ((e = oauth_html(&req->arena, v)) == NULL)
		return NULL;
	return gh_printf(&req->arena, "<input type=\"hidden\" name=\"%s\" "
	    "value=\"%s\">", name, e);
}

static void
confirm_page(struct gh_req *req, const struct logout *lo)
{
	const char	*csrf;
	char		*name, *f1, *f2, *f3, *body;

	name = oauth_html(&req->arena, lo->client_id != NULL ? lo->cl.name :
	    "an application");
	if ((csrf = oauth_csrf_cookie(req)) == NULL || name == NULL ||
	    (f1 = hidden(req, "client_id", lo->client_id)) == NULL ||
	    (f2 = hidden(req, "post_logout_redirect_uri", lo->uri)) == NULL ||
	    (f3 = hidden(req, "state", lo->state)) == NULL ||
	    (body = gh_printf(&req->arena, "<p><strong>%s</strong> asks to "
	    "sign you out of gatehouse.</p>"
	    "<form method=\"post\" action=\"" OAUTH_BASE "/logout\">"
	    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">%s%s%s"
	    "<button type=\"submit\">Sign out</button></form>",
	    name, csrf, f1, f2, f3)) == NULL) {
		gh_problem(req, 500, "out of memory");
		return;
	}
	oauth_page_to(req, 200, "Sign out?", body, lo->uri);
}

void
oauth_logout(struct gh_req *req)
{
	struct logout	 lo;
	json_t		*params;

	if ((params = query_params(req)) == NULL ||
	    logout_parse(req, params, &lo) != 0)
		return;
	if (lo.user_id == NULL) {
		confirm_page(req, &lo);
		return;
	}
	logout_do(req, &lo);
}

/* The confirmation form: from this page only (double submit, Origin). */
void
oauth_logout_confirm(struct gh_req *req)
{
	struct logout	 lo;
	json_t		*form;

	if ((form = oauth_form(req)) == NULL)
		return;
	if (!oauth_csrf_ok(req, param(form, "csrf", 64))) {
		oauth_page(req, 403, "Sign-out refused", "<p class=\"error\">"
		    "this form was not sent from this site's own page</p>");
		return;
	}
	json_object_del(form, "id_token_hint");
	if (logout_parse(req, form, &lo) != 0)
		return;
	logout_do(req, &lo);
}
