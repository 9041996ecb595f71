/*
 * One-time codes: HOTP and TOTP with HMAC-SHA1, 30 s steps and 6 digits
 * (what every authenticator app speaks), and recovery codes.  Pure: the
 * caller brings the secret, the time and the last step it accepted.
 */
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gh_arena.h"
#include "gh_crypto.h"
#include "otp.h"

/*
 * The code of one counter value, digits long (RFC 4226 section 5.3,
 * dynamic truncation), or -1 when HMAC fails or digits is not 1 to 9.
 */
long
auth_hotp(const unsigned char *key, size_t keylen, uint64_t counter,
    int digits)
{
	unsigned char	 msg[8], mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0;
	unsigned long	 bin, mod = 1;
	unsigned	 off;
	int		 i;

	if (digits < 1 || digits > 9 || keylen > INT32_MAX)
		return -1;
	for (i = 0; i < digits; i++)
		mod *= 10;
	for (i = 7; i >= 0; i--) {
		msg[i] = (unsigned char)(counter & 0xff);
		counter >>= 8;
	}
	if (HMAC(EVP_sha1(), key, (int)keylen, msg, sizeof(msg), mac,
	    &maclen) == NULL || maclen != 20)
		return -1;
	off = mac[maclen - 1] & 0x0f;
	bin = ((unsigned long)(mac[off] & 0x7f) << 24) |
	    ((unsigned long)mac[off + 1] << 16) |
	    ((unsigned long)mac[off + 2] << 8) | mac[off + 3];
	return (long)(bin % mod);
}

/*
 * A code as typed: exactly AUTH_OTP_DIGITS ASCII digits, nothing around
 * them.  (strtonum would also take a sign or a leading space, and " 12345"
 * would then pass for 012345.)  0, or -1.
 */
int
auth_otp_parse(const char *code, unsigned *value)
{
	unsigned	 v = 0;
	int		 i;

	if (code == NULL)
		return -1;
	for (i = 0; i < AUTH_OTP_DIGITS; i++) {
		if (code[i] < '0' || code[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(code[i] - '0');
	}
	if (code[i] != '\0')
		return -1;
	*value = v;
	return 0;
}

/*
 * The step a code matches at time now (seconds since the epoch), within
 * AUTH_OTP_SKEW steps either side and after last_step (so no code works
 * twice, nor an older one after a newer), or -1.  Every candidate is
 * computed whichever matches, so the time taken tells nothing.
 */
long long
auth_totp_match(const unsigned char *key, size_t keylen, const char *code,
    long long now, long long last_step)
{
	long long	 cur, step, hit = -1;
	long		 h;
	unsigned	 want;

	if (auth_otp_parse(code, &want) != 0 || now < 0)
		return -1;
	cur = now / AUTH_OTP_STEP;
	for (step = cur - AUTH_OTP_SKEW; step <= cur + AUTH_OTP_SKEW; step++) {
		if (step < 0)
			continue;
		h = auth_hotp(key, keylen, (uint64_t)step, AUTH_OTP_DIGITS);
		if (h >= 0 && (unsigned long)h == want && step > last_step &&
		    hit < 0)
			hit = step;
	}
	return hit;
}

/* RFC 4648 base32 without padding: how authenticator apps take secrets. */
char *
auth_base32(struct gh_arena *a, const unsigned char *in, size_t n)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	char		*s;
	size_t		 i, o = 0;
	unsigned	 buf = 0;
	int		 bits = 0;

	if ((s = gh_alloc(a, (n * 8 + 4) / 5 + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		buf = (buf << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			s[o++] = alpha[(buf >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		s[o++] = alpha[(buf << (5 - bits)) & 31];
	s[o] = '\0';
	return s;
}

/* A recovery code as it is shown, and stored (hashed): lowercase hex. */
void
auth_recovery_make(char out[AUTH_RECOVERY_LEN + 1],
    const unsigned char raw[AUTH_RECOVERY_BYTES])
{
	gh_hex(out, raw, AUTH_RECOVERY_BYTES);
	out[AUTH_RECOVERY_LEN] = '\0';
}

/*
 * A recovery code as typed, in the form it was stored: hex digits of
 * either case (hex does not care, and a code copied off paper may be in
 * capitals), lowered; anything else is no code.  0, or -1.
 */
int
auth_recovery_parse(const char *in, char out[AUTH_RECOVERY_LEN + 1])
{
	size_t	 i;

	if (in == NULL)
		return -1;
	for (i = 0; i < AUTH_RECOVERY_LEN; i++) {
		if (gh_hexdigit((unsigned char)in[i]) < 0)
			return -1;
		out[i] = in[i] >= 'A' && in[i] <= 'F' ?
		    (char)(in[i] - 'A' + 'a') : in[i];
	}
	if (in[i] != '\0')
		return -1;
	out[i] = '\0';
	return 0;
}
