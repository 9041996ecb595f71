/*
 * signin.c: the credential check, one for every way in (the JSON sign-in
 * and the provider's sign-in page), so that both are throttled, audited
 * and refused in the same way.
 */
#ifndef AUTH_SIGNIN_H
#define AUTH_SIGNIN_H

#include "gatehouse.h"

enum auth_signin_outcome {
	AUTH_SIGNIN_OK,		/* transaction open, user in si->user */
	AUTH_SIGNIN_WRONG,	/* counted and committed; not answered */
	AUTH_SIGNIN_DISABLED,	/* right password, disabled account */
	AUTH_SIGNIN_MFA,	/* right password, a code is needed */
	AUTH_SIGNIN_UNVERIFIED,	/* all right, but the address is not
				   verified and must be (committed; see
				   si->mailed) */
	AUTH_SIGNIN_ANSWERED	/* answered (429, 500, 503) */
};

/* What an unverified sign-in did about it. */
enum auth_signin_mailed {
	AUTH_MAILED_LINK,	/* a new verification link was mailed */
	AUTH_MAILED_RECENTLY,	/* not now: the mail throttle holds */
	AUTH_MAILED_CANNOT	/* the address cannot be mailed */
};

struct auth_signin {
	/* in */
	const char	*login;		/* what was typed */
	const char	*password;
	const char	*totp;		/* NULL when not given */
	const char	*recovery;
	const char	*event;		/* audit event on success */
	/* out */
	const PGresult	*user;		/* USER_COLS first */
	const char	*uid;
	int		 otp;		/* a second factor was checked */
	enum auth_signin_mailed mailed;	/* AUTH_SIGNIN_UNVERIFIED only */
};

enum auth_signin_outcome auth_signin_check(struct gh_req *,
		    struct auth_signin *);
enum auth_signin_outcome auth_signin_otp(struct gh_req *,
		    struct auth_signin *);
const char	*auth_signin_unverified_text(const struct auth_signin *);

#endif
