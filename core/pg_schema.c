/* pg_schema: the PostgreSQL backend's schema — onemap's own tables, the
 * layers' tables with their triggers, the registry read back — and the
 * layers' kept totals (count, area, extent) that the triggers maintain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

/* ---- schema ------------------------------------------------------------------ */

/* onemap's own tables, and the function every layer's totals triggers run:
 * one statement's rows at a time (transition tables), so that a bulk load
 * of a million rows updates the totals once. The extent only grows; a
 * change that takes a geometry away from its edge marks it stale, and it
 * is counted again when next read. */
static const char *META_SQL =
    "CREATE TABLE onemap_meta (key text PRIMARY KEY, value text NOT NULL);"
    "CREATE TABLE onemap_history (seq bigserial PRIMARY KEY, collection text NOT NULL,"
    " fid bigint NOT NULL, version bigint NOT NULL, op text NOT NULL, at text NOT NULL, by text,"
    " change_id text, feature text NOT NULL);"
    "CREATE INDEX onemap_history_feature ON onemap_history(collection, fid, version);"
    "CREATE TABLE onemap_tokens (name text PRIMARY KEY, id text NOT NULL UNIQUE,"
    " hash bytea NOT NULL, role text NOT NULL, grids text NOT NULL DEFAULT '',"
    " created text NOT NULL, revoked text);"
    "CREATE TABLE onemap_layer_stats (layer text PRIMARY KEY, features bigint NOT NULL DEFAULT 0,"
    " area_m2 float8 NOT NULL DEFAULT 0, changes bigint NOT NULL DEFAULT 0, minx float8,"
    " miny float8, maxx float8, maxy float8, extent_stale boolean NOT NULL DEFAULT false);"
    /* what changed, for the other servers' tile caches: each row's box, or
     * the union of the statement's when there are many */
    "CREATE FUNCTION onemap_box(b box2d) RETURNS text LANGUAGE sql IMMUTABLE AS $f$"
    " SELECT ' ' || ST_XMin(b) || ',' || ST_YMin(b) || ',' || ST_XMax(b) || ',' || ST_YMax(b)"
    " $f$;"
    "CREATE FUNCTION onemap_stats() RETURNS trigger LANGUAGE plpgsql AS $f$"
    " DECLARE boxes text := ''; c bigint; b box2d; BEGIN"
    " IF TG_OP <> 'DELETE' THEN"
    "  SELECT count(*), ST_Extent(geom) INTO c, b FROM new_rows;"
    "  IF c > 32 THEN boxes := onemap_box(b);"
    "  ELSIF c > 0 THEN SELECT string_agg(onemap_box(geom::box2d), '') INTO boxes FROM new_rows;"
    "  END IF;"
    " END IF;"
    " IF TG_OP <> 'INSERT' THEN"
    "  SELECT count(*), ST_Extent(geom) INTO c, b FROM old_rows;"
    "  IF c > 32 THEN boxes := boxes || onemap_box(b);"
    "  ELSIF c > 0 THEN"
    "   boxes := boxes || (SELECT string_agg(onemap_box(geom::box2d), '') FROM old_rows);"
    "  END IF;"
    " END IF;"
    " IF boxes <> '' THEN PERFORM pg_notify('onemap_changes', TG_TABLE_NAME || boxes); END IF;"
    " IF TG_OP = 'INSERT' THEN"
    "  UPDATE onemap_layer_stats s SET features = s.features + n.c, area_m2 = s.area_m2 + n.a,"
    "   changes = s.changes + 1, minx = least(s.minx, n.x0), miny = least(s.miny, n.y0),"
    "   maxx = greatest(s.maxx, n.x1), maxy = greatest(s.maxy, n.y1)"
    "  FROM (SELECT count(*) c, coalesce(sum(area_m2), 0) a, min(ST_XMin(geom)) x0,"
    "   min(ST_YMin(geom)) y0, max(ST_XMax(geom)) x1, max(ST_YMax(geom)) y1 FROM new_rows) n"
    "  WHERE s.layer = TG_TABLE_NAME AND n.c > 0;"
    " ELSIF TG_OP = 'DELETE' THEN"
    "  UPDATE onemap_layer_stats s SET features = s.features - o.c, area_m2 = s.area_m2 - o.a,"
    "   changes = s.changes + 1, extent_stale = s.extent_stale OR o.edge"
    "  FROM (SELECT count(*) c, coalesce(sum(o.area_m2), 0) a,"
    "   coalesce(bool_or(ST_XMin(o.geom) <= x.minx OR ST_YMin(o.geom) <= x.miny OR"
    "   ST_XMax(o.geom) >= x.maxx OR ST_YMax(o.geom) >= x.maxy), false) edge"
    "   FROM old_rows o, onemap_layer_stats x WHERE x.layer = TG_TABLE_NAME) o"
    "  WHERE s.layer = TG_TABLE_NAME AND o.c > 0;"
    " ELSE"
    "  UPDATE onemap_layer_stats s SET area_m2 = s.area_m2 + n.a - o.a, changes = s.changes + 1,"
    "   minx = least(s.minx, n.x0), miny = least(s.miny, n.y0), maxx = greatest(s.maxx, n.x1),"
    "   maxy = greatest(s.maxy, n.y1), extent_stale = s.extent_stale OR o.edge"
    "  FROM (SELECT count(*) c, coalesce(sum(area_m2), 0) a, min(ST_XMin(geom)) x0,"
    "   min(ST_YMin(geom)) y0, max(ST_XMax(geom)) x1, max(ST_YMax(geom)) y1 FROM new_rows) n,"
    "   (SELECT coalesce(sum(o.area_m2), 0) a, coalesce(bool_or(ST_XMin(o.geom) <= x.minx"
    "   OR ST_YMin(o.geom) <= x.miny OR ST_XMax(o.geom) >= x.maxx"
    "   OR ST_YMax(o.geom) >= x.maxy), false) edge FROM old_rows o, onemap_layer_stats x WHERE "
    "x.layer = TG_TABLE_NAME) o"
    "  WHERE s.layer = TG_TABLE_NAME AND n.c > 0;"
    " END IF; RETURN NULL; END $f$;";

