/*
 * Turning a second factor on and off: TOTP (RFC 6238, HMAC-SHA1, 30 s,
 * 6 digits), with one-time recovery codes.  Enroll, then confirm with a
 * code; from then on sign-in asks for a code (mfa.c checks it there).
 */
#include <string.h>
#include <time.h>

#include "auth.h"
#include "account.h"
#include "audit.h"
#include "handlers.h"
#include "mfa.h"
#include "otp.h"

GH_SQL(SQL_TOTP_ENROLL) = {{
    "INSERT INTO user_totp (user_id, secret) VALUES ($1, decode($2, 'hex')) "
    "ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, "
    " created_at = now(), last_step = 0 "
    "WHERE user_totp.confirmed_at IS NULL RETURNING user_id" }};

GH_SQL(SQL_TOTP_CONFIRM) = {{
    "UPDATE user_totp SET confirmed_at = now(), last_step = $2 "
    "WHERE user_id = $1" }};

GH_SQL(SQL_TOTP_DELETE) = {{
    "DELETE FROM user_totp WHERE user_id = $1" }};

GH_SQL(SQL_RECOVERY_DELETE) = {{
    "DELETE FROM recovery_codes WHERE user_id = $1" }};

GH_SQL(SQL_RECOVERY_ADD) = {{
    "INSERT INTO recovery_codes (user_id, code_hash) "
    "VALUES ($1, decode($2, 'hex'))" }};

static char *
hex(struct gh_arena *a, const unsigned char *in, size_t n)
{
	char	*s;

	if ((s = gh_alloc(a, n * 2 + 1)) != NULL)
		gh_hex(s, in, n);
	return s;
}

/* Enroll: a new secret, unconfirmed until a code proves the app has it. */
void
auth_totp_enroll(struct gh_req *req)
{
	unsigned char	 key[AUTH_OTP_KEYLEN];
	struct gh_row	 r;
	PGresult	*res, *ures;
	const char	*uid, *username, *secret, *uri, *issuer;

	if ((ures = auth_session(req, NULL)) == NULL)
		return;
	r = GH_ROW(ures, 0);
	uid = gh_row_str(&r, UC_ID);
	username = gh_row_str(&r, UC_USERNAME);
	if (gh_row_failed(req, &r))
		return;
	if (gh_random(key, sizeof(key)) != 0) {
		gh_problem(req, 500, "internal error");
		return;
	}
	res = gh_db_query(req, SQL_TOTP_ENROLL, 2, (const char *[]){ uid,
	    hex(&req->arena, key, sizeof(key)) });
	if (res == NULL) {
		gh_wipe(key, sizeof(key));
		return;
	}
	if (gh_rows(res) == 0) {
		gh_wipe(key, sizeof(key));
		gh_problem(req, 409, "a second factor is already on; turn it "
		    "off first");
		return;
	}
	secret = auth_base32(&req->arena, key, sizeof(key));
	gh_wipe(key, sizeof(key));
	issuer = gh_config_str("GH_TOTP_ISSUER", "gatehouse");
	/* Usernames are [A-Za-z0-9._-]: nothing to escape in the label. */
	uri = gh_printf(&req->arena, "otpauth://totp/%s:%s?secret=%s&issuer=%s"
	    "&algorithm=SHA1&digits=%d&period=%d", issuer, username, secret,
	    issuer, AUTH_OTP_DIGITS, AUTH_OTP_STEP);
	gh_reply_json(req, 201, json_pack("{s:s, s:s}", "secret", secret,
	    "otpauth_uri", uri));
}

/* Ten new recovery codes, stored hashed; NULL having answered. */
static json_t *
recovery_codes(struct gh_req *req, const char *uid)
{
	unsigned char	 raw[AUTH_RECOVERY_BYTES];
	char		 code[AUTH_RECOVERY_LEN + 1];
	json_t		*codes;
	int		 i;

	if ((codes = json_array()) == NULL) {
		gh_problem(req, 500, "out of memory");
		return NULL;
	}
	for (i = 0; i < AUTH_RECOVERY_CODES; i++) {
		if (gh_random(raw, sizeof(raw)) != 0) {
			gh_problem(req, 500, "internal error");
			goto fail;
		}
		auth_recovery_make(code, raw);
		json_array_append_new(codes, json_string(code));
		if (gh_db_query(req, SQL_RECOVERY_ADD, 2, (const char *[]){
		    uid, gh_sha256_hex(&req->arena, code, strlen(code)) })
		    == NULL)
			goto fail;
	}
	gh_wipe(raw, sizeof(raw));
	gh_wipe(code, sizeof(code));
	return codes;
fail:
	gh_wipe(raw, sizeof(raw));
	gh_wipe(code, sizeof(code));
	json_decref(codes);
	return NULL;
}

