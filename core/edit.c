/* edit: the single-feature write path. Each call validates first, then in
 * one BEGIN IMMEDIATE transaction checks the version, writes the feature and
 * its history row, and commits: a failure at any step writes nothing. */
#include "edit.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crs.h"
#include "ctx_int.h"
#include "feature.h"
#include "jsontext.h"
#include "items.h"
#include "geom.h"
#include "history.h"

void edit_result_clear(struct edit_result *r)
{
    buf_clear(&r->ids);
    free(r->more);
    memset(r, 0, sizeof *r);
}

void edit_change_id(char out[48])
{
    time_t now = time(NULL);
    struct tm tm;
    unsigned char rnd[4];
    char hex[9];
    gmtime_r(&now, &tm);
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
    strftime(out, 48, "%Y%m%dT%H%M%SZ-", &tm);
    strncat(out, hex, 47 - strlen(out));
}

/* The current state of a feature, read inside the write transaction. */
struct current {
    long long version;
    unsigned char *wkb;
    size_t wkb_len;
    struct buf feature;        /* GeoJSON Feature, storage CRS, without area */
    int found;
};

static void current_clear(struct current *cur)
{
    free(cur->wkb);
    buf_clear(&cur->feature);
    memset(cur, 0, sizeof *cur);
}

struct cur_run {
    ctx *c;
    const struct layer *l;
    struct current *cur;
};

static int on_current(void *arg, const struct store_row *row, struct err *e)
{
    struct cur_run *r = arg;
    struct feature_out fo = {CRS_STORAGE, CRS_AXIS_XY, NULL, 1};
    r->cur->found = 1;
    r->cur->version = row->version;
    if (!(r->cur->wkb = malloc(row->wkb_len ? row->wkb_len : 1)))
        return err_set(e, ERR_INTERNAL, "out of memory");
    memcpy(r->cur->wkb, row->wkb, row->wkb_len);
    r->cur->wkb_len = row->wkb_len;
    return feature_write(r->c, r->l, row, &fo, &r->cur->feature, e);
}

static int read_current(ctx *c, store *s, const struct layer *l, long long fid,
                        struct current *cur, struct err *e)
{
    struct store_query q;
    struct cur_run r = {c, l, cur};
    int rc;
    memset(cur, 0, sizeof *cur);
    buf_init(&cur->feature);
    memset(&q, 0, sizeof q);
    q.layer = l;
    q.fid = fid;
    q.limit = 1;
    q.want_wkb = 1;
    if ((rc = store_query_rows(s, &q, on_current, &r, e)))
        return rc;
    if (!cur->found)
        return err_set(e, ERR_NOT_FOUND, "%s/%lld: no such feature", l->id, fid);
    return 0;
}

/* The union of the token's grids; NULL with ERR_FORBIDDEN when none exists. */
static GEOSGeometry *scope_area(ctx *c, store *s, const struct edit_req *q, struct err *e)
{
    const struct layer *grids = layers_find(q->layers, "grids");
    GEOSGeometry *parts[64], *coll, *u;
    char codes[1024], *save = NULL, *code;
    size_t n = 0;
    snprintf(codes, sizeof codes, "%s", q->who->grids);
    for (code = strtok_r(codes, ",", &save); code && grids && n < 64;
         code = strtok_r(NULL, ",", &save)) {
        long long fid;
        unsigned char *wkb = NULL;
        size_t len = 0;
        struct err ignore;
        if (store_feature_fid_by_key(s, grids, code, &fid, &ignore) ||
            store_feature_wkb(s, grids, fid, &wkb, &len, &ignore))
            continue;
        if ((parts[n] = GEOSGeomFromWKB_buf_r(c->geos, wkb, len)))
            n++;
        free(wkb);
    }
    if (!n) {
        err_set(e, ERR_FORBIDDEN, "token '%s' is limited to grids %s, none of which exists",
                q->who->name, q->who->grids);
        return NULL;
    }
    coll = GEOSGeom_createCollection_r(c->geos, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)n);
    u = coll ? GEOSUnaryUnion_r(c->geos, coll) : NULL;
    if (coll)
        GEOSGeom_destroy_r(c->geos, coll);
    if (!u)
        ctx_geos_err(c, e, ERR_INTERNAL, "grid scope");
    return u;
}

