/* crs: the table of the eight CRSs onemap accepts, the parsing of their names
 * (OGC URIs, URNs, EPSG:n, .prj WKT) and the PROJ transforms between them.
 * A crs_ctx owns one PROJ context and the transforms made in it; it belongs to
 * one thread. Axis order: PROJ works in x = lon/easting, y = lat/northing
 * (normalised for visualisation) and this module applies the definition's
 * order itself. It does not know about geometries (see geom.c). */
#include "crs.h"

#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <proj.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

struct crs_def {
    int epsg;         /* 0 for CRS84 */
    const char *name; /* short name in messages, also PROJ's definition */
    const char *uri;  /* OGC URI */
    int geographic;   /* degrees, else metres */
    int swaps;        /* definition's first axis is latitude or northing */
    struct {
        double west, south, east, north;
    } use; /* area of use, degrees */
};

/* clang-format off */
static const struct crs_def defs[CRS_COUNT] = {
    [CRS_CRS84] = {0,    "OGC:CRS84", "http://www.opengis.net/def/crs/OGC/1.3/CRS84", 1, 0,
                   {-180, -90, 180, 90}},
    [CRS_4326]  = {4326, "EPSG:4326", "http://www.opengis.net/def/crs/EPSG/0/4326",   1, 1,
                   {-180, -90, 180, 90}},
    [CRS_4490]  = {4490, "EPSG:4490", "http://www.opengis.net/def/crs/EPSG/0/4490",   1, 1,
                   {-180, -90, 180, 90}},
    [CRS_3857]  = {3857, "EPSG:3857", "http://www.opengis.net/def/crs/EPSG/0/3857",   0, 0,
                   {-180, -85.06, 180, 85.06}},
    /* 3-degree Gauss-Kruger zones: the central meridian +-1.5 degrees over
     * China's latitudes */
    [CRS_4548]  = {4548, "EPSG:4548", "http://www.opengis.net/def/crs/EPSG/0/4548",   0, 1,
                   {115.5, 18, 118.5, 54}},
    [CRS_4549]  = {4549, "EPSG:4549", "http://www.opengis.net/def/crs/EPSG/0/4549",   0, 1,
                   {118.5, 18, 121.5, 54}},
    [CRS_4527]  = {4527, "EPSG:4527", "http://www.opengis.net/def/crs/EPSG/0/4527",   0, 1,
                   {115.5, 18, 118.5, 54}},
    [CRS_4528]  = {4528, "EPSG:4528", "http://www.opengis.net/def/crs/EPSG/0/4528",   0, 1,
                   {118.5, 18, 121.5, 54}},
};
/* clang-format on */

/* Root names of .prj files as ArcGIS (ESRI WKT) and GDAL (OGC WKT) write
 * them, lower-cased with every run of other characters turned into '_'.
 * Used only when PROJ cannot identify the definition itself. */
static const struct {
    const char *name;
    int crs;
} prj_names[] = {
    {"cgcs2000_3_degree_gk_cm_117e", CRS_4548},
    {"cgcs2000_3_degree_gauss_kruger_cm_117e", CRS_4548},
    {"cgcs2000_3_degree_gk_cm_120e", CRS_4549},
    {"cgcs2000_3_degree_gauss_kruger_cm_120e", CRS_4549},
    {"cgcs2000_3_degree_gk_zone_39", CRS_4527},
    {"cgcs2000_3_degree_gauss_kruger_zone_39", CRS_4527},
    {"cgcs2000_3_degree_gk_zone_40", CRS_4528},
    {"cgcs2000_3_degree_gauss_kruger_zone_40", CRS_4528},
    {"gcs_china_geodetic_coordinate_system_2000", CRS_4490},
    {"china_geodetic_coordinate_system_2000", CRS_4490},
    {"cgcs2000", CRS_4490},
    {"gcs_wgs_1984", CRS_4326},
    {"wgs_1984", CRS_4326},
    {"wgs_84", CRS_4326},
    {"wgs_1984_web_mercator_auxiliary_sphere", CRS_3857},
    {"wgs_1984_web_mercator", CRS_3857},
    {"wgs_84_pseudo_mercator", CRS_3857},
};

/* PROJ's identification is trusted from this confidence on (70: the
 * definition matches, the name differs). */
#define IDENTIFY_MIN_CONFIDENCE 70
/* Points transformed per PROJ call; the inputs are kept to name a failure. */
#define CHUNK 256
#define QUOTE_MAX 96

