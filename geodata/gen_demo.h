/* gen_demo: the model behind the 芹阳 demo data set, shared by its parts.
 * One jittered, warped lattice of ~90 m cells is the only source of vertices.
 * Every region is a set of cells: the sub-district, its villages, their
 * grids and micro-grids are nested partitions of cells, and parcels are
 * cells or pairs of cells inside one micro-grid. Every boundary is traced
 * along lattice vertices, so neighbours share identical vertices at every
 * level. Overlays (farmland, demolition sites, communities) are polygons
 * inside rectangles of cells of one village. */
#ifndef ONEMAP_GEN_DEMO_H
#define ONEMAP_GEN_DEMO_H

#include "gen.h"

#define DEMO_VILLAGES 26
#define DEMO_SHEQU 6     /* the urban 社区 around the seat; the rest are 村 */
#define DEMO_NI 104      /* lattice cells west-east and south-north */
#define DEMO_NJ 86
#define DEMO_CELL_M 88.0 /* nominal cell side in metres */
#define DEMO_MAX_GRIDS 512
#define OV_MAXV 12 /* vertices of an overlay polygon, at most */

struct rect {
    int i0, j0, i1, j1; /* cells i0 <= i < i1, j0 <= j < j1 */
};

struct lattice {
    int ni, nj;    /* cells; vertices are (ni + 1) x (nj + 1) */
    struct xy *m;  /* vertex positions in local metres, row-major */
    struct nd *ll; /* the same vertices as printed lon/lat */
};

struct village {
    char code[16];
    const char *name;
    int shequ; /* kind 社区 rather than 村 */
    int households, population;
    int ncells;
    struct rect box;  /* bounding box of its cells */
    struct xy centre; /* metres: mean of its cell centres */
    struct xy hamlet; /* metres: where the homesteads cluster */
    char coop[96];    /* the collective owner: 股份经济合作社 */
};

struct grid { /* a grid (网格) or a micro-grid (微网格) */
    char code[20];
    char name[96];
    char manager[24];
    char phone[16];
    int village;
    int parent; /* the grid of a micro-grid; -1 for a grid */
};

struct overlay { /* a farmland base, demolition site or community */
    int village;
    int item; /* row of the layer's own table */
    int n;
    struct xy at;          /* centre, lattice index units */
    struct xy dv[OV_MAXV]; /* vertex offsets from `at` at scale 1 */
    struct xy ix[OV_MAXV]; /* placed vertices, lattice index units */
    struct nd ll[OV_MAXV];
    double m2;      /* geodesic area */
    int lc;         /* land class it imposes on parcels under it, or -1 */
    int households; /* communities */
    int year_built; /* communities */
    int red, grade; /* communities: 红色物业 and its 红领 grade (0..2) */
    int protect;    /* farmland: 永久基本农田 */
    int coop_runs;  /* farmland: run by the village's cooperative ... */
    const char *operator_; /* ... or by this (static) operator */
    int year;              /* farmland: the year the base was set up */
    /* The day (YYYY-MM-DD) in 2020 from which the class it imposes holds: a
     * base planted, a site re-used then. NULL: it held before 2020. */
    const char *since;
};

/* A parcel as written, with what it was at the end of 2019 if a 2020
 * survey changed it. */
struct parcel {
    struct rect r;
    int village, seq;
    unsigned char cls, before; /* enum lc now and at the end of 2019 */
    const char *surveyed;      /* the day of the 2020 survey that changed it, or NULL */
    int moved;                 /* its 2019 ring had `was` where lattice vertex (vx, vy) is */
    int vx, vy;
    struct nd was;
};

struct hist; /* gen_history.c */

struct demo {
    struct geo *geo;
    struct rng rng;
    struct lattice lat;
    /* per cell, row-major: village, grid and micro-grid (indexes), -1 outside */
    int *cell_village, *cell_grid, *cell_micro;
    unsigned char *cell_used; /* covered by an overlay's rectangle */
    struct village v[DEMO_VILLAGES];
    struct grid grids[DEMO_MAX_GRIDS];
    int ngrids;
    struct overlay farm[32], demol[16], comm[32];
    int nfarm, ndemol, ncomm;
    struct nd *ring; /* scratch for traced rings */
    int ring_cap;
    struct parcel *parcels;
    int nparcels;
    struct hist *hist;
};

