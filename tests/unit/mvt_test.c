/* mvt_test: the MVT 2.1 encoder's bytes, read back by an independent
 * decoder (mvt_decode.h), compared with the command streams the spec gives
 * for its examples, and read by GDAL's MVT driver (ogrinfo). */
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

#include "mvt.h"
#include "mvt_decode.h"

static void encode_tile(mvt *m, struct buf *out)
{
    struct err e;
    err_clear(&e);
    buf_init(out);
    assert_int_equal(mvt_finish(m, out, &e), 0);
}

static struct mvt_value str(const char *s)
{
    struct mvt_value v = {.type = MVT_STRING, .s = s, .len = strlen(s)};
    return v;
}

/* The spec's (4.3.4.4) polygon and multipolygon examples. */
static void test_spec_examples(void **state)
{
    static const int32_t tri[] = {3, 6, 8, 12, 20, 34};
    static const int32_t sq[] = {0, 0, 10, 0, 10, 10, 0, 10};
    static const int32_t sq2[] = {11, 11, 20, 11, 20, 20, 11, 20};
    static const int32_t hole[] = {13, 13, 13, 17, 17, 17, 17, 13};
    static const uint32_t want_tri[] = {9, 6, 12, 18, 10, 12, 24, 44, 15};
    static const uint32_t want_multi[] = {9, 0,  0,  26, 20, 0, 0, 20, 19, 0, 15,
                                          9, 22, 2,  26, 18, 0, 0, 18, 17, 0, 15,
                                          9, 4,  13, 26, 0,  8, 8, 0,  0,  7, 15};
    mvt *m = mvt_new();
    struct dec_tile t;
    struct buf out;
    (void)state;
    mvt_layer_begin(m, "examples", 4096);
    mvt_feature_begin(m, 1);
    mvt_feature_ring(m, tri, 3);
    mvt_feature_end(m);
    mvt_feature_begin(m, 2);
    mvt_feature_ring(m, sq, 4);
    mvt_feature_ring(m, sq2, 4);
    mvt_feature_ring(m, hole, 4);
    mvt_feature_end(m);
    mvt_layer_end(m);
    encode_tile(m, &out);
    assert_int_equal(dec_tile(out.data, out.len, &t), 0);
    assert_int_equal(t.n_layers, 1);
    assert_int_equal(t.layers[0].n_features, 2);
    assert_int_equal(t.layers[0].features[0].n_cmds, 9);
    assert_memory_equal(t.layers[0].features[0].cmds, want_tri, sizeof want_tri);
    assert_int_equal(t.layers[0].features[1].n_cmds, 33);
    assert_memory_equal(t.layers[0].features[1].cmds, want_multi, sizeof want_multi);
    assert_int_equal(t.layers[0].features[0].type, 3); /* POLYGON */
    /* the spec's windings: exteriors positive, the hole negative */
    assert_true(dec_ring_area2(&t.layers[0].features[1], 0) > 0);
    assert_true(dec_ring_area2(&t.layers[0].features[1], 1) > 0);
    assert_true(dec_ring_area2(&t.layers[0].features[1], 2) < 0);
    dec_free(&t);
    buf_clear(&out);
    mvt_free(m);
}

