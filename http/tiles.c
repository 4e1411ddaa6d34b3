/* tiles: OGC API - Tiles — the WebMercatorQuad tile matrix set (OGC TMS 2.0
 * JSON), tileset lists and tileset metadata (with TileJSON 3.0 members) per
 * collection and for all collections together, and the vector tiles
 * themselves: parse z/y/x and the layer set, one core call (tile_get), and
 * the HTTP around it (gzip, ETag / If-None-Match, 204 for an empty tile). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "encoding.h"
#include "follow.h"
#include "links.h"
#include "ogc.h"
#include "params.h"
#include "routes.h"
#include "tile.h"

#define TMS_ID "WebMercatorQuad"
#define TMS_URI "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
#define TMS_CRS "http://www.opengis.net/def/crs/EPSG/0/3857"
#define CRS84 "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#define MVT_TYPE "application/vnd.mapbox-vector-tile"
#define REL_TILING_SCHEME "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
#define WEBMERC_HALF 20037508.3427892
#define TILE_PIXELS 256

/* ---- tile matrix sets --------------------------------------------------- */

int h_tile_matrix_sets(struct req *r, struct res *s, struct err *e)
{
    struct buf *b = &s->body;
    int first = 1;
    if (req_check_unused(r, e))
        return e->code;
    buf_puts(b, "{\"tileMatrixSets\":[{\"id\":\"" TMS_ID "\",\"title\":\"Google Maps Compatible "
                "for the World\",\"uri\":\"" TMS_URI "\",\"crs\":\"" TMS_CRS "\",\"links\":[");
    link_put(b, &first, r, "/tileMatrixSets/" TMS_ID, "self", "application/json",
             "The WebMercatorQuad tile matrix set");
    buf_puts(b, "]}],\"links\":[");
    first = 1;
    link_put(b, &first, r, "/tileMatrixSets", "self", "application/json", "Tile matrix sets");
    buf_puts(b, "]}");
    return 0;
}

/* The tile matrix set as OGC 2DTMS 2.0 JSON. It also carries the TMS 1.0
 * names of the members a TMS 1.0 reader needs (root "identifier" and
 * "supportedCRS", each matrix's "identifier" and "topLeftCorner"): GDAL
 * before 3.8 (gcore/tilematrixset.cpp) only takes a document that has
 * "identifier", reads the CRS from "supportedCRS" and the origin from
 * "topLeftCorner", and otherwise treats the whole JSON text as a file name
 * ("Destination buffer too small", "Invalid tiling matrix set name"). The
 * 2.0 schema allows additional members; 2.0 readers ignore them. */
int h_tile_matrix_set(struct req *r, struct res *s, struct err *e)
{
    struct buf *b = &s->body;
    if (strcmp(r->captures[0], TMS_ID))
        return err_set(e, ERR_NOT_FOUND, "tile matrix set '%s' does not exist (only " TMS_ID ")",
                       r->captures[0]);
    if (req_check_unused(r, e))
        return e->code;
    buf_puts(b, "{\"id\":\"" TMS_ID "\",\"title\":\"Google Maps Compatible for the World\","
                "\"uri\":\"" TMS_URI "\",\"crs\":\"" TMS_CRS "\",\"orderedAxes\":[\"X\",\"Y\"],"
                "\"wellKnownScaleSet\":"
                "\"http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible\","
                "\"boundingBox\":{\"lowerLeft\":[-20037508.3427892,-20037508.3427892],"
                "\"upperRight\":[20037508.3427892,20037508.3427892],\"crs\":\"" TMS_CRS "\"},"
                "\"identifier\":\"" TMS_ID "\",\"supportedCRS\":\"" TMS_CRS "\","
                "\"tileMatrices\":[");
    for (int z = 0; z <= TILE_MAX_ZOOM; z++) {
        double cell = 2 * WEBMERC_HALF / TILE_PIXELS / (double)(1ull << z);
        unsigned long long n = 1ull << z;
        buf_printf(b,
                   "%s{\"id\":\"%d\",\"scaleDenominator\":%.17g,\"cellSize\":%.17g,"
                   "\"cornerOfOrigin\":\"topLeft\",\"pointOfOrigin\":[-20037508.3427892,"
                   "20037508.3427892],\"tileWidth\":%d,\"tileHeight\":%d,\"matrixWidth\":%llu,"
                   "\"matrixHeight\":%llu,\"identifier\":\"%d\",\"topLeftCorner\":"
                   "[-20037508.3427892,20037508.3427892]}",
                   z ? "," : "", z, cell / 0.00028, cell, TILE_PIXELS, TILE_PIXELS, n, n, z);
    }
    buf_puts(b, "]}");
    return 0;
}

/* ---- tilesets ----------------------------------------------------------- */

