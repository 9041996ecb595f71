/* The ledger of one payment, oldest first (owner or admin). */
#include "handlers.h"
#include "ledger.h"
#include "payment_row.h"

void
pay_transactions(struct gh_req *req)
{
	const char	*ref;
	json_t		*j;

	if (gh_auth_require(req, NULL) != 0 ||
	    (ref = pay_reference(req)) == NULL)
		return;
	if ((j = pay_ledger_json(req, ref, pay_owner(req),
	    gh_auth_is_admin(req))) != NULL)
		gh_reply_json(req, 200, j);
}
