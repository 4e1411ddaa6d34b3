/* sl_store: the store's SQLite + SpatiaLite backend. This file owns the
 * connection, its prepared statement cache and transactions; the rest is split
 * by noun (sl_schema, sl_feature, sl_query, sl_bulk, sl_stats, sl_history,
 * sl_token). It knows layers only as schemas (layer.h) and geometries only as
 * WKB and GeoJSON text: GEOS and PROJ are other modules' business. */
#include "store.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <spatialite.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "buf.h"
#include "splite.h"
#include "sl_int.h"

/* SQLite's result codes to ours: a database that is busy, read-only, full or
 * failing is unavailable (503, try again later), not a fault of the request
 * nor of onemap. */
static int code_of(int rc)
{
    switch (rc) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL: return ERR_UNAVAILABLE;
    case SQLITE_CONSTRAINT: return ERR_CONFLICT;
    default: return ERR_INTERNAL;
    }
}

int sl_db_err(store *s, struct err *e, const char *what)
{
    if (sqlite3_errcode(s->db) == SQLITE_INTERRUPT && s->cancel && s->cancel->why)
        return cancel_err(s->cancel, e);
    return err_set(e, code_of(sqlite3_errcode(s->db)), "%s: %s", what, sqlite3_errmsg(s->db));
}

/* SQLite asks every few thousand virtual machine steps: a non-zero answer
 * interrupts the statement (SQLITE_INTERRUPT), and an interrupted write in
 * a transaction rolls the whole transaction back. */
static int on_progress(void *arg)
{
    return cancel_check(arg) != CANCEL_NO;
}

void sl_set_cancel(store *s, struct cancel *c)
{
    s->cancel = c;
    sqlite3_progress_handler(s->db, c ? 4000 : 0, c ? on_progress : NULL, c);
}

int sl_exec(store *s, const char *sql, struct err *e)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = sqlite3_errcode(s->db) == SQLITE_INTERRUPT && s->cancel && s->cancel->why
                     ? cancel_err(s->cancel, e)
                     : err_set(e, code_of(sqlite3_errcode(s->db)), "database: %s",
                               msg ? msg : "error");
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

/* Returns a reset statement for sql from the cache, preparing it once. */
sqlite3_stmt *sl_prep(store *s, const char *sql, struct err *e)
{
    size_t i;
    sqlite3_stmt *st = NULL;
    struct cached_stmt *slot;
    /* a statement still stepping (a query nested in another's callback on
     * the same SQL) is skipped; a second copy is prepared */
    for (i = 0; i < s->n_cache; i++)
        if (!sqlite3_stmt_busy(s->cache[i].st) && !strcmp(s->cache[i].sql, sql)) {
            sqlite3_reset(s->cache[i].st);
            sqlite3_clear_bindings(s->cache[i].st);
            return s->cache[i].st;
        }
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        sl_db_err(s, e, "prepare");
        return NULL;
    }
    if (s->n_cache < STMT_CACHE) {
        slot = &s->cache[s->n_cache++];
    } else {
        for (i = 0; i < STMT_CACHE && sqlite3_stmt_busy(s->cache[s->next_evict].st); i++)
            s->next_evict = (s->next_evict + 1) % STMT_CACHE;
        slot = &s->cache[s->next_evict];
        s->next_evict = (s->next_evict + 1) % STMT_CACHE;
        sqlite3_finalize(slot->st);
        free(slot->sql);
    }
    slot->sql = strdup(sql);
    slot->st = st;
    if (!slot->sql) {
        sqlite3_finalize(st);
        slot->st = NULL;
        s->n_cache--;
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    return st;
}

sqlite3_stmt *sl_prepf(store *s, struct err *e, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof sql)
        return err_set(e, ERR_INTERNAL, "SQL text too long"), NULL;
    return sl_prep(s, sql, e);
}

/* Opens s->db on path (a file name, or a URI with SQLITE_OPEN_URI) and sets
 * the connection up. */
static long cache_kib = 65536;          /* per connection */
static long long mmap_bytes = 1LL << 30; /* per connection */

void sl_set_memory(long cache_mib, long mmap_mib)
{
    cache_kib = cache_mib * 1024;
    mmap_bytes = (long long)mmap_mib << 20;
}

/* SQLite's memory statistics take a global mutex on every allocation, which
 * the worker threads would contend for; onemap never reads them. */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;
