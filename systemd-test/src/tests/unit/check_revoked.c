/* The revocation list: strict parsing, lookups, and the file round trip. */
#include <stdio.h>
#include <unistd.h>

#include "unit.h"

#define S1	"0b5e4c59-8f05-4c1f-9a8e-8a5d3b0b3e11"
#define S2	"1b5e4c59-8f05-4c1f-9a8e-8a5d3b0b3e12"
#define U1	"2b5e4c59-8f05-4c1f-9a8e-8a5d3b0b3e13"
#define U2	"3b5e4c59-8f05-4c1f-9a8e-8a5d3b0b3e14"

static int
parse(const char *text, struct gh_revoked *r)
{
	return gh_revoked_parse(text, strlen(text), r);
}

static struct gh_claims
claims(const char *sub, const char *sid, long long iat)
{
	struct gh_claims c;

	memset(&c, 0, sizeof(c));
	snprintf(c.sub, sizeof(c.sub), "%s", sub);
	snprintf(c.sid, sizeof(c.sid), "%s", sid);
	c.iat = iat;
	return c;
}

START_TEST(lookups)
{
	struct gh_revoked r;
	struct gh_claims  c;

	ck_assert_int_eq(parse("gatehouse-revoked 1 1700000000\n"
	    "s " S2 "\ns " S1 "\nu " U1 " 1700000100\n", &r), 0);
	ck_assert_int_eq(r.nsessions, 2);
	ck_assert_int_eq(r.nusers, 1);
	ck_assert_int_eq(r.written, 1700000000);
	c = claims(U2, S1, 1);
	ck_assert(gh_revoked_has(&r, &c));		/* ended session */
	c = claims(U2, "0B5E4C59-8F05-4C1F-9A8E-8A5D3B0B3E11", 1);
	ck_assert(gh_revoked_has(&r, &c));		/* any case */
	c = claims(U1, "", 1700000099);
	ck_assert(gh_revoked_has(&r, &c));		/* issued before */
	c = claims(U1, "", 1700000100);
	ck_assert(!gh_revoked_has(&r, &c));		/* issued after */
	c = claims(U2, "4b5e4c59-8f05-4c1f-9a8e-8a5d3b0b3e15", 1);
	ck_assert(!gh_revoked_has(&r, &c));
	c = claims("client:abc", "", 1);
	ck_assert(!gh_revoked_has(&r, &c));
	gh_revoked_clear(&r);
	ck_assert_int_eq(parse("gatehouse-revoked 1 5\n", &r), 0);
	c = claims(U1, S1, 1);
	ck_assert(!gh_revoked_has(&r, &c));
	gh_revoked_clear(&r);
}
END_TEST

START_TEST(bad_files_refused_whole)
{
	static const char *const bad[] = {
		"",
		"gatehouse-revoked 1 1700000000",		/* no newline */
		"gatehouse-revoked 2 1700000000\n",
		"gatehouse-revoked 1 \n",
		"gatehouse-revoked 1 -5\n",
		"gatehouse-revoked 1 17x\n",
		"gatehouse-revoked 1 1\ns " S1,			/* cut short */
		"gatehouse-revoked 1 1\ns " S1 "x\n",
		"gatehouse-revoked 1 1\ns 0b5e4c59-8f05-4c1f-9a8e-8a5d3b0b3e1\n",
		"gatehouse-revoked 1 1\ns zb5e4c59-8f05-4c1f-9a8e-8a5d3b0b3e11\n",
		"gatehouse-revoked 1 1\nu " U1 "\n",
		"gatehouse-revoked 1 1\nu " U1 " \n",
		"gatehouse-revoked 1 1\nu " U1 " 12a\n",
		"gatehouse-revoked 1 1\nu " U1 "  12\n",
		"gatehouse-revoked 1 1\nx " S1 "\n",
		"gatehouse-revoked 1 1\n\n",
		"gatehouse-revoked 1 1\ns " S1 "\r\n",
	};
	struct gh_revoked r;
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse(bad[i], &r) == -1, "%zu", i);
		ck_assert_ptr_null(r.sessions);
	}
	/* A NUL inside a line. */
	ck_assert_int_eq(gh_revoked_parse("gatehouse-revoked 1 1\ns "
	    "0b5e4c59-8f05-4c1f-9a8e\0008a5d3b0b3e11\n", 61, &r), -1);
}
END_TEST

START_TEST(written_file_reads_back)
{
	const char	*sessions[] = { S1, S2 }, *users[] = { U1 };
	long long	 nb[] = { 1700000100 };
	struct gh_revoked r;
	struct gh_claims  c;
	char		 path[] = "/tmp/check_revoked.XXXXXX", buf[4096];
	FILE		*f;
	size_t		 n;
	int		 fd;

	ck_assert_int_ge(fd = mkstemp(path), 0);
	close(fd);
	ck_assert_int_eq(gh_revoked_write(path, sessions, 2, users, nb, 1,
	    1700000000), 0);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	ck_assert_int_eq(gh_revoked_parse(buf, n, &r), 0);
	c = claims(U1, S2, 1700000200);
	ck_assert(gh_revoked_has(&r, &c));
	gh_revoked_clear(&r);
	/* A folder that is not there: nothing written, nothing left. */
	ck_assert_int_ne(gh_revoked_write("/nonexistent/dir/list", sessions,
	    2, users, nb, 1, 1), 0);
	unlink(path);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("revoked");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, lookups);
	tcase_add_test(tc, bad_files_refused_whole);
	tcase_add_test(tc, written_file_reads_back);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
