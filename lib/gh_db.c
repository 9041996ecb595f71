#include <poll.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>

#include "gh_config.h"
#include "gh_db.h"
#include "gh_json.h"
#include "gh_log.h"
#include "gh_req.h"

#define GH_DB_RETRY_AFTER	"5"

#define GH_DB_PREPARED_MAX	128

static PGconn	*conn;
static char	*db_password;
/* The connection string asks for a writable server (target_session_attrs). */
static int	 db_wants_primary;
/* libpq's tcp_user_timeout, in milliseconds: GH_DB_TCP_TIMEOUT seconds. */
static char	 db_tcp_timeout[16] = "10000";

/*
 * Statements prepared on the current connection, known by the address of
 * their text: every statement is a constant of its service, so the
 * address is its identity, and the text is parsed and planned once per
 * connection instead of once per request.
 */
static const struct gh_sql *prepared[GH_DB_PREPARED_MAX];
static size_t	 nprepared;
static const char *db_appname = "gatehouse";

/* Reads the settings once, at start, so a bad one stops the worker early. */
int
gh_db_setup(const char *application_name)
{
	long long	 secs;
	size_t		 len;

	db_appname = application_name;
	if (gh_config_int("GH_DB_TCP_TIMEOUT", 10, 0, 600, &secs) != 0)
		return -1;
	snprintf(db_tcp_timeout, sizeof(db_tcp_timeout), "%lld", secs * 1000);
	free(db_password);
	db_password = NULL;
	if (getenv("GH_DB_PASSWORD_FILE") != NULL &&
	    (db_password = gh_config_secret("GH_DB_PASSWORD", &len)) == NULL)
		return -1;
	return 0;
}

void
gh_db_close(void)
{
	if (conn != NULL)
		PQfinish(conn);
	conn = NULL;
	nprepared = 0;
}

/*
 * Runs sql as a prepared statement, preparing it on first use; a cache
 * that is full leaves the rest to PQexecParams (still parameterized).
 */
static PGresult *
exec_prepared(const struct gh_sql *sql, int nparams, const char *const *params)
{
	PGresult	*res;
	char		 name[16];
	size_t		 i;

	for (i = 0; i < nprepared; i++)
		if (prepared[i] == sql)
			break;
	if (i == GH_DB_PREPARED_MAX)
		return PQexecParams(conn, sql->text, nparams, NULL, params,
		    NULL, NULL, 0);
	snprintf(name, sizeof(name), "gh%zu", i);
	if (i == nprepared) {
		res = PQprepare(conn, name, sql->text, nparams, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			return res;
		PQclear(res);
		prepared[nprepared++] = sql;
	}
	return PQexecPrepared(conn, name, nparams, params, NULL, NULL, 0);
}

/*
 * Whether the idle connection is still open, asked without sending
 * anything.  A server that ends a connection (a restart, an
 * administrator's terminate) first sends an error and then closes it:
 * one read takes the error, and only the next one sees the end, so this
 * reads for as long as there is something to read.  Nothing to read is
 * the common case and costs one poll().  What else an idle connection may
 * receive (a notice, a NOTIFY for gh_db_wait) is parsed and kept.
 */
static int
db_idle_alive(void)
{
	struct pollfd	 pfd;
	int		 i;

	pfd.fd = PQsocket(conn);
	pfd.events = POLLIN;
	for (i = 0; i < 8; i++) {
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) <= 0)
			return 1;
		if (PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK)
			return 0;
		(void)PQisBusy(conn);
		if (PQstatus(conn) != CONNECTION_OK)
			return 0;
	}
	return 1;
}

/*
 * Whether the server of a connection that asked for a writable one has
 * become read-only since: a primary that Patroni demoted, or one an
 * administrator set default_transaction_read_only on.  The server reports
 * both settings by itself (PostgreSQL 14 and later), so this asks nothing.
 */
static int
db_became_read_only(void)
{
	const char	*v;

	if (!db_wants_primary)
		return 0;
	v = PQparameterStatus(conn, "in_hot_standby");
	if (v != NULL && strcmp(v, "on") == 0)
		return 1;
	v = PQparameterStatus(conn, "default_transaction_read_only");
	return v != NULL && strcmp(v, "on") == 0;
}

/* Whether the connection string asks for the primary (libpq parsed it). */
static int
db_conn_wants_primary(PGconn *c)
{
	PQconninfoOption	*opts, *o;
	int			 wants = 0;

	if ((opts = PQconninfo(c)) == NULL)
		return 0;
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "target_session_attrs") == 0 &&
		    o->val != NULL && (strcmp(o->val, "read-write") == 0 ||
		    strcmp(o->val, "primary") == 0))
			wants = 1;
	PQconninfoFree(opts);
	return wants;
}

