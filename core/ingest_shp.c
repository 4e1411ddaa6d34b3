/* ingest_shp: zipped Shapefile imports (placeholder until the reader lands). */
#include "ingest.h"

int ingest_shapefile_zip(ctx *c, store *s, const struct layer *l, const void *zip, size_t len,
                         const char *encoding, const struct ingest_opts *o,
                         struct ingest_report *r, struct err *e)
{
    (void)c, (void)s, (void)l, (void)zip, (void)len, (void)encoding, (void)o, (void)r;
    return err_set(e, ERR_MEDIA_TYPE, "Content-Type: zipped Shapefiles are not read yet");
}
