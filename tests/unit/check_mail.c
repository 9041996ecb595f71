/* The mailer's templates and message building, without a relay. */
#include <sys/stat.h>

#include <stdio.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "unit.h"
#include "mailer.h"

/* main.c's, for the modules under test. */
struct mail_settings mail_cfg;

static json_t *
vars(const char *json)
{
	json_t	*v = json_loads(json, JSON_ALLOW_NUL, NULL);

	ck_assert_ptr_nonnull(v);
	return v;
}

/* Renders s with the JSON object vs; NULL (and err) when it fails. */
static char *
render(struct gh_arena *a, const char *s, const char *vs, int html,
    char *err, size_t errlen)
{
	json_t	*v = vars(vs);
	char	*out;

	if (mail_render(a, s, strlen(s), v, html, &out, err, errlen) != 0)
		out = NULL;
	json_decref(v);
	return out;
}

START_TEST(placeholders_are_filled)
{
	struct gh_arena	 a;
	char		 err[256], *out;

	gh_arena_init(&a);
	out = render(&a, "Hi {{name}}, {{ n }} new; {{name}}.",
	    "{\"name\":\"Ann\",\"n\":3}", 0, err, sizeof(err));
	ck_assert_str_eq(out, "Hi Ann, 3 new; Ann.");
	out = render(&a, "no placeholder } here }}", "{}", 0, err,
	    sizeof(err));
	ck_assert_str_eq(out, "no placeholder } here }}");
	out = render(&a, "", "{}", 0, err, sizeof(err));
	ck_assert_str_eq(out, "");
	/* Values are never read as templates themselves. */
	out = render(&a, "{{v}}", "{\"v\":\"{{v}}\"}", 0, err, sizeof(err));
	ck_assert_str_eq(out, "{{v}}");
	gh_arena_free(&a);
}
END_TEST

START_TEST(html_values_are_escaped)
{
	struct gh_arena	 a;
	char		 err[256], *out;

	gh_arena_init(&a);
	out = render(&a, "<p>{{u}}</p>", "{\"u\":\"<b>&\\\"x'\"}", 1, err,
	    sizeof(err));
	ck_assert_str_eq(out, "<p>&lt;b&gt;&amp;&quot;x&#39;</p>");
	out = render(&a, "{{u}}", "{\"u\":\"<b>&\\\"x'\"}", 0, err,
	    sizeof(err));
	ck_assert_str_eq(out, "<b>&\"x'");
	gh_arena_free(&a);
}
END_TEST

START_TEST(bad_placeholders_fail_the_whole)
{
	struct gh_arena	 a;
	char		 err[256];

	gh_arena_init(&a);
	ck_assert_ptr_null(render(&a, "Hi {{name}} {{token}}",
	    "{\"name\":\"Ann\"}", 0, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "{{token}} has no value"));
	ck_assert_ptr_null(render(&a, "{{ 1x }}", "{}", 0, err, sizeof(err)));
	ck_assert_ptr_null(render(&a, "{{Name}}", "{\"Name\":\"x\"}", 0, err,
	    sizeof(err)));
	ck_assert_ptr_null(render(&a, "a {{ b", "{\"b\":\"x\"}", 0, err,
	    sizeof(err)));
	ck_assert_ptr_null(render(&a, "{{v}}", "{\"v\":null}", 0, err,
	    sizeof(err)));
	ck_assert_ptr_null(render(&a, "{{v}}", "{\"v\":1.5}", 0, err,
	    sizeof(err)));
	ck_assert_ptr_null(render(&a, "{{v}}", "{\"v\":{}}", 0, err,
	    sizeof(err)));
	ck_assert_ptr_null(render(&a, "{{v}}", "{\"v\":\"a\\u0000b\"}", 0, err,
	    sizeof(err)));
	gh_arena_free(&a);
}
END_TEST

START_TEST(template_names_are_never_paths)
{
	ck_assert(mail_template_name_ok("verify_email"));
	ck_assert(mail_template_name_ok("a"));
	ck_assert(mail_template_name_ok("a2345678901234567890123456789012345678901"));
	ck_assert(!mail_template_name_ok("a23456789012345678901234567890123456789012"));
	ck_assert(!mail_template_name_ok("../etc/passwd"));
	ck_assert(!mail_template_name_ok("Verify"));
	ck_assert(!mail_template_name_ok("1abc"));
	ck_assert(!mail_template_name_ok("a-b"));
	ck_assert(!mail_template_name_ok(""));
	ck_assert(!mail_template_name_ok(NULL));
}
END_TEST

