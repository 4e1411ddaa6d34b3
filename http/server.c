/* server: libmicrohttpd glue. Owns connections' request state; the workers
 * (database connection + core ctx) are sched.c's. Knows nothing of the API:
 * routes.c does, and its table tells what the server needs of a route
 * (flags).
 *
 * Serving model: every connection has a thread of its own, which reads its
 * requests, answers them and writes the answers, so a request never waits
 * behind another one that arrived on another connection (nor for luck in how
 * connections were spread over a pool of threads). To do its work a request
 * takes a worker from sched.c — waiting only while every worker is busy, or
 * while heavy requests hold all the workers they may — and gives it back
 * when answered: a mutex, no hand-over between threads. The queue of waiting
 * requests is bounded (503 when full). Every request has a deadline
 * (request_timeout, counted from when it was read) and is cancelled when its
 * client closes the connection: SQLite and the core's loops check both
 * (cancel.h), and so does a request waiting for a worker. */
#include "server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "cancel.h"
#include "html.h"
#include "follow.h"
#include "imports.h"
#include "metrics.h"
#include "problem.h"
#include "replica.h"
#include "routes.h"
#include "sched.h"
#include "static.h"

struct conn_state {
    struct buf body;
    int too_large;
    struct timespec t0; /* first byte of the request */
    int started;
    size_t uri_len;   /* the request target as sent, query included */
    int encoded_nul;  /* it holds %00, which decoding would cut the path at */
    int in_flight;    /* being answered: counted in the metrics */
    int fd;           /* the client's socket, to see whether it left */
    struct cancel cancel;
};

/* the cookie that carries a write's position (replica.h) */
#define POSITION_COOKIE "onemap_position"

static pthread_key_t worker_key;
static pthread_once_t worker_once = PTHREAD_ONCE_INIT;

static void worker_free(void *p)
{
    struct worker *w = p;
    if (!w)
        return;
    worker_close(w);
    free(w);
}

static void worker_key_init(void)
{
    pthread_key_create(&worker_key, worker_free);
}

/* Closes this thread's worker after the database was unavailable (full,
 * read-only, failing): the next request opens a fresh connection, so that
 * the server recovers by itself when the disk does. */
static void worker_drop(void)
{
    struct worker *w = pthread_getspecific(worker_key);
    if (w) {
        pthread_setspecific(worker_key, NULL);
        worker_free(w);
    }
}

static struct worker *worker_get(const struct app *app, struct err *e)
{
    struct worker *w;
    pthread_once(&worker_once, worker_key_init);
    w = pthread_getspecific(worker_key);
    if (w)
        return w;
    if (!(w = calloc(1, sizeof *w))) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    if (store_open(app->db_path, 0, &w->primary, e) || !(w->store = w->primary) ||
        !(w->ctx = ctx_new(e))) {
        if (e->code == ERR_IO)
            e->code = ERR_UNAVAILABLE;
        worker_free(w);
        return NULL;
    }
    pthread_setspecific(worker_key, w);
    return w;
}

void server_changed(struct req *r, const struct layer *l, const struct bbox *boxes, size_t n)
{
    uint64_t bit = 1ull << (size_t)(l - r->app->layers->v);
    follow_wrote(r->app->follow);
    for (size_t i = 0; r->app->tiles && i < n; i++)
        tile_cache_invalidate_layers(r->app->tiles, bit, &boxes[i]);
}

/* Fills r's query parameters and headers from the connection, within the
 * limits on their number and on the headers' bytes. */
struct walk {
    struct req *r;
    size_t bytes;
    int over;
};

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct walk *w = cls;
    struct req *r = w->r;
    (void)kind;
    if (r->n_params == REQ_MAX_PARAMS) {
        w->over = 1;
        return MHD_NO;
    }
    r->params[r->n_params].key = key;
    r->params[r->n_params].value = value ? value : "";
    r->params[r->n_params].used = 0;
    r->n_params++;
    return MHD_YES;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    struct walk *w = cls;
    struct req *r = w->r;
    (void)kind;
    w->bytes += strlen(key) + (value ? strlen(value) : 0) + 4;
    if (r->n_headers == REQ_MAX_HEADERS) {
        w->over = 1;
        return MHD_NO;
    }
    r->headers[r->n_headers].key = key;
    r->headers[r->n_headers].value = value ? value : "";
    r->n_headers++;
    return MHD_YES;
}

