/* sl_history (SQLite backend): the history of every feature version and the
 * change log it makes, as rows; core/history writes them as the API's JSON. */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sl_int.h"

int sl_history_add_at(store *s, const struct layer *l, long long fid, long long version,
                         const char *op, const char *at, const char *by, const char *change_id,
                         const char *feature, struct err *e)
{
    sqlite3_stmt *st;
    int rc = 0;
    if (!(st = sl_prepf(s, e, "INSERT INTO onemap_history (collection, fid, version, op, at, by,"
             " change_id, feature) VALUES (?1, ?2, ?3, ?4, coalesce(?8, %s), ?5, ?6, ?7)",
             STORE_NOW)))
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
        rc = sl_db_err(s, e, "history");
    sqlite3_reset(st);
    return rc;
}

int sl_history_keep(store *s, const struct layer *l, long long fid, long long version,
                       const char *feature, struct err *e)
{
    sqlite3_stmt *st = sl_prep(s, "UPDATE onemap_history SET feature = ?4 WHERE collection = ?1"
                               " AND fid = ?2 AND version = ?3 AND feature = ''", e);
    int rc = 0;
    if (!st)
        return e->code;
    sqlite3_bind_text(st, 1, l->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, fid);
    sqlite3_bind_int64(st, 3, version);
    sqlite3_bind_text(st, 4, feature, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sl_db_err(s, e, "history");
    sqlite3_reset(st);
    return rc;
}

static const char *text_or_null(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL
                                                       : (const char *)sqlite3_column_text(st, col);
}

int sl_history_rows(store *s, const struct layer *l, long long fid, store_version_fn fn,
                       void *arg, struct err *e)
{
    sqlite3_stmt *st = sl_prep(s, "SELECT version, op, at, by, change_id, feature, seq FROM"
                               " onemap_history WHERE collection = ? AND fid = ?"
                               " ORDER BY version DESC, seq DESC", e);
    int step, rc = 0;
    if (!st)
        return e->code;
    sqlite3_bind_text(st, 1, l->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, fid);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_version v = {
            .collection = l->id,
            .fid = fid,
            .version = sqlite3_column_int64(st, 0),
            .seq = sqlite3_column_int64(st, 6),
            .op = text_or_null(st, 1),
            .at = text_or_null(st, 2),
            .by = text_or_null(st, 3),
            .change_id = text_or_null(st, 4),
            /* '' stands for "no copy" (the column is NOT NULL) */
            .feature = sqlite3_column_bytes(st, 5) > 0 ? text_or_null(st, 5) : NULL,
        };
        if ((rc = fn(arg, &v, e)))
            break;
    }
    return sl_rows_end(s, st, step, rc, "history", e);
}

int sl_change_rows(store *s, long long since, long long limit, int features,
                   store_version_fn fn, void *arg, struct err *e)
{
    sqlite3_stmt *st = sl_prep(s, features ? "SELECT seq, collection, fid, op, version, at, by,"
                                             " change_id, feature FROM onemap_history"
                                             " WHERE seq > ? ORDER BY seq LIMIT ?"
                                           : "SELECT seq, collection, fid, op, version, at, by,"
                                             " change_id, NULL FROM onemap_history"
                                             " WHERE seq > ? ORDER BY seq LIMIT ?", e);
    int step, rc = 0;
    if (!st)
        return e->code;
    sqlite3_bind_int64(st, 1, since);
    sqlite3_bind_int64(st, 2, limit);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_version v = {
            .seq = sqlite3_column_int64(st, 0),
            .collection = text_or_null(st, 1),
            .fid = sqlite3_column_int64(st, 2),
            .op = text_or_null(st, 3),
            .version = sqlite3_column_int64(st, 4),
            .at = text_or_null(st, 5),
            .by = text_or_null(st, 6),
            .change_id = text_or_null(st, 7),
            .feature = sqlite3_column_bytes(st, 8) > 0 ? text_or_null(st, 8) : NULL,
        };
        if ((rc = fn(arg, &v, e)))
            break;
    }
    return sl_rows_end(s, st, step, rc, "changes", e);
}

int sl_history_put(store *s, const struct store_version *v, struct err *e)
{
    sqlite3_stmt *st = sl_prep(s, "INSERT INTO onemap_history (seq, collection, fid, version, op,"
                               " at, by, change_id, feature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", e);
    int rc = 0;
    if (!st)
        return e->code;
    sqlite3_bind_int64(st, 1, v->seq);
    sqlite3_bind_text(st, 2, v->collection, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, v->fid);
    sqlite3_bind_int64(st, 4, v->version);
    sqlite3_bind_text(st, 5, v->op, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, v->at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, v->by, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, v->change_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, v->feature ? v->feature : "", -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sl_db_err(s, e, "history");
    sqlite3_reset(st);
    return rc;
}