/* gen_lattice.c */
int lattice_build(struct lattice *l, int ni, int nj, struct rng *r, const struct geo *g);
void lattice_clear(struct lattice *l);
/* Local metres of a point given in lattice index units (bilinear in its cell). */
struct xy lattice_at(const struct lattice *l, struct xy ix);
struct xy lattice_cell_centre(const struct lattice *l, int i, int j);
/* Traces the boundary of the cells with lab[cell] == id (one 4-connected
 * set without holes or corner-only contacts) as a counter-clockwise ring of
 * lattice vertices into d->ring. Returns the vertex count, -1 when out of
 * memory. */
int lattice_trace(struct demo *d, const int *lab, int id);
int lattice_trace_rect(struct demo *d, struct rect r);

/* gen_regions.c: partitions of cells into regions that trace to one simple
 * polygon each (edge-connected, no holes, no corner-only contacts). */
struct regions {
    int ni, nj;
    int *lab;          /* region per cell; only active cells are rewritten */
    const int *parent; /* parent region per cell, or NULL: all cells active */
    int pid;           /* active cells are those with parent[cell] == pid */
    int first, count;  /* the regions made: first .. first + count - 1 */
    int min_cells;
};
/* Splits the active cells into g->count regions (noisy, weighted Voronoi
 * cells of k-means sites, cleaned) numbered north to south. Returns 0, or
 * -1 when no valid split was found or memory ran out. */
int regions_split(struct regions *g, struct rng *r, double noise, double spread);
/* Repairs labels already assigned so that the regions first.. are valid;
 * returns 0 when they are. */
int regions_clean(struct regions *g);

/* gen_demo.c */
/* Open DIR/LAYER.geojson and write the collection's head; close it again.
 * Both print their own message and return -1 on failure. */
int demo_file_begin(struct jw *w, const char *dir, const char *layer);
int demo_file_end(struct jw *w, const char *dir, const char *layer);
/* The same for any path, the collection named after the layer; close
 * prints nothing. */
int demo_file_open(struct jw *w, const char *path, const char *layer);
int demo_file_close(struct jw *w, const char *path);
/* Ends the current feature with the n-vertex ring lattice_trace left in
 * d->ring; a failed trace (n <= 0) marks the writer failed instead. */
void demo_emit(struct demo *d, struct jw *w, int n);

/* gen_grids.c: names, codes and figures of villages; grids and micro-grids */
int villages_name(struct demo *d);
int grids_build(struct demo *d);
int villages_write(struct demo *d, const char *dir);
int grids_write(struct demo *d, const char *dir);

/* gen_parcels.c */
double demo_elevation(struct xy m); /* 0 on the river, about 1 on the ridges */
int parcels_write(struct demo *d, const char *dir);

/* gen_overlay.c */
int overlays_build(struct demo *d);
int overlays_write(struct demo *d, const char *dir);
/* gen_parcels.c and gen_overlay.c: each layer's part of the history */
int parcels_history(struct demo *d);
int overlays_history(struct demo *d);

/* gen_history.c: the dated history that ends in today's files, written to
 * DIR/history/. steps.json names the base of every layer — today's file
 * without the keys a later step adds, with the earlier versions of the
 * features a later step changes from a small file — and the dated steps in
 * time order, each a small FeatureCollection of the features it writes.
 * Days are YYYY-MM-DD; each layer's steps are recorded at its own hour. */
#define HIST_BASE_AT "2019-01-01T00:00:00.000Z"
int hist_begin(struct demo *d, const char *dir);
/* A key of today's file that is not in the base (a step adds it). */
int hist_absent(struct demo *d, const char *layer, const char *key);
/* Opens the file of the base's earlier versions of the layer's features. */
int hist_earlier_begin(struct demo *d, struct jw *w, const char *layer);
/* Opens the file of the layer's step on day; note says what happened. */
int hist_step_begin(struct demo *d, struct jw *w, const char *day, const char *layer,
                    const char *note);
int hist_file_end(struct demo *d, struct jw *w);
/* Writes steps.json; hist_free also after a failure. */
int hist_end(struct demo *d);
void hist_free(struct demo *d);

#endif
