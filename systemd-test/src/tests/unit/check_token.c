/*
 * ES256 access tokens: a round trip, then one test per way a token is
 * forged or bent, each token built here (with OpenSSL or libjwt) so the
 * refusal is for the reason named and no other.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <unistd.h>

#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "unit.h"

#define ISS	"https://auth.example.test"
#define AUD	"gatehouse"
#define NOW	1700000000LL
#define LEEWAY	60
#define KID_A	"20250101T000000Z-aaaaaaaa"
#define KID_B	"20260101T000000Z-bbbbbbbb"
#define MAXDIRS	8
#define MAXKEYS	8

static struct gh_arena	 arena;
static struct gh_keyset	*ks;		/* KID_A alone, in dirs[0] */
static EVP_PKEY		*key_a;
static char		 dirs[MAXDIRS][32];
static int		 ndirs;
static EVP_PKEY		*keys[MAXKEYS];
static int		 nkeys;

static const char *
tmpdir(void)
{
	ck_assert_int_lt(ndirs, MAXDIRS);
	snprintf(dirs[ndirs], sizeof(dirs[ndirs]), "/tmp/gh-keys-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dirs[ndirs]));
	return dirs[ndirs++];
}

static char *
path_in(const char *dir, const char *name)
{
	return gh_printf(&arena, "%s/%s", dir, name);
}

/* A new key of the curve, written as <name> with the mode; kept for forging. */
static EVP_PKEY *
write_key(const char *dir, const char *name, const char *curve, mode_t mode)
{
	EVP_PKEY	*k;
	BIO		*bio;
	char		*path = path_in(dir, name);

	ck_assert_int_lt(nkeys, MAXKEYS);
	ck_assert_ptr_nonnull(k = EVP_EC_gen(curve));
	keys[nkeys++] = k;
	ck_assert_ptr_nonnull(bio = BIO_new_file(path, "w"));
	ck_assert_int_eq(PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL,
	    NULL), 1);
	BIO_free(bio);
	ck_assert_int_eq(chmod(path, mode), 0);
	return k;
}

static void
write_pub(const char *dir, const char *name, EVP_PKEY *k)
{
	BIO	*bio;

	ck_assert_ptr_nonnull(bio = BIO_new_file(path_in(dir, name), "w"));
	ck_assert_int_eq(PEM_write_bio_PUBKEY(bio, k), 1);
	BIO_free(bio);
}

static void
setup(void)
{
	char	 err[256];

	gh_arena_init(&arena);
	ndirs = nkeys = 0;
	tmpdir();
	key_a = write_key(dirs[0], KID_A ".pem", "P-256", 0600);
	ck_assert_msg(gh_keyset_load(dirs[0], &ks, err, sizeof(err)) == 0,
	    "%s", err);
}

static void
teardown(void)
{
	struct dirent	*de;
	DIR		*d;
	int		 i;

	gh_keyset_free(ks);
	ks = NULL;
	for (i = 0; i < nkeys; i++)
		EVP_PKEY_free(keys[i]);
	for (i = 0; i < ndirs; i++) {
		if ((d = opendir(dirs[i])) == NULL)
			continue;
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				unlink(path_in(dirs[i], de->d_name));
		closedir(d);
		rmdir(dirs[i]);
	}
	gh_arena_free(&arena);
}

static char *
b64(const char *s)
{
	return gh_b64url_encode(&arena, s, strlen(s));
}

/* ES256 over the header and payload given, as a careful attacker would. */
static char *
forge(EVP_PKEY *k, const char *hdr, const char *payload)
{
	unsigned char		 der[80], raw[64];
	const unsigned char	*p = der;
	const BIGNUM		*r, *s;
	EVP_MD_CTX		*md;
	ECDSA_SIG		*sig;
	size_t			 derlen = sizeof(der);
	char			*input;

	input = gh_printf(&arena, "%s.%s", b64(hdr), b64(payload));
	ck_assert_ptr_nonnull(md = EVP_MD_CTX_new());
	ck_assert_int_eq(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k),
	    1);
	ck_assert_int_eq(EVP_DigestSign(md, der, &derlen,
	    (unsigned char *)input, strlen(input)), 1);
	EVP_MD_CTX_free(md);
	ck_assert_ptr_nonnull(sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen));
	ECDSA_SIG_get0(sig, &r, &s);
	ck_assert_int_eq(BN_bn2binpad(r, raw, 32), 32);
	ck_assert_int_eq(BN_bn2binpad(s, raw + 32, 32), 32);
	ECDSA_SIG_free(sig);
	return gh_printf(&arena, "%s.%s", input,
	    gh_b64url_encode(&arena, raw, sizeof(raw)));
}

static const char *
hdr_kid(const char *kid)
{
	return gh_printf(&arena,
	    "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}", kid);
}

/* The claims of a good token, with room to add or bend one. */
static const char *
claims(const char *extra, long long exp)
{
	return gh_printf(&arena, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
	    "\"sub\":\"user-1\",\"role\":\"user\",\"iat\":%lld,\"exp\":%lld,"
	    "\"jti\":\"j-1\"%s}", NOW, exp, extra);
}

static int
verify(const char *jwt, const char **why)
{
	struct gh_claims	 c;

	return gh_token_verify(ks, jwt, ISS, AUD, (time_t)NOW, LEEWAY, &c,
	    why);
}

