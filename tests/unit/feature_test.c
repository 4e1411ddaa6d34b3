/* feature_test: GeoJSON Features read against a layer's schema — values by
 * type, required fields, enums, patterns, dates, unknown members, the
 * geometry's type, closure, range, validity (with the place of the fault)
 * and repair, axis order — each refusal naming the member at fault; and
 * stored rows written back out as GeoJSON. Areas are checked against the
 * closed form of a quadrangle on GRS80, computed here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crs.h"
#include "feature.h"

#define GRS80_A 6378137.0
#define GRS80_F (1 / 298.257222101)
#define DEG (M_PI / 180)

static const char *SCHEMA =
    "{\"layers\":[{\"id\":\"plots\",\"key\":\"code\",\"fields\":["
    "{\"name\":\"code\",\"type\":\"string\",\"required\":true,\"pattern\":\"^P[0-9]{3}$\"},"
    "{\"name\":\"kind\",\"type\":\"string\",\"enum\":[\"farm\",\"wood\"]},"
    "{\"name\":\"owner\",\"type\":\"string\",\"aliases\":[\"QLR\"]},"
    "{\"name\":\"households\",\"type\":\"integer\"},"
    "{\"name\":\"share\",\"type\":\"number\"},"
    "{\"name\":\"is_public\",\"type\":\"boolean\"},"
    "{\"name\":\"surveyed\",\"type\":\"date\"}]}]}";

enum { F_CODE, F_KIND, F_OWNER, F_HH, F_SHARE, F_PUBLIC, F_SURVEYED, N_FIELDS };

/* A box of 0.01 degree at 118 E 29 N, and the same ring lat-first. */
#define BOX "{\"type\":\"Polygon\",\"coordinates\":[[[118,29],[118.01,29],[118.01,29.01]," \
            "[118,29.01],[118,29]]]}"
#define BOX_LATLON "{\"type\":\"Polygon\",\"coordinates\":[[[29,118],[29,118.01],[29.01,118.01]," \
                   "[29.01,118],[29,118]]]}"

