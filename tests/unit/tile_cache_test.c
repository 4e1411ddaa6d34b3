/* tile_cache_test: the shared tile cache — invalidation drops exactly the
 * tiles (of every zoom) whose buffered extent meets the box, computed here
 * with the Gudermannian form of the Web Mercator inverse; LRU eviction
 * within the byte bound; tiles rendered before an invalidation are refused;
 * the gzip form; and several threads at once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tile_cache.h"

#define BUFFER_FRACTION (64.0 / 4096)

static void extent(int z, long x, long y, double out[4])
{
    double n = pow(2, z), pad = BUFFER_FRACTION;
    out[0] = 360.0 * (x - pad) / n - 180;
    out[2] = 360.0 * (x + 1 + pad) / n - 180;
    /* lat = 2 atan(e^t) - pi/2 with t = pi (1 - 2 y / n) */
    out[3] = (2 * atan(exp(M_PI * (1 - 2 * (y - pad) / n))) - M_PI / 2) * 180 / M_PI;
    out[1] = (2 * atan(exp(M_PI * (1 - 2 * (y + 1 + pad) / n))) - M_PI / 2) * 180 / M_PI;
}

static long lon_x(double lon, int z)
{
    return (long)floor((lon + 180) / 360 * pow(2, z));
}

static long lat_y(double lat, int z)
{
    double r = lat * M_PI / 180;
    return (long)floor((1 - log(tan(r) + 1 / cos(r)) / M_PI) / 2 * pow(2, z));
}

static int put(tile_cache *c, uint64_t layers, int z, long x, long y, size_t len)
{
    struct tile_key k = {layers, z, (uint32_t)x, (uint32_t)y};
    struct buf b;
    char etag[TILE_ETAG_SIZE];
    uint64_t epoch;
    int gz, rc;
    char *data = malloc(len ? len : 1);
    memset(data, 'a' + z, len);
    buf_init(&b);
    tile_cache_get(c, &k, 0, &b, &gz, etag, &epoch);
    rc = tile_cache_put(c, &k, data, len, NULL, 0, "\"e\"", epoch);
    buf_clear(&b);
    free(data);
    return rc;
}

static int has(tile_cache *c, uint64_t layers, int z, long x, long y)
{
    struct tile_key k = {layers, z, (uint32_t)x, (uint32_t)y};
    struct buf b;
    char etag[TILE_ETAG_SIZE];
    uint64_t epoch;
    int gz, hit;
    buf_init(&b);
    hit = tile_cache_get(c, &k, 0, &b, &gz, etag, &epoch);
    buf_clear(&b);
    return hit == 1;
}

/* Every zoom 8..18, a 9 x 9 block of tiles around the box, two layer sets:
 * exactly the ones whose buffered extent meets the box go. */
static void test_invalidate_exact(void **state)
{
    const struct bbox box = {118.4312, 29.1504, 118.4377, 29.1561};
    tile_cache *c = tile_cache_new((size_t)1 << 30);
    int dropped[19] = {0}, kept[19] = {0};
    (void)state;
    for (int z = 8; z <= 18; z++) {
        long cx = lon_x((box.minx + box.maxx) / 2, z), cy = lat_y((box.miny + box.maxy) / 2, z);
        for (long x = cx - 4; x <= cx + 4; x++)
            for (long y = cy - 4; y <= cy + 4; y++) {
                assert_int_equal(put(c, 1, z, x, y, 100), 0);
                assert_int_equal(put(c, 3, z, x, y, 100), 0);
            }
    }
    tile_cache_invalidate(c, &box);
    for (int z = 8; z <= 18; z++) {
        long cx = lon_x((box.minx + box.maxx) / 2, z), cy = lat_y((box.miny + box.maxy) / 2, z);
        for (long x = cx - 4; x <= cx + 4; x++)
            for (long y = cy - 4; y <= cy + 4; y++) {
                double e[4];
                int meets;
                extent(z, x, y, e);
                meets =
                    e[0] <= box.maxx && box.minx <= e[2] && e[1] <= box.maxy && box.miny <= e[3];
                if (has(c, 1, z, x, y) == meets || has(c, 3, z, x, y) == meets)
                    fail_msg("tile %d/%ld/%ld: %s", z, y, x, meets ? "kept" : "dropped");
                meets ? dropped[z]++ : kept[z]++;
            }
    }
    for (int z = 8; z <= 18; z++)
        assert_true(dropped[z] > 0 && kept[z] > 0);
    {
        struct tile_cache_stats st;
        tile_cache_stats_get(c, &st);
        assert_int_equal(st.entries, 2 * 11 * 81 - st.invalidated);
    }
    tile_cache_free(c);
}

