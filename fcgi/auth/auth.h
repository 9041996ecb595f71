/* gatehouse-auth: shared between its source files. */
#ifndef AUTH_H
#define AUTH_H

#include "gatehouse.h"

struct auth_settings {
	struct gh_argon2 argon2;
	long long	 refresh_ttl;		/* seconds */
	long long	 refresh_grace;		/* seconds a retired token still works */
	long long	 login_free;		/* failures before the delay starts */
	long long	 login_delay_max;	/* seconds */
	long long	 availability_limit;	/* lookups a minute per address */
	long long	 register_limit;	/* sign-ups an hour per address */
	int		 cookie_secure;
};

extern struct auth_settings auth_cfg;

/* RFC 3339 UTC, as every answer writes times. */
#define TS(col)	GH_SQL_TS(col)
/* The public columns of a user, in the order auth_user_json reads them. */
#define USER_COLS	"u.id, u.username, u.email, u.role, " TS("u.created_at")
#define USER_NCOLS	5

/* password.c */
const char	*auth_password_weak(const char *pw, const char *username,
		    const char *email);
const char	*auth_valid_username(const char *);
const char	*auth_valid_email(const char *);

/* audit.c */
int		 auth_audit(struct gh_req *, const char *event,
		    const char *user_id, const char *detail_json);
int		 auth_throttle(struct gh_req *, const char *key,
		    long long limit, long long window_s, const char *what);

/* users.c */
void		 auth_register(struct gh_req *);
PGresult	*auth_session(struct gh_req *, const char *role);
void		 auth_me(struct gh_req *);
void		 auth_availability(struct gh_req *);
void		 auth_me_update(struct gh_req *);
void		 auth_me_password(struct gh_req *);
void		 auth_me_delete(struct gh_req *);
json_t		*auth_user_json(PGresult *, int row, int col);

/* sessions.c */
int		 auth_account_may_try(struct gh_req *, const char *user_id);
void		 auth_account_failed(struct gh_req *, const char *user_id);
void		 auth_login(struct gh_req *);
void		 auth_refresh(struct gh_req *);
void		 auth_logout(struct gh_req *);
void		 auth_logout_all(struct gh_req *);
void		 auth_jwks(struct gh_req *);
void		 auth_sessions_list(struct gh_req *);
void		 auth_session_end(struct gh_req *);

/* totp.c */
int		 auth_totp_check(struct gh_req *, const char *uid,
		    const char *code, const char *recovery, int *ok);
void		 auth_totp_enroll(struct gh_req *);
void		 auth_totp_confirm(struct gh_req *);
void		 auth_totp_disable(struct gh_req *);

/* admin.c */
void		 auth_admin_users(struct gh_req *);
void		 auth_admin_user_update(struct gh_req *);
int		 auth_cli_make_admin(const char *username);

#endif