static PGconn *
db_connect(void)
{
	const char	*keys[7], *vals[7];
	int		 n = 0;

	/*
	 * An idle connection the server has closed (a restart) is found out
	 * here, before a statement is sent on it, so that the statement goes
	 * to a new one instead of failing where it might have run.  So is one
	 * to a primary that has become read-only (a failover): libpq then
	 * looks for the writable one among the hosts of the string.
	 */
	if (conn != NULL && PQstatus(conn) == CONNECTION_OK &&
	    PQtransactionStatus(conn) == PQTRANS_IDLE && !db_idle_alive())
		gh_log_warnx("db", "the idle connection was closed; "
		    "reconnecting");
	else if (conn != NULL && PQstatus(conn) == CONNECTION_OK &&
	    PQtransactionStatus(conn) == PQTRANS_IDLE && db_became_read_only())
		gh_log_warnx("db", "the server %s is read-only now; "
		    "looking for the primary", PQhost(conn));
	else if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
		return conn;
	gh_db_close();
	/*
	 * A server that is cut off (a partition, a host powered off) answers
	 * nothing, not even a reset: without this a statement sent to it
	 * waits, with its worker, until the partition heals or TCP gives up
	 * (a quarter of an hour).
	 * Unacknowledged data now fails the connection after this long (a
	 * slow statement is not affected: the server's kernel acknowledges
	 * at once), and the worker answers 503 and looks for the primary.
	 * Before dbname, so that GH_DB may set its own; unix sockets ignore it.
	 */
	if (strcmp(db_tcp_timeout, "0") != 0) {
		keys[n] = "tcp_user_timeout";
		vals[n++] = db_tcp_timeout;
	}
	/* dbname carries the whole conninfo (expand_dbname = 1). */
	keys[n] = "dbname";
	vals[n++] = gh_config_str("GH_DB", "dbname=gatehouse");
	keys[n] = "application_name";
	vals[n++] = db_appname;
	keys[n] = "connect_timeout";
	vals[n++] = gh_config_str("GH_DB_CONNECT_TIMEOUT", "3");
	if (db_password != NULL) {
		keys[n] = "password";
		vals[n++] = db_password;
	}
	keys[n] = NULL;
	vals[n] = NULL;
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		gh_log_warnx("db_connect", "cannot connect: %s",
		    conn != NULL ? PQerrorMessage(conn) : "out of memory");
		gh_db_close();
		return NULL;
	}
	db_wants_primary = db_conn_wants_primary(conn);
	return conn;
}

/*
 * SQLSTATE to HTTP status: what the client did wrong, or what is worth
 * retrying, or the server's own fault.
 */
int
gh_db_status(const char *state)
{
	if (state == NULL || strlen(state) != 5)
		return 500;
	if (strcmp(state, "23505") == 0 ||	/* unique_violation */
	    strcmp(state, "23P01") == 0 ||	/* exclusion_violation */
	    strcmp(state, "40001") == 0 ||	/* serialization_failure */
	    strcmp(state, "40P01") == 0 ||	/* deadlock_detected */
	    strcmp(state, "55P03") == 0)	/* lock_not_available */
		return 409;
	if (strcmp(state, "23503") == 0 ||	/* foreign_key_violation */
	    strcmp(state, "23502") == 0 ||	/* not_null_violation */
	    strcmp(state, "23514") == 0)	/* check_violation */
		return 422;
	if (strncmp(state, "22", 2) == 0)	/* data exception */
		return 400;
	if (strncmp(state, "08", 2) == 0 ||	/* connection exception */
	    strncmp(state, "53", 2) == 0 ||	/* insufficient resources */
	    strncmp(state, "57P", 3) == 0)	/* shutdown, cannot connect */
		return 503;
	if (strcmp(state, "57014") == 0 ||	/* query_canceled (timeout) */
	    strcmp(state, "25006") == 0)	/* read_only_sql_transaction */
		return 503;
	return 500;
}

static int
reply_unavailable(struct gh_req *req)
{
	gh_header(req, "Retry-After", GH_DB_RETRY_AFTER);
	return gh_problem(req, 503, "the database is unavailable; "
	    "try again shortly");
}

/*
 * Answers for a failed statement.  The client sees the class of the
 * failure; the server's message goes to the log only.
 */
