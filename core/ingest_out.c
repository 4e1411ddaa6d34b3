/* ingest_out: what an import and an export give back — the import report
 * as the API answers it, and a layer written out as one GeoJSON
 * FeatureCollection. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "feature.h"
#include "ingest.h"
#include "progress.h"

static void put_notes(struct buf *out, const char *name, const struct ingest_note *v, size_t n)
{
    if (n > INGEST_MAX_NOTES)
        n = INGEST_MAX_NOTES;
    buf_printf(out, ",\"%s\":[", name);
    for (size_t i = 0; i < n; i++) {
        buf_printf(out, "%s{\"index\":%zu,\"key\":", i ? "," : "", v[i].index);
        buf_put_json_str(out, v[i].key);
        buf_puts(out, ",\"reason\":");
        buf_put_json_str(out, v[i].reason);
        if (v[i].have_loc) {
            buf_puts(out, ",\"location\":[");
            buf_put_num(out, v[i].loc[0], 9);
            buf_putc(out, ',');
            buf_put_num(out, v[i].loc[1], 9);
            buf_putc(out, ']');
        }
        buf_putc(out, '}');
    }
    buf_putc(out, ']');
}

void ingest_report_json(const struct ingest_report *r, int dry_run, struct buf *out)
{
    buf_printf(out, "{\"dry_run\":%s,\"added\":%zu,\"changed\":%zu,\"unchanged\":%zu,"
               "\"removed\":%zu,\"invalid_count\":%zu", dry_run ? "true" : "false", r->added,
               r->changed, r->unchanged, r->removed, r->n_invalid);
    put_notes(out, "invalid", r->invalid, r->n_invalid);
    put_notes(out, "repaired", r->repaired, r->n_repaired);
    buf_puts(out, ",\"area_change_m2\":");
    buf_put_num(out, r->area_change_m2, 3);
    buf_puts(out, ",\"area_change_mu\":");
    buf_put_num(out, r->area_change_m2 / (10000.0 / 15.0), 4);
    buf_puts(out, ",\"change_id\":");
    if (dry_run)
        buf_puts(out, "null");
    else
        buf_put_json_str(out, r->change_id);
    if (r->preview) {
        buf_printf(out, ",\"preview\":{\"type\":\"FeatureCollection\",\"truncated\":%s,\"features\":[",
                   r->preview_truncated ? "true" : "false");
        buf_puts(out, r->preview);
        buf_puts(out, "]}");
    }
    buf_putc(out, '}');
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
    progress_add(ctx_progress(st->c), 1);
    return feature_write(st->c, st->l, row, &st->fo, st->out, e);
}

int ingest_export(ctx *c, store *s, const struct layer *l, struct buf *out, struct err *e)
{
    struct store_query q;
    struct export_state st;
    long long count = 0;
    int rc;
    if (ctx_progress(c) && (rc = store_layer_count_upto(s, l, LLONG_MAX, &count, e)))
        return rc;
    progress_phase(ctx_progress(c), PROGRESS_READING, PROGRESS_FEATURES,
                   (unsigned long long)count, 0, INGEST_EXPORT_SHARE);
    memset(&q, 0, sizeof q);
    memset(&st, 0, sizeof st);
    q.layer = l;
    q.limit = -1;
    q.asof = ctx_asof(c);
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
