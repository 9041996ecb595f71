/*
 * The pages a mail's link opens post here: a verification, a change's
 * confirmation, its undo; and a signed-in user asks for a new
 * verification link.  A link proves only that its mail was read, so the
 * link endpoints need no session: the token is the proof, once.
 */
#include <limits.h>
#include <string.h>

#include "auth.h"
#include "account.h"
#include "audit.h"
#include "email.h"
#include "handlers.h"
#include "password.h"

GH_SQL(SQL_EMAIL_VERIFIED) = {{
    "UPDATE users SET email_verified_at = coalesce(email_verified_at, "
    " now()), updated_at = now() WHERE id = $1" }};

/*
 * An address a link brought, the new one of a change or the old one of
 * an undo, is verified by the very link that was mailed to it.
 */
GH_SQL(SQL_EMAIL_SET) = {{
    "UPDATE users SET email = $2, email_verified_at = now(), "
    " updated_at = now() WHERE id = $1" }};

/*
 * Whoever changed the address may hold the password and every session:
 * all of them end, the provider's sign-ins too (the revocation feed
 * tells the other services, 006).
 */
GH_SQL(SQL_SESSIONS_END) = {{
    "UPDATE sessions SET revoked_at = now(), revoked_reason = 'email_undo' "
    "WHERE user_id = $1 AND revoked_at IS NULL" }};
GH_SQL(SQL_IDP_END) = {{
    "UPDATE idp_sessions SET revoked_at = now() "
    "WHERE user_id = $1 AND revoked_at IS NULL" }};

enum { K_TOKEN };
static const struct gh_field link_fields[] = {
	{ "token",	GH_STRING, .maxlen = 64, .valid = auth_valid_link_token },
	{ NULL }
};

/* The account as a link's answer shows it: who, and the address now. */
static void
reply_account(struct gh_req *req, const char *username, const char *email,
    json_t *extra)
{
	json_t	*j;

	j = json_pack("{s:s, s:s, s:b}", "username", username, "email", email,
	    "email_verified", 1);
	if (j != NULL && extra != NULL)
		json_object_update(j, extra);
	json_decref(extra);
	gh_reply_json(req, 200, j);
}

/* The link's address onto the account: 0, or -1 answered (409 taken). */
static int
set_email(struct gh_req *req, const struct auth_link *l)
{
	PGresult	*res;
	const char	*field;

	if ((res = gh_db_exec(req, SQL_EMAIL_SET, 2,
	    (const char *[]){ l->uid, l->email })) == NULL)
		return gh_db_reply_error(req, NULL);
	if (PQresultStatus(res) == PGRES_COMMAND_OK)
		return 0;
	if ((field = auth_taken_field(res)) != NULL &&
	    strcmp(field, "email") == 0)
		return auth_email_taken_reply(req);
	return gh_db_reply_error(req, res);
}

/*
 * The token of a verification link.  Good while the address it was
 * mailed to is still the account's.
 */
void
auth_email_verify(struct gh_req *req)
{
	struct gh_values v;
	struct auth_link l;

	if (gh_body_json(req, link_fields, &v) != 0 ||
	    gh_db_begin(req) != 0 ||
	    auth_link_take(req, gh_vstr(&v, K_TOKEN), AUTH_LINK_VERIFY,
	    &l) != 0)
		return;
	if (l.state != AUTH_LINK_LIVE) {
		auth_link_refused(req, &l);
		return;
	}
	if (gh_db_query(req, SQL_EMAIL_VERIFIED, 1, &l.uid) == NULL ||
	    auth_link_spend(req, &l, AUTH_LINK_VERIFY) != 0 ||
	    auth_audit_json(req, "email_verified", l.uid, json_pack("{s:s}",
	    "email", l.email)) != 0 ||
	    gh_db_commit(req) != 0)
		return;
	reply_account(req, l.username, l.email, NULL);
}

/*
 * The token of a change's confirmation, from the new address: it
 * replaces the old one if no other account has taken it meanwhile, and
 * the old one, if it was verified, gets a notice with a way back.
 */
