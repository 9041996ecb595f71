/*
 * The relay, over libcurl's SMTP: TLS always (STARTTLS required on
 * smtp://, implicit on smtps://), the certificate verified unless told
 * otherwise, AUTH when a user is set.  One connection serves a batch:
 * a message's 250 after DATA is its last exchange, with no QUIT after
 * it, so the outbox hears of the success the moment the relay says it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "mailer.h"

#define CONNECT_TIMEOUT	10	/* seconds, at most GH_SMTP_TIMEOUT */

struct smtp_conn {
	CURL		*curl;
	char		 last[MAIL_ANSWER_MAX];	/* the relay's last line */
	char		 last_err[MAIL_ANSWER_MAX]; /* its last 4xx or 5xx */
	char		 errbuf[CURL_ERROR_SIZE];
};

struct upload {
	const char	*p;
	size_t		 len, off;
};

/*
 * Checks GH_SMTP_URL: smtp or smtps only, and no user or password in it
 * (the password belongs in GH_SMTP_PASSWORD_FILE, not the environment).
 */
int
smtp_setup(void)
{
	CURLU		*u = NULL;
	char		*scheme = NULL, *user = NULL, *host = NULL;
	int		 rc = -1;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		gh_log_errx("config", "libcurl did not initialise");
		return -1;
	}
	if ((u = curl_url()) == NULL ||
	    curl_url_set(u, CURLUPART_URL, mail_cfg.smtp_url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		/* Not echoed: a URL that does not parse may still hold a password. */
		gh_log_errx("config", "GH_SMTP_URL is not a URL "
		    "(smtp://host:587 or smtps://host:465)");
		goto done;
	}
	if (strcasecmp(scheme, "smtp") != 0 &&
	    strcasecmp(scheme, "smtps") != 0) {
		gh_log_errx("config", "GH_SMTP_URL: the scheme must be smtp "
		    "(STARTTLS, required) or smtps (TLS from the start), not "
		    "%s", scheme);
		goto done;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		gh_log_errx("config", "GH_SMTP_URL carries a user: set "
		    "GH_SMTP_USER and put the password in the file named by "
		    "GH_SMTP_PASSWORD_FILE");
		goto done;
	}
	mail_cfg.implicit_tls = strcasecmp(scheme, "smtps") == 0;
	rc = 0;
done:
	curl_free(scheme);
	curl_free(user);
	curl_free(host);
	curl_url_cleanup(u);
	if (rc != 0)
		curl_global_cleanup();
	return rc;
}

void
smtp_teardown(void)
{
	curl_global_cleanup();
}

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct upload	*up = arg;
	size_t		 n = size * nitems;

	if (n > up->len - up->off)
		n = up->len - up->off;
	memcpy(buf, up->p + up->off, n);
	up->off += n;
	return n;
}

/*
 * Keeps the relay's last answer line, and its last error line (libcurl
 * may say QUIT after an error, and the 221 must not hide the 550), for
 * last_error and the log.  Only what the relay sent is looked at: what
 * we send carries the AUTH exchange (the password, in base64) and the
 * message, and is never kept.
 */
static int
debug_cb(CURL *curl, curl_infotype type, char *data, size_t size,
    void *arg)
{
	struct smtp_conn *c = arg;
	char		 line[MAIL_ANSWER_MAX];
	size_t		 i, n = 0;

	(void)curl;
	if (type != CURLINFO_HEADER_IN)
		return 0;
	for (i = 0; i < size && n < sizeof(line) - 1; i++) {
		if (data[i] == '\r' || data[i] == '\n')
			break;
		/* Printable ASCII only: it goes to a text column and a log. */
		line[n++] = data[i] >= 0x20 && data[i] <= 0x7e ? data[i] : '?';
	}
	if (n == 0)
		return 0;
	line[n] = '\0';
	memcpy(c->last, line, n + 1);
	if (n >= 3 && (line[0] == '4' || line[0] == '5') &&
	    line[1] >= '0' && line[1] <= '9' && line[2] >= '0' && line[2] <= '9')
		memcpy(c->last_err, line, n + 1);
	return 0;
}

