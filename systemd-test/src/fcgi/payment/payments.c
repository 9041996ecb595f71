/*
 * Payments: create under an Idempotency-Key, get by reference, list with
 * a cursor.  A payment is its owner's (the token's subject) or an
 * admin's to see; anyone else is told it does not exist.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "payment.h"

#define IDEM_KEY_MAX	255
#define REF_RANDOM_LEN	22	/* 16 random bytes in base64url */
#define LIST_DEFAULT	20
#define LIST_MAX	100

GH_SQL(SQL_CURRENCY) = {{
    "SELECT exponent FROM currencies WHERE code = $1" }};

/*
 * Claims the key for this request.  A row exists already unless it has
 * expired, or a worker left it in progress long ago (it died): those are
 * taken over.  Two requests inserting one key wait for each other on the
 * primary key, so exactly one gets the row back.
 */
GH_SQL(SQL_KEY_CLAIM) = {{
    "INSERT INTO idempotency_keys AS k (user_id, key, request_hash, "
    " expires_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4::int)) "
    "ON CONFLICT (user_id, key) DO UPDATE SET "
    " request_hash = EXCLUDED.request_hash, state = 'in_progress', "
    " response_status = NULL, response_body = NULL, payment_id = NULL, "
    " created_at = now(), expires_at = EXCLUDED.expires_at "
    "WHERE k.expires_at <= now() OR (k.state = 'in_progress' AND "
    " k.created_at < now() - make_interval(secs => $5::int)) "
    "RETURNING k.created_at::text" }};

GH_SQL(SQL_KEY_GET) = {{
    "SELECT request_hash, state, response_status, response_body "
    "FROM idempotency_keys WHERE user_id = $1 AND key = $2" }};

/* Only the claim this request made: created_at tells it from a takeover. */
GH_SQL(SQL_KEY_DONE) = {{
    "UPDATE idempotency_keys SET state = 'done', response_status = $3, "
    " response_body = $4, payment_id = $5 "
    "WHERE user_id = $1 AND key = $2 AND state = 'in_progress' "
    "AND created_at = $6::timestamptz" }};

GH_SQL(SQL_KEY_RELEASE) = {{
    "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 "
    "AND state = 'in_progress' AND created_at = $3::timestamptz" }};

GH_SQL(SQL_KEY_PURGE) = {{
    "DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY("
    " SELECT ctid FROM idempotency_keys WHERE expires_at < now() LIMIT 200))" }};

GH_SQL(SQL_CREATE) = {{
    "INSERT INTO payments AS p (reference, user_id, amount, currency, "
    " description, metadata) "
    "VALUES ($1, $2, $3, $4, $5, coalesce($6::jsonb, '{}')) "
    "RETURNING " PAY_COLS }};

GH_SQL(SQL_GET) = {{
    "SELECT " PAY_COLS " FROM payments p "
    "WHERE p.reference = $1 AND ($2::uuid IS NULL OR p.user_id = $2)" }};

GH_SQL(SQL_CURSOR) = {{
    "SELECT 1 FROM payments p "
    "WHERE p.reference = $1 AND ($2::uuid IS NULL OR p.user_id = $2)" }};

GH_SQL(SQL_LIST) = {{
    "SELECT " PAY_COLS " FROM payments p "
    "WHERE ($1::uuid IS NULL OR p.user_id = $1) "
    "AND ($2::text IS NULL OR p.status = $2) "
    "AND ($3::timestamptz IS NULL OR p.created_at >= $3) "
    "AND ($4::timestamptz IS NULL OR p.created_at < $4) "
    "AND ($5::text IS NULL OR (p.created_at, p.id) < "
    " (SELECT c.created_at, c.id FROM payments c WHERE c.reference = $5)) "
    "ORDER BY p.created_at DESC, p.id DESC LIMIT $6" }};

static const char *const statuses[] = {
	"pending", "processing", "succeeded", "failed", "canceled",
	"partially_refunded", "refunded", NULL
};

int
pay_is_admin(const struct gh_req *req)
{
	const struct gh_claims *c = gh_auth_user(req);

	return c != NULL && strcmp(c->role, "admin") == 0;
}

/* The payment's owner filter: NULL (everyone's) for an admin. */
static const char *
owner_filter(const struct gh_req *req)
{
	return pay_is_admin(req) ? NULL : gh_auth_user(req)->sub;
}

static int
is_ref_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static int
valid_reference(const char *s)
{
	size_t	 i;

	if (s == NULL || strncmp(s, "pay_", 4) != 0 ||
	    strlen(s) != 4 + REF_RANDOM_LEN)
		return 0;
	for (i = 4; s[i] != '\0'; i++)
		if (!is_ref_char((unsigned char)s[i]))
			return 0;
	return 1;
}

