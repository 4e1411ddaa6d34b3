/* api: the OpenAPI 3.0 document at /api, generated from the route set and
 * the layer registry so that each collection's queryables are declared. */
#include <stdio.h>
#include <string.h>

#include "crs.h"
#include "ogc.h"
#include "paging.h"
#include "routes.h"

#define STR_(x) #x
#define STR(x) STR_(x) /* a macro's value as a string literal */

static void param_ref(struct buf *b, int *first, const char *name)
{
    buf_printf(b, "%s{\"$ref\":\"#/components/parameters/%s\"}", *first ? "" : ",", name);
    *first = 0;
}

static void common_components(struct buf *b)
{
    buf_puts(b, "\"parameters\":{"
        "\"bbox\":{\"name\":\"bbox\",\"in\":\"query\",\"required\":false,\"style\":\"form\","
        "\"explode\":false,\"description\":\"Only features whose geometry intersects the box: "
        "minx,miny,maxx,maxy (or 6 numbers with heights), in bbox-crs (default CRS84). "
        "minx > maxx crosses the antimeridian.\",\"schema\":{\"type\":\"array\",\"minItems\":4,"
        "\"maxItems\":6,\"items\":{\"type\":\"number\"}}},"
        "\"bbox-crs\":{\"name\":\"bbox-crs\",\"in\":\"query\",\"required\":false,"
        "\"schema\":{\"type\":\"string\",\"format\":\"uri\",\"enum\":[CRSLIST]}},"
        "\"crs\":{\"name\":\"crs\",\"in\":\"query\",\"required\":false,"
        "\"schema\":{\"type\":\"string\",\"format\":\"uri\",\"enum\":[CRSLIST]}},"
        "\"limit\":{\"name\":\"limit\",\"in\":\"query\",\"required\":false,\"style\":\"form\","
        "\"explode\":false,\"schema\":{\"type\":\"integer\",\"minimum\":1,"
        "\"maximum\":" STR(PAGING_LIMIT_MAX) ",\"default\":100},"
        "\"description\":\"Larger values are clamped to " STR(PAGING_LIMIT_MAX) ".\"},"
        "\"offset\":{\"name\":\"offset\",\"in\":\"query\",\"required\":false,"
        "\"schema\":{\"type\":\"integer\",\"minimum\":0,\"default\":0}},"
        "\"properties\":{\"name\":\"properties\",\"in\":\"query\",\"required\":false,"
        "\"style\":\"form\",\"explode\":false,\"schema\":{\"type\":\"array\","
        "\"items\":{\"type\":\"string\"}}},"
        "\"sortby\":{\"name\":\"sortby\",\"in\":\"query\",\"required\":false,\"style\":\"form\","
        "\"explode\":false,\"schema\":{\"type\":\"array\",\"items\":{\"type\":\"string\","
        "\"pattern\":\"[+|-]?[A-Za-z_][A-Za-z_0-9]*\"}}},"
        "\"filter\":{\"name\":\"filter\",\"in\":\"query\",\"required\":false,"
        "\"description\":\"A CQL2 text filter (OGC API Features Part 3): comparisons, LIKE, IN, "
        "BETWEEN, IS NULL, AND/OR/NOT and S_INTERSECTS, S_WITHIN, S_CONTAINS, S_DISJOINT, "
        "S_EQUALS, S_TOUCHES, S_OVERLAPS, S_CROSSES with WKT or BBOX literals.\","
        "\"schema\":{\"type\":\"string\"}},"
        "\"filter-lang\":{\"name\":\"filter-lang\",\"in\":\"query\",\"required\":false,"
        "\"schema\":{\"type\":\"string\",\"enum\":[\"cql2-text\"],\"default\":\"cql2-text\"}},"
        "\"filter-crs\":{\"name\":\"filter-crs\",\"in\":\"query\",\"required\":false,"
        "\"description\":\"CRS of the filter's geometry literals, in its axis order (default "
        "CRS84).\",\"schema\":{\"type\":\"string\",\"format\":\"uri\",\"enum\":[CRSLIST]}},"
        "\"f\":{\"name\":\"f\",\"in\":\"query\",\"required\":false,"
        "\"schema\":{\"type\":\"string\",\"enum\":[\"json\",\"html\"]}},"
        "\"featureId\":{\"name\":\"featureId\",\"in\":\"path\",\"required\":true,"
        "\"schema\":{\"type\":\"integer\"}},"
        "\"tileMatrix\":{\"name\":\"tileMatrix\",\"in\":\"path\",\"required\":true,"
        "\"description\":\"Zoom level\",\"schema\":{\"type\":\"integer\",\"minimum\":0,"
        "\"maximum\":24}},"
        "\"tileRow\":{\"name\":\"tileRow\",\"in\":\"path\",\"required\":true,"
        "\"description\":\"Row (y, from the top)\",\"schema\":{\"type\":\"integer\","
        "\"minimum\":0}},"
        "\"tileCol\":{\"name\":\"tileCol\",\"in\":\"path\",\"required\":true,"
        "\"description\":\"Column (x)\",\"schema\":{\"type\":\"integer\",\"minimum\":0}}},"
        "\"responses\":{\"Error\":{\"description\":\"An error with a JSON body naming what is "
        "wrong\",\"content\":{\"application/problem+json\":{\"schema\":{\"type\":\"object\","
        "\"properties\":{\"code\":{\"type\":\"string\"},\"description\":{\"type\":\"string\"}}}}}},"
        "\"Features\":{\"description\":\"GeoJSON FeatureCollection\",\"content\":"
        "{\"application/geo+json\":{\"schema\":{\"type\":\"object\"}},\"text/html\":"
        "{\"schema\":{\"type\":\"string\"}}}},"
        "\"Feature\":{\"description\":\"GeoJSON Feature\",\"content\":"
        "{\"application/geo+json\":{\"schema\":{\"type\":\"object\"}}}},"
        "\"JSON\":{\"description\":\"JSON document\",\"content\":{\"application/json\":"
        "{\"schema\":{\"type\":\"object\"}},\"text/html\":{\"schema\":{\"type\":\"string\"}}}}}");
}

