/* shapefile_test: zipped Shapefiles written by GDAL's ogr2ogr and by shapelib,
 * zipped with libzip, read back and checked against what was written: GBK and
 * UTF-8 text, rings assigned to the right shells (areas known by
 * construction), the .prj's CRS with coordinates checked against cs2cs, and
 * refusals of unsafe, oversized and incomplete archives. Every call runs with
 * TMPDIR set to an empty directory that must be empty again afterwards. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <shapefil.h>
#include <zip.h>

#include "crs.h"
#include "shapefile.h"

#define MM 0.001

/* Two parcels and a record without geometry, lon/lat in CGCS2000. The first
 * is a 0.02 x 0.02 degree square with a 0.005 x 0.005 hole; the second two
 * squares of 0.01, the first with a 0.004 x 0.004 hole. */
static const char *const parcels_geojson =
    "{\"type\":\"FeatureCollection\",\"features\":["
    "{\"type\":\"Feature\",\"properties\":{\"DLBM\":\"0101\",\"DLMC\":\"水田\","
    "\"QSDWMC\":\"芹阳村股份经济合作社\",\"HS\":7,\"TBMJ\":1234.5},"
    "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":["
    "[[118.40,29.14],[118.42,29.14],[118.42,29.16],[118.40,29.16],[118.40,29.14]],"
    "[[118.405,29.145],[118.405,29.15],[118.41,29.15],[118.41,29.145],[118.405,29.145]]]}},"
    "{\"type\":\"Feature\",\"properties\":{\"DLBM\":\"0103\",\"DLMC\":\"旱地\","
    "\"QSDWMC\":null,\"HS\":0,\"TBMJ\":0.25},"
    "\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":["
    "[[[118.43,29.14],[118.44,29.14],[118.44,29.15],[118.43,29.15],[118.43,29.14]],"
    "[[118.432,29.142],[118.432,29.146],[118.436,29.146],[118.436,29.142],[118.432,29.142]]],"
    "[[[118.45,29.14],[118.46,29.14],[118.46,29.15],[118.45,29.15],[118.45,29.14]]]]}},"
    "{\"type\":\"Feature\",\"properties\":{\"DLBM\":\"1001\",\"DLMC\":\"公路用地\","
    "\"QSDWMC\":\"国有\",\"HS\":1,\"TBMJ\":2},\"geometry\":null}]}";

static char work[64];   /* this run's scratch directory */
static char tmpdir[96]; /* TMPDIR while the reader runs */

static void sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

static void file_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static char *file_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p;
    long n;
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    rewind(f);
    p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return p;
}

static const char *find(const char *hay, size_t n, const void *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(hay + i, needle, m))
            return hay + i;
    return NULL;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Writes the parcels with ogr2ogr into work/<dir>/parcels.* */
static void parcels_write(const char *dir, const char *options)
{
    char in[128], out[128];
    snprintf(out, sizeof out, "%s/%s/parcels.shp", work, dir);
    if (file_exists(out))
        return; /* written by an earlier test */
    snprintf(in, sizeof in, "%s/parcels.geojson", work);
    if (!file_exists(in))
        file_write(in, parcels_geojson, strlen(parcels_geojson));
    sh("mkdir -p %s/%s && ogr2ogr -f 'ESRI Shapefile' %s %s/%s/parcels.shp %s", work, dir, options,
       work, dir, in);
}

struct entry {
    const char *name; /* in the zip */
    const char *file; /* from this file, or */
    const void *data; /* these bytes */
    size_t len;
};

/* Zips the entries into work/<zname> with libzip; returns the archive's bytes. */
static char *zip_make(const char *zname, const struct entry *ents, size_t n, size_t *len)
{
    char path[128];
    int zerr;
    zip_t *z;
    snprintf(path, sizeof path, "%s/%s", work, zname);
    z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(z);
    for (size_t i = 0; i < n; i++) {
        zip_source_t *src;
        if (ents[i].name[strlen(ents[i].name) - 1] == '/') {
            assert_true(zip_dir_add(z, ents[i].name, ZIP_FL_ENC_UTF_8) >= 0);
            continue;
        }
        src = ents[i].file ? zip_source_file(z, ents[i].file, 0, -1)
                           : zip_source_buffer(z, ents[i].data, ents[i].len, 0);
        assert_non_null(src);
        assert_true(zip_file_add(z, ents[i].name, src, ZIP_FL_ENC_UTF_8) >= 0);
    }
    assert_int_equal(zip_close(z), 0);
    return file_read(path, len);
}

/* Zips work/<dir>/parcels.<ext> for each ext in exts (space-separated) as
 * <prefix>parcels.<ext>. */
static char *zip_parcels(const char *dir, const char *exts, const char *prefix, size_t *len)
{
    struct entry ents[8];
    char names[8][64], files[8][128], list[64];
    size_t n = 0;
    snprintf(list, sizeof list, "%s", exts);
    for (char *ext = strtok(list, " "); ext && n < 8; ext = strtok(NULL, " "), n++) {
        snprintf(names[n], sizeof names[n], "%sparcels.%s", prefix, ext);
        snprintf(files[n], sizeof files[n], "%s/%s/parcels.%s", work, dir, ext);
        assert_true(file_exists(files[n]));
        ents[n] = (struct entry){names[n], files[n], NULL, 0};
    }
    return zip_make("parcels.zip", ents, n, len);
}

static int tmpdir_empty(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *de;
    int n = 0;
    assert_non_null(d);
    while ((de = readdir(d)))
        n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    closedir(d);
    return n == 0;
}

/* Calls the reader; checks that it left no temporary files behind and that
 * the outputs match the return code. */
static int zread(const char *zip, size_t len, const char *enc, const struct shapefile_limits *lim,
                 json_t **fc, int *crs, int *known, struct err *e)
{
    int rc;
    err_clear(e);
    *crs = -1;
    rc = shapefile_zip_read(zip, len, enc, lim, fc, crs, known, e);
    assert_true(tmpdir_empty());
    if (rc) {
        assert_null(*fc);
        assert_int_equal(e->code, rc);
    } else {
        assert_non_null(*fc);
        assert_string_equal(json_string_value(json_object_get(*fc, "type")), "FeatureCollection");
    }
    return rc;
}

static json_t *feature(json_t *fc, size_t i)
{
    json_t *f = json_array_get(json_object_get(fc, "features"), i);
    assert_non_null(f);
    return f;
}

static const char *prop_str(json_t *f, const char *name)
{
    json_t *v = json_object_get(json_object_get(f, "properties"), name);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

/* Twice the signed area of a GeoJSON ring: > 0 counter-clockwise. */
static double ring_area2(json_t *ring)
{
    size_t n = json_array_size(ring);
    double s = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        json_t *a = json_array_get(ring, i), *b = json_array_get(ring, i + 1);
        s += json_real_value(json_array_get(a, 0)) * json_real_value(json_array_get(b, 1)) -
             json_real_value(json_array_get(b, 0)) * json_real_value(json_array_get(a, 1));
    }
    return s;
}

/* Checks a polygon's shell area and its holes' areas (all positive numbers,
 * in the order given), and RFC 7946 winding. */
static void polygon_check(json_t *poly, double shell, const double *holes, size_t nholes,
                          double tol)
{
    assert_int_equal(json_array_size(poly), 1 + nholes);
    assert_true(ring_area2(json_array_get(poly, 0)) > 0);
    assert_true(fabs(ring_area2(json_array_get(poly, 0)) / 2 - shell) < tol);
    for (size_t i = 0; i < nholes; i++) {
        double a = ring_area2(json_array_get(poly, 1 + i));
        assert_true(a < 0);
        assert_true(fabs(-a / 2 - holes[i]) < tol);
    }
}

static const char *geom_type(json_t *f)
{
    return json_string_value(json_object_get(json_object_get(f, "geometry"), "type"));
}

static json_t *coords(json_t *f)
{
    return json_object_get(json_object_get(f, "geometry"), "coordinates");
}

/* ---- text, rings and CRS from ogr2ogr ------------------------------------- */

static void test_gbk_parcels(void **state)
{
    static const unsigned char shuitian_gbk[] = {0xcb, 0xae, 0xcc, 0xef}; /* 水田 */
    const double hole0 = 0.005 * 0.005, hole1 = 0.004 * 0.004;
    struct err e;
    json_t *fc, *f;
    int crs, known;
    size_t len, dlen;
    char *zip, *dbf, path[128];
    parcels_write("gbk4490", "-lco ENCODING=GBK -a_srs EPSG:4490");
    /* the test data itself: GBK bytes in the .dbf, a .cpg saying so */
    snprintf(path, sizeof path, "%s/gbk4490/parcels.dbf", work);
    dbf = file_read(path, &dlen);
    assert_non_null(find(dbf, dlen, shuitian_gbk, sizeof shuitian_gbk));
    free(dbf);
    zip = zip_parcels("gbk4490", "shp shx dbf prj cpg", "", &len);
    assert_int_equal(zread(zip, len, NULL, NULL, &fc, &crs, &known, &e), 0);
    assert_int_equal(known, 1);
    assert_int_equal(crs, CRS_4490);
    assert_int_equal(json_array_size(json_object_get(fc, "features")), 3);

    f = feature(fc, 0);
    assert_string_equal(prop_str(f, "DLMC"), "水田");
    assert_string_equal(prop_str(f, "QSDWMC"), "芹阳村股份经济合作社");
    assert_string_equal(prop_str(f, "DLBM"), "0101");
    assert_true(json_is_integer(json_object_get(json_object_get(f, "properties"), "HS")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(f, "properties"), "HS")),
                     7);
    assert_true(fabs(json_number_value(json_object_get(json_object_get(f, "properties"), "TBMJ")) -
                     1234.5) < 1e-9);
    assert_string_equal(geom_type(f), "Polygon");
    polygon_check(coords(f), 0.02 * 0.02, &hole0, 1, 1e-12);

    f = feature(fc, 1);
    assert_string_equal(prop_str(f, "DLMC"), "旱地");
    assert_true(json_is_null(json_object_get(json_object_get(f, "properties"), "QSDWMC")));
    assert_string_equal(geom_type(f), "MultiPolygon");
    assert_int_equal(json_array_size(coords(f)), 2);
    polygon_check(json_array_get(coords(f), 0), 0.01 * 0.01, &hole1, 1, 1e-12);
    polygon_check(json_array_get(coords(f), 1), 0.01 * 0.01, NULL, 0, 1e-12);

    f = feature(fc, 2);
    assert_string_equal(prop_str(f, "DLMC"), "公路用地");
    assert_true(json_is_null(json_object_get(f, "geometry")));
    json_decref(fc);
    free(zip);
}

