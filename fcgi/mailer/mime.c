/*
 * The message as it goes to the relay (RFC 5322, MIME): headers made
 * here from checked parts only, a text and an HTML alternative, both
 * quoted-printable, so every line is short 7-bit ASCII whatever the
 * templates and values hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "mailer.h"

#define QP_LINE_MAX	76	/* RFC 2045, the soft break's = included */
#define WORD_BYTES	45	/* bytes per encoded-word: 60 base64 chars */
#define HEADER_LINE_MAX	78	/* RFC 5322's SHOULD */

/*
 * A header value must be printable ASCII: no CR or LF above all (a value
 * that carries one writes headers of its own), no other control byte,
 * nothing 8-bit.  Every value is checked here before it is written, even
 * those that were checked where they came from.
 */
int
mail_header_ok(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* Strict UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
static int
utf8_ok(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned	 c, min;
	int		 n, i;

	while (*s != '\0') {
		if (*s < 0x80) {
			s++;
			continue;
		}
		if ((*s & 0xe0) == 0xc0) {
			n = 1;
			c = *s & 0x1f;
			min = 0x80;
		} else if ((*s & 0xf0) == 0xe0) {
			n = 2;
			c = *s & 0x0f;
			min = 0x800;
		} else if ((*s & 0xf8) == 0xf0) {
			n = 3;
			c = *s & 0x07;
			min = 0x10000;
		} else
			return 0;
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (s[i] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		s += n + 1;
	}
	return 1;
}

static int
is_ascii_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

static int
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 1;
	return 0;
}

static void
qp_byte(struct mail_buf *b, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char	 e[3] = { '=', hex[c >> 4], hex[c & 0xf] };

	mail_buf_add(b, e, 3);
}

/*
 * Quoted-printable (RFC 2045 6.7) with CRLF line breaks, whatever breaks
 * the text had.  Beyond the rules it also encodes a '.' or "From " that
 * would start a line, which some relays and mailboxes treat specially.
 */
char *
mail_qp_encode(struct gh_arena *a, const char *s, size_t len)
{
	struct mail_buf	 b;
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + len;
	size_t		 col = 0, w;
	int		 lit, eol;

	mail_buf_init(&b, a);
	while (p < end) {
		if (*p == '\r' || *p == '\n') {
			p += (*p == '\r' && p + 1 < end && p[1] == '\n') ? 2 : 1;
			mail_buf_add(&b, "\r\n", 2);
			col = 0;
			continue;
		}
		eol = p + 1 == end || p[1] == '\r' || p[1] == '\n';
		lit = *p >= 33 && *p <= 126 && *p != '=';
		if ((*p == ' ' || *p == '\t') && !eol)
			lit = 1;
		if (col == 0 && (*p == '.' || (end - p >= 5 &&
		    memcmp(p, "From ", 5) == 0)))
			lit = 0;
		w = lit ? 1 : 3;
		/* Room for the token and, unless the line ends, a soft break. */
		if (col + w > QP_LINE_MAX - (eol ? 0 : 1)) {
			mail_buf_add(&b, "=\r\n", 3);
			col = 0;
			continue;	/* the token again, at the line's start */
		}
		if (lit)
			mail_buf_add(&b, (const char *)p, 1);
		else
			qp_byte(&b, *p);
		col += w;
		p++;
	}
	return mail_buf_done(&b);
}

/* Encoded-words (RFC 2047, "B") for s, folded between words. */
static char *
encoded_words(struct gh_arena *a, const char *s)
{
	struct mail_buf	 b;
	unsigned char	 enc[4 * ((WORD_BYTES + 2) / 3) + 1];
	size_t		 len = strlen(s), off = 0, n;

	mail_buf_init(&b, a);
	while (off < len) {
		n = len - off > WORD_BYTES ? WORD_BYTES : len - off;
		/* Never cut a character: back off to its first byte. */
		while (off + n < len && n > 1 &&
		    ((unsigned char)s[off + n] & 0xc0) == 0x80)
			n--;
		EVP_EncodeBlock(enc, (const unsigned char *)s + off, (int)n);
		if (off > 0)
			mail_buf_add(&b, "\r\n ", 3);
		mail_buf_str(&b, "=?UTF-8?B?");
		mail_buf_str(&b, (const char *)enc);
		mail_buf_str(&b, "?=");
		off += n;
	}
	return mail_buf_done(&b);
}

/*
 * The Subject's value: as it is when short printable ASCII, else
 * encoded-words.  NULL when the subject is empty, has a control
 * character (CR and LF above all) or is not UTF-8.
 */
char *
mail_subject(struct gh_arena *a, const char *s)
{
	if (*s == '\0' || has_control(s) || !utf8_ok(s))
		return NULL;
	if (is_ascii_printable(s) &&
	    strlen("Subject: ") + strlen(s) <= HEADER_LINE_MAX)
		return gh_strdup(a, s);
	return encoded_words(a, s);
}

/* An address as the outbox takes it: see mail_address_problem(). */
static int
addr_ok(const char *s)
{
	const char	*at;

	if (!mail_header_ok(s) || strlen(s) > 254 ||
	    strpbrk(s, " \"(),:;<>[\\]") != NULL)
		return 0;
	at = strchr(s, '@');
	return at != NULL && at != s && at[1] != '\0' &&
	    strchr(at + 1, '@') == NULL;
}

/*
 * GH_MAIL_FROM: "addr@example.com" or "Display Name <addr@example.com>".
 * Fills the header's value (the name quoted or encoded as it needs) and
 * the bare address for the envelope, both malloc'd.
 */
int
mail_from_parse(const char *v, char **header, char **addr,
    const char **why)
{
	struct gh_arena	 a;
	const char	*lt, *q, *e;
	char		*name = NULL, *ad = NULL, *h = NULL, *words;
	size_t		 n;
	int		 rc = -1;

	*header = *addr = NULL;
	*why = NULL;
	gh_arena_init(&a);
	if (v == NULL || has_control(v) || !utf8_ok(v)) {
		*why = "is empty, not UTF-8 or has a control character";
		goto done;
	}
	if ((lt = strrchr(v, '<')) == NULL) {
		ad = gh_strdup(&a, v);
		name = gh_strdup(&a, "");
	} else {
		n = strlen(lt);
		if (n < 3 || lt[n - 1] != '>') {
			*why = "must be addr@domain or Name <addr@domain>";
			goto done;
		}
		ad = gh_strndup(&a, lt + 1, n - 2);
		for (q = v; q < lt && *q == ' '; q++)
			;
		for (e = lt; e > q && e[-1] == ' '; e--)
			;
		if (e - q >= 2 && *q == '"' && e[-1] == '"') {
			q++;
			e--;
		}
		name = gh_strndup(&a, q, (size_t)(e - q));
	}
	if (ad == NULL || name == NULL || !addr_ok(ad)) {
		*why = "does not hold one plain ASCII address (user@domain)";
		goto done;
	}
	if (*name == '\0')
		h = gh_strdup(&a, ad);
	else if (!is_ascii_printable(name) || strpbrk(name, "\"\\") != NULL)
		h = (words = encoded_words(&a, name)) == NULL ? NULL :
		    gh_printf(&a, "%s <%s>", words, ad);
	else if (strpbrk(name, "()<>[]:;@,.") != NULL)
		h = gh_printf(&a, "\"%s\" <%s>", name, ad);
	else
		h = gh_printf(&a, "%s <%s>", name, ad);
	if (h == NULL || (*header = strdup(h)) == NULL ||
	    (*addr = strdup(ad)) == NULL) {
		*why = "out of memory";
		goto done;
	}
	rc = 0;
done:
	if (rc != 0) {
		free(*header);
		*header = NULL;
	}
	gh_arena_free(&a);
	return rc;
}

/* RFC 5322 date-time in UTC; the names are English whatever the locale. */
char *
mail_date(struct gh_arena *a, long long epoch)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm	 tm;
	time_t		 t = (time_t)epoch;

	if (gmtime_r(&t, &tm) == NULL)
		return NULL;
	return gh_printf(a, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* "Name: value\r\n", refusing a value that could break out of its line. */
static int
header(struct mail_buf *b, const char *name, const char *value)
{
	if (!mail_header_ok(value))
		return -1;
	mail_buf_str(b, name);
	mail_buf_str(b, ": ");
	mail_buf_str(b, value);
	mail_buf_str(b, "\r\n");
	return 0;
}

/*
 * A header value this file made by folding checked words with CRLF SP:
 * each line must pass the same check.
 */
static int
folded_header(struct mail_buf *b, const char *name, const char *value)
{
	const char	*p, *nl;
	char		 line[1024];
	size_t		 n;

	for (p = value; ; p = nl + 3) {
		nl = strstr(p, "\r\n ");
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (n == 0 || n >= sizeof(line))
			return -1;
		memcpy(line, p, n);
		line[n] = '\0';
		if (!mail_header_ok(line))
			return -1;
		if (nl == NULL)
			break;
	}
	mail_buf_str(b, name);
	mail_buf_str(b, ": ");
	mail_buf_str(b, value);
	mail_buf_str(b, "\r\n");
	return 0;
}

static void
part(struct mail_buf *b, const char *boundary, const char *ctype,
    const char *qp)
{
	mail_buf_str(b, "\r\n--");
	mail_buf_str(b, boundary);
	mail_buf_str(b, "\r\nContent-Type: ");
	mail_buf_str(b, ctype);
	mail_buf_str(b, "; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	mail_buf_str(b, qp);
}

/* The values the templates see: the params, then the settings, which win. */
static json_t *
template_vars(const char *params, char *err, size_t errlen)
{
	json_t		*vars;
	json_error_t	 jerr;

	vars = json_loads(params, JSON_REJECT_DUPLICATES, &jerr);
	if (vars == NULL || !json_is_object(vars)) {
		snprintf(err, errlen, "params are not a JSON object");
		json_decref(vars);
		return NULL;
	}
	if (json_object_set_new(vars, "product_name",
	    json_string(mail_cfg.product_name)) != 0 ||
	    json_object_set_new(vars, "public_url",
	    json_string(mail_cfg.public_url)) != 0) {
		snprintf(err, errlen, "out of memory");
		json_decref(vars);
		return NULL;
	}
	return vars;
}

/* The rendered subject as one line: the file's final newline dropped. */
static char *
subject_line(char *s)
{
	size_t	 n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/*
 * Builds the whole message for m into *out (the arena's).  0, or -1 with
 * err saying why: a template that is missing or does not render, or a
 * header value that would not be safe.  Nothing half-made is returned.
 */
int
mail_compose(struct gh_arena *a, const struct mail_msg *m, char **out,
    size_t *len, char *err, size_t errlen)
{
	struct mail_buf	 b;
	json_t		*vars = NULL;
	unsigned char	 rnd[16];
	char		 boundary[64], hex[33];
	char		*subj, *txt, *html, *qtxt, *qhtml, *subject, *date;
	int		 rc = -1;

	*out = NULL;
	*len = 0;
	mail_buf_init(&b, a);
	if ((vars = template_vars(m->params, err, errlen)) == NULL)
		goto done;
	if (mail_render_file(a, mail_cfg.templates, m->template, "subject",
	    vars, 0, &subj, err, errlen) != 0 ||
	    mail_render_file(a, mail_cfg.templates, m->template, "txt",
	    vars, 0, &txt, err, errlen) != 0 ||
	    mail_render_file(a, mail_cfg.templates, m->template, "html",
	    vars, 1, &html, err, errlen) != 0)
		goto done;
	if ((subject = mail_subject(a, subject_line(subj))) == NULL) {
		snprintf(err, errlen, "the subject is empty, not UTF-8 or "
		    "has a line break or control character");
		goto done;
	}
	if (!utf8_ok(txt) || !utf8_ok(html)) {
		snprintf(err, errlen, "template %s is not UTF-8", m->template);
		goto done;
	}
	if ((qtxt = mail_qp_encode(a, txt, strlen(txt))) == NULL ||
	    (qhtml = mail_qp_encode(a, html, strlen(html))) == NULL ||
	    (date = mail_date(a, m->created)) == NULL ||
	    gh_random(rnd, sizeof(rnd)) != 0) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	/* "=_" cannot occur in quoted-printable: the boundary never will. */
	gh_hex(hex, rnd, sizeof(rnd));
	snprintf(boundary, sizeof(boundary), "=_gh_%s", hex);
	if (!addr_ok(m->to) ||
	    folded_header(&b, "From", mail_cfg.from_header) != 0 ||
	    header(&b, "To", m->to) != 0 ||
	    folded_header(&b, "Subject", subject) != 0 ||
	    header(&b, "Date", date) != 0 ||
	    header(&b, "Message-ID", m->message_id) != 0 ||
	    header(&b, "MIME-Version", "1.0") != 0 ||
	    header(&b, "Auto-Submitted", "auto-generated") != 0) {
		snprintf(err, errlen, "a header value is not safe to send "
		    "(a line break, a control or 8-bit character)");
		goto done;
	}
	mail_buf_str(&b, "Content-Type: multipart/alternative;\r\n boundary=\"");
	mail_buf_str(&b, boundary);
	mail_buf_str(&b, "\"\r\n\r\nThis is a message in MIME format.\r\n");
	part(&b, boundary, "text/plain", qtxt);
	part(&b, boundary, "text/html", qhtml);
	mail_buf_str(&b, "\r\n--");
	mail_buf_str(&b, boundary);
	mail_buf_str(&b, "--\r\n");
	if ((*out = mail_buf_done(&b)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	*len = b.len;
	rc = 0;
done:
	json_decref(vars);
	return rc;
}
