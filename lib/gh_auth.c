#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gh_auth.h"
#include "gh_config.h"
#include "gh_log.h"
#include "gh_req.h"
#include "gh_revoked.h"
#include "gh_token.h"

#define GH_LEEWAY_S	30

static struct gh_keyset	*keys;
static const char	*issuer = "gatehouse";
static const char	*audience = "gatehouse-api";
static long long	 access_ttl = 900;

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

	issuer = gh_config_str("GH_JWT_ISSUER", "gatehouse");
	audience = gh_config_str("GH_JWT_AUDIENCE", "gatehouse-api");
	if (gh_config_int("GH_ACCESS_TTL", 900, 60, 86400, &access_ttl) != 0 ||
	    gh_revoked_setup() != 0)
		return -1;
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
	return 0;
}

void
gh_auth_free(void)
{
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

static int
unauthorized(struct gh_req *req, const char *why, int had_token)
{
	char	 v[256];

	/* RFC 6750: no error code when no credentials were sent at all. */
	if (had_token)
		snprintf(v, sizeof(v), "Bearer realm=\"gatehouse\", "
		    "error=\"invalid_token\", error_description=\"%s\"", why);
	else
		snprintf(v, sizeof(v), "Bearer realm=\"gatehouse\"");
	gh_header(req, "WWW-Authenticate", v);
	return gh_problem(req, 401, "%s", had_token ? why :
	    "an access token is required (Authorization: Bearer ...)");
}

/*
 * Requires a valid access token, and the given role when role is not
 * NULL ("admin").  Answers 401 or 403 itself and returns -1.
 */
int
gh_auth_require(struct gh_req *req, const char *role)
{
	struct gh_claims *c;
	const char	*h, *why;

	h = gh_header_in(req, "Authorization");
	if (h == NULL || *h == '\0')
		return unauthorized(req, NULL, 0);
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return unauthorized(req, "use the Bearer scheme", 1);
	h += 7;
	while (*h == ' ')
		h++;
	if (keys == NULL) {
		gh_log_errx("auth", "no verification keys loaded");
		return gh_problem(req, 500, "internal error");
	}
	if ((c = gh_calloc(&req->arena, 1, sizeof(*c))) == NULL)
		return gh_problem(req, 500, "out of memory");
	if (gh_token_verify(keys, h, issuer, audience, time(NULL),
	    GH_LEEWAY_S, c, &why) != 0)
		return unauthorized(req, why, 1);
	/* Ended at auth: refused here too, within seconds, not at exp. */
	if (gh_revoked_check(c, time(NULL)))
		return unauthorized(req, "the session has ended", 1);
	req->user = c;
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
