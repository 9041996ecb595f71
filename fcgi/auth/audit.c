/* The audit trail, and the throttle of lookups that reveal accounts. */
#include <stdint.h>
#include <stdio.h>

#include "auth.h"

GH_SQL(SQL_AUDIT) = {{
    "INSERT INTO audit_log (event, user_id, actor_id, ip, request_id, detail) "
    "VALUES ($1, $2, $3, $4, $5, coalesce($6::jsonb, '{}'))" }};

GH_SQL(SQL_THROTTLE) = {{
    "INSERT INTO rate_counters AS r (key, window_start, hits) "
    "VALUES ($1, now(), 1) "
    "ON CONFLICT (key) DO UPDATE SET "
    " hits = CASE WHEN r.window_start < now() - make_interval(secs => $2) "
    "   THEN 1 ELSE r.hits + 1 END, "
    " window_start = CASE WHEN r.window_start < "
    "   now() - make_interval(secs => $2) THEN now() ELSE r.window_start END "
    "RETURNING hits, greatest(1, ceil(extract(epoch FROM r.window_start + "
    " make_interval(secs => $2) - now())))::int" }};

/*
 * Records an event with who, from where and under which request id.
 * Written in the caller's transaction when there is one.
 */
int
auth_audit(struct gh_req *req, const char *event, const char *user_id,
    const char *detail_json)
{
	const struct gh_claims *c = gh_auth_user(req);
	const char	*p[6];

	p[0] = event;
	p[1] = user_id;
	p[2] = c != NULL ? c->sub : user_id;
	p[3] = req->remote_addr;
	p[4] = req->request_id;
	p[5] = detail_json;
	return gh_db_query(req, SQL_AUDIT, 6, p) == NULL ? -1 : 0;
}

/*
 * Counts a hit on key in a fixed window; past limit it answers 429 with
 * Retry-After, naming what is counted, and returns -1.
 */
int
auth_throttle(struct gh_req *req, const char *key, long long limit,
    long long window_s, const char *what)
{
	PGresult	*res;
	const char	*p[2];
	const char	*errstr;
	char		 win[24];

	snprintf(win, sizeof(win), "%lld", window_s);
	p[0] = key;
	p[1] = win;
	if ((res = gh_db_query(req, SQL_THROTTLE, 2, p)) == NULL)
		return -1;
	if (gh_strtonum(PQgetvalue(res, 0, 0), 0, INT32_MAX, &errstr) <= limit)
		return 0;
	gh_header(req, "Retry-After", PQgetvalue(res, 0, 1));
	return gh_problem(req, 429, "too many %s from this address; try "
	    "again in %s seconds", what, PQgetvalue(res, 0, 1));
}