/* The {reference} of the path; a malformed one is a payment not found. */
const char *
pay_reference(struct gh_req *req)
{
	const char	*ref = gh_param(req, "reference");

	if (!valid_reference(ref)) {
		gh_problem(req, 404, "no such payment");
		return NULL;
	}
	return ref;
}

static json_int_t
num_col(PGresult *res, int row, int col)
{
	const char	*errstr;

	return gh_strtonum(PQgetvalue(res, row, col), 0, PAY_AMOUNT_MAX,
	    &errstr);
}

json_t *
pay_json(PGresult *res, int row, int col)
{
	json_t	*meta;

	meta = json_loads(PQgetvalue(res, row, col + 5), 0, NULL);
	if (meta == NULL)
		meta = json_object();
	return json_pack("{s:s, s:s, s:I, s:s, s:s?, s:o, s:s, s:I, s:s, s:s}",
	    "reference", PQgetvalue(res, row, col),
	    "user_id", PQgetvalue(res, row, col + 1),
	    "amount", num_col(res, row, col + 2),
	    "currency", PQgetvalue(res, row, col + 3),
	    "description", PQgetisnull(res, row, col + 4) ? NULL :
	    PQgetvalue(res, row, col + 4),
	    "metadata", meta,
	    "status", PQgetvalue(res, row, col + 6),
	    "refunded_amount", num_col(res, row, col + 7),
	    "created_at", PQgetvalue(res, row, col + 8),
	    "updated_at", PQgetvalue(res, row, col + 9));
}

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

/* An Idempotency-Key: 1 to 255 visible ASCII characters; else NULL. */
static const char *
idempotency_key(struct gh_req *req)
{
	const char	*k = gh_header_in(req, "Idempotency-Key");
	size_t		 i;

	if (k == NULL) {
		gh_problem(req, 400, "Idempotency-Key: the header is required "
		    "(1 to %d visible ASCII characters, unique per payment)",
		    IDEM_KEY_MAX);
		return NULL;
	}
	for (i = 0; k[i] != '\0'; i++)
		if (k[i] < '!' || k[i] > '~')
			break;
	if (i == 0 || i > IDEM_KEY_MAX || k[i] != '\0') {
		gh_problem(req, 400, "Idempotency-Key: must be 1 to %d visible "
		    "ASCII characters", IDEM_KEY_MAX);
		return NULL;
	}
	return k;
}

/* The body's hash, independent of member order and whitespace. */
static char *
request_hash(struct gh_req *req, json_t *body)
{
	char	*s, *h;

	if ((s = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return NULL;
	h = gh_sha256_hex(&req->arena, s, strlen(s));
	free(s);
	return h;
}

/*
 * The key is taken: answer as the first request did, or say why not.
 * Returns with the request answered.
 */
static void
replay(struct gh_req *req, const char *uid, const char *key,
    const char *hash)
{
	PGresult	*res;
	const char	*p[2], *errstr, *body;
	long long	 status;

	p[0] = uid;
	p[1] = key;
	if ((res = gh_db_query(req, SQL_KEY_GET, 2, p)) == NULL)
		return;
	if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 1), "done") != 0) {
		gh_header(req, "Retry-After", "1");
		gh_problem(req, 409, "Idempotency-Key: a request with this key "
		    "is still being processed; retry shortly");
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 0), hash) != 0) {
		gh_problem(req, 422, "Idempotency-Key: this key was used with "
		    "another request body; use a new key for a new payment");
		return;
	}
	status = gh_strtonum(PQgetvalue(res, 0, 2), 100, 599, &errstr);
	if (errstr != NULL) {
		gh_problem(req, 500, "internal error");
		return;
	}
	body = PQgetvalue(res, 0, 3);
	gh_header(req, "Idempotent-Replayed", "true");
	gh_reply(req, (int)status, "application/json", body, strlen(body));
}

/* Undoes a claim whose request failed, so that a retry may run. */
static void
release(struct gh_req *req, const char *uid, const char *key,
    const char *claim)
{
	gh_db_rollback(req);
	(void)gh_db_exec(req, SQL_KEY_RELEASE, 3,
	    (const char *[]){ uid, key, claim });
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
	*id = PQgetvalue(res, 0, PAY_COL_ID);
	if (pay_ledger(req, *id, "created", NULL, "pending",
	    gh_vint(v, C_AMOUNT, 0), "owner", uid, NULL) != 0)
		return NULL;
	s = (j = pay_json(res, 0, 0)) == NULL ? NULL :
	    json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s == NULL) {
		gh_problem(req, 500, "out of memory");
		return NULL;
	}
	body = gh_strdup(&req->arena, s);
	free(s);
	return body;
}

