/* store_test: the store seam through core/store.h alone, so that the same
 * suite can run against any backend — init and the layer registry, feature
 * insert/read/update/delete with keys and versions, queries by box, by
 * equality, sorted and paged (compared with a brute-force selection written
 * here over the same boxes), the kept counts, totals and extent after
 * inserts, updates and deletes, tokens and history. Geometries are written
 * here as WKB by hand; every expected value comes from the test's own data. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tempdb.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

/* The box b2 of the update tests as GeoJSON, as written from its WKB. */
#define B2_GEOJSON                                                                                 \
    "{\"type\":\"Polygon\",\"coordinates\":[[[118.02,29.02],[118.03,29.02],[118.03,29.04],"        \
    "[118.02,29.04],[118.02,29.02]]]}"

static const char *SCHEMA = "{\"version\":1,\"layers\":["
                            "{\"id\":\"plots\",\"key\":\"code\",\"group_by\":\"kind\",\"fields\":["
                            "{\"name\":\"code\",\"type\":\"string\",\"required\":true},"
                            "{\"name\":\"kind\",\"type\":\"string\",\"enum\":[\"farm\",\"wood\"]},"
                            "{\"name\":\"households\",\"type\":\"integer\"},"
                            "{\"name\":\"share\",\"type\":\"number\"}]},"
                            "{\"id\":\"grids\",\"key\":\"code\",\"fields\":["
                            "{\"name\":\"code\",\"type\":\"string\",\"required\":true},"
                            "{\"name\":\"name\",\"type\":\"string\"}]}]}";

enum { F_CODE, F_KIND, F_HH, F_SHARE };

struct fixture {
    char dir[64];
    char path[128];
    store *s;
    struct layers *ls;
    const struct layer *plots, *grids;
};

/* ---- helpers ----------------------------------------------------------- */

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_f64(unsigned char *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(u >> (8 * i));
}

/* A little-endian WKB Polygon of the box; out holds 93 bytes. */
static size_t box_wkb(const double b[4], unsigned char *out)
{
    const double ring[5][2] = {
        {b[0], b[1]}, {b[2], b[1]}, {b[2], b[3]}, {b[0], b[3]}, {b[0], b[1]}};
    out[0] = 1;
    put_u32(out + 1, 3);
    put_u32(out + 5, 1);
    put_u32(out + 9, 5);
    for (int i = 0; i < 5; i++) {
        put_f64(out + 13 + 16 * i, ring[i][0]);
        put_f64(out + 13 + 16 * i + 8, ring[i][1]);
    }
    return 93;
}

static double get_f64(const unsigned char *p, int little)
{
    uint64_t u = 0;
    double d;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)p[little ? i : 7 - i] << (8 * i);
    memcpy(&d, &u, 8);
    return d;
}

static uint32_t get_u32(const unsigned char *p, int little)
{
    uint32_t u = 0;
    for (int i = 0; i < 4; i++)
        u |= (uint32_t)p[little ? i : 3 - i] << (8 * i);
    return u;
}

static int fx_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct err e;
    if (tempdb_new(f->path, sizeof f->path, f->dir))
        return -1;
    if (store_open(f->path, STORE_CREATE, &f->s, &e) || store_init(f->s, SCHEMA, &e) ||
        store_layers_get(f->s, &f->ls, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    f->plots = layers_find(f->ls, "plots");
    f->grids = layers_find(f->ls, "grids");
    *state = f;
    return f->plots && f->grids ? 0 : -1;
}

static int fx_teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    layers_free(f->ls);
    tempdb_remove(f->path, f->dir);
    free(f);
    return 0;
}

/* Inserts a plot with the box as geometry; returns its id. */
static long long add_plot(struct fixture *f, const char *code, const char *kind, long long hh,
                          double share, const double b[4], double area)
{
    struct value v[4] = {{VAL_TEXT, 0, 0, code},
                         {kind ? VAL_TEXT : VAL_NULL, 0, 0, kind},
                         {VAL_INT, hh, 0, NULL},
                         {VAL_REAL, 0, share, NULL}};
    unsigned char wkb[93];
    char gj[256];
    long long fid = 0;
    struct err e;
    snprintf(gj, sizeof gj,
             "{\"type\":\"Polygon\",\"coordinates\":[[[%g,%g],[%g,%g],[%g,%g],"
             "[%g,%g],[%g,%g]]]}",
             b[0], b[1], b[2], b[1], b[2], b[3], b[0], b[3], b[0], b[1]);
    if (store_feature_insert(f->s, f->plots, v, wkb, box_wkb(b, wkb), gj, area, &fid, &e))
        fail_msg("insert %s: %s", code, e.msg);
    return fid;
}

#define MAX_ROWS 256

/* What a query's rows look like, copied out of the callback. */
struct rows {
    size_t n;
    long long fid[MAX_ROWS], version[MAX_ROWS];
    double area[MAX_ROWS];
    char code[MAX_ROWS][16], kind[MAX_ROWS][16], gj[MAX_ROWS][256];
    enum value_type kind_type[MAX_ROWS], hh_type[MAX_ROWS], share_type[MAX_ROWS];
    long long hh[MAX_ROWS];
    double share[MAX_ROWS];
    double mbr[MAX_ROWS][4];
    int have_mbr[MAX_ROWS];
    unsigned char wkb[MAX_ROWS][128];
    size_t wkb_len[MAX_ROWS];
    int stop_after;
};

static int collect(void *arg, const struct store_row *row, struct err *e)
{
    struct rows *r = arg;
    size_t i = r->n++;
    (void)e;
    assert_true(i < MAX_ROWS);
    r->fid[i] = row->fid;
    r->version[i] = row->version;
    r->area[i] = row->area_m2;
    snprintf(r->gj[i], sizeof r->gj[i], "%s", row->gj ? row->gj : "(null)");
    assert_int_equal(row->vals[F_CODE].type, VAL_TEXT);
    snprintf(r->code[i], sizeof r->code[i], "%s", row->vals[F_CODE].s);
    r->kind_type[i] = row->vals[F_KIND].type;
    if (row->vals[F_KIND].type == VAL_TEXT)
        snprintf(r->kind[i], sizeof r->kind[i], "%s", row->vals[F_KIND].s);
    r->hh_type[i] = row->vals[F_HH].type;
    r->hh[i] = row->vals[F_HH].i;
    r->share_type[i] = row->vals[F_SHARE].type;
    r->share[i] = row->vals[F_SHARE].d;
    memcpy(r->mbr[i], row->mbr, sizeof row->mbr);
    r->have_mbr[i] = row->have_mbr;
    if (row->wkb && row->wkb_len <= sizeof r->wkb[i]) {
        memcpy(r->wkb[i], row->wkb, row->wkb_len);
        r->wkb_len[i] = row->wkb_len;
    }
    return r->stop_after && r->n >= (size_t)r->stop_after ? 1 : 0;
}

static void query_init(struct store_query *q, const struct layer *l)
{
    memset(q, 0, sizeof *q);
    q->layer = l;
    q->limit = -1;
}

static struct rows *run(struct fixture *f, const struct store_query *q)
{
    struct rows *r = calloc(1, sizeof *r);
    struct err e;
    if (store_query_rows(f->s, q, collect, r, &e))
        fail_msg("query: %s", e.msg);
    return r;
}

static long long count(struct fixture *f, const struct store_query *q)
{
    long long n = -1;
    struct err e;
    if (store_query_count(f->s, q, &n, &e))
        fail_msg("count: %s", e.msg);
    return n;
}

/* Checks that the WKB holds the box's ring (any byte order). */
static void assert_wkb_box(const unsigned char *w, size_t n, const double b[4])
{
    const double ring[5][2] = {
        {b[0], b[1]}, {b[2], b[1]}, {b[2], b[3]}, {b[0], b[3]}, {b[0], b[1]}};
    int little;
    assert_int_equal(n, 93);
    little = w[0] == 1;
    assert_int_equal(get_u32(w + 1, little) % 1000, 3);
    assert_int_equal(get_u32(w + 5, little), 1);
    assert_int_equal(get_u32(w + 9, little), 5);
    for (int i = 0; i < 5; i++) {
        assert_true(get_f64(w + 13 + 16 * i, little) == ring[i][0]);
        assert_true(get_f64(w + 13 + 16 * i + 8, little) == ring[i][1]);
    }
}

/* ---- init and registry --------------------------------------------------- */