struct crs_ctx {
    PJ_CONTEXT *pj;
    PJ *ops[CRS_COUNT][CRS_COUNT]; /* normalised transforms, made on first use */
    char msg[256];                 /* PROJ's last log message in this context */
};

/* ---- the table ---------------------------------------------------------- */

static inline int valid_id(int crs)
{
    return crs >= 0 && crs < CRS_COUNT;
}

const char *crs_uri(int crs)
{
    assert(valid_id(crs));
    return defs[crs].uri;
}

int crs_epsg(int crs)
{
    assert(valid_id(crs));
    return defs[crs].epsg;
}

int crs_is_geographic(int crs)
{
    assert(valid_id(crs));
    return defs[crs].geographic;
}

int crs_authority_swaps(int crs)
{
    assert(valid_id(crs));
    return defs[crs].swaps;
}

int crs_precision(int crs)
{
    assert(valid_id(crs));
    return defs[crs].geographic ? 9 : 4;
}

void crs_area_of_use(int crs, double *west, double *south, double *east, double *north)
{
    assert(valid_id(crs));
    *west = defs[crs].use.west;
    *south = defs[crs].use.south;
    *east = defs[crs].use.east;
    *north = defs[crs].use.north;
}

static const char *short_name(int crs)
{
    return crs == CRS_CRS84 ? "CRS84" : defs[crs].name;
}

/* ---- names ------------------------------------------------------------- */

/* Advances *p past prefix when s starts with it (ASCII case-insensitive). */
static int eat(const char **p, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncasecmp(*p, prefix, n) != 0)
        return 0;
    *p += n;
    return 1;
}

static int by_epsg(const char *digits)
{
    long code = 0;
    size_t i;
    for (i = 0; digits[i]; i++) {
        if (!isdigit((unsigned char)digits[i]) || i >= 9)
            return -1;
        code = code * 10 + (digits[i] - '0');
    }
    if (i == 0)
        return -1;
    for (int crs = 0; crs < CRS_COUNT; crs++)
        if (defs[crs].epsg != 0 && defs[crs].epsg == code)
            return crs;
    return -1;
}

/* Skips a URN version ("", "1.3", "9.8.15") and the colon after it. */
static int eat_version(const char **p)
{
    while (isdigit((unsigned char)**p) || **p == '.')
        (*p)++;
    return eat(p, ":");
}

/* The CRS a name stands for, or -1. */
static int parse_name(const char *s)
{
    const char *p = s;
    if (eat(&p, "http://") || eat(&p, "https://")) {
        if (!eat(&p, "www.opengis.net/def/crs/"))
            return -1;
        if (eat(&p, "EPSG/0/"))
            return by_epsg(p);
        return eat(&p, "OGC/1.3/") && strcasecmp(p, "CRS84") == 0 ? CRS_CRS84 : -1;
    }
    if (eat(&p, "urn:ogc:def:crs:")) {
        if (eat(&p, "EPSG:"))
            return eat_version(&p) ? by_epsg(p) : -1;
        if (eat(&p, "OGC:"))
            return eat_version(&p) && strcasecmp(p, "CRS84") == 0 ? CRS_CRS84 : -1;
        return -1;
    }
    if (eat(&p, "EPSG:"))
        return by_epsg(p);
    eat(&p, "OGC:");
    return strcasecmp(p, "CRS84") == 0 ? CRS_CRS84 : -1;
}

/* Length of the well-formed UTF-8 sequence at s, 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
    size_t n;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4;
    else
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

/* Copies an outside value into a message: at most QUOTE_MAX bytes, whole
 * UTF-8 characters only, control characters and broken bytes as '?'. */
static void quote_value(char *out, size_t cap, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, o = 0;
    assert(cap > QUOTE_MAX + 4);
    while (i < len && u[i]) {
        size_t n = utf8_len(u + i);
        if (o + (n ? n : 1) > QUOTE_MAX) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (n == 0 || (n == 1 && (u[i] < 0x20 || u[i] == 0x7f))) {
            out[o++] = '?';
            i++;
            continue;
        }
        memcpy(out + o, s + i, n);
        o += n;
        i += n;
    }
    out[o] = '\0';
}

