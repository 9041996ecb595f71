/*
 * Comments on items the user may see: add, edit and delete one's own
 * (admins: any), list by item (oldest first) and by user (newest first),
 * with the item's count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media.h"

#define COMMENT_MAX	2000	/* code points */

#define COMMENT_COLS	"c.id, c.media_id, c.user_id, c.body, " \
		TS("c.created_at") ", " TS("c.updated_at")

GH_SQL(SQL_ADD) = {{
    "INSERT INTO media_comments AS c (media_id, user_id, body) "
    "VALUES ($1::uuid, $2::uuid, $3) RETURNING " COMMENT_COLS }};

GH_SQL(SQL_BY_ITEM) = {{
    "SELECT " COMMENT_COLS " FROM media_comments c "
    "WHERE c.media_id = $1::uuid AND ($2::uuid IS NULL OR "
    " (c.created_at, c.id) > (SELECT x.created_at, x.id "
    " FROM media_comments x WHERE x.id = $2::uuid)) "
    "ORDER BY c.created_at, c.id LIMIT $3::integer" }};

GH_SQL(SQL_COUNT) = {{
    "SELECT count(*) FROM media_comments WHERE media_id = $1::uuid" }};

/* A user's comments, on the items the viewer ($2, admin $3) may see. */
GH_SQL(SQL_BY_USER) = {{
    "SELECT " COMMENT_COLS " FROM media_comments c "
    "JOIN media m ON m.id = c.media_id "
    "WHERE c.user_id = $1::uuid "
    "AND (m.owner = $2::uuid OR m.visibility = 'public' OR $3::boolean) "
    "AND ($4::uuid IS NULL OR (c.created_at, c.id) < "
    " (SELECT x.created_at, x.id FROM media_comments x "
    " WHERE x.id = $4::uuid)) "
    "ORDER BY c.created_at DESC, c.id DESC LIMIT $5::integer" }};

GH_SQL(SQL_GET) = {{
    "SELECT c.user_id FROM media_comments c "
    "WHERE c.id = $1::uuid AND c.media_id = $2::uuid FOR UPDATE" }};

GH_SQL(SQL_EDIT) = {{
    "UPDATE media_comments c SET body = $2, updated_at = now() "
    "WHERE c.id = $1::uuid RETURNING " COMMENT_COLS }};

GH_SQL(SQL_DELETE) = {{
    "DELETE FROM media_comments WHERE id = $1::uuid" }};

static json_t *
comment_json(PGresult *res, int row)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
	    "id", PQgetvalue(res, row, 0),
	    "media_id", PQgetvalue(res, row, 1),
	    "user_id", PQgetvalue(res, row, 2),
	    "body", PQgetvalue(res, row, 3),
	    "created_at", PQgetvalue(res, row, 4),
	    "updated_at", PQgetvalue(res, row, 5));
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
	PGresult	*res;

	if ((res = media_find(req, gh_param(req, "id"), MEDIA_SEE)) == NULL)
		return NULL;
	return PQgetvalue(res, 0, MC_ID);
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
	gh_reply_json(req, 201, comment_json(res, 0));
}

/* GET /api/v1/media/{id}/comments: an empty list is 200 with []. */
void
media_comments(struct gh_req *req)
{
	struct media_page pg;
	const char	*p[3];
	PGresult	*res, *count;
	json_t		*out;

	if (gh_auth_require(req, NULL) != 0 ||
	    media_page_params(req, &pg) != 0 ||
	    (p[0] = visible_item(req)) == NULL)
		return;
	p[1] = pg.after;
	p[2] = pg.fetch;
	if ((res = gh_db_query(req, SQL_BY_ITEM, 3, p)) == NULL ||
	    (count = gh_db_query(req, SQL_COUNT, 1, p)) == NULL)
		return;
	if ((out = media_page_json(res, &pg, comment_json)) != NULL)
		json_object_set_new(out, "count", json_integer(
		    strtoll(PQgetvalue(count, 0, 0), NULL, 10)));
	gh_reply_json(req, 200, out);
}

/* GET /api/v1/media/comments?user=me|<id> */
void
media_comments_by_user(struct gh_req *req)
{
	struct media_page pg;
	const char	*user;

	if (gh_auth_require(req, NULL) != 0 ||
	    media_page_params(req, &pg) != 0)
		return;
	user = gh_query(req, "user");
	if (user == NULL || strcmp(user, "me") == 0)
		user = gh_auth_user(req)->sub;
	if (!gh_is_uuid(user)) {
		gh_problem_field(req, 400, "user", "must be me or a user "
		    "id");
		return;
	}
	media_page_reply(req, SQL_BY_USER, user, &pg, comment_json);
}

/*
 * The comment, locked, when it is the user's own or they are an admin;
 * inside the caller's transaction.  Answers 404 or 403 itself.
 */
static int
own_comment(struct gh_req *req, const char **cid)
{
	const char	*p[2];
	PGresult	*res;

	*cid = gh_param(req, "cid");
	if ((p[1] = visible_item(req)) == NULL)
		return -1;
	if (!gh_is_uuid(*cid))
		return gh_problem(req, 404, "no such comment");
	p[0] = *cid;
	if ((res = gh_db_query(req, SQL_GET, 2, p)) == NULL)
		return -1;
	if (PQntuples(res) == 0)
		return gh_problem(req, 404, "no such comment");
	if (strcmp(PQgetvalue(res, 0, 0), gh_auth_user(req)->sub) != 0 &&
	    !media_is_admin(req))
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
	gh_reply_json(req, 200, comment_json(res, 0));
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
