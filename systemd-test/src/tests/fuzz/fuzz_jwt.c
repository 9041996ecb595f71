/*
 * Bearer tokens: gh_token_verify against a fixed keyset of two P-256
 * keys, one that signs (kid fuzz-a) and one known only by its public
 * half (fuzz-b).  The keys are derived from fixed seeds, so that tokens
 * in the corpus keep verifying from run to run.  An input is taken as:
 *
 *	header JSON "\n" payload JSON	encoded and signed here with
 *					fuzz-a, so that the header and
 *					claim checks behind the signature
 *					are reached;
 *	part.part			signed as it stands (its own base64);
 *	anything else			a token, verified as it is.
 *
 * GH_FUZZ_JWT_SEEDS=dir writes the token seeds of corpus/jwt into dir
 * and exits, for when the corpus has to be made again; GH_FUZZ_VERBOSE
 * prints each verdict (run it on one file to see why a seed fails).
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "gatehouse.h"
#include "fuzz.h"

#define ISS		"https://auth.example.test"
#define AUD		"gatehouse"
#define NOW		1700000000LL
#define LEEWAY		60
#define KID_SIGN	"fuzz-a"
#define KID_OTHER	"fuzz-b"

static struct gh_keyset	*ks;
static EVP_PKEY		*signer, *other;
static int		 verbose;	/* GH_FUZZ_VERBOSE: say why */

/* The P-256 key whose private scalar is SHA-256 of seed. */
static EVP_PKEY *
p256_key(const char *seed)
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

static void
write_pem(const char *dir, const char *name, EVP_PKEY *k, int private)
{
	char	 path[256];
	BIO	*bio;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((bio = BIO_new_file(path, "w")) == NULL ||
	    (private ? PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL,
	    NULL) : PEM_write_bio_PUBKEY(bio, k)) != 1 ||
	    chmod(path, 0600) == -1) {
		fprintf(stderr, "%s: %s: cannot write\n", __func__, path);
		abort();
	}
	BIO_free(bio);
}

/* The keyset as a worker loads it, from a folder made for the purpose. */
static void
keyset_make(void)
{
	char	 dir[] = "/tmp/gh-fuzz-keys-XXXXXX", err[256], path[256];

	signer = p256_key("gatehouse fuzz key a");
	other = p256_key("gatehouse fuzz key b");
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "%s: mkdtemp: %s\n", __func__,
		    strerror(errno));
		abort();
	}
	write_pem(dir, KID_SIGN ".pem", signer, 1);
	write_pem(dir, KID_OTHER ".pub.pem", other, 0);
	if (gh_keyset_load(dir, &ks, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", __func__, err);
		abort();
	}
	snprintf(path, sizeof(path), "%s/%s", dir, KID_SIGN ".pem");
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", dir, KID_OTHER ".pub.pem");
	unlink(path);
	rmdir(dir);
}

/* ES256 over input with k: the JWS signature, r || s in base64url. */
static char *
es256(struct gh_arena *a, EVP_PKEY *k, const char *input)
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

static char *
b64(struct gh_arena *a, const char *s)
{
	return gh_b64url_encode(a, s, strlen(s));
}

/* What gh_token_verify promises of its answer, either way. */
static int
verify(const char *jwt)
{
	static const struct gh_claims zero;
	struct gh_claims c;
	const char	*why = "unset";
	int		 rc;

	rc = gh_token_verify(ks, jwt, ISS, AUD, NOW, LEEWAY, &c, &why);
	if (verbose)
		fprintf(stderr, "verify: %s\n", rc == 0 ? "ok" : why);
	if (rc != 0) {
		FUZZ_CHECK(rc == -1);
		FUZZ_CHECK(why != NULL && *why != '\0');
		FUZZ_CHECK(memcmp(&c, &zero, sizeof(c)) == 0);
		return rc;
	}
	FUZZ_CHECK(why == NULL);
	FUZZ_CHECK(c.exp > NOW - LEEWAY);
	FUZZ_CHECK(c.nbf <= NOW + LEEWAY && c.iat <= NOW + LEEWAY);
	FUZZ_CHECK(*c.sub != '\0' && strnlen(c.sub, sizeof(c.sub)) <
	    sizeof(c.sub));
	FUZZ_CHECK(*c.role != '\0' && strnlen(c.role, sizeof(c.role)) <
	    sizeof(c.role));
	FUZZ_CHECK(*c.jti != '\0' && strnlen(c.jti, sizeof(c.jti)) <
	    sizeof(c.jti));
	FUZZ_CHECK(strnlen(c.sid, sizeof(c.sid)) < sizeof(c.sid));
	return 0;
}

/* A token signed by fuzz-a verifies only under fuzz-a, with ES256. */
static void
signed_header(const char *header, int rc)
{
	json_t	*h;

	if (rc != 0)
		return;
	FUZZ_CHECK((h = json_loads(header, JSON_REJECT_DUPLICATES,
	    NULL)) != NULL);
	FUZZ_CHECK(strcmp(json_string_value(json_object_get(h, "alg")),
	    "ES256") == 0);
	FUZZ_CHECK(strcmp(json_string_value(json_object_get(h, "kid")),
	    KID_SIGN) == 0);
	json_decref(h);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gh_arena	 a;
	char		*s, *nl, *dot, *input, *jwt;

	gh_arena_init(&a);
	s = fuzz_str(data, size);
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		input = gh_printf(&a, "%s.%s", b64(&a, s), b64(&a, nl + 1));
		jwt = gh_printf(&a, "%s.%s", input, es256(&a, signer, input));
		signed_header(s, verify(jwt));
	} else if ((dot = strchr(s, '.')) != NULL &&
	    strchr(dot + 1, '.') == NULL) {
		jwt = gh_printf(&a, "%s.%s", s, es256(&a, signer, s));
		(void)verify(jwt);
	} else
		(void)verify(s);
	free(s);
	gh_arena_free(&a);
	return 0;
}

