/* tile: renders WebMercatorQuad vector tiles from the store. Owns the tile
 * maths, the per-feature pipeline (WKB -> EPSG:3857 -> tile units -> clip ->
 * snap -> clean -> wind -> repair -> encode) and the cached path with gzip
 * and ETags. SQL is store.c's, the protobuf mvt.c's, CRS maths crs.c's,
 * the cache tile_cache.c's.
 *
 * Generalisation keeps neighbours' shared edges shared without a coverage
 * algorithm: every vertex is snapped to a grid that is coarser at low zoom,
 * and a vertex is dropped only when it repeats its predecessor or is
 * exactly collinear with its neighbours (integer cross product 0). Both
 * polygons along a shared edge hold the same vertices, snap them to the same
 * points and so keep the same line; dropping a collinear vertex never moves
 * the line. */
#include "tile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "area.h"
#include "crs.h"
#include "ctx_int.h"
#include "geom.h"
#include "mvt.h"
#include "shape.h"

#define WEBMERC_HALF 20037508.342789244 /* pi * 6378137 */
#define DENSIFY 8                       /* points per side of the query box */
/* Below TILE_FULL_ZOOM features smaller than one pixel of a 256-pixel tile
 * (in square tile units) are left out. */
#define MIN_AREA ((TILE_EXTENT / 256.0) * (TILE_EXTENT / 256.0))

/* ---- tile maths -------------------------------------------------------- */

void tile_bounds_3857(int z, uint32_t x, uint32_t y, struct bbox *out)
{
    double size = 2 * WEBMERC_HALF / ldexp(1.0, z);
    out->minx = -WEBMERC_HALF + x * size;
    out->maxx = out->minx + size;
    out->maxy = WEBMERC_HALF - y * size;
    out->miny = out->maxy - size;
}

static uint32_t clamp_index(double v, int z)
{
    double max = ldexp(1.0, z) - 1;
    return (uint32_t)(v < 0 ? 0 : v > max ? max : floor(v));
}

void tile_range(int z, const double ext[4], uint32_t out[4])
{
    double n = ldexp(1.0, z);
    double lat0 = fmin(fmax(ext[3], -85.0511287798), 85.0511287798) * M_PI / 180;
    double lat1 = fmin(fmax(ext[1], -85.0511287798), 85.0511287798) * M_PI / 180;
    out[0] = clamp_index((ext[0] + 180) / 360 * n, z);
    out[2] = clamp_index((ext[2] + 180) / 360 * n, z);
    out[1] = clamp_index((1 - asinh(tan(lat0)) / M_PI) / 2 * n, z); /* north: first row */
    out[3] = clamp_index((1 - asinh(tan(lat1)) / M_PI) / 2 * n, z);
}

int tile_grid_step(int z)
{
    int coarse = (TILE_FULL_ZOOM - 2) - z; /* z14 and up: full precision */
    if (coarse <= 0)
        return 1;
    return 1 << (coarse < 3 ? coarse : 3); /* at most 8: a pixel of a 512-pixel tile */
}

/* ---- one tile ---------------------------------------------------------- */

struct render {
    ctx *c;
    mvt *m;
    const struct layer *l;
    int z, step;
    struct bbox merc;                 /* tile bounds, EPSG:3857 */
    double scale;                     /* tile units per metre */
    const GEOSPreparedGeometry *tile; /* the tile itself in tile units */
    struct shape raw, clipped, snapped;
    struct shape_clip sh; /* the convex path's scratch */
    int32_t *ints; /* one ring for the encoder */
    size_t ints_cap;
    long *keys; /* per field and area_mu: its tag key in the layer, -1 until used */
    size_t keys_cap;
    struct tile_stats *st;
};

