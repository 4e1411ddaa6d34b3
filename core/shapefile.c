/* shapefile: an ESRI Shapefile, zipped in memory or as files on disk, to a
 * GeoJSON FeatureCollection.
 * This file owns the safety of the zip (entry count, unsafe names, the bytes
 * really inflated), finding the members, copying them into a private
 * temporary directory under fixed names (or finding a .shp's sidecars), assembling polygon rings into
 * polygons, and decoding DBF attributes into UTF-8 JSON values. It does not own
 * validation (feature.c reads the result like any uploaded GeoJSON), attribute
 * names (the importer matches them to the layer), nor CRS transforms.
 *
 * Decisions:
 * - Entries are matched case-insensitively; a .shp in one folder is fine,
 *   deeper entries, folders and macOS "__MACOSX/" and "._" forks are ignored.
 *   Any entry with an absolute name or a ".." component refuses the zip.
 * - Rings: clockwise rings are exterior, counter-clockwise ones holes (the
 *   ESRI specification). A hole goes to the smallest exterior ring that holds
 *   it; a hole inside none becomes a polygon of its own (as other GIS software
 *   shows it), and a shape without any clockwise ring is read by nesting
 *   depth. Output rings follow RFC 7946: exterior counter-clockwise.
 * - DBF records marked deleted are left out, as desktop GIS hides them.
 * - Text fields keep leading spaces and lose trailing ones (the DBF padding);
 *   a NUL ends a value. Numbers that are all '*' (overflow) read as null. */
#include "shapefile_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <shapefil.h>
#include <zip.h>

#include "crs.h"

#define DEFAULT_MAX_BYTES ((size_t)512 << 20)
#define DEFAULT_MAX_ENTRIES 64
#define CHUNK 65536
#define DEFAULT_ENCODING "GBK"

enum member { M_SHP, M_SHX, M_DBF, M_PRJ, M_CPG, M_COUNT };
#define M_EXTRACT 3 /* shp, shx and dbf go to files; prj and cpg stay in memory */

static const char *const member_ext[M_COUNT] = {"shp", "shx", "dbf", "prj", "cpg"};

struct zread {
    zip_t *z;
    zip_int64_t idx[M_COUNT]; /* -1 when absent */
    const char *name[M_COUNT];
    size_t max_bytes, used; /* uncompressed bytes read so far, all members */
    char *chunk;
};

int shp_oom(struct err *e)
{
    return err_set(e, ERR_INTERNAL, "out of memory");
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80                    ? 1
                 : s[0] >= 0xC2 && s[0] <= 0xDF ? 2
                 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
                 : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4
                                                : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
        (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
        return 0; /* overlong, surrogate or beyond U+10FFFF */
    return len;
}

/* Copies at most n bytes (and at most SHOW_MAX) of an outside string for a
 * message: valid UTF-8 is kept, control characters and any other byte become
 * '?', so that the message is always valid UTF-8 text. */
const char *shp_show(char *out, size_t cap, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, o = 0;
    if (cap > SHOW_MAX + 1)
        cap = SHOW_MAX + 1;
    while (i < n && u[i]) {
        size_t len = utf8_len(u + i, n - i);
        if (o + (len ? len : 1) >= cap)
            break;
        if (len == 0 || (len == 1 && (u[i] < 0x20 || u[i] == 0x7f))) {
            out[o++] = '?';
            i++;
        } else {
            memcpy(out + o, s + i, len);
            o += len;
            i += len;
        }
    }
    out[o] = '\0';
    return out;
}

/* ---- code pages ------------------------------------------------------- */

/* Maps a code page as a .cpg or the encoding parameter gives it to an iconv
 * name in out. Returns 1 for names that defer to the default (empty, "ANSI",
 * "OEM": the writer's system code page, unknown here), -1 for text that is no
 * code page name, 0 otherwise. Whether iconv knows the name is not checked. */
static int codepage_name(const char *s, size_t n, char *out, size_t cap)
{
    static const struct {
        const char *in, *out;
    } alias[] = {
        {"65001", "UTF-8"},      {"UTF8", "UTF-8"},        {"936", "GBK"},    {"CP936", "GBK"},
        {"MS936", "GBK"},        {"WINDOWS-936", "GBK"},   {"GB2312", "GBK"}, {"EUC-CN", "GBK"},
        {"20936", "GBK"},        {"54936", "GB18030"},     {"950", "BIG5"},   {"CP950", "BIG5"},
        {"88591", "ISO-8859-1"}, {"LATIN1", "ISO-8859-1"},
    };
    size_t i, digits = 0;
    while (n > 0 && isspace((unsigned char)*s))
        s++, n--;
    while (n > 0 && (isspace((unsigned char)s[n - 1]) || s[n - 1] == '\0'))
        n--;
    if (n >= cap || n >= ENC_MAX)
        return -1;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!isalnum(ch) && ch != '-' && ch != '_' && ch != '.' && ch != ':')
            return -1;
        digits += isdigit(ch) != 0;
        out[i] = (char)toupper(ch);
    }
    out[n] = '\0';
    if (n == 0 || !strcmp(out, "ANSI") || !strcmp(out, "OEM"))
        return 1;
    for (i = 0; i < sizeof alias / sizeof alias[0]; i++)
        if (!strcmp(out, alias[i].in)) {
            snprintf(out, cap, "%s", alias[i].out);
            return 0;
        }
    if (digits == n && n + 2 < cap) { /* a Windows code page number */
        memmove(out + 2, out, n + 1);
        memcpy(out, "CP", 2);
    }
    return 0;
}

