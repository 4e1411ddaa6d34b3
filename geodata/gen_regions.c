/* gen_regions: nested partitions of lattice cells. A region here must trace
 * to one simple polygon: its cells edge-connected, no holes, and no two of
 * its cells meeting only at a corner (that would make the ring touch
 * itself). Regions are grown as noisy, weighted Voronoi cells around k-means
 * sites, which gives irregular, map-like boundaries, then cleaned: stray
 * fragments join a neighbour, holes are filled, corner contacts are bridged.
 * A split that cannot be cleaned is drawn again. Owns only scratch memory. */
#include "gen_demo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROUNDS 60
#define LLOYD_STEPS 8
#define MAX_REGIONS 32

struct scratch {
    int *comp;  /* per cell: component or visit mark */
    int *stack; /* flood stack */
    int *cells; /* active cells */
    int ncells;
};

static int active(const struct regions *g, int i, int j)
{
    if (i < 0 || j < 0 || i >= g->ni || j >= g->nj)
        return 0;
    return !g->parent || g->parent[j * g->ni + i] == g->pid;
}

/* The label of an active cell, -1 for anything else. */
static int label(const struct regions *g, int i, int j)
{
    return active(g, i, j) ? g->lab[j * g->ni + i] : -1;
}

static int is_region(const struct regions *g, int lab)
{
    return lab >= g->first && lab < g->first + g->count;
}

/* Marks with `mark` every cell reachable from the stacked cells through
 * cells for which (label == id) == inside. Returns the cells marked. */
static int flood(const struct regions *g, struct scratch *s, int top, int id, int inside,
                 int mark)
{
    static const int di[4] = {1, 0, -1, 0}, dj[4] = {0, 1, 0, -1};
    int n = 0, k;
    while (top) {
        int c = s->stack[--top], i = c % g->ni, j = c / g->ni;
        n++;
        for (k = 0; k < 4; k++) {
            int a = i + di[k], b = j + dj[k], e = b * g->ni + a;
            if (a < 0 || b < 0 || a >= g->ni || b >= g->nj || s->comp[e] == mark)
                continue;
            if ((label(g, a, b) == id) != inside)
                continue;
            s->comp[e] = mark;
            s->stack[top++] = e;
        }
    }
    return n;
}

/* The label most of the cells around component `mark` carry, or -1. */
static int surrounding(const struct regions *g, const struct scratch *s, int mark, int id)
{
    static const int di[4] = {1, 0, -1, 0}, dj[4] = {0, 1, 0, -1};
    int labs[64], counts[64], n = 0, best = -1, bestn = 0, c, k, m;
    for (c = 0; c < g->ni * g->nj; c++) {
        if (s->comp[c] != mark)
            continue;
        for (k = 0; k < 4; k++) {
            int l = label(g, c % g->ni + di[k], c / g->ni + dj[k]);
            if (l < 0 || l == id)
                continue;
            for (m = 0; m < n && labs[m] != l; m++)
                ;
            if (m == n && n < 64) {
                labs[n] = l;
                counts[n++] = 0;
            }
            if (m < n && ++counts[m] > bestn) {
                bestn = counts[m];
                best = l;
            }
        }
    }
    return best;
}

static void reset(const struct regions *g, struct scratch *s)
{
    memset(s->comp, 0xff, (size_t)(g->ni * g->nj) * sizeof *s->comp);
}

/* Keeps each region's largest component; the others join the region
 * around them. */
static int fix_fragments(struct regions *g, struct scratch *s)
{
    int changed = 0, id, c, m;
    for (id = g->first; id < g->first + g->count; id++) {
        int marks = 0, best = -1, bestn = 0;
        reset(g, s);
        for (c = 0; c < g->ni * g->nj; c++) {
            int n;
            if (s->comp[c] >= 0 || label(g, c % g->ni, c / g->ni) != id)
                continue;
            s->comp[c] = marks;
            s->stack[0] = c;
            n = flood(g, s, 1, id, 1, marks);
            if (n > bestn) {
                bestn = n;
                best = marks;
            }
            marks++;
        }
        for (m = 0; m < marks; m++) {
            int to = m == best ? -1 : surrounding(g, s, m, id);
            if (to < 0)
                continue;
            for (c = 0; c < g->ni * g->nj; c++)
                if (s->comp[c] == m)
                    g->lab[c] = to;
            changed++;
        }
    }
    return changed;
}

/* Cells a region encloses (not reachable from the lattice's edge without
 * crossing it) become part of it. */
