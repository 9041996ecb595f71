/*
 * The outbox (sql/auth/007_mail_outbox.sql): every statement of the
 * mailer.  A message is taken with a claim (state sending, a lease_id and
 * locked_until); every later change names that lease_id, so a mailer
 * whose lease ran out, and whose message another took since, changes
 * nothing.  Times are the database's clock, never the mailer's.
 */
#include <stdio.h>
#include <string.h>

#include "mailer.h"

#define PURGE_BATCH	500	/* rows deleted per statement */
#define PURGE_ROUNDS	20	/* statements per purge: the rest waits */

GH_SQL(SQL_LISTEN) = {{ "LISTEN gatehouse_mail" }};

/*
 * Due messages, and those whose lease ran out (a mailer died holding
 * them).  SKIP LOCKED: two mailers claiming at once take different rows,
 * and neither waits for the other.
 */
GH_SQL(SQL_CLAIM) = {{
	"WITH due AS ("
	" SELECT id FROM mail_outbox"
	"  WHERE (state = 'queued' AND next_attempt_at <= now())"
	"     OR (state = 'sending' AND locked_until <= now())"
	"  ORDER BY next_attempt_at, created_at"
	"  LIMIT $1"
	"  FOR UPDATE SKIP LOCKED)"
	" UPDATE mail_outbox m SET state = 'sending',"
	"  lease_id = gen_random_uuid(),"
	"  locked_until = now() + make_interval(secs => $2)"
	" FROM due WHERE m.id = due.id"
	" RETURNING m.id, m.lease_id, m.message_id, m.to_addr, m.template,"
	"  m.params::text, m.attempts,"
	"  extract(epoch FROM m.created_at)::bigint" }};
enum { CL_ID, CL_LEASE, CL_MSGID, CL_TO, CL_TEMPLATE, CL_PARAMS,
    CL_ATTEMPTS, CL_CREATED };

/* An attempt starts: counted, and the lease runs from now. */
GH_SQL(SQL_BEGIN) = {{
	"UPDATE mail_outbox SET attempts = attempts + 1,"
	"  locked_until = now() + make_interval(secs => $3)"
	" WHERE id = $1 AND lease_id = $2 AND state = 'sending'"
	" RETURNING attempts" }};
enum { BE_ATTEMPTS };

/*
 * Sent again after a lost connection, so 'sent' itself matches too.  The
 * params go: they may hold a live token (a reset link's), which the row
 * need not keep, nor the backups, once the relay has the message.
 */
GH_SQL(SQL_SENT) = {{
	"UPDATE mail_outbox SET state = 'sent',"
	"  sent_at = coalesce(sent_at, now()), locked_until = NULL,"
	"  params = '{}'"
	" WHERE id = $1 AND lease_id = $2 AND state IN ('sending', 'sent')"
	" RETURNING state" }};

GH_SQL(SQL_RETRY) = {{
	"UPDATE mail_outbox SET"
	"  state = CASE WHEN now() >= created_at + make_interval(secs => $4)"
	"   THEN 'failed' ELSE 'queued' END,"
	"  next_attempt_at = now() + make_interval(secs => $3),"
	"  locked_until = NULL, last_error = $5"
	" WHERE id = $1 AND lease_id = $2 AND state = 'sending'"
	" RETURNING state" }};
enum { ST_STATE };

GH_SQL(SQL_FAIL) = {{
	"UPDATE mail_outbox SET state = 'failed', locked_until = NULL,"
	"  last_error = $3"
	" WHERE id = $1 AND lease_id = $2 AND state = 'sending'"
	" RETURNING state" }};

/* Given back untried: due again at once, or after the relay's delay. */
GH_SQL(SQL_RELEASE) = {{
	"UPDATE mail_outbox SET state = 'queued', locked_until = NULL,"
	"  next_attempt_at = greatest(next_attempt_at,"
	"   now() + make_interval(secs => $3))"
	" WHERE id = $1 AND lease_id = $2 AND state = 'sending'"
	" RETURNING state" }};

/* Milliseconds until a message is due or a lease runs out, at most $1. */
GH_SQL(SQL_DUE) = {{
	"SELECT coalesce(least("
	"  (SELECT ceil(extract(epoch FROM min(next_attempt_at) - now())"
	"   * 1000) FROM mail_outbox WHERE state = 'queued'),"
	"  (SELECT ceil(extract(epoch FROM min(locked_until) - now())"
	"   * 1000) FROM mail_outbox WHERE state = 'sending'),"
	"  $1::bigint), $1::bigint)::bigint" }};
