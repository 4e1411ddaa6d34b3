/* sl_query (SQLite backend): reading a layer's rows — by boxes (the R-tree),
 * equalities, a compiled filter, sorted and paged — and counting them. */
#include "store.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "splite.h"
#include "sl_int.h"

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

/* Builds FROM/WHERE for q and binds nothing; parameters are numbered in the
 * order bind_where binds them. past: over the layer's past versions (their
 * own table and R-tree, keyed by pid) instead of its live rows; with an
 * asof, each part keeps the rows valid at that instant. */
static void where_sql(const struct store_query *q, struct buf *b, int past)
{
    const struct layer *l = q->layer;
    const char *pre = past ? "onemap_past_" : "", *key = past ? "pid" : "fid";
    int first = 1;
    if (q->n_rects && in_form(q)) {
        /* the ids from the R-tree, then the rows in id order: nothing to
         * sort but ids */
        buf_printf(b, " FROM \"%2$s%1$s\" t WHERE t.%3$s IN (SELECT r.pkid FROM"
                   " \"idx_%2$s%1$s_geom\" r WHERE ", l->id, pre, key);
        rects_sql(b, q->n_rects);
        if (q->min_mbr_area > 0)
            buf_puts(b, " AND (r.xmax - r.xmin) * (r.ymax - r.ymin) >= ?");
        buf_putc(b, ')');
        first = 0;
    } else if (q->n_rects) {
        buf_printf(b, " FROM \"idx_%2$s%1$s_geom\" r JOIN \"%2$s%1$s\" t ON t.%3$s = r.pkid"
                   " WHERE ", l->id, pre, key);
        rects_sql(b, q->n_rects);
        if (q->min_mbr_area > 0)
            buf_puts(b, " AND (r.xmax - r.xmin) * (r.ymax - r.ymin) >= ?");
        first = 0;
    } else {
        buf_printf(b, " FROM \"%s%s\" t", pre, l->id);
    }
    for (size_t i = 0; i < q->n_eq; i++) {
        buf_printf(b, " %s t.\"%s\" = ?", first ? "WHERE" : "AND", l->fields[q->eq[i].field].name);
        first = 0;
    }
    if (q->fid > 0) {
        buf_printf(b, " %s t.fid = ?", first ? "WHERE" : "AND");
        first = 0;
    }
    if (q->filter && q->filter->sql) {
        buf_printf(b, " %s (%s)", first ? "WHERE" : "AND", q->filter->sql);
        first = 0;
    }
    if (q->asof)
        buf_printf(b, " %s %s", first ? "WHERE" : "AND",
                   past ? "t.valid_from <= ? AND t.valid_to > ?" : "t.since <= ?");
}

/* FROM/WHERE over the rows valid at q->asof: the live ones and the past
 * ones, selected alike by cols (the select list, from "SELECT" on). */