static int collect(struct MHD_Connection *conn, struct req *r, struct err *e)
{
    struct walk w = {r, 0, 0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &w);
    if (w.over)
        return err_set(e, ERR_HEADERS_TOO_LARGE, "headers: more than %d (limit)",
                       REQ_MAX_HEADERS);
    if (w.bytes > r->app->max_header)
        return err_set(e, ERR_HEADERS_TOO_LARGE,
                       "headers: %zu bytes, more than the limit of %zu (max_header)", w.bytes,
                       r->app->max_header);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_param, &w);
    if (w.over)
        return err_set(e, ERR_PARAM, "query: more than %d parameters", REQ_MAX_PARAMS);
    return 0;
}

/* The q value of one media range ("text/html;q=0.8"); *type gets the range
 * without parameters, lower-cased. */
static double media_range(const char *p, size_t n, char *type, size_t cap)
{
    size_t k = 0, i = 0;
    double q = 1.0;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    for (; i < n && p[i] != ';' && p[i] != ' ' && k + 1 < cap; i++)
        type[k++] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] - 'A' + 'a' : p[i]);
    type[k] = '\0';
    for (; i < n; i++)
        if (p[i] == ';') {
            const char *v = p + i + 1;
            while (*v == ' ')
                v++;
            if ((v[0] == 'q' || v[0] == 'Q') && v[1] == '=')
                q = strtod(v + 2, NULL);
        }
    return q > 1 ? 1 : q < 0 ? 0 : q;
}

/* Chooses JSON or HTML from f=, else from the q values of Accept: JSON wins
 * ties (so "any type" alone is JSON); an Accept that admits neither, nor a vector
 * tile, is 406 (static files are served whatever the Accept). */
static int negotiate(struct req *r, struct err *e)
{
    const char *f = req_param(r, "f"), *accept = req_header(r, "Accept"), *p;
    double q_json = 0, q_html = 0, q_tile = 0;
    char type[96];
    if (f) {
        if (!strcmp(f, "json") || !strcmp(f, "geojson"))
            r->fmt = FMT_JSON;
        else if (!strcmp(f, "html"))
            r->fmt = FMT_HTML;
        else
            return err_set(e, ERR_PARAM, "f: expected json or html, not '%s'", f);
        return 0;
    }
    r->fmt = FMT_JSON;
    if (!accept || !*accept || (routes_flags(r->method, r->path) & ROUTE_FILE))
        return 0;
    for (p = accept; *p; p += *p == ',') {
        size_t n = strcspn(p, ",");
        double q = media_range(p, n, type, sizeof type);
        int any = !strcmp(type, "*/*");
        p += n;
        if (any || !strcmp(type, "application/*") || strstr(type, "json"))
            q_json = q > q_json ? q : q_json;
        if (any || !strcmp(type, "text/*") || !strcmp(type, "text/html") ||
            !strcmp(type, "application/xhtml+xml"))
            q_html = (q > q_html) ? q : q_html;
        if (!strcmp(type, "application/vnd.mapbox-vector-tile") ||
            !strcmp(type, "application/x-protobuf"))
            q_tile = q > q_tile ? q : q_tile;
    }
    if (q_html > q_json)
        r->fmt = FMT_HTML;
    else if (q_json <= 0 && q_tile <= 0)
        return err_set(e, ERR_NOT_ACCEPTABLE, "Accept: none of '%s' can be produced (JSON, "
                       "GeoJSON or HTML)", accept);
    return 0;
}

static void set_base(struct req *r)
{
    const char *host = req_header(r, "Host");
    const char *proto = req_header(r, "X-Forwarded-Proto");
    snprintf(r->base, sizeof r->base, "%s://%s", proto && !strcmp(proto, "https") ? "https" : "http",
             host && strlen(host) < 200 && !strpbrk(host, "\"<> \\") ? host : "localhost");
}

/* The floor of security headers: nosniff on every answer, and on HTML a
 * Content-Security-Policy and X-Frame-Options when the handler set none
 * (static_put_html_headers in static.c writes the policy of onemap's own
 * pages, with the basemap hosts; this catches any page that missed it). */
static const char CSP_FLOOR[] = "default-src 'self'; object-src 'none'; base-uri 'none'; "
                                "form-action 'self'; frame-ancestors 'self'";

