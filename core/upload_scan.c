/* upload_scan: a light scanner over the text of a GeoJSON FeatureCollection,
 * so that a large upload is never held as one JSON tree: it finds the span
 * of each feature (parsed one at a time later, in threads) and the span of a
 * feature's geometry. Any doubt and the caller parses the text the careful
 * way, which names the fault. */
#include "upload_scan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A light scanner over the top level of a FeatureCollection, so that a
 * large upload is never held as one JSON tree: it finds the span of each
 * feature (parsed one at a time later) and parses the other members. Any
 * doubt and the caller falls back to parsing the whole text. */
static size_t skip_ws(const char *t, size_t n, size_t i)
{
    while (i < n && (t[i] == ' ' || t[i] == '\n' || t[i] == '\r' || t[i] == '\t'))
        i++;
    return i;
}

/* What the scans stop at: 1 a string's quote, 2 an opening bracket, 3 a
 * closing one, 4 a backslash (inside strings); everything else is skipped
 * a byte at a time with one lookup (an upload is mostly digits). */
static const unsigned char scan_class[256] = {
    ['"'] = 1, ['{'] = 2, ['['] = 2, ['}'] = 3, [']'] = 3, ['\\'] = 4,
};

static size_t skip_string(const char *t, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        unsigned char k = scan_class[(unsigned char)t[i]];
        if (k == 4)
            i++;
        else if (k == 1)
            return i + 1;
    }
    return 0;
}

/* The end of the value at i, or 0 when it is cut short or nested deeper
 * than max_depth (the scan then leaves the text to the careful path, which
 * names the fault). */
static size_t skip_value(const char *t, size_t n, size_t i, size_t max_depth)
{
    size_t depth = 0;
    if (i >= n)
        return 0;
    if (t[i] == '"')
        return skip_string(t, n, i);
    if (t[i] != '{' && t[i] != '[') {
        while (i < n && !strchr(",}] \t\r\n", t[i]))
            i++;
        return i;
    }
    for (; i < n; i++) {
        switch (scan_class[(unsigned char)t[i]]) {
        case 1:
            if (!(i = skip_string(t, n, i)))
                return 0;
            i--;
            break;
        case 2:
            if (++depth > max_depth)
                return 0;
            break;
        case 3:
            if (--depth == 0)
                return i + 1;
            break;
        default:
            break;
        }
    }
    return 0;
}

static size_t scan_features(const char *t, size_t n, size_t i, struct span **out, size_t *count,
                            struct progress *p)
{
    size_t cap = 1024, shown = 0;
    struct span *v = malloc(cap * sizeof *v);
    *count = 0;
    if (!v)
        return 0;
    i = skip_ws(t, n, i + 1);
    while (i < n && t[i] != ']') {
        size_t end = skip_value(t, n, i, UPLOAD_MAX_DEPTH - 2);
        if (!end || t[i] != '{')
            goto fail;
        if (*count == cap) {
            struct span *w = realloc(v, (cap *= 2) * sizeof *v);
            if (!w)
                goto fail;
            v = w;
        }
        v[(*count)++] = (struct span){i, end};
        if (end - shown >= (1u << 20))
            progress_set(p, shown = end);
        i = skip_ws(t, n, end);
        if (i < n && t[i] == ',')
            i = skip_ws(t, n, i + 1);
        else if (i >= n || t[i] != ']')
            goto fail;
    }
    if (i >= n)
        goto fail;
    *out = v;
    return i + 1;
fail:
    free(v);
    return 0;
}

/* Parses the top-level members other than "features" into *head. */
int upload_scan_collection(const char *t, size_t n, json_t **head, struct span **feats,
                           size_t *n_feats, struct progress *p)
{
    size_t i = skip_ws(t, n, 0);
    int have_features = 0;
    *feats = NULL;
    if (i >= n || t[i] != '{' || !(*head = json_object()))
        return -1;
    for (i = skip_ws(t, n, i + 1); i < n && t[i] != '}';) {
        size_t kend = t[i] == '"' ? skip_string(t, n, i) : 0, vstart, vend;
        json_t *key, *val;
        if (!kend)
            return -1;
        vstart = skip_ws(t, n, kend);
        if (vstart >= n || t[vstart] != ':')
            return -1;
        vstart = skip_ws(t, n, vstart + 1);
        key = json_loadb(t + i, kend - i, JSON_DECODE_ANY, NULL);
        if (!json_is_string(key)) {
            json_decref(key);
            return -1;
        }
        if (vstart < n && t[vstart] == '[' && !strcmp(json_string_value(key), "features")) {
            /* the features are walked once, and only their spans kept */
            vend = have_features++ ? 0 : scan_features(t, n, vstart, feats, n_feats, p);
        } else if ((vend = skip_value(t, n, vstart, UPLOAD_MAX_DEPTH - 1)) &&
                   (val = json_loadb(t + vstart, vend - vstart, JSON_DECODE_ANY, NULL))) {
            json_object_set_new(*head, json_string_value(key), val);
        }
        json_decref(key);
        if (!vend)
            return -1;
        i = skip_ws(t, n, vend);
        if (i < n && t[i] == ',')
            i = skip_ws(t, n, i + 1);
    }
    progress_set(p, n);
    return have_features && i < n && skip_ws(t, n, i + 1) == n ? 0 : -1;
}

/* The span [*vs, *ve) of the value of the first top-level member "geometry"
 * of the object text[start..end); 0 when found. */
int upload_find_geometry(const char *t, size_t start, size_t end, size_t *vs, size_t *ve)
{
    static const char key[] = "\"geometry\"";
    size_t i = skip_ws(t, end, start + 1);
    while (i < end && t[i] == '"') {
        size_t kend = skip_string(t, end, i), v;
        if (!kend || (v = skip_ws(t, end, kend)) >= end || t[v] != ':')
            return -1;
        v = skip_ws(t, end, v + 1);
        if (kend - i == sizeof key - 1 && !memcmp(t + i, key, sizeof key - 1)) {
            *vs = v;
            *ve = skip_value(t, end, v, SIZE_MAX);
            return *ve ? 0 : -1;
        }
        if (!(i = skip_value(t, end, v, SIZE_MAX)))
            return -1;
        i = skip_ws(t, end, i);
        if (i >= end || t[i] != ',')
            return -1;
        i = skip_ws(t, end, i + 1);
    }
    return -1;
}
