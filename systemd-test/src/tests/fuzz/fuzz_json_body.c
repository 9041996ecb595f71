/*
 * JSON bodies: the bytes a client POSTs, parsed as gh_body_json parses
 * them (duplicate keys refused) and validated against tables shaped like
 * the services' own.  Then the same bytes go through gh_body_json on an
 * in-process request, so the 400/413/415/422 answers are built too.
 */
#include <jansson.h>

#include "gatehouse.h"
#include "fuzz.h"

static const char *const currencies[] = { "EUR", "USD", "GBP", "JPY",
    NULL };
static const char *const visibilities[] = { "private", "unlisted",
    "public", NULL };

static const char *
valid_code(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-'))
			return "must be lowercase letters and hyphens";
	return NULL;
}

/* A payment, a media item's update, and one of every kind and flag. */
static const struct gh_field payment_fields[] = {
	{ "amount",	GH_INT, .min = 1, .max = 99999999999LL },
	{ "currency",	GH_STRING, .choices = currencies },
	{ "description", GH_STRING | GH_OPTIONAL, .maxlen = 500 },
	{ "reference",	GH_STRING | GH_OPTIONAL | GH_NULLABLE,
	    .valid = gh_valid_uuid },
	{ "metadata",	GH_OBJECT | GH_OPTIONAL, .maxlen = 1024 },
	{ NULL }
};

static const struct gh_field media_fields[] = {
	{ "title",	GH_STRING | GH_OPTIONAL, .maxlen = 200 },
	{ "description", GH_STRING | GH_OPTIONAL | GH_NULLABLE |
	    GH_EMPTY_OK, .maxlen = 5000 },
	{ "visibility",	GH_STRING | GH_OPTIONAL,
	    .choices = visibilities },
	{ "tags",	GH_ARRAY | GH_OPTIONAL, .maxlen = 512 },
	{ "taken_at",	GH_STRING | GH_OPTIONAL | GH_NULLABLE,
	    .valid = gh_valid_time },
	{ NULL }
};

static const struct gh_field every_fields[] = {
	{ "s",		GH_STRING, .minlen = 2, .maxlen = 8 },
	{ "code",	GH_STRING | GH_OPTIONAL, .valid = valid_code },
	{ "empty",	GH_STRING | GH_OPTIONAL | GH_EMPTY_OK },
	{ "n",		GH_INT | GH_OPTIONAL },
	{ "neg",	GH_INT | GH_OPTIONAL | GH_NULLABLE, .min = -10,
	    .max = -1 },
	{ "x",		GH_NUMBER | GH_OPTIONAL },
	{ "b",		GH_BOOL | GH_OPTIONAL | GH_NULLABLE },
	{ "o",		GH_OBJECT | GH_OPTIONAL },
	{ "a",		GH_ARRAY | GH_OPTIONAL | GH_NULLABLE,
	    .maxlen = 64 },
	{ NULL }
};

static const struct gh_field *const tables[] = {
	payment_fields, media_fields, every_fields
};

static const struct gh_app app = { "fuzz", NULL, NULL };
static char json_ct[] = "CONTENT_TYPE=application/json; charset=utf-8";

/* What gh_json_validate promises of its answer, checked field by field. */
static void
check_values(json_t *root, const struct gh_field *fields,
    const struct gh_values *v, json_t *errors, int bad)
{
	const struct gh_field *f;
	size_t		 i;
	json_t		*e;

	FUZZ_CHECK(v->root == root);
	FUZZ_CHECK(bad >= 0);
	FUZZ_CHECK((bad == 0) == (json_array_size(errors) == 0));
	FUZZ_CHECK(json_array_size(errors) <= GH_ERRORS_MAX);
	FUZZ_CHECK(json_array_size(errors) <= (size_t)bad);
	json_array_foreach(errors, i, e) {
		FUZZ_CHECK(json_is_string(json_object_get(e, "field")));
		FUZZ_CHECK(json_is_string(json_object_get(e, "detail")));
	}
	for (i = 0, f = fields; f->name != NULL; f++, i++) {
		if (v->v[i] == NULL)
			continue;
		FUZZ_CHECK(v->v[i] == json_object_get(root, f->name));
		switch (f->type & GH_TYPE_MASK) {
		case GH_STRING:
			FUZZ_CHECK(json_is_string(v->v[i]));
			FUZZ_CHECK(gh_utf8_len(gh_vstr(v, i)) <=
			    (f->maxlen != 0 ? f->maxlen : GH_STRING_MAX));
			break;
		case GH_INT:
			FUZZ_CHECK(json_is_integer(v->v[i]));
			break;
		case GH_BOOL:
			FUZZ_CHECK(json_is_boolean(v->v[i]));
			break;
		default:
			break;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gh_values v;
	struct gh_req	 req;
	char		 cl[32];
	char		*env[3], *body;
	json_t		*root, *errors;
	size_t		 i;
	int		 bad;

	if ((root = json_loadb((const char *)data, size,
	    JSON_REJECT_DUPLICATES, NULL)) != NULL && json_is_object(root)) {
		for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
			if ((errors = json_array()) == NULL)
				abort();
			bad = gh_json_validate(root, tables[i], &v, errors);
			check_values(root, tables[i], &v, errors, bad);
			free(json_dumps(errors, JSON_COMPACT));
			json_decref(errors);
		}
	}
	json_decref(root);

	/* The same bytes as a request body: read, parsed, answered. */
	body = (char *)fuzz_bytes(data, size);
	snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%zu", size);
	env[0] = cl;
	env[1] = json_ct;
	env[2] = NULL;
	gh_req_init(&req, &app);
	req.envp = env;
	req.test_body = body;
	req.test_body_len = size;
	gh_req_start(&req);
	if (gh_body_json(&req, payment_fields, &v) == 0)
		FUZZ_CHECK(req.status == 0);
	else
		FUZZ_CHECK(req.status == 400 || req.status == 413 ||
		    req.status == 422);
	free(req.test_out);
	gh_arena_free(&req.arena);
	free(body);
	return 0;
}
