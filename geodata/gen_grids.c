/* gen_grids: the demo's villages and their governance grids. Names and
 * codes the villages (社区 around the seat first, then 村 clockwise from
 * north), splits each village into 2-4 grids (网格) and each grid into 2-4
 * micro-grids (微网格), and writes villages.geojson and grids.geojson. */
#include "gen_demo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define COUNTY_TOWNSHIP "330824003" /* 开化县 + 芹阳办事处 */

static const char *const shequ_names[DEMO_SHEQU] = {
    "江滨社区", "芹江社区", "北门社区", "城东社区", "解放街社区", "金溪社区",
};

/* In bearing order from north: the four real villages at every fifth place,
 * invented ones between. */
static const char *const cun_names[DEMO_VILLAGES - DEMO_SHEQU] = {
    "密赛村", "上埠村", "柏林村", "塘坞村", "前山村", "桃溪村", "后畈村",
    "青龙村", "石门村", "下湾村", "翁村村", "樟潭村", "龙坑村", "高田村",
    "枫树湾村", "五福村", "杨家村", "新安村", "金竹村", "岭脚村",
};

struct key {
    double k;
    int v;
};

static int key_cmp(const void *a, const void *b)
{
    const struct key *p = a, *q = b;
    if (p->k != q->k)
        return p->k < q->k ? -1 : 1;
    return p->v - q->v;
}

/* Puts the villages in code order: the DEMO_SHEQU nearest the seat by
 * distance, then the others by bearing clockwise from north. */
static void villages_order(struct demo *d)
{
    struct key key[DEMO_VILLAGES];
    struct village old[DEMO_VILLAGES];
    int remap[DEMO_VILLAGES], v, c;
    for (v = 0; v < DEMO_VILLAGES; v++) {
        key[v].k = hypot(d->v[v].centre.x, d->v[v].centre.y);
        key[v].v = v;
    }
    qsort(key, DEMO_VILLAGES, sizeof key[0], key_cmp);
    for (v = DEMO_SHEQU; v < DEMO_VILLAGES; v++) {
        struct xy p = d->v[key[v].v].centre;
        double bearing = atan2(p.x, p.y);
        key[v].k = bearing < 0 ? bearing + 2 * M_PI : bearing;
    }
    qsort(key + DEMO_SHEQU, DEMO_VILLAGES - DEMO_SHEQU, sizeof key[0], key_cmp);
    memcpy(old, d->v, sizeof old);
    for (v = 0; v < DEMO_VILLAGES; v++) {
        d->v[v] = old[key[v].v];
        remap[key[v].v] = v;
    }
    for (c = 0; c < d->lat.ni * d->lat.nj; c++)
        if (d->cell_village[c] >= 0)
            d->cell_village[c] = remap[d->cell_village[c]];
}

/* Cell count, bounding box and mean centre of each village. */
static void village_extent(struct demo *d)
{
    int v, i, j;
    for (v = 0; v < DEMO_VILLAGES; v++) {
        struct village *vil = &d->v[v];
        vil->ncells = 0;
        vil->centre.x = vil->centre.y = 0;
        vil->box.i0 = d->lat.ni;
        vil->box.j0 = d->lat.nj;
        vil->box.i1 = vil->box.j1 = 0;
    }
    for (j = 0; j < d->lat.nj; j++) {
        for (i = 0; i < d->lat.ni; i++) {
            struct village *vil;
            struct xy c;
            if ((v = d->cell_village[j * d->lat.ni + i]) < 0)
                continue;
            vil = &d->v[v];
            c = lattice_cell_centre(&d->lat, i, j);
            vil->ncells++;
            vil->centre.x += c.x;
            vil->centre.y += c.y;
            vil->box.i0 = i < vil->box.i0 ? i : vil->box.i0;
            vil->box.j0 = j < vil->box.j0 ? j : vil->box.j0;
            vil->box.i1 = i + 1 > vil->box.i1 ? i + 1 : vil->box.i1;
            vil->box.j1 = j + 1 > vil->box.j1 ? j + 1 : vil->box.j1;
        }
    }
    for (v = 0; v < DEMO_VILLAGES; v++) {
        d->v[v].centre.x /= d->v[v].ncells;
        d->v[v].centre.y /= d->v[v].ncells;
    }
}

/* Homesteads cluster low down and not far from the middle of a village. */
static struct xy hamlet_at(struct demo *d, int v)
{
    const struct village *vil = &d->v[v];
    double best = INFINITY;
    struct xy at = vil->centre;
    int i, j;
    for (j = vil->box.j0; j < vil->box.j1; j++)
        for (i = vil->box.i0; i < vil->box.i1; i++) {
            struct xy c = lattice_cell_centre(&d->lat, i, j);
            double score = demo_elevation(c) + hypot(c.x - vil->centre.x, c.y - vil->centre.y) / 1500;
            if (d->cell_village[j * d->lat.ni + i] == v && score < best) {
                best = score;
                at = c;
            }
        }
    at.x += rng_range(&d->rng, -60, 60);
    at.y += rng_range(&d->rng, -60, 60);
    return at;
}

