/* feature: schema validation of incoming GeoJSON Features and GeoJSON
 * writing of stored rows. It owns neither the store nor the layer schema. */
#include "feature.h"

#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "area.h"
#include "crs.h"
#include "geojson.h"
#include "geom.h"
#include "items.h"

_Static_assert((int)FEATURE_NO_AREA_M2 == (int)ITEMS_NO_AREA_M2 &&
                   (int)FEATURE_NO_AREA_MU == (int)ITEMS_NO_AREA_MU,
               "items_req.no_area is passed to feature_out.no_area as is");
_Static_assert(sizeof ((struct feature_in *)0)->repair_reason ==
                   sizeof ((struct geom_repair *)0)->reason,
               "geom_prepare_storage's reason is copied into feature_in as is");

void feature_in_clear(ctx *c, struct feature_in *f)
{
    if (!f)
        return;
    free(f->vals);
    if (f->geom)
        GEOSGeom_destroy_r(c->geos, f->geom);
    memset(f, 0, sizeof *f);
}

static int valid_date(const char *s)
{
    int y, m, d, n = 0;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10)
        return 0;
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 0;
    return 1;
}

static int check_string(const struct field *f, const char *s, struct err *e)
{
    if (f->type == FIELD_DATE && !valid_date(s))
        return err_set(e, ERR_INVALID, "properties.%s: '%s' is not a date (YYYY-MM-DD)", f->name, s);
    if (f->n_enums) {
        size_t i;
        for (i = 0; i < f->n_enums; i++)
            if (!strcmp(f->enums[i], s))
                break;
        if (i == f->n_enums) {
            struct buf b;
            buf_init(&b);
            for (i = 0; i < f->n_enums; i++)
                buf_printf(&b, "%s%s", i ? ", " : "", f->enums[i]);
            err_set(e, ERR_INVALID, "properties.%s: '%s' is not one of %s", f->name, s,
                    b.data ? b.data : "");
            buf_clear(&b);
            return ERR_INVALID;
        }
    }
    if (f->re) {
        if (regexec(f->re, s, 0, NULL, 0))
            return err_set(e, ERR_INVALID, "properties.%s: '%s' does not match %s", f->name, s,
                           f->pattern);
    }
    return 0;
}

/* Converts one JSON property value into v per the field's type. */
static int read_value(const struct field *f, const json_t *j, struct value *v, struct err *e)
{
    v->type = VAL_NULL;
    if (!j || json_is_null(j))
        return 0;
    switch (f->type) {
    case FIELD_STRING:
    case FIELD_DATE:
        if (!json_is_string(j))
            return err_set(e, ERR_INVALID, "properties.%s: expected a string", f->name);
        v->type = VAL_TEXT;
        v->s = json_string_value(j);
        return check_string(f, v->s, e);
    case FIELD_INTEGER:
        if (json_is_integer(j)) {
            v->type = VAL_INT;
            v->i = json_integer_value(j);
            return 0;
        }
        if (json_is_real(j) && json_real_value(j) == floor(json_real_value(j)) &&
            fabs(json_real_value(j)) < 9e15) {
            v->type = VAL_INT;
            v->i = (long long)json_real_value(j);
            return 0;
        }
        return err_set(e, ERR_INVALID, "properties.%s: expected an integer", f->name);
    case FIELD_NUMBER:
        if (!json_is_number(j) || !isfinite(json_number_value(j)))
            return err_set(e, ERR_INVALID, "properties.%s: expected a number", f->name);
        v->type = VAL_REAL;
        v->d = json_number_value(j);
        return 0;
    case FIELD_BOOLEAN:
        if (!json_is_boolean(j))
            return err_set(e, ERR_INVALID, "properties.%s: expected true or false", f->name);
        v->type = VAL_INT;
        v->i = json_is_true(j);
        return 0;
    }
    return 0;
}

static int is_readonly_prop(const char *k)
{
    return !strcmp(k, "area_m2") || !strcmp(k, "area_mu") || !strcmp(k, "area_ha") ||
           !strcmp(k, "id") || !strcmp(k, "fid");
}

static int parse_props(const struct layer *l, const json_t *props, int flags, struct value *vals,
                       struct err *e)
{
    const char *k;
    json_t *v;
    size_t i;
    if (props && !json_is_null(props) && !json_is_object(props))
        return err_set(e, ERR_INVALID, "properties: expected an object or null");
    json_object_foreach((json_t *)props, k, v) {
        int idx = layer_field_match(l, k);
        if (idx < 0) {
            if ((flags & FEATURE_STRICT) && !is_readonly_prop(k))
                return err_set(e, ERR_INVALID, "properties.%s: not a field of %s", k, l->id);
            continue;
        }
        if (read_value(&l->fields[idx], v, &vals[idx], e))
            return e->code;
    }
    for (i = 0; i < l->n_fields; i++)
        if (l->fields[i].required && vals[i].type == VAL_NULL)
            return err_set(e, ERR_INVALID, "properties.%s: required", l->fields[i].name);
    return 0;
}

