/*
 * `gatehouse-payment --sweep [--dry-run]`: deletes what no rule of the
 * payment service needs any more, so that its tables do not grow forever
 * (a daily timer runs it).  Payments and their ledger are the records
 * and are never swept.  Each kind is deleted in batches, so no lock is
 * held for long; what is live is never touched.
 */
#include <stdio.h>
#include <string.h>

#include "payment.h"
#include "sweep.h"

#define SWEEP_BATCH	"5000"

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

static const struct {
	const char		*what;
	const struct gh_sql	*sql;
	int			 nparams;
} kinds[] = {
	{ "expired idempotency keys",	SQL_SWEEP_KEYS,		1 },
	{ "old webhook events",		SQL_SWEEP_EVENTS,	2 },
};
#define NKINDS	(sizeof(kinds) / sizeof(kinds[0]))

/* Deletes one kind in batches; the rows deleted, or -1. */
static long long
sweep_kind(struct gh_arena *a, size_t k, const char *keep_days,
    int dry_run)
{
	const char	*p[2] = { SWEEP_BATCH, keep_days };
	PGresult	*res;
	long long	 total = 0, n;
	const char	*errstr;

	do {
		if (gh_db_run_begin(a) != 0)
			return -1;
		res = gh_db_run(a, kinds[k].sql, kinds[k].nparams, p);
		if (!gh_db_ok(res)) {
			gh_log_errx("sweep", "%s: %s", kinds[k].what,
			    res != NULL ? PQresultErrorMessage(res) :
			    "no connection");
			return -1;
		}
		n = gh_strtonum(PQcmdTuples(res), 0, 1LL << 40, &errstr);
		if (errstr != NULL)
			return -1;
		total += n;
		/* A dry run counts one batch of each, then rolls it back. */
		if (dry_run) {
			gh_db_request_end();
			break;
		}
		if (gh_db_run_commit(a) != 0)
			return -1;
	} while (n > 0 && strcmp(SWEEP_BATCH, PQcmdTuples(res)) == 0);
	return total;
}

int
pay_cli_sweep(int argc, char *argv[])
{
	struct gh_arena	 a;
	long long	 keep, n, failed = 0;
	char		 keep_days[24];
	size_t		 k;
	int		 dry_run = 0, i;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			dry_run = 1;
		else {
			fprintf(stderr, "usage: gatehouse-payment --sweep "
			    "[--dry-run]\n");
			return 2;
		}
	}
	gh_log_setup("payment", GH_LOG_INFO);
	if (gh_config_int("GH_WEBHOOK_KEEP_DAYS", 30, 1, 3650, &keep) != 0 ||
	    gh_db_setup("gatehouse-payment-sweep") != 0)
		return 1;
	snprintf(keep_days, sizeof(keep_days), "%lld", keep);
	gh_arena_init(&a);
	for (k = 0; k < NKINDS; k++) {
		if ((n = sweep_kind(&a, k, keep_days, dry_run)) < 0) {
			failed++;
			gh_db_request_end();
			continue;
		}
		printf("%s %lld %s\n", dry_run ? "would remove (a batch of)" :
		    "removed", n, kinds[k].what);
		gh_log_infox("sweep", "%s %lld %s", dry_run ? "would remove" :
		    "removed", n, kinds[k].what);
	}
	gh_arena_free(&a);
	gh_db_close();
	return failed > 0;
}
