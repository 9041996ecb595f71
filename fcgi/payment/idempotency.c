/* Idempotency-Key: claim, replay, remember the answer, release, purge. */
#include <stdlib.h>
#include <string.h>

#include "idempotency.h"

#define IDEM_KEY_MAX	255

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
enum { KC_CLAIM };

GH_SQL(SQL_KEY_GET) = {{
    "SELECT request_hash, state, response_status, response_body "
    "FROM idempotency_keys WHERE user_id = $1 AND key = $2" }};
enum { KG_HASH, KG_STATE, KG_STATUS, KG_BODY };

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

/* The request's Idempotency-Key: 1 to 255 visible ASCII; else NULL, answered. */
const char *
pay_idem_key(struct gh_req *req)
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
replay(struct gh_req *req, const struct pay_idem *k)
{
	struct gh_row	 r;
	PGresult	*res;
	const char	*body;
	long long	 status;

	if ((res = gh_db_query(req, SQL_KEY_GET, 2,
	    (const char *[]){ k->uid, k->key })) == NULL)
		return;
	r = GH_ROW(res, 0);
	if (gh_rows(res) == 0 ||
	    strcmp(gh_row_str(&r, KG_STATE), "done") != 0) {
		gh_header(req, "Retry-After", "1");
		gh_problem(req, 409, "Idempotency-Key: a request with this key "
		    "is still being processed; retry shortly");
		return;
	}
	if (strcmp(gh_row_str(&r, KG_HASH), k->hash) != 0) {
		gh_problem(req, 422, "Idempotency-Key: this key was used with "
		    "another request body; use a new key for a new payment");
		return;
	}
	status = gh_row_int(&r, KG_STATUS);
	body = gh_row_str(&r, KG_BODY);
	if (gh_row_failed(req, &r))
		return;
	if (status < 100 || status > 599) {
		gh_log_errx("db", "request %s: idempotency key answer status "
		    "%lld", req->request_id ? req->request_id : "-", status);
		gh_problem(req, 500, "internal error");
		return;
	}
	gh_header(req, "Idempotent-Replayed", "true");
	gh_reply(req, (int)status, "application/json", body, strlen(body));
}

/*
 * Claims k->key for the request whose body is `body` (k->uid and k->key
 * set), committed at once.  1 claimed (k->claim set); 0 the key was
 * taken, answered with the first request's answer or why not; -1
 * answered.
 */
int
pay_idem_claim(struct gh_req *req, struct pay_idem *k, json_t *body)
{
	struct gh_row	 r;
	PGresult	*res;
	const char	*p[5];

	if ((k->hash = request_hash(req, body)) == NULL) {
		gh_problem(req, 500, "out of memory");
		return -1;
	}
	p[0] = k->uid;
	p[1] = k->key;
	p[2] = k->hash;
	p[3] = gh_printf(&req->arena, "%lld", pay_cfg.idem_ttl);
	p[4] = gh_printf(&req->arena, "%lld", pay_cfg.idem_stale);
	if ((res = gh_db_query(req, SQL_KEY_CLAIM, 5, p)) == NULL)
		return -1;
	if (gh_rows(res) == 0) {
		replay(req, k);
		return 0;
	}
	r = GH_ROW(res, 0);
	k->claim = gh_strdup(&req->arena, gh_row_str(&r, KC_CLAIM));
	if (gh_row_failed(req, &r))
		return -1;
	if (k->claim == NULL) {
		gh_problem(req, 500, "out of memory");
		return -1;
	}
	return 1;
}

/* Undoes a claim whose request failed, so that a retry may run. */
void
pay_idem_release(struct gh_req *req, const struct pay_idem *k)
{
	gh_db_rollback(req);
	(void)gh_db_exec(req, SQL_KEY_RELEASE, 3,
	    (const char *[]){ k->uid, k->key, k->claim });
}

/*
 * Remembers the answer with the key, in the payment's transaction (the
 * caller commits).  0, or -1 having answered and released the claim.
 */
int
pay_idem_done(struct gh_req *req, const struct pay_idem *k, int status,
    const char *answer, const char *payment_id)
{
	PGresult	*res;
	const char	*p[6];

	p[0] = k->uid;
	p[1] = k->key;
	p[2] = gh_printf(&req->arena, "%d", status);
	p[3] = answer;
	p[4] = payment_id;
	p[5] = k->claim;
	if ((res = gh_db_query(req, SQL_KEY_DONE, 6, p)) == NULL) {
		pay_idem_release(req, k);
		return -1;
	}
	if (strcmp(PQcmdTuples(res), "1") != 0) {
		pay_idem_release(req, k);
		gh_problem(req, 409, "Idempotency-Key: the key was taken over "
		    "by another request; retry with it");
		return -1;
	}
	return 0;
}

/* Deletes a batch of expired keys now and then, on the way out. */
void
pay_idem_purge(struct gh_req *req)
{
	unsigned char	 r;

	if (gh_random(&r, 1) == 0 && r < 4)
		(void)gh_db_exec(req, SQL_KEY_PURGE, 0, NULL);
}