static void put_tags(struct render *r, const struct store_row *row)
{
    const struct layer *l = r->l;
    struct mvt_value mu = {.type = MVT_DOUBLE};
    for (size_t i = 0; i < l->n_fields; i++) {
        const struct value *v = &row->vals[i];
        struct mvt_value mv = {0};
        if (v->type == VAL_NULL)
            continue;
        if (v->type == VAL_TEXT) {
            mv.type = MVT_STRING;
            mv.s = v->s;
            mv.len = strlen(v->s);
        } else if (l->fields[i].type == FIELD_BOOLEAN) {
            mv.type = MVT_BOOL;
            mv.i = v->type == VAL_INT ? v->i != 0 : v->d != 0;
        } else if (v->type == VAL_INT && l->fields[i].type != FIELD_NUMBER) {
            mv.type = MVT_INT;
            mv.i = v->i;
        } else {
            mv.type = MVT_DOUBLE;
            mv.d = v->type == VAL_INT ? (double)v->i : v->d;
        }
        if (r->keys[i] < 0)
            r->keys[i] = mvt_key(r->m, l->fields[i].name);
        mvt_feature_tag_k(r->m, r->keys[i], &mv);
    }
    mu.d = round(area_mu(row->area_m2) * 1e4) / 1e4; /* as items write it */
    if (r->keys[l->n_fields] < 0)
        r->keys[l->n_fields] = mvt_key(r->m, "area_mu");
    mvt_feature_tag_k(r->m, r->keys[l->n_fields], &mu);
}

/* Turns the feature's lon/lat points into tile units; bounds into b. */
static int to_tile_units(struct render *r, struct shape *s, struct bbox *b, struct err *e)
{
    double ox = r->merc.minx, oy = r->merc.maxy, k = r->scale;
    if (crs_transform(r->c->crs, CRS_STORAGE, CRS_AXIS_XY, CRS_3857, CRS_AXIS_XY, s->xy, s->n, e))
        return e->code;
    b->minx = b->miny = INFINITY;
    b->maxx = b->maxy = -INFINITY;
    for (size_t i = 0; i < s->n; i++) {
        double x = (s->xy[2 * i] - ox) * k, y = (oy - s->xy[2 * i + 1]) * k;
        s->xy[2 * i] = x;
        s->xy[2 * i + 1] = y;
        b->minx = fmin(b->minx, x), b->maxx = fmax(b->maxx, x);
        b->miny = fmin(b->miny, y), b->maxy = fmax(b->maxy, y);
    }
    return 0;
}

/* Snaps src into r->snapped; when that made it invalid, repairs it with
 * GEOS (keeping only polygons) and snaps the repair once more. */
static int snap_valid(struct render *r, const struct shape *src, struct err *e)
{
    GEOSContextHandle_t h = r->c->geos;
    GEOSGeometry *g = NULL, *fixed = NULL;
    struct err ignored;
    int rc = 0;
    if (shape_snap(src, r->step, &r->snapped))
        return err_set(e, ERR_INTERNAL, "tile: out of memory");
    if (r->snapped.n_polys == 0 || shape_surely_valid(&r->snapped))
        return 0;
    if (!(g = shape_to_geos(r->c, &r->snapped)))
        return ctx_geos_err(r->c, e, ERR_INTERNAL, "tile");
    if (GEOSisValid_r(h, g) == 1)
        goto out;
    r->st->repaired++;
    shape_reset(&r->clipped);
    err_clear(&ignored);
    /* NULL: nothing polygonal is left, which leaves the shape empty */
    fixed = geom_make_valid(r->c, g, &ignored);
    if (fixed && shape_add_geos(r->c, fixed, &r->clipped)) {
        rc = err_set(e, ERR_INTERNAL, "tile: out of memory");
        goto out;
    }
    if (shape_snap(&r->clipped, r->step, &r->snapped))
        rc = err_set(e, ERR_INTERNAL, "tile: out of memory");
out:
    GEOSGeom_destroy_r(h, g);
    GEOSGeom_destroy_r(h, fixed);
    return rc;
}

/* From TILE_FULL_ZOOM on a feature never vanishes: when its clipped part
 * collapsed, a square of one unit inside the tile, where that part lies,
 * stands for it (the feature intersects the tile proper). */