int
gh_db_reply_error(struct gh_req *req, PGresult *res)
{
	const char	*state;
	int		 status;

	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	status = state != NULL ? gh_db_status(state) : 503;
	gh_log_warnx("db", "request %s: %s %s", req->request_id ?
	    req->request_id : "-", state != NULL ? state : "-",
	    res != NULL ? PQresultErrorMessage(res) :
	    conn != NULL ? PQerrorMessage(conn) : "no connection");
	switch (status) {
	case 503:
		return reply_unavailable(req);
	case 409:
		return gh_problem(req, 409, "the change conflicts with the "
		    "current state (%s)", state);
	case 422:
		return gh_problem(req, 422, "the change breaks a rule of the "
		    "data (%s)", state);
	case 400:
		return gh_problem(req, 400, "a value is not valid (%s)",
		    state);
	default:
		return gh_problem(req, 500, "internal error");
	}
}

static void
res_free(void *p)
{
	PQclear(p);
}

int
gh_db_ok(const PGresult *res)
{
	ExecStatusType	 st;

	if (res == NULL)
		return 0;
	st = PQresultStatus(res);
	return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

/*
 * What may be sent again when the connection died under it: a statement
 * that changes nothing (BEGIN, a plain SELECT).  Anything else may have
 * run before the server went away, and must not run twice.
 */
static int
replayable(const struct gh_sql *stmt)
{
	const char	*sql = stmt->text;

	while (*sql == ' ' || *sql == '\t' || *sql == '\n')
		sql++;
	return (strncasecmp(sql, "SELECT", 6) == 0 && !isalnum((unsigned char)
	    sql[6])) || (strncasecmp(sql, "BEGIN", 5) == 0 &&
	    !isalnum((unsigned char)sql[5]));
}

/*
 * A write that a read-only server refused (25006): the primary has moved
 * (a failover, a switchover) while this connection stayed with the old
 * one.  The statement did not run.  The connection goes, so that the next
 * statement connects anew and libpq finds the writable host; this one is
 * answered 503 with Retry-After (gh_db_status), and a client that retries
 * finds the new primary.  Not sent again here: inside a transaction the
 * statements before it ran on the old server and are gone with it.
 */
static int
db_refused_read_only(const PGresult *res)
{
	const char	*state;

	if (res == NULL || gh_db_ok(res))
		return 0;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (state == NULL || strcmp(state, "25006") != 0)
		return 0;
	gh_log_warnx("db", "the server %s refused a write as read-only; "
	    "dropping the connection to find the primary", PQhost(conn));
	gh_db_close();
	return 1;
}

GH_SQL(sql_begin) = {{ "BEGIN" }};
GH_SQL(sql_commit) = {{ "COMMIT" }};

/*
 * Runs one parameterized statement and returns its result, good or bad;
 * NULL only when there is no connection.  The result belongs to the
 * arena (cleared when it is).  A statement that finds the connection
 * dead outside a transaction is sent once more on a new connection, if
 * it changes nothing (the server restarted); any other is not, as it
 * may have run, and the next one gets a new connection.
 */
PGresult *
gh_db_run(struct gh_arena *arena, const struct gh_sql *sql, int nparams,
    const char *const *params)
{
	PGresult	*res;
	int		 idle, attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		if (db_connect() == NULL)
			return NULL;
		idle = PQtransactionStatus(conn) == PQTRANS_IDLE;
		res = exec_prepared(sql, nparams, params);
		if (db_refused_read_only(res))
			break;
		if (gh_db_ok(res) || PQstatus(conn) == CONNECTION_OK || !idle)
			break;
		if (!replayable(sql)) {
			gh_log_warnx("db", "connection lost under a statement "
			    "that may have run: not sent again");
			PQclear(res);
			res = NULL;
			gh_db_close();
			break;
		}
		PQclear(res);
		res = NULL;
		gh_log_warnx("db", "connection lost; reconnecting");
		gh_db_close();
	}
	if (res != NULL && gh_defer(arena, res_free, res) != 0) {
		PQclear(res);
		return NULL;
	}
	return res;
}

/* Begins a transaction for a command-line entry point: 0 or -1. */
int
gh_db_run_begin(struct gh_arena *arena)
{
	PGresult	*res = gh_db_run(arena, sql_begin, 0, NULL);

	if (!gh_db_ok(res)) {
		gh_log_warnx("db", "BEGIN: %s", res != NULL ?
		    PQresultErrorMessage(res) : "no connection");
		return -1;
	}
	return 0;
}

#define COMMIT_FAILED		(-1)	/* an error result: reply_error says */
#define COMMIT_ROLLED_BACK	(-3)

