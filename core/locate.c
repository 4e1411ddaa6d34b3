/* locate: point look-ups across all layers. Uses the R-tree with a
 * point-sized box, then exact GEOS covers/contains tests. */
#include "locate.h"

#include <stdlib.h>
#include <string.h>

#include "crs.h"
#include "ctx_int.h"
#include "feature.h"

struct pick {
    long long fid;
    int interior;
    struct buf json;   /* the feature's summary object */
};

struct run {
    ctx *c;
    const struct layer *l;
    GEOSGeometry *pt;
    struct buf hits; /* the layer's ids at the point */
    int n_hits;
    int level_field;           /* grids: index of "level", else -1 */
    struct pick picks[2];      /* [0] village or grid, [1] micro-grid */
};

static void feature_summary(const struct layer *l, const struct store_row *row, struct buf *b)
{
    buf_reset(b);
    buf_printf(b, "{\"id\":%lld", row->fid);
    for (size_t i = 0; i < l->n_fields; i++) {
        buf_putc(b, ',');
        buf_put_json_str(b, l->fields[i].name);
        buf_putc(b, ':');
        feature_write_value(&l->fields[i], &row->vals[i], b);
    }
    buf_puts(b, ",\"area_m2\":");
    buf_put_num(b, row->area_m2, 3);
    buf_putc(b, '}');
}

static int on_row(void *arg, const struct store_row *row, struct err *e)
{
    struct run *r = arg;
    GEOSGeometry *g = GEOSGeomFromWKB_buf_r(r->c->geos, row->wkb, row->wkb_len);
    struct pick *p;
    int covers, interior, slot = 0;
    if (!g)
        return ctx_geos_err(r->c, e, ERR_INTERNAL, "stored geometry");
    covers = GEOSCovers_r(r->c->geos, g, r->pt) == 1;
    interior = covers && GEOSContains_r(r->c->geos, g, r->pt) == 1;
    GEOSGeom_destroy_r(r->c->geos, g);
    if (!covers)
        return 0;
    buf_printf(&r->hits, "%s%lld", r->n_hits++ ? "," : "", row->fid);
    if (r->level_field >= 0) {
        const struct value *v = &row->vals[r->level_field];
        slot = v->type == VAL_TEXT && !strcmp(v->s, "微网格");
    }
    p = &r->picks[slot];
    /* rows come in fid order: keep the first, unless a later one holds the
     * point in its interior and the first only on its boundary */
    if (p->fid && (p->interior || !interior))
        return 0;
    p->fid = row->fid;
    p->interior = interior;
    feature_summary(r->l, row, &p->json);
    return 0;
}

/* The query of a layer's features at a point (a point-sized box). */
static void point_query(struct store_query *q, ctx *c, const struct layer *l, double lon,
                        double lat)
{
    memset(q, 0, sizeof *q);
    q->layer = l;
    q->asof = ctx_asof(c);
    q->limit = -1;
    q->want_wkb = 1;
    q->n_rects = 1;
    q->rects[0][0] = q->rects[0][2] = lon;
    q->rects[0][1] = q->rects[0][3] = lat;
}

static void put_pick(struct buf *out, const char *name, const struct pick *p)
{
    buf_printf(out, ",\"%s\":", name);
    if (p->fid)
        buf_append(out, p->json.data, p->json.len);
    else
        buf_puts(out, "null");
}

int locate_point(ctx *c, store *s, const struct layers *ls, double x, double y, int crs,
                 int axis, struct buf *out, struct err *e)
{
    double xy[2] = {x, y};
    const struct pick none = {0};
    const struct pick *village = &none, *grid = &none, *micro = &none;
    struct run *runs;
    struct store_query *qs;
    void **args;
    GEOSGeometry *pt = NULL;
    GEOSCoordSequence *seq;
    size_t i, n = ls->n;
    int rc = 0;
    if (crs_transform(c->crs, crs, axis, CRS_STORAGE, CRS_AXIS_XY, xy, 1, e))
        return err_prefix(e, "point"), ERR_PARAM;
    if (xy[0] < -180 || xy[0] > 180 || xy[1] < -90 || xy[1] > 90)
        return err_set(e, ERR_PARAM, "point: %g %g is outside the range of longitudes and "
                       "latitudes", xy[0], xy[1]);
    runs = calloc(n ? n : 1, sizeof *runs);
    qs = calloc(n ? n : 1, sizeof *qs);
    args = calloc(n ? n : 1, sizeof *args);
    if ((seq = GEOSCoordSeq_create_r(c->geos, 1, 2))) {
        GEOSCoordSeq_setXY_r(c->geos, seq, 0, xy[0], xy[1]);
        pt = GEOSGeom_createPoint_r(c->geos, seq);
    }
    if (!runs || !qs || !args)
        rc = err_set(e, ERR_INTERNAL, "out of memory");
    else if (!pt)
        rc = ctx_geos_err(c, e, ERR_INTERNAL, "point");
    /* every layer's features at the point, asked all at once: one round
     * trip on a database over the network */
    for (i = 0; i < n && !rc; i++) {
        const struct layer *l = &ls->v[i];
        struct run *r = &runs[i];
        r->c = c, r->l = l, r->pt = pt;
        buf_init(&r->hits);
        r->level_field = strcmp(l->id, "grids") ? -1 : layer_field_index(l, "level");
        point_query(&qs[i], c, l, xy[0], xy[1]);
        args[i] = r;
    }
    if (!rc)
        rc = store_query_rows_many(s, qs, n, on_row, args, e);
    for (i = 0; i < n && !rc; i++) {
        if (!strcmp(ls->v[i].id, "villages"))
            village = &runs[i].picks[0];
        else if (!strcmp(ls->v[i].id, "grids"))
            grid = &runs[i].picks[0], micro = &runs[i].picks[1];
    }
    if (!rc) {
        buf_puts(out, "{\"point\":[");
        buf_put_num(out, xy[0], 9);
        buf_putc(out, ',');
        buf_put_num(out, xy[1], 9);
        buf_putc(out, ']');
        put_pick(out, "village", village);
        put_pick(out, "grid", grid);
        put_pick(out, "micro_grid", micro);
        buf_puts(out, ",\"hits\":{");
        for (i = 0; i < n; i++) {
            buf_printf(out, "%s\"%s\":[", i ? "," : "", ls->v[i].id);
            buf_append(out, runs[i].hits.data ? runs[i].hits.data : "", runs[i].hits.len);
            buf_putc(out, ']');
        }
        buf_puts(out, "}}");
    }
    for (i = 0; runs && i < n; i++) {
        buf_clear(&runs[i].hits);
        buf_clear(&runs[i].picks[0].json);
        buf_clear(&runs[i].picks[1].json);
    }
    if (pt)
        GEOSGeom_destroy_r(c->geos, pt);
    free(runs);
    free(qs);
    free(args);
    return rc;
}
