/*
 * Password reset: a link by mail for whoever asks with a username or an
 * e-mail address, the new password set with the link's token, and a
 * reset an admin sends.  A request tells nothing of which accounts
 * exist: known or not, enabled or not, it is answered alike after the
 * same statements.  The mail is a row of the outbox (mail.c); no request
 * waits on a relay.
 */
#include <ctype.h>
#include <string.h>

#include "auth.h"
#include "account.h"
#include "audit.h"
#include "handlers.h"
#include "mail.h"
#include "password.h"
#include "recovery.h"
#include "throttle.h"

#define RESET_WINDOW	3600		/* seconds each reset throttle counts */
#define TOKEN_LEN	43		/* base64url of 256 bits */

/* The link, as its token finds it, outside any transaction. */
GH_SQL(SQL_LINK) = {{
    "SELECT r.user_id, u.username, u.email, u.disabled, "
    " mail_address_problem(u.email) IS NULL, r.used_at IS NOT NULL, "
    " r.voided_at IS NOT NULL, r.expires_at <= now() "
    "FROM password_resets r JOIN users u ON u.id = r.user_id "
    "WHERE r.token_hash = decode($1, 'hex')" }};
enum { LK_USER, LK_USERNAME, LK_EMAIL, LK_DISABLED, LK_MAILABLE, LK_USED,
    LK_VOIDED, LK_EXPIRED };

/* Spent here, in the transaction of the new password: once, ever. */
GH_SQL(SQL_LINK_USE) = {{
    "UPDATE password_resets SET used_at = now() "
    "WHERE token_hash = decode($1, 'hex') AND user_id = $2::uuid "
    "AND used_at IS NULL AND voided_at IS NULL AND expires_at > now() "
    "RETURNING user_id" }};
enum { LU_USER };

/* The trigger users_password_set voids the account's other links. */
GH_SQL(SQL_NEW_PASSWORD) = {{
    "UPDATE users SET password_hash = $2, password_changed_at = now(), "
    " updated_at = now() WHERE id = $1::uuid AND NOT disabled "
    "RETURNING id" }};
enum { NP_ID };

enum link_state {
	LINK_LIVE,
	LINK_MALFORMED,
	LINK_UNKNOWN,
	LINK_USED,
	LINK_VOIDED,
	LINK_EXPIRED
};

/* What the token field's error says, by state. */
static const char *const link_why[] = {
	[LINK_MALFORMED] = "is not a reset token (43 characters of "
	    "base64url, from the link in the mail)",
	[LINK_UNKNOWN] = "matches no reset link; ask for a new one",
	[LINK_USED] = "was already used; ask for a new link if you need one",
	[LINK_VOIDED] = "was replaced by a newer link, or the password or the "
	    "e-mail address changed since; use the newest link or ask for "
	    "a new one",
	[LINK_EXPIRED] = "has expired; ask for a new link",
};

struct link {
	enum link_state	 state;
	const char	*hash;
	const char	*user_id;
	const char	*username;
	const char	*email;
	int		 disabled;
	int		 mailable;
};

/* A login as the sign-in takes it: either of the two. */
static const char *
valid_login(const char *s)
{
	if (auth_valid_username(s) == NULL || auth_valid_email(s) == NULL)
		return NULL;
	return "must be a username or an e-mail address";
}

