/*
 * The webhook-signature header (fcgi/payment/signature.c): the input as
 * the header's value, checked against a fixed message under two fixed
 * secrets (the current and the previous one).  The promise: the header
 * passes only when it carries "v1," and the base64 of one of the two
 * MACs, the one form the provider writes; and the header the provider
 * would send passes.
 */
#include <stdlib.h>

#include "gatehouse.h"
#include "fuzz.h"
#include "../../fcgi/payment/signature.h"

static const char msg[] = "msg_2Kbq.1714560000.{\"type\":\"payment.succeeded\","
    "\"data\":{\"reference\":\"pay_0123456789abcdefghijkl\"}}";
static unsigned char k0[] = "whsec-fuzz-current-key", k1[] = "previous";
static const struct pay_secret sec[2] = {
	{ k0, sizeof(k0) - 1 }, { k1, sizeof(k1) - 1 }
};
static char	*want[2];	/* "v1,<base64 of each MAC>", unpadded */

/* "v1," and the standard base64 of the MAC under sec[i], without '='. */
static char *
expected(int i)
{
	struct gh_arena	 a;
	unsigned char	 mac[32];
	char		*b, *s;
	size_t		 j;

	gh_arena_init(&a);
	if (gh_hmac_sha256(sec[i].key, sec[i].len, msg, sizeof(msg) - 1,
	    mac) != 0 || (b = gh_b64url_encode(&a, mac, sizeof(mac))) == NULL ||
	    (s = malloc(strlen(b) + 4)) == NULL)
		abort();
	for (j = 0; b[j] != '\0'; j++)
		b[j] = b[j] == '-' ? '+' : b[j] == '_' ? '/' : b[j];
	strcpy(s, "v1,");
	strcat(s, b);
	gh_arena_free(&a);
	return s;
}

static int
check(const char *sigs)
{
	struct gh_arena	 a;
	int		 ok;

	gh_arena_init(&a);
	ok = pay_signed_by(&a, sigs, sec, 2, msg, sizeof(msg) - 1);
	gh_arena_free(&a);
	return ok;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 line[200];

	(void)argc;
	(void)argv;
	want[0] = expected(0);
	want[1] = expected(1);
	/* What the provider sends passes, padded or not, beside others. */
	FUZZ_CHECK(check(want[0]) && check(want[1]));
	snprintf(line, sizeof(line), "v2,abc %s=", want[1]);
	FUZZ_CHECK(check(line));
	FUZZ_CHECK(!check("v1,AAAA"));
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;

	s = fuzz_str(data, size);
	if (check(s))
		FUZZ_CHECK(strstr(s, want[0]) != NULL ||
		    strstr(s, want[1]) != NULL);
	free(s);
	return 0;
}