static void test_init_registry(void **state)
{
    struct fixture *f = *state;
    struct err e;
    assert_int_equal(f->ls->n, 2);
    assert_string_equal(f->plots->key, "code");
    assert_int_equal(f->plots->key_field, F_CODE);
    assert_string_equal(f->plots->group_by, "kind");
    assert_int_equal(f->plots->n_fields, 4);
    assert_string_equal(f->plots->fields[F_SHARE].name, "share");
    assert_int_equal(f->plots->fields[F_HH].type, FIELD_INTEGER);
    assert_int_equal(f->plots->fields[F_KIND].n_enums, 2);
    assert_string_equal(f->plots->fields[F_KIND].enums[1], "wood");
    assert_string_equal(f->ls->json, SCHEMA);
    /* a second init is refused and changes nothing */
    assert_int_equal(store_init(f->s, SCHEMA, &e), ERR_CONFLICT);
    assert_string_equal(e.msg, "database is already initialised");
    assert_int_equal(store_degraded(f->s), 0);
}

static void test_init_bad_schema(void **state)
{
    char dir[64], path[128];
    store *s = NULL;
    struct layers *ls = NULL;
    struct err e;
    (void)state;
    assert_int_equal(tempdb_new(path, sizeof path, dir), 0);
    assert_int_equal(store_open(path, STORE_CREATE, &s, &e), 0);
    assert_int_equal(store_init(s,
                                "{\"layers\":[{\"id\":\"x\",\"key\":\"nope\",\"fields\":"
                                "[{\"name\":\"a\",\"type\":\"string\"}]}]}",
                                &e),
                     ERR_INVALID);
    assert_string_equal(e.msg, "layers: x.key: must name one of its fields");
    /* nothing was made: not an onemap database, and it can be initialised */
    assert_int_equal(store_layers_get(s, &ls, &e), ERR_INVALID);
    assert_null(ls);
    assert_non_null(strstr(e.msg, "not an onemap database"));
    assert_int_equal(store_init(s, SCHEMA, &e), 0);
    assert_int_equal(store_layers_get(s, &ls, &e), 0);
    assert_int_equal(ls->n, 2);
    layers_free(ls);
    store_close(s);
    /* reopened: the registry is still there */
    assert_int_equal(store_open(path, 0, &s, &e), 0);
    assert_int_equal(store_layers_get(s, &ls, &e), 0);
    assert_non_null(layers_find(ls, "grids"));
    layers_free(ls);
    store_close(s);
    tempdb_remove(path, dir);
}

static void test_open_missing(void **state)
{
    store *s = (store *)1;
    struct err e;
    char missing[256];
    (void)state;
    if (tempdb_on_pg()) { /* the cluster's URL with a database that is not there */
        char url[256], dir[64];
        assert_int_equal(tempdb_new(url, sizeof url, dir), 0);
        tempdb_remove(url, dir);
        snprintf(missing, sizeof missing, "%s", url);
    } else {
        snprintf(missing, sizeof missing, "/nonexistent-dir-of-store-test/x.db");
    }
    assert_int_not_equal(store_open(missing, 0, &s, &e), 0);
    assert_null(s);
    assert_non_null(strstr(e.msg, strrchr(missing, '/') + 1));
}

/* ---- single features ----------------------------------------------------- */

static void test_insert_get(void **state)
{
    struct fixture *f = *state;
    const double b[4] = {118.5, 29.25, 118.5078125, 29.2578125};
    long long fid = add_plot(f, "P001", "farm", 12, 0.375, b, 777.25), fid2;
    struct store_query q;
    struct rows *r;
    unsigned char *wkb = NULL;
    size_t len = 0;
    struct err e;
    assert_true(fid > 0);
    query_init(&q, f->plots);
    q.fid = fid;
    q.want_wkb = 1;
    r = run(f, &q);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->fid[0], fid);
    assert_int_equal(r->version[0], 1);
    assert_true(r->area[0] == 777.25);
    assert_string_equal(r->code[0], "P001");
    assert_int_equal(r->kind_type[0], VAL_TEXT);
    assert_string_equal(r->kind[0], "farm");
    assert_int_equal(r->hh_type[0], VAL_INT);
    assert_int_equal(r->hh[0], 12);
    assert_int_equal(r->share_type[0], VAL_REAL);
    assert_true(r->share[0] == 0.375);
    assert_non_null(strstr(r->gj[0], "\"Polygon\""));
    assert_non_null(strstr(r->gj[0], "[118.5,29.25]"));
    assert_wkb_box(r->wkb[0], r->wkb_len[0], b);
    free(r);

    assert_int_equal(store_feature_wkb(f->s, f->plots, fid, &wkb, &len, &e), 0);
    assert_wkb_box(wkb, len, b);
    free(wkb);
    assert_int_equal(store_feature_wkb(f->s, f->plots, fid + 100, &wkb, &len, &e), ERR_NOT_FOUND);
    assert_null(wkb);
    char want[64];
    snprintf(want, sizeof want, "plots/%lld: no such feature", fid + 100);
    assert_string_equal(e.msg, want);

    /* by key */
    assert_int_equal(store_feature_fid_by_key(f->s, f->plots, "P001", &fid2, &e), 0);
    assert_int_equal(fid2, fid);
    assert_int_equal(store_feature_fid_by_key(f->s, f->plots, "P999", &fid2, &e), ERR_NOT_FOUND);
    assert_string_equal(e.msg, "plots: no feature with code 'P999'");

    /* NULL values come back as NULL */
    {
        struct value v[4] = {{VAL_TEXT, 0, 0, "P002"},
                             {VAL_NULL, 0, 0, NULL},
                             {VAL_NULL, 0, 0, NULL},
                             {VAL_NULL, 0, 0, NULL}};
        unsigned char w[93];
        long long id;
        assert_int_equal(
            store_feature_insert(f->s, f->plots, v, w, box_wkb(b, w), "{}", 1, &id, &e), 0);
        assert_true(id > fid);
        query_init(&q, f->plots);
        q.fid = id;
        r = run(f, &q);
        assert_int_equal(r->n, 1);
        assert_int_equal(r->kind_type[0], VAL_NULL);
        assert_int_equal(r->hh_type[0], VAL_NULL);
        assert_int_equal(r->share_type[0], VAL_NULL);
        free(r);
    }
}

static void test_insert_conflict_and_bad_wkb(void **state)
{
    struct fixture *f = *state;
    const double b[4] = {118, 29, 118.01, 29.01};
    struct value v[4] = {{VAL_TEXT, 0, 0, "P001"},
                         {VAL_NULL, 0, 0, NULL},
                         {VAL_NULL, 0, 0, NULL},
                         {VAL_NULL, 0, 0, NULL}};
    unsigned char wkb[93], junk[5] = {1, 99, 0, 0, 0};
    long long fid = -7, n;
    double area;
    struct err e;
    add_plot(f, "P001", "farm", 1, 0.5, b, 10);
    assert_int_equal(
        store_feature_insert(f->s, f->plots, v, wkb, box_wkb(b, wkb), "{}", 5, &fid, &e),
        ERR_CONFLICT);
    assert_string_equal(e.msg, "plots: a feature with code 'P001' exists already");
    assert_int_equal(fid, -7);
    v[0].s = "P002";
    assert_int_equal(store_feature_insert(f->s, f->plots, v, junk, sizeof junk, "{}", 5, &fid, &e),
                     ERR_INVALID);
    assert_string_equal(e.msg, "plots: geometry: not a 2D geometry the database can store");
    /* neither changed the totals */
    assert_int_equal(store_layer_totals(f->s, f->plots, &n, &area, &e), 0);
    assert_int_equal(n, 1);
    assert_true(area == 10);
}

