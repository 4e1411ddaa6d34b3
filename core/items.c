/* items: items queries. The R-tree in the store picks candidates by bounding
 * box; candidates whose box is not wholly inside the query box are tested
 * exactly with GEOS, so bbox means "intersects", as OGC API Features says. */
#include "items.h"

#include <stdlib.h>
#include <string.h>

#include "crs.h"
#include "ctx_int.h"
#include "feature.h"
#include "geom.h"
#include "store_filter.h"

struct area {
    int n_rects;
    double rects[2][4];
    int rect_exact;                  /* the rects are the query area itself */
    GEOSGeometry *geom;              /* the query area in storage CRS */
    const GEOSPreparedGeometry *prep;
};

static void area_clear(ctx *c, struct area *a)
{
    if (a->prep)
        GEOSPreparedGeom_destroy_r(c->geos, a->prep);
    if (a->geom)
        GEOSGeom_destroy_r(c->geos, a->geom);
    memset(a, 0, sizeof *a);
}

static GEOSGeometry *box_polygon(ctx *c, const double b[4], int densify)
{
    int n = densify ? 16 : 1, k = 0;
    size_t np = (size_t)(4 * n + 1);
    double *xy = malloc(np * 2 * sizeof *xy);
    GEOSCoordSequence *seq;
    GEOSGeometry *ring;
    if (!xy)
        return NULL;
    for (int side = 0; side < 4; side++)
        for (int i = 0; i < n; i++) {
            double t = (double)i / n;
            double x0 = (side == 0 || side == 3) ? b[0] : b[2];
            double y0 = (side < 2) ? b[1] : b[3];
            double x1 = side == 0 ? b[2] : side == 2 ? b[0] : x0;
            double y1 = side == 1 ? b[3] : side == 3 ? b[1] : y0;
            xy[2 * k] = x0 + (x1 - x0) * t;
            xy[2 * k + 1] = y0 + (y1 - y0) * t;
            k++;
        }
    xy[2 * k] = xy[0];
    xy[2 * k + 1] = xy[1];
    seq = GEOSCoordSeq_copyFromBuffer_r(c->geos, xy, np, 0, 0);
    free(xy);
    if (!seq)
        return NULL;
    ring = GEOSGeom_createLinearRing_r(c->geos, seq);
    return ring ? GEOSGeom_createPolygon_r(c->geos, ring, NULL, 0) : NULL;
}

static int area_from_bbox(ctx *c, const struct items_req *q, struct area *a, struct err *e)
{
    const double *b = q->bbox;
    double sb[4] = {b[0], b[1], b[2], b[3]};
    struct bbox env;
    int swap = q->bbox_axis == CRS_AXIS_AUTHORITY && crs_authority_swaps(q->bbox_crs);
    if (swap) { /* given as lat,lon or northing,easting */
        sb[0] = b[1], sb[1] = b[0], sb[2] = b[3], sb[3] = b[2];
    }
    if (sb[1] > sb[3])
        return err_set(e, ERR_PARAM, "bbox: the lower corner is north of the upper corner");
    if (crs_is_geographic(q->bbox_crs)) {
        if (sb[0] <= sb[2]) {
            a->n_rects = 1;
            memcpy(a->rects[0], sb, sizeof sb);
        } else { /* across the antimeridian */
            double r0[4] = {sb[0], sb[1], 180, sb[3]}, r1[4] = {-180, sb[1], sb[2], sb[3]};
            a->n_rects = 2;
            memcpy(a->rects[0], r0, sizeof r0);
            memcpy(a->rects[1], r1, sizeof r1);
        }
        a->rect_exact = 1;
        return 0;
    }
    if (sb[0] > sb[2])
        return err_set(e, ERR_PARAM, "bbox: the lower corner is east of the upper corner");
    {
        GEOSGeometry *p = box_polygon(c, sb, 1);
        if (!p)
            return ctx_geos_err(c, e, ERR_INTERNAL, "bbox");
        a->geom = geom_transform(c, p, q->bbox_crs, CRS_AXIS_XY, CRS_STORAGE, CRS_AXIS_XY, e);
        GEOSGeom_destroy_r(c->geos, p);
        if (!a->geom)
            return err_prefix(e, "bbox");
    }
    if (geom_bounds(c, a->geom, &env))
        return err_set(e, ERR_PARAM, "bbox: empty after transformation");
    a->n_rects = 1;
    a->rects[0][0] = env.minx, a->rects[0][1] = env.miny;
    a->rects[0][2] = env.maxx, a->rects[0][3] = env.maxy;
    return 0;
}

