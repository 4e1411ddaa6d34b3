/* imports: a fixed table of slots under one lock, and a thread that logs
 * the long imports' progress. The Authorization a look must repeat is kept
 * only as a keyed hash. */
#include "imports.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "problem.h"
#include "routes.h"

#define SLOTS 64
#define ID_MAX 64
#define KEEP_S 60.0     /* an ended import can be looked at this long */
#define LOG_AFTER_S 3.0 /* imports that run longer log their progress ... */
#define LOG_EVERY_S 2.0 /* ... this often */

enum run_state { RUN_FREE = 0, RUN_RUNNING, RUN_DONE, RUN_FAILED, RUN_CANCELLED };

struct import_run {
    enum run_state state;
    char id[ID_MAX + 1];
    char collection[128];
    char who[128];
    unsigned char auth[crypto_generichash_BYTES];
    int dry_run;
    struct progress progress;
    struct progress_meter meter; /* for looks */
    struct progress_meter log_meter;
    double logged_at;      /* progress elapsed of the last log line */
    struct timespec ended; /* CLOCK_MONOTONIC */
    int status;            /* HTTP status it ended with */
    char error[ERR_MSG_MAX];
};

struct imports {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t logger;
    int started, stop;
    unsigned char key[crypto_generichash_KEYBYTES];
    struct import_run runs[SLOTS];
};

static double since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void auth_hash(const struct imports *im, const char *auth, unsigned char *out)
{
    crypto_generichash(out, crypto_generichash_BYTES, (const unsigned char *)(auth ? auth : ""),
                       auth ? strlen(auth) : 0, im->key, sizeof im->key);
}

/* One progress line in the access log's stream; mu held. */
static void log_run(struct import_run *run, struct progress_view *v)
{
    struct buf b;
    double rate, eta;
    progress_meter_look(&run->log_meter, v, &rate, &eta);
    buf_init(&b);
    buf_puts(&b, "{\"time\":");
    server_log_time(&b);
    buf_puts(&b, ",\"event\":\"import progress\",\"collection\":");
    buf_put_json_str(&b, run->collection);
    buf_puts(&b, ",\"token\":");
    buf_put_json_str(&b, run->who);
    buf_puts(&b, ",\"id\":");
    if (run->id[0])
        buf_put_json_str(&b, run->id);
    else
        buf_puts(&b, "null");
    buf_printf(&b,
               ",\"dry_run\":%s,\"phase\":\"%s\",\"done\":%llu,\"total\":%llu,\"unit\":\"%s\","
               "\"rate\":%.0f,\"percent\":%.1f,\"elapsed_s\":%.1f}\n",
               run->dry_run ? "true" : "false", progress_phase_name(v->phase), v->done, v->total,
               v->unit == PROGRESS_BYTES  ? "bytes"
               : v->unit == PROGRESS_NONE ? "none"
                                          : "features",
               rate, 100 * v->fraction, v->elapsed_s);
    if (b.data)
        fwrite(b.data, 1, b.len, stderr);
    buf_clear(&b);
    run->logged_at = v->elapsed_s;
}

static void *logger(void *arg)
{
    struct imports *im = arg;
    pthread_mutex_lock(&im->mu);
    while (!im->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        while (!im->stop && pthread_cond_timedwait(&im->cv, &im->mu, &until) != ETIMEDOUT)
            ;
        for (size_t i = 0; i < SLOTS && !im->stop; i++) {
            struct import_run *run = &im->runs[i];
            struct progress_view v;
            if (run->state != RUN_RUNNING)
                continue;
            progress_read(&run->progress, &v);
            if (v.elapsed_s >= LOG_AFTER_S &&
                (run->logged_at == 0 || v.elapsed_s - run->logged_at >= LOG_EVERY_S))
                log_run(run, &v);
        }
    }
    pthread_mutex_unlock(&im->mu);
    return NULL;
}

struct imports *imports_new(void)
{
    struct imports *im;
    if (sodium_init() < 0 || !(im = calloc(1, sizeof *im)))
        return NULL;
    randombytes_buf(im->key, sizeof im->key);
    pthread_mutex_init(&im->mu, NULL);
    pthread_cond_init(&im->cv, NULL);
    im->started = pthread_create(&im->logger, NULL, logger, im) == 0;
    return im;
}

void imports_free(struct imports *im)
{
    if (!im)
        return;
    pthread_mutex_lock(&im->mu);
    im->stop = 1;
    pthread_cond_signal(&im->cv);
    pthread_mutex_unlock(&im->mu);
    if (im->started)
        pthread_join(im->logger, NULL);
    pthread_mutex_destroy(&im->mu);
    pthread_cond_destroy(&im->cv);
    free(im);
}

static int id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n > ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

