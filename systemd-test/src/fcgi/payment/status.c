/*
 * The state machine, refunds and the ledger.  Every change is an UPDATE
 * that names the states it may start from, so of two racing changes one
 * wins and the other finds the new state; its ledger row is written in
 * the same transaction.
 *
 *	pending -> processing -> succeeded | failed
 *	pending | processing -> canceled
 *	succeeded | partially_refunded -> partially_refunded | refunded
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "payment.h"

GH_SQL(SQL_LEDGER) = {{
    "INSERT INTO transactions (payment_id, kind, from_status, to_status, "
    " amount, actor, actor_id, request_id, reason) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)" }};

/* o.status is the state before the change: the row locked, then read. */
GH_SQL(SQL_TRANSITION) = {{
    "UPDATE payments p SET status = $3, updated_at = now() "
    "FROM (SELECT id, status FROM payments WHERE reference = $1 "
    " AND ($2::uuid IS NULL OR user_id = $2) FOR UPDATE) o "
    "WHERE p.id = o.id AND p.status = ANY($4::text[]) "
    "RETURNING " PAY_COLS ", o.status" }};

GH_SQL(SQL_STATUS) = {{
    "SELECT p.status FROM payments p "
    "WHERE p.reference = $1 AND ($2::uuid IS NULL OR p.user_id = $2)" }};

GH_SQL(SQL_LOCK) = {{
    "SELECT p.id, p.status, p.amount, p.refunded_amount FROM payments p "
    "WHERE p.reference = $1 FOR UPDATE" }};

GH_SQL(SQL_REFUND) = {{
    "UPDATE payments p SET refunded_amount = p.refunded_amount + $2, "
    " status = CASE WHEN p.refunded_amount + $2 = p.amount "
    "  THEN 'refunded' ELSE 'partially_refunded' END, updated_at = now() "
    "WHERE p.id = $1 AND p.status IN ('succeeded', 'partially_refunded') "
    "AND p.refunded_amount + $2 <= p.amount "
    "RETURNING " PAY_COLS }};

GH_SQL(SQL_LEDGER_LIST) = {{
    "SELECT t.kind, t.from_status, t.to_status, t.amount, t.actor, "
    " t.actor_id, t.request_id, t.reason, " TS("t.at") ", t.id "
    "FROM transactions t JOIN payments p ON p.id = t.payment_id "
    "WHERE p.reference = $1 AND ($2::uuid IS NULL OR p.user_id = $2) "
    "ORDER BY t.id LIMIT 1001" }};

struct edge {
	const char	*to;
	const char	*from;		/* an admin or owner change */
	const char	*from_provider;	/* a provider's event may skip ahead */
};

/* As PostgreSQL array literals, for "status = ANY($n::text[])". */
static const struct edge edges[] = {
	{ "processing",	"{pending}",		"{pending}" },
	{ "succeeded",	"{processing}",		"{pending,processing}" },
	{ "failed",	"{processing}",		"{pending,processing}" },
	{ "canceled",	"{pending,processing}",	"{pending,processing}" },
	{ NULL, NULL, NULL }
};

/* Where a payment may go next, for the answer to a refused change. */
static const char *
next_of(const char *from)
{
	if (strcmp(from, "pending") == 0)
		return "processing, canceled";
	if (strcmp(from, "processing") == 0)
		return "succeeded, failed, canceled";
	if (strcmp(from, "succeeded") == 0 ||
	    strcmp(from, "partially_refunded") == 0)
		return "partially_refunded, refunded (by a refund)";
	return "none (final)";
}

const char *
pay_allowed_from(const char *to, int provider)
{
	const struct edge *e;

	for (e = edges; e->to != NULL; e++)
		if (strcmp(e->to, to) == 0)
			return provider ? e->from_provider : e->from;
	return NULL;
}

int
pay_ledger(struct gh_req *req, const char *payment_id, const char *kind,
    const char *from, const char *to, long long amount, const char *actor,
    const char *actor_id, const char *reason)
{
	const char	*p[9];

	p[0] = payment_id;
	p[1] = kind;
	p[2] = from;
	p[3] = to;
	p[4] = gh_printf(&req->arena, "%lld", amount);
	p[5] = actor;
	p[6] = actor_id;
	p[7] = req->request_id;
	p[8] = reason;
	return gh_db_query(req, SQL_LEDGER, 9, p) == NULL ? -1 : 0;
}

