/*
 * Account recovery: the account a reset is for, its link (a row of
 * password_resets, sql/auth/009_password_reset.sql, and a mail queued in
 * the same transaction), and the end of every way the account is signed
 * in.  Nothing here answers a client except on errors.
 */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "mail.h"
#include "recovery.h"

struct auth_recovery_settings auth_recovery_cfg;

/*
 * Two links for one account must follow one another, so that the newer
 * always voids the older.  A user's request counts on the account's row
 * of rate_counters, which holds the next one until the commit; an
 * admin's, which is not counted, locks the user's row instead.
 */
#define FIND_COLS	"SELECT u.id, u.username, u.email, u.disabled, " \
			"mail_address_problem(u.email) IS NULL FROM users u "
GH_SQL(SQL_FIND_LOGIN) = {{
    FIND_COLS "WHERE lower(u.username) = lower($1) "
    "OR lower(u.email) = lower($1) LIMIT 1" }};
GH_SQL(SQL_FIND_ID) = {{
    FIND_COLS "WHERE u.id = $1::uuid FOR UPDATE OF u" }};
enum { RF_ID, RF_USERNAME, RF_EMAIL, RF_DISABLED, RF_MAILABLE };

/*
 * One statement, whether or not there is an account to mail: without
 * one ($1 NULL) it writes nothing and queues nothing, after the same
 * round trip.  The mail is queued with mail_enqueue, as auth_mail_queue
 * does, but in this statement, so that it costs no round trip of its own
 * that an unknown account would not pay.
 */
GH_SQL(SQL_ISSUE) = {{
    "WITH voided AS ("
    " UPDATE password_resets SET voided_at = now() "
    " WHERE user_id = $1::uuid AND used_at IS NULL AND voided_at IS NULL "
    " RETURNING 1"
    "), made AS ("
    " INSERT INTO password_resets (token_hash, user_id, requested_by, ip, "
    "  expires_at) "
    " SELECT decode($2, 'hex'), $1::uuid, $3::uuid, left($4, 64), "
    "  now() + make_interval(secs => $5::int) "
    " WHERE $1::uuid IS NOT NULL "
    " RETURNING expires_at"
    ") SELECT " TS("made.expires_at") ", "
    " mail_enqueue($6, $8, $7::jsonb) FROM made" }};
enum { RI_EXPIRES, RI_MAIL };

/*
 * Every way in: refresh-token families (first-party and OAuth, whose
 * access tokens then die at every service through the revocation feed),
 * provider sessions, codes not yet exchanged, and sign-ins half done.
 */
GH_SQL(SQL_END_ALL) = {{
    "WITH s AS ("
    " UPDATE sessions SET revoked_at = now(), revoked_reason = $2 "
    " WHERE user_id = $1::uuid AND revoked_at IS NULL RETURNING 1"
    "), i AS ("
    " UPDATE idp_sessions SET revoked_at = now() "
    " WHERE user_id = $1::uuid AND revoked_at IS NULL RETURNING id"
    "), c AS ("
    " UPDATE oauth_codes SET expires_at = now() "
    " WHERE user_id = $1::uuid AND used_at IS NULL AND expires_at > now() "
    " RETURNING 1"
    "), q AS ("
    " DELETE FROM oauth_requests WHERE user_id = $1::uuid "
    " OR idp_session_id IN (SELECT id FROM i) RETURNING 1"
    ") SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM i), "
    " (SELECT count(*) FROM c), (SELECT count(*) FROM q)" }};
enum { EA_SESSIONS, EA_IDP, EA_CODES, EA_REQUESTS };

int
auth_recovery_setup(void)
{
	struct auth_recovery_settings *c = &auth_recovery_cfg;

	return gh_config_int("GH_PASSWORD_RESET_TTL", 1800, 300, 86400,
	    &c->ttl) != 0 ||
	    gh_config_int("GH_PASSWORD_RESET_LIMIT", 5, 1, 1000000,
	    &c->login_limit) != 0 ||
	    gh_config_int("GH_PASSWORD_RESET_NET_LIMIT", 50, 1, 1000000,
	    &c->net_limit) != 0 ||
	    gh_config_int("GH_PASSWORD_RESET_ACCOUNT_LIMIT", 3, 1, 1000000,
	    &c->account_limit) != 0 ? -1 : 0;
}