static void simple_path(struct buf *b, const char *path, const char *summary, const char *op)
{
    buf_printf(b, ",\"%s\":{\"get\":{\"summary\":\"%s\",\"operationId\":\"%s\",\"parameters\":["
               "{\"$ref\":\"#/components/parameters/f\"}],\"responses\":{\"200\":"
               "{\"$ref\":\"#/components/responses/JSON\"},\"default\":"
               "{\"$ref\":\"#/components/responses/Error\"}}}}", path, summary, op);
}

static void items_path(struct buf *b, const struct layer *l)
{
    int first = 1;
    const char *std[] = {"bbox",   "bbox-crs",    "crs",        "limit", "offset", "properties",
                         "sortby", "filter", "filter-lang", "filter-crs", "f"};
    buf_printf(b, ",\"/collections/%s/items\":{\"get\":{\"summary\":", l->id);
    buf_put_json_str(b, l->title_zh ? l->title_zh : l->id);
    buf_printf(b, ",\"operationId\":\"getItems_%s\",\"tags\":[\"%s\"],\"parameters\":[", l->id,
               l->id);
    for (size_t i = 0; i < sizeof std / sizeof *std; i++)
        param_ref(b, &first, std[i]);
    for (size_t i = 0; i < l->n_fields; i++) {
        buf_printf(b, ",{\"name\":\"%s\",\"in\":\"query\",\"required\":false,\"description\":",
                   l->fields[i].name);
        buf_put_json_str(b, l->fields[i].title_zh ? l->fields[i].title_zh : l->fields[i].name);
        buf_puts(b, ",\"schema\":");
        field_schema(b, &l->fields[i]);
        buf_putc(b, '}');
    }
    buf_puts(b, "],\"responses\":{\"200\":{\"$ref\":\"#/components/responses/Features\"},"
                "\"default\":{\"$ref\":\"#/components/responses/Error\"}}}}");
    buf_printf(b, ",\"/collections/%s/items/{featureId}\":{\"get\":{\"operationId\":"
               "\"getItem_%s\",\"tags\":[\"%s\"],\"parameters\":["
               "{\"$ref\":\"#/components/parameters/featureId\"},"
               "{\"$ref\":\"#/components/parameters/crs\"},"
               "{\"$ref\":\"#/components/parameters/f\"}],\"responses\":{\"200\":"
               "{\"$ref\":\"#/components/responses/Feature\"},\"default\":"
               "{\"$ref\":\"#/components/responses/Error\"}}}}", l->id, l->id, l->id);
}

