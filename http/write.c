/* write: the Part 4 write resources — POST items, PUT/PATCH/DELETE one
 * item — and the history and change log. Each checks the bearer token,
 * media type and If-Match, then makes one core call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "crs.h"
#include "edit.h"
#include "history.h"
#include "imports.h"
#include "ingest.h"
#include "metrics.h"
#include "items.h"
#include "ogc.h"
#include "paging.h"
#include "params.h"
#include "routes.h"

static int write_authorise(struct req *r, struct principal *p, struct err *e)
{
    int rc = auth_check(r->w->store, req_header(r, "Authorization"), p, e);
    if (!rc)
        snprintf(r->who, sizeof r->who, "%s", p->name);
    return rc;
}

static int media_type(struct req *r, const char *const *ok, struct err *e)
{
    const char *ct = req_header(r, "Content-Type");
    for (size_t i = 0; ct && ok[i]; i++)
        if (!strncasecmp(ct, ok[i], strlen(ok[i])) &&
            (ct[strlen(ok[i])] == '\0' || ct[strlen(ok[i])] == ';' || ct[strlen(ok[i])] == ' '))
            return 0;
    return err_set(e, ERR_MEDIA_TYPE, "Content-Type: expected %s%s, got '%s'", ok[0],
                   ok[1] ? " or another JSON type" : "", ct ? ct : "");
}

/* Incoming CRS from Content-Crs or crs=; default CRS84. */
static int incoming_crs(struct req *r, struct edit_req *q, struct err *e)
{
    const char *h = req_header(r, "Content-Crs");
    int rc;
    q->crs = CRS_CRS84;
    q->axis = CRS_AXIS_AUTHORITY;
    if (h && crs_parse(h, &q->crs, e))
        return err_prefix(e, "Content-Crs");
    if ((rc = params_crs(r, "crs", &q->crs, e)) < 0)
        return rc;
    return 0;
}

static int if_match(struct req *r, long long *v, struct err *e)
{
    const char *h = req_header(r, "If-Match");
    char *end;
    *v = -1;
    if (!h || !strcmp(h, "*"))
        return 0;
    if (!strncmp(h, "W/", 2))
        return err_set(e, ERR_PRECONDITION, "If-Match: a weak ETag never matches for writes");
    if (*h == '"')
        h++;
    *v = strtoll(h, &end, 10);
    if (end == h || (*end && *end != '"') || *v < 1)
        return err_set(e, ERR_PRECONDITION, "If-Match: expected the ETag of a version, like \"3\"");
    return 0;
}

static int prepare(struct req *r, const struct layer *l, struct principal *who,
                   struct edit_req *q, struct err *e)
{
    int rc;
    memset(q, 0, sizeof *q);
    q->layers = r->app->layers;
    q->layer = l;
    q->who = who;
    q->max_vertices = r->app->max_vertices;
    q->max_features = r->app->max_features;
    if ((rc = write_authorise(r, who, e)) || (rc = incoming_crs(r, q, e)) ||
        (rc = if_match(r, &q->if_match, e)))
        return rc;
    return req_check_unused(r, e);
}

static void set_etag(struct res *s, long long version)
{
    char etag[48];
    snprintf(etag, sizeof etag, "\"%lld\"", version);
    res_header(s, "ETag", etag);
}

/* The feature as the write stored it (edit_req.feature_out filled the body
 * inside the write's transaction), with its version as the ETag. */
static void respond_feature(struct res *s, const struct edit_result *er)
{
    s->content_type = "application/geo+json";
    set_etag(s, er->version);
}

static void invalidate(struct req *r, const struct layer *l, const struct edit_result *er)
{
    server_changed(r, l, er->boxes, er->n_boxes);
    server_changed(r, l, er->more, er->n_more);
}

