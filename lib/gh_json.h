/*
 * JSON bodies are declared as a table of fields, then validated as a
 * whole before the handler runs; every bad field is named in one answer.
 */
#ifndef GH_JSON_H
#define GH_JSON_H

#include <stddef.h>

#include <jansson.h>

struct gh_req;

enum gh_ftype {
	GH_STRING = 1,
	GH_INT,
	GH_NUMBER,
	GH_BOOL,
	GH_OBJECT,
	GH_ARRAY
};
#define GH_TYPE_MASK	0xff
#define GH_OPTIONAL	0x100	/* may be absent */
#define GH_NULLABLE	0x200	/* may be null (read back as absent) */
#define GH_EMPTY_OK	0x400	/* a string may be "" */

#define GH_FIELDS_MAX	32
#define GH_STRING_MAX	1000	/* code points, when a field sets no maxlen */
#define GH_JSON_SAFE	9007199254740991LL	/* 2^53 - 1 */
#define GH_ERRORS_MAX	20	/* entries in one answer's errors[] */

struct gh_field {
	const char	*name;
	unsigned	 type;
	long long	 min, max;	/* GH_INT: inclusive; both 0: +-2^53-1 */
	size_t		 minlen, maxlen;/* STRING: code points; OBJECT, ARRAY:
					   encoded bytes (maxlen only) */
	const char	*(*valid)(const char *);	/* NULL or why not */
	const char *const *choices;	/* STRING: NULL-ended allowed values */
};

struct gh_values {
	json_t	*root;
	json_t	*v[GH_FIELDS_MAX];	/* by field index; NULL when absent */
};

/*
 * Where a field was read, for its errors[] entry: a body's fields carry a
 * JSON pointer ("#/amount"), query and form parameters their name.
 */
enum gh_where {
	GH_IN_BODY,
	GH_IN_QUERY,
	GH_IN_FORM
};

/* gh_json.c: JSON bodies */
int		 gh_json_setup(void);
int		 gh_json_validate(json_t *, const struct gh_field *,
		    struct gh_values *, json_t *errors);
int		 gh_body_json(struct gh_req *, const struct gh_field *,
		    struct gh_values *);

/*
 * gh_json.c: query and form parameters, declared with the same tables.
 * Values arrive as text and are converted by the field's type (GH_INT in
 * decimal, GH_BOOL as true or false); a parameter given twice or badly
 * percent-encoded is malformed, one not given is missing, and parameters
 * the table does not declare are ignored, as HTTP caches and OAuth
 * clients add their own.  gh_query_params answers 400 for the handler.
 */
int		 gh_params_parse(const char *, size_t, json_t *out);
int		 gh_params_validate(json_t *, const struct gh_field *,
		    struct gh_values *, json_t *errors, enum gh_where);
int		 gh_query_params(struct gh_req *, const struct gh_field *,
		    struct gh_values *);
int		 gh_body_form(struct gh_req *, const struct gh_field *,
		    struct gh_values *);

/*
 * gh_json.c: every bad field in one answer.  A handler that checks more
 * than its table can (a taken name, a common password) adds each failure
 * with gh_field_error, then gh_errors_reply answers them all at once
 * (and returns -1), or returns 0 when there were none.
 */
int		 gh_field_error(struct gh_req *, const char *field,
		    const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
int		 gh_errors_reply(struct gh_req *, int status);
int		 gh_problem_field(struct gh_req *, int status,
		    const char *field, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));

/* gh_json.c: pure validators for .valid */
const char	*gh_valid_uuid(const char *);
const char	*gh_valid_time(const char *);
size_t		 gh_utf8_len(const char *);
int		 gh_is_uuid(const char *);
int		 gh_vhas(const struct gh_values *, size_t);
const char	*gh_vstr(const struct gh_values *, size_t);
long long	 gh_vint(const struct gh_values *, size_t, long long);
int		 gh_vbool(const struct gh_values *, size_t, int);
json_t		*gh_vjson(const struct gh_values *, size_t);

/* gh_jsonout.c: answers, as json_dumps(JSON_COMPACT) writes them */
char		*gh_json_dump(const json_t *, size_t *lenp);

#endif
