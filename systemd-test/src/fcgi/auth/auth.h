/*
 * gatehouse-auth: its settings, which every source file of it reads.
 * Each helper file has its own header (account.h, audit.h, mfa.h, otp.h,
 * password.h, throttle.h); the handlers are declared in handlers.h.
 */
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

#endif