/* Decodes quoted-printable, for the round trips. */
static char *
qp_decode(const char *s)
{
	char	*out = malloc(strlen(s) + 1), *o = out;
	int	 hi, lo;

	ck_assert_ptr_nonnull(out);
	while (*s != '\0') {
		if (s[0] == '=' && s[1] == '\r' && s[2] == '\n') {
			s += 3;
		} else if (s[0] == '=') {
			hi = gh_hexdigit(s[1]);
			lo = gh_hexdigit(s[2]);
			ck_assert(hi >= 0 && lo >= 0);
			*o++ = (char)(hi << 4 | lo);
			s += 3;
		} else
			*o++ = *s++;
	}
	*o = '\0';
	return out;
}

/* Every line of s is at most max bytes, 7-bit, and ends in CRLF. */
static void
assert_lines(const char *s, size_t max)
{
	const char	*p, *nl;

	for (p = s; *p != '\0'; p = nl + 2) {
		nl = strstr(p, "\r\n");
		if (nl == NULL)
			nl = p + strlen(p) - 2;
		ck_assert_uint_le((size_t)(nl - p), max);
		for (; p < nl; p++)
			ck_assert(*p != '\r' && *p != '\n' &&
			    (unsigned char)*p < 0x80);
		if (nl[0] == '\0' || nl[1] == '\0')
			break;
	}
}

START_TEST(quoted_printable_round_trips)
{
	struct gh_arena	 a;
	char		 in[1200], want[1400], *q, *back;
	size_t		 i;

	gh_arena_init(&a);
	for (i = 0; i < 300; i++)
		in[i] = "ab=é. \t"[i % 7];
	memcpy(in + 300, "end \nFrom here\n.dot\r\nlast\t", 27);
	in[327] = '\0';
	q = mail_qp_encode(&a, in, strlen(in));
	ck_assert_ptr_nonnull(q);
	assert_lines(q, 76);
	ck_assert_ptr_nonnull(strstr(q, "end=20\r\n=46rom here\r\n=2Edot\r\nlast=09"));
	back = qp_decode(q);
	/* The text comes back with CRLF for every line break. */
	snprintf(want, sizeof(want), "%.300send \r\nFrom here\r\n.dot\r\nlast\t",
	    in);
	ck_assert_str_eq(back, want);
	free(back);
	ck_assert_str_eq(mail_qp_encode(&a, "a=b", 3), "a=3Db");
	ck_assert_str_eq(mail_qp_encode(&a, "", 0), "");
	gh_arena_free(&a);
}
END_TEST

/* Decodes the encoded-words of a Subject, to compare with the original. */
static void
assert_words(const char *v, const char *want)
{
	char		 out[1024], *dup, *w, *save = NULL;
	unsigned char	 dec[256];
	size_t		 o = 0, n;
	int		 len;

	dup = strdup(v);
	for (w = strtok_r(dup, "\r\n ", &save); w != NULL;
	    w = strtok_r(NULL, "\r\n ", &save)) {
		ck_assert_uint_le(strlen(w), 75);
		ck_assert(strncmp(w, "=?UTF-8?B?", 10) == 0);
		n = strlen(w);
		ck_assert(strcmp(w + n - 2, "?=") == 0);
		w[n - 2] = '\0';
		len = EVP_DecodeBlock(dec, (unsigned char *)w + 10,
		    (int)strlen(w + 10));
		ck_assert_int_ge(len, 0);
		/* EVP_DecodeBlock counts the padding's zero bytes. */
		while (len > 0 && dec[len - 1] == '\0')
			len--;
		memcpy(out + o, dec, (size_t)len);
		o += (size_t)len;
	}
	out[o] = '\0';
	free(dup);
	ck_assert_str_eq(out, want);
}

START_TEST(subjects_plain_or_encoded)
{
	struct gh_arena	 a;
	const char	*long_ascii = "A subject that is long enough to need "
	    "more than one line of the header, so it is encoded";
	const char	*utf8 = "Bestätigen Sie Ihre Adresse für Portée Dorée "
	    "— Ωμέγα 日本語のテキスト";
	char		*s;

	gh_arena_init(&a);
	ck_assert_str_eq(mail_subject(&a, "Reset your password"),
	    "Reset your password");
	s = mail_subject(&a, utf8);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(strstr(s, "\r\n "));
	assert_words(s, utf8);
	s = mail_subject(&a, long_ascii);
	assert_words(s, long_ascii);
	ck_assert_ptr_null(mail_subject(&a, "two\r\nBcc: x@evil.example"));
	ck_assert_ptr_null(mail_subject(&a, "line\nbreak"));
	ck_assert_ptr_null(mail_subject(&a, "tab\there"));
	ck_assert_ptr_null(mail_subject(&a, ""));
	ck_assert_ptr_null(mail_subject(&a, "bad \xc3\x28 utf-8"));
	gh_arena_free(&a);
}
END_TEST

