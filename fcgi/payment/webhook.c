/*
 * Provider events, signed as Standard Webhooks does it:
 *
 *	webhook-id: msg_...           webhook-timestamp: 1714560000
 *	webhook-signature: v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>
 *
 * The signature header may hold several space-separated signatures, and
 * two secrets are tried (GH_WEBHOOK_SECRET_FILE, then
 * GH_WEBHOOK_SECRET_PREVIOUS_FILE) so that a secret can rotate.  The files
 * are read for each event, so a rotation needs no restart.  A secret is
 * "whsec_" and base64 of the key's bytes, or else the key itself.
 *
 * An event is applied once (its id is remembered), only within the time
 * tolerance, and only along the state machine, so an event that arrives
 * after a later one changes nothing.  The body:
 *
 *	{"type": "payment.succeeded", "data": {"reference": "pay_..."}}
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handlers.h"
#include "ledger.h"
#include "signature.h"
#include "state.h"

#define WEBHOOK_BODY_MAX	(64 * 1024)
#define WEBHOOK_ID_MAX		255

GH_SQL(SQL_EVENT_NEW) = {{
    "INSERT INTO webhook_events (id, type, reference, sent_at) "
    "VALUES ($1, $2, $3, to_timestamp($4::bigint)) "
    "ON CONFLICT (id) DO NOTHING RETURNING 1" }};

GH_SQL(SQL_EVENT_RESULT) = {{
    "UPDATE webhook_events SET result = $2 WHERE id = $1" }};

GH_SQL(SQL_LOCK_REF) = {{
    "SELECT p.id, p.status FROM payments p WHERE p.reference = $1 "
    "FOR UPDATE" }};
enum { LR_ID, LR_STATUS };

GH_SQL(SQL_APPLY) = {{
    "UPDATE payments p SET status = $2, updated_at = now() "
    "WHERE p.id = $1 AND p.status = ANY($3::text[]) RETURNING p.status" }};

/* One secret file; 0 when it is unset or absent, 1 when read, -1 bad. */
static int
load_secret(struct gh_req *req, const char *var, struct pay_secret *sec)
{
	const char	*path = getenv(var), *errstr;
	char		*s;
	size_t		 len;
	int		 rc = 1;

	if (path == NULL || *path == '\0')
		return 0;
	if ((s = gh_secret_read(path, &len, &errstr)) == NULL) {
		if (errno == ENOENT && strcmp(errstr, strerror(ENOENT)) == 0)
			return 0;
		gh_log_errx("config", "%s=%s: %s", var, path, errstr);
		return -1;
	}
	if (strncmp(s, "whsec_", 6) == 0) {
		if (pay_b64_decode(&req->arena, s + 6, len - 6, &sec->key,
		    &sec->len) != 0 || sec->len < 16) {
			gh_log_errx("config", "%s=%s: not whsec_ and base64 of "
			    "at least 16 bytes", var, path);
			rc = -1;
		}
	} else if ((sec->key = (unsigned char *)gh_strndup(&req->arena, s,
	    len)) == NULL)
		rc = -1;
	else
		sec->len = len;
	gh_wipe(s, len);
	free(s);
	return rc;
}

static int
visible_ascii(const char *s, size_t max)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (s[i] < '!' || s[i] > '~')
			return 0;
	return i > 0 && i <= max;
}

/*
 * Checks the headers, the time and the signature, and reads the body.
 * 0, or -1 having answered (401 for anything about the signature).
 */
static int
verify(struct gh_req *req, const char **idp, long long *tsp, char **bodyp,
    size_t *lenp)
{
	struct pay_secret sec[2];
	const char	*id, *ts, *sigs, *errstr;
	long long	 t, now = (long long)time(NULL);
	char		*msg;
	size_t		 mlen;
	int		 n = 0, rc;

	memset(sec, 0, sizeof(sec));
	id = gh_header_in(req, "webhook-id");
	ts = gh_header_in(req, "webhook-timestamp");
	sigs = gh_header_in(req, "webhook-signature");
	if (id == NULL || ts == NULL || sigs == NULL)
		return gh_problem(req, 401, "webhook-id, webhook-timestamp and "
		    "webhook-signature are required");
	if (!visible_ascii(id, WEBHOOK_ID_MAX))
		return gh_problem(req, 401, "webhook-id: must be 1 to %d "
		    "visible ASCII characters", WEBHOOK_ID_MAX);
	t = gh_strtonum(ts, 0, 1LL << 40, &errstr);
	if (errstr != NULL)
		return gh_problem(req, 401, "webhook-timestamp: must be "
		    "seconds since 1970");
	if (t < now - pay_cfg.webhook_tolerance ||
	    t > now + pay_cfg.webhook_tolerance)
		return gh_problem(req, 401, "webhook-timestamp: more than %lld "
		    "seconds away from now", pay_cfg.webhook_tolerance);
	if ((rc = load_secret(req, "GH_WEBHOOK_SECRET_FILE", &sec[n])) > 0)
		n++;
	if (rc >= 0 && (rc = load_secret(req,
	    "GH_WEBHOOK_SECRET_PREVIOUS_FILE", &sec[n])) > 0)
		n++;
	if (rc < 0 || n == 0) {
		gh_header(req, "Retry-After", "60");
		return gh_problem(req, 503, "webhooks are not configured");
	}
	if (gh_body_read(req, WEBHOOK_BODY_MAX, bodyp, lenp) != 0)
		return -1;
	mlen = strlen(id) + 1 + strlen(ts) + 1 + *lenp;
	if ((msg = gh_alloc(&req->arena, mlen + 1)) == NULL)
		return gh_problem(req, 500, "out of memory");
	memcpy(msg, id, strlen(id));
	msg[strlen(id)] = '.';
	memcpy(msg + strlen(id) + 1, ts, strlen(ts));
	msg[strlen(id) + 1 + strlen(ts)] = '.';
	memcpy(msg + strlen(id) + strlen(ts) + 2, *bodyp, *lenp);
	rc = pay_signed_by(&req->arena, sigs, sec, n, msg, mlen);
	for (n = 0; n < 2; n++)
		if (sec[n].key != NULL)
			gh_wipe(sec[n].key, sec[n].len);
	if (!rc)
		return gh_problem(req, 401, "webhook-signature: no valid "
		    "signature");
	*idp = id;
	*tsp = t;
	return 0;
}

