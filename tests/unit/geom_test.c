/* geom_test: areas of polygons against closed forms, transforms of whole
 * geometries against cs2cs, Gauss-Kruger scale against its series, validity
 * reasons and locations against hand geometry, and repair. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "area.h"
#include "geom.h"

#define GRS80_A 6378137.0
#define GRS80_F (1 / 298.257222101)
#define DEG (M_PI / 180)
#define MM 0.001

/* ---- helpers ----------------------------------------------------------- */

static int setup(void **state)
{
    struct err e;
    *state = ctx_new(&e);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    ctx_free(*state);
    return 0;
}

static GEOSGeometry *wkt(ctx *c, const char *s)
{
    GEOSWKTReader *r = GEOSWKTReader_create_r(c->geos);
    GEOSGeometry *g = GEOSWKTReader_read_r(c->geos, r, s);
    GEOSWKTReader_destroy_r(c->geos, r);
    if (!g)
        fail_msg("cannot read %s", s);
    return g;
}

static double authalic_q(double phi)
{
    double e2 = GRS80_F * (2 - GRS80_F), e = sqrt(e2), s = sin(phi);
    return s / (1 - e2 * s * s) + log((1 + e * s) / (1 - e * s)) / (2 * e);
}

/* Closed-form area of a quadrangle between two parallels and two meridians. */
static double quad_area(double west, double south, double east, double north)
{
    double b = GRS80_A * (1 - GRS80_F);
    return b * b * (east - west) * DEG / 2 * (authalic_q(north * DEG) - authalic_q(south * DEG));
}

/* The quadrangle as a ring with its parallels split into 2000 steps. */
static GEOSGeometry *quad_ring(ctx *c, double west, double south, double east, double north)
{
    enum { N = 2000 };
    GEOSCoordSequence *s = GEOSCoordSeq_create_r(c->geos, 2 * (N + 1) + 1, 2);
    unsigned int k = 0;
    for (int i = 0; i <= N; i++)
        GEOSCoordSeq_setXY_r(c->geos, s, k++, west + (east - west) * i / N, south);
    for (int i = 0; i <= N; i++)
        GEOSCoordSeq_setXY_r(c->geos, s, k++, east - (east - west) * i / N, north);
    GEOSCoordSeq_setXY_r(c->geos, s, k, west, south);
    return GEOSGeom_createLinearRing_r(c->geos, s);
}

static GEOSGeometry *quad_polygon(ctx *c, const double *outer, const double *hole)
{
    GEOSGeometry *holes[1];
    if (hole)
        holes[0] = quad_ring(c, hole[0], hole[1], hole[2], hole[3]);
    return GEOSGeom_createPolygon_r(c->geos, quad_ring(c, outer[0], outer[1], outer[2], outer[3]),
                                    holes, hole ? 1 : 0);
}

/* Every coordinate of g in order, through GEOS's accessors. */
static size_t coords_of(ctx *c, const GEOSGeometry *g, double *xy, size_t at)
{
    int type = GEOSGeomTypeId_r(c->geos, g);
    if (type == GEOS_POINT || type == GEOS_LINESTRING || type == GEOS_LINEARRING) {
        const GEOSCoordSequence *s = GEOSGeom_getCoordSeq_r(c->geos, g);
        unsigned int n = 0;
        GEOSCoordSeq_getSize_r(c->geos, s, &n);
        for (unsigned int i = 0; i < n; i++, at++)
            GEOSCoordSeq_getXY_r(c->geos, s, i, &xy[2 * at], &xy[2 * at + 1]);
        return at;
    }
    if (type == GEOS_POLYGON) {
        if (GEOSisEmpty_r(c->geos, g))
            return at;
        at = coords_of(c, GEOSGetExteriorRing_r(c->geos, g), xy, at);
        for (int i = 0; i < GEOSGetNumInteriorRings_r(c->geos, g); i++)
            at = coords_of(c, GEOSGetInteriorRingN_r(c->geos, g, i), xy, at);
        return at;
    }
    for (int i = 0; i < GEOSGetNumGeometries_r(c->geos, g); i++)
        at = coords_of(c, GEOSGetGeometryN_r(c->geos, g, i), xy, at);
    return at;
}

