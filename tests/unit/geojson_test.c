/* geojson_test: GeoJSON geometries into GEOS and back out. Round trips of
 * every type, error text naming the JSON path of the fault, the geojsonhint
 * corpus, winding order on output, precision and the position limit; the
 * fast path from text against jansson and geojson_geom_parse.
 * The GEOS handle is made here directly: the test needs no PROJ context. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "geojson.h"
#include "wkb.h"

static struct ctx C;

static int setup(void **state)
{
    memset(&C, 0, sizeof C);
    C.geos = GEOS_init_r();
    C.crs = NULL;
    return C.geos ? 0 : -1;
}

static int teardown(void **state)
{
    GEOS_finish_r(C.geos);
    return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static json_t *load(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &je);
    if (!j)
        fail_msg("test JSON does not parse: %s: %s", je.text, text);
    return j;
}

static int parse(const char *text, size_t max, GEOSGeometry **g, struct err *e)
{
    json_t *j = load(text);
    int rc;
    err_clear(e);
    rc = geojson_geom_parse(&C, j, max, g, e);
    json_decref(j);
    return rc;
}

static GEOSGeometry *parse_ok(const char *text)
{
    GEOSGeometry *g = NULL;
    struct err e;
    if (parse(text, 0, &g, &e) != 0)
        fail_msg("%s: %s", text, e.msg);
    assert_non_null(g);
    return g;
}

static char *write_geom(const GEOSGeometry *g, int prec)
{
    struct buf b;
    buf_init(&b);
    geojson_geom_write(&C, g, prec, &b);
    assert_false(b.oom);
    return buf_steal(&b);
}

static GEOSGeometry *from_wkt(const char *wkt)
{
    GEOSWKTReader *r = GEOSWKTReader_create_r(C.geos);
    GEOSGeometry *g = GEOSWKTReader_read_r(C.geos, r, wkt);
    GEOSWKTReader_destroy_r(C.geos, r);
    if (!g)
        fail_msg("bad test WKT: %s", wkt);
    return g;
}

/* Same structure and coordinates within tol, whatever the ring orientation. */
static int same_geom(const GEOSGeometry *a, const GEOSGeometry *b, double tol)
{
    GEOSGeometry *na = GEOSGeom_clone_r(C.geos, a), *nb = GEOSGeom_clone_r(C.geos, b);
    int eq;
    GEOSNormalize_r(C.geos, na);
    GEOSNormalize_r(C.geos, nb);
    eq = GEOSEqualsExact_r(C.geos, na, nb, tol) == 1;
    GEOSGeom_destroy_r(C.geos, na);
    GEOSGeom_destroy_r(C.geos, nb);
    return eq;
}

/* in parses, is written as want, and want reads back to the same geometry
 * and the same text. */
static void check_roundtrip(const char *in, const char *want)
{
    GEOSGeometry *g = parse_ok(in), *g2;
    char *out = write_geom(g, 9), *out2;
    assert_string_equal(out, want);
    g2 = parse_ok(out);
    out2 = write_geom(g2, 9);
    assert_string_equal(out2, out);
    assert_true(same_geom(g, g2, 0));
    free(out);
    free(out2);
    GEOSGeom_destroy_r(C.geos, g);
    GEOSGeom_destroy_r(C.geos, g2);
}

static void check_error(const char *in, int code, const char *msg)
{
    GEOSGeometry *g = (GEOSGeometry *)1;
    struct err e;
    int rc = parse(in, 0, &g, &e);
    if (rc == 0)
        fail_msg("accepted: %s", in);
    assert_int_equal(rc, code);
    assert_int_equal(e.code, code);
    assert_null(g);
    if (strcmp(e.msg, msg) != 0)
        fail_msg("%s\n  got:  %s\n  want: %s", in, e.msg, msg);
}

static void check_wkt_write(const char *wkt, int prec, const char *want)
{
    GEOSGeometry *g = from_wkt(wkt);
    char *out = write_geom(g, prec);
    if (strcmp(out, want) != 0)
        fail_msg("%s\n  got:  %s\n  want: %s", wkt, out, want);
    free(out);
    GEOSGeom_destroy_r(C.geos, g);
}

/* ---- round trips -------------------------------------------------------- */

static void test_roundtrip_types(void **state)
{
    check_roundtrip("{\"type\": \"Point\", \"coordinates\": [118.4, 29.1]}",
                    "{\"type\":\"Point\",\"coordinates\":[118.4,29.1]}");
    check_roundtrip("{\"type\": \"Point\", \"coordinates\": [118.4, 29.1, 55.5]}",
                    "{\"type\":\"Point\",\"coordinates\":[118.4,29.1]}");
    check_roundtrip("{\"type\": \"Point\", \"coordinates\": [-1, 0]}",
                    "{\"type\":\"Point\",\"coordinates\":[-1,0]}");
    check_roundtrip("{\"type\": \"MultiPoint\", \"coordinates\": [[1, 2], [3.25, -4.5, 9]]}",
                    "{\"type\":\"MultiPoint\",\"coordinates\":[[1,2],[3.25,-4.5]]}");
    check_roundtrip("{\"type\": \"LineString\", \"coordinates\": [[100.0, 0.0], [101.0, 1.0]]}",
                    "{\"type\":\"LineString\",\"coordinates\":[[100,0],[101,1]]}");
    check_roundtrip("{\"type\": \"MultiLineString\", \"coordinates\": "
                    "[[[100, 0], [101, 1]], [[102, 2], [103, 3], [104, 2]]]}",
                    "{\"type\":\"MultiLineString\",\"coordinates\":"
                    "[[[100,0],[101,1]],[[102,2],[103,3],[104,2]]]}");
    check_roundtrip("{\"type\": \"Polygon\", \"coordinates\": ["
                    "[[100, 0], [101, 0], [101, 1], [100, 1], [100, 0]],"
                    "[[100.2, 0.2], [100.2, 0.8], [100.8, 0.8], [100.8, 0.2], [100.2, 0.2]]]}",
                    "{\"type\":\"Polygon\",\"coordinates\":["
                    "[[100,0],[101,0],[101,1],[100,1],[100,0]],"
                    "[[100.2,0.2],[100.2,0.8],[100.8,0.8],[100.8,0.2],[100.2,0.2]]]}");
    check_roundtrip("{\"type\": \"MultiPolygon\", \"coordinates\": ["
                    "[[[102, 2], [103, 2], [103, 3], [102, 3], [102, 2]]],"
                    "[[[100, 0], [101, 0], [101, 1], [100, 1], [100, 0]],"
                    " [[100.2, 0.2], [100.2, 0.8], [100.8, 0.8], [100.8, 0.2], [100.2, 0.2]]]]}",
                    "{\"type\":\"MultiPolygon\",\"coordinates\":["
                    "[[[102,2],[103,2],[103,3],[102,3],[102,2]]],"
                    "[[[100,0],[101,0],[101,1],[100,1],[100,0]],"
                    "[[100.2,0.2],[100.2,0.8],[100.8,0.8],[100.8,0.2],[100.2,0.2]]]]}");
    check_roundtrip("{\"type\": \"GeometryCollection\", \"geometries\": ["
                    "{\"type\": \"Point\", \"coordinates\": [1, 2]},"
                    "{\"type\": \"GeometryCollection\", \"geometries\": ["
                    " {\"type\": \"LineString\", \"coordinates\": [[0, 0], [1, 1]]},"
                    " {\"type\": \"Polygon\", \"coordinates\": [[[0,0],[1,0],[1,1],[0,0]]]}]}]}",
                    "{\"type\":\"GeometryCollection\",\"geometries\":["
                    "{\"type\":\"Point\",\"coordinates\":[1,2]},"
                    "{\"type\":\"GeometryCollection\",\"geometries\":["
                    "{\"type\":\"LineString\",\"coordinates\":[[0,0],[1,1]]},"
                    "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}]}]}");
}

/* Foreign members are ignored, a good bbox is accepted (and not written). */
static void test_roundtrip_members(void **state)
{
    check_roundtrip("{\"custom\": {\"a\": [1]}, \"bbox\": [0, 0, 1, 1], \"type\": \"LineString\","
                    " \"coordinates\": [[0, 0], [1, 1]], \"id\": 7}",
                    "{\"type\":\"LineString\",\"coordinates\":[[0,0],[1,1]]}");
    check_roundtrip("{\"type\": \"Point\", \"coordinates\": [0, 0], \"bbox\": [0, 0, 0, 0, 0, 0]}",
                    "{\"type\":\"Point\",\"coordinates\":[0,0]}");
}

/* Empty coordinates are empty geometries of the named type. */
static void test_roundtrip_empty(void **state)
{
    static const char *const names[] = {"Point",           "MultiPoint", "LineString",
                                        "MultiLineString", "Polygon",    "MultiPolygon"};
    char in[128], want[128];
    GEOSGeometry *g;
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(in, sizeof in, "{\"type\": \"%s\", \"coordinates\": []}", names[i]);
        snprintf(want, sizeof want, "{\"type\":\"%s\",\"coordinates\":[]}", names[i]);
        g = parse_ok(in);
        assert_int_equal(GEOSisEmpty_r(C.geos, g), 1);
        GEOSGeom_destroy_r(C.geos, g);
        check_roundtrip(in, want);
    }
    check_roundtrip("{\"type\": \"GeometryCollection\", \"geometries\": []}",
                    "{\"type\":\"GeometryCollection\",\"geometries\":[]}");
}

