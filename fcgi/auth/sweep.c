/*
 * `gatehouse-auth --sweep [--dry-run]`: deletes what no rule needs any
 * more, so that auth's tables do not grow forever (a daily timer runs
 * it).  Each kind is deleted in batches, so no lock is held for long;
 * what is live is never touched, and the windows below are each longer
 * than the rule that reads the rows.
 */
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "handlers.h"

#define SWEEP_BATCH	"5000"

/* Windows of an hour at most (sign-ups, availability): a day is plenty. */
GH_SQL(SQL_SWEEP_COUNTERS) = {{
    "DELETE FROM rate_counters WHERE key IN (SELECT key FROM rate_counters "
    " WHERE window_start < now() - interval '1 day' LIMIT $1::int)" }};

/* A throttle forgets its failures after a quiet day anyway. */
GH_SQL(SQL_SWEEP_THROTTLE) = {{
    "DELETE FROM login_throttle WHERE key IN (SELECT key FROM "
    " login_throttle WHERE updated_at < now() - interval '1 day' "
    " AND (locked_until IS NULL OR locked_until < now()) LIMIT $1::int)" }};

/*
 * Sessions a week past their end (expired or revoked), with their
 * refresh tokens; until then a stolen old token is still recognised as
 * reuse.
 */
GH_SQL(SQL_SWEEP_SESSIONS) = {{
    "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions "
    " WHERE expires_at < now() - interval '7 days' "
    " OR revoked_at < now() - interval '7 days' LIMIT $1::int)" }};

/* A code lives a minute; a day later a replay of it is just unknown. */
GH_SQL(SQL_SWEEP_CODES) = {{
    "DELETE FROM oauth_codes WHERE code_hash IN (SELECT code_hash FROM "
    " oauth_codes WHERE expires_at < now() - interval '1 day' "
    " LIMIT $1::int)" }};

GH_SQL(SQL_SWEEP_PAR) = {{
    "DELETE FROM oauth_par WHERE uri_hash IN (SELECT uri_hash FROM "
    " oauth_par WHERE expires_at < now() - interval '1 hour' "
    " LIMIT $1::int)" }};

GH_SQL(SQL_SWEEP_IDP) = {{
    "DELETE FROM idp_sessions WHERE id IN (SELECT id FROM idp_sessions "
    " WHERE expires_at < now() - interval '1 day' "
    " OR revoked_at < now() - interval '1 day' LIMIT $1::int)" }};

/*
 * A browser's sign-in at the provider that was never finished: its
 * request lives ten minutes; an hour later no form can come back to it.
 */
GH_SQL(SQL_SWEEP_REQUESTS) = {{
    "DELETE FROM oauth_requests WHERE handle_hash IN (SELECT handle_hash "
    " FROM oauth_requests WHERE expires_at < now() - interval '1 hour' "
    " LIMIT $1::int)" }};

/* Tokens live a day at most: older entries of the feed protect nothing. */
GH_SQL(SQL_SWEEP_REVOCATIONS) = {{
    "DELETE FROM revocations WHERE id IN (SELECT id FROM revocations "
    " WHERE at < now() - interval '1 day' LIMIT $1::int)" }};

/*
 * E-mail links a week after they stopped working (used, replaced or
 * expired): until then a click says which, later only "not valid".
 */
GH_SQL(SQL_SWEEP_EMAIL_LINKS) = {{
    "DELETE FROM email_tokens WHERE token_hash IN (SELECT token_hash FROM "
    " email_tokens WHERE least(expires_at, coalesce(used_at, voided_at, "
    " expires_at)) < now() - interval '7 days' LIMIT $1::int)" }};

/*
 * A reset link a day past its expiry: until then one used or expired is
 * still told as such, not as unknown.  The audit trail keeps the use.
 */
GH_SQL(SQL_SWEEP_RESETS) = {{
    "DELETE FROM password_resets WHERE token_hash IN (SELECT token_hash "
    " FROM password_resets WHERE expires_at < now() - interval '1 day' "
    " LIMIT $1::int)" }};

GH_SQL(SQL_SWEEP_AUDIT) = {{
    "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log "
    " WHERE at < now() - make_interval(days => $2::int) LIMIT $1::int)" }};

static const struct {
	const char		*what;
	const struct gh_sql	*sql;
	int			 nparams;
} kinds[] = {
	{ "rate counters",	SQL_SWEEP_COUNTERS,	1 },
	{ "sign-in throttles",	SQL_SWEEP_THROTTLE,	1 },
	{ "ended sessions",	SQL_SWEEP_SESSIONS,	1 },
	{ "authorization codes", SQL_SWEEP_CODES,	1 },
	{ "pushed requests",	SQL_SWEEP_PAR,		1 },
	{ "provider sessions",	SQL_SWEEP_IDP,		1 },
	{ "abandoned authorization requests", SQL_SWEEP_REQUESTS, 1 },
	{ "revocations",	SQL_SWEEP_REVOCATIONS,	1 },
	{ "e-mail links",	SQL_SWEEP_EMAIL_LINKS,	1 },
	{ "password reset links", SQL_SWEEP_RESETS,	1 },
	{ "audit lines",	SQL_SWEEP_AUDIT,	2 },
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
auth_cli_sweep(int argc, char *argv[])
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
			fprintf(stderr, "usage: gatehouse-auth --sweep "
			    "[--dry-run]\n");
			return 2;
		}
	}
	gh_log_setup("auth", GH_LOG_INFO);
	if (gh_config_int("GH_AUDIT_KEEP_DAYS", 365, 1, 36500, &keep) != 0 ||
	    gh_db_setup("gatehouse-auth-sweep") != 0)
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
