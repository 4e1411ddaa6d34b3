/* period: two snapshots of each layer, at the period's start and end (asof
 * queries over the past versions), compared feature by feature. The
 * snapshots come sorted by id, so one merge pass pairs them. */
#include "period.h"

#include <stdlib.h>
#include <string.h>

#include "area.h"
#include "ctx_int.h"
#include "feature.h"
#include "qarea_int.h"

/* The office's own layers and fields that the year-end figures read; a
 * database without them simply has no such figures. */
#define SITES "demolition_sites"
#define FARMLAND "farmland"
#define COMMUNITIES "communities"

/* Statuses of a site from which its land counts as acquired, and from which
 * its houses count as demolished. */
static const char *const ACQUIRED[] = {"signed", "demolished", "reused", NULL};
static const char *const DEMOLISHED[] = {"demolished", "reused", NULL};

/* The fields a snapshot keeps of each feature, by name (absent ones are -1). */
enum { K_KEY, K_STATUS, K_FLOOR, K_HOUSES, K_GRAVES, K_CROP, K_RED, K_LABEL, N_KEEP };
static const char *const KEEP_NAMES[N_KEEP] = {NULL,     "status", "floor_area_m2", "households",
                                               "graves", "crop",   "red_property",  NULL};

struct kept {
    enum value_type type;
    long long i;
    double d;
    char *s;
};

struct srow {
    long long fid, version;
    double area_m2;
    struct kept *k; /* N_KEEP values, for the layers with figures; else NULL */
};

struct snap {
    ctx *c;
    const struct layer *l;
    const qarea *a;
    int fields[N_KEEP];
    int keep; /* keep field values */
    struct srow *v;
    size_t n, cap;
};

static void snap_clear(struct snap *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (!s->v[i].k)
            continue;
        for (int k = 0; k < N_KEEP; k++)
            free(s->v[i].k[k].s);
        free(s->v[i].k);
    }
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

/* Whether the feature lies in the area: meets its inside, not only its edge. */
static int inside(struct snap *s, const struct store_row *row, int *in, struct err *e)
{
    GEOSGeometry *g;
    if (!s->a || qarea_mbr_inside(s->a, row->mbr)) {
        *in = 1;
        return 0;
    }
    if (!(g = GEOSGeomFromWKB_buf_r(s->c->geos, row->wkb, row->wkb_len)))
        return ctx_geos_err(s->c, e, ERR_INTERNAL, "stored geometry");
    *in = GEOSPreparedIntersects_r(s->c->geos, s->a->prep, g) == 1 &&
          GEOSPreparedTouches_r(s->c->geos, s->a->prep, g) != 1;
    GEOSGeom_destroy_r(s->c->geos, g);
    return 0;
}

static int on_row(void *arg, const struct store_row *row, struct err *e)
{
    struct snap *s = arg;
    struct srow *r;
    int in = 1;
    if (ctx_cancelled(s->c, e) || inside(s, row, &in, e))
        return e->code;
    if (!in)
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 256;
        struct srow *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return err_set(e, ERR_INTERNAL, "out of memory");
        s->v = v, s->cap = cap;
    }
    r = &s->v[s->n];
    r->fid = row->fid;
    r->version = row->version;
    r->area_m2 = row->area_m2;
    r->k = NULL;
    if (s->keep) {
        if (!(r->k = calloc(N_KEEP, sizeof *r->k)))
            return err_set(e, ERR_INTERNAL, "out of memory");
        for (int k = 0; k < N_KEEP; k++) {
            const struct value *v;
            if (s->fields[k] < 0)
                continue;
            v = &row->vals[s->fields[k]];
            r->k[k] = (struct kept){v->type, v->i, v->d, NULL};
            if (v->type == VAL_TEXT && !(r->k[k].s = strdup(v->s))) {
                s->n++; /* freed with the rest */
                return err_set(e, ERR_INTERNAL, "out of memory");
            }
        }
    }
    s->n++;
    return 0;
}

