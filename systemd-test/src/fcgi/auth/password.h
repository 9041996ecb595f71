/*
 * password.c: what a username, an e-mail and a password must be.  The
 * validators are pure (the list of common passwords is read once, on
 * first use) and sit in the field tables as .valid; only the rule that
 * needs two fields at once is left to the handler.
 */
#ifndef AUTH_PASSWORD_H
#define AUTH_PASSWORD_H

#define AUTH_USERNAME_MAX	40	/* characters */
#define AUTH_EMAIL_MAX		254
#define AUTH_PW_MIN		12	/* code points */
#define AUTH_PW_MAX		128

const char	*auth_valid_username(const char *);
const char	*auth_valid_email(const char *);
const char	*auth_valid_password(const char *);
const char	*auth_password_personal(const char *pw, const char *username,
		    const char *email);

#endif
