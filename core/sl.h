/* sl: the store's SQLite + SpatiaLite backend, on a database file. */
#ifndef ONEMAP_SL_H
#define ONEMAP_SL_H

#include "store.h"

int sl_open(const char *path, int flags, store **out, struct err *e);
void sl_set_memory(long cache_mib, long mmap_mib);

#endif
