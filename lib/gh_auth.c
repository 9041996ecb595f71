#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gh_app.h"
#include "gh_auth.h"
#include "gh_config.h"
#include "gh_dpop.h"
#include "gh_log.h"
#include "gh_req.h"
#include "gh_revoked.h"
#include "gh_tokcache.h"
#include "gh_token.h"

#define GH_LEEWAY_S	30

static struct gh_keyset	*keys;
static const char	*issuer = "gatehouse";
static const char	*audience = "gatehouse-api";
static long long	 access_ttl = 900;
static long long	 dpop_window = 60;
static char		 public_origin[256] = "https://localhost:8443";
static struct gh_tokcache tokcache;	/* the tokens this worker verified */

/*
 * The origin clients reach the services at (GH_PUBLIC_URL, its path
 * dropped): a DPoP proof names it in htu.  Not the request's Host
 * header, which the sender chooses.
 */
static int
origin_setup(void)
{
	const char	*url, *host;
	size_t		 n;

	url = gh_config_str("GH_PUBLIC_URL", "https://localhost:8443");
	if (strncmp(url, "https://", 8) == 0)
		host = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		host = url + 7;
	else
		host = NULL;
	n = host == NULL ? 0 : (size_t)(host - url) + strcspn(host, "/?#");
	if (host == NULL || n == (size_t)(host - url) ||
	    n >= sizeof(public_origin)) {
		gh_log_errx("config", "GH_PUBLIC_URL must be an http(s) URL: "
		    "'%s'", url);
		return -1;
	}
	memcpy(public_origin, url, n);
	public_origin[n] = '\0';
	return 0;
}

/*
 * Loads the keys once per worker.  The auth service signs, so it reads
 * the private keys (GH_JWT_KEYS_DIR); the others only verify, and may be
 * given the public keys alone (GH_JWT_PUBLIC_KEYS_DIR).
 */
int
gh_auth_setup(int need_signing_key)
{
	const char	*dir;
	char		 err[256];
	long long	 cache_size;

	issuer = gh_config_str("GH_JWT_ISSUER", "gatehouse");
	audience = gh_config_str("GH_JWT_AUDIENCE", "gatehouse-api");
	if (gh_config_int("GH_ACCESS_TTL", 900, 60, 86400, &access_ttl) != 0 ||
	    gh_config_int("GH_DPOP_WINDOW", 60, 5, 600, &dpop_window) != 0 ||
	    gh_config_int("GH_TOKEN_CACHE", GH_TOKCACHE_DEFAULT, 0,
	    GH_TOKCACHE_MAX, &cache_size) != 0 ||
	    origin_setup() != 0 || gh_revoked_setup() != 0)
		return -1;
	gh_tokcache_init(&tokcache, (size_t)cache_size);
	dir = gh_config_str("GH_JWT_KEYS_DIR", NULL);
	if (dir == NULL && !need_signing_key)
		dir = gh_config_str("GH_JWT_PUBLIC_KEYS_DIR", NULL);
	if (dir == NULL) {
		gh_log_errx("config", "GH_JWT_KEYS_DIR is not set: make a key "
		    "with gatehouse-keygen and point it at its folder");
		return -1;
	}
	if (gh_keyset_load(dir, &keys, err, sizeof(err)) != 0) {
		gh_log_errx("config", "keys in %s: %s", dir, err);
		return -1;
	}
	if (need_signing_key && gh_keyset_signing_kid(keys) == NULL) {
		gh_log_errx("config", "%s holds no private key to sign with",
		    dir);
		return -1;
	}
	/* DPoP nonces (GH_DPOP_NONCE): off unless asked for. */
	if (gh_dpop_nonce_setup() != 0)
		return -1;
	return 0;
}

void
gh_auth_free(void)
{
	gh_tokcache_clear(&tokcache);
	gh_keyset_free(keys);
	keys = NULL;
}

const struct gh_keyset *
gh_auth_keys(void)
{
	return keys;
}

const char *
gh_auth_issuer(void)
{
	return issuer;
}

const char *
gh_auth_audience(void)
{
	return audience;
}

long long
gh_auth_access_ttl(void)
{
	return access_ttl;
}

/* Seconds either side of now a DPoP proof's iat may be. */
long
gh_auth_dpop_window(void)
{
	return (long)dpop_window;
}

/*
 * 401, with the challenge of the scheme the token needs (RFC 6750 3,
 * RFC 9449 7.1); both when no credentials were sent, and then no error
 * code.  error is "invalid_token" or "invalid_dpop_proof".
 */
static int
unauthorized(struct gh_req *req, int dpop, const char *error,
    const char *why)
{
	char	 v[320];

	if (error == NULL) {
		gh_header(req, "WWW-Authenticate", "Bearer realm=\"gatehouse\"");
		gh_header(req, "WWW-Authenticate", "DPoP realm=\"gatehouse\", "
		    "algs=\"" GH_DPOP_ALGS "\"");
		return gh_problem(req, 401, "an access token is required "
		    "(Authorization: Bearer ... or DPoP ... with a DPoP proof)");
	}
	snprintf(v, sizeof(v), "%s realm=\"gatehouse\", error=\"%s\", "
	    "error_description=\"%s\"%s", dpop ? "DPoP" : "Bearer", error,
	    why, dpop ? ", algs=\"" GH_DPOP_ALGS "\"" : "");
	gh_header(req, "WWW-Authenticate", v);
	return gh_problem(req, 401, "%s", why);
}

