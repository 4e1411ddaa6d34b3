/* items: GET /collections/{c}/items and /collections/{c}/items/{id} —
 * parameter parsing and validation, then one core call. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cql2.h"
#include "crs.h"
#include "items.h"
#include "links.h"
#include "ogc.h"
#include "paging.h"
#include "params.h"
#include "routes.h"

#define LIMIT_DEFAULT 100

static int parse_props(struct req *r, const struct layer *l, struct items_req *q,
                       unsigned char *sel, struct err *e)
{
    const char *v = req_param(r, "properties");
    char name[128];
    if (!v)
        return 0;
    memset(sel, 0, l->n_fields);
    q->props = sel;
    q->no_area = ITEMS_NO_AREA;
    while (*v) {
        size_t n = strcspn(v, ",");
        int idx;
        if (n == 0 || n >= sizeof name)
            return err_set(e, ERR_PARAM, "properties: empty or overlong name");
        memcpy(name, v, n);
        name[n] = '\0';
        if (!strcmp(name, "area_m2"))
            q->no_area &= ~ITEMS_NO_AREA_M2;
        else if (!strcmp(name, "area_mu"))
            q->no_area &= ~ITEMS_NO_AREA_MU;
        else if ((idx = layer_field_index(l, name)) >= 0)
            sel[idx] = 1;
        else
            return err_set(e, ERR_PARAM, "properties: '%s' is not a property of %s", name, l->id);
        v += n;
        if (*v == ',')
            v++;
    }
    return 0;
}

static int parse_sortby(struct req *r, const struct layer *l, struct items_req *q, struct err *e)
{
    const char *v = req_param(r, "sortby");
    char name[128];
    if (!v)
        return 0;
    while (*v) {
        size_t n = strcspn(v, ",");
        int desc = 0, idx;
        const char *p = v;
        if (*p == '+' || *p == '-' || *p == ' ') { /* '+' may arrive decoded as ' ' */
            desc = *p == '-';
            p++, n--;
        }
        if (q->n_sort == STORE_MAX_SORT)
            return err_set(e, ERR_PARAM, "sortby: more than %d keys", STORE_MAX_SORT);
        if (n == 0 || n >= sizeof name)
            return err_set(e, ERR_PARAM, "sortby: expected [+|-]property[,...]");
        memcpy(name, p, n);
        name[n] = '\0';
        if (!strcmp(name, "id"))
            idx = STORE_SORT_ID;
        else if (!strcmp(name, "area_m2") || !strcmp(name, "area_mu"))
            idx = STORE_SORT_AREA;
        else if ((idx = layer_field_index(l, name)) < 0)
            return err_set(e, ERR_PARAM, "sortby: '%s' is not a sortable property of %s", name,
                           l->id);
        q->sort[q->n_sort].field = idx;
        q->sort[q->n_sort].desc = desc;
        q->n_sort++;
        v = p + n;
        if (*v == ',')
            v++;
    }
    return 0;
}

/* {property}=value for each queryable field. */
static int parse_eq(struct req *r, const struct layer *l, struct items_req *q, struct err *e)
{
    for (size_t i = 0; i < l->n_fields; i++) {
        const struct field *f = &l->fields[i];
        const char *v = req_param(r, f->name);
        struct store_eq *eq;
        if (!v)
            continue;
        if (q->n_eq == STORE_MAX_EQ)
            return err_set(e, ERR_PARAM, "%s: too many property filters", f->name);
        eq = &q->eq[q->n_eq++];
        eq->field = (int)i;
        if (f->type == FIELD_INTEGER) {
            char *end;
            errno = 0;
            eq->v.type = VAL_INT;
            eq->v.i = strtoll(v, &end, 10);
            if (!*v || *end || errno)
                return err_set(e, ERR_PARAM, "%s: expected an integer, got '%s'", f->name, v);
        } else if (f->type == FIELD_NUMBER) {
            char *end;
            eq->v.type = VAL_REAL;
            eq->v.d = strtod(v, &end);
            if (!*v || *end)
                return err_set(e, ERR_PARAM, "%s: expected a number, got '%s'", f->name, v);
        } else if (f->type == FIELD_BOOLEAN) {
            eq->v.type = VAL_INT;
            if (!strcmp(v, "true") || !strcmp(v, "1"))
                eq->v.i = 1;
            else if (!strcmp(v, "false") || !strcmp(v, "0"))
                eq->v.i = 0;
            else
                return err_set(e, ERR_PARAM, "%s: expected true or false, got '%s'", f->name, v);
        } else {
            eq->v.type = VAL_TEXT;
            eq->v.s = v;
        }
    }
    return 0;
}

