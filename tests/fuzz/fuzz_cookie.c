/*
 * Request headers, as nginx passes them in FastCGI params: gh_cookie on
 * a Cookie header and gh_header_in by name, on an in-process request.
 * The input's first line is the Cookie header, its second a header's
 * value (Authorization, Content-Type, ...), its third the request URI
 * and its fourth a header or cookie name to look up, so that the name's
 * translation to HTTP_NAME is fuzzed too.  The header's value is also an
 * Idempotency-Key, which gh_idem_valid_key must take exactly when it is
 * 1 to 255 visible ASCII characters.
 */
#include <strings.h>

#include "gatehouse.h"
#include "fuzz.h"

static const struct gh_app app = { "fuzz", NULL, NULL };

static const char *const cookies[] = { "gh_refresh", "__Host-gh_refresh",
    "gh_csrf", "sid", "a", NULL };
static const char *const headers[] = { "Cookie", "Authorization",
    "Content-Type", "Content-Length", "Idempotency-Key", "X-Request-Id",
    "DPoP", "cookie", "content-type", NULL };

static char *
param(const char *name, const char *value)
{
	size_t	 n = strlen(name) + strlen(value) + 2;
	char	*s;

	if ((s = malloc(n)) == NULL)
		abort();
	snprintf(s, n, "%s=%s", name, value);
	return s;
}

/* What gh_idem_valid_key promises, said another way. */
static int
is_key(const char *s)
{
	size_t	 n = strlen(s);

	return n >= 1 && n <= GH_IDEM_KEY_MAX &&
	    strspn(s, "!\"#$%&'()*+,-./0123456789:;<=>?@"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
	    "abcdefghijklmnopqrstuvwxyz{|}~") == n;
}

/* A cookie's value is the text between its "name=" and the next ';'. */
static void
cookie(struct gh_req *req, const char *header, const char *name)
{
	const char	*v;

	if ((v = gh_cookie(req, name)) == NULL)
		return;
	FUZZ_CHECK(strchr(v, ';') == NULL);
	FUZZ_CHECK(strstr(header, v) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gh_req	 req;
	char		*s, *part[4], *env[9];
	const char	*v;
	size_t		 i;

	s = fuzz_str(data, size);
	fuzz_split(s, part, 4);
	env[0] = param("HTTP_COOKIE", part[0]);
	env[1] = param("HTTP_AUTHORIZATION", part[1]);
	env[2] = param("CONTENT_TYPE", part[1]);
	env[3] = param("HTTP_IDEMPOTENCY_KEY", part[1]);
	env[4] = param("REQUEST_URI", part[2]);
	env[5] = param("REQUEST_METHOD", "GET");
	env[6] = param("HTTP_X_FUZZ", part[1]);
	env[7] = param("CONTENT_LENGTH", part[1]);
	env[8] = NULL;

	gh_req_init(&req, &app);
	req.envp = env;
	gh_req_start(&req);
	FUZZ_CHECK(req.path != NULL && req.query != NULL);
	FUZZ_CHECK(strchr(req.path, '?') == NULL);
	for (i = 0; cookies[i] != NULL; i++)
		cookie(&req, part[0], cookies[i]);
	cookie(&req, part[0], part[3]);
	for (i = 0; headers[i] != NULL; i++) {
		if ((v = gh_header_in(&req, headers[i])) == NULL)
			continue;
		FUZZ_CHECK(strcmp(v, strcasecmp(headers[i], "Cookie") == 0 ?
		    part[0] : part[1]) == 0);
	}
	if ((v = gh_header_in(&req, "Idempotency-Key")) != NULL)
		FUZZ_CHECK((gh_idem_valid_key(v) == NULL) == is_key(v));
	(void)gh_header_in(&req, part[3]);
	(void)gh_has_body(&req);
	gh_arena_free(&req.arena);

	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(s);
	return 0;
}
