/* sl_token (SQLite backend): write tokens, stored by name with a public id and
 * the hash of their secret. */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sl_int.h"

int sl_token_add(store *s, const char *name, const char *id, const unsigned char *hash,
                    size_t hash_len, const char *role, const char *grids, struct err *e)
{
    sqlite3_stmt *st;
    int rc = 0;
    if (!(st = sl_prepf(s, e, "INSERT INTO onemap_tokens (name, id, hash, role, grids, created)"
             " VALUES (?, ?, ?, ?, ?, %s)", STORE_NOW)))
        return e->code;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, hash, (int)hash_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, role, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, grids ? grids : "", -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = sl_db_err(s, e, "token");
        if (rc == ERR_CONFLICT)
            rc = err_set(e, ERR_CONFLICT, "a token named '%s' exists already", name);
    }
    sqlite3_reset(st);
    return rc;
}

int sl_token_get(store *s, const char *id, struct store_token *t, struct err *e)
{
    sqlite3_stmt *st = sl_prep(s, "SELECT name, hash, role, grids FROM onemap_tokens"
                               " WHERE id = ? AND revoked IS NULL", e);
    int rc = 0;
    memset(t, 0, sizeof *t);
    if (!st)
        return e->code;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 1) == (int)sizeof t->hash) {
        snprintf(t->name, sizeof t->name, "%s", (const char *)sqlite3_column_text(st, 0));
        memcpy(t->hash, sqlite3_column_blob(st, 1), sizeof t->hash);
        snprintf(t->role, sizeof t->role, "%s", (const char *)sqlite3_column_text(st, 2));
        snprintf(t->grids, sizeof t->grids, "%s", (const char *)sqlite3_column_text(st, 3));
    } else {
        rc = err_set(e, ERR_UNAUTHORIZED, "Authorization: unknown or revoked token");
    }
    sqlite3_reset(st);
    return rc;
}

int sl_token_rows(store *s, store_token_fn fn, void *arg, struct err *e)
{
    sqlite3_stmt *st = sl_prep(s, "SELECT name, role, grids, created, revoked, id, hash"
                               " FROM onemap_tokens ORDER BY name", e);
    int step, rc = 0;
    if (!st)
        return e->code;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_token_row t = {
            .name = (const char *)sqlite3_column_text(st, 0),
            .role = (const char *)sqlite3_column_text(st, 1),
            .grids = (const char *)sqlite3_column_text(st, 2),
            .created = (const char *)sqlite3_column_text(st, 3),
            .revoked = sqlite3_column_type(st, 4) == SQLITE_NULL
                           ? NULL : (const char *)sqlite3_column_text(st, 4),
            .id = (const char *)sqlite3_column_text(st, 5),
            .hash = sqlite3_column_bytes(st, 6) == 32 ? sqlite3_column_blob(st, 6) : NULL,
        };
        if ((rc = fn(arg, &t, e)))
            break;
    }
    return sl_rows_end(s, st, step, rc, "tokens", e);
}

int sl_token_revoke(store *s, const char *name, struct err *e)
{
    sqlite3_stmt *st;
    int rc = 0;
    if (!(st = sl_prepf(s, e, "UPDATE onemap_tokens SET revoked = %s WHERE name = ?"
             " AND revoked IS NULL", STORE_NOW)))
        return e->code;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sl_db_err(s, e, "token");
    else if (sqlite3_changes(s->db) != 1)
        rc = err_set(e, ERR_NOT_FOUND, "no active token named '%s'", name);
    sqlite3_reset(st);
    return rc;
}

int sl_token_put(store *s, const struct store_token_row *t, struct err *e)
{
    sqlite3_stmt *st = sl_prep(s, "INSERT INTO onemap_tokens (name, id, hash, role, grids, created,"
                               " revoked) VALUES (?, ?, ?, ?, ?, ?, ?)", e);
    int rc = 0;
    if (!st)
        return e->code;
    if (!t->hash)
        return err_set(e, ERR_INVALID, "token '%s': no hash", t->name);
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, t->id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, t->hash, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, t->role, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, t->grids ? t->grids : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, t->created, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, t->revoked, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sl_db_err(s, e, "token");
    sqlite3_reset(st);
    return rc;
}
