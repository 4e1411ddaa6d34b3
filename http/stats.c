/* stats: the area-query resources — /collections/{c}/stats (GET and POST),
 * /summary, /locate and /collections/{a}/overlaps. Each parses its
 * parameters and makes one core call per layer. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cql2.h"
#include "area.h"
#include "crs.h"
#include "jsontext.h"
#include "links.h"
#include "ogc.h"
#include "locate.h"
#include "overlaps.h"
#include "paging.h"
#include "period.h"
#include "memo.h"
#include "params.h"
#include "routes.h"
#include "stats.h"

static int group_index(const struct layer *l, const char *name, int *idx, struct err *e)
{
    *idx = -1;
    if (!name || !*name)
        return 0;
    if ((*idx = layer_field_index(l, name)) < 0)
        return err_set(e, ERR_PARAM, "group_by: '%s' is not a property of %s", name, l->id);
    return 0;
}

/* Runs one layer's stats over the resolved area and appends its JSON. */
struct filter_arg {
    const struct cql2_node *ast;
    int crs, axis;
};

static int layer_stats(struct req *r, const struct layer *l, const qarea *a, int group, int clip,
                       const struct filter_arg *f, struct buf *b, struct err *e)
{
    struct stats_req q = {l, a, group, clip, f ? f->ast : NULL, f ? f->crs : 0, f ? f->axis : 0};
    struct stats_result res;
    int rc = stats_compute(r->w->ctx, r->w->store, &q, &res, e);
    if (rc)
        return rc;
    stats_result_json(&res, b);
    stats_result_clear(&res);
    return 0;
}

/* "area":{...}, of the query area, when there is one. */
static void put_area(struct buf *b, const qarea *a)
{
    if (!a)
        return;
    buf_puts(b, "\"area\":{\"area_m2\":");
    buf_put_num(b, qarea_area_m2(a), 3);
    buf_puts(b, ",\"area_mu\":");
    buf_put_num(b, area_mu(qarea_area_m2(a)), 4);
    buf_puts(b, "},");
}

static int stats_respond(struct req *r, struct res *s, const struct layer *l,
                         const struct qarea_spec *sp, const char *group_by, int clip,
                         const struct filter_arg *f, struct err *e)
{
    qarea *a = NULL;
    int group, rc;
    if ((rc = group_index(l, group_by, &group, e)) ||
        (rc = qarea_resolve(r->w->ctx, r->w->store, r->app->layers, sp, &a, e)))
        return rc;
    buf_puts(&s->body, "{\"collection\":");
    buf_put_json_str(&s->body, l->id);
    buf_printf(&s->body, ",\"clip\":%s,", clip ? "true" : "false");
    put_area(&s->body, a);
    if (group_by) {
        buf_puts(&s->body, "\"group_by\":");
        buf_put_json_str(&s->body, group_by);
        buf_putc(&s->body, ',');
    }
    rc = layer_stats(r, l, a, group, clip, f, &s->body, e);
    buf_putc(&s->body, '}');
    qarea_free(r->w->ctx, a);
    return rc;
}

int h_stats(struct req *r, struct res *s, struct err *e)
{
    const struct layer *l = route_layer(r, e);
    struct qarea_spec sp;
    int clip = 1, rc;
    const char *group_by;
    if (!l)
        return e->code;
    struct filter_arg f;
    struct cql2_node *ast = NULL;
    if ((rc = params_area(r, &sp, e)) || (rc = params_bool(r, "clip", &clip, e)) ||
        (rc = params_filter(r, &ast, &f.crs, &f.axis, e)) || (rc = params_asof(r, e)))
        return rc;
    f.ast = ast;
    group_by = req_param(r, "group_by");
    if (!(rc = req_check_unused(r, e)))
        rc = stats_respond(r, s, l, &sp, group_by, clip, &f, e);
    cql2_free(ast);
    return rc;
}

static int body_json(struct req *r, json_t **out, struct err *e)
{
    const char *ct = req_header(r, "Content-Type");
    json_error_t je;
    if (!ct || (strncmp(ct, "application/json", 16) && strncmp(ct, "application/geo+json", 20)))
        return err_set(e, ERR_MEDIA_TYPE, "Content-Type: expected application/json, got '%s'",
                       ct ? ct : "");
    if (json_depth_check(r->body, r->body_len, 64, e))
        return e->code;
    if (!(*out = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je)))
        return err_set(e, ERR_BAD_REQUEST, "body: line %d, column %d: %s", je.line, je.column,
                       je.text);
    if (!json_is_object(*out)) {
        json_decref(*out);
        return err_set(e, ERR_BAD_REQUEST, "body: expected a JSON object");
    }
    return 0;
}

