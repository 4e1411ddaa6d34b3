/* replica: the primary's positions in a ring of samples under a mutex;
 * each worker's replica connections and when to trust them again. A
 * replica that cannot be reached is put aside for every worker
 * (REPLICA_DOWN_S); one that lags only for the worker that saw it, since a
 * read database behind a load balancer is several servers. */
#include "replica.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define SAMPLES 128        /* 25 s of the primary's positions */
#define REPLICA_DOWN_S 1.0 /* a replica that failed is tried again after this */
#define RECHECK_S 1.0      /* a lagging one is asked again after this */
#define WAIT_STEP_MS 3     /* how often a read waiting for its position asks */

struct sample {
    double t;
    unsigned long long pos;
};

struct replicas {
    pthread_mutex_t mu;
    struct sample ring[SAMPLES];
    size_t n, next;
    atomic_uint turn; /* which replica a read tries first */
    int n_dbs;
    _Atomic double down_until[APP_MAX_READ_DBS];
};

double replica_clock(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct replicas *replicas_new(int n)
{
    struct replicas *rs = calloc(1, sizeof *rs);
    if (!rs)
        return NULL;
    pthread_mutex_init(&rs->mu, NULL);
    rs->n_dbs = n;
    for (int i = 0; i < APP_MAX_READ_DBS; i++)
        atomic_init(&rs->down_until[i], 0.0);
    return rs;
}

void replicas_free(struct replicas *rs)
{
    if (!rs)
        return;
    pthread_mutex_destroy(&rs->mu);
    free(rs);
}

void replicas_sample(struct replicas *rs, unsigned long long pos)
{
    if (!rs)
        return;
    pthread_mutex_lock(&rs->mu);
    rs->ring[rs->next] = (struct sample){replica_clock(), pos};
    rs->next = (rs->next + 1) % SAMPLES;
    if (rs->n < SAMPLES)
        rs->n++;
    pthread_mutex_unlock(&rs->mu);
}

double replicas_lag(struct replicas *rs, unsigned long long replayed)
{
    double since = -1;
    if (!rs || replayed == STORE_POS_ALL)
        return 0;
    pthread_mutex_lock(&rs->mu);
    /* newest to oldest: the oldest sample still beyond what was replayed */
    for (size_t k = 0; k < rs->n; k++) {
        const struct sample *sm = &rs->ring[(rs->next + SAMPLES - 1 - k) % SAMPLES];
        if (sm->pos <= replayed)
            break;
        since = sm->t;
    }
    pthread_mutex_unlock(&rs->mu);
    return since < 0 ? 0 : replica_clock() - since;
}

static void put_aside(const struct app *app, struct worker *w, int i)
{
    store_close(w->replica[i]);
    w->replica[i] = NULL;
    atomic_store(&app->replicas->down_until[i], replica_clock() + REPLICA_DOWN_S);
}

/* Asks replica i how far it has replayed; -1 (and put aside) when it
 * cannot answer. */
static int replayed(const struct app *app, struct worker *w, int i, unsigned long long *pos)
{
    struct err e;
    err_clear(&e);
    if (store_position(w->replica[i], STORE_POS_REPLAYED, pos, &e)) {
        put_aside(app, w, i);
        return -1;
    }
    return 0;
}

/* Whether replica i reaches want within the read's wait (the first one
 * tried waits; the others are asked once). */
static int reaches(const struct app *app, struct worker *w, int i, unsigned long long want,
                   int may_wait, struct cancel *c)
{
    double until = replica_clock() + (may_wait ? app->read_wait : 0);
    unsigned long long last = store_read_position(w->replica[i]);
    /* what it had replayed for its last read is enough: no need to ask
     * (replica_behind checks the read itself) */
    if (last && last >= want)
        return 1;
    for (;;) {
        unsigned long long pos;
        if (replayed(app, w, i, &pos))
            return 0;
        if (pos >= want)
            return 1;
        if (replica_clock() >= until || (c && cancel_check(c)))
            return 0;
        nanosleep(&(struct timespec){0, WAIT_STEP_MS * 1000000L}, NULL);
    }
}

/* Whether what replica i had replayed for its last read is by now more
 * than --max-lag behind (it may have replayed more since). */
static int lags_by_last(const struct app *app, const struct worker *w, int i)
{
    unsigned long long last = store_read_position(w->replica[i]);
    return last && replicas_lag(app->replicas, last) > app->max_lag;
}

int replica_choose(const struct app *app, struct worker *w, unsigned long long want,
                   struct cancel *c)
{
    int n = app->n_read_dbs, first = 1;
    unsigned start;
    w->store = w->primary;
    if (!n || !app->replicas)
        return -1;
    start = atomic_fetch_add(&app->replicas->turn, 1);
    for (int k = 0; k < n; k++) {
        int i = (int)((start + (unsigned)k) % (unsigned)n);
        double now = replica_clock();
        if (now < atomic_load(&app->replicas->down_until[i]) || now < w->recheck[i])
            continue;
        if (!w->replica[i]) {
            struct err e;
            err_clear(&e);
            if (store_open(app->read_dbs[i], STORE_REPLICA, &w->replica[i], &e)) {
                w->replica[i] = NULL;
                atomic_store(&app->replicas->down_until[i], now + REPLICA_DOWN_S);
                continue;
            }
        }
        if (want) {
            if (!reaches(app, w, i, want, first, c)) {
                first = 0;
                continue;
            }
        } else if (w->recheck[i] > 0 || lags_by_last(app, w, i)) {
            /* it lagged, or would by what it had replayed for the last
             * read: caught up since? */
            unsigned long long pos;
            if (replayed(app, w, i, &pos))
                continue;
            if (replicas_lag(app->replicas, pos) > app->max_lag) {
                w->recheck[i] = now + RECHECK_S;
                continue;
            }
            w->recheck[i] = 0;
        }
        w->store = w->replica[i];
        return i;
    }
    return -1;
}

void replica_done(const struct app *app, struct worker *w, int i, int failed)
{
    if (i < 0)
        return;
    w->store = w->primary;
    if (failed) {
        put_aside(app, w, i);
    } else {
        unsigned long long pos = store_read_position(w->replica[i]);
        if (pos && replicas_lag(app->replicas, pos) > app->max_lag)
            w->recheck[i] = replica_clock() + RECHECK_S;
    }
}

int replica_behind(const struct worker *w, int i, unsigned long long want)
{
    unsigned long long pos;
    if (i < 0 || !want || !w->replica[i])
        return 0;
    pos = store_read_position(w->replica[i]);
    return pos && pos < want;
}

void worker_close(struct worker *w)
{
    store_close(w->primary);
    w->primary = w->store = NULL;
    for (int i = 0; i < APP_MAX_READ_DBS; i++) {
        store_close(w->replica[i]);
        w->replica[i] = NULL;
    }
    ctx_free(w->ctx);
    w->ctx = NULL;
}
