/* copy: rows out of one store and into the other through store.h only. */
#include "copy.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "progress.h"
#include "splite.h"

/* The parts of a copy's time: the features (with their indexes), the
 * history, the commit and the counting. */
#define SHARE_FEATURES 0.60
#define SHARE_HISTORY 0.90
#define SHARE_COMMITTED 0.95

/* A run of features with consecutive ids, loaded with one bulk insert. */
#define BATCH 1000

struct batch {
    store *dst;
    const struct layer *l;
    struct store_new_row rows[BATCH];
    struct value *vals; /* BATCH × n_fields */
    struct buf data;    /* the rows' texts and BLOBs, one after the other */
    size_t *offs;       /* per row: blob, gj, then each text value */
    size_t n;
    long long first;
    struct store_box *boxes;
    size_t n_boxes, cap_boxes;
    long long copied;
    struct progress *progress;
};

static int flush(struct batch *b, struct err *e)
{
    const struct layer *l = b->l;
    size_t per = 2 + l->n_fields, k = 0;
    int rc;
    if (!b->n)
        return 0;
    if (b->data.oom)
        return err_set(e, ERR_INTERNAL, "out of memory");
    /* the buffer may have moved while it grew: pointers are set now */
    for (size_t i = 0; i < b->n; i++, k += per) {
        struct store_new_row *row = &b->rows[i];
        struct value *v = &b->vals[i * l->n_fields];
        row->blob = (const unsigned char *)b->data.data + b->offs[k];
        row->gj = b->data.data + b->offs[k + 1];
        for (size_t f = 0; f < l->n_fields; f++)
            if (v[f].type == VAL_TEXT)
                v[f].s = b->data.data + b->offs[k + 2 + f];
        row->vals = v;
    }
    rc = store_bulk_insert(b->dst, l, b->first, b->rows, b->n, e);
    b->copied += (long long)b->n;
    b->n = 0;
    buf_reset(&b->data);
    return rc;
}

static size_t keep(struct buf *data, const void *p, size_t len)
{
    size_t off = data->len;
    buf_append(data, p, len);
    buf_putc(data, '\0');
    return off;
}

static int on_feature(void *arg, const struct store_row *row, struct err *e)
{
    struct batch *b = arg;
    const struct layer *l = b->l;
    size_t per = 2 + l->n_fields, k;
    struct buf blob;
    struct store_new_row *nr;
    int rc;
    if (b->n && (b->n == BATCH || row->fid != b->first + (long long)b->n) && (rc = flush(b, e)))
        return rc;
    if (!b->n)
        b->first = row->fid;
    buf_init(&blob);
    if (!row->wkb || splite_from_wkb(row->wkb, row->wkb_len, 4490, &blob)) {
        buf_clear(&blob);
        return err_set(e, ERR_INVALID, "%s/%lld: geometry cannot be copied", l->id, row->fid);
    }
    k = b->n * per;
    nr = &b->rows[b->n];
    memset(nr, 0, sizeof *nr);
    nr->blob_len = blob.len;
    nr->area_m2 = row->area_m2;
    nr->version = row->version;
    b->offs[k] = keep(&b->data, blob.data, blob.len);
    buf_clear(&blob);
    b->offs[k + 1] = keep(&b->data, row->gj ? row->gj : "", row->gj ? strlen(row->gj) : 0);
    progress_add(b->progress, 1);
    for (size_t f = 0; f < l->n_fields; f++) {
        struct value *v = &b->vals[b->n * l->n_fields + f];
        *v = row->vals[f];
        if (v->type == VAL_TEXT)
            b->offs[k + 2 + f] = keep(&b->data, v->s, strlen(v->s));
    }
    if (b->n_boxes == b->cap_boxes) {
        size_t cap = b->cap_boxes ? 2 * b->cap_boxes : 4096;
        struct store_box *nb = realloc(b->boxes, cap * sizeof *nb);
        if (!nb)
            return err_set(e, ERR_INTERNAL, "out of memory");
        b->boxes = nb;
        b->cap_boxes = cap;
    }
    b->boxes[b->n_boxes++] =
        (struct store_box){row->fid, row->mbr[0], row->mbr[1], row->mbr[2], row->mbr[3]};
    b->n++;
    return 0;
}

/* The boxes a bulk load packs its spatial index from: those of the rows
 * read (a read without rectangles gives none: the geometry's own). */
static int layer_copy(store *src, store *dst, const struct layer *l, struct progress *p,
                      long long *copied, struct err *e)
{
    struct batch *b = calloc(1, sizeof *b);
    struct store_query q;
    int rc;
    if (!b)
        return err_set(e, ERR_INTERNAL, "out of memory");
    b->dst = dst;
    b->l = l;
    b->progress = p;
    buf_init(&b->data);
    b->vals = calloc(BATCH * (l->n_fields ? l->n_fields : 1), sizeof *b->vals);
    b->offs = calloc(BATCH * (2 + l->n_fields), sizeof *b->offs);
    memset(&q, 0, sizeof q);
    q.layer = l;
    q.limit = -1;
    q.want_wkb = 1;
    /* every row's box, so that the index can be packed: from a one-world
     * rectangle query */
    q.n_rects = 1;
    q.rects[0][0] = -1e9, q.rects[0][1] = -1e9, q.rects[0][2] = 1e9, q.rects[0][3] = 1e9;
    q.n_sort = 1;
    q.sort[0].field = STORE_SORT_ID;
    if (!b->vals || !b->offs)
        rc = err_set(e, ERR_INTERNAL, "out of memory");
    else if (!(rc = store_bulk_begin(dst, l, e)) &&
             !(rc = store_query_rows(src, &q, on_feature, b, e)) && !(rc = flush(b, e)))
        rc = store_bulk_end(dst, l, b->boxes, b->n_boxes, e);
    *copied = b->copied;
    free(b->vals);
    free(b->offs);
    free(b->boxes);
    buf_clear(&b->data);
    free(b);
    return rc;
}

