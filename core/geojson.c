/* geojson: RFC 7946 geometry objects to and from GEOS. This file owns the
 * reading of one geometry object (type, coordinates, geometries, bbox) from a
 * jansson value, with messages that name the JSON path of the fault; a fast
 * path that reads plain well-formed geometries from their text without
 * jansson (refusing, for the slow path, whatever it cannot prove the same);
 * and the writing of any GEOS geometry as compact GeoJSON text. It does not
 * own Features or FeatureCollections (ids, properties, a null geometry), CRS
 * or axis order (geom_transform), nor OGC validity (geom_check_valid).
 *
 * Decisions on what RFC 7946 leaves open:
 * - An empty "coordinates" (or "geometries") array reads as an empty geometry
 *   of the named type, and empty geometries are written that way. Inside a
 *   geometry nothing may be empty: no empty rings, member lines, polygons or
 *   positions. The writer leaves out empty members of Multi* geometries so
 *   that everything it writes reads back.
 * - A position has 2 or 3 numbers; a third (z) is checked, then dropped. Four
 *   or more are refused (3.1.1: positions SHOULD NOT be extended).
 * - A ring is closed when first and last position hold identical values, so
 *   [x,y] and [x,y,z] differ (3.1.6).
 * - An ordinate beyond +-1e9 is refused: no CRS onemap accepts comes near.
 * - Winding order is accepted as given (3.1.6: parsers must not reject it);
 *   the writer turns exterior rings counter-clockwise and holes clockwise.
 * - A geometry object may not carry "geometry", "properties" or "features"
 *   (7.1); "bbox", when present, must be 4 or 6 numbers (it is not compared
 *   with the coordinates).
 * - GeometryCollections nest at most GC_MAX_DEPTH deep. */
#include "geojson.h"
#include "geojson_int.h"
#include "wkb.h"

#include <assert.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define GC_MAX_DEPTH 16
#define PATH_MAX_SEGS 64
#define COORD_MAX GEOJSON_COORD_MAX

/* ---- geometry types ---------------------------------------------------- */

const struct gtype geojson_types[] = {
    {"Point", GEOS_POINT, 0},
    {"MultiPoint", GEOS_MULTIPOINT, 1},
    {"LineString", GEOS_LINESTRING, 1},
    {"MultiLineString", GEOS_MULTILINESTRING, 2},
    {"Polygon", GEOS_POLYGON, 2},
    {"MultiPolygon", GEOS_MULTIPOLYGON, 3},
    {"GeometryCollection", GEOS_GEOMETRYCOLLECTION, -1},
};
const size_t geojson_ntypes = sizeof geojson_types / sizeof geojson_types[0];


static const struct gtype *type_by_name(const char *s)
{
    size_t i;
    for (i = 0; i < geojson_ntypes; i++)
        if (strcmp(geojson_types[i].name, s) == 0)
            return &geojson_types[i];
    return NULL;
}

/* ---- the parser and its path ------------------------------------------ */

/* One step of the JSON path: a member name, or an array index. */
struct seg {
    const char *key;
    size_t idx;
};

struct parser {
    ctx *c;
    GEOSContextHandle_t h;
    struct err *e;
    int rc;
    int gc_depth;
    double *xy; /* scratch for one coordinate sequence, x y interleaved */
    size_t cap; /* positions xy can hold */
    int depth;
    struct seg path[PATH_MAX_SEGS];
};

static void push_key(struct parser *p, const char *key)
{
    assert(p->depth < PATH_MAX_SEGS);
    p->path[p->depth].key = key;
    p->path[p->depth++].idx = 0;
}

static void push_idx(struct parser *p, size_t i)
{
    assert(p->depth < PATH_MAX_SEGS);
    p->path[p->depth].key = NULL;
    p->path[p->depth++].idx = i;
}

static void set_idx(struct parser *p, size_t i)
{
    p->path[p->depth - 1].idx = i;
}

static void pop(struct parser *p)
{
    assert(p->depth > 0);
    p->depth--;
}

