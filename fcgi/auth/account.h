/*
 * account.c: the signed-in account, one home for each of its rules: the
 * session lookup every signed-in action starts with, the password asked
 * again before a sensitive one, how a user is written in an answer, and
 * the browser's refresh cookie.
 */
#ifndef AUTH_ACCOUNT_H
#define AUTH_ACCOUNT_H

#include "auth.h"

/*
 * The public columns of a user, first in every statement that returns a
 * user; a statement's own columns follow, numbered from UC__COUNT.
 */
#define USER_COLS	"u.id, u.username, u.email, u.role, " \
			TS("u.created_at") ", u.email_verified_at IS NOT NULL, " \
			"EXISTS (SELECT 1 FROM user_totp t WHERE " \
			"t.user_id = u.id AND t.confirmed_at IS NOT NULL)"
enum { UC_ID, UC_USERNAME, UC_EMAIL, UC_ROLE, UC_CREATED, UC_EMAIL_VERIFIED,
    UC_TOTP, UC__COUNT };

#define AUTH_REFRESH_COOKIE	"gh_refresh"

PGresult	*auth_session(struct gh_req *, const char *role);
int		 auth_password_recheck(struct gh_req *, const char *field,
		    const char *pw);
json_t		*auth_user_json(struct gh_row *);
json_t		*auth_user_body(struct gh_req *, const PGresult *);
const char	*auth_taken_field(const PGresult *);
int		 auth_reply_taken(struct gh_req *, PGresult *);
void		 auth_refresh_cookie(struct gh_req *, const char *token,
		    long long max_age);

#endif
