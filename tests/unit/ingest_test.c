/* ingest_test: FeatureCollection imports into a real store — what is
 * added, changed, unchanged and removed (upsert and replace, matched on the
 * key or another field), the area change against the closed form of a
 * quadrangle on GRS80 computed here, dry runs and invalid uploads writing
 * nothing, invalid features reported by index, key and reason, repairs, the
 * history rows of an import, and the export. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tempdb.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crs.h"
#include "edit.h"
#include "ingest.h"

#define GRS80_A 6378137.0
#define GRS80_F (1 / 298.257222101)
#define DEG (M_PI / 180)

static const char *SCHEMA =
    "{\"layers\":[{\"id\":\"plots\",\"key\":\"code\",\"fields\":["
    "{\"name\":\"code\",\"type\":\"string\",\"required\":true},"
    "{\"name\":\"name\",\"type\":\"string\"},"
    "{\"name\":\"kind\",\"type\":\"string\",\"enum\":[\"farm\",\"wood\"]}]}]}";

struct fixture {
    char dir[64], path[128];
    ctx *c;
    store *s;
    struct layers *ls;
    const struct layer *l;
};

static double authalic_q(double phi)
{
    double e2 = GRS80_F * (2 - GRS80_F), e = sqrt(e2), s = sin(phi);
    return s / (1 - e2 * s * s) + log((1 + e * s) / (1 - e * s)) / (2 * e);
}

static double quad_area(double west, double south, double east, double north)
{
    double b = GRS80_A * (1 - GRS80_F);
    return b * b * (east - west) * DEG / 2 * (authalic_q(north * DEG) - authalic_q(south * DEG));
}

/* Plot i: a box of 0.01 x (0.01 + 0.001 h) degree at column i. */
static double plot_area(int i, int h)
{
    return quad_area(118 + 0.02 * i, 29, 118.01 + 0.02 * i, 29.01 + 0.001 * h);
}

