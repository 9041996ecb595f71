/*
 * DPoP proofs (RFC 9449): one good proof, then one test per way a proof
 * is forged or bent, each built here with OpenSSL so that the refusal is
 * for the reason named; the cnf.jkt binding of access tokens; and
 * gh_auth_verify's answers for bound tokens, in-process (the paths that
 * end before the replay cache, which is the database's: integration).
 */
#include <sys/stat.h>

#include <stdio.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "unit.h"

#define NOW	1700000000LL
#define WINDOW	60
#define HTU	"https://id.example.test/api/v1/auth/oauth/token"

/*
 * A fixed key and its RFC 7638 thumbprint as another implementation
 * (jose's calculateJwkThumbprint, Node.js) computes it.
 */
static const char fixed_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgV5wcD8ZgK3CeVOpJ\n"
    "iAFSwOFLFOllXm6RZpQOfdpxiomhRANCAAQLAeWQLxlADWghBfrJ+w4q1dSRgzJ0\n"
    "WYo1mCkPFb06B5YdvcgN7Ftd12cs0eBMZa6AVDo0xIGcVpkCyqxyTrgU\n"
    "-----END PRIVATE KEY-----\n";
#define FIXED_JKT	"OkenrZ9MOnqo-3GbC7ph3w29z2j022fbBrRk7mfOuxQ"

static struct gh_arena	 arena;
static EVP_PKEY		*key, *other;

static EVP_PKEY *
fixed_key(void)
{
	BIO		*bio;
	EVP_PKEY	*k;

	bio = BIO_new_mem_buf(fixed_pem, -1);
	ck_assert_ptr_nonnull(bio);
	k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	ck_assert_ptr_nonnull(k);
	BIO_free(bio);
	return k;
}

static char *
b64(const void *p, size_t n)
{
	char	*s = gh_b64url_encode(&arena, p, n);

	ck_assert_ptr_nonnull(s);
	return s;
}

/* The public JWK of k; with_d adds the private scalar. */
static json_t *
jwk_of(EVP_PKEY *k, int with_d)
{
	unsigned char	 x[32], y[32], d[32];
	BIGNUM		*bx = NULL, *by = NULL, *bd = NULL;
	json_t		*j;

	ck_assert(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &bx) == 1);
	ck_assert(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &by) == 1);
	ck_assert(BN_bn2binpad(bx, x, 32) == 32 && BN_bn2binpad(by, y, 32) == 32);
	j = json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256",
	    "x", b64(x, 32), "y", b64(y, 32));
	if (with_d) {
		ck_assert(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY,
		    &bd) == 1);
		ck_assert(BN_bn2binpad(bd, d, 32) == 32);
		json_object_set_new(j, "d", json_string(b64(d, 32)));
	}
	BN_free(bx);
	BN_free(by);
	BN_clear_free(bd);
	return j;
}

static json_t *
header(EVP_PKEY *k)
{
	return json_pack("{s:s, s:s, s:o}", "typ", "dpop+jwt", "alg", "ES256",
	    "jwk", jwk_of(k, 0));
}

static json_t *
payload(void)
{
	return json_pack("{s:s, s:s, s:I, s:s}", "htm", "POST", "htu", HTU,
	    "iat", (json_int_t)NOW, "jti", "jti-0001");
}

/* header.payload, signed ES256 by k (r || s); both taken. */
static const char *
sign(EVP_PKEY *k, json_t *h, json_t *p)
{
	unsigned char	 der[80], raw[64];
	const unsigned char *dp = der;
	size_t		 derlen = sizeof(der);
	EVP_MD_CTX	*md;
	ECDSA_SIG	*sig;
	const BIGNUM	*r, *s;
	char		*hs, *ps, *input;

	hs = json_dumps(h, JSON_COMPACT);
	ps = json_dumps(p, JSON_COMPACT);
	input = gh_printf(&arena, "%s.%s", b64(hs, strlen(hs)),
	    b64(ps, strlen(ps)));
	free(hs);
	free(ps);
	json_decref(h);
	json_decref(p);
	md = EVP_MD_CTX_new();
	ck_assert(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k) == 1);
	ck_assert(EVP_DigestSign(md, der, &derlen, (unsigned char *)input,
	    strlen(input)) == 1);
	EVP_MD_CTX_free(md);
	sig = d2i_ECDSA_SIG(NULL, &dp, (long)derlen);
	ck_assert_ptr_nonnull(sig);
	ECDSA_SIG_get0(sig, &r, &s);
	ck_assert(BN_bn2binpad(r, raw, 32) == 32);
	ck_assert(BN_bn2binpad(s, raw + 32, 32) == 32);
	ECDSA_SIG_free(sig);
	return gh_printf(&arena, "%s.%s", input, b64(raw, sizeof(raw)));
}

static const char *
good(void)
{
	return sign(key, header(key), payload());
}