/* Refused, and for the reason expected. */
#define REFUSED(jwt, reason) do {					\
	const char	*why_;					\
	ck_assert_int_eq(verify((jwt), &why_), -1);			\
	ck_assert_ptr_nonnull(why_);					\
	ck_assert_str_eq(why_, (reason));				\
} while (0)

#define ACCEPTED(jwt) do {						\
	const char	*why_;					\
	ck_assert_msg(verify((jwt), &why_) == 0, "refused: %s", why_);	\
} while (0)

static struct gh_claims
user_claims(void)
{
	struct gh_claims	 c;

	memset(&c, 0, sizeof(c));
	strcpy(c.sub, "5d1c9f5e-8a1b-4c1e-9a5e-0b6c1d2e3f40");
	strcpy(c.role, "user");
	strcpy(c.jti, "jti-0001");
	c.iat = NOW;
	c.exp = NOW + 900;
	return c;
}

static const char *
part(const char *jwt, int n)
{
	const char	*p = jwt, *e;

	while (n-- > 0)
		p = strchr(p, '.') + 1;
	e = strchr(p, '.');
	return gh_strndup(&arena, p, e == NULL ? strlen(p) :
	    (size_t)(e - p));
}

static const char *
decoded(const char *b64part)
{
	unsigned char	*out;
	size_t		 len;

	ck_assert_int_eq(gh_b64url_decode(&arena, b64part, strlen(b64part),
	    &out, &len), 0);
	return (const char *)out;
}

START_TEST(sign_verify_round_trip)
{
	struct gh_claims	 c = user_claims(), out;
	const char		*why;
	char			*jwt;

	strcpy(c.sid, "sess-42");
	c.nbf = NOW - 5;
	ck_assert_str_eq(gh_keyset_signing_kid(ks), KID_A);
	ck_assert_int_eq(gh_token_sign(ks, ISS, AUD, &c, &arena, &jwt), 0);
	ck_assert_str_eq(decoded(part(jwt, 0)),
	    "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"" KID_A "\"}");
	ck_assert_uint_eq(strlen(part(jwt, 2)), 86);	/* 64 bytes */
	ck_assert_int_eq(gh_token_verify(ks, jwt, ISS, AUD, (time_t)NOW,
	    LEEWAY, &out, &why), 0);
	ck_assert_ptr_null(why);
	ck_assert_str_eq(out.sub, c.sub);
	ck_assert_str_eq(out.role, "user");
	ck_assert_str_eq(out.jti, "jti-0001");
	ck_assert_str_eq(out.sid, "sess-42");
	ck_assert_int_eq(out.iat, NOW);
	ck_assert_int_eq(out.nbf, NOW - 5);
	ck_assert_int_eq(out.exp, NOW + 900);
	/* Without sid and nbf: both absent from the payload and from out. */
	c = user_claims();
	ck_assert_int_eq(gh_token_sign(ks, ISS, AUD, &c, &arena, &jwt), 0);
	ck_assert_ptr_null(strstr(decoded(part(jwt, 1)), "sid"));
	ck_assert_ptr_null(strstr(decoded(part(jwt, 1)), "nbf"));
	ck_assert_int_eq(gh_token_verify(ks, jwt, ISS, AUD, (time_t)NOW,
	    LEEWAY, &out, &why), 0);
	ck_assert_str_eq(out.sid, "");
	ck_assert_int_eq(out.nbf, 0);
}
END_TEST

START_TEST(sign_refuses_incomplete_claims)
{
	struct gh_claims	 c;
	char			*jwt;

	c = user_claims();
	c.sub[0] = '\0';
	ck_assert_int_eq(gh_token_sign(ks, ISS, AUD, &c, &arena, &jwt), -1);
	ck_assert_ptr_null(jwt);
	c = user_claims();
	c.role[0] = '\0';
	ck_assert_int_eq(gh_token_sign(ks, ISS, AUD, &c, &arena, &jwt), -1);
	c = user_claims();
	c.jti[0] = '\0';
	ck_assert_int_eq(gh_token_sign(ks, ISS, AUD, &c, &arena, &jwt), -1);
	c = user_claims();
	memset(c.sub, 'x', sizeof(c.sub));	/* no NUL */
	ck_assert_int_eq(gh_token_sign(ks, ISS, AUD, &c, &arena, &jwt), -1);
	c = user_claims();
	c.exp = 0;
	ck_assert_int_eq(gh_token_sign(ks, ISS, AUD, &c, &arena, &jwt), -1);
	c = user_claims();
	ck_assert_int_eq(gh_token_sign(ks, NULL, AUD, &c, &arena, &jwt), -1);
}
END_TEST

START_TEST(forged_good_token_passes)
{
	/* The forging helper itself is sound: the traps below mean it. */
	ACCEPTED(forge(key_a, hdr_kid(KID_A), claims("", NOW + 300)));
	/* Header members we do not honour are ignored, never fetched. */
	ACCEPTED(forge(key_a, gh_printf(&arena, "{\"alg\":\"ES256\","
	    "\"kid\":\"%s\",\"jku\":\"https://evil.test/jwks\","
	    "\"x5u\":\"https://evil.test/x\"}", KID_A),
	    claims("", NOW + 300)));
	/* typ is optional, and compared without case (RFC 7515 4.1.9). */
	ACCEPTED(forge(key_a, gh_printf(&arena, "{\"alg\":\"ES256\","
	    "\"kid\":\"%s\"}", KID_A), claims("", NOW + 300)));
	ACCEPTED(forge(key_a, gh_printf(&arena, "{\"alg\":\"ES256\","
	    "\"typ\":\"application/AT+JWT\",\"kid\":\"%s\"}", KID_A),
	    claims("", NOW + 300)));
}
END_TEST

