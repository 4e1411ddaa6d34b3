/* cql2: a recursive-descent parser of CQL2 text. It owns the lexer and the
 * node tree; it does not decide whether a property exists or whether a
 * literal fits its field (store_filter.c does, against the layer schema).
 * Supported: comparisons, LIKE, IN, BETWEEN, IS [NOT] NULL, AND/OR/NOT,
 * the eight S_* spatial functions with WKT and BBOX literals, DATE and
 * TIMESTAMP literals. Positions in messages count characters from 1. */
#include "cql2.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

enum tok { T_END, T_WORD, T_QNAME, T_STRING, T_NUMBER, T_LP, T_RP, T_COMMA, T_OP };

struct token {
    enum tok t;
    size_t off, len; /* span in the text (quotes included) */
    int op;          /* T_OP: enum cql2_cmp */
};

struct parser {
    const char *s;
    size_t n;
    size_t at;       /* lexer position (bytes) */
    struct token tk; /* the current token */
    int depth;
    struct err *e;
    size_t pos_off; /* character position cache: byte offset ... */
    int pos_chars;  /* ... and the characters before it */
};

static const char *const CMP_NAMES[] = {"=", "<>", "<", ">", "<=", ">="};
static const char *const SPATIAL_NAMES[] = {"S_INTERSECTS", "S_EQUALS",  "S_DISJOINT",
                                            "S_TOUCHES",    "S_WITHIN",  "S_OVERLAPS",
                                            "S_CROSSES",    "S_CONTAINS"};
static const char *const GEOM_NAMES[] = {
    "POINT",           "LINESTRING",   "POLYGON",           "MULTIPOINT",
    "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION"};
static const char *const RESERVED[] = {"AND", "OR", "NOT", "LIKE", "IN", "BETWEEN", "IS", "NULL"};

#define COUNT(a) (sizeof(a) / sizeof *(a))

const char *cql2_cmp_name(int op)
{
    return op >= 0 && op < (int)COUNT(CMP_NAMES) ? CMP_NAMES[op] : "?";
}

const char *cql2_spatial_name(int op)
{
    return op >= 0 && op < (int)COUNT(SPATIAL_NAMES) ? SPATIAL_NAMES[op] : "?";
}

const char *cql2_geom_name(int op)
{
    return op >= 0 && op < (int)COUNT(GEOM_NAMES) ? GEOM_NAMES[op] : "?";
}

/* ---- positions and errors ---------------------------------------------- */

/* 1-based character position of byte offset off (UTF-8 aware). */
static int char_pos(struct parser *p, size_t off)
{
    if (off < p->pos_off) {
        p->pos_off = 0;
        p->pos_chars = 0;
    }
    for (; p->pos_off < off && p->pos_off < p->n; p->pos_off++)
        if (((unsigned char)p->s[p->pos_off] & 0xC0) != 0x80)
            p->pos_chars++;
    return p->pos_chars + 1;
}

static int error_atv(struct err *e, int pos, const char *fmt, va_list ap)
{
    char msg[400];
    vsnprintf(msg, sizeof msg, fmt, ap);
    return err_set(e, ERR_PARAM, "filter: %s at character %d", msg, pos);
}

int cql2_error_at(struct err *e, int pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = error_atv(e, pos, fmt, ap);
    va_end(ap);
    return rc;
}

/* An error at byte offset off of the text. */
static int fail(struct parser *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = error_atv(p->e, char_pos(p, off), fmt, ap);
    va_end(ap);
    return rc;
}

/* Length of s[0..len) cut to at most max bytes without splitting a UTF-8
 * sequence, for quoting input in messages. */
static int clip(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return (int)len;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return (int)max;
}

/* Byte offset of the first byte that does not start a valid UTF-8 sequence
 * (no overlong forms, surrogates or values past U+10FFFF); n when valid. */
static size_t utf8_check(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned cp, min, c = s[i];
        size_t len;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            len = 2, min = 0x80, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0)
            len = 3, min = 0x800, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            len = 4, min = 0x10000, cp = c & 0x07;
        else
            return i;
        if (len > n - i)
            return i;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += len;
    }
    return n;
}

/* ---- lexer -------------------------------------------------------------- */

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int ident_start(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' || c >= 0x80;
}

static int ident_part(int c)
{
    return ident_start(c) || is_digit(c) || c == '.';
}