/* Runs cs2cs on n points (authority axis order of both CRSs). */
static void cs2cs(const char *from, const char *to, const double *in, size_t n, double *out)
{
    char cmd[256], line[256];
    char path[] = "/tmp/geom_test_XXXXXX";
    int fd = mkstemp(path);
    FILE *f;
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%.12f %.12f\n", in[2 * i], in[2 * i + 1]);
    fclose(f);
    snprintf(cmd, sizeof cmd, "cs2cs -f %%.10f %s %s < %s", from, to, path);
    f = popen(cmd, "r");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(fgets(line, sizeof line, f));
        assert_int_equal(sscanf(line, "%lf %lf", &out[2 * i], &out[2 * i + 1]), 2);
    }
    assert_int_equal(pclose(f), 0);
    unlink(path);
}

/* ---- area -------------------------------------------------------------- */

static void test_area_polygon_with_hole(void **state)
{
    ctx *c = *state;
    static const double outer[] = {118, 29, 119, 30}, hole[] = {118.4, 29.1, 118.5, 29.2};
    GEOSGeometry *g = quad_polygon(c, outer, hole);
    double want = quad_area(118, 29, 119, 30) - quad_area(118.4, 29.1, 118.5, 29.2);
    assert_true(fabs(geom_area_m2(c, g) - want) < 1e-9 * want);
    GEOSGeom_destroy_r(c->geos, g);
}

static void test_area_multipolygon(void **state)
{
    ctx *c = *state;
    static const double a[] = {118, 29, 119, 30}, hole[] = {118.4, 29.1, 118.5, 29.2};
    static const double b[] = {119.5, 28.5, 120, 29};
    GEOSGeometry *parts[2] = {quad_polygon(c, a, hole), quad_polygon(c, b, NULL)};
    GEOSGeometry *mp = GEOSGeom_createCollection_r(c->geos, GEOS_MULTIPOLYGON, parts, 2);
    double want = quad_area(118, 29, 119, 30) - quad_area(118.4, 29.1, 118.5, 29.2) +
                  quad_area(119.5, 28.5, 120, 29);
    assert_true(fabs(geom_area_m2(c, mp) - want) < 1e-9 * want);
    GEOSGeom_destroy_r(c->geos, mp);
}

static void test_area_other_types(void **state)
{
    ctx *c = *state;
    static const char *const zero[] = {
        "POINT (118.41 29.14)",
        "LINESTRING (118.41 29.14, 118.42 29.15)",
        "MULTIPOINT ((118.41 29.14), (118.42 29.15))",
        "POLYGON EMPTY",
        "MULTIPOLYGON EMPTY",
        "GEOMETRYCOLLECTION EMPTY",
    };
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++) {
        GEOSGeometry *g = wkt(c, zero[i]);
        assert_true(geom_area_m2(c, g) == 0);
        GEOSGeom_destroy_r(c->geos, g);
    }
    /* a clip's result: polygons count, lines do not */
    GEOSGeometry *g = wkt(c, "GEOMETRYCOLLECTION (LINESTRING (118 29, 119 30), "
                             "POLYGON ((118 0, 118.01 0, 118.01 0.01, 118 0.01, 118 0)), "
                             "MULTIPOLYGON (((0 0, 0.01 0, 0.01 0.01, 0 0.01, 0 0))))");
    double want = 2 * quad_area(0, 0, 0.01, 0.01);
    /* small cells: their geodesic tops hardly leave the parallel */
    assert_true(fabs(geom_area_m2(c, g) - want) < 1e-7 * want);
    GEOSGeom_destroy_r(c->geos, g);
}

/* Scale factor of Gauss-Kruger (transverse Mercator) at latitude phi and
 * longitude dlon (radians) from the central meridian, to the 4th order. */
