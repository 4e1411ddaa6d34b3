/* geojson_int: what the two GeoJSON geometry readers (geojson.c from jansson
 * values, geojson_text.c from text) share. Core-internal. */
#ifndef ONEMAP_GEOJSON_INT_H
#define ONEMAP_GEOJSON_INT_H

#include <stddef.h>

#define GEOJSON_COORD_MAX 1e9 /* no CRS onemap accepts comes near */

struct gtype {
    const char *name;
    int geos;
    int levels; /* array nesting of "coordinates"; -1 for a collection */
};

/* The seven geometry types of RFC 7946. */
extern const struct gtype geojson_types[];
extern const size_t geojson_ntypes;

/* Positions hold identical values and dimensions (a ring's closure). */
int geojson_same_pos(const double a[3], int adim, const double b[3], int bdim);

#endif
