/* edit: single-feature writes (OGC API Features Part 4: create, replace,
 * update by JSON merge patch, delete) — each in one transaction, with the
 * version check of If-Match, the token's role and grid scope, and a history
 * row per version written. */
#ifndef ONEMAP_EDIT_H
#define ONEMAP_EDIT_H

#include <stddef.h>

#include "auth.h"
#include "buf.h"
#include "ctx.h"
#include "err.h"
#include "geom_box.h"
#include "layer.h"
#include "store.h"

#define EDIT_MAX_BOXES 2

struct edit_req {
    const struct layers *layers;
    const struct layer *layer;
    const struct principal *who;
    const char *change_id;      /* NULL: one is made */
    int crs, axis;              /* of incoming coordinates */
    long long if_match;         /* expected version, -1: no check */
    size_t max_vertices;
    size_t max_features;
    struct buf *feature_out;    /* non-NULL: a single feature written is put here
                                   (CRS84) from inside its transaction, so that
                                   the reply and its version are what this write
                                   made, whatever commits next */
};

struct edit_result {
    long long fid, version;
    size_t created;             /* FeatureCollection posts */
    struct buf ids;             /* "[1,2,...]" for FeatureCollection posts */
    struct bbox boxes[EDIT_MAX_BOXES]; /* old and new bounds, for tile invalidation */
    size_t n_boxes;
    struct bbox *more;      /* bounds of every feature of a collection post */
    size_t n_more;
    char change_id[48];
};

void edit_result_clear(struct edit_result *r);

/* Makes a change id: UTC time and 8 random hex digits. */
void edit_change_id(char out[48]);

/* body: a Feature or a FeatureCollection (all or nothing). */
int edit_create(ctx *c, store *s, const struct edit_req *q, const char *body, size_t len,
                struct edit_result *r, struct err *e);
int edit_replace(ctx *c, store *s, const struct edit_req *q, long long fid, const char *body,
                 size_t len, struct edit_result *r, struct err *e);
int edit_patch(ctx *c, store *s, const struct edit_req *q, long long fid, const char *body,
               size_t len, struct edit_result *r, struct err *e);
int edit_delete(ctx *c, store *s, const struct edit_req *q, long long fid,
                struct edit_result *r, struct err *e);

/* RFC 7396 JSON merge patch of two JSON texts: target (any JSON value; a
 * non-object is replaced by an object) and patch, each read with the body
 * limits of a write (nesting depth, duplicate names). Appends the result to
 * out. ERR_BAD_REQUEST naming "target" or "patch" when either is not JSON. */
int edit_merge_patch(const char *target, size_t target_len, const char *patch, size_t patch_len,
                     struct buf *out, struct err *e);

/* Appends the history of one feature: {"versions":[...]} */
int edit_history(ctx *c, store *s, const struct layer *l, long long fid, struct buf *out,
                 struct err *e);

#endif
