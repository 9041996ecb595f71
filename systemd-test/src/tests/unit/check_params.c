/*
 * Declared query and form parameters, every bad field in one answer,
 * page cursors, typed rows, and the small validators lib shares.
 */
#include <libpq-fe.h>

#include "unit.h"

enum { Q_LIMIT, Q_CURSOR, Q_STATUS, Q_SINCE, Q_USER, Q_FLAG, Q_NAME, Q__MAX };
static const struct gh_field qfields[] = {
	GH_PAGE_FIELDS,
	{ "status", GH_STRING | GH_OPTIONAL,
	    .choices = (const char *const[]){ "pending", "done", NULL } },
	{ "since", GH_STRING | GH_OPTIONAL, .valid = gh_valid_time },
	{ "user_id", GH_STRING | GH_OPTIONAL, .valid = gh_valid_uuid },
	{ "flag", GH_BOOL | GH_OPTIONAL },
	{ "name", GH_STRING | GH_OPTIONAL, .maxlen = 5 },
	{ NULL }
};

static const struct gh_route no_routes[] = { { NULL, NULL, NULL } };
static const struct gh_app app = { "test", no_routes, NULL };

/* Parses and validates a query string in-process; returns the bad count. */
static int
params(const char *query, const struct gh_field *fields, json_t **errors,
    struct gh_values *v, json_t **obj)
{
	*obj = json_object();
	*errors = json_array();
	ck_assert_int_eq(gh_params_parse(query, strlen(query), *obj), 0);
	return gh_params_validate(*obj, fields, v, *errors, GH_IN_QUERY);
}

static const char *
entry(json_t *errors, size_t i, const char *member)
{
	return json_string_value(json_object_get(json_array_get(errors, i),
	    member));
}

START_TEST(good_parameters)
{
	struct gh_values v;
	json_t	*errors, *obj;

	ck_assert_int_eq(params("limit=7&status=done&flag=true&name=a+b"
	    "&since=2024-05-01T12:00:00Z&unknown=x&user_id="
	    "0b5e4c59-8f05-4c1f-9a8e-8a5d3b0b3e11", qfields, &errors, &v,
	    &obj), 0);
	ck_assert_int_eq(gh_vint(&v, Q_LIMIT, 0), 7);
	ck_assert_str_eq(gh_vstr(&v, Q_STATUS), "done");
	ck_assert(gh_vbool(&v, Q_FLAG, 0));
	ck_assert_str_eq(gh_vstr(&v, Q_NAME), "a b");
	ck_assert(!gh_vhas(&v, Q_CURSOR));
	json_decref(errors);
	json_decref(obj);
}
END_TEST

START_TEST(absent_parameters_are_absent)
{
	struct gh_values v;
	json_t	*errors, *obj;

	ck_assert_int_eq(params("", qfields, &errors, &v, &obj), 0);
	ck_assert_int_eq(gh_vint(&v, Q_LIMIT, 20), 20);
	ck_assert_ptr_null(gh_vstr(&v, Q_STATUS));
	json_decref(errors);
	json_decref(obj);
}
END_TEST

/* Each of these is one bad parameter, named, with "in": "query". */
START_TEST(malformed_parameters)
{
	static const char *const bad[][2] = {
		{ "limit=0", "limit" },
		{ "limit=101", "limit" },
		{ "limit=abc", "limit" },
		{ "limit=", "limit" },
		{ "limit=+5", "limit" },
		{ "limit=%205", "limit" },
		{ "limit=5.0", "limit" },
		{ "limit=0x10", "limit" },
		{ "limit=99999999999999999999", "limit" },
		{ "limit=5&limit=6", "limit" },
		{ "status=paid", "status" },
		{ "status=", "status" },
		{ "status=PENDING", "status" },
		{ "since=yesterday", "since" },
		{ "since=2024-13-01T00:00:00Z", "since" },
		{ "user_id=123", "user_id" },
		{ "flag=yes", "flag" },
		{ "flag=1", "flag" },
		{ "name=abcdef", "name" },
		{ "name=a%00b", "name" },
		{ "name=a%zz", "name" },
		{ "name=a%", "name" },
		{ "name=%ff", "name" },
	};
	struct gh_values v;
	json_t	*errors, *obj;
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(params(bad[i][0], qfields, &errors, &v,
		    &obj) == 1, "%s", bad[i][0]);
		ck_assert_str_eq(entry(errors, 0, "field"), bad[i][1]);
		ck_assert_str_eq(entry(errors, 0, "in"), "query");
		ck_assert_ptr_null(entry(errors, 0, "pointer"));
		json_decref(errors);
		json_decref(obj);
	}
}
END_TEST

