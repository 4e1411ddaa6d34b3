/* gen_synth: `onemap-gen synthetic`, N parcels for load tests, streamed row
 * by row without holding them. A square lattice of 35-95 m cells centred on
 * the county seat, crossed every 12 cells by 14 m road strips (one long
 * parcel per block side), is sized from N so that density stays that of a
 * real county (a 1 km2 box holds a few hundred parcels). Every vertex is a
 * pure function of (seed, i, j), so neighbours share identical vertices
 * without any memory of them. */
#include "gen.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ROAD_EVERY 12   /* cells between road strips */
#define MAIN_ROAD_EVERY 48
#define VILLAGE_CELLS 24 /* a village is 24 x 24 cells */
#define TOWNSHIP_VILLAGES 6
#define TOWN_RADIUS_M 2200.0
#define RIVER_HALF_M 30.0
#define JITTER 0.12 /* of the narrowest neighbouring cell side: cells stay convex */

enum { H_WIDTH = 1, H_HEIGHT, H_JX, H_JY, H_TERRAIN, H_HAMLET, H_BLOCK, H_CLASS, H_NAME };

static const char DESCRIPTION[] =
    "合成测试数据，非真实地块：开化县城周边按 35-95 米地块铺设，仅供负载测试。Synthetic "
    "parcels around 开化县 for load tests; not real land data.";

struct synth {
    uint64_t seed, n;
    int ncols, nrows, nvcols;
    double *x, *y; /* cell edges in metres, centred on the seat */
    struct geo *geo;
    struct jw w;
};

static uint64_t pair(int i, int j)
{
    return ((uint64_t)(uint32_t)i << 32) | (uint32_t)j;
}

static double side(uint64_t seed, int kind, int k)
{
    if (k % ROAD_EVERY == 0)
        return 14.0;
    return 35.0 + 60.0 * hash_unit(seed, (uint64_t)kind, (uint64_t)k);
}

/* Cumulative edges of n cells, centred; NULL when out of memory. */
static double *edges(uint64_t seed, int kind, int n)
{
    double *e = malloc((size_t)(n + 1) * sizeof *e), half;
    int k;
    if (!e)
        return NULL;
    e[0] = 0;
    for (k = 0; k < n; k++)
        e[k + 1] = e[k] + side(seed, kind, k);
    half = e[n] / 2.0;
    for (k = 0; k <= n; k++)
        e[k] -= half;
    return e;
}

static double narrowest(const double *e, int n, int k)
{
    double a = k > 0 ? e[k] - e[k - 1] : INFINITY, b = k < n ? e[k + 1] - e[k] : INFINITY;
    return a < b ? a : b;
}

static struct nd vertex(const struct synth *s, int i, int j)
{
    double a = narrowest(s->x, s->ncols, i), b = narrowest(s->y, s->nrows, j);
    double amp = JITTER * (a < b ? a : b);
    struct xy m;
    m.x = s->x[i] + amp * (2.0 * hash_unit(s->seed, H_JX, pair(i, j)) - 1.0);
    m.y = s->y[j] + amp * (2.0 * hash_unit(s->seed, H_JY, pair(i, j)) - 1.0);
    return geo_nd(s->geo, m);
}

static enum mix cell_mix(const struct synth *s, int i, int j, double cx, double cy)
{
    uint64_t block = pair(i / ROAD_EVERY, j / ROAD_EVERY);
    double t = hash_unit(s->seed, H_TERRAIN, pair(i / VILLAGE_CELLS, j / VILLAGE_CELLS));
    if (hypot(cx, cy) < TOWN_RADIUS_M)
        return MIX_TOWN;
    if (hash_unit(s->seed, H_HAMLET, block) < 0.1)
        return MIX_HAMLET;
    t += 0.35 * (hash_unit(s->seed, H_BLOCK, block) - 0.5);
    return t < 0.35 ? MIX_VALLEY : t < 0.65 ? MIX_SLOPE : MIX_HILL;
}

