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

/* Work done with c checks c's cancel (a request's deadline and client)
 * between features; NULL: never cancelled. Borrowed until the next call. */
struct cancel;
void ctx_set_cancel(ctx *c, struct cancel *cancel);

/* 0 while the work may go on; else fills e (cancel_err) and returns its
 * code. For loops over many features. */
int ctx_cancelled(ctx *c, struct err *e);

/* Long work done with c (imports, exports) reports how far it has got to p;
 * NULL: to no one. Borrowed until the next call. */
struct progress;
void ctx_set_progress(ctx *c, struct progress *p);
struct progress *ctx_progress(const ctx *c);

/* Every read done with c (items, stats, tiles, areas named by a feature,
 * locate, overlaps, exports) answers as the database stood at the instant
 * asof (as instant_parse writes it); NULL: as it is now. Writes ignore it.
 * Borrowed until the next call. */
void ctx_set_asof(ctx *c, const char *asof);
const char *ctx_asof(const ctx *c);

#endif
