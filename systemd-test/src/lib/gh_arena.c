#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gh_arena.h"

#define GH_CHUNK_SIZE	(16 * 1024)
#define GH_ALIGN	16

struct gh_chunk {
	struct gh_chunk	*next;
	size_t		 size;		/* usable bytes in data */
	size_t		 off;
	_Alignas(GH_ALIGN) unsigned char data[];
};

struct gh_defer {
	struct gh_defer	*next;
	void		(*fn)(void *);
	void		*arg;
};

void
gh_arena_init(struct gh_arena *a)
{
	memset(a, 0, sizeof(*a));
}

static void
run_defers(struct gh_arena *a)
{
	struct gh_defer	*d;

	/* A cleanup may not allocate from the arena it is being run from. */
	for (d = a->defers; d != NULL; d = d->next)
		d->fn(d->arg);
	a->defers = NULL;
}

/*
 * Keeps the first chunk (the one a typical request fits in) so that a
 * worker serving small requests does not touch malloc at all.
 */
void
gh_arena_reset(struct gh_arena *a)
{
	struct gh_chunk	*c, *next;

	run_defers(a);
	if (a->head == NULL)
		return;
	for (c = a->head; c->next != NULL; c = next) {
		next = c->next;
		free(c);
	}
	c->off = 0;
	a->head = c;
	a->used = 0;
}

void
gh_arena_free(struct gh_arena *a)
{
	struct gh_chunk	*c, *next;

	run_defers(a);
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	memset(a, 0, sizeof(*a));
}

void *
gh_alloc(struct gh_arena *a, size_t n)
{
	struct gh_chunk	*c;
	size_t		 size;
	void		*p;

	if (n == 0)
		n = 1;
	if (n > SIZE_MAX - GH_ALIGN)
		return NULL;
	n = (n + GH_ALIGN - 1) & ~(size_t)(GH_ALIGN - 1);
	/* The newest chunk is the only one with room worth looking at. */
	c = a->head;
	if (c == NULL || c->size - c->off < n) {
		size = n > GH_CHUNK_SIZE ? n : GH_CHUNK_SIZE;
		if ((c = malloc(sizeof(*c) + size)) == NULL)
			return NULL;
		c->size = size;
		c->off = 0;
		if (a->head != NULL && n > GH_CHUNK_SIZE / 2 &&
		    a->head->size - a->head->off > GH_CHUNK_SIZE / 4) {
			/* A big block: keep filling the current chunk. */
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	p = c->data + c->off;
	c->off += n;
	a->used += n;
	return p;
}

void *
gh_calloc(struct gh_arena *a, size_t nmemb, size_t size)
{
	void	*p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		return NULL;
	if ((p = gh_alloc(a, nmemb * size)) != NULL)
		memset(p, 0, nmemb * size);
	return p;
}

char *
gh_strndup(struct gh_arena *a, const char *s, size_t n)
{
	char	*p;

	if ((p = gh_alloc(a, n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
gh_strdup(struct gh_arena *a, const char *s)
{
	return gh_strndup(a, s, strlen(s));
}

char *
gh_vprintf(struct gh_arena *a, const char *fmt, va_list ap)
{
	va_list	 ap2;
	char	*p;
	int	 n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || (p = gh_alloc(a, (size_t)n + 1)) == NULL)
		return NULL;
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
gh_printf(struct gh_arena *a, const char *fmt, ...)
{
	va_list	 ap;
	char	*p;

	va_start(ap, fmt);
	p = gh_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

int
gh_defer(struct gh_arena *a, void (*fn)(void *), void *arg)
{
	struct gh_defer	*d;

	if ((d = gh_alloc(a, sizeof(*d))) == NULL)
		return -1;
	d->fn = fn;
	d->arg = arg;
	d->next = a->defers;
	a->defers = d;
	return 0;
}
