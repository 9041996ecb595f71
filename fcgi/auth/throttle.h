/*
 * throttle.c: the counters that slow down guessing, all in PostgreSQL so
 * that they hold across workers and hosts.  Each function that refuses
 * has answered 429 with Retry-After and returns -1.
 */
#ifndef AUTH_THROTTLE_H
#define AUTH_THROTTLE_H

struct gh_req;

/* Hits in a fixed window, per key (sign-ups, availability lookups). */
int		 auth_throttle(struct gh_req *, const char *key,
		    long long limit, long long window_s, const char *what);
int		 auth_throttle_hit(struct gh_req *, const char *key,
		    long long limit, long long window_s, long long *retry);
const char	*auth_client_net(struct gh_req *);

/*
 * Failed passwords, per identifier typed ("login:NAME") and per account,
 * with a delay that doubles past the free ones.  Sign-in checks both;
 * a password asked again on a signed-in action counts on the account.
 */
int		 auth_login_lock(struct gh_req *, const char *key);
int		 auth_login_may_try(struct gh_req *, const char *key,
		    const char *user_id);
int		 auth_login_failed(struct gh_req *, const char *key,
		    const char *user_id);
int		 auth_login_clear(struct gh_req *, const char *key,
		    const char *user_id);
int		 auth_account_may_try(struct gh_req *, const char *user_id);
void		 auth_account_failed(struct gh_req *, const char *user_id);

#endif
