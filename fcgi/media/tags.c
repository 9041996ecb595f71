/*
 * Tags: the owner (or an admin) tags and untags an item; whoever may see
 * an item sees its tags; items are browsed by tag and tags listed by use,
 * counting only the items the caller may see; an admin removes a tag
 * everywhere.  A tag is unique without regard to case and keeps the case
 * it was first written in; the database holds that rule (a unique index
 * on lower(name)), so two users making the same new tag at once both get
 * it (INSERT ... ON CONFLICT).
 */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "item.h"
#include "tag.h"

/* How many tags the (locked) item has, and the name of this one if so. */
GH_SQL(SQL_ITEM_HAS) = {{
    "SELECT count(*), max(t.name) FILTER (WHERE lower(t.name) = lower($2)) "
    "FROM media_item_tags l JOIN media_tags t ON t.id = l.tag_id "
    "WHERE l.media_id = $1::uuid" }};
enum { IH_COUNT, IH_NAME };

/*
 * The tag, made or found in one statement whatever runs at once: DO
 * UPDATE returns a row another transaction has just committed, where DO
 * NOTHING would return none.  used_at keeps the sweep off a tag in use:
 * the clock's time, not the transaction's start, which may be long ago
 * when the item's row lock was waited for.
 */
GH_SQL(SQL_TAG_ADD) = {{
    "WITH tag AS (INSERT INTO media_tags AS t (name) VALUES ($2) "
    " ON CONFLICT ((lower(name))) DO UPDATE SET used_at = clock_timestamp() "
    " RETURNING t.id) "
    "INSERT INTO media_item_tags (media_id, tag_id) "
    "SELECT $1::uuid, tag.id FROM tag" }};

GH_SQL(SQL_ITEM_TAGS) = {{ "SELECT " MEDIA_TAG_NAMES("$1::uuid") }};
enum { IT_NAMES };

GH_SQL(SQL_UNTAG) = {{
    "DELETE FROM media_item_tags l USING media_tags t "
    "WHERE l.media_id = $1::uuid AND l.tag_id = t.id "
    "AND lower(t.name) = lower($2)" }};

/*
 * Newest first, only what the caller ($2, admin $3) may see, after the
 * cursor's position ($4, $5) or the item starting_after names ($6).
 */
GH_SQL(SQL_BY_TAG) = {{
    "SELECT " MEDIA_COLS ", " MEDIA_KEY " FROM media m "
    "JOIN media_item_tags l ON l.media_id = m.id "
    "JOIN media_tags g ON g.id = l.tag_id AND lower(g.name) = lower($1) "
    "WHERE " MEDIA_VISIBLE("m", "$2", "$3") " "
    "AND ($4::timestamptz IS NULL OR "
    " (m.created_at, m.id) < ($4::timestamptz, $5::uuid)) "
    "AND ($6::uuid IS NULL OR (m.created_at, m.id) < "
    " (SELECT c.created_at, c.id FROM media c WHERE c.id = $6::uuid "
    "  AND " MEDIA_VISIBLE("c", "$2", "$3") ")) "
    "ORDER BY m.created_at DESC, m.id DESC LIMIT $7::integer" }};

/* Tags by the number of items the caller may see that have them. */
GH_SQL(SQL_TAGS) = {{
    "SELECT t.name, count(*) FROM media_tags t "
    "JOIN media_item_tags l ON l.tag_id = t.id "
    "JOIN media m ON m.id = l.media_id "
    "WHERE " MEDIA_VISIBLE("m", "$1", "$2") " "
    "AND ($3::uuid IS NULL OR m.owner = $3::uuid) "
    "AND ($4::text IS NULL OR starts_with(lower(t.name), lower($4))) "
    "GROUP BY t.id ORDER BY count(*) DESC, lower(t.name), t.name "
    "LIMIT $5::integer" }};
enum { TL_NAME, TL_COUNT };

/* The links go by cascade at the statement's end: counted before. */
GH_SQL(SQL_TAG_DELETE) = {{
    "WITH d AS (DELETE FROM media_tags WHERE lower(name) = lower($1) "
    " RETURNING id, name) "
    "SELECT d.name, (SELECT count(*) FROM media_item_tags l "
    " WHERE l.tag_id = d.id) FROM d" }};
