/*
 * idempotency.c: the payment service's table of Idempotency-Keys, for
 * creates and refunds alike (lib/gh_idem.h has how a key is used).  A
 * key is each user's; a refund's hash is scoped to its payment, so one
 * key used for a create and a refund is "another request" (422).
 */
#ifndef PAY_IDEMPOTENCY_H
#define PAY_IDEMPOTENCY_H

#include "payment.h"

extern const struct gh_idem_table pay_keys;

#endif
