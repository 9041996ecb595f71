/*
 * The payment state machine (fcgi/payment/state.c): the edges it allows
 * and, far more of them, the ones it refuses; the refund rules; the texts
 * of the 409 answers, which clients read.  The machine is written out
 * again below on purpose: a change to state.c must be made here too.
 */
#include <stdio.h>

#include "unit.h"
#include "state.h"

#define ALL_BY	(PAY_BY_OWNER | PAY_BY_ADMIN | PAY_BY_PROVIDER | \
		PAY_BY_REFUND | PAY_BY_REFUND_ALL)

static const unsigned each_by[] = {
	PAY_BY_OWNER, PAY_BY_ADMIN, PAY_BY_PROVIDER, PAY_BY_REFUND,
	PAY_BY_REFUND_ALL
};
#define NBY	(sizeof(each_by) / sizeof(each_by[0]))

static const struct {
	enum pay_status	 from, to;
	unsigned	 by;
} machine[] = {
	{ PAY_PENDING, PAY_PROCESSING, PAY_BY_ADMIN | PAY_BY_PROVIDER },
	{ PAY_PENDING, PAY_SUCCEEDED, PAY_BY_PROVIDER },
	{ PAY_PENDING, PAY_FAILED, PAY_BY_PROVIDER },
	{ PAY_PENDING, PAY_CANCELED, PAY_BY_OWNER | PAY_BY_ADMIN |
	    PAY_BY_PROVIDER },
	{ PAY_PROCESSING, PAY_SUCCEEDED, PAY_BY_ADMIN | PAY_BY_PROVIDER },
	{ PAY_PROCESSING, PAY_FAILED, PAY_BY_ADMIN | PAY_BY_PROVIDER },
	{ PAY_PROCESSING, PAY_CANCELED, PAY_BY_OWNER | PAY_BY_ADMIN |
	    PAY_BY_PROVIDER },
	{ PAY_SUCCEEDED, PAY_PARTIALLY_REFUNDED, PAY_BY_REFUND },
	{ PAY_SUCCEEDED, PAY_REFUNDED, PAY_BY_REFUND_ALL },
	{ PAY_PARTIALLY_REFUNDED, PAY_PARTIALLY_REFUNDED, PAY_BY_REFUND },
	{ PAY_PARTIALLY_REFUNDED, PAY_REFUNDED, PAY_BY_REFUND_ALL },
};
#define NMACHINE	(sizeof(machine) / sizeof(machine[0]))

/* Whether the machine above lets one of `by` go from `from` to `to`. */
static int
want(int from, int to, unsigned by)
{
	size_t	 i;

	for (i = 0; i < NMACHINE; i++)
		if ((int)machine[i].from == from && (int)machine[i].to == to &&
		    (machine[i].by & by) != 0)
			return 1;
	return 0;
}

/* Statuses, and values that are none: before, after, far off. */
static const int any_status[] = {
	PAY_NONE, PAY_PENDING, PAY_PROCESSING, PAY_SUCCEEDED, PAY_FAILED,
	PAY_CANCELED, PAY_PARTIALLY_REFUNDED, PAY_REFUNDED, PAY__NSTATUS,
	PAY__NSTATUS + 1, 31, -2, -100
};
#define NANY	(sizeof(any_status) / sizeof(any_status[0]))

START_TEST(every_edge_allowed)
{
	size_t	 i, b;

	for (i = 0; i < NMACHINE; i++)
		for (b = 0; b < NBY; b++)
			if (machine[i].by & each_by[b])
				ck_assert_msg(pay_may(machine[i].from,
				    machine[i].to, each_by[b]),
				    "%s -> %s by %#x refused",
				    pay_status_name(machine[i].from),
				    pay_status_name(machine[i].to), each_by[b]);
}
END_TEST

