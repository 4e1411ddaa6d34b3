/* pg_store: the store's PostgreSQL + PostGIS backend — the connection
 * (reconnecting by itself when it was lost), statements and their
 * parameters, transactions, the schema, history, tokens and the layers'
 * kept totals. Rows of layers are pg_query.c's. Writers take one advisory
 * lock for their transaction, so that writes through any number of servers
 * are serialised as SQLite serialises them: a version read in a write
 * transaction is still the version when the transaction writes. */
#include "pg.h"

#include <arpa/inet.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

/* the advisory lock every writer takes ("onemap" in ASCII) */
#define WRITE_LOCK "7301363137616d70"

/* ---- parameters ----------------------------------------------------------- */

void pg_params_init(struct pg_params *p)
{
    memset(p, 0, sizeof *p);
    buf_init(&p->text);
}

void pg_params_clear(struct pg_params *p)
{
    free(p->types);
    free(p->vals);
    free(p->lens);
    free(p->fmts);
    free(p->offs);
    buf_clear(&p->text);
    memset(p, 0, sizeof *p);
}

static int param_add(struct pg_params *p, Oid type, const char *val, int len, int fmt, size_t off)
{
    if (p->oom)
        return -1;
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 16;
        Oid *t = realloc(p->types, cap * sizeof *t);
        const char **v = t ? realloc(p->vals, cap * sizeof *v) : NULL;
        int *l = v ? realloc(p->lens, cap * sizeof *l) : NULL;
        int *f = l ? realloc(p->fmts, cap * sizeof *f) : NULL;
        size_t *o = f ? realloc(p->offs, cap * sizeof *o) : NULL;
        if (t)
            p->types = t;
        if (v)
            p->vals = v;
        if (l)
            p->lens = l;
        if (f)
            p->fmts = f;
        if (!o) {
            p->oom = 1;
            return -1;
        }
        p->offs = o;
        p->cap = cap;
    }
    p->types[p->n] = type;
    p->vals[p->n] = val;
    p->lens[p->n] = len;
    p->fmts[p->n] = fmt;
    p->offs[p->n] = off;
    p->n++;
    return 0;
}

static void param_number(struct pg_params *p, Oid type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void param_number(struct pg_params *p, Oid type, const char *fmt, ...)
{
    char num[64];
    va_list ap;
    size_t off = p->text.len;
    va_start(ap, fmt);
    vsnprintf(num, sizeof num, fmt, ap);
    va_end(ap);
    buf_append(&p->text, num, strlen(num) + 1);
    if (p->text.oom)
        p->oom = 1;
    param_add(p, type, NULL, 0, 0, off);
}

void pg_param_ll(struct pg_params *p, long long v)
{
    param_number(p, PG_INT8, "%lld", v);
}

void pg_param_double(struct pg_params *p, double v)
{
    param_number(p, PG_FLOAT8, "%.17g", v);
}

void pg_param_text(struct pg_params *p, const char *s)
{
    param_add(p, PG_TEXT, s, 0, 0, (size_t)-1);
}

void pg_param_bytea(struct pg_params *p, const void *data, size_t len)
{
    param_add(p, PG_BYTEA, data, (int)len, 1, (size_t)-1);
}

void pg_param_value(struct pg_params *p, const struct value *v)
{
    switch (v->type) {
    case VAL_INT:
        pg_param_ll(p, v->i);
        break;
    case VAL_REAL:
        pg_param_double(p, v->d);
        break;
    case VAL_TEXT:
        pg_param_text(p, v->s);
        break;
    default:
        param_add(p, 0, NULL, 0, 0, (size_t)-1);
    }
}

void pg_param_bind(struct pg_params *p, const struct store_bind *b)
{
    struct value v = {.type = b->type == BIND_INT    ? VAL_INT
                              : b->type == BIND_REAL ? VAL_REAL
                              : b->type == BIND_TEXT ? VAL_TEXT
                                                     : VAL_NULL,
                      .i = b->i,
                      .d = b->d,
                      .s = b->s};
    if (b->type == BIND_BLOB)
        pg_param_bytea(p, b->blob, b->len);
    else
        pg_param_value(p, &v);
}

/* The numbers' texts live in one buffer that may have moved while it grew:
 * their pointers are set just before the statement is sent. */
static void params_fix(struct pg_params *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->offs[i] != (size_t)-1)
            p->vals[i] = p->text.data + p->offs[i];
}

