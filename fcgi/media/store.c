/*
 * Files under the media root: an upload is written to tmp/ under a random
 * name, then renamed into a sharded folder (ab/cd/<32 hex>) under another
 * random name.  Every path is relative to the root's descriptor, and no
 * part of any path ever comes from a client.
 *
 * A temporary is locked by its writer for as long as the request that
 * makes it: an open file description lock (F_OFD_SETLK), which goes with
 * the description's last descriptor however the process ends (SIGKILL,
 * a crash), and which closing another descriptor of the file (thumb.c
 * opens the upload again to read it) does not release, as it would a
 * POSIX lock.  So a sweep tells a temporary still being written from one
 * a dead writer left by the lock, not by a guess from its age.
 */
#define _GNU_SOURCE		/* renameat2, F_OFD_SETLK */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "media.h"
#include "store.h"

#define TMP_DIR		"tmp"
#define TMP_TRIES	3	/* names tried when a sweep takes one */

/* A lock of type (F_WRLCK, F_RDLCK) on the whole file, or -1 (errno). */
static int
tmp_setlk(int fd, short type)
{
	struct flock	 fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;		/* l_start = l_len = 0: all of it */
	return fcntl(fd, F_OFD_SETLK, &fl);
}

/* A lock test that failed because someone holds the lock. */
static int
tmp_held(int err)
{
	return err == EAGAIN || err == EACCES;
}

/*
 * One entry of tmp/: removed when its writer is gone (no lock held), or
 * when that cannot be told (no lock support, a file the sweep may not
 * open) and it is older than before; otherwise counted as kept.  The
 * sweep holds a read lock from its test to the unlink, so a writer that
 * made the file a moment ago and locks it only now fails to, and takes
 * another name (media_tmp_open).
 */
static void
tmp_entry(int dfd, const char *name, const struct stat *st, time_t before,
    int dry_run, struct media_tmp_sweep *ts)
{
	struct stat	 now;
	int		 fd, known = 0;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd == -1 && errno == ENOENT)
		return;
	if (fd != -1) {
		if (tmp_setlk(fd, F_RDLCK) == 0)
			known = 1;
		else if (tmp_held(errno)) {
			ts->live++;
			goto done;
		}
	}
	/* The name still the file we locked: not one made since. */
	if (known && (fstat(fd, &now) != 0 || now.st_ino != st->st_ino ||
	    now.st_dev != st->st_dev || now.st_nlink == 0))
		goto done;
	if (!known && st->st_mtime >= before) {
		ts->young++;
		goto done;
	}
	if (!dry_run && unlinkat(dfd, name, 0) == -1 && errno != ENOENT) {
		gh_log_errx("sweep", "unlink %s/%s/%s: %s", media_cfg.dir,
		    TMP_DIR, name, strerror(errno));
		ts->failed++;
		goto done;
	}
	gh_log_infox("sweep", "%s temporary %s/%s (%lld bytes, %lld s old, "
	    "%s)", dry_run ? "would remove" : "removed", TMP_DIR, name,
	    (long long)st->st_size, (long long)(time(NULL) - st->st_mtime),
	    known ? "its writer is gone" : "older than the grace");
	ts->removed++;
done:
	if (fd != -1)
		close(fd);
}

/*
 * The temporaries of writers that are gone (a killed or crashed worker),
 * whatever their age; those whose writer cannot be told, when older than
 * before.  Counted into ts.
 */
