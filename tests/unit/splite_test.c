/* splite_test: the BLOBs onemap writes are byte for byte the ones
 * SpatiaLite's own GeomFromWKB makes of the same WKB, for every geometry
 * type; malformed, 3D and empty WKB are refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <geos_c.h>
#include <sqlite3.h>
#include <spatialite.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "splite.h"

struct fx {
    sqlite3 *db;
    void *cache;
    GEOSContextHandle_t h;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_int_equal(sqlite3_open(":memory:", &f->db), SQLITE_OK);
    f->cache = spatialite_alloc_connection();
    spatialite_init_ex(f->db, f->cache, 0);
    f->h = GEOS_init_r();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    sqlite3_close(f->db);
    spatialite_cleanup_ex(f->cache);
    GEOS_finish_r(f->h);
    free(f);
    return 0;
}

static unsigned char *wkb_of(struct fx *f, const char *wkt, int big_endian, size_t *len)
{
    GEOSWKTReader *r = GEOSWKTReader_create_r(f->h);
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(f->h);
    GEOSGeometry *g = GEOSWKTReader_read_r(f->h, r, wkt);
    unsigned char *wkb;
    assert_non_null(g);
    GEOSWKBWriter_setByteOrder_r(f->h, w, big_endian ? GEOS_WKB_XDR : GEOS_WKB_NDR);
    GEOSWKBWriter_setOutputDimension_r(f->h, w, 3); /* Z kept where there is one */
    wkb = GEOSWKBWriter_write_r(f->h, w, g, len);
    GEOSGeom_destroy_r(f->h, g);
    GEOSWKBWriter_destroy_r(f->h, w);
    GEOSWKTReader_destroy_r(f->h, r);
    return wkb;
}

static void expect_same(struct fx *f, const char *wkt, int big_endian)
{
    size_t len;
    unsigned char *wkb = wkb_of(f, wkt, big_endian, &len);
    sqlite3_stmt *st;
    struct buf mine;
    const void *theirs;
    int n;
    buf_init(&mine);
    assert_int_equal(splite_from_wkb(wkb, len, 4490, &mine), 0);
    assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT GeomFromWKB(?, 4490)", -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(st, 1, wkb, (int)len, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    theirs = sqlite3_column_blob(st, 0);
    n = sqlite3_column_bytes(st, 0);
    if ((size_t)n != mine.len || memcmp(theirs, mine.data, mine.len))
        fail_msg("%s: %zu bytes, SpatiaLite's %d differ", wkt, mine.len, n);
    /* read back: the WKB SpatiaLite's AsBinary gives, from either endianness */
    {
        struct buf back;
        sqlite3_stmt *q;
        buf_init(&back);
        assert_int_equal(splite_to_wkb(theirs, (size_t)n, &back), 0);
        assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT AsBinary(?)", -1, &q, NULL),
                         SQLITE_OK);
        sqlite3_bind_blob(q, 1, mine.data, (int)mine.len, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        if ((size_t)sqlite3_column_bytes(q, 0) != back.len ||
            memcmp(sqlite3_column_blob(q, 0), back.data, back.len))
            fail_msg("%s: WKB read back differs from AsBinary's", wkt);
        sqlite3_finalize(q);
        if (!big_endian) {
            /* a little-endian WKB comes back byte for byte */
            assert_int_equal(back.len, len);
            assert_memory_equal(back.data, wkb, len);
        }
        buf_clear(&back);
    }
    /* and SpatiaLite reads it back as the same geometry */
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT ST_Equals(?, GeomFromWKB(?, 4490)),"
                                               " ST_SRID(?)", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, mine.data, (int)mine.len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, wkb, (int)len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, mine.data, (int)mine.len, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    assert_int_equal(sqlite3_column_int(st, 1), 4490);
    sqlite3_finalize(st);
    buf_clear(&mine);
    GEOSFree_r(f->h, wkb);
}

static const char *SHAPES[] = {
    "POINT (118.41 29.13)",
    "LINESTRING (118.4 29.1, 118.5 29.2, 118.45 29.3)",
    "POLYGON ((118.4 29.1, 118.5 29.1, 118.5 29.2, 118.4 29.2, 118.4 29.1))",
    "POLYGON ((118.4 29.1, 118.5 29.1, 118.5 29.2, 118.4 29.2, 118.4 29.1),"
    " (118.42 29.12, 118.42 29.14, 118.44 29.14, 118.42 29.12))",
    "MULTIPOINT ((118.41 29.13), (118.42 29.14))",
    "MULTILINESTRING ((118.4 29.1, 118.5 29.2), (118.41 29.11, 118.42 29.19, 118.3 29.0))",
    "MULTIPOLYGON (((118.4 29.1, 118.5 29.1, 118.5 29.2, 118.4 29.1)),"
    " ((118.6 29.1, 118.7 29.1, 118.7 29.2, 118.6 29.2, 118.6 29.1),"
    " (118.62 29.12, 118.62 29.14, 118.64 29.14, 118.62 29.12)))",
    "GEOMETRYCOLLECTION (POINT (118.41 29.13), LINESTRING (118.4 29.1, 118.5 29.2),"
    " POLYGON ((118.4 29.1, 118.5 29.1, 118.5 29.2, 118.4 29.1)))",
};

