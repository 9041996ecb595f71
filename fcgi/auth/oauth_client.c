/*
 * The provider's settings, its registered clients and how they prove who
 * they are, and errors shaped as OAuth wants them (RFC 6749 5.2), not as
 * problem+json: a client library reads "error", nothing else.
 */
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "oauth.h"

struct oauth_settings oauth_cfg;

GH_SQL(SQL_CLIENT_GET) = {{
    "SELECT id, name, type = 'confidential', encode(secret_hash, 'hex'), "
    " array_to_json(redirect_uris)::text, "
    " array_to_json(post_logout_redirect_uris)::text, "
    " array_to_string(scopes, ' '), "
    " 'authorization_code' = ANY (grant_types), "
    " 'refresh_token' = ANY (grant_types), "
    " 'client_credentials' = ANY (grant_types), "
    " skip_consent, require_par, disabled, dpop_bound_access_tokens "
    "FROM oauth_clients WHERE id = $1" }};
enum { CG_ID, CG_NAME, CG_CONF, CG_SECRET, CG_URIS, CG_LOGOUT, CG_SCOPES,
    CG_CODE, CG_REFRESH, CG_CC, CG_SKIP, CG_PAR, CG_DISABLED, CG_DPOP };

/*
 * GH_OIDC_ISSUER names the provider in every token and in discovery; it
 * must be what browsers and clients reach, so https and no trailing
 * slash (OpenID Connect Discovery 3: issuer + path, compared exactly).
 */
int
oauth_setup(void)
{
	const char	*iss, *p;
	size_t		 n;

	iss = gh_config_str("GH_PUBLIC_URL", "https://localhost:8443");
	iss = gh_config_str("GH_OIDC_ISSUER", iss);
	n = strlen(iss);
	if (strncmp(iss, "https://", 8) != 0 || n <= 8 || n > 200 ||
	    iss[n - 1] == '/' || strpbrk(iss, "?# \t\"<>'\\") != NULL) {
		gh_log_errx("config", "GH_OIDC_ISSUER must be an https URL "
		    "without a trailing slash, query or fragment: '%s'", iss);
		return -1;
	}
	oauth_cfg.issuer = iss;
	p = strchr(iss + 8, '/');
	n = p == NULL ? strlen(iss) : (size_t)(p - iss);
	memcpy(oauth_cfg.origin, iss, n);
	oauth_cfg.origin[n] = '\0';
	if (gh_config_int("GH_OAUTH_CODE_TTL", 60, 10, 600,
	    &oauth_cfg.code_ttl) != 0 ||
	    gh_config_int("GH_IDP_SESSION_TTL", 12 * 3600, 300, 30 * 86400,
	    &oauth_cfg.idp_ttl) != 0)
		return -1;
	return 0;
}

static void
json_release(void *p)
{
	json_decref(p);
}

/* Hands j to the request: it is released when the request ends. */
int
oauth_defer_json(struct gh_req *req, json_t *j)
{
	if (j == NULL)
		return -1;
	if (gh_defer(&req->arena, json_release, j) != 0) {
		json_decref(j);
		return -1;
	}
	return 0;
}

/*
 * Loads a client: 0 found, 1 no such client, -1 having answered (the
 * database).  Its lists live as long as the request.
 */
int
oauth_client_load(struct gh_req *req, const char *id, struct oauth_client *cl)
{
	struct gh_row	 r;
	PGresult	*res;
	const char	*scopes;

	memset(cl, 0, sizeof(*cl));
	if (id == NULL || *id == '\0' || strlen(id) > 64)
		return 1;
	if ((res = gh_db_query(req, SQL_CLIENT_GET, 1, &id)) == NULL)
		return -1;
	if (gh_rows(res) == 0)
		return 1;
	r = GH_ROW(res, 0);
	cl->id = gh_row_str(&r, CG_ID);
	cl->name = gh_row_str(&r, CG_NAME);
	cl->confidential = gh_row_bool(&r, CG_CONF);
	cl->secret_hash = gh_row_str_or_null(&r, CG_SECRET);
	cl->redirect_uris = gh_row_json(&r, CG_URIS);
	cl->logout_uris = gh_row_json(&r, CG_LOGOUT);
	scopes = gh_row_str(&r, CG_SCOPES);
	cl->grant_code = gh_row_bool(&r, CG_CODE);
	cl->grant_refresh = gh_row_bool(&r, CG_REFRESH);
	cl->grant_cc = gh_row_bool(&r, CG_CC);
	cl->skip_consent = gh_row_bool(&r, CG_SKIP);
	cl->require_par = gh_row_bool(&r, CG_PAR);
	cl->disabled = gh_row_bool(&r, CG_DISABLED);
	cl->dpop_required = gh_row_bool(&r, CG_DPOP);
	if (oauth_defer_json(req, cl->redirect_uris) != 0 ||
	    oauth_defer_json(req, cl->logout_uris) != 0) {
		gh_problem(req, 500, "out of memory");
		return -1;
	}
	if (gh_row_failed(req, &r))
		return -1;
	if (oauth_scope_parse(scopes, &cl->scopes) != 0) {
		gh_log_errx("oauth", "client %s: stored scopes '%s' unknown", cl->id,
		    scopes);
		gh_problem(req, 500, "internal error");
		return -1;
	}
	return 0;
}

/*
 * Whether uri is one of uris: exactly, or under the loopback port rule
 * for redirect URIs (RFC 8252 7.3), never for logout ones.
 */
