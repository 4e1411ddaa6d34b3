/* pg_store: the store's PostgreSQL + PostGIS backend — the connection
 * (reconnecting by itself when it was lost), statements (prepared once per
 * connection), transactions, other servers' writes,
 * and the table of operations. The schema and kept totals are
 * pg_schema.c's, statements' parameters pg_params.c's, history
 * pg_history.c's, tokens pg_token.c's, rows of
 * layers pg_query.c's, their past versions pg_past.c's. Writers take one advisory
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
/* Reads the pending COMMIT's answers, up to its pipeline's sync (a few more
 * at most when the connection broke). */
static void commit_answers(PGconn *c)
{
    PGresult *r;
    int nulls = 0;
    for (int guard = 0; guard < 16; guard++) {
        if (!(r = PQgetResult(c))) {
            if (++nulls > 2 || PQstatus(c) != CONNECTION_OK)
                break;
            continue;
        }
        if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        PQclear(r);
    }
}

static void drain(struct pg *pg)
{
    if (!pg->commit_pending)
        return;
    pg->commit_pending = 0;
    commit_answers(pg->conn);
    PQexitPipelineMode(pg->conn);
}

/* Notices are not shown ("already exists, skipping"); but a FATAL one
 * arriving on an idle connection is its server ending it (a shutdown, a
 * crash of another backend): the connection is as good as lost. */
