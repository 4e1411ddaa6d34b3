/* store_filter_test: CQL2 filters compiled to SQL and run against a real
 * SpatiaLite store. The store holds a grid of axis-aligned squares with
 * varied attributes; every filter's result is compared with a brute-force
 * evaluation written here in plain C over the same squares (box geometry
 * by coordinates, attributes by value), never with onemap's own output.
 * Coordinates are multiples of 1/128 degree so that every edge and every
 * literal is exact in binary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cql2.h"
#include "crs.h"
#include "feature.h"
#include "file.h"
#include "store_filter.h"

#define NX 12
#define NY 10
#define N (NX * NY)
#define X0 118.25
#define Y0 29.0
#define CELL (1.0 / 64)

struct sq {
    int idx;
    long long fid;
    double x0, y0, x1, y1;
    int full;
    const char *status;
    int hh_null;
    long long hh;
    double floor_area;
    long long graves;
    const char *reuse;
    char date[16];
    char code[16];
};

static const char *const STATUS[] = {"planned", "negotiating", "signed", "demolished", "reused"};
static const char *const REUSE[] = {"park",     "park_east", "parkside", "50%_green",
                                    "500green", "road_1",    "roadX1",   NULL};

static struct sq SQ[N];
static char DIR[64];
static store *S;
static ctx *C;
static struct layers *LS;
static const struct layer *SITES, *FARM;
static double QB[4]; /* the query box of the current spatial check */
static double QP[2]; /* the query point */

/* ---- the data set ------------------------------------------------------- */

static void make_square(unsigned i)
{
    struct sq *s = &SQ[i];
    int cx = i % NX, cy = i / NX;
    s->idx = i;
    s->full = i % 3 != 0;
    s->x0 = X0 + cx * CELL;
    s->y0 = Y0 + cy * CELL;
    s->x1 = s->x0 + (s->full ? CELL : CELL / 2);
    s->y1 = s->y0 + (s->full ? CELL : CELL / 2);
    s->status = STATUS[i % 5];
    s->hh_null = i % 11 == 0;
    s->hh = (i * 7) % 23;
    s->floor_area = (i * 13 % 50) * 10.5;
    s->graves = i % 4;
    s->reuse = REUSE[i % 8];
    snprintf(s->date, sizeof s->date, "2020-%02d-%02d", 1 + i % 12, 1 + (i * 3) % 28);
    snprintf(s->code, sizeof s->code, "D-%03d", i);
}

static void insert_square(int i)
{
    struct sq *s = &SQ[i];
    struct feature_in f;
    struct limits lim;
    struct err e;
    struct buf b;
    json_t *j;
    buf_init(&b);
    buf_printf(&b,
               "{\"type\":\"Feature\",\"properties\":{\"code\":\"%s\",\"project\":\"P%d\","
               "\"status\":\"%s\",\"graves\":%lld,\"floor_area_m2\":%.17g,\"start_date\":\"%s\","
               "\"village_code\":\"V%d\"",
               s->code, i % 4, s->status, s->graves, s->floor_area, s->date, i % 3);
    if (!s->hh_null)
        buf_printf(&b, ",\"households\":%lld", s->hh);
    if (s->reuse)
        buf_printf(&b, ",\"reuse\":\"%s\"", s->reuse);
    buf_printf(&b,
               "},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[%.17g,%.17g],"
               "[%.17g,%.17g],[%.17g,%.17g],[%.17g,%.17g],[%.17g,%.17g]]]}}",
               s->x0, s->y0, s->x1, s->y0, s->x1, s->y1, s->x0, s->y1, s->x0, s->y0);
    j = json_loads(b.data, 0, NULL);
    assert_non_null(j);
    limits_default(&lim);
    if (feature_parse(C, SITES, j, CRS_4490, CRS_AXIS_XY, &lim, 0, &f, &e))
        fail_msg("feature %d: %s", i, e.msg);
    if (feature_insert(C, S, SITES, &f, &s->fid, &e))
        fail_msg("insert %d: %s", i, e.msg);
    feature_in_clear(C, &f);
    json_decref(j);
    buf_clear(&b);
}

