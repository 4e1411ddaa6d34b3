/* cancel: a request's deadline and its cancellation when its client goes,
 * as long-running core work checks them (between SQLite steps, between
 * features). One per request, owned by whoever runs it (the server's worker);
 * the store and the ctx borrow it while the request runs. */
#ifndef ONEMAP_CANCEL_H
#define ONEMAP_CANCEL_H

#include <time.h>

#include "err.h"

enum cancel_why { CANCEL_NO = 0, CANCEL_TIMEOUT, CANCEL_GONE };

struct cancel {
    struct timespec deadline; /* CLOCK_MONOTONIC; tv_sec 0: none */
    double limit_s;           /* the limit, for the message */
    /* Whether the client is still there (1) or has gone (0); NULL: never
     * asked. Asked at most every CANCEL_POLL_MS. */
    int (*alive)(void *arg);
    void *arg;
    struct timespec polled;   /* when alive() was last asked */
    int why;                  /* enum cancel_why, sticky once set */
};

#define CANCEL_POLL_MS 50

/* Starts c: a deadline limit_s seconds from now (0: none), and the client
 * check (may be NULL). */
void cancel_start(struct cancel *c, double limit_s, int (*alive)(void *arg), void *arg);

/* Non-zero (the enum cancel_why) once the deadline has passed or the client
 * has gone. Cheap enough to call per feature or per thousand SQLite steps.
 * c may be NULL (never cancelled). */
int cancel_check(struct cancel *c);

/* Fills e for a cancelled c: ERR_TIMEOUT naming the limit, or ERR_GONE.
 * Returns the code. */
int cancel_err(const struct cancel *c, struct err *e);

#endif