START_TEST(alg_none_empty_signature)
{
	const char	*jwt;

	jwt = gh_printf(&arena, "%s.%s.", b64(gh_printf(&arena,
	    "{\"alg\":\"none\",\"typ\":\"at+jwt\",\"kid\":\"%s\"}", KID_A)),
	    b64(claims("", NOW + 300)));
	REFUSED(jwt, "unsupported token algorithm");
	jwt = gh_printf(&arena, "%s.%s.", b64("{\"alg\":\"none\"}"),
	    b64(claims("", NOW + 300)));
	REFUSED(jwt, "unsupported token algorithm");
}
END_TEST

START_TEST(alg_none_with_signature)
{
	REFUSED(forge(key_a, gh_printf(&arena, "{\"alg\":\"none\","
	    "\"kid\":\"%s\"}", KID_A), claims("", NOW + 300)),
	    "unsupported token algorithm");
	REFUSED(forge(key_a, gh_printf(&arena, "{\"alg\":\"None\","
	    "\"kid\":\"%s\"}", KID_A), claims("", NOW + 300)),
	    "unsupported token algorithm");
}
END_TEST

/* The real attack: HS256 keyed with our public key, which anyone has. */
START_TEST(alg_hs256_with_public_key_pem)
{
	jwt_t	*j;
	BIO	*bio;
	char	*pem, *jwt;
	long	 len;

	ck_assert_ptr_nonnull(bio = BIO_new(BIO_s_mem()));
	ck_assert_int_eq(PEM_write_bio_PUBKEY(bio, key_a), 1);
	len = BIO_get_mem_data(bio, &pem);
	ck_assert_int_eq(jwt_new(&j), 0);
	ck_assert_int_eq(jwt_set_alg(j, JWT_ALG_HS256, (unsigned char *)pem,
	    (int)len), 0);
	ck_assert_int_eq(jwt_add_header(j, "kid", KID_A), 0);
	ck_assert_int_eq(jwt_add_grants_json(j, claims(",\"role2\":\"x\"",
	    NOW + 300)), 0);
	ck_assert_ptr_nonnull(jwt = jwt_encode_str(j));
	REFUSED(jwt, "unsupported token algorithm");
	free(jwt);
	jwt_free(j);
	BIO_free(bio);
}
END_TEST

START_TEST(alg_es384_and_lowercase)
{
	REFUSED(forge(key_a, gh_printf(&arena, "{\"alg\":\"ES384\","
	    "\"kid\":\"%s\"}", KID_A), claims("", NOW + 300)),
	    "unsupported token algorithm");
	REFUSED(forge(key_a, gh_printf(&arena, "{\"alg\":\"es256\","
	    "\"kid\":\"%s\"}", KID_A), claims("", NOW + 300)),
	    "unsupported token algorithm");
	REFUSED(forge(key_a, gh_printf(&arena, "{\"alg\":\"ES256 \","
	    "\"kid\":\"%s\"}", KID_A), claims("", NOW + 300)),
	    "unsupported token algorithm");
	REFUSED(forge(key_a, gh_printf(&arena, "{\"alg\":[\"ES256\"],"
	    "\"kid\":\"%s\"}", KID_A), claims("", NOW + 300)),
	    "unsupported token algorithm");
	REFUSED(forge(key_a, gh_printf(&arena, "{\"kid\":\"%s\"}", KID_A),
	    claims("", NOW + 300)), "unsupported token algorithm");
}
END_TEST

START_TEST(kid_unknown_or_missing)
{
	REFUSED(forge(key_a, hdr_kid("20990101T000000Z-ffffffff"),
	    claims("", NOW + 300)), "unknown key id");
	REFUSED(forge(key_a, hdr_kid("../../etc/passwd"),
	    claims("", NOW + 300)), "unknown key id");
	REFUSED(forge(key_a, "{\"alg\":\"ES256\",\"typ\":\"at+jwt\"}",
	    claims("", NOW + 300)), "missing key id");
	REFUSED(forge(key_a, "{\"alg\":\"ES256\",\"kid\":7}",
	    claims("", NOW + 300)), "missing key id");
}
END_TEST

START_TEST(tampered_payload)
{
	const char	*good, *jwt;

	good = forge(key_a, hdr_kid(KID_A), claims("", NOW + 300));
	ACCEPTED(good);
	jwt = gh_printf(&arena, "%s.%s.%s", part(good, 0),
	    b64(gh_printf(&arena, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
	    "\"sub\":\"user-1\",\"role\":\"admin\",\"iat\":%lld,"
	    "\"exp\":%lld,\"jti\":\"j-1\"}", NOW, NOW + 300)), part(good, 2));
	REFUSED(jwt, "bad token signature");
}
END_TEST

START_TEST(tampered_signature)
{
	char	*jwt;
	size_t	 sig;

	jwt = forge(key_a, hdr_kid(KID_A), claims("", NOW + 300));
	sig = strlen(jwt) - 86;
	jwt[sig + 10] = jwt[sig + 10] == 'A' ? 'B' : 'A';
	REFUSED(jwt, "bad token signature");
	/* The same signature for another header fails too. */
	jwt = forge(key_a, hdr_kid(KID_A), claims("", NOW + 300));
	REFUSED(gh_printf(&arena, "%s.%s.%s", b64(gh_printf(&arena,
	    "{\"alg\":\"ES256\",\"kid\":\"%s\"}", KID_A)), part(jwt, 1),
	    part(jwt, 2)), "bad token signature");
}
END_TEST

