/* pg_past (PostgreSQL backend): the versions a layer's features had before.
 * Each replaced or deleted version keeps its row, valid over [valid_from,
 * valid_to), in a table beside the layer's with a GiST index of its own; the
 * layer's live rows say since when they are valid. Instants are text in
 * one form that sorts as the times do, compared byte by byte (COLLATE "C",
 * whatever the database's own collation). The past table has none of the
 * layer's triggers: the kept totals and the change notices are about the
 * live rows. A database from before these were kept is brought up to date
 * once, from its history. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

static int exec_buf(store *s, struct buf *b, struct err *e)
{
    return b->oom ? err_set(e, ERR_INTERNAL, "out of memory") : pg_exec(s, b->data, e);
}

/* The past table's indexes: by place, and each feature's versions by time. */
static void indexes_sql(struct buf *b, const struct layer *l)
{
    buf_printf(b,
               " CREATE INDEX \"onemap_past_%1$s_geom\" ON \"onemap_past_%1$s\" USING gist (geom);"
               " CREATE INDEX \"onemap_past_%1$s_fid\" ON \"onemap_past_%1$s\" (fid, valid_from);",
               l->id);
}

int pg_past_create(store *s, const struct layer *l, struct err *e)
{
    struct buf b;
    int rc;
    buf_init(&b);
    buf_printf(&b,
               "CREATE TABLE \"onemap_past_%s\" (pid bigserial PRIMARY KEY, fid bigint NOT NULL,"
               " version bigint NOT NULL, area_m2 float8 NOT NULL",
               l->id);
    for (size_t i = 0; i < l->n_fields; i++)
        buf_printf(&b, ", \"%s\" %s", l->fields[i].name, pg_field_type(l->fields[i].type));
    buf_puts(&b, ", geom geometry(Geometry, 4490), valid_from text COLLATE \"C\" NOT NULL,"
                 " valid_to text COLLATE \"C\" NOT NULL);");
    indexes_sql(&b, l);
    rc = exec_buf(s, &b, e);
    buf_clear(&b);
    if (rc)
        err_prefix(e, "layer %s: past versions", l->id);
    return rc;
}

/* The columns a past row copies from the live one, by name. */
static void copied_columns(struct buf *b, const struct layer *l, const char *alias)
{
    buf_printf(b, "%1$sfid, %1$sversion, %1$sarea_m2, %1$sgeom", alias);
    for (size_t i = 0; i < l->n_fields; i++)
        buf_printf(b, ", %s\"%s\"", alias, l->fields[i].name);
}

void pg_past_keep(store *s, const struct layer *l, const char *ids, struct buf *b,
                  struct pg_params *p)
{
    /* w is computed once, so that outside a write transaction the version
     * replaced ends at the very instant its successor begins */
    buf_puts(b, "WITH w AS (SELECT coalesce(?::text, " PG_NOW ") AS at), kept AS (INSERT INTO");
    buf_printf(b, " \"onemap_past_%s\" (", l->id);
    copied_columns(b, l, "");
    buf_puts(b, ", valid_from, valid_to) SELECT ");
    copied_columns(b, l, "t.");
    buf_printf(b, ", t.since, w.at FROM \"%s\" t, w WHERE t.fid = ANY(?::bigint[])) ", l->id);
    pg_param_text(p, pg_write_time(s));
    pg_param_text(p, ids);
}

/* ---- rebuilt from the history ------------------------------------------- */

/* A property of the copy (x.p, jsonb) as the column of field f holds it. */
static void property_sql(struct buf *b, const struct field *f)
{
    const char *n = f->name; /* a lower-case identifier: safe in a literal */
    switch (f->type) {
    case FIELD_INTEGER:
    case FIELD_BOOLEAN:
        buf_printf(b,
                   ", CASE jsonb_typeof(x.p -> '%1$s') WHEN 'number' THEN (x.p ->> '%1$s')::numeric"
                   "::bigint WHEN 'boolean' THEN (x.p ->> '%1$s')::boolean::int END",
                   n);
        break;
    case FIELD_NUMBER:
        buf_printf(b,
                   ", CASE jsonb_typeof(x.p -> '%1$s') WHEN 'number' THEN (x.p ->> '%1$s')::float8"
                   " END",
                   n);
        break;
    default: /* strings and dates: the text; a number or boolean as JSON writes it */
        buf_printf(b, ", x.p ->> '%s'", n);
    }
}

