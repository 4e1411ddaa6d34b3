/* fuzz_geojson_text: the fast path from text (geojson_geom_parse_text)
 * against the slow one. The input is the text of a geometry object. Promise
 * checked: the fast path refuses (1, nothing built) or builds exactly what
 * json_loadb (duplicates refused) and geojson_geom_parse build from the same
 * text, bit for bit (same WKB), with and without a position limit. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ctx_int.h"
#include "fuzz.h"
#include "geojson.h"

static int same_wkb(GEOSContextHandle_t h, const GEOSGeometry *a, const GEOSGeometry *b)
{
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(h);
    size_t na = 0, nb = 0;
    unsigned char *wa = GEOSWKBWriter_write_r(h, w, a, &na);
    unsigned char *wb = GEOSWKBWriter_write_r(h, w, b, &nb);
    int same = wa && wb && na == nb && memcmp(wa, wb, na) == 0;
    GEOSFree_r(h, wa);
    GEOSFree_r(h, wb);
    GEOSWKBWriter_destroy_r(h, w);
    return same;
}

static void one(const char *text, size_t len, size_t max_points)
{
    ctx *c = fuzz_ctx();
    GEOSGeometry *fast = (GEOSGeometry *)1, *slow = NULL;
    struct err e;
    json_t *j;
    int rc = geojson_geom_parse_text(c, text, len, max_points, &fast);
    fuzz_require(rc == 0 || rc == 1, "geojson_geom_parse_text: neither 0 nor 1", NULL);
    if (rc) {
        fuzz_require(fast == NULL, "geojson_geom_parse_text refused but set *out", NULL);
        return;
    }
    fuzz_require(fast != NULL, "geojson_geom_parse_text: 0 without a geometry", NULL);
    j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    fuzz_require(j != NULL, "fast path accepted text that jansson refuses", NULL);
    err_clear(&e);
    rc = geojson_geom_parse(c, j, max_points, &slow, &e);
    fuzz_require(rc == 0, "fast path accepted what geojson_geom_parse refuses", &e);
    fuzz_require(same_wkb(c->geos, fast, slow), "fast and slow paths built different geometries",
                 NULL);
    json_decref(j);
    GEOSGeom_destroy_r(c->geos, slow);
    GEOSGeom_destroy_r(c->geos, fast);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact copy: reading past size is an ASan report */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    one(text, size, 0);
    one(text, size, 16);
    free(text);
    return 0;
}
