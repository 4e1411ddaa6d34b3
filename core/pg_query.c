/* pg_query (PostgreSQL backend): a layer's rows — read by boxes (the GiST
 * index), equalities, a compiled filter, sorted and paged, counted, as they
 * are or as they were at an instant (with the past versions) — and
 * written: one feature at a time, or a bulk load by COPY. PostgreSQL only
 * looks rows up; onemap encodes what it sends (GeoJSON, MVT, areas) from the
 * WKB it gets back (the tables keep no GeoJSON text). */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"
#include "crs.h"
#include "geojson.h"
#include "splite.h"
#include "wkb.h"

#define SRID "4490"

/* ---- reading ------------------------------------------------------------------ */

/* "t.geom && ANY(ARRAY[ST_MakeEnvelope(?, ?, ?, ?, 4490), ...])" for n
 * rectangles. An array, even of one: the GiST index then serves it by a
 * bitmap scan only, which reads each table page once for all its rows,
 * where the plain index scan that a generic plan picks for a plain &&
 * reads a page again for each of its rows (2-3 times the pages for a
 * tile's few hundred rows). */
static void rects_sql(struct buf *b, int n)
{
    buf_puts(b, "t.geom && ANY(ARRAY[");
    for (int i = 0; i < n; i++)
        buf_printf(b, "%sST_MakeEnvelope(?, ?, ?, ?, " SRID ")", i ? ", " : "");
    buf_puts(b, "])");
}

static void rects_params(struct pg_params *p, const double rects[][4], int n)
{
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 4; k++)
            pg_param_double(p, rects[i][k]);
}

/* Which rows a query reads: the layer's as they are; or, with an asof,
 * the live ones valid then, or the past ones valid then (pg_past.c). */
enum part { NOW, LIVE_THEN, PAST_THEN };

/* FROM and WHERE of q over part, with its parameters in order. */
static void where_sql(const struct store_query *q, enum part part, struct buf *b,
                      struct pg_params *p)
{
    const struct layer *l = q->layer;
    const char *and = " WHERE ";
    buf_printf(b, " FROM \"%s%s\" t", part == PAST_THEN ? "onemap_past_" : "", l->id);
    if (q->n_rects) {
        buf_puts(b, and);
        rects_sql(b, q->n_rects);
        rects_params(p, q->rects, q->n_rects);
        and = " AND ";
        if (q->min_mbr_area > 0) {
            buf_puts(b, " AND (ST_XMax(t.geom) - ST_XMin(t.geom)) *"
                        " (ST_YMax(t.geom) - ST_YMin(t.geom)) >= ?");
            pg_param_double(p, q->min_mbr_area);
        }
    }
    for (size_t i = 0; i < q->n_eq; i++) {
        buf_printf(b, "%st.\"%s\" = ?", and, l->fields[q->eq[i].field].name);
        pg_param_value(p, &q->eq[i].v);
        and = " AND ";
    }
    if (q->fid > 0) {
        buf_printf(b, "%st.fid = ?", and);
        pg_param_ll(p, q->fid);
        and = " AND ";
    }
    if (q->filter && q->filter->sql) {
        buf_printf(b, "%s(%s)", and, q->filter->sql);
        for (size_t i = 0; i < q->filter->n_binds; i++)
            pg_param_bind(p, &q->filter->binds[i]);
        and = " AND ";
    }
    if (part == LIVE_THEN) {
        buf_printf(b, "%st.since <= ?", and);
        pg_param_text(p, q->asof);
    } else if (part == PAST_THEN) {
        buf_printf(b, "%st.valid_from <= ? AND t.valid_to > ?", and);
        pg_param_text(p, q->asof);
        pg_param_text(p, q->asof);
    }
}

/* FROM and WHERE of q: with an asof, over the union of the live and the
 * past rows valid then, each part selected by cols (from "SELECT" on) and
 * filtered alike (each through its own GiST index), so that the sorting
 * and paging that follow apply to the union. */
static void from_sql(const struct store_query *q, const char *cols, struct buf *b,
                     struct pg_params *p)
{
    if (!q->asof) {
        buf_puts(b, cols);
        where_sql(q, NOW, b, p);
        return;
    }
    buf_printf(b, "SELECT * FROM (%s", cols);
    where_sql(q, LIVE_THEN, b, p);
    buf_printf(b, " UNION ALL %s", cols);
    where_sql(q, PAST_THEN, b, p);
    buf_puts(b, ") t");
}

