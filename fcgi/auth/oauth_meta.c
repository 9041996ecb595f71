/* Discovery (OpenID Connect Discovery 1.0, RFC 8414): what is implemented. */
#include "auth.h"
#include "oauth.h"
#include "oauth_handlers.h"

static json_t *
strings(const char *const *s)
{
	json_t	*a = json_array();

	for (; a != NULL && *s != NULL; s++)
		json_array_append_new(a, json_string(*s));
	return a;
}

#define LIST(...)	strings((const char *const[]){ __VA_ARGS__, NULL })
#define URL(path)	gh_printf(&req->arena, "%s%s", oauth_cfg.issuer, path)

void
oauth_discovery(struct gh_req *req)
{
	json_t	*j;

	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, "
	    "s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:b, s:o}",
	    "issuer", oauth_cfg.issuer,
	    "authorization_endpoint", URL(OAUTH_BASE "/authorize"),
	    "token_endpoint", URL(OAUTH_BASE "/token"),
	    "userinfo_endpoint", URL(OAUTH_BASE "/userinfo"),
	    "jwks_uri", URL("/.well-known/jwks.json"),
	    "revocation_endpoint", URL(OAUTH_BASE "/revoke"),
	    "introspection_endpoint", URL(OAUTH_BASE "/introspect"),
	    "end_session_endpoint", URL(OAUTH_BASE "/logout"),
	    "pushed_authorization_request_endpoint", URL(OAUTH_BASE "/par"),
	    "response_types_supported", LIST("code"),
	    "response_modes_supported", LIST("query"),
	    "grant_types_supported", LIST("authorization_code",
	    "refresh_token", "client_credentials"),
	    "subject_types_supported", LIST("public"),
	    "id_token_signing_alg_values_supported", LIST("ES256"),
	    "scopes_supported", LIST("openid", "profile", "email",
	    "offline_access"),
	    "token_endpoint_auth_methods_supported",
	    LIST("client_secret_basic", "client_secret_post", "none"),
	    "code_challenge_methods_supported", LIST("S256"),
	    "claims_supported", LIST("sub", "iss", "aud", "exp", "iat",
	    "auth_time", "nonce", "amr", "sid", "preferred_username", "email",
	    "email_verified"),
	    "authorization_response_iss_parameter_supported", 1,
	    "prompt_values_supported", LIST("none", "login", "consent"),
	    "require_pushed_authorization_requests", 0,
	    "dpop_signing_alg_values_supported", LIST(GH_DPOP_ALGS));
	gh_header(req, "Cache-Control", "public, max-age=300");
	gh_reply_json(req, 200, j);
}
