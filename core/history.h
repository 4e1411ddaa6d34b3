/* history: the API's JSON of what the store keeps of the past — a
 * feature's versions (/collections/{c}/items/{id}/history) and the change
 * log (/changes). The store gives rows; this module writes them. */
#ifndef ONEMAP_HISTORY_H
#define ONEMAP_HISTORY_H

#include "buf.h"
#include "err.h"
#include "store.h"

/* Writes the live feature fid as a history feature when it is at version,
 * else "null": a version stored without a copy is the live one. */
typedef int (*history_live_fn)(void *arg, long long fid, long long version, struct buf *out,
                               struct err *e);

/* Appends the version objects of one feature, newest first, separated by
 * commas; *n their count. */
int history_versions_json(store *s, const struct layer *l, long long fid, history_live_fn live,
                          void *arg, struct buf *out, long long *n, struct err *e);

/* Writes {"changes":[...],"next":N}: the change log after seq since, at
 * most limit entries; next is the last seq written (since when none). */
int history_changes_json(store *s, long long since, long long limit, struct buf *out,
                         struct err *e);

#endif
