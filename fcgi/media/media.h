/*
 * gatehouse-media: its settings and limits, which every source file reads.
 * Each helper file has its own header (item.h, multipart.h, sniff.h,
 * store.h, sweep.h, tag.h, thumb.h); the handlers are declared in
 * handlers.h, for the route table in main.c.
 */
#ifndef MEDIA_H
#define MEDIA_H

#include <stddef.h>

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

#define MEDIA_TITLE_MAX		200	/* code points */
#define MEDIA_DESC_MAX		5000
#define MEDIA_FILENAME_MAX	255

#endif
