/*
 * `gatehouse-payment --sweep [--dry-run]`: deletes what no rule of the
 * payment service needs any more, so that its tables do not grow forever
 * (a daily timer runs it).  Payments and their ledger are the records
 * and are never swept.  Each kind is deleted in batches, so no lock is
 * held for long; what is live is never touched.
 */
#include "payment.h"
#include "sweep.h"

/*
 * Keys past their window: a claim takes an expired key over anyway, so
 * the row answers nothing any more (the workers purge a batch now and
 * then too; this catches up with a quiet service).
 */
GH_SQL(SQL_SWEEP_KEYS) = {{
    "DELETE FROM idempotency_keys k USING (SELECT user_id, key FROM "
    " idempotency_keys WHERE expires_at < now() LIMIT $1::int) d "
    "WHERE k.user_id = d.user_id AND k.key = d.key" }};

/*
 * A provider retries an event under the same id for days, each time
 * signed anew (so within the timestamp's tolerance): its id is what
 * keeps a retry from being applied twice, for GH_WEBHOOK_KEEP_DAYS.
 */
GH_SQL(SQL_SWEEP_EVENTS) = {{
    "DELETE FROM webhook_events WHERE id IN (SELECT id FROM webhook_events "
    " WHERE received_at < now() - make_interval(days => $2::int) "
    " LIMIT $1::int)" }};

static const struct gh_sweep_kind kinds[] = {
	{ "expired idempotency keys",	SQL_SWEEP_KEYS,		1 },
	{ "old webhook events",		SQL_SWEEP_EVENTS,	2 },
};

int
pay_cli_sweep(int argc, char *argv[])
{
	static const struct gh_sweep sweep = { "payment", kinds,
	    sizeof(kinds) / sizeof(kinds[0]), "GH_WEBHOOK_KEEP_DAYS", 30, 3650 };

	return gh_sweep_cli(&sweep, argc, argv);
}
