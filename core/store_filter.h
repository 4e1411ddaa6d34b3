/* store_filter: turns a CQL2 tree (cql2.h) into the parameterised SQL
 * boolean expression of a struct store_filter (store.h) for one layer,
 * checking every property name and literal type against the layer schema. */
#ifndef ONEMAP_STORE_FILTER_H
#define ONEMAP_STORE_FILTER_H

#include "cql2.h"
#include "ctx.h"
#include "err.h"
#include "layer.h"
#include "store.h"

/* Bound values per filter (IN lists, literals, geometries): a bound on
 * query complexity well inside SQLite's own parameter limit. */
#define STORE_FILTER_MAX_BINDS 10000

/* Compiles ast for layer l, in the SQL of dialect (store_dialect), into out (caller clears with
 * store_filter_clear, also after a failure). Queryables are the layer's fields, id, area_m2,
 * area_mu and the geometry (named geometry or geom). Geometry literals are
 * read in filter_crs with axis order filter_axis (crs.h) and bound as WKB in
 * the storage CRS; every value is bound, never written into the SQL.
 * Errors: ERR_PARAM naming the property, type or literal position, e.g.
 * "filter: 'foo' is not a queryable of parcels". Uses c's GEOS and PROJ. */
int store_filter_compile(ctx *c, const struct layer *l, enum store_dialect dialect,
                         const struct cql2_node *ast, int filter_crs, int filter_axis,
                         struct store_filter *out, struct err *e);

#endif
