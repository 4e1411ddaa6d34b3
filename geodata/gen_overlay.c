/* gen_overlay: the demo's farmland bases, demolition red lines and
 * residential communities. Each is a polygon inside its own rectangle of
 * cells of one village, and no two rectangles share a cell, so every overlay
 * lies inside its village and none overlaps another. Farmland and
 * demolition polygons are scaled until their geodesic areas add up to the
 * 2020 report's figures. Writes farmland.geojson, demolition_sites.geojson
 * and communities.geojson. */
#include "gen_demo.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MARGIN 0.3     /* cells kept free inside a rectangle's edge */
#define MAX_SCALE 0.97 /* a shape may grow to this share of its rectangle */
#define COMMUNITIES 24
#define NEAR_VILLAGES 8 /* demolition happens in the 村 nearest the town */

struct crop {
    const char *name;
    enum lc lc;
    double mu; /* 2020 total; 0: not reported, bases sized freely */
    int bases, valley, protect_pct;
    const char *operators[2];
};

static const struct crop crops[] = {
    {"大棚蔬菜", LC_0102, 600, 4, 1, 50, {"开化县芹阳蔬菜专业合作社", "开化县绿野家庭农场"}},
    {"山地蔬菜", LC_0103, 600, 4, 0, 25, {"开化县山里香果蔬专业合作社", "开化县高岭家庭农场"}},
    {"中药材", LC_0103, 320, 3, 0, 0, {"开化县本草园中药材专业合作社", "开化县百草家庭农场"}},
    {"香榧", LC_0201, 668, 4, 0, 0, {"开化县榧香农业开发有限公司", "开化县香榧专业合作社"}},
    {"油茶", LC_0301, 310, 3, 0, 0, {"开化县油茶产业专业合作社", "开化县青山林业有限公司"}},
    {"蟠姜", LC_0103, 20, 2, 1, 0, {"开化县蟠姜专业合作社", "开化县姜源家庭农场"}},
    {"水稻", LC_0101, 0, 3, 1, 100, {"开化县芹阳粮食专业合作社", "开化县禾丰家庭农场"}},
};
#define NCROPS (int)(sizeof crops / sizeof crops[0])

struct site {
    const char *project, *status;
    int households;
    double floor_m2;
    int graves;
    const char *start, *end, *reuse;
    int reuse_lc;
};

/* 2020: 1883 亩, 39 main houses, 1.4 万 m2, 145 graves (checked below). */
static const struct site sites[] = {
    {"城东新区安置房项目", "reused", 5, 1830.5, 16, "2019-03-12", "2020-06-30",
     "建成安置房一期，已交付安置", LC_0701},
    {"芹江东路拓宽工程", "reused", 3, 1102, 9, "2019-05-20", "2020-04-15",
     "道路拓宽及沿江绿化带", LC_1003},
    {"城南小学新建项目", "reused", 2, 746, 21, "2019-08-01", "2020-08-20",
     "建成小学校舍及操场", LC_0803},
    {"芹阳工业功能区二期", "demolished", 6, 2410, 12, "2019-11-05", "2020-10-30", NULL, -1},
    {"芹江防洪堤加固工程", "demolished", 4, 1386.5, 8, "2020-01-10", "2020-09-25", NULL, -1},
    {"城北农贸市场迁建项目", "demolished", 7, 2673, 5, "2020-03-02", "2020-12-18", NULL, -1},
    {"江滨公园二期项目", "signed", 4, 1495, 14, "2020-04-15", "2021-03-31", NULL, -1},
    {"芹阳大道北延工程", "signed", 5, 1873, 19, "2020-06-01", "2021-05-30", NULL, -1},
    {"城西安置小区项目", "negotiating", 3, 484, 11, "2020-07-20", "2021-06-30", NULL, -1},
    {"城西文体中心项目", "negotiating", 0, 0, 10, "2020-09-01", "2021-09-30", NULL, -1},
    {"城西物流园征地项目", "planned", 0, 0, 7, "2020-10-12", "2021-12-31", NULL, -1},
    {"农旅融合示范区项目", "planned", 0, 0, 13, "2020-11-16", "2021-12-31", NULL, -1},
};
#define NSITES (int)(sizeof sites / sizeof sites[0])
#define DEMOLITION_MU 1883.0