static int unit_square(struct render *r, const struct shape *part)
{
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY}, c[2];
    for (size_t i = 0; i < part->n; i++)
        for (int k = 0; k < 2; k++) {
            lo[k] = fmin(lo[k], part->xy[2 * i + k]);
            hi[k] = fmax(hi[k], part->xy[2 * i + k]);
        }
    for (int k = 0; k < 2; k++)
        c[k] = part->n ? floor(fmin(fmax((lo[k] + hi[k]) / 2, 0), TILE_EXTENT - 1)) : 0;
    {
        const double sq[10] = {c[0],     c[1], c[0] + 1, c[1], c[0] + 1,
                               c[1] + 1, c[0], c[1] + 1, c[0], c[1]};
        shape_reset(&r->snapped);
        return shape_add_ring(&r->snapped, sq, 5) || shape_end_poly(&r->snapped) ? -1 : 0;
    }
}

static int encode(struct render *r, const struct store_row *row)
{
    const struct shape *s = &r->snapped;
    size_t need = 2 * shape_max_ring(s);
    if (need > r->ints_cap) {
        int32_t *p = realloc(r->ints, need * sizeof *p);
        if (!p)
            return -1;
        r->ints = p;
        r->ints_cap = need;
    }
    mvt_feature_begin(r->m, (uint64_t)row->fid);
    put_tags(r, row);
    for (size_t i = 0; i < s->n_rings; i++) {
        size_t r0 = shape_ring_start(s, i), n = s->ring_end[i] - r0 - 1;
        for (size_t k = 0; k < 2 * n; k++)
            r->ints[k] = (int32_t)s->xy[2 * r0 + k];
        mvt_feature_ring(r->m, r->ints, n);
    }
    mvt_feature_end(r->m);
    r->st->features++;
    return 0;
}

static int sign_of(double v)
{
    return (v > 0) - (v < 0);
}

/* The turn of the ring's edges at point i of m (open), as a sign. */
static int turn(const double *p, size_t m, size_t i)
{
    const double *a = p + 2 * i, *b = p + 2 * ((i + 1) % m), *c = p + 2 * ((i + 2) % m);
    return sign_of((b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]));
}

/* How often the ring's m edges (cyclic) turn back along coordinate k (0 x,
 * 1 y): sign changes of their extent along it, edges without one skipped. */
static int sign_changes(const double *p, size_t m, int k)
{
    int first = 0, last = 0, n = 0;
    for (size_t i = 0; i < m; i++) {
        int s = sign_of(p[2 * ((i + 1) % m) + k] - p[2 * i + k]);
        if (!s)
            continue;
        if (last && s != last)
            n++;
        if (!first)
            first = s;
        last = s;
    }
    return n + (first && last != first);
}

/* The orientation (1 or -1) of a shape that is one ring without holes and
 * convex: no turn against the others (straight runs allowed) and its edges
 * going round once (x and y each turn back twice); 0 for any other. Such a
 * ring is clipped to a rectangle side by side exactly. */
static int convex(const struct shape *s)
{
    size_t m = s->n - 1;
    int dir = 0;
    if (s->n_polys != 1 || s->n_rings != 1 || s->n < 4)
        return 0;
    for (size_t i = 0; i < m; i++) {
        int t = turn(s->xy, m, i);
        if (t && dir && t != dir)
            return 0;
        dir = t ? t : dir;
    }
    if (sign_changes(s->xy, m, 0) != 2 || sign_changes(s->xy, m, 1) != 2)
        return 0;
    return dir;
}

/* Whether the convex ring (orientation dir), whose box meets the tile's,
 * meets the tile itself: no edge has all four corners of the tile strictly
 * outside it (separating axes; the tile's own are the boxes'). */
static int convex_meets_tile(const struct shape *s, int dir)
{
    static const double corner[4][2] = {
        {0, 0}, {TILE_EXTENT, 0}, {TILE_EXTENT, TILE_EXTENT}, {0, TILE_EXTENT}};
    for (size_t i = 0; i + 1 < s->n; i++) {
        const double *a = s->xy + 2 * i, *b = a + 2;
        int outside = 0;
        for (int k = 0; k < 4; k++) {
            double cr =
                (b[0] - a[0]) * (corner[k][1] - a[1]) - (b[1] - a[1]) * (corner[k][0] - a[0]);
            outside += dir * cr < 0;
        }
        if (outside == 4)
            return 0;
    }
    return 1;
}

