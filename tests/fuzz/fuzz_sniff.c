/*
 * An upload's first bytes and its names (fcgi/media/sniff.c, compiled in
 * as tests/unit/check_sniff does): the type from the bytes, the
 * dimensions read through a pread over the input, the declared type and
 * extension checked against it, the title as text, and the file name as
 * a Content-Disposition header, which must stay one printable line.
 */
#include <sys/types.h>

#include "gatehouse.h"
#include "fcgi/media/sniff.h"
#include "fuzz.h"

struct mem {
	const unsigned char	*b;
	size_t			 len;
};

static const char *const mimes[] = { "image/png", "image/gif",
    "image/jpeg", "image/webp", "video/mp4", "image/svg+xml", NULL };

static ssize_t
mem_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct mem	*m = ctx;

	if (off >= m->len)
		return 0;
	if (len > m->len - off)
		len = m->len - off;
	memcpy(buf, m->b + off, len);
	return (ssize_t)len;
}

static void
dimensions(struct mem *m, const char *mime)
{
	uint32_t	 w, h;

	if (media_dimensions(mime, mem_pread, m, &w, &h) == 0)
		FUZZ_CHECK(w >= 1 && w <= 0x7fffffff &&
		    h >= 1 && h <= 0x7fffffff);
	else
		FUZZ_CHECK(w == 0 && h == 0);
}

/* One header line of printable ASCII, whatever the name held. */
static void
disposition(struct gh_arena *a, const char *mime, const char *name,
    int attachment)
{
	const unsigned char *p;
	char		*d;

	FUZZ_CHECK((d = media_disposition(a, mime, name, attachment)) != NULL);
	for (p = (const unsigned char *)d; *p != '\0'; p++)
		FUZZ_CHECK(*p >= 0x20 && *p < 0x7f);
	FUZZ_CHECK(strncmp(d, "inline; ", 8) == 0 ||
	    strncmp(d, "attachment; ", 12) == 0);
	if (attachment || media_risky(mime))
		FUZZ_CHECK(strncmp(d, "attachment; ", 12) == 0);
}

static const char etag_hex[] =
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
static const char etag_q[] =
    "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct media_type *t;
	struct gh_arena	 a;
	struct mem	 m;
	unsigned char	*b;
	const char	*why;
	char		*s;
	size_t		 i;

	gh_arena_init(&a);
	b = fuzz_bytes(data, size);
	m.b = b;
	m.len = size;
	t = media_sniff(b, size < MEDIA_SNIFF_LEN ? size : MEDIA_SNIFF_LEN);
	if (t != NULL) {
		FUZZ_CHECK(!media_risky(t->mime));
		dimensions(&m, t->mime);
	}
	for (i = 0; mimes[i] != NULL; i++)
		dimensions(&m, mimes[i]);

	s = fuzz_str(data, size);
	if (t != NULL) {
		(void)media_declared_ok(t, s);
		(void)media_ext_ok(t, s);
	}
	if ((why = media_valid_text(s, 200, 0)) == NULL)
		FUZZ_CHECK(media_valid_text(s, 200, 1) == NULL);
	(void)media_valid_text(s, 5000, 1);
	disposition(&a, t != NULL ? t->mime : "image/svg+xml", s, 0);
	disposition(&a, "image/png", s, 1);
	/* If-None-Match: a match is "*" or the tag, quoted, in the list. */
	if (media_etag_matches(s, etag_hex))
		FUZZ_CHECK(strchr(s, '*') != NULL || strstr(s, etag_q) != NULL);
	free(s);
	free(b);
	gh_arena_free(&a);
	return 0;
}
