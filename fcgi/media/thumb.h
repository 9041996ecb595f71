/*
 * gatehouse-media: thumbnails (thumb.c), made at upload by
 * gatehouse-media-thumb, a process of its own.
 */
#ifndef MEDIA_THUMB_H
#define MEDIA_THUMB_H

#include <stdint.h>

struct gh_req;

/* A thumbnail on its way: a temporary, then its place under the root. */
struct media_thumb {
	char		*tmpname;	/* NULL: none was made */
	char		*path;
	uint32_t	 w, h;
};

int		 media_thumb_setup(void);
int		 media_thumb_wanted(const char *mime);
int		 media_thumb_make(struct gh_req *, const char *tmpname,
		    const char *mime, uint32_t w, uint32_t h,
		    struct media_thumb *);

#endif
