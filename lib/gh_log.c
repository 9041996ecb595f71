#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "gh_log.h"

static const char	*log_service = "gatehouse";
static enum gh_level	 log_min = GH_LOG_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void
gh_log_setup(const char *service, enum gh_level min)
{
	log_service = service;
	log_min = min;
}

int
gh_log_level_parse(const char *s, enum gh_level *out)
{
	size_t	 i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum gh_level)i;
			return 0;
		}
	return -1;
}

int
gh_log_enabled(enum gh_level l)
{
	return l >= log_min;
}

/*
 * Escapes src as the inside of a JSON string; control characters (CR and LF
 * included) become \uXXXX so a client cannot forge log lines.  Returns the
 * length written, never more than dstlen - 1; a cut never splits an escape.
 */
size_t
gh_json_escape(char *dst, size_t dstlen, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t		 o = 0;
	char		 e[7];
	size_t		 n;

	if (dstlen == 0)
		return 0;
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\') {
			e[0] = '\\';
			e[1] = (char)*s;
			n = 2;
		} else if (*s < 0x20 || *s == 0x7f) {
			memcpy(e, "\\u00", 4);
			e[4] = hex[*s >> 4];
			e[5] = hex[*s & 0xf];
			n = 6;
		} else {
			e[0] = (char)*s;
			n = 1;
		}
		if (o + n >= dstlen)
			break;
		memcpy(dst + o, e, n);
		o += n;
	}
	dst[o] = '\0';
	return o;
}

static void
lb_raw(struct gh_logbuf *lb, const char *s, size_t n)
{
	/* Room stays free for the truncation marker, brace and newline. */
	if (lb->len + n > sizeof(lb->buf) - 24) {
		lb->truncated = 1;
		return;
	}
	memcpy(lb->buf + lb->len, s, n);
	lb->len += n;
}

/*
 * ,"key": into buf (size at least keylen + 6), quoted value to follow or
 * not; the length written, or 0 when the key does not fit.  Keys are
 * the program's own constants: they need no escaping.
 */
static size_t
field_key(char *buf, size_t size, const char *key, int quoted)
{
	size_t	 k = strlen(key), n;

	n = k + 4 + (quoted ? 1 : 0);
	if (n >= size - 2)
		return 0;
	buf[0] = ',';
	buf[1] = '"';
	memcpy(buf + 2, key, k);
	buf[k + 2] = '"';
	buf[k + 3] = ':';
	if (quoted)
		buf[k + 4] = '"';
	return n;
}

void
gh_logbuf_str(struct gh_logbuf *lb, const char *key, const char *val)
{
	char	 field[1200];
	size_t	 n;

	if (val == NULL || (n = field_key(field, sizeof(field), key, 1)) == 0)
		return;
	n += gh_json_escape(field + n, sizeof(field) - n - 1, val);
	field[n++] = '"';
	lb_raw(lb, field, n);
}

/* The decimal digits of v at the end of buf; returns where they start. */
static char *
digits(char *end, unsigned long long v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return end;
}

void
gh_logbuf_int(struct gh_logbuf *lb, const char *key, long long val)
{
	char	 field[128], num[24], *d;
	size_t	 n, m;

	if ((n = field_key(field, sizeof(field) - sizeof(num), key, 0)) == 0)
		return;
	d = digits(num + sizeof(num), val < 0 ? 0ULL - (unsigned long long)val :
	    (unsigned long long)val);
	if (val < 0)
		*--d = '-';
	m = (size_t)(num + sizeof(num) - d);
	memcpy(field + n, d, m);
	lb_raw(lb, field, n + m);
}

