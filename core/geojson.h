/* geojson: RFC 7946 geometry reading (from jansson values, or plain
 * geometries straight from their text) into GEOS and writing from GEOS into
 * a buf. Core-internal. Coordinates are taken and written as they are
 * (x, y): CRS and axis handling is geom_transform's. */
#ifndef ONEMAP_GEOJSON_H
#define ONEMAP_GEOJSON_H

#include <jansson.h>

#include "buf.h"
#include "ctx_int.h"

/* Parses a GeoJSON geometry object (Point, MultiPoint, LineString,
 * MultiLineString, Polygon, MultiPolygon, GeometryCollection). A third
 * ordinate is accepted and dropped. Errors are ERR_INVALID with the JSON
 * path of the fault relative to the geometry, e.g.
 * "coordinates[0][3]: expected an array of 2 or 3 numbers",
 * "coordinates[0]: ring is not closed (first 118.4 29.1, last 118.5 29.1)",
 * "coordinates[0]: a linear ring needs at least 4 positions",
 * "type: unknown geometry type 'Polygn'", non-finite numbers rejected.
 * max_points > 0 bounds the total number of positions (ERR_TOO_LARGE naming
 * the limit). Caller owns *out. */
int geojson_geom_parse(ctx *c, const json_t *j, size_t max_points, GEOSGeometry **out,
                       struct err *e);

/* Reads the GeoJSON geometry object in text[0..len) straight into GEOS, for
 * the common well-formed case only. Returns 0 and sets *out when the text is
 * a geometry that geojson_geom_parse would accept, giving the identical
 * geometry (same coordinates bit for bit, same structure); returns 1 (and
 * sets *out = NULL, nothing allocated) for anything else — malformed JSON,
 * errors of any kind, anything unusual — and then the caller parses the
 * text with jansson and geojson_geom_parse, which gives the exact message.
 * Never reports an error itself. max_points as in geojson_geom_parse.
 * Accepted: an object of exactly the members "type" (Point, MultiPoint,
 * LineString, MultiLineString, Polygon or MultiPolygon, unescaped) and
 * non-empty "coordinates", in either order, JSON whitespace around.
 * Caller owns *out. */
int geojson_geom_parse_text(ctx *c, const char *text, size_t len, size_t max_points,
                            GEOSGeometry **out);

/* Appends g as a GeoJSON geometry object, each ordinate printed with at
 * most prec decimals (buf_put_num). */
void geojson_geom_write(ctx *c, const GEOSGeometry *g, int prec, struct buf *out);

/* Appends the geometry in WKB as geojson_geom_write would append it once
 * read by GEOS (x and y only), without GEOS: 0, or -1 with out as it was
 * for what it does not take (empty or short rings, a one-point line,
 * malformed WKB): the caller then asks GEOS. */
int geojson_wkb_write(const unsigned char *wkb, size_t len, int prec, struct buf *out);

/* The same for coordinates in a swapped axis order (lat, lon or northing,
 * easting; mirrored = 1): rings are wound so that swapping the axes back
 * gives RFC 7946's counter-clockwise exteriors, i.e. vertex for vertex the
 * same ring as the lon/lat output. */
void geojson_geom_write_mirrored(ctx *c, const GEOSGeometry *g, int prec, int mirrored,
                                 struct buf *out);

#endif
