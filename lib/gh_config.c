#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "gh_config.h"
#include "gh_log.h"

#define GH_SECRET_MAX	(64 * 1024)

/*
 * Bounded conversion in the manner of OpenBSD's strtonum(3): the whole
 * string must be a decimal number inside [min, max]; *errstr says why not.
 */
long long
gh_strtonum(const char *s, long long min, long long max, const char **errstr)
{
	long long	 v;
	char		*end;

	*errstr = NULL;
	if (s == NULL || *s == '\0' || min > max) {
		*errstr = "invalid";
		return 0;
	}
	/* strtoll accepts leading space and a plus sign; a setting may not. */
	if (!(*s == '-' || (*s >= '0' && *s <= '9'))) {
		*errstr = "invalid";
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || end == s || (s[0] == '-' && end == s + 1)) {
		*errstr = "invalid";
		return 0;
	}
	if ((errno == ERANGE && v == LLONG_MIN) || v < min) {
		*errstr = "too small";
		return 0;
	}
	if ((errno == ERANGE && v == LLONG_MAX) || v > max) {
		*errstr = "too large";
		return 0;
	}
	return v;
}

const char *
gh_config_str(const char *name, const char *def)
{
	const char	*v;

	if ((v = getenv(name)) == NULL || *v == '\0')
		return def;
	return v;
}

int
gh_config_int(const char *name, long long def, long long min, long long max,
    long long *out)
{
	const char	*v, *errstr;
	long long	 n;

	if ((v = getenv(name)) == NULL || *v == '\0') {
		*out = def;
		return 0;
	}
	n = gh_strtonum(v, min, max, &errstr);
	if (errstr != NULL) {
		gh_log_errx("config", "%s=%s is %s (allowed %lld to %lld)",
		    name, v, errstr, min, max);
		return -1;
	}
	*out = n;
	return 0;
}

int
gh_config_bool(const char *name, int def, int *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };
	const char	*v;
	size_t		 i;

	if ((v = getenv(name)) == NULL || *v == '\0') {
		*out = def;
		return 0;
	}
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	gh_log_errx("config", "%s=%s is not a boolean (use true or false)",
	    name, v);
	return -1;
}

/* A byte count with an optional k, m or g suffix (powers of 1024). */
int
gh_parse_size(const char *s, long long max, long long *out,
    const char **errstr)
{
	char		 num[32];
	size_t		 len;
	long long	 mult = 1, n;

	*errstr = NULL;
	len = strlen(s);
	if (len == 0 || len >= sizeof(num)) {
		*errstr = "invalid";
		return -1;
	}
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 'k': case 'K':
		mult = 1024;
		break;
	case 'm': case 'M':
		mult = 1024 * 1024;
		break;
	case 'g': case 'G':
		mult = 1024LL * 1024 * 1024;
		break;
	}
	if (mult != 1)
		num[--len] = '\0';
	n = gh_strtonum(num, 0, max / mult, errstr);
	if (*errstr != NULL)
		return -1;
	*out = n * mult;
	return 0;
}

int
gh_config_size(const char *name, long long def, long long max, long long *out)
{
	const char	*v, *errstr;

	if ((v = getenv(name)) == NULL || *v == '\0') {
		*out = def;
		return 0;
	}
	if (gh_parse_size(v, max, out, &errstr) != 0) {
		gh_log_errx("config", "%s=%s is %s (a size like 512k or 8m, "
		    "at most %lld bytes)", name, v, errstr, max);
		return -1;
	}
	return 0;
}

/*
 * Reads a secret file whole.  It must be a regular file that neither group
 * nor others may read or write: a secret that leaks through a mode is a
 * secret no more.  A final newline (editors add one) is dropped.
 */
char *
gh_secret_read(const char *path, size_t *len, const char **errstr)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	*errstr = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		*errstr = strerror(errno);
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		*errstr = strerror(errno);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		*errstr = "not a regular file";
		goto fail;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		*errstr = "readable or writable by group or others "
		    "(chmod 600 it)";
		goto fail;
	}
	if (st.st_size <= 0 || st.st_size > GH_SECRET_MAX) {
		*errstr = st.st_size <= 0 ? "empty" : "too large";
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		*errstr = "out of memory";
		goto fail;
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			*errstr = n == 0 ? "short read" : strerror(errno);
			goto fail;
		}
		off += (size_t)n;
	}
	while (off > 0 && (buf[off - 1] == '\n' || buf[off - 1] == '\r'))
		off--;
	if (off == 0) {
		*errstr = "empty";
		goto fail;
	}
	buf[off] = '\0';
	close(fd);
	*len = off;
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

/* Reads the secret whose path is in NAME_FILE; NULL when unset or bad. */
char *
gh_config_secret(const char *name, size_t *len)
{
	char		 var[128];
	const char	*path, *errstr;
	char		*s;
	int		 n;

	n = snprintf(var, sizeof(var), "%s_FILE", name);
	if (n < 0 || (size_t)n >= sizeof(var))
		return NULL;
	if ((path = getenv(var)) == NULL || *path == '\0')
		return NULL;
	if ((s = gh_secret_read(path, len, &errstr)) == NULL)
		gh_log_errx("config", "%s=%s: %s", var, path, errstr);
	return s;
}

/* Writes all of buf to fd, again after EINTR or a short write: 0, or -1. */
int
gh_write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
