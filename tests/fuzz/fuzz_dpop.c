/*
 * DPoP proofs: gh_dpop_check for POST HTU at NOW, with a 60 s window,
 * and gh_dpop_htu_match.  An input is taken as:
 *
 *	header JSON "\n" payload JSON	encoded and signed here with a
 *					fixed P-256 key (its public jwk is
 *					in the seeds), so that the claim
 *					checks behind the signature are
 *					reached;
 *	anything else			a proof, checked as it is, and
 *					then an htu against HTU.
 *
 * GH_FUZZ_DPOP_SEEDS=dir writes the seeds of corpus/dpop into dir and
 * exits; GH_FUZZ_VERBOSE prints each verdict.
 */
#include <errno.h>
#include <stdlib.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "gatehouse.h"
#include "fuzz.h"
#include "fuzz_keys.h"

#define HTU		"https://id.example.test/api/v1/auth/oauth/token"
#define NOW		1700000000LL
#define WINDOW		60
#define TOKEN		"an-access-token"

static EVP_PKEY		*signer;
static char		 signer_jkt[GH_DPOP_JKT_LEN + 1];
static int		 verbose;

/* What gh_dpop_check promises of its answer, either way. */
static int
check(const char *proof, const char *token, int ours)
{
	static const struct gh_dpop zero;
	struct gh_dpop	 p;
	const char	*why = "unset";
	int		 rc;

	rc = gh_dpop_check(proof, "POST", HTU, token, NOW, WINDOW, &p, &why);
	if (verbose)
		fprintf(stderr, "check: %s\n", rc == 0 ? "ok" : why);
	if (rc != 0) {
		FUZZ_CHECK(rc == -1);
		FUZZ_CHECK(why != NULL && *why != '\0');
		FUZZ_CHECK(memcmp(&p, &zero, sizeof(p)) == 0);
		return rc;
	}
	FUZZ_CHECK(why == NULL);
	FUZZ_CHECK(strlen(p.jkt) == GH_DPOP_JKT_LEN);
	FUZZ_CHECK(strlen(p.replay_key) == 64);
	FUZZ_CHECK(p.iat >= NOW - WINDOW && p.iat <= NOW + WINDOW);
	FUZZ_CHECK(p.expires == p.iat + WINDOW);
	/* Signed by our key: the thumbprint can only be its own. */
	if (ours)
		FUZZ_CHECK(strcmp(p.jkt, signer_jkt) == 0);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gh_arena	 a;
	char		*s, *nl, *input, *proof;

	gh_arena_init(&a);
	s = fuzz_str(data, size);
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		input = gh_printf(&a, "%s.%s", fuzz_b64(&a, s),
		    fuzz_b64(&a, nl + 1));
		proof = gh_printf(&a, "%s.%s", input,
		    fuzz_es256(&a, signer, input));
		(void)check(proof, NULL, 1);
		(void)check(proof, TOKEN, 1);
	} else {
		(void)check(s, NULL, 0);
		(void)gh_dpop_htu_match(s, HTU);
		(void)gh_dpop_htu_match(HTU, s);
		FUZZ_CHECK(!gh_dpop_htu_match(s, "") && !gh_dpop_htu_match("",
		    s));
	}
	free(s);
	gh_arena_free(&a);
	return 0;
}

static void
seed(const char *dir, const char *name, const char *text)
{
	char	 path[512];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "w")) == NULL || fputs(text, fp) == EOF ||
	    fclose(fp) != 0) {
		fprintf(stderr, "%s: %s: %s\n", __func__, path,
		    strerror(errno));
		exit(1);
	}
}

/* The signer's public jwk, as a JSON object's text. */
static char *
signer_jwk(struct gh_arena *a, int with_d)
{
	unsigned char	 x[32], y[32], d[32];
	BIGNUM		*bx = NULL, *by = NULL, *bd = NULL;

	if (EVP_PKEY_get_bn_param(signer, OSSL_PKEY_PARAM_EC_PUB_X, &bx) != 1 ||
	    EVP_PKEY_get_bn_param(signer, OSSL_PKEY_PARAM_EC_PUB_Y, &by) != 1 ||
	    EVP_PKEY_get_bn_param(signer, OSSL_PKEY_PARAM_PRIV_KEY, &bd) != 1 ||
	    BN_bn2binpad(bx, x, 32) != 32 || BN_bn2binpad(by, y, 32) != 32 ||
	    BN_bn2binpad(bd, d, 32) != 32)
		abort();
	BN_free(bx);
	BN_free(by);
	BN_clear_free(bd);
	return gh_printf(a, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\","
	    "\"y\":\"%s\"%s%s%s}", gh_b64url_encode(a, x, 32),
	    gh_b64url_encode(a, y, 32), with_d ? ",\"d\":\"" : "",
	    with_d ? gh_b64url_encode(a, d, 32) : "", with_d ? "\"" : "");
}

