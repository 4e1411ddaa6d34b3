/* store_filter: the SQL side of CQL2. It owns the translation of a parsed
 * filter into an SQL expression over alias t of a layer's table with every
 * value bound as a parameter, and the checks that make that translation
 * safe and meaningful: names against the layer schema, literal types against
 * field types, geometry literals read (GEOS), reprojected (geom.c) and
 * bound as WKB. Running the SQL is store.c's business. Spatial predicates
 * go through the layer's R-tree first, then SpatiaLite's exact ST_ test. */
#include "store_filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crs.h"
#include "ctx_int.h"
#include "geom.h"

/* 1 亩 = 10000/15 m² */
#define MU_PER_M2 "0.0015"
#define BOX_STEPS 16 /* points per BBOX edge when it must be reprojected */

enum ty { TY_STRING, TY_NUMBER, TY_BOOL, TY_DATE, TY_TIMESTAMP, TY_GEOM };

struct comp {
    ctx *c;
    const struct layer *l;
    enum store_dialect dialect;
    int crs, axis;
    struct buf sql;
    struct store_filter *f;
    size_t cap;
    struct err *e;
};

/* What an operand is: its type, and for a property its SQL and its name. */
struct operand {
    enum ty ty;
    const char *column;    /* SQL for a property, NULL for a literal */
    const char *name;      /* property name */
    const char *type_name; /* "integer", "date" ... for messages */
    char col[160];
};

/* A geometry literal ready to bind: WKB in the storage CRS and its bounds. */
struct geom_lit {
    unsigned char *wkb;
    size_t len;
    struct bbox env;
};

static struct store_bind *bind_new(struct comp *k)
{
    struct store_filter *f = k->f;
    if (f->n_binds >= STORE_FILTER_MAX_BINDS) {
        err_set(k->e, ERR_PARAM, "filter: more than %d values (the limit of a filter)",
                STORE_FILTER_MAX_BINDS);
        return NULL;
    }
    if (f->n_binds == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 16;
        struct store_bind *b = realloc(f->binds, cap * sizeof *b);
        if (!b) {
            err_set(k->e, ERR_INTERNAL, "out of memory");
            return NULL;
        }
        f->binds = b;
        k->cap = cap;
    }
    memset(&f->binds[f->n_binds], 0, sizeof *f->binds);
    return &f->binds[f->n_binds++];
}

/* ---- operands ----------------------------------------------------------- */

static enum ty field_ty(enum field_type t)
{
    switch (t) {
    case FIELD_INTEGER:
    case FIELD_NUMBER:
        return TY_NUMBER;
    case FIELD_BOOLEAN:
        return TY_BOOL;
    case FIELD_DATE:
        return TY_DATE;
    default:
        return TY_STRING;
    }
}

static const char *ty_name(enum ty t)
{
    static const char *const names[] = {"a string", "a number",    "a boolean",
                                        "a date",   "a timestamp", "a geometry"};
    return names[t];
}

/* Bytes of name to quote in a message: at most max, whole UTF-8 characters
 * (cql2_parse has checked that the text is UTF-8). */
static int clip_name(const char *name, size_t max)
{
    size_t n = strlen(name);
    if (n <= max)
        return (int)n;
    while (max > 0 && ((unsigned char)name[max] & 0xC0) == 0x80)
        max--;
    return (int)max;
}

/* Resolves a property name against the layer schema. */
static int resolve_prop(struct comp *k, const struct cql2_node *n, struct operand *o)
{
    const char *name = n->text;
    int idx = layer_field_index(k->l, name);
    o->name = name;
    o->column = o->col;
    if (idx >= 0) {
        o->ty = field_ty(k->l->fields[idx].type);
        o->type_name = field_type_name(k->l->fields[idx].type);
        snprintf(o->col, sizeof o->col, "t.\"%s\"", k->l->fields[idx].name);
    } else if (!strcmp(name, "id")) {
        o->ty = TY_NUMBER, o->type_name = "integer";
        snprintf(o->col, sizeof o->col, "t.fid");
    } else if (!strcmp(name, "area_m2")) {
        o->ty = TY_NUMBER, o->type_name = "number";
        snprintf(o->col, sizeof o->col, "t.area_m2");
    } else if (!strcmp(name, "area_mu")) {
        o->ty = TY_NUMBER, o->type_name = "number";
        snprintf(o->col, sizeof o->col, "(t.area_m2 * " MU_PER_M2 ")");
    } else if (!strcmp(name, "geometry") || !strcmp(name, "geom")) {
        o->ty = TY_GEOM, o->type_name = "geometry";
        snprintf(o->col, sizeof o->col, "t.geom");
    } else {
        return err_set(k->e, ERR_PARAM, "filter: '%.*s' is not a queryable of %s",
                       clip_name(name, 80), name, k->l->id);
    }
    return 0;
}

