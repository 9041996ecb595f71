/*
 * One-time codes (fcgi/auth/otp.c): HOTP and TOTP against the RFCs' own
 * test vectors, the time window and replays, codes as typed, base32, and
 * recovery codes.  Most cases are codes that must be refused.
 */
#include <stdint.h>
#include <stdio.h>

#include "unit.h"
#include "otp.h"

/* RFC 4226 Appendix D and RFC 6238 Appendix B (SHA-1): the same seed. */
static const unsigned char K[] = "12345678901234567890";
#define KLEN	20

/* Step 37037037, the RFC 6238 vector at 1111111111 s. */
#define T0	1111111111LL
#define S0	(T0 / AUTH_OTP_STEP)

/* The 6-digit code of a step, as an app shows it. */
static const char *
code_at(long long step, char buf[24])
{
	long	 h = auth_hotp(K, KLEN, (uint64_t)step, AUTH_OTP_DIGITS);

	ck_assert_int_ge(h, 0);
	snprintf(buf, 24, "%06ld", h);
	return buf;
}

START_TEST(hotp_rfc4226_vectors)
{
	static const long want[] = { 755224, 287082, 359152, 969429, 338314,
	    254676, 287922, 162583, 399871, 520489 };
	size_t	 i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_int_eq(auth_hotp(K, KLEN, i, 6), want[i]);
}
END_TEST

/* The truncated 31-bit values of Appendix D, seen through 9 digits. */
START_TEST(hotp_truncation_nine_digits)
{
	ck_assert_int_eq(auth_hotp(K, KLEN, 0, 9), 284755224);	/* 1284755224 */
	ck_assert_int_eq(auth_hotp(K, KLEN, 2, 9), 137359152);
	ck_assert_int_eq(auth_hotp(K, KLEN, 7, 9), 82162583);
	ck_assert_int_eq(auth_hotp(K, KLEN, 9, 9), 645520489);
}
END_TEST

