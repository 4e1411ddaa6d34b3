/* stats: "what lies inside this area, and how much of each kind" — feature
 * counts and geodesic areas (m2, 亩, ha) of one layer, whole or clipped to a
 * query area, grouped by a property. */
#ifndef ONEMAP_STATS_H
#define ONEMAP_STATS_H

#include "buf.h"
#include "ctx.h"
#include "err.h"
#include "layer.h"
#include "qarea.h"
#include "store.h"

struct cql2_node;

struct stats_req {
    const struct layer *layer;
    const qarea *area;                 /* NULL: the whole layer */
    int group_field;                   /* field index, or -1 for no grouping */
    int clip;                          /* areas of the part inside the area */
    const struct cql2_node *filter;    /* NULL: none; borrowed */
    int filter_crs, filter_axis;       /* of the filter's geometry literals */
};

struct stats_group {
    char *key;                         /* the value as JSON text (owned) */
    long long count;
    double area_m2;
};

struct stats_result {
    long long count;
    double area_m2;
    struct stats_group *groups;        /* sorted by area, largest first */
    size_t n_groups;
};

int stats_compute(ctx *c, store *s, const struct stats_req *q, struct stats_result *out,
                  struct err *e);
void stats_result_clear(struct stats_result *r);

/* Appends "total":{...},"groups":[...] (no braces around). */
void stats_result_json(const struct stats_result *r, struct buf *out);

#endif
