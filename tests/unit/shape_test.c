/* shape_test: shapes read from WKB, against GEOS's rings; clipping rings
 * to a rectangle for measuring. Areas of the
 * clipped rings are checked against areas worked out by hand, and on random
 * star-shaped (often concave) rings against GEOS's own intersection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <geos_c.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "shape.h"

/* planar area of a closed ring, unsigned */
static double planar(const double *xy, size_t n)
{
    double a = 0;
    for (size_t i = 0; i + 1 < n; i++)
        a += xy[2 * i] * xy[2 * i + 3] - xy[2 * i + 2] * xy[2 * i + 1];
    return fabs(a) / 2;
}

static double clipped_area(const double *ring, size_t n, double x0, double y0, double x1,
                           double y1, size_t *points)
{
    struct shape_clip k = {0};
    const double r[4] = {x0, y0, x1, y1};
    const double *out;
    size_t m;
    double a;
    assert_int_equal(shape_ring_clip_rect(ring, n, r, &k, &out, &m), 0);
    a = m ? planar(out, m) : 0;
    if (m) {
        assert_true(m >= 4);
        assert_true(out[0] == out[2 * (m - 1)] && out[1] == out[2 * (m - 1) + 1]);
        for (size_t i = 0; i < m; i++) {
            assert_true(out[2 * i] >= x0 && out[2 * i] <= x1);
            assert_true(out[2 * i + 1] >= y0 && out[2 * i + 1] <= y1);
        }
    }
    if (points)
        *points = m;
    shape_clip_free(&k);
    return a;
}

/* a U: 3 x 3 with a 1 x 2 notch cut from the top middle; area 7 */
static const double U[] = {0, 0, 3, 0, 3, 3, 2, 3, 2, 1, 1, 1, 1, 3, 0, 3, 0, 0};
#define U_N 9

static void test_clip_by_hand(void **state)
{
    size_t m;
    (void)state;
    assert_float_equal(planar(U, U_N), 7, 1e-12);
    /* wholly inside */
    assert_float_equal(clipped_area(U, U_N, -1, -1, 4, 4, NULL), 7, 1e-12);
    /* the top band holds both prongs, 1 x 1 each: the result runs along
     * the notch's floor and back, enclosing nothing there */
    assert_float_equal(clipped_area(U, U_N, -1, 2, 4, 4, NULL), 2, 1e-12);
    /* a window over the notch's floor: y 0.5..1 full width 2, then two
     * 0.5 x 0.5 pieces beside the notch */
    assert_float_equal(clipped_area(U, U_N, 0.5, 0.5, 2.5, 1.5, NULL), 1.5, 1e-12);
    /* inside the notch: nothing */
    assert_float_equal(clipped_area(U, U_N, 1.2, 1.5, 1.8, 2.5, &m), 0, 1e-12);
    /* disjoint */
    clipped_area(U, U_N, 10, 10, 11, 11, &m);
    assert_int_equal(m, 0);
    /* touching along the right side: no area */
    assert_float_equal(clipped_area(U, U_N, 3, 0, 4, 3, NULL), 0, 1e-12);
    /* a window inside the ring: the window itself */
    assert_float_equal(clipped_area(U, U_N, 0.25, 0.25, 0.75, 2.75, NULL), 0.5 * 2.5, 1e-12);
    /* too few points */
    {
        struct shape_clip k = {0};
        const double r[4] = {0, 0, 1, 1}, line[] = {0, 0, 1, 1, 0, 0};
        const double *out;
        assert_int_equal(shape_ring_clip_rect(line, 3, r, &k, &out, &m), 0);
        assert_int_equal(m, 0);
        shape_clip_free(&k);
    }
}

static double geos_area(GEOSContextHandle_t h, const double *ring, size_t n, const double r[4])
{
    GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(h, ring, (unsigned)n, 0, 0);
    GEOSGeometry *poly = GEOSGeom_createPolygon_r(h, GEOSGeom_createLinearRing_r(h, seq), NULL, 0);
    GEOSGeometry *box = GEOSGeom_createRectangle_r(h, r[0], r[1], r[2], r[3]);
    GEOSGeometry *x = GEOSIntersection_r(h, poly, box);
    double a = 0;
    assert_non_null(x);
    assert_int_equal(GEOSArea_r(h, x, &a), 1);
    GEOSGeom_destroy_r(h, poly);
    GEOSGeom_destroy_r(h, box);
    GEOSGeom_destroy_r(h, x);
    return a;
}

/* Random star-shaped rings (simple, mostly concave) and random windows:
 * the clipped area equals GEOS's intersection area. */