static void security_headers(struct MHD_Response *mr, const struct res *s)
{
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    if (!s->content_type || strncmp(s->content_type, "text/html", 9))
        return;
    if (!res_header_get(s, "Content-Security-Policy"))
        MHD_add_response_header(mr, "Content-Security-Policy", CSP_FLOOR);
    if (!res_header_get(s, "X-Frame-Options"))
        MHD_add_response_header(mr, "X-Frame-Options", "SAMEORIGIN");
}

/* Queues s; every answer varies with Accept (JSON or HTML), on top of what
 * the handler's own Vary says (e.g. Accept-Encoding for tiles). */
static enum MHD_Result send_res(struct MHD_Connection *conn, const struct app *app,
                                struct res *s)
{
    size_t len = s->body.len;
    char *data = buf_steal(&s->body);
    struct MHD_Response *mr;
    enum MHD_Result ok;
    mr = MHD_create_response_from_buffer(data ? len : 0, data ? data : (void *)"",
                                         data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!mr) {
        free(data);
        return MHD_NO;
    }
    if (s->content_type && s->status != 204 && s->status != 304)
        MHD_add_response_header(mr, "Content-Type", s->content_type);
    MHD_add_response_header(mr, "Access-Control-Allow-Origin", "*");
    security_headers(mr, s);
    {
        /* JSON or HTML by Accept, plus whatever the handler varies by, in one header */
        char vary[128] = "Accept";
        for (size_t i = 0; i < s->n_headers; i++) {
            if (strcasecmp(s->headers[i][0], "Vary"))
                MHD_add_response_header(mr, s->headers[i][0], s->headers[i][1]);
            else if (strlen(vary) + strlen(s->headers[i][1]) + 3 < sizeof vary)
                strcat(strcat(vary, ", "), s->headers[i][1]);
        }
        MHD_add_response_header(mr, "Vary", vary);
    }
    if (metrics_draining(app->metrics))
        MHD_add_response_header(mr, "Connection", "close");
    ok = MHD_queue_response(conn, (unsigned)s->status, mr);
    MHD_destroy_response(mr);
    return ok;
}

/* The access log: one JSON object per request on stderr, written with one
 * write(2) so that threads' lines never interleave. Not through stdio:
 * stderr's lock would be held across the system call, and with a thread per
 * connection most requests would then queue on it (a futex sleep and wake-up
 * each); the kernel orders concurrent writes by itself. */
void server_log_time(struct buf *b)
{
    char ts[32];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    buf_printf(b, "\"%s.%03ldZ\"", ts, now.tv_nsec / 1000000);
}

static void log_line(const struct req *r, const struct res *s, size_t bytes, double ms)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"time\":");
    server_log_time(&b);
    buf_puts(&b, ",\"method\":");
    buf_put_json_str(&b, r->method ? r->method : "");
    buf_puts(&b, ",\"path\":");
    buf_put_json_str(&b, r->path ? r->path : "");
    buf_printf(&b, ",\"status\":%d,\"bytes\":%zu,\"ms\":%.1f,\"token\":", s->status, bytes, ms);
    if (r->who[0])
        buf_put_json_str(&b, r->who);
    else
        buf_puts(&b, "null");
    buf_puts(&b, "}\n");
    for (size_t off = 0; b.data && off < b.len;) {
        ssize_t n = write(STDERR_FILENO, b.data + off, b.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* nowhere to log to: the request is answered all the same */
        off += (size_t)n;
    }
    buf_clear(&b);
}

/* The HTML page of a resource is another representation of it: its strong
 * ETag must differ from the JSON one's ("3" becomes "3-html"). */
static void html_etag(struct res *s)
{
    for (size_t i = 0; i < s->n_headers; i++) {
        char *v = s->headers[i][1], *html;
        size_t len = strlen(v);
        if (strcasecmp(s->headers[i][0], "ETag") || len < 2 || v[len - 1] != '"')
            continue;
        if (!(html = malloc(len + 6)))
            return;
        memcpy(html, v, len - 1);
        memcpy(html + len - 1, "-html\"", 7);
        free(v);
        s->headers[i][1] = html;
    }
}

/* Whether a request is answered without a database connection: on the
 * connection's own thread, never queued. */
static int needs_no_worker(const struct app *app, const char *method, const char *path)
{
    unsigned flags = routes_flags(method, path);
    return (flags & ROUTE_INLINE) && (!app->private_reads || (flags & ROUTE_OPEN));
}

