/* cql2: the CQL2 text encoding (OGC 21-065) of OGC API Features Part 3
 * filters, parsed into a tree of plain nodes. It knows no layer, no SQL and
 * no CRS: checking names and types against a schema is store_filter's job. */
#ifndef ONEMAP_CQL2_H
#define ONEMAP_CQL2_H

#include <stddef.h>

#include "err.h"

#define CQL2_MAX_DEPTH 64  /* nesting of parentheses, NOT and collections */
#define CQL2_MAX_LEN 65536 /* bytes of filter text */

enum cql2_kind {
    /* predicates */
    CQL2_AND,     /* args: two or more predicates */
    CQL2_OR,      /* args: two or more predicates */
    CQL2_NOT,     /* args[0] */
    CQL2_CMP,     /* op: enum cql2_cmp; args[0] op args[1] */
    CQL2_LIKE,    /* args[0] [NOT] LIKE args[1] (a CQL2_STRING pattern) */
    CQL2_IN,      /* args[0] [NOT] IN (args[1..n-1]) */
    CQL2_BETWEEN, /* args[0] [NOT] BETWEEN args[1] AND args[2] */
    CQL2_IS_NULL, /* args[0] IS [NOT] NULL */
    CQL2_SPATIAL, /* op: enum cql2_spatial; op(args[0], args[1]) */
    /* operands (CQL2_BOOL is also a predicate on its own: TRUE, FALSE) */
    CQL2_PROP,      /* text: the property name, quotes removed */
    CQL2_STRING,    /* text: the value, quote escapes resolved */
    CQL2_NUMBER,    /* d; when is_int also i */
    CQL2_BOOL,      /* i: 0 or 1 */
    CQL2_DATE,      /* text: "YYYY-MM-DD" */
    CQL2_TIMESTAMP, /* text: "YYYY-MM-DDTHH:MM:SS[.fff]Z" */
    CQL2_GEOM,      /* op: enum cql2_geom; text: 2D WKT, upper case, Z dropped */
    CQL2_BBOX       /* box: the four numbers as given (elevations dropped) */
};

enum cql2_cmp { CQL2_EQ, CQL2_NE, CQL2_LT, CQL2_GT, CQL2_LE, CQL2_GE };

enum cql2_spatial {
    CQL2_S_INTERSECTS,
    CQL2_S_EQUALS,
    CQL2_S_DISJOINT,
    CQL2_S_TOUCHES,
    CQL2_S_WITHIN,
    CQL2_S_OVERLAPS,
    CQL2_S_CROSSES,
    CQL2_S_CONTAINS
};

enum cql2_geom {
    CQL2_POINT,
    CQL2_LINESTRING,
    CQL2_POLYGON,
    CQL2_MULTIPOINT,
    CQL2_MULTILINESTRING,
    CQL2_MULTIPOLYGON,
    CQL2_GEOMETRYCOLLECTION
};

struct cql2_node {
    enum cql2_kind kind;
    int pos;                 /* 1-based character (not byte) position in the text */
    int op;                  /* CMP, SPATIAL, GEOM: see above */
    int negated;             /* NOT LIKE, NOT IN, NOT BETWEEN, IS NOT NULL */
    struct cql2_node **args; /* owned */
    size_t n_args;
    char *text; /* owned; see the kinds */
    int is_int; /* NUMBER: integral and within long long */
    long long i;
    double d;
    double box[4]; /* BBOX */
};

/* Parses CQL2 text into *out (caller frees with cql2_free). Keywords and
 * function names are case-insensitive, property names are not. Errors are
 * ERR_PARAM with messages that start "filter: " and say where, e.g.
 * "filter: expected ')' at character 37". Thread-safe: no shared state. */
int cql2_parse(const char *text, struct cql2_node **out, struct err *e);
void cql2_free(struct cql2_node *n);

/* Fills e with ERR_PARAM "filter: <message> at character <pos>" (pos
 * 1-based, in characters), the form of every filter error, from parsing here
 * or from checking against a schema (store_filter); returns ERR_PARAM. */
int cql2_error_at(struct err *e, int pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Names for messages: "=", "S_INTERSECTS", "POLYGON". Static storage. */
const char *cql2_cmp_name(int op);
const char *cql2_spatial_name(int op);
const char *cql2_geom_name(int op);

#endif
