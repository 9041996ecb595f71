/*
 * Grants for actions that need the password again (gh_grant.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gh_arena.h"
#include "gh_auth.h"
#include "gh_config.h"
#include "gh_crypto.h"
#include "gh_db.h"
#include "gh_grant.h"
#include "gh_log.h"
#include "gh_req.h"
#include "gh_revoked.h"
#include "gh_token.h"

/* The clock skew a grant's times are allowed, as for access tokens. */
#define GRANT_LEEWAY_S	30

/*
 * The key waits for a transaction that wrote the same jti and has not
 * ended: of two requests with one grant, the second finds the row only
 * once the first has committed, and the key free if it rolled back.
 */
GH_SQL(SQL_GRANT_SPEND) = {{
    "INSERT INTO used_grants (jti, purpose, expires_at) "
    "VALUES ($1, $2, to_timestamp($3::bigint)) "
    "ON CONFLICT (jti) DO NOTHING RETURNING 1" }};

static const char *
grant_audience(struct gh_req *req, const char *purpose)
{
	return gh_printf(&req->arena, "%s/grant/%s", gh_auth_audience(),
	    purpose);
}

int
gh_grant_make(struct gh_req *req, const char *purpose, char **jwt,
    long long *ttl)
{
	const struct gh_claims *u = gh_auth_user(req);
	struct gh_claims c;
	const char	*aud, *jti;
	time_t		 now = time(NULL);

	if (gh_config_int("GH_GRANT_TTL", 300, 30, 900, ttl) != 0)
		return gh_problem(req, 500, "internal error");
	if (u == NULL || (aud = grant_audience(req, purpose)) == NULL ||
	    (jti = gh_random_token(&req->arena, 16)) == NULL)
		return gh_problem(req, 500, "internal error");
	memset(&c, 0, sizeof(c));
	snprintf(c.sub, sizeof(c.sub), "%s", u->sub);
	snprintf(c.role, sizeof(c.role), "%s", u->role);
	snprintf(c.sid, sizeof(c.sid), "%s", u->sid);
	snprintf(c.jti, sizeof(c.jti), "%s", jti);
	c.iat = now;
	c.exp = now + *ttl;
	if (gh_token_sign(gh_auth_keys(), gh_auth_issuer(), aud, &c,
	    &req->arena, jwt) != 0)
		return gh_problem(req, 500, "internal error");
	return 0;
}

int
gh_grant_require(struct gh_req *req, const char *purpose,
    struct gh_grant *out)
{
	const struct gh_claims *u = gh_auth_user(req);
	struct gh_claims g;
	const char	*h, *aud, *why;
	time_t		 now = time(NULL);

	memset(out, 0, sizeof(*out));
	if (u == NULL)
		return gh_problem(req, 500, "internal error");
	h = gh_header_in(req, GH_GRANT_HEADER);
	if (h == NULL || *h == '\0')
		return gh_problem(req, 403, "this needs your password: send "
		    "it to POST /api/v1/auth/me/password/verify and the "
		    "grant it answers in the " GH_GRANT_HEADER " header");
	if ((aud = grant_audience(req, purpose)) == NULL)
		return gh_problem(req, 500, "out of memory");
	if (gh_token_verify(gh_auth_keys(), h, gh_auth_issuer(), aud, now,
	    GRANT_LEEWAY_S, &g, &why) != 0)
		return gh_problem(req, 403, "the grant is refused (%s): ask "
		    "for a new one with your password", why);
	/* Another user's, or another session's: nobody's here. */
	if (strcmp(g.sub, u->sub) != 0 || strcmp(g.sid, u->sid) != 0)
		return gh_problem(req, 403, "the grant was made for another "
		    "session");
	if (gh_revoked_check(&g, now))
		return gh_problem(req, 403, "the grant's session has ended");
	out->purpose = purpose;
	snprintf(out->jti, sizeof(out->jti), "%s", g.jti);
	out->exp = g.exp;
	return 0;
}

int
gh_grant_spend(struct gh_req *req, const struct gh_grant *g)
{
	const char	*p[3];
	char		 until[24];
	PGresult	*res;

	if (g->purpose == NULL || g->jti[0] == '\0')
		return gh_problem(req, 500, "internal error");
	/* Kept as long as gh_grant_require would take it. */
	snprintf(until, sizeof(until), "%lld", g->exp + GRANT_LEEWAY_S);
	p[0] = g->jti;
	p[1] = g->purpose;
	p[2] = until;
	if (gh_db_begin(req) != 0 ||
	    (res = gh_db_query(req, SQL_GRANT_SPEND, 3, p)) == NULL)
		return -1;
	if (gh_rows(res) != 1) {
		/* A replay: someone has the grant who should not, maybe. */
		gh_log_warnx("grant", "request %s: a spent %s grant of user "
		    "%s was sent again", req->request_id != NULL ?
		    req->request_id : "-", g->purpose, gh_auth_user(req) !=
		    NULL ? gh_auth_user(req)->sub : "-");
		return gh_problem(req, 403, "the grant was already used: "
		    "a grant works once; ask for a new one with your "
		    "password (POST /api/v1/auth/me/password/verify)");
	}
	return 0;
}
