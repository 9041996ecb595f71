/*
 * mfa.c: the second factor as stored, a user's TOTP secret and recovery
 * codes, for sign-in and for the handlers that turn it on and off.
 */
#ifndef AUTH_MFA_H
#define AUTH_MFA_H

#include "otp.h"

struct gh_req;

struct auth_totp {
	int		 enrolled;	/* a secret is stored */
	int		 confirmed;	/* and a code proved the app has it */
	long long	 last_step;	/* the last step accepted */
	unsigned char	 key[AUTH_OTP_KEYLEN];
};

int		 auth_totp_load(struct gh_req *, const char *uid,
		    struct auth_totp *);
int		 auth_totp_check(struct gh_req *, const char *uid,
		    const char *code, const char *recovery, int *ok);

#endif