static void format_path(const struct parser *p, char *dst, size_t size)
{
    size_t n = 0;
    int i, k;
    dst[0] = '\0';
    for (i = 0; i < p->depth && n < size; i++) {
        const struct seg *s = &p->path[i];
        if (s->key)
            k = snprintf(dst + n, size - n, n ? ".%s" : "%s", s->key);
        else
            k = snprintf(dst + n, size - n, "[%zu]", s->idx);
        if (k < 0)
            break;
        n += (size_t)k;
    }
}

/* Fills the error as "<path>: <message>"; returns code. */
static int fail(struct parser *p, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, int code, const char *fmt, ...)
{
    char path[ERR_MSG_MAX], msg[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    format_path(p, path, sizeof path);
    if (path[0])
        err_set(p->e, code, "%s: %s", path, msg);
    else
        err_set(p->e, code, "%s", msg);
    p->rc = code;
    return code;
}

static int fail_geos(struct parser *p)
{
    return fail(p, ERR_INTERNAL, "geometry could not be built: %s",
                p->c->geos_msg[0] ? p->c->geos_msg : "out of memory");
}

static const char *kind(const json_t *v)
{
    if (!v)
        return "nothing";
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    default:
        return "null";
    }
}

/* ---- counting (before anything is built) ------------------------------ */

/* Positions in a coordinates array nested `levels` deep. Counts without
 * validating: the build pass reports malformed structure. */
static size_t count_positions(const json_t *a, int levels)
{
    size_t i, n = 0;
    if (!json_is_array(a))
        return 0;
    if (levels == 0)
        return 1;
    if (levels == 1)
        return json_array_size(a);
    for (i = 0; i < json_array_size(a); i++)
        n += count_positions(json_array_get(a, i), levels - 1);
    return n;
}

static size_t count_geom(const json_t *j, int depth)
{
    const json_t *a;
    const struct gtype *t;
    size_t i, n = 0;
    if (!json_is_object(j) || !json_is_string(json_object_get(j, "type")))
        return 0;
    t = type_by_name(json_string_value(json_object_get(j, "type")));
    if (!t)
        return 0;
    if (t->levels >= 0)
        return count_positions(json_object_get(j, "coordinates"), t->levels);
    a = json_object_get(j, "geometries");
    if (depth >= GC_MAX_DEPTH || !json_is_array(a))
        return 0;
    for (i = 0; i < json_array_size(a); i++)
        n += count_geom(json_array_get(a, i), depth + 1);
    return n;
}

/* ---- numbers and positions -------------------------------------------- */

/* The value at the top of the path must be a finite number of sane size. */
static int read_num(struct parser *p, const json_t *v, double *out)
{
    double d;
    if (!json_is_number(v))
        return fail(p, ERR_INVALID, "expected a number, got %s", kind(v));
    d = json_number_value(v);
    if (!isfinite(d))
        return fail(p, ERR_INVALID, "not a finite number");
    if (fabs(d) > COORD_MAX)
        return fail(p, ERR_INVALID, "number out of range (magnitude above 1e9)");
    *out = d;
    return 0;
}

/* Reads a position into pos[0..2]; *dim receives 2 or 3. */
static int read_pos(struct parser *p, const json_t *v, double pos[3], int *dim)
{
    size_t n, i;
    if (!json_is_array(v))
        return fail(p, ERR_INVALID, "expected an array of 2 or 3 numbers, got %s", kind(v));
    n = json_array_size(v);
    if (n == 0)
        return fail(p, ERR_INVALID, "expected an array of 2 or 3 numbers, got an empty array");
    if (n < 2 || n > 3)
        return fail(p, ERR_INVALID, "expected an array of 2 or 3 numbers, got %zu element%s", n,
                    n == 1 ? "" : "s");
    push_idx(p, 0);
    for (i = 0; i < n; i++) {
        set_idx(p, i);
        if (read_num(p, json_array_get(v, i), &pos[i]))
            return p->rc;
    }
    pop(p);
    *dim = (int)n;
    return 0;
}

static void pos_str(char *dst, size_t size, const double pos[3], int dim)
{
    if (dim == 3)
        snprintf(dst, size, "%.15g %.15g %.15g", pos[0], pos[1], pos[2]);
    else
        snprintf(dst, size, "%.15g %.15g", pos[0], pos[1]);
}

