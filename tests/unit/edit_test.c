/* edit_test: single-feature writes against a real store — create (one
 * Feature or a FeatureCollection, all or nothing), replace, merge patch and
 * delete with If-Match versions, roles and grid scopes, and the history row
 * each version leaves; RFC 7396 merge patch on its own (the RFC's example).
 * What was written is read back through the store; areas against the
 * closed form of a quadrangle on GRS80 computed here. */
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

#define GRS80_A 6378137.0
#define GRS80_F (1 / 298.257222101)
#define DEG (M_PI / 180)

static const char *SCHEMA =
    "{\"layers\":[{\"id\":\"plots\",\"key\":\"code\",\"fields\":["
    "{\"name\":\"code\",\"type\":\"string\",\"required\":true,\"pattern\":\"^P[0-9]{3}$\"},"
    "{\"name\":\"kind\",\"type\":\"string\",\"enum\":[\"farm\",\"wood\"]},"
    "{\"name\":\"households\",\"type\":\"integer\"}]},"
    "{\"id\":\"grids\",\"key\":\"code\",\"fields\":["
    "{\"name\":\"code\",\"type\":\"string\",\"required\":true}]}]}";

#define POLY(x0, y0, x1, y1)                                                                     \
    "{\"type\":\"Polygon\",\"coordinates\":[[[" #x0 "," #y0 "],[" #x1 "," #y0 "],[" #x1 "," #y1 \
    "],[" #x0 "," #y1 "],[" #x0 "," #y0 "]]]}"
#define FEAT(props, geom) "{\"type\":\"Feature\",\"properties\":" props ",\"geometry\":" geom "}"

struct fixture {
    char dir[64], path[128];
    ctx *c;
    store *s;
    struct layers *ls;
    const struct layer *plots, *grids;
    struct principal editor, admin, reader, scoped;
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

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct err e;
    strcpy(f->dir, "/tmp/edit_test_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    if (!(f->c = ctx_new(&e)) || store_open(f->path, STORE_CREATE, &f->s, &e) ||
        store_init(f->s, SCHEMA, &e) || store_layers_get(f->s, &f->ls, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    f->plots = layers_find(f->ls, "plots");
    f->grids = layers_find(f->ls, "grids");
    f->editor = (struct principal){"eddie", ROLE_EDITOR, ""};
    f->admin = (struct principal){"root", ROLE_ADMIN, ""};
    f->reader = (struct principal){"rita", ROLE_READER, ""};
    f->scoped = (struct principal){"sam", ROLE_EDITOR, "G001"};
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

static struct edit_req req(struct fixture *f, const struct layer *l, const struct principal *who)
{
    struct edit_req q;
    memset(&q, 0, sizeof q);
    q.layers = f->ls;
    q.layer = l;
    q.who = who;
    q.crs = CRS_CRS84;
    q.axis = CRS_AXIS_XY;
    q.if_match = -1;
    return q;
}

static long long create(struct fixture *f, const struct layer *l, const struct principal *who,
                        const char *body)
{
    struct edit_req q = req(f, l, who);
    struct edit_result r;
    struct err e;
    memset(&r, 0, sizeof r);
    if (edit_create(f->c, f->s, &q, body, strlen(body), &r, &e))
        fail_msg("create: %s", e.msg);
    long long fid = r.fid;
    edit_result_clear(&r);
    return fid;
}

/* The stored state of a plot, read through the store. */
struct state {
    int found;
    long long version;
    double area;
    char code[16], kind[16];
    long long hh;
    int hh_null;
};

static int on_row(void *arg, const struct store_row *row, struct err *e)
{
    struct state *st = arg;
    (void)e;
    st->found = 1;
    st->version = row->version;
    st->area = row->area_m2;
    snprintf(st->code, sizeof st->code, "%s", row->vals[0].s);
    snprintf(st->kind, sizeof st->kind, "%s",
             row->vals[1].type == VAL_TEXT ? row->vals[1].s : "(null)");
    st->hh_null = row->vals[2].type == VAL_NULL;
    st->hh = row->vals[2].i;
    return 0;
}

static struct state stored(struct fixture *f, long long fid)
{
    struct store_query q;
    struct state st;
    struct err e;
    memset(&st, 0, sizeof st);
    memset(&q, 0, sizeof q);
    q.layer = f->plots;
    q.fid = fid;
    q.limit = -1;
    if (store_query_rows(f->s, &q, on_row, &st, &e))
        fail_msg("query: %s", e.msg);
    return st;
}

static long long plots_count(struct fixture *f)
{
    long long n = -1;
    struct err e;
    assert_int_equal(store_layer_totals(f->s, f->plots, &n, NULL, &e), 0);
    return n;
}

/* The history of a plot as parsed JSON: {"versions":[...]} */
static json_t *history(struct fixture *f, long long fid)
{
    struct buf b;
    struct err e;
    json_t *j;
    buf_init(&b);
    if (edit_history(f->c, f->s, f->plots, fid, &b, &e))
        fail_msg("history: %s", e.msg);
    j = json_loads(b.data, 0, NULL);
    assert_non_null(j);
    buf_clear(&b);
    assert_non_null(json_object_get(j, "versions"));
    return j;
}

static const char *version_member(json_t *h, size_t i, const char *name)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(h, "versions"), i),
                                             name));
}