/* Clips the feature in r->raw (tile units, bounds b) to the buffered tile;
 * *out is the result (r->raw itself when nothing sticks out). Returns 1 when
 * the feature does not intersect the tile proper. A convex ring (a parcel,
 * most often) is tested and clipped here; any other shape by GEOS. */
static int clip(struct render *r, const struct bbox *b, const struct shape **out, struct err *e)
{
    GEOSContextHandle_t h = r->c->geos;
    GEOSGeometry *g = NULL, *cut = NULL;
    const double lo = -TILE_BUFFER, hi = TILE_EXTENT + TILE_BUFFER;
    const double buffered[4] = {lo, lo, hi, hi};
    int rc = 0, dir;
    *out = &r->raw;
    if (b->minx >= 0 && b->miny >= 0 && b->maxx <= TILE_EXTENT && b->maxy <= TILE_EXTENT)
        return 0;
    if ((dir = convex(&r->raw))) {
        const double *xy;
        size_t n;
        if (!convex_meets_tile(&r->raw, dir))
            return 1;
        if (b->minx >= lo && b->miny >= lo && b->maxx <= hi && b->maxy <= hi)
            return 0;
        shape_reset(&r->clipped);
        if (shape_ring_clip_rect(r->raw.xy, r->raw.n, buffered, &r->sh, &xy, &n) ||
            (n && (shape_add_ring(&r->clipped, xy, n) || shape_end_poly(&r->clipped))))
            return err_set(e, ERR_INTERNAL, "tile: out of memory");
        *out = &r->clipped;
        return 0;
    }
    if (!(g = shape_to_geos(r->c, &r->raw)))
        return ctx_geos_err(r->c, e, ERR_INTERNAL, "tile");
    if (GEOSPreparedIntersects_r(h, r->tile, g) != 1) {
        rc = 1;
        goto out;
    }
    if (b->minx >= lo && b->miny >= lo && b->maxx <= hi && b->maxy <= hi)
        goto out;
    shape_reset(&r->clipped);
    if (!(cut = GEOSClipByRect_r(h, g, lo, lo, hi, hi)) || shape_add_geos(r->c, cut, &r->clipped)) {
        rc = ctx_geos_err(r->c, e, ERR_INTERNAL, "tile: clip");
        goto out;
    }
    *out = &r->clipped;
out:
    GEOSGeom_destroy_r(h, g);
    GEOSGeom_destroy_r(h, cut);
    return rc;
}

/* Below the full zoom: 1 when the feature (tile units, bounds b) is smaller
 * than a pixel or would collapse onto one grid line anyway. */
static int too_small(const struct render *r, const struct bbox *b)
{
    double k = r->step;
    if (r->z >= TILE_FULL_ZOOM)
        return 0;
    return floor(b->minx / k + 0.5) == floor(b->maxx / k + 0.5) ||
           floor(b->miny / k + 0.5) == floor(b->maxy / k + 0.5) || shape_area(&r->raw) < MIN_AREA;
}

/* One candidate row of the store: into the tile, or not. */
static int on_row(void *arg, const struct store_row *row, struct err *e)
{
    struct render *r = arg;
    const struct shape *part;
    struct bbox b = {0, 0, 0, 0};
    int rc;
    r->st->candidates++;
    if (!row->wkb || shape_from_wkb(row->wkb, row->wkb_len, &r->raw))
        return err_set(e, ERR_INTERNAL, "%s/%lld: unreadable geometry", r->l->id, row->fid);
    if (r->raw.n_polys == 0)
        return 0;
    if ((rc = to_tile_units(r, &r->raw, &b, e)))
        return rc;
    if (b.maxx < 0 || b.maxy < 0 || b.minx > TILE_EXTENT || b.miny > TILE_EXTENT ||
        too_small(r, &b))
        return 0;
    if ((rc = clip(r, &b, &part, e)))
        return rc > 0 ? 0 : rc;
    if ((rc = snap_valid(r, part, e)))
        return rc;
    if (r->snapped.n_polys == 0 && r->z < TILE_FULL_ZOOM)
        return 0;
    if ((r->snapped.n_polys == 0 && unit_square(r, part)) || encode(r, row))
        return err_set(e, ERR_INTERNAL, "tile: out of memory");
    return 0;
}

