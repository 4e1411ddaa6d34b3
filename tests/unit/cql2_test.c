/* cql2_test: CQL2 text into trees. Every operator, literal kind and
 * precedence rule is checked through an s-expression dump of the tree;
 * bad filters are checked by their exact messages, positions included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cql2.h"

/* ---- helpers ------------------------------------------------------------ */

static void dump(const struct cql2_node *n, struct buf *b)
{
    static const char *const kw[] = {"and", "or", "not"};
    switch (n->kind) {
    case CQL2_AND:
    case CQL2_OR:
    case CQL2_NOT:
        buf_printf(b, "(%s", kw[n->kind]);
        break;
    case CQL2_CMP:
        buf_printf(b, "(%s", cql2_cmp_name(n->op));
        break;
    case CQL2_LIKE:
        buf_puts(b, n->negated ? "(not-like" : "(like");
        break;
    case CQL2_IN:
        buf_puts(b, n->negated ? "(not-in" : "(in");
        break;
    case CQL2_BETWEEN:
        buf_puts(b, n->negated ? "(not-between" : "(between");
        break;
    case CQL2_IS_NULL:
        buf_puts(b, n->negated ? "(is-not-null" : "(is-null");
        break;
    case CQL2_SPATIAL:
        buf_printf(b, "(%s", cql2_spatial_name(n->op));
        break;
    case CQL2_PROP:
        buf_printf(b, "%s", n->text);
        return;
    case CQL2_STRING:
        buf_printf(b, "'%s'", n->text);
        return;
    case CQL2_NUMBER:
        if (n->is_int)
            buf_printf(b, "%lld", n->i);
        else
            buf_printf(b, "%gd", n->d);
        return;
    case CQL2_BOOL:
        buf_puts(b, n->i ? "TRUE" : "FALSE");
        return;
    case CQL2_DATE:
        buf_printf(b, "DATE(%s)", n->text);
        return;
    case CQL2_TIMESTAMP:
        buf_printf(b, "TIMESTAMP(%s)", n->text);
        return;
    case CQL2_GEOM:
        buf_puts(b, n->text);
        return;
    case CQL2_BBOX:
        buf_printf(b, "BBOX(%g,%g,%g,%g)", n->box[0], n->box[1], n->box[2], n->box[3]);
        return;
    }
    for (size_t i = 0; i < n->n_args; i++) {
        buf_putc(b, ' ');
        dump(n->args[i], b);
    }
    buf_putc(b, ')');
}

static void check_parse(const char *text, const char *want)
{
    struct cql2_node *n = NULL;
    struct err e;
    struct buf b;
    int rc;
    err_clear(&e);
    rc = cql2_parse(text, &n, &e);
    if (rc)
        fail_msg("%s: %s", text, e.msg);
    buf_init(&b);
    dump(n, &b);
    if (strcmp(b.data, want))
        fail_msg("%s\n  got  %s\n  want %s", text, b.data, want);
    buf_clear(&b);
    cql2_free(n);
}

static void check_error(const char *text, const char *want)
{
    struct cql2_node *n = NULL;
    struct err e;
    int rc;
    err_clear(&e);
    rc = cql2_parse(text, &n, &e);
    if (rc == 0)
        fail_msg("%s: parsed, expected '%s'", text, want);
    assert_int_equal(rc, ERR_PARAM);
    assert_null(n);
    if (strcmp(e.msg, want))
        fail_msg("%s\n  got  %s\n  want %s", text, e.msg, want);
}

/* ---- comparisons and literals ------------------------------------------- */

static void test_comparisons(void **state)
{
    check_parse("households = 5", "(= households 5)");
    check_parse("households<>5", "(<> households 5)");
    check_parse("households < 5", "(< households 5)");
    check_parse("households > 5", "(> households 5)");
    check_parse("households <= 5", "(<= households 5)");
    check_parse("households >= 5", "(>= households 5)");
    check_parse("5 < households", "(< 5 households)");
    check_parse("households = population", "(= households population)");
    check_parse("\"red grade\" = 'A'", "(= red grade 'A')");
    check_parse("\"AND\" = 1", "(= AND 1)");
    check_parse("名称 = '芹阳'", "(= 名称 '芹阳')");
    check_parse("ns:name.part = 'x'", "(= ns:name.part 'x')");
}