static void order_sql(const struct store_query *q, struct buf *b)
{
    buf_puts(b, " ORDER BY ");
    for (size_t i = 0; i < q->n_sort; i++) {
        int f = q->sort[i].field;
        if (f == STORE_SORT_ID)
            buf_puts(b, "t.fid");
        else if (f == STORE_SORT_AREA)
            buf_puts(b, "t.area_m2");
        else /* text in byte order, as SQLite sorts it; NULLs first, as there */
            buf_printf(b, "t.\"%s\"%s", q->layer->fields[f].name,
                       q->layer->fields[f].type == FIELD_STRING ||
                               q->layer->fields[f].type == FIELD_DATE
                           ? " COLLATE \"C\""
                           : "");
        buf_puts(b, q->sort[i].desc ? " DESC NULLS LAST, " : " NULLS FIRST, ");
    }
    buf_puts(b, "t.fid");
}

struct rows_run {
    const struct store_query *q;
    store_row_fn fn;
    void *arg;
    struct value *vals;
    int gj;          /* rows carry GeoJSON text, written from their WKB */
    int mbr, wkb;    /* their columns, or -1; the fields' from 3 on */
    struct buf text; /* the row's GeoJSON text */
};

/* The columns a query selects (from "SELECT" on, into cols) and where they
 * are. The geometry comes as WKB alone: the GeoJSON text a caller wants is
 * written from it here (the table keeps no text: sending the WKB costs the
 * database less, and the table is smaller). A row's box is worked out from
 * its WKB too when it has one (ST_XMin and the like read the whole
 * geometry each, dearer than sending it). */
static void rows_cols(const struct store_query *q, struct rows_run *r, struct buf *cols)
{
    const struct layer *l = q->layer;
    int wkb = q->want_wkb || !q->skip_gj;
    int col = 3 + (int)l->n_fields;
    buf_puts(cols, "SELECT t.fid, t.version, t.area_m2");
    for (size_t i = 0; i < l->n_fields; i++)
        buf_printf(cols, ", t.\"%s\"", l->fields[i].name);
    r->gj = !q->skip_gj && !q->gj_or_wkb;
    r->mbr = r->wkb = -1;
    /* the computed columns named apart from any field's (fields are
     * identifiers: no spaces), for the union's sorting */
    if (wkb) {
        buf_puts(cols, ", ST_AsBinary(t.geom) AS \"wkb \"");
        r->wkb = col;
    } else if (q->n_rects) {
        buf_puts(cols, ", ST_XMin(t.geom) AS \"mbr 0\", ST_YMin(t.geom) AS \"mbr 1\","
                       " ST_XMax(t.geom) AS \"mbr 2\", ST_YMax(t.geom) AS \"mbr 3\"");
        r->mbr = col;
    }
}

static int on_row(void *arg, PGresult *res, int i, struct err *e)
{
    struct rows_run *r = arg;
    const struct layer *l = r->q->layer;
    struct store_row row;
    memset(&row, 0, sizeof row);
    row.fid = pg_ll(res, i, 0);
    row.version = pg_ll(res, i, 1);
    row.area_m2 = pg_double(res, i, 2);
    for (size_t f = 0; f < l->n_fields; f++)
        pg_value(res, i, 3 + (int)f, l->fields[f].type, &r->vals[f]);
    row.vals = r->vals;
    if (r->wkb >= 0) {
        row.wkb = (const unsigned char *)pg_text(res, i, r->wkb);
        row.wkb_len = row.wkb ? (size_t)PQgetlength(res, i, r->wkb) : 0;
    }
    if (r->gj) {
        buf_reset(&r->text);
        if (!row.wkb ||
            geojson_wkb_write(row.wkb, row.wkb_len, crs_precision(CRS_STORAGE), &r->text))
            return err_set(e, ERR_INTERNAL, "%s/%lld: stored geometry unreadable", l->id, row.fid);
        if (r->text.oom)
            return err_set(e, ERR_INTERNAL, "out of memory");
        row.gj = r->text.data;
    }
    row.have_mbr = r->q->n_rects > 0 && !r->q->skip_mbr;
    if (r->mbr >= 0) {
        for (int k = 0; k < 4; k++)
            row.mbr[k] = pg_double(res, i, r->mbr + k);
    } else if (row.have_mbr && (!row.wkb || wkb_bbox(row.wkb, row.wkb_len, row.mbr))) {
        for (int k = 0; k < 4; k++) /* no box: never "inside" anything */
            row.mbr[k] = NAN;
    }
    return r->fn(r->arg, &row, e);
}