/* libpq's messages on one line: newlines and tabs as spaces, no trailing
 * space; e's code returned. */
static int one_line(struct err *e)
{
    char *w = e->msg;
    for (const char *r = e->msg; *r; r++) {
        char c = *r == '\n' || *r == '\t' ? ' ' : *r;
        if (c != ' ' || (w > e->msg && w[-1] != ' '))
            *w++ = c;
    }
    while (w > e->msg && w[-1] == ' ')
        w--;
    *w = '\0';
    return e->code;
}

/* ---- errors --------------------------------------------------------------- */

static int code_of_state(const char *state)
{
    if (!state)
        return ERR_UNAVAILABLE; /* no answer from the server: connection lost */
    if (!strcmp(state, "23505"))
        return ERR_CONFLICT;
    /* connection, resources, server shutting down, read-only (a standby),
     * serialisation and deadlock: try again */
    if (!strncmp(state, "08", 2) || !strncmp(state, "53", 2) || !strncmp(state, "57P", 3) ||
        !strcmp(state, "25006") || !strcmp(state, "40001") || !strcmp(state, "40P01"))
        return ERR_UNAVAILABLE;
    return ERR_INTERNAL;
}

int pg_err(store *s, const PGresult *res, struct err *e, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char text[256];
    size_t n;
    if (s->cancel && s->cancel->why)
        return cancel_err(s->cancel, e);
    if (!msg || !*msg)
        msg = PQerrorMessage(s->pg->conn);
    snprintf(text, sizeof text, "%s", msg && *msg ? msg : "no answer");
    n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
        text[--n] = '\0';
    if (PQstatus(s->pg->conn) != CONNECTION_OK)
        err_set(e, ERR_UNAVAILABLE, "database: connection lost (%s)", text);
    else
        err_set(e, code_of_state(state), "%s: %s", what, text);
    return one_line(e);
}

/* ---- statements ------------------------------------------------------------- */

/* The answer to a read transaction's COMMIT, sent without waiting for it
 * (pg_read_end): read before the connection is used again. */
static void drain(struct pg *pg)
{
    PGresult *res;
    if (!pg->commit_pending)
        return;
    pg->commit_pending = 0;
    while ((res = PQgetResult(pg->conn)))
        PQclear(res);
}

/* ---- prepared statements ------------------------------------------------------ */

static void stmts_forget(struct pg *pg)
{
    for (size_t i = 0; i < pg->n_stmts; i++)
        free(pg->stmts[i].key);
    pg->n_stmts = pg->next_victim = 0;
}

/* Whether a statement is worth keeping prepared: the queries and writes
 * onemap repeats, not a cursor's DECLARE (a new name each time) nor a
 * statement of the schema. */
static int stmt_cacheable(const char *text)
{
    return !strncmp(text, "SELECT", 6) || !strncmp(text, "INSERT", 6) ||
           !strncmp(text, "UPDATE", 6) || !strncmp(text, "DELETE", 6) || !strncmp(text, "WITH", 4);
}

/* The name of text prepared with p's types on this connection, preparing it
 * (one round trip, once) when new; 0 with name empty when it is not to be
 * prepared; an error when PostgreSQL refuses the statement. */
