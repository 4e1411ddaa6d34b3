/* metrics: the server's counters — requests by route and status, a latency
 * histogram, bytes sent, requests in flight — kept with C11 atomics so that
 * every worker thread updates them without a lock, and written out in the
 * Prometheus text format for GET /metrics. */
#ifndef ONEMAP_METRICS_H
#define ONEMAP_METRICS_H

#include <stddef.h>

#include "req.h"

struct metrics;

/* Counters for n_routes routes (routes.c) plus one for unmatched paths.
 * NULL when out of memory. Caller frees, after every thread is done. */
struct metrics *metrics_new(size_t n_routes);
void metrics_free(struct metrics *m);

/* A request (read whole) is being answered / its answer has been sent. */
void metrics_begin(struct metrics *m);
void metrics_end(struct metrics *m);
long metrics_in_flight(const struct metrics *m);

/* Counts one answered request: route index (-1: none matched), status,
 * body bytes and milliseconds from its first byte to its response. */
void metrics_observe(struct metrics *m, int route, int status, size_t bytes, double ms);

/* Events counted apart from the routes. */
enum metric_event {
    METRIC_TIMEOUTS = 0, /* past serve --request-timeout: 503 */
    METRIC_CANCELLED,    /* the client closed its connection first: work stopped */
    METRIC_FEATURES_IMPORTED, /* added, changed or removed by a committed import */
    METRIC_N_EVENTS
};
void metrics_count(struct metrics *m, enum metric_event ev);
void metrics_add(struct metrics *m, enum metric_event ev, unsigned long long n);

/* Shutting down: responses ask clients to close their connections. */
void metrics_drain(struct metrics *m);
int metrics_draining(const struct metrics *m);

#endif
