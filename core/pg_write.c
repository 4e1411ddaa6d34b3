/* pg_write: an import's batch of writes in five statements instead of three
 * per feature: the replaced versions kept in their history rows, the
 * deletes, the updates (one UPDATE ... FROM (VALUES ...)), the inserts (one
 * multi-row INSERT) and the history rows. The deletes and the updates copy
 * the versions they replace into the layer's past table first, in the
 * same statement (pg_past_keep). Besides the round trips, each statement on a layer table
 * runs its statement trigger (stats and change notices) once per batch
 * instead of once per feature. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"
#include "splite.h"

#define SRID "4490"

/* Each of the batch's rows as "(?, ?, ...)" with the given casts. */
static void values_row(struct buf *b, int first, const char *const *casts, size_t n)
{
    buf_puts(b, first ? "(" : ", (");
    for (size_t i = 0; i < n; i++)
        buf_printf(b, "%s?::%s", i ? ", " : "", casts[i]);
    buf_putc(b, ')');
}

/* The casts of a VALUES row: lead, then the layer's fields' types (caller
 * frees; NULL when out of memory). */
static const char **casts_for(const struct layer *l, const char *const *lead, size_t n_lead)
{
    const char **c = malloc((n_lead + l->n_fields) * sizeof *c);
    if (!c)
        return NULL;
    for (size_t i = 0; i < n_lead; i++)
        c[i] = lead[i];
    for (size_t f = 0; f < l->n_fields; f++)
        c[n_lead + f] = pg_field_type(l->fields[f].type);
    return c;
}

/* The ids of the writes of kind op (or of every kind but INSERT when op is
 * -1) as a PostgreSQL array literal: the statements name them with
 * "fid = ANY(...)" as well as joining them to their VALUES, so that the
 * planner goes through the index however stale its statistics (a table
 * just loaded has none, and a join of VALUES alone is then planned as a
 * scan of the whole table per batch). */
static void ids(struct buf *b, const struct store_write *w, size_t n, int op)
{
    int k = 0;
    buf_reset(b);
    buf_putc(b, '{');
    for (size_t i = 0; i < n; i++)
        if (op < 0 ? w[i].op != STORE_WRITE_INSERT : (int)w[i].op == op)
            buf_printf(b, "%s%lld", k++ ? "," : "", w[i].fid);
    buf_putc(b, '}');
}

static int run_count(store *s, struct buf *b, struct pg_params *p, long long want, const char *what,
                     struct err *e)
{
    long long changed = 0;
    int rc;
    if (b->oom || p->oom)
        return err_set(e, ERR_INTERNAL, "out of memory");
    if ((rc = pg_run_done(s, b->data, p, &changed, e)))
        return rc;
    if (want >= 0 && changed != want)
        return err_set(e, ERR_NOT_FOUND,
                       "%s: %lld of %lld features are no longer there (changed "
                       "meanwhile by another writer)",
                       what, want - changed, want);
    return 0;
}

/* The versions that updates and deletes replace, kept in their history rows. */
static int keep(store *s, const struct layer *l, const struct store_write *w, size_t n,
                struct err *e)
{
    static const char *const casts[] = {"bigint", "bigint", "text"};
    struct pg_params p;
    struct buf b, fids;
    int rc = 0, rows = 0;
    buf_init(&b);
    buf_init(&fids);
    pg_params_init(&p);
    buf_puts(&b, "UPDATE onemap_history h SET feature = v.f FROM (VALUES ");
    for (size_t i = 0; i < n; i++) {
        if (w[i].op == STORE_WRITE_INSERT || !w[i].kept)
            continue;
        values_row(&b, !rows++, casts, 3);
        pg_param_ll(&p, w[i].fid);
        pg_param_ll(&p, w[i].version);
        pg_param_text(&p, w[i].kept);
    }
    buf_puts(&b, ") v(fid, version, f) WHERE h.collection = ? AND h.fid = ANY(?::bigint[])"
                 " AND h.fid = v.fid AND h.version = v.version AND h.feature = ''");
    pg_param_text(&p, l->id);
    ids(&fids, w, n, -1);
    pg_param_text(&p, fids.data);
    if (rows)
        rc = fids.oom ? err_set(e, ERR_INTERNAL, "out of memory")
                      : run_count(s, &b, &p, -1, l->id, e);
    pg_params_clear(&p);
    buf_clear(&b);
    buf_clear(&fids);
    return rc;
}

