/* follow: one thread, one connection, waiting for notifications. */
#include "follow.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "replica.h"

struct follow {
    struct app *app;
    store *store;
    pthread_t thread;
    atomic_int stop;
    atomic_int fd;        /* the connection's, while it is up; -1 otherwise */
    pthread_mutex_t lock; /* the connection: the thread's or a request's */
    /* follow_sync's tickets: handed out, and covered by a finished round
     * trip (one that began after they were handed out) */
    atomic_ullong tickets;
    unsigned long long synced;
    /* with replicas: the primary's position is sampled (replica.h), and
     * the tile cache's floor raised past each invalidation */
    double sampled;  /* when last (monotonic s) */
    int floor_stale; /* an invalidation since the last sample */
};

/* How long a request waits for the connection to learn of other servers'
 * writes before it does without the cache */
#define SYNC_WAIT_MS 100

static void on_change(void *arg, const char *layer, const double box[4])
{
    struct follow *f = arg;
    struct app *app = f->app;
    static const struct bbox everywhere = {-1e9, -1e9, 1e9, 1e9};
    const struct layer *l = layer ? layers_find(app->layers, layer) : NULL;
    struct bbox b = everywhere;
    if (!app->tiles)
        return;
    if (app->replicas) { /* tiles from replicas kept again once the position is known */
        tile_cache_set_floor(app->tiles, STORE_POS_ALL);
        f->floor_stale = 1;
    }
    if (box)
        b = (struct bbox){box[0], box[1], box[2], box[3]};
    if (l)
        tile_cache_invalidate_layers(app->tiles, 1ull << (size_t)(l - app->layers->v), &b);
    else /* changes missed, or a layer this server does not know: all */
        tile_cache_invalidate(app->tiles, &b);
}

/* Takes what has arrived; waits up to timeout_ms for it when the
 * connection is down (to make it again). */
static int take(struct follow *f, int timeout_ms, struct err *e)
{
    int rc;
    pthread_mutex_lock(&f->lock);
    rc = store_changes_wait(f->store, timeout_ms, on_change, f, e);
    atomic_store(&f->fd, store_changes_fd(f->store));
    pthread_mutex_unlock(&f->lock);
    return rc;
}

/* The primary's position, every REPLICAS_SAMPLE_MS (with the lock): after
 * the notifications taken so far, so that it lies past their writes. */
static void sample(struct follow *f)
{
    unsigned long long pos;
    struct err e;
    double now = replica_clock();
    if (!f->app->replicas || now - f->sampled < REPLICAS_SAMPLE_MS / 1e3)
        return;
    f->sampled = now;
    err_clear(&e);
    pthread_mutex_lock(&f->lock);
    if (store_position(f->store, STORE_POS_WRITTEN, &pos, &e) == 0) {
        replicas_sample(f->app->replicas, pos);
        if (f->floor_stale) {
            tile_cache_set_floor(f->app->tiles, pos);
            f->floor_stale = 0;
        }
    }
    atomic_store(&f->fd, store_changes_fd(f->store));
    pthread_mutex_unlock(&f->lock);
}

static void *run(void *arg)
{
    struct follow *f = arg;
    int lost = 0;
    while (!atomic_load(&f->stop)) {
        struct pollfd p = {.fd = atomic_load(&f->fd), .events = POLLIN};
        struct err e;
        int rc;
        err_clear(&e);
        sample(f);
        /* waits without the lock, so that requests may take meanwhile */
        if (p.fd >= 0 && poll(&p, 1, f->app->replicas ? REPLICAS_SAMPLE_MS : 250) == 0)
            continue;
        rc = take(f, p.fd >= 0 ? 0 : 250, &e);
        if (rc) {
            if (!lost)
                fprintf(stderr, "onemap: following other servers' writes: %s\n", e.msg);
            lost = 1;
        } else if (lost) { /* after a failure: the next is told */
            fprintf(stderr, "onemap: following other servers' writes again\n");
            lost = 0;
        }
    }
    return NULL;
}

struct follow *follow_start(struct app *app)
{
    struct follow *f = calloc(1, sizeof *f);
    struct err e;
    err_clear(&e);
    if (!f || !store_is_url(app->db_path)) { /* one server per SQLite file: nothing to follow */
        free(f);
        return NULL;
    }
    f->app = app;
    f->floor_stale = app->replicas != NULL; /* nothing from a replica kept before a sample */
    atomic_init(&f->fd, -1);
    pthread_mutex_init(&f->lock, NULL);
    if (store_open(app->db_path, STORE_READONLY, &f->store, &e) || store_listen(f->store, &e)) {
        if (e.code != ERR_NOT_FOUND)
            fprintf(stderr, "onemap: cannot follow other servers' writes: %s\n", e.msg);
        store_close(f->store);
        free(f);
        return NULL;
    }
    atomic_store(&f->fd, store_changes_fd(f->store));
    if (pthread_create(&f->thread, NULL, run, f)) {
        fprintf(stderr, "onemap: cannot start the thread following other servers' writes\n");
        store_close(f->store);
        free(f);
        return NULL;
    }
    return f;
}

int follow_sync(struct follow *f)
{
    unsigned long long mine, upto;
    struct timespec until;
    struct err e;
    int rc = 0;
    if (!f)
        return 0;
    /* connection down (the thread makes it again, and then drops every
     * cached tile): nothing is known meanwhile */
    if (atomic_load(&f->fd) < 0)
        return -1;
    mine = atomic_fetch_add(&f->tickets, 1) + 1;
    /* the connection busy for long (the thread waiting for a database that
     * went away): not known either, rather than waiting with it */
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += SYNC_WAIT_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    if (pthread_mutex_timedlock(&f->lock, &until))
        return -1;
    /* requests arriving together share one round trip: the one that began
     * after they arrived */
    if (f->synced < mine) {
        upto = atomic_load(&f->tickets);
        err_clear(&e);
        if (atomic_load(&f->fd) < 0 || store_changes_wait(f->store, -1, on_change, f, &e))
            rc = -1;
        else
            f->synced = upto;
        atomic_store(&f->fd, store_changes_fd(f->store));
    }
    pthread_mutex_unlock(&f->lock);
    return rc;
}

void follow_wrote(struct follow *f)
{
    if (!f || !f->app->replicas)
        return;
    pthread_mutex_lock(&f->lock);
    tile_cache_set_floor(f->app->tiles, STORE_POS_ALL);
    f->floor_stale = 1;
    pthread_mutex_unlock(&f->lock);
}

void follow_stop(struct follow *f)
{
    if (!f)
        return;
    atomic_store(&f->stop, 1);
    pthread_join(f->thread, NULL);
    store_close(f->store);
    pthread_mutex_destroy(&f->lock);
    free(f);
}