static int unsupported(struct err *e, const char *value, size_t len, const char *note)
{
    char q[QUOTE_MAX + 8], list[160] = "";
    size_t used = 0;
    quote_value(q, sizeof q, value, len);
    for (int crs = 0; crs < CRS_COUNT; crs++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", crs ? ", " : "",
                                 short_name(crs));
    return err_set(e, ERR_PARAM, "unsupported CRS '%s' (%s%ssupported: %s)", q, note,
                   note[0] ? "; " : "", list);
}

/* Trims ASCII white space: sets *start and returns the length. */
static size_t trim(const char *s, const char **start)
{
    size_t n;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    *start = s;
    return n;
}

int crs_parse(const char *s, int *crs, struct err *e)
{
    char name[128];
    const char *p;
    size_t n;
    int id;
    if (!s)
        return unsupported(e, "", 0, "");
    n = trim(s, &p);
    if (n >= 2 && p[0] == '<' && p[n - 1] == '>')
        p++, n -= 2;
    if (n == 0 || n >= sizeof name)
        return unsupported(e, p, n, "");
    memcpy(name, p, n);
    name[n] = '\0';
    id = parse_name(name);
    if (id < 0)
        return unsupported(e, p, n, "");
    *crs = id;
    return 0;
}

/* ---- WKT --------------------------------------------------------------- */

/* Identification failures are expected (that is what the fallbacks are
 * for): PROJ's complaints about them go nowhere, never to stderr. */
static void quiet_log(void *data, int level, const char *msg) {}

/* The name of the WKT's root object (PROJCS["name", ... ), unescaped into
 * out; "" when there is none. */
static void wkt_root_name(const char *wkt, char *out, size_t cap)
{
    const char *p = wkt;
    size_t o = 0;
    out[0] = '\0';
    while (isalnum((unsigned char)*p) || *p == '_')
        p++;
    if (p == wkt || (*p != '[' && *p != '('))
        return;
    p++;
    while (isspace((unsigned char)*p))
        p++;
    if (*p++ != '"')
        return;
    while (*p && o + 1 < cap) {
        if (*p == '"' && p[1] != '"')
            break;
        if (*p == '"')
            p++; /* "" stands for one quote */
        out[o++] = *p++;
    }
    out[o] = '\0';
}

static int by_prj_name(const char *name)
{
    char norm[128];
    size_t o = 0;
    int gap = 0;
    for (const char *p = name; *p && o + 2 < sizeof norm; p++) {
        if (isalnum((unsigned char)*p)) {
            if (gap && o > 0)
                norm[o++] = '_';
            norm[o++] = (char)tolower((unsigned char)*p);
            gap = 0;
        } else {
            gap = 1;
        }
    }
    norm[o] = '\0';
    for (size_t i = 0; i < sizeof prj_names / sizeof prj_names[0]; i++)
        if (strcmp(norm, prj_names[i].name) == 0)
            return prj_names[i].crs;
    return -1;
}

/* Our CRS for an EPSG code given as text, or -2 with *other set. */
static int by_code_text(const char *code, int *other)
{
    int found = by_epsg(code);
    if (found >= 0)
        return found;
    *other = atoi(code);
    return *other > 0 ? -2 : -1;
}

/* Asks PROJ which EPSG CRS the WKT defines: the root's own AUTHORITY/ID when
 * it has one (GDAL writes it; PROJ's comparison would count WKT1's missing
 * axes against it), else PROJ's identification. Returns ours (>= 0), -1 when
 * PROJ cannot tell, or -2 with *other set to the EPSG code of another CRS. */
static int identify_wkt(PJ_CONTEXT *pj, const char *wkt, int *other)
{
    PJ *obj = NULL, *base = NULL;
    PJ_OBJ_LIST *list = NULL;
    const char *auth, *code;
    int *conf = NULL, found = -1, n;
    obj = proj_create_from_wkt(pj, wkt, NULL, NULL, NULL);
    if (!obj)
        goto out;
    if (proj_get_type(obj) == PJ_TYPE_BOUND_CRS)
        base = proj_get_source_crs(pj, obj);
    else if (proj_get_type(obj) == PJ_TYPE_COMPOUND_CRS)
        base = proj_crs_get_sub_crs(pj, obj, 0);
    auth = proj_get_id_auth_name(base ? base : obj, 0);
    code = proj_get_id_code(base ? base : obj, 0);
    if (auth && code && strcasecmp(auth, "EPSG") == 0) {
        found = by_code_text(code, other);
        goto out;
    }
    list = proj_identify(pj, base ? base : obj, "EPSG", NULL, &conf);
    n = list ? proj_list_get_count(list) : 0;
    if (n == 0 || conf[0] < IDENTIFY_MIN_CONFIDENCE)
        goto out;
    /* equally good candidates (EPSG:4548 and 4509 are the same maths):
     * prefer ours */
    for (int i = 0; i < n && conf[i] == conf[0] && found < 0; i++) {
        PJ *cand = proj_list_get(pj, list, i);
        code = cand ? proj_get_id_code(cand, 0) : NULL;
        if (code && i == 0)
            found = by_code_text(code, other);
        else if (code && by_epsg(code) >= 0)
            found = by_epsg(code);
        proj_destroy(cand);
    }
out:
    proj_int_list_destroy(conf);
    proj_list_destroy(list);
    proj_destroy(base);
    proj_destroy(obj);
    return found;
}

