/* sl_past (SQLite backend): the versions a layer's features had before. Each
 * replaced or deleted version keeps its row, valid over [valid_from,
 * valid_to), in a table beside the layer's with an R-tree of its own; the
 * layer's live rows say since when they are valid. A database from before
 * these were kept is brought up to date once, from its history. */
#include "store.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "area.h"
#include "buf.h"
#include "sl_int.h"
#include "splite.h"

#define PAST_VERSION 2 /* onemap_meta's schema_version from which they are kept */

static int exec_buf(store *s, struct buf *b, struct err *e)
{
    return b->oom ? err_set(e, ERR_INTERNAL, "out of memory") : sl_exec(s, b->data, e);
}

int sl_past_create(store *s, const struct layer *l, struct err *e)
{
    struct buf b;
    int rc;
    buf_init(&b);
    buf_printf(&b,
               "CREATE TABLE \"onemap_past_%s\" (pid INTEGER PRIMARY KEY,"
               " fid INTEGER NOT NULL, version INTEGER NOT NULL, area_m2 REAL NOT NULL,"
               " gj TEXT NOT NULL",
               l->id);
    for (size_t i = 0; i < l->n_fields; i++)
        buf_printf(&b, ", \"%s\" %s", l->fields[i].name, sl_field_type(l->fields[i].type));
    buf_printf(&b,
               ", valid_from TEXT NOT NULL, valid_to TEXT NOT NULL);"
               " CREATE INDEX \"onemap_past_%1$s_fid\" ON \"onemap_past_%1$s\"(fid, valid_from);",
               l->id);
    rc = exec_buf(s, &b, e);
    if (!rc) {
        buf_reset(&b);
        buf_printf(&b,
                   "SELECT AddGeometryColumn('onemap_past_%s', 'geom', 4490, 'GEOMETRY',"
                   " 'XY')",
                   l->id);
        rc = sl_select_ok(s, b.data, e);
    }
    if (!rc) {
        buf_reset(&b);
        buf_printf(&b, "SELECT CreateSpatialIndex('onemap_past_%s', 'geom')", l->id);
        rc = sl_select_ok(s, b.data, e);
    }
    if (!rc) {
        /* rows are only ever added and removed: SpatiaLite's per-row
         * function triggers give way to one plain insert, as for the layer */
        buf_reset(&b);
        buf_printf(
            &b,
            "DROP TRIGGER \"gii_onemap_past_%1$s_geom\"; DROP TRIGGER "
            "\"giu_onemap_past_%1$s_geom\";"
            " DROP TRIGGER \"tmi_onemap_past_%1$s_geom\"; DROP TRIGGER "
            "\"tmu_onemap_past_%1$s_geom\";"
            " DROP TRIGGER \"tmd_onemap_past_%1$s_geom\";"
            " CREATE TRIGGER \"gii_onemap_past_%1$s_geom\" AFTER INSERT ON \"onemap_past_%1$s\""
            " FOR EACH ROW BEGIN INSERT OR REPLACE INTO \"idx_onemap_past_%1$s_geom\""
            " (pkid, xmin, xmax, ymin, ymax) SELECT NEW.pid, MbrMinX(NEW.geom), MbrMaxX(NEW.geom),"
            " MbrMinY(NEW.geom), MbrMaxY(NEW.geom) WHERE NEW.geom IS NOT NULL; END;",
            l->id);
        rc = exec_buf(s, &b, e);
    }
    buf_clear(&b);
    return rc;
}

/* The columns a past row copies from the live one, and their names. */
static void copied_columns(struct buf *b, const struct layer *l, const char *alias)
{
    buf_printf(b, "%1$sfid, %1$sversion, %1$sarea_m2, %1$sgj, %1$sgeom", alias);
    for (size_t i = 0; i < l->n_fields; i++)
        buf_printf(b, ", %s\"%s\"", alias, l->fields[i].name);
}

