/* alloc_test: the parsers of outside input when memory runs out. Every
 * allocation of onemap's own code (malloc, calloc, realloc, strdup and
 * strndup, wrapped at link time: -Wl,--wrap) and of jansson (its allocator
 * set to ours) is counted; a run of a parser on an input fails its Nth
 * allocation, for N = 1, 2, ... until a run makes fewer than N, as SQLite's
 * tests do. Each run must end in a result or an error (never a crash, never
 * both or neither), and free what it made: the ASan build of CI checks for
 * leaks at exit. The inputs are the fuzz targets' seed corpora, and the
 * demo's layer schema. */
#include <dirent.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc_wrap.h"
#include "ctx_int.h"
#include "cql2.h"
#include "edit.h"
#include "geojson.h"
#include "jsontext.h"
#include "layer.h"
#include "shapefile.h"

/* ---- the counting allocator ----------------------------------------------- */

static unsigned long calls;   /* allocations so far in this run */
static unsigned long fail_at; /* the one to fail (0: none) */
static unsigned long failed;  /* how many were failed in this run */

static int fails(void)
{
    if (++calls == fail_at) {
        failed++;
        return 1;
    }
    return 0;
}

void *__wrap_malloc(size_t n)
{
    return fails() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return fails() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    return fails() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return fails() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return fails() ? NULL : __real_strndup(s, n);
}

static void *json_alloc(size_t n)
{
    return fails() ? NULL : __real_malloc(n);
}

/* ---- inputs ------------------------------------------------------------------ */

struct input {
    char name[300];
    unsigned char *data;
    size_t len;
};

static void load(struct input *in, const char *path, const char *name)
{
    FILE *f;
    long len;
    snprintf(in->name, sizeof in->name, "%s", name);
    assert_non_null(f = fopen(path, "rb"));
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    len = ftell(f);
    rewind(f);
    assert_non_null(in->data = __real_malloc((size_t)len + 1));
    assert_int_equal(fread(in->data, 1, (size_t)len, f), (size_t)len);
    in->data[len] = 0;
    in->len = (size_t)len;
    fclose(f);
}

/* Every file of a folder (a fuzz target's corpus), or the one file path
 * names; NUL-terminated; how many in *n. */
static struct input *corpus(const char *path, size_t *n)
{
    char file[1024];
    struct input *v = NULL;
    struct dirent *d;
    DIR *dp = opendir(path);
    *n = 0;
    if (!dp) {
        assert_non_null(v = __real_malloc(sizeof *v));
        load(v, path, strrchr(path, '/') + 1);
        *n = 1;
        return v;
    }
    while ((d = readdir(dp))) {
        if (d->d_name[0] == '.')
            continue;
        snprintf(file, sizeof file, "%s/%s", path, d->d_name);
        assert_non_null(v = __real_realloc(v, (*n + 1) * sizeof *v));
        load(&v[*n], file, d->d_name);
        (*n)++;
    }
    closedir(dp);
    assert_true(*n > 0);
    return v;
}

static void corpus_free(struct input *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].data);
    free(v);
}

/* A parser run on one input under the current fail_at: 0 for a result,
 * else the error code (e set). It checks its own result's shape. */
typedef int (*run_fn)(const struct input *in, struct err *e);

/* Runs fn on every input of the corpus dir with its 1st, 2nd, ...
 * allocation failing, until a run needs fewer. */
static void pass(const char *path, run_fn fn)
{
    size_t n;
    struct input *in = corpus(path, &n);
    unsigned long runs = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned long need;
        struct err e;
        int clean;
        /* without failures: how it ends normally */
        calls = failed = fail_at = 0;
        err_clear(&e);
        clean = fn(&in[i], &e);
        need = calls;
        for (fail_at = 1; fail_at <= need && fail_at <= 20000; fail_at++) {
            int rc;
            calls = failed = 0;
            err_clear(&e);
            rc = fn(&in[i], &e);
            runs++;
            if (rc) {
                if (!e.msg[0]) {
                    fprintf(stderr, "%s: allocation %lu failed: error %d without a message\n",
                            in[i].name, fail_at, rc);
                    fail();
                }
            } else if (clean) {
                /* an input that is refused must not be taken because memory ran out */
                fprintf(stderr, "%s: allocation %lu failed: accepted, normally refused (%d)\n",
                        in[i].name, fail_at, clean);
                fail();
            }
        }
    }
    fail_at = 0;
    printf("  %s: %zu inputs, %lu runs with one allocation failing\n", strrchr(path, '/') + 1, n,
           runs);
    corpus_free(in, n);
}

/* ---- the parsers ------------------------------------------------------------ */