static void test_update_delete(void **state)
{
    struct fixture *f = *state;
    const double b1[4] = {118, 29, 118.01, 29.01}, b2[4] = {118.02, 29.02, 118.03, 29.04};
    long long a = add_plot(f, "P001", "farm", 1, 0.5, b1, 100);
    long long b = add_plot(f, "P002", "wood", 2, 0.25, b1, 50);
    struct value v[4] = {{VAL_TEXT, 0, 0, "P003"},
                         {VAL_TEXT, 0, 0, "wood"},
                         {VAL_INT, 99, 0, NULL},
                         {VAL_NULL, 0, 0, NULL}};
    unsigned char wkb[93];
    size_t wlen = box_wkb(b2, wkb);
    struct store_query q;
    struct rows *r;
    long long n, fid;
    double area;
    char want[64];
    struct err e;

    assert_int_equal(store_feature_update(f->s, f->plots, a, 2, v, wkb, wlen, "{\"u\":1}", 300, &e),
                     0);
    query_init(&q, f->plots);
    q.fid = a;
    q.want_wkb = 1;
    r = run(f, &q);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->version[0], 2);
    assert_string_equal(r->code[0], "P003");
    assert_string_equal(r->kind[0], "wood");
    assert_int_equal(r->hh[0], 99);
    assert_int_equal(r->share_type[0], VAL_NULL);
    assert_true(r->area[0] == 300);
    /* SQLite keeps the text given; PostgreSQL writes it from the WKB */
    assert_string_equal(r->gj[0], store_dialect(f->s) == STORE_PG ? B2_GEOJSON : "{\"u\":1}");
    assert_wkb_box(r->wkb[0], r->wkb_len[0], b2);
    free(r);
    /* the old key is free, the new one found */
    assert_int_equal(store_feature_fid_by_key(f->s, f->plots, "P001", &fid, &e), ERR_NOT_FOUND);
    assert_int_equal(store_feature_fid_by_key(f->s, f->plots, "P003", &fid, &e), 0);
    assert_int_equal(fid, a);
    /* the update moved the feature in the spatial index */
    query_init(&q, f->plots);
    q.n_rects = 1;
    memcpy(q.rects[0], b2, sizeof b2);
    assert_int_equal(count(f, &q), 1);
    memcpy(q.rects[0], (double[4]){117.99, 28.99, 118.011, 29.011}, sizeof b2);
    assert_int_equal(count(f, &q), 1); /* only b */

    /* key clash with b */
    v[0].s = "P002";
    assert_int_equal(store_feature_update(f->s, f->plots, a, 3, v, wkb, wlen, "{}", 1, &e),
                     ERR_CONFLICT);
    assert_string_equal(e.msg, "plots: a feature with code 'P002' exists already");
    /* a missing feature */
    v[0].s = "P009";
    assert_int_equal(store_feature_update(f->s, f->plots, b + 1000, 2, v, wkb, wlen, "{}", 1, &e),
                     ERR_NOT_FOUND);
    snprintf(want, sizeof want, "plots/%lld: no such feature", b + 1000);
    assert_string_equal(e.msg, want);
    assert_int_equal(store_layer_totals(f->s, f->plots, &n, &area, &e), 0);
    assert_int_equal(n, 2);
    assert_true(area == 350);

    /* delete */
    assert_int_equal(store_feature_delete(f->s, f->plots, b, &e), 0);
    assert_int_equal(store_feature_delete(f->s, f->plots, b, &e), ERR_NOT_FOUND);
    snprintf(want, sizeof want, "plots/%lld: no such feature", b);
    assert_string_equal(e.msg, want);
    query_init(&q, f->plots);
    q.fid = b;
    assert_int_equal(count(f, &q), 0);
    assert_int_equal(store_layer_totals(f->s, f->plots, &n, &area, &e), 0);
    assert_int_equal(n, 1);
    assert_true(area == 300);
    assert_int_equal(store_layer_count_upto(f->s, f->plots, 10, &n, &e), 0);
    assert_int_equal(n, 1);
}