const char *pg_field_type(enum field_type t)
{
    switch (t) {
    case FIELD_INTEGER:
    case FIELD_BOOLEAN:
        return "bigint";
    case FIELD_NUMBER:
        return "float8";
    default:
        return "text";
    }
}

static int create_layer_table(store *s, const struct layer *l, struct err *e)
{
    struct buf b;
    int rc;
    buf_init(&b);
    buf_printf(&b,
               "CREATE TABLE \"%s\" (fid bigserial PRIMARY KEY, version bigint NOT NULL"
               " DEFAULT 1, area_m2 float8 NOT NULL,"
               " since text COLLATE \"C\" NOT NULL DEFAULT ''",
               l->id);
    for (size_t i = 0; i < l->n_fields; i++)
        buf_printf(&b, ", \"%s\" %s", l->fields[i].name, pg_field_type(l->fields[i].type));
    buf_printf(&b,
               ", geom geometry(Geometry, 4490) NOT NULL);"
               " CREATE UNIQUE INDEX \"%1$s_key\" ON \"%1$s\"(\"%2$s\");"
               " CREATE INDEX \"%1$s_geom\" ON \"%1$s\" USING gist (geom);",
               l->id, l->key);
    if (l->group_by && strcmp(l->group_by, l->key))
        buf_printf(&b, " CREATE INDEX \"%s_%s\" ON \"%s\"(\"%s\");", l->id, l->group_by, l->id,
                   l->group_by);
    buf_printf(
        &b,
        " INSERT INTO onemap_layer_stats (layer) VALUES ('%1$s');"
        " CREATE TRIGGER \"onemap_stats_%1$s_i\" AFTER INSERT ON \"%1$s\""
        " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION onemap_stats();"
        " CREATE TRIGGER \"onemap_stats_%1$s_d\" AFTER DELETE ON \"%1$s\""
        " REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION onemap_stats();"
        " CREATE TRIGGER \"onemap_stats_%1$s_u\" AFTER UPDATE ON \"%1$s\""
        " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT"
        " EXECUTE FUNCTION onemap_stats();",
        l->id);
    rc = b.oom ? err_set(e, ERR_INTERNAL, "out of memory") : pg_exec(s, b.data, e);
    buf_clear(&b);
    if (rc)
        err_prefix(e, "layer %s", l->id);
    return rc ? rc : pg_past_create(s, l, e);
}

int pg_init(store *s, const char *layers_json, struct err *e)
{
    struct layers *ls = NULL;
    struct pg_params p;
    PGresult *res;
    int rc;
    if (!(res = pg_run(s, "SELECT to_regclass('onemap_meta') IS NOT NULL", NULL, e)))
        return e->code;
    rc = *PQgetvalue(res, 0, 0) ? ERR_CONFLICT : 0;
    PQclear(res);
    if (rc)
        return err_set(e, ERR_CONFLICT, "database is already initialised");
    if ((rc = layers_parse(layers_json, &ls, e)))
        return rc;
    if ((rc = store_begin(s, e)))
        goto out;
    if ((rc = pg_exec(s, "CREATE EXTENSION IF NOT EXISTS postgis", e))) {
        err_prefix(e, "PostGIS (CREATE EXTENSION postgis, as a superuser, once)");
        goto fail;
    }
    if ((rc = pg_exec(s, META_SQL, e)))
        goto fail;
    for (size_t i = 0; i < ls->n; i++)
        if ((rc = create_layer_table(s, &ls->v[i], e)))
            goto fail;
    pg_params_init(&p);
    pg_param_text(&p, layers_json);
    res =
        pg_run(s,
               "INSERT INTO onemap_meta (key, value) VALUES ('layers', ?),"
               " ('schema_version', '" PG_SCHEMA_VERSION "'),"
               " ('created', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))",
               &p, e);
    pg_params_clear(&p);
    if (!res) {
        rc = e->code;
        goto fail;
    }
    PQclear(res);
    rc = store_commit(s, e);
    goto out;
fail:
    store_rollback(s);
out:
    layers_free(ls);
    return rc;
}

