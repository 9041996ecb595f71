#define _GNU_SOURCE		/* ppoll */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <malloc.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fastcgi.h>
#include <fcgiapp.h>

#include "gh_app.h"
#include "gh_config.h"
#include "gh_db.h"
#include "gh_json.h"
#include "gh_log.h"
#include "gh_req.h"

#define GH_SEGMENTS_MAX	32

static volatile sig_atomic_t stopping;
static char	ping_body[128];

/* The worker's connections, and the one whose request runs now. */
struct conns;
static struct conns	*live;
static FCGX_Request	*serving;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

int
gh_stopping(void)
{
	return stopping;
}

/* Next path segment of *p, as [start, end); advances *p past it. */
static int
next_segment(const char **p, const char **start, size_t *len)
{
	const char	*s = *p, *e;

	if (*s != '/')
		return 0;
	s++;
	e = strchr(s, '/');
	if (e == NULL)
		e = s + strlen(s);
	*start = s;
	*len = (size_t)(e - s);
	*p = e;
	return 1;
}

/*
 * Matches req->path against one pattern; on success fills the request's
 * params (decoded, in its arena).  A {param} matches one non-empty
 * segment; anything else must match byte for byte.
 */
static int
match_one(struct gh_req *req, const char *pattern)
{
	const char	*pp = pattern, *rp = req->path, *ps = NULL, *rs = NULL;
	size_t		 pl = 0, rl = 0, np = 0;
	char		*v;

	for (;;) {
		int	 pmore = next_segment(&pp, &ps, &pl);
		int	 rmore = next_segment(&rp, &rs, &rl);

		if (!pmore || !rmore) {
			if (pmore != rmore || *pp != '\0' || *rp != '\0')
				return 0;
			break;
		}
		if (pl >= 2 && ps[0] == '{' && ps[pl - 1] == '}') {
			if (rl == 0 || np == GH_PARAMS_MAX)
				return 0;
			if ((v = gh_strndup(&req->arena, rs, rl)) == NULL ||
			    gh_pct_decode(v, &rl) != 0 || rl == 0)
				return 0;
			req->param_name[np] = gh_strndup(&req->arena,
			    ps + 1, pl - 2);
			req->param_value[np++] = v;
			continue;
		}
		if (pl != rl || memcmp(ps, rs, pl) != 0)
			return 0;
	}
	req->nparams = np;
	return 1;
}

static void
allow_add(char *allow, size_t len, const char *method)
{
	size_t	 n = strlen(method);
	const char *p;

	/* Each method once: several routes may share a path. */
	for (p = allow; (p = strstr(p, method)) != NULL; p += n)
		if ((p == allow || p[-1] == ' ') &&
		    (p[n] == ',' || p[n] == '\0'))
			return;
	snprintf(allow + strlen(allow), len - strlen(allow), "%s%s",
	    *allow != '\0' ? ", " : "", method);
}

/*
 * Finds the route for the request.  When the path exists under other
 * methods only, allow lists them for the 405's Allow header.  HEAD is
 * served by GET routes (nginx drops the body).
 */
enum gh_match
gh_route_match(struct gh_req *req, const struct gh_route *routes,
    const struct gh_route **found, char *allow, size_t allowlen)
{
	const struct gh_route *r;
	const char	*method = req->method;
	int		 path_seen = 0;

	*found = NULL;
	if (allowlen > 0)
		allow[0] = '\0';
	if (req->path == NULL || req->path[0] != '/' || method == NULL)
		return GH_MATCH_NONE;
	if (strcmp(method, "HEAD") == 0)
		method = "GET";
	for (r = routes; r->method != NULL; r++) {
		if (!match_one(req, r->pattern))
			continue;
		if (strcmp(r->method, method) == 0) {
			*found = r;
			return GH_MATCH_FOUND;
		}
		path_seen = 1;
		allow_add(allow, allowlen, r->method);
		if (strcmp(r->method, "GET") == 0)
			allow_add(allow, allowlen, "HEAD");
	}
	req->nparams = 0;
	return path_seen ? GH_MATCH_METHOD : GH_MATCH_NONE;
}

