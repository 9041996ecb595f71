/*
 * Per-request memory: a bump allocator over chunks, released in one call
 * when the request ends, with deferred cleanups for objects that other
 * libraries own (jansson values, libpq results).
 */
#ifndef GH_ARENA_H
#define GH_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct gh_chunk;
struct gh_defer;

struct gh_arena {
	struct gh_chunk	*head;		/* newest chunk first */
	struct gh_defer	*defers;	/* run newest first */
	size_t		 used;		/* bytes handed out, for stats */
};

/* gh_arena.c */
void	 gh_arena_init(struct gh_arena *);
void	 gh_arena_reset(struct gh_arena *);
void	 gh_arena_free(struct gh_arena *);
void	*gh_alloc(struct gh_arena *, size_t);
void	*gh_calloc(struct gh_arena *, size_t, size_t);
char	*gh_strdup(struct gh_arena *, const char *);
char	*gh_strndup(struct gh_arena *, const char *, size_t);
char	*gh_printf(struct gh_arena *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
char	*gh_vprintf(struct gh_arena *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
int	 gh_defer(struct gh_arena *, void (*)(void *), void *);

#endif
