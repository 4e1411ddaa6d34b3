/* tile: WebMercatorQuad vector tiles rendered from the store — tile maths,
 * the query, clipping, generalisation by zoom (which keeps edges shared by
 * neighbours shared), MVT encoding of one or several layers, gzip and ETags,
 * and the cached path the server calls. Geometry work uses the caller's
 * ctx; nothing here is shared between threads except the tile_cache. */
#ifndef ONEMAP_TILE_H
#define ONEMAP_TILE_H

#include <stddef.h>
#include <stdint.h>

#include "geom_box.h"
#include "buf.h"
#include "ctx.h"
#include "err.h"
#include "layer.h"
#include "store.h"
#include "tile_cache.h"

#define TILE_MAX_ZOOM 24
#define TILE_EXTENT 4096
/* From this zoom on vertices keep full precision and no feature that
 * intersects the tile is left out, however small. */
#define TILE_FULL_ZOOM 16

/* The bounds of tile z/x/y in EPSG:3857 metres. */
void tile_bounds_3857(int z, uint32_t x, uint32_t y, struct bbox *out);

/* The columns and rows (minx, miny = min row, maxx, maxy) of the tiles of
 * zoom z that cover the lon/lat box ext (minx, miny, maxx, maxy). */
void tile_range(int z, const double ext[4], uint32_t out[4]);

/* The grid step, in 1/TILE_EXTENT of the tile, that vertices are snapped to
 * at zoom z (1 from TILE_FULL_ZOOM - 2 on, coarser below). */
int tile_grid_step(int z);

/* What a tile holds: features that intersect the tile itself (not only its
 * buffer), each clipped to the tile grown by TILE_BUFFER, snapped to the
 * grid of tile_grid_step, cleaned of repeated and collinear vertices and of
 * zero-area rings, repaired when snapping made it invalid, with exterior
 * rings clockwise on screen and holes counter-clockwise (MVT 2.1), the
 * feature id as id and the layer's attributes plus area_mu as tags. Below
 * TILE_FULL_ZOOM a feature that collapses is left out; from it on, one kept
 * as a square of one unit where it lies. */
struct tile_stats {
    size_t candidates; /* rows the store returned */
    size_t features;   /* features encoded */
    size_t repaired;   /* features that snapping made invalid, repaired */
};

/* Renders the layers of ls whose bit is set in layers (bit i = ls->v[i]),
 * in registry order, one MVT layer each (named by the layer id; layers
 * without features are left out), and appends the tile to out: zero bytes
 * when no feature is in it. stats may be NULL. Errors: ERR_PARAM for a tile
 * outside the matrix set, store errors, ERR_INTERNAL. */
int tile_render(ctx *c, store *s, const struct layers *ls, uint64_t layers, int z, uint32_t x,
                uint32_t y, struct buf *out, struct tile_stats *stats, struct err *e);

/* The strong ETag of tile bytes: a quoted 64-bit content hash, "-gz"
 * appended inside the quotes for the gzip form. */
void tile_etag(const void *data, size_t len, int gzip, char etag[TILE_ETAG_SIZE]);

/* Appends the gzip (RFC 1952) form of data to out. */
int tile_gzip(const void *data, size_t len, struct buf *out, struct err *e);

/* The tile from the cache alone, as tile_get would give it: 1 when it is
 * there in the form asked for (out, is_gzip, etag set), 0 when tile_get must
 * make it (out empty), or an error. Needs no database. */
int tile_get_cached(tile_cache *cache, const struct tile_key *k, int want_gzip, struct buf *out,
                    int *is_gzip, char etag[TILE_ETAG_SIZE], struct err *e);

/* What the server calls for GET .../{z}/{y}/{x}: the tile of k from cache
 * (may be NULL: no caching) or rendered and then cached, in its gzip form
 * when want_gzip (*is_gzip says what out holds), with its ETag. An empty
 * tile appends nothing. */
int tile_get(ctx *c, store *s, tile_cache *cache, const struct layers *ls, const struct tile_key *k,
             int want_gzip, struct buf *out, int *is_gzip, char etag[TILE_ETAG_SIZE],
             struct err *e);

#endif
