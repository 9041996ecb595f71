/*
 * Likes and ratings: one of each per user and item, on items the user may
 * see.  The database holds the rules (primary keys, a CHECK, an upsert),
 * so two requests at once cannot break them.
 */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "item.h"

GH_SQL(SQL_LIKE) = {{
    "INSERT INTO media_likes (media_id, user_id) VALUES ($1::uuid, $2::uuid)" }};
GH_SQL(SQL_UNLIKE) = {{
    "DELETE FROM media_likes WHERE media_id = $1::uuid AND user_id = $2::uuid" }};
GH_SQL(SQL_LIKES) = {{
    "SELECT count(*), coalesce(bool_or(user_id = $2::uuid), false) "
    "FROM media_likes WHERE media_id = $1::uuid" }};
enum { LK_COUNT, LK_MINE };

/* Items the user may see, by their number of likes. */
GH_SQL(SQL_MOST_LIKED) = {{
    "SELECT " MEDIA_COLS ", l.n FROM media m "
    "JOIN (SELECT media_id, count(*) AS n FROM media_likes "
    " GROUP BY media_id) l ON l.media_id = m.id "
    "WHERE " MEDIA_VISIBLE("m", "$1", "$2") " "
    "ORDER BY l.n DESC, m.created_at DESC, m.id DESC LIMIT $3::integer" }};
enum { ML_LIKES = MC__COUNT };

/* A second rating replaces the first, atomically. */
GH_SQL(SQL_RATE) = {{
    "INSERT INTO media_ratings (media_id, user_id, stars) "
    "VALUES ($1::uuid, $2::uuid, $3::smallint) "
    "ON CONFLICT (media_id, user_id) DO UPDATE "
    "SET stars = EXCLUDED.stars, updated_at = now()" }};
GH_SQL(SQL_UNRATE) = {{
    "DELETE FROM media_ratings WHERE media_id = $1::uuid "
    "AND user_id = $2::uuid" }};
/* The average as JSON: a number with its two decimals, or NULL. */
GH_SQL(SQL_RATINGS) = {{
    "SELECT count(*), to_json(round(avg(stars), 2)), "
    " max(stars) FILTER (WHERE user_id = $2::uuid) "
    "FROM media_ratings WHERE media_id = $1::uuid" }};
enum { RT_COUNT, RT_AVERAGE, RT_MINE };

/*
 * For a signed-in user: the item (404 unless they may see it) as the
 * parameters id and user.
 */
static int
social_item(struct gh_req *req, const char *p[2])
{
	struct gh_row	 r;
	PGresult	*res;

	if ((res = media_find(req, gh_param(req, "id"), MEDIA_SEE)) == NULL)
		return -1;
	r = GH_ROW(res, 0);
	p[0] = gh_row_str(&r, MC_ID);
	p[1] = gh_auth_user(req)->sub;
	return gh_row_failed(req, &r);
}

/* A write that failed: the item went meanwhile, a duplicate, or other. */
static void
write_failed(struct gh_req *req, PGresult *res, const char *dup)
{
	const char	*state;

	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state != NULL && strcmp(state, "23503") == 0)
		gh_problem(req, 404, "no such media item");
	else if (state != NULL && strcmp(state, "23505") == 0 && dup != NULL)
		gh_problem(req, 409, "%s", dup);
	else
		gh_db_reply_error(req, res);
}

static int
exec_ok(PGresult *res)
{
	return res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;
}

static void
reply_likes(struct gh_req *req, int status, const char *p[2])
{
	struct gh_row	 r;
	PGresult	*res;
	long long	 count;
	int		 mine;

	if ((res = gh_db_query(req, SQL_LIKES, 2, p)) == NULL)
		return;
	r = GH_ROW(res, 0);
	count = gh_row_int(&r, LK_COUNT);
	mine = gh_row_bool(&r, LK_MINE);
	if (gh_row_failed(req, &r))
		return;
	gh_reply_json(req, status, json_pack("{s:s, s:I, s:b}",
	    "id", p[0], "count", (json_int_t)count, "liked_by_me", mine));
}

/* POST /api/v1/media/{id}/likes: a second like is 409. */
void
media_like(struct gh_req *req)
{
	const char	*p[2];
	PGresult	*res;

	if (gh_auth_require(req, NULL) != 0 || social_item(req, p) != 0)
		return;
	res = gh_db_exec(req, SQL_LIKE, 2, p);
	if (!exec_ok(res)) {
		write_failed(req, res, "you already like this item");
		return;
	}
	reply_likes(req, 201, p);
}

