/* The route table: matches, {params}, 404 against 405 with Allow. */
#include "unit.h"

static const char *seen;

static void h_list(struct gh_req *r) { seen = "list"; gh_reply(r, 200, NULL, NULL, 0); }
static void h_create(struct gh_req *r) { seen = "create"; gh_reply(r, 201, NULL, NULL, 0); }
static void h_get(struct gh_req *r) { seen = gh_param(r, "ref"); gh_reply(r, 200, NULL, NULL, 0); }
static void h_del(struct gh_req *r) { seen = "del"; gh_reply(r, 204, NULL, NULL, 0); }
static void h_sub(struct gh_req *r) { seen = gh_param(r, "sub"); gh_reply(r, 200, NULL, NULL, 0); }
static void h_silent(struct gh_req *r) { (void)r; }

static const struct gh_route routes[] = {
	{ "GET",	"/api/v1/things",			h_list },
	{ "POST",	"/api/v1/things",			h_create },
	{ "GET",	"/api/v1/things/{ref}",			h_get },
	{ "DELETE",	"/api/v1/things/{ref}",			h_del },
	{ "GET",	"/api/v1/things/{ref}/parts/{sub}",	h_sub },
	{ "GET",	"/api/v1/silent",			h_silent },
	{ NULL, NULL, NULL }
};
static const struct gh_app app = { "test", routes, NULL };

static int
run(const char *method, const char *uri, struct unit_req *u)
{
	seen = NULL;
	unit_begin(u, &app, method, uri, NULL, NULL);
	gh_dispatch(&app, &u->req);
	return u->req.status;
}

START_TEST(exact_paths)
{
	struct unit_req u;

	ck_assert_int_eq(run("GET", "/api/v1/things", &u), 200);
	ck_assert_str_eq(seen, "list");
	unit_end(&u);
	ck_assert_int_eq(run("POST", "/api/v1/things", &u), 201);
	ck_assert_str_eq(seen, "create");
	unit_end(&u);
}
END_TEST

START_TEST(params_are_decoded)
{
	struct unit_req u;

	ck_assert_int_eq(run("GET", "/api/v1/things/pay_abc?x=1", &u), 200);
	ck_assert_str_eq(seen, "pay_abc");
	unit_end(&u);
	ck_assert_int_eq(run("GET", "/api/v1/things/a%20b", &u), 200);
	ck_assert_str_eq(seen, "a b");
	unit_end(&u);
	ck_assert_int_eq(run("GET", "/api/v1/things/x/parts/y", &u), 200);
	ck_assert_str_eq(seen, "y");
	ck_assert_str_eq(gh_param(&u.req, "ref"), "x");
	unit_end(&u);
}
END_TEST

START_TEST(unknown_path_is_404_problem)
{
	struct unit_req u;
	json_t	*j;

	ck_assert_int_eq(run("GET", "/api/v1/nothing", &u), 404);
	ck_assert_ptr_null(seen);
	ck_assert(unit_has_header(&u, "Content-Type: application/problem+json"));
	j = unit_json(&u);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "status")), 404);
	ck_assert_str_eq(json_string_value(json_object_get(j, "request_id")),
	    "0123456789abcdef");
	json_decref(j);
	unit_end(&u);
}
END_TEST

START_TEST(near_misses_are_404)
{
	static const char *const uris[] = {
		"/api/v1/things/", "/api/v1/things//parts/y",
		"/api/v1/thing", "/api/v1/things/x/parts", "/api/v1/things/x/y",
		"api/v1/things", "", "/api/v1/things/%00", "/api/v1/things/%zz",
		"/API/v1/things", "/api/v1/things/x/parts/y/z",
		"/api/v1/\xff\xfe"	/* not UTF-8: still a 404, not a 500 */
	};
	struct unit_req u;
	size_t	 i;

	for (i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		ck_assert_msg(run("GET", uris[i], &u) == 404, "%s", uris[i]);
		ck_assert_ptr_null(seen);
		unit_end(&u);
	}
}
END_TEST

START_TEST(wrong_method_is_405_with_allow)
{
	struct unit_req u;

	ck_assert_int_eq(run("PUT", "/api/v1/things", &u), 405);
	ck_assert_ptr_null(seen);
	ck_assert(unit_has_header(&u, "Allow: GET, HEAD, POST\r\n"));
	unit_end(&u);
	ck_assert_int_eq(run("POST", "/api/v1/things/x", &u), 405);
	ck_assert(unit_has_header(&u, "Allow: GET, HEAD, DELETE\r\n"));
	ck_assert(unit_has_header(&u, "application/problem+json"));
	unit_end(&u);
}
END_TEST

START_TEST(head_is_served_by_get)
{
	struct unit_req u;

	ck_assert_int_eq(run("HEAD", "/api/v1/things", &u), 200);
	ck_assert_str_eq(seen, "list");
	unit_end(&u);
}
END_TEST

START_TEST(silent_handler_gets_500)
{
	struct unit_req u;

	ck_assert_int_eq(run("GET", "/api/v1/silent", &u), 500);
	unit_end(&u);
}
END_TEST

START_TEST(ping_answers_without_database)
{
	static const struct gh_route r[] = {
		{ "GET", "/api/v1/test/ping", gh_handle_ping },
		{ NULL, NULL, NULL }
	};
	static const struct gh_app a = { "test", r, NULL };
	struct unit_req u;

	unit_begin(&u, &a, "GET", "/api/v1/test/ping", NULL, NULL);
	gh_dispatch(&a, &u.req);
	ck_assert_int_eq(u.req.status, 200);
	ck_assert(unit_has_header(&u, "Content-Type: application/json"));
	ck_assert(unit_has_header(&u, "Cache-Control: no-store"));
	unit_end(&u);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("router");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, exact_paths);
	tcase_add_test(tc, params_are_decoded);
	tcase_add_test(tc, unknown_path_is_404_problem);
	tcase_add_test(tc, near_misses_are_404);
	tcase_add_test(tc, wrong_method_is_405_with_allow);
	tcase_add_test(tc, head_is_served_by_get);
	tcase_add_test(tc, silent_handler_gets_500);
	tcase_add_test(tc, ping_answers_without_database);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
