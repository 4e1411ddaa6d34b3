/* items: the OGC API Features items query — bbox (in any supported CRS,
 * across the antimeridian), attribute equality, CQL2 filter, sorting, paging,
 * property selection and output CRS — over one layer. Writes GeoJSON Features. */
#ifndef ONEMAP_ITEMS_H
#define ONEMAP_ITEMS_H

#include "buf.h"
#include "cql2.h"
#include "ctx.h"
#include "err.h"
#include "layer.h"
#include "store.h"

/* Bits of items_req.no_area (the same values as feature.h's FEATURE_NO_AREA_*). */
enum items_no_area { ITEMS_NO_AREA_M2 = 1, ITEMS_NO_AREA_MU = 2, ITEMS_NO_AREA = 3 };

struct items_req {
    const struct layer *layer;
    int have_bbox;
    double bbox[4];              /* as given: minx miny maxx maxy in bbox_crs/bbox_axis */
    int bbox_crs, bbox_axis;
    int crs, axis;               /* output */
    long long limit, offset;
    const unsigned char *props;  /* per field 1 = include; NULL = all */
    int no_area;                 /* ITEMS_NO_AREA_* bits: the areas to leave out */
    struct store_sort sort[STORE_MAX_SORT];
    size_t n_sort;
    struct store_eq eq[STORE_MAX_EQ];
    size_t n_eq;
    const struct cql2_node *filter; /* NULL: none; borrowed */
    int filter_crs, filter_axis;    /* how the filter's geometry literals are given */
};

struct items_res {
    long long matched;
    long long returned;
};

/* Appends the selected Features, comma-separated (no enclosing brackets). */
int items_query(ctx *c, store *s, const struct items_req *q, struct buf *out,
                struct items_res *res, struct err *e);

/* Appends one Feature; *version receives its version. ERR_NOT_FOUND when absent. */
int items_get(ctx *c, store *s, const struct layer *l, long long fid, int crs, int axis,
              struct buf *out, long long *version, struct err *e);

#endif