START_TEST(every_other_pair_refused)
{
	size_t	 i, j, b;
	int	 refused = 0;

	for (i = 0; i < NANY; i++)
		for (j = 0; j < NANY; j++)
			for (b = 0; b < NBY; b++) {
				if (want(any_status[i], any_status[j],
				    each_by[b]))
					continue;
				ck_assert_msg(!pay_may(any_status[i],
				    any_status[j], each_by[b]),
				    "%d -> %d by %#x allowed", any_status[i],
				    any_status[j], each_by[b]);
				refused++;
			}
	/* Nobody at all is nobody. */
	for (i = 0; i < NMACHINE; i++)
		ck_assert(!pay_may(machine[i].from, machine[i].to, 0));
	ck_assert_int_gt(refused, 700);
}
END_TEST

START_TEST(self_transitions_refused)
{
	int	 s;

	/* Keeping a status is a change only for a second partial refund. */
	for (s = 0; s < PAY__NSTATUS; s++) {
		ck_assert(!pay_may(s, s, PAY_BY_OWNER | PAY_BY_ADMIN |
		    PAY_BY_PROVIDER | PAY_BY_REFUND_ALL));
		ck_assert_int_eq(pay_may(s, s, PAY_BY_REFUND),
		    s == PAY_PARTIALLY_REFUNDED);
	}
	ck_assert(!pay_may(PAY_NONE, PAY_NONE, ALL_BY));
	ck_assert(!pay_may(PAY__NSTATUS, PAY__NSTATUS, ALL_BY));
}
END_TEST

START_TEST(terminal_states_have_no_exits)
{
	static const enum pay_status final[] = {
		PAY_FAILED, PAY_CANCELED, PAY_REFUNDED
	};
	size_t	 i;
	int	 to;

	for (i = 0; i < sizeof(final) / sizeof(final[0]); i++) {
		ck_assert_uint_eq(pay_next(final[i], ALL_BY), 0);
		for (to = PAY_NONE; to <= PAY__NSTATUS; to++)
			ck_assert(!pay_may(final[i], to, ALL_BY));
		ck_assert(!pay_refundable(final[i]));
	}
	/* Nothing leads back to the start. */
	ck_assert_uint_eq(pay_from(PAY_PENDING, ALL_BY), 0);
	ck_assert_int_eq(pay_initial(), PAY_PENDING);
}
END_TEST

START_TEST(who_may_do_what)
{
	ck_assert_uint_eq(pay_targets(PAY_BY_OWNER), PAY_SET(PAY_CANCELED));
	ck_assert_uint_eq(pay_targets(PAY_BY_ADMIN), PAY_SET(PAY_PROCESSING) |
	    PAY_SET(PAY_SUCCEEDED) | PAY_SET(PAY_FAILED) |
	    PAY_SET(PAY_CANCELED));
	ck_assert_uint_eq(pay_targets(PAY_BY_PROVIDER),
	    pay_targets(PAY_BY_ADMIN));
	ck_assert_uint_eq(pay_targets(PAY_BY_REFUNDS),
	    PAY_SET(PAY_PARTIALLY_REFUNDED) | PAY_SET(PAY_REFUNDED));
	ck_assert_uint_eq(pay_targets(0), 0);
	ck_assert_uint_eq(pay_from(PAY_CANCELED, PAY_BY_OWNER),
	    PAY_SET(PAY_PENDING) | PAY_SET(PAY_PROCESSING));
	ck_assert_uint_eq(pay_from(PAY_SUCCEEDED, PAY_BY_ADMIN),
	    PAY_SET(PAY_PROCESSING));
	ck_assert_uint_eq(pay_from(PAY_SUCCEEDED, PAY_BY_PROVIDER),
	    PAY_SET(PAY_PENDING) | PAY_SET(PAY_PROCESSING));
}
END_TEST