/* check() at the token endpoint: 0, or -1 with why containing want. */
static int
check(const char *proof, const char *want)
{
	struct gh_dpop	 p;
	const char	*why = NULL;
	int		 rc;

	rc = gh_dpop_check(proof, "POST", HTU, NULL, NOW, WINDOW, &p, &why);
	if (want == NULL) {
		ck_assert_msg(rc == 0, "refused: %s", why);
		ck_assert_ptr_null(why);
		ck_assert_uint_eq(strlen(p.jkt), GH_DPOP_JKT_LEN);
	} else {
		ck_assert_msg(rc == -1, "accepted, wanted '%s'", want);
		ck_assert_ptr_nonnull(why);
		ck_assert_msg(strstr(why, want) != NULL, "'%s' is not '%s'",
		    why, want);
		ck_assert_str_eq(p.jkt, "");
	}
	return rc;
}

static void
setup(void)
{
	gh_arena_init(&arena);
	key = fixed_key();
	other = EVP_EC_gen("P-256");
	ck_assert_ptr_nonnull(other);
}

static void
teardown(void)
{
	gh_dpop_cache_clear();
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
	gh_arena_free(&arena);
}

START_TEST(good_proof_and_its_thumbprint)
{
	struct gh_dpop	 p, q;
	const char	*why, *proof = good();

	ck_assert_int_eq(gh_dpop_check(proof, "POST", HTU, NULL, NOW, WINDOW,
	    &p, &why), 0);
	ck_assert_str_eq(p.jkt, FIXED_JKT);
	ck_assert_int_eq(p.iat, NOW);
	ck_assert_int_eq(p.expires, NOW + WINDOW);
	ck_assert_uint_eq(strlen(p.replay_key), 64);
	/* The same proof has the same replay key; another jti another. */
	ck_assert_int_eq(gh_dpop_check(proof, "POST", HTU, NULL, NOW + 5,
	    WINDOW, &q, &why), 0);
	ck_assert_str_eq(p.replay_key, q.replay_key);
	proof = sign(key, header(key), json_pack("{s:s, s:s, s:I, s:s}",
	    "htm", "POST", "htu", HTU, "iat", (json_int_t)NOW, "jti",
	    "jti-0002"));
	ck_assert_int_eq(gh_dpop_check(proof, "POST", HTU, NULL, NOW, WINDOW,
	    &q, &why), 0);
	ck_assert_str_ne(p.replay_key, q.replay_key);
	/* Another key: another thumbprint. */
	check(sign(other, header(other), payload()), NULL);
	ck_assert_int_eq(gh_dpop_check(sign(other, header(other), payload()),
	    "POST", HTU, NULL, NOW, WINDOW, &q, &why), 0);
	ck_assert_str_ne(q.jkt, FIXED_JKT);
}
END_TEST

START_TEST(typ_must_be_dpop_jwt)
{
	json_t	*h;

	h = header(key);
	json_object_del(h, "typ");
	check(sign(key, h, payload()), "typ dpop+jwt");
	h = header(key);
	json_object_set_new(h, "typ", json_string("JWT"));
	check(sign(key, h, payload()), "typ dpop+jwt");
	h = header(key);
	json_object_set_new(h, "typ", json_string("at+jwt"));
	check(sign(key, h, payload()), "typ dpop+jwt");
	h = header(key);
	json_object_set_new(h, "typ", json_integer(1));
	check(sign(key, h, payload()), "typ dpop+jwt");
}
END_TEST

START_TEST(alg_none_hs256_and_others)
{
	unsigned char	 mac[32];
	json_t		*h, *p;
	char		*hs, *ps, *input;
	const char	*algs[] = { "ES384", "RS256", "PS256", "EdDSA", "es256",
	    NULL };
	int		 i;

	/* none, with no signature at all. */
	h = header(key);
	json_object_set_new(h, "alg", json_string("none"));
	hs = json_dumps(h, JSON_COMPACT);
	p = payload();
	ps = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	input = gh_printf(&arena, "%s.%s", b64(hs, strlen(hs)),
	    b64(ps, strlen(ps)));
	check(gh_printf(&arena, "%s.", input), "ES256 only");
	/* HS256 keyed with the jwk's own text: a MAC anyone can make. */
	json_object_set_new(h, "alg", json_string("HS256"));
	free(hs);
	hs = json_dumps(h, JSON_COMPACT);
	input = gh_printf(&arena, "%s.%s", b64(hs, strlen(hs)),
	    b64(ps, strlen(ps)));
	ck_assert_int_eq(gh_hmac_sha256(hs, strlen(hs), input, strlen(input),
	    mac), 0);
	check(gh_printf(&arena, "%s.%s", input, b64(mac, sizeof(mac))),
	    "ES256 only");
	free(hs);
	free(ps);
	json_decref(h);
	for (i = 0; algs[i] != NULL; i++) {
		h = header(key);
		json_object_set_new(h, "alg", json_string(algs[i]));
		check(sign(key, h, payload()), "ES256 only");
	}
	h = header(key);
	json_object_del(h, "alg");
	check(sign(key, h, payload()), "ES256 only");
}
END_TEST

