/*
 * Thumbnails of images, made when an image is uploaded.  The decoder runs
 * in gatehouse-media-thumb, a process of its own with capped memory and
 * CPU time that sees only the image on its standard input and the
 * thumbnail's temporary on descriptor 3 (see thumb-main.c); the worker
 * waits for it with a deadline and kills it past that.  Nginx serves the
 * result like the file itself, after the worker has checked access
 * (links.c).  No handler here.
 */
#define _GNU_SOURCE		/* pipe2, posix_spawn_file_actions_addclosefrom_np */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "media.h"
#include "store.h"
#include "thumb.h"

#ifndef GH_PKGLIBEXECDIR
#define GH_PKGLIBEXECDIR	"/usr/libexec/gatehouse"
#endif
#define THUMB_OUT_MAX	4096		/* bytes of the program's messages */
#define EXIT_REFUSED	2
#define EXIT_TOO_LARGE	3

static struct {
	const char	*program;	/* NULL: thumbnails are off */
	const char	*sandbox;	/* "required" or "try" */
	long long	 size;		/* the box a thumbnail fits in */
	long long	 max_pixels;	/* of an image we decode at all */
	long long	 memory;	/* bytes of address space */
	long long	 seconds;	/* of CPU; the wall clock gets 2 more */
} thumb_cfg;

static int	 run(char *const [], int, int, char *, size_t);
static void	 oneline(char *);

/*
 * Once at start: the program's sandbox must keep it from reading the
 * media root.  Where the kernel cannot (no Landlock), thumbnails are off
 * unless GH_MEDIA_THUMB_SANDBOX=try; the service runs either way.
 */
static int
sandbox_check(void)
{
	char	 buf[THUMB_OUT_MAX];
	char	*argv[] = { (char *)thumb_cfg.program, "--check-sandbox",
		    (char *)media_cfg.dir, NULL };
	int	 null, rc;

	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1) {
		gh_log_errx("config", "/dev/null: %s", strerror(errno));
		return -1;
	}
	rc = run(argv, null, null, buf, sizeof(buf));
	close(null);
	if (rc == 0)
		return 0;
	oneline(buf);
	if (strcmp(thumb_cfg.sandbox, "try") == 0) {
		gh_log_warnx("config", "thumbnails are made without a sandbox "
		    "(GH_MEDIA_THUMB_SANDBOX=try): %s", buf);
		return 0;
	}
	gh_log_errx("config", "thumbnails are off: the decoder cannot be "
	    "sandboxed here (%s); GH_MEDIA_THUMB_SANDBOX=try makes them "
	    "without", buf);
	thumb_cfg.program = NULL;
	return 0;
}

int
media_thumb_setup(void)
{
	const char	*prog;

	if (gh_config_int("GH_MEDIA_THUMB_SIZE", 320, 16, 4096,
	    &thumb_cfg.size) != 0 ||
	    gh_config_int("GH_MEDIA_MAX_PIXELS", 100000000, 1, 1LL << 40,
	    &thumb_cfg.max_pixels) != 0 ||
	    gh_config_size("GH_MEDIA_THUMB_MEMORY", 512LL << 20, 1LL << 40,
	    &thumb_cfg.memory) != 0 ||
	    gh_config_int("GH_MEDIA_THUMB_SECONDS", 5, 1, 3600,
	    &thumb_cfg.seconds) != 0)
		return -1;
	/* A video's frame alone may take 64 MiB. */
	if (thumb_cfg.memory < 128LL << 20) {
		gh_log_errx("config", "GH_MEDIA_THUMB_MEMORY must be at "
		    "least 128m");
		return -1;
	}
	prog = gh_config_str("GH_MEDIA_THUMB_PROGRAM",
	    GH_PKGLIBEXECDIR "/gatehouse-media-thumb");
	if (*prog == '\0') {
		gh_log_infox("config", "GH_MEDIA_THUMB_PROGRAM is empty: no "
		    "thumbnails");
		return 0;
	}
	if (prog[0] != '/' || access(prog, X_OK) != 0) {
		gh_log_errx("config", "GH_MEDIA_THUMB_PROGRAM=%s: %s", prog,
		    prog[0] != '/' ? "not an absolute path" : strerror(errno));
		return -1;
	}
	thumb_cfg.sandbox = gh_config_str("GH_MEDIA_THUMB_SANDBOX", "required");
	if (strcmp(thumb_cfg.sandbox, "required") != 0 &&
	    strcmp(thumb_cfg.sandbox, "try") != 0) {
		gh_log_errx("config", "GH_MEDIA_THUMB_SANDBOX must be "
		    "\"required\" or \"try\"");
		return -1;
	}
	thumb_cfg.program = prog;
	return sandbox_check();
}