int server_worker(struct req *r, struct err *e)
{
    if (r->w)
        return 0;
    int reading = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
    r->replica = -1;
    if (r->app->sched) {
        /* a read that may come from a replica does not need the primary */
        int rc = sched_enter(r->app->sched, r->heavy, reading && r->app->n_read_dbs, r->cancel,
                             &r->w, e);
        if (rc)
            return rc;
    } else if (!(r->w = worker_get(r->app, e))) { /* no daemon: tests/fuzz */
        return e->code;
    }
    /* one read transaction for all that a GET reads: from a replica when
     * there are some that will do */
    if (reading)
        r->replica = replica_choose(r->app, r->w, r->want_pos, r->cancel);
    if (r->replica < 0 && r->app->sched && sched_primary(r->app->db_path, r->w, e)) {
        sched_leave(r->app->sched, r->w, r->heavy, 1);
        r->w = NULL;
        return e->code;
    }
    r->reading = reading;
    r->pos0 = store_commit_position(r->w->primary ? r->w->primary : r->w->store);
    store_set_cancel(r->w->store, r->cancel);
    ctx_set_cancel(r->w->ctx, r->cancel);
    ctx_set_asof(r->w->ctx, r->asof[0] ? r->asof : NULL);
    if (r->reading)
        store_read_begin(r->w->store, r->app->sched && sched_solo(r->app->sched, r->route));
    return 0;
}

/* The position a read must see: Onemap-Position, or else the cookie a
 * write through any server set (a malformed cookie is ignored: the
 * client may not be able to clear it). */
static int wanted_position(struct req *r, struct err *e)
{
    const char *h = req_header(r, "Onemap-Position");
    const char *c = req_header(r, "Cookie");
    r->want_pos = 0;
    if (h) {
        if (store_position_parse(h, &r->want_pos))
            return err_set(e, ERR_BAD_REQUEST,
                           "Onemap-Position: expected a position such as 0/16B3748 (what a "
                           "write's answer carries), not '%.40s'",
                           h);
        return 0;
    }
    while (c && *c) {
        char v[40];
        size_t n;
        while (*c == ' ' || *c == ';')
            c++;
        if (!strncmp(c, POSITION_COOKIE "=", sizeof POSITION_COOKIE)) {
            c += sizeof POSITION_COOKIE;
            n = strcspn(c, "; ");
            if (n < sizeof v) {
                memcpy(v, c, n);
                v[n] = '\0';
                if (store_position_parse(v, &r->want_pos))
                    r->want_pos = 0;
            }
            return 0;
        }
        c += strcspn(c, ";");
    }
    return 0;
}

static int handle(struct req *r, struct res *s, struct err *e)
{
    char *pathbuf;
    unsigned flags;
    int rc;
    if (req_url_len(r) > r->app->max_url)
        return err_set(e, ERR_URI_TOO_LONG, "URL: longer than the limit of %zu bytes (max_url)",
                       r->app->max_url);
    r->route = routes_index(r->method, r->path); /* (dispatch finds it again) */
    flags = r->route < 0 ? 0 : routes_flags(r->method, r->path);
    if (!r->w && wanted_position(r, e))
        return e->code;
    /* a worker now, unless the route needs none or takes one only when it
     * must (a tile in the cache needs none); private reads check the token
     * in the database first */
    if (!needs_no_worker(r->app, r->method, r->path) &&
        (!(flags & ROUTE_LATE) || r->app->private_reads) && (rc = server_worker(r, e)))
        return rc;
    if ((rc = negotiate(r, e)))
        return rc;
    if (r->app->private_reads && !(flags & ROUTE_OPEN)) {
        struct principal who;
        if ((rc = auth_check(r->w->store, req_header(r, "Authorization"), &who, e)))
            return rc;
        snprintf(r->who, sizeof r->who, "%s", who.name);
    }
    set_base(r);
    if (!(pathbuf = strdup(r->path)))
        return err_set(e, ERR_INTERNAL, "out of memory");
    rc = routes_dispatch(r, s, pathbuf, e);
    free(pathbuf);
    if (rc == 0 && r->fmt == FMT_HTML && s->content_type && strstr(s->content_type, "json")) {
        struct buf page;
        buf_init(&page);
        if (html_from_json(s->body.data ? s->body.data : "{}", s->body.len, r->path, &page) == 0) {
            buf_clear(&s->body);
            s->body = page;
            s->content_type = "text/html; charset=utf-8";
            html_etag(s);
            static_put_html_headers(r->app, s);
        } else {
            buf_clear(&page);
        }
    }
    return rc;
}