START_TEST(private_key_in_jwk)
{
	json_t	*h;

	h = header(key);
	json_object_set_new(h, "jwk", jwk_of(key, 1));
	check(sign(key, h, payload()), "private key");
	/* Any private member, even one an EC key never has. */
	h = header(key);
	json_object_set_new(json_object_get(h, "jwk"), "k",
	    json_string("c2VjcmV0"));
	check(sign(key, h, payload()), "private key");
}
END_TEST

START_TEST(jwk_must_be_a_p256_public_key)
{
	json_t	*h, *j;

	h = header(key);
	json_object_del(h, "jwk");
	check(sign(key, h, payload()), "no jwk");
	h = header(key);
	json_object_set_new(h, "jwk", json_string("not an object"));
	check(sign(key, h, payload()), "no jwk");
	h = header(key);
	json_object_set_new(json_object_get(h, "jwk"), "kty",
	    json_string("RSA"));
	check(sign(key, h, payload()), "not a P-256");
	h = header(key);
	json_object_set_new(json_object_get(h, "jwk"), "crv",
	    json_string("P-384"));
	check(sign(key, h, payload()), "not a P-256");
	h = header(key);
	json_object_set_new(json_object_get(h, "jwk"), "x",
	    json_string(b64("short", 5)));
	check(sign(key, h, payload()), "not a P-256");
	/* A point off the curve: y of another key. */
	h = header(key);
	j = jwk_of(other, 0);
	json_object_set(json_object_get(h, "jwk"), "y", json_object_get(j, "y"));
	json_decref(j);
	check(sign(key, h, payload()), "not a P-256");
	/* Padded base64: not base64url as JOSE has it. */
	h = header(key);
	j = json_object_get(h, "jwk");
	json_object_set_new(j, "x", json_string(gh_printf(&arena, "%s=",
	    json_string_value(json_object_get(j, "x")))));
	check(sign(key, h, payload()), "not a P-256");
}
END_TEST

START_TEST(signature_of_another_key_or_tampered)
{
	const char	*proof;
	char		*bent;
	size_t		 n;

	/* Signed by other, carrying key's jwk: a thief's borrowed key. */
	check(sign(other, header(key), payload()), "bad DPoP proof signature");
	/* The payload changed after signing. */
	proof = good();
	bent = gh_strdup(&arena, proof);
	n = strchr(bent, '.') - bent + 3;
	bent[n] = bent[n] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(check(bent, ""), -1);
	/* A signature of the wrong length, or zero. */
	check(gh_printf(&arena, "%.*s.%s", (int)(strrchr(proof, '.') - proof),
	    proof, b64("\0\0\0\0", 4)), "bad DPoP proof signature");
}
END_TEST

START_TEST(htm_must_match)
{
	json_t	*p;

	p = payload();
	json_object_set_new(p, "htm", json_string("GET"));
	check(sign(key, header(key), p), "(htm)");
	p = payload();
	json_object_set_new(p, "htm", json_string("post"));
	check(sign(key, header(key), p), "(htm)");
	p = payload();
	json_object_del(p, "htm");
	check(sign(key, header(key), p), "(htm)");
}
END_TEST

static const char *
with_htu(const char *htu)
{
	json_t	*p = payload();

	json_object_set_new(p, "htu", json_string(htu));
	return sign(key, header(key), p);
}

START_TEST(htu_must_match_without_query_or_fragment)
{
	check(with_htu("https://id.example.test/api/v1/auth/oauth/userinfo"),
	    "(htu)");
	check(with_htu("https://evil.example/api/v1/auth/oauth/token"),
	    "(htu)");
	check(with_htu("http://id.example.test/api/v1/auth/oauth/token"),
	    "(htu)");
	check(with_htu("https://id.example.test:8443/api/v1/auth/oauth/token"),
	    "(htu)");
	check(with_htu("https://id.example.test@evil.example/api/v1/auth/"
	    "oauth/token"), "(htu)");
	check(with_htu("https://id.example.test/api/v1/auth/oauth/token/"),
	    "(htu)");
	check(with_htu("/api/v1/auth/oauth/token"), "(htu)");
	check(with_htu(""), "(htu)");
	/* RFC 9449 4.3: no query nor fragment; case and :443 normalised. */
	check(with_htu(HTU "?x=1"), NULL);
	check(with_htu(HTU "#frag"), NULL);
	check(with_htu("HTTPS://ID.Example.TEST:443/api/v1/auth/oauth/token"),
	    NULL);
	/* The path keeps its case. */
	check(with_htu("https://id.example.test/API/v1/auth/oauth/token"),
	    "(htu)");
	ck_assert(gh_dpop_htu_match("https://a.test/x?q#f", "https://a.test/x"));
	ck_assert(gh_dpop_htu_match("https://a.test", "https://a.test/"));
	ck_assert(!gh_dpop_htu_match("https://a.test/x y", "https://a.test/x y"));
	ck_assert(!gh_dpop_htu_match("ftp://a.test/x", "ftp://a.test/x"));
}
END_TEST

