/* upload_scan: finds the features of a GeoJSON FeatureCollection text, and
 * the geometry in a feature, without parsing them. Core-internal. */
#ifndef ONEMAP_UPLOAD_SCAN_H
#define ONEMAP_UPLOAD_SCAN_H

#include <jansson.h>
#include <stddef.h>

#include "progress.h"

#define UPLOAD_MAX_DEPTH 64 /* nesting of a whole upload, as json_depth_check counts it */

/* Bytes [start, end) of the text. */
struct span {
    size_t start, end;
};

/* Scans text[0..n): a FeatureCollection object whose "features" member is
 * an array of objects. *head gets the other top-level members (parsed),
 * *feats the span of each feature (caller frees both). -1 when anything is
 * off (malformed, nested deeper than UPLOAD_MAX_DEPTH, no features array).
 * The bytes scanned go to p (may be NULL) as they are passed. */
int upload_scan_collection(const char *t, size_t n, json_t **head, struct span **feats,
                           size_t *n_feats, struct progress *p);

/* The span [*vs, *ve) of the value of the first top-level member "geometry"
 * of the object t[start..end); 0 when found. */
int upload_find_geometry(const char *t, size_t start, size_t end, size_t *vs, size_t *ve);

#endif
