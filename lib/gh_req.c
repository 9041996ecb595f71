#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fcgiapp.h>
#include <jansson.h>

#include "gh_config.h"
#include "gh_crypto.h"
#include "gh_json.h"
#include "gh_req.h"

const char *
gh_env(const struct gh_req *req, const char *name)
{
	return req->envp == NULL ? NULL : FCGX_GetParam(name, req->envp);
}

const char *
gh_param(const struct gh_req *req, const char *name)
{
	size_t	 i;

	for (i = 0; i < req->nparams; i++)
		if (strcmp(req->param_name[i], name) == 0)
			return req->param_value[i];
	return NULL;
}

/* A request header by its HTTP name, as nginx passed it (HTTP_*). */
const char *
gh_header_in(const struct gh_req *req, const char *name)
{
	char	 var[128] = "HTTP_";
	size_t	 i, o = 5;

	for (i = 0; name[i] != '\0' && o < sizeof(var) - 1; i++)
		var[o++] = name[i] == '-' ? '_' :
		    (char)toupper((unsigned char)name[i]);
	var[o] = '\0';
	if (strcasecmp(name, "Content-Type") == 0)
		return gh_env(req, "CONTENT_TYPE");
	if (strcasecmp(name, "Content-Length") == 0)
		return gh_env(req, "CONTENT_LENGTH");
	return gh_env(req, var);
}

/* A cookie's value from the Cookie header, or NULL. */
const char *
gh_cookie(struct gh_req *req, const char *name)
{
	const char	*h, *p, *e;
	size_t		 n = strlen(name);

	if ((h = gh_env(req, "HTTP_COOKIE")) == NULL)
		return NULL;
	for (p = h; *p != '\0'; p = e) {
		while (*p == ' ' || *p == ';')
			p++;
		if ((e = strchr(p, ';')) == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) > n && strncmp(p, name, n) == 0 &&
		    p[n] == '=')
			return gh_strndup(&req->arena, p + n + 1,
			    (size_t)(e - p) - n - 1);
	}
	return NULL;
}

/*
 * Decodes %XX in place.  A bad escape or an encoded NUL fails: neither has
 * an honest use, and a NUL would cut the value short for C but not for
 * PostgreSQL.
 */
int
gh_pct_decode(char *s, size_t *lenp)
{
	size_t	 i, o = 0, len = *lenp;
	int	 hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '\0')
			return -1;
		if (s[i] != '%') {
			s[o++] = s[i];
			continue;
		}
		if (i + 2 >= len)
			return -1;
		if ((hi = gh_hexdigit((unsigned char)s[i + 1])) < 0 ||
		    (lo = gh_hexdigit((unsigned char)s[i + 2])) < 0)
			return -1;
		if (hi == 0 && lo == 0)
			return -1;
		s[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	s[o] = '\0';
	*lenp = o;
	return 0;
}

/*
 * The first value of a query parameter, decoded, or NULL when it is absent
 * or badly encoded.  An empty value is returned as "".
 */
const char *
gh_query(struct gh_req *req, const char *name)
{
	const char	*p = req->query, *amp, *eq;
	size_t		 nlen = strlen(name), vlen, i;
	char		*v;

	while (p != NULL && *p != '\0') {
		amp = strchr(p, '&');
		eq = memchr(p, '=', amp == NULL ? strlen(p) : (size_t)(amp - p));
		if ((size_t)((eq != NULL ? eq : (amp != NULL ? amp :
		    p + strlen(p))) - p) == nlen && strncmp(p, name, nlen) == 0) {
			if (eq == NULL)
				return "";
			eq++;
			vlen = amp == NULL ? strlen(eq) : (size_t)(amp - eq);
			if ((v = gh_strndup(&req->arena, eq, vlen)) == NULL)
				return NULL;
			for (i = 0; i < vlen; i++)
				if (v[i] == '+')
					v[i] = ' ';
			if (gh_pct_decode(v, &vlen) != 0)
				return NULL;
			return v;
		}
		p = amp == NULL ? NULL : amp + 1;
	}
	return NULL;
}

static size_t
body_in(struct gh_req *req, char *buf, size_t len)
{
	size_t	 n;
	int	 r;

	if (req->fcgx != NULL) {
		r = FCGX_GetStr(buf, (int)len, req->fcgx->in);
		if (r <= 0)
			return 0;
		req->body_read += (size_t)r;
		return (size_t)r;
	}
	n = req->test_body_len - req->test_body_off;
	if (n > len)
		n = len;
	if (n > 0)
		memcpy(buf, req->test_body + req->test_body_off, n);
	req->test_body_off += n;
	return n;
}