/* The deleted versions go to the past table in the same statement. */
static int deletes(store *s, const struct layer *l, const struct store_write *w, size_t n,
                   struct err *e)
{
    struct pg_params p;
    struct buf b, fids;
    int rc = 0, rows = 0;
    for (size_t i = 0; i < n; i++)
        rows += w[i].op == STORE_WRITE_DELETE;
    if (!rows)
        return 0;
    buf_init(&b);
    buf_init(&fids);
    pg_params_init(&p);
    ids(&fids, w, n, STORE_WRITE_DELETE);
    pg_past_keep(s, l, fids.data, &b, &p);
    buf_printf(&b, "DELETE FROM \"%s\" WHERE fid = ANY($2::bigint[])", l->id);
    rc =
        fids.oom ? err_set(e, ERR_INTERNAL, "out of memory") : run_count(s, &b, &p, rows, l->id, e);
    pg_params_clear(&p);
    buf_clear(&b);
    buf_clear(&fids);
    return rc;
}

static int updates(store *s, const struct layer *l, const struct store_write *w, size_t n,
                   struct err *e)
{
    static const char *const lead[] = {"bigint", "bigint", "float8", "bytea"};
    const char **casts = casts_for(l, lead, 4);
    struct pg_params p;
    struct buf b, fids;
    int rc = 0, rows = 0;
    size_t nc = 4 + l->n_fields;
    if (!casts)
        return err_set(e, ERR_INTERNAL, "out of memory");
    buf_init(&b);
    buf_init(&fids);
    pg_params_init(&p);
    /* the replaced versions go to the past table in the same statement */
    ids(&fids, w, n, STORE_WRITE_UPDATE);
    pg_past_keep(s, l, fids.data, &b, &p);
    buf_printf(&b,
               "UPDATE \"%s\" t SET since = w.at, version = v.version, area_m2 = v.area,"
               " geom = ST_GeomFromWKB(v.wkb, " SRID ")",
               l->id);
    for (size_t f = 0; f < l->n_fields; f++)
        buf_printf(&b, ", \"%s\" = v.\"%s\"", l->fields[f].name, l->fields[f].name);
    buf_puts(&b, " FROM (VALUES ");
    for (size_t i = 0; i < n && !rc; i++) {
        if (w[i].op != STORE_WRITE_UPDATE)
            continue;
        if ((rc = pg_wkb_check(l, w[i].wkb, w[i].wkb_len, e)))
            break;
        values_row(&b, !rows++, casts, nc);
        pg_param_ll(&p, w[i].fid);
        pg_param_ll(&p, w[i].version + 1);
        pg_param_double(&p, w[i].area_m2);
        pg_param_bytea(&p, w[i].wkb, w[i].wkb_len);
        for (size_t f = 0; f < l->n_fields; f++)
            pg_param_value(&p, &w[i].vals[f]);
    }
    buf_puts(&b, ") v(fid, version, area, wkb");
    for (size_t f = 0; f < l->n_fields; f++)
        buf_printf(&b, ", \"%s\"", l->fields[f].name);
    buf_puts(&b, "), w WHERE t.fid = ANY($2::bigint[]) AND t.fid = v.fid");
    if (rows && !rc)
        rc = fids.oom ? err_set(e, ERR_INTERNAL, "out of memory")
                      : run_count(s, &b, &p, rows, l->id, e);
    pg_params_clear(&p);
    buf_clear(&b);
    buf_clear(&fids);
    free(casts);
    return rc;
}

/* The new rows' ids, matched to the writes by key (the rows come back in
 * the order given, but nothing promises it). */
static int insert_ids(const struct layer *l, struct store_write *w, size_t n, PGresult *res,
                      struct err *e)
{
    int got = PQntuples(res), k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct value *key;
        if (w[i].op != STORE_WRITE_INSERT)
            continue;
        key = &w[i].vals[l->key_field];
        if (k < got && key->type == VAL_TEXT && pg_text(res, k, 1) &&
            !strcmp(pg_text(res, k, 1), key->s)) {
            w[i].fid = pg_ll(res, k++, 0);
            continue;
        }
        w[i].fid = 0;
        for (int r = 0; r < got && key->type == VAL_TEXT; r++)
            if (pg_text(res, r, 1) && !strcmp(pg_text(res, r, 1), key->s))
                w[i].fid = pg_ll(res, r, 0);
        if (!w[i].fid)
            return err_set(e, ERR_INTERNAL, "%s: an inserted feature's id did not come back",
                           l->id);
        k++;
    }
    return 0;
}

