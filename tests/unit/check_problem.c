/* Answers: problem+json shape, headers, one answer per request. */
#include "unit.h"

static const struct gh_route no_routes[] = { { NULL, NULL, NULL } };
static const struct gh_app app = { "test", no_routes, NULL };

START_TEST(problem_has_rfc9457_members)
{
	struct unit_req u;
	json_t	*j;

	unit_begin(&u, &app, "GET", "/api/v1/x?y=1", NULL, NULL);
	gh_problem(&u.req, 409, "payment %s is %s", "pay_1", "succeeded");
	ck_assert(unit_has_header(&u, "Status: 409 Conflict\r\n"));
	ck_assert(unit_has_header(&u,
	    "Content-Type: application/problem+json\r\n"));
	j = unit_json(&u);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "type")),
	    "about:blank");
	ck_assert_str_eq(json_string_value(json_object_get(j, "title")),
	    "Conflict");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "status")), 409);
	ck_assert_str_eq(json_string_value(json_object_get(j, "detail")),
	    "payment pay_1 is succeeded");
	ck_assert_str_eq(json_string_value(json_object_get(j, "instance")),
	    "/api/v1/x");
	ck_assert_str_eq(json_string_value(json_object_get(j, "request_id")),
	    "0123456789abcdef");
	json_decref(j);
	unit_end(&u);
}
END_TEST

START_TEST(problem_extra_members)
{
	struct unit_req u;
	json_t	*j;

	unit_begin(&u, &app, "GET", "/x", NULL, NULL);
	gh_problem_json(&u.req, 503, "down", json_pack("{s:s}", "database",
	    "unreachable"));
	j = unit_json(&u);
	ck_assert_str_eq(json_string_value(json_object_get(j, "database")),
	    "unreachable");
	json_decref(j);
	unit_end(&u);
}
END_TEST

START_TEST(detail_is_escaped)
{
	struct unit_req u;
	json_t	*j;

	unit_begin(&u, &app, "GET", "/x", NULL, NULL);
	gh_problem(&u.req, 400, "bad \"%s\"\r\nX-Evil: 1", "v");
	ck_assert(!unit_has_header(&u, "\r\nX-Evil"));
	j = unit_json(&u);
	ck_assert_ptr_nonnull(j);
	json_decref(j);
	unit_end(&u);
}
END_TEST

START_TEST(header_injection_refused)
{
	struct unit_req u;

	unit_begin(&u, &app, "GET", "/x", NULL, NULL);
	ck_assert_int_eq(gh_header(&u.req, "X-A", "ok"), 0);
	ck_assert_int_eq(gh_header(&u.req, "X-B", "a\r\nSet-Cookie: x=1"), -1);
	gh_reply(&u.req, 200, "text/plain", "hi", 2);
	ck_assert(unit_has_header(&u, "X-A: ok\r\n"));
	ck_assert(!unit_has_header(&u, "Set-Cookie"));
	unit_end(&u);
}
END_TEST

START_TEST(only_one_answer)
{
	struct unit_req u;

	unit_begin(&u, &app, "GET", "/x", NULL, NULL);
	ck_assert_int_eq(gh_reply_json(&u.req, 200, json_pack("{s:i}", "a",
	    1)), 0);
	ck_assert_int_eq(gh_reply_json(&u.req, 201, json_pack("{s:i}", "b",
	    2)), -1);
	gh_problem(&u.req, 500, "late");
	ck_assert_int_eq(u.req.status, 200);
	ck_assert_str_eq(unit_body(&u), "{\"a\":1}");
	ck_assert(unit_has_header(&u, "Content-Length: 7\r\n"));
	unit_end(&u);
}
END_TEST

START_TEST(query_parameters)
{
	struct unit_req u;

	unit_begin(&u, &app, "GET", "/x?limit=10&q=a+b%21&empty&bad=%zz&"
	    "nul=%00&limit=99", NULL, NULL);
	ck_assert_str_eq(gh_query(&u.req, "limit"), "10");
	ck_assert_str_eq(gh_query(&u.req, "q"), "a b!");
	ck_assert_str_eq(gh_query(&u.req, "empty"), "");
	ck_assert_ptr_null(gh_query(&u.req, "bad"));
	ck_assert_ptr_null(gh_query(&u.req, "nul"));
	ck_assert_ptr_null(gh_query(&u.req, "lim"));
	ck_assert_ptr_null(gh_query(&u.req, "missing"));
	unit_end(&u);
}
END_TEST

