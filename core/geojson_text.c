/* geojson_text: plain GeoJSON geometries read straight from their text
 * (geojson_geom_parse_text), the fast path of imports. geojson.c's jansson
 * reader stays the reference: this file accepts only what that one would,
 * built the same way, and leaves everything else to it. */
#include "geojson.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "geojson_int.h"

/* ---- reading straight from text ---------------------------------------- */

/* geojson_geom_parse_text serves the common case of an import: a plain
 * geometry object, well formed, read without building a jansson tree (one
 * allocation per number) and walking it. It accepts only what it can prove
 * geojson_geom_parse would accept and build the same way, and refuses (1)
 * everything else, errors included: the slow path then finds the fault and
 * words the message, so no message is written twice. The positions and the
 * array lengths are gathered first, into scratch arrays that start out on
 * the stack, and GEOS builds only once the whole text has been checked: a
 * refusal has nothing to undo. */

#define SCAN_POS 256    /* positions before the scratch moves to the heap */
#define SCAN_LEN 32     /* array lengths likewise */
#define SCAN_NUM_MAX 64 /* longer number text is left to the slow path */
#define SCAN_PARTS 16   /* members or rings before a heap array */

enum { SEQ_POINTS, SEQ_LINE, SEQ_RING };

struct scan {
    const char *s, *end;
    size_t max_points;
    double *xy; /* every position in text order, x y interleaved */
    size_t npos, cap;
    unsigned *seq; /* positions of each array of positions */
    size_t nseq, seqcap;
    unsigned *grp; /* arrays of positions of each array of those (rings) */
    size_t ngrp, grpcap;
    double xy0[2 * SCAN_POS];
    unsigned seq0[SCAN_LEN], grp0[SCAN_LEN];
};

/* Doubles the room of a scratch array whose first storage is init (inside
 * the struct, copied out on the first growth). The new storage, or NULL
 * with the old one left as it was. Counts stay below UINT_MAX, what GEOS
 * takes. */
static void *grow(void *a, const void *init, size_t *cap, size_t elem)
{
    size_t ncap = *cap * 2;
    void *b;
    if (ncap > UINT_MAX)
        return NULL;
    if (a == init) {
        if ((b = malloc(ncap * elem)))
            memcpy(b, a, *cap * elem);
    } else {
        b = realloc(a, ncap * elem);
    }
    if (b)
        *cap = ncap;
    return b;
}

static int push_len(unsigned **a, const unsigned *init, size_t *n, size_t *cap, size_t len)
{
    unsigned *b;
    if (*n == *cap) {
        if (!(b = grow(*a, init, cap, sizeof *b)))
            return 1;
        *a = b;
    }
    (*a)[(*n)++] = (unsigned)len;
    return 0;
}

/* JSON's whitespace, no more (jansson's too). */
static void skip_ws(struct scan *t)
{
    while (t->s < t->end && (*t->s == ' ' || *t->s == '\n' || *t->s == '\r' || *t->s == '\t'))
        t->s++;
}

/* Skips whitespace, then takes ch if it comes next; 1 when it did. */
static int eat(struct scan *t, char ch)
{
    skip_ws(t);
    if (t->s < t->end && *t->s == ch) {
        t->s++;
        return 1;
    }
    return 0;
}

/* A string, its bytes [*str, *str + *n) as they stand. Escapes are not
 * decoded: every caller compares with a name that has no backslash, so a
 * string with one (or with an escaped quote, where this stops early) never
 * matches and the slow path reads it. */
static int scan_plain_string(struct scan *t, const char **str, size_t *n)
{
    const char *q;
    if (!eat(t, '"'))
        return 1;
    if (!(q = memchr(t->s, '"', (size_t)(t->end - t->s))))
        return 1;
    *str = t->s;
    *n = (size_t)(q - t->s);
    t->s = q + 1;
    return 0;
}

