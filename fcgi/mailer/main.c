/*
 * gatehouse-mailer: sends what the auth service queued in its outbox.
 *
 * It LISTENs on gatehouse_mail (mail_enqueue notifies at commit) and
 * sleeps on the connection's socket until a message is queued, one is
 * due for a retry, or a lease runs out; then it claims batches and sends
 * them.  Several may run at once, on one host or many: a claim takes
 * rows no other holds.  TERM finishes the message in flight and exits;
 * --once delivers what is due and exits (tests, cron).
 */
#include <sys/stat.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mailer.h"

#define EXIT_CONFIG	78		/* sysexits' EX_CONFIG: no restart */
#define IDLE_MAX_MS	(60 * 1000)	/* look anyway, notified or not */
#define DB_RETRY_MS	2000		/* after the database failed */
#define PURGE_EVERY	3600		/* seconds between purges */

struct mail_settings mail_cfg;

static volatile sig_atomic_t stopping;

/*
 * No SA_RESTART: a stop signal ends the wait on the socket.  It may come
 * while a message is sent too: libpq and libcurl wait again after EINTR,
 * and the flag is read between messages.
 */
static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static int
stop_requested(void)
{
	return stopping;
}

static void
pause_ms(long ms)
{
	struct timespec	 ts = { ms / 1000, (ms % 1000) * 1000000L };

	(void)nanosleep(&ts, NULL);
}

/* The settings without a default. */
static const struct {
	const char	*name;
	const char	*what;
} required[] = {
	{ "GH_MAIL_FROM", "the sender, e.g. Example <no-reply@example.com>" },
	{ "GH_SMTP_URL", "the relay, smtp://host:587 (STARTTLS) or "
	    "smtps://host:465" },
	{ "GH_PUBLIC_URL", "the address the links in the mails lead to, "
	    "e.g. https://example.com" },
};

/*
 * One line names every one that is missing, so that an administrator
 * reading the journal of a mailer that would not start fixes them all
 * at once, not one a restart.
 */
static int
required_setup(void)
{
	char	 line[1024];
	size_t	 i, off = 0;
	int	 n;

	line[0] = '\0';
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (gh_config_str(required[i].name, NULL) != NULL)
			continue;
		n = snprintf(line + off, sizeof(line) - off, "%s%s is not set: "
		    "%s", off > 0 ? "; " : "", required[i].name,
		    required[i].what);
		if (n < 0 || (size_t)n >= sizeof(line) - off)
			break;
		off += (size_t)n;
	}
	if (off == 0)
		return 0;
	gh_log_errx("config", "%s (docs/operations.md, \"Mail\")", line);
	return -1;
}

/* An http(s) URL with nothing a template or a header could trip on. */
static int
public_url_setup(void)
{
	const char	*v = gh_config_str("GH_PUBLIC_URL", NULL);
	size_t		 n;

	if (v == NULL)
		return -1;	/* required_setup said so */
	if ((strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0) ||
	    !mail_header_ok(v) || strpbrk(v, " \"'<>\\`") != NULL) {
		gh_log_errx("config", "GH_PUBLIC_URL=%s is not an http(s) URL "
		    "without spaces, quotes or angle brackets", v);
		return -1;
	}
	if ((mail_cfg.public_url = strdup(v)) == NULL)
		return -1;
	n = strlen(mail_cfg.public_url);
	while (n > 0 && mail_cfg.public_url[n - 1] == '/')
		mail_cfg.public_url[--n] = '\0';
	return 0;
}

static int
sender_setup(void)
{
	const char	*v = gh_config_str("GH_MAIL_FROM", NULL), *why;

	if (v == NULL)
		return -1;	/* required_setup said so */
	if (mail_from_parse(v, &mail_cfg.from_header, &mail_cfg.from_addr,
	    &why) != 0) {
		gh_log_errx("config", "GH_MAIL_FROM=%s %s", v, why);
		return -1;
	}
	return 0;
}

