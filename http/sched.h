/* sched: the workers — each a database connection with its core context —
 * and who may use them. Every connection has a thread of its own (reading,
 * answering, writing), so no request waits behind another one that shares
 * its thread; to do its work a request takes a free worker, waiting for one
 * when all are busy. Heavy requests (large areas, whole imports, long pages)
 * may hold at most heavy_max workers at once, so light ones always find one
 * soon; at most queue_max requests may wait, the rest are refused at once.
 * Waiting requests get workers in the order they came (a heavy one waiting
 * for room in its lane lets light ones after it go first). */
#ifndef ONEMAP_SCHED_H
#define ONEMAP_SCHED_H

#include <stddef.h>

#include "cancel.h"
#include "err.h"
#include "req.h"

typedef struct sched sched;

struct sched_stats {
    size_t queued, queued_heavy;  /* waiting for a worker now */
    int running, running_heavy;   /* holding one now */
    int workers, heavy_max;
    size_t queue_max;
    unsigned long long rejected;  /* refused because the queue was full */
};

/* workers slots (their database connections open on first use, on
 * db_path); heavy_max in 1..workers; queue_max requests may wait; kinds:
 * the kinds of request (routes) whose reads it learns (sched_solo). NULL
 * when out of memory. */
sched *sched_new(const char *db_path, int workers, int heavy_max, size_t queue_max, size_t kinds);

/* Takes a free worker for a request (heavy or not), waiting while none may
 * be had; gives up when c is cancelled meanwhile (its error), or at once
 * with ERR_UNAVAILABLE when queue_max requests wait already. *w is the
 * worker; give it back with sched_leave. */
int sched_enter(sched *s, int heavy, int lazy, struct cancel *c, struct worker **w, struct err *e);
/* lazy: w's database connection is not opened (a read that may go to a
 * replica, which must not fail because the primary is away); the caller
 * opens it with sched_primary when it turns out to be needed. */
int sched_primary(const char *db_path, struct worker *w, struct err *e);

/* Gives w back. broken: its database connection failed (unavailable,
 * read-only): it is closed and opened afresh by its next user. */
void sched_leave(sched *s, struct worker *w, int heavy, int broken);

void sched_stats_get(sched *s, struct sched_stats *st);

/* Whether a read of this kind (a route's index; -1: unknown) is best begun
 * solo (store_read_begin): whether such reads have mostly taken one
 * statement lately. Every kind starts solo. */
int sched_solo(const sched *s, int kind);
/* What a read of this kind took: its statements (0: unknown, nothing
 * learnt), and whether it had to run again (begun solo, it needed more). */
void sched_learn(sched *s, int kind, int statements, int again);

/* Closes every worker's connection; no request may hold one. NULL is fine. */
void sched_free(sched *s);

#endif