/* A write's answer: where it committed, for the client's next reads
 * (replica.h), as a header and as a cookie for browsers. */
static void written_at(struct req *r, struct res *s)
{
    char pos[40], cookie[128];
    unsigned long long at = store_commit_position(r->w->primary);
    if (!at || at == r->pos0)
        return;
    store_position_text(at, pos, sizeof pos);
    snprintf(cookie, sizeof cookie,
             POSITION_COOKIE "=%s; Path=/; Max-Age=300; SameSite=Lax; HttpOnly", pos);
    res_header(s, "Onemap-Position", pos);
    res_header(s, "Set-Cookie", cookie);
}

/* s as a new answer, before a handler runs (again) */
static void res_fresh(struct res *s)
{
    memset(s, 0, sizeof *s);
    buf_init(&s->body);
    s->status = 200;
    s->content_type = "application/json";
}

/* What the request's read took, for sched_solo's choice next time. */
static void learn(struct req *r)
{
    if (r->app->sched && r->w && r->w->store)
        sched_learn(r->app->sched, r->route, store_read_count(r->w->store),
                    store_read_again(r->w->store));
}

void server_respond(struct req *r, struct res *s, struct err *e)
{
    res_fresh(s);
    r->route = -1;
    if (!e->code && handle(r, s, e) == 0)
        err_clear(e); /* a handler may answer with a body of its own after an error */
    if (r->w && r->reading && store_read_again(r->w->store) && !(r->cancel && r->cancel->why)) {
        /* begun solo, the read needed more than one statement: all of it
         * again, in one transaction (nothing was written, nothing sent) */
        learn(r);
        store_read_end(r->w->store);
        store_read_begin(r->w->store, 0);
        res_clear(s);
        res_fresh(s);
        err_clear(e);
        if (handle(r, s, e) == 0)
            err_clear(e);
    }
    if (r->w && r->replica >= 0 && !(r->cancel && r->cancel->why) &&
        (e->code == ERR_UNAVAILABLE || replica_behind(r->w, r->replica, r->want_pos))) {
        /* the replica could not answer (gone, or its recovery cancelled the
         * query), or did from before the position the read must see: the
         * same read again, from the primary */
        store_read_end(r->w->store);
        replica_done(r->app, r->w, r->replica, e->code == ERR_UNAVAILABLE);
        r->replica = -1;
        r->reading = 0;
        err_clear(e);
        if (!r->app->sched || sched_primary(r->app->db_path, r->w, e) == 0) {
            r->reading = 1;
            store_set_cancel(r->w->store, r->cancel);
            store_read_begin(r->w->store, 0);
            res_clear(s);
            res_fresh(s);
            if (handle(r, s, e) == 0)
                err_clear(e);
        }
    }
    if (e->code && r->cancel && r->cancel->why)
        cancel_err(r->cancel, e); /* whatever the work said when it was stopped */
    if (!e->code && s->body.oom)
        err_set(e, ERR_INTERNAL, "out of memory for the response");
    if (r->w) {
        int broken = e->code == ERR_UNAVAILABLE || (r->w->store && store_degraded(r->w->store));
        if (r->reading) { /* ended here: whatever path the request took */
            learn(r);
            store_read_end(r->w->store);
        }
        if (r->reading && r->app->n_read_dbs && !e->code)
            res_header(s, "Onemap-Read", r->replica >= 0 ? "replica" : "primary");
        if (r->replica >= 0) { /* a replica's failure is the replica's, not the worker's */
            store_set_cancel(r->w->store, NULL);
            replica_done(r->app, r->w, r->replica, broken);
            broken = 0;
        } else if (!r->reading && !e->code) {
            written_at(r, s);
        }
        r->replica = -1;
        r->reading = 0;
        if (r->w->store)
            store_set_cancel(r->w->store, NULL);
        ctx_set_cancel(r->w->ctx, NULL);
        ctx_set_asof(r->w->ctx, NULL);
        if (r->app->sched)
            sched_leave(r->app->sched, r->w, r->heavy, broken);
        else if (broken)
            worker_drop();
        r->w = NULL;
    }
    if (e->code)
        problem_respond(s, e);
}

