/* buf_test: JSON string escaping (control characters, quotes, UTF-8 kept,
 * invalid UTF-8 replaced by U+FFFD so that output is always JSON) and numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void expect_json(const char *in, size_t n, const char *want)
{
    struct buf b;
    buf_init(&b);
    buf_put_json_strn(&b, in, n);
    assert_non_null(b.data);
    assert_string_equal(b.data, want);
    buf_clear(&b);
}

#define EXPECT(lit, want) expect_json(lit, sizeof lit - 1, want)

static void test_escapes(void **state)
{
    (void)state;
    EXPECT("plain", "\"plain\"");
    EXPECT("a\"b\\c", "\"a\\\"b\\\\c\"");
    EXPECT("l1\nl2\r\t", "\"l1\\nl2\\r\\t\"");
    EXPECT("\x01\x1f", "\"\\u0001\\u001f\"");
    EXPECT("nul\0x", "\"nul\\u0000x\"");
}

static void test_utf8_kept(void **state)
{
    (void)state;
    EXPECT("芹阳", "\"芹阳\"");                     /* 3-byte sequences */
    EXPECT("\xc2\xa9", "\"\xc2\xa9\"");             /* U+00A9, 2 bytes */
    EXPECT("\xf0\x9f\x97\xba", "\"\xf0\x9f\x97\xba\""); /* U+1F5FA, 4 bytes */
    EXPECT("\xef\xbf\xbd", "\"\xef\xbf\xbd\"");     /* U+FFFD itself */
}

static void test_utf8_invalid_replaced(void **state)
{
    (void)state;
    EXPECT("a\xff" "b", "\"a\\ufffdb\"");                /* never valid */
    EXPECT("\x80", "\"\\ufffd\"");                       /* stray continuation */
    EXPECT("\xc0\xaf", "\"\\ufffd\\ufffd\"");            /* overlong '/' */
    EXPECT("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\""); /* overlong, 3 bytes */
    EXPECT("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate U+D800 */
    EXPECT("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* past U+10FFFF */
    EXPECT("\xe8\x8a", "\"\\ufffd\\ufffd\"");            /* cut short at the end */
    EXPECT("\xe8\x8a" "x", "\"\\ufffd\\ufffdx\"");       /* cut short by ASCII */
}

static void test_numbers(void **state)
{
    struct buf b;
    (void)state;
    buf_init(&b);
    buf_put_num(&b, 1.5, 3);
    buf_putc(&b, ' ');
    buf_put_num(&b, -0.0001, 3);
    buf_putc(&b, ' ');
    buf_put_num(&b, 1.0 / 0.0, 3);
    assert_string_equal(b.data, "1.5 0 null");
    buf_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_utf8_kept),
        cmocka_unit_test(test_utf8_invalid_replaced),
        cmocka_unit_test(test_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
