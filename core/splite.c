/* splite: SpatiaLite BLOB-Geometry from WKB. The layout (SpatiaLite's
 * documentation, "BLOB-Geometry"): 0x00, endianness 0x01, srid (int32), MBR
 * minx miny maxx maxy (4 doubles), 0x7C, class (int32, the WKB type), the
 * body, 0xFE. Bodies are WKB's without the byte-order and type bytes;
 * the members of a collection each start with 0x69 and their class. */
#include "splite.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

struct rd {
    const unsigned char *p, *end;
    int swap; /* big-endian WKB */
};

struct wr {
    struct buf *out;
    double mbr[4];
};

static int rd_u32(struct rd *r, uint32_t *v)
{
    unsigned char b[4];
    if (r->end - r->p < 4)
        return -1;
    memcpy(b, r->p, 4);
    r->p += 4;
    *v = r->swap ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]
                 : (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
    return 0;
}

static int rd_f64(struct rd *r, double *v)
{
    unsigned char b[8];
    uint64_t u = 0;
    if (r->end - r->p < 8)
        return -1;
    memcpy(b, r->p, 8);
    r->p += 8;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)b[r->swap ? i : 7 - i] << (8 * (7 - i));
    memcpy(v, &u, 8);
    return 0;
}

static void put_u32(struct wr *w, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    buf_append(w->out, b, 4);
}

static void put_f64(struct wr *w, double v)
{
    uint64_t u;
    unsigned char b[8];
    memcpy(&u, &v, 8);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(u >> (8 * i));
    buf_append(w->out, b, 8);
}

/* n points, copied and added to the MBR */
static int points(struct rd *r, struct wr *w, uint32_t n)
{
    if ((size_t)(r->end - r->p) / 16 < n)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        double x, y;
        if (rd_f64(r, &x) || rd_f64(r, &y) || !isfinite(x) || !isfinite(y))
            return -1;
        put_f64(w, x);
        put_f64(w, y);
        w->mbr[0] = fmin(w->mbr[0], x), w->mbr[2] = fmax(w->mbr[2], x);
        w->mbr[1] = fmin(w->mbr[1], y), w->mbr[3] = fmax(w->mbr[3], y);
    }
    return 0;
}

static int counted_points(struct rd *r, struct wr *w)
{
    uint32_t n;
    if (rd_u32(r, &n) || n == 0)
        return -1;
    put_u32(w, n);
    return points(r, w, n);
}

/* the body of a simple geometry of class type */
static int body(struct rd *r, struct wr *w, uint32_t type)
{
    uint32_t n;
    switch (type) {
    case 1: return points(r, w, 1);
    case 2: return counted_points(r, w);
    case 3:
        if (rd_u32(r, &n) || n == 0)
            return -1;
        put_u32(w, n);
        for (uint32_t i = 0; i < n; i++)
            if (counted_points(r, w))
                return -1;
        return 0;
    default: return -1;
    }
}

/* a geometry's byte order and type, as WKB gives them at r->p */
static int header(struct rd *r, uint32_t *type)
{
    if (r->p >= r->end || *r->p > 1)
        return -1;
    r->swap = *r->p++ == 0;
    return rd_u32(r, type);
}

int splite_from_wkb(const unsigned char *wkb, size_t len, int srid, struct buf *out)
{
    struct rd r = {wkb, wkb + len, 0};
    struct wr w = {out, {INFINITY, INFINITY, -INFINITY, -INFINITY}};
    size_t start = out->len, mbr_at;
    uint32_t type, n;
    int rc = 0;
    unsigned char head[2] = {0x00, 0x01};
    if (header(&r, &type) || type < 1 || type > 7)
        return -1;
    buf_append(out, head, 2);
    put_u32(&w, (uint32_t)srid);
    mbr_at = out->len;
    for (int i = 0; i < 4; i++)
        put_f64(&w, 0);
    buf_putc(out, 0x7C);
    put_u32(&w, type);
    if (type <= 3) {
        rc = body(&r, &w, type);
    } else if (rd_u32(&r, &n) || n == 0) {
        rc = -1;
    } else {
        put_u32(&w, n);
        for (uint32_t i = 0; i < n && !rc; i++) {
            uint32_t member;
            if (header(&r, &member) || member < 1 || member > 3 ||
                (type != 7 && member != type - 3)) {
                rc = -1;
                break;
            }
            buf_putc(out, 0x69);
            put_u32(&w, member);
            rc = body(&r, &w, member);
        }
    }
    buf_putc(out, (char)0xFE);
    if (rc || r.p != r.end || out->oom) {
        out->len = start;
        return -1;
    }
    /* the MBR goes back where its room was kept */
    for (int i = 0; i < 4; i++) {
        uint64_t u;
        memcpy(&u, &w.mbr[i], 8);
        for (int k = 0; k < 8; k++)
            out->data[mbr_at + 8 * i + k] = (char)(unsigned char)(u >> (8 * k));
    }
    return 0;
}

/* ---- and back ----------------------------------------------------------- */

/* copies the body of a simple geometry of class type from r to w (little
 * endian WKB), without MBR bookkeeping */
static int copy_points(struct rd *r, struct wr *w, uint32_t n)
{
    if ((size_t)(r->end - r->p) / 16 < n)
        return -1;
    if (!r->swap) {
        buf_append(w->out, r->p, (size_t)n * 16);
        r->p += (size_t)n * 16;
        return 0;
    }
    for (uint32_t i = 0; i < 2 * n; i++) {
        double v;
        if (rd_f64(r, &v))
            return -1;
        put_f64(w, v);
    }
    return 0;
}

static int copy_counted(struct rd *r, struct wr *w)
{
    uint32_t n;
    if (rd_u32(r, &n))
        return -1;
    put_u32(w, n);
    return copy_points(r, w, n);
}

static int copy_body(struct rd *r, struct wr *w, uint32_t type)
{
    uint32_t n;
    switch (type) {
    case 1: return copy_points(r, w, 1);
    case 2: return copy_counted(r, w);
    case 3:
        if (rd_u32(r, &n))
            return -1;
        put_u32(w, n);
        for (uint32_t i = 0; i < n; i++)
            if (copy_counted(r, w))
                return -1;
        return 0;
    default: return -1;
    }
}

int splite_to_wkb(const unsigned char *blob, size_t len, struct buf *out)
{
    struct rd r;
    struct wr w = {out, {0, 0, 0, 0}};
    size_t start = out->len;
    uint32_t type, n;
    int rc = 0;
    if (len < 44 || blob[0] != 0x00 || blob[1] > 1 || blob[38] != 0x7C || blob[len - 1] != 0xFE)
        return -1;
    r.p = blob + 39;
    r.end = blob + len - 1;
    r.swap = blob[1] == 0;
    if (rd_u32(&r, &type) || type < 1 || type > 7)
        return -1;
    buf_putc(out, 0x01);
    put_u32(&w, type);
    if (type <= 3) {
        rc = copy_body(&r, &w, type);
    } else if (rd_u32(&r, &n)) {
        rc = -1;
    } else {
        put_u32(&w, n);
        for (uint32_t i = 0; i < n && !rc; i++) {
            uint32_t member;
            if (r.p >= r.end || *r.p++ != 0x69 || rd_u32(&r, &member) || member < 1 ||
                member > 3) {
                rc = -1;
                break;
            }
            buf_putc(out, 0x01);
            put_u32(&w, member);
            rc = copy_body(&r, &w, member);
        }
    }
    if (rc || r.p != r.end || out->oom) {
        out->len = start;
        return -1;
    }
    return 0;
}