START_TEST(every_bad_parameter_is_named)
{
	struct gh_values v;
	json_t	*errors, *obj;

	ck_assert_int_eq(params("limit=0&status=paid&user_id=123", qfields,
	    &errors, &v, &obj), 3);
	ck_assert_str_eq(entry(errors, 0, "field"), "limit");
	ck_assert_str_eq(entry(errors, 1, "field"), "status");
	ck_assert_str_eq(entry(errors, 2, "field"), "user_id");
	ck_assert_str_eq(entry(errors, 1, "detail"),
	    "must be one of pending, done");
	json_decref(errors);
	json_decref(obj);
}
END_TEST

START_TEST(required_parameter_missing)
{
	static const struct gh_field req[] = {
		{ "code", GH_STRING },
		{ NULL }
	};
	struct gh_values v;
	json_t	*errors, *obj;

	ck_assert_int_eq(params("other=1", req, &errors, &v, &obj), 1);
	ck_assert_str_eq(entry(errors, 0, "detail"), "is required");
	json_decref(errors);
	json_decref(obj);
	ck_assert_int_eq(params("code=%", req, &errors, &v, &obj), 1);
	ck_assert_str_ne(entry(errors, 0, "detail"), "is required");
	json_decref(errors);
	json_decref(obj);
}
END_TEST

static int
query(struct unit_req *u, const char *uri)
{
	struct gh_values v;

	unit_begin(u, &app, "GET", uri, NULL, NULL);
	if (gh_query_params(&u->req, qfields, &v) == 0)
		gh_reply(&u->req, 200, NULL, NULL, 0);
	return u->req.status;
}

START_TEST(bad_query_is_400_problem)
{
	struct unit_req u;
	json_t	*p;

	ck_assert_int_eq(query(&u, "/x?limit=7&status=done"), 200);
	unit_end(&u);
	ck_assert_int_eq(query(&u, "/x?limit=0&flag=maybe"), 400);
	ck_assert(unit_has_header(&u, "application/problem+json"));
	p = unit_json(&u);
	ck_assert_int_eq(json_array_size(json_object_get(p, "errors")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(p, "detail")),
	    "limit: must be at least 1; flag: must be true or false");
	json_decref(p);
	unit_end(&u);
}
END_TEST

static const struct gh_field ffields[] = {
	{ "grant_type", GH_STRING,
	    .choices = (const char *const[]){ "authorization_code", NULL } },
	{ "code", GH_STRING, .maxlen = 64 },
	{ NULL }
};

static int
form(struct unit_req *u, const char *body, const char *ctype)
{
	struct gh_values v;

	unit_begin(u, &app, "POST", "/token", body, ctype);
	if (gh_body_form(&u->req, ffields, &v) == 0)
		gh_reply(&u->req, 200, NULL, NULL, 0);
	return u->req.status;
}

