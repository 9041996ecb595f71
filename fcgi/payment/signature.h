/*
 * signature.c: the Standard Webhooks signature header, as a pure
 * function (no request, no database), so that the unit tests and the
 * fuzzer reach it in-process.
 */
#ifndef PAY_SIGNATURE_H
#define PAY_SIGNATURE_H

#include <stddef.h>

struct gh_arena;

#define PAY_SIGS_MAX	8	/* signatures read from one header */

struct pay_secret {
	unsigned char	*key;
	size_t		 len;
};

int	 pay_b64_decode(struct gh_arena *, const char *, size_t,
	    unsigned char **, size_t *);
int	 pay_signed_by(struct gh_arena *, const char *sigs,
	    const struct pay_secret *, int nsec, const char *msg, size_t);

#endif
