/* problem: error codes to HTTP. Handlers never write error bodies. */
#include "problem.h"

int problem_status(int code)
{
    switch (code) {
    case ERR_PARAM:
    case ERR_BAD_REQUEST: return 400;
    case ERR_UNAUTHORIZED: return 401;
    case ERR_FORBIDDEN: return 403;
    case ERR_NOT_FOUND: return 404;
    case ERR_METHOD: return 405;
    case ERR_NOT_ACCEPTABLE: return 406;
    case ERR_CONFLICT: return 409;
    case ERR_PRECONDITION: return 412;
    case ERR_TOO_LARGE: return 413;
    case ERR_URI_TOO_LONG: return 414;
    case ERR_MEDIA_TYPE: return 415;
    case ERR_HEADERS_TOO_LARGE: return 431;
    case ERR_INVALID: return 422;
    case ERR_UNAVAILABLE:
    case ERR_TIMEOUT: return 503;
    case ERR_GONE: return 499; /* nginx's code: never sent, only logged */
    default: return 500;
    }
}

void problem_respond(struct res *s, const struct err *e)
{
    s->status = problem_status(e->code);
    s->content_type = "application/problem+json";
    buf_reset(&s->body);
    buf_puts(&s->body, "{\"code\":");
    buf_put_json_str(&s->body, err_code_name(e->code));
    buf_puts(&s->body, ",\"description\":");
    buf_put_json_str(&s->body, e->msg[0] ? e->msg : err_code_name(e->code));
    buf_printf(&s->body, ",\"status\":%d", s->status);
    if (s->problem_members.len && !s->problem_members.oom) {
        buf_putc(&s->body, ',');
        buf_append(&s->body, s->problem_members.data, s->problem_members.len);
    }
    buf_putc(&s->body, '}');
    if (e->code == ERR_UNAUTHORIZED)
        res_header(s, "WWW-Authenticate", "Bearer realm=\"onemap\"");
    if (e->code == ERR_UNAVAILABLE || e->code == ERR_TIMEOUT)
        res_header(s, "Retry-After", "5");
}