/* Runs cs2cs from EPSG:4490 (lat lon) to EPSG:4548 (northing easting). */
static void cs2cs_4548(const double *lonlat, size_t n, double *en)
{
    char path[128], cmd[256], line[256];
    FILE *f;
    snprintf(path, sizeof path, "%s/cs2cs.in", work);
    f = fopen(path, "w");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%.12f %.12f\n", lonlat[2 * i + 1], lonlat[2 * i]);
    fclose(f);
    snprintf(cmd, sizeof cmd, "cs2cs -f %%.6f EPSG:4490 EPSG:4548 < %s", path);
    f = popen(cmd, "r");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(fgets(line, sizeof line, f));
        assert_int_equal(sscanf(line, "%lf %lf", &en[2 * i + 1], &en[2 * i]), 2);
    }
    assert_int_equal(pclose(f), 0);
}

/* Every expected position is a vertex of the geometry within 1 mm, and the
 * geometry has no other vertices. */
static void vertices_match(json_t *geom_coords, int depth, const double *en, size_t n)
{
    size_t total = 0;
    json_t *rings = json_array();
    if (depth == 2) {
        json_array_extend(rings, geom_coords);
    } else {
        for (size_t p = 0; p < json_array_size(geom_coords); p++)
            json_array_extend(rings, json_array_get(geom_coords, p));
    }
    for (size_t r = 0; r < json_array_size(rings); r++) {
        json_t *ring = json_array_get(rings, r);
        for (size_t k = 0; k + 1 < json_array_size(ring); k++, total++) {
            double x = json_real_value(json_array_get(json_array_get(ring, k), 0));
            double y = json_real_value(json_array_get(json_array_get(ring, k), 1));
            size_t hit = 0;
            for (size_t i = 0; i < n; i++)
                hit += fabs(x - en[2 * i]) < MM && fabs(y - en[2 * i + 1]) < MM;
            assert_int_equal(hit, 1);
        }
    }
    assert_int_equal(total, n);
    json_decref(rings);
}

