/* params: parsing and checking of query parameters shared by handlers. Each
 * parser names the parameter in its error. */
#ifndef ONEMAP_PARAMS_H
#define ONEMAP_PARAMS_H

#include "qarea.h"
#include "req.h"

/* A non-negative decimal integer; -1 when s is not one. */
int params_ll(const char *s, long long *v);
/* "a,b,c,d" or six numbers (heights dropped) into out[4]. */
int params_bbox(const char *name, const char *s, double out[4], struct err *e);
/* The optional asof= (an RFC 3339 instant, not in the future): the map as it
 * stood then for everything the request reads (r->asof, the worker's ctx). */
int params_asof(struct req *r, struct err *e);
/* Optional CRS parameter: 0 absent, 1 parsed into *crs, negative error. */
int params_crs(struct req *r, const char *name, int *crs, struct err *e);
/* true/false (also 1/0); absent leaves *v unchanged. */
int params_bool(struct req *r, const char *name, int *v, struct err *e);
/* A finite number. */
int params_double(const char *name, const char *s, double *v, struct err *e);
/* filter (CQL2 text), filter-lang and filter-crs: *ast receives the parsed
 * tree (NULL when no filter; the caller frees it with cql2_free). */
struct cql2_node;
int params_filter(struct req *r, struct cql2_node **ast, int *crs, int *axis, struct err *e);

/* The area of an area query: one of bbox (+bbox-crs), geometry (WKT,
 * +geometry-crs) or within=collection/id; none leaves kind QAREA_NONE. */
int params_area(struct req *r, struct qarea_spec *spec, struct err *e);

#endif