static void on_notice(void *arg, const PGresult *res)
{
    struct pg *pg = arg;
    const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (sev && (!strcmp(sev, "FATAL") || !strcmp(sev, "PANIC")))
        pg->ended = 1;
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
    drain(pg); /* what follows waits for its answers */
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

/* What every session of onemap's is set to: on opening, and again on each
 * connection made anew (a reset forgets it). */
/* The session's settings. Prepared statements keep one generic plan:
 * onemap's statements look rows up by the GiST index (or by key) whatever
 * their parameters, and planning each execution afresh for its parameters
 * (PostgreSQL's choice for statements whose cost varies with them) took a
 * fifth of the database's CPU per request. */
static int session_setup(store *s, struct err *e)
{
    PGresult *res = PQexec(s->pg->conn, "SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC';"
                                        " SET standard_conforming_strings = on;"
                                        " SET plan_cache_mode = force_generic_plan;");
    int rc = 0;
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = pg_err(s, res, e, "database");
    PQclear(res);
    return rc;
}

/* Makes the connection again (a lost one, or one on the wrong server). */
static int reconnect(store *s, struct err *e)
{
    struct pg *pg = s->pg;
    stmts_forget(pg); /* a new session knows none */
    pg->listening = 0;
    PQreset(pg->conn);
    if (PQstatus(pg->conn) != CONNECTION_OK) {
        err_set(e, ERR_UNAVAILABLE, "database: cannot connect (%s)", PQerrorMessage(pg->conn));
        return one_line(e);
    }
    pg->ended = 0;
    PQsetNoticeReceiver(pg->conn, on_notice, pg);
    return session_setup(s, e);
}

/* Whether an idle connection was closed by its server meanwhile (a primary
 * that stopped or lost its role, a proxy that cut it): what the server said
 * last (its reason, then the end) is waiting to be read. libpq finds out
 * only when it reads, and a request would fail on it. */
static int closed_meanwhile(struct pg *pg)
{
    struct pollfd p = {.fd = PQsocket(pg->conn), .events = POLLIN};
    /* what has come is read (an answer still to come, a read's COMMIT, is
     * kept for its reader): the server's last words, then its end */
    for (int i = 0; i < 4 && !pg->ended; i++) {
        if (p.fd < 0 || poll(&p, 1, 0) <= 0)
            break;
        if (!PQconsumeInput(pg->conn) || PQstatus(pg->conn) != CONNECTION_OK)
            return 1;
    }
    return pg->ended;
}

/* Whether a transaction is open on the connection (a pending COMMIT ends
 * one: not open). */
static int in_transaction(struct pg *pg)
{
    PGTransactionStatusType t;
    if (pg->read_tx || pg->in_write)
        return 1;
    t = PQtransactionStatus(pg->conn);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

/* Before a statement: a connection lost meanwhile (the server restarted, a
 * failover) is made again, unless a transaction was open on it. retried:
 * the statement is run once more on a new connection should it find this
 * one broken (pg_run's first statement of a request): no need to look. */
static int ensure_connected(store *s, int retried, struct err *e)
{
    struct pg *pg = s->pg;
    if (s->cancel && cancel_check(s->cancel))
        return cancel_err(s->cancel, e);
    if (PQstatus(pg->conn) == CONNECTION_OK &&
        (retried || in_transaction(pg) || !closed_meanwhile(pg)))
        return 0;
    drain(pg);
    if (pg->read_tx || pg->in_write)
        return err_set(e, ERR_UNAVAILABLE, "database: connection lost in a transaction");
    return reconnect(s, e);
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

/* A position as text ("16/B374D848"); 0 when it is none. */
static unsigned long long position_of(const char *text)
{
    unsigned long long pos;
    return text && store_position_parse(text, &pos) == 0 ? pos : 0;
}

#define READ_BEGIN "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

/* How far a replica had replayed: asked before its read transaction
 * begins, so that the snapshot holds at least that much (a primary holds
 * all there is). */
#define REPLAYED "SELECT coalesce(pg_last_wal_replay_lsn(), 'FFFFFFFF/FFFFFFFF')::text"

/* The read transaction's BEGIN and the first statement in one round trip
 * (a pipeline), on a replica after the position replayed: returns the
 * statement's result, or NULL with e set. */
static PGresult *run_first_read(store *s, const char *sql, const char *name, struct pg_params *p,
                                struct err *e)
{
    PGconn *c = s->pg->conn;
    PGresult *begun = NULL, *res = NULL, *pos = NULL, *r;
    int n = p ? (int)p->n : 0;
    int pending = s->pg->commit_pending;
    int first = s->pg->replica; /* the query whose answer is BEGIN's */
    int q = 0, syncs = 0;
    s->pg->read_want = 0;
    s->pg->commit_pending = 0;
    s->pg->read_pos = 0;
    /* after the last request's COMMIT, still in its pipeline: its answer
     * comes with this one's */
    if ((!pending && !PQenterPipelineMode(c)) ||
        (first && (!PQsendQueryParams(c, REPLAYED, 0, NULL, NULL, NULL, NULL, 0) ||
                   !PQpipelineSync(c))) || /* a transaction of its own */
        !PQsendQueryParams(c, READ_BEGIN, 0, NULL, NULL, NULL, NULL, 0) ||
        !(*name ? PQsendQueryPrepared(c, name, n, p ? p->vals : NULL, p ? p->lens : NULL,
                                      p ? p->fmts : NULL, 1)
                : PQsendQueryParams(c, sql, n, p ? p->types : NULL, p ? p->vals : NULL,
                                    p ? p->lens : NULL, p ? p->fmts : NULL, 1)) ||
        !PQpipelineSync(c))
        q = first + 3; /* nothing more to read than what is there */
    if (pending)
        commit_answers(c);
    /* each query's result then NULL, and the sync: at most a few more
     * when the connection breaks */
    for (int guard = 0; guard < 16; guard++) {
        if (!(r = PQgetResult(c))) {
            if (q++ < first + 2)
                continue;
            break;
        }
        if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            if (++syncs > first)
                break;
            continue;
        }
        if (first && q == 0 && !pos)
            pos = r;
        else if (q == first && !begun)
            begun = r;
        else if (q == first + 1 && !res)
            res = r;
        else
            PQclear(r);
    }
    PQexitPipelineMode(c);
    if (pos && PQresultStatus(pos) == PGRES_TUPLES_OK && PQntuples(pos) == 1)
        s->pg->read_pos = position_of(PQgetvalue(pos, 0, 0));
    PQclear(pos);
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

/* Before a statement of a read begun solo: the first runs on its own (no
 * transaction to begin or end: one message to the server and one answer);
 * any after it fails, and the read is to be run again in a transaction
 * (store_read_again), since it would not see the first one's snapshot.
 * Returns 1 when this statement is the solo one. */
static int solo_turn(store *s, struct err *e)
{
    struct pg *pg = s->pg;
    if (pg->in_write)
        return 0;
    if (pg->solo_done) {
        pg->again = 1;
        return err_set(e, ERR_AGAIN, "database: a read begun with one statement needs more");
    }
    if (!pg->read_want || !pg->solo)
        return 0;
    pg->read_want = 0;
    pg->solo_done = 1;
    return 1;
}

/* A read begun solo whose first statement needs a transaction (a cursor's
 * DECLARE, a statement of several): it begins one as any read does. */
static void solo_off(struct pg *pg)
{
    pg->solo = 0;
}

/* One statement outside a read's first round trip: prepared when it is
 * worth it (name), else with its text. */
static PGresult *run_plain(store *s, const char *text, const char *name, struct pg_params *p)
{
    int n = p ? (int)p->n : 0;
    if (*name)
        return PQexecPrepared(s->pg->conn, name, n, p ? p->vals : NULL, p ? p->lens : NULL,
                              p ? p->fmts : NULL, 1);
    return PQexecParams(s->pg->conn, text, n, p ? p->types : NULL, p ? p->vals : NULL,
                        p ? p->lens : NULL, p ? p->fmts : NULL, 1);
}

PGresult *pg_run(store *s, const char *sql, struct pg_params *p, struct err *e)
{
    struct pg *pg = s->pg;
    struct buf text;
    PGresult *res;
    ExecStatusType st;
    char name[24];
    int solo, first;
    if ((solo = solo_turn(s, e)) < 0)
        return NULL;
    first = pg->read_want || solo; /* a request's first statement */
    /* (the first statement of a read takes a pending COMMIT along) */
    if (!pg->read_want)
        drain(pg);
    if (pg->reading && !pg->in_write)
        pg->read_stmts++;
    if (ensure_connected(s, first && !pg->read_tx, e))
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
        pg_params_fix(p);
    if (stmt_get(s, text.data, p, name, e)) {
        buf_clear(&text);
        return NULL;
    }
    res =
        pg->read_want ? run_first_read(s, text.data, name, p, e) : run_plain(s, text.data, name, p);
    /* the connection found broken by a request's first statement, before
     * anything was read (its server went away while it was idle): once
     * more on a new one */
    if (first && (!res || PQresultStatus(res) == PGRES_FATAL_ERROR) &&
        PQstatus(pg->conn) != CONNECTION_OK && !pg->read_tx && !(s->cancel && s->cancel->why)) {
        PQclear(res);
        err_clear(e);
        if (reconnect(s, e) || stmt_get(s, text.data, p, name, e)) {
            buf_clear(&text);
            return NULL;
        }
        res = solo ? run_plain(s, text.data, name, p) : run_first_read(s, text.data, name, p, e);
    }
    buf_clear(&text);
    if (!res && e->code)
        return NULL;
    st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        /* a table made again with other columns under a prepared plan: the
         * next try prepares afresh */
        if (*name && state && !strcmp(state, "0A000"))
            stmts_forget(pg);
        pg_err(s, res, e, "database");
        PQclear(res);
        return NULL;
    }
    return res;
}

/* Sends one statement of a pipeline: prepared when it is worth it. */
static int send_one(PGconn *c, const char *text, const char *name, const struct pg_params *p)
{
    int n = p ? (int)p->n : 0;
    if (*name)
        return PQsendQueryPrepared(c, name, n, p ? p->vals : NULL, p ? p->lens : NULL,
                                   p ? p->fmts : NULL, 1);
    return PQsendQueryParams(c, text, n, p ? p->types : NULL, p ? p->vals : NULL,
                             p ? p->lens : NULL, p ? p->fmts : NULL, 1);
}

int pg_run_many(store *s, size_t n, const char *const *sqls, struct pg_params *const *ps,
                PGresult **out, struct err *e)
{
    struct pg *pg = s->pg;
    PGconn *c = pg->conn;
    struct buf *texts;
    PGresult *slot[PG_MANY + 3] = {0};
    char(*names)[24];
    int pos = 0, begin = 0, whole = 0, m = 0, syncs = 0, want_syncs = 0, qi = 0, rc = 0;
    size_t i;
    if (n == 0 || n > PG_MANY)
        return err_set(e, ERR_INTERNAL, "pg_run_many: %zu statements", n);
    /* several statements see one snapshot: a read's transaction. In a read
     * begun solo they are its one round trip, BEGIN to COMMIT (whole):
     * nothing is left open, no COMMIT follows; a statement after them makes
     * the read run again (solo_turn) */
    whole = pg->solo && pg->read_want && !pg->in_write;
    if (!whole)
        solo_off(pg);
    if (solo_turn(s, e) < 0)
        return e->code;
    drain(pg);
    if (pg->reading && !pg->in_write)
        pg->read_stmts++; /* one round trip, one snapshot */
    if ((rc = ensure_connected(s, 0, e)))
        return rc;
    c = pg->conn;
    texts = calloc(n, sizeof *texts);
    names = calloc(n, sizeof *names);
    if (!texts || !names) {
        free(texts);
        free(names);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    for (i = 0; i < n && !rc; i++) {
        buf_init(&texts[i]);
        if ((ps[i] && ps[i]->oom) || number_params(sqls[i], &texts[i]) < 0)
            rc = err_set(e, ERR_INTERNAL, "out of memory");
        else if (ps[i])
            pg_params_fix(ps[i]);
        if (!rc)
            rc = stmt_get(s, texts[i].data, ps[i], names[i], e);
    }
    if (rc)
        goto out;
    /* a replica's read notes how far it had replayed first, then the
     * read's BEGIN and the statements, all in one round trip */
    pos = pg->read_want && pg->replica;
    begin = pg->read_want || whole;
    pg->read_want = 0;
    if (pos)
        pg->read_pos = 0;
    /* m counts the statements sent, want_syncs the syncs: what is read */
    if (!PQenterPipelineMode(c))
        goto read;
    if (pos) {
        if (!PQsendQueryParams(c, REPLAYED, 0, NULL, NULL, NULL, NULL, 0))
            goto sync;
        m++;
        if (!PQpipelineSync(c))
            goto read;
        want_syncs++;
    }
    if (begin) {
        if (!PQsendQueryParams(c, READ_BEGIN, 0, NULL, NULL, NULL, NULL, 0))
            goto sync;
        m++;
    }
    for (i = 0; i < n; i++) {
        if (!send_one(c, texts[i].data, names[i], ps[i]))
            break;
        m++;
    }
    if (whole && i == n) {
        if (!PQsendQueryParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0))
            goto sync;
        m++;
    }
sync:
    if (m && PQpipelineSync(c))
        want_syncs++;
read:
    /* each statement's result then NULL; a sync where one was sent; a few
     * more at most when the connection broke */
    for (int guard = 0; (m || want_syncs) && guard < 3 * m + 8; guard++) {
        PGresult *r = PQgetResult(c);
        if (!r) {
            if (PQstatus(c) != CONNECTION_OK && guard > 2 * m + 4)
                break;
            qi++;
            continue;
        }
        if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            if (++syncs >= want_syncs)
                break;
            continue;
        }
        if (qi < m && !slot[qi])
            slot[qi] = r;
        else
            PQclear(r);
    }
    PQexitPipelineMode(c);
    if (pos) {
        PGresult *r = slot[0];
        if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
            pg->read_pos = position_of(PQgetvalue(r, 0, 0));
    }
    if (begin) {
        PGresult *r = slot[pos];
        if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
            rc = pg_err(s, r, e, "database");
            goto out;
        }
        pg->read_tx = !whole;
    }
    for (i = 0; i < n; i++) {
        PGresult *r = slot[pos + begin + (int)i];
        ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
            const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
            if (*names[i] && state && !strcmp(state, "0A000"))
                stmts_forget(pg);
            rc = pg_err(s, r, e, "database");
            goto out;
        }
    }
    if (whole) {
        PGresult *r = slot[pos + begin + (int)n];
        if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
            rc = pg_err(s, r, e, "database");
            goto out;
        }
    }
    for (i = 0; i < n; i++) {
        out[i] = slot[pos + begin + (int)i];
        slot[pos + begin + (int)i] = NULL;
    }