static void test_gk_4548(void **state)
{
    /* the distinct vertices of the two parcels as written above */
    static const double p0[] = {118.40,  29.14,  118.42,  29.14, 118.42, 29.16, 118.40, 29.16,
                                118.405, 29.145, 118.405, 29.15, 118.41, 29.15, 118.41, 29.145};
    static const double p1[] = {118.43,  29.14,  118.44,  29.14,  118.44,  29.15,  118.43,  29.15,
                                118.432, 29.142, 118.432, 29.146, 118.436, 29.146, 118.436, 29.142,
                                118.45,  29.14,  118.46,  29.14,  118.46,  29.15,  118.45,  29.15};
    double en0[16], en1[24];
    struct err e;
    json_t *fc;
    int crs, known;
    size_t len;
    char *zip;
    parcels_write("gk", "-lco ENCODING=GBK -s_srs EPSG:4490 -t_srs EPSG:4548");
    zip = zip_parcels("gk", "shp shx dbf prj cpg", "", &len);
    assert_int_equal(zread(zip, len, NULL, NULL, &fc, &crs, &known, &e), 0);
    assert_int_equal(known, 1);
    assert_int_equal(crs, CRS_4548);
    cs2cs_4548(p0, 8, en0);
    cs2cs_4548(p1, 12, en1);
    assert_true(en0[0] > 500000 && en0[0] < 800000 && en0[1] > 3e6); /* x = easting */
    vertices_match(coords(feature(fc, 0)), 2, en0, 8);
    vertices_match(coords(feature(fc, 1)), 3, en1, 12);
    assert_string_equal(prop_str(feature(fc, 0), "QSDWMC"), "芹阳村股份经济合作社");
    json_decref(fc);
    free(zip);
}

/* ---- encodings --------------------------------------------------------------- */

static void test_cpg_and_encoding(void **state)
{
    struct err e;
    json_t *fc;
    int crs, known;
    size_t len, clen;
    char *zip, *cpg, path[128];
    parcels_write("utf8", "-lco ENCODING=UTF-8");
    snprintf(path, sizeof path, "%s/utf8/parcels.cpg", work);
    cpg = file_read(path, &clen);
    assert_non_null(strstr(cpg, "UTF-8"));
    free(cpg);

    /* the .cpg says UTF-8: it wins over the default and over the parameter */
    zip = zip_parcels("utf8", "shp shx dbf cpg", "", &len);
    assert_int_equal(zread(zip, len, NULL, NULL, &fc, &crs, &known, &e), 0);
    assert_int_equal(known, 0);
    assert_int_equal(crs, -1);
    assert_string_equal(prop_str(feature(fc, 0), "QSDWMC"), "芹阳村股份经济合作社");
    json_decref(fc);
    assert_int_equal(zread(zip, len, "GBK", NULL, &fc, &crs, &known, &e), 0);
    assert_string_equal(prop_str(feature(fc, 0), "DLMC"), "水田");
    json_decref(fc);
    free(zip);

    /* no .cpg: the parameter, else GBK, which does not give the UTF-8 text */
    zip = zip_parcels("utf8", "shp shx dbf", "", &len);
    assert_int_equal(zread(zip, len, "utf-8", NULL, &fc, &crs, &known, &e), 0);
    assert_string_equal(prop_str(feature(fc, 0), "DLMC"), "水田");
    json_decref(fc);
    if (zread(zip, len, NULL, NULL, &fc, &crs, &known, &e) == 0) {
        assert_string_not_equal(prop_str(feature(fc, 0), "QSDWMC"), "芹阳村股份经济合作社");
        json_decref(fc);
    } else {
        assert_int_equal(e.code, ERR_INVALID);
        assert_non_null(strstr(e.msg, "not valid GBK"));
    }
    free(zip);

    /* GBK without a .cpg: the default, or code page 936 by number */
    parcels_write("gbk", "-lco ENCODING=GBK");
    zip = zip_parcels("gbk", "shp shx dbf", "", &len);
    assert_int_equal(zread(zip, len, NULL, NULL, &fc, &crs, &known, &e), 0);
    assert_string_equal(prop_str(feature(fc, 0), "DLMC"), "水田");
    json_decref(fc);
    assert_int_equal(zread(zip, len, "936", NULL, &fc, &crs, &known, &e), 0);
    assert_string_equal(prop_str(feature(fc, 0), "QSDWMC"), "芹阳村股份经济合作社");
    json_decref(fc);
    assert_int_equal(zread(zip, len, "KLINGON-8", NULL, &fc, &crs, &known, &e), ERR_PARAM);
    assert_string_equal(e.msg, "encoding: unknown text encoding 'KLINGON-8'");
    free(zip);
}