static int stmt_get(store *s, const char *text, const struct pg_params *p, char name[24],
                    struct err *e)
{
    struct pg *pg = s->pg;
    struct buf key;
    unsigned long long h = 1469598103934665603ULL;
    struct pg_stmt *st;
    PGresult *res;
    name[0] = '\0';
    if (!stmt_cacheable(text))
        return 0;
    buf_init(&key);
    buf_puts(&key, text);
    for (size_t i = 0; p && i < p->n; i++)
        buf_printf(&key, "%c%u", i ? ',' : '\n', (unsigned)p->types[i]);
    if (key.oom) {
        buf_clear(&key);
        return 0; /* unprepared, then */
    }
    for (size_t i = 0; i < key.len; i++)
        h = (h ^ (unsigned char)key.data[i]) * 1099511628211ULL;
    for (size_t i = 0; i < pg->n_stmts; i++)
        if (pg->stmts[i].hash == h && pg->stmts[i].key && !strcmp(pg->stmts[i].key, key.data)) {
            snprintf(name, 24, "onemap_s%u", pg->stmts[i].id);
            buf_clear(&key);
            return 0;
        }
    if (pg->n_stmts < PG_STMTS) {
        st = &pg->stmts[pg->n_stmts++];
    } else { /* the oldest makes room */
        char sql[48];
        st = &pg->stmts[pg->next_victim];
        pg->next_victim = (pg->next_victim + 1) % PG_STMTS;
        snprintf(sql, sizeof sql, "DEALLOCATE onemap_s%u", st->id);
        PQclear(PQexec(pg->conn, sql));
        free(st->key);
    }
    st->key = NULL;
    st->id = ++pg->stmt_ids;
    snprintf(name, 24, "onemap_s%u", st->id);
    res = PQprepare(pg->conn, name, text, p ? (int)p->n : 0, p ? p->types : NULL);
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
        pg_err(s, res, e, "database");
        PQclear(res);
        buf_clear(&key);
        /* the slot matches nothing (the last one is given back) */
        st->hash = 0;
        if (st == &pg->stmts[pg->n_stmts - 1] && pg->n_stmts < PG_STMTS)
            pg->n_stmts--;
        name[0] = '\0';
        return e->code;
    }
    PQclear(res);
    st->hash = h;
    st->key = key.data; /* kept */
    return 0;
}

/* Before a statement outside a transaction: a connection lost meanwhile
 * (the server restarted, a failover) is made again. */
static int ensure_connected(store *s, struct err *e)
{
    struct pg *pg = s->pg;
    drain(pg);
    if (s->cancel && cancel_check(s->cancel))
        return cancel_err(s->cancel, e);
    if (PQstatus(pg->conn) == CONNECTION_OK)
        return 0;
    if (pg->read_tx || pg->in_write)
        return err_set(e, ERR_UNAVAILABLE, "database: connection lost in a transaction");
    stmts_forget(pg); /* a new session knows none */
    PQreset(pg->conn);
    if (PQstatus(pg->conn) != CONNECTION_OK) {
        err_set(e, ERR_UNAVAILABLE, "database: cannot connect (%s)", PQerrorMessage(pg->conn));
        return one_line(e);
    }
    return 0;
}

/* Numbers ? placeholders $1, $2, ... (outside quoted names and strings). */
static int number_params(const char *sql, struct buf *out)
{
    int n = 0;
    char quote = 0;
    for (const char *c = sql; *c; c++) {
        if (quote) {
            if (*c == quote)
                quote = 0;
            buf_putc(out, *c);
        } else if (*c == '\'' || *c == '"') {
            quote = *c;
            buf_putc(out, *c);
        } else if (*c == '?') {
            buf_printf(out, "$%d", ++n);
        } else {
            buf_putc(out, *c);
        }
    }
    return out->oom ? -1 : n;
}

#define READ_BEGIN "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

/* The read transaction's BEGIN and the first statement in one round trip
 * (a pipeline): returns the statement's result, or NULL with e set. */