/* ---- create -------------------------------------------------------------- */

static void test_create(void **state)
{
    struct fixture *f = *state;
    const char *body = FEAT("{\"code\":\"P001\",\"kind\":\"farm\",\"households\":4}",
                            POLY(118, 29, 118.01, 29.01));
    struct edit_req q = req(f, f->plots, &f->editor);
    struct edit_result r;
    struct buf out;
    struct state st;
    json_t *h, *j;
    struct err e;
    double want = quad_area(118, 29, 118.01, 29.01);
    memset(&r, 0, sizeof r);
    buf_init(&out);
    q.change_id = "chg-1";
    q.feature_out = &out;
    assert_int_equal(edit_create(f->c, f->s, &q, body, strlen(body), &r, &e), 0);
    assert_true(r.fid > 0);
    assert_int_equal(r.version, 1);
    assert_string_equal(r.change_id, "chg-1");
    assert_int_equal(r.n_boxes, 1);
    assert_true(r.boxes[0].minx == 118 && r.boxes[0].miny == 29 && r.boxes[0].maxx == 118.01 &&
                r.boxes[0].maxy == 29.01);
    /* the reply is the feature as written */
    j = json_loads(out.data, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "id")), r.fid);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "properties"), "kind")),
                        "farm");
    json_decref(j);
    buf_clear(&out);

    st = stored(f, r.fid);
    assert_true(st.found);
    assert_int_equal(st.version, 1);
    assert_string_equal(st.code, "P001");
    assert_int_equal(st.hh, 4);
    assert_true(fabs(st.area - want) < 1e-6 * want);

    h = history(f, r.fid);
    assert_int_equal(json_array_size(json_object_get(h, "versions")), 1);
    assert_string_equal(version_member(h, 0, "op"), "create");
    assert_string_equal(version_member(h, 0, "by"), "eddie");
    assert_string_equal(version_member(h, 0, "change_id"), "chg-1");
    json_decref(h);
    edit_result_clear(&r);

    /* a change id is made when none is given: time and 8 hex digits */
    q = req(f, f->plots, &f->editor);
    body = FEAT("{\"code\":\"P002\"}", POLY(118, 29, 118.01, 29.01));
    assert_int_equal(edit_create(f->c, f->s, &q, body, strlen(body), &r, &e), 0);
    assert_int_equal(strlen(r.change_id), 16 + 1 + 8);
    assert_int_equal(r.change_id[8], 'T');
    assert_int_equal(r.change_id[15], 'Z');
    assert_int_equal(r.change_id[16], '-');
    assert_int_equal(strspn(r.change_id + 17, "0123456789abcdef"), 8);
    edit_result_clear(&r);
    assert_int_equal(plots_count(f), 2);
}

static void expect_create_error(struct fixture *f, const struct principal *who, const char *body,
                                int code, const char *msg)
{
    struct edit_req q = req(f, f->plots, who);
    struct edit_result r;
    struct err e;
    long long before = plots_count(f);
    int rc;
    memset(&r, 0, sizeof r);
    rc = edit_create(f->c, f->s, &q, body, strlen(body), &r, &e);
    if (rc != code || strcmp(e.msg, msg))
        fail_msg("got %d '%s', want %d '%s'", rc, e.msg, code, msg);
    edit_result_clear(&r);
    assert_int_equal(plots_count(f), before);
}

