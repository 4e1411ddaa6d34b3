/* layer_test: the layer schema — a document with every kind of member read
 * back field by field, look-ups by id, name, alias and a Shapefile's cut
 * name, and each way a schema can be wrong refused with a message naming
 * the layer and field at fault. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer.h"

static const char *GOOD =
    "{\"version\":1,\"layers\":["
    "{\"id\":\"plots\",\"title\":{\"zh\":\"地块\",\"en\":\"Plots\"},"
    "\"description\":{\"zh\":\"说明\",\"en\":\"About plots\"},"
    "\"key\":\"code\",\"group_by\":\"kind\",\"fields\":["
    "{\"name\":\"code\",\"type\":\"string\",\"title\":{\"zh\":\"编号\",\"en\":\"Code\"},"
    "\"required\":true,\"pattern\":\"^P[0-9]{3}$\",\"aliases\":[\"BH\",\"TBBH\"]},"
    "{\"name\":\"kind\",\"type\":\"string\",\"enum\":[\"farm\",\"wood\",\"水田\"]},"
    "{\"name\":\"households\",\"type\":\"integer\"},"
    "{\"name\":\"share\",\"type\":\"number\",\"required\":false},"
    "{\"name\":\"is_public\",\"type\":\"boolean\"},"
    "{\"name\":\"surveyed\",\"type\":\"date\"},"
    "{\"name\":\"ownership_kind\",\"type\":\"string\"}]},"
    "{\"id\":\"grids_2\",\"key\":\"code\",\"fields\":["
    "{\"name\":\"code\",\"type\":\"string\"}]}]}";

static void test_parse_good(void **state)
{
    struct layers *ls = NULL;
    const struct layer *l;
    struct err e;
    (void)state;
    assert_int_equal(layers_parse(GOOD, &ls, &e), 0);
    assert_non_null(ls);
    assert_int_equal(ls->n, 2);
    assert_string_equal(ls->json, GOOD);
    l = &ls->v[0];
    assert_string_equal(l->id, "plots");
    assert_string_equal(l->title_zh, "地块");
    assert_string_equal(l->title_en, "Plots");
    assert_string_equal(l->desc_en, "About plots");
    assert_string_equal(l->key, "code");
    assert_int_equal(l->key_field, 0);
    assert_string_equal(l->group_by, "kind");
    assert_int_equal(l->n_fields, 7);

    assert_string_equal(l->fields[0].name, "code");
    assert_int_equal(l->fields[0].type, FIELD_STRING);
    assert_true(l->fields[0].required);
    assert_string_equal(l->fields[0].title_zh, "编号");
    assert_string_equal(l->fields[0].pattern, "^P[0-9]{3}$");
    assert_non_null(l->fields[0].re);
    assert_int_equal(regexec(l->fields[0].re, "P123", 0, NULL, 0), 0);
    assert_int_not_equal(regexec(l->fields[0].re, "P12", 0, NULL, 0), 0);
    assert_int_equal(l->fields[0].n_aliases, 2);
    assert_string_equal(l->fields[0].aliases[1], "TBBH");
    assert_int_equal(l->fields[0].n_enums, 0);
    assert_null(l->fields[0].enums);

    assert_int_equal(l->fields[1].n_enums, 3);
    assert_string_equal(l->fields[1].enums[2], "水田");
    assert_false(l->fields[1].required);
    assert_null(l->fields[1].pattern);
    assert_null(l->fields[1].re);
    assert_null(l->fields[1].title_en);

    assert_int_equal(l->fields[2].type, FIELD_INTEGER);
    assert_int_equal(l->fields[3].type, FIELD_NUMBER);
    assert_false(l->fields[3].required);
    assert_int_equal(l->fields[4].type, FIELD_BOOLEAN);
    assert_int_equal(l->fields[5].type, FIELD_DATE);

    l = &ls->v[1];
    assert_string_equal(l->id, "grids_2");
    assert_null(l->group_by);
    assert_null(l->title_zh);
    layers_free(ls);
    layers_free(NULL);
}

static void test_find_and_index(void **state)
{
    struct layers *ls = NULL;
    const struct layer *l;
    struct err e;
    (void)state;
    assert_int_equal(layers_parse(GOOD, &ls, &e), 0);
    l = layers_find(ls, "plots");
    assert_ptr_equal(l, &ls->v[0]);
    assert_ptr_equal(layers_find(ls, "grids_2"), &ls->v[1]);
    assert_null(layers_find(ls, "Plots"));
    assert_null(layers_find(ls, "plot"));
    assert_null(layers_find(ls, NULL));
    assert_null(layers_find(NULL, "plots"));

    assert_int_equal(layer_field_index(l, "code"), 0);
    assert_int_equal(layer_field_index(l, "surveyed"), 5);
    assert_int_equal(layer_field_index(l, "Surveyed"), -1); /* exact only */
    assert_int_equal(layer_field_index(l, "BH"), -1);       /* no aliases */
    assert_int_equal(layer_field_index(l, NULL), -1);

    /* an upload's names: exact, any case, an alias in any case, or cut to 10 */
    assert_int_equal(layer_field_match(l, "households"), 2);
    assert_int_equal(layer_field_match(l, "HOUSEHOLDS"), 2);
    assert_int_equal(layer_field_match(l, "tbbh"), 0);
    assert_int_equal(layer_field_match(l, "BH"), 0);
    assert_int_equal(layer_field_match(l, "OWNERSHIP_"), 6);
    assert_int_equal(layer_field_match(l, "ownership"), -1);  /* 9 characters: no cut */
    assert_int_equal(layer_field_match(l, "households_x"), -1);
    assert_int_equal(layer_field_match(l, "HOUSEHOLDS"), 2);  /* 10 long, and a whole name */
    assert_int_equal(layer_field_match(l, "nothing"), -1);
    assert_int_equal(layer_field_match(l, NULL), -1);

    assert_string_equal(field_type_name(FIELD_STRING), "string");
    assert_string_equal(field_type_name(FIELD_INTEGER), "integer");
    assert_string_equal(field_type_name(FIELD_NUMBER), "number");
    assert_string_equal(field_type_name(FIELD_BOOLEAN), "boolean");
    assert_string_equal(field_type_name(FIELD_DATE), "date");
    layers_free(ls);
}

