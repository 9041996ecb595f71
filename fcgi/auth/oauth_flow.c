/*
 * An authorization request from the query (or a pushed one) to its code:
 * validation in the order RFC 6749 4.1.2.1 wants (a request whose client
 * or redirect URI is not right is never redirected anywhere), then the
 * sign-in and consent steps the browser still owes, kept server-side
 * under a handle, then the one-time code.
 */
#include <string.h>
#include <time.h>

#include "auth.h"
#include "oauth.h"

GH_SQL(SQL_PENDING_NEW) = {{
    "INSERT INTO oauth_requests (handle_hash, csrf_hash, client_id, params, "
    " idp_session_id, expires_at) "
    "VALUES (decode($1, 'hex'), decode($2, 'hex'), $3, $4::jsonb, $5, "
    " now() + make_interval(secs => $6::int))" }};

GH_SQL(SQL_PENDING_CONSENT) = {{
    "UPDATE oauth_requests SET idp_session_id = $2, user_id = NULL, "
    " mfa_until = NULL WHERE handle_hash = decode($1, 'hex')" }};

GH_SQL(SQL_PENDING_MFA) = {{
    "UPDATE oauth_requests SET user_id = $2, "
    " mfa_until = now() + make_interval(secs => $3::int) "
    "WHERE handle_hash = decode($1, 'hex')" }};

GH_SQL(SQL_PENDING_GET) = {{
    "SELECT client_id, params::text, user_id, "
    " coalesce(mfa_until > now(), false), idp_session_id "
    "FROM oauth_requests WHERE handle_hash = decode($1, 'hex') "
    "AND csrf_hash = decode($2, 'hex') AND expires_at > now() FOR UPDATE" }};
enum { PG_CLIENT, PG_PARAMS, PG_USER, PG_MFA_LIVE, PG_IDP };

GH_SQL(SQL_PENDING_DONE) = {{
    "DELETE FROM oauth_requests WHERE handle_hash = decode($1, 'hex') "
    "OR expires_at < now() - interval '1 hour'" }};

GH_SQL(SQL_CONSENT_COVERS) = {{
    "SELECT 1 FROM oauth_consents WHERE user_id = $1 AND client_id = $2 "
    "AND scopes @> string_to_array($3, ' ')" }};

GH_SQL(SQL_CODE_NEW) = {{
    "INSERT INTO oauth_codes (code_hash, client_id, user_id, redirect_uri, "
    " code_challenge, scope, nonce, auth_time, amr, idp_session_id, "
    " expires_at) "
    "VALUES (decode($1, 'hex'), $2, $3, $4, $5, $6, $7, to_timestamp($8), "
    " ARRAY(SELECT json_array_elements_text($9::json)), $10, "
    " now() + make_interval(secs => $11::int))" }};

enum { A_RESPONSE_TYPE, A_CLIENT_ID, A_REDIRECT_URI, A_SCOPE, A_STATE,
    A_NONCE, A_CHALLENGE, A_METHOD, A_PROMPT, A_MAX_AGE, A_LOGIN_HINT,
    A_RESPONSE_MODE };
static const struct gh_field authz_fields[] = {
	{ "response_type",	GH_STRING | GH_OPTIONAL, .maxlen = 64 },
	{ "client_id",		GH_STRING | GH_OPTIONAL, .maxlen = 64 },
	{ "redirect_uri",	GH_STRING | GH_OPTIONAL,
	    .maxlen = OAUTH_URI_MAX },
	{ "scope",		GH_STRING | GH_OPTIONAL, .maxlen = 500 },
	{ "state",		GH_STRING | GH_OPTIONAL, .maxlen = 500 },
	{ "nonce",		GH_STRING | GH_OPTIONAL, .maxlen = 255 },
	{ "code_challenge",	GH_STRING | GH_OPTIONAL, .maxlen = 128 },
	{ "code_challenge_method", GH_STRING | GH_OPTIONAL, .maxlen = 16 },
	{ "prompt",		GH_STRING | GH_OPTIONAL, .maxlen = 64 },
	{ "max_age",		GH_INT | GH_OPTIONAL, .min = 0,
	    .max = 10LL * 365 * 86400 },
	{ "login_hint",		GH_STRING | GH_OPTIONAL, .maxlen = 254 },
	{ "response_mode",	GH_STRING | GH_OPTIONAL,
	    .choices = (const char *const[]){ "query", NULL } },
	{ NULL }
};