/* 404 when the caller cannot see it, else 409 with what is allowed. */
static void
refuse(struct gh_req *req, const char *ref, const char *owner,
    const char *to, const char *from_set)
{
	PGresult	*res;
	const char	*cur, *text;
	char		*allowed, *c;

	if ((res = gh_db_query(req, SQL_STATUS, 2,
	    (const char *[]){ ref, owner })) == NULL)
		return;
	if (PQntuples(res) == 0) {
		gh_problem(req, 404, "no such payment");
		return;
	}
	cur = PQgetvalue(res, 0, 0);
	/* "{pending,processing}" -> "pending or processing" */
	allowed = gh_strndup(&req->arena, from_set + 1, strlen(from_set) - 2);
	if (allowed == NULL || (c = strchr(allowed, ',')) == NULL)
		text = allowed;
	else {
		*c = '\0';
		text = gh_printf(&req->arena, "%s or %s", allowed, c + 1);
	}
	gh_problem_json(req, 409, gh_printf(&req->arena, "the payment is %s; "
	    "it can become %s only from %s; from %s it can become %s", cur,
	    to, text, cur, next_of(cur)), json_pack("{s:s, s:s, s:s, s:s}",
	    "current_status", cur, "requested_status", to,
	    "allowed_from", text, "allowed_next", next_of(cur)));
}

/*
 * Moves the payment to `to` and writes the ledger row, then answers with
 * the payment.  owner is NULL for an admin.
 */
static void
transition(struct gh_req *req, const char *ref, const char *owner,
    const char *to, const char *reason)
{
	PGresult	*res;
	const char	*p[4], *from_set;

	from_set = pay_allowed_from(to, 0);
	p[0] = ref;
	p[1] = owner;
	p[2] = to;
	p[3] = from_set;
	if (gh_db_begin(req) != 0 ||
	    (res = gh_db_query(req, SQL_TRANSITION, 4, p)) == NULL)
		return;
	if (PQntuples(res) == 0) {
		gh_db_rollback(req);
		refuse(req, ref, owner, to, from_set);
		return;
	}
	if (pay_ledger(req, PQgetvalue(res, 0, PAY_COL_ID), "status_change",
	    PQgetvalue(res, 0, PAY_NCOLS), to, 0,
	    owner != NULL ? "owner" : "admin", gh_auth_user(req)->sub,
	    reason) != 0 || gh_db_commit(req) != 0)
		return;
	gh_reply_json(req, 200, pay_json(res, 0, 0));
}

enum { X_REASON };
static const struct gh_field cancel_fields[] = {
	{ "reason",	GH_STRING | GH_OPTIONAL | GH_NULLABLE, .maxlen = 500 },
	{ NULL }
};

/* The owner (or an admin) cancels a payment not yet settled. */
void
pay_cancel(struct gh_req *req)
{
	struct gh_values v;
	const char	*ref;

	memset(&v, 0, sizeof(v));
	if (gh_auth_require(req, NULL) != 0 ||
	    (ref = pay_reference(req)) == NULL ||
	    (gh_has_body(req) && gh_body_json(req, cancel_fields, &v) != 0))
		return;
	transition(req, ref, pay_is_admin(req) ? NULL :
	    gh_auth_user(req)->sub, "canceled", gh_vstr(&v, X_REASON));
}

static const char *
valid_target(const char *s)
{
	return pay_allowed_from(s, 0) != NULL ? NULL :
	    "must be one of processing, succeeded, failed, canceled "
	    "(refunds have their own endpoint)";
}

enum { T_STATUS, T_REASON };
static const struct gh_field transition_fields[] = {
	{ "status",	GH_STRING, .maxlen = 20, .valid = valid_target },
	{ "reason",	GH_STRING | GH_OPTIONAL | GH_NULLABLE, .maxlen = 500 },
	{ NULL }
};

void
pay_transition(struct gh_req *req)
{
	struct gh_values v;
	const char	*ref;

	if (gh_auth_require(req, "admin") != 0 ||
	    (ref = pay_reference(req)) == NULL ||
	    gh_body_json(req, transition_fields, &v) != 0)
		return;
	transition(req, ref, NULL, gh_vstr(&v, T_STATUS),
	    gh_vstr(&v, T_REASON));
}

enum { F_AMOUNT, F_REASON };
static const struct gh_field refund_fields[] = {
	{ "amount",	GH_INT | GH_OPTIONAL, .min = 1, .max = PAY_AMOUNT_MAX },
	{ "reason",	GH_STRING | GH_OPTIONAL | GH_NULLABLE, .maxlen = 500 },
	{ NULL }
};

/*
 * A refund, whole (no amount) or partial; several may follow each other.
 * The payment's row is locked first, so refunds of one payment take turns
 * and their sum is checked against the amount one at a time.
 */