/* The tile's lon/lat extent, from its densified outline in EPSG:3857. */
static int query_rect(ctx *c, const struct bbox *m, double rect[4], struct err *e)
{
    double xy[2 * 4 * DENSIFY];
    size_t k = 0;
    for (int side = 0; side < 4; side++)
        for (int i = 0; i < DENSIFY; i++) {
            double t = (double)i / DENSIFY;
            xy[2 * k] = side == 0   ? m->minx + t * (m->maxx - m->minx)
                        : side == 1 ? m->maxx
                        : side == 2 ? m->maxx - t * (m->maxx - m->minx)
                                    : m->minx;
            xy[2 * k + 1] = side == 0   ? m->miny
                            : side == 1 ? m->miny + t * (m->maxy - m->miny)
                            : side == 2 ? m->maxy
                                        : m->maxy - t * (m->maxy - m->miny);
            k++;
        }
    if (crs_transform(c->crs, CRS_3857, CRS_AXIS_XY, CRS_STORAGE, CRS_AXIS_XY, xy, k, e))
        return err_prefix(e, "tile bounds");
    rect[0] = rect[1] = INFINITY;
    rect[2] = rect[3] = -INFINITY;
    for (size_t i = 0; i < k; i++) {
        rect[0] = fmin(rect[0], xy[2 * i]), rect[2] = fmax(rect[2], xy[2 * i]);
        rect[1] = fmin(rect[1], xy[2 * i + 1]), rect[3] = fmax(rect[3], xy[2 * i + 1]);
    }
    /* a hair wider: rounding must not cost a feature that touches an edge */
    rect[0] -= 1e-9, rect[1] -= 1e-9, rect[2] += 1e-9, rect[3] += 1e-9;
    return 0;
}

/* The tile proper in tile units, as GEOS sees it. */
static GEOSGeometry *tile_square(ctx *c)
{
    const double sq[10] = {0, 0, TILE_EXTENT, 0, TILE_EXTENT, TILE_EXTENT, 0, TILE_EXTENT, 0, 0};
    struct shape s = {0};
    GEOSGeometry *g = NULL;
    if (!shape_add_ring(&s, sq, 5) && !shape_end_poly(&s))
        g = shape_to_geos(c, &s);
    shape_free(&s);
    return g;
}

/* The store's pre-filter where generalisation begins (a coarser grid than
 * full precision): square degrees of an R-tree box that is surely smaller
 * than MIN_AREA here (the scale at the tile's edge farthest from the
 * equator is the largest). From TILE_FULL_ZOOM - 2 on a pixel is under
 * 10 m across and a feature smaller than that is rare; too_small still
 * leaves it out, and the store is spared a test of every row's box (on
 * PostgreSQL a third of a tile's query). */
static double min_mbr_area(const struct render *r, const double rect[4])
{
    double lat = fmin(fmax(fabs(rect[1]), fabs(rect[3])), 85.06) * M_PI / 180;
    double per_deg = r->scale * WEBMERC_HALF / 180; /* tile units per degree of longitude */
    if (r->step == 1)
        return 0;
    return MIN_AREA / (per_deg * per_deg / cos(lat));
}