static void test_create_refused(void **state)
{
    struct fixture *f = *state;
    expect_create_error(f, &f->editor, FEAT("{\"code\":\"P001\",\"kind\":\"swamp\"}",
                                            POLY(118, 29, 118.01, 29.01)),
                        ERR_INVALID, "properties.kind: 'swamp' is not one of farm, wood");
    expect_create_error(f, &f->editor, FEAT("{\"code\":\"P001\",\"colour\":\"red\"}",
                                            POLY(118, 29, 118.01, 29.01)),
                        ERR_INVALID, "properties.colour: not a field of plots");
    expect_create_error(f, &f->editor, FEAT("{\"code\":\"P001\"}", "null"), ERR_INVALID,
                        "geometry: required (layer plots takes Polygon or MultiPolygon)");
    expect_create_error(f, &f->editor, "{\"type\":\"FeatureCollection\",\"features\":{}}",
                        ERR_INVALID, "features: expected an array");
    expect_create_error(f, &f->reader, FEAT("{\"code\":\"P001\"}", POLY(118, 29, 118.01, 29.01)),
                        ERR_FORBIDDEN, "token 'rita' has role reader; writing needs editor or admin");
    expect_create_error(f, NULL, FEAT("{\"code\":\"P001\"}", POLY(118, 29, 118.01, 29.01)),
                        ERR_FORBIDDEN, "token '' has role none; writing needs editor or admin");
    {
        struct edit_req q = req(f, f->plots, &f->editor);
        struct edit_result r;
        struct err e;
        memset(&r, 0, sizeof r);
        assert_int_equal(edit_create(f->c, f->s, &q, "{\"type\":", 8, &r, &e), ERR_BAD_REQUEST);
        assert_int_equal(strncmp(e.msg, "body: line 1, column ", 21), 0);
        edit_result_clear(&r);
    }
    /* a key taken */
    create(f, f->plots, &f->editor, FEAT("{\"code\":\"P001\"}", POLY(118, 29, 118.01, 29.01)));
    expect_create_error(f, &f->editor, FEAT("{\"code\":\"P001\"}", POLY(118, 29, 118.01, 29.01)),
                        ERR_CONFLICT, "plots: a feature with code 'P001' exists already");
}

static void test_create_collection(void **state)
{
    struct fixture *f = *state;
    const char *two = "{\"type\":\"FeatureCollection\",\"features\":["
                      FEAT("{\"code\":\"P001\"}", POLY(118, 29, 118.01, 29.01)) ","
                      FEAT("{\"code\":\"P002\"}", POLY(118.02, 29.02, 118.03, 29.04)) "]}";
    struct edit_req q = req(f, f->plots, &f->editor);
    struct edit_result r;
    struct err e;
    char want[64];
    long long fid;
    memset(&r, 0, sizeof r);
    q.max_features = 1;
    assert_int_equal(edit_create(f->c, f->s, &q, two, strlen(two), &r, &e), ERR_TOO_LARGE);
    assert_string_equal(e.msg, "features: 2 features, more than the limit of 1 (max_features)");
    edit_result_clear(&r);
    assert_int_equal(plots_count(f), 0);

    q.max_features = 0;
    assert_int_equal(edit_create(f->c, f->s, &q, two, strlen(two), &r, &e), 0);
    assert_int_equal(r.created, 2);
    assert_int_equal(r.n_more, 2);
    assert_true(r.more[1].minx == 118.02 && r.more[1].maxy == 29.04);
    assert_int_equal(store_feature_fid_by_key(f->s, f->plots, "P001", &fid, &e), 0);
    snprintf(want, sizeof want, "[%lld,%lld]", fid, fid + 1);
    assert_string_equal(r.ids.data, want);
    edit_result_clear(&r);
    assert_int_equal(plots_count(f), 2);

    /* one bad feature: nothing of the collection is written */
    expect_create_error(f, &f->editor,
                        "{\"type\":\"FeatureCollection\",\"features\":["
                        FEAT("{\"code\":\"P003\"}", POLY(118, 29, 118.01, 29.01)) ","
                        FEAT("{\"kind\":\"farm\"}", POLY(118, 29, 118.01, 29.01)) "]}",
                        ERR_INVALID, "features[1]: properties.code: required");
    expect_create_error(f, &f->editor,
                        "{\"type\":\"FeatureCollection\",\"features\":["
                        FEAT("{\"code\":\"P004\"}", POLY(118, 29, 118.01, 29.01)) ","
                        FEAT("{\"code\":\"P004\"}", POLY(118, 29, 118.01, 29.01)) "]}",
                        ERR_CONFLICT, "features[1]: plots: a feature with code 'P004' exists already");
    assert_int_equal(store_feature_fid_by_key(f->s, f->plots, "P004", &fid, &e), ERR_NOT_FOUND);
}

/* ---- replace, patch, delete ---------------------------------------------- */

