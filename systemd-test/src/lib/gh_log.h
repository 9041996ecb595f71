/*
 * One JSON object per line on stderr (journald keeps it), written with a
 * single write(2) so lines from a pool of workers never interleave.
 */
#ifndef GH_LOG_H
#define GH_LOG_H

#include <stddef.h>

enum gh_level {
	GH_LOG_DEBUG,
	GH_LOG_INFO,
	GH_LOG_WARN,
	GH_LOG_ERROR
};

#define GH_LOG_LINE_MAX	4096

struct gh_logbuf {
	char	buf[GH_LOG_LINE_MAX];
	size_t	len;
	int	truncated;
};

/* gh_log.c */
void	 gh_log_setup(const char *service, enum gh_level min);
int	 gh_log_level_parse(const char *, enum gh_level *);
int	 gh_log_enabled(enum gh_level);
void	 gh_logf(enum gh_level, const char *func, const char *event,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
#define gh_log_warnx(...)	gh_logf(GH_LOG_WARN, __func__, __VA_ARGS__)
#define gh_log_errx(...)	gh_logf(GH_LOG_ERROR, __func__, __VA_ARGS__)
#define gh_log_infox(...)	gh_logf(GH_LOG_INFO, __func__, __VA_ARGS__)

/* Building a line by hand, for the per-request line. */
void	 gh_logbuf_begin(struct gh_logbuf *, enum gh_level, const char *event);
void	 gh_logbuf_str(struct gh_logbuf *, const char *key, const char *val);
void	 gh_logbuf_int(struct gh_logbuf *, const char *key, long long val);
void	 gh_logbuf_ms(struct gh_logbuf *, const char *key, double ms);
void	 gh_logbuf_end(struct gh_logbuf *);
size_t	 gh_json_escape(char *dst, size_t dstlen, const char *src);

#endif