/* Rows in a total order and without a limit, most often a few hundred (a
 * box on the map): the first PROBE at once, in one round trip; the rest,
 * when there is more, through a cursor from there on. */
#define PROBE 2000

struct probe_run {
    struct rows_run *rows;
    int n, more;
};

static int on_probed(void *arg, PGresult *res, int i, struct err *e)
{
    struct probe_run *p = arg;
    if (p->n == PROBE) {
        p->more = 1;
        return 1;
    }
    p->n++;
    return on_row(p->rows, res, i, e);
}

static int rows_probed(store *s, struct buf *sql, struct pg_params *p, struct rows_run *r,
                       struct err *e)
{
    struct probe_run pr = {r, 0, 0};
    size_t len = sql->len;
    int rc;
    buf_printf(sql, " LIMIT %d", PROBE + 1);
    rc = sql->oom ? err_set(e, ERR_INTERNAL, "out of memory")
                  : pg_each(s, sql->data, p, 1, on_probed, &pr, e);
    if (rc || !pr.more || pr.n < PROBE)
        return rc;
    sql->len = len;
    buf_printf(sql, " OFFSET %d", PROBE);
    return sql->oom ? err_set(e, ERR_INTERNAL, "out of memory")
                    : pg_each(s, sql->data, p, 0, on_row, r, e);
}

/* Rows in any order within a box (a tile, a sum), most often a few hundred:
 * the first PROBE + 1 at once, in one round trip of a prepared statement,
 * given to fn only when they are all there are; when there are more, they
 * are thrown away and all the rows read again through a cursor. */
static int rows_probed_any(store *s, struct buf *sql, struct pg_params *p, struct rows_run *r,
                           struct err *e)
{
    size_t len = sql->len;
    PGresult *res;
    int rc = 0, n;
    buf_printf(sql, " LIMIT %d", PROBE + 1);
    if (sql->oom)
        return err_set(e, ERR_INTERNAL, "out of memory");
    if (!(res = pg_run(s, sql->data, p, e)))
        return e->code;
    if ((n = PQntuples(res)) <= PROBE) {
        for (int i = 0; i < n && !rc; i++)
            rc = on_row(r, res, i, e);
        PQclear(res);
        return rc > 0 ? 0 : rc;
    }
    PQclear(res);
    sql->len = len;
    sql->data[len] = '\0';
    return pg_each(s, sql->data, p, 0, on_row, r, e);
}

/* The statement of q's rows (r told where its columns are); what its
 * parameters are in p. Returns 0, or an error when out of memory. */
static int rows_sql(const struct store_query *q, struct rows_run *r, struct buf *b,
                    struct pg_params *p, struct err *e)
{
    struct buf cols;
    int oom;
    buf_init(&cols);
    rows_cols(q, r, &cols);
    if (!(oom = cols.oom))
        from_sql(q, cols.data, b, p);
    buf_clear(&cols);
    if (!q->any_order || q->limit >= 0 || q->n_sort)
        order_sql(q, b);
    if (q->limit >= 0) {
        buf_puts(b, " LIMIT ? OFFSET ?");
        pg_param_ll(p, q->limit);
        pg_param_ll(p, q->offset);
    }
    r->vals = calloc(q->layer->n_fields ? q->layer->n_fields : 1, sizeof *r->vals);
    return oom || b->oom || !r->vals ? err_set(e, ERR_INTERNAL, "out of memory") : 0;
}