int
oauth_client_has_uri(const json_t *uris, const char *uri, int loopback_rule)
{
	size_t		 i;
	json_t		*u;
	const char	*s;

	if (uri == NULL)
		return 0;
	json_array_foreach(uris, i, u) {
		if ((s = json_string_value(u)) == NULL)
			continue;
		if (loopback_rule ? oauth_redirect_matches(s, uri) :
		    strcmp(s, uri) == 0)
			return 1;
	}
	return 0;
}

/* An OAuth error: {"error", "error_description"}, never cached. */
int
oauth_error(struct gh_req *req, int status, const char *error,
    const char *description)
{
	gh_header(req, "Pragma", "no-cache");
	req->problem = description;
	gh_reply_json(req, status, json_pack("{s:s, s:s}", "error", error,
	    "error_description", description));
	return -1;
}

char *
oauth_hash_hex(struct gh_req *req, const char *secret)
{
	return gh_sha256_hex(&req->arena, secret, strlen(secret));
}

/*
 * An endpoint's form body as parameters, undeclared ones included: its
 * handler validates them against its own table so that each mistake is
 * answered as OAuth says.  NULL having answered.
 */
json_t *
oauth_form(struct gh_req *req)
{
	const char	*ct = gh_env(req, "CONTENT_TYPE");
	const char	*form = "application/x-www-form-urlencoded";
	size_t		 n = strlen(form), len;
	char		*body;
	json_t		*obj;

	if (ct == NULL || strncasecmp(ct, form, n) != 0 ||
	    (ct[n] != '\0' && ct[n] != ';' && ct[n] != ' ')) {
		oauth_error(req, 400, "invalid_request", "the body must be "
		    "application/x-www-form-urlencoded");
		return NULL;
	}
	if (gh_body_read(req, 64 * 1024, &body, &len) != 0)
		return NULL;
	if ((obj = json_object()) == NULL || oauth_defer_json(req, obj) != 0 ||
	    gh_params_parse(body, len, obj) != 0) {
		gh_problem(req, 500, "out of memory");
		return NULL;
	}
	return obj;
}

/*
 * Validates params against fields: 0, or -1 having answered
 * invalid_request naming the first bad parameter.
 */
int
oauth_params(struct gh_req *req, json_t *params, const struct gh_field *fields,
    struct gh_values *v)
{
	json_t		*errors, *e;
	const char	*desc;

	if ((errors = json_array()) == NULL || oauth_defer_json(req,
	    errors) != 0)
		return gh_problem(req, 500, "out of memory");
	if (gh_params_validate(params, fields, v, errors, GH_IN_FORM) == 0)
		return 0;
	e = json_array_get(errors, 0);
	desc = gh_printf(&req->arena, "%s %s",
	    json_string_value(json_object_get(e, "field")),
	    json_string_value(json_object_get(e, "detail")));
	return oauth_error(req, 400, "invalid_request", desc != NULL ? desc :
	    "bad parameters");
}

static int
client_refused(struct gh_req *req, int basic)
{
	/* RFC 6749 5.2: 401 and the scheme the client tried. */
	if (basic)
		gh_header(req, "WWW-Authenticate", "Basic realm=\"gatehouse\"");
	return oauth_error(req, 401, "invalid_client",
	    "client authentication failed");
}

/*
 * Who is calling a back-channel endpoint: client_secret_basic,
 * client_secret_post, or for a public client its client_id alone.  One
 * method at a time (RFC 6749 2.3).  0 with cl filled, or -1 having
 * answered invalid_client (401) or invalid_request.
 */
int
oauth_client_auth(struct gh_req *req, json_t *form, struct oauth_client *cl)
{
	const char	*h, *fid, *fsecret;
	char		*id = NULL, *secret = NULL, *hex;
	unsigned char	 want[32], got[32];
	int		 basic = 0, rc;

	fid = json_string_value(json_object_get(form, "client_id"));
	fsecret = json_string_value(json_object_get(form, "client_secret"));
	if (json_object_get(form, "client_id") != NULL && fid == NULL)
		return oauth_error(req, 400, "invalid_request",
		    "client_id must be given once");
	if ((h = gh_header_in(req, "Authorization")) != NULL &&
	    strncasecmp(h, "Basic ", 6) == 0) {
		basic = 1;
		if (fsecret != NULL)
			return oauth_error(req, 400, "invalid_request", "use "
			    "one client authentication method, not two");
		if (oauth_basic_credentials(&req->arena, h, &id,
		    &secret) != 0)
			return client_refused(req, basic);
		if (fid != NULL && strcmp(fid, id) != 0)
			return client_refused(req, basic);
	} else {
		id = (char *)fid;
		secret = (char *)fsecret;
	}
	if (id == NULL)
		return client_refused(req, basic);
	if ((rc = oauth_client_load(req, id, cl)) < 0)
		return -1;
	if (rc > 0 || cl->disabled)
		return client_refused(req, basic);
	if (!cl->confidential)
		return secret == NULL ? 0 : client_refused(req, basic);
	if (secret == NULL || cl->secret_hash == NULL)
		return client_refused(req, basic);
	hex = oauth_hash_hex(req, secret);
	if (hex == NULL || gh_unhex(hex, got, sizeof(got)) != 0 ||
	    gh_unhex(cl->secret_hash, want, sizeof(want)) != 0 ||
	    !gh_ct_equal(want, got, sizeof(want)))
		return client_refused(req, basic);
	return 0;
}
