/* tile_test: vector tiles rendered from a real store and read back with an
 * independent decoder (mvt_decode.h) and GEOS: windings, clipping to the
 * buffered tile, which features a tile holds, the unit square that stands
 * for a collapsed feature from z16 on, and edges shared by two neighbours
 * that stay shared (no gap, no overlap) after generalisation at z10-z14.
 * Test geometries are written in EPSG:3857 from tile coordinates computed
 * here with the WebMercatorQuad formulas. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <geos_c.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crs.h"
#include "file.h"
#include "ingest.h"
#include "mvt_decode.h"
#include "tile.h"

#define HALF 20037508.342789244
/* z10 tile (848, 425) holds 118.44 E, 29.16 N (芹阳) */
#define BASE_X 848
#define BASE_Y 425

struct db {
    char path[64];
    store *s;
    struct layers *ls;
    ctx *c;
};

static void db_open(struct db *d)
{
    struct err e;
    char *schema = NULL;
    int fd;
    err_clear(&e);
    strcpy(d->path, "/tmp/tile_test_XXXXXX");
    fd = mkstemp(d->path);
    assert_true(fd >= 0);
    close(fd);
    unlink(d->path);
    assert_int_equal(file_read_all(ONEMAP_GEODATA_DIR "/layers.json", &schema, NULL, &e), 0);
    assert_int_equal(store_open(d->path, STORE_CREATE, &d->s, &e), 0);
    assert_int_equal(store_init(d->s, schema, &e), 0);
    assert_int_equal(store_layers_get(d->s, &d->ls, &e), 0);
    d->c = ctx_new(&e);
    assert_non_null(d->c);
    free(schema);
}

