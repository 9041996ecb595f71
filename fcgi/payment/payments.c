/*
 * Payments: create under an Idempotency-Key, get by reference, list a
 * page at a time.  A payment is its owner's (the token's subject) or an
 * admin's to see; anyone else is told it does not exist.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "handlers.h"
#include "idempotency.h"
#include "ledger.h"
#include "payment_row.h"
#include "state.h"

#define LIST_DEFAULT	20

GH_SQL(SQL_CURRENCY) = {{
    "SELECT exponent FROM currencies WHERE code = $1" }};

GH_SQL(SQL_CREATE) = {{
    "INSERT INTO payments AS p (reference, user_id, amount, currency, "
    " description, metadata) "
    "VALUES ($1, $2, $3, $4, $5, coalesce($6::jsonb, '{}')) "
    "RETURNING " PAY_COLS }};

GH_SQL(SQL_GET) = {{
    "SELECT " PAY_COLS " FROM payments p "
    "WHERE p.reference = $1 AND ($2::uuid IS NULL OR p.user_id = $2)" }};

GH_SQL(SQL_AFTER) = {{
    "SELECT 1 FROM payments p "
    "WHERE p.reference = $1 AND ($2::uuid IS NULL OR p.user_id = $2)" }};

/*
 * Newest first, after the page's key (created_at, id) when there is one;
 * starting_after ($5) is the older way to say where, by reference.
 */
GH_SQL(SQL_LIST) = {{
    "SELECT " PAY_COLS ", " GH_SQL_TS_KEY("p.created_at") " "
    "FROM payments p "
    "WHERE ($1::uuid IS NULL OR p.user_id = $1) "
    "AND ($2::text IS NULL OR p.status = $2) "
    "AND ($3::timestamptz IS NULL OR p.created_at >= $3) "
    "AND ($4::timestamptz IS NULL OR p.created_at < $4) "
    "AND ($5::text IS NULL OR (p.created_at, p.id) < "
    " (SELECT c.created_at, c.id FROM payments c WHERE c.reference = $5)) "
    "AND ($6::timestamptz IS NULL OR (p.created_at, p.id) < "
    " ($6, $7::uuid)) "
    "ORDER BY p.created_at DESC, p.id DESC LIMIT $8" }};
enum { LC_KEY_CREATED = PAY_C__COUNT };

static const char *
valid_currency(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			break;
	if (i != 3 || s[i] != '\0')
		return "must be an ISO 4217 code in capitals, like EUR";
	return NULL;
}

enum { C_AMOUNT, C_CURRENCY, C_DESCRIPTION, C_METADATA };
static const struct gh_field create_fields[] = {
	{ "amount",	GH_INT, .min = 1, .max = PAY_AMOUNT_MAX },
	{ "currency",	GH_STRING, .maxlen = 3, .valid = valid_currency },
	{ "description",	GH_STRING | GH_OPTIONAL | GH_NULLABLE,
	    .maxlen = 500 },
	{ "metadata",	GH_OBJECT | GH_OPTIONAL | GH_NULLABLE, .maxlen = 4096 },
	{ NULL }
};

/*
 * The payment and its ledger row, in the transaction it opens.  Returns
 * the answer's body and sets *id, or returns NULL having answered.
 */
