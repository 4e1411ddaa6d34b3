/* history: versions and changes as the API writes them. */
#include "history.h"

static void put_text(struct buf *b, const char *name, const char *v)
{
    buf_printf(b, ",\"%s\":", name);
    if (v)
        buf_put_json_str(b, v);
    else
        buf_puts(b, "null");
}

struct versions_run {
    history_live_fn live;
    void *arg;
    struct buf *out;
    long long n;
};

static int on_version(void *arg, const struct store_version *v, struct err *e)
{
    struct versions_run *run = arg;
    struct buf *out = run->out;
    int rc;
    buf_printf(out, "%s{\"version\":%lld", run->n++ ? "," : "", v->version);
    put_text(out, "op", v->op);
    put_text(out, "at", v->at);
    put_text(out, "by", v->by);
    put_text(out, "change_id", v->change_id);
    buf_printf(out, ",\"seq\":%lld,\"feature\":", v->seq);
    if (v->feature)
        buf_puts(out, v->feature);
    else if ((rc = run->live(run->arg, v->fid, v->version, out, e)))
        return rc;
    buf_putc(out, '}');
    return 0;
}

int history_versions_json(store *s, const struct layer *l, long long fid, history_live_fn live,
                          void *arg, struct buf *out, long long *n, struct err *e)
{
    struct versions_run run = {live, arg, out, 0};
    int rc = store_history_rows(s, l, fid, on_version, &run, e);
    *n = run.n;
    return rc;
}

struct changes_run {
    struct buf *out;
    long long n, next;
};

static int on_change(void *arg, const struct store_version *v, struct err *e)
{
    struct changes_run *run = arg;
    struct buf *out = run->out;
    (void)e;
    run->next = v->seq;
    buf_printf(out, "%s{\"seq\":%lld", run->n++ ? "," : "", v->seq);
    put_text(out, "collection", v->collection);
    buf_printf(out, ",\"id\":%lld", v->fid);
    put_text(out, "op", v->op);
    buf_printf(out, ",\"version\":%lld", v->version);
    put_text(out, "at", v->at);
    put_text(out, "by", v->by);
    put_text(out, "change_id", v->change_id);
    buf_putc(out, '}');
    return 0;
}

int history_changes_json(store *s, long long since, long long limit, struct buf *out,
                         struct err *e)
{
    struct changes_run run = {out, 0, since};
    int rc;
    buf_puts(out, "{\"changes\":[");
    if ((rc = store_change_rows(s, since, limit, 0, on_change, &run, e)))
        return rc;
    buf_printf(out, "],\"next\":%lld}", run.next);
    return 0;
}