START_TEST(totp_rfc6238_sha1_vectors)
{
	static const struct {
		long long	 t;
		long		 code8;
		const char	*code6;
	} v[] = {
		{ 59LL,			94287082, "287082" },
		{ 1111111109LL,		7081804,  "081804" },
		{ 1111111111LL,		14050471, "050471" },
		{ 1234567890LL,		89005924, "005924" },
		{ 2000000000LL,		69279037, "279037" },
		{ 20000000000LL,	65353130, "353130" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ck_assert_int_eq(auth_hotp(K, KLEN,
		    (uint64_t)(v[i].t / AUTH_OTP_STEP), 8), v[i].code8);
		ck_assert_int_eq(auth_totp_match(K, KLEN, v[i].code6, v[i].t,
		    0), v[i].t / AUTH_OTP_STEP);
	}
}
END_TEST

/* A clock one step off either way still signs in. */
START_TEST(totp_window_takes_skew)
{
	char	 b[24];

	ck_assert_int_eq(auth_totp_match(K, KLEN, code_at(S0 - 1, b), T0, 0),
	    S0 - 1);
	ck_assert_int_eq(auth_totp_match(K, KLEN, code_at(S0, b), T0, 0), S0);
	ck_assert_int_eq(auth_totp_match(K, KLEN, code_at(S0 + 1, b), T0, 0),
	    S0 + 1);
	/* The first and the last second of a step are that step. */
	ck_assert_int_eq(auth_totp_match(K, KLEN, code_at(S0, b),
	    S0 * AUTH_OTP_STEP, 0), S0);
	ck_assert_int_eq(auth_totp_match(K, KLEN, code_at(S0, b),
	    S0 * AUTH_OTP_STEP + AUTH_OTP_STEP - 1, 0), S0);
	/* The step after the last accepted one is still good. */
	ck_assert_int_eq(auth_totp_match(K, KLEN, code_at(S0, b), T0, S0 - 1),
	    S0);
}
END_TEST

START_TEST(totp_outside_window_refused)
{
	char	 b[24];

	ck_assert_int_eq(auth_totp_match(K, KLEN, code_at(S0 - 2, b), T0, 0),
	    -1);
	ck_assert_int_eq(auth_totp_match(K, KLEN, code_at(S0 + 2, b), T0, 0),
	    -1);
	ck_assert_int_eq(auth_totp_match(K, KLEN, code_at(S0 - 100, b), T0,
	    0), -1);
	/* The next step's first second no longer takes two steps back. */
	ck_assert_int_eq(auth_totp_match(K, KLEN, code_at(S0 - 1, b),
	    (S0 + 1) * AUTH_OTP_STEP, 0), -1);
}
END_TEST

START_TEST(totp_replayed_step_refused)
{
	char	 b[24];

	ck_assert_int_eq(auth_totp_match(K, KLEN, code_at(S0, b), T0, S0),
	    -1);
	ck_assert_int_eq(auth_totp_match(K, KLEN, code_at(S0 + 1, b), T0,
	    S0 + 1), -1);
}
END_TEST

/* After a newer code, an older one (still in the window) is spent too. */
START_TEST(totp_older_after_newer_refused)
{
	char	 b[24];

	ck_assert_int_eq(auth_totp_match(K, KLEN, code_at(S0 - 1, b), T0, S0),
	    -1);
	ck_assert_int_eq(auth_totp_match(K, KLEN, code_at(S0, b), T0, S0 + 1),
	    -1);
}
END_TEST

START_TEST(totp_wrong_key_or_code_refused)
{
	static const unsigned char other[] = "12345678901234567891";
	char	 b[24];
	unsigned v;

	ck_assert_int_eq(auth_totp_match(other, KLEN, code_at(S0, b), T0, 0),
	    -1);
	ck_assert_int_eq(auth_totp_match(K, KLEN - 1, code_at(S0, b), T0, 0),
	    -1);
	/* One digit off. */
	code_at(S0, b);
	ck_assert_int_eq(auth_otp_parse(b, &v), 0);
	snprintf(b, sizeof(b), "%06u", (v + 1) % 1000000);
	ck_assert_int_eq(auth_totp_match(K, KLEN, b, T0, 0), -1);
}
END_TEST

START_TEST(totp_bad_time_refused)
{
	ck_assert_int_eq(auth_totp_match(K, KLEN, "287082", -1, 0), -1);
	ck_assert_int_eq(auth_totp_match(K, KLEN, "287082", -59, 0), -1);
	/* At time 0 there is no step -1 to try, only 0 and 1. */
	ck_assert_int_eq(auth_totp_match(K, KLEN, "755224", 0, 0), -1);
	ck_assert_int_eq(auth_totp_match(K, KLEN, "287082", 0, 0), 1);
}
END_TEST

START_TEST(hotp_bad_digits_refused)
{
	ck_assert_int_eq(auth_hotp(K, KLEN, 0, 0), -1);
	ck_assert_int_eq(auth_hotp(K, KLEN, 0, -6), -1);
	ck_assert_int_eq(auth_hotp(K, KLEN, 0, 10), -1);
}
END_TEST

START_TEST(code_wrong_length_refused)
{
	unsigned v = 42;

	ck_assert_int_eq(auth_otp_parse("12345", &v), -1);
	ck_assert_int_eq(auth_otp_parse("1234567", &v), -1);
	ck_assert_int_eq(auth_otp_parse("1", &v), -1);
	ck_assert_int_eq(auth_otp_parse("0000000000000000", &v), -1);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(auth_totp_match(K, KLEN, "0287082", 59, 0), -1);
	ck_assert_int_eq(auth_totp_match(K, KLEN, "28708", 59, 0), -1);
}
END_TEST

START_TEST(code_non_digits_refused)
{
	unsigned v = 42;

	ck_assert_int_eq(auth_otp_parse("12a456", &v), -1);
	ck_assert_int_eq(auth_otp_parse("+12345", &v), -1);
	ck_assert_int_eq(auth_otp_parse("-12345", &v), -1);
	ck_assert_int_eq(auth_otp_parse("0x1234", &v), -1);
	ck_assert_int_eq(auth_otp_parse("1234.5", &v), -1);
	ck_assert_int_eq(auth_otp_parse("12 456", &v), -1);
	ck_assert_int_eq(auth_otp_parse("ABCDEF", &v), -1);
	/* Full-width digits are digits to a person, not to us. */
	ck_assert_int_eq(auth_otp_parse("\xef\xbc\x91\xef\xbc\x92", &v), -1);
	ck_assert_int_eq(v, 42);
}
END_TEST

START_TEST(code_empty_refused)
{
	unsigned v = 42;

	ck_assert_int_eq(auth_otp_parse("", &v), -1);
	ck_assert_int_eq(auth_otp_parse(NULL, &v), -1);
	ck_assert_int_eq(auth_totp_match(K, KLEN, "", 59, 0), -1);
	ck_assert_int_eq(auth_totp_match(K, KLEN, NULL, 59, 0), -1);
	ck_assert_int_eq(v, 42);
}
END_TEST

/* strtonum would take " 28708" as 28708, which is code 028708. */
START_TEST(code_spaces_refused)
{
	unsigned v = 42;

	ck_assert_int_eq(auth_otp_parse(" 12345", &v), -1);
	ck_assert_int_eq(auth_otp_parse("12345 ", &v), -1);
	ck_assert_int_eq(auth_otp_parse(" 123456", &v), -1);
	ck_assert_int_eq(auth_otp_parse("123456 ", &v), -1);
	ck_assert_int_eq(auth_otp_parse("\t12345", &v), -1);
	ck_assert_int_eq(auth_otp_parse("123456\n", &v), -1);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(auth_totp_match(K, KLEN, " 287082", 59, 0), -1);
	ck_assert_int_eq(auth_totp_match(K, KLEN, "287082 ", 59, 0), -1);
}
END_TEST

START_TEST(code_parsed)
{
	unsigned v = 42;

	ck_assert_int_eq(auth_otp_parse("000000", &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(auth_otp_parse("081804", &v), 0);
	ck_assert_uint_eq(v, 81804);
	ck_assert_int_eq(auth_otp_parse("999999", &v), 0);
	ck_assert_uint_eq(v, 999999);
}
END_TEST

START_TEST(base32_rfc4648_vectors)
{
	struct gh_arena	 a;
	unsigned char	 key[AUTH_OTP_KEYLEN];

	gh_arena_init(&a);
	ck_assert_str_eq(auth_base32(&a, (const unsigned char *)"", 0), "");
	ck_assert_str_eq(auth_base32(&a, (const unsigned char *)"f", 1), "MY");
	ck_assert_str_eq(auth_base32(&a, (const unsigned char *)"fo", 2),
	    "MZXQ");
	ck_assert_str_eq(auth_base32(&a, (const unsigned char *)"foo", 3),
	    "MZXW6");
	ck_assert_str_eq(auth_base32(&a, (const unsigned char *)"foob", 4),
	    "MZXW6YQ");
	ck_assert_str_eq(auth_base32(&a, (const unsigned char *)"fooba", 5),
	    "MZXW6YTB");
	ck_assert_str_eq(auth_base32(&a, (const unsigned char *)"foobar", 6),
	    "MZXW6YTBOI");
	/* RFC 6238's seed, as an app would be given it. */
	ck_assert_str_eq(auth_base32(&a, K, KLEN),
	    "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
	memset(key, 0xff, sizeof(key));
	ck_assert_uint_eq(strlen(auth_base32(&a, key, sizeof(key))), 32);
	gh_arena_free(&a);
}
END_TEST

START_TEST(recovery_round_trip)
{
	static const unsigned char raw[AUTH_RECOVERY_BYTES] = { 0x00, 0x01,
	    0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0xff };
	char	 code[AUTH_RECOVERY_LEN + 1], out[AUTH_RECOVERY_LEN + 1];

	auth_recovery_make(code, raw);
	ck_assert_str_eq(code, "00019abcdef0123456ff");
	ck_assert_int_eq(auth_recovery_parse(code, out), 0);
	ck_assert_str_eq(out, code);
}
END_TEST

/* Hex does not care for case: a code copied in capitals is the same code. */
START_TEST(recovery_case_folded)
{
	char	 out[AUTH_RECOVERY_LEN + 1];

	ck_assert_int_eq(auth_recovery_parse("00019ABCDEF0123456FF", out), 0);
	ck_assert_str_eq(out, "00019abcdef0123456ff");
	ck_assert_int_eq(auth_recovery_parse("00019aBcDeF0123456fF", out), 0);
	ck_assert_str_eq(out, "00019abcdef0123456ff");
}
END_TEST

START_TEST(recovery_wrong_length_refused)
{
	char	 out[AUTH_RECOVERY_LEN + 1];

	ck_assert_int_eq(auth_recovery_parse("00019abcdef0123456f", out), -1);
	ck_assert_int_eq(auth_recovery_parse("00019abcdef0123456ff0", out),
	    -1);
	ck_assert_int_eq(auth_recovery_parse("00019abcdef0123456ff"
	    "00019abcdef0123456ff", out), -1);
	ck_assert_int_eq(auth_recovery_parse("a", out), -1);
}
END_TEST

START_TEST(recovery_not_hex_refused)
{
	char	 out[AUTH_RECOVERY_LEN + 1];

	ck_assert_int_eq(auth_recovery_parse("00019abcdef0123456fg", out), -1);
	ck_assert_int_eq(auth_recovery_parse("g0019abcdef0123456ff", out), -1);
	ck_assert_int_eq(auth_recovery_parse("0x019abcdef0123456ff", out), -1);
	ck_assert_int_eq(auth_recovery_parse("00019abcdef0123456\xc3\xa9",
	    out), -1);
	ck_assert_int_eq(auth_recovery_parse("123456", out), -1);
}
END_TEST

START_TEST(recovery_spaces_and_dashes_refused)
{
	char	 out[AUTH_RECOVERY_LEN + 1];

	ck_assert_int_eq(auth_recovery_parse(" 00019abcdef0123456ff", out),
	    -1);
	ck_assert_int_eq(auth_recovery_parse("00019abcdef0123456ff ", out),
	    -1);
	ck_assert_int_eq(auth_recovery_parse("00019abcdef0123456ff\n", out),
	    -1);
	ck_assert_int_eq(auth_recovery_parse("00019abcde f0123456ff", out),
	    -1);
	ck_assert_int_eq(auth_recovery_parse("00019-abcde-f0123-456ff", out),
	    -1);
}
END_TEST

START_TEST(recovery_empty_refused)
{
	char	 out[AUTH_RECOVERY_LEN + 1];

	ck_assert_int_eq(auth_recovery_parse("", out), -1);
	ck_assert_int_eq(auth_recovery_parse(NULL, out), -1);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("otp");
	TCase	*tc = tcase_create("codes");
	TCase	*tr = tcase_create("recovery");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, hotp_rfc4226_vectors);
	tcase_add_test(tc, hotp_truncation_nine_digits);
	tcase_add_test(tc, totp_rfc6238_sha1_vectors);
	tcase_add_test(tc, totp_window_takes_skew);
	tcase_add_test(tc, code_parsed);
	tcase_add_test(tc, base32_rfc4648_vectors);
	tcase_add_test(tc, totp_outside_window_refused);
	tcase_add_test(tc, totp_replayed_step_refused);
	tcase_add_test(tc, totp_older_after_newer_refused);
	tcase_add_test(tc, totp_wrong_key_or_code_refused);
	tcase_add_test(tc, totp_bad_time_refused);
	tcase_add_test(tc, hotp_bad_digits_refused);
	tcase_add_test(tc, code_wrong_length_refused);
	tcase_add_test(tc, code_non_digits_refused);
	tcase_add_test(tc, code_empty_refused);
	tcase_add_test(tc, code_spaces_refused);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tr, 10);
	tcase_add_test(tr, recovery_round_trip);
	tcase_add_test(tr, recovery_case_folded);
	tcase_add_test(tr, recovery_wrong_length_refused);
	tcase_add_test(tr, recovery_not_hex_refused);
	tcase_add_test(tr, recovery_spaces_and_dashes_refused);
	tcase_add_test(tr, recovery_empty_refused);
	suite_add_tcase(s, tr);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