int sl_past_retire(store *s, const struct layer *l, long long fid, struct err *e)
{
    struct buf b;
    sqlite3_stmt *st;
    int rc = 0;
    buf_init(&b);
    buf_printf(&b, "INSERT INTO \"onemap_past_%s\" (", l->id);
    copied_columns(&b, l, "");
    buf_puts(&b, ", valid_from, valid_to) SELECT ");
    copied_columns(&b, l, "t.");
    buf_printf(&b, ", t.since, coalesce(?2, %s) FROM \"%s\" t WHERE t.fid = ?1", STORE_NOW, l->id);
    if (b.oom || !(st = sl_prep(s, b.data, e))) {
        rc = b.oom ? err_set(e, ERR_INTERNAL, "out of memory") : e->code;
        buf_clear(&b);
        return rc;
    }
    buf_clear(&b);
    sqlite3_bind_int64(st, 1, fid);
    sqlite3_bind_text(st, 2, sl_write_time(s), -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sl_db_err(s, e, l->id);
    sqlite3_reset(st);
    return rc;
}

/* ---- areas of rebuilt rows ---------------------------------------------- */

struct wkb {
    const unsigned char *p, *end;
};

static int rd_u32(struct wkb *w, int le, uint32_t *v)
{
    if (w->end - w->p < 4)
        return -1;
    *v = le ? (uint32_t)w->p[0] | (uint32_t)w->p[1] << 8 | (uint32_t)w->p[2] << 16 |
                  (uint32_t)w->p[3] << 24
            : (uint32_t)w->p[3] | (uint32_t)w->p[2] << 8 | (uint32_t)w->p[1] << 16 |
                  (uint32_t)w->p[0] << 24;
    w->p += 4;
    return 0;
}

static int rd_f64(struct wkb *w, int le, double *v)
{
    uint64_t u = 0;
    if (w->end - w->p < 8)
        return -1;
    for (int k = 0; k < 8; k++)
        u |= (uint64_t)w->p[le ? k : 7 - k] << (8 * k);
    memcpy(v, &u, 8);
    w->p += 8;
    return 0;
}

/* The geodesic area of a (Multi)Polygon's WKB, holes taken out, as the
 * layer's own rows have it; accumulates into *m2. */
static int wkb_area(struct wkb *w, double *m2, int depth)
{
    uint32_t type, n;
    int le;
    if (depth > 4 || w->p >= w->end)
        return -1;
    le = *w->p++ == 1;
    if (rd_u32(w, le, &type) || rd_u32(w, le, &n))
        return -1;
    type %= 1000;
    if (type == 6 || type == 7) {
        for (uint32_t i = 0; i < n; i++)
            if (wkb_area(w, m2, depth + 1))
                return -1;
        return 0;
    }
    if (type != 3)
        return 0; /* not areal: no area (points and lines never reach here) */
    for (uint32_t r = 0; r < n; r++) {
        uint32_t np;
        double *pts;
        if (rd_u32(w, le, &np) || (size_t)(w->end - w->p) < (size_t)np * 16)
            return -1;
        if (!(pts = malloc((np ? np : 1) * 2 * sizeof *pts)))
            return -1;
        for (uint32_t k = 0; k < 2 * np; k++)
            rd_f64(w, le, &pts[k]);
        *m2 += (r ? -1 : 1) * area_ring_m2(pts, np);
        free(pts);
    }
    return 0;
}

static int rebuilt_areas(store *s, const struct layer *l, struct err *e)
{
    sqlite3_stmt *sel, *upd;
    struct buf wkb;
    int rc = 0, step;
    if (!(sel = sl_prepf(s, e, "SELECT pid, geom FROM \"onemap_past_%s\" WHERE area_m2 < 0",
                         l->id)) ||
        !(upd = sl_prepf(s, e, "UPDATE \"onemap_past_%s\" SET area_m2 = ?2 WHERE pid = ?1", l->id)))
        return e->code;
    buf_init(&wkb);
    while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
        const unsigned char *g = sqlite3_column_blob(sel, 1);
        double m2 = 0;
        buf_reset(&wkb);
        if (g && !splite_to_wkb(g, (size_t)sqlite3_column_bytes(sel, 1), &wkb)) {
            struct wkb w = {(const unsigned char *)wkb.data,
                            (const unsigned char *)wkb.data + wkb.len};
            if (wkb_area(&w, &m2, 0))
                m2 = 0;
        }
        sqlite3_bind_int64(upd, 1, sqlite3_column_int64(sel, 0));
        sqlite3_bind_double(upd, 2, m2 < 0 ? -m2 : m2);
        step = sqlite3_step(upd);
        sqlite3_reset(upd);
        if (step != SQLITE_DONE) {
            rc = sl_db_err(s, e, l->id);
            break;
        }
    }
    buf_clear(&wkb);
    return sl_rows_end(s, sel, step, rc, l->id, e);
}

