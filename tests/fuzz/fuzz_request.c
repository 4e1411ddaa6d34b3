/* fuzz_request: one HTTP request through the whole server pipeline
 * (server_respond: URL and header limits, format negotiation, routing,
 * every handler's parameter parsing, the core call, HTML pages, error
 * bodies) against a small database, without a network. The input is
 *   METHOD SP PATH[?QUERY] LF {NAME: VALUE LF} LF BODY
 * with the path and query percent-decoded as libmicrohttpd does. There is no
 * token, so nothing is ever written. Promises checked: never a 500; every
 * error is a JSON body with code and description. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "metrics.h"
#include "routes.h"
#include "server.h"

static struct app app;

static void app_init(void)
{
    struct err e;
    store *s = NULL;
    if (app.db_path)
        return;
    err_clear(&e);
    app.db_path = fuzz_db_path(1);
    if (store_open(app.db_path, 0, &s, &e) || store_layers_get(s, &app.layers, &e))
        fuzz_require(0, "app layers", &e);
    store_close(s);
    app.max_body = 1 << 20;
    app.max_url = 16384;
    app.max_header = 16384;
    app.threads = 1;
    app.timeout = 30;
    app.max_vertices = 20000;
    app.max_features = 1000;
    app.metrics = metrics_new(routes_count());
}

static int hex(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decodes %XX (and '+' as a space in the query) in place. */
static void unescape(char *s, int plus)
{
    char *w = s;
    for (; *s; s++) {
        if (*s == '%' && hex(s[1]) >= 0 && hex(s[2]) >= 0) {
            *w++ = (char)(hex(s[1]) * 16 + hex(s[2]));
            s += 2;
        } else {
            *w++ = plus && *s == '+' ? ' ' : *s;
        }
    }
    *w = '\0';
}

static void parse_query(struct req *r, char *q)
{
    while (q && *q && r->n_params < REQ_MAX_PARAMS) {
        char *amp = strchr(q, '&'), *eq;
        if (amp)
            *amp++ = '\0';
        if ((eq = strchr(q, '=')))
            *eq++ = '\0';
        unescape(q, 1);
        if (eq)
            unescape(eq, 1);
        r->params[r->n_params].key = q;
        r->params[r->n_params].value = eq ? eq : "";
        r->n_params++;
        q = amp;
    }
}

/* Splits text (modified in place) into r; returns the body's offset. */
static size_t parse(struct req *r, char *text, size_t size)
{
    char *line = text, *nl, *sp, *q;
    nl = memchr(text, '\n', size);
    if (!nl)
        nl = text + size;
    *nl = '\0';
    sp = strchr(line, ' ');
    r->method = sp ? line : "GET";
    if (sp)
        *sp = '\0';
    r->path = sp ? sp + 1 : line;
    if ((q = strchr(r->path, '?')))
        *q++ = '\0';
    unescape((char *)r->path, 0);
    parse_query(r, q);
    line = nl + 1;
    while (line < text + size && *line != '\n' && r->n_headers < REQ_MAX_HEADERS) {
        char *colon;
        if (!(nl = memchr(line, '\n', (size_t)(text + size - line))))
            nl = text + size;
        *nl = '\0';
        if ((colon = strchr(line, ':'))) {
            *colon++ = '\0';
            while (*colon == ' ')
                colon++;
            r->headers[r->n_headers].key = line;
            r->headers[r->n_headers].value = colon;
            r->n_headers++;
        }
        line = nl + 1;
    }
    return line < text + size ? (size_t)(line + 1 - text) : size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    struct req r;
    struct res s;
    struct err e;
    size_t at;
    app_init();
    memset(&r, 0, sizeof r);
    err_clear(&e);
    r.app = &app;
    at = parse(&r, text, size);
    r.body = text + (at < size ? at : size);
    r.body_len = at < size ? size - at : 0;
    server_respond(&r, &s, &e);
    fuzz_require(s.status != 500, "a request was answered with 500", &e);
    if (s.status >= 400) {
        json_t *j = json_loadb(s.body.data ? s.body.data : "", s.body.len, 0, NULL);
        fuzz_require(j && json_is_string(json_object_get(j, "code")) &&
                         json_is_string(json_object_get(j, "description")),
                     "an error without a JSON body", &e);
        json_decref(j);
    }
    res_clear(&s);
    free(text);
    return 0;
}