static int resolve(struct comp *k, const struct cql2_node *n, struct operand *o)
{
    memset(o, 0, sizeof *o);
    switch (n->kind) {
    case CQL2_PROP:
        return resolve_prop(k, n, o);
    case CQL2_STRING:
        o->ty = TY_STRING;
        break;
    case CQL2_NUMBER:
        o->ty = TY_NUMBER;
        break;
    case CQL2_BOOL:
        o->ty = TY_BOOL;
        break;
    case CQL2_DATE:
        o->ty = TY_DATE;
        break;
    case CQL2_TIMESTAMP:
        o->ty = TY_TIMESTAMP;
        break;
    case CQL2_GEOM:
    case CQL2_BBOX:
        o->ty = TY_GEOM;
        break;
    default:
        return err_set(k->e, ERR_INTERNAL, "filter: a predicate where a value belongs");
    }
    return 0;
}

/* "households (integer)" or "a string" */
static void describe(const struct operand *o, char *out, size_t n)
{
    if (o->column)
        snprintf(out, n, "%s (%s)", o->name, o->type_name);
    else
        snprintf(out, n, "%s", ty_name(o->ty));
}

/* Checks that b may be compared with a; pos is where to point. */
static int comparable(struct comp *k, const struct operand *a, const struct operand *b, int pos)
{
    char da[160], db[160];
    if (a->ty == TY_GEOM || b->ty == TY_GEOM)
        return cql2_error_at(
            k->e, pos, "a geometry can only be used in a spatial function (S_INTERSECTS ...)");
    if (a->ty == b->ty)
        return 0;
    if (!a->column && b->column) { /* name the property first */
        const struct operand *t = a;
        a = b, b = t;
    }
    describe(a, da, sizeof da);
    describe(b, db, sizeof db);
    return cql2_error_at(
        k->e, pos, "cannot compare %s with %s%s", da, db,
        (a->ty == TY_DATE || b->ty == TY_DATE) && (a->ty == TY_STRING || b->ty == TY_STRING)
            ? " (write a date as DATE('YYYY-MM-DD'))"
            : "");
}

/* Appends the operand's SQL: its column, or ? with the literal bound. */
static int emit_scalar(struct comp *k, const struct cql2_node *n, const struct operand *o)
{
    struct store_bind *b;
    if (o->column) {
        buf_puts(&k->sql, o->column);
        return 0;
    }
    if (!(b = bind_new(k)))
        return k->e->code;
    switch (n->kind) {
    case CQL2_NUMBER:
        if (n->is_int)
            b->type = BIND_INT, b->i = n->i;
        else
            b->type = BIND_REAL, b->d = n->d;
        break;
    case CQL2_BOOL:
        b->type = BIND_INT, b->i = n->i;
        break;
    default:
        b->type = BIND_TEXT;
        if (!(b->s = strdup(n->text)))
            return err_set(k->e, ERR_INTERNAL, "out of memory");
    }
    buf_putc(&k->sql, '?');
    return 0;
}

/* ---- comparison predicates ---------------------------------------------- */

static int compile_cmp(struct comp *k, const struct cql2_node *n)
{
    static const char *const sql_op[] = {" = ", " <> ", " < ", " > ", " <= ", " >= "};
    struct operand a, b;
    const struct cql2_node *x = n->args[0], *y = n->args[1];
    int rc;
    if ((rc = resolve(k, x, &a)) || (rc = resolve(k, y, &b)) ||
        (rc = comparable(k, &a, &b, b.column && !a.column ? x->pos : y->pos)))
        return rc;
    buf_putc(&k->sql, '(');
    if ((rc = emit_scalar(k, x, &a)))
        return rc;
    buf_puts(&k->sql, sql_op[n->op]);
    if ((rc = emit_scalar(k, y, &b)))
        return rc;
    buf_putc(&k->sql, ')');
    return 0;
}

