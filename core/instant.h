/* instant: points in time as onemap stores them — UTC text with
 * milliseconds, "2026-11-26T04:30:41.123Z", which sorts as the times do. */
#ifndef ONEMAP_INSTANT_H
#define ONEMAP_INSTANT_H

#include <stddef.h>

#include "err.h"

#define INSTANT_LEN 32 /* room for one, with its terminating NUL */

/* Now. */
void instant_now(char out[INSTANT_LEN]);

/* An RFC 3339 date-time ("2019-12-31T23:59:59Z", "2020-01-01T08:00:00+08:00",
 * fractions of a second allowed, 't'/'z' and a space for 'T' too) as the
 * stored form in out (fractions beyond the millisecond cut). what names it
 * in the error (ERR_PARAM): "asof", say. */
int instant_parse(const char *text, char out[INSTANT_LEN], const char *what, struct err *e);

/* Seconds since 1970 of a stored instant (as instant_parse writes it). */
double instant_seconds(const char *stored);

#endif
