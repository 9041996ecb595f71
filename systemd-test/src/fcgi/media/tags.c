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
#include <stdlib.h>
#include <string.h>

#include "media.h"

/* A tag's names in an item, as JSON, sorted without regard to case. */
#define TAG_NAMES(item)	"SELECT coalesce(json_agg(t.name ORDER BY " \
		"lower(t.name), t.name), '[]') FROM media_item_tags l JOIN " \
		"media_tags t ON t.id = l.tag_id WHERE l.media_id = " item

/* How many tags the (locked) item has, and the name of this one if so. */
GH_SQL(SQL_ITEM_HAS) = {{
    "SELECT count(*), max(t.name) FILTER (WHERE lower(t.name) = lower($2)) "
    "FROM media_item_tags l JOIN media_tags t ON t.id = l.tag_id "
    "WHERE l.media_id = $1::uuid" }};

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

GH_SQL(SQL_ITEM_TAGS) = {{ TAG_NAMES("$1::uuid") }};

GH_SQL(SQL_UNTAG) = {{
    "DELETE FROM media_item_tags l USING media_tags t "
    "WHERE l.media_id = $1::uuid AND l.tag_id = t.id "
    "AND lower(t.name) = lower($2)" }};

/* Newest first, only what the caller ($2, admin $3) may see. */
GH_SQL(SQL_BY_TAG) = {{
    "SELECT " MEDIA_COLS " FROM media m "
    "JOIN media_item_tags l ON l.media_id = m.id "
    "JOIN media_tags g ON g.id = l.tag_id AND lower(g.name) = lower($1) "
    "WHERE (m.owner = $2::uuid OR m.visibility = 'public' OR $3::boolean) "
    "AND ($4::uuid IS NULL OR (m.created_at, m.id) < "
    " (SELECT c.created_at, c.id FROM media c WHERE c.id = $4::uuid "
    "  AND (c.owner = $2::uuid OR c.visibility = 'public' OR $3::boolean))) "
    "ORDER BY m.created_at DESC, m.id DESC LIMIT $5::integer" }};

/* Tags by the number of items the caller may see that have them. */
GH_SQL(SQL_TAGS) = {{
    "SELECT t.name, count(*) FROM media_tags t "
    "JOIN media_item_tags l ON l.tag_id = t.id "
    "JOIN media m ON m.id = l.media_id "
    "WHERE (m.owner = $1::uuid OR m.visibility = 'public' OR $2::boolean) "
    "AND ($3::uuid IS NULL OR m.owner = $3::uuid) "
    "AND ($4::text IS NULL OR starts_with(lower(t.name), lower($4))) "
    "GROUP BY t.id ORDER BY count(*) DESC, lower(t.name), t.name "
    "LIMIT $5::integer" }};

/* The links go by cascade at the statement's end: counted before. */
GH_SQL(SQL_TAG_DELETE) = {{
    "WITH d AS (DELETE FROM media_tags WHERE lower(name) = lower($1) "
    " RETURNING id, name) "
    "SELECT d.name, (SELECT count(*) FROM media_item_tags l "
    " WHERE l.tag_id = d.id) FROM d" }};

/* A tag can be reused while this runs: see used_at in 006_tags.sql. */
GH_SQL(SQL_SWEEP) = {{
    "DELETE FROM media_tags t "
    "WHERE t.used_at < now() - make_interval(secs => $1::double precision) "
    "AND NOT EXISTS (SELECT 1 FROM media_item_tags l WHERE l.tag_id = t.id)" }};
GH_SQL(SQL_SWEEP_COUNT) = {{
    "SELECT count(*) FROM media_tags t "
    "WHERE t.used_at < now() - make_interval(secs => $1::double precision) "
    "AND NOT EXISTS (SELECT 1 FROM media_item_tags l WHERE l.tag_id = t.id)" }};

/* ---------------------------------------------------------------- names */

#define STR(x)		#x
#define XSTR(x)		STR(x)
#define NAME_MAX_S	XSTR(MEDIA_TAG_MAX)

static int
is_space(long c)
{
	return c == ' ' || c == 0xa0 || c == 0x1680 ||
	    (c >= 0x2000 && c <= 0x200a) || c == 0x202f || c == 0x205f ||
	    c == 0x3000;
}

/*
 * Characters that are invisible or reorder text, so that two tags could
 * look the same and differ: format characters, fillers, private use and
 * non-characters.  The zero-width joiner is kept after an emoji (or its
 * variation selector), where it joins emoji sequences.
 */