START_TEST(form_bodies)
{
	static const char ct[] = "application/x-www-form-urlencoded";
	struct unit_req u;
	json_t	*p;

	ck_assert_int_eq(form(&u, "grant_type=authorization_code&code=a%2Fb",
	    ct), 200);
	unit_end(&u);
	ck_assert_int_eq(form(&u, "grant_type=authorization_code&code=x",
	    "application/x-www-form-urlencoded; charset=UTF-8"), 200);
	unit_end(&u);
	ck_assert_int_eq(form(&u, "code=x", "application/json"), 415);
	unit_end(&u);
	ck_assert_int_eq(form(&u, "code=x", NULL), 415);
	unit_end(&u);
	ck_assert_int_eq(form(&u, "code=x", "application/x-www-form-"
	    "urlencodedX"), 415);
	unit_end(&u);
	ck_assert_int_eq(form(&u, "grant_type=password&code=x&code=y", ct),
	    422);
	p = unit_json(&u);
	ck_assert_int_eq(json_array_size(json_object_get(p, "errors")), 2);
	json_decref(p);
	unit_end(&u);
}
END_TEST

START_TEST(handler_errors_collected)
{
	struct unit_req u;
	json_t	*p, *e;
	int	 i;

	unit_begin(&u, &app, "POST", "/x", NULL, NULL);
	ck_assert_int_eq(gh_errors_reply(&u.req, 422), 0);
	ck_assert_int_eq(u.req.status, 0);
	gh_field_error(&u.req, "email", "is taken");
	gh_field_error(&u.req, "password", "is too common");
	ck_assert_int_eq(gh_errors_reply(&u.req, 422), -1);
	ck_assert_int_eq(u.req.status, 422);
	p = unit_json(&u);
	e = json_object_get(p, "errors");
	ck_assert_int_eq(json_array_size(e), 2);
	ck_assert_str_eq(json_string_value(json_object_get(p, "detail")),
	    "email: is taken; password: is too common");
	json_decref(p);
	unit_end(&u);

	/* Past the cap the failures still count, in the detail. */
	unit_begin(&u, &app, "POST", "/x", NULL, NULL);
	for (i = 0; i < GH_ERRORS_MAX + 5; i++)
		gh_field_error(&u.req, "f", "bad %d", i);
	gh_errors_reply(&u.req, 422);
	p = unit_json(&u);
	ck_assert_int_eq(json_array_size(json_object_get(p, "errors")),
	    GH_ERRORS_MAX);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(p,
	    "detail")), "and 5 more"));
	json_decref(p);
	unit_end(&u);
}
END_TEST

START_TEST(cursors_round_trip)
{
	struct gh_arena	 a;
	const char	*in[2] = { "2026-12-01T10:00:00.123456Z",
	    "0b5e4c59-8f05-4c1f-9a8e-8a5d3b0b3e11" };
	const char	*out[GH_PAGE_KEYS_MAX];
	char		*c;

	gh_arena_init(&a);
	ck_assert_ptr_nonnull(c = gh_cursor_encode(&a, in, 2));
	ck_assert_int_eq(strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl"
	    "mnopqrstuvwxyz0123456789-_"), strlen(c));
	ck_assert_int_eq(gh_cursor_decode(&a, c, "tu", out), 0);
	ck_assert_str_eq(out[0], in[0]);
	ck_assert_str_eq(out[1], in[1]);
	in[0] = "42";
	ck_assert_ptr_nonnull(c = gh_cursor_encode(&a, in, 1));
	ck_assert_int_eq(gh_cursor_decode(&a, c, "i", out), 0);
	ck_assert_str_eq(out[0], "42");
	gh_arena_free(&a);
}
END_TEST

