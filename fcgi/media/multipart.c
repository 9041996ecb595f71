/*
 * multipart/form-data (RFC 7578), parsed as it streams.  Pure: the body
 * comes through the caller's reader into the caller's buffer, a part's
 * content goes to the caller's sink, and names come from an arena; no
 * FastCGI, no database, no file.
 *
 * The buffer holds the unread bytes: a delimiter or a part's headers
 * straddling two reads are kept whole by moving what is left to its
 * start before the next read (fill), so it must hold a part's headers
 * and more (MULTIPART_HEAD_MAX and a read).
 */
#define _GNU_SOURCE		/* memmem */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gh_arena.h"
#include "gh_crypto.h"
#include "multipart.h"

#define BOUNDARY_LEN_WHY "multipart/form-data needs a boundary of 1 to 70 " \
	"characters"
#define HEAD_WHY	"a form part's headers are missing or too long"
#define DISP_WHY	"a form part's Content-Disposition is not " \
	"form-data; name=\"...\" with parameters of a name and a value"
#define CTL_WHY		"a form part's headers hold a control character"
#define NAME_CTL_WHY	"must not contain control characters (a NUL " \
	"would cut the name short, a line end split it)"

static const char oom[] = "out of memory";

static int
fail(struct multipart *m, int status, const char *why)
{
	m->status = status;
	m->why = why;
	return -1;
}

/* ---------------------------------------------------------------- boundary */

/* RFC 2046's bchars but the space, which may not end a boundary. */
static int
is_bchar(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z') ||
	    (c != '\0' && strchr("'()+_,-./:=?", c) != NULL);
}

/*
 * The boundary of a Content-Type (RFC 2046 5.1.1): 1 to 70 of bchars,
 * quoted or not, a space only inside quotes and not last.  0 when the
 * type is not multipart/form-data at all; 1 with the boundary in out;
 * -1 and why when it is a form without a usable boundary.  Pure.
 */
int
multipart_boundary(const char *ctype, char out[MULTIPART_BOUNDARY_MAX + 1],
    const char **why)
{
	static const char type[] = "multipart/form-data";
	const char	*p, *v;
	size_t		 n, i;
	int		 quoted, seen = 0;

	*why = NULL;
	out[0] = '\0';
	if (ctype == NULL || strncasecmp(ctype, type, sizeof(type) - 1) != 0)
		return 0;
	p = ctype + sizeof(type) - 1;
	if (*p != '\0' && *p != ';' && *p != ' ' && *p != '\t')
		return 0;
	while (*p != '\0') {
		/* Another parameter's quoted value may hold a ';'. */
		if (*p == '"') {
			if ((p = strchr(p + 1, '"')) == NULL)
				break;
			p++;
			continue;
		}
		if (*p++ != ';')
			continue;
		p += strspn(p, " \t");
		if (strncasecmp(p, "boundary=", 9) != 0)
			continue;
		if (seen++) {
			*why = "multipart/form-data has two boundaries";
			return -1;
		}
		p += 9;
		if ((quoted = *p == '"')) {
			v = p + 1;
			n = strcspn(v, "\"");
			if (v[n] != '"') {
				*why = "multipart/form-data's boundary has no "
				    "closing quote";
				return -1;
			}
			p = v + n + 1;
		} else {
			v = p;
			n = strcspn(v, "; \t");
			p = v + n;
		}
		if (n == 0 || n > MULTIPART_BOUNDARY_MAX) {
			*why = BOUNDARY_LEN_WHY;
			return -1;
		}
		for (i = 0; i < n; i++)
			if (!is_bchar((unsigned char)v[i]) &&
			    !(quoted && v[i] == ' ' && i < n - 1)) {
				*why = "multipart/form-data's boundary may hold "
				    "only letters, digits, '()+_,-./:=? and, "
				    "inside quotes, spaces not last (RFC 2046)";
				return -1;
			}
		memcpy(out, v, n);
		out[n] = '\0';
	}
	if (!seen) {
		*why = BOUNDARY_LEN_WHY;
		return -1;
	}
	return 1;
}

/* ---------------------------------------------------------------- headers */

/* Bytes of a header line: [s, e). */
struct span {
	const char	*s, *e;
};