int geojson_same_pos(const double a[3], int adim, const double b[3], int bdim)
{
    return adim == bdim && a[0] == b[0] && a[1] == b[1] && (adim == 2 || a[2] == b[2]);
}

static int reserve(struct parser *p, size_t n)
{
    double *xy;
    if (n <= p->cap)
        return 0;
    if (n > UINT_MAX)
        return fail(p, ERR_TOO_LARGE, "too many positions in one sequence");
    xy = realloc(p->xy, n * 2 * sizeof *xy);
    if (!xy)
        return fail(p, ERR_INTERNAL, "out of memory");
    p->xy = xy;
    p->cap = n;
    return 0;
}

static int check_closed(struct parser *p, const double first[3], int fdim, const double last[3],
                        int ldim)
{
    char f[80], l[80];
    if (geojson_same_pos(first, fdim, last, ldim))
        return 0;
    pos_str(f, sizeof f, first, fdim);
    pos_str(l, sizeof l, last, ldim);
    return fail(p, ERR_INVALID, "ring is not closed (first %s, last %s)", f, l);
}

/* Reads an array of positions (the top of the path) into p->xy; a ring must
 * have 4 positions and be closed, a line 2. Returns the count or 0. */
static size_t read_seq(struct parser *p, const json_t *a, int ring)
{
    double pos[3], first[3] = {0, 0, 0};
    int dim = 2, fdim = 2;
    size_t n, i, min = ring ? 4 : 2;
    if (!json_is_array(a))
        return fail(p, ERR_INVALID, "expected an array of positions, got %s", kind(a)), 0;
    n = json_array_size(a);
    if (reserve(p, n))
        return 0;
    push_idx(p, 0);
    for (i = 0; i < n; i++) {
        set_idx(p, i);
        if (read_pos(p, json_array_get(a, i), pos, &dim))
            return 0;
        p->xy[2 * i] = pos[0];
        p->xy[2 * i + 1] = pos[1];
        if (i == 0)
            memcpy(first, pos, sizeof first), fdim = dim;
    }
    pop(p);
    if (n < min && ring)
        return fail(p, ERR_INVALID, "a linear ring needs at least 4 positions, got %zu", n), 0;
    if (n < min)
        return fail(p, ERR_INVALID, "a LineString needs at least 2 positions, got %zu", n), 0;
    if (ring && check_closed(p, first, fdim, pos, dim))
        return 0;
    return n;
}

/* ---- building ---------------------------------------------------------- */

typedef GEOSGeometry *(*build_fn)(struct parser *p, const json_t *j);

static GEOSCoordSequence *make_seq(struct parser *p, const json_t *a, int ring)
{
    GEOSCoordSequence *s;
    size_t n = read_seq(p, a, ring);
    if (!n)
        return NULL;
    s = GEOSCoordSeq_copyFromBuffer_r(p->h, p->xy, (unsigned int)n, 0, 0);
    if (!s)
        fail_geos(p);
    return s;
}

static GEOSGeometry *make_point(struct parser *p, const json_t *v)
{
    GEOSGeometry *g;
    double pos[3];
    int dim;
    if (read_pos(p, v, pos, &dim))
        return NULL;
    g = GEOSGeom_createPointFromXY_r(p->h, pos[0], pos[1]);
    if (!g)
        fail_geos(p);
    return g;
}

/* The create functions below take ownership of their inputs, also when
 * they fail, so nothing is destroyed after them. */
static GEOSGeometry *make_line(struct parser *p, const json_t *a)
{
    GEOSGeometry *g;
    GEOSCoordSequence *s = make_seq(p, a, 0);
    if (!s)
        return NULL;
    g = GEOSGeom_createLineString_r(p->h, s);
    if (!g)
        fail_geos(p);
    return g;
}

static GEOSGeometry *make_ring(struct parser *p, const json_t *a)
{
    GEOSGeometry *g;
    GEOSCoordSequence *s = make_seq(p, a, 1);
    if (!s)
        return NULL;
    g = GEOSGeom_createLinearRing_r(p->h, s);
    if (!g)
        fail_geos(p);
    return g;
}

