/*
 * What a user types at the second-factor step: a TOTP code
 * (auth_otp_parse, auth_totp_match) and a recovery code
 * (auth_recovery_parse), fcgi/auth/otp.c, on the input as a C string.
 * Each must take exactly its one written form, and a code that matches
 * must be the HOTP of the step it names, within the skew, after the last
 * step used.
 */
#include <stdlib.h>

#include "gatehouse.h"
#include "fuzz.h"
#include "../../fcgi/auth/otp.h"

#define NOW	1714560000LL	/* a fixed clock: runs repeat */

static const unsigned char key[AUTH_OTP_KEYLEN] = "12345678901234567890";

static int
only(const char *s, size_t n, int (*ok)(int))
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (s[i] == '\0' || !ok((unsigned char)s[i]))
			return 0;
	return s[n] == '\0';
}

static int
digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
hex(int c)
{
	return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*s, out[AUTH_RECOVERY_LEN + 1];
	unsigned	 v = 0;
	long long	 cur = NOW / AUTH_OTP_STEP, step, last;
	size_t		 i;
	int		 ok;

	s = fuzz_str(data, size);

	ok = auth_otp_parse(s, &v) == 0;
	FUZZ_CHECK(ok == only(s, AUTH_OTP_DIGITS, digit));
	FUZZ_CHECK(!ok || v < 1000000);

	for (last = -1; last <= cur + AUTH_OTP_SKEW; last += cur + 1) {
		step = auth_totp_match(key, sizeof(key), s, NOW, last);
		FUZZ_CHECK(step == -1 || (ok && step > last &&
		    step >= cur - AUTH_OTP_SKEW && step <= cur + AUTH_OTP_SKEW &&
		    auth_hotp(key, sizeof(key), (uint64_t)step,
		    AUTH_OTP_DIGITS) == (long)v));
	}
	/* After the newest step, nothing matches: no code works twice. */
	FUZZ_CHECK(auth_totp_match(key, sizeof(key), s, NOW,
	    cur + AUTH_OTP_SKEW) == -1);

	ok = auth_recovery_parse(s, out) == 0;
	FUZZ_CHECK(ok == only(s, AUTH_RECOVERY_LEN, hex));
	for (i = 0; ok && i < AUTH_RECOVERY_LEN; i++)
		FUZZ_CHECK(out[i] == (s[i] >= 'A' && s[i] <= 'F' ?
		    s[i] - 'A' + 'a' : s[i]));
	FUZZ_CHECK(!ok || out[AUTH_RECOVERY_LEN] == '\0');

	free(s);
	return 0;
}