/* Geometries that GEOS makes and JSON never would. */
static void test_write_from_geos(void **state)
{
    check_wkt_write("POINT EMPTY", 9, "{\"type\":\"Point\",\"coordinates\":[]}");
    check_wkt_write("POLYGON EMPTY", 9, "{\"type\":\"Polygon\",\"coordinates\":[]}");
    check_wkt_write("POINT Z (1 2 3)", 9, "{\"type\":\"Point\",\"coordinates\":[1,2]}");
    check_wkt_write("LINEARRING (0 0, 1 0, 1 1, 0 0)", 9,
                    "{\"type\":\"LineString\",\"coordinates\":[[0,0],[1,0],[1,1],[0,0]]}");
    check_wkt_write("MULTIPOLYGON (EMPTY, ((0 0, 1 0, 1 1, 0 0)))", 9,
                    "{\"type\":\"MultiPolygon\",\"coordinates\":[[[[0,0],[1,0],[1,1],[0,0]]]]}");
    check_wkt_write("GEOMETRYCOLLECTION (POINT EMPTY, LINESTRING (0 0, 1 1))", 9,
                    "{\"type\":\"GeometryCollection\",\"geometries\":["
                    "{\"type\":\"Point\",\"coordinates\":[]},"
                    "{\"type\":\"LineString\",\"coordinates\":[[0,0],[1,1]]}]}");
}

/* ---- winding ------------------------------------------------------------ */

static int ring_ccw(const GEOSGeometry *ring)
{
    char ccw = 0;
    assert_int_equal(GEOSCoordSeq_isCCW_r(C.geos, GEOSGeom_getCoordSeq_r(C.geos, ring), &ccw), 1);
    return ccw;
}

/* Exterior rings counter-clockwise, holes clockwise, at any depth of g. */
static void assert_rhr(const GEOSGeometry *g)
{
    int i, n;
    if (GEOSGeomTypeId_r(C.geos, g) == GEOS_POLYGON) {
        assert_true(ring_ccw(GEOSGetExteriorRing_r(C.geos, g)));
        n = GEOSGetNumInteriorRings_r(C.geos, g);
        for (i = 0; i < n; i++)
            assert_false(ring_ccw(GEOSGetInteriorRingN_r(C.geos, g, i)));
        return;
    }
    if (GEOSGeomTypeId_r(C.geos, g) < GEOS_MULTIPOINT)
        return;
    n = GEOSGetNumGeometries_r(C.geos, g);
    for (i = 0; i < n; i++)
        assert_rhr(GEOSGetGeometryN_r(C.geos, g, i));
}

static void check_winding(const char *in, const char *want)
{
    GEOSGeometry *g = parse_ok(in), *g2;
    char *out = write_geom(g, 9);
    if (want)
        assert_string_equal(out, want);
    g2 = parse_ok(out);
    assert_rhr(g2);
    assert_true(same_geom(g, g2, 0));
    free(out);
    GEOSGeom_destroy_r(C.geos, g);
    GEOSGeom_destroy_r(C.geos, g2);
}

static void test_winding(void **state)
{
    GEOSGeometry *g;
    /* a clockwise shell is read as it is ... */
    g = parse_ok(
        "{\"type\":\"Polygon\",\"coordinates\":[[[100,0],[100,1],[101,1],[101,0],[100,0]]]}");
    assert_false(ring_ccw(GEOSGetExteriorRing_r(C.geos, g)));
    GEOSGeom_destroy_r(C.geos, g);
    /* ... and written counter-clockwise */
    check_winding(
        "{\"type\":\"Polygon\",\"coordinates\":[[[100,0],[100,1],[101,1],[101,0],[100,0]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[100,0],[101,0],[101,1],[100,1],[100,0]]]}");
    /* counter-clockwise hole turned clockwise, shell kept */
    check_winding("{\"type\":\"Polygon\",\"coordinates\":["
                  "[[100,0],[101,0],[101,1],[100,1],[100,0]],"
                  "[[100.2,0.2],[100.8,0.2],[100.8,0.8],[100.2,0.8],[100.2,0.2]]]}",
                  "{\"type\":\"Polygon\",\"coordinates\":["
                  "[[100,0],[101,0],[101,1],[100,1],[100,0]],"
                  "[[100.2,0.2],[100.2,0.8],[100.8,0.8],[100.8,0.2],[100.2,0.2]]]}");
    /* both wrong, inside a MultiPolygon and a collection, with large ordinates */
    check_winding("{\"type\":\"GeometryCollection\",\"geometries\":[{\"type\":\"MultiPolygon\","
                  "\"coordinates\":[[[[39500000,3300000],[39500000,3300100],[39500100,3300100],"
                  "[39500100,3300000],[39500000,3300000]],[[39500010,3300010],[39500090,3300010],"
                  "[39500090,3300090],[39500010,3300010]]],"
                  "[[[0,0],[0,1],[1,1],[1,0],[0,0]]]]}]}",
                  NULL);
    /* from GEOS: a clockwise WKT shell */
    check_wkt_write("POLYGON ((0 0, 0 1, 1 1, 1 0, 0 0), (0.2 0.2, 0.8 0.2, 0.8 0.8, 0.2 0.2))", 9,
                    "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1],[0,0]],"
                    "[[0.2,0.2],[0.8,0.8],[0.8,0.2],[0.2,0.2]]]}");
}

/* Swapped axes (lat, lon): rings are wound clockwise in that frame so that
 * swapping back gives the counter-clockwise lon/lat ring, vertex for vertex. */
static void test_winding_mirrored(void **state)
{
    struct buf b;
    GEOSGeometry *g = from_wkt("POLYGON ((29 118, 29 119, 30 119, 30 118, 29 118), "
                               "(29.2 118.2, 29.8 118.2, 29.8 118.8, 29.2 118.2))");
    buf_init(&b);
    geojson_geom_write_mirrored(&C, g, 9, 1, &b);
    assert_string_equal(b.data, "{\"type\":\"Polygon\",\"coordinates\":["
                                "[[29,118],[29,119],[30,119],[30,118],[29,118]],"
                                "[[29.2,118.2],[29.8,118.2],[29.8,118.8],[29.2,118.2]]]}");
    buf_reset(&b);
    geojson_geom_write_mirrored(&C, g, 9, 0, &b);
    assert_string_equal(b.data, "{\"type\":\"Polygon\",\"coordinates\":["
                                "[[29,118],[30,118],[30,119],[29,119],[29,118]],"
                                "[[29.2,118.2],[29.8,118.8],[29.8,118.2],[29.2,118.2]]]}");
    buf_clear(&b);
    GEOSGeom_destroy_r(C.geos, g);
}

/* ---- precision ---------------------------------------------------------- */

