/* follow: one thread, one connection, waiting for notifications. */
#include "follow.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

struct follow {
    struct app *app;
    store *store;
    pthread_t thread;
    atomic_int stop;
};

static void on_change(void *arg, const char *layer, const double box[4])
{
    struct follow *f = arg;
    struct app *app = f->app;
    static const struct bbox everywhere = {-1e9, -1e9, 1e9, 1e9};
    const struct layer *l = layer ? layers_find(app->layers, layer) : NULL;
    struct bbox b = everywhere;
    if (!app->tiles)
        return;
    if (box)
        b = (struct bbox){box[0], box[1], box[2], box[3]};
    if (l)
        tile_cache_invalidate_layers(app->tiles, 1ull << (size_t)(l - app->layers->v), &b);
    else /* changes missed, or a layer this server does not know: all */
        tile_cache_invalidate(app->tiles, &b);
}

static void *run(void *arg)
{
    struct follow *f = arg;
    int lost = 0;
    while (!atomic_load(&f->stop)) {
        struct err e;
        err_clear(&e);
        if (store_changes_wait(f->store, 250, on_change, f, &e)) {
            if (!lost)
                fprintf(stderr, "onemap: following other servers' writes: %s\n", e.msg);
            lost = 1;
        } else if (lost) {
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
    if (!f)
        return NULL;
    f->app = app;
    if (store_open(app->db_path, STORE_READONLY, &f->store, &e) || store_listen(f->store, &e)) {
        if (e.code != ERR_NOT_FOUND)
            fprintf(stderr, "onemap: cannot follow other servers' writes: %s\n", e.msg);
        store_close(f->store);
        free(f);
        return NULL;
    }
    if (pthread_create(&f->thread, NULL, run, f)) {
        fprintf(stderr, "onemap: cannot start the thread following other servers' writes\n");
        store_close(f->store);
        free(f);
        return NULL;
    }
    return f;
}

void follow_stop(struct follow *f)
{
    if (!f)
        return;
    atomic_store(&f->stop, 1);
    pthread_join(f->thread, NULL);
    store_close(f->store);
    free(f);
}
