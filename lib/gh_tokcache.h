/*
 * Verified access tokens, kept per worker.  An ES256 verification is
 * about nine tenths of what an authenticated read costs a worker
 * (callgrind: 0.95 of 1.05 million instructions), and a client sends
 * the same token with every request until it expires; so a worker keeps
 * the claims of the tokens it verified, keyed by the SHA-256 of the
 * whole token, and the next request with the same token skips the
 * signature and the JSON.
 *
 * The answers are those of gh_token_verify: only a token that verified
 * is kept, with the keys, issuer and audience it verified against (a
 * call with others empties the cache first); a kept token is used only
 * while now < exp, and its nbf and iat are checked against now as a
 * full verification would; anything else is verified in full, which
 * then says why it fails.  What comes after a verification (a DPoP-bound
 * token's proof, the revocation list, roles) is the caller's, on every
 * request, cached or not.
 *
 * Bounded: at most GH_TOKCACHE_MAX entries, the size given at init; a
 * full cache gives the slot of an expired token, or else of the least
 * recently used one.  Slots are given out in order and only those are
 * ever read or cleared, so a worker's idle pages stay untouched and a
 * lookup looks at the tokens it has, not at the size.  Not thread-safe:
 * one per worker.
 */
#ifndef GH_TOKCACHE_H
#define GH_TOKCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "gh_token.h"

#define GH_TOKCACHE_MAX		1024	/* entries */
#define GH_TOKCACHE_DEFAULT	64

struct gh_tokcache_entry {
	unsigned char	 hash[32];	/* SHA-256 of the token */
	uint64_t	 used;		/* tick of the last use; 0: empty */
	struct gh_claims claims;
};

struct gh_tokcache {
	size_t			 size;		/* 0: nothing is kept */
	size_t			 inuse;		/* slots given out, 0..size */
	uint64_t		 tick;
	const struct gh_keyset	*ks;		/* what the entries were */
	char			 iss[256];	/* verified against */
	char			 aud[256];
	unsigned long		 hits, misses;
	struct gh_tokcache_entry slot[GH_TOKCACHE_MAX];
};

/* gh_tokcache.c */
void	 gh_tokcache_init(struct gh_tokcache *, size_t size);
void	 gh_tokcache_clear(struct gh_tokcache *);
int	 gh_tokcache_verify(struct gh_tokcache *, const struct gh_keyset *,
	    const char *jwt, const char *iss, const char *aud, time_t now,
	    long leeway_s, struct gh_claims *out, const char **why);
void	 gh_tokcache_forget(struct gh_tokcache *, const char *jwt);

#endif
