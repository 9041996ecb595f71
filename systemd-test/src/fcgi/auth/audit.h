/* audit.c: the audit trail. */
#ifndef AUTH_AUDIT_H
#define AUTH_AUDIT_H

struct gh_req;

int		 auth_audit(struct gh_req *, const char *event,
		    const char *user_id, const char *detail_json);

#endif
