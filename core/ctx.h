/* ctx: one thread's working context for the spatial core: its GEOS handle and
 * its PROJ context with cached transforms. Not shared between threads; each
 * server worker and each CLI command makes its own with ctx_new. */
#ifndef ONEMAP_CTX_H
#define ONEMAP_CTX_H

#include "err.h"

typedef struct ctx ctx;

/* Returns NULL and fills e when GEOS or PROJ cannot be set up. Caller frees. */
ctx *ctx_new(struct err *e);
void ctx_free(ctx *c);

#endif