/* The class of an ordinary cell (road strips are handled by the caller). */
static enum lc cell_class(const struct synth *s, int i, int j)
{
    double cx = (s->x[i] + s->x[i + 1]) / 2.0, cy = (s->y[j] + s->y[j + 1]) / 2.0;
    if (fabs(cx - (900.0 * sin(cy / 3000.0) - 0.1 * cy)) < RIVER_HALF_M)
        return LC_1101;
    return lc_draw(cell_mix(s, i, j, cx, cy), hash_unit(s->seed, H_CLASS, pair(i, j)));
}

static void village_code(const struct synth *s, int i, int j, char *buf, size_t size)
{
    int vi = i / VILLAGE_CELLS, vj = j / VILLAGE_CELLS;
    int ntx = (s->nvcols + TOWNSHIP_VILLAGES - 1) / TOWNSHIP_VILLAGES;
    int town = (vj / TOWNSHIP_VILLAGES) * ntx + vi / TOWNSHIP_VILLAGES + 1;
    int village = (vj % TOWNSHIP_VILLAGES) * TOWNSHIP_VILLAGES + vi % TOWNSHIP_VILLAGES + 201;
    snprintf(buf, size, "330824%03u%03u", (unsigned)town % 1000u, (unsigned)village % 1000u);
}

/* Writes one parcel anchored at cell (i, j): its code is the anchor's
 * village and the anchor's place in that village, so codes are unique. */
static void parcel(struct synth *s, int i, int j, enum lc c, const struct nd *ring, int n)
{
    char vcode[16], code[24], owner[96], stem[16];
    int state = lc_state_owned(c);
    village_code(s, i, j, vcode, sizeof vcode);
    snprintf(code, sizeof code, "%s%05d", vcode,
             (j % VILLAGE_CELLS) * VILLAGE_CELLS + i % VILLAGE_CELLS + 1);
    jw_feature_begin(&s->w);
    jw_str(&s->w, "code", code);
    jw_str(&s->w, "dlbm", lc_code(c));
    jw_str(&s->w, "dlmc", lc_name(c));
    jw_str(&s->w, "qsxz", state ? "国有" : "集体");
    jw_str(&s->w, "village_code", vcode);
    if (state) {
        jw_str(&s->w, "owner", "国有");
    } else {
        names_stem(hash3(s->seed, H_NAME, pair(i / VILLAGE_CELLS, j / VILLAGE_CELLS)), stem,
                   sizeof stem);
        snprintf(owner, sizeof owner, "%s村股份经济合作社", stem);
        jw_str(&s->w, "owner", owner);
    }
    jw_feature_polygon(&s->w, ring, n);
}

static void cell(struct synth *s, int i, int j)
{
    struct nd ring[4] = {vertex(s, i, j), vertex(s, i + 1, j), vertex(s, i + 1, j + 1),
                         vertex(s, i, j + 1)};
    parcel(s, i, j, cell_class(s, i, j), ring, 4);
}

/* A road along lattice row j from column i0 to i1 (exclusive), as one
 * parcel: every lattice vertex along both sides, shared with the cells
 * there. */
static void road_east(struct synth *s, int i0, int i1, int j)
{
    struct nd ring[2 * (ROAD_EVERY + 1)];
    int i, n = 0;
    for (i = i0; i <= i1; i++)
        ring[n++] = vertex(s, i, j);
    for (i = i1; i >= i0; i--)
        ring[n++] = vertex(s, i, j + 1);
    parcel(s, i0, j, j % MAIN_ROAD_EVERY ? LC_1006 : LC_1003, ring, n);
}

/* A road along lattice column i from row j0 to j1 (exclusive). */
static void road_north(struct synth *s, int i, int j0, int j1)
{
    struct nd ring[2 * (ROAD_EVERY + 1)];
    int j, n = 0;
    for (j = j0; j <= j1; j++)
        ring[n++] = vertex(s, i + 1, j);
    for (j = j1; j >= j0; j--)
        ring[n++] = vertex(s, i, j);
    parcel(s, i, j0, i % MAIN_ROAD_EVERY ? LC_1006 : LC_1003, ring, n);
}

