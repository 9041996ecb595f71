/*
 * Pushed authorization requests (RFC 9126): a client sends its
 * authorization request over the back channel, authenticated, and the
 * browser carries only a one-time reference to it, so the parameters can
 * be neither read nor changed on the way.  The authorization endpoint
 * takes the reference back with oauth_par_take.
 */
#include <string.h>

#include "auth.h"
#include "oauth.h"
#include "oauth_handlers.h"

#define PAR_TTL		60
#define PAR_PREFIX	"urn:ietf:params:oauth:request_uri:"

GH_SQL(SQL_PAR_NEW) = {{
    "INSERT INTO oauth_par (uri_hash, client_id, params, expires_at) "
    "VALUES (decode($1, 'hex'), $2, $3::jsonb, "
    " now() + make_interval(secs => $4::int))" }};

/* One use, within its time, by its client only. */
GH_SQL(SQL_PAR_TAKE) = {{
    "UPDATE oauth_par SET used_at = now() "
    "WHERE uri_hash = decode($1, 'hex') AND client_id = $2 "
    "AND used_at IS NULL AND expires_at > now() "
    "RETURNING params::text" }};
enum { PT_PARAMS };

void
oauth_par(struct gh_req *req)
{
	struct oauth_client cl;
	struct oauth_authz az;
	const char	*error, *desc, *cid, *tok, *hash, *ttl = "60";
	char		*params;
	json_t		*form, *j;
	int		 rc;

	if ((form = oauth_form(req)) == NULL ||
	    oauth_client_auth(req, form, &cl) != 0)
		return;
	cid = json_string_value(json_object_get(form, "client_id"));
	if (cid != NULL && strcmp(cid, cl.id) != 0) {
		oauth_error(req, 400, "invalid_request", "client_id is not "
		    "the authenticated client");
		return;
	}
	/* What the authorization endpoint will read: no secret, no nesting. */
	json_object_del(form, "client_secret");
	if (json_object_get(form, "request_uri") != NULL) {
		oauth_error(req, 400, "invalid_request", "request_uri may not "
		    "be pushed");
		return;
	}
	if (json_object_set_new(form, "client_id", json_string(cl.id)) != 0) {
		gh_problem(req, 500, "out of memory");
		return;
	}
	if ((rc = oauth_authz_parse(req, form, &az, &error, &desc)) == -1)
		return;
	if (rc == 0 && !az.cl.grant_code)
		rc = 1, error = "unauthorized_client",
		    desc = "this client may not use the authorization code grant";
	if (rc != 0) {
		oauth_error(req, 400, error, desc);
		return;
	}
	params = json_dumps(form, JSON_COMPACT);
	if (params == NULL || gh_defer(&req->arena, free, params) != 0) {
		free(params);
		gh_problem(req, 500, "out of memory");
		return;
	}
	if ((tok = gh_random_token(&req->arena, 32)) == NULL ||
	    (hash = oauth_hash_hex(req, tok)) == NULL) {
		gh_problem(req, 500, "internal error");
		return;
	}
	if (gh_db_query(req, SQL_PAR_NEW, 4, (const char *[]){ hash, cl.id,
	    params, ttl }) == NULL)
		return;
	j = json_pack("{s:s, s:i}", "request_uri", gh_printf(&req->arena,
	    "%s%s", PAR_PREFIX, tok), "expires_in", PAR_TTL);
	gh_header(req, "Cache-Control", "no-store");
	gh_reply_json(req, 201, j);
}

/*
 * The pushed parameters for request_uri and client_id, used up: 0 with
 * *out, 1 when there are none (unknown, used, expired, another
 * client's), -1 having answered.
 */
int
oauth_par_take(struct gh_req *req, const char *request_uri,
    const char *client_id, json_t **out)
{
	struct gh_row	 r;
	PGresult	*res;
	const char	*hash, *text;
	size_t		 n = strlen(PAR_PREFIX);

	*out = NULL;
	if (client_id == NULL || strncmp(request_uri, PAR_PREFIX, n) != 0 ||
	    strlen(request_uri + n) != 43)
		return 1;
	if ((hash = oauth_hash_hex(req, request_uri + n)) == NULL)
		return gh_problem(req, 500, "out of memory");
	if ((res = gh_db_query(req, SQL_PAR_TAKE, 2, (const char *[]){ hash,
	    client_id })) == NULL)
		return -1;
	if (gh_rows(res) == 0)
		return 1;
	r = GH_ROW(res, 0);
	text = gh_row_str(&r, PT_PARAMS);
	if (gh_row_failed(req, &r))
		return -1;
	if ((*out = json_loads(text, 0, NULL)) == NULL ||
	    oauth_defer_json(req, *out) != 0)
		return gh_problem(req, 500, "out of memory");
	return 0;
}
