/* gatehouse-media: shared between its source files. */
#ifndef MEDIA_H
#define MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "gatehouse.h"

struct media_settings {
	const char	*dir;		/* the media root; tmp/ inside it */
	int		 dirfd;		/* open on the root, for *at() calls */
	long long	 max;		/* bytes per file */
	long long	 quota;		/* bytes per user; 0: none */
	unsigned char	*link_key;	/* NULL: signed links are off */
	size_t		 link_keylen;
	long long	 link_ttl_max;	/* seconds */
};

extern struct media_settings media_cfg;

/* RFC 3339 UTC, as every answer writes times. */
#define TS(col)	GH_SQL_TS(col)
/*
 * The columns of an item, in the order media_json reads them; the tags'
 * names as a JSON array (an index scan per item, none for most).  A
 * statement that selects more columns after these reads them from
 * MC__COUNT on.
 */
#define MEDIA_COLS	"m.id, m.owner, m.title, m.description, " \
		"m.visibility, m.mime_type, m.size, m.sha256, m.filename, " \
		"m.width, m.height, " TS("m.created_at") ", " \
		TS("m.updated_at") ", m.thumb_path, m.thumb_width, " \
		"m.thumb_height, coalesce((SELECT json_agg(t.name ORDER BY " \
		" lower(t.name), t.name) FROM media_item_tags l JOIN " \
		" media_tags t ON t.id = l.tag_id WHERE l.media_id = m.id), " \
		" '[]'), m.storage_path"
enum {
	MC_ID, MC_OWNER, MC_TITLE, MC_DESCRIPTION, MC_VISIBILITY, MC_TYPE,
	MC_SIZE, MC_SHA256, MC_FILENAME, MC_WIDTH, MC_HEIGHT, MC_CREATED,
	MC_UPDATED, MC_THUMB, MC_THUMB_W, MC_THUMB_H, MC_TAGS,
	MC_PATH,
	MC__COUNT
};

#define MEDIA_TITLE_MAX		200	/* code points */
#define MEDIA_DESC_MAX		5000
#define MEDIA_FILENAME_MAX	255
#define MEDIA_SNIFF_LEN		4096	/* bytes kept to decide the type */

/* A type we accept: what the bytes say, and the names it goes by. */
struct media_type {
	const char	*mime;
	const char	*aliases;	/* other declared types, space separated */
	const char	*exts;		/* file name extensions, space separated */
};

/* sniff.c: pure functions over bytes, no files, no database */
const struct media_type *media_sniff(const unsigned char *, size_t);
int		 media_declared_ok(const struct media_type *, const char *);
int		 media_ext_ok(const struct media_type *, const char *filename);
int		 media_dimensions(const char *mime,
		    ssize_t (*rd)(void *, void *, size_t, uint64_t), void *,
		    uint32_t *w, uint32_t *h);
long		 media_utf8_next(const unsigned char **);
const char	*media_valid_text(const char *, size_t maxlen, int multiline);
int		 media_risky(const char *mime);
char		*media_disposition(struct gh_arena *, const char *mime,
		    const char *filename, int attachment);

/* store.c: files under the media root */
int		 media_store_setup(void);
int		 media_tmp_open(struct gh_arena *, char **name);
int		 media_place(struct gh_arena *, const char *tmpname,
		    char **path);
void		 media_unlink(const char *path);
int		 media_sweep_main(int, char **);

/* A page of a list: newest (or oldest) first after a cursor id. */
struct media_page {
	const char	*after;		/* starting_after, or NULL */
	long long	 limit;
	char		 fetch[24];	/* limit + 1, as a statement parameter */
};

/* upload.c */
extern const struct gh_sql media_sql_lock_owner[1];
void		 media_upload(struct gh_req *);

/* items.c */
const char	*media_valid_visibility(const char *);
int		 media_page_params(struct gh_req *, struct media_page *);
json_t		*media_page_json(PGresult *, const struct media_page *,
		    json_t *(*)(PGresult *, int));
void		 media_page_reply(struct gh_req *, const struct gh_sql *,
		    const char *of, const struct media_page *,
		    json_t *(*)(PGresult *, int));
void		 media_list(struct gh_req *);
void		 media_get(struct gh_req *);
void		 media_update(struct gh_req *);
void		 media_delete(struct gh_req *);
json_t		*media_json(PGresult *, int row);
void		 media_content_headers(struct gh_req *, PGresult *);
int		 media_is_admin(const struct gh_req *);
/* What media_find requires of the user. */
enum media_access {
	MEDIA_SEE,		/* owner, admin, or a public item */
	MEDIA_OWN,		/* owner or admin; locks the row */
	MEDIA_LINKED		/* nothing: a signed link was checked */
};
PGresult	*media_find(struct gh_req *, const char *id, enum media_access);

/* stats.c */
void		 media_stats(struct gh_req *);

/* social.c */
void		 media_like(struct gh_req *);
void		 media_unlike(struct gh_req *);
void		 media_likes(struct gh_req *);
void		 media_most_liked(struct gh_req *);
void		 media_rate(struct gh_req *);
void		 media_unrate(struct gh_req *);
void		 media_ratings(struct gh_req *);

/* comments.c */
void		 media_comment_add(struct gh_req *);
void		 media_comments(struct gh_req *);
void		 media_comments_by_user(struct gh_req *);
void		 media_comment_edit(struct gh_req *);
void		 media_comment_delete(struct gh_req *);

/* thumb.c */
void		 media_thumbnail(struct gh_req *);

/* tags.c */
#define MEDIA_TAG_MAX		50	/* code points of a tag's name */
#define MEDIA_TAGS_PER_ITEM	20
void		 media_tag_put(struct gh_req *);
void		 media_tag_remove(struct gh_req *);
void		 media_item_tags(struct gh_req *);
void		 media_tags_list(struct gh_req *);
void		 media_tag_items(struct gh_req *);
void		 media_tag_delete(struct gh_req *);
json_t		*media_tag_names(const char *);
int		 media_tags_sweep(struct gh_req *, long long grace,
		    int dry_run, long long *removed);

/* purge.c */
void		 media_purge_user(struct gh_req *);

/* links.c */
void		 media_download(struct gh_req *);
void		 media_link_create(struct gh_req *);

#endif
