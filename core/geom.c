/* geom: the GEOS operations every core module needs: geodesic area, CRS
 * transform of whole geometries, bounds, validity with a located reason,
 * repair, and boxes as polygons. Every geometry passed in stays the caller's;
 * every geometry returned is new and the caller's too. Coordinates and CRSs
 * are crs.c's, ring areas area.c's; GeoJSON and WKT are read and written
 * elsewhere. */
#include "geom.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "area.h"
#include "buf.h"
#include "crs.h"

/* Rings up to this many points are copied to the stack to measure them. */
#define RING_STACK 512

/* ---- area -------------------------------------------------------------- */

/* Area of one ring; NaN when its coordinates cannot be copied out. */
static double ring_area(ctx *c, const GEOSGeometry *ring)
{
    double local[2 * RING_STACK], *xy = local, a = NAN;
    const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(c->geos, ring);
    unsigned int n = 0;
    if (!seq || !GEOSCoordSeq_getSize_r(c->geos, seq, &n))
        return NAN;
    if (n > RING_STACK && !(xy = malloc((size_t)n * 2 * sizeof *xy)))
        return NAN;
    if (GEOSCoordSeq_copyToBuffer_r(c->geos, seq, xy, 0, 0))
        a = area_ring_m2(xy, n);
    if (xy != local)
        free(xy);
    return a;
}

static double polygon_area(ctx *c, const GEOSGeometry *poly)
{
    const GEOSGeometry *shell;
    double a;
    int holes;
    if (GEOSisEmpty_r(c->geos, poly))
        return 0;
    shell = GEOSGetExteriorRing_r(c->geos, poly);
    holes = GEOSGetNumInteriorRings_r(c->geos, poly);
    if (!shell || holes < 0)
        return NAN;
    a = ring_area(c, shell);
    for (int i = 0; i < holes; i++)
        a -= ring_area(c, GEOSGetInteriorRingN_r(c->geos, poly, i));
    return a;
}

double geom_area_m2(ctx *c, const GEOSGeometry *g)
{
    double sum = 0;
    int n;
    switch (GEOSGeomTypeId_r(c->geos, g)) {
    case GEOS_POLYGON:
        return polygon_area(c, g);
    case GEOS_MULTIPOLYGON:
    case GEOS_GEOMETRYCOLLECTION: /* a clip's result may mix in lines: 0 each */
        n = GEOSGetNumGeometries_r(c->geos, g);
        for (int i = 0; i < n; i++)
            sum += geom_area_m2(c, GEOSGetGeometryN_r(c->geos, g, i));
        return sum;
    default:
        return 0;
    }
}

/* ---- transform --------------------------------------------------------- */

/* Copies every coordinate of g, in the order rebuild() reads them, to
 * xy + 2 * *at and advances *at. xy has room for geom_num_points(g). */
static int gather(ctx *c, const GEOSGeometry *g, double *xy, size_t *at)
{
    const GEOSCoordSequence *seq;
    unsigned int size = 0;
    int n;
    switch (GEOSGeomTypeId_r(c->geos, g)) {
    case GEOS_POINT:
    case GEOS_LINESTRING:
    case GEOS_LINEARRING:
        seq = GEOSGeom_getCoordSeq_r(c->geos, g);
        if (!seq || !GEOSCoordSeq_getSize_r(c->geos, seq, &size))
            return -1;
        if (size > 0 && !GEOSCoordSeq_copyToBuffer_r(c->geos, seq, xy + 2 * *at, 0, 0))
            return -1;
        *at += size;
        return 0;
    case GEOS_POLYGON:
        if (GEOSisEmpty_r(c->geos, g))
            return 0;
        n = GEOSGetNumInteriorRings_r(c->geos, g);
        if (n < 0 || gather(c, GEOSGetExteriorRing_r(c->geos, g), xy, at) < 0)
            return -1;
        for (int i = 0; i < n; i++)
            if (gather(c, GEOSGetInteriorRingN_r(c->geos, g, i), xy, at) < 0)
                return -1;
        return 0;
    default:
        n = GEOSGetNumGeometries_r(c->geos, g);
        for (int i = 0; i < n; i++)
            if (gather(c, GEOSGetGeometryN_r(c->geos, g, i), xy, at) < 0)
                return -1;
        return n < 0 ? -1 : 0;
    }
}

