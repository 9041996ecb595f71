/*
 * Idempotency-Key (lib/gh_idem.c), what needs no database: which keys
 * are keys, the header as a request reads it, and the hash of what a
 * request asks (member order and spacing aside, scoped per endpoint, and
 * a create's hash the same as before there were scopes).
 */
#include <stdio.h>

#include "unit.h"

static const struct gh_app app = { "unit", NULL, NULL };

START_TEST(keys_that_are_keys)
{
	char	 k[256], all[95];
	int	 i;

	ck_assert_ptr_null(gh_idem_valid_key("a"));
	ck_assert_ptr_null(gh_idem_valid_key("order-1042"));
	for (i = 0; i < 94; i++)
		all[i] = (char)('!' + i);
	all[94] = '\0';
	ck_assert_ptr_null(gh_idem_valid_key(all));
	memset(k, '~', 255);
	k[255] = '\0';
	ck_assert_ptr_null(gh_idem_valid_key(k));
}
END_TEST

START_TEST(keys_that_are_not)
{
	static const char *const bad[] = {
		"", " ", " a", "a ", "a b", "a\tb", "a\x01", "\x7f",
		"a\x7f", "\xc3\xa9", "cl\xc3\xa9", "a\r\nX: y", "\xff", NULL
	};
	const char *const *b;
	char	 k[257];

	for (b = bad; *b != NULL; b++)
		ck_assert_msg(gh_idem_valid_key(*b) != NULL, "'%s' taken", *b);
	memset(k, 'k', 256);
	k[256] = '\0';
	ck_assert_ptr_nonnull(gh_idem_valid_key(k));
}
END_TEST

/* gh_idem_key on a request with an Idempotency-Key of v (NULL: none). */
static int
key_of(struct unit_req *u, const char *v, int required, const char **key)
{
	char	 buf[512];

	unit_begin(u, &app, "POST", "/x", NULL, NULL);
	if (v != NULL) {
		snprintf(buf, sizeof(buf), "HTTP_IDEMPOTENCY_KEY=%s", v);
		u->env[u->nenv++] = strdup(buf);
	}
	return gh_idem_key(&u->req, required, key);
}

START_TEST(the_header)
{
	struct unit_req	 u;
	const char	*key;

	ck_assert_int_eq(key_of(&u, "order-1", 1, &key), 0);
	ck_assert_str_eq(key, "order-1");
	ck_assert_ptr_null(u.req.test_out);
	unit_end(&u);
	/* Optional and absent: no key, nothing answered. */
	ck_assert_int_eq(key_of(&u, NULL, 0, &key), 0);
	ck_assert_ptr_null(key);
	ck_assert_ptr_null(u.req.test_out);
	unit_end(&u);
}
END_TEST

START_TEST(the_header_missing_or_bad)
{
	static const char *const bad[] = { "", "a b", "\xc3\xa9", NULL };
	const char *const *b;
	struct unit_req	 u;
	const char	*key;

	ck_assert_int_eq(key_of(&u, NULL, 1, &key), -1);
	ck_assert_ptr_null(key);
	ck_assert(unit_has_header(&u, "Status: 400"));
	ck_assert_ptr_nonnull(strstr(unit_body(&u), "is required"));
	unit_end(&u);
	for (b = bad; *b != NULL; b++) {
		/* Required or not, a bad one is refused. */
		ck_assert_int_eq(key_of(&u, *b, 0, &key), -1);
		ck_assert_ptr_null(key);
		ck_assert(unit_has_header(&u, "Status: 400"));
		ck_assert_ptr_nonnull(strstr(unit_body(&u), "Idempotency-Key"));
		unit_end(&u);
	}
}
END_TEST

static char *
hash_of(struct gh_arena *a, const char *scope, const char *text)
{
	json_t	*j = json_loads(text, 0, NULL);
	char	*h;

	ck_assert_ptr_nonnull(j);
	h = gh_idem_hash(a, scope, j);
	json_decref(j);
	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(strlen(h), 64);
	ck_assert_uint_eq(strspn(h, "0123456789abcdef"), 64);
	return h;
}

START_TEST(the_same_request_the_same_hash)
{
	struct gh_arena	 a;
	const char	*body = "{\"amount\":1,\"currency\":\"EUR\"}";

	gh_arena_init(&a);
	ck_assert_str_eq(hash_of(&a, NULL, body),
	    hash_of(&a, NULL, " { \"currency\" : \"EUR\",\n\"amount\": 1 } "));
	ck_assert_str_eq(hash_of(&a, "refund pay_x",
	    "{\"m\":{\"b\":2,\"a\":1}}"),
	    hash_of(&a, "refund pay_x", "{\"m\":{\"a\":1,\"b\":2}}"));
	/* No scope: the hash payment keys were stored with before scopes. */
	ck_assert_str_eq(hash_of(&a, NULL, body),
	    gh_sha256_hex(&a, body, strlen(body)));
	gh_arena_free(&a);
}
END_TEST

START_TEST(another_request_another_hash)
{
	struct gh_arena	 a;
	const char	*body = "{\"amount\":1}";

	gh_arena_init(&a);
	ck_assert_str_ne(hash_of(&a, NULL, body),
	    hash_of(&a, NULL, "{\"amount\":2}"));
	ck_assert_str_ne(hash_of(&a, NULL, body),
	    hash_of(&a, NULL, "{\"amount\":1,\"reason\":null}"));
	ck_assert_str_ne(hash_of(&a, NULL, body),
	    hash_of(&a, NULL, "{\"amount\":\"1\"}"));
	/* The same body on two endpoints, or two payments: two requests. */
	ck_assert_str_ne(hash_of(&a, NULL, body),
	    hash_of(&a, "refund pay_x", body));
	ck_assert_str_ne(hash_of(&a, "refund pay_x", body),
	    hash_of(&a, "refund pay_y", body));
	ck_assert_str_ne(hash_of(&a, "upload", body),
	    hash_of(&a, "refund pay_x", body));
	gh_arena_free(&a);
}
END_TEST

static Suite *
idem_suite(void)
{
	Suite	*s = suite_create("idem");
	TCase	*ok = tcase_create("ok"), *bad = tcase_create("bad");

	tcase_set_timeout(ok, 10);
	tcase_set_timeout(bad, 10);
	tcase_add_test(ok, keys_that_are_keys);
	tcase_add_test(ok, the_header);
	tcase_add_test(ok, the_same_request_the_same_hash);
	tcase_add_test(bad, keys_that_are_not);
	tcase_add_test(bad, the_header_missing_or_bad);
	tcase_add_test(bad, another_request_another_hash);
	suite_add_tcase(s, ok);
	suite_add_tcase(s, bad);
	return s;
}

int
main(void)
{
	return unit_run(idem_suite());
}