/* Deletes a batch of expired keys now and then, on the way out. */
static void
purge_keys(struct gh_req *req)
{
	unsigned char	 r;

	if (gh_random(&r, 1) == 0 && r < 4)
		(void)gh_db_exec(req, SQL_KEY_PURGE, 0, NULL);
}

/*
 * The key is claimed in its own statement, committed at once, so that a
 * second request with it sees "in progress"; the payment, its ledger row
 * and the remembered answer are then written in one transaction.  A
 * failure in between releases the claim.
 */
void
pay_create(struct gh_req *req)
{
	struct gh_values v;
	PGresult	*res;
	const char	*uid, *key, *hash, *claim, *id, *p[6];
	char		*body;

	if (gh_auth_require(req, NULL) != 0 ||
	    (key = idempotency_key(req)) == NULL ||
	    gh_body_json(req, create_fields, &v) != 0)
		return;
	uid = gh_auth_user(req)->sub;
	if ((res = gh_db_query(req, SQL_CURRENCY, 1,
	    (const char *[]){ gh_vstr(&v, C_CURRENCY) })) == NULL)
		return;
	if (PQntuples(res) == 0) {
		gh_problem_field(req, 422, "currency", "%s",
		    "is not a currency this service accepts");
		return;
	}
	if ((hash = request_hash(req, v.root)) == NULL) {
		gh_problem(req, 500, "out of memory");
		return;
	}
	p[0] = uid;
	p[1] = key;
	p[2] = hash;
	p[3] = gh_printf(&req->arena, "%lld", pay_cfg.idem_ttl);
	p[4] = gh_printf(&req->arena, "%lld", pay_cfg.idem_stale);
	if ((res = gh_db_query(req, SQL_KEY_CLAIM, 5, p)) == NULL)
		return;
	if (PQntuples(res) == 0) {
		replay(req, uid, key, hash);
		return;
	}
	claim = gh_strdup(&req->arena, PQgetvalue(res, 0, 0));
	if ((body = create_payment(req, &v, uid, &id)) == NULL) {
		release(req, uid, key, claim);
		return;
	}
	p[2] = "201";
	p[3] = body;
	p[4] = id;
	p[5] = claim;
	if ((res = gh_db_query(req, SQL_KEY_DONE, 6, p)) == NULL) {
		release(req, uid, key, claim);
		return;
	}
	if (strcmp(PQcmdTuples(res), "1") != 0) {
		release(req, uid, key, claim);
		gh_problem(req, 409, "Idempotency-Key: the key was taken over "
		    "by another request; retry with it");
		return;
	}
	if (gh_db_commit(req) != 0) {
		release(req, uid, key, claim);
		return;
	}
	purge_keys(req);
	gh_reply(req, 201, "application/json", body, strlen(body));
}

void
pay_get(struct gh_req *req)
{
	PGresult	*res;
	const char	*p[2];

	if (gh_auth_require(req, NULL) != 0 ||
	    (p[0] = pay_reference(req)) == NULL)
		return;
	p[1] = owner_filter(req);
	if ((res = gh_db_query(req, SQL_GET, 2, p)) == NULL)
		return;
	if (PQntuples(res) == 0) {
		gh_problem(req, 404, "no such payment");
		return;
	}
	gh_reply_json(req, 200, pay_json(res, 0, 0));
}

static int
is_status(const char *s)
{
	size_t	 i;

	for (i = 0; statuses[i] != NULL; i++)
		if (strcmp(statuses[i], s) == 0)
			return 1;
	return 0;
}

static int
digits(const char *s, size_t n, int lo, int hi)
{
	int	 v = 0;
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v >= lo && v <= hi;
}

/* RFC 3339: 2024-05-01T12:00:00Z, with optional fraction and offset. */
static int
valid_time(const char *s)
{
	size_t	 n;

	if (strlen(s) < 20 || !digits(s, 4, 1, 9999) || s[4] != '-' ||
	    !digits(s + 5, 2, 1, 12) || s[7] != '-' ||
	    !digits(s + 8, 2, 1, 31) || (s[10] != 'T' && s[10] != 't') ||
	    !digits(s + 11, 2, 0, 23) || s[13] != ':' ||
	    !digits(s + 14, 2, 0, 59) || s[16] != ':' ||
	    !digits(s + 17, 2, 0, 60))
		return 0;
	s += 19;
	if (*s == '.') {
		for (n = 1; s[n] >= '0' && s[n] <= '9'; n++)
			;
		if (n == 1 || n > 10)
			return 0;
		s += n;
	}
	if ((*s == 'Z' || *s == 'z') && s[1] == '\0')
		return 1;
	return (*s == '+' || *s == '-') && digits(s + 1, 2, 0, 23) &&
	    s[3] == ':' && digits(s + 4, 2, 0, 59) && s[6] == '\0';
}

/*
 * A query parameter, NULL when absent.  A present but badly encoded or
 * empty one is answered 400 and *bad set.
 */
