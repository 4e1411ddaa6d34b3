/* shapefile_int: what shapefile.c (zips, and the reading itself) and
 * shapefile_disk.c (a .shp on disk) share. Internal to the shapefile module. */
#ifndef ONEMAP_SHAPEFILE_INT_H
#define ONEMAP_SHAPEFILE_INT_H

#include <stddef.h>

#include "shapefile.h"

#define DEFAULT_MAX_FEATURES 100000
#define SIDE_MAX 65536 /* a .prj or .cpg: a few hundred bytes in practice */
#define SHOW_MAX 80    /* bytes of an outside name or value quoted in a message */
#define ENC_MAX 32

/* ERR_INTERNAL "out of memory". */
int shp_oom(struct err *e);
/* s[0..n) quoted for a message: at most SHOW_MAX bytes, cut at a character. */
const char *shp_show(char *out, size_t cap, const char *s, size_t n);
/* The DBF text encoding: the .cpg's, else param's (checked), else GBK. */
int shp_encoding_resolve(const char *cpg, size_t cpg_len, const char *param, char *out,
                     struct err *e);
/* The CRS a .prj names (nothing for an empty one). */
int shp_prj_identify(const char *prj, size_t len, int *crs, int *crs_known, struct err *e);
/* The Shapefile shp (its .shx beside it) and dbf as a new FeatureCollection. */
int shp_read_files(const char *shp, const char *dbf, const char *enc, size_t max_features,
                   json_t **fc, struct err *e);

#endif
