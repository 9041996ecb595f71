/* Stats: counts and bytes by type and by day; for admins, by user too. */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
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

/* The columns of each of the three. */
enum { S_KEY, S_COUNT, S_BYTES };

/*
 * Rows of (key, count, bytes) as [{key:, count:, bytes:}], adding them up
 * into total when it is not NULL; NULL having answered 500.
 */
static json_t *
rows_json(struct gh_req *req, PGresult *res, const char *key,
    long long total[2])
{
	struct gh_row	 r;
	json_t		*a, *e;
	long long	 count, bytes;
	int		 i;

	if ((a = json_array()) == NULL) {
		gh_problem(req, 500, "out of memory");
		return NULL;
	}
	for (i = 0; i < gh_rows(res); i++) {
		r = GH_ROW(res, i);
		count = gh_row_int(&r, S_COUNT);
		bytes = gh_row_int(&r, S_BYTES);
		e = json_pack("{s:s, s:I, s:I}", key, gh_row_str(&r, S_KEY),
		    "count", (json_int_t)count, "bytes", (json_int_t)bytes);
		if (gh_row_failed(req, &r)) {
			json_decref(e);
			json_decref(a);
			return NULL;
		}
		json_array_append_new(a, e);
		if (total != NULL) {
			total[0] += count;
			total[1] += bytes;
		}
	}
	return a;
}

static const struct gh_field stats_params[] = {
	{ "scope", GH_STRING | GH_OPTIONAL,
	    .choices = (const char *const[]){ "me", "all", NULL } },
	{ "days", GH_INT | GH_OPTIONAL, .min = 1, .max = 366 },
	{ NULL }
};
enum { SQ_SCOPE, SQ_DAYS };

/* GET /api/v1/media/stats?scope=me|all&days=N */
void
media_stats(struct gh_req *req)
{
	struct gh_values v;
	const char	*scope, *p[2];
	PGresult	*types, *days, *users = NULL;
	long long	 ndays, total[2] = { 0, 0 };
	char		 nd[8];
	json_t		*by_type, *by_day, *by_user = NULL, *out;

	if (gh_auth_require(req, NULL) != 0 ||
	    gh_query_params(req, stats_params, &v) != 0)
		return;
	scope = gh_vhas(&v, SQ_SCOPE) ? gh_vstr(&v, SQ_SCOPE) : "me";
	if (strcmp(scope, "all") == 0 && !gh_auth_is_admin(req)) {
		gh_problem(req, 403, "scope=all needs the admin role");
		return;
	}
	ndays = gh_vint(&v, SQ_DAYS, 30);
	snprintf(nd, sizeof(nd), "%lld", ndays);
	p[0] = strcmp(scope, "all") == 0 ? NULL : gh_auth_user(req)->sub;
	p[1] = nd;
	if ((types = gh_db_query(req, SQL_BY_TYPE, 1, p)) == NULL ||
	    (days = gh_db_query(req, SQL_BY_DAY, 2, p)) == NULL ||
	    (p[0] == NULL &&
	    (users = gh_db_query(req, SQL_BY_USER, 0, NULL)) == NULL))
		return;
	if ((by_type = rows_json(req, types, "type", total)) == NULL)
		return;
	if ((by_day = rows_json(req, days, "day", NULL)) == NULL ||
	    (users != NULL &&
	    (by_user = rows_json(req, users, "owner", NULL)) == NULL)) {
		json_decref(by_type);
		json_decref(by_day);
		return;
	}
	out = json_pack("{s:s, s:I, s:{s:I, s:I}, s:o, s:o}",
	    "scope", p[0] == NULL ? "all" : "me",
	    "days", (json_int_t)ndays,
	    "total", "count", (json_int_t)total[0],
	    "bytes", (json_int_t)total[1],
	    "by_type", by_type,
	    "by_day", by_day);
	if (out != NULL && by_user != NULL)
		json_object_set_new(out, "by_user", by_user);
	else
		json_decref(by_user);
	gh_reply_json(req, 200, out);
}
