/* store_int: the connection and the helpers that store.c and store_bulk.c
 * share. Internal to store. */
#ifndef ONEMAP_STORE_INT_H
#define ONEMAP_STORE_INT_H

#include <sqlite3.h>

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
    long long bulk_cache; /* the page cache size (PRAGMA cache_size) before it */
    char *ins_layer;     /* the layer whose INSERT ins_sql is */
    char *ins_sql;
};

/* The time as history rows write it. */
#define STORE_NOW "strftime('%Y-%m-%dT%H:%M:%fZ')"

/* An error from SQLite's last result on s, as ours ("what: message"). */
int store_db_err(store *s, struct err *e, const char *what);
/* Runs SQL text (several statements). */
int store_exec(store *s, const char *sql, struct err *e);
/* A reset statement for sql from the connection's cache, prepared once. */
sqlite3_stmt *store_prep(store *s, const char *sql, struct err *e);
void store_bind_value(sqlite3_stmt *st, int idx, const struct value *v);
/* Gives back the page cache size a bulk load had lowered. */
void store_bulk_cache_restore(store *s);

#endif
