/* fuzz_ingest: a whole GeoJSON upload (ingest_geojson) as a dry run into the
 * parcels layer of a database that already holds a few parcels, first as it
 * is and, when features are invalid, again with make_valid. Promises
 * checked: bad input is a 4xx-class error (never internal or I/O), a
 * refused import lists its invalid features, and a dry run writes nothing. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ingest.h"

static void check_code(int rc, const struct ingest_report *r, const struct err *e)
{
    fuzz_require(rc == 0 || rc == ERR_BAD_REQUEST || rc == ERR_INVALID || rc == ERR_TOO_LARGE ||
                     rc == ERR_PARAM || rc == ERR_CONFLICT,
                 "ingest_geojson: bad input gave an internal error", e);
    fuzz_require(rc != ERR_INVALID || r->n_invalid > 0 || e->msg[0],
                 "ingest_geojson: ERR_INVALID without a reason", e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    store *s = fuzz_store(1);
    const struct layer *l = layers_find(fuzz_layers(), "parcels");
    struct ingest_report *r = calloc(1, sizeof *r);
    struct ingest_opts o;
    struct err e;
    long long before = 0, after = 0;
    struct store_query q;
    int rc;
    if (!r)
        abort();
    memset(&q, 0, sizeof q);
    q.layer = l;
    q.limit = -1;
    err_clear(&e);
    fuzz_require(store_query_count(s, &q, &before, &e) == 0, "count", &e);
    ingest_opts_default(&o);
    o.dry_run = 1;
    o.by = "fuzz";
    o.max_features = 1000;
    o.max_vertices = 20000;
    rc = ingest_geojson(fuzz_ctx(), s, l, (const char *)data, size, &o, r, &e);
    check_code(rc, r, &e);
    if (rc == ERR_INVALID && r->n_invalid) {
        memset(r, 0, sizeof *r);
        err_clear(&e);
        o.make_valid = 1;
        o.mode = INGEST_REPLACE;
        rc = ingest_geojson(fuzz_ctx(), s, l, (const char *)data, size, &o, r, &e);
        check_code(rc, r, &e);
    }
    fuzz_require(store_query_count(s, &q, &after, &e) == 0 && after == before,
                 "a dry run changed the layer", &e);
    free(r);
    return 0;
}
