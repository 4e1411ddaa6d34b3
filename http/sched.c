/* sched: a mutex, a condition variable and one FIFO of jobs. A free worker
 * takes the oldest job it may: the oldest of all, unless that one is heavy
 * and heavy_max heavy jobs run already, in which case the oldest light one.
 * So light requests never wait behind heavy ones, and heavy ones keep their
 * order among themselves. The queue is a linked list through the jobs (no
 * allocation per request); its length is bounded by queue_max. */
#include "sched.h"

#include <pthread.h>
#include <stdlib.h>

struct sched {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct sched_job *head, *tail;
    size_t queued, queued_heavy, queue_max;
    int running, running_heavy, heavy_max;
    int stop;
    unsigned long long rejected;
    int n_threads;
    pthread_t *threads;
};

/* The job a worker may take now, unlinked; NULL when none. Under mu. */
static struct sched_job *take(sched *s)
{
    struct sched_job *prev = NULL, *j = s->head;
    int heavy_ok = s->running_heavy < s->heavy_max;
    while (j && j->heavy && !heavy_ok) {
        prev = j;
        j = j->next;
    }
    if (!j)
        return NULL;
    if (prev)
        prev->next = j->next;
    else
        s->head = j->next;
    if (s->tail == j)
        s->tail = prev;
    j->next = NULL;
    s->queued--;
    if (j->heavy) {
        s->queued_heavy--;
        s->running_heavy++;
    }
    s->running++;
    return j;
}

static void *worker_main(void *arg)
{
    sched *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        struct sched_job *j = take(s);
        int heavy;
        if (!j) {
            if (s->stop && !s->queued)
                break;
            pthread_cond_wait(&s->cv, &s->mu);
            continue;
        }
        heavy = j->heavy;
        pthread_mutex_unlock(&s->mu);
        j->run(j); /* may free j: not touched after this */
        pthread_mutex_lock(&s->mu);
        s->running--;
        if (heavy) {
            s->running_heavy--;
            /* a heavy job may now be taken by a waiting worker */
            pthread_cond_broadcast(&s->cv);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

sched *sched_new(int workers, int heavy_max, size_t queue_max)
{
    sched *s = calloc(1, sizeof *s);
    if (!s || !(s->threads = calloc((size_t)workers, sizeof *s->threads))) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->heavy_max = heavy_max < 1 ? 1 : heavy_max > workers ? workers : heavy_max;
    s->queue_max = queue_max;
    for (int i = 0; i < workers; i++) {
        if (pthread_create(&s->threads[i], NULL, worker_main, s))
            break;
        s->n_threads++;
    }
    if (!s->n_threads) {
        sched_free(s);
        return NULL;
    }
    return s;
}

int sched_submit(sched *s, struct sched_job *job)
{
    pthread_mutex_lock(&s->mu);
    if (s->queued >= s->queue_max || s->stop) {
        s->rejected++;
        pthread_mutex_unlock(&s->mu);
        return -1;
    }
    job->next = NULL;
    if (s->tail)
        s->tail->next = job;
    else
        s->head = job;
    s->tail = job;
    s->queued++;
    if (job->heavy)
        s->queued_heavy++;
    /* one wakes for a light job; a heavy one may be passed over by the first
     * worker that wakes (cap reached), so all look */
    if (job->heavy)
        pthread_cond_broadcast(&s->cv);
    else
        pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

void sched_stats_get(sched *s, struct sched_stats *st)
{
    pthread_mutex_lock(&s->mu);
    st->queued = s->queued;
    st->queued_heavy = s->queued_heavy;
    st->running = s->running;
    st->running_heavy = s->running_heavy;
    st->workers = s->n_threads;
    st->heavy_max = s->heavy_max;
    st->queue_max = s->queue_max;
    st->rejected = s->rejected;
    pthread_mutex_unlock(&s->mu);
}

void sched_free(sched *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < s->n_threads; i++)
        pthread_join(s->threads[i], NULL);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->threads);
    free(s);
}
