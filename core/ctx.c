/* ctx: per-thread GEOS handle and PROJ context. GEOS messages are routed
 * into the ctx that owns the handle, so errors never cross threads. */
#include "ctx_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void geos_msg(const char *fmt, va_list ap, void *userdata)
{
    ctx *c = userdata;
    vsnprintf(c->geos_msg, sizeof c->geos_msg, fmt, ap);
}

static void geos_handler(const char *message, void *userdata)
{
    ctx *c = userdata;
    snprintf(c->geos_msg, sizeof c->geos_msg, "%s", message);
    (void)geos_msg;
}

ctx *ctx_new(struct err *e)
{
    ctx *c = calloc(1, sizeof *c);
    if (!c) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    c->geos = GEOS_init_r();
    if (!c->geos) {
        err_set(e, ERR_INTERNAL, "GEOS could not be initialised");
        free(c);
        return NULL;
    }
    GEOSContext_setErrorMessageHandler_r(c->geos, geos_handler, c);
    GEOSContext_setNoticeMessageHandler_r(c->geos, geos_handler, c);
    c->crs = crs_ctx_new(e);
    if (!c->crs) {
        GEOS_finish_r(c->geos);
        free(c);
        return NULL;
    }
    return c;
}

void ctx_free(ctx *c)
{
    if (!c)
        return;
    crs_ctx_free(c->crs);
    GEOS_finish_r(c->geos);
    free(c);
}

int ctx_geos_err(ctx *c, struct err *e, int code, const char *what)
{
    return err_set(e, code, "%s: %s", what, c->geos_msg[0] ? c->geos_msg : "GEOS failed");
}

void ctx_set_cancel(ctx *c, struct cancel *cancel)
{
    c->cancel = cancel;
}

int ctx_cancelled(ctx *c, struct err *e)
{
    return c && cancel_check(c->cancel) ? cancel_err(c->cancel, e) : 0;
}

void ctx_set_progress(ctx *c, struct progress *p)
{
    c->progress = p;
}

struct progress *ctx_progress(const ctx *c)
{
    return c ? c->progress : NULL;
}

void ctx_set_asof(ctx *c, const char *asof)
{
    c->asof = asof;
}

const char *ctx_asof(const ctx *c)
{
    return c ? c->asof : NULL;
}
