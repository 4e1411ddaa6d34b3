/* items: items queries. The R-tree in the store picks candidates by bounding
 * box; candidates whose box is not wholly inside the query box, nor with a
 * position inside it, are tested exactly with GEOS, so bbox means
 * "intersects", as OGC API Features says. */
#include "items.h"

#include <stdlib.h>
#include <string.h>

#include "crs.h"
#include "ctx_int.h"
#include "feature.h"
#include "geom.h"
#include "qarea_int.h"
#include "store_filter.h"

struct run {
    ctx *c;
    store *s;
    const struct items_req *q;
    const qarea *a;
    struct buf *out;
    struct feature_out fo;
    long long matched, returned;
    long long version;   /* of the last row written */
    long long seen;      /* candidate rows read */
    int count_apart;     /* stop reading rows once the page is full: the
                            R-tree counts the rest */
};

/* Past this many rows read (a full page and more matches waiting), the
 * remaining matches of a plain bbox query are counted from the R-tree's
 * boxes, testing only boxes that cross the query box's edge, instead of
 * reading every row. */
#define ITEMS_COUNT_APART 1000

/* Exact test of one candidate against the query area. */
static int hits(struct run *r, const struct store_row *row, int *hit, struct err *e)
{
    unsigned char *wkb = NULL;
    size_t len = 0;
    GEOSGeometry *g;
    int rc;
    if (qarea_mbr_inside(r->a, row->mbr)) {
        *hit = 1;
        return 0;
    }
    if (row->wkb && (*hit = qarea_rects_decide(r->a, row->wkb, row->wkb_len, row->mbr)) >= 0)
        return 0;
    if (row->wkb) {
        g = GEOSGeomFromWKB_buf_r(r->c->geos, row->wkb, row->wkb_len);
    } else {
        if ((rc = store_feature_wkb(r->s, r->q->layer, row->fid, &wkb, &len, e)))
            return rc;
        g = GEOSGeomFromWKB_buf_r(r->c->geos, wkb, len);
        free(wkb);
    }
    if (!g)
        return ctx_geos_err(r->c, e, ERR_INTERNAL, "stored geometry");
    *hit = GEOSPreparedIntersects_r(r->c->geos, r->a->prep, g) == 1;
    GEOSGeom_destroy_r(r->c->geos, g);
    return 0;
}

static int on_row(void *arg, const struct store_row *row, struct err *e)
{
    struct run *r = arg;
    int hit = 1;
    if (r->count_apart && r->returned >= r->q->limit && ++r->seen > ITEMS_COUNT_APART)
        return 1; /* the page is written; the count comes from the boxes */
    if (r->a && hits(r, row, &hit, e))
        return e->code;
    if (!hit)
        return 0;
    r->matched++;
    if (r->a && (r->matched <= r->q->offset || r->returned >= r->q->limit))
        return 0;
    if (r->returned++)
        buf_putc(r->out, ',');
    r->version = row->version;
    return feature_write(r->c, r->q->layer, row, &r->fo, r->out, e);
}

/* One R-tree entry of a count apart: inside the box, or crossing its edge
 * and intersecting it exactly. */
static int on_box(void *arg, long long fid, const double mbr[4], struct err *e)
{
    struct run *r = arg;
    struct store_row row;
    int hit = 1;
    memset(&row, 0, sizeof row);
    row.fid = fid;
    memcpy(row.mbr, mbr, sizeof row.mbr);
    if (hits(r, &row, &hit, e))
        return e->code;
    r->matched += hit;
    return 0;
}

int items_query(ctx *c, store *s, const struct items_req *q, struct buf *out,
                struct items_res *res, struct err *e)
{
    struct store_query sq;
    struct store_filter f;
    qarea *a = NULL;
    struct run r;
    int rc = 0;
    memset(&sq, 0, sizeof sq);
    memset(&f, 0, sizeof f);
    sq.asof = ctx_asof(c);
    memset(&r, 0, sizeof r);
    sq.layer = q->layer;
    sq.gj_or_wkb = 1; /* feature_write takes either */
    memcpy(sq.sort, q->sort, sizeof sq.sort);
    sq.n_sort = q->n_sort;
    memcpy(sq.eq, q->eq, sizeof sq.eq);
    sq.n_eq = q->n_eq;
    r.c = c, r.s = s, r.q = q, r.out = out;
    r.fo.crs = q->crs, r.fo.axis = q->axis, r.fo.props = q->props, r.fo.no_area = q->no_area;
    if (q->filter) {
        if ((rc = store_filter_compile(c, q->layer, store_dialect(s), q->filter, q->filter_crs,
                                       q->filter_axis, &f, e)))
            goto out;
        sq.filter = &f;
    }
    if (q->have_bbox) {
        struct qarea_spec sp;
        memset(&sp, 0, sizeof sp);
        sp.kind = QAREA_BBOX;
        sp.param = "bbox";
        memcpy(sp.bbox, q->bbox, sizeof sp.bbox);
        sp.crs = q->bbox_crs;
        sp.axis = q->bbox_axis;
        if ((rc = qarea_resolve(c, s, NULL, &sp, &a, e)))
            goto out;
        sq.n_rects = qarea_rects(a, sq.rects);
        sq.limit = -1;
        sq.want_wkb = 1; /* for the exact test of rows crossing the box's edge */
        r.a = a;
        /* (the boxes are the live rows' only) */
        r.count_apart = !q->filter && !q->n_eq && !q->n_sort && !sq.asof;
        rc = store_query_rows(s, &sq, on_row, &r, e);
        if (!rc && r.count_apart && r.seen > ITEMS_COUNT_APART) {
            r.matched = 0;
            rc = store_boxes(s, q->layer, (const double(*)[4])sq.rects, sq.n_rects, on_box, &r,
                             e);
        }
    } else {
        sq.limit = q->limit;
        sq.offset = q->offset;
        if (!(rc = store_query_rows(s, &sq, on_row, &r, e)))
            rc = store_query_count(s, &sq, &r.matched, e);
    }
    res->matched = r.matched;
    res->returned = r.returned;
out:
    store_filter_clear(&f);
    qarea_free(c, a);
    return rc;
}

int items_get(ctx *c, store *s, const struct layer *l, long long fid, int crs, int axis,
              struct buf *out, long long *version, struct err *e)
{
    struct store_query sq;
    struct run r;
    int rc;
    memset(&sq, 0, sizeof sq);
    memset(&r, 0, sizeof r);
    sq.layer = l;
    sq.asof = ctx_asof(c);
    sq.fid = fid;
    sq.limit = 1;
    sq.gj_or_wkb = 1;
    struct items_req q;
    memset(&q, 0, sizeof q);
    q.layer = l;
    q.limit = 1;
    r.c = c, r.s = s, r.q = &q, r.out = out;
    r.fo.crs = crs, r.fo.axis = axis;
    if ((rc = store_query_rows(s, &sq, on_row, &r, e)))
        return rc;
    if (!r.returned)
        return err_set(e, ERR_NOT_FOUND, "%s/%lld: no such feature", l->id, fid);
    if (version)
        *version = r.version;
    return 0;
}
