/*
 * The handlers, for main.c's route table.  Each handler file includes
 * this only so that the compiler checks its definitions against these
 * prototypes: a handler calls helpers (account.h, audit.h, email.h, mfa.h,
 * otp.h, password.h, throttle.h), never another handler.
 */
#ifndef AUTH_HANDLERS_H
#define AUTH_HANDLERS_H

struct gh_req;

/* users.c: sign-up, availability, the profile */
void		 auth_register(struct gh_req *);
void		 auth_availability(struct gh_req *);
void		 auth_me(struct gh_req *);
void		 auth_me_update(struct gh_req *);
void		 auth_me_password(struct gh_req *);
void		 auth_me_delete(struct gh_req *);

/* users.c: the password checked before an account's deletion */
void		 auth_me_password_verify(struct gh_req *);

/* sessions.c: sign-in, tokens, sign-out, my sessions, the public keys */
void		 auth_login(struct gh_req *);
void		 auth_refresh(struct gh_req *);
void		 auth_logout(struct gh_req *);
void		 auth_logout_all(struct gh_req *);
void		 auth_jwks(struct gh_req *);
void		 auth_sessions_list(struct gh_req *);
void		 auth_session_end(struct gh_req *);

/* totp.c: turning a second factor on and off */
void		 auth_totp_enroll(struct gh_req *);
void		 auth_totp_confirm(struct gh_req *);
void		 auth_totp_disable(struct gh_req *);

/* admin.c: the user list, roles and disabling; the first admin */
void		 auth_admin_users(struct gh_req *);
void		 auth_admin_user_update(struct gh_req *);
int		 auth_cli_make_admin(const char *username);

/* emails.c: the links of e-mail verification and change, a new link */
void		 auth_email_verify(struct gh_req *);
void		 auth_email_confirm(struct gh_req *);
void		 auth_email_undo(struct gh_req *);
void		 auth_me_email_verification(struct gh_req *);

/* reset.c: a password reset by mail, and one an admin sends */
void		 auth_password_forgot(struct gh_req *);
void		 auth_password_reset(struct gh_req *);
void		 auth_admin_password_reset(struct gh_req *);

/* sweep.c */
int		 auth_cli_sweep(int, char **);

#endif
