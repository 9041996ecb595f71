/*
 * What a file is, from its own bytes; what the client says it is only has
 * to agree.  Pure functions: no files (dimensions read through a callback),
 * no database.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "gatehouse.h"
#include "sniff.h"

static const struct media_type types[] = {
	{ "image/jpeg",	"image/jpg image/pjpeg", "jpg jpeg jpe jfif" },
	{ "image/png",	"image/x-png", "png" },
	{ "image/gif",	"", "gif" },
	{ "image/webp",	"", "webp" },
	{ "video/mp4",	"application/mp4", "mp4 m4v" },
	{ "audio/mp4",	"audio/x-m4a audio/m4a", "m4a m4b" },
	{ "video/webm",	"audio/webm", "webm" },
	{ "audio/mpeg",	"audio/mp3 audio/mpeg3 audio/x-mpeg", "mp3" },
	{ "audio/ogg",	"application/ogg", "ogg oga opus" },
	{ "video/ogg",	"application/ogg", "ogv ogg" },
	{ "application/pdf", "application/x-pdf", "pdf" },
};

enum { T_JPEG, T_PNG, T_GIF, T_WEBP, T_MP4, T_M4A, T_WEBM, T_MP3, T_OGA,
    T_OGV, T_PDF };

#define BE16(p)	((uint32_t)(p)[0] << 8 | (p)[1])
#define BE32(p)	((uint32_t)(p)[0] << 24 | (uint32_t)(p)[1] << 16 | \
		(uint32_t)(p)[2] << 8 | (p)[3])
#define LE16(p)	((uint32_t)(p)[1] << 8 | (p)[0])
#define LE24(p)	((uint32_t)(p)[2] << 16 | (uint32_t)(p)[1] << 8 | (p)[0])
#define LE32(p)	((uint32_t)(p)[3] << 24 | LE24(p))

static int
has(const unsigned char *b, size_t len, size_t off, const char *s)
{
	size_t	 n = strlen(s);

	return len >= off + n && memcmp(b + off, s, n) == 0;
}

/* Whether needle occurs in the first lim bytes of b. */
static int
within(const unsigned char *b, size_t len, size_t lim, const char *needle,
    size_t nlen)
{
	size_t	 i;

	if (len > lim)
		len = lim;
	for (i = 0; i + nlen <= len; i++)
		if (memcmp(b + i, needle, nlen) == 0)
			return 1;
	return 0;
}

/* Whether the 4 bytes at b are one of the NULL-terminated brands. */
static int
brand_in(const unsigned char *b, const char *const *brands)
{
	for (; *brands != NULL; brands++)
		if (memcmp(b, *brands, 4) == 0)
			return 1;
	return 0;
}

/* An MPEG audio frame header of layer III, with no reserved field. */
static int
mp3_frame(const unsigned char *b, size_t len)
{
	if (len < 4 || b[0] != 0xff || (b[1] & 0xe0) != 0xe0)
		return 0;
	if (((b[1] >> 3) & 3) == 1 || ((b[1] >> 1) & 3) != 1)
		return 0;
	return (b[2] >> 4) != 0 && (b[2] >> 4) != 0xf &&
	    ((b[2] >> 2) & 3) != 3;
}

/* An ID3v2 tag's header: version 2 to 4, a syncsafe size. */
static int
id3_tag(const unsigned char *b, size_t len)
{
	return has(b, len, 0, "ID3") && len >= 10 && b[3] >= 2 && b[3] <= 4 &&
	    b[4] != 0xff && ((b[6] | b[7] | b[8] | b[9]) & 0x80) == 0;
}

/*
 * ISO base media: mp4 and m4a, by the major brand.  A brand not known to
 * be one of them is refused: HEIF, AVIF, QuickTime and 3GPP share the box.
 */