int h_stats_post(struct req *r, struct res *s, struct err *e)
{
    const struct layer *l = route_layer(r, e);
    struct qarea_spec sp;
    json_t *body = NULL, *v;
    char *geom_text = NULL;
    const char *k, *group_by = NULL;
    struct cql2_node *ast = NULL;
    struct filter_arg f = {NULL, CRS_CRS84, CRS_AXIS_AUTHORITY};
    int clip = 1, rc = 0;
    if (!l || (rc = params_asof(r, e)) || (rc = req_check_unused(r, e)) ||
        (rc = body_json(r, &body, e)))
        return l ? rc : e->code;
    memset(&sp, 0, sizeof sp);
    sp.crs = CRS_CRS84;
    sp.axis = CRS_AXIS_XY;
    sp.param = "geometry";
    json_object_foreach(body, k, v) {
        if (!strcmp(k, "geometry") && json_is_object(v)) {
            geom_text = json_dumps(v, JSON_COMPACT);
            sp.kind = QAREA_GEOJSON;
            sp.text = geom_text;
            sp.text_len = geom_text ? strlen(geom_text) : 0;
        } else if (!strcmp(k, "crs") && json_is_string(v)) {
            if ((rc = crs_parse(json_string_value(v), &sp.crs, e))) {
                err_prefix(e, "crs");
                goto out;
            }
            sp.axis = CRS_AXIS_AUTHORITY;
        } else if (!strcmp(k, "group_by") && (json_is_string(v) || json_is_null(v))) {
            group_by = json_string_value(v);
        } else if (!strcmp(k, "clip") && json_is_boolean(v)) {
            clip = json_is_true(v);
        } else if (!strcmp(k, "make_valid") && json_is_boolean(v)) {
            sp.make_valid = json_is_true(v);
        } else if (!strcmp(k, "filter") && json_is_string(v)) {
            cql2_free(ast);
            ast = NULL;
            if ((rc = cql2_parse(json_string_value(v), &ast, e))) {
                err_prefix(e, "body");
                goto out;
            }
        } else if (!strcmp(k, "filter-crs") && json_is_string(v)) {
            if ((rc = crs_parse(json_string_value(v), &f.crs, e))) {
                err_prefix(e, "filter-crs");
                goto out;
            }
        } else if (!strcmp(k, "within") && json_is_string(v)) {
            sp.kind = QAREA_WITHIN;
            sp.within = json_string_value(v);
            sp.param = "within";
        } else {
            rc = err_set(e, ERR_PARAM, "body.%s: unknown member or wrong type", k);
            goto out;
        }
    }
    f.ast = ast;
    rc = stats_respond(r, s, l, &sp, group_by, clip, &f, e);
out:
    cql2_free(ast);
    free(geom_text);
    json_decref(body);
    return rc;
}

/* from= and to=: what happened in between (to: now when absent). */
static int period_respond(struct req *r, struct res *s, const char *from_text, const char *to_text,
                          struct err *e)
{
    struct qarea_spec sp;
    struct period_req q;
    char from[INSTANT_LEN], to[INSTANT_LEN], now[INSTANT_LEN];
    qarea *a = NULL;
    int rc;
    memset(&q, 0, sizeof q);
    if (!from_text)
        return err_set(e, ERR_PARAM, "from: required with to (the start of the period)");
    if ((rc = instant_parse(from_text, from, "from", e)) ||
        (to_text && (rc = instant_parse(to_text, to, "to", e))))
        return rc;
    instant_now(now);
    if (!to_text || strcmp(to, now) > 0)
        snprintf(to, sizeof to, "%s", now); /* the period ends now at the latest */
    if (strcmp(from, to) >= 0)
        return err_set(e, ERR_PARAM, "from: '%s' is not before %s '%s'", from_text,
                       to_text ? "to" : "now", to_text ? to_text : now);
    if ((rc = params_area(r, &sp, e)) || (rc = req_check_unused(r, e)) ||
        (rc = qarea_resolve(r->w->ctx, r->w->store, r->app->layers, &sp, &a, e)))
        return rc;
    q.layers = r->app->layers;
    q.from = from;
    q.to = strcmp(to, now) ? to : NULL;
    q.area = a;
    buf_printf(&s->body, "{\"from\":\"%s\",\"to\":\"%s\",", from, to);
    put_area(&s->body, a);
    rc = period_summary(r->w->ctx, r->w->store, &q, &s->body, e);
    buf_putc(&s->body, '}');
    qarea_free(r->w->ctx, a);
    return rc;
}

