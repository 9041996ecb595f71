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

struct gh_field {
	const char	*name;
	unsigned	 type;
	long long	 min, max;	/* GH_INT: inclusive; both 0: +-2^53-1 */
	size_t		 minlen, maxlen;/* STRING: code points; OBJECT, ARRAY:
					   encoded bytes (maxlen only) */
	const char	*(*valid)(const char *);	/* NULL or why not */
};

struct gh_values {
	json_t	*root;
	json_t	*v[GH_FIELDS_MAX];	/* by field index; NULL when absent */
};

/* gh_json.c */
int		 gh_json_setup(void);
int		 gh_json_validate(json_t *, const struct gh_field *,
		    struct gh_values *, json_t *errors);
int		 gh_body_json(struct gh_req *, const struct gh_field *,
		    struct gh_values *);
int		 gh_problem_field(struct gh_req *, int status,
		    const char *field, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));
size_t		 gh_utf8_len(const char *);
int		 gh_is_uuid(const char *);
int		 gh_vhas(const struct gh_values *, size_t);
const char	*gh_vstr(const struct gh_values *, size_t);
long long	 gh_vint(const struct gh_values *, size_t, long long);
int		 gh_vbool(const struct gh_values *, size_t, int);
json_t		*gh_vjson(const struct gh_values *, size_t);

#endif