START_TEST(nobody_else_may)
{
	/* The owner only cancels; a provider and an admin never refund. */
	ck_assert(!pay_may(PAY_PENDING, PAY_PROCESSING, PAY_BY_OWNER));
	ck_assert(!pay_may(PAY_PROCESSING, PAY_SUCCEEDED, PAY_BY_OWNER));
	ck_assert(!pay_may(PAY_SUCCEEDED, PAY_REFUNDED, PAY_BY_OWNER));
	ck_assert(!pay_may(PAY_SUCCEEDED, PAY_REFUNDED, PAY_BY_PROVIDER));
	ck_assert(!pay_may(PAY_SUCCEEDED, PAY_REFUNDED, PAY_BY_ADMIN));
	ck_assert(!pay_may(PAY_SUCCEEDED, PAY_PARTIALLY_REFUNDED,
	    PAY_BY_ADMIN | PAY_BY_PROVIDER | PAY_BY_REFUND_ALL));
	/* Only a provider skips processing. */
	ck_assert(!pay_may(PAY_PENDING, PAY_SUCCEEDED, PAY_BY_API));
	ck_assert(!pay_may(PAY_PENDING, PAY_FAILED, PAY_BY_API));
	/* A refund refunds: it neither settles nor cancels. */
	ck_assert(!pay_may(PAY_PENDING, PAY_REFUNDED, ALL_BY));
	ck_assert(!pay_may(PAY_PROCESSING, PAY_CANCELED, PAY_BY_REFUNDS));
	ck_assert(!pay_may(PAY_REFUNDED, PAY_SUCCEEDED, ALL_BY));
	ck_assert(!pay_may(PAY_SUCCEEDED, PAY_PROCESSING, ALL_BY));
	ck_assert(!pay_may(PAY_SUCCEEDED, PAY_CANCELED, ALL_BY));
	ck_assert(!pay_may(PAY_SUCCEEDED, PAY_FAILED, ALL_BY));
	ck_assert(!pay_may(PAY_PARTIALLY_REFUNDED, PAY_SUCCEEDED, ALL_BY));
}
END_TEST

START_TEST(refund_rules)
{
	ck_assert(pay_refundable(PAY_SUCCEEDED));
	ck_assert(pay_refundable(PAY_PARTIALLY_REFUNDED));
	ck_assert_int_eq(pay_refund_to(PAY_SUCCEEDED, 0),
	    PAY_PARTIALLY_REFUNDED);
	ck_assert_int_eq(pay_refund_to(PAY_SUCCEEDED, 1), PAY_REFUNDED);
	ck_assert_int_eq(pay_refund_to(PAY_PARTIALLY_REFUNDED, 0),
	    PAY_PARTIALLY_REFUNDED);
	ck_assert_int_eq(pay_refund_to(PAY_PARTIALLY_REFUNDED, 1),
	    PAY_REFUNDED);
}
END_TEST

START_TEST(refunds_refused)
{
	static const int no[] = {
		PAY_PENDING, PAY_PROCESSING, PAY_FAILED, PAY_CANCELED,
		PAY_REFUNDED, PAY_NONE, PAY__NSTATUS, 31, -2
	};
	size_t	 i;

	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		ck_assert_msg(!pay_refundable(no[i]), "%d refundable", no[i]);
		ck_assert_int_eq(pay_refund_to(no[i], 0), PAY_NONE);
		ck_assert_int_eq(pay_refund_to(no[i], 1), PAY_NONE);
	}
}
END_TEST

START_TEST(names)
{
	int	 s;

	for (s = 0; s < PAY__NSTATUS; s++) {
		ck_assert_ptr_nonnull(pay_status_names[s]);
		ck_assert_int_eq(pay_status_of(pay_status_names[s]), s);
		ck_assert_str_eq(pay_status_name(s), pay_status_names[s]);
	}
	ck_assert_ptr_null(pay_status_names[PAY__NSTATUS]);
	ck_assert_str_eq(pay_status_name(PAY_PARTIALLY_REFUNDED),
	    "partially_refunded");
}
END_TEST

START_TEST(unknown_names_refused)
{
	static const char *const bad[] = {
		"", "Pending", "PENDING", "pending ", " pending", "pend",
		"pendingx", "partially refunded", "refund", "paid",
		"canceled\n", "succeded", "cancelled"
	};
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(pay_status_of(bad[i]), PAY_NONE);
	ck_assert_int_eq(pay_status_of(NULL), PAY_NONE);
	ck_assert_ptr_null(pay_status_name(PAY_NONE));
	ck_assert_ptr_null(pay_status_name(PAY__NSTATUS));
	ck_assert_ptr_null(pay_status_name(-7));
}
END_TEST

