/*
 * Items as the handlers share them: finding one the caller may have, its
 * JSON, the headers of its content, and the pages of a list.  No handler
 * here: the handlers call this file, never each other.
 */
#include <stdio.h>
#include <string.h>

#include "item.h"
#include "store.h"

/*
 * The item, with whether the caller ($2, an admin when $3) may change it
 * and may see it, by the one rule of item.h; $2 is NULL when there is no
 * caller (a signed link), and so owns nothing.
 */
#define GET_COLS	MEDIA_COLS ", coalesce(" MEDIA_OWNED("m", "$2", "$3") \
		", false), coalesce(" MEDIA_VISIBLE("m", "$2", "$3") ", false)"
GH_SQL(SQL_GET) = {{
    "SELECT " GET_COLS " FROM media m WHERE m.id = $1::uuid" }};
GH_SQL(SQL_GET_LOCKED) = {{
    "SELECT " GET_COLS " FROM media m WHERE m.id = $1::uuid FOR UPDATE" }};
enum { G_OWNED = MC__COUNT, G_VISIBLE };

/*
 * Uploads of one owner queue here, so two cannot both pass the quota; a
 * purge of the owner's media takes it too.  The id is read as a uuid, so
 * that any spelling of it takes the same lock.
 */
const struct gh_sql media_sql_lock_owner[1] = {{
    "SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text, 5))" }};

const int media_item_keys[2] = { MC_KEY, MC_ID };

/* Shared until COMMIT: see media_files_may_go. */
GH_SQL(SQL_FILES_SHARED) = {{
    "SELECT pg_try_advisory_xact_lock_shared(" MEDIA_FILES_LOCK ")" }};
enum { FS_GOT };

/*
 * In the transaction that deletes rows, before its COMMIT: *may tells
 * whether their files may be unlinked after it.  Held shared until the
 * COMMIT, the lock keeps a backup from taking its snapshot before the
 * rows are gone, so the files of rows it can see are never unlinked
 * under it.  When a backup holds it, the files stay (orphans, that the
 * next sweep after the backup removes).  0, or -1 answered.
 */
int
media_files_may_go(struct gh_req *req, int *may)
{
	struct gh_row	 r;
	PGresult	*res;

	*may = 0;
	if ((res = gh_db_query(req, SQL_FILES_SHARED, 0, NULL)) == NULL)
		return -1;
	r = GH_ROW(res, 0);
	*may = gh_row_bool(&r, FS_GOT);
	return gh_row_failed(req, &r) ? -1 : 0;
}

/* A deleted row's file (or thumbnail, or NULL), once the row is gone. */
void
media_files_gone(struct gh_req *req, int may, const char *path)
{
	if (path == NULL)
		return;
	if (may)
		media_unlink(path);
	else
		gh_log_infox("store", "request %s: %s left for the sweep: a "
		    "backup is archiving the files", req->request_id != NULL ?
		    req->request_id : "-", path);
}

/* $3 of the statements that follow the rule: whether the caller is an admin. */
const char *
media_admin_param(const struct gh_req *req)
{
	return gh_auth_is_admin(req) ? "true" : "false";
}

/* Repr-Digest's value (RFC 9530) from the stored hex SHA-256. */
static char *
digest_header(struct gh_arena *a, const char *hex)
{
	unsigned char	 b[32];
	char		*s, *p;

	if (gh_unhex(hex, b, sizeof(b)) != 0 ||
	    (s = gh_b64url_encode(a, b, sizeof(b))) == NULL)
		return NULL;
	/* Structured fields carry standard base64, padded. */
	for (p = s; *p != '\0'; p++)
		*p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
	return gh_printf(a, "sha-256=:%s=:", s);
}

/* {"url", "width", "height"} of the item's thumbnail, or null. */
static json_t *
thumb_json(struct gh_row *r, const char *id)
{
	char	 url[96];

	if (gh_row_null(r, MC_THUMB))
		return json_null();
	snprintf(url, sizeof(url), "/api/v1/media/%s/thumbnail", id);
	return json_pack("{s:s, s:o, s:o}", "url", url,
	    "width", gh_row_json_int(r, MC_THUMB_W),
	    "height", gh_row_json_int(r, MC_THUMB_H));
}

