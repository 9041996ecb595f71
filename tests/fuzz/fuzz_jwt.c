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
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "gatehouse.h"
#include "fuzz.h"
#include "fuzz_keys.h"

#define ISS		"https://auth.example.test"
#define AUD		"gatehouse"
#define NOW		1700000000LL
#define LEEWAY		60
#define KID_SIGN	"fuzz-a"
#define KID_OTHER	"fuzz-b"

static struct gh_keyset	*ks;
static EVP_PKEY		*signer, *other;
static int		 verbose;	/* GH_FUZZ_VERBOSE: say why */

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

	signer = fuzz_p256_key("gatehouse fuzz key a");
	other = fuzz_p256_key("gatehouse fuzz key b");
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
		input = gh_printf(&a, "%s.%s", fuzz_b64(&a, s),
		    fuzz_b64(&a, nl + 1));
		jwt = gh_printf(&a, "%s.%s", input,
		    fuzz_es256(&a, signer, input));
		signed_header(s, verify(jwt));
	} else if ((dot = strchr(s, '.')) != NULL &&
	    strchr(dot + 1, '.') == NULL) {
		jwt = gh_printf(&a, "%s.%s", s, fuzz_es256(&a, signer, s));
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
	    fuzz_b64(&a, "{\"alg\":\"none\",\"typ\":\"at+jwt\"}"), pay);
	seed(dir, "tok-alg-none", gh_printf(&a, "%s.", input));

	/* HS256 keyed with the public key's PEM: algorithm confusion. */
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PUBKEY(bio, signer) != 1 ||
	    (n = BIO_get_mem_data(bio, &pem)) <= 0)
		abort();
	input = gh_printf(&a, "%s.%s",
	    fuzz_b64(&a, "{\"alg\":\"HS256\",\"typ\":"
	    "\"at+jwt\",\"kid\":\"" KID_SIGN "\"}"), pay);
	if (gh_hmac_sha256(pem, (size_t)n, input, strlen(input), mac) != 0)
		abort();
	BIO_free(bio);
	seed(dir, "tok-hs256", gh_printf(&a, "%s.%s", input,
	    gh_b64url_encode(&a, mac, sizeof(mac))));

	input = gh_printf(&a, "%s.%s", fuzz_b64(&a, hdr), pay);
	seed(dir, "tok-padded", gh_printf(&a, "%s.%s==", input,
	    fuzz_es256(&a, signer, input)));
	seed(dir, "tok-std-alphabet", gh_printf(&a, "%s.%s+/.%s",
	    fuzz_b64(&a, hdr),
	    pay, fuzz_es256(&a, signer, input)));
	seed(dir, "tok-four-parts", gh_printf(&a, "%s.e30", good));
	memset(zero, 0, sizeof(zero));
	seed(dir, "tok-sig-zero", gh_printf(&a, "%s.%s", input,
	    gh_b64url_encode(&a, zero, sizeof(zero))));
	seed(dir, "tok-sig-short", gh_printf(&a, "%s.%s", input,
	    gh_b64url_encode(&a, zero, 63)));
	input = gh_printf(&a, "%s.%s",
	    fuzz_b64(&a, "{\"alg\":\"ES256\",\"typ\":"
	    "\"at+jwt\",\"kid\":\"" KID_OTHER "\"}"), pay);
	seed(dir, "tok-other-kid", gh_printf(&a, "%s.%s", input,
	    fuzz_es256(&a, signer, input)));
	seed(dir, "tok-other-key", gh_printf(&a, "%s.%s", input,
	    fuzz_es256(&a, other, input)));

	/* A kid near the size limit, and a token past it. */
	if ((kid = gh_alloc(&a, 5001)) == NULL)
		abort();
	memset(kid, 'k', 5000);
	kid[5000] = '\0';
	input = gh_printf(&a, "%s.%s", fuzz_b64(&a, gh_printf(&a, "{\"alg\":"
	    "\"ES256\",\"kid\":\"%s\"}", kid)), pay);
	seed(dir, "tok-huge-header", gh_printf(&a, "%s.%s", input,
	    fuzz_es256(&a, signer, input)));
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