static PGresult *run_first_read(store *s, const char *sql, const char *name, struct pg_params *p,
                                struct err *e)
{
    PGconn *c = s->pg->conn;
    PGresult *begun = NULL, *res = NULL, *r;
    int q = 0, n = p ? (int)p->n : 0;
    s->pg->read_want = 0;
    if (!PQenterPipelineMode(c) ||
        !PQsendQueryParams(c, READ_BEGIN, 0, NULL, NULL, NULL, NULL, 0) ||
        !(*name ? PQsendQueryPrepared(c, name, n, p ? p->vals : NULL, p ? p->lens : NULL,
                                      p ? p->fmts : NULL, 1)
                : PQsendQueryParams(c, sql, n, p ? p->types : NULL, p ? p->vals : NULL,
                                    p ? p->lens : NULL, p ? p->fmts : NULL, 1)) ||
        !PQpipelineSync(c))
        q = 3; /* nothing more to read than what is there */
    /* BEGIN's result, NULL, the statement's, NULL, the sync: at most a few
     * more when the connection breaks */
    for (int guard = 0; guard < 16; guard++) {
        if (!(r = PQgetResult(c))) {
            if (q++ < 2)
                continue;
            break;
        }
        if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        if (q == 0 && !begun)
            begun = r;
        else if (q == 1 && !res)
            res = r;
        else
            PQclear(r);
    }
    PQexitPipelineMode(c);
    if (!begun || PQresultStatus(begun) != PGRES_COMMAND_OK) {
        pg_err(s, begun, e, "database");
        PQclear(begun);
        PQclear(res);
        return NULL;
    }
    PQclear(begun);
    s->pg->read_tx = 1;
    if (!res) {
        pg_err(s, NULL, e, "database");
        return NULL;
    }
    return res;
}

PGresult *pg_run(store *s, const char *sql, struct pg_params *p, struct err *e)
{
    struct buf text;
    PGresult *res;
    ExecStatusType st;
    char name[24];
    if (ensure_connected(s, e))
        return NULL;
    if (p && p->oom) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    buf_init(&text);
    if (number_params(sql, &text) < 0) {
        buf_clear(&text);
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    if (p)
        params_fix(p);
    if (stmt_get(s, text.data, p, name, e)) {
        buf_clear(&text);
        return NULL;
    }
    if (s->pg->read_want) {
        res = run_first_read(s, text.data, name, p, e);
        buf_clear(&text);
        if (!res)
            return NULL;
    } else if (*name) {
        res = PQexecPrepared(s->pg->conn, name, p ? (int)p->n : 0, p ? p->vals : NULL,
                             p ? p->lens : NULL, p ? p->fmts : NULL, 1);
        buf_clear(&text);
    } else {
        res = PQexecParams(s->pg->conn, text.data, p ? (int)p->n : 0, p ? p->types : NULL,
                           p ? p->vals : NULL, p ? p->lens : NULL, p ? p->fmts : NULL, 1);
        buf_clear(&text);
    }
    st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        /* a table made again with other columns under a prepared plan: the
         * next try prepares afresh */
        if (*name && state && !strcmp(state, "0A000"))
            stmts_forget(s->pg);
        pg_err(s, res, e, "database");
        PQclear(res);
        return NULL;
    }
    return res;
}

int pg_exec(store *s, const char *sql, struct err *e)
{
    PGresult *res;
    int rc = 0;
    if ((rc = ensure_connected(s, e)))
        return rc;
    if (s->pg->read_want) { /* the read transaction begins with these statements */
        struct buf text;
        buf_init(&text);
        buf_printf(&text, READ_BEGIN "; %s", sql);
        if (text.oom) {
            buf_clear(&text);
            return err_set(e, ERR_INTERNAL, "out of memory");
        }
        s->pg->read_want = 0;
        res = PQexec(s->pg->conn, text.data);
        buf_clear(&text);
        s->pg->read_tx = PQtransactionStatus(s->pg->conn) != PQTRANS_IDLE;
    } else {
        res = PQexec(s->pg->conn, sql);
    }
    if (!res || (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK))
        rc = pg_err(s, res, e, "database");
    PQclear(res);
    return rc;
}

#define CURSOR_BATCH 2000