static void test_literals(void **state)
{
    check_parse("a = 'it''s'", "(= a 'it's')");
    check_parse("a = 'it\\'s'", "(= a 'it's')");
    check_parse("a = ''", "(= a '')");
    check_parse("a = 'x'' OR 1=1 --'", "(= a 'x' OR 1=1 --')");
    check_parse("a = -5", "(= a -5)");
    check_parse("a = +5", "(= a 5)");
    check_parse("a = 1.5", "(= a 1.5d)");
    check_parse("a = -.5", "(= a -0.5d)");
    check_parse("a = 1.", "(= a 1d)");
    check_parse("a = 2.5e3", "(= a 2500d)");
    check_parse("a = 1E-2", "(= a 0.01d)");
    check_parse("a = 99999999999999999999", "(= a 1e+20d)");
    check_parse("a = TRUE", "(= a TRUE)");
    check_parse("a = false", "(= a FALSE)");
    check_parse("d = DATE('2024-02-29')", "(= d DATE(2024-02-29))");
    check_parse("d > date('2023-12-31')", "(> d DATE(2023-12-31))");
    check_parse("t < TIMESTAMP('2024-01-02T03:04:05Z')", "(< t TIMESTAMP(2024-01-02T03:04:05Z))");
    check_parse("t < TIMESTAMP('2024-01-02T03:04:05.250Z')",
                "(< t TIMESTAMP(2024-01-02T03:04:05.250Z))");
    check_parse("TRUE", "TRUE");
    check_parse("NOT FALSE", "(not FALSE)");
    check_parse("TRUE AND a = 1", "(and TRUE (= a 1))");
}

static void test_numbers_typed(void **state)
{
    struct cql2_node *n;
    struct err e;
    assert_int_equal(cql2_parse("a = 9223372036854775807", &n, &e), 0);
    assert_true(n->args[1]->is_int);
    assert_true(n->args[1]->i == 9223372036854775807LL);
    cql2_free(n);
    assert_int_equal(cql2_parse("a = 9223372036854775808", &n, &e), 0);
    assert_false(n->args[1]->is_int);
    assert_true(n->args[1]->d == 9223372036854775808.0);
    cql2_free(n);
    assert_int_equal(cql2_parse("a = 3e0", &n, &e), 0);
    assert_false(n->args[1]->is_int);
    assert_true(n->args[1]->d == 3.0);
    cql2_free(n);
}

static void test_advanced_comparisons(void **state)
{
    check_parse("name LIKE 'Qin%'", "(like name 'Qin%')");
    check_parse("name like 'a_c'", "(like name 'a_c')");
    check_parse("name NOT LIKE '%\\%%'", "(not-like name '%\\%%')");
    check_parse("status IN ('signed', 'demolished')", "(in status 'signed' 'demolished')");
    check_parse("id in (1)", "(in id 1)");
    check_parse("id NOT IN (1, 2,3)", "(not-in id 1 2 3)");
    check_parse("households BETWEEN 10 AND 20", "(between households 10 20)");
    check_parse("households NOT BETWEEN -1.5 AND 2e1", "(not-between households -1.5d 20d)");
    check_parse("d BETWEEN DATE('2020-01-01') AND DATE('2020-12-31')",
                "(between d DATE(2020-01-01) DATE(2020-12-31))");
    check_parse("owner IS NULL", "(is-null owner)");
    check_parse("owner is not null", "(is-not-null owner)");
}