static int lex_quoted(struct parser *p, size_t start, char q)
{
    const char *s = p->s;
    size_t i = start + 1;
    for (;;) {
        if (i >= p->n)
            return fail(p, start,
                        q == '\'' ? "unterminated string starting"
                                  : "unterminated quoted name starting");
        if (s[i] == q && q == '\'' && i + 1 < p->n && s[i + 1] == '\'') {
            i += 2;
        } else if (q == '\'' && s[i] == '\\' && i + 1 < p->n && s[i + 1] == '\'') {
            i += 2;
        } else if (s[i] == q) {
            break;
        } else {
            i++;
        }
    }
    p->tk.t = q == '\'' ? T_STRING : T_QNAME;
    p->tk.len = i + 1 - start;
    if (q == '"' && p->tk.len == 2)
        return fail(p, start, "empty property name");
    return 0;
}

static int lex_number(struct parser *p, size_t start)
{
    const unsigned char *s = (const unsigned char *)p->s;
    size_t i = start, digits = 0;
    if (s[i] == '+' || s[i] == '-')
        i++;
    for (; i < p->n && is_digit(s[i]); i++)
        digits++;
    if (i < p->n && s[i] == '.')
        for (i++; i < p->n && is_digit(s[i]); i++)
            digits++;
    if (digits && i < p->n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1, ed = 0;
        if (j < p->n && (s[j] == '+' || s[j] == '-'))
            j++;
        for (; j < p->n && is_digit(s[j]); j++)
            ed++;
        i = ed ? j : i + 1; /* "1e" is malformed: swallow the e to say so */
        if (!ed)
            digits = 0;
    }
    if (!digits || (i < p->n && ident_part(s[i]))) {
        while (i < p->n && (ident_part(s[i]) || s[i] == '+' || s[i] == '-'))
            i++;
        return fail(p, start, "malformed number '%.*s'", clip(p->s + start, i - start, 40),
                    p->s + start);
    }
    p->tk.t = T_NUMBER;
    p->tk.len = i - start;
    return 0;
}

static int lex_op(struct parser *p, size_t start)
{
    const char *s = p->s + start;
    p->tk.t = T_OP;
    p->tk.len = 1;
    if (s[0] == '=') {
        p->tk.op = CQL2_EQ;
    } else if (s[0] == '<' && s[1] == '>') {
        p->tk.op = CQL2_NE, p->tk.len = 2;
    } else if (s[1] == '=') {
        p->tk.op = s[0] == '<' ? CQL2_LE : CQL2_GE, p->tk.len = 2;
    } else {
        p->tk.op = s[0] == '<' ? CQL2_LT : CQL2_GT;
    }
    return 0;
}

/* Reads the next token into p->tk. */
static int next(struct parser *p)
{
    const unsigned char *s = (const unsigned char *)p->s;
    size_t i = p->at;
    int rc = 0;
    while (i < p->n && is_space(s[i]))
        i++;
    memset(&p->tk, 0, sizeof p->tk);
    p->tk.off = i;
    if (i >= p->n) {
        p->tk.t = T_END;
        p->at = i;
        return 0;
    }
    switch (s[i]) {
    case '(':
        p->tk.t = T_LP, p->tk.len = 1;
        break;
    case ')':
        p->tk.t = T_RP, p->tk.len = 1;
        break;
    case ',':
        p->tk.t = T_COMMA, p->tk.len = 1;
        break;
    case '\'':
    case '"':
        rc = lex_quoted(p, i, (char)s[i]);
        break;
    case '=':
    case '<':
    case '>':
        rc = lex_op(p, i);
        break;
    default:
        if (is_digit(s[i]) || s[i] == '.' ||
            ((s[i] == '-' || s[i] == '+') && i + 1 < p->n &&
             (is_digit(s[i + 1]) || s[i + 1] == '.'))) {
            rc = lex_number(p, i);
        } else if (ident_start(s[i])) {
            size_t j = i;
            while (j < p->n && ident_part(s[j]))
                j++;
            p->tk.t = T_WORD;
            p->tk.len = j - i;
        } else if (s[i] >= 0x20 && s[i] < 0x7F) {
            rc = fail(p, i, "unexpected character '%c'", s[i]);
        } else {
            rc = fail(p, i, "unexpected character 0x%02x", s[i]);
        }
    }
    if (!rc)
        p->at = i + p->tk.len;
    return rc;
}

