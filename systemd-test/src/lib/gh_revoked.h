/*
 * Revocation that reaches every service.  Payment and media verify access
 * tokens with the public keys alone, so an ended session's token would
 * pass until it expires.  gatehouse-revoked follows auth's feed of ended
 * sessions and of users whose older tokens must stop working, and keeps
 * them in one small file per host (GH_REVOKED_FILE); every worker looks
 * at the file's identity once per request (one stat) and reads it again
 * only when it changed.
 *
 * The file, replaced whole by rename:
 *	gatehouse-revoked 1 <unix time written>
 *	s <session id>
 *	u <user id> <unix time: tokens issued before it are refused>
 */
#ifndef GH_REVOKED_H
#define GH_REVOKED_H

#include <stddef.h>
#include <time.h>

struct gh_claims;

#define GH_REVOKED_MAX	200000	/* entries; a longer file is refused */

struct gh_revoked_user {
	char		 id[37];
	long long	 not_before;
};

struct gh_revoked {
	char			(*sessions)[37];	/* sorted */
	size_t			 nsessions;
	struct gh_revoked_user	*users;			/* sorted by id */
	size_t			 nusers;
	long long		 written;	/* when the feeder wrote it */
};

/* gh_revoked.c */
int	 gh_revoked_parse(const char *, size_t, struct gh_revoked *);
void	 gh_revoked_clear(struct gh_revoked *);
int	 gh_revoked_has(const struct gh_revoked *, const struct gh_claims *);
int	 gh_revoked_setup(void);
int	 gh_revoked_check(const struct gh_claims *, time_t now);
int	 gh_revoked_write(const char *path, const char *const *sessions,
	    size_t nsessions, const char *const *users,
	    const long long *not_before, size_t nusers, time_t now);

#endif
