/* gen_json: a streaming writer of GeoJSON FeatureCollections, one feature per
 * line. Formats coordinates from integer nanodegrees by hand (9 decimals at
 * most, trailing zeros trimmed): fast, locale-free and byte-stable. Owns its
 * output buffer, not the FILE. */
#include "gen.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define JW_FLUSH_AT 65536

static void flush(struct jw *w)
{
    if (w->len && fwrite(w->buf, 1, w->len, w->f) != w->len)
        w->err = 1;
    w->len = 0;
}

/* Makes room for n more bytes, flushing first once JW_FLUSH_AT is passed;
 * only an unusually long string grows the buffer. NULL after an error. */
static char *room(struct jw *w, size_t n)
{
    if (w->err)
        return NULL;
    if (w->len + n > JW_FLUSH_AT)
        flush(w);
    if (n > w->cap - w->len) {
        size_t cap = w->len + n + JW_FLUSH_AT;
        char *p = realloc(w->buf, cap);
        if (!p) {
            w->err = 1;
            return NULL;
        }
        w->buf = p;
        w->cap = cap;
    }
    return w->buf + w->len;
}

static void put(struct jw *w, const char *s, size_t n)
{
    char *p = room(w, n);
    if (!p)
        return;
    memcpy(p, s, n);
    w->len += n;
}

static void puts_(struct jw *w, const char *s)
{
    put(w, s, strlen(s));
}

int jw_open(struct jw *w, FILE *f)
{
    memset(w, 0, sizeof *w);
    w->f = f;
    w->buf = malloc(2 * JW_FLUSH_AT);
    if (!w->buf) {
        w->err = 1;
        return -1;
    }
    w->cap = 2 * JW_FLUSH_AT;
    return 0;
}

int jw_close(struct jw *w)
{
    if (!w->err)
        flush(w);
    if (fflush(w->f) != 0 || ferror(w->f))
        w->err = 1;
    free(w->buf);
    w->buf = NULL;
    w->cap = w->len = 0;
    return w->err ? -1 : 0;
}

/* A JSON string literal; the generator's strings are UTF-8 it made itself,
 * but quotes, backslashes and control characters are escaped all the same. */
static void put_string(struct jw *w, const char *s)
{
    put(w, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(w, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(w, esc, 6);
        } else {
            put(w, s, 1);
        }
    }
    put(w, "\"", 1);
}

/* Writes v / 1e9 with at most 9 decimals, trailing zeros trimmed. */
static size_t format_nd(char *out, int64_t v)
{
    char tmp[32];
    size_t n = 0, k = 0;
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t ip = a / 1000000000u, fp = a % 1000000000u;
    int digits = 9;
    if (v < 0)
        out[n++] = '-';
    do {
        tmp[k++] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip);
    while (k)
        out[n++] = tmp[--k];
    if (!fp)
        return n;
    while (fp % 10 == 0) {
        fp /= 10;
        digits--;
    }
    out[n++] = '.';
    for (k = (size_t)digits; k > 0; k--) {
        out[n + k - 1] = (char)('0' + fp % 10);
        fp /= 10;
    }
    return n + (size_t)digits;
}

void jw_collection_begin(struct jw *w, const char *name, const char *description)
{
    puts_(w, "{\"type\":\"FeatureCollection\",\"name\":");
    put_string(w, name);
    puts_(w, ",\"description\":");
    put_string(w, description);
    puts_(w, ",\"features\":[\n");
}

void jw_collection_end(struct jw *w)
{
    puts_(w, w->nfeat ? "\n]}\n" : "]}\n");
}

void jw_feature_begin(struct jw *w)
{
    puts_(w, w->nfeat ? ",\n{\"type\":\"Feature\",\"properties\":{"
                      : "{\"type\":\"Feature\",\"properties\":{");
    w->nprop = 0;
}

static void key(struct jw *w, const char *k)
{
    if (w->nprop++)
        put(w, ",", 1);
    put_string(w, k);
    put(w, ":", 1);
}

void jw_str(struct jw *w, const char *k, const char *val)
{
    key(w, k);
    put_string(w, val);
}

void jw_int(struct jw *w, const char *k, long long val)
{
    char num[32];
    key(w, k);
    put(w, num, (size_t)snprintf(num, sizeof num, "%lld", val));
}

/* Numbers the generator writes are multiples of 1/1000 at most. */
void jw_num(struct jw *w, const char *k, double val)
{
    char num[48];
    int n = snprintf(num, sizeof num, "%.3f", val);
    while (n > 0 && num[n - 1] == '0')
        n--;
    if (n > 0 && num[n - 1] == '.')
        n--;
    key(w, k);
    put(w, num, (size_t)n);
}

void jw_bool(struct jw *w, const char *k, int val)
{
    key(w, k);
    puts_(w, val ? "true" : "false");
}

static void put_point(struct jw *w, struct nd p, int first)
{
    char *o = room(w, 64);
    size_t n = 0;
    if (!o)
        return;
    if (!first)
        o[n++] = ',';
    o[n++] = '[';
    n += format_nd(o + n, p.x);
    o[n++] = ',';
    n += format_nd(o + n, p.y);
    o[n++] = ']';
    w->len += n;
}

void jw_feature_polygon(struct jw *w, const struct nd *ring, int n)
{
    int i;
    puts_(w, "},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[");
    for (i = 0; i < n; i++)
        put_point(w, ring[i], i == 0);
    put_point(w, ring[0], 0);
    puts_(w, "]]}}");
    w->nfeat++;
}