/* A CQL2 pattern for SQL LIKE ... ESCAPE '\': both use % _ and backslash,
 * so only a trailing lone backslash needs escaping. Caller frees. */
static char *like_pattern(const char *s)
{
    size_t n = strlen(s), k = 0;
    char *out = malloc(2 * n + 2);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        out[k++] = s[i];
        if (s[i] == '\\')
            out[k++] = i + 1 < n ? s[++i] : '\\';
    }
    out[k] = '\0';
    return out;
}

static int compile_like(struct comp *k, const struct cql2_node *n)
{
    struct operand a;
    struct store_bind *b;
    char d[160];
    int rc;
    if ((rc = resolve(k, n->args[0], &a)))
        return rc;
    if (a.ty != TY_STRING) {
        describe(&a, d, sizeof d);
        return cql2_error_at(k->e, n->args[0]->pos, "LIKE applies to strings, not to %s", d);
    }
    buf_putc(&k->sql, '(');
    if ((rc = emit_scalar(k, n->args[0], &a)))
        return rc;
    if (!(b = bind_new(k)))
        return k->e->code;
    b->type = BIND_TEXT;
    if (!(b->s = like_pattern(n->args[1]->text)))
        return err_set(k->e, ERR_INTERNAL, "out of memory");
    buf_printf(&k->sql, " %sLIKE ? ESCAPE '\\')", n->negated ? "NOT " : "");
    return 0;
}

static int compile_in(struct comp *k, const struct cql2_node *n)
{
    struct operand a, v;
    int rc;
    if ((rc = resolve(k, n->args[0], &a)))
        return rc;
    buf_putc(&k->sql, '(');
    if ((rc = emit_scalar(k, n->args[0], &a)))
        return rc;
    buf_puts(&k->sql, n->negated ? " NOT IN (" : " IN (");
    for (size_t i = 1; i < n->n_args; i++) {
        if ((rc = resolve(k, n->args[i], &v)) || (rc = comparable(k, &a, &v, n->args[i]->pos)))
            return rc;
        if (i > 1)
            buf_puts(&k->sql, ", ");
        if ((rc = emit_scalar(k, n->args[i], &v)))
            return rc;
    }
    buf_puts(&k->sql, "))");
    return 0;
}

static int compile_between(struct comp *k, const struct cql2_node *n)
{
    struct operand o[3];
    char d[160];
    int rc;
    for (int i = 0; i < 3; i++)
        if ((rc = resolve(k, n->args[i], &o[i])))
            return rc;
    if (o[0].ty == TY_BOOL) {
        describe(&o[0], d, sizeof d);
        return cql2_error_at(k->e, n->args[0]->pos,
                             "BETWEEN needs numbers, dates or strings, not %s", d);
    }
    if ((rc = comparable(k, &o[0], &o[1], n->args[1]->pos)) ||
        (rc = comparable(k, &o[0], &o[2], n->args[2]->pos)))
        return rc;
    buf_putc(&k->sql, '(');
    for (int i = 0; i < 3; i++) {
        if (i)
            buf_puts(&k->sql, i == 1 ? (n->negated ? " NOT BETWEEN " : " BETWEEN ") : " AND ");
        if ((rc = emit_scalar(k, n->args[i], &o[i])))
            return rc;
    }
    buf_putc(&k->sql, ')');
    return 0;
}

/* ---- geometry literals -------------------------------------------------- */

/* BBOX(...) as a polygon (two across the antimeridian) in the filter CRS,
 * x = easting/longitude first. */