int pg_layers_get(store *s, struct layers **out, struct err *e)
{
    PGresult *res;
    int rc;
    *out = NULL;
    if (!(res = pg_run(s, "SELECT value FROM onemap_meta WHERE key = 'layers'", NULL, e))) {
        if (e->code == ERR_UNAVAILABLE)
            return e->code;
        return err_set(e, ERR_INVALID, "not an onemap database (run 'onemap init' first)");
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        return err_set(e, ERR_INVALID, "not an onemap database: no layer registry");
    }
    rc = layers_parse(PQgetvalue(res, 0, 0), out, e);
    PQclear(res);
    return rc;
}

int pg_schema_json(store *s, char **json, struct err *e)
{
    PGresult *res = pg_run(s, "SELECT value FROM onemap_meta WHERE key = 'layers'", NULL, e);
    int rc = 0;
    *json = NULL;
    if (!res)
        return e->code == ERR_UNAVAILABLE
                   ? e->code
                   : err_set(e, ERR_INVALID, "not an onemap database (run 'onemap init' first)");
    if (PQntuples(res) != 1)
        rc = err_set(e, ERR_INVALID, "not an onemap database: no layer registry");
    else if (!(*json = strdup(PQgetvalue(res, 0, 0))))
        rc = err_set(e, ERR_INTERNAL, "out of memory");
    PQclear(res);
    return rc;
}

/* ---- kept totals -------------------------------------------------------------- */

int pg_layer_totals(store *s, const struct layer *l, long long *count, double *area_m2,
                    struct err *e)
{
    struct pg_params p;
    PGresult *res;
    int rc = 0;
    pg_params_init(&p);
    pg_param_text(&p, l->id);
    res = pg_run(s, "SELECT features, area_m2 FROM onemap_layer_stats WHERE layer = ?", &p, e);
    pg_params_clear(&p);
    if (!res)
        return e->code;
    if (PQntuples(res) == 1) {
        *count = pg_ll(res, 0, 0);
        if (area_m2)
            *area_m2 = pg_double(res, 0, 1);
    } else {
        rc = err_set(e, ERR_INTERNAL, "%s: no statistics kept", l->id);
    }
    PQclear(res);
    return rc;
}

int pg_layer_extent(store *s, const struct layer *l, double ext[4], long long *count, struct err *e)
{
    struct pg_params p;
    PGresult *res;
    int rc = 0;
    pg_params_init(&p);
    pg_param_text(&p, l->id);
    res = pg_run(s,
                 "SELECT features, minx, miny, maxx, maxy, extent_stale FROM onemap_layer_stats"
                 " WHERE layer = ?",
                 &p, e);
    pg_params_clear(&p);
    if (!res)
        return e->code;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return err_set(e, ERR_INTERNAL, "%s: no statistics kept", l->id);
    }
    *count = pg_ll(res, 0, 0);
    if (*count == 0 || PQgetisnull(res, 0, 1)) {
        rc = 1;
    } else if (*PQgetvalue(res, 0, 5)) { /* stale: counted again */
        char sql[256];
        PQclear(res);
        snprintf(sql, sizeof sql,
                 "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM"
                 " (SELECT ST_Extent(geom)::box2d b FROM \"%s\") x",
                 l->id);
        if (!(res = pg_run(s, sql, NULL, e)))
            return e->code;
        if (PQgetisnull(res, 0, 0))
            rc = 1;
        for (int i = 0; i < 4 && !rc; i++)
            ext[i] = pg_double(res, 0, i);
    } else {
        for (int i = 0; i < 4; i++)
            ext[i] = pg_double(res, 0, 1 + i);
    }
    PQclear(res);
    return rc;
}

int pg_data_version(store *s, long long *version, struct err *e)
{
    PGresult *res =
        pg_run(s, "SELECT coalesce(sum(changes), 0)::bigint FROM onemap_layer_stats", NULL, e);
    if (!res)
        return e->code;
    *version = pg_ll(res, 0, 0);
    PQclear(res);
    return 0;
}
