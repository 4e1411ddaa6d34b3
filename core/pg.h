/* pg: the store's PostgreSQL + PostGIS backend, on a libpq URL
 * (postgresql://user:password@host:port/database, and the PG* variables). */
#ifndef ONEMAP_PG_H
#define ONEMAP_PG_H

#include "store.h"

int pg_open(const char *url, int flags, store **out, struct err *e);

#endif
