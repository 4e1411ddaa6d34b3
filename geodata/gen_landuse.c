/* gen_landuse: the GB/T 21010-2017 land classes the generator uses, which of
 * them are state-owned by default, and the weighted mixes parcels are drawn
 * from (valley floor, slopes, hills, town, hamlet). Tables only; no state. */
#include "gen.h"

#include <assert.h>

struct lc_info {
    const char *code, *name;
    int state_owned;
    int merge_percent;
};

static const struct lc_info classes[LC_COUNT] = {
    [LC_0101] = {"0101", "水田", 0, 30},
    [LC_0102] = {"0102", "水浇地", 0, 30},
    [LC_0103] = {"0103", "旱地", 0, 35},
    [LC_0201] = {"0201", "果园", 0, 40},
    [LC_0202] = {"0202", "茶园", 0, 45},
    [LC_0204] = {"0204", "其他园地", 0, 35},
    [LC_0301] = {"0301", "乔木林地", 0, 65},
    [LC_0302] = {"0302", "竹林地", 0, 55},
    [LC_0305] = {"0305", "灌木林地", 0, 50},
    [LC_0307] = {"0307", "其他林地", 0, 40},
    [LC_0404] = {"0404", "其他草地", 0, 30},
    [LC_0501] = {"0501", "零售商业用地", 1, 20},
    [LC_0505] = {"0505", "商务金融用地", 1, 20},
    [LC_0601] = {"0601", "工业用地", 1, 45},
    [LC_0701] = {"0701", "城镇住宅用地", 1, 25},
    [LC_0702] = {"0702", "农村宅基地", 0, 10},
    [LC_0801] = {"0801", "机关团体用地", 1, 20},
    [LC_0803] = {"0803", "教育用地", 1, 40},
    [LC_0805] = {"0805", "医疗卫生用地", 1, 30},
    [LC_0809] = {"0809", "公用设施用地", 1, 10},
    [LC_0810] = {"0810", "公园与绿地", 1, 40},
    [LC_1003] = {"1003", "公路用地", 1, 55},
    [LC_1004] = {"1004", "城镇村道路用地", 1, 50},
    [LC_1006] = {"1006", "农村道路", 0, 40},
    [LC_1101] = {"1101", "河流水面", 1, 60},
    [LC_1103] = {"1103", "水库水面", 1, 60},
    [LC_1104] = {"1104", "坑塘水面", 0, 10},
    [LC_1107] = {"1107", "沟渠", 0, 30},
    [LC_1202] = {"1202", "设施农用地", 0, 20},
    [LC_1203] = {"1203", "田坎", 0, 10},
    [LC_1206] = {"1206", "裸土地", 0, 10},
};

struct weight {
    enum lc c;
    int w;
};

/* Weights in per mille; each mix sums to 1000 (checked in lc_draw). */
static const struct weight valley[] = {
    {LC_0101, 420}, {LC_0102, 90}, {LC_0103, 110}, {LC_0201, 40}, {LC_0702, 40},
    {LC_1006, 60},  {LC_1104, 40}, {LC_1107, 50},  {LC_1202, 40}, {LC_1203, 30},
    {LC_0301, 40},  {LC_0404, 20}, {LC_1206, 20},
};
static const struct weight slope[] = {
    {LC_0103, 150}, {LC_0201, 110}, {LC_0202, 160}, {LC_0204, 40}, {LC_0301, 250},
    {LC_0302, 110}, {LC_0305, 60},  {LC_0101, 50},  {LC_1006, 40}, {LC_0404, 30},
};
static const struct weight hill[] = {
    {LC_0301, 520}, {LC_0302, 200}, {LC_0305, 110}, {LC_0307, 60},
    {LC_0202, 50},  {LC_0201, 20},  {LC_1103, 10},  {LC_0404, 30},
};
static const struct weight town[] = {
    {LC_0701, 480}, {LC_1004, 100}, {LC_0501, 80}, {LC_0505, 30}, {LC_0801, 40},
    {LC_0803, 50},  {LC_0805, 30},  {LC_0809, 30}, {LC_0810, 60}, {LC_0601, 70},
    {LC_1206, 30},
};
static const struct weight hamlet[] = {
    {LC_0702, 600}, {LC_1006, 90}, {LC_0101, 90}, {LC_0103, 70},
    {LC_1104, 40},  {LC_0803, 20}, {LC_0809, 30}, {LC_0201, 60},
};

struct mix_table {
    const struct weight *w;
    int n;
};

#define TABLE(a) {a, (int)(sizeof a / sizeof a[0])}
static const struct mix_table mixes[MIX_COUNT] = {
    [MIX_VALLEY] = TABLE(valley), [MIX_SLOPE] = TABLE(slope), [MIX_HILL] = TABLE(hill),
    [MIX_TOWN] = TABLE(town),     [MIX_HAMLET] = TABLE(hamlet),
};

const char *lc_code(enum lc c)
{
    return classes[c].code;
}

const char *lc_name(enum lc c)
{
    return classes[c].name;
}

int lc_state_owned(enum lc c)
{
    return classes[c].state_owned;
}

int lc_merge_percent(enum lc c)
{
    return classes[c].merge_percent;
}

enum lc lc_draw(enum mix m, double u)
{
    const struct mix_table *t = &mixes[m];
    int pick = (int)(u * 1000.0), i;
    for (i = 0; i < t->n; i++) {
        pick -= t->w[i].w;
        if (pick < 0)
            return t->w[i].c;
    }
    assert(!"mix weights must sum to 1000");
    return t->w[t->n - 1].c;
}
