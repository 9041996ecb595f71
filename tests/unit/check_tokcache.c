/*
 * The cache of verified access tokens: every answer the same as a full
 * verification's (gh_token_verify), asked twice so that the second may
 * come from the cache; nothing served past exp; a full cache evicts;
 * a token that shares a prefix with a kept one is its own token; and,
 * through gh_auth_verify, the revocation list and DPoP binding still
 * apply to a token verified before.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "unit.h"
#include "gh_tokcache.h"

#define ISS	"https://auth.example.test"
#define AUD	"gatehouse-api"
#define NOW	1700000000LL
#define LEEWAY	60
#define KID	"20250101T000000Z-aaaaaaaa"
#define SID	"0b5e4c59-8f05-4c1f-9a8e-8a5d3b0b3e11"
#define SUB	"2b5e4c59-8f05-4c1f-9a8e-8a5d3b0b3e13"
#define JKT	"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"

static struct gh_arena	 arena;
static struct gh_keyset	*ks;
static struct gh_tokcache tc;
static char		 dir[32];

static void
setup(void)
{
	EVP_PKEY	*k;
	BIO		*bio;
	char		 err[256], *path;

	gh_arena_init(&arena);
	snprintf(dir, sizeof(dir), "/tmp/gh-tokcache-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = gh_printf(&arena, "%s/%s.pem", dir, KID);
	ck_assert_ptr_nonnull(k = EVP_EC_gen("P-256"));
	ck_assert_ptr_nonnull(bio = BIO_new_file(path, "w"));
	ck_assert_int_eq(PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL,
	    NULL), 1);
	BIO_free(bio);
	EVP_PKEY_free(k);
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_msg(gh_keyset_load(dir, &ks, err, sizeof(err)) == 0, "%s",
	    err);
	gh_tokcache_init(&tc, 8);
}

static void
teardown(void)
{
	struct dirent	*de;
	DIR		*d;

	gh_tokcache_clear(&tc);
	gh_keyset_free(ks);
	ks = NULL;
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				unlink(gh_printf(&arena, "%s/%s", dir,
				    de->d_name));
		closedir(d);
	}
	rmdir(dir);
	gh_arena_free(&arena);
}

/* A token signed with the set's key, of the claims given as JSON. */
static const char *
signed_token(const char *payload)
{
	json_t	*c;
	char	*jwt;

	ck_assert_ptr_nonnull(c = json_loads(payload, 0, NULL));
	ck_assert_int_eq(gh_jws_sign(ks, "at+jwt", c, &arena, &jwt), 0);
	json_decref(c);
	return jwt;
}

/* Good claims from iat to exp, with room to add one (",\"nbf\":..."). */
static const char *
token(long long iat, long long exp, const char *extra)
{
	return signed_token(gh_printf(&arena, "{\"iss\":\"" ISS "\","
	    "\"aud\":\"" AUD "\",\"sub\":\"" SUB "\",\"role\":\"user\","
	    "\"sid\":\"" SID "\",\"iat\":%lld,\"exp\":%lld,"
	    "\"jti\":\"j-%lld-%lld\"%s}", iat, exp, iat, exp, extra));
}

static char *
b64(const char *s)
{
	return gh_b64url_encode(&arena, s, strlen(s));
}

/*
 * The cache and a full verification agree: the same return, reason and
 * claims, byte for byte, at now, with aud as the audience.
 */
static int
same_as_full_aud(const char *jwt, long long now, const char *aud)
{
	struct gh_claims full, cached;
	const char	*why_full = "unset", *why_cached = "unset";
	int		 rc_full, rc_cached;

	rc_full = gh_token_verify(ks, jwt, ISS, aud, (time_t)now, LEEWAY,
	    &full, &why_full);
	rc_cached = gh_tokcache_verify(&tc, ks, jwt, ISS, aud, (time_t)now,
	    LEEWAY, &cached, &why_cached);
	ck_assert_int_eq(rc_cached, rc_full);
	if (why_full == NULL)
		ck_assert_ptr_null(why_cached);
	else {
		ck_assert_ptr_nonnull(why_cached);
		ck_assert_str_eq(why_cached, why_full);
	}
	ck_assert(memcmp(&full, &cached, sizeof(full)) == 0);
	return rc_full;
}