static int
errors_name(json_t *errors, const char *field)
{
	size_t	 i;
	json_t	*e;

	json_array_foreach(errors, i, e)
		if (strcmp(json_string_value(json_object_get(e, "field")),
		    field) == 0)
			return 1;
	return 0;
}

static int
prompt_parse(const char *s, unsigned *out)
{
	size_t	 n;

	*out = 0;
	while (s != NULL && *s != '\0') {
		n = strcspn(s, " ");
		if (n == 4 && strncmp(s, "none", 4) == 0)
			*out |= OAUTH_PROMPT_NONE;
		else if (n == 5 && strncmp(s, "login", 5) == 0)
			*out |= OAUTH_PROMPT_LOGIN;
		else if (n == 7 && strncmp(s, "consent", 7) == 0)
			*out |= OAUTH_PROMPT_CONSENT;
		else
			return -1;
		s += n;
		while (*s == ' ')
			s++;
	}
	/* OpenID Connect Core 3.1.2.1: none stands alone. */
	if ((*out & OAUTH_PROMPT_NONE) && *out != OAUTH_PROMPT_NONE)
		return -1;
	return 0;
}

#define REFUSE(e, d)	do { *error = (e); *description = (d); return 1; } \
			while (0)

/*
 * Validates an authorization request.  0 valid; OAUTH_AUTHZ_PAGE when
 * the client or the redirect URI is missing or wrong (error and
 * description say why: never redirect); 1 for any other error, to be
 * sent to the redirect URI; -1 having answered (the database).
 */
int
oauth_authz_parse(struct gh_req *req, json_t *params, struct oauth_authz *az,
    const char **error, const char **description)
{
	struct gh_values v;
	json_t		*errors, *e;
	const char	*s;
	int		 bad, rc;

	memset(az, 0, sizeof(*az));
	az->max_age = -1;
	if ((errors = json_array()) == NULL || oauth_defer_json(req,
	    errors) != 0)
		return gh_problem(req, 500, "out of memory");
	bad = gh_params_validate(params, authz_fields, &v, errors,
	    GH_IN_QUERY);
	*error = "invalid_request";
	if (!gh_vhas(&v, A_CLIENT_ID) || errors_name(errors, "client_id")) {
		*description = "client_id is missing or malformed";
		return OAUTH_AUTHZ_PAGE;
	}
	if ((rc = oauth_client_load(req, gh_vstr(&v, A_CLIENT_ID),
	    &az->cl)) < 0)
		return -1;
	if (rc > 0 || az->cl.disabled) {
		*description = "there is no such client, or it is disabled";
		return OAUTH_AUTHZ_PAGE;
	}
	if (!gh_vhas(&v, A_REDIRECT_URI) ||
	    errors_name(errors, "redirect_uri")) {
		*description = "redirect_uri is missing or malformed";
		return OAUTH_AUTHZ_PAGE;
	}
	az->redirect_uri = gh_vstr(&v, A_REDIRECT_URI);
	if (!oauth_client_has_uri(az->cl.redirect_uris, az->redirect_uri, 1)) {
		*description = "redirect_uri is not registered for this client";
		return OAUTH_AUTHZ_PAGE;
	}
	/* From here on, errors go back to the client through the browser. */
	az->state = gh_vstr(&v, A_STATE);
	if (bad > 0) {
		e = json_array_get(errors, 0);
		s = gh_printf(&req->arena, "%s %s",
		    json_string_value(json_object_get(e, "field")),
		    json_string_value(json_object_get(e, "detail")));
		REFUSE("invalid_request", s != NULL ? s : "bad parameters");
	}
	s = gh_vstr(&v, A_RESPONSE_TYPE);
	if (s == NULL)
		REFUSE("invalid_request", "response_type is required");
	if (strcmp(s, "code") != 0)
		REFUSE("unsupported_response_type", "only response_type=code "
		    "is supported");
	if (!az->cl.grant_code)
		REFUSE("unauthorized_client", "this client may not use the "
		    "authorization code grant");
	/* PKCE for every client, S256 only (OAuth 2.1 4.1.1, RFC 9700). */
	az->challenge = gh_vstr(&v, A_CHALLENGE);
	if (az->challenge == NULL)
		REFUSE("invalid_request", "code_challenge is required (PKCE)");
	s = gh_vstr(&v, A_METHOD);
	if (s == NULL || strcmp(s, "S256") != 0)
		REFUSE("invalid_request", "code_challenge_method must be S256");
	if (!oauth_challenge_valid(az->challenge))
		REFUSE("invalid_request", "code_challenge must be 43 "
		    "base64url characters");
	if ((s = gh_vstr(&v, A_SCOPE)) == NULL)
		REFUSE("invalid_scope", "scope is required");
	if (oauth_scope_parse(s, &az->scope) != 0 || az->scope == 0)
		REFUSE("invalid_scope", "scope has an unknown value");
	if ((az->scope & ~az->cl.scopes) != 0)
		REFUSE("invalid_scope", "scope asks for more than this client "
		    "may have");
	if ((az->scope_text = oauth_scope_text(&req->arena,
	    az->scope)) == NULL)
		return gh_problem(req, 500, "out of memory");
	if (prompt_parse(gh_vstr(&v, A_PROMPT), &az->prompt) != 0)
		REFUSE("invalid_request", "prompt must be none, or login "
		    "and/or consent");
	az->nonce = gh_vstr(&v, A_NONCE);
	az->max_age = gh_vint(&v, A_MAX_AGE, -1);
	az->login_hint = gh_vstr(&v, A_LOGIN_HINT);
	az->challenge = gh_vstr(&v, A_CHALLENGE);
	return 0;
}

