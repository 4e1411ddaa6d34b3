/* tile_cache: encoded vector tiles kept in memory, bounded in bytes, least
 * recently used out first, keyed by (layer set, z, x, y), each with its ETag.
 * This is the one mutable structure that all server threads share: every
 * call takes the cache's mutex, so any thread may call any function at any
 * time (except tile_cache_free). Tiles are copied in and out; the caller
 * never holds a pointer into the cache.
 *
 * Staleness: every write (of geometry or of attributes only) must call
 * tile_cache_invalidate (or _layers) AFTER it has committed, with the
 * storage bounds of the old and of the new geometry.
 * A tile rendered from data read before that call is refused by
 * tile_cache_put when the invalidation touches it (the epoch passed from
 * tile_cache_get to tile_cache_put is what tells). */
#ifndef ONEMAP_TILE_CACHE_H
#define ONEMAP_TILE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "geom_box.h"
#include "buf.h"

typedef struct tile_cache tile_cache;

/* A tile of one set of layers: bit i of layers is layer i of the registry. */
struct tile_key {
    uint64_t layers;
    int z;
    uint32_t x, y;
};

/* "\"0123456789abcdef-gz\"" and its NUL */
#define TILE_ETAG_SIZE 24

/* The buffer around each tile, in units of its 4096 extent: tile.c clips
 * to it and invalidation counts it. */
#define TILE_BUFFER 64

/* A cache holding at most max_bytes of tiles (data plus bookkeeping); NULL
 * when out of memory. Caller frees, after every other thread is done. */
tile_cache *tile_cache_new(size_t max_bytes);
void tile_cache_free(tile_cache *c);

/* On a hit returns 1, appends the tile to out (its gzip form when want_gzip
 * and the cache has it; *is_gzip says which) and copies the ETag of its
 * identity form to etag. On a miss returns 0 and *epoch
 * receives the value to hand to tile_cache_put for the tile rendered now.
 * 0 bytes (an empty tile) is a valid hit. -1 when out of memory. */
int tile_cache_get(tile_cache *c, const struct tile_key *k, int want_gzip, struct buf *out,
                   int *is_gzip, char etag[TILE_ETAG_SIZE], uint64_t *epoch);

/* Stores a tile rendered after the tile_cache_get that returned epoch,
 * replacing any entry of k. gz may be NULL. etag is the identity form's.
 * Refused (returns 1, nothing stored) when an invalidation since epoch
 * touched the tile, or the tile alone exceeds a quarter of the cache; 0 when
 * stored; -1 when out of memory. */
int tile_cache_put(tile_cache *c, const struct tile_key *k, const void *data, size_t len,
                   const void *gz, size_t gz_len, const char *etag, uint64_t epoch);

/* Attaches the gzip form to the entry of k if it still holds the tile
 * whose identity ETag is etag. */
void tile_cache_put_gzip(tile_cache *c, const struct tile_key *k, const char *etag, const void *gz,
                         size_t gz_len);

/* Drops every cached tile, of every zoom, whose extent with its buffer
 * (TILE_BUFFER) intersects storage_bbox (EPSG:4490 lon/lat, closed: touching
 * counts). _layers drops only tiles that include one of the layers in mask. */
void tile_cache_invalidate(tile_cache *c, const struct bbox *storage_bbox);
void tile_cache_invalidate_layers(tile_cache *c, uint64_t layers, const struct bbox *storage_bbox);

/* With replicas (store_read_position): a tile read from a snapshot that
 * reaches less far than the floor is served but not kept, since it may
 * predate a write whose invalidation was already done. The floor is the
 * primary's position after the latest invalidation (STORE_POS_ALL while
 * that is being found out); 0, the default: every tile is kept. */
void tile_cache_set_floor(tile_cache *c, unsigned long long pos);
unsigned long long tile_cache_floor(tile_cache *c);

struct tile_cache_stats {
    size_t entries, bytes, max_bytes;
    uint64_t hits, misses, evicted, invalidated, refused;
};
void tile_cache_stats_get(tile_cache *c, struct tile_cache_stats *out);

/* The lon/lat extent (EPSG:4490, as minx miny maxx maxy) of a
 * WebMercatorQuad tile widened by buffer/4096 of its size on every side. */
void tile_cache_extent(int z, uint32_t x, uint32_t y, int buffer, struct bbox *out);

#endif
