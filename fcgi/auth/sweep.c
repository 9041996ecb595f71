/*
 * `gatehouse-auth --sweep [--dry-run]`: deletes what no rule needs any
 * more, so that auth's tables do not grow forever (a daily timer runs
 * it).  Each kind is deleted in batches, so no lock is held for long;
 * what is live is never touched, and the windows below are each longer
 * than the rule that reads the rows.
 */
#include "auth.h"
#include "handlers.h"

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

static const struct gh_sweep_kind kinds[] = {
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

int
auth_cli_sweep(int argc, char *argv[])
{
	static const struct gh_sweep sweep = { "auth", kinds,
	    sizeof(kinds) / sizeof(kinds[0]), "GH_AUDIT_KEEP_DAYS", 365, 36500 };

	return gh_sweep_cli(&sweep, argc, argv);
}
