/*
 * What a username, an e-mail and a password must be.  Passwords follow
 * NIST 800-63B and OWASP ASVS: long enough, any characters, never cut,
 * no composition rules, and not one that attackers try first.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "password.h"

#define PW_MIN		AUTH_PW_MIN
#define PW_MAX		AUTH_PW_MAX

#ifndef GH_PKGDATADIR
#define GH_PKGDATADIR	"/usr/share/gatehouse"
#endif

static char	**common;	/* sorted, lowercase; loaded on first use */
static size_t	  ncommon;
static int	  loaded;

const char *
auth_valid_username(const char *s)
{
	size_t	 n = strlen(s);

	if (n < 3 || n > AUTH_USERNAME_MAX)
		return "must be 3 to 40 characters";
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' &&
		    *s != '-')
			return "may hold only letters, digits, '.', '_' and '-'";
	return NULL;
}

/*
 * Deliberately plain: one @, a local part without spaces or controls, a
 * domain of dot-separated labels of letters, digits and hyphens.  At
 * least as strict as the mail outbox (mail_address_problem in
 * sql/auth/007_mail_outbox.sql), so that every account can be mailed:
 * plain ASCII only, as internationalised addresses (SMTPUTF8) are not
 * sent yet; an IDN domain is taken in its xn-- form.  Controls are named
 * before anything else, since they are what a header injection tries.
 */
const char *
auth_valid_email(const char *s)
{
	const char	*at, *p, *label;
	size_t		 n = strlen(s);

	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			return "has a control character (CR, LF, tab, ...)";
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p > 0x7e)
			return "must be plain ASCII (internationalised "
			    "addresses are not accepted yet; write an IDN "
			    "domain in its xn-- form)";
	if (n < 3 || n > AUTH_EMAIL_MAX)
		return "must be 3 to 254 characters";
	if ((at = strchr(s, '@')) == NULL || strchr(at + 1, '@') != NULL)
		return "must be an e-mail address (one @)";
	if (at == s || at - s > 64)
		return "must have 1 to 64 characters before the @";
	for (p = s; p < at; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '"' ||
		    *p == '(' || *p == ')' || *p == ',' || *p == ':' ||
		    *p == ';' || *p == '<' || *p == '>' || *p == '[' ||
		    *p == ']' || *p == '\\')
			return "has a character not allowed before the @";
	if (strchr(at + 1, '.') == NULL)
		return "must have a domain with a dot after the @";
	for (label = p = at + 1;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label || p - label > 63 || *label == '-' ||
			    p[-1] == '-')
				return "has an invalid domain";
			if (*p == '\0')
				break;
			label = p + 1;
		} else if (!isalnum((unsigned char)*p) && *p != '-')
			return "has an invalid domain";
	}
	return NULL;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the lines of path that are long enough to matter. */
static void
load_file(const char *path, size_t *cap)
{
	FILE	*f;
	char	 line[256], **p, *s;
	size_t	 n, i, newcap;

	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		if (n < PW_MIN || line[0] == '#')
			continue;
		if (ncommon == *cap) {
			newcap = *cap == 0 ? 1024 : *cap * 2;
			if ((p = realloc(common, newcap * sizeof(*p))) == NULL)
				break;
			common = p;
			*cap = newcap;
		}
		if ((s = strdup(line)) == NULL)
			break;
		for (i = 0; i < n; i++)
			s[i] = (char)tolower((unsigned char)s[i]);
		common[ncommon++] = s;
	}
	fclose(f);
}

/*
 * Loaded on first use, not at start, so that a worker that never sees a
 * password stays small.  Only entries of 12 characters or more are kept:
 * shorter ones are refused by length anyway.
 */
static void
load_common(void)
{
	size_t	 cap = 0;

	loaded = 1;
	load_file(gh_config_str("GH_COMMON_PASSWORDS",
	    GH_PKGDATADIR "/common-passwords.txt"), &cap);
	load_file(gh_config_str("GH_PASSWORD_DICT",
	    "/usr/share/dict/cracklib-small"), &cap);
	if (ncommon > 0)
		qsort(common, ncommon, sizeof(*common), cmp);
	if (ncommon == 0)
		gh_log_warnx("passwords", "no list of common passwords found "
		    "(GH_COMMON_PASSWORDS, GH_PASSWORD_DICT): none is refused "
		    "as common");
	else
		gh_log_infox("passwords", "%zu common passwords and words "
		    "loaded", ncommon);
}

static int
is_common(const char *pw)
{
	char	 low[PW_MAX * 4 + 1], *key = low;
	size_t	 i;

	if (!loaded)
		load_common();
	for (i = 0; pw[i] != '\0' && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)pw[i]);
	low[i] = '\0';
	return ncommon > 0 &&
	    bsearch(&key, common, ncommon, sizeof(*common), cmp) != NULL;
}

/*
 * NULL when pw is acceptable on its own, else why not (for the 422's
 * detail).  The table's minlen and maxlen say the same about length
 * first; it is checked here too so that this stands alone.
 */
const char *
auth_valid_password(const char *pw)
{
	size_t	 len = gh_utf8_len(pw), i, same = 1;

	if (len < PW_MIN)
		return "must be at least 12 characters";
	if (len > PW_MAX)
		return "must be at most 128 characters";
	for (i = 1; pw[i] != '\0'; i++)
		if (pw[i] != pw[0])
			same = 0;
	if (same)
		return "must not be one character repeated";
	if (is_common(pw))
		return "is too common: attackers try it first";
	return NULL;
}

/* The rule across fields: a password is not the account's own name. */
const char *
auth_password_personal(const char *pw, const char *username,
    const char *email)
{
	if ((username != NULL && strcasecmp(pw, username) == 0) ||
	    (email != NULL && strcasecmp(pw, email) == 0))
		return "must not be the username or the e-mail";
	return NULL;
}
