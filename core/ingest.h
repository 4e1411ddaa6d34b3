/* ingest: bringing a whole GeoJSON FeatureCollection into a layer — parse,
 * validate every feature, report every problem with its index, and write
 * all of it in one transaction or nothing. */
#ifndef ONEMAP_INGEST_H
#define ONEMAP_INGEST_H

#include <stddef.h>

#include "buf.h"
#include "ctx.h"
#include "err.h"
#include "layer.h"
#include "store.h"

struct ingest_opts {
    int crs;          /* CRS of the coordinates, or -1: the file's own crs member, else CRS84 */
    int axis;         /* crs_axis of crs */
    int make_valid;
    int dry_run;
    size_t max_features;
    size_t max_vertices;
};

struct ingest_invalid {
    size_t index;
    char key[128];
    char reason[ERR_MSG_MAX];
    double loc[2];
    int have_loc;
};

#define INGEST_MAX_INVALID 100

struct ingest_report {
    size_t added;
    size_t n_invalid;          /* how many were invalid in all */
    struct ingest_invalid invalid[INGEST_MAX_INVALID]; /* the first ones */
    double area_change_m2;
    size_t repaired;
};

void ingest_opts_default(struct ingest_opts *o);

/* Imports the FeatureCollection in text into layer l. Invalid features make
 * the whole import fail with ERR_INVALID (the report lists them); a key that
 * exists already -> ERR_CONFLICT naming the feature index. */
int ingest_geojson(ctx *c, store *s, const struct layer *l, const char *text, size_t len,
                   const struct ingest_opts *o, struct ingest_report *r, struct err *e);

/* Appends the report as JSON (the import report of API.md). */
void ingest_report_json(const struct ingest_report *r, int dry_run, struct buf *out);

/* Writes all features of l as a GeoJSON FeatureCollection (CRS84). */
int ingest_export(ctx *c, store *s, const struct layer *l, struct buf *out, struct err *e);

#endif
