/*
 * Uploads: a raw body (metadata in the query) or a multipart/form-data
 * form (fields title, description, visibility and one file), streamed to
 * a temporary file with its SHA-256 made on the way, the type decided from
 * the first bytes, then fsynced, renamed into place and its row inserted.
 * Any failure leaves neither a file nor a row.  With an Idempotency-Key,
 * an upload sent again (its answer lost) answers the first one's answer
 * and stores nothing twice.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "handlers.h"
#include "idempotency.h"
#include "item.h"
#include "multipart.h"
#include "sniff.h"
#include "store.h"
#include "thumb.h"

#define FORM_FIELD_MAX	(MEDIA_DESC_MAX * 4)	/* bytes of a text field */

GH_SQL(SQL_USED) = {{
    "SELECT coalesce(sum(size), 0) FROM media WHERE owner = $1::uuid" }};
enum { US_USED };

GH_SQL(SQL_INSERT) = {{
    "INSERT INTO media AS m (owner, title, description, visibility, "
    " mime_type, size, sha256, storage_path, filename, width, height, "
    " thumb_path, thumb_width, thumb_height) "
    "SELECT $1::uuid, $2, $3, $4, $5, $6::bigint, $7, $8, $9, $10::integer, "
    " $11::integer, $13, $14::integer, $15::integer "
    "WHERE $12::bigint = 0 OR (SELECT coalesce(sum(size), 0) FROM media "
    " WHERE owner = $1::uuid) + $6::bigint <= $12::bigint "
    "RETURNING " MEDIA_COLS }};

struct upload_meta {
	const char	*title;
	const char	*description;
	const char	*visibility;
	const char	*filename;	/* as sent; NULL when none */
	const char	*declared;	/* the file's Content-Type, or NULL */
	long long	 length;	/* the file's size when known, or -1 */
};

struct upload {
	struct upload_meta m;
	EVP_MD_CTX	*md;
	char		*tmpname;
	int		 fd;
	long long	 size;
	unsigned char	 head[MEDIA_SNIFF_LEN];
	size_t		 headlen;
	const struct media_type *type;
	char		 sha[65];
	uint32_t	 w, h;
	char		*path;
	struct media_thumb thumb;
};

/* Room for a chunk of the body and what a multipart boundary straddles. */
static char	 iobuf[64 * 1024 + MULTIPART_HEAD_MAX];

/*
 * A client's file name, reduced to its last component; it is only ever
 * shown back (Content-Disposition), never part of a path on disk.
 */