static void test_replace(void **state)
{
    struct fixture *f = *state;
    long long fid = create(f, f->plots, &f->editor,
                           FEAT("{\"code\":\"P001\",\"kind\":\"farm\"}", POLY(118, 29, 118.01, 29.01)));
    const char *body = FEAT("{\"code\":\"P001\",\"households\":9}", POLY(118, 29, 118.02, 29.01));
    struct edit_req q = req(f, f->plots, &f->editor);
    struct edit_result r;
    struct state st;
    struct err e;
    char want[64];
    double area = quad_area(118, 29, 118.02, 29.01);
    json_t *h;
    memset(&r, 0, sizeof r);
    q.if_match = 1;
    assert_int_equal(edit_replace(f->c, f->s, &q, fid, body, strlen(body), &r, &e), 0);
    assert_int_equal(r.fid, fid);
    assert_int_equal(r.version, 2);
    assert_int_equal(r.n_boxes, 2); /* old and new bounds */
    assert_true(r.boxes[0].maxx == 118.01 && r.boxes[1].maxx == 118.02);
    edit_result_clear(&r);
    st = stored(f, fid);
    assert_int_equal(st.version, 2);
    assert_string_equal(st.kind, "(null)"); /* replaced, not merged */
    assert_int_equal(st.hh, 9);
    assert_true(fabs(st.area - area) < 1e-6 * area);

    /* a stale version: refused, nothing changes */
    assert_int_equal(edit_replace(f->c, f->s, &q, fid, body, strlen(body), &r, &e),
                     ERR_PRECONDITION);
    assert_string_equal(e.msg, "If-Match: the feature is at version 2, not 1 (someone changed it "
                               "since you read it)");
    edit_result_clear(&r);
    assert_int_equal(stored(f, fid).version, 2);

    q.if_match = -1;
    assert_int_equal(edit_replace(f->c, f->s, &q, fid + 50, body, strlen(body), &r, &e),
                     ERR_NOT_FOUND);
    snprintf(want, sizeof want, "plots/%lld: no such feature", fid + 50);
    assert_string_equal(e.msg, want);
    edit_result_clear(&r);
    /* an invalid replacement */
    body = FEAT("{\"code\":\"X1\"}", POLY(118, 29, 118.02, 29.01));
    assert_int_equal(edit_replace(f->c, f->s, &q, fid, body, strlen(body), &r, &e), ERR_INVALID);
    assert_string_equal(e.msg, "properties.code: 'X1' does not match ^P[0-9]{3}$");
    edit_result_clear(&r);

    h = history(f, fid);
    assert_int_equal(json_array_size(json_object_get(h, "versions")), 2);
    assert_string_equal(version_member(h, 0, "op"), "replace");
    assert_string_equal(version_member(h, 1, "op"), "create");
    /* the old version is kept as it was */
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(json_array_get(json_object_get(h, "versions"), 1),
                                            "feature"),
                            "properties"),
            "kind")),
        "farm");
    json_decref(h);
}