/* The layer as it stood at asof (NULL: now), inside the area. */
static int snapshot(ctx *c, store *st, const struct layer *l, const char *asof, const qarea *a,
                    struct snap *s, struct err *e)
{
    struct store_query q;
    const char *label = layer_field_index(l, "project") >= 0 ? "project" : "name";
    memset(s, 0, sizeof *s);
    s->c = c, s->l = l, s->a = a;
    s->keep = !strcmp(l->id, SITES) || !strcmp(l->id, FARMLAND) || !strcmp(l->id, COMMUNITIES);
    for (int k = 0; k < N_KEEP; k++)
        s->fields[k] = k == K_KEY     ? l->key_field
                       : k == K_LABEL ? layer_field_index(l, label)
                                      : layer_field_index(l, KEEP_NAMES[k]);
    memset(&q, 0, sizeof q);
    q.layer = l;
    q.limit = -1; /* sorted by id: the two snapshots pair in one pass */
    q.skip_gj = 1;
    q.asof = asof;
    if (a) {
        q.n_rects = qarea_rects(a, q.rects);
        q.want_wkb = 1;
    }
    return store_query_rows(st, &q, on_row, s, e);
}

static const char *text(const struct srow *r, int k)
{
    return r && r->k && r->k[k].type == VAL_TEXT ? r->k[k].s : NULL;
}

static double number(const struct srow *r, int k)
{
    if (!r || !r->k)
        return 0;
    return r->k[k].type == VAL_INT ? (double)r->k[k].i : r->k[k].type == VAL_REAL ? r->k[k].d : 0;
}

static int in_set(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (!strcmp(s, *set))
            return 1;
    return 0;
}

/* One pair of a merge: the feature at the start (NULL: not there yet) and
 * at the end (NULL: gone by then). */
struct pair {
    const struct srow *a, *b;
};

/* The figures over the period, gathered while pairing. */
struct figures {
    double acquired_m2, floor_m2, houses, graves;
    long long n_acquired, n_demolished, n_joined;
    struct buf acquired, demolished, planted, joined; /* the features behind each */
    struct crop {
        char *name;
        long long count;
        double m2;
    } * crops;
    size_t n_crops;
};

static void figures_clear(struct figures *f)
{
    buf_clear(&f->acquired);
    buf_clear(&f->demolished);
    buf_clear(&f->planted);
    buf_clear(&f->joined);
    for (size_t i = 0; i < f->n_crops; i++)
        free(f->crops[i].name);
    free(f->crops);
}

/* {"collection":…,"id":…,"code":…,"name":…,"area_mu":… — the common start of
 * a listed feature (left open). */
static void item_open(struct buf *b, const struct layer *l, const struct srow *r)
{
    buf_puts(b, b->len ? ",{\"collection\":" : "{\"collection\":");
    buf_put_json_str(b, l->id);
    buf_printf(b, ",\"id\":%lld,\"code\":", r->fid);
    if (text(r, K_KEY))
        buf_put_json_str(b, text(r, K_KEY));
    else
        buf_puts(b, "null");
    buf_puts(b, ",\"name\":");
    if (text(r, K_LABEL))
        buf_put_json_str(b, text(r, K_LABEL));
    else
        buf_puts(b, "null");
    buf_puts(b, ",\"area_mu\":");
    buf_put_num(b, area_mu(r->area_m2), 4);
}

static void put_status(struct buf *b, const char *name, const struct srow *r)
{
    buf_printf(b, ",\"%s\":", name);
    if (text(r, K_STATUS))
        buf_put_json_str(b, text(r, K_STATUS));
    else
        buf_puts(b, "null");
}

