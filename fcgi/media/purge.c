/*
 * Deleting an account's media: the users live in the auth service's
 * database, which cannot reach this one, so a client that deletes an
 * account calls DELETE /api/v1/media/users/{user_id} too.  Everything of
 * the user goes in one transaction: their items (with the comments,
 * likes, ratings and tag links on them, by ON DELETE CASCADE), their
 * own comments, likes and ratings on others' items, and the answers their
 * Idempotency-Keys remember (titles, names); the files and thumbnails are
 * unlinked once that has committed.
 */
#include <string.h>
#include <strings.h>

#include "handlers.h"
#include "item.h"
#include "store.h"

GH_SQL(SQL_COMMENTS) = {{
    "DELETE FROM media_comments WHERE user_id = $1::uuid" }};
GH_SQL(SQL_LIKES) = {{
    "DELETE FROM media_likes WHERE user_id = $1::uuid" }};
GH_SQL(SQL_RATINGS) = {{
    "DELETE FROM media_ratings WHERE user_id = $1::uuid" }};
GH_SQL(SQL_KEYS) = {{
    "DELETE FROM media_upload_keys WHERE user_id = $1::uuid" }};
GH_SQL(SQL_ITEMS) = {{
    "DELETE FROM media WHERE owner = $1::uuid "
    "RETURNING storage_path, thumb_path, size" }};
enum { PI_PATH, PI_THUMB, PI_SIZE };

/* The rows a DELETE took, from libpq's command status. */
static json_int_t
affected(PGresult *res)
{
	const char	*errstr;
	long long	 n;

	n = gh_strtonum(PQcmdTuples(res), 0, GH_JSON_SAFE, &errstr);
	return errstr == NULL ? (json_int_t)n : 0;
}

/*
 * DELETE /api/v1/media/users/{user_id} ("me" for oneself): the user
 * themself or an admin, with a grant of their own password
 * (Gatehouse-Grant, from auth's password/verify), which this spends: a
 * grant deletes once.  200 with what went; a second call, with a new
 * grant, finds nothing and answers zeros.
 */
void
media_purge_user(struct gh_req *req)
{
	const char	*uid = gh_param(req, "user_id");
	struct gh_grant	 g;
	struct gh_row	 row;
	PGresult	*items, *c, *l, *r;
	long long	 bytes = 0;
	int		 i, may;

	if (gh_auth_require(req, NULL) != 0)
		return;
	if (uid != NULL && strcmp(uid, "me") == 0)
		uid = gh_auth_user(req)->sub;
	if (uid == NULL || !gh_is_uuid(uid)) {
		gh_problem(req, 404, "no such user");
		return;
	}
	if (strcasecmp(uid, gh_auth_user(req)->sub) != 0 &&
	    !gh_auth_is_admin(req)) {
		gh_problem(req, 403, "only the user themself or an admin may "
		    "delete a user's media");
		return;
	}
	/* The password, just typed, of whoever asks: a token is not enough. */
	if (gh_grant_require(req, GH_GRANT_DELETE_MEDIA, &g) != 0)
		return;
	/* Spent with the deletion: a failure below leaves the grant good. */
	if (gh_db_begin(req) != 0 || gh_grant_spend(req, &g) != 0 ||
	    gh_db_query(req, media_sql_lock_owner, 1, &uid) == NULL ||
	    (c = gh_db_query(req, SQL_COMMENTS, 1, &uid)) == NULL ||
	    (l = gh_db_query(req, SQL_LIKES, 1, &uid)) == NULL ||
	    (r = gh_db_query(req, SQL_RATINGS, 1, &uid)) == NULL ||
	    gh_db_query(req, SQL_KEYS, 1, &uid) == NULL ||
	    (items = gh_db_query(req, SQL_ITEMS, 1, &uid)) == NULL ||
	    media_files_may_go(req, &may) != 0 || gh_db_commit(req) != 0)
		return;
	/* Committed: a row that does not read still has its files go. */
	for (i = 0; i < gh_rows(items); i++) {
		row = GH_ROW(items, i);
		media_files_gone(req, may, gh_row_str_or_null(&row, PI_PATH));
		media_files_gone(req, may, gh_row_str_or_null(&row, PI_THUMB));
		bytes += gh_row_int(&row, PI_SIZE);
		if (row.bad >= 0)
			gh_log_errx("purge", "request %s: row %d of the "
			    "deleted items does not read", req->request_id !=
			    NULL ? req->request_id : "-", i);
	}
	gh_log_infox("purge", "request %s: user %s's media deleted by %s: "
	    "%d items, %lld bytes", req->request_id != NULL ?
	    req->request_id : "-", uid, gh_auth_user(req)->sub,
	    gh_rows(items), bytes);
	gh_reply_json(req, 200, json_pack("{s:s, s:i, s:I, s:I, s:I, s:I}",
	    "user_id", uid,
	    "items", gh_rows(items),
	    "bytes", (json_int_t)bytes,
	    "comments", affected(c),
	    "likes", affected(l),
	    "ratings", affected(r)));
}
