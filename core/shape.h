/* shape: the polygons of one feature as flat arrays of coordinates, for the
 * tile pipeline — read from WKB, handed to and taken from GEOS, snapped to a
 * grid and cleaned, checked for validity exactly, measured. Core-internal
 * (names GEOS types). A shape owns its arrays; one thread uses it. */
#ifndef ONEMAP_SHAPE_H
#define ONEMAP_SHAPE_H

#include <stddef.h>

#include "ctx_int.h"

/* Points are x, y interleaved and every ring is closed (first point
 * repeated at its end). Polygon k holds rings poly_start(k) .. poly_end[k]-1,
 * its exterior first. */
struct shape {
    double *xy;
    size_t n, cap;
    size_t *ring_end; /* point index after ring i */
    size_t n_rings, rings_cap;
    size_t *poly_end; /* ring index after polygon k's last ring */
    size_t n_polys, polys_cap;
    long long (*work)[2]; /* shape_snap's scratch */
    size_t work_cap;
};

static inline size_t shape_ring_start(const struct shape *s, size_t r)
{
    return r ? s->ring_end[r - 1] : 0;
}

static inline size_t shape_poly_start(const struct shape *s, size_t k)
{
    return k ? s->poly_end[k - 1] : 0;
}

void shape_reset(struct shape *s); /* empty, keeps the memory */
void shape_free(struct shape *s);  /* frees the arrays; s may be reused */

/* Functions returning int give 0, or -1 when memory ran out (or the WKB is
 * not a 2D Polygon or MultiPolygon). */

/* Appends a closed ring of n points; shape_end_poly closes the polygon. */
int shape_add_ring(struct shape *s, const double *xy, size_t n);
int shape_end_poly(struct shape *s);

/* Replaces s with the geometry of a WKB Polygon or MultiPolygon. */
int shape_from_wkb(const unsigned char *wkb, size_t len, struct shape *s);

/* A new Polygon (one polygon) or MultiPolygon of s, which is not empty;
 * NULL when GEOS fails. Caller owns it. */
GEOSGeometry *shape_to_geos(ctx *c, const struct shape *s);
/* Appends the polygons of g; lines and points in a collection are skipped. */
int shape_add_geos(ctx *c, const GEOSGeometry *g, struct shape *s);

/* Replaces out with in snapped to the grid of step (whole numbers): vertices
 * that repeat their predecessor or are exactly collinear with their
 * neighbours are dropped (a choice that depends only on the vertex and its
 * neighbours, so polygons sharing an edge make the same one), rings left
 * with fewer than three vertices or no area are dropped (an exterior with
 * its holes), exteriors are wound with positive and holes with negative
 * area in the surveyor's formula (clockwise / counter-clockwise when y
 * points down). */
int shape_snap(const struct shape *in, int step, struct shape *out);

/* 1 when a snapped shape is certainly a valid Polygon or MultiPolygon,
 * decided exactly; 0 when it is not or when it is too large to tell cheaply
 * (ask GEOS then). */
int shape_surely_valid(const struct shape *s);

/* Area (holes subtracted), in square units of the coordinates. */
double shape_area(const struct shape *s);

/* Scratch for shape_ring_clip_rect; zero it before first use, free with
 * shape_clip_free. */
struct shape_clip {
    double *a, *b;
    size_t cap_a, cap_b; /* points */
};
void shape_clip_free(struct shape_clip *k);

/* Clips the closed ring xy (n points) to the rectangle r (minx, miny, maxx,
 * maxy) side by side (Sutherland-Hodgman). *out points into k (closed,
 * *out_n points; 0 when nothing is left). Where a concave ring leaves the
 * rectangle and comes back, the result runs along the side and back: good
 * for measuring (those runs enclose nothing), not for drawing. -1 when
 * memory ran out. */
int shape_ring_clip_rect(const double *xy, size_t n, const double r[4], struct shape_clip *k,
                         const double **out, size_t *out_n);

/* Points of the longest ring. */
size_t shape_max_ring(const struct shape *s);

#endif
