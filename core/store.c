/* store: SQLite + SpatiaLite persistence. Owns the connection, its prepared
 * statement cache and every SQL string of onemap. It knows layers only as
 * schemas (layer.h) and geometries only as WKB and GeoJSON text: GEOS and
 * PROJ are other modules' business. */
#include "store.h"

#include <sqlite3.h>
#include <spatialite.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "buf.h"
#include "splite.h"
#include "store_int.h"

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

int store_db_err(store *s, struct err *e, const char *what)
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

void store_set_cancel(store *s, struct cancel *c)
{
    s->cancel = c;
    sqlite3_progress_handler(s->db, c ? 4000 : 0, c ? on_progress : NULL, c);
}

int store_exec(store *s, const char *sql, struct err *e)
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
sqlite3_stmt *store_prep(store *s, const char *sql, struct err *e)
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
        store_db_err(s, e, "prepare");
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

/* Opens s->db on path (a file name, or a URI with SQLITE_OPEN_URI) and sets
 * the connection up. */
static long cache_kib = 65536;          /* per connection */
static long long mmap_bytes = 1LL << 30; /* per connection */

void store_set_memory(long cache_mib, long mmap_mib)
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
    if (store_exec(s, pragmas, e) ||
        (!(flags & STORE_READONLY) && store_exec(s, "PRAGMA journal_mode=WAL;", e)) ||
        store_exec(s, "SELECT count(*) FROM sqlite_master;", e))
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

int store_degraded(const store *s)
{
    return s && s->immutable;
}

