#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gh_arena.h"
#include "gh_config.h"
#include "gh_crypto.h"
#include "gh_req.h"
#include "oauth_rules.h"

static const struct {
	const char	*name;
	unsigned	 bit;
	const char	*words;		/* what the consent page says */
} scopes[] = {
	{ "openid",	OAUTH_SCOPE_OPENID,	"confirm who you are" },
	{ "profile",	OAUTH_SCOPE_PROFILE,	"see your username" },
	{ "email",	OAUTH_SCOPE_EMAIL,	"see your e-mail address" },
	{ "offline_access", OAUTH_SCOPE_OFFLINE,
	    "stay signed in when you are not using it" },
};
#define NSCOPES	(sizeof(scopes) / sizeof(scopes[0]))

static int
is_loopback_prefix(const char *uri, size_t *hostlen)
{
	static const char *const hosts[] = {
		"http://127.0.0.1", "http://[::1]"
	};
	size_t	 i, n;

	for (i = 0; i < 2; i++) {
		n = strlen(hosts[i]);
		if (strncmp(uri, hosts[i], n) == 0 &&
		    (uri[n] == ':' || uri[n] == '/' || uri[n] == '\0')) {
			*hostlen = n;
			return 1;
		}
	}
	return 0;
}

/*
 * Why a URI may not be registered as a redirect URI, or NULL: https;
 * http only to a loopback address (RFC 8252 7.3); or a private-use
 * scheme with a dot, like com.example.app:/cb (RFC 8252 7.1).  Never a
 * fragment, userinfo, whitespace or a control character.
 */
const char *
oauth_redirect_uri_invalid(const char *uri)
{
	const char	*p, *colon;
	size_t		 len = strlen(uri), hl;

	if (len == 0 || len > OAUTH_URI_MAX)
		return "must be 1 to 2000 characters";
	for (p = uri; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return "must be printable ASCII without spaces";
	if (strchr(uri, '#') != NULL)
		return "must not have a fragment";
	if (strncmp(uri, "https://", 8) == 0) {
		p = uri + 8;
		if (*p == '\0' || *p == '/' || *p == ':')
			return "must name a host";
		if (strcspn(p, "/?") > strcspn(p, "@"))
			return "must not carry a user name or password";
		return NULL;
	}
	if (strncmp(uri, "http://", 7) == 0)
		return is_loopback_prefix(uri, &hl) ? NULL :
		    "plain http is allowed only to 127.0.0.1 or [::1]";
	if ((colon = strchr(uri, ':')) == NULL || colon == uri)
		return "must be an absolute URI";
	for (p = uri; p < colon; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '.' || *p == '-' || *p == '+'))
			return "must have a lower-case scheme";
	if (memchr(uri, '.', (size_t)(colon - uri)) == NULL)
		return "a private-use scheme must be a reversed domain name, "
		    "like com.example.app";
	if (colon[1] == '/' && colon[2] == '/')
		return "a private-use scheme takes one slash (com.example.app:/cb)";
	return NULL;
}

