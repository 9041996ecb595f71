/*
 * Comments on items the user may see: add, edit and delete one's own
 * (admins: any), list by item (oldest first) and by user (newest first),
 * with the item's count.
 */
#include <string.h>

#include "handlers.h"
#include "item.h"
#include "sniff.h"

#define COMMENT_MAX	2000	/* code points */

#define COMMENT_COLS	"c.id, c.media_id, c.user_id, c.body, " \
		TS("c.created_at") ", " TS("c.updated_at")
enum { CC_ID, CC_MEDIA, CC_USER, CC_BODY, CC_CREATED, CC_UPDATED,
    CC__COUNT };

/* A page's key, after the columns: (created_at, id), to the microsecond. */
#define COMMENT_KEY	GH_SQL_TS_KEY("c.created_at")
enum { CC_KEY = CC__COUNT };
static const int comment_keys[2] = { CC_KEY, CC_ID };

GH_SQL(SQL_ADD) = {{
    "INSERT INTO media_comments AS c (media_id, user_id, body) "
    "VALUES ($1::uuid, $2::uuid, $3) RETURNING " COMMENT_COLS }};

/*
 * Oldest first, after the cursor's position ($2, $3) or after the comment
 * starting_after names ($4).
 */
GH_SQL(SQL_BY_ITEM) = {{
    "SELECT " COMMENT_COLS ", " COMMENT_KEY " FROM media_comments c "
    "WHERE c.media_id = $1::uuid "
    "AND ($2::timestamptz IS NULL OR "
    " (c.created_at, c.id) > ($2::timestamptz, $3::uuid)) "
    "AND ($4::uuid IS NULL OR (c.created_at, c.id) > "
    " (SELECT x.created_at, x.id FROM media_comments x "
    " WHERE x.id = $4::uuid)) "
    "ORDER BY c.created_at, c.id LIMIT $5::integer" }};

GH_SQL(SQL_COUNT) = {{
    "SELECT count(*) FROM media_comments WHERE media_id = $1::uuid" }};
enum { CN_COUNT };

/*
 * A user's comments, newest first, on the items the viewer ($2, admin
 * $3) may see; after the cursor's position ($4, $5) or the comment
 * starting_after names ($6).
 */
GH_SQL(SQL_BY_USER) = {{
    "SELECT " COMMENT_COLS ", " COMMENT_KEY " FROM media_comments c "
    "JOIN media m ON m.id = c.media_id "
    "WHERE c.user_id = $1::uuid "
    "AND " MEDIA_VISIBLE("m", "$2", "$3") " "
    "AND ($4::timestamptz IS NULL OR "
    " (c.created_at, c.id) < ($4::timestamptz, $5::uuid)) "
    "AND ($6::uuid IS NULL OR (c.created_at, c.id) < "
    " (SELECT x.created_at, x.id FROM media_comments x "
    " WHERE x.id = $6::uuid)) "
    "ORDER BY c.created_at DESC, c.id DESC LIMIT $7::integer" }};

GH_SQL(SQL_GET) = {{
    "SELECT c.user_id FROM media_comments c "
    "WHERE c.id = $1::uuid AND c.media_id = $2::uuid FOR UPDATE" }};
enum { CG_USER };

GH_SQL(SQL_EDIT) = {{
    "UPDATE media_comments c SET body = $2, updated_at = now() "
    "WHERE c.id = $1::uuid RETURNING " COMMENT_COLS }};

GH_SQL(SQL_DELETE) = {{
    "DELETE FROM media_comments WHERE id = $1::uuid" }};

/* A comment of a row of COMMENT_COLS; the caller checks gh_row_failed. */
static json_t *
comment_json(struct gh_row *r)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
	    "id", gh_row_str(r, CC_ID),
	    "media_id", gh_row_str(r, CC_MEDIA),
	    "user_id", gh_row_str(r, CC_USER),
	    "body", gh_row_str(r, CC_BODY),
	    "created_at", gh_row_time(r, CC_CREATED),
	    "updated_at", gh_row_time(r, CC_UPDATED));
}

/* The one comment a statement returned. */
static void
reply_comment(struct gh_req *req, int status, const PGresult *res)
{
	struct gh_row	 r = GH_ROW(res, 0);
	json_t		*out = comment_json(&r);

	if (gh_row_failed(req, &r)) {
		json_decref(out);
		return;
	}
	gh_reply_json(req, status, out);
}

static const char *
valid_body(const char *s)
{
	return media_valid_text(s, COMMENT_MAX, 1);
}

static const struct gh_field comment_fields[] = {
	{ "body", GH_STRING, .maxlen = COMMENT_MAX, .valid = valid_body },
	{ NULL }
};

/* The item's id when the signed-in user may see it; else answers 404. */
static const char *
visible_item(struct gh_req *req)
{
	struct gh_row	 r;
	PGresult	*res;
	const char	*id;

	if ((res = media_find(req, gh_param(req, "id"), MEDIA_SEE)) == NULL)
		return NULL;
	r = GH_ROW(res, 0);
	id = gh_row_str(&r, MC_ID);
	return gh_row_failed(req, &r) ? NULL : id;
}

