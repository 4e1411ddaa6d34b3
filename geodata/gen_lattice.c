/* gen_lattice: the demo's single source of vertices. A lattice of cells is
 * warped by a smooth field, rotated and jittered (little enough that every
 * cell stays a convex quadrilateral), and rounded once to lon/lat. Boundaries
 * of any set of cells are traced along its vertices, which is what keeps
 * shared edges identical between neighbours at every level. */
#include "gen_demo.h"

#include <math.h>
#include <stdlib.h>

#define JITTER 0.14    /* of a cell side, per axis: convex while below 0.25 */
#define ROTATION -0.21 /* radians: the valley runs NNE-SSW */

static struct xy place(int i, int j, int ni, int nj, struct rng *r)
{
    double s = DEMO_CELL_M, c = cos(ROTATION), sn = sin(ROTATION);
    struct xy p, q;
    p.x = (i - ni / 2.0) * s;
    p.y = (j - nj / 2.0) * s;
    /* a smooth warp with gradients below 0.15 keeps cells well shaped */
    q.x = p.x + 100.0 * sin(p.y / 700.0 + 0.7) + 60.0 * sin(p.x / 900.0 + 2.1);
    q.y = p.y + 90.0 * sin(p.x / 800.0 + 1.9) + 50.0 * sin(p.y / 650.0 + 0.3);
    q.x += rng_range(r, -JITTER, JITTER) * s;
    q.y += rng_range(r, -JITTER, JITTER) * s;
    p.x = q.x * c - q.y * sn;
    p.y = q.x * sn + q.y * c;
    return p;
}

static double cross(struct nd o, struct nd a, struct nd b)
{
    return (double)(a.x - o.x) * (double)(b.y - o.y) - (double)(a.y - o.y) * (double)(b.x - o.x);
}

/* Every cell must be a strictly convex, counter-clockwise quadrilateral in
 * the printed coordinates; then no traced ring can cross itself. */
static int cells_convex(const struct lattice *l)
{
    int i, j, k, w = l->ni + 1;
    for (j = 0; j < l->nj; j++) {
        for (i = 0; i < l->ni; i++) {
            struct nd q[4] = {l->ll[j * w + i], l->ll[j * w + i + 1],
                              l->ll[(j + 1) * w + i + 1], l->ll[(j + 1) * w + i]};
            for (k = 0; k < 4; k++)
                if (cross(q[k], q[(k + 1) % 4], q[(k + 2) % 4]) <= 0.0)
                    return 0;
        }
    }
    return 1;
}

int lattice_build(struct lattice *l, int ni, int nj, struct rng *r, const struct geo *g)
{
    size_t n = (size_t)(ni + 1) * (size_t)(nj + 1), k = 0;
    int i, j;
    l->ni = ni;
    l->nj = nj;
    l->m = malloc(n * sizeof *l->m);
    l->ll = malloc(n * sizeof *l->ll);
    if (!l->m || !l->ll) {
        fprintf(stderr, "onemap-gen: out of memory\n");
        return -1;
    }
    for (j = 0; j <= nj; j++) {
        for (i = 0; i <= ni; i++, k++) {
            l->m[k] = place(i, j, ni, nj, r);
            l->ll[k] = geo_nd(g, l->m[k]);
        }
    }
    if (!cells_convex(l)) {
        fprintf(stderr, "onemap-gen: lattice has a folded cell\n");
        return -1;
    }
    return 0;
}

void lattice_clear(struct lattice *l)
{
    free(l->m);
    free(l->ll);
    l->m = NULL;
    l->ll = NULL;
}

struct xy lattice_at(const struct lattice *l, struct xy ix)
{
    int i = (int)floor(ix.x), j = (int)floor(ix.y), w = l->ni + 1;
    double u, v;
    struct xy a, b, c, e, p;
    i = i < 0 ? 0 : i >= l->ni ? l->ni - 1 : i;
    j = j < 0 ? 0 : j >= l->nj ? l->nj - 1 : j;
    u = ix.x - i;
    v = ix.y - j;
    a = l->m[j * w + i];
    b = l->m[j * w + i + 1];
    c = l->m[(j + 1) * w + i];
    e = l->m[(j + 1) * w + i + 1];
    p.x = (1 - v) * ((1 - u) * a.x + u * b.x) + v * ((1 - u) * c.x + u * e.x);
    p.y = (1 - v) * ((1 - u) * a.y + u * b.y) + v * ((1 - u) * c.y + u * e.y);
    return p;
}

struct xy lattice_cell_centre(const struct lattice *l, int i, int j)
{
    struct xy ix = {i + 0.5, j + 0.5};
    return lattice_at(l, ix);
}

static int push(struct demo *d, int n, struct nd p)
{
    if (n >= d->ring_cap) {
        int cap = d->ring_cap ? 2 * d->ring_cap : 256;
        struct nd *q = realloc(d->ring, (size_t)cap * sizeof *q);
        if (!q)
            return -1;
        d->ring = q;
        d->ring_cap = cap;
    }
    d->ring[n] = p;
    return 0;
}

/* The cell set being traced: cells with lab == id, or all cells of a
 * rectangle when lab is NULL. */
struct tracer {
    const struct lattice *l;
    const int *lab;
    int id;
    struct rect r;
};

static int has(const struct tracer *t, int i, int j)
{
    if (i < t->r.i0 || i >= t->r.i1 || j < t->r.j0 || j >= t->r.j1)
        return 0;
    return !t->lab || t->lab[j * t->l->ni + i] == t->id;
}

/* Heading d (0 E, 1 N, 2 W, 3 S) at vertex (x, y): the set's interior is on
 * the left. Turn left when the cell ahead-left is outside, go straight when
 * only the one ahead-right is, turn right otherwise. */
static int turn(const struct tracer *t, int x, int y, int d)
{
    static const int al[4][2] = {{0, 0}, {-1, 0}, {-1, -1}, {0, -1}};
    static const int ar[4][2] = {{0, -1}, {0, 0}, {-1, 0}, {-1, -1}};
    if (!has(t, x + al[d][0], y + al[d][1]))
        return (d + 1) % 4;
    if (!has(t, x + ar[d][0], y + ar[d][1]))
        return d;
    return (d + 3) % 4;
}

/* Starts at the lower-left corner of the lowest, then leftmost cell, whose
 * lower edge is on the boundary, heading east. */
static int trace(struct demo *d, const struct tracer *t)
{
    static const int step[4][2] = {{1, 0}, {0, 1}, {-1, 0}, {0, -1}};
    int x0 = -1, y0 = -1, x, y, dir = 0, n = 0, i, j;
    for (j = t->r.j0; j < t->r.j1 && x0 < 0; j++)
        for (i = t->r.i0; i < t->r.i1 && x0 < 0; i++)
            if (has(t, i, j)) {
                x0 = i;
                y0 = j;
            }
    if (x0 < 0)
        return 0;
    x = x0;
    y = y0;
    do {
        if (push(d, n++, t->l->ll[y * (t->l->ni + 1) + x]) < 0)
            return -1;
        x += step[dir][0];
        y += step[dir][1];
        dir = turn(t, x, y, dir);
    } while (x != x0 || y != y0);
    return n;
}

int lattice_trace(struct demo *d, const int *lab, int id)
{
    struct tracer t = {&d->lat, lab, id, {0, 0, d->lat.ni, d->lat.nj}};
    return trace(d, &t);
}

int lattice_trace_rect(struct demo *d, struct rect r)
{
    struct tracer t = {&d->lat, NULL, 0, r};
    return trace(d, &t);
}
