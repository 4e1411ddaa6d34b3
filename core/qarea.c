/* qarea: resolving the area parameters of stats, summary and items to a
 * prepared storage-CRS polygon. It owns the polygon; it does not query. */
#include "qarea_int.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crs.h"
#include "geojson.h"
#include "geom.h"
#include "wkb.h"

void qarea_free(ctx *c, qarea *a)
{
    if (!a)
        return;
    if (a->prep)
        GEOSPreparedGeom_destroy_r(c->geos, a->prep);
    if (a->geom)
        GEOSGeom_destroy_r(c->geos, a->geom);
    free(a);
}

int qarea_rects(const qarea *a, double rects[2][4])
{
    memcpy(rects, a->rects, sizeof a->rects);
    return a->n_rects;
}

double qarea_area_m2(const qarea *a)
{
    return a->area_m2;
}

int qarea_mbr_inside(const qarea *a, const double m[4])
{
    if (!a->rect_exact)
        return 0;
    for (int i = 0; i < a->n_rects; i++) {
        const double *r = a->rects[i];
        if (m[0] >= r[0] && m[2] <= r[2] && m[1] >= r[1] && m[3] <= r[3])
            return 1;
    }
    return 0;
}

int qarea_rects_decide(const qarea *a, const unsigned char *wkb, size_t len, const double m[4])
{
    int meets = 0;
    if (!a->rect_exact || isnan(m[0]) || isnan(m[1]) || isnan(m[2]) || isnan(m[3]))
        return -1;
    for (int i = 0; i < a->n_rects; i++) {
        const double *r = a->rects[i];
        if (m[0] <= r[2] && m[2] >= r[0] && m[1] <= r[3] && m[3] >= r[1])
            meets = 1;
    }
    if (!meets)
        return 0;
    for (int i = 0; i < a->n_rects; i++) {
        int in = wkb_any_in(wkb, len, a->rects[i]);
        if (in)
            return in > 0 ? 1 : -1;
    }
    return -1;
}

static int from_bbox(ctx *c, const struct qarea_spec *sp, qarea *a, struct err *e)
{
    const double *b = sp->bbox;
    double sb[4] = {b[0], b[1], b[2], b[3]};
    if (sp->axis == CRS_AXIS_AUTHORITY && crs_authority_swaps(sp->crs))
        sb[0] = b[1], sb[1] = b[0], sb[2] = b[3], sb[3] = b[2];
    if (sb[1] > sb[3])
        return err_set(e, ERR_PARAM, "%s: the lower corner is north of the upper corner",
                       sp->param);
    if (crs_is_geographic(sp->crs)) {
        GEOSGeometry *parts[2];
        if (!(sb[1] >= -90 && sb[3] <= 90 && sb[0] >= -180 && sb[0] <= 180 && sb[2] >= -180 &&
              sb[2] <= 180))
            return err_set(e, ERR_PARAM, "%s: coordinates out of range (longitude -180 to 180, "
                           "latitude -90 to 90)", sp->param);
        if (sb[0] <= sb[2]) {
            a->n_rects = 1;
            memcpy(a->rects[0], sb, sizeof sb);
        } else { /* across the antimeridian */
            double r0[4] = {sb[0], sb[1], 180, sb[3]}, r1[4] = {-180, sb[1], sb[2], sb[3]};
            a->n_rects = 2;
            memcpy(a->rects[0], r0, sizeof r0);
            memcpy(a->rects[1], r1, sizeof r1);
        }
        a->rect_exact = 1;
        for (int i = 0; i < a->n_rects; i++)
            parts[i] = geom_box_polygon(c, a->rects[i], 1);
        a->geom = a->n_rects == 1 ? parts[0]
                                  : GEOSGeom_createCollection_r(c->geos, GEOS_MULTIPOLYGON, parts, 2);
        return a->geom ? 0 : ctx_geos_err(c, e, ERR_INTERNAL, sp->param);
    }
    if (sb[0] > sb[2])
        return err_set(e, ERR_PARAM, "%s: the lower corner is east of the upper corner", sp->param);
    {
        GEOSGeometry *p = geom_box_polygon(c, sb, 16);
        if (!p)
            return ctx_geos_err(c, e, ERR_INTERNAL, sp->param);
        a->geom = geom_transform(c, p, sp->crs, CRS_AXIS_XY, CRS_STORAGE, CRS_AXIS_XY, e);
        GEOSGeom_destroy_r(c->geos, p);
    }
    if (a->geom && geom_check_range(c, a->geom, e)) {
        err_prefix(e, "%s", sp->param);
        return e->code = ERR_PARAM;
    }
    return a->geom ? 0 : err_prefix(e, "%s", sp->param);
}

