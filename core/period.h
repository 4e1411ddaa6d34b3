/* period: what happened between two instants, from the past versions — per
 * layer the features added, removed and changed and the change in area, and
 * the office's year-end figures: land acquired (sites that reached 签约 or
 * later), floor area demolished, main houses and graves moved (sites that
 * reached 已拆除), bases planted per crop, communities that joined the 红色
 * 物业联盟, each with the features behind it. */
#ifndef ONEMAP_PERIOD_H
#define ONEMAP_PERIOD_H

#include "buf.h"
#include "ctx.h"
#include "err.h"
#include "layer.h"
#include "qarea.h"
#include "store.h"

struct period_req {
    const struct layers *layers;
    const char *from;  /* an instant as instant_parse writes it */
    const char *to;    /* the same, after from; NULL: now */
    const qarea *area; /* NULL: everywhere; else the features inside it (at either end) */
};

/* Appends "collections":{...},"figures":{...} (no braces around). */
int period_summary(ctx *c, store *s, const struct period_req *q, struct buf *out, struct err *e);

#endif