static char *
create_payment(struct gh_req *req, struct gh_values *v, const char *uid,
    const char **id)
{
	struct gh_row	 r;
	PGresult	*res;
	const char	*p[6], *ref;
	json_t		*meta, *j;
	char		*body, *s;

	if ((ref = gh_random_token(&req->arena, 16)) == NULL ||
	    (p[0] = gh_printf(&req->arena, "pay_%s", ref)) == NULL) {
		gh_problem(req, 500, "internal error");
		return NULL;
	}
	p[1] = uid;
	p[2] = gh_printf(&req->arena, "%lld", gh_vint(v, C_AMOUNT, 0));
	p[3] = gh_vstr(v, C_CURRENCY);
	p[4] = gh_vstr(v, C_DESCRIPTION);
	p[5] = NULL;
	if ((meta = gh_vjson(v, C_METADATA)) != NULL) {
		if ((s = json_dumps(meta, JSON_COMPACT)) == NULL) {
			gh_problem(req, 500, "out of memory");
			return NULL;
		}
		p[5] = gh_strdup(&req->arena, s);
		free(s);
	}
	if (gh_db_begin(req) != 0 ||
	    (res = gh_db_query(req, SQL_CREATE, 6, p)) == NULL)
		return NULL;
	r = GH_ROW(res, 0);
	*id = gh_row_str(&r, PAY_C_ID);
	if (gh_row_failed(req, &r) ||
	    pay_ledger(req, *id, "created", NULL,
	    pay_status_name(pay_initial()), gh_vint(v, C_AMOUNT, 0), "owner",
	    uid, NULL) != 0 ||
	    (j = pay_json(req, res, 0)) == NULL)
		return NULL;
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s == NULL) {
		gh_problem(req, 500, "out of memory");
		return NULL;
	}
	body = gh_strdup(&req->arena, s);
	free(s);
	return body;
}

/*
 * The key is claimed first (lib/gh_idem.h); the payment, its ledger row
 * and the remembered answer are then written in one transaction.  A
 * failure in between releases the claim, so that a retry runs at once.
 */
void
pay_create(struct gh_req *req)
{
	struct gh_values v;
	struct gh_idem	 k = { .t = &pay_keys };
	PGresult	*res;
	const char	*id;
	char		*body;
	int		 rc;

	if (gh_auth_require(req, NULL) != 0 ||
	    gh_idem_key(req, 1, &k.key) != 0 ||
	    gh_body_json(req, create_fields, &v) != 0)
		return;
	k.uid = gh_auth_user(req)->sub;
	if ((res = gh_db_query(req, SQL_CURRENCY, 1,
	    (const char *[]){ gh_vstr(&v, C_CURRENCY) })) == NULL)
		return;
	if (gh_rows(res) == 0) {
		gh_problem_field(req, 422, "currency", "%s",
		    "is not a currency this service accepts");
		return;
	}
	if ((k.hash = gh_idem_hash(&req->arena, NULL, v.root)) == NULL) {
		gh_problem(req, 500, "out of memory");
		return;
	}
	if ((rc = gh_idem_claim(req, &k)) == GH_IDEM_REPLAY)
		gh_idem_replay(req, &k);
	if (rc != GH_IDEM_CLAIMED)
		return;
	if ((body = create_payment(req, &v, k.uid, &id)) == NULL) {
		gh_idem_release(req, &k);
		return;
	}
	if (gh_idem_done(req, &k, 201, body, id) != 0)
		return;
	if (gh_db_commit(req) != 0) {
		gh_idem_release(req, &k);
		return;
	}
	gh_idem_purge(req, &pay_keys);
	gh_reply(req, 201, "application/json", body, strlen(body));
}

void
pay_get(struct gh_req *req)
{
	PGresult	*res;
	const char	*p[2];
	json_t		*j;

	if (gh_auth_require(req, NULL) != 0 ||
	    (p[0] = pay_reference(req)) == NULL)
		return;
	p[1] = pay_owner(req);
	if ((res = gh_db_query(req, SQL_GET, 2, p)) == NULL)
		return;
	if (gh_rows(res) == 0) {
		gh_problem(req, 404, "no such payment");
		return;
	}
	if ((j = pay_json(req, res, 0)) != NULL)
		gh_reply_json(req, 200, j);
}

enum { Q_LIMIT, Q_CURSOR, Q_AFTER, Q_STATUS, Q_GTE, Q_LT, Q_USER };
static const struct gh_field list_params[] = {
	GH_PAGE_FIELDS,
	{ "starting_after",	GH_STRING | GH_OPTIONAL,
	    .valid = pay_valid_reference },
	{ "status",	GH_STRING | GH_OPTIONAL, .choices = pay_status_names },
	{ "created_gte",	GH_STRING | GH_OPTIONAL, .valid = gh_valid_time },
	{ "created_lt",	GH_STRING | GH_OPTIONAL, .valid = gh_valid_time },
	{ "user_id",	GH_STRING | GH_OPTIONAL, .valid = gh_valid_uuid },
	{ NULL }
};

