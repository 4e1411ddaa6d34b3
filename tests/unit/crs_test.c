/* crs_test: names, URIs and .prj WKT to CRS, and transforms checked against
 * PROJ's own command line tools (cs2cs, projinfo) run as separate processes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crs.h"

#define MM 0.001
#define DEG_MM 1e-8 /* about a millimetre in degrees */

static const char *const cli_name[CRS_COUNT] = {
    [CRS_CRS84] = "OGC:CRS84", [CRS_4326] = "EPSG:4326", [CRS_4490] = "EPSG:4490",
    [CRS_3857] = "EPSG:3857",  [CRS_4548] = "EPSG:4548", [CRS_4549] = "EPSG:4549",
    [CRS_4527] = "EPSG:4527",  [CRS_4528] = "EPSG:4528",
};

/* Points around 芹阳 as lon, lat. */
static const double sites[][2] = {
    {118.41, 29.14},
    {118.3951, 29.1213},
    {118.4987, 29.2012},
    {118.1, 28.9},
};
#define NSITES (sizeof sites / sizeof sites[0])

/* Runs cs2cs on n points in the authority axis order of both CRSs (as the
 * tool reads and writes them); out receives n points. */
static void cs2cs(const char *from, const char *to, const double *in, size_t n, double *out)
{
    char cmd[256], line[256];
    char path[] = "/tmp/crs_test_XXXXXX";
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

/* The sites in crs's authority order, computed by cs2cs from EPSG:4490. */
static void sites_in(int crs, double *out)
{
    double latlon[2 * NSITES];
    for (size_t i = 0; i < NSITES; i++) {
        latlon[2 * i] = sites[i][1];
        latlon[2 * i + 1] = sites[i][0];
    }
    cs2cs("EPSG:4490", cli_name[crs], latlon, NSITES, out);
}

static void swap_all(double *xy, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double t = xy[2 * i];
        xy[2 * i] = xy[2 * i + 1];
        xy[2 * i + 1] = t;
    }
}

static double tolerance(int crs)
{
    return crs_is_geographic(crs) ? DEG_MM : MM;
}

/* ---- names ------------------------------------------------------------- */

static void test_parse_forms(void **state)
{
    static const struct {
        const char *s;
        int crs;
    } cases[] = {
        {"http://www.opengis.net/def/crs/OGC/1.3/CRS84", CRS_CRS84},
        {"https://www.opengis.net/def/crs/OGC/1.3/CRS84", CRS_CRS84},
        {"<http://www.opengis.net/def/crs/OGC/1.3/CRS84>", CRS_CRS84},
        {"http://www.opengis.net/def/crs/EPSG/0/4326", CRS_4326},
        {"http://www.opengis.net/def/crs/EPSG/0/4490", CRS_4490},
        {"https://www.opengis.net/def/crs/EPSG/0/4490", CRS_4490},
        {"<http://www.opengis.net/def/crs/EPSG/0/4490>", CRS_4490},
        {"http://www.opengis.net/def/crs/EPSG/0/3857", CRS_3857},
        {"http://www.opengis.net/def/crs/EPSG/0/4548", CRS_4548},
        {"http://www.opengis.net/def/crs/EPSG/0/4549", CRS_4549},
        {"http://www.opengis.net/def/crs/EPSG/0/4527", CRS_4527},
        {"http://www.opengis.net/def/crs/EPSG/0/4528", CRS_4528},
        {"EPSG:4490", CRS_4490},
        {"epsg:4548", CRS_4548},
        {"<EPSG:4549>", CRS_4549},
        {"urn:ogc:def:crs:EPSG::4490", CRS_4490},
        {"urn:ogc:def:crs:EPSG:9.8.15:4528", CRS_4528},
        {"urn:ogc:def:crs:OGC:1.3:CRS84", CRS_CRS84},
        {"urn:ogc:def:crs:OGC::CRS84", CRS_CRS84},
        {"CRS84", CRS_CRS84},
        {"OGC:CRS84", CRS_CRS84},
        {" EPSG:3857 ", CRS_3857},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct err e;
        int crs = -1;
        err_clear(&e);
        if (crs_parse(cases[i].s, &crs, &e) != 0)
            fail_msg("'%s': %s", cases[i].s, e.msg);
        if (crs != cases[i].crs)
            fail_msg("'%s' gave %d, expected %d", cases[i].s, crs, cases[i].crs);
    }
}

