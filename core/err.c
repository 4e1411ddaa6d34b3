/* err: formatting of error values. */
#include "err.h"

#include <stdio.h>
#include <string.h>

int err_setv(struct err *e, int code, const char *fmt, va_list ap)
{
    if (e) {
        e->code = code;
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    }
    return code;
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_setv(e, code, fmt, ap);
    va_end(ap);
    return code;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
    char pre[128], joined[ERR_MSG_MAX + sizeof pre + 2];
    va_list ap;
    if (!e)
        return ERR_INTERNAL;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    snprintf(joined, sizeof joined, "%s: %s", pre, e->msg);
    memcpy(e->msg, joined, sizeof e->msg - 1);
    e->msg[sizeof e->msg - 1] = '\0';
    return e->code;
}

void err_clear(struct err *e)
{
    if (e) {
        e->code = ERR_OK;
        e->msg[0] = '\0';
    }
}

const char *err_code_name(int code)
{
    switch (code) {
    case ERR_OK: return "OK";
    case ERR_PARAM: return "InvalidParameterValue";
    case ERR_BAD_REQUEST: return "BadRequest";
    case ERR_UNAUTHORIZED: return "Unauthorized";
    case ERR_FORBIDDEN: return "Forbidden";
    case ERR_NOT_FOUND: return "NotFound";
    case ERR_METHOD: return "MethodNotAllowed";
    case ERR_NOT_ACCEPTABLE: return "NotAcceptable";
    case ERR_CONFLICT: return "Conflict";
    case ERR_PRECONDITION: return "PreconditionFailed";
    case ERR_TOO_LARGE: return "PayloadTooLarge";
    case ERR_URI_TOO_LONG: return "URITooLong";
    case ERR_MEDIA_TYPE: return "UnsupportedMediaType";
    case ERR_INVALID: return "InvalidData";
    case ERR_UNAVAILABLE: return "ServiceUnavailable";
    case ERR_IO: return "IOError";
    case ERR_HEADERS_TOO_LARGE: return "RequestHeaderFieldsTooLarge";
    case ERR_TIMEOUT: return "RequestTimeout";
    case ERR_GONE: return "ClientClosedRequest";
    default: return "InternalError";
    }
}
