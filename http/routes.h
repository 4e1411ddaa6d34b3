/* routes: the route table — method, path pattern, handler — and dispatch. */
#ifndef ONEMAP_ROUTES_H
#define ONEMAP_ROUTES_H

#include "req.h"

typedef int (*handler_fn)(struct req *r, struct res *s, struct err *e);

/* Finds the handler for r->method and r->path (path is split in place into
 * captures; pathbuf is a writable copy of the path). ERR_NOT_FOUND or
 * ERR_METHOD (with an Allow header on s) when none. */
int routes_dispatch(struct req *r, struct res *s, char *pathbuf, struct err *e);

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