int store_open(const char *path, int flags, store **out, struct err *e)
{
    store *s = calloc(1, sizeof *s);
    int oflags = (flags & STORE_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    int rc;
    *out = NULL;
    if (!s)
        return err_set(e, ERR_INTERNAL, "out of memory");
    if (flags & STORE_CREATE)
        oflags |= SQLITE_OPEN_CREATE;
    rc = connect(s, path, oflags, flags, e);
    if (rc && !(flags & STORE_CREATE) && on_readonly_fs(path)) {
        disconnect(s);
        err_clear(e);
        rc = connect_immutable(s, path, e);
    }
    if (!rc && !(flags & (STORE_CREATE | STORE_READONLY)))
        rc = store_stats_upgrade(s, e);
    if (rc) {
        store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void store_close(store *s)
{
    if (!s)
        return;
    free(s->bulk_triggers);
    free(s->ins_sql);
    free(s->ins_layer);
    disconnect(s);
    free(s);
}

/* Runs a SpatiaLite management function that returns 1 on success. */
static int select_ok(store *s, const char *sql, struct err *e)
{
    sqlite3_stmt *st = NULL;
    int ok = 0;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return store_db_err(s, e, sql);
    ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    sqlite3_finalize(st);
    return ok ? 0 : err_set(e, ERR_INTERNAL, "database: %s failed", sql);
}

static const char *sql_type(enum field_type t)
{
    switch (t) {
    case FIELD_INTEGER:
    case FIELD_BOOLEAN: return "INTEGER";
    case FIELD_NUMBER: return "REAL";
    default: return "TEXT";
    }
}

static int create_layer_table(store *s, const struct layer *l, struct err *e)
{
    struct buf b;
    int rc;
    buf_init(&b);
    buf_printf(&b, "CREATE TABLE \"%s\" (fid INTEGER PRIMARY KEY AUTOINCREMENT,"
               " version INTEGER NOT NULL DEFAULT 1, area_m2 REAL NOT NULL, gj TEXT NOT NULL",
               l->id);
    for (size_t i = 0; i < l->n_fields; i++)
        buf_printf(&b, ", \"%s\" %s", l->fields[i].name, sql_type(l->fields[i].type));
    buf_printf(&b, "); CREATE UNIQUE INDEX \"%s_key\" ON \"%s\"(\"%s\");", l->id, l->id,
               l->key);
    if (l->group_by && strcmp(l->group_by, l->key))
        buf_printf(&b, " CREATE INDEX \"%s_%s\" ON \"%s\"(\"%s\");", l->id, l->group_by, l->id,
                   l->group_by);
    rc = b.oom ? err_set(e, ERR_INTERNAL, "out of memory") : store_exec(s, b.data, e);
    if (!rc) {
        buf_reset(&b);
        buf_printf(&b, "SELECT AddGeometryColumn('%s', 'geom', 4490, 'GEOMETRY', 'XY', 1)", l->id);
        rc = select_ok(s, b.data, e);
    }
    if (!rc) {
        buf_reset(&b);
        buf_printf(&b, "SELECT CreateSpatialIndex('%s', 'geom')", l->id);
        rc = select_ok(s, b.data, e);
    }
    if (!rc) {
        /* SpatiaLite keeps its R-tree with a function that prepares a
         * statement per row, and stamps a time table on every write; plain
         * SQL triggers keep the same index several times faster. */
        buf_reset(&b);
        buf_printf(&b,
            "DROP TRIGGER \"gii_%1$s_geom\"; DROP TRIGGER \"giu_%1$s_geom\";"
            " DROP TRIGGER \"tmi_%1$s_geom\"; DROP TRIGGER \"tmu_%1$s_geom\";"
            " DROP TRIGGER \"tmd_%1$s_geom\";"
            " CREATE TRIGGER \"gii_%1$s_geom\" AFTER INSERT ON \"%1$s\" FOR EACH ROW BEGIN"
            " INSERT OR REPLACE INTO \"idx_%1$s_geom\" (pkid, xmin, xmax, ymin, ymax)"
            " SELECT NEW.fid, MbrMinX(NEW.geom), MbrMaxX(NEW.geom), MbrMinY(NEW.geom),"
            " MbrMaxY(NEW.geom) WHERE NEW.geom IS NOT NULL; END;"
            " CREATE TRIGGER \"giu_%1$s_geom\" AFTER UPDATE OF geom ON \"%1$s\" FOR EACH ROW BEGIN"
            " DELETE FROM \"idx_%1$s_geom\" WHERE pkid = NEW.fid;"
            " INSERT INTO \"idx_%1$s_geom\" (pkid, xmin, xmax, ymin, ymax)"
            " SELECT NEW.fid, MbrMinX(NEW.geom), MbrMaxX(NEW.geom), MbrMinY(NEW.geom),"
            " MbrMaxY(NEW.geom) WHERE NEW.geom IS NOT NULL; END;", l->id);
        rc = b.oom ? err_set(e, ERR_INTERNAL, "out of memory") : store_exec(s, b.data, e);
    }
    buf_clear(&b);
    if (!rc)
        rc = store_stats_install(s, l, e);
    if (rc)
        err_prefix(e, "layer %s", l->id);
    return rc;
}

/* onemap's own tables: metadata, the history of every feature version (the
 * change log) and the write tokens. */
static const char *META_SQL =
    "CREATE TABLE onemap_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE onemap_history (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " collection TEXT NOT NULL, fid INTEGER NOT NULL, version INTEGER NOT NULL,"
    " op TEXT NOT NULL, at TEXT NOT NULL, by TEXT, change_id TEXT, feature TEXT NOT NULL);"
    "CREATE INDEX onemap_history_feature ON onemap_history(collection, fid, version);"
    "CREATE TABLE onemap_tokens (name TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " hash BLOB NOT NULL, role TEXT NOT NULL, grids TEXT NOT NULL DEFAULT '',"
    " created TEXT NOT NULL, revoked TEXT);";

int store_init(store *s, const char *layers_json, struct err *e)
{
    struct layers *ls = NULL;
    sqlite3_stmt *st;
    int rc;
    if (sqlite3_table_column_metadata(s->db, NULL, "onemap_meta", "key", NULL, NULL, NULL, NULL,
                                      NULL) == SQLITE_OK)
        return err_set(e, ERR_CONFLICT, "database is already initialised");
    if ((rc = layers_parse(layers_json, &ls, e)))
        return rc;
    /* larger pages: fewer writes for the same data (only before any table) */
    if ((rc = store_exec(s, "PRAGMA journal_mode=DELETE; PRAGMA page_size=8192; VACUUM;"
                      " PRAGMA journal_mode=WAL;", e)) ||
        (rc = select_ok(s, "SELECT InitSpatialMetadata(1, 'NONE')", e)))
        goto out;
    if ((rc = store_begin(s, e)))
        goto out;
    if ((rc = select_ok(s, "SELECT InsertEpsgSrid(4490)", e)) ||
        (rc = store_exec(s, META_SQL, e)))
        goto fail;
    for (size_t i = 0; i < ls->n; i++)
        if ((rc = create_layer_table(s, &ls->v[i], e)))
            goto fail;
    if (!(st = store_prep(s, "INSERT INTO onemap_meta(key, value) VALUES ('layers', ?1),"
                       " ('schema_version', '1'), ('created', strftime('%Y-%m-%dT%H:%M:%SZ'))",
                    e))) {
        rc = e->code;
        goto fail;
    }
    sqlite3_bind_text(st, 1, layers_json, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = store_db_err(s, e, "init");
        goto fail;
    }
    sqlite3_reset(st);
    rc = store_commit(s, e);
    goto out;
fail:
    store_rollback(s);
out:
    layers_free(ls);
    return rc;
}

int store_layers_get(store *s, struct layers **out, struct err *e)
{
    sqlite3_stmt *st = store_prep(s, "SELECT value FROM onemap_meta WHERE key = 'layers'", e);
    int rc;
    *out = NULL;
    if (!st)
        return err_set(e, ERR_INVALID, "not an onemap database (run 'onemap init' first)");
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return err_set(e, ERR_INVALID, "not an onemap database: no layer registry");
    }
    rc = layers_parse((const char *)sqlite3_column_text(st, 0), out, e);
    sqlite3_reset(st);
    return rc;
}

int store_begin(store *s, struct err *e)
{
    return store_exec(s, "BEGIN IMMEDIATE", e);
}

int store_commit(store *s, struct err *e)
{
    return store_exec(s, "COMMIT", e);
}

static int step_cached(store *s, const char *sql)
{
    struct err ignored;
    sqlite3_stmt *st = store_prep(s, sql, &ignored);
    int rc;
    if (!st)
        return -1;
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

void store_read_begin(store *s)
{
    if (sqlite3_get_autocommit(s->db))
        step_cached(s, "BEGIN");
}

void store_read_end(store *s)
{
    if (!sqlite3_get_autocommit(s->db) && step_cached(s, "COMMIT"))
        store_rollback(s);
}

void store_rollback(store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    free(s->bulk_triggers); /* the rollback brought them back */
    s->bulk_triggers = NULL;
    store_bulk_cache_restore(s);
}

void store_bind_value(sqlite3_stmt *st, int idx, const struct value *v)
{
    switch (v->type) {
    case VAL_INT: sqlite3_bind_int64(st, idx, v->i); break;
    case VAL_REAL: sqlite3_bind_double(st, idx, v->d); break;
    case VAL_TEXT: sqlite3_bind_text(st, idx, v->s, -1, SQLITE_TRANSIENT); break;
    default: sqlite3_bind_null(st, idx);
    }
}

static void column_value(sqlite3_stmt *st, int col, struct value *v)
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

/* The layer's INSERT, its SQL made once per connection and layer (a bulk
 * load runs it a hundred thousand times). */
static sqlite3_stmt *insert_stmt(store *s, const struct layer *l, struct err *e)
{
    struct buf b;
    if (s->ins_sql && s->ins_layer && !strcmp(s->ins_layer, l->id))
        return store_prep(s, s->ins_sql, e);
    buf_init(&b);
    buf_printf(&b, "INSERT INTO \"%s\" (area_m2, gj, geom", l->id);
    for (size_t i = 0; i < l->n_fields; i++)
        buf_printf(&b, ", \"%s\"", l->fields[i].name);
    buf_puts(&b, ") VALUES (?1, ?2, ?3");
    for (size_t i = 0; i < l->n_fields; i++)
        buf_printf(&b, ", ?%zu", i + 4);
    buf_putc(&b, ')');
    free(s->ins_sql);
    free(s->ins_layer);
    s->ins_layer = strdup(l->id);
    s->ins_sql = b.oom || !s->ins_layer ? NULL : buf_steal(&b);
    buf_clear(&b);
    if (!s->ins_sql)
        return err_set(e, ERR_INTERNAL, "out of memory"), NULL;
    return store_prep(s, s->ins_sql, e);
}

int store_feature_insert_blob(store *s, const struct layer *l, const struct value *vals,
                              const unsigned char *blob, size_t blob_len, const char *gj,
                              double area_m2, long long *fid, struct err *e)
{
    sqlite3_stmt *st = insert_stmt(s, l, e);
    int rc = 0;
    if (!st)
        return e->code;
    sqlite3_bind_double(st, 1, area_m2);
    sqlite3_bind_text(st, 2, gj, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, blob, (int)blob_len, SQLITE_STATIC);
    for (size_t i = 0; i < l->n_fields; i++)
        store_bind_value(st, (int)i + 4, &vals[i]);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = store_db_err(s, e, l->id);
        if (rc == ERR_CONFLICT && vals[l->key_field].type == VAL_TEXT)
            rc = err_set(e, ERR_CONFLICT, "%s: a feature with %s '%s' exists already", l->id,
                         l->key, vals[l->key_field].s);
    } else if (fid) {
        *fid = sqlite3_last_insert_rowid(s->db);
    }
    sqlite3_reset(st);
    return rc;
}

int store_feature_insert(store *s, const struct layer *l, const struct value *vals,
                         const unsigned char *wkb, size_t wkb_len, const char *gj,
                         double area_m2, long long *fid, struct err *e)
{
    struct buf blob;
    int rc;
    buf_init(&blob);
    if (splite_from_wkb(wkb, wkb_len, 4490, &blob))
        rc = err_set(e, ERR_INVALID, "%s: geometry: not a 2D geometry SpatiaLite can store",
                     l->id);
    else
        rc = store_feature_insert_blob(s, l, vals, (const unsigned char *)blob.data, blob.len,
                                       gj, area_m2, fid, e);
    buf_clear(&blob);
    return rc;
}

/* Rows sorted by id from a box search: the ids are found first and the rows
 * read in id order (SQLite sorts the ids only), the boxes then taken from
 * the geometry BLOBs' own MBRs. */
static int in_form(const struct store_query *q)
{
    return q->n_rects && !q->any_order && q->n_sort == 0;
}

/* The MBR in a SpatiaLite BLOB's header; 0, or -1 when it is not one. */
static int blob_mbr(const unsigned char *g, size_t n, double mbr[4])
{
    if (!g || n < 44 || g[0] != 0x00 || g[1] > 1 || g[38] != 0x7C)
        return -1;
    for (int i = 0; i < 4; i++) {
        uint64_t u = 0;
        for (int k = 0; k < 8; k++)
            u |= (uint64_t)g[6 + 8 * i + (g[1] ? k : 7 - k)] << (8 * k);
        memcpy(&mbr[i], &u, 8);
    }
    return 0;
}

/* "(r.xmin <= ? AND ...) OR (...)": the R-tree boxes (alias r) meeting n
 * rectangles, bound by bind_rects. */
static void rects_sql(struct buf *b, int n)
{
    buf_putc(b, '(');
    for (int i = 0; i < n; i++)
        buf_printf(b, "%s(r.xmin <= ? AND r.xmax >= ? AND r.ymin <= ? AND r.ymax >= ?)",
                   i ? " OR " : "");
    buf_putc(b, ')');
}

/* Binds rects_sql's parameters from idx on; returns the next index. */
static int bind_rects(sqlite3_stmt *st, int idx, const double rects[][4], int n)
{
    for (int i = 0; i < n; i++) {
        sqlite3_bind_double(st, idx++, rects[i][2]);
        sqlite3_bind_double(st, idx++, rects[i][0]);
        sqlite3_bind_double(st, idx++, rects[i][3]);
        sqlite3_bind_double(st, idx++, rects[i][1]);
    }
    return idx;
}

/* Builds FROM/WHERE for q and binds nothing; parameters are numbered ?1.. in
 * the order bind_where binds them. */
static void where_sql(const struct store_query *q, struct buf *b)
{
    const struct layer *l = q->layer;
    int first = 1;
    if (q->n_rects && in_form(q)) {
        /* the ids from the R-tree, then the rows in id order: nothing to
         * sort but ids */
        buf_printf(b, " FROM \"%s\" t WHERE t.fid IN (SELECT r.pkid FROM \"idx_%s_geom\" r"
                   " WHERE ", l->id, l->id);
        rects_sql(b, q->n_rects);
        if (q->min_mbr_area > 0)
            buf_puts(b, " AND (r.xmax - r.xmin) * (r.ymax - r.ymin) >= ?");
        buf_putc(b, ')');
        first = 0;
    } else if (q->n_rects) {
        buf_printf(b, " FROM \"idx_%s_geom\" r JOIN \"%s\" t ON t.fid = r.pkid WHERE ", l->id,
                   l->id);
        rects_sql(b, q->n_rects);
        if (q->min_mbr_area > 0)
            buf_puts(b, " AND (r.xmax - r.xmin) * (r.ymax - r.ymin) >= ?");
        first = 0;
    } else {
        buf_printf(b, " FROM \"%s\" t", l->id);
    }
    for (size_t i = 0; i < q->n_eq; i++) {
        buf_printf(b, " %s t.\"%s\" = ?", first ? "WHERE" : "AND", l->fields[q->eq[i].field].name);
        first = 0;
    }
    if (q->fid > 0) {
        buf_printf(b, " %s t.fid = ?", first ? "WHERE" : "AND");
        first = 0;
    }
    if (q->filter && q->filter->sql)
        buf_printf(b, " %s (%s)", first ? "WHERE" : "AND", q->filter->sql);
}

void store_filter_clear(struct store_filter *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_binds; i++) {
        free(f->binds[i].s);
        free(f->binds[i].blob);
    }
    free(f->binds);
    free(f->sql);
    f->sql = NULL;
    f->binds = NULL;
    f->n_binds = 0;
}

static void bind_one(sqlite3_stmt *st, int idx, const struct store_bind *b)
{
    switch (b->type) {
    case BIND_INT: sqlite3_bind_int64(st, idx, b->i); break;
    case BIND_REAL: sqlite3_bind_double(st, idx, b->d); break;
    case BIND_TEXT: sqlite3_bind_text(st, idx, b->s, -1, SQLITE_STATIC); break;
    case BIND_BLOB: sqlite3_bind_blob(st, idx, b->blob, (int)b->len, SQLITE_STATIC); break;
    default: sqlite3_bind_null(st, idx);
    }
}

static int bind_where(sqlite3_stmt *st, const struct store_query *q)
{
    int idx = bind_rects(st, 1, q->rects, q->n_rects);
    if (q->n_rects && q->min_mbr_area > 0)
        sqlite3_bind_double(st, idx++, q->min_mbr_area);
    for (size_t i = 0; i < q->n_eq; i++)
        store_bind_value(st, idx++, &q->eq[i].v);
    if (q->fid > 0)
        sqlite3_bind_int64(st, idx++, q->fid);
    for (size_t i = 0; q->filter && i < q->filter->n_binds; i++)
        bind_one(st, idx++, &q->filter->binds[i]);
    return idx;
}

static void order_sql(const struct store_query *q, struct buf *b)
{
    buf_puts(b, " ORDER BY ");
    for (size_t i = 0; i < q->n_sort; i++) {
        int f = q->sort[i].field;
        if (f == STORE_SORT_ID)
            buf_puts(b, "t.fid");
        else if (f == STORE_SORT_AREA)
            buf_puts(b, "t.area_m2");
        else
            buf_printf(b, "t.\"%s\"", q->layer->fields[f].name);
        buf_puts(b, q->sort[i].desc ? " DESC, " : ", ");
    }
    buf_puts(b, "t.fid");
}

/* SpatiaLite's own reading of a BLOB onemap cannot read (compressed, 3D):
 * its WKB appended to out; -1 when SpatiaLite cannot either. */
static int as_binary(store *s, const unsigned char *g, size_t n, struct buf *out)
{
    struct err ignored;
    sqlite3_stmt *st = store_prep(s, "SELECT AsBinary(?)", &ignored);
    int rc = -1;
    if (!st)
        return -1;
    sqlite3_bind_blob(st, 1, g, (int)n, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_blob(st, 0)) {
        buf_append(out, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        rc = out->oom ? -1 : 0;
    }
    sqlite3_reset(st);
    return rc;
}

int store_query_rows(store *s, const struct store_query *q, store_row_fn fn, void *arg,
                     struct err *e)
{
    const struct layer *l = q->layer;
    struct value *vals = NULL;
    struct store_row row;
    struct buf b, wkb;
    sqlite3_stmt *st;
    int rc = 0, step, idx;
    buf_init(&b);
    buf_init(&wkb);
    buf_puts(&b, q->skip_gj ? "SELECT t.fid, t.version, t.area_m2, NULL"
                            : "SELECT t.fid, t.version, t.area_m2, t.gj");
    buf_puts(&b, in_form(q)  ? ", t.geom, 0, 0, 0"
                 : q->n_rects ? ", r.xmin, r.ymin, r.xmax, r.ymax"
                              : ", 0, 0, 0, 0");
    for (size_t i = 0; i < l->n_fields; i++)
        buf_printf(&b, ", t.\"%s\"", l->fields[i].name);
    if (q->want_wkb)
        buf_puts(&b, ", t.geom");
    where_sql(q, &b);
    if (!q->any_order || q->limit >= 0 || q->n_sort)
        order_sql(q, &b);
    if (q->limit >= 0)
        buf_puts(&b, " LIMIT ? OFFSET ?");
    vals = calloc(l->n_fields, sizeof *vals);
    if (b.oom || !vals) {
        rc = err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (!(st = store_prep(s, b.data, e))) {
        rc = e->code;
        goto out;
    }
    idx = bind_where(st, q);
    if (q->limit >= 0) {
        sqlite3_bind_int64(st, idx, q->limit);
        sqlite3_bind_int64(st, idx + 1, q->offset);
    }
    memset(&row, 0, sizeof row);
    row.vals = vals;
    row.have_mbr = q->n_rects > 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        row.fid = sqlite3_column_int64(st, 0);
        row.version = sqlite3_column_int64(st, 1);
        row.area_m2 = sqlite3_column_double(st, 2);
        row.gj = (const char *)sqlite3_column_text(st, 3);
        if (in_form(q)) {
            if (blob_mbr(sqlite3_column_blob(st, 4), (size_t)sqlite3_column_bytes(st, 4),
                         row.mbr))
                memset(row.mbr, 0, sizeof row.mbr);
        } else {
            for (int k = 0; k < 4; k++)
                row.mbr[k] = sqlite3_column_double(st, 4 + k);
        }
        for (size_t i = 0; i < l->n_fields; i++)
            column_value(st, 8 + (int)i, &vals[i]);
        if (q->want_wkb) {
            int col = 8 + (int)l->n_fields;
            const unsigned char *g = sqlite3_column_blob(st, col);
            size_t n = (size_t)sqlite3_column_bytes(st, col);
            buf_reset(&wkb);
            if (!g) {
                row.wkb = NULL, row.wkb_len = 0;
            } else if (splite_to_wkb(g, n, &wkb) == 0 || as_binary(s, g, n, &wkb) == 0) {
                row.wkb = (const unsigned char *)wkb.data;
                row.wkb_len = wkb.len;
            } else {
                rc = err_set(e, ERR_INTERNAL, "%s/%lld: unreadable geometry", l->id, row.fid);
                break;
            }
        }
        rc = fn(arg, &row, e);
        if (rc)
            break;
    }
    if (rc == 0 && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = store_db_err(s, e, l->id);
    if (rc > 0)
        rc = 0;
    sqlite3_reset(st);
out:
    free(vals);
    buf_clear(&b);
    buf_clear(&wkb);
    return rc;
}

int store_boxes(store *s, const struct layer *l, const double rects[][4], int n_rects,
                store_box_fn fn, void *arg, struct err *e)
{
    struct buf b;
    sqlite3_stmt *st;
    int rc = 0, step;
    buf_init(&b);
    buf_printf(&b, "SELECT r.pkid, r.xmin, r.ymin, r.xmax, r.ymax FROM \"idx_%s_geom\" r WHERE ",
               l->id);
    rects_sql(&b, n_rects);
    if (b.oom || !(st = store_prep(s, b.data, e))) {
        rc = b.oom ? err_set(e, ERR_INTERNAL, "out of memory") : e->code;
        buf_clear(&b);
        return rc;
    }
    buf_clear(&b);
    bind_rects(st, 1, rects, n_rects);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        double mbr[4];
        for (int k = 0; k < 4; k++)
            mbr[k] = sqlite3_column_double(st, 1 + k);
        if ((rc = fn(arg, sqlite3_column_int64(st, 0), mbr, e)))
            break;
    }
    if (rc == 0 && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = store_db_err(s, e, l->id);
    if (rc > 0)
        rc = 0;
    sqlite3_reset(st);
    return rc;
}

int store_query_count(store *s, const struct store_query *q, long long *count, struct err *e)
{
    struct buf b;
    sqlite3_stmt *st;
    int rc = 0;
    if (!q->filter && !q->n_eq && !q->n_rects && !q->fid)
        return store_layer_totals(s, q->layer, count, NULL, e); /* kept, O(1) */
    buf_init(&b);
    buf_puts(&b, "SELECT count(*)");
    where_sql(q, &b);
    if (b.oom || !(st = store_prep(s, b.data, e))) {
        rc = b.oom ? err_set(e, ERR_INTERNAL, "out of memory") : e->code;
        goto out;
    }
    bind_where(st, q);
    if (sqlite3_step(st) == SQLITE_ROW)
        *count = sqlite3_column_int64(st, 0);
    else
        rc = store_db_err(s, e, q->layer->id);
    sqlite3_reset(st);
out:
    buf_clear(&b);
    return rc;
}

int store_feature_wkb(store *s, const struct layer *l, long long fid, unsigned char **wkb,
                      size_t *len, struct err *e)
{
    char sql[256];
    sqlite3_stmt *st;
    int rc = 0;
    *wkb = NULL;
    snprintf(sql, sizeof sql, "SELECT AsBinary(geom) FROM \"%s\" WHERE fid = ?", l->id);
    if (!(st = store_prep(s, sql, e)))
        return e->code;
    sqlite3_bind_int64(st, 1, fid);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_BLOB) {
        *len = (size_t)sqlite3_column_bytes(st, 0);
        *wkb = malloc(*len ? *len : 1);
        if (*wkb)
            memcpy(*wkb, sqlite3_column_blob(st, 0), *len);
        else
            rc = err_set(e, ERR_INTERNAL, "out of memory");
    } else {
        rc = err_set(e, ERR_NOT_FOUND, "%s/%lld: no such feature", l->id, fid);
    }
    sqlite3_reset(st);
    return rc;
}

int store_layer_count_upto(store *s, const struct layer *l, long long limit, long long *count,
                           struct err *e)
{
    char sql[256];
    sqlite3_stmt *st;
    int rc = 0;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT 1 FROM \"%s\" LIMIT ?)", l->id);
    if (!(st = store_prep(s, sql, e)))
        return e->code;
    sqlite3_bind_int64(st, 1, limit);
    if (sqlite3_step(st) == SQLITE_ROW)
        *count = sqlite3_column_int64(st, 0);
    else
        rc = store_db_err(s, e, l->id);
    sqlite3_reset(st);
    return rc;
}

int store_feature_fid_by_key(store *s, const struct layer *l, const char *key, long long *fid,
                             struct err *e)
{
    char sql[256];
    sqlite3_stmt *st;
    int rc = 0;
    snprintf(sql, sizeof sql, "SELECT fid FROM \"%s\" WHERE \"%s\" = ?", l->id, l->key);
    if (!(st = store_prep(s, sql, e)))
        return e->code;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        *fid = sqlite3_column_int64(st, 0);
    else
        rc = err_set(e, ERR_NOT_FOUND, "%s: no feature with %s '%s'", l->id, l->key, key);
    sqlite3_reset(st);
    return rc;
}


int store_feature_update(store *s, const struct layer *l, long long fid, long long version,
                         const struct value *vals, const unsigned char *wkb, size_t wkb_len,
                         const char *gj, double area_m2, struct err *e)
{
    struct buf b, blob;
    sqlite3_stmt *st;
    size_t i;
    int rc = 0;
    buf_init(&b);
    buf_init(&blob);
    buf_printf(&b, "UPDATE \"%s\" SET version = ?1, area_m2 = ?2, gj = ?3, geom = ?4", l->id);
    for (i = 0; i < l->n_fields; i++)
        buf_printf(&b, ", \"%s\" = ?%zu", l->fields[i].name, i + 6);
    buf_puts(&b, " WHERE fid = ?5");
    if (b.oom || !(st = store_prep(s, b.data, e))) {
        rc = b.oom ? err_set(e, ERR_INTERNAL, "out of memory") : e->code;
        goto out;
    }
    if (splite_from_wkb(wkb, wkb_len, 4490, &blob)) {
        rc = err_set(e, ERR_INVALID, "%s: geometry: not a 2D geometry SpatiaLite can store",
                     l->id);
        goto out;
    }
    sqlite3_bind_int64(st, 1, version);
    sqlite3_bind_double(st, 2, area_m2);
    sqlite3_bind_text(st, 3, gj, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, blob.data, (int)blob.len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, fid);
    for (i = 0; i < l->n_fields; i++)
        store_bind_value(st, (int)i + 6, &vals[i]);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = store_db_err(s, e, l->id);
        if (rc == ERR_CONFLICT && vals[l->key_field].type == VAL_TEXT)
            rc = err_set(e, ERR_CONFLICT, "%s: a feature with %s '%s' exists already", l->id,
                         l->key, vals[l->key_field].s);
    } else if (sqlite3_changes(s->db) != 1) {
        rc = err_set(e, ERR_NOT_FOUND, "%s/%lld: no such feature", l->id, fid);
    }
    sqlite3_reset(st);
out:
    buf_clear(&b);
    buf_clear(&blob);
    return rc;
}