static int
is_hidden(long c, long prev)
{
	if (c == 0x200d)
		return !(prev >= 0x1f000 || prev == 0xfe0f ||
		    (prev >= 0x2600 && prev <= 0x27bf));
	return c == 0xad || c == 0x34f || c == 0x61c || c == 0x115f ||
	    c == 0x1160 || c == 0x17b4 || c == 0x17b5 ||
	    (c >= 0x180b && c <= 0x180f) || (c >= 0x200b && c <= 0x200f) ||
	    (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x206f) ||
	    c == 0x3164 || c == 0xfeff || c == 0xffa0 ||
	    (c >= 0xfff0 && c <= 0xfffb) || (c >= 0xe000 && c <= 0xf8ff) ||
	    (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe ||
	    c == 0xe0001 || c >= 0xf0000;
}

/*
 * A tag's name as stored: spaces (any Unicode space) trimmed, and each
 * run of them inside made one ASCII space.  NULL, and why, when it
 * cannot be a tag: empty, longer than MEDIA_TAG_MAX code points, not
 * UTF-8, a control or invisible character, a / \ or comma (path and list
 * separators), or only dots.
 */
static char *
tag_name(struct gh_arena *a, const char *in, const char **why)
{
	const unsigned char *p = (const unsigned char *)in, *s;
	char		*out, *o;
	long		 c, prev = 0;
	size_t		 n = 0, dots = 0;
	int		 space = 0;

	if (in == NULL || (out = gh_alloc(a, strlen(in) + 1)) == NULL) {
		*why = "must not be empty";
		return NULL;
	}
	for (o = out; *p != '\0'; prev = c) {
		s = p;
		if ((c = media_utf8_next(&p)) < 0) {
			*why = "must be UTF-8";
			return NULL;
		}
		if (is_space(c)) {
			space = o > out;
			continue;
		}
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
			*why = "must not contain control characters";
			return NULL;
		}
		if (is_hidden(c, prev)) {
			*why = "must not contain invisible or formatting "
			    "characters";
			return NULL;
		}
		if (c == '/' || c == '\\' || c == ',') {
			*why = "must not contain /, \\ or a comma";
			return NULL;
		}
		if (space) {
			*o++ = ' ';
			n++;
			space = 0;
		}
		memcpy(o, s, (size_t)(p - s));
		o += p - s;
		dots += c == '.';
		if (++n > MEDIA_TAG_MAX) {
			*why = "must be at most " NAME_MAX_S " characters";
			return NULL;
		}
	}
	*o = '\0';
	if (n == 0)
		*why = "must not be empty";
	else if (dots == n)
		*why = "must not be only dots";
	else
		return out;
	return NULL;
}

/* The {tag} of the path, as stored; answers 422 naming it when bad. */
static char *
tag_param(struct gh_req *req)
{
	const char	*why = NULL;
	char		*name;

	if ((name = tag_name(&req->arena, gh_param(req, "tag"), &why)) == NULL)
		gh_problem_field(req, 422, "tag", "%s", why);
	return name;
}

