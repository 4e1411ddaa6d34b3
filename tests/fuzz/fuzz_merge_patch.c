/* fuzz_merge_patch: RFC 7396 JSON merge patch (edit_merge_patch). The input
 * is "TARGET\0PATCH", or only a patch, applied then to a stored-looking
 * Feature. Promises checked against the RFC: a member patched with null is
 * gone, one patched with a non-object value equals it, one patched with an
 * object is an object; applying the same patch twice changes nothing. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "edit.h"
#include "fuzz.h"

static const char FEATURE[] =
    "{\"type\":\"Feature\",\"properties\":{\"code\":\"P1\",\"dlbm\":\"0101\",\"owner\":null,"
    "\"area_m2\":12.5},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[118.4,29.1],"
    "[118.5,29.1],[118.5,29.2],[118.4,29.1]]]}}";

static void check_rfc(const json_t *res, const json_t *patch)
{
    const char *k;
    json_t *v;
    if (!json_is_object(patch)) {
        fuzz_require(json_equal(res, patch), "a non-object patch replaces the target", NULL);
        return;
    }
    fuzz_require(json_is_object(res), "an object patch gives an object", NULL);
    json_object_foreach((json_t *)patch, k, v) {
        json_t *got = json_object_get(res, k);
        if (json_is_null(v))
            fuzz_require(got == NULL, "a member patched with null is removed", NULL);
        else if (json_is_object(v))
            check_rfc(got, v);
        else
            fuzz_require(got && json_equal(got, v), "a patched member equals the patch", NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nul = memchr(data, '\0', size);
    const char *target = FEATURE, *patch = (const char *)data;
    size_t tlen = strlen(FEATURE), plen = size;
    struct buf once, twice;
    struct err e;
    json_t *res, *p;
    if (nul) {
        target = (const char *)data;
        tlen = (size_t)(nul - target);
        patch = nul + 1;
        plen = size - tlen - 1;
    }
    buf_init(&once);
    buf_init(&twice);
    err_clear(&e);
    if (edit_merge_patch(target, tlen, patch, plen, &once, &e)) {
        fuzz_require(e.code == ERR_BAD_REQUEST, "edit_merge_patch: not ERR_BAD_REQUEST", &e);
        buf_clear(&once);
        return 0;
    }
    fuzz_require(!once.oom && once.data, "edit_merge_patch: no result", NULL);
    fuzz_require(edit_merge_patch(once.data, once.len, patch, plen, &twice, &e) == 0,
                 "edit_merge_patch: its own result is refused", &e);
    fuzz_require(once.len == twice.len && !memcmp(once.data, twice.data, once.len),
                 "edit_merge_patch: applying a patch twice changed more", NULL);
    res = json_loadb(once.data, once.len, JSON_DECODE_ANY, NULL);
    p = json_loadb(patch, plen, JSON_DECODE_ANY, NULL);
    fuzz_require(res && p, "edit_merge_patch: result or patch unreadable", NULL);
    check_rfc(res, p);
    json_decref(res);
    json_decref(p);
    buf_clear(&once);
    buf_clear(&twice);
    return 0;
}