#define WKT_MAX_DEPTH 64

/* GEOS's WKT reader stops after the first geometry and ignores whatever
 * follows it ("POLYGON((...)); DROP ..."), and recurses once per nested
 * collection. Checks that text is one geometry: parentheses balanced and
 * nested at most WKT_MAX_DEPTH deep, nothing but spaces after the last one,
 * and only a word or two ("POLYGON EMPTY") when there are none. */
static int wkt_whole(const char *t, size_t n, const char *param, struct err *e)
{
    size_t i, depth = 0;
    int opened = 0;
    for (i = 0; i < n; i++) {
        if (t[i] == '(') {
            opened = 1;
            if (++depth > WKT_MAX_DEPTH)
                return err_set(e, ERR_PARAM, "%s: WKT nested deeper than %d levels", param,
                               WKT_MAX_DEPTH);
        } else if (t[i] == ')') {
            if (depth == 0)
                return err_set(e, ERR_PARAM, "%s: unbalanced ')' at character %zu", param, i + 1);
            if (--depth == 0)
                break;
        } else if (!opened && !(t[i] == ' ' || (t[i] >= 'A' && t[i] <= 'Z') ||
                                (t[i] >= 'a' && t[i] <= 'z'))) {
            return err_set(e, ERR_PARAM, "%s: unexpected character at %zu of the WKT", param,
                           i + 1);
        }
    }
    if (opened && depth)
        return err_set(e, ERR_PARAM, "%s: WKT ends before its ')'", param);
    for (i = opened ? i + 1 : n; i < n; i++)
        if (t[i] != ' ' && t[i] != '\t' && t[i] != '\n' && t[i] != '\r')
            return err_set(e, ERR_PARAM, "%s: unexpected text after the geometry at character %zu",
                           param, i + 1);
    return 0;
}

static int from_text(ctx *c, const struct qarea_spec *sp, GEOSGeometry **g, struct err *e)
{
    if (sp->kind == QAREA_WKT) {
        GEOSWKTReader *r;
        char *t;
        if (wkt_whole(sp->text, sp->text_len, sp->param, e))
            return ERR_PARAM;
        r = GEOSWKTReader_create_r(c->geos);
        t = strndup(sp->text, sp->text_len);
        *g = r && t ? GEOSWKTReader_read_r(c->geos, r, t) : NULL;
        free(t);
        if (r)
            GEOSWKTReader_destroy_r(c->geos, r);
        if (!*g)
            return ctx_geos_err(c, e, ERR_PARAM, sp->param);
        return 0;
    } else {
        json_error_t je;
        json_t *j = json_loadb(sp->text, sp->text_len, 0, &je);
        int rc;
        if (!j)
            return err_set(e, ERR_PARAM, "%s: %s", sp->param, je.text);
        rc = geojson_geom_parse(c, j, 200000, g, e);
        json_decref(j);
        if (rc)
            return err_prefix(e, "%s", sp->param), ERR_PARAM;
        return 0;
    }
}

static int from_geometry(ctx *c, const struct qarea_spec *sp, qarea *a, struct err *e)
{
    GEOSGeometry *g = NULL;
    struct geom_repair rep;
    int rc, type;
    if ((rc = from_text(c, sp, &g, e)))
        return e->code = ERR_PARAM;
    type = GEOSGeomTypeId_r(c->geos, g);
    if (type != GEOS_POLYGON && type != GEOS_MULTIPOLYGON) {
        rc = err_set(e, ERR_PARAM, "%s: expected a Polygon or MultiPolygon, not %s", sp->param,
                     geom_type_name(c, g));
        GEOSGeom_destroy_r(c->geos, g);
        return rc;
    }
    if (geom_prepare_storage(c, g, sp->crs, sp->axis, sp->make_valid, &a->geom, &rep, e)) {
        err_prefix(e, "%s", sp->param);
        return e->code = ERR_PARAM;
    }
    return 0;
}

/* The first row's geometry, copied. */
static int take_wkb(void *arg, const struct store_row *row, struct err *e)
{
    struct buf *b = arg;
    buf_append(b, row->wkb, row->wkb_len);
    return b->oom ? err_set(e, ERR_INTERNAL, "out of memory") : 1;
}

/* The geometry feature fid (or, fid 0, the one whose key is key) had at the
 * ctx's asof instant; ERR_NOT_FOUND when it did not exist then. */