void
media_unlike(struct gh_req *req)
{
	const char	*p[2];
	PGresult	*res;

	if (gh_auth_require(req, NULL) != 0 || social_item(req, p) != 0 ||
	    (res = gh_db_query(req, SQL_UNLIKE, 2, p)) == NULL)
		return;
	if (strcmp(PQcmdTuples(res), "0") == 0) {
		gh_problem(req, 404, "you do not like this item");
		return;
	}
	gh_reply(req, 204, NULL, NULL, 0);
}

void
media_likes(struct gh_req *req)
{
	const char	*p[2];

	if (gh_auth_require(req, NULL) == 0 && social_item(req, p) == 0)
		reply_likes(req, 200, p);
}

static const struct gh_field most_liked_params[] = {
	{ "limit", GH_INT | GH_OPTIONAL, .min = 1, .max = 100 },
	{ NULL }
};
enum { MQ_LIMIT };

/* One item of the most liked, with its like_count. */
static json_t *
liked_json(struct gh_row *r)
{
	json_t	*item = media_json(r);

	if (item != NULL)
		json_object_set_new(item, "like_count",
		    gh_row_json_int(r, ML_LIKES));
	return item;
}

/* GET /api/v1/media/most-liked?limit=N */
void
media_most_liked(struct gh_req *req)
{
	struct gh_values v;
	const char	*p[3];
	PGresult	*res;
	json_t		*data;
	char		 n[24];

	if (gh_auth_require(req, NULL) != 0 ||
	    gh_query_params(req, most_liked_params, &v) != 0)
		return;
	snprintf(n, sizeof(n), "%lld", gh_vint(&v, MQ_LIMIT, 10));
	p[0] = gh_auth_user(req)->sub;
	p[1] = media_admin_param(req);
	p[2] = n;
	if ((res = gh_db_query(req, SQL_MOST_LIKED, 3, p)) == NULL)
		return;
	if ((data = gh_rows_json(req, res, gh_rows(res), liked_json)) == NULL)
		return;
	gh_reply_json(req, 200, json_pack("{s:o}", "data", data));
}

static void
reply_ratings(struct gh_req *req, const char *p[2])
{
	struct gh_row	 r;
	PGresult	*res;
	json_t		*out;

	if ((res = gh_db_query(req, SQL_RATINGS, 2, p)) == NULL)
		return;
	r = GH_ROW(res, 0);
	out = json_pack("{s:s, s:I, s:o, s:o}",
	    "id", p[0],
	    "count", (json_int_t)gh_row_int(&r, RT_COUNT),
	    "average", gh_row_json(&r, RT_AVERAGE),
	    "mine", gh_row_json_int(&r, RT_MINE));
	if (gh_row_failed(req, &r)) {
		json_decref(out);
		return;
	}
	gh_reply_json(req, 200, out);
}

static const struct gh_field rate_fields[] = {
	{ "stars", GH_INT, .min = 1, .max = 5 },
	{ NULL }
};

/* PUT /api/v1/media/{id}/rating {"stars": 1..5} */
void
media_rate(struct gh_req *req)
{
	struct gh_values v;
	const char	*p[3];
	PGresult	*res;
	char		 stars[4];

	if (gh_auth_require(req, NULL) != 0 ||
	    gh_body_json(req, rate_fields, &v) != 0 ||
	    social_item(req, p) != 0)
		return;
	snprintf(stars, sizeof(stars), "%lld", gh_vint(&v, 0, 0));
	p[2] = stars;
	res = gh_db_exec(req, SQL_RATE, 3, p);
	if (!exec_ok(res)) {
		write_failed(req, res, NULL);
		return;
	}
	reply_ratings(req, p);
}

void
media_unrate(struct gh_req *req)
{
	const char	*p[2];
	PGresult	*res;

	if (gh_auth_require(req, NULL) != 0 || social_item(req, p) != 0 ||
	    (res = gh_db_query(req, SQL_UNRATE, 2, p)) == NULL)
		return;
	if (strcmp(PQcmdTuples(res), "0") == 0) {
		gh_problem(req, 404, "you have not rated this item");
		return;
	}
	gh_reply(req, 204, NULL, NULL, 0);
}

void
media_ratings(struct gh_req *req)
{
	const char	*p[2];

	if (gh_auth_require(req, NULL) == 0 && social_item(req, p) == 0)
		reply_ratings(req, p);
}