/* The settings that hold for every message of a connection. */
struct smtp_conn *
smtp_open(void)
{
	struct smtp_conn *c;
	CURL		*k;
	char		 from[300];
	long		 ct;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->curl = k = curl_easy_init()) == NULL) {
		free(c);
		gh_log_errx("smtp", "out of memory");
		return NULL;
	}
	snprintf(from, sizeof(from), "<%s>", mail_cfg.from_addr);
	ct = mail_cfg.smtp_timeout < CONNECT_TIMEOUT ?
	    (long)mail_cfg.smtp_timeout : CONNECT_TIMEOUT;
	if (curl_easy_setopt(k, CURLOPT_URL, mail_cfg.smtp_url) != CURLE_OK ||
	    curl_easy_setopt(k, CURLOPT_PROTOCOLS_STR, "smtp,smtps") !=
	    CURLE_OK ||
	    curl_easy_setopt(k, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL) !=
	    CURLE_OK ||
	    curl_easy_setopt(k, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK ||
	    curl_easy_setopt(k, CURLOPT_SSL_VERIFYPEER,
	    mail_cfg.tls_verify ? 1L : 0L) != CURLE_OK ||
	    curl_easy_setopt(k, CURLOPT_SSL_VERIFYHOST,
	    mail_cfg.tls_verify ? 2L : 0L) != CURLE_OK ||
	    (mail_cfg.smtp_ca_file != NULL &&
	    curl_easy_setopt(k, CURLOPT_CAINFO, mail_cfg.smtp_ca_file) !=
	    CURLE_OK) ||
	    (mail_cfg.smtp_user != NULL &&
	    (curl_easy_setopt(k, CURLOPT_USERNAME, mail_cfg.smtp_user) !=
	    CURLE_OK ||
	    curl_easy_setopt(k, CURLOPT_PASSWORD, mail_cfg.smtp_password) !=
	    CURLE_OK)) ||
	    curl_easy_setopt(k, CURLOPT_MAIL_FROM, from) !=
	    CURLE_OK ||
	    curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT, ct) != CURLE_OK ||
	    curl_easy_setopt(k, CURLOPT_TIMEOUT,
	    (long)mail_cfg.smtp_timeout) != CURLE_OK ||
	    curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(k, CURLOPT_UPLOAD, 1L) != CURLE_OK ||
	    curl_easy_setopt(k, CURLOPT_READFUNCTION, read_cb) != CURLE_OK ||
	    curl_easy_setopt(k, CURLOPT_ERRORBUFFER, c->errbuf) != CURLE_OK ||
	    curl_easy_setopt(k, CURLOPT_DEBUGFUNCTION, debug_cb) !=
	    CURLE_OK ||
	    curl_easy_setopt(k, CURLOPT_DEBUGDATA, c) != CURLE_OK ||
	    curl_easy_setopt(k, CURLOPT_VERBOSE, 1L) != CURLE_OK) {
		gh_log_errx("smtp", "libcurl refused a setting");
		smtp_close(c);
		return NULL;
	}
	return c;
}

/* Sends QUIT on the connection, if one is open, and frees it. */
void
smtp_close(struct smtp_conn *c)
{
	if (c == NULL)
		return;
	curl_easy_cleanup(c->curl);
	free(c);
}

/*
 * What a failure means.  A 5xx is the relay refusing this message for
 * good: failed at once.  But one about authentication (530, 534, 535,
 * 538), like a 421, a timeout, a TLS failure or no answer at all, is the
 * relay failing every message alike: retried, and the rest of the batch
 * waits rather than fail one by one.  A 4xx on one message is retried.
 */
static void
classify(CURLcode rc, long code, struct smtp_answer *ans)
{
	int	 auth;

	auth = rc == CURLE_LOGIN_DENIED || code == 530 || code == 534 ||
	    code == 535 || code == 538;
	ans->code = code;
	if (rc == CURLE_OK) {
		ans->outcome = SMTP_SENT;
		ans->relay = 0;
	} else if (code >= 500 && code <= 599 && !auth) {
		ans->outcome = SMTP_PERMFAIL;
		ans->relay = 0;
	} else {
		ans->outcome = SMTP_TEMPFAIL;
		ans->relay = auth || code < 400 || code > 599 || code == 421 ||
		    rc == CURLE_OPERATION_TIMEDOUT;
	}
}

/*
 * Sends one message to one recipient and says what became of it.  The
 * answer's text is the relay's own line when it answered with an error,
 * else libcurl's reason.
 */
void
smtp_send(struct smtp_conn *c, const char *to, const char *msg, size_t len,
    struct smtp_answer *ans)
{
	struct curl_slist *rcpt = NULL;
	struct upload	 up = { msg, len, 0 };
	char		 addr[300];
	CURLcode	 rc;
	long		 code = 0;
	size_t		 n;

	memset(ans, 0, sizeof(*ans));
	c->last[0] = c->last_err[0] = '\0';
	c->errbuf[0] = '\0';
	snprintf(addr, sizeof(addr), "<%s>", to);
	if ((rcpt = curl_slist_append(NULL, addr)) == NULL) {
		ans->outcome = SMTP_TEMPFAIL;
		snprintf(ans->text, sizeof(ans->text), "out of memory");
		return;
	}
	curl_easy_setopt(c->curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c->curl, CURLOPT_READDATA, &up);
	curl_easy_setopt(c->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	rc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
	/* The list must outlive the transfer only. */
	curl_easy_setopt(c->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(rcpt);
	classify(rc, code, ans);
	if (rc == CURLE_OK)
		snprintf(ans->text, sizeof(ans->text), "%s", c->last);
	else if (code >= 400 && code <= 599 && c->last_err[0] != '\0')
		snprintf(ans->text, sizeof(ans->text), "%s", c->last_err);
	else
		snprintf(ans->text, sizeof(ans->text), "%s%s%s",
		    curl_easy_strerror(rc), c->errbuf[0] != '\0' ? ": " : "",
		    c->errbuf);
	for (n = 0; ans->text[n] != '\0'; n++)
		if (ans->text[n] < 0x20 || ans->text[n] > 0x7e)
			ans->text[n] = '?';
}
