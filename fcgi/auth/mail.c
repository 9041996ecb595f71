/*
 * Mail from the auth service.  Nothing here talks SMTP: a message is a row
 * in mail_outbox (sql/auth/007_mail_outbox.sql), written in the caller's
 * transaction, so it exists if and only if the change it tells of
 * committed; gatehouse-mailer delivers it.  An HTTP request never waits on
 * a relay.
 */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "mail.h"

GH_SQL(SQL_MAIL_ENQUEUE) = {{
    "SELECT mail_enqueue($1, $2, $3::jsonb)" }};

/*
 * Queues template to the address to with params (a JSON object, whose
 * reference this takes).  The database refuses an address or a template
 * name that could break a header (mail_address_problem); callers validate
 * addresses before they get here, so a refusal is a 500.  0, or -1 having
 * answered.
 */
int
auth_mail_queue(struct gh_req *req, const char *to, const char *template,
    json_t *params)
{
	char	*text;
	int	 rc;

	text = params != NULL ? json_dumps(params, JSON_COMPACT) : NULL;
	json_decref(params);
	if (text == NULL)
		return gh_problem(req, 500, "out of memory");
	rc = gh_db_query(req, SQL_MAIL_ENQUEUE, 3,
	    (const char *[]){ to, template, text }) == NULL ? -1 : 0;
	free(text);
	return rc;
}

/*
 * A token for a link in a mail: 256 random bits as base64url, for the
 * mail, and its SHA-256 in hex in *hash, for the database, which never
 * holds the token itself.  NULL, having answered 500, when out of memory
 * or randomness.
 */
char *
auth_mail_token(struct gh_req *req, char **hash)
{
	char	*token;

	if ((token = gh_random_token(&req->arena, 32)) == NULL ||
	    (*hash = gh_sha256_hex(&req->arena, token, strlen(token))) == NULL) {
		gh_problem(req, 500, "cannot make a token");
		return NULL;
	}
	return token;
}
