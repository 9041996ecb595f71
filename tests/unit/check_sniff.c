/* The media service's pure functions: types from bytes, names, sizes, text. */
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "unit.h"
#include "sniff.h"

/*
 * The type of len bytes, sniffed from a heap copy of exactly that size so
 * that a read past the end shows under ASan and valgrind.
 */
static const char *
mime_of(const void *bytes, size_t len)
{
	const struct media_type *t;
	unsigned char	*copy;

	copy = malloc(len == 0 ? 1 : len);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, bytes, len);
	t = media_sniff(copy, len);
	free(copy);
	return t == NULL ? NULL : t->mime;
}

#define SNIFF(lit)	mime_of(lit, sizeof(lit) - 1)

static const struct media_type *
type_of(const char *lit, size_t len)
{
	const struct media_type *t = media_sniff((const unsigned char *)lit,
	    len);

	ck_assert_ptr_nonnull(t);
	return t;
}

#define TYPE(lit)	type_of(lit, sizeof(lit) - 1)

/* Files in memory for media_dimensions, with the reads counted. */
struct mem {
	const unsigned char *b;
	size_t		 len;
	int		 reads;
};

static ssize_t
mem_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct mem	*m = ctx;

	m->reads++;
	if (off >= m->len)
		return 0;
	if (len > m->len - off)
		len = m->len - off;
	memcpy(buf, m->b + off, len);
	return (ssize_t)len;
}

static uint32_t	 W, H;
static int	 READS;

static int
dims(const char *mime, const void *bytes, size_t len)
{
	struct mem	 m = { bytes, len, 0 };
	int		 rc;

	W = H = 12345;
	rc = media_dimensions(mime, mem_pread, &m, &W, &H);
	READS = m.reads;
	return rc;
}

#define DIMS(mime, lit)	dims(mime, lit, sizeof(lit) - 1)

/* The small files of tests/integration/t_media.sh's mkfile. */
static const char PNG_3x2[] = "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x03"
    "\0\0\0\x02\x08\x02\0\0\0\x12\x16\xf1\x4d";
static const char GIF_5x4[] = "GIF89a\x05\x00\x04\x00\x80\x00\x00";
static const char JPEG_9x7[] = "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01"
    "\x00\x00\x01\x00\x01\x00\x00\xff\xc0\x00\x11\x08\x00\x07\x00\x09\x03"
    "\x01\x22\x00\x02\x11\x01\x03\x11\x01\xff\xd9";
static const char WEBP_VP8L_1x1[] = "RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00"
    "\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00";
/* Lossy 640 x 480, the scale bits set (they are not part of the size). */
static const char WEBP_VP8_640x480[] = "RIFF\x24\x00\x00\x00WEBPVP8 \x18"
    "\x00\x00\x00\x30\x01\x00\x9d\x01\x2a\x80\x42\xe0\xc1\x00\x00\x00\x00";
/* Extended, canvas 1024 x 768. */
static const char WEBP_VP8X_1024x768[] = "RIFF\x24\x00\x00\x00WEBPVP8X\x0a"
    "\x00\x00\x00\x10\x00\x00\x00\xff\x03\x00\xff\x02\x00";

START_TEST(images_from_magic)
{
	ck_assert_pstr_eq(SNIFF(JPEG_9x7), "image/jpeg");
	ck_assert_pstr_eq(SNIFF("\xff\xd8\xff\xe1\x12\x34" "Exif"), "image/jpeg");
	ck_assert_pstr_eq(SNIFF("\xff\xd8\xff\xdb\x00\x43"), "image/jpeg");
	ck_assert_pstr_eq(SNIFF(PNG_3x2), "image/png");
	ck_assert_pstr_eq(SNIFF("GIF87a\x01\x00\x01\x00"), "image/gif");
	ck_assert_pstr_eq(SNIFF("GIF89a\x01\x00\x01\x00"), "image/gif");
	ck_assert_pstr_eq(SNIFF(WEBP_VP8_640x480), "image/webp");
	ck_assert_pstr_eq(SNIFF(WEBP_VP8L_1x1), "image/webp");
	ck_assert_pstr_eq(SNIFF(WEBP_VP8X_1024x768), "image/webp");
}
END_TEST