static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Powers of ten that a double holds exactly. */
static const double exact10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Reads a number as json_number_value would give it after jansson's lexer,
 * checked as read_num checks it. The grammar is RFC 8259's, strictly (no
 * "01", "1.", ".5", "+1"; the caller refuses whatever follows the longest
 * match). jansson reads a literal without fraction and exponent as a
 * json_int_t, so "-0" is 0, not -0.0, and overflow is its error: beyond 18
 * digits the slow path decides. Other literals go through strtod, which is
 * correctly rounded; when the significand has at most 2^53 and the power of
 * ten is exact, one multiplication or division rounds just the same and
 * costs far less (Clinger's fast path). That needs double arithmetic without
 * excess precision, hence FLT_EVAL_METHOD. */
static int scan_num(struct scan *t, double *out)
{
    const char *s = t->s, *start = t->s, *end = t->end;
    uint64_t m = 0;
    int digits = 0, many = 0, real = 0, neg = 0;
    long exp10 = 0, e = 0;
    double v;

    if (s < end && *s == '-')
        neg = 1, s++;
    if (s < end && *s == '0') {
        s++;
    } else if (s < end && *s >= '1' && *s <= '9') {
        for (; s < end && is_digit(*s); s++) {
            if (digits < 19)
                m = m * 10 + (uint64_t)(*s - '0'), digits++;
            else
                many = 1;
        }
    } else {
        return 1;
    }
    if (s < end && *s == '.') {
        real = 1;
        if (++s == end || !is_digit(*s))
            return 1;
        for (; s < end && is_digit(*s); s++) {
            if (m == 0 && *s == '0')
                exp10--; /* leading zeros are not significant */
            else if (digits < 19)
                m = m * 10 + (uint64_t)(*s - '0'), digits++, exp10--;
            else
                many = 1;
        }
    }
    if (s < end && (*s == 'e' || *s == 'E')) {
        int eneg = 0;
        real = 1;
        if (++s < end && (*s == '+' || *s == '-'))
            eneg = *s++ == '-';
        if (s == end || !is_digit(*s))
            return 1;
        for (; s < end && is_digit(*s); s++)
            if (e < 100000)
                e = e * 10 + (*s - '0');
        exp10 += eneg ? -e : e;
    }
    /* a number at the very end is truncated text anyway; refusing it also
     * keeps strtod inside the buffer */
    if (s == end || s - start > SCAN_NUM_MAX)
        return 1;
    if (!real) {
        if (digits > 18)
            return 1;
        v = (double)(neg ? -(long long)m : (long long)m);
    } else if (FLT_EVAL_METHOD == 0 && !many && m <= (UINT64_C(1) << 53) && exp10 >= -22 &&
               exp10 <= 22) {
        v = exp10 < 0 ? (double)m / exact10[-exp10] : (double)m * exact10[exp10];
        if (neg)
            v = -v;
    } else {
        char num[SCAN_NUM_MAX + 1], *stop;
        size_t n = (size_t)(s - start);
        memcpy(num, start, n);
        num[n] = '\0';
        v = strtod(num, &stop);
        if (stop != num + n) /* a locale whose decimal point is not '.' */
            return 1;
    }
    if (!isfinite(v) || fabs(v) > GEOJSON_COORD_MAX)
        return 1;
    *out = v;
    t->s = s;
    return 0;
}

/* A position of 2 or 3 numbers into pos; *dim receives the count. */
static int scan_pos(struct scan *t, double pos[3], int *dim)
{
    int n = 0;
    if (!eat(t, '['))
        return 1;
    do {
        if (n == 3)
            return 1;
        skip_ws(t);
        if (scan_num(t, &pos[n++]))
            return 1;
    } while (eat(t, ','));
    if (n < 2 || !eat(t, ']'))
        return 1;
    *dim = n;
    return 0;
}

/* A non-empty array of positions appended to t->xy and its length to
 * t->seq: at least 2 for a line, 4 and closed (as check_closed has it) for a
 * ring. */
static int scan_seq(struct scan *t, int kind)
{
    double pos[3] = {0, 0, 0}, first[3] = {0, 0, 0};
    int dim = 2, fdim = 2;
    size_t n = 0;
    double *xy;
    if (!eat(t, '['))
        return 1;
    do {
        if (t->max_points > 0 && t->npos >= t->max_points)
            return 1;
        if (t->npos == t->cap) {
            if (!(xy = grow(t->xy, t->xy0, &t->cap, 2 * sizeof *xy)))
                return 1;
            t->xy = xy;
        }
        if (scan_pos(t, pos, &dim))
            return 1;
        t->xy[2 * t->npos] = pos[0];
        t->xy[2 * t->npos + 1] = pos[1];
        t->npos++;
        if (n++ == 0)
            memcpy(first, pos, sizeof first), fdim = dim;
    } while (eat(t, ','));
    if (!eat(t, ']'))
        return 1;
    if (n < (kind == SEQ_RING ? 4u : kind == SEQ_LINE ? 2u : 1u))
        return 1;
    if (kind == SEQ_RING && !geojson_same_pos(first, fdim, pos, dim))
        return 1;
    return push_len(&t->seq, t->seq0, &t->nseq, &t->seqcap, n);
}

/* A non-empty array of arrays of positions; its length goes to t->grp. */
static int scan_seqs(struct scan *t, int kind)
{
    size_t n = 0;
    if (!eat(t, '['))
        return 1;
    do {
        if (scan_seq(t, kind))
            return 1;
        n++;
    } while (eat(t, ','));
    if (!eat(t, ']'))
        return 1;
    return push_len(&t->grp, t->grp0, &t->ngrp, &t->grpcap, n);
}

/* The coordinates of a type, nested as its levels say; fixed depth, so no
 * recursion to bound. */
static int scan_coords(struct scan *t, int type)
{
    int dim;
    skip_ws(t);
    switch (type) {
    case GEOS_POINT:
        if (scan_pos(t, t->xy0, &dim))
            return 1;
        t->npos = 1;
        return 0;
    case GEOS_MULTIPOINT:
        return scan_seq(t, SEQ_POINTS);
    case GEOS_LINESTRING:
        return scan_seq(t, SEQ_LINE);
    case GEOS_MULTILINESTRING:
        return scan_seqs(t, SEQ_LINE);
    case GEOS_POLYGON:
        return scan_seqs(t, SEQ_RING);
    default:
        if (!eat(t, '['))
            return 1;
        do
            if (scan_seqs(t, SEQ_RING))
                return 1;
        while (eat(t, ','));
        return !eat(t, ']');
    }
}

/* Passes over coordinates that come before "type": brackets balanced, at
 * most 4 deep, nothing but what numbers, commas and whitespace are made of.
 * They are read properly once the type is known. */
static int skip_coords(struct scan *t)
{
    int depth = 0;
    skip_ws(t);
    if (t->s == t->end || *t->s != '[')
        return 1;
    for (; t->s < t->end; t->s++) {
        char ch = *t->s;
        if (ch == '[' && ++depth > 4)
            return 1;
        if (ch == ']' && --depth == 0) {
            t->s++;
            return 0;
        }
        if (ch != '[' && ch != ']' && ch != ',' && ch != '.' && ch != '-' && ch != '+' &&
            ch != 'e' && ch != 'E' && !is_digit(ch) && ch != ' ' && ch != '\n' && ch != '\r' &&
            ch != '\t')
            return 1;
    }
    return 1;
}

/* The geometry types with coordinates, by the name as it stands in the
 * text. */
static const struct gtype *scan_type(struct scan *t)
{
    const char *s;
    size_t n, i;
    if (scan_plain_string(t, &s, &n))
        return NULL;
    for (i = 0; i < geojson_ntypes; i++)
        if (geojson_types[i].levels >= 0 && strlen(geojson_types[i].name) == n &&
            memcmp(geojson_types[i].name, s, n) == 0)
            return &geojson_types[i];
    return NULL;
}

/* Building, from the scan's arrays: the same GEOS calls as make_seq and the
 * make_* functions above, so the same geometry. */
static GEOSGeometry *build_seq(GEOSContextHandle_t h, const double *xy, unsigned n, int ring)
{
    GEOSCoordSequence *s = GEOSCoordSeq_copyFromBuffer_r(h, xy, n, 0, 0);
    if (!s)
        return NULL;
    return ring ? GEOSGeom_createLinearRing_r(h, s) : GEOSGeom_createLineString_r(h, s);
}

/* The polygon of nrings rings starting at position *pos, array *seq;
 * advances both. */
static GEOSGeometry *build_polygon(GEOSContextHandle_t h, const struct scan *t, size_t *pos,
                                   size_t *seq, unsigned nrings)
{
    GEOSGeometry *local[SCAN_PARTS], **rings = local, *g = NULL;
    unsigned i, built = 0;
    if (nrings > SCAN_PARTS && !(rings = malloc(nrings * sizeof *rings)))
        return NULL;
    for (i = 0; i < nrings; i++) {
        unsigned n = t->seq[*seq];
        if (!(rings[i] = build_seq(h, t->xy + 2 * *pos, n, 1)))
            goto out;
        built++;
        *pos += n;
        ++*seq;
    }
    /* takes the rings, also when it fails */
    g = GEOSGeom_createPolygon_r(h, rings[0], rings + 1, nrings - 1);
    built = 0;
out:
    for (i = 0; i < built; i++)
        GEOSGeom_destroy_r(h, rings[i]);
    if (rings != local)
        free(rings);
    return g;
}

static GEOSGeometry *build_multi(GEOSContextHandle_t h, const struct scan *t, int type, size_t n)
{
    GEOSGeometry *local[SCAN_PARTS], **parts = local, *g = NULL;
    size_t i, built = 0, pos = 0, seq = 0;
    if (n > SCAN_PARTS && !(parts = malloc(n * sizeof *parts)))
        return NULL;
    for (i = 0; i < n; i++) {
        if (type == GEOS_MULTIPOINT) {
            parts[i] = GEOSGeom_createPointFromXY_r(h, t->xy[2 * i], t->xy[2 * i + 1]);
        } else if (type == GEOS_MULTILINESTRING) {
            parts[i] = build_seq(h, t->xy + 2 * pos, t->seq[i], 0);
            pos += t->seq[i];
        } else {
            parts[i] = build_polygon(h, t, &pos, &seq, t->grp[i]);
        }
        if (!parts[i])
            goto out;
        built++;
    }
    g = GEOSGeom_createCollection_r(h, type, parts, (unsigned int)n);
    built = 0;
out:
    for (i = 0; i < built; i++)
        GEOSGeom_destroy_r(h, parts[i]);
    if (parts != local)
        free(parts);
    return g;
}

static GEOSGeometry *build(GEOSContextHandle_t h, const struct scan *t, int type)
{
    size_t pos = 0, seq = 0;
    switch (type) {
    case GEOS_POINT:
        return GEOSGeom_createPointFromXY_r(h, t->xy0[0], t->xy0[1]);
    case GEOS_LINESTRING:
        return build_seq(h, t->xy, (unsigned)t->npos, 0);
    case GEOS_POLYGON:
        return build_polygon(h, t, &pos, &seq, t->grp[0]);
    case GEOS_MULTIPOINT:
        return build_multi(h, t, type, t->npos);
    case GEOS_MULTILINESTRING:
        return build_multi(h, t, type, t->nseq);
    default:
        return build_multi(h, t, type, t->ngrp);
    }
}

int geojson_geom_parse_text(ctx *c, const char *text, size_t len, size_t max_points,
                            GEOSGeometry **out)
{
    struct scan t;
    const struct gtype *type = NULL;
    const char *coords = NULL, *coords_end = NULL, *key;
    size_t klen;
    int deferred = 0;

    *out = NULL;
    if (!text)
        return 1;
    /* not memset: the stack arrays need no clearing */
    t.s = text;
    t.end = text + len;
    t.max_points = max_points;
    t.xy = t.xy0;
    t.npos = 0;
    t.cap = SCAN_POS;
    t.seq = t.seq0;
    t.nseq = 0;
    t.seqcap = SCAN_LEN;
    t.grp = t.grp0;
    t.ngrp = 0;
    t.grpcap = SCAN_LEN;

    if (!eat(&t, '{'))
        goto out;
    do {
        if (scan_plain_string(&t, &key, &klen) || !eat(&t, ':'))
            goto out;
        if (klen == 4 && memcmp(key, "type", 4) == 0 && !type) {
            if (!(type = scan_type(&t)))
                goto out;
        } else if (klen == 11 && memcmp(key, "coordinates", 11) == 0 && !coords) {
            skip_ws(&t);
            coords = t.s;
            deferred = !type;
            if (type ? scan_coords(&t, type->geos) : skip_coords(&t))
                goto out;
            coords_end = t.s;
        } else {
            goto out; /* bbox, crs, geometries, a repeated member, ... */
        }
    } while (eat(&t, ','));
    if (!eat(&t, '}'))
        goto out;
    skip_ws(&t);
    if (t.s != t.end || !type || !coords)
        goto out;
    if (deferred) {
        t.s = coords;
        t.end = coords_end;
        if (scan_coords(&t, type->geos) || t.s != coords_end)
            goto out;
    }
    *out = build(c->geos, &t, type->geos);
out:
    if (t.xy != t.xy0)
        free(t.xy);
    if (t.seq != t.seq0)
        free(t.seq);
    if (t.grp != t.grp0)
        free(t.grp);
    return *out ? 0 : 1;
}
