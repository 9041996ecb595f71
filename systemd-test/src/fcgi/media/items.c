/* Items: list, get, change, delete, and what the other files share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media.h"

GH_SQL(SQL_GET) = {{
    "SELECT " MEDIA_COLS " FROM media m WHERE m.id = $1::uuid" }};
GH_SQL(SQL_GET_LOCKED) = {{
    "SELECT " MEDIA_COLS " FROM media m WHERE m.id = $1::uuid FOR UPDATE" }};

/*
 * Newest first; the cursor is the last id of the previous page.  Others'
 * items only when public, unless an admin asks.  A cursor the caller may
 * not see is no cursor at all (an empty page), so that it tells nothing.
 */
GH_SQL(SQL_LIST) = {{
    "SELECT " MEDIA_COLS " FROM media m "
    "WHERE (m.owner = $1::uuid OR m.visibility = 'public' OR $2::boolean) "
    "AND ($3::uuid IS NULL OR m.owner = $3::uuid) "
    "AND ($4::text IS NULL OR m.mime_type = $4 "
    " OR m.mime_type LIKE $4 || '/%') "
    "AND ($5::uuid IS NULL OR (m.created_at, m.id) < "
    " (SELECT c.created_at, c.id FROM media c WHERE c.id = $5::uuid "
    "  AND (c.owner = $1::uuid OR c.visibility = 'public' OR $2::boolean))) "
    "ORDER BY m.created_at DESC, m.id DESC LIMIT $6::integer" }};

GH_SQL(SQL_UPDATE) = {{
    "UPDATE media m SET title = coalesce($2, m.title), "
    " description = coalesce($3, m.description), "
    " visibility = coalesce($4, m.visibility), updated_at = now() "
    "WHERE m.id = $1::uuid RETURNING " MEDIA_COLS }};

GH_SQL(SQL_DELETE) = {{
    "DELETE FROM media WHERE id = $1::uuid" }};

int
media_is_admin(const struct gh_req *req)
{
	const struct gh_claims *c = gh_auth_user(req);

	return c != NULL && strcmp(c->role, "admin") == 0;
}

static int
is_owner(const struct gh_req *req, PGresult *res)
{
	const struct gh_claims *c = gh_auth_user(req);

	return c != NULL && strcmp(PQgetvalue(res, 0, MC_OWNER), c->sub) == 0;
}

/* Repr-Digest's value (RFC 9530) from the stored hex SHA-256. */
static char *
digest_header(struct gh_arena *a, const char *hex)
{
	unsigned char	 b[32];
	char		*s, *p;
	size_t		 i;
	unsigned	 v;

	for (i = 0; i < 32; i++) {
		if (sscanf(hex + i * 2, "%2x", &v) != 1)
			return NULL;
		b[i] = (unsigned char)v;
	}
	if ((s = gh_b64url_encode(a, b, 32)) == NULL)
		return NULL;
	/* Structured fields carry standard base64, padded. */
	for (p = s; *p != '\0'; p++)
		*p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
	return gh_printf(a, "sha-256=:%s=:", s);
}

static json_t *
int_or_null(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? json_null() :
	    json_integer(strtoll(PQgetvalue(res, row, col), NULL, 10));
}

static json_t *
str_or_null(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? json_null() :
	    json_string(PQgetvalue(res, row, col));
}

/* {"url", "width", "height"} of the item's thumbnail, or null. */
static json_t *
thumb_json(PGresult *res, int row, const char *id)
{
	char	 url[96];

	if (PQgetisnull(res, row, MC_THUMB))
		return json_null();
	snprintf(url, sizeof(url), "/api/v1/media/%s/thumbnail", id);
	return json_pack("{s:s, s:o, s:o}", "url", url,
	    "width", int_or_null(res, row, MC_THUMB_W),
	    "height", int_or_null(res, row, MC_THUMB_H));
}