int store_feature_delete(store *s, const struct layer *l, long long fid, struct err *e)
{
    char sql[256];
    sqlite3_stmt *st;
    int rc = 0;
    snprintf(sql, sizeof sql, "DELETE FROM \"%s\" WHERE fid = ?", l->id);
    if (!(st = store_prep(s, sql, e)))
        return e->code;
    sqlite3_bind_int64(st, 1, fid);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = store_db_err(s, e, l->id);
    else if (sqlite3_changes(s->db) != 1)
        rc = err_set(e, ERR_NOT_FOUND, "%s/%lld: no such feature", l->id, fid);
    sqlite3_reset(st);
    return rc;
}

int store_history_add(store *s, const struct layer *l, long long fid, long long version,
                      const char *op, const char *by, const char *change_id, const char *feature,
                      struct err *e)
{
    return store_history_add_at(s, l, fid, version, op, NULL, by, change_id, feature, e);
}

int store_history_add_at(store *s, const struct layer *l, long long fid, long long version,
                         const char *op, const char *at, const char *by, const char *change_id,
                         const char *feature, struct err *e)
{
    char sql[512];
    sqlite3_stmt *st;
    int rc = 0;
    snprintf(sql, sizeof sql, "INSERT INTO onemap_history (collection, fid, version, op, at, by,"
             " change_id, feature) VALUES (?1, ?2, ?3, ?4, coalesce(?8, %s), ?5, ?6, ?7)",
             STORE_NOW);
    if (!(st = store_prep(s, sql, e)))
        return e->code;
    sqlite3_bind_text(st, 1, l->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, fid);
    sqlite3_bind_int64(st, 3, version);
    sqlite3_bind_text(st, 4, op, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, by, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, change_id, -1, SQLITE_STATIC);
    /* the column is NOT NULL in every database made so far: '' stands for
     * "no copy" */
    sqlite3_bind_text(st, 7, feature ? feature : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, at, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = store_db_err(s, e, "history");
    sqlite3_reset(st);
    return rc;
}

int store_history_keep(store *s, const struct layer *l, long long fid, long long version,
                       const char *feature, struct err *e)
{
    sqlite3_stmt *st = store_prep(s, "UPDATE onemap_history SET feature = ?4 WHERE collection = ?1"
                               " AND fid = ?2 AND version = ?3 AND feature = ''", e);
    int rc = 0;
    if (!st)
        return e->code;
    sqlite3_bind_text(st, 1, l->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, fid);
    sqlite3_bind_int64(st, 3, version);
    sqlite3_bind_text(st, 4, feature, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = store_db_err(s, e, "history");
    sqlite3_reset(st);
    return rc;
}

static void put_text_member(struct buf *b, const char *name, sqlite3_stmt *st, int col)
{
    buf_printf(b, ",\"%s\":", name);
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        buf_puts(b, "null");
    else
        buf_put_json_str(b, (const char *)sqlite3_column_text(st, col));
}

int store_history_get(store *s, const struct layer *l, long long fid, store_live_fn live,
                      void *arg, struct buf *out, long long *n, struct err *e)
{
    sqlite3_stmt *st = store_prep(s, "SELECT version, op, at, by, change_id, feature, seq FROM"
                               " onemap_history WHERE collection = ? AND fid = ?"
                               " ORDER BY version DESC, seq DESC", e);
    int step;
    *n = 0;
    if (!st)
        return e->code;
    sqlite3_bind_text(st, 1, l->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, fid);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        buf_printf(out, "%s{\"version\":%lld", (*n)++ ? "," : "",
                   (long long)sqlite3_column_int64(st, 0));
        put_text_member(out, "op", st, 1);
        put_text_member(out, "at", st, 2);
        put_text_member(out, "by", st, 3);
        put_text_member(out, "change_id", st, 4);
        buf_printf(out, ",\"seq\":%lld,\"feature\":", (long long)sqlite3_column_int64(st, 6));
        if (sqlite3_column_bytes(st, 5) > 0) {
            buf_puts(out, (const char *)sqlite3_column_text(st, 5));
        } else if (live(arg, fid, sqlite3_column_int64(st, 0), out, e)) {
            sqlite3_reset(st);
            return e->code;
        }
        buf_putc(out, '}');
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : store_db_err(s, e, "history");
}

int store_changes(store *s, long long since, long long limit, struct buf *out,
                  long long *next, struct err *e)
{
    sqlite3_stmt *st = store_prep(s, "SELECT seq, collection, fid, op, version, at, by, change_id"
                               " FROM onemap_history WHERE seq > ? ORDER BY seq LIMIT ?", e);
    int step, n = 0;
    *next = since;
    if (!st)
        return e->code;
    sqlite3_bind_int64(st, 1, since);
    sqlite3_bind_int64(st, 2, limit);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        *next = sqlite3_column_int64(st, 0);
        buf_printf(out, "%s{\"seq\":%lld", n++ ? "," : "", *next);
        put_text_member(out, "collection", st, 1);
        buf_printf(out, ",\"id\":%lld", (long long)sqlite3_column_int64(st, 2));
        put_text_member(out, "op", st, 3);
        buf_printf(out, ",\"version\":%lld", (long long)sqlite3_column_int64(st, 4));
        put_text_member(out, "at", st, 5);
        put_text_member(out, "by", st, 6);
        put_text_member(out, "change_id", st, 7);
        buf_putc(out, '}');
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? 0 : store_db_err(s, e, "changes");
}

int store_token_add(store *s, const char *name, const char *id, const unsigned char *hash,
                    size_t hash_len, const char *role, const char *grids, struct err *e)
{
    char sql[256];
    sqlite3_stmt *st;
    int rc = 0;
    snprintf(sql, sizeof sql, "INSERT INTO onemap_tokens (name, id, hash, role, grids, created)"
             " VALUES (?, ?, ?, ?, ?, %s)", STORE_NOW);
    if (!(st = store_prep(s, sql, e)))
        return e->code;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, hash, (int)hash_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, role, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, grids ? grids : "", -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = store_db_err(s, e, "token");
        if (rc == ERR_CONFLICT)
            rc = err_set(e, ERR_CONFLICT, "a token named '%s' exists already", name);
    }
    sqlite3_reset(st);
    return rc;
}

int store_token_get(store *s, const char *id, struct store_token *t, struct err *e)
{
    sqlite3_stmt *st = store_prep(s, "SELECT name, hash, role, grids FROM onemap_tokens"
                               " WHERE id = ? AND revoked IS NULL", e);
    int rc = 0;
    memset(t, 0, sizeof *t);
    if (!st)
        return e->code;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 1) == (int)sizeof t->hash) {
        snprintf(t->name, sizeof t->name, "%s", (const char *)sqlite3_column_text(st, 0));
        memcpy(t->hash, sqlite3_column_blob(st, 1), sizeof t->hash);
        snprintf(t->role, sizeof t->role, "%s", (const char *)sqlite3_column_text(st, 2));
        snprintf(t->grids, sizeof t->grids, "%s", (const char *)sqlite3_column_text(st, 3));
    } else {
        rc = err_set(e, ERR_UNAUTHORIZED, "Authorization: unknown or revoked token");
    }
    sqlite3_reset(st);
    return rc;
}