static const char *
base_name(const char *s)
{
	const char	*p;

	for (p = s; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			s = p + 1;
	return *s == '\0' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 ?
	    NULL : s;
}

/*
 * Embeddings, overrides and isolates (and the marks) reorder what a user
 * sees of a name, so that its extension is not the one shown; s is valid
 * UTF-8 already.
 */
static int
has_bidi_control(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long		 c;

	while (*p != '\0' && (c = media_utf8_next(&p)) >= 0)
		if (c == 0x061c || c == 0x200e || c == 0x200f ||
		    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
			return 1;
	return 0;
}

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

static const char *
valid_filename(const char *s)
{
	const char	*why;

	if ((why = media_valid_text(s, MEDIA_FILENAME_MAX, 0)) != NULL)
		return why;
	if (has_bidi_control(s))
		return "must not contain bidirectional controls (they make "
		    "\"gpj.exe\" look like \"exe.jpg\")";
	return NULL;
}

/*
 * Needed before the file's bytes: its extension must fit their type.  A
 * name given empty is none.
 */
static int
filename_validate(struct gh_req *req, struct upload_meta *m)
{
	const char	*why;

	if (m->filename == NULL || *m->filename == '\0') {
		m->filename = NULL;
		return 0;
	}
	if ((why = valid_filename(m->filename)) != NULL)
		return gh_problem_field(req, 422, "filename", "%s", why);
	m->filename = base_name(m->filename);
	return 0;
}

/* Defaults, then the checks of a form's fields, all named at once. */
static int
meta_validate(struct gh_req *req, struct upload_meta *m)
{
	const char	*why;

	if (m->title == NULL)
		m->title = "";
	if (m->description == NULL)
		m->description = "";
	if (m->visibility == NULL)
		m->visibility = "private";
	if ((why = valid_title(m->title)) != NULL)
		gh_field_error(req, "title", "%s", why);
	if ((why = valid_description(m->description)) != NULL)
		gh_field_error(req, "description", "%s", why);
	if ((why = media_valid_visibility(m->visibility)) != NULL)
		gh_field_error(req, "visibility", "%s", why);
	return gh_errors_reply(req, 422);
}

static long long
content_length(struct gh_req *req)
{
	const char	*cl, *errstr;
	long long	 n;

	cl = gh_env(req, "CONTENT_LENGTH");
	if (cl == NULL || *cl == '\0')
		return -1;
	n = gh_strtonum(cl, 0, (long long)1 << 50, &errstr);
	return errstr != NULL ? -2 : n;
}

/* size is the Content-Length, or 0 when the body outgrew the limit. */
static int
too_large(struct gh_req *req, long long size)
{
	if (size > 0)
		return gh_problem(req, 413, "the file is %lld bytes; the limit "
		    "is %lld", size, media_cfg.max);
	return gh_problem(req, 413, "the file is larger than the limit of "
	    "%lld bytes", media_cfg.max);
}

static int
over_quota(struct gh_req *req, long long used, long long size)
{
	return gh_problem_json(req, 507, gh_printf(&req->arena, "storage "
	    "quota exceeded: %lld of %lld bytes are used, and this file needs "
	    "%lld more; delete some files first", used, media_cfg.quota, size),
	    json_pack("{s:I, s:I}", "quota_bytes", (json_int_t)media_cfg.quota,
	    "used_bytes", (json_int_t)used));
}

/* What SQL_USED says the owner's files take. */
static int
used_bytes(struct gh_req *req, const PGresult *res, long long *used)
{
	struct gh_row	 r = GH_ROW(res, 0);

	*used = gh_row_int(&r, US_USED);
	return gh_row_failed(req, &r);
}

/* Refuses what cannot fit before a byte of it is read. */
static int
precheck(struct gh_req *req, long long length)
{
	const char	*sub = gh_auth_user(req)->sub;
	PGresult	*res;
	long long	 used;

	if (length > media_cfg.max)
		return too_large(req, length);
	if (length == 0)
		return gh_problem(req, 400, "the body is empty; send the "
		    "file's bytes");
	if (media_cfg.quota == 0 || length < 0)
		return 0;
	if ((res = gh_db_query(req, SQL_USED, 1, &sub)) == NULL ||
	    used_bytes(req, res, &used) != 0)
		return -1;
	if (used + length > media_cfg.quota)
		return over_quota(req, used, length);
	return 0;
}

static int
type_check(struct gh_req *req, struct upload *u)
{
	u->type = media_sniff(u->head, u->headlen);
	if (u->type == NULL)
		return gh_problem(req, 415, "the file's content is none of "
		    "the allowed types (JPEG, PNG, GIF, WebP, MP4, WebM, MP3, "
		    "Ogg, PDF)");
	if (!media_declared_ok(u->type, u->m.declared))
		return gh_problem(req, 415, "the file's content is %s, but it "
		    "was declared as %.100s", u->type->mime, u->m.declared);
	if (!media_ext_ok(u->type, u->m.filename))
		return gh_problem(req, 415, "the file's content is %s, which "
		    "its name's extension does not fit", u->type->mime);
	return 0;
}

static int
disk_error(struct gh_req *req, const char *what)
{
	int	 e = errno;

	gh_log_errx("store", "%s: %s", what, strerror(e));
	if (e == ENOSPC || e == EDQUOT)
		return gh_problem(req, 507, "the server has no room for the "
		    "file now");
	return gh_problem(req, 500, "internal error");
}

/* Takes the next bytes of the file: limit, type, disk, digest. */
static int
file_feed(struct gh_req *req, struct upload *u, const char *buf, size_t n)
{
	size_t	 k;

	if (n == 0)
		return 0;
	if (u->size + (long long)n > media_cfg.max)
		return too_large(req, 0);
	if (u->type == NULL) {
		k = sizeof(u->head) - u->headlen;
		k = k < n ? k : n;
		memcpy(u->head + u->headlen, buf, k);
		u->headlen += k;
		if (u->headlen == sizeof(u->head) && type_check(req, u) != 0)
			return -1;
	}
	if (gh_write_all(u->fd, buf, n) != 0)
		return disk_error(req, "write");
	if (EVP_DigestUpdate(u->md, buf, n) != 1)
		return gh_problem(req, 500, "internal error");
	u->size += (long long)n;
	return 0;
}

static ssize_t
fd_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	return pread(*(int *)ctx, buf, len, (off_t)off);
}

/* The whole file is in: its type, digest, durability and dimensions. */
static int
file_finish(struct gh_req *req, struct upload *u)
{
	unsigned char	 sha[32];

	if (u->size == 0)
		return gh_problem(req, 400, "the file is empty");
	if (u->type == NULL && type_check(req, u) != 0)
		return -1;
	if (EVP_DigestFinal_ex(u->md, sha, NULL) != 1)
		return gh_problem(req, 500, "internal error");
	gh_hex(u->sha, sha, sizeof(sha));
	/* nginx's workers read it through the root's group; nobody writes. */
	if (fchmod(u->fd, 0644) != 0 || fsync(u->fd) != 0)
		return disk_error(req, "fsync");
	media_dimensions(u->type->mime, fd_pread, &u->fd, &u->w, &u->h);
	return 0;
}

/* ---------------------------------------------------------------- raw */

static int
receive_raw(struct gh_req *req, struct upload *u, long long length)
{
	size_t	 n;

	while ((n = gh_body_chunk(req, iobuf, sizeof(iobuf))) > 0)
		if (file_feed(req, u, iobuf, n) != 0)
			return -1;
	if (length >= 0 && u->size != length)
		return gh_problem(req, 400, "the body ended after %lld of %lld "
		    "bytes", u->size, length);
	return 0;
}

/* ---------------------------------------------------------------- form */

/* Where a part's content goes: the file, or a text field's buffer. */
struct sink {
	struct gh_req	*req;
	struct upload	*u;
	char		*field;
	size_t		 len;
};

static size_t
body_read(void *req, char *buf, size_t len)
{
	return gh_body_chunk(req, buf, len);
}

static int
file_sink(void *ctx, const char *buf, size_t n)
{
	struct sink	*s = ctx;

	return file_feed(s->req, s->u, buf, n);
}

static int
field_sink(void *ctx, const char *buf, size_t n)
{
	struct sink	*s = ctx;

	if (s->len + n > FORM_FIELD_MAX)
		return gh_problem(s->req, 422, "a form field is too long");
	memcpy(s->field + s->len, buf, n);
	s->len += n;
	return 0;
}

/* The parser's failure, answered; the sink's has been already. */
static int
form_failed(struct gh_req *req, const struct multipart *mp)
{
	if (mp->why == NULL)
		return -1;
	if (mp->field != NULL)
		return gh_problem_field(req, mp->status, mp->field, "%s",
		    mp->why);
	return gh_problem(req, mp->status, "%s", mp->why);
}

/* A text field of the form, checked as UTF-8 text later. */
static int
form_field(struct gh_req *req, struct multipart *mp, struct upload *u,
    const char *name)
{
	struct sink	 s = { req, u, NULL, 0 };
	const char	**dst;

	if (strcmp(name, "title") == 0)
		dst = &u->m.title;
	else if (strcmp(name, "description") == 0)
		dst = &u->m.description;
	else if (strcmp(name, "visibility") == 0)
		dst = &u->m.visibility;
	else
		return gh_problem_field(req, 422, name, "is not a field "
		    "of an upload (file, title, description, visibility)");
	if (*dst != NULL)
		return gh_problem_field(req, 422, name, "is given twice");
	if ((s.field = gh_alloc(&req->arena, FORM_FIELD_MAX + 1)) == NULL)
		return gh_problem(req, 500, "out of memory");
	if (multipart_content(mp, field_sink, &s) != 0)
		return form_failed(req, mp);
	if (memchr(s.field, '\0', s.len) != NULL)
		return gh_problem_field(req, 422, name, "must not contain "
		    "NUL");
	s.field[s.len] = '\0';
	*dst = s.field;
	return 0;
}

/*
 * multipart/form-data (multipart.c), as it streams: the file part goes
 * to disk; text fields may come before or after it.
 */
static int
receive_form(struct gh_req *req, struct upload *u, const char *boundary)
{
	struct multipart mp;
	struct multipart_part part;
	struct sink	 file = { req, u, NULL, 0 };
	int		 rc, files = 0;

	multipart_init(&mp, boundary, body_read, req, iobuf, sizeof(iobuf));
	if (multipart_start(&mp) != 0)
		return form_failed(req, &mp);
	while ((rc = multipart_next(&mp, &req->arena, &part)) == 1) {
		if (strcmp(part.name, "file") != 0) {
			if (form_field(req, &mp, u, part.name) != 0)
				return -1;
			continue;
		}
		if (files++ > 0)
			return gh_problem(req, 400, "send one file per upload");
		u->m.filename = part.filename;
		u->m.declared = part.ctype;
		if (filename_validate(req, &u->m) != 0)
			return -1;
		if (multipart_content(&mp, file_sink, &file) != 0)
			return form_failed(req, &mp);
	}
	if (rc != 0)
		return form_failed(req, &mp);
	if (files == 0)
		return gh_problem_field(req, 422, "file", "is required");
	return 0;
}

/* ---------------------------------------------------------------- commit */

/*
 * With an Idempotency-Key, the key is claimed once the file is in: what
 * the upload asks is its bytes (their SHA-256 and size) and metadata.
 * GH_IDEM_CLAIMED; else answered, with the first upload's answer when
 * this is the same upload again.
 */
static int
upload_claim(struct gh_req *req, struct upload *u, struct gh_idem *k)
{
	json_t	*what;
	int	 rc;

	k->uid = gh_auth_user(req)->sub;
	what = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s?}", "sha256", u->sha,
	    "size", (json_int_t)u->size, "title", u->m.title, "description",
	    u->m.description, "visibility", u->m.visibility, "filename",
	    u->m.filename);
	if (what == NULL ||
	    (k->hash = gh_idem_hash(&req->arena, "upload", what)) == NULL) {
		json_decref(what);
		return gh_problem(req, 500, "out of memory");
	}
	json_decref(what);
	if ((rc = gh_idem_claim(req, k)) == GH_IDEM_REPLAY) {
		/* The same bytes: the stored file's ETag is this one's. */
		media_content_headers(req, u->sha);
		if (k->ref != NULL)
			gh_header(req, "Location", gh_printf(&req->arena,
			    "/api/v1/media/%s", k->ref));
		gh_idem_replay(req, k);
	}
	return rc;
}

