/* gatehouse-auth: accounts, tokens and sessions. */
#include <string.h>

#include "auth.h"
#include "email.h"
#include "handlers.h"
#include "oauth.h"
#include "oauth_handlers.h"
#include "recovery.h"

struct auth_settings auth_cfg;

static const struct gh_route routes[] = {
	{ "GET",	"/api/v1/auth/health",		gh_handle_health },
	{ "GET",	"/api/v1/auth/ping",		gh_handle_ping },
	{ "POST",	"/api/v1/auth/register",	auth_register },
	{ "GET",	"/api/v1/auth/availability",	auth_availability },
	{ "POST",	"/api/v1/auth/login",		auth_login },
	{ "POST",	"/api/v1/auth/refresh",		auth_refresh },
	{ "POST",	"/api/v1/auth/logout",		auth_logout },
	{ "POST",	"/api/v1/auth/logout-all",	auth_logout_all },
	{ "GET",	"/api/v1/auth/me",		auth_me },
	{ "PATCH",	"/api/v1/auth/me",		auth_me_update },
	{ "DELETE",	"/api/v1/auth/me",		auth_me_delete },
	{ "POST",	"/api/v1/auth/me/password",	auth_me_password },
	{ "POST",	"/api/v1/auth/me/totp",		auth_totp_enroll },
	{ "POST",	"/api/v1/auth/me/totp/confirm",	auth_totp_confirm },
	{ "DELETE",	"/api/v1/auth/me/totp",		auth_totp_disable },
	{ "GET",	"/api/v1/auth/sessions",	auth_sessions_list },
	{ "DELETE",	"/api/v1/auth/sessions/{id}",	auth_session_end },
	{ "GET",	"/api/v1/auth/admin/users",	auth_admin_users },
	{ "PATCH",	"/api/v1/auth/admin/users/{id}", auth_admin_user_update },
	{ "GET",	"/.well-known/jwks.json",	auth_jwks },
	{ "GET",	"/.well-known/openid-configuration", oauth_discovery },
	{ "GET",	"/.well-known/oauth-authorization-server",
	    oauth_discovery },
	{ "GET",	"/api/v1/auth/oauth/authorize",	oauth_authorize },
	{ "POST",	"/api/v1/auth/oauth/login",		oauth_login },
	{ "POST",	"/api/v1/auth/oauth/consent",		oauth_consent },
	{ "GET",	"/api/v1/auth/oauth/logout",		oauth_logout },
	{ "POST",	"/api/v1/auth/oauth/logout",	oauth_logout_confirm },
	{ "POST",	"/api/v1/auth/oauth/par",		oauth_par },
	{ "POST",	"/api/v1/auth/oauth/token",		oauth_token },
	{ "GET",	"/api/v1/auth/oauth/userinfo",		oauth_userinfo },
	{ "POST",	"/api/v1/auth/oauth/userinfo",		oauth_userinfo },
	{ "POST",	"/api/v1/auth/oauth/revoke",		oauth_revoke },
	{ "POST",	"/api/v1/auth/oauth/introspect",	oauth_introspect },
	{ "POST",	"/api/v1/auth/admin/clients",	oauth_admin_client_create },
	{ "GET",	"/api/v1/auth/admin/clients",	oauth_admin_clients },
	{ "GET",	"/api/v1/auth/admin/clients/{id}", oauth_admin_client_get },
	{ "PATCH",	"/api/v1/auth/admin/clients/{id}",
	    oauth_admin_client_update },
	{ "POST",	"/api/v1/auth/admin/clients/{id}/secret",
	    oauth_admin_client_secret },
	{ "GET",	"/api/v1/auth/me/apps",		oauth_me_apps },
	{ "DELETE",	"/api/v1/auth/me/apps/{client_id}", oauth_me_app_remove },
	/* E-mail verification and change (emails.c) */
	{ "POST",	"/api/v1/auth/email/verify",	auth_email_verify },
	{ "POST",	"/api/v1/auth/email/confirm",	auth_email_confirm },
	{ "POST",	"/api/v1/auth/email/undo",	auth_email_undo },
	{ "POST",	"/api/v1/auth/me/email/verification",
	    auth_me_email_verification },
	/* Password reset (reset.c) */
	{ "POST",	"/api/v1/auth/password/forgot",	auth_password_forgot },
	{ "POST",	"/api/v1/auth/password/reset",	auth_password_reset },
	{ "POST",	"/api/v1/auth/admin/users/{id}/password-reset",
	    auth_admin_password_reset },
	/* The password checked alone, before an account's deletion (users.c) */
	{ "POST",	"/api/v1/auth/me/password/verify",
	    auth_me_password_verify },
	{ NULL, NULL, NULL }
};

static int
auth_init(void)
{
	if (gh_argon2_from_env(&auth_cfg.argon2) != 0 ||
	    gh_config_int("GH_REFRESH_TTL", 30 * 86400, 3600, 365 * 86400,
	    &auth_cfg.refresh_ttl) != 0 ||
	    gh_config_int("GH_REFRESH_GRACE", 10, 0, 120,
	    &auth_cfg.refresh_grace) != 0 ||
	    gh_config_int("GH_LOGIN_FREE_ATTEMPTS", 5, 1, 100,
	    &auth_cfg.login_free) != 0 ||
	    gh_config_int("GH_LOGIN_DELAY_MAX", 900, 1, 86400,
	    &auth_cfg.login_delay_max) != 0 ||
	    gh_config_int("GH_AVAILABILITY_LIMIT", 20, 1, 100000,
	    &auth_cfg.availability_limit) != 0 ||
	    gh_config_int("GH_REGISTER_LIMIT", 20, 1, 1000000,
	    &auth_cfg.register_limit) != 0 ||
	    gh_config_bool("GH_COOKIE_SECURE", 1, &auth_cfg.cookie_secure) != 0)
		return -1;
	if (gh_auth_setup(1) != 0 || oauth_setup() != 0 ||
	    auth_email_setup() != 0)
		return -1;
	if (auth_recovery_setup() != 0)		/* password reset */
		return -1;
	/* Made now, so that no sign-in pays for the dummy hash. */
	gh_password_dummy_verify(&auth_cfg.argon2, "warm-up", 7);
	return 0;
}

static const struct gh_app app = { "auth", routes, auth_init };

int
main(int argc, char *argv[])
{
	if (argc == 3 && strcmp(argv[1], "--make-admin") == 0)
		return auth_cli_make_admin(argv[2]);
	if (argc >= 2 && strcmp(argv[1], "--sweep") == 0)
		return auth_cli_sweep(argc, argv);
	if (argc >= 3 && strcmp(argv[1], "--add-client") == 0)
		return oauth_cli_add_client(argc, argv);
	return gh_app_main(&app, argc, argv);
}
