/*
 * The media store's temporaries (fcgi/media/store.c): locked by their
 * writer for as long as its request lasts, whatever descriptors it
 * closes on the way; a sweep removes those whose lock is gone, however
 * young, and keeps the others, however old.  Open file description
 * locks conflict within one process too, so one process plays both.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "media.h"
#include "store.h"

struct media_settings media_cfg;
static char	 root[64];

static void
setup(void)
{
	snprintf(root, sizeof(root), "/tmp/gh-check-store.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	setenv("GH_MEDIA_DIR", root, 1);
	ck_assert_int_eq(media_store_open(), 0);
}

static void
teardown(void)
{
	char	 cmd[128];

	close(media_cfg.dirfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
}

static int
exists(const char *name)
{
	return faccessat(media_cfg.dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* name's mtime, secs from now. */
static void
age(const char *name, time_t secs)
{
	struct timespec	 t[2];

	t[0].tv_sec = t[1].tv_sec = time(NULL) + secs;
	t[0].tv_nsec = t[1].tv_nsec = 0;
	ck_assert_int_eq(utimensat(media_cfg.dirfd, name, t,
	    AT_SYMLINK_NOFOLLOW), 0);
}

/* A temporary as a writer that takes no lock (or a dead one) leaves it. */
static void
plain(const char *name)
{
	int	 fd;

	fd = openat(media_cfg.dirfd, name, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, "half", 4), 4);
	close(fd);
}

static struct media_tmp_sweep
sweep(int dry_run)
{
	struct media_tmp_sweep ts;

	media_tmp_sweep(dry_run, time(NULL) - MEDIA_GRACE, &ts);
	return ts;
}

START_TEST(a_live_writer_keeps_its_temporary_however_old)
{
	struct media_tmp_sweep ts;
	struct gh_arena	 a;
	char		*name;
	int		 fd, again;

	gh_arena_init(&a);
	fd = media_tmp_open(&a, &name);
	ck_assert_int_ne(fd, -1);
	ck_assert_ptr_nonnull(name);
	/* upload.c closes its descriptor before the thumbnail and commit. */
	close(fd);
	/* thumb.c opens it again to read it, and closes that. */
	again = openat(media_cfg.dirfd, name, O_RDONLY);
	ck_assert_int_ne(again, -1);
	close(again);
	age(name, -86400);
	ts = sweep(0);
	ck_assert_int_eq(ts.live, 1);
	ck_assert_int_eq(ts.removed, 0);
	ck_assert(exists(name));
	/* The request ends: its arena takes the lock with it. */
	gh_arena_free(&a);
	ts = sweep(0);
	ck_assert_int_eq(ts.live, 0);
	ck_assert_int_eq(ts.removed, 1);
	ck_assert(!exists(name));
}
END_TEST

START_TEST(a_dead_writers_temporary_goes_however_young)
{
	struct media_tmp_sweep ts;

	plain("tmp/0123456789abcdef0123456789abcdef");
	age("tmp/0123456789abcdef0123456789abcdef", 3600);
	ts = sweep(0);
	ck_assert_int_eq(ts.removed, 1);
	ck_assert_int_eq(ts.live + ts.young + ts.failed, 0);
	ck_assert(!exists("tmp/0123456789abcdef0123456789abcdef"));
}
END_TEST

START_TEST(two_writers_two_locks)
{
	struct media_tmp_sweep ts;
	struct gh_arena	 a, b;
	char		*n1, *n2;
	int		 fd;

	gh_arena_init(&a);
	gh_arena_init(&b);
	ck_assert_int_ne(fd = media_tmp_open(&a, &n1), -1);
	close(fd);
	ck_assert_int_ne(fd = media_tmp_open(&b, &n2), -1);
	close(fd);
	ck_assert_str_ne(n1, n2);
	gh_arena_free(&a);
	ts = sweep(0);
	ck_assert_int_eq(ts.removed, 1);
	ck_assert_int_eq(ts.live, 1);
	ck_assert(!exists(n1));
	ck_assert(exists(n2));
	gh_arena_free(&b);
}
END_TEST

START_TEST(a_dry_run_counts_and_removes_nothing)
{
	struct media_tmp_sweep ts;

	plain("tmp/00000000000000000000000000000001");
	ts = sweep(1);
	ck_assert_int_eq(ts.removed, 1);
	ck_assert(exists("tmp/00000000000000000000000000000001"));
	/* Nor does its lock, taken to test, stay behind it. */
	ts = sweep(0);
	ck_assert_int_eq(ts.removed, 1);
}
END_TEST

START_TEST(only_regular_files_are_candidates)
{
	struct media_tmp_sweep ts;

	ck_assert_int_eq(mkdirat(media_cfg.dirfd, "tmp/a-folder", 0700), 0);
	ck_assert_int_eq(symlinkat("/etc/passwd", media_cfg.dirfd,
	    "tmp/a-link"), 0);
	plain("tmp/.hidden");
	ts = sweep(0);
	ck_assert_int_eq(ts.removed + ts.live + ts.young + ts.failed, 0);
	ck_assert(exists("tmp/a-folder"));
	ck_assert(exists("tmp/a-link"));
	ck_assert(exists("tmp/.hidden"));
	ck_assert_int_eq(access("/etc/passwd", F_OK), 0);
}
END_TEST

START_TEST(no_tmp_folder_is_nothing_to_do)
{
	struct media_tmp_sweep ts;

	ck_assert_int_eq(unlinkat(media_cfg.dirfd, "tmp", AT_REMOVEDIR), 0);
	ts = sweep(0);
	ck_assert_int_eq(ts.removed + ts.live + ts.young + ts.failed, 0);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite	*s = suite_create("store");
	TCase	*ok = tcase_create("ok"), *bad = tcase_create("bad");

	tcase_add_checked_fixture(ok, setup, teardown);
	tcase_add_checked_fixture(bad, setup, teardown);
	tcase_add_test(ok, a_live_writer_keeps_its_temporary_however_old);
	tcase_add_test(ok, two_writers_two_locks);
	tcase_add_test(bad, a_dead_writers_temporary_goes_however_young);
	tcase_add_test(bad, a_dry_run_counts_and_removes_nothing);
	tcase_add_test(bad, only_regular_files_are_candidates);
	tcase_add_test(bad, no_tmp_folder_is_nothing_to_do);
	suite_add_tcase(s, ok);
	suite_add_tcase(s, bad);
	return s;
}

int
main(void)
{
	return unit_run(store_suite());
}