static void test_precision(void **state)
{
    check_wkt_write("POINT (118.123456789123 29.987654321987)", 9,
                    "{\"type\":\"Point\",\"coordinates\":[118.123456789,29.987654322]}");
    check_wkt_write("POINT (118.123456789123 29.987654321987)", 4,
                    "{\"type\":\"Point\",\"coordinates\":[118.1235,29.9877]}");
    check_wkt_write("POINT (500000.123456 3300000.99999)", 4,
                    "{\"type\":\"Point\",\"coordinates\":[500000.1235,3300001]}");
    check_wkt_write("POINT (0.0000000001 -0.0000000001)", 9,
                    "{\"type\":\"Point\",\"coordinates\":[0,0]}");
    check_wkt_write("POINT (-0.00005 120.10000)", 4,
                    "{\"type\":\"Point\",\"coordinates\":[-0.0001,120.1]}");
    /* exact binary ties round to even, as printf does */
    check_wkt_write("MULTIPOINT ((0.5 1.5), (2.5 -2.5))", 0,
                    "{\"type\":\"MultiPoint\",\"coordinates\":[[0,2],[2,-2]]}");
    check_wkt_write("POINT (0.0009765625 -0.0009765625)", 9,
                    "{\"type\":\"Point\",\"coordinates\":[0.000976562,-0.000976562]}");
    /* beyond the integer fast path */
    check_wkt_write("POINT (123456789012.5 1e15)", 9,
                    "{\"type\":\"Point\",\"coordinates\":[123456789012.5,1000000000000000]}");
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static double rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static double sample(int i)
{
    char tmp[64];
    switch (i % 8) {
    case 0:
        return 73 + rnd() * 62;
    case 1:
        return (double)(int64_t)(rnd() * 2e6 - 1e6) / 1024; /* binary ties */
    case 2:                                                 /* decimal near-ties */
        snprintf(tmp, sizeof tmp, "%.9f5", rnd() * 180 - 90);
        return strtod(tmp, NULL);
    case 3:
        return -rnd() * 1e-9;
    case 4:
        return rnd() * 4e7;
    case 5:
        return (double)(int64_t)(rnd() * 1e6 - 5e5);
    case 6:
        return rnd() * 1e-12;
    default:
        return rnd() * 1e15;
    }
}

/* The writer prints every number exactly as buf_put_num does (which is
 * printf's digits: buf_test). */
static void test_numbers_match_buf_put_num(void **state)
{
    enum { N = 1000 };
    static const int precs[] = {0, 1, 3, 4, 6, 8, 9, 12, 15, 17};
    double xy[2 * N];
    struct buf want;
    size_t p, i, round;
    buf_init(&want);
    for (round = 0; round < 40; round++) {
        for (p = 0; p < sizeof precs / sizeof precs[0]; p++) {
            GEOSCoordSequence *s;
            GEOSGeometry *g;
            char *out;
            for (i = 0; i < 2 * N; i++)
                xy[i] = sample((int)(i + round));
            s = GEOSCoordSeq_copyFromBuffer_r(C.geos, xy, N, 0, 0);
            g = GEOSGeom_createLineString_r(C.geos, s);
            buf_reset(&want);
            buf_puts(&want, "{\"type\":\"LineString\",\"coordinates\":[");
            for (i = 0; i < N; i++) {
                buf_puts(&want, i ? ",[" : "[");
                buf_put_num(&want, xy[2 * i], precs[p]);
                buf_putc(&want, ',');
                buf_put_num(&want, xy[2 * i + 1], precs[p]);
                buf_putc(&want, ']');
            }
            buf_puts(&want, "]}");
            out = write_geom(g, precs[p]);
            assert_string_equal(out, want.data);
            free(out);
            GEOSGeom_destroy_r(C.geos, g);
        }
    }
    buf_clear(&want);
}

/* Degrees written with 9 decimals read back within 1e-9. */
static void test_roundtrip_1e9(void **state)
{
    enum { N = 20000 };
    double *xy = malloc(2 * N * sizeof *xy), *back = malloc(2 * N * sizeof *back);
    GEOSGeometry *g, *g2;
    char *out;
    size_t i;
    assert_non_null(xy);
    assert_non_null(back);
    for (i = 0; i < N; i++) {
        xy[2 * i] = 73 + rnd() * 62;
        xy[2 * i + 1] = 18 + rnd() * 36;
    }
    g = GEOSGeom_createLineString_r(C.geos, GEOSCoordSeq_copyFromBuffer_r(C.geos, xy, N, 0, 0));
    out = write_geom(g, 9);
    g2 = parse_ok(out);
    assert_int_equal(
        GEOSCoordSeq_copyToBuffer_r(C.geos, GEOSGeom_getCoordSeq_r(C.geos, g2), back, 0, 0), 1);
    for (i = 0; i < 2 * N; i++)
        if (fabs(back[i] - xy[i]) > 0.5e-9 + 1e-12)
            fail_msg("ordinate %zu: %.17g came back as %.17g", i, xy[i], back[i]);
    free(out);
    free(xy);
    free(back);
    GEOSGeom_destroy_r(C.geos, g);
    GEOSGeom_destroy_r(C.geos, g2);
}

/* ---- errors ------------------------------------------------------------- */

static void test_errors_type(void **state)
{
    check_error("{\"coordinates\": [1, 2]}", ERR_INVALID, "type: missing");
    check_error("{\"type\": 5, \"coordinates\": [1, 2]}", ERR_INVALID,
                "type: expected a string, got a number");
    check_error("{\"type\": \"Polygn\", \"coordinates\": []}", ERR_INVALID,
                "type: unknown geometry type 'Polygn'");
    check_error("{\"type\": \"polygon\", \"coordinates\": []}", ERR_INVALID,
                "type: unknown geometry type 'polygon' (names are case-sensitive: 'Polygon')");
    check_error("{\"type\": \"Feature\", \"geometry\": null}", ERR_INVALID,
                "type: expected a geometry type, got 'Feature'");
    check_error("[1, 2]", ERR_INVALID, "expected a geometry object, got an array");
    check_error("null", ERR_INVALID, "expected a geometry object, got null");
    check_error("{\"type\": \"Point\", \"coordinates\": [0, 0], \"properties\": {}}", ERR_INVALID,
                "properties: not allowed in a geometry object (RFC 7946 section 7.1)");
    check_error("{\"type\": \"Point\", \"coordinates\": [0, 0], \"bbox\": [0, 0, 1]}", ERR_INVALID,
                "bbox: expected an array of 4 or 6 numbers");
    check_error("{\"type\": \"Point\", \"coordinates\": [0, 0], \"bbox\": [0, 0, 1, \"1\"]}",
                ERR_INVALID, "bbox[3]: expected a number, got a string");
}

static void test_errors_positions(void **state)
{
    check_error("{\"type\": \"Point\"}", ERR_INVALID, "coordinates: missing");
    check_error("{\"type\": \"Point\", \"coordinates\": \"1,2\"}", ERR_INVALID,
                "coordinates: expected an array, got a string");
    check_error("{\"type\": \"Point\", \"coordinates\": [1]}", ERR_INVALID,
                "coordinates: expected an array of 2 or 3 numbers, got 1 element");
    check_error("{\"type\": \"Point\", \"coordinates\": [1, 2, 3, 4]}", ERR_INVALID,
                "coordinates: expected an array of 2 or 3 numbers, got 4 elements");
    check_error("{\"type\": \"Point\", \"coordinates\": [1, \"2\"]}", ERR_INVALID,
                "coordinates[1]: expected a number, got a string");
    check_error("{\"type\": \"Point\", \"coordinates\": [1, 2, null]}", ERR_INVALID,
                "coordinates[2]: expected a number, got null");
    check_error("{\"type\": \"Point\", \"coordinates\": [1e10, 2]}", ERR_INVALID,
                "coordinates[0]: number out of range (magnitude above 1e9)");
    check_error("{\"type\": \"Point\", \"coordinates\": [1, -9007199254740993]}", ERR_INVALID,
                "coordinates[1]: number out of range (magnitude above 1e9)");
    check_error("{\"type\": \"MultiPoint\", \"coordinates\": [[0, 0], []]}", ERR_INVALID,
                "coordinates[1]: expected an array of 2 or 3 numbers, got an empty array");
    check_error("{\"type\": \"MultiPoint\", \"coordinates\": [[0, 0], [[0, 0], [1, 1]]]}",
                ERR_INVALID, "coordinates[1][0]: expected a number, got an array");
    check_error("{\"type\": \"LineString\", \"coordinates\": [[1, 2]]}", ERR_INVALID,
                "coordinates: a LineString needs at least 2 positions, got 1");
    check_error("{\"type\": \"LineString\", \"coordinates\": [[1, 2], [3]]}", ERR_INVALID,
                "coordinates[1]: expected an array of 2 or 3 numbers, got 1 element");
    check_error("{\"type\": \"MultiLineString\", \"coordinates\": [[[0, 0], [1, 1]], []]}",
                ERR_INVALID, "coordinates[1]: a LineString needs at least 2 positions, got 0");
    check_error("{\"type\": \"MultiLineString\", \"coordinates\": [[0, 0], [1, 1]]}", ERR_INVALID,
                "coordinates[0][0]: expected an array of 2 or 3 numbers, got a number");
}

static void test_errors_rings(void **state)
{
    check_error("{\"type\": \"Polygon\", \"coordinates\": ["
                "[[118, 29], [119, 29], [119, 30], [118, 29]],"
                "[[118.4, 29.1], [118.5, 29.1], [118.5, 29.2], [118.5, 29.1]]]}",
                ERR_INVALID,
                "coordinates[1]: ring is not closed (first 118.4 29.1, last 118.5 29.1)");
    check_error("{\"type\": \"Polygon\", \"coordinates\": [[[0, 0], [1, 0], [0, 0]]]}", ERR_INVALID,
                "coordinates[0]: a linear ring needs at least 4 positions, got 3");
    check_error("{\"type\": \"Polygon\", \"coordinates\": [[[0, 0], [1, 0], [1, 1], [0, 0]], []]}",
                ERR_INVALID, "coordinates[1]: a linear ring needs at least 4 positions, got 0");
    check_error("{\"type\": \"Polygon\", \"coordinates\": [[0, 0], [1, 0], [1, 1], [0, 0]]}",
                ERR_INVALID,
                "coordinates[0][0]: expected an array of 2 or 3 numbers, got a number");
    check_error("{\"type\": \"Polygon\", \"coordinates\": [5]}", ERR_INVALID,
                "coordinates[0]: expected an array of positions, got a number");
    check_error("{\"type\": \"Polygon\", \"coordinates\": [[[0, 0], [1, 0], [1, 1], [0, 0]],"
                " [[0, 0], [1, 0], [1, {}], [0, 0]]]}",
                ERR_INVALID, "coordinates[1][2][1]: expected a number, got an object");
    check_error("{\"type\": \"MultiPolygon\", \"coordinates\": [[[[0, 0], [1, 0], [1, 1], [0, 0]]],"
                " [[[0, 0], [1, 0], [1, 1], [0, 0]],"
                "  [[0.1, 0.1], [0.2, 0.1], [0.2, 0.2], [0.1, 0.1, 7]]]]}",
                ERR_INVALID,
                "coordinates[1][1]: ring is not closed (first 0.1 0.1, last 0.1 0.1 7)");
    check_error("{\"type\": \"MultiPolygon\", \"coordinates\": [[]]}", ERR_INVALID,
                "coordinates[0]: a polygon needs an exterior ring, got an empty array");
    check_error("{\"type\": \"MultiPolygon\", \"coordinates\": [-0.08, 51.56]}", ERR_INVALID,
                "coordinates[0]: expected an array of linear rings, got a number");
}

static void test_errors_collection(void **state)
{
    char in[2048], want[1024];
    size_t i;
    check_error("{\"type\": \"GeometryCollection\"}", ERR_INVALID, "geometries: missing");
    check_error("{\"type\": \"GeometryCollection\", \"geometries\": {}}", ERR_INVALID,
                "geometries: expected an array, got an object");
    check_error("{\"type\": \"GeometryCollection\", \"geometries\": [false]}", ERR_INVALID,
                "geometries[0]: expected a geometry object, got false");
    check_error("{\"type\": \"GeometryCollection\", \"geometries\": ["
                "{\"type\": \"Point\", \"coordinates\": [0, 0]},"
                "{\"type\": \"GeometryCollection\", \"geometries\": ["
                " {\"type\": \"LineString\", \"coordinates\": [[0, 0], [1, \"x\"]]}]}]}",
                ERR_INVALID,
                "geometries[1].geometries[0].coordinates[1][1]: expected a number, got a string");
    check_error("{\"type\": \"GeometryCollection\", \"geometries\": [{\"type\": \"Circle\"}]}",
                ERR_INVALID, "geometries[0].type: unknown geometry type 'Circle'");

    /* 16 nested collections are fine, 17 are not */
    for (i = 0, in[0] = '\0'; i < 16; i++)
        strcat(in, "{\"type\":\"GeometryCollection\",\"geometries\":[");
    strcat(in, "{\"type\":\"Point\",\"coordinates\":[1,2]}");
    for (i = 0; i < 16; i++)
        strcat(in, "]}");
    check_roundtrip(in, in);
    for (i = 0, in[0] = '\0'; i < 17; i++)
        strcat(in, "{\"type\":\"GeometryCollection\",\"geometries\":[");
    for (i = 0; i < 17; i++)
        strcat(in, "]}");
    for (i = 0, want[0] = '\0'; i < 16; i++)
        strcat(want, i ? ".geometries[0]" : "geometries[0]");
    strcat(want, ": GeometryCollection nested more than 16 deep");
    check_error(in, ERR_INVALID, want);
}

/* A NULL err is allowed: the code still comes back. */
static void test_error_without_err(void **state)
{
    json_t *j = load("{\"type\": \"Point\", \"coordinates\": [1]}");
    GEOSGeometry *g;
    assert_int_equal(geojson_geom_parse(&C, j, 0, &g, NULL), ERR_INVALID);
    assert_null(g);
    json_decref(j);
}

/* ---- the position limit ------------------------------------------------- */

static void test_max_points(void **state)
{
    static const char poly[] =
        "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}";
    static const char gc[] = "{\"type\":\"GeometryCollection\",\"geometries\":["
                             "{\"type\":\"MultiPoint\",\"coordinates\":[[0,0],[1,1]]},"
                             "{\"type\":\"LineString\",\"coordinates\":[[0,0],[1,1],[2,2]]}]}";
    /* counted before anything is checked or built */
    static const char bad[] =
        "{\"type\":\"LineString\",\"coordinates\":[[0,0],[1,1],[2,2],[3,\"x\"],[4,4],[5,5]]}";
    GEOSGeometry *g;
    struct err e;
    struct buf big;
    size_t i;

    assert_int_equal(parse(poly, 4, &g, &e), ERR_TOO_LARGE);
    assert_null(g);
    assert_string_equal(e.msg, "geometry has more than 4 positions (limit max_vertices)");
    assert_int_equal(parse(poly, 5, &g, &e), 0);
    GEOSGeom_destroy_r(C.geos, g);
    assert_int_equal(parse(gc, 4, &g, &e), ERR_TOO_LARGE);
    assert_int_equal(parse(gc, 5, &g, &e), 0);
    GEOSGeom_destroy_r(C.geos, g);
    assert_int_equal(parse(bad, 5, &g, &e), ERR_TOO_LARGE);
    assert_int_equal(parse(bad, 6, &g, &e), ERR_INVALID);

    buf_init(&big);
    buf_puts(&big, "{\"type\":\"LineString\",\"coordinates\":[");
    for (i = 0; i <= 200000; i++)
        buf_printf(&big, "%s[%zu.5,%zu.25]", i ? "," : "", i % 180, i % 90);
    buf_puts(&big, "]}");
    assert_false(big.oom);
    assert_int_equal(parse(big.data, 200000, &g, &e), ERR_TOO_LARGE);
    assert_string_equal(e.msg, "geometry has more than 200000 positions (limit max_vertices)");
    assert_int_equal(parse(big.data, 200001, &g, &e), 0);
    assert_int_equal(GEOSGeomGetNumPoints_r(C.geos, g), 200001);
    GEOSGeom_destroy_r(C.geos, g);
    assert_int_equal(parse(big.data, 0, &g, &e), 0);
    GEOSGeom_destroy_r(C.geos, g);
    buf_clear(&big);
}

/* ---- the geojsonhint corpus --------------------------------------------- */

#define MAX_GEOMS 8

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    struct buf b;
    char chunk[4096];
    size_t n;
    if (!f)
        fail_msg("cannot open %s", path);
    buf_init(&b);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    return buf_steal(&b);
}