static GEOSGeometry *make_polygon(struct parser *p, const json_t *a)
{
    GEOSGeometry *shell = NULL, **holes = NULL, *g = NULL;
    size_t n, i, nholes = 0;
    if (!json_is_array(a))
        return fail(p, ERR_INVALID, "expected an array of linear rings, got %s", kind(a)), NULL;
    n = json_array_size(a);
    if (n == 0)
        return fail(p, ERR_INVALID, "a polygon needs an exterior ring, got an empty array"), NULL;
    if (n > 1 && !(holes = calloc(n - 1, sizeof *holes)))
        return fail(p, ERR_INTERNAL, "out of memory"), NULL;
    push_idx(p, 0);
    for (i = 0; i < n; i++) {
        GEOSGeometry *r;
        set_idx(p, i);
        if (!(r = make_ring(p, json_array_get(a, i))))
            goto out;
        if (i == 0)
            shell = r;
        else
            holes[nholes++] = r;
    }
    pop(p);
    g = GEOSGeom_createPolygon_r(p->h, shell, holes, (unsigned int)nholes);
    shell = NULL;
    nholes = 0;
    if (!g)
        fail_geos(p);
out:
    if (shell)
        GEOSGeom_destroy_r(p->h, shell);
    for (i = 0; i < nholes; i++)
        GEOSGeom_destroy_r(p->h, holes[i]);
    free(holes);
    return g;
}

/* A Multi* or GeometryCollection from a non-empty array, each member built
 * by fn with its index on the path. */
static GEOSGeometry *make_multi(struct parser *p, const json_t *a, int type, build_fn fn)
{
    GEOSGeometry **parts, *g = NULL;
    size_t n = json_array_size(a), i, built = 0;
    if (n > UINT_MAX)
        return fail(p, ERR_TOO_LARGE, "too many members"), NULL;
    if (!(parts = calloc(n, sizeof *parts)))
        return fail(p, ERR_INTERNAL, "out of memory"), NULL;
    push_idx(p, 0);
    for (i = 0; i < n; i++) {
        set_idx(p, i);
        if (!(parts[i] = fn(p, json_array_get(a, i))))
            goto out;
        built++;
    }
    pop(p);
    g = GEOSGeom_createCollection_r(p->h, type, parts, (unsigned int)n);
    built = 0;
    if (!g)
        fail_geos(p);
out:
    for (i = 0; i < built; i++)
        GEOSGeom_destroy_r(p->h, parts[i]);
    free(parts);
    return g;
}

static GEOSGeometry *make_empty(struct parser *p, int type)
{
    GEOSGeometry *g;
    switch (type) {
    case GEOS_POINT:
        g = GEOSGeom_createEmptyPoint_r(p->h);
        break;
    case GEOS_LINESTRING:
        g = GEOSGeom_createEmptyLineString_r(p->h);
        break;
    case GEOS_POLYGON:
        g = GEOSGeom_createEmptyPolygon_r(p->h);
        break;
    default:
        g = GEOSGeom_createEmptyCollection_r(p->h, type);
    }
    if (!g)
        fail_geos(p);
    return g;
}

static GEOSGeometry *make_multipoint(struct parser *p, const json_t *a)
{
    return make_multi(p, a, GEOS_MULTIPOINT, make_point);
}

static GEOSGeometry *make_multiline(struct parser *p, const json_t *a)
{
    return make_multi(p, a, GEOS_MULTILINESTRING, make_line);
}

static GEOSGeometry *make_multipolygon(struct parser *p, const json_t *a)
{
    return make_multi(p, a, GEOS_MULTIPOLYGON, make_polygon);
}

/* ---- geometry objects -------------------------------------------------- */

