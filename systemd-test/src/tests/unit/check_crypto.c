/* Base64url, digests, constant-time compare, argon2id password hashes. */
#include <stdio.h>

#include <argon2.h>

#include "unit.h"

/* Small costs: the tests check behaviour, not strength. */
static const struct gh_argon2 fast = { 1, 8192, 1 };

static int
decodes(const char *s, size_t len)
{
	struct gh_arena	 a;
	unsigned char	*out;
	size_t		 outlen;
	int		 rc;

	gh_arena_init(&a);
	rc = gh_b64url_decode(&a, s, len, &out, &outlen);
	if (rc != 0)
		ck_assert_ptr_null(out);
	gh_arena_free(&a);
	return rc == 0;
}

START_TEST(b64url_vectors)
{
	/* RFC 4648 section 10, without the padding. */
	static const char *const vec[][2] = {
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy" }
	};
	static const unsigned char urlsafe[] = { 0xfb, 0xff, 0xbf };
	struct gh_arena	 a;
	unsigned char	*out;
	size_t		 i, outlen;

	gh_arena_init(&a);
	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		ck_assert_str_eq(gh_b64url_encode(&a, vec[i][0],
		    strlen(vec[i][0])), vec[i][1]);
		ck_assert_int_eq(gh_b64url_decode(&a, vec[i][1],
		    strlen(vec[i][1]), &out, &outlen), 0);
		ck_assert_uint_eq(outlen, strlen(vec[i][0]));
		ck_assert_str_eq((char *)out, vec[i][0]);
	}
	/* The two characters that differ from plain base64. */
	ck_assert_str_eq(gh_b64url_encode(&a, urlsafe, sizeof(urlsafe)),
	    "-_-_");
	gh_arena_free(&a);
}
END_TEST

START_TEST(b64url_round_trips)
{
	struct gh_arena	 a;
	unsigned char	 buf[64], *out;
	size_t		 n, outlen;
	char		*s;

	gh_arena_init(&a);
	for (n = 0; n <= sizeof(buf); n++) {
		ck_assert_int_eq(gh_random(buf, n), 0);
		s = gh_b64url_encode(&a, buf, n);
		ck_assert_ptr_nonnull(s);
		ck_assert_uint_eq(strlen(s), (n * 8 + 5) / 6);
		ck_assert_int_eq(gh_b64url_decode(&a, s, strlen(s), &out,
		    &outlen), 0);
		ck_assert_uint_eq(outlen, n);
		ck_assert_int_eq(memcmp(out, buf, n), 0);
	}
	gh_arena_free(&a);
}
END_TEST

START_TEST(b64url_refuses_padding_and_strangers)
{
	ck_assert(!decodes("Zg==", 4));
	ck_assert(!decodes("Zm8=", 4));
	ck_assert(!decodes("Zg=", 3));
	ck_assert(!decodes("Zm+v", 4));		/* plain base64 */
	ck_assert(!decodes("Zm/v", 4));
	ck_assert(!decodes("Zm9 v", 5));
	ck_assert(!decodes("Zm9v\n", 5));
	ck_assert(!decodes("Zm9v.", 5));
	ck_assert(!decodes("Zm\0v", 4));	/* a NUL inside the length */
	ck_assert(!decodes("Zm\xc3\xa9", 4));
}
END_TEST

START_TEST(b64url_refuses_impossible_lengths)
{
	ck_assert(!decodes("Z", 1));
	ck_assert(!decodes("Zm9vY", 5));
	ck_assert(!decodes("Zm9vYmFyZ", 9));
	ck_assert(decodes("", 0));
	ck_assert(decodes("Zm9vYg", 6));
}
END_TEST

START_TEST(b64url_refuses_noncanonical_bits)
{
	/* "f" is Zg; Zh..Zv carry set bits past the last byte. */
	ck_assert(decodes("Zg", 2));
	ck_assert(!decodes("Zh", 2));
	ck_assert(!decodes("Zv", 2));
	/* "fo" is Zm8; Zm9 differs only in the discarded bits. */
	ck_assert(decodes("Zm8", 3));
	ck_assert(!decodes("Zm9", 3));
	ck_assert(!decodes("Zm-", 3));
}
END_TEST