static int inserts(store *s, const struct layer *l, struct store_write *w, size_t n, struct err *e)
{
    static const char *const lead[] = {"float8", "bytea"};
    const char **casts = casts_for(l, lead, 2);
    struct buf wkbs[STORE_WRITE_BATCH];
    struct pg_params p;
    struct buf b;
    PGresult *res = NULL;
    int rc = 0, rows = 0;
    size_t nc = 2 + l->n_fields;
    if (!casts)
        return err_set(e, ERR_INTERNAL, "out of memory");
    buf_init(&b);
    pg_params_init(&p);
    buf_printf(&b, "INSERT INTO \"%s\" (since, area_m2, geom", l->id);
    for (size_t f = 0; f < l->n_fields; f++)
        buf_printf(&b, ", \"%s\"", l->fields[f].name);
    /* the write time, once for all the rows */
    buf_puts(&b, ") SELECT (SELECT coalesce(?::text, " PG_NOW ")), a, ST_GeomFromWKB(w, " SRID ")");
    pg_param_text(&p, pg_write_time(s));
    for (size_t f = 0; f < l->n_fields; f++)
        buf_printf(&b, ", c%zu", f);
    buf_puts(&b, " FROM (VALUES ");
    for (size_t i = 0; i < n; i++)
        buf_init(&wkbs[i]);
    for (size_t i = 0; i < n && !rc; i++) {
        const unsigned char *wkb = w[i].wkb;
        size_t len = w[i].wkb_len;
        if (w[i].op != STORE_WRITE_INSERT)
            continue;
        if (w[i].blob) { /* a SpatiaLite BLOB: its WKB */
            if (splite_to_wkb(w[i].blob, w[i].blob_len, &wkbs[i])) {
                rc = err_set(e, ERR_INVALID, "%s: geometry: unreadable", l->id);
                break;
            }
            wkb = (const unsigned char *)wkbs[i].data;
            len = wkbs[i].len;
        }
        if ((rc = pg_wkb_check(l, wkb, len, e)))
            break;
        values_row(&b, !rows++, casts, nc);
        pg_param_double(&p, w[i].area_m2);
        pg_param_bytea(&p, wkb, len);
        for (size_t f = 0; f < l->n_fields; f++)
            pg_param_value(&p, &w[i].vals[f]);
    }
    buf_puts(&b, ") v(a, w");
    for (size_t f = 0; f < l->n_fields; f++)
        buf_printf(&b, ", c%zu", f);
    buf_printf(&b, ") RETURNING fid, \"%s\"::text", l->key);
    if (rows && !rc) {
        if (b.oom || p.oom)
            rc = err_set(e, ERR_INTERNAL, "out of memory");
        else if (!(res = pg_run(s, b.data, &p, e)))
            rc = e->code == ERR_CONFLICT
                     ? err_set(e, ERR_CONFLICT,
                               "%s: a feature with one of these %s values exists "
                               "already",
                               l->id, l->key)
                     : e->code;
        else
            rc = insert_ids(l, w, n, res, e);
    }
    PQclear(res);
    for (size_t i = 0; i < n; i++)
        buf_clear(&wkbs[i]);
    pg_params_clear(&p);
    buf_clear(&b);
    free(casts);
    return rc;
}

static int history(store *s, const struct layer *l, const struct store_write *w, size_t n,
                   const char *at, const char *by, const char *change_id, struct err *e)
{
    struct pg_params p;
    struct buf b;
    int rc;
    buf_init(&b);
    pg_params_init(&p);
    buf_puts(&b, "INSERT INTO onemap_history (collection, fid, version, op, at, by, change_id,"
                 " feature) VALUES ");
    for (size_t i = 0; i < n; i++) {
        int del = w[i].op == STORE_WRITE_DELETE;
        buf_printf(&b, "%s(?, ?, ?, ?, coalesce(?::text, " PG_NOW "), ?, ?, ?)", i ? ", " : "");
        pg_param_text(&p, l->id);
        pg_param_ll(&p, w[i].fid);
        pg_param_ll(&p, w[i].op == STORE_WRITE_INSERT ? 1 : w[i].version + 1);
        pg_param_text(&p, del ? "delete" : "import");
        pg_param_text(&p, at);
        pg_param_text(&p, by);
        pg_param_text(&p, change_id);
        pg_param_text(&p, del && w[i].kept ? w[i].kept : "");
    }
    rc = run_count(s, &b, &p, (long long)n, l->id, e);
    pg_params_clear(&p);
    buf_clear(&b);
    return rc;
}

int pg_write_batch(store *s, const struct layer *l, struct store_write *w, size_t n, const char *at,
                   const char *by, const char *change_id, size_t *failed, struct err *e)
{
    int rc;
    *failed = n;
    if (!n)
        return 0;
    if (n > STORE_WRITE_BATCH)
        return err_set(e, ERR_INTERNAL, "%s: a batch of %zu writes, more than %d", l->id, n,
                       STORE_WRITE_BATCH);
    if ((rc = keep(s, l, w, n, e)) || (rc = deletes(s, l, w, n, e)) ||
        (rc = updates(s, l, w, n, e)) || (rc = inserts(s, l, w, n, e)))
        return rc;
    return history(s, l, w, n, at, by, change_id, e);
}