int pg_query_rows(store *s, const struct store_query *q, store_row_fn fn, void *arg, struct err *e)
{
    struct rows_run r;
    struct pg_params p;
    struct buf b;
    int rc;
    buf_init(&b);
    memset(&r, 0, sizeof r);
    r.q = q, r.fn = fn, r.arg = arg;
    buf_init(&r.text);
    pg_params_init(&p);
    if ((rc = rows_sql(q, &r, &b, &p, e)))
        ;
    else if (q->fid > 0 || (q->limit >= 0 && q->limit <= 10000)) /* a page comes at once */
        rc = pg_each(s, b.data, &p, 1, on_row, &r, e);
    else if (q->limit < 0 && (!q->any_order || q->n_sort)) /* in order: likely few */
        rc = rows_probed(s, &b, &p, &r, e);
    else if (q->limit < 0 && q->n_rects) /* in a box: likely few too */
        rc = rows_probed_any(s, &b, &p, &r, e);
    else /* many: through a cursor */
        rc = pg_each(s, b.data, &p, 0, on_row, &r, e);
    free(r.vals);
    buf_clear(&r.text);
    pg_params_clear(&p);
    buf_clear(&b);
    return rc;
}

/* Queries of rows in a box (a point's, in each layer), most often a few
 * each: up to PG_MANY in one round trip, the first PROBE + 1 rows of each;
 * a query that has more is run again alone, in full. Other queries, or one
 * alone, one by one. */
static int rows_batch(store *s, const struct store_query *qs, size_t n, store_row_fn fn,
                      void *const *args, struct err *e)
{
    struct rows_run r[PG_MANY];
    struct pg_params p[PG_MANY], *pp[PG_MANY];
    struct buf b[PG_MANY];
    const char *sqls[PG_MANY];
    PGresult *res[PG_MANY] = {0};
    int rc = 0, batch = n >= 2 && n <= PG_MANY;
    size_t i;
    for (i = 0; batch && i < n; i++)
        batch = qs[i].limit < 0 && qs[i].n_rects > 0 && qs[i].fid <= 0;
    if (!batch) {
        for (i = 0; i < n && !rc; i++)
            rc = pg_query_rows(s, &qs[i], fn, args[i], e);
        return rc;
    }
    for (i = 0; i < n; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i].q = &qs[i], r[i].fn = fn, r[i].arg = args[i];
        buf_init(&r[i].text);
        pg_params_init(&p[i]);
        buf_init(&b[i]);
        if (!rc && !(rc = rows_sql(&qs[i], &r[i], &b[i], &p[i], e))) {
            buf_printf(&b[i], " LIMIT %d", PROBE + 1);
            if (b[i].oom)
                rc = err_set(e, ERR_INTERNAL, "out of memory");
        }
        sqls[i] = b[i].data;
        pp[i] = &p[i];
    }
    if (!rc)
        rc = pg_run_many(s, n, sqls, pp, res, e);
    for (i = 0; i < n && !rc; i++) {
        int rows = PQntuples(res[i]);
        if (rows > PROBE) { /* more than a probe: all of them, again */
            rc = pg_query_rows(s, &qs[i], fn, args[i], e);
            continue;
        }
        for (int k = 0; k < rows && !rc; k++)
            rc = on_row(&r[i], res[i], k, e);
        if (rc > 0) /* this query's rows stopped early: the next query's */
            rc = 0;
    }
    for (i = 0; i < n; i++) {
        PQclear(res[i]);
        free(r[i].vals);
        buf_clear(&r[i].text);
        pg_params_clear(&p[i]);
        buf_clear(&b[i]);
    }
    return rc;
}

int pg_query_rows_many(store *s, const struct store_query *qs, size_t n, store_row_fn fn,
                       void *const *args, struct err *e)
{
    int rc = 0;
    for (size_t off = 0; off < n && !rc; off += PG_MANY)
        rc = rows_batch(s, qs + off, n - off < PG_MANY ? n - off : PG_MANY, fn, args + off, e);
    return rc;
}

struct boxes_run {
    store_box_fn fn;
    void *arg;
};

static int on_box(void *arg, PGresult *res, int i, struct err *e)
{
    struct boxes_run *r = arg;
    double mbr[4];
    for (int k = 0; k < 4; k++)
        mbr[k] = pg_double(res, i, 1 + k);
    return r->fn(r->arg, pg_ll(res, i, 0), mbr, e);
}

int pg_boxes(store *s, const struct layer *l, const double rects[][4], int n_rects, store_box_fn fn,
             void *arg, struct err *e)
{
    struct boxes_run r = {fn, arg};
    struct pg_params p;
    struct buf b;
    int rc;
    buf_init(&b);
    pg_params_init(&p);
    buf_printf(&b,
               "SELECT t.fid, ST_XMin(t.geom), ST_YMin(t.geom), ST_XMax(t.geom),"
               " ST_YMax(t.geom) FROM \"%s\" t WHERE ",
               l->id);
    rects_sql(&b, n_rects);
    rects_params(&p, rects, n_rects);
    rc = b.oom ? err_set(e, ERR_INTERNAL, "out of memory")
               : pg_each(s, b.data, &p, 0, on_box, &r, e);
    pg_params_clear(&p);
    buf_clear(&b);
    return rc;
}