static int
same_as_full(const char *jwt, long long now)
{
	return same_as_full_aud(jwt, now, AUD);
}

START_TEST(second_use_is_a_hit_with_the_same_claims)
{
	const char	*jwt = token(NOW, NOW + 900, "");

	ck_assert_int_eq(same_as_full(jwt, NOW), 0);
	ck_assert_uint_eq(tc.hits, 0);
	ck_assert_uint_eq(tc.misses, 1);
	ck_assert_int_eq(same_as_full(jwt, NOW + 1), 0);
	ck_assert_int_eq(same_as_full(jwt, NOW + 2), 0);
	ck_assert_uint_eq(tc.hits, 2);
	ck_assert_uint_eq(tc.misses, 1);
}
END_TEST

/* Every refusal is a full verification's, the first time and the next. */
START_TEST(refusals_are_never_kept)
{
	const char	*good = token(NOW, NOW + 900, ""), *bad[12];
	const char	*h = "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"" KID "\"}";
	const char	*dot, *sig;
	unsigned char	 mac[32];
	size_t		 i, n = 0;
	char		*input, *body;

	dot = strchr(good, '.');
	body = gh_strndup(&arena, dot + 1, (size_t)(strrchr(good, '.') -
	    dot - 1));
	sig = strrchr(good, '.') + 1;
	/* The good token's own payload under other headers. */
	bad[n++] = gh_printf(&arena, "%s.%s.", b64("{\"alg\":\"none\","
	    "\"typ\":\"at+jwt\"}"), body);
	bad[n++] = gh_printf(&arena, "%s.%s.%s", b64("{\"alg\":\"none\","
	    "\"kid\":\"" KID "\"}"), body, sig);
	input = gh_printf(&arena, "%s.%s", b64("{\"alg\":\"HS256\","
	    "\"typ\":\"at+jwt\",\"kid\":\"" KID "\"}"), body);
	ck_assert_int_eq(gh_hmac_sha256("k", 1, input, strlen(input), mac), 0);
	bad[n++] = gh_printf(&arena, "%s.%s", input,
	    gh_b64url_encode(&arena, mac, sizeof(mac)));
	bad[n++] = gh_printf(&arena, "%s.%s.%s", b64(h), b64("{\"iss\":\""
	    ISS "\",\"aud\":\"" AUD "\",\"sub\":\"" SUB "\",\"role\":\"admin\","
	    "\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j\"}"), sig);
	/* Claims refused though the signature is good. */
	bad[n++] = token(NOW - 7200, NOW - 3600, "");
	bad[n++] = token(NOW, NOW + 900, ",\"nbf\":1700003600");
	bad[n++] = token(NOW + 3600, NOW + 7200, "");
	bad[n++] = signed_token("{\"iss\":\"https://evil.test\",\"aud\":\""
	    AUD "\",\"sub\":\"u\",\"role\":\"user\",\"exp\":1700000900,"
	    "\"jti\":\"j\"}");
	bad[n++] = signed_token("{\"iss\":\"" ISS "\",\"aud\":\"other\","
	    "\"sub\":\"u\",\"role\":\"user\",\"exp\":1700000900,"
	    "\"jti\":\"j\"}");
	bad[n++] = signed_token("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
	    "\"sub\":\"u\",\"role\":\"user\",\"exp\":1700000900,"
	    "\"jti\":\"j\",\"cnf\":{\"x5t#S256\":\"abc\"}}");
	bad[n++] = "not.a.token";
	bad[n++] = "";
	ck_assert_int_eq(same_as_full(good, NOW), 0);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(same_as_full(bad[i], NOW), -1);
		ck_assert_int_eq(same_as_full(bad[i], NOW), -1);
	}
	ck_assert_int_eq(same_as_full(good, NOW), 0);
	ck_assert_uint_eq(tc.hits, 1);
}
END_TEST

/*
 * A token differs from a kept one by its last character, or is a kept
 * one cut short or made longer: each is verified as itself.
 */