static void put_plot(struct buf *b, int i, int h, const char *code, const char *name,
                     const char *kind)
{
    buf_printf(b, "%s{\"type\":\"Feature\",\"properties\":{\"code\":\"%s\",\"name\":\"%s\"",
               b->len > 1 && b->data[b->len - 1] != '[' ? "," : "", code, name);
    if (kind)
        buf_printf(b, ",\"kind\":\"%s\"", kind);
    buf_printf(b, "},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[%.3f,29],[%.3f,29],"
               "[%.3f,%.3f],[%.3f,%.3f],[%.3f,29]]]}}",
               118 + 0.02 * i, 118.01 + 0.02 * i, 118.01 + 0.02 * i, 29.01 + 0.001 * h,
               118 + 0.02 * i, 29.01 + 0.001 * h, 118 + 0.02 * i);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct err e;
    strcpy(f->dir, "/tmp/ingest_test_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    if (!(f->c = ctx_new(&e)) || store_open(f->path, STORE_CREATE, &f->s, &e) ||
        store_init(f->s, SCHEMA, &e) || store_layers_get(f->s, &f->ls, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    f->l = layers_find(f->ls, "plots");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    layers_free(f->ls);
    store_close(f->s);
    ctx_free(f->c);
    tempdb_remove(f->path, f->dir);
    free(f);
    return 0;
}

static int run(struct fixture *f, const char *text, const struct ingest_opts *o,
               struct ingest_report *r, struct err *e)
{
    err_clear(e);
    return ingest_geojson(f->c, f->s, f->l, text, strlen(text), o, r, e);
}

static void counts(const struct ingest_report *r, size_t added, size_t changed, size_t unchanged,
                   size_t removed)
{
    if (r->added != added || r->changed != changed || r->unchanged != unchanged ||
        r->removed != removed)
        fail_msg("added %zu changed %zu unchanged %zu removed %zu, want %zu %zu %zu %zu", r->added,
                 r->changed, r->unchanged, r->removed, added, changed, unchanged, removed);
}

static void assert_near(double got, double want)
{
    if (!(fabs(got - want) <= 1e-6 * fabs(want) + 1e-6))
        fail_msg("got %.6f, want %.6f", got, want);
}

static long long layer_count(struct fixture *f, double *area)
{
    long long n = -1;
    struct err e;
    assert_int_equal(store_layer_totals(f->s, f->l, &n, area, &e), 0);
    return n;
}

/* The stored kind and version of the plot with this code ("-" when absent). */
struct stored {
    char kind[16], name[16];
    long long version, fid;
};

static int on_row(void *arg, const struct store_row *row, struct err *e)
{
    struct stored *st = arg;
    (void)e;
    snprintf(st->kind, sizeof st->kind, "%s", row->vals[2].type == VAL_TEXT ? row->vals[2].s : "");
    snprintf(st->name, sizeof st->name, "%s", row->vals[1].type == VAL_TEXT ? row->vals[1].s : "");
    st->version = row->version;
    st->fid = row->fid;
    return 0;
}

static struct stored lookup(struct fixture *f, const char *code)
{
    struct stored st = {"-", "-", 0, 0};
    struct store_query q;
    struct err e;
    memset(&q, 0, sizeof q);
    q.layer = f->l;
    q.limit = -1;
    q.n_eq = 1;
    q.eq[0].field = 0;
    q.eq[0].v = (struct value){VAL_TEXT, 0, 0, code};
    assert_int_equal(store_query_rows(f->s, &q, on_row, &st, &e), 0);
    return st;
}

/* Three plots P1..P3 (kinds farm, wood, farm) loaded with change id "load-1". */
static void load_three(struct fixture *f)
{
    struct ingest_opts o;
    struct ingest_report r;
    struct buf b;
    struct err e;
    buf_init(&b);
    buf_puts(&b, "{\"type\":\"FeatureCollection\",\"features\":[");
    put_plot(&b, 0, 0, "P1", "one", "farm");
    put_plot(&b, 1, 0, "P2", "two", "wood");
    put_plot(&b, 2, 0, "P3", "three", "farm");
    buf_puts(&b, "]}");
    ingest_opts_default(&o);
    o.by = "importer";
    o.change_id = "load-1";
    if (run(f, b.data, &o, &r, &e))
        fail_msg("load: %s", e.msg);
    counts(&r, 3, 0, 0, 0);
    assert_near(r.area_change_m2, plot_area(0, 0) + plot_area(1, 0) + plot_area(2, 0));
    assert_string_equal(r.change_id, "load-1");
    assert_int_equal(r.n_invalid, 0);
    assert_true(r.have_box);
    assert_true(fabs(r.changed_box.minx - 118) < 1e-12 && fabs(r.changed_box.maxx - 118.05) < 1e-12);
    buf_clear(&b);
}

/* ---- tests --------------------------------------------------------------- */

static void test_load_and_history(void **state)
{
    struct fixture *f = *state;
    double area;
    struct buf h;
    struct err e;
    json_t *j, *v;
    load_three(f);
    assert_int_equal(layer_count(f, &area), 3);
    assert_near(area, plot_area(0, 0) + plot_area(1, 0) + plot_area(2, 0));
    assert_string_equal(lookup(f, "P2").kind, "wood");
    assert_int_equal(lookup(f, "P2").version, 1);

    /* each feature's history: one import row of the change, its feature the live one */
    buf_init(&h);
    assert_int_equal(edit_history(f->c, f->s, f->l, lookup(f, "P2").fid, &h, &e), 0);
    j = json_loads(h.data, 0, NULL);
    assert_non_null(j);
    v = json_array_get(json_object_get(j, "versions"), 0);
    assert_int_equal(json_array_size(json_object_get(j, "versions")), 1);
    assert_string_equal(json_string_value(json_object_get(v, "op")), "import");
    assert_string_equal(json_string_value(json_object_get(v, "by")), "importer");
    assert_string_equal(json_string_value(json_object_get(v, "change_id")), "load-1");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(v, "feature"), "properties"), "code")),
                        "P2");
    json_decref(j);
    buf_clear(&h);
}