/* uri with name=value appended, value escaped. */
static char *
add_param(struct gh_req *req, char *uri, const char *name, const char *value)
{
	char	*e;

	if (uri == NULL || value == NULL)
		return uri;
	if ((e = oauth_query_escape(&req->arena, value)) == NULL)
		return NULL;
	return gh_printf(&req->arena, "%s%c%s=%s", uri,
	    strchr(uri, '?') != NULL ? '&' : '?', name, e);
}

static int
redirect(struct gh_req *req, char *loc)
{
	if (loc == NULL)
		return gh_problem(req, 500, "out of memory");
	gh_header(req, "Location", loc);
	gh_header(req, "Referrer-Policy", "no-referrer");
	gh_reply(req, 303, NULL, NULL, 0);
	return -1;
}

/* The error back to the client, with its state and our name (RFC 9207). */
int
oauth_authz_redirect_error(struct gh_req *req, const struct oauth_authz *az,
    const char *error, const char *description)
{
	char	*loc = gh_strdup(&req->arena, az->redirect_uri);

	req->problem = description;
	loc = add_param(req, loc, "error", error);
	loc = add_param(req, loc, "error_description", description);
	loc = add_param(req, loc, "state", az->state);
	loc = add_param(req, loc, "iss", oauth_cfg.issuer);
	return redirect(req, loc);
}

static json_t *
authz_json(const struct oauth_authz *az)
{
	json_t	*j;

	j = json_pack("{s:s, s:s, s:s}", "redirect_uri", az->redirect_uri,
	    "scope", az->scope_text, "code_challenge", az->challenge);
	if (j == NULL)
		return NULL;
	if (az->state != NULL)
		json_object_set_new(j, "state", json_string(az->state));
	if (az->nonce != NULL)
		json_object_set_new(j, "nonce", json_string(az->nonce));
	if (az->login_hint != NULL)
		json_object_set_new(j, "login_hint",
		    json_string(az->login_hint));
	if (az->max_age >= 0)
		json_object_set_new(j, "max_age", json_integer(az->max_age));
	json_object_set_new(j, "prompt", json_integer(az->prompt));
	return j;
}

/* Keeps the request for the browser's next form, under a new handle. */
static int
pending_new(struct gh_req *req, const struct oauth_authz *az,
    const char *idp_session_id, struct oauth_pending *pd)
{
	const char	*p[6];
	char		*params;
	json_t		*j;

	memset(pd, 0, sizeof(*pd));
	if ((pd->csrf = oauth_csrf_cookie(req)) == NULL ||
	    (pd->handle = gh_random_token(&req->arena, 32)) == NULL ||
	    (j = authz_json(az)) == NULL)
		return gh_problem(req, 500, "internal error");
	params = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (params == NULL || gh_defer(&req->arena, free, params) != 0) {
		free(params);
		return gh_problem(req, 500, "out of memory");
	}
	p[0] = oauth_hash_hex(req, pd->handle);
	p[1] = oauth_hash_hex(req, pd->csrf);
	p[2] = az->cl.id;
	p[3] = params;
	p[4] = idp_session_id;
	p[5] = gh_printf(&req->arena, "%d", OAUTH_HANDLE_TTL);
	if (p[0] == NULL || p[1] == NULL || p[5] == NULL)
		return gh_problem(req, 500, "out of memory");
	pd->idp_session_id = idp_session_id;
	return gh_db_query(req, SQL_PENDING_NEW, 6, p) == NULL ? -1 : 0;
}