static void
seeds(const char *dir)
{
	struct gh_arena	 a;
	const char	*jwk, *pay, *input;

	gh_arena_init(&a);
	jwk = signer_jwk(&a, 0);
	pay = gh_printf(&a, "{\"htm\":\"POST\",\"htu\":\"%s\",\"iat\":%lld,"
	    "\"jti\":\"j-1\"}", HTU, NOW);
	seed(dir, "sign-ok", gh_printf(&a, "{\"typ\":\"dpop+jwt\",\"alg\":"
	    "\"ES256\",\"jwk\":%s}\n%s", jwk, pay));
	seed(dir, "sign-ath", gh_printf(&a, "{\"typ\":\"dpop+jwt\",\"alg\":"
	    "\"ES256\",\"jwk\":%s}\n{\"htm\":\"POST\",\"htu\":\"%s?q#f\","
	    "\"iat\":%lld.5,\"jti\":\"j-2\",\"ath\":\"%s\"}", jwk, HTU, NOW,
	    gh_dpop_ath(&a, TOKEN)));
	seed(dir, "sign-private-jwk", gh_printf(&a, "{\"typ\":\"dpop+jwt\","
	    "\"alg\":\"ES256\",\"jwk\":%s}\n%s", signer_jwk(&a, 1), pay));
	seed(dir, "sign-typ-jwt", gh_printf(&a, "{\"typ\":\"JWT\",\"alg\":"
	    "\"ES256\",\"jwk\":%s}\n%s", jwk, pay));
	seed(dir, "sign-crit", gh_printf(&a, "{\"typ\":\"dpop+jwt\",\"alg\":"
	    "\"ES256\",\"crit\":[\"x\"],\"jwk\":%s}\n%s", jwk, pay));
	seed(dir, "sign-nonce", gh_printf(&a, "{\"typ\":\"dpop+jwt\",\"alg\":"
	    "\"ES256\",\"jwk\":%s}\n{\"htm\":\"POST\",\"htu\":\"%s\","
	    "\"iat\":%lld,\"jti\":\"j-3\",\"nonce\":\"5666666.n0nce_-~\"}", jwk,
	    HTU, NOW));
	seed(dir, "sign-nonce-quote", gh_printf(&a, "{\"typ\":\"dpop+jwt\","
	    "\"alg\":\"ES256\",\"jwk\":%s}\n{\"htm\":\"POST\",\"htu\":\"%s\","
	    "\"iat\":%lld,\"jti\":\"j-4\",\"nonce\":\"a\\\"b\"}", jwk, HTU,
	    NOW));
	seed(dir, "sign-stale", gh_printf(&a, "{\"typ\":\"dpop+jwt\",\"alg\":"
	    "\"ES256\",\"jwk\":%s}\n{\"htm\":\"POST\",\"htu\":\"%s\","
	    "\"iat\":1e308,\"jti\":\"j\"}", jwk, HTU));
	input = gh_printf(&a, "%s.%s", fuzz_b64(&a, gh_printf(&a, "{\"typ\":"
	    "\"dpop+jwt\",\"alg\":\"none\",\"jwk\":%s}", jwk)),
	    fuzz_b64(&a, pay));
	seed(dir, "proof-alg-none", gh_printf(&a, "%s.", input));
	seed(dir, "proof-two", gh_printf(&a, "%s.AA, %s.AA", input, input));
	seed(dir, "htu-userinfo", "https://user@ID.example.test:443/api/v1/auth/"
	    "oauth/token?x#y");
	gh_arena_free(&a);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct gh_arena	 a;
	struct gh_dpop	 p;
	const char	*dir, *why, *input, *proof;

	signer = fuzz_p256_key("gatehouse fuzz dpop key");
	verbose = getenv("GH_FUZZ_VERBOSE") != NULL;
	/* The signer's thumbprint, as the parser finds it in a good proof. */
	gh_arena_init(&a);
	input = gh_printf(&a, "%s.%s", fuzz_b64(&a, gh_printf(&a, "{\"typ\":"
	    "\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":%s}", signer_jwk(&a, 0))),
	    fuzz_b64(&a, gh_printf(&a, "{\"htm\":\"POST\",\"htu\":\"%s\","
	    "\"iat\":%lld,\"jti\":\"j\"}", HTU, NOW)));
	proof = gh_printf(&a, "%s.%s", input,
	    fuzz_es256(&a, signer, input));
	if (gh_dpop_check(proof, "POST", HTU, NULL, NOW, WINDOW, &p,
	    &why) != 0) {
		fprintf(stderr, "%s: the good proof fails: %s\n", __func__, why);
		abort();
	}
	memcpy(signer_jkt, p.jkt, sizeof(signer_jkt));
	gh_arena_free(&a);
	if ((dir = getenv("GH_FUZZ_DPOP_SEEDS")) != NULL) {
		seeds(dir);
		exit(0);
	}
	return 0;
}
