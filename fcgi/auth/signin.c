/*
 * The credential check.  An unknown login and a wrong password get the
 * same outcome after the same work (a dummy verify), and count against
 * the identifier typed and the account; the second factor is asked only
 * after the right password, since then it reveals nothing more.
 */
#include <string.h>

#include "auth.h"
#include "account.h"
#include "audit.h"
#include "email.h"
#include "mfa.h"
#include "password.h"
#include "signin.h"
#include "throttle.h"

GH_SQL(SQL_LOGIN_USER) = {{
    "SELECT " USER_COLS ", u.password_hash, u.disabled FROM users u "
    "WHERE lower(u.username) = lower($1) OR lower(u.email) = lower($1) "
    "LIMIT 1" }};
enum { LU_HASH = UC__COUNT, LU_DISABLED };

GH_SQL(SQL_USER_BY_ID) = {{
    "SELECT " USER_COLS ", u.disabled FROM users u WHERE u.id = $1" }};
enum { UI_DISABLED = UC__COUNT };

GH_SQL(SQL_REHASH) = {{
    "UPDATE users SET password_hash = $2 WHERE id = $1" }};

/* Counts the failure (and audits it) in a transaction of its own. */
static enum auth_signin_outcome
failed(struct gh_req *req, const char *key, const char *user_id)
{
	if (gh_db_begin(req) != 0 ||
	    auth_login_failed(req, key, user_id) != 0 ||
	    auth_audit(req, "login_failed", user_id, NULL) != 0 ||
	    gh_db_commit(req) != 0)
		return AUTH_SIGNIN_ANSWERED;
	return AUTH_SIGNIN_WRONG;
}

/*
 * Every credential was right, but the account's address is unverified
 * and GH_AUTH_REQUIRE_VERIFIED_EMAIL says that is not enough: nothing
 * told so far reaches anyone without the password and the code.  The
 * refusal itself brings the way out, a new verification link (within
 * the mail throttle), since without a session no resend can be asked.
 * Returns AUTH_SIGNIN_UNVERIFIED, committed, or AUTH_SIGNIN_ANSWERED.
 */
static enum auth_signin_outcome
unverified(struct gh_req *req, struct auth_signin *si, const PGresult *ures,
    const char *key)
{
	struct gh_row	 r = GH_ROW(ures, 0);
	const char	*username, *email;
	long long	 retry;
	int		 rc;

	username = gh_row_str(&r, UC_USERNAME);
	email = gh_row_str(&r, UC_EMAIL);
	if (gh_row_failed(req, &r) ||
	    auth_login_clear(req, key, si->uid) != 0 ||
	    auth_audit(req, "login_unverified", si->uid, NULL) != 0)
		return AUTH_SIGNIN_ANSWERED;
	si->mailed = AUTH_MAILED_CANNOT;
	if (auth_valid_email(email) == NULL) {
		if ((rc = auth_email_mail_hit(req, si->uid, email,
		    &retry)) < 0)
			return AUTH_SIGNIN_ANSWERED;
		si->mailed = AUTH_MAILED_RECENTLY;
		if (rc == 0) {
			if (auth_email_verify_send(req, si->uid, username,
			    email, NULL) != 0)
				return AUTH_SIGNIN_ANSWERED;
			si->mailed = AUTH_MAILED_LINK;
		}
	}
	if (gh_db_commit(req) != 0)
		return AUTH_SIGNIN_ANSWERED;
	return AUTH_SIGNIN_UNVERIFIED;
}

static int
needs_verification(struct gh_req *req, const PGresult *ures, int *needs)
{
	struct gh_row	 r = GH_ROW(ures, 0);

	*needs = auth_email_cfg.require_verified &&
	    !gh_row_bool(&r, UC_EMAIL_VERIFIED);
	return gh_row_failed(req, &r) ? -1 : 0;
}

/*
 * The whole check is one transaction holding a lock on the identifier,
 * so that guesses sent in parallel are counted one by one instead of
 * all passing the check before any is counted.  On AUTH_SIGNIN_OK the
 * transaction is still open, the throttle cleared and the success
 * audited: the caller adds its session and commits.
 */
