/* sl_int: the helpers that the SQLite + SpatiaLite backend's files (sl_*.c)
 * share, and its operations. Internal to the store. */
#ifndef ONEMAP_SL_INT_H
#define ONEMAP_SL_INT_H

#include <sqlite3.h>

#include "cancel.h"
#include "sl.h"
#include "store_int.h"

/* The time as history rows write it. */
#define STORE_NOW "strftime('%Y-%m-%dT%H:%M:%fZ')"

/* An error from SQLite's last result on s, as ours ("what: message"). */
int sl_db_err(store *s, struct err *e, const char *what);
/* Runs SQL text (several statements). */
int sl_exec(store *s, const char *sql, struct err *e);
/* A reset statement for sql from the connection's cache, prepared once. */
sqlite3_stmt *sl_prep(store *s, const char *sql, struct err *e);
/* store_prep of the SQL that fmt makes (a layer's table name, the time as
 * STORE_NOW writes it); the statement is cached under the whole text. */
sqlite3_stmt *sl_prepf(store *s, struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sl_bind_value(sqlite3_stmt *st, int idx, const struct value *v);
/* How a loop over st's rows, calling back for each, ends: a callback's
 * stop (rc > 0) is success, its failure (rc < 0, its err set) is returned,
 * else SQLite's last step decides (what names the statement). Resets st. */
int sl_rows_end(store *s, sqlite3_stmt *st, int step, int rc, const char *what, struct err *e);
/* A column as a value; text borrowed from the statement until it steps. */
void sl_column_value(sqlite3_stmt *st, int col, struct value *v);
/* The layer's kept totals (store_stats.c): creates its statistics row and
 * triggers; brings a database from before them up to date (in a write
 * transaction of its own); adds a bulk load's rows at its end. */
int sl_stats_install(store *s, const struct layer *l, struct err *e);
int sl_stats_upgrade(store *s, struct err *e);
int sl_stats_bulk_add(store *s, const struct layer *l, struct err *e);

/* The open write transaction's time, NULL outside one (then STORE_NOW). */
static inline const char *sl_write_time(const store *s)
{
    return s->write_at[0] ? s->write_at : NULL;
}
/* Runs a SpatiaLite management function (SQL) that answers 1 on success. */
int sl_select_ok(store *s, const char *sql, struct err *e);
/* The SQL type of a field's column. */
const char *sl_field_type(enum field_type t);
/* Past versions (sl_past.c): a layer's table of them; the live row of fid
 * copied into it as valid until the write time (before it changes); the
 * table made again from the history; a database from before them brought
 * up to date (in a write transaction of its own). */
int sl_past_create(store *s, const struct layer *l, struct err *e);
int sl_past_retire(store *s, const struct layer *l, long long fid, struct err *e);
int sl_past_rebuild(store *s, const struct layer *l, struct err *e);
int sl_past_upgrade(store *s, struct err *e);
/* Whether the database was made before past versions and is not up to date. */
int sl_past_missing(store *s);

/* The operations (store.h), for sl_ops. */
void sl_close(store *s);
int sl_degraded(const store *s);
void sl_set_cancel(store *s, struct cancel *c);
int sl_init(store *s, const char *layers_json, struct err *e);
int sl_layers_get(store *s, struct layers **out, struct err *e);
int sl_begin(store *s, struct err *e);
int sl_commit(store *s, struct err *e);
void sl_rollback(store *s);
void sl_read_begin(
    store *s, int solo); /* solo: ignored (a read transaction costs SQLite nothing to speak of) */
void sl_read_end(store *s);
int sl_feature_insert(store *s, const struct layer *l, const struct value *vals,
                      const unsigned char *wkb, size_t wkb_len, const char *gj, double area_m2,
                      long long *fid, struct err *e);
int sl_feature_insert_blob(store *s, const struct layer *l, const struct value *vals,
                           const unsigned char *blob, size_t blob_len, const char *gj,
                           double area_m2, long long *fid, struct err *e);
int sl_bulk_begin(store *s, const struct layer *l, struct err *e);
int sl_bulk_end(store *s, const struct layer *l, struct store_box *boxes, size_t n, struct err *e);
int sl_bulk_first_fid(store *s, const struct layer *l, long long *fid, struct err *e);
int sl_bulk_insert(store *s, const struct layer *l, long long first_fid,
                   const struct store_new_row *rows, size_t n, struct err *e);
int sl_history_add_range(store *s, const struct layer *l, long long first, long long last,
                         const char *op, const char *at, const char *by, const char *change_id,
                         struct err *e);
int sl_query_rows(store *s, const struct store_query *q, store_row_fn fn, void *arg, struct err *e);
int sl_boxes(store *s, const struct layer *l, const double rects[][4], int n_rects, store_box_fn fn,
             void *arg, struct err *e);
int sl_query_count(store *s, const struct store_query *q, long long *count, struct err *e);
int sl_feature_wkb(store *s, const struct layer *l, long long fid, unsigned char **wkb, size_t *len,
                   struct err *e);
int sl_feature_fid_by_key(store *s, const struct layer *l, const char *key, long long *fid,
                          struct err *e);
int sl_feature_update(store *s, const struct layer *l, long long fid, long long version,
                      const struct value *vals, const unsigned char *wkb, size_t wkb_len,
                      const char *gj, double area_m2, struct err *e);
int sl_feature_delete(store *s, const struct layer *l, long long fid, struct err *e);
int sl_history_add_at(store *s, const struct layer *l, long long fid, long long version,
                      const char *op, const char *at, const char *by, const char *change_id,
                      const char *feature, struct err *e);
int sl_history_keep(store *s, const struct layer *l, long long fid, long long version,
                    const char *feature, struct err *e);
int sl_history_rows(store *s, const struct layer *l, long long fid, store_version_fn fn, void *arg,
                    struct err *e);
int sl_change_rows(store *s, long long since, long long limit, int features,
                   store_version_fn fn, void *arg, struct err *e);
int sl_history_put(store *s, const struct store_version *v, struct err *e);
int sl_schema_json(store *s, char **json, struct err *e);
int sl_token_put(store *s, const struct store_token_row *t, struct err *e);
int sl_token_add(store *s, const char *name, const char *id, const unsigned char *hash,
                 size_t hash_len, const char *role, const char *grids, struct err *e);
int sl_token_get(store *s, const char *id, struct store_token *t, struct err *e);
int sl_token_rows(store *s, store_token_fn fn, void *arg, struct err *e);
int sl_token_revoke(store *s, const char *name, struct err *e);
int sl_key_fids(store *s, const struct layer *l, store_key_fn fn, void *arg, struct err *e);
int sl_layer_count_upto(store *s, const struct layer *l, long long limit, long long *count,
                        struct err *e);
int sl_layer_extent(store *s, const struct layer *l, double ext[4], long long *count,
                    struct err *e);
int sl_layer_totals(store *s, const struct layer *l, long long *count, double *area_m2,
                    struct err *e);
int sl_data_version(store *s, long long *version, struct err *e);
extern const struct store_ops sl_ops;

#endif
