/*
 * The media service's multipart/form-data parser (fcgi/media/multipart.c):
 * the boundary of a Content-Type, a part's headers, and the stream, fed
 * in every chunking so that delimiters and headers straddle reads.
 */
#include <stdio.h>

#include "unit.h"
#include "multipart.h"

#define B	"XyZ-123"
#define CRLF	"\r\n"
#define DELIM	"--" B CRLF
#define CLOSE	"--" B "--" CRLF
#define DISP(n)	"Content-Disposition: form-data; name=\"" n "\"" CRLF
#define BUFSZ	(64 * 1024 + MULTIPART_HEAD_MAX)
#define PARTS_MAX 8
#define CONTENT_MAX (MULTIPART_HEAD_MAX * 4)

/* A body in memory, handed out at most chunk bytes a read. */
struct body {
	const char	*b;
	size_t		 len, off, chunk;
};

static size_t
body_read(void *ctx, char *buf, size_t len)
{
	struct body	*b = ctx;
	size_t		 n = b->len - b->off;

	if (n > len)
		n = len;
	if (n > b->chunk)
		n = b->chunk;
	memcpy(buf, b->b + b->off, n);
	b->off += n;
	return n;
}

/* What a whole parse gave: the parts, or why it stopped. */
struct result {
	int		 nparts;
	char		 name[PARTS_MAX][64];
	char		 filename[PARTS_MAX][64];	/* "" none */
	char		 ctype[PARTS_MAX][64];
	char		 content[PARTS_MAX][CONTENT_MAX];
	size_t		 clen[PARTS_MAX];
	int		 status;
	char		 why[256];			/* "" none */
	char		 field[32];			/* "" none */
	size_t		 sink_limit;			/* 0: none */
};

static int
sink(void *ctx, const char *buf, size_t n)
{
	struct result	*r = ctx;
	int		 i = r->nparts - 1;

	if ((r->sink_limit != 0 && r->clen[i] + n > r->sink_limit) ||
	    r->clen[i] + n > CONTENT_MAX)
		return -1;
	memcpy(r->content[i] + r->clen[i], buf, n);
	r->clen[i] += n;
	return 0;
}

static char	 buf[BUFSZ];

static void
parse_into(const char *body, size_t len, size_t chunk, struct result *r)
{
	struct body	 b = { body, len, 0, chunk };
	struct multipart mp;
	struct multipart_part part;
	struct gh_arena	 a;
	size_t		 limit = r->sink_limit;
	int		 rc;

	memset(r, 0, sizeof(*r));
	r->sink_limit = limit;
	gh_arena_init(&a);
	multipart_init(&mp, B, body_read, &b, buf, sizeof(buf));
	if ((rc = multipart_start(&mp)) == 0)
		while ((rc = multipart_next(&mp, &a, &part)) == 1) {
			ck_assert_int_lt(r->nparts, PARTS_MAX);
			snprintf(r->name[r->nparts], 64, "%s", part.name);
			snprintf(r->filename[r->nparts], 64, "%s",
			    part.filename != NULL ? part.filename : "");
			snprintf(r->ctype[r->nparts], 64, "%s",
			    part.ctype != NULL ? part.ctype : "");
			r->nparts++;
			if ((rc = multipart_content(&mp, sink, r)) != 0)
				break;
		}
	if (rc != 0) {
		r->status = mp.status;
		snprintf(r->why, sizeof(r->why), "%s",
		    mp.why != NULL ? mp.why : "(the sink)");
		snprintf(r->field, sizeof(r->field), "%s",
		    mp.field != NULL ? mp.field : "");
	}
	gh_arena_free(&a);
}

static struct result	 res, res2;

