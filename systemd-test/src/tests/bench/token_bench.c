/*
 * token_bench: the cost of one access-token signature and verification
 * with the keys in a folder, and of one argon2id hash at the configured
 * settings (GH_ARGON2_*): what a sign-in costs a worker.  Run by
 * `make bench`; a measurement, never a test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gatehouse.h"

static double
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int
main(int argc, char *argv[])
{
	struct gh_keyset *ks;
	struct gh_arena	 a;
	struct gh_claims c, out;
	struct gh_argon2 p;
	const char	*why;
	char		 err[256], hash[256], *jwt = NULL;
	double		 t0, sign_us, verify_us, hash_ms, check_ms;
	int		 i, n = 2000, m = 5;

	if (argc != 2) {
		fprintf(stderr, "usage: token_bench KEYDIR\n");
		return 2;
	}
	if (gh_keyset_load(argv[1], &ks, err, sizeof(err)) != 0) {
		fprintf(stderr, "token_bench: %s\n", err);
		return 1;
	}
	if (gh_argon2_from_env(&p) != 0)
		return 1;
	gh_arena_init(&a);
	memset(&c, 0, sizeof(c));
	snprintf(c.sub, sizeof(c.sub), "6f1c1c5e-2d7b-4f7e-9a39-3f1b1d2c9e10");
	snprintf(c.role, sizeof(c.role), "user");
	snprintf(c.jti, sizeof(c.jti), "bench");
	snprintf(c.sid, sizeof(c.sid), "0b8f6f0e-0d35-4a3c-8d7e-6c0f5b1c2a11");
	c.iat = time(NULL);
	c.exp = c.iat + 900;
	t0 = now_us();
	for (i = 0; i < n; i++) {
		gh_arena_reset(&a);
		if (gh_token_sign(ks, "gatehouse", "gatehouse-api", &c, &a,
		    &jwt) != 0)
			return 1;
	}
	sign_us = (now_us() - t0) / n;
	t0 = now_us();
	for (i = 0; i < n; i++)
		if (gh_token_verify(ks, jwt, "gatehouse", "gatehouse-api",
		    time(NULL), 30, &out, &why) != 0) {
			fprintf(stderr, "token_bench: %s\n", why);
			return 1;
		}
	verify_us = (now_us() - t0) / n;
	t0 = now_us();
	for (i = 0; i < m; i++)
		if (gh_password_hash(&p, "correct horse battery", 21, hash,
		    sizeof(hash)) != 0)
			return 1;
	hash_ms = (now_us() - t0) / m / 1e3;
	t0 = now_us();
	for (i = 0; i < m; i++)
		if (gh_password_verify(hash, "correct horse battery", 21) != 0)
			return 1;
	check_ms = (now_us() - t0) / m / 1e3;
	printf("{\"sign_us\":%.1f,\"verify_us\":%.1f,\"argon2_hash_ms\":%.1f,"
	    "\"argon2_verify_ms\":%.1f,\"argon2\":\"m=%u,t=%u,p=%u\"}\n",
	    sign_us, verify_us, hash_ms, check_ms, p.m_cost_kib, p.t_cost,
	    p.parallelism);
	gh_arena_free(&a);
	gh_keyset_free(ks);
	return 0;
}