int crs_from_wkt(const char *wkt, int *crs, struct err *e)
{
    PJ_CONTEXT *pj = NULL;
    char name[128], note[32] = "";
    char *text = NULL;
    const char *p;
    size_t n;
    int id = -1, other = 0, rc;
    if (!wkt)
        return unsupported(e, "", 0, "");
    n = trim(wkt, &p);
    if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) /* a BOM, as some editors write */
        p += 3, n -= 3;
    text = strndup(p, n);
    if (!text)
        return err_set(e, ERR_INTERNAL, "out of memory");
    id = parse_name(text);
    if (id < 0 && (pj = proj_context_create()) != NULL) {
        proj_log_func(pj, NULL, quiet_log);
        id = identify_wkt(pj, text, &other);
    }
    wkt_root_name(text, name, sizeof name);
    if (id == -1 && name[0])
        id = by_prj_name(name);
    if (id >= 0) {
        *crs = id;
        rc = 0;
        goto out;
    }
    if (other > 0)
        snprintf(note, sizeof note, "EPSG:%d", other);
    rc = name[0] ? unsupported(e, name, strlen(name), note) : unsupported(e, text, n, note);
out:
    proj_context_destroy(pj);
    free(text);
    return rc;
}

/* ---- transforms -------------------------------------------------------- */

static void on_proj_log(void *data, int level, const char *msg)
{
    crs_ctx *c = data;
    snprintf(c->msg, sizeof c->msg, "%s", msg);
}

crs_ctx *crs_ctx_new(struct err *e)
{
    crs_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    c->pj = proj_context_create();
    if (!c->pj) {
        err_set(e, ERR_INTERNAL, "PROJ could not be initialised");
        free(c);
        return NULL;
    }
    proj_log_func(c->pj, c, on_proj_log);
    proj_log_level(c->pj, PJ_LOG_ERROR);
    return c;
}

void crs_ctx_free(crs_ctx *c)
{
    if (!c)
        return;
    for (int i = 0; i < CRS_COUNT; i++)
        for (int j = 0; j < CRS_COUNT; j++)
            proj_destroy(c->ops[i][j]);
    proj_context_destroy(c->pj);
    free(c);
}

/* The transform from -> to in x = lon/easting order, made on first use. */
static PJ *get_op(crs_ctx *c, int from, int to, struct err *e)
{
    PJ *raw;
    if (c->ops[from][to])
        return c->ops[from][to];
    c->msg[0] = '\0';
    raw = proj_create_crs_to_crs(c->pj, defs[from].name, defs[to].name, NULL);
    if (raw) {
        c->ops[from][to] = proj_normalize_for_visualization(c->pj, raw);
        proj_destroy(raw);
    }
    if (!c->ops[from][to])
        err_set(e, ERR_INTERNAL, "cannot set up the transformation from %s to %s: %s",
                short_name(from), short_name(to), c->msg[0] ? c->msg : "PROJ failed");
    return c->ops[from][to];
}

static void swap_xy(double *xy, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double t = xy[2 * i];
        xy[2 * i] = xy[2 * i + 1];
        xy[2 * i + 1] = t;
    }
}

static void put_coord(struct buf *b, double v, int prec)
{
    if (isfinite(v))
        buf_put_num(b, v, prec);
    else
        buf_printf(b, "%g", v);
}

/* Names point i, given as the caller gave it (in), in e. The point is tried
 * once more on its own: the batch's errno may be another point's. */
