/*
 * Tags as the database keeps them: the rules of a tag's name, an item's
 * names as the statements give them, and, for gatehouse-media --sweep,
 * the removal of tags no item uses.  No handler here.
 */
#include <stdio.h>
#include <string.h>

#include "sniff.h"
#include "tag.h"

/* A tag can be reused while this runs: see used_at in 006_tags.sql. */
#define UNUSED	"t.used_at < now() - " \
		"make_interval(secs => $1::double precision) AND NOT EXISTS " \
		"(SELECT 1 FROM media_item_tags l WHERE l.tag_id = t.id)"
GH_SQL(SQL_SWEEP) = {{
    "WITH d AS (DELETE FROM media_tags t WHERE " UNUSED " RETURNING 1) "
    "SELECT count(*) FROM d" }};
GH_SQL(SQL_SWEEP_COUNT) = {{
    "SELECT count(*) FROM media_tags t WHERE " UNUSED }};
enum { SW_COUNT };

#define STR(x)		#x
#define XSTR(x)		STR(x)
#define NAME_MAX_S	XSTR(MEDIA_TAG_MAX)

static int
is_space(long c)
{
	return c == ' ' || c == 0xa0 || c == 0x1680 ||
	    (c >= 0x2000 && c <= 0x200a) || c == 0x202f || c == 0x205f ||
	    c == 0x3000;
}

/*
 * Characters that are invisible or reorder text, so that two tags could
 * look the same and differ: format characters, fillers, private use and
 * non-characters.  The zero-width joiner is kept after an emoji (or its
 * variation selector), where it joins emoji sequences.
 */
static int
is_hidden(long c, long prev)
{
	if (c == 0x200d)
		return !(prev >= 0x1f000 || prev == 0xfe0f ||
		    (prev >= 0x2600 && prev <= 0x27bf));
	return c == 0xad || c == 0x34f || c == 0x61c || c == 0x115f ||
	    c == 0x1160 || c == 0x17b4 || c == 0x17b5 ||
	    (c >= 0x180b && c <= 0x180f) || (c >= 0x200b && c <= 0x200f) ||
	    (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x206f) ||
	    c == 0x3164 || c == 0xfeff || c == 0xffa0 ||
	    (c >= 0xfff0 && c <= 0xfffb) || (c >= 0xe000 && c <= 0xf8ff) ||
	    (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe ||
	    c == 0xe0001 || c >= 0xf0000;
}

/*
 * A tag's name as stored: spaces (any Unicode space) trimmed, and each
 * run of them inside made one ASCII space.  NULL, and why, when it
 * cannot be a tag: empty, longer than MEDIA_TAG_MAX code points, not
 * UTF-8, a control or invisible character, a / \ or comma (path and list
 * separators), or only dots.
 */
char *
media_tag_name(struct gh_arena *a, const char *in, const char **why)
{
	const unsigned char *p = (const unsigned char *)in, *s;
	char		*out, *o;
	long		 c, prev = 0;
	size_t		 n = 0, dots = 0;
	int		 space = 0;

	if (in == NULL || (out = gh_alloc(a, strlen(in) + 1)) == NULL) {
		*why = "must not be empty";
		return NULL;
	}
	for (o = out; *p != '\0'; prev = c) {
		s = p;
		if ((c = media_utf8_next(&p)) < 0) {
			*why = "must be UTF-8";
			return NULL;
		}
		if (is_space(c)) {
			space = o > out;
			continue;
		}
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
			*why = "must not contain control characters";
			return NULL;
		}
		if (is_hidden(c, prev)) {
			*why = "must not contain invisible or formatting "
			    "characters";
			return NULL;
		}
		if (c == '/' || c == '\\' || c == ',') {
			*why = "must not contain /, \\ or a comma";
			return NULL;
		}
		if (space) {
			*o++ = ' ';
			n++;
			space = 0;
		}
		memcpy(o, s, (size_t)(p - s));
		o += p - s;
		dots += c == '.';
		if (++n > MEDIA_TAG_MAX) {
			*why = "must be at most " NAME_MAX_S " characters";
			return NULL;
		}
	}
	*o = '\0';
	if (n == 0)
		*why = "must not be empty";
	else if (dots == n)
		*why = "must not be only dots";
	else
		return out;
	return NULL;
}

/* For a query table's .valid: a prefix of names follows their rules. */
const char *
media_valid_tag_prefix(const char *s)
{
	struct gh_arena	 a;
	const char	*why = NULL;

	gh_arena_init(&a);
	if (media_tag_name(&a, s, &why) != NULL)
		why = NULL;
	gh_arena_free(&a);
	return why;
}

/* A column made by MEDIA_TAG_NAMES, as a JSON array. */
json_t *
media_tags_json(struct gh_row *r, int col)
{
	json_t	*a = gh_row_json(r, col);

	if (!json_is_array(a)) {
		json_decref(a);
		return json_array();
	}
	return a;
}

/*
 * For gatehouse-media --sweep: tags no item has used for grace seconds,
 * removed, or counted for a dry run.  -1 when the database fails (logged).
 */
int
media_tags_sweep(struct gh_arena *a, long long grace, int dry_run,
    long long *removed)
{
	struct gh_row	 r;
	PGresult	*res;
	const char	*p[1];
	char		 g[24];

	*removed = 0;
	snprintf(g, sizeof(g), "%lld", grace);
	p[0] = g;
	res = gh_db_run(a, dry_run ? SQL_SWEEP_COUNT : SQL_SWEEP, 1, p);
	if (!gh_db_ok(res) || gh_rows(res) != 1) {
		gh_log_errx("sweep", "unused tags: %s", res != NULL ?
		    PQresultErrorMessage(res) : "no connection");
		return -1;
	}
	r = GH_ROW(res, 0);
	*removed = gh_row_int(&r, SW_COUNT);
	if (r.bad >= 0) {
		gh_log_errx("sweep", "unused tags: the count is not a number");
		return -1;
	}
	return 0;
}
