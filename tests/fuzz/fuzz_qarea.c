/* fuzz_qarea: the geometry of an area query (qarea_resolve) — WKT as in
 * ?geometry= or GeoJSON as in POST stats — in one of the CRSs a client may
 * name. The first byte picks the form, the CRS and make_valid; the rest is
 * the text. Promise checked: bad input is ERR_PARAM, never internal. */
#include <stdlib.h>
#include <string.h>

#include "crs.h"
#include "fuzz.h"
#include "qarea.h"

static const int CRSS[] = {CRS_CRS84, CRS_4490, CRS_4326, CRS_3857, CRS_4548, CRS_4528};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qarea_spec sp;
    struct err e;
    qarea *a = NULL;
    char *text;
    int rc;
    if (size < 1)
        return 0;
    memset(&sp, 0, sizeof sp);
    sp.kind = (data[0] & 1) ? QAREA_GEOJSON : QAREA_WKT;
    sp.crs = CRSS[(data[0] >> 1) % (sizeof CRSS / sizeof *CRSS)];
    sp.axis = (data[0] & 0x40) ? CRS_AXIS_XY : CRS_AXIS_AUTHORITY;
    sp.make_valid = !!(data[0] & 0x80);
    sp.param = "geometry";
    text = fuzz_strndup(data + 1, size - 1);
    sp.text = text;
    sp.text_len = size - 1;
    err_clear(&e);
    rc = qarea_resolve(fuzz_ctx(), NULL, fuzz_layers(), &sp, &a, &e);
    fuzz_require(rc == 0 || rc == ERR_PARAM, "qarea_resolve: bad input gave another error", &e);
    fuzz_require(rc != 0 || a, "qarea_resolve: no area and no error", &e);
    if (a) {
        double rects[2][4];
        int n = qarea_rects(a, rects);
        fuzz_require(n >= 1 && n <= 2, "qarea_rects count", NULL);
        fuzz_require(qarea_area_m2(a) >= 0, "negative area", NULL);
    }
    qarea_free(fuzz_ctx(), a);
    free(text);
    return 0;
}