/* GH_SMTP_*: the relay and how to log in to it. */
static int
relay_setup(void)
{
	struct stat	 st;

	if ((mail_cfg.smtp_url = gh_config_str("GH_SMTP_URL", NULL)) == NULL)
		return -1;	/* required_setup said so */
	mail_cfg.smtp_user = gh_config_str("GH_SMTP_USER", NULL);
	if (mail_cfg.smtp_user != NULL &&
	    gh_config_str("GH_SMTP_PASSWORD_FILE", NULL) == NULL) {
		gh_log_errx("config", "GH_SMTP_USER is set: GH_SMTP_PASSWORD_FILE "
		    "must name a file holding the password (mode 0600)");
		return -1;
	}
	/* A file that cannot serve is named, with why, by gh_config_secret. */
	if (mail_cfg.smtp_user != NULL && (mail_cfg.smtp_password =
	    gh_config_secret("GH_SMTP_PASSWORD",
	    &mail_cfg.smtp_password_len)) == NULL)
		return -1;
	if (mail_cfg.smtp_user == NULL &&
	    gh_config_str("GH_SMTP_PASSWORD_FILE", NULL) != NULL) {
		gh_log_errx("config", "GH_SMTP_PASSWORD_FILE is set without "
		    "GH_SMTP_USER");
		return -1;
	}
	mail_cfg.smtp_ca_file = gh_config_str("GH_SMTP_CA_FILE", NULL);
	if (mail_cfg.smtp_ca_file != NULL &&
	    (stat(mail_cfg.smtp_ca_file, &st) != 0 || !S_ISREG(st.st_mode) ||
	    access(mail_cfg.smtp_ca_file, R_OK) != 0)) {
		gh_log_errx("config", "GH_SMTP_CA_FILE=%s is not a file we can "
		    "read", mail_cfg.smtp_ca_file);
		return -1;
	}
	if (gh_config_bool("GH_SMTP_TLS_VERIFY", 1, &mail_cfg.tls_verify) != 0 ||
	    gh_config_int("GH_SMTP_TIMEOUT", 60, 1, 600,
	    &mail_cfg.smtp_timeout) != 0)
		return -1;
	if (!mail_cfg.tls_verify)
		gh_log_warnx("config", "GH_SMTP_TLS_VERIFY=no: the relay's "
		    "certificate is not checked, and anyone on the way can "
		    "read the mail and the password");
	return 0;
}

/* The outbox's pace: batches, leases, retries and what is kept. */
static int
queue_setup(void)
{
	if (gh_config_int("GH_MAIL_BATCH", 20, 1, 1000, &mail_cfg.batch) != 0 ||
	    gh_config_int("GH_MAIL_LEASE", 300, 2, 86400,
	    &mail_cfg.lease) != 0 ||
	    gh_config_int("GH_MAIL_RETRY_MIN", 30, 1, 86400,
	    &mail_cfg.retry_min) != 0 ||
	    gh_config_int("GH_MAIL_RETRY_MAX", 3600, 1, 86400,
	    &mail_cfg.retry_max) != 0 ||
	    gh_config_int("GH_MAIL_RETRY_FOR", 86400, 0, 30 * 86400,
	    &mail_cfg.retry_for) != 0 ||
	    gh_config_int("GH_MAIL_KEEP", 7 * 86400, 0, 3650LL * 86400,
	    &mail_cfg.keep) != 0 ||
	    gh_config_int("GH_MAIL_KEEP_FAILED", 30 * 86400, 0,
	    3650LL * 86400, &mail_cfg.keep_failed) != 0)
		return -1;
	/*
	 * A message is sent while its lease holds; one still being sent when
	 * it runs out could be taken and sent by another mailer too.
	 */
	if (mail_cfg.lease <= mail_cfg.smtp_timeout) {
		gh_log_errx("config", "GH_MAIL_LEASE=%lld must be longer than "
		    "GH_SMTP_TIMEOUT=%lld", mail_cfg.lease,
		    mail_cfg.smtp_timeout);
		return -1;
	}
	if (mail_cfg.retry_max < mail_cfg.retry_min) {
		gh_log_errx("config", "GH_MAIL_RETRY_MAX=%lld is below "
		    "GH_MAIL_RETRY_MIN=%lld", mail_cfg.retry_max,
		    mail_cfg.retry_min);
		return -1;
	}
	return 0;
}