/* The answer of the row inserted: its body and id, or -1 answered. */
static int
upload_answer(struct gh_req *req, PGresult *res, char **body,
    const char **id)
{
	struct gh_row	 r = GH_ROW(res, 0);
	json_t		*out;
	char		*s;

	out = media_json(&r);
	*id = gh_row_str(&r, MC_ID);
	if (gh_row_failed(req, &r)) {
		json_decref(out);
		return -1;
	}
	s = out != NULL ? json_dumps(out, JSON_COMPACT) : NULL;
	json_decref(out);
	if (s == NULL || (*body = gh_strdup(&req->arena, s)) == NULL) {
		free(s);
		return gh_problem(req, 500, "out of memory");
	}
	free(s);
	return 0;
}

/*
 * Places the file and inserts its row, with the key's answer when there
 * is a key; a failure of any leaves neither.  The owner's lock makes
 * the quota check and the insert one.  The answer's body and the item's
 * id, or -1 answered.
 */
static int
upload_commit(struct gh_req *req, struct upload *u, const struct gh_idem *k,
    char **body, const char **id)
{
	const char	*p[15], *sub = gh_auth_user(req)->sub;
	PGresult	*res;
	long long	 used;
	char		 size[24], w[12], h[12], quota[24], tw[12], th[12];
	int		 rc;

	if (media_place(&req->arena, u->tmpname, &u->path) != 0)
		return disk_error(req, "place");
	u->tmpname = NULL;
	if (u->thumb.tmpname != NULL) {
		if (media_place(&req->arena, u->thumb.tmpname,
		    &u->thumb.path) != 0)
			return disk_error(req, "place");
		u->thumb.tmpname = NULL;
	}
	snprintf(tw, sizeof(tw), "%u", u->thumb.w);
	snprintf(th, sizeof(th), "%u", u->thumb.h);
	snprintf(size, sizeof(size), "%lld", u->size);
	snprintf(w, sizeof(w), "%u", u->w);
	snprintf(h, sizeof(h), "%u", u->h);
	snprintf(quota, sizeof(quota), "%lld", media_cfg.quota);
	p[0] = sub;
	p[1] = u->m.title;
	p[2] = u->m.description;
	p[3] = u->m.visibility;
	p[4] = u->type->mime;
	p[5] = size;
	p[6] = u->sha;
	p[7] = u->path;
	p[8] = u->m.filename;
	p[9] = u->w != 0 ? w : NULL;
	p[10] = u->h != 0 ? h : NULL;
	p[11] = quota;
	p[12] = u->thumb.path;
	p[13] = u->thumb.path != NULL ? tw : NULL;
	p[14] = u->thumb.path != NULL ? th : NULL;
	if (gh_db_begin(req) != 0 ||
	    gh_db_query(req, media_sql_lock_owner, 1, &sub) == NULL ||
	    (res = gh_db_query(req, SQL_INSERT, 15, p)) == NULL)
		return -1;
	if (gh_rows(res) == 0) {
		if ((res = gh_db_query(req, SQL_USED, 1, &sub)) != NULL &&
		    used_bytes(req, res, &used) == 0)
			over_quota(req, used, u->size);
		return -1;
	}
	if (upload_answer(req, res, body, id) != 0 ||
	    (k->claim != NULL && gh_idem_done(req, k, 201, *body, *id) != 0))
		return -1;
	if ((rc = gh_db_commit(req)) != 0) {
		/*
		 * The row may exist after all: its files must stay.  If
		 * it does not, they are orphans, and the sweep's.
		 */
		if (rc == GH_DB_UNKNOWN)
			u->path = u->thumb.path = NULL;
		return -1;
	}
	return 0;
}