START_TEST(video_and_audio_from_magic)
{
	ck_assert_pstr_eq(SNIFF("\x00\x00\x00\x18" "ftypisom\x00\x00\x02\x00"
	    "isommp41"), "video/mp4");
	ck_assert_pstr_eq(SNIFF("\x00\x00\x00\x1c" "ftypmp42\x00\x00\x00\x00"
	    "mp42isom"), "video/mp4");
	ck_assert_pstr_eq(SNIFF("\x00\x00\x00\x14" "ftypM4V \x00\x00\x00\x01"
	    "M4V "), "video/mp4");
	ck_assert_pstr_eq(SNIFF("\x00\x00\x00\x18" "ftypM4A \x00\x00\x02\x00"
	    "M4A isom"), "audio/mp4");
	ck_assert_pstr_eq(SNIFF("\x00\x00\x00\x14" "ftypM4B \x00\x00\x02\x00"
	    "M4B "), "audio/mp4");
	/* EBML header: the DocType element (0x4282) says webm or matroska. */
	ck_assert_pstr_eq(SNIFF("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7"
	    "\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm\x42\x87"
	    "\x81\x04"), "video/webm");
	ck_assert_pstr_eq(SNIFF("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7"
	    "\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x88matroska"
	    "\x42\x87\x81\x04"), NULL);
	/* MP3: an ID3v2 tag, or a bare MPEG-1 layer III frame. */
	ck_assert_pstr_eq(SNIFF("ID3\x03\x00\x00\x00\x00\x00\x00\xff\xfb\x90"
	    "\x64"), "audio/mpeg");
	ck_assert_pstr_eq(SNIFF("ID3\x04\x00\x00\x00\x00\x02\x01"),
	    "audio/mpeg");
	ck_assert_pstr_eq(SNIFF("\xff\xfb\x90\x64\x00\x00"), "audio/mpeg");
	ck_assert_pstr_eq(SNIFF("\xff\xf3\x48\xc4\x00\x00"), "audio/mpeg");
	/* Ogg: the codec of the first stream decides audio or video. */
	ck_assert_pstr_eq(SNIFF("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00"
	    "\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1e\x01"
	    "vorbis\x00\x00"), "audio/ogg");
	ck_assert_pstr_eq(SNIFF("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00"
	    "\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x13"
	    "OpusHead\x01\x02"), "audio/ogg");
	ck_assert_pstr_eq(SNIFF("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00"
	    "\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x2a"
	    "\x80theora\x03\x02"), "video/ogg");
	ck_assert_pstr_eq(SNIFF("%PDF-1.4\n1 0 obj"), "application/pdf");
	ck_assert_pstr_eq(SNIFF("%PDF-2.0\n"), "application/pdf");
}
END_TEST

START_TEST(other_content_refused)
{
	ck_assert_pstr_eq(SNIFF("\x7f" "ELF\x02\x01\x01\x00\x00\x00\x00\x00"
	    "\x00\x00\x00\x00\x02\x00\x3e\x00"), NULL);
	ck_assert_pstr_eq(SNIFF("<!DOCTYPE html><html><script>alert(1)"
	    "</script>"), NULL);
	ck_assert_pstr_eq(SNIFF("<svg xmlns=\"http://www.w3.org/2000/svg\">"
	    "<script>alert(1)</script></svg>"), NULL);
	ck_assert_pstr_eq(SNIFF("<?xml version=\"1.0\"?><svg/>"), NULL);
	ck_assert_pstr_eq(SNIFF("hello, I am plain text\n"), NULL);
	ck_assert_pstr_eq(SNIFF("PK\x03\x04\x14\x00\x00\x00"), NULL);
	ck_assert_pstr_eq(SNIFF("MZ\x90\x00\x03\x00\x00\x00"), NULL);
	ck_assert_pstr_eq(SNIFF("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00"), NULL);
	ck_assert_pstr_eq(SNIFF("RIFF\x24\x00\x00\x00WEBPVP8Z\x10\x00"), NULL);
	ck_assert_pstr_eq(SNIFF("GIF88a\x01\x00\x01\x00"), NULL);
	ck_assert_ptr_null(media_sniff(NULL, 0));
	ck_assert_pstr_eq(mime_of("", 0), NULL);
}
END_TEST

/* HEIF, AVIF, QuickTime, 3GPP and made-up brands share the ftyp box. */
START_TEST(ftyp_brands_refused)
{
	ck_assert_pstr_eq(SNIFF("\x00\x00\x00\x18" "ftypheic\x00\x00\x00\x00"
	    "mif1heic"), NULL);
	ck_assert_pstr_eq(SNIFF("\x00\x00\x00\x1c" "ftypavif\x00\x00\x00\x00"
	    "avifmif1miaf"), NULL);
	ck_assert_pstr_eq(SNIFF("\x00\x00\x00\x14" "ftypqt  \x00\x00\x02\x00"
	    "qt  "), NULL);
	ck_assert_pstr_eq(SNIFF("\x00\x00\x00\x14" "ftyp3gp4\x00\x00\x02\x00"
	    "3gp4"), NULL);
	ck_assert_pstr_eq(SNIFF("\x00\x00\x00\x14" "ftypzzzz\x00\x00\x00\x00"
	    "isom"), NULL);
	ck_assert_pstr_eq(SNIFF("\x00\x00\x00\x14" "ftypISOM\x00\x00\x00\x00"
	    "isom"), NULL);
	/* A box too small to be an ftyp. */
	ck_assert_pstr_eq(SNIFF("\x00\x00\x00\x08" "ftypisom\x00\x00\x02\x00"
	    "isom"), NULL);
}
END_TEST

