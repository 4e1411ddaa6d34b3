/* shape: polygons as flat arrays for the tile pipeline. Owns the arrays of
 * each shape; reads WKB without GEOS (the store's Polygon and MultiPolygon,
 * wkb.h), converts to and from GEOS, and does the integer work
 * of generalisation: snapping, dropping repeated and collinear vertices and
 * empty rings, winding, and an exact validity check for small shapes. */
#include "shape.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wkb.h"

/* Snapped shapes with up to this many segments are checked for validity
 * here, exactly; larger ones by GEOS. */
#define SIMPLE_MAX 96

void shape_reset(struct shape *s)
{
    s->n = s->n_rings = s->n_polys = 0;
}

void shape_free(struct shape *s)
{
    free(s->xy);
    free(s->ring_end);
    free(s->poly_end);
    free(s->work);
    memset(s, 0, sizeof *s);
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    size_t n = *cap ? *cap : 64;
    void *np;
    if (need <= *cap)
        return 0;
    while (n < need)
        n *= 2;
    if (!(np = realloc(*p, n * size)))
        return -1;
    *p = np;
    *cap = n;
    return 0;
}

/* Makes room for n more points. */
static int shape_reserve(struct shape *s, size_t n)
{
    return grow((void **)&s->xy, &s->cap, s->n + n, 2 * sizeof *s->xy);
}

static int shape_end_ring(struct shape *s)
{
    if (grow((void **)&s->ring_end, &s->rings_cap, s->n_rings + 1, sizeof *s->ring_end))
        return -1;
    s->ring_end[s->n_rings++] = s->n;
    return 0;
}

int shape_end_poly(struct shape *s)
{
    if (grow((void **)&s->poly_end, &s->polys_cap, s->n_polys + 1, sizeof *s->poly_end))
        return -1;
    s->poly_end[s->n_polys++] = s->n_rings;
    return 0;
}

int shape_add_ring(struct shape *s, const double *xy, size_t n)
{
    if (shape_reserve(s, n))
        return -1;
    memcpy(s->xy + 2 * s->n, xy, n * 2 * sizeof *xy);
    s->n += n;
    return shape_end_ring(s);
}

size_t shape_max_ring(const struct shape *s)
{
    size_t m = 0;
    for (size_t i = 0; i < s->n_rings; i++)
        if (s->ring_end[i] - shape_ring_start(s, i) > m)
            m = s->ring_end[i] - shape_ring_start(s, i);
    return m;
}

/* ---- WKB (what the store returns: Polygon or MultiPolygon) -------------- */

static int wkb_polygon(struct wkb_in *r, struct shape *s)
{
    uint32_t type, rings, n;
    if (wkb_header(r, &type) || type != 3 || wkb_u32(r, &rings))
        return -1;
    for (uint32_t k = 0; k < rings; k++) {
        if (wkb_u32(r, &n) || (size_t)(r->end - r->p) / ((size_t)r->dims * 8) < n ||
            shape_reserve(s, n) || wkb_xy(r, n, s->xy + 2 * s->n))
            return -1;
        s->n += n;
        if (shape_end_ring(s))
            return -1;
    }
    return rings ? shape_end_poly(s) : 0;
}

int shape_from_wkb(const unsigned char *p, size_t len, struct shape *s)
{
    struct wkb_in r = {p, p + len, 0, 2};
    uint32_t type, n;
    shape_reset(s);
    if (wkb_header(&r, &type))
        return -1;
    if (type == 3) {
        r.p = p;
        return wkb_polygon(&r, s);
    }
    if (type != 6 || wkb_u32(&r, &n))
        return -1;
    for (uint32_t i = 0; i < n; i++)
        if (wkb_polygon(&r, s))
            return -1;
    return 0;
}

/* ---- shapes and GEOS --------------------------------------------------- */

static GEOSGeometry *ring_to_geos(ctx *c, const double *xy, size_t n)
{
    GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(c->geos, xy, (unsigned)n, 0, 0);
    return seq ? GEOSGeom_createLinearRing_r(c->geos, seq) : NULL;
}