/* The geometry objects in a document as the Feature and collection layers
 * would hand them over: each feature's non-null geometry, a Feature's
 * geometry, or the document itself when it is not a Feature/collection. */
static int find_geoms(const json_t *root, const json_t *out[MAX_GEOMS])
{
    const json_t *type = json_object_get(root, "type"), *feats, *f, *geom;
    const char *t = json_is_string(type) ? json_string_value(type) : "";
    size_t i;
    int n = 0;
    if (!json_is_object(root))
        return 0;
    feats = json_object_get(root, "features");
    if (strcasecmp(t, "FeatureCollection") == 0 || (!*t && feats)) {
        for (i = 0; i < json_array_size(feats); i++) {
            f = json_array_get(feats, i);
            geom = json_object_get(f, "geometry");
            if (json_is_object(geom) && n < MAX_GEOMS)
                out[n++] = geom;
        }
        return n;
    }
    if (strcasecmp(t, "Feature") == 0 || (!*t && json_object_get(root, "geometry"))) {
        geom = json_object_get(root, "geometry");
        if (!geom || json_is_null(geom))
            return 0;
        out[n++] = geom;
        return n;
    }
    out[n++] = root;
    return n;
}

/* Parses every geometry of file; each good one is also written and read
 * back. Fills msgs[i] with "ok" or the error message. */
static int run_file(const char *path, char msgs[MAX_GEOMS][ERR_MSG_MAX])
{
    const json_t *geoms[MAX_GEOMS];
    char *text = slurp(path);
    json_t *root = json_loads(text, JSON_DECODE_ANY, NULL);
    int i, n = root ? find_geoms(root, geoms) : 0;
    for (i = 0; i < n; i++) {
        GEOSGeometry *g, *g2;
        struct err e;
        char *out;
        if (geojson_geom_parse(&C, geoms[i], 0, &g, &e) != 0) {
            assert_int_equal(e.code, ERR_INVALID);
            snprintf(msgs[i], ERR_MSG_MAX, "%s", e.msg);
            continue;
        }
        snprintf(msgs[i], ERR_MSG_MAX, "ok");
        out = write_geom(g, 9);
        g2 = parse_ok(out);
        assert_rhr(g2);
        if (!same_geom(g, g2, 1e-9))
            fail_msg("%s: geometry %d changed on a round trip: %s", path, i, out);
        free(out);
        GEOSGeom_destroy_r(C.geos, g);
        GEOSGeom_destroy_r(C.geos, g2);
    }
    json_decref(root);
    free(text);
    return n;
}

/* The corpus lives in the repository (tests/corpus, with its licence and
 * origin); a checkout without it fails here, saying what is missing. */
static DIR *corpus_open(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("the GeoJSON test corpus is missing: cannot open %s (%s); it belongs "
                 "in the repository under tests/corpus/geojsonhint",
                 dir, strerror(errno));
    return d;
}

static void test_corpus_good(void **state)
{
    char dir[512], path[1024], msgs[MAX_GEOMS][ERR_MSG_MAX];
    DIR *d;
    struct dirent *de;
    int files = 0, geoms = 0, i, n;
    snprintf(dir, sizeof dir, "%s/geojsonhint/good", ONEMAP_CORPUS_DIR);
    d = corpus_open(dir);
    while ((de = readdir(d))) {
        if (!strstr(de->d_name, ".geojson"))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        n = run_file(path, msgs);
        for (i = 0; i < n; i++)
            if (strcmp(msgs[i], "ok") != 0)
                fail_msg("%s: geometry %d refused: %s", de->d_name, i, msgs[i]);
        files++;
        geoms += n;
    }
    closedir(d);
    assert_true(files >= 18);
    assert_true(geoms >= 20);
}

/* What each bad file's geometries give, in document order. Files with no
 * entries hold no geometry that this layer sees. "ok" marks a geometry that
 * is fine here: either geojsonhint only warns (winding order, precision,
 * nested or single-member collections; RFC 7946 lets a server accept these),
 * or the fault lies in the Feature/collection layer around it.
 *
 * Not geometry errors, left to the Feature/FeatureCollection layer (or the
 * JSON reader): bad-duplicate-properties (duplicate "type"), bad-json
 * (syntax), bad-properties-as-array, expected_object (properties 123),
 * badfeature (null feature), badfeatureid (id {}), featurecollection (no
 * features), featurecollection-obj (features {}), feature_changed_semantics
 * and featurecollection_changed_semantics (reserved members), nofeaturetype
 * ("Featre"), multiple_problems' feature type "Foo" and id {},
 * featurecollection-type-case's lower-case "featurecollection"/"feature",
 * bad-polygonloop's missing Feature type, rootstring (a null document). */
struct bad_case {
    const char *file;
    const char *want[MAX_GEOMS];
};

