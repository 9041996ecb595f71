/*
 * gatehouse-mailer: delivers the auth database's mail outbox to an SMTP
 * relay.  Not a FastCGI program, but built the way the services are: one
 * program over libgatehouse, its SQL kept together in outbox.c.
 *
 * Who calls whom (no file calls back into one above it):
 *	main.c -> deliver.c, outbox.c, mime.c, smtp.c
 *	deliver.c -> outbox.c, mime.c, smtp.c
 *	mime.c -> render.c; mime.c, render.c -> buf.c
 */
#ifndef MAILER_H
#define MAILER_H

#include <stddef.h>

#include "gatehouse.h"

#define MAIL_TEMPLATE_MAX	(64 * 1024)	/* bytes of one template file */
#define MAIL_ANSWER_MAX		512		/* the relay's answer we keep */

struct mail_settings {
	char		*from_header;	/* From: as sent, encoded */
	char		*from_addr;	/* the envelope sender */
	const char	*templates;	/* folder of <name>.{subject,txt,html} */
	const char	*product_name;
	char		*public_url;	/* without a trailing / */
	const char	*smtp_url;
	const char	*smtp_user;	/* NULL: no AUTH */
	char		*smtp_password;
	size_t		 smtp_password_len;
	const char	*smtp_ca_file;	/* NULL: the system's CAs */
	int		 tls_verify;
	int		 implicit_tls;	/* smtps:// */
	long long	 smtp_timeout;	/* seconds for one message */
	long long	 batch;		/* messages claimed at once */
	long long	 lease;		/* seconds a claim holds a message */
	long long	 retry_min, retry_max;	/* backoff bounds, seconds */
	long long	 retry_for;	/* give up after this long, seconds */
	long long	 keep;		/* sent messages kept, seconds */
	long long	 keep_failed;	/* failed messages kept, seconds */
};
extern struct mail_settings mail_cfg;

/* One claimed message: the columns of outbox_claim. */
struct mail_msg {
	const char	*id;
	const char	*lease_id;
	const char	*message_id;
	const char	*to;
	const char	*template;
	const char	*params;	/* a JSON object, as text */
	long long	 created;	/* seconds since the epoch */
	long long	 attempts;	/* counting this one, after outbox_begin */
};

enum mail_end {
	MAIL_SENT,
	MAIL_RETRY,	/* queued again, or failed when too old */
	MAIL_FAILED
};

/* A text growing in an arena (buf.c). */
struct mail_buf {
	struct gh_arena	*arena;
	char		*buf;
	size_t		 len, cap;
	int		 failed;
};

/* deliver.c */
int		 mail_deliver_batch(int (*stop)(void));

/* outbox.c: every statement of the mailer */
int		 outbox_listen(struct gh_arena *);
int		 outbox_claim(struct gh_arena *, struct mail_msg **, int *n);
int		 outbox_begin(struct gh_arena *, struct mail_msg *);
int		 outbox_sent(struct gh_arena *, const struct mail_msg *);
int		 outbox_retry(struct gh_arena *, const struct mail_msg *,
		    long long delay, const char *why, const char **state);
int		 outbox_fail(struct gh_arena *, const struct mail_msg *,
		    const char *why);
int		 outbox_release(struct gh_arena *, const struct mail_msg *,
		    long long delay);
long long	 outbox_due_in_ms(struct gh_arena *, long long cap_ms);
long long	 outbox_purge(struct gh_arena *);
const char	*outbox_mail_domain(struct gh_arena *);

/* mime.c: the message as sent */
int		 mail_header_ok(const char *);
char		*mail_qp_encode(struct gh_arena *, const char *, size_t);
char		*mail_subject(struct gh_arena *, const char *);
int		 mail_from_parse(const char *, char **header, char **addr,
		    const char **why);
char		*mail_date(struct gh_arena *, long long epoch);
int		 mail_compose(struct gh_arena *, const struct mail_msg *,
		    char **out, size_t *len, char *err, size_t errlen);

/* buf.c */
void		 mail_buf_init(struct mail_buf *, struct gh_arena *);
void		 mail_buf_add(struct mail_buf *, const char *, size_t);
void		 mail_buf_str(struct mail_buf *, const char *);
char		*mail_buf_done(struct mail_buf *);

/* render.c: templates with {{name}} placeholders */
int		 mail_render(struct gh_arena *, const char *tpl, size_t len,
		    json_t *vars, int html, char **out, char *err,
		    size_t errlen);
int		 mail_render_file(struct gh_arena *, const char *dir,
		    const char *name, const char *ext, json_t *vars, int html,
		    char **out, char *err, size_t errlen);
int		 mail_template_name_ok(const char *);

/* smtp.c: one relay, over libcurl */
enum smtp_outcome {
	SMTP_SENT,
	SMTP_TEMPFAIL,
	SMTP_PERMFAIL
};

struct smtp_answer {
	enum smtp_outcome outcome;
	int		 relay;		/* the relay failed, not the message */
	long		 code;		/* the last SMTP code, 0 when none */
	char		 text[MAIL_ANSWER_MAX];	/* printable ASCII only */
};

struct smtp_conn;

int		 smtp_setup(void);
void		 smtp_teardown(void);
struct smtp_conn *smtp_open(void);
void		 smtp_send(struct smtp_conn *, const char *to,
		    const char *msg, size_t len, struct smtp_answer *);
void		 smtp_close(struct smtp_conn *);

#endif