int h_summary(struct req *r, struct res *s, struct err *e)
{
    struct qarea_spec sp;
    qarea *a = NULL;
    int clip = 1, rc;
    long long version = 0;
    int keep = 0;
    const char *from = req_param(r, "from"), *to = req_param(r, "to");
    if (from || to)
        return period_respond(r, s, from, to, e);
    if ((rc = params_area(r, &sp, e)) || (rc = params_bool(r, "clip", &clip, e)) ||
        (rc = params_asof(r, e)) || (rc = req_check_unused(r, e)) ||
        (rc = qarea_resolve(r->w->ctx, r->w->store, r->app->layers, &sp, &a, e)))
        return rc;
    /* the whole sub-district's figures: kept until the next write (the
     * version is read in the same read transaction as the figures) */
    if (sp.kind == QAREA_NONE && r->app->summary && !r->asof[0]) {
        struct err ignored;
        keep = store_data_version(r->w->store, &version, &ignored) == 0;
        if (keep && memo_get(r->app->summary, version, clip, &s->body))
            return 0;
    }
    buf_printf(&s->body, "{\"clip\":%s,", clip ? "true" : "false");
    put_area(&s->body, a);
    buf_puts(&s->body, "\"collections\":{");
    for (size_t i = 0; i < r->app->layers->n && !rc; i++) {
        const struct layer *l = &r->app->layers->v[i];
        int group = l->group_by ? layer_field_index(l, l->group_by) : -1;
        buf_printf(&s->body, "%s\"%s\":{\"group_by\":", i ? "," : "", l->id);
        buf_put_json_str(&s->body, l->group_by);
        buf_putc(&s->body, ',');
        rc = layer_stats(r, l, a, group, clip, NULL, &s->body, e);
        buf_putc(&s->body, '}');
    }
    buf_puts(&s->body, "}}");
    qarea_free(r->w->ctx, a);
    if (!rc && keep && !s->body.oom)
        memo_put(r->app->summary, version, clip, s->body.data, s->body.len);
    return rc;
}

int h_locate(struct req *r, struct res *s, struct err *e)
{
    const char *lon = req_param(r, "lon"), *lat = req_param(r, "lat");
    const char *x = req_param(r, "x"), *y = req_param(r, "y");
    double xy[2];
    int crs = CRS_CRS84, rc;
    if ((rc = params_crs(r, "crs", &crs, e)) < 0 || (rc = params_asof(r, e)) ||
        (rc = req_check_unused(r, e)))
        return rc;
    if (!lon && x)
        lon = x;
    if (!lat && y)
        lat = y;
    if (!lon || !lat)
        return err_set(e, ERR_PARAM, "%s: required", lon ? "lat" : "lon");
    if ((rc = params_double("lon", lon, &xy[0], e)) || (rc = params_double("lat", lat, &xy[1], e)))
        return rc;
    /* lon= and lat= name their axes, so they are read x = lon/easting */
    return locate_point(r->w->ctx, r->w->store, r->app->layers, xy[0], xy[1], crs, CRS_AXIS_XY,
                        &s->body, e);
}

int h_overlaps(struct req *r, struct res *s, struct err *e)
{
    const struct layer *a = route_layer(r, e), *b;
    const char *with = req_param(r, "with");
    struct overlaps_req q;
    struct qarea_spec sp;
    qarea *area = NULL;
    struct buf pairs;
    long long matched = 0, returned = 0;
    int rc, first = 1;
    char path[160];
    if (!a)
        return e->code;
    memset(&q, 0, sizeof q);
    q.limit = 100;
    if (!with)
        return err_set(e, ERR_PARAM, "with: required (the collection to compare with)");
    if (!(b = layers_find(r->app->layers, with)))
        return err_set(e, ERR_PARAM, "with: collection '%s' does not exist", with);
    if ((rc = paging_parse(r, &q.limit, &q.offset, e)) || (rc = params_area(r, &sp, e)) ||
        (rc = params_asof(r, e)) || (rc = req_check_unused(r, e)) ||
        (rc = qarea_resolve(r->w->ctx, r->w->store, r->app->layers, &sp, &area, e)))
        return rc;
    q.a = a, q.b = b, q.area = area;
    buf_init(&pairs);
    rc = overlaps_find(r->w->ctx, r->w->store, &q, &pairs, &matched, &returned, e);
    qarea_free(r->w->ctx, area);
    if (!rc) {
        buf_printf(&s->body, "{\"collection\":\"%s\",\"with\":\"%s\",\"numberMatched\":%lld,"
                   "\"numberReturned\":%lld,\"pairs\":[", a->id, b->id, matched, returned);
        buf_append(&s->body, pairs.data ? pairs.data : "", pairs.len);
        buf_puts(&s->body, "],\"links\":[");
        snprintf(path, sizeof path, "/collections/%s/overlaps", a->id);
        {
            struct buf p;
            buf_init(&p);
            buf_puts(&p, path);
            query_with(&p, r, NULL, NULL, NULL);
            link_put(&s->body, &first, r, p.data, "self", "application/json", "This page");
            buf_clear(&p);
        }
        paging_links_put(&s->body, &first, r, path, "application/json", q.offset, q.limit,
                         returned, matched, 0);
        buf_puts(&s->body, "]}");
    }
    buf_clear(&pairs);
    return rc;
}
