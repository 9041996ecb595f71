/*
 * Query strings and form bodies: gh_params_parse, then gh_params_validate
 * against a list's query table (GH_PAGE_FIELDS first, as every list has
 * it) and against a token endpoint's form table; a cursor that passed is
 * decoded as the lists decode theirs.  The input is also taken as a
 * cursor itself, and as the bytes inside one (encoded here), so that the
 * decoder's checks of each key part are reached without the fuzzer
 * having to learn base64url.  gh_query, the older single-name reader,
 * reads the same string.
 */
#include <jansson.h>

#include "gatehouse.h"
#include "fuzz.h"

static const char *const statuses[] = { "pending", "succeeded", "failed",
    "refunded", NULL };
static const char *const grants[] = { "authorization_code",
    "refresh_token", "client_credentials", NULL };

enum { Q_LIMIT, Q_CURSOR, Q_STATUS, Q_OWNER, Q_SINCE, Q_Q, Q_PUBLIC,
    Q_MIN, Q__MAX };
static const struct gh_field query_fields[] = {
	GH_PAGE_FIELDS,
	{ "status",	GH_STRING | GH_OPTIONAL, .choices = statuses },
	{ "owner",	GH_STRING | GH_OPTIONAL, .valid = gh_valid_uuid },
	{ "since",	GH_STRING | GH_OPTIONAL, .valid = gh_valid_time },
	{ "q",		GH_STRING | GH_OPTIONAL | GH_EMPTY_OK,
	    .maxlen = 100 },
	{ "public",	GH_BOOL | GH_OPTIONAL },
	{ "min_amount",	GH_INT | GH_OPTIONAL, .min = 0,
	    .max = GH_JSON_SAFE },
	{ NULL }
};

static const struct gh_field form_fields[] = {
	{ "grant_type",	GH_STRING, .choices = grants },
	{ "code",	GH_STRING | GH_OPTIONAL, .maxlen = 256 },
	{ "redirect_uri", GH_STRING | GH_OPTIONAL, .maxlen = 2000 },
	{ "client_id",	GH_STRING | GH_OPTIONAL, .maxlen = 64 },
	{ "code_verifier", GH_STRING | GH_OPTIONAL, .minlen = 43,
	    .maxlen = 128 },
	{ "remember",	GH_BOOL | GH_OPTIONAL },
	{ "ttl",	GH_INT | GH_OPTIONAL, .min = 60, .max = 86400 },
	{ NULL }
};

/* The sort keys the lists use: time and id, a count, a name. */
static const char *const kinds[] = { "tu", "i", "s", "tui" };

static const char *const names[] = { "limit", "cursor", "q", "status", "",
    "a b", "%", NULL };

/* A decoded cursor: strlen(kinds) parts, none with a newline or NUL. */
static void
cursor(struct gh_arena *a, const char *c, const char *k)
{
	const char	*key[GH_PAGE_KEYS_MAX];
	size_t		 i, n = strlen(k);

	memset(key, 0, sizeof(key));
	if (gh_cursor_decode(a, c, k, key) != 0)
		return;
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(key[i] != NULL && *key[i] != '\0');
		FUZZ_CHECK(strchr(key[i], '\n') == NULL);
	}
	/* What decodes must encode back to the very same cursor. */
	FUZZ_CHECK(strcmp(gh_cursor_encode(a, key, n), c) == 0);
}

static void
cursors(struct gh_arena *a, const char *c)
{
	size_t	 i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		cursor(a, c, kinds[i]);
}

static void
params(struct gh_arena *a, const unsigned char *s, size_t len,
    const struct gh_field *fields, enum gh_where where)
{
	struct gh_values v;
	json_t		*obj, *errors, *e;
	size_t		 i;
	int		 bad;

	if ((obj = json_object()) == NULL || (errors = json_array()) == NULL)
		abort();
	/* -1 is documented for out of memory only. */
	FUZZ_CHECK(gh_params_parse((const char *)s, len, obj) == 0);
	bad = gh_params_validate(obj, fields, &v, errors, where);
	FUZZ_CHECK((bad == 0) == (json_array_size(errors) == 0));
	json_array_foreach(errors, i, e) {
		/* Parameters are named by where they were, not a pointer. */
		FUZZ_CHECK(json_object_get(e, "pointer") == NULL);
		FUZZ_CHECK(json_is_string(json_object_get(e, "in")));
	}
	if (fields == query_fields && gh_vhas(&v, Q_CURSOR))
		cursors(a, gh_vstr(&v, Q_CURSOR));
	if (fields == query_fields && gh_vhas(&v, Q_LIMIT))
		FUZZ_CHECK(gh_vint(&v, Q_LIMIT, 0) >= 1 &&
		    gh_vint(&v, Q_LIMIT, 0) <= GH_PAGE_LIMIT_MAX);
	free(json_dumps(errors, JSON_COMPACT));
	json_decref(errors);
	json_decref(obj);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gh_req	 req;
	struct gh_arena	 a;
	unsigned char	*s;
	const char	*v;
	char		*str, *enc;
	size_t		 i;

	gh_arena_init(&a);
	s = fuzz_bytes(data, size);
	params(&a, s, size, query_fields, GH_IN_QUERY);
	params(&a, s, size, form_fields, GH_IN_FORM);

	str = fuzz_str(data, size);
	cursors(&a, str);
	if ((enc = gh_b64url_encode(&a, data, size)) == NULL)
		abort();
	cursors(&a, enc);

	memset(&req, 0, sizeof(req));
	gh_arena_init(&req.arena);
	req.query = str;
	for (i = 0; names[i] != NULL; i++)
		if ((v = gh_query(&req, names[i])) != NULL)
			FUZZ_CHECK(strlen(v) <= size);
	gh_arena_free(&req.arena);

	free(str);
	free(s);
	gh_arena_free(&a);
	return 0;
}
