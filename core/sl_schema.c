/* sl_schema (SQLite backend): a new database's tables (onemap's own and one
 * per layer, with its spatial index and kept totals) and the layer registry. */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sl_int.h"

/* Runs a SpatiaLite management function that returns 1 on success. */
int sl_select_ok(store *s, const char *sql, struct err *e)
{
    sqlite3_stmt *st = NULL;
    int ok = 0;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return sl_db_err(s, e, sql);
    ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    sqlite3_finalize(st);
    return ok ? 0 : err_set(e, ERR_INTERNAL, "database: %s failed", sql);
}

const char *sl_field_type(enum field_type t)
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
               " version INTEGER NOT NULL DEFAULT 1, area_m2 REAL NOT NULL, gj TEXT NOT NULL,"
               " since TEXT NOT NULL DEFAULT ''",
               l->id);
    for (size_t i = 0; i < l->n_fields; i++)
        buf_printf(&b, ", \"%s\" %s", l->fields[i].name, sl_field_type(l->fields[i].type));
    buf_printf(&b, "); CREATE UNIQUE INDEX \"%s_key\" ON \"%s\"(\"%s\");", l->id, l->id,
               l->key);
    if (l->group_by && strcmp(l->group_by, l->key))
        buf_printf(&b, " CREATE INDEX \"%s_%s\" ON \"%s\"(\"%s\");", l->id, l->group_by, l->id,
                   l->group_by);
    rc = b.oom ? err_set(e, ERR_INTERNAL, "out of memory") : sl_exec(s, b.data, e);
    if (!rc) {
        buf_reset(&b);
        buf_printf(&b, "SELECT AddGeometryColumn('%s', 'geom', 4490, 'GEOMETRY', 'XY', 1)", l->id);
        rc = sl_select_ok(s, b.data, e);
    }
    if (!rc) {
        buf_reset(&b);
        buf_printf(&b, "SELECT CreateSpatialIndex('%s', 'geom')", l->id);
        rc = sl_select_ok(s, b.data, e);
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
        rc = b.oom ? err_set(e, ERR_INTERNAL, "out of memory") : sl_exec(s, b.data, e);
    }
    buf_clear(&b);
    if (!rc)
        rc = sl_stats_install(s, l, e);
    if (!rc)
        rc = sl_past_create(s, l, e);
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

int sl_init(store *s, const char *layers_json, struct err *e)
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
    if ((rc = sl_exec(s, "PRAGMA journal_mode=DELETE; PRAGMA page_size=8192; VACUUM;"
                      " PRAGMA journal_mode=WAL;", e)) ||
        (rc = sl_select_ok(s, "SELECT InitSpatialMetadata(1, 'NONE')", e)))
        goto out;
    if ((rc = sl_begin(s, e)))
        goto out;
    if ((rc = sl_select_ok(s, "SELECT InsertEpsgSrid(4490)", e)) ||
        (rc = sl_exec(s, META_SQL, e)))
        goto fail;
    for (size_t i = 0; i < ls->n; i++)
        if ((rc = create_layer_table(s, &ls->v[i], e)))
            goto fail;
    if (!(st = sl_prep(s, "INSERT INTO onemap_meta(key, value) VALUES ('layers', ?1),"
                       " ('schema_version', '2'), ('created', strftime('%Y-%m-%dT%H:%M:%SZ'))",
                    e))) {
        rc = e->code;
        goto fail;
    }
    sqlite3_bind_text(st, 1, layers_json, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = sl_db_err(s, e, "init");
        goto fail;
    }
    sqlite3_reset(st);
    rc = sl_commit(s, e);
    goto out;
fail:
    sl_rollback(s);
out:
    layers_free(ls);
    return rc;
}

int sl_layers_get(store *s, struct layers **out, struct err *e)
{
    sqlite3_stmt *st = sl_prep(s, "SELECT value FROM onemap_meta WHERE key = 'layers'", e);
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

int sl_schema_json(store *s, char **json, struct err *e)
{
    sqlite3_stmt *st = sl_prep(s, "SELECT value FROM onemap_meta WHERE key = 'layers'", e);
    int rc = 0;
    *json = NULL;
    if (!st)
        return err_set(e, ERR_INVALID, "not an onemap database (run 'onemap init' first)");
    if (sqlite3_step(st) != SQLITE_ROW)
        rc = err_set(e, ERR_INVALID, "not an onemap database: no layer registry");
    else if (!(*json = strdup((const char *)sqlite3_column_text(st, 0))))
        rc = err_set(e, ERR_INTERNAL, "out of memory");
    sqlite3_reset(st);
    return rc;
}