static void test_upsert(void **state)
{
    struct fixture *f = *state;
    struct ingest_opts o;
    struct ingest_report r;
    struct buf b, h;
    struct err e;
    json_t *j, *vs;
    double area;
    long long p2;
    load_three(f);
    p2 = lookup(f, "P2").fid;

    /* the same again: all unchanged, nothing written */
    buf_init(&b);
    buf_puts(&b, "{\"type\":\"FeatureCollection\",\"features\":[");
    put_plot(&b, 0, 0, "P1", "one", "farm");
    put_plot(&b, 1, 0, "P2", "two", "wood");
    put_plot(&b, 2, 0, "P3", "three", "farm");
    buf_puts(&b, "]}");
    ingest_opts_default(&o);
    assert_int_equal(run(f, b.data, &o, &r, &e), 0);
    counts(&r, 0, 0, 3, 0);
    assert_near(r.area_change_m2, 0);
    assert_false(r.have_box);
    assert_int_equal(lookup(f, "P1").version, 1);

    /* P2's kind and P3's shape change, P4 is new, P1 is absent (kept: upsert) */
    buf_reset(&b);
    buf_puts(&b, "{\"type\":\"FeatureCollection\",\"features\":[");
    put_plot(&b, 1, 0, "P2", "two", "farm");
    put_plot(&b, 2, 4, "P3", "three", "farm");
    put_plot(&b, 3, 0, "P4", "four", NULL);
    buf_puts(&b, "]}");
    o.change_id = "up-2";
    assert_int_equal(run(f, b.data, &o, &r, &e), 0);
    counts(&r, 1, 2, 0, 0);
    assert_near(r.area_change_m2, plot_area(3, 0) + plot_area(2, 4) - plot_area(2, 0));
    assert_int_equal(layer_count(f, &area), 4);
    assert_near(area, plot_area(0, 0) + plot_area(1, 0) + plot_area(2, 4) + plot_area(3, 0));
    assert_string_equal(lookup(f, "P2").kind, "farm");
    assert_int_equal(lookup(f, "P2").version, 2);
    assert_int_equal(lookup(f, "P3").version, 2);
    assert_int_equal(lookup(f, "P1").version, 1);
    assert_int_equal(lookup(f, "P4").version, 1);

    /* P2's history keeps the version the import replaced */
    buf_init(&h);
    assert_int_equal(edit_history(f->c, f->s, f->l, p2, &h, &e), 0);
    j = json_loads(h.data, 0, NULL);
    vs = json_object_get(j, "versions");
    assert_int_equal(json_array_size(vs), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(vs, 0), "change_id")),
                        "up-2");
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(json_array_get(vs, 1), "feature"), "properties"),
            "kind")),
        "wood");
    json_decref(j);
    buf_clear(&h);
    buf_clear(&b);
}

static void test_replace_and_dry_run(void **state)
{
    struct fixture *f = *state;
    struct ingest_opts o;
    struct ingest_report r;
    struct buf b, rep;
    struct err e;
    long long v0, v1;
    double area;
    load_three(f);
    buf_init(&b);
    buf_puts(&b, "{\"type\":\"FeatureCollection\",\"features\":[");
    put_plot(&b, 1, 0, "P2", "two", "wood");
    put_plot(&b, 4, 0, "P5", "five", "wood");
    buf_puts(&b, "]}");
    ingest_opts_default(&o);
    o.mode = INGEST_REPLACE;

    /* a dry run reports and writes nothing */
    o.dry_run = 1;
    assert_int_equal(store_data_version(f->s, &v0, &e), 0);
    assert_int_equal(run(f, b.data, &o, &r, &e), 0);
    counts(&r, 1, 0, 1, 2);
    assert_near(r.area_change_m2, plot_area(4, 0) - plot_area(0, 0) - plot_area(2, 0));
    assert_int_equal(store_data_version(f->s, &v1, &e), 0);
    assert_int_equal(v1, v0);
    assert_int_equal(layer_count(f, NULL), 3);
    assert_string_equal(lookup(f, "P5").kind, "-");
    buf_init(&rep);
    ingest_report_json(&r, 1, &rep);
    {
        static const char want[] = "{\"dry_run\":true,\"added\":1,\"changed\":0,\"unchanged\":1,"
                                   "\"removed\":2,\"invalid_count\":0,\"invalid\":[],"
                                   "\"repaired\":[],\"area_change_m2\":";
        assert_int_equal(strncmp(rep.data, want, sizeof want - 1), 0);
    }
    assert_non_null(strstr(rep.data, ",\"change_id\":null}"));
    buf_clear(&rep);

    /* for real: P1 and P3 go */
    o.dry_run = 0;
    assert_int_equal(run(f, b.data, &o, &r, &e), 0);
    counts(&r, 1, 0, 1, 2);
    assert_int_equal(layer_count(f, &area), 2);
    assert_near(area, plot_area(1, 0) + plot_area(4, 0));
    assert_string_equal(lookup(f, "P1").kind, "-");
    assert_string_equal(lookup(f, "P3").kind, "-");
    assert_string_equal(lookup(f, "P5").kind, "wood");
    buf_clear(&b);
}