static GEOSGeometry *rebuild(ctx *c, const GEOSGeometry *g, const double *xy, size_t *at);

/* A Point, LineString or LinearRing like g from the next coordinates. */
static GEOSGeometry *rebuild_simple(ctx *c, int type, const GEOSGeometry *g, const double *xy,
                                    size_t *at)
{
    GEOSContextHandle_t h = c->geos;
    GEOSCoordSequence *seq;
    int n = GEOSGetNumCoordinates_r(h, g);
    if (n < 0)
        return NULL;
    if (n == 0)
        return type == GEOS_POINT ? GEOSGeom_createEmptyPoint_r(h)
                                  : GEOSGeom_createEmptyLineString_r(h);
    seq = GEOSCoordSeq_copyFromBuffer_r(h, xy + 2 * *at, (unsigned int)n, 0, 0);
    if (!seq)
        return NULL;
    *at += (size_t)n;
    if (type == GEOS_POINT)
        return GEOSGeom_createPoint_r(h, seq);
    if (type == GEOS_LINEARRING)
        return GEOSGeom_createLinearRing_r(h, seq);
    return GEOSGeom_createLineString_r(h, seq);
}

static GEOSGeometry *rebuild_polygon(ctx *c, const GEOSGeometry *g, const double *xy, size_t *at)
{
    GEOSContextHandle_t h = c->geos;
    GEOSGeometry *shell = NULL, **holes = NULL, *out = NULL;
    int n = 0, made = 0;
    if (GEOSisEmpty_r(h, g))
        return GEOSGeom_createEmptyPolygon_r(h);
    n = GEOSGetNumInteriorRings_r(h, g);
    if (n < 0 || !(holes = calloc((size_t)n + 1, sizeof *holes)))
        goto out;
    if (!(shell = rebuild(c, GEOSGetExteriorRing_r(h, g), xy, at)))
        goto out;
    for (; made < n; made++)
        if (!(holes[made] = rebuild(c, GEOSGetInteriorRingN_r(h, g, made), xy, at)))
            goto out;
    /* the rings are GEOS's from here on, whatever it returns */
    out = GEOSGeom_createPolygon_r(h, shell, holes, (unsigned int)n);
    shell = NULL;
    made = 0;
out:
    GEOSGeom_destroy_r(h, shell);
    for (int i = 0; i < made; i++)
        GEOSGeom_destroy_r(h, holes[i]);
    free(holes);
    return out;
}

static GEOSGeometry *rebuild_collection(ctx *c, int type, const GEOSGeometry *g, const double *xy,
                                        size_t *at)
{
    GEOSContextHandle_t h = c->geos;
    GEOSGeometry **parts = NULL, *out = NULL;
    int n = GEOSGetNumGeometries_r(h, g), made = 0;
    if (n == 0)
        return GEOSGeom_createEmptyCollection_r(h, type);
    if (n < 0 || !(parts = calloc((size_t)n, sizeof *parts)))
        goto out;
    for (; made < n; made++)
        if (!(parts[made] = rebuild(c, GEOSGetGeometryN_r(h, g, made), xy, at)))
            goto out;
    /* the parts are GEOS's from here on, whatever it returns */
    out = GEOSGeom_createCollection_r(h, type, parts, (unsigned int)n);
    made = 0;
out:
    for (int i = 0; i < made; i++)
        GEOSGeom_destroy_r(h, parts[i]);
    free(parts);
    return out;
}

/* A geometry like g whose coordinates are read from xy + 2 * *at on. */
static GEOSGeometry *rebuild(ctx *c, const GEOSGeometry *g, const double *xy, size_t *at)
{
    int type = g ? GEOSGeomTypeId_r(c->geos, g) : -1;
    switch (type) {
    case GEOS_POINT:
    case GEOS_LINESTRING:
    case GEOS_LINEARRING:
        return rebuild_simple(c, type, g, xy, at);
    case GEOS_POLYGON:
        return rebuild_polygon(c, g, xy, at);
    case GEOS_MULTIPOINT:
    case GEOS_MULTILINESTRING:
    case GEOS_MULTIPOLYGON:
    case GEOS_GEOMETRYCOLLECTION:
        return rebuild_collection(c, type, g, xy, at);
    default:
        return NULL;
    }
}