struct fixture {
    ctx *c;
    struct layers *ls;
    const struct layer *l;
    struct limits lim;
    json_t *json; /* the last Feature parsed: its values borrow from it */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct err e;
    if (!(f->c = ctx_new(&e)) || layers_parse(SCHEMA, &f->ls, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    f->l = layers_find(f->ls, "plots");
    limits_default(&f->lim);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    json_decref(f->json);
    layers_free(f->ls);
    ctx_free(f->c);
    free(f);
    return 0;
}

static double authalic_q(double phi)
{
    double e2 = GRS80_F * (2 - GRS80_F), e = sqrt(e2), s = sin(phi);
    return s / (1 - e2 * s * s) + log((1 + e * s) / (1 - e * s)) / (2 * e);
}

/* Area of the quadrangle between two parallels and two meridians. */
static double quad_area(double west, double south, double east, double north)
{
    double b = GRS80_A * (1 - GRS80_F);
    return b * b * (east - west) * DEG / 2 * (authalic_q(north * DEG) - authalic_q(south * DEG));
}

/* Parses a Feature made of properties text and geometry text. */
static int parse(struct fixture *f, const char *props, const char *geom, int crs, int axis,
                 int flags, struct feature_in *out, struct err *e)
{
    char text[2048];
    json_error_t je;
    json_t *j;
    int rc;
    snprintf(text, sizeof text, "{\"type\":\"Feature\",\"properties\":%s,\"geometry\":%s}", props,
             geom);
    j = json_loads(text, 0, &je);
    if (!j)
        fail_msg("test JSON: %s: %s", text, je.text);
    err_clear(e);
    rc = feature_parse(f->c, f->l, j, crs, axis, &f->lim, flags, out, e);
    json_decref(f->json);
    f->json = j;
    return rc;
}

static void expect_error(struct fixture *f, const char *props, const char *geom, int flags,
                         int code, const char *msg)
{
    struct feature_in in;
    struct err e;
    int rc = parse(f, props, geom, CRS_CRS84, CRS_AXIS_XY, flags, &in, &e);
    if (rc != code || strcmp(e.msg, msg))
        fail_msg("%s / %s: got %d '%s', want %d '%s'", props, geom, rc, e.msg, code, msg);
    assert_null(in.vals);
    assert_null(in.geom);
}

/* ---- values -------------------------------------------------------------- */

static void test_values(void **state)
{
    struct fixture *f = *state;
    struct feature_in in;
    struct err e;
    double want = quad_area(118, 29, 118.01, 29.01);
    assert_int_equal(parse(f, "{\"code\":\"P001\",\"kind\":\"wood\",\"QLR\":\"张三\","
                              "\"households\":7.0,\"share\":0.25,\"is_public\":true,"
                              "\"surveyed\":\"2024-02-29\"}",
                           BOX, CRS_CRS84, CRS_AXIS_XY, FEATURE_STRICT, &in, &e), 0);
    assert_int_equal(in.vals[F_CODE].type, VAL_TEXT);
    assert_string_equal(in.vals[F_CODE].s, "P001");
    assert_string_equal(in.vals[F_KIND].s, "wood");
    assert_int_equal(in.vals[F_OWNER].type, VAL_TEXT);
    assert_string_equal(in.vals[F_OWNER].s, "张三");
    assert_int_equal(in.vals[F_HH].type, VAL_INT);
    assert_int_equal(in.vals[F_HH].i, 7);
    assert_int_equal(in.vals[F_SHARE].type, VAL_REAL);
    assert_true(in.vals[F_SHARE].d == 0.25);
    assert_int_equal(in.vals[F_PUBLIC].type, VAL_INT);
    assert_int_equal(in.vals[F_PUBLIC].i, 1);
    assert_string_equal(in.vals[F_SURVEYED].s, "2024-02-29");
    assert_non_null(in.geom);
    assert_false(in.repaired);
    assert_true(fabs(in.area_m2 - want) < 1e-6 * want);
    feature_in_clear(f->c, &in);
    assert_null(in.vals);

    /* absent and null values are NULL; an integer number for a number */
    assert_int_equal(parse(f, "{\"code\":\"P002\",\"kind\":null,\"share\":3,\"is_public\":false}",
                           BOX, CRS_CRS84, CRS_AXIS_XY, 0, &in, &e), 0);
    assert_int_equal(in.vals[F_KIND].type, VAL_NULL);
    assert_int_equal(in.vals[F_OWNER].type, VAL_NULL);
    assert_int_equal(in.vals[F_SHARE].type, VAL_REAL);
    assert_true(in.vals[F_SHARE].d == 3);
    assert_int_equal(in.vals[F_PUBLIC].type, VAL_INT);
    assert_int_equal(in.vals[F_PUBLIC].i, 0);
    feature_in_clear(f->c, &in);

    /* unknown members: ignored, or refused when strict (but not the read-only ones) */
    assert_int_equal(parse(f, "{\"code\":\"P003\",\"colour\":\"red\"}", BOX, CRS_CRS84,
                           CRS_AXIS_XY, 0, &in, &e), 0);
    feature_in_clear(f->c, &in);
    assert_int_equal(parse(f, "{\"code\":\"P003\",\"area_m2\":5,\"area_mu\":1,\"id\":9}", BOX,
                           CRS_CRS84, CRS_AXIS_XY, FEATURE_STRICT, &in, &e), 0);
    feature_in_clear(f->c, &in);
    expect_error(f, "{\"code\":\"P003\",\"colour\":\"red\"}", BOX, FEATURE_STRICT, ERR_INVALID,
                 "properties.colour: not a field of plots");
}

static void test_value_errors(void **state)
{
    struct fixture *f = *state;
    struct {
        const char *props, *msg;
    } cases[] = {
        {"{}", "properties.code: required"},
        {"null", "properties.code: required"},
        {"{\"code\":null}", "properties.code: required"},
        {"[1]", "properties: expected an object or null"},
        {"{\"code\":\"X1\"}", "properties.code: 'X1' does not match ^P[0-9]{3}$"},
        {"{\"code\":\"P0001\"}", "properties.code: 'P0001' does not match ^P[0-9]{3}$"},
        {"{\"code\":101}", "properties.code: expected a string"},
        {"{\"code\":\"P001\",\"kind\":\"forest\"}",
         "properties.kind: 'forest' is not one of farm, wood"},
        {"{\"code\":\"P001\",\"kind\":\"Farm\"}", "properties.kind: 'Farm' is not one of farm, wood"},
        {"{\"code\":\"P001\",\"households\":2.5}", "properties.households: expected an integer"},
        {"{\"code\":\"P001\",\"households\":\"2\"}", "properties.households: expected an integer"},
        {"{\"code\":\"P001\",\"households\":true}", "properties.households: expected an integer"},
        {"{\"code\":\"P001\",\"share\":\"0.5\"}", "properties.share: expected a number"},
        {"{\"code\":\"P001\",\"is_public\":1}", "properties.is_public: expected true or false"},
        {"{\"code\":\"P001\",\"is_public\":\"true\"}",
         "properties.is_public: expected true or false"},
        {"{\"code\":\"P001\",\"surveyed\":\"2023-02-29\"}",
         "properties.surveyed: '2023-02-29' is not a date (YYYY-MM-DD)"},
        {"{\"code\":\"P001\",\"surveyed\":\"1900-02-29\"}",
         "properties.surveyed: '1900-02-29' is not a date (YYYY-MM-DD)"},
        {"{\"code\":\"P001\",\"surveyed\":\"2024-04-31\"}",
         "properties.surveyed: '2024-04-31' is not a date (YYYY-MM-DD)"},
        {"{\"code\":\"P001\",\"surveyed\":\"2024-13-01\"}",
         "properties.surveyed: '2024-13-01' is not a date (YYYY-MM-DD)"},
        {"{\"code\":\"P001\",\"surveyed\":\"2024-1-01\"}",
         "properties.surveyed: '2024-1-01' is not a date (YYYY-MM-DD)"},
        {"{\"code\":\"P001\",\"surveyed\":\"2024-01-01T00:00\"}",
         "properties.surveyed: '2024-01-01T00:00' is not a date (YYYY-MM-DD)"},
        {"{\"code\":\"P001\",\"surveyed\":20240101}", "properties.surveyed: expected a string"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_error(f, cases[i].props, BOX, 0, ERR_INVALID, cases[i].msg);
    /* 2000 was a leap year */
    {
        struct feature_in in;
        struct err e;
        assert_int_equal(parse(f, "{\"code\":\"P001\",\"surveyed\":\"2000-02-29\"}", BOX,
                               CRS_CRS84, CRS_AXIS_XY, 0, &in, &e), 0);
        feature_in_clear(f->c, &in);
    }
}

static void test_not_a_feature(void **state)
{
    struct fixture *f = *state;
    struct feature_in in;
    struct err e;
    json_t *j = json_loads("[1,2]", 0, NULL);
    assert_int_equal(feature_parse(f->c, f->l, j, CRS_CRS84, CRS_AXIS_XY, &f->lim, 0, &in, &e),
                     ERR_INVALID);
    assert_string_equal(e.msg, "expected a GeoJSON Feature object");
    json_decref(j);
    j = json_loads("{\"type\":\"FeatureCollection\",\"features\":[]}", 0, NULL);
    assert_int_equal(feature_parse(f->c, f->l, j, CRS_CRS84, CRS_AXIS_XY, &f->lim, 0, &in, &e),
                     ERR_INVALID);
    assert_string_equal(e.msg, "type: expected \"Feature\"");
    json_decref(j);
}

/* ---- geometry ------------------------------------------------------------ */

static void test_geometry_errors(void **state)
{
    struct fixture *f = *state;
    const char *ok = "{\"code\":\"P001\"}";
    struct feature_in in;
    struct err e;
    (void)state;
    expect_error(f, ok, "null", 0, ERR_INVALID,
                 "geometry: required (layer plots takes Polygon or MultiPolygon)");
    expect_error(f, ok, "{\"type\":\"Point\",\"coordinates\":[118,29]}", 0, ERR_INVALID,
                 "geometry: layer plots takes Polygon or MultiPolygon, not Point");
    expect_error(f, ok, "{\"type\":\"LineString\",\"coordinates\":[[118,29],[118.1,29.1]]}", 0,
                 ERR_INVALID, "geometry: layer plots takes Polygon or MultiPolygon, not LineString");

    /* a ring that is not closed: the ring's place and both ends named */
    assert_int_equal(parse(f, ok, "{\"type\":\"Polygon\",\"coordinates\":[[[118,29],[118.01,29],"
                                  "[118.01,29.01],[118,29.01],[118,29.005]]]}",
                           CRS_CRS84, CRS_AXIS_XY, 0, &in, &e), ERR_INVALID);
    assert_int_equal(strncmp(e.msg, "geometry: coordinates[0]", 24), 0);
    assert_non_null(strstr(e.msg, "ring is not closed"));
    assert_non_null(strstr(e.msg, "118 29"));
    assert_non_null(strstr(e.msg, "118 29.005"));

    /* a position with one number, in the second ring */
    assert_int_equal(parse(f, ok, "{\"type\":\"Polygon\",\"coordinates\":[[[118,29],[118.01,29],"
                                  "[118.01,29.01],[118,29]],[[118.001,29.001],[118.002],"
                                  "[118.002,29.002],[118.001,29.001]]]}",
                           CRS_CRS84, CRS_AXIS_XY, 0, &in, &e), ERR_INVALID);
    assert_int_equal(strncmp(e.msg, "geometry: coordinates[1][1]", 27), 0);
    assert_non_null(strstr(e.msg, "2 or 3 numbers"));

    /* an unknown type names the member */
    assert_int_equal(parse(f, ok, "{\"type\":\"Polygone\",\"coordinates\":[]}", CRS_CRS84,
                           CRS_AXIS_XY, 0, &in, &e), ERR_INVALID);
    assert_int_equal(strncmp(e.msg, "geometry: type", 14), 0);
    assert_non_null(strstr(e.msg, "Polygone"));

    /* out of range after reading: the latitude named */
    assert_int_equal(parse(f, ok, "{\"type\":\"Polygon\",\"coordinates\":[[[118,89.995],"
                                  "[118.01,89.995],[118.01,95],[118,95],[118,89.995]]]}",
                           CRS_CRS84, CRS_AXIS_XY, 0, &in, &e), ERR_INVALID);
    assert_string_equal(e.msg, "geometry: coordinates out of range: latitude 95 (expected -90 to 90)");
    /* lon-first coordinates given as EPSG:4490's lat-first: out of range, the
     * farthest latitude named */
    assert_int_equal(parse(f, ok, BOX, CRS_4490, CRS_AXIS_AUTHORITY, 0, &in, &e), ERR_INVALID);
    assert_string_equal(e.msg, "geometry: coordinates out of range: latitude 118.01 (expected -90 to 90)");

    /* too many positions for the limit */
    f->lim.max_vertices = 4;
    assert_int_equal(parse(f, ok, BOX, CRS_CRS84, CRS_AXIS_XY, 0, &in, &e), ERR_TOO_LARGE);
    assert_int_equal(strncmp(e.msg, "geometry: ", 10), 0);
    limits_default(&f->lim);
}

static void test_self_intersection(void **state)
{
    struct fixture *f = *state;
    /* a bow tie: its diagonals cross at the box's centre */
    const char *bowtie = "{\"type\":\"Polygon\",\"coordinates\":[[[118,29],[118.01,29.01],"
                         "[118.01,29],[118,29.01],[118,29]]]}";
    struct feature_in in;
    struct err e;
    double half = quad_area(118, 29, 118.01, 29.01) / 2;
    assert_int_equal(parse(f, "{\"code\":\"P001\"}", bowtie, CRS_CRS84, CRS_AXIS_XY, 0, &in, &e),
                     ERR_INVALID);
    assert_string_equal(e.msg, "geometry: Self-intersection at 118.005 29.005");
    assert_true(in.have_loc);
    assert_true(fabs(in.loc[0] - 118.005) < 1e-9 && fabs(in.loc[1] - 29.005) < 1e-9);
    assert_null(in.geom);

    /* repaired: two triangles, half the box, the reason kept */
    assert_int_equal(parse(f, "{\"code\":\"P001\"}", bowtie, CRS_CRS84, CRS_AXIS_XY,
                           FEATURE_MAKE_VALID, &in, &e), 0);
    assert_true(in.repaired);
    assert_string_equal(in.repair_reason, "Self-intersection at 118.005 29.005");
    assert_int_equal(GEOSGeomTypeId_r(f->c->geos, in.geom), GEOS_MULTIPOLYGON);
    assert_true(fabs(in.area_m2 - half) < 1e-6 * half);
    feature_in_clear(f->c, &in);
}

static void test_axis_and_multipolygon(void **state)
{
    struct fixture *f = *state;
    struct feature_in in;
    struct err e;
    double x, y, want = quad_area(118, 29, 118.01, 29.01);
    const GEOSGeometry *ring;
    /* lat-first in EPSG:4490's own order: stored lon, lat */
    assert_int_equal(parse(f, "{\"code\":\"P001\"}", BOX_LATLON, CRS_4490, CRS_AXIS_AUTHORITY, 0,
                           &in, &e), 0);
    assert_true(fabs(in.area_m2 - want) < 1e-6 * want);
    ring = GEOSGetExteriorRing_r(f->c->geos, in.geom);
    assert_int_equal(GEOSCoordSeq_getXY_r(f->c->geos, GEOSGeom_getCoordSeq_r(f->c->geos, ring), 2,
                                          &x, &y), 1);
    assert_true(fabs(x - 118.01) < 1e-12 && fabs(y - 29.01) < 1e-12);
    feature_in_clear(f->c, &in);

    /* two boxes with a hole in the first: areas add, the hole subtracts */
    assert_int_equal(parse(f, "{\"code\":\"P001\"}",
                           "{\"type\":\"MultiPolygon\",\"coordinates\":["
                           "[[[118,29],[118.01,29],[118.01,29.01],[118,29.01],[118,29]],"
                           "[[118.002,29.002],[118.002,29.004],[118.004,29.004],[118.004,29.002],"
                           "[118.002,29.002]]],"
                           "[[[118.02,29],[118.03,29],[118.03,29.02],[118.02,29.02],[118.02,29]]]]}",
                           CRS_CRS84, CRS_AXIS_XY, 0, &in, &e), 0);
    want = quad_area(118, 29, 118.01, 29.01) - quad_area(118.002, 29.002, 118.004, 29.004) +
           quad_area(118.02, 29, 118.03, 29.02);
    assert_true(fabs(in.area_m2 - want) < 1e-6 * want);
    feature_in_clear(f->c, &in);
}

/* ---- writing ------------------------------------------------------------- */

static void test_write(void **state)
{
    struct fixture *f = *state;
    struct value v[N_FIELDS] = {
        {VAL_TEXT, 0, 0, "P001"}, {VAL_NULL, 0, 0, NULL},  {VAL_TEXT, 0, 0, "a \"b\"\n"},
        {VAL_INT, 12, 0, NULL},   {VAL_REAL, 0, 0.125, NULL}, {VAL_INT, 1, 0, NULL},
        {VAL_TEXT, 0, 0, "2024-01-02"}};
    struct store_row row;
    struct feature_out o = {CRS_CRS84, CRS_AXIS_XY, NULL, 0};
    unsigned char props[N_FIELDS] = {1, 0, 0, 1, 0, 1, 0};
    struct buf b;
    struct err e;
    memset(&row, 0, sizeof row);
    row.fid = 42;
    row.version = 3;
    row.area_m2 = 1234.5678; /* 1.85185... mu */
    row.gj = "{\"type\":\"Polygon\",\"coordinates\":[[[1,2],[3,2],[3,4],[1,2]]]}";
    row.vals = v;
    buf_init(&b);
    assert_int_equal(feature_write(f->c, f->l, &row, &o, &b, &e), 0);
    assert_string_equal(b.data,
                        "{\"type\":\"Feature\",\"id\":42,\"geometry\":{\"type\":\"Polygon\","
                        "\"coordinates\":[[[1,2],[3,2],[3,4],[1,2]]]},\"properties\":{"
                        "\"code\":\"P001\",\"kind\":null,\"owner\":\"a \\\"b\\\"\\n\","
                        "\"households\":12,\"share\":0.125,\"is_public\":true,"
                        "\"surveyed\":\"2024-01-02\",\"area_m2\":1234.568,\"area_mu\":1.8519}}");
    buf_reset(&b);
    o.props = props;
    o.no_area = FEATURE_NO_AREA_M2;
    assert_int_equal(feature_write(f->c, f->l, &row, &o, &b, &e), 0);
    assert_non_null(strstr(b.data, ",\"properties\":{\"code\":\"P001\",\"households\":12,"
                                   "\"is_public\":true,\"area_mu\":1.8519}}"));
    buf_reset(&b);
    memset(props, 0, sizeof props);
    o.no_area = FEATURE_NO_AREA;
    assert_int_equal(feature_write(f->c, f->l, &row, &o, &b, &e), 0);
    assert_non_null(strstr(b.data, ",\"properties\":{}}"));
    buf_reset(&b);
    /* lat-first output swaps the stored coordinates */
    o.crs = CRS_4490;
    o.axis = CRS_AXIS_AUTHORITY;
    o.props = NULL;
    row.gj = "{\"type\":\"Polygon\",\"coordinates\":[[[118,29],[118.5,29],[118.5,29.25],[118,29]]]}";
    assert_int_equal(feature_write(f->c, f->l, &row, &o, &b, &e), 0);
    assert_non_null(strstr(b.data, "[[[29,118],[29,118.5],[29.25,118.5],[29,118]]]"));
    buf_clear(&b);

    /* single values */
    buf_init(&b);
    feature_write_value(&f->l->fields[F_PUBLIC], &(struct value){VAL_INT, 0, 0, NULL}, &b);
    buf_putc(&b, ' ');
    feature_write_value(&f->l->fields[F_HH], &(struct value){VAL_INT, -5, 0, NULL}, &b);
    buf_putc(&b, ' ');
    feature_write_value(NULL, &(struct value){VAL_REAL, 0, 0.1, NULL}, &b);
    buf_putc(&b, ' ');
    feature_write_value(NULL, &(struct value){VAL_NULL, 0, 0, NULL}, &b);
    buf_putc(&b, ' ');
    feature_write_value(NULL, &(struct value){VAL_TEXT, 0, 0, "\xe5\x9c\xb0"}, &b);
    assert_string_equal(b.data, "false -5 0.1 null \"\xe5\x9c\xb0\"");
    buf_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_value_errors),
        cmocka_unit_test(test_not_a_feature),
        cmocka_unit_test(test_geometry_errors),
        cmocka_unit_test(test_self_intersection),
        cmocka_unit_test(test_axis_and_multipolygon),
        cmocka_unit_test(test_write),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