static void test_parse_errors(void **state)
{
    static const char *const bad[] = {
        "EPSG:9999",
        "",
        "EPSG:",
        "EPSG:4490x",
        "EPSG:04490a",
        "EPSG:-4490",
        "http://www.opengis.net/def/crs/EPSG/0/",
        "http://www.opengis.net/def/crs/EPSG/0/4490/",
        "http://www.opengis.net/def/crs/EPSG/1/4490",
        "http://example.com/def/crs/EPSG/0/4490",
        "http://www.opengis.net/def/crs/OGC/1.3/CRS83",
        "urn:ogc:def:crs:EPSG::2385",
        "urn:ogc:def:crs:EPSG:4490",
        "<EPSG:4490",
        "CRS84x",
        "4490",
    };
    struct err e;
    int crs = 42;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char want[160];
        err_clear(&e);
        if (crs_parse(bad[i], &crs, &e) != ERR_PARAM)
            fail_msg("'%s' was accepted", bad[i]);
        assert_int_equal(e.code, ERR_PARAM);
        snprintf(want, sizeof want, "unsupported CRS '%s' (supported: ", bad[i]);
        if (strncmp(e.msg, want, strlen(want)) != 0)
            fail_msg("'%s': message '%s'", bad[i], e.msg);
        assert_int_equal(crs, 42);
    }
    crs_parse("EPSG:9999", &crs, &e);
    assert_string_equal(e.msg, "unsupported CRS 'EPSG:9999' (supported: CRS84, EPSG:4326, "
                               "EPSG:4490, EPSG:3857, EPSG:4548, EPSG:4549, EPSG:4527, "
                               "EPSG:4528)");
    assert_int_equal(crs_parse(NULL, &crs, &e), ERR_PARAM);
}

static void test_parse_error_quotes_safely(void **state)
{
    char longname[400];
    struct err e;
    int crs;
    /* control characters and broken UTF-8 become '?'; whole characters stay */
    assert_int_equal(crs_parse("EPSG:\x01\xff\xe4\xb8\xad", &crs, &e), ERR_PARAM);
    assert_non_null(strstr(e.msg, "'EPSG:??\xe4\xb8\xad'"));
    /* a long value is cut, and never inside a character */
    memset(longname, 'a', sizeof longname);
    for (size_t i = 0; i + 3 <= 300; i += 3)
        memcpy(longname + i, "\xe4\xb8\xad", 3);
    longname[301] = '\0';
    assert_int_equal(crs_parse(longname, &crs, &e), ERR_PARAM);
    assert_non_null(strstr(e.msg, "...' (supported: CRS84"));
    assert_true(strlen(e.msg) < 300);
    for (const char *p = strchr(e.msg, '\'') + 1; *p != '.'; p += 3)
        assert_memory_equal(p, "\xe4\xb8\xad", 3);
}

static void test_table(void **state)
{
    static const int epsg[CRS_COUNT] = {0, 4326, 4490, 3857, 4548, 4549, 4527, 4528};
    static const int geographic[CRS_COUNT] = {1, 1, 1, 0, 0, 0, 0, 0};
    static const int swaps[CRS_COUNT] = {0, 1, 1, 0, 1, 1, 1, 1};
    char uri[80];
    for (int crs = 0; crs < CRS_COUNT; crs++) {
        struct err e;
        int back = -1;
        assert_int_equal(crs_epsg(crs), epsg[crs]);
        assert_int_equal(crs_is_geographic(crs), geographic[crs]);
        assert_int_equal(crs_authority_swaps(crs), swaps[crs]);
        assert_int_equal(crs_precision(crs), geographic[crs] ? 9 : 4);
        if (crs == CRS_CRS84)
            snprintf(uri, sizeof uri, "http://www.opengis.net/def/crs/OGC/1.3/CRS84");
        else
            snprintf(uri, sizeof uri, "http://www.opengis.net/def/crs/EPSG/0/%d", epsg[crs]);
        assert_string_equal(crs_uri(crs), uri);
        assert_int_equal(crs_parse(crs_uri(crs), &back, &e), 0);
        assert_int_equal(back, crs);
    }
}