void
auth_email_confirm(struct gh_req *req)
{
	struct gh_values v;
	struct auth_link l;
	int		 rc;

	if (gh_body_json(req, link_fields, &v) != 0 ||
	    gh_db_begin(req) != 0 ||
	    auth_link_take(req, gh_vstr(&v, K_TOKEN), AUTH_LINK_CHANGE,
	    &l) != 0)
		return;
	if (l.state != AUTH_LINK_LIVE) {
		auth_link_refused(req, &l);
		return;
	}
	if ((rc = auth_email_taken(req, l.uid, l.email)) != 0) {
		if (rc > 0)
			auth_email_taken_reply(req);
		return;
	}
	if (set_email(req, &l) != 0 ||
	    auth_link_spend(req, &l, AUTH_LINK_VERIFY " " AUTH_LINK_CHANGE)
	    != 0 ||
	    auth_email_changed_notice(req, l.uid, l.username, l.current,
	    l.current_verified, l.email) != 0 ||
	    auth_audit_json(req, "email_change", l.uid, json_pack("{s:s, s:s}",
	    "old_email", l.current, "new_email", l.email)) != 0 ||
	    gh_db_commit(req) != 0)
		return;
	reply_account(req, l.username, l.email, NULL);
}

/*
 * The token of an undo link, from the old address: it comes back, and
 * every session of the account ends.
 */
void
auth_email_undo(struct gh_req *req)
{
	struct gh_values v;
	struct auth_link l;
	PGresult	*ended;
	const char	*errstr;
	long long	 n;

	if (gh_body_json(req, link_fields, &v) != 0 ||
	    gh_db_begin(req) != 0 ||
	    auth_link_take(req, gh_vstr(&v, K_TOKEN), AUTH_LINK_UNDO,
	    &l) != 0)
		return;
	if (l.state != AUTH_LINK_LIVE) {
		auth_link_refused(req, &l);
		return;
	}
	if (set_email(req, &l) != 0 ||
	    auth_link_spend_undo(req, &l) != 0 ||
	    (ended = gh_db_query(req, SQL_SESSIONS_END, 1, &l.uid)) == NULL ||
	    gh_db_query(req, SQL_IDP_END, 1, &l.uid) == NULL)
		return;
	n = gh_strtonum(PQcmdTuples(ended), 0, LLONG_MAX, &errstr);
	if (errstr != NULL) {
		gh_problem(req, 500, "internal error");
		return;
	}
	if (auth_audit_json(req, "email_change_undone", l.uid, json_pack(
	    "{s:s, s:s, s:I}", "undone_email", l.current, "email", l.email,
	    "sessions_ended", (json_int_t)n)) != 0 ||
	    gh_db_commit(req) != 0)
		return;
	auth_refresh_cookie(req, "", 0);
	reply_account(req, l.username, l.email, json_pack("{s:I}",
	    "sessions_ended", (json_int_t)n));
}

/*
 * A new verification link for the signed-in user's address; the older
 * ones stop working.  Throttled per account and per address.
 */
void
auth_me_email_verification(struct gh_req *req)
{
	struct gh_row	 r;
	PGresult	*ures;
	const char	*uid, *username, *email, *expires;
	long long	 retry;
	int		 verified, rc;

	if ((ures = auth_session(req, NULL)) == NULL)
		return;
	r = GH_ROW(ures, 0);
	uid = gh_row_str(&r, UC_ID);
	username = gh_row_str(&r, UC_USERNAME);
	email = gh_row_str(&r, UC_EMAIL);
	verified = gh_row_bool(&r, UC_EMAIL_VERIFIED);
	if (gh_row_failed(req, &r))
		return;
	if (verified) {
		gh_problem_json(req, 409, "the address is already verified",
		    json_pack("{s:s}", "reason", "verified"));
		return;
	}
	if (auth_valid_email(email) != NULL) {
		gh_problem_json(req, 409, "the account's address cannot "
		    "receive mail; change it first", json_pack("{s:s}",
		    "reason", "unmailable"));
		return;
	}
	if (gh_db_begin(req) != 0 ||
	    (rc = auth_email_mail_hit(req, uid, email, &retry)) < 0)
		return;
	if (rc > 0) {
		auth_email_mail_refused(req, retry);
		return;
	}
	if (auth_email_verify_send(req, uid, username, email, &expires) != 0 ||
	    auth_audit(req, "email_verification_sent", uid, NULL) != 0 ||
	    gh_db_commit(req) != 0)
		return;
	gh_reply_json(req, 202, json_pack("{s:s, s:s}", "sent_to", email,
	    "expires_at", expires));
}
