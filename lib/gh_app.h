/*
 * A service: a name and a route table, run as a FastCGI worker that
 * serves one request at a time until it is told to stop.
 */
#ifndef GH_APP_H
#define GH_APP_H

#include <stddef.h>

struct gh_req;

typedef void	(*gh_handler)(struct gh_req *);

struct gh_route {
	const char	*method;
	const char	*pattern;	/* "/api/v1/payments/{reference}" */
	gh_handler	 handler;
};

struct gh_app {
	const char		*name;		/* "auth" */
	const struct gh_route	*routes;	/* ends with { NULL } */
	int			(*init)(void);	/* may be NULL */
};

enum gh_match {
	GH_MATCH_FOUND,
	GH_MATCH_METHOD,	/* the path exists, not with this method */
	GH_MATCH_NONE
};

/* gh_app.c */
int		 gh_app_main(const struct gh_app *, int, char **);
enum gh_match	 gh_route_match(struct gh_req *, const struct gh_route *,
		    const struct gh_route **, char *allow, size_t allowlen);
void		 gh_dispatch(const struct gh_app *, struct gh_req *);
void		 gh_req_init(struct gh_req *, const struct gh_app *);
void		 gh_req_start(struct gh_req *);
void		 gh_req_end(struct gh_req *);
void		 gh_handle_ping(struct gh_req *);
void		 gh_handle_health(struct gh_req *);
int		 gh_stopping(void);
void		 gh_app_slow(void);

#endif
