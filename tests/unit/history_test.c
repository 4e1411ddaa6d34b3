/* history_test: the API's JSON of a feature's versions and of the change
 * log, written from a real store's history rows. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tempdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"

static const char *SCHEMA =
    "{\"version\":1,\"layers\":["
    "{\"id\":\"plots\",\"key\":\"code\",\"fields\":["
    "{\"name\":\"code\",\"type\":\"string\",\"required\":true}]},"
    "{\"id\":\"grids\",\"key\":\"code\",\"fields\":["
    "{\"name\":\"code\",\"type\":\"string\",\"required\":true}]}]}";

struct fixture {
    char dir[64];
    char path[128];
    store *s;
    struct layers *ls;
    const struct layer *plots, *grids;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct err e;
    strcpy(f->dir, "/tmp/history_test_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    if (store_open(f->path, STORE_CREATE, &f->s, &e) || store_init(f->s, SCHEMA, &e) ||
        store_layers_get(f->s, &f->ls, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    f->plots = layers_find(f->ls, "plots");
    f->grids = layers_find(f->ls, "grids");
    *state = f;
    /* plots/7: created by alice with a copy, then imported without one
     * (the live version); grids/7 created by bob */
    if (store_history_add_at(f->s, f->plots, 7, 1, "create", "2024-01-02T03:04:05.006Z", "alice",
                             "c1", "{\"v\":1}", &e) ||
        store_history_add_at(f->s, f->plots, 7, 2, "import", "2024-05-06T07:08:09.010Z", NULL,
                             "c2", NULL, &e) ||
        store_history_add_at(f->s, f->grids, 7, 1, "create", "2024-06-01T00:00:00.000Z", "bob",
                             NULL, "{\"g\":\"\\u4e00\"}", &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    return f->plots && f->grids ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    layers_free(f->ls);
    tempdb_remove(f->path, f->dir);
    free(f);
    return 0;
}

static int live_calls;

static int live_stub(void *arg, long long fid, long long version, struct buf *out, struct err *e)
{
    (void)arg;
    (void)e;
    live_calls++;
    buf_printf(out, "{\"live\":[%lld,%lld]}", fid, version);
    return 0;
}

static int live_fails(void *arg, long long fid, long long version, struct buf *out, struct err *e)
{
    (void)arg;
    (void)fid;
    (void)version;
    (void)out;
    return err_set(e, ERR_UNAVAILABLE, "database: gone");
}

static void test_versions(void **state)
{
    struct fixture *f = *state;
    struct buf out;
    long long n = -1;
    struct err e;
    buf_init(&out);
    live_calls = 0;
    assert_int_equal(history_versions_json(f->s, f->plots, 7, live_stub, NULL, &out, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_int_equal(live_calls, 1);
    assert_string_equal(out.data,
        "{\"version\":2,\"op\":\"import\",\"at\":\"2024-05-06T07:08:09.010Z\",\"by\":null,"
        "\"change_id\":\"c2\",\"seq\":2,\"feature\":{\"live\":[7,2]}},"
        "{\"version\":1,\"op\":\"create\",\"at\":\"2024-01-02T03:04:05.006Z\",\"by\":\"alice\","
        "\"change_id\":\"c1\",\"seq\":1,\"feature\":{\"v\":1}}");
    buf_reset(&out);

    /* once kept, the copy is written and live() not asked */
    assert_int_equal(store_history_keep(f->s, f->plots, 7, 2, "{\"v\":2}", &e), 0);
    live_calls = 0;
    assert_int_equal(history_versions_json(f->s, f->plots, 7, live_stub, NULL, &out, &n, &e), 0);
    assert_int_equal(live_calls, 0);
    assert_int_equal(strncmp(out.data, "{\"version\":2,", 13), 0);
    assert_non_null(strstr(out.data, "\"seq\":2,\"feature\":{\"v\":2}},{\"version\":1,"));
    buf_reset(&out);

    /* nothing for a feature without history */
    assert_int_equal(history_versions_json(f->s, f->plots, 8, live_stub, NULL, &out, &n, &e), 0);
    assert_int_equal(n, 0);
    assert_true(out.len == 0);

    /* live()'s error comes through */
    assert_int_equal(store_history_add_at(f->s, f->plots, 9, 1, "import", NULL, NULL, NULL, NULL,
                                          &e), 0);
    assert_int_equal(history_versions_json(f->s, f->plots, 9, live_fails, NULL, &out, &n, &e),
                     ERR_UNAVAILABLE);
    assert_string_equal(e.msg, "database: gone");
    buf_clear(&out);
}

static void test_changes(void **state)
{
    struct fixture *f = *state;
    struct buf out;
    struct err e;
    buf_init(&out);
    assert_int_equal(history_changes_json(f->s, 1, 5, &out, &e), 0);
    assert_string_equal(out.data,
        "{\"changes\":[{\"seq\":2,\"collection\":\"plots\",\"id\":7,\"op\":\"import\","
        "\"version\":2,\"at\":\"2024-05-06T07:08:09.010Z\",\"by\":null,\"change_id\":\"c2\"},"
        "{\"seq\":3,\"collection\":\"grids\",\"id\":7,\"op\":\"create\",\"version\":1,"
        "\"at\":\"2024-06-01T00:00:00.000Z\",\"by\":\"bob\",\"change_id\":null}],\"next\":3}");
    buf_reset(&out);
    /* a page of one: next is where the next page starts */
    assert_int_equal(history_changes_json(f->s, 0, 1, &out, &e), 0);
    assert_non_null(strstr(out.data, "\"change_id\":\"c1\"}],\"next\":1}"));
    buf_reset(&out);
    /* past the end: empty, next stays */
    assert_int_equal(history_changes_json(f->s, 3, 10, &out, &e), 0);
    assert_string_equal(out.data, "{\"changes\":[],\"next\":3}");
    buf_clear(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