out:
    /* a statement failed in a transaction of the round trip's own: it ends
     * here (the server left it aborted) */
    if (whole && rc && PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) != PQTRANS_IDLE)
        PQclear(PQexec(c, "ROLLBACK"));
    for (i = 0; i < PG_MANY + 3; i++)
        PQclear(slot[i]);
    for (i = 0; i < n; i++)
        buf_clear(&texts[i]);
    free(texts);
    free(names);
    return rc;
}

int pg_exec(store *s, const char *sql, struct err *e)
{
    PGresult *res;
    int rc = 0;
    solo_off(s->pg);
    if (solo_turn(s, e) < 0)
        return e->code;
    if (s->pg->reading && !s->pg->in_write)
        s->pg->read_stmts++;
    drain(s->pg);
    if ((rc = ensure_connected(s, 0, e)))
        return rc;
    if (s->pg->read_want) { /* the read transaction begins with these statements */
        struct buf text;
        if (s->pg->replica) { /* how far it had replayed, first (rare: no pipeline) */
            res = PQexec(s->pg->conn, REPLAYED);
            s->pg->read_pos = res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
                                  ? position_of(PQgetvalue(res, 0, 0))
                                  : 0;
            PQclear(res);
        }
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
    solo_off(pg);
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
    s->pg->solo = s->pg->solo_done = 0;
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

/* The commit and where it ended, in one round trip (the position is
 * asked for only when the COMMIT succeeded: an error ends the rest). */
static int pg_commit(store *s, struct err *e)
{
    struct pg *pg = s->pg;
    PGresult *res;
    int rc = 0;
    drain(pg);
    res = PQexec(pg->conn, "COMMIT; SELECT pg_current_wal_insert_lsn()::text");
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = pg_err(s, res, e, "database");
    else if (PQntuples(res) == 1)
        pg->commit_pos = position_of(PQgetvalue(res, 0, 0));
    PQclear(res);
    pg->in_write = 0;
    return rc;
}

static unsigned long long pg_commit_position(const store *s)
{
    return s->pg->commit_pos;
}

static unsigned long long pg_read_position(const store *s)
{
    return s->pg->replica ? s->pg->read_pos : STORE_POS_ALL;
}

static int pg_position(store *s, enum store_pos which, unsigned long long *pos, struct err *e)
{
    PGresult *res;
    const char *v;
    *pos = 0;
    if (!(res = pg_run(s,
                       which == STORE_POS_WRITTEN ? "SELECT pg_current_wal_insert_lsn()::text"
                                                  : "SELECT pg_last_wal_replay_lsn()::text,"
                                                    " pg_is_in_recovery()",
                       NULL, e)))
        return e->code;
    v = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) ? PQgetvalue(res, 0, 0) : NULL;
    if (which == STORE_POS_REPLAYED && PQntuples(res) == 1 && !*PQgetvalue(res, 0, 1))
        *pos = STORE_POS_ALL; /* no replica (binary false: one zero byte, read as "") */
    else
        *pos = position_of(v);
    PQclear(res);
    return 0;
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
 * is not waited for (its answer is read with the next request's first
 * statement, or by drain before anything else), so that a request of one
 * statement costs one round trip. A read begun solo (a request that most
 * likely reads with one statement) has no transaction: its statement is
 * one message to the server and one answer, a third of the work the
 * server does for BEGIN, statement and COMMIT; should it need another,
 * store_read_again says to run it anew without solo. */
static void pg_read_begin(store *s, int solo)
{
    struct pg *pg = s->pg;
    pg->read_pos = 0;
    pg->reading = 1;
    pg->read_stmts = 0;
    pg->solo = solo && !pg->replica; /* a replica's read notes its position first */
    pg->solo_done = pg->again = 0;
    if (pg->commit_pending || PQtransactionStatus(pg->conn) == PQTRANS_IDLE)
        pg->read_want = 1;
}

static void pg_read_end(store *s)
{
    struct pg *pg = s->pg;
    pg->read_want = 0;
    pg->reading = 0;
    pg->solo = pg->solo_done = 0;
    if (!pg->read_tx)
        return;
    pg->read_tx = 0;
    if (PQtransactionStatus(pg->conn) == PQTRANS_IDLE)
        return;
    /* sent in a pipeline left open, so that the next request's first
     * statement follows it without waiting for its answer */
    if (PQenterPipelineMode(pg->conn) &&
        PQsendQueryParams(pg->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) &&
        PQpipelineSync(pg->conn)) {
        pg->commit_pending = 1;
        return;
    }
    pg->commit_pending = 1; /* whatever was sent is read, and the pipeline left */
    drain(pg);
    pg_rollback(s);
}

static int pg_read_again(const store *s)
{
    return s->pg->again;
}

static int pg_read_count(const store *s)
{
    return s->pg->read_stmts;
}

/* ---- other servers' writes ------------------------------------------------- */

static int pg_listen(store *s, struct err *e)
{
    int rc = pg_exec(s, "LISTEN onemap_changes", e);
    s->pg->listening = rc == 0;
    return rc;
}

/* -1 while not listening: nothing the connection brings can be trusted to
 * be all there is */
static int pg_changes_fd(store *s)
{
    return PQstatus(s->pg->conn) == CONNECTION_OK && s->pg->listening ? PQsocket(s->pg->conn) : -1;
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
    if (PQstatus(conn) != CONNECTION_OK || !s->pg->listening) {
        /* lost, or LISTEN refused (a server still in recovery, reached
         * during a switch of primaries): made again, to the primary */
        if (reconnect(s, e) || pg_listen(s, e)) {
            if (timeout_ms > 0)
                poll(NULL, 0, timeout_ms);
            return e->code;
        }
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
    .read_again = pg_read_again,
    .read_count = pg_read_count,
    .feature_insert = pg_feature_insert,
    .feature_insert_blob = pg_feature_insert_blob,
    .bulk_begin = pg_bulk_begin,
    .bulk_end = pg_bulk_end,
    .bulk_first_fid = pg_bulk_first_fid,
    .bulk_insert = pg_bulk_insert,
    .history_add_range = pg_history_add_range,
    .query_rows = pg_query_rows,
    .query_rows_many = pg_query_rows_many,
    .boxes = pg_boxes,
    .query_count = pg_query_count,
    .feature_wkb = pg_feature_wkb,
    .feature_fid_by_key = pg_feature_fid_by_key,
    .feature_update = pg_feature_update,
    .feature_delete = pg_feature_delete,
    .history_add_at = pg_history_add_at,
    .history_keep = pg_history_keep,
    .write_batch = pg_write_batch,
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
    .past_rebuild = pg_past_rebuild,
    .schema_json = pg_schema_json,
    .token_put = pg_token_put,
    .listen = pg_listen,
    .changes_fd = pg_changes_fd,
    .changes_wait = pg_changes_wait,
    .commit_position = pg_commit_position,
    .position = pg_position,
    .read_position = pg_read_position,
};

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
    PQsetNoticeReceiver(pg->conn, on_notice, pg);
    pg->replica = (flags & STORE_REPLICA) != 0;
    if (pg->replica)
        pg->readonly = 1;
    if (session_setup(s, e)) {
        int rc = e->code;
        pg_close(s);
        return rc;
    }
    if (!(flags & (STORE_CREATE | STORE_READONLY | STORE_REPLICA)) && pg_past_upgrade(s, e)) {
        int rc = e->code;
        pg_close(s);
        return rc;
    }
    if (!(flags & STORE_CREATE))
        s->no_past = pg_past_missing(s);
    *out = s;
    return 0;
}
