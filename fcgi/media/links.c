/*
 * Downloads of an item's file and of its thumbnail, and signed links.
 * The worker only decides: nginx sends the bytes from its internal
 * /_media/ location (X-Accel-Redirect), with ranges.  A signed link is HMAC-SHA256 over "<id>.<exp>" with a key only
 * the workers hold, so it works without a token until exp, for that item
 * only.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "handlers.h"
#include "item.h"
#include "sniff.h"

#define LINK_TTL_DEFAULT	3600

static char *
link_sig(struct gh_arena *a, const char *id, long long exp)
{
	unsigned char	 mac[32];
	char		 msg[64];
	int		 n;

	n = snprintf(msg, sizeof(msg), "%s.%lld", id, exp);
	if (n < 0 || (size_t)n >= sizeof(msg) ||
	    gh_hmac_sha256(media_cfg.link_key, media_cfg.link_keylen, msg,
	    (size_t)n, mac) != 0)
		return NULL;
	return gh_b64url_encode(a, mac, sizeof(mac));
}

/*
 * 0 when exp and sig make a live link to id; else answers 403.  exp is 0
 * when the link gave none.
 */
static int
link_check(struct gh_req *req, const char *id, long long exp,
    const char *sig)
{
	char	*want;

	if (media_cfg.link_key == NULL)
		return gh_problem(req, 403, "signed links are not enabled");
	if (exp == 0 || sig == NULL || !gh_is_uuid(id) ||
	    (want = link_sig(&req->arena, id, exp)) == NULL ||
	    strlen(sig) != strlen(want) ||
	    !gh_ct_equal(sig, want, strlen(want)))
		return gh_problem(req, 403, "the link's signature is not "
		    "valid");
	if (exp <= (long long)time(NULL))
		return gh_problem(req, 403, "the link has expired");
	return 0;
}

static const struct gh_field download_params[] = {
	{ "exp", GH_INT | GH_OPTIONAL, .min = 1, .max = 1LL << 40 },
	{ "sig", GH_STRING | GH_OPTIONAL | GH_EMPTY_OK },
	{ "download", GH_STRING | GH_OPTIONAL | GH_EMPTY_OK },
	{ NULL }
};
enum { DQ_EXP, DQ_SIG, DQ_DOWNLOAD };

/*
 * GET /api/v1/media/{id}/file, with a token or a signed link.  The ETag
 * is the content's SHA-256, so the worker answers If-None-Match itself
 * (nginx's own ETag, made from mtime and size, is turned off there).
 */
void
media_download(struct gh_req *req)
{
	struct gh_values v;
	struct gh_row	 r;
	const char	*id = gh_param(req, "id"), *inm, *dl, *sha, *type;
	const char	*filename, *path;
	PGresult	*res;

	if (gh_query_params(req, download_params, &v) != 0)
		return;
	if (gh_vhas(&v, DQ_EXP) || gh_vhas(&v, DQ_SIG)) {
		if (link_check(req, id, gh_vint(&v, DQ_EXP, 0),
		    gh_vstr(&v, DQ_SIG)) != 0 ||
		    (res = media_find(req, id, MEDIA_LINKED)) == NULL)
			return;
	} else if (gh_auth_require(req, NULL) != 0 ||
	    (res = media_find(req, id, MEDIA_SEE)) == NULL)
		return;
	r = GH_ROW(res, 0);
	sha = gh_row_str(&r, MC_SHA256);
	type = gh_row_str(&r, MC_TYPE);
	filename = gh_row_str_or_null(&r, MC_FILENAME);
	path = gh_row_str(&r, MC_PATH);
	if (gh_row_failed(req, &r))
		return;

	media_content_headers(req, sha);
	gh_header(req, "Cache-Control", "private, no-cache");
	inm = gh_header_in(req, "If-None-Match");
	if (inm != NULL && media_etag_matches(inm, sha)) {
		gh_reply(req, 304, NULL, NULL, 0);
		return;
	}
	dl = gh_vstr(&v, DQ_DOWNLOAD);
	gh_header(req, "Content-Type", type);
	gh_header(req, "Content-Disposition", media_disposition(&req->arena,
	    type, filename, dl != NULL && strcmp(dl, "0") != 0));
	gh_header(req, "X-Accel-Redirect", gh_printf(&req->arena,
	    "/_media/%s", path));
	gh_reply(req, 200, NULL, NULL, 0);
}