static void test_boolean_structure(void **state)
{
    check_parse("a = 1 AND b = 2 OR c = 3", "(or (and (= a 1) (= b 2)) (= c 3))");
    check_parse("a = 1 OR b = 2 AND c = 3", "(or (= a 1) (and (= b 2) (= c 3)))");
    check_parse("a = 1 AND (b = 2 OR c = 3)", "(and (= a 1) (or (= b 2) (= c 3)))");
    check_parse("NOT a = 1 AND b = 2", "(and (not (= a 1)) (= b 2))");
    check_parse("NOT (a = 1 AND b = 2)", "(not (and (= a 1) (= b 2)))");
    check_parse("not not a = 1", "(not (not (= a 1)))");
    check_parse("a=1 and b=2 and c=3 and d=4", "(and (= a 1) (= b 2) (= c 3) (= d 4))");
    check_parse("((((a = 1))))", "(= a 1)");
    check_parse("a = 1 Or b = 2 oR c = 3", "(or (= a 1) (= b 2) (= c 3))");
}

/* ---- spatial ------------------------------------------------------------ */

static void test_spatial(void **state)
{
    check_parse("S_INTERSECTS(geometry, POINT(118.41 29.13))",
                "(S_INTERSECTS geometry POINT(118.41 29.13))");
    check_parse("s_within(geom, POLYGON((0 0, 1 0, 1 1, 0 0)))",
                "(S_WITHIN geom POLYGON((0 0,1 0,1 1,0 0)))");
    check_parse("S_CONTAINS(geometry, point z (1 2 3))", "(S_CONTAINS geometry POINT(1 2))");
    check_parse("S_DISJOINT(geometry, BBOX(1, 2, 3, 4))", "(S_DISJOINT geometry BBOX(1,2,3,4))");
    check_parse("S_INTERSECTS(geometry, BBOX(1,2,-10,3,4,10))",
                "(S_INTERSECTS geometry BBOX(1,2,3,4))");
    check_parse("S_EQUALS(LINESTRING(0 0, 1 1), geometry)",
                "(S_EQUALS LINESTRING(0 0,1 1) geometry)");
    check_parse("S_TOUCHES(geometry, MULTIPOINT((0 0), (1 1)))",
                "(S_TOUCHES geometry MULTIPOINT((0 0),(1 1)))");
    check_parse("S_TOUCHES(geometry, MULTIPOINT(0 0, 1 1))",
                "(S_TOUCHES geometry MULTIPOINT((0 0),(1 1)))");
    check_parse("S_OVERLAPS(geometry, MULTILINESTRING((0 0, 1 1), (2 2, 3 3)))",
                "(S_OVERLAPS geometry MULTILINESTRING((0 0,1 1),(2 2,3 3)))");
    check_parse("S_CROSSES(geometry, MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5), "
                "(5.1 5.1, 5.2 5.1, 5.2 5.2, 5.1 5.1))))",
                "(S_CROSSES geometry MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5),"
                "(5.1 5.1,5.2 5.1,5.2 5.2,5.1 5.1))))");
    check_parse("S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(1 2), LINESTRING Z(0 0 0, 1 1 1), "
                "GEOMETRYCOLLECTION(POINT(3 4))))",
                "(S_INTERSECTS geometry GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1),"
                "GEOMETRYCOLLECTION(POINT(3 4))))");
    check_parse("S_INTERSECTS(\"geometry\", BBOX(0,0,1,1)) AND NOT S_WITHIN(geometry, "
                "BBOX(0.2,0.2,0.8,0.8))",
                "(and (S_INTERSECTS geometry BBOX(0,0,1,1)) (not (S_WITHIN geometry "
                "BBOX(0.2,0.2,0.8,0.8))))");
}

static void test_positions(void **state)
{
    struct cql2_node *n;
    struct err e;
    assert_int_equal(cql2_parse("名称 = '芹阳' AND x IN (1, 2)", &n, &e), 0);
    assert_int_equal(n->kind, CQL2_AND);
    assert_int_equal(n->pos, 11);                  /* AND */
    assert_int_equal(n->args[0]->pos, 4);          /* = */
    assert_int_equal(n->args[0]->args[0]->pos, 1); /* 名称 */
    assert_int_equal(n->args[0]->args[1]->pos, 6); /* '芹阳' */
    assert_int_equal(n->args[1]->pos, 17);         /* IN */
    assert_int_equal(n->args[1]->args[2]->pos, 24);
    cql2_free(n);
}