/* The token seeds: good tokens, and tokens bent the ways forgers bend. */
static void
seed(const char *dir, const char *name, const char *token)
{
	char	 path[512];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "w")) == NULL || fputs(token, fp) == EOF ||
	    fclose(fp) != 0) {
		fprintf(stderr, "%s: %s: %s\n", __func__, path,
		    strerror(errno));
		exit(1);
	}
}

static char *
token(struct gh_arena *a, const struct gh_claims *c)
{
	char	*jwt;

	if (gh_token_sign(ks, ISS, AUD, c, a, &jwt) != 0)
		abort();
	return jwt;
}

static void
seeds(const char *dir)
{
	static const char hdr[] =
	    "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"" KID_SIGN "\"}";
	struct gh_claims c = { "user-1", "user", "jti-1", "", NOW, 0,
	    NOW + 900 };
	struct gh_arena	 a;
	unsigned char	 mac[32], zero[64];
	char		*good, *input, *pay, *pem, *kid;
	BIO		*bio;
	long		 n;

	gh_arena_init(&a);
	good = token(&a, &c);
	seed(dir, "tok-valid", good);
	/* The payload part of a good token, for the bent ones. */
	pay = gh_strdup(&a, strchr(good, '.') + 1);
	*strchr(pay, '.') = '\0';

	strcpy(c.sid, "session-1");
	c.nbf = NOW - 10;
	seed(dir, "tok-valid-sid-nbf", token(&a, &c));
	c.exp = NOW - 3600;
	c.nbf = 0;
	seed(dir, "tok-expired", token(&a, &c));

	input = gh_printf(&a, "%s.%s",
	    b64(&a, "{\"alg\":\"none\",\"typ\":\"at+jwt\"}"), pay);
	seed(dir, "tok-alg-none", gh_printf(&a, "%s.", input));

	/* HS256 keyed with the public key's PEM: algorithm confusion. */
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PUBKEY(bio, signer) != 1 ||
	    (n = BIO_get_mem_data(bio, &pem)) <= 0)
		abort();
	input = gh_printf(&a, "%s.%s", b64(&a, "{\"alg\":\"HS256\",\"typ\":"
	    "\"at+jwt\",\"kid\":\"" KID_SIGN "\"}"), pay);
	if (gh_hmac_sha256(pem, (size_t)n, input, strlen(input), mac) != 0)
		abort();
	BIO_free(bio);
	seed(dir, "tok-hs256", gh_printf(&a, "%s.%s", input,
	    gh_b64url_encode(&a, mac, sizeof(mac))));

	input = gh_printf(&a, "%s.%s", b64(&a, hdr), pay);
	seed(dir, "tok-padded", gh_printf(&a, "%s.%s==", input,
	    es256(&a, signer, input)));
	seed(dir, "tok-std-alphabet", gh_printf(&a, "%s.%s+/.%s", b64(&a, hdr),
	    pay, es256(&a, signer, input)));
	seed(dir, "tok-four-parts", gh_printf(&a, "%s.e30", good));
	memset(zero, 0, sizeof(zero));
	seed(dir, "tok-sig-zero", gh_printf(&a, "%s.%s", input,
	    gh_b64url_encode(&a, zero, sizeof(zero))));
	seed(dir, "tok-sig-short", gh_printf(&a, "%s.%s", input,
	    gh_b64url_encode(&a, zero, 63)));
	input = gh_printf(&a, "%s.%s", b64(&a, "{\"alg\":\"ES256\",\"typ\":"
	    "\"at+jwt\",\"kid\":\"" KID_OTHER "\"}"), pay);
	seed(dir, "tok-other-kid", gh_printf(&a, "%s.%s", input,
	    es256(&a, signer, input)));
	seed(dir, "tok-other-key", gh_printf(&a, "%s.%s", input,
	    es256(&a, other, input)));

	/* A kid near the size limit, and a token past it. */
	if ((kid = gh_alloc(&a, 5001)) == NULL)
		abort();
	memset(kid, 'k', 5000);
	kid[5000] = '\0';
	input = gh_printf(&a, "%s.%s", b64(&a, gh_printf(&a, "{\"alg\":"
	    "\"ES256\",\"kid\":\"%s\"}", kid)), pay);
	seed(dir, "tok-huge-header", gh_printf(&a, "%s.%s", input,
	    es256(&a, signer, input)));
	memset(kid, 'A', 5000);
	seed(dir, "tok-too-large", gh_printf(&a, "%s%s.%s", good, kid, kid));
	gh_arena_free(&a);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*dir;

	keyset_make();
	verbose = getenv("GH_FUZZ_VERBOSE") != NULL;
	if ((dir = getenv("GH_FUZZ_JWT_SEEDS")) != NULL) {
		seeds(dir);
		exit(0);
	}
	return 0;
}