static void db_close(struct db *d)
{
    char p[96];
    ctx_free(d->c);
    layers_free(d->ls);
    store_close(d->s);
    unlink(d->path);
    snprintf(p, sizeof p, "%s-wal", d->path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", d->path);
    unlink(p);
}

static uint64_t mask_of(const struct db *d, const char *id)
{
    return 1ull << (layers_find(d->ls, id) - d->ls->v);
}

/* Imports a FeatureCollection whose coordinates are EPSG:3857 metres. */
static void db_import(struct db *d, const char *layer, const char *features)
{
    struct ingest_opts o;
    struct ingest_report *r = calloc(1, sizeof *r);
    struct buf text;
    struct err e;
    err_clear(&e);
    buf_init(&text);
    buf_printf(&text, "{\"type\":\"FeatureCollection\",\"features\":[%s]}", features);
    ingest_opts_default(&o);
    o.crs = CRS_3857;
    o.axis = CRS_AXIS_XY;
    if (ingest_geojson(d->c, d->s, layers_find(d->ls, layer), text.data, text.len, &o, r, &e))
        fail_msg("import: %s (%s)", e.msg, r->n_invalid ? r->invalid[0].reason : "");
    buf_clear(&text);
    free(r);
}

/* EPSG:3857 metres of tile unit u, v of tile z/x/y (y down). */
static void merc(int z, long x, long y, double u, double v, double *mx, double *my)
{
    double size = 2 * HALF / ldexp(1, z);
    *mx = -HALF + (x + u / 4096) * size;
    *my = HALF - (y + v / 4096) * size;
}

/* Appends a GeoJSON Polygon feature with one ring of n points given in
 * tile units of z/x/y (closed here), and optional holes likewise. */
static void put_feature(struct buf *b, const char *code, int z, long x, long y, const double *ring,
                        int n, const double *hole, int nh)
{
    double mx, my;
    if (b->len)
        buf_putc(b, ',');
    buf_printf(b,
               "{\"type\":\"Feature\",\"properties\":{\"code\":\"%s\",\"dlbm\":\"0101\"},"
               "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[",
               code);
    for (int i = 0; i <= n; i++) {
        merc(z, x, y, ring[2 * (i % n)], ring[2 * (i % n) + 1], &mx, &my);
        buf_printf(b, "%s[%.6f,%.6f]", i ? "," : "", mx, my);
    }
    buf_putc(b, ']');
    if (hole) {
        buf_puts(b, ",[");
        for (int i = 0; i <= nh; i++) {
            merc(z, x, y, hole[2 * (i % nh)], hole[2 * (i % nh) + 1], &mx, &my);
            buf_printf(b, "%s[%.6f,%.6f]", i ? "," : "", mx, my);
        }
        buf_putc(b, ']');
    }
    buf_puts(b, "]}}");
}

static void render(struct db *d, uint64_t mask, int z, long x, long y, struct dec_tile *t,
                   size_t *len)
{
    struct buf out;
    struct err e;
    struct tile_stats st;
    err_clear(&e);
    buf_init(&out);
    if (tile_render(d->c, d->s, d->ls, mask, z, (uint32_t)x, (uint32_t)y, &out, &st, &e))
        fail_msg("tile %d/%ld/%ld: %s", z, y, x, e.msg);
    if (len)
        *len = out.len;
    assert_int_equal(dec_tile(out.data ? out.data : "", out.len, t), 0);
    buf_clear(&out);
}

static const struct dec_feature *by_code(const struct dec_layer *l, const char *code)
{
    for (int i = 0; l && i < l->n_features; i++) {
        const struct dec_value *v = dec_tag(l, &l->features[i], "code");
        if (v && !strcmp(v->s, code))
            return &l->features[i];
    }
    return NULL;
}

/* ---- GEOS views of decoded features (tile units) ----------------------- */

static GEOSGeometry *ring_geos(GEOSContextHandle_t h, const struct dec_feature *f, int r)
{
    int a = r ? f->ring_end[r - 1] : 0, n = f->ring_end[r] - a;
    GEOSCoordSequence *seq = GEOSCoordSeq_create_r(h, (unsigned)n + 1, 2);
    for (int i = 0; i <= n; i++) {
        GEOSCoordSeq_setX_r(h, seq, (unsigned)i, (double)f->pts[a + i % n][0]);
        GEOSCoordSeq_setY_r(h, seq, (unsigned)i, (double)f->pts[a + i % n][1]);
    }
    return GEOSGeom_createLinearRing_r(h, seq);
}

/* The feature as a MultiPolygon, rings grouped by the MVT 2.1 winding rule. */
static GEOSGeometry *feature_geos(GEOSContextHandle_t h, const struct dec_feature *f)
{
    GEOSGeometry *polys[64], *holes[64], *shell = NULL;
    int np = 0, nh = 0;
    for (int r = 0; r <= f->n_rings; r++) {
        if (r == f->n_rings || dec_ring_area2(f, r) > 0) {
            if (shell)
                polys[np++] = GEOSGeom_createPolygon_r(h, shell, holes, (unsigned)nh);
            if (r == f->n_rings)
                break;
            shell = ring_geos(h, f, r);
            nh = 0;
        } else {
            assert_non_null(shell); /* a hole follows its exterior */
            holes[nh++] = ring_geos(h, f, r);
        }
    }
    return GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, polys, (unsigned)np);
}

/* ---- tests ------------------------------------------------------------- */

/* Exteriors clockwise and holes counter-clockwise on screen, whatever the
 * winding of the input; vertices at the nearest whole tile unit. */