/* Parses a literal whole, then in every small chunking: the same result. */
static const struct result *
parse_n(const char *body, size_t len)
{
	size_t	 chunk;

	res.sink_limit = 0;
	parse_into(body, len, len + 1, &res);
	for (chunk = 1; chunk <= 23; chunk++) {
		res2.sink_limit = res.sink_limit;
		parse_into(body, len, chunk, &res2);
		ck_assert_msg(res2.nparts == res.nparts &&
		    strcmp(res2.why, res.why) == 0 &&
		    memcmp(res2.clen, res.clen, sizeof(res.clen)) == 0,
		    "chunks of %zu: %d parts (%s), whole: %d parts (%s)",
		    chunk, res2.nparts, res2.why, res.nparts, res.why);
		ck_assert_int_eq(res2.status, res.status);
		ck_assert_str_eq(res2.field, res.field);
		ck_assert(memcmp(res2.content, res.content,
		    sizeof(res.content)) == 0);
	}
	return &res;
}

#define PARSE(lit)	parse_n(lit, sizeof(lit) - 1)

static void
fails_with(const struct result *r, const char *why)
{
	ck_assert_msg(strstr(r->why, why) != NULL, "why '%s', wanted '%s'",
	    r->why, why);
	ck_assert_int_eq(r->status, 400);
	ck_assert_str_eq(r->field, "");
}

/* A bad file name: a 422 about the field, not a broken form. */
static void
name_refused(const struct result *r)
{
	int	 i;

	ck_assert_msg(strstr(r->why, "control characters") != NULL,
	    "why '%s'", r->why);
	ck_assert_int_eq(r->status, 422);
	ck_assert_str_eq(r->field, "filename");
	/* Refused with its headers: the part was never handed over. */
	for (i = 0; i < r->nparts; i++)
		ck_assert_str_ne(r->name[i], "file");
}

static const char *
boundary_of(const char *ctype, int want)
{
	static char	 b[MULTIPART_BOUNDARY_MAX + 1];
	const char	*why;

	ck_assert_int_eq(multipart_boundary(ctype, b, &why), want);
	ck_assert((want == -1) == (why != NULL));
	return want == -1 ? why : b;
}

/* ---------------------------------------------------------------- ok */

START_TEST(boundary_from_the_type)
{
	char	 seventy[128], type[160];

	ck_assert_str_eq(boundary_of("multipart/form-data; boundary=abc", 1),
	    "abc");
	ck_assert_str_eq(boundary_of("Multipart/Form-Data;BOUNDARY=a'()+_,-./:=?Z9",
	    1), "a'()+_,-./:=?Z9");
	ck_assert_str_eq(boundary_of("multipart/form-data; charset=utf-8; "
	    "boundary=\"with space\"; x=\"a;b\"", 1), "with space");
	ck_assert_str_eq(boundary_of("multipart/form-data; x=\"boundary=no\"; "
	    "boundary=yes", 1), "yes");
	memset(seventy, 'b', 70);
	seventy[70] = '\0';
	snprintf(type, sizeof(type), "multipart/form-data; boundary=%s",
	    seventy);
	ck_assert_str_eq(boundary_of(type, 1), seventy);
	/* Not a form at all: a raw upload. */
	boundary_of(NULL, 0);
	boundary_of("image/png", 0);
	boundary_of("multipart/form-datax; boundary=a", 0);
	boundary_of("multipart/mixed; boundary=a", 0);
}
END_TEST

START_TEST(fields_and_a_file)
{
#define FILE_BYTES "\x89PNG\r\n\x1a\n\0\0binary\r\n-- not a delimiter\r\n--XyZ"
	static const char file[] = FILE_BYTES;
	static const char body[] = "preamble, ignored" CRLF
	    DELIM DISP("title") CRLF "Sunset" CRLF
	    DELIM "Content-Disposition: form-data; name=\"file\"; "
	    "filename=\"a.png\"" CRLF "Content-Type: image/png  " CRLF CRLF
	    FILE_BYTES CRLF
	    DELIM DISP("description") CRLF "two" CRLF "lines" CRLF
	    CLOSE "epilogue, ignored";
	const struct result *r = PARSE(body);

	ck_assert_str_eq(r->why, "");
	ck_assert_int_eq(r->nparts, 3);
	ck_assert_str_eq(r->name[0], "title");
	ck_assert_uint_eq(r->clen[0], 6);
	ck_assert(memcmp(r->content[0], "Sunset", 6) == 0);
	ck_assert_str_eq(r->name[1], "file");
	ck_assert_str_eq(r->filename[1], "a.png");
	ck_assert_str_eq(r->ctype[1], "image/png");
	ck_assert_uint_eq(r->clen[1], sizeof(file) - 1);
	ck_assert(memcmp(r->content[1], file, sizeof(file) - 1) == 0);
	ck_assert_uint_eq(r->clen[2], 10);
	ck_assert(memcmp(r->content[2], "two\r\nlines", 10) == 0);
}
END_TEST