json_t *
media_json(PGresult *res, int row)
{
	const char	*id = PQgetvalue(res, row, MC_ID);
	char		 url[96];

	snprintf(url, sizeof(url), "/api/v1/media/%s/file", id);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:o, "
	    "s:o, s:o, s:s, s:s, s:s, s:o, s:o}",
	    "id", id,
	    "owner", PQgetvalue(res, row, MC_OWNER),
	    "title", PQgetvalue(res, row, MC_TITLE),
	    "description", PQgetvalue(res, row, MC_DESCRIPTION),
	    "visibility", PQgetvalue(res, row, MC_VISIBILITY),
	    "type", PQgetvalue(res, row, MC_TYPE),
	    "size", (json_int_t)strtoll(PQgetvalue(res, row, MC_SIZE), NULL, 10),
	    "sha256", PQgetvalue(res, row, MC_SHA256),
	    "filename", str_or_null(res, row, MC_FILENAME),
	    "width", int_or_null(res, row, MC_WIDTH),
	    "height", int_or_null(res, row, MC_HEIGHT),
	    "created_at", PQgetvalue(res, row, MC_CREATED),
	    "updated_at", PQgetvalue(res, row, MC_UPDATED),
	    "url", url,
	    "thumbnail", thumb_json(res, row, id),
	    "tags", media_tag_names(PQgetvalue(res, row, MC_TAGS)));
}

/* ETag and Repr-Digest of the stored file. */
void
media_content_headers(struct gh_req *req, PGresult *res)
{
	const char	*hex = PQgetvalue(res, 0, MC_SHA256);
	char		*d;

	gh_header(req, "ETag", gh_printf(&req->arena, "\"%s\"", hex));
	if ((d = digest_header(&req->arena, hex)) != NULL)
		gh_header(req, "Repr-Digest", d);
}

/*
 * The item, when the user may have it.  An item they may not see is a
 * 404, the same as no item at all, so that private items cannot be found
 * by probing; one they see but do not own is a 403 for MEDIA_OWN.
 */
PGresult *
media_find(struct gh_req *req, const char *id, enum media_access need)
{
	PGresult	*res;
	int		 mine;

	if (id == NULL || !gh_is_uuid(id)) {
		gh_problem(req, 404, "no such media item");
		return NULL;
	}
	if ((res = gh_db_query(req, need == MEDIA_OWN ? SQL_GET_LOCKED :
	    SQL_GET, 1, &id)) == NULL)
		return NULL;
	if (PQntuples(res) == 0) {
		gh_problem(req, 404, "no such media item");
		return NULL;
	}
	if (need == MEDIA_LINKED)
		return res;
	mine = is_owner(req, res) || media_is_admin(req);
	if (!mine && strcmp(PQgetvalue(res, 0, MC_VISIBILITY), "public") != 0) {
		gh_problem(req, 404, "no such media item");
		return NULL;
	}
	if (need == MEDIA_OWN && !mine) {
		gh_problem(req, 403, "only the owner or an admin may do this");
		return NULL;
	}
	return res;
}

const char *
media_valid_visibility(const char *s)
{
	return strcmp(s, "private") == 0 || strcmp(s, "public") == 0 ? NULL :
	    "must be private or public";
}

/* ---------------------------------------------------------------- read */

void
media_get(struct gh_req *req)
{
	PGresult	*res;

	if (gh_auth_require(req, NULL) != 0 ||
	    (res = media_find(req, gh_param(req, "id"), MEDIA_SEE)) == NULL)
		return;
	gh_reply_json(req, 200, media_json(res, 0));
}

static const char *
valid_type_filter(const char *s)
{
	size_t	 n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789/.+-");

	return n == strlen(s) && n > 0 && n <= 100 ? NULL :
	    "must be a media type such as image/png, or its first half "
	    "such as image";
}

