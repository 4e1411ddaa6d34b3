/* gen_overlay: the demo's farmland bases, demolition red lines and
 * residential communities, and their history. Each is a polygon inside its
 * own rectangle of cells of one village, and no two rectangles share a
 * cell, so every overlay lies inside its village and none overlaps another.
 * Farmland and demolition polygons are scaled until their geodesic areas
 * give the 2020 report's figures: the bases of each crop, and the sites
 * acquired in 2020. Writes farmland.geojson, demolition_sites.geojson and
 * communities.geojson, and their steps: the sites from their first record
 * through every status they reached, the bases planted in 2020, a
 * community joining the 红色物业联盟 and one rising a grade. */
#include "gen_demo.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MARGIN 0.3     /* cells kept free inside a rectangle's edge */
#define MAX_SCALE 0.97 /* a shape may grow to this share of its rectangle */
#define COMMUNITIES 24
#define NEAR_VILLAGES 8        /* demolition happens in the 村 nearest the town */
#define SITE_CELLS 8           /* a red line's rectangle: up to 8 x 8 cells */
#define YEAR_FROM "2020-01-01" /* the report's year, [from, to) */
#define YEAR_TO "2021-01-01"
#define BASE_YEARS UINT64_C(0x6a6964) /* salt of the years older bases were set up */

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

/* The bases planted in 2020, by crop, in the order of its bases; every
 * other base dates from before. */
static const struct planting {
    const char *crop;
    const char *days[4];
} plantings[] = {
    {"香榧", {"2020-03-06", "2020-03-18", "2020-04-02", "2020-11-18"}},
    {"油茶", {"2020-02-27", "2020-11-26", "2020-12-09"}},
};

/* The day base k of crop c was planted in 2020, or NULL. */
static const char *planted(int c, int k)
{
    size_t i;
    for (i = 0; i < sizeof plantings / sizeof plantings[0]; i++)
        if (!strcmp(plantings[i].crop, crops[c].name))
            return plantings[i].days[k];
    return NULL;
}

enum status { PLANNED, NEGOTIATING, SIGNED, DEMOLISHED, REUSED, NSTATUS };
static const char *const status_ids[NSTATUS] = {"planned", "negotiating", "signed", "demolished",
                                                "reused"};
static const char *const status_zh[NSTATUS] = {"立项", "进入洽谈", "签约", "拆除完成", "建成利用"};

struct site {
    const char *project;
    const char *on[NSTATUS]; /* the day it reached each status; NULL: not (yet) */
    int households;
    double floor_m2;
    int graves;
    const char *end; /* planned completion; once demolished or re-used, that day */
    const char *reuse;
    int reuse_lc;
};

/* The first record of a site (planned) is its start_date. The report's year
 * counts as acquired (亩) the sites signed in 2020 and as demolished (main
 * houses, m2, graves) those demolished in 2020: 1883 亩, 39 houses,
 * 1.4 万 m2 and 145 graves (checked below). 芹江东路 was demolished and
 * 城东新区 signed in 2019; the last four are not signed yet. */
/* clang-format off */
static const struct site sites[] = {
    {"城东新区安置房项目",
     {"2019-03-12", "2019-05-06", "2019-09-18", "2020-03-26", "2020-06-30"},
     8, 2830.5, 26, NULL, "建成安置房一期，已交付安置", LC_0701},
    {"芹江东路拓宽工程",
     {"2019-05-20", "2019-06-24", "2019-08-15", "2019-11-28", "2020-04-15"},
     3, 1102, 9, NULL, "道路拓宽及沿江绿化带", LC_1003},
    {"城南小学新建项目",
     {"2019-08-01", "2019-10-14", "2020-01-16", "2020-04-09", "2020-08-20"},
     5, 1746, 34, NULL, "建成小学校舍及操场", LC_0803},
    {"芹阳工业功能区二期", {"2019-11-05", "2019-12-10", "2020-04-28", "2020-10-30"}, 10, 3610,
     37, NULL, NULL, -1},
    {"芹江防洪堤加固工程", {"2020-01-10", "2020-02-20", "2020-05-12", "2020-09-25"}, 6, 2140.5,
     21, NULL, NULL, -1},
    {"城北农贸市场迁建项目", {"2020-03-02", "2020-04-07", "2020-07-09", "2020-12-18"}, 10, 3673,
     27, NULL, NULL, -1},
    {"江滨公园二期项目", {"2020-04-15", "2020-05-25", "2020-09-08"}, 4, 1495, 14, "2021-03-31",
     NULL, -1},
    {"芹阳大道北延工程", {"2020-06-01", "2020-07-06", "2020-11-10"}, 5, 1873, 19, "2021-05-30",
     NULL, -1},
    {"城西安置小区项目", {"2020-07-20", "2020-09-15"}, 3, 484, 11, "2021-06-30", NULL, -1},
    {"城西文体中心项目", {"2020-09-01", "2020-11-24"}, 0, 0, 10, "2021-09-30", NULL, -1},
    {"城西物流园征地项目", {"2020-10-12"}, 0, 0, 7, "2021-12-31", NULL, -1},
    {"农旅融合示范区项目", {"2020-11-16"}, 0, 0, 13, "2021-12-31", NULL, -1},
};
/* clang-format on */
#define NSITES (int)(sizeof sites / sizeof sites[0])
#define DEMOLITION_MU 1883.0 /* acquired in 2020 */

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

