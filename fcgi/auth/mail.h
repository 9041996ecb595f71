/* mail.c: messages queued in the caller's transaction. */
#ifndef AUTH_MAIL_H
#define AUTH_MAIL_H

#include <jansson.h>

struct gh_req;

int		 auth_mail_queue(struct gh_req *, const char *to,
		    const char *template, json_t *params);
char		*auth_mail_token(struct gh_req *, char **hash);

#endif