void
media_comment_add(struct gh_req *req)
{
	struct gh_values v;
	const char	*p[3];
	PGresult	*res;

	if (gh_auth_require(req, NULL) != 0 ||
	    gh_body_json(req, comment_fields, &v) != 0 ||
	    (p[0] = visible_item(req)) == NULL)
		return;
	p[1] = gh_auth_user(req)->sub;
	p[2] = gh_vstr(&v, 0);
	if ((res = gh_db_query(req, SQL_ADD, 3, p)) == NULL)
		return;
	reply_comment(req, 201, res);
}

static const struct gh_field item_params[] = {
	MEDIA_PAGE_FIELDS,
	{ NULL }
};

/*
 * GET /api/v1/media/{id}/comments: oldest first, with the count of all
 * the item's comments; an empty list is 200 with [].
 */
void
media_comments(struct gh_req *req)
{
	struct gh_values v;
	struct media_page mp;
	struct gh_row	 r;
	const char	*p[5];
	PGresult	*res, *count;
	json_t		*out;
	long long	 n;

	if (gh_auth_require(req, NULL) != 0 ||
	    media_page_init(req, item_params, &v, &mp) != 0 ||
	    (p[0] = visible_item(req)) == NULL)
		return;
	p[1] = mp.pg.key[0];
	p[2] = mp.pg.key[1];
	p[3] = mp.after;
	p[4] = mp.pg.fetch;
	if ((res = gh_db_query(req, SQL_BY_ITEM, 5, p)) == NULL ||
	    (count = gh_db_query(req, SQL_COUNT, 1, p)) == NULL)
		return;
	r = GH_ROW(count, 0);
	n = gh_row_int(&r, CN_COUNT);
	if (gh_row_failed(req, &r) ||
	    (out = media_page_json(req, &mp, res, comment_json,
	    comment_keys)) == NULL)
		return;
	json_object_set_new(out, "count", json_integer(n));
	gh_reply_json(req, 200, out);
}

static const struct gh_field user_params[] = {
	MEDIA_PAGE_FIELDS,
	{ "user", GH_STRING | GH_OPTIONAL, .valid = media_valid_user },
	{ NULL }
};
enum { CQ_USER = MP__COUNT };

/* GET /api/v1/media/comments?user=me|<id>: newest first. */
void
media_comments_by_user(struct gh_req *req)
{
	struct gh_values v;
	struct media_page mp;
	const char	*p[7];
	PGresult	*res;

	if (gh_auth_require(req, NULL) != 0 ||
	    media_page_init(req, user_params, &v, &mp) != 0)
		return;
	p[0] = gh_vhas(&v, CQ_USER) ?
	    media_user_param(req, gh_vstr(&v, CQ_USER)) :
	    gh_auth_user(req)->sub;
	p[1] = gh_auth_user(req)->sub;
	p[2] = media_admin_param(req);
	p[3] = mp.pg.key[0];
	p[4] = mp.pg.key[1];
	p[5] = mp.after;
	p[6] = mp.pg.fetch;
	if ((res = gh_db_query(req, SQL_BY_USER, 7, p)) == NULL)
		return;
	media_page_reply(req, &mp, res, comment_json, comment_keys);
}

/*
 * The comment, locked, when it is the user's own or they are an admin;
 * inside the caller's transaction.  Answers 404 or 403 itself.
 */
static int
own_comment(struct gh_req *req, const char **cid)
{
	struct gh_row	 r;
	const char	*p[2], *author;
	PGresult	*res;

	*cid = gh_param(req, "cid");
	if ((p[1] = visible_item(req)) == NULL)
		return -1;
	if (!gh_is_uuid(*cid))
		return gh_problem(req, 404, "no such comment");
	p[0] = *cid;
	if ((res = gh_db_query(req, SQL_GET, 2, p)) == NULL)
		return -1;
	if (gh_rows(res) == 0)
		return gh_problem(req, 404, "no such comment");
	r = GH_ROW(res, 0);
	author = gh_row_str(&r, CG_USER);
	if (gh_row_failed(req, &r))
		return -1;
	if (strcmp(author, gh_auth_user(req)->sub) != 0 &&
	    !gh_auth_is_admin(req))
		return gh_problem(req, 403, "only its author or an admin may "
		    "change a comment");
	return 0;
}

void
media_comment_edit(struct gh_req *req)
{
	struct gh_values v;
	const char	*p[2];
	PGresult	*res;

	if (gh_auth_require(req, NULL) != 0 ||
	    gh_body_json(req, comment_fields, &v) != 0 ||
	    gh_db_begin(req) != 0 || own_comment(req, &p[0]) != 0)
		return;
	p[1] = gh_vstr(&v, 0);
	if ((res = gh_db_query(req, SQL_EDIT, 2, p)) == NULL ||
	    gh_db_commit(req) != 0)
		return;
	reply_comment(req, 200, res);
}

void
media_comment_delete(struct gh_req *req)
{
	const char	*cid;

	if (gh_auth_require(req, NULL) != 0 || gh_db_begin(req) != 0 ||
	    own_comment(req, &cid) != 0 ||
	    gh_db_query(req, SQL_DELETE, 1, &cid) == NULL ||
	    gh_db_commit(req) != 0)
		return;
	gh_reply(req, 204, NULL, NULL, 0);
}
