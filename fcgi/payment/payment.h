/*
 * gatehouse-payment: what every source file of the service shares, its
 * settings.  Each helper file has its own header (state.h, payment_row.h,
 * ledger.h, idempotency.h); the handlers are declared in handlers.h, for
 * main.c's route table only.
 */
#ifndef PAYMENT_H
#define PAYMENT_H

#include "gatehouse.h"

struct payment_settings {
	long long	 webhook_tolerance;	/* seconds of clock skew */
};

extern struct payment_settings pay_cfg;

#define PAY_AMOUNT_MAX	9007199254740991LL	/* 2^53 - 1 */

#endif
