/* ingest: FeatureCollection imports and exports. Owns the per-import
 * bookkeeping (matching by key, the report, the history rows); feature.c
 * judges single features and store.c writes them. */
#include "ingest.h"

#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crs.h"
#include "ctx_int.h"
#include "edit.h"
#include "feature.h"
#include "jsontext.h"
#include "progress.h"
#include "geojson.h"
#include "geom.h"
#include "instant.h"
#include "shapefile.h"
#include "splite.h"
#include "upload_scan.h"

void ingest_opts_default(struct ingest_opts *o)
{
    struct limits lim;
    limits_default(&lim);
    memset(o, 0, sizeof *o);
    o->crs = -1;
    o->axis = CRS_AXIS_XY;
    o->key_field = -1;
    o->max_features = lim.max_features;
    o->max_vertices = lim.max_vertices;
}

enum status { ST_INVALID = 0, ST_ADDED, ST_CHANGED, ST_UNCHANGED };

/* The parts of an import's time that its phases take (measured on loads of a
 * million parcels), so that one percentage rises through all of them. A
 * bulk load into an empty layer parses and writes at once, then builds the
 * spatial index; other imports parse, match with the stored features, then
 * write; a dry run stops after matching. */
#define SHARE_READ 0.04
#define SHARE_BULK_WRITTEN 0.74
#define SHARE_BULK_INDEXED 0.81
#define SHARE_PARSED 0.60
#define SHARE_MATCHED 0.70
#define SHARE_WRITTEN 0.95
#define SHARE_DRY_PARSED 0.85

struct keyref {
    const char *key;
    size_t index;
};

/* One uploaded feature on its way in. */
struct item {
    json_t *json; /* the Feature (owned reference; geometry dropped once read) */
    struct feature_in f;
    char *gj;            /* geometry GeoJSON as it would be stored */
    unsigned char *blob; /* the geometry as stored (SpatiaLite BLOB) */
    size_t blob_len;
    const char *key; /* borrowed from f.vals */
    enum status st;
    long long fid, version; /* of the stored feature it replaces */
    double old_area;
    char *old_feature; /* that feature, kept in the history before it changes */
    int released;      /* written and tallied; its parts freed (bulk loads) */
    struct bbox box;   /* of the geometry, for a bulk load's spatial index */
};

/* A stored feature that a replace import removes. */
struct removal {
    long long fid, version;
    double area;
    char *feature; /* its last state, for the history */
    double mbr[4];
};

struct job {
    ctx *c;
    store *s;
    const struct layer *l;
    const struct ingest_opts *o;
    struct ingest_report *r;
    json_t *feats;    /* features as a parsed array, or NULL: */
    const char *text; /* ... features as spans of the text */
    const struct span *spans;
    struct item *items;
    size_t n;
    struct keyref *order; /* valid items sorted by key */
    size_t n_order;
    int key_field;
    struct removal *removals;
    size_t n_removals, cap_removals;
    char at[INSTANT_LEN]; /* the time of the change, for its history rows */
};

static void note(struct ingest_note *list, size_t *count, size_t index, const char *key,
                 const char *reason, const struct feature_in *f)
{
    struct ingest_note *n;
    (*count)++;
    if (*count > INGEST_MAX_NOTES)
        return;
    n = &list[*count - 1];
    memset(n, 0, sizeof *n);
    n->index = index;
    snprintf(n->key, sizeof n->key, "%s", key ? key : "");
    snprintf(n->reason, sizeof n->reason, "%s", reason);
    if (f && f->have_loc) {
        n->loc[0] = f->loc[0];
        n->loc[1] = f->loc[1];
        n->have_loc = 1;
    }
}

/* A feature added with a repaired geometry: a note saying what was wrong. */
static void note_repaired(struct job *j, size_t index, const struct item *it)
{
    char why[sizeof "geometry repaired: " + sizeof it->f.repair_reason];
    snprintf(why, sizeof why, "geometry repaired: %s", it->f.repair_reason);
    note(j->r->repaired, &j->r->n_repaired, index, it->key, why, &it->f);
}

static const char *raw_key(struct job *j, size_t i)
{
    json_t *props = json_object_get(j->items[i].json, "properties");
    return json_string_value(json_object_get(props, j->l->fields[j->key_field].name));
}

static void box_add(struct ingest_report *r, const double b[4])
{
    if (!r->have_box) {
        r->changed_box = (struct bbox){b[0], b[1], b[2], b[3]};
        r->have_box = 1;
        return;
    }
    if (b[0] < r->changed_box.minx)
        r->changed_box.minx = b[0];
    if (b[1] < r->changed_box.miny)
        r->changed_box.miny = b[1];
    if (b[2] > r->changed_box.maxx)
        r->changed_box.maxx = b[2];
    if (b[3] > r->changed_box.maxy)
        r->changed_box.maxy = b[3];
}

static void box_add_geom(struct job *j, const GEOSGeometry *g)
{
    struct bbox b;
    if (geom_bounds(j->c, g, &b) == 0) {
        double v[4] = {b.minx, b.miny, b.maxx, b.maxy};
        box_add(j->r, v);
    }
}

/* The item's Feature as JSON: from the parsed array, or parsed from its
 * span. From a span, a plain geometry is read straight from the text into
 * *pre (c's GEOS) and the rest parsed with "geometry": null in its place:
 * jansson then builds no node per number. Anything unusual takes the whole
 * span through jansson, which words any error. */