/* The status a site had at the start of day (its steps are recorded later
 * in the day), or -1 before its first record. */
static int site_status(const struct site *s, const char *day)
{
    int k, st = -1;
    for (k = 0; k < NSTATUS && s->on[k]; k++)
        if (strcmp(s->on[k], day) < 0)
            st = k;
    return st;
}

static int site_final(const struct site *s)
{
    return site_status(s, "9999-12-31");
}

/* Reached status st during the report's year, from below it. */
static int site_reached(const struct site *s, int st)
{
    return site_status(s, YEAR_FROM) < st && site_status(s, YEAR_TO) >= st;
}

/* Room times a random share, as fit_total weighs; the sites signed in 2020
 * share the year's 亩 in proportion, the others keep their weight in m2. */
static int demolition_fit(struct demo *d)
{
    double w[NSITES], sum = 0;
    int k;
    for (k = 0; k < NSITES; k++) {
        w[k] = place(d, &d->demol[k], 1.0) * rng_range(&d->rng, 0.45, 0.8);
        sum += site_reached(&sites[k], SIGNED) ? w[k] : 0;
    }
    for (k = 0; k < NSITES; k++) {
        int acquired = site_reached(&sites[k], SIGNED);
        double m2 = acquired ? DEMOLITION_MU * GEN_M2_PER_MU * w[k] / sum : w[k];
        if (fit(d, &d->demol[k], m2) < 0)
            return -1;
    }
    return 0;
}

