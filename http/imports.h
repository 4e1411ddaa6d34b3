/* imports: the server's uploads while they run. Each import reports its
 * progress (progress.h) to a slot here, so that
 *  - its client can ask how far it has got (GET /imports/{id}, the id the
 *    client gave as progress_id= with its POST, asked with the same token),
 *  - one that takes long writes its progress into the access log's JSON
 *    stream every few seconds.
 * Slots are kept a minute after the import ends, so that a last look sees
 * how it ended. Locks itself; shared by every worker. */
#ifndef ONEMAP_IMPORTS_H
#define ONEMAP_IMPORTS_H

#include "err.h"
#include "progress.h"
#include "req.h"

struct imports;
struct import_run;

/* Starts the registry and its logging thread; NULL when out of memory (then
 * imports still run, unwatched). */
struct imports *imports_new(void);
void imports_free(struct imports *im);

/* An import of collection starts for token who: id is the client's
 * progress_id ("" or NULL: none to ask by); auth the request's Authorization
 * header, which a look must repeat. *run is NULL (and 0 returned) when no
 * slot is free: the import runs unwatched. ERR_PARAM for a malformed id,
 * ERR_CONFLICT for one that a running import already has. */
int imports_begin(struct imports *im, const char *id, const char *collection, const char *who,
                  const char *auth, int dry_run, struct import_run **run, struct err *e);

/* Where the import reports its progress (NULL for a NULL run). */
struct progress *imports_progress(struct import_run *run);

/* It has ended: rc 0 (done), or the error that stopped it (e describes it). */
void imports_end(struct imports *im, struct import_run *run, int rc, const struct err *e);

/* GET /imports/{id} */
int h_import_progress(struct req *r, struct res *s, struct err *e);

#endif
