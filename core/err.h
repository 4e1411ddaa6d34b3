/* err: the error value every fallible core and http function fills in.
 * Owns nothing; a struct err lives in the caller's storage. */
#ifndef ONEMAP_ERR_H
#define ONEMAP_ERR_H

#include <stdarg.h>

/* Error codes: negative, named by meaning. http/problem.c maps each to one
 * HTTP status and one OGC exception code. */
enum err_code {
    ERR_OK = 0,
    ERR_PARAM = -1,              /* 400 InvalidParameterValue: a query parameter */
    ERR_BAD_REQUEST = -2,        /* 400 BadRequest: unparsable body, bad header */
    ERR_UNAUTHORIZED = -3,       /* 401 */
    ERR_FORBIDDEN = -4,          /* 403 */
    ERR_NOT_FOUND = -5,          /* 404 */
    ERR_METHOD = -6,             /* 405 */
    ERR_NOT_ACCEPTABLE = -7,     /* 406 */
    ERR_CONFLICT = -8,           /* 409 */
    ERR_PRECONDITION = -9,       /* 412 */
    ERR_TOO_LARGE = -10,         /* 413 */
    ERR_URI_TOO_LONG = -11,      /* 414 */
    ERR_MEDIA_TYPE = -12,        /* 415 */
    ERR_INVALID = -13,           /* 422: invalid geometry or attributes */
    ERR_INTERNAL = -14,          /* 500: a failing environment, never bad input */
    ERR_UNAVAILABLE = -15,       /* 503: database busy, read-only or full */
    ERR_IO = -16,                /* file could not be read or written (CLI) */
    ERR_HEADERS_TOO_LARGE = -17, /* 431 */
    ERR_TIMEOUT = -18,           /* 503: past the request's deadline (serve --request-timeout) */
    ERR_GONE = -19,              /* the client went away: nobody to answer (logged as 499) */
    ERR_AGAIN = -20              /* a read begun solo needs more than one statement: to be run
                                  * again in one transaction (store_read_again); never answered */
};

#define ERR_MSG_MAX 512

struct err {
    int code;
    char msg[ERR_MSG_MAX];
};

/* Sets code and a printf-formatted message; returns code so callers can
 * write `return err_set(e, ERR_PARAM, "bbox: ...");`. e may be NULL. */
int err_set(struct err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int err_setv(struct err *e, int code, const char *fmt, va_list ap);

/* Prefixes the existing message with "prefix: " (e.g. "features[3]"). */
int err_prefix(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void err_clear(struct err *e);

/* Short stable name of a code, e.g. "InvalidParameterValue". */
const char *err_code_name(int code);

#endif