static const struct bad_case bad_cases[] = {
    {"bad-duplicate-properties.geojson", {NULL}},
    {"bad-featurelist.geojson", {"coordinates[0]: expected an array of positions, got a number"}},
    {"bad-json.geojson", {NULL}},
    {"bad-object-type.geojson", {"type: expected a string, got an object"}},
    {"bad-polygon-interiorring-rhr.geojson", {"ok"}},
    {"bad-polygonloop.geojson",
     {"coordinates[0][0]: expected an array of 2 or 3 numbers, got a number"}},
    {"bad-properties-as-array.geojson", {NULL}},
    {"badcoord.geojson", {"coordinates[2]: expected a number, got a string"}},
    {"badcoordtype.geojson",
     {"coordinates[0][0][0]: expected an array of 2 or 3 numbers, got a number"}},
    {"badfeature.geojson", {NULL}},
    {"badfeatureid.geojson", {"ok"}},
    {"bbox-4or6elements.geojson", {"bbox: expected an array of 4 or 6 numbers"}},
    {"bbox-contains-string.geojson", {"bbox[3]: expected a number, got a string"}},
    {"bbox-string.geojson", {"bbox: expected an array of 4 or 6 numbers"}},
    {"different-first-last.geojson",
     {"coordinates[0]: ring is not closed (first 100 0, last 100 1)"}},
    {"different-first-size.geojson",
     {"coordinates[1][0]: ring is not closed (first 100 0, last 100 0 4.9)"}},
    {"excessive_precision_truncated.geojson", {"ok"}},
    {"expected_object.geojson", {NULL}},
    {"false.geojson", {"geometries[0]: expected a geometry object, got false"}},
    {"feature_changed_semantics.geojson", {"ok"}},
    {"featurecollection-obj.geojson", {NULL}},
    {"featurecollection-type-case.geojson",
     {"type: unknown geometry type 'point' (names are case-sensitive: 'Point')",
      "type: unknown geometry type 'linestring' (names are case-sensitive: 'LineString')",
      "type: unknown geometry type 'polygon' (names are case-sensitive: 'Polygon')"}},
    {"featurecollection.geojson", {NULL}},
    {"featurecollection_changed_semantics.geojson", {"ok", "ok", "ok"}},
    {"geometry_changed_semantics.geojson",
     {"geometry: not allowed in a geometry object (RFC 7946 section 7.1)"}},
    {"geometrycollection_nested.geojson", {"ok"}},
    {"geometrycollection_single.geojson", {"ok"}},
    {"multiple_problems.geojson",
     {"coordinates[1]: expected a number, got a string", "ok", "ok",
      "coordinates: expected an array, got a string"}},
    {"multipoint-multidimension.geojson", {"coordinates[0][0]: expected a number, got an array"}},
    {"multipoint-nondimension.geojson",
     {"coordinates[0]: expected an array of 2 or 3 numbers, got a number"}},
    {"nofeaturetype.geojson", {"ok"}},
    {"notype.geojson", {"type: missing"}},
    {"point-labeled-as-a-multipolygon.geojson",
     {"coordinates[0]: expected an array of linear rings, got a number"}},
    {"point-string.geojson", {"coordinates[0]: expected a number, got a string"}},
    {"point-toofew.geojson", {"coordinates: expected an array of 2 or 3 numbers, got 1 element"}},
    {"point-toomany.geojson", {"coordinates: expected an array of 2 or 3 numbers, got 4 elements"}},
    {"point.geojson", {"coordinates: missing"}},
    {"polygon_winding_order.geojson", {"ok"}},
    {"rootstring.geojson", {NULL}},
    {"short-line.geojson", {"coordinates: a LineString needs at least 2 positions, got 1"}},
    {"short-linearring.geojson",
     {"coordinates[0]: a linear ring needs at least 4 positions, got 3"}},
    {"short-multilinestring.geojson",
     {"coordinates[1]: a LineString needs at least 2 positions, got 1"}},
    {"stringcoord.geojson", {"coordinates[1]: expected a number, got a string", "ok"}},
    {"unknowntype.geojson", {"type: unknown geometry type 'FooBar'"}},
};
#define NBAD (sizeof bad_cases / sizeof bad_cases[0])

static const struct bad_case *bad_case_for(const char *file)
{
    size_t i;
    for (i = 0; i < NBAD; i++)
        if (strcmp(bad_cases[i].file, file) == 0)
            return &bad_cases[i];
    return NULL;
}

static void test_corpus_bad(void **state)
{
    char dir[512], path[1024], msgs[MAX_GEOMS][ERR_MSG_MAX];
    const struct bad_case *bc;
    DIR *d;
    struct dirent *de;
    size_t files = 0;
    int i, n, want_n, refused = 0;
    snprintf(dir, sizeof dir, "%s/geojsonhint/bad", ONEMAP_CORPUS_DIR);
    d = corpus_open(dir);
    while ((de = readdir(d))) {
        if (!strstr(de->d_name, ".geojson"))
            continue;
        if (!(bc = bad_case_for(de->d_name)))
            fail_msg("%s: not in the table of expectations", de->d_name);
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        n = run_file(path, msgs);
        for (want_n = 0; want_n < MAX_GEOMS && bc->want[want_n]; want_n++)
            ;
        if (n != want_n)
            fail_msg("%s: %d geometries found, %d expected", de->d_name, n, want_n);
        for (i = 0; i < n; i++) {
            if (strcmp(msgs[i], bc->want[i]) != 0)
                fail_msg("%s: geometry %d\n  got:  %s\n  want: %s", de->d_name, i, msgs[i],
                         bc->want[i]);
            refused += strcmp(msgs[i], "ok") != 0;
        }
        files++;
    }
    closedir(d);
    assert_int_equal(files, NBAD);
    assert_true(refused >= 25);
}

/* ---- the fast path from text -------------------------------------------- */

/* What a caller falls back on: jansson, duplicates refused, then
 * geojson_geom_parse. 0 and *g, or nonzero. */
static int slow_parse(const char *text, size_t len, size_t max, GEOSGeometry **g)
{
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    struct err e;
    int rc;
    *g = NULL;
    if (!j)
        return -1;
    err_clear(&e);
    rc = geojson_geom_parse(&C, j, max, g, &e);
    json_decref(j);
    return rc;
}

/* Same type, same structure, same coordinates bit for bit (WKB keeps every
 * bit of every double, -0.0 included). */
static int identical(const GEOSGeometry *a, const GEOSGeometry *b)
{
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(C.geos);
    size_t na = 0, nb = 0;
    unsigned char *wa = GEOSWKBWriter_write_r(C.geos, w, a, &na);
    unsigned char *wb = GEOSWKBWriter_write_r(C.geos, w, b, &nb);
    int same = wa && wb && na == nb && memcmp(wa, wb, na) == 0 &&
               GEOSGeomTypeId_r(C.geos, a) == GEOSGeomTypeId_r(C.geos, b) &&
               GEOSEqualsExact_r(C.geos, a, b, 0) == 1;
    GEOSFree_r(C.geos, wa);
    GEOSFree_r(C.geos, wb);
    GEOSWKBWriter_destroy_r(C.geos, w);
    return same;
}

/* The text in a heap block of exactly len bytes, no NUL after it: under
 * ASan, reading past len is caught. */
static char *exact_copy(const char *text, size_t len)
{
    char *p = malloc(len ? len : 1);
    assert_non_null(p);
    memcpy(p, text, len);
    return p;
}

/* The fast path's promise on text[0..len): 1 with nothing built, or 0 with
 * exactly what the slow path builds. Returns what the fast path returned. */
static int check_agrees(const char *text, size_t len, size_t max)
{
    GEOSGeometry *fast = (GEOSGeometry *)1, *slow = NULL;
    char *copy = exact_copy(text, len);
    int rc = geojson_geom_parse_text(&C, copy, len, max, &fast);
    free(copy);
    if (rc != 0) {
        assert_int_equal(rc, 1);
        assert_null(fast);
        return rc;
    }
    assert_non_null(fast);
    if (slow_parse(text, len, max, &slow) != 0)
        fail_msg("fast path accepted what the slow path refuses: %.*s", (int)len, text);
    if (!identical(fast, slow))
        fail_msg("fast path built a different geometry: %.*s", (int)len, text);
    GEOSGeom_destroy_r(C.geos, fast);
    GEOSGeom_destroy_r(C.geos, slow);
    return 0;
}

static void check_fast(const char *text, size_t max)
{
    if (check_agrees(text, strlen(text), max) != 0)
        fail_msg("fast path refused: %s", text);
}

static void check_fast_refuses(const char *text, size_t max)
{
    if (check_agrees(text, strlen(text), max) == 0)
        fail_msg("fast path accepted: %s", text);
}

static void test_fast_same_as_slow(void **state)
{
    static const char *const ok[] = {
        "{\"type\":\"Point\",\"coordinates\":[1,2]}",
        "{\"type\":\"Point\",\"coordinates\":[118.4,29.1,12.5]}",
        "{\"type\":\"Point\",\"coordinates\":[-0,-0.0]}",
        "{\"type\":\"Point\",\"coordinates\":[0,-0e0]}",
        "{\"type\":\"Point\",\"coordinates\":[-0.0,0.000]}",
        "{\"type\":\"Point\",\"coordinates\":[118.123456789012345,29.123456789012345]}",
        "{\"type\":\"Point\",\"coordinates\":"
        "[118.12345678901234567890123,-29.1234567890123456789]}",
        "{\"type\":\"Point\",\"coordinates\":[0.1,0.3,0.7]}",
        "{\"type\":\"Point\",\"coordinates\":[1e2,1E2]}",
        "{\"type\":\"Point\",\"coordinates\":[1e+2,1e-2]}",
        "{\"type\":\"Point\",\"coordinates\":[2.5E-3,-1.5e1]}",
        "{\"type\":\"Point\",\"coordinates\":[0e0,0.0e-5]}",
        "{\"type\":\"Point\",\"coordinates\":[1e-400,-1e-400]}",
        "{\"type\":\"Point\",\"coordinates\":[5e-324,2.2250738585072011e-308]}",
        "{\"type\":\"Point\",\"coordinates\":[1e9,-1e9]}",
        "{\"type\":\"Point\",\"coordinates\":[1000000000,-1000000000]}",
        "{\"type\":\"Point\",\"coordinates\":[999999999.9999999,-999999999.99999999]}",
        "{\"type\":\"Point\",\"coordinates\":[0.000000000000000000000000001234,12345e-4]}",
        "{\"type\":\"Point\",\"coordinates\":[9007199254740993e-7,9007199254740992e-7]}",
        "{\"type\":\"Point\",\"coordinates\":[1.00000000000000011102230246251565,"
        "0.1000000000000000055511151231257827]}",
        "{\"type\":\"Point\",\"coordinates\":[123456789,-987654321]}",
        "{\"type\":\"Point\",\"coordinates\":[1.5e8,3e-22]}",
        "{\"type\":\"Point\",\"coordinates\":[1e-30,123456789012345678e-9]}",
        "{\"coordinates\":[1,2],\"type\":\"Point\"}",
        " \t\r\n{ \"type\" : \"Point\" ,\n\t\"coordinates\" : [ 1 , 2 , 3 ] }\n\r\t ",
        "{\"type\":\"MultiPoint\",\"coordinates\":[[1,2]]}",
        "{\"type\":\"MultiPoint\",\"coordinates\":[[1,2],[3,4,5],[1,2]]}",
        "{\"coordinates\":[[1,2],[3,4]],\"type\":\"MultiPoint\"}",
        "{\"type\":\"LineString\",\"coordinates\":[[0,0],[1,1]]}",
        "{\"type\":\"LineString\",\"coordinates\":[[0,0,1],[1,1],[2,2,2]]}",
        "{\"coordinates\":[[0,0],[1,1],[0,0]],\"type\":\"LineString\"}",
        "{\"type\":\"MultiLineString\",\"coordinates\":[[[0,0],[1,1]]]}",
        "{\"type\":\"MultiLineString\",\"coordinates\":[[[0,0],[1,1]],[[2,2],[3,3],[4,4,4]]]}",
        "{\"coordinates\":[[[0,0],[1,1]],[[2,2],[3,3]]],\"type\":\"MultiLineString\"}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[0,0,5],[1,0],[1,1,2],[0,0,5]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[-0.0,0]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[10,0],[10,10],[0,10],[0,0]],"
        "[[1,1],[1,2],[2,2],[2,1],[1,1]],[[5,5],[5,6],[6,6],[5,5]]]}",
        "{\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]],\"type\":\"Polygon\"}",
        "{\n  \"type\": \"Polygon\",\n  \"coordinates\": [\n    [\n      [118.41, 29.13],\n"
        "      [118.42, 29.13],\n      [118.42, 29.14],\n      [118.41, 29.13]\n    ]\n  ]\n}\n",
        "{\"type\":\"MultiPolygon\",\"coordinates\":[[[[0,0],[1,0],[1,1],[0,0]]]]}",
        "{\"type\":\"MultiPolygon\",\"coordinates\":[[[[0,0],[10,0],[10,10],[0,0]],"
        "[[1,1],[2,1],[2,2],[1,1]]],[[[20,20],[30,20],[30,30],[20,20]]]]}",
        "{\"coordinates\":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,5],[6,6],[5,5]]]],"
        "\"type\":\"MultiPolygon\"}",
    };
    size_t i;
    for (i = 0; i < sizeof ok / sizeof ok[0]; i++)
        check_fast(ok[i], 0);
}

