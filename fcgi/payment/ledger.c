/* The transactions ledger: appended with each change, read per payment. */
#include "ledger.h"
#include "payment_row.h"

#define LEDGER_MAX	1000	/* rows of one answer */

GH_SQL(SQL_LEDGER) = {{
    "INSERT INTO transactions (payment_id, kind, from_status, to_status, "
    " amount, actor, actor_id, request_id, reason) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)" }};

/* One more row than an answer holds, to tell whether there are more. */
GH_SQL(SQL_LEDGER_LIST) = {{
    "SELECT t.kind, t.from_status, t.to_status, t.amount, t.actor, "
    " t.actor_id, t.request_id, t.reason, " TS("t.at") " "
    "FROM transactions t JOIN payments p ON p.id = t.payment_id "
    "WHERE p.reference = $1 AND ($2::uuid IS NULL OR p.user_id = $2) "
    "ORDER BY t.id LIMIT 1001" }};
enum {
	L_KIND, L_FROM, L_TO, L_AMOUNT, L_ACTOR, L_ACTOR_ID, L_REQUEST,
	L_REASON, L_AT
};

/* The ledger row of a change, in the caller's transaction; 0 or -1. */
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

/*
 * The ledger of the payment `ref`, oldest first, if owner (NULL for an
 * admin) may see it: {"reference", "data", "has_more"}.  Who exactly
 * acted is shown only when show_actor_id is set (to admins); owners see
 * the role.  NULL having answered (404 when there is no such payment).
 */
json_t *
pay_ledger_json(struct gh_req *req, const char *ref, const char *owner,
    int show_actor_id)
{
	struct gh_row	 r;
	PGresult	*res;
	json_t		*data, *t;
	int		 i, n;

	if ((res = gh_db_query(req, SQL_LEDGER_LIST, 2,
	    (const char *[]){ ref, owner })) == NULL)
		return NULL;
	if ((n = gh_rows(res)) == 0) {
		gh_problem(req, 404, "no such payment");
		return NULL;
	}
	if ((data = json_array()) == NULL) {
		gh_problem(req, 500, "out of memory");
		return NULL;
	}
	for (i = 0; i < n && i < LEDGER_MAX; i++) {
		r = GH_ROW(res, i);
		t = json_pack("{s:s, s:o, s:s, s:I, s:s, s:o, s:o, s:s}",
		    "kind", gh_row_str(&r, L_KIND),
		    "from_status", gh_row_json_str(&r, L_FROM),
		    "to_status", gh_row_str(&r, L_TO),
		    "amount", (json_int_t)gh_row_int(&r, L_AMOUNT),
		    "actor", gh_row_str(&r, L_ACTOR),
		    "request_id", gh_row_json_str(&r, L_REQUEST),
		    "reason", gh_row_json_str(&r, L_REASON),
		    "at", gh_row_time(&r, L_AT));
		if (t != NULL && show_actor_id)
			json_object_set_new(t, "actor_id",
			    json_string(gh_row_str(&r, L_ACTOR_ID)));
		if (gh_row_failed(req, &r)) {
			json_decref(t);
			json_decref(data);
			return NULL;
		}
		if (t == NULL || json_array_append_new(data, t) != 0) {
			json_decref(data);
			gh_problem(req, 500, "out of memory");
			return NULL;
		}
	}
	if ((t = json_pack("{s:s, s:o, s:b}", "reference", ref, "data", data,
	    "has_more", n > LEDGER_MAX)) == NULL)
		gh_problem(req, 500, "out of memory");
	return t;
}
