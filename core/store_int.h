/* store_int: what a backend of the store gives: the operations of
 * store.h for one connection. Internal to the store (store.c dispatches,
 * sl_*.c is SQLite + SpatiaLite, pg_*.c PostgreSQL + PostGIS). */
#ifndef ONEMAP_STORE_INT_H
#define ONEMAP_STORE_INT_H

#include <sqlite3.h>

#include "cancel.h"
#include "instant.h"
#include "store.h"

#define STMT_CACHE 64

struct cached_stmt {
    char *sql;
    sqlite3_stmt *st;
};

struct pg;

/* One connection, to whichever database. The fields below ops are the
 * SQLite backend's; the PostgreSQL backend keeps its own behind pg. */
struct store {
    const struct store_ops *ops;
    struct pg *pg;
    char write_at[INSTANT_LEN]; /* the open write transaction's time (store_begin) */
    int no_past; /* made before past versions were kept, and opened read-only:
                    not brought up to date, so asof cannot be answered */
    sqlite3 *db;
    void *spatialite;
    struct cached_stmt cache[STMT_CACHE];
    size_t n_cache;
    size_t next_evict;
    int immutable; /* opened read-only because its file system is */
    char *bulk_triggers; /* set aside by store_bulk_begin, to be restored */
    /* what a rollback (or closing) must undo besides the database's own
     * state, set by whoever changed the connection inside a transaction
     * (a bulk load); NULL: nothing */
    void (*on_rollback)(store *s);
    long long bulk_cache; /* the page cache size (PRAGMA cache_size) before it */
    char *ins_layer;     /* the layer whose INSERT ins_sql is */
    char *ins_sql;
    struct cancel *cancel; /* the running request's, borrowed (store_set_cancel) */
    long long bulk_rows;   /* a bulk load's rows and area so far, for the layer's totals */
    double bulk_area;
};


struct store_ops {
    const char *name; /* "sqlite", "postgresql" */
    void (*close)(store *s);
    int (*degraded)(const store *s);
    void (*set_cancel)(store *s, struct cancel *c);
    int (*init)(store *s, const char *layers_json, struct err *e);
    int (*layers_get)(store *s, struct layers **out, struct err *e);
    int (*begin)(store *s, struct err *e);
    int (*commit)(store *s, struct err *e);
    void (*rollback)(store *s);
    void (*read_begin)(store *s, int solo);
    void (*read_end)(store *s);
    int (*read_again)(const store *s); /* NULL: never solo */
    int (*read_count)(const store *s); /* NULL: not counted */
    int (*feature_insert)(store *s, const struct layer *l, const struct value *vals,
                          const unsigned char *wkb, size_t wkb_len, const char *gj, double area_m2,
                          long long *fid, struct err *e);
    int (*feature_insert_blob)(store *s, const struct layer *l, const struct value *vals,
                               const unsigned char *blob, size_t blob_len, const char *gj,
                               double area_m2, long long *fid, struct err *e);
    int (*bulk_begin)(store *s, const struct layer *l, struct err *e);
    int (*bulk_end)(store *s, const struct layer *l, struct store_box *boxes, size_t n,
                    struct err *e);
    int (*bulk_first_fid)(store *s, const struct layer *l, long long *fid, struct err *e);
    int (*bulk_insert)(store *s, const struct layer *l, long long first_fid,
                       const struct store_new_row *rows, size_t n, struct err *e);
    int (*history_add_range)(store *s, const struct layer *l, long long first, long long last,
                             const char *op, const char *at, const char *by, const char *change_id,
                             struct err *e);
    int (*query_rows)(store *s, const struct store_query *q, store_row_fn fn, void *arg,
                      struct err *e);
    /* NULL: store_query_rows_many runs them one by one */
    int (*query_rows_many)(store *s, const struct store_query *qs, size_t n, store_row_fn fn,
                           void *const *args, struct err *e);
    int (*boxes)(store *s, const struct layer *l, const double rects[][4], int n_rects,
                 store_box_fn fn, void *arg, struct err *e);
    int (*query_count)(store *s, const struct store_query *q, long long *count, struct err *e);
    int (*feature_wkb)(store *s, const struct layer *l, long long fid, unsigned char **wkb,
                       size_t *len, struct err *e);
    int (*feature_fid_by_key)(store *s, const struct layer *l, const char *key, long long *fid,
                              struct err *e);
    int (*feature_update)(store *s, const struct layer *l, long long fid, long long version,
                          const struct value *vals, const unsigned char *wkb, size_t wkb_len,
                          const char *gj, double area_m2, struct err *e);
    int (*feature_delete)(store *s, const struct layer *l, long long fid, struct err *e);
    int (*history_add_at)(store *s, const struct layer *l, long long fid, long long version,
                          const char *op, const char *at, const char *by, const char *change_id,
                          const char *feature, struct err *e);
    int (*history_keep)(store *s, const struct layer *l, long long fid, long long version,
                        const char *feature, struct err *e);
    /* NULL: store_write_batch writes one by one with the operations above */
    int (*write_batch)(store *s, const struct layer *l, struct store_write *w, size_t n,
                       const char *at, const char *by, const char *change_id, size_t *failed,
                       struct err *e);
    int (*history_rows)(store *s, const struct layer *l, long long fid, store_version_fn fn,
                        void *arg, struct err *e);
    int (*change_rows)(store *s, long long since, long long limit, int features,
                       store_version_fn fn, void *arg, struct err *e);
    int (*history_put)(store *s, const struct store_version *v, struct err *e);
    int (*past_rebuild)(store *s, const struct layer *l, struct err *e);
    int (*schema_json)(store *s, char **json, struct err *e);
    int (*token_put)(store *s, const struct store_token_row *t, struct err *e);
    int (*token_add)(store *s, const char *name, const char *id, const unsigned char *hash,
                     size_t hash_len, const char *role, const char *grids, struct err *e);
    int (*token_get)(store *s, const char *id, struct store_token *t, struct err *e);
    int (*token_rows)(store *s, store_token_fn fn, void *arg, struct err *e);
    int (*token_revoke)(store *s, const char *name, struct err *e);
    int (*key_fids)(store *s, const struct layer *l, store_key_fn fn, void *arg, struct err *e);
    int (*layer_count_upto)(store *s, const struct layer *l, long long limit, long long *count,
                            struct err *e);
    int (*layer_extent)(store *s, const struct layer *l, double ext[4], long long *count,
                        struct err *e);
    int (*layer_totals)(store *s, const struct layer *l, long long *count, double *area_m2,
                        struct err *e);
    int (*data_version)(store *s, long long *version, struct err *e);
    int (*listen)(store *s, struct err *e);
    int (*changes_fd)(store *s);
    int (*changes_wait)(store *s, int timeout_ms, store_change_fn fn, void *arg, struct err *e);
    /* NULL where the backend has no replicas (every position 0) */
    unsigned long long (*commit_position)(const store *s);
    int (*position)(store *s, enum store_pos which, unsigned long long *pos, struct err *e);
    unsigned long long (*read_position)(const store *s);
};

#endif