START_TEST(a_body_that_starts_with_its_delimiter_and_empty_parts)
{
	const struct result *r = PARSE(DELIM DISP("a") CRLF CRLF
	    DELIM DISP("b") CRLF "x" CRLF CLOSE);

	ck_assert_str_eq(r->why, "");
	ck_assert_int_eq(r->nparts, 2);
	ck_assert_uint_eq(r->clen[0], 0);
	ck_assert_uint_eq(r->clen[1], 1);
}
END_TEST

START_TEST(disposition_parameters)
{
	struct multipart_part p;
	struct gh_arena	 a;
	const char	*why;

#define HEADERS(lit)	multipart_headers(&a, lit, sizeof(lit) - 1, &p, &why)
	gh_arena_init(&a);
	/* Quoted, with \" as the only escape: a Windows path keeps its \. */
	ck_assert_int_eq(HEADERS("content-disposition:form-data ; "
	    "filename = \"C:\\pics\\a\\\"b\\\".png\" ;name=file;" CRLF), 0);
	ck_assert_str_eq(p.name, "file");
	ck_assert_str_eq(p.filename, "C:\\pics\\a\"b\".png");
	ck_assert_ptr_null(p.ctype);
	/* filename* is the name meant, whichever comes first. */
	ck_assert_int_eq(HEADERS("Content-Disposition: form-data; "
	    "filename*=utf-8'fr'%C3%A9t%C3%A9.png; name=\"file\"; "
	    "filename=\"ete.png\"" CRLF), 0);
	ck_assert_str_eq(p.filename, "\xc3\xa9t\xc3\xa9.png");
	/* Unknown headers and parameters are ignored; "" is a name. */
	ck_assert_int_eq(HEADERS("X-Other: 1" CRLF "Content-Disposition: "
	    "form-data; name=\"\"; size=3" CRLF "Content-Type:" CRLF), 0);
	ck_assert_str_eq(p.name, "");
	ck_assert_str_eq(p.ctype, "");
	ck_assert_ptr_null(p.filename);
	gh_arena_free(&a);
}
END_TEST

START_TEST(content_up_to_the_sink)
{
	char	 body[3 * MULTIPART_HEAD_MAX], *p = body;
	const struct result *r;

	p += sprintf(p, DELIM DISP("file") CRLF);
	memset(p, '-', 2 * MULTIPART_HEAD_MAX);	/* dashes and CRs, no delimiter */
	p[100] = '\r';
	p[101] = '\n';
	p += 2 * MULTIPART_HEAD_MAX;
	p += sprintf(p, CRLF CLOSE);
	r = parse_n(body, (size_t)(p - body));
	ck_assert_str_eq(r->why, "");
	ck_assert_uint_eq(r->clen[0], 2 * MULTIPART_HEAD_MAX);
}
END_TEST

/* ---------------------------------------------------------------- boundary */

START_TEST(boundary_missing_or_empty)
{
	boundary_of("multipart/form-data", -1);
	boundary_of("multipart/form-data;", -1);
	boundary_of("multipart/form-data; charset=utf-8", -1);
	boundary_of("multipart/form-data; boundary=", -1);
	boundary_of("multipart/form-data; boundary=\"\"", -1);
	boundary_of("multipart/form-data; boundary=;x=y", -1);
	/* A boundary inside another parameter's quotes is none. */
	boundary_of("multipart/form-data; x=\"; boundary=abc\"", -1);
}
END_TEST

