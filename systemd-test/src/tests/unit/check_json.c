/* Declared JSON fields: every bad field named, nothing unknown let in. */
#include "unit.h"

static const char *
valid_currency(const char *s)
{
	return strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' ? NULL :
	    "must be an ISO 4217 code such as EUR";
}

enum { F_AMOUNT, F_CURRENCY, F_NOTE, F_META, F_FLAG, F__MAX };
static const struct gh_field fields[] = {
	{ "amount",	GH_INT, .min = 1, .max = 1000000 },
	{ "currency",	GH_STRING, .valid = valid_currency },
	{ "note",	GH_STRING | GH_OPTIONAL | GH_NULLABLE, .maxlen = 5 },
	{ "meta",	GH_OBJECT | GH_OPTIONAL, .maxlen = 32 },
	{ "flag",	GH_BOOL | GH_OPTIONAL },
	{ NULL, 0, 0, 0, 0, 0, NULL }
};

static int
validate(const char *text, json_t **errors, struct gh_values *v)
{
	json_t	*root;
	int	 bad;

	root = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(root);
	*errors = json_array();
	bad = gh_json_validate(root, fields, v, *errors);
	json_decref(root);	/* v borrows; tests read only counts below */
	return bad;
}

static const char *
error_field(json_t *errors, size_t i)
{
	return json_string_value(json_object_get(json_array_get(errors, i),
	    "field"));
}

START_TEST(good_body)
{
	struct gh_values v;
	json_t	*root, *errors = json_array();

	root = json_loads("{\"amount\":100,\"currency\":\"EUR\","
	    "\"note\":\"héllo\",\"flag\":true}", 0, NULL);
	ck_assert_int_eq(gh_json_validate(root, fields, &v, errors), 0);
	ck_assert_int_eq(gh_vint(&v, F_AMOUNT, 0), 100);
	ck_assert_str_eq(gh_vstr(&v, F_CURRENCY), "EUR");
	ck_assert_str_eq(gh_vstr(&v, F_NOTE), "héllo");	/* 5 code points */
	ck_assert(gh_vbool(&v, F_FLAG, 0));
	ck_assert(!gh_vhas(&v, F_META));
	json_decref(root);
	json_decref(errors);
}
END_TEST

START_TEST(every_bad_field_is_named)
{
	struct gh_values v;
	json_t	*errors;

	ck_assert_int_eq(validate("{\"amount\":0,\"currency\":\"eur\","
	    "\"note\":\"toolong\"}", &errors, &v), 3);
	ck_assert_str_eq(error_field(errors, 0), "amount");
	ck_assert_str_eq(error_field(errors, 1), "currency");
	ck_assert_str_eq(error_field(errors, 2), "note");
	json_decref(errors);
}
END_TEST

START_TEST(types_are_strict)
{
	static const char *const bodies[] = {
		"{\"amount\":1.5,\"currency\":\"EUR\"}",
		"{\"amount\":\"100\",\"currency\":\"EUR\"}",
		"{\"amount\":-5,\"currency\":\"EUR\"}",
		"{\"amount\":9007199254740993,\"currency\":\"EUR\"}",
		"{\"amount\":true,\"currency\":\"EUR\"}",
		"{\"amount\":null,\"currency\":\"EUR\"}",
		"{\"amount\":1,\"currency\":7}",
		"{\"amount\":1,\"currency\":\"\"}",
		"{\"amount\":1,\"currency\":\"EUR\",\"flag\":\"yes\"}",
		"{\"amount\":1,\"currency\":\"EUR\",\"meta\":[]}",
		"{\"amount\":1,\"currency\":\"EUR\","
		    "\"meta\":{\"k\":\"0123456789012345678901234567\"}}",
	};
	struct gh_values v;
	json_t	*errors;
	size_t	 i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		ck_assert_msg(validate(bodies[i], &errors, &v) == 1, "%s",
		    bodies[i]);
		json_decref(errors);
	}
}
END_TEST

START_TEST(missing_and_unknown_fields)
{
	struct gh_values v;
	json_t	*errors;

	ck_assert_int_eq(validate("{\"role\":\"admin\"}", &errors, &v), 3);
	ck_assert_str_eq(error_field(errors, 0), "amount");
	ck_assert_str_eq(error_field(errors, 1), "currency");
	ck_assert_str_eq(error_field(errors, 2), "role");
	json_decref(errors);
}
END_TEST

START_TEST(null_counts_as_absent_when_nullable)
{
	struct gh_values v;
	json_t	*errors;

	ck_assert_int_eq(validate("{\"amount\":5,\"currency\":\"USD\","
	    "\"note\":null}", &errors, &v), 0);
	json_decref(errors);
}
END_TEST

static const struct gh_route no_routes[] = { { NULL, NULL, NULL } };
static const struct gh_app app = { "test", no_routes, NULL };

static int
body(struct unit_req *u, const char *text, const char *ctype)
{
	struct gh_values v;

	unit_begin(u, &app, "POST", "/x", text, ctype);
	if (gh_body_json(&u->req, fields, &v) == 0)
		gh_reply(&u->req, 200, NULL, NULL, 0);
	return u->req.status;
}