static int load_item(struct job *j, size_t i, ctx *c, size_t max_points, GEOSGeometry **pre,
                     struct buf *tmp, struct err *e)
{
    json_error_t je;
    const struct span *sp;
    size_t vs, ve;
    *pre = NULL;
    if (j->feats) {
        j->items[i].json = json_incref(json_array_get(j->feats, i));
        return 0;
    }
    sp = &j->spans[i];
    if (!upload_find_geometry(j->text, sp->start, sp->end, &vs, &ve) && j->text[vs] == '{' &&
        !geojson_geom_parse_text(c, j->text + vs, ve - vs, max_points, pre)) {
        buf_reset(tmp);
        buf_append(tmp, j->text + sp->start, vs - sp->start);
        buf_puts(tmp, "null");
        buf_append(tmp, j->text + ve, sp->end - ve);
        if (!tmp->oom &&
            (j->items[i].json = json_loadb(tmp->data, tmp->len, JSON_REJECT_DUPLICATES, &je)))
            return 0;
        GEOSGeom_destroy_r(c->geos, *pre);
        *pre = NULL;
    }
    j->items[i].json =
        json_loadb(j->text + sp->start, sp->end - sp->start, JSON_REJECT_DUPLICATES, &je);
    if (!j->items[i].json)
        return err_set(e, ERR_INVALID, "%s (at byte %zu)", je.text,
                       sp->start + (size_t)je.position);
    return 0;
}

/* What parsing found wrong with an item, kept until the notes are written
 * in index order. */
struct verdict {
    char *invalid; /* why it is invalid, or NULL */
    int with_key;  /* name the raw key in the note */
    int with_loc;  /* name the place (f.loc) */
};

/* Items are parsed in chunks handed out to threads; a chunk is marked done
 * when every item in it is parsed, so that a writer can follow in order. */
#define CHUNK_ITEMS 256
#define PARSE_THREADS 2
/* Below this many features helper threads cost more than they save. */
#define PARSE_SPLIT_MIN 2000

struct pool {
    struct job *j;
    int crs, axis;
    struct verdict *v;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t next, n_chunks;
    unsigned char *done;
    int oom;
    /* with a writer following: chunks it has finished, and how far the
     * parsers may run ahead of it (memory stays bounded); stop when it gave up */
    size_t consumed, lead;
    int stop;
    unsigned char *owner; /* which thread parsed each chunk (it frees it too) */
};

struct pool_thread {
    struct pool *p;
    ctx *c;
    pthread_t t;
    int started;
    int me;       /* 1 + index: the owner mark of the chunks it parses */
    size_t swept; /* chunks below this were looked at for freeing */
};

static void verdict_set(struct verdict *v, const char *msg, int with_key, int with_loc, int *oom)
{
    if (!(v->invalid = strdup(msg)))
        *oom = 1;
    v->with_key = with_key;
    v->with_loc = with_loc;
}

/* Parses items from .. to-1 with c (one thread's GEOS and PROJ). */
static int parse_range(struct pool *p, ctx *c, size_t from, size_t to, struct buf *gj)
{
    struct job *j = p->j;
    struct limits lim;
    struct err fe;
    int oom = 0;
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(c->geos);
    limits_default(&lim);
    lim.max_vertices = j->o->max_vertices;
    for (size_t i = from; i < to && !oom; i++) {
        struct item *it = &j->items[i];
        struct verdict *v = &p->v[i];
        GEOSGeometry *pre;
        err_clear(&fe);
        if (load_item(j, i, c, lim.max_vertices, &pre, gj, &fe)) {
            verdict_set(v, fe.msg, 0, 0, &oom);
            continue;
        }
        if (feature_parse_pre(c, j->l, it->json, pre, p->crs, p->axis, &lim,
                              j->o->make_valid ? FEATURE_MAKE_VALID : 0, &it->f, &fe)) {
            verdict_set(v, fe.msg, 1, 1, &oom);
            continue;
        }
        /* the coordinates live on in GEOS; only the properties are borrowed */
        json_object_del(it->json, "geometry");
        if (it->f.vals[j->key_field].type != VAL_TEXT) {
            verdict_set(v, "properties: the key has no value", 0, 0, &oom);
            continue;
        }
        it->key = it->f.vals[j->key_field].s;
        buf_reset(gj);
        geojson_geom_write_storage(c, it->f.geom, gj);
        if (gj->oom || !(it->gj = strdup(gj->data))) {
            oom = 1;
            break;
        }
        /* what the writer needs besides, made here in parallel */
        geom_bounds(c, it->f.geom, &it->box);
        if (w) {
            size_t len = 0;
            unsigned char *wkb = GEOSWKBWriter_write_r(c->geos, w, it->f.geom, &len);
            buf_reset(gj);
            if (wkb && !splite_from_wkb(wkb, len, 4490, gj) && !gj->oom &&
                (it->blob = malloc(gj->len))) {
                memcpy(it->blob, gj->data, gj->len);
                it->blob_len = gj->len;
            }
            if (wkb)
                GEOSFree_r(c->geos, wkb);
        }
        it->st = ST_ADDED;
    }
    if (w)
        GEOSWKBWriter_destroy_r(c->geos, w);
    return oom;
}

static void item_free(ctx *c, struct item *it);

/* Frees the items of this thread's chunks that the writer has finished
 * (below consumed): memory goes back to the arena it came from, without the
 * lock traffic of freeing it from the writer's thread. */