static const char *
with_iat(json_t *iat)
{
	json_t	*p = payload();

	if (iat == NULL)
		json_object_del(p, "iat");
	else
		json_object_set_new(p, "iat", iat);
	return sign(key, header(key), p);
}

START_TEST(iat_within_the_window)
{
	check(with_iat(json_integer(NOW - WINDOW - 1)), "(iat)");
	check(with_iat(json_integer(NOW + WINDOW + 1)), "(iat)");
	check(with_iat(json_integer(0)), "(iat)");
	check(with_iat(json_integer(-1)), "(iat)");
	check(with_iat(json_real(1e300)), "(iat)");
	check(with_iat(json_string("1700000000")), "(iat)");
	check(with_iat(NULL), "(iat)");
	check(with_iat(json_integer(NOW - WINDOW)), NULL);
	check(with_iat(json_integer(NOW + WINDOW)), NULL);
	check(with_iat(json_real((double)NOW + 0.5)), NULL);
}
END_TEST

START_TEST(jti_required_and_bounded)
{
	json_t	*p;
	char	 big[GH_DPOP_JTI_MAX + 2];

	p = payload();
	json_object_del(p, "jti");
	check(sign(key, header(key), p), "jti");
	p = payload();
	json_object_set_new(p, "jti", json_string(""));
	check(sign(key, header(key), p), "jti");
	p = payload();
	json_object_set_new(p, "jti", json_integer(7));
	check(sign(key, header(key), p), "jti");
	memset(big, 'j', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	p = payload();
	json_object_set_new(p, "jti", json_string(big));
	check(sign(key, header(key), p), "jti");
}
END_TEST

START_TEST(ath_must_hash_the_access_token)
{
	struct gh_dpop	 d;
	const char	*why, *proof;
	json_t		*p;

	/* Without ath, at a resource. */
	ck_assert_int_eq(gh_dpop_check(good(), "POST", HTU, "the-token", NOW,
	    WINDOW, &d, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "(ath)"));
	p = payload();
	json_object_set_new(p, "ath", json_string(gh_dpop_ath(&arena,
	    "another-token")));
	proof = sign(key, header(key), p);
	ck_assert_int_eq(gh_dpop_check(proof, "POST", HTU, "the-token", NOW,
	    WINDOW, &d, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "(ath)"));
	p = payload();
	json_object_set_new(p, "ath", json_string(gh_dpop_ath(&arena,
	    "the-token")));
	proof = sign(key, header(key), p);
	ck_assert_int_eq(gh_dpop_check(proof, "POST", HTU, "the-token", NOW,
	    WINDOW, &d, &why), 0);
	/* RFC 9449 4.2's example: ath of a known token. */
	ck_assert_str_eq(gh_dpop_ath(&arena, "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~"
	    "zsPE_NeO.gxU"), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
}
END_TEST

START_TEST(malformed_proofs)
{
	char		*huge;
	const char	*dup;
	json_t		*h;

	check("", "malformed");
	check("a.b", "malformed");
	check("a.b.c.d", "malformed");
	check("!!!.e30.AA", "malformed");
	check(gh_printf(&arena, "%s.e30.AA", b64("[]", 2)), "header");
	check(gh_printf(&arena, "%s, %s", good(), good()), "malformed");
	huge = gh_alloc(&arena, GH_DPOP_MAX + 2);
	memset(huge, 'A', GH_DPOP_MAX + 1);
	huge[GH_DPOP_MAX + 1] = '\0';
	check(huge, "too large");
	h = header(key);
	json_object_set_new(h, "crit", json_pack("[s]", "exp"));
	check(sign(key, h, payload()), "critical");
	/* A duplicate member: which one would count? */
	dup = "{\"typ\":\"dpop+jwt\",\"typ\":\"x\"}";
	check(gh_printf(&arena, "%s.%s.AA", b64(dup, strlen(dup)),
	    b64("{}", 2)), "header");
	ck_assert_int_eq(gh_dpop_check(NULL, "POST", HTU, NULL, NOW, WINDOW,
	    &(struct gh_dpop){ 0 }, NULL), -1);
}
END_TEST

/* A keyset of one private key, for tokens. */
static struct gh_keyset *
keyset(char *dir)
{
	struct gh_keyset *ks;
	char		 path[256], err[256];
	FILE		*fp;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/k1.pem", dir);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert(PEM_write_PrivateKey(fp, other, NULL, NULL, 0, NULL,
	    NULL) == 1);
	fclose(fp);
	chmod(path, 0600);
	ck_assert_msg(gh_keyset_load(dir, &ks, err, sizeof(err)) == 0, "%s",
	    err);
	return ks;
}

