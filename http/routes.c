/* routes: the whole HTTP API at a glance. Patterns match segment by
 * segment; "{}" captures one segment. */
#include "routes.h"

#include <string.h>

struct route {
    const char *method;
    const char *pattern;
    handler_fn fn;
};

static const struct route ROUTES[] = {
    {"GET", "/", h_landing},
    {"GET", "/conformance", h_conformance},
    {"GET", "/api", h_api},
    {"GET", "/collections", h_collections},
    {"GET", "/collections/{}", h_collection},
    {"GET", "/collections/{}/queryables", h_queryables},
    {"GET", "/collections/{}/items", h_items},
    {"POST", "/collections/{}/items", h_items_post},
    {"GET", "/collections/{}/items/{}", h_item},
    {"PUT", "/collections/{}/items/{}", h_item_put},
    {"PATCH", "/collections/{}/items/{}", h_item_patch},
    {"DELETE", "/collections/{}/items/{}", h_item_delete},
    {"GET", "/collections/{}/items/{}/history", h_history},
    {"POST", "/collections/{}/import", h_import},
    {"GET", "/changes", h_changes},
    {"GET", "/collections/{}/stats", h_stats},
    {"POST", "/collections/{}/stats", h_stats_post},
    {"GET", "/collections/{}/overlaps", h_overlaps},
    {"GET", "/summary", h_summary},
    {"GET", "/locate", h_locate},
    {"GET", "/collections/{}/tiles", h_tilesets},
    {"GET", "/collections/{}/tiles/WebMercatorQuad", h_tileset},
    {"GET", "/collections/{}/tiles/WebMercatorQuad/{}/{}/{}", h_tile},
    {"GET", "/tiles", h_dataset_tilesets},
    {"GET", "/tiles/WebMercatorQuad", h_dataset_tileset},
    {"GET", "/tiles/WebMercatorQuad/{}/{}/{}", h_dataset_tile},
    {"GET", "/tileMatrixSets", h_tile_matrix_sets},
    {"GET", "/tileMatrixSets/{}", h_tile_matrix_set},
    {"GET", "/health", h_health},
    {"GET", "/metrics", h_metrics},
    {"GET", "/static/{}", h_static},
    {"GET", "/static/{}/{}", h_static},
    {"GET", "/static/{}/{}/{}", h_static},
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

size_t routes_count(void)
{
    return N_ROUTES;
}

void routes_describe(size_t i, const char **method, const char **pattern)
{
    *method = ROUTES[i].method;
    *pattern = ROUTES[i].pattern;
}
