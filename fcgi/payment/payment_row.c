/*
 * A payment as answers show it.  A payment is its owner's (the token's
 * subject) or an admin's to see; anyone else is told it does not exist.
 */
#include <string.h>

#include "payment_row.h"

#define REF_RANDOM_LEN	22	/* 16 random bytes in base64url */

static int
is_ref_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* For .valid: "pay_" and 22 characters of base64url, as payments makes them. */
const char *
pay_valid_reference(const char *s)
{
	size_t	 i;

	if (s == NULL || strncmp(s, "pay_", 4) != 0 ||
	    strlen(s) != 4 + REF_RANDOM_LEN)
		return "must be a payment reference";
	for (i = 4; s[i] != '\0'; i++)
		if (!is_ref_char((unsigned char)s[i]))
			return "must be a payment reference";
	return NULL;
}

/* The {reference} of the path; a malformed one is a payment not found. */
const char *
pay_reference(struct gh_req *req)
{
	const char	*ref = gh_param(req, "reference");

	if (pay_valid_reference(ref) != NULL) {
		gh_problem(req, 404, "no such payment");
		return NULL;
	}
	return ref;
}

/* The owner to filter payments by: NULL (everyone's) for an admin. */
const char *
pay_owner(const struct gh_req *req)
{
	return gh_auth_is_admin(req) ? NULL : gh_auth_user(req)->sub;
}

/* Row `row` of a PAY_COLS statement, or NULL having answered 500. */
json_t *
pay_json(struct gh_req *req, const PGresult *res, int row)
{
	struct gh_row	 r = GH_ROW(res, row);
	json_t		*j;

	j = json_pack("{s:s, s:s, s:I, s:s, s:o, s:o, s:s, s:I, s:s, s:s}",
	    "reference", gh_row_str(&r, PAY_C_REFERENCE),
	    "user_id", gh_row_str(&r, PAY_C_USER),
	    "amount", (json_int_t)gh_row_int(&r, PAY_C_AMOUNT),
	    "currency", gh_row_str(&r, PAY_C_CURRENCY),
	    "description", gh_row_json_str(&r, PAY_C_DESCRIPTION),
	    "metadata", gh_row_json(&r, PAY_C_METADATA),
	    "status", gh_row_str(&r, PAY_C_STATUS),
	    "refunded_amount", (json_int_t)gh_row_int(&r, PAY_C_REFUNDED),
	    "created_at", gh_row_time(&r, PAY_C_CREATED),
	    "updated_at", gh_row_time(&r, PAY_C_UPDATED));
	if (gh_row_failed(req, &r)) {
		json_decref(j);
		return NULL;
	}
	if (j == NULL)
		gh_problem(req, 500, "out of memory");
	return j;
}