/* A .cpg naming a code page by number, and one naming nothing known. */
static void test_cpg_names(void **state)
{
    char f[4][128], *zip;
    struct err e;
    json_t *fc;
    int crs, known;
    size_t len;
    parcels_write("gbk", "-lco ENCODING=GBK");
    for (int i = 0; i < 3; i++)
        snprintf(f[i], sizeof f[i], "%s/gbk/parcels.%s", work,
                 i == 0   ? "shp"
                 : i == 1 ? "shx"
                          : "dbf");
    {
        struct entry ents[] = {{"parcels.shp", f[0], NULL, 0},
                               {"parcels.shx", f[1], NULL, 0},
                               {"parcels.dbf", f[2], NULL, 0},
                               {"parcels.cpg", NULL, "936\r\n", 5}};
        zip = zip_make("a.zip", ents, 4, &len);
        assert_int_equal(zread(zip, len, "UTF-8", NULL, &fc, &crs, &known, &e), 0);
        assert_string_equal(prop_str(feature(fc, 0), "DLMC"), "水田");
        json_decref(fc);
        free(zip);
        ents[3].data = "KLINGON";
        ents[3].len = 7;
        zip = zip_make("a.zip", ents, 4, &len);
        assert_int_equal(zread(zip, len, NULL, NULL, &fc, &crs, &known, &e), ERR_INVALID);
        assert_string_equal(e.msg, "cpg: unknown code page 'KLINGON'");
        free(zip);
    }
}

/* A byte that is no GBK text in a .dbf is refused naming feature and field. */
static void test_invalid_gbk(void **state)
{
    static const unsigned char shui_gbk[] = {0xcb, 0xae}; /* 水 */
    char path[128], *dbf, *hit, *zip;
    struct err e;
    json_t *fc;
    int crs, known;
    size_t len, dlen;
    parcels_write("bad", "-lco ENCODING=GBK");
    snprintf(path, sizeof path, "%s/bad/parcels.dbf", work);
    dbf = file_read(path, &dlen);
    hit = (char *)find(dbf, dlen, shui_gbk, sizeof shui_gbk);
    assert_non_null(hit);
    hit[0] = (char)0xff; /* no GBK sequence starts with 0xFF */
    file_write(path, dbf, dlen);
    free(dbf);
    zip = zip_parcels("bad", "shp shx dbf cpg", "", &len);
    assert_int_equal(zread(zip, len, NULL, NULL, &fc, &crs, &known, &e), ERR_INVALID);
    assert_string_equal(e.msg, "features[0].properties.DLMC: not valid GBK");
    free(zip);
}

/* ---- shapes and fields written with shapelib ---------------------------- */

/* A ring as x,y pairs, closed by repeating the first. */
struct sring {
    int n;
    double xy[16];
};

static struct sring rect_cw(double x0, double y0, double x1, double y1)
{
    return (struct sring){5, {x0, y0, x0, y1, x1, y1, x1, y0, x0, y0}};
}

static struct sring rect_ccw(double x0, double y0, double x1, double y1)
{
    return (struct sring){5, {x0, y0, x1, y0, x1, y1, x0, y1, x0, y0}};
}

static SHPObject *shape_new(int type, const struct sring *rings, int n)
{
    int starts[16], total = 0;
    double x[256], y[256], z[256];
    for (int r = 0; r < n; r++) {
        starts[r] = total;
        for (int k = 0; k < rings[r].n; k++, total++) {
            x[total] = rings[r].xy[2 * k];
            y[total] = rings[r].xy[2 * k + 1];
            z[total] = 100 + total;
        }
    }
    return SHPCreateObject(type, -1, n, starts, NULL, total, x, y, z, NULL);
}

/* Writes work/<name>/s.shp with the given shapes and a DBF with one C field. */
static void shapes_write(const char *name, int type, SHPObject **shapes, int n)
{
    char path[128];
    SHPHandle h;
    DBFHandle d;
    snprintf(path, sizeof path, "%s/%s", work, name);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/%s/s", work, name);
    h = SHPCreate(path, type);
    d = DBFCreate(path);
    assert_non_null(h);
    assert_non_null(d);
    assert_int_equal(DBFAddField(d, "NAME", FTString, 20, 0), 0);
    for (int i = 0; i < n; i++) {
        assert_int_equal(SHPWriteObject(h, -1, shapes[i]), i);
        assert_true(DBFWriteStringAttribute(d, i, 0, "x"));
        SHPDestroyObject(shapes[i]);
    }
    SHPClose(h);
    DBFClose(d);
}