/* Called with the raw request target before MHD decodes it: the one place
 * that sees the whole length (path and query) and any %00, which decoding
 * turns into a NUL that would silently shorten the path or a value. */
static struct conn_state *conn_state_new(void)
{
    struct conn_state *cs = calloc(1, sizeof *cs);
    if (cs) {
        buf_init(&cs->body);
        clock_gettime(CLOCK_MONOTONIC, &cs->t0);
    }
    return cs;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct conn_state *cs = conn_state_new();
    (void)cls, (void)conn;
    if (cs) {
        cs->uri_len = strlen(uri);
        cs->encoded_nul = strstr(uri, "%00") != NULL;
    }
    return cs;
}

/* The errors found before any handler runs; 0 when there are none. */
static int check_request(const struct app *app, const struct conn_state *cs, const char *url,
                         struct err *e)
{
    size_t len = cs->uri_len > strlen(url) ? cs->uri_len : strlen(url);
    if (cs->too_large)
        return err_set(e, ERR_TOO_LARGE, "body: larger than the limit of %zu bytes (max_body)",
                       app->max_body);
    if (len > app->max_url)
        return err_set(e, ERR_URI_TOO_LONG, "URL: %zu bytes, longer than the limit of %zu "
                       "bytes (max_url)", len, app->max_url);
    if (cs->encoded_nul)
        return err_set(e, ERR_BAD_REQUEST, "URL: contains an encoded NUL character (%%00)");
    return 0;
}

/* Whether the client of a request being answered is still connected: a
 * closed connection reads as end of file (pipelined bytes, or none yet, are
 * a live client). */
static int conn_alive(void *arg)
{
    const struct conn_state *cs = arg;
    char c;
    ssize_t n;
    if (cs->fd < 0)
        return 1;
    n = recv(cs->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
}

/* Whether bbox (as a query gives it: 4 or 6 numbers) is a small lon/lat
 * box. Anything unreadable is not: the handler will say what is wrong. */
static int small_box(const char *bbox)
{
    double v[6];
    int n = 0;
    const char *p = bbox;
    while (n < 6) {
        char *end;
        v[n++] = strtod(p, &end);
        if (end == p)
            return 0;
        p = end;
        if (*p != ',')
            break;
        p++;
    }
    if (*p || (n != 4 && n != 6))
        return 0;
    if (n == 6) { /* minx, miny, minz, maxx, maxy, maxz */
        v[2] = v[3];
        v[3] = v[4];
    }
    return (v[2] - v[0]) * (v[3] - v[1]) <= ROUTES_LIGHT_BBOX_DEG2 && v[2] >= v[0] &&
           v[3] >= v[1];
}

/* Heavy by the route's flags, and for some routes by their parameters: a
 * page by its limit, an area query by its area. */
static int is_heavy(struct MHD_Connection *conn, const char *method, const char *url)
{
    unsigned flags = routes_flags(method, url);
    const char *v;
    if (flags & ROUTE_HEAVY)
        return 1;
    if (flags & ROUTE_PAGED) {
        v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit");
        return v && strtoll(v, NULL, 10) > ROUTES_LIGHT_LIMIT;
    }
    if (flags & ROUTE_AREA) {
        const char *crs = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "bbox-crs");
        v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "bbox");
        return !v || !small_box(v) || (crs && !strstr(crs, "CRS84") && !strstr(crs, "4490") &&
                                      !strstr(crs, "4326")) ||
               MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "geometry") ||
               MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "within");
    }
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    const struct app *app = cls;
    struct conn_state *cs = *con_cls;
    const union MHD_ConnectionInfo *ci;
    struct req r;
    struct res s;
    struct err e;
    struct timespec t1;
    enum MHD_Result ok;
    double ms;
    (void)version;
    if (!cs) {
        if (!(cs = conn_state_new()))
            return MHD_NO;
        *con_cls = cs;
    }
    if (!cs->started) {
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        cs->started = 1;
        /* in flight from its first line (its body may take a while to
         * arrive) until its response is sent: what a graceful shutdown
         * waits for */
        cs->in_flight = 1;
        metrics_begin(app->metrics);
        if (cl && strtoull(cl, NULL, 10) > app->max_body)
            cs->too_large = 1; /* answered now, before a byte of the body is read */
        if (!cs->too_large)
            return MHD_YES;
    }
    if (*upload_size) {
        if (!cs->too_large && cs->body.len + *upload_size > app->max_body)
            cs->too_large = 1;
        if (!cs->too_large)
            buf_append(&cs->body, upload_data, *upload_size);
        if (cs->body.oom)
            cs->too_large = 1;
        *upload_size = 0;
        return MHD_YES;
    }
    memset(&r, 0, sizeof r);
    err_clear(&e);
    r.app = app, r.method = method, r.path = url;
    r.body = cs->body.data ? cs->body.data : "";
    r.body_len = cs->body.len;
    r.cancel = &cs->cancel;
    r.heavy = is_heavy(conn, method, url);
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    cs->fd = ci ? ci->connect_fd : -1;
    cancel_start(&cs->cancel, app->request_timeout, conn_alive, cs);
    if (check_request(app, cs, url, &e) == 0)
        collect(conn, &r, &e);
    server_respond(&r, &s, &e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - cs->t0.tv_sec) * 1e3 + (t1.tv_nsec - cs->t0.tv_nsec) / 1e6;
    log_line(&r, &s, s.body.len, ms);
    metrics_observe(app->metrics, r.route, s.status, s.body.len, ms);
    if (e.code == ERR_TIMEOUT)
        metrics_count(app->metrics, METRIC_TIMEOUTS);
    else if (e.code == ERR_GONE)
        metrics_count(app->metrics, METRIC_CANCELLED);
    /* nobody to answer: the connection is closed */
    ok = e.code == ERR_GONE ? MHD_NO : send_res(conn, app, &s);
    res_clear(&s);
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    const struct app *app = cls;
    struct conn_state *cs = *con_cls;
    (void)conn, (void)toe;
    if (cs) {
        if (cs->in_flight)
            metrics_end(app->metrics);
        buf_clear(&cs->body);
        free(cs);
        *con_cls = NULL;
    }
}