START_TEST(boundary_too_long)
{
	char	 type[160];

	snprintf(type, sizeof(type), "multipart/form-data; boundary=%071d", 0);
	ck_assert(strstr(boundary_of(type, -1), "1 to 70") != NULL);
	snprintf(type, sizeof(type), "multipart/form-data; boundary=\"%071d\"",
	    0);
	ck_assert(strstr(boundary_of(type, -1), "1 to 70") != NULL);
}
END_TEST

START_TEST(boundary_with_bad_characters)
{
	static const char *const bad[] = {
		"multipart/form-data; boundary=a<b",
		"multipart/form-data; boundary=a@b",
		"multipart/form-data; boundary=\"a\\b\"",
		"multipart/form-data; boundary=\"a\tb\"",
		"multipart/form-data; boundary=\"a\rb\"",
		"multipart/form-data; boundary=\"a\nb\"",
		"multipart/form-data; boundary=\"ends in a space \"",
		"multipart/form-data; boundary=\xc3\xa9t\xc3\xa9",
		"multipart/form-data; boundary=\"unclosed",
		"multipart/form-data; boundary=a; boundary=b",
		NULL
	};
	const char *const *t;

	for (t = bad; *t != NULL; t++)
		boundary_of(*t, -1);
}
END_TEST

/* ---------------------------------------------------------------- stream */

START_TEST(no_parts)
{
	fails_with(PARSE(""), "has no parts");
	fails_with(PARSE("no delimiter at all"), "has no parts");
	/* The boundary must follow a line start: this is no delimiter. */
	fails_with(PARSE("x--" B CRLF DISP("a") CRLF "v"), "has no parts");
	fails_with(PARSE("--XyZ-12" CRLF), "has no parts");
}
END_TEST

START_TEST(missing_final_boundary)
{
	fails_with(PARSE(DELIM DISP("a") CRLF "value, then nothing"),
	    "ends inside a part");
	fails_with(PARSE(DELIM DISP("a") CRLF "v" CRLF "--" B),
	    "without its closing delimiter");
	fails_with(PARSE(DELIM DISP("a") CRLF "v" CRLF "--" B "-"),
	    "without its closing delimiter");
	/* Cut in the closing delimiter itself. */
	fails_with(PARSE(DELIM DISP("a") CRLF "v" CRLF "--XyZ-1"),
	    "ends inside a part");
}
END_TEST

START_TEST(delimiter_not_followed_by_a_line_end)
{
	fails_with(PARSE("--" B "x" CRLF DISP("a") CRLF "v" CRLF CLOSE),
	    "not followed by a line end");
	fails_with(PARSE("--" B " " CRLF DISP("a") CRLF "v" CRLF CLOSE),
	    "not followed by a line end");
	/* A boundary that is a prefix of a line inside the content. */
	fails_with(PARSE(DELIM DISP("a") CRLF "v" CRLF "--" B "4 more" CRLF),
	    "not followed by a line end");
}
END_TEST

START_TEST(headers_missing_or_cut)
{
	fails_with(PARSE(DELIM CRLF "v" CRLF CLOSE), "has no headers");
	fails_with(PARSE(DELIM DISP("a")), "missing or too long");
	fails_with(PARSE(DELIM "Content-Disposition: form-data; name=\"a\""),
	    "missing or too long");
	fails_with(PARSE(DELIM "Content-Type: text/plain" CRLF CRLF "v" CRLF
	    CLOSE), "has no name");
}
END_TEST

START_TEST(header_without_a_colon)
{
	fails_with(PARSE(DELIM DISP("a") "X-No-Colon" CRLF CRLF "v" CRLF
	    CLOSE), "not a name, a colon");
	fails_with(PARSE(DELIM ": no name" CRLF DISP("a") CRLF "v" CRLF
	    CLOSE), "not a name, a colon");
	fails_with(PARSE(DELIM "Content-Disposition : form-data; name=a"
	    CRLF CRLF "v" CRLF CLOSE), "not a name, a colon");
	/* A folded line (obsolete) is not a header either. */
	fails_with(PARSE(DELIM "Content-Disposition: form-data;" CRLF
	    " name=a" CRLF CRLF "v" CRLF CLOSE), "not a name, a colon");
}
END_TEST

