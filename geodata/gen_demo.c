/* gen_demo: `onemap-gen demo OUTDIR`, the 芹阳 sub-district data set. Owns
 * the run (seed, order of the steps, the output files) and the layout: the
 * lattice, the irregular sub-district outline and its split into 26
 * villages. Villages and grids are named and written by gen_grids.c,
 * parcels by gen_parcels.c, the rest by gen_overlay.c; the history under
 * OUTDIR/history by those two through gen_history.c. */
#include "gen_demo.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEMO_SEED UINT64_C(0x71696e79616e67) /* fixed: the demo never changes by accident */
#define MASK_MIN 3700 /* cells in the sub-district: about 30 km2 */
#define MASK_MAX 4100

static const char DESCRIPTION[] =
    "芹阳办事处（开化县）示范数据：除密赛村、桃溪村、翁村村、五福村外，名称部分为虚构；"
    "所有几何图形、人员和电话均为示意。Demo data for the 芹阳 sub-district of 开化县: "
    "names other than the four real villages are partly invented; all geometries, people "
    "and phone numbers are illustrative.";

/* Cells inside a lobed ellipse of radius r0 (cells) around the lattice's
 * centre; returns how many. */
static int mask_fill(const struct demo *d, double r0, const double *ph, int *mask)
{
    int i, j, n = 0, ni = d->lat.ni, nj = d->lat.nj;
    for (j = 0; j < nj; j++) {
        for (i = 0; i < ni; i++) {
            double x = (i + 0.5 - ni / 2.0) / 1.12, y = (j + 0.5 - nj / 2.0) / 0.9;
            double th = atan2(y, x);
            double r = r0 * (1.0 + 0.14 * sin(2 * th + ph[0]) + 0.08 * sin(3 * th + ph[1]) +
                             0.035 * sin(7 * th + ph[2]));
            mask[j * ni + i] = hypot(x, y) < r ? 0 : 1;
            n += mask[j * ni + i] == 0;
        }
    }
    return n;
}

/* The sub-district: MASK_MIN to MASK_MAX cells forming one simple polygon. */
static int mask_choose(struct demo *d, int *mask)
{
    struct regions g = {d->lat.ni, d->lat.nj, mask, NULL, 0, 0, 1, 1};
    int attempt, c;
    for (attempt = 0; attempt < 100; attempt++) {
        double ph[3], r0;
        for (c = 0; c < 3; c++)
            ph[c] = rng_range(&d->rng, 0, 2 * M_PI);
        for (r0 = 20; r0 < 60; r0 += 0.25) {
            int n = mask_fill(d, r0, ph, mask);
            if (n < MASK_MIN)
                continue;
            if (n <= MASK_MAX && regions_clean(&g) == 0)
                return 0;
            break;
        }
    }
    fprintf(stderr, "onemap-gen: no sub-district outline found\n");
    return -1;
}

static int layout(struct demo *d)
{
    size_t n = (size_t)DEMO_NI * DEMO_NJ, c;
    int *mask = malloc(n * sizeof *mask), rc = -1;
    struct regions g = {DEMO_NI, DEMO_NJ, NULL, mask, 0, 0, DEMO_VILLAGES, 60};
    d->cell_village = malloc(n * sizeof *d->cell_village);
    d->cell_grid = malloc(n * sizeof *d->cell_grid);
    d->cell_micro = malloc(n * sizeof *d->cell_micro);
    d->cell_used = calloc(n, 1);
    if (!mask || !d->cell_village || !d->cell_grid || !d->cell_micro || !d->cell_used) {
        fprintf(stderr, "onemap-gen: out of memory\n");
        goto out;
    }
    for (c = 0; c < n; c++)
        d->cell_village[c] = d->cell_grid[c] = d->cell_micro[c] = -1;
    if (lattice_build(&d->lat, DEMO_NI, DEMO_NJ, &d->rng, d->geo) < 0 || mask_choose(d, mask) < 0)
        goto out;
    g.lab = d->cell_village;
    if (regions_split(&g, &d->rng, 0.35, 0.15) < 0) {
        fprintf(stderr, "onemap-gen: no split into %d villages found\n", DEMO_VILLAGES);
        goto out;
    }
    rc = 0;
out:
    free(mask);
    return rc;
}

int demo_file_open(struct jw *w, const char *path, const char *layer)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "onemap-gen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (jw_open(w, f) < 0) {
        fclose(f);
        fprintf(stderr, "onemap-gen: out of memory\n");
        return -1;
    }
    jw_collection_begin(w, layer, DESCRIPTION);
    return 0;
}

int demo_file_close(struct jw *w, const char *path)
{
    int bad;
    jw_collection_end(w);
    bad = jw_close(w) < 0;
    bad |= fclose(w->f) != 0;
    if (bad)
        fprintf(stderr, "onemap-gen: %s: write failed\n", path);
    return bad ? -1 : 0;
}

int demo_file_begin(struct jw *w, const char *dir, const char *layer)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.geojson", dir, layer);
    return demo_file_open(w, path, layer);
}

int demo_file_end(struct jw *w, const char *dir, const char *layer)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.geojson", dir, layer);
    if (demo_file_close(w, path) < 0)
        return -1;
    printf("%s: %ld features\n", path, w->nfeat);
    return 0;
}

void demo_emit(struct demo *d, struct jw *w, int n)
{
    if (n > 0)
        jw_feature_polygon(w, d->ring, n);
    else
        w->err = 1;
}

static void demo_free(struct demo *d)
{
    if (!d)
        return;
    lattice_clear(&d->lat);
    geo_free(d->geo);
    free(d->cell_village);
    free(d->cell_grid);
    free(d->cell_micro);
    free(d->cell_used);
    free(d->ring);
    free(d->parcels);
    hist_free(d);
    free(d);
}

int demo_run(const char *outdir)
{
    struct demo *d = calloc(1, sizeof *d);
    int rc = 1;
    if (!d || !(d->geo = geo_new())) {
        fprintf(stderr, "onemap-gen: out of memory\n");
        goto out;
    }
    if (mkdir(outdir, 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "onemap-gen: %s: %s\n", outdir, strerror(errno));
        goto out;
    }
    rng_seed(&d->rng, DEMO_SEED);
    if (layout(d) < 0 || villages_name(d) < 0 || grids_build(d) < 0 || overlays_build(d) < 0)
        goto out;
    if (villages_write(d, outdir) < 0 || grids_write(d, outdir) < 0 ||
        parcels_write(d, outdir) < 0 || overlays_write(d, outdir) < 0)
        goto out;
    if (hist_begin(d, outdir) < 0 || parcels_history(d) < 0 || overlays_history(d) < 0 ||
        hist_end(d) < 0)
        goto out;
    rc = 0;
out:
    demo_free(d);
    return rc;
}
