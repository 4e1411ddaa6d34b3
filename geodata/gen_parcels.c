/* gen_parcels: the demo's land parcels and the landscape they describe: a
 * river through the seat, two roads, valley floor, slopes and hills, the
 * town in the 社区 and homesteads in each 村. A parcel is one lattice cell
 * or two neighbouring cells of the same class inside one micro-grid, so it
 * lies in exactly one micro-grid, grid and village. Farmland bases, re-used
 * demolition sites and communities impose their class on the cells under
 * them. Writes parcels.geojson, and the parcels' history: the 2020 surveys
 * that gave the parcels under new bases and re-used sites their class, and
 * moved a few shared vertices. */
#include "gen_demo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RIVER_HALF_M 52.0 /* half-width of the band of river cells */
#define ROAD_HALF_M 46.0
#define HAMLET_M 210.0
#define MIDYEAR "2020-07-15" /* the 2020 surveys: what changed before July ... */
#define ANNUAL "2020-12-20"  /* ... and the year's survey, with the vertices moved */
#define MOVES 3              /* shared vertices the year's survey moved */
#define MOVE_BY 0.2          /* how far, in cells */

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

/* The overlay that imposes its class at index point p, or NULL. */
static const struct overlay *imposer(const struct demo *d, struct xy p)
{
    const struct overlay *sets[3] = {d->farm, d->demol, d->comm};
    int counts[3] = {d->nfarm, d->ndemol, d->ncomm}, s, k;
    for (s = 0; s < 3; s++)
        for (k = 0; k < counts[s]; k++)
            if (sets[s][k].lc >= 0 && inside(&sets[s][k], p))
                return &sets[s][k];
    return NULL;
}

/* The class of the land itself at cell (i, j), whatever lies on it. */
static enum lc land_class(struct demo *d, int i, int j, struct xy c, double u, double e)
{
    const struct village *vil = &d->v[d->cell_village[j * d->lat.ni + i]];
    double rx = river_x(c.y);
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
    unsigned char *cls;        /* enum lc per cell; cells outside stay unused */
    unsigned char *land;       /* the class without the overlay on it */
    const struct overlay **by; /* the overlay that imposed cls, or NULL */
    unsigned char *used;       /* already part of a parcel */
    int *parcel;               /* the parcel (d->parcels) a cell is part of, or -1 */
};

static void cell_class(struct demo *d, struct cells *c, int i, int j)
{
    struct xy ix = {i + 0.5, j + 0.5}, m = lattice_at(&d->lat, ix);
    double u = rng_unit(&d->rng), e = demo_elevation(m) + rng_range(&d->rng, -0.06, 0.06);
    int at = j * c->ni + i;
    c->by[at] = imposer(d, ix);
    c->land[at] = (unsigned char)land_class(d, i, j, m, u, e);
    c->cls[at] = c->by[at] ? (unsigned char)c->by[at]->lc : c->land[at];
}

/* Whether cell (i2, j2) can join cell (i, j) in one parcel. */
static int joins(const struct cells *c, int i, int j, int i2, int j2)
{
    int a = j * c->ni + i, b = j2 * c->ni + i2;
    return !c->used[b] && c->micro[a] == c->micro[b] && c->cls[a] == c->cls[b];
}

/* Writes parcel p with class c; moved: with its 2019 ring. */
static void parcel_emit(struct demo *d, struct jw *w, const struct parcel *p, enum lc c, int moved)
{
    const struct village *vil = &d->v[p->village];
    char code[24];
    int state = lc_state_owned(c), n, k;
    snprintf(code, sizeof code, "%s%05d", vil->code, p->seq);
    jw_feature_begin(w);
    jw_str(w, "code", code);
    jw_str(w, "dlbm", lc_code(c));
    jw_str(w, "dlmc", lc_name(c));
    jw_str(w, "qsxz", state ? "国有" : "集体");
    jw_str(w, "village_code", vil->code);
    jw_str(w, "owner", state ? "国有" : vil->coop);
    n = lattice_trace_rect(d, p->r);
    if (moved) {
        struct nd now = d->lat.ll[p->vy * (d->lat.ni + 1) + p->vx];
        for (k = 0; k < n; k++)
            if (d->ring[k].x == now.x && d->ring[k].y == now.y)
                d->ring[k] = p->was;
    }
    demo_emit(d, w, n);
}