/* The types the program reads; others never have a thumbnail. */
int
media_thumb_wanted(const char *mime)
{
	return strcmp(mime, "image/jpeg") == 0 ||
	    strcmp(mime, "image/png") == 0 ||
	    strcmp(mime, "image/gif") == 0 ||
	    strcmp(mime, "image/webp") == 0 ||
	    strcmp(mime, "video/mp4") == 0 ||
	    strcmp(mime, "video/webm") == 0;
}

/* What the program said, on one line, for the log. */
static void
oneline(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\n' || *s == '\r' || *s == '\t')
			*s = ' ';
}

/*
 * Runs the program with argv on in (its stdin) and out (its descriptor
 * 3); its stdout and stderr come back in buf.  It leads a process group
 * of its own, so that past the deadline ffmpeg, its child, is killed with
 * it.  Returns its exit status, or -1 when it could not run, was killed,
 * or outlived the deadline.
 */
static int
run(char *const argv[], int in, int out, char *buf, size_t bufsz)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	struct pollfd	 pfd;
	struct timespec	 now, end;
	sigset_t	 none, all;
	pid_t		 pid = -1;
	ssize_t		 n;
	size_t		 len = 0;
	long long	 ms;
	int		 p[2] = { -1, -1 }, st, rc = -1, e;
	char		*envp[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", NULL };

	buf[0] = '\0';
	if (pipe2(p, O_CLOEXEC) == -1) {
		gh_log_errx("thumb", "pipe: %s", strerror(errno));
		return -1;
	}
	/*
	 * The child starts with default signals and none blocked (this
	 * worker blocks its stop signals while a request runs), and with
	 * no descriptor but the four it needs: not the FastCGI socket,
	 * not the client's connection, not the database's.
	 */
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	if ((e = posix_spawn_file_actions_adddup2(&fa, in, 0)) != 0 ||
	    (e = posix_spawn_file_actions_adddup2(&fa, out, 3)) != 0 ||
	    (e = posix_spawn_file_actions_adddup2(&fa, p[1], 1)) != 0 ||
	    (e = posix_spawn_file_actions_adddup2(&fa, p[1], 2)) != 0 ||
	    (e = posix_spawn_file_actions_addclosefrom_np(&fa, 4)) != 0 ||
	    (e = posix_spawnattr_setsigmask(&attr, &none)) != 0 ||
	    (e = posix_spawnattr_setsigdefault(&attr, &all)) != 0 ||
	    (e = posix_spawnattr_setpgroup(&attr, 0)) != 0 ||
	    (e = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP)) != 0 ||
	    (e = posix_spawn(&pid, thumb_cfg.program, &fa, &attr, argv,
	    envp)) != 0) {
		gh_log_errx("thumb", "%s: %s", thumb_cfg.program, strerror(e));
		pid = -1;
		goto done;
	}
	close(p[1]);
	p[1] = -1;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += thumb_cfg.seconds + 2;
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (end.tv_sec - now.tv_sec) * 1000 +
		    (end.tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0) {
			gh_log_warnx("thumb", "no thumbnail after %lld s: "
			    "killed", thumb_cfg.seconds + 2);
			break;
		}
		if ((n = poll(&pfd, 1, (int)ms)) == -1 && errno != EINTR) {
			gh_log_errx("thumb", "poll: %s", strerror(errno));
			break;
		}
		if (n <= 0)
			continue;
		if ((n = read(p[0], buf + len, bufsz - 1 - len)) == -1) {
			if (errno == EINTR)
				continue;
			gh_log_errx("thumb", "read: %s", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == bufsz - 1) {
			gh_log_warnx("thumb", "the program says too much: "
			    "killed");
			break;
		}
	}
	buf[len] = '\0';
	/*
	 * Past the deadline or a failure, or at the end: nothing of the
	 * group outlives it (ffmpeg also dies with its parent).  Before the
	 * reap, as the unreaped leader keeps the group's id from being
	 * reused.  At the end its output is closed, so it is exiting.
	 */
	kill(-pid, SIGKILL);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			gh_log_errx("thumb", "waitpid: %s", strerror(errno));
			goto done;
		}
	if (WIFEXITED(st))
		rc = WEXITSTATUS(st);
	else if (WIFSIGNALED(st))
		gh_log_warnx("thumb", "the program died of signal %d "
		    "(CPU time over %lld s, or memory over %lld MiB?)",
		    WTERMSIG(st), thumb_cfg.seconds, thumb_cfg.memory >> 20);