/* Role and grid scope: readers never write; a grid-scoped token changes
 * only geometries (old and new) that lie within its grids. */
static int authorise(ctx *c, store *s, const struct edit_req *q, const GEOSGeometry *old_g,
                     const GEOSGeometry *new_g, struct err *e)
{
    GEOSGeometry *area;
    int ok = 1;
    if (!q->who || q->who->role < ROLE_EDITOR)
        return err_set(e, ERR_FORBIDDEN, "token '%s' has role %s; writing needs editor or admin",
                       q->who ? q->who->name : "", auth_role_name(q->who ? q->who->role : 0));
    if (!q->who->grids[0])
        return 0;
    if (!(area = scope_area(c, s, q, e)))
        return e->code;
    if (old_g && GEOSCovers_r(c->geos, area, old_g) != 1)
        ok = 0;
    if (ok && new_g && GEOSCovers_r(c->geos, area, new_g) != 1)
        ok = -1;
    GEOSGeom_destroy_r(c->geos, area);
    if (ok == 1)
        return 0;
    return err_set(e, ERR_FORBIDDEN, "grid rule: token '%s' may change only geometries within "
                   "grids %s; the %s geometry is not", q->who->name, q->who->grids,
                   ok == 0 ? "current" : "new");
}

static void add_box(ctx *c, struct edit_result *r, const GEOSGeometry *g)
{
    if (g && r->n_boxes < EDIT_MAX_BOXES && geom_bounds(c, g, &r->boxes[r->n_boxes]) == 0)
        r->n_boxes++;
}

/* Writes the history row of the version just written, read back as stored. */
static int history(ctx *c, store *s, const struct edit_req *q, long long fid, const char *op,
                   struct edit_result *r, struct err *e)
{
    struct current now;
    int rc = read_current(c, s, q->layer, fid, &now, e);
    if (!rc)
        rc = store_history_add(s, q->layer, fid, now.version, op, q->who ? q->who->name : NULL,
                               r->change_id, now.feature.data, e);
    r->version = now.version;
    current_clear(&now);
    return rc;
}

/* The feature as this transaction wrote it, for the reply (q->feature_out). */
static int feature_out(ctx *c, store *s, const struct edit_req *q, long long fid,
                       struct edit_result *r, struct err *e)
{
    long long version = 0;
    int rc;
    if (!q->feature_out)
        return 0;
    buf_reset(q->feature_out);
    if ((rc = items_get(c, s, q->layer, fid, CRS_CRS84, CRS_AXIS_XY, q->feature_out, &version,
                        e)))
        return rc;
    r->version = version;
    return 0;
}

static int parse_body(ctx *c, const struct edit_req *q, const char *body, size_t len, json_t **j,
                      struct err *e)
{
    json_error_t je;
    int rc;
    if ((rc = json_depth_check(body, len, 64, e)))
        return rc;
    if (!(*j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je)))
        return err_set(e, ERR_BAD_REQUEST, "body: line %d, column %d: %s", je.line, je.column,
                       je.text);
    (void)c;
    (void)q;
    return 0;
}

static int parse_one(ctx *c, const struct edit_req *q, const json_t *j, int crs,
                     struct feature_in *f, struct err *e)
{
    struct limits lim;
    limits_default(&lim);
    if (q->max_vertices)
        lim.max_vertices = q->max_vertices;
    return feature_parse(c, q->layer, j, crs, crs == q->crs ? q->axis : CRS_AXIS_XY, &lim,
                         FEATURE_STRICT, f, e);
}

/* A write's result starts with its change id: the caller's or a new one. */
static void start_change(const struct edit_req *q, struct edit_result *r)
{
    buf_init(&r->ids);
    if (q->change_id)
        snprintf(r->change_id, sizeof r->change_id, "%s", q->change_id);
    else
        edit_change_id(r->change_id);
}

/* Creates features, all or nothing: one Feature (one), or the features of a
 * FeatureCollection (feats), whose errors name features[i]. One feature's
 * reply is the feature itself (r->fid, q->feature_out) and its bounds; a
 * collection's, the ids (r->ids) and every feature's bounds (r->more). */