static const char *
skip_ows(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* The length of a token at p: up to a separator of parameters. */
static size_t
token_len(const char *p, const char *end)
{
	const char	*s = p;

	while (p < end && *p != ';' && *p != '=' && *p != ' ' && *p != '\t' &&
	    *p != '"')
		p++;
	return (size_t)(p - s);
}

/*
 * A parameter's value at *pp, unquoted, into the arena; *pp moves past
 * it.  Browsers send a quote in a name as %22 and a backslash as itself
 * (HTML's form encoding): only \" is taken as an escape, so that
 * C:\dir\a.png keeps the separators a base name needs.  -1 for a quote
 * that does not close, -2 out of memory.
 */
static int
param_value(struct gh_arena *a, const char **pp, const char *end, char **out)
{
	const char	*p = *pp;
	size_t		 n = 0;
	char		*s;

	if (p == end || *p != '"') {
		n = token_len(p, end);
		if ((*out = gh_strndup(a, p, n)) == NULL)
			return -2;
		*pp = p + n;
		return 0;
	}
	if ((s = gh_alloc(a, (size_t)(end - p))) == NULL)
		return -2;
	for (p++; p < end && *p != '"'; p++) {
		if (*p == '\\' && p + 1 < end && p[1] == '"')
			p++;
		s[n++] = *p;
	}
	if (p == end)
		return -1;
	s[n] = '\0';
	*out = s;
	*pp = p + 1;
	return 0;
}

/*
 * filename* (RFC 8187): UTF-8''<percent-encoded>, the language ignored.
 * RFC 7578 tells senders not to use it, but some do; when they do, it is
 * the name they mean.  -1 when it is not of that form, -2 out of memory,
 * MULTIPART_BAD_NAME when it holds a control character, encoded or not.
 */
static int
ext_value(struct gh_arena *a, const char *s, char **out)
{
	const char	*q;
	char		*o;
	int		 hi, lo;

	if (strncasecmp(s, "UTF-8'", 6) != 0 ||
	    (q = strchr(s + 6, '\'')) == NULL)
		return -1;
	if ((*out = o = gh_alloc(a, strlen(q))) == NULL)
		return -2;
	for (q++; *q != '\0'; q++) {
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			return MULTIPART_BAD_NAME;
		if (*q != '%') {
			*o++ = *q;
			continue;
		}
		if ((hi = gh_hexdigit((unsigned char)q[1])) < 0 ||
		    (lo = gh_hexdigit((unsigned char)q[2])) < 0)
			return -1;
		/* No control character, encoded or not: a name is one line. */
		if ((hi << 4 | lo) < 0x20 || (hi << 4 | lo) == 0x7f)
			return MULTIPART_BAD_NAME;
		*o++ = (char)(hi << 4 | lo);
		q += 2;
	}
	*o = '\0';
	return 0;
}

/*
 * Content-Disposition: form-data; name="..."; filename="..." (RFC 7578
 * 4.2, RFC 6266): each parameter once; others are ignored.  The bytes of
 * the file name's values (filename, filename*) as sent go to names, so
 * that the caller can tell a control character in a name from one
 * elsewhere.  0, -1 with why, -2 out of memory, or MULTIPART_BAD_NAME.
 */
static int
disposition(struct gh_arena *a, const char *p, const char *end,
    struct multipart_part *part, struct span names[2], const char **why)
{
	const char	*name, *vstart;
	char		*v, *pname = NULL, *fname = NULL, *ext = NULL, **dst;
	size_t		 nlen;
	int		 rc;

	*why = DISP_WHY;
	if (token_len(p, end) != 9 || strncasecmp(p, "form-data", 9) != 0)
		return -1;
	for (p += 9;;) {
		if ((p = skip_ows(p, end)) == end)
			break;
		if (*p != ';')
			return -1;
		if ((p = skip_ows(p + 1, end)) == end)
			break;
		name = p;
		nlen = token_len(p, end);
		p = skip_ows(p + nlen, end);
		if (nlen == 0 || p == end || *p != '=')
			return -1;
		vstart = p = skip_ows(p + 1, end);
		if ((rc = param_value(a, &p, end, &v)) != 0)
			return rc;
		if (nlen == 4 && strncasecmp(name, "name", 4) == 0)
			dst = &pname;
		else if (nlen == 8 && strncasecmp(name, "filename", 8) == 0)
			dst = &fname;
		else if (nlen == 9 && strncasecmp(name, "filename*", 9) == 0)
			dst = &ext;
		else
			continue;
		if (*dst != NULL) {
			*why = "a form part's Content-Disposition gives a "
			    "parameter twice";
			return -1;
		}
		*dst = v;
		if (dst != &pname) {
			names[dst == &ext].s = vstart;
			names[dst == &ext].e = p;
		}
	}
	if (ext != NULL) {
		if ((rc = ext_value(a, ext, &ext)) != 0) {
			*why = rc == MULTIPART_BAD_NAME ? NAME_CTL_WHY :
			    "a form part's filename* is not UTF-8'' and the "
			    "percent-encoded name";
			return rc;
		}
		fname = ext;
	}
	part->name = pname;
	part->filename = fname;
	*why = NULL;
	return 0;
}

static int
is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/*
 * Where a line's control characters are: 0 none, 1 each inside one of
 * the spans (a file name's value), -1 some elsewhere.
 */
static int
controls(const char *line, const char *eol, const struct span names[2])
{
	const char	*p;
	int		 where = 0, i;

	for (p = line; p < eol; p++) {
		if (!is_ctl((unsigned char)*p))
			continue;
		for (i = 0; i < 2; i++)
			if (p >= names[i].s && p < names[i].e)
				break;
		if (i == 2)
			return -1;
		where = 1;
	}
	return where;
}

/*
 * A part's header lines, each ending in CRLF (len bytes at h): its field
 * name, file name and type.  Control characters (NUL, a CR or LF alone)
 * are refused, as a name cut short or a line split in two would be read
 * as another; so is a line that is not "Name: value", and a header given
 * twice.  0; -1 with why; -2 out of memory; MULTIPART_BAD_NAME with why
 * when the file name is the one at fault (a control character in it),
 * which the caller answers as a bad field.  Pure.
 */
int
multipart_headers(struct gh_arena *a, const char *h, size_t len,
    struct multipart_part *part, const char **why)
{
	const char	*line, *eol, *end = h + len, *colon, *v, *ve;
	struct span	 names[2];
	int		 rc, ctl, disp = 0;

	memset(part, 0, sizeof(*part));
	*why = NULL;
	for (line = h; line < end; line = eol + 2) {
		if ((eol = memmem(line, (size_t)(end - line), "\r\n", 2)) ==
		    NULL) {
			*why = HEAD_WHY;
			return -1;
		}
		memset(names, 0, sizeof(names));
		ctl = controls(line, eol, names);
		colon = memchr(line, ':', (size_t)(eol - line));
		if (colon == NULL || colon == line ||
		    strcspn(line, " \t:") != (size_t)(colon - line)) {
			*why = ctl != 0 ? CTL_WHY : "a form part's header line "
			    "is not a name, a colon and a value";
			return -1;
		}
		v = skip_ows(colon + 1, eol);
		for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
			;
		if (colon - line == 19 &&
		    strncasecmp(line, "Content-Disposition", 19) == 0) {
			if (disp++) {
				*why = "a form part has two Content-Disposition "
				    "headers";
				return -1;
			}
			/*
			 * Parsed first, with its controls: one inside the
			 * file name is that field's fault, a 422 naming it;
			 * anywhere else the form is broken.
			 */
			rc = disposition(a, v, ve, part, names, why);
			if (rc == -2 || rc == MULTIPART_BAD_NAME)
				return rc;
			if (ctl != 0 && (rc != 0 || controls(line, eol,
			    names) < 0)) {
				*why = CTL_WHY;
				return -1;
			}
			if (rc != 0)
				return rc;
			if (ctl != 0) {
				*why = NAME_CTL_WHY;
				return MULTIPART_BAD_NAME;
			}
		} else if (ctl != 0) {
			*why = CTL_WHY;
			return -1;
		} else if (colon - line == 12 &&
		    strncasecmp(line, "Content-Type", 12) == 0) {
			if (part->ctype != NULL) {
				*why = "a form part has two Content-Type "
				    "headers";
				return -1;
			}
			if ((part->ctype = gh_strndup(a, v, (size_t)(ve - v))) ==
			    NULL)
				return -2;
		}
	}
	if (part->name == NULL) {
		*why = "a form part has no name";
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- stream */

void
multipart_init(struct multipart *m, const char *boundary,
    size_t (*rd)(void *, char *, size_t), void *ctx, char *buf, size_t bufsz)
{
	size_t	 n = strnlen(boundary, MULTIPART_BOUNDARY_MAX);

	memset(m, 0, sizeof(*m));
	m->read = rd;
	m->ctx = ctx;
	m->buf = buf;
	m->bufsz = bufsz;
	memcpy(m->delim, "\r\n--", 4);
	memcpy(m->delim + 4, boundary, n);
	m->dlen = 4 + n;
	/* The first delimiter has no CRLF before it: lend it one. */
	memcpy(m->buf, "\r\n", 2);
	m->len = 2;
}

/* Reads more of the body after what is left; 0 when none came. */
static size_t
fill(struct multipart *m)
{
	size_t	 n;

	if (m->eof)
		return 0;
	memmove(m->buf, m->buf + m->off, m->len - m->off);
	m->len -= m->off;
	m->off = 0;
	/* Full: what the caller looks for is longer than its limit. */
	if (m->len == m->bufsz)
		return 0;
	n = m->read(m->ctx, m->buf + m->len, m->bufsz - m->len);
	if (n == 0)
		m->eof = 1;
	m->len += n;
	return n;
}

/* Makes at least n unread bytes available; -1 when the body ends first. */
static int
need(struct multipart *m, size_t n)
{
	while (m->len - m->off < n)
		if (fill(m) == 0)
			return -1;
	return 0;
}

/* Past the preamble and the first delimiter; -1 when there is none. */
int
multipart_start(struct multipart *m)
{
	for (;;) {
		if (need(m, m->dlen) != 0)
			return fail(m, 400, "the form has no parts");
		if (memcmp(m->buf + m->off, m->delim, m->dlen) == 0)
			break;
		m->off++;			/* preamble */
	}
	m->off += m->dlen;
	return 0;
}

/*
 * After a delimiter: the next part's headers into part, leaving its
 * content to read (1), or the closing delimiter (0), or -1.
 */
int
multipart_next(struct multipart *m, struct gh_arena *a,
    struct multipart_part *part)
{
	const char	*end, *why;
	size_t		 hlen;
	int		 rc;

	memset(part, 0, sizeof(*part));
	if (need(m, 2) != 0)
		return fail(m, 400, "the form ends without its closing "
		    "delimiter");
	if (memcmp(m->buf + m->off, "--", 2) == 0)
		return 0;
	if (memcmp(m->buf + m->off, "\r\n", 2) != 0)
		return fail(m, 400, "a form delimiter is not followed by a "
		    "line end");
	m->off += 2;
	if (need(m, 2) == 0 && memcmp(m->buf + m->off, "\r\n", 2) == 0)
		return fail(m, 400, "a form part has no headers");
	while ((end = memmem(m->buf + m->off, m->len - m->off, "\r\n\r\n",
	    4)) == NULL)
		if (m->len - m->off > MULTIPART_HEAD_MAX || fill(m) == 0)
			return fail(m, 400, HEAD_WHY);
	/* However the body was cut into reads, the same limit. */
	hlen = (size_t)(end + 2 - (m->buf + m->off));
	if (hlen > MULTIPART_HEAD_MAX)
		return fail(m, 400, HEAD_WHY);
	if ((rc = multipart_headers(a, m->buf + m->off, hlen, part,
	    &why)) == MULTIPART_BAD_NAME) {
		m->field = "filename";
		return fail(m, 422, why);
	}
	if (rc != 0)
		return fail(m, rc == -2 ? 500 : 400, rc == -2 ? oom : why);
	m->off = (size_t)(end + 4 - m->buf);
	return 1;
}

/*
 * Streams a part's content up to the next delimiter, which it consumes,
 * to sink; bytes that may begin a delimiter are held back until the next
 * read tells.  0, or -1 (why NULL when the sink failed).
 */
int
multipart_content(struct multipart *m, int (*sink)(void *, const char *,
    size_t), void *ctx)
{
	const char	*d;
	size_t		 n, avail;

	for (;;) {
		avail = m->len - m->off;
		d = memmem(m->buf + m->off, avail, m->delim, m->dlen);
		if (d != NULL)
			n = (size_t)(d - (m->buf + m->off));
		else if (avail >= m->dlen)
			n = avail - (m->dlen - 1);
		else
			n = 0;
		if (n > 0 && sink(ctx, m->buf + m->off, n) != 0)
			return fail(m, 0, NULL);
		m->off += n;
		if (d != NULL) {
			m->off += m->dlen;
			return 0;
		}
		if (fill(m) == 0)
			return fail(m, 400, "the form ends inside a part");
	}
}