START_TEST(oversized_headers)
{
	char	*body, *p;
	size_t	 n = MULTIPART_HEAD_MAX + 64;

	ck_assert_ptr_nonnull(body = malloc(n + 256));
	p = body + sprintf(body, DELIM DISP("a") "X-Pad: ");
	memset(p, 'x', n);
	p += n;
	p += sprintf(p, CRLF CRLF "v" CRLF CLOSE);
	/* Whole in one read, or across many: refused the same. */
	fails_with(parse_n(body, (size_t)(p - body)), "missing or too long");
	/* Never ended at all. */
	p = body + sprintf(body, DELIM DISP("a") "X-Pad: ");
	memset(p, 'x', n);
	fails_with(parse_n(body, (size_t)(p - body) + n),
	    "missing or too long");
	free(body);
}
END_TEST

START_TEST(control_characters_in_headers)
{
	/* NUL would cut the name short: "title" and "title\0x" differ. */
	fails_with(PARSE(DELIM "Content-Disposition: form-data; "
	    "name=\"title\0x\"" CRLF CRLF "v" CRLF CLOSE), "control character");
	fails_with(PARSE(DELIM DISP("a\x01") CRLF "v" CRLF CLOSE),
	    "control character");
	fails_with(PARSE(DELIM DISP("a\x7f") CRLF "v" CRLF CLOSE),
	    "control character");
	/* A CR or LF alone, which some readers take for a line end. */
	fails_with(PARSE(DELIM DISP("a") "Content-Type: text/plain\rX: y"
	    CRLF CRLF "v" CRLF CLOSE), "control character");
	fails_with(PARSE(DELIM DISP("a") "Content-Type: text/plain\nX: y"
	    CRLF CRLF "v" CRLF CLOSE), "control character");
}
END_TEST

START_TEST(crlf_injection_in_a_quoted_name)
{
	/* The quote does not close on its line: the next line is no part of it. */
	fails_with(PARSE(DELIM "Content-Disposition: form-data; name=\"file\"; "
	    "filename=\"a.png" CRLF "Content-Type: text/html\"" CRLF CRLF "v"
	    CRLF CLOSE), "Content-Disposition is not");
	fails_with(PARSE(DELIM "Content-Disposition: form-data; name=\"ti"
	    CRLF "tle\"" CRLF CRLF "v" CRLF CLOSE), "Content-Disposition is not");
}
END_TEST

START_TEST(duplicate_names_and_headers)
{
	fails_with(PARSE(DELIM "Content-Disposition: form-data; name=\"a\"; "
	    "name=\"b\"" CRLF CRLF "v" CRLF CLOSE), "a parameter twice");
	fails_with(PARSE(DELIM "Content-Disposition: form-data; name=file; "
	    "filename=a.png; FILENAME=b.exe" CRLF CRLF "v" CRLF CLOSE),
	    "a parameter twice");
	fails_with(PARSE(DELIM DISP("a") DISP("b") CRLF "v" CRLF CLOSE),
	    "two Content-Disposition");
	fails_with(PARSE(DELIM DISP("file") "Content-Type: image/png" CRLF
	    "content-type: text/html" CRLF CRLF "v" CRLF CLOSE),
	    "two Content-Type");
}
END_TEST

START_TEST(bad_dispositions)
{
	fails_with(PARSE(DELIM "Content-Disposition: attachment; name=a" CRLF
	    CRLF "v" CRLF CLOSE), "Content-Disposition is not");
	fails_with(PARSE(DELIM "Content-Disposition: form-data name=a" CRLF
	    CRLF "v" CRLF CLOSE), "Content-Disposition is not");
	fails_with(PARSE(DELIM "Content-Disposition: form-data; name" CRLF
	    CRLF "v" CRLF CLOSE), "Content-Disposition is not");
	fails_with(PARSE(DELIM "Content-Disposition: form-data; =a" CRLF
	    CRLF "v" CRLF CLOSE), "Content-Disposition is not");
	fails_with(PARSE(DELIM "Content-Disposition: form-data; name=\"a\"b"
	    CRLF CRLF "v" CRLF CLOSE), "Content-Disposition is not");
}
END_TEST

