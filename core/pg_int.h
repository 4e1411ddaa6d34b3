/* pg_int: what the PostgreSQL + PostGIS backend's files (pg_*.c) share: the
 * connection, statements with parameters, results read in binary. Internal
 * to the store. */
#ifndef ONEMAP_PG_INT_H
#define ONEMAP_PG_INT_H

#include <libpq-fe.h>

#include "buf.h"
#include "cancel.h"
#include "pg.h"
#include "store_int.h"

/* A statement prepared on the connection, by its text and parameter
 * types: planned once, executed many times. */
#define PG_STMTS 128
struct pg_stmt {
    unsigned long long hash;
    char *key; /* the text, then the types' numbers */
    unsigned id;
};

struct pg {
    PGconn *conn;
    struct pg_stmt stmts[PG_STMTS];
    size_t n_stmts, next_victim;
    unsigned stmt_ids;
    char *url;
    int readonly;
    int read_want;         /* read_begin called: the next statement opens the transaction */
    int read_tx;           /* a read transaction open */
    int solo;              /* read_begin(solo): the first statement runs on its own */
    int solo_done;         /* ... and did: another one ends the read (again) */
    int again;             /* the read needs more than its solo statement */
    int reading;           /* between read_begin and read_end */
    int read_stmts;        /* statements the read ran so far */
    int commit_pending;    /* a read transaction's COMMIT sent, its answer not yet read */
    int in_write;          /* a write transaction opened by begin */
    unsigned long cursors; /* cursors declared so far, for their names */
    int listening;         /* LISTEN onemap_changes */
    int ended;             /* the server said FATAL: the connection is over */
    int replica;           /* opened with STORE_REPLICA: reads note the replayed position */
    unsigned long long read_pos;   /* replayed before the read transaction began; 0: unknown */
    unsigned long long commit_pos; /* the last commit's position (pg_current_wal_insert_lsn) */
};

/* Parameters of one statement, sent as text (bytea as binary) with their
 * types given, so that PostgreSQL never has to guess one. */
#define PG_MAX_PARAMS 16384
struct pg_params {
    size_t n, cap;
    Oid *types;
    const char **vals;
    int *lens, *fmts;
    struct buf text; /* the text of numbers, NUL-separated */
    size_t *offs;    /* where in text a number's text starts; (size_t)-1: vals[i] is its own */
    int oom;
};

#define PG_INT8 20
#define PG_FLOAT8 701
#define PG_TEXT 25
#define PG_BYTEA 17

void pg_params_init(struct pg_params *p);
void pg_params_clear(struct pg_params *p);
void pg_param_ll(struct pg_params *p, long long v);
void pg_param_double(struct pg_params *p, double v);
void pg_param_text(struct pg_params *p, const char *s); /* NULL: SQL NULL */
void pg_param_bytea(struct pg_params *p, const void *data, size_t len);
void pg_param_value(struct pg_params *p, const struct value *v);
void pg_param_bind(struct pg_params *p, const struct store_bind *b);
/* The numbers' texts live in one buffer that may have moved while it grew:
 * their pointers are set by this just before the statement is sent. */
void pg_params_fix(struct pg_params *p);

/* An error of the connection or of a result, as ours ("what: message"):
 * unique violations are ERR_CONFLICT, a lost connection or a server that
 * cannot serve ERR_UNAVAILABLE, a cancelled request its cancel error. */
int pg_err(store *s, const PGresult *res, struct err *e, const char *what);

/* Runs sql (with ? or $n placeholders; ? are numbered here) with p (NULL:
 * none); results in binary. Returns the result (caller PQclears) or NULL
 * with e set. */
PGresult *pg_run(store *s, const char *sql, struct pg_params *p, struct err *e);
/* Runs n statements (at most PG_MANY) in one round trip, a pipeline (with
 * the read's BEGIN when it is the read's first): their results in out
 * (caller PQclears each), or an error and none. They see one snapshot in a
 * read (in a read begun solo, a transaction of their own, committed in the
 * same round trip); outside one each its own. */
#define PG_MANY 16
int pg_run_many(store *s, size_t n, const char *const *sqls, struct pg_params *const *ps,
                PGresult **out, struct err *e);
/* Runs sql without results wanted (several statements allowed, no
 * parameters). */
int pg_exec(store *s, const char *sql, struct err *e);

/* Calls fn for each row of sql: all at once when few are expected (small),
 * else fetched through a cursor in batches, so that fn may run statements
 * of its own and a million rows are never all in memory. fn returns 0 to
 * go on, 1 to stop, negative to fail. */
typedef int (*pg_row_fn)(void *arg, PGresult *res, int row, struct err *e);
int pg_each(store *s, const char *sql, struct pg_params *p, int small, pg_row_fn fn, void *arg,
            struct err *e);

/* Binary result values. */
long long pg_ll(const PGresult *res, int row, int col);
double pg_double(const PGresult *res, int row, int col);
const char *pg_text(const PGresult *res, int row, int col); /* NULL for SQL NULL */
void pg_value(const PGresult *res, int row, int col, enum field_type t, struct value *v);

/* The time as history rows write it (as SQLite's strftime does). */
#define PG_NOW "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* The open write transaction's time (store_write_time), NULL outside one:
 * a statement then takes PG_NOW. */
static inline const char *pg_write_time(const store *s)
{
    return s->write_at[0] ? s->write_at : NULL;
}

