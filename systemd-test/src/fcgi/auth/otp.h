/*
 * otp.c: one-time codes as pure functions, without a database or a
 * request, so that tests reach them in-process: HOTP (RFC 4226) and TOTP
 * (RFC 6238) over HMAC-SHA1, the base32 an authenticator app reads a
 * secret in, and the recovery codes' one written form.
 */
#ifndef AUTH_OTP_H
#define AUTH_OTP_H

#include <stddef.h>
#include <stdint.h>

struct gh_arena;

#define AUTH_OTP_KEYLEN		20	/* bytes of a secret: SHA-1's size */
#define AUTH_OTP_DIGITS		6	/* what every authenticator app shows */
#define AUTH_OTP_STEP		30	/* seconds */
#define AUTH_OTP_SKEW		1	/* steps accepted either side of now */

#define AUTH_RECOVERY_CODES	10	/* handed out at once */
#define AUTH_RECOVERY_BYTES	10
#define AUTH_RECOVERY_LEN	(AUTH_RECOVERY_BYTES * 2)	/* hex digits */

long		 auth_hotp(const unsigned char *key, size_t keylen,
		    uint64_t counter, int digits);
int		 auth_otp_parse(const char *code, unsigned *value);
long long	 auth_totp_match(const unsigned char *key, size_t keylen,
		    const char *code, long long now, long long last_step);
char		*auth_base32(struct gh_arena *, const unsigned char *, size_t);
void		 auth_recovery_make(char out[AUTH_RECOVERY_LEN + 1],
		    const unsigned char raw[AUTH_RECOVERY_BYTES]);
int		 auth_recovery_parse(const char *in,
		    char out[AUTH_RECOVERY_LEN + 1]);

#endif
