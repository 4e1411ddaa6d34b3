/* stats: area statistics. Candidates come from the R-tree; a feature whose
 * box lies inside a rectangular area, or which the prepared area contains,
 * counts whole without any geometry work; only features that cross the
 * area's edge are intersected, then measured geodesically. */
#include "stats.h"

#include <stdlib.h>
#include <string.h>

#include "area.h"
#include "feature.h"
#include "geom.h"
#include "qarea_int.h"
#include "shape.h"
#include "store_filter.h"

/* Open-addressing map from group key to index in the groups array. */
struct groups {
    struct stats_group *v;
    size_t n, cap;
    size_t *slots;       /* index + 1; 0 = empty */
    size_t n_slots;
};

static unsigned long hash(const char *s)
{
    unsigned long h = 1469598103934665603UL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211UL;
    return h;
}

static int groups_grow(struct groups *g)
{
    size_t n_slots = g->n_slots ? g->n_slots * 2 : 64;
    size_t *slots = calloc(n_slots, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < g->n; i++) {
        size_t k = hash(g->v[i].key) & (n_slots - 1);
        while (slots[k])
            k = (k + 1) & (n_slots - 1);
        slots[k] = i + 1;
    }
    free(g->slots);
    g->slots = slots;
    g->n_slots = n_slots;
    return 0;
}

static struct stats_group *groups_get(struct groups *g, const char *key)
{
    size_t k;
    if ((g->n + 1) * 2 > g->n_slots && groups_grow(g))
        return NULL;
    k = hash(key) & (g->n_slots - 1);
    while (g->slots[k]) {
        if (!strcmp(g->v[g->slots[k] - 1].key, key))
            return &g->v[g->slots[k] - 1];
        k = (k + 1) & (g->n_slots - 1);
    }
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        struct stats_group *v = realloc(g->v, cap * sizeof *v);
        if (!v)
            return NULL;
        g->v = v;
        g->cap = cap;
    }
    memset(&g->v[g->n], 0, sizeof g->v[g->n]);
    if (!(g->v[g->n].key = strdup(key)))
        return NULL;
    g->slots[k] = ++g->n;
    return &g->v[g->n - 1];
}

struct run {
    ctx *c;
    const struct stats_req *q;
    struct groups groups;
    struct buf key;
    long long count;
    double area_m2;
    struct shape sh;       /* scratch for the rectangle path */
    struct shape_clip clip;
};

/* Below this a clipped part is the rounding of a shared edge, not area. */
#define TOUCH_M2 1e-6

/* A rectangular area needs no GEOS: each ring is clipped to the rectangle
 * and measured geodesically (exterior minus holes); a feature whose clipped
 * area is nil only touches the area. 1 when the WKB is not polygonal (the
 * caller then asks GEOS), -1 when memory ran out. */
static int measure_rect(struct run *r, const struct store_row *row, const double rect[4],
                        double *m2)
{
    struct shape *s = &r->sh;
    double sum = 0;
    if (shape_from_wkb(row->wkb, row->wkb_len, s))
        return 1;
    for (size_t k = 0; k < s->n_polys; k++) {
        size_t r0 = shape_poly_start(s, k);
        for (size_t ri = r0; ri < s->poly_end[k]; ri++) {
            size_t at = shape_ring_start(s, ri), n;
            const double *part;
            if (shape_ring_clip_rect(s->xy + 2 * at, s->ring_end[ri] - at, rect, &r->clip,
                                     &part, &n))
                return -1;
            if (n)
                sum += (ri == r0 ? 1 : -1) * area_ring_m2(part, n);
        }
    }
    if (sum <= TOUCH_M2)
        *m2 = -1;
    else
        *m2 = r->q->clip ? sum : row->area_m2;
    return 0;
}

/* The part of the feature's area that counts; -1 when it does not touch. */
static int measure(struct run *r, const struct store_row *row, double *m2, struct err *e)
{
    const qarea *a = r->q->area;
    GEOSGeometry *g, *x;
    if (!a || qarea_mbr_inside(a, row->mbr)) {
        *m2 = row->area_m2;
        return 0;
    }
    if (a->rect_exact && a->n_rects == 1) {
        int rc = measure_rect(r, row, a->rects[0], m2);
        if (rc < 0)
            return err_set(e, ERR_INTERNAL, "out of memory");
        if (rc == 0)
            return 0;
    }
    if (!(g = GEOSGeomFromWKB_buf_r(r->c->geos, row->wkb, row->wkb_len)))
        return ctx_geos_err(r->c, e, ERR_INTERNAL, "stored geometry");
    *m2 = -1;
    /* a feature that only touches the area's edge is not inside it */
    if (GEOSPreparedIntersects_r(r->c->geos, a->prep, g) != 1 ||
        GEOSPreparedTouches_r(r->c->geos, a->prep, g) == 1) {
        GEOSGeom_destroy_r(r->c->geos, g);
        return 0;
    }
    if (!r->q->clip || GEOSPreparedContains_r(r->c->geos, a->prep, g) == 1) {
        *m2 = row->area_m2;
    } else {
        x = GEOSIntersection_r(r->c->geos, g, a->geom);
        if (!x) {
            GEOSGeom_destroy_r(r->c->geos, g);
            return ctx_geos_err(r->c, e, ERR_INTERNAL, "intersection");
        }
        *m2 = geom_area_m2(r->c, x);
        GEOSGeom_destroy_r(r->c->geos, x);
        if (*m2 <= 0)
            *m2 = -1; /* meets the area in a line or a point only */
    }
    GEOSGeom_destroy_r(r->c->geos, g);
    return 0;
}

