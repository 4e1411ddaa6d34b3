/* geom: operations on GEOS geometries that the core needs everywhere:
 * geodesic area, CRS transform, bounds, validity with a reason and location,
 * boxes as polygons. Core-internal (names GEOS types); geometries are owned by the caller. */
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

/* 0 when every coordinate of g (in the storage CRS) is a longitude within
 * [-180, 180] and a latitude within [-90, 90]; otherwise ERR_INVALID saying
 * which bounds are out, e.g. "coordinates out of range: latitude 3225000
 * (expected -90 to 90)". Empty geometries pass. */
int geom_check_range(ctx *c, const GEOSGeometry *g, struct err *e);

/* Repairs g with GEOSMakeValidWithParams (structure method, keep collapsed off)
 * and keeps only polygonal parts; returns a new Polygon/MultiPolygon or NULL
 * with e filled when nothing polygonal remains. */
GEOSGeometry *geom_make_valid(ctx *c, const GEOSGeometry *g, struct err *e);

/* What geom_prepare_storage found wrong with a geometry and did about it. */
struct geom_repair {
    double loc[2];     /* where the first validity problem is, when have_loc */
    int have_loc;      /* the validity check failed (loc may stay 0 0) */
    int repaired;      /* make-valid changed the geometry */
    char reason[160];  /* the validity message, when repaired */
};

/* Makes g a stored geometry: transforms it from crs/axis to the storage CRS,
 * checks the range of its coordinates and its validity, and when it is
 * invalid and make_valid is set repairs it (geom_make_valid). Takes g over,
 * also on failure; *out receives the result (caller owns it). rep (zeroed
 * here) says what was found. Errors are those of the steps, unprefixed: the
 * caller names its parameter. */
int geom_prepare_storage(ctx *c, GEOSGeometry *g, int crs, int axis, int make_valid,
                         GEOSGeometry **out, struct geom_repair *rep, struct err *e);

/* The box b (minx, miny, maxx, maxy) as a Polygon, each side cut into n
 * pieces (n >= 1) so that it keeps its shape when transformed; its ring
 * starts and ends at (minx, miny) and runs counter-clockwise. NULL when
 * memory runs out. Caller owns the result. */
GEOSGeometry *geom_box_polygon(ctx *c, const double b[4], int n);

/* g's type as GEOS names it ("Polygon", "GeometryCollection"...), static
 * storage (GEOSGeomType_r's string would have to be freed). */
const char *geom_type_name(ctx *c, const GEOSGeometry *g);

/* Counts every coordinate of g. */
size_t geom_num_points(ctx *c, const GEOSGeometry *g);

#endif