/* Records the parcel of cells r and writes it. Under an overlay that
 * imposed its class in 2020 it had the class of its land before, until the
 * next survey. */
static void parcel_write(struct demo *d, struct jw *w, struct cells *c, int v, int seq,
                         struct rect r)
{
    struct parcel *p = &d->parcels[d->nparcels];
    int at = r.j0 * c->ni + r.i0, i, j;
    const struct overlay *by = c->by[at];
    memset(p, 0, sizeof *p);
    p->r = r;
    p->village = v;
    p->seq = seq;
    p->cls = p->before = c->cls[at];
    if (by && by->since && c->land[at] != p->cls) {
        p->before = c->land[at];
        p->surveyed = strcmp(by->since, "2020-07-01") < 0 ? MIDYEAR : ANNUAL;
    }
    for (j = r.j0; j < r.j1; j++)
        for (i = r.i0; i < r.i1; i++)
            c->parcel[j * c->ni + i] = d->nparcels;
    d->nparcels++;
    parcel_emit(d, w, p, (enum lc)p->cls, 0);
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
            parcel_write(d, w, c, g->village, ++seq[g->village], r);
        }
    }
}

/* The parcel of cell (i, j), or -1 outside. */
static int parcel_at(const struct demo *d, const struct cells *c, int i, int j)
{
    return d->cell_village[j * c->ni + i] >= 0 ? c->parcel[j * c->ni + i] : -1;
}

/* Whether parcels p and q, untouched by the surveys so far, are a pair of
 * the same micro-grid meeting along the whole of one side of each. */
static int pair_free(const struct demo *d, const struct cells *c, int p, int q)
{
    const struct parcel *a = &d->parcels[p], *b = &d->parcels[q];
    return p >= 0 && q >= 0 && p != q && !a->surveyed && !b->surveyed &&
           c->micro[a->r.j0 * c->ni + a->r.i0] == c->micro[b->r.j0 * c->ni + b->r.i0];
}

/* The year's survey moves MOVES lattice vertices, in different villages,
 * that are shared by exactly two parcels: the middle of the long side two
 * pairs of cells share. Moving it in both keeps the tiling, in 2019 as now.
 * The 2019 position is MOVE_BY of a cell across that side, on the line
 * between the cells of one pair, so both rings stay simple. */
static void moves_choose(struct demo *d, const struct cells *c)
{
    int taken[DEMO_VILLAGES] = {0}, done, x, y;
    for (done = 0; done < MOVES; done++) {
        uint64_t best = UINT64_MAX;
        int bx = -1, by = -1, horizontal = 0, k;
        for (y = 1; y < d->lat.nj; y++)
            for (x = 1; x < d->lat.ni; x++) {
                int a = parcel_at(d, c, x - 1, y - 1), b = parcel_at(d, c, x, y - 1);
                int e = parcel_at(d, c, x - 1, y), f = parcel_at(d, c, x, y);
                int h = a == b && e == f && pair_free(d, c, a, e);
                int v = a == e && b == f && pair_free(d, c, a, b);
                uint64_t key = hash3(UINT64_C(2020), (uint64_t)x, (uint64_t)y);
                if ((h || v) && !taken[d->parcels[a].village] && key < best) {
                    best = key;
                    bx = x;
                    by = y;
                    horizontal = h;
                }
            }
        if (bx < 0)
            return;
        {
            double shift = (best >> 63) ? MOVE_BY : -MOVE_BY;
            struct xy ix = {bx + (horizontal ? 0 : shift), by + (horizontal ? shift : 0)};
            int pp[2] = {parcel_at(d, c, bx - 1, by - 1), parcel_at(d, c, bx, by)};
            struct nd was = geo_nd(d->geo, lattice_at(&d->lat, ix));
            for (k = 0; k < 2; k++) {
                struct parcel *p = &d->parcels[pp[k]];
                p->moved = 1;
                p->vx = bx;
                p->vy = by;
                p->was = was;
                p->surveyed = ANNUAL;
            }
            taken[d->parcels[pp[0]].village] = 1;
        }
    }
}

