#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "gatehouse.h"
#include "fuzz_keys.h"

/* The P-256 key whose private scalar is SHA-256 of seed. */
EVP_PKEY *
fuzz_p256_key(const char *seed)
{
	unsigned char	 d[32], pub[65];
	EVP_PKEY	*pkey = NULL;
	EVP_PKEY_CTX	*ctx = NULL;
	OSSL_PARAM_BLD	*bld = NULL;
	OSSL_PARAM	*params = NULL;
	EC_GROUP	*g = NULL;
	EC_POINT	*pt = NULL;
	BIGNUM		*priv = NULL;

	if (gh_sha256(seed, strlen(seed), d) != 0 ||
	    (priv = BN_bin2bn(d, sizeof(d), NULL)) == NULL ||
	    (g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) == NULL ||
	    (pt = EC_POINT_new(g)) == NULL ||
	    EC_POINT_mul(g, pt, priv, NULL, NULL, NULL) != 1 ||
	    EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, pub,
	    sizeof(pub), NULL) != sizeof(pub) ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "prime256v1", 0) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    pub, sizeof(pub)) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1) {
		fprintf(stderr, "%s: cannot make the key of %s\n", __func__,
		    seed);
		abort();
	}
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EC_POINT_free(pt);
	EC_GROUP_free(g);
	BN_free(priv);
	return pkey;
}

/* ES256 over input with k: the JWS signature, r || s in base64url. */
char *
fuzz_es256(struct gh_arena *a, EVP_PKEY *k, const char *input)
{
	unsigned char	 der[80], raw[64];
	const unsigned char *p = der;
	size_t		 derlen = sizeof(der);
	EVP_MD_CTX	*md;
	ECDSA_SIG	*sig;
	const BIGNUM	*r, *s;

	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k) != 1 ||
	    EVP_DigestSign(md, der, &derlen, (const unsigned char *)input,
	    strlen(input)) != 1 ||
	    (sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL)
		abort();
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, raw, 32) != 32 ||
	    BN_bn2binpad(s, raw + 32, 32) != 32)
		abort();
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
	return gh_b64url_encode(a, raw, sizeof(raw));
}

char *
fuzz_b64(struct gh_arena *a, const char *s)
{
	return gh_b64url_encode(a, s, strlen(s));
}