GEOSGeometry *geom_transform(ctx *c, const GEOSGeometry *g, int from, int from_axis, int to,
                             int to_axis, struct err *e)
{
    GEOSGeometry *out = NULL;
    double *xy = NULL;
    size_t n, at = 0;
    c->geos_msg[0] = '\0';
    if (from == to && (from_axis == to_axis || !crs_authority_swaps(from))) {
        if (!(out = GEOSGeom_clone_r(c->geos, g)))
            ctx_geos_err(c, e, ERR_INTERNAL, "transform");
        return out;
    }
    n = geom_num_points(c, g);
    if (!(xy = malloc((n ? n : 1) * 2 * sizeof *xy))) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (gather(c, g, xy, &at) < 0 || at != n) {
        ctx_geos_err(c, e, ERR_INTERNAL, "transform");
        goto out;
    }
    if (crs_transform(c->crs, from, from_axis, to, to_axis, xy, n, e) < 0)
        goto out;
    at = 0;
    out = rebuild(c, g, xy, &at);
    if (!out)
        ctx_geos_err(c, e, ERR_INTERNAL, "transform");
out:
    free(xy);
    return out;
}

/* ---- bounds, counts ---------------------------------------------------- */

int geom_bounds(ctx *c, const GEOSGeometry *g, struct bbox *out)
{
    GEOSContextHandle_t h = c->geos;
    if (GEOSisEmpty_r(h, g) != 0)
        return -1;
    if (GEOSGeom_getXMin_r(h, g, &out->minx) != 1 || GEOSGeom_getYMin_r(h, g, &out->miny) != 1 ||
        GEOSGeom_getXMax_r(h, g, &out->maxx) != 1 || GEOSGeom_getYMax_r(h, g, &out->maxy) != 1)
        return -1;
    return 0;
}

int geom_check_range(ctx *c, const GEOSGeometry *g, struct err *e)
{
    struct bbox b;
    if (geom_bounds(c, g, &b))
        return 0;
    /* written so that NaN fails too */
    if (!(b.minx >= -180) || !(b.maxx <= 180))
        return err_set(e, ERR_INVALID, "coordinates out of range: longitude %.9g (expected -180 "
                       "to 180)", !(b.minx >= -180) ? b.minx : b.maxx);
    if (!(b.miny >= -90) || !(b.maxy <= 90))
        return err_set(e, ERR_INVALID, "coordinates out of range: latitude %.9g (expected -90 "
                       "to 90)", !(b.miny >= -90) ? b.miny : b.maxy);
    return 0;
}

const char *geom_type_name(ctx *c, const GEOSGeometry *g)
{
    static const char *const names[] = {"Point", "LineString", "LinearRing", "Polygon",
                                        "MultiPoint", "MultiLineString", "MultiPolygon",
                                        "GeometryCollection"};
    int t = GEOSGeomTypeId_r(c->geos, g);
    return t >= 0 && t < (int)(sizeof names / sizeof *names) ? names[t] : "unknown geometry";
}

size_t geom_num_points(ctx *c, const GEOSGeometry *g)
{
    int n = GEOSGetNumCoordinates_r(c->geos, g);
    return n < 0 ? 0 : (size_t)n;
}

/* ---- validity ---------------------------------------------------------- */