START_TEST(header_values_are_checked)
{
	ck_assert(mail_header_ok("<abc@example.com>"));
	ck_assert(mail_header_ok("Thu, 01 Jan 1970 00:00:00 +0000"));
	ck_assert(!mail_header_ok("a\r\nBcc: x@example.com"));
	ck_assert(!mail_header_ok("a\nb"));
	ck_assert(!mail_header_ok("a\rb"));
	ck_assert(!mail_header_ok("caf\xc3\xa9"));
	ck_assert(!mail_header_ok(""));
	ck_assert(!mail_header_ok(NULL));
}
END_TEST

START_TEST(from_parsed_and_quoted)
{
	char		*h, *ad;
	const char	*why;

	ck_assert_int_eq(mail_from_parse("no-reply@example.com", &h, &ad,
	    &why), 0);
	ck_assert_str_eq(h, "no-reply@example.com");
	ck_assert_str_eq(ad, "no-reply@example.com");
	free(h);
	free(ad);
	ck_assert_int_eq(mail_from_parse("Example <no-reply@example.com>", &h,
	    &ad, &why), 0);
	ck_assert_str_eq(h, "Example <no-reply@example.com>");
	ck_assert_str_eq(ad, "no-reply@example.com");
	free(h);
	free(ad);
	ck_assert_int_eq(mail_from_parse("\"Example, Inc.\" <a@example.com>",
	    &h, &ad, &why), 0);
	ck_assert_str_eq(h, "\"Example, Inc.\" <a@example.com>");
	free(h);
	free(ad);
	ck_assert_int_eq(mail_from_parse("Porte Dorée <a@example.com>", &h,
	    &ad, &why), 0);
	ck_assert_str_eq(h, "=?UTF-8?B?UG9ydGUgRG9yw6ll?= <a@example.com>");
	free(h);
	free(ad);
}
END_TEST

START_TEST(bad_from_refused)
{
	char		*h, *ad;
	const char	*why;

	ck_assert_int_eq(mail_from_parse("a@example.com\r\nBcc: b@example.com",
	    &h, &ad, &why), -1);
	ck_assert_ptr_null(h);
	ck_assert_int_eq(mail_from_parse("Name <a@b@example.com>", &h, &ad,
	    &why), -1);
	ck_assert_int_eq(mail_from_parse("Name <example.com>", &h, &ad, &why),
	    -1);
	ck_assert_int_eq(mail_from_parse("Name <a@example.com", &h, &ad, &why),
	    -1);
	ck_assert_int_eq(mail_from_parse("Name <a b@example.com>", &h, &ad,
	    &why), -1);
	ck_assert_int_eq(mail_from_parse("Name <ü@example.com>", &h, &ad,
	    &why), -1);
	ck_assert_int_eq(mail_from_parse(NULL, &h, &ad, &why), -1);
}
END_TEST

START_TEST(dates_in_english_utc)
{
	struct gh_arena	 a;

	gh_arena_init(&a);
	ck_assert_str_eq(mail_date(&a, 0), "Thu, 01 Jan 1970 00:00:00 +0000");
	ck_assert_str_eq(mail_date(&a, 1736848800),
	    "Tue, 14 Jan 2025 10:00:00 +0000");
	gh_arena_free(&a);
}
END_TEST

/* A template folder of one template, t, in a temporary folder. */
static char tpl_dir[64];

static void
write_file(const char *name, const char *text)
{
	char	 path[128];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", tpl_dir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static void
templates_make(void)
{
	snprintf(tpl_dir, sizeof(tpl_dir), "/tmp/check_mail.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tpl_dir));
	write_file("t.subject", "Hello {{name}} from {{product_name}}\n");
	write_file("t.txt", "Hi {{name}},\nsee {{public_url}}/x\n");
	write_file("t.html", "<p>Hi {{name}}</p>\n");
	write_file("crlf.subject", "{{name}}\n");
	write_file("crlf.txt", "x\n");
	write_file("crlf.html", "x\n");
	memset(&mail_cfg, 0, sizeof(mail_cfg));
	mail_cfg.templates = tpl_dir;
	mail_cfg.product_name = "Porte Dorée";
	mail_cfg.public_url = "https://example.com";
	mail_cfg.from_header = "Example <no-reply@example.com>";
	mail_cfg.from_addr = "no-reply@example.com";
}

static void
templates_remove(void)
{
	const char *const names[] = { "t.subject", "t.txt", "t.html",
	    "crlf.subject", "crlf.txt", "crlf.html" };
	char	 path[128];
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tpl_dir, names[i]);
		unlink(path);
	}
	rmdir(tpl_dir);
}

