/*
 * Grants: proof that the user typed their password moments ago, for an
 * action that a stolen access token alone must not do.  Deleting all of
 * one's media is one: the media service cannot check a password (the
 * users live in auth's database), so auth checks it
 * (POST /api/v1/auth/me/password/verify) and answers a grant, which the
 * client sends to media in the Gatehouse-Grant header.
 *
 * A grant is an ES256 JWT made with the access tokens' keys, but for an
 * audience of its own, "<GH_JWT_AUDIENCE>/grant/<purpose>": no service
 * takes it as an access token, no access token passes as a grant, and a
 * grant for one purpose is no grant for another.  It names the user and
 * the session of the access token it was asked with, and is good for
 * GH_GRANT_TTL seconds (300): it goes with that session, ended or
 * revoked, and is refused with any other token.
 *
 * A grant works once: the service that takes it spends it, writing its
 * jti in its table used_grants in the transaction of the action, so a
 * grant stolen or logged on its way does nothing a second time, and an
 * action that fails leaves it good.  A service that takes grants has
 * that table (as sql/media/009_used_grants.sql), calls gh_grant_require
 * before any work and gh_grant_spend in the action's transaction, and
 * its sweep removes the rows whose expires_at has passed.
 */
#ifndef GH_GRANT_H
#define GH_GRANT_H

struct gh_req;

/* A grant gh_grant_require accepted, for gh_grant_spend. */
struct gh_grant {
	const char	*purpose;	/* the caller's string */
	char		 jti[64];
	long long	 exp;
};

#define GH_GRANT_HEADER		"Gatehouse-Grant"
#define GH_GRANT_DELETE_MEDIA	"delete_media"

/*
 * For the verified user of req (gh_auth_require first): a grant for
 * purpose in *jwt (the arena's) and its lifetime in *ttl; -1 answered.
 * Needs the signing key (the auth service).
 */
int		 gh_grant_make(struct gh_req *, const char *purpose,
		    char **jwt, long long *ttl);

/*
 * 0 with *g filled when the request carries a good grant for purpose for
 * its verified user and session; otherwise answers 403, saying why, and
 * returns -1.  Needs no database: call it before any work.
 */
int		 gh_grant_require(struct gh_req *, const char *purpose,
		    struct gh_grant *g);

/*
 * Spends g in the request's transaction (begun here if the caller has
 * not; the caller commits it with the action): 0, or -1 answered, 403
 * when the grant was spent already (by a request that committed).  Needs
 * the service's used_grants table.
 */
int		 gh_grant_spend(struct gh_req *, const struct gh_grant *g);

#endif
