/* buf: growable buffer. Allocation failure is sticky (b->oom) so callers
 * check once at the end instead of after every append. */
#include "buf.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

void buf_clear(struct buf *b)
{
    free(b->data);
    buf_init(b);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *buf_steal(struct buf *b)
{
    char *p;
    if (!b->data && !b->oom)
        buf_append(b, "", 0);
    p = b->data;
    buf_init(b);
    return p;
}

static int grow_slow(struct buf *b, size_t need)
{
    size_t cap;
    char *p;
    if (b->oom)
        return -1;
    if (b->len + need + 1 <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < b->len + need + 1)
        cap *= 2;
    p = realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

/* Room for need more bytes and a NUL: the common case inline. */
static inline int grow(struct buf *b, size_t need)
{
    if (!b->oom && b->len + need + 1 <= b->cap)
        return 0;
    return grow_slow(b, need);
}

int buf_reserve(struct buf *b, size_t n)
{
    return grow(b, n);
}

void buf_append(struct buf *b, const void *p, size_t n)
{
    if (grow(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
    if (grow(b, 1))
        return;
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    int n;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || grow(b, (size_t)n)) {
        va_end(ap2);
        return;
    }
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)n;
}

/* Length of the well-formed UTF-8 sequence (RFC 3629) that starts at s[0]
 * with a lead byte >= 0x80, or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t len, i;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

void buf_put_json_strn(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, start = 0, len;
    buf_putc(b, '"');
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            /* bytes that are not UTF-8 (from a URL, a header) would make
             * the whole document invalid JSON: each becomes U+FFFD */
            if ((len = utf8_len((const unsigned char *)s + i, n - i))) {
                i += len - 1;
                continue;
            }
            buf_append(b, s + start, i - start);
            start = i + 1;
            buf_puts(b, "\\ufffd");
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_append(b, s + start, i - start);
        start = i + 1;
        switch (c) {
        case '"': buf_puts(b, "\\\""); break;
        case '\\': buf_puts(b, "\\\\"); break;
        case '\n': buf_puts(b, "\\n"); break;
        case '\r': buf_puts(b, "\\r"); break;
        case '\t': buf_puts(b, "\\t"); break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buf_append(b, u, 6);
        }
        }
    }
    buf_append(b, s + start, n - start);
    buf_putc(b, '"');
}

void buf_put_json_str(struct buf *b, const char *s)
{
    if (!s) {
        buf_puts(b, "null");
        return;
    }
    buf_put_json_strn(b, s, strlen(s));
}

