#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "gh_app.h"
#include "gh_arena.h"
#include "gh_config.h"
#include "gh_crypto.h"
#include "gh_log.h"

#define GH_TOKEN_BYTES_MAX	256
#define GH_SALT_LEN		16
#define GH_HASH_LEN		32

/*
 * Bounds of the settings.  A stored hash above the maxima is not one we
 * made (a lower cost is only old, and gh_password_needs_rehash says so).
 */
#define GH_ARGON2_T_MAX		10
#define GH_ARGON2_M_MIN		8192
#define GH_ARGON2_M_MAX		1048576
#define GH_ARGON2_P_MAX		8

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
gh_random(void *buf, size_t n)
{
	unsigned char	*p = buf;
	size_t		 chunk;

	/* RAND_bytes takes an int; a huge request is served in slices. */
	while (n > 0) {
		chunk = n > INT_MAX ? INT_MAX : n;
		if (RAND_bytes(p, (int)chunk) != 1) {
			gh_log_errx("crypto", "RAND_bytes failed");
			return -1;
		}
		p += chunk;
		n -= chunk;
	}
	return 0;
}

char *
gh_random_token(struct gh_arena *a, size_t nbytes)
{
	unsigned char	 buf[GH_TOKEN_BYTES_MAX];
	char		*s;

	if (nbytes == 0 || nbytes > sizeof(buf))
		return NULL;
	if (gh_random(buf, nbytes) != 0)
		return NULL;
	s = gh_b64url_encode(a, buf, nbytes);
	gh_wipe(buf, nbytes);
	return s;
}

char *
gh_b64url_encode(struct gh_arena *a, const void *in, size_t len)
{
	const unsigned char	*p = in;
	char			*out, *o;
	size_t			 i;
	uint32_t		 v;

	if (len > (SIZE_MAX - 4) / 4 * 3)
		return NULL;
	if ((out = gh_alloc(a, (len + 2) / 3 * 4 + 1)) == NULL)
		return NULL;
	o = out;
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = b64url_alphabet[v >> 18 & 63];
		*o++ = b64url_alphabet[v >> 12 & 63];
		*o++ = b64url_alphabet[v >> 6 & 63];
		*o++ = b64url_alphabet[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)p[i] << 16;
		*o++ = b64url_alphabet[v >> 18 & 63];
		*o++ = b64url_alphabet[v >> 12 & 63];
	} else if (len - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		*o++ = b64url_alphabet[v >> 18 & 63];
		*o++ = b64url_alphabet[v >> 12 & 63];
		*o++ = b64url_alphabet[v >> 6 & 63];
	}
	*o = '\0';
	return out;
}

static int
b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * Strict: one input, one encoding.  Padding, characters outside the
 * alphabet and set bits after the last byte are refused, so a token
 * cannot be altered into a second spelling that decodes the same.
 * The output is NUL-terminated for the convenience of JSON parsers.
 */
int
gh_b64url_decode(struct gh_arena *a, const char *in, size_t len,
    unsigned char **out, size_t *outlen)
{
	unsigned char	*buf, *o;
	size_t		 i, rem;
	uint32_t	 v = 0;
	int		 c;

	*out = NULL;
	*outlen = 0;
	rem = len % 4;
	if (rem == 1)
		return -1;
	if ((buf = gh_alloc(a, len / 4 * 3 + 3)) == NULL)
		return -1;
	o = buf;
	for (i = 0; i < len; i++) {
		if ((c = b64url_value((unsigned char)in[i])) == -1)
			return -1;
		v = v << 6 | (uint32_t)c;
		if (i % 4 == 3) {
			*o++ = v >> 16 & 0xff;
			*o++ = v >> 8 & 0xff;
			*o++ = v & 0xff;
			v = 0;
		}
	}
	if (rem == 2) {
		if (v & 0x0f)
			return -1;
		*o++ = v >> 4 & 0xff;
	} else if (rem == 3) {
		if (v & 0x03)
			return -1;
		*o++ = v >> 10 & 0xff;
		*o++ = v >> 2 & 0xff;
	}
	*o = '\0';
	*out = buf;
	*outlen = (size_t)(o - buf);
	return 0;
}

/*
 * The digests return -1 only when OpenSSL itself fails (out of memory,
 * broken provider setup).  The output is then filled with random bytes
 * rather than left as zeros, so that a caller who ignores the result
 * still compares against something no attacker can predict.
 */