static void test_winding(void **state)
{
    const double sq[] = {1000.3, 1000.2, 2000.2, 1000.4, 2000.1, 2000.3, 1000.4, 2000.1};
    const double sq_rev[] = {1000.4, 2000.1, 2000.1, 2000.3, 2000.2, 1000.4, 1000.3, 1000.2};
    const double hole[] = {1400.2, 1400.3, 1400.1, 1600.2, 1600.3, 1600.4, 1600.2, 1400.1};
    const double hole_rev[] = {1600.2, 1400.1, 1600.3, 1600.4, 1400.1, 1600.2, 1400.2, 1400.3};
    const long x = BASE_X * 16 + 14, y = BASE_Y * 16 + 3;
    struct db d;
    struct buf fc;
    struct dec_tile t;
    (void)state;
    db_open(&d);
    buf_init(&fc);
    /* in lon/lat (y up) sq runs counter-clockwise, as RFC 7946 asks */
    put_feature(&fc, "A", 14, x, y, sq, 4, hole, 4);
    put_feature(&fc, "B", 14, x + 1, y, sq_rev, 4, hole_rev, 4);
    db_import(&d, "parcels", fc.data);
    for (int k = 0; k < 2; k++) {
        const struct dec_layer *l;
        const struct dec_feature *f;
        render(&d, mask_of(&d, "parcels"), 14, x + k, y, &t, NULL);
        l = dec_find(&t, "parcels");
        assert_non_null(l);
        assert_int_equal(l->n_features, 1);
        f = by_code(l, k ? "B" : "A");
        assert_non_null(f);
        assert_int_equal(f->type, 3);
        assert_int_equal(f->n_rings, 2);
        assert_int_equal(dec_ring_len(f, 0), 4);
        assert_int_equal(dec_ring_len(f, 1), 4);
        assert_true(dec_ring_area2(f, 0) == 2LL * 1000 * 1000);
        assert_true(dec_ring_area2(f, 1) == -2LL * 200 * 200);
        for (int i = 0; i < 8; i++) {
            int64_t px = f->pts[i][0], py = f->pts[i][1];
            assert_true(px == 1000 || px == 2000 || px == 1400 || px == 1600);
            assert_true(py == 1000 || py == 2000 || py == 1400 || py == 1600);
        }
        dec_free(&t);
    }
    buf_clear(&fc);
    db_close(&d);
}

/* Geometry is clipped to the tile grown by its buffer; features that only
 * reach into the buffer, or lie in another tile, are not in the tile. */
static void test_clipping(void **state)
{
    const double big[] = {-1000.5, -1000.5, 5000.5, -1000.5, 5000.5, 5000.5, -1000.5, 5000.5};
    const double edge[] = {3000.2, 1000.2, 5000.2, 1000.2, 5000.2, 2000.2, 3000.2, 2000.2};
    const double buffer_only[] = {4100.2, 100.2, 4150.2, 100.2, 4150.2, 200.2, 4100.2, 200.2};
    const double elsewhere[] = {6000.2, 100.2, 7000.2, 100.2, 7000.2, 200.2, 6000.2, 200.2};
    const long x = BASE_X * 16 + 14, y = BASE_Y * 16 + 3;
    struct db d;
    struct buf fc;
    struct dec_tile t;
    const struct dec_layer *l;
    const struct dec_feature *f;
    (void)state;
    db_open(&d);
    buf_init(&fc);
    put_feature(&fc, "big", 14, x, y, big, 4, NULL, 0);
    put_feature(&fc, "edge", 14, x, y, edge, 4, NULL, 0);
    put_feature(&fc, "buffer", 14, x, y, buffer_only, 4, NULL, 0);
    put_feature(&fc, "elsewhere", 14, x, y, elsewhere, 4, NULL, 0);
    db_import(&d, "parcels", fc.data);
    render(&d, mask_of(&d, "parcels"), 14, x, y, &t, NULL);
    l = dec_find(&t, "parcels");
    assert_non_null(l);
    assert_int_equal(l->n_features, 2);
    assert_null(by_code(l, "buffer"));
    assert_null(by_code(l, "elsewhere"));
    f = by_code(l, "big");
    assert_non_null(f);
    assert_int_equal(f->n_rings, 1);
    assert_int_equal(dec_ring_len(f, 0), 4);
    assert_true(dec_ring_area2(f, 0) == 2LL * 4224 * 4224);
    for (int i = 0; i < 4; i++) {
        assert_true(f->pts[i][0] == -64 || f->pts[i][0] == 4160);
        assert_true(f->pts[i][1] == -64 || f->pts[i][1] == 4160);
    }
    f = by_code(l, "edge");
    assert_non_null(f);
    assert_int_equal(dec_ring_len(f, 0), 4);
    assert_true(dec_ring_area2(f, 0) == 2LL * 1160 * 1000);
    dec_free(&t);
    /* the neighbour holds "edge", "buffer" and "elsewhere", not "big"'s far side only */
    render(&d, mask_of(&d, "parcels"), 14, x + 1, y, &t, NULL);
    l = dec_find(&t, "parcels");
    assert_non_null(l);
    assert_non_null(by_code(l, "edge"));
    assert_non_null(by_code(l, "buffer"));
    assert_non_null(by_code(l, "elsewhere"));
    assert_non_null(by_code(l, "big"));
    dec_free(&t);
    buf_clear(&fc);
    db_close(&d);
}

