/*
 * gatehouse-media --sweep (sweep.c): orphan files, temporaries, unused
 * tags, expired upload keys and spent grants.
 */
#ifndef MEDIA_SWEEP_H
#define MEDIA_SWEEP_H

int		 media_sweep_main(int, char **);

#endif
