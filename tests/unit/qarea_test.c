/* qarea_test: query areas resolved to storage-CRS polygons — bboxes in
 * lon/lat, lat/lon, across the antimeridian and in Web Mercator, WKT and
 * GeoJSON polygons, another feature (within=) — with their envelopes and
 * geodesic areas checked against the closed form of a quadrangle on GRS80
 * computed here (a Web Mercator box is a quadrangle too: its corners are
 * carried back with the inverse projection written here), and every refusal
 * naming the parameter; and the test of a geometry against rectangles
 * without GEOS, against GEOS on random polygons. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tempdb.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "crs.h"
#include "feature.h"
#include "qarea.h"
#include "qarea_int.h"
#include "wkb.h"

#define GRS80_A 6378137.0
#define GRS80_F (1 / 298.257222101)
#define DEG (M_PI / 180)
#define REL 1e-6

static const char *SCHEMA =
    "{\"layers\":[{\"id\":\"grids\",\"key\":\"code\",\"fields\":["
    "{\"name\":\"code\",\"type\":\"string\",\"required\":true}]},"
    "{\"id\":\"plots\",\"key\":\"code\",\"fields\":["
    "{\"name\":\"code\",\"type\":\"string\",\"required\":true}]}]}";

struct fixture {
    char dir[64], path[128];
    ctx *c;
    store *s;
    struct layers *ls;
    long long grid_fid;
};

static double authalic_q(double phi)
{
    double e2 = GRS80_F * (2 - GRS80_F), e = sqrt(e2), s = sin(phi);
    return s / (1 - e2 * s * s) + log((1 + e * s) / (1 - e * s)) / (2 * e);
}

static double quad_area(double west, double south, double east, double north)
{
    double b = GRS80_A * (1 - GRS80_F);
    return b * b * (east - west) * DEG / 2 * (authalic_q(north * DEG) - authalic_q(south * DEG));
}

static void assert_rel(double got, double want)
{
    if (!(fabs(got - want) <= REL * fabs(want)))
        fail_msg("got %.6f, want %.6f (relative %.3g)", got, want, fabs(got - want) / want);
}

/* A grid G001 covering 118.0-118.02 E, 29.0-29.01 N, stored with feature.h. */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    const char *grid = "{\"type\":\"Feature\",\"properties\":{\"code\":\"G001\"},\"geometry\":"
                       "{\"type\":\"Polygon\",\"coordinates\":[[[118,29],[118.02,29],[118.02,29.01],"
                       "[118,29.01],[118,29]]]}}";
    struct feature_in in;
    struct limits lim;
    struct err e;
    json_t *j = json_loads(grid, 0, NULL);
    strcpy(f->dir, "/tmp/qarea_test_XXXXXX");
    if (!j || !mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    limits_default(&lim);
    if (!(f->c = ctx_new(&e)) || store_open(f->path, STORE_CREATE, &f->s, &e) ||
        store_init(f->s, SCHEMA, &e) || store_layers_get(f->s, &f->ls, &e) ||
        feature_parse(f->c, layers_find(f->ls, "grids"), j, CRS_CRS84, CRS_AXIS_XY, &lim, 0, &in,
                      &e) ||
        feature_insert(f->c, f->s, layers_find(f->ls, "grids"), &in, &f->grid_fid, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    feature_in_clear(f->c, &in);
    json_decref(j);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    layers_free(f->ls);
    store_close(f->s);
    ctx_free(f->c);
    tempdb_remove(f->path, f->dir);
    free(f);
    return 0;
}

static qarea *resolve(struct fixture *f, const struct qarea_spec *sp)
{
    qarea *a = NULL;
    struct err e;
    if (qarea_resolve(f->c, f->s, f->ls, sp, &a, &e))
        fail_msg("resolve: %s", e.msg);
    assert_non_null(a);
    return a;
}

static void expect_error(struct fixture *f, const struct qarea_spec *sp, int code, const char *msg)
{
    qarea *a = (qarea *)1;
    struct err e;
    err_clear(&e);
    int rc = qarea_resolve(f->c, f->s, f->ls, sp, &a, &e);
    if (rc != code || strcmp(e.msg, msg))
        fail_msg("got %d '%s', want %d '%s'", rc, e.msg, code, msg);
    assert_null(a);
}

static void assert_rect(const double r[4], double x0, double y0, double x1, double y1, double tol)
{
    if (!(fabs(r[0] - x0) <= tol && fabs(r[1] - y0) <= tol && fabs(r[2] - x1) <= tol &&
          fabs(r[3] - y1) <= tol))
        fail_msg("rect %.12g %.12g %.12g %.12g, want %.12g %.12g %.12g %.12g", r[0], r[1], r[2],
                 r[3], x0, y0, x1, y1);
}

static struct qarea_spec bbox_spec(double x0, double y0, double x1, double y1, int crs, int axis)
{
    struct qarea_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.kind = QAREA_BBOX;
    sp.bbox[0] = x0, sp.bbox[1] = y0, sp.bbox[2] = x1, sp.bbox[3] = y1;
    sp.crs = crs;
    sp.axis = axis;
    sp.param = "bbox";
    return sp;
}

static struct qarea_spec text_spec(enum qarea_kind kind, const char *text)
{
    struct qarea_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.kind = kind;
    sp.text = text;
    sp.text_len = strlen(text);
    sp.crs = CRS_CRS84;
    sp.axis = CRS_AXIS_XY;
    sp.param = "geometry";
    return sp;
}

/* ---- bboxes -------------------------------------------------------------- */

static void test_none(void **state)
{
    struct fixture *f = *state;
    struct qarea_spec sp;
    qarea *a = (qarea *)1;
    struct err e;
    memset(&sp, 0, sizeof sp);
    assert_int_equal(qarea_resolve(f->c, f->s, f->ls, &sp, &a, &e), 0);
    assert_null(a);
    qarea_free(f->c, NULL);
}

static void test_bbox_lonlat(void **state)
{
    struct fixture *f = *state;
    struct qarea_spec sp = bbox_spec(118.41, 29.13, 118.42, 29.14, CRS_CRS84, CRS_AXIS_XY);
    double rects[2][4];
    qarea *a = resolve(f, &sp);
    assert_int_equal(qarea_rects(a, rects), 1);
    assert_rect(rects[0], 118.41, 29.13, 118.42, 29.14, 0);
    assert_rel(qarea_area_m2(a), quad_area(118.41, 29.13, 118.42, 29.14));
    qarea_free(f->c, a);

    /* EPSG:4490 in its own axis order: latitude first */
    sp = bbox_spec(29.13, 118.41, 29.14, 118.42, CRS_4490, CRS_AXIS_AUTHORITY);
    a = resolve(f, &sp);
    assert_int_equal(qarea_rects(a, rects), 1);
    assert_rect(rects[0], 118.41, 29.13, 118.42, 29.14, 0);
    assert_rel(qarea_area_m2(a), quad_area(118.41, 29.13, 118.42, 29.14));
    qarea_free(f->c, a);

    /* a larger box far south: its rectangle exact; its area is that of the
     * corners joined by geodesics, which leave the parallels of a 2 degree
     * box by enough to differ from the quadrangle by 2e-5 */
    sp = bbox_spec(10, -40, 12, -38.5, CRS_CRS84, CRS_AXIS_XY);
    a = resolve(f, &sp);
    assert_int_equal(qarea_rects(a, rects), 1);
    assert_rect(rects[0], 10, -40, 12, -38.5, 0);
    {
        double want = quad_area(10, -40, 12, -38.5), got = qarea_area_m2(a);
        assert_true(fabs(got - want) < 1e-4 * want);
    }
    qarea_free(f->c, a);
}

static void test_bbox_antimeridian(void **state)
{
    struct fixture *f = *state;
    struct qarea_spec sp = bbox_spec(179.99, -16.01, -179.99, -16, CRS_CRS84, CRS_AXIS_XY);
    double rects[2][4];
    qarea *a = resolve(f, &sp);
    assert_int_equal(qarea_rects(a, rects), 2);
    assert_rect(rects[0], 179.99, -16.01, 180, -16, 0);
    assert_rect(rects[1], -180, -16.01, -179.99, -16, 0);
    assert_rel(qarea_area_m2(a), quad_area(179.99, -16.01, 180, -16) +
                                     quad_area(-180, -16.01, -179.99, -16));
    qarea_free(f->c, a);
}

/* Web Mercator (EPSG:3857) back to lon/lat on the sphere of radius a. */
static double merc_lon(double x)
{
    return x / GRS80_A / DEG;
}

static double merc_lat(double y)
{
    return (2 * atan(exp(y / GRS80_A)) - M_PI / 2) / DEG;
}

static void test_bbox_web_mercator(void **state)
{
    struct fixture *f = *state;
    const double x0 = 13181000, y0 = 3396000, x1 = 13183000, y1 = 3397500;
    struct qarea_spec sp = bbox_spec(x0, y0, x1, y1, CRS_3857, CRS_AXIS_XY);
    double rects[2][4];
    qarea *a = resolve(f, &sp);
    /* meridians and parallels in the projection: the box is a quadrangle */
    assert_int_equal(qarea_rects(a, rects), 1);
    assert_rect(rects[0], merc_lon(x0), merc_lat(y0), merc_lon(x1), merc_lat(y1), 1e-8);
    assert_rel(qarea_area_m2(a), quad_area(merc_lon(x0), merc_lat(y0), merc_lon(x1), merc_lat(y1)));
    qarea_free(f->c, a);
}

static void test_bbox_errors(void **state)
{
    struct fixture *f = *state;
    struct qarea_spec sp = bbox_spec(118, 30, 119, 29, CRS_CRS84, CRS_AXIS_XY);
    expect_error(f, &sp, ERR_PARAM, "bbox: the lower corner is north of the upper corner");
    /* as given lat first, the same box is fine; lon first it is north of itself */
    sp = bbox_spec(118, 29, 119, 30, CRS_4490, CRS_AXIS_AUTHORITY);
    sp.param = "bbox-crs";
    expect_error(f, &sp, ERR_PARAM,
                 "bbox-crs: coordinates out of range (longitude -180 to 180, latitude -90 to 90)");
    sp = bbox_spec(118, 29, 119, 95, CRS_CRS84, CRS_AXIS_XY);
    expect_error(f, &sp, ERR_PARAM,
                 "bbox: coordinates out of range (longitude -180 to 180, latitude -90 to 90)");
    sp = bbox_spec(-181, 29, 119, 30, CRS_CRS84, CRS_AXIS_XY);
    expect_error(f, &sp, ERR_PARAM,
                 "bbox: coordinates out of range (longitude -180 to 180, latitude -90 to 90)");
    sp = bbox_spec(13183000, 3396000, 13181000, 3397500, CRS_3857, CRS_AXIS_XY);
    expect_error(f, &sp, ERR_PARAM, "bbox: the lower corner is east of the upper corner");
    sp = bbox_spec(13181000, 3397500, 13183000, 3396000, CRS_3857, CRS_AXIS_XY);
    expect_error(f, &sp, ERR_PARAM, "bbox: the lower corner is north of the upper corner");
}

/* ---- geometries ---------------------------------------------------------- */

static void test_wkt(void **state)
{
    struct fixture *f = *state;
    struct qarea_spec sp = text_spec(
        QAREA_WKT, "POLYGON ((118 29, 118.01 29, 118.01 29.01, 118 29.01, 118 29),"
                   " (118.002 29.002, 118.002 29.004, 118.004 29.004, 118.004 29.002,"
                   " 118.002 29.002))  \n");
    double rects[2][4];
    qarea *a = resolve(f, &sp);
    assert_int_equal(qarea_rects(a, rects), 1);
    assert_rect(rects[0], 118, 29, 118.01, 29.01, 0);
    assert_rel(qarea_area_m2(a),
               quad_area(118, 29, 118.01, 29.01) - quad_area(118.002, 29.002, 118.004, 29.004));
    qarea_free(f->c, a);

    /* lat-first WKT in EPSG:4490's order */
    sp = text_spec(QAREA_WKT, "MULTIPOLYGON (((29 118, 29 118.01, 29.01 118.01, 29.01 118, "
                              "29 118)), ((29 118.02, 29 118.03, 29.02 118.03, 29.02 118.02, "
                              "29 118.02)))");
    sp.crs = CRS_4490;
    sp.axis = CRS_AXIS_AUTHORITY;
    a = resolve(f, &sp);
    assert_int_equal(qarea_rects(a, rects), 1);
    assert_rect(rects[0], 118, 29, 118.03, 29.02, 1e-12);
    assert_rel(qarea_area_m2(a),
               quad_area(118, 29, 118.01, 29.01) + quad_area(118.02, 29, 118.03, 29.02));
    qarea_free(f->c, a);
}

static void test_wkt_errors(void **state)
{
    struct fixture *f = *state;
    const char *trailing = "POLYGON ((118 29, 118.01 29, 118.01 29.01, 118 29)); DROP TABLE x";
    char want[128];
    struct qarea_spec sp = text_spec(QAREA_WKT, trailing);
    snprintf(want, sizeof want, "geometry: unexpected text after the geometry at character %zu",
             (size_t)(strchr(trailing, ';') - trailing) + 1);
    expect_error(f, &sp, ERR_PARAM, want);
    sp = text_spec(QAREA_WKT, "POLYGON ((118 29, 118.01 29)))");
    expect_error(f, &sp, ERR_PARAM, "geometry: unexpected text after the geometry at character 30");
    sp = text_spec(QAREA_WKT, "POLYGON ((118 29, 118.01 29, 118.01 29.01, 118 29)");
    expect_error(f, &sp, ERR_PARAM, "geometry: WKT ends before its ')'");
    sp = text_spec(QAREA_WKT, "POLYGON 1 2");
    expect_error(f, &sp, ERR_PARAM, "geometry: unexpected character at 9 of the WKT");
    sp = text_spec(QAREA_WKT, "POINT (118 29)");
    expect_error(f, &sp, ERR_PARAM, "geometry: expected a Polygon or MultiPolygon, not Point");
    {
        char deep[200] = "GEOMETRYCOLLECTION ";
        for (int i = 0; i < 65; i++)
            strcat(deep, "(");
        sp = text_spec(QAREA_WKT, deep);
        expect_error(f, &sp, ERR_PARAM, "geometry: WKT nested deeper than 64 levels");
    }
    /* GEOS's own complaint, under the parameter's name */
    {
        qarea *a = NULL;
        struct err e;
        sp = text_spec(QAREA_WKT, "POLYGON ((118 29, 118.01))");
        assert_int_equal(qarea_resolve(f->c, f->s, f->ls, &sp, &a, &e), ERR_PARAM);
        assert_int_equal(strncmp(e.msg, "geometry: ", 10), 0);
        assert_true(strlen(e.msg) > 10);
        assert_null(a);
    }
    /* the parameter's name is the caller's */
    sp = text_spec(QAREA_WKT, "LINESTRING (118 29, 119 30)");
    sp.param = "intersects";
    expect_error(f, &sp, ERR_PARAM, "intersects: expected a Polygon or MultiPolygon, not LineString");
}

static void test_geojson(void **state)
{
    struct fixture *f = *state;
    const char *bowtie = "{\"type\":\"Polygon\",\"coordinates\":[[[118,29],[118.01,29.01],"
                         "[118.01,29],[118,29.01],[118,29]]]}";
    struct qarea_spec sp = text_spec(
        QAREA_GEOJSON, "{\"type\":\"Polygon\",\"coordinates\":[[[118,29],[118.01,29],"
                       "[118.01,29.01],[118,29.01],[118,29]]]}");
    double rects[2][4];
    qarea *a = resolve(f, &sp);
    assert_int_equal(qarea_rects(a, rects), 1);
    assert_rect(rects[0], 118, 29, 118.01, 29.01, 0);
    assert_rel(qarea_area_m2(a), quad_area(118, 29, 118.01, 29.01));
    qarea_free(f->c, a);

    sp = text_spec(QAREA_GEOJSON, bowtie);
    expect_error(f, &sp, ERR_PARAM, "geometry: Self-intersection at 118.005 29.005");
    /* repaired: two triangles, half the box */
    sp.make_valid = 1;
    a = resolve(f, &sp);
    assert_rel(qarea_area_m2(a), quad_area(118, 29, 118.01, 29.01) / 2);
    qarea_free(f->c, a);

    sp = text_spec(QAREA_GEOJSON, "{\"type\":\"Point\",\"coordinates\":[118,29]}");
    expect_error(f, &sp, ERR_PARAM, "geometry: expected a Polygon or MultiPolygon, not Point");
    sp = text_spec(QAREA_GEOJSON, "{\"type\":\"Polygon\",\"coordinates\":[[[118,29],[118.01,29],"
                                  "[118.01,95],[118,29]]]}");
    expect_error(f, &sp, ERR_PARAM,
                 "geometry: coordinates out of range: latitude 95 (expected -90 to 90)");
    {
        qarea *b = NULL;
        struct err e;
        sp = text_spec(QAREA_GEOJSON, "{\"type\":\"Polygon\",");
        assert_int_equal(qarea_resolve(f->c, f->s, f->ls, &sp, &b, &e), ERR_PARAM);
        assert_int_equal(strncmp(e.msg, "geometry: ", 10), 0);
        assert_null(b);
        sp = text_spec(QAREA_GEOJSON, "{\"type\":\"Polygon\",\"coordinates\":[[[118,29],[118.01,29],"
                                      "[118.01,29.01],[118,29.02]]]}");
        assert_int_equal(qarea_resolve(f->c, f->s, f->ls, &sp, &b, &e), ERR_PARAM);
        assert_int_equal(strncmp(e.msg, "geometry: coordinates[0]", 24), 0);
        assert_non_null(strstr(e.msg, "ring is not closed"));
    }
}

/* ---- within -------------------------------------------------------------- */

static void test_within(void **state)
{
    struct fixture *f = *state;
    struct qarea_spec sp;
    double rects[2][4];
    char by_id[32];
    qarea *a;
    memset(&sp, 0, sizeof sp);
    sp.kind = QAREA_WITHIN;
    sp.param = "within";
    snprintf(by_id, sizeof by_id, "grids/%lld", f->grid_fid);
    sp.within = by_id;
    a = resolve(f, &sp);
    assert_int_equal(qarea_rects(a, rects), 1);
    assert_rect(rects[0], 118, 29, 118.02, 29.01, 1e-12);
    assert_rel(qarea_area_m2(a), quad_area(118, 29, 118.02, 29.01));
    qarea_free(f->c, a);
    /* by key */
    sp.within = "grids/G001";
    a = resolve(f, &sp);
    assert_rel(qarea_area_m2(a), quad_area(118, 29, 118.02, 29.01));
    qarea_free(f->c, a);

    sp.within = "grids";
    expect_error(f, &sp, ERR_PARAM, "within: expected collection/id, e.g. grids/42");
    sp.within = "/1";
    expect_error(f, &sp, ERR_PARAM, "within: expected collection/id, e.g. grids/42");
    sp.within = "grids/";
    expect_error(f, &sp, ERR_PARAM, "within: expected collection/id, e.g. grids/42");
    sp.within = "roads/1";
    expect_error(f, &sp, ERR_NOT_FOUND, "within: collection 'roads' does not exist");
    sp.within = "grids/999";
    expect_error(f, &sp, ERR_NOT_FOUND, "within: grids has no feature with id or code '999'");
    sp.within = "grids/G002";
    expect_error(f, &sp, ERR_NOT_FOUND, "within: grids has no feature with id or code 'G002'");
    sp.within = "plots/1";
    expect_error(f, &sp, ERR_NOT_FOUND, "within: plots has no feature with id or code '1'");
}

/* ---- candidates against rectangles, without GEOS ------------------------- */

static uint64_t rnd_state = 20261204;

static double rnd01(void)
{
    rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rnd_state >> 11) / 9007199254740992.0;
}

/* A star-shaped ring of n vertices around (cx, cy), radii up to r, as WKT;
 * every fourth vertex or so moved onto the nearest line of the box b when
 * snap, so that some lie exactly on its edges. */
static void put_ring(struct buf *w, double cx, double cy, double r, int n, int snap,
                     const double b[4], int reverse)
{
    double first[2] = {0, 0};
    buf_putc(w, '(');
    for (int i = 0; i < n; i++) {
        double t = 2 * M_PI * (reverse ? n - i : i) / n, q = r * (0.3 + 0.7 * rnd01());
        double x = cx + q * cos(t), y = cy + q * sin(t);
        if (snap && rnd01() < 0.25) {
            if (rnd01() < 0.5)
                x = fabs(x - b[0]) < fabs(x - b[2]) ? b[0] : b[2];
            else
                y = fabs(y - b[1]) < fabs(y - b[3]) ? b[1] : b[3];
        }
        if (!i)
            first[0] = x, first[1] = y;
        buf_printf(w, "%.17g %.17g, ", x, y);
    }
    buf_printf(w, "%.17g %.17g)", first[0], first[1]);
}

static GEOSGeometry *rects_geom(ctx *c, const double rects[][4], int n)
{
    struct buf w;
    GEOSGeometry *g;
    GEOSWKTReader *rd = GEOSWKTReader_create_r(c->geos);
    buf_init(&w);
    buf_puts(&w, "MULTIPOLYGON (");
    for (int i = 0; i < n; i++) {
        const double *r = rects[i];
        buf_printf(&w, "%s((%.17g %.17g, %.17g %.17g, %.17g %.17g, %.17g %.17g, %.17g %.17g))",
                   i ? ", " : "", r[0], r[1], r[2], r[1], r[2], r[3], r[0], r[3], r[0], r[1]);
    }
    buf_putc(&w, ')');
    g = GEOSWKTReader_read_r(c->geos, rd, w.data);
    GEOSWKTReader_destroy_r(c->geos, rd);
    buf_clear(&w);
    return g;
}

static void check_decide(struct fixture *f, const struct qarea_spec *sp, int *seen)
{
    ctx *c = f->c;
    double rects[2][4];
    qarea *a = resolve(f, sp);
    int n = qarea_rects(a, rects);
    GEOSGeometry *truth = rects_geom(c, rects, n);
    GEOSWKTReader *rd = GEOSWKTReader_create_r(c->geos);
    GEOSWKBWriter *wr = GEOSWKBWriter_create_r(c->geos);
    assert_non_null(truth);
    for (int k = 0; k < 3000; k++) {
        const double *b = rects[k % n];
        double w = b[2] - b[0], h = b[3] - b[1], size = rnd01() < 0.1 ? 4 : 0.6 * rnd01();
        double cx = b[0] - w + 3 * w * rnd01(), cy = b[1] - h + 3 * h * rnd01(), m[4];
        int snap = rnd01() < 0.3, want, got, any;
        struct buf t;
        unsigned char *wkb;
        size_t len;
        GEOSGeometry *g;
        buf_init(&t);
        buf_puts(&t, "POLYGON (");
        put_ring(&t, cx, cy, size * w, 3 + (int)(rnd01() * 10), snap, b, 0);
        if (rnd01() < 0.3) { /* a hole */
            buf_puts(&t, ", ");
            put_ring(&t, cx, cy, size * w * 0.25, 3 + (int)(rnd01() * 5), 0, b, 1);
        }
        buf_putc(&t, ')');
        g = GEOSWKTReader_read_r(c->geos, rd, t.data);
        assert_non_null(g);
        if (GEOSisValid_r(c->geos, g) != 1) { /* stored geometries are valid */
            GEOSGeom_destroy_r(c->geos, g);
            buf_clear(&t);
            continue;
        }
        wkb = GEOSWKBWriter_write_r(c->geos, wr, g, &len);
        assert_non_null(wkb);
        assert_true(GEOSGeom_getXMin_r(c->geos, g, &m[0]) &&
                    GEOSGeom_getYMin_r(c->geos, g, &m[1]) &&
                    GEOSGeom_getXMax_r(c->geos, g, &m[2]) && GEOSGeom_getYMax_r(c->geos, g, &m[3]));
        want = GEOSIntersects_r(c->geos, truth, g);
        got = qarea_rects_decide(a, wkb, len, m);
        if (got >= 0 && got != want)
            fail_msg("%s: %d without GEOS, GEOS says %d", t.data, got, want);
        seen[got + 1]++;
        /* a box with a vertex of g at its corner holds it */
        {
            double v[2], box[4];
            const GEOSGeometry *ring = GEOSGetExteriorRing_r(c->geos, g);
            const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(c->geos, ring);
            assert_true(GEOSCoordSeq_getXY_r(c->geos, cs, 1, &v[0], &v[1]));
            box[0] = v[0], box[1] = v[1], box[2] = v[0] + w, box[3] = v[1] + h;
            if (k & 1)
                box[0] = v[0] - w, box[1] = v[1] - h, box[2] = v[0], box[3] = v[1];
            any = wkb_any_in(wkb, len, box);
            assert_int_equal(any, 1);
            /* and the truncated WKB is refused */
            assert_int_equal(wkb_any_in(wkb, len - 1, (double[4]){1, 1, 0, 0}), -1);
        }
        GEOSFree_r(c->geos, wkb);
        GEOSGeom_destroy_r(c->geos, g);
        buf_clear(&t);
    }
    GEOSWKBWriter_destroy_r(c->geos, wr);
    GEOSWKTReader_destroy_r(c->geos, rd);
    GEOSGeom_destroy_r(c->geos, truth);
    qarea_free(c, a);
}

static void test_rects_decide(void **state)
{
    struct fixture *f = *state;
    int seen[3] = {0, 0, 0}; /* left to GEOS, no, yes */
    struct qarea_spec sp = bbox_spec(118.41, 29.13, 118.42, 29.14, CRS_CRS84, CRS_AXIS_XY);
    check_decide(f, &sp, seen);
    sp = bbox_spec(179.5, -10, -179.5, -9, CRS_CRS84, CRS_AXIS_XY); /* two rectangles */
    check_decide(f, &sp, seen);
    /* each outcome often: polygons wholly apart, with a vertex in, and
     * crossing (or holding) the box with none */
    assert_true(seen[0] > 200 && seen[1] > 200 && seen[2] > 200);
    {
        /* not a rectangle: always GEOS's */
        struct qarea_spec t =
            text_spec(QAREA_WKT, "POLYGON ((118 29, 118.1 29, 118 29.1, 118 29))");
        qarea *a = resolve(f, &t);
        unsigned char pt[21] = {1, 1, 0, 0, 0};
        double xy[2] = {118.01, 29.01}, m[4] = {118.01, 29.01, 118.01, 29.01};
        memcpy(pt + 5, xy, 16);
        assert_int_equal(qarea_rects_decide(a, pt, sizeof pt, m), -1);
        qarea_free(f->c, a);
    }
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_none),
        T(test_bbox_lonlat),
        T(test_bbox_antimeridian),
        T(test_bbox_web_mercator),
        T(test_bbox_errors),
        T(test_wkt),
        T(test_wkt_errors),
        T(test_geojson),
        T(test_within),
        T(test_rects_decide),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
