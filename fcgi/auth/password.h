/* password.c: what a username, an e-mail and a password must be. */
#ifndef AUTH_PASSWORD_H
#define AUTH_PASSWORD_H

#define AUTH_USERNAME_MAX	40	/* characters */
#define AUTH_EMAIL_MAX		254
#define AUTH_PW_MIN		12	/* code points */
#define AUTH_PW_MAX		128

const char	*auth_valid_username(const char *);
const char	*auth_valid_email(const char *);
const char	*auth_password_weak(const char *pw, const char *username,
		    const char *email);

#endif