static const double pow10d[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
static const uint64_t pow10u[] = {1ULL,
                                  10ULL,
                                  100ULL,
                                  1000ULL,
                                  10000ULL,
                                  100000ULL,
                                  1000000ULL,
                                  10000000ULL,
                                  100000000ULL,
                                  1000000000ULL,
                                  10000000000ULL,
                                  100000000000ULL,
                                  1000000000000ULL,
                                  10000000000000ULL,
                                  100000000000000ULL,
                                  1000000000000000ULL};

static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
                               "25262728293031323334353637383940414243444546474849"
                               "50515253545556575859606162636465666768697071727374"
                               "75767778798081828384858687888990919293949596979899";

/* The d last digits of u, written backwards from end, two at a time. */
static void put_digits(char *end, uint64_t u, int d)
{
    for (; d >= 2; d -= 2, u /= 100) {
        end -= 2;
        memcpy(end, pairs + 2 * (u % 100), 2);
    }
    if (d)
        *--end = (char)('0' + u % 10);
}

/* 10^d for d in 0..19 */
static uint64_t pow10_20(int d)
{
    return d < 16 ? pow10u[d] : pow10u[15] * pow10u[d - 15];
}

/* How many decimal digits u has. */
static int count_digits(uint64_t u)
{
    int d = 1;
    while (d < 20 && u >= pow10_20(d))
        d++;
    return d;
}

/* u / 10^p, each divisor a constant: a multiplication, not a division (tens
 * of cycles, more than all the rest of a number's writing) */
static uint64_t div_pow10(uint64_t u, int p)
{
    switch (p) {
    case 0: return u;
    case 1: return u / 10ULL;
    case 2: return u / 100ULL;
    case 3: return u / 1000ULL;
    case 4: return u / 10000ULL;
    case 5: return u / 100000ULL;
    case 6: return u / 1000000ULL;
    case 7: return u / 10000000ULL;
    case 8: return u / 100000000ULL;
    case 9: return u / 1000000000ULL;
    case 10: return u / 10000000000ULL;
    case 11: return u / 100000000000ULL;
    case 12: return u / 1000000000000ULL;
    case 13: return u / 10000000000000ULL;
    case 14: return u / 100000000000000ULL;
    default: return u / 1000000000000000ULL;
    }
}

/* v * 10^prec is one correctly
 * rounded product, within half an ulp of the true value, so rounding it gives
 * printf's digits unless it lies within a few ulps of a tie or is too large
 * for the integer path (non-finite values fail that test too). Hot: every
 * coordinate of every feature written passes here. */
size_t buf_fmt_num(char *dst, double v, int prec)
{
    double s, frac;
    uint64_t r, ip, fp;
    size_t n = 0;
    int d;
    if (prec < 0 || prec > 15)
        return 0;
    s = fabs(v) * pow10d[prec];
    if (!(s < 0x1p50))
        return 0;
    r = (uint64_t)s; /* floor: s is not negative */
    frac = s - (double)r;
    if (fabs(frac - 0.5) <= s * 0x1p-50)
        return 0;
    r += frac > 0.5;
    ip = div_pow10(r, prec);
    fp = r - ip * pow10u[prec];
    if (v < 0 && r)
        dst[n++] = '-';
    d = count_digits(ip);
    put_digits(dst + n + d, ip, d);
    n += (size_t)d;
    if (!fp)
        return n;
    dst[n++] = '.';
    for (d = prec; fp % 100 == 0; d -= 2)
        fp /= 100;
    if (fp % 10 == 0)
        fp /= 10, d--;
    put_digits(dst + n + d, fp, d);
    return n + (size_t)d;
}

void buf_put_ll(struct buf *b, long long v)
{
    /* the magnitude as unsigned: -LLONG_MIN does not fit a long long */
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    int d = count_digits(u);
    char *p;
    if (buf_reserve(b, (size_t)d + 1))
        return;
    p = b->data + b->len;
    if (v < 0)
        *p++ = '-';
    put_digits(p + d, u, d);
    b->len = (size_t)(p + d - b->data);
    b->data[b->len] = '\0';
}

void buf_put_num(struct buf *b, double v, int prec)
{
    char tmp[64];
    int n;
    if (!isfinite(v)) {
        buf_puts(b, "null");
        return;
    }
    if ((n = (int)buf_fmt_num(tmp, v, prec)) > 0) {
        buf_append(b, tmp, (size_t)n);
        return;
    }
    n = snprintf(tmp, sizeof tmp, "%.*f", prec, v);
    if (n <= 0 || (size_t)n >= sizeof tmp) {
        buf_put_double(b, v);
        return;
    }
    if (memchr(tmp, '.', (size_t)n)) {
        while (n > 0 && tmp[n - 1] == '0')
            n--;
        if (n > 0 && tmp[n - 1] == '.')
            n--;
    }
    if (n == 2 && tmp[0] == '-' && tmp[1] == '0')
        n = 1, tmp[0] = '0';
    buf_append(b, tmp, (size_t)n);
}

void buf_put_double(struct buf *b, double v)
{
    char tmp[40];
    int prec;
    if (!isfinite(v)) {
        buf_puts(b, "null");
        return;
    }
    /* the shortest precision that reads back exactly */
    for (prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    buf_puts(b, tmp);
}

void buf_put_html(struct buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': buf_puts(b, "&lt;"); break;
        case '>': buf_puts(b, "&gt;"); break;
        case '&': buf_puts(b, "&amp;"); break;
        case '"': buf_puts(b, "&quot;"); break;
        case '\'': buf_puts(b, "&#39;"); break;
        default: buf_putc(b, *s);
        }
    }
}
