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
 */
#ifndef GH_GRANT_H
#define GH_GRANT_H

struct gh_req;

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
 * 0 when the request carries a good grant for purpose for its verified
 * user and session; otherwise answers 403, saying why, and returns -1.
 */
int		 gh_grant_require(struct gh_req *, const char *purpose);

#endif