static int codepage_known(const char *name)
{
    iconv_t cd = iconv_open("UTF-8", name);
    if (cd == (iconv_t)-1)
        return 0;
    iconv_close(cd);
    return 1;
}

/* The encoding of the DBF text: the .cpg's, else the parameter's, else GBK.
 * param was checked by the caller. */
int shp_encoding_resolve(const char *cpg, size_t cpg_len, const char *param, char *out,
                            struct err *e)
{
    char q[SHOW_MAX + 1];
    int r = cpg ? codepage_name(cpg, cpg_len, out, ENC_MAX) : 1;
    if (r < 0 || (r == 0 && !codepage_known(out)))
        return err_set(e, ERR_INVALID, "cpg: unknown code page '%s'",
                       shp_show(q, sizeof q, cpg, cpg_len));
    if (r == 0)
        return 0;
    if (param && codepage_name(param, strlen(param), out, ENC_MAX) == 0)
        return 0;
    snprintf(out, ENC_MAX, "%s", DEFAULT_ENCODING);
    return 0;
}

int shapefile_encoding_check(const char *param, struct err *e)
{
    char name[ENC_MAX], q[SHOW_MAX + 1];
    int r;
    if (!param)
        return 0;
    r = codepage_name(param, strlen(param), name, sizeof name);
    if (r < 0 || (r == 0 && !codepage_known(name)))
        return err_set(e, ERR_PARAM, "encoding: unknown text encoding '%s'",
                       shp_show(q, sizeof q, param, strlen(param)));
    return 0;
}

/* ---- the zip ---------------------------------------------------------- */

static int is_sep(char c)
{
    return c == '/' || c == '\\';
}

/* An absolute name or one with a ".." component could land outside any
 * directory it were extracted into: such an archive is refused whole. */
static int name_unsafe(const char *s)
{
    const char *seg = s;
    if (is_sep(s[0]) || (isalpha((unsigned char)s[0]) && s[1] == ':'))
        return 1;
    for (const char *p = s;; p++) {
        if (is_sep(*p) || !*p) {
            if (p - seg == 2 && seg[0] == '.' && seg[1] == '.')
                return 1;
            if (!*p)
                return 0;
            seg = p + 1;
        }
    }
}

/* Which member an entry could be (enum member), or -1 for entries we do not
 * consider: folders, entries deeper than one folder, macOS resource forks. */
static int entry_kind(const char *name)
{
    const char *base = name;
    size_t n = strlen(name), seps = 0, blen;
    if (n == 0 || is_sep(name[n - 1]) || !strncmp(name, "__MACOSX", 8))
        return -1;
    for (const char *p = name; *p; p++)
        if (is_sep(*p)) {
            seps++;
            base = p + 1;
        }
    blen = strlen(base);
    if (seps > 1 || (base[0] == '.' && base[1] == '_') || blen < 5 || base[blen - 4] != '.')
        return -1;
    for (int m = 0; m < M_COUNT; m++)
        if (!strcasecmp(base + blen - 3, member_ext[m]))
            return m;
    return -1;
}

/* Same folder and base name as the .shp, case aside. */
static int same_stem(const char *a, const char *shp)
{
    size_t n = strlen(shp);
    return strlen(a) == n && !strncasecmp(a, shp, n - 3);
}

static int zip_fail(zip_error_t *ze, const char *name, struct err *e)
{
    char q[SHOW_MAX + 1];
    shp_show(q, sizeof q, name, strlen(name));
    switch (zip_error_code_zip(ze)) {
    case ZIP_ER_MEMORY:
        return shp_oom(e);
    case ZIP_ER_NOPASSWD:
    case ZIP_ER_WRONGPASSWD:
    case ZIP_ER_ENCRNOTSUPP:
        return err_set(e, ERR_INVALID, "zip: entry '%s' is encrypted", q);
    case ZIP_ER_COMPNOTSUPP:
        return err_set(e, ERR_INVALID, "zip: entry '%s' uses an unsupported compression method", q);
    default:
        return err_set(e, ERR_INVALID, "zip: entry '%s' could not be read (%s)", q,
                       zip_error_strerror(ze));
    }
}

static int zip_open_memory(const void *data, size_t len, zip_t **z, struct err *e)
{
    zip_error_t ze;
    zip_source_t *src;
    int rc;
    zip_error_init(&ze);
    src = zip_source_buffer_create(data, len, 0, &ze);
    if (src && (*z = zip_open_from_source(src, ZIP_RDONLY, &ze)) != NULL) {
        zip_error_fini(&ze);
        return 0;
    }
    if (zip_error_code_zip(&ze) == ZIP_ER_MEMORY)
        rc = shp_oom(e);
    else
        rc = err_set(e, ERR_BAD_REQUEST, "zip: not a readable zip archive (%s)",
                     zip_error_strerror(&ze));
    zip_source_free(src);
    zip_error_fini(&ze);
    return rc;
}

