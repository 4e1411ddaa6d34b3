/* store: the one seam to the database, whichever it is. A store is opened
 * on a file (SQLite + SpatiaLite, sl_*.c) or on a libpq URL (PostgreSQL +
 * PostGIS, pg_*.c); every operation goes to the backend that opened it. */
#include "store.h"

#include <stdio.h>
#include <string.h>

#include "pg.h"
#include "sl.h"
#include "store_int.h"

#define OPS(s) ((s)->ops)

int store_is_url(const char *db)
{
    return !strncmp(db, "postgresql://", 13) || !strncmp(db, "postgres://", 11);
}

void store_shown(const char *db, char *out, size_t n)
{
    const char *at = strchr(db, '@'), *scheme = strstr(db, "://");
    const char *colon = store_is_url(db) && scheme && at && at > scheme
                            ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3))
                            : NULL;
    if (colon)
        snprintf(out, n, "%.*s:***%s", (int)(colon - db), db, at);
    else
        snprintf(out, n, "%s", db);
}

int store_open(const char *db, int flags, store **out, struct err *e)
{
    if (store_is_url(db))
        return pg_open(db, flags, out, e);
    return sl_open(db, flags, out, e);
}

enum store_dialect store_dialect(const store *s)
{
    return s->pg ? STORE_PG : STORE_SQLITE;
}

void store_set_memory(long cache_mib, long mmap_mib)
{
    sl_set_memory(cache_mib, mmap_mib);
}

int store_history_add(store *s, const struct layer *l, long long fid, long long version,
                      const char *op, const char *by, const char *change_id, const char *feature,
                      struct err *e)
{
    return store_history_add_at(s, l, fid, version, op, NULL, by, change_id, feature, e);
}

void store_close(store *s)
{
    if (s)
        OPS(s)->close(s);
}

int store_degraded(const store *s)
{
    return s && OPS(s)->degraded(s);
}

void store_set_cancel(store *s, struct cancel *c)
{
    OPS(s)->set_cancel(s, c);
}

int store_init(store *s, const char *layers_json, struct err *e)
{
    return OPS(s)->init(s, layers_json, e);
}

int store_layers_get(store *s, struct layers **out, struct err *e)
{
    return OPS(s)->layers_get(s, out, e);
}

int store_begin(store *s, struct err *e)
{
    int rc = OPS(s)->begin(s, e);
    if (!rc)
        instant_now(s->write_at);
    return rc;
}

/* The open transaction's time, or NULL outside one (the backend's now). */
static const char *write_time(const store *s)
{
    return s->write_at[0] ? s->write_at : NULL;
}

void store_set_write_time(store *s, const char *at)
{
    snprintf(s->write_at, sizeof s->write_at, "%s", at);
}

const char *store_write_time(const store *s)
{
    return s->write_at;
}

int store_commit(store *s, struct err *e)
{
    s->write_at[0] = '\0';
    return OPS(s)->commit(s, e);
}

void store_rollback(store *s)
{
    s->write_at[0] = '\0';
    OPS(s)->rollback(s);
}

void store_read_begin(store *s, int solo)
{
    OPS(s)->read_begin(s, solo);
}

int store_read_again(const store *s)
{
    return OPS(s)->read_again ? OPS(s)->read_again(s) : 0;
}

int store_read_count(const store *s)
{
    return OPS(s)->read_count ? OPS(s)->read_count(s) : 0;
}

void store_read_end(store *s)
{
    OPS(s)->read_end(s);
}

int store_feature_insert(store *s, const struct layer *l, const struct value *vals,
                         const unsigned char *wkb, size_t wkb_len, const char *gj, double area_m2,
                         long long *fid, struct err *e)
{
    return OPS(s)->feature_insert(s, l, vals, wkb, wkb_len, gj, area_m2, fid, e);
}

int store_feature_insert_blob(store *s, const struct layer *l, const struct value *vals,
                              const unsigned char *blob, size_t blob_len, const char *gj,
                              double area_m2, long long *fid, struct err *e)
{
    return OPS(s)->feature_insert_blob(s, l, vals, blob, blob_len, gj, area_m2, fid, e);
}

int store_bulk_begin(store *s, const struct layer *l, struct err *e)
{
    return OPS(s)->bulk_begin(s, l, e);
}

int store_bulk_end(store *s, const struct layer *l, struct store_box *boxes, size_t n,
                   struct err *e)
{
    return OPS(s)->bulk_end(s, l, boxes, n, e);
}

int store_bulk_first_fid(store *s, const struct layer *l, long long *fid, struct err *e)
{
    return OPS(s)->bulk_first_fid(s, l, fid, e);
}

int store_bulk_insert(store *s, const struct layer *l, long long first_fid,
                      const struct store_new_row *rows, size_t n, struct err *e)
{
    return OPS(s)->bulk_insert(s, l, first_fid, rows, n, e);
}