static void
keyset_gone(const char *dir)
{
	char	 path[256];

	snprintf(path, sizeof(path), "%s/k1.pem", dir);
	unlink(path);
	rmdir(dir);
}

START_TEST(tokens_carry_cnf_jkt)
{
	struct gh_claims c = { "user-1", "user", "jti-1", "", NOW, 0,
	    NOW + 900, FIXED_JKT }, out;
	struct gh_keyset *ks;
	char		 dir[] = "/tmp/gh-dpop-XXXXXX";
	const char	*why;
	char		*jwt;
	json_t		*claims;

	ks = keyset(dir);
	ck_assert_int_eq(gh_token_sign(ks, "iss", "aud", &c, &arena, &jwt), 0);
	ck_assert_int_eq(gh_token_verify(ks, jwt, "iss", "aud", NOW, 0, &out,
	    &why), 0);
	ck_assert_str_eq(out.jkt, FIXED_JKT);
	c.jkt[0] = '\0';
	ck_assert_int_eq(gh_token_sign(ks, "iss", "aud", &c, &arena, &jwt), 0);
	ck_assert_int_eq(gh_token_verify(ks, jwt, "iss", "aud", NOW, 0, &out,
	    &why), 0);
	ck_assert_str_eq(out.jkt, "");
	/* No jkt that is not a thumbprint is signed. */
	snprintf(c.jkt, sizeof(c.jkt), "short");
	ck_assert_int_eq(gh_token_sign(ks, "iss", "aud", &c, &arena, &jwt), -1);
	/* cnf with another method, or more, is refused, not ignored. */
	claims = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:{s:s}}",
	    "iss", "iss", "aud", "aud", "sub", "u", "role", "user", "jti", "j",
	    "iat", (json_int_t)NOW, "exp", (json_int_t)NOW + 900, "cnf",
	    "x5t#S256", "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2");
	ck_assert_int_eq(gh_jws_sign(ks, "at+jwt", claims, &arena, &jwt), 0);
	ck_assert_int_eq(gh_token_verify(ks, jwt, "iss", "aud", NOW, 0, &out,
	    &why), -1);
	ck_assert_str_eq(why, "unsupported cnf claim");
	json_object_set_new(claims, "cnf", json_pack("{s:s, s:s}", "jkt",
	    FIXED_JKT, "x5t#S256", "x"));
	ck_assert_int_eq(gh_jws_sign(ks, "at+jwt", claims, &arena, &jwt), 0);
	ck_assert_int_eq(gh_token_verify(ks, jwt, "iss", "aud", NOW, 0, &out,
	    &why), -1);
	json_object_set_new(claims, "cnf", json_pack("{s:s}", "jkt", "x"));
	ck_assert_int_eq(gh_jws_sign(ks, "at+jwt", claims, &arena, &jwt), 0);
	ck_assert_int_eq(gh_token_verify(ks, jwt, "iss", "aud", NOW, 0, &out,
	    &why), -1);
	json_object_set_new(claims, "cnf", json_string(FIXED_JKT));
	ck_assert_int_eq(gh_jws_sign(ks, "at+jwt", claims, &arena, &jwt), 0);
	ck_assert_int_eq(gh_token_verify(ks, jwt, "iss", "aud", NOW, 0, &out,
	    &why), -1);
	json_decref(claims);
	gh_keyset_free(ks);
	keyset_gone(dir);
}
END_TEST

/* An in-process request to /r with the given Authorization and DPoP. */
static void
request(struct unit_req *u, const char *authz, const char *dpop)
{
	memset(u, 0, sizeof(*u));
	gh_req_init(&u->req, NULL);
	u->env[u->nenv++] = strdup("REQUEST_METHOD=GET");
	u->env[u->nenv++] = strdup("REQUEST_URI=/r");
	u->env[u->nenv++] = strdup("REQUEST_ID=0123456789abcdef");
	if (authz != NULL)
		u->env[u->nenv++] = strdup(gh_printf(&arena,
		    "HTTP_AUTHORIZATION=%s", authz));
	if (dpop != NULL)
		u->env[u->nenv++] = strdup(gh_printf(&arena, "HTTP_DPOP=%s",
		    dpop));
	u->req.envp = u->env;
	gh_req_start(&u->req);
}

/* A proof for GET https://localhost:8443/r of key, for token. */
static const char *
resource_proof(EVP_PKEY *k, const char *token)
{
	return sign(k, header(k), json_pack("{s:s, s:s, s:I, s:s, s:s}",
	    "htm", "GET", "htu", "https://localhost:8443/r", "iat",
	    (json_int_t)time(NULL), "jti", "r-1", "ath",
	    gh_dpop_ath(&arena, token)));
}