static void sweep(struct pool_thread *pt, size_t consumed)
{
    struct job *j = pt->p->j;
    for (; pt->swept < consumed; pt->swept++) {
        size_t from = pt->swept * CHUNK_ITEMS;
        size_t to = from + CHUNK_ITEMS < j->n ? from + CHUNK_ITEMS : j->n;
        if (pt->p->owner[pt->swept] != pt->me)
            continue;
        for (size_t i = from; i < to; i++)
            if (j->items[i].released) {
                item_free(pt->c, &j->items[i]);
                j->items[i].released = 1;
            }
    }
}

static void *pool_run(void *arg)
{
    struct pool_thread *pt = arg;
    struct pool *p = pt->p;
    struct buf gj;
    buf_init(&gj);
    for (;;) {
        size_t k, consumed;
        int oom;
        pthread_mutex_lock(&p->mu);
        while (p->lead && p->next < p->n_chunks && p->next >= p->consumed + p->lead && !p->stop &&
               !p->oom)
            pthread_cond_wait(&p->cv, &p->mu);
        k = p->next < p->n_chunks && !p->oom && !p->stop ? p->next++ : p->n_chunks;
        if (k < p->n_chunks)
            p->owner[k] = (unsigned char)pt->me;
        consumed = p->consumed;
        pthread_mutex_unlock(&p->mu);
        if (pt->me)
            sweep(pt, consumed);
        else if (k < p->n_chunks && cancel_check(pt->c->cancel)) {
            /* the request's deadline or client (only the request's own
             * thread asks): every parser stops */
            pthread_mutex_lock(&p->mu);
            p->stop = 1;
            pthread_cond_broadcast(&p->cv);
            pthread_mutex_unlock(&p->mu);
            break;
        }
        if (k == p->n_chunks)
            break;
        oom = parse_range(p, pt->c, k * CHUNK_ITEMS,
                          (k + 1) * CHUNK_ITEMS < p->j->n ? (k + 1) * CHUNK_ITEMS : p->j->n, &gj);
        if (!p->lead) /* a bulk load counts what is written instead */
            progress_add(ctx_progress(p->j->c),
                         ((k + 1) * CHUNK_ITEMS < p->j->n ? (k + 1) * CHUNK_ITEMS : p->j->n) -
                             k * CHUNK_ITEMS);
        pthread_mutex_lock(&p->mu);
        p->done[k] = 1;
        if (oom)
            p->oom = 1;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    buf_clear(&gj);
    return NULL;
}

/* Waits until chunk k is parsed; 0, or -1 when memory ran out. */
static int pool_wait(struct pool *p, size_t k)
{
    int oom;
    pthread_mutex_lock(&p->mu);
    while (!p->done[k] && !p->oom)
        pthread_cond_wait(&p->cv, &p->mu);
    oom = p->oom;
    pthread_mutex_unlock(&p->mu);
    return oom ? -1 : 0;
}

static int pool_init(struct pool *p, struct job *j, int crs, int axis)
{
    memset(p, 0, sizeof *p);
    p->j = j;
    p->crs = crs;
    p->axis = axis;
    p->n_chunks = (j->n + CHUNK_ITEMS - 1) / CHUNK_ITEMS;
    p->v = calloc(j->n ? j->n : 1, sizeof *p->v);
    p->done = calloc(p->n_chunks ? p->n_chunks : 1, 1);
    p->owner = calloc(p->n_chunks ? p->n_chunks : 1, 1);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    return p->v && p->done && p->owner ? 0 : -1;
}

/* Starts up to PARSE_THREADS helpers, each with its own GEOS and PROJ
 * context (GEOS geometries belong to no context, so the job's frees them
 * later); none for a small upload or a single core. Returns how many. */
static int pool_start(struct pool *p, struct pool_thread *pt)
{
    int n = 0;
    struct err ce;
    memset(pt, 0, PARSE_THREADS * sizeof *pt);
    if (p->j->n < PARSE_SPLIT_MIN || sysconf(_SC_NPROCESSORS_ONLN) < 2)
        return 0;
    for (int k = 0; k < PARSE_THREADS; k++) {
        pt[k].p = p;
        pt[k].me = k + 1;
        if (!(pt[k].c = ctx_new(&ce)))
            break;
        if (pthread_create(&pt[k].t, NULL, pool_run, &pt[k])) {
            ctx_free(pt[k].c);
            pt[k].c = NULL;
            break;
        }
        pt[k].started = 1;
        n++;
    }
    return n;
}

static void pool_join(struct pool_thread *pt)
{
    for (int k = 0; k < PARSE_THREADS; k++)
        if (pt[k].started) {
            pthread_join(pt[k].t, NULL);
            ctx_free(pt[k].c);
            pt[k].started = 0;
        }
}

/* Writes the notes in index order, as one thread would have; frees p. */
static int pool_finish(struct pool *p)
{
    struct job *j = p->j;
    int oom = p->oom || !p->v || !p->done || !p->owner;
    for (size_t i = 0; i < j->n && !oom; i++) {
        struct item *it = &j->items[i];
        if (p->v[i].invalid) {
            note(j->r->invalid, &j->r->n_invalid, i, p->v[i].with_key ? raw_key(j, i) : NULL,
                 p->v[i].invalid, p->v[i].with_loc ? &it->f : NULL);
        } else if (it->st == ST_ADDED && !it->released && it->f.repaired) {
            note_repaired(j, i, it);
        }
    }
    for (size_t i = 0; p->v && i < j->n; i++)
        free(p->v[i].invalid);
    free(p->v);
    free(p->done);
    free(p->owner);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    return oom ? err_set(NULL, ERR_INTERNAL, "out of memory") : 0;
}

static int keyref_cmp(const void *a, const void *b)
{
    const struct keyref *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->index < y->index ? -1 : x->index > y->index);
}

