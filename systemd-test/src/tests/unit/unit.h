/* In-process requests for unit tests: a handler runs without FastCGI. */
#ifndef UNIT_H
#define UNIT_H

#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "gatehouse.h"

#define UNIT_ENV_MAX	16

struct unit_req {
	struct gh_req	 req;
	char		*env[UNIT_ENV_MAX + 1];
	int		 nenv;
};

/* Starts a request with NAME=value params (NULL-terminated pairs). */
static inline void
unit_begin(struct unit_req *u, const struct gh_app *app, const char *method,
    const char *uri, const char *body, const char *ctype)
{
	char	 buf[512];

	memset(u, 0, sizeof(*u));
	gh_req_init(&u->req, app);
	snprintf(buf, sizeof(buf), "REQUEST_METHOD=%s", method);
	u->env[u->nenv++] = strdup(buf);
	snprintf(buf, sizeof(buf), "REQUEST_URI=%s", uri);
	u->env[u->nenv++] = strdup(buf);
	u->env[u->nenv++] = strdup("REQUEST_ID=0123456789abcdef");
	if (body != NULL) {
		snprintf(buf, sizeof(buf), "CONTENT_LENGTH=%zu", strlen(body));
		u->env[u->nenv++] = strdup(buf);
		u->req.test_body = body;
		u->req.test_body_len = strlen(body);
	}
	if (ctype != NULL) {
		snprintf(buf, sizeof(buf), "CONTENT_TYPE=%s", ctype);
		u->env[u->nenv++] = strdup(buf);
	}
	u->req.envp = u->env;
	gh_req_start(&u->req);
}

/* The answer's body, after the blank line. */
static inline const char *
unit_body(const struct unit_req *u)
{
	const char	*p;

	if (u->req.test_out == NULL)
		return "";
	p = strstr(u->req.test_out, "\r\n\r\n");
	return p == NULL ? "" : p + 4;
}

static inline int
unit_has_header(const struct unit_req *u, const char *line)
{
	return u->req.test_out != NULL && strstr(u->req.test_out, line) != NULL;
}

static inline json_t *
unit_json(const struct unit_req *u)
{
	return json_loads(unit_body(u), 0, NULL);
}

static inline void
unit_end(struct unit_req *u)
{
	int	 i;

	free(u->req.test_out);
	u->req.test_out = NULL;
	gh_arena_free(&u->req.arena);
	for (i = 0; i < u->nenv; i++)
		free(u->env[i]);
}

static inline int
unit_run(Suite *s)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