START_TEST(resource_refuses_misused_bound_tokens)
{
	struct gh_claims c = { "user-1", "user", "jti-1", "", 0, 0, 0,
	    FIXED_JKT };
	struct unit_req	 u;
	char		 dir[] = "/tmp/gh-dpop-XXXXXX";
	struct gh_keyset *ks;
	char		*bound, *bearer;

	ks = keyset(dir);
	setenv("GH_JWT_PUBLIC_KEYS_DIR", dir, 1);
	unsetenv("GH_JWT_KEYS_DIR");
	unsetenv("GH_PUBLIC_URL");
	ck_assert_int_eq(gh_auth_setup(0), 0);
	c.iat = time(NULL);
	c.exp = c.iat + 600;
	ck_assert_int_eq(gh_token_sign(ks, gh_auth_issuer(),
	    gh_auth_audience(), &c, &arena, &bound), 0);
	c.jkt[0] = '\0';
	ck_assert_int_eq(gh_token_sign(ks, gh_auth_issuer(),
	    gh_auth_audience(), &c, &arena, &bearer), 0);

	/* A bound token as a bearer token: useless to whoever stole it. */
	request(&u, gh_printf(&arena, "Bearer %s", bound), NULL);
	ck_assert_int_eq(gh_auth_verify(&u.req), -1);
	ck_assert_int_eq(u.req.status, 401);
	ck_assert_ptr_nonnull(strstr(u.req.test_out,
	    "WWW-Authenticate: DPoP realm=\"gatehouse\", error=\"invalid_token\""));
	unit_end(&u);
	/* DPoP without a proof. */
	request(&u, gh_printf(&arena, "DPoP %s", bound), NULL);
	ck_assert_int_eq(gh_auth_verify(&u.req), -1);
	ck_assert_ptr_nonnull(strstr(u.req.test_out,
	    "error=\"invalid_dpop_proof\""));
	unit_end(&u);
	/* A proof by another key than the token's (thumbprint mismatch). */
	request(&u, gh_printf(&arena, "DPoP %s", bound),
	    resource_proof(other, bound));
	ck_assert_int_eq(gh_auth_verify(&u.req), -1);
	ck_assert_ptr_nonnull(strstr(u.req.test_out, "another key"));
	unit_end(&u);
	/* The right key, for another token (ath). */
	request(&u, gh_printf(&arena, "DPoP %s", bound),
	    resource_proof(key, bearer));
	ck_assert_int_eq(gh_auth_verify(&u.req), -1);
	ck_assert_ptr_nonnull(strstr(u.req.test_out, "(ath)"));
	unit_end(&u);
	/* An unbound token under the DPoP scheme. */
	request(&u, gh_printf(&arena, "DPoP %s", bearer),
	    resource_proof(key, bearer));
	ck_assert_int_eq(gh_auth_verify(&u.req), -1);
	ck_assert_ptr_nonnull(strstr(u.req.test_out, "not bound"));
	unit_end(&u);
	/* No credentials: both challenges, no error code. */
	request(&u, NULL, NULL);
	ck_assert_int_eq(gh_auth_verify(&u.req), -1);
	ck_assert_ptr_nonnull(strstr(u.req.test_out,
	    "WWW-Authenticate: Bearer realm=\"gatehouse\"\r\n"));
	ck_assert_ptr_nonnull(strstr(u.req.test_out,
	    "WWW-Authenticate: DPoP realm=\"gatehouse\", algs=\"ES256\"\r\n"));
	unit_end(&u);
	/* The bearer token still works as one. */
	request(&u, gh_printf(&arena, "Bearer %s", bearer), NULL);
	ck_assert_int_eq(gh_auth_verify(&u.req), 0);
	unit_end(&u);
	gh_auth_free();
	gh_keyset_free(ks);
	keyset_gone(dir);
}
END_TEST

/*
 * The worker keeps parsed keys: the same key twice, more keys than it
 * keeps, a kept key with a bad signature or a private member, and a
 * key with a kept x but another y, are each judged as on the first.
 */
