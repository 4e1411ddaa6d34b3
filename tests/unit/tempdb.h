/* tempdb: a test's temporary database and its removal. A SQLite file in a
 * new folder under /tmp; or, when ONEMAP_TEST_PG names the state folder of
 * a cluster that tests/pg/cluster started (and ONEMAP_TEST_CLUSTER that
 * script), a new PostgreSQL database of that cluster, so that a suite
 * written against the store's interface runs on both backends. For the
 * unit suites. */
#ifndef ONEMAP_TEST_TEMPDB_H
#define ONEMAP_TEST_TEMPDB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline int tempdb_on_pg(void)
{
    return getenv("ONEMAP_TEST_PG") && getenv("ONEMAP_TEST_CLUSTER");
}

/* Runs the cluster script with a command and a database name; its first
 * line of output into out (when out). 0 on success. */
static inline int tempdb_cluster(const char *cmd, const char *name, char *out, size_t n)
{
    char line[1024];
    FILE *p;
    int rc;
    snprintf(line, sizeof line, "'%s' %s '%s' '%s' 2>&1", getenv("ONEMAP_TEST_CLUSTER"), cmd,
             getenv("ONEMAP_TEST_PG"), name);
    if (!(p = popen(line, "r")))
        return -1;
    if (!fgets(line, sizeof line, p))
        line[0] = 0;
    while (fgetc(p) != EOF)
        ;
    rc = pclose(p);
    line[strcspn(line, "\n")] = 0;
    if (rc)
        fprintf(stderr, "tests/pg/cluster %s %s: %s\n", cmd, name, line);
    else if (out)
        snprintf(out, n, "%s", line);
    return rc;
}

/* A new database: its path or URL in path; dir (64 bytes) gets the folder
 * made for a file, or the PostgreSQL database's name. 0 on success. */
static inline int tempdb_new(char *path, size_t n, char *dir)
{
    static int made;
    if (tempdb_on_pg()) {
        snprintf(dir, 64, "u_%ld_%d", (long)getpid(), made++);
        return tempdb_cluster("newdb", dir, path, n);
    }
    strcpy(dir, "/tmp/onemap_test_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, n, "%s/t.db", dir);
    return 0;
}

/* Removes what tempdb_new made (a file with its -wal and -shm and the
 * folder; or the PostgreSQL database). */
static inline void tempdb_remove(const char *path, const char *dir)
{
    char p[4096];
    if (strstr(path, "://")) {
        tempdb_cluster("dropdb", dir, NULL, 0);
        return;
    }
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    rmdir(dir);
}

#endif