START_TEST(signature_wrong_length_or_range)
{
	unsigned char	 raw[72], *der;
	const char	*good, *input, *why;
	size_t		 len;
	int		 rc;

	memset(raw, 0, sizeof(raw));
	good = forge(key_a, hdr_kid(KID_A), claims("", NOW + 300));
	input = gh_printf(&arena, "%s.%s", part(good, 0), part(good, 1));
	ck_assert_int_eq(gh_b64url_decode(&arena, part(good, 2),
	    strlen(part(good, 2)), &der, &len), 0);
	memcpy(raw, der, 64);
	/* 63, 65 and 72 bytes (the DER length a naive signer sends). */
	REFUSED(gh_printf(&arena, "%s.%s", input,
	    gh_b64url_encode(&arena, raw, 63)), "bad token signature");
	raw[64] = 1;
	REFUSED(gh_printf(&arena, "%s.%s", input,
	    gh_b64url_encode(&arena, raw, 65)), "bad token signature");
	REFUSED(gh_printf(&arena, "%s.%s", input,
	    gh_b64url_encode(&arena, raw, 72)), "bad token signature");
	/* r = 0, and s = n: outside [1, n - 1]. */
	memset(raw, 0, 32);
	REFUSED(gh_printf(&arena, "%s.%s", input,
	    gh_b64url_encode(&arena, raw, 64)), "bad token signature");
	memcpy(raw, der, 32);
	memcpy(raw + 32, "\xff\xff\xff\xff\x00\x00\x00\x00"
	    "\xff\xff\xff\xff\xff\xff\xff\xff"
	    "\xbc\xe6\xfa\xad\xa7\x17\x9e\x84"
	    "\xf3\xb9\xca\xc2\xfc\x63\x25\x51", 32);
	REFUSED(gh_printf(&arena, "%s.%s", input,
	    gh_b64url_encode(&arena, raw, 64)), "bad token signature");
	memset(raw, 0xff, 64);
	REFUSED(gh_printf(&arena, "%s.%s", input,
	    gh_b64url_encode(&arena, raw, 64)), "bad token signature");
	/* The high-s twin (n - s) may pass or not, but must not crash. */
	{
		BIGNUM	*n, *s;

		n = BN_bin2bn((const unsigned char *)
		    "\xff\xff\xff\xff\x00\x00\x00\x00"
		    "\xff\xff\xff\xff\xff\xff\xff\xff"
		    "\xbc\xe6\xfa\xad\xa7\x17\x9e\x84"
		    "\xf3\xb9\xca\xc2\xfc\x63\x25\x51", 32, NULL);
		s = BN_bin2bn(der + 32, 32, NULL);
		ck_assert_int_eq(BN_sub(s, n, s), 1);
		memcpy(raw, der, 32);
		ck_assert_int_eq(BN_bn2binpad(s, raw + 32, 32), 32);
		BN_free(n);
		BN_free(s);
		rc = verify(gh_printf(&arena, "%s.%s", input,
		    gh_b64url_encode(&arena, raw, 64)), &why);
		ck_assert(rc == 0 || rc == -1);
	}
}
END_TEST

START_TEST(expired_and_leeway)
{
	REFUSED(forge(key_a, hdr_kid(KID_A), claims("", NOW - LEEWAY - 1)),
	    "token expired");
	REFUSED(forge(key_a, hdr_kid(KID_A), claims("", NOW - LEEWAY)),
	    "token expired");
	REFUSED(forge(key_a, hdr_kid(KID_A), claims("", 1)), "token expired");
	/* Clocks drift: a token a little past exp is still good. */
	ACCEPTED(forge(key_a, hdr_kid(KID_A), claims("", NOW - LEEWAY + 1)));
	ACCEPTED(forge(key_a, hdr_kid(KID_A), claims("", NOW - 30)));
}
END_TEST

START_TEST(nbf_and_iat_in_future)
{
	REFUSED(forge(key_a, hdr_kid(KID_A), claims(gh_printf(&arena,
	    ",\"nbf\":%lld", NOW + LEEWAY + 1), NOW + 300)),
	    "token not yet valid");
	ACCEPTED(forge(key_a, hdr_kid(KID_A), claims(gh_printf(&arena,
	    ",\"nbf\":%lld", NOW + 30), NOW + 300)));
	REFUSED(forge(key_a, hdr_kid(KID_A), claims(",\"nbf\":\"0\"",
	    NOW + 300)), "invalid nbf claim");
	/* claims() puts iat at NOW; a later duplicate would be refused. */
	REFUSED(forge(key_a, hdr_kid(KID_A), gh_printf(&arena,
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\","
	    "\"role\":\"user\",\"iat\":%lld,\"exp\":%lld,\"jti\":\"j\"}",
	    NOW + 3600, NOW + 7200)), "token issued in the future");
}
END_TEST