static int setup(void **state)
{
    char path[128], *schema = NULL;
    size_t len;
    struct err e;
    strcpy(DIR, "/tmp/store_filter_test_XXXXXX");
    if (!mkdtemp(DIR))
        return -1;
    snprintf(path, sizeof path, "%s/t.db", DIR);
    if (!(C = ctx_new(&e)) || store_open(path, STORE_CREATE, &S, &e) ||
        file_read_all(ONEMAP_GEODATA_DIR "/layers.json", &schema, &len, &e) ||
        store_init(S, schema, &e) || store_layers_get(S, &LS, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        free(schema);
        return -1;
    }
    free(schema);
    SITES = layers_find(LS, "demolition_sites");
    FARM = layers_find(LS, "farmland");
    if (!SITES || !FARM || store_begin(S, &e))
        return -1;
    for (int i = 0; i < N; i++) {
        make_square(i);
        insert_square(i);
    }
    return store_commit(S, &e);
}

static int teardown(void **state)
{
    char path[128];
    layers_free(LS);
    store_close(S);
    ctx_free(C);
    snprintf(path, sizeof path, "%s/t.db", DIR);
    unlink(path);
    strcat(path, "-wal");
    unlink(path);
    path[strlen(path) - 4] = '\0';
    strcat(path, "-shm");
    unlink(path);
    rmdir(DIR);
    return 0;
}

/* ---- running filters ---------------------------------------------------- */

struct hits {
    long long fid[N + 1];
    size_t n;
};

static int on_row(void *arg, const struct store_row *row, struct err *e)
{
    struct hits *h = arg;
    if (h->n > N)
        return err_set(e, ERR_INTERNAL, "too many rows");
    h->fid[h->n++] = row->fid;
    return 0;
}

/* Parses, compiles and runs filter; returns 0 or the error code. */
static int run(const struct layer *l, const char *filter, int crs, int axis, struct hits *h,
               struct err *e)
{
    struct cql2_node *ast = NULL;
    struct store_filter f;
    struct store_query q;
    long long count = -1;
    int rc;
    memset(&f, 0, sizeof f);
    memset(h, 0, sizeof *h);
    if ((rc = cql2_parse(filter, &ast, e)))
        return rc;
    rc = store_filter_compile(C, l, STORE_SQLITE, ast, crs, axis, &f, e);
    cql2_free(ast);
    if (!rc) {
        memset(&q, 0, sizeof q);
        q.layer = l;
        q.filter = &f;
        q.limit = -1;
        rc = store_query_rows(S, &q, on_row, h, e);
        if (!rc)
            rc = store_query_count(S, &q, &count, e);
        if (!rc)
            assert_int_equal(count, (long long)h->n);
    }
    store_filter_clear(&f);
    return rc;
}

typedef int (*pred_fn)(const struct sq *s);

static void check_crs(const char *filter, int crs, int axis, pred_fn pred)
{
    struct hits h;
    struct err e;
    size_t k = 0, want = 0;
    if (run(SITES, filter, crs, axis, &h, &e))
        fail_msg("%s: %s", filter, e.msg);
    for (int i = 0; i < N; i++) {
        if (!pred(&SQ[i]))
            continue;
        want++;
        if (k >= h.n || h.fid[k] != SQ[i].fid)
            fail_msg("%s: feature %d (fid %lld) should match%s", filter, i, SQ[i].fid,
                     k < h.n ? "" : " (too few rows)");
        k++;
    }
    if (h.n != want)
        fail_msg("%s: %zu rows, expected %zu", filter, h.n, want);
}

static void check(const char *filter, pred_fn pred)
{
    check_crs(filter, CRS_CRS84, CRS_AXIS_AUTHORITY, pred);
}

static void check_error(const struct layer *l, const char *filter, const char *want)
{
    struct hits h;
    struct err e;
    int rc = run(l, filter, CRS_CRS84, CRS_AXIS_AUTHORITY, &h, &e);
    if (rc != ERR_PARAM)
        fail_msg("%s: rc %d (%s), expected ERR_PARAM", filter, rc, rc ? e.msg : "ok");
    if (strncmp(e.msg, want, strlen(want)))
        fail_msg("%s\n  got  %s\n  want %s", filter, e.msg, want);
}

/* ---- attribute predicates ----------------------------------------------- */

static int p_signed(const struct sq *s)
{
    return !strcmp(s->status, "signed");
}
static int p_hh_gt10(const struct sq *s)
{
    return !s->hh_null && s->hh > 10;
}
static int p_hh_10_15(const struct sq *s)
{
    return !s->hh_null && s->hh >= 10 && s->hh <= 15;
}
static int p_hh_5_9(const struct sq *s)
{
    return !s->hh_null && s->hh >= 5 && s->hh <= 9;
}
static int p_hh_not_5_9(const struct sq *s)
{
    return !s->hh_null && !(s->hh >= 5 && s->hh <= 9);
}
static int p_pl_re(const struct sq *s)
{
    return !strcmp(s->status, "planned") || !strcmp(s->status, "reused");
}
static int p_not_pl_re(const struct sq *s)
{
    return !p_pl_re(s);
}
static int p_hh_null(const struct sq *s)
{
    return s->hh_null;
}
static int p_hh_graves0(const struct sq *s)
{
    return !s->hh_null && s->graves == 0;
}
static int p_park(const struct sq *s)
{
    return s->reuse && !strncmp(s->reuse, "park", 4);
}
static int p_not_park(const struct sq *s)
{
    return s->reuse && strncmp(s->reuse, "park", 4);
}
static int p_50pct(const struct sq *s)
{
    return s->reuse && !strncmp(s->reuse, "50%", 3);
}
static int p_road_1(const struct sq *s)
{
    return s->reuse && !strcmp(s->reuse, "road_1");
}
static int p_road_any1(const struct sq *s)
{
    return s->reuse && strlen(s->reuse) == 6 && !strncmp(s->reuse, "road", 4) && s->reuse[5] == '1';
}
static int p_underscore(const struct sq *s)
{
    return s->reuse && strchr(s->reuse, '_');
}
static int p_floor(const struct sq *s)
{
    return s->floor_area > 100.5;
}
static int p_ids(const struct sq *s)
{
    return s->fid == 3 || s->fid == 5 || s->fid == 70;
}
static int p_date_lt(const struct sq *s)
{
    return strcmp(s->date, "2020-06-01") < 0;
}
static int p_date_between(const struct sq *s)
{
    return strcmp(s->date, "2020-03-01") >= 0 && strcmp(s->date, "2020-09-30") <= 0;
}
static int p_full(const struct sq *s)
{
    return s->full;
}
static int p_quarter(const struct sq *s)
{
    return !s->full;
}
static int p_hh_gt_graves(const struct sq *s)
{
    return !s->hh_null && s->hh > s->graves;
}
static int p_all(const struct sq *s)
{
    return 1;
}
static int p_none(const struct sq *s)
{
    return 0;
}
static int p_not_or(const struct sq *s)
{
    /* NOT (status = 'signed' OR households < 5): SQL's three-valued logic
     * drops rows where households is NULL unless status is signed (then
     * the OR is true and NOT false). */
    if (p_signed(s))
        return 0;
    return !s->hh_null && !(s->hh < 5);
}
static int p_code7(const struct sq *s)
{
    return !strcmp(s->code, "D-007");
}
static int p_village(const struct sq *s)
{
    return s->idx % 3 == 0;
}

static void test_attributes(void **state)
{
    check("status = 'signed'", p_signed);
    check("households > 10", p_hh_gt10);
    check("households >= 10 AND households <= 15", p_hh_10_15);
    check("households BETWEEN 5 AND 9", p_hh_5_9);
    check("households NOT BETWEEN 5 AND 9", p_hh_not_5_9);
    check("status IN ('planned', 'reused')", p_pl_re);
    check("status NOT IN ('planned', 'reused')", p_not_pl_re);
    check("households IS NULL", p_hh_null);
    check("households IS NOT NULL AND graves = 0", p_hh_graves0);
    check("floor_area_m2 > 100.5", p_floor);
    check("floor_area_m2 > 1.005e2", p_floor);
    check("id IN (3, 5, 70)", p_ids);
    check("start_date < DATE('2020-06-01')", p_date_lt);
    check("start_date BETWEEN DATE('2020-03-01') AND DATE('2020-09-30')", p_date_between);
    check("households > graves", p_hh_gt_graves);
    check("\"households\" > \"graves\"", p_hh_gt_graves);
    check("TRUE", p_all);
    check("FALSE", p_none);
    check("NOT (status = 'signed' OR households < 5)", p_not_or);
    check("code = 'D-007'", p_code7);
    check("village_code = 'V0'", p_village);
}

/* A 1.5 million m² threshold separates the full squares (about 2.6 km²) from
 * the quarter ones (about 0.65 km²); area_mu is m² times 0.0015. */
static void test_area(void **state)
{
    check("area_m2 > 1500000", p_full);
    check("area_mu > 2250", p_full);
    check("area_mu <= 2250", p_quarter);
}

static void test_like(void **state)
{
    check("reuse LIKE 'park%'", p_park);
    check("NOT reuse LIKE 'park%'", p_not_park);
    check("reuse NOT LIKE 'park%'", p_not_park);
    check("reuse LIKE '50\\%%'", p_50pct);
    check("reuse LIKE 'road\\_1'", p_road_1);
    check("reuse LIKE 'road_1'", p_road_any1);
    check("reuse LIKE '%\\_%'", p_underscore);
    check("reuse LIKE 'PARK%'", p_none); /* case-sensitive */
    check("status LIKE 'SIGNED'", p_none);
    check("status LIKE 'sig%'", p_signed);
}

static void test_injection(void **state)
{
    struct cql2_node *ast;
    struct store_filter f;
    struct err e;
    check("code = 'x'' OR 1=1 --'", p_none);
    check("code = 'D-007'' OR ''1''=''1'", p_none);
    check("reuse LIKE '%'' OR 1=1 --'", p_none);
    check("status IN ('x'');DROP TABLE demolition_sites;--')", p_none);
    check("status = 'signed'", p_signed); /* the table is still there */
    /* the value is bound, never part of the SQL */
    assert_int_equal(cql2_parse("code = 'x'' OR 1=1 --'", &ast, &e), 0);
    assert_int_equal(
        store_filter_compile(C, SITES, STORE_SQLITE, ast, CRS_CRS84, CRS_AXIS_AUTHORITY, &f, &e),
        0);
    assert_string_equal(f.sql, "(t.\"code\" = ?)");
    assert_int_equal(f.n_binds, 1);
    assert_int_equal(f.binds[0].type, BIND_TEXT);
    assert_string_equal(f.binds[0].s, "x' OR 1=1 --");
    store_filter_clear(&f);
    cql2_free(ast);
}

/* ---- spatial predicates ------------------------------------------------- */

static int b_intersects(const struct sq *s)
{
    return s->x0 <= QB[2] && s->x1 >= QB[0] && s->y0 <= QB[3] && s->y1 >= QB[1];
}
static int b_interiors(const struct sq *s)
{
    return s->x0 < QB[2] && s->x1 > QB[0] && s->y0 < QB[3] && s->y1 > QB[1];
}
static int b_within(const struct sq *s)
{
    return s->x0 >= QB[0] && s->x1 <= QB[2] && s->y0 >= QB[1] && s->y1 <= QB[3];
}
static int b_covers(const struct sq *s)
{
    return QB[0] >= s->x0 && QB[2] <= s->x1 && QB[1] >= s->y0 && QB[3] <= s->y1;
}
static int b_disjoint(const struct sq *s)
{
    return !b_intersects(s);
}
static int b_touches(const struct sq *s)
{
    return b_intersects(s) && !b_interiors(s);
}
static int b_overlaps(const struct sq *s)
{
    return b_interiors(s) && !b_within(s) && !b_covers(s);
}
static int b_equals(const struct sq *s)
{
    return s->x0 == QB[0] && s->y0 == QB[1] && s->x1 == QB[2] && s->y1 == QB[3];
}
/* QB as a horizontal line from (QB[0], QB[1]) to (QB[2], QB[1]): a polygon
 * crosses it when the line's interior meets the square's interior and also
 * runs outside the square. */
static int b_crossed_by_line(const struct sq *s)
{
    return s->y0 < QB[1] && QB[1] < s->y1 && QB[0] < s->x1 && QB[2] > s->x0 &&
           (QB[0] < s->x0 || QB[2] > s->x1);
}
static int pt_inside(const struct sq *s)
{
    return s->x0 < QP[0] && QP[0] < s->x1 && s->y0 < QP[1] && QP[1] < s->y1;
}
static int pt_on(const struct sq *s)
{
    return s->x0 <= QP[0] && QP[0] <= s->x1 && s->y0 <= QP[1] && QP[1] <= s->y1;
}
static int signed_in_box_or_hh0(const struct sq *s)
{
    return (p_signed(s) && b_intersects(s)) || (!s->hh_null && s->hh == 0);
}
static int pt_on_or_box(const struct sq *s)
{
    return pt_on(s) || b_intersects(s);
}

static void set_box(double cx0, double cy0, double cx1, double cy1)
{
    QB[0] = X0 + cx0 * CELL, QB[1] = Y0 + cy0 * CELL;
    QB[2] = X0 + cx1 * CELL, QB[3] = Y0 + cy1 * CELL;
}

static void spatial(const char *fn, const char *shape, pred_fn pred)
{
    char f[512];
    if (!strcmp(shape, "BBOX"))
        snprintf(f, sizeof f, "%s(geometry, BBOX(%.17g, %.17g, %.17g, %.17g))", fn, QB[0], QB[1],
                 QB[2], QB[3]);
    else
        snprintf(f, sizeof f,
                 "%s(geometry, POLYGON((%.17g %.17g, %.17g %.17g, %.17g %.17g, "
                 "%.17g %.17g, %.17g %.17g)))",
                 fn, QB[0], QB[1], QB[2], QB[1], QB[2], QB[3], QB[0], QB[3], QB[0], QB[1]);
    check(f, pred);
}

static void test_spatial_boxes(void **state)
{
    /* edges on grid lines: neighbours that only touch count as intersecting */
    const double boxes[][4] = {{2, 2, 5, 4},   {0, 0, 1, 1},        {3.25, 1.25, 7.75, 8.75},
                               {-3, -3, 0, 0}, {11.5, 9.5, 20, 20}, {4, 4, 4.5, 4.5}};
    for (size_t i = 0; i < sizeof boxes / sizeof *boxes; i++) {
        set_box(boxes[i][0], boxes[i][1], boxes[i][2], boxes[i][3]);
        spatial("S_INTERSECTS", "BBOX", b_intersects);
        spatial("S_INTERSECTS", "POLYGON", b_intersects);
        spatial("s_intersects", "POLYGON", b_intersects);
        spatial("S_DISJOINT", "BBOX", b_disjoint);
        spatial("S_WITHIN", "POLYGON", b_within);
        spatial("S_CONTAINS", "BBOX", b_covers);
        spatial("S_TOUCHES", "BBOX", b_touches);
        spatial("S_OVERLAPS", "POLYGON", b_overlaps);
        spatial("S_EQUALS", "POLYGON", b_equals);
    }
    /* exactly one full square, and exactly one quarter square */
    set_box(4, 4, 5, 5);
    assert_true(SQ[4 * NX + 4].full);
    spatial("S_EQUALS", "POLYGON", b_equals);
    set_box(3, 4, 3.5, 4.5);
    assert_false(SQ[4 * NX + 3].full);
    spatial("S_EQUALS", "BBOX", b_equals);
}

static void test_spatial_points_lines(void **state)
{
    char f[512];
    const double pts[][2] = {{4.5, 4.5}, {4, 4.5}, {4, 4}, {3.25, 4.25}, {3.75, 4.75}, {-1, -1}};
    for (size_t i = 0; i < sizeof pts / sizeof *pts; i++) {
        QP[0] = X0 + pts[i][0] * CELL, QP[1] = Y0 + pts[i][1] * CELL;
        snprintf(f, sizeof f, "S_INTERSECTS(geometry, POINT(%.17g %.17g))", QP[0], QP[1]);
        check(f, pt_on);
        snprintf(f, sizeof f, "S_CONTAINS(geometry, POINT(%.17g %.17g))", QP[0], QP[1]);
        check(f, pt_inside);
        snprintf(f, sizeof f, "S_WITHIN(POINT(%.17g %.17g), geom)", QP[0], QP[1]);
        check(f, pt_inside);
        snprintf(f, sizeof f, "S_INTERSECTS(geometry, MULTIPOINT((%.17g %.17g), (%.17g %.17g)))",
                 QP[0], QP[1], X0 - 1, Y0 - 1);
        check(f, pt_on);
    }
    /* horizontal lines through the middle of a row, from inside a square to
     * beyond it, and along a grid line */
    const double lines[][3] = {{1.5, 4.5, 3.5}, {0.25, 2.25, 0.375}, {5.5, 5.5, 9}, {2, 3, 7.25}};
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        QB[0] = X0 + lines[i][0] * CELL, QB[1] = Y0 + lines[i][1] * CELL;
        QB[2] = X0 + lines[i][2] * CELL, QB[3] = QB[1];
        snprintf(f, sizeof f, "S_CROSSES(geometry, LINESTRING(%.17g %.17g, %.17g %.17g))", QB[0],
                 QB[1], QB[2], QB[1]);
        check(f, b_crossed_by_line);
        snprintf(f, sizeof f, "S_INTERSECTS(geometry, LINESTRING(%.17g %.17g, %.17g %.17g))", QB[0],
                 QB[1], QB[2], QB[1]);
        check(f, b_intersects);
    }
}