int pg_query_count(store *s, const struct store_query *q, long long *count, struct err *e)
{
    struct pg_params p;
    PGresult *res;
    struct buf b;
    if (!q->filter && !q->n_eq && !q->n_rects && !q->fid && !q->asof)
        return pg_layer_totals(s, q->layer, count, NULL, e); /* kept, O(1) */
    buf_init(&b);
    pg_params_init(&p);
    if (q->asof) {
        buf_puts(&b, "SELECT count(*) FROM (");
        from_sql(q, "SELECT 1", &b, &p);
        buf_puts(&b, ") n");
    } else {
        from_sql(q, "SELECT count(*)", &b, &p);
    }
    res = b.oom ? NULL : pg_run(s, b.data, &p, e);
    if (b.oom)
        err_set(e, ERR_INTERNAL, "out of memory");
    pg_params_clear(&p);
    buf_clear(&b);
    if (!res)
        return e->code;
    *count = pg_ll(res, 0, 0);
    PQclear(res);
    return 0;
}

static PGresult *run_one(store *s, struct pg_params *p, struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static PGresult *run_one(store *s, struct pg_params *p, struct err *e, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return pg_run(s, sql, p, e);
}

int pg_feature_wkb(store *s, const struct layer *l, long long fid, unsigned char **wkb, size_t *len,
                   struct err *e)
{
    struct pg_params p;
    PGresult *res;
    int rc = 0;
    *wkb = NULL;
    pg_params_init(&p);
    pg_param_ll(&p, fid);
    res = run_one(s, &p, e, "SELECT ST_AsBinary(geom) FROM \"%s\" WHERE fid = ?", l->id);
    pg_params_clear(&p);
    if (!res)
        return e->code;
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
        *len = (size_t)PQgetlength(res, 0, 0);
        if ((*wkb = malloc(*len ? *len : 1)))
            memcpy(*wkb, PQgetvalue(res, 0, 0), *len);
        else
            rc = err_set(e, ERR_INTERNAL, "out of memory");
    } else {
        rc = err_set(e, ERR_NOT_FOUND, "%s/%lld: no such feature", l->id, fid);
    }
    PQclear(res);
    return rc;
}

int pg_feature_fid_by_key(store *s, const struct layer *l, const char *key, long long *fid,
                          struct err *e)
{
    struct pg_params p;
    PGresult *res;
    int rc = 0;
    pg_params_init(&p);
    pg_param_text(&p, key);
    p.types[0] = 0; /* as the key column's type */
    res = run_one(s, &p, e, "SELECT fid FROM \"%s\" WHERE \"%s\" = ?", l->id, l->key);
    pg_params_clear(&p);
    if (!res)
        return e->code;
    if (PQntuples(res) == 1)
        *fid = pg_ll(res, 0, 0);
    else
        rc = err_set(e, ERR_NOT_FOUND, "%s: no feature with %s '%s'", l->id, l->key, key);
    PQclear(res);
    return rc;
}

struct keys_run {
    store_key_fn fn;
    void *arg;
};

static int on_key(void *arg, PGresult *res, int i, struct err *e)
{
    struct keys_run *r = arg;
    return r->fn(r->arg, pg_text(res, i, 0), pg_ll(res, i, 1), e);
}

int pg_key_fids(store *s, const struct layer *l, store_key_fn fn, void *arg, struct err *e)
{
    struct keys_run r = {fn, arg};
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT \"%s\"::text, fid FROM \"%s\"", l->key, l->id);
    return pg_each(s, sql, NULL, 0, on_key, &r, e);
}

int pg_layer_count_upto(store *s, const struct layer *l, long long limit, long long *count,
                        struct err *e)
{
    struct pg_params p;
    PGresult *res;
    pg_params_init(&p);
    pg_param_ll(&p, limit);
    res = run_one(s, &p, e, "SELECT count(*) FROM (SELECT 1 FROM \"%s\" LIMIT ?) x", l->id);
    pg_params_clear(&p);
    if (!res)
        return e->code;
    *count = pg_ll(res, 0, 0);
    PQclear(res);
    return 0;
}