static int read_type(struct parser *p, const json_t *j, const struct gtype **out)
{
    const json_t *v = json_object_get(j, "type");
    const char *s;
    size_t i;
    push_key(p, "type");
    if (!v)
        return fail(p, ERR_INVALID, "missing");
    if (!json_is_string(v))
        return fail(p, ERR_INVALID, "expected a string, got %s", kind(v));
    s = json_string_value(v);
    if ((*out = type_by_name(s))) {
        pop(p);
        return 0;
    }
    for (i = 0; i < geojson_ntypes; i++)
        if (strcasecmp(geojson_types[i].name, s) == 0)
            return fail(p, ERR_INVALID,
                        "unknown geometry type '%s' (names are case-sensitive: '%s')", s,
                        geojson_types[i].name);
    if (strcmp(s, "Feature") == 0 || strcmp(s, "FeatureCollection") == 0)
        return fail(p, ERR_INVALID, "expected a geometry type, got '%s'", s);
    return fail(p, ERR_INVALID, "unknown geometry type '%.64s'", s);
}

/* RFC 7946 7.1 reserves these members to Features and FeatureCollections;
 * a bbox must be 4 or 6 numbers. */
static int check_members(struct parser *p, const json_t *j)
{
    static const char *const reserved[] = {"geometry", "properties", "features"};
    const json_t *bbox = json_object_get(j, "bbox");
    size_t i, n;
    double d;
    for (i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        if (!json_object_get(j, reserved[i]))
            continue;
        push_key(p, reserved[i]);
        return fail(p, ERR_INVALID, "not allowed in a geometry object (RFC 7946 section 7.1)");
    }
    if (!bbox)
        return 0;
    push_key(p, "bbox");
    n = json_array_size(bbox);
    if (!json_is_array(bbox) || (n != 4 && n != 6))
        return fail(p, ERR_INVALID, "expected an array of 4 or 6 numbers");
    push_idx(p, 0);
    for (i = 0; i < n; i++) {
        set_idx(p, i);
        if (read_num(p, json_array_get(bbox, i), &d))
            return p->rc;
    }
    pop(p);
    pop(p);
    return 0;
}

static GEOSGeometry *parse_object(struct parser *p, const json_t *j);

static GEOSGeometry *parse_collection(struct parser *p, const json_t *j)
{
    const json_t *a = json_object_get(j, "geometries");
    GEOSGeometry *g = NULL;
    if (p->gc_depth >= GC_MAX_DEPTH)
        return fail(p, ERR_INVALID, "GeometryCollection nested more than %d deep", GC_MAX_DEPTH),
               NULL;
    push_key(p, "geometries");
    if (!a)
        fail(p, ERR_INVALID, "missing");
    else if (!json_is_array(a))
        fail(p, ERR_INVALID, "expected an array, got %s", kind(a));
    else if (json_array_size(a) == 0)
        g = make_empty(p, GEOS_GEOMETRYCOLLECTION);
    else {
        p->gc_depth++;
        g = make_multi(p, a, GEOS_GEOMETRYCOLLECTION, parse_object);
        p->gc_depth--;
    }
    if (g)
        pop(p);
    return g;
}

static GEOSGeometry *parse_coordinates(struct parser *p, const json_t *a, int type)
{
    switch (type) {
    case GEOS_POINT:
        return make_point(p, a);
    case GEOS_MULTIPOINT:
        return make_multipoint(p, a);
    case GEOS_LINESTRING:
        return make_line(p, a);
    case GEOS_MULTILINESTRING:
        return make_multiline(p, a);
    case GEOS_POLYGON:
        return make_polygon(p, a);
    default:
        return make_multipolygon(p, a);
    }
}

static GEOSGeometry *parse_object(struct parser *p, const json_t *j)
{
    const struct gtype *t;
    const json_t *a;
    GEOSGeometry *g = NULL;
    if (!json_is_object(j))
        return fail(p, ERR_INVALID, "expected a geometry object, got %s", kind(j)), NULL;
    if (read_type(p, j, &t) || check_members(p, j))
        return NULL;
    if (t->geos == GEOS_GEOMETRYCOLLECTION)
        return parse_collection(p, j);
    a = json_object_get(j, "coordinates");
    push_key(p, "coordinates");
    if (!a)
        fail(p, ERR_INVALID, "missing");
    else if (!json_is_array(a))
        fail(p, ERR_INVALID, "expected an array, got %s", kind(a));
    else if (json_array_size(a) == 0)
        g = make_empty(p, t->geos);
    else
        g = parse_coordinates(p, a, t->geos);
    if (g)
        pop(p);
    return g;
}