START_TEST(body_presence)
{
	struct unit_req u;

	unit_begin(&u, &app, "POST", "/x", "{}", "application/json");
	ck_assert(gh_has_body(&u.req));
	unit_end(&u);
	unit_begin(&u, &app, "POST", "/x", "", "application/json");
	ck_assert(!gh_has_body(&u.req));	/* Content-Length: 0 */
	unit_end(&u);
	unit_begin(&u, &app, "POST", "/x", NULL, NULL);
	ck_assert(!gh_has_body(&u.req));
	unit_end(&u);
}
END_TEST

START_TEST(sqlstate_to_http)
{
	ck_assert_int_eq(gh_db_status("23505"), 409);
	ck_assert_int_eq(gh_db_status("40001"), 409);
	ck_assert_int_eq(gh_db_status("23503"), 422);
	ck_assert_int_eq(gh_db_status("23514"), 422);
	ck_assert_int_eq(gh_db_status("22P02"), 400);
	ck_assert_int_eq(gh_db_status("08006"), 503);
	ck_assert_int_eq(gh_db_status("57P01"), 503);
	ck_assert_int_eq(gh_db_status("53300"), 503);
	/* A write on a primary that has become read-only: a failover. */
	ck_assert_int_eq(gh_db_status("25006"), 503);
	ck_assert_int_eq(gh_db_status("42601"), 500);
	ck_assert_int_eq(gh_db_status("42501"), 500);
	ck_assert_int_eq(gh_db_status(NULL), 500);
	ck_assert_int_eq(gh_db_status("235"), 500);
}
END_TEST

START_TEST(status_texts)
{
	ck_assert_str_eq(gh_status_text(413), "Content Too Large");
	ck_assert_str_eq(gh_status_text(422), "Unprocessable Content");
	ck_assert_str_eq(gh_status_text(599), "Unknown");
}
END_TEST

/* The head of an answer, byte for byte, and the body right after it. */
START_TEST(answer_bytes)
{
	struct unit_req u;
	char		 big[300];

	unit_begin(&u, &app, "GET", "/x", NULL, NULL);
	ck_assert_int_eq(gh_header(&u.req, "X-One", "1"), 0);
	ck_assert_int_eq(gh_header(&u.req, "Location", "/api/v1/x/y"), 0);
	ck_assert_int_eq(gh_reply(&u.req, 201, "application/json", "{}", 2), 0);
	ck_assert_str_eq(u.req.test_out, "Status: 201 Created\r\n"
	    "Content-Type: application/json\r\nContent-Length: 2\r\n"
	    "Cache-Control: no-store\r\nX-One: 1\r\n"
	    "Location: /api/v1/x/y\r\n\r\n{}");
	ck_assert_uint_eq(u.req.body_out, 2);
	unit_end(&u);

	/* No body, no type; a Cache-Control of the handler's own. */
	unit_begin(&u, &app, "GET", "/x", NULL, NULL);
	ck_assert_int_eq(gh_header(&u.req, "cache-control", "max-age=60"), 0);
	ck_assert_int_eq(gh_reply(&u.req, 204, NULL, NULL, 0), 0);
	ck_assert_str_eq(u.req.test_out, "Status: 204 No Content\r\n"
	    "cache-control: max-age=60\r\n\r\n");
	unit_end(&u);

	/* A status without a name, a long type, every header slot used. */
	unit_begin(&u, &app, "GET", "/x", NULL, NULL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	while (gh_header(&u.req, "X-Big", big) == 0)
		;
	ck_assert_uint_eq(u.req.nheaders, GH_HEADERS_MAX);
	ck_assert_int_eq(gh_reply(&u.req, 299, big, "x", 1), 0);
	ck_assert(unit_has_header(&u, "Status: 299 Unknown\r\n"));
	ck_assert(strncmp(u.req.test_out + strlen("Status: 299 Unknown\r\n"
	    "Content-Type: "), big, strlen(big)) == 0);
	ck_assert(unit_has_header(&u, "Content-Length: 1\r\n"));
	ck_assert_str_eq(unit_body(&u), "x");
	ck_assert_uint_eq(u.req.test_out_len, strlen("Status: 299 Unknown\r\n"
	    "Content-Type: \r\nContent-Length: 1\r\n"
	    "Cache-Control: no-store\r\n\r\nx") + strlen(big) +
	    GH_HEADERS_MAX * (strlen("X-Big: \r\n") + strlen(big)));
	unit_end(&u);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("problem");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, problem_has_rfc9457_members);
	tcase_add_test(tc, problem_extra_members);
	tcase_add_test(tc, detail_is_escaped);
	tcase_add_test(tc, header_injection_refused);
	tcase_add_test(tc, only_one_answer);
	tcase_add_test(tc, query_parameters);
	tcase_add_test(tc, body_presence);
	tcase_add_test(tc, sqlstate_to_http);
	tcase_add_test(tc, status_texts);
	tcase_add_test(tc, answer_bytes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
