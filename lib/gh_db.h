/*
 * One PostgreSQL connection per worker, opened on first use and opened
 * again when the server went away.  Statements are parameterized only.
 */
#ifndef GH_DB_H
#define GH_DB_H

#include <libpq-fe.h>

struct gh_req;

/* A timestamp column as RFC 3339 UTC text, the way every answer writes times. */
#define GH_SQL_TS(col)	"to_char(" col " AT TIME ZONE 'UTC', " \
			"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* gh_db.c */
int		 gh_db_setup(const char *application_name);
void		 gh_db_close(void);
int		 gh_db_status(const char *sqlstate);
PGresult	*gh_db_exec(struct gh_req *, const char *sql, int nparams,
		    const char *const *params);
PGresult	*gh_db_query(struct gh_req *, const char *sql, int nparams,
		    const char *const *params);
int		 gh_db_reply_error(struct gh_req *, PGresult *);
int		 gh_db_begin(struct gh_req *);
/* 0 committed; -1 not (answered); GH_DB_UNKNOWN the connection was lost
 * at COMMIT, which may or may not have taken (answered 503). */
#define GH_DB_UNKNOWN	(-2)
int		 gh_db_commit(struct gh_req *);
void		 gh_db_rollback(struct gh_req *);
void		 gh_db_request_end(void);
int		 gh_db_ping(void);

#endif
