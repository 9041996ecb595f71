/*
 * gatehouse-media: what a file is, from its own bytes, and the text rules
 * of names and titles (sniff.c).  Pure functions over bytes: no files, no
 * database, so that tests/unit/check_sniff.c reaches them directly.
 */
#ifndef MEDIA_SNIFF_H
#define MEDIA_SNIFF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct gh_arena;

#define MEDIA_SNIFF_LEN		4096	/* bytes kept to decide the type */

/* A type we accept: what the bytes say, and the names it goes by. */
struct media_type {
	const char	*mime;
	const char	*aliases;	/* other declared types, space separated */
	const char	*exts;		/* file name extensions, space separated */
};

const struct media_type *media_sniff(const unsigned char *, size_t);
int		 media_declared_ok(const struct media_type *, const char *);
int		 media_ext_ok(const struct media_type *, const char *filename);
int		 media_dimensions(const char *mime,
		    ssize_t (*rd)(void *, void *, size_t, uint64_t), void *,
		    uint32_t *w, uint32_t *h);
long		 media_utf8_next(const unsigned char **);
const char	*media_valid_text(const char *, size_t maxlen, int multiline);
int		 media_risky(const char *mime);
int		 media_etag_matches(const char *inm, const char *hex);
char		*media_disposition(struct gh_arena *, const char *mime,
		    const char *filename, int attachment);

#endif
