/*
 * recovery.c: what the password reset's handlers (reset.c) share: the
 * settings, the account a reset is for, a reset link mailed in the
 * caller's transaction, and the end of everything an account is signed
 * in with.
 */
#ifndef AUTH_RECOVERY_H
#define AUTH_RECOVERY_H

struct gh_req;

struct auth_recovery_settings {
	long long	 ttl;		/* seconds a link works */
	long long	 login_limit;	/* requests an hour per login typed */
	long long	 net_limit;	/* requests an hour per client address */
	long long	 account_limit;	/* links an hour per account */
};

extern struct auth_recovery_settings auth_recovery_cfg;

/* An account as a reset sees it; id is NULL when there is none. */
struct auth_recovery_user {
	const char	*id;
	const char	*username;
	const char	*email;
	int		 disabled;
	int		 mailable;	/* the outbox takes its address */
};

int		 auth_recovery_setup(void);
int		 auth_recovery_find(struct gh_req *, const char *login,
		    const char *id, struct auth_recovery_user *);
int		 auth_recovery_issue(struct gh_req *,
		    const struct auth_recovery_user *, const char *by,
		    const char **expires_at);
long long	 auth_recovery_end_all(struct gh_req *, const char *user_id,
		    const char *reason);

#endif