START_TEST(wrong_issuer)
{
	REFUSED(forge(key_a, hdr_kid(KID_A), gh_printf(&arena,
	    "{\"iss\":\"https://evil.test\",\"aud\":\"" AUD "\","
	    "\"sub\":\"u\",\"role\":\"user\",\"exp\":%lld,\"jti\":\"j\"}",
	    NOW + 300)), "wrong token issuer");
	REFUSED(forge(key_a, hdr_kid(KID_A), gh_printf(&arena,
	    "{\"aud\":\"" AUD "\",\"sub\":\"u\",\"role\":\"user\","
	    "\"exp\":%lld,\"jti\":\"j\"}", NOW + 300)), "wrong token issuer");
}
END_TEST

#define AUD_FMT	"{\"iss\":\"" ISS "\",\"aud\":%s,\"sub\":\"u\"," \
	"\"role\":\"user\",\"exp\":%lld,\"jti\":\"j\"}"

START_TEST(audience)
{
	REFUSED(forge(key_a, hdr_kid(KID_A), gh_printf(&arena, AUD_FMT,
	    "\"payments\"", NOW + 300)), "wrong token audience");
	REFUSED(forge(key_a, hdr_kid(KID_A), gh_printf(&arena, AUD_FMT,
	    "[\"payments\",\"media\"]", NOW + 300)), "wrong token audience");
	REFUSED(forge(key_a, hdr_kid(KID_A), gh_printf(&arena, AUD_FMT,
	    "[]", NOW + 300)), "wrong token audience");
	REFUSED(forge(key_a, hdr_kid(KID_A), gh_printf(&arena, AUD_FMT,
	    "null", NOW + 300)), "wrong token audience");
	ACCEPTED(forge(key_a, hdr_kid(KID_A), gh_printf(&arena, AUD_FMT,
	    "[\"payments\",\"" AUD "\"]", NOW + 300)));
	ACCEPTED(forge(key_a, hdr_kid(KID_A), gh_printf(&arena, AUD_FMT,
	    "[\"" AUD "\"]", NOW + 300)));
}
END_TEST

#define EXP_FMT	"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\"," \
	"\"sub\":\"u\",\"role\":\"user\",\"jti\":\"j\"%s}"

START_TEST(exp_missing_or_not_integer)
{
	REFUSED(forge(key_a, hdr_kid(KID_A), gh_printf(&arena, EXP_FMT, "")),
	    "invalid exp claim");
	REFUSED(forge(key_a, hdr_kid(KID_A), gh_printf(&arena, EXP_FMT,
	    ",\"exp\":\"1700000300\"")), "invalid exp claim");
	REFUSED(forge(key_a, hdr_kid(KID_A), gh_printf(&arena, EXP_FMT,
	    ",\"exp\":1700000300.0")), "invalid exp claim");
	REFUSED(forge(key_a, hdr_kid(KID_A), gh_printf(&arena, EXP_FMT,
	    ",\"exp\":null")), "invalid exp claim");
}
END_TEST

#define SUB_FMT	"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\"," \
	"\"exp\":%lld%s}"

START_TEST(subject_role_jti_required)
{
	char		 longsub[80];

	REFUSED(forge(key_a, hdr_kid(KID_A), gh_printf(&arena, SUB_FMT,
	    NOW + 300, ",\"role\":\"user\",\"jti\":\"j\"")),
	    "invalid sub claim");
	REFUSED(forge(key_a, hdr_kid(KID_A), gh_printf(&arena, SUB_FMT,
	    NOW + 300, ",\"sub\":\"\",\"role\":\"user\",\"jti\":\"j\"")),
	    "invalid sub claim");
	REFUSED(forge(key_a, hdr_kid(KID_A), gh_printf(&arena, SUB_FMT,
	    NOW + 300, ",\"sub\":42,\"role\":\"user\",\"jti\":\"j\"")),
	    "invalid sub claim");
	memset(longsub, 'x', 64);
	longsub[64] = '\0';
	REFUSED(forge(key_a, hdr_kid(KID_A), gh_printf(&arena, SUB_FMT,
	    NOW + 300, gh_printf(&arena, ",\"sub\":\"%s\",\"role\":\"user\","
	    "\"jti\":\"j\"", longsub))), "invalid sub claim");
	REFUSED(forge(key_a, hdr_kid(KID_A), gh_printf(&arena, SUB_FMT,
	    NOW + 300, ",\"sub\":\"u\",\"jti\":\"j\"")), "invalid role claim");
	REFUSED(forge(key_a, hdr_kid(KID_A), gh_printf(&arena, SUB_FMT,
	    NOW + 300, ",\"sub\":\"u\",\"role\":\"user\"")),
	    "invalid jti claim");
	REFUSED(forge(key_a, hdr_kid(KID_A), gh_printf(&arena, SUB_FMT,
	    NOW + 300, ",\"sub\":\"u\",\"role\":\"user\",\"jti\":\"j\","
	    "\"sid\":[]")), "invalid sid claim");
	/* 63 characters is the most a sub may have. */
	longsub[63] = '\0';
	ACCEPTED(forge(key_a, hdr_kid(KID_A), gh_printf(&arena, SUB_FMT,
	    NOW + 300, gh_printf(&arena, ",\"sub\":\"%s\",\"role\":\"user\","
	    "\"jti\":\"j\"", longsub))));
}
END_TEST

