/*
 * A text that grows in an arena: what the templates render to and what
 * a message is built in.  A failed allocation is remembered, so callers
 * append freely and look once at the end.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mailer.h"

void
mail_buf_init(struct mail_buf *b, struct gh_arena *a)
{
	memset(b, 0, sizeof(*b));
	b->arena = a;
}

void
mail_buf_add(struct mail_buf *b, const char *s, size_t n)
{
	char	*nb;
	size_t	 cap;

	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		for (cap = b->cap ? b->cap : 256; cap < b->len + n + 1;
		    cap *= 2)
			;
		if ((nb = gh_alloc(b->arena, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		if (b->len > 0)
			memcpy(nb, b->buf, b->len);
		b->buf = nb;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void
mail_buf_str(struct mail_buf *b, const char *s)
{
	mail_buf_add(b, s, strlen(s));
}

/* The text, or NULL when an allocation failed on the way. */
char *
mail_buf_done(struct mail_buf *b)
{
	mail_buf_add(b, "", 0);
	return b->failed ? NULL : b->buf;
}