static GEOSGeometry *bbox_geom(struct comp *k, const struct cql2_node *n)
{
    double b[4] = {n->box[0], n->box[1], n->box[2], n->box[3]};
    int geographic = crs_is_geographic(k->crs), steps = geographic ? 1 : BOX_STEPS;
    GEOSGeometry *parts[2];
    if (k->axis == CRS_AXIS_AUTHORITY && crs_authority_swaps(k->crs)) {
        b[0] = n->box[1], b[1] = n->box[0], b[2] = n->box[3], b[3] = n->box[2];
    }
    if (b[1] > b[3]) {
        cql2_error_at(k->e, n->pos, "BBOX: the lower corner is north of the upper corner");
        return NULL;
    }
    if (b[0] <= b[2])
        parts[0] = geom_box_polygon(k->c, b, steps);
    else if (!geographic) {
        cql2_error_at(k->e, n->pos, "BBOX: the lower corner is east of the upper corner");
        return NULL;
    } else { /* across the antimeridian */
        double west[4] = {b[0], b[1], 180, b[3]}, east[4] = {-180, b[1], b[2], b[3]};
        parts[0] = geom_box_polygon(k->c, west, 1);
        parts[1] = geom_box_polygon(k->c, east, 1);
        if (!parts[0] || !parts[1]) {
            GEOSGeom_destroy_r(k->c->geos, parts[0] ? parts[0] : parts[1]);
            parts[0] = NULL;
        } else {
            parts[0] = GEOSGeom_createCollection_r(k->c->geos, GEOS_MULTIPOLYGON, parts, 2);
        }
    }
    if (!parts[0])
        ctx_geos_err(k->c, k->e, ERR_INTERNAL, "filter: BBOX");
    return parts[0];
}

/* Reads a WKT literal in the filter CRS and checks it is valid there. */
static GEOSGeometry *wkt_geom(struct comp *k, const struct cql2_node *n)
{
    GEOSWKTReader *rd = GEOSWKTReader_create_r(k->c->geos);
    GEOSGeometry *g;
    char what[80];
    if (!rd) {
        ctx_geos_err(k->c, k->e, ERR_INTERNAL, "filter");
        return NULL;
    }
    k->c->geos_msg[0] = '\0';
    g = GEOSWKTReader_read_r(k->c->geos, rd, n->text);
    GEOSWKTReader_destroy_r(k->c->geos, rd);
    snprintf(what, sizeof what, "filter: %s at character %d", cql2_geom_name(n->op), n->pos);
    if (!g) {
        ctx_geos_err(k->c, k->e, ERR_PARAM, what);
        return NULL;
    }
    if (geom_check_valid(k->c, g, NULL, NULL, k->e)) {
        k->e->code = k->e->code == ERR_INVALID ? ERR_PARAM : k->e->code;
        err_prefix(k->e, "filter: invalid %s at character %d", cql2_geom_name(n->op), n->pos);
        GEOSGeom_destroy_r(k->c->geos, g);
        return NULL;
    }
    return g;
}

/* The literal (GEOM or BBOX) in the storage CRS as WKB with its bounds. */
static int geom_literal(struct comp *k, const struct cql2_node *n, struct geom_lit *out)
{
    GEOSGeometry *g = NULL, *s = NULL;
    GEOSWKBWriter *w = NULL;
    unsigned char *wkb = NULL;
    size_t len = 0;
    int rc = 0, bbox = n->kind == CQL2_BBOX;
    if (!(g = bbox ? bbox_geom(k, n) : wkt_geom(k, n)))
        return k->e->code;
    if (!(s = geom_transform(k->c, g, k->crs, bbox ? CRS_AXIS_XY : k->axis, CRS_STORAGE,
                             CRS_AXIS_XY, k->e))) {
        rc = err_prefix(k->e, "filter: %s at character %d", bbox ? "BBOX" : cql2_geom_name(n->op),
                        n->pos);
        goto out;
    }
    if (geom_check_range(k->c, s, k->e)) {
        rc = k->e->code = ERR_PARAM;
        err_prefix(k->e, "filter: %s at character %d", bbox ? "BBOX" : cql2_geom_name(n->op),
                   n->pos);
        goto out;
    }
    if (geom_bounds(k->c, s, &out->env)) {
        rc = cql2_error_at(k->e, n->pos, "empty geometry");
        goto out;
    }
    if (!(w = GEOSWKBWriter_create_r(k->c->geos))) {
        rc = ctx_geos_err(k->c, k->e, ERR_INTERNAL, "filter");
        goto out;
    }
    GEOSWKBWriter_setOutputDimension_r(k->c->geos, w, 2);
    if (!(wkb = GEOSWKBWriter_write_r(k->c->geos, w, s, &len)) || !(out->wkb = malloc(len))) {
        rc = wkb ? err_set(k->e, ERR_INTERNAL, "out of memory")
                 : ctx_geos_err(k->c, k->e, ERR_INTERNAL, "filter");
        goto out;
    }
    memcpy(out->wkb, wkb, len);
    out->len = len;
out:
    if (wkb)
        GEOSFree_r(k->c->geos, wkb);
    if (w)
        GEOSWKBWriter_destroy_r(k->c->geos, w);
    if (s)
        GEOSGeom_destroy_r(k->c->geos, s);
    GEOSGeom_destroy_r(k->c->geos, g);
    return rc;
}