static char *
hidden(struct gh_req *req, const struct oauth_pending *pd)
{
	return gh_printf(&req->arena,
	    "<input type=\"hidden\" name=\"handle\" value=\"%s\">"
	    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">",
	    pd->handle, pd->csrf);
}

static char *
message_html(struct gh_req *req, const char *message)
{
	char	*m;

	if (message == NULL)
		return "";
	if ((m = oauth_html(&req->arena, message)) == NULL)
		return NULL;
	return gh_printf(&req->arena, "<p class=\"error\" role=\"alert\">%s"
	    "</p>", m);
}

int
oauth_login_page(struct gh_req *req, const struct oauth_authz *az,
    const struct oauth_pending *pd, int status, const char *message)
{
	char	*name, *hint, *msg, *h, *body;

	name = oauth_html(&req->arena, az->cl.name);
	hint = oauth_html(&req->arena, az->login_hint != NULL ?
	    az->login_hint : "");
	msg = message_html(req, message);
	h = hidden(req, pd);
	if (name == NULL || hint == NULL || msg == NULL || h == NULL ||
	    (body = gh_printf(&req->arena,
	    "<p>to continue to <strong>%s</strong></p>%s"
	    "<form method=\"post\" action=\"" OAUTH_BASE "/login\">%s"
	    "<label for=\"login\">Username or e-mail</label>"
	    "<input type=\"text\" id=\"login\" name=\"login\" value=\"%s\" "
	    "autocomplete=\"username\" required autofocus>"
	    "<label for=\"password\">Password</label>"
	    "<input type=\"password\" id=\"password\" name=\"password\" "
	    "autocomplete=\"current-password\" required>"
	    "<button type=\"submit\">Sign in</button></form>",
	    name, msg, h, hint)) == NULL)
		return gh_problem(req, 500, "out of memory");
	return oauth_page_to(req, status, "Sign in", body, az->redirect_uri);
}

int
oauth_mfa_page(struct gh_req *req, const struct oauth_authz *az,
    const struct oauth_pending *pd, int status,
    const char *message)
{
	char	*msg, *h, *body;

	msg = message_html(req, message);
	h = hidden(req, pd);
	if (msg == NULL || h == NULL || (body = gh_printf(&req->arena,
	    "%s<form method=\"post\" action=\"" OAUTH_BASE "/login\">%s"
	    "<label for=\"totp\">The code from your authenticator app"
	    "</label><input type=\"text\" id=\"totp\" name=\"totp\" "
	    "inputmode=\"numeric\" autocomplete=\"one-time-code\" autofocus>"
	    "<label for=\"recovery_code\">or a recovery code</label>"
	    "<input type=\"text\" id=\"recovery_code\" name=\"recovery_code\" "
	    "autocomplete=\"off\">"
	    "<button type=\"submit\">Continue</button></form>",
	    msg, h)) == NULL)
		return gh_problem(req, 500, "out of memory");
	return oauth_page_to(req, status, "Two-step verification", body,
	    az->redirect_uri);
}

static int
consent_page(struct gh_req *req, const struct oauth_authz *az,
    const struct oauth_pending *pd)
{
	char		*name, *h, *list = "", *w, *body;
	unsigned	 bit;

	for (bit = 1; bit <= OAUTH_SCOPE_OFFLINE && list != NULL; bit <<= 1) {
		if (!(az->scope & bit) || oauth_scope_words(bit) == NULL)
			continue;
		w = oauth_html(&req->arena, oauth_scope_words(bit));
		list = w == NULL ? NULL : gh_printf(&req->arena, "%s<li>%s</li>",
		    list, w);
	}
	name = oauth_html(&req->arena, az->cl.name);
	h = hidden(req, pd);
	if (name == NULL || h == NULL || list == NULL ||
	    (body = gh_printf(&req->arena,
	    "<p><strong>%s</strong> would like to:</p><ul>%s</ul>"
	    "<form method=\"post\" action=\"" OAUTH_BASE "/consent\">%s"
	    "<button type=\"submit\" name=\"decision\" value=\"allow\">Allow"
	    "</button><button type=\"submit\" name=\"decision\" "
	    "value=\"deny\">Deny</button></form>"
	    "<p>You can take this back at any time from your account.</p>",
	    name, list, h)) == NULL)
		return gh_problem(req, 500, "out of memory");
	return oauth_page_to(req, 200, "Allow access?", body,
	    az->redirect_uri);
}

