/*
 * The rules of OAuth 2.1 and OpenID Connect that need no database: which
 * redirect URI matches, PKCE, scopes, client credentials in a Basic
 * header, at_hash, and escaping for the provider's pages.  Pure, so that
 * each rule is tested in-process (tests/unit/check_oauth.c).
 */
#ifndef OAUTH_RULES_H
#define OAUTH_RULES_H

#include <stddef.h>

struct gh_arena;

#define OAUTH_URI_MAX		2000
#define OAUTH_VERIFIER_MIN	43
#define OAUTH_VERIFIER_MAX	128

/* Scopes the provider knows, as bits. */
enum {
	OAUTH_SCOPE_OPENID	= 1 << 0,
	OAUTH_SCOPE_PROFILE	= 1 << 1,
	OAUTH_SCOPE_EMAIL	= 1 << 2,
	OAUTH_SCOPE_OFFLINE	= 1 << 3
};

/* oauth_rules.c */
const char	*oauth_redirect_uri_invalid(const char *uri);
int		 oauth_redirect_matches(const char *registered,
		    const char *given);
int		 oauth_challenge_valid(const char *challenge);
int		 oauth_pkce_verify(const char *verifier, const char *challenge);
int		 oauth_scope_parse(const char *scope, unsigned *mask);
char		*oauth_scope_text(struct gh_arena *, unsigned mask);
const char	*oauth_scope_words(unsigned bit);
int		 oauth_basic_credentials(struct gh_arena *, const char *header,
		    char **id, char **secret);
char		*oauth_at_hash(struct gh_arena *, const char *access_token);
char		*oauth_html(struct gh_arena *, const char *);
char		*oauth_query_escape(struct gh_arena *, const char *);

#endif