void
gh_dispatch(const struct gh_app *app, struct gh_req *req)
{
	const struct gh_route *r;
	char		 allow[128];

	switch (gh_route_match(req, app->routes, &r, allow, sizeof(allow))) {
	case GH_MATCH_FOUND:
		r->handler(req);
		if (req->status == 0) {
			gh_log_errx("dispatch", "%s %s: handler gave no answer",
			    req->method, r->pattern);
			gh_problem(req, 500, "internal error");
		}
		break;
	case GH_MATCH_METHOD:
		gh_header(req, "Allow", allow);
		gh_problem(req, 405, "%s is not allowed here; allowed: %s",
		    req->method, allow);
		break;
	case GH_MATCH_NONE:
		gh_problem(req, 404, "no such resource");
		break;
	}
}

void
gh_req_init(struct gh_req *req, const struct gh_app *app)
{
	memset(req, 0, sizeof(*req));
	gh_arena_init(&req->arena);
	req->app = app;
}

/* Reads what every request has from the FastCGI params. */
void
gh_req_start(struct gh_req *req)
{
	const char	*uri, *q;

	clock_gettime(CLOCK_MONOTONIC, &req->started);
	req->method = gh_env(req, "REQUEST_METHOD");
	req->request_id = gh_env(req, "REQUEST_ID");
	req->remote_addr = gh_env(req, "REMOTE_ADDR");
	if ((uri = gh_env(req, "REQUEST_URI")) == NULL)
		uri = gh_env(req, "DOCUMENT_URI");
	if (uri == NULL)
		uri = "";
	if ((q = strchr(uri, '?')) != NULL) {
		req->path = gh_strndup(&req->arena, uri, (size_t)(q - uri));
		req->query = q + 1;
	} else {
		req->path = uri;
		req->query = "";
	}
}

static void
log_request(struct gh_req *req)
{
	struct gh_logbuf lb;
	struct timespec	 now;
	double		 ms;

	if (!gh_log_enabled(GH_LOG_INFO))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (double)(now.tv_sec - req->started.tv_sec) * 1e3 +
	    (double)(now.tv_nsec - req->started.tv_nsec) / 1e6;
	gh_logbuf_begin(&lb, req->status >= 500 ? GH_LOG_ERROR :
	    GH_LOG_INFO, "request");
	gh_logbuf_str(&lb, "request_id", req->request_id);
	gh_logbuf_str(&lb, "method", req->method);
	gh_logbuf_str(&lb, "path", req->path);
	gh_logbuf_int(&lb, "status", req->status);
	gh_logbuf_int(&lb, "bytes", (long long)req->body_out);
	gh_logbuf_ms(&lb, "duration_ms", ms);
	gh_logbuf_str(&lb, "remote_addr", req->remote_addr);
	gh_logbuf_str(&lb, "detail", req->problem);
	gh_logbuf_end(&lb);
}

/*
 * Whether nginx has sent the whole request and none of it is left
 * unread: the body read to its length (none when there is no
 * Content-Length), then the end of the stdin stream, which nginx sends
 * with it.  Only then does the next read not wait, and only then may
 * the connection be closed without a reset for unread bytes.
 */
static int
request_all_read(struct gh_req *req, FCGX_Request *fcgx)
{
	const char	*cl, *errstr;
	long long	 want = 0;
	char		 c;

	if (FCGX_GetError(fcgx->in) != 0)
		return 0;
	if (!FCGX_HasSeenEOF(fcgx->in)) {
		cl = gh_env(req, "CONTENT_LENGTH");
		if (cl != NULL && *cl != '\0') {
			want = gh_strtonum(cl, 0, (long long)1 << 50, &errstr);
			if (errstr != NULL)
				return 0;
		}
		if ((unsigned long long)want != req->body_read ||
		    FCGX_GetStr(&c, 1, fcgx->in) != 0)
			return 0;
	}
	return FCGX_HasSeenEOF(fcgx->in) && FCGX_GetError(fcgx->in) == 0;
}

/*
 * Reads and drops what is left of the request's stdin, up to its end,
 * on a connection nginx keeps: the next request follows on the same
 * stream.  Before the answer's end is sent, never after: nginx writes
 * the next request only once it has this one's FCGI_END_REQUEST, so
 * libfcgi's buffer cannot take in any of it (nor drop it, at
 * FCGX_Finish_r).  Bounded: nginx has the whole body before it sends
 * any (fastcgi_request_buffering), within client_max_body_size, and a
 * stalled read ends at the socket's timeout (CONN_READ_TIMEOUT_S).  An
 * error leaves the stream in error, and FCGX_Finish_r closes the
 * connection instead of keeping it.
 */
