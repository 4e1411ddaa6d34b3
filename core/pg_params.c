/* pg_params: the parameters of a PostgreSQL statement, each with its type:
 * numbers as text (kept in one buffer), text as it is, bytea in binary. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

void pg_params_init(struct pg_params *p)
{
    memset(p, 0, sizeof *p);
    buf_init(&p->text);
}

void pg_params_clear(struct pg_params *p)
{
    free(p->types);
    free(p->vals);
    free(p->lens);
    free(p->fmts);
    free(p->offs);
    buf_clear(&p->text);
    memset(p, 0, sizeof *p);
}

static int param_add(struct pg_params *p, Oid type, const char *val, int len, int fmt, size_t off)
{
    if (p->oom)
        return -1;
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 16;
        Oid *t = realloc(p->types, cap * sizeof *t);
        const char **v = t ? realloc(p->vals, cap * sizeof *v) : NULL;
        int *l = v ? realloc(p->lens, cap * sizeof *l) : NULL;
        int *f = l ? realloc(p->fmts, cap * sizeof *f) : NULL;
        size_t *o = f ? realloc(p->offs, cap * sizeof *o) : NULL;
        if (t)
            p->types = t;
        if (v)
            p->vals = v;
        if (l)
            p->lens = l;
        if (f)
            p->fmts = f;
        if (!o) {
            p->oom = 1;
            return -1;
        }
        p->offs = o;
        p->cap = cap;
    }
    p->types[p->n] = type;
    p->vals[p->n] = val;
    p->lens[p->n] = len;
    p->fmts[p->n] = fmt;
    p->offs[p->n] = off;
    p->n++;
    return 0;
}

static void param_number(struct pg_params *p, Oid type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void param_number(struct pg_params *p, Oid type, const char *fmt, ...)
{
    char num[64];
    va_list ap;
    size_t off = p->text.len;
    va_start(ap, fmt);
    vsnprintf(num, sizeof num, fmt, ap);
    va_end(ap);
    buf_append(&p->text, num, strlen(num) + 1);
    if (p->text.oom)
        p->oom = 1;
    param_add(p, type, NULL, 0, 0, off);
}

void pg_param_ll(struct pg_params *p, long long v)
{
    param_number(p, PG_INT8, "%lld", v);
}

void pg_param_double(struct pg_params *p, double v)
{
    param_number(p, PG_FLOAT8, "%.17g", v);
}

void pg_param_text(struct pg_params *p, const char *s)
{
    param_add(p, PG_TEXT, s, 0, 0, (size_t)-1);
}

void pg_param_bytea(struct pg_params *p, const void *data, size_t len)
{
    param_add(p, PG_BYTEA, data, (int)len, 1, (size_t)-1);
}

void pg_param_value(struct pg_params *p, const struct value *v)
{
    switch (v->type) {
    case VAL_INT:
        pg_param_ll(p, v->i);
        break;
    case VAL_REAL:
        pg_param_double(p, v->d);
        break;
    case VAL_TEXT:
        pg_param_text(p, v->s);
        break;
    default:
        param_add(p, 0, NULL, 0, 0, (size_t)-1);
    }
}

void pg_param_bind(struct pg_params *p, const struct store_bind *b)
{
    struct value v = {.type = b->type == BIND_INT    ? VAL_INT
                              : b->type == BIND_REAL ? VAL_REAL
                              : b->type == BIND_TEXT ? VAL_TEXT
                                                     : VAL_NULL,
                      .i = b->i,
                      .d = b->d,
                      .s = b->s};
    if (b->type == BIND_BLOB)
        pg_param_bytea(p, b->blob, b->len);
    else
        pg_param_value(p, &v);
}

void pg_params_fix(struct pg_params *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->offs[i] != (size_t)-1)
            p->vals[i] = p->text.data + p->offs[i];
}