enum { DU_MS };

GH_SQL(SQL_PURGE) = {{
	"WITH gone AS ("
	" SELECT id FROM mail_outbox"
	"  WHERE (state = 'sent' AND sent_at < now() - make_interval(secs => $1))"
	"     OR (state = 'failed'"
	"      AND created_at < now() - make_interval(secs => $2))"
	"  LIMIT $3"
	"  FOR UPDATE SKIP LOCKED)"
	" DELETE FROM mail_outbox m USING gone WHERE m.id = gone.id"
	" RETURNING m.id" }};

GH_SQL(SQL_DOMAIN) = {{
	"SELECT current_setting('gatehouse.mail_domain', true)" }};
enum { DO_DOMAIN };

static int
failed(const char *what, const PGresult *res)
{
	if (gh_db_ok(res))
		return 0;
	gh_log_warnx("db", "%s: %s", what, res != NULL ?
	    PQresultErrorMessage(res) : "no connection");
	return 1;
}

int
outbox_listen(struct gh_arena *a)
{
	return failed("LISTEN", gh_db_run(a, SQL_LISTEN, 0, NULL)) ? -1 : 0;
}

/*
 * Claims up to mail_cfg.batch messages; *msgs (the arena's) points into
 * the result, which lives as long as the arena.  0 or -1.
 */
int
outbox_claim(struct gh_arena *a, struct mail_msg **msgs, int *n)
{
	struct mail_msg	*m;
	struct gh_row	 r;
	PGresult	*res;
	const char	*p[2];
	char		 batch[32], lease[32];
	int		 i, rows;

	*msgs = NULL;
	*n = 0;
	snprintf(batch, sizeof(batch), "%lld", mail_cfg.batch);
	snprintf(lease, sizeof(lease), "%lld", mail_cfg.lease);
	p[0] = batch;
	p[1] = lease;
	res = gh_db_run(a, SQL_CLAIM, 2, p);
	if (failed("claim", res))
		return -1;
	if ((rows = gh_rows(res)) == 0)
		return 0;
	if ((m = gh_calloc(a, (size_t)rows, sizeof(*m))) == NULL)
		return -1;
	for (i = 0; i < rows; i++) {
		r = GH_ROW(res, i);
		m[i].id = gh_row_str(&r, CL_ID);
		m[i].lease_id = gh_row_str(&r, CL_LEASE);
		m[i].message_id = gh_row_str(&r, CL_MSGID);
		m[i].to = gh_row_str(&r, CL_TO);
		m[i].template = gh_row_str(&r, CL_TEMPLATE);
		m[i].params = gh_row_str(&r, CL_PARAMS);
		m[i].attempts = gh_row_int(&r, CL_ATTEMPTS);
		m[i].created = gh_row_int(&r, CL_CREATED);
		if (r.bad >= 0) {
			gh_log_errx("db", "claim: column %d is NULL or not of "
			    "its type", r.bad);
			return -1;
		}
	}
	*msgs = m;
	*n = rows;
	return 0;
}

/* The state an update returned: 0, 1 when the lease is no longer ours. */
static int
updated(const char *what, const struct mail_msg *m, PGresult *res,
    const char **state)
{
	struct gh_row	 r;

	if (failed(what, res))
		return -1;
	if (gh_rows(res) == 0) {
		gh_log_warnx("mail", "%s %s: the lease ran out and another "
		    "mailer holds the message now; leaving it", what, m->id);
		return 1;
	}
	r = GH_ROW(res, 0);
	if (state != NULL)
		*state = gh_row_str(&r, ST_STATE);
	return 0;
}

/* Starts an attempt: m->attempts counts it.  0, 1 (not ours) or -1. */
int
outbox_begin(struct gh_arena *a, struct mail_msg *m)
{
	struct gh_row	 r;
	PGresult	*res;
	const char	*p[3];
	char		 lease[32];
	long long	 n;

	snprintf(lease, sizeof(lease), "%lld", mail_cfg.lease);
	p[0] = m->id;
	p[1] = m->lease_id;
	p[2] = lease;
	res = gh_db_run(a, SQL_BEGIN, 3, p);
	if (failed("begin", res))
		return -1;
	if (gh_rows(res) == 0) {
		gh_log_warnx("mail", "message %s: the lease ran out and "
		    "another mailer took it; leaving it", m->id);
		return 1;
	}
	r = GH_ROW(res, 0);
	n = gh_row_int(&r, BE_ATTEMPTS);
	if (r.bad >= 0)
		return -1;
	m->attempts = n;
	return 0;
}