static const char *
qparam(struct gh_req *req, const char *name, int *bad)
{
	const char	*v;
	const char	*q = req->query;
	size_t		 n = strlen(name);

	if ((v = gh_query(req, name)) != NULL && *v != '\0')
		return v;
	/* Absent, or present but empty or badly encoded? */
	for (; q != NULL && *q != '\0'; q = strchr(q, '&') ?
	    strchr(q, '&') + 1 : NULL)
		if (strncmp(q, name, n) == 0 && (q[n] == '=' ||
		    q[n] == '&' || q[n] == '\0')) {
			*bad = 1;
			gh_problem(req, 400, "%s: must not be empty and must "
			    "be percent-encoded properly", name);
			return NULL;
		}
	return NULL;
}

enum { Q_LIMIT, Q_AFTER, Q_STATUS, Q_GTE, Q_LT, Q_USER, Q__MAX };
static const char *const qnames[Q__MAX] = {
	"limit", "starting_after", "status", "created_gte", "created_lt",
	"user_id"
};

/* Checks each list parameter; 0, or -1 having answered. */
static int
list_params(struct gh_req *req, const char *q[Q__MAX], long long *limit)
{
	const char	*errstr, *why = NULL;
	int		 bad = 0, i;

	for (i = 0; i < Q__MAX; i++) {
		q[i] = qparam(req, qnames[i], &bad);
		if (bad)
			return -1;
	}
	*limit = LIST_DEFAULT;
	if (q[Q_LIMIT] != NULL) {
		*limit = gh_strtonum(q[Q_LIMIT], 1, LIST_MAX, &errstr);
		if (errstr != NULL)
			why = "must be an integer from 1 to 100", i = Q_LIMIT;
	}
	if (why == NULL && q[Q_AFTER] != NULL && !valid_reference(q[Q_AFTER]))
		why = "must be a payment reference", i = Q_AFTER;
	if (why == NULL && q[Q_STATUS] != NULL && !is_status(q[Q_STATUS]))
		why = "must be one of pending, processing, succeeded, failed, "
		    "canceled, partially_refunded, refunded", i = Q_STATUS;
	if (why == NULL && q[Q_GTE] != NULL && !valid_time(q[Q_GTE]))
		why = "must be an RFC 3339 time", i = Q_GTE;
	if (why == NULL && q[Q_LT] != NULL && !valid_time(q[Q_LT]))
		why = "must be an RFC 3339 time", i = Q_LT;
	if (why == NULL && q[Q_USER] != NULL && !gh_is_uuid(q[Q_USER]))
		why = "must be a user id (a UUID)", i = Q_USER;
	if (why != NULL)
		return gh_problem_field(req, 400, qnames[i], "%s", why);
	return 0;
}

/*
 * Newest first.  starting_after is the reference of the last payment of
 * the previous page; admins see everyone's, or one user's with user_id.
 */
void
pay_list(struct gh_req *req)
{
	PGresult	*res;
	const char	*q[Q__MAX], *p[6], *owner;
	long long	 limit;
	json_t		*data;
	int		 i, n;

	if (gh_auth_require(req, NULL) != 0 ||
	    list_params(req, q, &limit) != 0)
		return;
	owner = owner_filter(req);
	if (q[Q_USER] != NULL && owner != NULL &&
	    strcasecmp(q[Q_USER], owner) != 0) {
		gh_problem(req, 403, "user_id: only admins may list another "
		    "user's payments");
		return;
	}
	if (owner == NULL)
		owner = q[Q_USER];
	if (q[Q_AFTER] != NULL) {
		p[0] = q[Q_AFTER];
		p[1] = owner;
		if ((res = gh_db_query(req, SQL_CURSOR, 2, p)) == NULL)
			return;
		if (PQntuples(res) == 0) {
			gh_problem_field(req, 400, "starting_after", "%s",
			    "no such payment in this list");
			return;
		}
	}
	p[0] = owner;
	p[1] = q[Q_STATUS];
	p[2] = q[Q_GTE];
	p[3] = q[Q_LT];
	p[4] = q[Q_AFTER];
	p[5] = gh_printf(&req->arena, "%lld", limit + 1);
	if ((res = gh_db_query(req, SQL_LIST, 6, p)) == NULL)
		return;
	if ((data = json_array()) == NULL) {
		gh_problem(req, 500, "out of memory");
		return;
	}
	n = PQntuples(res);
	for (i = 0; i < n && i < limit; i++)
		json_array_append_new(data, pay_json(res, i, 0));
	gh_reply_json(req, 200, json_pack("{s:o, s:b, s:s?}", "data", data,
	    "has_more", n > limit,
	    "next_starting_after", n > limit ?
	    PQgetvalue(res, (int)limit - 1, 0) : NULL));
}
