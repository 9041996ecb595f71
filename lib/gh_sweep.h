/*
 * `gatehouse-<service> --sweep [--dry-run]`: deletes what no rule of a
 * service needs any more, so that its tables do not grow forever (a
 * daily timer runs it).  Each service lists its kinds; each kind is
 * deleted in batches, each batch its own transaction, so no lock is held
 * for long.
 *
 * A kind's statement takes $1, the batch size, and, when it has two
 * parameters, $2, the days to keep (the service's keep setting); it
 * deletes at most $1 rows and is run again until a batch comes back
 * short.
 */
#ifndef GH_SWEEP_H
#define GH_SWEEP_H

#include <stddef.h>

#include "gh_db.h"

struct gh_sweep_kind {
	const char		*what;		/* "expired idempotency keys" */
	const struct gh_sql	*sql;
	int			 nparams;	/* 1, or 2 with the days */
};

struct gh_sweep {
	const char			*service;	/* "payment" */
	const struct gh_sweep_kind	*kinds;
	size_t				 nkinds;
	const char			*keep_setting;	/* GH_*_KEEP_DAYS */
	long long			 keep_default, keep_max;
};

/*
 * The command: argv[1] is "--sweep".  Prints and logs a line per kind;
 * returns the exit status (0, 1 when a kind failed, 2 for a bad
 * argument).
 */
int		 gh_sweep_cli(const struct gh_sweep *, int, char *[]);

#endif
