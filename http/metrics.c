/* metrics: lock-free request counters and their Prometheus text form. Each
 * counter is an _Atomic integer updated with relaxed order: a scrape may see
 * one request counted in the total and not yet in the histogram, never a
 * torn value. The table of routes is routes.c's. */
#include "metrics.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "routes.h"
#include "store.h"
#include "sched.h"

/* Statuses counted one by one; any other falls into the last slot. */
static const int STATUSES[] = {200, 201, 204, 304, 400, 401, 403, 404, 405, 406, 409,
                               412, 413, 414, 415, 422, 431, 499, 500, 503};
#define N_STATUS (sizeof STATUSES / sizeof *STATUSES + 1)

/* Latency bucket bounds in milliseconds (Prometheus "le", in seconds). */
static const double BUCKETS_MS[] = {1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
#define N_BUCKETS (sizeof BUCKETS_MS / sizeof *BUCKETS_MS)

struct metrics {
    size_t n_routes;
    _Atomic uint64_t *requests; /* [(n_routes + 1) * N_STATUS] */
    _Atomic uint64_t buckets[N_BUCKETS + 1];
    _Atomic uint64_t sum_us;
    _Atomic uint64_t bytes;
    _Atomic long in_flight;
    _Atomic uint64_t events[METRIC_N_EVENTS];
    atomic_int draining;
    time_t started;
};

struct metrics *metrics_new(size_t n_routes)
{
    struct metrics *m = calloc(1, sizeof *m);
    size_t n = (n_routes + 1) * N_STATUS;
    if (!m)
        return NULL;
    if (!(m->requests = malloc(n * sizeof *m->requests))) {
        free(m);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        atomic_init(&m->requests[i], 0);
    for (size_t i = 0; i <= N_BUCKETS; i++)
        atomic_init(&m->buckets[i], 0);
    atomic_init(&m->sum_us, 0);
    atomic_init(&m->bytes, 0);
    atomic_init(&m->in_flight, 0);
    for (size_t i = 0; i < METRIC_N_EVENTS; i++)
        atomic_init(&m->events[i], 0);
    atomic_init(&m->draining, 0);
    m->n_routes = n_routes;
    m->started = time(NULL);
    return m;
}

void metrics_free(struct metrics *m)
{
    if (!m)
        return;
    free((void *)m->requests);
    free(m);
}

void metrics_begin(struct metrics *m)
{
    if (m)
        atomic_fetch_add_explicit(&m->in_flight, 1, memory_order_relaxed);
}

void metrics_end(struct metrics *m)
{
    if (m)
        atomic_fetch_sub_explicit(&m->in_flight, 1, memory_order_relaxed);
}

void metrics_count(struct metrics *m, enum metric_event ev)
{
    if (m)
        atomic_fetch_add_explicit(&m->events[ev], 1, memory_order_relaxed);
}

void metrics_add(struct metrics *m, enum metric_event ev, unsigned long long n)
{
    if (m)
        atomic_fetch_add_explicit(&m->events[ev], n, memory_order_relaxed);
}

long metrics_in_flight(const struct metrics *m)
{
    return m ? atomic_load_explicit(&((struct metrics *)m)->in_flight, memory_order_relaxed) : 0;
}

void metrics_drain(struct metrics *m)
{
    if (m)
        atomic_store(&m->draining, 1);
}

int metrics_draining(const struct metrics *m)
{
    return m ? atomic_load(&((struct metrics *)m)->draining) : 0;
}

static size_t status_slot(int status)
{
    for (size_t i = 0; i < N_STATUS - 1; i++)
        if (STATUSES[i] == status)
            return i;
    return N_STATUS - 1;
}

void metrics_observe(struct metrics *m, int route, int status, size_t bytes, double ms)
{
    size_t r, b = 0;
    if (!m)
        return;
    r = route >= 0 && (size_t)route < m->n_routes ? (size_t)route : m->n_routes;
    atomic_fetch_add_explicit(&m->requests[r * N_STATUS + status_slot(status)], 1,
                              memory_order_relaxed);
    while (b < N_BUCKETS && ms > BUCKETS_MS[b])
        b++;
    atomic_fetch_add_explicit(&m->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sum_us, (uint64_t)(ms > 0 ? ms * 1000 : 0),
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&m->bytes, bytes, memory_order_relaxed);
}

static uint64_t load(_Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

static void write_requests(struct metrics *m, struct buf *b)
{
    buf_puts(b, "# HELP onemap_requests_total Requests answered, by route and status.\n"
                "# TYPE onemap_requests_total counter\n");
    for (size_t r = 0; r <= m->n_routes; r++) {
        const char *method = "", *pattern = "unmatched";
        if (r < m->n_routes)
            routes_describe(r, &method, &pattern);
        for (size_t k = 0; k < N_STATUS; k++) {
            uint64_t n = load(&m->requests[r * N_STATUS + k]);
            if (!n)
                continue;
            buf_printf(b, "onemap_requests_total{method=\"%s\",route=\"%s\",status=\"", method,
                       pattern);
            if (k < N_STATUS - 1)
                buf_printf(b, "%d", STATUSES[k]);
            else
                buf_puts(b, "other");
            buf_printf(b, "\"} %llu\n", (unsigned long long)n);
        }
    }
}

static void write_latency(struct metrics *m, struct buf *b)
{
    uint64_t cum = 0;
    buf_puts(b, "# HELP onemap_request_duration_seconds Time from a request's first byte to "
                "its response.\n# TYPE onemap_request_duration_seconds histogram\n");
    for (size_t i = 0; i <= N_BUCKETS; i++) {
        cum += load(&m->buckets[i]);
        if (i < N_BUCKETS)
            buf_printf(b, "onemap_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                       BUCKETS_MS[i] / 1000, (unsigned long long)cum);
        else
            buf_printf(b, "onemap_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                       (unsigned long long)cum);
    }
    buf_printf(b, "onemap_request_duration_seconds_sum %.6f\n"
                  "onemap_request_duration_seconds_count %llu\n",
               load(&m->sum_us) / 1e6, (unsigned long long)cum);
}

static long long file_size(const char *path, const char *suffix)
{
    char p[1100];
    struct stat st;
    snprintf(p, sizeof p, "%s%s", path, suffix);
    return stat(p, &st) ? 0 : (long long)st.st_size;
}

int h_metrics(struct req *r, struct res *s, struct err *e)
{
    struct metrics *m = r->app->metrics;
    struct buf *b = &s->body;
    if (req_check_unused(r, e))
        return e->code;
    if (!m)
        return err_set(e, ERR_NOT_FOUND, "/metrics: not kept by this server");
    r->fmt = FMT_JSON; /* plain text, never rendered as a page */
    s->content_type = "text/plain; version=0.0.4; charset=utf-8";
    write_requests(m, b);
    write_latency(m, b);
    buf_printf(b, "# HELP onemap_response_bytes_total Bytes of response bodies.\n"
                  "# TYPE onemap_response_bytes_total counter\n"
                  "onemap_response_bytes_total %llu\n",
               (unsigned long long)load(&m->bytes));
    buf_printf(b, "# HELP onemap_requests_in_flight Requests being answered or sent.\n"
                  "# TYPE onemap_requests_in_flight gauge\nonemap_requests_in_flight %ld\n",
               metrics_in_flight(m));
    buf_printf(b, "# HELP onemap_request_timeouts_total Requests stopped at their deadline "
                  "(serve --request-timeout).\n"
                  "# TYPE onemap_request_timeouts_total counter\nonemap_request_timeouts_total %llu\n"
                  "# HELP onemap_requests_cancelled_total Requests whose client left before the "
                  "answer: their work was stopped.\n"
                  "# TYPE onemap_requests_cancelled_total counter\n"
                  "onemap_requests_cancelled_total %llu\n",
               (unsigned long long)load(&m->events[METRIC_TIMEOUTS]),
               (unsigned long long)load(&m->events[METRIC_CANCELLED]));
    buf_printf(b, "# HELP onemap_features_imported_total Features added, changed or removed by "
                  "committed imports (POST /collections/{c}/import).\n"
                  "# TYPE onemap_features_imported_total counter\n"
                  "onemap_features_imported_total %llu\n",
               (unsigned long long)load(&m->events[METRIC_FEATURES_IMPORTED]));
    if (r->app->sched) {
        struct sched_stats st;
        sched_stats_get(r->app->sched, &st);
        buf_printf(b, "# HELP onemap_queue_depth Requests waiting for a worker.\n"
                      "# TYPE onemap_queue_depth gauge\n"
                      "onemap_queue_depth{lane=\"light\"} %zu\nonemap_queue_depth{lane=\"heavy\"} %zu\n"
                      "# HELP onemap_queue_limit Requests that may wait (serve --queue).\n"
                      "# TYPE onemap_queue_limit gauge\nonemap_queue_limit %zu\n"
                      "# HELP onemap_queue_rejected_total Requests refused with 503: the queue "
                      "was full.\n"
                      "# TYPE onemap_queue_rejected_total counter\nonemap_queue_rejected_total %llu\n"
                      "# HELP onemap_workers_busy Workers answering a request.\n"
                      "# TYPE onemap_workers_busy gauge\n"
                      "onemap_workers_busy{lane=\"light\"} %d\nonemap_workers_busy{lane=\"heavy\"} %d\n"
                      "# HELP onemap_workers Workers, and how many heavy requests may hold.\n"
                      "# TYPE onemap_workers gauge\n"
                      "onemap_workers{lane=\"all\"} %d\nonemap_workers{lane=\"heavy\"} %d\n",
                   st.queued - st.queued_heavy, st.queued_heavy, st.queue_max,
                   st.rejected, st.running - st.running_heavy, st.running_heavy, st.workers,
                   st.heavy_max);
    }
    if (!store_is_url(r->app->db_path)) /* PostgreSQL's own statistics tell its size */
        buf_printf(b, "# HELP onemap_db_size_bytes Size of the database file and its WAL.\n"
                      "# TYPE onemap_db_size_bytes gauge\n"
                      "onemap_db_size_bytes{file=\"db\"} %lld\n"
                      "onemap_db_size_bytes{file=\"wal\"} %lld\n",
                   file_size(r->app->db_path, ""), file_size(r->app->db_path, "-wal"));
    if (r->app->tiles) {
        struct tile_cache_stats ts;
        tile_cache_stats_get(r->app->tiles, &ts);
        buf_printf(b, "# HELP onemap_tile_cache_requests_total Vector tiles asked of the cache.\n"
                      "# TYPE onemap_tile_cache_requests_total counter\n"
                      "onemap_tile_cache_requests_total{result=\"hit\"} %llu\n"
                      "onemap_tile_cache_requests_total{result=\"miss\"} %llu\n"
                      "# HELP onemap_tile_cache_bytes Memory held by cached tiles.\n"
                      "# TYPE onemap_tile_cache_bytes gauge\nonemap_tile_cache_bytes %zu\n"
                      "# HELP onemap_tile_cache_entries Tiles in the cache.\n"
                      "# TYPE onemap_tile_cache_entries gauge\nonemap_tile_cache_entries %zu\n"
                      "# HELP onemap_tile_cache_invalidated_total Tiles dropped by writes.\n"
                      "# TYPE onemap_tile_cache_invalidated_total counter\n"
                      "onemap_tile_cache_invalidated_total %llu\n",
                   (unsigned long long)ts.hits, (unsigned long long)ts.misses, ts.bytes, ts.entries,
                   (unsigned long long)ts.invalidated);
    }
    buf_printf(b, "# HELP onemap_uptime_seconds Seconds since the server started.\n"
                  "# TYPE onemap_uptime_seconds gauge\nonemap_uptime_seconds %lld\n",
               (long long)(time(NULL) - m->started));
    return 0;
}
