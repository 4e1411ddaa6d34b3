/* sched: the worker threads that answer requests and the bounded queue in
 * front of them. libmicrohttpd's threads only read and write connections;
 * every request read whole is queued here and answered by whichever worker
 * is free, so a request waits for a worker, never for another request that
 * came in on the same connection thread. Heavy requests (large areas, whole
 * imports, long pages) may hold at most heavy_max workers at once: the rest
 * stay free for light ones, which are also taken first when both wait. */
#ifndef ONEMAP_SCHED_H
#define ONEMAP_SCHED_H

#include <stddef.h>

typedef struct sched sched;

/* One unit of work; the caller's storage, untouched by sched but for next
 * while it is queued. run is called once, on a worker thread. */
struct sched_job {
    void (*run)(struct sched_job *job);
    int heavy;
    struct sched_job *next;
};

struct sched_stats {
    size_t queued, queued_heavy;  /* waiting now */
    int running, running_heavy;   /* being answered now */
    int workers, heavy_max;
    size_t queue_max;
    unsigned long long rejected;  /* refused because the queue was full */
};

/* Starts workers threads (each ends by itself when sched_free asks);
 * heavy_max in 1..workers; queue_max jobs may wait (0: none may). NULL when
 * no thread could start. */
sched *sched_new(int workers, int heavy_max, size_t queue_max);

/* Queues job: 0, or -1 when the queue is full (job not taken, counted as
 * rejected). Thread-safe. */
int sched_submit(sched *s, struct sched_job *job);

void sched_stats_get(sched *s, struct sched_stats *st);

/* Lets the queued and running jobs finish, stops the workers and frees s.
 * NULL is fine. */
void sched_free(sched *s);

#endif