int imports_begin(struct imports *im, const char *id, const char *collection, const char *who,
                  const char *auth, int dry_run, struct import_run **run, struct err *e)
{
    struct import_run *free_run = NULL, *oldest = NULL;
    *run = NULL;
    if (!id)
        id = "";
    if (!id_ok(id))
        return err_set(e, ERR_PARAM,
                       "progress_id: expected up to %d letters, digits, '-' or "
                       "'_'",
                       ID_MAX);
    if (!im)
        return 0;
    pthread_mutex_lock(&im->mu);
    for (size_t i = 0; i < SLOTS; i++) {
        struct import_run *x = &im->runs[i];
        if (x->state == RUN_RUNNING && id[0] && !strcmp(x->id, id)) {
            pthread_mutex_unlock(&im->mu);
            return err_set(e, ERR_CONFLICT,
                           "progress_id: '%s' is the id of an import that is "
                           "running; give each import its own",
                           id);
        }
        if (x->state != RUN_RUNNING && id[0] && !strcmp(x->id, id))
            x->state = RUN_FREE; /* an ended import of the same id: the new one replaces it */
        if (x->state == RUN_FREE || (x->state != RUN_RUNNING && since(&x->ended) > KEEP_S)) {
            if (!free_run)
                free_run = x;
        } else if (x->state != RUN_RUNNING && (!oldest || x->ended.tv_sec < oldest->ended.tv_sec)) {
            oldest = x;
        }
    }
    if (!free_run)
        free_run = oldest; /* the import that ended longest ago is forgotten */
    if (free_run) {
        memset(free_run, 0, sizeof *free_run);
        snprintf(free_run->id, sizeof free_run->id, "%s", id);
        snprintf(free_run->collection, sizeof free_run->collection, "%s", collection);
        snprintf(free_run->who, sizeof free_run->who, "%s", who ? who : "");
        auth_hash(im, auth, free_run->auth);
        free_run->dry_run = dry_run;
        progress_start(&free_run->progress);
        progress_meter_init(&free_run->meter);
        progress_meter_init(&free_run->log_meter);
        free_run->state = RUN_RUNNING;
    }
    *run = free_run;
    pthread_mutex_unlock(&im->mu);
    return 0;
}

struct progress *imports_progress(struct import_run *run)
{
    return run ? &run->progress : NULL;
}

void imports_end(struct imports *im, struct import_run *run, int rc, const struct err *e)
{
    if (!im || !run)
        return;
    pthread_mutex_lock(&im->mu);
    if (!rc)
        progress_done(&run->progress);
    run->state = !rc ? RUN_DONE : rc == ERR_GONE || rc == ERR_TIMEOUT ? RUN_CANCELLED : RUN_FAILED;
    run->status = !rc ? 200 : problem_status(rc);
    if (rc && e)
        snprintf(run->error, sizeof run->error, "%s", e->msg);
    clock_gettime(CLOCK_MONOTONIC, &run->ended);
    pthread_mutex_unlock(&im->mu);
}

static const char *state_name(enum run_state st)
{
    switch (st) {
    case RUN_RUNNING:
        return "running";
    case RUN_DONE:
        return "done";
    case RUN_CANCELLED:
        return "cancelled";
    default:
        return "failed";
    }
}

/* The look's answer; mu held. */
static void run_json(struct import_run *run, struct buf *b)
{
    struct progress_view v;
    double rate, eta;
    progress_read(&run->progress, &v);
    if (run->state != RUN_RUNNING)
        v.elapsed_s = (double)(run->ended.tv_sec - run->progress.started.tv_sec) +
                      (double)(run->ended.tv_nsec - run->progress.started.tv_nsec) / 1e9;
    progress_meter_look(&run->meter, &v, &rate, &eta);
    buf_puts(b, "{\"id\":");
    buf_put_json_str(b, run->id);
    buf_puts(b, ",\"collection\":");
    buf_put_json_str(b, run->collection);
    buf_printf(b, ",\"dry_run\":%s,\"state\":\"%s\",\"phase\":\"%s\",\"percent\":%.1f",
               run->dry_run ? "true" : "false", state_name(run->state),
               progress_phase_name(v.phase), 100 * v.fraction);
    buf_printf(b, ",\"unit\":\"%s\",\"done\":%llu,\"total\":",
               v.unit == PROGRESS_BYTES  ? "bytes"
               : v.unit == PROGRESS_NONE ? "none"
                                         : "features",
               v.done);
    if (v.total)
        buf_printf(b, "%llu", v.total);
    else
        buf_puts(b, "null");
    buf_printf(b, ",\"rate\":%.0f,\"elapsed_s\":%.2f,\"eta_s\":", rate, v.elapsed_s);
    if (eta >= 0 && run->state == RUN_RUNNING)
        buf_printf(b, "%.1f", eta);
    else
        buf_puts(b, "null");
    if (run->state != RUN_RUNNING)
        buf_printf(b, ",\"status\":%d", run->status);
    if (run->error[0]) {
        buf_puts(b, ",\"error\":");
        buf_put_json_str(b, run->error);
    }
    buf_puts(b, "}");
}

int h_import_progress(struct req *r, struct res *s, struct err *e)
{
    struct imports *im = r->app->imports;
    const char *id = r->captures[0], *auth = req_header(r, "Authorization");
    unsigned char h[crypto_generichash_BYTES];
    int found = 0;
    if (req_check_unused(r, e))
        return e->code;
    if (!auth)
        return err_set(e, ERR_UNAUTHORIZED,
                       "Authorization: the token the import was sent "
                       "with is needed to follow it");
    r->fmt = FMT_JSON;
    res_header(s, "Cache-Control", "no-store");
    if (im && id[0] && id_ok(id)) {
        auth_hash(im, auth, h);
        pthread_mutex_lock(&im->mu);
        for (size_t i = 0; i < SLOTS && !found; i++) {
            struct import_run *run = &im->runs[i];
            if (run->state == RUN_FREE || strcmp(run->id, id) ||
                (run->state != RUN_RUNNING && since(&run->ended) > KEEP_S) ||
                sodium_memcmp(run->auth, h, sizeof h))
                continue;
            run_json(run, &s->body);
            found = 1;
        }
        pthread_mutex_unlock(&im->mu);
    }
    if (!found)
        return err_set(e, ERR_NOT_FOUND,
                       "/imports/%s: no import with this progress_id and "
                       "token is running here or ended in the last minute",
                       id);
    return 0;
}