static int crop_add(struct figures *f, const char *name, double m2)
{
    struct crop *c;
    name = name ? name : "";
    for (size_t i = 0; i < f->n_crops; i++)
        if (!strcmp(f->crops[i].name, name)) {
            f->crops[i].count++;
            f->crops[i].m2 += m2;
            return 0;
        }
    if (!(c = realloc(f->crops, (f->n_crops + 1) * sizeof *c)))
        return -1;
    f->crops = c;
    c = &f->crops[f->n_crops];
    if (!(c->name = strdup(name)))
        return -1;
    c->count = 1;
    c->m2 = m2;
    f->n_crops++;
    return 0;
}

static int figure_pair(struct figures *f, const struct layer *l, const struct pair *p)
{
    const struct srow *a = p->a, *b = p->b;
    if (!b)
        return 0;
    if (!strcmp(l->id, SITES)) {
        const char *was = text(a, K_STATUS), *now = text(b, K_STATUS);
        if (in_set(now, ACQUIRED) && !in_set(was, ACQUIRED)) {
            f->n_acquired++;
            f->acquired_m2 += b->area_m2;
            item_open(&f->acquired, l, b);
            put_status(&f->acquired, "from", a);
            put_status(&f->acquired, "to", b);
            buf_putc(&f->acquired, '}');
        }
        if (in_set(now, DEMOLISHED) && !in_set(was, DEMOLISHED)) {
            f->n_demolished++;
            f->floor_m2 += number(b, K_FLOOR);
            f->houses += number(b, K_HOUSES);
            f->graves += number(b, K_GRAVES);
            item_open(&f->demolished, l, b);
            put_status(&f->demolished, "from", a);
            put_status(&f->demolished, "to", b);
            buf_puts(&f->demolished, ",\"floor_area_m2\":");
            buf_put_num(&f->demolished, number(b, K_FLOOR), 2);
            buf_printf(&f->demolished, ",\"main_houses\":%.0f,\"graves\":%.0f}",
                       number(b, K_HOUSES), number(b, K_GRAVES));
        }
    } else if (!strcmp(l->id, FARMLAND) && !a) {
        if (crop_add(f, text(b, K_CROP), b->area_m2))
            return -1;
        item_open(&f->planted, l, b);
        buf_puts(&f->planted, ",\"crop\":");
        if (text(b, K_CROP))
            buf_put_json_str(&f->planted, text(b, K_CROP));
        else
            buf_puts(&f->planted, "null");
        buf_putc(&f->planted, '}');
    } else if (!strcmp(l->id, COMMUNITIES)) {
        int was = a && a->k && a->k[K_RED].type == VAL_INT && a->k[K_RED].i;
        int now = b->k && b->k[K_RED].type == VAL_INT && b->k[K_RED].i;
        if (now && !was) {
            f->n_joined++;
            item_open(&f->joined, l, b);
            buf_putc(&f->joined, '}');
        }
    }
    return 0;
}

/* One layer's "id":{...} member, and its part of the figures. */
static int layer_period(ctx *c, store *st, const struct period_req *q, const struct layer *l,
                        struct figures *f, struct buf *out, struct err *e)
{
    struct snap a, b;
    long long added = 0, removed = 0, changed = 0;
    double area_a = 0, area_b = 0;
    size_t i = 0, j = 0;
    int rc;
    if ((rc = snapshot(c, st, l, q->from, q->area, &a, e)))
        goto out_a;
    if ((rc = snapshot(c, st, l, q->to, q->area, &b, e)))
        goto out;
    while (i < a.n || j < b.n) {
        struct pair p = {NULL, NULL};
        if (j == b.n || (i < a.n && a.v[i].fid < b.v[j].fid)) {
            p.a = &a.v[i++];
            removed++;
        } else if (i == a.n || b.v[j].fid < a.v[i].fid) {
            p.b = &b.v[j++];
            added++;
        } else {
            p.a = &a.v[i++];
            p.b = &b.v[j++];
            changed += p.a->version != p.b->version;
        }
        if (p.a)
            area_a += p.a->area_m2;
        if (p.b)
            area_b += p.b->area_m2;
        if (figure_pair(f, l, &p)) {
            rc = err_set(e, ERR_INTERNAL, "out of memory");
            goto out;
        }
    }
    buf_put_json_str(out, l->id);
    buf_printf(out,
               ":{\"count_from\":%zu,\"count_to\":%zu,\"added\":%lld,\"removed\":%lld,"
               "\"changed\":%lld,\"area_m2_from\":",
               a.n, b.n, added, removed, changed);
    buf_put_num(out, area_a, 3);
    buf_puts(out, ",\"area_m2_to\":");
    buf_put_num(out, area_b, 3);
    buf_puts(out, ",\"area_change_m2\":");
    buf_put_num(out, area_b - area_a, 3);
    buf_puts(out, ",\"area_change_mu\":");
    buf_put_num(out, area_mu(area_b - area_a), 4);
    buf_putc(out, '}');
out:
    snap_clear(&b);
out_a:
    snap_clear(&a);
    return rc;
}