static int render_layer(struct render *r, store *s, const double rect[4], struct err *e)
{
    struct store_query q;
    int rc;
    memset(&q, 0, sizeof q);
    q.layer = r->l;
    q.asof = ctx_asof(r->c);
    q.n_rects = 1;
    memcpy(q.rects[0], rect, 4 * sizeof *rect);
    q.want_wkb = 1;
    q.skip_gj = 1;
    q.any_order = 1;
    q.skip_mbr = 1;
    q.min_mbr_area = min_mbr_area(r, rect);
    q.limit = -1;
    if (r->l->n_fields + 1 > r->keys_cap) {
        long *k = realloc(r->keys, (r->l->n_fields + 1) * sizeof *k);
        if (!k)
            return err_set(e, ERR_INTERNAL, "tile: out of memory");
        r->keys = k;
        r->keys_cap = r->l->n_fields + 1;
    }
    for (size_t i = 0; i <= r->l->n_fields; i++)
        r->keys[i] = -1;
    mvt_layer_begin(r->m, r->l->id, TILE_EXTENT);
    rc = store_query_rows(s, &q, on_row, r, e);
    mvt_layer_end(r->m);
    return rc;
}

int tile_render(ctx *c, store *s, const struct layers *ls, uint64_t layers, int z, uint32_t x,
                uint32_t y, struct buf *out, struct tile_stats *stats, struct err *e)
{
    struct render r;
    struct tile_stats st = {0};
    GEOSGeometry *square = NULL;
    double rect[4];
    int rc = 0;
    if (z < 0 || z > TILE_MAX_ZOOM || (uint64_t)x >> z || (uint64_t)y >> z)
        return err_set(e, ERR_PARAM, "tile %d/%u/%u: not in WebMercatorQuad", z, y, x);
    memset(&r, 0, sizeof r);
    r.c = c, r.z = z, r.step = tile_grid_step(z), r.st = &st;
    tile_bounds_3857(z, x, y, &r.merc);
    r.scale = TILE_EXTENT / (r.merc.maxx - r.merc.minx);
    c->geos_msg[0] = '\0';
    if (!(r.m = mvt_new()) || !(square = tile_square(c)) ||
        !(r.tile = GEOSPrepare_r(c->geos, square))) {
        rc = err_set(e, ERR_INTERNAL, "tile: out of memory");
        goto out;
    }
    if ((rc = query_rect(c, &r.merc, rect, e)))
        goto out;
    for (size_t i = 0; i < ls->n && i < 64 && !rc; i++) {
        if (!(layers >> i & 1))
            continue;
        r.l = &ls->v[i];
        if ((rc = render_layer(&r, s, rect, e)))
            err_prefix(e, "tile %d/%u/%u", z, y, x);
    }
    if (!rc)
        rc = mvt_finish(r.m, out, e);
out:
    if (r.tile)
        GEOSPreparedGeom_destroy_r(c->geos, r.tile);
    GEOSGeom_destroy_r(c->geos, square);
    mvt_free(r.m);
    shape_free(&r.raw);
    shape_free(&r.clipped);
    shape_free(&r.snapped);
    shape_clip_free(&r.sh);
    free(r.ints);
    free(r.keys);
    if (stats)
        *stats = st;
    return rc;
}

/* ---- ETag, gzip, the cached path --------------------------------------- */

void tile_etag(const void *data, size_t len, int gzip, char etag[TILE_ETAG_SIZE])
{
    const unsigned char *p = data;
    uint64_t h = 14695981039346656037ull; /* FNV-1a 64, a word at a time */
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h ^= w;
        h *= 1099511628211ull;
        h ^= h >> 29;
    }
    for (; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    h ^= len;
    snprintf(etag, TILE_ETAG_SIZE, "\"%016llx%s\"", (unsigned long long)h, gzip ? "-gz" : "");
}

int tile_gzip(const void *data, size_t len, struct buf *out, struct err *e)
{
    z_stream zs;
    unsigned char *tmp = NULL;
    uLong bound;
    int rc;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return err_set(e, ERR_INTERNAL, "gzip: cannot start");
    bound = deflateBound(&zs, (uLong)len) + 32;
    if (!(tmp = malloc(bound))) {
        deflateEnd(&zs);
        return err_set(e, ERR_INTERNAL, "gzip: out of memory");
    }
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)len;
    zs.next_out = tmp;
    zs.avail_out = (uInt)bound;
    rc = deflate(&zs, Z_FINISH);
    if (rc == Z_STREAM_END)
        buf_append(out, tmp, zs.total_out);
    deflateEnd(&zs);
    free(tmp);
    if (rc != Z_STREAM_END)
        return err_set(e, ERR_INTERNAL, "gzip: deflate failed");
    return out->oom ? err_set(e, ERR_INTERNAL, "gzip: out of memory") : 0;
}

