/*
 * gh_json_dump against json_dumps(JSON_COMPACT): the same text, byte
 * for byte, or the same refusal, for documents of every kind of value
 * and string, made at random from a fixed seed, and for the edges.
 */
#include <stdint.h>
#include <stdio.h>

#include "unit.h"

static uint64_t	 seed;

static unsigned
rnd(unsigned n)
{
	seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)(seed >> 33) % n;
}

/* Pieces of strings: plain, escaped, multibyte, and (bad) not UTF-8. */
static const char *const pieces[] = {
	"a", "Z", "0", " ", "/", "'", "~", "\x7f", "\"", "\\", "\b", "\f",
	"\n", "\r", "\t", "\x01", "\x1f", "\x1b",
	"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9d\x84\x9e", "\xef\xbf\xbf",
	"\xf4\x8f\xbf\xbf", "\xc2\x80", "\xe0\xa0\x80", "\xf0\x90\x80\x80",
	"pay_CYHyuFK7-Cpj12Z0c31Z0A", "2026-01-02T03:04:05Z",
};
static const char *const bad_pieces[] = {
	"\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xc3", "\xe2\x82",
	"\xed\xa0\x80", "\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
	"\xff", "\xe0\x80\x80", "\xf0\x80\x80\x80", "\xc3\x28",
};

static json_t *
random_string(int allow_bad, int *bad)
{
	char	 buf[256];
	size_t	 len = 0, n;
	unsigned i, count = rnd(12);
	const char *p;

	for (i = 0; i < count; i++) {
		if (allow_bad && rnd(40) == 0) {
			p = bad_pieces[rnd(sizeof(bad_pieces) / sizeof(bad_pieces[0]))];
			*bad = 1;
		} else
			p = pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];
		n = strlen(p);
		if (len + n >= sizeof(buf))
			break;
		memcpy(buf + len, p, n);
		len += n;
	}
	/* Now and then a NUL inside, which a length-counted string may hold. */
	if (rnd(30) == 0 && len + 2 < sizeof(buf)) {
		buf[len++] = '\0';
		buf[len++] = 'x';
	}
	return json_stringn_nocheck(buf, len);
}

static json_t *
random_value(int depth, int allow_bad, int *bad)
{
	static const json_int_t ints[] = { 0, 1, -1, 42, -42, 9007199254740991LL,
	    -9007199254740991LL, 9223372036854775807LL,
	    -9223372036854775807LL - 1, 1000000, 1700000000 };
	static const double reals[] = { 0.0, 1.5, -2.25, 0.1, 1e300, -1e-300,
	    3.141592653589793, 100.0 };
	json_t	*v, *k;
	unsigned i, n, kind = rnd(depth > 4 ? 6 : 8);

	switch (kind) {
	case 0:
		return json_integer(ints[rnd(sizeof(ints) / sizeof(ints[0]))]);
	case 1:
		return json_integer((json_int_t)rnd(1000000) - 500000);
	case 2:
		return random_string(allow_bad, bad);
	case 3:
		return rnd(2) ? json_true() : json_false();
	case 4:
		return rnd(4) ? json_null() :
		    json_real(reals[rnd(sizeof(reals) / sizeof(reals[0]))]);
	case 5:
		return random_string(allow_bad, bad);
	case 6:
		v = json_array();
		n = rnd(5);
		for (i = 0; i < n; i++)
			json_array_append_new(v, random_value(depth + 1,
			    allow_bad, bad));
		return v;
	default:
		v = json_object();
		n = rnd(6);
		for (i = 0; i < n; i++) {
			/* Keys are UTF-8: see edges() for one that is not. */
			k = random_string(0, bad);
			json_object_setn_new_nocheck(v, json_string_value(k),
			    json_string_length(k), random_value(depth + 1,
			    allow_bad, bad));
			json_decref(k);
		}
		return v;
	}
}

/* Both give the same text, or both refuse. */
static void
same(const json_t *v, const char *what)
{
	char	*want, *got;
	size_t	 len = 12345;

	want = json_dumps(v, JSON_COMPACT);
	got = gh_json_dump(v, &len);
	if (want == NULL) {
		ck_assert_msg(got == NULL, "%s: jansson refused, we wrote %s",
		    what, got);
		return;
	}
	ck_assert_msg(got != NULL, "%s: we refused what jansson wrote: %s",
	    what, want);
	ck_assert_msg(strcmp(got, want) == 0, "%s:\n jansson %s\n ours    %s",
	    what, want, got);
	ck_assert_uint_eq(len, strlen(want));
	free(want);
	free(got);
}

