/*
 * Refunds, whole or partial; several may follow each other.  Which
 * payments may be refunded, and what they become, is the state table's.
 * An Idempotency-Key makes a retried refund refund once.
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "idempotency.h"
#include "ledger.h"
#include "payment_row.h"
#include "state.h"

GH_SQL(SQL_LOCK) = {{
    "SELECT p.id, p.status, p.amount, p.refunded_amount FROM payments p "
    "WHERE p.reference = $1 FOR UPDATE" }};
enum { LK_ID, LK_STATUS, LK_AMOUNT, LK_REFUNDED };

/* The row is locked: the guards restate what was checked, in case. */
GH_SQL(SQL_REFUND) = {{
    "UPDATE payments p SET refunded_amount = p.refunded_amount + $2, "
    " status = $3, updated_at = now() "
    "WHERE p.id = $1 AND p.status = ANY($4::text[]) "
    "AND p.refunded_amount + $2 <= p.amount "
    "RETURNING " PAY_COLS }};

enum { F_AMOUNT, F_REASON };
static const struct gh_field refund_fields[] = {
	{ "amount",	GH_INT | GH_OPTIONAL, .min = 1, .max = PAY_AMOUNT_MAX },
	{ "reason",	GH_STRING | GH_OPTIONAL | GH_NULLABLE, .maxlen = 500 },
	{ NULL }
};

/* 409: a payment in this status is not one a refund starts from. */
static void
not_refundable(struct gh_req *req, const char *status)
{
	struct pay_conflict c;

	if (pay_refund_conflict(pay_status_of(status), &c) != 0) {
		gh_log_errx("state", "request %s: a payment is '%s', not a "
		    "status", req->request_id ? req->request_id : "-", status);
		gh_problem(req, 500, "internal error");
		return;
	}
	gh_problem_json(req, 409, gh_strdup(&req->arena, c.detail),
	    json_pack("{s:s, s:s}", "current_status", status,
	    "allowed_from", c.allowed_from));
}

/* The answer's body, in the arena; NULL having answered. */
static char *
refund_body(struct gh_req *req, long long amount, const char *reason,
    json_t *payment)
{
	json_t	*j;
	char	*s, *body;

	if ((j = json_pack("{s:I, s:s?, s:o}", "amount", (json_int_t)amount,
	    "reason", reason, "payment", payment)) == NULL ||
	    (s = json_dumps(j, JSON_COMPACT)) == NULL) {
		json_decref(j);
		gh_problem(req, 500, "out of memory");
		return NULL;
	}
	json_decref(j);
	body = gh_strdup(&req->arena, s);
	free(s);
	if (body == NULL)
		gh_problem(req, 500, "out of memory");
	return body;
}

/*
 * The refund itself, in the transaction it opens, up to the commit: the
 * answer's body and *id (the payment's), or NULL having answered.  The
 * payment's row is locked first, so refunds of one payment take turns
 * and their sum is checked against the amount one at a time.
 */