/* Each header cut short of what decides it. */
START_TEST(truncated_headers_refused)
{
	ck_assert_pstr_eq(SNIFF("\xff\xd8\xff"), NULL);
	ck_assert_pstr_eq(SNIFF("\xff\xd8"), NULL);
	ck_assert_pstr_eq(SNIFF("\xff\xd8\xff\x00"), NULL);
	ck_assert_pstr_eq(mime_of(PNG_3x2, 8), NULL);
	ck_assert_pstr_eq(mime_of(PNG_3x2, 15), NULL);
	ck_assert_pstr_eq(mime_of(PNG_3x2, 16), "image/png");
	ck_assert_pstr_eq(SNIFF("GIF89"), NULL);
	ck_assert_pstr_eq(SNIFF("RIFF\x1a\x00\x00\x00WEBP"), NULL);
	ck_assert_pstr_eq(mime_of(WEBP_VP8L_1x1, 15), NULL);
	ck_assert_pstr_eq(mime_of(WEBP_VP8L_1x1, 16), "image/webp");
	ck_assert_pstr_eq(SNIFF("\x00\x00\x00\x18" "ftypiso"), NULL);
	ck_assert_pstr_eq(SNIFF("\x00\x00\x00\x18" "ftypisom\x00\x00"), NULL);
	ck_assert_pstr_eq(SNIFF("\x1a\x45\xdf\xa3\x9f\x42\x86"), NULL);
	ck_assert_pstr_eq(SNIFF("ID3"), NULL);
	ck_assert_pstr_eq(SNIFF("ID3\x03\x00\x00\x00\x00\x00"), NULL);
	ck_assert_pstr_eq(SNIFF("\xff\xfb\x90"), NULL);
	ck_assert_pstr_eq(SNIFF("OggS\x00\x02"), NULL);
	ck_assert_pstr_eq(SNIFF("%PDF"), NULL);
}
END_TEST

/* Near misses of the audio magic numbers. */
START_TEST(mp3_near_misses_refused)
{
	/* ID3 version 5, a version of 0xff, a size byte over 0x7f. */
	ck_assert_pstr_eq(SNIFF("ID3\x05\x00\x00\x00\x00\x00\x00\xff\xfb"),
	    NULL);
	ck_assert_pstr_eq(SNIFF("ID3\x03\xff\x00\x00\x00\x00\x00\xff\xfb"),
	    NULL);
	ck_assert_pstr_eq(SNIFF("ID3\x03\x00\x00\x00\x80\x00\x00\xff\xfb"),
	    NULL);
	/* Layer II; the reserved version; a free and a bad bit rate; the
	 * reserved sampling rate. */
	ck_assert_pstr_eq(SNIFF("\xff\xfd\x90\x64"), NULL);
	ck_assert_pstr_eq(SNIFF("\xff\xeb\x90\x64"), NULL);
	ck_assert_pstr_eq(SNIFF("\xff\xfb\x00\x64"), NULL);
	ck_assert_pstr_eq(SNIFF("\xff\xfb\xf0\x64"), NULL);
	ck_assert_pstr_eq(SNIFF("\xff\xfb\x9c\x64"), NULL);
	/* Ogg whose first stream is none of the codecs taken. */
	ck_assert_pstr_eq(SNIFF("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00"
	    "\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1e"
	    "\x80kate\x00\x00\x00"), NULL);
}
END_TEST

START_TEST(declared_type_must_agree)
{
	const struct media_type *png = TYPE(PNG_3x2);
	const struct media_type *jpg = TYPE(JPEG_9x7);
	const struct media_type *mp3 = TYPE("\xff\xfb\x90\x64");
	const struct media_type *oga = TYPE("OggS\x00\x02\x00\x00\x00\x00\x00"
	    "\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
	    "\x1e\x01vorbis");

	ck_assert_int_eq(media_declared_ok(png, "image/png"), 1);
	ck_assert_int_eq(media_declared_ok(png, "IMAGE/PNG"), 1);
	ck_assert_int_eq(media_declared_ok(png, "image/x-png"), 1);
	ck_assert_int_eq(media_declared_ok(png, "image/png; charset=binary"),
	    1);
	ck_assert_int_eq(media_declared_ok(png, "  image/png"), 1);
	/* Nothing declared, or "I do not know", agrees with any type. */
	ck_assert_int_eq(media_declared_ok(png, NULL), 1);
	ck_assert_int_eq(media_declared_ok(png, ""), 1);
	ck_assert_int_eq(media_declared_ok(png, "application/octet-stream"),
	    1);
	ck_assert_int_eq(media_declared_ok(png,
	    "Application/Octet-Stream; x=y"), 1);
	ck_assert_int_eq(media_declared_ok(png, "image/jpeg"), 0);
	ck_assert_int_eq(media_declared_ok(png, "image/pngx"), 0);
	ck_assert_int_eq(media_declared_ok(png, "image/pn"), 0);
	ck_assert_int_eq(media_declared_ok(png, "image"), 0);
	ck_assert_int_eq(media_declared_ok(png, "text/html"), 0);
	ck_assert_int_eq(media_declared_ok(png,
	    "application/octet-streamx"), 0);
	ck_assert_int_eq(media_declared_ok(png,
	    "application/x-www-form-urlencoded"), 0);
	ck_assert_int_eq(media_declared_ok(jpg, "image/jpg"), 1);
	ck_assert_int_eq(media_declared_ok(jpg, "image/pjpeg"), 1);
	ck_assert_int_eq(media_declared_ok(jpg, "image/jp"), 0);
	/* An alias is whole: no part of one matches. */
	ck_assert_int_eq(media_declared_ok(jpg, "image/pjpe"), 0);
	ck_assert_int_eq(media_declared_ok(jpg, "image/png"), 0);
	ck_assert_int_eq(media_declared_ok(mp3, "audio/mp3"), 1);
	ck_assert_int_eq(media_declared_ok(mp3, "audio/x-mpeg"), 1);
	ck_assert_int_eq(media_declared_ok(mp3, "audio/ogg"), 0);
	ck_assert_int_eq(media_declared_ok(oga, "application/ogg"), 1);
	ck_assert_int_eq(media_declared_ok(oga, "video/ogg"), 0);
}
END_TEST

