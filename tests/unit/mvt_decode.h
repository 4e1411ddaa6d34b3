/* mvt_decode: a small Mapbox Vector Tile 2.1 reader for the unit tests,
 * written from vector_tile.proto and the spec's geometry encoding, sharing
 * no code with core/mvt.c. Everything is static inline; a test includes it once.
 * Fixed limits keep it simple: a test tile is small. */
#ifndef ONEMAP_TEST_MVT_DECODE_H
#define ONEMAP_TEST_MVT_DECODE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEC_MAX 64 /* keys, tags; values: 4 x */
#define DEC_MAX_LAYERS 8
#define DEC_MAX_PTS 2048
#define DEC_MAX_FEATURES 256
#define DEC_MAX_RINGS 256

struct dec_value {
    int type; /* field number of vector_tile.Value: 1 string ... 7 bool */
    char s[128];
    double d;
    int64_t i;
    uint64_t u;
};

struct dec_feature {
    int has_id;
    uint64_t id;
    int type;
    uint32_t tags[2 * DEC_MAX];
    int n_tags;
    uint32_t cmds[4 * DEC_MAX_PTS]; /* the raw geometry stream */
    int n_cmds;
    int64_t pts[DEC_MAX_PTS][2]; /* decoded absolute points */
    int ring_end[DEC_MAX_RINGS]; /* point index after ring i (rings not closed) */
    int n_rings;
};

struct dec_layer {
    char name[64];
    uint32_t version, extent;
    char keys[DEC_MAX][64];
    int n_keys;
    struct dec_value values[DEC_MAX * 4];
    int n_values;
    struct dec_feature *features;
    int n_features;
};

struct dec_tile {
    struct dec_layer layers[DEC_MAX_LAYERS];
    int n_layers;
};

/* A protobuf reader over [p, end); failure sets bad. */
struct rd {
    const unsigned char *p, *end;
    int bad;
};

