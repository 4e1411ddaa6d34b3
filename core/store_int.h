/* store_int: the connection and the helpers that the store's files share.
 * Internal to store. */
#ifndef ONEMAP_STORE_INT_H
#define ONEMAP_STORE_INT_H

#include <sqlite3.h>

#include "cancel.h"
#include "store.h"

#define STMT_CACHE 64

struct cached_stmt {
    char *sql;
    sqlite3_stmt *st;
};

struct store {
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

/* The time as history rows write it. */
#define STORE_NOW "strftime('%Y-%m-%dT%H:%M:%fZ')"

/* An error from SQLite's last result on s, as ours ("what: message"). */
int store_db_err(store *s, struct err *e, const char *what);
/* Runs SQL text (several statements). */
int store_exec(store *s, const char *sql, struct err *e);
/* A reset statement for sql from the connection's cache, prepared once. */
sqlite3_stmt *store_prep(store *s, const char *sql, struct err *e);
/* store_prep of the SQL that fmt makes (a layer's table name, the time as
 * STORE_NOW writes it); the statement is cached under the whole text. */
sqlite3_stmt *store_prepf(store *s, struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void store_bind_value(sqlite3_stmt *st, int idx, const struct value *v);
/* How a loop over st's rows, calling back for each, ends: a callback's
 * stop (rc > 0) is success, its failure (rc < 0, its err set) is returned,
 * else SQLite's last step decides (what names the statement). Resets st. */
int store_rows_end(store *s, sqlite3_stmt *st, int step, int rc, const char *what, struct err *e);
/* A column as a value; text borrowed from the statement until it steps. */
void store_column_value(sqlite3_stmt *st, int col, struct value *v);
/* The layer's kept totals (store_stats.c): creates its statistics row and
 * triggers; brings a database from before them up to date (in a write
 * transaction of its own); adds a bulk load's rows at its end. */
int store_stats_install(store *s, const struct layer *l, struct err *e);
int store_stats_upgrade(store *s, struct err *e);
int store_stats_bulk_add(store *s, const struct layer *l, struct err *e);

#endif