/*
 * The account with login as its username or e-mail, or with id (then
 * locked for the caller's transaction); u->id stays NULL when there is
 * none.  0, or -1 having answered.
 */
int
auth_recovery_find(struct gh_req *req, const char *login, const char *id,
    struct auth_recovery_user *u)
{
	struct gh_row	 r;
	PGresult	*res;

	memset(u, 0, sizeof(*u));
	if ((res = gh_db_query(req, login != NULL ? SQL_FIND_LOGIN :
	    SQL_FIND_ID, 1, login != NULL ? &login : &id)) == NULL)
		return -1;
	if (gh_rows(res) == 0)
		return 0;
	r = GH_ROW(res, 0);
	u->id = gh_row_str(&r, RF_ID);
	u->username = gh_row_str(&r, RF_USERNAME);
	u->email = gh_row_str(&r, RF_EMAIL);
	u->disabled = gh_row_bool(&r, RF_DISABLED);
	u->mailable = gh_row_bool(&r, RF_MAILABLE);
	if (gh_row_failed(req, &r)) {
		memset(u, 0, sizeof(*u));
		return -1;
	}
	return 0;
}

/*
 * A new reset link for u, voiding its older ones, and its mail, in the
 * caller's transaction; by is the admin who asked (the mail then says
 * so: password_reset_admin), or NULL.  With u NULL
 * (no account, or one that gets no mail) the same work is done and
 * nothing is written.  *expires_at, when asked for, is when the link
 * stops working (NULL without one).  0, or -1 having answered.
 */
int
auth_recovery_issue(struct gh_req *req, const struct auth_recovery_user *u,
    const char *by, const char **expires_at)
{
	struct gh_row	 r;
	PGresult	*res;
	json_t		*params;
	const char	*p[8];
	char		*token, *hash, *text;
	int		 rc = -1;

	if (expires_at != NULL)
		*expires_at = NULL;
	if ((token = auth_mail_token(req, &hash)) == NULL)
		return -1;
	params = json_pack("{s:s, s:s, s:I}",
	    "username", u != NULL ? u->username : "",
	    "token", token,
	    "valid_minutes", (json_int_t)(auth_recovery_cfg.ttl / 60));
	text = params != NULL ? json_dumps(params, JSON_COMPACT) : NULL;
	json_decref(params);
	if (text == NULL)
		return gh_problem(req, 500, "out of memory");
	p[0] = u != NULL ? u->id : NULL;
	p[1] = hash;
	p[2] = by;
	p[3] = req->remote_addr;
	p[4] = gh_printf(&req->arena, "%lld", auth_recovery_cfg.ttl);
	p[5] = u != NULL ? u->email : NULL;
	p[6] = text;
	p[7] = by != NULL ? "password_reset_admin" : "password_reset";
	if ((res = gh_db_query(req, SQL_ISSUE, 8, p)) == NULL)
		goto done;
	if (gh_rows(res) > 0 && expires_at != NULL) {
		r = GH_ROW(res, 0);
		*expires_at = gh_row_time(&r, RI_EXPIRES);
		if (gh_row_failed(req, &r))
			goto done;
	}
	rc = 0;
done:
	free(text);
	return rc;
}

/*
 * Ends every session of the account and everything that could make a
 * new one without its password, in the caller's transaction; reason
 * goes into sessions.revoked_reason.  The sessions ended, or -1 having
 * answered.
 */
long long
auth_recovery_end_all(struct gh_req *req, const char *user_id,
    const char *reason)
{
	struct gh_row	 r;
	PGresult	*res;
	long long	 n;

	if ((res = gh_db_query(req, SQL_END_ALL, 2,
	    (const char *[]){ user_id, reason })) == NULL)
		return -1;
	r = GH_ROW(res, 0);
	n = gh_row_int(&r, EA_SESSIONS);
	if (gh_row_failed(req, &r))
		return -1;
	return n;
}
