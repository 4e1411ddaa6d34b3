/* routes: the whole HTTP API at a glance. Patterns match segment by
 * segment; "{}" captures one segment. */
#include "routes.h"

#include <string.h>

struct route {
    const char *method;
    const char *pattern;
    handler_fn fn;
    unsigned flags; /* enum route_flag: what the server needs to know */
};

/* HEAVY: may take long (whole uploads, areas of any size): holds one of the
 * workers that heavy requests may use. PAGED: heavy when its limit asks for
 * more than ROUTES_LIGHT_LIMIT features. AREA: heavy unless its area is a
 * small bbox (ROUTES_LIGHT_BBOX_DEG2). OPEN: answered without a token
 * even when reads are private. FILE: a file, whatever the Accept header.
 * INLINE: touches no database, answered without waiting for a worker.
 * LATE: takes a worker only when it needs one (a tile in the cache needs
 * none). */
static const struct route ROUTES[] = {
    {"GET", "/", h_landing, 0},
    {"GET", "/conformance", h_conformance, 0},
    {"GET", "/api", h_api, 0},
    {"GET", "/collections", h_collections, 0},
    {"GET", "/collections/{}", h_collection, 0},
    {"GET", "/collections/{}/queryables", h_queryables, 0},
    {"GET", "/collections/{}/items", h_items, ROUTE_PAGED},
    {"POST", "/collections/{}/items", h_items_post, ROUTE_HEAVY},
    {"GET", "/collections/{}/items/{}", h_item, 0},
    {"PUT", "/collections/{}/items/{}", h_item_put, 0},
    {"PATCH", "/collections/{}/items/{}", h_item_patch, 0},
    {"DELETE", "/collections/{}/items/{}", h_item_delete, 0},
    {"GET", "/collections/{}/items/{}/history", h_history, 0},
    {"POST", "/collections/{}/import", h_import, ROUTE_HEAVY},
    {"GET", "/imports/{}", h_import_progress, ROUTE_OPEN | ROUTE_INLINE},
    {"GET", "/changes", h_changes, ROUTE_PAGED},
    {"GET", "/collections/{}/stats", h_stats, ROUTE_AREA},
    {"POST", "/collections/{}/stats", h_stats_post, ROUTE_HEAVY},
    {"GET", "/collections/{}/overlaps", h_overlaps, ROUTE_AREA},
    {"GET", "/summary", h_summary, ROUTE_AREA},
    {"GET", "/locate", h_locate, 0},
    {"GET", "/collections/{}/tiles", h_tilesets, 0},
    {"GET", "/collections/{}/tiles/WebMercatorQuad", h_tileset, 0},
    {"GET", "/collections/{}/tiles/WebMercatorQuad/{}/{}/{}", h_tile, ROUTE_LATE},
    {"GET", "/tiles", h_dataset_tilesets, 0},
    {"GET", "/tiles/WebMercatorQuad", h_dataset_tileset, 0},
    {"GET", "/tiles/WebMercatorQuad/{}/{}/{}", h_dataset_tile, ROUTE_LATE},
    {"GET", "/tileMatrixSets", h_tile_matrix_sets, 0},
    {"GET", "/tileMatrixSets/{}", h_tile_matrix_set, 0},
    {"GET", "/health", h_health, ROUTE_OPEN | ROUTE_INLINE},
    {"GET", "/metrics", h_metrics, ROUTE_INLINE},
    {"GET", "/static/{}", h_static, ROUTE_FILE},
    {"GET", "/static/{}/{}", h_static, ROUTE_FILE},
    {"GET", "/static/{}/{}/{}", h_static, ROUTE_FILE},
};

#define N_ROUTES (sizeof ROUTES / sizeof *ROUTES)
#define MAX_SEGS 16

static size_t split(char *p, char **segs)
{
    size_t n = 0;
    while (*p == '/')
        p++;
    while (*p && n < MAX_SEGS) {
        segs[n++] = p;
        p = strchr(p, '/');
        if (!p)
            break;
        *p++ = '\0';
    }
    if (p && *p)
        return MAX_SEGS + 1; /* too deep: matches nothing */
    return n;
}

static int match(const char *pattern, char **segs, size_t n, struct req *r)
{
    char pat[128], *psegs[MAX_SEGS];
    size_t np, i;
    strncpy(pat, pattern, sizeof pat - 1);
    pat[sizeof pat - 1] = '\0';
    np = split(pat, psegs);
    if (np != n)
        return 0;
    r->n_captures = 0;
    for (i = 0; i < n; i++) {
        if (!strcmp(psegs[i], "{}")) {
            if (!*segs[i] || r->n_captures == REQ_MAX_CAPTURES)
                return 0;
            r->captures[r->n_captures++] = segs[i];
        } else if (strcmp(psegs[i], segs[i])) {
            return 0;
        }
    }
    return 1;
}

int routes_dispatch(struct req *r, struct res *s, char *pathbuf, struct err *e)
{
    char *segs[MAX_SEGS + 1];
    char allow[128] = "";
    size_t n, len = strlen(pathbuf);
    const char *method = strcmp(r->method, "HEAD") ? r->method : "GET";
    r->route = -1;
    if (len > 1 && pathbuf[len - 1] == '/')
        pathbuf[len - 1] = '\0'; /* "/collections/" is "/collections" */
    n = split(pathbuf, segs);
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (!match(ROUTES[i].pattern, segs, n, r))
            continue;
        if (!strcmp(ROUTES[i].method, method)) {
            r->route = (int)i;
            return ROUTES[i].fn(r, s, e);
        }
        if (!strstr(allow, ROUTES[i].method)) {
            if (allow[0])
                strncat(allow, ", ", sizeof allow - strlen(allow) - 1);
            strncat(allow, ROUTES[i].method, sizeof allow - strlen(allow) - 1);
            if (!strcmp(ROUTES[i].method, "GET"))
                strncat(allow, ", HEAD", sizeof allow - strlen(allow) - 1);
        }
    }
    if (allow[0]) {
        res_header(s, "Allow", allow);
        return err_set(e, ERR_METHOD, "%s is not allowed on %s (allowed: %s)", r->method, r->path,
                       allow);
    }
    return err_set(e, ERR_NOT_FOUND, "%s: no such resource", r->path);
}

int routes_index(const char *method, const char *path)
{
    char buf[512], *segs[MAX_SEGS + 1];
    size_t n, len = strlen(path);
    struct req r;
    if (len >= sizeof buf)
        return -1;
    if (!strcmp(method, "HEAD"))
        method = "GET";
    memcpy(buf, path, len + 1);
    if (len > 1 && buf[len - 1] == '/')
        buf[len - 1] = '\0';
    n = split(buf, segs);
    for (size_t i = 0; i < N_ROUTES; i++)
        if (!strcmp(ROUTES[i].method, method) && match(ROUTES[i].pattern, segs, n, &r))
            return (int)i;
    return -1;
}

unsigned routes_flags(const char *method, const char *path)
{
    int i = routes_index(method, path);
    return i < 0 ? 0 : ROUTES[i].flags;
}

size_t routes_count(void)
{
    return N_ROUTES;
}

void routes_describe(size_t i, const char **method, const char **pattern)
{
    *method = ROUTES[i].method;
    *pattern = ROUTES[i].pattern;
}
