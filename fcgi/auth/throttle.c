/*
 * Throttles: fixed-window counters for lookups that reveal accounts and
 * for sign-ups, and the count of failed passwords that delays sign-in.
 */
#include <arpa/inet.h>
#include <string.h>

#include "auth.h"
#include "throttle.h"

GH_SQL(SQL_THROTTLE) = {{
    "INSERT INTO rate_counters AS r (key, window_start, hits) "
    "VALUES ($1, now(), 1) "
    "ON CONFLICT (key) DO UPDATE SET "
    " hits = CASE WHEN r.window_start < now() - make_interval(secs => $2) "
    "   THEN 1 ELSE r.hits + 1 END, "
    " window_start = CASE WHEN r.window_start < "
    "   now() - make_interval(secs => $2) THEN now() ELSE r.window_start END "
    "RETURNING hits, greatest(1, ceil(extract(epoch FROM r.window_start + "
    " make_interval(secs => $2) - now())))::int" }};
enum { TH_HITS, TH_RETRY };

/* Keys are lowered here, in SQL, so that every case of a name is one key. */
GH_SQL(SQL_LOGIN_GET) = {{
    "SELECT max(ceil(extract(epoch FROM locked_until - now())))::int "
    "FROM login_throttle WHERE key IN (lower($1), lower($2)) "
    "AND locked_until > now() HAVING count(*) > 0" }};
enum { LG_RETRY };

/*
 * One sign-in at a time per identifier: parallel guesses would all pass
 * the check above before any of them is counted.
 */
GH_SQL(SQL_LOGIN_LOCK) = {{
    "SELECT pg_try_advisory_xact_lock(hashtext(lower($1)))" }};
enum { LL_GOT };

/* The delay doubles with each failure past the free ones, up to a cap. */
GH_SQL(SQL_LOGIN_FAIL) = {{
    "INSERT INTO login_throttle AS t (key, failures, locked_until) "
    "VALUES (lower($1), 1, CASE WHEN 1 > $2::int THEN now() + "
    " interval '1 second' END) "
    "ON CONFLICT (key) DO UPDATE SET "
    " failures = CASE WHEN t.updated_at < now() - interval '1 day' THEN 1 "
    "  ELSE t.failures + 1 END, "
    " updated_at = now(), "
    " locked_until = CASE WHEN t.updated_at >= now() - interval '1 day' "
    "  AND t.failures + 1 > $2::int THEN now() + "
    "  make_interval(secs => least($3::int, "
    "   power(2, least(t.failures + 1 - $2::int - 1, 30))::int)) END" }};

GH_SQL(SQL_LOGIN_CLEAR) = {{
    "DELETE FROM login_throttle WHERE key IN (lower($1), lower($2))" }};

static const char *
num(struct gh_req *req, long long n)
{
	return gh_printf(&req->arena, "%lld", n);
}

/*
 * Counts a hit on key in a fixed window, without answering: 0 within
 * limit, 1 past it (*retry: seconds until the window ends), -1 answered
 * (a database failure).  For a caller whose refusal is not a plain 429.
 */
int
auth_throttle_hit(struct gh_req *req, const char *key, long long limit,
    long long window_s, long long *retry)
{
	struct gh_row	 r;
	PGresult	*res;
	const char	*p[2];
	long long	 hits;

	p[0] = key;
	p[1] = num(req, window_s);
	if ((res = gh_db_query(req, SQL_THROTTLE, 2, p)) == NULL)
		return -1;
	r = GH_ROW(res, 0);
	hits = gh_row_int(&r, TH_HITS);
	*retry = gh_row_int(&r, TH_RETRY);
	if (gh_row_failed(req, &r))
		return -1;
	return hits > limit;
}

/*
 * Counts a hit on key in a fixed window; past limit it answers 429 with
 * Retry-After, naming what is counted, and returns -1.
 */
int
auth_throttle(struct gh_req *req, const char *key, long long limit,
    long long window_s, const char *what)
{
	long long	 retry;
	int		 rc;

	if ((rc = auth_throttle_hit(req, key, limit, window_s, &retry)) <= 0)
		return rc;
	gh_header(req, "Retry-After", num(req, retry));
	return gh_problem(req, 429, "too many %s from this address; try "
	    "again in %lld seconds", what, retry);
}

