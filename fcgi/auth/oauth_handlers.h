/*
 * The provider's handlers, for main.c's route table (each oauth handler
 * file includes this only to have its definitions checked).
 */
#ifndef AUTH_OAUTH_HANDLERS_H
#define AUTH_OAUTH_HANDLERS_H

struct gh_req;

/* oauth_meta.c */
void		 oauth_discovery(struct gh_req *);

/* oauth_authorize.c: the browser's side */
void		 oauth_authorize(struct gh_req *);
void		 oauth_login(struct gh_req *);
void		 oauth_consent(struct gh_req *);

/* oauth_logout.c: RP-initiated logout */
void		 oauth_logout(struct gh_req *);
void		 oauth_logout_confirm(struct gh_req *);

/* oauth_par.c: pushed authorization requests */
void		 oauth_par(struct gh_req *);

/* oauth_token.c: the back channel */
void		 oauth_token(struct gh_req *);
void		 oauth_userinfo(struct gh_req *);
void		 oauth_revoke(struct gh_req *);
void		 oauth_introspect(struct gh_req *);

/* oauth_admin.c: clients, and a user's applications */
void		 oauth_admin_client_create(struct gh_req *);
void		 oauth_admin_clients(struct gh_req *);
void		 oauth_admin_client_get(struct gh_req *);
void		 oauth_admin_client_update(struct gh_req *);
void		 oauth_admin_client_secret(struct gh_req *);
void		 oauth_me_apps(struct gh_req *);
void		 oauth_me_app_remove(struct gh_req *);
int		 oauth_cli_add_client(int, char *[]);

#endif