START_TEST(duplicate_keys)
{
	/* Two exp: which one a parser keeps is a disagreement to exploit. */
	REFUSED(forge(key_a, hdr_kid(KID_A), claims(",\"exp\":1", NOW + 300)),
	    "malformed token payload");
	REFUSED(forge(key_a, gh_printf(&arena, "{\"alg\":\"ES256\","
	    "\"alg\":\"none\",\"kid\":\"%s\"}", KID_A), claims("", NOW + 300)),
	    "malformed token header");
}
END_TEST

START_TEST(wrong_number_of_parts)
{
	const char	*good;

	good = forge(key_a, hdr_kid(KID_A), claims("", NOW + 300));
	REFUSED("", "malformed token");
	REFUSED("abc", "malformed token");
	REFUSED(gh_printf(&arena, "%s.%s", part(good, 0), part(good, 1)),
	    "malformed token");
	REFUSED(gh_printf(&arena, "%s.", part(good, 0)), "malformed token");
	REFUSED(gh_printf(&arena, "%s.", good), "malformed token");
	REFUSED(gh_printf(&arena, "%s.%s", good, part(good, 2)),
	    "malformed token");
	REFUSED(gh_printf(&arena, "%s.AAAA.AAAA", good), "malformed token");
	REFUSED("..", "malformed token header");
	REFUSED(NULL, "missing token");
}
END_TEST

START_TEST(padding_and_bad_characters)
{
	const char	*good;

	good = forge(key_a, hdr_kid(KID_A), claims("", NOW + 300));
	REFUSED(gh_printf(&arena, "%s=.%s.%s", part(good, 0), part(good, 1),
	    part(good, 2)), "malformed token");
	REFUSED(gh_printf(&arena, "%s.%s==.%s", part(good, 0), part(good, 1),
	    part(good, 2)), "malformed token");
	REFUSED(gh_printf(&arena, "%s.%s.%s=", part(good, 0), part(good, 1),
	    part(good, 2)), "malformed token");
	REFUSED(gh_printf(&arena, " %s", good), "malformed token");
	REFUSED(gh_printf(&arena, "%s\n", good), "malformed token");
	REFUSED(gh_printf(&arena, "%s.%s+.%s", part(good, 0), part(good, 1),
	    part(good, 2)), "malformed token");
}
END_TEST

START_TEST(header_not_a_json_object)
{
	const char	*p = b64(claims("", NOW + 300));

	REFUSED(gh_printf(&arena, "%s.%s.%s", b64("not json"), p,
	    gh_b64url_encode(&arena, "0123456789012345678901234567890123"
	    "456789012345678901234567890123", 64)), "malformed token header");
	REFUSED(forge(key_a, "[\"ES256\"]", claims("", NOW + 300)),
	    "malformed token header");
	REFUSED(forge(key_a, "\"ES256\"", claims("", NOW + 300)),
	    "malformed token header");
	REFUSED(forge(key_a, gh_printf(&arena, "%s {}", hdr_kid(KID_A)),
	    claims("", NOW + 300)), "malformed token header");
	REFUSED(forge(key_a, hdr_kid(KID_A), "[1,2]"),
	    "malformed token payload");
	REFUSED(forge(key_a, hdr_kid(KID_A), "{"),
	    "malformed token payload");
}
END_TEST

START_TEST(crit_and_typ_headers)
{
	REFUSED(forge(key_a, gh_printf(&arena, "{\"alg\":\"ES256\","
	    "\"kid\":\"%s\",\"crit\":[\"exp\"],\"exp\":1}", KID_A),
	    claims("", NOW + 300)), "unsupported critical header");
	REFUSED(forge(key_a, gh_printf(&arena, "{\"alg\":\"ES256\","
	    "\"kid\":\"%s\",\"crit\":[]}", KID_A),
	    claims("", NOW + 300)), "unsupported critical header");
	/* An ID token or a generic JWT is not an access token (RFC 9068). */
	REFUSED(forge(key_a, gh_printf(&arena, "{\"alg\":\"ES256\","
	    "\"typ\":\"JWT\",\"kid\":\"%s\"}", KID_A),
	    claims("", NOW + 300)), "wrong token type");
	REFUSED(forge(key_a, gh_printf(&arena, "{\"alg\":\"ES256\","
	    "\"typ\":1,\"kid\":\"%s\"}", KID_A),
	    claims("", NOW + 300)), "wrong token type");
}
END_TEST

START_TEST(huge_token)
{
	char	*big;

	big = gh_alloc(&arena, GH_TOKEN_MAX + 2);
	memset(big, 'A', GH_TOKEN_MAX + 1);
	big[GH_TOKEN_MAX + 1] = '\0';
	REFUSED(big, "token too large");
	/* A real token padded with a huge claim is refused before parsing. */
	memset(big, 'x', 7000);
	big[7000] = '\0';
	REFUSED(forge(key_a, hdr_kid(KID_A), claims(gh_printf(&arena,
	    ",\"pad\":\"%s\"", big), NOW + 300)), "token too large");
}
END_TEST

