/* Idempotency-Key: claim, replay, remember the answer, release, purge. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gh_config.h"
#include "gh_crypto.h"
#include "gh_db.h"
#include "gh_idem.h"
#include "gh_json.h"
#include "gh_log.h"
#include "gh_req.h"

static long long idem_ttl = 86400;	/* seconds a key is kept */
static long long idem_stale = 60;	/* seconds a claim holds off others */

/* The settings, read once at start. */
int
gh_idem_setup(void)
{
	if (gh_config_int("GH_IDEMPOTENCY_TTL", 86400, 60, 30 * 86400,
	    &idem_ttl) != 0 ||
	    gh_config_int("GH_IDEMPOTENCY_STALE", 60, 5, 3600,
	    &idem_stale) != 0)
		return -1;
	return 0;
}

/* NULL when s is a key (1 to 255 visible ASCII); else why.  Pure. */
const char *
gh_idem_valid_key(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (s[i] < '!' || s[i] > '~')
			break;
	if (i == 0 || i > GH_IDEM_KEY_MAX || s[i] != '\0')
		return "must be 1 to 255 visible ASCII characters";
	return NULL;
}

/*
 * The request's Idempotency-Key in *key: NULL when there is none and it
 * is not required.  0, or -1 having answered 400.
 */
int
gh_idem_key(struct gh_req *req, int required, const char **key)
{
	const char	*k = gh_header_in(req, "Idempotency-Key"), *why;

	*key = NULL;
	if (k == NULL) {
		if (!required)
			return 0;
		return gh_problem(req, 400, "Idempotency-Key: the header is "
		    "required (1 to %d visible ASCII characters, unique per "
		    "request)", GH_IDEM_KEY_MAX);
	}
	if ((why = gh_idem_valid_key(k)) != NULL)
		return gh_problem(req, 400, "Idempotency-Key: %s", why);
	*key = k;
	return 0;
}

/*
 * What a request asks, as a hash independent of member order and
 * whitespace; scope (the endpoint and its target) keeps one key's uses
 * on two endpoints apart.  NULL when out of memory.
 */
char *
gh_idem_hash(struct gh_arena *a, const char *scope, json_t *what)
{
	char	*s, *t, *h;
	size_t	 n;

	if ((s = json_dumps(what, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENCODE_ANY)) == NULL)
		return NULL;
	if (scope == NULL) {
		h = gh_sha256_hex(a, s, strlen(s));
		free(s);
		return h;
	}
	n = strlen(scope) + 1 + strlen(s) + 1;
	if ((t = malloc(n)) == NULL) {
		free(s);
		return NULL;
	}
	snprintf(t, n, "%s\n%s", scope, s);
	h = gh_sha256_hex(a, t, strlen(t));
	free(t);
	free(s);
	return h;
}

#define TAKEN_GONE	3	/* the row went meanwhile: claim again */

/*
 * The key is someone's: the first answer (GH_IDEM_REPLAY); -1 having
 * answered why not; TAKEN_GONE when it was released meanwhile.
 */
static int
taken(struct gh_req *req, struct gh_idem *k)
{
	struct gh_row	 r;
	PGresult	*res;
	long long	 status, wait;
	const char	*stale;

	stale = gh_printf(&req->arena, "%lld", idem_stale);
	if ((res = gh_db_query(req, k->t->get, 3,
	    (const char *[]){ k->uid, k->key, stale })) == NULL)
		return -1;
	if (gh_rows(res) == 0)
		return TAKEN_GONE;
	r = GH_ROW(res, 0);
	if (strcmp(gh_row_str(&r, GH_IDEM_G_STATE), "done") != 0) {
		/* Until the first is done, fails, or its claim goes stale. */
		wait = gh_row_int(&r, GH_IDEM_G_WAIT);
		if (gh_row_failed(req, &r))
			return -1;
		if (wait < 1)
			wait = 1;
		gh_header(req, "Retry-After", gh_printf(&req->arena, "%lld",
		    wait));
		return gh_problem(req, 409, "Idempotency-Key: a request with "
		    "this key is still being processed; retry in %lld s",
		    wait);
	}
	if (strcmp(gh_row_str(&r, GH_IDEM_G_HASH), k->hash) != 0)
		return gh_problem(req, 422, "Idempotency-Key: this key was "
		    "used with another request; use a new key for a new one");
	status = gh_row_int(&r, GH_IDEM_G_STATUS);
	k->answer = gh_row_str(&r, GH_IDEM_G_BODY);
	k->ref = gh_row_str_or_null(&r, GH_IDEM_G_REF);
	if (gh_row_failed(req, &r))
		return -1;
	if (status < 100 || status > 599) {
		gh_log_errx("db", "request %s: idempotency key answer status "
		    "%lld", req->request_id ? req->request_id : "-", status);
		return gh_problem(req, 500, "internal error");
	}
	k->status = (int)status;
	return GH_IDEM_REPLAY;
}