static void test_spatial_mixed(void **state)
{
    char f[768];
    set_box(2, 2, 8, 6);
    snprintf(f, sizeof f,
             "status = 'signed' AND S_INTERSECTS(geometry, BBOX(%.17g,%.17g,%.17g,"
             "%.17g)) OR households = 0",
             QB[0], QB[1], QB[2], QB[3]);
    check(f, signed_in_box_or_hh0);
    /* six numbers: heights dropped */
    snprintf(f, sizeof f, "S_INTERSECTS(geometry, BBOX(%.17g,%.17g,-5,%.17g,%.17g,100))", QB[0],
             QB[1], QB[2], QB[3]);
    check(f, b_intersects);
    /* a collection: a point and a polygon */
    QP[0] = X0 + 10.5 * CELL, QP[1] = Y0 + 0.5 * CELL;
    snprintf(f, sizeof f,
             "S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(%.17g %.17g), "
             "POLYGON((%.17g %.17g, %.17g %.17g, %.17g %.17g, %.17g %.17g, %.17g %.17g))))",
             QP[0], QP[1], QB[0], QB[1], QB[2], QB[1], QB[2], QB[3], QB[0], QB[3], QB[0], QB[1]);
    check(f, pt_on_or_box);
    /* EPSG:4490 in its own axis order: latitude first */
    set_box(3.5, 1, 6, 2.5);
    snprintf(f, sizeof f, "S_INTERSECTS(geometry, BBOX(%.17g, %.17g, %.17g, %.17g))", QB[1], QB[0],
             QB[3], QB[2]);
    check_crs(f, CRS_4490, CRS_AXIS_AUTHORITY, b_intersects);
    snprintf(f, sizeof f,
             "S_WITHIN(geometry, POLYGON((%.17g %.17g, %.17g %.17g, %.17g %.17g, "
             "%.17g %.17g, %.17g %.17g)))",
             QB[1], QB[0], QB[1], QB[2], QB[3], QB[2], QB[3], QB[0], QB[1], QB[0]);
    check_crs(f, CRS_4490, CRS_AXIS_AUTHORITY, b_within);
    check_crs(f, CRS_4326, CRS_AXIS_AUTHORITY, b_within);
}