START_TEST(bad_filename_star)
{
	fails_with(PARSE(DELIM "Content-Disposition: form-data; name=file; "
	    "filename*=iso-8859-1''%E9t%E9.png" CRLF CRLF "v" CRLF CLOSE),
	    "filename*");
	fails_with(PARSE(DELIM "Content-Disposition: form-data; name=file; "
	    "filename*=UTF-8''a%2.png" CRLF CRLF "v" CRLF CLOSE), "filename*");
	name_refused(PARSE(DELIM "Content-Disposition: form-data; name=file; "
	    "filename*=UTF-8''a%00.exe" CRLF CRLF "v" CRLF CLOSE));
	fails_with(PARSE(DELIM "Content-Disposition: form-data; name=file; "
	    "filename*=UTF-8'a.png" CRLF CRLF "v" CRLF CLOSE), "filename*");
	/* Found by the fuzzer: encoded line breaks and controls. */
	name_refused(PARSE(DELIM "Content-Disposition: form-data; name=file; "
	    "filename*=UTF-8''a%0ab.png" CRLF CRLF "v" CRLF CLOSE));
	name_refused(PARSE(DELIM "Content-Disposition: form-data; name=file; "
	    "filename*=UTF-8''a%0D%0AX-Evil:1.png" CRLF CRLF "v" CRLF CLOSE));
	name_refused(PARSE(DELIM "Content-Disposition: form-data; name=file; "
	    "filename*=UTF-8''a%02b%7f.png" CRLF CRLF "v" CRLF CLOSE));
	/* Badly encoded is still a broken header, not a bad name. */
	fails_with(PARSE(DELIM "Content-Disposition: form-data; name=file; "
	    "filename*=UTF-8''a%0g.png" CRLF CRLF "v" CRLF CLOSE), "filename*");
}
END_TEST

/*
 * A NUL in a file name would cut it short ("a\0.exe" read as "a"), a
 * line end split it: refused as the field filename (422), whether the
 * name is quoted, a token or filename*, first part or later, and
 * whatever else the disposition holds.
 */
START_TEST(control_characters_in_a_file_name)
{
#define FILE_PART(params) DELIM "Content-Disposition: form-data; " \
	"name=\"file\"; " params CRLF "Content-Type: image/png" CRLF CRLF \
	"\x89PNG" CRLF CLOSE

	name_refused(PARSE(FILE_PART("filename=\"a\0.png\"")));
	name_refused(PARSE(FILE_PART("filename=\"a\0\"")));
	name_refused(PARSE(FILE_PART("filename=\"\0.png\"")));
	name_refused(PARSE(FILE_PART("filename=a\0.png")));
	name_refused(PARSE(FILE_PART("filename=\"a\x01.png\"")));
	name_refused(PARSE(FILE_PART("filename=\"a\x1b[31m.png\"")));
	name_refused(PARSE(FILE_PART("filename=\"a\x7f.png\"")));
	name_refused(PARSE(FILE_PART("filename=\"a\r.png\"")));
	name_refused(PARSE(FILE_PART("filename=\"a\n.png\"")));
	name_refused(PARSE(FILE_PART("filename*=UTF-8''a\0.png")));
	name_refused(PARSE(FILE_PART("filename*=UTF-8''a%00.png")));
	/* A good filename* does not excuse a bad fallback, nor the reverse. */
	name_refused(PARSE(FILE_PART("filename=\"a\0.png\"; "
	    "filename*=UTF-8''a.png")));
	name_refused(PARSE(FILE_PART("filename=\"a.png\"; "
	    "filename*=UTF-8''a%0a.png")));
	/* After a text field whose content was taken. */
	name_refused(PARSE(DELIM DISP("title") CRLF "t" CRLF
	    FILE_PART("filename=\"a\0.png\"")));
	/* Parameters the parser ignores and a name first: still the name. */
	name_refused(PARSE(DELIM "Content-Disposition: form-data; size=3; "
	    "filename=\"a\0.png\"; name=\"file\"" CRLF CRLF "v" CRLF CLOSE));
#undef FILE_PART
}
END_TEST