START_TEST(sha256_vectors)
{
	struct gh_arena	 a;
	unsigned char	 md[32];
	char		 h[65];

	gh_arena_init(&a);
	ck_assert_int_eq(gh_sha256("abc", 3, md), 0);
	gh_hex(h, md, 32);
	ck_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	ck_assert_str_eq(gh_sha256_hex(&a, "", 0),
	    "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	ck_assert_str_ne(gh_sha256_hex(&a, "abd", 3), h);
	gh_hex(h, "\x00\x0f\xa0\xff", 4);
	ck_assert_str_eq(h, "000fa0ff");
	gh_hex(h, "", 0);
	ck_assert_str_eq(h, "");
	gh_arena_free(&a);
}
END_TEST

START_TEST(hmac_sha256_rfc4231)
{
	unsigned char	 key[131], md[32];
	char		 h[65];
	static const char large[] =
	    "Test Using Larger Than Block-Size Key - Hash Key First";

	/* Test case 1. */
	memset(key, 0x0b, 20);
	ck_assert_int_eq(gh_hmac_sha256(key, 20, "Hi There", 8, md), 0);
	gh_hex(h, md, 32);
	ck_assert_str_eq(h, "b0344c61d8db38535ca8afceaf0bf12b"
	    "881dc200c9833da726e9376c2e32cff7");
	/* Test case 2: a key shorter than the output. */
	gh_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, md);
	gh_hex(h, md, 32);
	ck_assert_str_eq(h, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843");
	/* Test case 6: a key longer than the block is hashed first. */
	memset(key, 0xaa, sizeof(key));
	gh_hmac_sha256(key, sizeof(key), large, strlen(large), md);
	gh_hex(h, md, 32);
	ck_assert_str_eq(h, "60e431591ee0b67f0d8a26aacbf5b77f"
	    "8e0bc6213728c5140546040f0ee37f54");
	/* Empty key and message are valid inputs, not errors. */
	ck_assert_int_eq(gh_hmac_sha256(NULL, 0, NULL, 0, md), 0);
	gh_hex(h, md, 32);
	ck_assert_str_eq(h, "b613679a0814d9ec772f95d778c35fc5"
	    "ff1697c493715653c6c712144292c5ad");
}
END_TEST

START_TEST(ct_equal_and_wipe)
{
	unsigned char	 a[32], b[32];

	memset(a, 7, sizeof(a));
	memset(b, 7, sizeof(b));
	ck_assert_int_eq(gh_ct_equal(a, b, sizeof(a)), 1);
	b[31] = 8;
	ck_assert_int_eq(gh_ct_equal(a, b, sizeof(a)), 0);
	b[31] = 7;
	b[0] = 0;
	ck_assert_int_eq(gh_ct_equal(a, b, sizeof(a)), 0);
	ck_assert_int_eq(gh_ct_equal(a, b, 0), 1);
	gh_wipe(a, sizeof(a));
	memset(b, 0, sizeof(b));
	ck_assert_int_eq(memcmp(a, b, sizeof(a)), 0);
	gh_wipe(NULL, 4);
}
END_TEST

START_TEST(random_tokens)
{
	struct gh_arena	 a;
	unsigned char	 x[32], y[32];
	char		*t1, *t2;

	gh_arena_init(&a);
	t1 = gh_random_token(&a, 32);
	t2 = gh_random_token(&a, 32);
	ck_assert_ptr_nonnull(t1);
	ck_assert_ptr_nonnull(t2);
	ck_assert_uint_eq(strlen(t1), 43);
	ck_assert_str_ne(t1, t2);
	ck_assert_uint_eq(strspn(t1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
	ck_assert_uint_eq(strlen(gh_random_token(&a, 16)), 22);
	ck_assert_uint_eq(strlen(gh_random_token(&a, 1)), 2);
	ck_assert_ptr_null(gh_random_token(&a, 0));
	ck_assert_ptr_null(gh_random_token(&a, 257));
	ck_assert_int_eq(gh_random(x, sizeof(x)), 0);
	ck_assert_int_eq(gh_random(y, sizeof(y)), 0);
	ck_assert_int_ne(memcmp(x, y, sizeof(x)), 0);
	gh_arena_free(&a);
}
END_TEST

START_TEST(argon2_settings)
{
	struct gh_argon2	 p;

	unsetenv("GH_ARGON2_T");
	unsetenv("GH_ARGON2_M_KIB");
	unsetenv("GH_ARGON2_P");
	ck_assert_int_eq(gh_argon2_from_env(&p), 0);
	ck_assert_uint_eq(p.t_cost, 2);
	ck_assert_uint_eq(p.m_cost_kib, 19456);
	ck_assert_uint_eq(p.parallelism, 1);
	setenv("GH_ARGON2_T", "3", 1);
	setenv("GH_ARGON2_M_KIB", "65536", 1);
	setenv("GH_ARGON2_P", "4", 1);
	ck_assert_int_eq(gh_argon2_from_env(&p), 0);
	ck_assert_uint_eq(p.t_cost, 3);
	ck_assert_uint_eq(p.m_cost_kib, 65536);
	ck_assert_uint_eq(p.parallelism, 4);
	unsetenv("GH_ARGON2_P");
	setenv("GH_ARGON2_M_KIB", "4096", 1);	/* below 8 MiB */
	ck_assert_int_eq(gh_argon2_from_env(&p), -1);
	setenv("GH_ARGON2_M_KIB", "19m", 1);
	ck_assert_int_eq(gh_argon2_from_env(&p), -1);
	unsetenv("GH_ARGON2_M_KIB");
	setenv("GH_ARGON2_T", "0", 1);
	ck_assert_int_eq(gh_argon2_from_env(&p), -1);
	setenv("GH_ARGON2_T", "11", 1);
	ck_assert_int_eq(gh_argon2_from_env(&p), -1);
	unsetenv("GH_ARGON2_T");
	setenv("GH_ARGON2_P", "9", 1);
	ck_assert_int_eq(gh_argon2_from_env(&p), -1);
	unsetenv("GH_ARGON2_P");
}
END_TEST

START_TEST(password_hash_and_verify)
{
	char	 h1[GH_PASSWORD_HASH_MAX], h2[GH_PASSWORD_HASH_MAX];

	ck_assert_int_eq(gh_password_hash(&fast, "correct horse", 13, h1,
	    sizeof(h1)), 0);
	ck_assert_msg(strncmp(h1, "$argon2id$v=19$m=8192,t=1,p=1$", 30) == 0,
	    "%s", h1);
	ck_assert_int_eq(gh_password_verify(h1, "correct horse", 13), 0);
	/* A fresh salt each time: the same password, two hashes. */
	ck_assert_int_eq(gh_password_hash(&fast, "correct horse", 13, h2,
	    sizeof(h2)), 0);
	ck_assert_str_ne(h1, h2);
	ck_assert_int_eq(gh_password_verify(h2, "correct horse", 13), 0);
	/* An empty password is a password (the caller sets the policy). */
	ck_assert_int_eq(gh_password_hash(&fast, "", 0, h2, sizeof(h2)), 0);
	ck_assert_int_eq(gh_password_verify(h2, "", 0), 0);
	ck_assert_int_eq(gh_password_verify(h2, "x", 1), 1);
	/* Too small a buffer fails rather than truncates. */
	ck_assert_int_eq(gh_password_hash(&fast, "pw", 2, h2, 40), -1);
}
END_TEST

START_TEST(password_mismatch)
{
	char	 h[GH_PASSWORD_HASH_MAX];

	ck_assert_int_eq(gh_password_hash(&fast, "correct horse", 13, h,
	    sizeof(h)), 0);
	ck_assert_int_eq(gh_password_verify(h, "correct horsf", 13), 1);
	ck_assert_int_eq(gh_password_verify(h, "correct hors", 12), 1);
	ck_assert_int_eq(gh_password_verify(h, "correct horse ", 14), 1);
	/* The length counts, not a NUL inside the password. */
	ck_assert_int_eq(gh_password_verify(h, "correct horse\0x", 15), 1);
}
END_TEST

START_TEST(password_refuses_other_algorithms)
{
	char	 h[GH_PASSWORD_HASH_MAX];

	/* A genuine argon2i hash of the right password is still refused. */
	ck_assert_int_eq(argon2i_hash_encoded(1, 8192, 1, "pw", 2,
	    "0123456789abcdef", 16, 32, h, sizeof(h)), ARGON2_OK);
	ck_assert_int_eq(argon2i_verify(h, "pw", 2), ARGON2_OK);
	ck_assert_int_eq(gh_password_verify(h, "pw", 2), -1);
	ck_assert_int_eq(argon2d_hash_encoded(1, 8192, 1, "pw", 2,
	    "0123456789abcdef", 16, 32, h, sizeof(h)), ARGON2_OK);
	ck_assert_int_eq(gh_password_verify(h, "pw", 2), -1);
	ck_assert_int_eq(gh_password_verify("$2y$10$abcdefghijklmnopqrstuu"
	    "5yFm2y3iUaRVAZRQ6i4LHGVjUoHgL2", "pw", 2), -1);
	ck_assert_int_eq(gh_password_verify("plaintext", "plaintext", 9), -1);
}
END_TEST

START_TEST(password_refuses_malformed)
{
	char	 h[GH_PASSWORD_HASH_MAX], bad[GH_PASSWORD_HASH_MAX + 16];
	size_t	 n;

	ck_assert_int_eq(gh_password_hash(&fast, "pw", 2, h, sizeof(h)), 0);
	ck_assert_int_eq(gh_password_verify(NULL, "pw", 2), -1);
	ck_assert_int_eq(gh_password_verify("", "pw", 2), -1);
	ck_assert_int_eq(gh_password_verify("$argon2id$", "pw", 2), -1);
	ck_assert_int_eq(gh_password_verify("$argon2id$v=19$m=8192,t=1,p=1$",
	    "pw", 2), -1);
	/* Version 16, absurd costs, a cut-off hash, an upper-case name. */
	ck_assert_int_eq(gh_password_verify("$argon2id$v=16$m=8192,t=1,p=1$"
	    "MDEyMzQ1Njc4OWFiY2RlZg$YWJj", "pw", 2), -1);
	snprintf(bad, sizeof(bad), "$argon2id$v=19$m=99999999,t=1,p=1%s",
	    strrchr(h, '$') - 23);
	ck_assert_int_eq(gh_password_verify(bad, "pw", 2), -1);
	snprintf(bad, sizeof(bad), "$argon2id$v=19$m=8192,t=11,p=1%s",
	    strrchr(h, '$') - 23);
	ck_assert_int_eq(gh_password_verify(bad, "pw", 2), -1);
	snprintf(bad, sizeof(bad), "$argon2id$v=19$m=08192,t=1,p=1%s",
	    strrchr(h, '$') - 23);
	ck_assert_int_eq(gh_password_verify(bad, "pw", 2), -1);
	/* A hash cut short, junk after it, a salt missing. */
	n = strlen(h);
	memcpy(bad, h, n - 30);
	bad[n - 30] = '\0';
	ck_assert_int_eq(gh_password_verify(bad, "pw", 2), -1);
	snprintf(bad, sizeof(bad), "%s$x", h);
	ck_assert_int_eq(gh_password_verify(bad, "pw", 2), -1);
	snprintf(bad, sizeof(bad), "%s=", h);
	ck_assert_int_eq(gh_password_verify(bad, "pw", 2), -1);
	snprintf(bad, sizeof(bad), "$argon2id$v=19$m=8192,t=1,p=1%s",
	    strrchr(h, '$'));
	ck_assert_int_eq(gh_password_verify(bad, "pw", 2), -1);
	memcpy(bad, h, n + 1);
	bad[1] = 'A';
	ck_assert_int_eq(gh_password_verify(bad, "pw", 2), -1);
}
END_TEST

START_TEST(password_needs_rehash)
{
	struct gh_argon2	 p = fast;
	char			 h[GH_PASSWORD_HASH_MAX];

	ck_assert_int_eq(gh_password_hash(&fast, "pw", 2, h, sizeof(h)), 0);
	ck_assert_int_eq(gh_password_needs_rehash(h, &fast), 0);
	p.t_cost = 2;
	ck_assert_int_eq(gh_password_needs_rehash(h, &p), 1);
	p = fast;
	p.m_cost_kib = 19456;
	ck_assert_int_eq(gh_password_needs_rehash(h, &p), 1);
	p = fast;
	p.parallelism = 2;
	ck_assert_int_eq(gh_password_needs_rehash(h, &p), 1);
	ck_assert_int_eq(gh_password_needs_rehash("$2y$10$x", &fast), 1);
	ck_assert_int_eq(gh_password_needs_rehash("", &fast), 1);
}
END_TEST

START_TEST(password_dummy_verify)
{
	struct gh_argon2	 p = fast;

	/* Nothing to observe but that it runs, twice, and survives a change. */
	gh_password_dummy_verify(&fast, "pw", 2);
	gh_password_dummy_verify(&fast, "other", 5);
	p.t_cost = 2;
	gh_password_dummy_verify(&p, "pw", 2);
	gh_password_dummy_verify(&p, "", 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("crypto");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, b64url_vectors);
	tcase_add_test(tc, b64url_round_trips);
	tcase_add_test(tc, b64url_refuses_padding_and_strangers);
	tcase_add_test(tc, b64url_refuses_impossible_lengths);
	tcase_add_test(tc, b64url_refuses_noncanonical_bits);
	tcase_add_test(tc, sha256_vectors);
	tcase_add_test(tc, hmac_sha256_rfc4231);
	tcase_add_test(tc, ct_equal_and_wipe);
	tcase_add_test(tc, random_tokens);
	tcase_add_test(tc, argon2_settings);
	tcase_add_test(tc, password_hash_and_verify);
	tcase_add_test(tc, password_mismatch);
	tcase_add_test(tc, password_refuses_other_algorithms);
	tcase_add_test(tc, password_refuses_malformed);
	tcase_add_test(tc, password_needs_rehash);
	tcase_add_test(tc, password_dummy_verify);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