/*
 * Claims k->key for the request whose hash is k->hash, committed at
 * once.  GH_IDEM_CLAIMED (k->claim set); GH_IDEM_REPLAY, the key done
 * by the same request before (k->status, k->answer, k->ref; not
 * answered: the caller adds its headers and calls gh_idem_replay); or
 * -1, answered (409 still running, 422 another request, an error).
 */
int
gh_idem_claim(struct gh_req *req, struct gh_idem *k)
{
	struct gh_row	 r;
	PGresult	*res;
	const char	*p[5];
	int		 attempt, rc;

	p[0] = k->uid;
	p[1] = k->key;
	p[2] = k->hash;
	p[3] = gh_printf(&req->arena, "%lld", idem_ttl);
	p[4] = gh_printf(&req->arena, "%lld", idem_stale);
	for (attempt = 0; attempt < 2; attempt++) {
		if ((res = gh_db_query(req, k->t->claim, 5, p)) == NULL)
			return -1;
		if (gh_rows(res) == 1) {
			r = GH_ROW(res, 0);
			k->claim = gh_strdup(&req->arena, gh_row_str(&r, 0));
			if (gh_row_failed(req, &r))
				return -1;
			if (k->claim == NULL)
				return gh_problem(req, 500, "out of memory");
			return GH_IDEM_CLAIMED;
		}
		if ((rc = taken(req, k)) != TAKEN_GONE)
			return rc;
	}
	gh_header(req, "Retry-After", "1");
	return gh_problem(req, 409, "Idempotency-Key: a request with this key "
	    "is changing hands; retry shortly");
}

/* The first answer again, as gh_idem_claim found it. */
void
gh_idem_replay(struct gh_req *req, const struct gh_idem *k)
{
	gh_header(req, "Idempotent-Replayed", "true");
	gh_reply(req, k->status, "application/json", k->answer,
	    strlen(k->answer));
}

/*
 * Undoes a claim whose request did not commit, so that a retry may run
 * at once.  When the database cannot be reached the claim stays, but
 * its session has gone with the connection: the next claim takes it.
 */
void
gh_idem_release(struct gh_req *req, const struct gh_idem *k)
{
	if (k->claim == NULL)
		return;
	gh_db_rollback(req);
	(void)gh_db_exec(req, k->t->release, 3,
	    (const char *[]){ k->uid, k->key, k->claim });
}

/*
 * Remembers the answer with the key, in the change's transaction (the
 * caller commits).  0, or -1 having answered and released the claim.
 */
int
gh_idem_done(struct gh_req *req, const struct gh_idem *k, int status,
    const char *answer, const char *ref)
{
	PGresult	*res;
	const char	*p[6];

	p[0] = k->uid;
	p[1] = k->key;
	p[2] = gh_printf(&req->arena, "%d", status);
	p[3] = answer;
	p[4] = ref;
	p[5] = k->claim;
	if ((res = gh_db_query(req, k->t->done, 6, p)) == NULL) {
		gh_idem_release(req, k);
		return -1;
	}
	if (strcmp(PQcmdTuples(res), "1") != 0) {
		gh_idem_release(req, k);
		gh_header(req, "Retry-After", "1");
		return gh_problem(req, 409, "Idempotency-Key: the key was "
		    "taken over by another request; retry with it");
	}
	return 0;
}

/* Deletes a batch of expired keys now and then, on the way out. */
void
gh_idem_purge(struct gh_req *req, const struct gh_idem_table *t)
{
	unsigned char	 r;

	if (gh_random(&r, 1) == 0 && r < 4)
		(void)gh_db_exec(req, t->purge, 0, NULL);
}