enum auth_signin_outcome
auth_signin_check(struct gh_req *req, struct auth_signin *si)
{
	struct gh_row	 r;
	PGresult	*ures;
	const char	*hash = NULL, *uid = NULL, *pw = si->password;
	char		 newhash[GH_PASSWORD_HASH_MAX], *key;
	size_t		 pwlen = strlen(pw);
	int		 rc, on, ok, needs, disabled = 0;

	si->user = NULL;
	si->uid = NULL;
	si->otp = 0;
	if ((key = gh_printf(&req->arena, "login:%s", si->login)) == NULL) {
		gh_problem(req, 500, "out of memory");
		return AUTH_SIGNIN_ANSWERED;
	}
	if (gh_db_begin(req) != 0 || auth_login_lock(req, key) != 0 ||
	    (ures = gh_db_query(req, SQL_LOGIN_USER, 1, &si->login)) == NULL)
		return AUTH_SIGNIN_ANSWERED;
	if (gh_rows(ures) > 0) {
		r = GH_ROW(ures, 0);
		uid = gh_row_str(&r, UC_ID);
		hash = gh_row_str(&r, LU_HASH);
		disabled = gh_row_bool(&r, LU_DISABLED);
		if (gh_row_failed(req, &r))
			return AUTH_SIGNIN_ANSWERED;
	}
	if (auth_login_may_try(req, key, uid) != 0)
		return AUTH_SIGNIN_ANSWERED;
	if (uid == NULL) {
		gh_password_dummy_verify(&auth_cfg.argon2, pw, pwlen);
		return failed(req, key, NULL);
	}
	if ((rc = gh_password_verify(hash, pw, pwlen)) != 0) {
		if (rc < 0)
			gh_log_errx("login", "user %s: unreadable hash", uid);
		return failed(req, key, uid);
	}
	if (disabled)
		return AUTH_SIGNIN_DISABLED;
	si->uid = uid;
	if ((on = auth_totp_check(req, uid, si->totp, si->recovery,
	    &ok)) < 0)
		return AUTH_SIGNIN_ANSWERED;
	if (on && !ok) {
		if (si->totp == NULL && si->recovery == NULL)
			return AUTH_SIGNIN_MFA;
		gh_db_rollback(req);
		return failed(req, key, uid);
	}
	si->otp = on;
	/* Hashes made under older settings are brought up to date. */
	if (gh_password_needs_rehash(hash, &auth_cfg.argon2) &&
	    gh_password_hash(&auth_cfg.argon2, pw, pwlen, newhash,
	    sizeof(newhash)) == 0 &&
	    gh_db_query(req, SQL_REHASH, 2, (const char *[]){ uid,
	    newhash }) == NULL)
		return AUTH_SIGNIN_ANSWERED;
	if (needs_verification(req, ures, &needs) != 0)
		return AUTH_SIGNIN_ANSWERED;
	if (needs)
		return unverified(req, si, ures, key);
	if (auth_login_clear(req, key, uid) != 0 ||
	    auth_audit(req, si->event, uid, NULL) != 0)
		return AUTH_SIGNIN_ANSWERED;
	si->user = ures;
	return AUTH_SIGNIN_OK;
}

/*
 * The second step of a sign-in made in two (the provider's page asks
 * for the code on a form of its own): si->uid's password was right a
 * moment ago; now its code.  Failures count on the account, as every
 * code check does.  Outcomes as auth_signin_check's.
 */
enum auth_signin_outcome
auth_signin_otp(struct gh_req *req, struct auth_signin *si)
{
	struct gh_row	 r;
	PGresult	*ures;
	const char	*key;
	int		 on, ok, needs, disabled;

	si->user = NULL;
	si->otp = 0;
	if ((key = gh_printf(&req->arena, "user:%s", si->uid)) == NULL) {
		gh_problem(req, 500, "out of memory");
		return AUTH_SIGNIN_ANSWERED;
	}
	if (gh_db_begin(req) != 0 || auth_login_lock(req, key) != 0 ||
	    auth_account_may_try(req, si->uid) != 0 ||
	    (ures = gh_db_query(req, SQL_USER_BY_ID, 1, &si->uid)) == NULL)
		return AUTH_SIGNIN_ANSWERED;
	if (gh_rows(ures) == 0)
		return AUTH_SIGNIN_WRONG;
	r = GH_ROW(ures, 0);
	disabled = gh_row_bool(&r, UI_DISABLED);
	if (gh_row_failed(req, &r))
		return AUTH_SIGNIN_ANSWERED;
	if (disabled)
		return AUTH_SIGNIN_DISABLED;
	if ((on = auth_totp_check(req, si->uid, si->totp, si->recovery,
	    &ok)) < 0)
		return AUTH_SIGNIN_ANSWERED;
	if (on && !ok) {
		gh_db_rollback(req);
		if (gh_db_begin(req) != 0)
			return AUTH_SIGNIN_ANSWERED;
		auth_account_failed(req, si->uid);
		if (auth_audit(req, "login_failed", si->uid, NULL) != 0 ||
		    gh_db_commit(req) != 0)
			return AUTH_SIGNIN_ANSWERED;
		return AUTH_SIGNIN_WRONG;
	}
	si->otp = on;
	if (needs_verification(req, ures, &needs) != 0)
		return AUTH_SIGNIN_ANSWERED;
	if (needs)
		return unverified(req, si, ures, NULL);
	if (auth_login_clear(req, NULL, si->uid) != 0 ||
	    auth_audit(req, si->event, si->uid, NULL) != 0)
		return AUTH_SIGNIN_ANSWERED;
	si->user = ures;
	return AUTH_SIGNIN_OK;
}

/* What an unverified sign-in tells the person who typed the password. */
const char *
auth_signin_unverified_text(const struct auth_signin *si)
{
	switch (si->mailed) {
	case AUTH_MAILED_LINK:
		return "Confirm your e-mail address first: a new link was "
		    "just sent to it. Open it, then sign in again.";
	case AUTH_MAILED_RECENTLY:
		return "Confirm your e-mail address first: links were sent to "
		    "it a short while ago. Open the newest one, then sign in "
		    "again.";
	default:
		return "Your e-mail address must be confirmed before you sign "
		    "in, and it cannot receive mail: ask an administrator to "
		    "change it.";
	}
}
