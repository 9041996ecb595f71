/*
 * Fixed signing keys for the targets that need tokens or proofs signed
 * (fuzz_jwt, fuzz_dpop): derived from a seed, so that the seeds in the
 * corpus keep verifying from run to run.  tests/fuzz/fuzz_keys.c.
 */
#ifndef FUZZ_KEYS_H
#define FUZZ_KEYS_H

#include <openssl/evp.h>

struct gh_arena;

EVP_PKEY	*fuzz_p256_key(const char *seed);
char		*fuzz_es256(struct gh_arena *, EVP_PKEY *, const char *input);
char		*fuzz_b64(struct gh_arena *, const char *);

#endif
