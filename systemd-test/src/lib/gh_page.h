/*
 * Pages of a list, one shape for every list:
 *
 *	{"data": [...], "has_more": true, "next_cursor": "..."}
 *
 * The cursor is opaque to clients: base64url of the sort key of the last
 * item of the page (for example its created_at and id), so the next page
 * starts after that position whatever became of the item itself (turned
 * private, deleted).  Each key part has a kind, checked on the way in:
 * 't' an RFC 3339 time, 'u' a UUID, 'i' an integer, 's' visible ASCII.
 * A list declares GH_PAGE_FIELDS in its query table, in that order.
 */
#ifndef GH_PAGE_H
#define GH_PAGE_H

#include <stddef.h>

#include <jansson.h>
#include <libpq-fe.h>

struct gh_arena;
struct gh_req;
struct gh_values;

#define GH_PAGE_LIMIT_MAX	100
#define GH_PAGE_KEYS_MAX	4
#define GH_CURSOR_MAX		256	/* characters of an encoded cursor */

#define GH_PAGE_FIELDS \
	{ "limit", GH_INT | GH_OPTIONAL, .min = 1, .max = GH_PAGE_LIMIT_MAX }, \
	{ "cursor", GH_STRING | GH_OPTIONAL, .maxlen = GH_CURSOR_MAX }

struct gh_page {
	long long	 limit;
	char		 fetch[24];	/* limit + 1, a statement parameter */
	const char	*kinds;		/* of the key's parts */
	const char	*key[GH_PAGE_KEYS_MAX];	/* all NULL: the first page */
};

/* gh_page.c */
char		*gh_cursor_encode(struct gh_arena *, const char *const *key,
		    size_t nkey);
int		 gh_cursor_decode(struct gh_arena *, const char *cursor,
		    const char *kinds, const char **key);
int		 gh_page_init(struct gh_req *, const struct gh_values *,
		    size_t limit_field, long long limit_default,
		    const char *kinds, struct gh_page *);
int		 gh_page_count(const struct gh_page *, const PGresult *);
json_t		*gh_page_json(struct gh_arena *, const struct gh_page *,
		    json_t *data, const PGresult *, const int *keycols);

#endif
