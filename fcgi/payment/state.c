/*
 * The payment state machine.  A payment is created pending and changes
 * status only along these edges:
 *
 *	pending -> processing -> succeeded | failed
 *	pending | processing -> canceled
 *	pending -> succeeded | failed		(a provider's event only)
 *	succeeded | partially_refunded -> partially_refunded | refunded
 *						(refunds only)
 *
 * The picture is for people; the table below is what the code obeys.
 */
#include <stdio.h>
#include <string.h>

#include "state.h"

const char *const pay_status_names[PAY__NSTATUS + 1] = {
	[PAY_PENDING] =			"pending",
	[PAY_PROCESSING] =		"processing",
	[PAY_SUCCEEDED] =		"succeeded",
	[PAY_FAILED] =			"failed",
	[PAY_CANCELED] =		"canceled",
	[PAY_PARTIALLY_REFUNDED] =	"partially_refunded",
	[PAY_REFUNDED] =		"refunded",
	[PAY__NSTATUS] =		NULL
};

struct pay_edge {
	enum pay_status	 from;
	enum pay_status	 to;
	unsigned	 by;
};

static const struct pay_edge edges[] = {
	{ PAY_PENDING,		PAY_PROCESSING,	PAY_BY_ADMIN | PAY_BY_PROVIDER },
	/* A provider may tell the outcome without telling processing first. */
	{ PAY_PENDING,		PAY_SUCCEEDED,	PAY_BY_PROVIDER },
	{ PAY_PENDING,		PAY_FAILED,	PAY_BY_PROVIDER },
	{ PAY_PENDING,		PAY_CANCELED,	PAY_BY_API | PAY_BY_PROVIDER },
	{ PAY_PROCESSING,	PAY_SUCCEEDED,	PAY_BY_ADMIN | PAY_BY_PROVIDER },
	{ PAY_PROCESSING,	PAY_FAILED,	PAY_BY_ADMIN | PAY_BY_PROVIDER },
	{ PAY_PROCESSING,	PAY_CANCELED,	PAY_BY_API | PAY_BY_PROVIDER },
	{ PAY_SUCCEEDED,	PAY_PARTIALLY_REFUNDED, PAY_BY_REFUND },
	{ PAY_SUCCEEDED,	PAY_REFUNDED,	PAY_BY_REFUND_ALL },
	/*
	 * The one edge that is no change of status: a partial refund of a
	 * partially refunded payment.  PostgreSQL's table lists changes
	 * only, and lets an UPDATE that keeps the status through.
	 */
	{ PAY_PARTIALLY_REFUNDED, PAY_PARTIALLY_REFUNDED, PAY_BY_REFUND },
	{ PAY_PARTIALLY_REFUNDED, PAY_REFUNDED,	PAY_BY_REFUND_ALL },
};
#define NEDGES	(sizeof(edges) / sizeof(edges[0]))

static int
is_status(enum pay_status s)
{
	return s >= 0 && s < PAY__NSTATUS;
}

enum pay_status
pay_status_of(const char *s)
{
	int	 i;

	if (s == NULL)
		return PAY_NONE;
	for (i = 0; i < PAY__NSTATUS; i++)
		if (strcmp(pay_status_names[i], s) == 0)
			return (enum pay_status)i;
	return PAY_NONE;
}

const char *
pay_status_name(enum pay_status s)
{
	return is_status(s) ? pay_status_names[s] : NULL;
}

/* Whether one of `by` may move a payment from `from` to `to`. */
int
pay_may(enum pay_status from, enum pay_status to, unsigned by)
{
	size_t	 i;

	for (i = 0; i < NEDGES; i++)
		if (edges[i].from == from && edges[i].to == to &&
		    (edges[i].by & by) != 0)
			return 1;
	return 0;
}

