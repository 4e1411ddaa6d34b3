/* ingest: bringing a whole FeatureCollection (GeoJSON, or a Shapefile read
 * into one) into a layer — parse and validate every feature, match them to
 * the stored features by key, report what would be added, changed,
 * unchanged and removed, and write all of it in one transaction or nothing.
 * Every written feature gets a history row under one change id. */
#ifndef ONEMAP_INGEST_H
#define ONEMAP_INGEST_H

#include <stddef.h>

#include "buf.h"
#include "ctx.h"
#include "err.h"
#include "geom_box.h"
#include "layer.h"
#include "store.h"

enum ingest_mode {
    INGEST_UPSERT = 0,  /* add new keys, change existing ones */
    INGEST_REPLACE      /* also remove the layer's features whose key is absent */
};

struct ingest_opts {
    int crs;            /* CRS of the coordinates, or -1: the file's own, else CRS84 */
    int axis;           /* crs_axis of crs */
    int make_valid;
    int dry_run;
    int preview;        /* with dry_run: the report carries the features as they would be
                         * stored (INGEST_PREVIEW_BYTES at most) */
    enum ingest_mode mode;
    int key_field;      /* field matched on; -1: the layer's key */
    size_t max_features;
    size_t max_vertices;
    const char *encoding; /* a Shapefile's DBF text encoding when no .cpg names one
                           * (NULL: GBK); an unknown name is refused for every format */
    const char *by;     /* who, for the history */
    const char *change_id; /* NULL: one is made */
    const char *at;     /* the time the change is recorded at, as instant_parse writes it
                         * (NULL: now); only for histories made on purpose (the demo) */
};
/* How far an import has got goes to the progress of the ctx it runs with
 * (ctx_set_progress), phase by phase: reading, then parsing, matching and
 * writing (or, into an empty layer, writing as it parses, then indexing),
 * then committing. */

struct ingest_note {
    size_t index;
    char key[128];
    char reason[ERR_MSG_MAX];
    double loc[2];
    int have_loc;
};

#define INGEST_MAX_NOTES 100

struct ingest_report {
    size_t added, changed, unchanged, removed;
    size_t n_invalid;                           /* invalid features in all */
    struct ingest_note invalid[INGEST_MAX_NOTES]; /* the first ones */
    size_t n_repaired;                          /* repaired by make_valid */
    struct ingest_note repaired[INGEST_MAX_NOTES];
    double area_change_m2;
    char change_id[48];
    struct bbox changed_box;                    /* bounds of old and new geometries */
    int have_box;
    /* opts.preview: the upload's features, each {"type":"Feature","properties":
     * {"key","status"},"geometry"} in CRS84 as stored, comma-separated
     * (NULL: none asked); truncated when INGEST_PREVIEW_BYTES were reached */
    char *preview;
    size_t preview_count;
    int preview_truncated;
};

#define INGEST_PREVIEW_BYTES (16u << 20)

/* Frees what a report holds (its preview). */
void ingest_report_clear(struct ingest_report *r);

void ingest_opts_default(struct ingest_opts *o);

/* Imports the GeoJSON FeatureCollection in text into layer l. Invalid
 * features make the whole import fail with ERR_INVALID (the report lists
 * them with index, key, reason and location); nothing is written then, nor
 * on a dry run. */
int ingest_geojson(ctx *c, store *s, const struct layer *l, const char *text, size_t len,
                   const struct ingest_opts *o, struct ingest_report *r, struct err *e);

/* The same for a zipped Shapefile (.shp .shx .dbf, optional .prj .cpg). */
int ingest_shapefile_zip(ctx *c, store *s, const struct layer *l, const void *zip, size_t len,
                         const struct ingest_opts *o, struct ingest_report *r, struct err *e);

/* The same for a Shapefile on disk: path names the .shp, its .shx, .dbf
 * (and optional .prj, .cpg) lie beside it. */
int ingest_shapefile_path(ctx *c, store *s, const struct layer *l, const char *path,
                          const struct ingest_opts *o, struct ingest_report *r, struct err *e);

/* Appends the report as JSON (the import report of API.md). */
void ingest_report_json(const struct ingest_report *r, int dry_run, struct buf *out);

/* Writes all features of l as a GeoJSON FeatureCollection (CRS84). Its
 * progress (c's) fills the first INGEST_EXPORT_SHARE of the whole: writing
 * the text out is the rest. */
#define INGEST_EXPORT_SHARE 0.9
int ingest_export(ctx *c, store *s, const struct layer *l, struct buf *out, struct err *e);

#endif
