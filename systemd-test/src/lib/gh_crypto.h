/*
 * Small cryptographic building blocks over OpenSSL and libargon2: random
 * tokens, strict base64url, SHA-256, HMAC-SHA256, constant-time compare,
 * and argon2id password hashes stored as PHC strings.
 *
 * Functions returning int give 0 on success and -1 on failure, except:
 * gh_ct_equal (1 when equal), gh_password_verify (0 match, 1 mismatch,
 * -1 not an argon2id v19 PHC string we could have made) and
 * gh_password_needs_rehash (1 when the hash is not of the given cost).
 * A failed digest fills its output with random bytes, never zeros.
 * gh_random_token takes 1 to 256 bytes; strings come from the arena.
 * gh_b64url_decode refuses padding, other alphabets, len % 4 == 1 and
 * set bits after the last byte; its output is NUL-terminated.
 */
#ifndef GH_CRYPTO_H
#define GH_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

struct gh_arena;

/* Room for any PHC string gh_password_hash makes, NUL included. */
#define GH_PASSWORD_HASH_MAX	128

struct gh_argon2 {
	uint32_t	t_cost;		/* passes over memory */
	uint32_t	m_cost_kib;	/* memory in KiB */
	uint32_t	parallelism;	/* lanes */
};

/* gh_crypto.c */
int	 gh_random(void *, size_t);
char	*gh_random_token(struct gh_arena *, size_t nbytes);
char	*gh_b64url_encode(struct gh_arena *, const void *, size_t);
int	 gh_b64url_decode(struct gh_arena *, const char *, size_t len,
	    unsigned char **out, size_t *outlen);
int	 gh_sha256(const void *, size_t, unsigned char out[32]);
void	 gh_hex(char *out, const void *, size_t);
int	 gh_hexdigit(int);
int	 gh_unhex(const char *, unsigned char *out, size_t n);
char	*gh_sha256_hex(struct gh_arena *, const void *, size_t);
int	 gh_hmac_sha256(const void *key, size_t keylen, const void *msg,
	    size_t msglen, unsigned char out[32]);
int	 gh_ct_equal(const void *, const void *, size_t);
void	 gh_wipe(void *, size_t);

int	 gh_argon2_from_env(struct gh_argon2 *);
int	 gh_password_hash(const struct gh_argon2 *, const char *pw,
	    size_t pwlen, char *out, size_t outlen);
int	 gh_password_verify(const char *phc, const char *pw, size_t pwlen);
int	 gh_password_needs_rehash(const char *phc, const struct gh_argon2 *);
void	 gh_password_dummy_verify(const struct gh_argon2 *, const char *pw,
	    size_t pwlen);

#endif
