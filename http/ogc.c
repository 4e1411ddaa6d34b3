/* ogc: the OGC API Features discovery resources — landing page,
 * conformance, collections, one collection, queryables — and /health. */
#include <stdio.h>
#include <string.h>

#include "crs.h"
#include "links.h"
#include "metrics.h"
#include "ogc.h"
#include "routes.h"
#include "static.h"

static const char *CONFORMANCE[] = {
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
};

int h_landing(struct req *r, struct res *s, struct err *e)
{
    struct buf *b = &s->body;
    int first = 1;
    /* a browser: the map, whose own parameters (?lang=en) are its business */
    if (r->fmt == FMT_HTML && !req_param(r, "f"))
        return static_send_viewer(r, s, e);
    if (req_check_unused(r, e))
        return e->code;
    buf_puts(b, "{\"title\":\"onemap 芹阳办事处 一张图\",\"description\":"
                "\"Grid-based city governance map service: governance grids, villages, parcels, "
                "farmland, demolition sites and residential communities (OGC API Features).\","
                "\"links\":[");
    link_put(b, &first, r, "/", "self", "application/json", "This document");
    link_put(b, &first, r, "/?f=html", "alternate", "text/html", "This document as HTML");
    link_put(b, &first, r, "/api", "service-desc", "application/vnd.oai.openapi+json;version=3.0",
             "The API definition (OpenAPI 3.0)");
    link_put(b, &first, r, "/conformance", "conformance", "application/json",
             "Conformance classes");
    link_put(b, &first, r, "/collections", "data", "application/json", "Collections");
    link_put(b, &first, r, "/tiles", "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
             "application/json", "Vector tiles of all collections");
    link_put(b, &first, r, "/tileMatrixSets", "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
             "application/json", "Tile matrix sets");
    link_put(b, &first, r, "/static/index.html", "alternate", "text/html", "The map viewer");
    buf_puts(b, "]}");
    return 0;
}

int h_conformance(struct req *r, struct res *s, struct err *e)
{
    if (req_check_unused(r, e))
        return e->code;
    buf_puts(&s->body, "{\"conformsTo\":[");
    for (size_t i = 0; i < sizeof CONFORMANCE / sizeof *CONFORMANCE; i++) {
        if (i)
            buf_putc(&s->body, ',');
        buf_put_json_str(&s->body, CONFORMANCE[i]);
    }
    buf_puts(&s->body, "]}");
    return 0;
}

static void crs_list(struct buf *b)
{
    buf_putc(b, '[');
    for (int c = 0; c < CRS_COUNT; c++) {
        if (c)
            buf_putc(b, ',');
        buf_put_json_str(b, crs_uri(c));
    }
    buf_putc(b, ']');
}

static void title_of(struct buf *b, const struct layer *l)
{
    buf_puts(b, "\"title\":");
    buf_put_json_str(b, l->title_zh ? l->title_zh : l->id);
    buf_puts(b, ",\"description\":");
    {
        char d[512];
        snprintf(d, sizeof d, "%s — %s", l->title_en ? l->title_en : l->id,
                 l->desc_zh ? l->desc_zh : "");
        buf_put_json_str(b, d);
    }
}

static int collection_json(struct req *r, const struct layer *l, struct buf *b, struct err *e)
{
    double ext[4];
    long long count = 0;
    char path[256];
    int first = 1, rc;
    rc = store_layer_extent(r->w->store, l, ext, &count, e);
    if (rc < 0)
        return rc;
    buf_puts(b, "{\"id\":");
    buf_put_json_str(b, l->id);
    buf_putc(b, ',');
    title_of(b, l);
    buf_puts(b, ",\"itemType\":\"feature\",\"extent\":{\"spatial\":{\"bbox\":[");
    if (rc == 0)
        buf_printf(b, "[%.9f,%.9f,%.9f,%.9f]", ext[0], ext[1], ext[2], ext[3]);
    else
        buf_puts(b, "[-180,-90,180,90]");
    buf_puts(b, "],\"crs\":\"http://www.opengis.net/def/crs/OGC/1.3/CRS84\"}},\"crs\":");
    crs_list(b);
    buf_puts(b, ",\"storageCrs\":");
    buf_put_json_str(b, crs_uri(CRS_STORAGE));
    buf_printf(b, ",\"numberOfFeatures\":%lld,\"keyProperty\":", count);
    buf_put_json_str(b, l->key);
    buf_puts(b, ",\"links\":[");
    snprintf(path, sizeof path, "/collections/%s", l->id);
    link_put(b, &first, r, path, "self", "application/json", "This collection");
    snprintf(path, sizeof path, "/collections/%s?f=html", l->id);
    link_put(b, &first, r, path, "alternate", "text/html", "This collection as HTML");
    snprintf(path, sizeof path, "/collections/%s/items", l->id);
    link_put(b, &first, r, path, "items", "application/geo+json", "Features");
    snprintf(path, sizeof path, "/collections/%s/items?f=html", l->id);
    link_put(b, &first, r, path, "items", "text/html", "Features as HTML");
    snprintf(path, sizeof path, "/collections/%s/queryables", l->id);
    link_put(b, &first, r, path, "http://www.opengis.net/def/rel/ogc/1.0/queryables",
             "application/schema+json", "Queryable properties");
    snprintf(path, sizeof path, "/collections/%s/tiles", l->id);
    link_put(b, &first, r, path, "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
             "application/json", "Vector tilesets");
    buf_puts(b, "]}");
    return 0;
}

