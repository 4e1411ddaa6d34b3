/* fuzz_cql2: CQL2 text filters (cql2_parse) and their translation to SQL
 * for every layer (store_filter_compile), then run against a small database
 * so that SQLite sees the parameterised SQL too. Promises checked: bad
 * filters are ERR_PARAM naming "filter", a parsed tree compiles or is
 * refused with ERR_PARAM, and the compiled SQL runs. */
#include <stdlib.h>
#include <string.h>

#include "crs.h"
#include "cql2.h"
#include "fuzz.h"
#include "store_filter.h"

static int on_row(void *arg, const struct store_row *row, struct err *e)
{
    (void)arg, (void)row, (void)e;
    return 0;
}

static void compile_and_run(const struct layer *l, const struct cql2_node *ast)
{
    struct store_filter f;
    struct store_query q;
    struct err e;
    long long n = 0;
    int rc;
    memset(&f, 0, sizeof f);
    err_clear(&e);
    rc = store_filter_compile(fuzz_ctx(), l, STORE_SQLITE, ast, CRS_CRS84, CRS_AXIS_AUTHORITY, &f,
                              &e);
    fuzz_require(rc == 0 || rc == ERR_PARAM, "store_filter_compile: not ERR_PARAM", &e);
    if (rc == 0) {
        memset(&q, 0, sizeof q);
        q.layer = l;
        q.filter = &f;
        q.limit = 10;
        rc = store_query_count(fuzz_store(1), &q, &n, &e);
        fuzz_require(rc == 0 || rc == ERR_PARAM, "a compiled filter does not run", &e);
        if (rc == 0)
            store_query_rows(fuzz_store(1), &q, on_row, NULL, &e);
    }
    store_filter_clear(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    struct cql2_node *ast = NULL;
    struct err e;
    int rc;
    err_clear(&e);
    rc = cql2_parse(text, &ast, &e);
    fuzz_require(rc == 0 || (rc == ERR_PARAM && !strncmp(e.msg, "filter", 6)),
                 "cql2_parse: not an ERR_PARAM naming the filter", &e);
    fuzz_require(rc != 0 || ast, "cql2_parse: no tree and no error", &e);
    if (ast && size == strlen(text)) {
        const struct layers *ls = fuzz_layers();
        for (size_t i = 0; i < ls->n; i++)
            compile_and_run(&ls->v[i], ast);
    }
    cql2_free(ast);
    free(text);
    return 0;
}
