/* OAuth's pure rules: redirect URIs, PKCE, scopes, client credentials. */
#include "unit.h"
#include "oauth_rules.h"

START_TEST(redirect_uris_that_may_be_registered)
{
	static const char *const good[] = {
		"https://app.example.com/callback",
		"https://app.example.com:8443/cb?x=1",
		"http://127.0.0.1/cb", "http://127.0.0.1:8080/cb",
		"http://[::1]/cb", "com.example.app:/oauth2redirect",
	};
	static const char *const bad[] = {
		"", "callback", "/cb", "http://app.example.com/cb",
		"http://localhost/cb", "http://127.0.0.1.evil.com/cb",
		"https://app.example.com/cb#frag", "https:///cb",
		"https://user:pw@app.example.com/cb", "https://a@b/cb",
		"https://app.example.com/c b", "https://app.example.com/\x01",
		"javascript:alert(1)", "Com.Example.App:/cb",
		"com.example.app://cb", "https://app.example.com/\xc3\xa9",
		"data:text/html,x", "file:///etc/passwd",
	};
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(oauth_redirect_uri_invalid(good[i]) == NULL,
		    "%s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(oauth_redirect_uri_invalid(bad[i]) != NULL,
		    "%s", bad[i]);
}
END_TEST

START_TEST(redirects_match_exactly)
{
	static const char reg[] = "https://app.example.com/cb";
	static const char *const bad[] = {
		"https://app.example.com/cb/", "https://app.example.com/cb?x=1",
		"https://app.example.com/cb#x", "https://app.example.com/CB",
		"https://APP.example.com/cb", "http://app.example.com/cb",
		"https://app.example.com:443/cb", "https://app.example.com:8443/cb",
		"https://app.example.com/cb/../cb", "https://app.example.com/%63b",
		"https://app.example.com@evil.com/cb",
		"https://evil.com/?https://app.example.com/cb",
		"https://app.example.com.evil.com/cb", "https://app.example.com/c",
		"", "https://app.example.com/cb ",
	};
	size_t	 i;

	ck_assert(oauth_redirect_matches(reg, reg));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!oauth_redirect_matches(reg, bad[i]), "%s",
		    bad[i]);
}
END_TEST

START_TEST(loopback_takes_any_port_only)
{
	ck_assert(oauth_redirect_matches("http://127.0.0.1/cb",
	    "http://127.0.0.1:51004/cb"));
	ck_assert(oauth_redirect_matches("http://127.0.0.1:8080/cb",
	    "http://127.0.0.1:9/cb"));
	ck_assert(oauth_redirect_matches("http://[::1]/cb",
	    "http://[::1]:65535/cb"));
	ck_assert(!oauth_redirect_matches("http://127.0.0.1/cb",
	    "http://127.0.0.1:0/cb"));
	ck_assert(!oauth_redirect_matches("http://127.0.0.1/cb",
	    "http://127.0.0.1:65536/cb"));
	ck_assert(!oauth_redirect_matches("http://127.0.0.1/cb",
	    "http://127.0.0.1:/cb"));
	ck_assert(!oauth_redirect_matches("http://127.0.0.1/cb",
	    "http://127.0.0.1:80x/cb"));
	ck_assert(!oauth_redirect_matches("http://127.0.0.1/cb",
	    "http://127.0.0.1:8080/cb2"));
	ck_assert(!oauth_redirect_matches("http://127.0.0.1/cb",
	    "http://[::1]:8080/cb"));
	ck_assert(!oauth_redirect_matches("http://127.0.0.1/cb",
	    "http://127.0.0.1.evil.com:8080/cb"));
	ck_assert(!oauth_redirect_matches("http://127.0.0.1/cb",
	    "https://127.0.0.1:8080/cb"));
	ck_assert(!oauth_redirect_matches("https://127.0.0.1/cb",
	    "https://127.0.0.1:8443/cb"));
	ck_assert(!oauth_redirect_matches("http://127.0.0.1/cb",
	    "http://127.0.0.1:8080@evil.com/cb"));
	ck_assert(!oauth_redirect_matches("http://127.0.0.1/cb",
	    "http://127.0.0.1:000080/cb"));
}
END_TEST

