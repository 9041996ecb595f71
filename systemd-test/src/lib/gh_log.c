#include <errno.h>
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

/* Keys are the program's own constants: they need no escaping. */
void
gh_logbuf_str(struct gh_logbuf *lb, const char *key, const char *val)
{
	char	 field[1200];
	size_t	 n;
	int	 k;

	if (val == NULL)
		return;
	k = snprintf(field, sizeof(field), ",\"%s\":\"", key);
	if (k < 0 || (size_t)k >= sizeof(field) - 2)
		return;
	n = (size_t)k;
	n += gh_json_escape(field + n, sizeof(field) - n - 1, val);
	field[n++] = '"';
	lb_raw(lb, field, n);
}

void
gh_logbuf_int(struct gh_logbuf *lb, const char *key, long long val)
{
	char	 field[128];
	int	 n;

	n = snprintf(field, sizeof(field), ",\"%s\":%lld", key, val);
	if (n > 0 && (size_t)n < sizeof(field))
		lb_raw(lb, field, (size_t)n);
}

void
gh_logbuf_ms(struct gh_logbuf *lb, const char *key, double ms)
{
	char	 field[128];
	int	 n;

	n = snprintf(field, sizeof(field), ",\"%s\":%.3f", key, ms);
	if (n > 0 && (size_t)n < sizeof(field))
		lb_raw(lb, field, (size_t)n);
}

void
gh_logbuf_begin(struct gh_logbuf *lb, enum gh_level level, const char *event)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 when[40];
	size_t		 n;

	lb->len = 0;
	lb->truncated = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + n, sizeof(when) - n, ".%03ldZ", ts.tv_nsec / 1000000);
	lb_raw(lb, "{\"ts\":\"", 7);
	lb_raw(lb, when, strlen(when));
	lb_raw(lb, "\"", 1);
	gh_logbuf_str(lb, "level", level_names[level]);
	gh_logbuf_str(lb, "service", log_service);
	gh_logbuf_int(lb, "pid", (long long)getpid());
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
