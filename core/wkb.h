/* wkb: reading WKB (ISO or extended, either byte order) without GEOS —
 * for the paths that only need its numbers: a box, GeoJSON text. */
#ifndef ONEMAP_WKB_H
#define ONEMAP_WKB_H

#include <stddef.h>
#include <stdint.h>

struct wkb_in {
    const unsigned char *p, *end;
    int swap; /* the other byte order than this machine's */
    int dims; /* ordinates per position, of the geometry last headed */
};

/* A geometry's byte order, type (1 Point .. 7 GeometryCollection) and
 * dimensions (ISO's Z, M and ZM types, or extended WKB's flags, whose SRID
 * is skipped); -1 for anything else, or truncated. */
int wkb_header(struct wkb_in *r, uint32_t *type);
int wkb_u32(struct wkb_in *r, uint32_t *v);
/* n positions into xy, x and y of each (Z and M are passed over); -1 when
 * the WKB is shorter. */
int wkb_xy(struct wkb_in *r, uint32_t n, double *xy);

/* The box of every position of the geometry (minx, miny, maxx, maxy): 0,
 * or -1 when the WKB is not WKB that wkb_header takes, or is empty, or has
 * NaN ordinates other than empty points'. */
int wkb_bbox(const unsigned char *wkb, size_t len, double mbr[4]);

/* Whether a position of the geometry lies in the closed box (minx, miny,
 * maxx, maxy): then the geometry and the box intersect, whatever its type.
 * 1 or 0; -1 as wkb_bbox says. A 0 decides nothing: a polygon's edge may
 * cross the box, or the polygon hold it, with no corner inside. */
int wkb_any_in(const unsigned char *wkb, size_t len, const double box[4]);

#endif