/* ---- errors ------------------------------------------------------------- */

static void test_errors_syntax(void **state)
{
    check_error("", "filter: empty");
    check_error("   ", "filter: empty");
    check_error("(a = 1 AND b = 2 OR (c = 3 AND d = 4)", "filter: expected ')' at character 38");
    check_error("name LIKEE 'x'", "filter: unknown operator 'LIKEE' at character 6");
    check_error("code = 'abc", "filter: unterminated string starting at character 8");
    check_error("a = 'x' AND b = 'it''s", "filter: unterminated string starting at character 17");
    check_error("\"name = 'x'", "filter: unterminated quoted name starting at character 1");
    check_error("\"\" = 1", "filter: empty property name at character 1");
    check_error("a = 1 AND", "filter: expected a property or a literal at character 10");
    check_error("= 5", "filter: expected a property or a literal at character 1");
    check_error("a = ", "filter: expected a property or a literal at character 5");
    check_error("a", "filter: expected a comparison operator at character 2");
    check_error("a 5", "filter: expected a comparison operator at character 3");
    check_error("a AND b = 1", "filter: expected a comparison operator at character 3");
    check_error("a = 1 b = 2", "filter: unknown operator 'b' at character 7");
    check_error("a = 1)", "filter: expected AND, OR or the end of the filter at character 6");
    check_error("a = 1 # 2", "filter: unexpected character '#' at character 7");
    check_error("a != 1", "filter: unexpected character '!' at character 3");
    /* a bad character right after each kind of operand */
    check_error("a = 'x'#", "filter: unexpected character '#' at character 8");
    check_error("\"a\"# = 1", "filter: unexpected character '#' at character 4");
    check_error("a = TRUE#", "filter: unexpected character '#' at character 9");
    check_error("a = 1#", "filter: unexpected character '#' at character 6");
    check_error("a = DATE('2020-01-01')#", "filter: unexpected character '#' at character 23");
    check_error("a = \x01", "filter: unexpected character 0x01 at character 5");
    check_error("AND = 1",
                "filter: expected a property or a literal, found the keyword 'AND' at character 1");
    check_error("a = 1e", "filter: malformed number '1e' at character 5");
    check_error("a = 12abc", "filter: malformed number '12abc' at character 5");
    check_error("a = 1.2.3", "filter: malformed number '1.2.3' at character 5");
    check_error("a = 1e999", "filter: number out of range '1e999' at character 5");
    check_error("a = .", "filter: malformed number '.' at character 5");
    check_error("名称 = '\xff'", "filter: invalid UTF-8 at character 7");
    check_error("名称 = '\xe8\x8a'", "filter: invalid UTF-8 at character 7");
    check_error("a = '\xc0\xaf'", "filter: invalid UTF-8 at character 6");         /* overlong */
    check_error("a = '\xed\xa0\x80'", "filter: invalid UTF-8 at character 6");     /* surrogate */
    check_error("a = '\xf4\x90\x80\x80'", "filter: invalid UTF-8 at character 6"); /* > U+10FFFF */
    check_parse("a = '\xf0\x9f\x97\xba'", "(= a '\xf0\x9f\x97\xba')");
    /* quoted input is cut at 40 bytes, never inside a character */
    check_error("名称 一二三四五六七八九十一二三四五 'x'",
                "filter: unknown operator '一二三四五六七八九十一二三' at character 4");
}

