/* gatehouse-payment: payments, their state machine, refunds, webhooks. */
#include <stdio.h>
#include <string.h>

#include "payment.h"
#include "handlers.h"
#include "state.h"
#include "sweep.h"

struct payment_settings pay_cfg;

static const struct gh_route routes[] = {
	{ "GET",	"/api/v1/payment/health",	gh_handle_health },
	{ "GET",	"/api/v1/payment/ping",	gh_handle_ping },
	{ "POST",	"/api/v1/payments",		pay_create },
	{ "GET",	"/api/v1/payments",		pay_list },
	{ "POST",	"/api/v1/payments/webhook",	pay_webhook },
	{ "GET",	"/api/v1/payments/{reference}",	pay_get },
	{ "POST",	"/api/v1/payments/{reference}/cancel",	pay_cancel },
	{ "POST",	"/api/v1/payments/{reference}/status",	pay_transition },
	{ "POST",	"/api/v1/payments/{reference}/refunds",	pay_refund },
	{ "GET",	"/api/v1/payments/{reference}/transactions",
	    pay_transactions },
	{ NULL, NULL, NULL }
};

static int
pay_init(void)
{
	if (gh_idem_setup() != 0 ||
	    gh_config_int("GH_WEBHOOK_TOLERANCE", 300, 1, 3600,
	    &pay_cfg.webhook_tolerance) != 0)
		return -1;
	return gh_auth_setup(0);
}

static const struct gh_app app = { "payment", routes, pay_init };

int
main(int argc, char *argv[])
{
	/* The state machine's changes, to compare with the database's. */
	if (argc == 2 && strcmp(argv[1], "--transitions") == 0)
		return pay_transitions_print(stdout) == 0 ? 0 : 1;
	if (argc >= 2 && strcmp(argv[1], "--sweep") == 0)
		return pay_cli_sweep(argc, argv);
	return gh_app_main(&app, argc, argv);
}
