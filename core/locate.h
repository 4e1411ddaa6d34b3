/* locate: "whose grid is this?" — the village, grid and micro-grid that
 * contain a point, with their managers, and what every layer has there. */
#ifndef ONEMAP_LOCATE_H
#define ONEMAP_LOCATE_H

#include "buf.h"
#include "ctx.h"
#include "err.h"
#include "layer.h"
#include "store.h"

/* x, y in crs/axis. Appends the JSON response of GET /locate. A point on a
 * shared boundary belongs to exactly one polygon of each kind: one whose
 * interior holds it if any, else the covering one with the lowest id. */
int locate_point(ctx *c, store *s, const struct layers *ls, double x, double y, int crs,
                 int axis, struct buf *out, struct err *e);

#endif
