/*
 * idempotency.c: the media service's table of Idempotency-Keys, for
 * uploads (lib/gh_idem.h has how a key is used; sql/media/007 the table).
 */
#ifndef MEDIA_IDEMPOTENCY_H
#define MEDIA_IDEMPOTENCY_H

#include "media.h"

extern const struct gh_idem_table media_keys;

#endif
