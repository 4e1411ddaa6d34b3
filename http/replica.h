/* replica: reads from PostgreSQL replicas (serve --read-db). A worker keeps
 * a connection to each read database besides its primary one; a GET is
 * read from a replica that is neither down nor lagging, a write and
 * whatever a replica cannot answer from the primary. A client reads its own
 * writes: a write's answer carries the position it committed at
 * (Onemap-Position, also as a cookie), and a read that brings it back is
 * read from a replica that has replayed that far (waited for up to
 * serve --read-wait) or from the primary.
 *
 * How far behind a replica is: the follow thread samples the primary's
 * position every REPLICAS_SAMPLE_MS; a replica that has replayed up to P
 * lacks whatever was written after the first sample beyond P, so it is at
 * least that long behind. */
#ifndef ONEMAP_REPLICA_H
#define ONEMAP_REPLICA_H

#include "req.h"

#define REPLICAS_SAMPLE_MS 200

struct replicas;

struct replicas *replicas_new(int n);
void replicas_free(struct replicas *rs);
/* The primary's position now (the follow thread). */
void replicas_sample(struct replicas *rs, unsigned long long pos);
/* Seconds a replica that has replayed up to replayed is behind (0: caught
 * up, or nothing known yet). */
double replicas_lag(struct replicas *rs, unsigned long long replayed);

/* For a reading request on w: w->store becomes a replica that has replayed
 * want (0: any) and is not known to lag more than serve --max-lag; its
 * number is returned. -1: none will do, w->store is the primary. */
int replica_choose(const struct app *app, struct worker *w, unsigned long long want,
                   struct cancel *c);
/* After the request read from replica i: failed (it could not answer) puts
 * it aside for a moment; otherwise how far its snapshot reached tells
 * whether it lags. w->store is the primary again. */
void replica_done(const struct app *app, struct worker *w, int i, int failed);
/* Whether the read just made on replica i turned out to see less than
 * want (its connection was made again, to a server further behind, after
 * replica_choose): it is to be read again from the primary. */
int replica_behind(const struct worker *w, int i, unsigned long long want);
/* Seconds on a monotonic clock (what sample times and rechecks are in). */
double replica_clock(void);
/* Closes every connection of w (not w itself). */
void worker_close(struct worker *w);

#endif