START_TEST(same_prefix_is_another_token)
{
	const char	*jwt = token(NOW, NOW + 900, "");
	size_t		 len = strlen(jwt);
	char		*other;

	ck_assert_int_eq(same_as_full(jwt, NOW), 0);
	other = gh_strdup(&arena, jwt);
	other[len - 1] = other[len - 1] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(same_as_full(other, NOW), -1);
	ck_assert_int_eq(same_as_full(gh_strndup(&arena, jwt, len - 1), NOW),
	    -1);
	ck_assert_int_eq(same_as_full(gh_strndup(&arena, jwt, len - 4), NOW),
	    -1);
	ck_assert_int_eq(same_as_full(gh_printf(&arena, "%sA", jwt), NOW), -1);
	ck_assert_int_eq(same_as_full(gh_printf(&arena, "%s.", jwt), NOW), -1);
	ck_assert_int_eq(same_as_full(gh_printf(&arena, "%s ", jwt), NOW), -1);
	ck_assert_uint_eq(tc.hits, 0);
	ck_assert_int_eq(same_as_full(jwt, NOW), 0);
	ck_assert_uint_eq(tc.hits, 1);
}
END_TEST

/*
 * Up to exp the cache answers; from exp on a full verification does
 * (which accepts within the leeway and then refuses), and the entry goes.
 */
START_TEST(expiry)
{
	const char	*jwt = token(NOW, NOW + 100, "");

	ck_assert_int_eq(same_as_full(jwt, NOW), 0);
	ck_assert_int_eq(same_as_full(jwt, NOW + 99), 0);
	ck_assert_uint_eq(tc.hits, 1);
	ck_assert_int_eq(same_as_full(jwt, NOW + 100), 0);
	ck_assert_int_eq(same_as_full(jwt, NOW + 100 + LEEWAY - 1), 0);
	ck_assert_uint_eq(tc.hits, 1);
	ck_assert_uint_eq(tc.misses, 3);
	ck_assert_int_eq(same_as_full(jwt, NOW + 100 + LEEWAY), -1);
	ck_assert_int_eq(same_as_full(jwt, NOW + 100 + LEEWAY), -1);
	/* Back in time (a clock set back): verified afresh, and kept. */
	ck_assert_int_eq(same_as_full(jwt, NOW + 10), 0);
	ck_assert_int_eq(same_as_full(jwt, NOW + 11), 0);
	ck_assert_uint_eq(tc.hits, 2);
}
END_TEST

/* A clock set back before iat or nbf: refused as a full verification would. */
START_TEST(nbf_and_iat_against_a_clock_set_back)
{
	const char	*a = token(NOW, NOW + 900, "");
	const char	*b = token(NOW - 10, NOW + 900, ",\"nbf\":1700000000");

	ck_assert_int_eq(same_as_full(a, NOW), 0);
	ck_assert_int_eq(same_as_full(b, NOW), 0);
	ck_assert_int_eq(same_as_full(a, NOW - LEEWAY), 0);
	ck_assert_int_eq(same_as_full(b, NOW - LEEWAY), 0);
	ck_assert_uint_eq(tc.hits, 2);
	ck_assert_int_eq(same_as_full(a, NOW - LEEWAY - 1), -1);
	ck_assert_int_eq(same_as_full(b, NOW - LEEWAY - 1), -1);
	ck_assert_uint_eq(tc.hits, 2);
}
END_TEST