static int is_polygonal(ctx *c, const GEOSGeometry *g)
{
    int t = GEOSGeomTypeId_r(c->geos, g);
    return t == GEOS_POLYGON || t == GEOS_MULTIPOLYGON;
}

static int parse_geometry(ctx *c, const struct layer *l, const json_t *jg, GEOSGeometry *pre,
                          int crs, int axis, const struct limits *lim, int flags,
                          struct feature_in *out, struct err *e)
{
    GEOSGeometry *g = pre, *t = NULL;
    struct geom_repair rep;
    int rc;
    if (!g && (!jg || json_is_null(jg)))
        return err_set(e, ERR_INVALID, "geometry: required (layer %s takes Polygon or MultiPolygon)",
                       l->id);
    if (!g && (rc = geojson_geom_parse(c, jg, lim ? lim->max_vertices : 0, &g, e)))
        return err_prefix(e, "geometry");
    if (!is_polygonal(c, g)) {
        rc = err_set(e, ERR_INVALID, "geometry: layer %s takes Polygon or MultiPolygon, not %s",
                     l->id, geom_type_name(c, g));
        goto out;
    }
    rc = geom_prepare_storage(c, g, crs, axis, (flags & FEATURE_MAKE_VALID) != 0, &t, &rep, e);
    g = NULL; /* taken over */
    memcpy(out->loc, rep.loc, sizeof out->loc);
    out->have_loc = rep.have_loc;
    out->repaired = rep.repaired;
    memcpy(out->repair_reason, rep.reason, sizeof out->repair_reason);
    if (rc)
        return err_prefix(e, "geometry");
    out->area_m2 = geom_area_m2(c, t);
    out->geom = t;
out:
    if (g)
        GEOSGeom_destroy_r(c->geos, g);
    return rc;
}

int feature_parse(ctx *c, const struct layer *l, const json_t *j, int crs, int axis,
                  const struct limits *lim, int flags, struct feature_in *out, struct err *e)
{
    return feature_parse_pre(c, l, j, NULL, crs, axis, lim, flags, out, e);
}

int feature_parse_pre(ctx *c, const struct layer *l, const json_t *j, GEOSGeometry *geom,
                      int crs, int axis, const struct limits *lim, int flags,
                      struct feature_in *out, struct err *e)
{
    const char *type;
    int rc;
    memset(out, 0, sizeof *out);
    if (!json_is_object(j))
        rc = err_set(e, ERR_INVALID, "expected a GeoJSON Feature object");
    else if (!(type = json_string_value(json_object_get(j, "type"))) || strcmp(type, "Feature"))
        rc = err_set(e, ERR_INVALID, "type: expected \"Feature\"");
    else if (!(out->vals = calloc(l->n_fields, sizeof *out->vals)))
        rc = err_set(e, ERR_INTERNAL, "out of memory");
    else if (parse_props(l, json_object_get(j, "properties"), flags, out->vals, e))
        rc = e->code;
    else if (!(rc = parse_geometry(c, l, json_object_get(j, "geometry"), geom, crs, axis, lim,
                                   flags, out, e)))
        return 0;
    else
        geom = NULL; /* parse_geometry took it over; out keeps the place of a fault */
    if (geom)
        GEOSGeom_destroy_r(c->geos, geom);
    free(out->vals);
    out->vals = NULL;
    return rc;
}

int feature_insert(ctx *c, store *s, const struct layer *l, const struct feature_in *f,
                   long long *fid, struct err *e)
{
    return feature_insert_gj(c, s, l, f, NULL, fid, e);
}

int feature_insert_gj(ctx *c, store *s, const struct layer *l, const struct feature_in *f,
                      const char *stored_gj, long long *fid, struct err *e)
{
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(c->geos);
    unsigned char *wkb = NULL;
    size_t wkb_len = 0;
    struct buf gj;
    int rc;
    buf_init(&gj);
    if (!w)
        return ctx_geos_err(c, e, ERR_INTERNAL, "WKB writer");
    wkb = GEOSWKBWriter_write_r(c->geos, w, f->geom, &wkb_len);
    if (!stored_gj)
        geojson_geom_write_storage(c, f->geom, &gj);
    if (!wkb || gj.oom)
        rc = err_set(e, ERR_INTERNAL, "out of memory");
    else
        rc = store_feature_insert(s, l, f->vals, wkb, wkb_len, stored_gj ? stored_gj : gj.data,
                                  f->area_m2, fid, e);
    GEOSFree_r(c->geos, wkb);
    GEOSWKBWriter_destroy_r(c->geos, w);
    buf_clear(&gj);
    return rc;
}

