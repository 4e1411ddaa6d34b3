/* req: one HTTP request as handlers see it, and the response they fill in.
 * The server (server.c) owns both; handlers borrow them for one call and
 * return 0 or an err code (mapped to a status by problem.c). */
#ifndef ONEMAP_REQ_H
#define ONEMAP_REQ_H

#include <stddef.h>

#include "buf.h"
#include "ctx.h"
#include "err.h"
#include "instant.h"
#include "layer.h"
#include "store.h"
#include "tile_cache.h"

#define APP_MAX_BASEMAPS 4
#define APP_MAX_READ_DBS 8

/* Read-only after start: shared by every worker thread. */
struct app {
    const char *db_path;
    struct layers *layers;
    size_t max_body;          /* bytes */
    size_t max_url;           /* bytes */
    int threads;              /* workers answering requests */
    int heavy_max;            /* of them, how many heavy requests may hold at once */
    size_t queue_max;         /* requests that may wait for a worker; then 503 */
    double request_timeout;   /* seconds a request may take (queue included); 0: none */
    int private_reads;        /* reads need a token too (serve --private) */
    size_t max_vertices;      /* per geometry */
    size_t max_features;      /* per request */
    size_t max_header;        /* bytes of all request headers together */
    unsigned timeout;         /* seconds a connection may stay idle */
    double stop_grace;        /* seconds still served after SIGTERM, /health saying 503 */
    struct metrics *metrics;  /* counters: atomic, shared by every thread */
    const char *basemaps[APP_MAX_BASEMAPS]; /* XYZ URL templates for the viewer */
    size_t n_basemaps;
    /* The shared mutable objects: each locks itself. */
    tile_cache *tiles;        /* tile_cache.h */
    struct sched *sched;      /* sched.h: the workers, set by server_run */
    struct memo *summary;     /* memo.h: the whole-area /summary, until the next write */
    struct follow *follow;    /* follow.h: other servers' writes, set by server_run */
    struct imports *imports;  /* imports.h: the imports running, set by server_run */
    /* serve --read-db: replicas of the primary that reads may come from */
    const char *read_dbs[APP_MAX_READ_DBS];
    int n_read_dbs;
    double max_lag;            /* seconds a replica may be behind and still be read */
    double read_wait;          /* seconds a read waits for a replica to reach its position */
    struct replicas *replicas; /* replica.h: the primary's positions, set by server_run */
};

/* What each worker thread owns: its database connections and core context. */
struct worker {
    store *store; /* what the request in hand uses: the primary, or a replica for a read */
    ctx *ctx;
    store *primary;
    store *replica[APP_MAX_READ_DBS]; /* opened on first use (replica.h) */
    double recheck[APP_MAX_READ_DBS]; /* lagging: not read from before this (monotonic s) */
};

#define REQ_MAX_PARAMS 64
#define REQ_MAX_HEADERS 64
#define REQ_MAX_CAPTURES 4
#define RES_MAX_HEADERS 12

struct param {
    const char *key;
    const char *value;
    int used;                 /* a handler looked at it */
};

enum fmt { FMT_JSON = 0, FMT_HTML = 1 };

struct req {
    const struct app *app;
    struct worker *w;
    const char *method;
    const char *path;
    struct param params[REQ_MAX_PARAMS];
    size_t n_params;
    struct param headers[REQ_MAX_HEADERS]; /* "used" unused */
    size_t n_headers;
    const char *captures[REQ_MAX_CAPTURES];
    size_t n_captures;
    const char *body;
    size_t body_len;
    char base[256];           /* "http://host:port" for links */
    enum fmt fmt;
    int route;                /* index of the matched route, -1: none */
    char who[128];            /* name of the token that authorised it, for the log */
    struct cancel *cancel;    /* its deadline and client; NULL: none */
    int heavy;                /* takes a worker of the heavy lane (routes.h) */
    int reading;              /* r->w is in a read transaction (a GET's) */
    int replica;              /* the replica it reads from (replica.h); -1: the primary */
    unsigned long long want_pos; /* a position it must see (Onemap-Position); 0: none */
    unsigned long long pos0;     /* the primary's last commit position when it began */
    char asof[INSTANT_LEN];   /* asof= as stored (params_asof); "": now */
};

struct res {
    int status;
    const char *content_type;
    struct buf body;
    char *headers[RES_MAX_HEADERS][2];
    size_t n_headers;
    /* A handler that fails with more to say than its message (an import's
     * report of every invalid feature): JSON members ("name":value,...)
     * that the error body carries beside code, description and status. */
    struct buf problem_members;
};

/* Header of the request, NULL when absent (case-insensitive name). */
const char *req_header(const struct req *r, const char *name);
/* Query parameter value, NULL when absent; marks it used. */
const char *req_param(struct req *r, const char *key);
/* ERR_PARAM naming the first query parameter no handler looked at. */
int req_check_unused(struct req *r, struct err *e);
/* Length of the decoded path and query together, for the URL limit. */
size_t req_url_len(const struct req *r);

/* Takes a worker for r into r->w (its database connection and core ctx)
 * unless it has one: for routes that need one only sometimes (ROUTE_LATE).
 * Waits while none is free; fails with the request's deadline or when the
 * queue is full. */
int server_worker(struct req *r, struct err *e);

/* Tells the server that the data inside these storage-CRS boxes changed
 * (cached tiles there are dropped). */
struct bbox;
void server_changed(struct req *r, const struct layer *l, const struct bbox *boxes, size_t n);

/* Appends the time now as the access log writes it: "2026-12-04T03:25:01.123Z". */
void server_log_time(struct buf *b);

/* Copies name and value. */
void res_header(struct res *s, const char *name, const char *value);
/* A header a handler set (case-insensitive name), NULL when none. */
const char *res_header_get(const struct res *s, const char *name);
/* Frees the body and the headers. */
void res_clear(struct res *s);

#endif
