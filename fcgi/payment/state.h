/*
 * state.c: the payment state machine, the one table of it.  Everything
 * else about states is derived from it: the set of states each guarded
 * UPDATE may start from, the 409 answers, the list's status filter, the
 * refund rules.  sql/payment/003_state_transitions.sql holds the same
 * changes for PostgreSQL, which refuses any other; the integration suite
 * compares the two (gatehouse-payment --transitions prints this one).
 * Pure: no database, no request, so the unit tests link it.
 */
#ifndef PAY_STATE_H
#define PAY_STATE_H

#include <stddef.h>
#include <stdio.h>

enum pay_status {
	PAY_NONE = -1,		/* not a status */
	PAY_PENDING,
	PAY_PROCESSING,
	PAY_SUCCEEDED,
	PAY_FAILED,
	PAY_CANCELED,
	PAY_PARTIALLY_REFUNDED,
	PAY_REFUNDED,
	PAY__NSTATUS
};

/* A set of statuses, one bit each. */
#define PAY_SET(s)	(1u << (s))

/*
 * Who makes a change, as bits: an edge allows one or several.  Refunds
 * are an admin's too, but they have their own endpoint and one more rule
 * (whether anything is left to refund), so they are kinds of their own.
 */
#define PAY_BY_OWNER		0x01	/* the payment's owner (cancel) */
#define PAY_BY_ADMIN		0x02	/* an admin, through the API */
#define PAY_BY_PROVIDER		0x04	/* a signed provider event */
#define PAY_BY_REFUND		0x08	/* a refund that leaves some */
#define PAY_BY_REFUND_ALL	0x10	/* a refund of all that is left */
#define PAY_BY_API		(PAY_BY_OWNER | PAY_BY_ADMIN)
#define PAY_BY_REFUNDS		(PAY_BY_REFUND | PAY_BY_REFUND_ALL)

/* How pay_set_text writes a set. */
#define PAY_TEXT_ARRAY	0x01	/* {a,b}: a PostgreSQL array literal */
#define PAY_TEXT_LIST	0x02	/* a, b */
#define PAY_TEXT_OR	0x04	/* a, b or c */
#define PAY_TEXT_WORDS	0x10	/* partially refunded, not partially_refunded */

/* The answer to a refused change: detail and the problem's members. */
struct pay_conflict {
	char	 detail[320];
	char	 allowed_from[128];
	char	 allowed_next[128];
};

/* NULL-ended, in the enum's order: the .choices of a status field. */
extern const char *const pay_status_names[PAY__NSTATUS + 1];

enum pay_status	 pay_status_of(const char *);
const char	*pay_status_name(enum pay_status);
int		 pay_may(enum pay_status from, enum pay_status to, unsigned by);
unsigned	 pay_from(enum pay_status to, unsigned by);
unsigned	 pay_next(enum pay_status from, unsigned by);
unsigned	 pay_targets(unsigned by);
enum pay_status	 pay_initial(void);
int		 pay_refundable(enum pay_status);
enum pay_status	 pay_refund_to(enum pay_status from, int all);
int		 pay_set_text(unsigned set, int style, char *, size_t);
int		 pay_conflict(enum pay_status cur, enum pay_status to,
		    unsigned by, struct pay_conflict *);
int		 pay_refund_conflict(enum pay_status cur,
		    struct pay_conflict *);
int		 pay_transitions_print(FILE *);

#endif