static GEOSGeometry *poly_to_geos(ctx *c, const struct shape *s, size_t p)
{
    size_t r0 = shape_poly_start(s, p), nr = s->poly_end[p] - r0, made = 0;
    GEOSGeometry *shell, *holes[64], **hv = holes, *out = NULL;
    if (!(shell = ring_to_geos(c, s->xy + 2 * shape_ring_start(s, r0),
                               s->ring_end[r0] - shape_ring_start(s, r0))))
        return NULL;
    if (nr - 1 > 64 && !(hv = malloc((nr - 1) * sizeof *hv)))
        goto out;
    for (; made < nr - 1; made++) {
        size_t r = r0 + 1 + made;
        if (!(hv[made] = ring_to_geos(c, s->xy + 2 * shape_ring_start(s, r),
                                      s->ring_end[r] - shape_ring_start(s, r))))
            goto out;
    }
    /* the rings are GEOS's from here on, whatever it returns */
    out = GEOSGeom_createPolygon_r(c->geos, shell, hv, (unsigned)made);
    shell = NULL;
    made = 0;
out:
    GEOSGeom_destroy_r(c->geos, shell);
    for (size_t i = 0; i < made; i++)
        GEOSGeom_destroy_r(c->geos, hv[i]);
    if (hv != holes)
        free(hv);
    return out;
}

/* A Polygon or MultiPolygon of s (which has at least one polygon). */
GEOSGeometry *shape_to_geos(ctx *c, const struct shape *s)
{
    GEOSGeometry **parts, *out = NULL;
    size_t made = 0;
    if (s->n_polys == 1)
        return poly_to_geos(c, s, 0);
    if (!(parts = malloc(s->n_polys * sizeof *parts)))
        return NULL;
    for (; made < s->n_polys; made++)
        if (!(parts[made] = poly_to_geos(c, s, made)))
            goto out;
    out = GEOSGeom_createCollection_r(c->geos, GEOS_MULTIPOLYGON, parts, (unsigned)made);
    made = 0;
out:
    for (size_t i = 0; i < made; i++)
        GEOSGeom_destroy_r(c->geos, parts[i]);
    free(parts);
    return out;
}

static int ring_from_geos(ctx *c, const GEOSGeometry *ring, struct shape *s)
{
    const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(c->geos, ring);
    unsigned n = 0;
    if (!seq || !GEOSCoordSeq_getSize_r(c->geos, seq, &n) || shape_reserve(s, n))
        return -1;
    if (n && !GEOSCoordSeq_copyToBuffer_r(c->geos, seq, s->xy + 2 * s->n, 0, 0))
        return -1;
    s->n += n;
    return shape_end_ring(s);
}

/* Appends the polygons of g (any type; lines and points are skipped). */
int shape_add_geos(ctx *c, const GEOSGeometry *g, struct shape *s)
{
    int n, type = GEOSGeomTypeId_r(c->geos, g);
    if (type == GEOS_POLYGON) {
        if (GEOSisEmpty_r(c->geos, g))
            return 0;
        n = GEOSGetNumInteriorRings_r(c->geos, g);
        if (n < 0 || ring_from_geos(c, GEOSGetExteriorRing_r(c->geos, g), s))
            return -1;
        for (int i = 0; i < n; i++)
            if (ring_from_geos(c, GEOSGetInteriorRingN_r(c->geos, g, i), s))
                return -1;
        return shape_end_poly(s);
    }
    if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        n = GEOSGetNumGeometries_r(c->geos, g);
        for (int i = 0; i < n; i++)
            if (shape_add_geos(c, GEOSGetGeometryN_r(c->geos, g, i), s))
                return -1;
    }
    return 0;
}

/* ---- snapping and cleaning --------------------------------------------- */

typedef long long pt[2];

static long long cross(const long long *a, const long long *b, const long long *c)
{
    return (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]);
}

