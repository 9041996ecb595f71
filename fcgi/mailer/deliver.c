/*
 * One batch: claim messages, then each in turn: start the attempt
 * (counted, lease renewed), build it, send it, record what became of it,
 * and log one line.  A relay that fails as a whole (down, TLS, login)
 * leaves the rest of the batch queued for the same retry, untried.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mailer.h"

static double
ms_since(const struct timespec *t0)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 +
	    (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/*
 * Seconds before the next attempt: GH_MAIL_RETRY_MIN doubled per
 * attempt, capped at GH_MAIL_RETRY_MAX, and spread over 75 to 125 %
 * so that messages failed together are not retried together.
 */
static long long
backoff(long long attempts)
{
	long long	 d = mail_cfg.retry_min, i;
	uint32_t	 r = 0;

	for (i = 1; i < attempts && d < mail_cfg.retry_max; i++)
		d *= 2;
	if (d > mail_cfg.retry_max)
		d = mail_cfg.retry_max;
	(void)gh_random(&r, sizeof(r));
	d = d * (75 + (long long)(r % 51)) / 100;
	return d < 1 ? 1 : d;
}

/* The one line per message: never its address, params or body. */
static void
log_msg(enum gh_level level, const struct mail_msg *m, const char *state,
    long code, const char *answer, double ms)
{
	struct gh_logbuf lb;

	if (!gh_log_enabled(level))
		return;
	gh_logbuf_begin(&lb, level, "mail");
	gh_logbuf_str(&lb, "func", "deliver");
	gh_logbuf_str(&lb, "id", m->id);
	gh_logbuf_str(&lb, "message_id", m->message_id);
	gh_logbuf_str(&lb, "template", m->template);
	gh_logbuf_str(&lb, "state", state);
	gh_logbuf_int(&lb, "attempts", m->attempts);
	if (code > 0)
		gh_logbuf_int(&lb, "smtp_code", code);
	gh_logbuf_str(&lb, "answer", answer);
	if (ms >= 0)
		gh_logbuf_ms(&lb, "duration_ms", ms);
	gh_logbuf_end(&lb);
}

/*
 * The relay has the message: the outbox must say so before anything
 * else, or the message is sent again when its lease runs out.  So a
 * database that does not answer is asked again, once a second, for as
 * long as the lease holds.
 */
static void
mark_sent(struct gh_arena *a, const struct mail_msg *m)
{
	long long	 i;

	for (i = 0; i <= mail_cfg.lease / 2; i++) {
		if (outbox_sent(a, m) >= 0)
			return;
		sleep(1);
	}
	gh_log_errx("mail", "message %s was sent but the outbox could not "
	    "be told: it will be sent again when its lease runs out",
	    m->id);
}

/*
 * Delivers one claimed message.  *relay_delay is set when the relay
 * failed as a whole.  0, or -1 when the database failed.
 */
static int
deliver_one(struct gh_arena *a, struct smtp_conn **conn, struct mail_msg *m,
    long long *relay_delay)
{
	struct smtp_answer ans;
	struct timespec	 t0;
	const char	*state = "queued";
	char		 err[MAIL_ANSWER_MAX], *msg;
	size_t		 len;
	long long	 delay;
	int		 rc;

	if ((rc = outbox_begin(a, m)) != 0)
		return rc > 0 ? 0 : -1;
	if (mail_compose(a, m, &msg, &len, err, sizeof(err)) != 0) {
		if (outbox_fail(a, m, err) < 0)
			return -1;
		log_msg(GH_LOG_ERROR, m, "failed", 0, err, -1);
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (*conn == NULL && (*conn = smtp_open()) == NULL) {
		memset(&ans, 0, sizeof(ans));
		ans.outcome = SMTP_TEMPFAIL;
		ans.relay = 1;
		snprintf(ans.text, sizeof(ans.text), "libcurl could not be "
		    "set up");
	} else
		smtp_send(*conn, m->to, msg, len, &ans);
	switch (ans.outcome) {
	case SMTP_SENT:
		mark_sent(a, m);
		log_msg(GH_LOG_INFO, m, "sent", ans.code, ans.text,
		    ms_since(&t0));
		return 0;
	case SMTP_PERMFAIL:
		if (outbox_fail(a, m, ans.text) < 0)
			return -1;
		log_msg(GH_LOG_ERROR, m, "failed", ans.code, ans.text,
		    ms_since(&t0));
		return 0;
	case SMTP_TEMPFAIL:
		break;
	}
	delay = backoff(m->attempts);
	if (outbox_retry(a, m, delay, ans.text, &state) < 0)
		return -1;
	if (ans.relay)
		*relay_delay = delay;
	log_msg(strcmp(state, "failed") == 0 ? GH_LOG_ERROR : GH_LOG_WARN, m,
	    state, ans.code, ans.text, ms_since(&t0));
	return 0;
}

/*
 * Claims one batch and delivers it.  stop() is asked between messages:
 * when it says so, the message in flight has been finished and the rest
 * are given back at once, due now, for another mailer or the next start.
 * The number claimed, or -1 when the database failed (what is still held
 * is taken again when its lease runs out).
 */
int
mail_deliver_batch(int (*stop)(void))
{
	struct gh_arena	 batch, one;
	struct mail_msg	*msgs;
	struct smtp_conn *conn = NULL;
	long long	 relay_delay = -1;
	int		 i, n, rc = -1;

	gh_arena_init(&batch);
	gh_arena_init(&one);
	if (outbox_claim(&batch, &msgs, &n) != 0)
		goto done;
	for (i = 0; i < n; i++) {
		if (relay_delay >= 0 || stop()) {
			if (outbox_release(&one, &msgs[i], relay_delay >= 0 ?
			    relay_delay : 0) < 0)
				goto done;
		} else if (deliver_one(&one, &conn, &msgs[i],
		    &relay_delay) != 0)
			goto done;
		gh_arena_reset(&one);
	}
	rc = n;
done:
	/* QUIT, after the outbox has heard of every message. */
	smtp_close(conn);
	gh_arena_free(&one);
	gh_arena_free(&batch);
	return rc;
}