/* Corners in the middle of cells, projected by PROJ's cs2cs (a separate
 * program) to EPSG:4548 northing, easting: the polygon literal comes back to
 * the same lon/lat corners, far from every square's edge. */
static void test_spatial_gk(void **state)
{
    const double cells[4][2] = {{2.5, 1.5}, {6.5, 1.5}, {6.5, 5.5}, {2.5, 5.5}};
    double ne[4][2];
    char path[] = "/tmp/store_filter_gk_XXXXXX", cmd[160], line[128], f[512];
    int fd = mkstemp(path);
    FILE *in;
    assert_true(fd >= 0);
    in = fdopen(fd, "w");
    for (int i = 0; i < 4; i++)
        fprintf(in, "%.12f %.12f\n", Y0 + cells[i][1] * CELL, X0 + cells[i][0] * CELL);
    fclose(in);
    snprintf(cmd, sizeof cmd, "cs2cs -f %%.4f EPSG:4490 EPSG:4548 < %s", path);
    in = popen(cmd, "r");
    assert_non_null(in);
    for (int i = 0; i < 4; i++) {
        assert_non_null(fgets(line, sizeof line, in));
        assert_int_equal(sscanf(line, "%lf %lf", &ne[i][0], &ne[i][1]), 2);
    }
    assert_int_equal(pclose(in), 0);
    unlink(path);
    set_box(2.5, 1.5, 6.5, 5.5);
    snprintf(f, sizeof f,
             "S_INTERSECTS(geometry, POLYGON((%.4f %.4f, %.4f %.4f, %.4f %.4f, "
             "%.4f %.4f, %.4f %.4f)))",
             ne[0][0], ne[0][1], ne[1][0], ne[1][1], ne[2][0], ne[2][1], ne[3][0], ne[3][1],
             ne[0][0], ne[0][1]);
    check_crs(f, CRS_4548, CRS_AXIS_AUTHORITY, b_intersects);
    /* the same corners as easting, northing for a client that asked for x,y */
    snprintf(f, sizeof f,
             "S_DISJOINT(geometry, POLYGON((%.4f %.4f, %.4f %.4f, %.4f %.4f, "
             "%.4f %.4f, %.4f %.4f)))",
             ne[0][1], ne[0][0], ne[1][1], ne[1][0], ne[2][1], ne[2][0], ne[3][1], ne[3][0],
             ne[0][1], ne[0][0]);
    check_crs(f, CRS_4548, CRS_AXIS_XY, b_disjoint);
}