START_TEST(bad_cursors_refused)
{
	struct gh_arena	 a;
	const char	*out[GH_PAGE_KEYS_MAX];
	const char	*k2[2] = { "2026-12-01T10:00:00Z", "not-a-uuid" };
	const char	*k3[3] = { "2026-12-01T10:00:00Z",
	    "0b5e4c59-8f05-4c1f-9a8e-8a5d3b0b3e11", "x" };
	const char	*kt[2] = { "yesterday",
	    "0b5e4c59-8f05-4c1f-9a8e-8a5d3b0b3e11" };
	const char	*ki[1] = { "1e3" };

	gh_arena_init(&a);
	ck_assert_int_ne(gh_cursor_decode(&a, "", "tu", out), 0);
	ck_assert_int_ne(gh_cursor_decode(&a, "!!!", "tu", out), 0);
	ck_assert_int_ne(gh_cursor_decode(&a, "YQ==", "s", out), 0);
	ck_assert_int_ne(gh_cursor_decode(&a, "AA", "s", out), 0);  /* NUL */
	ck_assert_int_ne(gh_cursor_decode(&a,
	    gh_cursor_encode(&a, k2, 2), "tu", out), 0);
	ck_assert_int_ne(gh_cursor_decode(&a,
	    gh_cursor_encode(&a, k3, 3), "tu", out), 0);
	ck_assert_int_ne(gh_cursor_decode(&a,
	    gh_cursor_encode(&a, k3, 2), "tut", out), 0);
	ck_assert_int_ne(gh_cursor_decode(&a,
	    gh_cursor_encode(&a, kt, 2), "tu", out), 0);
	ck_assert_int_ne(gh_cursor_decode(&a,
	    gh_cursor_encode(&a, ki, 1), "i", out), 0);
	ck_assert_int_ne(gh_cursor_decode(&a, "Cg", "s", out), 0); /* "\n" */
	ck_assert_int_ne(gh_cursor_decode(&a, "YQ", "", out), 0);
	ck_assert_int_ne(gh_cursor_decode(&a, "YQ", "q", out), 0);
	gh_arena_free(&a);
}
END_TEST

START_TEST(bad_cursor_parameter_is_400)
{
	struct unit_req	 u;
	struct gh_values v;
	struct gh_page	 pg;

	unit_begin(&u, &app, "GET", "/x?limit=5&cursor=bm9wZQ", NULL, NULL);
	ck_assert_int_eq(gh_query_params(&u.req, qfields, &v), 0);
	ck_assert_int_eq(gh_page_init(&u.req, &v, Q_LIMIT, 20, "tu", &pg),
	    -1);
	ck_assert_int_eq(u.req.status, 400);
	unit_end(&u);

	unit_begin(&u, &app, "GET", "/x?limit=5", NULL, NULL);
	ck_assert_int_eq(gh_query_params(&u.req, qfields, &v), 0);
	ck_assert_int_eq(gh_page_init(&u.req, &v, Q_LIMIT, 20, "tu", &pg), 0);
	ck_assert_int_eq(pg.limit, 5);
	ck_assert_str_eq(pg.fetch, "6");
	ck_assert_ptr_null(pg.key[0]);
	unit_end(&u);
}
END_TEST

/* A result made in memory, as libpq would hand it over. */
static PGresult *
result(int nrows, const char *const *cells, int ncols)
{
	PGresAttDesc	 att[4];
	PGresult	*res;
	int		 i, j;

	memset(att, 0, sizeof(att));
	for (j = 0; j < ncols; j++)
		att[j].name = (char *)(const char *[]){ "a", "b", "c",
		    "d" }[j];
	res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	ck_assert(PQsetResultAttrs(res, ncols, att));
	for (i = 0; i < nrows; i++)
		for (j = 0; j < ncols; j++)
			ck_assert(PQsetvalue(res, i, j,
			    (char *)cells[i * ncols + j],
			    cells[i * ncols + j] == NULL ? -1 :
			    (int)strlen(cells[i * ncols + j])));
	return res;
}

