/* cancel: deadlines and client departure, checked by long work. The clock is
 * CLOCK_MONOTONIC_COARSE (a few ns to read, a few ms coarse: far finer than
 * any limit given in seconds). */
#include "cancel.h"

#include <stddef.h>

static void now(struct timespec *t)
{
    clock_gettime(CLOCK_MONOTONIC_COARSE, t);
}

static long long ms_between(const struct timespec *a, const struct timespec *b)
{
    return (b->tv_sec - a->tv_sec) * 1000LL + (b->tv_nsec - a->tv_nsec) / 1000000;
}

void cancel_start(struct cancel *c, double limit_s, int (*alive)(void *arg), void *arg)
{
    struct timespec t;
    now(&t);
    c->deadline.tv_sec = 0;
    c->deadline.tv_nsec = 0;
    c->limit_s = limit_s;
    if (limit_s > 0) {
        long long ns = t.tv_nsec + (long long)((limit_s - (long long)limit_s) * 1e9);
        c->deadline.tv_sec = t.tv_sec + (time_t)limit_s + (time_t)(ns / 1000000000);
        c->deadline.tv_nsec = (long)(ns % 1000000000);
    }
    c->alive = alive;
    c->arg = arg;
    c->polled = t;
    c->why = CANCEL_NO;
}

int cancel_check(struct cancel *c)
{
    struct timespec t;
    if (!c)
        return CANCEL_NO;
    if (c->why)
        return c->why;
    now(&t);
    if (c->deadline.tv_sec && ms_between(&c->deadline, &t) >= 0)
        return c->why = CANCEL_TIMEOUT;
    if (c->alive && ms_between(&c->polled, &t) >= CANCEL_POLL_MS) {
        c->polled = t;
        if (!c->alive(c->arg))
            return c->why = CANCEL_GONE;
    }
    return CANCEL_NO;
}

int cancel_err(const struct cancel *c, struct err *e)
{
    if (c && c->why == CANCEL_GONE)
        return err_set(e, ERR_GONE, "the client closed its connection; the request was cancelled");
    return err_set(e, ERR_TIMEOUT,
                   "request-timeout: the request took longer than the limit of %g s; "
                   "nothing was written (try a smaller area or page, or again later)",
                   c ? c->limit_s : 0.0);
}
