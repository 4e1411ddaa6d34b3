/* sched: a stack of free workers under one mutex, and the requests waiting
 * for one in a queue, first come first served. A worker given back goes
 * straight to the first waiter that may take it (a light one, or a heavy
 * one while the heavy lane has room), woken on a condition variable of its
 * own; a request that arrives finds a free worker only when no waiter could
 * have it, so none waits behind later ones (with one shared condition
 * variable, the waiter woken for a worker raced every request arriving
 * meanwhile and could lose it). Waiters wake at least every CANCEL_POLL_MS
 * to see whether their deadline passed or their client left.
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

/* A request waiting for a worker: in the queue until given one (got). */
struct waiter {
    pthread_cond_t cv;
    struct waiter *prev, *next;
    int heavy;
    struct worker *got;
};

struct sched {
    pthread_mutex_t mu;
    struct waiter *head, *tail; /* the queue, oldest first */
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

/* A free worker, counted as running (under the mutex; may_take holds). */
static struct worker *take(sched *s, int heavy)
{
    s->running++;
    s->running_heavy += heavy != 0;
    return s->free[--s->n_free];
}

static void unlink_waiter(sched *s, struct waiter *q)
{
    *(q->prev ? &q->prev->next : &s->head) = q->next;
    *(q->next ? &q->next->prev : &s->tail) = q->prev;
    q->prev = q->next = NULL;
    s->queued--;
    s->queued_heavy -= q->heavy != 0;
}

/* Free workers to the oldest waiters that may take them (under the mutex). */
static void hand_over(sched *s)
{
    for (struct waiter *q = s->head, *next; q && s->n_free > 0; q = next) {
        next = q->next;
        if (!may_take(s, q->heavy))
            continue; /* heavy, the lane full: the light ones after it go first */
        q->got = take(s, q->heavy);
        unlink_waiter(s, q);
        pthread_cond_signal(&q->cv);
    }
}

int sched_enter(sched *s, int heavy, int lazy, struct cancel *c, struct worker **w, struct err *e)
{
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    /* hand_over ran at every change: a waiter left means none of them may
     * take a free worker, so one that this request may take is its own */
    if (may_take(s, heavy)) {
        *w = take(s, heavy);
    } else if (s->queued >= s->queue_max) {
        s->rejected++;
        pthread_mutex_unlock(&s->mu);
        return err_set(e, ERR_UNAVAILABLE,
                       "queue: %zu requests are waiting for a worker "
                       "already, the limit (serve --queue); try again shortly",
                       s->queue_max);
    } else {
        struct waiter me = {.heavy = heavy};
        pthread_cond_init(&me.cv, NULL);
        me.prev = s->tail;
        *(s->tail ? &s->tail->next : &s->head) = &me;
        s->tail = &me;
        s->queued++;
        s->queued_heavy += heavy != 0;
        while (!me.got) {
            struct timespec t;
            if (cancel_check(c)) {
                unlink_waiter(s, &me);
                rc = cancel_err(c, e);
                break;
            }
            clock_gettime(CLOCK_REALTIME, &t);
            t.tv_nsec += CANCEL_POLL_MS * 1000000L;
            if (t.tv_nsec >= 1000000000L) {
                t.tv_sec++;
                t.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&me.cv, &s->mu, &t);
        }
        pthread_cond_destroy(&me.cv);
        if (!rc)
            *w = me.got;
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
    hand_over(s);
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
    free(s->free);
    free(s->all);
    free(s->solo);
    free(s);
}