START_TEST(typed_rows)
{
	static const char *const cells[] = {
		"42", "t", "2026-12-01T10:00:00Z", NULL,
		"x", "maybe", "yesterday", "{\"k\":1}",
	};
	struct unit_req	 u;
	struct gh_row	 r;
	PGresult	*res = result(2, cells, 4);
	json_t		*j;

	unit_begin(&u, &app, "GET", "/x", NULL, NULL);
	r = GH_ROW(res, 0);
	ck_assert_int_eq(gh_row_int(&r, 0), 42);
	ck_assert(gh_row_bool(&r, 1));
	ck_assert_str_eq(gh_row_time(&r, 2), "2026-12-01T10:00:00Z");
	ck_assert(gh_row_null(&r, 3));
	ck_assert_ptr_null(gh_row_str_or_null(&r, 3));
	j = gh_row_json_int(&r, 3);
	ck_assert(json_is_null(j));
	json_decref(j);
	ck_assert_int_eq(gh_row_failed(&u.req, &r), 0);

	/* Each of these fails, and the first failure is the one kept. */
	ck_assert_str_eq(gh_row_str(&r, 3), "");
	ck_assert_int_eq(r.bad, 3);
	r = GH_ROW(res, 1);
	ck_assert_int_eq(gh_row_int(&r, 0), 0);
	ck_assert_int_eq(gh_row_bool(&r, 1), 0);
	(void)gh_row_time(&r, 2);
	ck_assert_int_eq(r.bad, 0);
	j = gh_row_json(&r, 3);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "k")), 1);
	json_decref(j);
	ck_assert_int_eq(gh_row_failed(&u.req, &r), -1);
	ck_assert_int_eq(u.req.status, 500);
	unit_end(&u);
	PQclear(res);
}
END_TEST

START_TEST(page_json_shape)
{
	static const char *const cells[] = {
		"2026-12-01T10:00:03.000001Z", "0b5e4c59-8f05-4c1f-9a8e-8a5d3b0b3e13",
		"2026-12-01T10:00:02.000001Z", "0b5e4c59-8f05-4c1f-9a8e-8a5d3b0b3e12",
		"2026-12-01T10:00:01.000001Z", "0b5e4c59-8f05-4c1f-9a8e-8a5d3b0b3e11",
	};
	static const int keycols[] = { 0, 1 };
	struct gh_arena	 a;
	struct gh_page	 pg;
	PGresult	*res = result(3, cells, 2);
	const char	*key[GH_PAGE_KEYS_MAX];
	json_t		*j;

	gh_arena_init(&a);
	memset(&pg, 0, sizeof(pg));
	pg.kinds = "tu";
	pg.limit = 2;
	ck_assert_int_eq(gh_page_count(&pg, res), 2);
	j = gh_page_json(&a, &pg, json_array(), res, keycols);
	ck_assert(json_is_true(json_object_get(j, "has_more")));
	ck_assert_int_eq(gh_cursor_decode(&a, json_string_value(
	    json_object_get(j, "next_cursor")), "tu", key), 0);
	ck_assert_str_eq(key[1], "0b5e4c59-8f05-4c1f-9a8e-8a5d3b0b3e12");
	json_decref(j);
	pg.limit = 3;
	j = gh_page_json(&a, &pg, json_array(), res, keycols);
	ck_assert(json_is_false(json_object_get(j, "has_more")));
	ck_assert(json_is_null(json_object_get(j, "next_cursor")) ||
	    json_object_get(j, "next_cursor") == NULL);
	json_decref(j);
	gh_arena_free(&a);
	PQclear(res);
}
END_TEST