static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    struct addrinfo hints, *res = NULL;
    if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof host)
        return -1;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if (getaddrinfo(host, colon + 1, &hints, &res) || !res)
        return -1;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* After SIGTERM: waits until the requests in flight are answered (at most
 * SERVER_DRAIN_SECONDS; a second signal cuts it short). Writes are
 * transactions, so even a cut one is whole or absent, never half-written. */
#define SERVER_DRAIN_SECONDS 20

static void drain(const struct app *app, const sigset_t *set)
{
    struct timespec tick = {0, 20 * 1000 * 1000};
    for (int i = 0; i < SERVER_DRAIN_SECONDS * 50 && metrics_in_flight(app->metrics) > 0; i++)
        if (sigtimedwait(set, NULL, &tick) > 0) {
            fprintf(stderr, "onemap: second signal, stopping now\n");
            return;
        }
}

/* After SIGTERM, with serve --stop-grace: serving on as before while load
 * balancers see /health fail and send no more, so that none sends a
 * request to a server that has stopped taking them. 0 when a second
 * signal cut it short. */
static int grace(const struct app *app, const sigset_t *set, int sig)
{
    struct timespec t = {(time_t)app->stop_grace,
                         (long)((app->stop_grace - (double)(time_t)app->stop_grace) * 1e9)};
    fprintf(stderr, "onemap: %s: serving %.1f s more while /health says stopping\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT", app->stop_grace);
    if (sigtimedwait(set, NULL, &t) > 0) {
        fprintf(stderr, "onemap: second signal, stopping now\n");
        return 0;
    }
    return 1;
}

/* The listening socket, no longer watched by the daemon: the connections
 * the kernel has already accepted for it (their clients may have sent a
 * request) are served, then it is shut, so that the kernel refuses new
 * ones rather than queueing them. Closing it with connections queued
 * would reset them unanswered. */
static void take_backlog(struct MHD_Daemon *d, MHD_socket ls)
{
    int flags = fcntl(ls, F_GETFL);
    int taken = 0;
    if (flags >= 0)
        fcntl(ls, F_SETFL, flags | O_NONBLOCK);
    for (;;) {
        struct sockaddr_storage from;
        socklen_t len = sizeof from;
        int fd = accept(ls, (struct sockaddr *)&from, &len);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            break; /* EAGAIN: none left */
        }
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        /* MHD owns fd from here, and closes it when it cannot take it */
        if (MHD_add_connection(d, fd, (const struct sockaddr *)&from, len) == MHD_YES)
            taken++;
    }
    shutdown(ls, SHUT_RDWR);
    if (taken)
        fprintf(stderr, "onemap: %d queued connection%s taken in before closing\n", taken,
                taken == 1 ? "" : "s");
}

