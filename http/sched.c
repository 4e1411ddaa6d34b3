/* sched: a stack of free workers under one mutex. A request that finds
 * none free (or the heavy lane full) waits on a condition variable,
 * counted in the queue, waking at least every CANCEL_POLL_MS to see whether
 * its deadline passed or its client left. A worker given back wakes one
 * waiter (all, when heavy and light requests wait together, so that the one
 * that may take it does).
 *
 * Solo reads: per kind of request a score from 0 to SOLO_MAX, moved by
 * each read towards 0 (one statement) or SOLO_MAX (more, or begun solo and
 * run again); below half, reads of the kind begin solo. A kind that always
 * reads more than once pays one wasted statement at its first request or
 * two, then none; one that mostly reads once but sometimes more (a large
 * box) stays solo while the wasted statements are few. Relaxed atomics: a
 * score read while another thread moves it is still a score. */
#include "sched.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "replica.h"

struct sched {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const char *db_path;
    struct worker *all;
    struct worker **free;      /* stack of free workers */
    int n_free, n;
    int running, running_heavy, heavy_max;
    size_t queued, queued_heavy, queue_max;
    unsigned long long rejected;
    size_t kinds;
    int *solo; /* per kind: 0..SOLO_MAX */
};

#define SOLO_MAX 1024

sched *sched_new(const char *db_path, int workers, int heavy_max, size_t queue_max, size_t kinds)
{
    sched *s = calloc(1, sizeof *s);
    if (!s || !(s->all = calloc((size_t)workers, sizeof *s->all)) ||
        !(s->free = calloc((size_t)workers, sizeof *s->free)) ||
        !(s->solo = calloc(kinds ? kinds : 1, sizeof *s->solo))) {
        if (s) {
            free(s->all);
            free(s->free);
        }
        free(s);
        return NULL;
    }
    s->kinds = kinds;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->db_path = db_path;
    s->n = s->n_free = workers;
    for (int i = 0; i < workers; i++)
        s->free[i] = &s->all[workers - 1 - i];
    s->heavy_max = heavy_max < 1 ? 1 : heavy_max > workers ? workers : heavy_max;
    s->queue_max = queue_max;
    return s;
}

static int may_take(const sched *s, int heavy)
{
    return s->n_free > 0 && (!heavy || s->running_heavy < s->heavy_max);
}

/* Opens w's context, and unless lazy its connection, when it has none
 * (first use, or after it broke). Outside the mutex: opening takes
 * milliseconds. */
static int worker_open(const char *db_path, struct worker *w, int lazy, struct err *e)
{
    if (!w->ctx && !(w->ctx = ctx_new(e)))
        return e->code;
    return lazy ? 0 : sched_primary(db_path, w, e);
}

int sched_primary(const char *db_path, struct worker *w, struct err *e)
{
    w->store = w->primary;
    if (w->primary)
        return 0;
    if (store_open(db_path, 0, &w->primary, e)) {
        w->primary = NULL;
        if (e->code == ERR_IO)
            e->code = ERR_UNAVAILABLE;
        return e->code;
    }
    w->store = w->primary;
    return 0;
}

int sched_enter(sched *s, int heavy, int lazy, struct cancel *c, struct worker **w, struct err *e)
{
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    if (!may_take(s, heavy)) {
        if (s->queued >= s->queue_max) {
            s->rejected++;
            pthread_mutex_unlock(&s->mu);
            return err_set(e, ERR_UNAVAILABLE, "queue: %zu requests are waiting for a worker "
                           "already, the limit (serve --queue); try again shortly", s->queue_max);
        }
        s->queued++;
        s->queued_heavy += heavy != 0;
        while (!may_take(s, heavy)) {
            struct timespec t;
            if (cancel_check(c)) {
                rc = cancel_err(c, e);
                break;
            }
            clock_gettime(CLOCK_REALTIME, &t);
            t.tv_nsec += CANCEL_POLL_MS * 1000000L;
            if (t.tv_nsec >= 1000000000L) {
                t.tv_sec++;
                t.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&s->cv, &s->mu, &t);
        }
        s->queued--;
        s->queued_heavy -= heavy != 0;
    }
    if (!rc) {
        *w = s->free[--s->n_free];
        s->running++;
        s->running_heavy += heavy != 0;
    }
    pthread_mutex_unlock(&s->mu);
    if (!rc && (rc = worker_open(s->db_path, *w, lazy, e)) != 0) {
        sched_leave(s, *w, heavy, 1);
        *w = NULL;
    }
    return rc;
}

void sched_leave(sched *s, struct worker *w, int heavy, int broken)
{
    if (broken) { /* reopened by its next user, when the disk is back */
        store_close(w->primary);
        ctx_free(w->ctx);
        w->primary = NULL;
        w->ctx = NULL;
    }
    w->store = w->primary;
    pthread_mutex_lock(&s->mu);
    s->free[s->n_free++] = w;
    s->running--;
    s->running_heavy -= heavy != 0;
    if (s->queued_heavy && s->queued_heavy < s->queued)
        pthread_cond_broadcast(&s->cv); /* heavy and light wait: the one that may take it */
    else if (s->queued)
        pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void sched_stats_get(sched *s, struct sched_stats *st)
{
    pthread_mutex_lock(&s->mu);
    st->queued = s->queued;
    st->queued_heavy = s->queued_heavy;
    st->running = s->running;
    st->running_heavy = s->running_heavy;
    st->workers = s->n;
    st->heavy_max = s->heavy_max;
    st->queue_max = s->queue_max;
    st->rejected = s->rejected;
    pthread_mutex_unlock(&s->mu);
}

int sched_solo(const sched *s, int kind)
{
    return kind >= 0 && (size_t)kind < s->kinds &&
           __atomic_load_n(&s->solo[kind], __ATOMIC_RELAXED) < SOLO_MAX / 2;
}

void sched_learn(sched *s, int kind, int statements, int again)
{
    int v;
    if (kind < 0 || (size_t)kind >= s->kinds || (statements <= 0 && !again))
        return;
    v = __atomic_load_n(&s->solo[kind], __ATOMIC_RELAXED);
    if (again || statements > 1)
        v += (SOLO_MAX - v + 1) / 2;
    else
        v -= (v + 7) / 8;
    __atomic_store_n(&s->solo[kind], v, __ATOMIC_RELAXED);
}

void sched_free(sched *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n; i++)
        worker_close(&s->all[i]);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->free);
    free(s->all);
    free(s->solo);
    free(s);
}
