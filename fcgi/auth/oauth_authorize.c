/*
 * The browser side of the provider: the authorization endpoint and the
 * sign-in and consent forms it leads to.
 */
#include <string.h>

#include "auth.h"
#include "audit.h"
#include "oauth.h"
#include "oauth_handlers.h"
#include "signin.h"

GH_SQL(SQL_CONSENT_SAVE) = {{
    "INSERT INTO oauth_consents AS c (user_id, client_id, scopes) "
    "VALUES ($1, $2, string_to_array($3, ' ')) "
    "ON CONFLICT (user_id, client_id) DO UPDATE SET "
    " scopes = ARRAY(SELECT DISTINCT unnest(c.scopes || "
    "  string_to_array($3, ' ')) ORDER BY 1), updated_at = now()" }};

GH_SQL(SQL_PENDING_DROP) = {{
    "DELETE FROM oauth_requests WHERE handle_hash = decode($1, 'hex')" }};

void
oauth_authorize(struct gh_req *req)
{
	struct oauth_authz az;
	struct oauth_idp idp;
	const char	*error, *desc, *q = req->query != NULL ? req->query : "";
	const char	*ru;
	json_t		*params;
	int		 rc;

	if ((params = json_object()) == NULL ||
	    oauth_defer_json(req, params) != 0 ||
	    gh_params_parse(q, strlen(q), params) != 0) {
		gh_problem(req, 500, "out of memory");
		return;
	}
	/* RFC 9126 4: with request_uri, only client_id is read besides. */
	if ((ru = json_string_value(json_object_get(params,
	    "request_uri"))) != NULL) {
		if ((rc = oauth_par_take(req, ru, json_string_value(
		    json_object_get(params, "client_id")), &params)) < 0)
			return;
		if (rc == 1) {
			oauth_error_page(req, 400, "the pushed request is "
			    "unknown, used already or expired");
			return;
		}
	}
	if ((rc = oauth_authz_parse(req, params, &az, &error, &desc)) == -1)
		return;
	if (rc == OAUTH_AUTHZ_PAGE) {
		oauth_error_page(req, 400, desc);
		return;
	}
	if (rc == 0 && az.cl.require_par && ru == NULL)
		rc = 1, error = "invalid_request",
		    desc = "this client must push its request (PAR) first";
	if (rc != 0) {
		oauth_authz_redirect_error(req, &az, error, desc);
		return;
	}
	if ((rc = oauth_idp_current(req, &idp)) < 0)
		return;
	oauth_authz_continue(req, &az, rc == 1 ? &idp : NULL, 0, NULL);
}

enum { LF_HANDLE, LF_CSRF, LF_LOGIN, LF_PASSWORD, LF_TOTP, LF_RECOVERY };
static const struct gh_field login_form[] = {
	{ "handle",		GH_STRING | GH_OPTIONAL, .maxlen = 64 },
	{ "csrf",		GH_STRING | GH_OPTIONAL, .maxlen = 64 },
	{ "login",		GH_STRING | GH_OPTIONAL, .maxlen = 254 },
	{ "password",		GH_STRING | GH_OPTIONAL, .maxlen = 1024 },
	/* A browser sends the field left blank as "": that is no code. */
	{ "totp",	GH_STRING | GH_OPTIONAL | GH_EMPTY_OK, .maxlen = 16 },
	{ "recovery_code", GH_STRING | GH_OPTIONAL | GH_EMPTY_OK, .maxlen = 64 },
	{ NULL }
};

static const char *
nonempty(const char *s)
{
	return s == NULL || *s == '\0' ? NULL : s;
}

/* The form's fields; a form we did not make is simply refused. */
static int
page_form(struct gh_req *req, const struct gh_field *fields,
    struct gh_values *v)
{
	json_t	*form, *errors;

	if ((form = oauth_form(req)) == NULL)
		return -1;
	if ((errors = json_array()) == NULL ||
	    oauth_defer_json(req, errors) != 0)
		return gh_problem(req, 500, "out of memory");
	if (gh_params_validate(form, fields, v, errors, GH_IN_FORM) != 0)
		return oauth_error_page(req, 400, "the form was not filled "
		    "in as it should be");
	return 0;
}

/*
 * The sign-in form, and the second-factor form after it.  The checks are
 * the JSON sign-in's (signin.c): throttled per identifier and account,
 * one answer for an unknown user and a wrong password.
 */