static int wkb_asof(ctx *c, store *s, const struct layer *l, long long fid, const char *key,
                    unsigned char **wkb, size_t *len, struct err *e)
{
    struct store_query q;
    struct buf b;
    int rc;
    memset(&q, 0, sizeof q);
    q.layer = l;
    q.limit = 1;
    q.want_wkb = 1;
    q.skip_gj = 1;
    q.asof = ctx_asof(c);
    q.fid = fid;
    if (key) {
        q.n_eq = 1;
        q.eq[0].field = l->key_field;
        q.eq[0].v = (struct value){VAL_TEXT, 0, 0, key};
    }
    buf_init(&b);
    if ((rc = store_query_rows(s, &q, take_wkb, &b, e)) || !b.len) {
        buf_clear(&b);
        return rc ? rc : err_set(e, ERR_NOT_FOUND, "%s: no such feature then", l->id);
    }
    *len = b.len;
    *wkb = (unsigned char *)buf_steal(&b);
    return 0;
}
static int from_within(ctx *c, store *s, const struct layers *ls, const struct qarea_spec *sp,
                       qarea *a, struct err *e)
{
    char lid[128];
    const char *slash = strchr(sp->within, '/');
    const struct layer *l;
    unsigned char *wkb = NULL;
    size_t len = 0;
    long long fid = 0;
    char *end;
    if (!slash || slash == sp->within || (size_t)(slash - sp->within) >= sizeof lid || !slash[1])
        return err_set(e, ERR_PARAM, "within: expected collection/id, e.g. grids/42");
    memcpy(lid, sp->within, (size_t)(slash - sp->within));
    lid[slash - sp->within] = '\0';
    if (!(l = layers_find(ls, lid)))
        return err_set(e, ERR_NOT_FOUND, "within: collection '%s' does not exist", lid);
    fid = strtoll(slash + 1, &end, 10);
    if (ctx_asof(c)) { /* the feature as it was then */
        if ((*end || fid <= 0 || wkb_asof(c, s, l, fid, NULL, &wkb, &len, e)) &&
            wkb_asof(c, s, l, 0, slash + 1, &wkb, &len, e))
            return err_set(e, ERR_NOT_FOUND, "within: %s had no feature with id or %s '%s' at %s",
                           lid, l->key, slash + 1, ctx_asof(c));
    } else if (*end || fid <= 0 || store_feature_wkb(s, l, fid, &wkb, &len, e)) {
        /* not a feature id: try the layer's key (codes are often digits) */
        if (store_feature_fid_by_key(s, l, slash + 1, &fid, e) ||
            store_feature_wkb(s, l, fid, &wkb, &len, e))
            return err_set(e, ERR_NOT_FOUND, "within: %s has no feature with id or %s '%s'", lid,
                           l->key, slash + 1);
    }
    a->geom = GEOSGeomFromWKB_buf_r(c->geos, wkb, len);
    free(wkb);
    return a->geom ? 0 : ctx_geos_err(c, e, ERR_INTERNAL, "within");
}

int qarea_resolve(ctx *c, store *s, const struct layers *ls, const struct qarea_spec *sp,
                  qarea **out, struct err *e)
{
    qarea *a;
    struct bbox env;
    int rc = 0;
    *out = NULL;
    if (sp->kind == QAREA_NONE)
        return 0;
    if (!(a = calloc(1, sizeof *a)))
        return err_set(e, ERR_INTERNAL, "out of memory");
    if (sp->kind == QAREA_BBOX)
        rc = from_bbox(c, sp, a, e);
    else if (sp->kind == QAREA_WITHIN)
        rc = from_within(c, s, ls, sp, a, e);
    else
        rc = from_geometry(c, sp, a, e);
    if (rc)
        goto fail;
    if (!a->n_rects) {
        if (geom_bounds(c, a->geom, &env)) {
            rc = err_set(e, ERR_PARAM, "%s: the area is empty", sp->param);
            goto fail;
        }
        a->n_rects = 1;
        a->rects[0][0] = env.minx, a->rects[0][1] = env.miny;
        a->rects[0][2] = env.maxx, a->rects[0][3] = env.maxy;
    }
    a->area_m2 = geom_area_m2(c, a->geom);
    if (!(a->prep = GEOSPrepare_r(c->geos, a->geom))) {
        rc = ctx_geos_err(c, e, ERR_INTERNAL, sp->param);
        goto fail;
    }
    *out = a;
    return 0;
fail:
    qarea_free(c, a);
    return rc;
}