/* Names as the statements make them, a JSON array. */
json_t *
media_tag_names(const char *s)
{
	json_t	*a;

	if ((a = json_loads(s, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_array(a)) {
		json_decref(a);
		return json_array();
	}
	return a;
}

/* ---------------------------------------------------------------- an item */

/*
 * PUT /api/v1/media/{id}/tags/{tag}: 201 when added, 200 when the item
 * has it already (in any case); the item's tags either way.
 */
void
media_tag_put(struct gh_req *req)
{
	const char	*p[2];
	PGresult	*res;
	char		*name;
	int		 status = 201;

	if (gh_auth_require(req, NULL) != 0 || (name = tag_param(req)) == NULL)
		return;
	/* The item's row lock orders the taggings of one item. */
	if (gh_db_begin(req) != 0 ||
	    (res = media_find(req, gh_param(req, "id"), MEDIA_OWN)) == NULL)
		return;
	p[0] = PQgetvalue(res, 0, MC_ID);
	p[1] = name;
	if ((res = gh_db_query(req, SQL_ITEM_HAS, 2, p)) == NULL)
		return;
	if (!PQgetisnull(res, 0, 1))
		status = 200;
	else if (strtoll(PQgetvalue(res, 0, 0), NULL, 10) >=
	    MEDIA_TAGS_PER_ITEM) {
		gh_problem_field(req, 422, "tag", "the item has %d tags, the "
		    "most it may have; remove one first", MEDIA_TAGS_PER_ITEM);
		return;
	} else if (gh_db_query(req, SQL_TAG_ADD, 2, p) == NULL)
		return;
	if ((res = gh_db_query(req, SQL_ITEM_TAGS, 1, p)) == NULL ||
	    gh_db_commit(req) != 0)
		return;
	gh_reply_json(req, status, media_tag_names(PQgetvalue(res, 0, 0)));
}

/* DELETE /api/v1/media/{id}/tags/{tag}: 404 when the item has no such tag. */
void
media_tag_remove(struct gh_req *req)
{
	const char	*p[2];
	PGresult	*res;
	char		*name;

	if (gh_auth_require(req, NULL) != 0 ||
	    (name = tag_param(req)) == NULL || gh_db_begin(req) != 0 ||
	    (res = media_find(req, gh_param(req, "id"), MEDIA_OWN)) == NULL)
		return;
	p[0] = PQgetvalue(res, 0, MC_ID);
	p[1] = name;
	if ((res = gh_db_query(req, SQL_UNTAG, 2, p)) == NULL)
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
	gh_reply_json(req, 200, media_tag_names(PQgetvalue(res, 0, MC_TAGS)));
}

/* ---------------------------------------------------------------- all */

/* GET /api/v1/media/tags/{tag}/items: a page, newest first. */
void
media_tag_items(struct gh_req *req)
{
	struct media_page pg;
	char		*name;

	if (gh_auth_require(req, NULL) != 0 ||
	    media_page_params(req, &pg) != 0 ||
	    (name = tag_param(req)) == NULL)
		return;
	media_page_reply(req, SQL_BY_TAG, name, &pg, media_json);
}

/* GET /api/v1/media/tags?limit=&prefix=&owner=: the most used first. */
void
media_tags_list(struct gh_req *req)
{
	const char	*p[5], *lim, *owner, *prefix, *errstr, *why = NULL;
	long long	 limit = 50;
	PGresult	*res;
	json_t		*data;
	char		 n[24];
	int		 i;

	if (gh_auth_require(req, NULL) != 0)
		return;
	if ((lim = gh_query(req, "limit")) != NULL) {
		limit = gh_strtonum(lim, 1, 200, &errstr);
		if (errstr != NULL) {
			gh_problem_field(req, 400, "limit", "must be a whole "
			    "number from 1 to 200");
			return;
		}
	}
	if ((owner = gh_query(req, "owner")) != NULL &&
	    strcmp(owner, "me") == 0)
		owner = gh_auth_user(req)->sub;
	if (owner != NULL && !gh_is_uuid(owner)) {
		gh_problem_field(req, 400, "owner", "must be me or a user id");
		return;
	}
	if ((prefix = gh_query(req, "prefix")) != NULL &&
	    (prefix = tag_name(&req->arena, prefix, &why)) == NULL) {
		gh_problem_field(req, 400, "prefix", "%s", why);
		return;
	}
	snprintf(n, sizeof(n), "%lld", limit);
	p[0] = gh_auth_user(req)->sub;
	p[1] = media_is_admin(req) ? "true" : "false";
	p[2] = owner;
	p[3] = prefix;
	p[4] = n;
	if ((res = gh_db_query(req, SQL_TAGS, 5, p)) == NULL)
		return;
	if ((data = json_array()) == NULL) {
		gh_problem(req, 500, "out of memory");
		return;
	}
	for (i = 0; i < PQntuples(res); i++)
		json_array_append_new(data, json_pack("{s:s, s:I}",
		    "name", PQgetvalue(res, i, 0),
		    "count", (json_int_t)strtoll(PQgetvalue(res, i, 1), NULL,
		    10)));
	gh_reply_json(req, 200, json_pack("{s:o}", "data", data));
}

/* DELETE /api/v1/media/tags/{tag} (admins): off every item, at once. */
void
media_tag_delete(struct gh_req *req)
{
	const char	*p[1];
	PGresult	*res;

	if (gh_auth_require(req, "admin") != 0 ||
	    (p[0] = tag_param(req)) == NULL ||
	    (res = gh_db_query(req, SQL_TAG_DELETE, 1, p)) == NULL)
		return;
	if (PQntuples(res) == 0) {
		gh_problem(req, 404, "no tag is named %s", p[0]);
		return;
	}
	gh_log_infox("tags", "request %s: tag %s removed from %s items by %s",
	    req->request_id != NULL ? req->request_id : "-",
	    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
	    gh_auth_user(req)->sub);
	gh_reply_json(req, 200, json_pack("{s:s, s:I}",
	    "name", PQgetvalue(res, 0, 0),
	    "items", (json_int_t)strtoll(PQgetvalue(res, 0, 1), NULL, 10)));
}

/* For gatehouse-media --sweep: tags no item has used for grace seconds. */
int
media_tags_sweep(struct gh_req *req, long long grace, int dry_run,
    long long *removed)
{
	PGresult	*res;
	const char	*p[1];
	char		 g[24];

	*removed = 0;
	snprintf(g, sizeof(g), "%lld", grace);
	p[0] = g;
	res = gh_db_exec(req, dry_run ? SQL_SWEEP_COUNT : SQL_SWEEP, 1, p);
	if (res == NULL || (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)) {
		gh_log_errx("sweep", "unused tags: %s", res != NULL ?
		    PQresultErrorMessage(res) : "no connection");
		return -1;
	}
	*removed = strtoll(dry_run ? PQgetvalue(res, 0, 0) : PQcmdTuples(res),
	    NULL, 10);
	return 0;
}
