/*
 * The handlers, for main.c's route table only: a handler file calls
 * helpers (state.h, payment_row.h, ledger.h, idempotency.h), never
 * another handler file.
 */
#ifndef PAY_HANDLERS_H
#define PAY_HANDLERS_H

struct gh_req;

/* payments.c: create, get, list */
void		 pay_create(struct gh_req *);
void		 pay_get(struct gh_req *);
void		 pay_list(struct gh_req *);

/* status.c: an owner's cancel, an admin's change of status */
void		 pay_cancel(struct gh_req *);
void		 pay_transition(struct gh_req *);

/* refunds.c */
void		 pay_refund(struct gh_req *);

/* transactions.c: the ledger of one payment */
void		 pay_transactions(struct gh_req *);

/* webhook.c: provider events */
void		 pay_webhook(struct gh_req *);

#endif
