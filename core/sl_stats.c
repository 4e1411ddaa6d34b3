/* sl_stats (SQLite backend): each layer's totals kept current by the database
 * itself, so that metadata pages cost O(1) whatever the layer's size. A table
 * onemap_layer_stats holds per layer its number of features, their total area
 * and a count of changes; triggers on the layer's table update it in the same
 * transaction as every insert, update and delete (a bulk load, whose per-row
 * triggers are set aside, adds its rows at the end), so the figures are exact
 * and visible to every connection and process at once. The extent is read from
 * the spatial index's root node: SQLite's R-tree keeps each node's box the
 * union of its children's, shrinking it on deletes as well. Databases made
 * before the table existed get it when first opened for writing. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sl_int.h"

#define STATS_TABLE_SQL                                                                        \
    "CREATE TABLE IF NOT EXISTS onemap_layer_stats (layer TEXT PRIMARY KEY,"                    \
    " features INTEGER NOT NULL, area_m2 REAL NOT NULL, changes INTEGER NOT NULL)"

int sl_stats_install(store *s, const struct layer *l, struct err *e)
{
    char sql[2048];
    snprintf(sql, sizeof sql,
             STATS_TABLE_SQL ";"
             " INSERT OR REPLACE INTO onemap_layer_stats (layer, features, area_m2, changes)"
             " SELECT '%1$s', count(*), total(area_m2), 0 FROM \"%1$s\";"
             " CREATE TRIGGER \"onemap_stats_%1$s_i\" AFTER INSERT ON \"%1$s\" FOR EACH ROW BEGIN"
             " UPDATE onemap_layer_stats SET features = features + 1,"
             " area_m2 = area_m2 + NEW.area_m2, changes = changes + 1 WHERE layer = '%1$s'; END;"
             " CREATE TRIGGER \"onemap_stats_%1$s_d\" AFTER DELETE ON \"%1$s\" FOR EACH ROW BEGIN"
             " UPDATE onemap_layer_stats SET features = features - 1,"
             " area_m2 = area_m2 - OLD.area_m2, changes = changes + 1 WHERE layer = '%1$s'; END;"
             " CREATE TRIGGER \"onemap_stats_%1$s_u\" AFTER UPDATE ON \"%1$s\" FOR EACH ROW BEGIN"
             " UPDATE onemap_layer_stats SET area_m2 = area_m2 + NEW.area_m2 - OLD.area_m2,"
             " changes = changes + 1 WHERE layer = '%1$s'; END;",
             l->id);
    return sl_exec(s, sql, e);
}

static int have_stats(store *s)
{
    return sqlite3_table_column_metadata(s->db, NULL, "onemap_layer_stats", "layer", NULL, NULL,
                                         NULL, NULL, NULL) == SQLITE_OK;
}

int sl_stats_upgrade(store *s, struct err *e)
{
    struct layers *ls = NULL;
    int rc;
    if (s->immutable || have_stats(s) ||
        sqlite3_table_column_metadata(s->db, NULL, "onemap_meta", "key", NULL, NULL, NULL, NULL,
                                      NULL) != SQLITE_OK)
        return 0; /* up to date, read-only, or not initialised yet */
    if ((rc = sl_begin(s, e)))
        return rc;
    if (!have_stats(s)) { /* another process may have been first */
        if ((rc = sl_layers_get(s, &ls, e)) == 0)
            for (size_t i = 0; i < ls->n && !rc; i++)
                rc = sl_stats_install(s, &ls->v[i], e);
        layers_free(ls);
    }
    if (rc || (rc = sl_commit(s, e)))
        sl_rollback(s);
    return rc;
}