int parcels_write(struct demo *d, const char *dir)
{
    struct cells c = {d->lat.ni, d->cell_micro, NULL, NULL, NULL, NULL, NULL};
    int seq[DEMO_VILLAGES] = {0}, i, j, k, rc = -1;
    size_t n = (size_t)d->lat.ni * (size_t)d->lat.nj;
    struct jw w;
    c.cls = calloc(n, 1);
    c.land = calloc(n, 1);
    c.by = calloc(n, sizeof *c.by);
    c.used = calloc(n, 1);
    c.parcel = malloc(n * sizeof *c.parcel);
    d->parcels = malloc(n * sizeof *d->parcels);
    if (!c.cls || !c.land || !c.by || !c.used || !c.parcel || !d->parcels) {
        fprintf(stderr, "onemap-gen: out of memory\n");
        goto out;
    }
    d->nparcels = 0;
    for (j = 0; j < d->lat.nj; j++)
        for (i = 0; i < d->lat.ni; i++)
            if (d->cell_village[j * c.ni + i] >= 0)
                cell_class(d, &c, i, j);
    if (demo_file_begin(&w, dir, "parcels") < 0)
        goto out;
    for (k = 0; k < d->ngrids; k++)
        if (d->grids[k].parent >= 0)
            micro_parcels(d, &w, &c, k, seq);
    rc = demo_file_end(&w, dir, "parcels");
    moves_choose(d, &c);
out:
    free(c.cls);
    free(c.land);
    free(c.by);
    free(c.used);
    free(c.parcel);
    return rc;
}

/* The step of one survey: today's version of every parcel it changed. */
static int survey_write(struct demo *d, const char *day, const char *what)
{
    struct jw w;
    char note[256];
    int k, classes = 0, moved = 0;
    for (k = 0; k < d->nparcels; k++) {
        const struct parcel *p = &d->parcels[k];
        if (p->surveyed && !strcmp(p->surveyed, day)) {
            classes += p->before != p->cls;
            moved += p->moved;
        }
    }
    if (!classes && !moved)
        return 0;
    if (moved)
        snprintf(note, sizeof note, "%s：%d 个图斑地类变更，%d 个图斑边界调整", what, classes,
                 moved);
    else
        snprintf(note, sizeof note, "%s：%d 个图斑地类变更", what, classes);
    if (hist_step_begin(d, &w, day, "parcels", note) < 0)
        return -1;
    for (k = 0; k < d->nparcels; k++) {
        const struct parcel *p = &d->parcels[k];
        if (p->surveyed && !strcmp(p->surveyed, day))
            parcel_emit(d, &w, p, (enum lc)p->cls, 0);
    }
    return hist_file_end(d, &w);
}

int parcels_history(struct demo *d)
{
    struct jw w;
    int k;
    if (hist_earlier_begin(d, &w, "parcels") < 0)
        return -1;
    for (k = 0; k < d->nparcels; k++) {
        const struct parcel *p = &d->parcels[k];
        if (p->surveyed)
            parcel_emit(d, &w, p, (enum lc)p->before, p->moved);
    }
    if (hist_file_end(d, &w) < 0)
        return -1;
    if (survey_write(d, MIDYEAR, "年中变更调查") < 0 || survey_write(d, ANNUAL, "年度变更调查") < 0)
        return -1;
    return 0;
}