int geojson_geom_parse(ctx *c, const json_t *j, size_t max_points, GEOSGeometry **out,
                       struct err *e)
{
    struct parser p;
    *out = NULL;
    if (max_points > 0 && count_geom(j, 0) > max_points)
        return err_set(e, ERR_TOO_LARGE,
                       "geometry has more than %zu positions (limit max_vertices)", max_points);
    memset(&p, 0, sizeof p);
    p.c = c;
    p.h = c->geos;
    p.e = e;
    *out = parse_object(&p, j);
    free(p.xy);
    assert(*out || p.rc);
    return *out ? 0 : p.rc;
}

/* ---- writing ----------------------------------------------------------- */

/* Text goes into tmp and reaches the buf in large appends. */
struct writer {
    GEOSContextHandle_t h;
    struct buf *out;
    int prec;
    int mirrored; /* ordinates are (y, x): rings wind the other way round */
    double *xy; /* one coordinate sequence, copied out of GEOS at once */
    size_t cap;
    size_t len;
    char tmp[4096];
};

#define NUM_ROOM 64

static void flush(struct writer *w)
{
    buf_append(w->out, w->tmp, w->len);
    w->len = 0;
}

static void put(struct writer *w, const char *s, size_t n)
{
    assert(n < NUM_ROOM);
    if (w->len + NUM_ROOM > sizeof w->tmp)
        flush(w);
    memcpy(w->tmp + w->len, s, n);
    w->len += n;
}

#define PUT(w, lit) put((w), (lit), sizeof(lit) - 1)

static void putch(struct writer *w, char ch)
{
    if (w->len + NUM_ROOM > sizeof w->tmp)
        flush(w);
    w->tmp[w->len++] = ch;
}

static void put_num(struct writer *w, double v)
{
    size_t n;
    if (w->len + NUM_ROOM > sizeof w->tmp)
        flush(w);
    n = buf_fmt_num(w->tmp + w->len, v, w->prec);
    if (n) {
        w->len += n;
        return;
    }
    flush(w);
    buf_put_num(w->out, v, w->prec);
}

static void put_pos(struct writer *w, const double *xy)
{
    putch(w, '[');
    put_num(w, xy[0]);
    putch(w, ',');
    put_num(w, xy[1]);
    putch(w, ']');
}

/* Twice the signed area of a ring, positive when counter-clockwise; taken
 * relative to the first position to keep precision with large ordinates. */
static double ring_area2(const double *xy, size_t n)
{
    double a = 0, x0 = xy[0], y0 = xy[1];
    size_t i;
    for (i = 1; i + 1 < n; i++)
        a += (xy[2 * i] - x0) * (xy[2 * i + 3] - y0) - (xy[2 * i + 2] - x0) * (xy[2 * i + 1] - y0);
    return a;
}

/* Copies seq into w->xy; returns the number of positions (0 on failure). */
static size_t load_seq(struct writer *w, const GEOSCoordSequence *seq)
{
    unsigned int n = 0;
    double *xy;
    if (!seq || !GEOSCoordSeq_getSize_r(w->h, seq, &n) || n == 0)
        return 0;
    if (n > w->cap) {
        if (!(xy = realloc(w->xy, (size_t)n * 2 * sizeof *xy))) {
            w->out->oom = 1;
            return 0;
        }
        w->xy = xy;
        w->cap = n;
    }
    return GEOSCoordSeq_copyToBuffer_r(w->h, seq, w->xy, 0, 0) ? n : 0;
}

/* The n positions in w->xy; orient: 0 as stored, 1 counter-clockwise, -1
 * clockwise. */
static void put_xy(struct writer *w, size_t n, int orient)
{
    size_t i;
    double a = orient && n >= 4 ? ring_area2(w->xy, n) : 0;
    int reverse = (orient > 0 && a < 0) || (orient < 0 && a > 0);
    putch(w, '[');
    for (i = 0; i < n; i++) {
        if (i)
            putch(w, ',');
        put_pos(w, w->xy + 2 * (reverse ? n - 1 - i : i));
    }
    putch(w, ']');
}

static void put_seq(struct writer *w, const GEOSGeometry *g, int orient)
{
    put_xy(w, load_seq(w, GEOSGeom_getCoordSeq_r(w->h, g)), orient);
}