static void test_area_of_use(void **state)
{
    double w, s, e, n;
    crs_area_of_use(CRS_4548, &w, &s, &e, &n);
    assert_true(w == 115.5 && e == 118.5 && s >= 17 && s <= 19 && n >= 53 && n <= 55);
    crs_area_of_use(CRS_4527, &w, &s, &e, &n);
    assert_true(w == 115.5 && e == 118.5);
    crs_area_of_use(CRS_4549, &w, &s, &e, &n);
    assert_true(w == 118.5 && e == 121.5);
    crs_area_of_use(CRS_4528, &w, &s, &e, &n);
    assert_true(w == 118.5 && e == 121.5);
    crs_area_of_use(CRS_4490, &w, &s, &e, &n);
    assert_true(w == -180 && s == -90 && e == 180 && n == 90);
    crs_area_of_use(CRS_3857, &w, &s, &e, &n);
    assert_true(w == -180 && e == 180 && fabs(n - 85.06) < 0.01 && fabs(s + 85.06) < 0.01);
}

/* ---- WKT --------------------------------------------------------------- */

/* Writes the definition of EPSG:code as projinfo prints it in format fmt. */
static char *projinfo_wkt(int code, const char *fmt)
{
    char cmd[128];
    size_t cap = 8192, len = 0, got;
    char *wkt = malloc(cap);
    FILE *f;
    snprintf(cmd, sizeof cmd, "projinfo -o %s --single-line -q EPSG:%d", fmt, code);
    f = popen(cmd, "r");
    assert_non_null(f);
    assert_non_null(wkt);
    while ((got = fread(wkt + len, 1, cap - 1 - len, f)) > 0)
        len += got;
    wkt[len] = '\0';
    assert_int_equal(pclose(f), 0);
    assert_true(len > 20 && len < cap - 1);
    return wkt;
}

static void test_wkt_projinfo(void **state)
{
    static const char *const formats[] = {"WKT1_ESRI", "WKT1_GDAL", "WKT2_2019", "WKT2_2015"};
    for (int crs = CRS_4326; crs < CRS_COUNT; crs++) {
        for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
            char *wkt = projinfo_wkt(crs_epsg(crs), formats[f]);
            struct err e;
            int got = -1;
            err_clear(&e);
            if (crs_from_wkt(wkt, &got, &e) != 0 || got != crs)
                fail_msg("EPSG:%d as %s gave %d (%s)", crs_epsg(crs), formats[f], got, e.msg);
            free(wkt);
        }
    }
}

static void expect_wkt(const char *wkt, int crs)
{
    struct err e;
    int got = -1;
    err_clear(&e);
    if (crs_from_wkt(wkt, &got, &e) != 0 || got != crs)
        fail_msg("%.60s... gave %d, expected %d (%s)", wkt, got, crs, e.msg);
}