/* Milliseconds to the microsecond, as %.3f would write them. */
void
gh_logbuf_ms(struct gh_logbuf *lb, const char *key, double ms)
{
	char	 field[128], num[32], *d;
	unsigned long long us;
	size_t	 n, m;
	int	 i;

	if (!(ms >= 0 && ms < 1e12)) {
		/* Not a duration a clock gives: printf's own way. */
		if ((n = field_key(field, sizeof(field), key, 0)) == 0)
			return;
		i = snprintf(field + n, sizeof(field) - n, "%.3f", ms);
		if (i > 0 && (size_t)i < sizeof(field) - n)
			lb_raw(lb, field, n + (size_t)i);
		return;
	}
	if ((n = field_key(field, sizeof(field) - sizeof(num), key, 0)) == 0)
		return;
	us = (unsigned long long)(ms * 1000.0 + 0.5);
	d = num + sizeof(num);
	for (i = 0; i < 3; i++) {
		*--d = (char)('0' + us % 10);
		us /= 10;
	}
	*--d = '.';
	d = digits(d, us);
	m = (size_t)(num + sizeof(num) - d);
	memcpy(field + n, d, m);
	lb_raw(lb, field, n + m);
}

/*
 * The pid of the process, asked once: getpid is a system call per log
 * line otherwise.  A child of fork asks again.
 */
static pid_t	 log_pid;

static void
forget_pid(void)
{
	log_pid = 0;
}

static long long
pid_now(void)
{
	static int	 cached = -1;	/* -1: not asked yet */

	if (cached == -1)
		cached = pthread_atfork(NULL, NULL, forget_pid) == 0;
	if (!cached)
		return (long long)getpid();
	if (log_pid == 0)
		log_pid = getpid();
	return (long long)log_pid;
}

/*
 * The time as 2026-01-02T03:04:05.678Z; the part to the second is made
 * once a second, not with every line.
 */
static size_t
timestamp(char *out)
{
	static time_t	 last = (time_t)-1;
	static char	 secs[32];
	static size_t	 secslen;
	struct timespec	 ts;
	struct tm	 tm;
	long		 ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != last || secslen == 0) {
		gmtime_r(&ts.tv_sec, &tm);
		secslen = strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S",
		    &tm);
		last = ts.tv_sec;
	}
	memcpy(out, secs, secslen);
	ms = ts.tv_nsec / 1000000;
	out[secslen] = '.';
	out[secslen + 1] = (char)('0' + ms / 100);
	out[secslen + 2] = (char)('0' + ms / 10 % 10);
	out[secslen + 3] = (char)('0' + ms % 10);
	out[secslen + 4] = 'Z';
	return secslen + 5;
}

void
gh_logbuf_begin(struct gh_logbuf *lb, enum gh_level level, const char *event)
{
	char	 when[40];
	size_t	 n;

	lb->len = 0;
	lb->truncated = 0;
	n = timestamp(when);
	lb_raw(lb, "{\"ts\":\"", 7);
	lb_raw(lb, when, n);
	lb_raw(lb, "\"", 1);
	gh_logbuf_str(lb, "level", level_names[level]);
	gh_logbuf_str(lb, "service", log_service);
	gh_logbuf_int(lb, "pid", pid_now());
	gh_logbuf_str(lb, "event", event);
}

void
gh_logbuf_end(struct gh_logbuf *lb)
{
	ssize_t	 w;
	size_t	 off = 0;

	if (lb->truncated) {
		/* lb_raw kept room for this marker and the closing brace. */
		memcpy(lb->buf + lb->len, ",\"truncated\":true", 17);
		lb->len += 17;
	}
	lb->buf[lb->len++] = '}';
	lb->buf[lb->len++] = '\n';
	while (off < lb->len) {
		w = write(STDERR_FILENO, lb->buf + off, lb->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

void
gh_logf(enum gh_level level, const char *func, const char *event,
    const char *fmt, ...)
{
	struct gh_logbuf lb;
	char		 msg[1024];
	va_list		 ap;

	if (level < log_min)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gh_logbuf_begin(&lb, level, event);
	gh_logbuf_str(&lb, "func", func);
	gh_logbuf_str(&lb, "msg", msg);
	gh_logbuf_end(&lb);
}