START_TEST(times)
{
	static const char *const good[] = {
		"2024-05-01T12:00:00Z", "2024-05-01t12:00:00z",
		"2024-05-01T12:00:00.123456Z", "2024-05-01T12:00:00+02:00",
		"2024-02-29T12:00:00Z", "2000-02-29T00:00:00Z",
	};
	static const char *const bad[] = {
		"", "yesterday", "2024-05-01", "2024-05-01T12:00:00",
		"2024-13-01T12:00:00Z", "2024-05-32T12:00:00Z",
		"2024-05-01T24:00:00Z", "2024-05-01T12:60:00Z",
		"2024-05-01 12:00:00Z", "2024-05-01T12:00:00.Z",
		"2024-05-01T12:00:00.12345678901Z", "2024-05-01T12:00:00+2:00",
		"2024-05-01T12:00:00Z ", "0000-05-01T12:00:00Z",
		"2024-02-30T12:00:00Z", "2023-02-29T12:00:00Z",
		"2024-04-31T12:00:00Z", "1900-02-29T00:00:00Z",
	};
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(gh_valid_time(good[i]) == NULL, "%s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(gh_valid_time(bad[i]) != NULL, "%s", bad[i]);
}
END_TEST

/* Found by the fuzzers (tests/fuzz/regressions). */
START_TEST(fuzz_regressions)
{
	struct gh_values v;
	struct gh_arena	 a;
	const char	*key[GH_PAGE_KEYS_MAX];
	json_t		*errors, *obj, *root;
	char		 body[512];
	int		 i, n;

	/* A name that is not UTF-8 is ignored, not "out of memory". */
	ck_assert_int_eq(params("%FF=1&limit=5&%C3=x", qfields, &errors, &v,
	    &obj), 0);
	ck_assert_int_eq(gh_vint(&v, Q_LIMIT, 0), 5);
	json_decref(errors);
	json_decref(obj);
	/* The last part of a cursor. */
	gh_arena_init(&a);
	ck_assert_int_eq(gh_cursor_decode(&a, "YQ", "s", key), 0);
	ck_assert_str_eq(key[0], "a");
	gh_arena_free(&a);
	/* A long unknown name of two-byte characters is still named, and a
	 * pointer escapes ~ and / (RFC 6901). */
	n = snprintf(body, sizeof(body), "{\"");
	for (i = 0; i < 79; i++)
		n += snprintf(body + n, sizeof(body) - (size_t)n, "\xc3\xa9");
	snprintf(body + n, sizeof(body) - (size_t)n, "\":1, \"a/b~c\":2}");
	root = json_loads(body, 0, NULL);
	ck_assert_ptr_nonnull(root);
	errors = json_array();
	ck_assert_int_eq(gh_json_validate(root, qfields + Q_STATUS, &v,
	    errors), 2);
	ck_assert_int_eq(json_array_size(errors), 2);
	ck_assert_str_eq(entry(errors, 1, "pointer"), "#/a~1b~0c");
	ck_assert_int_eq(strlen(entry(errors, 0, "pointer")), 2 + 79 * 2);
	json_decref(errors);
	json_decref(root);
}
END_TEST

START_TEST(hex)
{
	unsigned char	 b[3];

	ck_assert_int_eq(gh_unhex("00fFa1", b, 3), 0);
	ck_assert(b[0] == 0 && b[1] == 0xff && b[2] == 0xa1);
	ck_assert_int_ne(gh_unhex("00ffa", b, 3), 0);
	ck_assert_int_ne(gh_unhex("00ffa1ff", b, 3), 0);
	ck_assert_int_ne(gh_unhex(" 0ffa1", b, 3), 0);
	ck_assert_int_ne(gh_unhex("+0ffa1", b, 3), 0);
	ck_assert_int_ne(gh_unhex("0xffa1", b, 3), 0);
	ck_assert_int_ne(gh_unhex("00ffg1", b, 3), 0);
	ck_assert_int_eq(gh_hexdigit('/'), -1);
	ck_assert_int_eq(gh_hexdigit('G'), -1);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("params");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, good_parameters);
	tcase_add_test(tc, absent_parameters_are_absent);
	tcase_add_test(tc, malformed_parameters);
	tcase_add_test(tc, every_bad_parameter_is_named);
	tcase_add_test(tc, required_parameter_missing);
	tcase_add_test(tc, bad_query_is_400_problem);
	tcase_add_test(tc, form_bodies);
	tcase_add_test(tc, handler_errors_collected);
	tcase_add_test(tc, cursors_round_trip);
	tcase_add_test(tc, bad_cursors_refused);
	tcase_add_test(tc, bad_cursor_parameter_is_400);
	tcase_add_test(tc, typed_rows);
	tcase_add_test(tc, page_json_shape);
	tcase_add_test(tc, times);
	tcase_add_test(tc, hex);
	tcase_add_test(tc, fuzz_regressions);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