static void test_wkt_by_hand(void **state)
{
    /* as ArcGIS writes them */
    expect_wkt("PROJCS[\"CGCS2000_3_Degree_GK_CM_117E\",GEOGCS[\"GCS_China_Geodetic_Coordinate_"
               "System_2000\",DATUM[\"D_China_2000\",SPHEROID[\"CGCS2000\",6378137.0,298.257222"
               "101]],PRIMEM[\"Greenwich\",0.0],UNIT[\"Degree\",0.0174532925199433]],PROJECTION"
               "[\"Gauss_Kruger\"],PARAMETER[\"False_Easting\",500000.0],PARAMETER[\"False_North"
               "ing\",0.0],PARAMETER[\"Central_Meridian\",117.0],PARAMETER[\"Scale_Factor\",1.0]"
               ",PARAMETER[\"Latitude_Of_Origin\",0.0],UNIT[\"Meter\",1.0]]\r\n",
               CRS_4548);
    /* a CGCS2000 GK zone 39 definition under a name of its own: the
     * parameters decide */
    expect_wkt("PROJCS[\"Kaihua survey\",GEOGCS[\"GCS_China_Geodetic_Coordinate_System_2000\","
               "DATUM[\"D_China_2000\",SPHEROID[\"CGCS2000\",6378137.0,298.257222101]],PRIMEM["
               "\"Greenwich\",0.0],UNIT[\"Degree\",0.0174532925199433]],PROJECTION[\"Gauss_Kru"
               "ger\"],PARAMETER[\"False_Easting\",39500000.0],PARAMETER[\"False_Northing\",0.0]"
               ",PARAMETER[\"Central_Meridian\",117.0],PARAMETER[\"Scale_Factor\",1.0],PARAMETER"
               "[\"Latitude_Of_Origin\",0.0],UNIT[\"Meter\",1.0]]",
               CRS_4527);
    /* GDAL's flavour without AUTHORITY under a local name: EPSG:4509 (the
     * 6-degree CM 117E zone) is the same maths; ours is taken */
    expect_wkt("PROJCS[\"Qinyang local\",GEOGCS[\"China Geodetic Coordinate System 2000\",DATUM"
               "[\"China_2000\",SPHEROID[\"CGCS2000\",6378137,298.257222101]],PRIMEM[\"Greenwich"
               "\",0],UNIT[\"degree\",0.0174532925199433]],PROJECTION[\"Transverse_Mercator\"],"
               "PARAMETER[\"latitude_of_origin\",0],PARAMETER[\"central_meridian\",117],PARAMETER"
               "[\"scale_factor\",1],PARAMETER[\"false_easting\",500000],PARAMETER[\"false_north"
               "ing\",0],UNIT[\"metre\",1]]",
               CRS_4548);
    /* TOWGS84 makes it a bound CRS; the base is what counts */
    expect_wkt("GEOGCS[\"China Geodetic Coordinate System 2000\",DATUM[\"China_2000\",SPHEROID["
               "\"CGCS2000\",6378137,298.257222101],TOWGS84[0,0,0,0,0,0,0]],PRIMEM[\"Greenwich\""
               ",0],UNIT[\"degree\",0.0174532925199433]]",
               CRS_4490);
    /* broken WKT: the root name is all there is */
    expect_wkt("PROJCS[\"CGCS2000_3_Degree_GK_Zone_40\",GEOGCS[", CRS_4528);
    expect_wkt("PROJCS[\"CGCS2000 / 3-degree Gauss-Kruger CM 120E\"", CRS_4549);
    expect_wkt("PROJCS[\"CGCS2000 / 3-degree Gauss-Kruger zone 39\",", CRS_4527);
    expect_wkt("GEOGCS[\"GCS_China_Geodetic_Coordinate_System_2000\",DATUM[", CRS_4490);
    expect_wkt("GEOGCS[\"China Geodetic Coordinate System 2000\"", CRS_4490);
    expect_wkt("GEOGCS[\"GCS_WGS_1984\",DATUM[", CRS_4326);
    expect_wkt("GEOGCS[\"WGS 84\",", CRS_4326);
    expect_wkt("PROJCS[\"WGS_1984_Web_Mercator_Auxiliary_Sphere\",GEOGCS[", CRS_3857);
    expect_wkt("\xef\xbb\xbfGEOGCS[\"GCS_China_Geodetic_Coordinate_System_2000\",DATUM[\"D_China_"
               "2000\",SPHEROID[\"CGCS2000\",6378137.0,298.257222101]],PRIMEM[\"Greenwich\",0.0],"
               "UNIT[\"Degree\",0.0174532925199433]]\n",
               CRS_4490);
    /* names of legacy GeoJSON crs members */
    expect_wkt("EPSG:4490", CRS_4490);
    expect_wkt("urn:ogc:def:crs:EPSG::4548", CRS_4548);
    expect_wkt("urn:ogc:def:crs:OGC:1.3:CRS84", CRS_CRS84);
    expect_wkt("http://www.opengis.net/def/crs/EPSG/0/4527", CRS_4527);
}

