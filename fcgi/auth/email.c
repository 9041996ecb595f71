/*
 * The links that prove an address.  A link's token is 256 random bits
 * (auth_mail_token), stored only as its SHA-256, good once, for one
 * purpose and for a time; the mail that carries it is queued in the same
 * transaction as the row, so neither exists without the other.
 */
#include <ctype.h>
#include <string.h>

#include "auth.h"
#include "email.h"
#include "mail.h"
#include "password.h"
#include "throttle.h"

#define LINK_TOKEN_LEN	43	/* base64url of 32 bytes, unpadded */

struct auth_email_settings auth_email_cfg;

/* The account's live links of the purposes listed (space separated). */
GH_SQL(SQL_LINK_VOID) = {{
    "UPDATE email_tokens SET voided_at = now() "
    "WHERE user_id = $1 AND purpose = ANY (string_to_array($2, ' ')) "
    "AND used_at IS NULL AND voided_at IS NULL" }};

GH_SQL(SQL_LINK_NEW) = {{
    "INSERT INTO email_tokens (token_hash, user_id, purpose, email, "
    " expires_at) "
    "VALUES (decode($1, 'hex'), $2, $3, $4, "
    " now() + make_interval(secs => $5::int)) "
    "RETURNING " TS("expires_at") }};
enum { LN_EXPIRES };

GH_SQL(SQL_LINK_FIND) = {{
    "SELECT t.user_id, u.username, t.email, u.email, "
    " u.email_verified_at IS NOT NULL, "
    " t.used_at IS NOT NULL, t.voided_at IS NOT NULL, "
    " t.expires_at <= now(), lower(t.email) <> lower(u.email), u.disabled "
    "FROM email_tokens t JOIN users u ON u.id = t.user_id "
    "WHERE t.token_hash = decode($1, 'hex') AND t.purpose = $2 "
    "FOR UPDATE OF t, u" }};
enum { LF_UID, LF_USERNAME, LF_EMAIL, LF_CURRENT, LF_CURRENT_VERIFIED,
    LF_USED, LF_VOIDED, LF_EXPIRED, LF_MOVED, LF_DISABLED };

GH_SQL(SQL_LINK_SPEND) = {{
    "UPDATE email_tokens SET used_at = now() "
    "WHERE token_hash = decode($1, 'hex')" }};

/*
 * An undo puts back the address of before its change, and so of before
 * every link made since: those die with it.  Undo links older than this
 * one stay, so that the first change (the owner's address) can still be
 * undone after a later undo (a thief's).
 */
GH_SQL(SQL_LINK_VOID_SINCE) = {{
    "UPDATE email_tokens t SET voided_at = now() "
    "FROM email_tokens me WHERE me.token_hash = decode($2, 'hex') "
    "AND t.user_id = $1 AND t.token_hash <> me.token_hash "
    "AND t.used_at IS NULL AND t.voided_at IS NULL "
    "AND (t.purpose <> 'undo' OR t.created_at >= me.created_at)" }};

GH_SQL(SQL_LINK_PENDING) = {{
    "SELECT email, " TS("expires_at") " FROM email_tokens "
    "WHERE user_id = $1 AND purpose = 'change' AND used_at IS NULL "
    "AND voided_at IS NULL AND expires_at > now() "
    "ORDER BY created_at DESC LIMIT 1" }};
enum { LP_EMAIL, LP_EXPIRES };

GH_SQL(SQL_EMAIL_TAKEN) = {{
    "SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1) "
    "  AND id <> $2) "
    " OR EXISTS (SELECT 1 FROM email_tokens WHERE lower(email) = lower($1) "
    "  AND purpose = 'undo' AND used_at IS NULL AND voided_at IS NULL "
    "  AND expires_at > now() AND user_id <> $2)" }};
enum { ET_TAKEN };

int
auth_email_setup(void)
{
	struct auth_email_settings *c = &auth_email_cfg;

	if (gh_config_int("GH_EMAIL_VERIFY_TTL", 86400, 3600, 30 * 86400,
	    &c->verify_ttl) != 0 ||
	    gh_config_int("GH_EMAIL_UNDO_TTL", 7 * 86400, 3600, 90 * 86400,
	    &c->undo_ttl) != 0 ||
	    gh_config_int("GH_EMAIL_MAIL_LIMIT", 5, 1, 1000,
	    &c->mail_limit) != 0 ||
	    gh_config_bool("GH_AUTH_REQUIRE_VERIFIED_EMAIL", 0,
	    &c->require_verified) != 0)
		return -1;
	return 0;
}