/* The statuses one of `by` may move a payment to `to` from. */
unsigned
pay_from(enum pay_status to, unsigned by)
{
	unsigned	 set = 0;
	size_t		 i;

	for (i = 0; i < NEDGES; i++)
		if (edges[i].to == to && (edges[i].by & by) != 0)
			set |= PAY_SET(edges[i].from);
	return set;
}

/* The statuses one of `by` may move a payment in `from` to. */
unsigned
pay_next(enum pay_status from, unsigned by)
{
	unsigned	 set = 0;
	size_t		 i;

	for (i = 0; i < NEDGES; i++)
		if (edges[i].from == from && (edges[i].by & by) != 0)
			set |= PAY_SET(edges[i].to);
	return set;
}

/* The statuses one of `by` may move some payment to. */
unsigned
pay_targets(unsigned by)
{
	unsigned	 set = 0;
	size_t		 i;

	for (i = 0; i < NEDGES; i++)
		if ((edges[i].by & by) != 0)
			set |= PAY_SET(edges[i].to);
	return set;
}

/*
 * Where a payment starts: the one status no change leads to.  PostgreSQL
 * finds it the same way, so the table is all it needs to know.
 */
enum pay_status
pay_initial(void)
{
	unsigned	 reached = 0;
	size_t		 i;
	int		 s, found = PAY_NONE;

	for (i = 0; i < NEDGES; i++)
		if (edges[i].from != edges[i].to)
			reached |= PAY_SET(edges[i].to);
	for (s = 0; s < PAY__NSTATUS; s++) {
		if (reached & PAY_SET(s))
			continue;
		if (found != PAY_NONE)
			return PAY_NONE;
		found = s;
	}
	return (enum pay_status)found;
}

int
pay_refundable(enum pay_status s)
{
	return pay_next(s, PAY_BY_REFUNDS) != 0;
}

/*
 * Where a refund leaves a payment in `from`: all is set when it refunds
 * everything left.  PAY_NONE when a payment in `from` cannot be refunded.
 */
enum pay_status
pay_refund_to(enum pay_status from, int all)
{
	unsigned	 set;
	int		 s;

	set = pay_next(from, all ? PAY_BY_REFUND_ALL : PAY_BY_REFUND);
	for (s = 0; s < PAY__NSTATUS; s++)
		if (set & PAY_SET(s))
			return (enum pay_status)s;
	return PAY_NONE;
}

/* Appends s to buf; -1 when it does not fit. */
static int
cat(char *buf, size_t len, size_t *off, const char *s, int words)
{
	size_t	 n = strlen(s), i;

	if (n >= len - *off)
		return -1;
	for (i = 0; i < n; i++)
		buf[*off + i] = words && s[i] == '_' ? ' ' : s[i];
	*off += n;
	buf[*off] = '\0';
	return 0;
}

/*
 * A set of statuses as text, in the enum's order (the order of the
 * machine): see PAY_TEXT_*.  0, or -1 when buf is too small.
 */
int
pay_set_text(unsigned set, int style, char *buf, size_t len)
{
	const char	*sep;
	size_t		 off = 0;
	int		 s, n = 0, total = 0, words = style & PAY_TEXT_WORDS;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	for (s = 0; s < PAY__NSTATUS; s++)
		if (set & PAY_SET(s))
			total++;
	if ((style & PAY_TEXT_ARRAY) && cat(buf, len, &off, "{", 0) != 0)
		return -1;
	for (s = 0; s < PAY__NSTATUS; s++) {
		if (!(set & PAY_SET(s)))
			continue;
		if (style & PAY_TEXT_ARRAY)
			sep = ",";
		else if ((style & PAY_TEXT_OR) && n == total - 1)
			sep = " or ";
		else
			sep = ", ";
		if ((n > 0 && cat(buf, len, &off, sep, 0) != 0) ||
		    cat(buf, len, &off, pay_status_names[s], words) != 0)
			return -1;
		n++;
	}
	if ((style & PAY_TEXT_ARRAY) && cat(buf, len, &off, "}", 0) != 0)
		return -1;
	return 0;
}

