/* qarea: the area of an area query — a bbox, a WKT or GeoJSON polygon in any
 * supported CRS, or another feature (within=grids/42) — resolved to a
 * prepared polygon in the storage CRS. Owned by the caller (qarea_free). */
#ifndef ONEMAP_QAREA_H
#define ONEMAP_QAREA_H

#include <stddef.h>

#include "ctx.h"
#include "err.h"
#include "layer.h"
#include "store.h"

enum qarea_kind { QAREA_NONE = 0, QAREA_BBOX, QAREA_WKT, QAREA_GEOJSON, QAREA_WITHIN };

struct qarea_spec {
    enum qarea_kind kind;
    double bbox[4];          /* QAREA_BBOX, as given */
    int crs, axis;           /* of bbox or geometry */
    const char *text;        /* QAREA_WKT / QAREA_GEOJSON: the geometry */
    size_t text_len;
    const char *param;       /* parameter name for messages: "bbox", "geometry" ... */
    const char *within;      /* QAREA_WITHIN: "collection/id" (id = feature id or key) */
    int make_valid;
};

typedef struct qarea qarea;

/* Resolves spec; *out is NULL for QAREA_NONE (no area: everything). Errors
 * are ERR_PARAM naming spec->param (invalid polygons say why and where), or
 * ERR_NOT_FOUND for an unknown within target. */
int qarea_resolve(ctx *c, store *s, const struct layers *ls, const struct qarea_spec *spec,
                  qarea **out, struct err *e);
void qarea_free(ctx *c, qarea *a);

/* The area's envelope in EPSG:4490 (minx, miny, maxx, maxy); up to two
 * rectangles (a bbox across the antimeridian). Returns the count. */
int qarea_rects(const qarea *a, double rects[2][4]);
/* Geodesic area of the query area in m2. */
double qarea_area_m2(const qarea *a);

#endif
