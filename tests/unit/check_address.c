/*
 * What an e-mail address must be (fcgi/auth/password.c): at least as
 * strict as the mail outbox (mail_address_problem, sql/auth/007), so that
 * an account's address can always be mailed.  Most cases are addresses
 * that must be refused, each for the reason it is told.
 */
#include <string.h>

#include "unit.h"
#include "password.h"

/* The refusal of s, which must mention why. */
static void
refused(const char *s, const char *why)
{
	const char	*got = auth_valid_email(s);

	ck_assert_msg(got != NULL, "\"%s\" was taken", s);
	ck_assert_msg(strstr(got, why) != NULL, "\"%s\": \"%s\", not about "
	    "\"%s\"", s, got, why);
}

/* An address of n characters: a local part of 64, labels of at most 63. */
static const char *
long_address(char *buf, size_t n)
{
	size_t	 d = n - 64 - 1 - 61 - 1 - 61 - 1 - 4;

	memset(buf, 'l', 64);
	buf[64] = '@';
	memset(buf + 65, 'd', 61);
	buf[126] = '.';
	memset(buf + 127, 'e', 61);
	buf[188] = '.';
	memset(buf + 189, 'f', d);
	memcpy(buf + 189 + d, ".com", 5);
	return buf;
}

START_TEST(plain_addresses_taken)
{
	static const char *const ok[] = { "ann@example.com", "a@b.co",
	    "Ann.Lee+tag@mail.example.org", "o'brien@example.ie",
	    "x_y-z@sub-domain.example.com", "ann@xn--exmple-cua.com",
	    "1@2.3", "ann!#$%&*=?^`{|}~@example.com" };
	char		 buf[300];
	size_t		 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(auth_valid_email(ok[i]) == NULL, "%s: %s", ok[i],
		    auth_valid_email(ok[i]));
	ck_assert_uint_eq(strlen(long_address(buf, 254)), 254);
	ck_assert_ptr_null(auth_valid_email(buf));
}
END_TEST

START_TEST(controls_refused_first)
{
	refused("ann\r\n@example.com", "control character");
	refused("ann@example.com\r\nBcc: eve@example.com", "control character");
	refused("ann\n@example.com", "control character");
	refused("a\tb@example.com", "control character");
	refused("a\x01" "b@example.com", "control character");
	refused("a\x1f" "b@example.com", "control character");
	refused("a\x7f" "b@example.com", "control character");
	/* A control in a long one is named, not the length. */
	refused("\r\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "@example.com", "control character");
}
END_TEST

START_TEST(non_ascii_refused)
{
	refused("\xc3\xa4nnchen@example.com", "plain ASCII");
	refused("ann@ex\xc3\xa4mple.com", "plain ASCII");
	refused("ann@example.com\xe2\x80\xa8", "plain ASCII");
	refused("\xff@example.com", "plain ASCII");
}
END_TEST

START_TEST(overlong_refused)
{
	char	 buf[300];

	refused(long_address(buf, 255), "254");
	refused(long_address(buf, 256), "254");
	refused("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "@example.com", "64");
	refused("ann@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaa.com", "domain");
	refused("a@", "3 to 254");
}
END_TEST

START_TEST(quoting_and_shape_refused)
{
	static const char *const bad[] = { "a b@example.com", "<ann@example.com>",
	    "\"ann\"@example.com", "ann(x)@example.com", "a,b@example.com",
	    "a:b@example.com", "a;b@example.com", "a[b]@example.com",
	    "a\\b@example.com", "ann@b@example.com", "@example.com",
	    "ann@", "ann.example.com", "ann@example", "ann@-example.com",
	    "ann@example-.com", "ann@exa_mple.com", "ann@example..com",
	    "ann@.example.com", "ann@example.com.", "ann@[192.0.2.1]",
	    "ann@exa mple.com", "" };
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(auth_valid_email(bad[i]) != NULL, "\"%s\" was "
		    "taken", bad[i]);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("address");
	TCase	*tc = tcase_create("email");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, plain_addresses_taken);
	tcase_add_test(tc, controls_refused_first);
	tcase_add_test(tc, non_ascii_refused);
	tcase_add_test(tc, overlong_refused);
	tcase_add_test(tc, quoting_and_shape_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
