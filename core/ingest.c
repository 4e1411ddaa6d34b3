/* ingest: FeatureCollection imports and exports. Owns the per-import
 * bookkeeping; feature.c judges single features, store.c writes them. */
#include "ingest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crs.h"
#include "ctx_int.h"
#include "feature.h"

void ingest_opts_default(struct ingest_opts *o)
{
    struct limits lim;
    limits_default(&lim);
    memset(o, 0, sizeof *o);
    o->crs = -1;
    o->axis = CRS_AXIS_XY;
    o->max_features = lim.max_features;
    o->max_vertices = lim.max_vertices;
}

static void note_invalid(struct ingest_report *r, size_t index, const struct layer *l,
                         const json_t *feat, const struct feature_in *f, const struct err *e)
{
    struct ingest_invalid *inv;
    const char *key;
    json_t *props = json_object_get(feat, "properties");
    r->n_invalid++;
    if (r->n_invalid > INGEST_MAX_INVALID)
        return;
    inv = &r->invalid[r->n_invalid - 1];
    memset(inv, 0, sizeof *inv);
    inv->index = index;
    key = json_string_value(json_object_get(props, l->key));
    snprintf(inv->key, sizeof inv->key, "%s", key ? key : "");
    snprintf(inv->reason, sizeof inv->reason, "%s", e->msg);
    if (f->have_loc) {
        inv->loc[0] = f->loc[0];
        inv->loc[1] = f->loc[1];
        inv->have_loc = 1;
    }
}

/* The CRS a file names itself (legacy GeoJSON "crs" member), else CRS84. */
static int file_crs(const json_t *root, const struct ingest_opts *o, int *crs, int *axis,
                    struct err *e)
{
    const char *name = json_string_value(
        json_object_get(json_object_get(json_object_get(root, "crs"), "properties"), "name"));
    if (o->crs >= 0) {
        *crs = o->crs;
        *axis = o->axis;
        return 0;
    }
    *axis = CRS_AXIS_XY; /* a file's own CRS is read x = easting/longitude */
    *crs = CRS_CRS84;
    if (name && crs_from_wkt(name, crs, e))
        return err_prefix(e, "crs");
    return 0;
}

struct keyref {
    const char *key;
    size_t index;
};

static int keyref_cmp(const void *a, const void *b)
{
    const struct keyref *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->index < y->index ? -1 : x->index > y->index);
}

/* Reports every feature whose key an earlier feature of the upload uses. */
static void check_duplicates(const struct layer *l, json_t *feats, struct feature_in *fs,
                             size_t n, struct ingest_report *r)
{
    struct keyref *refs = calloc(n ? n : 1, sizeof *refs);
    size_t m = 0;
    struct err fe;
    if (!refs)
        return;
    for (size_t i = 0; i < n; i++)
        if (fs[i].vals && fs[i].vals[l->key_field].type == VAL_TEXT)
            refs[m++] = (struct keyref){fs[i].vals[l->key_field].s, i};
    qsort(refs, m, sizeof *refs, keyref_cmp);
    for (size_t k = 1; k < m; k++)
        if (!strcmp(refs[k].key, refs[k - 1].key)) {
            size_t first = k - 1;
            while (first > 0 && !strcmp(refs[first - 1].key, refs[k].key))
                first--;
            err_set(&fe, ERR_INVALID, "properties.%s: '%s' also used by features[%zu]", l->key,
                    refs[k].key, refs[first].index);
            note_invalid(r, refs[k].index, l, json_array_get(feats, refs[k].index), &fs[refs[k].index], &fe);
        }
    free(refs);
}

static int parse_all(ctx *c, const struct layer *l, json_t *feats, int crs, int axis,
                     const struct ingest_opts *o, struct feature_in *fs,
                     struct ingest_report *r)
{
    struct limits lim;
    struct err fe;
    limits_default(&lim);
    lim.max_vertices = o->max_vertices;
    for (size_t i = 0; i < json_array_size(feats); i++) {
        json_t *jf = json_array_get(feats, i);
        err_clear(&fe);
        if (feature_parse(c, l, jf, crs, axis, &lim, o->make_valid ? FEATURE_MAKE_VALID : 0,
                          &fs[i], &fe)) {
            note_invalid(r, i, l, jf, &fs[i], &fe);
            continue;
        }
        r->repaired += fs[i].repaired;
    }
    check_duplicates(l, feats, fs, json_array_size(feats), r);
    return r->n_invalid ? ERR_INVALID : 0;
}

static int write_all(ctx *c, store *s, const struct layer *l, struct feature_in *fs, size_t n,
                     struct ingest_report *r, struct err *e)
{
    int rc;
    if ((rc = store_begin(s, e)))
        return rc;
    for (size_t i = 0; i < n; i++) {
        if ((rc = feature_insert(c, s, l, &fs[i], NULL, e))) {
            store_rollback(s);
            return err_prefix(e, "features[%zu]", i);
        }
        r->added++;
        r->area_change_m2 += fs[i].area_m2;
    }
    if ((rc = store_commit(s, e))) {
        store_rollback(s);
        r->added = 0;
        r->area_change_m2 = 0;
    }
    return rc;
}

