/* wkb: reading WKB without GEOS. */
#include "wkb.h"

#include <math.h>
#include <string.h>

static int machine_little(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

static void swap_bytes(unsigned char *b, size_t size, size_t n)
{
    for (; n; n--, b += size)
        for (size_t i = 0; i < size / 2; i++) {
            unsigned char t = b[i];
            b[i] = b[size - 1 - i];
            b[size - 1 - i] = t;
        }
}

int wkb_u32(struct wkb_in *r, uint32_t *v)
{
    if (r->end - r->p < 4)
        return -1;
    memcpy(v, r->p, 4);
    r->p += 4;
    if (r->swap)
        swap_bytes((unsigned char *)v, 4, 1);
    return 0;
}

int wkb_header(struct wkb_in *r, uint32_t *type)
{
    uint32_t t, srid;
    if (r->p >= r->end || *r->p > 1)
        return -1;
    r->swap = (*r->p++ == 1) != machine_little();
    if (wkb_u32(r, &t))
        return -1;
    r->dims = 2 + !!(t & 0x80000000u) + !!(t & 0x40000000u); /* extended: Z, M */
    if ((t & 0x20000000u) && wkb_u32(r, &srid))
        return -1;
    t &= 0x0fffffffu;
    if (t > 1000 && t < 4000) { /* ISO: 1000 Z, 2000 M, 3000 ZM */
        if (r->dims > 2)
            return -1;
        r->dims = 2 + (t / 1000 == 3 ? 2 : 1);
        t %= 1000;
    }
    *type = t;
    return t < 1 || t > 7 ? -1 : 0;
}

int wkb_xy(struct wkb_in *r, uint32_t n, double *xy)
{
    size_t step = (size_t)r->dims * 8;
    if ((size_t)(r->end - r->p) / step < n)
        return -1;
    if (n == 0)
        return 0;
    if (r->dims == 2) {
        memcpy(xy, r->p, (size_t)n * 16);
        r->p += (size_t)n * 16;
    } else {
        for (uint32_t i = 0; i < n; i++, r->p += step)
            memcpy(xy + 2 * i, r->p, 16);
    }
    if (r->swap)
        swap_bytes((unsigned char *)xy, 8, 2 * (size_t)n);
    return 0;
}

/* Calls fn with each position of the geometry (empty points' NaNs passed
 * over) until it returns nonzero: that value; -1 for WKB it cannot read or
 * NaN ordinates, else 0. */
typedef int (*xy_fn)(void *arg, const double xy[2]);

static int each_xy(struct wkb_in *r, xy_fn fn, void *arg, int depth)
{
    uint32_t type, n, k;
    int rc;
    if (depth > 8 || wkb_header(r, &type))
        return -1;
    if (type == 1)
        n = 1;
    else if (wkb_u32(r, &n))
        return -1;
    if (type >= 4) { /* collections: each member with its header */
        for (k = 0; k < n; k++)
            if ((rc = each_xy(r, fn, arg, depth + 1)))
                return rc;
        return 0;
    }
    for (uint32_t ring = 0, rings = type == 3 ? n : 1; ring < rings; ring++) {
        uint32_t pts = n;
        if (type == 3 && wkb_u32(r, &pts))
            return -1;
        if ((size_t)(r->end - r->p) / ((size_t)r->dims * 8) < pts)
            return -1;
        for (k = 0; k < pts; k++) {
            double xy[2];
            wkb_xy(r, 1, xy);
            if (isnan(xy[0]) && isnan(xy[1]) && type == 1)
                continue; /* an empty point */
            if (isnan(xy[0]) || isnan(xy[1]))
                return -1;
            if ((rc = fn(arg, xy)))
                return rc;
        }
    }
    return 0;
}

static int grow_box(void *arg, const double xy[2])
{
    double *m = arg;
    m[0] = fmin(m[0], xy[0]), m[1] = fmin(m[1], xy[1]);
    m[2] = fmax(m[2], xy[0]), m[3] = fmax(m[3], xy[1]);
    return 0;
}

int wkb_bbox(const unsigned char *wkb, size_t len, double mbr[4])
{
    struct wkb_in r = {wkb, wkb + len, 0, 2};
    double m[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    if (each_xy(&r, grow_box, m, 0) || r.p != r.end || !(m[0] <= m[2]))
        return -1;
    memcpy(mbr, m, sizeof m);
    return 0;
}

static int in_box(void *arg, const double xy[2])
{
    const double *b = arg;
    return xy[0] >= b[0] && xy[0] <= b[2] && xy[1] >= b[1] && xy[1] <= b[3];
}

int wkb_any_in(const unsigned char *wkb, size_t len, const double box[4])
{
    struct wkb_in r = {wkb, wkb + len, 0, 2};
    int rc = each_xy(&r, in_box, (void *)box, 0);
    return rc < 0 || (rc == 0 && r.p != r.end) ? -1 : rc;
}