int store_history_add_range(store *s, const struct layer *l, long long first, long long last,
                            const char *op, const char *at, const char *by, const char *change_id,
                            struct err *e)
{
    return OPS(s)->history_add_range(s, l, first, last, op, at ? at : write_time(s), by, change_id,
                                     e);
}

/* An asof read of a database that keeps no past versions yet. */
static int no_past(struct err *e)
{
    return err_set(e, ERR_PARAM, "asof: this database was made by an earlier onemap and keeps no "
                                 "past versions yet; open it once for writing (onemap serve, "
                                 "import) to bring it up to date from its history");
}

int store_query_rows(store *s, const struct store_query *q, store_row_fn fn, void *arg,
                     struct err *e)
{
    if (q->asof && s->no_past)
        return no_past(e);
    return OPS(s)->query_rows(s, q, fn, arg, e);
}

int store_query_rows_many(store *s, const struct store_query *qs, size_t n, store_row_fn fn,
                          void *const *args, struct err *e)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        if (qs[i].asof && s->no_past)
            return no_past(e);
    if (OPS(s)->query_rows_many)
        return OPS(s)->query_rows_many(s, qs, n, fn, args, e);
    for (size_t i = 0; i < n && !rc; i++)
        rc = OPS(s)->query_rows(s, &qs[i], fn, args[i], e);
    return rc;
}

int store_boxes(store *s, const struct layer *l, const double rects[][4], int n_rects,
                store_box_fn fn, void *arg, struct err *e)
{
    return OPS(s)->boxes(s, l, rects, n_rects, fn, arg, e);
}

int store_query_count(store *s, const struct store_query *q, long long *count, struct err *e)
{
    if (q->asof && s->no_past)
        return no_past(e);
    return OPS(s)->query_count(s, q, count, e);
}

int store_feature_wkb(store *s, const struct layer *l, long long fid, unsigned char **wkb,
                      size_t *len, struct err *e)
{
    return OPS(s)->feature_wkb(s, l, fid, wkb, len, e);
}

int store_feature_fid_by_key(store *s, const struct layer *l, const char *key, long long *fid,
                             struct err *e)
{
    return OPS(s)->feature_fid_by_key(s, l, key, fid, e);
}

int store_feature_update(store *s, const struct layer *l, long long fid, long long version,
                         const struct value *vals, const unsigned char *wkb, size_t wkb_len,
                         const char *gj, double area_m2, struct err *e)
{
    return OPS(s)->feature_update(s, l, fid, version, vals, wkb, wkb_len, gj, area_m2, e);
}

int store_feature_delete(store *s, const struct layer *l, long long fid, struct err *e)
{
    return OPS(s)->feature_delete(s, l, fid, e);
}

int store_history_add_at(store *s, const struct layer *l, long long fid, long long version,
                         const char *op, const char *at, const char *by, const char *change_id,
                         const char *feature, struct err *e)
{
    return OPS(s)->history_add_at(s, l, fid, version, op, at ? at : write_time(s), by, change_id,
                                  feature, e);
}

/* One write of a batch through the single-row operations. */
static int write_one(store *s, const struct layer *l, struct store_write *w, const char *at,
                     const char *by, const char *change_id, struct err *e)
{
    const struct store_ops *o = OPS(s);
    int rc;
    switch (w->op) {
    case STORE_WRITE_INSERT:
        rc = w->blob ? o->feature_insert_blob(s, l, w->vals, w->blob, w->blob_len, w->gj,
                                              w->area_m2, &w->fid, e)
                     : o->feature_insert(s, l, w->vals, w->wkb, w->wkb_len, w->gj, w->area_m2,
                                         &w->fid, e);
        return rc ? rc : o->history_add_at(s, l, w->fid, 1, "import", at, by, change_id, NULL, e);
    case STORE_WRITE_UPDATE:
        if ((rc = o->history_keep(s, l, w->fid, w->version, w->kept, e)) ||
            (rc = o->feature_update(s, l, w->fid, w->version + 1, w->vals, w->wkb, w->wkb_len,
                                    w->gj, w->area_m2, e)))
            return rc;
        return o->history_add_at(s, l, w->fid, w->version + 1, "import", at, by, change_id, NULL,
                                 e);
    default:
        if ((rc = o->history_keep(s, l, w->fid, w->version, w->kept, e)) ||
            (rc = o->feature_delete(s, l, w->fid, e)))
            return rc;
        return o->history_add_at(s, l, w->fid, w->version + 1, "delete", at, by, change_id, w->kept,
                                 e);
    }
}

int store_write_batch(store *s, const struct layer *l, struct store_write *w, size_t n,
                      const char *at, const char *by, const char *change_id, size_t *failed,
                      struct err *e)
{
    *failed = n;
    if (!at)
        at = write_time(s);
    if (OPS(s)->write_batch)
        return OPS(s)->write_batch(s, l, w, n, at, by, change_id, failed, e);
    for (size_t i = 0; i < n; i++) {
        int rc = write_one(s, l, &w[i], at, by, change_id, e);
        if (rc) {
            *failed = i;
            return rc;
        }
    }
    return 0;
}

