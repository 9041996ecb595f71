/*
 * gatehouse-revoked: follows auth's feed of ended sessions and cut-off
 * users (LISTEN gatehouse_revoked) and keeps what is still live in the
 * file every worker of every service on this host reads (GH_REVOKED_FILE).
 * It is woken by each revocation and rewrites the file at least every
 * GH_REVOKED_INTERVAL seconds, so a worker can tell a stopped feeder
 * (a stale file) from a quiet one.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gatehouse.h"

/* Entries live as long as a token issued just before them could. */
GH_SQL(SQL_SESSIONS) = {{
    "SELECT DISTINCT session_id::text FROM revocations "
    "WHERE session_id IS NOT NULL "
    "AND at > now() - make_interval(secs => $1::int) LIMIT 200000" }};

GH_SQL(SQL_USERS) = {{
    "SELECT user_id::text, max(extract(epoch FROM not_before))::bigint "
    "FROM revocations WHERE not_before IS NOT NULL "
    "AND at > now() - make_interval(secs => $1::int) "
    "GROUP BY user_id LIMIT 200000" }};

GH_SQL(SQL_LISTEN) = {{ "LISTEN gatehouse_revoked" }};

enum { RS_ID, RS__COUNT };
enum { RU_ID, RU_NOT_BEFORE, RU__COUNT };

static volatile sig_atomic_t stop;

static void
on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

/* Reads the live entries and writes the file; 0, or -1 (logged). */
static int
publish(struct gh_arena *a, const char *path, const char *window)
{
	PGresult	*rs, *ru;
	struct gh_row	 r;
	const char	**sessions, **users;
	long long	*not_before;
	int		 i, ns, nu;

	if (!gh_db_ok(rs = gh_db_run(a, SQL_SESSIONS, 1, &window)) ||
	    !gh_db_ok(ru = gh_db_run(a, SQL_USERS, 1, &window))) {
		gh_log_warnx("revoked", "cannot read the feed; the file "
		    "stays as it is");
		return -1;
	}
	ns = gh_rows(rs);
	nu = gh_rows(ru);
	if ((sessions = gh_calloc(a, (size_t)ns + 1, sizeof(*sessions))) ==
	    NULL || (users = gh_calloc(a, (size_t)nu + 1, sizeof(*users))) ==
	    NULL || (not_before = gh_calloc(a, (size_t)nu + 1,
	    sizeof(*not_before))) == NULL)
		return -1;
	for (i = 0; i < ns; i++) {
		r = GH_ROW(rs, i);
		sessions[i] = gh_row_str(&r, RS_ID);
	}
	for (i = 0; i < nu; i++) {
		r = GH_ROW(ru, i);
		users[i] = gh_row_str(&r, RU_ID);
		not_before[i] = gh_row_int(&r, RU_NOT_BEFORE);
		if (r.bad >= 0)
			return -1;
	}
	if (gh_revoked_write(path, sessions, (size_t)ns, users, not_before,
	    (size_t)nu, time(NULL)) != 0) {
		gh_log_errx("revoked", "cannot write %s", path);
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct sigaction sa;
	struct gh_arena	 a;
	const char	*path;
	char		 window[24];
	long long	 ttl, interval;
	int		 listening;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: gatehouse-revoked (settings from the "
		    "environment: GH_DB, GH_REVOKED_FILE, ...)\n");
		return 2;
	}
	gh_log_setup("revoked", GH_LOG_INFO);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;	/* no SA_RESTART: poll must wake */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if ((path = gh_config_str("GH_REVOKED_FILE", NULL)) == NULL ||
	    *path == '\0') {
		gh_log_errx("config", "GH_REVOKED_FILE is not set");
		return 1;
	}
	if (gh_config_int("GH_ACCESS_TTL", 900, 60, 86400, &ttl) != 0 ||
	    gh_config_int("GH_REVOKED_INTERVAL", 30, 1, 3600,
	    &interval) != 0 || gh_db_setup("gatehouse-revoked") != 0)
		return 1;
	/* The verifiers' leeway, and a minute for clocks that disagree. */
	snprintf(window, sizeof(window), "%lld", ttl + 30 + 60);
	gh_log_infox("start", "following the revocation feed into %s", path);
	while (!stop) {
		gh_arena_init(&a);
		/*
		 * Every time: lib opens a new connection by itself after a
		 * restart, and a new connection listens to nothing.
		 */
		listening = gh_db_ok(gh_db_run(&a, SQL_LISTEN, 0, NULL));
		(void)publish(&a, path, window);
		gh_arena_free(&a);
		if (stop)
			break;
		if (!listening) {
			sleep(1);
			continue;
		}
		(void)gh_db_wait((int)interval * 1000);
	}
	gh_db_close();
	gh_log_infox("stop", "stopped");
	return 0;
}
