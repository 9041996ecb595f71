#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "gh_arena.h"
#include "gh_config.h"
#include "gh_crypto.h"
#include "gh_json.h"
#include "gh_page.h"
#include "gh_req.h"

/* One part of a key, checked by its kind; the parts hold no newline. */
static int
key_ok(char kind, const char *s)
{
	const char	*errstr;
	size_t		 i;

	if (*s == '\0')
		return 0;
	switch (kind) {
	case 't':
		return gh_valid_time(s) == NULL;
	case 'u':
		return gh_is_uuid(s);
	case 'i':
		(void)gh_strtonum(s, -GH_JSON_SAFE, GH_JSON_SAFE, &errstr);
		return errstr == NULL;
	case 's':
		for (i = 0; s[i] != '\0'; i++)
			if (s[i] < ' ' || s[i] > '~')
				return 0;
		return 1;
	default:
		return 0;
	}
}

/* The parts joined by newlines, in base64url; NULL when out of memory. */
char *
gh_cursor_encode(struct gh_arena *a, const char *const *key, size_t nkey)
{
	char	*buf, *p;
	size_t	 i, len = 0;

	for (i = 0; i < nkey; i++)
		len += strlen(key[i]) + 1;
	if (nkey == 0 || (buf = gh_alloc(a, len)) == NULL)
		return NULL;
	for (p = buf, i = 0; i < nkey; i++) {
		len = strlen(key[i]);
		memcpy(p, key[i], len);
		p += len;
		*p++ = '\n';
	}
	return gh_b64url_encode(a, buf, (size_t)(p - buf) - 1);
}

/*
 * Decodes a cursor into strlen(kinds) parts, each checked by its kind.
 * Pure: 0, or -1 for anything that is not a cursor of that shape.
 */
int
gh_cursor_decode(struct gh_arena *a, const char *cursor, const char *kinds,
    const char **key)
{
	unsigned char	*raw;
	char		*p, *nl;
	size_t		 len, i, n = strlen(kinds);

	if (n == 0 || n > GH_PAGE_KEYS_MAX || strlen(cursor) > GH_CURSOR_MAX ||
	    gh_b64url_decode(a, cursor, strlen(cursor), &raw, &len) != 0 ||
	    memchr(raw, '\0', len) != NULL)
		return -1;
	for (p = (char *)raw, i = 0; i < n; i++) {
		nl = strchr(p, '\n');
		if ((nl == NULL) != (i == n - 1))
			return -1;
		if (nl != NULL)
			*nl = '\0';
		if (!key_ok(kinds[i], p))
			return -1;
		key[i] = p;
		if (nl != NULL)
			p = nl + 1;
	}
	return 0;
}

/*
 * Reads limit and cursor from declared query values (cursor is the field
 * after limit_field, as GH_PAGE_FIELDS lays them out).  0, or -1 having
 * answered 400 for a cursor that is not one of this list's.
 */
int
gh_page_init(struct gh_req *req, const struct gh_values *v,
    size_t limit_field, long long limit_default, const char *kinds,
    struct gh_page *pg)
{
	const char	*cursor;

	memset(pg, 0, sizeof(*pg));
	pg->kinds = kinds;
	pg->limit = gh_vint(v, limit_field, limit_default);
	snprintf(pg->fetch, sizeof(pg->fetch), "%lld", pg->limit + 1);
	if ((cursor = gh_vstr(v, limit_field + 1)) != NULL &&
	    gh_cursor_decode(&req->arena, cursor, kinds, pg->key) != 0) {
		gh_field_error(req, "cursor", "is not a cursor of this list; "
		    "pass next_cursor as it came");
		return gh_errors_reply(req, 400);
	}
	return 0;
}

/* How many of the rows fetched (limit + 1) belong to the page. */
int
gh_page_count(const struct gh_page *pg, const PGresult *res)
{
	int	 n = PQntuples(res);

	return n > pg->limit ? (int)pg->limit : n;
}

/*
 * {"data", "has_more", "next_cursor"} from the page's items (data, taken)
 * and its rows: the next cursor is the key of the last item, read from
 * keycols (one per kind).  NULL when out of memory.
 */
json_t *
gh_page_json(struct gh_arena *a, const struct gh_page *pg, json_t *data,
    const PGresult *res, const int *keycols)
{
	const char	*key[GH_PAGE_KEYS_MAX];
	char		*next = NULL;
	size_t		 i, nkey = strlen(pg->kinds);
	int		 last = gh_page_count(pg, res) - 1;

	if (PQntuples(res) > pg->limit) {
		for (i = 0; i < nkey; i++)
			key[i] = PQgetvalue(res, last, keycols[i]);
		if ((next = gh_cursor_encode(a, key, nkey)) == NULL) {
			json_decref(data);
			return NULL;
		}
	}
	return json_pack("{s:o, s:b, s:s?}", "data", data, "has_more",
	    next != NULL, "next_cursor", next);
}