/*
 * The steps the browser still owes, then the code.  idp is the live
 * provider session or NULL; fresh when the user signed in just now (so
 * prompt=login and max_age are satisfied); pd the stored request when
 * the flow already has one.  Always answers; returns -1.
 */
int
oauth_authz_continue(struct gh_req *req, struct oauth_authz *az,
    const struct oauth_idp *idp, int fresh, struct oauth_pending *pd)
{
	struct oauth_pending fresh_pd;
	PGresult	*res;
	const char	*p[3];
	int		 need;

	if (gh_db_begin(req) != 0)
		return -1;
	need = idp == NULL || (!fresh && ((az->prompt & OAUTH_PROMPT_LOGIN) ||
	    (az->max_age >= 0 && time(NULL) - idp->auth_time > az->max_age)));
	if (need) {
		if (az->prompt & OAUTH_PROMPT_NONE)
			return oauth_authz_redirect_error(req, az,
			    "login_required", "the user is not signed in");
		if (pd == NULL && pending_new(req, az, NULL, &fresh_pd) != 0)
			return -1;
		if (gh_db_commit(req) != 0)
			return -1;
		return oauth_login_page(req, az, pd != NULL ? pd : &fresh_pd,
		    200, NULL);
	}
	need = !az->cl.skip_consent;
	if (need && !(az->prompt & OAUTH_PROMPT_CONSENT)) {
		p[0] = idp->user_id;
		p[1] = az->cl.id;
		p[2] = az->scope_text;
		if ((res = gh_db_query(req, SQL_CONSENT_COVERS, 3, p)) == NULL)
			return -1;
		need = gh_rows(res) == 0;
	}
	if (need) {
		if (az->prompt & OAUTH_PROMPT_NONE)
			return oauth_authz_redirect_error(req, az,
			    "consent_required", "the user has not allowed "
			    "this yet");
		if (pd == NULL) {
			if (pending_new(req, az, idp->id, &fresh_pd) != 0)
				return -1;
			pd = &fresh_pd;
		} else if (gh_db_query(req, SQL_PENDING_CONSENT, 2,
		    (const char *[]){ oauth_hash_hex(req, pd->handle),
		    idp->id }) == NULL)
			return -1;
		if (gh_db_commit(req) != 0)
			return -1;
		return consent_page(req, az, pd);
	}
	if (pd != NULL && gh_db_query(req, SQL_PENDING_DONE, 1,
	    (const char *[]){ oauth_hash_hex(req, pd->handle) }) == NULL)
		return -1;
	return oauth_code_issue(req, az, idp);
}

/*
 * The stored request a form refers to, for this browser only: its CSRF
 * cookie must be the form's token and the one the request was made
 * with.  0, or -1 having answered with a page.
 */
int
oauth_pending_load(struct gh_req *req, const char *handle, const char *csrf,
    struct oauth_authz *az, struct oauth_pending *pd)
{
	struct gh_row	 r;
	PGresult	*res;
	const char	*p[2], *client, *params, *s;
	json_t		*j;
	int		 rc;

