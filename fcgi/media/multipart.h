/*
 * gatehouse-media: multipart/form-data (RFC 7578) parsed as it streams
 * (multipart.c).  No FastCGI, no database: the body comes through a
 * reader and a part's content goes to a sink as it comes, so that a file
 * is never held in memory and tests/unit/check_multipart.c drives the
 * parser with any chunking of a body.
 *
 *	multipart_init(&mp, boundary, read, ctx, buf, sizeof(buf));
 *	if (multipart_start(&mp) != 0) ... mp.why
 *	while ((rc = multipart_next(&mp, arena, &part)) == 1)
 *		if (multipart_content(&mp, sink, sinkctx) != 0) ...
 *	rc == 0: the closing delimiter; rc == -1: mp.why, or the sink's
 *
 * A failure leaves why (the detail of a 400, or of a 500 when status
 * says so); why is NULL when the sink failed, which has said why itself.
 * A file name refused for what it holds (a NUL, a line end) is a bad
 * field rather than a broken form: status 422, and field names it.
 */
#ifndef MEDIA_MULTIPART_H
#define MEDIA_MULTIPART_H

#include <stddef.h>

struct gh_arena;

#define MULTIPART_BOUNDARY_MAX	70	/* RFC 2046 */
#define MULTIPART_HEAD_MAX	8192	/* bytes of a part's headers */
#define MULTIPART_BAD_NAME	(-3)	/* multipart_headers: the name */

struct multipart {
	size_t		(*read)(void *, char *, size_t);	/* 0: the end */
	void		*ctx;
	char		*buf;		/* room for a read, and what a
					   delimiter or headers straddle */
	size_t		 bufsz;
	char		 delim[4 + MULTIPART_BOUNDARY_MAX + 1];	/* CRLF "--" b */
	size_t		 dlen;
	size_t		 off, len;	/* unread bytes: buf[off, len) */
	int		 eof;
	int		 status;	/* of a failure: 400, 422, 500; 0 the
					   sink's */
	const char	*why;
	const char	*field;		/* with 422: the field at fault */
};

/* A part's headers, as the arena holds them; NULL when not given. */
struct multipart_part {
	const char	*name;
	const char	*filename;	/* filename*, when given, else filename */
	const char	*ctype;
};

/* multipart.c */
int		 multipart_boundary(const char *ctype,
		    char boundary[MULTIPART_BOUNDARY_MAX + 1], const char **why);
void		 multipart_init(struct multipart *, const char *boundary,
		    size_t (*)(void *, char *, size_t), void *, char *buf,
		    size_t bufsz);
int		 multipart_start(struct multipart *);
int		 multipart_next(struct multipart *, struct gh_arena *,
		    struct multipart_part *);
int		 multipart_content(struct multipart *,
		    int (*)(void *, const char *, size_t), void *);
int		 multipart_headers(struct gh_arena *, const char *, size_t,
		    struct multipart_part *, const char **why);

#endif