/* What auth_mail_token makes; anything else cannot be one of ours. */
const char *
auth_valid_link_token(const char *s)
{
	size_t	 i;

	if (strlen(s) != LINK_TOKEN_LEN)
		return "must be the 43 characters after #token= in the link";
	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return "must be the 43 characters after #token= in the "
			    "link (letters, digits, - and _)";
	return NULL;
}

static const char *
num(struct gh_req *req, long long n)
{
	return gh_printf(&req->arena, "%lld", n);
}

/* Whole hours, rounded down: a mail never promises more than is true. */
static json_int_t
hours(long long seconds)
{
	return (json_int_t)(seconds / 3600);
}

/*
 * A new link for uid: its token (for the mail; NULL having answered) and
 * when it expires.  The account's live links of the purposes in voids go
 * first, so that only the newest mail works.
 */
static char *
link_new(struct gh_req *req, const char *uid, const char *purpose,
    const char *email, long long ttl, const char *voids,
    const char **expires)
{
	struct gh_row	 r;
	PGresult	*res;
	char		*token, *hash;

	if (voids != NULL && gh_db_query(req, SQL_LINK_VOID, 2,
	    (const char *[]){ uid, voids }) == NULL)
		return NULL;
	if ((token = auth_mail_token(req, &hash)) == NULL ||
	    (res = gh_db_query(req, SQL_LINK_NEW, 5, (const char *[]){ hash,
	    uid, purpose, email, num(req, ttl) })) == NULL)
		return NULL;
	r = GH_ROW(res, 0);
	if (expires != NULL)
		*expires = gh_row_time(&r, LN_EXPIRES);
	if (gh_row_failed(req, &r))
		return NULL;
	return token;
}

/*
 * Counts one more mail with a link for the account and for the address
 * it goes to (lowered: one mailbox, one count), so that no one makes
 * gatehouse mail a stranger over and over.  0 within both limits, 1
 * past one (*retry: seconds to wait), -1 answered.
 */
int
auth_email_mail_hit(struct gh_req *req, const char *uid, const char *email,
    long long *retry)
{
	char	*to;
	size_t	 i;
	int	 rc;

	if ((to = gh_printf(&req->arena, "email-mail:to:%s", email)) == NULL)
		return gh_problem(req, 500, "out of memory");
	for (i = 0; to[i] != '\0'; i++)
		to[i] = (char)tolower((unsigned char)to[i]);
	if ((rc = auth_throttle_hit(req, gh_printf(&req->arena,
	    "email-mail:user:%s", uid), auth_email_cfg.mail_limit, 3600,
	    retry)) != 0)
		return rc;
	return auth_throttle_hit(req, to, auth_email_cfg.mail_limit, 3600,
	    retry);
}

int
auth_email_mail_refused(struct gh_req *req, long long retry)
{
	gh_header(req, "Retry-After", num(req, retry));
	return gh_problem(req, 429, "too many mails with a link for this "
	    "account or this address; try again in %lld seconds", retry);
}

/* A verification link for the account's address, mailed. */
int
auth_email_verify_send(struct gh_req *req, const char *uid,
    const char *username, const char *email, const char **expires)
{
	char	*token;

	if ((token = link_new(req, uid, AUTH_LINK_VERIFY, email,
	    auth_email_cfg.verify_ttl, AUTH_LINK_VERIFY, expires)) == NULL)
		return -1;
	return auth_mail_queue(req, email, "verify_email", json_pack(
	    "{s:s, s:s, s:I}", "username", username, "token", token,
	    "valid_hours", hours(auth_email_cfg.verify_ttl)));
}

/*
 * Whether email belongs to another account, or is held for another
 * account's undo: 1 taken, 0 free, -1 answered.
 */
int
auth_email_taken(struct gh_req *req, const char *uid, const char *email)
{
	struct gh_row	 r;
	PGresult	*res;
	int		 taken;

	if ((res = gh_db_query(req, SQL_EMAIL_TAKEN, 2,
	    (const char *[]){ email, uid })) == NULL)
		return -1;
	r = GH_ROW(res, 0);
	taken = gh_row_bool(&r, ET_TAKEN);
	if (gh_row_failed(req, &r))
		return -1;
	return taken;
}

