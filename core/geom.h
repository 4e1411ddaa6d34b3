/* geom: operations on GEOS geometries that the core needs everywhere:
 * geodesic area, CRS transform, bounds, validity with a reason and location.
 * Core-internal (names GEOS types); geometries are owned by the caller. */
#ifndef ONEMAP_GEOM_H
#define ONEMAP_GEOM_H

#include "ctx_int.h"
#include "geom_box.h"


/* Geodesic area in m2 of a Polygon or MultiPolygon in EPSG:4490 lon/lat
 * (holes subtracted); a GeometryCollection (as a clip may return) counts its
 * polygonal parts; 0 for other types or empty geometries. NaN only when
 * memory runs out copying a large ring. */
double geom_area_m2(ctx *c, const GEOSGeometry *g);

/* Returns a new geometry with every coordinate transformed (see
 * crs_transform), or NULL with e filled. Caller owns the result. */
GEOSGeometry *geom_transform(ctx *c, const GEOSGeometry *g, int from, int from_axis,
                             int to, int to_axis, struct err *e);

/* Bounds of g; returns -1 for an empty geometry. */
int geom_bounds(ctx *c, const GEOSGeometry *g, struct bbox *out);

/* 0 when g is valid. Otherwise ERR_INVALID with a message such as
 * "Self-intersection at 118.41 29.13" (GEOSisValidDetail_r's reason and location;
 * loc_x/loc_y receive the location when non-NULL). */
int geom_check_valid(ctx *c, const GEOSGeometry *g, double *loc_x, double *loc_y,
                     struct err *e);

/* Repairs g with GEOSMakeValidWithParams (structure method, keep collapsed off)
 * and keeps only polygonal parts; returns a new Polygon/MultiPolygon or NULL
 * with e filled when nothing polygonal remains. */
GEOSGeometry *geom_make_valid(ctx *c, const GEOSGeometry *g, struct err *e);

/* Counts every coordinate of g. */
size_t geom_num_points(ctx *c, const GEOSGeometry *g);

#endif