int h_items_post(struct req *r, struct res *s, struct err *e)
{
    static const char *const ok[] = {"application/geo+json", "application/json", NULL};
    const struct layer *l = route_layer(r, e);
    struct principal who;
    struct edit_req q;
    struct edit_result er;
    char loc[512];
    int rc;
    if (!l)
        return e->code;
    memset(&er, 0, sizeof er);
    if (!(rc = prepare(r, l, &who, &q, e)))
        q.feature_out = &s->body;
    if (rc || (rc = media_type(r, ok, e)) ||
        (rc = edit_create(r->w->ctx, r->w->store, &q, r->body, r->body_len, &er, e))) {
        buf_reset(&s->body);
        edit_result_clear(&er);
        return rc;
    }
    invalidate(r, l, &er);
    s->status = 201;
    if (er.created || er.ids.len) {
        buf_reset(&s->body);
        buf_printf(&s->body, "{\"created\":%zu,\"ids\":%s,\"change_id\":\"%s\"}", er.created,
                   er.ids.data ? er.ids.data : "[]", er.change_id);
    } else {
        snprintf(loc, sizeof loc, "%s/collections/%s/items/%lld", r->base, l->id, er.fid);
        res_header(s, "Location", loc);
        respond_feature(s, &er);
    }
    edit_result_clear(&er);
    return rc;
}

static int item_fid(struct req *r, const struct layer *l, long long *fid, struct err *e)
{
    if (params_ll(r->captures[1], fid) || *fid <= 0)
        return err_set(e, ERR_NOT_FOUND, "%s/%s: no such feature", l->id, r->captures[1]);
    return 0;
}

static int item_write(struct req *r, struct res *s, int op, struct err *e)
{
    static const char *const ok_put[] = {"application/geo+json", "application/json", NULL};
    static const char *const ok_patch[] = {"application/merge-patch+json", "application/json",
                                           "application/geo+json", NULL};
    const struct layer *l = route_layer(r, e);
    struct principal who;
    struct edit_req q;
    struct edit_result er;
    long long fid;
    int rc;
    if (!l || item_fid(r, l, &fid, e))
        return e->code;
    memset(&er, 0, sizeof er);
    if ((rc = prepare(r, l, &who, &q, e)))
        return rc;
    if (op != 'D')
        q.feature_out = &s->body;
    if (op == 'D')
        rc = edit_delete(r->w->ctx, r->w->store, &q, fid, &er, e);
    else if (op == 'P')
        rc = media_type(r, ok_put, e) ? e->code
             : edit_replace(r->w->ctx, r->w->store, &q, fid, r->body, r->body_len, &er, e);
    else
        rc = media_type(r, ok_patch, e) ? e->code
             : edit_patch(r->w->ctx, r->w->store, &q, fid, r->body, r->body_len, &er, e);
    if (!rc) {
        invalidate(r, l, &er);
        if (op == 'D')
            s->status = 204;
        else
            respond_feature(s, &er);
    } else {
        buf_reset(&s->body);
    }
    edit_result_clear(&er);
    return rc;
}

int h_item_put(struct req *r, struct res *s, struct err *e)
{
    return item_write(r, s, 'P', e);
}

int h_item_patch(struct req *r, struct res *s, struct err *e)
{
    return item_write(r, s, 'M', e);
}

int h_item_delete(struct req *r, struct res *s, struct err *e)
{
    return item_write(r, s, 'D', e);
}

int h_history(struct req *r, struct res *s, struct err *e)
{
    const struct layer *l = route_layer(r, e);
    long long fid;
    if (!l || item_fid(r, l, &fid, e) || req_check_unused(r, e))
        return e->code;
    return edit_history(r->w->ctx, r->w->store, l, fid, &s->body, e);
}

int h_changes(struct req *r, struct res *s, struct err *e)
{
    const char *v;
    long long since = 0, limit = 1000;
    int rc;
    if ((v = req_param(r, "since")) && params_ll(v, &since))
        return err_set(e, ERR_PARAM, "since: expected a non-negative integer, got '%s'", v);
    if ((rc = paging_limit_parse(r, &limit, e)) || (rc = req_check_unused(r, e)))
        return rc;
    return history_changes_json(r->w->store, since, limit, &s->body, e);
}