static char *zip_shapes(const char *name, size_t *len)
{
    char f[3][128];
    struct entry ents[3];
    for (int i = 0; i < 3; i++) {
        static const char *const ext[] = {"shp", "shx", "dbf"};
        snprintf(f[i], sizeof f[i], "%s/%s/s.%s", work, name, ext[i]);
        ents[i] = (struct entry){ext[i] + 0, f[i], NULL, 0};
    }
    ents[0].name = "s.shp";
    ents[1].name = "s.shx";
    ents[2].name = "s.dbf";
    return zip_make("s.zip", ents, 3, len);
}

static void test_hole_assignment(void **state)
{
    /* Rings deliberately out of order: island C (3..7) sits in hole H1 (1..9)
     * of A (0..10) and has hole H2 (4..6), which C holds but A's box does too;
     * B (20..30) has hole HB; D (40..50) has a triangular hole touching D's
     * edge at (40, 45). */
    struct sring rings[] = {
        rect_ccw(4, 4, 6, 6),                  /* H2 -> C */
        rect_cw(0, 0, 10, 10),                 /* A */
        rect_cw(20, 0, 30, 10),                /* B */
        rect_ccw(1, 1, 9, 9),                  /* H1 -> A */
        rect_cw(3, 3, 7, 7),                   /* C */
        rect_ccw(22, 2, 24, 4),                /* HB -> B */
        rect_cw(40, 40, 50, 50),               /* D */
        {4, {40, 45, 45, 43, 45, 47, 40, 45}}, /* touching hole -> D (ccw) */
    };
    struct sring lone_ccw = rect_ccw(0, 0, 2, 3); /* a sloppy writer */
    struct sring orphan[] = {rect_cw(0, 0, 1, 1), rect_ccw(5, 5, 6, 6)};
    SHPObject *shapes[4];
    struct err e;
    json_t *fc, *c;
    int crs, known;
    size_t len;
    char *zip;
    double h;
    shapes[0] = shape_new(SHPT_POLYGONZ, rings, 8);
    shapes[1] = shape_new(SHPT_POLYGONZ, &lone_ccw, 1);
    shapes[2] = shape_new(SHPT_POLYGONZ, orphan, 2);
    shapes[3] = SHPCreateSimpleObject(SHPT_NULL, 0, NULL, NULL, NULL);
    shapes_write("rings", SHPT_POLYGONZ, shapes, 4);
    zip = zip_shapes("rings", &len);
    assert_int_equal(zread(zip, len, NULL, NULL, &fc, &crs, &known, &e), 0);
    c = coords(feature(fc, 0));
    assert_string_equal(geom_type(feature(fc, 0)), "MultiPolygon");
    assert_int_equal(json_array_size(c), 4); /* A, B, C, D in the order of their shells */
    h = 64;
    polygon_check(json_array_get(c, 0), 100, &h, 1, 1e-9);
    h = 4;
    polygon_check(json_array_get(c, 1), 100, &h, 1, 1e-9);
    polygon_check(json_array_get(c, 2), 16, &h, 1, 1e-9);
    h = 10; /* base 4, height 5 */
    polygon_check(json_array_get(c, 3), 100, &h, 1, 1e-9);
    /* Z dropped */
    assert_int_equal(json_array_size(json_array_get(json_array_get(json_array_get(c, 0), 0), 0)),
                     2);

    assert_string_equal(geom_type(feature(fc, 1)), "Polygon");
    polygon_check(coords(feature(fc, 1)), 6, NULL, 0, 1e-9);
    assert_string_equal(geom_type(feature(fc, 2)), "MultiPolygon");
    polygon_check(json_array_get(coords(feature(fc, 2)), 0), 1, NULL, 0, 1e-9);
    polygon_check(json_array_get(coords(feature(fc, 2)), 1), 1, NULL, 0, 1e-9);
    assert_true(json_is_null(json_object_get(feature(fc, 3), "geometry")));
    json_decref(fc);
    free(zip);
}

static void test_not_polygons(void **state)
{
    struct sring line = {3, {0, 0, 1, 1, 2, 0}};
    SHPObject *shapes[1] = {shape_new(SHPT_ARC, &line, 1)};
    struct err e;
    json_t *fc;
    int crs, known;
    size_t len;
    char *zip;
    shapes_write("lines", SHPT_ARC, shapes, 1);
    zip = zip_shapes("lines", &len);
    assert_int_equal(zread(zip, len, NULL, NULL, &fc, &crs, &known, &e), ERR_INVALID);
    assert_string_equal(e.msg, "shapefile: shape type PolyLine is not a polygon type");
    free(zip);
}