/* Sorts the valid items by key and marks repeated keys invalid. */
static int order_items(struct job *j)
{
    size_t m = 0;
    if (!(j->order = calloc(j->n ? j->n : 1, sizeof *j->order)))
        return -1;
    for (size_t i = 0; i < j->n; i++)
        if (j->items[i].st == ST_ADDED)
            j->order[m++] = (struct keyref){j->items[i].key, i};
    qsort(j->order, m, sizeof *j->order, keyref_cmp);
    j->n_order = m;
    for (size_t k = 1; k < m; k++)
        if (!strcmp(j->order[k].key, j->order[k - 1].key)) {
            size_t first = k - 1;
            char why[ERR_MSG_MAX];
            while (first > 0 && !strcmp(j->order[first - 1].key, j->order[k].key))
                first--;
            snprintf(why, sizeof why, "properties.%s: '%.200s' also used by features[%zu]",
                     j->l->fields[j->key_field].name, j->order[k].key, j->order[first].index);
            note(j->r->invalid, &j->r->n_invalid, j->order[k].index, j->order[k].key, why, NULL);
            j->items[j->order[k].index].st = ST_INVALID;
        }
    return 0;
}

static struct item *find_item(struct job *j, const char *key)
{
    size_t lo = 0, hi = j->n_order;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(j->order[mid].key, key);
        if (c == 0) {
            /* the first of equal keys */
            while (mid > 0 && !strcmp(j->order[mid - 1].key, key))
                mid--;
            return &j->items[j->order[mid].index];
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int same_value(const struct value *a, const struct value *b)
{
    if (a->type != b->type)
        return a->type == VAL_INT && b->type == VAL_REAL   ? (double)a->i == b->d
               : a->type == VAL_REAL && b->type == VAL_INT ? a->d == (double)b->i
                                                           : 0;
    switch (a->type) {
    case VAL_INT:
        return a->i == b->i;
    case VAL_REAL:
        return a->d == b->d;
    case VAL_TEXT:
        return !strcmp(a->s, b->s);
    default:
        return 1;
    }
}

static int add_removal(struct job *j, const struct store_row *row, struct err *e)
{
    struct feature_out fo = {CRS_STORAGE, CRS_AXIS_XY, NULL, 1};
    struct removal *rm;
    struct buf b;
    if (j->n_removals == j->cap_removals) {
        size_t cap = j->cap_removals ? j->cap_removals * 2 : 64;
        struct removal *v = realloc(j->removals, cap * sizeof *v);
        if (!v)
            return err_set(e, ERR_INTERNAL, "out of memory");
        j->removals = v;
        j->cap_removals = cap;
    }
    rm = &j->removals[j->n_removals];
    memset(rm, 0, sizeof *rm);
    buf_init(&b);
    if (feature_write(j->c, j->l, row, &fo, &b, e) || b.oom) {
        buf_clear(&b);
        return e->code ? e->code : ERR_INTERNAL;
    }
    rm->feature = buf_steal(&b);
    rm->fid = row->fid;
    rm->version = row->version;
    rm->area = row->area_m2;
    memcpy(rm->mbr, row->mbr, sizeof rm->mbr);
    j->n_removals++;
    return 0;
}

/* Compares one stored feature with the upload. */
static int on_stored(void *arg, const struct store_row *row, struct err *e)
{
    struct job *j = arg;
    const struct value *kv = &row->vals[j->key_field];
    struct item *it = kv->type == VAL_TEXT ? find_item(j, kv->s) : NULL;
    size_t i;
    progress_add(ctx_progress(j->c), 1);
    if (!it)
        return j->o->mode == INGEST_REPLACE ? add_removal(j, row, e) : 0;
    if (it->fid) /* the stored layer has this key twice: match the first */
        return 0;
    it->fid = row->fid;
    it->version = row->version;
    it->old_area = row->area_m2;
    for (i = 0; i < j->l->n_fields; i++)
        if (!same_value(&it->f.vals[i], &row->vals[i]))
            break;
    it->st = (i == j->l->n_fields && !strcmp(it->gj, row->gj)) ? ST_UNCHANGED : ST_CHANGED;
    if (it->st == ST_CHANGED) {
        struct feature_out fo = {CRS_STORAGE, CRS_AXIS_XY, NULL, 1};
        struct buf b;
        box_add(j->r, row->mbr);
        if (j->o->dry_run)
            return 0;
        buf_init(&b);
        if (feature_write(j->c, j->l, row, &fo, &b, e) || b.oom) {
            buf_clear(&b);
            return e->code ? e->code : err_set(e, ERR_INTERNAL, "out of memory");
        }
        it->old_feature = buf_steal(&b);
    }
    return 0;
}

static int match_stored(struct job *j, struct err *e)
{
    struct store_query q;
    memset(&q, 0, sizeof q);
    q.layer = j->l;
    q.limit = -1;
    q.n_rects = 1; /* through the R-tree, so that rows carry their boxes */
    q.rects[0][0] = q.rects[0][1] = -1e300;
    q.rects[0][2] = q.rects[0][3] = 1e300;
    return store_query_rows(j->s, &q, on_stored, j, e);
}

static void tally_item(struct job *j, const struct item *it)
{
    struct ingest_report *r = j->r;
    if (it->st == ST_ADDED) {
        r->added++;
        r->area_change_m2 += it->f.area_m2;
        box_add_geom(j, it->f.geom);
    } else if (it->st == ST_CHANGED) {
        r->changed++;
        r->area_change_m2 += it->f.area_m2 - it->old_area;
        box_add_geom(j, it->f.geom);
    } else if (it->st == ST_UNCHANGED) {
        r->unchanged++;
    }
}

static void tally(struct job *j)
{
    struct ingest_report *r = j->r;
    for (size_t i = 0; i < j->n; i++)
        tally_item(j, &j->items[i]);
    for (size_t i = 0; i < j->n_removals; i++) {
        r->removed++;
        r->area_change_m2 -= j->removals[i].area;
        box_add(r, j->removals[i].mbr);
    }
}

/* The dry run's preview: every parsed feature's key, status and geometry
 * as it would be stored, so that a client draws what the server read
 * (a Shapefile's Gauss-Kruger coordinates already in CRS84). */
static int preview(struct job *j, struct err *e)
{
    static const char *const names[] = {"invalid", "added", "changed", "unchanged"};
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < j->n; i++) {
        const struct item *it = &j->items[i];
        size_t mark = b.len;
        if (!it->gj)
            continue;
        if (b.len)
            buf_putc(&b, ',');
        buf_puts(&b, "{\"type\":\"Feature\",\"properties\":{\"key\":");
        if (it->key)
            buf_put_json_str(&b, it->key);
        else
            buf_puts(&b, "null");
        buf_printf(&b, ",\"status\":\"%s\"},\"geometry\":%s}", names[it->st], it->gj);
        if (b.len > INGEST_PREVIEW_BYTES) {
            b.len = mark;
            j->r->preview_truncated = 1;
            break;
        }
        j->r->preview_count++;
    }
    if (b.oom) {
        buf_clear(&b);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    buf_putc(&b, '\0'); /* an empty preview is "" */
    b.len--;
    j->r->preview = buf_steal(&b);
    return j->r->preview ? 0 : err_set(e, ERR_INTERNAL, "out of memory");
}

void ingest_report_clear(struct ingest_report *r)
{
    free(r->preview);
    r->preview = NULL;
}

/* A batch of writes on its way to the store (store_write_batch): the
 * removals first, then the added and changed items. */
struct batch {
    struct store_write w[STORE_WRITE_BATCH];
    struct item *items[STORE_WRITE_BATCH]; /* NULL for a removal */
    size_t index[STORE_WRITE_BATCH];       /* the item's index in the upload */
    unsigned char *wkb[STORE_WRITE_BATCH]; /* made by GEOS for this batch */
    size_t n;
};

/* Writes the batch; the items written get their ids. Each history row
 * holds no copy of its feature: the version written is the live one (see
 * store_history_add); the version it replaces is kept first. */
static int flush(struct job *j, struct batch *b, struct err *e)
{
    size_t failed = b->n;
    int rc = 0;
    if (b->n)
        rc =
            store_write_batch(j->s, j->l, b->w, b->n, j->at, j->o->by, j->r->change_id, &failed, e);
    if (rc && failed < b->n && b->items[failed])
        err_prefix(e, "features[%zu]", b->index[failed]);
    else if (rc && failed == b->n && b->items[0])
        err_prefix(e, "features[%zu..%zu]", b->index[0], b->index[b->n - 1]);
    for (size_t i = 0; i < b->n; i++) {
        if (!rc && b->items[i])
            b->items[i]->fid = b->w[i].fid;
        if (b->wkb[i])
            GEOSFree_r(j->c->geos, b->wkb[i]);
    }
    progress_add(ctx_progress(j->c), b->n);
    b->n = 0;
    return rc ? rc : ctx_cancelled(j->c, e); /* a client that left: nothing stays */
}

/* Adds an added or changed item to the batch (its WKB made unless a
 * SpatiaLite BLOB of it is at hand). */
static int batch_item(struct job *j, struct batch *b, GEOSWKBWriter *writer, struct item *it,
                      size_t index, struct err *e)
{
    struct store_write *w = &b->w[b->n];
    memset(w, 0, sizeof *w);
    b->wkb[b->n] = NULL;
    w->op = it->st == ST_ADDED ? STORE_WRITE_INSERT : STORE_WRITE_UPDATE;
    w->fid = it->fid;
    w->version = it->version;
    w->vals = it->f.vals;
    w->gj = it->gj;
    w->area_m2 = it->f.area_m2;
    w->kept = it->old_feature;
    if (w->op == STORE_WRITE_INSERT && it->blob) {
        w->blob = it->blob;
        w->blob_len = it->blob_len;
    } else if (!writer || !(b->wkb[b->n] = GEOSWKBWriter_write_r(j->c->geos, writer, it->f.geom,
                                                                 &w->wkb_len))) {
        ctx_geos_err(j->c, e, ERR_INTERNAL, "WKB");
        return err_prefix(e, "features[%zu]", index);
    }
    w->wkb = b->wkb[b->n];
    b->items[b->n] = it;
    b->index[b->n] = index;
    return ++b->n == STORE_WRITE_BATCH ? flush(j, b, e) : 0;
}

static int write_all(struct job *j, struct err *e)
{
    struct progress *pg = ctx_progress(j->c);
    struct batch *b = malloc(sizeof *b);
    GEOSWKBWriter *writer = GEOSWKBWriter_create_r(j->c->geos);
    int rc;
    progress_phase(pg, PROGRESS_WRITING, PROGRESS_FEATURES,
                   j->r->added + j->r->changed + j->n_removals, SHARE_MATCHED, SHARE_WRITTEN);
    if (!b || !writer) {
        free(b);
        if (writer)
            GEOSWKBWriter_destroy_r(j->c->geos, writer);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    b->n = 0;
    if ((rc = store_begin(j->s, e)))
        goto out;
    store_set_write_time(j->s, j->at);
    for (size_t i = 0; !rc && i < j->n_removals; i++) {
        struct removal *rm = &j->removals[i];
        b->w[b->n] = (struct store_write){
            .op = STORE_WRITE_DELETE, .fid = rm->fid, .version = rm->version, .kept = rm->feature};
        b->items[b->n] = NULL;
        b->wkb[b->n] = NULL;
        if (++b->n == STORE_WRITE_BATCH)
            rc = flush(j, b, e);
    }
    if (!rc && b->n)
        rc = flush(j, b, e); /* the removals before the items, as they were found */
    for (size_t i = 0; !rc && i < j->n; i++) {
        struct item *it = &j->items[i];
        if (it->st == ST_ADDED || it->st == ST_CHANGED)
            rc = batch_item(j, b, writer, it, i, e);
    }
    if (!rc)
        rc = flush(j, b, e);
    progress_phase(pg, PROGRESS_COMMITTING, PROGRESS_NONE, 0, SHARE_WRITTEN, 1);
    if (rc || (rc = store_commit(j->s, e)))
        store_rollback(j->s);
out:
    for (size_t i = 0; i < b->n; i++) /* a batch that was not written */
        if (b->wkb[i])
            GEOSFree_r(j->c->geos, b->wkb[i]);
    GEOSWKBWriter_destroy_r(j->c->geos, writer);
    free(b);
    return rc;
}

static void item_free(ctx *c, struct item *it)
{
    feature_in_clear(c, &it->f);
    free(it->gj);
    free(it->blob);
    free(it->old_feature);
    json_decref(it->json);
    memset(it, 0, sizeof *it);
}

static void job_clear(struct job *j)
{
    for (size_t i = 0; j->items && i < j->n; i++)
        item_free(j->c, &j->items[i]);
    for (size_t i = 0; i < j->n_removals; i++)
        free(j->removals[i].feature);
    free(j->removals);
    free(j->items);
    free(j->order);
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

/* Loading into an empty layer needs no matching with stored features, so
 * the writer follows the parsing threads chunk by chunk inside the one
 * transaction instead of waiting for all of them. 0 when everything was
 * written (not yet committed); 1 when an item turned out invalid or could
 * not be written: the caller rolls back and takes the careful path, which
 * reports it; -1 when memory ran out. */
static int write_following(struct job *j, struct pool *p, struct store_box *boxes, struct err *e)
{
    struct store_new_row rows[CHUNK_ITEMS];
    long long next_fid = 0;
    int rc = store_bulk_first_fid(j->s, j->l, &next_fid, e) ? 1 : 0;
    for (size_t k = 0; k < p->n_chunks && !rc; k++) {
        size_t from = k * CHUNK_ITEMS, to = from + CHUNK_ITEMS < j->n ? from + CHUNK_ITEMS : j->n;
        if (pool_wait(p, k)) {
            rc = -1;
            break;
        }
        if (cancel_check(j->c->cancel)) {
            rc = 1; /* the caller sees why (ctx_cancelled) */
            break;
        }
        /* the chunk's rows in a few statements, their ids counted on */
        for (size_t i = from; i < to && !rc; i++) {
            struct item *it = &j->items[i];
            if (it->st != ST_ADDED || !it->blob)
                rc = 1;
            rows[i - from] = (struct store_new_row){it->f.vals, it->blob,      it->blob_len,
                                                    it->gj,     it->f.area_m2, 1};
        }
        if (!rc &&
            (store_bulk_insert(j->s, j->l, next_fid, rows, to - from, e) ||
             store_history_add_range(j->s, j->l, next_fid, next_fid + (long long)(to - from) - 1,
                                     "import", j->at, j->o->by, j->r->change_id, e)))
            rc = 1;
        for (size_t i = from; i < to && !rc; i++) {
            struct item *it = &j->items[i];
            it->fid = next_fid++;
            boxes[i] =
                (struct store_box){it->fid, it->box.minx, it->box.miny, it->box.maxx, it->box.maxy};
            /* what the report needs of it, then its memory back for the
             * parsers: a load is never held whole */
            tally_item(j, it);
            if (it->f.repaired)
                note_repaired(j, i, it);
            it->released = 1; /* its parser frees it */
        }
        if (!rc)
            progress_add(ctx_progress(j->c), to - from);
        pthread_mutex_lock(&p->mu);
        p->consumed = k + 1;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    if (rc) { /* the parsers stop where they are */
        err_clear(e);
        pthread_mutex_lock(&p->mu);
        p->stop = 1;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    return rc;
}

/* Starts a bulk load when the upload goes into an empty layer: the
 * transaction is opened here and the writer follows the parsers. */
static int bulk_begin(struct job *j, int *bulk, struct err *e)
{
    long long stored = 1;
    int rc;
    *bulk = 0;
    if (j->o->dry_run || j->key_field != j->l->key_field || j->n < PARSE_SPLIT_MIN ||
        sysconf(_SC_NPROCESSORS_ONLN) < 2)
        return 0;
    if ((rc = store_begin(j->s, e)))
        return rc;
    store_set_write_time(j->s, j->at);
    if (store_layer_count_upto(j->s, j->l, 1, &stored, e) || stored ||
        store_bulk_begin(j->s, j->l, e)) {
        err_clear(e);
        store_rollback(j->s);
    } else {
        *bulk = 1;
    }
    return 0;
}

/* Parses every item (writing them as they come when bulk); 0, 1 when the
 * bulk load must be given up (an item is invalid or could not be written:
 * rolled back, nothing kept), or an error. */
static int parse_all(struct job *j, int crs, int axis, int bulk, struct err *e)
{
    struct pool p;
    struct pool_thread pt[PARSE_THREADS];
    struct store_box *boxes = NULL;
    int rc, helpers, written = 1;
    if (pool_init(&p, j, crs, axis) || (bulk && !(boxes = malloc(j->n * sizeof *boxes)))) {
        pool_finish(&p);
        if (bulk)
            store_rollback(j->s);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    p.lead = bulk ? 8 * PARSE_THREADS : 0;
    helpers = pool_start(&p, pt);
    if (bulk && helpers) {
        written = write_following(j, &p, boxes, e);
    } else {
        struct pool_thread self = {&p, j->c, 0, 0, 0, 0};
        if (!helpers)
            p.lead = 0;  /* no writer follows (no thread could start): nothing to wait for */
        pool_run(&self); /* this thread parses too */
    }
    pool_join(pt);
    if (written == 0 && p.oom)
        written = -1;
    rc = pool_finish(&p);
    if (!bulk)
        return rc ? err_set(e, ERR_INTERNAL, "out of memory") : 0;
    if (!rc && written == 0 && !j->r->n_invalid) {
        struct progress *pg = ctx_progress(j->c);
        progress_phase(pg, PROGRESS_INDEXING, PROGRESS_NONE, 0, SHARE_BULK_WRITTEN,
                       SHARE_BULK_INDEXED);
        if (!(rc = store_bulk_end(j->s, j->l, boxes, j->n, e)))
            progress_phase(pg, PROGRESS_COMMITTING, PROGRESS_NONE, 0, SHARE_BULK_INDEXED, 1);
        if (rc || (rc = store_commit(j->s, e)))
            store_rollback(j->s);
        free(boxes);
        return rc;
    }
    free(boxes);
    store_rollback(j->s);
    if (rc || written < 0)
        return err_set(e, ERR_INTERNAL, "out of memory");
    return 1;
}

static int run_job(struct job *j, int crs, int axis, struct err *e)
{
    struct progress *pg = ctx_progress(j->c);
    long long stored = 0;
    int rc, bulk;
    if (j->o->at)
        snprintf(j->at, sizeof j->at, "%s", j->o->at);
    else
        instant_now(j->at);
    if (!(j->items = calloc(j->n ? j->n : 1, sizeof *j->items)))
        return err_set(e, ERR_INTERNAL, "out of memory");
    if ((rc = bulk_begin(j, &bulk, e)))
        return rc;
    if (bulk)
        progress_phase(pg, PROGRESS_WRITING, PROGRESS_FEATURES, j->n, SHARE_READ,
                       SHARE_BULK_WRITTEN);
    if (bulk && (rc = parse_all(j, crs, axis, 1, e)) != 1)
        return rc;
    if (bulk && (rc = ctx_cancelled(j->c, e)))
        return rc; /* rolled back: nothing of it stays */
    if (bulk) {
        /* the careful path from the start, which reports what went wrong */
        char change_id[sizeof j->r->change_id];
        memcpy(change_id, j->r->change_id, sizeof change_id);
        for (size_t i = 0; i < j->n; i++)
            item_free(j->c, &j->items[i]);
        memset(j->r, 0, sizeof *j->r);
        memcpy(j->r->change_id, change_id, sizeof change_id);
    }
    progress_phase(pg, PROGRESS_PARSING, PROGRESS_FEATURES, j->n, SHARE_READ,
                   j->o->dry_run ? SHARE_DRY_PARSED : SHARE_PARSED);
    if ((rc = parse_all(j, crs, axis, 0, e)) || (rc = ctx_cancelled(j->c, e)))
        return rc;
    if (order_items(j))
        return err_set(e, ERR_INTERNAL, "out of memory");
    if (j->r->n_invalid)
        return err_set(e, ERR_INVALID, "%zu of %zu features are invalid; first: features[%zu]: %s",
                       j->r->n_invalid, j->n, j->r->invalid[0].index, j->r->invalid[0].reason);
    if (pg && (rc = store_layer_count_upto(j->s, j->l, LLONG_MAX, &stored, e)))
        return rc;
    progress_phase(pg, PROGRESS_MATCHING, PROGRESS_FEATURES, (unsigned long long)stored,
                   j->o->dry_run ? SHARE_DRY_PARSED : SHARE_PARSED,
                   j->o->dry_run ? 1 : SHARE_MATCHED);
    if ((rc = match_stored(j, e)))
        return rc;
    tally(j);
    if (j->o->dry_run)
        return j->o->preview ? preview(j, e) : 0;
    return write_all(j, e);
}

/* Imports the features of an already parsed FeatureCollection root. */
static int ingest_root(ctx *c, store *s, const struct layer *l, json_t *root, int crs, int axis,
                       const struct ingest_opts *o, struct ingest_report *r, struct err *e)
{
    struct job j;
    const char *type = json_string_value(json_object_get(root, "type"));
    int rc;
    memset(&j, 0, sizeof j);
    j.c = c, j.s = s, j.l = l, j.o = o, j.r = r;
    j.key_field = o->key_field >= 0 ? o->key_field : l->key_field;
    j.feats = json_object_get(root, "features");
    if (!type || strcmp(type, "FeatureCollection") || !json_is_array(j.feats))
        return err_set(e, ERR_INVALID,
                       "expected a GeoJSON FeatureCollection with a features array");
    j.n = json_array_size(j.feats);
    if (o->max_features && j.n > o->max_features)
        return err_set(e, ERR_TOO_LARGE,
                       "features: %zu features, more than the limit of %zu "
                       "(max_features)",
                       j.n, o->max_features);
    rc = run_job(&j, crs, axis, e);
    job_clear(&j);
    return rc;
}

static void report_init(struct ingest_report *r, const struct ingest_opts *o)
{
    memset(r, 0, sizeof *r);
    if (o->change_id)
        snprintf(r->change_id, sizeof r->change_id, "%s", o->change_id);
    else
        edit_change_id(r->change_id);
}

int ingest_geojson(ctx *c, store *s, const struct layer *l, const char *text, size_t len,
                   const struct ingest_opts *o, struct ingest_report *r, struct err *e)
{
    json_error_t je;
    json_t *root = NULL;
    struct span *spans = NULL;
    size_t n = 0;
    int crs, axis, rc;
    report_init(r, o);
    if ((rc = shapefile_encoding_check(o->encoding, e)))
        return rc; /* meaningless for GeoJSON (UTF-8), but a wrong name is still wrong */
    progress_phase(ctx_progress(c), PROGRESS_READING, PROGRESS_BYTES, len, 0, SHARE_READ);
    /* the scan bounds the nesting itself (UPLOAD_MAX_DEPTH) */
    if (upload_scan_collection(text, len, &root, &spans, &n, ctx_progress(c)) == 0) {
        const char *type = json_string_value(json_object_get(root, "type"));
        struct job j;
        memset(&j, 0, sizeof j);
        j.c = c, j.s = s, j.l = l, j.o = o, j.r = r;
        j.key_field = o->key_field >= 0 ? o->key_field : l->key_field;
        j.text = text, j.spans = spans, j.n = n;
        if (!type || strcmp(type, "FeatureCollection"))
            rc = err_set(e, ERR_INVALID, "type: expected \"FeatureCollection\"");
        else if (o->max_features && n > o->max_features)
            rc = err_set(e, ERR_TOO_LARGE,
                         "features: %zu features, more than the limit of %zu "
                         "(max_features)",
                         n, o->max_features);
        else if (!(rc = file_crs(root, o, &crs, &axis, e)))
            rc = run_job(&j, crs, axis, e);
        job_clear(&j);
        free(spans);
        json_decref(root);
        return rc;
    }
    free(spans);
    json_decref(root);
    if ((rc = json_depth_check(text, len, UPLOAD_MAX_DEPTH, e)))
        return rc;
    if (!(root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)))
        return err_set(e, ERR_BAD_REQUEST, "line %d, column %d: %s", je.line, je.column, je.text);
    if (!(rc = file_crs(root, o, &crs, &axis, e)))
        rc = ingest_root(c, s, l, root, crs, axis, o, r, e);
    json_decref(root);
    return rc;
}

/* Reads a Shapefile — the zip zip[0..len) in memory, or the .shp at path
 * with its sidecars — and imports it; the caller's crs wins over the .prj. */
static int ingest_shapefile(ctx *c, store *s, const struct layer *l, const void *zip, size_t len,
                            const char *path, const struct ingest_opts *o, struct ingest_report *r,
                            struct err *e)
{
    struct shapefile_limits lim;
    json_t *fc = NULL;
    int crs = CRS_CRS84, crs_known = 0, axis = CRS_AXIS_XY, rc;
    report_init(r, o);
    memset(&lim, 0, sizeof lim);
    lim.max_bytes = 128u << 20; /* a parsed vertex costs far more than its 16 bytes on disk */
    lim.max_features = o->max_features;
    progress_phase(ctx_progress(c), PROGRESS_READING, PROGRESS_NONE, 0, 0, SHARE_READ);
    rc = path ? shapefile_path_read(path, o->encoding, &lim, &fc, &crs, &crs_known, e)
              : shapefile_zip_read(zip, len, o->encoding, &lim, &fc, &crs, &crs_known, e);
    if (rc)
        return rc;
    if (!crs_known)
        crs = CRS_CRS84;
    if (o->crs >= 0) {
        crs = o->crs;
        axis = o->axis;
    }
    rc = ingest_root(c, s, l, fc, crs, axis, o, r, e);
    json_decref(fc);
    return rc;
}

int ingest_shapefile_zip(ctx *c, store *s, const struct layer *l, const void *zip, size_t len,
                         const struct ingest_opts *o, struct ingest_report *r, struct err *e)
{
    return ingest_shapefile(c, s, l, zip, len, NULL, o, r, e);
}

int ingest_shapefile_path(ctx *c, store *s, const struct layer *l, const char *path,
                          const struct ingest_opts *o, struct ingest_report *r, struct err *e)
{
    return ingest_shapefile(c, s, l, NULL, 0, path, o, r, e);
}
