/*
 * What the provider shows a browser: its pages, which work without
 * JavaScript and may not be framed; the CSRF cookie their forms are
 * checked against; and the provider session cookie, which lets a second
 * application sign in without the password again.
 */
#include <ctype.h>
#include <string.h>

#include "auth.h"
#include "oauth.h"

#define TOKEN_LEN	43	/* base64url of 32 bytes */

GH_SQL(SQL_IDP_GET) = {{
    "SELECT s.id, s.user_id, extract(epoch FROM s.auth_time)::bigint, "
    " array_to_json(s.amr)::text "
    "FROM idp_sessions s JOIN users u ON u.id = s.user_id "
    "WHERE s.token_hash = decode($1, 'hex') AND s.revoked_at IS NULL "
    "AND s.expires_at > now() AND NOT u.disabled" }};
enum { IG_ID, IG_USER, IG_AUTH_TIME, IG_AMR };

GH_SQL(SQL_IDP_NEW) = {{
    "INSERT INTO idp_sessions (token_hash, user_id, amr, expires_at) "
    "VALUES (decode($1, 'hex'), $2, string_to_array($3, ' '), "
    " now() + make_interval(secs => $4::int)) "
    "RETURNING id, extract(epoch FROM auth_time)::bigint, "
    " array_to_json(amr)::text" }};
enum { IN_ID, IN_AUTH_TIME, IN_AMR };