/*
 * What a COMMIT's result means.  One of a transaction that failed comes
 * back "ROLLBACK" with a good status: that is a failure too.  A
 * connection that died at COMMIT leaves the outcome unknown.
 */
static int
commit_outcome(PGresult *res)
{
	if (!gh_db_ok(res)) {
		if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
			gh_log_errx("db", "the connection was lost at COMMIT; "
			    "its outcome is unknown");
			return GH_DB_UNKNOWN;
		}
		return COMMIT_FAILED;
	}
	if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		gh_log_errx("db", "COMMIT rolled back");
		return COMMIT_ROLLED_BACK;
	}
	return 0;
}

/* COMMIT for a command-line entry point: 0, -1 or GH_DB_UNKNOWN. */
int
gh_db_run_commit(struct gh_arena *arena)
{
	PGresult	*res = gh_db_run(arena, sql_commit, 0, NULL);
	int		 rc = commit_outcome(res);

	if (rc == COMMIT_FAILED)
		gh_log_warnx("db", "COMMIT: %s", PQresultErrorMessage(res));
	return rc == GH_DB_UNKNOWN ? rc : rc == 0 ? 0 : -1;
}

/* gh_db_run for a request. */
PGresult *
gh_db_exec(struct gh_req *req, const struct gh_sql *sql, int nparams,
    const char *const *params)
{
	return gh_db_run(&req->arena, sql, nparams, params);
}

/* Like gh_db_exec, but answers the error itself and returns NULL. */
PGresult *
gh_db_query(struct gh_req *req, const struct gh_sql *sql, int nparams,
    const char *const *params)
{
	PGresult	*res;

	res = gh_db_exec(req, sql, nparams, params);
	if (res == NULL) {
		reply_unavailable(req);
		return NULL;
	}
	if (!gh_db_ok(res)) {
		gh_db_reply_error(req, res);
		return NULL;
	}
	return res;
}

/* Idempotent: a helper may begin what its caller already began. */
int
gh_db_begin(struct gh_req *req)
{
	if (conn != NULL && PQstatus(conn) == CONNECTION_OK &&
	    PQtransactionStatus(conn) == PQTRANS_INTRANS)
		return 0;
	return gh_db_query(req, sql_begin, 0, NULL) == NULL ? -1 : 0;
}

/* COMMIT for a request: the client hears of a failure, never otherwise. */
int
gh_db_commit(struct gh_req *req)
{
	PGresult	*res = gh_db_exec(req, sql_commit, 0, NULL);

	switch (commit_outcome(res)) {
	case 0:
		return 0;
	case GH_DB_UNKNOWN:
		gh_log_errx("db", "request %s: outcome unknown",
		    req->request_id ? req->request_id : "-");
		reply_unavailable(req);
		return GH_DB_UNKNOWN;
	case COMMIT_FAILED:
		return gh_db_reply_error(req, res);
	default:
		return gh_problem(req, 500, "internal error");
	}
}

void
gh_db_rollback(struct gh_req *req)
{
	(void)req;
	gh_db_request_end();
}

/*
 * No request leaves a transaction open for the next one: whatever a
 * handler did not commit is rolled back here.
 */
void
gh_db_request_end(void)
{
	PGresult	*res;

	if (conn == NULL || PQtransactionStatus(conn) == PQTRANS_IDLE)
		return;
	res = PQexec(conn, "ROLLBACK");
	PQclear(res);
	if (PQtransactionStatus(conn) != PQTRANS_IDLE)
		gh_db_close();
}

/* For health checks: 0 when a round trip to the server works. */
int
gh_db_ping(void)
{
	PGresult	*res;
	int		 attempt, ok = 0;

	for (attempt = 0; attempt < 2 && !ok; attempt++) {
		if (db_connect() == NULL)
			return -1;
		res = PQexec(conn, "SELECT 1");
		ok = PQresultStatus(res) == PGRES_TUPLES_OK;
		PQclear(res);
		if (!ok && PQstatus(conn) != CONNECTION_OK)
			gh_db_close();
		else
			break;
	}
	return ok ? 0 : -1;
}

int
gh_rows(const PGresult *res)
{
	return res == NULL ? 0 : PQntuples(res);
}

int
gh_row_null(const struct gh_row *r, int col)
{
	return PQgetisnull(r->res, r->row, col);
}

static void
row_bad(struct gh_row *r, int col)
{
	if (r->bad < 0)
		r->bad = col;
}