static void put_polygon(struct writer *w, const GEOSGeometry *g)
{
    int i, nholes = GEOSGetNumInteriorRings_r(w->h, g);
    int ccw = w->mirrored ? -1 : 1;
    putch(w, '[');
    put_seq(w, GEOSGetExteriorRing_r(w->h, g), ccw);
    for (i = 0; i < nholes; i++) {
        putch(w, ',');
        put_seq(w, GEOSGetInteriorRingN_r(w->h, g, i), -ccw);
    }
    putch(w, ']');
}

static void put_coords(struct writer *w, const GEOSGeometry *g, int type)
{
    int i, n, first = 1;
    if (GEOSisEmpty_r(w->h, g) == 1) {
        PUT(w, "[]");
        return;
    }
    switch (type) {
    case GEOS_POINT:
        if (load_seq(w, GEOSGeom_getCoordSeq_r(w->h, g)))
            put_pos(w, w->xy);
        return;
    case GEOS_LINESTRING:
    case GEOS_LINEARRING:
        put_seq(w, g, 0);
        return;
    case GEOS_POLYGON:
        put_polygon(w, g);
        return;
    }
    n = GEOSGetNumGeometries_r(w->h, g);
    putch(w, '[');
    for (i = 0; i < n; i++) {
        const GEOSGeometry *m = GEOSGetGeometryN_r(w->h, g, i);
        if (GEOSisEmpty_r(w->h, m) == 1)
            continue;
        if (!first)
            putch(w, ',');
        first = 0;
        put_coords(w, m, GEOSGeomTypeId_r(w->h, m));
    }
    putch(w, ']');
}

static const char *type_name(int type)
{
    size_t i;
    if (type == GEOS_LINEARRING)
        return "LineString";
    for (i = 0; i < geojson_ntypes; i++)
        if (geojson_types[i].geos == type)
            return geojson_types[i].name;
    return NULL;
}

static void put_geom(struct writer *w, const GEOSGeometry *g)
{
    int type = GEOSGeomTypeId_r(w->h, g), i, n;
    const char *name = type_name(type);
    if (!name) {
        PUT(w, "null");
        return;
    }
    PUT(w, "{\"type\":\"");
    put(w, name, strlen(name));
    if (type != GEOS_GEOMETRYCOLLECTION) {
        PUT(w, "\",\"coordinates\":");
        put_coords(w, g, type);
        putch(w, '}');
        return;
    }
    PUT(w, "\",\"geometries\":[");
    n = GEOSGetNumGeometries_r(w->h, g);
    for (i = 0; i < n; i++) {
        if (i)
            putch(w, ',');
        put_geom(w, GEOSGetGeometryN_r(w->h, g, i));
    }
    PUT(w, "]}");
}

/* ---- the same from WKB ---------------------------------------------------- */

/* WKB read as GEOS would read it and written as put_geom writes what GEOS
 * read: 2D geometries only, anything else left to GEOS. */
/* n positions into w->xy. */
static int wkb_load(struct writer *w, struct wkb_in *r, uint32_t n)
{
    if ((size_t)(r->end - r->p) / ((size_t)r->dims * 8) < n)
        return -1;
    if (n > w->cap) {
        double *xy = realloc(w->xy, (size_t)n * 2 * sizeof *xy);
        if (!xy)
            return -1;
        w->xy = xy;
        w->cap = n;
    }
    return wkb_xy(r, n, w->xy);
}

/* One geometry's coordinates (put_coords from WKB); *empty as GEOS's
 * isEmpty would say, for the collections that skip empty members. The
 * text goes to w, to be thrown away on failure. */
static int wkb_coords(struct writer *w, struct wkb_in *r, uint32_t type, int *empty);

static int wkb_member(struct writer *w, struct wkb_in *r, uint32_t want, int *first)
{
    uint32_t type;
    size_t at;
    int empty;
    if (wkb_header(r, &type) || type != want)
        return -1;
    flush(w);
    at = w->out->len;
    if (!*first)
        putch(w, ',');
    if (wkb_coords(w, r, type, &empty))
        return -1;
    if (empty) { /* skipped, as put_coords skips it */
        flush(w);
        if (!w->out->oom) {
            w->out->len = at;
            w->out->data[at] = '\0';
        }
        return 0;
    }
    *first = 0;
    return 0;
}

