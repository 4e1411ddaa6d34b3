/* mvt: a Mapbox Vector Tile 2.1 encoder — the protobuf wire format, layers
 * with shared (deduplicated) key and value tables, features with ids, tags
 * and polygon command streams. It knows nothing of GEOS, stores or tile
 * maths: callers hand it integer tile coordinates already clipped, cleaned
 * and wound as the spec asks (tile.c does that). One encoder builds one tile;
 * it is not shared between threads. */
#ifndef ONEMAP_MVT_H
#define ONEMAP_MVT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

typedef struct mvt mvt;

#define MVT_VERSION 2
#define MVT_EXTENT 4096

enum mvt_value_type { MVT_STRING, MVT_DOUBLE, MVT_INT, MVT_BOOL };

/* A tag value. Strings are borrowed for the call (the encoder copies). */
struct mvt_value {
    enum mvt_value_type type;
    const char *s; /* MVT_STRING, len bytes */
    size_t len;
    double d;    /* MVT_DOUBLE */
    long long i; /* MVT_INT; MVT_BOOL: 0 or 1 */
};

/* A new, empty tile encoder, or NULL when out of memory. Caller frees. */
mvt *mvt_new(void);
void mvt_free(mvt *m);

/* Calls nest: layer_begin (feature_begin tag* ring+ feature_end)* layer_end,
 * repeated per layer. Out-of-memory is remembered and reported by
 * mvt_finish; the other calls cannot fail. */
void mvt_layer_begin(mvt *m, const char *name, uint32_t extent);
/* A POLYGON feature; id 0 means "no id" (the field is left out). */
void mvt_feature_begin(mvt *m, uint64_t id);
/* Adds key = value; keys and values are shared by all features of the layer. */
void mvt_feature_tag(mvt *m, const char *key, const struct mvt_value *v);
/* The same in two steps, for a key used by many features of a layer: its
 * index in the open layer's key table (added when new; -1 when out of
 * memory), then a tag by that index. */
long mvt_key(mvt *m, const char *key);
void mvt_feature_tag_k(mvt *m, long key, const struct mvt_value *v);
/* Appends one linear ring of n >= 3 points (x, y interleaved, tile
 * coordinates, y down), without the closing point: MoveTo, LineTo(n - 1),
 * ClosePath. Exterior rings must have positive and holes negative area in
 * the surveyor's formula (clockwise / counter-clockwise on screen), an
 * exterior ring before its holes. */
void mvt_feature_ring(mvt *m, const int32_t *xy, size_t n);
/* Ends the feature; one without rings is dropped. */
void mvt_feature_end(mvt *m);
/* Ends the layer; one without features is left out of the tile. */
void mvt_layer_end(mvt *m);

/* Features written to the tile so far (all layers). */
size_t mvt_feature_count(const mvt *m);

/* Appends the encoded tile (possibly zero bytes: no features) to out.
 * ERR_INTERNAL when memory ran out at any point. */
int mvt_finish(mvt *m, struct buf *out, struct err *e);

#endif