START_TEST(parsed_keys_kept_but_every_proof_checked)
{
	struct gh_dpop	 p;
	EVP_PKEY	*many[40];
	const char	*why;
	json_t		*h, *jwk;
	char		 jkts[40][GH_DPOP_JKT_LEN + 1];
	size_t		 i, j;

	gh_dpop_cache_clear();
	check(good(), NULL);
	ck_assert_int_eq(gh_dpop_check(good(), "POST", HTU, NULL, NOW, WINDOW,
	    &p, &why), 0);
	ck_assert_str_eq(p.jkt, FIXED_JKT);
	/* Kept, yet another's signature under its jwk is refused. */
	check(sign(other, header(key), payload()), "signature");
	h = header(key);
	jwk = jwk_of(key, 1);
	json_object_set_new(h, "jwk", jwk);
	check(sign(key, h, payload()), "private key");
	/* The kept key's x with another key's y: not the kept key. */
	jwk = jwk_of(other, 0);
	h = header(key);
	json_object_set(json_object_get(h, "jwk"), "y",
	    json_object_get(jwk, "y"));
	json_decref(jwk);
	check(sign(key, h, payload()), "jwk is not a P-256 public key");
	/* More keys than are kept: each its own thumbprint, every time. */
	for (i = 0; i < 40; i++) {
		many[i] = EVP_EC_gen("P-256");
		ck_assert_ptr_nonnull(many[i]);
		ck_assert_int_eq(gh_dpop_check(sign(many[i], header(many[i]),
		    payload()), "POST", HTU, NULL, NOW, WINDOW, &p, &why), 0);
		memcpy(jkts[i], p.jkt, sizeof(jkts[i]));
		for (j = 0; j < i; j++)
			ck_assert_str_ne(jkts[i], jkts[j]);
	}
	for (i = 0; i < 40; i++) {
		ck_assert_int_eq(gh_dpop_check(sign(many[i], header(many[i]),
		    payload()), "POST", HTU, NULL, NOW, WINDOW, &p, &why), 0);
		ck_assert_str_eq(p.jkt, jkts[i]);
		check(sign(key, header(many[i]), payload()), "signature");
		EVP_PKEY_free(many[i]);
	}
	ck_assert_int_eq(gh_dpop_check(good(), "POST", HTU, NULL, NOW, WINDOW,
	    &p, &why), 0);
	ck_assert_str_eq(p.jkt, FIXED_JKT);
	gh_dpop_cache_clear();
}
END_TEST

/* Every kind of NQCHAR there is. */
#define ODD_NONCE	"29000000.Ab-_~!#$%&'()*+,/:;<=>?@[]^`{|}"

