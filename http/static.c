/* static: files of the browser viewer under /static/ (static/index.html,
 * static/dist/app.js ...), read from the static directory; nothing outside it
 * is ever served: every path segment is [A-Za-z0-9._-]+ and none starts with
 * a dot (the server has already decoded %xx, so an encoded ".." or "/" meets
 * the same check). Also the viewer page for "/" and the headers that every
 * HTML page carries. */
#include "static.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "encoding.h"
#include "file.h"
#include "layer.h"
#include "routes.h"
#include "tile.h"

#define VIEWER_SLOT "{{basemaps}}"

static const char *mime(const char *name)
{
    const char *dot = strrchr(name, '.');
    static const char *types[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".png", "image/png"},
        {".svg", "image/svg+xml"},
        {".map", "application/json"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
    };
    for (size_t i = 0; dot && i < sizeof types / sizeof *types; i++)
        if (!strcmp(dot, types[i][0]))
            return types[i][1];
    return "application/octet-stream";
}

static int safe_segment(const char *n)
{
    if (!*n || n[0] == '.' || strlen(n) > 128)
        return 0;
    for (; *n; n++)
        if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || (*n >= '0' && *n <= '9') ||
              *n == '.' || *n == '-' || *n == '_'))
            return 0;
    return 1;
}

static const char *static_dir(void)
{
    const char *d = getenv("ONEMAP_STATIC_DIR");
    return d && *d ? d : ONEMAP_STATIC_DIR;
}

int static_basemap_origin(const char *url, char *out, size_t n)
{
    const char *host, *end;
    size_t len;
    int templated;
    if (!strncmp(url, "https://", 8))
        host = url + 8;
    else if (!strncmp(url, "http://", 7))
        host = url + 7;
    else
        return -1;
    end = host + strcspn(host, "/?#");
    templated = host[0] == '{';
    if (templated) { /* {a-c}.tile.example.org, t{0-7}.tianditu.gov.cn */
        const char *dot = memchr(host, '.', (size_t)(end - host));
        if (!dot)
            return -1;
        host = dot + 1;
    } else {
        const char *brace = memchr(host, '{', (size_t)(end - host));
        const char *dot = memchr(host, '.', (size_t)(end - host));
        if (brace && (!dot || brace > dot))
            return -1; /* only the leftmost label may be a template */
        if (brace) {
            templated = 1;
            host = dot + 1;
        }
    }
    if (host >= end)
        return -1;
    for (const char *p = host; p < end; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-' || *p == ':'))
            return -1;
    len = (size_t)(end - host);
    if ((size_t)snprintf(out, n, "%.*s%s%.*s", (int)(strchr(url, ':') - url + 3), url,
                         templated ? "*." : "", (int)len, host) >= n)
        return -1;
    return 0;
}

void static_put_html_headers(const struct app *app, struct res *s)
{
    struct buf csp;
    char origin[256];
    buf_init(&csp);
    buf_puts(&csp, "default-src 'self'; img-src 'self' data: blob:");
    for (size_t i = 0; app && i < app->n_basemaps; i++)
        if (!static_basemap_origin(app->basemaps[i], origin, sizeof origin))
            buf_printf(&csp, " %s", origin);
    buf_puts(&csp, "; connect-src 'self'");
    for (size_t i = 0; app && i < app->n_basemaps; i++)
        if (!static_basemap_origin(app->basemaps[i], origin, sizeof origin))
            buf_printf(&csp, " %s", origin);
    buf_puts(&csp, "; script-src 'self'; style-src 'self'; font-src 'self'; object-src 'none'; "
                   "base-uri 'none'; form-action 'self'; frame-ancestors 'self'");
    res_header(s, "Content-Security-Policy", csp.data);
    res_header(s, "Referrer-Policy", "same-origin");
    buf_clear(&csp);
}

static int read_static(const struct req *r, const char *name, char **data, size_t *len,
                       struct err *e)
{
    char path[1024];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", static_dir(), name) >= sizeof path ||
        file_read_all(path, data, len, e))
        return err_set(e, ERR_NOT_FOUND, "%s: no such file", r->path);
    return 0;
}

static int dist_file_exists(const char *name)
{
    char path[1024];
    return (size_t)snprintf(path, sizeof path, "%s/dist/%s", static_dir(), name) < sizeof path &&
           access(path, R_OK) == 0;
}

int static_viewer_built(void)
{
    return dist_file_exists("app.js") && dist_file_exists("app.css");
}

const char *static_viewer_hint(void)
{
    return "the map viewer is not built (static/dist/app.js is missing): run "
           "`npm ci && npm run build` (or `bash .ci/install`) in the source folder; "
           "the API is served as usual";
}