static const struct media_type *
sniff_ftyp(const unsigned char *b, size_t len)
{
	static const char *const video[] = { "isom", "iso2", "iso3", "iso4",
	    "iso5", "iso6", "mp41", "mp42", "avc1", "dash", "mmp4", "MSNV",
	    "M4V ", "M4VH", "M4VP", NULL };
	static const char *const audio[] = { "M4A ", "M4B ", NULL };

	if (len < 16 || !has(b, len, 4, "ftyp") || BE32(b) < 16)
		return NULL;
	if (brand_in(b + 8, audio))
		return &types[T_M4A];
	if (brand_in(b + 8, video))
		return &types[T_MP4];
	return NULL;
}

/* The first Ogg page names the codec of the first stream. */
static const struct media_type *
sniff_ogg(const unsigned char *b, size_t len)
{
	if (within(b, len, 512, "\x80theora", 7))
		return &types[T_OGV];
	if (within(b, len, 512, "\x01vorbis", 7) ||
	    within(b, len, 512, "OpusHead", 8) ||
	    within(b, len, 512, "\x7f" "FLAC", 5))
		return &types[T_OGA];
	return NULL;
}

/* The allowed type the bytes are, or NULL. */
const struct media_type *
media_sniff(const unsigned char *b, size_t len)
{
	/* SOI, then a marker (or a fill byte before one). */
	if (len >= 4 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff &&
	    b[3] >= 0xc0)
		return &types[T_JPEG];
	if (has(b, len, 0, "\x89PNG\r\n\x1a\n") && has(b, len, 12, "IHDR"))
		return &types[T_PNG];
	if (has(b, len, 0, "GIF87a") || has(b, len, 0, "GIF89a"))
		return &types[T_GIF];
	if (has(b, len, 0, "RIFF") && (has(b, len, 8, "WEBPVP8 ") ||
	    has(b, len, 8, "WEBPVP8L") || has(b, len, 8, "WEBPVP8X")))
		return &types[T_WEBP];
	if (has(b, len, 4, "ftyp"))
		return sniff_ftyp(b, len);
	if (has(b, len, 0, "\x1a\x45\xdf\xa3"))
		return within(b, len, 64, "\x42\x82\x84webm", 7) ?
		    &types[T_WEBM] : NULL;
	if (id3_tag(b, len) || mp3_frame(b, len))
		return &types[T_MP3];
	if (has(b, len, 0, "OggS"))
		return sniff_ogg(b, len);
	if (has(b, len, 0, "%PDF-"))
		return &types[T_PDF];
	return NULL;
}

/* Whether word (len bytes) is one of the space-separated list. */
static int
in_list(const char *list, const char *word, size_t len)
{
	const char	*p = list, *e;

	while (*p != '\0') {
		if ((e = strchr(p, ' ')) == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) == len && strncasecmp(p, word, len) == 0)
			return 1;
		p = *e == ' ' ? e + 1 : e;
	}
	return 0;
}

/*
 * Whether the declared Content-Type agrees with the bytes.  No type, or
 * application/octet-stream ("I do not know"), agrees with anything.
 */
int
media_declared_ok(const struct media_type *t, const char *declared)
{
	size_t	 len;

	if (declared == NULL)
		return 1;
	while (*declared == ' ')
		declared++;
	len = strcspn(declared, "; \t");
	if (len == 0 || (len == 24 &&
	    strncasecmp(declared, "application/octet-stream", 24) == 0))
		return 1;
	return (strlen(t->mime) == len &&
	    strncasecmp(t->mime, declared, len) == 0) ||
	    in_list(t->aliases, declared, len);
}

/* Whether a file name's extension, when it has one, fits the type. */
int
media_ext_ok(const struct media_type *t, const char *filename)
{
	const char	*dot;

	if (filename == NULL || (dot = strrchr(filename, '.')) == NULL ||
	    dot == filename || dot[1] == '\0')
		return 1;
	return in_list(t->exts, dot + 1, strlen(dot + 1));
}

typedef ssize_t (*media_rd)(void *, void *, size_t, uint64_t);

static int
full(media_rd rd, void *ctx, unsigned char *buf, size_t len, uint64_t off)
{
	return rd(ctx, buf, len, off) == (ssize_t)len ? 0 : -1;
}

/*
 * Walks the JPEG markers to the first start-of-frame.  Every step moves
 * forward and reads through rd only, so a lying length ends the walk at
 * the end of the file or after a bounded number of steps.
 */