int geom_check_valid(ctx *c, const GEOSGeometry *g, double *loc_x, double *loc_y, struct err *e)
{
    GEOSContextHandle_t h = c->geos;
    GEOSGeometry *loc = NULL;
    char *reason = NULL;
    struct buf msg;
    double x, y;
    int rc = 0;
    char valid;
    buf_init(&msg);
    c->geos_msg[0] = '\0';
    valid = GEOSisValidDetail_r(h, g, 0, &reason, &loc);
    if (valid == 1)
        goto out;
    if (valid != 0) {
        rc = ctx_geos_err(c, e, ERR_INVALID, "validity check");
        goto out;
    }
    buf_puts(&msg, reason && reason[0] ? reason : "Invalid geometry");
    if (loc && GEOSisEmpty_r(h, loc) == 0 && GEOSGeomGetX_r(h, loc, &x) == 1 &&
        GEOSGeomGetY_r(h, loc, &y) == 1 && isfinite(x) && isfinite(y)) {
        buf_puts(&msg, " at ");
        buf_put_num(&msg, x, 9);
        buf_putc(&msg, ' ');
        buf_put_num(&msg, y, 9);
        if (loc_x)
            *loc_x = x;
        if (loc_y)
            *loc_y = y;
    }
    rc = err_set(e, ERR_INVALID, "%s", msg.data && !msg.oom ? msg.data : "Invalid geometry");
out:
    buf_clear(&msg);
    GEOSFree_r(h, reason);
    GEOSGeom_destroy_r(h, loc);
    return rc;
}

static size_t count_polygons(ctx *c, const GEOSGeometry *g)
{
    size_t sum = 0;
    int n;
    switch (GEOSGeomTypeId_r(c->geos, g)) {
    case GEOS_POLYGON:
        return GEOSisEmpty_r(c->geos, g) == 0;
    case GEOS_MULTIPOLYGON:
    case GEOS_GEOMETRYCOLLECTION:
        n = GEOSGetNumGeometries_r(c->geos, g);
        for (int i = 0; i < n; i++)
            sum += count_polygons(c, GEOSGetGeometryN_r(c->geos, g, i));
        return sum;
    default:
        return 0;
    }
}

/* Clones the non-empty polygons of g into parts[*k...]; -1 when GEOS fails. */
static int collect_polygons(ctx *c, const GEOSGeometry *g, GEOSGeometry **parts, size_t *k)
{
    int n;
    switch (GEOSGeomTypeId_r(c->geos, g)) {
    case GEOS_POLYGON:
        if (GEOSisEmpty_r(c->geos, g) != 0)
            return 0;
        parts[*k] = GEOSGeom_clone_r(c->geos, g);
        return parts[(*k)++] ? 0 : -1;
    case GEOS_MULTIPOLYGON:
    case GEOS_GEOMETRYCOLLECTION:
        n = GEOSGetNumGeometries_r(c->geos, g);
        for (int i = 0; i < n; i++)
            if (collect_polygons(c, GEOSGetGeometryN_r(c->geos, g, i), parts, k) < 0)
                return -1;
        return 0;
    default:
        return 0;
    }
}

/* The polygonal parts of g as one Polygon or MultiPolygon (new), or NULL. */
static GEOSGeometry *polygonal_parts(ctx *c, const GEOSGeometry *g, struct err *e)
{
    GEOSGeometry **parts = NULL, *out = NULL;
    size_t n = count_polygons(c, g), k = 0;
    if (n == 0) {
        err_set(e, ERR_INVALID,
                "no area is left after repair (the geometry collapses to lines or points)");
        return NULL;
    }
    if (!(parts = calloc(n, sizeof *parts))) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (collect_polygons(c, g, parts, &k) < 0 || k != n) {
        ctx_geos_err(c, e, ERR_INTERNAL, "make valid");
        goto out;
    }
    if (n == 1) {
        out = parts[0];
        parts[0] = NULL;
        goto out;
    }
    /* the parts are GEOS's from here on, whatever it returns */
    out = GEOSGeom_createCollection_r(c->geos, GEOS_MULTIPOLYGON, parts, (unsigned int)n);
    k = 0;
    if (!out)
        ctx_geos_err(c, e, ERR_INTERNAL, "make valid");
out:
    for (size_t i = 0; i < k; i++)
        GEOSGeom_destroy_r(c->geos, parts[i]);
    free(parts);
    return out;
}

