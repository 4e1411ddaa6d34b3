/* mvt: the MVT 2.1 protobuf encoder. Owns the bytes of the tile being built:
 * one layer at a time (its features, key table and value table) and the
 * finished layers. The wire format is written by hand: varints, zigzag,
 * length-delimited fields and packed repeated uint32, which is all the
 * vector_tile.proto messages need. */
#include "mvt.h"

#include <stdlib.h>
#include <string.h>

/* vector_tile.proto field numbers */
enum {
    TILE_LAYERS = 3,
    LAYER_NAME = 1,
    LAYER_FEATURES = 2,
    LAYER_KEYS = 3,
    LAYER_VALUES = 4,
    LAYER_EXTENT = 5,
    LAYER_VERSION = 15,
    FEATURE_ID = 1,
    FEATURE_TAGS = 2,
    FEATURE_TYPE = 3,
    FEATURE_GEOMETRY = 4,
    VALUE_STRING = 1,
    VALUE_DOUBLE = 3,
    VALUE_UINT = 5,
    VALUE_SINT = 6,
    VALUE_BOOL = 7
};
enum { WIRE_VARINT = 0, WIRE_64BIT = 1, WIRE_LEN = 2 };
enum { GEOM_POLYGON = 3 };
enum { CMD_MOVE_TO = 1, CMD_LINE_TO = 2, CMD_CLOSE_PATH = 7 };

/* A growable array of uint32 (tags, geometry commands). */
struct u32s {
    uint32_t *v;
    size_t n, cap;
};

/* Byte strings numbered in order of first appearance, found again by hash:
 * the layer's keys (the strings) and values (encoded Value messages). */
struct span {
    size_t off, len;
    uint32_t hash;
};
struct dict {
    struct buf bytes;   /* every entry, concatenated */
    struct span *spans; /* entry i */
    size_t n, spans_cap;
    uint32_t *slots;  /* open addressing: entry index + 1, 0 = empty */
    size_t slots_cap; /* power of two */
};

struct mvt {
    struct buf tile; /* finished layers */
    /* the open layer */
    int in_layer;
    char *name;
    uint32_t extent;
    struct buf features; /* encoded LAYER_FEATURES fields */
    struct dict keys, values;
    /* the open feature */
    uint64_t id;
    struct u32s tags, geom;
    int32_t cx, cy; /* the command cursor */
    struct buf scratch;
    size_t n_features, layer_features;
    int oom;
};

/* ---- wire format ------------------------------------------------------- */

/* Writes v at p (room for 10 bytes); returns the end. */
static unsigned char *varint_at(unsigned char *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

static void put_varint(struct buf *b, uint64_t v)
{
    unsigned char *p, *end;
    if (buf_reserve(b, 10))
        return;
    p = (unsigned char *)b->data + b->len;
    end = varint_at(p, v);
    b->len += (size_t)(end - p);
    b->data[b->len] = '\0';
}

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static void put_key(struct buf *b, unsigned field, unsigned wire)
{
    put_varint(b, (uint64_t)field << 3 | wire);
}

static void put_bytes_field(struct buf *b, unsigned field, const void *p, size_t n)
{
    put_key(b, field, WIRE_LEN);
    put_varint(b, n);
    buf_append(b, p, n);
}

static void put_varint_field(struct buf *b, unsigned field, uint64_t v)
{
    put_key(b, field, WIRE_VARINT);
    put_varint(b, v);
}

static void put_packed_field(struct buf *b, unsigned field, const struct u32s *a)
{
    size_t len = 0;
    for (size_t i = 0; i < a->n; i++)
        len += varint_size(a->v[i]);
    put_key(b, field, WIRE_LEN);
    put_varint(b, len);
    if (buf_reserve(b, len))
        return;
    {
        unsigned char *p = (unsigned char *)b->data + b->len;
        for (size_t i = 0; i < a->n; i++)
            p = varint_at(p, a->v[i]);
        b->len += len;
        b->data[b->len] = '\0';
    }
}

static uint32_t zigzag32(int32_t v)
{
    return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31);
}

static uint64_t zigzag64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static void u32s_push(mvt *m, struct u32s *a, uint32_t v)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 64;
        uint32_t *nv = realloc(a->v, cap * sizeof *nv);
        if (!nv) {
            m->oom = 1;
            return;
        }
        a->v = nv;
        a->cap = cap;
    }
    a->v[a->n++] = v;
}