static void test_patch(void **state)
{
    struct fixture *f = *state;
    long long fid = create(f, f->plots, &f->editor,
                           FEAT("{\"code\":\"P001\",\"kind\":\"farm\",\"households\":3}",
                                POLY(118, 29, 118.01, 29.01)));
    struct edit_req q = req(f, f->plots, &f->editor);
    struct edit_result r;
    struct state st;
    struct err e;
    double area = quad_area(118, 29, 118.01, 29.01);
    const char *p1 = "{\"properties\":{\"kind\":\"wood\"}}";
    const char *p2 = "{\"properties\":{\"households\":null},\"geometry\":" POLY(118, 29, 118.01, 29.03) "}";
    json_t *h;
    memset(&r, 0, sizeof r);
    assert_int_equal(edit_patch(f->c, f->s, &q, fid, p1, strlen(p1), &r, &e), 0);
    assert_int_equal(r.version, 2);
    edit_result_clear(&r);
    st = stored(f, fid);
    assert_string_equal(st.kind, "wood");
    assert_string_equal(st.code, "P001");
    assert_int_equal(st.hh, 3);
    assert_true(fabs(st.area - area) < 1e-6 * area); /* the geometry untouched */

    q.if_match = 2;
    area = quad_area(118, 29, 118.01, 29.03);
    assert_int_equal(edit_patch(f->c, f->s, &q, fid, p2, strlen(p2), &r, &e), 0);
    assert_int_equal(r.version, 3);
    edit_result_clear(&r);
    st = stored(f, fid);
    assert_true(st.hh_null);
    assert_string_equal(st.kind, "wood");
    assert_true(fabs(st.area - area) < 1e-6 * area);

    /* stale, invalid, not an object: nothing changes */
    assert_int_equal(edit_patch(f->c, f->s, &q, fid, p1, strlen(p1), &r, &e), ERR_PRECONDITION);
    assert_string_equal(e.msg, "If-Match: the feature is at version 3, not 2 (someone changed it "
                               "since you read it)");
    edit_result_clear(&r);
    q.if_match = -1;
    assert_int_equal(edit_patch(f->c, f->s, &q, fid, "{\"properties\":{\"code\":null}}",
                                strlen("{\"properties\":{\"code\":null}}"), &r, &e), ERR_INVALID);
    assert_string_equal(e.msg, "properties.code: required");
    edit_result_clear(&r);
    assert_int_equal(edit_patch(f->c, f->s, &q, fid, "[1]", 3, &r, &e), ERR_BAD_REQUEST);
    assert_string_equal(e.msg, "body: a merge patch must be a JSON object");
    edit_result_clear(&r);
    assert_int_equal(stored(f, fid).version, 3);

    h = history(f, fid);
    assert_int_equal(json_array_size(json_object_get(h, "versions")), 3);
    assert_string_equal(version_member(h, 0, "op"), "update");
    assert_string_equal(version_member(h, 1, "op"), "update");
    assert_string_equal(version_member(h, 2, "op"), "create");
    json_decref(h);
}

static void test_delete(void **state)
{
    struct fixture *f = *state;
    long long fid = create(f, f->plots, &f->editor,
                           FEAT("{\"code\":\"P001\",\"kind\":\"farm\"}", POLY(118, 29, 118.01, 29.01)));
    struct edit_req q = req(f, f->plots, &f->admin);
    struct edit_result r;
    struct err e;
    char want[64];
    json_t *h, *last;
    memset(&r, 0, sizeof r);
    q.if_match = 5;
    assert_int_equal(edit_delete(f->c, f->s, &q, fid, &r, &e), ERR_PRECONDITION);
    assert_string_equal(e.msg, "If-Match: the feature is at version 1, not 5 (someone changed it "
                               "since you read it)");
    edit_result_clear(&r);
    assert_true(stored(f, fid).found);
    q.if_match = 1;
    q.change_id = "del-1";
    assert_int_equal(edit_delete(f->c, f->s, &q, fid, &r, &e), 0);
    assert_int_equal(r.version, 2);
    assert_int_equal(r.n_boxes, 1);
    edit_result_clear(&r);
    assert_false(stored(f, fid).found);
    assert_int_equal(plots_count(f), 0);
    assert_int_equal(edit_delete(f->c, f->s, &q, fid, &r, &e), ERR_NOT_FOUND);
    snprintf(want, sizeof want, "plots/%lld: no such feature", fid);
    assert_string_equal(e.msg, want);
    edit_result_clear(&r);

    /* the history outlives the feature; the delete keeps its last state */
    h = history(f, fid);
    assert_int_equal(json_array_size(json_object_get(h, "versions")), 2);
    assert_string_equal(version_member(h, 0, "op"), "delete");
    assert_string_equal(version_member(h, 0, "by"), "root");
    assert_string_equal(version_member(h, 0, "change_id"), "del-1");
    last = json_object_get(json_array_get(json_object_get(h, "versions"), 0), "feature");
    assert_string_equal(json_string_value(json_object_get(json_object_get(last, "properties"),
                                                          "code")), "P001");
    json_decref(h);
    {
        struct buf b;
        buf_init(&b);
        assert_int_equal(edit_history(f->c, f->s, f->plots, fid + 9, &b, &e), ERR_NOT_FOUND);
        snprintf(want, sizeof want, "plots/%lld: no such feature and no history", fid + 9);
        assert_string_equal(e.msg, want);
        buf_clear(&b);
    }
}

/* ---- grid scope ---------------------------------------------------------- */