/* Checks every entry's name and finds the one .shp and its siblings. */
static int zip_find_members(struct zread *zr, size_t max_entries, struct err *e)
{
    char q[SHOW_MAX + 1], q2[SHOW_MAX + 1];
    zip_int64_t n = zip_get_num_entries(zr->z, 0), shp = -1;
    if (n < 0 || (zip_uint64_t)n > max_entries)
        return err_set(e, ERR_TOO_LARGE,
                       "zip: %lld entries, more than the limit of %zu "
                       "(max_entries)",
                       (long long)n, max_entries);
    for (zip_int64_t i = 0; i < n; i++) {
        const char *name = zip_get_name(zr->z, (zip_uint64_t)i, 0);
        if (!name)
            return err_set(e, ERR_INVALID, "zip: entry %lld has no readable name", (long long)i);
        if (name_unsafe(name))
            return err_set(e, ERR_INVALID, "zip: entry '%s' has an unsafe path",
                           shp_show(q, sizeof q, name, strlen(name)));
        if (entry_kind(name) != M_SHP)
            continue;
        if (shp >= 0)
            return err_set(e, ERR_INVALID,
                           "zip: more than one .shp ('%s', '%s'); upload one "
                           "Shapefile per zip",
                           shp_show(q, sizeof q, zr->name[M_SHP], strlen(zr->name[M_SHP])),
                           shp_show(q2, sizeof q2, name, strlen(name)));
        shp = i;
        zr->idx[M_SHP] = i;
        zr->name[M_SHP] = name;
    }
    if (shp < 0)
        return err_set(e, ERR_INVALID, "zip: no .shp file (at the top level or in one folder)");
    for (zip_int64_t i = 0; i < n; i++) {
        const char *name = zip_get_name(zr->z, (zip_uint64_t)i, 0);
        int m = entry_kind(name);
        if (m <= M_SHP || !same_stem(name, zr->name[M_SHP]))
            continue;
        if (zr->idx[m] >= 0)
            return err_set(e, ERR_INVALID, "zip: both '%s' and '%s'; which one is meant?",
                           shp_show(q, sizeof q, zr->name[m], strlen(zr->name[m])),
                           shp_show(q2, sizeof q2, name, strlen(name)));
        zr->idx[m] = i;
        zr->name[m] = name;
    }
    for (int m = M_SHX; m <= M_DBF; m++)
        if (zr->idx[m] < 0) {
            size_t stem = strlen(zr->name[M_SHP]) - 3;
            shp_show(q, sizeof q, zr->name[M_SHP], stem);
            return err_set(e, ERR_INVALID,
                           "zip: '%s%s' is missing (a Shapefile needs .shp, "
                           ".shx and .dbf)",
                           q, member_ext[m]);
        }
    return 0;
}

static int too_large(struct zread *zr, struct err *e)
{
    return err_set(e, ERR_TOO_LARGE,
                   "zip: the Shapefile inflates to more than the limit of "
                   "%zu bytes (max_bytes)",
                   zr->max_bytes);
}

/* Refuses early what the central directory already declares too large; the
 * real count in member_read is what protects. */
static int zip_check_declared(struct zread *zr, struct err *e)
{
    zip_uint64_t sum = 0;
    for (int m = 0; m < M_COUNT; m++) {
        zip_stat_t st;
        if (zr->idx[m] < 0 || zip_stat_index(zr->z, (zip_uint64_t)zr->idx[m], 0, &st) < 0 ||
            !(st.valid & ZIP_STAT_SIZE))
            continue;
        if (st.size > zr->max_bytes || (sum += st.size) > zr->max_bytes)
            return too_large(zr, e);
    }
    return 0;
}

static int write_all(int fd, const char *p, size_t n, struct err *e)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return err_set(e, ERR_INTERNAL,
                           "shapefile: temporary file could not be written "
                           "(%s)",
                           strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Inflates member m into fd (>= 0) or into mem (cap bytes, *len set),
 * counting every byte against max_bytes as it arrives. */
static int member_read(struct zread *zr, int m, int fd, char *mem, size_t cap, size_t *len,
                       struct err *e)
{
    char q[SHOW_MAX + 1];
    zip_file_t *f = zip_fopen_index(zr->z, (zip_uint64_t)zr->idx[m], 0);
    zip_int64_t got = 0;
    int rc = 0;
    if (!f)
        return zip_fail(zip_get_error(zr->z), zr->name[m], e);
    if (len)
        *len = 0;
    while (rc == 0 && (got = zip_fread(f, zr->chunk, CHUNK)) > 0) {
        if ((size_t)got > zr->max_bytes - zr->used) {
            rc = too_large(zr, e);
            break;
        }
        zr->used += (size_t)got;
        if (fd >= 0) {
            rc = write_all(fd, zr->chunk, (size_t)got, e);
        } else if ((size_t)got > cap - *len) {
            rc = err_set(e, ERR_INVALID, "zip: '%s' is larger than %d bytes",
                         shp_show(q, sizeof q, zr->name[m], strlen(zr->name[m])), SIDE_MAX);
        } else {
            memcpy(mem + *len, zr->chunk, (size_t)got);
            *len += (size_t)got;
        }
    }
    if (rc == 0 && got < 0)
        rc = zip_fail(zip_file_get_error(f), zr->name[m], e);
    zip_fclose(f);
    return rc;
}

/* Reads an optional small member (.prj, .cpg) into a new NUL-terminated
 * string; *out stays NULL when the zip has none. */
static int side_read(struct zread *zr, int m, char **out, size_t *len, struct err *e)
{
    int rc;
    *out = NULL;
    *len = 0;
    if (zr->idx[m] < 0)
        return 0;
    if (!(*out = malloc(SIDE_MAX + 1)))
        return shp_oom(e);
    rc = member_read(zr, m, -1, *out, SIDE_MAX, len, e);
    (*out)[*len] = '\0';
    return rc;
}

/* ---- the private temporary directory ----------------------------------- */

struct tmpdir {
    char path[PATH_MAX - 16];
    int made;
};

static void tmpdir_file(const struct tmpdir *t, int m, char *out, size_t cap)
{
    snprintf(out, cap, "%s/in.%s", t->path, member_ext[m]);
}

static int tmpdir_make(struct tmpdir *t, struct err *e)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    if ((size_t)snprintf(t->path, sizeof t->path, "%s/onemap-shp-XXXXXX", base) >= sizeof t->path)
        return err_set(e, ERR_INTERNAL, "shapefile: TMPDIR is too long");
    if (!mkdtemp(t->path))
        return err_set(e, ERR_INTERNAL, "shapefile: no temporary directory in %s (%s)", base,
                       strerror(errno));
    t->made = 1;
    return 0;
}

