/* shapefile_disk: a Shapefile read in place from disk — the .shp a user
 * names and the sidecar files beside it (.shx, .dbf required; .prj, .cpg
 * optional; extensions in either case). The reading itself (shapes, DBF
 * text, .prj and code pages) is shapefile.c's. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "shapefile_int.h"

/* ---- a Shapefile on disk ------------------------------------------------- */

/* The member of the Shapefile shp with extension ext ("shx"...), beside it:
 * the stem with ext in the case of shp's own extension first, then the other
 * case. 0 and out set when it exists; 1 when it does not (out holds the name
 * in shp's case, for a message). */
static int sidecar_find(const char *shp, const char *ext, char *out, size_t cap)
{
    size_t stem = strlen(shp) - 3;
    int upper = isupper((unsigned char)shp[stem]);
    for (int pass = 0; pass < 2; pass++) {
        int up = pass ? !upper : upper;
        if (stem + 4 > cap)
            return 1;
        memcpy(out, shp, stem);
        for (int i = 0; i < 3; i++)
            out[stem + i] = (char)(up ? toupper((unsigned char)ext[i]) : ext[i]);
        out[stem + 3] = '\0';
        if (access(out, F_OK) == 0)
            return 0;
    }
    for (int i = 0; i < 3; i++)
        out[stem + i] = (char)(upper ? toupper((unsigned char)ext[i]) : ext[i]);
    return 1;
}

/* Reads an optional small sidecar (.prj, .cpg) into a new NUL-terminated
 * string; *out stays NULL when there is none. */
static int sidecar_read(const char *shp, const char *ext, char **out, size_t *len, struct err *e)
{
    char path[PATH_MAX], q[SHOW_MAX + 1];
    FILE *f;
    *out = NULL;
    *len = 0;
    if (sidecar_find(shp, ext, path, sizeof path))
        return 0;
    if (!(f = fopen(path, "rb")))
        return err_set(e, ERR_INVALID, "%s: %s", shp_show(q, sizeof q, path, strlen(path)),
                       strerror(errno));
    if (!(*out = malloc(SIDE_MAX + 1))) {
        fclose(f);
        return shp_oom(e);
    }
    *len = fread(*out, 1, SIDE_MAX + 1, f);
    fclose(f);
    (*out)[*len <= SIDE_MAX ? *len : SIDE_MAX] = '\0';
    if (*len > SIDE_MAX)
        return err_set(e, ERR_INVALID, "%s is larger than %d bytes",
                       shp_show(q, sizeof q, path, strlen(path)), SIDE_MAX);
    return 0;
}

static int sidecar_missing(const char *name, struct err *e)
{
    char q[SHOW_MAX + 1];
    return err_set(e, ERR_INVALID,
                   "'%s' is missing (a Shapefile needs .shp, .shx and .dbf side by side)",
                   shp_show(q, sizeof q, name, strlen(name)));
}

int shapefile_path_read(const char *path, const char *encoding,
                        const struct shapefile_limits *lim, json_t **fc, int *crs, int *crs_known,
                        struct err *e)
{
    char *prj = NULL, *cpg = NULL, enc[ENC_MAX], shx[PATH_MAX], dbf[PATH_MAX], q[SHOW_MAX + 1];
    size_t prj_len = 0, cpg_len = 0, n = strlen(path);
    size_t max_features = lim && lim->max_features ? lim->max_features : DEFAULT_MAX_FEATURES;
    int rc;
    *fc = NULL;
    *crs_known = 0;
    if ((rc = shapefile_encoding_check(encoding, e)) != 0)
        return rc;
    if (n < 4 || strcasecmp(path + n - 4, ".shp") != 0)
        return err_set(e, ERR_PARAM, "%s: not a .shp file", shp_show(q, sizeof q, path, n));
    if (access(path, R_OK) != 0)
        return err_set(e, ERR_NOT_FOUND, "%s: %s", shp_show(q, sizeof q, path, n), strerror(errno));
    if (sidecar_find(path, "shx", shx, sizeof shx))
        return sidecar_missing(shx, e);
    if (sidecar_find(path, "dbf", dbf, sizeof dbf))
        return sidecar_missing(dbf, e);
    if ((rc = sidecar_read(path, "prj", &prj, &prj_len, e)) != 0 ||
        (rc = sidecar_read(path, "cpg", &cpg, &cpg_len, e)) != 0 ||
        (rc = shp_prj_identify(prj, prj_len, crs, crs_known, e)) != 0 ||
        (rc = shp_encoding_resolve(cpg, cpg_len, encoding, enc, e)) != 0)
        goto out;
    rc = shp_read_files(path, dbf, enc, max_features, fc, e);
out:
    if (rc)
        *crs_known = 0;
    free(prj);
    free(cpg);
    return rc;
}