static int on_row(void *arg, const struct store_row *row, struct err *e)
{
    struct run *r = arg;
    struct stats_group *grp;
    double m2 = -1;
    if (ctx_cancelled(r->c, e) || measure(r, row, &m2, e))
        return e->code;
    if (m2 < 0)
        return 0;
    r->count++;
    r->area_m2 += m2;
    if (r->q->group_field < 0)
        return 0;
    buf_reset(&r->key);
    feature_write_value(&r->q->layer->fields[r->q->group_field], &row->vals[r->q->group_field],
                        &r->key);
    if (r->key.oom || !(grp = groups_get(&r->groups, r->key.data)))
        return err_set(e, ERR_INTERNAL, "out of memory");
    grp->count++;
    grp->area_m2 += m2;
    return 0;
}

static int by_area_desc(const void *pa, const void *pb)
{
    const struct stats_group *a = pa, *b = pb;
    if (a->area_m2 != b->area_m2)
        return a->area_m2 < b->area_m2 ? 1 : -1;
    if (a->count != b->count)
        return a->count < b->count ? 1 : -1;
    return strcmp(a->key, b->key);
}

int stats_compute(ctx *c, store *s, const struct stats_req *q, struct stats_result *out,
                  struct err *e)
{
    struct store_query sq;
    struct store_filter f;
    struct run r;
    int rc;
    memset(out, 0, sizeof *out);
    memset(&f, 0, sizeof f);
    memset(&sq, 0, sizeof sq);
    memset(&r, 0, sizeof r);
    sq.asof = ctx_asof(c);
    r.c = c;
    r.q = q;
    buf_init(&r.key);
    sq.layer = q->layer;
    sq.limit = -1;
    sq.any_order = 1; /* sums do not care */
    sq.skip_gj = 1;
    if (q->filter) {
        if ((rc = store_filter_compile(c, q->layer, store_dialect(s), q->filter, q->filter_crs,
                                       q->filter_axis, &f, e)))
            return rc;
        sq.filter = &f;
    }
    if (q->area) {
        sq.n_rects = qarea_rects(q->area, sq.rects);
        sq.want_wkb = 1;
    }
    rc = store_query_rows(s, &sq, on_row, &r, e);
    store_filter_clear(&f);
    shape_free(&r.sh);
    shape_clip_free(&r.clip);
    buf_clear(&r.key);
    out->groups = r.groups.v;
    out->n_groups = r.groups.n;
    free(r.groups.slots);
    if (rc) {
        stats_result_clear(out);
        return rc;
    }
    out->count = r.count;
    out->area_m2 = r.area_m2;
    if (out->n_groups)
        qsort(out->groups, out->n_groups, sizeof *out->groups, by_area_desc);
    return 0;
}

void stats_result_clear(struct stats_result *r)
{
    for (size_t i = 0; i < r->n_groups; i++)
        free(r->groups[i].key);
    free(r->groups);
    memset(r, 0, sizeof *r);
}

static void figures(struct buf *b, long long count, double m2)
{
    buf_printf(b, "\"count\":%lld,\"area_m2\":", count);
    buf_put_num(b, m2, 3);
    buf_puts(b, ",\"area_mu\":");
    buf_put_num(b, area_mu(m2), 4);
    buf_puts(b, ",\"area_ha\":");
    buf_put_num(b, area_ha(m2), 5);
}

void stats_result_json(const struct stats_result *r, struct buf *b)
{
    buf_puts(b, "\"total\":{");
    figures(b, r->count, r->area_m2);
    buf_puts(b, "},\"groups\":[");
    for (size_t i = 0; i < r->n_groups; i++) {
        buf_printf(b, "%s{\"key\":%s,", i ? "," : "", r->groups[i].key);
        figures(b, r->groups[i].count, r->groups[i].area_m2);
        buf_putc(b, '}');
    }
    buf_putc(b, ']');
}
