/* pg_token: the PostgreSQL backend's write tokens (hashes only), as rows
 * (core/auth writes their text). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

/* ---- tokens ----------------------------------------------------------------- */

int pg_token_add(store *s, const char *name, const char *id, const unsigned char *hash,
                 size_t hash_len, const char *role, const char *grids, struct err *e)
{
    struct pg_params p;
    int rc;
    pg_params_init(&p);
    pg_param_text(&p, name);
    pg_param_text(&p, id);
    pg_param_bytea(&p, hash, hash_len);
    pg_param_text(&p, role);
    pg_param_text(&p, grids ? grids : "");
    rc = pg_run_done(s,
                     "INSERT INTO onemap_tokens (name, id, hash, role, grids, created)"
                     " VALUES (?, ?, ?, ?, ?, " PG_NOW ")",
                     &p, NULL, e);
    pg_params_clear(&p);
    if (rc == ERR_CONFLICT)
        rc = err_set(e, ERR_CONFLICT, "a token named '%s' exists already", name);
    return rc;
}

int pg_token_get(store *s, const char *id, struct store_token *t, struct err *e)
{
    struct pg_params p;
    PGresult *res;
    int rc = 0;
    memset(t, 0, sizeof *t);
    pg_params_init(&p);
    pg_param_text(&p, id);
    res = pg_run(s,
                 "SELECT name, hash, role, grids FROM onemap_tokens WHERE id = ?"
                 " AND revoked IS NULL",
                 &p, e);
    pg_params_clear(&p);
    if (!res)
        return e->code;
    if (PQntuples(res) == 1 && PQgetlength(res, 0, 1) == (int)sizeof t->hash) {
        snprintf(t->name, sizeof t->name, "%s", PQgetvalue(res, 0, 0));
        memcpy(t->hash, PQgetvalue(res, 0, 1), sizeof t->hash);
        snprintf(t->role, sizeof t->role, "%s", PQgetvalue(res, 0, 2));
        snprintf(t->grids, sizeof t->grids, "%s", PQgetvalue(res, 0, 3));
    } else {
        rc = err_set(e, ERR_UNAUTHORIZED, "Authorization: unknown or revoked token");
    }
    PQclear(res);
    return rc;
}

struct token_run {
    store_token_fn fn;
    void *arg;
};

static int on_token_row(void *arg, PGresult *res, int i, struct err *e)
{
    struct token_run *r = arg;
    struct store_token_row t = {
        .name = pg_text(res, i, 0),
        .role = pg_text(res, i, 1),
        .grids = pg_text(res, i, 2),
        .created = pg_text(res, i, 3),
        .revoked = pg_text(res, i, 4),
        .id = pg_text(res, i, 5),
        .hash = PQgetlength(res, i, 6) == 32 ? (const unsigned char *)PQgetvalue(res, i, 6) : NULL,
    };
    return r->fn(r->arg, &t, e);
}

int pg_token_rows(store *s, store_token_fn fn, void *arg, struct err *e)
{
    struct token_run r = {fn, arg};
    return pg_each(
        s,
        "SELECT name, role, grids, created, revoked, id, hash FROM onemap_tokens ORDER BY"
        " name COLLATE \"C\"",
        NULL, 1, on_token_row, &r, e);
}

int pg_token_revoke(store *s, const char *name, struct err *e)
{
    struct pg_params p;
    long long n = 0;
    int rc;
    pg_params_init(&p);
    pg_param_text(&p, name);
    rc = pg_run_done(s,
                     "UPDATE onemap_tokens SET revoked = " PG_NOW " WHERE name = ?"
                     " AND revoked IS NULL",
                     &p, &n, e);
    pg_params_clear(&p);
    if (!rc && n != 1)
        rc = err_set(e, ERR_NOT_FOUND, "no active token named '%s'", name);
    return rc;
}

int pg_token_put(store *s, const struct store_token_row *t, struct err *e)
{
    struct pg_params p;
    int rc;
    if (!t->hash)
        return err_set(e, ERR_INVALID, "token '%s': no hash", t->name);
    pg_params_init(&p);
    pg_param_text(&p, t->name);
    pg_param_text(&p, t->id);
    pg_param_bytea(&p, t->hash, 32);
    pg_param_text(&p, t->role);
    pg_param_text(&p, t->grids ? t->grids : "");
    pg_param_text(&p, t->created);
    pg_param_text(&p, t->revoked);
    rc = pg_run_done(s,
                     "INSERT INTO onemap_tokens (name, id, hash, role, grids, created, revoked)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?)",
                     &p, NULL, e);
    pg_params_clear(&p);
    return rc;
}