START_TEST(nonce_claim_copied_or_refused)
{
	struct gh_dpop	 p;
	const char	*why;
	json_t		*pl;
	char		 big[GH_DPOP_NONCE_MAX + 2];
	static const char *const bad[] = { "", "a b", "q\"uote", "back\\slash",
	    "t\tab", "\xc3\xa9t\xc3\xa9", NULL };
	const char *const *b;

	/* Absent: "". */
	ck_assert_int_eq(gh_dpop_check(good(), "POST", HTU, NULL, NOW, WINDOW,
	    &p, &why), 0);
	ck_assert_str_eq(p.nonce, "");
	pl = payload();
	json_object_set_new(pl, "nonce", json_string(ODD_NONCE));
	ck_assert_int_eq(gh_dpop_check(sign(key, header(key), pl), "POST",
	    HTU, NULL, NOW, WINDOW, &p, &why), 0);
	ck_assert_str_eq(p.nonce, ODD_NONCE);
	for (b = bad; *b != NULL; b++) {
		pl = payload();
		json_object_set_new(pl, "nonce", json_string(*b));
		check(sign(key, header(key), pl), "nonce is malformed");
	}
	pl = payload();
	json_object_set_new(pl, "nonce", json_integer(29000000));
	check(sign(key, header(key), pl), "nonce is malformed");
	memset(big, 'n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pl = payload();
	json_object_set_new(pl, "nonce", json_string(big));
	check(sign(key, header(key), pl), "nonce is malformed");
	big[sizeof(big) - 2] = '\0';		/* 128: the most */
	pl = payload();
	json_object_set_new(pl, "nonce", json_string(big));
	check(sign(key, header(key), pl), NULL);
}
END_TEST

static void
nonce_keys(struct gh_dpop_nonces *nk, const char *k0, const char *k1)
{
	memset(nk, 0, sizeof(*nk));
	nk->on = 1;
	nk->slot = 300;
	ck_assert_int_eq(gh_sha256(k0, strlen(k0), nk->key[0]), 0);
	nk->nkeys = 1;
	if (k1 != NULL) {
		ck_assert_int_eq(gh_sha256(k1, strlen(k1), nk->key[1]), 0);
		nk->nkeys = 2;
	}
}

START_TEST(nonces_of_this_slot_and_the_one_before)
{
	struct gh_dpop_nonces nk, other_key, rotated;
	char		 n[GH_DPOP_NONCE_MAX + 1], m[GH_DPOP_NONCE_MAX + 1];
	char		 bent[GH_DPOP_NONCE_MAX * 2];
	time_t		 t = (time_t)NOW;	/* slot 5666666, 200 s in */

	nonce_keys(&nk, "the current key of every host....", NULL);
	ck_assert_int_eq(gh_dpop_nonce_make(&nk, "token", t, n), 0);
	ck_assert_int_eq(strncmp(n, "5666666.", 8), 0);
	ck_assert_uint_eq(strlen(n), 8 + 24);
	/* Unpredictable without the key, the same for a slot with it. */
	ck_assert_int_eq(gh_dpop_nonce_make(&nk, "token", t + 99, m), 0);
	ck_assert_str_eq(n, m);
	ck_assert_int_eq(gh_dpop_nonce_valid(&nk, "token", n, t), 1);
	/* Good in its slot and the next; not before it, not two after. */
	ck_assert_int_eq(gh_dpop_nonce_valid(&nk, "token", n, t - 200), 1);
	ck_assert_int_eq(gh_dpop_nonce_valid(&nk, "token", n, t - 201), 0);
	ck_assert_int_eq(gh_dpop_nonce_valid(&nk, "token", n, t + 399), 1);
	ck_assert_int_eq(gh_dpop_nonce_valid(&nk, "token", n, t + 400), 0);
	/* Another server's scope, another key: refused. */
	ck_assert_int_eq(gh_dpop_nonce_valid(&nk, "payment", n, t), 0);
	ck_assert_int_eq(gh_dpop_nonce_make(&nk, "payment", t, m), 0);
	ck_assert_str_ne(n, m);
	ck_assert_int_eq(gh_dpop_nonce_valid(&nk, "token", m, t), 0);
	nonce_keys(&other_key, "a key this server never had.......", NULL);
	ck_assert_int_eq(gh_dpop_nonce_valid(&other_key, "token", n, t), 0);
	/* Rotation: new key first, old second; the old one's still pass. */
	nonce_keys(&rotated, "the next key of every host.......",
	    "the current key of every host....");
	ck_assert_int_eq(gh_dpop_nonce_valid(&rotated, "token", n, t), 1);
	ck_assert_int_eq(gh_dpop_nonce_make(&rotated, "token", t, m), 0);
	ck_assert_str_ne(n, m);
	ck_assert_int_eq(gh_dpop_nonce_valid(&nk, "token", m, t), 0);
	/* Bent: the slot moved, the MAC cut, grown, or changed. */
	snprintf(bent, sizeof(bent), "5666665%s", strchr(n, '.'));
	ck_assert_int_eq(gh_dpop_nonce_valid(&nk, "token", bent, t), 0);
	snprintf(bent, sizeof(bent), "05666666%s", strchr(n, '.'));
	ck_assert_int_eq(gh_dpop_nonce_valid(&nk, "token", bent, t), 0);
	snprintf(bent, sizeof(bent), "%s", n);
	bent[strlen(bent) - 1] = '\0';
	ck_assert_int_eq(gh_dpop_nonce_valid(&nk, "token", bent, t), 0);
	snprintf(bent, sizeof(bent), "%sA", n);
	ck_assert_int_eq(gh_dpop_nonce_valid(&nk, "token", bent, t), 0);
	snprintf(bent, sizeof(bent), "%s", n);
	bent[10] = bent[10] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(gh_dpop_nonce_valid(&nk, "token", bent, t), 0);
	ck_assert_int_eq(gh_dpop_nonce_valid(&nk, "token", "", t), 0);
	ck_assert_int_eq(gh_dpop_nonce_valid(&nk, "token", ".", t), 0);
	ck_assert_int_eq(gh_dpop_nonce_valid(&nk, "token", NULL, t), 0);
	ck_assert_int_eq(gh_dpop_nonce_valid(&nk, "token",
	    "-5666666.AAAAAAAAAAAAAAAAAAAAAAAA", t), 0);
	ck_assert_int_eq(gh_dpop_nonce_valid(&nk, "token",
	    "99999999999999999999999.AAAAAAAAAAAAAAAAAAAAAAAA", t), 0);
	ck_assert_int_eq(gh_dpop_nonce_valid(&nk, "token",
	    "+5666666.AAAAAAAAAAAAAAAAAAAAAAAA", t), 0);
	/* Off: nothing made, nothing accepted. */
	nk.on = 0;
	ck_assert_int_eq(gh_dpop_nonce_make(&nk, "token", t, m), -1);
	ck_assert_int_eq(gh_dpop_nonce_valid(&nk, "token", n, t), 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("dpop");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, good_proof_and_its_thumbprint);
	tcase_add_test(tc, typ_must_be_dpop_jwt);
	tcase_add_test(tc, alg_none_hs256_and_others);
	tcase_add_test(tc, private_key_in_jwk);
	tcase_add_test(tc, jwk_must_be_a_p256_public_key);
	tcase_add_test(tc, signature_of_another_key_or_tampered);
	tcase_add_test(tc, htm_must_match);
	tcase_add_test(tc, htu_must_match_without_query_or_fragment);
	tcase_add_test(tc, iat_within_the_window);
	tcase_add_test(tc, jti_required_and_bounded);
	tcase_add_test(tc, ath_must_hash_the_access_token);
	tcase_add_test(tc, malformed_proofs);
	tcase_add_test(tc, tokens_carry_cnf_jkt);
	tcase_add_test(tc, resource_refuses_misused_bound_tokens);
	tcase_add_test(tc, parsed_keys_kept_but_every_proof_checked);
	tcase_add_test(tc, nonce_claim_copied_or_refused);
	tcase_add_test(tc, nonces_of_this_slot_and_the_one_before);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