static void test_invalid_writes_nothing(void **state)
{
    struct fixture *f = *state;
    struct ingest_opts o;
    struct ingest_report r;
    struct buf b;
    struct err e;
    load_three(f);
    buf_init(&b);
    buf_puts(&b, "{\"type\":\"FeatureCollection\",\"features\":[");
    put_plot(&b, 0, 0, "P1", "one", "wood");      /* a valid change */
    put_plot(&b, 5, 0, "P6", "six", "marsh");     /* not one of the kinds */
    put_plot(&b, 6, 0, "P7", "seven", NULL);
    buf_puts(&b, ",{\"type\":\"Feature\",\"properties\":{\"code\":\"P8\"},\"geometry\":"
                 "{\"type\":\"Polygon\",\"coordinates\":[[[118,29],[118.01,29.01],[118.01,29],"
                 "[118,29.01],[118,29]]]}}");
    put_plot(&b, 7, 0, "P7", "again", NULL);      /* a key used twice */
    buf_puts(&b, "]}");
    ingest_opts_default(&o);
    assert_int_equal(run(f, b.data, &o, &r, &e), ERR_INVALID);
    assert_string_equal(e.msg, "3 of 5 features are invalid; first: features[1]: "
                               "properties.kind: 'marsh' is not one of farm, wood");
    assert_int_equal(r.n_invalid, 3);
    assert_int_equal(r.invalid[0].index, 1);
    assert_string_equal(r.invalid[0].key, "P6");
    assert_int_equal(r.invalid[1].index, 3);
    assert_string_equal(r.invalid[1].key, "P8");
    assert_string_equal(r.invalid[1].reason, "geometry: Self-intersection at 118.005 29.005");
    assert_true(r.invalid[1].have_loc);
    assert_true(fabs(r.invalid[1].loc[0] - 118.005) < 1e-9 &&
                fabs(r.invalid[1].loc[1] - 29.005) < 1e-9);
    assert_int_equal(r.invalid[2].index, 4);
    assert_string_equal(r.invalid[2].key, "P7");
    assert_string_equal(r.invalid[2].reason, "properties.code: 'P7' also used by features[2]");
    /* nothing of it was written, not even the valid change */
    assert_int_equal(layer_count(f, NULL), 3);
    assert_string_equal(lookup(f, "P1").kind, "farm");
    assert_string_equal(lookup(f, "P7").kind, "-");

    /* repaired instead: added, with a note */
    buf_reset(&b);
    buf_puts(&b, "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
                 "\"properties\":{\"code\":\"P8\"},\"geometry\":"
                 "{\"type\":\"Polygon\",\"coordinates\":[[[118,29],[118.01,29.01],[118.01,29],"
                 "[118,29.01],[118,29]]]}}]}");
    o.make_valid = 1;
    assert_int_equal(run(f, b.data, &o, &r, &e), 0);
    counts(&r, 1, 0, 0, 0);
    assert_int_equal(r.n_repaired, 1);
    assert_int_equal(r.repaired[0].index, 0);
    assert_string_equal(r.repaired[0].key, "P8");
    assert_string_equal(r.repaired[0].reason,
                        "geometry repaired: Self-intersection at 118.005 29.005");
    assert_near(r.area_change_m2, quad_area(118, 29, 118.01, 29.01) / 2);
    buf_clear(&b);
}