static int create(ctx *c, store *s, const struct edit_req *q, const json_t *one,
                  const json_t *feats, struct edit_result *r, struct err *e)
{
    size_t n = one ? 1 : json_array_size(feats), i;
    struct feature_in *fs;
    int rc = 0;
    if (q->max_features && n > q->max_features)
        return err_set(e, ERR_TOO_LARGE, "features: %zu features, more than the limit of %zu "
                       "(max_features)", n, q->max_features);
    if (!(fs = calloc(n ? n : 1, sizeof *fs)) ||
        (!one && !(r->more = calloc(n ? n : 1, sizeof *r->more)))) {
        free(fs);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    for (i = 0; i < n && !rc; i++)
        if (((rc = parse_one(c, q, one ? one : json_array_get(feats, i), q->crs, &fs[i], e)) ||
             (rc = authorise(c, s, q, NULL, fs[i].geom, e))) && !one)
            err_prefix(e, "features[%zu]", i);
    if (!rc && !(rc = store_begin(s, e))) {
        if (!one)
            buf_putc(&r->ids, '[');
        for (i = 0; i < n && !rc; i++) {
            long long fid;
            if ((rc = feature_insert(c, s, q->layer, &fs[i], &fid, e)) ||
                (rc = history(c, s, q, fid, "create", r, e))) {
                if (!one)
                    err_prefix(e, "features[%zu]", i);
                break;
            }
            if (one) {
                r->fid = fid;
                rc = feature_out(c, s, q, fid, r, e);
                continue;
            }
            buf_printf(&r->ids, "%s%lld", i ? "," : "", fid);
            if (geom_bounds(c, fs[i].geom, &r->more[r->n_more]) == 0)
                r->n_more++;
        }
        if (!one)
            buf_putc(&r->ids, ']');
        if (rc || (rc = store_commit(s, e)))
            store_rollback(s);
        else if (one)
            add_box(c, r, fs[0].geom);
        else
            r->created = n;
    }
    for (i = 0; i < n; i++)
        feature_in_clear(c, &fs[i]);
    free(fs);
    return rc;
}

int edit_create(ctx *c, store *s, const struct edit_req *q, const char *body, size_t len,
                struct edit_result *r, struct err *e)
{
    json_t *j = NULL;
    const char *type;
    int rc;
    start_change(q, r);
    if ((rc = parse_body(c, q, body, len, &j, e)))
        return rc;
    type = json_string_value(json_object_get(j, "type"));
    if (!type || strcmp(type, "FeatureCollection"))
        rc = create(c, s, q, j, NULL, r, e);
    else if (!json_is_array(json_object_get(j, "features")))
        rc = err_set(e, ERR_INVALID, "features: expected an array");
    else
        rc = create(c, s, q, NULL, json_object_get(j, "features"), r, e);
    json_decref(j);
    return rc;
}

static int check_version(const struct edit_req *q, const struct current *cur, struct err *e)
{
    if (q->if_match >= 0 && q->if_match != cur->version)
        return err_set(e, ERR_PRECONDITION, "If-Match: the feature is at version %lld, not %lld "
                       "(someone changed it since you read it)", cur->version, q->if_match);
    return 0;
}

/* Replaces feature fid with f inside an open transaction. */
static int write_over(ctx *c, store *s, const struct edit_req *q, long long fid,
                      const struct current *cur, const struct feature_in *f, const char *op,
                      struct edit_result *r, struct err *e)
{
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(c->geos);
    GEOSGeometry *old_g = GEOSGeomFromWKB_buf_r(c->geos, cur->wkb, cur->wkb_len);
    unsigned char *wkb = NULL;
    size_t wkb_len = 0;
    struct buf gj;
    int rc;
    buf_init(&gj);
    if (!w || !old_g) {
        rc = ctx_geos_err(c, e, ERR_INTERNAL, "geometry");
        goto out;
    }
    if ((rc = check_version(q, cur, e)) || (rc = authorise(c, s, q, old_g, f->geom, e)))
        goto out;
    wkb = GEOSWKBWriter_write_r(c->geos, w, f->geom, &wkb_len);
    geojson_geom_write_storage(c, f->geom, &gj);
    if (!wkb || gj.oom) {
        rc = err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    if ((rc = store_history_keep(s, q->layer, fid, cur->version, cur->feature.data, e)) ||
        (rc = store_feature_update(s, q->layer, fid, cur->version + 1, f->vals, wkb, wkb_len,
                                   gj.data, f->area_m2, e)) ||
        (rc = history(c, s, q, fid, op, r, e)) || (rc = feature_out(c, s, q, fid, r, e)))
        goto out;
    r->fid = fid;
    add_box(c, r, old_g);
    add_box(c, r, f->geom);
out:
    if (wkb)
        GEOSFree_r(c->geos, wkb);
    if (w)
        GEOSWKBWriter_destroy_r(c->geos, w);
    if (old_g)
        GEOSGeom_destroy_r(c->geos, old_g);
    buf_clear(&gj);
    return rc;
}

static int begin_edit(ctx *c, store *s, const struct edit_req *q, long long fid,
                      struct current *cur, struct edit_result *r, struct err *e)
{
    int rc;
    start_change(q, r);
    if ((rc = store_begin(s, e)))
        return rc;
    if ((rc = read_current(c, s, q->layer, fid, cur, e)))
        store_rollback(s);
    return rc;
}

static int end_edit(store *s, int rc, struct err *e)
{
    if (rc || (rc = store_commit(s, e)))
        store_rollback(s);
    return rc;
}

int edit_replace(ctx *c, store *s, const struct edit_req *q, long long fid, const char *body,
                 size_t len, struct edit_result *r, struct err *e)
{
    json_t *j = NULL;
    struct feature_in f;
    struct current cur;
    int rc;
    memset(&f, 0, sizeof f);
    memset(&cur, 0, sizeof cur);
    if ((rc = parse_body(c, q, body, len, &j, e)) || (rc = parse_one(c, q, j, q->crs, &f, e)))
        goto out;
    if (!(rc = begin_edit(c, s, q, fid, &cur, r, e)))
        rc = end_edit(s, write_over(c, s, q, fid, &cur, &f, "replace", r, e), e);
out:
    current_clear(&cur);
    feature_in_clear(c, &f);
    json_decref(j);
    return rc;
}

/* RFC 7396: applies patch to target in place (target is an object). */
static void merge_patch(json_t *target, const json_t *patch)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)patch, k, v) {
        if (json_is_null(v)) {
            json_object_del(target, k);
        } else if (json_is_object(v)) {
            json_t *t = json_object_get(target, k);
            if (!json_is_object(t)) {
                t = json_object();
                json_object_set_new(target, k, t);
            }
            merge_patch(t, v);
        } else {
            json_object_set(target, k, v);
        }
    }
}