enum { T_CODE, T_PASSWORD };
static const struct gh_field code_fields[] = {
	{ "code",	GH_STRING, .minlen = AUTH_OTP_DIGITS,
	    .maxlen = AUTH_OTP_DIGITS },
	{ "password",	GH_STRING, .maxlen = 1024 },
	{ NULL }
};

/*
 * Confirm: the first good code turns the factor on and makes codes.
 * Whoever turns a second factor on or off must know the password: a
 * stolen access token alone must not lock the owner out.
 */
void
auth_totp_confirm(struct gh_req *req)
{
	const struct gh_claims *c;
	struct auth_totp t;
	struct gh_values v;
	long long	 step;
	json_t		*codes;

	if (auth_session(req, NULL) == NULL ||
	    gh_body_json(req, code_fields, &v) != 0 ||
	    auth_password_recheck(req, "password",
	    gh_vstr(&v, T_PASSWORD)) != 0)
		return;
	c = gh_auth_user(req);
	if (gh_db_begin(req) != 0 || auth_totp_load(req, c->sub, &t) != 0)
		return;
	if (!t.enrolled) {
		gh_problem(req, 409, "enroll first (POST /api/v1/auth/me/totp)");
		return;
	}
	if (t.confirmed) {
		gh_wipe(t.key, sizeof(t.key));
		gh_problem(req, 409, "the second factor is already on");
		return;
	}
	step = auth_totp_match(t.key, sizeof(t.key), gh_vstr(&v, T_CODE),
	    (long long)time(NULL), 0);
	gh_wipe(t.key, sizeof(t.key));
	if (step < 0) {
		gh_problem_field(req, 422, "code", "is not the current code");
		return;
	}
	if (gh_db_query(req, SQL_TOTP_CONFIRM, 2, (const char *[]){ c->sub,
	    gh_printf(&req->arena, "%lld", step) }) == NULL ||
	    gh_db_query(req, SQL_RECOVERY_DELETE, 1,
	    (const char *[]){ c->sub }) == NULL ||
	    (codes = recovery_codes(req, c->sub)) == NULL)
		return;
	if (auth_audit(req, "totp_on", c->sub, NULL) != 0 ||
	    gh_db_commit(req) != 0) {
		json_decref(codes);
		return;
	}
	gh_reply_json(req, 200, json_pack("{s:b, s:o}", "enabled", 1,
	    "recovery_codes", codes));
}

enum { X_PASSWORD, X_CODE };
static const struct gh_field disable_fields[] = {
	{ "password",	GH_STRING, .maxlen = 1024 },
	{ "code",	GH_STRING, .minlen = AUTH_OTP_DIGITS,
	    .maxlen = AUTH_OTP_DIGITS },
	{ NULL }
};

/* Turning it off needs both the password and a current code. */
void
auth_totp_disable(struct gh_req *req)
{
	const struct gh_claims *c;
	struct gh_values v;
	int		 on, ok;

	if (auth_session(req, NULL) == NULL ||
	    gh_body_json(req, disable_fields, &v) != 0 ||
	    auth_password_recheck(req, "password",
	    gh_vstr(&v, X_PASSWORD)) != 0)
		return;
	c = gh_auth_user(req);
	if (gh_db_begin(req) != 0 ||
	    (on = auth_totp_check(req, c->sub, gh_vstr(&v, X_CODE), NULL,
	    &ok)) < 0)
		return;
	if (on == 0) {
		gh_problem(req, 409, "the second factor is not on");
		return;
	}
	if (!ok) {
		gh_problem_field(req, 403, "code", "is wrong");
		return;
	}
	if (gh_db_query(req, SQL_TOTP_DELETE, 1, (const char *[]){ c->sub })
	    == NULL || gh_db_query(req, SQL_RECOVERY_DELETE, 1,
	    (const char *[]){ c->sub }) == NULL ||
	    auth_audit(req, "totp_off", c->sub, NULL) != 0 ||
	    gh_db_commit(req) != 0)
		return;
	gh_reply(req, 204, NULL, NULL, 0);
}
