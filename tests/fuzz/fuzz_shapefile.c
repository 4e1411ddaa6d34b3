/* fuzz_shapefile: zipped Shapefile uploads (shapefile_zip_read) — the zip
 * container, entry names, the .shp/.shx/.dbf records, .prj and .cpg. The
 * first byte picks the DBF encoding asked for when the zip has no .cpg; the
 * rest is the archive. Limits are small so that bombs are refused quickly.
 * Promises checked: bad input is a 4xx-class error, never internal; a
 * FeatureCollection comes back exactly when there is no error. */
#include <jansson.h>

#include "fuzz.h"
#include "shapefile.h"

static const char *const ENCODINGS[] = {NULL, "UTF-8", "GBK", "GB18030", "ISO-8859-1", "nope"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct shapefile_limits lim = {1 << 22, 1000, 64};
    struct err e;
    json_t *fc = NULL;
    int crs = -1, known = 0, rc;
    if (size < 1)
        return 0;
    err_clear(&e);
    rc = shapefile_zip_read(data + 1, size - 1,
                            ENCODINGS[data[0] % (sizeof ENCODINGS / sizeof *ENCODINGS)], &lim, &fc,
                            &crs, &known, &e);
    fuzz_require(rc == 0 || rc == ERR_PARAM || rc == ERR_BAD_REQUEST || rc == ERR_INVALID ||
                     rc == ERR_TOO_LARGE,
                 "shapefile_zip_read: bad input gave an internal error", &e);
    fuzz_require((rc == 0) == (fc != NULL), "shapefile_zip_read: result and error disagree", &e);
    fuzz_require(rc != 0 || json_is_array(json_object_get(fc, "features")),
                 "shapefile_zip_read: no features array", NULL);
    json_decref(fc);
    return 0;
}