/* ---- writing ------------------------------------------------------------------ */

static int key_conflict(const struct layer *l, const struct value *vals, int rc, struct err *e)
{
    if (rc == ERR_CONFLICT && vals[l->key_field].type == VAL_TEXT)
        return err_set(e, ERR_CONFLICT, "%s: a feature with %s '%s' exists already", l->id, l->key,
                       vals[l->key_field].s);
    return rc;
}

/* The geometries SQLite's backend takes (2D, of the seven OGC types, well
 * formed), so that both refuse the same with the same words. */
int pg_wkb_check(const struct layer *l, const unsigned char *wkb, size_t len, struct err *e)
{
    struct buf scratch;
    int bad;
    buf_init(&scratch);
    bad = splite_from_wkb(wkb, len, 4490, &scratch);
    buf_clear(&scratch);
    return bad ? err_set(e, ERR_INVALID, "%s: geometry: not a 2D geometry the database can store",
                         l->id)
               : 0;
}

int pg_feature_insert(store *s, const struct layer *l, const struct value *vals,
                      const unsigned char *wkb, size_t wkb_len, const char *gj, double area_m2,
                      long long *fid, struct err *e)
{
    struct pg_params p;
    PGresult *res;
    struct buf b;
    if (pg_wkb_check(l, wkb, wkb_len, e))
        return e->code;
    buf_init(&b);
    pg_params_init(&p);
    (void)gj; /* the table keeps no text: it is written from the WKB */
    buf_printf(&b, "INSERT INTO \"%s\" (since, area_m2, geom", l->id);
    for (size_t i = 0; i < l->n_fields; i++)
        buf_printf(&b, ", \"%s\"", l->fields[i].name);
    buf_puts(&b, ") VALUES (coalesce(?::text, " PG_NOW "), ?, ST_GeomFromWKB(?, " SRID ")");
    pg_param_text(&p, pg_write_time(s));
    pg_param_double(&p, area_m2);
    pg_param_bytea(&p, wkb, wkb_len);
    for (size_t i = 0; i < l->n_fields; i++) {
        buf_puts(&b, ", ?");
        pg_param_value(&p, &vals[i]);
    }
    buf_puts(&b, ") RETURNING fid");
    res = b.oom ? NULL : pg_run(s, b.data, &p, e);
    if (b.oom)
        err_set(e, ERR_INTERNAL, "out of memory");
    pg_params_clear(&p);
    buf_clear(&b);
    if (!res)
        return key_conflict(l, vals, e->code, e);
    if (fid)
        *fid = pg_ll(res, 0, 0);
    PQclear(res);
    return 0;
}

int pg_feature_insert_blob(store *s, const struct layer *l, const struct value *vals,
                           const unsigned char *blob, size_t blob_len, const char *gj,
                           double area_m2, long long *fid, struct err *e)
{
    struct buf wkb;
    int rc;
    buf_init(&wkb);
    if (splite_to_wkb(blob, blob_len, &wkb))
        rc = err_set(e, ERR_INVALID, "%s: geometry: unreadable", l->id);
    else
        rc = pg_feature_insert(s, l, vals, (const unsigned char *)wkb.data, wkb.len, gj, area_m2,
                               fid, e);
    buf_clear(&wkb);
    return rc;
}

int pg_feature_update(store *s, const struct layer *l, long long fid, long long version,
                      const struct value *vals, const unsigned char *wkb, size_t wkb_len,
                      const char *gj, double area_m2, struct err *e)
{
    struct pg_params p;
    PGresult *res;
    struct buf b;
    char ids[32];
    int rc = 0;
    if (pg_wkb_check(l, wkb, wkb_len, e))
        return e->code;
    buf_init(&b);
    pg_params_init(&p);
    /* the version replaced kept first, in the same statement */
    snprintf(ids, sizeof ids, "{%lld}", fid);
    pg_past_keep(s, l, ids, &b, &p);
    buf_printf(&b,
               "UPDATE \"%s\" t SET since = w.at, version = ?, area_m2 = ?,"
               " geom = ST_GeomFromWKB(?, " SRID ")",
               l->id);
    (void)gj;
    pg_param_ll(&p, version);
    pg_param_double(&p, area_m2);
    pg_param_bytea(&p, wkb, wkb_len);
    for (size_t i = 0; i < l->n_fields; i++) {
        buf_printf(&b, ", \"%s\" = ?", l->fields[i].name);
        pg_param_value(&p, &vals[i]);
    }
    buf_puts(&b, " FROM w WHERE t.fid = ANY($2::bigint[])");
    res = b.oom ? NULL : pg_run(s, b.data, &p, e);
    if (b.oom)
        err_set(e, ERR_INTERNAL, "out of memory");
    pg_params_clear(&p);
    buf_clear(&b);
    if (!res)
        return key_conflict(l, vals, e->code, e);
    if (atoll(PQcmdTuples(res)) != 1)
        rc = err_set(e, ERR_NOT_FOUND, "%s/%lld: no such feature", l->id, fid);
    PQclear(res);
    return rc;
}