/* Appends t.geom, or GeomFromWKB(?, 4490) binding the literal (taking its WKB). */
static int emit_geom(struct comp *k, struct geom_lit *lit, int is_prop)
{
    struct store_bind *b;
    if (is_prop) {
        buf_puts(&k->sql, "t.geom");
        return 0;
    }
    if (!(b = bind_new(k)))
        return k->e->code;
    b->type = BIND_BLOB;
    b->blob = lit->wkb;
    b->len = lit->len;
    lit->wkb = NULL;
    buf_printf(&k->sql, "%s(?, %d)", k->dialect == STORE_PG ? "ST_GeomFromWKB" : "GeomFromWKB",
               crs_epsg(CRS_STORAGE));
    return 0;
}

/* ---- spatial predicates ------------------------------------------------- */

static const char *const ST_NAMES[] = {"ST_Intersects", "ST_Equals",  "ST_Disjoint",
                                       "ST_Touches",    "ST_Within",  "ST_Overlaps",
                                       "ST_Crosses",    "ST_Contains"};

/* The candidates the spatial index finds for env: in SQLite the R-tree's
 * ids, "t.fid [NOT] IN (...)"; in PostGIS the GiST operator on the box. */
static int emit_index(struct comp *k, const struct bbox *env, int negated)
{
    const double rtree[4] = {env->maxx, env->minx, env->maxy, env->miny};
    const double box[4] = {env->minx, env->miny, env->maxx, env->maxy};
    const double *v = rtree;
    if (k->dialect == STORE_PG) {
        buf_printf(&k->sql, "%s(t.geom && ST_MakeEnvelope(?, ?, ?, ?, %d))", negated ? "NOT " : "",
                   crs_epsg(CRS_STORAGE));
        v = box;
    } else {
        buf_printf(&k->sql,
                   "t.fid %sIN (SELECT pkid FROM \"idx_%s_geom\" WHERE xmin <= ? AND "
                   "xmax >= ? AND ymin <= ? AND ymax >= ?)",
                   negated ? "NOT " : "", k->l->id);
    }
    for (int i = 0; i < 4; i++) {
        struct store_bind *b = bind_new(k);
        if (!b)
            return k->e->code;
        b->type = BIND_REAL;
        b->d = v[i];
    }
    return 0;
}

static int compile_spatial(struct comp *k, const struct cql2_node *n)
{
    struct geom_lit lit[2];
    struct operand o;
    char d[160];
    int is_prop[2], rc = 0, rtree = -1;
    memset(lit, 0, sizeof lit);
    for (int i = 0; i < 2 && !rc; i++) {
        const struct cql2_node *a = n->args[i];
        is_prop[i] = a->kind == CQL2_PROP;
        if (is_prop[i] && !(rc = resolve(k, a, &o)) && o.ty != TY_GEOM) {
            describe(&o, d, sizeof d);
            rc = cql2_error_at(k->e, a->pos, "%s needs geometries; %s is not one",
                               cql2_spatial_name(n->op), d);
        } else if (!is_prop[i] && !rc) {
            rc = geom_literal(k, a, &lit[i]);
        }
    }
    if (rc)
        goto out;
    if (is_prop[0] != is_prop[1]) /* one column, one literal: the index can help */
        rtree = is_prop[0] ? 1 : 0;
    buf_putc(&k->sql, '(');
    if (rtree >= 0) {
        if ((rc = emit_index(k, &lit[rtree].env, n->op == CQL2_S_DISJOINT)))
            goto out;
        buf_puts(&k->sql, n->op == CQL2_S_DISJOINT ? " OR " : " AND ");
    }
    buf_printf(&k->sql, "%s(", ST_NAMES[n->op]);
    if ((rc = emit_geom(k, &lit[0], is_prop[0])))
        goto out;
    buf_puts(&k->sql, ", ");
    if ((rc = emit_geom(k, &lit[1], is_prop[1])))
        goto out;
    /* SpatiaLite's predicates answer 1, 0, or -1 on an error */
    buf_puts(&k->sql, k->dialect == STORE_PG ? "))" : ") = 1)");
out:
    free(lit[0].wkb);
    free(lit[1].wkb);
    return rc;
}

