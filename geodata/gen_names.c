/* gen_names: invented people, phone numbers and place-name stems. Every
 * person and phone number the generator writes comes from here and is
 * fictional; the phone numbers sit in one made-up 0570-65xxxxx block. */
#include "gen.h"

#include <string.h>

#define COUNT(a) (sizeof a / sizeof a[0])

/* common in 浙西 (汪, 余, 方, 程, 徐 ...) */
static const char *const surnames[] = {
    "汪", "余", "方", "程", "徐", "郑", "王", "李", "张", "刘", "陈", "杨",
    "黄", "吴", "周", "朱", "胡", "叶", "傅", "姜", "邱", "严", "鲁", "江",
};

static const char *const given1[] = {
    "建", "国", "海", "志", "晓", "丽", "红", "文", "春", "立", "永", "美",
    "雪", "佳", "俊", "秀", "新", "卫", "伟", "玉", "金", "小", "振", "慧",
};

static const char *const given2[] = {
    "平", "华", "军", "明", "芳", "英", "东", "强", "燕", "林", "萍", "峰",
    "琴", "勇", "霞", "波", "敏", "杰", "兰", "锋", "娟", "涛", "辉", "洁",
};

static const char *const stem1[] = {
    "上", "下", "前", "后", "东", "西", "南", "北", "大", "小", "新", "高",
    "石", "桥", "塘", "溪", "枫", "樟", "柏", "竹", "茶", "金", "龙", "黄",
};

static const char *const stem2[] = {
    "坞", "畈", "源", "坑", "田", "山", "湾", "岭", "垄", "口", "坪", "村",
    "溪", "塘", "林", "阳", "坂", "岗", "庄", "洲", "滩", "埠", "墩", "头",
};

static void join(char *buf, size_t size, const char *a, const char *b, const char *c)
{
    size_t n = 0;
    const char *parts[3] = {a, b, c};
    int i;
    if (!size)
        return;
    buf[0] = '\0';
    for (i = 0; i < 3; i++) {
        size_t k = strlen(parts[i]);
        if (n + k + 1 > size)
            return;
        memcpy(buf + n, parts[i], k + 1);
        n += k;
    }
}

void names_person(uint64_t h, char *buf, size_t size)
{
    const char *s = surnames[h % COUNT(surnames)];
    const char *a = given1[(h >> 8) % COUNT(given1)];
    const char *b = given2[(h >> 16) % COUNT(given2)];
    /* about one in four gets a one-character given name */
    join(buf, size, s, a, (h >> 24) % 4 ? b : "");
}

void names_phone(int k, char *buf, size_t size)
{
    snprintf(buf, size, "0570-65%05d", 10000 + (int)((37L * k) % 90000));
}

void names_stem(uint64_t h, char *buf, size_t size)
{
    join(buf, size, stem1[h % COUNT(stem1)], stem2[(h >> 8) % COUNT(stem2)], "");
}