START_TEST(rotation)
{
	struct gh_keyset	*both = NULL, *only_c = NULL;
	struct gh_claims	 c = user_claims(), out;
	const char		*dir, *cdir, *why;
	char			 err[256], *old_jwt, *new_jwt, *c_jwt;
	EVP_PKEY		*key_c;

	/* A token from the old key, before the rotation. */
	ck_assert_int_eq(gh_token_sign(ks, ISS, AUD, &c, &arena, &old_jwt),
	    0);
	dir = tmpdir();
	write_key(dir, KID_B ".pem", "P-256", 0600);
	ck_assert_int_eq(rename(path_in(dirs[0], KID_A ".pem"),
	    path_in(dir, KID_A ".pem")), 0);
	ck_assert_msg(gh_keyset_load(dir, &both, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_str_eq(gh_keyset_signing_kid(both), KID_B);
	ck_assert_int_eq(gh_token_sign(both, ISS, AUD, &c, &arena, &new_jwt),
	    0);
	ck_assert_str_eq(decoded(part(new_jwt, 0)),
	    "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"" KID_B "\"}");
	ck_assert_int_eq(gh_token_verify(both, new_jwt, ISS, AUD, (time_t)NOW,
	    LEEWAY, &out, &why), 0);
	ck_assert_int_eq(gh_token_verify(both, old_jwt, ISS, AUD, (time_t)NOW,
	    LEEWAY, &out, &why), 0);
	/* The old set does not know the new key. */
	ck_assert_int_eq(gh_token_verify(ks, new_jwt, ISS, AUD, (time_t)NOW,
	    LEEWAY, &out, &why), -1);
	ck_assert_str_eq(why, "unknown key id");
	/* A key outside the set: unknown by its own kid, bad under ours. */
	cdir = tmpdir();
	key_c = write_key(cdir, "20270101T000000Z-cccccccc.pem", "P-256",
	    0600);
	ck_assert_int_eq(gh_keyset_load(cdir, &only_c, err, sizeof(err)), 0);
	ck_assert_int_eq(gh_token_sign(only_c, ISS, AUD, &c, &arena, &c_jwt),
	    0);
	ck_assert_int_eq(gh_token_verify(both, c_jwt, ISS, AUD, (time_t)NOW,
	    LEEWAY, &out, &why), -1);
	ck_assert_str_eq(why, "unknown key id");
	c_jwt = forge(key_c, hdr_kid(KID_B), claims("", NOW + 300));
	ck_assert_int_eq(gh_token_verify(both, c_jwt, ISS, AUD, (time_t)NOW,
	    LEEWAY, &out, &why), -1);
	ck_assert_str_eq(why, "bad token signature");
	ck_assert_str_eq(out.sub, "");	/* nothing half-filled */
	gh_keyset_free(only_c);
	gh_keyset_free(both);
}
END_TEST

START_TEST(jwks_lists_public_parts)
{
	struct gh_keyset	*both = NULL;
	json_t			*jwks, *k;
	BIGNUM			*x = NULL;
	unsigned char		 xb[32];
	char			 err[256];
	size_t			 i;

	write_key(dirs[0], KID_B ".pem", "P-256", 0600);
	ck_assert_msg(gh_keyset_load(dirs[0], &both, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_ptr_nonnull(jwks = gh_keyset_jwks(both));
	ck_assert_int_eq(json_object_size(jwks), 1);
	ck_assert_int_eq(json_array_size(json_object_get(jwks, "keys")), 2);
	json_array_foreach(json_object_get(jwks, "keys"), i, k) {
		ck_assert_str_eq(json_string_value(json_object_get(k, "kty")),
		    "EC");
		ck_assert_str_eq(json_string_value(json_object_get(k, "crv")),
		    "P-256");
		ck_assert_str_eq(json_string_value(json_object_get(k, "alg")),
		    "ES256");
		ck_assert_str_eq(json_string_value(json_object_get(k, "use")),
		    "sig");
		ck_assert_uint_eq(strlen(json_string_value(
		    json_object_get(k, "x"))), 43);
		ck_assert_uint_eq(strlen(json_string_value(
		    json_object_get(k, "y"))), 43);
		ck_assert_ptr_null(json_object_get(k, "d"));
		ck_assert_int_eq(json_object_size(k), 7);
	}
	k = json_array_get(json_object_get(jwks, "keys"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(k, "kid")), KID_A);
	ck_assert_int_eq(EVP_PKEY_get_bn_param(key_a, OSSL_PKEY_PARAM_EC_PUB_X,
	    &x), 1);
	ck_assert_int_eq(BN_bn2binpad(x, xb, 32), 32);
	BN_free(x);
	ck_assert_str_eq(json_string_value(json_object_get(k, "x")),
	    gh_b64url_encode(&arena, xb, 32));
	json_decref(jwks);
	gh_keyset_free(both);
}
END_TEST

START_TEST(public_keys_verify_only)
{
	struct gh_keyset	*pub = NULL;
	struct gh_claims	 c = user_claims(), out;
	const char		*dir, *why;
	char			 err[256], *jwt;

	dir = tmpdir();
	ck_assert_int_eq(gh_keyset_write_public(ks, dir, err, sizeof(err)),
	    0);
	ck_assert_int_eq(access(path_in(dir, KID_A ".pub.pem"), R_OK), 0);
	ck_assert_msg(gh_keyset_load(dir, &pub, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_ptr_null(gh_keyset_signing_kid(pub));
	ck_assert_int_eq(gh_token_sign(pub, ISS, AUD, &c, &arena, &jwt), -1);
	ck_assert_int_eq(gh_token_sign(ks, ISS, AUD, &c, &arena, &jwt), 0);
	ck_assert_int_eq(gh_token_verify(pub, jwt, ISS, AUD, (time_t)NOW,
	    LEEWAY, &out, &why), 0);
	gh_keyset_free(pub);
	/* Its own public key beside a private key is the same key: fine. */
	write_pub(dirs[0], KID_A ".pub.pem", key_a);
	ck_assert_msg(gh_keyset_load(dirs[0], &pub, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_str_eq(gh_keyset_signing_kid(pub), KID_A);
	gh_keyset_free(pub);
}
END_TEST

START_TEST(load_refuses_readable_private_key)
{
	struct gh_keyset	*bad = NULL;
	char			 err[256];

	ck_assert_int_eq(chmod(path_in(dirs[0], KID_A ".pem"), 0640), 0);
	ck_assert_int_eq(gh_keyset_load(dirs[0], &bad, err, sizeof(err)), -1);
	ck_assert_ptr_null(bad);
	ck_assert_msg(strstr(err, "chmod 600") != NULL, "%s", err);
	ck_assert_int_eq(chmod(path_in(dirs[0], KID_A ".pem"), 0604), 0);
	ck_assert_int_eq(gh_keyset_load(dirs[0], &bad, err, sizeof(err)), -1);
}
END_TEST

START_TEST(load_refuses_other_curves)
{
	struct gh_keyset	*bad = NULL;
	const char		*dir;
	char			 err[256];

	dir = tmpdir();
	write_key(dir, "20250101T000000Z-38438438.pem", "P-384", 0600);
	ck_assert_int_eq(gh_keyset_load(dir, &bad, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "P-256") != NULL, "%s", err);
	ck_assert_ptr_null(bad);
	/* A P-384 public key among good ones is refused as well. */
	write_pub(dirs[0], "20250101T000000Z-38438438.pub.pem",
	    keys[nkeys - 1]);
	ck_assert_int_eq(gh_keyset_load(dirs[0], &bad, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "P-256") != NULL, "%s", err);
}
END_TEST

START_TEST(load_refuses_bad_folders)
{
	struct gh_keyset	*bad = NULL;
	const char		*dir;
	char			 err[256];
	FILE			*fp;

	dir = tmpdir();
	ck_assert_int_eq(gh_keyset_load(dir, &bad, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "gatehouse-keygen") != NULL, "%s", err);
	ck_assert_int_eq(gh_keyset_load("/nonexistent/keys", &bad, err,
	    sizeof(err)), -1);
	/* Other files are skipped: still no key. */
	ck_assert_ptr_nonnull(fp = fopen(path_in(dir, "README"), "w"));
	fclose(fp);
	ck_assert_ptr_nonnull(fp = fopen(path_in(dir, ".keygen.abc123"),
	    "w"));
	fclose(fp);
	ck_assert_int_eq(gh_keyset_load(dir, &bad, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "no <kid>.pem") != NULL, "%s", err);
	/* A key file whose name is not a kid. */
	write_key(dir, "my key.pem", "P-256", 0600);
	ck_assert_int_eq(gh_keyset_load(dir, &bad, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "kid") != NULL, "%s", err);
	unlink(path_in(dir, "my key.pem"));
	/* A .pem that holds no key. */
	ck_assert_ptr_nonnull(fp = fopen(path_in(dir, "x.pem"), "w"));
	fputs("-----BEGIN PRIVATE KEY-----\nAAAA\n"
	    "-----END PRIVATE KEY-----\n", fp);
	fclose(fp);
	chmod(path_in(dir, "x.pem"), 0600);
	ck_assert_int_eq(gh_keyset_load(dir, &bad, err, sizeof(err)), -1);
	unlink(path_in(dir, "x.pem"));
	/* Another key's public half under our kid. */
	write_key(dir, KID_A ".pem", "P-256", 0600);
	write_pub(dir, KID_A ".pub.pem", key_a);
	ck_assert_int_eq(gh_keyset_load(dir, &bad, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "two different keys") != NULL, "%s", err);
	ck_assert_ptr_null(bad);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("token");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, sign_verify_round_trip);
	tcase_add_test(tc, sign_refuses_incomplete_claims);
	tcase_add_test(tc, forged_good_token_passes);
	tcase_add_test(tc, alg_none_empty_signature);
	tcase_add_test(tc, alg_none_with_signature);
	tcase_add_test(tc, alg_hs256_with_public_key_pem);
	tcase_add_test(tc, alg_es384_and_lowercase);
	tcase_add_test(tc, kid_unknown_or_missing);
	tcase_add_test(tc, tampered_payload);
	tcase_add_test(tc, tampered_signature);
	tcase_add_test(tc, signature_wrong_length_or_range);
	tcase_add_test(tc, expired_and_leeway);
	tcase_add_test(tc, nbf_and_iat_in_future);
	tcase_add_test(tc, wrong_issuer);
	tcase_add_test(tc, audience);
	tcase_add_test(tc, exp_missing_or_not_integer);
	tcase_add_test(tc, subject_role_jti_required);
	tcase_add_test(tc, duplicate_keys);
	tcase_add_test(tc, wrong_number_of_parts);
	tcase_add_test(tc, padding_and_bad_characters);
	tcase_add_test(tc, header_not_a_json_object);
	tcase_add_test(tc, crit_and_typ_headers);
	tcase_add_test(tc, huge_token);
	tcase_add_test(tc, rotation);
	tcase_add_test(tc, jwks_lists_public_parts);
	tcase_add_test(tc, public_keys_verify_only);
	tcase_add_test(tc, load_refuses_readable_private_key);
	tcase_add_test(tc, load_refuses_other_curves);
	tcase_add_test(tc, load_refuses_bad_folders);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
