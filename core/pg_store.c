/* pg_store: the store's PostgreSQL + PostGIS backend. */
#include "pg.h"

int pg_open(const char *url, int flags, store **out, struct err *e)
{
    (void)flags;
    *out = NULL;
    return err_set(e, ERR_UNAVAILABLE, "%s: PostgreSQL is not supported yet", url);
}
