/*
 * Access tokens on requests: every service verifies access tokens itself,
 * with the public keys, and never calls the auth service to do it.  A
 * bearer token comes as "Authorization: Bearer"; a DPoP-bound one only
 * as "Authorization: DPoP", with a DPoP proof of its key (gh_dpop.h).
 */
#ifndef GH_AUTH_H
#define GH_AUTH_H

#include "gh_token.h"

struct gh_req;

#define GH_ROLE_ADMIN	"admin"
#define GH_ROLE_USER	"user"
#define GH_ROLE_CLIENT	"client"	/* client_credentials: no user */

/* gh_auth.c */
int			 gh_auth_setup(int need_signing_key);
void			 gh_auth_free(void);
const struct gh_keyset	*gh_auth_keys(void);
const char		*gh_auth_issuer(void);
const char		*gh_auth_audience(void);
long long		 gh_auth_access_ttl(void);
long			 gh_auth_dpop_window(void);
int			 gh_auth_verify(struct gh_req *);
int			 gh_auth_require(struct gh_req *, const char *role);
const struct gh_claims	*gh_auth_user(const struct gh_req *);
int			 gh_auth_is_admin(const struct gh_req *);

#endif
