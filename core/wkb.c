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

static int box_geom(struct wkb_in *r, double m[4], int depth)
{
    uint32_t type, n, k;
    if (depth > 8 || wkb_header(r, &type))
        return -1;
    if (type == 1)
        n = 1;
    else if (wkb_u32(r, &n))
        return -1;
    if (type >= 4) { /* collections: each member with its header */
        for (k = 0; k < n; k++)
            if (box_geom(r, m, depth + 1))
                return -1;
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
            m[0] = fmin(m[0], xy[0]), m[1] = fmin(m[1], xy[1]);
            m[2] = fmax(m[2], xy[0]), m[3] = fmax(m[3], xy[1]);
        }
    }
    return 0;
}

int wkb_bbox(const unsigned char *wkb, size_t len, double mbr[4])
{
    struct wkb_in r = {wkb, wkb + len, 0, 2};
    double m[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    if (box_geom(&r, m, 0) || r.p != r.end || !(m[0] <= m[2]))
        return -1;
    memcpy(mbr, m, sizeof m);
    return 0;
}