static void test_errors_predicates(void **state)
{
    check_error("a NOT = 1", "filter: expected LIKE, IN or BETWEEN after NOT at character 7");
    check_error("a IS 1", "filter: expected NULL or NOT NULL after IS at character 6");
    check_error("a IS NOT 1", "filter: expected NULL or NOT NULL after IS at character 10");
    check_error("a NOT IS NULL", "filter: expected LIKE, IN or BETWEEN after NOT at character 7");
    check_error("a LIKE 5", "filter: LIKE needs a quoted pattern at character 8");
    check_error("a LIKE b", "filter: LIKE needs a quoted pattern at character 8");
    check_error("a IN 1, 2", "filter: expected '(' after IN at character 6");
    check_error("a IN ()", "filter: expected a property or a literal at character 7");
    check_error("a IN (1, 2", "filter: expected ',' or ')' at character 11");
    check_error("a IN (1 2)", "filter: expected ',' or ')' at character 9");
    check_error("a BETWEEN 1 OR 2", "filter: expected AND in BETWEEN at character 13");
    check_error("a BETWEEN 1", "filter: expected AND in BETWEEN at character 12");
    check_error("d = DATE('2023-02-29')",
                "filter: '2023-02-29' is not a valid DATE (YYYY-MM-DD) at character 10");
    check_error("d = DATE('2023-1-01')",
                "filter: '2023-1-01' is not a valid DATE (YYYY-MM-DD) at character 10");
    check_error("d = DATE(2023)", "filter: DATE needs a quoted 'YYYY-MM-DD' at character 10");
    check_error("d = DATE '2023-01-01'", "filter: expected '(' after DATE at character 10");
    check_error("d = DATE('2023-01-01'", "filter: expected ')' at character 22");
    check_error("t = TIMESTAMP('2023-01-01T25:00:00Z')",
                "filter: '2023-01-01T25:00:00Z' is not a valid TIMESTAMP (YYYY-MM-DDTHH:MM:SSZ) "
                "at character 15");
    check_error("t = TIMESTAMP('2023-01-01 10:00:00')",
                "filter: '2023-01-01 10:00:00' is not a valid TIMESTAMP (YYYY-MM-DDTHH:MM:SSZ) "
                "at character 15");
    check_error("CASEI(name) = 'x'", "filter: unknown function 'CASEI' at character 1");
    check_error("a = upper('x')", "filter: unknown function 'upper' at character 5");
}

static void test_errors_spatial(void **state)
{
    check_error("S_INTERSECTS geometry", "filter: expected '(' after S_INTERSECTS at character 14");
    check_error("S_INTERSECTS(geometry)", "filter: expected ',' at character 22");
    check_error("S_INTERSECTS(geometry, POINT(1 2), POINT(3 4))",
                "filter: expected ')' at character 34");
    check_error("S_INTERSECTS(geometry, 5)",
                "filter: expected a geometry property, WKT or BBOX at character 24");
    check_error("S_INTERSECTS(geometry, 'POINT(1 2)')",
                "filter: expected a geometry property, WKT or BBOX at character 24");
    check_error("S_INTERSECTS(geometry, TRUE)",
                "filter: expected a geometry property, WKT or BBOX at character 24");
    check_error("S_INTERSECTS(geometry, CIRCLE(1 2 3))",
                "filter: unknown function 'CIRCLE' at character 24");
    check_error("S_INTERSECTS(geometry, POINT)",
                "filter: expected '(' after POINT at character 29");
    check_error("S_INTERSECTS(geometry, POINT EMPTY)",
                "filter: expected '(' after POINT at character 30");
    check_error("S_INTERSECTS(geometry, POINT(1))", "filter: expected a number at character 31");
    check_error("S_INTERSECTS(geometry, POINT(1 2, 3 4))", "filter: expected ')' at character 33");
    check_error("S_INTERSECTS(geometry, POINT(1 x))", "filter: expected a number at character 32");
    check_error("S_INTERSECTS(geometry, LINESTRING(1 2))",
                "filter: a LINESTRING needs at least 2 positions at character 34");
    check_error("S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 0 0)))",
                "filter: a polygon ring needs at least 4 positions at character 32");
    check_error("S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1, 0 1)))",
                "filter: polygon ring is not closed at character 32");
    check_error("S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1, 0 0))",
                "filter: expected ')' at character 53");
    check_error("S_INTERSECTS(geometry, MULTIPOLYGON((0 0, 1 0, 1 1, 0 0)))",
                "filter: expected '(' at character 38");
    check_error("S_INTERSECTS(geometry, GEOMETRYCOLLECTION(BBOX(0,0,1,1)))",
                "filter: expected a geometry (POINT, LINESTRING, POLYGON, MULTIPOINT, "
                "MULTILINESTRING, MULTIPOLYGON or GEOMETRYCOLLECTION) at character 43");
    check_error("S_INTERSECTS(geometry, BBOX(1,2,3))",
                "filter: BBOX needs 4 or 6 numbers, got 3 at character 28");
    check_error("S_INTERSECTS(geometry, BBOX(1,2,3,4,5,6,7))",
                "filter: BBOX needs 4 or 6 numbers at character 28");
    check_error("S_INTERSECTS(geometry, BBOX 1,2,3,4)",
                "filter: expected '(' after BBOX at character 29");
    check_error("S_INTERSECTS(geometry, BBOX(1,2,3,four))",
                "filter: expected a number at character 35");
}

