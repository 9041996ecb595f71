/* gatehouse-auth: the auth service's routes over libgatehouse. */
#include "gatehouse.h"

static const struct gh_route routes[] = {
	{ "GET",	"/api/v1/auth/health",	gh_handle_health },
	{ "GET",	"/api/v1/auth/ping",	gh_handle_ping },
	{ NULL, NULL, NULL }
};

static const struct gh_app app = { "auth", routes, NULL };

int
main(int argc, char *argv[])
{
	return gh_app_main(&app, argc, argv);
}
