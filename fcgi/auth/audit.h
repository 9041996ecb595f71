/* audit.c: the audit trail. */
#ifndef AUTH_AUDIT_H
#define AUTH_AUDIT_H

#include <jansson.h>

struct gh_req;

int		 auth_audit(struct gh_req *, const char *event,
		    const char *user_id, const char *detail_json);
int		 auth_audit_json(struct gh_req *, const char *event,
		    const char *user_id, json_t *detail);

#endif
