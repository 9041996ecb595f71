/*
 * token_bench: the cost of one access-token signature and verification
 * with the keys in a folder, and of one argon2id hash at the configured
 * settings (GH_ARGON2_*): what a sign-in costs a worker; and of one
 * DPoP proof's check (gh_dpop_check, no database), with its key parsed
 * anew each time (as before workers kept keys) and kept.  Run by
 * `make bench`; a measurement, never a test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "gatehouse.h"

#define HTU	"https://localhost/api/v1/auth/oauth/userinfo"

static double
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* base64url of a C string, from the arena. */
static char *
b64s(struct gh_arena *a, const char *s)
{
	return s == NULL ? NULL : gh_b64url_encode(a, s, strlen(s));
}

/* A proof for GET HTU with token, as a client signs it, by a new key. */
static char *
proof_make(struct gh_arena *a, const char *token)
{
	unsigned char	 x[32], y[32], der[80], raw[64];
	const unsigned char *dp = der;
	size_t		 derlen = sizeof(der);
	EVP_PKEY	*k;
	EVP_MD_CTX	*md = NULL;
	ECDSA_SIG	*sig = NULL;
	BIGNUM		*bx = NULL, *by = NULL;
	const BIGNUM	*r, *s;
	char		*hdr, *pay, *input, *out = NULL;

	if ((k = EVP_EC_gen("P-256")) == NULL ||
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &bx) != 1 ||
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &by) != 1 ||
	    BN_bn2binpad(bx, x, 32) != 32 || BN_bn2binpad(by, y, 32) != 32)
		goto done;
	hdr = gh_printf(a, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":"
	    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}}",
	    gh_b64url_encode(a, x, 32), gh_b64url_encode(a, y, 32));
	pay = gh_printf(a, "{\"htm\":\"GET\",\"htu\":\"%s\",\"iat\":%lld,"
	    "\"jti\":\"bench-1\",\"ath\":\"%s\"}", HTU, (long long)time(NULL),
	    gh_dpop_ath(a, token));
	if ((input = gh_printf(a, "%s.%s", b64s(a, hdr), b64s(a, pay))) == NULL ||
	    (md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k) != 1 ||
	    EVP_DigestSign(md, der, &derlen, (const unsigned char *)input,
	    strlen(input)) != 1 ||
	    (sig = d2i_ECDSA_SIG(NULL, &dp, (long)derlen)) == NULL)
		goto done;
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, raw, 32) != 32 || BN_bn2binpad(s, raw + 32, 32) != 32)
		goto done;
	out = gh_printf(a, "%s.%s", input, gh_b64url_encode(a, raw,
	    sizeof(raw)));
done:
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
	BN_free(bx);
	BN_free(by);
	EVP_PKEY_free(k);
	return out;
}

int
main(int argc, char *argv[])
{
	struct gh_keyset *ks;
	struct gh_arena	 a;
	struct gh_claims c, out;
	struct gh_argon2 p;
	struct gh_dpop	 dp;
	const char	*why;
	char		 err[256], hash[256], *jwt = NULL, *proof;
	double		 t0, sign_us, verify_us, hash_ms, check_ms;
	double		 dpop_cold_us, dpop_kept_us;
	int		 i, n = 2000, m = 5;

	if (argc != 2) {
		fprintf(stderr, "usage: token_bench KEYDIR\n");
		return 2;
	}
	if (gh_keyset_load(argv[1], &ks, err, sizeof(err)) != 0) {
		fprintf(stderr, "token_bench: %s\n", err);
		return 1;
	}
	if (gh_argon2_from_env(&p) != 0)
		return 1;
	gh_arena_init(&a);
	memset(&c, 0, sizeof(c));
	snprintf(c.sub, sizeof(c.sub), "6f1c1c5e-2d7b-4f7e-9a39-3f1b1d2c9e10");
	snprintf(c.role, sizeof(c.role), "user");
	snprintf(c.jti, sizeof(c.jti), "bench");
	snprintf(c.sid, sizeof(c.sid), "0b8f6f0e-0d35-4a3c-8d7e-6c0f5b1c2a11");
	c.iat = time(NULL);
	c.exp = c.iat + 900;
	t0 = now_us();
	for (i = 0; i < n; i++) {
		gh_arena_reset(&a);
		if (gh_token_sign(ks, "gatehouse", "gatehouse-api", &c, &a,
		    &jwt) != 0)
			return 1;
	}
	sign_us = (now_us() - t0) / n;
	t0 = now_us();
	for (i = 0; i < n; i++)
		if (gh_token_verify(ks, jwt, "gatehouse", "gatehouse-api",
		    time(NULL), 30, &out, &why) != 0) {
			fprintf(stderr, "token_bench: %s\n", why);
			return 1;
		}
	verify_us = (now_us() - t0) / n;
	if ((proof = proof_make(&a, jwt)) == NULL) {
		fprintf(stderr, "token_bench: cannot make a DPoP proof\n");
		return 1;
	}
	t0 = now_us();
	for (i = 0; i < n; i++) {
		gh_dpop_cache_clear();
		if (gh_dpop_check(proof, "GET", HTU, jwt, time(NULL), 60, &dp,
		    &why) != 0) {
			fprintf(stderr, "token_bench: %s\n", why);
			return 1;
		}
	}
	dpop_cold_us = (now_us() - t0) / n;
	t0 = now_us();
	for (i = 0; i < n; i++)
		if (gh_dpop_check(proof, "GET", HTU, jwt, time(NULL), 60, &dp,
		    &why) != 0) {
			fprintf(stderr, "token_bench: %s\n", why);
			return 1;
		}
	dpop_kept_us = (now_us() - t0) / n;
	gh_dpop_cache_clear();
	t0 = now_us();
	for (i = 0; i < m; i++)
		if (gh_password_hash(&p, "correct horse battery", 21, hash,
		    sizeof(hash)) != 0)
			return 1;
	hash_ms = (now_us() - t0) / m / 1e3;
	t0 = now_us();
	for (i = 0; i < m; i++)
		if (gh_password_verify(hash, "correct horse battery", 21) != 0)
			return 1;
	check_ms = (now_us() - t0) / m / 1e3;
	printf("{\"sign_us\":%.1f,\"verify_us\":%.1f,\"argon2_hash_ms\":%.1f,"
	    "\"argon2_verify_ms\":%.1f,\"argon2\":\"m=%u,t=%u,p=%u\","
	    "\"dpop_check_parsed_us\":%.1f,\"dpop_check_kept_us\":%.1f}\n",
	    sign_us, verify_us, hash_ms, check_ms, p.m_cost_kib, p.t_cost,
	    p.parallelism, dpop_cold_us, dpop_kept_us);
	gh_arena_free(&a);
	gh_keyset_free(ks);
	return 0;
}
