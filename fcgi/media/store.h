/*
 * gatehouse-media: files under the media root (store.c).  Only names the
 * store makes are ever written or removed; no part of a path comes from a
 * client.
 */
#ifndef MEDIA_STORE_H
#define MEDIA_STORE_H

#include <sys/stat.h>

struct gh_arena;

/* An entry of a leaf folder ("ab/cd") of the store, for media_store_walk. */
struct media_entry {
	int		 dfd;		/* the leaf folder, for *at() calls */
	const char	*name;		/* in it */
	const char	*path;		/* "ab/cd/<name>", from the root; NULL
					   when not ours */
	const struct stat *st;		/* not followed through a link */
	int		 ours;		/* a regular file named as the store
					   names them */
};

int		 media_store_open(void);
int		 media_store_setup(void);
int		 media_tmp_open(struct gh_arena *, char **name);
int		 media_tmp_sweep(int dry_run);
int		 media_place(struct gh_arena *, const char *tmpname,
		    char **path);
void		 media_unlink(const char *path);
int		 media_store_walk(void (*)(void *, const struct media_entry *),
		    void *);

#endif
