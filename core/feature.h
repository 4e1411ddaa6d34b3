/* feature: one feature between the outside world and the store — reading a
 * GeoJSON Feature against its layer's schema (types, enums, patterns,
 * required fields, geometry type, validity, CRS) and writing a stored row
 * back out as GeoJSON. Core-internal (names GEOS and jansson types). */
#ifndef ONEMAP_FEATURE_H
#define ONEMAP_FEATURE_H

#include <jansson.h>

#include "buf.h"
#include "ctx_int.h"
#include "layer.h"
#include "limit.h"
#include "store.h"

enum feature_flags {
    FEATURE_STRICT = 1,       /* unknown properties are errors (else ignored) */
    FEATURE_MAKE_VALID = 2    /* repair invalid geometries instead of refusing */
};

/* A parsed feature ready for the store. vals[i].s borrow from the json_t the
 * feature was parsed from (keep it alive) or from own strings. */
struct feature_in {
    struct value *vals;       /* layer->n_fields entries */
    GEOSGeometry *geom;       /* EPSG:4490, lon/lat */
    double area_m2;
    int repaired;             /* make_valid changed the geometry */
    char repair_reason[160];  /* what was wrong with it, e.g. "Self-intersection at ..." */
    double loc[2];            /* where the first problem is, when one is reported */
    int have_loc;
};

void feature_in_clear(ctx *c, struct feature_in *f);

/* Reads one GeoJSON Feature. crs/axis say how its coordinates are given.
 * Errors (ERR_INVALID, ERR_TOO_LARGE) name the member at fault, e.g.
 * "properties.dlbm: '9999' is not a valid value" or
 * "geometry: Self-intersection at 118.41 29.13". */
int feature_parse(ctx *c, const struct layer *l, const json_t *j, int crs, int axis,
                  const struct limits *lim, int flags, struct feature_in *out, struct err *e);
/* The same with the geometry read already (from the text, in the upload's
 * CRS): it stands for the Feature's "geometry" member and is taken over,
 * also on failure. */
int feature_parse_pre(ctx *c, const struct layer *l, const json_t *j, GEOSGeometry *geom,
                      int crs, int axis, const struct limits *lim, int flags,
                      struct feature_in *out, struct err *e);

/* Stores f as a new feature. */
int feature_insert(ctx *c, store *s, const struct layer *l, const struct feature_in *f,
                   long long *fid, struct err *e);
/* The same with the geometry's stored GeoJSON already written (an import
 * writes it while validating, in its parsing threads). */
int feature_insert_gj(ctx *c, store *s, const struct layer *l, const struct feature_in *f,
                      const char *stored_gj, long long *fid, struct err *e);

/* Output options for feature_write. no_area: 0 writes both areas, each bit
 * leaves one out (properties= without area_m2 or area_mu). */
enum feature_no_area { FEATURE_NO_AREA_M2 = 1, FEATURE_NO_AREA_MU = 2,
                       FEATURE_NO_AREA = 3 };
struct feature_out {
    int crs;                  /* output CRS */
    int axis;                 /* its axis order */
    const unsigned char *props; /* NULL: all; else per field 1 = include */
    int no_area;              /* FEATURE_NO_AREA_* bits: leave out area_m2 / area_mu */
};

/* Appends a stored row as a GeoJSON Feature. The geometry comes from the
 * row's cached GeoJSON when the output is lon/lat, else it is transformed. */
int feature_write(ctx *c, const struct layer *l, const struct store_row *row,
                  const struct feature_out *o, struct buf *out, struct err *e);

/* Appends g (storage CRS) as the GeoJSON text kept with each feature. */
void geojson_geom_write_storage(ctx *c, const GEOSGeometry *g, struct buf *out);

/* Appends a value as JSON (booleans as true/false for boolean fields). */
void feature_write_value(const struct field *f, const struct value *v, struct buf *out);


#endif