GEOSGeometry *geom_make_valid(ctx *c, const GEOSGeometry *g, struct err *e)
{
    GEOSContextHandle_t h = c->geos;
    GEOSMakeValidParams *params = NULL;
    GEOSGeometry *fixed = NULL, *out = NULL;
    int type;
    c->geos_msg[0] = '\0';
    params = GEOSMakeValidParams_create_r(h);
    if (!params || !GEOSMakeValidParams_setMethod_r(h, params, GEOS_MAKE_VALID_STRUCTURE) ||
        !GEOSMakeValidParams_setKeepCollapsed_r(h, params, 0)) {
        ctx_geos_err(c, e, ERR_INTERNAL, "make valid");
        goto out;
    }
    fixed = GEOSMakeValidWithParams_r(h, g, params);
    if (!fixed) {
        ctx_geos_err(c, e, ERR_INVALID, "make valid");
        goto out;
    }
    type = GEOSGeomTypeId_r(h, fixed);
    if ((type == GEOS_POLYGON || type == GEOS_MULTIPOLYGON) && GEOSisEmpty_r(h, fixed) == 0) {
        out = fixed; /* already what we hand out */
        fixed = NULL;
        goto out;
    }
    out = polygonal_parts(c, fixed, e);
out:
    GEOSGeom_destroy_r(h, fixed);
    if (params)
        GEOSMakeValidParams_destroy_r(h, params);
    return out;
}

/* ---- from the outside to the store ------------------------------------- */

int geom_prepare_storage(ctx *c, GEOSGeometry *g, int crs, int axis, int make_valid,
                         GEOSGeometry **out, struct geom_repair *rep, struct err *e)
{
    GEOSGeometry *t;
    int rc;
    *out = NULL;
    memset(rep, 0, sizeof *rep);
    if (crs != CRS_STORAGE || axis != CRS_AXIS_XY) {
        if (!(t = geom_transform(c, g, crs, axis, CRS_STORAGE, CRS_AXIS_XY, e))) {
            rc = e->code;
            goto out;
        }
        GEOSGeom_destroy_r(c->geos, g);
        g = t;
    }
    if ((rc = geom_check_range(c, g, e)))
        goto out;
    if ((rc = geom_check_valid(c, g, &rep->loc[0], &rep->loc[1], e))) {
        rep->have_loc = 1;
        if (!make_valid || rc != ERR_INVALID)
            goto out;
        snprintf(rep->reason, sizeof rep->reason, "%.150s", e->msg);
        if (!(t = geom_make_valid(c, g, e))) {
            rc = e->code;
            goto out;
        }
        GEOSGeom_destroy_r(c->geos, g);
        g = t;
        rep->repaired = 1;
        err_clear(e);
        rc = 0;
    }
    *out = g;
    g = NULL;
out:
    if (g)
        GEOSGeom_destroy_r(c->geos, g);
    return rc;
}

/* ---- boxes ------------------------------------------------------------- */

GEOSGeometry *geom_box_polygon(ctx *c, const double b[4], int n)
{
    size_t np = (size_t)(4 * n + 1), k = 0;
    double *xy = malloc(np * 2 * sizeof *xy);
    const double cx[5] = {b[0], b[2], b[2], b[0], b[0]}, cy[5] = {b[1], b[1], b[3], b[3], b[1]};
    GEOSCoordSequence *seq;
    GEOSGeometry *ring;
    if (!xy)
        return NULL;
    for (int side = 0; side < 4; side++)
        for (int i = 0; i < n; i++, k++) {
            double t = (double)i / n;
            xy[2 * k] = cx[side] + (cx[side + 1] - cx[side]) * t;
            xy[2 * k + 1] = cy[side] + (cy[side + 1] - cy[side]) * t;
        }
    xy[2 * k] = xy[0];
    xy[2 * k + 1] = xy[1];
    seq = GEOSCoordSeq_copyFromBuffer_r(c->geos, xy, np, 0, 0);
    free(xy);
    ring = seq ? GEOSGeom_createLinearRing_r(c->geos, seq) : NULL;
    return ring ? GEOSGeom_createPolygon_r(c->geos, ring, NULL, 0) : NULL;
}
