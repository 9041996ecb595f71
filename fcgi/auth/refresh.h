/*
 * refresh.c: a session's tokens, for every kind of session (the JSON
 * sign-in's and an OAuth client's): a new access and refresh token, and
 * refresh-token rotation with reuse detection.  A session is a family of
 * refresh tokens: each refresh retires the token presented and hands out
 * a new one; a retired token presented again after the grace window
 * revokes the whole family.
 */
#ifndef AUTH_REFRESH_H
#define AUTH_REFRESH_H

#include "gatehouse.h"

#define AUTH_REFRESH_BYTES	32

enum auth_rotation_state {
	AUTH_ROTATE_LIVE,	/* the live token, or one retired in grace */
	AUTH_ROTATE_UNKNOWN,	/* no such token */
	AUTH_ROTATE_ENDED,	/* session revoked, expired, user disabled */
	AUTH_ROTATE_REUSED	/* retired past the grace window: stolen */
};

/* A refresh token's session, locked for the caller's transaction. */
struct auth_rotation {
	enum auth_rotation_state state;
	const PGresult	*user;		/* USER_COLS first */
	const char	*uid;
	const char	*sid;
	const char	*client_id;	/* NULL for a first-party session */
	const char	*scope;		/* NULL for a first-party session */
};

int	 auth_tokens_new(struct gh_req *, const char *sid, const char *sub,
	    const char *role, char **access, char **refresh);
int	 auth_tokens_new_bound(struct gh_req *, const char *sid,
	    const char *sub, const char *role, const char *jkt, char **access,
	    char **refresh);
int	 auth_rotation_find(struct gh_req *, const char *token,
	    struct auth_rotation *);
int	 auth_rotation_reused(struct gh_req *, const struct auth_rotation *);
int	 auth_rotation_retire(struct gh_req *, const struct auth_rotation *);

#endif