/* A box just outside a tile's buffer leaves it; one inside the buffer (but
 * outside the tile) drops it. */
static void test_invalidate_buffer_edge(void **state)
{
    tile_cache *c = tile_cache_new(1 << 20);
    double e[4], pad_deg = 360.0 / pow(2, 14) * BUFFER_FRACTION;
    long x = lon_x(118.44, 14), y = lat_y(29.16, 14);
    struct bbox outside, inside;
    (void)state;
    extent(14, x, y, e);
    /* east of the tile: e[2] is the buffered east edge */
    outside = (struct bbox){e[2] + 1e-7, e[1], e[2] + 1e-6, e[3]};
    inside = (struct bbox){e[2] - pad_deg / 2, e[1], e[2] - pad_deg / 4, e[3]};
    assert_int_equal(put(c, 1, 14, x, y, 10), 0);
    tile_cache_invalidate(c, &outside);
    assert_true(has(c, 1, 14, x, y));
    tile_cache_invalidate(c, &inside);
    assert_false(has(c, 1, 14, x, y));
    tile_cache_free(c);
}

static void test_invalidate_layers(void **state)
{
    tile_cache *c = tile_cache_new(1 << 20);
    const struct bbox box = {118.43, 29.15, 118.44, 29.16};
    long x = lon_x(118.435, 12), y = lat_y(29.155, 12);
    (void)state;
    assert_int_equal(put(c, 1, 12, x, y, 10), 0);
    assert_int_equal(put(c, 2, 12, x, y, 10), 0);
    assert_int_equal(put(c, 3, 12, x, y, 10), 0);
    tile_cache_invalidate_layers(c, 2, &box);
    assert_true(has(c, 1, 12, x, y));
    assert_false(has(c, 2, 12, x, y));
    assert_false(has(c, 3, 12, x, y));
    tile_cache_free(c);
}

/* The least recently used tile goes first; the bytes stay bounded. */
static void test_lru(void **state)
{
    /* room for about ten 1000-byte tiles with their bookkeeping */
    tile_cache *c = tile_cache_new(10 * (1000 + 128) + 500);
    struct tile_cache_stats st;
    (void)state;
    for (long i = 0; i < 10; i++)
        assert_int_equal(put(c, 1, 10, i, 0, 1000), 0);
    assert_true(has(c, 1, 10, 0, 0)); /* now the most recent */
    assert_int_equal(put(c, 1, 10, 10, 0, 1000), 0);
    assert_int_equal(put(c, 1, 10, 11, 0, 1000), 0);
    assert_true(has(c, 1, 10, 0, 0));
    assert_false(has(c, 1, 10, 1, 0));
    assert_false(has(c, 1, 10, 2, 0));
    assert_true(has(c, 1, 10, 3, 0));
    assert_true(has(c, 1, 10, 11, 0));
    tile_cache_stats_get(c, &st);
    assert_true(st.bytes <= st.max_bytes);
    assert_int_equal(st.entries, 10);
    assert_int_equal(st.evicted, 2);
    /* a tile bigger than a quarter of the cache is not kept */
    assert_int_equal(put(c, 1, 10, 20, 0, 5000), 1);
    tile_cache_free(c);
}

/* A tile rendered before an invalidation that touches it is refused. */
static void test_stale_put_refused(void **state)
{
    tile_cache *c = tile_cache_new(1 << 20);
    long x = lon_x(118.44, 15), y = lat_y(29.16, 15);
    struct tile_key k = {1, 15, (uint32_t)x, (uint32_t)y};
    double e[4];
    struct bbox near, far = {100, 10, 101, 11};
    struct buf b;
    char etag[TILE_ETAG_SIZE];
    uint64_t epoch;
    int gz;
    (void)state;
    extent(15, x, y, e);
    near = (struct bbox){e[0], e[1], e[0] + 1e-6, e[1] + 1e-6};
    buf_init(&b);
    assert_int_equal(tile_cache_get(c, &k, 0, &b, &gz, etag, &epoch), 0);
    tile_cache_invalidate(c, &near); /* a write commits while the tile renders */
    assert_int_equal(tile_cache_put(c, &k, "old", 3, NULL, 0, "\"o\"", epoch), 1);
    assert_false(has(c, 1, 15, x, y));
    assert_int_equal(tile_cache_get(c, &k, 0, &b, &gz, etag, &epoch), 0);
    tile_cache_invalidate(c, &far);            /* elsewhere: no harm */
    tile_cache_invalidate_layers(c, 2, &near); /* another layer: no harm */
    assert_int_equal(tile_cache_put(c, &k, "new", 3, NULL, 0, "\"n\"", epoch), 0);
    assert_int_equal(tile_cache_get(c, &k, 0, &b, &gz, etag, &epoch), 1);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "new", 3);
    assert_string_equal(etag, "\"n\"");
    buf_clear(&b);
    tile_cache_free(c);
}