static void asof_sql(const struct store_query *q, struct buf *b, const char *cols)
{
    buf_printf(b, " FROM (%s", cols);
    where_sql(q, b, 0);
    buf_printf(b, " UNION ALL %s", cols);
    where_sql(q, b, 1);
    buf_puts(b, ") t");
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

static int bind_part(sqlite3_stmt *st, int idx, const struct store_query *q, int past)
{
    idx = bind_rects(st, idx, q->rects, q->n_rects);
    if (q->n_rects && q->min_mbr_area > 0)
        sqlite3_bind_double(st, idx++, q->min_mbr_area);
    for (size_t i = 0; i < q->n_eq; i++)
        sl_bind_value(st, idx++, &q->eq[i].v);
    if (q->fid > 0)
        sqlite3_bind_int64(st, idx++, q->fid);
    for (size_t i = 0; q->filter && i < q->filter->n_binds; i++)
        bind_one(st, idx++, &q->filter->binds[i]);
    if (q->asof) {
        sqlite3_bind_text(st, idx++, q->asof, -1, SQLITE_STATIC);
        if (past)
            sqlite3_bind_text(st, idx++, q->asof, -1, SQLITE_STATIC);
    }
    return idx;
}

/* Binds where_sql's (or asof_sql's) parameters; returns the next index. */
static int bind_where(sqlite3_stmt *st, const struct store_query *q)
{
    int idx = bind_part(st, 1, q, 0);
    return q->asof ? bind_part(st, idx, q, 1) : idx;
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
    sqlite3_stmt *st = sl_prep(s, "SELECT AsBinary(?)", &ignored);
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

int sl_query_rows(store *s, const struct store_query *q, store_row_fn fn, void *arg,
                     struct err *e)
{
    const struct layer *l = q->layer;
    struct value *vals = NULL;
    struct store_row row;
    struct buf b, wkb, cols;
    sqlite3_stmt *st;
    int rc = 0, step, idx;
    buf_init(&b);
    buf_init(&wkb);
    buf_init(&cols);
    buf_puts(&cols, q->skip_gj ? "SELECT t.fid, t.version, t.area_m2, NULL"
                               : "SELECT t.fid, t.version, t.area_m2, t.gj");
    buf_puts(&cols, in_form(q)  ? ", t.geom, 0, 0, 0"
                    : q->n_rects ? ", r.xmin, r.ymin, r.xmax, r.ymax"
                                 : ", 0, 0, 0, 0");
    for (size_t i = 0; i < l->n_fields; i++)
        buf_printf(&cols, ", t.\"%s\"", l->fields[i].name);
    if (q->want_wkb)
        buf_puts(&cols, ", t.geom");
    if (cols.oom) {
        rc = err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (q->asof) {
        buf_puts(&b, "SELECT *");
        asof_sql(q, &b, cols.data);
    } else {
        buf_puts(&b, cols.data);
        where_sql(q, &b, 0);
    }
    if (!q->any_order || q->limit >= 0 || q->n_sort)
        order_sql(q, &b);
    if (q->limit >= 0)
        buf_puts(&b, " LIMIT ? OFFSET ?");
    vals = calloc(l->n_fields, sizeof *vals);
    if (b.oom || !vals) {
        rc = err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (!(st = sl_prep(s, b.data, e))) {
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
            sl_column_value(st, 8 + (int)i, &vals[i]);
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
    rc = sl_rows_end(s, st, step, rc, l->id, e);
out:
    free(vals);
    buf_clear(&b);
    buf_clear(&wkb);
    buf_clear(&cols);
    return rc;
}

int sl_boxes(store *s, const struct layer *l, const double rects[][4], int n_rects,
                store_box_fn fn, void *arg, struct err *e)
{
    struct buf b;
    sqlite3_stmt *st;
    int rc = 0, step;
    buf_init(&b);
    buf_printf(&b, "SELECT r.pkid, r.xmin, r.ymin, r.xmax, r.ymax FROM \"idx_%s_geom\" r WHERE ",
               l->id);
    rects_sql(&b, n_rects);
    if (b.oom || !(st = sl_prep(s, b.data, e))) {
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
    return sl_rows_end(s, st, step, rc, l->id, e);
}

int sl_query_count(store *s, const struct store_query *q, long long *count, struct err *e)
{
    struct buf b;
    sqlite3_stmt *st;
    int rc = 0;
    if (!q->filter && !q->n_eq && !q->n_rects && !q->fid && !q->asof)
        return sl_layer_totals(s, q->layer, count, NULL, e); /* kept, O(1) */
    buf_init(&b);
    buf_puts(&b, "SELECT count(*)");
    if (q->asof)
        asof_sql(q, &b, "SELECT 1");
    else
        where_sql(q, &b, 0);
    if (b.oom || !(st = sl_prep(s, b.data, e))) {
        rc = b.oom ? err_set(e, ERR_INTERNAL, "out of memory") : e->code;
        goto out;
    }
    bind_where(st, q);
    if (sqlite3_step(st) == SQLITE_ROW)
        *count = sqlite3_column_int64(st, 0);
    else
        rc = sl_db_err(s, e, q->layer->id);
    sqlite3_reset(st);
out:
    buf_clear(&b);
    return rc;
}
