/*
 * The sweep command shared by the services (gh_sweep.h).
 */
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "gh_arena.h"
#include "gh_config.h"
#include "gh_db.h"
#include "gh_log.h"
#include "gh_sweep.h"

#define SWEEP_BATCH	"5000"

/* Deletes one kind in batches; the rows deleted, or -1. */
static long long
sweep_kind(struct gh_arena *a, const struct gh_sweep_kind *kind,
    const char *keep_days, int dry_run)
{
	const char	*p[2] = { SWEEP_BATCH, keep_days };
	PGresult	*res;
	long long	 total = 0, n;
	const char	*errstr;

	do {
		if (gh_db_run_begin(a) != 0)
			return -1;
		res = gh_db_run(a, kind->sql, kind->nparams, p);
		if (!gh_db_ok(res)) {
			gh_log_errx("sweep", "%s: %s", kind->what,
			    res != NULL ? PQresultErrorMessage(res) :
			    "no connection");
			return -1;
		}
		n = gh_strtonum(PQcmdTuples(res), 0, 1LL << 40, &errstr);
		if (errstr != NULL)
			return -1;
		total += n;
		/* A dry run counts one batch of each, then rolls it back. */
		if (dry_run) {
			gh_db_request_end();
			break;
		}
		if (gh_db_run_commit(a) != 0)
			return -1;
	} while (n > 0 && strcmp(SWEEP_BATCH, PQcmdTuples(res)) == 0);
	return total;
}

int
gh_sweep_cli(const struct gh_sweep *s, int argc, char *argv[])
{
	struct gh_arena	 a;
	long long	 keep, n, failed = 0;
	char		 keep_days[24], appname[64];
	size_t		 k;
	int		 dry_run = 0, i;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			dry_run = 1;
		else {
			fprintf(stderr, "usage: gatehouse-%s --sweep "
			    "[--dry-run]\n", s->service);
			return 2;
		}
	}
	gh_log_setup(s->service, GH_LOG_INFO);
	snprintf(appname, sizeof(appname), "gatehouse-%s-sweep", s->service);
	if (gh_config_int(s->keep_setting, s->keep_default, 1, s->keep_max,
	    &keep) != 0 || gh_db_setup(appname) != 0)
		return 1;
	snprintf(keep_days, sizeof(keep_days), "%lld", keep);
	gh_arena_init(&a);
	for (k = 0; k < s->nkinds; k++) {
		if ((n = sweep_kind(&a, &s->kinds[k], keep_days,
		    dry_run)) < 0) {
			failed++;
			gh_db_request_end();
			continue;
		}
		printf("%s %lld %s\n", dry_run ? "would remove (a batch of)" :
		    "removed", n, s->kinds[k].what);
		gh_log_infox("sweep", "%s %lld %s", dry_run ? "would remove" :
		    "removed", n, s->kinds[k].what);
	}
	gh_arena_free(&a);
	gh_db_close();
	return failed > 0;
}