static void test_key_field(void **state)
{
    struct fixture *f = *state;
    struct ingest_opts o;
    struct ingest_report r;
    struct buf b;
    struct err e;
    load_three(f);
    /* matched on name: "two" gets a new code, "nine" is new */
    buf_init(&b);
    buf_puts(&b, "{\"type\":\"FeatureCollection\",\"features\":[");
    put_plot(&b, 1, 0, "P2b", "two", "wood");
    put_plot(&b, 8, 0, "P9", "nine", "wood");
    buf_puts(&b, "]}");
    ingest_opts_default(&o);
    o.key_field = layer_field_index(f->l, "name");
    assert_int_equal(run(f, b.data, &o, &r, &e), 0);
    counts(&r, 1, 1, 0, 0);
    assert_string_equal(lookup(f, "P2").kind, "-");
    assert_string_equal(lookup(f, "P2b").name, "two");
    assert_int_equal(lookup(f, "P2b").version, 2);
    assert_int_equal(layer_count(f, NULL), 4);
    /* a feature without the matching field */
    buf_reset(&b);
    buf_puts(&b, "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
                 "\"properties\":{\"code\":\"P10\"},\"geometry\":"
                 "{\"type\":\"Polygon\",\"coordinates\":[[[118,29],[118.01,29],[118.01,29.01],"
                 "[118,29.01],[118,29]]]}}]}");
    assert_int_equal(run(f, b.data, &o, &r, &e), ERR_INVALID);
    assert_string_equal(e.msg, "1 of 1 features are invalid; first: features[0]: "
                               "properties: the key has no value");
    assert_int_equal(layer_count(f, NULL), 4);
    buf_clear(&b);
}

static void test_refused_uploads(void **state)
{
    struct fixture *f = *state;
    struct ingest_opts o;
    struct ingest_report r;
    struct buf b;
    struct err e;
    ingest_opts_default(&o);
    assert_int_equal(run(f, "{\"type\":\"Feature\",\"features\":[]}", &o, &r, &e), ERR_INVALID);
    assert_string_equal(e.msg, "type: expected \"FeatureCollection\"");
    assert_int_equal(run(f, "{\"type\":\"FeatureCollection\",\"features\":[", &o, &r, &e),
                     ERR_BAD_REQUEST);
    assert_int_equal(strncmp(e.msg, "line 1, column ", 15), 0);
    buf_init(&b);
    buf_puts(&b, "{\"type\":\"FeatureCollection\",\"features\":[");
    put_plot(&b, 0, 0, "P1", "one", NULL);
    put_plot(&b, 1, 0, "P2", "two", NULL);
    put_plot(&b, 2, 0, "P3", "three", NULL);
    buf_puts(&b, "]}");
    o.max_features = 2;
    assert_int_equal(run(f, b.data, &o, &r, &e), ERR_TOO_LARGE);
    assert_string_equal(e.msg, "features: 3 features, more than the limit of 2 (max_features)");
    ingest_opts_default(&o);
    o.encoding = "KLINGON-8";
    assert_int_equal(run(f, b.data, &o, &r, &e), ERR_PARAM);
    assert_int_equal(strncmp(e.msg, "encoding: unknown text encoding 'KLINGON-8'", 43), 0);
    assert_int_equal(layer_count(f, NULL), 0);
    /* an empty collection into an empty layer: nothing to do */
    ingest_opts_default(&o);
    assert_int_equal(run(f, "{\"type\":\"FeatureCollection\",\"features\":[]}", &o, &r, &e), 0);
    counts(&r, 0, 0, 0, 0);
    buf_clear(&b);
}

static void test_export(void **state)
{
    struct fixture *f = *state;
    struct buf b;
    struct err e;
    json_t *j, *feats;
    load_three(f);
    buf_init(&b);
    assert_int_equal(ingest_export(f->c, f->s, f->l, &b, &e), 0);
    j = json_loads(b.data, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "FeatureCollection");
    assert_string_equal(json_string_value(json_object_get(j, "name")), "plots");
    feats = json_object_get(j, "features");
    assert_int_equal(json_array_size(feats), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *p = json_object_get(json_array_get(feats, i), "properties");
        char code[8];
        snprintf(code, sizeof code, "P%zu", i + 1);
        assert_string_equal(json_string_value(json_object_get(p, "code")), code);
        assert_near(json_number_value(json_object_get(p, "area_m2")), plot_area((int)i, 0));
    }
    json_decref(j);
    buf_clear(&b);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_load_and_history), T(test_upsert),   T(test_replace_and_dry_run),
        T(test_invalid_writes_nothing), T(test_key_field), T(test_refused_uploads),
        T(test_export),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