static const char *const community_names[] = {
    "芹江花园", "江滨名苑", "金溪小区", "城东新村", "北门公寓", "解放新村", "芹阳名都",
    "钱江源小区", "滨江花苑", "阳光家园", "书香苑", "锦绣江南", "和园", "翠竹苑",
    "南山小区", "桂花苑", "东湖新村", "溪岸人家", "新华小区", "凤凰城", "玉泉苑",
    "幸福里", "春晖小区", "文昌苑",
};

static const char *const companies[] = {
    "开化县芹江物业服务有限公司", "开化县金溪物业管理有限公司", "衢州市安居物业服务有限公司",
    "开化县城投物业有限公司",     "浙江源丰物业服务有限公司",   "开化县邻里物业有限公司",
};

static const char *const grades[] = {"五星", "四星", "三星"};

struct key {
    double k;
    int v;
};

static int key_cmp(const void *a, const void *b)
{
    const struct key *p = a, *q = b;
    if (p->k != q->k)
        return p->k < q->k ? -1 : 1;
    return p->v - q->v;
}

static void shuffle(struct rng *r, int *a, int n)
{
    int i;
    for (i = n - 1; i > 0; i--) {
        int j = rng_int(r, 0, i), t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

/* Distance from the centre to the edge of a (hx, hy) box along angle th. */
static double box_reach(double hx, double hy, double th)
{
    double c = fabs(cos(th)), s = fabs(sin(th));
    double rx = c > 1e-12 ? hx / c : INFINITY, ry = s > 1e-12 ? hy / s : INFINITY;
    return rx < ry ? rx : ry;
}

/* A field: 7-10 vertices around the centre of the box, at increasing
 * angles, so the polygon is star-shaped and simple. */
static void shape_field(struct rng *r, struct overlay *o, double hx, double hy)
{
    double th0 = rng_range(r, 0, 2 * M_PI);
    int k;
    o->n = rng_int(r, 7, 10);
    for (k = 0; k < o->n; k++) {
        double th = th0 + 2 * M_PI * (k + rng_range(r, -0.25, 0.25)) / o->n;
        double rad = box_reach(hx, hy, th) * rng_range(r, 0.78, 1.0);
        o->dv[k].x = rad * cos(th);
        o->dv[k].y = rad * sin(th);
    }
}

/* A red line or a compound: the box's corners pulled in a little, with a
 * notch in some of its sides. Corners and notches alternate in angle. */
static void shape_box(struct rng *r, struct overlay *o, double hx, double hy, int notches)
{
    static const double cx[4] = {1, -1, -1, 1}, cy[4] = {1, 1, -1, -1};
    static const double mx[4] = {0, -1, 0, 1}, my[4] = {1, 0, -1, 0};
    int k, n = 0;
    for (k = 0; k < 4; k++) {
        o->dv[n].x = cx[k] * hx * rng_range(r, 0.86, 1.0);
        o->dv[n].y = cy[k] * hy * rng_range(r, 0.86, 1.0);
        n++;
        if (notches && rng_int(r, 0, 2) == 0) {
            double f = rng_range(r, 0.6, 0.85);
            o->dv[n].x = mx[k] * hx * f + my[k] * hx * rng_range(r, -0.3, 0.3);
            o->dv[n].y = my[k] * hy * f + mx[k] * hy * rng_range(r, -0.3, 0.3);
            n++;
        }
    }
    o->n = n;
}

/* Places the shape at scale s: lattice index units, then printed lon/lat,
 * then the geodesic area of exactly what will be written. */
static double place(struct demo *d, struct overlay *o, double s)
{
    int k;
    for (k = 0; k < o->n; k++) {
        o->ix[k].x = o->at.x + s * o->dv[k].x;
        o->ix[k].y = o->at.y + s * o->dv[k].y;
        o->ll[k] = geo_nd(d->geo, lattice_at(&d->lat, o->ix[k]));
    }
    o->m2 = geo_area_m2(d->geo, o->ll, o->n);
    return o->m2;
}

/* Scales the shape about its centre until its geodesic area is target_m2.
 * Area grows almost exactly with the square of the scale, so a few
 * fixed-point steps reach the rounding noise of the coordinates. */
static int fit(struct demo *d, struct overlay *o, double target_m2)
{
    double s = sqrt(target_m2 / place(d, o, 1.0));
    int it;
    if (!(s <= MAX_SCALE)) {
        fprintf(stderr, "onemap-gen: a %.0f m2 polygon does not fit its rectangle\n", target_m2);
        return -1;
    }
    for (it = 0; it < 12 && fabs(place(d, o, s) / target_m2 - 1.0) > 1e-9; it++)
        s *= sqrt(target_m2 / o->m2);
    if (fabs(o->m2 / target_m2 - 1.0) > 1e-6) {
        fprintf(stderr, "onemap-gen: area did not converge (%.3f of %.3f m2)\n", o->m2, target_m2);
        return -1;
    }
    return 0;
}

/* The largest rectangle (at most cap x cap, at least lo x lo cells) of
 * free cells of village v; 0 when there is none. */
static int free_rect(const struct demo *d, int v, int lo, int cap, struct rect *out)
{
    const struct rect b = d->v[v].box;
    int i, j, w, h, best = 0;
    for (j = b.j0; j < b.j1; j++)
        for (i = b.i0; i < b.i1; i++)
            for (h = 1; h <= cap && j + h <= b.j1; h++)
                for (w = 1; w <= cap && i + w <= b.i1; w++) {
                    int score, a, c, ok = 1;
                    for (c = j; c < j + h && ok; c++)
                        for (a = i; a < i + w && ok; a++)
                            ok = d->cell_village[c * d->lat.ni + a] == v &&
                                 !d->cell_used[c * d->lat.ni + a];
                    if (!ok)
                        break;
                    score = w * h * 16 + (w < h ? w : h);
                    if (w >= lo && h >= lo && score > best) {
                        struct rect r = {i, j, i + w, j + h};
                        best = score;
                        *out = r;
                    }
                }
    return best;
}

/* Takes the largest free rectangle of village v for the overlay and
 * centres a shape filling it; 0, or -1 when there is no room. */
static int shape_in_village(struct demo *d, struct overlay *o, int v, int lo, int cap, int field)
{
    struct rect q;
    int i, j;
    if (!free_rect(d, v, lo, cap, &q))
        return -1;
    for (j = q.j0; j < q.j1; j++)
        for (i = q.i0; i < q.i1; i++)
            d->cell_used[j * d->lat.ni + i] = 1;
    o->village = v;
    o->at.x = (q.i0 + q.i1) / 2.0;
    o->at.y = (q.j0 + q.j1) / 2.0;
    if (field)
        shape_field(&d->rng, o, (q.i1 - q.i0) / 2.0 - MARGIN, (q.j1 - q.j0) / 2.0 - MARGIN);
    else
        shape_box(&d->rng, o, (q.i1 - q.i0) / 2.0 - MARGIN, (q.j1 - q.j0) / 2.0 - MARGIN,
                  lo > 2);
    return 0;
}

/* Places the overlay in the first village of list[from..] (cycling) with
 * room for it. */
static int place_in(struct demo *d, struct overlay *o, const int *list, int n, int from, int lo,
                    int cap, int field)
{
    int k;
    for (k = 0; k < n; k++)
        if (shape_in_village(d, o, list[(from + k) % n], lo, cap, field) == 0)
            return 0;
    fprintf(stderr, "onemap-gen: no room for an overlay\n");
    return -1;
}

/* Splits total_m2 over the overlays in proportion to their room, with some
 * spread, and fits each. */
static int fit_total(struct demo *d, struct overlay *o, int n, double total_m2)
{
    double w[16], sum = 0;
    int k;
    assert(n <= 16);
    for (k = 0; k < n; k++) {
        w[k] = place(d, &o[k], 1.0) * rng_range(&d->rng, 0.45, 0.8);
        sum += w[k];
    }
    for (k = 0; k < n; k++)
        if (fit(d, &o[k], total_m2 * w[k] / sum) < 0)
            return -1;
    return 0;
}

/* The 村, sorted by distance from the seat or by elevation. */
static void rural(struct demo *d, int by_height, int *out)
{
    struct key key[DEMO_VILLAGES];
    int v, n = 0;
    for (v = DEMO_SHEQU; v < DEMO_VILLAGES; v++) {
        struct xy c = d->v[v].centre;
        key[n].k = by_height ? demo_elevation(c) : hypot(c.x, c.y);
        key[n++].v = v;
    }
    qsort(key, (size_t)n, sizeof key[0], key_cmp);
    for (v = 0; v < n; v++)
        out[v] = key[v].v;
}

static int demolition_build(struct demo *d)
{
    int near[DEMO_VILLAGES], k;
    rural(d, 0, near);
    for (k = 0; k < NSITES; k++) {
        struct overlay *o = &d->demol[k];
        if (place_in(d, o, near, NEAR_VILLAGES, k, 4, 6, 0) < 0)
            return -1;
        o->item = k;
        o->lc = sites[k].reuse_lc;
    }
    d->ndemol = NSITES;
    return fit_total(d, d->demol, NSITES, DEMOLITION_MU * GEN_M2_PER_MU);
}

static int crop_build(struct demo *d, int c, const int *pool, int npool, int *next)
{
    const struct crop *cr = &crops[c];
    struct overlay *first = &d->farm[d->nfarm];
    int k;
    for (k = 0; k < cr->bases; k++) {
        struct overlay *o = &d->farm[d->nfarm++];
        if (place_in(d, o, pool, npool, (*next)++, cr->mu && cr->mu >= 100 ? 4 : 3, 6, 1) < 0)
            return -1;
        o->item = c;
        o->lc = cr->lc;
        o->protect = rng_int(&d->rng, 0, 99) < cr->protect_pct;
        /* a third are run by the village's own cooperative */
        o->coop_runs = rng_int(&d->rng, 0, 2) == 0;
        o->operator_ = cr->operators[k % 2];
        if (!cr->mu && fit(d, o, place(d, o, 1.0) * rng_range(&d->rng, 0.3, 0.6)) < 0)
            return -1;
    }
    return cr->mu ? fit_total(d, first, cr->bases, cr->mu * GEN_M2_PER_MU) : 0;
}

/* Crops of the valley floor go to the lower half of the 村, hill crops to
 * the upper half, spread over the villages of each half. */
static int farmland_build(struct demo *d)
{
    int by_height[DEMO_VILLAGES], n = DEMO_VILLAGES - DEMO_SHEQU, half = n / 2, c;
    int next[2] = {0, 0};
    rural(d, 1, by_height);
    shuffle(&d->rng, by_height, half);
    shuffle(&d->rng, by_height + half, n - half);
    for (c = 0; c < NCROPS; c++) {
        int low = crops[c].valley;
        if (crop_build(d, c, low ? by_height : by_height + half, low ? half : n - half,
                       &next[low]) < 0)
            return -1;
    }
    return 0;
}

static int communities_of(struct demo *d, int v, int count)
{
    struct village *vil = &d->v[v];
    int k, sum = 0;
    for (k = 0; k < count; k++) {
        struct overlay *o = &d->comm[d->ncomm];
        if (shape_in_village(d, o, v, 2, 3, 0) < 0) {
            fprintf(stderr, "onemap-gen: no room for a community in %s\n", vil->name);
            return -1;
        }
        o->lc = LC_0701;
        place(d, o, rng_range(&d->rng, 0.55, 0.95));
        o->item = d->ncomm++;
        o->households = (int)lround(o->m2 / 10000.0 * rng_range(&d->rng, 110, 190));
        o->year_built = rng_int(&d->rng, 1996, 2019);
        o->red = rng_int(&d->rng, 0, 99) < 55;
        o->grade = rng_int(&d->rng, 0, 4);
        o->grade = o->grade == 0 ? 0 : o->grade < 3 ? 1 : 2;
        sum += o->households;
    }
    vil->households = sum + rng_int(&d->rng, 300, 900);
    vil->population = (int)lround(vil->households * rng_range(&d->rng, 2.5, 2.9));
    return 0;
}

/* The same number of 小区 in every 社区. */
static int communities_build(struct demo *d)
{
    int v;
    for (v = 0; v < DEMO_SHEQU; v++)
        if (communities_of(d, v, COMMUNITIES / DEMO_SHEQU) < 0)
            return -1;
    return 0;
}

static void sites_check(void)
{
    int k, households = 0, graves = 0;
    double floor_m2 = 0;
    for (k = 0; k < NSITES; k++) {
        households += sites[k].households;
        graves += sites[k].graves;
        floor_m2 += sites[k].floor_m2;
    }
    assert(households == 39 && graves == 145 && floor_m2 == 14000.0);
    (void)households;
    (void)graves;
    (void)floor_m2;
}

int overlays_build(struct demo *d)
{
    sites_check();
    if (demolition_build(d) < 0 || farmland_build(d) < 0 || communities_build(d) < 0)
        return -1;
    return 0;
}

static int farmland_write(struct demo *d, const char *dir)
{
    struct jw w;
    char code[16];
    int k;
    if (demo_file_begin(&w, dir, "farmland") < 0)
        return -1;
    for (k = 0; k < d->nfarm; k++) {
        const struct overlay *o = &d->farm[k];
        snprintf(code, sizeof code, "JD%03u", (unsigned)(k + 1) % 1000u);
        jw_feature_begin(&w);
        jw_str(&w, "code", code);
        jw_str(&w, "crop", crops[o->item].name);
        jw_str(&w, "dlbm", lc_code(crops[o->item].lc));
        jw_bool(&w, "protected", o->protect);
        jw_str(&w, "operator", o->coop_runs ? d->v[o->village].coop : o->operator_);
        jw_str(&w, "village_code", d->v[o->village].code);
        jw_int(&w, "year", 2020);
        jw_feature_polygon(&w, o->ll, o->n);
    }
    return demo_file_end(&w, dir, "farmland");
}

static int demolition_write(struct demo *d, const char *dir)
{
    struct jw w;
    char code[16];
    int k;
    if (demo_file_begin(&w, dir, "demolition_sites") < 0)
        return -1;
    for (k = 0; k < d->ndemol; k++) {
        const struct overlay *o = &d->demol[k];
        const struct site *s = &sites[o->item];
        snprintf(code, sizeof code, "ZQ%.4s-%02u", s->start, (unsigned)(k + 1) % 100u);
        jw_feature_begin(&w);
        jw_str(&w, "code", code);
        jw_str(&w, "project", s->project);
        jw_str(&w, "status", s->status);
        jw_int(&w, "households", s->households);
        jw_num(&w, "floor_area_m2", s->floor_m2);
        jw_int(&w, "graves", s->graves);
        if (s->reuse)
            jw_str(&w, "reuse", s->reuse);
        jw_str(&w, "village_code", d->v[o->village].code);
        jw_str(&w, "start_date", s->start);
        jw_str(&w, "end_date", s->end);
        jw_feature_polygon(&w, o->ll, o->n);
    }
    return demo_file_end(&w, dir, "demolition_sites");
}

static int communities_write(struct demo *d, const char *dir)
{
    struct jw w;
    char code[16];
    int k;
    if (demo_file_begin(&w, dir, "communities") < 0)
        return -1;
    for (k = 0; k < d->ncomm; k++) {
        const struct overlay *o = &d->comm[k];
        snprintf(code, sizeof code, "XQ%03u", (unsigned)(k + 1) % 1000u);
        jw_feature_begin(&w);
        jw_str(&w, "code", code);
        jw_str(&w, "name", community_names[o->item]);
        jw_int(&w, "households", o->households);
        jw_str(&w, "property_company", companies[(o->item * 5 + o->year_built) % 6]);
        jw_bool(&w, "red_property", o->red);
        if (o->red)
            jw_str(&w, "red_grade", grades[o->grade]);
        jw_str(&w, "village_code", d->v[o->village].code);
        jw_int(&w, "year_built", o->year_built);
        jw_feature_polygon(&w, o->ll, o->n);
    }
    return demo_file_end(&w, dir, "communities");
}

int overlays_write(struct demo *d, const char *dir)
{
    if (farmland_write(d, dir) < 0 || demolition_write(d, dir) < 0 ||
        communities_write(d, dir) < 0)
        return -1;
    return 0;
}