/* ---- SQL shape, errors, limits ------------------------------------------ */

static void test_sql_shape(void **state)
{
    struct cql2_node *ast;
    struct store_filter f;
    struct err e;
    assert_int_equal(cql2_parse("S_INTERSECTS(geometry, BBOX(118.3, 29.05, 118.35, 29.1)) AND "
                                "households >= 3",
                                &ast, &e),
                     0);
    assert_int_equal(
        store_filter_compile(C, SITES, STORE_SQLITE, ast, CRS_CRS84, CRS_AXIS_AUTHORITY, &f, &e),
        0);
    assert_string_equal(f.sql, "((t.fid IN (SELECT pkid FROM \"idx_demolition_sites_geom\" WHERE "
                               "xmin <= ? AND xmax >= ? AND ymin <= ? AND ymax >= ?) AND "
                               "ST_Intersects(t.geom, GeomFromWKB(?, 4490)) = 1) AND "
                               "(t.\"households\" >= ?))");
    assert_int_equal(f.n_binds, 6);
    assert_int_equal(f.binds[0].type, BIND_REAL);
    assert_true(fabs(f.binds[0].d - 118.35) < 1e-9); /* xmin <= the literal's maxx */
    assert_true(fabs(f.binds[1].d - 118.3) < 1e-9);
    assert_true(fabs(f.binds[2].d - 29.1) < 1e-9);
    assert_true(fabs(f.binds[3].d - 29.05) < 1e-9);
    assert_int_equal(f.binds[4].type, BIND_BLOB);
    assert_int_equal(f.binds[4].len, 93); /* WKB polygon of one 5-point ring */
    assert_int_equal(f.binds[5].type, BIND_INT);
    assert_int_equal(f.binds[5].i, 3);
    store_filter_clear(&f);
    cql2_free(ast);
    assert_int_equal(cql2_parse("S_DISJOINT(geometry, POINT(118.3 29.05))", &ast, &e), 0);
    assert_int_equal(
        store_filter_compile(C, SITES, STORE_SQLITE, ast, CRS_CRS84, CRS_AXIS_AUTHORITY, &f, &e),
        0);
    assert_string_equal(f.sql, "(t.fid NOT IN (SELECT pkid FROM \"idx_demolition_sites_geom\" "
                               "WHERE xmin <= ? AND xmax >= ? AND ymin <= ? AND ymax >= ?) OR "
                               "ST_Disjoint(t.geom, GeomFromWKB(?, 4490)) = 1)");
    store_filter_clear(&f);
    cql2_free(ast);
}