/*
 * Where a payment in `cur` may go next through the API: the changes an
 * owner or admin may make, then those a refund makes.
 */
static int
next_text(enum pay_status cur, char *buf, size_t len)
{
	unsigned	 api = pay_next(cur, PAY_BY_API);
	unsigned	 refunds = pay_next(cur, PAY_BY_REFUNDS);
	size_t		 off;

	if (len == 0)
		return -1;
	off = 0;
	buf[0] = '\0';
	if (api == 0 && refunds == 0)
		return cat(buf, len, &off, "none (final)", 0);
	if (pay_set_text(api, PAY_TEXT_LIST, buf, len) != 0)
		return -1;
	if (refunds == 0)
		return 0;
	off = strlen(buf);
	if (off > 0 && cat(buf, len, &off, "; ", 0) != 0)
		return -1;
	if (pay_set_text(refunds, PAY_TEXT_LIST, buf + off, len - off) != 0)
		return -1;
	off = strlen(buf);
	return cat(buf, len, &off, " (by a refund)", 0);
}

/*
 * The answer to one of `by` asking a payment in `cur` to become `to`
 * when the table does not allow it.  0, or -1 when a text is cut.
 */
int
pay_conflict(enum pay_status cur, enum pay_status to, unsigned by,
    struct pay_conflict *c)
{
	unsigned	 from = pay_from(to, by);
	int		 n;

	memset(c, 0, sizeof(*c));
	if (!is_status(cur) || !is_status(to))
		return -1;
	/* Nothing leads there for this caller: say so rather than "". */
	if (from == 0)
		(void)snprintf(c->allowed_from, sizeof(c->allowed_from),
		    "none");
	else if (pay_set_text(from, PAY_TEXT_OR, c->allowed_from,
	    sizeof(c->allowed_from)) != 0)
		return -1;
	if (next_text(cur, c->allowed_next, sizeof(c->allowed_next)) != 0)
		return -1;
	n = snprintf(c->detail, sizeof(c->detail), "the payment is %s; it "
	    "can become %s only from %s; from %s it can become %s",
	    pay_status_names[cur], pay_status_names[to], c->allowed_from,
	    pay_status_names[cur], c->allowed_next);
	return n < 0 || (size_t)n >= sizeof(c->detail) ? -1 : 0;
}

/* The answer to a refund of a payment in `cur`, which is not refundable. */
int
pay_refund_conflict(enum pay_status cur, struct pay_conflict *c)
{
	char		 words[128];
	unsigned	 set = 0;
	int		 s, n;

	memset(c, 0, sizeof(*c));
	if (!is_status(cur))
		return -1;
	for (s = 0; s < PAY__NSTATUS; s++)
		if (pay_refundable(s))
			set |= PAY_SET(s);
	if (pay_set_text(set, PAY_TEXT_LIST, c->allowed_from,
	    sizeof(c->allowed_from)) != 0 ||
	    pay_set_text(set, PAY_TEXT_OR | PAY_TEXT_WORDS, words,
	    sizeof(words)) != 0)
		return -1;
	n = snprintf(c->detail, sizeof(c->detail), "the payment is %s; only "
	    "a %s payment can be refunded", pay_status_names[cur], words);
	return n < 0 || (size_t)n >= sizeof(c->detail) ? -1 : 0;
}

/*
 * The changes of status, "from to" a line, as PostgreSQL's
 * payment_transitions holds them (an edge that keeps the status is no
 * change, and is not there).  0, or -1 when the output failed.
 */
int
pay_transitions_print(FILE *fp)
{
	size_t	 i;

	for (i = 0; i < NEDGES; i++)
		if (edges[i].from != edges[i].to)
			fprintf(fp, "%s %s\n", pay_status_names[edges[i].from],
			    pay_status_names[edges[i].to]);
	return fflush(fp) != 0 || ferror(fp) ? -1 : 0;
}