/* ---- key and value tables ---------------------------------------------- */

/* A word at a time (a tile's values are mostly new: each is hashed once,
 * and a byte at a time that was a tenth of a tile's encoding). */
static uint32_t hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    if (i < n) {
        w = 0;
        memcpy(&w, s + i, n - i);
        h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (uint32_t)h;
}

static void dict_clear(struct dict *d)
{
    buf_clear(&d->bytes);
    free(d->spans);
    free(d->slots);
    memset(d, 0, sizeof *d);
}

static int dict_grow(struct dict *d)
{
    size_t cap = d->slots_cap ? 2 * d->slots_cap : 64;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < d->n; i++) {
        size_t at = d->spans[i].hash & (cap - 1);
        while (slots[at])
            at = (at + 1) & (cap - 1);
        slots[at] = (uint32_t)i + 1;
    }
    free(d->slots);
    d->slots = slots;
    d->slots_cap = cap;
    return 0;
}

/* The index of the entry p[0..n), added when new; -1 when out of memory. */
static long dict_index(struct dict *d, const void *p, size_t n)
{
    uint32_t h = hash_bytes(p, n);
    size_t at;
    if ((d->n + 1) * 10 > d->slots_cap * 7 && dict_grow(d))
        return -1;
    at = h & (d->slots_cap - 1);
    for (; d->slots[at]; at = (at + 1) & (d->slots_cap - 1)) {
        const struct span *s = &d->spans[d->slots[at] - 1];
        if (s->hash == h && s->len == n && !memcmp(d->bytes.data + s->off, p, n))
            return (long)d->slots[at] - 1;
    }
    if (d->n == d->spans_cap) {
        size_t cap = d->spans_cap ? 2 * d->spans_cap : 64;
        struct span *ns = realloc(d->spans, cap * sizeof *ns);
        if (!ns)
            return -1;
        d->spans = ns;
        d->spans_cap = cap;
    }
    d->spans[d->n].off = d->bytes.len;
    d->spans[d->n].len = n;
    d->spans[d->n].hash = h;
    buf_append(&d->bytes, p, n);
    if (d->bytes.oom)
        return -1;
    d->slots[at] = (uint32_t)d->n + 1;
    return (long)d->n++;
}

static void put_dict(struct buf *b, unsigned field, const struct dict *d)
{
    for (size_t i = 0; i < d->n; i++)
        put_bytes_field(b, field, d->bytes.data + d->spans[i].off, d->spans[i].len);
}

/* ---- the encoder ------------------------------------------------------- */

mvt *mvt_new(void)
{
    mvt *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    buf_init(&m->tile);
    buf_init(&m->features);
    buf_init(&m->scratch);
    return m;
}

void mvt_free(mvt *m)
{
    if (!m)
        return;
    buf_clear(&m->tile);
    buf_clear(&m->features);
    buf_clear(&m->scratch);
    dict_clear(&m->keys);
    dict_clear(&m->values);
    free(m->tags.v);
    free(m->geom.v);
    free(m->name);
    free(m);
}

void mvt_layer_begin(mvt *m, const char *name, uint32_t extent)
{
    if (m->in_layer)
        mvt_layer_end(m);
    free(m->name);
    m->name = strdup(name);
    if (!m->name)
        m->oom = 1;
    m->extent = extent;
    buf_reset(&m->features);
    dict_clear(&m->keys);
    dict_clear(&m->values);
    m->layer_features = 0;
    m->in_layer = 1;
}

void mvt_feature_begin(mvt *m, uint64_t id)
{
    m->id = id;
    m->tags.n = 0;
    m->geom.n = 0;
    m->cx = m->cy = 0;
}

