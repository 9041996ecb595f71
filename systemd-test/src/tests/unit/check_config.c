/* Settings from the environment, secrets from files with safe modes. */
#include <sys/stat.h>

#include <stdio.h>
#include <unistd.h>

#include "unit.h"

START_TEST(strtonum_bounds)
{
	const char	*e;

	ck_assert_int_eq(gh_strtonum("42", 0, 100, &e), 42);
	ck_assert_ptr_null(e);
	gh_strtonum("101", 0, 100, &e);
	ck_assert_str_eq(e, "too large");
	gh_strtonum("-1", 0, 100, &e);
	ck_assert_str_eq(e, "too small");
	gh_strtonum("4x", 0, 100, &e);
	ck_assert_str_eq(e, "invalid");
	gh_strtonum(" 4", 0, 100, &e);
	ck_assert_str_eq(e, "invalid");
	gh_strtonum("+4", 0, 100, &e);
	ck_assert_str_eq(e, "invalid");
	gh_strtonum("", 0, 100, &e);
	ck_assert_str_eq(e, "invalid");
	gh_strtonum("-", -5, 100, &e);
	ck_assert_str_eq(e, "invalid");
	gh_strtonum("99999999999999999999", 0, 100, &e);
	ck_assert_str_eq(e, "too large");
}
END_TEST

START_TEST(ints_from_environment)
{
	long long	 v;

	unsetenv("GH_T_INT");
	ck_assert_int_eq(gh_config_int("GH_T_INT", 7, 1, 10, &v), 0);
	ck_assert_int_eq(v, 7);
	setenv("GH_T_INT", "9", 1);
	ck_assert_int_eq(gh_config_int("GH_T_INT", 7, 1, 10, &v), 0);
	ck_assert_int_eq(v, 9);
	setenv("GH_T_INT", "11", 1);
	ck_assert_int_eq(gh_config_int("GH_T_INT", 7, 1, 10, &v), -1);
	setenv("GH_T_INT", "nine", 1);
	ck_assert_int_eq(gh_config_int("GH_T_INT", 7, 1, 10, &v), -1);
	unsetenv("GH_T_INT");
}
END_TEST

START_TEST(bools_and_strings)
{
	int	 b;

	setenv("GH_T_B", "yes", 1);
	ck_assert_int_eq(gh_config_bool("GH_T_B", 0, &b), 0);
	ck_assert_int_eq(b, 1);
	setenv("GH_T_B", "Off", 1);
	ck_assert_int_eq(gh_config_bool("GH_T_B", 1, &b), 0);
	ck_assert_int_eq(b, 0);
	setenv("GH_T_B", "maybe", 1);
	ck_assert_int_eq(gh_config_bool("GH_T_B", 1, &b), -1);
	unsetenv("GH_T_B");
	setenv("GH_T_S", "", 1);
	ck_assert_str_eq(gh_config_str("GH_T_S", "def"), "def");
	setenv("GH_T_S", "x", 1);
	ck_assert_str_eq(gh_config_str("GH_T_S", "def"), "x");
	unsetenv("GH_T_S");
}
END_TEST

START_TEST(sizes)
{
	long long	 v;
	const char	*e;

	ck_assert_int_eq(gh_parse_size("512", 1LL << 40, &v, &e), 0);
	ck_assert_int_eq(v, 512);
	ck_assert_int_eq(gh_parse_size("64k", 1LL << 40, &v, &e), 0);
	ck_assert_int_eq(v, 65536);
	ck_assert_int_eq(gh_parse_size("10M", 1LL << 40, &v, &e), 0);
	ck_assert_int_eq(v, 10485760);
	ck_assert_int_eq(gh_parse_size("2g", 1LL << 30, &v, &e), -1);
	ck_assert_int_eq(gh_parse_size("k", 1LL << 40, &v, &e), -1);
	ck_assert_int_eq(gh_parse_size("1.5m", 1LL << 40, &v, &e), -1);
	ck_assert_int_eq(gh_parse_size("", 1LL << 40, &v, &e), -1);
}
END_TEST

static char *
write_secret(const char *content, mode_t mode)
{
	char	 tmpl[] = "/tmp/gh-secret-XXXXXX";
	int	 fd;

	fd = mkstemp(tmpl);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, strlen(content)),
	    (ssize_t)strlen(content));
	fchmod(fd, mode);
	close(fd);
	return strdup(tmpl);
}

START_TEST(secrets_from_files)
{
	char	*path, *s;
	size_t	 len;

	path = write_secret("s3cret\n", 0600);
	setenv("GH_T_SECRET_FILE", path, 1);
	s = gh_config_secret("GH_T_SECRET", &len);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "s3cret");
	ck_assert_uint_eq(len, 6);
	free(s);
	/* A secret others can read is refused, not used. */
	chmod(path, 0644);
	ck_assert_ptr_null(gh_config_secret("GH_T_SECRET", &len));
	unlink(path);
	free(path);
	path = write_secret("\n", 0600);
	setenv("GH_T_SECRET_FILE", path, 1);
	ck_assert_ptr_null(gh_config_secret("GH_T_SECRET", &len));
	unlink(path);
	free(path);
	setenv("GH_T_SECRET_FILE", "/nonexistent/x", 1);
	ck_assert_ptr_null(gh_config_secret("GH_T_SECRET", &len));
	setenv("GH_T_SECRET_FILE", "/tmp", 1);
	ck_assert_ptr_null(gh_config_secret("GH_T_SECRET", &len));
	unsetenv("GH_T_SECRET_FILE");
	/* The secret itself in the environment is never read. */
	setenv("GH_T_SECRET", "in-env", 1);
	ck_assert_ptr_null(gh_config_secret("GH_T_SECRET", &len));
	unsetenv("GH_T_SECRET");
}
END_TEST

START_TEST(log_escapes_control_characters)
{
	char	 buf[64];

	gh_json_escape(buf, sizeof(buf), "a\"b\\c\r\nd");
	ck_assert_str_eq(buf, "a\\\"b\\\\c\\u000d\\u000ad");
	gh_json_escape(buf, 8, "\n\n\n");
	ck_assert_str_eq(buf, "\\u000a");	/* never half an escape */
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, strtonum_bounds);
	tcase_add_test(tc, ints_from_environment);
	tcase_add_test(tc, bools_and_strings);
	tcase_add_test(tc, sizes);
	tcase_add_test(tc, secrets_from_files);
	tcase_add_test(tc, log_escapes_control_characters);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