/* Past versions (pg_past.c). A layer's table of them, "onemap_past_<id>"
 * (made by pg_init with the layer's own). pg_past_keep starts a statement
 * that changes live rows of l: "WITH w AS (...), kept AS (...)", w.at being
 * the write time ($1) and kept the live rows whose ids are in the array
 * literal ($2) copied into the past table as valid until w.at; the caller
 * goes on with its UPDATE (setting since = w.at) or DELETE, and with ? for
 * its own parameters after these two. pg_past_upgrade brings a database
 * from before past versions up to date, once (pg_open, for writing). */
int pg_past_create(store *s, const struct layer *l, struct err *e);
void pg_past_keep(store *s, const struct layer *l, const char *ids, struct buf *b,
                  struct pg_params *p);
int pg_past_rebuild(store *s, const struct layer *l, struct err *e);
int pg_past_upgrade(store *s, struct err *e);
/* Whether the database was made before past versions and is not up to date. */
int pg_past_missing(store *s);
/* onemap_meta's schema_version: 2 past versions kept, 3 no GeoJSON text
 * in the tables (written from the WKB when read) */
#define PG_SCHEMA_VERSION "3"
#define PG_SCHEMA_PAST 2

/* The operations (store.h), for pg_ops. */
int pg_init(store *s, const char *layers_json, struct err *e);
int pg_layers_get(store *s, struct layers **out, struct err *e);
int pg_feature_insert(store *s, const struct layer *l, const struct value *vals,
                      const unsigned char *wkb, size_t wkb_len, const char *gj, double area_m2,
                      long long *fid, struct err *e);
int pg_feature_insert_blob(store *s, const struct layer *l, const struct value *vals,
                           const unsigned char *blob, size_t blob_len, const char *gj,
                           double area_m2, long long *fid, struct err *e);
int pg_bulk_begin(store *s, const struct layer *l, struct err *e);
int pg_bulk_end(store *s, const struct layer *l, struct store_box *boxes, size_t n, struct err *e);
int pg_bulk_first_fid(store *s, const struct layer *l, long long *fid, struct err *e);
int pg_bulk_insert(store *s, const struct layer *l, long long first_fid,
                   const struct store_new_row *rows, size_t n, struct err *e);
int pg_history_add_range(store *s, const struct layer *l, long long first, long long last,
                         const char *op, const char *at, const char *by, const char *change_id,
                         struct err *e);
int pg_query_rows(store *s, const struct store_query *q, store_row_fn fn, void *arg, struct err *e);
int pg_query_rows_many(store *s, const struct store_query *qs, size_t n, store_row_fn fn,
                       void *const *args, struct err *e);
int pg_boxes(store *s, const struct layer *l, const double rects[][4], int n_rects, store_box_fn fn,
             void *arg, struct err *e);
int pg_query_count(store *s, const struct store_query *q, long long *count, struct err *e);
int pg_feature_wkb(store *s, const struct layer *l, long long fid, unsigned char **wkb, size_t *len,
                   struct err *e);
int pg_feature_fid_by_key(store *s, const struct layer *l, const char *key, long long *fid,
                          struct err *e);
int pg_feature_update(store *s, const struct layer *l, long long fid, long long version,
                      const struct value *vals, const unsigned char *wkb, size_t wkb_len,
                      const char *gj, double area_m2, struct err *e);
int pg_feature_delete(store *s, const struct layer *l, long long fid, struct err *e);
int pg_key_fids(store *s, const struct layer *l, store_key_fn fn, void *arg, struct err *e);
int pg_layer_count_upto(store *s, const struct layer *l, long long limit, long long *count,
                        struct err *e);
int pg_layer_extent(store *s, const struct layer *l, double ext[4], long long *count,
                    struct err *e);
int pg_layer_totals(store *s, const struct layer *l, long long *count, double *area_m2,
                    struct err *e);
int pg_data_version(store *s, long long *version, struct err *e);
int pg_schema_json(store *s, char **json, struct err *e);
int pg_history_add_at(store *s, const struct layer *l, long long fid, long long version,
                      const char *op, const char *at, const char *by, const char *change_id,
                      const char *feature, struct err *e);
int pg_history_keep(store *s, const struct layer *l, long long fid, long long version,
                    const char *feature, struct err *e);
int pg_history_rows(store *s, const struct layer *l, long long fid, store_version_fn fn, void *arg,
                    struct err *e);
int pg_change_rows(store *s, long long since, long long limit, int features, store_version_fn fn,
                   void *arg, struct err *e);
int pg_history_put(store *s, const struct store_version *v, struct err *e);
int pg_token_add(store *s, const char *name, const char *id, const unsigned char *hash,
                 size_t hash_len, const char *role, const char *grids, struct err *e);
int pg_token_get(store *s, const char *id, struct store_token *t, struct err *e);
int pg_token_rows(store *s, store_token_fn fn, void *arg, struct err *e);
int pg_token_revoke(store *s, const char *name, struct err *e);
int pg_token_put(store *s, const struct store_token_row *t, struct err *e);

/* The geometries SQLite's backend takes (2D, of the seven OGC types, well
 * formed), so that both refuse the same with the same words. */
int pg_wkb_check(const struct layer *l, const unsigned char *wkb, size_t len, struct err *e);
/* The column type of a layer field. */
const char *pg_field_type(enum field_type t);
int pg_write_batch(store *s, const struct layer *l, struct store_write *w, size_t n,
                   const char *at, const char *by, const char *change_id, size_t *failed,
                   struct err *e);

/* Runs a statement that changes rows; how many in changed (when not NULL). */
int pg_run_done(store *s, const char *sql, struct pg_params *p, long long *changed, struct err *e);

#endif