static int is_word(const struct parser *p, const char *kw)
{
    return p->tk.t == T_WORD && strlen(kw) == p->tk.len &&
           !strncasecmp(p->s + p->tk.off, kw, p->tk.len);
}

/* Index of the current word in names (case-insensitive), or -1. */
static int word_in(const struct parser *p, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (is_word(p, names[i]))
            return (int)i;
    return -1;
}

/* Consumes a token of type t or fails with "expected <what>". */
static int expect(struct parser *p, enum tok t, const char *what)
{
    if (p->tk.t != t)
        return fail(p, p->tk.off, "expected %s", what);
    return next(p);
}

/* ---- nodes -------------------------------------------------------------- */

void cql2_free(struct cql2_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n_args; i++)
        cql2_free(n->args[i]);
    free(n->args);
    free(n->text);
    free(n);
}

static struct cql2_node *node_new(struct parser *p, enum cql2_kind kind, size_t off)
{
    struct cql2_node *n = calloc(1, sizeof *n);
    if (!n) {
        err_set(p->e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    n->kind = kind;
    n->pos = char_pos(p, off);
    return n;
}

/* Appends child to n (taking it; freed on failure). */
static int add_arg(struct parser *p, struct cql2_node *n, struct cql2_node *child)
{
    if ((n->n_args & (n->n_args - 1)) == 0) { /* 0, 1, 2, 4, 8 ...: grow */
        size_t cap = n->n_args ? n->n_args * 2 : 2;
        struct cql2_node **a = realloc(n->args, cap * sizeof *a);
        if (!a) {
            cql2_free(child);
            return err_set(p->e, ERR_INTERNAL, "out of memory");
        }
        n->args = a;
    }
    n->args[n->n_args++] = child;
    return 0;
}

/* Hands over *n, leaving NULL behind (for add_arg, which always takes). */
static struct cql2_node *take(struct cql2_node **n)
{
    struct cql2_node *t = *n;
    *n = NULL;
    return t;
}

/* ---- literals ----------------------------------------------------------- */

/* The value of the current string token, escapes resolved; caller frees. */
static char *string_value(struct parser *p)
{
    const char *s = p->s + p->tk.off + 1;
    size_t n = p->tk.len - 2, k = 0;
    char *v = malloc(n + 1);
    if (!v) {
        err_set(p->e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if ((s[i] == '\'' || s[i] == '\\') && i + 1 < n && s[i + 1] == '\'')
            i++;
        v[k++] = s[i];
    }
    v[k] = '\0';
    return v;
}

static int number_value(struct parser *p, struct cql2_node *n)
{
    char tmp[64];
    const char *s = p->s + p->tk.off;
    size_t len = p->tk.len;
    char *end;
    if (len >= sizeof tmp)
        return fail(p, p->tk.off, "number too long");
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    errno = 0;
    n->d = strtod(tmp, &end);
    if (errno == ERANGE && (n->d > 1 || n->d < -1))
        return fail(p, p->tk.off, "number out of range '%s'", tmp);
    if (!strpbrk(tmp, ".eE")) {
        errno = 0;
        n->i = strtoll(tmp, &end, 10);
        n->is_int = errno == 0;
    }
    return next(p);
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

static int two(const char *s)
{
    return (is_digit(s[0]) && is_digit(s[1])) ? (s[0] - '0') * 10 + (s[1] - '0') : -1;
}

static int valid_date(const char *s)
{
    int y, m, d;
    if (strlen(s) < 10 || !is_digit(s[0]) || !is_digit(s[1]) || s[4] != '-' || s[7] != '-')
        return 0;
    y = two(s) * 100 + two(s + 2);
    m = two(s + 5);
    d = two(s + 8);
    return y >= 0 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

static int valid_timestamp(const char *s)
{
    size_t i = 19;
    if (!valid_date(s) || strlen(s) < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return 0;
    if (two(s + 11) < 0 || two(s + 11) > 23 || two(s + 14) < 0 || two(s + 14) > 59 ||
        two(s + 17) < 0 || two(s + 17) > 60)
        return 0;
    if (s[i] == '.') {
        if (!is_digit(s[++i]))
            return 0;
        while (is_digit(s[i]))
            i++;
    }
    return s[i] == 'Z' && s[i + 1] == '\0';
}

/* DATE('...') or TIMESTAMP('...'); the keyword is the current token. */
static int parse_instant(struct parser *p, int is_date, struct cql2_node **out)
{
    struct cql2_node *n = node_new(p, is_date ? CQL2_DATE : CQL2_TIMESTAMP, p->tk.off);
    const char *kw = is_date ? "DATE" : "TIMESTAMP";
    size_t at;
    int rc;
    if (!n)
        return ERR_INTERNAL;
    if ((rc = next(p)) ||
        (rc = p->tk.t == T_LP ? next(p) : fail(p, p->tk.off, "expected '(' after %s", kw)))
        goto out;
    at = p->tk.off;
    if (p->tk.t != T_STRING) {
        rc = fail(p, at, "%s needs a quoted %s", kw,
                  is_date ? "'YYYY-MM-DD'" : "'YYYY-MM-DDTHH:MM:SSZ'");
        goto out;
    }
    if (!(n->text = string_value(p))) {
        rc = ERR_INTERNAL;
        goto out;
    }
    if (is_date ? (strlen(n->text) != 10 || !valid_date(n->text)) : !valid_timestamp(n->text)) {
        rc = fail(p, at, "'%.*s' is not a valid %s (%s)", clip(n->text, strlen(n->text), 40),
                  n->text, kw, is_date ? "YYYY-MM-DD" : "YYYY-MM-DDTHH:MM:SSZ");
        goto out;
    }
    if ((rc = next(p)) || (rc = expect(p, T_RP, "')'")))
        goto out;
    *out = n;
    return 0;
out:
    cql2_free(n);
    return rc;
}

/* ---- scalar operands ---------------------------------------------------- */

/* Takes n as the operand just read: moves past its token and hands it to
 * *out, or frees it when the next token is bad. */
static int operand_done(struct parser *p, struct cql2_node *n, struct cql2_node **out)
{
    int rc = next(p);
    if (rc)
        cql2_free(n);
    else
        *out = n;
    return rc;
}

static int parse_scalar(struct parser *p, struct cql2_node **out)
{
    struct cql2_node *n = NULL;
    size_t at = p->tk.off;
    int rc;
    *out = NULL;
    switch (p->tk.t) {
    case T_STRING:
        if (!(n = node_new(p, CQL2_STRING, at)) || !(n->text = string_value(p))) {
            cql2_free(n);
            return ERR_INTERNAL;
        }
        return operand_done(p, n, out);
    case T_NUMBER:
        if (!(n = node_new(p, CQL2_NUMBER, at)))
            return ERR_INTERNAL;
        if ((rc = number_value(p, n))) {
            cql2_free(n);
            return rc;
        }
        *out = n;
        return 0;
    case T_QNAME:
        if (!(n = node_new(p, CQL2_PROP, at)) ||
            !(n->text = strndup(p->s + at + 1, p->tk.len - 2))) {
            cql2_free(n);
            return err_set(p->e, ERR_INTERNAL, "out of memory");
        }
        return operand_done(p, n, out);
    case T_WORD:
        break;
    default:
        return fail(p, at, "expected a property or a literal");
    }
    if (is_word(p, "TRUE") || is_word(p, "FALSE")) {
        if (!(n = node_new(p, CQL2_BOOL, at)))
            return ERR_INTERNAL;
        n->i = is_word(p, "TRUE");
        return operand_done(p, n, out);
    }
    if (is_word(p, "DATE") || is_word(p, "TIMESTAMP"))
        return parse_instant(p, is_word(p, "DATE"), out);
    if (word_in(p, RESERVED, COUNT(RESERVED)) >= 0)
        return fail(p, at, "expected a property or a literal, found the keyword '%.*s'",
                    (int)p->tk.len, p->s + at);
    if (!(n = node_new(p, CQL2_PROP, at)) || !(n->text = strndup(p->s + at, p->tk.len))) {
        cql2_free(n);
        return err_set(p->e, ERR_INTERNAL, "out of memory");
    }
    if ((rc = next(p)) == 0 && p->tk.t == T_LP)
        rc = fail(p, at, "unknown function '%.*s'", clip(n->text, strlen(n->text), 40), n->text);
    if (rc) {
        cql2_free(n);
        return rc;
    }
    *out = n;
    return 0;
}

/* ---- geometry literals -------------------------------------------------- */

static int coord(struct parser *p, double *v)
{
    char *end;
    char tmp[64];
    if (p->tk.t != T_NUMBER)
        return fail(p, p->tk.off, "expected a number");
    if (p->tk.len >= sizeof tmp)
        return fail(p, p->tk.off, "number too long");
    memcpy(tmp, p->s + p->tk.off, p->tk.len);
    tmp[p->tk.len] = '\0';
    errno = 0;
    *v = strtod(tmp, &end);
    if (errno == ERANGE && (*v > 1 || *v < -1))
        return fail(p, p->tk.off, "number out of range '%s'", tmp);
    return next(p);
}

/* One position "x y [z]"; appends "x y" to w. */
static int point(struct parser *p, struct buf *w, double xy[2])
{
    double z;
    int rc;
    if ((rc = coord(p, &xy[0])) || (rc = coord(p, &xy[1])))
        return rc;
    if (p->tk.t == T_NUMBER && (rc = coord(p, &z)))
        return rc;
    buf_put_double(w, xy[0]);
    buf_putc(w, ' ');
    buf_put_double(w, xy[1]);
    return 0;
}

/* "(x y)" */
static int point_text(struct parser *p, struct buf *w)
{
    double xy[2];
    int rc;
    if ((rc = expect(p, T_LP, "'('")))
        return rc;
    buf_putc(w, '(');
    if ((rc = point(p, w, xy)) || (rc = expect(p, T_RP, "')'")))
        return rc;
    buf_putc(w, ')');
    return 0;
}

/* "(x y, x y, ...)" with at least min positions; ring: must close. */
static int point_list(struct parser *p, struct buf *w, size_t min, int ring)
{
    size_t open = p->tk.off, n = 0;
    double first[2] = {0, 0}, xy[2] = {0, 0};
    int rc;
    if ((rc = expect(p, T_LP, "'('")))
        return rc;
    buf_putc(w, '(');
    for (;;) {
        if ((rc = point(p, w, xy)))
            return rc;
        if (n++ == 0)
            memcpy(first, xy, sizeof xy);
        if (p->tk.t != T_COMMA)
            break;
        buf_putc(w, ',');
        if ((rc = next(p)))
            return rc;
    }
    if ((rc = expect(p, T_RP, "',' or ')'")))
        return rc;
    buf_putc(w, ')');
    if (n < min)
        return fail(p, open, "a %s needs at least %zu positions",
                    ring ? "polygon ring" : "LINESTRING", min);
    if (ring && (first[0] != xy[0] || first[1] != xy[1]))
        return fail(p, open, "polygon ring is not closed");
    return 0;
}

typedef int (*part_fn)(struct parser *p, struct buf *w);

/* "(part, part, ...)" */
static int part_list(struct parser *p, struct buf *w, part_fn part)
{
    int rc;
    if ((rc = expect(p, T_LP, "'('")))
        return rc;
    buf_putc(w, '(');
    for (;;) {
        if ((rc = part(p, w)))
            return rc;
        if (p->tk.t != T_COMMA)
            break;
        buf_putc(w, ',');
        if ((rc = next(p)))
            return rc;
    }
    if ((rc = expect(p, T_RP, "',' or ')'")))
        return rc;
    buf_putc(w, ')');
    return 0;
}

static int line_part(struct parser *p, struct buf *w)
{
    return point_list(p, w, 2, 0);
}

static int ring_part(struct parser *p, struct buf *w)
{
    return point_list(p, w, 4, 1);
}

static int polygon_part(struct parser *p, struct buf *w)
{
    return part_list(p, w, ring_part);
}

/* MULTIPOINT members: "(x y)" or a bare "x y". */
static int mpoint_part(struct parser *p, struct buf *w)
{
    double xy[2];
    int rc;
    if (p->tk.t != T_LP) {
        buf_putc(w, '(');
        rc = point(p, w, xy);
        buf_putc(w, ')');
        return rc;
    }
    return point_text(p, w);
}

static int tagged_wkt(struct parser *p, struct buf *w, int *type);

static int collection_part(struct parser *p, struct buf *w)
{
    int type;
    return tagged_wkt(p, w, &type);
}

/* A WKT geometry whose keyword is the current token. */
static int tagged_wkt(struct parser *p, struct buf *w, int *type)
{
    size_t at = p->tk.off;
    int t = word_in(p, GEOM_NAMES, COUNT(GEOM_NAMES)), rc;
    if (t < 0)
        return fail(p, at,
                    "expected a geometry (POINT, LINESTRING, POLYGON, MULTIPOINT, "
                    "MULTILINESTRING, MULTIPOLYGON or GEOMETRYCOLLECTION)");
    if (++p->depth > CQL2_MAX_DEPTH)
        return fail(p, at, "nesting deeper than the limit of %d", CQL2_MAX_DEPTH);
    *type = t;
    buf_puts(w, GEOM_NAMES[t]);
    if ((rc = next(p)))
        return rc;
    if (is_word(p, "Z") && (rc = next(p)))
        return rc;
    if (p->tk.t != T_LP)
        return fail(p, p->tk.off, "expected '(' after %s", GEOM_NAMES[t]);
    switch (t) {
    case CQL2_POINT:
        rc = point_text(p, w);
        break;
    case CQL2_LINESTRING:
        rc = line_part(p, w);
        break;
    case CQL2_POLYGON:
        rc = polygon_part(p, w);
        break;
    case CQL2_MULTIPOINT:
        rc = part_list(p, w, mpoint_part);
        break;
    case CQL2_MULTILINESTRING:
        rc = part_list(p, w, line_part);
        break;
    case CQL2_MULTIPOLYGON:
        rc = part_list(p, w, polygon_part);
        break;
    default:
        rc = part_list(p, w, collection_part);
    }
    p->depth--;
    return rc;
}

static int parse_bbox(struct parser *p, struct cql2_node *n)
{
    double v[6];
    int k = 0, rc;
    size_t open;
    if ((rc = next(p)))
        return rc;
    open = p->tk.off;
    if ((rc = expect(p, T_LP, "'(' after BBOX")))
        return rc;
    for (;;) {
        if (k == 6)
            return fail(p, open, "BBOX needs 4 or 6 numbers");
        if ((rc = coord(p, &v[k++])))
            return rc;
        if (p->tk.t != T_COMMA)
            break;
        if ((rc = next(p)))
            return rc;
    }
    if ((rc = expect(p, T_RP, "',' or ')'")))
        return rc;
    if (k != 4 && k != 6)
        return fail(p, open, "BBOX needs 4 or 6 numbers, got %d", k);
    n->box[0] = v[0], n->box[1] = v[1];
    n->box[2] = v[k == 4 ? 2 : 3], n->box[3] = v[k == 4 ? 3 : 4];
    return 0;
}

/* A spatial function argument: a property, WKT or BBOX(...). */
static int parse_geom_arg(struct parser *p, struct cql2_node **out)
{
    struct cql2_node *n;
    struct buf w;
    size_t at = p->tk.off;
    int rc = 0, type = 0;
    *out = NULL;
    if (p->tk.t != T_QNAME &&
        (p->tk.t != T_WORD || is_word(p, "TRUE") || is_word(p, "FALSE") || is_word(p, "DATE") ||
         is_word(p, "TIMESTAMP") || word_in(p, RESERVED, COUNT(RESERVED)) >= 0))
        return fail(p, at, "expected a geometry property, WKT or BBOX");
    if (p->tk.t == T_QNAME ||
        (!is_word(p, "BBOX") && word_in(p, GEOM_NAMES, COUNT(GEOM_NAMES)) < 0))
        return parse_scalar(p, out);
    if (!(n = node_new(p, is_word(p, "BBOX") ? CQL2_BBOX : CQL2_GEOM, at)))
        return ERR_INTERNAL;
    if (n->kind == CQL2_BBOX) {
        rc = parse_bbox(p, n);
    } else {
        buf_init(&w);
        rc = tagged_wkt(p, &w, &type);
        if (!rc && w.oom)
            rc = err_set(p->e, ERR_INTERNAL, "out of memory");
        n->op = type;
        n->text = rc ? NULL : buf_steal(&w);
        buf_clear(&w);
    }
    if (rc) {
        cql2_free(n);
        return rc;
    }
    *out = n;
    return 0;
}

static int parse_spatial(struct parser *p, int op, struct cql2_node **out)
{
    struct cql2_node *n = node_new(p, CQL2_SPATIAL, p->tk.off), *a = NULL;
    int rc;
    if (!n)
        return ERR_INTERNAL;
    n->op = op;
    if ((rc = next(p)))
        goto out;
    if (p->tk.t != T_LP) {
        rc = fail(p, p->tk.off, "expected '(' after %s", SPATIAL_NAMES[op]);
        goto out;
    }
    if ((rc = next(p)) || (rc = parse_geom_arg(p, &a)) || (rc = add_arg(p, n, a)) ||
        (rc = expect(p, T_COMMA, "','")) || (rc = parse_geom_arg(p, &a)) ||
        (rc = add_arg(p, n, a)) || (rc = expect(p, T_RP, "')'")))
        goto out;
    *out = n;
    return 0;
out:
    cql2_free(n);
    return rc;
}

/* ---- predicates --------------------------------------------------------- */

static int parse_in_list(struct parser *p, struct cql2_node *n)
{
    struct cql2_node *v;
    int rc;
    if ((rc = expect(p, T_LP, "'(' after IN")))
        return rc;
    for (;;) {
        if ((rc = parse_scalar(p, &v)) || (rc = add_arg(p, n, v)))
            return rc;
        if (p->tk.t != T_COMMA)
            break;
        if ((rc = next(p)))
            return rc;
    }
    return expect(p, T_RP, "',' or ')'");
}

/* LIKE 'pattern', IN (...), BETWEEN a AND b or IS [NOT] NULL; the keyword
 * is the current token and n has its first operand. */
static int parse_keyword_op(struct parser *p, struct cql2_node *n)
{
    struct cql2_node *v;
    int rc;
    if ((rc = next(p)))
        return rc;
    switch (n->kind) {
    case CQL2_LIKE:
        if (p->tk.t != T_STRING)
            return fail(p, p->tk.off, "LIKE needs a quoted pattern");
        if ((rc = parse_scalar(p, &v)))
            return rc;
        return add_arg(p, n, v);
    case CQL2_IN:
        return parse_in_list(p, n);
    case CQL2_BETWEEN:
        if ((rc = parse_scalar(p, &v)) || (rc = add_arg(p, n, v)))
            return rc;
        if (!is_word(p, "AND"))
            return fail(p, p->tk.off, "expected AND in BETWEEN");
        if ((rc = next(p)) || (rc = parse_scalar(p, &v)))
            return rc;
        return add_arg(p, n, v);
    default: /* IS [NOT] NULL */
        if (is_word(p, "NOT")) {
            n->negated = 1;
            if ((rc = next(p)))
                return rc;
        }
        if (!is_word(p, "NULL"))
            return fail(p, p->tk.off, "expected NULL or NOT NULL after IS");
        return next(p);
    }
}

/* Which keyword operator the current token is (NOT already consumed when
 * neg); -1 when it is none. */
static int keyword_kind(const struct parser *p, int neg)
{
    if (is_word(p, "LIKE"))
        return CQL2_LIKE;
    if (is_word(p, "IN"))
        return CQL2_IN;
    if (is_word(p, "BETWEEN"))
        return CQL2_BETWEEN;
    if (is_word(p, "IS") && !neg)
        return CQL2_IS_NULL;
    return -1;
}

/* The rest of a predicate after its first operand lhs (taken). */
static int parse_tail(struct parser *p, struct cql2_node *lhs, struct cql2_node **out)
{
    struct cql2_node *n = NULL, *v = NULL;
    size_t at = p->tk.off;
    int neg = 0, kind, rc;
    if (p->tk.t == T_OP) {
        if (!(n = node_new(p, CQL2_CMP, at))) {
            cql2_free(lhs);
            return ERR_INTERNAL;
        }
        n->op = p->tk.op;
        if ((rc = add_arg(p, n, take(&lhs))) || (rc = next(p)) || (rc = parse_scalar(p, &v)) ||
            (rc = add_arg(p, n, v)))
            goto out;
        *out = n;
        return 0;
    }
    if (lhs->kind == CQL2_BOOL && keyword_kind(p, 0) < 0 && !is_word(p, "NOT")) {
        *out = lhs; /* TRUE or FALSE on its own */
        return 0;
    }
    if (is_word(p, "NOT")) {
        neg = 1;
        if ((rc = next(p)))
            goto out;
    }
    if ((kind = keyword_kind(p, neg)) < 0) {
        if (neg)
            rc = fail(p, p->tk.off, "expected LIKE, IN or BETWEEN after NOT");
        else if (p->tk.t == T_WORD && word_in(p, RESERVED, COUNT(RESERVED)) < 0)
            rc = fail(p, p->tk.off, "unknown operator '%.*s'",
                      clip(p->s + p->tk.off, p->tk.len, 40), p->s + p->tk.off);
        else
            rc = fail(p, p->tk.off, "expected a comparison operator");
        goto out;
    }
    if (!(n = node_new(p, (enum cql2_kind)kind, p->tk.off))) {
        rc = ERR_INTERNAL;
        goto out;
    }
    n->negated = neg;
    if ((rc = add_arg(p, n, take(&lhs))) || (rc = parse_keyword_op(p, n)))
        goto out;
    *out = n;
    return 0;
out:
    cql2_free(lhs);
    cql2_free(n);
    return rc;
}

static int parse_or(struct parser *p, struct cql2_node **out);

static int parse_primary(struct parser *p, struct cql2_node **out)
{
    struct cql2_node *lhs;
    size_t at = p->tk.off;
    int rc, op;
    if (p->tk.t == T_LP) {
        if (++p->depth > CQL2_MAX_DEPTH)
            return fail(p, at, "nesting deeper than the limit of %d", CQL2_MAX_DEPTH);
        if ((rc = next(p)) || (rc = parse_or(p, out)))
            return rc;
        if ((rc = expect(p, T_RP, "')'"))) {
            cql2_free(*out);
            *out = NULL;
            return rc;
        }
        p->depth--;
        return 0;
    }
    if ((op = word_in(p, SPATIAL_NAMES, COUNT(SPATIAL_NAMES))) >= 0)
        return parse_spatial(p, op, out);
    if ((rc = parse_scalar(p, &lhs)))
        return rc;
    return parse_tail(p, lhs, out);
}

static int parse_not(struct parser *p, struct cql2_node **out)
{
    struct cql2_node *n, *a = NULL;
    int rc;
    *out = NULL;
    if (!is_word(p, "NOT"))
        return parse_primary(p, out);
    if (++p->depth > CQL2_MAX_DEPTH)
        return fail(p, p->tk.off, "nesting deeper than the limit of %d", CQL2_MAX_DEPTH);
    if (!(n = node_new(p, CQL2_NOT, p->tk.off)))
        return ERR_INTERNAL;
    if ((rc = next(p)) || (rc = parse_not(p, &a)) || (rc = add_arg(p, n, a))) {
        cql2_free(n);
        return rc;
    }
    p->depth--;
    *out = n;
    return 0;
}

/* term {kw term}: an n-ary node when there is more than one term. */
static int parse_chain(struct parser *p, const char *kw, enum cql2_kind kind,
                       int (*term)(struct parser *, struct cql2_node **), struct cql2_node **out)
{
    struct cql2_node *first = NULL, *n = NULL, *t = NULL;
    int rc;
    *out = NULL;
    if ((rc = term(p, &first)))
        return rc;
    if (!is_word(p, kw)) {
        *out = first;
        return 0;
    }
    if (!(n = node_new(p, kind, p->tk.off))) {
        cql2_free(first);
        return ERR_INTERNAL;
    }
    if ((rc = add_arg(p, n, first)))
        goto fail;
    while (is_word(p, kw))
        if ((rc = next(p)) || (rc = term(p, &t)) || (rc = add_arg(p, n, t)))
            goto fail;
    *out = n;
    return 0;
fail:
    cql2_free(n);
    return rc;
}

static int parse_and(struct parser *p, struct cql2_node **out)
{
    return parse_chain(p, "AND", CQL2_AND, parse_not, out);
}

static int parse_or(struct parser *p, struct cql2_node **out)
{
    return parse_chain(p, "OR", CQL2_OR, parse_and, out);
}

int cql2_parse(const char *text, struct cql2_node **out, struct err *e)
{
    struct parser p;
    struct cql2_node *n = NULL;
    size_t bad;
    int rc;
    *out = NULL;
    memset(&p, 0, sizeof p);
    p.s = text ? text : "";
    p.n = strlen(p.s);
    p.e = e;
    if (p.n > CQL2_MAX_LEN)
        return err_set(e, ERR_PARAM, "filter: longer than the limit of %d bytes", CQL2_MAX_LEN);
    if ((bad = utf8_check((const unsigned char *)p.s, p.n)) < p.n)
        return fail(&p, bad, "invalid UTF-8");
    if ((rc = next(&p)))
        return rc;
    if (p.tk.t == T_END)
        return err_set(e, ERR_PARAM, "filter: empty");
    if ((rc = parse_or(&p, &n)))
        return rc;
    if (p.tk.t != T_END) {
        if (p.tk.t == T_WORD)
            rc = fail(&p, p.tk.off, "unknown operator '%.*s'", clip(p.s + p.tk.off, p.tk.len, 40),
                      p.s + p.tk.off);
        else
            rc = fail(&p, p.tk.off, "expected AND, OR or the end of the filter");
        cql2_free(n);
        return rc;
    }
    *out = n;
    return 0;
}
