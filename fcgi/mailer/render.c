/*
 * Templates: text with {{name}} placeholders, filled from the message's
 * params and the settings.  A placeholder with no value, or one that is
 * not well formed, is an error: a message is sent whole or not at all.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mailer.h"

#define VAR_NAME_MAX	64

static void
out_html(struct mail_buf *o, const char *s)
{
	const char	*e;

	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			e = "&amp;";
			break;
		case '<':
			e = "&lt;";
			break;
		case '>':
			e = "&gt;";
			break;
		case '"':
			e = "&quot;";
			break;
		case '\'':
			e = "&#39;";
			break;
		default:
			mail_buf_add(o, s, 1);
			continue;
		}
		mail_buf_str(o, e);
	}
}

/* The template names the mail_template_problem() of the outbox allows. */
int
mail_template_name_ok(const char *s)
{
	size_t	 i;

	if (s == NULL || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (i > 40 || !((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/*
 * The value of a placeholder as text: strings as they are, integers in
 * decimal.  Anything else (null, a number with a fraction, an object) has
 * no single right spelling in a message, so it is refused.
 */
static const char *
var_text(struct gh_arena *a, json_t *vars, const char *name,
    const char **why)
{
	json_t		*v;
	const char	*s;

	*why = NULL;
	if ((v = json_object_get(vars, name)) == NULL) {
		*why = "has no value";
		return NULL;
	}
	if (json_is_string(v)) {
		s = json_string_value(v);
		/* A NUL inside would cut the value short. */
		if (strlen(s) != json_string_length(v)) {
			*why = "holds a NUL";
			return NULL;
		}
		return s;
	}
	if (json_is_integer(v))
		return gh_printf(a, "%lld", (long long)json_integer_value(v));
	*why = "is not a string or an integer";
	return NULL;
}

static const char *
find_open(const char *p, const char *end)
{
	for (; end - p >= 2; p++)
		if (p[0] == '{' && p[1] == '{')
			return p;
	return NULL;
}

/*
 * Reads {{ name }} at p (which points at "{{"); the name goes to name.
 * Returns the length of the placeholder, or 0 when it is not one.
 */
static size_t
placeholder(const char *p, const char *end, char *name)
{
	const char	*s = p + 2;
	size_t		 n = 0;

	while (s < end && *s == ' ')
		s++;
	while (s < end && n < VAR_NAME_MAX && ((*s >= 'a' && *s <= 'z') ||
	    *s == '_' || (n > 0 && *s >= '0' && *s <= '9')))
		name[n++] = *s++;
	name[n] = '\0';
	while (s < end && *s == ' ')
		s++;
	if (n == 0 || end - s < 2 || s[0] != '}' || s[1] != '}')
		return 0;
	return (size_t)(s + 2 - p);
}

/*
 * Renders tpl (len bytes) with vars, HTML-escaping the values when html
 * is set; *out is NUL-terminated, in the arena.  0, or -1 with err.
 */
int
mail_render(struct gh_arena *a, const char *tpl, size_t len, json_t *vars,
    int html, char **out, char *err, size_t errlen)
{
	struct mail_buf	 o;
	const char	*p = tpl, *end = tpl + len, *open, *v, *why;
	char		 name[VAR_NAME_MAX + 1];
	size_t		 n;

	*out = NULL;
	mail_buf_init(&o, a);
	if (memchr(tpl, '\0', len) != NULL) {
		snprintf(err, errlen, "the template holds a NUL byte");
		return -1;
	}
	while (p < end) {
		if ((open = find_open(p, end)) == NULL) {
			mail_buf_add(&o, p, (size_t)(end - p));
			break;
		}
		mail_buf_add(&o, p, (size_t)(open - p));
		if ((n = placeholder(open, end, name)) == 0) {
			snprintf(err, errlen, "a {{ at byte %zu is not a "
			    "placeholder {{name}}", (size_t)(open - tpl));
			return -1;
		}
		if ((v = var_text(a, vars, name, &why)) == NULL) {
			snprintf(err, errlen, "placeholder {{%s}} %s", name,
			    why);
			return -1;
		}
		if (html)
			out_html(&o, v);
		else
			mail_buf_str(&o, v);
		p = open + n;
	}
	if ((*out = mail_buf_done(&o)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* Reads dir/name.ext whole into the arena, NUL-terminated. */
static char *
read_template(struct gh_arena *a, const char *dir, const char *name,
    const char *ext, size_t *len, char *err, size_t errlen)
{
	struct stat	 st;
	char		 path[4096];
	char		*buf = NULL;
	size_t		 off = 0;
	ssize_t		 r;
	int		 fd = -1, n;

	n = snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		snprintf(err, errlen, "template path too long");
		goto fail;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		snprintf(err, errlen, "template %s.%s: %s", name, ext,
		    strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MAIL_TEMPLATE_MAX) {
		snprintf(err, errlen, "template %s.%s: %s", name, ext,
		    S_ISREG(st.st_mode) ? "too large" : "not a file");
		goto fail;
	}
	if ((buf = gh_alloc(a, (size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	while (off < (size_t)st.st_size) {
		r = read(fd, buf + off, (size_t)st.st_size - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "template %s.%s: %s", name, ext,
			    r == 0 ? "short read" : strerror(errno));
			goto fail;
		}
		off += (size_t)r;
	}
	buf[off] = '\0';
	close(fd);
	*len = off;
	return buf;
fail:
	if (fd != -1)
		close(fd);
	return NULL;
}

/* Renders the template file dir/name.ext; see mail_render. */
int
mail_render_file(struct gh_arena *a, const char *dir, const char *name,
    const char *ext, json_t *vars, int html, char **out, char *err,
    size_t errlen)
{
	char	*tpl;
	size_t	 len, n;

	*out = NULL;
	if (!mail_template_name_ok(name)) {
		snprintf(err, errlen, "template name is not valid");
		return -1;
	}
	if ((tpl = read_template(a, dir, name, ext, &len, err,
	    errlen)) == NULL)
		return -1;
	if (mail_render(a, tpl, len, vars, html, out, err, errlen) != 0) {
		/* Say which file: the error is the template's or the caller's. */
		n = strlen(err);
		snprintf(err + n, errlen > n ? errlen - n : 0, " (in %s.%s)",
		    name, ext);
		return -1;
	}
	return 0;
}
