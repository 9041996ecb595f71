/*
 * gatehouse-media --sweep: stored files that no row names, abandoned
 * temporaries, tags no item uses, uploads' expired Idempotency-Keys, and
 * spent grants past their expiry.  A file is renamed into place
 * before its row commits, and a worker that dies between a row's
 * deletion and the unlink leaves its file behind; so a file no row names
 * is an orphan only once it is older than the grace period (its mtime is
 * set just before the rename).  Only the store's own files are candidates
 * (store.c tells which).  A temporary goes when its writer's lock is gone,
 * whatever its age; the grace decides only where that cannot be told.
 * A command, not a worker: it uses the database through an arena of its
 * own, with no request.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "media.h"
#include "store.h"
#include "sweep.h"
#include "tag.h"

#define SWEEP_GRACE	MEDIA_GRACE	/* seconds */
#define SWEEP_GRACE_MIN	300

/* The database must be the media service's, or every file looks orphan. */
GH_SQL(SQL_SERVICE) = {{
    "SELECT value FROM service_meta WHERE key = 'service'" }};
enum { SV_VALUE };
GH_SQL(SQL_KNOWN) = {{
    "SELECT storage_path FROM media UNION ALL "
    "SELECT thumb_path FROM media WHERE thumb_path IS NOT NULL" }};
enum { K_PATH };
/*
 * Shared, for the walk: a backup holds it alone while it archives the
 * files its snapshot names, and a file deleted since is then still one
 * of them (store.h).  Held until the connection closes.
 */
GH_SQL(SQL_FILES_LOCK) = {{
    "SELECT pg_try_advisory_lock_shared(" MEDIA_FILES_LOCK ")" }};
enum { FL_GOT };

/*
 * Rows past their expiry, in batches, so no lock is held for long; each
 * statement answers one count.  Upload keys past their window: a claim
 * takes an expired key over anyway (the workers purge a batch now and
 * then too; this catches up with a quiet service).
 */
#define SWEEP_EXPIRED_BATCH	5000
GH_SQL(SQL_KEYS_SWEEP) = {{
    "WITH d AS (DELETE FROM media_upload_keys k USING (SELECT user_id, key "
    " FROM media_upload_keys WHERE expires_at < now() LIMIT $1::int) e "
    " WHERE k.user_id = e.user_id AND k.key = e.key RETURNING 1) "
    "SELECT count(*) FROM d" }};
GH_SQL(SQL_KEYS_COUNT) = {{
    "SELECT count(*) FROM media_upload_keys WHERE expires_at < now()" }};
/* Spent grants that no verifier would take any more (lib/gh_grant.h). */
GH_SQL(SQL_GRANTS_SWEEP) = {{
    "WITH d AS (DELETE FROM used_grants WHERE jti IN (SELECT jti "
    " FROM used_grants WHERE expires_at < now() LIMIT $1::int) "
    " RETURNING 1) "
    "SELECT count(*) FROM d" }};
GH_SQL(SQL_GRANTS_COUNT) = {{
    "SELECT count(*) FROM used_grants WHERE expires_at < now()" }};
enum { KS_COUNT };

struct expired {
	const char		*what;
	const struct gh_sql	*sweep, *count;
};
static const struct expired expired_keys = {
	"expired upload keys", SQL_KEYS_SWEEP, SQL_KEYS_COUNT
};
static const struct expired expired_grants = {
	"expired used grants", SQL_GRANTS_SWEEP, SQL_GRANTS_COUNT
};