int
outbox_sent(struct gh_arena *a, const struct mail_msg *m)
{
	const char	*p[2] = { m->id, m->lease_id };

	return updated("sent", m, gh_db_run(a, SQL_SENT, 2, p), NULL);
}

/* Queued again after delay seconds, or failed when too old: *state says. */
int
outbox_retry(struct gh_arena *a, const struct mail_msg *m, long long delay,
    const char *why, const char **state)
{
	const char	*p[5];
	char		 d[32], rf[32];

	snprintf(d, sizeof(d), "%lld", delay);
	snprintf(rf, sizeof(rf), "%lld", mail_cfg.retry_for);
	p[0] = m->id;
	p[1] = m->lease_id;
	p[2] = d;
	p[3] = rf;
	p[4] = why;
	return updated("retry", m, gh_db_run(a, SQL_RETRY, 5, p), state);
}

int
outbox_fail(struct gh_arena *a, const struct mail_msg *m, const char *why)
{
	const char	*p[3] = { m->id, m->lease_id, why };

	return updated("fail", m, gh_db_run(a, SQL_FAIL, 3, p), NULL);
}

int
outbox_release(struct gh_arena *a, const struct mail_msg *m, long long delay)
{
	const char	*p[3];
	char		 d[32];

	snprintf(d, sizeof(d), "%lld", delay);
	p[0] = m->id;
	p[1] = m->lease_id;
	p[2] = d;
	return updated("release", m, gh_db_run(a, SQL_RELEASE, 3, p), NULL);
}

/* Milliseconds until there is work, capped; the cap when unknown. */
long long
outbox_due_in_ms(struct gh_arena *a, long long cap_ms)
{
	struct gh_row	 r;
	PGresult	*res;
	const char	*p[1];
	char		 cap[32];
	long long	 ms;

	snprintf(cap, sizeof(cap), "%lld", cap_ms);
	p[0] = cap;
	res = gh_db_run(a, SQL_DUE, 1, p);
	if (failed("due", res) || gh_rows(res) != 1)
		return cap_ms;
	r = GH_ROW(res, 0);
	ms = gh_row_int(&r, DU_MS);
	if (r.bad >= 0)
		return cap_ms;
	return ms < 0 ? 0 : ms > cap_ms ? cap_ms : ms;
}

/*
 * Removes sent messages older than GH_MAIL_KEEP and failed ones older
 * than GH_MAIL_KEEP_FAILED, a few hundred rows per statement so that no
 * statement holds many locks or runs long.  The count, or -1.
 */
long long
outbox_purge(struct gh_arena *a)
{
	PGresult	*res;
	const char	*p[3];
	char		 keep[32], keepf[32], lim[32];
	long long	 total = 0;
	int		 round, n;

	snprintf(keep, sizeof(keep), "%lld", mail_cfg.keep);
	snprintf(keepf, sizeof(keepf), "%lld", mail_cfg.keep_failed);
	snprintf(lim, sizeof(lim), "%d", PURGE_BATCH);
	p[0] = keep;
	p[1] = keepf;
	p[2] = lim;
	for (round = 0; round < PURGE_ROUNDS; round++) {
		res = gh_db_run(a, SQL_PURGE, 3, p);
		if (failed("purge", res))
			return -1;
		n = gh_rows(res);
		total += n;
		if (n < PURGE_BATCH)
			break;
	}
	return total;
}

/* The database's gatehouse.mail_domain, or NULL when it is not set. */
const char *
outbox_mail_domain(struct gh_arena *a)
{
	struct gh_row	 r;
	PGresult	*res;
	const char	*d;

	res = gh_db_run(a, SQL_DOMAIN, 0, NULL);
	if (failed("mail domain", res) || gh_rows(res) != 1)
		return NULL;
	r = GH_ROW(res, 0);
	d = gh_row_str_or_null(&r, DO_DOMAIN);
	return d != NULL && *d != '\0' ? d : NULL;
}