/* A full cache gives the least recently used slot, an expired one first. */
START_TEST(eviction)
{
	const char	*t[9];
	unsigned long	 hits;
	int		 i;

	for (i = 0; i < 9; i++)
		t[i] = token(NOW, NOW + 900 + i, "");
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(same_as_full(t[i], NOW), 0);
	ck_assert_uint_eq(tc.misses, 8);
	ck_assert_int_eq(same_as_full(t[0], NOW), 0);	/* t[1] is the oldest */
	ck_assert_uint_eq(tc.hits, 1);
	ck_assert_int_eq(same_as_full(t[8], NOW), 0);	/* evicts t[1] */
	ck_assert_uint_eq(tc.misses, 9);
	hits = tc.hits;
	for (i = 0; i < 9; i++)
		if (i != 1)
			ck_assert_int_eq(same_as_full(t[i], NOW), 0);
	ck_assert_uint_eq(tc.hits, hits + 8);
	ck_assert_int_eq(same_as_full(t[1], NOW), 0);
	ck_assert_uint_eq(tc.misses, 10);

	/* An expired entry goes before any live one, even the oldest. */
	gh_tokcache_clear(&tc);
	tc.hits = tc.misses = 0;
	for (i = 1; i < 8; i++)
		ck_assert_int_eq(same_as_full(t[i], NOW), 0);
	ck_assert_int_eq(same_as_full(token(NOW, NOW + 50, ""), NOW), 0);
	ck_assert_int_eq(same_as_full(t[8], NOW + 60), 0);	/* not t[1] */
	hits = tc.hits;
	for (i = 1; i < 9; i++)
		ck_assert_int_eq(same_as_full(t[i], NOW + 60), 0);
	ck_assert_uint_eq(tc.hits, hits + 8);
}
END_TEST