struct sweep {
	const char	**known;	/* paths rows name, sorted */
	size_t		 nknown;
	time_t		 before;	/* candidates are older than this */
	int		 dry_run;
	long long	 removed, bytes, kept, young, foreign, failed;
	int		 backup;	/* a backup holds the files: no walk */
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One entry of the store: kept, young, foreign, or an orphan to remove. */
static void
sweep_entry(void *ctx, const struct media_entry *e)
{
	struct sweep	*sw = ctx;

	if (!e->ours) {
		sw->foreign++;
		return;
	}
	if (bsearch(&e->path, sw->known, sw->nknown, sizeof(*sw->known),
	    cmp_str) != NULL) {
		sw->kept++;
		return;
	}
	if (e->st->st_mtime >= sw->before) {
		sw->young++;
		return;
	}
	if (!sw->dry_run && unlinkat(e->dfd, e->name, 0) == -1) {
		if (errno != ENOENT) {
			gh_log_errx("sweep", "unlink %s/%s: %s",
			    media_cfg.dir, e->path, strerror(errno));
			sw->failed++;
		}
		return;
	}
	gh_log_infox("sweep", "%s orphan %s (%lld bytes, %lld s old)",
	    sw->dry_run ? "would remove" : "removed", e->path,
	    (long long)e->st->st_size,
	    (long long)(time(NULL) - e->st->st_mtime));
	printf("%s %s\n", sw->dry_run ? "would remove" : "removed", e->path);
	sw->removed++;
	sw->bytes += e->st->st_size;
}

/* The paths that rows name, sorted, into sw; -1 when the database fails. */
static int
sweep_known(struct gh_arena *a, struct sweep *sw)
{
	struct gh_row	 r;
	PGresult	*res;
	int		 i;

	res = gh_db_run(a, SQL_SERVICE, 0, NULL);
	if (!gh_db_ok(res)) {
		gh_log_errx("sweep", "the database: %s", res != NULL ?
		    PQresultErrorMessage(res) : "cannot connect");
		return -1;
	}
	r = GH_ROW(res, 0);
	if (gh_rows(res) != 1 || strcmp(gh_row_str(&r, SV_VALUE), "media")) {
		gh_log_errx("sweep", "GH_DB is not the media service's "
		    "database: nothing removed");
		return -1;
	}
	/* Before the paths: a snapshot older than a backup's is not enough. */
	res = gh_db_run(a, SQL_FILES_LOCK, 0, NULL);
	if (!gh_db_ok(res)) {
		gh_log_errx("sweep", "the files' lock: %s", res != NULL ?
		    PQresultErrorMessage(res) : "cannot connect");
		return -1;
	}
	r = GH_ROW(res, 0);
	sw->backup = !gh_row_bool(&r, FL_GOT);
	if (r.bad >= 0)
		return -1;
	if (sw->backup)
		return 0;
	res = gh_db_run(a, SQL_KNOWN, 0, NULL);
	if (!gh_db_ok(res)) {
		gh_log_errx("sweep", "the stored paths: %s", res != NULL ?
		    PQresultErrorMessage(res) : "cannot connect");
		return -1;
	}
	sw->nknown = (size_t)gh_rows(res);
	if ((sw->known = gh_calloc(a, sw->nknown + 1,
	    sizeof(*sw->known))) == NULL)
		return -1;
	for (i = 0; i < gh_rows(res); i++) {
		r = GH_ROW(res, i);
		sw->known[i] = gh_row_str(&r, K_PATH);
	}
	qsort(sw->known, sw->nknown, sizeof(*sw->known), cmp_str);
	return 0;
}

/* The expired rows of one kind, removed (or counted), into *n; -1 on failure. */
static int
sweep_expired(struct gh_arena *a, const struct expired *e, int dry_run,
    long long *n)
{
	const char	*p[1];
	struct gh_row	 r;
	PGresult	*res;
	long long	 batch;
	char		 limit[16];

	*n = 0;
	snprintf(limit, sizeof(limit), "%d", SWEEP_EXPIRED_BATCH);
	p[0] = limit;
	do {
		res = gh_db_run(a, dry_run ? e->count : e->sweep,
		    dry_run ? 0 : 1, p);
		if (!gh_db_ok(res) || gh_rows(res) != 1) {
			gh_log_errx("sweep", "%s: %s", e->what,
			    res != NULL ? PQresultErrorMessage(res) :
			    "no connection");
			return -1;
		}
		r = GH_ROW(res, 0);
		batch = gh_row_int(&r, KS_COUNT);
		if (r.bad >= 0)
			return -1;
		*n += batch;
	} while (!dry_run && batch == SWEEP_EXPIRED_BATCH);
	return 0;
}

static void
sweep_usage(void)
{
	fprintf(stderr, "usage: gatehouse-media --sweep [--dry-run] "
	    "[--grace SECONDS]\n"
	    "Removes stored files that no item names and that are older "
	    "than the grace\nperiod (default %d s, at least %d), "
	    "temporaries whose writer is gone (or,\nwhere that cannot be "
	    "told, older than the grace), tags that no item has used for\n"
	    "as long, expired Idempotency-Keys of uploads, and spent grants "
	    "past their\nexpiry.  Reads GH_MEDIA_DIR and GH_DB like the "
	    "workers; run it as their user.\n", SWEEP_GRACE,
	    SWEEP_GRACE_MIN);
}

/* The summary, in the log and on stdout: what went, what stayed and why. */
static void
sweep_summary(const struct sweep *sw, const struct media_tmp_sweep *ts,
    long long tags, long long grants, long long keys, long long grace)
{
	char	 line[768];

	snprintf(line, sizeof(line), "%s %lld orphan files (%lld bytes), %d "
	    "temporaries, %lld unused tags, %lld expired used grants, %lld "
	    "expired upload keys; kept %lld named files, %lld orphans younger "
	    "than %lld s, %d temporaries being written, %d temporaries "
	    "younger than %lld s whose writer is unknown%s; left alone %lld "
	    "other entries; %lld failures",
	    sw->dry_run ? "would remove" : "removed", sw->removed, sw->bytes,
	    ts->removed, tags, grants, keys, sw->kept, sw->young, grace,
	    ts->live, ts->young, grace, sw->backup ? "; stored files not looked at: "
	    "a backup is archiving them" : "", sw->foreign,
	    sw->failed + ts->failed);
	gh_log_infox("sweep", "%s", line);
	printf("%s\n", line);
}

/* gatehouse-media --sweep [--dry-run] [--grace SECONDS]; exit status. */
int
media_sweep_main(int argc, char **argv)
{
	struct sweep	 sw;
	struct media_tmp_sweep ts;
	struct gh_arena	 arena;
	const char	*errstr = NULL;
	long long	 grace = SWEEP_GRACE, tags = 0, grants = 0, keys = 0;
	int		 i, rc = 1;

	memset(&sw, 0, sizeof(sw));
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			sw.dry_run = 1;
		else if (strcmp(argv[i], "--grace") == 0 && i + 1 < argc) {
			grace = gh_strtonum(argv[++i], SWEEP_GRACE_MIN,
			    365LL * 86400, &errstr);
			if (errstr != NULL) {
				fprintf(stderr, "gatehouse-media: --grace %s: "
				    "%s (%d to %d)\n", argv[i], errstr,
				    SWEEP_GRACE_MIN, 365 * 86400);
				return 2;
			}
		} else {
			sweep_usage();
			return 2;
		}
	}
	gh_log_setup("media", GH_LOG_INFO);
	gh_arena_init(&arena);
	if (gh_db_setup("gatehouse-media-sweep") != 0 ||
	    media_store_open() != 0 || sweep_known(&arena, &sw) != 0)
		goto done;
	sw.before = time(NULL) - (time_t)grace;
	media_tmp_sweep(sw.dry_run, sw.before, &ts);
	if (!sw.backup && media_store_walk(sweep_entry, &sw) != 0)
		sw.failed++;
	if (media_tags_sweep(&arena, grace, sw.dry_run, &tags) != 0)
		sw.failed++;
	if (sweep_expired(&arena, &expired_grants, sw.dry_run, &grants) != 0)
		sw.failed++;
	if (sweep_expired(&arena, &expired_keys, sw.dry_run, &keys) != 0)
		sw.failed++;
	sweep_summary(&sw, &ts, tags, grants, keys, grace);
	rc = sw.failed > 0 || ts.failed > 0;
done:
	gh_arena_free(&arena);
	gh_db_close();
	if (media_cfg.dirfd != -1)
		close(media_cfg.dirfd);
	return rc;
}