/*
 * The client's address as a throttle counts it: an IPv4 address, or the
 * /64 of an IPv6 one (one host often holds a whole /64).
 */
const char *
auth_client_net(struct gh_req *req)
{
	struct in6_addr	 a;
	char		*s;

	if (req->remote_addr == NULL)
		return "-";
	if (strchr(req->remote_addr, ':') == NULL ||
	    inet_pton(AF_INET6, req->remote_addr, &a) != 1 ||
	    (s = gh_alloc(&req->arena, INET6_ADDRSTRLEN + 4)) == NULL)
		return req->remote_addr;
	memset(a.s6_addr + 8, 0, 8);
	if (inet_ntop(AF_INET6, &a, s, INET6_ADDRSTRLEN) == NULL)
		return req->remote_addr;
	strcat(s, "/64");
	return s;
}

/* The account's own key: typing its e-mail instead of its name is no way round. */
static const char *
account_key(struct gh_req *req, const char *user_id)
{
	return user_id == NULL ? NULL : gh_printf(&req->arena, "user:%s",
	    user_id);
}

/* 0 when none of the keys is held back; else answered 429 with detail. */
static int
may_try(struct gh_req *req, const char *key, const char *user_id,
    const char *detail)
{
	struct gh_row	 r;
	PGresult	*res;
	long long	 retry;

	if ((res = gh_db_query(req, SQL_LOGIN_GET, 2, (const char *[]){
	    key, account_key(req, user_id) })) == NULL)
		return -1;
	if (gh_rows(res) == 0)
		return 0;
	r = GH_ROW(res, 0);
	retry = gh_row_int(&r, LG_RETRY);
	if (gh_row_failed(req, &r))
		return -1;
	gh_header(req, "Retry-After", num(req, retry));
	return gh_problem(req, 429, "%s; try again in %lld seconds", detail,
	    retry);
}

static int
count_failure(struct gh_req *req, const char *key)
{
	return gh_db_query(req, SQL_LOGIN_FAIL, 3, (const char *[]){ key,
	    num(req, auth_cfg.login_free), num(req, auth_cfg.login_delay_max) })
	    == NULL ? -1 : 0;
}

/*
 * Holds the identifier for the rest of the caller's transaction, so that
 * guesses sent in parallel are counted one by one.  0, or -1 answered
 * (429 when another sign-in with it is under way).
 */
int
auth_login_lock(struct gh_req *req, const char *key)
{
	struct gh_row	 r;
	PGresult	*res;
	int		 got;

	if ((res = gh_db_query(req, SQL_LOGIN_LOCK, 1, &key)) == NULL)
		return -1;
	r = GH_ROW(res, 0);
	got = gh_row_bool(&r, LL_GOT);
	if (gh_row_failed(req, &r))
		return -1;
	if (got)
		return 0;
	gh_header(req, "Retry-After", "1");
	return gh_problem(req, 429, "another sign-in with this name is under "
	    "way; try again in a second");
}

int
auth_login_may_try(struct gh_req *req, const char *key, const char *user_id)
{
	return may_try(req, key, user_id, "too many failed sign-ins");
}

/* A failed sign-in counts on the identifier typed and on its account. */
int
auth_login_failed(struct gh_req *req, const char *key, const char *user_id)
{
	if (count_failure(req, key) != 0 ||
	    (user_id != NULL && count_failure(req, account_key(req,
	    user_id)) != 0))
		return -1;
	return 0;
}

int
auth_login_clear(struct gh_req *req, const char *key, const char *user_id)
{
	return gh_db_query(req, SQL_LOGIN_CLEAR, 2, (const char *[]){ key,
	    account_key(req, user_id) }) == NULL ? -1 : 0;
}

/*
 * Password (and code) checks on signed-in actions share the account's
 * count with sign-in: a stolen access token is no unthrottled oracle.
 */
int
auth_account_may_try(struct gh_req *req, const char *user_id)
{
	return may_try(req, NULL, user_id, "too many wrong passwords");
}

void
auth_account_failed(struct gh_req *req, const char *user_id)
{
	(void)count_failure(req, account_key(req, user_id));
}