static double gk_scale(double phi, double dlon)
{
    double e2 = GRS80_F * (2 - GRS80_F), ep2 = e2 / (1 - e2);
    double c2 = cos(phi) * cos(phi), t2 = tan(phi) * tan(phi), eta2 = ep2 * c2;
    double l2 = dlon * dlon * c2;
    return 1 + (1 + eta2) * l2 / 2 + (5 - 4 * t2 + 14 * eta2 - 28 * t2 * eta2) * l2 * l2 / 24;
}

/* A 1 km x 1 km square in EPSG:4548 centred at (lon, lat), carried to EPSG:4490
 * and measured; returns the geodesic area. */
static double gk_square_area(ctx *c, double lon, double lat)
{
    double centre[2], ne[2];
    char text[256];
    GEOSGeometry *g, *t;
    struct err e;
    cs2cs("EPSG:4490", "EPSG:4548", (double[]){lat, lon}, 1, centre); /* N, E */
    ne[0] = centre[1], ne[1] = centre[0];
    snprintf(text, sizeof text, "POLYGON ((%.4f %.4f, %.4f %.4f, %.4f %.4f, %.4f %.4f, %.4f %.4f))",
             ne[0] - 500, ne[1] - 500, ne[0] + 500, ne[1] - 500, ne[0] + 500, ne[1] + 500,
             ne[0] - 500, ne[1] + 500, ne[0] - 500, ne[1] - 500);
    g = wkt(c, text);
    t = geom_transform(c, g, CRS_4548, CRS_AXIS_XY, CRS_4490, CRS_AXIS_XY, &e);
    if (!t)
        fail_msg("%s", e.msg);
    double a = geom_area_m2(c, t);
    GEOSGeom_destroy_r(c->geos, g);
    GEOSGeom_destroy_r(c->geos, t);
    return a;
}

static void test_area_gk_square(void **state)
{
    ctx *c = *state;
    double k, a;
    /* on the central meridian Gauss-Kruger keeps areas: 1 000 000 m2 */
    a = gk_square_area(c, 117.0, 29.14);
    assert_true(fabs(a - 1e6) < 1e-4 * 1e6);
    assert_true(fabs(a - 1e6) < 1e-6 * 1e6);
    /* at 芹阳, 1.41 degrees off it, the projection enlarges by k^2 (~0.05 %) */
    a = gk_square_area(c, 118.41, 29.14);
    k = gk_scale(29.14 * DEG, 1.41 * DEG);
    assert_true(k * k > 1.0004 && k * k < 1.0006);
    if (fabs(a * k * k - 1e6) > 1e-6 * 1e6)
        fail_msg("area %.3f m2, times k^2 %.3f m2", a, a * k * k);
}

/* ---- transform --------------------------------------------------------- */

static void test_transform_vs_cs2cs(void **state)
{
    ctx *c = *state;
    GEOSGeometry *g = wkt(c, "POLYGON ((118.40 29.12, 118.43 29.12, 118.43 29.16, "
                             "118.40 29.16, 118.40 29.12), (118.41 29.13, 118.41 29.14, "
                             "118.42 29.14, 118.41 29.13))");
    double in[18], got[18], want[18];
    struct err e;
    GEOSGeometry *t = geom_transform(c, g, CRS_4490, CRS_AXIS_XY, CRS_4548, CRS_AXIS_AUTHORITY, &e);
    assert_non_null(t);
    assert_int_equal(GEOSGeomTypeId_r(c->geos, t), GEOS_POLYGON);
    assert_int_equal(GEOSGetNumInteriorRings_r(c->geos, t), 1);
    assert_int_equal(geom_num_points(c, t), 9);
    assert_int_equal(coords_of(c, g, in, 0), 9);
    assert_int_equal(coords_of(c, t, got, 0), 9);
    for (size_t i = 0; i < 9; i++) { /* cs2cs reads EPSG:4490 lat first */
        double x = in[2 * i];
        in[2 * i] = in[2 * i + 1], in[2 * i + 1] = x;
    }
    cs2cs("EPSG:4490", "EPSG:4548", in, 9, want);
    for (size_t i = 0; i < 18; i++)
        if (fabs(got[i] - want[i]) > MM)
            fail_msg("[%zu] %.4f, cs2cs %.4f", i, got[i], want[i]);
    GEOSGeom_destroy_r(c->geos, t);
    GEOSGeom_destroy_r(c->geos, g);
}