/* One field of each DBF type, written raw so that the bytes are known. */
static void types_write(const char *name, const char *const *rows, int nrows)
{
    char path[128];
    struct sring sq = rect_cw(0, 0, 1, 1);
    SHPHandle h;
    DBFHandle d;
    snprintf(path, sizeof path, "%s/%s", work, name);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/%s/s", work, name);
    h = SHPCreate(path, SHPT_POLYGON);
    d = DBFCreate(path);
    assert_int_equal(DBFAddNativeFieldType(d, "TXT", 'C', 8, 0), 0);
    assert_int_equal(DBFAddNativeFieldType(d, "INT", 'N', 20, 0), 1);
    assert_int_equal(DBFAddNativeFieldType(d, "DEC", 'F', 10, 3), 2);
    assert_int_equal(DBFAddNativeFieldType(d, "OK", 'L', 1, 0), 3);
    assert_int_equal(DBFAddNativeFieldType(d, "DAY", 'D', 8, 0), 4);
    for (int i = 0; i < nrows; i++) {
        SHPObject *o = shape_new(SHPT_POLYGON, &sq, 1);
        assert_int_equal(SHPWriteObject(h, -1, o), i);
        SHPDestroyObject(o);
        for (int f = 0; f < 5; f++)
            assert_true(DBFWriteAttributeDirectly(d, i, f, (void *)rows[5 * i + f]));
    }
    SHPClose(h);
    DBFClose(d);
}

static void test_field_types(void **state)
{
    static const char *const rows[] = {
        " a b    ", "                  42", "     1.250", "T", "20230405",
        "        ", "99999999999999999999", "          ", "?", "        ",
        "x       ", "      -1234567890123", "**********", "n", "00000000",
    };
    struct err e;
    json_t *fc, *p;
    int crs, known;
    size_t len;
    char *zip;
    types_write("types", rows, 3);
    zip = zip_shapes("types", &len);
    assert_int_equal(zread(zip, len, NULL, NULL, &fc, &crs, &known, &e), 0);
    p = json_object_get(feature(fc, 0), "properties");
    assert_string_equal(json_string_value(json_object_get(p, "TXT")), " a b");
    assert_true(json_is_integer(json_object_get(p, "INT")));
    assert_int_equal(json_integer_value(json_object_get(p, "INT")), 42);
    assert_true(json_is_real(json_object_get(p, "DEC")));
    assert_true(json_real_value(json_object_get(p, "DEC")) == 1.25);
    assert_true(json_is_true(json_object_get(p, "OK")));
    assert_string_equal(json_string_value(json_object_get(p, "DAY")), "2023-04-05");
    p = json_object_get(feature(fc, 1), "properties");
    assert_true(json_is_null(json_object_get(p, "TXT")));
    assert_true(json_is_real(json_object_get(p, "INT"))); /* beyond 64 bits */
    assert_true(json_real_value(json_object_get(p, "INT")) == 1e20);
    assert_true(json_is_null(json_object_get(p, "DEC")));
    assert_true(json_is_null(json_object_get(p, "OK")));
    assert_true(json_is_null(json_object_get(p, "DAY")));
    p = json_object_get(feature(fc, 2), "properties");
    assert_int_equal(json_integer_value(json_object_get(p, "INT")), -1234567890123LL);
    assert_true(json_is_null(json_object_get(p, "DEC")));
    assert_true(json_is_false(json_object_get(p, "OK")));
    assert_true(json_is_null(json_object_get(p, "DAY")));
    json_decref(fc);
    free(zip);
}

static void test_field_errors(void **state)
{
    static const char *const bad_number[] = {
        "a       ", "                   1", "     1.000", "T", "20230405",
        "b       ", "                 12a", "     1.000", "T", "20230405",
    };
    static const char *const bad_date[] = {
        "a       ", "                   1", "     1.000", "T", "20231305",
    };
    struct err e;
    json_t *fc;
    int crs, known;
    size_t len;
    char *zip;
    types_write("badnum", bad_number, 2);
    zip = zip_shapes("badnum", &len);
    assert_int_equal(zread(zip, len, NULL, NULL, &fc, &crs, &known, &e), ERR_INVALID);
    assert_string_equal(e.msg, "features[1].properties.INT: '12a' is not a number");
    free(zip);
    types_write("baddate", bad_date, 1);
    zip = zip_shapes("baddate", &len);
    assert_int_equal(zread(zip, len, NULL, NULL, &fc, &crs, &known, &e), ERR_INVALID);
    assert_string_equal(e.msg, "features[0].properties.DAY: '20231305' is not a date (YYYYMMDD)");
    free(zip);
}

/* A record marked deleted in the .dbf is left out with its shape. */
static void test_deleted_record(void **state)
{
    static const char *const rows[] = {
        "first   ", "                   1", "     1.000", "T", "20230405",
        "second  ", "                   2", "     2.000", "F", "20230406",
    };
    char path[128];
    struct err e;
    json_t *fc;
    int crs, known;
    size_t len;
    char *zip;
    DBFHandle d;
    types_write("deleted", rows, 2);
    snprintf(path, sizeof path, "%s/deleted/s.dbf", work);
    d = DBFOpen(path, "r+b");
    assert_non_null(d);
    assert_true(DBFMarkRecordDeleted(d, 0, 1));
    DBFClose(d);
    zip = zip_shapes("deleted", &len);
    assert_int_equal(zread(zip, len, NULL, NULL, &fc, &crs, &known, &e), 0);
    assert_int_equal(json_array_size(json_object_get(fc, "features")), 1);
    assert_string_equal(prop_str(feature(fc, 0), "TXT"), "second");
    json_decref(fc);
    free(zip);
}

/* ---- the archive -------------------------------------------------------- */

