/*
 * gatehouse-media: the handlers, for the route table in main.c.  Each
 * handler file includes this header only to have its definitions checked
 * against it; no handler calls another, and no helper file (item.c,
 * multipart.c, sniff.c, store.c, sweep.c, tag.c, thumb.c) includes it.
 */
#ifndef MEDIA_HANDLERS_H
#define MEDIA_HANDLERS_H

struct gh_req;

/* upload.c */
void		 media_upload(struct gh_req *);

/* items.c */
void		 media_list(struct gh_req *);
void		 media_get(struct gh_req *);
void		 media_update(struct gh_req *);
void		 media_delete(struct gh_req *);

/* links.c: the bytes of an item and of its thumbnail, and signed links */
void		 media_download(struct gh_req *);
void		 media_thumbnail(struct gh_req *);
void		 media_link_create(struct gh_req *);

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

/* tags.c */
void		 media_tag_put(struct gh_req *);
void		 media_tag_remove(struct gh_req *);
void		 media_item_tags(struct gh_req *);
void		 media_tags_list(struct gh_req *);
void		 media_tag_items(struct gh_req *);
void		 media_tag_delete(struct gh_req *);

/* purge.c */
void		 media_purge_user(struct gh_req *);

#endif