int pg_feature_delete(store *s, const struct layer *l, long long fid, struct err *e)
{
    struct pg_params p;
    PGresult *res;
    struct buf b;
    char ids[32];
    int rc = 0;
    buf_init(&b);
    pg_params_init(&p);
    snprintf(ids, sizeof ids, "{%lld}", fid);
    pg_past_keep(s, l, ids, &b, &p); /* the version deleted kept */
    buf_printf(&b, "DELETE FROM \"%s\" WHERE fid = ANY($2::bigint[])", l->id);
    res = b.oom ? NULL : pg_run(s, b.data, &p, e);
    if (b.oom)
        err_set(e, ERR_INTERNAL, "out of memory");
    pg_params_clear(&p);
    buf_clear(&b);
    if (!res)
        return e->code;
    if (atoll(PQcmdTuples(res)) != 1)
        rc = err_set(e, ERR_NOT_FOUND, "%s/%lld: no such feature", l->id, fid);
    PQclear(res);
    return rc;
}

/* ---- bulk loads ----------------------------------------------------------------- */

/* A bulk load into an empty layer (inside the caller's transaction): the
 * spatial index is dropped and built again in one pass at the end, which
 * is several times faster than growing it row by row; a rollback brings
 * it back. */
int pg_bulk_begin(store *s, const struct layer *l, struct err *e)
{
    char sql[256];
    snprintf(sql, sizeof sql, "DROP INDEX IF EXISTS \"%s_geom\"", l->id);
    return pg_exec(s, sql, e);
}

int pg_bulk_end(store *s, const struct layer *l, struct store_box *boxes, size_t n, struct err *e)
{
    char sql[512];
    (void)boxes;
    (void)n;
    /* the planner's statistics at once, not when autovacuum comes by */
    snprintf(sql, sizeof sql,
             "CREATE INDEX \"%1$s_geom\" ON \"%1$s\" USING gist (geom);"
             " ANALYZE \"%1$s\";"
             " SELECT setval(pg_get_serial_sequence('\"%1$s\"', 'fid'),"
             " greatest((SELECT max(fid) FROM \"%1$s\"), 1));",
             l->id);
    return pg_exec(s, sql, e);
}

int pg_bulk_first_fid(store *s, const struct layer *l, long long *fid, struct err *e)
{
    PGresult *res;
    /* the sequence's next (ids are never used again) or past the table's own */
    res = run_one(s, NULL, e,
                  "SELECT greatest((SELECT CASE WHEN is_called THEN last_value ELSE"
                  " last_value - 1 END FROM \"%1$s_fid_seq\"), (SELECT coalesce(max(fid), 0)"
                  " FROM \"%1$s\")) + 1",
                  l->id);
    if (!res)
        return e->code;
    *fid = pg_ll(res, 0, 0);
    PQclear(res);
    return 0;
}

/* COPY text: backslash, tab, newline and carriage return escaped. */
static void copy_text(struct buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '\\':
            buf_puts(b, "\\\\");
            break;
        case '\t':
            buf_puts(b, "\\t");
            break;
        case '\n':
            buf_puts(b, "\\n");
            break;
        case '\r':
            buf_puts(b, "\\r");
            break;
        default:
            buf_putc(b, *s);
        }
    }
}

/* The geometry as hex EWKB with the storage SRID, which COPY reads into a
 * geometry(Geometry, 4490) column. */
