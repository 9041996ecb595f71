/*
 * JWT access tokens signed ES256 (RFC 7519, RFC 9068 "at+jwt"), made and
 * checked with OpenSSL directly: the verifier fixes the algorithm before
 * it looks at anything else, checks every claim itself, and keeps keys
 * parsed for the life of the worker.
 *
 * Keys live in one folder: <kid>.pem is a P-256 private key (PKCS#8,
 * mode 0600, made by gatehouse-keygen), <kid>.pub.pem a public key
 * (SubjectPublicKeyInfo) for services that only verify.  Kids sort by
 * time of making; the greatest private one signs, every one verifies.
 */
#ifndef GH_TOKEN_H
#define GH_TOKEN_H

#include <time.h>

#include <jansson.h>
#include <openssl/types.h>

struct gh_arena;
struct gh_keyset;

#define GH_KID_MAX	64		/* [A-Za-z0-9_-]{1,64} */
#define GH_TOKEN_MAX	8192		/* longer ones are refused unread */

/* A compact JWS taken apart by gh_jws_split; the parts are the arena's. */
struct gh_jws {
	unsigned char	*hdr, *pay, *sig;	/* decoded */
	size_t		 hlen, plen, slen;
	size_t		 signed_len;		/* of "header.payload" */
};
#define GH_JWS_TOO_LARGE	1
#define GH_JWS_MALFORMED	2

struct gh_claims {
	char		sub[64];	/* required, 1..63 chars */
	char		role[16];	/* required, 1..15 chars */
	char		jti[64];	/* required, 1..63 chars */
	char		sid[64];	/* session id; "" when absent */
	long long	iat;		/* required when signing */
	long long	nbf;		/* 0 when absent */
	long long	exp;		/* required */
	char		jkt[48];	/* cnf.jkt, the thumbprint of the DPoP
					   key the token is bound to; "" for
					   a bearer token */
};

/*
 * gh_keyset_load fills err with the file and the reason on failure.
 * gh_token_sign needs a private key in the set and sub, role, jti and
 * exp in the claims; the token is allocated from the arena.
 * gh_token_verify returns 0 with out filled, or -1 with out zeroed and
 * *why a short reason safe to show a client ("token expired", "bad
 * token signature", ...); leeway_s is clamped to 0..86400.  A token with
 * a cnf claim must bind it to a DPoP key (cnf.jkt, 43 characters): no
 * other confirmation method is honoured, so such a token is refused.  A keyset is
 * read-only after loading: share it, do not lock it.
 */

/* gh_token.c */
int		 gh_keyset_load(const char *dir, struct gh_keyset **out,
		    char *err, size_t errlen);
void		 gh_keyset_free(struct gh_keyset *);
const char	*gh_keyset_signing_kid(const struct gh_keyset *);
json_t		*gh_keyset_jwks(const struct gh_keyset *);
int		 gh_keyset_write_public(const struct gh_keyset *,
		    const char *dir, char *err, size_t errlen);
int		 gh_jws_sign(const struct gh_keyset *, const char *typ,
		    const json_t *claims, struct gh_arena *, char **jwt);
int		 gh_token_sign(const struct gh_keyset *, const char *iss,
		    const char *aud, const struct gh_claims *,
		    struct gh_arena *, char **jwt);
int		 gh_token_verify(const struct gh_keyset *, const char *jwt,
		    const char *iss, const char *aud, time_t now,
		    long leeway_s, struct gh_claims *out, const char **why);
int		 gh_es256_verify(EVP_PKEY *, const char *input, size_t len,
		    const unsigned char *sig, size_t siglen);
int		 gh_jws_split(struct gh_arena *, const char *jws, size_t max,
		    struct gh_jws *out);

#endif