static int fix_holes(struct regions *g, struct scratch *s)
{
    int changed = 0, id, c;
    for (id = g->first; id < g->first + g->count; id++) {
        int top = 0;
        reset(g, s);
        for (c = 0; c < g->ni * g->nj; c++) {
            int i = c % g->ni, j = c / g->ni;
            int edge = i == 0 || j == 0 || i == g->ni - 1 || j == g->nj - 1;
            if (edge && label(g, i, j) != id) {
                s->comp[c] = 0;
                s->stack[top++] = c;
            }
        }
        flood(g, s, top, id, 0, 0);
        for (c = 0; c < g->ni * g->nj; c++) {
            int i = c % g->ni, j = c / g->ni;
            if (s->comp[c] != 0 && active(g, i, j) && g->lab[c] != id) {
                g->lab[c] = id;
                changed++;
            }
        }
    }
    return changed;
}

static int bridge(struct regions *g, int pi, int pj, int qi, int qj, int id, int *stuck)
{
    if (active(g, pi, pj))
        g->lab[pj * g->ni + pi] = id;
    else if (active(g, qi, qj))
        g->lab[qj * g->ni + qi] = id;
    else {
        ++*stuck; /* the parent itself has a corner contact */
        return 0;
    }
    return 1;
}

/* Two cells of a region meeting only at a corner get one of the two cells
 * between them. */
static int fix_pinches(struct regions *g, int *stuck)
{
    int changed = 0, i, j;
    *stuck = 0;
    for (j = -1; j < g->nj; j++) {
        for (i = -1; i < g->ni; i++) {
            int a = label(g, i, j), b = label(g, i + 1, j);
            int c = label(g, i, j + 1), e = label(g, i + 1, j + 1);
            if (is_region(g, a) && a == e && b != a && c != a)
                changed += bridge(g, i + 1, j, i, j + 1, a, stuck);
            else if (is_region(g, b) && b == c && a != b && e != b)
                changed += bridge(g, i, j, i + 1, j + 1, b, stuck);
        }
    }
    return changed;
}

static int clean(struct regions *g, struct scratch *s)
{
    int round, changed = 1, stuck = 0, size[MAX_REGIONS] = {0}, c, k;
    for (round = 0; round < MAX_ROUNDS && changed; round++)
        changed = fix_fragments(g, s) + fix_holes(g, s) + fix_pinches(g, &stuck);
    if (changed || stuck)
        return -1;
    for (c = 0; c < g->ni * g->nj; c++) {
        int l = label(g, c % g->ni, c / g->ni);
        if (is_region(g, l) && l - g->first < MAX_REGIONS)
            size[l - g->first]++;
    }
    for (k = 0; k < g->count && k < MAX_REGIONS; k++)
        if (size[k] < g->min_cells || size[k] == 0)
            return -1;
    return 0;
}

static int scratch_init(const struct regions *g, struct scratch *s)
{
    size_t n = (size_t)(g->ni * g->nj);
    int c;
    s->comp = malloc(n * sizeof *s->comp);
    s->stack = malloc(n * sizeof *s->stack);
    s->cells = malloc(n * sizeof *s->cells);
    s->ncells = 0;
    if (!s->comp || !s->stack || !s->cells)
        return -1;
    for (c = 0; c < (int)n; c++)
        if (active(g, c % g->ni, c / g->ni))
            s->cells[s->ncells++] = c;
    return 0;
}

static void scratch_clear(struct scratch *s)
{
    free(s->comp);
    free(s->stack);
    free(s->cells);
}

int regions_clean(struct regions *g)
{
    struct scratch s = {NULL, NULL, NULL, 0};
    int rc = -1;
    if (g->count <= MAX_REGIONS && scratch_init(g, &s) == 0)
        rc = clean(g, &s);
    scratch_clear(&s);
    return rc;
}

struct site {
    struct xy p;
    double weight;
    double ax, ay, bx, by, pa, pb; /* the site's own wiggle field */
};

static struct xy centre_of(int c, int ni)
{
    struct xy p = {c % ni + 0.5, c / ni + 0.5};
    return p;
}

