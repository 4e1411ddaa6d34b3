/* qarea_int: the inside of a qarea, for core modules that test against it. */
#ifndef ONEMAP_QAREA_INT_H
#define ONEMAP_QAREA_INT_H

#include "ctx_int.h"
#include "qarea.h"

struct qarea {
    GEOSGeometry *geom;              /* storage CRS */
    const GEOSPreparedGeometry *prep;
    int n_rects;
    double rects[2][4];
    int rect_exact;                  /* geom is exactly the rects */
    double area_m2;
};

/* 1 when the feature's MBR lies inside a rectangular area (no GEOS needed). */
int qarea_mbr_inside(const qarea *a, const double mbr[4]);

/* Whether a geometry (its WKB and box) meets a rectangular area, when that
 * is plain without GEOS: 1 when a position of it lies in a rectangle, 0
 * when its box meets none; else (and for WKB it cannot read, or an area
 * that is not rectangles) -1, for GEOS to say. */
int qarea_rects_decide(const qarea *a, const unsigned char *wkb, size_t len, const double mbr[4]);

#endif