/*
 * The next piece of the body, for handlers that stream it (uploads) rather
 * than hold it whole; 0 at its end (or when the connection failed: compare
 * the total with Content-Length).
 */
size_t
gh_body_chunk(struct gh_req *req, char *buf, size_t len)
{
	return body_in(req, buf, len);
}

/* Whether the request came with a body; an optional one is parsed only then. */
int
gh_has_body(const struct gh_req *req)
{
	const char	*cl = gh_env(req, "CONTENT_LENGTH");

	return cl != NULL && *cl != '\0' && strcmp(cl, "0") != 0;
}

/*
 * Reads the whole body, at most max bytes, into the request's arena.  A
 * larger body is refused from its Content-Length before a byte is read,
 * and a body that stops short of its length (client gone) is refused too.
 */
int
gh_body_read(struct gh_req *req, size_t max, char **bufp, size_t *lenp)
{
	const char	*cl, *errstr;
	long long	 want;
	size_t		 got = 0, n;
	char		*buf;

	*bufp = NULL;
	*lenp = 0;
	cl = gh_env(req, "CONTENT_LENGTH");
	if (cl == NULL || *cl == '\0')
		want = 0;
	else {
		want = gh_strtonum(cl, 0, (long long)1 << 50, &errstr);
		if (errstr != NULL)
			return gh_problem(req, 400,
			    "Content-Length is %s", errstr);
	}
	if ((unsigned long long)want > max)
		return gh_problem(req, 413, "the body is %lld bytes; "
		    "the limit is %zu", want, max);
	if ((buf = gh_alloc(&req->arena, (size_t)want + 1)) == NULL)
		return gh_problem(req, 500, "out of memory");
	while (got < (size_t)want) {
		n = body_in(req, buf + got, (size_t)want - got);
		if (n == 0)
			break;
		got += n;
	}
	if (got != (size_t)want)
		return gh_problem(req, 400, "the body ended after %zu of "
		    "%lld bytes", got, want);
	buf[got] = '\0';
	*bufp = buf;
	*lenp = got;
	return 0;
}

const char *
gh_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 422: return "Unprocessable Content";
	case 428: return "Precondition Required";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 507: return "Insufficient Storage";
	default:  return "Unknown";
	}
}

/*
 * Adds a response header.  Values with CR, LF or other control characters
 * are refused: they are how a response gets split.
 */
int
gh_header(struct gh_req *req, const char *name, const char *value)
{
	const unsigned char *p;

	for (p = (const unsigned char *)value; *p != '\0'; p++)
		if (*p < 0x20 && *p != '\t')
			return -1;
	if (req->nheaders == GH_HEADERS_MAX)
		return -1;
	req->headers[req->nheaders].name = name;
	if ((req->headers[req->nheaders].value =
	    gh_strdup(&req->arena, value)) == NULL)
		return -1;
	req->nheaders++;
	return 0;
}

static void
out_write(struct gh_req *req, const char *buf, size_t len)
{
	char	*p;

	if (len == 0)
		return;
	if (req->fcgx != NULL) {
		FCGX_PutStr(buf, (int)len, req->fcgx->out);
		return;
	}
	if ((p = realloc(req->test_out, req->test_out_len + len + 1)) == NULL)
		return;
	memcpy(p + req->test_out_len, buf, len);
	req->test_out = p;
	req->test_out_len += len;
	p[req->test_out_len] = '\0';
}