int
auth_email_taken_reply(struct gh_req *req)
{
	return gh_problem_json(req, 409, "the address is now used by another "
	    "account; nothing was changed", json_pack("{s:s}", "reason",
	    "taken"));
}

/*
 * A change waits for its confirmation from the new address: a link
 * mailed there.  An earlier change still waiting is replaced.
 */
int
auth_email_change_start(struct gh_req *req, const char *uid,
    const char *username, const char *new_email, const char **expires)
{
	char	*token;

	if ((token = link_new(req, uid, AUTH_LINK_CHANGE, new_email,
	    auth_email_cfg.verify_ttl, AUTH_LINK_CHANGE, expires)) == NULL)
		return -1;
	return auth_mail_queue(req, new_email, "email_change_confirm",
	    json_pack("{s:s, s:s, s:s, s:I}", "username", username,
	    "new_email", new_email, "token", token, "valid_hours",
	    hours(auth_email_cfg.verify_ttl)));
}

int
auth_email_change_cancel(struct gh_req *req, const char *uid)
{
	return gh_db_query(req, SQL_LINK_VOID, 2, (const char *[]){ uid,
	    AUTH_LINK_CHANGE }) == NULL ? -1 : 0;
}

/*
 * The change of address waiting for its confirmation, as the account
 * shows it ({new_email, expires_at}), or NULL when none.  0, or -1
 * answered.
 */
int
auth_email_pending(struct gh_req *req, const char *uid, json_t **pending)
{
	struct gh_row	 r;
	PGresult	*res;
	json_t		*j;

	*pending = NULL;
	if ((res = gh_db_query(req, SQL_LINK_PENDING, 1, &uid)) == NULL)
		return -1;
	if (gh_rows(res) == 0)
		return 0;
	r = GH_ROW(res, 0);
	j = json_pack("{s:s, s:s}", "new_email", gh_row_str(&r, LP_EMAIL),
	    "expires_at", gh_row_time(&r, LP_EXPIRES));
	if (gh_row_failed(req, &r)) {
		json_decref(j);
		return -1;
	}
	if (j == NULL)
		return gh_problem(req, 500, "out of memory");
	*pending = j;
	return 0;
}

/*
 * The old address hears of a confirmed change, with a link that puts it
 * back (the account may have been taken over): only an address that was
 * verified, since one never proven may be a stranger's (a typo at
 * sign-up), who must not be able to take the account back to it.  An
 * old address the outbox would refuse (from before its rules) cannot be
 * told either.
 */
int
auth_email_changed_notice(struct gh_req *req, const char *uid,
    const char *username, const char *old_email, int old_verified,
    const char *new_email)
{
	char	*token;

	if (!old_verified || auth_valid_email(old_email) != NULL)
		return 0;
	if ((token = link_new(req, uid, AUTH_LINK_UNDO, old_email,
	    auth_email_cfg.undo_ttl, NULL, NULL)) == NULL)
		return -1;
	return auth_mail_queue(req, old_email, "email_change_notice",
	    json_pack("{s:s, s:s, s:s, s:I}", "username", username,
	    "new_email", new_email, "token", token, "valid_hours",
	    hours(auth_email_cfg.undo_ttl)));
}

/*
 * An admin set the address: it is unverified (the trigger of 008 saw
 * to that), every link of the account is moot, the new address gets a
 * verification link and the old one, if it was verified, a notice.  No
 * undo: an admin's change is what a user asks for when the old mailbox
 * is lost or is someone else's now, and whoever holds it must not be
 * able to reverse it.
 */
int
auth_email_admin_changed(struct gh_req *req, const char *uid,
    const char *username, const char *old_email, int old_verified,
    const char *new_email)
{
	if (gh_db_query(req, SQL_LINK_VOID, 2, (const char *[]){ uid,
	    AUTH_LINK_VERIFY " " AUTH_LINK_CHANGE " " AUTH_LINK_UNDO }) ==
	    NULL || auth_email_verify_send(req, uid, username, new_email,
	    NULL) != 0)
		return -1;
	if (!old_verified || auth_valid_email(old_email) != NULL)
		return 0;
	return auth_mail_queue(req, old_email, "email_changed_by_admin",
	    json_pack("{s:s, s:s}", "username", username, "new_email",
	    new_email));
}