/* Kept for one keyset, issuer and audience only. */
START_TEST(another_audience_or_keyset_is_not_served)
{
	const char	*jwt = token(NOW, NOW + 900, "");
	struct gh_keyset *other;
	struct gh_claims c;
	const char	*why;
	char		 err[256], *d2, *src, *dst;

	ck_assert_int_eq(same_as_full(jwt, NOW), 0);
	ck_assert_int_eq(same_as_full_aud(jwt, NOW, "someone-else"), -1);
	ck_assert_int_eq(same_as_full(jwt, NOW), 0);
	ck_assert_uint_eq(tc.hits, 0);
	ck_assert_int_eq(same_as_full(jwt, NOW), 0);
	ck_assert_uint_eq(tc.hits, 1);
	ck_assert_int_eq(gh_tokcache_verify(&tc, ks, jwt, "https://evil.test",
	    AUD, (time_t)NOW, LEEWAY, &c, &why), -1);
	ck_assert_str_eq(why, "wrong token issuer");

	/* The same kid in another set, with another key: not ours. */
	d2 = gh_strdup(&arena, "/tmp/gh-tokcache2-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(d2));
	src = gh_printf(&arena, "%s/%s.pem", d2, KID);
	{
		EVP_PKEY	*k = EVP_EC_gen("P-256");
		BIO		*bio = BIO_new_file(src, "w");

		ck_assert_ptr_nonnull(k);
		ck_assert_ptr_nonnull(bio);
		ck_assert_int_eq(PEM_write_bio_PrivateKey(bio, k, NULL, NULL,
		    0, NULL, NULL), 1);
		BIO_free(bio);
		EVP_PKEY_free(k);
	}
	ck_assert_int_eq(chmod(src, 0600), 0);
	ck_assert_msg(gh_keyset_load(d2, &other, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_int_eq(same_as_full(jwt, NOW), 0);
	ck_assert_int_eq(gh_tokcache_verify(&tc, other, jwt, ISS, AUD,
	    (time_t)NOW, LEEWAY, &c, &why), -1);
	ck_assert_str_eq(why, "bad token signature");
	gh_keyset_free(other);
	dst = gh_printf(&arena, "%s", src);
	unlink(dst);
	rmdir(d2);
}
END_TEST

START_TEST(size_zero_keeps_nothing)
{
	const char	*jwt = token(NOW, NOW + 900, "");

	gh_tokcache_init(&tc, 0);
	ck_assert_int_eq(same_as_full(jwt, NOW), 0);
	ck_assert_int_eq(same_as_full(jwt, NOW), 0);
	ck_assert_uint_eq(tc.hits, 0);
	gh_tokcache_init(&tc, GH_TOKCACHE_MAX + 1);
	ck_assert_uint_eq(tc.size, GH_TOKCACHE_MAX);
}
END_TEST

START_TEST(forget_drops_one_token)
{
	const char	*a = token(NOW, NOW + 900, ""), *b = token(NOW, NOW + 901, "");

	ck_assert_int_eq(same_as_full(a, NOW), 0);
	ck_assert_int_eq(same_as_full(b, NOW), 0);
	gh_tokcache_forget(&tc, a);
	gh_tokcache_forget(&tc, "never.seen.token");
	ck_assert_int_eq(same_as_full(a, NOW), 0);
	ck_assert_int_eq(same_as_full(b, NOW), 0);
	ck_assert_uint_eq(tc.hits, 1);
	ck_assert_uint_eq(tc.misses, 3);
}
END_TEST

/* Claims bound to a DPoP key come back bound: the caller asks for a proof. */
START_TEST(bound_token_keeps_its_binding)
{
	const char	*jwt = token(NOW, NOW + 900,
	    ",\"cnf\":{\"jkt\":\"" JKT "\"}");
	struct gh_claims c;
	const char	*why;

	ck_assert_int_eq(same_as_full(jwt, NOW), 0);
	ck_assert_int_eq(gh_tokcache_verify(&tc, ks, jwt, ISS, AUD,
	    (time_t)NOW, LEEWAY, &c, &why), 0);
	ck_assert_uint_eq(tc.hits, 1);
	ck_assert_str_eq(c.jkt, JKT);
	ck_assert_str_eq(c.sid, SID);
	ck_assert_str_eq(c.role, "user");
}
END_TEST

/*
 * Through gh_auth_verify, with the clock of the day: a cached token is
 * refused once its session is on the revocation list, and a bound one is
 * refused as a Bearer token and without a proof every time.
 */
static int
auth_verify(const char *scheme, const char *jwt, const char **detail)
{
	static const struct gh_route no_routes[] = { { NULL, NULL, NULL } };
	static const struct gh_app app = { "test", no_routes, NULL };
	struct unit_req	 u;
	json_t		*j;
	int		 rc;

	unit_begin(&u, &app, "GET", "/api/v1/payments/x", NULL, NULL);
	u.env[u.nenv++] = strdup(gh_printf(&arena,
	    "HTTP_AUTHORIZATION=%s %s", scheme, jwt));
	rc = gh_auth_verify(&u.req);
	*detail = "";
	if (rc != 0) {
		ck_assert_int_eq(u.req.status, 401);
		ck_assert_ptr_nonnull(j = unit_json(&u));
		*detail = gh_strdup(&arena,
		    json_string_value(json_object_get(j, "detail")));
		json_decref(j);
	}
	unit_end(&u);
	return rc;
}

START_TEST(revocation_and_binding_still_apply)
{
	const char	*revoked, *sessions[1] = { SID }, *detail;
	const char	*jwt, *bound;
	long long	 now = (long long)time(NULL);

	revoked = gh_printf(&arena, "%s/revoked", dir);
	ck_assert_int_eq(gh_revoked_write(revoked, NULL, 0, NULL, NULL, 0,
	    (time_t)now), 0);
	setenv("GH_JWT_PUBLIC_KEYS_DIR", dir, 1);
	setenv("GH_JWT_ISSUER", ISS, 1);
	setenv("GH_JWT_AUDIENCE", AUD, 1);
	setenv("GH_REVOKED_FILE", revoked, 1);
	ck_assert_int_eq(gh_auth_setup(0), 0);
	jwt = token(now, now + 900, "");
	bound = token(now, now + 901, ",\"cnf\":{\"jkt\":\"" JKT "\"}");

	ck_assert_int_eq(auth_verify("Bearer", jwt, &detail), 0);
	ck_assert_int_eq(auth_verify("Bearer", jwt, &detail), 0);
	ck_assert_int_eq(auth_verify("Bearer", bound, &detail), -1);
	ck_assert_msg(strstr(detail, "bound to a DPoP key") != NULL, "%s",
	    detail);
	ck_assert_int_eq(auth_verify("Bearer", bound, &detail), -1);
	ck_assert_msg(strstr(detail, "bound to a DPoP key") != NULL, "%s",
	    detail);
	ck_assert_int_eq(auth_verify("DPoP", bound, &detail), -1);
	ck_assert_str_eq(detail, "a DPoP proof is required (DPoP header)");
	ck_assert_int_eq(auth_verify("DPoP", bound, &detail), -1);
	ck_assert_str_eq(detail, "a DPoP proof is required (DPoP header)");
	ck_assert_int_eq(auth_verify("DPoP", jwt, &detail), -1);
	ck_assert_msg(strstr(detail, "not bound") != NULL, "%s", detail);

	/* The session ends: the token verified twice before is refused. */
	ck_assert_int_eq(gh_revoked_write(revoked, sessions, 1, NULL, NULL, 0,
	    (time_t)now), 0);
	ck_assert_int_eq(auth_verify("Bearer", jwt, &detail), -1);
	ck_assert_str_eq(detail, "the session has ended");
	ck_assert_int_eq(auth_verify("Bearer", jwt, &detail), -1);
	ck_assert_str_eq(detail, "the session has ended");

	gh_auth_free();
	unsetenv("GH_JWT_PUBLIC_KEYS_DIR");
	unsetenv("GH_JWT_ISSUER");
	unsetenv("GH_JWT_AUDIENCE");
	unsetenv("GH_REVOKED_FILE");
}
END_TEST

/*
 * An idle worker's cache costs no memory: init and clear touch no page
 * of the slots past those given out (mincore: none resident), and one
 * token touches only the first slot's.
 */
static struct gh_tokcache idle;

static size_t
resident_slot_pages(const struct gh_tokcache *c, size_t from, size_t to)
{
	unsigned char	 vec[128];
	uintptr_t	 pg = (uintptr_t)sysconf(_SC_PAGESIZE), a, b;
	size_t		 i, n = 0;

	a = ((uintptr_t)&c->slot[from] + pg - 1) & ~(pg - 1);
	b = (uintptr_t)&c->slot[to] & ~(pg - 1);
	ck_assert_uint_gt(b, a);
	ck_assert_uint_le((b - a) / pg, sizeof(vec));
	ck_assert_int_eq(mincore((void *)a, b - a, vec), 0);
	for (i = 0; i < (b - a) / pg; i++)
		n += vec[i] & 1;
	return n;
}

START_TEST(an_idle_cache_touches_no_page)
{
	struct gh_claims c;

	gh_tokcache_init(&idle, GH_TOKCACHE_DEFAULT);
	ck_assert_uint_eq(resident_slot_pages(&idle, 1, GH_TOKCACHE_DEFAULT),
	    0);
	gh_tokcache_clear(&idle);
	ck_assert_uint_eq(resident_slot_pages(&idle, 1, GH_TOKCACHE_DEFAULT),
	    0);
	ck_assert_int_eq(gh_tokcache_verify(&idle, ks, token(NOW, NOW + 900,
	    ""), ISS, AUD, NOW, LEEWAY, &c, NULL), 0);
	ck_assert_int_eq(gh_tokcache_verify(&idle, ks, token(NOW, NOW + 901,
	    ""), ISS, AUD, NOW, LEEWAY, &c, NULL), 0);
	ck_assert_uint_eq(idle.misses, 2);
	ck_assert_uint_eq(resident_slot_pages(&idle, 3, GH_TOKCACHE_DEFAULT),
	    0);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("tokcache");
	TCase	*tc_core = tcase_create("core");

	tcase_set_timeout(tc_core, 30);
	tcase_add_checked_fixture(tc_core, setup, teardown);
	tcase_add_test(tc_core, second_use_is_a_hit_with_the_same_claims);
	tcase_add_test(tc_core, refusals_are_never_kept);
	tcase_add_test(tc_core, same_prefix_is_another_token);
	tcase_add_test(tc_core, expiry);
	tcase_add_test(tc_core, nbf_and_iat_against_a_clock_set_back);
	tcase_add_test(tc_core, eviction);
	tcase_add_test(tc_core, another_audience_or_keyset_is_not_served);
	tcase_add_test(tc_core, size_zero_keeps_nothing);
	tcase_add_test(tc_core, forget_drops_one_token);
	tcase_add_test(tc_core, bound_token_keeps_its_binding);
	tcase_add_test(tc_core, revocation_and_binding_still_apply);
	tcase_add_test(tc_core, an_idle_cache_touches_no_page);
	suite_add_tcase(s, tc_core);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