/* filter, filter-lang and filter-crs (OGC API Features Part 3). The parsed
 * tree goes to *ast (the caller frees it) and is borrowed by q. */
static int parse_filter(struct req *r, struct items_req *q, struct cql2_node **ast,
                        struct err *e)
{
    int rc = params_filter(r, ast, &q->filter_crs, &q->filter_axis, e);
    q->filter = *ast;
    return rc;
}

static int parse_paging(struct req *r, struct items_req *q, struct err *e)
{
    q->limit = LIMIT_DEFAULT;
    return paging_parse(r, &q->limit, &q->offset, e);
}

static int parse_items(struct req *r, const struct layer *l, struct items_req *q,
                       unsigned char *sel, int *crs_given, struct cql2_node **ast, struct err *e)
{
    const char *v;
    int rc;
    memset(q, 0, sizeof *q);
    q->layer = l;
    q->crs = CRS_CRS84;
    q->axis = CRS_AXIS_AUTHORITY;
    q->bbox_crs = CRS_CRS84;
    q->bbox_axis = CRS_AXIS_AUTHORITY;
    if ((rc = parse_paging(r, q, e)))
        return rc;
    if ((v = req_param(r, "bbox"))) {
        if ((rc = params_bbox("bbox", v, q->bbox, e)))
            return rc;
        q->have_bbox = 1;
    }
    if ((rc = params_crs(r, "bbox-crs", &q->bbox_crs, e)) < 0)
        return rc;
    if (q->have_bbox && crs_is_geographic(q->bbox_crs)) {
        int swap = crs_authority_swaps(q->bbox_crs);
        double lat0 = q->bbox[swap ? 0 : 1], lat1 = q->bbox[swap ? 2 : 3];
        double lon0 = q->bbox[swap ? 1 : 0], lon1 = q->bbox[swap ? 3 : 2];
        if (lat0 < -90 || lat0 > 90 || lat1 < -90 || lat1 > 90 || lon0 < -180 || lon0 > 180 ||
            lon1 < -180 || lon1 > 180)
            return err_set(e, ERR_PARAM, "bbox: coordinates outside the range of %s (latitude "
                           "-90..90, longitude -180..180)", crs_uri(q->bbox_crs));
    }
    if ((rc = params_crs(r, "crs", &q->crs, e)) < 0)
        return rc;
    *crs_given = rc;
    if ((rc = parse_props(r, l, q, sel, e)) || (rc = parse_sortby(r, l, q, e)) ||
        (rc = parse_eq(r, l, q, e)) || (rc = parse_filter(r, q, ast, e)) ||
        (rc = params_asof(r, e)))
        return rc;
    return req_check_unused(r, e);
}

static void put_links(struct req *r, const struct layer *l, const struct items_req *q,
                      const struct items_res *res, struct buf *b)
{
    struct buf path, p;
    int first = 1;
    buf_init(&path);
    buf_init(&p);
    buf_printf(&path, "/collections/%s/items", l->id);
    buf_puts(&p, path.data);
    query_with(&p, r, NULL, NULL, NULL);
    link_put(b, &first, r, p.data, "self", "application/geo+json", "This page");
    buf_reset(&p);
    buf_puts(&p, path.data);
    query_with(&p, r, NULL, NULL, "html");
    link_put(b, &first, r, p.data, "alternate", "text/html", "This page as HTML");
    paging_links_put(b, &first, r, path.data, "application/geo+json", q->offset, q->limit,
                     res->returned, res->matched, 1);
    buf_clear(&p);
    buf_clear(&path);
}

