/*
 * A second factor: TOTP (RFC 6238, HMAC-SHA1, 30 s, 6 digits: what every
 * authenticator app speaks), with one-time recovery codes.  Enroll, then
 * confirm with a code; from then on sign-in asks for a code.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth.h"

#define TOTP_STEP	30
#define TOTP_SKEW	1		/* steps accepted either side of now */
#define RECOVERY_CODES	10

GH_SQL(SQL_TOTP_GET) = {{
    "SELECT encode(secret, 'hex'), confirmed_at IS NOT NULL, last_step "
    "FROM user_totp WHERE user_id = $1 FOR UPDATE" }};

GH_SQL(SQL_TOTP_ENROLL) = {{
    "INSERT INTO user_totp (user_id, secret) VALUES ($1, decode($2, 'hex')) "
    "ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, "
    " created_at = now(), last_step = 0 "
    "WHERE user_totp.confirmed_at IS NULL RETURNING user_id" }};

GH_SQL(SQL_TOTP_CONFIRM) = {{
    "UPDATE user_totp SET confirmed_at = now(), last_step = $2 "
    "WHERE user_id = $1" }};

GH_SQL(SQL_TOTP_STEP) = {{
    "UPDATE user_totp SET last_step = $2 WHERE user_id = $1" }};

GH_SQL(SQL_TOTP_DELETE) = {{
    "DELETE FROM user_totp WHERE user_id = $1" }};

GH_SQL(SQL_RECOVERY_DELETE) = {{
    "DELETE FROM recovery_codes WHERE user_id = $1" }};

GH_SQL(SQL_RECOVERY_ADD) = {{
    "INSERT INTO recovery_codes (user_id, code_hash) "
    "VALUES ($1, decode($2, 'hex'))" }};

GH_SQL(SQL_RECOVERY_USE) = {{
    "UPDATE recovery_codes SET used_at = now() "
    "WHERE user_id = $1 AND code_hash = decode($2, 'hex') "
    "AND used_at IS NULL" }};

GH_SQL(SQL_USERNAME) = {{
    "SELECT username FROM users WHERE id = $1" }};