/*
 * GET /api/v1/media/{id}/thumbnail: whoever may see the item.  The name
 * on disk is random and never reused, so it is the ETag as well.
 */
void
media_thumbnail(struct gh_req *req)
{
	struct gh_row	 r;
	const char	*id = gh_param(req, "id"), *inm, *path;
	PGresult	*res;
	char		*etag;

	if (gh_auth_require(req, NULL) != 0 ||
	    (res = media_find(req, id, MEDIA_SEE)) == NULL)
		return;
	r = GH_ROW(res, 0);
	if ((path = gh_row_str_or_null(&r, MC_THUMB)) == NULL) {
		gh_problem(req, 404, "this item has no thumbnail");
		return;
	}
	etag = gh_printf(&req->arena, "\"t-%s\"", path + 6);
	gh_header(req, "ETag", etag);
	gh_header(req, "Cache-Control", "private, no-cache");
	inm = gh_header_in(req, "If-None-Match");
	if (inm != NULL && strstr(inm, etag) != NULL) {
		gh_reply(req, 304, NULL, NULL, 0);
		return;
	}
	gh_header(req, "Content-Type", "image/webp");
	gh_header(req, "X-Accel-Redirect", gh_printf(&req->arena,
	    "/_media/%s", path));
	gh_reply(req, 200, NULL, NULL, 0);
}

static const struct gh_field link_fields[] = {
	{ "expires_in", GH_INT | GH_OPTIONAL, .min = 60,
	    .max = 365 * 86400 },
	{ NULL }
};

/* POST /api/v1/media/{id}/links: the owner (or an admin) shares it. */
void
media_link_create(struct gh_req *req)
{
	struct gh_values v;
	struct gh_row	 r;
	const char	*id;
	long long	 ttl = LINK_TTL_DEFAULT, exp;
	PGresult	*res;
	char		*sig, at[32];
	struct tm	 tm;
	time_t		 t;

	if (gh_auth_require(req, NULL) != 0)
		return;
	if (gh_has_body(req)) {
		if (gh_body_json(req, link_fields, &v) != 0)
			return;
		ttl = gh_vint(&v, 0, LINK_TTL_DEFAULT);
	}
	if (ttl > media_cfg.link_ttl_max) {
		gh_problem_field(req, 422, "expires_in", "must be at most %lld",
		    media_cfg.link_ttl_max);
		return;
	}
	if ((res = media_find(req, gh_param(req, "id"), MEDIA_OWN)) == NULL)
		return;
	if (media_cfg.link_key == NULL) {
		gh_problem(req, 503, "signed links are not enabled on this "
		    "server (GH_MEDIA_LINK_SECRET_FILE)");
		return;
	}
	r = GH_ROW(res, 0);
	id = gh_row_str(&r, MC_ID);
	if (gh_row_failed(req, &r))
		return;
	exp = (long long)time(NULL) + ttl;
	if ((sig = link_sig(&req->arena, id, exp)) == NULL) {
		gh_problem(req, 500, "internal error");
		return;
	}
	t = (time_t)exp;
	gmtime_r(&t, &tm);
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	gh_reply_json(req, 201, json_pack("{s:s, s:s, s:I}",
	    "url", gh_printf(&req->arena, "/api/v1/media/%s/file?exp=%lld&"
	    "sig=%s", id, exp, sig),
	    "expires_at", at,
	    "expires_in", (json_int_t)ttl));
}