static inline uint64_t rd_varint(struct rd *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) {
            r->bad = 1;
            return 0;
        }
        v |= (uint64_t)(*r->p & 0x7f) << shift;
        if (!(*r->p++ & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

/* A length-delimited field's bytes as a sub-reader. */
static inline struct rd rd_sub(struct rd *r)
{
    uint64_t n = rd_varint(r);
    struct rd s = {r->p, r->p, 0};
    if (r->bad || n > (uint64_t)(r->end - r->p)) {
        r->bad = 1;
        s.bad = 1;
        return s;
    }
    s.end = r->p + n;
    r->p += n;
    return s;
}

static inline void rd_skip(struct rd *r, int wire)
{
    if (wire == 0)
        rd_varint(r);
    else if (wire == 1)
        r->p += 8;
    else if (wire == 5)
        r->p += 4;
    else if (wire == 2)
        rd_sub(r);
    else
        r->bad = 1;
    if (r->p > r->end)
        r->bad = 1;
}

static inline int64_t dec_unzigzag(uint64_t n)
{
    return (int64_t)(n >> 1) ^ -(int64_t)(n & 1);
}

static inline int dec_value(struct rd r, struct dec_value *v)
{
    memset(v, 0, sizeof *v);
    while (r.p < r.end && !r.bad) {
        uint64_t key = rd_varint(&r);
        int num = (int)(key >> 3), wire = (int)(key & 7);
        v->type = num;
        if (num == 1 && wire == 2) {
            struct rd s = rd_sub(&r);
            size_t n = (size_t)(s.end - s.p);
            if (n >= sizeof v->s)
                return -1;
            memcpy(v->s, s.p, n);
            v->s[n] = '\0';
        } else if (num == 3 && wire == 1) {
            uint64_t bits = 0;
            for (int k = 0; k < 8; k++)
                bits |= (uint64_t)r.p[k] << (8 * k);
            memcpy(&v->d, &bits, 8);
            r.p += 8;
        } else if (num == 2 && wire == 5) {
            uint32_t bits = 0;
            float f;
            for (int k = 0; k < 4; k++)
                bits |= (uint32_t)r.p[k] << (8 * k);
            memcpy(&f, &bits, 4);
            v->d = f;
            r.p += 4;
        } else if (num == 4 && wire == 0) {
            v->i = (int64_t)rd_varint(&r);
        } else if (num == 5 && wire == 0) {
            v->u = rd_varint(&r);
        } else if (num == 6 && wire == 0) {
            v->i = dec_unzigzag(rd_varint(&r));
        } else if (num == 7 && wire == 0) {
            v->i = (int64_t)rd_varint(&r);
        } else {
            return -1;
        }
    }
    return r.bad ? -1 : 0;
}

/* Decodes a polygon command stream into rings; -1 on anything a polygon
 * stream must not hold (MoveTo of count != 1, LineTo before MoveTo, ...). */
static inline int dec_geometry(struct dec_feature *f)
{
    int64_t x = 0, y = 0;
    int i = 0, n = 0, open = 0;
    f->n_rings = 0;
    while (i < f->n_cmds) {
        uint32_t id = f->cmds[i] & 7, count = f->cmds[i] >> 3;
        i++;
        if (id == 1 || id == 2) {
            if ((id == 1 && count != 1) || (id == 2 && !open) || count == 0 ||
                i + 2 * (int)count > f->n_cmds || n + (int)count > DEC_MAX_PTS)
                return -1;
            if (id == 1) {
                if (open)
                    return -1;
                open = 1;
            }
            for (uint32_t k = 0; k < count; k++) {
                x += dec_unzigzag(f->cmds[i++]);
                y += dec_unzigzag(f->cmds[i++]);
                f->pts[n][0] = x;
                f->pts[n][1] = y;
                n++;
            }
        } else if (id == 7) {
            if (!open || count != 1 || f->n_rings == DEC_MAX_RINGS)
                return -1;
            f->ring_end[f->n_rings++] = n;
            open = 0;
        } else {
            return -1;
        }
    }
    return open ? -1 : 0;
}

static inline int dec_feature(struct rd r, struct dec_feature *f)
{
    memset(f, 0, sizeof *f);
    while (r.p < r.end && !r.bad) {
        uint64_t key = rd_varint(&r);
        int num = (int)(key >> 3), wire = (int)(key & 7);
        if (num == 1 && wire == 0) {
            f->has_id = 1;
            f->id = rd_varint(&r);
        } else if ((num == 2 || num == 4) && wire == 2) {
            struct rd s = rd_sub(&r);
            while (s.p < s.end && !s.bad) {
                uint64_t v = rd_varint(&s);
                if (num == 2 && f->n_tags < 2 * DEC_MAX)
                    f->tags[f->n_tags++] = (uint32_t)v;
                else if (num == 4 && f->n_cmds < 4 * DEC_MAX_PTS)
                    f->cmds[f->n_cmds++] = (uint32_t)v;
                else
                    return -1;
            }
            if (s.bad)
                return -1;
        } else if (num == 3 && wire == 0) {
            f->type = (int)rd_varint(&r);
        } else {
            rd_skip(&r, wire);
        }
    }
    return r.bad ? -1 : dec_geometry(f);
}

static inline int dec_layer(struct rd r, struct dec_layer *l)
{
    memset(l, 0, sizeof *l);
    l->version = 1;
    l->extent = 4096;
    l->features = calloc(DEC_MAX_FEATURES, sizeof *l->features);
    while (r.p < r.end && !r.bad) {
        uint64_t key = rd_varint(&r);
        int num = (int)(key >> 3), wire = (int)(key & 7);
        if (num == 1 && wire == 2) {
            struct rd s = rd_sub(&r);
            size_t n = (size_t)(s.end - s.p);
            if (n >= sizeof l->name)
                return -1;
            memcpy(l->name, s.p, n);
        } else if (num == 2 && wire == 2) {
            if (!l->features || l->n_features == DEC_MAX_FEATURES ||
                dec_feature(rd_sub(&r), &l->features[l->n_features++]))
                return -1;
        } else if (num == 3 && wire == 2) {
            struct rd s = rd_sub(&r);
            size_t n = (size_t)(s.end - s.p);
            if (l->n_keys == DEC_MAX || n >= sizeof l->keys[0])
                return -1;
            memcpy(l->keys[l->n_keys++], s.p, n);
        } else if (num == 4 && wire == 2) {
            if (l->n_values == DEC_MAX * 4 || dec_value(rd_sub(&r), &l->values[l->n_values++]))
                return -1;
        } else if (num == 5 && wire == 0) {
            l->extent = (uint32_t)rd_varint(&r);
        } else if (num == 15 && wire == 0) {
            l->version = (uint32_t)rd_varint(&r);
        } else {
            rd_skip(&r, wire);
        }
    }
    return r.bad ? -1 : 0;
}

/* Decodes a whole tile; -1 when malformed. dec_free releases it. */
static inline int dec_tile(const void *data, size_t len, struct dec_tile *t)
{
    struct rd r = {data, (const unsigned char *)data + len, 0};
    memset(t, 0, sizeof *t);
    while (r.p < r.end && !r.bad) {
        uint64_t key = rd_varint(&r);
        if (key != (3 << 3 | 2) || t->n_layers == DEC_MAX_LAYERS)
            return -1;
        if (dec_layer(rd_sub(&r), &t->layers[t->n_layers++]))
            return -1;
    }
    return r.bad ? -1 : 0;
}

static inline void dec_free(struct dec_tile *t)
{
    for (int i = 0; i < t->n_layers; i++)
        free(t->layers[i].features);
}

static inline const struct dec_layer *dec_find(const struct dec_tile *t, const char *name)
{
    for (int i = 0; i < t->n_layers; i++)
        if (!strcmp(t->layers[i].name, name))
            return &t->layers[i];
    return NULL;
}

/* Twice the signed area of ring r of f by the surveyor's formula (tile
 * coordinates, y down: positive = clockwise on screen). */
static inline int64_t dec_ring_area2(const struct dec_feature *f, int r)
{
    int a = r ? f->ring_end[r - 1] : 0, b = f->ring_end[r];
    int64_t s = 0;
    for (int i = a; i < b; i++) {
        int j = i + 1 < b ? i + 1 : a;
        s += f->pts[i][0] * f->pts[j][1] - f->pts[j][0] * f->pts[i][1];
    }
    return s;
}

static inline int dec_ring_len(const struct dec_feature *f, int r)
{
    return f->ring_end[r] - (r ? f->ring_end[r - 1] : 0);
}

/* The tag value of key in feature f of layer l, NULL when absent. */
static inline const struct dec_value *dec_tag(const struct dec_layer *l,
                                              const struct dec_feature *f, const char *key)
{
    for (int i = 0; i + 1 < f->n_tags; i += 2)
        if ((int)f->tags[i] < l->n_keys && !strcmp(l->keys[f->tags[i]], key) &&
            (int)f->tags[i + 1] < l->n_values)
            return &l->values[f->tags[i + 1]];
    return NULL;
}

#endif