static char *
refund_apply(struct gh_req *req, const char *ref, struct gh_values *v,
    const char **id)
{
	struct gh_row	 r;
	PGresult	*res;
	enum pay_status	 to;
	const char	*from, *p[4];
	char		 from_set[128];
	long long	 amount, refunded, want;
	json_t		*j;
	int		 all;

	if (gh_db_begin(req) != 0 ||
	    (res = gh_db_query(req, SQL_LOCK, 1, &ref)) == NULL)
		return NULL;
	if (gh_rows(res) == 0) {
		gh_problem(req, 404, "no such payment");
		return NULL;
	}
	r = GH_ROW(res, 0);
	*id = gh_row_str(&r, LK_ID);
	from = gh_row_str(&r, LK_STATUS);
	amount = gh_row_int(&r, LK_AMOUNT);
	refunded = gh_row_int(&r, LK_REFUNDED);
	if (gh_row_failed(req, &r))
		return NULL;
	if (!pay_refundable(pay_status_of(from))) {
		not_refundable(req, from);
		return NULL;
	}
	want = gh_vint(v, F_AMOUNT, amount - refunded);
	if (want > amount - refunded) {
		gh_problem_field(req, 409, "amount", "is %lld; only %lld of "
		    "%lld is left to refund", want, amount - refunded, amount);
		return NULL;
	}
	all = want == amount - refunded;
	to = pay_refund_to(pay_status_of(from), all);
	if (to == PAY_NONE || pay_set_text(pay_from(to, all ?
	    PAY_BY_REFUND_ALL : PAY_BY_REFUND), PAY_TEXT_ARRAY, from_set,
	    sizeof(from_set)) != 0) {
		gh_log_errx("state", "request %s: no refund edge from %s",
		    req->request_id ? req->request_id : "-", from);
		gh_problem(req, 500, "internal error");
		return NULL;
	}
	p[0] = *id;
	p[1] = gh_printf(&req->arena, "%lld", want);
	p[2] = pay_status_name(to);
	p[3] = from_set;
	if ((res = gh_db_query(req, SQL_REFUND, 4, p)) == NULL)
		return NULL;
	if (gh_rows(res) == 0) {
		gh_problem(req, 409, "the payment changed meanwhile; retry");
		return NULL;
	}
	if (pay_ledger(req, *id, "refund", from, p[2], want, "admin",
	    gh_auth_user(req)->sub, gh_vstr(v, F_REASON)) != 0 ||
	    (j = pay_json(req, res, 0)) == NULL)
		return NULL;
	return refund_body(req, want, gh_vstr(v, F_REASON), j);
}

/*
 * What a refund with an Idempotency-Key asks, for its key: the payment
 * and the body (none is {}, as it means the same).  NULL out of memory.
 */
static const char *
refund_hash(struct gh_req *req, const char *ref, json_t *body)
{
	json_t		*empty = NULL;
	const char	*h;

	if (body == NULL && (body = empty = json_object()) == NULL)
		return NULL;
	h = gh_idem_hash(&req->arena, gh_printf(&req->arena, "refund %s",
	    ref), body);
	json_decref(empty);
	return h;
}

/*
 * A refund, with an optional Idempotency-Key (the payments' semantics,
 * lib/gh_idem.h): the same key and body answer the first refund again
 * instead of refunding twice.  The key is claimed after the body's
 * checks and released by any failure, so only a refund made uses it up.
 */
void
pay_refund(struct gh_req *req)
{
	struct gh_values v;
	struct gh_idem	 k = { .t = &pay_keys };
	const char	*ref, *id;
	char		*body;
	int		 rc;

	memset(&v, 0, sizeof(v));
	if (gh_auth_require(req, GH_ROLE_ADMIN) != 0 ||
	    (ref = pay_reference(req)) == NULL ||
	    gh_idem_key(req, 0, &k.key) != 0 ||
	    (gh_has_body(req) && gh_body_json(req, refund_fields, &v) != 0))
		return;
	if (k.key != NULL) {
		k.uid = gh_auth_user(req)->sub;
		if ((k.hash = refund_hash(req, ref, v.root)) == NULL) {
			gh_problem(req, 500, "out of memory");
			return;
		}
		if ((rc = gh_idem_claim(req, &k)) == GH_IDEM_REPLAY)
			gh_idem_replay(req, &k);
		if (rc != GH_IDEM_CLAIMED)
			return;
	}
	if ((body = refund_apply(req, ref, &v, &id)) == NULL) {
		gh_idem_release(req, &k);
		return;
	}
	if (k.key != NULL && gh_idem_done(req, &k, 201, body, id) != 0)
		return;
	if (gh_db_commit(req) != 0) {
		gh_idem_release(req, &k);
		return;
	}
	if (k.key != NULL)
		gh_idem_purge(req, &pay_keys);
	gh_reply(req, 201, "application/json", body, strlen(body));
}
