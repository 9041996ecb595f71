/*
 * One PostgreSQL connection per worker, opened on first use and opened
 * again when the server went away.  Statements are parameterized only.
 */
#ifndef GH_DB_H
#define GH_DB_H

#include <jansson.h>
#include <libpq-fe.h>

struct gh_arena;
struct gh_req;

/*
 * A statement.  Each is prepared once per connection and known by its
 * address, so every statement must be a constant that lives as long as
 * the program: declare it with GH_SQL at file scope,
 *
 *	GH_SQL(SQL_GET) = {{ "SELECT ... WHERE id = $1" }};
 *
 * The distinct type is the point: a string built at run time (which
 * could carry a client's text into the SQL, and would be prepared anew
 * at each address) cannot be passed where a statement is expected.  The
 * one-element array lets the name be passed as the pointer it decays to.
 */
struct gh_sql {
	const char	*text;
};
#define GH_SQL(name)	static const struct gh_sql name[1]

/*
 * A row of a result, read by the statement's column enum with getters
 * that check their conversion.  A getter that meets a NULL where it
 * wants a value, or text that is not its type, records the column in
 * bad and returns a zero value; the handler checks gh_row_failed once
 * when it has read the row.
 */
struct gh_row {
	const PGresult	*res;
	int		 row;
	int		 bad;		/* first column that failed, or -1 */
};
#define GH_ROW(res, i)	((struct gh_row){ (res), (i), -1 })

/* A timestamp column as RFC 3339 UTC text, the way every answer writes times. */
#define GH_SQL_TS(col)	"to_char(" col " AT TIME ZONE 'UTC', " \
			"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
/* The same to the microsecond, for a page's cursor: no two rows tie. */
#define GH_SQL_TS_KEY(col) "to_char(" col " AT TIME ZONE 'UTC', " \
			"'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* gh_db.c: connection */
int		 gh_db_setup(const char *application_name);
void		 gh_db_close(void);
int		 gh_db_status(const char *sqlstate);
int		 gh_db_ping(void);

/*
 * gh_db.c: statements without a request, for command-line entry points
 * (--make-admin, the media sweep).  The result belongs to the arena;
 * gh_db_ok tells whether it is a success; errors are logged, not
 * answered.  gh_db_run_commit returns 0, -1, or GH_DB_UNKNOWN.
 */
PGresult	*gh_db_run(struct gh_arena *, const struct gh_sql *,
		    int nparams, const char *const *params);
int		 gh_db_ok(const PGresult *);
int		 gh_db_run_begin(struct gh_arena *);
int		 gh_db_run_commit(struct gh_arena *);
int		 gh_db_wait(int timeout_ms);

/* gh_db.c: statements of a request; errors are answered */
PGresult	*gh_db_exec(struct gh_req *, const struct gh_sql *,
		    int nparams, const char *const *params);
PGresult	*gh_db_query(struct gh_req *, const struct gh_sql *,
		    int nparams, const char *const *params);
int		 gh_db_reply_error(struct gh_req *, PGresult *);
int		 gh_db_begin(struct gh_req *);
/* 0 committed; -1 not (answered); GH_DB_UNKNOWN the connection was lost
 * at COMMIT, which may or may not have taken (answered 503). */
#define GH_DB_UNKNOWN	(-2)
int		 gh_db_commit(struct gh_req *);
void		 gh_db_rollback(struct gh_req *);
void		 gh_db_request_end(void);

/* gh_db.c: typed columns */
int		 gh_row_null(const struct gh_row *, int col);
const char	*gh_row_str(struct gh_row *, int col);
const char	*gh_row_str_or_null(const struct gh_row *, int col);
long long	 gh_row_int(struct gh_row *, int col);
int		 gh_row_bool(struct gh_row *, int col);
const char	*gh_row_time(struct gh_row *, int col);
json_t		*gh_row_json_str(const struct gh_row *, int col);
json_t		*gh_row_json_int(struct gh_row *, int col);
json_t		*gh_row_json(struct gh_row *, int col);
int		 gh_row_failed(struct gh_req *, const struct gh_row *);
int		 gh_rows(const PGresult *);
/*
 * The first n rows of res as a JSON array, each made by row with the
 * gh_row_* reads: NULL, answered 500, when a read failed (gh_row_failed)
 * or memory ran out.
 */
json_t		*gh_rows_json(struct gh_req *, const PGresult *, int n,
		    json_t *(*row)(struct gh_row *));

#endif