int sl_stats_bulk_add(store *s, const struct layer *l, struct err *e)
{
    sqlite3_stmt *st;
    int rc = 0;
    if (!s->bulk_rows)
        return 0;
    if (!(st = sl_prep(s, "UPDATE onemap_layer_stats SET features = features + ?1,"
                             " area_m2 = area_m2 + ?2, changes = changes + 1 WHERE layer = ?3",
                          e)))
        return e->code;
    sqlite3_bind_int64(st, 1, s->bulk_rows);
    sqlite3_bind_double(st, 2, s->bulk_area);
    sqlite3_bind_text(st, 3, l->id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sl_db_err(s, e, "layer statistics");
    sqlite3_reset(st);
    s->bulk_rows = 0;
    s->bulk_area = 0;
    return rc;
}

int sl_layer_totals(store *s, const struct layer *l, long long *count, double *area_m2,
                       struct err *e)
{
    sqlite3_stmt *st;
    char sql[256];
    int rc = 0;
    if (!have_stats(s)) { /* a read-only database from before: counted */
        snprintf(sql, sizeof sql, "SELECT count(*), total(area_m2) FROM \"%s\"", l->id);
        st = sl_prep(s, sql, e);
    } else {
        st = sl_prep(s, "SELECT features, area_m2 FROM onemap_layer_stats WHERE layer = ?1", e);
        if (st)
            sqlite3_bind_text(st, 1, l->id, -1, SQLITE_STATIC);
    }
    if (!st)
        return e->code;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *count = sqlite3_column_int64(st, 0);
        if (area_m2)
            *area_m2 = sqlite3_column_double(st, 1);
    } else {
        rc = sqlite3_errcode(s->db) == SQLITE_DONE || sqlite3_errcode(s->db) == SQLITE_OK
                 ? err_set(e, ERR_INTERNAL, "%s: no statistics kept", l->id)
                 : sl_db_err(s, e, l->id);
    }
    sqlite3_reset(st);
    return rc;
}

int sl_data_version(store *s, long long *version, struct err *e)
{
    sqlite3_stmt *st;
    int rc = 0;
    if (!have_stats(s))
        return err_set(e, ERR_NOT_FOUND, "no layer statistics kept");
    if (!(st = sl_prep(s, "SELECT total(changes) FROM onemap_layer_stats", e)))
        return e->code;
    if (sqlite3_step(st) == SQLITE_ROW)
        *version = sqlite3_column_int64(st, 0);
    else
        rc = sl_db_err(s, e, "layer statistics");
    sqlite3_reset(st);
    return rc;
}

static float be_float(const unsigned char *p)
{
    uint32_t u = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* The union of the root node's boxes (SQLite's R-tree node format: depth
 * and cell count as big-endian 16-bit numbers, then cells of a 64-bit id and
 * xmin, xmax, ymin, ymax as big-endian 32-bit floats). 0, 1 when the index
 * is empty, or an error. */
static int root_extent(store *s, const struct layer *l, double ext[4], struct err *e)
{
    enum { CELL = 8 + 4 * 4 };
    sqlite3_stmt *st;
    int rc = 1;
    if (!(st = sl_prepf(s, e, "SELECT data FROM \"idx_%s_geom_node\" WHERE nodeno = 1", l->id)))
        return e->code;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *p = sqlite3_column_blob(st, 0);
        int len = sqlite3_column_bytes(st, 0);
        int n = len >= 4 && p ? p[2] << 8 | p[3] : 0;
        if (n > 0 && 4 + n * CELL <= len) {
            ext[0] = ext[1] = 1e300;
            ext[2] = ext[3] = -1e300;
            for (int i = 0; i < n; i++) {
                const unsigned char *c = p + 4 + i * CELL + 8;
                double x0 = be_float(c), x1 = be_float(c + 4), y0 = be_float(c + 8),
                       y1 = be_float(c + 12);
                ext[0] = x0 < ext[0] ? x0 : ext[0];
                ext[1] = y0 < ext[1] ? y0 : ext[1];
                ext[2] = x1 > ext[2] ? x1 : ext[2];
                ext[3] = y1 > ext[3] ? y1 : ext[3];
            }
            rc = 0;
        } else if (n > 0) {
            rc = err_set(e, ERR_INTERNAL, "%s: spatial index root node is malformed", l->id);
        }
    } else if (sqlite3_errcode(s->db) != SQLITE_DONE) {
        rc = sl_db_err(s, e, l->id);
    }
    sqlite3_reset(st);
    return rc;
}

int sl_layer_extent(store *s, const struct layer *l, double ext[4], long long *count,
                       struct err *e)
{
    int rc;
    if ((rc = sl_layer_totals(s, l, count, NULL, e)))
        return rc;
    return root_extent(s, l, ext, e);
}