static int same(const long long *a, const long long *b)
{
    return a[0] == b[0] && a[1] == b[1];
}

/* Snaps the closed ring in[0..n) to the grid of step into o (room for n
 * points) and drops repeated vertices and vertices collinear with their
 * neighbours, around the ring's closing too. Returns the kept points (open
 * ring, o[*first..]) or 0 when fewer than three remain. */
static size_t clean_ring(const double *in, size_t n, double step, pt *o, size_t *first)
{
    size_t k = 0, s = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        long long p[2] = {(long long)floor(in[2 * i] / step + 0.5) * (long long)step,
                          (long long)floor(in[2 * i + 1] / step + 0.5) * (long long)step};
        for (;;) {
            if (k >= 1 && same(o[k - 1], p))
                break;
            if (k >= 2 && cross(o[k - 2], o[k - 1], p) == 0) {
                k--;
                continue;
            }
            o[k][0] = p[0];
            o[k][1] = p[1];
            k++;
            break;
        }
    }
    while (k - s >= 3) {
        if (same(o[k - 1], o[s]) || cross(o[k - 2], o[k - 1], o[s]) == 0)
            k--;
        else if (cross(o[k - 1], o[s], o[s + 1]) == 0)
            s++;
        else
            break;
    }
    *first = s;
    return k - s >= 3 ? k - s : 0;
}

/* Twice the signed area by the surveyor's formula (tile units, y down:
 * positive is clockwise on screen). */
static long long ring_area2(const pt *o, size_t n)
{
    long long a = 0;
    for (size_t i = 0; i < n; i++) {
        const long long *p = o[i], *q = o[(i + 1) % n];
        a += p[0] * q[1] - q[0] * p[1];
    }
    return a;
}

/* Appends the ring o[0..n) closed to out, wound clockwise (exterior) or
 * counter-clockwise (hole). */
static int put_ring(struct shape *out, const pt *o, size_t n, long long area2, int hole)
{
    int reverse = hole ? area2 > 0 : area2 < 0;
    if (shape_reserve(out, n + 1))
        return -1;
    for (size_t i = 0; i <= n; i++) {
        const long long *p = o[reverse ? (n - i % n) % n : i % n];
        out->xy[2 * out->n] = (double)p[0];
        out->xy[2 * out->n + 1] = (double)p[1];
        out->n++;
    }
    return shape_end_ring(out);
}

int shape_snap(const struct shape *in, int step, struct shape *out)
{
    if (grow((void **)&out->work, &out->work_cap, shape_max_ring(in), sizeof *out->work))
        return -1;
    shape_reset(out);
    for (size_t p = 0; p < in->n_polys; p++) {
        size_t kept = 0;
        for (size_t r = shape_poly_start(in, p); r < in->poly_end[p]; r++) {
            size_t r0 = shape_ring_start(in, r), first, n;
            long long a2;
            int hole = r != shape_poly_start(in, p);
            n = clean_ring(in->xy + 2 * r0, in->ring_end[r] - r0, step, out->work, &first);
            if (!n || !(a2 = ring_area2(out->work + first, n))) {
                if (!hole)
                    break;
                continue;
            }
            if (put_ring(out, out->work + first, n, a2, hole))
                return -1;
            kept++;
        }
        if (kept && shape_end_poly(out))
            return -1;
    }
    return 0;
}

/* ---- validity of snapped shapes --------------------------------------- */

/* Sign of the cross product (b - a) x (c - b); exact on snapped coordinates
 * (whole numbers far below 2^26). */
static int orient(const double *a, const double *b, const double *c)
{
    double v = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]);
    return (v > 0) - (v < 0);
}

/* p, known collinear with a-b, lies on the segment a-b. */
static int within(const double *a, const double *b, const double *p)
{
    return fmin(a[0], b[0]) <= p[0] && p[0] <= fmax(a[0], b[0]) && fmin(a[1], b[1]) <= p[1] &&
           p[1] <= fmax(a[1], b[1]);
}