/* A checkout whose viewer was never bundled: a page saying so, instead of a
 * page whose script and stylesheet would answer 404. */
static int send_not_built(struct req *r, struct res *s)
{
    buf_puts(&s->body,
             "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
             "<title>onemap: 地图界面尚未构建 · the map viewer is not built</title>\n</head>\n"
             "<body>\n<h1>地图界面尚未构建 · The map viewer is not built</h1>\n"
             "<p>This onemap serves its API, but the browser viewer's bundle "
             "(<code>static/dist/app.js</code>, <code>static/dist/app.css</code>) is missing. "
             "Build it in the source folder, then reload this page:</p>\n"
             "<pre>npm ci &amp;&amp; npm run build</pre>\n"
             "<p>(<code>bash .ci/install</code> installs everything and builds it too; "
             "<code>cmake --build build</code> rebuilds it once <code>npm ci</code> has run.)</p>\n"
             "<p>本服务的接口照常可用,但浏览器地图界面的打包文件缺失。请在源码目录运行上面的命令后刷新本页。</p>\n"
             "<p>API: <a href=\"/?f=json\">/</a> · <a href=\"/collections\">/collections</a> · "
             "<a href=\"/api\">/api</a></p>\n</body>\n</html>\n");
    r->fmt = FMT_JSON; /* served as is: a page, not an error of the request */
    s->content_type = "text/html; charset=utf-8";
    res_header(s, "Cache-Control", "no-cache");
    static_put_html_headers(r->app, s);
    return 0;
}

int static_send_viewer(struct req *r, struct res *s, struct err *e)
{
    char *data = NULL, *slot;
    size_t len = 0;
    if (!static_viewer_built())
        return send_not_built(r, s);
    if (read_static(r, "index.html", &data, &len, e))
        return e->code;
    slot = strstr(data, VIEWER_SLOT);
    if (slot) {
        *slot = '\0';
        buf_puts(&s->body, data);
        for (size_t i = 0; i < r->app->n_basemaps; i++) {
            if (i)
                buf_putc(&s->body, ' ');
            buf_put_html(&s->body, r->app->basemaps[i]);
        }
        buf_puts(&s->body, slot + strlen(VIEWER_SLOT));
    } else {
        buf_append(&s->body, data, len);
    }
    free(data);
    r->fmt = FMT_JSON; /* served as is */
    s->content_type = "text/html; charset=utf-8";
    res_header(s, "Cache-Control", "no-cache");
    static_put_html_headers(r->app, s);
    return 0;
}

/* The file's bytes with an ETag (304 when the client has them), gzipped when
 * the client accepts it and the type compresses. */
static int send_file(struct req *r, struct res *s, const char *data, size_t len, struct err *e)
{
    char etag[TILE_ETAG_SIZE];
    const char *t = s->content_type;
    int gz = len > 1024 && (!strncmp(t, "text/", 5) || !strcmp(t, "application/json") ||
                            !strcmp(t, "image/svg+xml"));
    gz = gz && encoding_accepts_gzip(req_header(r, "Accept-Encoding"));
    tile_etag(data, len, gz, etag);
    res_header(s, "ETag", etag);
    res_header(s, "Vary", "Accept-Encoding");
    res_header(s, "Cache-Control", "no-cache");
    if (!strncmp(s->content_type, "text/html", 9))
        static_put_html_headers(r->app, s);
    if (encoding_etag_matches(req_header(r, "If-None-Match"), etag)) {
        s->status = 304;
        return 0;
    }
    if (!gz) {
        buf_append(&s->body, data, len);
        return 0;
    }
    res_header(s, "Content-Encoding", "gzip");
    return tile_gzip(data, len, &s->body, e);
}

int h_static(struct req *r, struct res *s, struct err *e)
{
    char name[600] = "";
    char *data = NULL;
    size_t len = 0, used = 0;
    int rc;
    for (size_t i = 0; i < r->n_captures; i++) {
        if (!safe_segment(r->captures[i]) || strstr(r->captures[i], ".."))
            return err_set(e, ERR_NOT_FOUND, "%s: no such file", r->path);
        used +=
            (size_t)snprintf(name + used, sizeof name - used, "%s%s", i ? "/" : "", r->captures[i]);
    }
    if (!strcmp(name, "index.html"))
        return static_send_viewer(r, s, e);
    if (read_static(r, name, &data, &len, e))
        return e->code;
    r->fmt = FMT_JSON; /* served as is */
    s->content_type = mime(name);
    rc = send_file(r, s, data, len, e);
    free(data);
    return rc;
}