int villages_name(struct demo *d)
{
    int v;
    village_extent(d);
    villages_order(d);
    village_extent(d);
    for (v = 0; v < DEMO_VILLAGES; v++) {
        struct village *vil = &d->v[v];
        vil->shequ = v < DEMO_SHEQU;
        vil->name = vil->shequ ? shequ_names[v] : cun_names[v - DEMO_SHEQU];
        /* statistical convention: 居委会 001-199, 村委会 200-399 */
        snprintf(vil->code, sizeof vil->code, "%s%03d", COUNTY_TOWNSHIP,
                 vil->shequ ? v + 1 : 201 + v - DEMO_SHEQU);
        snprintf(vil->coop, sizeof vil->coop, "%s股份经济合作社", vil->name);
        vil->hamlet = hamlet_at(d, v);
        /* 社区 households are set from their 小区 in gen_overlay.c */
        vil->households = vil->shequ ? 0 : rng_int(&d->rng, 260, 880);
        vil->population = (int)lround(vil->households * rng_range(&d->rng, 2.6, 3.1));
    }
    return 0;
}

static void grid_add(struct demo *d, int village, int parent, int seq)
{
    struct grid *g = &d->grids[d->ngrids];
    char code[20], name[96]; /* the parent's, copied: both live in *d */
    unsigned k = (unsigned)seq % 100u;
    if (parent < 0) {
        snprintf(code, sizeof code, "%s", d->v[village].code);
        snprintf(name, sizeof name, "%s", d->v[village].name);
    } else {
        memcpy(code, d->grids[parent].code, sizeof code);
        memcpy(name, d->grids[parent].name, sizeof name);
    }
    memset(g, 0, sizeof *g);
    g->village = village;
    g->parent = parent;
    /* codes: village + 2 digits, grid + 2 digits */
    snprintf(g->code, sizeof g->code, "%.14s%02u", code, k);
    if (parent < 0)
        snprintf(g->name, sizeof g->name, "%.60s第%u网格", name, k);
    else
        snprintf(g->name, sizeof g->name, "%.72s第%u微网格", name, k);
    names_person(rng_next(&d->rng), g->manager, sizeof g->manager);
    names_phone(d->ngrids, g->phone, sizeof g->phone);
    d->ngrids++;
}

/* 2-4 parts, more for bigger areas: cells_each is a typical part's size. */
static int parts(struct rng *r, int cells, double cells_each)
{
    int k = (int)floor(cells / cells_each + rng_range(r, 0.0, 1.0));
    return k < 2 ? 2 : k > 4 ? 4 : k;
}

/* Splits cells with parent[cell] == pid into new grids under `parent`. */
static int split(struct demo *d, int *lab, const int *parent, int pid, int cells, int village,
                 int up)
{
    struct regions g = {d->lat.ni, d->lat.nj, lab, parent, pid, d->ngrids, 0, 0};
    int k;
    g.count = parts(&d->rng, cells, up < 0 ? 52.0 : 17.0);
    g.min_cells = up < 0 ? 14 : 5;
    if (d->ngrids + g.count > DEMO_MAX_GRIDS || regions_split(&g, &d->rng, 0.25, 0.12) < 0) {
        fprintf(stderr, "onemap-gen: no split of %s into grids found\n", d->v[village].name);
        return -1;
    }
    for (k = 0; k < g.count; k++)
        grid_add(d, village, up, k + 1);
    return 0;
}

static int cells_of(const struct demo *d, const int *lab, int id)
{
    int c, n = 0;
    for (c = 0; c < d->lat.ni * d->lat.nj; c++)
        n += lab[c] == id;
    return n;
}

int grids_build(struct demo *d)
{
    int v, k;
    for (v = 0; v < DEMO_VILLAGES; v++) {
        int first = d->ngrids, last;
        if (split(d, d->cell_grid, d->cell_village, v, d->v[v].ncells, v, -1) < 0)
            return -1;
        last = d->ngrids;
        for (k = first; k < last; k++)
            if (split(d, d->cell_micro, d->cell_grid, k, cells_of(d, d->cell_grid, k), v, k) < 0)
                return -1;
    }
    return 0;
}

int villages_write(struct demo *d, const char *dir)
{
    struct jw w;
    int v, n;
    if (demo_file_begin(&w, dir, "villages") < 0)
        return -1;
    for (v = 0; v < DEMO_VILLAGES; v++) {
        const struct village *vil = &d->v[v];
        jw_feature_begin(&w);
        jw_str(&w, "code", vil->code);
        jw_str(&w, "name", vil->name);
        jw_str(&w, "kind", vil->shequ ? "社区" : "村");
        jw_int(&w, "households", vil->households);
        jw_int(&w, "population", vil->population);
        n = lattice_trace(d, d->cell_village, v);
        demo_emit(d, &w, n);
    }
    return demo_file_end(&w, dir, "villages");
}

int grids_write(struct demo *d, const char *dir)
{
    struct jw w;
    int k, n;
    if (demo_file_begin(&w, dir, "grids") < 0)
        return -1;
    for (k = 0; k < d->ngrids; k++) {
        const struct grid *g = &d->grids[k];
        jw_feature_begin(&w);
        jw_str(&w, "code", g->code);
        jw_str(&w, "name", g->name);
        jw_str(&w, "level", g->parent < 0 ? "网格" : "微网格");
        jw_str(&w, "village_code", d->v[g->village].code);
        if (g->parent >= 0)
            jw_str(&w, "parent_code", d->grids[g->parent].code);
        jw_str(&w, "manager", g->manager);
        jw_str(&w, "phone", g->phone);
        n = lattice_trace(d, g->parent < 0 ? d->cell_grid : d->cell_micro, k);
        demo_emit(d, &w, n);
    }
    return demo_file_end(&w, dir, "grids");
}