/* Clipping by shape: a triangle whose box meets the tile while it lies in
 * the buffer's corner is not in the tile; a concave L, a cup whose bottom
 * lies past the buffer (two arms, no run along the edge) and a square whose
 * hole crosses the buffer's edge keep the shapes worked out here. */
static void test_clipping_shapes(void **state)
{
    const double corner[] = {4090.2, -59.8, 4150.2, -59.8, 4150.2, 5.2};
    const double ell[] = {3000.2, 1000.2, 5000.2, 1000.2, 5000.2, 1500.2,
                          3500.2, 1500.2, 3500.2, 2500.2, 3000.2, 2500.2};
    const double cup[] = {3000.2, 100.2, 5000.2, 100.2, 5000.2, 900.2, 3000.2, 900.2,
                          3000.2, 600.2, 4500.2, 600.2, 4500.2, 400.2, 3000.2, 400.2};
    const double shell[] = {3000.2, 3000.2, 5000.2, 3000.2, 5000.2, 4000.2, 3000.2, 4000.2};
    const double hole[] = {4000.2, 3200.2, 4000.2, 3800.2, 4500.2, 3800.2, 4500.2, 3200.2};
    const long x = BASE_X * 16 + 14, y = BASE_Y * 16 + 3;
    GEOSContextHandle_t h = GEOS_init_r();
    struct db d;
    struct buf fc;
    struct dec_tile t;
    const struct dec_layer *l;
    const struct dec_feature *f;
    GEOSGeometry *g;
    double area;
    (void)state;
    db_open(&d);
    buf_init(&fc);
    put_feature(&fc, "corner", 14, x, y, corner, 3, NULL, 0);
    put_feature(&fc, "ell", 14, x, y, ell, 6, NULL, 0);
    put_feature(&fc, "holed", 14, x, y, shell, 4, hole, 4);
    put_feature(&fc, "cup", 14, x, y, cup, 8, NULL, 0);
    db_import(&d, "parcels", fc.data);
    render(&d, mask_of(&d, "parcels"), 14, x, y, &t, NULL);
    l = dec_find(&t, "parcels");
    assert_non_null(l);
    assert_null(by_code(l, "corner"));
    f = by_code(l, "ell"); /* 2000 x 500 + 500 x 1000, less x > 4160 */
    assert_non_null(f);
    assert_int_equal(f->n_rings, 1);
    assert_int_equal(dec_ring_len(f, 0), 6);
    assert_true(dec_ring_area2(f, 0) == 2LL * (2000 * 500 + 500 * 1000 - 840 * 500));
    f = by_code(l, "cup"); /* two arms of 1160 x 300 */
    assert_non_null(f);
    assert_int_equal(f->n_rings, 2);
    for (int r = 0; r < 2; r++) {
        assert_int_equal(dec_ring_len(f, r), 4);
        assert_true(dec_ring_area2(f, r) == 2LL * 1160 * 300);
    }
    f = by_code(l, "holed"); /* 1160 x 1000 less the hole's 160 x 600 in the tile */
    assert_non_null(f);
    g = feature_geos(h, f);
    assert_int_equal(GEOSisValid_r(h, g), 1);
    assert_int_equal(GEOSArea_r(h, g, &area), 1);
    assert_true(area == 1160.0 * 1000 - 160.0 * 600);
    GEOSGeom_destroy_r(h, g);
    dec_free(&t);
    /* the neighbour, which the triangle does meet, holds it */
    render(&d, mask_of(&d, "parcels"), 14, x + 1, y, &t, NULL);
    assert_non_null(by_code(dec_find(&t, "parcels"), "corner"));
    dec_free(&t);
    buf_clear(&fc);
    db_close(&d);
    GEOS_finish_r(h);
}

