/* gatehouse-payment: shared between its source files. */
#ifndef PAYMENT_H
#define PAYMENT_H

#include "gatehouse.h"

struct payment_settings {
	long long	 idem_ttl;		/* seconds a key is kept */
	long long	 idem_stale;		/* seconds before in_progress is taken over */
	long long	 webhook_tolerance;	/* seconds of clock skew */
};

extern struct payment_settings pay_cfg;

/* RFC 3339 UTC, as every answer writes times. */
#define TS(col)	GH_SQL_TS(col)
/* The public columns of a payment, in the order pay_json reads them. */
#define PAY_COLS	"p.reference, p.user_id, p.amount, p.currency, " \
		"p.description, p.metadata, p.status, p.refunded_amount, " \
		TS("p.created_at") ", " TS("p.updated_at") ", p.id"
#define PAY_NCOLS	11
#define PAY_COL_ID	10

#define PAY_AMOUNT_MAX	9007199254740991LL	/* 2^53 - 1 */

/* payments.c */
void		 pay_create(struct gh_req *);
void		 pay_get(struct gh_req *);
void		 pay_list(struct gh_req *);
json_t		*pay_json(PGresult *, int row, int col);
int		 pay_is_admin(const struct gh_req *);
const char	*pay_reference(struct gh_req *);

/* status.c */
void		 pay_cancel(struct gh_req *);
void		 pay_transition(struct gh_req *);
void		 pay_refund(struct gh_req *);
void		 pay_transactions(struct gh_req *);
int		 pay_ledger(struct gh_req *, const char *payment_id,
		    const char *kind, const char *from, const char *to,
		    long long amount, const char *actor, const char *actor_id,
		    const char *reason);
const char	*pay_allowed_from(const char *to, int provider);

/* webhook.c */
void		 pay_webhook(struct gh_req *);

#endif
