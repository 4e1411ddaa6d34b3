/* buf: a growable byte buffer for building responses and SQL.
 * The buffer owns its data; buf_clear frees it, buf_steal hands it over. */
#ifndef ONEMAP_BUF_H
#define ONEMAP_BUF_H

#include <stddef.h>

struct buf {
    char *data; /* always NUL-terminated once anything was appended */
    size_t len;
    size_t cap;
    int oom;    /* set when an allocation failed; later appends are no-ops */
};

void buf_init(struct buf *b);
void buf_clear(struct buf *b);
void buf_reset(struct buf *b); /* len = 0, keeps the allocation */
/* Returns the data (caller frees) and leaves b empty. Never NULL unless oom. */
char *buf_steal(struct buf *b);

void buf_append(struct buf *b, const void *p, size_t n);
/* Room for n more bytes (and the NUL) at data + len, for writing in place
 * and then adding to len (keeping data[len] = '\0'); -1 when out of memory. */
int buf_reserve(struct buf *b, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal with quotes, escaping as RFC 8259 asks;
 * bytes that are not well-formed UTF-8 are written as \ufffd, so the output
 * is valid JSON whatever s holds. */
void buf_put_json_str(struct buf *b, const char *s);
void buf_put_json_strn(struct buf *b, const char *s, size_t n);
/* Appends a number: the shortest of %.{prec}f with trailing zeros removed;
 * non-finite values are written as null. */
void buf_put_num(struct buf *b, double v, int prec);
/* The same number written at dst (room for BUF_NUM_ROOM bytes) without
 * snprintf, digit for digit what buf_put_num writes; returns its length,
 * or 0 when it cannot (a value near a rounding tie, too large, not finite,
 * prec outside 0..15): buf_put_num then. */
#define BUF_NUM_ROOM 64
size_t buf_fmt_num(char *dst, double v, int prec);
/* Appends an integer in decimal (what %lld writes), without printf. */
void buf_put_ll(struct buf *b, long long v);
/* Appends a double so that it reads back exactly (%.17g trimmed). */
void buf_put_double(struct buf *b, double v);
/* Escapes for HTML text and attribute values. */
void buf_put_html(struct buf *b, const char *s);

#endif