static int area_prepare(ctx *c, struct area *a)
{
    if (!a->geom) {
        GEOSGeometry *parts[2];
        for (int i = 0; i < a->n_rects; i++)
            parts[i] = box_polygon(c, a->rects[i], 0);
        a->geom = a->n_rects == 1 ? parts[0]
                                  : GEOSGeom_createCollection_r(c->geos, GEOS_MULTIPOLYGON, parts, 2);
    }
    a->prep = a->geom ? GEOSPrepare_r(c->geos, a->geom) : NULL;
    return a->prep ? 0 : -1;
}

struct run {
    ctx *c;
    store *s;
    const struct items_req *q;
    struct area *a;
    struct buf *out;
    struct feature_out fo;
    long long matched, returned;
    long long version;   /* of the last row written */
};

static int mbr_inside(const struct area *a, const double m[4])
{
    if (!a->rect_exact)
        return 0;
    for (int i = 0; i < a->n_rects; i++) {
        const double *r = a->rects[i];
        if (m[0] >= r[0] && m[2] <= r[2] && m[1] >= r[1] && m[3] <= r[3])
            return 1;
    }
    return 0;
}

/* Exact test of one candidate against the query area. */
static int hits(struct run *r, const struct store_row *row, int *hit, struct err *e)
{
    unsigned char *wkb = NULL;
    size_t len = 0;
    GEOSGeometry *g;
    int rc;
    if (mbr_inside(r->a, row->mbr)) {
        *hit = 1;
        return 0;
    }
    if (!r->a->prep && area_prepare(r->c, r->a))
        return ctx_geos_err(r->c, e, ERR_INTERNAL, "query area");
    if ((rc = store_feature_wkb(r->s, r->q->layer, row->fid, &wkb, &len, e)))
        return rc;
    g = GEOSGeomFromWKB_buf_r(r->c->geos, wkb, len);
    free(wkb);
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

int items_query(ctx *c, store *s, const struct items_req *q, struct buf *out,
                struct items_res *res, struct err *e)
{
    struct store_query sq;
    struct store_filter f;
    struct area a;
    struct run r;
    int rc = 0;
    memset(&sq, 0, sizeof sq);
    memset(&f, 0, sizeof f);
    memset(&a, 0, sizeof a);
    memset(&r, 0, sizeof r);
    sq.layer = q->layer;
    memcpy(sq.sort, q->sort, sizeof sq.sort);
    sq.n_sort = q->n_sort;
    memcpy(sq.eq, q->eq, sizeof sq.eq);
    sq.n_eq = q->n_eq;
    r.c = c, r.s = s, r.q = q, r.out = out;
    r.fo.crs = q->crs, r.fo.axis = q->axis, r.fo.props = q->props, r.fo.no_area = q->no_area;
    if (q->filter) {
        if ((rc = store_filter_compile(c, q->layer, q->filter, q->filter_crs, q->filter_axis, &f,
                                       e)))
            goto out;
        sq.filter = &f;
    }
    if (q->have_bbox) {
        if ((rc = area_from_bbox(c, q, &a, e)))
            goto out;
        sq.n_rects = a.n_rects;
        memcpy(sq.rects, a.rects, sizeof sq.rects);
        sq.limit = -1;
        r.a = &a;
        rc = store_query_rows(s, &sq, on_row, &r, e);
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
    area_clear(c, &a);
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
    sq.fid = fid;
    sq.limit = 1;
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
