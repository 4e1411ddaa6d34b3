/* wkb: reading 2D WKB (ISO, either byte order) without GEOS — for the
 * paths that only need its numbers: a box, GeoJSON text. */
#ifndef ONEMAP_WKB_H
#define ONEMAP_WKB_H

#include <stddef.h>
#include <stdint.h>

struct wkb_in {
    const unsigned char *p, *end;
    int swap; /* the other byte order than this machine's */
};

/* A geometry's byte order and type (1 Point .. 7 GeometryCollection); -1
 * for anything else (Z, M, SRID flags, truncated). */
int wkb_header(struct wkb_in *r, uint32_t *type);
int wkb_u32(struct wkb_in *r, uint32_t *v);
/* n positions (x, y) into xy; -1 when the WKB is shorter. */
int wkb_xy(struct wkb_in *r, uint32_t n, double *xy);

/* The box of every position of the geometry (minx, miny, maxx, maxy): 0,
 * or -1 when the WKB is not 2D WKB that wkb_header takes, or is empty or
 * has NaN ordinates. */
int wkb_bbox(const unsigned char *wkb, size_t len, double mbr[4]);

#endif
