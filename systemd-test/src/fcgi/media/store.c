/*
 * Files under the media root: an upload is written to tmp/ under a random
 * name, then renamed into a sharded folder (ab/cd/<32 hex>) under another
 * random name.  Every path is relative to the root's descriptor, and no
 * part of any path ever comes from a client.
 */
#define _GNU_SOURCE		/* renameat2 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "media.h"

#define TMP_DIR		"tmp"
#define TMP_MAX_AGE	3600	/* seconds: older temporaries are orphans */

/* Temporaries a crashed worker left behind (nginx's timeouts are far
 * shorter than TMP_MAX_AGE, so none of them is still being written). */
static int
sweep_tmp(int dry_run)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	int		 fd, n = 0;

	if ((fd = openat(media_cfg.dirfd, TMP_DIR, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || st.st_mtime > time(NULL) - TMP_MAX_AGE)
			continue;
		if (dry_run || unlinkat(fd, de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	if (n > 0)
		gh_log_infox("sweep", "%s %d abandoned temporary files",
		    dry_run ? "would remove" : "removed", n);
	return n;
}

static int
store_open(void)
{
	media_cfg.dir = gh_config_str("GH_MEDIA_DIR",
	    "/var/lib/gatehouse/media");
	if ((media_cfg.dirfd = open(media_cfg.dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		gh_log_errx("config", "GH_MEDIA_DIR=%s: %s", media_cfg.dir,
		    strerror(errno));
		return -1;
	}
	if (mkdirat(media_cfg.dirfd, TMP_DIR, 0700) == -1 && errno != EEXIST) {
		gh_log_errx("config", "%s/%s: %s", media_cfg.dir, TMP_DIR,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
media_store_setup(void)
{
	if (store_open() != 0)
		return -1;
	sweep_tmp(0);
	return 0;
}

static char *
random_hex(struct gh_arena *a, size_t nbytes)
{
	unsigned char	 b[32];
	char		*s;

	if (nbytes > sizeof(b) || gh_random(b, nbytes) != 0 ||
	    (s = gh_alloc(a, nbytes * 2 + 1)) == NULL)
		return NULL;
	gh_hex(s, b, nbytes);
	return s;
}

/* A new temporary file, open for reading and writing; -1 on failure. */
int
media_tmp_open(struct gh_arena *a, char **name)
{
	char	*hex;
	int	 fd;

	*name = NULL;
	if ((hex = random_hex(a, 16)) == NULL ||
	    (*name = gh_printf(a, TMP_DIR "/%s", hex)) == NULL)
		return -1;
	fd = openat(media_cfg.dirfd, *name, O_RDWR | O_CREAT | O_EXCL |
	    O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		gh_log_errx("store", "%s/%s: %s", media_cfg.dir, *name,
		    strerror(errno));
		*name = NULL;
	}
	return fd;
}

static int
mkdir_shard(const char *path)
{
	if (mkdirat(media_cfg.dirfd, path, 0755) == -1 && errno != EEXIST) {
		gh_log_errx("store", "%s/%s: %s", media_cfg.dir, path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Moves a complete, fsynced temporary into its place and makes the new
 * name durable; *path is relative to the root.
 */
int
media_place(struct gh_arena *a, const char *tmpname, char **path)
{
	char	*hex, *p;
	int	 dfd;

	*path = NULL;
	if ((hex = random_hex(a, 16)) == NULL ||
	    (p = gh_printf(a, "%.2s/%.2s/%s", hex, hex + 2, hex)) == NULL)
		return -1;
	p[2] = '\0';
	if (mkdir_shard(p) != 0)
		return -1;
	p[2] = '/';
	p[5] = '\0';
	if (mkdir_shard(p) != 0)
		return -1;
	p[5] = '/';
	/*
	 * The sweep's grace period counts from here, not from the last
	 * write: a thumbnail may have been made meanwhile.
	 */
	if (utimensat(media_cfg.dirfd, tmpname, NULL, AT_SYMLINK_NOFOLLOW) ==
	    -1)
		gh_log_warnx("store", "utimensat %s/%s: %s", media_cfg.dir,
		    tmpname, strerror(errno));
	if (renameat2(media_cfg.dirfd, tmpname, media_cfg.dirfd, p,
	    RENAME_NOREPLACE) == -1) {
		gh_log_errx("store", "rename to %s/%s: %s", media_cfg.dir, p,
		    strerror(errno));
		return -1;
	}
	p[5] = '\0';
	dfd = openat(media_cfg.dirfd, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	p[5] = '/';
	if (dfd == -1 || fsync(dfd) == -1) {
		gh_log_errx("store", "fsync of %.5s: %s", p, strerror(errno));
		if (dfd != -1)
			close(dfd);
		media_unlink(p);
		return -1;
	}
	close(dfd);
	*path = p;
	return 0;
}

/* A temporary or a stored file (once its row is gone, or was never made). */
void
media_unlink(const char *path)
{
	if (path != NULL && unlinkat(media_cfg.dirfd, path, 0) == -1 &&
	    errno != ENOENT)
		gh_log_errx("store", "unlink %s/%s: %s", media_cfg.dir, path,
		    strerror(errno));
}

/* ---------------------------------------------------------------- sweep */

/*
 * gatehouse-media --sweep: stored files that no row names.  A file is
 * renamed into place before its row commits, and a worker that dies
 * between a row's deletion and the unlink leaves its file behind; so a
 * file no row names is an orphan only once it is older than the grace
 * period (its mtime is set by the last write, just before the rename).
 * Only names the store makes (ab/cd/abcd<28 hex>) are candidates, only
 * regular files, never through a symbolic link.
 */
#define SWEEP_GRACE	3600	/* seconds */
#define SWEEP_GRACE_MIN	300

/* The database must be the media service's, or every file looks orphan. */
GH_SQL(SQL_SERVICE) = {{
    "SELECT value FROM service_meta WHERE key = 'service'" }};
GH_SQL(SQL_KNOWN) = {{
    "SELECT storage_path FROM media UNION ALL "
    "SELECT thumb_path FROM media WHERE thumb_path IS NOT NULL" }};

struct sweep {
	const char	**known;	/* paths rows name, sorted */
	size_t		 nknown;
	time_t		 before;	/* candidates are older than this */
	int		 dry_run;
	long long	 removed, bytes, kept, young, foreign, failed;
};

static int
is_hex(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return 0;
	return s[n] == '\0';
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The files of one leaf folder, "ab/cd", open as dfd (closed here). */
static void
sweep_leaf(struct sweep *sw, int dfd, const char *shard)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	const char	*key;
	char		 path[48];

	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || !is_hex(de->d_name, 32) ||
		    strncmp(de->d_name, shard, 2) != 0 ||
		    strncmp(de->d_name + 2, shard + 3, 2) != 0) {
			sw->foreign++;
			continue;
		}
		snprintf(path, sizeof(path), "%.5s/%.32s", shard, de->d_name);
		key = path;
		if (bsearch(&key, sw->known, sw->nknown, sizeof(*sw->known),
		    cmp_str) != NULL) {
			sw->kept++;
			continue;
		}
		if (st.st_mtime >= sw->before) {
			sw->young++;
			continue;
		}
		if (!sw->dry_run && unlinkat(dfd, de->d_name, 0) == -1) {
			if (errno != ENOENT) {
				gh_log_errx("sweep", "unlink %s/%s: %s",
				    media_cfg.dir, path, strerror(errno));
				sw->failed++;
			}
			continue;
		}
		gh_log_infox("sweep", "%s orphan %s (%lld bytes, %lld s old)",
		    sw->dry_run ? "would remove" : "removed", path,
		    (long long)st.st_size,
		    (long long)(time(NULL) - st.st_mtime));
		printf("%s %s\n", sw->dry_run ? "would remove" : "removed",
		    path);
		sw->removed++;
		sw->bytes += st.st_size;
	}
	closedir(d);
}

/* A shard folder named by two hex digits inside dfd, open; or -1. */
static int
open_shard(int dfd, const char *name)
{
	struct stat	 st;

	if (!is_hex(name, 2) ||
	    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISDIR(st.st_mode))
		return -1;
	return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
}

static void
sweep_shards(struct sweep *sw)
{
	struct dirent	*de, *de2;
	DIR		*top, *mid;
	int		 fd, mfd, lfd;
	char		 shard[8];

	if ((fd = openat(media_cfg.dirfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (top = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		gh_log_errx("sweep", "%s: %s", media_cfg.dir, strerror(errno));
		sw->failed++;
		return;
	}
	while ((de = readdir(top)) != NULL) {
		if ((mfd = open_shard(fd, de->d_name)) == -1)
			continue;
		if ((mid = fdopendir(mfd)) == NULL) {
			close(mfd);
			continue;
		}
		while ((de2 = readdir(mid)) != NULL) {
			if ((lfd = open_shard(mfd, de2->d_name)) == -1)
				continue;
			snprintf(shard, sizeof(shard), "%.2s/%.2s", de->d_name,
			    de2->d_name);
			sweep_leaf(sw, lfd, shard);
		}
		closedir(mid);
	}
	closedir(top);
}

/* The paths that rows name, sorted, into sw; -1 when the database fails. */
static int
sweep_known(struct gh_req *req, struct sweep *sw)
{
	PGresult	*res;
	int		 i;

	res = gh_db_exec(req, SQL_SERVICE, 0, NULL);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		gh_log_errx("sweep", "the database: %s", res != NULL ?
		    PQresultErrorMessage(res) : "cannot connect");
		return -1;
	}
	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "media")) {
		gh_log_errx("sweep", "GH_DB is not the media service's "
		    "database: nothing removed");
		return -1;
	}
	res = gh_db_exec(req, SQL_KNOWN, 0, NULL);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		gh_log_errx("sweep", "the stored paths: %s", res != NULL ?
		    PQresultErrorMessage(res) : "cannot connect");
		return -1;
	}
	sw->nknown = (size_t)PQntuples(res);
	if ((sw->known = gh_calloc(&req->arena, sw->nknown + 1,
	    sizeof(*sw->known))) == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++)
		sw->known[i] = PQgetvalue(res, i, 0);
	qsort(sw->known, sw->nknown, sizeof(*sw->known), cmp_str);
	return 0;
}

static void
sweep_usage(void)
{
	fprintf(stderr, "usage: gatehouse-media --sweep [--dry-run] "
	    "[--grace SECONDS]\n"
	    "Removes stored files that no item names and that are older "
	    "than the grace\nperiod (default %d s, at least %d), abandoned "
	    "temporaries, and tags that no\nitem has used for as long.  "
	    "Reads GH_MEDIA_DIR and GH_DB like the workers;\nrun it as "
	    "their user.\n", SWEEP_GRACE, SWEEP_GRACE_MIN);
}

/* gatehouse-media --sweep [--dry-run] [--grace SECONDS]; exit status. */
int
media_sweep_main(int argc, char **argv)
{
	struct sweep	 sw;
	struct gh_req	 req;
	const char	*errstr = NULL;
	long long	 grace = SWEEP_GRACE, tags = 0;
	int		 i, tmp, rc = 1;

	memset(&sw, 0, sizeof(sw));
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			sw.dry_run = 1;
		else if (strcmp(argv[i], "--grace") == 0 && i + 1 < argc) {
			grace = gh_strtonum(argv[++i], SWEEP_GRACE_MIN,
			    365LL * 86400, &errstr);
			if (errstr != NULL) {
				fprintf(stderr, "gatehouse-media: --grace %s: "
				    "%s (%d to %d)\n", argv[i], errstr,
				    SWEEP_GRACE_MIN, 365 * 86400);
				return 2;
			}
		} else {
			sweep_usage();
			return 2;
		}
	}
	gh_log_setup("media", GH_LOG_INFO);
	gh_req_init(&req, NULL);
	if (gh_db_setup("gatehouse-media-sweep") != 0 || store_open() != 0 ||
	    sweep_known(&req, &sw) != 0)
		goto done;
	sw.before = time(NULL) - (time_t)grace;
	tmp = sweep_tmp(sw.dry_run);
	sweep_shards(&sw);
	if (media_tags_sweep(&req, grace, sw.dry_run, &tags) != 0)
		sw.failed++;
	gh_log_infox("sweep", "%s %lld orphan files (%lld bytes), %d "
	    "temporaries and %lld unused tags; kept %lld named files and "
	    "%lld younger than %lld s; left alone %lld entries not made by "
	    "the store; %lld failures", sw.dry_run ? "would remove" :
	    "removed", sw.removed, sw.bytes, tmp, tags, sw.kept, sw.young,
	    grace, sw.foreign, sw.failed);
	printf("%s %lld orphan files (%lld bytes), %d temporaries, %lld "
	    "unused tags; kept %lld named files, %lld younger than %lld s; "
	    "left alone %lld other entries; %lld failures\n",
	    sw.dry_run ? "would remove" : "removed", sw.removed, sw.bytes,
	    tmp, tags, sw.kept, sw.young, grace, sw.foreign, sw.failed);
	rc = sw.failed > 0;
done:
	gh_arena_free(&req.arena);
	gh_db_close();
	if (media_cfg.dirfd != -1)
		close(media_cfg.dirfd);
	return rc;
}
