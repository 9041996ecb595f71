#include <string.h>

#include "gh_crypto.h"
#include "gh_tokcache.h"

#define GH_LEEWAY_MAX	86400	/* gh_token_verify's clamp */

void
gh_tokcache_init(struct gh_tokcache *tc, size_t size)
{
	if (size > GH_TOKCACHE_MAX)
		size = GH_TOKCACHE_MAX;
	tc->size = size;
	tc->inuse = 0;
	tc->tick = 0;
	tc->ks = NULL;
	tc->iss[0] = tc->aud[0] = '\0';
}

/*
 * Empties the cache.  Whoever frees a keyset the cache has seen calls
 * it: a new set could be given the old one's address.  Only the slots
 * given out are touched (init touches none: slots past inuse are never
 * read), so that an idle worker's pages stay untouched.
 */
void
gh_tokcache_clear(struct gh_tokcache *tc)
{
	memset(tc->slot, 0, tc->inuse * sizeof(tc->slot[0]));
	tc->inuse = 0;
	tc->tick = 0;
	tc->ks = NULL;
	tc->iss[0] = tc->aud[0] = '\0';
}

/* The entries hold for one keyset, issuer and audience: 0 if others. */
static int
same_context(struct gh_tokcache *tc, const struct gh_keyset *ks,
    const char *iss, const char *aud)
{
	if (tc->ks == ks && strcmp(tc->iss, iss) == 0 &&
	    strcmp(tc->aud, aud) == 0)
		return 1;
	if (strlen(iss) >= sizeof(tc->iss) || strlen(aud) >= sizeof(tc->aud))
		return 0;
	gh_tokcache_clear(tc);
	tc->ks = ks;
	memcpy(tc->iss, iss, strlen(iss) + 1);
	memcpy(tc->aud, aud, strlen(aud) + 1);
	return 1;
}

static struct gh_tokcache_entry *
find(struct gh_tokcache *tc, const unsigned char hash[32])
{
	size_t	 i;

	for (i = 0; i < tc->inuse; i++)
		if (tc->slot[i].used != 0 &&
		    memcmp(tc->slot[i].hash, hash, 32) == 0)
			return &tc->slot[i];
	return NULL;
}

/*
 * What gh_token_verify checks against the clock, for claims it has
 * accepted before: nbf and iat (0 when absent) not past now + leeway.
 * exp is held to now itself, without the leeway: a token in its grace
 * after exp is verified in full, never served from here.
 */
static int
usable(const struct gh_claims *c, long long now, long leeway)
{
	return now < c->exp && c->nbf <= now + leeway &&
	    c->iat <= now + leeway;
}

/*
 * A slot for a new entry: an empty or expired one of those given out,
 * else the next one never used, else the least recently used.
 */
static struct gh_tokcache_entry *
victim(struct gh_tokcache *tc, long long now)
{
	struct gh_tokcache_entry *e, *lru = &tc->slot[0];
	size_t	 i;

	for (i = 0; i < tc->inuse; i++) {
		e = &tc->slot[i];
		if (e->used == 0 || e->claims.exp <= now)
			return e;
		if (e->used < lru->used)
			lru = e;
	}
	if (tc->inuse < tc->size)
		return &tc->slot[tc->inuse++];
	return lru;
}

/*
 * gh_token_verify, with what it verified before kept: the same return,
 * claims and reason.  A token too long to verify, a context too long to
 * keep, or a size of 0 go to gh_token_verify every time.
 */
int
gh_tokcache_verify(struct gh_tokcache *tc, const struct gh_keyset *ks,
    const char *jwt, const char *iss, const char *aud, time_t now,
    long leeway_s, struct gh_claims *out, const char **why)
{
	struct gh_tokcache_entry *e;
	unsigned char	 hash[32];
	long long	 t = (long long)now;
	long		 leeway;
	size_t		 len;

	if (tc->size == 0 || jwt == NULL || iss == NULL || aud == NULL ||
	    (len = strnlen(jwt, GH_TOKEN_MAX + 1)) > GH_TOKEN_MAX ||
	    !same_context(tc, ks, iss, aud) || gh_sha256(jwt, len, hash) != 0)
		return gh_token_verify(ks, jwt, iss, aud, now, leeway_s, out,
		    why);
	leeway = leeway_s < 0 ? 0 : leeway_s > GH_LEEWAY_MAX ?
	    GH_LEEWAY_MAX : leeway_s;
	if ((e = find(tc, hash)) != NULL && usable(&e->claims, t, leeway)) {
		*out = e->claims;
		if (why != NULL)
			*why = NULL;
		e->used = ++tc->tick;
		tc->hits++;
		return 0;
	}
	tc->misses++;
	if (gh_token_verify(ks, jwt, iss, aud, now, leeway_s, out, why) != 0) {
		if (e != NULL)
			e->used = 0;
		return -1;
	}
	if (!usable(out, t, leeway)) {
		if (e != NULL)
			e->used = 0;
		return 0;
	}
	if (e == NULL)
		e = victim(tc, t);
	memcpy(e->hash, hash, sizeof(hash));
	e->claims = *out;
	e->used = ++tc->tick;
	return 0;
}

/* Drops a token, if kept: one refused later on (its session ended). */
void
gh_tokcache_forget(struct gh_tokcache *tc, const char *jwt)
{
	struct gh_tokcache_entry *e;
	unsigned char	 hash[32];
	size_t		 len;

	if (tc->size == 0 || jwt == NULL ||
	    (len = strnlen(jwt, GH_TOKEN_MAX + 1)) > GH_TOKEN_MAX ||
	    gh_sha256(jwt, len, hash) != 0)
		return;
	if ((e = find(tc, hash)) != NULL)
		memset(e, 0, sizeof(*e));
}