done:
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (p[0] != -1)
		close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	return rc;
}

/*
 * A number of the size line at *pp, 1 to 4096, ended by end (or, for the
 * last, the output's end), which *pp is moved past; -1 if not.
 */
static int
size_part(const char **pp, char end, uint32_t *out)
{
	const char	*p = *pp, *errstr;
	char		 n[8];
	size_t		 len = strspn(p, "0123456789");

	if (len == 0 || len >= sizeof(n) ||
	    (p[len] != end && !(end == '\n' && p[len] == '\0')))
		return -1;
	memcpy(n, p, len);
	n[len] = '\0';
	*out = (uint32_t)gh_strtonum(n, 1, 4096, &errstr);
	*pp = p + len + (p[len] != '\0');
	return errstr == NULL ? 0 : -1;
}

/* The thumbnail's size, from the program's line "size W H". */
static int
parse_size(const char *buf, uint32_t *w, uint32_t *h)
{
	const char	*line = NULL, *p;
	uint32_t	 a, b;

	for (p = buf; (p = strstr(p, "size ")) != NULL; p++)
		if (p == buf || p[-1] == '\n')
			line = p + 5;
	if (line == NULL || size_part(&line, ' ', &a) != 0 ||
	    size_part(&line, '\n', &b) != 0)
		return -1;
	*w = a;
	*h = b;
	return 0;
}

/*
 * Makes the thumbnail of the image in tmpname into a new temporary.
 * An image over the pixel limit is refused (422, answered here); one the
 * decoder cannot read, or a decoder that fails, only goes without a
 * thumbnail (t->tmpname stays NULL), as the file is still what its bytes
 * said.  Returns -1 only when it has answered.
 */
int
media_thumb_make(struct gh_req *req, const char *tmpname, const char *mime,
    uint32_t w, uint32_t h, struct media_thumb *t)
{
	char		 buf[THUMB_OUT_MAX];
	char		 size[24], pix[24], mib[24], secs[24];
	char		*argv[] = { (char *)thumb_cfg.program, (char *)mime, size,
			    pix, mib, secs, (char *)thumb_cfg.sandbox, NULL };
	int		 in = -1, out = -1, rc;

	memset(t, 0, sizeof(*t));
	if (thumb_cfg.program == NULL || !media_thumb_wanted(mime))
		return 0;
	/* From the header's size, when the sniffer read it, at no cost. */
	if ((long long)w * h > thumb_cfg.max_pixels)
		goto too_large;
	if ((in = openat(media_cfg.dirfd, tmpname, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1) {
		gh_log_errx("thumb", "%s/%s: %s", media_cfg.dir, tmpname,
		    strerror(errno));
		return 0;
	}
	if ((out = media_tmp_open(&req->arena, &t->tmpname)) == -1)
		goto none;
	snprintf(size, sizeof(size), "%lld", thumb_cfg.size);
	snprintf(pix, sizeof(pix), "%lld", thumb_cfg.max_pixels);
	snprintf(mib, sizeof(mib), "%lld", thumb_cfg.memory >> 20);
	snprintf(secs, sizeof(secs), "%lld", thumb_cfg.seconds);
	rc = run(argv, in, out, buf, sizeof(buf));
	if (rc == EXIT_TOO_LARGE) {
		close(in);
		close(out);
		media_unlink(t->tmpname);
		t->tmpname = NULL;
		goto too_large;
	}
	if (rc != 0 || parse_size(buf, &t->w, &t->h) != 0) {
		oneline(buf);
		gh_log_warnx("thumb", "no thumbnail for a %s (exit %d): %s",
		    mime, rc, buf);
		goto none;
	}
	/* Readable by nginx, like the file itself. */
	if (fchmod(out, 0644) == -1 || fsync(out) == -1) {
		gh_log_errx("thumb", "fsync %s/%s: %s", media_cfg.dir,
		    t->tmpname, strerror(errno));
		goto none;
	}
	close(in);
	close(out);
	return 0;
none:
	if (in != -1)
		close(in);
	if (out != -1)
		close(out);
	media_unlink(t->tmpname);
	memset(t, 0, sizeof(*t));
	return 0;
too_large:
	if (w != 0)
		return gh_problem_field(req, 422, "file", "the image is %ux%u, "
		    "%lld pixels; the limit is %lld pixels", w, h,
		    (long long)w * h, thumb_cfg.max_pixels);
	return gh_problem_field(req, 422, "file", "the image has more than "
	    "%lld pixels, the limit", thumb_cfg.max_pixels);
}