/* The path of a tileset: "/collections/{id}/tiles/WebMercatorQuad", or
 * "/tiles/WebMercatorQuad" for all collections (l NULL). */
static void tileset_path(char *out, size_t cap, const struct layer *l)
{
    if (l)
        snprintf(out, cap, "/collections/%s/tiles/" TMS_ID, l->id);
    else
        snprintf(out, cap, "/tiles/" TMS_ID);
}

/* The links every tileset carries: self, tiling scheme, tile template. */
static void tileset_links(struct buf *b, struct req *r, const struct layer *l)
{
    char path[256];
    int first = 1;
    tileset_path(path, sizeof path, l);
    link_put(b, &first, r, path, "self", "application/json", "This tileset");
    link_put(b, &first, r, "/tileMatrixSets/" TMS_ID, REL_TILING_SCHEME, "application/json",
             "The tile matrix set of this tileset");
    buf_puts(b, ",{\"href\":");
    {
        struct buf h;
        buf_init(&h);
        buf_printf(&h, "%s%s/{tileMatrix}/{tileRow}/{tileCol}", r->base, path);
        buf_put_json_str(b, h.data ? h.data : "");
        buf_clear(&h);
    }
    buf_puts(b, ",\"rel\":\"item\",\"type\":\"" MVT_TYPE "\",\"templated\":true,"
                "\"title\":\"Vector tiles (Mapbox Vector Tile 2.1)\"}");
}

static const char *tilejson_type(enum field_type t)
{
    switch (t) {
    case FIELD_INTEGER:
    case FIELD_NUMBER:
        return "Number";
    case FIELD_BOOLEAN:
        return "Boolean";
    default:
        return "String";
    }
}

/* The tileset's layer list (OGC) or vector_layers (TileJSON). */
static void layer_list(struct buf *b, const struct layers *ls, uint64_t mask, int tilejson)
{
    int first = 1;
    buf_putc(b, '[');
    for (size_t i = 0; i < ls->n && i < 64; i++) {
        const struct layer *l = &ls->v[i];
        if (!(mask >> i & 1))
            continue;
        buf_puts(b, first ? "{\"id\":" : ",{\"id\":");
        first = 0;
        buf_put_json_str(b, l->id);
        buf_puts(b, tilejson ? ",\"description\":" : ",\"title\":");
        buf_put_json_str(b, l->title_zh ? l->title_zh : l->id);
        if (tilejson) {
            buf_printf(b, ",\"minzoom\":0,\"maxzoom\":%d,\"fields\":{", TILE_MAX_ZOOM);
            for (size_t f = 0; f < l->n_fields; f++) {
                buf_put_json_str(b, l->fields[f].name);
                buf_printf(b, ":\"%s\",", tilejson_type(l->fields[f].type));
            }
            buf_puts(b, "\"area_mu\":\"Number\"}}");
        } else {
            buf_printf(b,
                       ",\"dataType\":\"vector\",\"geometryDimension\":2,"
                       "\"minTileMatrix\":\"0\",\"maxTileMatrix\":\"%d\"}",
                       TILE_MAX_ZOOM);
        }
    }
    buf_putc(b, ']');
}

/* Union of the extents of the layers in mask; the world when all are empty. */
static int extent_of(struct req *r, uint64_t mask, double ext[4], struct err *e)
{
    const struct layers *ls = r->app->layers;
    int any = 0;
    for (size_t i = 0; i < ls->n && i < 64; i++) {
        double x[4];
        long long count;
        int rc;
        if (!(mask >> i & 1))
            continue;
        if ((rc = store_layer_extent(r->w->store, &ls->v[i], x, &count, e)) < 0)
            return rc;
        if (rc > 0)
            continue;
        if (!any) {
            memcpy(ext, x, sizeof x);
        } else {
            ext[0] = x[0] < ext[0] ? x[0] : ext[0], ext[1] = x[1] < ext[1] ? x[1] : ext[1];
            ext[2] = x[2] > ext[2] ? x[2] : ext[2], ext[3] = x[3] > ext[3] ? x[3] : ext[3];
        }
        any = 1;
    }
    if (!any) {
        ext[0] = -180, ext[1] = -85.0511287798, ext[2] = 180, ext[3] = 85.0511287798;
    }
    return 0;
}

/* The members every tileset description opens with, object left open. */
static void tileset_head(struct buf *b, struct req *r, const struct layer *l)
{
    buf_puts(b, "{\"title\":");
    buf_put_json_str(b, l ? (l->title_zh ? l->title_zh : l->id) : "onemap 一张图");
    buf_puts(b, ",\"dataType\":\"vector\",\"crs\":\"" TMS_CRS "\",\"tileMatrixSetURI\":\"" TMS_URI
                "\",\"links\":[");
    tileset_links(b, r, l);
    buf_putc(b, ']');
}