static struct mail_msg
msg(const char *to, const char *template, const char *params)
{
	struct mail_msg	 m = { "00000000-0000-4000-8000-000000000001",
	    "00000000-0000-4000-8000-000000000002",
	    "<00000000-0000-4000-8000-000000000001@example.com>", to,
	    template, params, 1736848800, 1 };

	return m;
}

START_TEST(whole_message)
{
	struct gh_arena	 a;
	struct mail_msg	 m = msg("ann@example.com", "t",
	    "{\"name\":\"<Ann>\"}");
	char		 err[256], *out, *body;
	size_t		 len;

	gh_arena_init(&a);
	templates_make();
	ck_assert_int_eq(mail_compose(&a, &m, &out, &len, err, sizeof(err)),
	    0);
	ck_assert_uint_eq(strlen(out), len);
	ck_assert(strncmp(out, "From: Example <no-reply@example.com>\r\n"
	    "To: ann@example.com\r\nSubject: =?UTF-8?B?", 76) == 0);
	ck_assert_ptr_nonnull(strstr(out, "\r\nDate: Tue, 14 Jan 2025 "
	    "10:00:00 +0000\r\nMessage-ID: <00000000-0000-4000-8000-"
	    "000000000001@example.com>\r\nMIME-Version: 1.0\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "Content-Type: multipart/"
	    "alternative;\r\n boundary=\"=_gh_"));
	ck_assert_ptr_nonnull(strstr(out, "Content-Type: text/plain; "
	    "charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable"
	    "\r\n\r\nHi <Ann>,\r\nsee https://example.com/x\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "Content-Type: text/html; "
	    "charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable"
	    "\r\n\r\n<p>Hi &lt;Ann&gt;</p>\r\n"));
	assert_lines(out, 78);
	body = strstr(out, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	templates_remove();
	gh_arena_free(&a);
}
END_TEST

START_TEST(unsafe_messages_not_built)
{
	struct gh_arena	 a;
	struct mail_msg	 m;
	char		 err[256], *out;
	size_t		 len;

	gh_arena_init(&a);
	templates_make();
	m = msg("ann@example.com", "t", "{}");
	ck_assert_int_eq(mail_compose(&a, &m, &out, &len, err, sizeof(err)),
	    -1);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(strstr(err, "{{name}} has no value"));
	m = msg("ann@example.com\r\nBcc: b@example.com", "t",
	    "{\"name\":\"x\"}");
	ck_assert_int_eq(mail_compose(&a, &m, &out, &len, err, sizeof(err)),
	    -1);
	m = msg("ann@example.com", "crlf",
	    "{\"name\":\"x\\r\\nBcc: b@example.com\"}");
	ck_assert_int_eq(mail_compose(&a, &m, &out, &len, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "subject"));
	m = msg("ann@example.com", "missing", "{}");
	ck_assert_int_eq(mail_compose(&a, &m, &out, &len, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "missing.subject"));
	m = msg("ann@example.com", "../t", "{\"name\":\"x\"}");
	ck_assert_int_eq(mail_compose(&a, &m, &out, &len, err, sizeof(err)),
	    -1);
	m = msg("ann@example.com", "t", "[1]");
	ck_assert_int_eq(mail_compose(&a, &m, &out, &len, err, sizeof(err)),
	    -1);
	templates_remove();
	gh_arena_free(&a);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("mail");
	TCase	*tc = tcase_create("mail");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, placeholders_are_filled);
	tcase_add_test(tc, html_values_are_escaped);
	tcase_add_test(tc, bad_placeholders_fail_the_whole);
	tcase_add_test(tc, template_names_are_never_paths);
	tcase_add_test(tc, quoted_printable_round_trips);
	tcase_add_test(tc, subjects_plain_or_encoded);
	tcase_add_test(tc, header_values_are_checked);
	tcase_add_test(tc, from_parsed_and_quoted);
	tcase_add_test(tc, bad_from_refused);
	tcase_add_test(tc, dates_in_english_utc);
	tcase_add_test(tc, whole_message);
	tcase_add_test(tc, unsafe_messages_not_built);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