int ingest_geojson(ctx *c, store *s, const struct layer *l, const char *text, size_t len,
                   const struct ingest_opts *o, struct ingest_report *r, struct err *e)
{
    json_error_t je;
    json_t *root = NULL, *feats;
    struct feature_in *fs = NULL;
    const char *type;
    int crs, axis, rc = 0;
    size_t n = 0;
    memset(r, 0, sizeof *r);
    if ((rc = json_depth_check(text, len, 64, e)))
        return rc;
    if (!(root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)))
        return err_set(e, ERR_BAD_REQUEST, "line %d, column %d: %s", je.line, je.column, je.text);
    type = json_string_value(json_object_get(root, "type"));
    feats = json_object_get(root, "features");
    if (!type || strcmp(type, "FeatureCollection") || !json_is_array(feats)) {
        rc = err_set(e, ERR_INVALID, "expected a GeoJSON FeatureCollection with a features array");
        goto out;
    }
    n = json_array_size(feats);
    if (o->max_features && n > o->max_features) {
        rc = err_set(e, ERR_TOO_LARGE, "features: %zu features, more than the limit of %zu "
                     "(max_features)", n, o->max_features);
        goto out;
    }
    if ((rc = file_crs(root, o, &crs, &axis, e)))
        goto out;
    if (!(fs = calloc(n ? n : 1, sizeof *fs))) {
        rc = err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    if ((rc = parse_all(c, l, feats, crs, axis, o, fs, r))) {
        err_set(e, ERR_INVALID, "%zu of %zu features are invalid; first: features[%zu]: %s",
                r->n_invalid, n, r->invalid[0].index, r->invalid[0].reason);
        goto out;
    }
    if (o->dry_run) {
        for (size_t i = 0; i < n; i++) {
            r->added++;
            r->area_change_m2 += fs[i].area_m2;
        }
        goto out;
    }
    rc = write_all(c, s, l, fs, n, r, e);
out:
    for (size_t i = 0; fs && i < n; i++)
        feature_in_clear(c, &fs[i]);
    free(fs);
    json_decref(root);
    return rc;
}

void ingest_report_json(const struct ingest_report *r, int dry_run, struct buf *out)
{
    size_t n = r->n_invalid < INGEST_MAX_INVALID ? r->n_invalid : INGEST_MAX_INVALID;
    buf_printf(out, "{\"dry_run\":%s,\"added\":%zu,\"changed\":0,\"unchanged\":0,\"removed\":0,"
               "\"invalid_count\":%zu,\"invalid\":[", dry_run ? "true" : "false", r->added,
               r->n_invalid);
    for (size_t i = 0; i < n; i++) {
        const struct ingest_invalid *v = &r->invalid[i];
        buf_printf(out, "%s{\"index\":%zu,\"key\":", i ? "," : "", v->index);
        buf_put_json_str(out, v->key);
        buf_puts(out, ",\"reason\":");
        buf_put_json_str(out, v->reason);
        if (v->have_loc) {
            buf_puts(out, ",\"location\":[");
            buf_put_num(out, v->loc[0], 9);
            buf_putc(out, ',');
            buf_put_num(out, v->loc[1], 9);
            buf_putc(out, ']');
        }
        buf_putc(out, '}');
    }
    buf_puts(out, "],\"area_change_m2\":");
    buf_put_num(out, r->area_change_m2, 3);
    buf_printf(out, ",\"repaired\":%zu}", r->repaired);
}

struct export_state {
    ctx *c;
    const struct layer *l;
    struct buf *out;
    struct feature_out fo;
    int n;
};

static int export_row(void *arg, const struct store_row *row, struct err *e)
{
    struct export_state *st = arg;
    if (st->n++)
        buf_puts(st->out, ",\n");
    return feature_write(st->c, st->l, row, &st->fo, st->out, e);
}

int ingest_export(ctx *c, store *s, const struct layer *l, struct buf *out, struct err *e)
{
    struct store_query q;
    struct export_state st;
    int rc;
    memset(&q, 0, sizeof q);
    memset(&st, 0, sizeof st);
    q.layer = l;
    q.limit = -1;
    st.c = c;
    st.l = l;
    st.out = out;
    st.fo.crs = CRS_CRS84;
    st.fo.axis = CRS_AXIS_XY;
    buf_puts(out, "{\"type\":\"FeatureCollection\",\"name\":");
    buf_put_json_str(out, l->id);
    buf_puts(out, ",\"features\":[\n");
    rc = store_query_rows(s, &q, export_row, &st, e);
    buf_puts(out, "\n]}\n");
    return rc;
}