/* Layer members, ids, tags and the shared key and value tables. */
static void test_layer_and_tags(void **state)
{
    static const int32_t ring[] = {0, 0, 100, 0, 100, 100};
    const char *codes[] = {"A-1", "B-2", "A-1"};
    mvt *m = mvt_new();
    struct dec_tile t;
    struct buf out;
    (void)state;
    mvt_layer_begin(m, "parcels", 4096);
    for (int i = 0; i < 3; i++) {
        struct mvt_value code = str(codes[i]), dlbm = str("0101");
        struct mvt_value n = {.type = MVT_INT, .i = 12}, neg = {.type = MVT_INT, .i = -5};
        struct mvt_value big = {.type = MVT_INT, .i = 5000000000LL};
        struct mvt_value d = {.type = MVT_DOUBLE, .d = 1.5 + i}, flag = {.type = MVT_BOOL, .i = 1};
        mvt_feature_begin(m, (uint64_t)(100 + i));
        mvt_feature_tag(m, "code", &code);
        mvt_feature_tag(m, "dlbm", &dlbm);
        mvt_feature_tag(m, "households", &n);
        mvt_feature_tag(m, "delta", &neg);
        mvt_feature_tag(m, "big", &big);
        mvt_feature_tag(m, "area_mu", &d);
        mvt_feature_tag(m, "red_property", &flag);
        mvt_feature_ring(m, ring, 3);
        mvt_feature_end(m);
    }
    mvt_layer_end(m);
    assert_int_equal(mvt_feature_count(m), 3);
    encode_tile(m, &out);
    assert_int_equal(dec_tile(out.data, out.len, &t), 0);
    {
        const struct dec_layer *l = &t.layers[0];
        assert_string_equal(l->name, "parcels");
        assert_int_equal(l->version, 2);
        assert_int_equal(l->extent, 4096);
        assert_int_equal(l->n_keys, 7);
        /* A-1, B-2, 0101, 12, -5, 5e9, 1.5, 2.5, 3.5, true */
        assert_int_equal(l->n_values, 10);
        for (int i = 0; i < 3; i++) {
            const struct dec_feature *f = &l->features[i];
            assert_true(f->has_id);
            assert_int_equal(f->id, 100 + i);
            assert_int_equal(f->n_tags, 14);
            assert_string_equal(dec_tag(l, f, "code")->s, codes[i]);
            assert_int_equal(dec_tag(l, f, "code")->type, 1);
            assert_string_equal(dec_tag(l, f, "dlbm")->s, "0101");
            assert_int_equal(dec_tag(l, f, "households")->type, 5); /* uint_value */
            assert_int_equal(dec_tag(l, f, "households")->u, 12);
            assert_int_equal(dec_tag(l, f, "delta")->type, 6); /* sint_value */
            assert_int_equal(dec_tag(l, f, "delta")->i, -5);
            assert_int_equal(dec_tag(l, f, "big")->u, 5000000000ULL);
            assert_int_equal(dec_tag(l, f, "area_mu")->type, 3); /* double_value */
            assert_true(dec_tag(l, f, "area_mu")->d == 1.5 + i);
            assert_int_equal(dec_tag(l, f, "red_property")->type, 7);
            assert_int_equal(dec_tag(l, f, "red_property")->i, 1);
        }
        /* features 0 and 2 share the value "A-1" by index */
        assert_int_equal(l->features[0].tags[1], l->features[2].tags[1]);
    }
    dec_free(&t);
    buf_clear(&out);
    mvt_free(m);
}

/* The value table past its first sizes: each distinct value once, of
 * every length up to past a word, repeats found again by index. */
static void test_many_values(void **state)
{
    static const int32_t ring[] = {0, 0, 10, 0, 10, 10};
    enum { FEATURES = 200, DISTINCT = 150 };
    char text[FEATURES][40];
    mvt *m = mvt_new();
    struct dec_tile t;
    struct buf out;
    (void)state;
    mvt_layer_begin(m, "many", 4096);
    for (int i = 0; i < FEATURES; i++) {
        int k = i % DISTINCT;
        struct mvt_value v, empty = str("");
        snprintf(text[i], sizeof text[i], "%0*d", 1 + k % 24, k);
        v = str(text[i]);
        mvt_feature_begin(m, (uint64_t)i + 1);
        mvt_feature_tag(m, "code", &v);
        mvt_feature_tag(m, "e", &empty);
        mvt_feature_ring(m, ring, 3);
        mvt_feature_end(m);
    }
    mvt_layer_end(m);
    encode_tile(m, &out);
    assert_int_equal(dec_tile(out.data, out.len, &t), 0);
    {
        const struct dec_layer *l = &t.layers[0];
        assert_int_equal(l->n_features, FEATURES);
        assert_int_equal(l->n_keys, 2);
        assert_int_equal(l->n_values, DISTINCT + 1);
        for (int i = 0; i < FEATURES; i++) {
            const struct dec_feature *f = &l->features[i];
            assert_string_equal(dec_tag(l, f, "code")->s, text[i]);
            assert_string_equal(dec_tag(l, f, "e")->s, "");
            if (i >= DISTINCT) /* the same value, the same entry */
                assert_int_equal(f->tags[1], l->features[i - DISTINCT].tags[1]);
        }
    }
    dec_free(&t);
    buf_clear(&out);
    mvt_free(m);
}

