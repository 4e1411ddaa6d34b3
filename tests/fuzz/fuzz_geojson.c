/* fuzz_geojson: GeoJSON geometry reading (geojson_geom_parse). The input is
 * any JSON text; a geometry object is read as it is, a Feature's geometry and
 * each geometry of a FeatureCollection's features too. Promises checked:
 * errors are ERR_INVALID or ERR_TOO_LARGE, never internal; a geometry that
 * was read writes out as GeoJSON that reads back. */
#include <jansson.h>
#include <stdlib.h>

#include "ctx_int.h"
#include "feature.h"
#include "jsontext.h"
#include "fuzz.h"
#include "geojson.h"

static void one(const json_t *g)
{
    ctx *c = fuzz_ctx();
    GEOSGeometry *geom = NULL, *again = NULL;
    struct buf out;
    struct err e;
    json_t *j;
    int rc;
    err_clear(&e);
    rc = geojson_geom_parse(c, g, 100000, &geom, &e);
    fuzz_require(rc == 0 || rc == ERR_INVALID || rc == ERR_TOO_LARGE, "geojson_geom_parse code", &e);
    fuzz_require(rc != 0 || geom, "geojson_geom_parse: no geometry and no error", &e);
    if (rc)
        return;
    buf_init(&out);
    geojson_geom_write(c, geom, 17, &out);
    fuzz_require(!out.oom && out.data, "geojson_geom_write: nothing written", NULL);
    j = json_loadb(out.data, out.len, 0, NULL);
    fuzz_require(j != NULL, "geojson_geom_write wrote invalid JSON", NULL);
    err_clear(&e);
    rc = geojson_geom_parse(c, j, 0, &again, &e);
    fuzz_require(rc == 0, "what geojson_geom_write wrote does not read back", &e);
    json_decref(j);
    buf_clear(&out);
    GEOSGeom_destroy_r(c->geos, again);
    GEOSGeom_destroy_r(c->geos, geom);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j, *g, *feats;
    struct err e;
    err_clear(&e);
    if (json_depth_check((const char *)data, size, 64, &e))
        return 0; /* what every caller does first */
    if (!(j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL)))
        return 0;
    if ((feats = json_object_get(j, "features")) && json_is_array(feats)) {
        size_t i;
        json_array_foreach(feats, i, g)
            if (i < 64 && json_object_get(g, "geometry"))
                one(json_object_get(g, "geometry"));
    } else if ((g = json_object_get(j, "geometry"))) {
        one(g);
    } else {
        one(j);
    }
    json_decref(j);
    return 0;
}
