#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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
field_verror(json_t *, const char *, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

/*
 * The member's JSON pointer (RFC 6901: ~ and / escaped), "#/name", or
 * NULL when out of memory; the caller frees it.
 */
static char *
pointer_of(const char *name)
{
	size_t	 i, o = 2;
	char	*p;

	if ((p = malloc(strlen(name) * 2 + 3)) == NULL)
		return NULL;
	memcpy(p, "#/", 2);
	for (i = 0; name[i] != '\0'; i++) {
		if (name[i] == '~' || name[i] == '/') {
			p[o++] = '~';
			p[o++] = name[i] == '~' ? '0' : '1';
		} else
			p[o++] = name[i];
	}
	p[o] = '\0';
	return p;
}

static int
field_verror(json_t *errors, const char *name, const char *fmt, va_list ap)
{
	char	 detail[256], *pointer;
	json_t	*e;

	/* Past the cap a failure still counts, but is not listed. */
	if (json_array_size(errors) >= GH_ERRORS_MAX)
		return 1;
	vsnprintf(detail, sizeof(detail), fmt, ap);
	pointer = pointer_of(name);
	e = json_pack("{s:s, s:s?, s:s}", "field", name, "pointer", pointer,
	    "detail", detail);
	free(pointer);
	/* A name that is not UTF-8 still gets its entry, unnamed. */
	if (e == NULL)
		e = json_pack("{s:s, s:s}", "field", "(not UTF-8)", "detail",
		    "is not a known field");
	json_array_append_new(errors, e);
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
is_choice(const char *const *choices, const char *s)
{
	for (; *choices != NULL; choices++)
		if (strcmp(*choices, s) == 0)
			return 1;
	return 0;
}

/* "a, b, c", for the error; a table long enough to be cut is a bug. */
static const char *
choices_text(const char *const *choices)
{
	static char	 buf[512];
	size_t		 off = 0;
	int		 n;

	buf[0] = '\0';
	for (; *choices != NULL; choices++) {
		n = snprintf(buf + off, sizeof(buf) - off, "%s%s",
		    off == 0 ? "" : ", ", *choices);
		if (n < 0 || (size_t)n >= sizeof(buf) - off)
			break;
		off += (size_t)n;
	}
	return buf;
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
	if (f->choices != NULL && !is_choice(f->choices, s))
		return field_error(errors, f->name, "must be one of %s",
		    choices_text(f->choices));
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

/*
 * "amount: must be at least 1; currency: is required", for the detail;
 * total counts the failures past the cap of errors[] too.
 */
static const char *
errors_detail(struct gh_req *req, json_t *errors, int total)
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
	if (off == 0)
		return "invalid fields; see errors";
	if ((size_t)total > json_array_size(errors))
		return gh_printf(&req->arena, "%s; and %zu more", buf,
		    (size_t)total - json_array_size(errors));
	return gh_strdup(&req->arena, buf);
}

static int
reply_errors(struct gh_req *req, int status, json_t *errors, int total)
{
	return gh_problem_json(req, status, errors_detail(req, errors, total),
	    json_pack("{s:o}", "errors", errors));
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
	return reply_errors(req, 422, errors, bad);
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
	return reply_errors(req, status, errors, 1);
}

/* Adds one failure to the request's list; returns 1, so that it counts. */
int
gh_field_error(struct gh_req *req, const char *field, const char *fmt, ...)
{
	va_list	 ap;

	if (req->errors == NULL) {
		if ((req->errors = json_array()) == NULL)
			return 1;
		if (gh_defer(&req->arena, json_free, req->errors) != 0) {
			json_decref(req->errors);
			req->errors = NULL;
			return 1;
		}
	}
	req->nerrors++;
	va_start(ap, fmt);
	field_verror(req->errors, field, fmt, ap);
	va_end(ap);
	return 1;
}

/* Answers every failure gh_field_error collected; 0 when there was none. */
int
gh_errors_reply(struct gh_req *req, int status)
{
	if (req->nerrors == 0)
		return 0;
	if (req->errors == NULL)
		return gh_problem(req, 500, "out of memory");
	/* The answer takes its own reference; the arena drops the list's. */
	json_incref(req->errors);
	return reply_errors(req, status, req->errors, req->nerrors);
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

static int
utf8_ok(const char *s, size_t n)
{
	json_t	*j = json_stringn(s, n);

	json_decref(j);
	return j != NULL;
}

/* Markers gh_params_parse leaves for a value it could not take. */
#define PARAM_BAD_ENCODING	1
#define PARAM_REPEATED		2

/*
 * Splits name=value&... into out as strings, decoded ('+' is a space).
 * A value badly percent-encoded (or holding %00, or not UTF-8), and a
 * name given twice, are left as markers for gh_params_validate to name
 * if the table declares them.  Pure; -1 only when out of memory.
 */
int
gh_params_parse(const char *s, size_t len, json_t *out)
{
	const char	*end = s + len, *amp, *eq;
	char		 name[128], *val;
	size_t		 nlen, vlen, i;
	json_t		*v;

	for (; s < end; s = amp + 1) {
		if ((amp = memchr(s, '&', (size_t)(end - s))) == NULL)
			amp = end;
		if (amp == s)
			continue;
		eq = memchr(s, '=', (size_t)(amp - s));
		nlen = (size_t)((eq != NULL ? eq : amp) - s);
		/* A name longer than any we declare is no name of ours. */
		if (nlen >= sizeof(name))
			continue;
		memcpy(name, s, nlen);
		name[nlen] = '\0';
		for (i = 0; i < nlen; i++)
			if (name[i] == '+')
				name[i] = ' ';
		/* A name no table can declare (not UTF-8) is ignored. */
		if (gh_pct_decode(name, &nlen) != 0 || nlen == 0 ||
		    !utf8_ok(name, nlen))
			continue;
		vlen = eq == NULL ? 0 : (size_t)(amp - eq - 1);
		if ((val = malloc(vlen + 1)) == NULL)
			return -1;
		memcpy(val, eq == NULL ? "" : eq + 1, vlen);
		val[vlen] = '\0';
		for (i = 0; i < vlen; i++)
			if (val[i] == '+')
				val[i] = ' ';
		if (json_object_get(out, name) != NULL)
			v = json_integer(PARAM_REPEATED);
		else if (gh_pct_decode(val, &vlen) != 0 ||
		    (v = json_stringn(val, vlen)) == NULL)
			v = json_integer(PARAM_BAD_ENCODING);
		free(val);
		if (v == NULL || json_object_set_new(out, name, v) != 0)
			return -1;
	}
	return 0;
}

/* Strict decimal: what a person types, nothing strtoll would also take. */
static int
param_int(const char *s, long long *n)
{
	const char	*errstr;

	if (*s == '-' ? s[1] < '0' || s[1] > '9' : *s < '0' || *s > '9')
		return -1;
	*n = gh_strtonum(s, -GH_JSON_SAFE, GH_JSON_SAFE, &errstr);
	return errstr == NULL ? 0 : -1;
}

/* Turns a parameter's text into the JSON value its field's type reads. */
static json_t *
param_value(const struct gh_field *f, json_t *v, json_t *errors)
{
	const char	*s = json_string_value(v);
	long long	 n;

	switch (f->type & GH_TYPE_MASK) {
	case GH_STRING:
		return json_incref(v);
	case GH_INT:
		if (param_int(s, &n) != 0)
			break;
		return json_integer(n);
	case GH_BOOL:
		if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
			return json_boolean(*s == 't');
		break;
	default:
		field_error(errors, f->name, "is not a parameter type");
		return NULL;
	}
	field_error(errors, f->name, "must be %s", type_name(f->type));
	return NULL;
}

/* Parameters have no JSON pointer: their entries say where they were. */
static void
mark_where(json_t *errors, size_t from, enum gh_where where)
{
	json_t	*e;

	if (where == GH_IN_BODY)
		return;
	for (; from < json_array_size(errors); from++) {
		e = json_array_get(errors, from);
		json_object_del(e, "pointer");
		json_object_set_new(e, "in", json_string(where == GH_IN_QUERY ?
		    "query" : "form"));
	}
}

/*
 * Validates the parameters gh_params_parse read against fields, filling
 * vals (which borrows from obj, whose values it converts in place).
 * Returns how many were bad, each with its entry in errors.  Pure.
 */
int
gh_params_validate(json_t *obj, const struct gh_field *fields,
    struct gh_values *vals, json_t *errors, enum gh_where where)
{
	const struct gh_field *f;
	size_t		 i, from = json_array_size(errors);
	json_t		*v, *conv;
	int		 bad = 0;

	memset(vals, 0, sizeof(*vals));
	vals->root = obj;
	for (i = 0, f = fields; f->name != NULL; f++, i++) {
		if (i == GH_FIELDS_MAX) {
			bad += field_error(errors, f->name,
			    "too many declared fields");
			break;
		}
		if ((v = json_object_get(obj, f->name)) == NULL) {
			if (!(f->type & GH_OPTIONAL))
				bad += field_error(errors, f->name,
				    "is required");
			continue;
		}
		if (json_is_integer(v)) {
			bad += json_integer_value(v) == PARAM_REPEATED ?
			    field_error(errors, f->name, "must be given once") :
			    field_error(errors, f->name, "must be UTF-8, "
			    "properly percent-encoded, without %%00");
			continue;
		}
		if ((conv = param_value(f, v, errors)) == NULL) {
			bad++;
			continue;
		}
		json_object_set_new(obj, f->name, conv);
		if (check_field(f, conv, errors) != 0) {
			bad++;
			continue;
		}
		vals->v[i] = conv;
	}
	mark_where(errors, from, where);
	return bad;
}

static int
params_reply(struct gh_req *req, const char *s, size_t len,
    const struct gh_field *fields, struct gh_values *vals,
    enum gh_where where)
{
	json_t	*obj, *errors;
	int	 bad;

	memset(vals, 0, sizeof(*vals));
	if ((obj = json_object()) == NULL)
		return gh_problem(req, 500, "out of memory");
	if (gh_defer(&req->arena, json_free, obj) != 0) {
		json_decref(obj);
		return gh_problem(req, 500, "out of memory");
	}
	if (gh_params_parse(s, len, obj) != 0 ||
	    (errors = json_array()) == NULL)
		return gh_problem(req, 500, "out of memory");
	bad = gh_params_validate(obj, fields, vals, errors, where);
	if (bad == 0) {
		json_decref(errors);
		return 0;
	}
	return reply_errors(req, where == GH_IN_QUERY ? 400 : 422, errors,
	    bad);
}

/*
 * The query's declared parameters, or -1 having answered 400 with every
 * bad one named.  The values live until the request ends.
 */
int
gh_query_params(struct gh_req *req, const struct gh_field *fields,
    struct gh_values *vals)
{
	const char	*q = req->query != NULL ? req->query : "";

	return params_reply(req, q, strlen(q), fields, vals, GH_IN_QUERY);
}

/*
 * An application/x-www-form-urlencoded body's declared fields, or -1
 * having answered (415 not a form, 413, 422 naming every bad field).
 */
int
gh_body_form(struct gh_req *req, const struct gh_field *fields,
    struct gh_values *vals)
{
	const char	*ct = gh_env(req, "CONTENT_TYPE");
	size_t		 n = strlen("application/x-www-form-urlencoded"), len;
	char		*body;

	memset(vals, 0, sizeof(*vals));
	if (ct == NULL || strncasecmp(ct, "application/x-www-form-urlencoded",
	    n) != 0 || (ct[n] != '\0' && ct[n] != ';' && ct[n] != ' '))
		return gh_problem(req, 415, "the body must be a form "
		    "(Content-Type: application/x-www-form-urlencoded)");
	if (gh_body_read(req, (size_t)json_max, &body, &len) != 0)
		return -1;
	return params_reply(req, body, len, fields, vals, GH_IN_FORM);
}

const char *
gh_valid_uuid(const char *s)
{
	return gh_is_uuid(s) ? NULL : "must be a UUID";
}

static int
digits(const char *s, size_t n, int lo, int hi)
{
	int	 v = 0;
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v >= lo && v <= hi;
}

/* The date of an RFC 3339 time exists: no 31 April, no 29 February 2023. */
static int
day_exists(const char *s)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int	 y, m, d, max;

	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	max = mdays[m - 1];
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		max = 29;
	return d <= max;
}

/* RFC 3339: 2024-05-01T12:00:00Z, with an optional fraction and offset. */
const char *
gh_valid_time(const char *s)
{
	static const char why[] = "must be an RFC 3339 time";
	size_t	 n;

	if (strlen(s) < 20 || !digits(s, 4, 1, 9999) || s[4] != '-' ||
	    !digits(s + 5, 2, 1, 12) || s[7] != '-' ||
	    !digits(s + 8, 2, 1, 31) || (s[10] != 'T' && s[10] != 't') ||
	    !digits(s + 11, 2, 0, 23) || s[13] != ':' ||
	    !digits(s + 14, 2, 0, 59) || s[16] != ':' ||
	    !digits(s + 17, 2, 0, 60) || !day_exists(s))
		return why;
	s += 19;
	if (*s == '.') {
		for (n = 1; s[n] >= '0' && s[n] <= '9'; n++)
			;
		if (n == 1 || n > 10)
			return why;
		s += n;
	}
	if ((*s == 'Z' || *s == 'z') && s[1] == '\0')
		return NULL;
	return (*s == '+' || *s == '-') && digits(s + 1, 2, 0, 23) &&
	    s[3] == ':' && digits(s + 4, 2, 0, 59) && s[6] == '\0' ? NULL : why;
}

