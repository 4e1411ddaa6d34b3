/* paging: the limit= and offset= parameters of every paged resource (items,
 * overlaps, the change log) and the next/prev links of a page. Owns nothing;
 * errors name the parameter, as every parameter parser's do. */
#ifndef ONEMAP_PAGING_H
#define ONEMAP_PAGING_H

#include "buf.h"
#include "err.h"
#include "req.h"

/* The largest page: a larger limit= is clamped to it. */
#define PAGING_LIMIT_MAX 10000

/* limit=: an integer from 1 (ERR_PARAM otherwise), clamped to
 * PAGING_LIMIT_MAX; *limit is left as it is (the caller's default) when the
 * parameter is absent. */
int paging_limit_parse(struct req *r, long long *limit, struct err *e);
/* limit= as paging_limit_parse, then offset=: a non-negative integer
 * (ERR_PARAM otherwise), *offset left as it is when absent. */
int paging_parse(struct req *r, long long *limit, long long *offset, struct err *e);

/* Appends the "next" link of a page to a links array (see link_put) when
 * there are features after it, and with_prev the "prev" link when it does not
 * start at 0. path is the resource's path (no query); the links keep the
 * request's other parameters and set offset=. */
void paging_links_put(struct buf *b, int *first, const struct req *r, const char *path,
                      const char *type, long long offset, long long limit, long long returned,
                      long long matched, int with_prev);

#endif