START_TEST(set_texts)
{
	unsigned	 two = PAY_SET(PAY_PENDING) | PAY_SET(PAY_PROCESSING);
	unsigned	 three = two | PAY_SET(PAY_PARTIALLY_REFUNDED);
	char		 b[128];

	ck_assert_int_eq(pay_set_text(two, PAY_TEXT_ARRAY, b, sizeof(b)), 0);
	ck_assert_str_eq(b, "{pending,processing}");
	ck_assert_int_eq(pay_set_text(0, PAY_TEXT_ARRAY, b, sizeof(b)), 0);
	ck_assert_str_eq(b, "{}");
	ck_assert_int_eq(pay_set_text(two, PAY_TEXT_OR, b, sizeof(b)), 0);
	ck_assert_str_eq(b, "pending or processing");
	ck_assert_int_eq(pay_set_text(three, PAY_TEXT_OR, b, sizeof(b)), 0);
	ck_assert_str_eq(b, "pending, processing or partially_refunded");
	ck_assert_int_eq(pay_set_text(three, PAY_TEXT_LIST | PAY_TEXT_WORDS,
	    b, sizeof(b)), 0);
	ck_assert_str_eq(b, "pending, processing, partially refunded");
	ck_assert_int_eq(pay_set_text(PAY_SET(PAY_FAILED), PAY_TEXT_OR, b,
	    sizeof(b)), 0);
	ck_assert_str_eq(b, "failed");
}
END_TEST

START_TEST(set_texts_that_do_not_fit)
{
	unsigned	 two = PAY_SET(PAY_PENDING) | PAY_SET(PAY_PROCESSING);
	char		 b[32];

	ck_assert_int_eq(pay_set_text(two, PAY_TEXT_ARRAY, b, 0), -1);
	/* "{pending,processing}" is 20 characters and its NUL. */
	ck_assert_int_eq(pay_set_text(two, PAY_TEXT_ARRAY, b, 20), -1);
	ck_assert_int_eq(pay_set_text(two, PAY_TEXT_ARRAY, b, 21), 0);
	ck_assert_int_eq(pay_set_text(two, PAY_TEXT_ARRAY, b, 1), -1);
	ck_assert_int_eq(pay_set_text(two, PAY_TEXT_OR, b, 8), -1);
	ck_assert_int_eq(pay_set_text(0, PAY_TEXT_ARRAY, b, 2), -1);
}
END_TEST

/* The texts clients read, as they were before the table derived them. */
START_TEST(conflict_texts)
{
	struct pay_conflict c;

	ck_assert_int_eq(pay_conflict(PAY_CANCELED, PAY_PROCESSING,
	    PAY_BY_ADMIN, &c), 0);
	ck_assert_str_eq(c.detail, "the payment is canceled; it can become "
	    "processing only from pending; from canceled it can become none "
	    "(final)");
	ck_assert_str_eq(c.allowed_from, "pending");
	ck_assert_str_eq(c.allowed_next, "none (final)");
	ck_assert_int_eq(pay_conflict(PAY_PENDING, PAY_SUCCEEDED,
	    PAY_BY_ADMIN, &c), 0);
	ck_assert_str_eq(c.allowed_from, "processing");
	ck_assert_str_eq(c.allowed_next, "processing, canceled");
	ck_assert_int_eq(pay_conflict(PAY_SUCCEEDED, PAY_CANCELED,
	    PAY_BY_OWNER, &c), 0);
	ck_assert_str_eq(c.detail, "the payment is succeeded; it can become "
	    "canceled only from pending or processing; from succeeded it can "
	    "become partially_refunded, refunded (by a refund)");
	ck_assert_int_eq(pay_conflict(PAY_PARTIALLY_REFUNDED, PAY_PROCESSING,
	    PAY_BY_ADMIN, &c), 0);
	ck_assert_str_eq(c.allowed_next,
	    "partially_refunded, refunded (by a refund)");
	ck_assert_int_eq(pay_conflict(PAY_PROCESSING, PAY_PROCESSING,
	    PAY_BY_ADMIN, &c), 0);
	ck_assert_str_eq(c.allowed_next, "succeeded, failed, canceled");
	/* Nothing leads there for the owner. */
	ck_assert_int_eq(pay_conflict(PAY_PENDING, PAY_SUCCEEDED,
	    PAY_BY_OWNER, &c), 0);
	ck_assert_str_eq(c.allowed_from, "none");
	ck_assert_int_eq(pay_refund_conflict(PAY_PENDING, &c), 0);
	ck_assert_str_eq(c.detail, "the payment is pending; only a succeeded "
	    "or partially refunded payment can be refunded");
	ck_assert_str_eq(c.allowed_from, "succeeded, partially_refunded");
}
END_TEST

