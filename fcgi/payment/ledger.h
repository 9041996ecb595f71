/*
 * ledger.c: the transactions ledger.  Every change of a payment appends
 * its row in the change's own transaction; the ledger is never updated.
 */
#ifndef PAY_LEDGER_H
#define PAY_LEDGER_H

#include "payment.h"

int		 pay_ledger(struct gh_req *, const char *payment_id,
		    const char *kind, const char *from, const char *to,
		    long long amount, const char *actor, const char *actor_id,
		    const char *reason);
json_t		*pay_ledger_json(struct gh_req *, const char *ref,
		    const char *owner, int show_actor_id);

#endif
