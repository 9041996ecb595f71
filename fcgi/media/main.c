/*
 * gatehouse-media: uploads, their metadata, downloads and signed links,
 * tags, likes, ratings and comments.  `gatehouse-media --sweep` removes
 * orphan files instead of serving.
 */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "media.h"
#include "store.h"
#include "sweep.h"
#include "thumb.h"

struct media_settings media_cfg = { .dirfd = -1 };

static const struct gh_route routes[] = {
	{ "GET",	"/api/v1/media/health",		gh_handle_health },
	{ "GET",	"/api/v1/media/ping",		gh_handle_ping },
	{ "POST",	"/api/v1/media",		media_upload },
	{ "GET",	"/api/v1/media",		media_list },
	{ "GET",	"/api/v1/media/stats",		media_stats },
	{ "GET",	"/api/v1/media/most-liked",	media_most_liked },
	{ "GET",	"/api/v1/media/comments",	media_comments_by_user },
	/* Literal segments before {id}: the first route that matches wins. */
	{ "GET",	"/api/v1/media/tags",		media_tags_list },
	{ "GET",	"/api/v1/media/tags/{tag}/items", media_tag_items },
	{ "DELETE",	"/api/v1/media/tags/{tag}",	media_tag_delete },
	{ "DELETE",	"/api/v1/media/users/{user_id}", media_purge_user },
	{ "GET",	"/api/v1/media/{id}",		media_get },
	{ "PATCH",	"/api/v1/media/{id}",		media_update },
	{ "DELETE",	"/api/v1/media/{id}",		media_delete },
	{ "GET",	"/api/v1/media/{id}/file",	media_download },
	{ "GET",	"/api/v1/media/{id}/thumbnail",	media_thumbnail },
	{ "POST",	"/api/v1/media/{id}/links",	media_link_create },
	{ "POST",	"/api/v1/media/{id}/likes",	media_like },
	{ "DELETE",	"/api/v1/media/{id}/likes",	media_unlike },
	{ "GET",	"/api/v1/media/{id}/likes",	media_likes },
	{ "PUT",	"/api/v1/media/{id}/rating",	media_rate },
	{ "DELETE",	"/api/v1/media/{id}/rating",	media_unrate },
	{ "GET",	"/api/v1/media/{id}/rating",	media_ratings },
	{ "POST",	"/api/v1/media/{id}/comments",	media_comment_add },
	{ "GET",	"/api/v1/media/{id}/comments",	media_comments },
	{ "GET",	"/api/v1/media/{id}/tags",	media_item_tags },
	{ "PUT",	"/api/v1/media/{id}/tags/{tag}", media_tag_put },
	{ "DELETE",	"/api/v1/media/{id}/tags/{tag}", media_tag_remove },
	{ "PATCH",	"/api/v1/media/{id}/comments/{cid}",
							media_comment_edit },
	{ "DELETE",	"/api/v1/media/{id}/comments/{cid}",
							media_comment_delete },
	{ NULL, NULL, NULL }
};

/* Without a key, signed links are off; with a short one, nothing starts. */
static int
link_key_setup(void)
{
	char	*key;
	size_t	 len;

	if (getenv("GH_MEDIA_LINK_SECRET_FILE") == NULL) {
		gh_log_warnx("config", "GH_MEDIA_LINK_SECRET_FILE is not set: "
		    "signed links are off");
		return 0;
	}
	if ((key = gh_config_secret("GH_MEDIA_LINK_SECRET", &len)) == NULL)
		return -1;
	if (len < 32) {
		gh_log_errx("config", "GH_MEDIA_LINK_SECRET_FILE holds %zu "
		    "bytes; use at least 32 (openssl rand -hex 32)", len);
		gh_wipe(key, len);
		free(key);
		return -1;
	}
	media_cfg.link_key = (unsigned char *)key;
	media_cfg.link_keylen = len;
	return 0;
}

static int
media_init(void)
{
	if (gh_config_size("GH_MEDIA_MAX", 100 << 20, 1LL << 40,
	    &media_cfg.max) != 0 ||
	    gh_config_size("GH_MEDIA_QUOTA", 1LL << 30, 1LL << 50,
	    &media_cfg.quota) != 0 ||
	    gh_config_int("GH_MEDIA_LINK_TTL_MAX", 7 * 86400, 60,
	    365 * 86400, &media_cfg.link_ttl_max) != 0)
		return -1;
	if (media_cfg.max == 0) {
		gh_log_errx("config", "GH_MEDIA_MAX must not be 0");
		return -1;
	}
	if (media_store_setup() != 0 || link_key_setup() != 0 ||
	    media_thumb_setup() != 0 ||
	    gh_auth_setup(0) != 0)
		return -1;
	return 0;
}

static const struct gh_app app = { "media", routes, media_init };

int
main(int argc, char *argv[])
{
	/* Maintenance, run by hand or by a timer, not a worker. */
	if (argc >= 2 && strcmp(argv[1], "--sweep") == 0)
		return media_sweep_main(argc, argv);
	return gh_app_main(&app, argc, argv);
}