static void
drain_stdin(FCGX_Request *fcgx)
{
	char	buf[8192];

	while (!FCGX_HasSeenEOF(fcgx->in) &&
	    FCGX_GetStr(buf, (int)sizeof(buf), fcgx->in) > 0)
		;
}

/* An empty FCGI_STDERR record of fcgx's request, in *h (see conn_release). */
static void
release_record(const FCGX_Request *fcgx, FCGI_Header *h)
{
	memset(h, 0, sizeof(*h));
	h->version = FCGI_VERSION_1;
	h->type = FCGI_STDERR;
	h->requestIdB1 = (unsigned char)((fcgx->requestId >> 8) & 0xff);
	h->requestIdB0 = (unsigned char)(fcgx->requestId & 0xff);
}

/*
 * The end of an answer that also lets go of its connection, for a worker
 * that stops: the stdout's end and FCGI_END_REQUEST as libfcgi writes
 * them, and the empty FCGI_STDERR record of conn_release, in one write,
 * so that nginx reads them together and does not keep the connection.
 * libfcgi's stdout is left unclosed, so the request must then be freed
 * with FCGX_Free, not FCGX_Finish_r.  0, or -1 when the connection broke.
 */
static int
answer_end_release(FCGX_Request *fcgx)
{
	struct {
		FCGI_Header		out_end;
		FCGI_EndRequestRecord	end;
		FCGI_Header		release;
	} __attribute__((packed)) w;

	if (FCGX_FFlush(fcgx->out) != 0)
		return -1;
	release_record(fcgx, &w.out_end);
	w.out_end.type = FCGI_STDOUT;
	memset(&w.end, 0, sizeof(w.end));
	w.end.header = w.out_end;
	w.end.header.type = FCGI_END_REQUEST;
	w.end.header.contentLengthB0 = sizeof(w.end.body);
	w.end.body.appStatusB0 = (unsigned char)(fcgx->appStatus & 0xff);
	w.end.body.protocolStatus = FCGI_REQUEST_COMPLETE;
	release_record(fcgx, &w.release);
	return gh_write_all(fcgx->ipcFd, &w, sizeof(w));
}

/*
 * Sends the end of the answer now, before the log line is written, so
 * nginx has it at once.  Returns 1 when the answer ended with
 * answer_end_release (free the request with FCGX_Free then), -1 when
 * that broke the connection, else 0.
 *
 * On a connection nginx keeps (FCGI_KEEP_CONN, see gatehouse-fastcgi.conf)
 * the rest of the request is read first, so that the next one starts
 * clean; a worker that stops ends the answer with its release.
 *
 * Otherwise libfcgi would close the connection the careful way: shut its
 * side down and wait (up to 2 s) until nginx closes first, in case nginx
 * were still sending (a reset would cost the answer).  The worker sleeps
 * through that wait for every request.  When the whole request has been
 * read there is nothing left to come, so the connection is just closed
 * (FCGX_Detach makes FCGX_Finish_r do that); otherwise libfcgi's way
 * stays.
 */
static int
answer_end(struct gh_req *req, FCGX_Request *fcgx, int release)
{
	if (fcgx->keepConnection)
		drain_stdin(fcgx);
	if (FCGX_FClose(fcgx->err) != 0)
		return 0;
	if (release && fcgx->keepConnection && FCGX_GetError(fcgx->in) == 0)
		return answer_end_release(fcgx) == 0 ? 1 : -1;
	if (FCGX_FClose(fcgx->out) != 0)
		return 0;
	if (!fcgx->keepConnection && request_all_read(req, fcgx))
		FCGX_Detach(fcgx);
	return 0;
}

/* Ends a request: rolls back what was not committed, logs, frees. */
void
gh_req_end(struct gh_req *req)
{
	struct gh_arena	 arena = req->arena;
	const struct gh_app *app = req->app;
	struct FCGX_Request *fcgx = req->fcgx;

	gh_db_request_end();
	log_request(req);
	free(req->test_out);
	gh_arena_reset(&arena);
	memset(req, 0, sizeof(*req));
	req->arena = arena;
	req->app = app;
	req->fcgx = fcgx;
}

void
gh_handle_ping(struct gh_req *req)
{
	gh_reply(req, 200, "application/json", ping_body, strlen(ping_body));
}

void
gh_handle_health(struct gh_req *req)
{
	json_t	*extra;

	if (gh_db_ping() == 0) {
		gh_reply_json(req, 200, json_pack("{s:s, s:s, s:s}",
		    "status", "ok", "service", req->app->name,
		    "database", "reachable"));
		return;
	}
	extra = json_pack("{s:s, s:s}", "service", req->app->name,
	    "database", "unreachable");
	gh_header(req, "Retry-After", "5");
	gh_problem_json(req, 503, "the database is unreachable", extra);
}