	memset(pd, 0, sizeof(*pd));
	memset(az, 0, sizeof(*az));
	if (!oauth_csrf_ok(req, csrf))
		return oauth_error_page(req, 403, "this form was not sent "
		    "from this site's own page");
	if (handle == NULL || (p[0] = oauth_hash_hex(req, handle)) == NULL ||
	    (p[1] = oauth_hash_hex(req, csrf)) == NULL)
		return oauth_error_page(req, 400, "the sign-in request is "
		    "missing");
	if (gh_db_begin(req) != 0 ||
	    (res = gh_db_query(req, SQL_PENDING_GET, 2, p)) == NULL)
		return -1;
	if (gh_rows(res) == 0)
		return oauth_error_page(req, 400, "this sign-in request has "
		    "expired or was already used");
	r = GH_ROW(res, 0);
	client = gh_row_str(&r, PG_CLIENT);
	params = gh_row_str(&r, PG_PARAMS);
	pd->user_id = gh_row_str_or_null(&r, PG_USER);
	pd->mfa_live = gh_row_bool(&r, PG_MFA_LIVE);
	pd->idp_session_id = gh_row_str_or_null(&r, PG_IDP);
	if (gh_row_failed(req, &r))
		return -1;
	pd->handle = handle;
	pd->csrf = csrf;
	if ((rc = oauth_client_load(req, client, &az->cl)) < 0)
		return -1;
	if (rc > 0 || az->cl.disabled)
		return oauth_error_page(req, 400, "this client is disabled");
	if ((j = json_loads(params, 0, NULL)) == NULL ||
	    oauth_defer_json(req, j) != 0)
		return gh_problem(req, 500, "internal error");
	az->redirect_uri = json_string_value(json_object_get(j,
	    "redirect_uri"));
	az->scope_text = json_string_value(json_object_get(j, "scope"));
	az->challenge = json_string_value(json_object_get(j,
	    "code_challenge"));
	az->state = json_string_value(json_object_get(j, "state"));
	az->nonce = json_string_value(json_object_get(j, "nonce"));
	az->login_hint = json_string_value(json_object_get(j, "login_hint"));
	az->max_age = json_object_get(j, "max_age") != NULL ?
	    json_integer_value(json_object_get(j, "max_age")) : -1;
	az->prompt = (unsigned)json_integer_value(json_object_get(j,
	    "prompt"));
	/* The client may have changed since: its rules hold as they are now. */
	s = az->scope_text;
	if (s == NULL || az->challenge == NULL ||
	    oauth_scope_parse(s, &az->scope) != 0 ||
	    (az->scope & ~az->cl.scopes) != 0 ||
	    !oauth_client_has_uri(az->cl.redirect_uris, az->redirect_uri, 1))
		return oauth_error_page(req, 400, "this client's settings "
		    "changed; start again from the application");
	return 0;
}

/* A password was right and a second factor is asked: who it was. */
int
oauth_pending_mfa(struct gh_req *req, const struct oauth_pending *pd,
    const char *user_id)
{
	const char	*p[3];

	p[0] = oauth_hash_hex(req, pd->handle);
	p[1] = user_id;
	p[2] = gh_printf(&req->arena, "%d", OAUTH_MFA_TTL);
	if (p[0] == NULL || p[2] == NULL)
		return gh_problem(req, 500, "out of memory");
	return gh_db_query(req, SQL_PENDING_MFA, 3, p) == NULL ? -1 : 0;
}

/*
 * The code: 256 random bits, kept as a hash with everything the token
 * request must match, and sent to the redirect URI.  Commits the
 * caller's transaction.
 */
int
oauth_code_issue(struct gh_req *req, const struct oauth_authz *az,
    const struct oauth_idp *idp)
{
	const char	*p[11], *code;
	char		*loc;

	if ((code = gh_random_token(&req->arena, OAUTH_SECRET_BYTES)) == NULL ||
	    (p[0] = oauth_hash_hex(req, code)) == NULL)
		return gh_problem(req, 500, "internal error");
	p[1] = az->cl.id;
	p[2] = idp->user_id;
	p[3] = az->redirect_uri;
	p[4] = az->challenge;
	p[5] = az->scope_text;
	p[6] = az->nonce;
	p[7] = gh_printf(&req->arena, "%lld", idp->auth_time);
	p[8] = idp->amr;
	p[9] = idp->id;
	p[10] = gh_printf(&req->arena, "%lld", oauth_cfg.code_ttl);
	if (p[7] == NULL || p[10] == NULL)
		return gh_problem(req, 500, "out of memory");
	if (gh_db_begin(req) != 0 ||
	    gh_db_query(req, SQL_CODE_NEW, 11, p) == NULL ||
	    gh_db_commit(req) != 0)
		return -1;
	loc = gh_strdup(&req->arena, az->redirect_uri);
	loc = add_param(req, loc, "code", code);
	loc = add_param(req, loc, "state", az->state);
	loc = add_param(req, loc, "iss", oauth_cfg.issuer);
	return redirect(req, loc);
}
