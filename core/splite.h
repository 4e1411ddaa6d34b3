/* splite: SpatiaLite's own geometry BLOB, written from standard WKB, so that
 * writes bind the stored form directly instead of asking SpatiaLite's SQL
 * function GeomFromWKB to parse and rebuild every geometry. */
#ifndef ONEMAP_SPLITE_H
#define ONEMAP_SPLITE_H

#include <stddef.h>

#include "buf.h"

/* Appends to out the SpatiaLite BLOB (little-endian, uncompressed, XY) of a
 * 2D WKB Point, LineString, Polygon, Multi* or GeometryCollection of those,
 * with its MBR and srid. -1 when the WKB is malformed, has Z or M, nests
 * collections, or is empty (SpatiaLite has no empty geometries). */
int splite_from_wkb(const unsigned char *wkb, size_t len, int srid, struct buf *out);

/* Appends to out the little-endian WKB of a SpatiaLite BLOB of class 1-7
 * (XY, uncompressed: what onemap and GDAL write). -1 for anything else
 * (compressed, Z or M, malformed): ask SpatiaLite's AsBinary then. */
int splite_to_wkb(const unsigned char *blob, size_t len, struct buf *out);

#endif
