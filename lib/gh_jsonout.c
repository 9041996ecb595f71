/*
 * JSON answers written in one pass: the text json_dumps(JSON_COMPACT)
 * makes, byte for byte, without jansson's chunk-by-chunk callbacks
 * (json_dumps was a quarter of what an authenticated read cost a
 * worker).  What jansson's dump.c does is done here the same way: keys
 * in the object's order, the same escapes (\" \\ \b \f \n \r \t, other
 * control characters as \u00XX in capitals, nothing else), UTF-8
 * checked (a string that is not UTF-8 fails the whole text, as in
 * jansson), integers in decimal.  Reals, rare in answers, are written
 * by jansson itself; so is anything nested deeper than DEPTH_MAX, where
 * jansson's own check of loops is wanted.  One difference: a key that is
 * not UTF-8 makes jansson write text that is not JSON (it ignores the
 * failure for keys); it fails here, as a value does in both.  Only the
 * json_*_nocheck functions make such a key, and nothing here calls them.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gh_json.h"

#define DEPTH_MAX	64

struct jbuf {
	char	*p;
	size_t	 len, cap;
	int	 failed;	/* -1: out of memory or not UTF-8; 1: deep */
};

static int
jb_room(struct jbuf *b, size_t n)
{
	char	*p;
	size_t	 cap;

	if (b->failed)
		return -1;
	if (b->cap - b->len > n)
		return 0;
	cap = b->cap == 0 ? 1024 : b->cap;
	while (cap - b->len <= n) {
		if (cap > (size_t)-1 / 2) {
			b->failed = -1;
			return -1;
		}
		cap *= 2;
	}
	if ((p = realloc(b->p, cap)) == NULL) {
		b->failed = -1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

static void
jb_put(struct jbuf *b, const void *s, size_t n)
{
	if (jb_room(b, n) != 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void
jb_char(struct jbuf *b, char c)
{
	if (jb_room(b, 1) != 0)
		return;
	b->p[b->len++] = c;
}

/* Bytes of the UTF-8 sequence at s (jansson's utf8_check_*), 0 if bad. */
static size_t
utf8_seq(const unsigned char *s, size_t left)
{
	unsigned	 v;
	size_t		 n, i;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;	/* a continuation byte, C0, C1, F5 and up */
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (n > left)
		return 0;
	v = s[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) ||
	    (n == 3 && v < 0x800) || (n == 4 && v < 0x10000))
		return 0;
	return n;
}

static void
jb_string(struct jbuf *b, const char *str, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)str, *end = s + len;
	const unsigned char *run = s;
	char		 esc[6];
	size_t		 n, elen;

	jb_char(b, '"');
	while (s < end) {
		if (*s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\') {
			s++;
			continue;
		}
		if (*s >= 0x80) {
			if ((n = utf8_seq(s, (size_t)(end - s))) == 0) {
				b->failed = -1;
				return;
			}
			s += n;
			continue;
		}
		jb_put(b, run, (size_t)(s - run));
		esc[0] = '\\';
		elen = 2;
		switch (*s) {
		case '"':	esc[1] = '"'; break;
		case '\\':	esc[1] = '\\'; break;
		case '\b':	esc[1] = 'b'; break;
		case '\f':	esc[1] = 'f'; break;
		case '\n':	esc[1] = 'n'; break;
		case '\r':	esc[1] = 'r'; break;
		case '\t':	esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[*s >> 4];
			esc[5] = hex[*s & 0xf];
			elen = 6;
			break;
		}
		jb_put(b, esc, elen);
		run = ++s;
	}
	jb_put(b, run, (size_t)(s - run));
	jb_char(b, '"');
}

static void
jb_integer(struct jbuf *b, json_int_t v)
{
	char			 d[24], *e = d + sizeof(d), *p = e;
	unsigned long long	 u;

	u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	jb_put(b, p, (size_t)(e - p));
}

static void
jb_value(struct jbuf *b, const json_t *v, int depth)
{
	const json_t	*e;
	void		*it;
	char		*s;
	size_t		 i, n;
	int		 first = 1;

	if (b->failed)
		return;
	if (depth > DEPTH_MAX) {
		b->failed = 1;
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		jb_char(b, '{');
		for (it = json_object_iter((json_t *)v); it != NULL;
		    it = json_object_iter_next((json_t *)v, it)) {
			if (!first)
				jb_char(b, ',');
			first = 0;
			jb_string(b, json_object_iter_key(it),
			    json_object_iter_key_len(it));
			jb_char(b, ':');
			jb_value(b, json_object_iter_value(it), depth + 1);
		}
		jb_char(b, '}');
		break;
	case JSON_ARRAY:
		jb_char(b, '[');
		n = json_array_size(v);
		for (i = 0; i < n; i++) {
			if (i > 0)
				jb_char(b, ',');
			e = json_array_get(v, i);
			jb_value(b, e, depth + 1);
		}
		jb_char(b, ']');
		break;
	case JSON_STRING:
		jb_string(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		jb_integer(b, json_integer_value(v));
		break;
	case JSON_TRUE:
		jb_put(b, "true", 4);
		break;
	case JSON_FALSE:
		jb_put(b, "false", 5);
		break;
	case JSON_NULL:
		jb_put(b, "null", 4);
		break;
	default:	/* JSON_REAL: jansson's own digits */
		if ((s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) ==
		    NULL) {
			b->failed = -1;
			return;
		}
		jb_put(b, s, strlen(s));
		free(s);
		break;
	}
}

/*
 * json_dumps(v, JSON_COMPACT), faster: a string to free, NUL-ended, its
 * length in *lenp (may be NULL); NULL for what json_dumps refuses (not
 * an object or array, a string that is not UTF-8) or out of memory.
 */
char *
gh_json_dump(const json_t *v, size_t *lenp)
{
	struct jbuf	 b = { NULL, 0, 0, 0 };
	char		*s;

	if (v == NULL || (!json_is_object(v) && !json_is_array(v)))
		return NULL;
	jb_value(&b, v, 0);
	if (b.failed == 0)
		jb_char(&b, '\0');
	if (b.failed != 0) {
		free(b.p);
		if (b.failed < 0)
			return NULL;
		/* Too deep to be one of ours: jansson checks for loops. */
		if ((s = json_dumps(v, JSON_COMPACT)) != NULL && lenp != NULL)
			*lenp = strlen(s);
		return s;
	}
	if (lenp != NULL)
		*lenp = b.len - 1;
	return b.p;
}