/* tileMatrixSetLimits: the tiles of each zoom that cover ext. */
static void tile_limits(struct buf *b, const double ext[4])
{
    buf_puts(b, ",\"tileMatrixSetLimits\":[");
    for (int z = 0; z <= TILE_MAX_ZOOM; z++) {
        uint32_t t[4];
        tile_range(z, ext, t);
        buf_printf(b,
                   "%s{\"tileMatrix\":\"%d\",\"minTileRow\":%u,\"maxTileRow\":%u,"
                   "\"minTileCol\":%u,\"maxTileCol\":%u}",
                   z ? "," : "", z, t[1], t[3], t[0], t[2]);
    }
    buf_putc(b, ']');
}

/* GET .../tiles: the one tileset (WebMercatorQuad). */
static int tilesets(struct req *r, struct res *s, const struct layer *l, struct err *e)
{
    struct buf *b = &s->body;
    char path[256];
    int first = 1;
    if (req_check_unused(r, e))
        return e->code;
    if (l)
        snprintf(path, sizeof path, "/collections/%s/tiles", l->id);
    else
        snprintf(path, sizeof path, "/tiles");
    buf_puts(b, "{\"tilesets\":[");
    tileset_head(b, r, l);
    buf_puts(b, "}],\"links\":[");
    link_put(b, &first, r, path, "self", "application/json", "Tilesets");
    buf_puts(b, "]}");
    return 0;
}

int h_tilesets(struct req *r, struct res *s, struct err *e)
{
    const struct layer *l = route_layer(r, e);
    return l ? tilesets(r, s, l, e) : e->code;
}

int h_dataset_tilesets(struct req *r, struct res *s, struct err *e)
{
    return tilesets(r, s, NULL, e);
}

static uint64_t all_layers(const struct layers *ls)
{
    return ls->n >= 64 ? UINT64_MAX : (1ull << ls->n) - 1;
}

/* GET .../tiles/WebMercatorQuad: OGC tileset metadata and TileJSON 3.0. */
static int tileset(struct req *r, struct res *s, const struct layer *l, struct err *e)
{
    const struct layers *ls = r->app->layers;
    uint64_t mask = l ? 1ull << (l - ls->v) : all_layers(ls);
    struct buf *b = &s->body;
    char path[256];
    double ext[4];
    int rc;
    if (req_check_unused(r, e))
        return e->code;
    if ((rc = extent_of(r, mask, ext, e)))
        return rc;
    tileset_path(path, sizeof path, l);
    tileset_head(b, r, l);
    tile_limits(b, ext);
    buf_puts(b, ",\"layers\":");
    layer_list(b, ls, mask, 0);
    buf_printf(b,
               ",\"boundingBox\":{\"lowerLeft\":[%.9f,%.9f],\"upperRight\":[%.9f,%.9f],"
               "\"crs\":\"" CRS84 "\"}",
               ext[0], ext[1], ext[2], ext[3]);
    buf_puts(b, ",\"tilejson\":\"3.0.0\",\"tiles\":[");
    {
        struct buf h;
        buf_init(&h);
        buf_printf(&h, "%s%s/{z}/{y}/{x}", r->base, path);
        buf_put_json_str(b, h.data ? h.data : "");
        buf_clear(&h);
    }
    buf_printf(b,
               "],\"scheme\":\"xyz\",\"minzoom\":0,\"maxzoom\":%d,"
               "\"bounds\":[%.9f,%.9f,%.9f,%.9f],\"center\":[%.9f,%.9f,14],"
               "\"vector_layers\":",
               TILE_MAX_ZOOM, ext[0], ext[1], ext[2], ext[3], (ext[0] + ext[2]) / 2,
               (ext[1] + ext[3]) / 2);
    layer_list(b, ls, mask, 1);
    buf_putc(b, '}');
    return 0;
}

int h_tileset(struct req *r, struct res *s, struct err *e)
{
    const struct layer *l = route_layer(r, e);
    return l ? tileset(r, s, l, e) : e->code;
}

int h_dataset_tileset(struct req *r, struct res *s, struct err *e)
{
    return tileset(r, s, NULL, e);
}

/* ---- tiles -------------------------------------------------------------- */

/* A path segment of decimal digits only, at most 10 of them. */
static int parse_index(const char *s, const char *name, unsigned long long *v, struct err *e)
{
    size_t n = strlen(s);
    if (n == 0 || n > 10 || strspn(s, "0123456789") != n)
        return err_set(e, ERR_PARAM, "%s: expected a whole number from 0 up, not '%s'", name, s);
    *v = strtoull(s, NULL, 10);
    return 0;
}

