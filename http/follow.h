/* follow: a server's thread that follows the writes of the other servers on
 * the same database (store_listen), dropping the cached tiles each one
 * touched, so that a tile is never served stale after a write through any
 * server. Nothing to follow on a backend without other writers (SQLite). */
#ifndef ONEMAP_FOLLOW_H
#define ONEMAP_FOLLOW_H

#include "req.h"

struct follow;

/* Starts following for app (its layers and tile cache); NULL when there is
 * nothing to follow or it cannot start (then said on stderr). */
struct follow *follow_start(struct app *app);
void follow_stop(struct follow *f);
/* Takes in every notification of a write committed before the call (one
 * round trip to the database, shared by the requests that arrive
 * meanwhile), so that a cached tile a request is about to serve has seen
 * every write acknowledged before it, by any server. 0 when it has (or
 * there is nothing to follow); -1 when that cannot be known now (the
 * connection is down or stuck): the cache is not to be trusted. */
int follow_sync(struct follow *f);
/* This server committed a write: with replicas, no tile read from one is
 * kept until the primary's position past it is known. */
void follow_wrote(struct follow *f);

#endif