static int
jpeg_dims(media_rd rd, void *ctx, uint32_t *w, uint32_t *h)
{
	unsigned char	 b[9];
	uint64_t	 off = 2;
	int		 steps;

	for (steps = 0; steps < 1000; steps++) {
		if (full(rd, ctx, b, 4, off) != 0 || b[0] != 0xff)
			return -1;
		if (b[1] == 0xff) {		/* fill byte */
			off++;
			continue;
		}
		if (b[1] == 0x01 || (b[1] >= 0xd0 && b[1] <= 0xd8)) {
			off += 2;		/* no length: TEM, RSTn, SOI */
			continue;
		}
		if (b[1] == 0xd9 || b[1] == 0xda || BE16(b + 2) < 2)
			return -1;
		/* SOF0-15 but DHT, JPG and DAC: length, precision, h, w. */
		if (b[1] >= 0xc0 && b[1] <= 0xcf && b[1] != 0xc4 &&
		    b[1] != 0xc8 && b[1] != 0xcc) {
			if (BE16(b + 2) < 8 || full(rd, ctx, b, 9, off) != 0)
				return -1;
			*h = BE16(b + 5);
			*w = BE16(b + 7);
			return 0;
		}
		off += 2 + BE16(b + 2);
	}
	return -1;
}

/*
 * The first chunk of a WebP names its kind: a lossy key frame (VP8, 14-bit
 * sizes after the start code), a lossless image (VP8L, 14-bit sizes less
 * one after the signature) or an extended one (VP8X, the canvas's 24-bit
 * sizes less one).
 */
static int
webp_dims(media_rd rd, void *ctx, uint32_t *w, uint32_t *h)
{
	unsigned char	 b[30];
	uint32_t	 v;

	if (full(rd, ctx, b, sizeof(b), 0) != 0 ||
	    memcmp(b, "RIFF", 4) != 0 || memcmp(b + 8, "WEBPVP8", 7) != 0)
		return -1;
	switch (b[15]) {
	case ' ':
		if ((b[20] & 1) != 0 || memcmp(b + 23, "\x9d\x01\x2a", 3) != 0)
			return -1;
		*w = LE16(b + 26) & 0x3fff;
		*h = LE16(b + 28) & 0x3fff;
		return 0;
	case 'L':
		v = LE32(b + 21);
		if (b[20] != 0x2f || (v >> 29) != 0)
			return -1;
		*w = (v & 0x3fff) + 1;
		*h = ((v >> 14) & 0x3fff) + 1;
		return 0;
	case 'X':
		*w = LE24(b + 24) + 1;
		*h = LE24(b + 27) + 1;
		return 0;
	}
	return -1;
}

/*
 * Width and height of a PNG, GIF, JPEG or WebP, read from its headers
 * through rd (a pread); -1 for other types or a header that says nothing
 * sane.
 */
int
media_dimensions(const char *mime, media_rd rd, void *ctx, uint32_t *w,
    uint32_t *h)
{
	unsigned char	 b[24];
	int		 rc = -1;

	*w = *h = 0;
	if (strcmp(mime, "image/png") == 0) {
		if (full(rd, ctx, b, 24, 0) == 0 &&
		    memcmp(b + 12, "IHDR", 4) == 0) {
			*w = BE32(b + 16);
			*h = BE32(b + 20);
			rc = 0;
		}
	} else if (strcmp(mime, "image/gif") == 0) {
		if (full(rd, ctx, b, 10, 0) == 0 &&
		    memcmp(b, "GIF", 3) == 0) {
			*w = LE16(b + 6);
			*h = LE16(b + 8);
			rc = 0;
		}
	} else if (strcmp(mime, "image/jpeg") == 0)
		rc = jpeg_dims(rd, ctx, w, h);
	else if (strcmp(mime, "image/webp") == 0)
		rc = webp_dims(rd, ctx, w, h);
	if (rc != 0 || *w == 0 || *h == 0 || *w > 0x7fffffff ||
	    *h > 0x7fffffff) {
		*w = *h = 0;
		return -1;
	}
	return 0;
}