/*
 * Whose payments: the caller's own, or for an admin everyone's or one
 * user's.  Sets *owner (NULL: everyone's); 0, or -1 having answered.
 */
static int
list_owner(struct gh_req *req, const struct gh_values *q, const char **owner)
{
	const char	*user = gh_vstr(q, Q_USER);

	*owner = pay_owner(req);
	if (*owner == NULL) {
		*owner = user;
		return 0;
	}
	if (user != NULL && strcasecmp(user, *owner) != 0)
		return gh_problem(req, 403, "user_id: only admins may list "
		    "another user's payments");
	return 0;
}

/*
 * The page: {"data", "has_more", "next_cursor"}, and the older
 * next_starting_after (the reference of the page's last payment when
 * there are more).  NULL having answered.
 */
static json_t *
list_page(struct gh_req *req, const struct gh_page *pg, PGresult *res)
{
	static const int keycols[] = { LC_KEY_CREATED, PAY_C_ID };
	json_t		*data, *page, *j, *last;
	int		 i, n = gh_page_count(pg, res);

	if ((data = json_array()) == NULL) {
		gh_problem(req, 500, "out of memory");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if ((j = pay_json(req, res, i)) == NULL) {
			json_decref(data);
			return NULL;
		}
		if (json_array_append_new(data, j) != 0) {
			json_decref(data);
			gh_problem(req, 500, "out of memory");
			return NULL;
		}
	}
	last = gh_rows(res) > n ? json_incref(json_object_get(
	    json_array_get(data, n - 1), "reference")) : json_null();
	/* gh_page_json takes data, also when it fails. */
	if ((page = gh_page_json(&req->arena, pg, data, res, keycols)) == NULL ||
	    json_object_set_new(page, "next_starting_after", last) != 0) {
		json_decref(page);
		gh_problem(req, 500, "out of memory");
		return NULL;
	}
	return page;
}

/*
 * Newest first, a page at a time: pass next_cursor back as cursor.  The
 * older starting_after=<reference> still works (the reference of the
 * page's last payment, also given as next_starting_after).  Admins see
 * everyone's, or one user's with user_id.
 */
void
pay_list(struct gh_req *req)
{
	struct gh_values q;
	struct gh_page	 pg;
	PGresult	*res;
	const char	*p[8], *owner, *after;
	json_t		*page;

	if (gh_auth_require(req, NULL) != 0 ||
	    gh_query_params(req, list_params, &q) != 0 ||
	    gh_page_init(req, &q, Q_LIMIT, LIST_DEFAULT, "tu", &pg) != 0 ||
	    list_owner(req, &q, &owner) != 0)
		return;
	if ((after = gh_vstr(&q, Q_AFTER)) != NULL) {
		if (pg.key[0] != NULL) {
			gh_field_error(req, "starting_after", "is not to be "
			    "given with cursor; pass next_cursor alone");
			(void)gh_errors_reply(req, 400);
			return;
		}
		if ((res = gh_db_query(req, SQL_AFTER, 2,
		    (const char *[]){ after, owner })) == NULL)
			return;
		if (gh_rows(res) == 0) {
			gh_problem_field(req, 400, "starting_after", "%s",
			    "no such payment in this list");
			return;
		}
	}
	p[0] = owner;
	p[1] = gh_vstr(&q, Q_STATUS);
	p[2] = gh_vstr(&q, Q_GTE);
	p[3] = gh_vstr(&q, Q_LT);
	p[4] = after;
	p[5] = pg.key[0];
	p[6] = pg.key[1];
	p[7] = pg.fetch;
	if ((res = gh_db_query(req, SQL_LIST, 8, p)) != NULL &&
	    (page = list_page(req, &pg, res)) != NULL)
		gh_reply_json(req, 200, page);
}
