/* Items: list, get, change, delete. */
#include <string.h>

#include "handlers.h"
#include "item.h"
#include "sniff.h"
#include "store.h"

/*
 * Newest first, after the cursor's position ($5, $6) or, for older
 * clients, after the item starting_after names ($7).  Others' items only
 * when public, unless an admin asks.  An item starting_after names that
 * the caller may not see is no position at all (an empty page), so that
 * it tells nothing; a cursor is a position, whatever became of its item.
 */
GH_SQL(SQL_LIST) = {{
    "SELECT " MEDIA_COLS ", " MEDIA_KEY " FROM media m "
    "WHERE " MEDIA_VISIBLE("m", "$1", "$2") " "
    "AND ($3::uuid IS NULL OR m.owner = $3::uuid) "
    "AND ($4::text IS NULL OR m.mime_type = $4 "
    " OR m.mime_type LIKE $4 || '/%') "
    "AND ($5::timestamptz IS NULL OR "
    " (m.created_at, m.id) < ($5::timestamptz, $6::uuid)) "
    "AND ($7::uuid IS NULL OR (m.created_at, m.id) < "
    " (SELECT c.created_at, c.id FROM media c WHERE c.id = $7::uuid "
    "  AND " MEDIA_VISIBLE("c", "$1", "$2") ")) "
    "ORDER BY m.created_at DESC, m.id DESC LIMIT $8::integer" }};

GH_SQL(SQL_UPDATE) = {{
    "UPDATE media m SET title = coalesce($2, m.title), "
    " description = coalesce($3, m.description), "
    " visibility = coalesce($4, m.visibility), updated_at = now() "
    "WHERE m.id = $1::uuid RETURNING " MEDIA_COLS }};

GH_SQL(SQL_DELETE) = {{
    "DELETE FROM media WHERE id = $1::uuid" }};

/* ---------------------------------------------------------------- read */

void
media_get(struct gh_req *req)
{
	struct gh_row	 r;
	PGresult	*res;
	json_t		*out;

	if (gh_auth_require(req, NULL) != 0 ||
	    (res = media_find(req, gh_param(req, "id"), MEDIA_SEE)) == NULL)
		return;
	r = GH_ROW(res, 0);
	out = media_json(&r);
	if (gh_row_failed(req, &r)) {
		json_decref(out);
		return;
	}
	gh_reply_json(req, 200, out);
}

static const char *
valid_type_filter(const char *s)
{
	size_t	 n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789/.+-");

	return n == strlen(s) && n > 0 && n <= 100 ? NULL :
	    "must be a media type such as image/png, or its first half "
	    "such as image";
}

static const struct gh_field list_params[] = {
	MEDIA_PAGE_FIELDS,
	{ "owner", GH_STRING | GH_OPTIONAL, .valid = media_valid_user },
	{ "type", GH_STRING | GH_OPTIONAL, .valid = valid_type_filter },
	{ NULL }
};
enum { L_OWNER = MP__COUNT, L_TYPE };

/* GET /api/v1/media?limit=&cursor=&owner=&type= */
void
media_list(struct gh_req *req)
{
	struct gh_values v;
	struct media_page mp;
	const char	*p[8];
	PGresult	*res;

	if (gh_auth_require(req, NULL) != 0 ||
	    media_page_init(req, list_params, &v, &mp) != 0)
		return;
	p[0] = gh_auth_user(req)->sub;
	p[1] = media_admin_param(req);
	p[2] = media_user_param(req, gh_vstr(&v, L_OWNER));
	p[3] = gh_vstr(&v, L_TYPE);
	p[4] = mp.pg.key[0];
	p[5] = mp.pg.key[1];
	p[6] = mp.after;
	p[7] = mp.pg.fetch;
	if ((res = gh_db_query(req, SQL_LIST, 8, p)) == NULL)
		return;
	media_page_reply(req, &mp, res, media_json, media_item_keys);
}

/* ---------------------------------------------------------------- change */

enum { U_TITLE, U_DESCRIPTION, U_VISIBILITY };

static const char *
valid_title(const char *s)
{
	return media_valid_text(s, MEDIA_TITLE_MAX, 0);
}

static const char *
valid_description(const char *s)
{
	return media_valid_text(s, MEDIA_DESC_MAX, 1);
}

static const struct gh_field update_fields[] = {
	{ "title", GH_STRING | GH_OPTIONAL | GH_EMPTY_OK,
	    .maxlen = MEDIA_TITLE_MAX, .valid = valid_title },
	{ "description", GH_STRING | GH_OPTIONAL | GH_EMPTY_OK,
	    .maxlen = MEDIA_DESC_MAX, .valid = valid_description },
	{ "visibility", GH_STRING | GH_OPTIONAL, .valid = media_valid_visibility },
	{ NULL }
};

void
media_update(struct gh_req *req)
{
	struct gh_values v;
	struct gh_row	 r;
	PGresult	*res;
	const char	*p[4];
	json_t		*out;

	if (gh_auth_require(req, NULL) != 0 ||
	    gh_body_json(req, update_fields, &v) != 0)
		return;
	if (!gh_vhas(&v, U_TITLE) && !gh_vhas(&v, U_DESCRIPTION) &&
	    !gh_vhas(&v, U_VISIBILITY)) {
		gh_problem(req, 422, "nothing to change: give title, "
		    "description or visibility");
		return;
	}
	if (gh_db_begin(req) != 0 ||
	    media_find(req, gh_param(req, "id"), MEDIA_OWN) == NULL)
		return;
	p[0] = gh_param(req, "id");
	p[1] = gh_vstr(&v, U_TITLE);
	p[2] = gh_vstr(&v, U_DESCRIPTION);
	p[3] = gh_vstr(&v, U_VISIBILITY);
	if ((res = gh_db_query(req, SQL_UPDATE, 4, p)) == NULL ||
	    gh_db_commit(req) != 0)
		return;
	r = GH_ROW(res, 0);
	out = media_json(&r);
	if (gh_row_failed(req, &r)) {
		json_decref(out);
		return;
	}
	gh_reply_json(req, 200, out);
}

/* The row goes first; its file only once that has committed. */
void
media_delete(struct gh_req *req)
{
	struct gh_row	 r;
	PGresult	*res;
	const char	*id = gh_param(req, "id"), *path, *thumb;
	int		 may;

	if (gh_auth_require(req, NULL) != 0 || gh_db_begin(req) != 0 ||
	    (res = media_find(req, id, MEDIA_OWN)) == NULL)
		return;
	r = GH_ROW(res, 0);
	path = gh_row_str(&r, MC_PATH);
	thumb = gh_row_str_or_null(&r, MC_THUMB);
	if (gh_row_failed(req, &r))
		return;
	if (gh_db_query(req, SQL_DELETE, 1, &id) == NULL ||
	    media_files_may_go(req, &may) != 0 || gh_db_commit(req) != 0)
		return;
	media_files_gone(req, may, path);
	media_files_gone(req, may, thumb);
	gh_reply(req, 204, NULL, NULL, 0);
}