static void content_crs(struct res *s, int crs)
{
    char v[128];
    snprintf(v, sizeof v, "<%s>", crs_uri(crs));
    res_header(s, "Content-Crs", v);
}

int h_items(struct req *r, struct res *s, struct err *e)
{
    const struct layer *l = route_layer(r, e);
    unsigned char sel[256];
    struct items_req q;
    struct items_res res = {0, 0};
    struct cql2_node *ast = NULL;
    struct buf feats;
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    int crs_given = 0, rc;
    if (!l)
        return e->code;
    if (l->n_fields > sizeof sel)
        return err_set(e, ERR_INTERNAL, "layer %s has too many fields", l->id);
    buf_init(&feats);
    buf_reserve(&feats, 16384); /* a page of parcels, without growing it on the way */
    rc = parse_items(r, l, &q, sel, &crs_given, &ast, e);
    if (!rc)
        rc = items_query(r->w->ctx, r->w->store, &q, &feats, &res, e);
    cql2_free(ast);
    if (rc) {
        buf_clear(&feats);
        return rc;
    }
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    s->content_type = "application/geo+json";
    buf_reserve(&s->body, feats.len + 4096); /* the links and the rest: one allocation */
    buf_printf(&s->body, "{\"type\":\"FeatureCollection\",\"numberMatched\":%lld,"
               "\"numberReturned\":%lld,\"timeStamp\":\"%s\",\"links\":[",
               res.matched, res.returned, ts);
    put_links(r, l, &q, &res, &s->body);
    buf_puts(&s->body, "],\"features\":[");
    buf_append(&s->body, feats.data ? feats.data : "", feats.len);
    buf_puts(&s->body, "]}");
    buf_clear(&feats);
    if (crs_given)
        content_crs(s, q.crs);
    return 0;
}

int h_item(struct req *r, struct res *s, struct err *e)
{
    const struct layer *l = route_layer(r, e);
    long long fid, version = 0;
    int crs = CRS_CRS84, crs_given, rc, first = 1;
    struct buf feat, p;
    char etag[48];
    if (!l)
        return e->code;
    if (params_ll(r->captures[1], &fid) || fid <= 0)
        return err_set(e, ERR_NOT_FOUND, "%s/%s: no such feature", l->id, r->captures[1]);
    if ((crs_given = params_crs(r, "crs", &crs, e)) < 0)
        return crs_given;
    if (params_asof(r, e) || req_check_unused(r, e))
        return e->code;
    buf_init(&feat);
    if ((rc = items_get(r->w->ctx, r->w->store, l, fid, crs, CRS_AXIS_AUTHORITY, &feat, &version,
                        e))) {
        buf_clear(&feat);
        return rc;
    }
    /* splice links into the feature object before its closing brace */
    feat.len--;
    buf_puts(&feat, ",\"links\":[");
    buf_init(&p);
    buf_printf(&p, "/collections/%s/items/%lld", l->id, fid);
    link_put(&feat, &first, r, p.data, "self", "application/geo+json", "This feature");
    buf_puts(&p, "?f=html");
    link_put(&feat, &first, r, p.data, "alternate", "text/html", "This feature as HTML");
    buf_reset(&p);
    buf_printf(&p, "/collections/%s", l->id);
    link_put(&feat, &first, r, p.data, "collection", "application/json", "The collection");
    buf_puts(&feat, "]}");
    buf_clear(&p);
    s->content_type = "application/geo+json";
    buf_append(&s->body, feat.data, feat.len);
    buf_clear(&feat);
    snprintf(etag, sizeof etag, "\"%lld\"", version);
    res_header(s, "ETag", etag);
    if (crs_given)
        content_crs(s, crs);
    return 0;
}
