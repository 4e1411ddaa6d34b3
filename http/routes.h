/* routes: the route table — method, path pattern, handler — and dispatch. */
#ifndef ONEMAP_ROUTES_H
#define ONEMAP_ROUTES_H

#include "req.h"

typedef int (*handler_fn)(struct req *r, struct res *s, struct err *e);

/* Finds the handler for r->method and r->path (path is split in place into
 * captures; pathbuf is a writable copy of the path). ERR_NOT_FOUND or
 * ERR_METHOD (with an Allow header on s) when none. */
int routes_dispatch(struct req *r, struct res *s, char *pathbuf, struct err *e);

/* What the server needs to know of a route before running it. */
enum route_flag {
    ROUTE_HEAVY = 1, /* may take long: limited to the heavy lane's workers */
    ROUTE_PAGED = 2, /* heavy when limit= asks for more than ROUTES_LIGHT_LIMIT */
    ROUTE_OPEN = 4,  /* no token needed even when reads are private (/health) */
    ROUTE_FILE = 8,  /* a static file: served whatever the Accept header */
    ROUTE_INLINE = 16, /* needs no database: never waits for a worker (health checks
                        * and scrapes see a busy server) */
    ROUTE_AREA = 32,  /* heavy unless bbox= is a small lon/lat box and no other area */
    ROUTE_LATE = 64   /* takes a worker only when it needs one (server_worker) */
};
#define ROUTES_LIGHT_LIMIT 1000
/* A lon/lat box up to this many square degrees (about 25 km² at 29° N) is a
 * light query area; anything larger, any polygon and the whole layer are
 * heavy. */
#define ROUTES_LIGHT_BBOX_DEG2 0.0025

/* The flags of the route that method and path (decoded, no query) match;
 * 0 when none does. */
unsigned routes_flags(const char *method, const char *path);
/* The index of that route (as r->route has it once dispatched); -1: none. */
int routes_index(const char *method, const char *path);

/* The table's size and its i-th route, for the metrics' labels. */
size_t routes_count(void);
void routes_describe(size_t i, const char **method, const char **pattern);

/* Handlers, one file per resource. */
int h_landing(struct req *r, struct res *s, struct err *e);
int h_conformance(struct req *r, struct res *s, struct err *e);
int h_api(struct req *r, struct res *s, struct err *e);
int h_collections(struct req *r, struct res *s, struct err *e);
int h_collection(struct req *r, struct res *s, struct err *e);
int h_queryables(struct req *r, struct res *s, struct err *e);
int h_items(struct req *r, struct res *s, struct err *e);
int h_item(struct req *r, struct res *s, struct err *e);
int h_stats(struct req *r, struct res *s, struct err *e);
int h_stats_post(struct req *r, struct res *s, struct err *e);
int h_summary(struct req *r, struct res *s, struct err *e);
int h_locate(struct req *r, struct res *s, struct err *e);
int h_overlaps(struct req *r, struct res *s, struct err *e);
int h_items_post(struct req *r, struct res *s, struct err *e);
int h_item_put(struct req *r, struct res *s, struct err *e);
int h_item_patch(struct req *r, struct res *s, struct err *e);
int h_item_delete(struct req *r, struct res *s, struct err *e);
int h_import(struct req *r, struct res *s, struct err *e);
int h_history(struct req *r, struct res *s, struct err *e);
int h_changes(struct req *r, struct res *s, struct err *e);
int h_health(struct req *r, struct res *s, struct err *e);
int h_metrics(struct req *r, struct res *s, struct err *e);
int h_import_progress(struct req *r, struct res *s, struct err *e); /* imports.c */
int h_static(struct req *r, struct res *s, struct err *e);
/* tiles.c */
int h_tile_matrix_sets(struct req *r, struct res *s, struct err *e);
int h_tile_matrix_set(struct req *r, struct res *s, struct err *e);
int h_tilesets(struct req *r, struct res *s, struct err *e);
int h_tileset(struct req *r, struct res *s, struct err *e);
int h_tile(struct req *r, struct res *s, struct err *e);
int h_dataset_tilesets(struct req *r, struct res *s, struct err *e);
int h_dataset_tileset(struct req *r, struct res *s, struct err *e);
int h_dataset_tile(struct req *r, struct res *s, struct err *e);

#endif