START_TEST(body_errors_are_problems)
{
	struct unit_req u;
	json_t	*j;

	ck_assert_int_eq(body(&u, "{\"amount\":1,\"currency\":\"EUR\"}",
	    "application/json; charset=utf-8"), 200);
	unit_end(&u);
	ck_assert_int_eq(body(&u, "{\"amount\":1,", "application/json"), 400);
	ck_assert(unit_has_header(&u, "application/problem+json"));
	unit_end(&u);
	ck_assert_int_eq(body(&u, "[1,2]", "application/json"), 400);
	unit_end(&u);
	ck_assert_int_eq(body(&u, "{\"amount\":1,\"amount\":2,"
	    "\"currency\":\"EUR\"}", "application/json"), 400);
	unit_end(&u);
	ck_assert_int_eq(body(&u, "{\"amount\":1,\"currency\":\"EU\\u0000\"}",
	    "application/json"), 400);
	unit_end(&u);
	ck_assert_int_eq(body(&u, "amount=1", "application/x-www-form-"
	    "urlencoded"), 415);
	unit_end(&u);
	ck_assert_int_eq(body(&u, "{}", NULL), 415);
	unit_end(&u);
	ck_assert_int_eq(body(&u, "{\"amount\":0}", "application/json"), 422);
	j = unit_json(&u);
	ck_assert_int_eq(json_array_size(json_object_get(j, "errors")), 2);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j,
	    "detail")), "amount: must be at least 1"));
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j,
	    "detail")), "currency: is required"));
	json_decref(j);
	unit_end(&u);
}
END_TEST

START_TEST(oversized_body_is_413_before_reading)
{
	struct unit_req u;
	char	*big;

	big = malloc(70 * 1024);
	memset(big, ' ', 70 * 1024 - 1);
	big[0] = '{';
	big[70 * 1024 - 2] = '}';
	big[70 * 1024 - 1] = '\0';
	ck_assert_int_eq(body(&u, big, "application/json"), 413);
	ck_assert_uint_eq(u.req.test_body_off, 0);
	unit_end(&u);
	free(big);
}
END_TEST

START_TEST(short_body_is_400)
{
	struct unit_req u;
	struct gh_values v;

	unit_begin(&u, &app, "POST", "/x", "{}", "application/json");
	/* The body says 10 bytes and brings 2: the client went away. */
	free(u.env[3]);
	u.env[3] = strdup("CONTENT_LENGTH=10");
	ck_assert_int_eq(gh_body_json(&u.req, fields, &v), -1);
	ck_assert_int_eq(u.req.status, 400);
	unit_end(&u);
}
END_TEST

START_TEST(uuids)
{
	ck_assert(gh_is_uuid("6f1c1c5e-2d7b-4f7e-9a39-3f1b1d2c9e10"));
	ck_assert(gh_is_uuid("6F1C1C5E-2D7B-4F7E-9A39-3F1B1D2C9E10"));
	ck_assert(!gh_is_uuid(NULL));
	ck_assert(!gh_is_uuid(""));
	ck_assert(!gh_is_uuid("6f1c1c5e-2d7b-4f7e-9a39-3f1b1d2c9e1"));
	ck_assert(!gh_is_uuid("6f1c1c5e-2d7b-4f7e-9a39-3f1b1d2c9e100"));
	ck_assert(!gh_is_uuid("6f1c1c5e2d7b-4f7e-9a39-3f1b1d2c9e10-"));
	ck_assert(!gh_is_uuid("6f1c1c5e-2d7b-4f7e-9a39-3f1b1d2c9e1g"));
	ck_assert(!gh_is_uuid("' OR 1=1 --"));
}
END_TEST

START_TEST(one_field_problem)
{
	struct unit_req u;
	json_t	*j, *e;

	unit_begin(&u, &app, "POST", "/x", NULL, NULL);
	gh_problem_field(&u.req, 409, "email", "is %s", "already taken");
	ck_assert_int_eq(u.req.status, 409);
	j = unit_json(&u);
	ck_assert_str_eq(json_string_value(json_object_get(j, "detail")),
	    "email: is already taken");
	e = json_array_get(json_object_get(j, "errors"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(e, "field")), "email");
	ck_assert_str_eq(json_string_value(json_object_get(e, "pointer")),
	    "#/email");
	ck_assert_str_eq(json_string_value(json_object_get(e, "detail")),
	    "is already taken");
	json_decref(j);
	unit_end(&u);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("json");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, good_body);
	tcase_add_test(tc, every_bad_field_is_named);
	tcase_add_test(tc, types_are_strict);
	tcase_add_test(tc, missing_and_unknown_fields);
	tcase_add_test(tc, null_counts_as_absent_when_nullable);
	tcase_add_test(tc, body_errors_are_problems);
	tcase_add_test(tc, oversized_body_is_413_before_reading);
	tcase_add_test(tc, short_body_is_400);
	tcase_add_test(tc, uuids);
	tcase_add_test(tc, one_field_problem);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
