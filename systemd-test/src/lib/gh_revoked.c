#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gh_config.h"
#include "gh_json.h"
#include "gh_log.h"
#include "gh_revoked.h"
#include "gh_token.h"

#define HEADER		"gatehouse-revoked 1 "
#define FILE_MAX	(16 << 20)

static struct gh_revoked current;
static const char	*path;		/* NULL: revocation is not followed */
static long long	 stale_after;	/* seconds; past it, say so */
static int		 fail_closed;
static struct stat	 seen;		/* the file last read */
static int		 loaded;
static time_t		 warned;

static int
cmp_session(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int
cmp_user(const void *a, const void *b)
{
	return strcmp(((const struct gh_revoked_user *)a)->id,
	    ((const struct gh_revoked_user *)b)->id);
}

void
gh_revoked_clear(struct gh_revoked *r)
{
	free(r->sessions);
	free(r->users);
	memset(r, 0, sizeof(*r));
}

/* One line's id: a UUID, copied lower-cased as tokens carry it. */
static int
take_id(const char *p, size_t n, char out[37])
{
	size_t	 i;

	if (n != 36)
		return -1;
	memcpy(out, p, 36);
	out[36] = '\0';
	if (!gh_is_uuid(out))
		return -1;
	for (i = 0; i < 36; i++)
		if (out[i] >= 'A' && out[i] <= 'F')
			out[i] = (char)(out[i] - 'A' + 'a');
	return 0;
}

/*
 * Parses a whole file into r (which the caller clears).  Strict: one bad
 * line refuses the file, and the previous one stays in force.  Pure.
 */
int
gh_revoked_parse(const char *buf, size_t len, struct gh_revoked *r)
{
	const char	*p, *end = buf + len, *nl, *sp, *errstr;
	char		 num[24];
	size_t		 n, cap = 0;

	memset(r, 0, sizeof(*r));
	if (len < strlen(HEADER) || memcmp(buf, HEADER, strlen(HEADER)) != 0 ||
	    (nl = memchr(buf, '\n', len)) == NULL)
		return -1;
	p = buf + strlen(HEADER);
	if ((n = (size_t)(nl - p)) == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, p, n);
	num[n] = '\0';
	r->written = gh_strtonum(num, 0, 1LL << 40, &errstr);
	if (errstr != NULL)
		return -1;
	/* Room for every line: no line is shorter than 38 bytes. */
	cap = len / 38 + 1;
	if (cap > GH_REVOKED_MAX)
		cap = GH_REVOKED_MAX;
	if ((r->sessions = calloc(cap, sizeof(*r->sessions))) == NULL ||
	    (r->users = calloc(cap, sizeof(*r->users))) == NULL)
		goto fail;
	for (p = nl + 1; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			goto fail;
		if (r->nsessions + r->nusers == cap)
			goto fail;
		if (nl - p == 38 && p[0] == 's' && p[1] == ' ') {
			if (take_id(p + 2, 36, r->sessions[r->nsessions]) != 0)
				goto fail;
			r->nsessions++;
		} else if (nl - p > 40 && p[0] == 'u' && p[1] == ' ' &&
		    p[38] == ' ') {
			sp = p + 39;
			if ((n = (size_t)(nl - sp)) >= sizeof(num) ||
			    take_id(p + 2, 36, r->users[r->nusers].id) != 0)
				goto fail;
			memcpy(num, sp, n);
			num[n] = '\0';
			r->users[r->nusers].not_before = gh_strtonum(num, 0,
			    1LL << 40, &errstr);
			if (errstr != NULL)
				goto fail;
			r->nusers++;
		} else
			goto fail;
	}
	qsort(r->sessions, r->nsessions, sizeof(*r->sessions), cmp_session);
	qsort(r->users, r->nusers, sizeof(*r->users), cmp_user);
	return 0;
fail:
	gh_revoked_clear(r);
	return -1;
}

/* Whether the claims belong to an ended session or a cut-off user. */
int
gh_revoked_has(const struct gh_revoked *r, const struct gh_claims *c)
{
	struct gh_revoked_user	 key, *u;
	char			 sid[37];

	if (c->sid[0] != '\0' && take_id(c->sid, strlen(c->sid), sid) == 0 &&
	    bsearch(sid, r->sessions, r->nsessions, sizeof(*r->sessions),
	    cmp_session) != NULL)
		return 1;
	if (take_id(c->sub, strlen(c->sub), key.id) != 0)
		return 0;
	u = bsearch(&key, r->users, r->nusers, sizeof(*r->users), cmp_user);
	return u != NULL && c->iat < u->not_before;
}

/* Settings, read once at start. */
int
gh_revoked_setup(void)
{
	path = gh_config_str("GH_REVOKED_FILE", NULL);
	if (path != NULL && *path == '\0')
		path = NULL;
	if (gh_config_int("GH_REVOKED_STALE", 120, 5, 86400,
	    &stale_after) != 0 ||
	    gh_config_bool("GH_REVOKED_FAIL_CLOSED", 0, &fail_closed) != 0)
		return -1;
	return 0;
}

static int
reload(const struct stat *st)
{
	struct gh_revoked next;
	char		*buf = NULL;
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if (st->st_size <= 0 || st->st_size > FILE_MAX ||
	    (buf = malloc((size_t)st->st_size)) == NULL)
		goto done;
	while (got < (size_t)st->st_size) {
		n = read(fd, buf + got, (size_t)st->st_size - got);
		if (n <= 0)
			goto done;
		got += (size_t)n;
	}
	if (gh_revoked_parse(buf, got, &next) != 0) {
		gh_log_errx("revoked", "%s is not a revocation list; keeping "
		    "the previous one", path);
		goto done;
	}
	gh_revoked_clear(&current);
	current = next;
	rc = 0;
done:
	free(buf);
	close(fd);
	return rc;
}

/*
 * 1 when the token must be refused: its session ended or its user was
 * cut off; or, with GH_REVOKED_FAIL_CLOSED, when no fresh list can be
 * read.  0 otherwise.  Costs one stat when nothing changed.
 */
int
gh_revoked_check(const struct gh_claims *c, time_t now)
{
	struct stat	 st;
	int		 fresh;

	if (path == NULL)
		return 0;
	if (stat(path, &st) == 0) {
		if (!loaded || st.st_ino != seen.st_ino ||
		    st.st_mtim.tv_sec != seen.st_mtim.tv_sec ||
		    st.st_mtim.tv_nsec != seen.st_mtim.tv_nsec ||
		    st.st_size != seen.st_size) {
			if (reload(&st) == 0) {
				seen = st;
				loaded = 1;
			}
		}
	} else if (errno != ENOENT || loaded)
		gh_log_warnx("revoked", "%s: %s", path, strerror(errno));
	/* The feeder rewrites the file at least every 30 s while it runs. */
	fresh = loaded && now - current.written <= stale_after;
	if (!fresh && now - warned >= 60) {
		warned = now;
		gh_log_errx("revoked", "the revocation list %s is %s; is "
		    "gatehouse-revoked running?", path, loaded ? "stale" :
		    "missing");
	}
	if (!fresh && fail_closed)
		return 1;
	return loaded && gh_revoked_has(&current, c);
}

/*
 * Writes a list for gh_revoked_check: a temporary beside path, synced,
 * then renamed over it, so a reader sees the old file or the new one.
 */
int
gh_revoked_write(const char *dst, const char *const *sessions, size_t ns,
    const char *const *users, const long long *not_before, size_t nu,
    time_t now)
{
	char	 tmp[4096];
	FILE	*f = NULL;
	size_t	 i;
	int	 fd = -1, n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", dst, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) == -1 || (f = fdopen(fd, "w")) == NULL)
		goto fail;
	fd = -1;
	fprintf(f, HEADER "%lld\n", (long long)now);
	for (i = 0; i < ns; i++)
		fprintf(f, "s %s\n", sessions[i]);
	for (i = 0; i < nu; i++)
		fprintf(f, "u %s %lld\n", users[i], not_before[i]);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || ferror(f))
		goto fail;
	if (fclose(f) != 0) {
		f = NULL;
		goto fail;
	}
	f = NULL;
	if (rename(tmp, dst) != 0)
		goto fail;
	return 0;
fail:
	if (f != NULL)
		fclose(f);
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return -1;
}
