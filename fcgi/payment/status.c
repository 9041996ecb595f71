/*
 * Changes of status through the API: an owner's (or admin's) cancel, an
 * admin's change.  Each is an UPDATE that names the statuses it may start
 * from, taken from the state table, so of two racing changes one wins
 * and the other finds the new status; its ledger row is written in the
 * same transaction.  PostgreSQL refuses any change outside the table too
 * (sql/payment/003_state_transitions.sql).
 */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "ledger.h"
#include "payment_row.h"
#include "state.h"

/* o.status is the status before the change: the row locked, then read. */
GH_SQL(SQL_TRANSITION) = {{
    "UPDATE payments p SET status = $3, updated_at = now() "
    "FROM (SELECT id, status FROM payments WHERE reference = $1 "
    " AND ($2::uuid IS NULL OR user_id = $2) FOR UPDATE) o "
    "WHERE p.id = o.id AND p.status = ANY($4::text[]) "
    "RETURNING " PAY_COLS ", o.status" }};
enum { TC_OLD_STATUS = PAY_C__COUNT };

GH_SQL(SQL_STATUS) = {{
    "SELECT p.status FROM payments p "
    "WHERE p.reference = $1 AND ($2::uuid IS NULL OR p.user_id = $2)" }};
enum { SC_STATUS };

/* 404 when the caller cannot see it, else 409 with what is allowed. */
static void
refuse(struct gh_req *req, const char *ref, const char *owner,
    enum pay_status to, unsigned by)
{
	struct pay_conflict c;
	struct gh_row	 r;
	PGresult	*res;
	const char	*cur;

	if ((res = gh_db_query(req, SQL_STATUS, 2,
	    (const char *[]){ ref, owner })) == NULL)
		return;
	if (gh_rows(res) == 0) {
		gh_problem(req, 404, "no such payment");
		return;
	}
	r = GH_ROW(res, 0);
	cur = gh_row_str(&r, SC_STATUS);
	if (gh_row_failed(req, &r))
		return;
	if (pay_conflict(pay_status_of(cur), to, by, &c) != 0) {
		gh_log_errx("state", "request %s: no answer for %s to %s",
		    req->request_id ? req->request_id : "-", cur,
		    pay_status_name(to));
		gh_problem(req, 500, "internal error");
		return;
	}
	gh_problem_json(req, 409, gh_strdup(&req->arena, c.detail),
	    json_pack("{s:s, s:s, s:s, s:s}", "current_status", cur,
	    "requested_status", pay_status_name(to),
	    "allowed_from", c.allowed_from, "allowed_next", c.allowed_next));
}

/*
 * Moves the payment to `to`, if one of `by` may from where it is, and
 * writes the ledger row, then answers with the payment.  owner is NULL
 * for an admin.
 */
static void
transition(struct gh_req *req, const char *ref, const char *owner,
    enum pay_status to, unsigned by, const char *reason)
{
	struct gh_row	 r;
	PGresult	*res;
	const char	*p[4], *id, *from;
	char		 from_set[128];
	json_t		*j;

	if (pay_set_text(pay_from(to, by), PAY_TEXT_ARRAY, from_set,
	    sizeof(from_set)) != 0) {
		gh_problem(req, 500, "internal error");
		return;
	}
	p[0] = ref;
	p[1] = owner;
	p[2] = pay_status_name(to);
	p[3] = from_set;
	if (gh_db_begin(req) != 0 ||
	    (res = gh_db_query(req, SQL_TRANSITION, 4, p)) == NULL)
		return;
	if (gh_rows(res) == 0) {
		gh_db_rollback(req);
		refuse(req, ref, owner, to, by);
		return;
	}
	r = GH_ROW(res, 0);
	id = gh_row_str(&r, PAY_C_ID);
	from = gh_row_str(&r, TC_OLD_STATUS);
	if (gh_row_failed(req, &r) ||
	    pay_ledger(req, id, "status_change", from, p[2], 0,
	    owner != NULL ? "owner" : "admin", gh_auth_user(req)->sub,
	    reason) != 0 ||
	    (j = pay_json(req, res, 0)) == NULL)
		return;
	if (gh_db_commit(req) != 0) {
		json_decref(j);
		return;
	}
	gh_reply_json(req, 200, j);
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
	const char	*ref, *owner;

	memset(&v, 0, sizeof(v));
	if (gh_auth_require(req, NULL) != 0 ||
	    (ref = pay_reference(req)) == NULL ||
	    (gh_has_body(req) && gh_body_json(req, cancel_fields, &v) != 0))
		return;
	owner = pay_owner(req);
	transition(req, ref, owner, PAY_CANCELED,
	    owner != NULL ? PAY_BY_OWNER : PAY_BY_ADMIN, gh_vstr(&v, X_REASON));
}

/* For .valid: a status an admin may set here; the text is the table's. */
static const char *
valid_target(const char *s)
{
	static char	 why[256];
	enum pay_status	 to = pay_status_of(s);
	char		 list[160];

	if (to != PAY_NONE && (pay_targets(PAY_BY_ADMIN) & PAY_SET(to)))
		return NULL;
	if (why[0] == '\0' && pay_set_text(pay_targets(PAY_BY_ADMIN),
	    PAY_TEXT_LIST, list, sizeof(list)) == 0)
		(void)snprintf(why, sizeof(why), "must be one of %s (refunds "
		    "have their own endpoint)", list);
	return why[0] != '\0' ? why : "is not a status an admin may set";
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

	if (gh_auth_require(req, GH_ROLE_ADMIN) != 0 ||
	    (ref = pay_reference(req)) == NULL ||
	    gh_body_json(req, transition_fields, &v) != 0)
		return;
	transition(req, ref, NULL, pay_status_of(gh_vstr(&v, T_STATUS)),
	    PAY_BY_ADMIN, gh_vstr(&v, T_REASON));
}