static void put_list(struct buf *out, const char *name, const struct buf *items)
{
    buf_printf(out, ",\"%s\":[", name);
    buf_append(out, items->data ? items->data : "", items->len);
    buf_putc(out, ']');
}

static void figures_json(const struct figures *f, struct buf *out)
{
    buf_printf(out, "\"figures\":{\"acquired\":{\"count\":%lld,\"area_m2\":", f->n_acquired);
    buf_put_num(out, f->acquired_m2, 3);
    buf_puts(out, ",\"area_mu\":");
    buf_put_num(out, area_mu(f->acquired_m2), 4);
    put_list(out, "features", &f->acquired);
    buf_printf(out, "},\"demolished\":{\"count\":%lld,\"floor_area_m2\":", f->n_demolished);
    buf_put_num(out, f->floor_m2, 2);
    buf_printf(out, ",\"main_houses\":%.0f,\"graves\":%.0f", f->houses, f->graves);
    put_list(out, "features", &f->demolished);
    buf_puts(out, "},\"planted\":{\"crops\":[");
    for (size_t i = 0; i < f->n_crops; i++) {
        buf_puts(out, i ? ",{\"crop\":" : "{\"crop\":");
        buf_put_json_str(out, f->crops[i].name);
        buf_printf(out, ",\"count\":%lld,\"area_m2\":", f->crops[i].count);
        buf_put_num(out, f->crops[i].m2, 3);
        buf_puts(out, ",\"area_mu\":");
        buf_put_num(out, area_mu(f->crops[i].m2), 4);
        buf_putc(out, '}');
    }
    buf_putc(out, ']');
    put_list(out, "features", &f->planted);
    buf_printf(out, "},\"red_property_joined\":{\"count\":%lld", f->n_joined);
    put_list(out, "features", &f->joined);
    buf_puts(out, "}}");
}

static int by_area(const void *pa, const void *pb)
{
    const struct crop *a = pa, *b = pb;
    return a->m2 < b->m2 ? 1 : a->m2 > b->m2 ? -1 : strcmp(a->name, b->name);
}

int period_summary(ctx *c, store *s, const struct period_req *q, struct buf *out, struct err *e)
{
    struct figures f;
    int rc = 0;
    memset(&f, 0, sizeof f);
    buf_init(&f.acquired);
    buf_init(&f.demolished);
    buf_init(&f.planted);
    buf_init(&f.joined);
    buf_puts(out, "\"collections\":{");
    for (size_t i = 0; i < q->layers->n && !rc; i++) {
        if (i)
            buf_putc(out, ',');
        rc = layer_period(c, s, q, &q->layers->v[i], &f, out, e);
    }
    buf_puts(out, "},");
    if (!rc) {
        if (f.n_crops > 1)
            qsort(f.crops, f.n_crops, sizeof *f.crops, by_area);
        figures_json(&f, out);
        if (out->oom || f.acquired.oom || f.demolished.oom || f.planted.oom || f.joined.oom)
            rc = err_set(e, ERR_INTERNAL, "out of memory");
    }
    figures_clear(&f);
    return rc;
}