static int
app_setup(const struct gh_app *app)
{
	enum gh_level	 level = GH_LOG_INFO;
	const char	*s;
	char		 appname[64];
	struct sigaction sa;

	/*
	 * First of all, a fixed mmap threshold: large blocks (argon2's 19 MiB, big bodies)
	 * go back to the system when freed, instead of raising glibc's
	 * dynamic threshold and staying resident in an idle worker.
	 */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);

	s = gh_config_str("GH_LOG_LEVEL", "info");
	if (gh_log_level_parse(s, &level) != 0) {
		gh_log_setup(app->name, GH_LOG_INFO);
		gh_log_errx("config", "GH_LOG_LEVEL=%s is not one of debug, "
		    "info, warn, error", s);
		return -1;
	}
	gh_log_setup(app->name, level);
	snprintf(ping_body, sizeof(ping_body),
	    "{\"status\":\"ok\",\"service\":\"%s\"}", app->name);
	snprintf(appname, sizeof(appname), "gatehouse-%s", app->name);
	if (gh_json_setup() != 0 || gh_db_setup(strdup(appname)) != 0)
		return -1;
	if (app->init != NULL && app->init() != 0)
		return -1;

	/* No SA_RESTART: a signal must break the wait in accept(). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/*
 * One request read by FCGX_Accept_r on fcgx: answered, logged, finished.
 * A stopping worker (release) ends the answer with its release.
 */
static void
serve(const struct gh_app *app, struct gh_req *req, FCGX_Request *fcgx,
    int release)
{
	int	ended;

	req->fcgx = fcgx;
	req->envp = fcgx->envp;
	serving = fcgx;
	gh_req_start(req);
	gh_dispatch(app, req);
	/* Nothing uncommitted outlives the answer: roll back first. */
	gh_db_request_end();
	ended = answer_end(req, fcgx, release);
	/* The params die with FCGX_Finish_r: log while they live. */
	gh_req_end(req);
	serving = NULL;
	if (ended == 0)
		FCGX_Finish_r(fcgx);
	else {
		fcgx->detached = 1;
		FCGX_Free(fcgx, ended < 0);
	}
}

/*
 * The connections a worker holds, and what it waits on.
 *
 * nginx keeps idle FastCGI connections open for the next request
 * (fastcgi_keep_conn, upstream keepalive).  A libfcgi worker that
 * blocked on one of those would be pinned by it while new connections
 * wait in the listening socket's queue: with as many idle connections
 * as workers, the pool stalls.  So a worker never blocks on one
 * connection.  It waits on all of its own and on the listening socket
 * at once (the socket is non-blocking: the workers of a pool race for
 * each new connection and the losers see EAGAIN), and serves whichever
 * is ready, one request at a time.  No connection can then starve a
 * new one: a worker that is not busy always takes it, unless it already
 * holds GH_CONNS_MAX, and nginx keeps far fewer idle ones than the pool
 * holds (nginx's workers x its keepalive, against workers x
 * GH_CONNS_MAX; the renderer's limit keeps it so).  The cost: two
 * requests that arrive together on two connections of one worker are
 * served one after the other even when another worker is idle.
 *
 * Each slot is a libfcgi request on the same listening socket: on a
 * free slot FCGX_Accept_r accepts (checking FCGI_WEB_SERVER_ADDRS) and
 * reads the request; on a held one it reads the next request from its
 * connection, or, at its end, closes it and tries to accept, which on
 * the non-blocking socket returns at once.
 *
 * A worker that stops must not close a connection nginx keeps: nginx
 * may be writing a request into it, and it sends no POST again.  So it
 * asks nginx to close them (conn_release) and waits until it has.
 */
#define GH_CONNS_MAX		64
#define CONN_READ_TIMEOUT_S	30
#define GH_RELEASE_WAIT_MS	5000	/* whole seconds */

struct conns {
	FCGX_Request	 slot[GH_CONNS_MAX];
	struct pollfd	 pfd[GH_CONNS_MAX + 1];
	int		 which[GH_CONNS_MAX + 1];	/* slot, or -1: listening */
	int		 lfd;
};

