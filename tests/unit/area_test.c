/* area_test: geodesic ring areas against closed-form areas on the GRS80
 * ellipsoid (quadrangles between parallels and meridians, a hemisphere). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "area.h"

#define GRS80_A 6378137.0
#define GRS80_F (1 / 298.257222101)
#define DEG (M_PI / 180)

/* q(phi) of the authalic latitude: the area between the equator and phi over
 * dlon radians of longitude is b^2 dlon / 2 * q(phi). */
static double authalic_q(double phi)
{
    double e2 = GRS80_F * (2 - GRS80_F), e = sqrt(e2), s = sin(phi);
    return s / (1 - e2 * s * s) + log((1 + e * s) / (1 - e * s)) / (2 * e);
}

/* Area of the quadrangle bounded by two parallels and two meridians. */
static double quad_area(double west, double south, double east, double north)
{
    double b = GRS80_A * (1 - GRS80_F);
    return b * b * (east - west) * DEG / 2 * (authalic_q(north * DEG) - authalic_q(south * DEG));
}

/* The quadrangle as a ring, counter-clockwise, its parallels split into n
 * steps (a parallel is not a geodesic: with enough vertices the difference
 * vanishes). Returns the number of points; the ring is closed. */
static size_t quad_ring(double west, double south, double east, double north, size_t n,
                        double **out)
{
    size_t k = 0, total = 2 * (n + 1) + 1;
    double *xy = malloc(2 * total * sizeof *xy);
    assert_non_null(xy);
    for (size_t i = 0; i <= n; i++, k++)
        xy[2 * k] = west + (east - west) * i / n, xy[2 * k + 1] = south;
    for (size_t i = 0; i <= n; i++, k++)
        xy[2 * k] = east - (east - west) * i / n, xy[2 * k + 1] = north;
    xy[2 * k] = xy[0], xy[2 * k + 1] = xy[1];
    *out = xy;
    return k + 1;
}

static void expect_quad(double west, double south, double east, double north, double rel)
{
    double *xy, want = quad_area(west, south, east, north), got;
    size_t n = quad_ring(west, south, east, north, 2000, &xy);
    got = area_ring_m2(xy, n);
    if (fabs(got - want) > rel * want)
        fail_msg("%g %g %g %g: %.6f m2, closed form %.6f m2", west, south, east, north, got, want);
    free(xy);
}

static void test_equator_degree(void **state)
{
    /* a 1 x 1 degree cell at the equator is about 12 308 463 894 m2 */
    double want = quad_area(0, 0, 1, 1);
    assert_true(fabs(want - 1.2308463894e10) < 10);
    expect_quad(0, 0, 1, 1, 1e-9);
}

static void test_qinyang_cells(void **state)
{
    expect_quad(118, 29, 119, 30, 1e-9);
    expect_quad(118.4, 29.1, 118.5, 29.2, 1e-9);
    /* a 1e-4 degree cell (about 97 m x 111 m), to the square centimetre */
    {
        double *xy, want = quad_area(118.41, 29.14, 118.4101, 29.1401);
        size_t n = quad_ring(118.41, 29.14, 118.4101, 29.1401, 1, &xy);
        assert_true(fabs(area_ring_m2(xy, n) - want) < 1e-4);
        free(xy);
    }
    expect_quad(-75, -45, -73, -44, 1e-9); /* south and west too */
}

static void test_orientation_and_closure(void **state)
{
    double *xy, rev[2 * 5], want = quad_area(118, 29, 119, 30);
    size_t n = quad_ring(118, 29, 119, 30, 2000, &xy);
    /* clockwise: same area (never the rest of the earth) */
    double *cw = malloc(2 * n * sizeof *cw);
    assert_non_null(cw);
    for (size_t i = 0; i < n; i++)
        cw[2 * i] = xy[2 * (n - 1 - i)], cw[2 * i + 1] = xy[2 * (n - 1 - i) + 1];
    assert_true(fabs(area_ring_m2(cw, n) - want) < 1e-9 * want);
    /* not closed: the closing edge is implied */
    assert_true(fabs(area_ring_m2(xy, n - 1) - want) < 1e-9 * want);
    free(cw);
    free(xy);
    /* a small square given both ways, closed and open */
    {
        double sq[] = {118.41, 29.14, 118.42, 29.14, 118.42, 29.15, 118.41, 29.15, 118.41, 29.14};
        double a = area_ring_m2(sq, 5);
        for (size_t i = 0; i < 5; i++)
            rev[2 * i] = sq[2 * (4 - i)], rev[2 * i + 1] = sq[2 * (4 - i) + 1];
        assert_true(a > 1.0e6 && a < 1.2e6);
        assert_true(fabs(area_ring_m2(rev, 5) - a) < 1e-6);
        assert_true(fabs(area_ring_m2(sq, 4) - a) < 1e-6);
    }
}

static void test_hemisphere(void **state)
{
    /* the equator, counter-clockwise: the northern hemisphere */
    double ring[] = {0, 0, 90, 0, 180, 0, -90, 0, 0, 0};
    double want = quad_area(0, 0, 360, 90);
    assert_true(fabs(area_ring_m2(ring, 5) - want) < 1e-9 * want);
}

static void test_degenerate(void **state)
{
    double pts[] = {118.41, 29.14, 118.42, 29.14, 118.43, 29.14, 118.41, 29.14};
    assert_true(area_ring_m2(pts, 0) == 0);
    assert_true(area_ring_m2(pts, 1) == 0);
    assert_true(area_ring_m2(pts, 2) == 0);
    /* a closed ring of two distinct points, and a collinear one */
    double two[] = {118.41, 29.14, 118.42, 29.14, 118.41, 29.14};
    assert_true(area_ring_m2(two, 3) == 0);
    double line[] = {118.41, 29.14, 118.41, 29.15, 118.41, 29.16, 118.41, 29.14};
    assert_true(area_ring_m2(line, 4) < 1e-6); /* along a meridian, a geodesic */
}

static void test_units(void **state)
{
    assert_true(fabs(area_mu(10000.0 / 15) - 1) < 1e-12);
    assert_true(fabs(area_mu(10000) - 15) < 1e-12);
    assert_true(fabs(area_ha(10000) - 1) < 1e-12);
    assert_true(fabs(area_mu(666.67) - 1.000005) < 1e-6);
    assert_true(fabs(area_ha(1e6) - 100) < 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equator_degree),
        cmocka_unit_test(test_qinyang_cells),
        cmocka_unit_test(test_orientation_and_closure),
        cmocka_unit_test(test_hemisphere),
        cmocka_unit_test(test_degenerate),
        cmocka_unit_test(test_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