static void test_transactions(void **state)
{
    struct fixture *f = *state;
    const double b[4] = {118, 29, 118.01, 29.01};
    long long n, v0, v1, v2;
    struct err e;
    assert_int_equal(store_data_version(f->s, &v0, &e), 0);
    assert_int_equal(store_begin(f->s, &e), 0);
    add_plot(f, "P001", NULL, 0, 0, b, 10);
    add_plot(f, "P002", NULL, 0, 0, b, 10);
    store_rollback(f->s);
    assert_int_equal(store_layer_totals(f->s, f->plots, &n, NULL, &e), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_layer_count_upto(f->s, f->plots, 5, &n, &e), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_data_version(f->s, &v1, &e), 0);
    assert_int_equal(v1, v0);
    assert_int_equal(store_begin(f->s, &e), 0);
    add_plot(f, "P001", NULL, 0, 0, b, 10);
    add_plot(f, "P002", NULL, 0, 0, b, 10);
    add_plot(f, "P003", NULL, 0, 0, b, 10);
    assert_int_equal(store_commit(f->s, &e), 0);
    assert_int_equal(store_layer_count_upto(f->s, f->plots, 2, &n, &e), 0);
    assert_int_equal(n, 2); /* counted no further than the limit */
    assert_int_equal(store_layer_count_upto(f->s, f->plots, 10, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_int_equal(store_data_version(f->s, &v2, &e), 0);
    assert_true(v2 > v1);
    /* the other layer stayed empty */
    assert_int_equal(store_layer_totals(f->s, f->grids, &n, NULL, &e), 0);
    assert_int_equal(n, 0);
}

/* Plots P001 and P002 over box b, committed. */
static void add_two_plots(struct fixture *f, const double b[4])
{
    struct err e;
    assert_int_equal(store_begin(f->s, &e), 0);
    add_plot(f, "P001", NULL, 0, 0, b, 10);
    add_plot(f, "P002", NULL, 0, 0, b, 10);
    assert_int_equal(store_commit(f->s, &e), 0);
}

/* A read begun solo: its first statement alone, without a transaction;
 * a second one is refused (ERR_AGAIN) until the read is begun anew without
 * solo, and then both run in one transaction. SQLite ignores solo. */
static void test_read_solo(void **state)
{
    struct fixture *f = *state;
    const double b[4] = {118, 29, 118.01, 29.01};
    long long n = -1;
    int pg = store_dialect(f->s) == STORE_PG;
    struct err e;
    add_two_plots(f, b);

    store_read_begin(f->s, 1);
    assert_int_equal(store_layer_count_upto(f->s, f->plots, 10, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_int_equal(store_read_again(f->s), 0);
    assert_int_equal(store_read_count(f->s), pg ? 1 : 0);
    n = -1;
    if (pg) {
        assert_int_equal(store_layer_count_upto(f->s, f->plots, 10, &n, &e), ERR_AGAIN);
        assert_int_equal(n, -1);
        assert_int_equal(store_read_again(f->s), 1);
        /* and every statement after it */
        assert_int_equal(store_layer_totals(f->s, f->plots, &n, NULL, &e), ERR_AGAIN);
    } else {
        assert_int_equal(store_layer_count_upto(f->s, f->plots, 10, &n, &e), 0);
        assert_int_equal(n, 2);
        assert_int_equal(store_read_again(f->s), 0);
    }
    store_read_end(f->s);

    store_read_begin(f->s, 0); /* again, in one transaction */
    assert_int_equal(store_read_again(f->s), 0);
    assert_int_equal(store_layer_count_upto(f->s, f->plots, 10, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_int_equal(store_layer_totals(f->s, f->plots, &n, NULL, &e), 0);
    assert_int_equal(n, 2);
    assert_int_equal(store_read_count(f->s), pg ? 2 : 0);
    store_read_end(f->s);

    /* a write after a solo read's end is a write as any */
    store_read_begin(f->s, 1);
    assert_int_equal(store_layer_count_upto(f->s, f->plots, 10, &n, &e), 0);
    store_read_end(f->s);
    assert_int_equal(store_begin(f->s, &e), 0);
    add_plot(f, "P003", NULL, 0, 0, b, 10);
    assert_int_equal(store_commit(f->s, &e), 0);
    assert_int_equal(store_layer_count_upto(f->s, f->plots, 10, &n, &e), 0);
    assert_int_equal(n, 3);
}

/* ---- queries ------------------------------------------------------------- */

#define GX 8
#define GY 6
#define STEP 0.0078125 /* 1/128 degree: every edge exact */

struct cell {
    long long fid;
    double b[4];
    char code[16];
    const char *kind;
    long long hh;
    double area;
};

static void fill_grid(struct fixture *f, struct cell *cells)
{
    struct err e;
    assert_int_equal(store_begin(f->s, &e), 0);
    for (int i = 0; i < GX * GY; i++) {
        struct cell *c = &cells[i];
        int x = i % GX, y = i / GX;
        c->b[0] = 118 + x * STEP;
        c->b[1] = 29 + y * STEP;
        c->b[2] = c->b[0] + (i % 3 ? STEP : STEP / 2);
        c->b[3] = c->b[1] + (i % 3 ? STEP : STEP / 2);
        snprintf(c->code, sizeof c->code, "G%03d", i);
        c->kind = i % 4 == 0 ? NULL : i % 2 ? "farm" : "wood";
        c->hh = (i * 5) % 7;
        c->area = 1000 + i;
        c->fid = add_plot(f, c->code, c->kind, c->hh, i / 8.0, c->b, c->area);
    }
    assert_int_equal(store_commit(f->s, &e), 0);
}

static int meets(const double a[4], const double b[4])
{
    return a[0] <= b[2] && a[2] >= b[0] && a[1] <= b[3] && a[3] >= b[1];
}

static void test_query_rects(void **state)
{
    struct fixture *f = *state;
    static struct cell cells[GX * GY];
    const double boxes[][4] = {
        {118.01, 29.01, 118.03, 29.02},           /* inside */
        {117, 28, 117.5, 28.5},                   /* nothing */
        {118 + 2 * STEP, 29, 118 + 2 * STEP, 30}, /* a line on cell edges: touching counts */
        {100, 0, 130, 50},                        /* everything */
    };
    fill_grid(f, cells);
    for (size_t k = 0; k < sizeof boxes / sizeof boxes[0]; k++) {
        struct store_query q;
        struct rows *r;
        size_t want = 0, j = 0;
        query_init(&q, f->plots);
        q.n_rects = 1;
        memcpy(q.rects[0], boxes[k], sizeof boxes[k]);
        r = run(f, &q);
        for (int i = 0; i < GX * GY; i++) {
            if (!meets(cells[i].b, boxes[k]))
                continue;
            want++;
            /* rows come in id order */
            assert_true(j < r->n);
            assert_int_equal(r->fid[j], cells[i].fid);
            assert_string_equal(r->code[j], cells[i].code);
            assert_true(r->have_mbr[j]);
            /* the boxes cover the geometry's, rounded outwards by at most a float's step */
            for (int m = 0; m < 2; m++) {
                assert_true(r->mbr[j][m] <= cells[i].b[m]);
                assert_true(r->mbr[j][m] > cells[i].b[m] - 1e-4);
                assert_true(r->mbr[j][m + 2] >= cells[i].b[m + 2]);
                assert_true(r->mbr[j][m + 2] < cells[i].b[m + 2] + 1e-4);
            }
            j++;
        }
        assert_int_equal(r->n, want);
        assert_int_equal(count(f, &q), (long long)want);
        free(r);
    }
    /* two rectangles (as across the antimeridian): the union, each once */
    {
        struct store_query q;
        const double r0[4] = {118, 29, 118 + STEP / 4, 29 + STEP / 4};
        const double r1[4] = {118 + 7.5 * STEP, 29 + 5.5 * STEP, 119, 30};
        struct rows *r;
        query_init(&q, f->plots);
        q.n_rects = 2;
        memcpy(q.rects[0], r0, sizeof r0);
        memcpy(q.rects[1], r1, sizeof r1);
        r = run(f, &q);
        assert_int_equal(r->n, 2);
        assert_int_equal(r->fid[0], cells[0].fid);
        assert_int_equal(r->fid[1], cells[GX * GY - 1].fid);
        assert_int_equal(count(f, &q), 2);
        free(r);
    }
}

static int cmp_ll(const void *a, const void *b);

/* The rows of one of several queries run together, and the order in which
 * all of them came (the query of each row, in a log they share). */
#define MANY_ROWS 2100
struct many {
    long long fid[MANY_ROWS];
    size_t n;
    size_t stop_after;
    int idx;
    int *log;
    size_t *log_n;
};

static int many_row(void *arg, const struct store_row *row, struct err *e)
{
    struct many *m = arg;
    (void)e;
    assert_true(m->n < MANY_ROWS);
    m->fid[m->n++] = row->fid;
    if (m->log)
        m->log[(*m->log_n)++] = m->idx;
    assert_non_null(row->wkb);
    return m->stop_after && m->n >= m->stop_after ? 1 : 0;
}

/* Renames a column of the grids table behind the store's back (PostgreSQL:
 * through the test cluster's psql). 0 on success. */
static int grids_name_column(struct fixture *f, const char *from, const char *to)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "'%s' psql '%s' -q -d '%s' -c 'ALTER TABLE grids RENAME COLUMN %s TO %s' "
             ">/dev/null 2>&1",
             getenv("ONEMAP_TEST_CLUSTER"), getenv("ONEMAP_TEST_PG"), f->dir, from, to);
    return system(cmd);
}

/* A read begun solo whose first statements are several at once (a point's
 * look-up in every layer): one round trip, counted as one, with a
 * transaction of its own that ends in it: a statement after it asks for the
 * read to run again, and the connection is left with no transaction (a
 * write after it writes). A statement of them that fails leaves none open
 * either. */
static void test_read_solo_many(void **state)
{
    struct fixture *f = *state;
    const double b[4] = {118, 29, 118.01, 29.01};
    struct store_query qs[3];
    struct many got[3];
    void *args[3];
    long long n = -1;
    int pg = store_dialect(f->s) == STORE_PG;
    struct err e;
    add_two_plots(f, b);
    memset(got, 0, sizeof got);
    for (int i = 0; i < 3; i++) {
        query_init(&qs[i], i == 1 ? f->grids : f->plots);
        qs[i].n_rects = 1;
        qs[i].want_wkb = 1;
        qs[i].rects[0][0] = qs[i].rects[0][2] = 118.005;
        qs[i].rects[0][1] = qs[i].rects[0][3] = 29.005;
        args[i] = &got[i];
    }

    store_read_begin(f->s, 1);
    if (store_query_rows_many(f->s, qs, 3, many_row, args, &e))
        fail_msg("solo look-up: %s", e.msg);
    assert_int_equal(got[0].n, 2);
    assert_int_equal(got[1].n, 0);
    assert_int_equal(got[2].n, 2);
    assert_int_equal(store_read_again(f->s), 0);
    assert_int_equal(store_read_count(f->s), pg ? 1 : 0);
    if (pg) {
        assert_int_equal(store_layer_count_upto(f->s, f->plots, 10, &n, &e), ERR_AGAIN);
        assert_int_equal(store_read_again(f->s), 1);
    }
    store_read_end(f->s);
    assert_int_equal(store_begin(f->s, &e), 0);
    add_plot(f, "P003", NULL, 0, 0, b, 10);
    if (store_commit(f->s, &e))
        fail_msg("write after a solo look-up: %s", e.msg);

    if (!pg)
        return;
    /* one of them fails as it runs (a column its prepared statement reads
     * renamed meanwhile): an error, and still no transaction left open */
    assert_int_equal(grids_name_column(f, "name", "name_was"), 0);
    store_read_begin(f->s, 1);
    assert_int_not_equal(store_query_rows_many(f->s, qs, 3, many_row, args, &e), 0);
    store_read_end(f->s);
    assert_int_equal(grids_name_column(f, "name_was", "name"), 0);
    assert_int_equal(store_begin(f->s, &e), 0);
    add_plot(f, "P004", NULL, 0, 0, b, 10);
    if (store_commit(f->s, &e))
        fail_msg("write after a failed solo look-up: %s", e.msg);
    assert_int_equal(store_layer_count_upto(f->s, f->plots, 10, &n, &e), 0);
    assert_int_equal(n, 4);
}

/* Several queries at once (a point's look-up in every layer): each gives
 * the rows it gives alone, in the same order when it has one, one query's
 * rows after another's; more queries than one round trip takes, and one
 * with more rows at the point than a first probe reads. */
static void test_query_rows_many(void **state)
{
    struct fixture *f = *state;
    static struct cell cells[GX * GY];
    enum { N = 21 };
    const double stack[4] = {119.5, 29.5, 119.6, 29.6};
    struct store_query qs[N];
    struct many *got = calloc(N, sizeof *got), *alone = calloc(N, sizeof *alone);
    void *args[N];
    int *log = calloc(N * MANY_ROWS, sizeof *log);
    size_t log_n = 0;
    struct err e;
    assert_non_null(got);
    assert_non_null(alone);
    assert_non_null(log);
    fill_grid(f, cells);
    assert_int_equal(store_begin(f->s, &e), 0);
    for (int i = 0; i < 2050; i++) {
        char code[16];
        snprintf(code, sizeof code, "S%04d", i);
        add_plot(f, code, "farm", 1, 0, stack, 10);
    }
    assert_int_equal(store_commit(f->s, &e), 0);
    for (int i = 0; i < N; i++) {
        double x = 118 + (i % GX + 0.5) * STEP, y = 29 + (i % GY) * STEP; /* on a cell edge */
        query_init(&qs[i], i % 5 == 4 ? f->grids : f->plots);
        qs[i].n_rects = 1;
        qs[i].want_wkb = 1;
        qs[i].any_order = i % 2;
        if (i == 7 || i == 12) /* the stacked plots: more rows than a probe */
            x = 119.55, y = 29.55;
        qs[i].rects[0][0] = qs[i].rects[0][2] = x;
        qs[i].rects[0][1] = qs[i].rects[0][3] = y;
        got[i].idx = i;
        got[i].log = log;
        got[i].log_n = &log_n;
        got[i].stop_after = alone[i].stop_after = i == 3 ? 1 : 0; /* stops its own rows only */
        args[i] = &got[i];
        if (store_query_rows(f->s, &qs[i], many_row, &alone[i], &e))
            fail_msg("query %d alone: %s", i, e.msg);
    }
    if (store_query_rows_many(f->s, qs, N, many_row, args, &e))
        fail_msg("queries together: %s", e.msg);
    for (size_t k = 1; k < log_n; k++)
        assert_true(log[k - 1] <= log[k]);
    for (int i = 0; i < N; i++) {
        size_t want = 0;
        assert_int_equal(got[i].n, alone[i].n);
        if (!qs[i].any_order) /* in id order */
            assert_memory_equal(got[i].fid, alone[i].fid, got[i].n * sizeof got[i].fid[0]);
        qsort(got[i].fid, got[i].n, sizeof got[i].fid[0], cmp_ll);
        qsort(alone[i].fid, alone[i].n, sizeof alone[i].fid[0], cmp_ll);
        assert_memory_equal(got[i].fid, alone[i].fid, got[i].n * sizeof got[i].fid[0]);
        /* and what they are, counted from the cells themselves */
        if (i == 7 || i == 12)
            want = 2050;
        else if (i == 3)
            want = 1;
        else if (qs[i].layer == f->plots)
            for (int c = 0; c < GX * GY; c++)
                want += meets(cells[c].b, qs[i].rects[0]);
        assert_int_equal(got[i].n, want);
    }
    free(got);
    free(alone);
    free(log);
}

static void test_query_eq_sort_page(void **state)
{
    struct fixture *f = *state;
    static struct cell cells[GX * GY];
    struct store_query q;
    struct rows *r;
    size_t want;
    fill_grid(f, cells);

    /* kind = 'wood' */
    query_init(&q, f->plots);
    q.n_eq = 1;
    q.eq[0].field = F_KIND;
    q.eq[0].v = (struct value){VAL_TEXT, 0, 0, "wood"};
    r = run(f, &q);
    want = 0;
    for (int i = 0; i < GX * GY; i++)
        if (cells[i].kind && !strcmp(cells[i].kind, "wood")) {
            assert_int_equal(r->fid[want], cells[i].fid);
            want++;
        }
    assert_int_equal(r->n, want);
    assert_int_equal(count(f, &q), (long long)want);
    free(r);

    /* kind = 'farm' AND households = 3, within the left half */
    q.n_eq = 2;
    q.eq[0].v.s = "farm";
    q.eq[1].field = F_HH;
    q.eq[1].v = (struct value){VAL_INT, 3, 0, NULL};
    q.n_rects = 1;
    memcpy(q.rects[0], (double[4]){118, 29, 118 + 3.5 * STEP, 30}, sizeof q.rects[0]);
    r = run(f, &q);
    want = 0;
    for (int i = 0; i < GX * GY; i++)
        if (cells[i].kind && !strcmp(cells[i].kind, "farm") && cells[i].hh == 3 &&
            meets(cells[i].b, q.rects[0])) {
            assert_true(want < r->n);
            assert_int_equal(r->fid[want], cells[i].fid);
            want++;
        }
    assert_true(want > 0);
    assert_int_equal(r->n, want);
    assert_int_equal(count(f, &q), (long long)want);
    free(r);

    /* sorted by households descending, then id; the third page of 5 */
    query_init(&q, f->plots);
    q.n_sort = 1;
    q.sort[0].field = F_HH;
    q.sort[0].desc = 1;
    q.limit = 5;
    q.offset = 10;
    r = run(f, &q);
    {
        int order[GX * GY], n = 0;
        for (long long hh = 6; hh >= 0; hh--)
            for (int i = 0; i < GX * GY; i++)
                if (cells[i].hh == hh)
                    order[n++] = i;
        assert_int_equal(n, GX * GY);
        assert_int_equal(r->n, 5);
        for (int k = 0; k < 5; k++)
            assert_int_equal(r->fid[k], cells[order[10 + k]].fid);
    }
    /* limit and offset do not change the count */
    assert_int_equal(count(f, &q), GX * GY);
    free(r);

    /* by area, descending: the largest first */
    query_init(&q, f->plots);
    q.n_sort = 1;
    q.sort[0].field = STORE_SORT_AREA;
    q.sort[0].desc = 1;
    q.limit = 1;
    r = run(f, &q);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->fid[0], cells[GX * GY - 1].fid); /* area 1000 + i: the last is largest */
    free(r);

    /* a callback that stops early */
    query_init(&q, f->plots);
    r = calloc(1, sizeof *r);
    r->stop_after = 3;
    {
        struct err e;
        assert_int_equal(store_query_rows(f->s, &q, collect, r, &e), 0);
    }
    assert_int_equal(r->n, 3);
    free(r);

    /* skip_gj */
    query_init(&q, f->plots);
    q.skip_gj = 1;
    q.limit = 1;
    r = run(f, &q);
    assert_string_equal(r->gj[0], "(null)");
    free(r);
}

static int failing_row(void *arg, const struct store_row *row, struct err *e)
{
    (void)arg;
    return err_set(e, ERR_TIMEOUT, "stopped at %lld", row->fid);
}

struct boxes {
    size_t n;
    long long fid[MAX_ROWS];
};

static int on_box(void *arg, long long fid, const double mbr[4], struct err *e)
{
    struct boxes *b = arg;
    (void)mbr;
    (void)e;
    b->fid[b->n++] = fid;
    return 0;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

static void test_boxes_keys_and_errors(void **state)
{
    struct fixture *f = *state;
    static struct cell cells[GX * GY];
    const double q[1][4] = {{118 + STEP * 1.5, 29 + STEP * 1.5, 118 + STEP * 2.5, 29 + STEP * 2.5}};
    struct boxes bx = {0};
    struct store_query sq;
    long long want[GX * GY];
    size_t n = 0;
    struct err e;
    fill_grid(f, cells);
    assert_int_equal(store_boxes(f->s, f->plots, q, 1, on_box, &bx, &e), 0);
    for (int i = 0; i < GX * GY; i++)
        if (meets(cells[i].b, q[0]))
            want[n++] = cells[i].fid;
    assert_int_equal(bx.n, n);
    qsort(bx.fid, bx.n, sizeof bx.fid[0], cmp_ll);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(bx.fid[i], want[i]);

    /* a callback's error passes through */
    query_init(&sq, f->plots);
    assert_int_equal(store_query_rows(f->s, &sq, failing_row, NULL, &e), ERR_TIMEOUT);
    char msg[64];
    snprintf(msg, sizeof msg, "stopped at %lld", cells[0].fid);
    assert_string_equal(e.msg, msg);
}

static int on_key(void *arg, const char *key, long long fid, struct err *e)
{
    struct cell *cells = arg;
    (void)e;
    for (int i = 0; i < GX * GY; i++)
        if (cells[i].fid == fid) {
            assert_string_equal(key, cells[i].code);
            cells[i].hh = -1; /* seen */
            return 0;
        }
    fail_msg("unknown id %lld", fid);
    return -1;
}

static void test_key_fids(void **state)
{
    struct fixture *f = *state;
    static struct cell cells[GX * GY];
    struct err e;
    fill_grid(f, cells);
    assert_int_equal(store_key_fids(f->s, f->plots, on_key, cells, &e), 0);
    for (int i = 0; i < GX * GY; i++)
        assert_int_equal(cells[i].hh, -1);
}

/* ---- kept counts, totals and extent -------------------------------------- */

static void test_totals_extent(void **state)
{
    struct fixture *f = *state;
    const double b1[4] = {118.25, 29.5, 118.375, 29.625};
    const double b2[4] = {118.5, 29.0, 118.5625, 29.0625};
    const double b3[4] = {119.0, 30.0, 119.125, 30.25};
    double ext[4], area;
    long long n, id1, id2, id3;
    struct store_query q;
    struct err e;

    assert_int_equal(store_layer_extent(f->s, f->plots, ext, &n, &e), 1);
    assert_int_equal(n, 0);
    assert_int_equal(store_layer_totals(f->s, f->plots, &n, &area, &e), 0);
    assert_int_equal(n, 0);
    assert_true(area == 0);

    id1 = add_plot(f, "P001", "farm", 1, 0, b1, 1500.5);
    id2 = add_plot(f, "P002", "wood", 2, 0, b2, 250.25);
    id3 = add_plot(f, "P003", "farm", 3, 0, b3, 4000);
    assert_int_equal(store_layer_totals(f->s, f->plots, &n, &area, &e), 0);
    assert_int_equal(n, 3);
    assert_true(fabs(area - 5750.75) < 1e-9);
    query_init(&q, f->plots);
    assert_int_equal(count(f, &q), 3);
    q.n_eq = 1;
    q.eq[0].field = F_KIND;
    q.eq[0].v = (struct value){VAL_TEXT, 0, 0, "farm"};
    assert_int_equal(count(f, &q), 2);

    /* all three boxes' union; these edges are exact in float */
    assert_int_equal(store_layer_extent(f->s, f->plots, ext, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_true(ext[0] == 118.25 && ext[1] == 29.0 && ext[2] == 119.125 && ext[3] == 30.25);

    /* an update changes the area and the extent, not the count */
    {
        struct value v[4] = {{VAL_TEXT, 0, 0, "P003"},
                             {VAL_NULL, 0, 0, NULL},
                             {VAL_NULL, 0, 0, NULL},
                             {VAL_NULL, 0, 0, NULL}};
        const double nb[4] = {118.75, 29.75, 118.875, 29.875};
        unsigned char wkb[93];
        assert_int_equal(
            store_feature_update(f->s, f->plots, id3, 2, v, wkb, box_wkb(nb, wkb), "{}", 1000, &e),
            0);
    }
    assert_int_equal(store_layer_totals(f->s, f->plots, &n, &area, &e), 0);
    assert_int_equal(n, 3);
    assert_true(fabs(area - 2750.75) < 1e-9);
    assert_int_equal(store_layer_extent(f->s, f->plots, ext, &n, &e), 0);
    assert_true(ext[0] == 118.25 && ext[1] == 29.0 && ext[2] == 118.875 && ext[3] == 29.875);

    /* deletes shrink the count, the area and the extent */
    assert_int_equal(store_feature_delete(f->s, f->plots, id2, &e), 0);
    assert_int_equal(store_layer_extent(f->s, f->plots, ext, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_true(ext[0] == 118.25 && ext[1] == 29.5 && ext[2] == 118.875 && ext[3] == 29.875);
    assert_int_equal(store_layer_totals(f->s, f->plots, &n, &area, &e), 0);
    assert_true(fabs(area - 2500.5) < 1e-9);
    assert_int_equal(store_feature_delete(f->s, f->plots, id1, &e), 0);
    assert_int_equal(store_feature_delete(f->s, f->plots, id3, &e), 0);
    assert_int_equal(store_layer_extent(f->s, f->plots, ext, &n, &e), 1);
    assert_int_equal(n, 0);
    assert_int_equal(store_layer_totals(f->s, f->plots, &n, &area, &e), 0);
    assert_int_equal(n, 0);
    assert_true(fabs(area) < 1e-9);
    query_init(&q, f->plots);
    assert_int_equal(count(f, &q), 0);
}

static void test_extent_outward(void **state)
{
    struct fixture *f = *state;
    /* 0.1 is not a float: the kept box must still cover the geometry */
    const double b[4] = {118.1, 29.1, 118.3, 29.7};
    double ext[4];
    long long n;
    struct err e;
    add_plot(f, "P001", NULL, 0, 0, b, 1);
    assert_int_equal(store_layer_extent(f->s, f->plots, ext, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_true(ext[0] <= b[0] && ext[0] > b[0] - 1e-5);
    assert_true(ext[1] <= b[1] && ext[1] > b[1] - 1e-5);
    assert_true(ext[2] >= b[2] && ext[2] < b[2] + 1e-5);
    assert_true(ext[3] >= b[3] && ext[3] < b[3] + 1e-5);
}

/* ---- tokens -------------------------------------------------------------- */

static int token_line(void *arg, const struct store_token_row *t, struct err *e)
{
    (void)e;
    assert_non_null(t->created);
    assert_int_equal(strlen(t->created), 24);
    buf_printf(arg, "%s %s %s %s%s\n", t->name, t->role, *t->grids ? t->grids : "-",
               t->revoked ? "revoked=" : "active", t->revoked ? t->revoked : "");
    return 0;
}

static void test_tokens(void **state)
{
    struct fixture *f = *state;
    unsigned char hash[32];
    struct store_token t;
    struct buf list;
    struct err e;
    for (int i = 0; i < 32; i++)
        hash[i] = (unsigned char)(i * 7 + 1);
    assert_int_equal(store_token_add(f->s, "alice", "00112233aabbccdd", hash, sizeof hash, "editor",
                                     "G1,G2", &e),
                     0);
    assert_int_equal(
        store_token_add(f->s, "bob", "ffeeddccbbaa9988", hash, sizeof hash, "reader", NULL, &e), 0);
    assert_int_equal(store_token_get(f->s, "00112233aabbccdd", &t, &e), 0);
    assert_string_equal(t.name, "alice");
    assert_string_equal(t.role, "editor");
    assert_string_equal(t.grids, "G1,G2");
    assert_memory_equal(t.hash, hash, 32);
    assert_int_equal(store_token_get(f->s, "ffeeddccbbaa9988", &t, &e), 0);
    assert_string_equal(t.name, "bob");
    assert_string_equal(t.grids, "");

    /* names are unique */
    assert_int_equal(
        store_token_add(f->s, "alice", "0000000000000001", hash, sizeof hash, "admin", NULL, &e),
        ERR_CONFLICT);
    assert_string_equal(e.msg, "a token named 'alice' exists already");
    assert_int_equal(store_token_get(f->s, "0000000000000001", &t, &e), ERR_UNAUTHORIZED);
    assert_string_equal(e.msg, "Authorization: unknown or revoked token");

    /* revoked: no longer found, listed as revoked, not revoked twice */
    assert_int_equal(store_token_revoke(f->s, "alice", &e), 0);
    assert_int_equal(store_token_get(f->s, "00112233aabbccdd", &t, &e), ERR_UNAUTHORIZED);
    assert_string_equal(e.msg, "Authorization: unknown or revoked token");
    assert_int_equal(store_token_revoke(f->s, "alice", &e), ERR_NOT_FOUND);
    assert_string_equal(e.msg, "no active token named 'alice'");
    assert_int_equal(store_token_revoke(f->s, "carol", &e), ERR_NOT_FOUND);
    assert_string_equal(e.msg, "no active token named 'carol'");
    buf_init(&list);
    assert_int_equal(store_token_rows(f->s, token_line, &list, &e), 0);
    /* by name; the revoked one with its time of revocation */
    assert_int_equal(strncmp(list.data, "alice editor G1,G2 revoked=20", 29), 0);
    assert_string_equal(strchr(list.data, '\n'), "\nbob reader - active\n");
    buf_clear(&list);
}

/* ---- history ------------------------------------------------------------- */

/* Rows as one line each: "fid/version op at by change_id seq feature", '-'
 * for NULL; stops after stop_after rows when that is > 0. */
struct lines {
    struct buf b;
    int n, stop_after;
};

static int version_line(void *arg, const struct store_version *v, struct err *e)
{
    struct lines *r = arg;
    (void)e;
    buf_printf(&r->b, "%s:%lld/%lld %s %s %s %s %lld %s\n", v->collection, v->fid, v->version,
               v->op,
               v->at && strlen(v->at) == 24 && v->at[23] == 'Z'
                   ? (strncmp(v->at, "2024", 4) ? "now" : v->at)
                   : "BAD",
               v->by ? v->by : "-", v->change_id ? v->change_id : "-", v->seq,
               v->feature ? v->feature : "-");
    return ++r->n == r->stop_after;
}

static void test_history(void **state)
{
    struct fixture *f = *state;
    struct lines r = {.n = 0};
    struct err e;
    buf_init(&r.b);
    assert_int_equal(
        store_history_add(f->s, f->plots, 7, 1, "create", "alice", "c1", "{\"v\":1}", &e), 0);
    assert_int_equal(store_history_add_at(f->s, f->plots, 7, 2, "import",
                                          "2024-05-06T07:08:09.010Z", NULL, "c2", NULL, &e),
                     0);
    assert_int_equal(
        store_history_add(f->s, f->grids, 7, 1, "create", "bob", "c3", "{\"g\":1}", &e), 0);

    /* newest first; the row without a copy has no feature */
    assert_int_equal(store_history_rows(f->s, f->plots, 7, version_line, &r, &e), 0);
    assert_string_equal(r.b.data, "plots:7/2 import 2024-05-06T07:08:09.010Z - c2 2 -\n"
                                  "plots:7/1 create now alice c1 1 {\"v\":1}\n");
    buf_reset(&r.b);

    /* kept: the copy fills the row; a row with a copy is not touched */
    assert_int_equal(store_history_keep(f->s, f->plots, 7, 2, "{\"v\":2}", &e), 0);
    assert_int_equal(store_history_keep(f->s, f->plots, 7, 1, "{\"v\":\"other\"}", &e), 0);
    assert_int_equal(store_history_rows(f->s, f->plots, 7, version_line, &r, &e), 0);
    assert_string_equal(r.b.data, "plots:7/2 import 2024-05-06T07:08:09.010Z - c2 2 {\"v\":2}\n"
                                  "plots:7/1 create now alice c1 1 {\"v\":1}\n");
    buf_reset(&r.b);

    /* stopped early by the callback */
    r.n = 0;
    r.stop_after = 1;
    assert_int_equal(store_history_rows(f->s, f->plots, 7, version_line, &r, &e), 0);
    assert_int_equal(r.n, 1);
    r.stop_after = 0;
    buf_reset(&r.b);

    /* another feature: nothing */
    assert_int_equal(store_history_rows(f->s, f->plots, 8, version_line, &r, &e), 0);
    assert_true(r.b.len == 0);

    /* changes after seq 1, at most 5: no features read */
    assert_int_equal(store_change_rows(f->s, 1, 5, 0, version_line, &r, &e), 0);
    assert_string_equal(r.b.data, "plots:7/2 import 2024-05-06T07:08:09.010Z - c2 2 -\n"
                                  "grids:7/1 create now bob c3 3 -\n");
    buf_reset(&r.b);
    assert_int_equal(store_change_rows(f->s, 0, 1, 0, version_line, &r, &e), 0);
    assert_string_equal(r.b.data, "plots:7/1 create now alice c1 1 -\n");
    buf_reset(&r.b);
    assert_int_equal(store_change_rows(f->s, 3, 10, 0, version_line, &r, &e), 0);
    assert_true(r.b.len == 0);
    buf_clear(&r.b);
}

/* A batch as an import writes it: the same rows and history on both
 * backends, whether written one by one or in a few statements. */
static void test_write_batch(void **state)
{
    struct fixture *f = *state;
    const double b1[4] = {118, 29, 118.01, 29.01}, b2[4] = {118.02, 29.02, 118.03, 29.04};
    long long a = add_plot(f, "P001", "farm", 1, 0.5, b1, 100);
    long long b = add_plot(f, "P002", "wood", 2, 0.25, b1, 50);
    struct value va[4] = {{VAL_TEXT, 0, 0, "P001"},
                          {VAL_TEXT, 0, 0, "wood"},
                          {VAL_INT, 7, 0, NULL},
                          {VAL_NULL, 0, 0, NULL}};
    struct value vn[2][4] = {{{VAL_TEXT, 0, 0, "N1"},
                              {VAL_NULL, 0, 0, NULL},
                              {VAL_INT, 3, 0, NULL},
                              {VAL_REAL, 0, 0.75, NULL}},
                             {{VAL_TEXT, 0, 0, "N2"},
                              {VAL_TEXT, 0, 0, "farm"},
                              {VAL_NULL, 0, 0, NULL},
                              {VAL_NULL, 0, 0, NULL}}};
    unsigned char wkb[93];
    size_t wlen = box_wkb(b2, wkb), failed = 99;
    struct store_write w[4];
    struct lines hist = {.n = 0};
    struct store_query q;
    struct rows *r;
    long long n, fid;
    double area;
    char want[512];
    struct err e;
    memset(w, 0, sizeof w);
    w[0] = (struct store_write){
        .op = STORE_WRITE_DELETE, .fid = b, .version = 1, .kept = "{\"old\":2}"};
    w[1] = (struct store_write){.op = STORE_WRITE_UPDATE,
                                .fid = a,
                                .version = 1,
                                .vals = va,
                                .wkb = wkb,
                                .wkb_len = wlen,
                                .gj = "{\"u\":1}",
                                .area_m2 = 300,
                                .kept = "{\"old\":1}"};
    for (int i = 0; i < 2; i++)
        w[2 + i] = (struct store_write){.op = STORE_WRITE_INSERT,
                                        .vals = vn[i],
                                        .wkb = wkb,
                                        .wkb_len = wlen,
                                        .gj = "{\"n\":1}",
                                        .area_m2 = 10 + i};
    /* the history rows of the two stored features, as their inserts left them */
    assert_int_equal(store_history_add_at(f->s, f->plots, a, 1, "import",
                                          "2024-01-01T00:00:00.000Z", NULL, "c0", NULL, &e),
                     0);
    assert_int_equal(store_history_add_at(f->s, f->plots, b, 1, "import",
                                          "2024-01-01T00:00:00.000Z", NULL, "c0", NULL, &e),
                     0);
    assert_int_equal(store_begin(f->s, &e), 0);
    assert_int_equal(store_write_batch(f->s, f->plots, w, 4, "2024-02-02T00:00:00.000Z", "ann",
                                       "c1", &failed, &e),
                     0);
    assert_int_equal(store_commit(f->s, &e), 0);
    assert_true(w[2].fid > 0 && w[3].fid > 0 && w[2].fid != w[3].fid);
    assert_int_equal(store_feature_fid_by_key(f->s, f->plots, "N1", &fid, &e), 0);
    assert_int_equal(fid, w[2].fid);
    assert_int_equal(store_feature_fid_by_key(f->s, f->plots, "N2", &fid, &e), 0);
    assert_int_equal(fid, w[3].fid);
    assert_int_equal(store_feature_fid_by_key(f->s, f->plots, "P002", &fid, &e), ERR_NOT_FOUND);
    query_init(&q, f->plots);
    q.fid = a;
    q.want_wkb = 1;
    r = run(f, &q);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->version[0], 2);
    assert_string_equal(r->kind[0], "wood");
    assert_int_equal(r->hh[0], 7);
    assert_int_equal(r->share_type[0], VAL_NULL);
    /* SQLite keeps the text given; PostgreSQL writes it from the WKB */
    assert_string_equal(r->gj[0], store_dialect(f->s) == STORE_PG ? B2_GEOJSON : "{\"u\":1}");
    assert_wkb_box(r->wkb[0], r->wkb_len[0], b2);
    free(r);
    query_init(&q, f->plots);
    q.fid = w[2].fid;
    r = run(f, &q);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->version[0], 1);
    assert_int_equal(r->kind_type[0], VAL_NULL);
    assert_true(r->share[0] == 0.75);
    free(r);
    assert_int_equal(store_layer_totals(f->s, f->plots, &n, &area, &e), 0);
    assert_int_equal(n, 3);
    assert_true(area == 300 + 10 + 11);
    /* the history: kept versions, a delete holding what it deleted, new rows */
    buf_init(&hist.b);
    assert_int_equal(store_history_rows(f->s, f->plots, a, version_line, &hist, &e), 0);
    assert_int_equal(store_history_rows(f->s, f->plots, b, version_line, &hist, &e), 0);
    assert_int_equal(store_history_rows(f->s, f->plots, w[2].fid, version_line, &hist, &e), 0);
    snprintf(want, sizeof want,
             "plots:%lld/2 import 2024-02-02T00:00:00.000Z ann c1 4 -\n"
             "plots:%lld/1 import 2024-01-01T00:00:00.000Z - c0 1 {\"old\":1}\n"
             "plots:%lld/2 delete 2024-02-02T00:00:00.000Z ann c1 3 {\"old\":2}\n"
             "plots:%lld/1 import 2024-01-01T00:00:00.000Z - c0 2 {\"old\":2}\n"
             "plots:%lld/1 import 2024-02-02T00:00:00.000Z ann c1 5 -\n",
             a, a, b, b, w[2].fid);
    assert_string_equal(hist.b.data, want);
    buf_clear(&hist.b);
    /* a missing feature fails the batch; the caller rolls back */
    w[0] = (struct store_write){.op = STORE_WRITE_UPDATE,
                                .fid = b,
                                .version = 1,
                                .vals = va,
                                .wkb = wkb,
                                .wkb_len = wlen,
                                .gj = "{}",
                                .area_m2 = 1,
                                .kept = "{}"};
    assert_int_equal(store_begin(f->s, &e), 0);
    assert_int_equal(store_write_batch(f->s, f->plots, w, 1, NULL, "ann", "c2", &failed, &e),
                     ERR_NOT_FOUND);
    assert_true(failed <= 1);
    store_rollback(f->s);
    assert_int_equal(store_layer_totals(f->s, f->plots, &n, &area, &e), 0);
    assert_int_equal(n, 3);
}

/* ---- past versions --------------------------------------------------------- */

/* The feature as the history keeps it: what a rebuild reads back. */
static void history_feature(char *out, size_t n, const char *code, const char *kind, long long hh,
                            const double b[4])
{
    snprintf(out, n,
             "{\"type\":\"Feature\",\"properties\":{\"code\":\"%s\",\"kind\":\"%s\","
             "\"households\":%lld,\"share\":null},\"geometry\":{\"type\":\"Polygon\","
             "\"coordinates\":[[[%.17g,%.17g],[%.17g,%.17g],[%.17g,%.17g],[%.17g,%.17g],"
             "[%.17g,%.17g]]]}}",
             code, kind, hh, b[0], b[1], b[2], b[1], b[2], b[3], b[0], b[3], b[0], b[1]);
}

/* The codes and versions of a query's rows, "P1/1 P2/1", in the rows' order. */
static void rows_text(const struct rows *r, char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < r->n && len < n; i++)
        len += (size_t)snprintf(out + len, n - len, "%s%s/%lld", i ? " " : "", r->code[i],
                                r->version[i]);
}

static void expect_asof(struct fixture *f, const char *asof, const double *rect, const char *want)
{
    struct store_query q;
    struct rows *r;
    char got[256];
    query_init(&q, f->plots);
    q.asof = asof;
    q.n_sort = 1;
    q.sort[0].field = F_CODE;
    if (rect) {
        q.n_rects = 1;
        memcpy(q.rects[0], rect, sizeof q.rects[0]);
    }
    r = run(f, &q);
    rows_text(r, got, sizeof got);
    if (strcmp(got, want))
        fail_msg("asof %s%s: got '%s', want '%s'", asof, rect ? " (rect)" : "", got, want);
    assert_int_equal(count(f, &q), (long long)r->n);
    free(r);
}

static void at_time(struct fixture *f, const char *at)
{
    struct err e;
    if (store_begin(f->s, &e))
        fail_msg("begin: %s", e.msg);
    store_set_write_time(f->s, at);
}

static void commit(struct fixture *f)
{
    struct err e;
    if (store_commit(f->s, &e))
        fail_msg("commit: %s", e.msg);
}

/* The whole asof picture, checked after the writes and again after the
 * past versions are made anew from the history alone. */
static void check_asof(struct fixture *f, const double b1[4], const double b2[4], int rebuilt)
{
    struct store_query q;
    struct rows *r;
    const double near1[4] = {b1[0] - 0.0001, b1[1] - 0.0001, b1[0] + 0.0001, b1[1] + 0.0001};
    const double near2[4] = {b2[0] - 0.0001, b2[1] - 0.0001, b2[0] + 0.0001, b2[1] + 0.0001};
    expect_asof(f, "2019-12-31T23:59:59.999Z", NULL, "");
    expect_asof(f, "2020-01-01T00:00:00.000Z", NULL, "P1/1 P2/1");
    expect_asof(f, "2020-03-01T00:00:00.000Z", NULL, "P1/1 P2/1");
    expect_asof(f, "2020-06-01T00:00:00.000Z", NULL, "P1/2 P2/1 P3/1");
    expect_asof(f, "2020-09-01T00:00:00.000Z", NULL, "P1/2 P3/2");
    expect_asof(f, "2030-01-01T00:00:00.000Z", NULL, "P1/2 P3/2");
    /* through the spatial index: the old geometry where it was then */
    expect_asof(f, "2020-03-01T00:00:00.000Z", near1, "P1/1 P2/1");
    expect_asof(f, "2020-03-01T00:00:00.000Z", near2, "");
    expect_asof(f, "2020-07-01T00:00:00.000Z", near1, "P2/1");
    expect_asof(f, "2020-07-01T00:00:00.000Z", near2, "P1/2 P3/1");
    expect_asof(f, "2020-10-01T00:00:00.000Z", near2, "P1/2 P3/2");
    expect_asof(f, "2020-10-01T00:00:00.000Z", near1, "");

    /* one feature, its attributes and geometry as they were */
    query_init(&q, f->plots);
    q.fid = 1;
    q.want_wkb = 1;
    q.asof = "2020-05-31T23:59:59.999Z";
    r = run(f, &q);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->version[0], 1);
    assert_string_equal(r->kind[0], "farm");
    assert_int_equal(r->hh[0], 1);
    assert_wkb_box(r->wkb[0], r->wkb_len[0], b1);
    if (rebuilt) /* the geodesic area of a 0.01° box at 29°N, about 1.08 km² */
        assert_true(fabs(r->area[0] - 1.0827e6) < 0.01 * 1.0827e6);
    else
        assert_true(r->area[0] == 100);
    free(r);

    /* equality, and a sorted page, over the union */
    query_init(&q, f->plots);
    q.asof = "2020-07-01T00:00:00.000Z";
    q.n_eq = 1;
    q.eq[0].field = F_KIND;
    q.eq[0].v = (struct value){VAL_TEXT, 0, 0, "wood"};
    r = run(f, &q);
    assert_int_equal(r->n, 1);
    assert_string_equal(r->code[0], "P1");
    assert_int_equal(count(f, &q), 1);
    free(r);
    query_init(&q, f->plots);
    q.asof = "2020-07-01T00:00:00.000Z";
    q.n_sort = 1;
    q.sort[0] = (struct store_sort){F_CODE, 1};
    q.limit = 1;
    q.offset = 1;
    r = run(f, &q);
    assert_int_equal(r->n, 1);
    assert_string_equal(r->code[0], "P2");
    assert_int_equal(count(f, &q), 3);
    free(r);

    /* now, as ever: the live rows only */
    query_init(&q, f->plots);
    r = run(f, &q);
    assert_int_equal(r->n, 2);
    free(r);
}

static void test_asof(void **state)
{
    struct fixture *f = *state;
    const double b1[4] = {118, 29, 118.01, 29.01}, b2[4] = {118.1, 29.1, 118.11, 29.11};
    struct value v1[4] = {{VAL_TEXT, 0, 0, "P1"},
                          {VAL_TEXT, 0, 0, "wood"},
                          {VAL_INT, 2, 0, NULL},
                          {VAL_NULL, 0, 0, NULL}};
    struct value v3[4] = {{VAL_TEXT, 0, 0, "P3"},
                          {VAL_TEXT, 0, 0, "farm"},
                          {VAL_INT, 9, 0, NULL},
                          {VAL_NULL, 0, 0, NULL}};
    unsigned char wkb[93];
    char kept[2][512], gj[256];
    struct store_write w[2];
    size_t failed;
    long long p1, p2, p3;
    struct err e;

    /* 2020-01-01: P1 and P2 made */
    at_time(f, "2020-01-01T00:00:00.000Z");
    p1 = add_plot(f, "P1", "farm", 1, 0, b1, 100);
    p2 = add_plot(f, "P2", "farm", 5, 0, b1, 100);
    assert_int_equal(store_history_add(f->s, f->plots, p1, 1, "create", NULL, "c1", NULL, &e), 0);
    assert_int_equal(store_history_add(f->s, f->plots, p2, 1, "create", NULL, "c1", NULL, &e), 0);
    commit(f);
    assert_int_equal(p1, 1);

    /* 2020-06-01: P1 moved and changed, P3 made (one by one, as edits do) */
    at_time(f, "2020-06-01T00:00:00.000Z");
    history_feature(kept[0], sizeof kept[0], "P1", "farm", 1, b1);
    snprintf(gj, sizeof gj, "{\"moved\":1}");
    assert_int_equal(store_history_keep(f->s, f->plots, p1, 1, kept[0], &e), 0);
    assert_int_equal(store_feature_update(f->s, f->plots, p1, 2, v1, wkb, box_wkb(b2, wkb), gj,
                                          200, &e),
                     0);
    assert_int_equal(store_history_add(f->s, f->plots, p1, 2, "update", NULL, "c2", NULL, &e), 0);
    p3 = add_plot(f, "P3", "farm", 9, 0, b2, 100);
    assert_int_equal(store_history_add(f->s, f->plots, p3, 1, "create", NULL, "c2", NULL, &e), 0);
    commit(f);

    /* 2020-09-01: P2 deleted and P3 changed in one batch, as imports do */
    at_time(f, "2020-09-01T00:00:00.000Z");
    history_feature(kept[0], sizeof kept[0], "P2", "farm", 5, b1);
    history_feature(kept[1], sizeof kept[1], "P3", "farm", 9, b2);
    memset(w, 0, sizeof w);
    w[0] = (struct store_write){
        .op = STORE_WRITE_DELETE, .fid = p2, .version = 1, .kept = kept[0]};
    w[1] = (struct store_write){.op = STORE_WRITE_UPDATE,
                                .fid = p3,
                                .version = 1,
                                .vals = v3,
                                .wkb = wkb,
                                .wkb_len = box_wkb(b2, wkb),
                                .gj = "{\"p3\":2}",
                                .area_m2 = 300,
                                .kept = kept[1]};
    if (store_write_batch(f->s, f->plots, w, 2, NULL, NULL, "c3", &failed, &e))
        fail_msg("batch: %s", e.msg);
    commit(f);

    check_asof(f, b1, b2, 0);

    /* the same, made again from the history alone */
    assert_int_equal(store_begin(f->s, &e), 0);
    if (store_past_rebuild(f->s, f->plots, &e))
        fail_msg("rebuild: %s", e.msg);
    commit(f);
    check_asof(f, b1, b2, 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_init_registry),
        cmocka_unit_test(test_init_bad_schema),
        cmocka_unit_test(test_open_missing),
        T(test_insert_get),
        T(test_insert_conflict_and_bad_wkb),
        T(test_update_delete),
        T(test_transactions),
        T(test_read_solo),
        T(test_query_rects),
        T(test_query_rows_many),
        T(test_read_solo_many),
        T(test_query_eq_sort_page),
        T(test_boxes_keys_and_errors),
        T(test_key_fids),
        T(test_totals_extent),
        T(test_extent_outward),
        T(test_tokens),
        T(test_history),
        T(test_write_batch),
        T(test_asof),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
