/* tempdb: removing a test's temporary SQLite database (the file, its -wal
 * and -shm) and the folder made for it. For the unit suites. */
#ifndef ONEMAP_TEST_TEMPDB_H
#define ONEMAP_TEST_TEMPDB_H

#include <stdio.h>
#include <unistd.h>

static inline void tempdb_remove(const char *path, const char *dir)
{
    char p[4096];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    rmdir(dir);
}

#endif