static int demolition_build(struct demo *d)
{
    int near[DEMO_VILLAGES], k;
    rural(d, 0, near);
    for (k = 0; k < NSITES; k++) {
        struct overlay *o = &d->demol[k];
        const struct site *s = &sites[k];
        if (place_in(d, o, near, NEAR_VILLAGES, k, 4, SITE_CELLS, 0) < 0)
            return -1;
        o->item = k;
        o->lc = s->reuse_lc;
        if (site_final(s) == REUSED && strcmp(s->on[REUSED], YEAR_FROM) >= 0)
            o->since = s->on[REUSED];
    }
    d->ndemol = NSITES;
    return demolition_fit(d);
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
        /* bases planted before 2020 date from the years before */
        o->since = planted(c, k);
        o->year = o->since ? 2020 : 2013 + (int)(hash3(BASE_YEARS, (uint64_t)c, (uint64_t)k) % 7u);
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

/* The sites' days follow each other and fit their status; the year's
 * demolished sites give the report's figures. */
static void sites_check(void)
{
    int k, st, households = 0, graves = 0;
    double floor_m2 = 0;
    for (k = 0; k < NSITES; k++) {
        const struct site *s = &sites[k];
        int last = site_final(s);
        for (st = 1; st <= last; st++)
            assert(strcmp(s->on[st - 1], s->on[st]) < 0);
        assert(last >= PLANNED && strcmp(s->on[last], YEAR_TO) < 0);
        assert((s->end == NULL) == (last >= DEMOLISHED) && (s->reuse != NULL) == (last == REUSED));
        if (site_reached(s, DEMOLISHED)) {
            households += s->households;
            graves += s->graves;
            floor_m2 += s->floor_m2;
        }
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

static void farm_emit(struct demo *d, struct jw *w, int k)
{
    const struct overlay *o = &d->farm[k];
    char code[16];
    snprintf(code, sizeof code, "JD%03u", (unsigned)(k + 1) % 1000u);
    jw_feature_begin(w);
    jw_str(w, "code", code);
    jw_str(w, "crop", crops[o->item].name);
    jw_str(w, "dlbm", lc_code(crops[o->item].lc));
    jw_bool(w, "protected", o->protect);
    jw_str(w, "operator", o->coop_runs ? d->v[o->village].coop : o->operator_);
    jw_str(w, "village_code", d->v[o->village].code);
    jw_int(w, "year", o->year);
    jw_feature_polygon(w, o->ll, o->n);
}

static void site_code(int k, char *code, size_t size)
{
    snprintf(code, size, "ZQ%.4s-%02u", sites[k].on[PLANNED], (unsigned)(k + 1) % 100u);
}

/* Site k as it was with status st: the figures were known from its first
 * record, the re-use from when it was re-used. */
static void site_emit(struct demo *d, struct jw *w, int k, int st)
{
    const struct overlay *o = &d->demol[k];
    const struct site *s = &sites[o->item];
    char code[16];
    site_code(k, code, sizeof code);
    jw_feature_begin(w);
    jw_str(w, "code", code);
    jw_str(w, "project", s->project);
    jw_str(w, "status", status_ids[st]);
    jw_int(w, "households", s->households);
    jw_num(w, "floor_area_m2", s->floor_m2);
    jw_int(w, "graves", s->graves);
    if (st == REUSED)
        jw_str(w, "reuse", s->reuse);
    jw_str(w, "village_code", d->v[o->village].code);
    jw_str(w, "start_date", s->on[PLANNED]);
    jw_str(w, "end_date", s->end ? s->end : s->on[site_final(s)]);
    jw_feature_polygon(w, o->ll, o->n);
}

static void community_emit(struct demo *d, struct jw *w, int k, int red, int grade)
{
    const struct overlay *o = &d->comm[k];
    char code[16];
    snprintf(code, sizeof code, "XQ%03u", (unsigned)(k + 1) % 1000u);
    jw_feature_begin(w);
    jw_str(w, "code", code);
    jw_str(w, "name", community_names[o->item]);
    jw_int(w, "households", o->households);
    jw_str(w, "property_company", companies[(o->item * 5 + o->year_built) % 6]);
    jw_bool(w, "red_property", red);
    if (red)
        jw_str(w, "red_grade", grades[grade]);
    jw_str(w, "village_code", d->v[o->village].code);
    jw_int(w, "year_built", o->year_built);
    jw_feature_polygon(w, o->ll, o->n);
}

static int farmland_write(struct demo *d, const char *dir)
{
    struct jw w;
    int k;
    if (demo_file_begin(&w, dir, "farmland") < 0)
        return -1;
    for (k = 0; k < d->nfarm; k++)
        farm_emit(d, &w, k);
    return demo_file_end(&w, dir, "farmland");
}

static int demolition_write(struct demo *d, const char *dir)
{
    struct jw w;
    int k;
    if (demo_file_begin(&w, dir, "demolition_sites") < 0)
        return -1;
    for (k = 0; k < d->ndemol; k++)
        site_emit(d, &w, k, site_final(&sites[d->demol[k].item]));
    return demo_file_end(&w, dir, "demolition_sites");
}

static int communities_write(struct demo *d, const char *dir)
{
    struct jw w;
    int k;
    if (demo_file_begin(&w, dir, "communities") < 0)
        return -1;
    for (k = 0; k < d->ncomm; k++)
        community_emit(d, &w, k, d->comm[k].red, d->comm[k].grade);
    return demo_file_end(&w, dir, "communities");
}

int overlays_write(struct demo *d, const char *dir)
{
    if (farmland_write(d, dir) < 0 || demolition_write(d, dir) < 0 ||
        communities_write(d, dir) < 0)
        return -1;
    return 0;
}

static int day_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Appends text to a step's note, "；" between parts. */
static void note_add(char *note, size_t size, const char *text)
{
    size_t n = strlen(note);
    snprintf(note + n, size - n, "%s%s", n ? "；" : "", text);
}

/* Every site is first recorded by a step (planned), and each day on which
 * sites reached a status is one step with their new versions. */
static int sites_history(struct demo *d)
{
    const char *days[NSITES * NSTATUS];
    char code[16], note[512], part[160];
    int n = 0, i, k, st;
    struct jw w;
    for (k = 0; k < d->ndemol; k++) {
        site_code(k, code, sizeof code);
        if (hist_absent(d, "demolition_sites", code) < 0)
            return -1;
        for (st = 0; st < NSTATUS && sites[k].on[st]; st++)
            days[n++] = sites[k].on[st];
    }
    qsort(days, (size_t)n, sizeof days[0], day_cmp);
    for (i = 0; i < n; i++) {
        if (i && !strcmp(days[i], days[i - 1]))
            continue;
        note[0] = 0;
        for (k = 0; k < d->ndemol; k++)
            for (st = 0; st < NSTATUS && sites[k].on[st]; st++)
                if (!strcmp(sites[k].on[st], days[i])) {
                    snprintf(part, sizeof part, "%s%s", sites[k].project, status_zh[st]);
                    note_add(note, sizeof note, part);
                }
        if (hist_step_begin(d, &w, days[i], "demolition_sites", note) < 0)
            return -1;
        for (k = 0; k < d->ndemol; k++)
            for (st = 0; st < NSTATUS && sites[k].on[st]; st++)
                if (!strcmp(sites[k].on[st], days[i]))
                    site_emit(d, &w, k, st);
        if (hist_file_end(d, &w) < 0)
            return -1;
    }
    return 0;
}

/* The bases planted in 2020 are added by a step each. */
static int farmland_history(struct demo *d)
{
    char code[16], note[160];
    struct jw w;
    int k;
    for (k = 0; k < d->nfarm; k++) {
        const struct overlay *o = &d->farm[k];
        if (!o->since)
            continue;
        snprintf(code, sizeof code, "JD%03u", (unsigned)(k + 1) % 1000u);
        snprintf(note, sizeof note, "新建%s基地 %s，%.0f 亩", crops[o->item].name, code,
                 o->m2 / GEN_M2_PER_MU);
        if (hist_absent(d, "farmland", code) < 0 ||
            hist_step_begin(d, &w, o->since, "farmland", note) < 0)
            return -1;
        farm_emit(d, &w, k);
        if (hist_file_end(d, &w) < 0)
            return -1;
    }
    return 0;
}

/* In 2020 the first 三星 member of the 红色物业联盟 joined it (on the
 * Party's anniversary), and the first 五星 one rose from 四星 in the
 * year-end rating. */
static int communities_history(struct demo *d)
{
    int joined = -1, rose = -1, k;
    char note[160];
    struct jw w;
    for (k = 0; k < d->ncomm; k++) {
        if (joined < 0 && d->comm[k].red && d->comm[k].grade == 2)
            joined = k;
        if (rose < 0 && d->comm[k].red && d->comm[k].grade == 0)
            rose = k;
    }
    if (joined < 0 || rose < 0) {
        fprintf(stderr, "onemap-gen: no community for the history\n");
        return -1;
    }
    if (hist_earlier_begin(d, &w, "communities") < 0)
        return -1;
    community_emit(d, &w, joined, 0, 0);
    community_emit(d, &w, rose, 1, 1);
    if (hist_file_end(d, &w) < 0)
        return -1;
    snprintf(note, sizeof note, "%s加入红色物业联盟（%s）", community_names[d->comm[joined].item],
             grades[2]);
    if (hist_step_begin(d, &w, "2020-07-01", "communities", note) < 0)
        return -1;
    community_emit(d, &w, joined, 1, 2);
    if (hist_file_end(d, &w) < 0)
        return -1;
    snprintf(note, sizeof note, "%s红领评级由%s升为%s", community_names[d->comm[rose].item],
             grades[1], grades[0]);
    if (hist_step_begin(d, &w, "2020-12-28", "communities", note) < 0)
        return -1;
    community_emit(d, &w, rose, 1, 0);
    return hist_file_end(d, &w);
}

int overlays_history(struct demo *d)
{
    if (sites_history(d) < 0 || farmland_history(d) < 0 || communities_history(d) < 0)
        return -1;
    return 0;
}