static void test_same_as_spatialite(void **state)
{
    for (size_t i = 0; i < sizeof SHAPES / sizeof *SHAPES; i++) {
        expect_same(*state, SHAPES[i], 0);
        expect_same(*state, SHAPES[i], 1); /* big-endian WKB in, same BLOB out */
    }
}

static void expect_refused(struct fx *f, const unsigned char *wkb, size_t len)
{
    struct buf out;
    buf_init(&out);
    buf_puts(&out, "x");
    assert_int_equal(splite_from_wkb(wkb, len, 4490, &out), -1);
    assert_int_equal(out.len, 1); /* nothing left behind */
    buf_clear(&out);
    (void)f;
}

static void test_read_refused(void **state)
{
    struct fx *f = *state;
    sqlite3_stmt *st;
    const unsigned char *blob;
    unsigned char *copy;
    struct buf out;
    int n;
    buf_init(&out);
    /* a compressed polygon (as SpatiaLite's CompressGeometry makes) and a 3D
     * one are left to SpatiaLite */
    assert_int_equal(sqlite3_prepare_v2(f->db,
        "SELECT CompressGeometry(GeomFromText('POLYGON((1 1,2 1,2 2,1 2,1 1))', 4490)),"
        " GeomFromText('POINT Z(1 2 3)', 4490)", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    for (int c = 0; c < 2; c++) {
        blob = sqlite3_column_blob(st, c);
        n = sqlite3_column_bytes(st, c);
        assert_non_null(blob);
        assert_int_equal(splite_to_wkb(blob, (size_t)n, &out), -1);
        assert_int_equal(out.len, 0);
    }
    /* every truncation and a broken end mark of a good one */
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(f->db,
        "SELECT GeomFromText('MULTIPOLYGON(((1 1,2 1,2 2,1 1)),((3 3,4 3,4 4,3 3)))', 4490)",
        -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    blob = sqlite3_column_blob(st, 0);
    n = sqlite3_column_bytes(st, 0);
    assert_int_equal(splite_to_wkb(blob, (size_t)n, &out), 0);
    buf_reset(&out);
    for (int i = 0; i < n; i++) {
        assert_int_equal(splite_to_wkb(blob, (size_t)i, &out), -1);
        assert_int_equal(out.len, 0);
    }
    copy = malloc((size_t)n);
    memcpy(copy, blob, (size_t)n);
    copy[n - 1] = 0;
    assert_int_equal(splite_to_wkb(copy, (size_t)n, &out), -1);
    free(copy);
    sqlite3_finalize(st);
    buf_clear(&out);
}

static void test_refused(void **state)
{
    struct fx *f = *state;
    size_t len, i;
    unsigned char *wkb = wkb_of(f, SHAPES[6], 0, &len);
    unsigned char bad[64];
    /* every truncation of a good WKB */
    for (i = 0; i < len; i++)
        expect_refused(f, wkb, i);
    /* trailing bytes */
    {
        unsigned char *more = malloc(len + 1);
        memcpy(more, wkb, len);
        more[len] = 0;
        expect_refused(f, more, len + 1);
        free(more);
    }
    /* bad byte order mark, unknown type, 3D type */
    memcpy(bad, wkb, 9);
    bad[0] = 7;
    expect_refused(f, bad, 9);
    GEOSFree_r(f->h, wkb);
    wkb = wkb_of(f, "POINT Z (1 2 3)", 0, &len);
    expect_refused(f, wkb, len);
    GEOSFree_r(f->h, wkb);
    wkb = wkb_of(f, "POLYGON EMPTY", 0, &len);
    expect_refused(f, wkb, len);
    GEOSFree_r(f->h, wkb);
    wkb = wkb_of(f, "GEOMETRYCOLLECTION (MULTIPOINT ((1 2)))", 0, &len);
    expect_refused(f, wkb, len);
    GEOSFree_r(f->h, wkb);
    {
        /* a ring that claims more points than there are bytes */
        const unsigned char huge[] = {1, 2, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0};
        expect_refused(f, huge, sizeof huge);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_spatialite),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_read_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
