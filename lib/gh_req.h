/*
 * A request and its answer.  Handlers read parameters and bodies through
 * these helpers and answer exactly once; a helper that fails has already
 * answered (problem+json), so the handler just returns.
 */
#ifndef GH_REQ_H
#define GH_REQ_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "gh_arena.h"

#define GH_PARAMS_MAX	8
#define GH_HEADERS_MAX	24

struct FCGX_Request;
struct gh_app;
struct gh_claims;

struct gh_header {
	const char	*name;
	const char	*value;
};

struct gh_req {
	struct FCGX_Request *fcgx;	/* NULL for an in-process test request */
	char		**envp;		/* FastCGI params, NAME=value */
	const struct gh_app *app;
	struct gh_arena	 arena;

	const char	*method;
	const char	*path;		/* raw path, without the query */
	const char	*query;		/* raw query, "" when none */
	const char	*request_id;
	const char	*remote_addr;
	const struct gh_claims *user;	/* set by gh_auth_require */

	size_t		 nparams;	/* {param}s of the matched route */
	const char	*param_name[GH_PARAMS_MAX];
	const char	*param_value[GH_PARAMS_MAX];

	int		 status;	/* 0 until answered */
	size_t		 nheaders;
	struct gh_header headers[GH_HEADERS_MAX];
	size_t		 body_out;
	size_t		 body_read;	/* bytes of the body read so far */
	const char	*problem;	/* detail of an error answer, for the log */
	json_t		*errors;	/* gh_field_error's, until answered */
	int		 nerrors;	/* counted past the cap of errors[] */

	/* In-process requests (tests): body in, answer out. */
	const char	*test_body;
	size_t		 test_body_len;
	size_t		 test_body_off;
	char		*test_out;
	size_t		 test_out_len;

	struct timespec	 started;
};

/* gh_req.c: reading */
const char	*gh_env(const struct gh_req *, const char *);
const char	*gh_param(const struct gh_req *, const char *);
const char	*gh_query(struct gh_req *, const char *);
const char	*gh_header_in(const struct gh_req *, const char *);
const char	*gh_cookie(struct gh_req *, const char *);
int		 gh_has_body(const struct gh_req *);
int		 gh_body_read(struct gh_req *, size_t max, char **, size_t *);
size_t		 gh_body_chunk(struct gh_req *, char *, size_t);
int		 gh_pct_decode(char *, size_t *);

/* gh_req.c: answering */
int		 gh_header(struct gh_req *, const char *, const char *);
int		 gh_reply(struct gh_req *, int, const char *ctype,
		    const void *, size_t);
int		 gh_reply_json(struct gh_req *, int, json_t *);
int		 gh_problem(struct gh_req *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
int		 gh_problem_json(struct gh_req *, int, const char *, json_t *);
const char	*gh_status_text(int);

#endif
