/* req: looking up a request's headers and query parameters and filling in
 * the response's headers. Plain functions over struct req / struct res: no
 * network, so that tests/fuzz can drive a request without one. */
#include "req.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *req_header(const struct req *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (!strcasecmp(r->headers[i].key, name))
            return r->headers[i].value;
    return NULL;
}

const char *req_param(struct req *r, const char *key)
{
    for (size_t i = 0; i < r->n_params; i++)
        if (!strcmp(r->params[i].key, key)) {
            r->params[i].used = 1;
            return r->params[i].value;
        }
    return NULL;
}

int req_check_unused(struct req *r, struct err *e)
{
    for (size_t i = 0; i < r->n_params; i++) {
        if (r->params[i].used)
            continue;
        for (size_t k = 0; k < i; k++)
            if (!strcmp(r->params[k].key, r->params[i].key))
                return err_set(e, ERR_PARAM, "%s: given more than once", r->params[i].key);
        return err_set(e, ERR_PARAM, "%s: unknown query parameter", r->params[i].key);
    }
    return 0;
}

size_t req_url_len(const struct req *r)
{
    size_t n = strlen(r->path);
    for (size_t i = 0; i < r->n_params; i++)
        n += strlen(r->params[i].key) + strlen(r->params[i].value) + 2;
    return n;
}

void res_header(struct res *s, const char *name, const char *value)
{
    char *n, *v;
    if (s->n_headers == RES_MAX_HEADERS)
        return;
    n = strdup(name);
    v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return;
    }
    s->headers[s->n_headers][0] = n;
    s->headers[s->n_headers][1] = v;
    s->n_headers++;
}

const char *res_header_get(const struct res *s, const char *name)
{
    for (size_t i = 0; i < s->n_headers; i++)
        if (!strcasecmp(s->headers[i][0], name))
            return s->headers[i][1];
    return NULL;
}

void res_clear(struct res *s)
{
    buf_clear(&s->body);
    buf_clear(&s->problem_members);
    for (size_t i = 0; i < s->n_headers; i++) {
        free(s->headers[i][0]);
        free(s->headers[i][1]);
    }
    s->n_headers = 0;
}