/* Small features: below a pixel they leave low zooms; from z16 on one that
 * collapses entirely is kept as a unit square. */
static void test_small_features(void **state)
{
    const double sliver[] = {1000.1, 1000.1, 1000.4, 1000.1, 1000.4, 1300.1, 1000.1, 1300.1};
    const double tiny[] = {500.2, 500.2, 509.8, 500.2, 509.8, 509.8, 500.2, 509.8};  /* < 1 px */
    const double small[] = {700.2, 700.2, 719.8, 700.2, 719.8, 719.8, 700.2, 719.8}; /* > 1 px */
    const long x16 = (BASE_X * 16 + 14) * 4, y16 = (BASE_Y * 16 + 3) * 4;
    const long x12 = BASE_X * 4, y12 = BASE_Y * 4 + 1;
    struct db d;
    struct buf fc;
    struct dec_tile t;
    const struct dec_layer *l;
    const struct dec_feature *f;
    (void)state;
    db_open(&d);
    buf_init(&fc);
    put_feature(&fc, "sliver", 16, x16, y16, sliver, 4, NULL, 0);
    put_feature(&fc, "tiny", 12, x12, y12, tiny, 4, NULL, 0);
    put_feature(&fc, "small", 12, x12, y12, small, 4, NULL, 0);
    db_import(&d, "parcels", fc.data);
    render(&d, mask_of(&d, "parcels"), 16, x16, y16, &t, NULL);
    l = dec_find(&t, "parcels");
    f = by_code(l, "sliver");
    assert_non_null(f);
    assert_int_equal(f->n_rings, 1);
    assert_true(dec_ring_area2(f, 0) == 2); /* one unit, clockwise */
    assert_true(f->pts[0][0] >= 999 && f->pts[0][0] <= 1001);
    assert_true(f->pts[0][1] >= 1100 && f->pts[0][1] <= 1200);
    dec_free(&t);
    render(&d, mask_of(&d, "parcels"), 12, x12, y12, &t, NULL);
    l = dec_find(&t, "parcels");
    assert_non_null(l);
    assert_null(by_code(l, "tiny"));
    assert_null(by_code(l, "sliver"));
    f = by_code(l, "small");
    assert_non_null(f);
    /* z12 snaps to 4 units: 700.2 -> 700, 719.8 -> 720 */
    assert_true(dec_ring_area2(f, 0) == 2LL * 20 * 20);
    dec_free(&t);
    buf_clear(&fc);
    db_close(&d);
}

/* Attributes as tags, the feature id as id, area_mu from the stored area;
 * several layers in one tile. */
