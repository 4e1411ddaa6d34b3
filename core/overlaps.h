/* overlaps: conflict checks — pairs of features of two layers (or of one
 * layer with itself) whose interiors overlap, with the overlapping geodesic
 * area. */
#ifndef ONEMAP_OVERLAPS_H
#define ONEMAP_OVERLAPS_H

#include "buf.h"
#include "ctx.h"
#include "err.h"
#include "layer.h"
#include "qarea.h"
#include "store.h"

struct overlaps_req {
    const struct layer *a, *b;
    const qarea *area;        /* NULL: everywhere; else only features of a touching it */
    long long limit, offset;
};

/* Appends the JSON "pairs":[...] of the requested page; *matched receives
 * the number of pairs in all. Pairs are ordered by a's id, then b's. */
int overlaps_find(ctx *c, store *s, const struct overlaps_req *q, struct buf *pairs,
                  long long *matched, long long *returned, struct err *e);

#endif