static int
templates_setup(void)
{
	struct gh_arena	 a;
	struct stat	 st;
	int		 fit;

	mail_cfg.templates = gh_config_str("GH_MAIL_TEMPLATES",
	    GH_PKGDATADIR "/mail");
	if (stat(mail_cfg.templates, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    access(mail_cfg.templates, R_OK | X_OK) != 0) {
		gh_log_errx("config", "GH_MAIL_TEMPLATES=%s is not a folder we "
		    "can read", mail_cfg.templates);
		return -1;
	}
	mail_cfg.product_name = gh_config_str("GH_PRODUCT_NAME", "gatehouse");
	/* It goes into subjects: it must be fit for one. */
	gh_arena_init(&a);
	fit = mail_subject(&a, mail_cfg.product_name) != NULL;
	gh_arena_free(&a);
	if (!fit) {
		gh_log_errx("config", "GH_PRODUCT_NAME is not UTF-8 or has a "
		    "control character");
		return -1;
	}
	return 0;
}

static void
settings_free(void)
{
	if (mail_cfg.smtp_password != NULL)
		gh_wipe(mail_cfg.smtp_password, mail_cfg.smtp_password_len);
	free(mail_cfg.smtp_password);
	free(mail_cfg.from_header);
	free(mail_cfg.from_addr);
	free(mail_cfg.public_url);
	memset(&mail_cfg, 0, sizeof(mail_cfg));
}

/* Once the database answers: a Message-ID domain of ours, or a warning. */
static void
domain_check(struct gh_arena *a)
{
	const char	*at = strrchr(mail_cfg.from_addr, '@');

	if (outbox_mail_domain(a) == NULL)
		gh_log_warnx("config", "the database has no gatehouse.mail_domain"
		    ": Message-IDs end in @gatehouse.invalid; as its owner, "
		    "ALTER DATABASE gatehouse_auth SET gatehouse.mail_domain = "
		    "'%s'", at != NULL ? at + 1 : "example.com");
}

static void
purge(struct gh_arena *a)
{
	long long	 n;

	if ((n = outbox_purge(a)) > 0)
		gh_log_infox("purge", "removed %lld old messages (sent more "
		    "than %lld s ago, or failed)", n, mail_cfg.keep);
}

/*
 * The loop: LISTEN (again: a reconnection forgets it), purge now and
 * then, deliver batches while there are full ones, then sleep until a
 * notification, the next due time or a stop signal.  Returns the exit
 * status.
 */
static int
run(int once)
{
	struct gh_arena	 a;
	time_t		 last_purge = 0, now;
	long long	 wait_ms;
	int		 n, rc = 0, checked = 0;

	gh_arena_init(&a);
	while (!stop_requested()) {
		gh_arena_reset(&a);
		if (outbox_listen(&a) != 0) {
			if (once) {
				rc = 1;
				break;
			}
			pause_ms(DB_RETRY_MS);
			continue;
		}
		if (!checked) {
			domain_check(&a);
			checked = 1;
		}
		if ((now = time(NULL)) - last_purge >= PURGE_EVERY) {
			purge(&a);
			last_purge = now;
		}
		while ((n = mail_deliver_batch(stop_requested)) ==
		    mail_cfg.batch && !stop_requested())
			;
		if (n < 0 && once) {
			rc = 1;
			break;
		}
		if (once)
			break;
		if (n < 0) {
			pause_ms(DB_RETRY_MS);
			continue;
		}
		wait_ms = outbox_due_in_ms(&a, IDLE_MAX_MS);
		/*
		 * A stop signal that comes between the last look at the flag
		 * and the wait is seen when the wait ends: at most a minute.
		 */
		if (wait_ms > 0 && !stopping && gh_db_wait((int)wait_ms) < 0)
			pause_ms(DB_RETRY_MS);
	}
	gh_arena_free(&a);
	return rc;
}

static int
log_setup(void)
{
	enum gh_level	 level = GH_LOG_INFO;
	const char	*s = gh_config_str("GH_LOG_LEVEL", "info");

	if (gh_log_level_parse(s, &level) != 0) {
		gh_log_setup("mailer", GH_LOG_INFO);
		gh_log_errx("config", "GH_LOG_LEVEL=%s is not one of debug, "
		    "info, warn, error", s);
		return -1;
	}
	gh_log_setup("mailer", level);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: gatehouse-mailer [--once]\n"
	    "Sends the auth database's mail outbox to GH_SMTP_URL; with "
	    "--once, what is due now, then exits.\n");
}

int
main(int argc, char *argv[])
{
	struct sigaction sa;
	int		 once = 0, rc = EXIT_CONFIG, curl_up = 0, bad;

	if (argc == 2 && strcmp(argv[1], "--once") == 0)
		once = 1;
	else if (argc != 1) {
		usage();
		return 2;
	}
	if (log_setup() != 0 || required_setup() != 0)
		goto done;
	/* Each bad setting says so, all in one start. */
	bad = sender_setup() != 0;
	bad |= relay_setup() != 0;
	bad |= queue_setup() != 0;
	bad |= templates_setup() != 0;
	bad |= public_url_setup() != 0;
	if (bad || gh_json_setup() != 0 || gh_db_setup("gatehouse-mailer") != 0)
		goto done;
	if (smtp_setup() != 0)
		goto done;
	curl_up = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	gh_log_infox("start", "mailer ready%s: relay %s, %lld messages a "
	    "batch, leases of %lld s", once ? " (once)" : "",
	    mail_cfg.smtp_url, mail_cfg.batch, mail_cfg.lease);
	rc = run(once);
	gh_log_infox("stop", "mailer exiting");
done:
	gh_db_close();
	if (curl_up)
		smtp_teardown();
	settings_free();
	return rc;
}
