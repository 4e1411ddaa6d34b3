/* tile_bench: prints vector tile sizes and rendering rates over a database:
 * for each zoom, every tile that covers the data, rendered uncached on one
 * thread (tiles per CPU second, bytes), then served from the tile cache
 * (tiles per CPU second).
 * usage: tile_bench DB [ZOOM...]   (default zooms 10 12 14 16) */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctx.h"
#include "store.h"
#include "tile.h"

/* CPU time of this thread: the machine may be shared, and one thread's
 * work is what is measured. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t lon_x(double lon, int z)
{
    return (uint32_t)floor((lon + 180) / 360 * ldexp(1, z));
}

static uint32_t lat_y(double lat, int z)
{
    double r = lat * M_PI / 180;
    return (uint32_t)floor((1 - asinh(tan(r)) / M_PI) / 2 * ldexp(1, z));
}

struct run {
    ctx *c;
    store *s;
    const struct layers *ls;
    uint64_t mask;
};

static int bench_zoom(struct run *r, const double ext[4], int z)
{
    uint32_t x0 = lon_x(ext[0], z), x1 = lon_x(ext[2], z), y0 = lat_y(ext[3], z),
             y1 = lat_y(ext[1], z);
    size_t n = 0, bytes = 0, max = 0, feats = 0, cands = 0, gzbytes = 0, maxgz = 0, repaired = 0;
    double t0, t_render, t_cached;
    struct buf out, gz;
    struct err e;
    tile_cache *cache = tile_cache_new((size_t)1 << 30);
    int reps;
    buf_init(&out);
    buf_init(&gz);
    t0 = now();
    for (uint32_t y = y0; y <= y1; y++)
        for (uint32_t x = x0; x <= x1; x++) {
            struct tile_stats st;
            buf_reset(&out);
            if (tile_render(r->c, r->s, r->ls, r->mask, z, x, y, &out, &st, &e)) {
                fprintf(stderr, "tile %d/%u/%u: %s\n", z, y, x, e.msg);
                return 1;
            }
            n++;
            bytes += out.len;
            feats += st.features;
            cands += st.candidates;
            repaired += st.repaired;
            if (out.len > max)
                max = out.len;
        }
    t_render = now() - t0;
    if (getenv("TILE_BENCH_RENDER_ONLY")) {
        printf("z%-2d %5zu tiles %7zu candidates %7zu features | uncached %8.1f tiles/s\n", z, n,
               cands, feats, n / t_render);
        return 0;
    }
    for (uint32_t y = y0; y <= y1; y++)
        for (uint32_t x = x0; x <= x1; x++) {
            buf_reset(&out);
            buf_reset(&gz);
            if (tile_render(r->c, r->s, r->ls, r->mask, z, x, y, &out, NULL, &e) ||
                tile_gzip(out.data, out.len, &gz, &e))
                return 1;
            gzbytes += gz.len;
            if (gz.len > maxgz)
                maxgz = gz.len;
        }
    /* cached: fill, then serve every tile repeatedly (gzip form) */
    reps = (int)(200000 / n) + 1;
    for (int pass = 0; pass <= reps; pass++) {
        if (pass == 1)
            t0 = now();
        for (uint32_t y = y0; y <= y1; y++)
            for (uint32_t x = x0; x <= x1; x++) {
                struct tile_key k = {r->mask, z, x, y};
                char etag[TILE_ETAG_SIZE];
                int is_gz;
                buf_reset(&out);
                if (tile_get(r->c, r->s, cache, r->ls, &k, 1, &out, &is_gz, etag, &e))
                    return 1;
            }
    }
    t_cached = now() - t0;
    printf("z%-2d %5zu tiles %7zu features %5zu repaired | bytes mean %8.0f max %8zu"
           " (gzip mean %7.0f max %7zu) | uncached %8.1f tiles/s | cached %9.0f tiles/s\n",
           z, n, feats, repaired, (double)bytes / n, max, (double)gzbytes / n, maxgz, n / t_render,
           (double)n * reps / t_cached);
    buf_clear(&out);
    buf_clear(&gz);
    tile_cache_free(cache);
    return 0;
}

int main(int argc, char **argv)
{
    struct run r = {0};
    struct layers *ls = NULL;
    struct err e;
    double ext[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    int zooms[32], nz = 0, rc = 0;
    const char *only = getenv("TILE_BENCH_LAYERS");
    if (argc < 2) {
        fprintf(stderr, "usage: tile_bench DB [ZOOM...]\n");
        return 2;
    }
    for (int i = 2; i < argc && nz < 32; i++)
        zooms[nz++] = atoi(argv[i]);
    if (!nz) {
        int d[] = {10, 12, 14, 16};
        memcpy(zooms, d, sizeof d);
        nz = 4;
    }
    if (store_open(argv[1], STORE_READONLY, &r.s, &e) || store_layers_get(r.s, &ls, &e) ||
        !(r.c = ctx_new(&e))) {
        fprintf(stderr, "tile_bench: %s\n", e.msg);
        return 1;
    }
    r.ls = ls;
    for (size_t i = 0; i < ls->n; i++) {
        double x[4];
        long long count;
        if (only && !strstr(only, ls->v[i].id))
            continue;
        if (store_layer_extent(r.s, &ls->v[i], x, &count, &e) == 0) {
            r.mask |= 1ull << i;
            ext[0] = fmin(ext[0], x[0]), ext[1] = fmin(ext[1], x[1]);
            ext[2] = fmax(ext[2], x[2]), ext[3] = fmax(ext[3], x[3]);
        }
    }
    printf("layers mask %#" PRIx64 ", extent %.5f %.5f %.5f %.5f\n", r.mask, ext[0], ext[1], ext[2],
           ext[3]);
    for (int i = 0; i < nz && !rc; i++)
        rc = bench_zoom(&r, ext, zooms[i]);
    ctx_free(r.c);
    layers_free(ls);
    store_close(r.s);
    return rc;
}
