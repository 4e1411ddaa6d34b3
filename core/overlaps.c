/* overlaps: for each feature of layer a (in id order), the features of b
 * whose boxes meet its box (R-tree), then an exact interior-intersection test
 * (DE-9IM "2********": touching edges are not overlaps) and the geodesic
 * area of the intersection. */
#include "overlaps.h"

#include <stdlib.h>
#include <string.h>

#include "area.h"
#include "geom.h"
#include "qarea_int.h"

struct inner {
    ctx *c;
    const GEOSPreparedGeometry *pa;
    const GEOSGeometry *ga;
    long long fid_a;
    int same;
    struct outer *o;
};

struct outer {
    ctx *c;
    store *s;
    const struct overlaps_req *q;
    struct buf *pairs;
    long long matched, returned;
};

static int on_b(void *arg, const struct store_row *row, struct err *e)
{
    struct inner *in = arg;
    struct outer *o = in->o;
    GEOSGeometry *gb, *x;
    double m2;
    if (in->same && row->fid <= in->fid_a)
        return 0;
    if (!(gb = GEOSGeomFromWKB_buf_r(in->c->geos, row->wkb, row->wkb_len)))
        return ctx_geos_err(in->c, e, ERR_INTERNAL, "stored geometry");
    if (GEOSPreparedIntersects_r(in->c->geos, in->pa, gb) != 1 ||
        GEOSRelatePattern_r(in->c->geos, in->ga, gb, "2********") != 1) {
        GEOSGeom_destroy_r(in->c->geos, gb);
        return 0;
    }
    x = GEOSIntersection_r(in->c->geos, in->ga, gb);
    GEOSGeom_destroy_r(in->c->geos, gb);
    if (!x)
        return ctx_geos_err(in->c, e, ERR_INTERNAL, "intersection");
    m2 = geom_area_m2(in->c, x);
    GEOSGeom_destroy_r(in->c->geos, x);
    o->matched++;
    if (o->matched <= o->q->offset || o->returned >= o->q->limit)
        return 0;
    buf_printf(o->pairs, "%s{\"a\":%lld,\"b\":%lld,\"area_m2\":", o->returned++ ? "," : "",
               in->fid_a, row->fid);
    buf_put_num(o->pairs, m2, 3);
    buf_puts(o->pairs, ",\"area_mu\":");
    buf_put_num(o->pairs, area_mu(m2), 4);
    buf_putc(o->pairs, '}');
    return 0;
}

static int on_a(void *arg, const struct store_row *row, struct err *e)
{
    struct outer *o = arg;
    struct inner in;
    struct store_query q;
    GEOSGeometry *ga;
    int rc;
    if ((rc = ctx_cancelled(o->c, e)))
        return rc;
    if (!(ga = GEOSGeomFromWKB_buf_r(o->c->geos, row->wkb, row->wkb_len)))
        return ctx_geos_err(o->c, e, ERR_INTERNAL, "stored geometry");
    if (o->q->area && GEOSPreparedIntersects_r(o->c->geos, o->q->area->prep, ga) != 1) {
        GEOSGeom_destroy_r(o->c->geos, ga);
        return 0;
    }
    memset(&in, 0, sizeof in);
    memset(&q, 0, sizeof q);
    in.c = o->c, in.ga = ga, in.fid_a = row->fid, in.o = o;
    in.same = o->q->a == o->q->b;
    in.pa = GEOSPrepare_r(o->c->geos, ga);
    q.layer = o->q->b;
    q.asof = ctx_asof(o->c);
    q.limit = -1;
    q.want_wkb = 1;
    q.n_rects = 1;
    memcpy(q.rects[0], row->mbr, sizeof row->mbr);
    rc = in.pa ? store_query_rows(o->s, &q, on_b, &in, e)
               : ctx_geos_err(o->c, e, ERR_INTERNAL, "prepare");
    if (in.pa)
        GEOSPreparedGeom_destroy_r(o->c->geos, in.pa);
    GEOSGeom_destroy_r(o->c->geos, ga);
    return rc;
}

int overlaps_find(ctx *c, store *s, const struct overlaps_req *q, struct buf *pairs,
                  long long *matched, long long *returned, struct err *e)
{
    struct outer o;
    struct store_query sq;
    int rc;
    memset(&o, 0, sizeof o);
    memset(&sq, 0, sizeof sq);
    o.c = c, o.s = s, o.q = q, o.pairs = pairs;
    sq.layer = q->a;
    sq.asof = ctx_asof(c);
    sq.limit = -1;
    sq.want_wkb = 1;
    /* the R-tree join gives every row its box, which the inner query needs */
    if (q->area) {
        sq.n_rects = qarea_rects(q->area, sq.rects);
    } else {
        sq.n_rects = 1;
        sq.rects[0][0] = -1e300, sq.rects[0][1] = -1e300;
        sq.rects[0][2] = 1e300, sq.rects[0][3] = 1e300;
    }
    rc = store_query_rows(s, &sq, on_a, &o, e);
    *matched = o.matched;
    *returned = o.returned;
    return rc;
}