START_TEST(extension_must_fit)
{
	const struct media_type *png = TYPE(PNG_3x2);
	const struct media_type *jpg = TYPE(JPEG_9x7);
	const struct media_type *pdf = TYPE("%PDF-1.4");

	ck_assert_int_eq(media_ext_ok(jpg, "a.jpg"), 1);
	ck_assert_int_eq(media_ext_ok(jpg, "a.JPEG"), 1);
	ck_assert_int_eq(media_ext_ok(jpg, "a.jfif"), 1);
	ck_assert_int_eq(media_ext_ok(jpg, "holiday.2024.jpe"), 1);
	ck_assert_int_eq(media_ext_ok(png, "x.PNG"), 1);
	ck_assert_int_eq(media_ext_ok(pdf, "report.pdf"), 1);
	/* No extension to judge. */
	ck_assert_int_eq(media_ext_ok(jpg, NULL), 1);
	ck_assert_int_eq(media_ext_ok(jpg, "noext"), 1);
	ck_assert_int_eq(media_ext_ok(jpg, "dot."), 1);
	ck_assert_int_eq(media_ext_ok(jpg, ".hidden"), 1);
	ck_assert_int_eq(media_ext_ok(jpg, "a.png"), 0);
	ck_assert_int_eq(media_ext_ok(jpg, "a.jpg.exe"), 0);
	ck_assert_int_eq(media_ext_ok(jpg, "a.jp"), 0);
	ck_assert_int_eq(media_ext_ok(jpg, "a.jpgg"), 0);
	ck_assert_int_eq(media_ext_ok(png, "a.html"), 0);
	ck_assert_int_eq(media_ext_ok(png, "a.svg"), 0);
	ck_assert_int_eq(media_ext_ok(pdf, "report.pdf.html"), 0);
}
END_TEST

START_TEST(dimensions_png_gif)
{
	char	 buf[64];

	ck_assert_int_eq(DIMS("image/png", PNG_3x2), 0);
	ck_assert_uint_eq(W, 3);
	ck_assert_uint_eq(H, 2);
	ck_assert_int_eq(DIMS("image/gif", GIF_5x4), 0);
	ck_assert_uint_eq(W, 5);
	ck_assert_uint_eq(H, 4);
	/* Cut short, zero, or past what an integer column holds: none. */
	ck_assert_int_eq(dims("image/png", PNG_3x2, 23), -1);
	ck_assert_uint_eq(W, 0);
	ck_assert_uint_eq(H, 0);
	ck_assert_int_eq(dims("image/gif", GIF_5x4, 9), -1);
	ck_assert_uint_eq(W, 0);
	memcpy(buf, PNG_3x2, sizeof(PNG_3x2));
	memcpy(buf + 16, "\0\0\0\0", 4);
	ck_assert_int_eq(dims("image/png", buf, sizeof(PNG_3x2) - 1), -1);
	ck_assert_uint_eq(H, 0);
	memcpy(buf + 16, "\x80\0\0\0", 4);
	ck_assert_int_eq(dims("image/png", buf, sizeof(PNG_3x2) - 1), -1);
	ck_assert_uint_eq(W, 0);
	memcpy(buf + 16, "\x7f\xff\xff\xff", 4);
	ck_assert_int_eq(dims("image/png", buf, sizeof(PNG_3x2) - 1), 0);
	ck_assert_uint_eq(W, 0x7fffffff);
	memcpy(buf, GIF_5x4, sizeof(GIF_5x4));
	buf[8] = buf[9] = 0;
	ck_assert_int_eq(dims("image/gif", buf, sizeof(GIF_5x4) - 1), -1);
	ck_assert_uint_eq(W, 0);
	/* Types without dimensions, or another type's bytes. */
	ck_assert_int_eq(DIMS("application/pdf", "%PDF-1.4\n"), -1);
	ck_assert_uint_eq(W, 0);
	ck_assert_uint_eq(H, 0);
	ck_assert_int_eq(DIMS("image/png", GIF_5x4), -1);
	ck_assert_int_eq(DIMS("image/gif", JPEG_9x7), -1);
}
END_TEST