int pg_each(store *s, const char *sql, struct pg_params *p, int small, pg_row_fn fn, void *arg,
            struct err *e)
{
    struct pg *pg = s->pg;
    struct buf decl;
    char name[48], fetch[96];
    PGresult *res;
    int rc = 0, own_tx = 0;
    if (small) {
        if (!(res = pg_run(s, sql, p, e)))
            return e->code;
        for (int i = 0; i < PQntuples(res) && !rc; i++)
            rc = fn(arg, res, i, e);
        PQclear(res);
        return rc > 0 ? 0 : rc;
    }
    /* a cursor lives in a transaction (the read transaction, begun with
     * the DECLARE when read_begin asked for one) */
    drain(pg);
    if (PQtransactionStatus(pg->conn) == PQTRANS_IDLE && !pg->read_want) {
        if ((rc = pg_exec(s, "BEGIN ISOLATION LEVEL REPEATABLE READ", e)))
            return rc;
        own_tx = 1;
    }
    snprintf(name, sizeof name, "onemap_c%lu", ++pg->cursors);
    buf_init(&decl);
    buf_printf(&decl, "DECLARE %s NO SCROLL CURSOR FOR %s", name, sql);
    res = decl.oom ? NULL : pg_run(s, decl.data, p, e);
    buf_clear(&decl);
    if (!res) {
        rc = decl.oom ? err_set(e, ERR_INTERNAL, "out of memory") : e->code;
        goto out;
    }
    PQclear(res);
    snprintf(fetch, sizeof fetch, "FETCH %d FROM %s", CURSOR_BATCH, name);
    for (;;) {
        int n;
        if (!(res = pg_run(s, fetch, NULL, e))) {
            rc = e->code;
            break;
        }
        n = PQntuples(res);
        for (int i = 0; i < n && !rc; i++)
            rc = fn(arg, res, i, e);
        PQclear(res);
        if (rc || n < CURSOR_BATCH)
            break;
    }
    if (PQtransactionStatus(pg->conn) == PQTRANS_INTRANS) {
        char close[64];
        struct err ignored;
        snprintf(close, sizeof close, "CLOSE %s", name);
        pg_exec(s, close, &ignored);
    }
out:
    if (own_tx) {
        struct err ignored;
        if (pg_exec(s, PQtransactionStatus(pg->conn) == PQTRANS_INTRANS ? "COMMIT" : "ROLLBACK",
                    &ignored) &&
            !rc)
            rc = err_set(e, ignored.code, "%s", ignored.msg);
    }
    return rc > 0 ? 0 : rc;
}

/* ---- binary results ------------------------------------------------------- */

static uint64_t be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | (unsigned char)p[i];
    return v;
}

long long pg_ll(const PGresult *res, int row, int col)
{
    const char *p = PQgetvalue(res, row, col);
    int len = PQgetlength(res, row, col);
    if (PQgetisnull(res, row, col))
        return 0;
    if (len == 8)
        return (long long)be64(p);
    if (len == 4)
        return (int32_t)ntohl(*(const uint32_t *)(const void *)p);
    return 0;
}

double pg_double(const PGresult *res, int row, int col)
{
    uint64_t u;
    double d;
    if (PQgetisnull(res, row, col) || PQgetlength(res, row, col) != 8)
        return 0;
    u = be64(PQgetvalue(res, row, col));
    memcpy(&d, &u, sizeof d);
    return d;
}