int sl_past_rebuild(store *s, const struct layer *l, struct err *e)
{
    struct buf b;
    sqlite3_stmt *st;
    int rc;
    buf_init(&b);
    /* each copy kept in the history is a version that was replaced: valid
     * from its row's time until the next row of the feature (a delete's
     * row holds the deleted version again, and adds nothing) */
    buf_printf(&b,
               "DELETE FROM \"onemap_past_%s\"; INSERT INTO \"onemap_past_%s\" (fid, version,"
               " area_m2, gj, geom",
               l->id, l->id);
    for (size_t i = 0; i < l->n_fields; i++)
        buf_printf(&b, ", \"%s\"", l->fields[i].name);
    buf_puts(&b, ", valid_from, valid_to) SELECT * FROM (SELECT h.fid, h.version, -1,"
                 " json_extract(h.feature, '$.geometry'),"
                 " SetSRID(GeomFromGeoJSON(json_extract(h.feature, '$.geometry')), 4490)");
    for (size_t i = 0; i < l->n_fields; i++)
        buf_printf(&b, ", json_extract(h.feature, '$.properties.\"%s\"')", l->fields[i].name);
    buf_printf(&b,
               ", h.at, (SELECT min(n.at) FROM onemap_history n WHERE n.collection ="
               " h.collection AND n.fid = h.fid AND n.version > h.version) AS valid_to"
               " FROM onemap_history h WHERE h.collection = '%s' AND h.op <> 'delete'"
               " AND h.feature <> '') WHERE valid_to IS NOT NULL;",
               l->id);
    /* and each live row is valid from its own version's row */
    buf_printf(&b,
               " UPDATE \"%1$s\" SET since = coalesce((SELECT max(h.at) FROM onemap_history"
               " h WHERE h.collection = '%1$s' AND h.fid = \"%1$s\".fid AND h.version ="
               " \"%1$s\".version), '') WHERE since IS NOT coalesce((SELECT max(h.at) FROM"
               " onemap_history h WHERE h.collection = '%1$s' AND h.fid = \"%1$s\".fid AND"
               " h.version = \"%1$s\".version), '');",
               l->id);
    rc = exec_buf(s, &b, e);
    buf_clear(&b);
    (void)st;
    if (!rc)
        rc = rebuilt_areas(s, l, e);
    if (rc)
        err_prefix(e, "layer %s: past versions", l->id);
    return rc;
}

/* ---- upgrade -------------------------------------------------------------- */

static int schema_version(store *s)
{
    sqlite3_stmt *st;
    struct err ignored;
    int v = 0;
    if (!(st = sl_prep(s, "SELECT value FROM onemap_meta WHERE key = 'schema_version'", &ignored)))
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = atoi((const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return v;
}

int sl_past_missing(store *s)
{
    int v = schema_version(s);
    return v > 0 && v < PAST_VERSION;
}

int sl_past_upgrade(store *s, struct err *e)
{
    struct layers *ls = NULL;
    struct buf b;
    int rc;
    if (s->immutable || schema_version(s) < 0 || schema_version(s) >= PAST_VERSION)
        return 0; /* read-only, not initialised yet, or up to date */
    if ((rc = sl_begin(s, e)))
        return rc;
    buf_init(&b);
    if (schema_version(s) < PAST_VERSION) { /* another process may have been first */
        if (!(rc = sl_layers_get(s, &ls, e)))
            for (size_t i = 0; i < ls->n && !rc; i++) {
                buf_reset(&b);
                buf_printf(&b, "ALTER TABLE \"%s\" ADD COLUMN since TEXT NOT NULL DEFAULT ''",
                           ls->v[i].id);
                if (!(rc = exec_buf(s, &b, e)) && !(rc = sl_past_create(s, &ls->v[i], e)))
                    rc = sl_past_rebuild(s, &ls->v[i], e);
            }
        if (!rc)
            rc = sl_exec(s, "UPDATE onemap_meta SET value = '2' WHERE key = 'schema_version'", e);
        layers_free(ls);
    }
    buf_clear(&b);
    if (rc || (rc = sl_commit(s, e)))
        sl_rollback(s);
    if (rc)
        err_prefix(e, "upgrading the database to keep past versions");
    return rc;
}