/* A control elsewhere in the line is the form's fault: 400, as before. */
START_TEST(control_characters_beside_a_file_name)
{
	fails_with(PARSE(DELIM "Content-Disposition: form-data; "
	    "name=\"fi\0le\"; filename=\"a.png\"" CRLF CRLF "v" CRLF CLOSE),
	    "control character");
	/* In the name too: the whole line is refused as a broken form. */
	fails_with(PARSE(DELIM "Content-Disposition: form-data; "
	    "name=\"fi\0le\"; filename=\"a\0.png\"" CRLF CRLF "v" CRLF
	    CLOSE), "control character");
	fails_with(PARSE(DELIM "Content-Disposition: form-data; name=file; "
	    "filename=\"a.png\";\x01" CRLF CRLF "v" CRLF CLOSE),
	    "control character");
	fails_with(PARSE(DELIM "Content-Disposition: form-data; name=file; "
	    "filename=\"a.png\"" CRLF "X-Other: a\0b" CRLF CRLF "v" CRLF
	    CLOSE), "control character");
	/* Unclosed quote with a NUL: broken, not a name. */
	fails_with(PARSE(DELIM "Content-Disposition: form-data; name=file; "
	    "filename=\"a\0.png" CRLF CRLF "v" CRLF CLOSE),
	    "control character");
	/* A control in the header's name, before the colon. */
	fails_with(PARSE(DELIM "Content\0-Disposition: form-data; name=file"
	    CRLF CRLF "v" CRLF CLOSE), "control character");
}
END_TEST

START_TEST(a_sink_that_refuses_stops_the_parse)
{
	struct result	 r;
	static const char body[] = DELIM DISP("a") CRLF
	    "0123456789" CRLF CLOSE;
	size_t		 chunk;

	for (chunk = 1; chunk <= sizeof(body); chunk++) {
		r.sink_limit = 5;
		parse_into(body, sizeof(body) - 1, chunk, &r);
		ck_assert_str_eq(r.why, "(the sink)");
		ck_assert_int_eq(r.status, 0);
		ck_assert_uint_le(r.clen[0], 5);
	}
}
END_TEST

static Suite *
multipart_suite(void)
{
	Suite	*s = suite_create("multipart");
	TCase	*ok = tcase_create("ok"), *bad = tcase_create("bad");

	tcase_set_timeout(ok, 30);
	tcase_set_timeout(bad, 30);
	tcase_add_test(ok, boundary_from_the_type);
	tcase_add_test(ok, fields_and_a_file);
	tcase_add_test(ok, a_body_that_starts_with_its_delimiter_and_empty_parts);
	tcase_add_test(ok, disposition_parameters);
	tcase_add_test(ok, content_up_to_the_sink);
	tcase_add_test(bad, boundary_missing_or_empty);
	tcase_add_test(bad, boundary_too_long);
	tcase_add_test(bad, boundary_with_bad_characters);
	tcase_add_test(bad, no_parts);
	tcase_add_test(bad, missing_final_boundary);
	tcase_add_test(bad, delimiter_not_followed_by_a_line_end);
	tcase_add_test(bad, headers_missing_or_cut);
	tcase_add_test(bad, header_without_a_colon);
	tcase_add_test(bad, oversized_headers);
	tcase_add_test(bad, control_characters_in_headers);
	tcase_add_test(bad, crlf_injection_in_a_quoted_name);
	tcase_add_test(bad, duplicate_names_and_headers);
	tcase_add_test(bad, bad_dispositions);
	tcase_add_test(bad, bad_filename_star);
	tcase_add_test(bad, control_characters_in_a_file_name);
	tcase_add_test(bad, control_characters_beside_a_file_name);
	tcase_add_test(bad, a_sink_that_refuses_stops_the_parse);
	suite_add_tcase(s, ok);
	suite_add_tcase(s, bad);
	return s;
}

int
main(void)
{
	return unit_run(multipart_suite());
}
