/*
 * The OAuth 2.1 authorization server and OpenID Connect provider: the
 * helpers its handler files share.  Each section is one source file;
 * the handlers themselves are declared in oauth_handlers.h.
 */
#ifndef AUTH_OAUTH_H
#define AUTH_OAUTH_H

#include "gatehouse.h"
#include "oauth_rules.h"

#define OAUTH_BASE		"/api/v1/auth/oauth"
#define OAUTH_IDP_COOKIE	"gh_idp"
#define OAUTH_CSRF_COOKIE	"gh_oauth_csrf"
#define OAUTH_SECRET_BYTES	32
#define OAUTH_HANDLE_TTL	600	/* seconds a browser flow may wait */
#define OAUTH_MFA_TTL		300	/* seconds between password and code */

struct oauth_settings {
	const char	*issuer;	/* https://host[:port], no trailing / */
	char		 origin[256];	/* the issuer's scheme, host and port */
	long long	 code_ttl;	/* seconds */
	long long	 idp_ttl;	/* seconds */
};

extern struct oauth_settings oauth_cfg;

/* A registered client, as stored. */
struct oauth_client {
	const char	*id;
	const char	*name;
	int		 confidential;
	const char	*secret_hash;	/* hex; NULL for a public client */
	json_t		*redirect_uris;	/* borrowed from the request's arena */
	json_t		*logout_uris;
	unsigned	 scopes;
	int		 grant_code, grant_refresh, grant_cc;
	int		 skip_consent, require_par, disabled;
	int		 dpop_required;	/* dpop_bound_access_tokens */
};

/* A provider session: the browser's sign-in at gatehouse. */
struct oauth_idp {
	const char	*id;
	const char	*user_id;
	long long	 auth_time;	/* epoch seconds */
	const char	*amr;		/* JSON array text */
};

/* An authorization request, validated. */
enum {
	OAUTH_PROMPT_NONE	= 1 << 0,
	OAUTH_PROMPT_LOGIN	= 1 << 1,
	OAUTH_PROMPT_CONSENT	= 1 << 2
};

struct oauth_authz {
	struct oauth_client cl;
	const char	*redirect_uri;
	const char	*state;		/* NULL when not sent */
	const char	*nonce;
	const char	*challenge;
	const char	*login_hint;
	unsigned	 scope;
	const char	*scope_text;
	unsigned	 prompt;
	long long	 max_age;	/* -1 when not sent */
};

/* A browser flow waiting for its user (oauth_requests). */
struct oauth_pending {
	const char	*handle;	/* what the forms carry */
	const char	*csrf;		/* equal to the CSRF cookie */
	const char	*user_id;	/* password right, code still asked */
	int		 mfa_live;
	const char	*idp_session_id;/* consent shown to this session */
};

/* oauth_client.c: settings, clients, their authentication, errors */
int		 oauth_setup(void);
int		 oauth_client_load(struct gh_req *, const char *id,
		    struct oauth_client *);
int		 oauth_client_has_uri(const json_t *uris, const char *uri,
		    int loopback_rule);
int		 oauth_client_auth(struct gh_req *, json_t *form,
		    struct oauth_client *);
int		 oauth_error(struct gh_req *, int status, const char *error,
		    const char *description);
char		*oauth_hash_hex(struct gh_req *, const char *secret);
json_t		*oauth_form(struct gh_req *);
int		 oauth_params(struct gh_req *, json_t *params,
		    const struct gh_field *, struct gh_values *);
int		 oauth_defer_json(struct gh_req *, json_t *);

/* oauth_par.c: pushed authorization requests */
int		 oauth_par_take(struct gh_req *, const char *request_uri,
		    const char *client_id, json_t **params);

/* oauth_web.c: the provider's pages, its cookies, CSRF */
int		 oauth_page(struct gh_req *, int status, const char *title,
		    const char *body_html);
int		 oauth_page_to(struct gh_req *, int status, const char *title,
		    const char *body_html, const char *redirect_uri);
int		 oauth_error_page(struct gh_req *, int status, const char *why);
int		 oauth_csrf_ok(struct gh_req *, const char *form_csrf);
const char	*oauth_csrf_cookie(struct gh_req *);
int		 oauth_idp_current(struct gh_req *, struct oauth_idp *);
int		 oauth_idp_start(struct gh_req *, const char *user_id,
		    const char *amr, struct oauth_idp *);
void		 oauth_idp_cookie_clear(struct gh_req *);

/* oauth_flow.c: authorization requests, from query to code */
#define OAUTH_AUTHZ_PAGE	(-2)	/* not the client's: an error page */
int		 oauth_authz_parse(struct gh_req *, json_t *params,
		    struct oauth_authz *, const char **error,
		    const char **description);
int		 oauth_authz_redirect_error(struct gh_req *,
		    const struct oauth_authz *, const char *error,
		    const char *description);
int		 oauth_authz_continue(struct gh_req *, struct oauth_authz *,
		    const struct oauth_idp *, int fresh,
		    struct oauth_pending *);
int		 oauth_pending_load(struct gh_req *, const char *handle,
		    const char *csrf, struct oauth_authz *,
		    struct oauth_pending *);
int		 oauth_login_page(struct gh_req *, const struct oauth_authz *,
		    const struct oauth_pending *, int status,
		    const char *message);
int		 oauth_mfa_page(struct gh_req *, const struct oauth_authz *,
		    const struct oauth_pending *,
		    int status, const char *message);
int		 oauth_pending_mfa(struct gh_req *, const struct oauth_pending *,
		    const char *user_id);
int		 oauth_code_issue(struct gh_req *, const struct oauth_authz *,
		    const struct oauth_idp *);

#endif
