/*
 * payment_row.c: a payment as the statements select it and the answers
 * show it, the reference that names it, and who may see it.
 */
#ifndef PAY_ROW_H
#define PAY_ROW_H

#include "payment.h"

/* RFC 3339 UTC, as every answer writes times. */
#define TS(col)	GH_SQL_TS(col)
/*
 * The public columns of a payment, in the order of PAY_C_*.  A statement
 * that selects more columns after these reads them from PAY_C__COUNT on.
 */
#define PAY_COLS	"p.reference, p.user_id, p.amount, p.currency, " \
		"p.description, p.metadata, p.status, p.refunded_amount, " \
		TS("p.created_at") ", " TS("p.updated_at") ", p.id"
enum {
	PAY_C_REFERENCE, PAY_C_USER, PAY_C_AMOUNT, PAY_C_CURRENCY,
	PAY_C_DESCRIPTION, PAY_C_METADATA, PAY_C_STATUS, PAY_C_REFUNDED,
	PAY_C_CREATED, PAY_C_UPDATED, PAY_C_ID,
	PAY_C__COUNT
};

json_t		*pay_json(struct gh_req *, const PGresult *, int row);
const char	*pay_reference(struct gh_req *);
const char	*pay_valid_reference(const char *);
const char	*pay_owner(const struct gh_req *);

#endif