static void test_gzip_form(void **state)
{
    tile_cache *c = tile_cache_new(1 << 20);
    struct tile_key k = {1, 3, 1, 2};
    struct buf b;
    char etag[TILE_ETAG_SIZE];
    uint64_t epoch;
    int gz;
    (void)state;
    buf_init(&b);
    tile_cache_get(c, &k, 1, &b, &gz, etag, &epoch);
    assert_int_equal(tile_cache_put(c, &k, "raw", 3, NULL, 0, "\"r\"", epoch), 0);
    assert_int_equal(tile_cache_get(c, &k, 1, &b, &gz, etag, &epoch), 1);
    assert_int_equal(gz, 0); /* no gzip form yet: the identity bytes */
    assert_memory_equal(b.data, "raw", 3);
    tile_cache_put_gzip(c, &k, "\"other\"", "GZ", 2); /* another tile's: ignored */
    buf_reset(&b);
    assert_int_equal(tile_cache_get(c, &k, 1, &b, &gz, etag, &epoch), 1);
    assert_int_equal(gz, 0);
    tile_cache_put_gzip(c, &k, "\"r\"", "GZ", 2);
    buf_reset(&b);
    assert_int_equal(tile_cache_get(c, &k, 1, &b, &gz, etag, &epoch), 1);
    assert_int_equal(gz, 1);
    assert_int_equal(b.len, 2);
    assert_memory_equal(b.data, "GZ", 2);
    buf_reset(&b);
    assert_int_equal(tile_cache_get(c, &k, 0, &b, &gz, etag, &epoch), 1);
    assert_int_equal(gz, 0);
    assert_int_equal(b.len, 3);
    buf_clear(&b);
    tile_cache_free(c);
}

struct hammer {
    tile_cache *c;
    unsigned seed;
};

static void *hammer_run(void *arg)
{
    struct hammer *h = arg;
    for (int i = 0; i < 20000; i++) {
        long x = rand_r(&h->seed) % 64, y = rand_r(&h->seed) % 64;
        int op = rand_r(&h->seed) % 10;
        if (op < 6) {
            has(h->c, 1, 12, 3390 + x, 1690 + y);
        } else if (op < 9) {
            put(h->c, 1, 12, 3390 + x, 1690 + y, 50 + (size_t)(rand_r(&h->seed) % 500));
        } else {
            struct bbox b = {118.3 + x * 0.001, 29.1 + y * 0.001, 118.31 + x * 0.001,
                             29.11 + y * 0.001};
            tile_cache_invalidate(h->c, &b);
        }
    }
    return NULL;
}

/* Four threads at once; the byte bound holds. (Run under ASan/TSan too.) */
static void test_threads(void **state)
{
    tile_cache *c = tile_cache_new(100000);
    pthread_t th[4];
    struct hammer h[4];
    struct tile_cache_stats st;
    (void)state;
    for (int i = 0; i < 4; i++) {
        h[i].c = c;
        h[i].seed = (unsigned)i + 1;
        assert_int_equal(pthread_create(&th[i], NULL, hammer_run, &h[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    tile_cache_stats_get(c, &st);
    assert_true(st.bytes <= st.max_bytes);
    assert_true(st.hits > 0 && st.misses > 0 && st.invalidated > 0);
    tile_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalidate_exact),  cmocka_unit_test(test_invalidate_buffer_edge),
        cmocka_unit_test(test_invalidate_layers), cmocka_unit_test(test_lru),
        cmocka_unit_test(test_stale_put_refused), cmocka_unit_test(test_gzip_form),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