START_TEST(conflicts_about_no_status)
{
	struct pay_conflict c;
	int	 s;

	ck_assert_int_eq(pay_conflict(PAY_NONE, PAY_CANCELED, PAY_BY_ADMIN,
	    &c), -1);
	ck_assert_int_eq(pay_conflict(PAY__NSTATUS, PAY_CANCELED,
	    PAY_BY_ADMIN, &c), -1);
	ck_assert_int_eq(pay_conflict(PAY_PENDING, PAY_NONE, PAY_BY_ADMIN,
	    &c), -1);
	ck_assert_int_eq(pay_conflict(PAY_PENDING, 40, PAY_BY_ADMIN, &c), -1);
	ck_assert_int_eq(pay_refund_conflict(PAY_NONE, &c), -1);
	ck_assert_int_eq(pay_refund_conflict(PAY__NSTATUS, &c), -1);
	/* Every real pair has its whole text: nothing is cut. */
	for (s = 0; s < PAY__NSTATUS * PAY__NSTATUS; s++)
		ck_assert_int_eq(pay_conflict(s / PAY__NSTATUS,
		    s % PAY__NSTATUS, PAY_BY_API, &c), 0);
}
END_TEST

/* What PostgreSQL's payment_transitions must hold: changes only, once. */
START_TEST(transitions_for_postgres)
{
	char	*buf = NULL, line[80], *p;
	size_t	 len = 0, i, n = 0;
	FILE	*fp;

	ck_assert_ptr_nonnull(fp = open_memstream(&buf, &len));
	ck_assert_int_eq(pay_transitions_print(fp), 0);
	fclose(fp);
	for (i = 0; i < NMACHINE; i++) {
		snprintf(line, sizeof(line), "%s %s\n",
		    pay_status_name(machine[i].from),
		    pay_status_name(machine[i].to));
		if (machine[i].from == machine[i].to) {
			ck_assert_msg(strstr(buf, line) == NULL, "%s", line);
			continue;
		}
		ck_assert_ptr_nonnull(p = strstr(buf, line));
		ck_assert_ptr_null(strstr(p + 1, line));
		n++;
	}
	for (i = 0, p = buf; *p != '\0'; p++)
		i += *p == '\n';
	ck_assert_uint_eq(i, n);
	free(buf);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("state");
	TCase	*tc = tcase_create("state");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, every_edge_allowed);
	tcase_add_test(tc, every_other_pair_refused);
	tcase_add_test(tc, self_transitions_refused);
	tcase_add_test(tc, terminal_states_have_no_exits);
	tcase_add_test(tc, who_may_do_what);
	tcase_add_test(tc, nobody_else_may);
	tcase_add_test(tc, refund_rules);
	tcase_add_test(tc, refunds_refused);
	tcase_add_test(tc, names);
	tcase_add_test(tc, unknown_names_refused);
	tcase_add_test(tc, set_texts);
	tcase_add_test(tc, set_texts_that_do_not_fit);
	tcase_add_test(tc, conflict_texts);
	tcase_add_test(tc, conflicts_about_no_status);
	tcase_add_test(tc, transitions_for_postgres);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