/* One code point of strict UTF-8 at *pp, advancing it; -1 when malformed. */
long
media_utf8_next(const unsigned char **pp)
{
	const unsigned char *p = *pp;
	unsigned long	 c;
	int		 k, i;

	if (*p < 0x80) {
		*pp = p + 1;
		return *p;
	}
	if (*p >= 0xc2 && *p <= 0xdf)
		k = 1, c = *p & 0x1f;
	else if (*p >= 0xe0 && *p <= 0xef)
		k = 2, c = *p & 0x0f;
	else if (*p >= 0xf0 && *p <= 0xf4)
		k = 3, c = *p & 0x07;
	else
		return -1;
	for (i = 1; i <= k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((k == 2 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (k == 3 && (c < 0x10000 || c > 0x10ffff)))
		return -1;
	*pp = p + k + 1;
	return (long)c;
}

/*
 * NULL when s is well-formed UTF-8 of at most maxlen code points with no
 * control characters (newlines and tabs allowed when multiline); else why.
 */
const char *
media_valid_text(const char *s, size_t maxlen, int multiline)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t		 n = 0;
	long		 c;

	while (*p != '\0') {
		if ((c = media_utf8_next(&p)) < 0)
			return "must be UTF-8";
		/* C0, DEL and C1 (NEL, CSI and the like) */
		if ((c < 0x20 || (c >= 0x7f && c < 0xa0)) && !(multiline &&
		    (c == '\n' || c == '\r' || c == '\t')))
			return "must not contain control characters";
		if (++n > maxlen)
			return "is too long";
	}
	return NULL;
}

/*
 * What a browser could run or misread: anything but the types we take
 * (an SVG is an image that runs scripts), sent only as an attachment.
 */
int
media_risky(const char *mime)
{
	size_t	 i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(mime, types[i].mime) == 0)
			return 0;
	return 1;
}

/*
 * Content-Disposition with an ASCII fallback name and the real one in
 * filename* (RFC 6266, RFC 5987): nothing of the name can end the header,
 * the parameter or name a folder.  Only the file name's last component is
 * kept.
 */
char *
media_disposition(struct gh_arena *a, const char *mime, const char *filename,
    int attachment)
{
	static const char attr[] = "!#$&+-.^_`|~";
	const unsigned char *p;
	char		*ascii, *ext, *o;
	size_t		 len, i;

	/* The last component only: a name is never a path for the client. */
	for (p = (const unsigned char *)filename; p != NULL && *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			filename = (const char *)p + 1;
	if (filename == NULL || *filename == '\0' ||
	    strcmp(filename, ".") == 0 || strcmp(filename, "..") == 0)
		filename = "file";
	len = strlen(filename);
	if ((ascii = gh_alloc(a, len + 1)) == NULL ||
	    (ext = gh_alloc(a, len * 3 + 1)) == NULL)
		return NULL;
	for (p = (const unsigned char *)filename, i = 0, o = ext; *p != '\0';
	    p++, i++) {
		ascii[i] = (*p >= 0x20 && *p < 0x7f && *p != '"' &&
		    *p != '\\' && *p != '/' && *p != '%' && *p != ';') ?
		    (char)*p : '_';
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(attr, *p) != NULL)
			*o++ = (char)*p;
		else
			o += sprintf(o, "%%%02X", *p);
	}
	ascii[i] = '\0';
	*o = '\0';
	return gh_printf(a, "%s; filename=\"%s\"; filename*=UTF-8''%s",
	    attachment || media_risky(mime) ? "attachment" : "inline", ascii,
	    ext);
}

/*
 * If-None-Match (RFC 9110 13.1.2) against an entity tag that is the
 * quoted 64 hex digits of a content's SHA-256: weak comparison, "*" or a
 * list.
 */
int
media_etag_matches(const char *inm, const char *hex)
{
	const char	*p = inm, *e;
	size_t		 len;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		e = p + strcspn(p, ",");
		len = (size_t)(e - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 66 && p[0] == '"' && p[65] == '"' &&
		    strncmp(p + 1, hex, 64) == 0)
			return 1;
		p = e;
	}
	return 0;
}
