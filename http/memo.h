/* memo: answers kept while the data they were computed from is unchanged —
 * each under a data version (store_data_version, which every committed
 * write changes) and a variant of the request. A lookup under another
 * version misses, so nothing stale is ever served, also after a write by
 * another process. Locks itself: shared by every worker. */
#ifndef ONEMAP_MEMO_H
#define ONEMAP_MEMO_H

#include <stddef.h>

#include "buf.h"

typedef struct memo memo;

/* NULL when out of memory. Caller frees with memo_free (NULL is fine). */
memo *memo_new(void);
void memo_free(memo *m);

/* Appends the answer kept for (version, variant) to out: 1 when there is
 * one, 0 when not. */
int memo_get(memo *m, long long version, int variant, struct buf *out);

/* Keeps a copy of data[0..len) for (version, variant), replacing what was
 * kept for that variant. Out of memory: nothing is kept. */
void memo_put(memo *m, long long version, int variant, const char *data, size_t len);

#endif
