/* shapefile: an ESRI Shapefile, zipped and held in memory (a surveyor's
 * upload) or as files on disk, read into a GeoJSON FeatureCollection, so that
 * the ordinary GeoJSON validation and import path handles it. Core-internal
 * (names a jansson type). */
#ifndef ONEMAP_SHAPEFILE_H
#define ONEMAP_SHAPEFILE_H

#include <stddef.h>

#include <jansson.h>

#include "err.h"

/* Limits of one read; a zero member takes the default in brackets. */
struct shapefile_limits {
    size_t max_bytes;    /* uncompressed bytes read from the zip, counted as read [512 MiB] */
    size_t max_features; /* records in the Shapefile [100000] */
    size_t max_entries;  /* entries in the zip, folders included [64] */
};

/* Reads the zip archive zip[0..len) holding exactly one Shapefile (.shp, .shx
 * and .dbf of one name, optional .prj and .cpg; at the top level or in one
 * folder) into *fc, a new FeatureCollection the caller owns (json_decref).
 * Polygon, PolygonZ and PolygonM shapes become Polygon or MultiPolygon
 * geometries (Z and M dropped, exterior rings counter-clockwise), null shapes a
 * null geometry; DBF fields become properties named as in the file.
 * encoding: the DBF text encoding when the zip has no .cpg (NULL: GBK).
 * lim may be NULL (all defaults).
 * When the zip has a .prj, *crs is its CRS and *crs_known 1; else *crs_known 0
 * and *crs is untouched. Coordinates are always x = easting or longitude.
 * Errors: ERR_PARAM (encoding), ERR_BAD_REQUEST (not a zip archive),
 * ERR_INVALID (unsafe entry names, members missing or ambiguous, not polygons,
 * text not in its encoding, unknown .prj: each message names the entry,
 * feature index or field), ERR_TOO_LARGE (naming the limit), ERR_INTERNAL
 * (temporary files, memory). On error *fc is NULL.
 * The members are copied into a private temporary directory (under TMPDIR,
 * else /tmp) which is removed before returning. No shared state: any number
 * of threads may call this at once. */
int shapefile_zip_read(const void *zip, size_t len, const char *encoding,
                       const struct shapefile_limits *lim, json_t **fc, int *crs, int *crs_known,
                       struct err *e);

/* The same for a Shapefile on disk: path names the .shp; the .shx and .dbf
 * (required) and the .prj and .cpg (optional) are the files beside it with
 * the same stem, their extensions in either case. lim's max_bytes does not
 * apply (the files are read in place). Errors as above, and ERR_PARAM when
 * path does not end in .shp, ERR_NOT_FOUND when it cannot be read. */
int shapefile_path_read(const char *path, const char *encoding,
                        const struct shapefile_limits *lim, json_t **fc, int *crs, int *crs_known,
                        struct err *e);

/* Checks a text encoding name as the encoding parameter of the reads above
 * takes it (NULL passes): ERR_PARAM naming an encoding iconv does not know. */
int shapefile_encoding_check(const char *encoding, struct err *e);

#endif