enum { TD_NAME, TD_ITEMS };

/* The {tag} of the path, as stored; answers 422 naming it when bad. */
static char *
tag_param(struct gh_req *req)
{
	const char	*why = NULL;
	char		*name;

	if ((name = media_tag_name(&req->arena, gh_param(req, "tag"),
	    &why)) == NULL)
		gh_problem_field(req, 422, "tag", "%s", why);
	return name;
}

/* An array of names, from a column made by MEDIA_TAG_NAMES. */
static void
reply_names(struct gh_req *req, int status, const PGresult *res, int col)
{
	struct gh_row	 r = GH_ROW(res, 0);
	json_t		*names = media_tags_json(&r, col);

	if (gh_row_failed(req, &r)) {
		json_decref(names);
		return;
	}
	gh_reply_json(req, status, names);
}

/* ---------------------------------------------------------------- an item */

/*
 * PUT /api/v1/media/{id}/tags/{tag}: 201 when added, 200 when the item
 * has it already (in any case); the item's tags either way.
 */
void
media_tag_put(struct gh_req *req)
{
	struct gh_row	 r;
	const char	*p[2];
	PGresult	*res;
	char		*name;
	long long	 ntags;
	int		 has, status = 201;

	if (gh_auth_require(req, NULL) != 0 || (name = tag_param(req)) == NULL)
		return;
	/* The item's row lock orders the taggings of one item. */
	if (gh_db_begin(req) != 0 ||
	    (res = media_find(req, gh_param(req, "id"), MEDIA_OWN)) == NULL)
		return;
	r = GH_ROW(res, 0);
	p[0] = gh_row_str(&r, MC_ID);
	p[1] = name;
	if (gh_row_failed(req, &r) ||
	    (res = gh_db_query(req, SQL_ITEM_HAS, 2, p)) == NULL)
		return;
	r = GH_ROW(res, 0);
	has = !gh_row_null(&r, IH_NAME);
	ntags = gh_row_int(&r, IH_COUNT);
	if (gh_row_failed(req, &r))
		return;
	if (has)
		status = 200;
	else if (ntags >= MEDIA_TAGS_PER_ITEM) {
		gh_problem_field(req, 422, "tag", "the item has %d tags, the "
		    "most it may have; remove one first", MEDIA_TAGS_PER_ITEM);
		return;
	} else if (gh_db_query(req, SQL_TAG_ADD, 2, p) == NULL)
		return;
	if ((res = gh_db_query(req, SQL_ITEM_TAGS, 1, p)) == NULL ||
	    gh_db_commit(req) != 0)
		return;
	reply_names(req, status, res, IT_NAMES);
}

/* DELETE /api/v1/media/{id}/tags/{tag}: 404 when the item has no such tag. */
void
media_tag_remove(struct gh_req *req)
{
	struct gh_row	 r;
	const char	*p[2];
	PGresult	*res;
	char		*name;

	if (gh_auth_require(req, NULL) != 0 ||
	    (name = tag_param(req)) == NULL || gh_db_begin(req) != 0 ||
	    (res = media_find(req, gh_param(req, "id"), MEDIA_OWN)) == NULL)
		return;
	r = GH_ROW(res, 0);
	p[0] = gh_row_str(&r, MC_ID);
	p[1] = name;
	if (gh_row_failed(req, &r) ||
	    (res = gh_db_query(req, SQL_UNTAG, 2, p)) == NULL)
		return;
	if (strcmp(PQcmdTuples(res), "0") == 0) {
		gh_problem(req, 404, "the item has no tag named %s", name);
		return;
	}
	if (gh_db_commit(req) != 0)
		return;
	gh_reply(req, 204, NULL, NULL, 0);
}

/* GET /api/v1/media/{id}/tags: an array of names, [] when none. */
void
media_item_tags(struct gh_req *req)
{
	PGresult	*res;

	if (gh_auth_require(req, NULL) != 0 ||
	    (res = media_find(req, gh_param(req, "id"), MEDIA_SEE)) == NULL)
		return;
	reply_names(req, 200, res, MC_TAGS);
}

/* ---------------------------------------------------------------- all */

