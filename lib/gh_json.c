#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "gh_config.h"
#include "gh_json.h"
#include "gh_req.h"

#define GH_JSON_BODY_MAX	(64 * 1024)

static long long	 json_max = GH_JSON_BODY_MAX;

/* Read once at start, so that a bad GH_JSON_MAX stops the worker. */
int
gh_json_setup(void)
{
	return gh_config_size("GH_JSON_MAX", GH_JSON_BODY_MAX, 16 << 20,
	    &json_max);
}

/* Code points in a string that jansson has already checked is UTF-8. */
size_t
gh_utf8_len(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* 8-4-4-4-12 hexadecimal digits: anything else is no id of ours. */
int
gh_is_uuid(const char *s)
{
	size_t	 i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	}
	return i == 36;
}

static int
field_error(json_t *errors, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
field_verror(json_t *errors, const char *name, const char *fmt, va_list ap)
{
	char	 detail[256], pointer[160];

	vsnprintf(detail, sizeof(detail), fmt, ap);
	snprintf(pointer, sizeof(pointer), "#/%s", name);
	json_array_append_new(errors, json_pack("{s:s, s:s, s:s}",
	    "field", name, "pointer", pointer, "detail", detail));
	return 1;
}

static int
field_error(json_t *errors, const char *name, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	field_verror(errors, name, fmt, ap);
	va_end(ap);
	return 1;
}

static const char *
type_name(unsigned t)
{
	switch (t & GH_TYPE_MASK) {
	case GH_STRING:	return "a string";
	case GH_INT:	return "an integer";
	case GH_NUMBER:	return "a number";
	case GH_BOOL:	return "true or false";
	case GH_OBJECT:	return "an object";
	case GH_ARRAY:	return "an array";
	default:	return "?";
	}
}

static int
check_string(const struct gh_field *f, json_t *v, json_t *errors)
{
	const char	*s = json_string_value(v), *why;
	size_t		 len, maxlen, minlen;

	/* jansson refuses \u0000 unless asked, so s has no embedded NUL. */
	len = gh_utf8_len(s);
	maxlen = f->maxlen != 0 ? f->maxlen : GH_STRING_MAX;
	minlen = f->minlen != 0 ? f->minlen : (f->type & GH_EMPTY_OK) ? 0 : 1;
	if (len < minlen)
		return len == 0 ?
		    field_error(errors, f->name, "must not be empty") :
		    field_error(errors, f->name,
		    "must be at least %zu characters", minlen);
	if (len > maxlen)
		return field_error(errors, f->name,
		    "must be at most %zu characters", maxlen);
	if (f->valid != NULL && (why = f->valid(s)) != NULL)
		return field_error(errors, f->name, "%s", why);
	return 0;
}

static int
check_int(const struct gh_field *f, json_t *v, json_t *errors)
{
	long long	 min = f->min, max = f->max, n;

	if (min == 0 && max == 0) {
		min = -GH_JSON_SAFE;
		max = GH_JSON_SAFE;
	}
	n = json_integer_value(v);
	if (n < min)
		return field_error(errors, f->name,
		    "must be at least %lld", min);
	if (n > max)
		return field_error(errors, f->name,
		    "must be at most %lld", max);
	return 0;
}

static int
check_size(const struct gh_field *f, json_t *v, json_t *errors)
{
	size_t	 n;

	if (f->maxlen == 0)
		return 0;
	n = json_dumpb(v, NULL, 0, JSON_COMPACT);
	if (n > f->maxlen)
		return field_error(errors, f->name,
		    "is %zu bytes as JSON; the limit is %zu", n, f->maxlen);
	return 0;
}

static int
check_field(const struct gh_field *f, json_t *v, json_t *errors)
{
	switch (f->type & GH_TYPE_MASK) {
	case GH_STRING:
		if (!json_is_string(v))
			break;
		return check_string(f, v, errors);
	case GH_INT:
		if (json_is_real(v))
			return field_error(errors, f->name,
			    "must be an integer, not a fraction");
		if (!json_is_integer(v))
			break;
		return check_int(f, v, errors);
	case GH_NUMBER:
		if (!json_is_number(v))
			break;
		return 0;
	case GH_BOOL:
		if (!json_is_boolean(v))
			break;
		return 0;
	case GH_OBJECT:
		if (!json_is_object(v))
			break;
		return check_size(f, v, errors);
	case GH_ARRAY:
		if (!json_is_array(v))
			break;
		return check_size(f, v, errors);
	}
	return field_error(errors, f->name, "must be %s", type_name(f->type));
}

/*
 * Validates obj against fields, filling vals (which borrows from obj).
 * Appends one entry per bad or unknown field to errors and returns how
 * many there were.  Pure: no I/O, so it is tested in-process.
 */
int
gh_json_validate(json_t *obj, const struct gh_field *fields,
    struct gh_values *vals, json_t *errors)
{
	const struct gh_field *f;
	const char	*key;
	json_t		*v;
	size_t		 i;
	int		 bad = 0;

	memset(vals, 0, sizeof(*vals));
	vals->root = obj;
	for (i = 0, f = fields; f->name != NULL; f++, i++) {
		if (i == GH_FIELDS_MAX)
			return bad + field_error(errors, f->name,
			    "too many declared fields");
		v = json_object_get(obj, f->name);
		if (v == NULL || (json_is_null(v) && (f->type & GH_NULLABLE))) {
			if (!(f->type & GH_OPTIONAL))
				bad += field_error(errors, f->name,
				    "is required");
			continue;
		}
		if (check_field(f, v, errors) != 0) {
			bad++;
			continue;
		}
		vals->v[i] = v;
	}
	/* Unknown members are refused: no mass assignment, no typos. */
	json_object_foreach(obj, key, v) {
		for (f = fields; f->name != NULL; f++)
			if (strcmp(f->name, key) == 0)
				break;
		if (f->name == NULL)
			bad += field_error(errors, key, "is not a known field");
	}
	return bad;
}

static int
is_json_type(const char *ct)
{
	size_t	 n = strlen("application/json");

	if (ct == NULL || strncasecmp(ct, "application/json", n) != 0)
		return 0;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* "amount: must be at least 1; currency: is required", for the detail. */
static const char *
errors_detail(struct gh_req *req, json_t *errors)
{
	char	 buf[1024];
	size_t	 i, off = 0;
	json_t	*e;
	int	 n;

	buf[0] = '\0';
	json_array_foreach(errors, i, e) {
		n = snprintf(buf + off, sizeof(buf) - off, "%s%s: %s",
		    i == 0 ? "" : "; ",
		    json_string_value(json_object_get(e, "field")),
		    json_string_value(json_object_get(e, "detail")));
		if (n < 0 || (size_t)n >= sizeof(buf) - off)
			break;
		off += (size_t)n;
	}
	return off == 0 ? "invalid fields; see errors" :
	    gh_strdup(&req->arena, buf);
}

static void
json_free(void *p)
{
	json_decref(p);
}

/*
 * Reads, parses and validates a JSON object body.  On any problem it has
 * answered (400 malformed, 413 too large, 415 not JSON, 422 invalid fields)
 * and returns -1.  The values live until the request ends.
 */
int
gh_body_json(struct gh_req *req, const struct gh_field *fields,
    struct gh_values *vals)
{
	json_error_t	 jerr;
	json_t		*root, *errors;
	char		*body;
	size_t		 len;
	int		 bad;

	memset(vals, 0, sizeof(*vals));
	if (!is_json_type(gh_env(req, "CONTENT_TYPE")))
		return gh_problem(req, 415,
		    "the body must be JSON (Content-Type: application/json)");
	if (gh_body_read(req, (size_t)json_max, &body, &len) != 0)
		return -1;
	/* Duplicate keys are refused: two parsers may pick different ones. */
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return gh_problem(req, 400, "the body is not valid JSON: "
		    "%s (line %d, column %d)", jerr.text, jerr.line,
		    jerr.column);
	if (gh_defer(&req->arena, json_free, root) != 0) {
		json_decref(root);
		return gh_problem(req, 500, "out of memory");
	}
	if (!json_is_object(root))
		return gh_problem(req, 400, "the body must be a JSON object");
	if ((errors = json_array()) == NULL)
		return gh_problem(req, 500, "out of memory");
	bad = gh_json_validate(root, fields, vals, errors);
	if (bad == 0) {
		json_decref(errors);
		return 0;
	}
	return gh_problem_json(req, 422, errors_detail(req, errors),
	    json_pack("{s:o}", "errors", errors));
}

/*
 * A problem about one field that the handler found past the declared
 * checks (a taken name, a wrong password, a bad query parameter): the
 * same "field: why" detail and errors[] entry as a 422 from gh_body_json.
 */
int
gh_problem_field(struct gh_req *req, int status, const char *field,
    const char *fmt, ...)
{
	json_t	*errors;
	va_list	 ap;

	if ((errors = json_array()) == NULL)
		return gh_problem(req, 500, "out of memory");
	va_start(ap, fmt);
	field_verror(errors, field, fmt, ap);
	va_end(ap);
	return gh_problem_json(req, status, errors_detail(req, errors),
	    json_pack("{s:o}", "errors", errors));
}

int
gh_vhas(const struct gh_values *v, size_t i)
{
	return i < GH_FIELDS_MAX && v->v[i] != NULL;
}

const char *
gh_vstr(const struct gh_values *v, size_t i)
{
	return gh_vhas(v, i) ? json_string_value(v->v[i]) : NULL;
}

long long
gh_vint(const struct gh_values *v, size_t i, long long def)
{
	return gh_vhas(v, i) ? json_integer_value(v->v[i]) : def;
}

int
gh_vbool(const struct gh_values *v, size_t i, int def)
{
	return gh_vhas(v, i) ? json_is_true(v->v[i]) : def;
}

json_t *
gh_vjson(const struct gh_values *v, size_t i)
{
	return gh_vhas(v, i) ? v->v[i] : NULL;
}
