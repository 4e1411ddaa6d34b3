/* ctx_int: the inside of struct ctx, for core modules only (it names GEOS). */
#ifndef ONEMAP_CTX_INT_H
#define ONEMAP_CTX_INT_H

#include <geos_c.h>

#include "cancel.h"
#include "crs.h"
#include "ctx.h"
#include "err.h"

struct ctx {
    GEOSContextHandle_t geos;
    crs_ctx *crs;
    char geos_msg[256]; /* last GEOS error or notice of this thread */
    struct cancel *cancel; /* the running request's, borrowed (ctx_set_cancel) */
    struct progress *progress; /* where long work reports, borrowed (ctx_set_progress) */
    const char *asof;          /* the instant reads are at, borrowed (ctx_set_asof) */
};

/* Fills e with code and "what: <last GEOS message>". Returns code. */
int ctx_geos_err(ctx *c, struct err *e, int code, const char *what);

#endif