static void test_errors(void **state)
{
    check_error(SITES, "foo = 1", "filter: 'foo' is not a queryable of demolition_sites");
    check_error(SITES, "S_INTERSECTS(geo, POINT(1 2))",
                "filter: 'geo' is not a queryable of demolition_sites");
    check_error(SITES, "Households = 1", "filter: 'Households' is not a queryable of ");
    /* a long name is quoted in whole characters: 26 of these 3-byte ones fit in 80 bytes */
    check_error(SITES, "地块地块地块地块地块地块地块地块地块地块地块地块地块地块地块 = 1",
                "filter: '地块地块地块地块地块地块地块地块地块地块地块地块地块' is not a "
                "queryable of demolition_sites");
    check_error(SITES, "households = 'ten'",
                "filter: cannot compare households (integer) with a string at character 14");
    check_error(SITES, "'ten' = households",
                "filter: cannot compare households (integer) with a string at character 1");
    check_error(SITES, "status = 5",
                "filter: cannot compare status (string) with a number at "
                "character 10");
    check_error(SITES, "status = households",
                "filter: cannot compare status (string) with "
                "households (integer) at character 10");
    check_error(SITES, "start_date = '2020-01-01'",
                "filter: cannot compare start_date (date) with a string (write a date as "
                "DATE('YYYY-MM-DD')) at character 14");
    check_error(SITES, "start_date > TIMESTAMP('2020-01-01T00:00:00Z')",
                "filter: cannot compare start_date (date) with a timestamp at character 14");
    check_error(SITES, "households LIKE '1%'",
                "filter: LIKE applies to strings, not to households (integer) at character 1");
    check_error(SITES, "status IN ('signed', 3)",
                "filter: cannot compare status (string) with a number at character 22");
    check_error(SITES, "households BETWEEN 1 AND 'x'",
                "filter: cannot compare households (integer) with a string at character 26");
    check_error(SITES, "geometry = 5",
                "filter: a geometry can only be used in a spatial "
                "function (S_INTERSECTS ...) at character 12");
    check_error(SITES, "S_INTERSECTS(households, POINT(1 2))",
                "filter: S_INTERSECTS needs geometries; households (integer) is not one at "
                "character 14");
    check_error(SITES, "S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))",
                "filter: invalid POLYGON at character 24: Self-intersection at 0.5 0.5");
    check_error(SITES, "S_INTERSECTS(geometry, BBOX(1, 3, 2, 1))",
                "filter: BBOX: the lower corner is north of the upper corner at character 24");
    check_error(FARM, "protected = 1",
                "filter: cannot compare protected (boolean) with a number at character 13");
    check_error(FARM, "protected BETWEEN FALSE AND TRUE",
                "filter: BETWEEN needs numbers, dates or strings, not protected (boolean) at "
                "character 1");
}

