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
static void
sweep_tmp(void)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	int		 fd, n = 0;

	if ((fd = openat(media_cfg.dirfd, TMP_DIR, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || st.st_mtime > time(NULL) - TMP_MAX_AGE)
			continue;
		if (unlinkat(fd, de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	if (n > 0)
		gh_log_infox("sweep", "removed %d abandoned temporary files", n);
}

int
media_store_setup(void)
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
	sweep_tmp();
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