static void test_transform_types(void **state)
{
    ctx *c = *state;
    static const char *const cases[][2] = {
        {"POINT (118.41 29.14)", "POINT (29.14 118.41)"},
        {"LINESTRING (118.41 29.14, 118.42 29.15)", "LINESTRING (29.14 118.41, 29.15 118.42)"},
        {"MULTIPOINT ((118.41 29.14), (118.42 29.15))",
         "MULTIPOINT ((29.14 118.41), (29.15 118.42))"},
        {"MULTILINESTRING ((118.41 29.14, 118.42 29.15), (118.5 29.2, 118.6 29.3, 118.7 29.2))",
         "MULTILINESTRING ((29.14 118.41, 29.15 118.42), (29.2 118.5, 29.3 118.6, 29.2 118.7))"},
        {"MULTIPOLYGON (((118.4 29.1, 118.5 29.1, 118.5 29.2, 118.4 29.1)), ((118.6 29.1, "
         "118.7 29.1, 118.7 29.2, 118.6 29.1), (118.65 29.11, 118.69 29.11, 118.69 29.15, "
         "118.65 29.11)))",
         "MULTIPOLYGON (((29.1 118.4, 29.1 118.5, 29.2 118.5, 29.1 118.4)), ((29.1 118.6, "
         "29.1 118.7, 29.2 118.7, 29.1 118.6), (29.11 118.65, 29.11 118.69, 29.15 118.69, "
         "29.11 118.65)))"},
        {"GEOMETRYCOLLECTION (POINT (118.41 29.14), POLYGON EMPTY, POLYGON ((118.4 29.1, "
         "118.5 29.1, 118.5 29.2, 118.4 29.1)), GEOMETRYCOLLECTION (LINESTRING (1 2, 3 4)))",
         "GEOMETRYCOLLECTION (POINT (29.14 118.41), POLYGON EMPTY, POLYGON ((29.1 118.4, "
         "29.1 118.5, 29.2 118.5, 29.1 118.4)), GEOMETRYCOLLECTION (LINESTRING (2 1, 4 3)))"},
        {"POINT EMPTY", "POINT EMPTY"},
        {"LINESTRING EMPTY", "LINESTRING EMPTY"},
        {"POLYGON EMPTY", "POLYGON EMPTY"},
        {"MULTIPOLYGON EMPTY", "MULTIPOLYGON EMPTY"},
        {"GEOMETRYCOLLECTION EMPTY", "GEOMETRYCOLLECTION EMPTY"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        GEOSGeometry *g = wkt(c, cases[i][0]), *swapped = wkt(c, cases[i][1]);
        GEOSGeometry *t, *there, *back;
        struct err e;
        /* x/y to the definition's order: an exact swap */
        t = geom_transform(c, g, CRS_4490, CRS_AXIS_XY, CRS_4490, CRS_AXIS_AUTHORITY, &e);
        assert_non_null(t);
        if (GEOSEqualsExact_r(c->geos, t, swapped, 0) != 1 ||
            GEOSGeomTypeId_r(c->geos, t) != GEOSGeomTypeId_r(c->geos, g))
            fail_msg("swap of %s", cases[i][0]);
        /* through Web Mercator and back: the same geometry */
        there = geom_transform(c, g, CRS_4490, CRS_AXIS_XY, CRS_3857, CRS_AXIS_XY, &e);
        assert_non_null(there);
        back = geom_transform(c, there, CRS_3857, CRS_AXIS_XY, CRS_4490, CRS_AXIS_XY, &e);
        assert_non_null(back);
        if (GEOSEqualsExact_r(c->geos, back, g, 1e-9) != 1 ||
            GEOSGeomTypeId_r(c->geos, back) != GEOSGeomTypeId_r(c->geos, g) ||
            geom_num_points(c, there) != geom_num_points(c, g))
            fail_msg("round trip of %s", cases[i][0]);
        GEOSGeom_destroy_r(c->geos, back);
        GEOSGeom_destroy_r(c->geos, there);
        GEOSGeom_destroy_r(c->geos, t);
        GEOSGeom_destroy_r(c->geos, swapped);
        GEOSGeom_destroy_r(c->geos, g);
    }
}

static void test_transform_errors(void **state)
{
    ctx *c = *state;
    GEOSGeometry *g = wkt(c, "POLYGON ((118.40 29.12, 118.43 29.12, 118.43 29.16, "
                             "118.40 29.16, 118.40 29.12), (118.41 29.13, 118.41 95, "
                             "118.42 29.14, 118.41 29.13))");
    struct err e;
    err_clear(&e);
    assert_null(geom_transform(c, g, CRS_4490, CRS_AXIS_XY, CRS_4548, CRS_AXIS_XY, &e));
    assert_int_equal(e.code, ERR_PARAM);
    /* the index counts through the rings: the hole's second point is the 7th */
    assert_non_null(strstr(e.msg, "point 6: cannot transform (118.41, 95) from EPSG:4490 to "
                                  "EPSG:4548"));
    GEOSGeom_destroy_r(c->geos, g);
}

/* ---- bounds, counts ---------------------------------------------------- */

static void test_bounds_and_points(void **state)
{
    ctx *c = *state;
    GEOSGeometry *g = wkt(c, "MULTIPOLYGON (((118.4 29.1, 118.5 29.1, 118.5 29.2, 118.4 29.1)),"
                             " ((118.6 29.05, 118.7 29.1, 118.7 29.25, 118.6 29.05)))");
    GEOSGeometry *empty = wkt(c, "POLYGON EMPTY");
    struct bbox b;
    assert_int_equal(geom_bounds(c, g, &b), 0);
    assert_true(b.minx == 118.4 && b.miny == 29.05 && b.maxx == 118.7 && b.maxy == 29.25);
    assert_int_equal(geom_bounds(c, empty, &b), -1);
    assert_int_equal(geom_num_points(c, g), 8);
    assert_int_equal(geom_num_points(c, empty), 0);
    GEOSGeom_destroy_r(c->geos, g);
    GEOSGeom_destroy_r(c->geos, empty);
}

/* ---- validity ---------------------------------------------------------- */

static void test_check_valid(void **state)
{
    ctx *c = *state;
    /* edges (118.40 29.12)-(118.42 29.14) and (118.42 29.12)-(118.40 29.14) */
    GEOSGeometry *bowtie = wkt(c, "POLYGON ((118.40 29.12, 118.42 29.14, 118.42 29.12, "
                                  "118.40 29.14, 118.40 29.12))");
    GEOSGeometry *good = wkt(c, "POLYGON ((118.40 29.12, 118.42 29.12, 118.42 29.14, "
                                "118.40 29.12))");
    GEOSGeometry *hole_out = wkt(c, "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), "
                                    "(20 20, 21 20, 21 21, 20 20))");
    double x = 0, y = 0, ix, iy;
    struct err e;
    /* where the two edges cross, by hand: p + t d1 = r + u d2 */
    {
        double px = 118.40, py = 29.12, d1x = 0.02, d1y = 0.02;
        double rx = 118.42, ry = 29.12, d2x = -0.02, d2y = 0.02;
        double t = ((rx - px) * d2y - (ry - py) * d2x) / (d1x * d2y - d1y * d2x);
        ix = px + t * d1x, iy = py + t * d1y;
    }

    err_clear(&e);
    assert_int_equal(geom_check_valid(c, good, &x, &y, &e), 0);
    assert_int_equal(e.code, 0);
    assert_int_equal(geom_check_valid(c, bowtie, &x, &y, &e), ERR_INVALID);
    assert_int_equal(e.code, ERR_INVALID);
    assert_string_equal(e.msg, "Self-intersection at 118.41 29.13");
    assert_true(fabs(x - ix) < 1e-12 && fabs(y - iy) < 1e-12);
    assert_int_equal(geom_check_valid(c, bowtie, NULL, NULL, &e), ERR_INVALID);
    assert_int_equal(geom_check_valid(c, hole_out, &x, &y, &e), ERR_INVALID);
    assert_string_equal(e.msg, "Hole lies outside shell at 20 20");
    assert_true(x == 20 && y == 20);
    GEOSGeom_destroy_r(c->geos, bowtie);
    GEOSGeom_destroy_r(c->geos, good);
    GEOSGeom_destroy_r(c->geos, hole_out);
}

static void test_check_valid_decimals(void **state)
{
    ctx *c = *state;
    /* the edge (0 1)-(0.5 -0.5) crosses the x axis at 1/3: nine decimals */
    GEOSGeometry *g = wkt(c, "POLYGON ((0 0, 1 0, 0 1, 0.5 -0.5, 0 0))");
    struct err e;
    double x, y;
    assert_int_equal(geom_check_valid(c, g, &x, &y, &e), ERR_INVALID);
    assert_string_equal(e.msg, "Self-intersection at 0.333333333 0");
    assert_true(fabs(x - 1.0 / 3) < 1e-15 && y == 0);
    GEOSGeom_destroy_r(c->geos, g);
}

/* ---- repair ------------------------------------------------------------ */

static void test_make_valid_bowtie(void **state)
{
    ctx *c = *state;
    GEOSGeometry *plane = wkt(c, "POLYGON ((0 0, 2 2, 2 0, 0 2, 0 0))");
    GEOSGeometry *geo = wkt(c, "POLYGON ((118.40 29.12, 118.42 29.14, 118.42 29.12, "
                               "118.40 29.14, 118.40 29.12))");
    GEOSGeometry *fixed;
    struct err e;
    double area;
    /* two triangles of area 1 each */
    fixed = geom_make_valid(c, plane, &e);
    assert_non_null(fixed);
    assert_int_equal(GEOSGeomTypeId_r(c->geos, fixed), GEOS_MULTIPOLYGON);
    assert_int_equal(GEOSGetNumGeometries_r(c->geos, fixed), 2);
    assert_int_equal(GEOSisValid_r(c->geos, fixed), 1);
    assert_int_equal(GEOSArea_r(c->geos, fixed, &area), 1);
    assert_true(fabs(area - 2) < 1e-12);
    GEOSGeom_destroy_r(c->geos, fixed);

    /* on the ground: the two triangles that meet at the crossing */
    fixed = geom_make_valid(c, geo, &e);
    assert_non_null(fixed);
    assert_int_equal(GEOSGeomTypeId_r(c->geos, fixed), GEOS_MULTIPOLYGON);
    assert_int_equal(GEOSGetNumGeometries_r(c->geos, fixed), 2);
    {
        double west[] = {118.40, 29.12, 118.41, 29.13, 118.40, 29.14, 118.40, 29.12};
        double east[] = {118.42, 29.12, 118.42, 29.14, 118.41, 29.13, 118.42, 29.12};
        double want = area_ring_m2(west, 4) + area_ring_m2(east, 4);
        assert_true(want > 2 * 1e6 && want < 2 * 1.2e6);
        assert_true(fabs(geom_area_m2(c, fixed) - want) < 1e-3);
    }
    GEOSGeom_destroy_r(c->geos, fixed);
    GEOSGeom_destroy_r(c->geos, plane);
    GEOSGeom_destroy_r(c->geos, geo);
}

static void test_make_valid_other(void **state)
{
    ctx *c = *state;
    GEOSGeometry *good = wkt(c, "POLYGON ((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 2 1, 2 2, 1 1))");
    GEOSGeometry *overlap = wkt(c, "MULTIPOLYGON (((0 0, 2 0, 2 2, 0 2, 0 0)), "
                                   "((1 1, 3 1, 3 3, 1 3, 1 1)))");
    GEOSGeometry *flat = wkt(c, "POLYGON ((0 0, 1 1, 2 2, 0 0))");
    GEOSGeometry *line = wkt(c, "LINESTRING (0 0, 1 1)");
    GEOSGeometry *fixed;
    struct err e;
    double area;
    /* a valid polygon comes back as it was */
    fixed = geom_make_valid(c, good, &e);
    assert_non_null(fixed);
    assert_int_equal(GEOSGeomTypeId_r(c->geos, fixed), GEOS_POLYGON);
    assert_int_equal(GEOSEquals_r(c->geos, fixed, good), 1);
    GEOSGeom_destroy_r(c->geos, fixed);
    /* overlapping parts are merged: 4 + 4 - 1 */
    fixed = geom_make_valid(c, overlap, &e);
    assert_non_null(fixed);
    assert_int_equal(GEOSisValid_r(c->geos, fixed), 1);
    assert_int_equal(GEOSArea_r(c->geos, fixed, &area), 1);
    assert_true(fabs(area - 7) < 1e-12);
    GEOSGeom_destroy_r(c->geos, fixed);
    /* nothing with an area left */
    err_clear(&e);
    assert_null(geom_make_valid(c, flat, &e));
    assert_int_equal(e.code, ERR_INVALID);
    assert_non_null(strstr(e.msg, "no area is left after repair"));
    assert_null(geom_make_valid(c, line, &e));
    assert_int_equal(e.code, ERR_INVALID);
    GEOSGeom_destroy_r(c->geos, good);
    GEOSGeom_destroy_r(c->geos, overlap);
    GEOSGeom_destroy_r(c->geos, flat);
    GEOSGeom_destroy_r(c->geos, line);
}

/* ---- threads ----------------------------------------------------------- */

struct worker {
    double area; /* of a GK square carried to EPSG:4490, 200 times over */
    int ok;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct err e;
    ctx *c = ctx_new(&e);
    GEOSGeometry *g, *t;
    if (!c)
        return NULL;
    g = wkt(c, "POLYGON ((570000 3224000, 571000 3224000, 571000 3225000, 570000 3225000, "
               "570000 3224000))");
    w->ok = 1;
    for (int i = 0; i < 200 && w->ok; i++) {
        t = geom_transform(c, g, CRS_4548, CRS_AXIS_XY, CRS_4490, CRS_AXIS_XY, &e);
        w->ok = t != NULL;
        if (t && i == 0)
            w->area = geom_area_m2(c, t);
        else if (t && geom_area_m2(c, t) != w->area)
            w->ok = 0;
        GEOSGeom_destroy_r(c->geos, t);
    }
    GEOSGeom_destroy_r(c->geos, g);
    ctx_free(c);
    return NULL;
}

/* Each thread with its own ctx: the same answers, nothing shared. */
static void test_threads(void **state)
{
    enum { N = 4 };
    pthread_t th[N];
    struct worker w[N] = {{0}};
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < N; i++) {
        assert_true(w[i].ok);
        assert_true(w[i].area == w[0].area);
    }
    assert_true(w[0].area > 0.999e6 && w[0].area < 1e6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_area_polygon_with_hole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_area_multipolygon, setup, teardown),
        cmocka_unit_test_setup_teardown(test_area_other_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_area_gk_square, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transform_vs_cs2cs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transform_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transform_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounds_and_points, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_valid_decimals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_make_valid_bowtie, setup, teardown),
        cmocka_unit_test_setup_teardown(test_make_valid_other, setup, teardown),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