static int
hex_to_bin(const char *hex, unsigned char *out, size_t n)
{
	size_t	 i;
	unsigned v;

	if (strlen(hex) != n * 2)
		return -1;
	for (i = 0; i < n; i++) {
		if (sscanf(hex + i * 2, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

static char *
bin_to_hex(struct gh_arena *a, const unsigned char *in, size_t n)
{
	char	*s;

	if ((s = gh_alloc(a, n * 2 + 1)) != NULL)
		gh_hex(s, in, n);
	return s;
}

/* RFC 4648 base32 without padding: how authenticator apps take secrets. */
static char *
base32(struct gh_arena *a, const unsigned char *in, size_t n)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	char		*s;
	size_t		 i, o = 0;
	unsigned	 buf = 0;
	int		 bits = 0;

	if ((s = gh_alloc(a, (n * 8 + 4) / 5 + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		buf = (buf << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			s[o++] = alpha[(buf >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		s[o++] = alpha[(buf << (5 - bits)) & 31];
	s[o] = '\0';
	return s;
}

/* The 6-digit code of one time step (RFC 4226 dynamic truncation). */
static unsigned
hotp(const unsigned char *key, size_t keylen, uint64_t counter)
{
	unsigned char	 msg[8], mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0;
	unsigned	 off, bin;
	int		 i;

	for (i = 7; i >= 0; i--) {
		msg[i] = (unsigned char)(counter & 0xff);
		counter >>= 8;
	}
	if (HMAC(EVP_sha1(), key, (int)keylen, msg, sizeof(msg), mac,
	    &maclen) == NULL || maclen < 20)
		return 1000000;		/* matches no code */
	off = mac[maclen - 1] & 0x0f;
	bin = ((unsigned)(mac[off] & 0x7f) << 24) | ((unsigned)mac[off + 1] << 16) |
	    ((unsigned)mac[off + 2] << 8) | mac[off + 3];
	return bin % 1000000;
}

/*
 * The step a code matches, within the skew and after last_step (no code
 * twice), or -1.  Every candidate is computed, whichever matches.
 */
static long long
totp_match(const unsigned char *key, const char *code, long long last_step)
{
	long long	 now = (long long)time(NULL) / TOTP_STEP, step, hit = -1;
	unsigned	 want;
	const char	*errstr;

	if (strlen(code) != 6)
		return -1;
	want = (unsigned)gh_strtonum(code, 0, 999999, &errstr);
	if (errstr != NULL)
		return -1;
	for (step = now - TOTP_SKEW; step <= now + TOTP_SKEW; step++)
		if (hotp(key, 20, (uint64_t)step) == want && step > last_step &&
		    hit < 0)
			hit = step;
	return hit;
}

/*
 * For sign-in: 1 when the user has a confirmed second factor, 0 when not,
 * -1 when it answered an error.  With a factor, a good code or an unused
 * recovery code is needed (checked and spent here, in the caller's
 * transaction); *ok says whether it was given.
 */
int
auth_totp_check(struct gh_req *req, const char *uid, const char *code,
    const char *recovery, int *ok)
{
	PGresult	*res;
	unsigned char	 key[20];
	long long	 step, last;
	const char	*errstr;

	*ok = 0;
	if ((res = gh_db_query(req, SQL_TOTP_GET, 1, &uid)) == NULL)
		return -1;
	if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 1), "t") != 0)
		return 0;
	if (recovery != NULL) {
		if ((res = gh_db_query(req, SQL_RECOVERY_USE, 2,
		    (const char *[]){ uid, gh_sha256_hex(&req->arena,
		    recovery, strlen(recovery)) })) == NULL)
			return -1;
		*ok = strcmp(PQcmdTuples(res), "1") == 0;
		return 1;
	}
	if (code == NULL || hex_to_bin(PQgetvalue(res, 0, 0), key,
	    sizeof(key)) != 0)
		return 1;
	last = gh_strtonum(PQgetvalue(res, 0, 2), 0, INT64_MAX, &errstr);
	if ((step = totp_match(key, code, last)) < 0)
		return 1;
	if (gh_db_query(req, SQL_TOTP_STEP, 2, (const char *[]){ uid,
	    gh_printf(&req->arena, "%lld", step) }) == NULL)
		return -1;
	*ok = 1;
	return 1;
}

/* Enroll: a new secret, unconfirmed until a code proves the app has it. */
void
auth_totp_enroll(struct gh_req *req)
{
	const struct gh_claims *c;
	unsigned char	 key[20];
	PGresult	*res, *ures;
	const char	*secret, *uri, *issuer;

	if (auth_session(req, NULL) == NULL)
		return;
	c = gh_auth_user(req);
	if (gh_random(key, sizeof(key)) != 0) {
		gh_problem(req, 500, "internal error");
		return;
	}
	if ((ures = gh_db_query(req, SQL_USERNAME, 1,
	    (const char *[]){ c->sub })) == NULL)
		return;
	if (PQntuples(ures) == 0) {
		gh_problem(req, 401, "the account is gone");
		return;
	}
	if ((res = gh_db_query(req, SQL_TOTP_ENROLL, 2, (const char *[]){
	    c->sub, bin_to_hex(&req->arena, key, sizeof(key)) })) == NULL)
		return;
	if (PQntuples(res) == 0) {
		gh_problem(req, 409, "a second factor is already on; turn it "
		    "off first");
		return;
	}
	secret = base32(&req->arena, key, sizeof(key));
	issuer = gh_config_str("GH_TOTP_ISSUER", "gatehouse");
	/* Usernames are [A-Za-z0-9._-]: nothing to escape in the label. */
	uri = gh_printf(&req->arena, "otpauth://totp/%s:%s?secret=%s&issuer=%s"
	    "&algorithm=SHA1&digits=6&period=30", issuer,
	    PQgetvalue(ures, 0, 0), secret, issuer);
	gh_wipe(key, sizeof(key));
	gh_reply_json(req, 201, json_pack("{s:s, s:s}", "secret", secret,
	    "otpauth_uri", uri));
}

enum { T_CODE, T_PASSWORD };
static const struct gh_field code_fields[] = {
	{ "code",	GH_STRING, .minlen = 6, .maxlen = 6 },
	{ "password",	GH_STRING, .maxlen = 1024 },
	{ NULL }
};

GH_SQL(SQL_PW) = {{
    "SELECT password_hash FROM users WHERE id = $1" }};

/*
 * Whoever turns a second factor on or off must know the password: a
 * stolen access token alone must not lock the owner out.
 */
static int
password_right(struct gh_req *req, const char *uid, const char *pw)
{
	PGresult	*res;

	if (auth_account_may_try(req, uid) != 0 ||
	    (res = gh_db_query(req, SQL_PW, 1, &uid)) == NULL)
		return -1;
	if (PQntuples(res) == 1 && gh_password_verify(PQgetvalue(res, 0, 0),
	    pw, strlen(pw)) == 0)
		return 0;
	auth_account_failed(req, uid);
	return gh_problem_field(req, 403, "password", "is wrong");
}

/* Confirm: the first good code turns the factor on and makes codes. */
void
auth_totp_confirm(struct gh_req *req)
{
	const struct gh_claims *c;
	struct gh_values v;
	PGresult	*res;
	unsigned char	 key[20], raw[10];
	long long	 step;
	json_t		*codes;
	const char	*code;
	int		 i;

	if (auth_session(req, NULL) == NULL ||
	    gh_body_json(req, code_fields, &v) != 0)
		return;
	c = gh_auth_user(req);
	if (password_right(req, c->sub, gh_vstr(&v, T_PASSWORD)) != 0 ||
	    gh_db_begin(req) != 0 ||
	    (res = gh_db_query(req, SQL_TOTP_GET, 1,
	    (const char *[]){ c->sub })) == NULL)
		return;
	if (PQntuples(res) == 0) {
		gh_problem(req, 409, "enroll first (POST /api/v1/auth/me/totp)");
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
		gh_problem(req, 409, "the second factor is already on");
		return;
	}
	if (hex_to_bin(PQgetvalue(res, 0, 0), key, sizeof(key)) != 0 ||
	    (step = totp_match(key, gh_vstr(&v, T_CODE), 0)) < 0) {
		gh_problem_field(req, 422, "code", "is not the current code");
		return;
	}
	if (gh_db_query(req, SQL_TOTP_CONFIRM, 2, (const char *[]){ c->sub,
	    gh_printf(&req->arena, "%lld", step) }) == NULL ||
	    gh_db_query(req, SQL_RECOVERY_DELETE, 1,
	    (const char *[]){ c->sub }) == NULL)
		return;
	if ((codes = json_array()) == NULL) {
		gh_problem(req, 500, "out of memory");
		return;
	}
	for (i = 0; i < RECOVERY_CODES; i++) {
		if (gh_random(raw, sizeof(raw)) != 0) {
			json_decref(codes);
			gh_problem(req, 500, "internal error");
			return;
		}
		code = bin_to_hex(&req->arena, raw, sizeof(raw));
		json_array_append_new(codes, json_string(code));
		if (gh_db_query(req, SQL_RECOVERY_ADD, 2, (const char *[]){
		    c->sub, gh_sha256_hex(&req->arena, code, strlen(code)) })
		    == NULL) {
			json_decref(codes);
			return;
		}
	}
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
	{ "code",	GH_STRING, .minlen = 6, .maxlen = 6 },
	{ NULL }
};

/* Turning it off needs both the password and a current code. */
void
auth_totp_disable(struct gh_req *req)
{
	const struct gh_claims *c;
	struct gh_values v;
	int		 on, ok;
	const char	*pw;

	if (auth_session(req, NULL) == NULL ||
	    gh_body_json(req, disable_fields, &v) != 0)
		return;
	c = gh_auth_user(req);
	pw = gh_vstr(&v, X_PASSWORD);
	if (password_right(req, c->sub, pw) != 0 || gh_db_begin(req) != 0 ||
	    (on = auth_totp_check(req, c->sub, gh_vstr(&v, X_CODE), NULL,
	    &ok)) < 0)
		return;
	if (on == 0) {
		gh_problem(req, 409, "the second factor is not on");
		return;
	}
	if (!ok) {
		gh_problem(req, 403, "code: is wrong");
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