static int run_cql2(const struct input *in, struct err *e)
{
    struct cql2_node *ast = NULL;
    int rc = cql2_parse((const char *)in->data, &ast, e);
    assert_true(rc == 0 ? ast != NULL : ast == NULL);
    cql2_free(ast);
    return rc;
}

static ctx *the_ctx;

static int run_geojson_text(const struct input *in, struct err *e)
{
    GEOSGeometry *g = NULL;
    json_t *j;
    int rc;
    /* the fast reader: a geometry or "not mine", never an error of its own */
    if (geojson_geom_parse_text(the_ctx, (const char *)in->data, in->len, 100000, &g) == 0) {
        assert_non_null(g);
        GEOSGeom_destroy_r(the_ctx->geos, g);
        g = NULL;
    } else {
        assert_null(g);
    }
    /* and the full one, through jansson */
    if ((rc = json_depth_check((const char *)in->data, in->len, 64, e)))
        return rc;
    if (!(j = json_loadb((const char *)in->data, in->len, JSON_REJECT_DUPLICATES, NULL)))
        return err_set(e, ERR_BAD_REQUEST, "not JSON");
    rc = geojson_geom_parse(the_ctx, j, 100000, &g, e);
    assert_true(rc == 0 ? g != NULL : g == NULL);
    if (g)
        GEOSGeom_destroy_r(the_ctx->geos, g);
    json_decref(j);
    return rc;
}

static int run_merge_patch(const struct input *in, struct err *e)
{
    static const char feature[] = "{\"type\":\"Feature\",\"properties\":{\"a\":1,\"b\":[1,2]},"
                                  "\"geometry\":null}";
    const char *nul = memchr(in->data, '\0', in->len);
    const char *target = feature, *patch = (const char *)in->data;
    size_t tlen = strlen(feature), plen = in->len;
    struct buf out;
    int rc;
    if (nul) {
        target = (const char *)in->data;
        tlen = (size_t)(nul - target);
        patch = nul + 1;
        plen = in->len - tlen - 1;
    }
    buf_init(&out);
    rc = edit_merge_patch(target, tlen, patch, plen, &out, e);
    /* out of memory while writing the result shows in out.oom */
    if (!rc && out.oom)
        rc = err_set(e, ERR_INTERNAL, "out of memory");
    buf_clear(&out);
    return rc;
}

static int run_shapefile(const struct input *in, struct err *e)
{
    static const char *const encodings[] = {"GBK", "UTF-8", "GB18030", "ISO-8859-1"};
    struct shapefile_limits lim = {1 << 22, 1000, 64};
    json_t *fc = NULL;
    int crs = -1, known = 0, rc;
    if (in->len < 1)
        return err_set(e, ERR_BAD_REQUEST, "empty");
    rc = shapefile_zip_read(in->data + 1, in->len - 1, encodings[in->data[0] % 4], &lim, &fc, &crs,
                            &known, e);
    assert_true((rc == 0) == (fc != NULL));
    json_decref(fc);
    return rc;
}

static int run_layers(const struct input *in, struct err *e)
{
    struct layers *ls = NULL;
    int rc = layers_parse((const char *)in->data, &ls, e);
    assert_true(rc == 0 ? ls != NULL : ls == NULL);
    layers_free(ls);
    return rc;
}

/* ---- tests --------------------------------------------------------------------- */

static void test_cql2(void **state)
{
    (void)state;
    pass(ONEMAP_FUZZ_CORPUS_DIR "/cql2", run_cql2);
}

static void test_geojson(void **state)
{
    (void)state;
    pass(ONEMAP_FUZZ_CORPUS_DIR "/geojson_text", run_geojson_text);
}

static void test_merge_patch(void **state)
{
    (void)state;
    pass(ONEMAP_FUZZ_CORPUS_DIR "/merge_patch", run_merge_patch);
}

static void test_shapefile(void **state)
{
    (void)state;
    pass(ONEMAP_FUZZ_CORPUS_DIR "/shapefile", run_shapefile);
}

static void test_layers(void **state)
{
    (void)state;
    pass(ONEMAP_GEODATA_DIR "/layers.json", run_layers);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cql2),        cmocka_unit_test(test_geojson),
        cmocka_unit_test(test_merge_patch), cmocka_unit_test(test_shapefile),
        cmocka_unit_test(test_layers),
    };
    struct err e;
    int rc;
    json_set_alloc_funcs(json_alloc, free);
    if (!(the_ctx = ctx_new(&e))) {
        fprintf(stderr, "ctx_new: %s\n", e.msg);
        return 1;
    }
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    ctx_free(the_ctx);
    return rc;
}