/* z, y, x from the last three captures. */
static int parse_tile(struct req *r, size_t at, struct tile_key *k, struct err *e)
{
    unsigned long long z = 0, y = 0, x = 0, n;
    if (parse_index(r->captures[at], "tileMatrix", &z, e) ||
        parse_index(r->captures[at + 1], "tileRow", &y, e) ||
        parse_index(r->captures[at + 2], "tileCol", &x, e))
        return e->code;
    if (z > TILE_MAX_ZOOM)
        return err_set(e, ERR_NOT_FOUND, "tileMatrix %llu: " TMS_ID " has tile matrices 0 to %d", z,
                       TILE_MAX_ZOOM);
    n = 1ull << z;
    if (y >= n)
        return err_set(e, ERR_NOT_FOUND, "tileRow %llu: tile matrix %llu has rows 0 to %llu", y, z,
                       n - 1);
    if (x >= n)
        return err_set(e, ERR_NOT_FOUND, "tileCol %llu: tile matrix %llu has columns 0 to %llu", x,
                       z, n - 1);
    k->z = (int)z;
    k->y = (uint32_t)y;
    k->x = (uint32_t)x;
    return 0;
}

/* The collections= list as a layer mask; all layers when absent. */
static int parse_collections(struct req *r, uint64_t *mask, struct err *e)
{
    const struct layers *ls = r->app->layers;
    const char *v = req_param(r, "collections"), *p;
    *mask = 0;
    if (!v) {
        *mask = all_layers(ls);
        return 0;
    }
    for (p = v; *p;) {
        size_t n = strcspn(p, ","), i;
        for (i = 0; i < ls->n; i++)
            if (strlen(ls->v[i].id) == n && !strncmp(ls->v[i].id, p, n))
                break;
        if (i == ls->n || i >= 64)
            return err_set(e, ERR_PARAM, "collections: '%.*s' is not a collection", (int)n, p);
        *mask |= 1ull << i;
        p += n;
        if (*p == ',' && *++p == '\0')
            break;
    }
    if (!*mask)
        return err_set(e, ERR_PARAM, "collections: expected one or more collection ids");
    return 0;
}

/* Whether no write can still land at or before the instant asof: it lies
 * further back than any write transaction lasts (they take their time when
 * they begin). */
static int asof_settled(const char *asof)
{
    char now[INSTANT_LEN];
    instant_now(now);
    return instant_seconds(now) - instant_seconds(asof) > 3600;
}

static int tile(struct req *r, struct res *s, struct tile_key *k, struct err *e)
{
    char etag[TILE_ETAG_SIZE];
    int gz = 0, rc;
    int want_gz = encoding_accepts_gzip(req_header(r, "Accept-Encoding"));
    if (params_asof(r, e) || req_check_unused(r, e))
        return e->code;
    /* from the cache without a worker; rendered with one (a past tile
     * always: the cache holds today's; and while other servers' writes
     * cannot be followed) */
    int cached = !r->asof[0] && follow_sync(r->app->follow) == 0;
    rc = cached && !r->w ? tile_get_cached(r->app->tiles, k, want_gz, &s->body, &gz, etag, e) : 0;
    if (rc < 0)
        return rc;
    if (rc == 0 && ((rc = server_worker(r, e)) ||
                    (rc = tile_get(r->w->ctx, r->w->store, cached ? r->app->tiles : NULL,
                                   r->app->layers, k, want_gz, &s->body, &gz, etag, e))))
        return rc;
    res_header(s, "ETag", etag);
    res_header(s, "Vary", "Accept-Encoding");
    /* a past tile never changes (but a moment ago may still be written) */
    res_header(s, "Cache-Control",
               r->asof[0] && asof_settled(r->asof) ? "public, max-age=31536000, immutable"
                                                   : "no-cache");
    if (encoding_etag_matches(req_header(r, "If-None-Match"), etag)) {
        buf_reset(&s->body);
        s->body.len = 0;
        s->status = 304;
        return 0;
    }
    if (s->body.len == 0) {
        s->status = 204;
        return 0;
    }
    s->content_type = MVT_TYPE;
    if (gz)
        res_header(s, "Content-Encoding", "gzip");
    return 0;
}

int h_tile(struct req *r, struct res *s, struct err *e)
{
    const struct layer *l = route_layer(r, e);
    struct tile_key k;
    if (!l)
        return e->code;
    if ((size_t)(l - r->app->layers->v) >= 64)
        return err_set(e, ERR_NOT_FOUND, "collection '%s' has no tiles", l->id);
    k.layers = 1ull << (l - r->app->layers->v);
    if (parse_tile(r, 1, &k, e))
        return e->code;
    return tile(r, s, &k, e);
}

int h_dataset_tile(struct req *r, struct res *s, struct err *e)
{
    struct tile_key k;
    if (parse_tile(r, 0, &k, e) || parse_collections(r, &k.layers, e))
        return e->code;
    return tile(r, s, &k, e);
}