START_TEST(random_documents)
{
	json_t	*v;
	char	 what[64];
	int	 i, bad, nbad = 0;

	seed = 14;
	for (i = 0; i < 5000; i++) {
		bad = 0;
		v = random_value(0, i % 2, &bad);
		if (!json_is_object(v) && !json_is_array(v)) {
			json_t *o = json_object();

			json_object_set_new_nocheck(o, "v", v);
			v = o;
		}
		nbad += bad;
		snprintf(what, sizeof(what), "document %d", i);
		same(v, what);
		json_decref(v);
	}
	/* Enough of them were not UTF-8 for the refusals to be tried. */
	ck_assert_int_gt(nbad, 100);
}
END_TEST

START_TEST(edges)
{
	json_t	*v, *deep, *o;
	int	 i;

	v = json_object();
	same(v, "{}");
	json_decref(v);
	v = json_array();
	same(v, "[]");
	json_decref(v);
	v = json_pack("{s:s, s:s?, s:o, s:I, s:b, s:n, s:[], s:{}}", "a", "b",
	    "absent", NULL, "nested", json_pack("{s:[i,i,{s:s}]}", "x", 1, 2,
	    "y", "z"), "big", (json_int_t)-9223372036854775807LL - 1, "t", 1,
	    "nil", "list", "obj");
	same(v, "a packed answer");
	json_decref(v);
	/* Not a container: both refuse (no JSON_ENCODE_ANY). */
	for (i = 0; i < 4; i++) {
		v = i == 0 ? json_string("x") : i == 1 ? json_integer(1) :
		    i == 2 ? json_null() : json_real(1.0);
		ck_assert_ptr_null(gh_json_dump(v, NULL));
		same(v, "a scalar");
		json_decref(v);
	}
	ck_assert_ptr_null(gh_json_dump(NULL, NULL));
	/* Deeper than we go: jansson's text all the same. */
	deep = json_array();
	for (i = 0, v = deep; i < 200; i++) {
		o = json_array();
		json_array_append_new(v, o);
		v = o;
	}
	same(deep, "200 deep");
	json_decref(deep);
	/*
	 * A key that is not UTF-8 (only json_*_nocheck makes one, and no
	 * code of ours calls them): jansson ignores the failure and writes
	 * text that is not JSON; we refuse it, as jansson does a value.
	 */
	v = json_object();
	json_object_set_new_nocheck(v, "a\xff", json_true());
	ck_assert_ptr_null(gh_json_dump(v, NULL));
	{
		char	*broken = json_dumps(v, JSON_COMPACT);
		json_t	*back;

		ck_assert_ptr_nonnull(broken);
		back = json_loads(broken, 0, NULL);
		ck_assert_ptr_null(back);
		free(broken);
	}
	json_decref(v);
}
END_TEST

/* gh_reply_json answers with it. */
START_TEST(reply_json_uses_it)
{
	static const struct gh_route no_routes[] = { { NULL, NULL, NULL } };
	static const struct gh_app app = { "test", no_routes, NULL };
	static const char want[] = "{\"caf\xc3\xa9\":\"a\\\"b\\n\","
	    "\"n\":-3}";
	struct unit_req u;
	char		 cl[64];

	unit_begin(&u, &app, "GET", "/x", NULL, NULL);
	gh_reply_json(&u.req, 200, json_pack("{s:s, s:i}", "caf\xc3\xa9",
	    "a\"b\n", "n", -3));
	ck_assert_str_eq(unit_body(&u), want);
	snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", sizeof(want) - 1);
	ck_assert(unit_has_header(&u, cl));
	unit_end(&u);
	unit_begin(&u, &app, "GET", "/x", NULL, NULL);
	gh_reply_json(&u.req, 200, json_pack("{s:o}", "bad",
	    json_string_nocheck("\xc3")));
	ck_assert_int_eq(u.req.status, 500);
	unit_end(&u);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("jsonout");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, random_documents);
	tcase_add_test(tc, edges);
	tcase_add_test(tc, reply_json_uses_it);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
