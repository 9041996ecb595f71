/*
 * Idempotency-Key: a POST that changes something (a payment, a refund,
 * an upload), sent again with the same key after its answer was lost,
 * gets the first answer back instead of changing anything twice.
 *
 * Keys are each user's.  The key is claimed in a statement of its own,
 * committed at once, so that a second request with it sees "in progress"
 * (409 with Retry-After) instead of waiting; the answer is remembered
 * with the change, in the change's transaction (gh_idem_done), and a
 * request that fails releases its claim (gh_idem_release) so that a
 * retry runs at once.  The claim also names the database session that
 * made it: a claim whose session has gone (its worker was killed, the
 * server restarted) cannot commit any more, and is taken over at once;
 * one whose session lives is taken over only after GH_IDEMPOTENCY_STALE,
 * which is what Retry-After tells.  Whichever way, only the claim that
 * is still the key's commits: gh_idem_done checks it in the transaction.
 *
 * Each service keeps its keys in a table of its own and writes the
 * statements below for it (parameters and columns in this order):
 *
 *	claim	 $1 user, $2 key, $3 hash, $4 ttl s, $5 stale s: inserts,
 *		 or takes over an expired key or an in-progress one that is
 *		 stale or whose session (claim_pid) has gone, storing
 *		 pg_backend_pid(); RETURNING created_at::text
 *	get	 $1 user, $2 key, $3 stale s: request_hash, state,
 *		 response_status, response_body, the ref (text or NULL), and
 *		 the seconds until the claim is stale (GH_IDEM_G_*)
 *	done	 $1 user, $2 key, $3 status, $4 body, $5 ref, $6 claim:
 *		 only the row still in_progress with created_at = $6
 *	release	 $1 user, $2 key, $3 claim: deletes it, likewise
 *	purge	 a batch of expired keys
 *
 *	struct gh_idem k = { &table, sub, key, hash };
 *	switch (gh_idem_claim(req, &k)) {
 *	case GH_IDEM_REPLAY:	its headers, then gh_idem_replay
 *	case GH_IDEM_CLAIMED:	change, gh_idem_done, commit (or release)
 *	default:		answered (409, 422, an error)
 *	}
 */
#ifndef GH_IDEM_H
#define GH_IDEM_H

#include <jansson.h>

struct gh_arena;
struct gh_req;
struct gh_sql;

#define GH_IDEM_KEY_MAX	255

/* The statements of a service's table of keys (see above). */
struct gh_idem_table {
	const struct gh_sql	*claim, *get, *done, *release, *purge;
};

/* The columns of the get statement. */
enum { GH_IDEM_G_HASH, GH_IDEM_G_STATE, GH_IDEM_G_STATUS, GH_IDEM_G_BODY,
    GH_IDEM_G_REF, GH_IDEM_G_WAIT };

/* A key of one request. */
struct gh_idem {
	const struct gh_idem_table *t;
	const char	*uid;		/* the caller: keys are theirs */
	const char	*key;
	const char	*hash;		/* of what it asks (gh_idem_hash) */
	const char	*claim;		/* when it claimed the key */
	/* With GH_IDEM_REPLAY: the first answer. */
	int		 status;
	const char	*answer;
	const char	*ref;		/* what it made (an id) or NULL */
};

#define GH_IDEM_CLAIMED	1
#define GH_IDEM_REPLAY	2

/* gh_idem.c */
int		 gh_idem_setup(void);
int		 gh_idem_key(struct gh_req *, int required, const char **);
const char	*gh_idem_valid_key(const char *);
char		*gh_idem_hash(struct gh_arena *, const char *scope,
		    json_t *);
int		 gh_idem_claim(struct gh_req *, struct gh_idem *);
void		 gh_idem_replay(struct gh_req *, const struct gh_idem *);
int		 gh_idem_done(struct gh_req *, const struct gh_idem *,
		    int status, const char *answer, const char *ref);
void		 gh_idem_release(struct gh_req *, const struct gh_idem *);
void		 gh_idem_purge(struct gh_req *,
		    const struct gh_idem_table *);

#endif
