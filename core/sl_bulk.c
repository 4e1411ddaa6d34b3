/* sl_bulk (SQLite backend): loading a large upload into an empty layer in one
 * transaction — many rows to a statement, the per-row triggers set aside, the
 * spatial index packed in one pass into SQLite's own R-tree format, a small
 * page cache meanwhile. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "store.h"
#include "sl_int.h"

/* ---- bulk loads ---------------------------------------------------------- */

/* A bulk load writes pages once, in order: a small page cache spills them
 * to the WAL while the parsers still work, instead of holding them all for
 * the commit (a third of a 100 000-feature load's time, measured). */
#define BULK_CACHE_KIB 4096

static void bulk_cache_restore(store *s)
{
    char sql[64];
    if (!s->bulk_cache)
        return;
    snprintf(sql, sizeof sql, "PRAGMA cache_size=%lld", s->bulk_cache);
    sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    s->bulk_cache = 0;
}

/* A rollback brings the triggers back itself; the page cache is ours. */
static void bulk_forget(store *s)
{
    free(s->bulk_triggers);
    s->bulk_triggers = NULL;
    bulk_cache_restore(s);
    s->on_rollback = NULL;
}

/* The insert triggers a bulk load does without: SpatiaLite's geometry
 * constraint check (ggi), onemap's R-tree upkeep (gii) and the layer's
 * totals (added once at the end instead). */
