/* layer: the layer registry — each collection's id, titles, key, natural
 * grouping and attribute schema, read from JSON (geodata/layers.json, kept in
 * the database). A struct layers is immutable once loaded and may be shared
 * by all threads; layers_free releases it. */
#ifndef ONEMAP_LAYER_H
#define ONEMAP_LAYER_H

#include <stddef.h>

#include "err.h"

enum field_type { FIELD_STRING, FIELD_INTEGER, FIELD_NUMBER, FIELD_BOOLEAN, FIELD_DATE };

struct field {
    char *name;
    enum field_type type;
    char *title_zh, *title_en;
    char **enums;        /* allowed values (strings), NULL when free */
    size_t n_enums;
    char *pattern;       /* POSIX extended regex, NULL when free */
    void *re;            /* pattern compiled once (regex_t *); regexec is thread-safe */
    int required;
    char **aliases;      /* other names accepted on import (三调 names) */
    size_t n_aliases;
};

struct layer {
    char *id;
    char *title_zh, *title_en, *desc_zh, *desc_en;
    char *key;           /* unique key property, e.g. "code" */
    char *group_by;      /* natural grouping for summaries */
    struct field *fields;
    size_t n_fields;
    int key_field;       /* index of key in fields */
};

struct layers {
    struct layer *v;
    size_t n;
    char *json;          /* the source text, as stored */
};

/* Parses the schema document. Errors name the layer and field at fault. */
int layers_parse(const char *json_text, struct layers **out, struct err *e);
void layers_free(struct layers *ls);

/* Borrowed pointers into ls; NULL / -1 when absent. */
const struct layer *layers_find(const struct layers *ls, const char *id);
int layer_field_index(const struct layer *l, const char *name);
/* Matches a name from an upload: exact, case-insensitive, an alias, or a
 * Shapefile's 10-character cut of the name. -1 when nothing matches. */
int layer_field_match(const struct layer *l, const char *name);

const char *field_type_name(enum field_type t); /* "string", "integer"... */

#endif