static int cannot_transform(crs_ctx *c, PJ *op, size_t i, const double *in, int swapped, int from,
                            int to, struct err *e)
{
    struct buf b;
    const char *why = NULL;
    int perr;
    proj_errno_reset(op);
    proj_trans(op, PJ_FWD, proj_coord(in[0], in[1], 0, 0));
    perr = proj_errno(op);
    if (perr)
        why = proj_context_errno_string(c->pj, perr);
    buf_init(&b);
    put_coord(&b, in[swapped ? 1 : 0], crs_precision(from));
    buf_puts(&b, ", ");
    put_coord(&b, in[swapped ? 0 : 1], crs_precision(from));
    err_set(e, ERR_PARAM, "point %zu: cannot transform (%s) from %s to %s%s%s", i,
            b.data ? b.data : "", short_name(from), short_name(to), why ? ": " : "",
            why ? why : "");
    buf_clear(&b);
    proj_errno_reset(op);
    return ERR_PARAM;
}

/* CGCS2000, WGS 84 and CRS84 differ by no datum shift here (PROJ's own
 * choice is a ballpark null offset), and Web Mercator is spherical: the
 * closed forms give PROJ's figures to well under a millimetre, without its
 * per-point pipeline. Points outside the domain (a pole, a longitude past
 * +-180, a Mercator x past the antimeridian) are left to PROJ, which wraps
 * or names them. Returns 1 when done. */
#define MERC_R 6378137.0
static int closed_form(int from, int to, double *xy, size_t n)
{
    const double d2r = M_PI / 180, lim = M_PI * MERC_R;
    int fgeo = defs[from].geographic, tgeo = defs[to].geographic;
    if (fgeo && tgeo) {
        for (size_t i = 0; i < n; i++)
            if (!(fabs(xy[2 * i]) <= 180 && fabs(xy[2 * i + 1]) <= 90))
                return 0;
        return 1;
    }
    if (fgeo && to == CRS_3857) {
        for (size_t i = 0; i < n; i++)
            if (!(fabs(xy[2 * i]) <= 180 && fabs(xy[2 * i + 1]) < 89.9))
                return 0;
        for (size_t i = 0; i < n; i++) {
            xy[2 * i] = MERC_R * xy[2 * i] * d2r;
            xy[2 * i + 1] = MERC_R * log(tan(M_PI / 4 + xy[2 * i + 1] * d2r / 2));
        }
        return 1;
    }
    if (from == CRS_3857 && tgeo) {
        for (size_t i = 0; i < n; i++)
            if (!(fabs(xy[2 * i]) <= lim && isfinite(xy[2 * i + 1])))
                return 0;
        for (size_t i = 0; i < n; i++) {
            xy[2 * i] = xy[2 * i] / MERC_R / d2r;
            xy[2 * i + 1] = atan(sinh(xy[2 * i + 1] / MERC_R)) / d2r;
        }
        return 1;
    }
    return 0;
}

int crs_transform(crs_ctx *c, int from, int from_axis, int to, int to_axis, double *xy, size_t n,
                  struct err *e)
{
    double in[2 * CHUNK];
    int swap_in, swap_out;
    PJ *op;
    assert(c && valid_id(from) && valid_id(to) && (xy || n == 0));
    swap_in = from_axis == CRS_AXIS_AUTHORITY && defs[from].swaps;
    swap_out = to_axis == CRS_AXIS_AUTHORITY && defs[to].swaps;
    if (from == to) {
        if (swap_in != swap_out)
            swap_xy(xy, n);
        return 0;
    }
    if (swap_in)
        swap_xy(xy, n);
    if (closed_form(from, to, xy, n)) {
        if (swap_out)
            swap_xy(xy, n);
        return 0;
    }
    op = get_op(c, from, to, e);
    if (!op) {
        if (swap_in)
            swap_xy(xy, n);
        return ERR_INTERNAL;
    }
    for (size_t at = 0; at < n; at += CHUNK) {
        size_t m = n - at < CHUNK ? n - at : CHUNK;
        double *p = xy + 2 * at;
        memcpy(in, p, m * 2 * sizeof *p);
        proj_errno_reset(op);
        proj_trans_generic(op, PJ_FWD, p, 2 * sizeof *p, m, p + 1, 2 * sizeof *p, m, NULL, 0, 0,
                           NULL, 0, 0);
        for (size_t k = 0; k < m; k++)
            if (!isfinite(p[2 * k]) || !isfinite(p[2 * k + 1]))
                return cannot_transform(c, op, at + k, in + 2 * k, swap_in, from, to, e);
    }
    if (swap_out)
        swap_xy(xy, n);
    return 0;
}