void
oauth_login(struct gh_req *req)
{
	struct gh_values v;
	struct oauth_authz az;
	struct oauth_pending pd;
	struct oauth_idp idp;
	struct auth_signin si;
	enum auth_signin_outcome o;
	const char	*amr;

	if (page_form(req, login_form, &v) != 0 ||
	    oauth_pending_load(req, gh_vstr(&v, LF_HANDLE),
	    gh_vstr(&v, LF_CSRF), &az, &pd) != 0)
		return;
	memset(&si, 0, sizeof(si));
	si.event = "oauth_login";
	si.totp = nonempty(gh_vstr(&v, LF_TOTP));
	si.recovery = nonempty(gh_vstr(&v, LF_RECOVERY));
	if (gh_vhas(&v, LF_PASSWORD)) {
		if ((si.login = gh_vstr(&v, LF_LOGIN)) == NULL) {
			oauth_login_page(req, &az, &pd, 200, "Type your "
			    "username or e-mail.");
			return;
		}
		si.password = gh_vstr(&v, LF_PASSWORD);
		o = auth_signin_check(req, &si);
		/*
		 * A refused form comes back with the login typed (escaped
		 * like the hint), never the password; az is not stored
		 * again, so the request itself keeps the client's hint.
		 */
		if (o == AUTH_SIGNIN_WRONG || o == AUTH_SIGNIN_DISABLED ||
		    o == AUTH_SIGNIN_UNVERIFIED)
			az.login_hint = si.login;
	} else if (pd.user_id != NULL && pd.mfa_live &&
	    (si.totp != NULL || si.recovery != NULL)) {
		si.uid = pd.user_id;
		o = auth_signin_otp(req, &si);
		if (o == AUTH_SIGNIN_WRONG) {
			oauth_mfa_page(req, &az, &pd, 200, "That code is not "
			    "right.");
			return;
		}
	} else {
		oauth_login_page(req, &az, &pd, 200, pd.user_id != NULL ?
		    "That took too long; sign in again." :
		    "Type your password.");
		return;
	}
	switch (o) {
	case AUTH_SIGNIN_OK:
		break;
	case AUTH_SIGNIN_WRONG:
		oauth_login_page(req, &az, &pd, 200, "The login or the "
		    "password is wrong.");
		return;
	case AUTH_SIGNIN_DISABLED:
		oauth_login_page(req, &az, &pd, 403, "This account is "
		    "disabled.");
		return;
	case AUTH_SIGNIN_UNVERIFIED:
		oauth_login_page(req, &az, &pd, 403,
		    auth_signin_unverified_text(&si));
		return;
	case AUTH_SIGNIN_MFA:
		/* A new transaction: the sign-in's was left for us to end. */
		gh_db_rollback(req);
		if (gh_db_begin(req) != 0 ||
		    oauth_pending_mfa(req, &pd, si.uid) != 0 ||
		    gh_db_commit(req) != 0)
			return;
		oauth_mfa_page(req, &az, &pd, 200, NULL);
		return;
	default:
		return;
	}
	amr = si.otp ? "pwd otp" : "pwd";
	if (oauth_idp_start(req, si.uid, amr, &idp) != 0)
		return;
	oauth_authz_continue(req, &az, &idp, 1, &pd);
}

enum { CF_HANDLE, CF_CSRF, CF_DECISION };
static const struct gh_field consent_form[] = {
	{ "handle",	GH_STRING | GH_OPTIONAL, .maxlen = 64 },
	{ "csrf",	GH_STRING | GH_OPTIONAL, .maxlen = 64 },
	{ "decision",	GH_STRING,
	    .choices = (const char *const[]){ "allow", "deny", NULL } },
	{ NULL }
};

/*
 * The consent form: only for the provider session it was shown to, so
 * that no one skips the sign-in by posting it.
 */
void
oauth_consent(struct gh_req *req)
{
	struct gh_values v;
	struct oauth_authz az;
	struct oauth_pending pd;
	struct oauth_idp idp;
	const char	*p[3];
	int		 rc;

	if (page_form(req, consent_form, &v) != 0 ||
	    oauth_pending_load(req, gh_vstr(&v, CF_HANDLE),
	    gh_vstr(&v, CF_CSRF), &az, &pd) != 0)
		return;
	if ((rc = oauth_idp_current(req, &idp)) < 0)
		return;
	if (rc == 0 || pd.idp_session_id == NULL ||
	    strcmp(pd.idp_session_id, idp.id) != 0) {
		oauth_error_page(req, 403, "this consent was not asked of "
		    "you; start again from the application");
		return;
	}
	p[0] = oauth_hash_hex(req, pd.handle);
	if (gh_db_query(req, SQL_PENDING_DROP, 1, p) == NULL)
		return;
	if (strcmp(gh_vstr(&v, CF_DECISION), "allow") != 0) {
		if (gh_db_commit(req) != 0)
			return;
		oauth_authz_redirect_error(req, &az, "access_denied",
		    "the user did not allow it");
		return;
	}
	p[0] = idp.user_id;
	p[1] = az.cl.id;
	p[2] = az.scope_text;
	/* Both are safe in JSON: [A-Za-z0-9_-] and known scope names. */
	if (gh_db_query(req, SQL_CONSENT_SAVE, 3, p) == NULL ||
	    auth_audit(req, "oauth_consent", idp.user_id, gh_printf(
	    &req->arena, "{\"client_id\":\"%s\",\"scope\":\"%s\"}",
	    az.cl.id, az.scope_text)) != 0)
		return;
	oauth_code_issue(req, &az, &idp);
}