START_TEST(dimensions_jpeg)
{
	ck_assert_int_eq(DIMS("image/jpeg", JPEG_9x7), 0);
	ck_assert_uint_eq(W, 9);
	ck_assert_uint_eq(H, 7);
	/* Exif, DQT and DHT before a progressive SOF2; fill bytes too. */
	ck_assert_int_eq(DIMS("image/jpeg", "\xff\xd8"
	    "\xff\xe1\x00\x08" "Exif\x00\x00"
	    "\xff\xdb\x00\x04\x00\x01"
	    "\xff\xc4\x00\x03\x00"
	    "\xff\xff\xff"
	    "\xff\xc2\x00\x11\x08\x01\xe0\x02\x80\x03\x01\x22\x00\x02\x11\x01"
	    "\x03\x11\x01"
	    "\xff\xda\x00\x0c"), 0);
	ck_assert_uint_eq(W, 640);
	ck_assert_uint_eq(H, 480);
	/* Standalone markers (RSTn, TEM) have no length. */
	ck_assert_int_eq(DIMS("image/jpeg", "\xff\xd8\xff\xd0\xff\x01"
	    "\xff\xc1\x00\x0b\x08\x00\x20\x00\x10\x01\x01\x11\x00"), 0);
	ck_assert_uint_eq(W, 16);
	ck_assert_uint_eq(H, 32);
	/* DHT (c4), JPG (c8) and DAC (cc) are in the range but no SOF. */
	ck_assert_int_eq(DIMS("image/jpeg", "\xff\xd8"
	    "\xff\xcc\x00\x09\x08\x00\x05\x00\x05\x01\x01"
	    "\xff\xc0\x00\x0b\x08\x00\x02\x00\x04\x01\x01\x11\x00"), 0);
	ck_assert_uint_eq(W, 4);
	ck_assert_uint_eq(H, 2);
}
END_TEST

START_TEST(dimensions_jpeg_bogus)
{
	static unsigned char big[100000];
	size_t	 i;

	/* Segment lengths of 0 and 1 would not move on. */
	ck_assert_int_eq(DIMS("image/jpeg", "\xff\xd8\xff\xe0\x00\x00"
	    "\xff\xc0\x00\x11\x08\x00\x07\x00\x09"), -1);
	ck_assert_uint_eq(W, 0);
	ck_assert_int_eq(DIMS("image/jpeg", "\xff\xd8\xff\xe0\x00\x01"
	    "\xff\xc0\x00\x11\x08\x00\x07\x00\x09"), -1);
	/* A length past the end of the file. */
	ck_assert_int_eq(DIMS("image/jpeg", "\xff\xd8\xff\xe0\xff\xf0"
	    "\xff\xc0\x00\x11\x08\x00\x07\x00\x09"), -1);
	ck_assert_int_le(READS, 3);
	/* A length landing off a marker. */
	ck_assert_int_eq(DIMS("image/jpeg", "\xff\xd8\xff\xe0\x00\x03"
	    "\xff\xc0\x00\x11\x08\x00\x07\x00\x09"), -1);
	/* The scan before any frame header; EOI; a SOF too short. */
	ck_assert_int_eq(DIMS("image/jpeg", "\xff\xd8\xff\xda\x00\x0c"
	    "\xff\xc0\x00\x11\x08\x00\x07\x00\x09"), -1);
	ck_assert_int_eq(DIMS("image/jpeg", "\xff\xd8\xff\xd9"
	    "\xff\xc0\x00\x11\x08\x00\x07\x00\x09"), -1);
	ck_assert_int_eq(DIMS("image/jpeg", "\xff\xd8\xff\xc0\x00\x02"
	    "\xff\xc0\x00\x11\x08\x00\x07\x00\x09"), -1);
	/* A SOF cut short, and one of zero size. */
	ck_assert_int_eq(DIMS("image/jpeg", "\xff\xd8\xff\xc0\x00\x11\x08"
	    "\x00\x07\x00"), -1);
	ck_assert_int_eq(DIMS("image/jpeg", "\xff\xd8\xff\xc0\x00\x11\x08"
	    "\x00\x00\x00\x09\x03"), -1);
	ck_assert_uint_eq(W, 0);
	ck_assert_uint_eq(H, 0);
	/* Only SOI, or nothing. */
	ck_assert_int_eq(DIMS("image/jpeg", "\xff\xd8"), -1);
	ck_assert_int_eq(DIMS("image/jpeg", ""), -1);
	/* Endless fill bytes, and endless RSTn markers: the walk gives up
	 * after a bounded number of reads. */
	memset(big, 0xff, sizeof(big));
	big[1] = 0xd8;
	ck_assert_int_eq(dims("image/jpeg", big, sizeof(big)), -1);
	ck_assert_int_le(READS, 1001);
	for (i = 2; i + 1 < sizeof(big); i += 2) {
		big[i] = 0xff;
		big[i + 1] = 0xd0 + (i / 2) % 8;
	}
	ck_assert_int_eq(dims("image/jpeg", big, sizeof(big)), -1);
	ck_assert_int_le(READS, 1001);
	/* Maximal segments hopping to the end of a file all of APPn. */
	for (i = 2; i + 4 <= sizeof(big); i += 0xffff + 2) {
		big[i] = 0xff;
		big[i + 1] = 0xe1;
		big[i + 2] = 0xff;
		big[i + 3] = 0xff;
	}
	ck_assert_int_eq(dims("image/jpeg", big, sizeof(big)), -1);
	ck_assert_int_le(READS, 3);
}
END_TEST