/* Text of a column that must not be NULL. */
const char *
gh_row_str(struct gh_row *r, int col)
{
	if (PQgetisnull(r->res, r->row, col)) {
		row_bad(r, col);
		return "";
	}
	return PQgetvalue(r->res, r->row, col);
}

const char *
gh_row_str_or_null(const struct gh_row *r, int col)
{
	return PQgetisnull(r->res, r->row, col) ? NULL :
	    PQgetvalue(r->res, r->row, col);
}

long long
gh_row_int(struct gh_row *r, int col)
{
	const char	*errstr;
	long long	 n;

	n = gh_strtonum(gh_row_str(r, col), LLONG_MIN, LLONG_MAX, &errstr);
	if (errstr != NULL) {
		row_bad(r, col);
		return 0;
	}
	return n;
}

int
gh_row_bool(struct gh_row *r, int col)
{
	const char	*s = gh_row_str(r, col);

	if (strcmp(s, "t") != 0 && strcmp(s, "f") != 0) {
		row_bad(r, col);
		return 0;
	}
	return *s == 't';
}

/* A time the statement wrote with GH_SQL_TS. */
const char *
gh_row_time(struct gh_row *r, int col)
{
	const char	*s = gh_row_str(r, col);

	if (gh_valid_time(s) != NULL) {
		row_bad(r, col);
		return "1970-01-01T00:00:00Z";
	}
	return s;
}

/* A text column as a JSON string, or null. */
json_t *
gh_row_json_str(const struct gh_row *r, int col)
{
	json_t	*j;

	if (PQgetisnull(r->res, r->row, col))
		return json_null();
	j = json_string(PQgetvalue(r->res, r->row, col));
	return j != NULL ? j : json_null();
}

/* An integer column as a JSON integer, or null. */
json_t *
gh_row_json_int(struct gh_row *r, int col)
{
	if (PQgetisnull(r->res, r->row, col))
		return json_null();
	return json_integer(gh_row_int(r, col));
}

/* A json or jsonb column, parsed; null when NULL. */
json_t *
gh_row_json(struct gh_row *r, int col)
{
	json_t	*j;

	if (PQgetisnull(r->res, r->row, col))
		return json_null();
	if ((j = json_loads(PQgetvalue(r->res, r->row, col),
	    JSON_DECODE_ANY, NULL)) == NULL) {
		row_bad(r, col);
		return json_null();
	}
	return j;
}

/*
 * After a row is read: 0, or -1 having answered 500 and logged the
 * column that did not convert (a schema and its code disagree).
 */
int
gh_row_failed(struct gh_req *req, const struct gh_row *r)
{
	if (r->bad < 0)
		return 0;
	gh_log_errx("db", "request %s: column %d (%s) is NULL or not of "
	    "its type", req->request_id ? req->request_id : "-", r->bad,
	    PQfname(r->res, r->bad));
	gh_problem(req, 500, "internal error");
	return -1;
}

json_t *
gh_rows_json(struct gh_req *req, const PGresult *res, int n,
    json_t *(*row)(struct gh_row *))
{
	struct gh_row	 r;
	json_t		*data, *item;
	int		 i;

	if ((data = json_array()) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		r = GH_ROW(res, i);
		item = row(&r);
		if (gh_row_failed(req, &r)) {
			json_decref(item);
			json_decref(data);
			return NULL;
		}
		if (item == NULL || json_array_append_new(data, item) != 0)
			goto fail;
	}
	return data;
fail:
	json_decref(data);
	gh_problem(req, 500, "out of memory");
	return NULL;
}

/*
 * For a LISTENing command-line program: waits up to timeout_ms for a
 * notification.  1 when one (or more) came, 0 on timeout or a signal,
 * -1 when the connection is gone (it is closed; LISTEN again after the
 * next statement opens a new one).
 */
int
gh_db_wait(int timeout_ms)
{
	struct pollfd	 pfd;
	PGnotify	*n;
	int		 got = 0, r;

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		return -1;
	/* Notifications that came with the last result are waiting already. */
	while ((n = PQnotifies(conn)) != NULL) {
		PQfreemem(n);
		got = 1;
	}
	if (got)
		return 1;
	pfd.fd = PQsocket(conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if ((r = poll(&pfd, 1, timeout_ms)) <= 0)
		return r == 0 || errno == EINTR ? 0 : -1;
	if (PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK) {
		gh_log_warnx("db", "the connection was lost while waiting");
		gh_db_close();
		return -1;
	}
	while ((n = PQnotifies(conn)) != NULL) {
		PQfreemem(n);
		got = 1;
	}
	return got;
}