/* The item of a row of MEDIA_COLS; the caller checks gh_row_failed. */
json_t *
media_json(struct gh_row *r)
{
	const char	*id = gh_row_str(r, MC_ID);
	char		 url[96];

	snprintf(url, sizeof(url), "/api/v1/media/%s/file", id);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:o, "
	    "s:o, s:o, s:s, s:s, s:s, s:o, s:o}",
	    "id", id,
	    "owner", gh_row_str(r, MC_OWNER),
	    "title", gh_row_str(r, MC_TITLE),
	    "description", gh_row_str(r, MC_DESCRIPTION),
	    "visibility", gh_row_str(r, MC_VISIBILITY),
	    "type", gh_row_str(r, MC_TYPE),
	    "size", (json_int_t)gh_row_int(r, MC_SIZE),
	    "sha256", gh_row_str(r, MC_SHA256),
	    "filename", gh_row_json_str(r, MC_FILENAME),
	    "width", gh_row_json_int(r, MC_WIDTH),
	    "height", gh_row_json_int(r, MC_HEIGHT),
	    "created_at", gh_row_time(r, MC_CREATED),
	    "updated_at", gh_row_time(r, MC_UPDATED),
	    "url", url,
	    "thumbnail", thumb_json(r, id),
	    "tags", media_tags_json(r, MC_TAGS));
}

/* ETag and Repr-Digest of the stored file. */
void
media_content_headers(struct gh_req *req, const char *sha256)
{
	char	*d;

	gh_header(req, "ETag", gh_printf(&req->arena, "\"%s\"", sha256));
	if ((d = digest_header(&req->arena, sha256)) != NULL)
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
	const struct gh_claims *c = gh_auth_user(req);
	const char	*p[3];
	struct gh_row	 r;
	PGresult	*res;
	int		 owned, visible;

	if (id == NULL || !gh_is_uuid(id)) {
		gh_problem(req, 404, "no such media item");
		return NULL;
	}
	p[0] = id;
	p[1] = need != MEDIA_LINKED && c != NULL && gh_is_uuid(c->sub) ?
	    c->sub : NULL;
	p[2] = need != MEDIA_LINKED ? media_admin_param(req) : "false";
	if ((res = gh_db_query(req, need == MEDIA_OWN ? SQL_GET_LOCKED :
	    SQL_GET, 3, p)) == NULL)
		return NULL;
	if (gh_rows(res) == 0) {
		gh_problem(req, 404, "no such media item");
		return NULL;
	}
	if (need == MEDIA_LINKED)
		return res;
	r = GH_ROW(res, 0);
	owned = gh_row_bool(&r, G_OWNED);
	visible = gh_row_bool(&r, G_VISIBLE);
	if (gh_row_failed(req, &r))
		return NULL;
	if (!visible) {
		gh_problem(req, 404, "no such media item");
		return NULL;
	}
	if (need == MEDIA_OWN && !owned) {
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

/* A parameter naming a user: "me" or their id. */
const char *
media_valid_user(const char *s)
{
	return strcmp(s, "me") == 0 || gh_is_uuid(s) ? NULL :
	    "must be me or a user id";
}

/* The id a parameter checked by media_valid_user names, or NULL. */
const char *
media_user_param(struct gh_req *req, const char *s)
{
	return s != NULL && strcmp(s, "me") == 0 ? gh_auth_user(req)->sub : s;
}

/* ---------------------------------------------------------------- pages */

const char *
media_valid_after(const char *s)
{
	return gh_is_uuid(s) ? NULL : "must be the last id of the previous page";
}

/*
 * A list's declared query parameters, MEDIA_PAGE_FIELDS first, into v
 * and mp; -1 having answered 400 naming every bad one.  A cursor and a
 * starting_after say two places to start: that is a bad request too.
 */
int
media_page_init(struct gh_req *req, const struct gh_field *fields,
    struct gh_values *v, struct media_page *mp)
{
	if (gh_query_params(req, fields, v) != 0 ||
	    gh_page_init(req, v, MP_LIMIT, MEDIA_PAGE_LIMIT, "tu",
	    &mp->pg) != 0)
		return -1;
	mp->after = gh_vstr(v, MP_AFTER);
	if (mp->after != NULL && gh_vhas(v, MP_CURSOR)) {
		gh_field_error(req, "starting_after", "give cursor or "
		    "starting_after, not both; cursor replaces it");
		return gh_errors_reply(req, 400);
	}
	return 0;
}

/*
 * {"data", "has_more", "next_cursor"} of the rows fetched for a page
 * (limit + 1), each made by row(); the key of the last one is read from
 * keycols.  NULL having answered 500 when a row does not convert.
 */
json_t *
media_page_json(struct gh_req *req, const struct media_page *mp,
    const PGresult *res, json_t *(*row)(struct gh_row *),
    const int *keycols)
{
	json_t		*data, *out;

	if ((data = gh_rows_json(req, res, gh_page_count(&mp->pg, res),
	    row)) == NULL)
		return NULL;
	if ((out = gh_page_json(&req->arena, &mp->pg, data, res,
	    keycols)) == NULL)
		gh_problem(req, 500, "out of memory");
	return out;
}

void
media_page_reply(struct gh_req *req, const struct media_page *mp,
    const PGresult *res, json_t *(*row)(struct gh_row *), const int *keycols)
{
	json_t	*out;

	if ((out = media_page_json(req, mp, res, row, keycols)) != NULL)
		gh_reply_json(req, 200, out);
}