/* The Value message of v, in m->scratch. */
static void encode_value(mvt *m, const struct mvt_value *v)
{
    struct buf *b = &m->scratch;
    buf_reset(b);
    switch (v->type) {
    case MVT_STRING:
        put_bytes_field(b, VALUE_STRING, v->s, v->len);
        break;
    case MVT_DOUBLE: {
        unsigned char le[8];
        uint64_t bits;
        memcpy(&bits, &v->d, sizeof bits);
        for (int i = 0; i < 8; i++)
            le[i] = (unsigned char)(bits >> (8 * i));
        put_key(b, VALUE_DOUBLE, WIRE_64BIT);
        buf_append(b, le, sizeof le);
        break;
    }
    case MVT_INT:
        if (v->i >= 0)
            put_varint_field(b, VALUE_UINT, (uint64_t)v->i);
        else
            put_varint_field(b, VALUE_SINT, zigzag64(v->i));
        break;
    case MVT_BOOL:
        put_varint_field(b, VALUE_BOOL, v->i ? 1 : 0);
        break;
    }
}

long mvt_key(mvt *m, const char *key)
{
    long k = dict_index(&m->keys, key, strlen(key));
    if (k < 0)
        m->oom = 1;
    return k;
}

void mvt_feature_tag(mvt *m, const char *key, const struct mvt_value *v)
{
    mvt_feature_tag_k(m, dict_index(&m->keys, key, strlen(key)), v);
}

void mvt_feature_tag_k(mvt *m, long k, const struct mvt_value *v)
{
    long val;
    encode_value(m, v);
    val = m->scratch.oom ? -1 : dict_index(&m->values, m->scratch.data, m->scratch.len);
    if (k < 0 || val < 0) {
        m->oom = 1;
        return;
    }
    u32s_push(m, &m->tags, (uint32_t)k);
    u32s_push(m, &m->tags, (uint32_t)val);
}

static uint32_t command(unsigned id, size_t count)
{
    return (uint32_t)(id & 7) | (uint32_t)count << 3;
}

void mvt_feature_ring(mvt *m, const int32_t *xy, size_t n)
{
    if (n < 3)
        return;
    u32s_push(m, &m->geom, command(CMD_MOVE_TO, 1));
    for (size_t i = 0; i < n; i++) {
        int32_t x = xy[2 * i], y = xy[2 * i + 1];
        if (i == 1)
            u32s_push(m, &m->geom, command(CMD_LINE_TO, n - 1));
        u32s_push(m, &m->geom, zigzag32(x - m->cx));
        u32s_push(m, &m->geom, zigzag32(y - m->cy));
        m->cx = x;
        m->cy = y;
    }
    u32s_push(m, &m->geom, command(CMD_CLOSE_PATH, 1));
}

void mvt_feature_end(mvt *m)
{
    struct buf *b = &m->scratch;
    if (m->geom.n == 0)
        return;
    buf_reset(b);
    if (m->id)
        put_varint_field(b, FEATURE_ID, m->id);
    if (m->tags.n)
        put_packed_field(b, FEATURE_TAGS, &m->tags);
    put_varint_field(b, FEATURE_TYPE, GEOM_POLYGON);
    put_packed_field(b, FEATURE_GEOMETRY, &m->geom);
    if (b->oom) {
        m->oom = 1;
        return;
    }
    put_bytes_field(&m->features, LAYER_FEATURES, b->data, b->len);
    m->layer_features++;
    m->n_features++;
}

void mvt_layer_end(mvt *m)
{
    struct buf *b = &m->scratch;
    if (!m->in_layer)
        return;
    m->in_layer = 0;
    if (m->layer_features == 0)
        return;
    buf_reset(b);
    put_bytes_field(b, LAYER_NAME, m->name ? m->name : "", m->name ? strlen(m->name) : 0);
    buf_append(b, m->features.data, m->features.len);
    put_dict(b, LAYER_KEYS, &m->keys);
    put_dict(b, LAYER_VALUES, &m->values);
    put_varint_field(b, LAYER_EXTENT, m->extent);
    put_varint_field(b, LAYER_VERSION, MVT_VERSION);
    if (b->oom || m->features.oom) {
        m->oom = 1;
        return;
    }
    put_bytes_field(&m->tile, TILE_LAYERS, b->data, b->len);
}

size_t mvt_feature_count(const mvt *m)
{
    return m->n_features;
}

int mvt_finish(mvt *m, struct buf *out, struct err *e)
{
    if (m->in_layer)
        mvt_layer_end(m);
    if (m->oom || m->tile.oom)
        return err_set(e, ERR_INTERNAL, "vector tile: out of memory");
    buf_append(out, m->tile.data, m->tile.len);
    if (out->oom)
        return err_set(e, ERR_INTERNAL, "vector tile: out of memory");
    return 0;
}