/* k-means sites over the active cells, from distinct random cells. */
static void sites_place(const struct regions *g, struct rng *r, const struct scratch *s,
                        struct site *site)
{
    struct xy sum[MAX_REGIONS];
    int n[MAX_REGIONS], k, m, step, c;
    for (k = 0; k < g->count; k++) {
        do {
            site[k].p = centre_of(s->cells[rng_int(r, 0, s->ncells - 1)], g->ni);
            for (m = 0; m < k && (site[m].p.x != site[k].p.x || site[m].p.y != site[k].p.y); m++)
                ;
        } while (m < k);
    }
    for (step = 0; step < LLOYD_STEPS; step++) {
        memset(sum, 0, sizeof sum);
        memset(n, 0, sizeof n);
        for (c = 0; c < s->ncells; c++) {
            struct xy p = centre_of(s->cells[c], g->ni);
            int best = 0;
            for (k = 1; k < g->count; k++)
                if (hypot(p.x - site[k].p.x, p.y - site[k].p.y) <
                    hypot(p.x - site[best].p.x, p.y - site[best].p.y))
                    best = k;
            sum[best].x += p.x;
            sum[best].y += p.y;
            n[best]++;
        }
        for (k = 0; k < g->count; k++)
            if (n[k]) {
                site[k].p.x = sum[k].x / n[k];
                site[k].p.y = sum[k].y / n[k];
            }
    }
}

/* Each cell goes to the site nearest by a distance that each site scales by
 * its weight and by its own smooth wiggle: boundaries come out irregular. */
static void assign(struct regions *g, struct rng *r, const struct scratch *s, struct site *site,
                   double noise, double spread)
{
    double f = 2 * M_PI / (2.5 * sqrt((double)s->ncells / g->count));
    int k, c;
    for (k = 0; k < g->count; k++) {
        double a = rng_range(r, 0, 2 * M_PI), b = rng_range(r, 0, 2 * M_PI);
        site[k].weight = rng_range(r, 1 - spread, 1 + spread);
        site[k].ax = f * cos(a);
        site[k].ay = f * sin(a);
        site[k].bx = 1.7 * f * cos(b);
        site[k].by = 1.7 * f * sin(b);
        site[k].pa = rng_range(r, 0, 2 * M_PI);
        site[k].pb = rng_range(r, 0, 2 * M_PI);
    }
    for (c = 0; c < s->ncells; c++) {
        struct xy p = centre_of(s->cells[c], g->ni);
        double best = INFINITY;
        for (k = 0; k < g->count; k++) {
            const struct site *t = &site[k];
            double w = 0.5 * sin(t->ax * p.x + t->ay * p.y + t->pa) +
                       0.5 * sin(t->bx * p.x + t->by * p.y + t->pb);
            double dist = hypot(p.x - t->p.x, p.y - t->p.y) * (1 + noise * w) / t->weight;
            if (dist < best) {
                best = dist;
                g->lab[s->cells[c]] = g->first + k;
            }
        }
    }
}

/* Renumbers the regions north to south, then west to east. */
static void sort_regions(struct regions *g, const struct scratch *s)
{
    double y[MAX_REGIONS] = {0}, x[MAX_REGIONS] = {0};
    int n[MAX_REGIONS] = {0}, order[MAX_REGIONS], rank[MAX_REGIONS], k, m, c;
    for (c = 0; c < s->ncells; c++) {
        struct xy p = centre_of(s->cells[c], g->ni);
        k = g->lab[s->cells[c]] - g->first;
        x[k] += p.x;
        y[k] += p.y;
        n[k]++;
    }
    for (k = 0; k < g->count; k++) {
        y[k] /= n[k];
        x[k] /= n[k];
        order[k] = k;
    }
    for (k = 1; k < g->count; k++) /* insertion sort: a handful of regions */
        for (m = k; m > 0; m--) {
            int a = order[m - 1], b = order[m];
            if (y[a] > y[b] || (y[a] == y[b] && x[a] <= x[b]))
                break;
            order[m - 1] = b;
            order[m] = a;
        }
    for (k = 0; k < g->count; k++)
        rank[order[k]] = k;
    for (c = 0; c < s->ncells; c++)
        g->lab[s->cells[c]] = g->first + rank[g->lab[s->cells[c]] - g->first];
}

int regions_split(struct regions *g, struct rng *r, double noise, double spread)
{
    struct scratch s = {NULL, NULL, NULL, 0};
    struct site site[MAX_REGIONS];
    int attempt, rc = -1;
    if (g->count < 1 || g->count > MAX_REGIONS || scratch_init(g, &s) < 0)
        goto out;
    if (s.ncells < g->count * g->min_cells)
        goto out;
    for (attempt = 0; attempt < 400 && rc < 0; attempt++) {
        sites_place(g, r, &s, site);
        assign(g, r, &s, site, noise, spread);
        rc = clean(g, &s);
    }
    if (rc == 0)
        sort_regions(g, &s);
out:
    scratch_clear(&s);
    return rc;
}
