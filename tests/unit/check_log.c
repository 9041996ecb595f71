/*
 * The JSON log line, byte for byte: the fields as printf would have
 * written them (lib/gh_log.c builds them by hand, for speed), escapes,
 * truncation of a long line, and the pid of a forked child.
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <unistd.h>

#include "unit.h"

static char	 path[] = "/tmp/gh-log-XXXXXX";
static int	 saved = -1;

static void
setup(void)
{
	int	 fd;

	ck_assert_int_ge(fd = mkstemp(path), 0);
	ck_assert_int_ge(saved = dup(STDERR_FILENO), 0);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	gh_log_setup("unit", GH_LOG_DEBUG);
}

static void
teardown(void)
{
	dup2(saved, STDERR_FILENO);
	close(saved);
	unlink(path);
	memcpy(path + strlen(path) - 6, "XXXXXX", 6);
}

/* What was logged since the last call, as one string. */
static char *
logged(void)
{
	static char	 buf[16384];
	static off_t	 seen;
	ssize_t		 n;
	int		 fd;

	ck_assert_int_ge(fd = open(path, O_RDONLY), 0);
	n = pread(fd, buf, sizeof(buf) - 1, seen);
	close(fd);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	seen += n;
	return buf;
}

/* The line without its "ts" and "pid", which change from run to run. */
static const char *
fixed_part(const char *line)
{
	static char	 out[8192];
	regex_t		 re;
	regmatch_t	 m[3];

	ck_assert_int_eq(regcomp(&re, "^\\{\"ts\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}"
	    "T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z\",(\"level\":\"[a-z]+\","
	    "\"service\":\"unit\"),\"pid\":[0-9]+,", REG_EXTENDED), 0);
	ck_assert_msg(regexec(&re, line, 3, m, 0) == 0, "bad line: %s", line);
	snprintf(out, sizeof(out), "%.*s,%s", (int)(m[1].rm_eo - m[1].rm_so),
	    line + m[1].rm_so, line + m[0].rm_eo);
	regfree(&re);
	return out;
}

START_TEST(fields_as_printf_writes_them)
{
	struct gh_logbuf lb;

	gh_logbuf_begin(&lb, GH_LOG_INFO, "request");
	gh_logbuf_str(&lb, "s", "plain");
	gh_logbuf_str(&lb, "e", "a\"b\\c\nd\re\tf\x01g\x7f");
	gh_logbuf_str(&lb, "none", NULL);
	gh_logbuf_str(&lb, "empty", "");
	gh_logbuf_int(&lb, "zero", 0);
	gh_logbuf_int(&lb, "neg", -42);
	gh_logbuf_int(&lb, "max", 9223372036854775807LL);
	gh_logbuf_int(&lb, "min", -9223372036854775807LL - 1);
	gh_logbuf_ms(&lb, "ms0", 0);
	gh_logbuf_ms(&lb, "ms1", 1.2344);
	gh_logbuf_ms(&lb, "ms2", 12.3456);
	gh_logbuf_ms(&lb, "ms3", 999.9996);
	gh_logbuf_ms(&lb, "ms4", -1.5);
	gh_logbuf_end(&lb);
	ck_assert_str_eq(fixed_part(logged()), "\"level\":\"info\","
	    "\"service\":\"unit\",\"event\":\"request\",\"s\":\"plain\","
	    "\"e\":\"a\\\"b\\\\c\\u000ad\\u000de\\u0009f\\u0001g\\u007f\","
	    "\"empty\":\"\",\"zero\":0,\"neg\":-42,"
	    "\"max\":9223372036854775807,\"min\":-9223372036854775808,"
	    "\"ms0\":0.000,\"ms1\":1.234,\"ms2\":12.346,\"ms3\":1000.000,"
	    "\"ms4\":-1.500}\n");
}
END_TEST

/* Durations as a request's are measured, from nanoseconds: as %.3f. */
START_TEST(durations_match_printf)
{
	struct gh_logbuf lb;
	long long	 ns;
	char		 want[64], *got;
	double		 ms;

	for (ns = 0; ns < 40000000; ns += 9973) {
		ms = (double)(ns / 1000000000) * 1e3 +
		    (double)(ns % 1000000000) / 1e6;
		lb.len = 0;
		lb.truncated = 0;
		gh_logbuf_ms(&lb, "d", ms);
		lb.buf[lb.len] = '\0';
		snprintf(want, sizeof(want), ",\"d\":%.3f", ms);
		got = lb.buf;
		ck_assert_msg(strcmp(got, want) == 0, "%lld ns: %s, printf %s",
		    ns, got, want);
	}
}
END_TEST

START_TEST(a_long_line_is_cut_and_says_so)
{
	struct gh_logbuf lb;
	char		 big[2000], *line;
	int		 i;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	gh_logbuf_begin(&lb, GH_LOG_WARN, "big");
	for (i = 0; i < 6; i++)
		gh_logbuf_str(&lb, "v", big);
	gh_logbuf_int(&lb, "after", 1);
	gh_logbuf_end(&lb);
	line = logged();
	ck_assert_uint_lt(strlen(line), GH_LOG_LINE_MAX);
	ck_assert_ptr_nonnull(strstr(line, ",\"truncated\":true}\n"));
	ck_assert_ptr_nonnull(strstr(line, ",\"after\":1,"));
	/* A value is cut at about 1.2 KB, and a field is whole or absent. */
	ck_assert_ptr_null(strstr(line, "xxx,"));
	ck_assert_ptr_nonnull(strstr(line, "\"level\":\"warn\""));
}
END_TEST

START_TEST(the_pid_is_the_process_own)
{
	char	*line, want[64];
	pid_t	 child;
	int	 status;

	gh_log_infox("first", "in the parent");
	snprintf(want, sizeof(want), "\"pid\":%ld,", (long)getpid());
	line = logged();
	ck_assert_msg(strstr(line, want) != NULL, "%s", line);
	ck_assert_int_ge(child = fork(), 0);
	if (child == 0) {
		gh_log_infox("child", "in the child");
		_exit(0);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	snprintf(want, sizeof(want), "\"pid\":%ld,", (long)child);
	line = logged();
	ck_assert_msg(strstr(line, want) != NULL, "%s", line);
	ck_assert_ptr_nonnull(strstr(line, "\"event\":\"child\""));
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, fields_as_printf_writes_them);
	tcase_add_test(tc, durations_match_printf);
	tcase_add_test(tc, a_long_line_is_cut_and_says_so);
	tcase_add_test(tc, the_pid_is_the_process_own);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