static void sqlite_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_initialize();
}

static int connect(store *s, const char *path, int oflags, int flags, struct err *e)
{
    char pragmas[256];
    pthread_once(&sqlite_once, sqlite_setup);
    if (sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        return err_set(e, ERR_IO, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
    s->spatialite = spatialite_alloc_connection();
    spatialite_init_ex(s->db, s->spatialite, 0);
    sqlite3_busy_timeout(s->db, 10000);
    /* CQL2 LIKE is case-sensitive */
    sqlite3_exec(s->db, "PRAGMA case_sensitive_like=ON", NULL, NULL, NULL);
    sqlite3_extended_result_codes(s->db, 0);
    /* statement journals and sorts in memory: on disk they cost more than
     * half of a large import's time */
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL; PRAGMA cache_size=-%ld;"
             " PRAGMA temp_store=MEMORY; PRAGMA mmap_size=%lld;", cache_kib, mmap_bytes);
    if (sl_exec(s, pragmas, e) ||
        (!(flags & STORE_READONLY) && sl_exec(s, "PRAGMA journal_mode=WAL;", e)) ||
        sl_exec(s, "SELECT count(*) FROM sqlite_master;", e))
        return e ? e->code : ERR_INTERNAL;
    return 0;
}

static void disconnect(store *s)
{
    for (size_t i = 0; i < s->n_cache; i++) {
        sqlite3_finalize(s->cache[i].st);
        free(s->cache[i].sql);
    }
    s->n_cache = 0;
    sqlite3_close(s->db);
    s->db = NULL;
    if (s->spatialite)
        spatialite_cleanup_ex(s->spatialite);
    s->spatialite = NULL;
}

static int on_readonly_fs(const char *path)
{
    struct statvfs st;
    return statvfs(path, &st) == 0 && (st.f_flag & ST_RDONLY);
}

/* A database on a read-only file system cannot have its -wal and -shm
 * files made, so SQLite cannot open it in WAL mode; as nothing can change
 * it, it is opened immutable instead, and every write is refused as
 * ERR_UNAVAILABLE (the file system may come back writable: callers reopen). */
static int connect_immutable(store *s, const char *path, struct err *e)
{
    struct buf uri;
    int rc;
    buf_init(&uri);
    buf_puts(&uri, "file:");
    for (const char *p = path; *p; p++) {
        if (*p == '%' || *p == '?' || *p == '#')
            buf_printf(&uri, "%%%02X", (unsigned char)*p);
        else
            buf_putc(&uri, *p);
    }
    buf_puts(&uri, "?immutable=1");
    rc = uri.oom ? err_set(e, ERR_INTERNAL, "out of memory")
                 : connect(s, uri.data, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, STORE_READONLY, e);
    buf_clear(&uri);
    s->immutable = rc == 0;
    return rc;
}

int sl_degraded(const store *s)
{
    return s && s->immutable;
}

int sl_open(const char *path, int flags, store **out, struct err *e)
{
    store *s = calloc(1, sizeof *s);
    int oflags = (flags & STORE_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    int rc;
    *out = NULL;
    if (!s)
        return err_set(e, ERR_INTERNAL, "out of memory");
    s->ops = &sl_ops;
    if (flags & STORE_CREATE)
        oflags |= SQLITE_OPEN_CREATE;
    rc = connect(s, path, oflags, flags, e);
    if (rc && !(flags & STORE_CREATE) && on_readonly_fs(path)) {
        disconnect(s);
        err_clear(e);
        rc = connect_immutable(s, path, e);
    }
    if (!rc && !(flags & (STORE_CREATE | STORE_READONLY)))
        rc = sl_stats_upgrade(s, e);
    if (!rc && !(flags & (STORE_CREATE | STORE_READONLY)))
        rc = sl_past_upgrade(s, e);
    if (!rc && !(flags & STORE_CREATE))
        s->no_past = sl_past_missing(s);
    if (rc) {
        sl_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void sl_close(store *s)
{
    if (!s)
        return;
    if (s->on_rollback)
        s->on_rollback(s);
    free(s->ins_sql);
    free(s->ins_layer);
    disconnect(s);
    free(s);
}

int sl_begin(store *s, struct err *e)
{
    return sl_exec(s, "BEGIN IMMEDIATE", e);
}

int sl_commit(store *s, struct err *e)
{
    return sl_exec(s, "COMMIT", e);
}

static int step_cached(store *s, const char *sql)
{
    struct err ignored;
    sqlite3_stmt *st = sl_prep(s, sql, &ignored);
    int rc;
    if (!st)
        return -1;
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

void sl_read_begin(store *s, int solo)
{
    (void)solo;
    if (sqlite3_get_autocommit(s->db))
        step_cached(s, "BEGIN");
}

void sl_read_end(store *s)
{
    if (!sqlite3_get_autocommit(s->db) && step_cached(s, "COMMIT"))
        sl_rollback(s);
}

void sl_rollback(store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    if (s->on_rollback)
        s->on_rollback(s);
}

void sl_bind_value(sqlite3_stmt *st, int idx, const struct value *v)
{
    switch (v->type) {
    case VAL_INT: sqlite3_bind_int64(st, idx, v->i); break;
    case VAL_REAL: sqlite3_bind_double(st, idx, v->d); break;
    case VAL_TEXT: sqlite3_bind_text(st, idx, v->s, -1, SQLITE_TRANSIENT); break;
    default: sqlite3_bind_null(st, idx);
    }
}

void sl_column_value(sqlite3_stmt *st, int col, struct value *v)
{
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER:
        v->type = VAL_INT;
        v->i = sqlite3_column_int64(st, col);
        break;
    case SQLITE_FLOAT:
        v->type = VAL_REAL;
        v->d = sqlite3_column_double(st, col);
        break;
    case SQLITE_TEXT:
        v->type = VAL_TEXT;
        v->s = (const char *)sqlite3_column_text(st, col);
        break;
    default: v->type = VAL_NULL;
    }
}

int sl_rows_end(store *s, sqlite3_stmt *st, int step, int rc, const char *what, struct err *e)
{
    if (rc == 0 && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = sl_db_err(s, e, what);
    sqlite3_reset(st);
    return rc > 0 ? 0 : rc;
}

/* One server per file: nobody else writes. */
static int sl_listen(store *s, struct err *e)
{
    return err_set(e, ERR_NOT_FOUND, "database: no notifications of other servers' writes");
}

static int sl_changes_wait(store *s, int timeout_ms, store_change_fn fn, void *arg,
                           struct err *e)
{
    return sl_listen(s, e);
}

static int sl_changes_fd(store *s)
{
    return -1;
}

const struct store_ops sl_ops = {
    .name = "sqlite",
    .close = sl_close,
    .degraded = sl_degraded,
    .set_cancel = sl_set_cancel,
    .init = sl_init,
    .layers_get = sl_layers_get,
    .begin = sl_begin,
    .commit = sl_commit,
    .rollback = sl_rollback,
    .read_begin = sl_read_begin,
    .read_end = sl_read_end,
    .feature_insert = sl_feature_insert,
    .feature_insert_blob = sl_feature_insert_blob,
    .bulk_begin = sl_bulk_begin,
    .bulk_end = sl_bulk_end,
    .bulk_first_fid = sl_bulk_first_fid,
    .bulk_insert = sl_bulk_insert,
    .history_add_range = sl_history_add_range,
    .query_rows = sl_query_rows,
    .boxes = sl_boxes,
    .query_count = sl_query_count,
    .feature_wkb = sl_feature_wkb,
    .feature_fid_by_key = sl_feature_fid_by_key,
    .feature_update = sl_feature_update,
    .feature_delete = sl_feature_delete,
    .history_add_at = sl_history_add_at,
    .history_keep = sl_history_keep,
    .history_rows = sl_history_rows,
    .change_rows = sl_change_rows,
    .token_add = sl_token_add,
    .token_get = sl_token_get,
    .token_rows = sl_token_rows,
    .token_revoke = sl_token_revoke,
    .key_fids = sl_key_fids,
    .layer_count_upto = sl_layer_count_upto,
    .layer_extent = sl_layer_extent,
    .layer_totals = sl_layer_totals,
    .data_version = sl_data_version,
    .history_put = sl_history_put,
    .past_rebuild = sl_past_rebuild,
    .schema_json = sl_schema_json,
    .token_put = sl_token_put,
    .listen = sl_listen,
    .changes_fd = sl_changes_fd,
    .changes_wait = sl_changes_wait,
};
