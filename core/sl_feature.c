/* sl_feature (SQLite backend): one feature's row — insert, update, delete, its
 * geometry, its id by key. */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "splite.h"
#include "sl_int.h"

/* The layer's INSERT, its SQL made once per connection and layer (a bulk
 * load runs it a hundred thousand times). */
static sqlite3_stmt *insert_stmt(store *s, const struct layer *l, struct err *e)
{
    struct buf b;
    if (s->ins_sql && s->ins_layer && !strcmp(s->ins_layer, l->id))
        return sl_prep(s, s->ins_sql, e);
    buf_init(&b);
    buf_printf(&b, "INSERT INTO \"%s\" (since, area_m2, gj, geom", l->id);
    for (size_t i = 0; i < l->n_fields; i++)
        buf_printf(&b, ", \"%s\"", l->fields[i].name);
    buf_printf(&b, ") VALUES (coalesce(?%zu, %s), ?1, ?2, ?3", l->n_fields + 4, STORE_NOW);
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
    return sl_prep(s, s->ins_sql, e);
}

int sl_feature_insert_blob(store *s, const struct layer *l, const struct value *vals,
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
        sl_bind_value(st, (int)i + 4, &vals[i]);
    sqlite3_bind_text(st, (int)l->n_fields + 4, sl_write_time(s), -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = sl_db_err(s, e, l->id);
        if (rc == ERR_CONFLICT && vals[l->key_field].type == VAL_TEXT)
            rc = err_set(e, ERR_CONFLICT, "%s: a feature with %s '%s' exists already", l->id,
                         l->key, vals[l->key_field].s);
    } else if (fid) {
        *fid = sqlite3_last_insert_rowid(s->db);
    }
    sqlite3_reset(st);
    return rc;
}

int sl_feature_insert(store *s, const struct layer *l, const struct value *vals,
                         const unsigned char *wkb, size_t wkb_len, const char *gj,
                         double area_m2, long long *fid, struct err *e)
{
    struct buf blob;
    int rc;
    buf_init(&blob);
    if (splite_from_wkb(wkb, wkb_len, 4490, &blob))
        rc = err_set(e, ERR_INVALID, "%s: geometry: not a 2D geometry the database can store",
                     l->id);
    else
        rc = sl_feature_insert_blob(s, l, vals, (const unsigned char *)blob.data, blob.len,
                                       gj, area_m2, fid, e);
    buf_clear(&blob);
    return rc;
}

int sl_feature_wkb(store *s, const struct layer *l, long long fid, unsigned char **wkb,
                      size_t *len, struct err *e)
{
    sqlite3_stmt *st;
    int rc = 0;
    *wkb = NULL;
    if (!(st = sl_prepf(s, e, "SELECT AsBinary(geom) FROM \"%s\" WHERE fid = ?", l->id)))
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

int sl_layer_count_upto(store *s, const struct layer *l, long long limit, long long *count,
                           struct err *e)
{
    sqlite3_stmt *st;
    int rc = 0;
    if (!(st = sl_prepf(s, e, "SELECT count(*) FROM (SELECT 1 FROM \"%s\" LIMIT ?)", l->id)))
        return e->code;
    sqlite3_bind_int64(st, 1, limit);
    if (sqlite3_step(st) == SQLITE_ROW)
        *count = sqlite3_column_int64(st, 0);
    else
        rc = sl_db_err(s, e, l->id);
    sqlite3_reset(st);
    return rc;
}

int sl_feature_fid_by_key(store *s, const struct layer *l, const char *key, long long *fid,
                             struct err *e)
{
    sqlite3_stmt *st;
    int rc = 0;
    if (!(st = sl_prepf(s, e, "SELECT fid FROM \"%s\" WHERE \"%s\" = ?", l->id, l->key)))
        return e->code;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        *fid = sqlite3_column_int64(st, 0);
    else
        rc = err_set(e, ERR_NOT_FOUND, "%s: no feature with %s '%s'", l->id, l->key, key);
    sqlite3_reset(st);
    return rc;
}


int sl_feature_update(store *s, const struct layer *l, long long fid, long long version,
                         const struct value *vals, const unsigned char *wkb, size_t wkb_len,
                         const char *gj, double area_m2, struct err *e)
{
    struct buf b, blob;
    sqlite3_stmt *st;
    size_t i;
    int rc = 0;
    buf_init(&b);
    buf_init(&blob);
    /* the version it replaces first (a statement of its own, prepared
     * before the update's) */
    if ((rc = sl_past_retire(s, l, fid, e)))
        goto out;
    buf_printf(&b, "UPDATE \"%s\" SET version = ?1, area_m2 = ?2, gj = ?3, geom = ?4,"
               " since = coalesce(?%zu, %s)", l->id, l->n_fields + 6, STORE_NOW);
    for (i = 0; i < l->n_fields; i++)
        buf_printf(&b, ", \"%s\" = ?%zu", l->fields[i].name, i + 6);
    buf_puts(&b, " WHERE fid = ?5");
    if (b.oom || !(st = sl_prep(s, b.data, e))) {
        rc = b.oom ? err_set(e, ERR_INTERNAL, "out of memory") : e->code;
        goto out;
    }
    if (splite_from_wkb(wkb, wkb_len, 4490, &blob)) {
        rc = err_set(e, ERR_INVALID, "%s: geometry: not a 2D geometry the database can store",
                     l->id);
        goto out;
    }
    sqlite3_bind_int64(st, 1, version);
    sqlite3_bind_double(st, 2, area_m2);
    sqlite3_bind_text(st, 3, gj, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, blob.data, (int)blob.len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, fid);
    for (i = 0; i < l->n_fields; i++)
        sl_bind_value(st, (int)i + 6, &vals[i]);
    sqlite3_bind_text(st, (int)l->n_fields + 6, sl_write_time(s), -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = sl_db_err(s, e, l->id);
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

int sl_feature_delete(store *s, const struct layer *l, long long fid, struct err *e)
{
    sqlite3_stmt *st;
    int rc = 0;
    if ((rc = sl_past_retire(s, l, fid, e)) ||
        !(st = sl_prepf(s, e, "DELETE FROM \"%s\" WHERE fid = ?", l->id)))
        return rc ? rc : e->code;
    sqlite3_bind_int64(st, 1, fid);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sl_db_err(s, e, l->id);
    else if (sqlite3_changes(s->db) != 1)
        rc = err_set(e, ERR_NOT_FOUND, "%s/%lld: no such feature", l->id, fid);
    sqlite3_reset(st);
    return rc;
}

int sl_key_fids(store *s, const struct layer *l, store_key_fn fn, void *arg, struct err *e)
{
    sqlite3_stmt *st;
    int step, rc = 0;
    if (!(st = sl_prepf(s, e, "SELECT \"%s\", fid FROM \"%s\"", l->key, l->id)))
        return e->code;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = fn(arg, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
                     e)))
            break;
    return sl_rows_end(s, st, step, rc, l->id, e);
}