void geojson_geom_write_storage(ctx *c, const GEOSGeometry *g, struct buf *out)
{
    geojson_geom_write(c, g, crs_precision(CRS_STORAGE), out);
}

void feature_write_value(const struct field *f, const struct value *v, struct buf *out)
{
    switch (v->type) {
    case VAL_INT:
        if (f && f->type == FIELD_BOOLEAN)
            buf_puts(out, v->i ? "true" : "false");
        else
            buf_put_ll(out, v->i);
        break;
    case VAL_REAL: buf_put_double(out, v->d); break;
    case VAL_TEXT: buf_put_json_str(out, v->s); break;
    default: buf_puts(out, "null");
    }
}

static int write_geometry(ctx *c, const struct store_row *row, const struct feature_out *o,
                          struct buf *out, struct err *e)
{
    json_t *j = NULL;
    GEOSGeometry *g = NULL, *t = NULL;
    json_error_t je;
    int rc = 0;
    int lonlat = (o->crs == CRS_CRS84 || o->crs == CRS_4490 || o->crs == CRS_4326) &&
                 (o->axis == CRS_AXIS_XY || !crs_authority_swaps(o->crs));
    if (lonlat && row->gj) {
        buf_puts(out, row->gj);
        return 0;
    }
    if (lonlat && row->wkb &&
        !geojson_wkb_write(row->wkb, row->wkb_len, crs_precision(CRS_STORAGE), out))
        return 0;
    if (!row->gj && row->wkb) { /* the store sent WKB alone */
        if (!(g = GEOSGeomFromWKB_buf_r(c->geos, row->wkb, row->wkb_len))) {
            rc = ctx_geos_err(c, e, ERR_INTERNAL, "stored geometry");
            goto out;
        }
        if (lonlat) {
            geojson_geom_write_storage(c, g, out);
            goto out;
        }
    } else if (!(j = row->gj ? json_loads(row->gj, 0, &je) : NULL)) {
        rc = err_set(e, ERR_INTERNAL, "feature %lld: stored geometry unreadable", row->fid);
        goto out;
    } else if ((rc = geojson_geom_parse(c, j, 0, &g, e))) {
        goto out;
    }
    if (!(t = geom_transform(c, g, CRS_STORAGE, CRS_AXIS_XY, o->crs, o->axis, e))) {
        rc = e->code;
        goto out;
    }
    geojson_geom_write_mirrored(c, t, crs_precision(o->crs),
                                o->axis == CRS_AXIS_AUTHORITY && crs_authority_swaps(o->crs),
                                out);
out:
    if (g)
        GEOSGeom_destroy_r(c->geos, g);
    if (t)
        GEOSGeom_destroy_r(c->geos, t);
    json_decref(j);
    return rc;
}

int feature_write(ctx *c, const struct layer *l, const struct store_row *row,
                  const struct feature_out *o, struct buf *out, struct err *e)
{
    int first = 1;
    buf_puts(out, "{\"type\":\"Feature\",\"id\":");
    buf_put_ll(out, row->fid);
    buf_puts(out, ",\"geometry\":");
    if (write_geometry(c, row, o, out, e))
        return e->code;
    buf_puts(out, ",\"properties\":{");
    for (size_t i = 0; i < l->n_fields; i++) {
        if (o->props && !o->props[i])
            continue;
        if (!first)
            buf_putc(out, ',');
        first = 0;
        buf_put_json_str(out, l->fields[i].name);
        buf_putc(out, ':');
        feature_write_value(&l->fields[i], &row->vals[i], out);
    }
    if (!(o->no_area & FEATURE_NO_AREA_M2)) {
        buf_puts(out, first ? "\"area_m2\":" : ",\"area_m2\":");
        buf_put_num(out, row->area_m2, 3);
        first = 0;
    }
    if (!(o->no_area & FEATURE_NO_AREA_MU)) {
        buf_puts(out, first ? "\"area_mu\":" : ",\"area_mu\":");
        buf_put_num(out, area_mu(row->area_m2), 4);
    }
    buf_puts(out, "}}");
    return 0;
}