void
media_tmp_sweep(int dry_run, time_t before, struct media_tmp_sweep *ts)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	int		 fd;

	memset(ts, 0, sizeof(*ts));
	if ((fd = openat(media_cfg.dirfd, TMP_DIR, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		tmp_entry(fd, de->d_name, &st, before, dry_run, ts);
	}
	closedir(d);
}

/* The root, open; for the workers and for gatehouse-media --sweep. */
int
media_store_open(void)
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
	struct media_tmp_sweep ts;

	if (media_store_open() != 0)
		return -1;
	/* What a worker killed before this one left (multiwatch restarts). */
	media_tmp_sweep(0, time(NULL) - MEDIA_GRACE, &ts);
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

static void
tmp_unlock(void *arg)
{
	close(*(int *)arg);
}

/*
 * Locks a temporary just made: 0 locked (or no locks here: the sweep
 * then goes by its age), 1 a sweep took the name between the creation
 * and the lock (it is gone or going; take another), -1 error.
 */
static int
tmp_claim(int fd, const char *name)
{
	static int	 warned;
	struct stat	 st;

	if (tmp_setlk(fd, F_WRLCK) == -1) {
		if (tmp_held(errno)) {
			/* A dry run would leave it: it is ours to remove. */
			media_unlink(name);
			return 1;
		}
		if (!warned++)
			gh_log_warnx("store", "%s/%s: no lock (%s): the sweep "
			    "will judge temporaries by their age",
			    media_cfg.dir, TMP_DIR, strerror(errno));
		return 0;
	}
	if (fstat(fd, &st) == -1) {
		gh_log_errx("store", "fstat %s/%s: %s", media_cfg.dir, name,
		    strerror(errno));
		return -1;
	}
	return st.st_nlink == 0;
}

/*
 * A new temporary file, open for reading and writing; -1 on failure.
 * Its lock is held by a copy of the descriptor that the request's arena
 * closes, so that the caller may close its own before it is done with
 * the file (upload.c does, before the thumbnail and the commit).
 */
int
media_tmp_open(struct gh_arena *a, char **name)
{
	char	*hex;
	int	*lockfd, fd = -1, tries, rc = 1;

	*name = NULL;
	if ((lockfd = gh_alloc(a, sizeof(*lockfd))) == NULL)
		return -1;
	for (tries = 0; tries < TMP_TRIES && rc == 1; tries++) {
		if (fd != -1) {
			close(fd);
			fd = -1;
		}
		if ((hex = random_hex(a, 16)) == NULL ||
		    (*name = gh_printf(a, TMP_DIR "/%s", hex)) == NULL)
			goto fail;
		fd = openat(media_cfg.dirfd, *name, O_RDWR | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd == -1) {
			gh_log_errx("store", "%s/%s: %s", media_cfg.dir, *name,
			    strerror(errno));
			goto fail;
		}
		rc = tmp_claim(fd, *name);
	}
	if (rc != 0) {
		if (rc == 1)
			gh_log_errx("store", "%s/%s: %d names taken by sweeps "
			    "in a row", media_cfg.dir, TMP_DIR, TMP_TRIES);
		goto fail;
	}
	if ((*lockfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		gh_log_errx("store", "dup: %s", strerror(errno));
		goto fail;
	}
	if (gh_defer(a, tmp_unlock, lockfd) != 0) {
		close(*lockfd);
		goto fail;
	}
	return fd;
fail:
	if (fd != -1) {
		close(fd);
		media_unlink(*name);
	}
	*name = NULL;
	return -1;
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

/* ---------------------------------------------------------------- walk */

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

/*
 * The entries of one leaf folder, "ab/cd", open as dfd (closed here).
 * Only regular files named as media_place names them (ab/cd/abcd<28
 * hex>) are ours; the rest are told as foreign, never through a link.
 */
static void
walk_leaf(int dfd, const char *shard,
    void (*fn)(void *, const struct media_entry *), void *ctx)
{
	struct media_entry e;
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	char		 path[48];

	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		memset(&e, 0, sizeof(e));
		e.dfd = dfd;
		e.name = de->d_name;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			e.st = &st;
			e.ours = S_ISREG(st.st_mode) && is_hex(de->d_name, 32) &&
			    strncmp(de->d_name, shard, 2) == 0 &&
			    strncmp(de->d_name + 2, shard + 3, 2) == 0;
		}
		if (e.ours) {
			snprintf(path, sizeof(path), "%.5s/%.32s", shard,
			    de->d_name);
			e.path = path;
		}
		fn(ctx, &e);
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

/*
 * Every entry of every leaf folder of the store, to fn; -1 when the root
 * cannot be read (logged).  What the entries are for is the caller's.
 */
int
media_store_walk(void (*fn)(void *, const struct media_entry *), void *ctx)
{
	struct dirent	*de, *de2;
	DIR		*top, *mid;
	int		 fd, mfd, lfd;
	char		 shard[8];

	if ((fd = openat(media_cfg.dirfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (top = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		gh_log_errx("store", "%s: %s", media_cfg.dir, strerror(errno));
		return -1;
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
			walk_leaf(lfd, shard, fn, ctx);
		}
		closedir(mid);
	}
	closedir(top);
	return 0;
}
