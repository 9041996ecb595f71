/*
 * idempotency.c: the Idempotency-Key of a create.  The key is claimed in
 * a statement of its own, committed at once, so that a second request
 * with it sees "in progress"; the answer is remembered with the payment,
 * in the payment's transaction; a request that fails releases its claim.
 */
#ifndef PAY_IDEMPOTENCY_H
#define PAY_IDEMPOTENCY_H

#include "payment.h"

/* A claim of one key for one request. */
struct pay_idem {
	const char	*uid;		/* the caller: keys are each user's */
	const char	*key;
	const char	*hash;		/* of the request's body */
	const char	*claim;		/* when this request claimed it */
};

const char	*pay_idem_key(struct gh_req *);
int		 pay_idem_claim(struct gh_req *, struct pay_idem *,
		    json_t *body);
int		 pay_idem_done(struct gh_req *, const struct pay_idem *,
		    int status, const char *answer, const char *payment_id);
void		 pay_idem_release(struct gh_req *, const struct pay_idem *);
void		 pay_idem_purge(struct gh_req *);

#endif