static void test_members(void **state)
{
    struct err e;
    json_t *fc;
    int crs, known;
    size_t len;
    char *zip, f[5][128];
    parcels_write("gbk4490", "-lco ENCODING=GBK -a_srs EPSG:4490");
    for (int i = 0; i < 5; i++)
        snprintf(f[i], sizeof f[i], "%s/gbk4490/parcels.%s", work,
                 (const char *[]){"shp", "shx", "dbf", "prj", "cpg"}[i]);

    /* in one folder, names in mixed case */
    {
        struct entry ents[] = {{"survey/", NULL, "", 0},
                               {"survey/PARCELS.SHP", f[0], NULL, 0},
                               {"survey/Parcels.Shx", f[1], NULL, 0},
                               {"survey/parcels.dbf", f[2], NULL, 0},
                               {"survey/parcels.PRJ", f[3], NULL, 0},
                               {"readme.txt", NULL, "hello", 5},
                               {"__MACOSX/survey/._parcels.shp", NULL, "fork", 4}};
        zip = zip_make("m.zip", ents, 7, &len);
        assert_int_equal(zread(zip, len, NULL, NULL, &fc, &crs, &known, &e), 0);
        assert_int_equal(crs, CRS_4490);
        assert_string_equal(prop_str(feature(fc, 0), "DLMC"), "水田");
        json_decref(fc);
        free(zip);
    }
    /* without the .dbf */
    zip = zip_parcels("gbk4490", "shp shx prj cpg", "", &len);
    assert_int_equal(zread(zip, len, NULL, NULL, &fc, &crs, &known, &e), ERR_INVALID);
    assert_string_equal(e.msg, "zip: 'parcels.dbf' is missing (a Shapefile needs .shp, .shx "
                               "and .dbf)");
    free(zip);
    zip = zip_parcels("gbk4490", "shp dbf", "x/", &len);
    assert_int_equal(zread(zip, len, NULL, NULL, &fc, &crs, &known, &e), ERR_INVALID);
    assert_string_equal(e.msg, "zip: 'x/parcels.shx' is missing (a Shapefile needs .shp, .shx "
                               "and .dbf)");
    free(zip);
    /* two layers, none, deeper than one folder */
    {
        struct entry ents[] = {{"a.shp", f[0], NULL, 0}, {"b.shp", f[0], NULL, 0}};
        zip = zip_make("m.zip", ents, 2, &len);
        assert_int_equal(zread(zip, len, NULL, NULL, &fc, &crs, &known, &e), ERR_INVALID);
        assert_string_equal(e.msg, "zip: more than one .shp ('a.shp', 'b.shp'); upload one "
                                   "Shapefile per zip");
        free(zip);
        ents[0].name = "a/b/c.shp";
        zip = zip_make("m.zip", ents, 1, &len);
        assert_int_equal(zread(zip, len, NULL, NULL, &fc, &crs, &known, &e), ERR_INVALID);
        assert_string_equal(e.msg, "zip: no .shp file (at the top level or in one folder)");
        free(zip);
    }
    assert_int_equal(zread("PK not a zip", 12, NULL, NULL, &fc, &crs, &known, &e), ERR_BAD_REQUEST);
    assert_non_null(strstr(e.msg, "zip: not a readable zip archive"));
}

static void test_unsafe_paths(void **state)
{
    static const char *const bad[] = {"../x", "a/../../x.shp", "/etc/cron.d/x", "..\\x.dbf",
                                      "C:/x.shp"};
    struct err e;
    json_t *fc;
    int crs, known;
    size_t len;
    char *zip, f[3][128], want[128];
    parcels_write("gbk", "-lco ENCODING=GBK");
    for (int i = 0; i < 3; i++)
        snprintf(f[i], sizeof f[i], "%s/gbk/parcels.%s", work,
                 (const char *[]){"shp", "shx", "dbf"}[i]);
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        struct entry ents[] = {{"parcels.shp", f[0], NULL, 0},
                               {"parcels.shx", f[1], NULL, 0},
                               {"parcels.dbf", f[2], NULL, 0},
                               {bad[b], NULL, "x", 1}};
        zip = zip_make("u.zip", ents, 4, &len);
        assert_int_equal(zread(zip, len, NULL, NULL, &fc, &crs, &known, &e), ERR_INVALID);
        snprintf(want, sizeof want, "zip: entry '%s' has an unsafe path", bad[b]);
        assert_string_equal(e.msg, want);
        free(zip);
    }
    /* a name that merely contains two dots is fine */
    {
        struct entry ents[] = {
            {"a..b.shp", f[0], NULL, 0}, {"a..b.shx", f[1], NULL, 0}, {"a..b.dbf", f[2], NULL, 0}};
        zip = zip_make("u.zip", ents, 3, &len);
        assert_int_equal(zread(zip, len, NULL, NULL, &fc, &crs, &known, &e), 0);
        json_decref(fc);
        free(zip);
    }
}

/* Finds the central directory record of the first entry and the local
 * header at offset 0, and makes both declare `size` uncompressed bytes. */
static void zip_forge_size(char *zip, size_t len, uint32_t size)
{
    unsigned char le[4] = {size & 0xff, (size >> 8) & 0xff, (size >> 16) & 0xff, size >> 24};
    size_t i;
    assert_memory_equal(zip, "PK\x03\x04", 4);
    memcpy(zip + 22, le, 4);
    for (i = 0; i + 4 <= len && memcmp(zip + i, "PK\x01\x02", 4); i++)
        ;
    assert_true(i + 28 <= len);
    memcpy(zip + i + 24, le, 4);
}

