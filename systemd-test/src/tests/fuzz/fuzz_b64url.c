/*
 * Strict base64url (token parts, cursors, PKCE verifiers) and hex (keys,
 * digests).  The decoders take one spelling of each value only, so
 * whatever they accept must encode back to exactly the input, and what
 * the encoders write must decode back to the bytes.
 */
#include <ctype.h>

#include "gatehouse.h"
#include "fuzz.h"

static void
b64url(struct gh_arena *a, const uint8_t *data, size_t size)
{
	unsigned char	*in, *out;
	char		*enc;
	size_t		 outlen;

	/* Not NUL-terminated: the decoder is given a length, no more. */
	in = fuzz_bytes(data, size);
	if (gh_b64url_decode(a, (const char *)in, size, &out, &outlen) == 0) {
		FUZZ_CHECK(out != NULL && out[outlen] == '\0');
		FUZZ_CHECK(outlen == size * 3 / 4);
		enc = gh_b64url_encode(a, out, outlen);
		FUZZ_CHECK(enc != NULL && strlen(enc) == size &&
		    memcmp(enc, in, size) == 0);
	} else
		FUZZ_CHECK(out == NULL && outlen == 0);
	free(in);

	enc = gh_b64url_encode(a, data, size);
	FUZZ_CHECK(enc != NULL);
	FUZZ_CHECK(gh_b64url_decode(a, enc, strlen(enc), &out, &outlen) == 0);
	FUZZ_CHECK(outlen == size && memcmp(out, data, size) == 0);
}

static void
hex(const uint8_t *data, size_t size)
{
	unsigned char	*out;
	char		*s, *back;
	size_t		 i, n = size / 2;

	s = fuzz_str(data, size);
	out = malloc(n == 0 ? 1 : n);
	back = malloc(n * 2 + 1);
	if (out == NULL || back == NULL)
		abort();
	if (gh_unhex(s, out, n) == 0) {
		FUZZ_CHECK(strlen(s) == n * 2);
		gh_hex(back, out, n);
		for (i = 0; i < n * 2; i++)
			FUZZ_CHECK(back[i] == tolower((unsigned char)s[i]));
	}
	/* Any other count of digits than asked for is refused. */
	if (n > 0 && gh_unhex(s, out, n - 1) == 0)
		FUZZ_CHECK(strlen(s) == (n - 1) * 2);
	free(back);
	free(out);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gh_arena	 a;

	gh_arena_init(&a);
	b64url(&a, data, size);
	hex(data, size);
	gh_arena_free(&a);
	return 0;
}