int sl_bulk_begin(store *s, const struct layer *l, struct err *e)
{
    char sql[256];
    sqlite3_stmt *st;
    struct buf saved, drop;
    int rc = 0, step;
    snprintf(sql, sizeof sql, "SELECT name, sql FROM sqlite_schema WHERE type = 'trigger'"
             " AND tbl_name = '%1$s' AND name IN ('ggi_%1$s_geom', 'gii_%1$s_geom',"
             " 'onemap_stats_%1$s_i')", l->id);
    s->bulk_rows = 0;
    s->bulk_area = 0;
    s->on_rollback = bulk_forget;
    if (!(st = sl_prep(s, sql, e)))
        return e->code;
    buf_init(&saved);
    buf_init(&drop);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        buf_printf(&drop, "DROP TRIGGER \"%s\";", (const char *)sqlite3_column_text(st, 0));
        buf_printf(&saved, "%s;", (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        rc = sl_db_err(s, e, "triggers");
    else if (saved.oom || drop.oom)
        rc = err_set(e, ERR_INTERNAL, "out of memory");
    else if (drop.len && !(rc = sl_exec(s, drop.data, e))) {
        free(s->bulk_triggers);
        s->bulk_triggers = buf_steal(&saved);
    }
    buf_clear(&saved);
    buf_clear(&drop);
    if (!rc && !s->bulk_cache && (st = sl_prep(s, "PRAGMA cache_size", e))) {
        long long now = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
        if (now && (now < 0 ? -now : now * 8) > BULK_CACHE_KIB) {
            char set[64];
            snprintf(set, sizeof set, "PRAGMA cache_size=-%d", BULK_CACHE_KIB);
            if (sqlite3_exec(s->db, set, NULL, NULL, NULL) == SQLITE_OK)
                s->bulk_cache = now;
        }
    }
    return rc;
}

/* SQLite's R-tree stores each box in 32-bit floats, the low edge rounded
 * down and the high edge up, exactly as these do (so a packed index holds
 * the very values the module would have written). */
#define RT_TOWARDS (1.0 - 1.0 / 8388608.0)
#define RT_AWAY (1.0 + 1.0 / 8388608.0)

static float rt_down(double d)
{
    float f = (float)d;
    if (f > d)
        f = (float)(d * (d < 0 ? RT_AWAY : RT_TOWARDS));
    return f;
}

static float rt_up(double d)
{
    float f = (float)d;
    if (f < d)
        f = (float)(d * (d < 0 ? RT_TOWARDS : RT_AWAY));
    return f;
}

struct rt_ent {
    long long id;  /* a feature's fid in a leaf, a child's node number above */
    float b[4];    /* xmin, xmax, ymin, ymax: the module's column order */
};

static int rt_by_x(const void *a, const void *b)
{
    const struct rt_ent *x = a, *y = b;
    double u = (double)x->b[0] + x->b[1], v = (double)y->b[0] + y->b[1];
    return u < v ? -1 : u > v;
}

static int rt_by_y(const void *a, const void *b)
{
    const struct rt_ent *x = a, *y = b;
    double u = (double)x->b[2] + x->b[3], v = (double)y->b[2] + y->b[3];
    return u < v ? -1 : u > v;
}

static void put_be(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

struct rt_writer {
    store *s;
    sqlite3_stmt *node, *rowid, *parent;
    unsigned char *blob;
    int node_size, max_cells;
    long long next_node;
    long long (*leaf_of)[2]; /* feature id, leaf node: written at the end in id order */
    size_t n_leaf_of;
};

static int by_first(const void *a, const void *b)
{
    const long long *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Writes one node of cells ents[0..n) at depth (0: a leaf); its box goes
 * into *up. Node 1 is the root and carries the tree's depth. */
static int rt_node(struct rt_writer *w, long long nodeno, int depth, int tree_depth,
                   const struct rt_ent *ents, size_t n, struct rt_ent *up, struct err *e)
{
    unsigned char *p = w->blob;
    sqlite3_stmt *link = w->parent;
    memset(p, 0, (size_t)w->node_size);
    put_be(p, nodeno == 1 ? (uint64_t)tree_depth : 0, 2);
    put_be(p + 2, n, 2);
    up->id = nodeno;
    for (size_t i = 0; i < n; i++) {
        unsigned char *c = p + 4 + i * 24;
        put_be(c, (uint64_t)ents[i].id, 8);
        for (int k = 0; k < 4; k++) {
            uint32_t bits;
            memcpy(&bits, &ents[i].b[k], 4);
            put_be(c + 8 + 4 * k, bits, 4);
        }
        if (i == 0) {
            memcpy(up->b, ents[i].b, sizeof up->b);
        } else {
            if (ents[i].b[0] < up->b[0]) up->b[0] = ents[i].b[0];
            if (ents[i].b[1] > up->b[1]) up->b[1] = ents[i].b[1];
            if (ents[i].b[2] < up->b[2]) up->b[2] = ents[i].b[2];
            if (ents[i].b[3] > up->b[3]) up->b[3] = ents[i].b[3];
        }
        /* leaves: feature -> node (kept for later); above: child node -> parent */
        if (depth == 0) {
            w->leaf_of[w->n_leaf_of][0] = ents[i].id;
            w->leaf_of[w->n_leaf_of++][1] = nodeno;
            continue;
        }
        sqlite3_bind_int64(link, 1, ents[i].id);
        sqlite3_bind_int64(link, 2, nodeno);
        if (sqlite3_step(link) != SQLITE_DONE) {
            sqlite3_reset(link);
            return sl_db_err(w->s, e, "spatial index");
        }
        sqlite3_reset(link);
    }
    sqlite3_bind_int64(w->node, 1, nodeno);
    sqlite3_bind_blob(w->node, 2, p, w->node_size, SQLITE_STATIC);
    if (sqlite3_step(w->node) != SQLITE_DONE) {
        sqlite3_reset(w->node);
        return sl_db_err(w->s, e, "spatial index");
    }
    sqlite3_reset(w->node);
    return 0;
}

/* Sort-tile-recursive packing: each level is cut into vertical slices of
 * about sqrt(nodes) nodes by x, each slice filled with full nodes by y; the
 * nodes' boxes make the next level up, until one node holds the rest and
 * becomes the root. */
static int rt_pack(struct rt_writer *w, struct rt_ent *ents, size_t n, struct err *e)
{
    size_t m = (size_t)w->max_cells;
    int depth = 0;
    /* the depth is written into the root, so count the levels first */
    for (size_t k = n; k > m; k = (k + m - 1) / m)
        depth++;
    for (int level = 0;; level++) {
        size_t nodes = (n + m - 1) / m, slices, per_slice, out = 0;
        struct rt_ent up;
        if (n <= m)
            return rt_node(w, 1, level, depth, ents, n, &up, e);
        for (slices = 1; slices * slices < nodes; slices++)
            ;
        per_slice = slices * m;
        qsort(ents, n, sizeof *ents, rt_by_x);
        for (size_t i = 0; i < n; i += per_slice) {
            size_t len = n - i < per_slice ? n - i : per_slice;
            qsort(ents + i, len, sizeof *ents, rt_by_y);
            for (size_t j = 0; j < len; j += m) {
                int rc = rt_node(w, w->next_node++, level, depth, ents + i + j,
                                 len - j < m ? len - j : m, &up, e);
                if (rc)
                    return rc;
                ents[out++] = up; /* the level above, in place: out <= i + j */
            }
        }
        n = out;
    }
}

int sl_bulk_end(store *s, const struct layer *l, struct store_box *boxes, size_t n,
                   struct err *e)
{
    char sql[256];
    sqlite3_stmt *st;
    struct rt_writer w;
    struct rt_ent *ents = NULL;
    int rc = 0;
    memset(&w, 0, sizeof w);
    w.s = s;
    w.next_node = 2;
    /* the node size the index was made with (its root's), kept */
    if (!(st = sl_prepf(s, e, "SELECT length(data) FROM \"idx_%s_geom_node\" WHERE nodeno = 1",
             l->id)))
        return e->code;
    if (sqlite3_step(st) == SQLITE_ROW)
        w.node_size = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    w.max_cells = (w.node_size - 4) / 24;
    if (w.max_cells < 4 || w.max_cells > 65535)
        return err_set(e, ERR_INTERNAL, "%s: spatial index has no usable root node", l->id);
    snprintf(sql, sizeof sql, "DELETE FROM \"idx_%1$s_geom_node\"; DELETE FROM"
             " \"idx_%1$s_geom_rowid\"; DELETE FROM \"idx_%1$s_geom_parent\";", l->id);
    if ((rc = sl_exec(s, sql, e)))
        return rc;
    if (!(ents = malloc((n ? n : 1) * sizeof *ents)) ||
        !(w.leaf_of = malloc((n ? n : 1) * sizeof *w.leaf_of)) ||
        !(w.blob = malloc((size_t)w.node_size))) {
        free(ents);
        free(w.leaf_of);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        ents[i].id = boxes[i].fid;
        ents[i].b[0] = rt_down(boxes[i].minx);
        ents[i].b[1] = rt_up(boxes[i].maxx);
        ents[i].b[2] = rt_down(boxes[i].miny);
        ents[i].b[3] = rt_up(boxes[i].maxy);
    }
    snprintf(sql, sizeof sql, "INSERT INTO \"idx_%s_geom_node\" (nodeno, data) VALUES (?, ?)",
             l->id);
    w.node = sl_prep(s, sql, e);
    snprintf(sql, sizeof sql, "INSERT INTO \"idx_%s_geom_rowid\" (rowid, nodeno) VALUES (?, ?)",
             l->id);
    w.rowid = w.node ? sl_prep(s, sql, e) : NULL;
    snprintf(sql, sizeof sql,
             "INSERT INTO \"idx_%s_geom_parent\" (nodeno, parentnode) VALUES (?, ?)", l->id);
    w.parent = w.rowid ? sl_prep(s, sql, e) : NULL;
    rc = w.parent ? rt_pack(&w, ents, n, e) : e->code;
    /* the id -> leaf table in id order: appended, not inserted all over */
    qsort(w.leaf_of, w.n_leaf_of, sizeof *w.leaf_of, by_first);
    for (size_t i = 0; !rc && i < w.n_leaf_of; i++) {
        sqlite3_bind_int64(w.rowid, 1, w.leaf_of[i][0]);
        sqlite3_bind_int64(w.rowid, 2, w.leaf_of[i][1]);
        if (sqlite3_step(w.rowid) != SQLITE_DONE)
            rc = sl_db_err(s, e, "spatial index");
        sqlite3_reset(w.rowid);
    }
    free(ents);
    free(w.leaf_of);
    free(w.blob);
    if (!rc)
        rc = sl_stats_bulk_add(s, l, e);
    if (!rc && s->bulk_triggers && !(rc = sl_exec(s, s->bulk_triggers, e))) {
        free(s->bulk_triggers);
        s->bulk_triggers = NULL;
    }
    if (!rc)
        bulk_forget(s);
    return rc;
}

/* ---- bulk rows ---------------------------------------------------------- */

#define BULK_ROWS 32 /* rows per INSERT statement */

int sl_bulk_first_fid(store *s, const struct layer *l, long long *fid, struct err *e)
{
    sqlite3_stmt *st;
    int rc = 0;
    /* AUTOINCREMENT's counter (never reused ids) and the table's own */
    if (!(st = sl_prepf(s, e, "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE"
             " name = '%s'), 0), coalesce((SELECT max(fid) FROM \"%s\"), 0)) + 1", l->id, l->id)))
        return e->code;
    if (sqlite3_step(st) == SQLITE_ROW)
        *fid = sqlite3_column_int64(st, 0);
    else
        rc = sl_db_err(s, e, l->id);
    sqlite3_reset(st);
    return rc;
}

/* INSERT of m rows with their ids given. */
static sqlite3_stmt *bulk_stmt(store *s, const struct layer *l, size_t m, struct err *e)
{
    struct buf b;
    sqlite3_stmt *st;
    buf_init(&b);
    buf_printf(&b, "INSERT INTO \"%s\" (since, fid, version, area_m2, gj, geom", l->id);
    for (size_t i = 0; i < l->n_fields; i++)
        buf_printf(&b, ", \"%s\"", l->fields[i].name);
    buf_puts(&b, ") VALUES ");
    /* every row's since is ?1, the write time; the rest numbered on */
    for (size_t r = 0; r < m; r++) {
        buf_puts(&b, r ? ",(?1,?" : "(?1,?");
        for (size_t i = 1; i < 5 + l->n_fields; i++)
            buf_puts(&b, ",?");
        buf_putc(&b, ')');
    }
    st = b.oom ? (err_set(e, ERR_INTERNAL, "out of memory"), NULL) : sl_prep(s, b.data, e);
    buf_clear(&b);
    return st;
}

int sl_bulk_insert(store *s, const struct layer *l, long long first_fid,
                      const struct store_new_row *rows, size_t n, struct err *e)
{
    sqlite3_stmt *full = NULL;
    size_t per = 5 + l->n_fields;
    for (size_t done = 0; done < n;) {
        size_t m = n - done < BULK_ROWS ? n - done : BULK_ROWS;
        sqlite3_stmt *st;
        int k = 2;
        if (m == BULK_ROWS && !full && !(full = bulk_stmt(s, l, m, e)))
            return e->code;
        if (!(st = m == BULK_ROWS ? full : bulk_stmt(s, l, m, e)))
            return e->code;
        sqlite3_bind_text(st, 1, sl_write_time(s) ? sl_write_time(s) : "", -1, SQLITE_STATIC);
        for (size_t r = 0; r < m; r++, k += (int)per) {
            const struct store_new_row *row = &rows[done + r];
            sqlite3_bind_int64(st, k, first_fid + (long long)(done + r));
            sqlite3_bind_int64(st, k + 1, row->version ? row->version : 1);
            sqlite3_bind_double(st, k + 2, row->area_m2);
            sqlite3_bind_text(st, k + 3, row->gj, -1, SQLITE_STATIC);
            sqlite3_bind_blob(st, k + 4, row->blob, (int)row->blob_len, SQLITE_STATIC);
            for (size_t i = 0; i < l->n_fields; i++)
                sl_bind_value(st, k + 5 + (int)i, &row->vals[i]);
        }
        if (sqlite3_step(st) != SQLITE_DONE) {
            int rc = sl_db_err(s, e, l->id);
            sqlite3_reset(st);
            return rc;
        }
        sqlite3_reset(st);
        done += m;
    }
    s->bulk_rows += (long long)n;
    for (size_t r = 0; r < n; r++)
        s->bulk_area += rows[r].area_m2;
    return 0;
}

int sl_history_add_range(store *s, const struct layer *l, long long first, long long last,
                            const char *op, const char *at, const char *by,
                            const char *change_id, struct err *e)
{
    sqlite3_stmt *st;
    int rc = 0;
    if (!(st = sl_prepf(s, e, "WITH RECURSIVE f(x) AS (SELECT ?1 UNION ALL SELECT x + 1 FROM f"
             " WHERE x < ?2) INSERT INTO onemap_history (collection, fid, version, op, at, by,"
             " change_id, feature) SELECT ?3, x, 1, ?4, coalesce(?5, %s), ?6, ?7, '' FROM f",
             STORE_NOW)))
        return e->code;
    sqlite3_bind_int64(st, 1, first);
    sqlite3_bind_int64(st, 2, last);
    sqlite3_bind_text(st, 3, l->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, op, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, by, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, change_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sl_db_err(s, e, "history");
    sqlite3_reset(st);
    return rc;
}