const char *pg_text(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

void pg_value(const PGresult *res, int row, int col, enum field_type t, struct value *v)
{
    memset(v, 0, sizeof *v);
    if (PQgetisnull(res, row, col)) {
        v->type = VAL_NULL;
    } else if (t == FIELD_INTEGER || t == FIELD_BOOLEAN) {
        v->type = VAL_INT;
        v->i = pg_ll(res, row, col);
    } else if (t == FIELD_NUMBER) {
        v->type = VAL_REAL;
        v->d = pg_double(res, row, col);
    } else {
        v->type = VAL_TEXT;
        v->s = PQgetvalue(res, row, col);
    }
}

/* ---- connection and transactions ------------------------------------------ */

static void pg_close(store *s)
{
    if (s->pg) {
        stmts_forget(s->pg);
        if (s->pg->conn)
            PQfinish(s->pg->conn);
        free(s->pg->url);
        free(s->pg);
    }
    free(s);
}

static int pg_degraded(const store *s)
{
    return 0;
}

static void pg_set_cancel(store *s, struct cancel *c)
{
    s->cancel = c;
}

static int pg_begin(store *s, struct err *e)
{
    int rc;
    if (s->pg->readonly)
        return err_set(e, ERR_UNAVAILABLE, "database: opened read-only");
    s->pg->read_want = 0;
    if (s->pg->read_tx) { /* a request that reads, then writes */
        if ((rc = pg_exec(s, "COMMIT", e)))
            return rc;
        s->pg->read_tx = 0;
    }
    if ((rc = pg_exec(s, "BEGIN; SELECT pg_advisory_xact_lock(x'" WRITE_LOCK "'::bigint)", e)))
        return rc;
    s->pg->in_write = 1;
    return 0;
}

static int pg_commit(store *s, struct err *e)
{
    int rc = pg_exec(s, "COMMIT", e);
    s->pg->in_write = 0;
    return rc;
}

static void pg_rollback(store *s)
{
    struct err ignored;
    drain(s->pg);
    s->pg->read_want = 0;
    if (PQstatus(s->pg->conn) == CONNECTION_OK && PQtransactionStatus(s->pg->conn) != PQTRANS_IDLE)
        pg_exec(s, "ROLLBACK", &ignored);
    s->pg->in_write = 0;
    s->pg->read_tx = 0;
}

/* A request's reads see one snapshot: a read-only REPEATABLE READ
 * transaction, whose BEGIN goes with the first statement and whose COMMIT
 * is not waited for (drain reads its answer before the next statement), so
 * that a request of one statement costs one round trip. */
static void pg_read_begin(store *s)
{
    drain(s->pg);
    if (PQtransactionStatus(s->pg->conn) == PQTRANS_IDLE)
        s->pg->read_want = 1;
}

static void pg_read_end(store *s)
{
    struct pg *pg = s->pg;
    pg->read_want = 0;
    if (!pg->read_tx)
        return;
    pg->read_tx = 0;
    if (PQtransactionStatus(pg->conn) == PQTRANS_IDLE)
        return;
    if (PQsendQuery(pg->conn, "COMMIT"))
        pg->commit_pending = 1;
    else
        pg_rollback(s);
}

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

static const char *pg_type(enum field_type t)
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
               " DEFAULT 1, area_m2 float8 NOT NULL, gj text NOT NULL",
               l->id);
    for (size_t i = 0; i < l->n_fields; i++)
        buf_printf(&b, ", \"%s\" %s", l->fields[i].name, pg_type(l->fields[i].type));
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
    return rc;
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
    if ((rc = pg_begin(s, e)))
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
               " ('schema_version', '1'),"
               " ('created', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))",
               &p, e);
    pg_params_clear(&p);
    if (!res) {
        rc = e->code;
        goto fail;
    }
    PQclear(res);
    rc = pg_commit(s, e);
    goto out;
fail:
    pg_rollback(s);
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

static int pg_schema_json(store *s, char **json, struct err *e)
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

/* ---- history ---------------------------------------------------------------- */

static int run_done(store *s, const char *sql, struct pg_params *p, long long *changed,
                    struct err *e)
{
    PGresult *res = pg_run(s, sql, p, e);
    if (!res)
        return e->code;
    if (changed)
        *changed = atoll(PQcmdTuples(res));
    PQclear(res);
    return 0;
}