int
gh_sha256(const void *in, size_t len, unsigned char out[32])
{
	if (EVP_Digest(in, len, out, NULL, EVP_sha256(), NULL) != 1) {
		gh_log_errx("crypto", "EVP_Digest(SHA256) failed");
		RAND_bytes(out, 32);
		return -1;
	}
	return 0;
}

/* Lowercase hexadecimal of n bytes into out, which holds 2n + 1. */
/* One hexadecimal digit's value, or -1. */
int
gh_hexdigit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Exactly 2n hexadecimal digits into n bytes: 0, or -1 for any other
 * length or character (no sign, space or prefix that sscanf would take).
 */
int
gh_unhex(const char *hex, unsigned char *out, size_t n)
{
	size_t	 i;
	int	 hi, lo;

	if (strlen(hex) != n * 2)
		return -1;
	for (i = 0; i < n; i++) {
		if ((hi = gh_hexdigit((unsigned char)hex[i * 2])) < 0 ||
		    (lo = gh_hexdigit((unsigned char)hex[i * 2 + 1])) < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

void
gh_hex(char *out, const void *in, size_t n)
{
	static const char	 digits[] = "0123456789abcdef";
	const unsigned char	*b = in;
	size_t			 i;

	for (i = 0; i < n; i++) {
		out[i * 2] = digits[b[i] >> 4];
		out[i * 2 + 1] = digits[b[i] & 0x0f];
	}
	out[n * 2] = '\0';
}

char *
gh_sha256_hex(struct gh_arena *a, const void *in, size_t len)
{
	unsigned char		 md[32];
	char			*s;

	if (gh_sha256(in, len, md) != 0)
		return NULL;
	if ((s = gh_alloc(a, sizeof(md) * 2 + 1)) == NULL)
		return NULL;
	gh_hex(s, md, sizeof(md));
	return s;
}

int
gh_hmac_sha256(const void *key, size_t keylen, const void *msg,
    size_t msglen, unsigned char out[32])
{
	unsigned int	 mdlen = 0;

	if (keylen > INT_MAX)
		goto fail;
	/* OpenSSL treats a NULL key specially; an empty key is just empty. */
	if (key == NULL)
		key = "";
	if (msg == NULL)
		msg = "";
	if (HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out,
	    &mdlen) == NULL || mdlen != 32)
		goto fail;
	return 0;
fail:
	gh_log_errx("crypto", "HMAC-SHA256 failed");
	RAND_bytes(out, 32);
	return -1;
}

int
gh_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void
gh_wipe(void *p, size_t n)
{
	if (p != NULL)
		OPENSSL_cleanse(p, n);
}

int
gh_argon2_from_env(struct gh_argon2 *p)
{
	long long	 t, m, par;

	if (gh_config_int("GH_ARGON2_T", 2, 1, GH_ARGON2_T_MAX, &t) != 0 ||
	    gh_config_int("GH_ARGON2_M_KIB", 19456, GH_ARGON2_M_MIN,
	    GH_ARGON2_M_MAX, &m) != 0 ||
	    gh_config_int("GH_ARGON2_P", 1, 1, GH_ARGON2_P_MAX, &par) != 0)
		return -1;
	p->t_cost = (uint32_t)t;
	p->m_cost_kib = (uint32_t)m;
	p->parallelism = (uint32_t)par;
	return 0;
}

/* A decimal without sign or leading zero, ending at the delimiter. */
static const char *
parse_u32(const char *s, char delim, uint32_t max, uint32_t *out)
{
	uint64_t	 v = 0;
	const char	*p = s;

	if (*p == '0' && p[1] != delim)
		return NULL;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			return NULL;
	}
	if (p == s || *p != delim)
		return NULL;
	*out = (uint32_t)v;
	return p + 1;
}

/* Unpadded standard base64 of min..max characters, ending at delim. */
static const char *
phc_b64(const char *s, char delim, size_t min, size_t max)
{
	size_t	 n;

	n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789+/");
	if (n < min || n > max || n % 4 == 1 || s[n] != delim)
		return NULL;
	return s + n + (delim != '\0');
}

/*
 * Reads the parameters of "$argon2id$v=19$m=M,t=T,p=P$salt$hash".  Only
 * argon2id version 19 passes: an argon2i, argon2d or bcrypt hash is not
 * one we made, and libargon2 alone would pick the variant from the
 * string.  The bounds keep a corrupt row from asking for terabytes, and
 * a hash cut short from passing for a mere mismatch.
 */
static int
phc_params(const char *phc, struct gh_argon2 *p)
{
	static const char	 prefix[] = "$argon2id$v=19$m=";
	const char		*s;

	if (phc == NULL || strncmp(phc, prefix, sizeof(prefix) - 1) != 0)
		return -1;
	s = phc + sizeof(prefix) - 1;
	if ((s = parse_u32(s, ',', GH_ARGON2_M_MAX, &p->m_cost_kib)) ==
	    NULL || strncmp(s, "t=", 2) != 0)
		return -1;
	if ((s = parse_u32(s + 2, ',', GH_ARGON2_T_MAX, &p->t_cost)) == NULL ||
	    strncmp(s, "p=", 2) != 0)
		return -1;
	if ((s = parse_u32(s + 2, '$', GH_ARGON2_P_MAX,
	    &p->parallelism)) == NULL)
		return -1;
	/* Salt of 8 to 64 bytes, hash of 16 to 64 bytes. */
	if ((s = phc_b64(s, '$', 11, 86)) == NULL ||
	    phc_b64(s, '\0', 22, 86) == NULL)
		return -1;
	if (p->t_cost < 1 || p->parallelism < 1 ||
	    p->m_cost_kib < 8 * p->parallelism)
		return -1;
	return 0;
}

int
gh_password_hash(const struct gh_argon2 *p, const char *pw, size_t pwlen,
    char *out, size_t outlen)
{
	unsigned char	 salt[GH_SALT_LEN];
	int		 rc;

	if (pwlen > UINT32_MAX || p->t_cost < 1 || p->parallelism < 1 ||
	    p->m_cost_kib < 8 * p->parallelism)
		return -1;
	if (gh_random(salt, sizeof(salt)) != 0)
		return -1;
	gh_app_slow();
	rc = argon2id_hash_encoded(p->t_cost, p->m_cost_kib, p->parallelism,
	    pw, pwlen, salt, sizeof(salt), GH_HASH_LEN, out, outlen);
	if (rc != ARGON2_OK) {
		gh_log_errx("crypto", "argon2id: %s", argon2_error_message(rc));
		return -1;
	}
	return 0;
}

int
gh_password_verify(const char *phc, const char *pw, size_t pwlen)
{
	struct gh_argon2	 p;
	int			 rc;

	if (phc_params(phc, &p) != 0 || pwlen > UINT32_MAX)
		return -1;
	gh_app_slow();
	rc = argon2id_verify(phc, pw, pwlen);
	if (rc == ARGON2_OK)
		return 0;
	if (rc == ARGON2_VERIFY_MISMATCH)
		return 1;
	return -1;
}

/* 1 when the hash was made with other parameters than p (or not by us). */
int
gh_password_needs_rehash(const char *phc, const struct gh_argon2 *p)
{
	struct gh_argon2	 h;

	if (phc_params(phc, &h) != 0)
		return 1;
	return h.t_cost != p->t_cost || h.m_cost_kib != p->m_cost_kib ||
	    h.parallelism != p->parallelism;
}

/*
 * Login for an unknown account must cost what a wrong password costs, or
 * the response time tells which accounts exist.  The hash is made at the
 * first call (and again when the parameters change); a worker may call
 * this once at start so that no request pays for it.
 */
void
gh_password_dummy_verify(const struct gh_argon2 *p, const char *pw,
    size_t pwlen)
{
	static char		 dummy[GH_PASSWORD_HASH_MAX];
	static struct gh_argon2	 made;
	unsigned char		 secret[16];
	char			 hex[sizeof(secret) * 2 + 1];

	if (dummy[0] == '\0' || made.t_cost != p->t_cost ||
	    made.m_cost_kib != p->m_cost_kib ||
	    made.parallelism != p->parallelism) {
		dummy[0] = '\0';
		if (gh_random(secret, sizeof(secret)) != 0)
			return;
		gh_hex(hex, secret, sizeof(secret));
		if (gh_password_hash(p, hex, strlen(hex), dummy,
		    sizeof(dummy)) != 0) {
			dummy[0] = '\0';
			return;
		}
		gh_wipe(secret, sizeof(secret));
		gh_wipe(hex, sizeof(hex));
		made = *p;
	}
	(void)gh_password_verify(dummy, pw, pwlen);
}
