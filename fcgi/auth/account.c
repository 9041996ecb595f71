/*
 * The signed-in account: its session, its password asked again, its
 * JSON, and the refresh cookie, each written once for every handler.
 */
#include <string.h>

#include "auth.h"
#include "account.h"
#include "throttle.h"

/*
 * first_party: a session of gatehouse's own sign-in, or of a client that
 * is the operator's own (it skips consent).  A third-party app holding a
 * user's token may act for the user, never with an admin's power.
 */
GH_SQL(SQL_SESSION_USER) = {{
    "SELECT " USER_COLS ", (s.client_id IS NULL OR coalesce(c.skip_consent, "
    " false)) FROM users u "
    "JOIN sessions s ON s.user_id = u.id "
    "LEFT JOIN oauth_clients c ON c.id = s.client_id "
    "WHERE u.id = $1 AND s.id = $2 AND s.revoked_at IS NULL "
    "AND s.expires_at > now() AND NOT u.disabled" }};
enum { SU_FIRST_PARTY = UC__COUNT };

GH_SQL(SQL_PASSWORD_HASH) = {{
    "SELECT u.password_hash FROM users u WHERE u.id = $1 AND NOT u.disabled" }};
enum { PH_HASH };

/*
 * A valid token is not enough to act on an account: its session must
 * still be open and the account enabled, and a role is read from the
 * database, not from the token (a demoted admin's token says "admin" for
 * up to GH_ACCESS_TTL, so gh_auth_is_admin, which reads the token, is not
 * enough here).  Returns the user's row (USER_COLS), or NULL after
 * answering 401 or 403.
 */
PGresult *
auth_session(struct gh_req *req, const char *role)
{
	const struct gh_claims *c;
	struct gh_row	 r;
	PGresult	*res = NULL;
	const char	*have;
	int		 first_party;

	if (gh_auth_require(req, NULL) != 0)
		return NULL;
	c = gh_auth_user(req);
	if (c->sid[0] != '\0' && (res = gh_db_query(req, SQL_SESSION_USER, 2,
	    (const char *[]){ c->sub, c->sid })) == NULL)
		return NULL;
	if (gh_rows(res) == 0) {
		gh_header(req, "WWW-Authenticate", "Bearer realm=\"gatehouse\", "
		    "error=\"invalid_token\", error_description=\"the session "
		    "has ended\"");
		gh_problem(req, 401, "the session has ended; sign in again");
		return NULL;
	}
	r = GH_ROW(res, 0);
	have = gh_row_str(&r, UC_ROLE);
	first_party = gh_row_bool(&r, SU_FIRST_PARTY);
	if (gh_row_failed(req, &r))
		return NULL;
	if (role != NULL && strcmp(have, role) != 0) {
		gh_problem(req, 403, "this needs the %s role", role);
		return NULL;
	}
	if (role != NULL && strcmp(role, GH_ROLE_ADMIN) == 0 && !first_party) {
		gh_problem(req, 403, "an app signed in through OAuth may not "
		    "use the admin role; sign in to gatehouse itself");
		return NULL;
	}
	return res;
}

/*
 * The current password of the signed-in user, asked again before an
 * action a stolen access token alone must not do (a new password, turning
 * a second factor on or off, deleting the account).  A disabled account
 * is refused like a gone one, whatever the password.  Counted with
 * sign-in failures.  0 when right; else it has answered: 401 gone or
 * disabled, 403 naming field when wrong (so that a client tells it from
 * a dead token), 429 throttled.
 */
int
auth_password_recheck(struct gh_req *req, const char *field, const char *pw)
{
	struct gh_row	 r;
	PGresult	*res;
	const char	*uid = gh_auth_user(req)->sub, *hash;

	if (auth_account_may_try(req, uid) != 0 ||
	    (res = gh_db_query(req, SQL_PASSWORD_HASH, 1, &uid)) == NULL)
		return -1;
	if (gh_rows(res) == 0)
		return gh_problem(req, 401, "the account is gone or disabled");
	r = GH_ROW(res, 0);
	hash = gh_row_str(&r, PH_HASH);
	if (gh_row_failed(req, &r))
		return -1;
	if (gh_password_verify(hash, pw, strlen(pw)) == 0)
		return 0;
	auth_account_failed(req, uid);
	return gh_problem_field(req, 403, field, "is wrong");
}

/* A user from a row that starts with USER_COLS; check gh_row_failed after. */
json_t *
auth_user_json(struct gh_row *r)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:b, s:s, s:s}",
	    "id", gh_row_str(r, UC_ID),
	    "username", gh_row_str(r, UC_USERNAME),
	    "email", gh_row_str(r, UC_EMAIL),
	    "email_verified", gh_row_bool(r, UC_EMAIL_VERIFIED),
	    "totp_enabled", gh_row_bool(r, UC_TOTP),
	    "role", gh_row_str(r, UC_ROLE),
	    "created_at", gh_row_time(r, UC_CREATED));
}

/*
 * {"user": ...} from the first row of res, or NULL having answered 500.
 * Made before a commit, so that a row that cannot be read is not written.
 */
json_t *
auth_user_body(struct gh_req *req, const PGresult *res)
{
	struct gh_row	 r = GH_ROW(res, 0);
	json_t		*u = auth_user_json(&r), *body;

	if (gh_row_failed(req, &r)) {
		json_decref(u);
		return NULL;
	}
	if ((body = json_pack("{s:o}", "user", u)) == NULL)
		gh_problem(req, 500, "out of memory");
	return body;
}

/*
 * The field a unique violation of users is about: "username", "email"
 * (an address in use, or held for another account's undo: 008), or NULL
 * for any other error.
 */
const char *
auth_taken_field(const PGresult *res)
{
	const char	*c = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);

	if (c != NULL && strcmp(c, "users_username_lower_key") == 0)
		return "username";
	if (c != NULL && strcmp(c, "users_email_lower_key") == 0)
		return "email";
	return NULL;
}

/* A failed write of users: 409 naming the field taken, else its error. */
int
auth_reply_taken(struct gh_req *req, PGresult *res)
{
	const char	*field = auth_taken_field(res);

	if (field == NULL)
		return gh_db_reply_error(req, res);
	return gh_problem_field(req, 409, field, "is already taken");
}

/*
 * The refresh token for browsers: HttpOnly, on auth's paths only, never
 * sent cross-site.  An empty token with max_age 0 tells the browser to
 * drop it.
 */
void
auth_refresh_cookie(struct gh_req *req, const char *token, long long max_age)
{
	gh_header(req, "Set-Cookie", gh_printf(&req->arena,
	    AUTH_REFRESH_COOKIE "=%s; Path=/api/v1/auth; Max-Age=%lld; "
	    "HttpOnly;%s SameSite=Strict", token, max_age,
	    auth_cfg.cookie_secure ? " Secure;" : ""));
}