/* Skips ":port" after a loopback host: 1 to 65535 in decimal, or none. */
static const char *
skip_port(const char *p)
{
	long	 n = 0;
	int	 digits = 0;

	if (*p != ':')
		return p;
	for (p++; *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
		n = n * 10 + (*p - '0');
	if (digits == 0 || digits > 5 || n < 1 || n > 65535)
		return NULL;
	return p;
}

/*
 * Whether a redirect URI in a request is the registered one: the same
 * string exactly, except that a loopback http URI may use any port
 * (native apps take one at run time, RFC 8252 7.3).  No prefix, path,
 * case or encoding leeway of any kind.
 */
int
oauth_redirect_matches(const char *registered, const char *given)
{
	const char	*r, *g;
	size_t		 rl, gl;

	if (strcmp(registered, given) == 0)
		return 1;
	if (!is_loopback_prefix(registered, &rl) ||
	    !is_loopback_prefix(given, &gl) || rl != gl ||
	    strncmp(registered, given, rl) != 0)
		return 0;
	if ((r = skip_port(registered + rl)) == NULL ||
	    (g = skip_port(given + gl)) == NULL)
		return 0;
	return strcmp(r, g) == 0;
}

static int
is_b64url(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* An S256 code_challenge: the base64url of 32 bytes, 43 characters. */
int
oauth_challenge_valid(const char *c)
{
	size_t	 i;

	for (i = 0; c[i] != '\0'; i++)
		if (!is_b64url((unsigned char)c[i]))
			return 0;
	return i == 43;
}

/*
 * RFC 7636 4.6 with S256 only: the verifier is 43 to 128 unreserved
 * characters, and the base64url of its SHA-256 is the challenge.
 */
int
oauth_pkce_verify(const char *verifier, const char *challenge)
{
	struct gh_arena	 a;
	unsigned char	 d[32];
	char		*enc;
	size_t		 i;
	int		 ok;

	for (i = 0; verifier[i] != '\0'; i++)
		if (!is_b64url((unsigned char)verifier[i]) &&
		    verifier[i] != '.' && verifier[i] != '~')
			return 0;
	if (i < OAUTH_VERIFIER_MIN || i > OAUTH_VERIFIER_MAX ||
	    !oauth_challenge_valid(challenge) ||
	    gh_sha256(verifier, i, d) != 0)
		return 0;
	gh_arena_init(&a);
	enc = gh_b64url_encode(&a, d, sizeof(d));
	ok = enc != NULL && gh_ct_equal(enc, challenge, 43);
	gh_arena_free(&a);
	return ok;
}

/*
 * A scope parameter: names separated by single spaces (RFC 6749 3.3),
 * each one we know.  0 with *mask set, or -1 for any other text.
 */
int
oauth_scope_parse(const char *s, unsigned *mask)
{
	size_t	 i, n;

	*mask = 0;
	while (*s != '\0') {
		n = strcspn(s, " ");
		if (n == 0)
			return -1;
		for (i = 0; i < NSCOPES; i++)
			if (strlen(scopes[i].name) == n &&
			    strncmp(scopes[i].name, s, n) == 0)
				break;
		if (i == NSCOPES)
			return -1;
		*mask |= scopes[i].bit;
		s += n;
		if (*s == ' ' && *++s == '\0')
			return -1;
	}
	return 0;
}

/* The names of mask's scopes, in a fixed order, space separated. */
char *
oauth_scope_text(struct gh_arena *a, unsigned mask)
{
	char	 buf[128];
	size_t	 i, off = 0;
	int	 n;

	buf[0] = '\0';
	for (i = 0; i < NSCOPES; i++) {
		if (!(mask & scopes[i].bit))
			continue;
		n = snprintf(buf + off, sizeof(buf) - off, "%s%s",
		    off == 0 ? "" : " ", scopes[i].name);
		if (n < 0 || (size_t)n >= sizeof(buf) - off)
			return NULL;
		off += (size_t)n;
	}
	return gh_strdup(a, buf);
}

const char *
oauth_scope_words(unsigned bit)
{
	size_t	 i;

	for (i = 0; i < NSCOPES; i++)
		if (scopes[i].bit == bit)
			return scopes[i].words;
	return NULL;
}

/* Decodes one form-urlencoded half of client_secret_basic. */
static char *
form_decode(struct gh_arena *a, const char *s, size_t n)
{
	char	*v;
	size_t	 i;

	if ((v = gh_strndup(a, s, n)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (v[i] == '+')
			v[i] = ' ';
	if (gh_pct_decode(v, &n) != 0 || n == 0)
		return NULL;
	return v;
}

/*
 * client_secret_basic (RFC 6749 2.3.1): "Basic " and the base64 of the
 * form-encoded id, a colon, and the form-encoded secret.  0 with both
 * set, or -1 for anything else.
 */
int
oauth_basic_credentials(struct gh_arena *a, const char *h, char **id,
    char **secret)
{
	unsigned char	*raw;
	char		*b64, *p, *colon;
	size_t		 len, i;

	*id = *secret = NULL;
	if (strncasecmp(h, "Basic ", 6) != 0)
		return -1;
	h += 6;
	while (*h == ' ')
		h++;
	/* Standard base64 into the strict base64url decoder lib has. */
	len = strlen(h);
	while (len > 0 && h[len - 1] == '=')
		len--;
	if (len == 0 || len > 1024 || (b64 = gh_strndup(a, h, len)) == NULL)
		return -1;
	for (p = b64; *p != '\0'; p++) {
		if (*p == '-' || *p == '_')
			return -1;
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	}
	if (gh_b64url_decode(a, b64, len, &raw, &len) != 0)
		return -1;
	for (i = 0; i < len; i++)
		if (raw[i] < ' ' || raw[i] == 0x7f)
			return -1;
	if ((colon = memchr(raw, ':', len)) == NULL)
		return -1;
	if ((*id = form_decode(a, (char *)raw, (size_t)(colon -
	    (char *)raw))) == NULL ||
	    (*secret = form_decode(a, colon + 1, len - (size_t)(colon + 1 -
	    (char *)raw))) == NULL) {
		*id = *secret = NULL;
		return -1;
	}
	return 0;
}

/* OIDC Core 3.1.3.6: base64url of the left half of the token's SHA-256. */
char *
oauth_at_hash(struct gh_arena *a, const char *token)
{
	unsigned char	 d[32];

	if (gh_sha256(token, strlen(token), d) != 0)
		return NULL;
	return gh_b64url_encode(a, d, 16);
}

/* Text for an HTML page or attribute: & < > " ' escaped. */
char *
oauth_html(struct gh_arena *a, const char *s)
{
	size_t	 n = 0, i;
	char	*out, *o;

	for (i = 0; s[i] != '\0'; i++)
		n += strchr("&<>\"'", s[i]) != NULL ? 6 : 1;
	if ((out = gh_alloc(a, n + 1)) == NULL)
		return NULL;
	for (o = out, i = 0; s[i] != '\0'; i++) {
		switch (s[i]) {
		case '&': memcpy(o, "&amp;", 5); o += 5; break;
		case '<': memcpy(o, "&lt;", 4); o += 4; break;
		case '>': memcpy(o, "&gt;", 4); o += 4; break;
		case '"': memcpy(o, "&quot;", 6); o += 6; break;
		case '\'': memcpy(o, "&#39;", 5); o += 5; break;
		default: *o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* A value for a redirect's query: everything but unreserved escaped. */
char *
oauth_query_escape(struct gh_arena *a, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t	 i;
	char	*out, *o;

	if ((out = gh_alloc(a, strlen(s) * 3 + 1)) == NULL)
		return NULL;
	for (o = out, i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_b64url(c) || c == '.' || c == '~')
			*o++ = (char)c;
		else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}