static const char page_head[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>%s</title><style>"
    "body{font:16px/1.5 system-ui,sans-serif;max-width:26rem;margin:3rem auto;"
    "padding:0 1rem;color:#222}label{display:block;margin:.8rem 0 .2rem}"
    "input[type=text],input[type=password]{width:100%%;padding:.5rem;"
    "box-sizing:border-box}button{margin:1rem .5rem 0 0;padding:.5rem 1rem}"
    ".error{color:#a00}</style></head><body>\n<h1>%s</h1>\n%s\n</body></html>\n";

/*
 * The CSP source of the client's redirect URI: its origin (a scheme for
 * a native app's), so that the 303 after a form post may go there; a
 * browser applies form-action to where the post is redirected.  NULL for
 * anything that is not plainly a source expression.
 */
static char *
form_target(struct gh_req *req, const char *uri)
{
	const char	*p, *end;
	char		*src;
	size_t		 i;

	if (uri == NULL || (p = strchr(uri, ':')) == NULL)
		return NULL;
	if (strncmp(p, "://", 3) == 0) {
		end = strchr(p + 3, '/');
		end = end == NULL ? p + strlen(p) : end;
	} else
		end = p + 1;
	if ((src = gh_printf(&req->arena, "%.*s", (int)(end - uri), uri)) ==
	    NULL)
		return NULL;
	for (i = 0; src[i] != '\0'; i++)
		if (!isalnum((unsigned char)src[i]) &&
		    strchr(".:+-/[]", src[i]) == NULL)
			return NULL;
	return src;
}

/*
 * A page.  Its policy allows no script, no frame around it, and forms
 * posting only back here (and, when redirect_uri is given, redirected on
 * to that client); title is escaped, body_html must be.
 */
int
oauth_page_to(struct gh_req *req, int status, const char *title,
    const char *body_html, const char *redirect_uri)
{
	char	*t, *html, *to;

	to = form_target(req, redirect_uri);
	if ((t = oauth_html(&req->arena, title)) == NULL ||
	    (html = gh_printf(&req->arena, page_head, t, t,
	    body_html)) == NULL)
		return gh_problem(req, 500, "out of memory");
	gh_header(req, "Content-Security-Policy", gh_printf(&req->arena,
	    "default-src 'none'; style-src 'unsafe-inline'; "
	    "form-action 'self'%s%s; frame-ancestors 'none'; base-uri 'none'",
	    to != NULL ? " " : "", to != NULL ? to : ""));
	gh_header(req, "X-Frame-Options", "DENY");
	gh_header(req, "Referrer-Policy", "same-origin");
	gh_reply(req, status, "text/html; charset=utf-8", html, strlen(html));
	return -1;
}

int
oauth_page(struct gh_req *req, int status, const char *title,
    const char *body_html)
{
	return oauth_page_to(req, status, title, body_html, NULL);
}

int
oauth_error_page(struct gh_req *req, int status, const char *why)
{
	char	*w, *body;

	req->problem = why;
	if ((w = oauth_html(&req->arena, why)) == NULL ||
	    (body = gh_printf(&req->arena, "<p class=\"error\">%s</p>"
	    "<p>Go back to the application and try again.</p>", w)) == NULL)
		return gh_problem(req, 500, "out of memory");
	return oauth_page(req, status, "Sign-in request refused", body);
}

static int
is_token(const char *s)
{
	size_t	 i;

	if (s == NULL || strlen(s) != TOKEN_LEN)
		return 0;
	for (i = 0; i < TOKEN_LEN; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

/*
 * The browser's CSRF token: the cookie it has, so that two tabs keep
 * working, or a new one.  SameSite=Strict: another site's form never
 * carries it, and its pages cannot read it to copy into a form.
 */
const char *
oauth_csrf_cookie(struct gh_req *req)
{
	const char	*c = gh_cookie(req, OAUTH_CSRF_COOKIE);

	if (is_token(c))
		return c;
	if ((c = gh_random_token(&req->arena, 32)) == NULL)
		return NULL;
	gh_header(req, "Set-Cookie", gh_printf(&req->arena,
	    OAUTH_CSRF_COOKIE "=%s; Path=" OAUTH_BASE "; HttpOnly;%s "
	    "SameSite=Strict", c, auth_cfg.cookie_secure ? " Secure;" : ""));
	return c;
}

/*
 * Whether a form post comes from the provider's own page: the form's
 * token equals the cookie (double submit), and the browser, when it
 * says where the post comes from, says it is the issuer's origin.
 */
int
oauth_csrf_ok(struct gh_req *req, const char *form_csrf)
{
	const char	*origin, *site, *cookie;

	origin = gh_header_in(req, "Origin");
	if (origin != NULL && strcmp(origin, oauth_cfg.origin) != 0)
		return 0;
	site = gh_header_in(req, "Sec-Fetch-Site");
	if (site != NULL && strcmp(site, "cross-site") == 0)
		return 0;
	cookie = gh_cookie(req, OAUTH_CSRF_COOKIE);
	if (!is_token(cookie) || !is_token(form_csrf))
		return 0;
	return gh_ct_equal(cookie, form_csrf, TOKEN_LEN);
}

static int
idp_row(struct gh_req *req, PGresult *res, int cid, int cuser, int ctime,
    int camr, const char *user_id, struct oauth_idp *s)
{
	struct gh_row	 r = GH_ROW(res, 0);

	s->id = gh_row_str(&r, cid);
	s->user_id = cuser < 0 ? user_id : gh_row_str(&r, cuser);
	s->auth_time = gh_row_int(&r, ctime);
	s->amr = gh_row_str(&r, camr);
	return gh_row_failed(req, &r) ? -1 : 0;
}

/*
 * The browser's live provider session: 1 with s filled, 0 when it has
 * none (or one that ended), -1 having answered.
 */
int
oauth_idp_current(struct gh_req *req, struct oauth_idp *s)
{
	const char	*c = gh_cookie(req, OAUTH_IDP_COOKIE), *hex;
	PGresult	*res;

	memset(s, 0, sizeof(*s));
	if (!is_token(c))
		return 0;
	if ((hex = oauth_hash_hex(req, c)) == NULL)
		return gh_problem(req, 500, "out of memory");
	if ((res = gh_db_query(req, SQL_IDP_GET, 1, &hex)) == NULL)
		return -1;
	if (gh_rows(res) == 0)
		return 0;
	return idp_row(req, res, IG_ID, IG_USER, IG_AUTH_TIME, IG_AMR, NULL,
	    s) == 0 ? 1 : -1;
}

/*
 * A new provider session for a user who just signed in, in the caller's
 * transaction; the cookie lasts as long as the browser does, and the
 * row GH_IDP_SESSION_TTL at most.
 */
int
oauth_idp_start(struct gh_req *req, const char *user_id, const char *amr,
    struct oauth_idp *s)
{
	PGresult	*res;
	const char	*tok, *p[4];

	memset(s, 0, sizeof(*s));
	if ((tok = gh_random_token(&req->arena, 32)) == NULL ||
	    (p[0] = oauth_hash_hex(req, tok)) == NULL ||
	    (p[3] = gh_printf(&req->arena, "%lld", oauth_cfg.idp_ttl)) == NULL)
		return gh_problem(req, 500, "internal error");
	p[1] = user_id;
	p[2] = amr;
	if ((res = gh_db_query(req, SQL_IDP_NEW, 4, p)) == NULL)
		return -1;
	if (idp_row(req, res, IN_ID, -1, IN_AUTH_TIME, IN_AMR, user_id,
	    s) != 0)
		return -1;
	gh_header(req, "Set-Cookie", gh_printf(&req->arena,
	    OAUTH_IDP_COOKIE "=%s; Path=" OAUTH_BASE "; HttpOnly;%s "
	    "SameSite=Lax", tok, auth_cfg.cookie_secure ? " Secure;" : ""));
	return 0;
}

void
oauth_idp_cookie_clear(struct gh_req *req)
{
	gh_header(req, "Set-Cookie", gh_printf(&req->arena,
	    OAUTH_IDP_COOKIE "=; Path=" OAUTH_BASE "; Max-Age=0; HttpOnly;%s "
	    "SameSite=Lax", auth_cfg.cookie_secure ? " Secure;" : ""));
}