static void test_fast_refuses(void **state)
{
    static const char *const bad[] = {
        /* what geojson_geom_parse refuses */
        "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[0,0]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[0,0,1],[1,0],[1,1],[0,0]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0,1]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[0,0,1],[1,0],[1,1],[0,0,2]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]],[]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]],\"bbox\":[0,0,1,1]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[0,0],[1,0],[1,1],[0,0]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[[0,0],[1,0],[1,1],[0,0]]]]}",
        "{\"type\":\"MultiPolygon\",\"coordinates\":[[]]}",
        "{\"type\":\"MultiPolygon\",\"coordinates\":[[[]]]}",
        "{\"type\":\"MultiPolygon\",\"coordinates\":[[[[0,0],[1,0],[1,1],[0,0]]],[]]}",
        "{\"type\":\"Point\",\"coordinates\":[1]}",
        "{\"type\":\"Point\",\"coordinates\":[1,2,3,4]}",
        "{\"type\":\"Point\",\"coordinates\":[1,NaN]}",
        "{\"type\":\"Point\",\"coordinates\":[1,Infinity]}",
        "{\"type\":\"Point\",\"coordinates\":[1,-Infinity]}",
        "{\"type\":\"Point\",\"coordinates\":[1,1e10]}",
        "{\"type\":\"Point\",\"coordinates\":[1,-1000000001]}",
        "{\"type\":\"Point\",\"coordinates\":[1,1000000000.0000001]}",
        "{\"type\":\"Point\",\"coordinates\":[1,1e999]}",
        "{\"type\":\"Point\",\"coordinates\":[1,-1.5e400]}",
        "{\"type\":\"Point\",\"coordinates\":[1,12345678901234567890]}",
        "{\"type\":\"Point\",\"coordinates\":[1,123456789012345678901234567890]}",
        "{\"type\":\"Point\",\"coordinates\":[1,2,1e10]}",
        "{\"type\":\"Point\",\"coordinates\":[1,\"2\"]}",
        "{\"type\":\"Point\",\"coordinates\":[1,null]}",
        "{\"type\":\"Point\",\"coordinates\":[1,true]}",
        "{\"type\":\"Point\",\"coordinates\":[[1,2]]}",
        "{\"type\":\"Point\",\"coordinates\":null}",
        "{\"type\":\"Point\",\"coordinates\":{}}",
        "{\"type\":\"Point\"}",
        "{\"coordinates\":[1,2]}",
        "{\"type\":\"LineString\",\"coordinates\":[[0,0]]}",
        "{\"type\":\"MultiLineString\",\"coordinates\":[[[0,0],[1,1]],[[2,2]]]}",
        "{\"type\":\"MultiPoint\",\"coordinates\":[[1,2],[3]]}",
        "{\"type\":\"GeometryCollection\",\"geometries\":[]}",
        "{\"type\":\"GeometryCollection\",\"geometries\":[{\"type\":\"Point\",\"coordinates\":"
        "[1,2]}]}",
        "{\"type\":\"polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}",
        "{\"type\":\"Feature\",\"coordinates\":[1,2]}",
        "{\"type\":\"Polygn\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}",
        "{\"type\":\"Pointx\",\"coordinates\":[1,2]}",
        "{\"type\":\"Poin\",\"coordinates\":[1,2]}",
        /* JSON that is not JSON */
        "{\"type\":\"Point\",\"coordinates\":[1,01]}",
        "{\"type\":\"Point\",\"coordinates\":[1,-01]}",
        "{\"type\":\"Point\",\"coordinates\":[1,00]}",
        "{\"type\":\"Point\",\"coordinates\":[1,1.]}",
        "{\"type\":\"Point\",\"coordinates\":[1,.5]}",
        "{\"type\":\"Point\",\"coordinates\":[1,+1]}",
        "{\"type\":\"Point\",\"coordinates\":[1,-]}",
        "{\"type\":\"Point\",\"coordinates\":[1,1e]}",
        "{\"type\":\"Point\",\"coordinates\":[1,1e+]}",
        "{\"type\":\"Point\",\"coordinates\":[1,1.5.3]}",
        "{\"type\":\"Point\",\"coordinates\":[1,0x10]}",
        "{\"type\":\"Point\",\"coordinates\":[1,1,]}",
        "{\"type\":\"Point\",\"coordinates\":[1 2]}",
        "{\"type\":\"Point\",\"coordinates\":[,1,2]}",
        "{\"type\":\"Point\",\"coordinates\":[1,2],}",
        "{\"type\":\"Point\",,\"coordinates\":[1,2]}",
        "{\"type\" \"Point\",\"coordinates\":[1,2]}",
        "{type:\"Point\",\"coordinates\":[1,2]}",
        "{'type':'Point','coordinates':[1,2]}",
        "{\"type\":\"Point\",\"coordinates\":[1,2]}x",
        "{\"type\":\"Point\",\"coordinates\":[1,2]}}",
        "{\"type\":\"Point\",\"coordinates\":[1,2]},",
        "{\"type\":\"Point\",\"coordinates\":[1,2]} {}",
        "{\"type\":\"Point\",\"coordinates\":[1,2]]}",
        "{\"type\":\"Point\",\"coordinates\":[1,2] /* c */}",
        "\xef\xbb\xbf{\"type\":\"Point\",\"coordinates\":[1,2]}",
        "\f{\"type\":\"Point\",\"coordinates\":[1,2]}",
        "[{\"type\":\"Point\",\"coordinates\":[1,2]}]",
        "\"Point\"",
        "{}",
        "",
        " \n",
        /* what the slow path takes but the fast path leaves to it */
        "{\"type\":\"Point\",\"coordinates\":[]}",
        "{\"type\":\"MultiPolygon\",\"coordinates\":[]}",
        "{\"type\":\"Polygon\",\"coordinates\":[ ]}",
        "{\"type\":\"Point\",\"coordinates\":[1,2],\"bbox\":[1,2,1,2]}",
        "{\"type\":\"Point\",\"coordinates\":[1,2],\"crs\":null}",
        "{\"type\":\"Point\",\"coordinates\":[1,2],\"geometries\":[]}",
        "{\"type\":\"Point\",\"coordinates\":[1,2],\"id\":1}",
        "{\"type\":\"Poin\\u0074\",\"coordinates\":[1,2]}",
        "{\"type\":\"Point\\\"\",\"coordinates\":[1,2]}",
        "{\"typ\\u0065\":\"Point\",\"coordinates\":[1,2]}",
        "{\"type\":\"Point\",\"coordinate\\u0073\":[1,2]}",
        "{\"type\":\"Point\",\"coordinates\":[1,12345678901234567890123456789012345678901234567890."
        "123456789012345e-40]}",
        /* duplicates, which callers' jansson refuses */
        "{\"type\":\"Point\",\"coordinates\":[1,2],\"coordinates\":[1,2]}",
        "{\"type\":\"Point\",\"type\":\"Point\",\"coordinates\":[1,2]}",
        "{\"coordinates\":[1,2],\"type\":\"Point\",\"type\":\"Point\"}",
        "{\"coordinates\":[1,2],\"coordinates\":[1,2],\"type\":\"Point\"}",
        /* coordinates first, then something amiss */
        "{\"coordinates\":[[[[[1,2]]]]],\"type\":\"Point\"}",
        "{\"coordinates\":[1,2]],\"type\":\"Point\"}",
        "{\"coordinates\":[[1,2],\"type\":\"Point\"}",
        "{\"coordinates\":[1,2],\"type\":\"Polygon\"}",
        "{\"coordinates\":[1,\"2\"],\"type\":\"Point\"}",
        "{\"coordinates\":[1,2e],\"type\":\"Point\"}",
        "{\"coordinates\":[1,2]}",
    };
    static const char poly[] =
        "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}";
    static const char swapped[] =
        "{\"coordinates\":[[[0,0],[1,0],[1,1],[0,1],[0,0]]],\"type\":\"Polygon\"}";
    static const char nul[] = "{\"type\":\"Point\",\"coordinates\":[1,2]}\0";
    GEOSGeometry *g = (GEOSGeometry *)1;
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_fast_refuses(bad[i], 0);

    /* every truncation of the text */
    for (i = 0; i < sizeof poly - 1; i++)
        if (check_agrees(poly, i, 0) == 0)
            fail_msg("fast path accepted %zu bytes of %s", i, poly);
    for (i = 0; i < sizeof swapped - 1; i++)
        if (check_agrees(swapped, i, 0) == 0)
            fail_msg("fast path accepted %zu bytes of %s", i, swapped);
    /* a NUL is not whitespace */
    assert_int_equal(check_agrees(nul, sizeof nul - 1, 0), 1);
    assert_int_equal(check_agrees(nul, sizeof nul - 2, 0), 0);
    assert_int_equal(geojson_geom_parse_text(&C, NULL, 0, 0, &g), 1);
    assert_null(g);

    /* the position limit, counted as geojson_geom_parse counts */
    check_fast_refuses(poly, 4);
    check_fast(poly, 5);
    check_fast(poly, 6);
    check_fast_refuses(swapped, 4);
    check_fast(swapped, 5);
    check_fast_refuses("{\"type\":\"MultiPoint\",\"coordinates\":[[1,2],[3,4],[5,6]]}", 2);
    check_fast("{\"type\":\"MultiPoint\",\"coordinates\":[[1,2],[3,4],[5,6]]}", 3);
    check_fast("{\"type\":\"Point\",\"coordinates\":[1,2]}", 1);
}