struct put_run {
    store *dst;
    long long n;
    struct progress *progress;
};

static int on_version(void *arg, const struct store_version *v, struct err *e)
{
    struct put_run *r = arg;
    r->n++;
    progress_add(r->progress, 1);
    return store_history_put(r->dst, v, e);
}

static int on_token(void *arg, const struct store_token_row *t, struct err *e)
{
    struct put_run *r = arg;
    r->n++;
    return store_token_put(r->dst, t, e);
}

static int count_version(void *arg, const struct store_version *v, struct err *e)
{
    (void)v;
    (void)e;
    ++*(long long *)arg;
    return 0;
}

static int count_token(void *arg, const struct store_token_row *t, struct err *e)
{
    (void)t;
    (void)e;
    ++*(long long *)arg;
    return 0;
}

/* Both sides counted again: features per layer, history rows, tokens. */
static int check(store *src, store *dst, const struct layers *ls, const struct copy_report *r,
                 struct err *e)
{
    long long a, b, nh = 0, nt = 0;
    int rc;
    for (size_t i = 0; i < ls->n; i++) {
        if ((rc = store_layer_totals(src, &ls->v[i], &a, NULL, e)) ||
            (rc = store_layer_totals(dst, &ls->v[i], &b, NULL, e)))
            return rc;
        if (a != b)
            return err_set(e, ERR_INTERNAL, "copy: %s has %lld features, the copy %lld",
                           ls->v[i].id, a, b);
    }
    if ((rc = store_change_rows(dst, 0, LLONG_MAX, 0, count_version, &nh, e)) ||
        (rc = store_token_rows(dst, count_token, &nt, e)))
        return rc;
    if (nh != r->history || nt != r->tokens)
        return err_set(e, ERR_INTERNAL,
                       "copy: %lld history rows and %lld tokens copied, the "
                       "copy has %lld and %lld",
                       r->history, r->tokens, nh, nt);
    return 0;
}

int copy_database(store *src, store *dst, struct progress *p, struct copy_report *r,
                  struct err *e)
{
    struct layers *ls = NULL;
    struct put_run hist = {dst, 0, p}, toks = {dst, 0, NULL};
    char *schema = NULL;
    long long total = 0;
    int rc;
    memset(r, 0, sizeof *r);
    if ((rc = store_schema_json(src, &schema, e)) || (rc = store_layers_get(src, &ls, e)))
        goto out;
    for (size_t i = 0; p && i < ls->n; i++) {
        long long n = 0;
        if ((rc = store_layer_totals(src, &ls->v[i], &n, NULL, e)))
            goto out;
        total += n;
    }
    if ((rc = store_init(dst, schema, e))) {
        if (rc == ERR_CONFLICT)
            err_set(e, rc, "the destination already holds a onemap database: copy writes into "
                           "a new, empty one");
        goto out;
    }
    store_read_begin(src, 0);
    if ((rc = store_begin(dst, e)))
        goto out;
    progress_phase(p, PROGRESS_COPYING, PROGRESS_FEATURES, (unsigned long long)total, 0,
                   SHARE_FEATURES);
    for (size_t i = 0; i < ls->n && !rc; i++) {
        long long n = 0;
        rc = layer_copy(src, dst, &ls->v[i], p, &n, e);
        r->features += n;
    }
    progress_phase(p, PROGRESS_HISTORY, PROGRESS_ROWS, 0, SHARE_FEATURES, SHARE_HISTORY);
    if (!rc && !(rc = store_change_rows(src, 0, LLONG_MAX, 1, on_version, &hist, e)) &&
        !(rc = store_token_rows(src, on_token, &toks, e))) {
        r->history = hist.n;
        r->tokens = toks.n;
        /* the past versions and each row's valid-from time, from the
         * history just written: the map through time comes along */
        for (size_t i = 0; i < ls->n && !rc; i++)
            rc = store_past_rebuild(dst, &ls->v[i], e);
        progress_phase(p, PROGRESS_COMMITTING, PROGRESS_NONE, 0, SHARE_HISTORY,
                       SHARE_COMMITTED);
        if (!rc)
            rc = store_commit(dst, e);
    }
    if (rc) {
        store_rollback(dst);
    } else {
        progress_phase(p, PROGRESS_CHECKING, PROGRESS_NONE, 0, SHARE_COMMITTED, 1);
        rc = check(src, dst, ls, r, e);
    }
out:
    store_read_end(src);
    layers_free(ls);
    free(schema);
    return rc;
}