/* The vector tile path of one collection (l) or of all (NULL). */
static void tile_path(struct buf *b, const struct layer *l)
{
    if (l)
        buf_printf(b, ",\"/collections/%s/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}\":"
                   "{\"get\":{\"summary\":\"Vector tile of %s\",\"operationId\":\"getTile_%s\","
                   "\"tags\":[\"%s\"],\"parameters\":[", l->id, l->id, l->id, l->id);
    else
        buf_puts(b, ",\"/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}\":{\"get\":"
                    "{\"summary\":\"Vector tile of several collections\",\"operationId\":"
                    "\"getDatasetTile\",\"parameters\":[{\"name\":\"collections\",\"in\":"
                    "\"query\",\"required\":false,\"style\":\"form\",\"explode\":false,"
                    "\"description\":\"Collections to include, one layer each (default: all)\","
                    "\"schema\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},");
    buf_puts(b, "{\"$ref\":\"#/components/parameters/tileMatrix\"},"
                "{\"$ref\":\"#/components/parameters/tileRow\"},"
                "{\"$ref\":\"#/components/parameters/tileCol\"}],\"responses\":{\"200\":"
                "{\"description\":\"A Mapbox Vector Tile 2.1 (gzip when accepted)\",\"content\":"
                "{\"application/vnd.mapbox-vector-tile\":{\"schema\":{\"type\":\"string\","
                "\"format\":\"binary\"}}}},\"204\":{\"description\":\"No feature in this tile\"},"
                "\"304\":{\"description\":\"Not modified (If-None-Match)\"},"
                "\"default\":{\"$ref\":\"#/components/responses/Error\"}}}}");
}

static void tile_paths(struct buf *b, const struct layers *ls)
{
    simple_path(b, "/tileMatrixSets", "Tile matrix sets", "getTileMatrixSetsList");
    simple_path(b, "/tileMatrixSets/WebMercatorQuad", "The WebMercatorQuad tile matrix set",
                "getTileMatrixSet");
    simple_path(b, "/tiles", "Vector tilesets of all collections", "getDatasetTileSetsList");
    simple_path(b, "/tiles/WebMercatorQuad", "Vector tileset of all collections (with TileJSON)",
                "getDatasetTileSet");
    tile_path(b, NULL);
    for (size_t i = 0; i < ls->n; i++) {
        const struct layer *l = &ls->v[i];
        char path[160], op[160];
        snprintf(path, sizeof path, "/collections/%s/tiles", l->id);
        snprintf(op, sizeof op, "getTileSetsList_%s", l->id);
        simple_path(b, path, "Vector tilesets", op);
        snprintf(path, sizeof path, "/collections/%s/tiles/WebMercatorQuad", l->id);
        snprintf(op, sizeof op, "getTileSet_%s", l->id);
        simple_path(b, path, "Vector tileset (with TileJSON)", op);
        tile_path(b, l);
    }
}

/* Replaces each CRSLIST marker with the quoted list of CRS URIs. */
static void expand_crs(struct buf *b)
{
    struct buf list, out;
    const char *p = b->data, *m;
    buf_init(&list);
    buf_init(&out);
    for (int c = 0; c < CRS_COUNT; c++) {
        if (c)
            buf_putc(&list, ',');
        buf_put_json_str(&list, crs_uri(c));
    }
    while ((m = strstr(p, "CRSLIST"))) {
        buf_append(&out, p, (size_t)(m - p));
        buf_append(&out, list.data, list.len);
        p = m + 7;
    }
    buf_puts(&out, p);
    buf_clear(&list);
    buf_clear(b);
    *b = out;
}

int h_api(struct req *r, struct res *s, struct err *e)
{
    struct buf *b = &s->body;
    if (req_check_unused(r, e))
        return e->code;
    s->content_type = "application/vnd.oai.openapi+json;version=3.0";
    buf_puts(b, "{\"openapi\":\"3.0.3\",\"info\":{\"title\":\"onemap\",\"version\":\"");
    buf_puts(b, ONEMAP_VERSION);
    buf_puts(b, "\",\"description\":\"Grid-based city governance map service (OGC API Features and Tiles)\"},"
                "\"servers\":[{\"url\":");
    buf_put_json_str(b, r->base);
    buf_puts(b, "}],\"paths\":{\"/\":{\"get\":{\"summary\":\"Landing page\",\"operationId\":"
                "\"getLandingPage\",\"parameters\":[{\"$ref\":\"#/components/parameters/f\"}],"
                "\"responses\":{\"200\":{\"$ref\":\"#/components/responses/JSON\"}}}}");
    simple_path(b, "/conformance", "Conformance classes", "getConformance");
    simple_path(b, "/collections", "Collections", "getCollections");
    simple_path(b, "/health", "Health", "getHealth");
    for (size_t i = 0; i < r->app->layers->n; i++) {
        const struct layer *l = &r->app->layers->v[i];
        char path[160], op[160];
        snprintf(path, sizeof path, "/collections/%s", l->id);
        snprintf(op, sizeof op, "describeCollection_%s", l->id);
        simple_path(b, path, l->id, op);
        snprintf(path, sizeof path, "/collections/%s/queryables", l->id);
        snprintf(op, sizeof op, "getQueryables_%s", l->id);
        simple_path(b, path, "Queryables", op);
        items_path(b, l);
    }
    tile_paths(b, r->app->layers);
    buf_puts(b, "},\"components\":{");
    common_components(b);
    buf_puts(b, "}}");
    expand_crs(b);
    return 0;
}