static void test_tags_and_layers(void **state)
{
    const double sq[] = {1000.5, 1000.5, 3000.5, 1000.5, 3000.5, 3000.5, 1000.5, 3000.5};
    const long x = BASE_X * 16 + 14, y = BASE_Y * 16 + 3;
    double m0x, m0y, m1x, m1y, lat, mu;
    struct db d;
    struct buf fc;
    struct dec_tile t;
    const struct dec_layer *l;
    const struct dec_feature *f;
    (void)state;
    db_open(&d);
    buf_init(&fc);
    put_feature(&fc, "P1", 14, x, y, sq, 4, NULL, 0);
    db_import(&d, "parcels", fc.data);
    db_import(&d, "grids",
              "{\"type\":\"Feature\",\"properties\":{\"code\":\"G1\",\"name\":"
              "\"第一网格\",\"level\":\"网格\"},\"geometry\":{\"type\":\"Polygon\","
              "\"coordinates\":[[[13185000,3395500],[13186000,3395500],"
              "[13186000,3396500],[13185000,3396500],[13185000,3395500]]]}}");
    render(&d, mask_of(&d, "parcels") | mask_of(&d, "grids"), 14, x, y, &t, NULL);
    assert_int_equal(t.n_layers, 2);
    assert_string_equal(t.layers[0].name, "grids"); /* registry order */
    assert_string_equal(t.layers[1].name, "parcels");
    l = dec_find(&t, "parcels");
    f = &l->features[0];
    assert_true(f->has_id);
    assert_int_equal(f->id, 1);
    assert_string_equal(dec_tag(l, f, "code")->s, "P1");
    assert_string_equal(dec_tag(l, f, "dlbm")->s, "0101");
    assert_null(dec_tag(l, f, "owner")); /* null: no tag */
    /* a 2000-unit square: Mercator area scaled by cos^2(lat) is the ground area */
    merc(14, x, y, 1000.5, 1000.5, &m0x, &m0y);
    merc(14, x, y, 3000.5, 3000.5, &m1x, &m1y);
    lat = atan(sinh((m0y + m1y) / 2 / 6378137.0));
    mu = (m1x - m0x) * (m0y - m1y) * cos(lat) * cos(lat) / (10000.0 / 15);
    assert_true(fabs(dec_tag(l, f, "area_mu")->d - mu) < 0.005 * mu);
    l = dec_find(&t, "grids");
    assert_string_equal(dec_tag(l, &l->features[0], "name")->s, "第一网格");
    dec_free(&t);
    /* only grids */
    render(&d, mask_of(&d, "grids"), 14, x, y, &t, NULL);
    assert_int_equal(t.n_layers, 1);
    dec_free(&t);
    buf_clear(&fc);
    db_close(&d);
}

/* Two neighbours sharing a jagged edge of 41 vertices: at every zoom from
 * 10 to 14 their union is exactly the rectangle around them and they do
 * not overlap, so the generalised edge is still shared. */