static int pg_history_add_at(store *s, const struct layer *l, long long fid, long long version,
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
    rc = run_done(s,
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
    rc = run_done(s,
                  "INSERT INTO onemap_history (fid, collection, version, op, at, by, change_id,"
                  " feature) SELECT x, $3, 1, $4, coalesce($5, " PG_NOW "), $6, $7, ''"
                  " FROM generate_series($1::bigint, $2::bigint) x",
                  &p, NULL, e);
    pg_params_clear(&p);
    return rc;
}

static int pg_history_keep(store *s, const struct layer *l, long long fid, long long version,
                           const char *feature, struct err *e)
{
    struct pg_params p;
    int rc;
    pg_params_init(&p);
    pg_param_text(&p, l->id);
    pg_param_ll(&p, fid);
    pg_param_ll(&p, version);
    pg_param_text(&p, feature);
    rc = run_done(s,
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

static int pg_history_rows(store *s, const struct layer *l, long long fid, store_version_fn fn,
                           void *arg, struct err *e)
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

static int pg_change_rows(store *s, long long since, long long limit, int features,
                          store_version_fn fn, void *arg, struct err *e)
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
static int pg_history_put(store *s, const struct store_version *v, struct err *e)
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
    rc = run_done(s,
                  "WITH i AS (INSERT INTO onemap_history (seq, collection, fid, version, op, at,"
                  " by, change_id, feature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?))"
                  " SELECT setval(pg_get_serial_sequence('onemap_history', 'seq'), greatest($1,"
                  " (SELECT last_value FROM onemap_history_seq_seq)))",
                  &p, NULL, e);
    pg_params_clear(&p);
    return rc;
}

/* ---- tokens ----------------------------------------------------------------- */

static int pg_token_add(store *s, const char *name, const char *id, const unsigned char *hash,
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
    rc = run_done(s,
                  "INSERT INTO onemap_tokens (name, id, hash, role, grids, created)"
                  " VALUES (?, ?, ?, ?, ?, " PG_NOW ")",
                  &p, NULL, e);
    pg_params_clear(&p);
    if (rc == ERR_CONFLICT)
        rc = err_set(e, ERR_CONFLICT, "a token named '%s' exists already", name);
    return rc;
}

static int pg_token_get(store *s, const char *id, struct store_token *t, struct err *e)
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

static int pg_token_rows(store *s, store_token_fn fn, void *arg, struct err *e)
{
    struct token_run r = {fn, arg};
    return pg_each(
        s,
        "SELECT name, role, grids, created, revoked, id, hash FROM onemap_tokens ORDER BY"
        " name COLLATE \"C\"",
        NULL, 1, on_token_row, &r, e);
}

static int pg_token_revoke(store *s, const char *name, struct err *e)
{
    struct pg_params p;
    long long n = 0;
    int rc;
    pg_params_init(&p);
    pg_param_text(&p, name);
    rc = run_done(s,
                  "UPDATE onemap_tokens SET revoked = " PG_NOW " WHERE name = ?"
                  " AND revoked IS NULL",
                  &p, &n, e);
    pg_params_clear(&p);
    if (!rc && n != 1)
        rc = err_set(e, ERR_NOT_FOUND, "no active token named '%s'", name);
    return rc;
}

static int pg_token_put(store *s, const struct store_token_row *t, struct err *e)
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
    rc = run_done(s,
                  "INSERT INTO onemap_tokens (name, id, hash, role, grids, created, revoked)"
                  " VALUES (?, ?, ?, ?, ?, ?, ?)",
                  &p, NULL, e);
    pg_params_clear(&p);
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

/* ---- other servers' writes ------------------------------------------------- */

static int pg_listen(store *s, struct err *e)
{
    int rc = pg_exec(s, "LISTEN onemap_changes", e);
    s->pg->listening = rc == 0;
    return rc;
}

static int pg_changes_fd(store *s)
{
    return PQstatus(s->pg->conn) == CONNECTION_OK ? PQsocket(s->pg->conn) : -1;
}

/* "layer minx,miny,maxx,maxy minx,..." */
static void notified(const char *payload, store_change_fn fn, void *arg)
{
    char layer[128];
    const char *p = strchr(payload, ' ');
    size_t n = p ? (size_t)(p - payload) : strlen(payload);
    if (n == 0 || n >= sizeof layer) {
        fn(arg, NULL, NULL);
        return;
    }
    memcpy(layer, payload, n);
    layer[n] = '\0';
    while (p && *p == ' ') {
        double b[4];
        char *end;
        const char *q = p + 1;
        int ok = 1;
        for (int i = 0; i < 4 && ok; i++) {
            b[i] = strtod(q, &end);
            ok = end != q && (i == 3 || *end == ',');
            q = end + (i < 3);
        }
        if (!ok) {
            fn(arg, layer, NULL); /* unreadable: the whole layer */
            return;
        }
        fn(arg, layer, b);
        p = q;
    }
}

static int pg_changes_wait(store *s, int timeout_ms, store_change_fn fn, void *arg, struct err *e)
{
    PGconn *conn = s->pg->conn;
    PGnotify *n;
    struct pollfd pfd;
    if (PQstatus(conn) != CONNECTION_OK) {
        stmts_forget(s->pg);
        PQreset(conn);
        if (PQstatus(conn) != CONNECTION_OK) {
            if (timeout_ms > 0)
                poll(NULL, 0, timeout_ms);
            err_set(e, ERR_UNAVAILABLE, "database: cannot connect (%s)", PQerrorMessage(conn));
            return one_line(e);
        }
        if (pg_listen(s, e))
            return e->code;
        fn(arg, NULL, NULL); /* what was written meanwhile is not known */
    }
    if (timeout_ms < 0) {
        /* the listening backend sends what was committed before this
         * statement ahead of its answer */
        if (pg_exec(s, "SELECT 1", e))
            return e->code;
    } else {
        pfd.fd = PQsocket(conn);
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (poll(&pfd, 1, timeout_ms) < 0)
            return 0;
        if (!PQconsumeInput(conn))
            return pg_err(s, NULL, e, "notifications");
    }
    while ((n = PQnotifies(conn))) {
        notified(n->extra, fn, arg);
        PQfreemem(n);
    }
    return 0;
}

/* ---- opening ------------------------------------------------------------------- */

static const struct store_ops pg_ops = {
    .name = "postgresql",
    .close = pg_close,
    .degraded = pg_degraded,
    .set_cancel = pg_set_cancel,
    .init = pg_init,
    .layers_get = pg_layers_get,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .read_begin = pg_read_begin,
    .read_end = pg_read_end,
    .feature_insert = pg_feature_insert,
    .feature_insert_blob = pg_feature_insert_blob,
    .bulk_begin = pg_bulk_begin,
    .bulk_end = pg_bulk_end,
    .bulk_first_fid = pg_bulk_first_fid,
    .bulk_insert = pg_bulk_insert,
    .history_add_range = pg_history_add_range,
    .query_rows = pg_query_rows,
    .boxes = pg_boxes,
    .query_count = pg_query_count,
    .feature_wkb = pg_feature_wkb,
    .feature_fid_by_key = pg_feature_fid_by_key,
    .feature_update = pg_feature_update,
    .feature_delete = pg_feature_delete,
    .history_add_at = pg_history_add_at,
    .history_keep = pg_history_keep,
    .history_rows = pg_history_rows,
    .change_rows = pg_change_rows,
    .token_add = pg_token_add,
    .token_get = pg_token_get,
    .token_rows = pg_token_rows,
    .token_revoke = pg_token_revoke,
    .key_fids = pg_key_fids,
    .layer_count_upto = pg_layer_count_upto,
    .layer_extent = pg_layer_extent,
    .layer_totals = pg_layer_totals,
    .data_version = pg_data_version,
    .history_put = pg_history_put,
    .schema_json = pg_schema_json,
    .token_put = pg_token_put,
    .listen = pg_listen,
    .changes_fd = pg_changes_fd,
    .changes_wait = pg_changes_wait,
};

static void quiet(void *arg, const char *message) {}

int pg_open(const char *url, int flags, store **out, struct err *e)
{
    store *s = calloc(1, sizeof *s);
    struct pg *pg = calloc(1, sizeof *pg);
    char shown[512];
    *out = NULL;
    if (!s || !pg || !(pg->url = strdup(url))) {
        free(s);
        if (pg)
            free(pg->url);
        free(pg);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    s->ops = &pg_ops;
    s->pg = pg;
    pg->readonly = (flags & STORE_READONLY) != 0;
    pg->conn = PQconnectdb(url);
    store_shown(url, shown, sizeof shown);
    if (!pg->conn || PQstatus(pg->conn) != CONNECTION_OK) {
        int rc = err_set(e, ERR_UNAVAILABLE, "%s: %s", shown,
                         pg->conn ? PQerrorMessage(pg->conn) : "cannot connect");
        one_line(e);
        pg_close(s);
        return rc;
    }
    PQsetNoticeProcessor(pg->conn, quiet, NULL); /* "already exists, skipping" */
    if (pg_exec(s,
                "SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC';"
                " SET standard_conforming_strings = on;",
                e)) {
        int rc = e->code;
        pg_close(s);
        return rc;
    }
    *out = s;
    return 0;
}