static void test_wkt_unsupported(void **state)
{
    char *wkt = projinfo_wkt(2385, "WKT1_ESRI"); /* Xian 1980 / 3-degree GK CM 120E */
    struct err e;
    int crs = 42;
    assert_int_equal(crs_from_wkt(wkt, &crs, &e), ERR_PARAM);
    assert_string_equal(e.msg, "unsupported CRS 'Xian_1980_3_Degree_GK_CM_120E' (EPSG:2385; "
                               "supported: CRS84, EPSG:4326, EPSG:4490, EPSG:3857, EPSG:4548, "
                               "EPSG:4549, EPSG:4527, EPSG:4528)");
    free(wkt);
    wkt = projinfo_wkt(2385, "WKT1_GDAL");
    assert_int_equal(crs_from_wkt(wkt, &crs, &e), ERR_PARAM);
    assert_non_null(strstr(e.msg, "'Xian 1980 / 3-degree Gauss-Kruger CM 120E' (EPSG:2385"));
    free(wkt);
    assert_int_equal(crs_from_wkt("hello", &crs, &e), ERR_PARAM);
    assert_non_null(strstr(e.msg, "unsupported CRS 'hello' (supported: CRS84"));
    assert_int_equal(crs_from_wkt("EPSG:9999", &crs, &e), ERR_PARAM);
    assert_non_null(strstr(e.msg, "unsupported CRS 'EPSG:9999' (supported: CRS84"));
    assert_int_equal(crs_from_wkt("PROJCS[\"Beijing 1954 / 3-degree GK CM 117E\",", &crs, &e),
                     ERR_PARAM);
    assert_non_null(strstr(e.msg, "'Beijing 1954 / 3-degree GK CM 117E'"));
    assert_int_equal(crs_from_wkt("", &crs, &e), ERR_PARAM);
    assert_int_equal(crs_from_wkt(NULL, &crs, &e), ERR_PARAM);
    assert_int_equal(crs, 42);
}

/* ---- transforms -------------------------------------------------------- */

static int setup_ctx(void **state)
{
    struct err e;
    crs_ctx *c = crs_ctx_new(&e);
    *state = c;
    return c ? 0 : -1;
}

static int teardown_ctx(void **state)
{
    crs_ctx_free(*state);
    return 0;
}

/* from -> to in every combination of axis orders against cs2cs. */
static void check_pair(crs_ctx *c, int from, int to)
{
    double in[2 * NSITES], want[2 * NSITES];
    sites_in(from, in);
    cs2cs(cli_name[from], cli_name[to], in, NSITES, want);
    for (int fa = 0; fa < 2; fa++) {
        for (int ta = 0; ta < 2; ta++) {
            double xy[2 * NSITES], exp[2 * NSITES];
            struct err e;
            memcpy(xy, in, sizeof xy);
            memcpy(exp, want, sizeof exp);
            if (fa == CRS_AXIS_XY && crs_authority_swaps(from))
                swap_all(xy, NSITES);
            if (ta == CRS_AXIS_XY && crs_authority_swaps(to))
                swap_all(exp, NSITES);
            if (crs_transform(c, from, fa, to, ta, xy, NSITES, &e) != 0)
                fail_msg("%s -> %s: %s", cli_name[from], cli_name[to], e.msg);
            for (size_t i = 0; i < 2 * NSITES; i++)
                if (fabs(xy[i] - exp[i]) > tolerance(to))
                    fail_msg("%s (%d) -> %s (%d) [%zu]: %.10f, cs2cs %.10f", cli_name[from], fa,
                             cli_name[to], ta, i, xy[i], exp[i]);
        }
    }
}