int store_token_list(store *s, struct buf *out, struct err *e)
{
    sqlite3_stmt *st = store_prep(s, "SELECT name, role, grids, created, revoked FROM onemap_tokens"
                               " ORDER BY name", e);
    if (!st)
        return e->code;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *grids = (const char *)sqlite3_column_text(st, 2);
        buf_printf(out, "%-20s %-7s %-24s %s%s%s\n", (const char *)sqlite3_column_text(st, 0),
                   (const char *)sqlite3_column_text(st, 1), grids && *grids ? grids : "-",
                   (const char *)sqlite3_column_text(st, 3),
                   sqlite3_column_type(st, 4) == SQLITE_NULL ? "" : " revoked ",
                   sqlite3_column_type(st, 4) == SQLITE_NULL
                       ? "" : (const char *)sqlite3_column_text(st, 4));
    }
    sqlite3_reset(st);
    return 0;
}

int store_token_revoke(store *s, const char *name, struct err *e)
{
    char sql[256];
    sqlite3_stmt *st;
    int rc = 0;
    snprintf(sql, sizeof sql, "UPDATE onemap_tokens SET revoked = %s WHERE name = ?"
             " AND revoked IS NULL", STORE_NOW);
    if (!(st = store_prep(s, sql, e)))
        return e->code;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = store_db_err(s, e, "token");
    else if (sqlite3_changes(s->db) != 1)
        rc = err_set(e, ERR_NOT_FOUND, "no active token named '%s'", name);
    sqlite3_reset(st);
    return rc;
}

int store_key_fids(store *s, const struct layer *l, store_key_fn fn, void *arg, struct err *e)
{
    char sql[256];
    sqlite3_stmt *st;
    int step, rc = 0;
    snprintf(sql, sizeof sql, "SELECT \"%s\", fid FROM \"%s\"", l->key, l->id);
    if (!(st = store_prep(s, sql, e)))
        return e->code;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = fn(arg, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
                     e)))
            break;
    sqlite3_reset(st);
    if (!rc && step != SQLITE_DONE)
        rc = store_db_err(s, e, l->id);
    return rc;
}