static const struct gh_field raw_params[] = {
	{ "title", GH_STRING | GH_OPTIONAL | GH_EMPTY_OK,
	    .maxlen = MEDIA_TITLE_MAX, .valid = valid_title },
	{ "description", GH_STRING | GH_OPTIONAL | GH_EMPTY_OK,
	    .maxlen = MEDIA_DESC_MAX, .valid = valid_description },
	{ "visibility", GH_STRING | GH_OPTIONAL,
	    .valid = media_valid_visibility },
	{ "filename", GH_STRING | GH_OPTIONAL | GH_EMPTY_OK,
	    .maxlen = MEDIA_FILENAME_MAX, .valid = valid_filename },
	{ NULL }
};
enum { RQ_TITLE, RQ_DESCRIPTION, RQ_VISIBILITY, RQ_FILENAME };

static void
json_free(void *p)
{
	json_decref(p);
}

/*
 * The metadata of a raw upload, declared in raw_params, from the query.
 * They are the upload's fields, the same as a form's: a bad one is 422
 * as in a form (where a list's bad parameter is 400), with every bad one
 * named, so gh_query_params's answer will not do.
 */
static int
raw_meta(struct gh_req *req, struct upload_meta *m)
{
	struct gh_values v;
	const char	*q = req->query != NULL ? req->query : "";
	json_t		*obj, *errors, *e;
	size_t		 i;

	if ((obj = json_object()) == NULL ||
	    gh_defer(&req->arena, json_free, obj) != 0) {
		json_decref(obj);
		return gh_problem(req, 500, "out of memory");
	}
	if (gh_params_parse(q, strlen(q), obj) != 0 ||
	    (errors = json_array()) == NULL)
		return gh_problem(req, 500, "out of memory");
	if (gh_params_validate(obj, raw_params, &v, errors, GH_IN_QUERY) > 0) {
		json_array_foreach(errors, i, e)
			gh_field_error(req,
			    json_string_value(json_object_get(e, "field")),
			    "%s", json_string_value(json_object_get(e,
			    "detail")));
		json_decref(errors);
		return gh_errors_reply(req, 422);
	}
	json_decref(errors);
	m->title = gh_vstr(&v, RQ_TITLE);
	m->description = gh_vstr(&v, RQ_DESCRIPTION);
	m->visibility = gh_vstr(&v, RQ_VISIBILITY);
	m->filename = gh_vstr(&v, RQ_FILENAME);
	m->declared = gh_env(req, "CONTENT_TYPE");
	if (m->declared != NULL && *m->declared == '\0')
		m->declared = NULL;
	/* Checked by the table already: only the defaults and the name. */
	return filename_validate(req, m) != 0 ? -1 : meta_validate(req, m);
}