static void test_errors_crs(void **state)
{
    struct cql2_node *ast;
    struct store_filter f;
    struct err e;
    assert_int_equal(
        cql2_parse("S_INTERSECTS(geometry, BBOX(640000, 3230000, 630000, 3240000))", &ast, &e), 0);
    assert_int_equal(
        store_filter_compile(C, SITES, STORE_SQLITE, ast, CRS_4548, CRS_AXIS_XY, &f, &e),
        ERR_PARAM);
    assert_string_equal(e.msg, "filter: BBOX: the lower corner is east of the upper corner at "
                               "character 24");
    store_filter_clear(&f);
    cql2_free(ast);
}

static void test_booleans(void **state)
{
    struct hits h;
    struct err e;
    /* farmland is empty: the filter compiles and runs */
    assert_int_equal(run(FARM, "protected = TRUE AND NOT protected = FALSE", CRS_CRS84,
                         CRS_AXIS_AUTHORITY, &h, &e),
                     0);
    assert_int_equal(h.n, 0);
}

static void test_limits(void **state)
{
    struct buf b;
    struct hits h;
    struct err e;
    /* a long OR chain compiles into a balanced tree SQLite accepts */
    buf_init(&b);
    buf_puts(&b, "id = 0");
    for (int i = 1; i < 3000; i++)
        buf_printf(&b, " OR id = %d", i);
    assert_int_equal(run(SITES, b.data, CRS_CRS84, CRS_AXIS_AUTHORITY, &h, &e), 0);
    assert_int_equal(h.n, N);
    /* the bound on values */
    buf_reset(&b);
    buf_puts(&b, "id IN (0");
    for (int i = 1; i <= STORE_FILTER_MAX_BINDS; i++)
        buf_printf(&b, ",%d", i);
    buf_putc(&b, ')');
    assert_int_equal(run(SITES, b.data, CRS_CRS84, CRS_AXIS_AUTHORITY, &h, &e), ERR_PARAM);
    assert_string_equal(e.msg, "filter: more than 10000 values (the limit of a filter)");
    buf_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attributes),    cmocka_unit_test(test_area),
        cmocka_unit_test(test_like),          cmocka_unit_test(test_injection),
        cmocka_unit_test(test_spatial_boxes), cmocka_unit_test(test_spatial_points_lines),
        cmocka_unit_test(test_spatial_mixed), cmocka_unit_test(test_spatial_gk),
        cmocka_unit_test(test_sql_shape),     cmocka_unit_test(test_errors),
        cmocka_unit_test(test_errors_crs),    cmocka_unit_test(test_booleans),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
