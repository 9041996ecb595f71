/*
 * Percent-decoding, in place, of a query's or a form's names and values:
 * gh_pct_decode against a decoder written here the slow and obvious way.
 * Both must refuse the same inputs (a bad escape, a NUL raw or encoded)
 * and agree byte for byte on the rest.
 */
#include "gatehouse.h"
#include "fuzz.h"

static int
hexval(unsigned char c)
{
	const char	*digits = "0123456789abcdef", *p;

	if (c >= 'A' && c <= 'F')
		c = (unsigned char)(c - 'A' + 'a');
	if (c == '\0' || (p = strchr(digits, c)) == NULL)
		return -1;
	return (int)(p - digits);
}

/* -1, or the decoded length with out filled. */
static long
reference(const unsigned char *in, size_t len, unsigned char *out)
{
	size_t	 i, o = 0;
	int	 c;

	for (i = 0; i < len; i++) {
		if (in[i] == '\0')
			return -1;
		if (in[i] != '%') {
			out[o++] = in[i];
			continue;
		}
		if (len - i < 3 || hexval(in[i + 1]) < 0 ||
		    hexval(in[i + 2]) < 0)
			return -1;
		if ((c = hexval(in[i + 1]) * 16 + hexval(in[i + 2])) == 0)
			return -1;
		out[o++] = (unsigned char)c;
		i += 2;
	}
	return (long)o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	*want;
	char		*s;
	size_t		 len = size;
	long		 n;
	int		 rc;

	/* len + 1: the decoder ends what it decoded with a NUL. */
	s = fuzz_str(data, size);
	want = fuzz_bytes(data, size);
	rc = gh_pct_decode(s, &len);
	n = reference(data, size, want);
	FUZZ_CHECK((rc == 0) == (n >= 0));
	if (rc == 0) {
		FUZZ_CHECK(len == (size_t)n && len <= size);
		FUZZ_CHECK(memcmp(s, want, len) == 0 && s[len] == '\0');
		FUZZ_CHECK(strlen(s) == len);
	}
	free(want);
	free(s);
	return 0;
}