static void test_shared_edges(void **state)
{
    enum { K = 40 };
    double a[2 * (K + 8)], b[2 * (K + 8)], edge[2 * (K + 1)];
    int na = 0, nb = 0, verts10 = 0, verts14 = 0;
    struct db d;
    struct buf fc;
    GEOSContextHandle_t h = GEOS_init_r();
    (void)state;
    /* in z10 units of tile BASE: the rectangle 3600..3760 x 800..960 */
    srand(12345);
    for (int k = 0; k <= K; k++) {
        edge[2 * k] = 3680 + (k == 0 || k == K ? 0 : (rand() % 4600 - 2300) / 1000.0 + 0.013);
        edge[2 * k + 1] = 800 + 160.0 * k / K + (k == 0 || k == K ? 0 : 0.37);
    }
    a[na++] = 3600, a[na++] = 800;
    for (int k = 0; k <= K; k++)
        a[na++] = edge[2 * k], a[na++] = edge[2 * k + 1];
    a[na++] = 3600, a[na++] = 960;
    b[nb++] = 3760, b[nb++] = 800, b[nb++] = 3760, b[nb++] = 960;
    for (int k = K; k >= 0; k--)
        b[nb++] = edge[2 * k], b[nb++] = edge[2 * k + 1];
    db_open(&d);
    buf_init(&fc);
    put_feature(&fc, "A", 10, BASE_X, BASE_Y, a, na / 2, NULL, 0);
    put_feature(&fc, "B", 10, BASE_X, BASE_Y, b, nb / 2, NULL, 0);
    db_import(&d, "parcels", fc.data);
    for (int z = 10; z <= 14; z++) {
        long f = 1L << (z - 10);
        long gx0 = (BASE_X * 4096L + 3600) * f, gy0 = (BASE_Y * 4096L + 800) * f;
        long tx = gx0 / 4096, ty = gy0 / 4096, side = 160 * f;
        struct dec_tile t;
        const struct dec_layer *l;
        GEOSGeometry *ga, *gb, *both, *un;
        double area_a, area_b, area_i, area_u, len_shared;
        assert_int_equal((gx0 + side - 1) / 4096, tx); /* one tile holds the rectangle */
        assert_int_equal((gy0 + side - 1) / 4096, ty);
        render(&d, mask_of(&d, "parcels"), z, tx, ty, &t, NULL);
        l = dec_find(&t, "parcels");
        assert_non_null(l);
        assert_int_equal(l->n_features, 2);
        ga = feature_geos(h, by_code(l, "A"));
        gb = feature_geos(h, by_code(l, "B"));
        assert_int_equal(GEOSisValid_r(h, ga), 1);
        assert_int_equal(GEOSisValid_r(h, gb), 1);
        both = GEOSIntersection_r(h, ga, gb);
        un = GEOSUnion_r(h, ga, gb);
        GEOSArea_r(h, ga, &area_a);
        GEOSArea_r(h, gb, &area_b);
        GEOSArea_r(h, both, &area_i);
        GEOSArea_r(h, un, &area_u);
        assert_true(area_i == 0);
        assert_true(area_a + area_b == (double)side * side);
        assert_true(area_u == (double)side * side);
        assert_int_equal(GEOSGetNumGeometries_r(h, un), 1);
        assert_int_equal(GEOSGetNumInteriorRings_r(h, GEOSGetGeometryN_r(h, un, 0)), 0);
        GEOSGeom_destroy_r(h, both);
        /* the shared boundary runs the whole height */
        {
            GEOSGeometry *ba = GEOSBoundary_r(h, ga), *bb = GEOSBoundary_r(h, gb);
            GEOSGeometry *common = GEOSIntersection_r(h, ba, bb);
            GEOSLength_r(h, common, &len_shared);
            assert_true(len_shared >= (double)side);
            GEOSGeom_destroy_r(h, ba);
            GEOSGeom_destroy_r(h, bb);
            GEOSGeom_destroy_r(h, common);
        }
        if (z == 10)
            verts10 = GEOSGetNumCoordinates_r(h, ga);
        if (z == 14)
            verts14 = GEOSGetNumCoordinates_r(h, ga);
        GEOSGeom_destroy_r(h, ga);
        GEOSGeom_destroy_r(h, gb);
        GEOSGeom_destroy_r(h, un);
        dec_free(&t);
    }
    assert_true(verts10 < verts14); /* z10 was generalised */
    assert_true(verts14 >= K);
    buf_clear(&fc);
    db_close(&d);
    GEOS_finish_r(h);
}

/* Tiles outside the matrix set are refused; an empty tile has no bytes. */
static void test_bounds(void **state)
{
    struct db d;
    struct buf out;
    struct err e;
    (void)state;
    db_open(&d);
    buf_init(&out);
    err_clear(&e);
    assert_int_equal(tile_render(d.c, d.s, d.ls, 1, 25, 0, 0, &out, NULL, &e), ERR_PARAM);
    assert_int_equal(tile_render(d.c, d.s, d.ls, 1, 3, 8, 0, &out, NULL, &e), ERR_PARAM);
    assert_int_equal(tile_render(d.c, d.s, d.ls, 1, 3, 0, 8, &out, NULL, &e), ERR_PARAM);
    assert_int_equal(tile_render(d.c, d.s, d.ls, UINT64_MAX, 0, 0, 0, &out, NULL, &e), 0);
    assert_int_equal(out.len, 0);
    {
        struct bbox b;
        tile_bounds_3857(1, 1, 0, &b);
        assert_true(b.minx == 0 && b.maxy == HALF && b.maxx == HALF && b.miny == 0);
    }
    buf_clear(&out);
    db_close(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_winding),         cmocka_unit_test(test_clipping),
        cmocka_unit_test(test_clipping_shapes), cmocka_unit_test(test_small_features),
        cmocka_unit_test(test_tags_and_layers), cmocka_unit_test(test_shared_edges),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
