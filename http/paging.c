/* paging: limit=/offset= parsing and the next/prev links of paged
 * resources, written once for items, overlaps and the change log. */
#include "paging.h"

#include <stdio.h>

#include "links.h"
#include "params.h"

int paging_limit_parse(struct req *r, long long *limit, struct err *e)
{
    const char *v = req_param(r, "limit");
    if (!v)
        return 0;
    if (params_ll(v, limit) || *limit < 1)
        return err_set(e, ERR_PARAM, "limit: expected an integer from 1 to %d, got '%s'",
                       PAGING_LIMIT_MAX, v);
    if (*limit > PAGING_LIMIT_MAX)
        *limit = PAGING_LIMIT_MAX;
    return 0;
}

int paging_parse(struct req *r, long long *limit, long long *offset, struct err *e)
{
    const char *v;
    int rc = paging_limit_parse(r, limit, e);
    if (rc)
        return rc;
    if ((v = req_param(r, "offset")) && (params_ll(v, offset) || *offset < 0))
        return err_set(e, ERR_PARAM, "offset: expected a non-negative integer, got '%s'", v);
    return 0;
}

/* One link to the page starting at offset. */
static void page_link(struct buf *b, int *first, const struct req *r, const char *path,
                      long long offset, const char *rel, const char *type, const char *title)
{
    struct buf p;
    char num[32];
    buf_init(&p);
    buf_puts(&p, path);
    snprintf(num, sizeof num, "%lld", offset);
    query_with(&p, r, "offset", num, NULL);
    link_put(b, first, r, p.data, rel, type, title);
    buf_clear(&p);
}

void paging_links_put(struct buf *b, int *first, const struct req *r, const char *path,
                      const char *type, long long offset, long long limit, long long returned,
                      long long matched, int with_prev)
{
    if (offset + returned < matched)
        page_link(b, first, r, path, offset + limit, "next", type, "Next page");
    if (with_prev && offset > 0)
        page_link(b, first, r, path, offset > limit ? offset - limit : 0, "prev", type,
                  "Previous page");
}