int pg_past_rebuild(store *s, const struct layer *l, struct err *e)
{
    struct pg_params p;
    struct buf b;
    int rc;
    buf_init(&b);
    /* emptied, and its indexes built again once it is filled: in one pass
     * (sorted), not grown row by row */
    buf_printf(&b,
               "TRUNCATE \"onemap_past_%1$s\"; DROP INDEX \"onemap_past_%1$s_geom\";"
               " DROP INDEX \"onemap_past_%1$s_fid\"",
               l->id);
    if ((rc = exec_buf(s, &b, e)))
        goto out;
    /* Each copy kept in the history is a version that was replaced: valid
     * from its row's time until the first row of the feature with a higher
     * version (versions are whole numbers, so the window's frame is exactly
     * those). A delete's row holds the deleted version again and adds
     * nothing. The geometry's text is sliced from the copy as it is (json,
     * not jsonb, which would write it anew). Each level of the select is
     * fenced (OFFSET 0) so that it is computed once per row: inlined, every
     * use of a column would parse the copy again. */
    buf_reset(&b);
    buf_printf(&b, "INSERT INTO \"onemap_past_%s\" (fid, version, area_m2, geom", l->id);
    for (size_t i = 0; i < l->n_fields; i++)
        buf_printf(&b, ", \"%s\"", l->fields[i].name);
    buf_puts(&b, ", valid_from, valid_to) SELECT x.fid, x.version,"
                 " coalesce(ST_Area(x.geom::geography), 0), x.geom");
    for (size_t i = 0; i < l->n_fields; i++)
        property_sql(&b, &l->fields[i]);
    buf_puts(&b,
             ", x.at, x.valid_to FROM (SELECT y.*, ST_SetSRID(ST_GeomFromGeoJSON(y.gj), 4490)"
             " AS geom FROM (SELECT h.fid, h.version, h.at, h.valid_to, (h.f -> 'geometry')::text"
             " AS gj, json_typeof(h.f -> 'geometry') AS gt, (h.f -> 'properties')::jsonb AS p"
             " FROM (SELECT fid, version, at, valid_to, feature::json AS f FROM (SELECT fid,"
             " version, op, feature, at COLLATE \"C\" AS at, min(at COLLATE \"C\") OVER"
             " (PARTITION BY fid ORDER BY version RANGE BETWEEN 1 FOLLOWING AND UNBOUNDED"
             " FOLLOWING) AS valid_to FROM onemap_history WHERE collection = ?) w"
             " WHERE op <> 'delete' AND feature <> '' AND valid_to IS NOT NULL OFFSET 0) h"
             " OFFSET 0) y WHERE y.gt = 'object' OFFSET 0) x");
    pg_params_init(&p);
    pg_param_text(&p, l->id);
    rc = b.oom ? err_set(e, ERR_INTERNAL, "out of memory") : pg_run_done(s, b.data, &p, NULL, e);
    pg_params_clear(&p);
    if (rc)
        goto out;
    buf_reset(&b);
    indexes_sql(&b, l);
    if ((rc = exec_buf(s, &b, e)))
        goto out;
    /* each live row is valid from its own version's row (none: '') */
    buf_reset(&b);
    buf_printf(&b,
               "UPDATE \"%1$s\" t SET since = x.at FROM (SELECT l.fid, coalesce(max(h.at COLLATE"
               " \"C\"), '') AS at FROM \"%1$s\" l LEFT JOIN onemap_history h ON h.collection = ?"
               " AND h.fid = l.fid AND h.version = l.version GROUP BY l.fid) x"
               " WHERE t.fid = x.fid AND t.since <> x.at",
               l->id);
    pg_params_init(&p);
    pg_param_text(&p, l->id);
    rc = b.oom ? err_set(e, ERR_INTERNAL, "out of memory") : pg_run_done(s, b.data, &p, NULL, e);
    pg_params_clear(&p);
out:
    buf_clear(&b);
    if (rc)
        err_prefix(e, "layer %s: past versions", l->id);
    return rc;
}

/* ---- upgrade -------------------------------------------------------------- */

/* onemap_meta's schema_version; 0 when there is none (not initialised, or
 * not onemap's). */
static int schema_version(store *s)
{
    struct err ignored;
    PGresult *res =
        pg_run(s, "SELECT value FROM onemap_meta WHERE key = 'schema_version'", NULL, &ignored);
    int v = 0;
    if (res && PQntuples(res) == 1)
        v = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return v;
}

int pg_past_missing(store *s)
{
    int v = schema_version(s);
    return v > 0 && v < PG_SCHEMA_PAST;
}

int pg_past_upgrade(store *s, struct err *e)
{
    struct layers *ls = NULL;
    struct buf b;
    int rc, v = schema_version(s);
    if (v == 0 || v >= atoi(PG_SCHEMA_VERSION))
        return 0;
    /* under the writers' lock, and looked at again: another server opening
     * the same database may have been first */
    if ((rc = store_begin(s, e)))
        goto out;
    buf_init(&b);
    if ((v = schema_version(s)) < atoi(PG_SCHEMA_VERSION)) {
        if (!(rc = pg_layers_get(s, &ls, e)))
            for (size_t i = 0; i < ls->n && !rc; i++) {
                buf_reset(&b);
                if (v < PG_SCHEMA_PAST) {
                    buf_printf(&b,
                               "ALTER TABLE \"%s\" ADD COLUMN since text COLLATE \"C\" NOT NULL"
                               " DEFAULT ''",
                               ls->v[i].id);
                    if ((rc = exec_buf(s, &b, e)) || (rc = pg_past_create(s, &ls->v[i], e)) ||
                        (rc = pg_past_rebuild(s, &ls->v[i], e)))
                        break;
                    buf_reset(&b);
                }
                /* the GeoJSON text is written from the WKB when read (the
                 * column's space comes back as rows are written again, or
                 * at once with VACUUM FULL) */
                buf_printf(&b,
                           "ALTER TABLE \"%1$s\" DROP COLUMN IF EXISTS gj;"
                           " ALTER TABLE \"onemap_past_%1$s\" DROP COLUMN IF EXISTS gj",
                           ls->v[i].id);
                rc = exec_buf(s, &b, e);
            }
        if (!rc)
            rc = pg_exec(s,
                         "UPDATE onemap_meta SET value = '" PG_SCHEMA_VERSION
                         "' WHERE key = 'schema_version'",
                         e);
        layers_free(ls);
    }
    buf_clear(&b);
    if (rc || (rc = store_commit(s, e)))
        store_rollback(s);
out:
    if (rc)
        err_prefix(e, "upgrading the database to schema version %s", PG_SCHEMA_VERSION);
    return rc;
}