START_TEST(dimensions_webp)
{
	char	 buf[64];

	ck_assert_int_eq(DIMS("image/webp", WEBP_VP8L_1x1), 0);
	ck_assert_uint_eq(W, 1);
	ck_assert_uint_eq(H, 1);
	ck_assert_int_eq(DIMS("image/webp", WEBP_VP8_640x480), 0);
	ck_assert_uint_eq(W, 640);
	ck_assert_uint_eq(H, 480);
	ck_assert_int_eq(DIMS("image/webp", WEBP_VP8X_1024x768), 0);
	ck_assert_uint_eq(W, 1024);
	ck_assert_uint_eq(H, 768);
	/* Lossless 400 x 300: 14-bit sizes less one, then alpha, version. */
	memcpy(buf, WEBP_VP8L_1x1, sizeof(WEBP_VP8L_1x1));
	buf[21] = (char)0x8f;		/* 399 = 0x18f, 299 = 0x12b */
	buf[22] = (char)0xc1;
	buf[23] = (char)0x4a;
	buf[24] = (char)0x10;
	ck_assert_int_eq(dims("image/webp", buf, sizeof(WEBP_VP8L_1x1) - 1),
	    0);
	ck_assert_uint_eq(W, 400);
	ck_assert_uint_eq(H, 300);
	/* The largest canvas: 2^24 a side. */
	memcpy(buf, WEBP_VP8X_1024x768, sizeof(WEBP_VP8X_1024x768));
	memset(buf + 24, 0xff, 6);
	ck_assert_int_eq(dims("image/webp", buf,
	    sizeof(WEBP_VP8X_1024x768) - 1), 0);
	ck_assert_uint_eq(W, 16777216);
	ck_assert_uint_eq(H, 16777216);
}
END_TEST

START_TEST(dimensions_webp_bogus)
{
	char	 buf[64];

	/* Cut short of the sizes. */
	ck_assert_int_eq(dims("image/webp", WEBP_VP8X_1024x768, 29), -1);
	ck_assert_uint_eq(W, 0);
	ck_assert_int_eq(dims("image/webp", WEBP_VP8L_1x1, 24), -1);
	/* Lossy: an inter frame, a wrong start code, a zero width. */
	memcpy(buf, WEBP_VP8_640x480, sizeof(WEBP_VP8_640x480));
	buf[20] |= 1;
	ck_assert_int_eq(dims("image/webp", buf, sizeof(WEBP_VP8_640x480) - 1),
	    -1);
	memcpy(buf, WEBP_VP8_640x480, sizeof(WEBP_VP8_640x480));
	buf[24] = 0x02;
	ck_assert_int_eq(dims("image/webp", buf, sizeof(WEBP_VP8_640x480) - 1),
	    -1);
	memcpy(buf, WEBP_VP8_640x480, sizeof(WEBP_VP8_640x480));
	buf[26] = 0;
	buf[27] = (char)0xc0;		/* only the scale bits */
	ck_assert_int_eq(dims("image/webp", buf, sizeof(WEBP_VP8_640x480) - 1),
	    -1);
	ck_assert_uint_eq(W, 0);
	ck_assert_uint_eq(H, 0);
	/* Lossless: no 0x2f signature; a version other than 0. */
	memcpy(buf, WEBP_VP8L_1x1, sizeof(WEBP_VP8L_1x1));
	buf[20] = 0x2e;
	ck_assert_int_eq(dims("image/webp", buf, sizeof(WEBP_VP8L_1x1) - 1),
	    -1);
	memcpy(buf, WEBP_VP8L_1x1, sizeof(WEBP_VP8L_1x1));
	buf[24] = 0x30;
	ck_assert_int_eq(dims("image/webp", buf, sizeof(WEBP_VP8L_1x1) - 1),
	    -1);
	/* Another chunk first; not a RIFF at all. */
	memcpy(buf, WEBP_VP8L_1x1, sizeof(WEBP_VP8L_1x1));
	buf[15] = 'Z';
	ck_assert_int_eq(dims("image/webp", buf, sizeof(WEBP_VP8L_1x1) - 1),
	    -1);
	ck_assert_int_eq(DIMS("image/webp", PNG_3x2), -1);
}
END_TEST

