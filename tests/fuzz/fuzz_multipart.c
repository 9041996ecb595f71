/*
 * multipart/form-data bodies as uploads send them: the first input byte
 * picks the chunk size the reader hands over (1 to 64), the rest is the
 * body for boundary "XyZ".  Every part is read to its end into a sink
 * that counts; a failure must say why (status and text; a 422 only for
 * a file name, naming that field), and what a part names must be one
 * line (no CR, LF; a tab is the caller's to refuse: upload's name rules
 * do).  Promises: no crash, no leak, no
 * read past what the reader gave, and the same verdict at every chunking.
 */
#include "gatehouse.h"
#include "fcgi/media/multipart.h"
#include "fuzz.h"

struct src {
	const unsigned char	*p;
	size_t			 len, off, chunk;
};

static size_t
rd(void *ctx, char *buf, size_t len)
{
	struct src	*s = ctx;
	size_t		 n = s->len - s->off;

	if (n > len)
		n = len;
	if (n > s->chunk)
		n = s->chunk;
	memcpy(buf, s->p + s->off, n);
	s->off += n;
	return n;
}

static int
sink(void *ctx, const char *p, size_t n)
{
	(void)p;
	*(size_t *)ctx += n;
	return 0;
}

static int
one_line(const char *s)
{
	return s == NULL || strpbrk(s, "\r\n") == NULL;
}

/* 0 the closing delimiter, -1 refused; *bytes what the sink was given. */
static int
parse(const unsigned char *body, size_t len, size_t chunk, size_t *bytes)
{
	struct multipart	 mp;
	struct multipart_part	 part;
	struct gh_arena		 a;
	struct src		 s = { body, len, 0, chunk };
	char			 buf[512];
	int			 rc;

	*bytes = 0;
	gh_arena_init(&a);
	multipart_init(&mp, "XyZ", rd, &s, buf, sizeof(buf));
	if ((rc = multipart_start(&mp)) == 0) {
		while ((rc = multipart_next(&mp, &a, &part)) == 1) {
			FUZZ_CHECK(one_line(part.name));
			FUZZ_CHECK(one_line(part.filename));
			FUZZ_CHECK(one_line(part.ctype));
			if ((rc = multipart_content(&mp, sink, bytes)) != 0)
				break;
		}
	}
	if (rc != 0) {
		rc = -1;
		FUZZ_CHECK(mp.why != NULL && *mp.why != '\0');
		FUZZ_CHECK(mp.status == 400 || mp.status == 500 ||
		    mp.status == 422);
		/* A 422 is a bad file name, and says so; nothing else is. */
		FUZZ_CHECK((mp.status == 422) == (mp.field != NULL));
		FUZZ_CHECK(mp.field == NULL ||
		    strcmp(mp.field, "filename") == 0);
	}
	FUZZ_CHECK(s.off <= s.len);
	gh_arena_free(&a);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	*body;
	size_t		 chunk, n1, n2;
	int		 r1, r2;

	if (size < 1)
		return 0;
	chunk = (size_t)(data[0] % 64) + 1;
	body = fuzz_bytes(data + 1, size - 1);
	r1 = parse(body, size - 1, chunk, &n1);
	r2 = parse(body, size - 1, 4096, &n2);
	FUZZ_CHECK(r1 == r2);
	FUZZ_CHECK(r1 != 0 || n1 == n2);
	free(body);
	return 0;
}