static int
has_header(const struct gh_req *req, const char *name)
{
	size_t	 i;

	for (i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return 1;
	return 0;
}

/* Appends n bytes at *p; returns the end. */
static char *
put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/* Appends the decimal digits of v. */
static char *
put_num(char *p, size_t v)
{
	char	 d[24], *e = d + sizeof(d), *s = e;

	do {
		*--s = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return put(p, s, (size_t)(e - s));
}

#define LIT(p, s)	put((p), (s), sizeof(s) - 1)

/*
 * The one place that writes an answer; a second answer is dropped.  The
 * head is built in one piece and handed to libfcgi with the body, both
 * copied once into its buffer, which goes out in one write.
 */
int
gh_reply(struct gh_req *req, int status, const char *ctype, const void *body,
    size_t len)
{
	const char	*text;
	char		 buf[2048], *head, *p;
	size_t		 i, size, nlen[GH_HEADERS_MAX], vlen[GH_HEADERS_MAX];
	int		 cache;

	if (req->status != 0)
		return -1;
	req->status = status;
	text = gh_status_text(status);
	/* API answers are about one user at one moment: never cache them. */
	cache = !has_header(req, "Cache-Control");
	/* Room for any int's digits: a status is not trusted to be three. */
	size = sizeof("Status: 2147483647 \r\n") + strlen(text) + 2;
	if (ctype != NULL)
		size += sizeof("Content-Type: \r\nContent-Length: \r\n") +
		    strlen(ctype) + 24;
	if (cache)
		size += sizeof("Cache-Control: no-store\r\n");
	for (i = 0; i < req->nheaders; i++) {
		nlen[i] = strlen(req->headers[i].name);
		vlen[i] = strlen(req->headers[i].value);
		size += nlen[i] + vlen[i] + 4;
	}
	/* libfcgi copies it: an answer's usual head needs no allocation. */
	if (size <= sizeof(buf))
		head = buf;
	else if ((head = gh_alloc(&req->arena, size)) == NULL)
		return -1;
	p = LIT(head, "Status: ");
	p = put_num(p, (size_t)(status < 0 ? 0 : status));
	p = LIT(p, " ");
	p = put(p, text, strlen(text));
	p = LIT(p, "\r\n");
	if (ctype != NULL) {
		p = LIT(p, "Content-Type: ");
		p = put(p, ctype, strlen(ctype));
		p = LIT(p, "\r\nContent-Length: ");
		p = put_num(p, len);
		p = LIT(p, "\r\n");
	}
	if (cache)
		p = LIT(p, "Cache-Control: no-store\r\n");
	for (i = 0; i < req->nheaders; i++) {
		p = put(p, req->headers[i].name, nlen[i]);
		p = LIT(p, ": ");
		p = put(p, req->headers[i].value, vlen[i]);
		p = LIT(p, "\r\n");
	}
	p = LIT(p, "\r\n");
	out_write(req, head, (size_t)(p - head));
	if (body != NULL)
		out_write(req, body, len);
	req->body_out = len;
	return 0;
}

/* Takes ownership of body, answered or not. */
int
gh_reply_json(struct gh_req *req, int status, json_t *body)
{
	char	*s;
	size_t	 len;
	int	 rc;

	if (body == NULL)
		return gh_problem(req, 500, "out of memory");
	s = gh_json_dump(body, &len);
	json_decref(body);
	if (s == NULL)
		return gh_problem(req, 500, "out of memory");
	rc = gh_reply(req, status, "application/json", s, len);
	free(s);
	return rc;
}

static json_t *
utf8_or(const char *s, const char *fallback)
{
	json_t	*j;

	if ((j = json_string(s)) == NULL)
		j = json_string(fallback);
	return j;
}

/*
 * An RFC 9457 problem.  extra (may be NULL, always consumed) adds members
 * such as "errors".  Returns -1 so helpers can `return gh_problem_json()`.
 */
int
gh_problem_json(struct gh_req *req, int status, const char *detail,
    json_t *extra)
{
	static const char oom[] = "{\"type\":\"about:blank\","
	    "\"title\":\"Internal Server Error\",\"status\":500}";
	json_t	*p;
	char	*s;

	if (req->status != 0) {
		json_decref(extra);
		return -1;
	}
	req->problem = detail;
	/* A path or detail that is not UTF-8 must not cost the answer. */
	p = json_pack("{s:s, s:s, s:i, s:o, s:o, s:s?}",
	    "type", "about:blank",
	    "title", gh_status_text(status),
	    "status", status,
	    "detail", utf8_or(detail, "(not UTF-8)"),
	    "instance", utf8_or(req->path != NULL ? req->path : "", ""),
	    "request_id", req->request_id);
	if (p != NULL && extra != NULL)
		json_object_update(p, extra);
	json_decref(extra);
	if (p == NULL || (s = json_dumps(p, JSON_COMPACT)) == NULL) {
		json_decref(p);
		gh_reply(req, 500, "application/problem+json", oom,
		    sizeof(oom) - 1);
		return -1;
	}
	json_decref(p);
	gh_reply(req, status, "application/problem+json", s, strlen(s));
	free(s);
	return -1;
}

int
gh_problem(struct gh_req *req, int status, const char *fmt, ...)
{
	va_list	 ap;
	char	*detail;

	va_start(ap, fmt);
	detail = gh_vprintf(&req->arena, fmt, ap);
	va_end(ap);
	return gh_problem_json(req, status, detail != NULL ? detail :
	    gh_status_text(status), NULL);
}