START_TEST(text_validity)
{
	ck_assert_pstr_eq(media_valid_text("", 10, 0), NULL);
	ck_assert_pstr_eq(media_valid_text("Sunset over the bay", 200, 0),
	    NULL);
	ck_assert_pstr_eq(media_valid_text("caf\xc3\xa9 \xe2\x82\xac "
	    "\xf0\x9f\x98\x80", 200, 0), NULL);
	/* Line ends and tabs only where lines are. */
	ck_assert_pstr_eq(media_valid_text("a\tb", 10, 0),
	    "must not contain control characters");
	ck_assert_pstr_eq(media_valid_text("a\tb", 10, 1), NULL);
	ck_assert_pstr_eq(media_valid_text("one\r\ntwo", 10, 0),
	    "must not contain control characters");
	ck_assert_pstr_eq(media_valid_text("one\r\ntwo", 10, 1), NULL);
	ck_assert_pstr_eq(media_valid_text("a\x01", 10, 1),
	    "must not contain control characters");
	ck_assert_pstr_eq(media_valid_text("a\x1b[31m", 10, 1),
	    "must not contain control characters");
	ck_assert_pstr_eq(media_valid_text("a\x7f", 10, 1),
	    "must not contain control characters");
	/* C1 controls (NEL, CSI) are control characters in UTF-8 too. */
	ck_assert_pstr_eq(media_valid_text("a\xc2\x85" "b", 10, 1),
	    "must not contain control characters");
	ck_assert_pstr_eq(media_valid_text("\xc2\x9b" "31m", 10, 1),
	    "must not contain control characters");
	ck_assert_pstr_eq(media_valid_text("\xc2\xa0", 10, 0), NULL);
	/* Malformed: a lone continuation, a cut sequence, overlongs,
	 * surrogates, past U+10FFFF, bytes never in UTF-8. */
	ck_assert_pstr_eq(media_valid_text("\x80", 10, 0), "must be UTF-8");
	ck_assert_pstr_eq(media_valid_text("ab\xe2\x82", 10, 0),
	    "must be UTF-8");
	ck_assert_pstr_eq(media_valid_text("\xe2\x82x", 10, 0),
	    "must be UTF-8");
	ck_assert_pstr_eq(media_valid_text("\xc0\xaf", 10, 0),
	    "must be UTF-8");
	ck_assert_pstr_eq(media_valid_text("\xc1\xbf", 10, 0),
	    "must be UTF-8");
	ck_assert_pstr_eq(media_valid_text("\xe0\x80\xaf", 10, 0),
	    "must be UTF-8");
	ck_assert_pstr_eq(media_valid_text("\xf0\x80\x80\xaf", 10, 0),
	    "must be UTF-8");
	ck_assert_pstr_eq(media_valid_text("\xed\xa0\x80", 10, 0),
	    "must be UTF-8");
	ck_assert_pstr_eq(media_valid_text("\xed\xbf\xbf", 10, 0),
	    "must be UTF-8");
	ck_assert_pstr_eq(media_valid_text("\xf4\x90\x80\x80", 10, 0),
	    "must be UTF-8");
	ck_assert_pstr_eq(media_valid_text("\xf5\x80\x80\x80", 10, 0),
	    "must be UTF-8");
	ck_assert_pstr_eq(media_valid_text("\xff\xfe", 10, 0),
	    "must be UTF-8");
	/* The largest code point, and the last before the surrogates. */
	ck_assert_pstr_eq(media_valid_text("\xf4\x8f\xbf\xbf", 1, 0), NULL);
	ck_assert_pstr_eq(media_valid_text("\xed\x9f\xbf", 1, 0), NULL);
}
END_TEST

/* The limit is in code points, not bytes. */
START_TEST(text_length_in_code_points)
{
	ck_assert_pstr_eq(media_valid_text("abc", 3, 0), NULL);
	ck_assert_pstr_eq(media_valid_text("abcd", 3, 0), "is too long");
	ck_assert_pstr_eq(media_valid_text("\xc3\xa9\xc3\xa9\xc3\xa9", 3, 0),
	    NULL);
	ck_assert_pstr_eq(media_valid_text("\xc3\xa9\xc3\xa9\xc3\xa9", 2, 0),
	    "is too long");
	ck_assert_pstr_eq(media_valid_text("\xf0\x9f\x98\x80\xf0\x9f\x98\x80",
	    2, 0), NULL);
	ck_assert_pstr_eq(media_valid_text("\xf0\x9f\x98\x80\xf0\x9f\x98\x80",
	    1, 0), "is too long");
	ck_assert_pstr_eq(media_valid_text("a\nb", 3, 1), NULL);
	ck_assert_pstr_eq(media_valid_text("a\nbc", 3, 1), "is too long");
	ck_assert_pstr_eq(media_valid_text("x", 0, 0), "is too long");
}
END_TEST

START_TEST(risky_types)
{
	ck_assert_int_eq(media_risky("image/png"), 0);
	ck_assert_int_eq(media_risky("image/jpeg"), 0);
	ck_assert_int_eq(media_risky("image/webp"), 0);
	ck_assert_int_eq(media_risky("video/mp4"), 0);
	ck_assert_int_eq(media_risky("video/webm"), 0);
	ck_assert_int_eq(media_risky("audio/mpeg"), 0);
	ck_assert_int_eq(media_risky("audio/ogg"), 0);
	ck_assert_int_eq(media_risky("application/pdf"), 0);
	/* Scripts in an image, markup, and anything not taken. */
	ck_assert_int_eq(media_risky("image/svg+xml"), 1);
	ck_assert_int_eq(media_risky("text/html"), 1);
	ck_assert_int_eq(media_risky("application/xhtml+xml"), 1);
	ck_assert_int_eq(media_risky("text/plain"), 1);
	ck_assert_int_eq(media_risky("application/octet-stream"), 1);
	ck_assert_int_eq(media_risky("image/"), 1);
	ck_assert_int_eq(media_risky("image/png2"), 1);
	ck_assert_int_eq(media_risky(""), 1);
}
END_TEST

static struct gh_arena	 arena;

static void
arena_setup(void)
{
	gh_arena_init(&arena);
}

static void
arena_teardown(void)
{
	gh_arena_free(&arena);
}

#define DISP(mime, name, att)	media_disposition(&arena, mime, name, att)

