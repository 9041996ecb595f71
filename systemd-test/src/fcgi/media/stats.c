/* Stats: counts and bytes by type and by day; for admins, by user too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media.h"

/* $1: one owner, or NULL for everyone's (admins only). */
GH_SQL(SQL_BY_TYPE) = {{
    "SELECT mime_type, count(*), sum(size) FROM media "
    "WHERE $1::uuid IS NULL OR owner = $1::uuid "
    "GROUP BY mime_type ORDER BY sum(size) DESC, mime_type" }};

GH_SQL(SQL_BY_DAY) = {{
    "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, "
    " count(*), sum(size) FROM media "
    "WHERE ($1::uuid IS NULL OR owner = $1::uuid) "
    "AND created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') "
    " AT TIME ZONE 'UTC' - make_interval(days => $2::integer - 1) "
    "GROUP BY day ORDER BY day DESC" }};

GH_SQL(SQL_BY_USER) = {{
    "SELECT owner, count(*), sum(size) FROM media "
    "GROUP BY owner ORDER BY sum(size) DESC, owner LIMIT 100" }};

/* Rows of (key, count, bytes) as [{key:, count:, bytes:}]. */
static json_t *
rows_json(PGresult *res, const char *key)
{
	json_t	*a;
	int	 i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(a, json_pack("{s:s, s:I, s:I}",
		    key, PQgetvalue(res, i, 0),
		    "count", (json_int_t)strtoll(PQgetvalue(res, i, 1), NULL,
		    10),
		    "bytes", (json_int_t)strtoll(PQgetvalue(res, i, 2), NULL,
		    10)));
	return a;
}

static json_t *
totals_json(PGresult *res)
{
	long long	 count = 0, bytes = 0;
	int		 i;

	for (i = 0; i < PQntuples(res); i++) {
		count += strtoll(PQgetvalue(res, i, 1), NULL, 10);
		bytes += strtoll(PQgetvalue(res, i, 2), NULL, 10);
	}
	return json_pack("{s:I, s:I}", "count", (json_int_t)count,
	    "bytes", (json_int_t)bytes);
}

/* GET /api/v1/media/stats?scope=me|all&days=N */
void
media_stats(struct gh_req *req)
{
	const char	*scope, *days_s, *errstr, *p[2];
	PGresult	*types, *days, *users = NULL;
	long long	 ndays = 30;
	char		 nd[8];
	json_t		*out;

	if (gh_auth_require(req, NULL) != 0)
		return;
	scope = gh_query(req, "scope");
	if (scope != NULL && strcmp(scope, "me") != 0 &&
	    strcmp(scope, "all") != 0) {
		gh_problem_field(req, 400, "scope", "must be me or all");
		return;
	}
	if (scope != NULL && strcmp(scope, "all") == 0 && !media_is_admin(req)) {
		gh_problem(req, 403, "scope=all needs the admin role");
		return;
	}
	if ((days_s = gh_query(req, "days")) != NULL) {
		ndays = gh_strtonum(days_s, 1, 366, &errstr);
		if (errstr != NULL) {
			gh_problem_field(req, 400, "days", "must be a whole "
			    "number from 1 to 366");
			return;
		}
	}
	snprintf(nd, sizeof(nd), "%lld", ndays);
	p[0] = scope != NULL && strcmp(scope, "all") == 0 ? NULL :
	    gh_auth_user(req)->sub;
	p[1] = nd;
	if ((types = gh_db_query(req, SQL_BY_TYPE, 1, p)) == NULL ||
	    (days = gh_db_query(req, SQL_BY_DAY, 2, p)) == NULL ||
	    (p[0] == NULL &&
	    (users = gh_db_query(req, SQL_BY_USER, 0, NULL)) == NULL))
		return;
	out = json_pack("{s:s, s:I, s:o, s:o, s:o}",
	    "scope", p[0] == NULL ? "all" : "me",
	    "days", (json_int_t)ndays,
	    "total", totals_json(types),
	    "by_type", rows_json(types, "type"),
	    "by_day", rows_json(days, "day"));
	if (out != NULL && users != NULL)
		json_object_set_new(out, "by_user", rows_json(users, "owner"));
	gh_reply_json(req, 200, out);
}