/*
 * The link whose token was presented, for purpose, and its account,
 * both locked for the caller's transaction.  l->state says whether it
 * may be used; 0, or -1 answered.
 */
int
auth_link_take(struct gh_req *req, const char *token, const char *purpose,
    struct auth_link *l)
{
	struct gh_row	 r;
	PGresult	*res;

	memset(l, 0, sizeof(*l));
	l->state = AUTH_LINK_UNKNOWN;
	if ((l->hash = gh_sha256_hex(&req->arena, token, strlen(token))) ==
	    NULL)
		return gh_problem(req, 500, "out of memory");
	if ((res = gh_db_query(req, SQL_LINK_FIND, 2,
	    (const char *[]){ l->hash, purpose })) == NULL)
		return -1;
	if (gh_rows(res) == 0)
		return 0;
	r = GH_ROW(res, 0);
	l->uid = gh_row_str(&r, LF_UID);
	l->username = gh_row_str(&r, LF_USERNAME);
	l->email = gh_row_str(&r, LF_EMAIL);
	l->current = gh_row_str(&r, LF_CURRENT);
	l->current_verified = gh_row_bool(&r, LF_CURRENT_VERIFIED);
	if (gh_row_bool(&r, LF_USED))
		l->state = AUTH_LINK_USED;
	else if (gh_row_bool(&r, LF_VOIDED))
		l->state = AUTH_LINK_VOIDED;
	else if (gh_row_bool(&r, LF_EXPIRED))
		l->state = AUTH_LINK_EXPIRED;
	else if (strcmp(purpose, AUTH_LINK_VERIFY) == 0 &&
	    gh_row_bool(&r, LF_MOVED))
		l->state = AUTH_LINK_MOVED;
	else if (gh_row_bool(&r, LF_DISABLED))
		l->state = AUTH_LINK_DISABLED;
	else
		l->state = AUTH_LINK_LIVE;
	return gh_row_failed(req, &r) ? -1 : 0;
}

static const struct {
	int		 status;
	const char	*reason;
	const char	*detail;
} refusals[] = {
	[AUTH_LINK_UNKNOWN] = { 404, "unknown", "this link is not valid: "
	    "open the whole link from the mail, or ask for a new one" },
	[AUTH_LINK_USED] = { 409, "used", "this link was already used" },
	[AUTH_LINK_VOIDED] = { 410, "replaced", "a newer link replaced this "
	    "one, or what it was for is over; use the newest mail" },
	[AUTH_LINK_EXPIRED] = { 410, "expired", "this link has expired; ask "
	    "for a new one" },
	[AUTH_LINK_MOVED] = { 409, "address_changed", "the account's e-mail "
	    "address changed after this link was sent" },
	[AUTH_LINK_DISABLED] = { 403, "disabled", "the account is disabled" },
};

/* The problem for a link that may not be used; returns -1. */
int
auth_link_refused(struct gh_req *req, const struct auth_link *l)
{
	if (l->state == AUTH_LINK_LIVE || (size_t)l->state >=
	    sizeof(refusals) / sizeof(refusals[0]))
		return gh_problem(req, 500, "internal error");
	return gh_problem_json(req, refusals[l->state].status,
	    refusals[l->state].detail, json_pack("{s:s}", "reason",
	    refusals[l->state].reason));
}

/*
 * The link is used; the account's other live links of the purposes in
 * void_purposes (space separated, or NULL) die with it.
 */
int
auth_link_spend(struct gh_req *req, const struct auth_link *l,
    const char *void_purposes)
{
	if (gh_db_query(req, SQL_LINK_SPEND, 1, &l->hash) == NULL)
		return -1;
	if (void_purposes != NULL && gh_db_query(req, SQL_LINK_VOID, 2,
	    (const char *[]){ l->uid, void_purposes }) == NULL)
		return -1;
	return 0;
}

/* An undo link is used: every link made since it dies with it. */
int
auth_link_spend_undo(struct gh_req *req, const struct auth_link *l)
{
	if (gh_db_query(req, SQL_LINK_SPEND, 1, &l->hash) == NULL ||
	    gh_db_query(req, SQL_LINK_VOID_SINCE, 2,
	    (const char *[]){ l->uid, l->hash }) == NULL)
		return -1;
	return 0;
}