/* Builds {"layers":[{"id":"x","key":"code","fields":[<fields>]}<more>]}. */
static const char *doc(char *out, size_t size, const char *layer_members, const char *fields,
                       const char *more)
{
    snprintf(out, size, "{\"layers\":[{%s\"fields\":[%s]}%s]}", layer_members, fields, more);
    return out;
}

#define CODE "{\"name\":\"code\",\"type\":\"string\"}"
#define XKEY "\"id\":\"x\",\"key\":\"code\","

static void test_bad_schemas(void **state)
{
    struct {
        const char *members, *fields, *more, *msg;
    } cases[] = {
        {"\"id\":\"Parcels\",\"key\":\"code\",", CODE, "",
         "layers[0].id: expected a lower-case identifier"},
        {"\"key\":\"code\",", CODE, "", "layers[0].id: expected a lower-case identifier"},
        {"\"id\":\"9x\",\"key\":\"code\",", CODE, "",
         "layers[0].id: expected a lower-case identifier"},
        {XKEY, CODE, ",{\"id\":\"y-z\",\"key\":\"code\",\"fields\":[" CODE "]}",
         "layers[1].id: expected a lower-case identifier"},
        {XKEY, "", "", "layers: x.fields: expected a non-empty array"},
        {XKEY, CODE ",{\"name\":\"Owner\",\"type\":\"string\"}", "",
         "layers: x.fields[1].name: expected a lower-case identifier"},
        {XKEY, CODE ",{\"type\":\"string\"}", "",
         "layers: x.fields[1].name: expected a lower-case identifier"},
        {XKEY, CODE ",{\"name\":\"owner\",\"type\":\"text\"}", "",
         "layers: x.owner.type: expected string, integer, number, boolean or date"},
        {XKEY, CODE ",{\"name\":\"owner\"}", "",
         "layers: x.owner.type: expected string, integer, number, boolean or date"},
        {XKEY, "{\"name\":\"code\",\"type\":\"string\",\"pattern\":\"([0-9\"}", "",
         "layers: x.code.pattern: not a valid regular expression"},
        {XKEY, CODE ",{\"name\":\"a\",\"type\":\"integer\"},{\"name\":\"code\",\"type\":\"date\"}",
         "", "layers: x.code: duplicate field"},
        {"\"id\":\"x\",\"key\":\"nope\",", CODE, "", "layers: x.key: must name one of its fields"},
        {"\"id\":\"x\",", CODE, "", "layers: x.key: must name one of its fields"},
        {XKEY "\"group_by\":\"kind\",", CODE, "",
         "layers: x.group_by: must name one of its fields"},
        {XKEY, CODE, ",{\"id\":\"x\",\"key\":\"code\",\"fields\":[" CODE "]}",
         "layers: duplicate layer id 'x'"},
        /* a schema that would crash every later write, or the table's creation */
        {XKEY, CODE ",{\"name\":\"kind\",\"type\":\"string\",\"enum\":[\"a\",1]}", "",
         "layers: x.kind.enum[1]: expected a string"},
        {XKEY, CODE ",{\"name\":\"kind\",\"type\":\"string\",\"enum\":\"a\"}", "",
         "layers: x.kind.enum: expected an array of strings"},
        {XKEY, CODE ",{\"name\":\"kind\",\"type\":\"string\",\"aliases\":[5]}", "",
         "layers: x.kind.aliases[0]: expected a string"},
        {XKEY, CODE ",{\"name\":\"version\",\"type\":\"integer\"}", "",
         "layers: x.fields[1].name: 'version' is a column of every layer (fid, version, "
         "area_m2, gj, geom, since, pid, valid_from, valid_to); choose another name"},
        {XKEY, CODE ",{\"name\":\"valid_to\",\"type\":\"string\"}", "",
         "layers: x.fields[1].name: 'valid_to' is a column of every layer (fid, version, "
         "area_m2, gj, geom, since, pid, valid_from, valid_to); choose another name"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[1024];
        struct layers *ls = (struct layers *)1;
        struct err e;
        err_clear(&e);
        doc(text, sizeof text, cases[i].members, cases[i].fields, cases[i].more);
        assert_int_equal(layers_parse(text, &ls, &e), ERR_INVALID);
        assert_null(ls);
        if (strcmp(e.msg, cases[i].msg))
            fail_msg("case %zu (%s): got '%s', want '%s'", i, text, e.msg, cases[i].msg);
    }
}

static void test_bad_documents(void **state)
{
    struct layers *ls = NULL;
    struct err e;
    (void)state;
    assert_int_equal(layers_parse("{\"layers\":[", &ls, &e), ERR_INVALID);
    assert_null(ls);
    assert_int_equal(strncmp(e.msg, "layers: line 1 column ", 22), 0);
    assert_int_equal(layers_parse("{\"layers\":[]}", &ls, &e), ERR_INVALID);
    assert_string_equal(e.msg, "layers: expected a non-empty array \"layers\"");
    assert_int_equal(layers_parse("{\"layer\":[{}]}", &ls, &e), ERR_INVALID);
    assert_string_equal(e.msg, "layers: expected a non-empty array \"layers\"");
    assert_int_equal(layers_parse("[1,2]", &ls, &e), ERR_INVALID);
    assert_string_equal(e.msg, "layers: expected a non-empty array \"layers\"");
    /* duplicate members are refused, not silently merged */
    assert_int_equal(layers_parse("{\"layers\":[{\"id\":\"x\",\"id\":\"y\",\"key\":\"code\","
                                  "\"fields\":[" CODE "]}]}", &ls, &e), ERR_INVALID);
    assert_int_equal(strncmp(e.msg, "layers: line 1 column ", 22), 0);
    assert_non_null(strstr(e.msg, "duplicate"));
    assert_null(ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_find_and_index),
        cmocka_unit_test(test_bad_schemas),
        cmocka_unit_test(test_bad_documents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
