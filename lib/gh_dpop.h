/*
 * DPoP proofs (RFC 9449): a client proves, request by request, that it
 * holds the private key its tokens are bound to.  A proof is a JWS with
 * typ dpop+jwt whose header carries the public key (jwk) and whose
 * payload names the request (htm, htu), when it was made (iat), a
 * unique id (jti) and, at a resource, the hash of the access token
 * (ath).  The key is named by its RFC 7638 thumbprint, the "jkt" that a
 * bound token carries in cnf.jkt.
 *
 * gh_dpop_check is pure (no clock, no database): it checks one proof
 * against one request.  gh_dpop_fresh then refuses a proof seen before,
 * in the service's own database, so that every worker of every host
 * agrees: a table per database (dpop_proofs, unlogged), one INSERT per
 * proof.
 */
#ifndef GH_DPOP_H
#define GH_DPOP_H

#include <time.h>

struct gh_arena;
struct gh_req;

#define GH_DPOP_MAX		4096	/* longer proofs are refused unread */
#define GH_DPOP_JKT_LEN		43	/* base64url of a SHA-256 */
#define GH_DPOP_JTI_MAX		256
#define GH_DPOP_ALGS		"ES256"	/* the one algorithm accepted */
#define GH_DPOP_NONCE_MAX	128	/* a proof's nonce claim, at most */
#define GH_DPOP_NONCE_KEYS	2	/* the current key and the previous */

struct gh_dpop {
	char		 jkt[GH_DPOP_JKT_LEN + 1];
	char		 replay_key[65];	/* hex SHA-256 of jkt, htu, jti */
	long long	 iat;
	long long	 expires;		/* iat + window: kept till then */
	char		 nonce[GH_DPOP_NONCE_MAX + 1];	/* "" when none */
};

/*
 * Server-provided nonces (RFC 9449 8, 9), when GH_DPOP_NONCE is on:
 * "<slot>.<MAC of the slot and the server's scope>", checked by any
 * worker of any host that shares the key file, for now's slot and the
 * one before.  The scope names the server: "token" for the token
 * endpoint, the service's name at a resource.
 */
struct gh_dpop_nonces {
	int		 on;
	long		 slot;			/* seconds */
	int		 nkeys;			/* key[0] makes, all check */
	unsigned char	 key[GH_DPOP_NONCE_KEYS][32];
};

/*
 * gh_dpop_check: 0 with out filled, or -1 with out zeroed and *why a
 * short reason safe to show a client.  htu is the URI the request was
 * sent to, without query; the proof's is compared without its query and
 * fragment, scheme and host in any case, :443 implied.  access_token is
 * the token sent with the proof at a resource (its hash must be the
 * proof's ath), NULL at the token endpoint.  iat must lie within window
 * seconds of now, either side (clamped to 1..3600).  A nonce claim, when
 * there is one, must be 1..128 characters of RFC 9449 8.1's NQCHAR; it
 * is copied to out->nonce for the caller to judge (gh_dpop_nonce_require).
 */

/* gh_dpop.c */
int	 gh_dpop_check(const char *proof, const char *htm, const char *htu,
	    const char *access_token, time_t now, long window,
	    struct gh_dpop *out, const char **why);
int	 gh_dpop_htu_match(const char *claim, const char *want);
char	*gh_dpop_ath(struct gh_arena *, const char *access_token);
int	 gh_dpop_fresh(struct gh_req *, const struct gh_dpop *);
void	 gh_dpop_cache_clear(void);

/* gh_dpop_nonce.c */
int	 gh_dpop_nonce_setup(void);
const struct gh_dpop_nonces *gh_dpop_nonces(void);
int	 gh_dpop_nonce_make(const struct gh_dpop_nonces *, const char *scope,
	    time_t now, char out[GH_DPOP_NONCE_MAX + 1]);
int	 gh_dpop_nonce_valid(const struct gh_dpop_nonces *, const char *scope,
	    const char *nonce, time_t now);
int	 gh_dpop_nonce_require(struct gh_req *, const char *scope,
	    const struct gh_dpop *, const char **why);

#endif