/* RFC 7636 Appendix B. */
START_TEST(pkce_s256)
{
	static const char v[] = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	static const char c[] = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

	ck_assert(oauth_challenge_valid(c));
	ck_assert(oauth_pkce_verify(v, c));
	ck_assert(!oauth_pkce_verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj", c));
	ck_assert(!oauth_pkce_verify(c, c));
	ck_assert(!oauth_pkce_verify(v, v));		/* plain */
	ck_assert(!oauth_pkce_verify("short", c));
	ck_assert(!oauth_pkce_verify("", c));
	ck_assert(!oauth_pkce_verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX!", c));
	ck_assert(!oauth_pkce_verify(v, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"));
	ck_assert(!oauth_pkce_verify(v, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM="));
	ck_assert(!oauth_challenge_valid(""));
	ck_assert(!oauth_challenge_valid("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"));
}
END_TEST

START_TEST(scopes)
{
	struct gh_arena	 a;
	unsigned	 m;

	gh_arena_init(&a);
	ck_assert_int_eq(oauth_scope_parse("openid email", &m), 0);
	ck_assert_uint_eq(m, OAUTH_SCOPE_OPENID | OAUTH_SCOPE_EMAIL);
	ck_assert_str_eq(oauth_scope_text(&a, m), "openid email");
	ck_assert_int_eq(oauth_scope_parse("offline_access profile openid openid",
	    &m), 0);
	ck_assert_str_eq(oauth_scope_text(&a, m),
	    "openid profile offline_access");
	ck_assert_int_eq(oauth_scope_parse("", &m), 0);
	ck_assert_uint_eq(m, 0);
	ck_assert_int_ne(oauth_scope_parse("openid admin", &m), 0);
	ck_assert_int_ne(oauth_scope_parse("openid  email", &m), 0);
	ck_assert_int_ne(oauth_scope_parse(" openid", &m), 0);
	ck_assert_int_ne(oauth_scope_parse("openid ", &m), 0);
	ck_assert_int_ne(oauth_scope_parse("OPENID", &m), 0);
	ck_assert_int_ne(oauth_scope_parse("openid\temail", &m), 0);
	ck_assert_int_ne(oauth_scope_parse("openidx", &m), 0);
	ck_assert_ptr_nonnull(oauth_scope_words(OAUTH_SCOPE_EMAIL));
	ck_assert_ptr_null(oauth_scope_words(1u << 20));
	gh_arena_free(&a);
}
END_TEST

START_TEST(basic_credentials)
{
	struct gh_arena	 a;
	char		*id, *secret;

	gh_arena_init(&a);
	/* "my-client:s3cr%3At" : a colon in the secret is form-encoded. */
	ck_assert_int_eq(oauth_basic_credentials(&a,
	    "Basic bXktY2xpZW50OnMzY3IlM0F0", &id, &secret), 0);
	ck_assert_str_eq(id, "my-client");
	ck_assert_str_eq(secret, "s3cr:t");
	ck_assert_int_ne(oauth_basic_credentials(&a, "Bearer abc", &id,
	    &secret), 0);
	ck_assert_ptr_null(id);
	ck_assert_int_ne(oauth_basic_credentials(&a, "Basic ", &id, &secret), 0);
	/* "nocolon" */
	ck_assert_int_ne(oauth_basic_credentials(&a, "Basic bm9jb2xvbg==", &id,
	    &secret), 0);
	/* ":secret" (empty id) */
	ck_assert_int_ne(oauth_basic_credentials(&a, "Basic OnNlY3JldA==", &id,
	    &secret), 0);
	/* "id:" (empty secret) */
	ck_assert_int_ne(oauth_basic_credentials(&a, "Basic aWQ6", &id,
	    &secret), 0);
	/* "id:a%00b" */
	ck_assert_int_ne(oauth_basic_credentials(&a, "Basic aWQ6YSUwMGI=", &id,
	    &secret), 0);
	/* "id:a\nb" */
	ck_assert_int_ne(oauth_basic_credentials(&a, "Basic aWQ6YQpi", &id,
	    &secret), 0);
	ck_assert_int_ne(oauth_basic_credentials(&a, "Basic !!!!", &id,
	    &secret), 0);
	ck_assert_int_ne(oauth_basic_credentials(&a, "Basic aWQ6c2Vj_3JldA", &id,
	    &secret), 0);
	gh_arena_free(&a);
}
END_TEST

START_TEST(escaping)
{
	struct gh_arena	 a;

	gh_arena_init(&a);
	ck_assert_str_eq(oauth_html(&a, "<a href=\"x\">'&'</a>"),
	    "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
	ck_assert_str_eq(oauth_html(&a, "plain"), "plain");
	ck_assert_str_eq(oauth_query_escape(&a, "a b&c=d/é~"),
	    "a%20b%26c%3Dd%2F%C3%A9~");
	/* at_hash: the left 16 bytes of the SHA-256, in base64url. */
	ck_assert_int_eq(strlen(oauth_at_hash(&a, "token")), 22);
	gh_arena_free(&a);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("oauth");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, redirect_uris_that_may_be_registered);
	tcase_add_test(tc, redirects_match_exactly);
	tcase_add_test(tc, loopback_takes_any_port_only);
	tcase_add_test(tc, pkce_s256);
	tcase_add_test(tc, scopes);
	tcase_add_test(tc, basic_credentials);
	tcase_add_test(tc, escaping);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