static int compile_is_null(struct comp *k, const struct cql2_node *n)
{
    struct operand a;
    struct geom_lit lit;
    int rc;
    if ((rc = resolve(k, n->args[0], &a)))
        return rc;
    buf_putc(&k->sql, '(');
    if (a.ty == TY_GEOM && !a.column) {
        memset(&lit, 0, sizeof lit);
        if (!(rc = geom_literal(k, n->args[0], &lit)))
            rc = emit_geom(k, &lit, 0);
        free(lit.wkb);
    } else {
        rc = emit_scalar(k, n->args[0], &a);
    }
    buf_puts(&k->sql, n->negated ? " IS NOT NULL)" : " IS NULL)");
    return rc;
}

/* ---- boolean structure -------------------------------------------------- */

static int compile(struct comp *k, const struct cql2_node *n);

/* args[lo..hi) joined by AND or OR as a balanced tree, so that SQLite's
 * expression depth grows with the logarithm of a long chain. */
static int compile_chain(struct comp *k, const struct cql2_node *n, size_t lo, size_t hi)
{
    size_t mid = lo + (hi - lo) / 2;
    int rc;
    if (hi - lo == 1)
        return compile(k, n->args[lo]);
    buf_putc(&k->sql, '(');
    if ((rc = compile_chain(k, n, lo, mid)))
        return rc;
    buf_puts(&k->sql, n->kind == CQL2_AND ? " AND " : " OR ");
    if ((rc = compile_chain(k, n, mid, hi)))
        return rc;
    buf_putc(&k->sql, ')');
    return 0;
}

static int compile(struct comp *k, const struct cql2_node *n)
{
    struct store_bind *b;
    int rc;
    switch (n->kind) {
    case CQL2_AND:
    case CQL2_OR:
        return compile_chain(k, n, 0, n->n_args);
    case CQL2_NOT:
        buf_puts(&k->sql, "(NOT ");
        if ((rc = compile(k, n->args[0])))
            return rc;
        buf_putc(&k->sql, ')');
        return 0;
    case CQL2_CMP:
        return compile_cmp(k, n);
    case CQL2_LIKE:
        return compile_like(k, n);
    case CQL2_IN:
        return compile_in(k, n);
    case CQL2_BETWEEN:
        return compile_between(k, n);
    case CQL2_IS_NULL:
        return compile_is_null(k, n);
    case CQL2_SPATIAL:
        return compile_spatial(k, n);
    case CQL2_BOOL:
        if (!(b = bind_new(k)))
            return k->e->code;
        b->type = BIND_INT;
        b->i = n->i;
        buf_puts(&k->sql, "(? = 1)");
        return 0;
    default:
        return cql2_error_at(k->e, n->pos, "expected a predicate, found a value");
    }
}

int store_filter_compile(ctx *c, const struct layer *l, enum store_dialect dialect,
                         const struct cql2_node *ast, int filter_crs, int filter_axis,
                         struct store_filter *out, struct err *e)
{
    struct comp k;
    int rc;
    memset(out, 0, sizeof *out);
    memset(&k, 0, sizeof k);
    k.c = c, k.l = l, k.dialect = dialect, k.crs = filter_crs, k.axis = filter_axis, k.f = out,
    k.e = e;
    buf_init(&k.sql);
    rc = compile(&k, ast);
    if (!rc && k.sql.oom)
        rc = err_set(e, ERR_INTERNAL, "out of memory");
    if (!rc)
        out->sql = buf_steal(&k.sql);
    buf_clear(&k.sql);
    return rc;
}

void store_filter_clear(struct store_filter *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_binds; i++) {
        free(f->binds[i].s);
        free(f->binds[i].blob);
    }
    free(f->binds);
    free(f->sql);
    f->sql = NULL;
    f->binds = NULL;
    f->n_binds = 0;
}