/* Segments a-b and c-d share at least one point. */
static int segments_meet(const double *a, const double *b, const double *c, const double *d)
{
    int o1 = orient(a, b, c), o2 = orient(a, b, d), o3 = orient(c, d, a), o4 = orient(c, d, b);
    if (o1 * o2 < 0 && o3 * o4 < 0)
        return 1;
    return (!o1 && within(a, b, c)) || (!o2 && within(a, b, d)) || (!o3 && within(c, d, a)) ||
           (!o4 && within(c, d, b));
}

/* 1 when no two segments of s meet, except neighbours in a ring at their
 * common vertex (cleaning left no collinear neighbours). */
static int segments_apart(const struct shape *s)
{
    for (size_t r = 0; r < s->n_rings; r++) {
        size_t r0 = shape_ring_start(s, r), r1 = s->ring_end[r] - 1; /* segments r0 .. r1 - 1 */
        for (size_t i = r0; i < r1; i++) {
            const double *a = s->xy + 2 * i, *b = a + 2;
            double lox = fmin(a[0], b[0]), hix = fmax(a[0], b[0]);
            double loy = fmin(a[1], b[1]), hiy = fmax(a[1], b[1]);
            for (size_t r2 = r; r2 < s->n_rings; r2++) {
                size_t q0 = shape_ring_start(s, r2), q1 = s->ring_end[r2] - 1;
                for (size_t j = r2 == r ? i + 2 : q0; j < q1; j++) {
                    const double *c = s->xy + 2 * j, *d = c + 2;
                    if (r2 == r && i == r0 && j == r1 - 1)
                        continue; /* first and last segment share the start */
                    if (fmax(c[0], d[0]) < lox || fmin(c[0], d[0]) > hix ||
                        fmax(c[1], d[1]) < loy || fmin(c[1], d[1]) > hiy)
                        continue;
                    if (segments_meet(a, b, c, d))
                        return 0;
                }
            }
        }
    }
    return 1;
}

/* p strictly inside ring r of s; p must not lie on the ring. */
static int inside(const struct shape *s, size_t r, const double *p)
{
    size_t r0 = shape_ring_start(s, r), r1 = s->ring_end[r] - 1;
    int in = 0;
    for (size_t i = r0; i < r1; i++) {
        const double *a = s->xy + 2 * i, *b = a + 2;
        double d;
        if ((a[1] > p[1]) == (b[1] > p[1]))
            continue;
        d = (p[0] - a[0]) * (b[1] - a[1]) - (p[1] - a[1]) * (b[0] - a[0]);
        if (b[1] > a[1] ? d < 0 : d > 0)
            in = !in;
    }
    return in;
}

/* p inside polygon k of s (in its shell, in none of its holes). */
static int in_polygon(const struct shape *s, size_t k, const double *p)
{
    size_t first = shape_poly_start(s, k);
    if (!inside(s, first, p))
        return 0;
    for (size_t h = first + 1; h < s->poly_end[k]; h++)
        if (inside(s, h, p))
            return 0;
    return 1;
}

/* 1 when the snapped shape is certainly a valid (Multi)Polygon: its rings
 * are simple and apart, every hole lies in its shell and in no other hole,
 * and no polygon lies in another. 0: unknown (ask GEOS). */
int shape_surely_valid(const struct shape *s)
{
    if (s->n - s->n_rings > SIMPLE_MAX || !segments_apart(s))
        return 0;
    for (size_t k = 0; k < s->n_polys; k++) {
        size_t first = shape_poly_start(s, k);
        for (size_t h = first + 1; h < s->poly_end[k]; h++) {
            const double *p = s->xy + 2 * shape_ring_start(s, h);
            if (!inside(s, first, p))
                return 0;
            for (size_t h2 = first + 1; h2 < s->poly_end[k]; h2++)
                if (h2 != h && inside(s, h2, p))
                    return 0;
        }
        for (size_t q = 0; q < s->n_polys; q++)
            if (q != k && in_polygon(s, q, s->xy + 2 * shape_ring_start(s, first)))
                return 0;
    }
    return 1;
}