static void test_limits(void **state)
{
    struct buf b;
    struct cql2_node *n = NULL;
    struct err e;
    char want[128];
    /* 64 levels are fine, 65 are not */
    buf_init(&b);
    for (int i = 0; i < 64; i++)
        buf_putc(&b, '(');
    buf_puts(&b, "a = 1");
    for (int i = 0; i < 64; i++)
        buf_putc(&b, ')');
    assert_int_equal(cql2_parse(b.data, &n, &e), 0);
    cql2_free(n);
    buf_reset(&b);
    for (int i = 0; i < 65; i++)
        buf_putc(&b, '(');
    buf_puts(&b, "a = 1");
    for (int i = 0; i < 65; i++)
        buf_putc(&b, ')');
    check_error(b.data, "filter: nesting deeper than the limit of 64 at character 65");
    buf_reset(&b);
    for (int i = 0; i < 40; i++)
        buf_puts(&b, "NOT (");
    buf_puts(&b, "a = 1");
    for (int i = 0; i < 40; i++)
        buf_putc(&b, ')');
    check_error(b.data, "filter: nesting deeper than the limit of 64 at character 161");
    buf_reset(&b);
    buf_puts(&b, "S_INTERSECTS(geometry, ");
    for (int i = 0; i < 65; i++)
        buf_puts(&b, "GEOMETRYCOLLECTION(");
    buf_puts(&b, "POINT(1 2)");
    for (int i = 0; i < 66; i++)
        buf_putc(&b, ')');
    snprintf(want, sizeof want, "filter: nesting deeper than the limit of 64 at character %d",
             24 + 64 * 19);
    check_error(b.data, want);
    /* a long flat chain is not nesting */
    buf_reset(&b);
    buf_puts(&b, "a = 0");
    for (int i = 1; i < 3000; i++)
        buf_printf(&b, " OR a = %d", i);
    assert_int_equal(cql2_parse(b.data, &n, &e), 0);
    assert_int_equal(n->kind, CQL2_OR);
    assert_int_equal(n->n_args, 3000);
    assert_int_equal(n->args[2999]->args[1]->i, 2999);
    cql2_free(n);
    /* length */
    buf_reset(&b);
    buf_puts(&b, "a IN (0");
    while (b.len < CQL2_MAX_LEN)
        buf_puts(&b, ",1");
    buf_putc(&b, ')');
    check_error(b.data, "filter: longer than the limit of 65536 bytes");
    buf_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_comparisons),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_numbers_typed),
        cmocka_unit_test(test_advanced_comparisons),
        cmocka_unit_test(test_boolean_structure),
        cmocka_unit_test(test_spatial),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_errors_syntax),
        cmocka_unit_test(test_errors_predicates),
        cmocka_unit_test(test_errors_spatial),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