/*
 * The status an event type asks for; PAY_NONE for types we do not act
 * on.  The names are the provider's; whether the change is allowed is
 * the state table's (PAY_BY_PROVIDER).
 */
static enum pay_status
event_status(const char *type)
{
	static const struct {
		const char	*type;
		enum pay_status	 status;
	} types[] = {
		{ "payment.processing",	PAY_PROCESSING },
		{ "payment.succeeded",	PAY_SUCCEEDED },
		{ "payment.failed",	PAY_FAILED },
		{ "payment.canceled",	PAY_CANCELED },
	};
	size_t	 i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].type, type) == 0)
			return types[i].status;
	return PAY_NONE;
}

static void
answer(struct gh_req *req, const char *id, const char *result,
    const char *status)
{
	gh_reply_json(req, 200, json_pack("{s:s, s:s, s:s?}", "id", id,
	    "result", result, "status", status));
}

/* Reads type and data.reference; 0, or -1 having answered. */
static int
parse_event(struct gh_req *req, const char *body, size_t len,
    const char **type, const char **ref)
{
	json_error_t	 jerr;
	json_t		*root, *t, *d, *r;
	const char	*bad = NULL;

	if ((root = json_loadb(body, len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL)
		return gh_problem(req, 400, "the body is not valid JSON: %s",
		    jerr.text);
	t = json_object_get(root, "type");
	d = json_object_get(root, "data");
	r = json_object_get(d, "reference");
	if (!json_is_object(root))
		bad = "the body must be a JSON object";
	else if (!json_is_string(t) || json_string_length(t) == 0 ||
	    json_string_length(t) > 100)
		bad = "type: must be a string of 1 to 100 characters";
	else if (!json_is_object(d))
		bad = "data: must be an object";
	else if (!json_is_string(r) || json_string_length(r) > 64)
		bad = "data.reference: must be a payment reference";
	if (bad == NULL) {
		*type = gh_strdup(&req->arena, json_string_value(t));
		*ref = gh_strdup(&req->arena, json_string_value(r));
	}
	json_decref(root);
	if (bad != NULL)
		return gh_problem(req, 422, "%s", bad);
	return 0;
}

void
pay_webhook(struct gh_req *req)
{
	struct gh_row	 r;
	PGresult	*res;
	enum pay_status	 to;
	const char	*id = NULL, *type = NULL, *ref = NULL, *from, *p[4];
	const char	*result;
	char		*body = NULL, from_set[128];
	size_t		 len = 0;
	long long	 ts = 0;

	if (verify(req, &id, &ts, &body, &len) != 0 ||
	    parse_event(req, body, len, &type, &ref) != 0)
		return;
	p[0] = id;
	p[1] = type;
	p[2] = ref;
	p[3] = gh_printf(&req->arena, "%lld", ts);
	if (gh_db_begin(req) != 0 ||
	    (res = gh_db_query(req, SQL_EVENT_NEW, 4, p)) == NULL)
		return;
	if (gh_rows(res) == 0) {
		gh_db_rollback(req);
		answer(req, id, "duplicate", NULL);
		return;
	}
	if ((to = event_status(type)) == PAY_NONE) {
		if (gh_db_query(req, SQL_EVENT_RESULT, 2,
		    (const char *[]){ id, "ignored" }) == NULL ||
		    gh_db_commit(req) != 0)
			return;
		answer(req, id, "ignored", NULL);
		return;
	}
	if ((res = gh_db_query(req, SQL_LOCK_REF, 1, &ref)) == NULL)
		return;
	if (gh_rows(res) == 0) {
		/* Nothing is kept: the provider may send it again. */
		gh_problem(req, 404, "data.reference: no such payment");
		return;
	}
	r = GH_ROW(res, 0);
	p[0] = gh_row_str(&r, LR_ID);
	from = gh_row_str(&r, LR_STATUS);
	if (gh_row_failed(req, &r))
		return;
	if (pay_set_text(pay_from(to, PAY_BY_PROVIDER), PAY_TEXT_ARRAY,
	    from_set, sizeof(from_set)) != 0) {
		gh_problem(req, 500, "internal error");
		return;
	}
	p[1] = pay_status_name(to);
	p[2] = from_set;
	if ((res = gh_db_query(req, SQL_APPLY, 3, p)) == NULL)
		return;
	if (gh_rows(res) == 1) {
		result = "applied";
		if (pay_ledger(req, p[0], "webhook", from, p[1], 0,
		    "provider", id, type) != 0)
			return;
	} else
		result = "ignored";
	if (gh_db_query(req, SQL_EVENT_RESULT, 2,
	    (const char *[]){ id, result }) == NULL ||
	    gh_db_commit(req) != 0)
		return;
	answer(req, id, result, strcmp(result, "applied") == 0 ? p[1] : from);
}