static int import_opts(struct req *r, const struct layer *l, struct ingest_opts *o,
                       const char **progress_id, struct err *e)
{
    const char *v;
    int rc, crs = -1;
    ingest_opts_default(o);
    o->max_features = r->app->max_features;
    o->max_vertices = r->app->max_vertices;
    if ((v = req_param(r, "key")) && (o->key_field = layer_field_index(l, v)) < 0)
        return err_set(e, ERR_PARAM, "key: '%s' is not a property of %s", v, l->id);
    if ((v = req_param(r, "mode"))) {
        if (strcmp(v, "upsert") && strcmp(v, "replace"))
            return err_set(e, ERR_PARAM, "mode: expected upsert or replace, got '%s'", v);
        o->mode = strcmp(v, "replace") ? INGEST_UPSERT : INGEST_REPLACE;
    }
    if ((rc = params_bool(r, "dry_run", &o->dry_run, e)) ||
        (rc = params_bool(r, "make_valid", &o->make_valid, e)) ||
        (rc = params_bool(r, "preview", &o->preview, e)))
        return rc;
    if (o->preview && !o->dry_run)
        return err_set(e, ERR_PARAM, "preview: only with dry_run=true (a preview writes nothing)");
    if ((rc = params_crs(r, "crs", &crs, e)) < 0)
        return rc;
    if (rc == 1) {
        o->crs = crs;
        o->axis = CRS_AXIS_AUTHORITY;
    }
    o->encoding = req_param(r, "encoding");
    *progress_id = req_param(r, "progress_id"); /* GET /imports/{id} follows it */
    return req_check_unused(r, e);
}

int h_import(struct req *r, struct res *s, struct err *e)
{
    const struct layer *l = route_layer(r, e);
    const char *ct = req_header(r, "Content-Type");
    struct principal who;
    struct ingest_opts o;
    struct ingest_report *rep;
    struct import_run *run = NULL;
    const char *progress_id = NULL;
    int rc, zip;
    if (!l)
        return e->code;
    if ((rc = write_authorise(r, &who, e)) || (rc = import_opts(r, l, &o, &progress_id, e)))
        return rc;
    if (who.role < ROLE_EDITOR)
        return err_set(e, ERR_FORBIDDEN, "token '%s' has role %s; imports need editor or admin",
                       who.name, auth_role_name(who.role));
    if (who.grids[0])
        return err_set(e, ERR_FORBIDDEN, "grid rule: token '%s' is limited to grids %s; whole-layer "
                       "imports need a token without grid scope", who.name, who.grids);
    zip = ct && (!strncmp(ct, "application/zip", 15) || !strncmp(ct, "application/x-zip", 17));
    if (!zip && (!ct || (strncmp(ct, "application/geo+json", 20) &&
                         strncmp(ct, "application/json", 16))))
        return err_set(e, ERR_MEDIA_TYPE, "Content-Type: expected application/geo+json or "
                       "application/zip (a zipped Shapefile), got '%s'", ct ? ct : "");
    if ((rc = imports_begin(r->app->imports, progress_id, l->id, who.name,
                            req_header(r, "Authorization"), o.dry_run, &run, e)))
        return rc;
    if (!(rep = calloc(1, sizeof *rep))) {
        rc = err_set(e, ERR_INTERNAL, "out of memory");
        imports_end(r->app->imports, run, rc, e);
        return rc;
    }
    o.by = who.name;
    ctx_set_progress(r->w->ctx, imports_progress(run));
    if (zip)
        rc = ingest_shapefile_zip(r->w->ctx, r->w->store, l, r->body, r->body_len, &o, rep, e);
    else
        rc = ingest_geojson(r->w->ctx, r->w->store, l, r->body, r->body_len, &o, rep, e);
    ctx_set_progress(r->w->ctx, NULL);
    imports_end(r->app->imports, run, rc, e);
    if (!rc && !o.dry_run)
        metrics_add(r->app->metrics, METRIC_FEATURES_IMPORTED,
                    rep->added + rep->changed + rep->removed);
    if (rc == ERR_INVALID && rep->n_invalid) {
        /* the whole report beside the error, so that every invalid feature
         * can be fixed at once: the report's members without its braces */
        struct buf *m = &s->problem_members;
        ingest_report_json(rep, o.dry_run, m);
        if (m->len >= 2 && !m->oom) {
            memmove(m->data, m->data + 1, m->len - 2);
            m->len -= 2;
            m->data[m->len] = '\0';
        }
    } else if (!rc) {
        ingest_report_json(rep, o.dry_run, &s->body);
        if (!o.dry_run && rep->have_box)
            server_changed(r, l, &rep->changed_box, 1);
    }
    ingest_report_clear(rep);
    free(rep);
    return rc;
}
