/* server: libmicrohttpd glue. Owns connections' request state and each pool
 * thread's worker (store connection + core ctx, created on first use and
 * closed when the thread ends). Knows nothing of the API: routes.c does. */
#include "server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "html.h"
#include "problem.h"
#include "routes.h"
#include "static.h"

struct conn_state {
    struct buf body;
    int too_large;
    int started;
    size_t uri_len;   /* the request target as sent, query included */
    int encoded_nul;  /* it holds %00, which decoding would cut the path at */
};

static pthread_key_t worker_key;
static pthread_once_t worker_once = PTHREAD_ONCE_INIT;

static void worker_free(void *p)
{
    struct worker *w = p;
    if (!w)
        return;
    store_close(w->store);
    ctx_free(w->ctx);
    free(w);
}

static void worker_key_init(void)
{
    pthread_key_create(&worker_key, worker_free);
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
    if (store_open(app->db_path, 0, &w->store, e) || !(w->ctx = ctx_new(e))) {
        if (e->code == ERR_IO)
            e->code = ERR_UNAVAILABLE;
        worker_free(w);
        return NULL;
    }
    pthread_setspecific(worker_key, w);
    return w;
}

const char *req_header(const struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *req_param(struct req *r, const char *key)
{
    for (size_t i = 0; i < r->n_params; i++)
        if (!strcmp(r->params[i].key, key)) {
            r->params[i].used = 1;
            return r->params[i].value;
        }
    return NULL;
}

int req_check_unused(struct req *r, struct err *e)
{
    for (size_t i = 0; i < r->n_params; i++) {
        if (r->params[i].used)
            continue;
        for (size_t k = 0; k < i; k++)
            if (!strcmp(r->params[k].key, r->params[i].key))
                return err_set(e, ERR_PARAM, "%s: given more than once", r->params[i].key);
        return err_set(e, ERR_PARAM, "%s: unknown query parameter", r->params[i].key);
    }
    return 0;
}

void server_changed(struct req *r, const struct layer *l, const struct bbox *boxes, size_t n)
{
    uint64_t bit = 1ull << (size_t)(l - r->app->layers->v);
    for (size_t i = 0; r->app->tiles && i < n; i++)
        tile_cache_invalidate_layers(r->app->tiles, bit, &boxes[i]);
}

void res_header(struct res *s, const char *name, const char *value)
{
    if (s->n_headers == RES_MAX_HEADERS)
        return;
    s->headers[s->n_headers][0] = strdup(name);
    s->headers[s->n_headers][1] = strdup(value);
    s->n_headers++;
}

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct req *r = cls;
    (void)kind;
    if (r->n_params == REQ_MAX_PARAMS)
        return MHD_NO;
    r->params[r->n_params].key = key;
    r->params[r->n_params].value = value ? value : "";
    r->params[r->n_params].used = 0;
    r->n_params++;
    return MHD_YES;
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
    if (!accept || !*accept || !strncmp(r->path, "/static/", 8))
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

/* Queues s; every answer varies with Accept (JSON or HTML), on top of what
 * the handler's own Vary says (e.g. Accept-Encoding for tiles). */
static enum MHD_Result send_res(struct MHD_Connection *conn, struct res *s)
{
    size_t len = s->body.len;
    char *data = buf_steal(&s->body);
    struct MHD_Response *mr;
    enum MHD_Result ok;
    if (!data) {
        data = NULL;
        len = 0;
    }
    mr = MHD_create_response_from_buffer(len, data ? data : (void *)"",
                                         data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!mr) {
        free(data);
        return MHD_NO;
    }
    if (s->content_type && s->status != 204 && s->status != 304)
        MHD_add_response_header(mr, "Content-Type", s->content_type);
    MHD_add_response_header(mr, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
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
    ok = MHD_queue_response(conn, (unsigned)s->status, mr);
    MHD_destroy_response(mr);
    return ok;
}

static void res_clear(struct res *s)
{
    buf_clear(&s->body);
    for (size_t i = 0; i < s->n_headers; i++) {
        free(s->headers[i][0]);
        free(s->headers[i][1]);
    }
    s->n_headers = 0;
}

/* Appends s to out (of cap bytes, at *n) with control bytes and backslashes
 * as \xNN, so that a decoded %0a in a URL cannot forge a line of the log. */
static void log_str(char *out, size_t cap, size_t *n, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (; s && *s && *n + 5 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || c == '\\') {
            out[(*n)++] = '\\', out[(*n)++] = 'x';
            out[(*n)++] = hex[c >> 4], out[(*n)++] = hex[c & 15];
        } else {
            out[(*n)++] = (char)c;
        }
    }
}

/* One line per request, written at once (stderr is unbuffered). */
static void log_line(const struct req *r, const struct res *s, size_t bytes, double ms)
{
    char line[1024];
    size_t n;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%SZ ", &tm);
    log_str(line, sizeof line - 64, &n, r->method);
    line[n++] = ' ';
    log_str(line, sizeof line - 64, &n, r->path);
    snprintf(line + n, sizeof line - n, " %d %zu %.1fms\n", s->status, bytes, ms);
    fputs(line, stderr);
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

static int handle(struct req *r, struct res *s, struct err *e)
{
    char *pathbuf;
    int rc;
    if (!(r->w = worker_get(r->app, e)))
        return e->code;
    if ((rc = negotiate(r, e)))
        return rc;
    if (r->app->private_reads && strcmp(r->path, "/health")) {
        struct principal who;
        if ((rc = auth_check(r->w->store, req_header(r, "Authorization"), &who, e)))
            return rc;
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

/* Called with the raw request target before MHD decodes it: the one place
 * that sees the whole length (path and query) and any %00, which decoding
 * turns into a NUL that would silently shorten the path or a value. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct conn_state *cs = calloc(1, sizeof *cs);
    (void)cls, (void)conn;
    if (cs) {
        buf_init(&cs->body);
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    const struct app *app = cls;
    struct conn_state *cs = *con_cls;
    struct req r;
    struct res s;
    struct err e;
    struct timespec t0, t1;
    enum MHD_Result ok;
    (void)version;
    if (!cs) {
        if (!(cs = calloc(1, sizeof *cs)))
            return MHD_NO;
        buf_init(&cs->body);
        *con_cls = cs;
    }
    if (!cs->started) {
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        cs->started = 1;
        if (cl && strtoull(cl, NULL, 10) > app->max_body)
            cs->too_large = 1;
        if (!cs->too_large)
            return MHD_YES;
    }
    if (*upload_size) {
        if (!cs->too_large && cs->body.len + *upload_size > app->max_body)
            cs->too_large = 1;
        if (!cs->too_large)
            buf_append(&cs->body, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(&r, 0, sizeof r);
    memset(&s, 0, sizeof s);
    err_clear(&e);
    buf_init(&s.body);
    r.app = app, r.method = method, r.path = url, r.conn = conn;
    r.body = cs->body.data ? cs->body.data : "";
    r.body_len = cs->body.len;
    s.status = 200;
    s.content_type = "application/json";
    if (check_request(app, cs, url, &e) == 0) {
        if (MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_param, &r) >
            REQ_MAX_PARAMS)
            err_set(&e, ERR_PARAM, "query: more than %d parameters", REQ_MAX_PARAMS);
        else if (handle(&r, &s, &e) == 0)
            err_clear(&e); /* a handler may answer with a body of its own after an error */
    }
    if (e.code)
        problem_respond(&s, &e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    log_line(&r, &s, s.body.len,
             (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
    ok = send_res(conn, &s);
    res_clear(&s);
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct conn_state *cs = *con_cls;
    (void)cls, (void)conn, (void)toe;
    if (cs) {
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

int server_run(struct app *app, const char *listen)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    struct MHD_Daemon *d;
    sigset_t set;
    int sig;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (parse_listen(listen, &ss, &sslen)) {
        fprintf(stderr, "onemap: --listen: expected ADDR:PORT, not '%s'\n", listen);
        return 2;
    }
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, app,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                         MHD_OPTION_THREAD_POOL_SIZE, (unsigned)app->threads,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                         MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
                         MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)256 * 1024,
                         MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "onemap: cannot listen on %s\n", listen);
        return 1;
    }
    fprintf(stderr, "onemap: serving %s on http://%s/ with %d threads\n", app->db_path, listen,
            app->threads);
    sigwait(&set, &sig);
    fprintf(stderr, "onemap: %s, shutting down\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    MHD_stop_daemon(d);
    return 0;
}