START_TEST(disposition_plain)
{
	ck_assert_pstr_eq(DISP("image/png", "photo.png", 0),
	    "inline; filename=\"photo.png\"; filename*=UTF-8''photo.png");
	ck_assert_pstr_eq(DISP("image/png", "photo.png", 1),
	    "attachment; filename=\"photo.png\"; filename*=UTF-8''photo.png");
	ck_assert_pstr_eq(DISP("application/pdf", "My Report.pdf", 0),
	    "inline; filename=\"My Report.pdf\"; "
	    "filename*=UTF-8''My%20Report.pdf");
	/* A risky type is an attachment whatever is asked. */
	ck_assert_pstr_eq(DISP("text/html", "page.html", 0),
	    "attachment; filename=\"page.html\"; filename*=UTF-8''page.html");
	ck_assert_pstr_eq(DISP("image/svg+xml", "a.svg", 0),
	    "attachment; filename=\"a.svg\"; filename*=UTF-8''a.svg");
	ck_assert_pstr_eq(DISP("image/png", NULL, 0),
	    "inline; filename=\"file\"; filename*=UTF-8''file");
	ck_assert_pstr_eq(DISP("image/png", "", 0),
	    "inline; filename=\"file\"; filename*=UTF-8''file");
}
END_TEST

START_TEST(disposition_hostile_names)
{
	const char	*d;

	/* A quote, a semicolon, a percent cannot end or fake a parameter. */
	ck_assert_pstr_eq(DISP("image/png", "a\"; x=y.png", 0),
	    "inline; filename=\"a__ x=y.png\"; "
	    "filename*=UTF-8''a%22%3B%20x%3Dy.png");
	ck_assert_pstr_eq(DISP("image/png", "100%25.png", 0),
	    "inline; filename=\"100_25.png\"; filename*=UTF-8''100%2525.png");
	/* CR and LF cannot end the header. */
	d = DISP("image/png", "a\r\nSet-Cookie: x=1.png", 0);
	ck_assert_pstr_eq(d, "inline; filename=\"a__Set-Cookie: x=1.png\"; "
	    "filename*=UTF-8''a%0D%0ASet-Cookie%3A%20x%3D1.png");
	ck_assert_ptr_null(strpbrk(d, "\r\n"));
	/* Non-ASCII: an ASCII stand-in, the real name in filename*. */
	ck_assert_pstr_eq(DISP("application/pdf", "r\xc3\xa9sum\xc3\xa9.pdf",
	    0), "inline; filename=\"r__sum__.pdf\"; "
	    "filename*=UTF-8''r%C3%A9sum%C3%A9.pdf");
	ck_assert_pstr_eq(DISP("image/png", "\xe2\x82\xac.png", 0),
	    "inline; filename=\"___.png\"; filename*=UTF-8''%E2%82%AC.png");
	/* attr-chars of RFC 5987 stay as they are. */
	ck_assert_pstr_eq(DISP("image/png", "a!#$&+-.^_`|~b", 0),
	    "inline; filename=\"a!#$&+-.^_`|~b\"; "
	    "filename*=UTF-8''a!#$&+-.^_`|~b");
}
END_TEST

/* A name is never a path: only its last component is kept. */
START_TEST(disposition_no_folders)
{
	ck_assert_pstr_eq(DISP("image/png", "../../etc/passwd.png", 0),
	    "inline; filename=\"passwd.png\"; filename*=UTF-8''passwd.png");
	ck_assert_pstr_eq(DISP("image/png", "C:\\pics\\a.png", 0),
	    "inline; filename=\"a.png\"; filename*=UTF-8''a.png");
	ck_assert_pstr_eq(DISP("image/png", "/abs/dir/b.png", 0),
	    "inline; filename=\"b.png\"; filename*=UTF-8''b.png");
	ck_assert_pstr_eq(DISP("image/png", "dir/", 0),
	    "inline; filename=\"file\"; filename*=UTF-8''file");
	ck_assert_pstr_eq(DISP("image/png", "a/..", 0),
	    "inline; filename=\"file\"; filename*=UTF-8''file");
	ck_assert_pstr_eq(DISP("image/png", ".", 0),
	    "inline; filename=\"file\"; filename*=UTF-8''file");
	ck_assert_pstr_eq(DISP("image/png", "..\\..\\x.png", 0),
	    "inline; filename=\"x.png\"; filename*=UTF-8''x.png");
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("sniff");
	TCase	*tc = tcase_create("sniff");
	TCase	*td = tcase_create("disposition");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, images_from_magic);
	tcase_add_test(tc, video_and_audio_from_magic);
	tcase_add_test(tc, other_content_refused);
	tcase_add_test(tc, ftyp_brands_refused);
	tcase_add_test(tc, truncated_headers_refused);
	tcase_add_test(tc, mp3_near_misses_refused);
	tcase_add_test(tc, declared_type_must_agree);
	tcase_add_test(tc, extension_must_fit);
	tcase_add_test(tc, dimensions_png_gif);
	tcase_add_test(tc, dimensions_jpeg);
	tcase_add_test(tc, dimensions_jpeg_bogus);
	tcase_add_test(tc, dimensions_webp);
	tcase_add_test(tc, dimensions_webp_bogus);
	tcase_add_test(tc, text_validity);
	tcase_add_test(tc, text_length_in_code_points);
	tcase_add_test(tc, risky_types);
	suite_add_tcase(s, tc);
	tcase_set_timeout(td, 10);
	tcase_add_checked_fixture(td, arena_setup, arena_teardown);
	tcase_add_test(td, disposition_plain);
	tcase_add_test(td, disposition_hostile_names);
	tcase_add_test(td, disposition_no_folders);
	suite_add_tcase(s, td);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