int h_collections(struct req *r, struct res *s, struct err *e)
{
    struct buf *b = &s->body;
    int first = 1;
    if (req_check_unused(r, e))
        return e->code;
    buf_puts(b, "{\"links\":[");
    link_put(b, &first, r, "/collections", "self", "application/json", "Collections");
    link_put(b, &first, r, "/collections?f=html", "alternate", "text/html", "Collections as HTML");
    buf_puts(b, "],\"crs\":");
    crs_list(b);
    buf_puts(b, ",\"collections\":[");
    for (size_t i = 0; i < r->app->layers->n; i++) {
        if (i)
            buf_putc(b, ',');
        if (collection_json(r, &r->app->layers->v[i], b, e))
            return e->code;
    }
    buf_puts(b, "]}");
    return 0;
}

const struct layer *route_layer(struct req *r, struct err *e)
{
    const struct layer *l = layers_find(r->app->layers, r->captures[0]);
    if (!l)
        err_set(e, ERR_NOT_FOUND, "collection '%s' does not exist", r->captures[0]);
    return l;
}

int h_collection(struct req *r, struct res *s, struct err *e)
{
    const struct layer *l = route_layer(r, e);
    if (!l || req_check_unused(r, e))
        return e->code;
    return collection_json(r, l, &s->body, e);
}

static const char *schema_type(enum field_type t)
{
    switch (t) {
    case FIELD_INTEGER: return "integer";
    case FIELD_NUMBER: return "number";
    case FIELD_BOOLEAN: return "boolean";
    default: return "string";
    }
}

void field_schema(struct buf *b, const struct field *f)
{
    buf_puts(b, "{\"title\":");
    buf_put_json_str(b, f->title_zh ? f->title_zh : f->name);
    if (f->title_en) {
        buf_puts(b, ",\"description\":");
        buf_put_json_str(b, f->title_en);
    }
    buf_printf(b, ",\"type\":\"%s\"", schema_type(f->type));
    if (f->type == FIELD_DATE)
        buf_puts(b, ",\"format\":\"date\"");
    if (f->n_enums) {
        buf_puts(b, ",\"enum\":[");
        for (size_t i = 0; i < f->n_enums; i++) {
            if (i)
                buf_putc(b, ',');
            buf_put_json_str(b, f->enums[i]);
        }
        buf_putc(b, ']');
    }
    if (f->pattern) {
        buf_puts(b, ",\"pattern\":");
        buf_put_json_str(b, f->pattern);
    }
    buf_putc(b, '}');
}

int h_queryables(struct req *r, struct res *s, struct err *e)
{
    const struct layer *l = route_layer(r, e);
    struct buf *b = &s->body;
    if (!l || req_check_unused(r, e))
        return e->code;
    s->content_type = "application/schema+json";
    buf_puts(b, "{\"$schema\":\"https://json-schema.org/draft/2019-09/schema\",\"$id\":");
    {
        struct buf id;
        buf_init(&id);
        buf_printf(&id, "%s/collections/%s/queryables", r->base, l->id);
        buf_put_json_str(b, id.data);
        buf_clear(&id);
    }
    buf_puts(b, ",\"type\":\"object\",");
    title_of(b, l);
    buf_puts(b, ",\"properties\":{\"geometry\":{\"format\":\"geometry-any\","
                "\"$ref\":\"https://geojson.org/schema/Geometry.json\"}");
    for (size_t i = 0; i < l->n_fields; i++) {
        buf_putc(b, ',');
        buf_put_json_str(b, l->fields[i].name);
        buf_putc(b, ':');
        field_schema(b, &l->fields[i]);
    }
    buf_puts(b, ",\"area_m2\":{\"title\":\"面积（平方米）\",\"description\":\"Geodesic area (m²)\","
                "\"type\":\"number\",\"readOnly\":true}");
    buf_puts(b, ",\"area_mu\":{\"title\":\"面积（亩）\",\"description\":\"Geodesic area (mu)\","
                "\"type\":\"number\",\"readOnly\":true}");
    buf_puts(b, "},\"additionalProperties\":false}");
    return 0;
}

int h_health(struct req *r, struct res *s, struct err *e)
{
    if (req_check_unused(r, e))
        return e->code;
    if (metrics_draining(r->app->metrics)) { /* stopping: load balancers take it out */
        s->status = 503;
        buf_puts(&s->body, "{\"status\":\"stopping\"}");
        return 0;
    }
    buf_puts(&s->body, "{\"status\":\"ok\"}");
    return 0;
}