/* Geometries beyond the scratch arrays' first room: many positions, rings,
 * members; either member order. */
static void test_fast_large(void **state)
{
    struct buf b;
    size_t i, k;
    int order;
    for (order = 0; order < 2; order++) {
        buf_init(&b);
        buf_puts(&b, order ? "{\"coordinates\":[" : "{\"type\":\"LineString\",\"coordinates\":[");
        for (i = 0; i <= 200000; i++)
            buf_printf(&b, "%s[%zu.5,%zu.25]", i ? "," : "", i % 180, i % 90);
        buf_puts(&b, order ? "],\"type\":\"LineString\"}" : "]}");
        assert_false(b.oom);
        check_fast_refuses(b.data, 200000);
        check_fast(b.data, 200001);
        check_fast(b.data, 0);
        buf_clear(&b);
    }
    /* 40 polygons of a shell and 39 holes of 12 positions each */
    buf_init(&b);
    buf_puts(&b, "{\"type\":\"MultiPolygon\",\"coordinates\":[");
    for (i = 0; i < 40; i++) {
        buf_puts(&b, i ? ",[" : "[");
        for (k = 0; k < 40; k++) {
            size_t v;
            buf_puts(&b, k ? ",[" : "[");
            for (v = 0; v < 11; v++)
                buf_printf(&b, "[%zu.%zu,%zu.%zu%s],", i, v, k, v, v % 3 ? "" : ",7");
            buf_printf(&b, "[%zu.0,%zu.0,7]]", i, k);
        }
        buf_puts(&b, "]");
    }
    buf_puts(&b, "]}");
    assert_false(b.oom);
    check_fast(b.data, 0);
    check_fast_refuses(b.data, 40 * 40 * 12 - 1);
    buf_clear(&b);
    /* 100 lines, 100 points */
    buf_init(&b);
    buf_puts(&b, "{\"type\":\"MultiLineString\",\"coordinates\":[");
    for (i = 0; i < 100; i++)
        buf_printf(&b, "%s[[%zu,0],[%zu,1]]", i ? "," : "", i, i);
    buf_puts(&b, "]}");
    check_fast(b.data, 0);
    buf_clear(&b);
    buf_init(&b);
    buf_puts(&b, "{\"coordinates\":[");
    for (i = 0; i < 100; i++)
        buf_printf(&b, "%s[%zu,-%zu]", i ? "," : "", i, i);
    buf_puts(&b, "],\"type\":\"MultiPoint\"}");
    check_fast(b.data, 0);
    buf_clear(&b);
}

/* Every geometry of the geojsonhint corpus, good and bad, as jansson prints
 * it (compact and indented), and each file's text as it stands. */
static void test_fast_corpus(void **state)
{
    static const char *const sub[] = {"good", "bad"};
    char dir[512], path[1024];
    size_t s, accepted = 0;
    int i, n;
    for (s = 0; s < 2; s++) {
        DIR *d;
        struct dirent *de;
        snprintf(dir, sizeof dir, "%s/geojsonhint/%s", ONEMAP_CORPUS_DIR, sub[s]);
        d = corpus_open(dir);
        while ((de = readdir(d))) {
            const json_t *geoms[MAX_GEOMS];
            json_t *root;
            char *text;
            if (!strstr(de->d_name, ".geojson"))
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            text = slurp(path);
            accepted += check_agrees(text, strlen(text), 0) == 0;
            root = json_loads(text, JSON_DECODE_ANY, NULL);
            n = root ? find_geoms(root, geoms) : 0;
            for (i = 0; i < n; i++) {
                char *a = json_dumps(geoms[i], JSON_COMPACT);
                char *b = json_dumps(geoms[i], JSON_INDENT(3));
                accepted += check_agrees(a, strlen(a), 0) == 0;
                accepted += check_agrees(b, strlen(b), 0) == 0;
                free(a);
                free(b);
            }
            json_decref(root);
            free(text);
        }
        closedir(d);
    }
    assert_true(accepted >= 20);
}

/* ---- randomized: generated geometries and mutations of them ---- */

static uint64_t gen_state;