static const struct gh_field items_params[] = {
	MEDIA_PAGE_FIELDS,
	{ NULL }
};

/* GET /api/v1/media/tags/{tag}/items: a page, newest first. */
void
media_tag_items(struct gh_req *req)
{
	struct gh_values v;
	struct media_page mp;
	const char	*p[7];
	PGresult	*res;
	char		*name;

	if (gh_auth_require(req, NULL) != 0 ||
	    media_page_init(req, items_params, &v, &mp) != 0 ||
	    (name = tag_param(req)) == NULL)
		return;
	p[0] = name;
	p[1] = gh_auth_user(req)->sub;
	p[2] = media_admin_param(req);
	p[3] = mp.pg.key[0];
	p[4] = mp.pg.key[1];
	p[5] = mp.after;
	p[6] = mp.pg.fetch;
	if ((res = gh_db_query(req, SQL_BY_TAG, 7, p)) == NULL)
		return;
	media_page_reply(req, &mp, res, media_json, media_item_keys);
}

static const struct gh_field list_params[] = {
	{ "limit", GH_INT | GH_OPTIONAL, .min = 1, .max = 200 },
	{ "owner", GH_STRING | GH_OPTIONAL, .valid = media_valid_user },
	{ "prefix", GH_STRING | GH_OPTIONAL,
	    .valid = media_valid_tag_prefix },
	{ NULL }
};
enum { TQ_LIMIT, TQ_OWNER, TQ_PREFIX };

static json_t *
tag_count_json(struct gh_row *r)
{
	return json_pack("{s:s, s:I}", "name", gh_row_str(r, TL_NAME),
	    "count", (json_int_t)gh_row_int(r, TL_COUNT));
}

/* GET /api/v1/media/tags?limit=&prefix=&owner=: the most used first. */
void
media_tags_list(struct gh_req *req)
{
	struct gh_values v;
	const char	*p[5], *why = NULL;
	PGresult	*res;
	json_t		*data;
	char		 n[24];

	if (gh_auth_require(req, NULL) != 0 ||
	    gh_query_params(req, list_params, &v) != 0)
		return;
	snprintf(n, sizeof(n), "%lld", gh_vint(&v, TQ_LIMIT, 50));
	p[0] = gh_auth_user(req)->sub;
	p[1] = media_admin_param(req);
	p[2] = media_user_param(req, gh_vstr(&v, TQ_OWNER));
	p[3] = NULL;
	if (gh_vhas(&v, TQ_PREFIX) && (p[3] = media_tag_name(&req->arena,
	    gh_vstr(&v, TQ_PREFIX), &why)) == NULL) {
		gh_problem(req, 500, "out of memory");
		return;
	}
	p[4] = n;
	if ((res = gh_db_query(req, SQL_TAGS, 5, p)) == NULL)
		return;
	if ((data = gh_rows_json(req, res, gh_rows(res), tag_count_json)) ==
	    NULL)
		return;
	gh_reply_json(req, 200, json_pack("{s:o}", "data", data));
}

/* DELETE /api/v1/media/tags/{tag} (admins): off every item, at once. */
void
media_tag_delete(struct gh_req *req)
{
	struct gh_row	 r;
	const char	*p[1], *tag;
	PGresult	*res;
	long long	 items;

	if (gh_auth_require(req, GH_ROLE_ADMIN) != 0 ||
	    (p[0] = tag_param(req)) == NULL ||
	    (res = gh_db_query(req, SQL_TAG_DELETE, 1, p)) == NULL)
		return;
	if (gh_rows(res) == 0) {
		gh_problem(req, 404, "no tag is named %s", p[0]);
		return;
	}
	r = GH_ROW(res, 0);
	tag = gh_row_str(&r, TD_NAME);
	items = gh_row_int(&r, TD_ITEMS);
	if (gh_row_failed(req, &r))
		return;
	gh_log_infox("tags", "request %s: tag %s removed from %lld items by %s",
	    req->request_id != NULL ? req->request_id : "-", tag, items,
	    gh_auth_user(req)->sub);
	gh_reply_json(req, 200, json_pack("{s:s, s:I}", "name", tag,
	    "items", (json_int_t)items));
}