/* limit and starting_after of a cursor-paginated list; answers 400. */
int
media_page_params(struct gh_req *req, struct media_page *pg)
{
	const char	*lim, *errstr;

	pg->limit = 20;
	if ((lim = gh_query(req, "limit")) != NULL) {
		pg->limit = gh_strtonum(lim, 1, 100, &errstr);
		if (errstr != NULL)
			return gh_problem_field(req, 400, "limit", "must be "
			    "a whole number from 1 to 100");
	}
	pg->after = gh_query(req, "starting_after");
	if (pg->after != NULL && !gh_is_uuid(pg->after))
		return gh_problem_field(req, 400, "starting_after", "must "
		    "be the last id of the previous page");
	/* One more than asked for tells whether there is a next page. */
	snprintf(pg->fetch, sizeof(pg->fetch), "%lld", pg->limit + 1);
	return 0;
}

/* {"data": [...], "has_more": bool} from up to limit + 1 rows. */
json_t *
media_page_json(PGresult *res, const struct media_page *pg,
    json_t *(*row)(PGresult *, int))
{
	json_t	*data;
	int	 i, rows = PQntuples(res);

	if ((data = json_array()) == NULL)
		return NULL;
	for (i = 0; i < rows && i < pg->limit; i++)
		json_array_append_new(data, row(res, i));
	return json_pack("{s:o, s:b}", "data", data, "has_more",
	    rows > pg->limit);
}

/*
 * Answers a page from a statement of five parameters: $1 what the list
 * is of (a user, a tag), $2 the caller, $3 whether the caller is an
 * admin, $4 the cursor, $5 the rows to fetch.
 */
void
media_page_reply(struct gh_req *req, const struct gh_sql *sql, const char *of,
    const struct media_page *pg, json_t *(*row)(PGresult *, int))
{
	const char	*p[5];
	PGresult	*res;

	p[0] = of;
	p[1] = gh_auth_user(req)->sub;
	p[2] = media_is_admin(req) ? "true" : "false";
	p[3] = pg->after;
	p[4] = pg->fetch;
	if ((res = gh_db_query(req, sql, 5, p)) == NULL)
		return;
	gh_reply_json(req, 200, media_page_json(res, pg, row));
}

void
media_list(struct gh_req *req)
{
	struct media_page pg;
	const char	*p[6], *owner, *type;
	PGresult	*res;

	if (gh_auth_require(req, NULL) != 0 ||
	    media_page_params(req, &pg) != 0)
		return;
	owner = gh_query(req, "owner");
	type = gh_query(req, "type");
	if (owner != NULL && strcmp(owner, "me") == 0)
		owner = gh_auth_user(req)->sub;
	if (owner != NULL && !gh_is_uuid(owner)) {
		gh_problem_field(req, 400, "owner", "must be me or a user id");
		return;
	}
	if (type != NULL && valid_type_filter(type) != NULL) {
		gh_problem_field(req, 400, "type", "%s",
		    valid_type_filter(type));
		return;
	}
	p[0] = gh_auth_user(req)->sub;
	p[1] = media_is_admin(req) ? "true" : "false";
	p[2] = owner;
	p[3] = type;
	p[4] = pg.after;
	p[5] = pg.fetch;
	if ((res = gh_db_query(req, SQL_LIST, 6, p)) == NULL)
		return;
	gh_reply_json(req, 200, media_page_json(res, &pg, media_json));
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
	PGresult	*res;
	const char	*p[4];

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
	gh_reply_json(req, 200, media_json(res, 0));
}

/* The row goes first; its file only once that has committed. */
void
media_delete(struct gh_req *req)
{
	PGresult	*res;
	const char	*id = gh_param(req, "id");

	if (gh_auth_require(req, NULL) != 0 || gh_db_begin(req) != 0 ||
	    (res = media_find(req, id, MEDIA_OWN)) == NULL)
		return;
	if (gh_db_query(req, SQL_DELETE, 1, &id) == NULL ||
	    gh_db_commit(req) != 0)
		return;
	media_unlink(PQgetvalue(res, 0, MC_PATH));
	if (!PQgetisnull(res, 0, MC_THUMB))
		media_unlink(PQgetvalue(res, 0, MC_THUMB));
	gh_reply(req, 204, NULL, NULL, 0);
}