static uint64_t gen_u64(void)
{
    /* splitmix64: the same sequence on every platform */
    uint64_t z = (gen_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static unsigned gen(unsigned n)
{
    return (unsigned)(gen_u64() % n);
}

static double gen_unit(void)
{
    return (double)(gen_u64() >> 11) * 0x1p-53;
}

static void put_ws(struct buf *b)
{
    static const char *const ws[] = {"", "", "", "", " ", "\n", "\t", "\r\n  "};
    buf_puts(b, ws[gen(8)]);
}

/* A number in one of the forms clients write. */
static void put_rnd_num(struct buf *b, double lo, double hi)
{
    double v = lo + (hi - lo) * gen_unit();
    switch (gen(10)) {
    case 0:
        buf_printf(b, "%d", (int)v);
        break;
    case 1:
        buf_printf(b, "%.17g", v);
        break;
    case 2:
        buf_printf(b, "%.*e", (int)gen(18), v);
        break;
    case 3:
        buf_printf(b, "%.*E", (int)gen(6), v);
        break;
    case 4: {
        static const char *const odd[] = {"-0",
                                          "-0.0",
                                          "0",
                                          "0e0",
                                          "1e-400",
                                          "5e-324",
                                          "1E+2",
                                          "1e9",
                                          "-1e9",
                                          "999999999",
                                          "118.12345678901234567890",
                                          "0.1",
                                          "1000000000.0"};
        buf_puts(b, odd[gen(sizeof odd / sizeof odd[0])]);
        break;
    }
    case 5:
        buf_printf(b, "%.15g", v);
        break;
    default:
        buf_printf(b, "%.*f", (int)gen(18), v);
    }
}

/* Positions are written once each; a ring's last repeats its first's text. */
static void put_rnd_pos(struct buf *b, char *first, size_t size)
{
    size_t start = b->len;
    buf_putc(b, '[');
    put_ws(b);
    put_rnd_num(b, -180, 180);
    put_ws(b);
    buf_putc(b, ',');
    put_ws(b);
    put_rnd_num(b, -90, 90);
    if (gen(5) == 0) {
        buf_putc(b, ',');
        put_rnd_num(b, -100, 1000);
    }
    put_ws(b);
    buf_putc(b, ']');
    if (first)
        snprintf(first, size, "%.*s", (int)(b->len - start), b->data + start);
}

static void put_rnd_ring(struct buf *b)
{
    char first[512];
    unsigned i, n = 3 + gen(gen(4) == 0 ? 40 : 10);
    buf_putc(b, '[');
    put_rnd_pos(b, first, sizeof first);
    for (i = 1; i < n; i++) {
        buf_putc(b, ',');
        put_ws(b);
        put_rnd_pos(b, NULL, 0);
    }
    buf_putc(b, ',');
    buf_puts(b, first);
    buf_putc(b, ']');
}

static void put_rnd_polygon(struct buf *b)
{
    unsigned i, n = 1 + (gen(3) == 0 ? gen(4) : 0);
    buf_putc(b, '[');
    for (i = 0; i < n; i++) {
        if (i)
            buf_putc(b, ',');
        put_ws(b);
        put_rnd_ring(b);
    }
    put_ws(b);
    buf_putc(b, ']');
}

static void put_rnd_geom(struct buf *b)
{
    int multi = gen(3) == 0, coords_first = gen(4) == 0;
    const char *type = multi ? "\"MultiPolygon\"" : "\"Polygon\"";
    unsigned i, n = 1 + gen(4);
    put_ws(b);
    buf_putc(b, '{');
    put_ws(b);
    if (!coords_first) {
        buf_puts(b, "\"type\":");
        put_ws(b);
        buf_puts(b, type);
        buf_putc(b, ',');
        put_ws(b);
    }
    buf_puts(b, "\"coordinates\"");
    put_ws(b);
    buf_putc(b, ':');
    if (multi) {
        buf_putc(b, '[');
        for (i = 0; i < n; i++) {
            if (i)
                buf_putc(b, ',');
            put_rnd_polygon(b);
        }
        buf_putc(b, ']');
    } else {
        put_rnd_polygon(b);
    }
    if (coords_first) {
        buf_putc(b, ',');
        buf_puts(b, "\"type\"");
        put_ws(b);
        buf_putc(b, ':');
        buf_puts(b, type);
    }
    put_ws(b);
    buf_putc(b, '}');
    put_ws(b);
}

/* Replaces, inserts or deletes a few bytes, or cuts the text short. */
static size_t mutate(char *s, size_t len, size_t room)
{
    static const char alphabet[] = "0123456789-+.eE,[]{}\": \n\t\\xNa";
    unsigned k, edits = 1 + gen(3);
    for (k = 0; k < edits && len > 0; k++) {
        size_t at = gen((unsigned)len);
        char ch = gen(8) ? alphabet[gen(sizeof alphabet - 1)] : (char)gen(256);
        switch (gen(5)) {
        case 0:
            if (len + 1 < room) {
                memmove(s + at + 1, s + at, len - at);
                s[at] = ch;
                len++;
            }
            break;
        case 1:
            memmove(s + at, s + at + 1, len - at - 1);
            len--;
            break;
        case 2:
            if (gen(4) == 0)
                len = at;
            break;
        default:
            s[at] = ch;
        }
    }
    return len;
}

static void test_fast_random(void **state)
{
    struct buf b;
    char *m;
    size_t mlen;
    unsigned i, k, accepted = 0, mutants_accepted = 0;
    gen_state = 20240611;
    for (i = 0; i < 3000; i++) {
        buf_init(&b);
        put_rnd_geom(&b);
        assert_false(b.oom);
        if (check_agrees(b.data, b.len, 0) != 0)
            fail_msg("fast path refused: %s", b.data);
        accepted++;
        m = malloc(b.len + 8);
        assert_non_null(m);
        for (k = 0; k < 4; k++) {
            memcpy(m, b.data, b.len);
            mlen = mutate(m, b.len, b.len + 8);
            mutants_accepted += check_agrees(m, mlen, 0) == 0;
        }
        free(m);
        buf_clear(&b);
    }
    /* the mutants tested both outcomes */
    assert_true(mutants_accepted > 100);
    assert_true(mutants_accepted < 4 * accepted - 1000);
}

/* ---- GeoJSON written from WKB, without GEOS -------------------------------- */

/* geojson_wkb_write on g's WKB (in byte order bo) against geojson_geom_write
 * on g, and wkb_bbox against GEOS's envelope: 1 when the WKB path took it,
 * 0 when it declined (the buffer then as it was). */
static int check_wkb(const GEOSGeometry *g, int bo, int prec)
{
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(C.geos);
    unsigned char *wkb;
    size_t len;
    struct buf a, b;
    double m[4], x0, y0, x1, y1;
    int rc, took;
    GEOSWKBWriter_setByteOrder_r(C.geos, w, bo);
    GEOSWKBWriter_setOutputDimension_r(C.geos, w, 3);
    wkb = GEOSWKBWriter_write_r(C.geos, w, g, &len);
    GEOSWKBWriter_destroy_r(C.geos, w);
    assert_non_null(wkb);
    buf_init(&a);
    buf_init(&b);
    buf_puts(&b, "x");
    geojson_geom_write(&C, g, prec, &a);
    rc = geojson_wkb_write(wkb, len, prec, &b);
    took = rc == 0;
    if (took)
        assert_string_equal(b.data + 1, a.data);
    else
        assert_string_equal(b.data, "x");
    if (GEOSisEmpty_r(C.geos, g) == 1) {
        assert_int_equal(wkb_bbox(wkb, len, m), -1);
    } else if (wkb_bbox(wkb, len, m) == 0) {
        /* every vertex's, holes' too (GEOS's envelope of a polygon is its
         * shell's) */
        GEOSGeometry *v = GEOSGeom_extractUniquePoints_r(C.geos, g);
        assert_non_null(v);
        assert_true(GEOSGeom_getXMin_r(C.geos, v, &x0) && GEOSGeom_getYMin_r(C.geos, v, &y0) &&
                    GEOSGeom_getXMax_r(C.geos, v, &x1) && GEOSGeom_getYMax_r(C.geos, v, &y1));
        GEOSGeom_destroy_r(C.geos, v);
        if (!(m[0] == x0 && m[1] == y0 && m[2] == x1 && m[3] == y1))
            fail_msg("%s: box %.17g %.17g %.17g %.17g, GEOS %.17g %.17g %.17g %.17g", a.data, m[0],
                     m[1], m[2], m[3], x0, y0, x1, y1);
    } else {
        assert_false(took); /* only what the writer declines too */
    }
    GEOSFree_r(C.geos, wkb);
    buf_clear(&a);
    buf_clear(&b);
    return took;
}

static void test_wkb_write(void **state)
{
    static const struct {
        const char *wkt;
        int took;
    } cases[] = {
        {"POINT (118.5 29.25)", 1},
        {"LINESTRING (0 0, 1 1, 2 0.5)", 1},
        {"LINESTRING EMPTY", 1},
        {"POLYGON ((0 0, 0 1, 1 1, 1 0, 0 0))", 1}, /* clockwise: written reversed */
        {"POLYGON ((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 2 1, 2 2, 1 2, 1 1))", 1},
        {"POLYGON EMPTY", 1},
        {"MULTIPOINT ((1 2), (3 4))", 1},
        {"MULTILINESTRING ((0 0, 1 1), EMPTY, (2 2, 3 3))", 1},
        {"MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), EMPTY, ((5 5, 5 6, 6 6, 5 5)))", 1},
        {"MULTIPOLYGON EMPTY", 1},
        {"MULTIPOLYGON (EMPTY, EMPTY)", 1},
        {"POINT EMPTY", 1},
        {"MULTIPOINT (EMPTY, (1 2))", 1},
        {"GEOMETRYCOLLECTION (POINT (1 2), POLYGON ((0 0, 0 1, 1 1, 0 0)), POINT EMPTY)", 1},
        {"GEOMETRYCOLLECTION (GEOMETRYCOLLECTION (LINESTRING (0 0, 1 1)))", 1},
        {"GEOMETRYCOLLECTION EMPTY", 1},
        {"POINT Z (1 2 3)", 1}, /* x and y only, as from GEOS */
        {"POLYGON Z ((0 0 1, 1 0 1, 1 1 1, 0 0 1))", 1},
        {"MULTILINESTRING M ((0 0 5, 1 1 6))", 1},
        {"POINT ZM (1 2 3 4)", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        GEOSGeometry *g = from_wkt(cases[i].wkt);
        for (int bo = 0; bo < 2; bo++)
            if (check_wkb(g, bo, 9) != cases[i].took)
                fail_msg("%s (byte order %d): expected %s", cases[i].wkt, bo,
                         cases[i].took ? "taken" : "declined");
        GEOSGeom_destroy_r(C.geos, g);
    }
}

static void test_wkb_refuses(void **state)
{
    /* truncated, trailing bytes, a wrong byte-order mark, an SRID flag */
    static const unsigned char pt[] = {1,    1,    0, 0, 0, 0, 0, 0, 0, 0,   0,
                                       0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40};
    unsigned char v[sizeof pt + 1];
    struct buf b;
    double m[4];
    buf_init(&b);
    assert_int_equal(geojson_wkb_write(pt, sizeof pt, 9, &b), 0);
    assert_string_equal(b.data, "{\"type\":\"Point\",\"coordinates\":[1,2]}");
    assert_int_equal(wkb_bbox(pt, sizeof pt, m), 0);
    assert_true(m[0] == 1 && m[1] == 2 && m[2] == 1 && m[3] == 2);
    buf_reset(&b);
    for (size_t n = 0; n < sizeof pt; n++) {
        assert_int_equal(geojson_wkb_write(pt, n, 9, &b), -1);
        assert_int_equal(wkb_bbox(pt, n, m), -1);
    }
    memcpy(v, pt, sizeof pt);
    v[sizeof pt] = 0;
    assert_int_equal(geojson_wkb_write(v, sizeof v, 9, &b), -1);
    assert_int_equal(wkb_bbox(v, sizeof v, m), -1);
    v[0] = 2;
    assert_int_equal(geojson_wkb_write(v, sizeof pt, 9, &b), -1);
    memcpy(v, pt, sizeof pt);
    v[4] = 0x20; /* EWKB: an SRID follows */
    assert_int_equal(geojson_wkb_write(v, sizeof pt, 9, &b), -1);
    assert_int_equal(b.len, 0);
    buf_clear(&b);
}

static void test_wkb_random(void **state)
{
    unsigned i, took = 0;
    gen_state = 20261204;
    for (i = 0; i < 2000; i++) {
        struct buf b;
        GEOSGeometry *g = NULL;
        struct err e;
        buf_init(&b);
        put_rnd_geom(&b);
        assert_false(b.oom);
        if (parse(b.data, 0, &g, &e) == 0) {
            took += check_wkb(g, i & 1, 9);
            took += check_wkb(g, !(i & 1), 6);
            GEOSGeom_destroy_r(C.geos, g);
        }
        buf_clear(&b);
    }
    assert_true(took > 3000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_types),   cmocka_unit_test(test_roundtrip_members),
        cmocka_unit_test(test_roundtrip_empty),   cmocka_unit_test(test_write_from_geos),
        cmocka_unit_test(test_winding),           cmocka_unit_test(test_winding_mirrored),
        cmocka_unit_test(test_precision),         cmocka_unit_test(test_numbers_match_buf_put_num),
        cmocka_unit_test(test_roundtrip_1e9),     cmocka_unit_test(test_errors_type),
        cmocka_unit_test(test_errors_positions),  cmocka_unit_test(test_errors_rings),
        cmocka_unit_test(test_errors_collection), cmocka_unit_test(test_error_without_err),
        cmocka_unit_test(test_max_points),        cmocka_unit_test(test_corpus_good),
        cmocka_unit_test(test_corpus_bad),        cmocka_unit_test(test_fast_same_as_slow),
        cmocka_unit_test(test_fast_refuses),      cmocka_unit_test(test_fast_large),
        cmocka_unit_test(test_fast_corpus),       cmocka_unit_test(test_fast_random),
        cmocka_unit_test(test_wkb_write),         cmocka_unit_test(test_wkb_refuses),
        cmocka_unit_test(test_wkb_random),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