/*
 * The upload; with an Idempotency-Key (optional), claimed once the file
 * is in and before its thumbnail is made, so that an upload sent again
 * costs its transfer only.
 */
void
media_upload(struct gh_req *req)
{
	struct upload	*u;
	struct gh_idem	 k = { .t = &media_keys };
	const char	*why, *id = NULL;
	char		 boundary[MULTIPART_BOUNDARY_MAX + 1], *body = NULL;
	long long	 length;
	int		 form;

	if (gh_auth_require(req, NULL) != 0)
		return;
	if (!gh_is_uuid(gh_auth_user(req)->sub)) {
		gh_problem(req, 403, "the token's subject is not a user id");
		return;
	}
	if ((length = content_length(req)) == -2) {
		gh_problem(req, 400, "Content-Length is not a number");
		return;
	}
	if (gh_idem_key(req, 0, &k.key) != 0)
		return;
	if ((u = gh_calloc(&req->arena, 1, sizeof(*u))) == NULL) {
		gh_problem(req, 500, "out of memory");
		return;
	}
	u->fd = -1;
	if ((form = multipart_boundary(gh_env(req, "CONTENT_TYPE"), boundary,
	    &why)) == -1) {
		gh_problem(req, 400, "%s", why);
		return;
	}
	/* A form's length is more than its file's: only the stream counts. */
	if ((!form && raw_meta(req, &u->m) != 0) ||
	    precheck(req, !form ? length : -1) != 0)
		return;
	if ((u->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(u->md, EVP_sha256(), NULL) != 1) {
		gh_problem(req, 500, "out of memory");
		goto done;
	}
	if ((u->fd = media_tmp_open(&req->arena, &u->tmpname)) == -1) {
		disk_error(req, "open");
		goto done;
	}
	if ((!form ? receive_raw(req, u, length) :
	    receive_form(req, u, boundary)) != 0 ||
	    (form && meta_validate(req, &u->m) != 0) ||
	    file_finish(req, u) != 0)
		goto fail;
	close(u->fd);
	u->fd = -1;
	/* Answered otherwise, the first upload's answer too: this file goes. */
	if (k.key != NULL && upload_claim(req, u, &k) != GH_IDEM_CLAIMED)
		goto fail;
	if (media_thumb_make(req, u->tmpname, u->type->mime, u->w, u->h,
	    &u->thumb) != 0 || upload_commit(req, u, &k, &body, &id) != 0) {
		gh_idem_release(req, &k);
		goto fail;
	}
	/* Committed: the files are the row's now, whatever comes. */
	if (k.key != NULL)
		gh_idem_purge(req, &media_keys);
	media_content_headers(req, u->sha);
	gh_header(req, "Location", gh_printf(&req->arena, "/api/v1/media/%s",
	    id));
	gh_reply(req, 201, "application/json", body, strlen(body));
	goto done;
fail:
	if (u->fd != -1)
		close(u->fd);
	media_unlink(u->tmpname);
	media_unlink(u->path);
	media_unlink(u->thumb.tmpname);
	media_unlink(u->thumb.path);
done:
	EVP_MD_CTX_free(u->md);
}