void
pay_refund(struct gh_req *req)
{
	struct gh_values v;
	PGresult	*res;
	const char	*ref, *p[2], *errstr, *from;
	long long	 amount, refunded, want;

	memset(&v, 0, sizeof(v));
	if (gh_auth_require(req, "admin") != 0 ||
	    (ref = pay_reference(req)) == NULL ||
	    (gh_has_body(req) && gh_body_json(req, refund_fields, &v) != 0))
		return;
	if (gh_db_begin(req) != 0 ||
	    (res = gh_db_query(req, SQL_LOCK, 1, &ref)) == NULL)
		return;
	if (PQntuples(res) == 0) {
		gh_problem(req, 404, "no such payment");
		return;
	}
	from = PQgetvalue(res, 0, 1);
	amount = gh_strtonum(PQgetvalue(res, 0, 2), 1, PAY_AMOUNT_MAX, &errstr);
	refunded = gh_strtonum(PQgetvalue(res, 0, 3), 0, PAY_AMOUNT_MAX,
	    &errstr);
	if (strcmp(from, "succeeded") != 0 &&
	    strcmp(from, "partially_refunded") != 0) {
		gh_problem_json(req, 409, gh_printf(&req->arena, "the payment "
		    "is %s; only a succeeded or partially refunded payment "
		    "can be refunded", from), json_pack("{s:s, s:s}",
		    "current_status", from, "allowed_from",
		    "succeeded, partially_refunded"));
		return;
	}
	want = gh_vint(&v, F_AMOUNT, amount - refunded);
	if (want > amount - refunded) {
		gh_problem_field(req, 409, "amount", "is %lld; only %lld of "
		    "%lld is left to refund", want, amount - refunded, amount);
		return;
	}
	p[0] = PQgetvalue(res, 0, 0);
	p[1] = gh_printf(&req->arena, "%lld", want);
	from = gh_strdup(&req->arena, from);
	if ((res = gh_db_query(req, SQL_REFUND, 2, p)) == NULL)
		return;
	if (PQntuples(res) == 0) {
		gh_problem(req, 409, "the payment changed meanwhile; retry");
		return;
	}
	if (pay_ledger(req, p[0], "refund", from, PQgetvalue(res, 0, 6), want,
	    "admin", gh_auth_user(req)->sub, gh_vstr(&v, F_REASON)) != 0 ||
	    gh_db_commit(req) != 0)
		return;
	gh_reply_json(req, 201, json_pack("{s:I, s:s?, s:o}",
	    "amount", (json_int_t)want, "reason", gh_vstr(&v, F_REASON),
	    "payment", pay_json(res, 0, 0)));
}

/* The ledger of one payment, oldest first. */
void
pay_transactions(struct gh_req *req)
{
	PGresult	*res;
	const char	*p[2], *errstr;
	json_t		*data, *t;
	int		 i, n, admin;

	if (gh_auth_require(req, NULL) != 0 ||
	    (p[0] = pay_reference(req)) == NULL)
		return;
	admin = pay_is_admin(req);
	p[1] = admin ? NULL : gh_auth_user(req)->sub;
	if ((res = gh_db_query(req, SQL_LEDGER_LIST, 2, p)) == NULL)
		return;
	if ((n = PQntuples(res)) == 0) {
		gh_problem(req, 404, "no such payment");
		return;
	}
	if ((data = json_array()) == NULL) {
		gh_problem(req, 500, "out of memory");
		return;
	}
	for (i = 0; i < n && i < 1000; i++) {
		t = json_pack("{s:s, s:s?, s:s, s:I, s:s, s:s?, s:s?, s:s}",
		    "kind", PQgetvalue(res, i, 0),
		    "from_status", PQgetisnull(res, i, 1) ? NULL :
		    PQgetvalue(res, i, 1),
		    "to_status", PQgetvalue(res, i, 2),
		    "amount", (json_int_t)gh_strtonum(PQgetvalue(res, i, 3), 0,
		    PAY_AMOUNT_MAX, &errstr),
		    "actor", PQgetvalue(res, i, 4),
		    "request_id", PQgetisnull(res, i, 6) ? NULL :
		    PQgetvalue(res, i, 6),
		    "reason", PQgetisnull(res, i, 7) ? NULL :
		    PQgetvalue(res, i, 7),
		    "at", PQgetvalue(res, i, 8));
		/* Who exactly acted is for admins; owners see the role. */
		if (t != NULL && admin)
			json_object_set_new(t, "actor_id",
			    json_string(PQgetvalue(res, i, 5)));
		json_array_append_new(data, t);
	}
	gh_reply_json(req, 200, json_pack("{s:s, s:o, s:b}", "reference",
	    p[0], "data", data, "has_more", n > 1000));
}