/* prefix and s lowered (ASCII), so that every case of a name is one key. */
static const char *
lower_key(struct gh_req *req, const char *prefix, const char *s)
{
	char	*k, *p;

	if ((k = gh_printf(&req->arena, "%s%s", prefix, s)) == NULL)
		return NULL;
	for (p = k + strlen(prefix); *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return k;
}

/*
 * The counts that may answer, in a transaction of their own that does
 * not wait for the disk at its commit: a count lost in a crash costs
 * nothing, and the row of a client address, which every request from it
 * updates, is then held for a statement, not for a flush.
 */
GH_SQL(SQL_NO_FLUSH) = {{
    "SELECT set_config('synchronous_commit', 'off', true)" }};

/*
 * A throttle that may answer: one keyed by what the client sent or by
 * where it came from, which is the same for every account.  A refused
 * hit is rolled back with its transaction, which changes nothing, as the
 * count is already past the limit until its window ends.
 */
static int
throttled(struct gh_req *req, const char *key, long long limit,
    const char *what)
{
	long long	 retry;
	int		 rc;

	if (key == NULL)
		return gh_problem(req, 500, "out of memory");
	if ((rc = auth_throttle_hit(req, key, limit, RESET_WINDOW,
	    &retry)) <= 0)
		return rc;
	gh_header(req, "Retry-After", gh_printf(&req->arena, "%lld", retry));
	return gh_problem(req, 429, "too many password reset requests %s; "
	    "try again in %lld seconds", what, retry);
}

enum { F_LOGIN };
static const struct gh_field forgot_fields[] = {
	{ "login",	GH_STRING, .maxlen = AUTH_EMAIL_MAX,
	    .valid = valid_login },
	{ NULL }
};

/*
 * POST /api/v1/auth/password/forgot {login}: 202, always the same answer.
 * An account's own count is never answered (a 429 would say that the
 * account exists): past it, no link is sent.  An unknown login is
 * counted under a key of its own, and its link is "issued" to nobody by
 * the same statement, so both do the same work.
 */
void
auth_password_forgot(struct gh_req *req)
{
	struct gh_values v;
	struct auth_recovery_user u;
	const char	*login, *key, *outcome;
	long long	 retry;
	int		 over;

	if (gh_body_json(req, forgot_fields, &v) != 0)
		return;
	login = gh_vstr(&v, F_LOGIN);
	if (gh_db_begin(req) != 0 ||
	    gh_db_query(req, SQL_NO_FLUSH, 0, NULL) == NULL ||
	    throttled(req, lower_key(req, "reset:login:", login),
	    auth_recovery_cfg.login_limit, "for this login") != 0 ||
	    throttled(req, gh_printf(&req->arena, "reset:net:%s",
	    auth_client_net(req)), auth_recovery_cfg.net_limit,
	    "from this address") != 0 ||
	    gh_db_commit(req) != 0)
		return;
	if (gh_db_begin(req) != 0 ||
	    auth_recovery_find(req, login, NULL, &u) != 0)
		return;
	/* Counted before the link is made: see auth_recovery_find. */
	key = u.id != NULL ? gh_printf(&req->arena, "reset:user:%s", u.id) :
	    lower_key(req, "reset:nouser:", login);
	if (key == NULL) {
		gh_problem(req, 500, "out of memory");
		return;
	}
	if ((over = auth_throttle_hit(req, key,
	    auth_recovery_cfg.account_limit, RESET_WINDOW, &retry)) < 0)
		return;
	if (u.id == NULL)
		outcome = "unknown";
	else if (u.disabled)
		outcome = "disabled";
	else if (!u.mailable)
		outcome = "unmailable";
	else if (over)
		outcome = "throttled";
	else
		outcome = "mailed";
	if (auth_recovery_issue(req, strcmp(outcome, "mailed") == 0 ? &u :
	    NULL, NULL, NULL) != 0 ||
	    auth_audit(req, "password_reset_requested", u.id,
	    gh_printf(&req->arena, "{\"outcome\":\"%s\"}", outcome)) != 0 ||
	    gh_db_commit(req) != 0)
		return;
	gh_reply_json(req, 202, json_pack("{s:s, s:I}",
	    "detail", "if an account has this username or e-mail address, a "
	    "link to choose a new password is on its way to the account's "
	    "e-mail address",
	    "valid_minutes", (json_int_t)(auth_recovery_cfg.ttl / 60)));
}

/* A token as auth_mail_token makes them: 43 characters of base64url. */
static int
token_shape(const char *t)
{
	return strlen(t) == TOKEN_LEN && strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_") == TOKEN_LEN;
}

/* The link of token, its state in l.  0, or -1 having answered. */
static int
link_find(struct gh_req *req, const char *token, struct link *l)
{
	struct gh_row	 r;
	PGresult	*res;

	memset(l, 0, sizeof(*l));
	l->state = LINK_MALFORMED;
	if (!token_shape(token))
		return 0;
	if ((l->hash = gh_sha256_hex(&req->arena, token, TOKEN_LEN)) == NULL)
		return gh_problem(req, 500, "out of memory");
	if ((res = gh_db_query(req, SQL_LINK, 1, &l->hash)) == NULL)
		return -1;
	l->state = LINK_UNKNOWN;
	if (gh_rows(res) == 0)
		return 0;
	r = GH_ROW(res, 0);
	l->user_id = gh_row_str(&r, LK_USER);
	l->username = gh_row_str(&r, LK_USERNAME);
	l->email = gh_row_str(&r, LK_EMAIL);
	l->disabled = gh_row_bool(&r, LK_DISABLED);
	l->mailable = gh_row_bool(&r, LK_MAILABLE);
	l->state = gh_row_bool(&r, LK_USED) ? LINK_USED :
	    gh_row_bool(&r, LK_VOIDED) ? LINK_VOIDED :
	    gh_row_bool(&r, LK_EXPIRED) ? LINK_EXPIRED : LINK_LIVE;
	if (gh_row_failed(req, &r))
		return -1;
	return 0;
}

/*
 * The new password and everything that follows from it, in the caller's
 * transaction: the link spent (once: a use racing this one finds it
 * gone), the hash, the other links voided (by trigger), every session
 * ended, the failed sign-ins forgotten, the audit line and the notice.
 * The sessions ended, or -1 having answered.
 */
static long long
link_use(struct gh_req *req, const struct link *l, const char *hash)
{
	PGresult	*res;
	long long	 n;

	if ((res = gh_db_query(req, SQL_LINK_USE, 2,
	    (const char *[]){ l->hash, l->user_id })) == NULL)
		return -1;
	if (gh_rows(res) == 0)
		return gh_problem_field(req, 422, "token", "was used or replaced "
		    "a moment ago; ask for a new link if you need one");
	if ((res = gh_db_query(req, SQL_NEW_PASSWORD, 2,
	    (const char *[]){ l->user_id, hash })) == NULL)
		return -1;
	if (gh_rows(res) == 0)
		return gh_problem(req, 403, "this account is disabled; ask an "
		    "administrator");
	if ((n = auth_recovery_end_all(req, l->user_id, "password_reset")) < 0)
		return -1;
	/*
	 * Whoever just proved they read the account's mail is not held
	 * back by the guesses that may have brought them here.
	 */
	if (auth_login_clear(req, gh_printf(&req->arena, "login:%s",
	    l->username), l->user_id) != 0 ||
	    auth_login_clear(req, gh_printf(&req->arena, "login:%s",
	    l->email), NULL) != 0)
		return -1;
	if (auth_audit(req, "password_reset", l->user_id,
	    gh_printf(&req->arena, "{\"sessions_ended\":%lld}", n)) != 0)
		return -1;
	if (l->mailable && auth_mail_queue(req, l->email, "password_changed",
	    json_pack("{s:s}", "username", l->username)) != 0)
		return -1;
	return n;
}

enum { R_TOKEN, R_PASSWORD };
static const struct gh_field reset_fields[] = {
	{ "token",	GH_STRING },
	{ "password",	GH_STRING, .maxlen = 1024 },
	{ NULL }
};

/*
 * POST /api/v1/auth/password/reset {token, password}.  The token and the
 * password are judged together, so that every bad field is named at
 * once; nothing is written unless both are good.  The costly hash is
 * made outside the transaction, once the link is known to be live.
 */
void
auth_password_reset(struct gh_req *req)
{
	struct gh_values v;
	struct link	 l;
	const char	*pw, *why;
	char		 hash[GH_PASSWORD_HASH_MAX];
	long long	 n;

	if (gh_body_json(req, reset_fields, &v) != 0 ||
	    link_find(req, gh_vstr(&v, R_TOKEN), &l) != 0)
		return;
	pw = gh_vstr(&v, R_PASSWORD);
	if (l.state != LINK_LIVE)
		gh_field_error(req, "token", "%s", link_why[l.state]);
	if ((why = auth_valid_password(pw)) != NULL ||
	    (l.state == LINK_LIVE &&
	    (why = auth_password_personal(pw, l.username, l.email)) != NULL))
		gh_field_error(req, "password", "%s", why);
	if (gh_errors_reply(req, 422) != 0)
		return;
	if (l.disabled) {
		gh_problem(req, 403, "this account is disabled; ask an "
		    "administrator");
		return;
	}
	if (gh_password_hash(&auth_cfg.argon2, pw, strlen(pw), hash,
	    sizeof(hash)) != 0) {
		gh_problem(req, 500, "internal error");
		return;
	}
	if (gh_db_begin(req) != 0 || (n = link_use(req, &l, hash)) < 0 ||
	    gh_db_commit(req) != 0)
		return;
	gh_reply_json(req, 200, json_pack("{s:s, s:I}",
	    "username", l.username, "sessions_ended", (json_int_t)n));
}

enum { A_END_SESSIONS };
static const struct gh_field admin_fields[] = {
	{ "end_sessions",	GH_BOOL | GH_OPTIONAL },
	{ NULL }
};

/*
 * POST /api/v1/auth/admin/users/{id}/password-reset [{end_sessions}]: a
 * reset link mailed to the user, as if they had asked, past their own
 * count.  The password stays until the user sets another; end_sessions
 * (false by default: most such resets are for a user who is locked out,
 * not one who was broken into) also signs the account out everywhere
 * at once.
 */
void
auth_admin_password_reset(struct gh_req *req)
{
	struct gh_values v;
	struct auth_recovery_user u;
	const char	*id = gh_param(req, "id"), *expires;
	long long	 n = 0;
	int		 end;

	memset(&v, 0, sizeof(v));
	if (auth_session(req, GH_ROLE_ADMIN) == NULL ||
	    (gh_has_body(req) && gh_body_json(req, admin_fields, &v) != 0))
		return;
	end = gh_vbool(&v, A_END_SESSIONS, 0);
	if (!gh_is_uuid(id)) {
		gh_problem(req, 404, "no such user");
		return;
	}
	if (gh_db_begin(req) != 0 ||
	    auth_recovery_find(req, NULL, id, &u) != 0)
		return;
	if (u.id == NULL) {
		gh_problem(req, 404, "no such user");
		return;
	}
	if (u.disabled) {
		gh_problem(req, 409, "the account is disabled: enable it "
		    "first, or its link would be refused");
		return;
	}
	if (!u.mailable) {
		gh_problem(req, 409, "the account's e-mail address cannot be "
		    "mailed; change it first");
		return;
	}
	if (auth_recovery_issue(req, &u, gh_auth_user(req)->sub,
	    &expires) != 0 ||
	    (end && (n = auth_recovery_end_all(req, u.id,
	    "admin_reset")) < 0) ||
	    auth_audit(req, "password_reset_requested", u.id,
	    gh_printf(&req->arena, "{\"outcome\":\"mailed\",\"by\":\"admin\","
	    "\"end_sessions\":%s,\"sessions_ended\":%lld}",
	    end ? "true" : "false", n)) != 0 ||
	    gh_db_commit(req) != 0)
		return;
	gh_reply_json(req, 202, json_pack("{s:s, s:s?, s:I}",
	    "user_id", u.id, "expires_at", expires,
	    "sessions_ended", (json_int_t)n));
}
