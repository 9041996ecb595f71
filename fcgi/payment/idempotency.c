/* The payment service's Idempotency-Keys: the statements gh_idem runs. */
#include "idempotency.h"

/*
 * Claims the key for this request.  A row exists already unless it has
 * expired, or its claim is stale, or the session that claimed it has
 * gone (it can commit nothing now): those are taken over.  Two requests
 * inserting one key wait for each other on the primary key, so exactly
 * one gets the row back.
 */
GH_SQL(SQL_KEY_CLAIM) = {{
    "INSERT INTO idempotency_keys AS k (user_id, key, request_hash, "
    " claim_pid, expires_at) VALUES ($1, $2, $3, pg_backend_pid(), "
    " now() + make_interval(secs => $4::int)) "
    "ON CONFLICT (user_id, key) DO UPDATE SET "
    " request_hash = EXCLUDED.request_hash, state = 'in_progress', "
    " response_status = NULL, response_body = NULL, payment_id = NULL, "
    " claim_pid = EXCLUDED.claim_pid, created_at = now(), "
    " expires_at = EXCLUDED.expires_at "
    "WHERE k.expires_at <= now() OR (k.state = 'in_progress' AND "
    " (k.created_at < now() - make_interval(secs => $5::int) OR "
    " (k.claim_pid IS NOT NULL AND NOT EXISTS (SELECT 1 "
    "  FROM pg_stat_activity a WHERE a.pid = k.claim_pid "
    "  AND coalesce(a.backend_start <= k.created_at, true))))) "
    "RETURNING k.created_at::text" }};

GH_SQL(SQL_KEY_GET) = {{
    "SELECT request_hash, state, response_status, response_body, "
    " payment_id::text, greatest(1, ceil(extract(epoch FROM "
    " created_at + make_interval(secs => $3::int) - now())))::bigint "
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

const struct gh_idem_table pay_keys = {
	SQL_KEY_CLAIM, SQL_KEY_GET, SQL_KEY_DONE, SQL_KEY_RELEASE, SQL_KEY_PURGE
};