static void test_zip_bomb(void **state)
{
    const size_t big = (size_t)48 << 20; /* zeros: deflate to about 48 KB */
    struct shapefile_limits lim = {.max_bytes = (size_t)4 << 20};
    struct err e;
    json_t *fc;
    int crs, known;
    size_t len;
    char *zip, *zeros = calloc(1, big), f[2][128];
    assert_non_null(zeros);
    parcels_write("gbk", "-lco ENCODING=GBK");
    snprintf(f[0], sizeof f[0], "%s/gbk/parcels.shx", work);
    snprintf(f[1], sizeof f[1], "%s/gbk/parcels.dbf", work);
    {
        struct entry ents[] = {{"parcels.shp", NULL, zeros, big},
                               {"parcels.shx", f[0], NULL, 0},
                               {"parcels.dbf", f[1], NULL, 0}};
        zip = zip_make("bomb.zip", ents, 3, &len);
    }
    assert_true(len < big / 100);
    assert_int_equal(zread(zip, len, NULL, &lim, &fc, &crs, &known, &e), ERR_TOO_LARGE);
    assert_string_equal(e.msg, "zip: the Shapefile inflates to more than the limit of 4194304 "
                               "bytes (max_bytes)");
    /* the same bomb declaring 1000 bytes: the bytes inflated are what count */
    zip_forge_size(zip, len, 1000);
    assert_int_equal(zread(zip, len, NULL, &lim, &fc, &crs, &known, &e), ERR_TOO_LARGE);
    assert_string_equal(e.msg, "zip: the Shapefile inflates to more than the limit of 4194304 "
                               "bytes (max_bytes)");
    free(zip);
    free(zeros);
}

static void test_limits(void **state)
{
    struct shapefile_limits lim = {.max_features = 2};
    struct entry many[70];
    char names[70][16];
    struct err e;
    json_t *fc;
    int crs, known;
    size_t len;
    char *zip;
    parcels_write("gbk", "-lco ENCODING=GBK");
    zip = zip_parcels("gbk", "shp shx dbf", "", &len);
    assert_int_equal(zread(zip, len, NULL, &lim, &fc, &crs, &known, &e), ERR_TOO_LARGE);
    assert_string_equal(e.msg, "shapefile: 3 features, more than the limit of 2 (max_features)");
    lim.max_features = 3;
    assert_int_equal(zread(zip, len, NULL, &lim, &fc, &crs, &known, &e), 0);
    json_decref(fc);
    free(zip);
    for (int i = 0; i < 70; i++) {
        snprintf(names[i], sizeof names[i], "f%d.txt", i);
        many[i] = (struct entry){names[i], NULL, "x", 1};
    }
    zip = zip_make("many.zip", many, 70, &len);
    assert_int_equal(zread(zip, len, NULL, NULL, &fc, &crs, &known, &e), ERR_TOO_LARGE);
    assert_string_equal(e.msg, "zip: 70 entries, more than the limit of 64 (max_entries)");
    free(zip);
}

static void test_unknown_prj(void **state)
{
    static const char prj[] = "PROJCS[\"Klingon_Empire_Grid\",GEOGCS[\"GCS_Qo_noS\","
                              "DATUM[\"D_Qo_noS\",SPHEROID[\"Qo_noS\",6000000.0,300.0]],"
                              "PRIMEM[\"Greenwich\",0.0],UNIT[\"Degree\",0.0174532925199433]],"
                              "PROJECTION[\"Mercator\"],UNIT[\"Meter\",1.0]]";
    struct err e;
    json_t *fc;
    int crs, known;
    size_t len;
    char *zip, f[3][128];
    parcels_write("gbk", "-lco ENCODING=GBK");
    for (int i = 0; i < 3; i++)
        snprintf(f[i], sizeof f[i], "%s/gbk/parcels.%s", work,
                 (const char *[]){"shp", "shx", "dbf"}[i]);
    {
        struct entry ents[] = {{"parcels.shp", f[0], NULL, 0},
                               {"parcels.shx", f[1], NULL, 0},
                               {"parcels.dbf", f[2], NULL, 0},
                               {"parcels.prj", NULL, prj, sizeof prj - 1}};
        zip = zip_make("p.zip", ents, 4, &len);
    }
    assert_int_equal(zread(zip, len, NULL, NULL, &fc, &crs, &known, &e), ERR_INVALID);
    assert_true(!strncmp(e.msg, "prj: ", 5));
    assert_non_null(strstr(e.msg, "Klingon_Empire_Grid"));
    assert_int_equal(known, 0);
    free(zip);
}

static int setup(void **state)
{
    snprintf(work, sizeof work, "/tmp/shapefile_test_XXXXXX");
    if (!mkdtemp(work))
        return -1;
    snprintf(tmpdir, sizeof tmpdir, "%s/tmp", work);
    if (mkdir(tmpdir, 0700) != 0)
        return -1;
    setenv("TMPDIR", tmpdir, 1);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", work);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gbk_parcels),      cmocka_unit_test(test_gk_4548),
        cmocka_unit_test(test_cpg_and_encoding), cmocka_unit_test(test_cpg_names),
        cmocka_unit_test(test_invalid_gbk),      cmocka_unit_test(test_hole_assignment),
        cmocka_unit_test(test_not_polygons),     cmocka_unit_test(test_field_types),
        cmocka_unit_test(test_field_errors),     cmocka_unit_test(test_deleted_record),
        cmocka_unit_test(test_members),          cmocka_unit_test(test_unsafe_paths),
        cmocka_unit_test(test_zip_bomb),         cmocka_unit_test(test_limits),
        cmocka_unit_test(test_unknown_prj),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
