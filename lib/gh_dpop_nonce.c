#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gh_arena.h"
#include "gh_config.h"
#include "gh_crypto.h"
#include "gh_dpop.h"
#include "gh_log.h"
#include "gh_req.h"

#define NONCE_MAC_BYTES	18	/* 144 bits: 24 base64url characters */
#define NONCE_KEY_MIN	32	/* bytes of a line of the key file */

/*
 * Server-provided nonces (RFC 9449 8 and 9), without state: a nonce is
 * the number of a time slot and a MAC over it, so that any worker on
 * any host that holds the key can check one another made, and none has
 * to remember what it gave out.  The MAC also names the server (the
 * token endpoint, or one service) so that a nonce is accepted only by
 * the server that gave it (RFC 9449 9).
 */
static struct gh_dpop_nonces	 worker;

/* The MAC of slot for scope with one key, base64url, into out. */
static int
nonce_mac(const unsigned char key[32], const char *scope, long long slot,
    char out[32])
{
	unsigned char	 md[32];
	char		 msg[128], *s;
	struct gh_arena	 a;
	int		 n, rc = -1;

	n = snprintf(msg, sizeof(msg), "gatehouse dpop nonce\n%s\n%lld",
	    scope, slot);
	if (n < 0 || (size_t)n >= sizeof(msg) ||
	    gh_hmac_sha256(key, 32, msg, (size_t)n, md) != 0)
		return -1;
	gh_arena_init(&a);
	if ((s = gh_b64url_encode(&a, md, NONCE_MAC_BYTES)) != NULL &&
	    strlen(s) < 32) {
		memcpy(out, s, strlen(s) + 1);
		rc = 0;
	}
	gh_arena_free(&a);
	gh_wipe(md, sizeof(md));
	return rc;
}

/*
 * The nonce of now's slot, "<slot>.<mac>", with the first key: 0, or
 * -1 when nonces are off or on failure.
 */
int
gh_dpop_nonce_make(const struct gh_dpop_nonces *nk, const char *scope,
    time_t now, char out[GH_DPOP_NONCE_MAX + 1])
{
	char		 mac[32];
	long long	 slot;
	int		 n;

	if (!nk->on || nk->nkeys < 1 || nk->slot < 1 || now < 0)
		return -1;
	slot = (long long)now / nk->slot;
	if (nonce_mac(nk->key[0], scope, slot, mac) != 0)
		return -1;
	n = snprintf(out, GH_DPOP_NONCE_MAX + 1, "%lld.%s", slot, mac);
	return n < 0 || n > GH_DPOP_NONCE_MAX ? -1 : 0;
}

/*
 * Whether nonce is one of ours for scope, of now's slot or the one
 * before (so a nonce lives one to two slots), under any key.  Compared
 * whole with the nonce we would have made, so that only the very text
 * we gave out passes (RFC 9449 8: "exactly").
 */
int
gh_dpop_nonce_valid(const struct gh_dpop_nonces *nk, const char *scope,
    const char *nonce, time_t now)
{
	char		 want[GH_DPOP_NONCE_MAX + 1], mac[32];
	long long	 slot, cur;
	size_t		 len;
	int		 i, j, n, ok = 0;

	if (!nk->on || nonce == NULL || nk->slot < 1 || now < 0 ||
	    (len = strnlen(nonce, GH_DPOP_NONCE_MAX + 1)) > GH_DPOP_NONCE_MAX)
		return 0;
	cur = (long long)now / nk->slot;
	for (j = 0; j < 2; j++) {
		slot = cur - j;
		for (i = 0; i < nk->nkeys; i++) {
			if (nonce_mac(nk->key[i], scope, slot, mac) != 0)
				return 0;
			n = snprintf(want, sizeof(want), "%lld.%s", slot, mac);
			if (n < 0 || (size_t)n >= sizeof(want))
				return 0;
			if ((size_t)n == len && gh_ct_equal(want, nonce, len))
				ok = 1;
		}
	}
	return ok;
}

/*
 * The key file: one secret a line, at least 32 bytes each; the first
 * makes nonces and every one checks them, so that a new key can go
 * first on every host while the old one, second, still accepts what
 * hosts not yet restarted give out.  Each line is hashed to the key.
 */
static int
keys_parse(struct gh_dpop_nonces *nk, const char *s, size_t len)
{
	const char	*p = s, *end = s + len, *nl;
	size_t		 n;

	nk->nkeys = 0;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 0) {
			if (n < NONCE_KEY_MIN ||
			    nk->nkeys == GH_DPOP_NONCE_KEYS)
				return -1;
			if (gh_sha256(p, n, nk->key[nk->nkeys]) != 0)
				return -1;
			nk->nkeys++;
		}
		p = nl + 1;
	}
	return nk->nkeys > 0 ? 0 : -1;
}

/*
 * GH_DPOP_NONCE (off unless set), GH_DPOP_NONCE_SLOT and the key file
 * GH_DPOP_NONCE_KEY_FILE, which every host of the services shares.
 */
int
gh_dpop_nonce_setup(void)
{
	long long	 slot;
	size_t		 len;
	char		*s;
	int		 on, rc;

	memset(&worker, 0, sizeof(worker));
	if (gh_config_bool("GH_DPOP_NONCE", 0, &on) != 0 ||
	    gh_config_int("GH_DPOP_NONCE_SLOT", 300, 30, 3600, &slot) != 0)
		return -1;
	if (!on)
		return 0;
	if ((s = gh_config_secret("GH_DPOP_NONCE_KEY", &len)) == NULL) {
		gh_log_errx("config", "GH_DPOP_NONCE is on: "
		    "GH_DPOP_NONCE_KEY_FILE must name a readable key file, "
		    "the same on every host");
		return -1;
	}
	rc = keys_parse(&worker, s, len);
	gh_wipe(s, len);
	free(s);
	if (rc != 0) {
		memset(&worker, 0, sizeof(worker));
		gh_log_errx("config", "GH_DPOP_NONCE_KEY_FILE: one or two "
		    "lines of at least %d bytes each (openssl rand -hex 32)",
		    NONCE_KEY_MIN);
		return -1;
	}
	worker.slot = (long)slot;
	worker.on = 1;
	return 0;
}

const struct gh_dpop_nonces *
gh_dpop_nonces(void)
{
	return &worker;
}

/*
 * At a server that asks for nonces: the proof p must carry one of ours
 * for scope.  Either way a fresh nonce goes out in DPoP-Nonce (RFC 9449
 * 8.2: on success too, so that a client rarely needs the extra round
 * trip).  0 fine (or nonces off); -1 with *why, for the caller to
 * answer use_dpop_nonce in its own form; -2 having answered.
 */
int
gh_dpop_nonce_require(struct gh_req *req, const char *scope,
    const struct gh_dpop *p, const char **why)
{
	char	 fresh[GH_DPOP_NONCE_MAX + 1];
	time_t	 now = time(NULL);

	if (!worker.on)
		return 0;
	if (gh_dpop_nonce_make(&worker, scope, now, fresh) != 0 ||
	    gh_header(req, "DPoP-Nonce", fresh) != 0) {
		gh_problem(req, 500, "internal error");
		return -2;
	}
	if (p->nonce[0] == '\0') {
		*why = "a nonce is required in the DPoP proof (DPoP-Nonce)";
		return -1;
	}
	if (!gh_dpop_nonce_valid(&worker, scope, p->nonce, now)) {
		*why = "the DPoP proof's nonce is not a current one of this "
		    "server: use the one in DPoP-Nonce";
		return -1;
	}
	return 0;
}
