/*
 * gatehouse-media: tags as the database keeps them (tag.c): the rules of
 * a tag's name, the names of an item as the statements give them, and
 * the sweep of tags that no item uses.
 */
#ifndef MEDIA_TAG_H
#define MEDIA_TAG_H

#include "media.h"

#define MEDIA_TAG_MAX		50	/* code points of a tag's name */
#define MEDIA_TAGS_PER_ITEM	20

/* An item's tags' names as JSON, sorted without regard to case. */
#define MEDIA_TAG_NAMES(item) "coalesce((SELECT json_agg(t.name ORDER BY " \
		"lower(t.name), t.name) FROM media_item_tags l JOIN " \
		"media_tags t ON t.id = l.tag_id WHERE l.media_id = " item \
		"), '[]')"

char		*media_tag_name(struct gh_arena *, const char *,
		    const char **why);
const char	*media_valid_tag_prefix(const char *);
json_t		*media_tags_json(struct gh_row *, int col);
int		 media_tags_sweep(struct gh_arena *, long long grace,
		    int dry_run, long long *removed);

#endif