static void test_grid_scope(void **state)
{
    struct fixture *f = *state;
    const char *inside = FEAT("{\"code\":\"P001\"}", POLY(118.01, 29.01, 118.02, 29.02));
    const char *outside = FEAT("{\"code\":\"P002\"}", POLY(118.2, 29.01, 118.21, 29.02));
    const char *across = FEAT("{\"code\":\"P001\"}", POLY(118.09, 29.01, 118.11, 29.02));
    struct edit_req q;
    struct edit_result r;
    struct err e;
    long long in_fid, out_fid;
    struct principal nowhere = {"nora", ROLE_EDITOR, "G009"};
    memset(&r, 0, sizeof r);
    create(f, f->grids, &f->admin, FEAT("{\"code\":\"G001\"}", POLY(118, 29, 118.1, 29.1)));

    in_fid = create(f, f->plots, &f->scoped, inside);
    assert_true(in_fid > 0);
    expect_create_error(f, &f->scoped, outside, ERR_FORBIDDEN,
                        "grid rule: token 'sam' may change only geometries within grids G001; "
                        "the new geometry is not");
    expect_create_error(f, &nowhere, outside, ERR_FORBIDDEN,
                        "token 'nora' is limited to grids G009, none of which exists");

    /* moving a feature out of the grid, or changing one outside it */
    q = req(f, f->plots, &f->scoped);
    assert_int_equal(edit_replace(f->c, f->s, &q, in_fid, across, strlen(across), &r, &e),
                     ERR_FORBIDDEN);
    assert_string_equal(e.msg, "grid rule: token 'sam' may change only geometries within grids "
                               "G001; the new geometry is not");
    edit_result_clear(&r);
    out_fid = create(f, f->plots, &f->editor, outside);
    assert_int_equal(edit_patch(f->c, f->s, &q, out_fid, "{\"properties\":{\"kind\":\"wood\"}}",
                                30, &r, &e), ERR_FORBIDDEN);
    assert_string_equal(e.msg, "grid rule: token 'sam' may change only geometries within grids "
                               "G001; the current geometry is not");
    edit_result_clear(&r);
    assert_int_equal(edit_delete(f->c, f->s, &q, out_fid, &r, &e), ERR_FORBIDDEN);
    edit_result_clear(&r);
    assert_true(stored(f, out_fid).found);
    assert_int_equal(stored(f, out_fid).version, 1);
    /* inside: allowed */
    assert_int_equal(edit_delete(f->c, f->s, &q, in_fid, &r, &e), 0);
    edit_result_clear(&r);
}

/* ---- merge patch ---------------------------------------------------------- */

static void expect_merge(const char *target, const char *patch, const char *want)
{
    struct buf out;
    struct err e;
    buf_init(&out);
    if (edit_merge_patch(target, strlen(target), patch, strlen(patch), &out, &e))
        fail_msg("merge: %s", e.msg);
    if (strcmp(out.data, want))
        fail_msg("%s + %s: got %s, want %s", target, patch, out.data, want);
    buf_clear(&out);
}

static void test_merge_patch(void **state)
{
    struct buf out;
    struct err e;
    (void)state;
    /* RFC 7396 section 3's example */
    expect_merge("{\"title\":\"Goodbye!\",\"author\":{\"givenName\":\"John\",\"familyName\":\"Doe\"},"
                 "\"tags\":[\"example\",\"sample\"],\"content\":\"This will be unchanged\"}",
                 "{\"title\":\"Hello!\",\"phoneNumber\":\"+01-123-456-7890\","
                 "\"author\":{\"familyName\":null},\"tags\":[\"example\"]}",
                 "{\"title\":\"Hello!\",\"author\":{\"givenName\":\"John\"},\"tags\":[\"example\"],"
                 "\"content\":\"This will be unchanged\",\"phoneNumber\":\"+01-123-456-7890\"}");
    /* some of appendix A's cases */
    expect_merge("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
    expect_merge("{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}");
    expect_merge("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}");
    expect_merge("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
    expect_merge("{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}");
    expect_merge("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}");
    expect_merge("[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]");
    expect_merge("{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]");
    expect_merge("{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}");
    expect_merge("[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}");
    expect_merge("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}");

    buf_init(&out);
    assert_int_equal(edit_merge_patch("{\"a\":", 5, "{}", 2, &out, &e), ERR_BAD_REQUEST);
    assert_int_equal(strncmp(e.msg, "target: body: line 1, column ", 29), 0);
    assert_int_equal(edit_merge_patch("{}", 2, "{\"a\":1,\"a\":2}", 13, &out, &e), ERR_BAD_REQUEST);
    assert_int_equal(strncmp(e.msg, "patch: body: line 1, column ", 28), 0);
    assert_non_null(strstr(e.msg, "duplicate"));
    buf_clear(&out);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_create),  T(test_create_refused), T(test_create_collection), T(test_replace),
        T(test_patch),   T(test_delete),         T(test_grid_scope),
        cmocka_unit_test(test_merge_patch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