static void tmpdir_remove(struct tmpdir *t)
{
    char path[PATH_MAX];
    if (!t->made)
        return;
    for (int m = 0; m < M_EXTRACT; m++) {
        tmpdir_file(t, m, path, sizeof path);
        unlink(path);
    }
    rmdir(t->path);
    t->made = 0;
}

/* Copies .shp, .shx and .dbf into the directory under fixed names. */
static int members_extract(struct zread *zr, const struct tmpdir *t, struct err *e)
{
    char path[PATH_MAX];
    for (int m = 0; m < M_EXTRACT; m++) {
        int rc, fd;
        tmpdir_file(t, m, path, sizeof path);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            return err_set(e, ERR_INTERNAL,
                           "shapefile: temporary file could not be created "
                           "(%s)",
                           strerror(errno));
        rc = member_read(zr, m, fd, NULL, 0, NULL, e);
        if (close(fd) != 0 && rc == 0)
            rc = err_set(e, ERR_INTERNAL,
                         "shapefile: temporary file could not be written "
                         "(%s)",
                         strerror(errno));
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- geometry ----------------------------------------------------------- */

struct ring {
    int start, n; /* vertices [start, start + n) of the shape */
    double area2; /* twice the signed area, > 0 counter-clockwise */
    double min[2], max[2];
    int outer;
    int owner; /* a hole's exterior ring, -1 for exterior rings */
};

static const char *shape_type_name(int t, char *buf, size_t cap)
{
    switch (t) {
    case SHPT_NULL:
        return "Null";
    case SHPT_POINT:
        return "Point";
    case SHPT_ARC:
        return "PolyLine";
    case SHPT_POLYGON:
        return "Polygon";
    case SHPT_MULTIPOINT:
        return "MultiPoint";
    case SHPT_POINTZ:
        return "PointZ";
    case SHPT_ARCZ:
        return "PolyLineZ";
    case SHPT_POLYGONZ:
        return "PolygonZ";
    case SHPT_MULTIPOINTZ:
        return "MultiPointZ";
    case SHPT_POINTM:
        return "PointM";
    case SHPT_ARCM:
        return "PolyLineM";
    case SHPT_POLYGONM:
        return "PolygonM";
    case SHPT_MULTIPOINTM:
        return "MultiPointM";
    case SHPT_MULTIPATCH:
        return "MultiPatch";
    default:
        snprintf(buf, cap, "%d", t);
        return buf;
    }
}

static int is_polygon_type(int t)
{
    return t == SHPT_POLYGON || t == SHPT_POLYGONZ || t == SHPT_POLYGONM;
}

static void ring_measure(const SHPObject *o, struct ring *r)
{
    const double *x = o->padfX + r->start, *y = o->padfY + r->start;
    double s = 0;
    r->min[0] = r->max[0] = x[0];
    r->min[1] = r->max[1] = y[0];
    for (int i = 0; i + 1 < r->n; i++) {
        /* relative to the first vertex: projected coordinates are large */
        s += (x[i] - x[0]) * (y[i + 1] - y[0]) - (x[i + 1] - x[0]) * (y[i] - y[0]);
        r->min[0] = fmin(r->min[0], x[i + 1]);
        r->max[0] = fmax(r->max[0], x[i + 1]);
        r->min[1] = fmin(r->min[1], y[i + 1]);
        r->max[1] = fmax(r->max[1], y[i + 1]);
    }
    r->area2 = s;
}

/* 1 inside ring r, 0 outside, -1 on its boundary (crossing number). */
static int ring_locate(const SHPObject *o, const struct ring *r, double px, double py)
{
    const double *x = o->padfX + r->start, *y = o->padfY + r->start;
    int in = 0;
    if (px < r->min[0] || px > r->max[0] || py < r->min[1] || py > r->max[1])
        return 0;
    for (int i = 0, j = r->n - 1; i < r->n; j = i++) {
        double cross = (x[j] - x[i]) * (py - y[i]) - (y[j] - y[i]) * (px - x[i]);
        if (cross == 0 && px >= fmin(x[i], x[j]) && px <= fmax(x[i], x[j]) &&
            py >= fmin(y[i], y[j]) && py <= fmax(y[i], y[j]))
            return -1;
        if ((y[i] > py) != (y[j] > py) && px < x[i] + (py - y[i]) * (x[j] - x[i]) / (y[j] - y[i]))
            in = !in;
    }
    return in;
}

/* Whether ring a lies inside ring b, judged by the first vertex of a that is
 * not on b's boundary (a hole may touch its exterior ring at a point). */
static int ring_within(const SHPObject *o, const struct ring *a, const struct ring *b)
{
    for (int k = 0; k < a->n; k++) {
        int r = ring_locate(o, b, o->padfX[a->start + k], o->padfY[a->start + k]);
        if (r >= 0)
            return r;
    }
    return 1;
}

/* Sets outer and owner of every ring (see the file comment). */
static void rings_assign(const SHPObject *o, struct ring *r, int n)
{
    int any_cw = 0;
    for (int i = 0; i < n; i++)
        any_cw |= r[i].area2 < 0;
    for (int i = 0; i < n; i++) {
        int depth = 0;
        if (any_cw) {
            r[i].outer = r[i].area2 <= 0;
            continue;
        }
        for (int j = 0; j < n; j++)
            depth += j != i && ring_within(o, &r[i], &r[j]);
        r[i].outer = depth % 2 == 0;
    }
    for (int i = 0; i < n; i++) {
        r[i].owner = -1;
        if (r[i].outer)
            continue;
        for (int j = 0; j < n; j++)
            if (r[j].outer && ring_within(o, &r[i], &r[j]) &&
                (r[i].owner < 0 || fabs(r[j].area2) < fabs(r[r[i].owner].area2)))
                r[i].owner = j;
        if (r[i].owner < 0)
            r[i].outer = 1;
    }
}

/* The ring's positions, turned counter-clockwise when ccw, else clockwise. */
static json_t *ring_json(const SHPObject *o, const struct ring *r, int ccw)
{
    json_t *a = json_array();
    int rev = r->area2 != 0 && ((r->area2 > 0) != ccw);
    for (int k = 0; a && k < r->n; k++) {
        int i = r->start + (rev ? r->n - 1 - k : k);
        json_t *p = json_array();
        if (!p || json_array_append_new(p, json_real(o->padfX[i])) ||
            json_array_append_new(p, json_real(o->padfY[i])) || json_array_append_new(a, p)) {
            json_decref(p);
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* Builds the polygons from assigned rings: a Polygon when there is one. */
static int polygons_json(const SHPObject *o, const struct ring *r, int n, json_t **out,
                         struct err *e)
{
    json_t *polys = json_array(), *geom = json_object(), *poly = NULL;
    if (!polys || !geom)
        goto fail;
    for (int i = 0; i < n; i++) {
        if (!r[i].outer)
            continue;
        if (!(poly = json_array()) || json_array_append_new(polys, poly) ||
            json_array_append_new(poly, ring_json(o, &r[i], 1)))
            goto fail;
        for (int j = 0; j < n; j++)
            if (!r[j].outer && r[j].owner == i &&
                json_array_append_new(poly, ring_json(o, &r[j], 0)))
                goto fail;
    }
    if (json_array_size(polys) == 1) {
        poly = json_incref(json_array_get(polys, 0));
        json_decref(polys);
        polys = NULL;
        if (json_object_set_new(geom, "type", json_string("Polygon"))) {
            json_decref(poly);
            goto fail;
        }
        if (json_object_set_new(geom, "coordinates", poly)) /* taken even when it fails */
            goto fail;
    } else if (json_object_set_new(geom, "type", json_string("MultiPolygon")) ||
               json_object_set(geom, "coordinates", polys)) {
        goto fail;
    }
    json_decref(polys);
    *out = geom;
    return 0;
fail:
    json_decref(polys);
    json_decref(geom);
    return shp_oom(e);
}

/* Sets ring p's span and measures; refuses bad part bounds and non-finite
 * coordinates (the GeoJSON writer could not write them). */
static int part_ring(const SHPObject *o, int p, struct ring *r, struct err *e)
{
    int end = p + 1 < o->nParts ? o->panPartStart[p + 1] : o->nVertices;
    r->start = o->panPartStart[p];
    r->n = end - r->start;
    if (r->start < 0 || r->n <= 0 || end > o->nVertices)
        return err_set(e, ERR_INVALID, "geometry: part %d has no vertices or bad bounds", p);
    for (int k = r->start; k < end; k++)
        if (!isfinite(o->padfX[k]) || !isfinite(o->padfY[k]))
            return err_set(e, ERR_INVALID, "geometry: part %d, vertex %d is not a finite number", p,
                           k - r->start);
    ring_measure(o, r);
    return 0;
}

/* The GeoJSON geometry of one shape; null for a null or empty shape. */
static int shape_geometry(const SHPObject *o, json_t **out, struct err *e)
{
    struct ring *r;
    int rc = 0, n = o->nParts;
    *out = NULL;
    if (o->nSHPType == SHPT_NULL || n <= 0 || o->nVertices <= 0)
        return (*out = json_null()) ? 0 : shp_oom(e);
    if (!(r = calloc((size_t)n, sizeof *r)))
        return shp_oom(e);
    for (int p = 0; p < n && rc == 0; p++)
        rc = part_ring(o, p, &r[p], e);
    if (rc == 0) {
        rings_assign(o, r, n);
        rc = polygons_json(o, r, n, out, e);
    }
    free(r);
    return rc;
}

/* ---- attributes ---------------------------------------------------------- */

struct field {
    char *name; /* UTF-8 */
    char type;  /* C N F L D */
    int offset, width, decimals;
};

struct dbf_text {
    iconv_t cd;
    const char *enc;
    char *out;
    size_t cap;
};

/* Converts n bytes into t->out as UTF-8: 0, -1 when they are not valid text
 * in t->enc, ERR_INTERNAL when out of memory. */
static int text_convert(struct dbf_text *t, const char *s, size_t n)
{
    char *in = (char *)s, *o;
    size_t inleft = n, oleft;
    if (4 * n + 1 > t->cap) {
        char *p = realloc(t->out, 4 * n + 1);
        if (!p)
            return ERR_INTERNAL;
        t->out = p;
        t->cap = 4 * n + 1;
    }
    o = t->out;
    oleft = t->cap - 1;
    iconv(t->cd, NULL, NULL, NULL, NULL);
    if (iconv(t->cd, &in, &inleft, &o, &oleft) == (size_t)-1 ||
        iconv(t->cd, NULL, NULL, &o, &oleft) == (size_t)-1)
        return -1;
    *o = '\0';
    return 0;
}

static int value_text(struct dbf_text *t, const char *raw, size_t n, json_t **v, struct err *e)
{
    const char *nul = memchr(raw, '\0', n);
    int r;
    if (nul)
        n = (size_t)(nul - raw);
    while (n > 0 && raw[n - 1] == ' ')
        n--;
    if (n == 0)
        return (*v = json_null()) ? 0 : shp_oom(e);
    if ((r = text_convert(t, raw, n)) == ERR_INTERNAL)
        return shp_oom(e);
    if (r < 0 || !(*v = json_string(t->out)))
        return err_set(e, ERR_INVALID, "not valid %s", t->enc);
    return 0;
}

/* Trims spaces and NULs on both sides into buf; 0 when it does not fit. */
static size_t trimmed(const char *raw, size_t n, char *buf, size_t cap)
{
    while (n > 0 && (raw[0] == ' ' || raw[0] == '\0'))
        raw++, n--;
    while (n > 0 && (raw[n - 1] == ' ' || raw[n - 1] == '\0'))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, raw, n);
    buf[n] = '\0';
    return n;
}

static int value_number(const char *raw, size_t n, int decimals, json_t **v, struct err *e)
{
    char s[256], q[SHOW_MAX + 1], *end;
    size_t len = trimmed(raw, n, s, sizeof s);
    long long ll;
    double d;
    if (len == 0 || strspn(s, "*") == len)
        return (*v = json_null()) ? 0 : shp_oom(e);
    if (strspn(s, "0123456789+-.eE") != len)
        goto bad;
    errno = 0;
    ll = strtoll(s, &end, 10);
    if (decimals == 0 && errno == 0 && *end == '\0')
        return (*v = json_integer(ll)) ? 0 : shp_oom(e);
    errno = 0;
    d = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(d))
        goto bad;
    return (*v = json_real(d)) ? 0 : shp_oom(e);
bad:
    return err_set(e, ERR_INVALID, "'%s' is not a number", shp_show(q, sizeof q, s, len));
}

static int value_logical(const char *raw, size_t n, json_t **v, struct err *e)
{
    char s[8], q[SHOW_MAX + 1];
    size_t len = trimmed(raw, n, s, sizeof s);
    if (len == 0 || (len == 1 && s[0] == '?'))
        *v = json_null();
    else if (len == 1 && strchr("TtYy", s[0]))
        *v = json_true();
    else if (len == 1 && strchr("FfNn", s[0]))
        *v = json_false();
    else
        return err_set(e, ERR_INVALID, "'%s' is not a logical value (T, F, Y, N or ?)",
                       shp_show(q, sizeof q, s, len));
    return 0;
}

static int value_date(const char *raw, size_t n, json_t **v, struct err *e)
{
    char s[16], q[SHOW_MAX + 1], iso[16];
    size_t len = trimmed(raw, n, s, sizeof s);
    int y, m, d;
    if (len == 0 || (len == 8 && !strcmp(s, "00000000")))
        return (*v = json_null()) ? 0 : shp_oom(e);
    if (len != 8 || strspn(s, "0123456789") != 8 || sscanf(s, "%4d%2d%2d", &y, &m, &d) != 3 ||
        m < 1 || m > 12 || d < 1 || d > 31)
        return err_set(e, ERR_INVALID, "'%s' is not a date (YYYYMMDD)", shp_show(q, sizeof q, s, len));
    snprintf(iso, sizeof iso, "%04d-%02d-%02d", y, m, d);
    return (*v = json_string(iso)) ? 0 : shp_oom(e);
}

/* Reads the field descriptors: names converted to UTF-8, types checked. */
static int fields_read(DBFHandle h, struct dbf_text *t, struct field **out, int *count,
                       struct err *e)
{
    int n = DBFGetFieldCount(h);
    struct field *f = calloc(n > 0 ? (size_t)n : 1, sizeof *f);
    char raw[XBASE_FLDNAME_LEN_READ + 1], q[SHOW_MAX + 1];
    *out = f;
    *count = f ? n : 0; /* names stay NULL until set: fields_free frees them all */
    if (!f)
        return shp_oom(e);
    for (int i = 0; i < n; i++) {
        size_t len;
        int r;
        DBFGetFieldInfo(h, i, raw, &f[i].width, &f[i].decimals);
        f[i].type = (char)toupper((unsigned char)DBFGetNativeFieldType(h, i));
        f[i].offset = h->panFieldOffset[i];
        for (len = strlen(raw); len > 0 && raw[len - 1] == ' ';)
            len--;
        r = text_convert(t, raw, len);
        if (r == ERR_INTERNAL || (r == 0 && !(f[i].name = strdup(t->out))))
            return shp_oom(e);
        if (r < 0)
            return err_set(e, ERR_INVALID, "dbf: the name of field %d is not valid %s", i, t->enc);
        if (f[i].offset < 1 || f[i].width < 0 || f[i].offset + f[i].width > h->nRecordLength)
            return err_set(e, ERR_INVALID, "dbf: field '%s' lies outside the record",
                           shp_show(q, sizeof q, f[i].name, strlen(f[i].name)));
        if (!strchr("CNFLD", f[i].type) || !f[i].type)
            return err_set(e, ERR_INVALID,
                           "dbf: field '%s' has type '%c' (only C, N, F, L and D "
                           "are read)",
                           shp_show(q, sizeof q, f[i].name, strlen(f[i].name)),
                           isprint((unsigned char)f[i].type) ? f[i].type : '?');
        for (int j = 0; j < i; j++)
            if (!strcmp(f[j].name, f[i].name))
                return err_set(e, ERR_INVALID, "dbf: field name '%s' appears twice",
                               shp_show(q, sizeof q, f[i].name, strlen(f[i].name)));
    }
    return 0;
}

static void fields_free(struct field *f, int n)
{
    for (int i = 0; f && i < n; i++)
        free(f[i].name);
    free(f);
}

static int field_value(struct dbf_text *t, const struct field *f, const char *rec, json_t **v,
                       struct err *e)
{
    const char *raw = rec + f->offset;
    size_t n = (size_t)f->width;
    switch (f->type) {
    case 'C':
        return value_text(t, raw, n, v, e);
    case 'N':
    case 'F':
        return value_number(raw, n, f->decimals, v, e);
    case 'L':
        return value_logical(raw, n, v, e);
    default:
        return value_date(raw, n, v, e);
    }
}

/* The properties of DBF record rec, written as feature index. */
static int record_properties(DBFHandle h, struct dbf_text *t, const struct field *f, int nf,
                             int rec, size_t index, json_t **out, struct err *e)
{
    const char *row = DBFReadTuple(h, rec);
    json_t *props;
    if (!row)
        return err_set(e, ERR_INVALID, "features[%zu]: DBF record %d could not be read", index,
                       rec);
    if (!(props = json_object()))
        return shp_oom(e);
    for (int i = 0; i < nf; i++) {
        json_t *v = NULL;
        int rc = field_value(t, &f[i], row, &v, e);
        if (rc == 0 && json_object_set_new(props, f[i].name, v))
            rc = shp_oom(e);
        if (rc) {
            json_decref(props);
            return rc == ERR_INTERNAL
                       ? rc
                       : err_prefix(e, "features[%zu].properties.%s", index, f[i].name);
        }
    }
    *out = props;
    return 0;
}

/* ---- reading the Shapefile ------------------------------------------------ */

struct shp_read {
    SHPHandle shp;
    DBFHandle dbf;
    int type, n;
    struct field *fields;
    int nfields;
    struct dbf_text text;
};

static void quiet(const char *message)
{
    (void)message; /* shapelib's messages would go to stderr; we report our own */
}

static int shp_open(struct shp_read *s, const char *shp, const char *dbf, size_t max_features,
                    struct err *e)
{
    char tn[16];
    SAHooks hooks;
    SASetupDefaultHooks(&hooks);
    hooks.Error = quiet;
    if (!(s->shp = SHPOpenLL(shp, "rb", &hooks)))
        return err_set(e, ERR_INVALID,
                       "shapefile: the .shp and .shx are not a readable "
                       "Shapefile");
    SHPGetInfo(s->shp, &s->n, &s->type, NULL, NULL);
    if (!is_polygon_type(s->type) && s->type != SHPT_NULL)
        return err_set(e, ERR_INVALID, "shapefile: shape type %s is not a polygon type",
                       shape_type_name(s->type, tn, sizeof tn));
    if (!(s->dbf = DBFOpenLL(dbf, "rb", &hooks)))
        return err_set(e, ERR_INVALID, "shapefile: the .dbf is not a readable dBASE file");
    if (DBFGetRecordCount(s->dbf) != s->n)
        return err_set(e, ERR_INVALID,
                       "shapefile: the .shp has %d shapes but the .dbf %d "
                       "records",
                       s->n, DBFGetRecordCount(s->dbf));
    if (s->n < 0 || (size_t)s->n > max_features)
        return err_set(e, ERR_TOO_LARGE,
                       "shapefile: %d features, more than the limit of %zu "
                       "(max_features)",
                       s->n, max_features);
    if ((s->text.cd = iconv_open("UTF-8", s->text.enc)) == (iconv_t)-1)
        return err_set(e, ERR_INTERNAL, "shapefile: no converter from %s", s->text.enc);
    return fields_read(s->dbf, &s->text, &s->fields, &s->nfields, e);
}

static void shp_close(struct shp_read *s)
{
    if (s->shp)
        SHPClose(s->shp);
    if (s->dbf)
        DBFClose(s->dbf);
    if (s->text.cd != (iconv_t)-1)
        iconv_close(s->text.cd);
    free(s->text.out);
    fields_free(s->fields, s->nfields);
}

static int feature_read(struct shp_read *s, int rec, size_t index, json_t **out, struct err *e)
{
    char tn[16], tn2[16];
    SHPObject *o = SHPReadObject(s->shp, rec);
    json_t *f = json_object(), *geom = NULL, *props = NULL;
    int rc = 0;
    if (!o)
        rc = err_set(e, ERR_INVALID, "features[%zu]: shape %d could not be read", index, rec);
    else if (o->nSHPType != SHPT_NULL && o->nSHPType != s->type)
        rc = err_set(e, ERR_INVALID, "features[%zu]: a %s shape in a %s Shapefile", index,
                     shape_type_name(o->nSHPType, tn, sizeof tn),
                     shape_type_name(s->type, tn2, sizeof tn2));
    else if (!f || json_object_set_new(f, "type", json_string("Feature")))
        rc = shp_oom(e);
    else if ((rc = shape_geometry(o, &geom, e)) != 0 && rc != ERR_INTERNAL)
        err_prefix(e, "features[%zu]", index);
    SHPDestroyObject(o);
    /* json_object_set_new takes the value also when it fails */
    if (rc == 0 && json_object_set_new(f, "geometry", geom))
        rc = shp_oom(e);
    if (rc == 0 &&
        (rc = record_properties(s->dbf, &s->text, s->fields, s->nfields, rec, index, &props, e)) ==
            0 &&
        json_object_set_new(f, "properties", props))
        rc = shp_oom(e);
    if (rc) {
        json_decref(f);
        return rc;
    }
    *out = f;
    return 0;
}

/* Reads the Shapefile shp (its .shx beside it) and dbf into a new
 * FeatureCollection. */
int shp_read_files(const char *shp, const char *dbf, const char *enc, size_t max_features,
                          json_t **fc, struct err *e)
{
    struct shp_read s = {.text = {.cd = (iconv_t)-1, .enc = enc}};
    json_t *features = NULL, *out = NULL;
    int rc = shp_open(&s, shp, dbf, max_features, e);
    if (rc)
        goto out;
    if (!(features = json_array()) || !(out = json_object())) {
        rc = shp_oom(e);
        goto out;
    }
    for (int i = 0; i < s.n; i++) {
        json_t *f;
        if (DBFIsRecordDeleted(s.dbf, i))
            continue;
        if ((rc = feature_read(&s, i, json_array_size(features), &f, e)) != 0)
            goto out;
        if (json_array_append_new(features, f)) {
            rc = shp_oom(e);
            goto out;
        }
    }
    if (json_object_set_new(out, "type", json_string("FeatureCollection")) ||
        json_object_set(out, "features", features)) {
        rc = shp_oom(e);
        goto out;
    }
    *fc = out;
    out = NULL;
out:
    json_decref(features);
    json_decref(out);
    shp_close(&s);
    return rc;
}

/* ---- the whole read ------------------------------------------------------ */

int shp_prj_identify(const char *prj, size_t len, int *crs, int *crs_known, struct err *e)
{
    int id, rc;
    if (!prj || strspn(prj, " \t\r\n") == len)
        return 0; /* an empty .prj says nothing */
    if (strlen(prj) != len)
        return err_set(e, ERR_INVALID, "prj: not text");
    if ((rc = crs_from_wkt(prj, &id, e)) != 0) {
        if (rc != ERR_PARAM || !e)
            return rc == ERR_PARAM ? ERR_INVALID : rc;
        e->code = ERR_INVALID; /* a file's content, not a request parameter */
        return err_prefix(e, "prj");
    }
    *crs = id;
    *crs_known = 1;
    return 0;
}

int shapefile_zip_read(const void *zip, size_t len, const char *encoding,
                       const struct shapefile_limits *lim, json_t **fc, int *crs, int *crs_known,
                       struct err *e)
{
    struct zread zr = {.idx = {-1, -1, -1, -1, -1}};
    struct tmpdir t = {.made = 0};
    char *prj = NULL, *cpg = NULL, enc[ENC_MAX], shp[PATH_MAX], dbf[PATH_MAX];
    size_t prj_len, cpg_len, max_entries, max_features;
    int rc;
    *fc = NULL;
    *crs_known = 0;
    zr.max_bytes = lim && lim->max_bytes ? lim->max_bytes : DEFAULT_MAX_BYTES;
    max_entries = lim && lim->max_entries ? lim->max_entries : DEFAULT_MAX_ENTRIES;
    max_features = lim && lim->max_features ? lim->max_features : DEFAULT_MAX_FEATURES;
    if ((rc = shapefile_encoding_check(encoding, e)) != 0 ||
        (rc = zip_open_memory(zip, len, &zr.z, e)) != 0)
        return rc;
    if (!(zr.chunk = malloc(CHUNK))) {
        rc = shp_oom(e);
        goto out;
    }
    if ((rc = zip_find_members(&zr, max_entries, e)) != 0 ||
        (rc = zip_check_declared(&zr, e)) != 0 ||
        (rc = side_read(&zr, M_PRJ, &prj, &prj_len, e)) != 0 ||
        (rc = side_read(&zr, M_CPG, &cpg, &cpg_len, e)) != 0 ||
        (rc = shp_prj_identify(prj, prj_len, crs, crs_known, e)) != 0 ||
        (rc = shp_encoding_resolve(cpg, cpg_len, encoding, enc, e)) != 0 ||
        (rc = tmpdir_make(&t, e)) != 0 || (rc = members_extract(&zr, &t, e)) != 0)
        goto out;
    tmpdir_file(&t, M_SHP, shp, sizeof shp);
    tmpdir_file(&t, M_DBF, dbf, sizeof dbf);
    rc = shp_read_files(shp, dbf, enc, max_features, fc, e);
out:
    if (rc)
        *crs_known = 0;
    tmpdir_remove(&t);
    free(prj);
    free(cpg);
    free(zr.chunk);
    zip_discard(zr.z);
    return rc;
}