/* Empty layers and features without rings leave nothing behind. */
static void test_empty(void **state)
{
    static const int32_t ring[] = {0, 0, 10, 0, 10, 10};
    struct mvt_value v = str("x");
    mvt *m = mvt_new();
    struct dec_tile t;
    struct buf out;
    (void)state;
    mvt_layer_begin(m, "nothing", 4096);
    mvt_layer_end(m);
    encode_tile(m, &out);
    assert_int_equal(out.len, 0);
    buf_clear(&out);
    mvt_free(m);

    m = mvt_new();
    mvt_layer_begin(m, "a", 4096);
    mvt_feature_begin(m, 1);
    mvt_feature_tag(m, "k", &v);
    mvt_feature_end(m); /* no ring: dropped */
    mvt_layer_end(m);
    mvt_layer_begin(m, "b", 4096);
    mvt_feature_begin(m, 0); /* no id */
    mvt_feature_ring(m, ring, 3);
    mvt_feature_end(m);
    /* the layer is ended by mvt_finish */
    encode_tile(m, &out);
    assert_int_equal(dec_tile(out.data, out.len, &t), 0);
    assert_int_equal(t.n_layers, 1);
    assert_string_equal(t.layers[0].name, "b");
    assert_int_equal(t.layers[0].n_features, 1);
    assert_false(t.layers[0].features[0].has_id);
    assert_int_equal(t.layers[0].n_keys, 0);
    dec_free(&t);
    buf_clear(&out);
    mvt_free(m);
}

/* Runs cmd and returns its standard output (caller frees). */
static char *run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    char *text = calloc(1, 1 << 16);
    size_t n;
    assert_non_null(p);
    n = fread(text, 1, (1 << 16) - 1, p);
    text[n] = '\0';
    pclose(p);
    return text;
}

/* GDAL's MVT driver reads the tile: ids, attributes and areas with holes
 * subtracted (so the windings are what GDAL expects). */
static void test_gdal_reads(void **state)
{
    static const int32_t shell[] = {100, 100, 1100, 100, 1100, 1100, 100, 1100};
    static const int32_t hole[] = {400, 400, 400, 800, 800, 800, 800, 400};
    static const int32_t tri[] = {2000, 2000, 3000, 2000, 3000, 3000};
    char path[] = "/tmp/mvt_test_XXXXXX.pbf", cmd[512], *text;
    double unit = 2 * 20037508.342789244 / 4096, a1, a2;
    struct mvt_value code = str("地块一");
    mvt *m = mvt_new();
    struct buf out;
    FILE *f;
    int fd;
    (void)state;
    if (system("ogrinfo --version > /dev/null 2>&1") != 0)
        skip();
    mvt_layer_begin(m, "parcels", 4096);
    mvt_feature_begin(m, 7);
    mvt_feature_tag(m, "code", &code);
    mvt_feature_ring(m, shell, 4);
    mvt_feature_ring(m, hole, 4);
    mvt_feature_end(m);
    mvt_feature_begin(m, 9);
    mvt_feature_ring(m, tri, 3);
    mvt_feature_end(m);
    encode_tile(m, &out);
    fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    f = fdopen(fd, "wb");
    fwrite(out.data, 1, out.len, f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "ogrinfo -ro -q -oo X=0 -oo Y=0 -oo Z=0 -oo CLIP=NO -dialect sqlite -sql "
             "\"SELECT mvt_id, code, ST_Area(geometry) AS a FROM parcels ORDER BY mvt_id\" %s",
             path);
    text = run(cmd);
    unlink(path);
    assert_non_null(strstr(text, "mvt_id (Integer64) = 7"));
    assert_non_null(strstr(text, "code (String) = 地块一"));
    assert_non_null(strstr(text, "mvt_id (Integer64) = 9"));
    {
        const char *p = strstr(text, "a (Real) = ");
        assert_non_null(p);
        a1 = atof(p + 11);
        p = strstr(p + 1, "a (Real) = ");
        assert_non_null(p);
        a2 = atof(p + 11);
    }
    /* 1000 x 1000 minus 400 x 400, and half of 1000 x 1000, in square metres */
    assert_true(fabs(a1 - (1000.0 * 1000 - 400.0 * 400) * unit * unit) < 1e-6 * a1);
    assert_true(fabs(a2 - 0.5 * 1000 * 1000 * unit * unit) < 1e-6 * a2);
    free(text);
    buf_clear(&out);
    mvt_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_examples), cmocka_unit_test(test_layer_and_tags),
        cmocka_unit_test(test_many_values),   cmocka_unit_test(test_empty),
        cmocka_unit_test(test_gdal_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
