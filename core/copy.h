/* copy: a whole database into an empty one, from either backend to either
 * (onemap copy SRC DST): the schema, every feature with its id and version,
 * the whole history and the tokens, in one transaction on DST, checked by
 * counting at the end. */
#ifndef ONEMAP_COPY_H
#define ONEMAP_COPY_H

#include "err.h"
#include "store.h"

struct copy_report {
    long long features, history, tokens;
};

/* dst must be a new database (not initialised: ERR_CONFLICT otherwise).
 * How far it has got goes to p (NULL: nowhere). */
struct progress;
int copy_database(store *src, store *dst, struct progress *p, struct copy_report *r,
                  struct err *e);

#endif
