/*
 * The second factor's stored side: the secret read (and locked) for a
 * check, a code's step recorded so that it works once, a recovery code
 * spent.  The codes themselves are otp.c's.
 */
#include <string.h>
#include <time.h>

#include "auth.h"
#include "mfa.h"

GH_SQL(SQL_TOTP_GET) = {{
    "SELECT encode(secret, 'hex'), confirmed_at IS NOT NULL, last_step "
    "FROM user_totp WHERE user_id = $1 FOR UPDATE" }};
enum { TG_SECRET, TG_CONFIRMED, TG_LAST_STEP };

GH_SQL(SQL_TOTP_STEP) = {{
    "UPDATE user_totp SET last_step = $2 WHERE user_id = $1" }};

GH_SQL(SQL_RECOVERY_USE) = {{
    "UPDATE recovery_codes SET used_at = now() "
    "WHERE user_id = $1 AND code_hash = decode($2, 'hex') "
    "AND used_at IS NULL" }};

/*
 * The user's factor, locked until the caller's transaction ends (two
 * sign-ins with one code take turns, and the second finds its step
 * spent).  0, with t->enrolled 0 when there is none; -1 answered.
 */
int
auth_totp_load(struct gh_req *req, const char *uid, struct auth_totp *t)
{
	struct gh_row	 r;
	PGresult	*res;
	const char	*hex;

	memset(t, 0, sizeof(*t));
	if ((res = gh_db_query(req, SQL_TOTP_GET, 1, &uid)) == NULL)
		return -1;
	if (gh_rows(res) == 0)
		return 0;
	r = GH_ROW(res, 0);
	hex = gh_row_str(&r, TG_SECRET);
	t->confirmed = gh_row_bool(&r, TG_CONFIRMED);
	t->last_step = gh_row_int(&r, TG_LAST_STEP);
	if (gh_row_failed(req, &r))
		return -1;
	/* The schema holds secrets of 20 bytes: another is a bad column. */
	if (gh_unhex(hex, t->key, sizeof(t->key)) != 0) {
		gh_log_errx("totp", "user %s: the stored secret is not %d "
		    "bytes", uid, AUTH_OTP_KEYLEN);
		return gh_problem(req, 500, "internal error");
	}
	t->enrolled = 1;
	return 0;
}

/*
 * For sign-in and for turning the factor off: 1 when the user has a
 * confirmed second factor, 0 when not, -1 when it answered an error.
 * With a factor, a good code or an unused recovery code is needed
 * (checked and spent here, in the caller's transaction); *ok says
 * whether it was given.
 */
int
auth_totp_check(struct gh_req *req, const char *uid, const char *code,
    const char *recovery, int *ok)
{
	struct auth_totp t;
	PGresult	*res;
	char		 rc[AUTH_RECOVERY_LEN + 1];
	long long	 step;

	*ok = 0;
	if (auth_totp_load(req, uid, &t) != 0)
		return -1;
	if (!t.enrolled || !t.confirmed)
		return 0;
	if (recovery != NULL) {
		gh_wipe(t.key, sizeof(t.key));
		if (auth_recovery_parse(recovery, rc) != 0)
			return 1;
		if ((res = gh_db_query(req, SQL_RECOVERY_USE, 2,
		    (const char *[]){ uid, gh_sha256_hex(&req->arena, rc,
		    strlen(rc)) })) == NULL)
			return -1;
		*ok = strcmp(PQcmdTuples(res), "1") == 0;
		return 1;
	}
	step = code == NULL ? -1 : auth_totp_match(t.key, sizeof(t.key), code,
	    (long long)time(NULL), t.last_step);
	gh_wipe(t.key, sizeof(t.key));
	if (step < 0)
		return 1;
	if (gh_db_query(req, SQL_TOTP_STEP, 2, (const char *[]){ uid,
	    gh_printf(&req->arena, "%lld", step) }) == NULL)
		return -1;
	*ok = 1;
	return 1;
}