int store_history_keep(store *s, const struct layer *l, long long fid, long long version,
                       const char *feature, struct err *e)
{
    return OPS(s)->history_keep(s, l, fid, version, feature, e);
}

int store_history_rows(store *s, const struct layer *l, long long fid, store_version_fn fn,
                       void *arg, struct err *e)
{
    return OPS(s)->history_rows(s, l, fid, fn, arg, e);
}

int store_change_rows(store *s, long long since, long long limit, int features, store_version_fn fn,
                      void *arg, struct err *e)
{
    return OPS(s)->change_rows(s, since, limit, features, fn, arg, e);
}

int store_history_put(store *s, const struct store_version *v, struct err *e)
{
    return OPS(s)->history_put(s, v, e);
}

int store_schema_json(store *s, char **json, struct err *e)
{
    return OPS(s)->schema_json(s, json, e);
}

int store_token_put(store *s, const struct store_token_row *t, struct err *e)
{
    return OPS(s)->token_put(s, t, e);
}

int store_token_add(store *s, const char *name, const char *id, const unsigned char *hash,
                    size_t hash_len, const char *role, const char *grids, struct err *e)
{
    return OPS(s)->token_add(s, name, id, hash, hash_len, role, grids, e);
}

int store_token_get(store *s, const char *id, struct store_token *t, struct err *e)
{
    return OPS(s)->token_get(s, id, t, e);
}

int store_token_rows(store *s, store_token_fn fn, void *arg, struct err *e)
{
    return OPS(s)->token_rows(s, fn, arg, e);
}

int store_token_revoke(store *s, const char *name, struct err *e)
{
    return OPS(s)->token_revoke(s, name, e);
}

int store_key_fids(store *s, const struct layer *l, store_key_fn fn, void *arg, struct err *e)
{
    return OPS(s)->key_fids(s, l, fn, arg, e);
}

int store_layer_count_upto(store *s, const struct layer *l, long long limit, long long *count,
                           struct err *e)
{
    return OPS(s)->layer_count_upto(s, l, limit, count, e);
}

int store_layer_extent(store *s, const struct layer *l, double ext[4], long long *count,
                       struct err *e)
{
    return OPS(s)->layer_extent(s, l, ext, count, e);
}

int store_layer_totals(store *s, const struct layer *l, long long *count, double *area_m2,
                       struct err *e)
{
    return OPS(s)->layer_totals(s, l, count, area_m2, e);
}

int store_data_version(store *s, long long *version, struct err *e)
{
    return OPS(s)->data_version(s, version, e);
}

int store_listen(store *s, struct err *e)
{
    return OPS(s)->listen(s, e);
}

int store_changes_wait(store *s, int timeout_ms, store_change_fn fn, void *arg, struct err *e)
{
    return OPS(s)->changes_wait(s, timeout_ms, fn, arg, e);
}

int store_changes_fd(store *s)
{
    return OPS(s)->changes_fd(s);
}

unsigned long long store_commit_position(const store *s)
{
    return OPS(s)->commit_position ? OPS(s)->commit_position(s) : 0;
}

int store_position(store *s, enum store_pos which, unsigned long long *pos, struct err *e)
{
    *pos = 0;
    if (!OPS(s)->position)
        return err_set(e, ERR_NOT_FOUND, "database: no replication positions (%s)", OPS(s)->name);
    return OPS(s)->position(s, which, pos, e);
}

unsigned long long store_read_position(const store *s)
{
    return OPS(s)->read_position ? OPS(s)->read_position(s) : STORE_POS_ALL;
}

void store_position_text(unsigned long long pos, char *out, size_t n)
{
    snprintf(out, n, "%llX/%llX", pos >> 32, pos & 0xffffffffull);
}

int store_position_parse(const char *text, unsigned long long *pos)
{
    unsigned long long part[2] = {0, 0};
    const char *c = text;
    for (int i = 0; i < 2; i++) {
        int digits = 0;
        for (; *c && *c != '/'; c++, digits++) {
            int d = *c >= '0' && *c <= '9'   ? *c - '0'
                    : *c >= 'a' && *c <= 'f' ? *c - 'a' + 10
                    : *c >= 'A' && *c <= 'F' ? *c - 'A' + 10
                                             : -1;
            if (d < 0 || digits == 8)
                return -1;
            part[i] = part[i] * 16 + (unsigned)d;
        }
        if (!digits || (i == 0 && *c++ != '/'))
            return -1;
    }
    if (*c)
        return -1;
    *pos = part[0] << 32 | part[1];
    return 0;
}

int store_past_rebuild(store *s, const struct layer *l, struct err *e)
{
    return OPS(s)->past_rebuild(s, l, e);
}