/* A connection's memory (libmicrohttpd's pool): room for a URL several times
 * the longest onemap accepts (a client that went over learns the limit from
 * onemap's JSON answer; past the pool the library refuses with a bare 414 or
 * 431), the headers and the response's headers. No larger: the library
 * clears the whole pool before every request on a kept-alive connection,
 * 256 kB of it cost an items request 5 % of onemap's CPU. */
static size_t conn_memory(const struct app *app)
{
    size_t n = app->max_url + app->max_header + 32 * 1024;
    return n < 128 * 1024 ? 128 * 1024 : n;
}

static struct MHD_Daemon *start(struct app *app, const struct sockaddr_storage *ss)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_AUTO | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    if (ss->ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    return MHD_start_daemon(flags, 0, NULL, NULL, on_request, app, MHD_OPTION_SOCK_ADDR,
                            (const struct sockaddr *)ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
                            app, MHD_OPTION_URI_LOG_CALLBACK, on_uri, app,
                            MHD_OPTION_CONNECTION_TIMEOUT, app->timeout,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, conn_memory(app), MHD_OPTION_END);
}

int server_run(struct app *app, const char *listen)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    struct MHD_Daemon *d;
    struct metrics *own = NULL;
    char shown[512];
    MHD_socket ls;
    sigset_t set;
    int sig;
    if (parse_listen(listen, &ss, &sslen)) {
        fprintf(stderr, "onemap: --listen: expected ADDR:PORT, not '%s'\n", listen);
        return 2;
    }
    if (!app->metrics && !(app->metrics = own = metrics_new(routes_count()))) {
        fprintf(stderr, "onemap: out of memory\n");
        return 1;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (!(app->sched = sched_new(app->db_path, app->threads, app->heavy_max, app->queue_max,
                                 routes_count()))) {
        fprintf(stderr, "onemap: out of memory for %d workers\n", app->threads);
        metrics_free(own);
        app->metrics = NULL;
        return 1;
    }
    if (!(d = start(app, &ss))) {
        fprintf(stderr, "onemap: cannot listen on %s\n", listen);
        sched_free(app->sched);
        app->sched = NULL;
        metrics_free(own);
        app->metrics = NULL;
        return 1;
    }
    /* everything said at start-up is said before "serving" (which tells
     * whoever waits for the server that it is up) */
    if (!static_viewer_built())
        fprintf(stderr, "onemap: %s\n", static_viewer_hint());
    if (app->n_read_dbs && !(app->replicas = replicas_new(app->n_read_dbs)))
        fprintf(stderr, "onemap: out of memory for the replicas: reading from the primary\n");
    /* no tile read from a replica is kept until the primary's position is
     * known (never, without a thread following the writes) */
    if (app->replicas)
        tile_cache_set_floor(app->tiles, STORE_POS_ALL);
    app->follow = follow_start(app);
    app->imports = imports_new(); /* without it (no memory), imports run unwatched */
    store_shown(app->db_path, shown, sizeof shown);
    fprintf(stderr, "onemap: serving %s on http://%s/ with %d workers (%d for heavy requests)\n",
            shown, listen, app->threads, app->heavy_max);
    sigwait(&set, &sig);
    /* /health answers 503 from now on, and every response closes its
     * connection */
    metrics_drain(app->metrics);
    if (app->stop_grace > 0 && !grace(app, &set, sig))
        sig = 0; /* a second signal: no grace left */
    fprintf(stderr, "onemap: %s: no new connections; finishing %ld requests\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT", metrics_in_flight(app->metrics));
    if ((ls = MHD_quiesce_daemon(d)) != MHD_INVALID_SOCKET)
        take_backlog(d, ls);
    if (sig)
        drain(app, &set);
    MHD_stop_daemon(d); /* joins every connection's thread */
    follow_stop(app->follow);
    app->follow = NULL;
    replicas_free(app->replicas);
    app->replicas = NULL;
    imports_free(app->imports);
    app->imports = NULL;
    sched_free(app->sched);
    app->sched = NULL;
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    fprintf(stderr, "onemap: stopped\n");
    metrics_free(own);
    app->metrics = NULL;
    return 0;
}