static int
conns_init(struct conns *c, int lfd)
{
	int	flags, i;

	flags = fcntl(lfd, F_GETFL);
	if (flags < 0 || fcntl(lfd, F_SETFL, flags | O_NONBLOCK) < 0) {
		gh_log_errx("start", "cannot make the listening socket "
		    "non-blocking: %s", strerror(errno));
		return -1;
	}
	c->lfd = lfd;
	for (i = 0; i < GH_CONNS_MAX; i++)
		FCGX_InitRequest(&c->slot[i], lfd, 0);
	return 0;
}

/*
 * Fills c->pfd; its length.  The listening socket only while a slot is
 * free and the worker takes new connections.
 */
static nfds_t
conns_watch(struct conns *c, int accepting)
{
	nfds_t	 n = 0;
	int	 i, have_free = 0;

	for (i = 0; i < GH_CONNS_MAX; i++) {
		if (c->slot[i].ipcFd < 0) {
			have_free = 1;
			continue;
		}
		c->pfd[n].fd = c->slot[i].ipcFd;
		c->pfd[n].events = POLLIN;
		c->which[n++] = i;
	}
	if (have_free && accepting) {
		c->pfd[n].fd = c->lfd;
		c->pfd[n].events = POLLIN;
		c->which[n++] = -1;
	}
	return n;
}

static FCGX_Request *
conns_free_slot(struct conns *c)
{
	int	i;

	for (i = 0; i < GH_CONNS_MAX; i++)
		if (c->slot[i].ipcFd < 0)
			return &c->slot[i];
	return NULL;
}

/*
 * Asks nginx to close a connection it keeps, with an empty FCGI_STDERR
 * record of its request.  On an idle kept connection any byte makes
 * nginx close it; after an answer's FCGI_END_REQUEST it makes nginx
 * not keep it; and when nginx has just written a request into it, the
 * record comes first in the answer, where nginx skips it.  The worker
 * reads on until nginx has closed.
 */
static void
conn_release(FCGX_Request *fcgx)
{
	FCGI_Header	 h;

	if (fcgx->ipcFd < 0)
		return;
	release_record(fcgx, &h);
	if (write(fcgx->ipcFd, &h, sizeof(h)) != (ssize_t)sizeof(h)) {
		fcgx->detached = 1;
		FCGX_Free(fcgx, 1);
	}
}

/*
 * A new connection's reads end after CONN_READ_TIMEOUT_S (libfcgi's
 * error then closes it), so that a client that stalls in the middle of
 * a request cannot hold the worker and the other connections it keeps.
 * (The first request's head is read before this, by FCGX_Accept_r; only
 * nginx may connect, by the socket's mode or FCGI_WEB_SERVER_ADDRS.)
 */
static void
conn_timeouts(FCGX_Request *fcgx)
{
	struct timeval	 tv = { CONN_READ_TIMEOUT_S, 0 };

	if (setsockopt(fcgx->ipcFd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) != 0)
		gh_log_warnx("accept", "SO_RCVTIMEO: %s", strerror(errno));
}

/*
 * The request that runs now is about to take long (a password's Argon2:
 * tens of milliseconds).  The other connections this worker holds are
 * idle, and nginx may hand one of them the next request, which would
 * then wait behind this one while another worker is free: ask nginx to
 * close them (conn_release), so that what comes next goes to a worker
 * that can take it.  A request nginx writes into one meanwhile is still
 * answered, after this one.  Nothing outside a worker's loop.
 */
void
gh_app_slow(void)
{
	int	i;

	if (live == NULL)
		return;
	for (i = 0; i < GH_CONNS_MAX; i++)
		if (&live->slot[i] != serving)
			conn_release(&live->slot[i]);
}

/* Stops taking connections and asks nginx to close those it keeps. */
static void
conns_release(struct conns *c)
{
	int	i;

	for (i = 0; i < GH_CONNS_MAX; i++) {
		c->slot[i].listen_sock = -1;
		conn_release(&c->slot[i]);
	}
}

/* The time from now until *until in *left; -1 once it has passed. */
static int
time_left(const struct timespec *until, struct timespec *left)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	left->tv_sec = until->tv_sec - now.tv_sec;
	left->tv_nsec = until->tv_nsec - now.tv_nsec;
	if (left->tv_nsec < 0) {
		left->tv_sec--;
		left->tv_nsec += 1000000000L;
	}
	return left->tv_sec < 0 ? -1 : 0;
}

