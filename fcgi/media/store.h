/*
 * gatehouse-media: files under the media root (store.c).  Only names the
 * store makes are ever written or removed; no part of a path comes from a
 * client.
 */
#ifndef MEDIA_STORE_H
#define MEDIA_STORE_H

#include <sys/stat.h>
#include <time.h>

struct gh_arena;

/* Seconds: younger orphans may still get their row (sweep.c's default). */
#define MEDIA_GRACE	3600

/*
 * The stored files' lock (a PostgreSQL advisory lock, as its two keys):
 * gatehouse-backup holds it alone from the snapshot of its media dump to
 * the end of its archive, which must find every file that snapshot
 * names; whoever removes stored files holds it shared meanwhile (the
 * deleting handlers, item.c; the sweep), or leaves them to a later sweep.
 * backup/gatehouse-backup names the same keys.
 */
#define MEDIA_FILES_LOCK	"hashtext('gatehouse'), hashtext('media files')"

/* What media_tmp_sweep did with tmp/. */
struct media_tmp_sweep {
	int		 removed;	/* writer gone, or old and unknown */
	int		 live;		/* its writer holds its lock */
	int		 young;		/* writer unknown, younger than before */
	int		 failed;
};

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
void		 media_tmp_sweep(int dry_run, time_t before,
		    struct media_tmp_sweep *);
int		 media_place(struct gh_arena *, const char *tmpname,
		    char **path);
void		 media_unlink(const char *path);
int		 media_store_walk(void (*)(void *, const struct media_entry *),
		    void *);

#endif
