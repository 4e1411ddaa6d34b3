/* buf_test: the growable buffer's JSON and number writers — escaping,
 * UTF-8 kept as is, bytes that are not UTF-8 replaced so that every
 * document onemap writes stays valid JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static void check_json_str(const char *in, size_t n, const char *want)
{
    struct buf b;
    buf_init(&b);
    buf_put_json_strn(&b, in, n);
    assert_false(b.oom);
    assert_string_equal(b.data, want);
    buf_clear(&b);
}

static void test_json_escapes(void **state)
{
    (void)state;
    check_json_str("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
    check_json_str("\n\r\t\x01\x1f", 5, "\"\\n\\r\\t\\u0001\\u001f\"");
    check_json_str("a\0b", 3, "\"a\\u0000b\"");
    check_json_str("", 0, "\"\"");
}

static void test_json_utf8_kept(void **state)
{
    (void)state;
    /* 2-, 3- and 4-byte sequences and the edges of the valid ranges */
    check_json_str("é地块😀", strlen("é地块😀"), "\"é地块😀\"");
    check_json_str("\xc2\x80\xdf\xbf", 4, "\"\xc2\x80\xdf\xbf\"");
    check_json_str("\xe0\xa0\x80\xed\x9f\xbf\xef\xbf\xbf", 9,
                   "\"\xe0\xa0\x80\xed\x9f\xbf\xef\xbf\xbf\"");
    check_json_str("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 8, "\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"");
}

static void test_json_bad_utf8_replaced(void **state)
{
    (void)state;
    check_json_str("\xff", 1, "\"\\ufffd\"");
    check_json_str("a\xfe\xff" "b", 4, "\"a\\ufffd\\ufffdb\"");
    check_json_str("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");         /* overlong '/' */
    check_json_str("\xc3", 1, "\"\\ufffd\"");                    /* cut short */
    check_json_str("\xe5\x9c", 2, "\"\\ufffd\\ufffd\"");         /* cut short */
    check_json_str("\xe5\x9c" "x", 3, "\"\\ufffd\\ufffdx\"");
    check_json_str("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""); /* a surrogate */
    check_json_str("\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
    check_json_str("\x80地", 4, "\"\\ufffd地\"");
}

static void test_put_num(void **state)
{
    struct buf b;
    (void)state;
    buf_init(&b);
    buf_put_num(&b, 1.5, 3);
    buf_putc(&b, ' ');
    buf_put_num(&b, -0.0000001, 3);
    buf_putc(&b, ' ');
    buf_put_num(&b, 118.123456789, 9);
    buf_putc(&b, ' ');
    buf_put_num(&b, 1.0 / 0.0, 3);
    assert_string_equal(b.data, "1.5 0 118.123456789 null");
    buf_clear(&b);
}

/* buf_put_num as printf writes it: %.{prec}f without trailing zeros */
static void printf_num(char *t, size_t cap, double v, int prec)
{
    int n = snprintf(t, cap, "%.*f", prec, v);
    if (strchr(t, '.')) {
        while (t[n - 1] == '0')
            n--;
        if (t[n - 1] == '.')
            n--;
    }
    t[n] = '\0';
    if (!strcmp(t, "-0"))
        strcpy(t, "0");
}

static unsigned long long rng = 88172645463325252ULL;
static unsigned long long next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Numbers without printf, digit for digit what printf writes: random
 * values of every size and sign, and exact ties (k + 1/2 units of the last
 * digit, which printf rounds to even) and their neighbours. */
static void test_put_num_as_printf(void **state)
{
    char want[400];
    struct buf b;
    int fast = 0;
    (void)state;
    buf_init(&b);
    for (int i = 0; i < 400000; i++) {
        int prec = (int)(next_rand() % 18);
        double v, u = (double)(next_rand() >> 11) / 9007199254740992.0; /* [0, 1) */
        switch (i % 6) {
        case 0:
            v = 118 + u;
            break; /* degrees */
        case 1:
            v = (u - 0.5) * 1e6;
            break; /* metres */
        case 2:
            v = ldexp(u, (int)(next_rand() % 120) - 60);
            break;
        case 3: /* a tie: (k + 1/2) / 2^j, exact in binary */
            v = ((double)(next_rand() % 100000) + 0.5) / (double)(1u << (next_rand() % 12));
            break;
        case 4:
            v = nextafter(((double)(next_rand() % 1000) + 0.5) / 8, 1e9);
            break;
        default:
            v = -(double)(next_rand() % 2000000) / 1000.0;
            break;
        }
        if (i % 2)
            v = -v;
        printf_num(want, sizeof want, v, prec);
        buf_reset(&b);
        buf_put_num(&b, v, prec);
        if (strcmp(b.data, want))
            fail_msg("%.17g at %d: %s, printf %s", v, prec, b.data, want);
        char t[BUF_NUM_ROOM];
        size_t n = buf_fmt_num(t, v, prec);
        if (n) {
            fast++;
            assert_int_equal(n, strlen(want));
            assert_memory_equal(t, want, n);
        }
    }
    assert_true(fast > 200000); /* the fast path is the common one */
    buf_clear(&b);
}

/* Integers without printf, as %lld writes them: the extremes, every
 * number of digits either side of its power of ten, random values. */
static void test_put_ll_as_printf(void **state)
{
    char want[32];
    struct buf b;
    long long v[64 + 4000];
    size_t n = 0;
    (void)state;
    v[n++] = 0, v[n++] = LLONG_MIN, v[n++] = LLONG_MAX, v[n++] = -1;
    for (long long p = 1;; p *= 10) { /* 10^0 .. 10^18 */
        v[n++] = p, v[n++] = p - 1, v[n++] = -p;
        if (p > LLONG_MAX / 10)
            break;
    }
    for (int i = 0; i < 4000; i++)
        v[n++] = (long long)(next_rand() >> (next_rand() % 64));
    buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        snprintf(want, sizeof want, "%lld", v[i]);
        buf_reset(&b);
        buf_puts(&b, "x");
        buf_put_ll(&b, v[i]);
        assert_int_equal(b.len, strlen(want) + 1);
        assert_string_equal(b.data + 1, want);
    }
    buf_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_escapes),           cmocka_unit_test(test_json_utf8_kept),
        cmocka_unit_test(test_json_bad_utf8_replaced), cmocka_unit_test(test_put_num),
        cmocka_unit_test(test_put_ll_as_printf),       cmocka_unit_test(test_put_num_as_printf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