/* Area of s in square units (holes subtracted). */
double shape_area(const struct shape *s)
{
    double sum = 0;
    for (size_t k = 0; k < s->n_polys; k++)
        for (size_t r = shape_poly_start(s, k); r < s->poly_end[k]; r++) {
            size_t r0 = shape_ring_start(s, r), r1 = s->ring_end[r] - 1;
            double a = 0;
            for (size_t i = r0; i < r1; i++)
                a += s->xy[2 * i] * s->xy[2 * i + 3] - s->xy[2 * i + 2] * s->xy[2 * i + 1];
            sum += r == shape_poly_start(s, k) ? fabs(a) / 2 : -fabs(a) / 2;
        }
    return sum;
}

/* ---- clipping to a rectangle, for measuring ---------------------------- */

static int reserve(double **v, size_t *cap, size_t points)
{
    if (points > *cap) {
        size_t c = *cap ? *cap : 64;
        double *p;
        while (c < points)
            c *= 2;
        if (!(p = realloc(*v, c * 2 * sizeof *p)))
            return -1;
        *v = p;
        *cap = c;
    }
    return 0;
}

void shape_clip_free(struct shape_clip *k)
{
    free(k->a);
    free(k->b);
    memset(k, 0, sizeof *k);
}

/* side 0..3: x >= minx, x <= maxx, y >= miny, y <= maxy */
static int inside_side(const double *p, int side, const double r[4])
{
    switch (side) {
    case 0: return p[0] >= r[0];
    case 1: return p[0] <= r[2];
    case 2: return p[1] >= r[1];
    default: return p[1] <= r[3];
    }
}

static void cross_side(const double *a, const double *b, int side, const double r[4], double *o)
{
    if (side < 2) {
        double x = side == 0 ? r[0] : r[2];
        double t = (x - a[0]) / (b[0] - a[0]);
        o[0] = x;
        o[1] = a[1] + t * (b[1] - a[1]);
    } else {
        double y = side == 2 ? r[1] : r[3];
        double t = (y - a[1]) / (b[1] - a[1]);
        o[0] = a[0] + t * (b[0] - a[0]);
        o[1] = y;
    }
}

int shape_ring_clip_rect(const double *xy, size_t n, const double r[4], struct shape_clip *k,
                         const double **out, size_t *out_n)
{
    size_t m = n > 0 ? n - 1 : 0; /* the ring, open */
    const double *src = xy;
    int into_a = 1;
    *out = NULL;
    *out_n = 0;
    if (m < 3)
        return 0;
    for (int side = 0; side < 4 && m >= 3; side++) {
        /* each edge gives at most two points; one more to close at the end */
        double *dst;
        size_t c = 0;
        if (into_a ? reserve(&k->a, &k->cap_a, 2 * m + 1) : reserve(&k->b, &k->cap_b, 2 * m + 1))
            return -1;
        dst = into_a ? k->a : k->b;
        for (size_t i = 0; i < m; i++) {
            const double *a = src + 2 * (i ? i - 1 : m - 1), *b = src + 2 * i;
            int ina = inside_side(a, side, r), inb = inside_side(b, side, r);
            if (inb) {
                if (!ina)
                    cross_side(a, b, side, r, dst + 2 * c++);
                dst[2 * c] = b[0], dst[2 * c + 1] = b[1], c++;
            } else if (ina) {
                cross_side(a, b, side, r, dst + 2 * c++);
            }
        }
        m = c;
        src = dst;
        into_a = !into_a;
    }
    if (m < 3)
        return 0;
    {
        double *d = (double *)src; /* one of k's buffers from the first side on */
        d[2 * m] = d[0];
        d[2 * m + 1] = d[1];
    }
    *out = src;
    *out_n = m + 1;
    return 0;
}