static void copy_ewkb(struct buf *b, const unsigned char *wkb, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    unsigned char head[9];
    uint32_t type, srid = 4490;
    int le;
    if (n < 5)
        return;
    le = wkb[0] == 1;
    type = le ? (uint32_t)wkb[1] | (uint32_t)wkb[2] << 8 | (uint32_t)wkb[3] << 16 |
                    (uint32_t)wkb[4] << 24
              : (uint32_t)wkb[4] | (uint32_t)wkb[3] << 8 | (uint32_t)wkb[2] << 16 |
                    (uint32_t)wkb[1] << 24;
    type |= 0x20000000u;
    head[0] = wkb[0];
    for (int i = 0; i < 4; i++) {
        head[1 + i] = (unsigned char)(le ? type >> (8 * i) : type >> (8 * (3 - i)));
        head[5 + i] = (unsigned char)(le ? srid >> (8 * i) : srid >> (8 * (3 - i)));
    }
    for (int i = 0; i < 9; i++) {
        buf_putc(b, hex[head[i] >> 4]);
        buf_putc(b, hex[head[i] & 15]);
    }
    for (size_t i = 5; i < n; i++) {
        buf_putc(b, hex[wkb[i] >> 4]);
        buf_putc(b, hex[wkb[i] & 15]);
    }
}

int pg_bulk_insert(store *s, const struct layer *l, long long first_fid,
                   const struct store_new_row *rows, size_t n, struct err *e)
{
    PGconn *conn = s->pg->conn;
    struct buf b, wkb;
    PGresult *res;
    char since[INSTANT_LEN];
    int rc = 0;
    if (pg_write_time(s)) {
        snprintf(since, sizeof since, "%s", pg_write_time(s));
    } else { /* COPY takes no expressions: the database's clock asked first */
        if (!(res = pg_run(s, "SELECT " PG_NOW, NULL, e)))
            return e->code;
        snprintf(since, sizeof since, "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
    }
    buf_init(&b);
    buf_init(&wkb);
    buf_printf(&b, "COPY \"%s\" (since, fid, version, area_m2, geom", l->id);
    for (size_t i = 0; i < l->n_fields; i++)
        buf_printf(&b, ", \"%s\"", l->fields[i].name);
    buf_puts(&b, ") FROM STDIN");
    if (b.oom)
        return err_set(e, ERR_INTERNAL, "out of memory");
    res = PQexec(conn, b.data);
    if (!res || PQresultStatus(res) != PGRES_COPY_IN) {
        rc = pg_err(s, res, e, l->id);
        PQclear(res);
        buf_clear(&b);
        return rc;
    }
    PQclear(res);
    for (size_t r = 0; r < n && !rc; r++) {
        const struct store_new_row *row = &rows[r];
        buf_reset(&b);
        buf_reset(&wkb);
        if (splite_to_wkb(row->blob, row->blob_len, &wkb)) {
            rc = err_set(e, ERR_INVALID, "%s: geometry: unreadable", l->id);
            break;
        }
        buf_printf(&b, "%s\t%lld\t%lld\t%.17g\t", since, first_fid + (long long)r,
                   row->version ? row->version : 1, row->area_m2);
        copy_ewkb(&b, (const unsigned char *)wkb.data, wkb.len);
        for (size_t i = 0; i < l->n_fields; i++) {
            const struct value *v = &row->vals[i];
            buf_putc(&b, '\t');
            switch (v->type) {
            case VAL_INT:
                buf_printf(&b, "%lld", v->i);
                break;
            case VAL_REAL:
                buf_printf(&b, "%.17g", v->d);
                break;
            case VAL_TEXT:
                copy_text(&b, v->s);
                break;
            default:
                buf_puts(&b, "\\N");
            }
        }
        buf_putc(&b, '\n');
        if (b.oom)
            rc = err_set(e, ERR_INTERNAL, "out of memory");
        else if (PQputCopyData(conn, b.data, (int)b.len) != 1)
            rc = pg_err(s, NULL, e, l->id);
    }
    if (PQputCopyEnd(conn, rc ? "onemap: load stopped" : NULL) != 1 && !rc)
        rc = pg_err(s, NULL, e, l->id);
    while ((res = PQgetResult(conn))) {
        if (!rc && PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = pg_err(s, res, e, l->id);
        PQclear(res);
    }
    buf_clear(&b);
    buf_clear(&wkb);
    return rc;
}