/* Parcels a lattice row yields: a road row is one strip per block; the
 * first row of a block starts the north-running road strips too. */
static int row_parcels(const struct synth *s, int j)
{
    int roads = (s->ncols + ROAD_EVERY - 1) / ROAD_EVERY;
    if (j % ROAD_EVERY == 0)
        return roads;
    return j % ROAD_EVERY == 1 ? s->ncols : s->ncols - roads;
}

/* Writes row j, stopping once s->n parcels are out. */
static void row(struct synth *s, int j, uint64_t *done)
{
    int i;
    if (j % ROAD_EVERY == 0) {
        for (i = 0; i < s->ncols && *done < s->n; i += ROAD_EVERY, ++*done)
            road_east(s, i, i + ROAD_EVERY < s->ncols ? i + ROAD_EVERY : s->ncols, j);
        return;
    }
    for (i = 0; i < s->ncols && *done < s->n; i++) {
        if (i % ROAD_EVERY) {
            cell(s, i, j);
            ++*done;
        } else if (j % ROAD_EVERY == 1) {
            int end = j + ROAD_EVERY - 1;
            road_north(s, i, j, end < s->nrows ? end : s->nrows);
            ++*done;
        }
    }
}

/* A square-ish lattice just big enough for n parcels (a 12 x 12 block of
 * cells holds 123), with as many rows as it takes. */
static int setup(struct synth *s)
{
    uint64_t count = 0;
    int nvrows;
    s->ncols = (int)ceil(sqrt((double)s->n * 144.0 / 123.0));
    s->ncols = s->ncols < 2 ? 2 : s->ncols;
    for (s->nrows = 0; count < s->n; s->nrows++)
        count += (uint64_t)row_parcels(s, s->nrows);
    s->nvcols = (s->ncols + VILLAGE_CELLS - 1) / VILLAGE_CELLS;
    nvrows = (s->nrows + VILLAGE_CELLS - 1) / VILLAGE_CELLS;
    if (((s->nvcols + 5) / 6) * ((nvrows + 5) / 6) > 999) {
        fprintf(stderr, "onemap-gen: too many parcels for 3-digit township codes\n");
        return -1;
    }
    s->x = edges(s->seed, H_WIDTH, s->ncols);
    s->y = edges(s->seed, H_HEIGHT, s->nrows);
    s->geo = geo_new();
    if (!s->x || !s->y || !s->geo) {
        fprintf(stderr, "onemap-gen: out of memory\n");
        return -1;
    }
    return 0;
}

static int stream(struct synth *s, FILE *f)
{
    uint64_t done = 0;
    int j;
    if (jw_open(&s->w, f) < 0) {
        jw_close(&s->w);
        return -1;
    }
    jw_collection_begin(&s->w, "parcels", DESCRIPTION);
    for (j = 0; j < s->nrows && done < s->n && !s->w.err; j++)
        row(s, j, &done);
    jw_collection_end(&s->w);
    return jw_close(&s->w);
}

int synth_run(uint64_t parcels, uint64_t seed, const char *out)
{
    struct synth s;
    FILE *f = NULL;
    int rc = 1;
    memset(&s, 0, sizeof s);
    s.n = parcels;
    s.seed = seed;
    if (setup(&s) < 0)
        goto out;
    f = out ? fopen(out, "wb") : stdout;
    if (!f) {
        fprintf(stderr, "onemap-gen: %s: %s\n", out, strerror(errno));
        goto out;
    }
    rc = stream(&s, f) < 0;
    if (f != stdout && fclose(f) != 0)
        rc = 1;
    if (rc)
        fprintf(stderr, "onemap-gen: %s: write failed\n", out ? out : "standard output");
out:
    geo_free(s.geo);
    free(s.x);
    free(s.y);
    return rc;
}