int edit_merge_patch(const char *target, size_t target_len, const char *patch, size_t patch_len,
                     struct buf *out, struct err *e)
{
    json_t *t = NULL, *p = NULL;
    char *text = NULL;
    int rc;
    if ((rc = parse_body(NULL, NULL, target, target_len, &t, e))) {
        err_prefix(e, "target");
        goto out;
    }
    if ((rc = parse_body(NULL, NULL, patch, patch_len, &p, e))) {
        err_prefix(e, "patch");
        goto out;
    }
    if (!json_is_object(p)) {
        /* RFC 7396: a patch that is not an object replaces the target */
        text = json_dumps(p, JSON_ENCODE_ANY | JSON_COMPACT);
    } else {
        if (!json_is_object(t)) {
            json_decref(t);
            t = json_object();
        }
        merge_patch(t, p);
        text = json_dumps(t, JSON_ENCODE_ANY | JSON_COMPACT);
    }
    if (!text) {
        rc = err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    buf_puts(out, text);
out:
    free(text);
    json_decref(t);
    json_decref(p);
    return rc;
}

int edit_patch(ctx *c, store *s, const struct edit_req *q, long long fid, const char *body,
               size_t len, struct edit_result *r, struct err *e)
{
    json_t *patch = NULL, *target = NULL, *props;
    json_error_t je;
    struct feature_in f;
    struct current cur;
    int rc, crs;
    memset(&f, 0, sizeof f);
    memset(&cur, 0, sizeof cur);
    if ((rc = parse_body(c, q, body, len, &patch, e)))
        goto out;
    if (!json_is_object(patch)) {
        rc = err_set(e, ERR_BAD_REQUEST, "body: a merge patch must be a JSON object");
        goto out;
    }
    if ((rc = begin_edit(c, s, q, fid, &cur, r, e)))
        goto out;
    if (!(target = json_loads(cur.feature.data, 0, &je))) {
        rc = end_edit(s, err_set(e, ERR_INTERNAL, "stored feature unreadable"), e);
        goto out;
    }
    json_object_del(target, "id");
    merge_patch(target, patch);
    if ((props = json_object_get(target, "properties")) && json_is_object(props)) {
        json_object_del(props, "area_m2");
        json_object_del(props, "area_mu");
    }
    /* an unpatched geometry is the stored one, in storage coordinates */
    crs = json_object_get(patch, "geometry") ? q->crs : CRS_STORAGE;
    if ((rc = parse_one(c, q, target, crs, &f, e))) {
        end_edit(s, rc, e);
        goto out;
    }
    rc = end_edit(s, write_over(c, s, q, fid, &cur, &f, "update", r, e), e);
out:
    current_clear(&cur);
    feature_in_clear(c, &f);
    json_decref(patch);
    json_decref(target);
    return rc;
}

int edit_delete(ctx *c, store *s, const struct edit_req *q, long long fid,
                struct edit_result *r, struct err *e)
{
    struct current cur;
    GEOSGeometry *old_g = NULL;
    int rc;
    memset(&cur, 0, sizeof cur);
    if ((rc = begin_edit(c, s, q, fid, &cur, r, e)))
        goto out;
    old_g = GEOSGeomFromWKB_buf_r(c->geos, cur.wkb, cur.wkb_len);
    if (!old_g)
        rc = ctx_geos_err(c, e, ERR_INTERNAL, "geometry");
    if (!rc && !(rc = check_version(q, &cur, e)) && !(rc = authorise(c, s, q, old_g, NULL, e)) &&
        !(rc = store_history_keep(s, q->layer, fid, cur.version, cur.feature.data, e)) &&
        !(rc = store_feature_delete(s, q->layer, fid, e))) {
        /* the last state is kept in the history with the delete */
        r->version = cur.version + 1;
        r->fid = fid;
        rc = store_history_add(s, q->layer, fid, r->version, "delete",
                               q->who ? q->who->name : NULL, r->change_id, cur.feature.data, e);
        add_box(c, r, old_g);
    }
    rc = end_edit(s, rc, e);
out:
    if (old_g)
        GEOSGeom_destroy_r(c->geos, old_g);
    current_clear(&cur);
    return rc;
}

struct live_run {
    ctx *c;
    store *s;
    const struct layer *l;
};

/* A history row stored without a copy is the live feature's version. */
static int live_feature(void *arg, long long fid, long long version, struct buf *out,
                        struct err *e)
{
    struct live_run *lr = arg;
    struct current cur;
    int rc = read_current(lr->c, lr->s, lr->l, fid, &cur, e);
    if (rc == ERR_NOT_FOUND || (!rc && cur.version != version)) {
        err_clear(e);
        buf_puts(out, "null");
        rc = 0;
    } else if (!rc) {
        buf_append(out, cur.feature.data, cur.feature.len);
    }
    current_clear(&cur);
    return rc;
}

int edit_history(ctx *c, store *s, const struct layer *l, long long fid, struct buf *out,
                 struct err *e)
{
    struct live_run lr = {c, s, l};
    long long n = 0;
    int rc;
    buf_puts(out, "{\"collection\":");
    buf_put_json_str(out, l->id);
    buf_printf(out, ",\"id\":%lld,\"versions\":[", fid);
    if ((rc = history_versions_json(s, l, fid, live_feature, &lr, out, &n, e)))
        return rc;
    if (n == 0)
        return err_set(e, ERR_NOT_FOUND, "%s/%lld: no such feature and no history", l->id, fid);
    buf_puts(out, "]}");
    return 0;
}