/*
 * A DPoP-bound token needs a proof of its key with every request
 * (RFC 9449 7): made for this method and URI, for this token (ath), by
 * the key the token names (cnf.jkt), and never seen before.
 */
static int
dpop_verify(struct gh_req *req, const char *token, const struct gh_claims *c)
{
	struct gh_dpop	 p;
	const char	*proof, *htu, *why;
	int		 rc;

	if ((proof = gh_header_in(req, "DPoP")) == NULL || *proof == '\0')
		return unauthorized(req, 1, "invalid_dpop_proof", "a DPoP "
		    "proof is required (DPoP header)");
	if ((htu = gh_printf(&req->arena, "%s%s", public_origin,
	    req->path)) == NULL)
		return gh_problem(req, 500, "out of memory");
	if (gh_dpop_check(proof, req->method, htu, token, time(NULL),
	    (long)dpop_window, &p, &why) != 0)
		return unauthorized(req, 1, "invalid_dpop_proof", why);
	if (strcmp(p.jkt, c->jkt) != 0)
		return unauthorized(req, 1, "invalid_dpop_proof", "the DPoP "
		    "proof is signed by another key than the token's");
	/*
	 * A nonce of this service, when it asks for them (RFC 9449 9),
	 * checked before the proof is spent, so the client may retry.
	 */
	if ((rc = gh_dpop_nonce_require(req, req->app != NULL ?
	    req->app->name : "api", &p, &why)) == -1)
		return unauthorized(req, 1, "use_dpop_nonce", why);
	if (rc != 0)
		return -1;
	if ((rc = gh_dpop_fresh(req, &p)) < 0)
		return -1;
	if (rc == 0)
		return unauthorized(req, 1, "invalid_dpop_proof", "the DPoP "
		    "proof was used before");
	return 0;
}

/*
 * Verifies the access token of the request, Bearer or DPoP, and sets
 * req->user; answers 401 itself and returns -1.  No role is checked:
 * gh_auth_require does, and a caller that handles a client's own token
 * in its own way (UserInfo) calls this alone.
 */
int
gh_auth_verify(struct gh_req *req)
{
	struct gh_claims *c;
	const char	*h, *why;
	time_t		 now = time(NULL);
	int		 dpop;

	h = gh_header_in(req, "Authorization");
	if (h == NULL || *h == '\0')
		return unauthorized(req, 0, NULL, NULL);
	if (strncasecmp(h, "Bearer ", 7) == 0)
		dpop = 0;
	else if (strncasecmp(h, "DPoP ", 5) == 0)
		dpop = 1;
	else
		return unauthorized(req, 0, "invalid_token", "use the Bearer "
		    "or the DPoP scheme");
	h += dpop ? 5 : 7;
	while (*h == ' ')
		h++;
	if (keys == NULL) {
		gh_log_errx("auth", "no verification keys loaded");
		return gh_problem(req, 500, "internal error");
	}
	if ((c = gh_calloc(&req->arena, 1, sizeof(*c))) == NULL)
		return gh_problem(req, 500, "out of memory");
	if (gh_tokcache_verify(&tokcache, keys, h, issuer, audience, now,
	    GH_LEEWAY_S, c, &why) != 0)
		return unauthorized(req, dpop, "invalid_token", why);
	/* A bound token is worth nothing without its key (RFC 9449 7.2). */
	if (c->jkt[0] != '\0' && !dpop)
		return unauthorized(req, 1, "invalid_token", "this token is "
		    "bound to a DPoP key: send it as Authorization: DPoP, "
		    "with a DPoP proof");
	if (c->jkt[0] == '\0' && dpop)
		return unauthorized(req, 0, "invalid_token", "this token is "
		    "not bound to a DPoP key: send it as Authorization: "
		    "Bearer");
	/*
	 * Ended at auth: refused here too, within seconds, not at exp; on
	 * every request, whether the token was verified now or before.
	 */
	if (gh_revoked_check(c, now)) {
		gh_tokcache_forget(&tokcache, h);
		return unauthorized(req, dpop, "invalid_token", "the session "
		    "has ended");
	}
	if (dpop && dpop_verify(req, h, c) != 0)
		return -1;
	req->user = c;
	return 0;
}

/*
 * Requires a valid access token, and the given role when role is not
 * NULL ("admin").  Answers 401 or 403 itself and returns -1.
 */
int
gh_auth_require(struct gh_req *req, const char *role)
{
	const struct gh_claims *c;

	if (gh_auth_verify(req) != 0)
		return -1;
	c = req->user;
	/*
	 * A client's own token (client_credentials) names no user: wherever
	 * a user is needed, and that is everywhere but where the caller asks
	 * for GH_ROLE_CLIENT, it is refused, so that "client:<id>" is never
	 * taken for a user's id.
	 */
	if (strcmp(c->role, GH_ROLE_CLIENT) == 0 &&
	    (role == NULL || strcmp(role, GH_ROLE_CLIENT) != 0))
		return gh_problem(req, 403, "this needs a user's token, not "
		    "a client's own");
	if (role != NULL && strcmp(c->role, role) != 0)
		return gh_problem(req, 403, "this needs the %s role", role);
	return 0;
}

const struct gh_claims *
gh_auth_user(const struct gh_req *req)
{
	return req->user;
}

/* Whether the request's verified user is an admin: the one place it is said. */
int
gh_auth_is_admin(const struct gh_req *req)
{
	return req->user != NULL && strcmp(req->user->role, GH_ROLE_ADMIN) == 0;
}
