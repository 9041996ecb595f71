/* gatehouse-media: the media service's routes over libgatehouse. */
#include "gatehouse.h"

static const struct gh_route routes[] = {
	{ "GET",	"/api/v1/media/health",	gh_handle_health },
	{ "GET",	"/api/v1/media/ping",	gh_handle_ping },
	{ NULL, NULL, NULL }
};

static const struct gh_app app = { "media", routes, NULL };

int
main(int argc, char *argv[])
{
	return gh_app_main(&app, argc, argv);
}
