/*
 * gatehouse-media: items (item.c) as every handler shares them: who may
 * see one, finding one, its columns and JSON, the headers of its content,
 * and the pages of a list.
 */
#ifndef MEDIA_ITEM_H
#define MEDIA_ITEM_H

#include "media.h"
#include "tag.h"

/*
 * The one statement of who may have an item, as SQL text for every
 * statement that needs it: its owner or an admin may change it; they,
 * and everyone when it is public, may see it.  m is the item's alias,
 * user the caller's id (a uuid parameter), admin whether the caller is
 * an admin (a boolean parameter): MEDIA_VISIBLE("m", "$1", "$2").
 */
#define MEDIA_OWNED(m, user, admin) \
	"(" m ".owner = " user "::uuid OR " admin "::boolean)"
#define MEDIA_VISIBLE(m, user, admin) \
	"(" m ".owner = " user "::uuid OR " m ".visibility = 'public' OR " \
	admin "::boolean)"

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
		"m.thumb_height, " MEDIA_TAG_NAMES("m.id") ", m.storage_path"
enum {
	MC_ID, MC_OWNER, MC_TITLE, MC_DESCRIPTION, MC_VISIBILITY, MC_TYPE,
	MC_SIZE, MC_SHA256, MC_FILENAME, MC_WIDTH, MC_HEIGHT, MC_CREATED,
	MC_UPDATED, MC_THUMB, MC_THUMB_W, MC_THUMB_H, MC_TAGS,
	MC_PATH,
	MC__COUNT
};

/*
 * A page of items is sorted by (created_at, id), newest first: its
 * statements select the key after the columns, as MC_KEY, to the
 * microsecond so that no two items tie, and media_item_keys names the
 * key's columns for the cursor.
 */
#define MEDIA_KEY	GH_SQL_TS_KEY("m.created_at")
enum { MC_KEY = MC__COUNT };
extern const int media_item_keys[2];

/* An owner's uploads queue on this lock, and a purge of their media. */
extern const struct gh_sql media_sql_lock_owner[1];

/*
 * Whether the files of rows this transaction deletes may be unlinked once
 * it commits (item.c): not while a backup archives them.
 */
int		 media_files_may_go(struct gh_req *, int *may);
void		 media_files_gone(struct gh_req *, int may, const char *path);

/* What media_find requires of the user. */
enum media_access {
	MEDIA_SEE,		/* owner, admin, or a public item */
	MEDIA_OWN,		/* owner or admin; locks the row */
	MEDIA_LINKED		/* nothing: a signed link was checked */
};

PGresult	*media_find(struct gh_req *, const char *id, enum media_access);
json_t		*media_json(struct gh_row *);
void		 media_content_headers(struct gh_req *, const char *sha256);
const char	*media_admin_param(const struct gh_req *);
const char	*media_valid_visibility(const char *);
const char	*media_valid_user(const char *);
const char	*media_user_param(struct gh_req *, const char *);

/*
 * The query parameters of every page, first in each list's table: limit
 * and cursor (GH_PAGE_FIELDS), then starting_after, the last id of the
 * previous page, which older clients send (deprecated: an item that went
 * meanwhile ends the list there, where a cursor goes on after it).
 */
#define MEDIA_PAGE_FIELDS	GH_PAGE_FIELDS, \
	{ "starting_after", GH_STRING | GH_OPTIONAL, \
	    .valid = media_valid_after }
enum { MP_LIMIT, MP_CURSOR, MP_AFTER, MP__COUNT };
#define MEDIA_PAGE_LIMIT	20	/* items when no limit is given */

struct media_page {
	struct gh_page	 pg;	/* limit, fetch, and the cursor's key */
	const char	*after;	/* starting_after, or NULL */
};

const char	*media_valid_after(const char *);
int		 media_page_init(struct gh_req *, const struct gh_field *,
		    struct gh_values *, struct media_page *);
json_t		*media_page_json(struct gh_req *, const struct media_page *,
		    const PGresult *, json_t *(*)(struct gh_row *),
		    const int *keycols);
void		 media_page_reply(struct gh_req *, const struct media_page *,
		    const PGresult *, json_t *(*)(struct gh_row *),
		    const int *keycols);

#endif