static void
conns_close(struct conns *c)
{
	int	i;

	/* A plain close: libfcgi's careful one waits 2 s on each. */
	for (i = 0; i < GH_CONNS_MAX; i++)
		if (c->slot[i].ipcFd >= 0) {
			c->slot[i].detached = 1;
			FCGX_Free(&c->slot[i], 1);
		}
}

static void
usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-s socket]\n"
	    "Run under spawn-fcgi (the socket on fd 0), or with -s to "
	    "listen on a unix socket or :port itself.\n", prog);
}

/*
 * The worker's loop.  Stop signals are blocked while a request runs
 * (libfcgi's reads and writes do not retry after EINTR, so one would
 * break the answer) and let through only in the wait, which they end.
 * A stopping worker takes no new connection, serves what comes on its
 * own until nginx has closed them (at most GH_RELEASE_WAIT_MS), and
 * exits 0.
 */
int
gh_app_main(const struct gh_app *app, int argc, char **argv)
{
	static struct conns conns;
	FCGX_Request	*fcgx;
	struct gh_req	 req;
	struct timespec	 until, wait;
	const char	*sock = NULL;
	sigset_t	 stopset, waitset;
	nfds_t		 n, k;
	int		 ch, fd = 0, rc, failed = 0, releasing = 0;

	while ((ch = getopt(argc, argv, "s:h")) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (app_setup(app) != 0)
		return 1;
	if (FCGX_Init() != 0) {
		gh_log_errx("start", "FCGX_Init failed");
		return 1;
	}
	if (sock != NULL && (fd = FCGX_OpenSocket(sock, 128)) < 0) {
		gh_log_errx("start", "cannot listen on %s", sock);
		return 1;
	}
	if (sock == NULL && FCGX_IsCGI()) {
		usage(argv[0]);
		return 2;
	}
	if (conns_init(&conns, fd) != 0)
		return 1;
	live = &conns;
	gh_req_init(&req, app);
	sigemptyset(&stopset);
	sigaddset(&stopset, SIGTERM);
	sigaddset(&stopset, SIGINT);
	sigaddset(&stopset, SIGHUP);
	sigprocmask(SIG_BLOCK, &stopset, &waitset);
	sigdelset(&waitset, SIGTERM);
	sigdelset(&waitset, SIGINT);
	sigdelset(&waitset, SIGHUP);
	gh_log_infox("start", "worker ready");
	for (;;) {
		if (stopping && !releasing) {
			releasing = 1;
			conns_release(&conns);
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += GH_RELEASE_WAIT_MS / 1000;
		}
		if ((n = conns_watch(&conns, !releasing)) == 0)
			break;
		if (releasing && time_left(&until, &wait) != 0)
			rc = 0;
		else
			rc = ppoll(conns.pfd, n, releasing ? &wait : NULL,
			    &waitset);
		if (rc == 0) {
			gh_log_warnx("stop", "nginx has not closed the "
			    "connections it keeps in %d ms: closing them",
			    GH_RELEASE_WAIT_MS);
			break;
		}
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			gh_log_errx("accept", "ppoll: %s", strerror(errno));
			failed = 1;
			break;
		}
		for (k = 0; k < n; k++) {
			if (conns.pfd[k].revents == 0)
				continue;
			fcgx = conns.which[k] >= 0 ?
			    &conns.slot[conns.which[k]] :
			    conns_free_slot(&conns);
			if (fcgx == NULL)
				continue;
			/*
			 * Below 0: the connection had ended (and is closed
			 * now), or another worker took the new one first.  A
			 * held slot must not accept when its connection has
			 * ended: only a free one does, from the socket.
			 */
			if (conns.which[k] >= 0)
				fcgx->listen_sock = -1;
			rc = FCGX_Accept_r(fcgx);
			fcgx->listen_sock = releasing ? -1 : conns.lfd;
			if (rc < 0 && rc != -EAGAIN && rc != -EWOULDBLOCK &&
			    conns.which[k] < 0 && !failed) {
				/* Out of descriptors or memory: let go, exit 1. */
				gh_log_errx("accept", "FCGX_Accept_r failed: %s",
				    strerror(-rc));
				failed = 1;
				stopping = 1;
			}
			if (rc != 0)
				continue;
			if (conns.which[k] < 0)
				conn_timeouts(fcgx);
			serve(app, &req, fcgx, releasing);
		}
	}
	gh_log_infox("stop", "worker exiting");
	conns_close(&conns);
	gh_arena_free(&req.arena);
	gh_db_close();
	return failed ? 1 : 0;
}
