/* The audit trail: who did what, from where, under which request. */
#include <stdlib.h>

#include "auth.h"
#include "audit.h"

GH_SQL(SQL_AUDIT) = {{
    "INSERT INTO audit_log (event, user_id, actor_id, ip, request_id, detail) "
    "VALUES ($1, $2, $3, $4, $5, coalesce($6::jsonb, '{}'))" }};

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
 * The same with a detail built by jansson (whose reference this takes),
 * for details that hold what users typed, such as addresses.
 */
int
auth_audit_json(struct gh_req *req, const char *event, const char *user_id,
    json_t *detail)
{
	char	*text;
	int	 rc;

	text = detail != NULL ? json_dumps(detail, JSON_COMPACT) : NULL;
	json_decref(detail);
	if (text == NULL)
		return gh_problem(req, 500, "out of memory");
	rc = auth_audit(req, event, user_id, text);
	free(text);
	return rc;
}
