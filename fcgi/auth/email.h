/*
 * email.c: the links that prove an address (sql/auth/008), and the mail
 * that carries them: verification at sign-up and on request, a change
 * confirmed from the new address with a way back from the old one, and
 * an admin's change.  Everything runs in the caller's transaction; a
 * function that returns -1 has answered.
 */
#ifndef AUTH_EMAIL_H
#define AUTH_EMAIL_H

#include "gatehouse.h"

struct auth_email_settings {
	long long	 verify_ttl;	/* seconds a verify or confirm link works */
	long long	 undo_ttl;	/* seconds an undo link works */
	long long	 mail_limit;	/* link mails an hour, per account and
					   per address */
	int		 require_verified; /* no sign-in before verification */
};

extern struct auth_email_settings auth_email_cfg;

/* A link's purpose, as email_tokens stores it. */
#define AUTH_LINK_VERIFY	"verify"
#define AUTH_LINK_CHANGE	"change"
#define AUTH_LINK_UNDO		"undo"

int		 auth_email_setup(void);
const char	*auth_valid_link_token(const char *);

/* Mail that carries a link, throttled per account and per address. */
int		 auth_email_mail_hit(struct gh_req *, const char *uid,
		    const char *email, long long *retry);
int		 auth_email_mail_refused(struct gh_req *, long long retry);
int		 auth_email_verify_send(struct gh_req *, const char *uid,
		    const char *username, const char *email,
		    const char **expires);

/* Addresses: taken, or held by another account's way back. */
int		 auth_email_taken(struct gh_req *, const char *uid,
		    const char *email);
int		 auth_email_taken_reply(struct gh_req *);

/* Changes: asked by the user, confirmed, undone; made by an admin. */
int		 auth_email_change_start(struct gh_req *, const char *uid,
		    const char *username, const char *new_email,
		    const char **expires);
int		 auth_email_change_cancel(struct gh_req *, const char *uid);
int		 auth_email_pending(struct gh_req *, const char *uid,
		    json_t **pending);
int		 auth_email_changed_notice(struct gh_req *, const char *uid,
		    const char *username, const char *old_email,
		    int old_verified, const char *new_email);
int		 auth_email_admin_changed(struct gh_req *, const char *uid,
		    const char *username, const char *old_email,
		    int old_verified, const char *new_email);

/* A link presented to the API: its row and its account's, locked. */
enum auth_link_state {
	AUTH_LINK_LIVE,
	AUTH_LINK_UNKNOWN,	/* no such token for this purpose */
	AUTH_LINK_USED,
	AUTH_LINK_VOIDED,	/* replaced by a newer link, or moot */
	AUTH_LINK_EXPIRED,
	AUTH_LINK_MOVED,	/* verify: no longer the account's address */
	AUTH_LINK_DISABLED	/* the account is disabled */
};

struct auth_link {
	enum auth_link_state state;
	const char	*hash;		/* hex */
	const char	*uid;
	const char	*username;
	const char	*email;		/* the token's address */
	const char	*current;	/* the account's address now */
	int		 current_verified;
};

int		 auth_link_take(struct gh_req *, const char *token,
		    const char *purpose, struct auth_link *);
int		 auth_link_refused(struct gh_req *, const struct auth_link *);
int		 auth_link_spend(struct gh_req *, const struct auth_link *,
		    const char *void_purposes);
int		 auth_link_spend_undo(struct gh_req *,
		    const struct auth_link *);

#endif