static int wkb_coords(struct writer *w, struct wkb_in *r, uint32_t type, int *empty)
{
    uint32_t n, k, part = type == 4 ? 1 : type == 5 ? 2 : 3;
    int first = 1;
    *empty = 0;
    switch (type) {
    case 1:
        if (wkb_load(w, r, 1))
            return -1;
        if (isnan(w->xy[0]) && isnan(w->xy[1])) { /* an empty point, as GEOS reads it */
            *empty = 1;
            PUT(w, "[]");
            return 0;
        }
        put_pos(w, w->xy);
        return 0;
    case 2:
        if (wkb_u32(r, &n) || wkb_load(w, r, n) || n == 1)
            return -1;
        *empty = n == 0;
        put_xy(w, n, 0);
        return 0;
    case 3: {
        int ccw = w->mirrored ? -1 : 1;
        if (wkb_u32(r, &n))
            return -1;
        putch(w, '[');
        for (k = 0; k < n; k++) {
            uint32_t m;
            if (wkb_u32(r, &m) || m < 4 || wkb_load(w, r, m))
                return -1; /* an empty or short ring: GEOS's answer */
            if (k)
                putch(w, ',');
            put_xy(w, m, k ? -ccw : ccw);
        }
        putch(w, ']');
        *empty = n == 0;
        return 0;
    }
    case 4:
    case 5:
    case 6:
        if (wkb_u32(r, &n))
            return -1;
        putch(w, '[');
        for (k = 0; k < n; k++)
            if (wkb_member(w, r, part, &first))
                return -1;
        putch(w, ']');
        *empty = first;
        return 0;
    }
    return -1;
}

static int wkb_geom(struct writer *w, struct wkb_in *r, int depth)
{
    static const char *const names[] = {
        "Point",           "LineString",   "Polygon",           "MultiPoint",
        "MultiLineString", "MultiPolygon", "GeometryCollection"};
    uint32_t type, n;
    int empty;
    if (depth > 8 || wkb_header(r, &type))
        return -1;
    PUT(w, "{\"type\":\"");
    put(w, names[type - 1], strlen(names[type - 1]));
    if (type != 7) {
        PUT(w, "\",\"coordinates\":");
        if (wkb_coords(w, r, type, &empty))
            return -1;
        putch(w, '}');
        return 0;
    }
    PUT(w, "\",\"geometries\":[");
    if (wkb_u32(r, &n))
        return -1;
    for (uint32_t k = 0; k < n; k++) {
        if (k)
            putch(w, ',');
        if (wkb_geom(w, r, depth + 1))
            return -1;
    }
    PUT(w, "]}");
    return 0;
}

int geojson_wkb_write(const unsigned char *wkb, size_t len, int prec, struct buf *out)
{
    struct writer w;
    struct wkb_in r = {wkb, wkb + len, 0, 2};
    size_t at = out->len;
    int rc;
    w.h = NULL;
    w.out = out;
    w.prec = prec;
    w.mirrored = 0;
    w.xy = NULL;
    w.cap = 0;
    w.len = 0;
    rc = wkb_geom(&w, &r, 0) || r.p != r.end ? -1 : 0;
    flush(&w);
    free(w.xy);
    if (rc && !out->oom && out->data) {
        out->len = at;
        out->data[at] = '\0';
    }
    return rc;
}

void geojson_geom_write(ctx *c, const GEOSGeometry *g, int prec, struct buf *out)
{
    geojson_geom_write_mirrored(c, g, prec, 0, out);
}

void geojson_geom_write_mirrored(ctx *c, const GEOSGeometry *g, int prec, int mirrored,
                                 struct buf *out)
{
    struct writer w;
    w.h = c->geos;
    w.out = out;
    w.prec = prec;
    w.mirrored = mirrored;
    w.xy = NULL;
    w.cap = 0;
    w.len = 0;
    put_geom(&w, g);
    flush(&w);
    free(w.xy);
}
