/* gen_parcels: the demo's land parcels and the landscape they describe: a
 * river through the seat, two roads, valley floor, slopes and hills, the
 * town in the 社区 and homesteads in each 村. A parcel is one lattice cell
 * or two neighbouring cells of the same class inside one micro-grid, so it
 * lies in exactly one micro-grid, grid and village. Farmland bases, re-used
 * demolition sites and communities impose their class on the cells under
 * them. Writes parcels.geojson. */
#include "gen_demo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RIVER_HALF_M 52.0 /* half-width of the band of river cells */
#define ROAD_HALF_M 46.0
#define HAMLET_M 210.0

static double river_x(double y)
{
    return 380.0 * sin(y / 1400.0 + 0.6) - 0.18 * y;
}

double demo_elevation(struct xy m)
{
    double dr = fabs(m.x - river_x(m.y));
    return dr / 2400.0 + 0.22 * sin(m.x / 850.0 + 1.3) * sin(m.y / 1050.0 + 0.4);
}

static int inside(const struct overlay *o, struct xy p)
{
    int i, j, in = 0;
    for (i = 0, j = o->n - 1; i < o->n; j = i++) {
        struct xy a = o->ix[i], b = o->ix[j];
        if ((a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x)
            in = !in;
    }
    return in;
}

/* The class an overlay imposes at index point p, or -1. */
static int imposed(const struct demo *d, struct xy p)
{
    const struct overlay *sets[3] = {d->farm, d->demol, d->comm};
    int counts[3] = {d->nfarm, d->ndemol, d->ncomm}, s, k;
    for (s = 0; s < 3; s++)
        for (k = 0; k < counts[s]; k++)
            if (sets[s][k].lc >= 0 && inside(&sets[s][k], p))
                return sets[s][k].lc;
    return -1;
}

static enum lc cell_class(struct demo *d, int i, int j)
{
    struct xy ix = {i + 0.5, j + 0.5}, c = lattice_at(&d->lat, ix);
    const struct village *vil = &d->v[d->cell_village[j * d->lat.ni + i]];
    double u = rng_unit(&d->rng), e = demo_elevation(c) + rng_range(&d->rng, -0.06, 0.06);
    double rx = river_x(c.y);
    int over = imposed(d, ix);
    if (over >= 0)
        return (enum lc)over;
    if (fabs(c.x - rx) < RIVER_HALF_M)
        return LC_1101;
    if (fabs(c.x - rx - 520.0) < ROAD_HALF_M || fabs(c.y - 0.12 * c.x - 350.0) < ROAD_HALF_M)
        return LC_1003;
    if (vil->shequ)
        return lc_draw(MIX_TOWN, u);
    if (hypot(c.x - vil->hamlet.x, c.y - vil->hamlet.y) < HAMLET_M)
        return lc_draw(MIX_HAMLET, u);
    return lc_draw(e < 0.33 ? MIX_VALLEY : e < 0.62 ? MIX_SLOPE : MIX_HILL, u);
}

struct cells {
    int ni;
    const int *micro;
    unsigned char *cls;  /* enum lc per cell; cells outside stay unused */
    unsigned char *used; /* already part of a parcel */
};

/* Whether cell (i2, j2) can join cell (i, j) in one parcel. */
static int joins(const struct cells *c, int i, int j, int i2, int j2)
{
    int a = j * c->ni + i, b = j2 * c->ni + i2;
    return !c->used[b] && c->micro[a] == c->micro[b] && c->cls[a] == c->cls[b];
}

static void parcel_write(struct demo *d, struct jw *w, int v, int seq, enum lc c, struct rect r)
{
    const struct village *vil = &d->v[v];
    char code[24];
    int state = lc_state_owned(c);
    snprintf(code, sizeof code, "%s%05d", vil->code, seq);
    jw_feature_begin(w);
    jw_str(w, "code", code);
    jw_str(w, "dlbm", lc_code(c));
    jw_str(w, "dlmc", lc_name(c));
    jw_str(w, "qsxz", state ? "国有" : "集体");
    jw_str(w, "village_code", vil->code);
    jw_str(w, "owner", state ? "国有" : vil->coop);
    demo_emit(d, w, lattice_trace_rect(d, r));
}

/* Parcels of one micro-grid, row by row; a cell joins its east or north
 * neighbour of the same class as often as the class tends to. */
static void micro_parcels(struct demo *d, struct jw *w, struct cells *c, int k, int *seq)
{
    const struct grid *g = &d->grids[k];
    struct rect box = d->v[g->village].box;
    int i, j;
    for (j = box.j0; j < box.j1; j++) {
        for (i = box.i0; i < box.i1; i++) {
            struct rect r = {i, j, i + 1, j + 1};
            int at = j * c->ni + i, merge;
            enum lc cls = (enum lc)c->cls[at];
            if (c->micro[at] != k || c->used[at])
                continue;
            merge = rng_int(&d->rng, 0, 99) < lc_merge_percent(cls);
            if (merge && i + 1 < box.i1 && joins(c, i, j, i + 1, j))
                r.i1++;
            else if (merge && j + 1 < box.j1 && joins(c, i, j, i, j + 1))
                r.j1++;
            c->used[at] = 1;
            c->used[(r.j1 - 1) * c->ni + r.i1 - 1] = 1;
            parcel_write(d, w, g->village, ++seq[g->village], cls, r);
        }
    }
}

int parcels_write(struct demo *d, const char *dir)
{
    struct cells c = {d->lat.ni, d->cell_micro, NULL, NULL};
    int seq[DEMO_VILLAGES] = {0}, i, j, k, rc = -1;
    size_t n = (size_t)d->lat.ni * (size_t)d->lat.nj;
    struct jw w;
    c.cls = calloc(n, 1);
    c.used = calloc(n, 1);
    if (!c.cls || !c.used) {
        fprintf(stderr, "onemap-gen: out of memory\n");
        goto out;
    }
    for (j = 0; j < d->lat.nj; j++)
        for (i = 0; i < d->lat.ni; i++)
            if (d->cell_village[j * c.ni + i] >= 0)
                c.cls[j * c.ni + i] = (unsigned char)cell_class(d, i, j);
    if (demo_file_begin(&w, dir, "parcels") < 0)
        goto out;
    for (k = 0; k < d->ngrids; k++)
        if (d->grids[k].parent >= 0)
            micro_parcels(d, &w, &c, k, seq);
    rc = demo_file_end(&w, dir, "parcels");
out:
    free(c.cls);
    free(c.used);
    return rc;
}