/* The gzip form's ETag from the identity form's. */
static void etag_gzip(char etag[TILE_ETAG_SIZE])
{
    size_t n = strlen(etag);
    if (n >= 2 && n + 3 < TILE_ETAG_SIZE && etag[n - 1] == '"' && !strstr(etag, "-gz"))
        memcpy(etag + n - 1, "-gz\"", 5);
}

/* Appends the tile in raw to out, gzip'ed when asked and not empty. */
static int serve(tile_cache *cache, const struct tile_key *k, const struct buf *raw, int want_gzip,
                 struct buf *out, int *is_gzip, char etag[TILE_ETAG_SIZE], struct err *e)
{
    struct buf gz;
    int rc = 0;
    if (!want_gzip || raw->len == 0) {
        buf_append(out, raw->data, raw->len);
        return out->oom ? err_set(e, ERR_INTERNAL, "tile: out of memory") : 0;
    }
    buf_init(&gz);
    if (!(rc = tile_gzip(raw->data, raw->len, &gz, e))) {
        if (cache)
            tile_cache_put_gzip(cache, k, etag, gz.data, gz.len);
        buf_append(out, gz.data, gz.len);
        *is_gzip = 1;
        etag_gzip(etag);
        if (out->oom)
            rc = err_set(e, ERR_INTERNAL, "tile: out of memory");
    }
    buf_clear(&gz);
    return rc;
}

int tile_get_cached(tile_cache *cache, const struct tile_key *k, int want_gzip, struct buf *out,
                    int *is_gzip, char etag[TILE_ETAG_SIZE], struct err *e)
{
    uint64_t epoch = 0;
    int hit;
    *is_gzip = 0;
    if (!cache)
        return 0;
    if ((hit = tile_cache_get(cache, k, want_gzip, out, is_gzip, etag, &epoch)) < 0)
        return err_set(e, ERR_INTERNAL, "tile: out of memory");
    if (hit && (*is_gzip || !want_gzip || out->len == 0)) {
        if (*is_gzip)
            etag_gzip(etag);
        return 1;
    }
    buf_reset(out); /* not there, or not in the form asked for: tile_get makes it */
    *is_gzip = 0;
    return 0;
}

int tile_get(ctx *c, store *s, tile_cache *cache, const struct layers *ls, const struct tile_key *k,
             int want_gzip, struct buf *out, int *is_gzip, char etag[TILE_ETAG_SIZE], struct err *e)
{
    struct buf raw;
    uint64_t epoch = 0;
    int rc = 0, hit = 0;
    buf_init(&raw);
    *is_gzip = 0;
    if (cache && (hit = tile_cache_get(cache, k, want_gzip, out, is_gzip, etag, &epoch)) < 0)
        return err_set(e, ERR_INTERNAL, "tile: out of memory");
    if (hit && (*is_gzip || !want_gzip || out->len == 0)) {
        if (*is_gzip)
            etag_gzip(etag);
        return 0;
    }
    if (hit) { /* cached without its gzip form: out holds the identity bytes */
        buf_append(&raw, out->data, out->len);
        buf_reset(out);
    } else {
        if ((rc = tile_render(c, s, ls, k->layers, k->z, k->x, k->y, &raw, NULL, e)))
            goto out;
        if (store_read_position(s) < tile_cache_floor(cache))
            cache = NULL; /* from a replica behind the latest invalidation */
        tile_etag(raw.data, raw.len, 0, etag);
        if (cache && tile_cache_put(cache, k, raw.data, raw.len, NULL, 0, etag, epoch) < 0) {
            rc = err_set(e, ERR_INTERNAL, "tile: out of memory");
            goto out;
        }
    }
    rc = serve(cache, k, &raw, want_gzip, out, is_gzip, etag, e);
out:
    buf_clear(&raw);
    return rc;
}
