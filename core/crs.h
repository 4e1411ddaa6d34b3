/* crs: the coordinate reference systems onemap accepts (CRS84, EPSG:4326,
 * 4490, 3857, 4548, 4549, 4527, 4528), their names and URIs, and PROJ
 * transforms between them. Storage is EPSG:4490 as x = lon, y = lat. */
#ifndef ONEMAP_CRS_H
#define ONEMAP_CRS_H

#include <stddef.h>

#include "err.h"

enum crs_id {
    CRS_CRS84 = 0, /* OGC CRS84: lon, lat (WGS84) */
    CRS_4326,      /* WGS 84, definition axis order lat, lon */
    CRS_4490,      /* CGCS2000, definition axis order lat, lon; storage */
    CRS_3857,      /* Web Mercator, x, y */
    CRS_4548,      /* CGCS2000 / 3-degree GK CM 117E: northing, easting */
    CRS_4549,      /* CGCS2000 / 3-degree GK CM 120E */
    CRS_4527,      /* CGCS2000 / 3-degree GK zone 39 (eastings 39xxxxxx) */
    CRS_4528,      /* CGCS2000 / 3-degree GK zone 40 */
    CRS_COUNT
};

#define CRS_STORAGE CRS_4490

/* Axis order used for coordinates in a request or file:
 * CRS_AXIS_XY: x = easting/longitude, y = northing/latitude (GeoJSON, .prj, CLI);
 * CRS_AXIS_AUTHORITY: the order of the CRS definition (OGC URIs in crs, bbox-crs,
 * Content-Crs, filter-crs, geometry-crs: EPSG:4490/4326 lat first, GK northing first). */
enum crs_axis { CRS_AXIS_XY = 0, CRS_AXIS_AUTHORITY = 1 };

/* Parses "http://www.opengis.net/def/crs/OGC/1.3/CRS84", ".../EPSG/0/4490",
 * "EPSG:4490", "urn:ogc:def:crs:EPSG::4490", "CRS84", "OGC:CRS84" and the same
 * with surrounding <> (as in Content-Crs). Unknown or unsupported -> ERR_PARAM
 * naming the value. */
int crs_parse(const char *s, int *crs, struct err *e);
/* Finds the CRS of a WKT string as found in a Shapefile .prj or a legacy
 * GeoJSON "crs" member name. ERR_PARAM when it is none of ours. */
int crs_from_wkt(const char *wkt, int *crs, struct err *e);

const char *crs_uri(int crs);   /* the OGC URI, static storage */
int crs_epsg(int crs);          /* 4326, 4490..., 0 for CRS84 */
int crs_is_geographic(int crs);
/* 1 when the definition's first axis is latitude or northing. */
int crs_authority_swaps(int crs);
/* Decimals to print: 9 for degrees, 4 for metres. */
int crs_precision(int crs);
/* Area of use as lon/lat bounds; used to reject coordinates far outside. */
void crs_area_of_use(int crs, double *west, double *south, double *east, double *north);

/* Per-thread PROJ context with transforms created on first use and kept. */
typedef struct crs_ctx crs_ctx;
crs_ctx *crs_ctx_new(struct err *e);
void crs_ctx_free(crs_ctx *c);

/* Transforms n points in place, interleaved x,y (stride 2 doubles), from crs
 * `from` in axis order `from_axis` to crs `to` in axis order `to_axis`.
 * Identity when from == to and the axis orders agree. A point PROJ cannot
 * transform -> ERR_PARAM naming its index. */
int crs_transform(crs_ctx *c, int from, int from_axis, int to, int to_axis,
                  double *xy, size_t n, struct err *e);

#endif