static void test_clip_vs_geos(void **state)
{
    GEOSContextHandle_t h = GEOS_init_r();
    unsigned seed = 12345;
    (void)state;
    for (int t = 0; t < 500; t++) {
        enum { N = 40 };
        double ring[2 * (N + 1)], r[4], a, b;
        for (int i = 0; i < N; i++) {
            double ang = 2 * M_PI * i / N, rad = 0.5 + (rand_r(&seed) % 1000) / 1000.0;
            ring[2 * i] = rad * cos(ang);
            ring[2 * i + 1] = rad * sin(ang);
        }
        ring[2 * N] = ring[0];
        ring[2 * N + 1] = ring[1];
        r[0] = -1.6 + (rand_r(&seed) % 1000) / 500.0;
        r[1] = -1.6 + (rand_r(&seed) % 1000) / 500.0;
        r[2] = r[0] + (rand_r(&seed) % 1000) / 400.0 + 1e-3;
        r[3] = r[1] + (rand_r(&seed) % 1000) / 400.0 + 1e-3;
        a = clipped_area(ring, N + 1, r[0], r[1], r[2], r[3], NULL);
        b = geos_area(h, ring, N + 1, r);
        if (fabs(a - b) > 1e-9 * (1 + b))
            fail_msg("case %d: clipped %.15g, GEOS %.15g", t, a, b);
    }
    GEOS_finish_r(h);
}

/* Polygons and multipolygons read from GEOS's WKB, in both byte orders and
 * with Z: the same rings, vertex for vertex, as GEOS holds; anything else
 * (another type, truncated) refused. */
static void test_from_wkb(void **state)
{
    static const char *const wkt[] = {
        "POLYGON ((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 1 2, 2 2, 2 1, 1 1))",
        "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 6, 5 5)))",
        "POLYGON Z ((0 0 7, 3 0 7, 3 3 7, 0 0 7))",
    };
    GEOSContextHandle_t h = GEOS_init_r();
    GEOSWKTReader *rd = GEOSWKTReader_create_r(h);
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(h);
    struct shape sh = {0};
    (void)state;
    GEOSWKBWriter_setOutputDimension_r(h, w, 3);
    for (size_t i = 0; i < sizeof wkt / sizeof wkt[0]; i++) {
        GEOSGeometry *g = GEOSWKTReader_read_r(h, rd, wkt[i]);
        assert_non_null(g);
        for (int bo = 0; bo < 2; bo++) {
            size_t len, at = 0, ring = 0;
            unsigned char *wkb;
            int parts = GEOSGetNumGeometries_r(h, g);
            GEOSWKBWriter_setByteOrder_r(h, w, bo);
            wkb = GEOSWKBWriter_write_r(h, w, g, &len);
            assert_int_equal(shape_from_wkb(wkb, len, &sh), 0);
            assert_int_equal(sh.n_polys, (size_t)parts);
            for (int k = 0; k < parts; k++) {
                const GEOSGeometry *p = GEOSGetGeometryN_r(h, g, k);
                int holes = GEOSGetNumInteriorRings_r(h, p);
                for (int r = -1; r < holes; r++, ring++) {
                    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(
                        h, r < 0 ? GEOSGetExteriorRing_r(h, p) : GEOSGetInteriorRingN_r(h, p, r));
                    unsigned int n;
                    assert_true(GEOSCoordSeq_getSize_r(h, cs, &n));
                    assert_int_equal(sh.ring_end[ring] - at, n);
                    for (unsigned int v = 0; v < n; v++, at++) {
                        double x, y;
                        GEOSCoordSeq_getXY_r(h, cs, v, &x, &y);
                        assert_true(sh.xy[2 * at] == x && sh.xy[2 * at + 1] == y);
                    }
                }
            }
            assert_int_equal(sh.n_rings, ring);
            for (size_t cut = 0; cut < len; cut++)
                assert_int_equal(shape_from_wkb(wkb, cut, &sh), -1);
            GEOSFree_r(h, wkb);
        }
        GEOSGeom_destroy_r(h, g);
    }
    {
        GEOSGeometry *pt = GEOSWKTReader_read_r(h, rd, "POINT (1 2)");
        size_t len;
        unsigned char *wkb = GEOSWKBWriter_write_r(h, w, pt, &len);
        assert_int_equal(shape_from_wkb(wkb, len, &sh), -1);
        GEOSFree_r(h, wkb);
        GEOSGeom_destroy_r(h, pt);
    }
    shape_free(&sh);
    GEOSWKBWriter_destroy_r(h, w);
    GEOSWKTReader_destroy_r(h, rd);
    GEOS_finish_r(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clip_by_hand),
        cmocka_unit_test(test_clip_vs_geos),
        cmocka_unit_test(test_from_wkb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