static void test_transform_vs_cs2cs(void **state)
{
    static const int pairs[][2] = {
        {CRS_4490, CRS_4548},  {CRS_4548, CRS_4490},  {CRS_4490, CRS_4549},  {CRS_4549, CRS_4490},
        {CRS_4490, CRS_4527},  {CRS_4527, CRS_4490},  {CRS_4490, CRS_4528},  {CRS_4528, CRS_4490},
        {CRS_4548, CRS_4549},  {CRS_4527, CRS_4548},  {CRS_CRS84, CRS_4548}, {CRS_4548, CRS_CRS84},
        {CRS_CRS84, CRS_3857}, {CRS_3857, CRS_4490},  {CRS_4490, CRS_3857},  {CRS_4326, CRS_4490},
        {CRS_CRS84, CRS_4490}, {CRS_4490, CRS_CRS84}, {CRS_4326, CRS_CRS84},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        check_pair(*state, pairs[i][0], pairs[i][1]);
}

/* Axis order spelled out: EPSG:4490 by URI is lat, lon; EPSG:4548 by URI
 * northing, easting; x/y order is lon/easting first. */
static void test_transform_axis_order(void **state)
{
    crs_ctx *c = *state;
    double ref[2], xy[2];
    struct err e;
    cs2cs("EPSG:4490", "EPSG:4548", (double[]){29.14, 118.41}, 1, ref); /* N, E */
    assert_true(ref[0] > 3e6 && ref[1] < 1e6);

    xy[0] = 29.14, xy[1] = 118.41;
    assert_int_equal(
        crs_transform(c, CRS_4490, CRS_AXIS_AUTHORITY, CRS_4548, CRS_AXIS_XY, xy, 1, &e), 0);
    assert_true(fabs(xy[0] - ref[1]) < MM && fabs(xy[1] - ref[0]) < MM);

    assert_int_equal(
        crs_transform(c, CRS_4548, CRS_AXIS_XY, CRS_CRS84, CRS_AXIS_AUTHORITY, xy, 1, &e), 0);
    assert_true(fabs(xy[0] - 118.41) < DEG_MM && fabs(xy[1] - 29.14) < DEG_MM);

    xy[0] = ref[0], xy[1] = ref[1];
    assert_int_equal(
        crs_transform(c, CRS_4548, CRS_AXIS_AUTHORITY, CRS_4490, CRS_AXIS_AUTHORITY, xy, 1, &e), 0);
    assert_true(fabs(xy[0] - 29.14) < DEG_MM && fabs(xy[1] - 118.41) < DEG_MM);
}

static void test_transform_identity(void **state)
{
    crs_ctx *c = *state;
    double xy[4] = {118.41, 29.14, 118.123456789, 29.987654321};
    struct err e;
    assert_int_equal(crs_transform(c, CRS_4490, CRS_AXIS_XY, CRS_4490, CRS_AXIS_XY, xy, 2, &e), 0);
    assert_true(xy[0] == 118.41 && xy[1] == 29.14 && xy[2] == 118.123456789);
    assert_int_equal(
        crs_transform(c, CRS_4490, CRS_AXIS_XY, CRS_4490, CRS_AXIS_AUTHORITY, xy, 2, &e), 0);
    assert_true(xy[0] == 29.14 && xy[1] == 118.41 && xy[3] == 118.123456789);
    assert_int_equal(
        crs_transform(c, CRS_CRS84, CRS_AXIS_XY, CRS_CRS84, CRS_AXIS_AUTHORITY, xy, 2, &e), 0);
    assert_true(xy[0] == 29.14 && xy[1] == 118.41);
    assert_int_equal(crs_transform(c, CRS_4490, CRS_AXIS_XY, CRS_4548, CRS_AXIS_XY, NULL, 0, &e),
                     0);
}

static void test_transform_round_trips(void **state)
{
    crs_ctx *c = *state;
    for (int from = 0; from < CRS_COUNT; from++) {
        for (int to = 0; to < CRS_COUNT; to++) {
            double xy[2 * NSITES], back[2 * NSITES];
            struct err e;
            for (size_t i = 0; i < NSITES; i++)
                xy[2 * i] = sites[i][0], xy[2 * i + 1] = sites[i][1];
            assert_int_equal(
                crs_transform(c, CRS_4490, CRS_AXIS_XY, from, CRS_AXIS_XY, xy, NSITES, &e), 0);
            memcpy(back, xy, sizeof xy);
            assert_int_equal(crs_transform(c, from, CRS_AXIS_XY, to, CRS_AXIS_XY, back, NSITES, &e),
                             0);
            assert_int_equal(crs_transform(c, to, CRS_AXIS_XY, from, CRS_AXIS_XY, back, NSITES, &e),
                             0);
            for (size_t i = 0; i < 2 * NSITES; i++)
                if (fabs(back[i] - xy[i]) > tolerance(from) / 10)
                    fail_msg("%s -> %s -> back [%zu]: %.10f vs %.10f", cli_name[from], cli_name[to],
                             i, back[i], xy[i]);
        }
    }
}

/* Runs fn with stderr sent to a file; returns how many bytes it wrote. */
static long stderr_bytes(void (*fn)(crs_ctx *), crs_ctx *c)
{
    char path[] = "/tmp/crs_test_err_XXXXXX";
    int fd = mkstemp(path), saved;
    long n;
    assert_true(fd >= 0);
    fflush(stderr);
    saved = dup(2);
    dup2(fd, 2);
    fn(c);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    n = lseek(fd, 0, SEEK_END);
    close(fd);
    unlink(path);
    return n;
}

static void fail_some(crs_ctx *c)
{
    double xy[] = {118.41, 95, 1e300, 1e300};
    struct err e;
    int crs;
    crs_transform(c, CRS_4490, CRS_AXIS_XY, CRS_4548, CRS_AXIS_XY, xy, 2, &e);
    crs_from_wkt("PROJCS[\"x\",GEOGCS[\"y\",DATUM[nonsense]]]", &crs, &e);
}

static void test_transform_errors(void **state)
{
    crs_ctx *c = *state;
    double xy[] = {118.41, 29.14, 118.41, 100, 118.5, 29.2};
    double *many;
    struct err e;
    assert_int_equal(crs_transform(c, CRS_4490, CRS_AXIS_XY, CRS_4548, CRS_AXIS_XY, xy, 3, &e),
                     ERR_PARAM);
    assert_string_equal(e.msg, "point 1: cannot transform (118.41, 100) from EPSG:4490 to "
                               "EPSG:4548: Invalid coordinate");
    /* the point as the caller wrote it: latitude first by URI */
    xy[0] = 29.14, xy[1] = 118.41, xy[2] = 100, xy[3] = 118.41;
    assert_int_equal(
        crs_transform(c, CRS_4490, CRS_AXIS_AUTHORITY, CRS_4548, CRS_AXIS_XY, xy, 2, &e),
        ERR_PARAM);
    assert_non_null(strstr(e.msg, "point 1: cannot transform (100, 118.41) from EPSG:4490"));
    xy[0] = NAN, xy[1] = 118.41;
    assert_int_equal(crs_transform(c, CRS_4490, CRS_AXIS_XY, CRS_4549, CRS_AXIS_XY, xy, 1, &e),
                     ERR_PARAM);
    assert_non_null(strstr(e.msg, "point 0: cannot transform (nan, 118.41)"));

    /* past the first batch of points: the index counts from the start */
    many = malloc(2000 * sizeof *many);
    assert_non_null(many);
    for (size_t i = 0; i < 1000; i++)
        many[2 * i] = 118.41 + i * 1e-5, many[2 * i + 1] = 29.14;
    many[2 * 777 + 1] = -91;
    assert_int_equal(crs_transform(c, CRS_4490, CRS_AXIS_XY, CRS_4548, CRS_AXIS_XY, many, 1000, &e),
                     ERR_PARAM);
    assert_non_null(strstr(e.msg, "point 777: cannot transform (118.41777, -91)"));
    free(many);

    /* PROJ says nothing on stderr: messages go into the err */
    assert_int_equal(stderr_bytes(fail_some, c), 0);
}

static void test_transform_many(void **state)
{
    crs_ctx *c = *state;
    enum { N = 1500 };
    double *xy = malloc(2 * N * sizeof *xy), ref[2 * NSITES];
    struct err e;
    assert_non_null(xy);
    for (size_t i = 0; i < N; i++)
        xy[2 * i] = sites[i % NSITES][1], xy[2 * i + 1] = sites[i % NSITES][0];
    assert_int_equal(
        crs_transform(c, CRS_4490, CRS_AXIS_AUTHORITY, CRS_4527, CRS_AXIS_AUTHORITY, xy, N, &e), 0);
    sites_in(CRS_4527, ref);
    for (size_t i = 0; i < N; i++) {
        assert_true(fabs(xy[2 * i] - ref[2 * (i % NSITES)]) < MM);
        assert_true(fabs(xy[2 * i + 1] - ref[2 * (i % NSITES) + 1]) < MM);
    }
    free(xy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_error_quotes_safely),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_area_of_use),
        cmocka_unit_test(test_wkt_projinfo),
        cmocka_unit_test(test_wkt_by_hand),
        cmocka_unit_test(test_wkt_unsupported),
        cmocka_unit_test_setup_teardown(test_transform_vs_cs2cs, setup_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_transform_axis_order, setup_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_transform_identity, setup_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_transform_round_trips, setup_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_transform_errors, setup_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_transform_many, setup_ctx, teardown_ctx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
