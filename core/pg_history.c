/* pg_history: the PostgreSQL backend's history of versions and the change
 * feed read from it, as rows (core/history writes their JSON). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

/* ---- history ---------------------------------------------------------------- */

int pg_run_done(store *s, const char *sql, struct pg_params *p, long long *changed, struct err *e)
{
    PGresult *res = pg_run(s, sql, p, e);
    if (!res)
        return e->code;
    if (changed)
        *changed = atoll(PQcmdTuples(res));
    PQclear(res);
    return 0;
}

int pg_history_add_at(store *s, const struct layer *l, long long fid, long long version,
                      const char *op, const char *at, const char *by, const char *change_id,
                      const char *feature, struct err *e)
{
    struct pg_params p;
    int rc;
    pg_params_init(&p);
    pg_param_text(&p, l->id);
    pg_param_ll(&p, fid);
    pg_param_ll(&p, version);
    pg_param_text(&p, op);
    pg_param_text(&p, at);
    pg_param_text(&p, by);
    pg_param_text(&p, change_id);
    pg_param_text(&p, feature ? feature : "");
    rc = pg_run_done(s,
                     "INSERT INTO onemap_history (collection, fid, version, op, at, by,"
                     " change_id, feature) VALUES (?, ?, ?, ?, coalesce(?, " PG_NOW "), ?, ?, ?)",
                     &p, NULL, e);
    pg_params_clear(&p);
    return rc;
}

int pg_history_add_range(store *s, const struct layer *l, long long first, long long last,
                         const char *op, const char *at, const char *by, const char *change_id,
                         struct err *e)
{
    struct pg_params p;
    int rc;
    pg_params_init(&p);
    pg_param_ll(&p, first);
    pg_param_ll(&p, last);
    pg_param_text(&p, l->id);
    pg_param_text(&p, op);
    pg_param_text(&p, at);
    pg_param_text(&p, by);
    pg_param_text(&p, change_id);
    rc = pg_run_done(s,
                     "INSERT INTO onemap_history (fid, collection, version, op, at, by, change_id,"
                     " feature) SELECT x, $3, 1, $4, coalesce($5, " PG_NOW "), $6, $7, ''"
                     " FROM generate_series($1::bigint, $2::bigint) x",
                     &p, NULL, e);
    pg_params_clear(&p);
    return rc;
}

int pg_history_keep(store *s, const struct layer *l, long long fid, long long version,
                    const char *feature, struct err *e)
{
    struct pg_params p;
    int rc;
    pg_params_init(&p);
    pg_param_text(&p, l->id);
    pg_param_ll(&p, fid);
    pg_param_ll(&p, version);
    pg_param_text(&p, feature);
    rc = pg_run_done(s,
                     "UPDATE onemap_history SET feature = $4 WHERE collection = $1 AND fid = $2"
                     " AND version = $3 AND feature = ''",
                     &p, NULL, e);
    pg_params_clear(&p);
    return rc;
}

struct version_run {
    store_version_fn fn;
    void *arg;
    const char *collection;
    long long fid;
};

static int on_version_row(void *arg, PGresult *res, int i, struct err *e)
{
    struct version_run *r = arg;
    const char *feature = pg_text(res, i, 5);
    struct store_version v = {
        .collection = r->collection ? r->collection : pg_text(res, i, 7),
        .fid = r->collection ? r->fid : pg_ll(res, i, 8),
        .version = pg_ll(res, i, 0),
        .op = pg_text(res, i, 1),
        .at = pg_text(res, i, 2),
        .by = pg_text(res, i, 3),
        .change_id = pg_text(res, i, 4),
        .feature = feature && *feature ? feature : NULL,
        .seq = pg_ll(res, i, 6),
    };
    return r->fn(r->arg, &v, e);
}

int pg_history_rows(store *s, const struct layer *l, long long fid, store_version_fn fn, void *arg,
                    struct err *e)
{
    struct version_run r = {fn, arg, l->id, fid};
    struct pg_params p;
    int rc;
    pg_params_init(&p);
    pg_param_text(&p, l->id);
    pg_param_ll(&p, fid);
    rc = pg_each(s,
                 "SELECT version, op, at, by, change_id, feature, seq FROM onemap_history"
                 " WHERE collection = ? AND fid = ? ORDER BY version DESC, seq DESC",
                 &p, 1, on_version_row, &r, e);
    pg_params_clear(&p);
    return rc;
}

int pg_change_rows(store *s, long long since, long long limit, int features, store_version_fn fn,
                   void *arg, struct err *e)
{
    struct version_run r = {fn, arg, NULL, 0};
    struct pg_params p;
    int rc;
    pg_params_init(&p);
    pg_param_ll(&p, since);
    pg_param_ll(&p, limit);
    rc = pg_each(s,
                 features ? "SELECT version, op, at, by, change_id, feature, seq, collection,"
                            " fid FROM onemap_history WHERE seq > ? ORDER BY seq LIMIT ?"
                          : "SELECT version, op, at, by, change_id, NULL::text, seq, collection,"
                            " fid FROM onemap_history WHERE seq > ? ORDER BY seq LIMIT ?",
                 &p, limit <= 10000, on_version_row, &r, e);
    pg_params_clear(&p);
    return rc;
}

/* Written as it is; the sequence of seq goes past it. */
int pg_history_put(store *s, const struct store_version *v, struct err *e)
{
    struct pg_params p;
    int rc;
    pg_params_init(&p);
    pg_param_ll(&p, v->seq);
    pg_param_text(&p, v->collection);
    pg_param_ll(&p, v->fid);
    pg_param_ll(&p, v->version);
    pg_param_text(&p, v->op);
    pg_param_text(&p, v->at);
    pg_param_text(&p, v->by);
    pg_param_text(&p, v->change_id);
    pg_param_text(&p, v->feature ? v->feature : "");
    rc = pg_run_done(s,
                     "WITH i AS (INSERT INTO onemap_history (seq, collection, fid, version, op, at,"
                     " by, change_id, feature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?))"
                     " SELECT setval(pg_get_serial_sequence('onemap_history', 'seq'), greatest($1,"
                     " (SELECT last_value FROM onemap_history_seq_seq)))",
                     &p, NULL, e);
    pg_params_clear(&p);
    return rc;
}
