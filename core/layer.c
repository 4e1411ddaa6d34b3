/* layer: parsing and look-up of the layer schema. It owns the parsed
 * struct layers; it does not know how layers are stored (store.c) or served. */
#include "layer.h"

#include <ctype.h>
#include <jansson.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A copy of s (NULL for NULL); *oom set when memory ran out. */
static char *dup_str(const char *s, int *oom)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *oom = 1;
    return d;
}

static int is_ident(const char *s)
{
    if (!s || !(*s == '_' || (*s >= 'a' && *s <= 'z')))
        return 0;
    for (; *s; s++)
        if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

static int parse_type(const char *s, enum field_type *t)
{
    static const char *names[] = {"string", "integer", "number", "boolean", "date"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (s && !strcmp(s, names[i])) {
            *t = (enum field_type)i;
            return 0;
        }
    return -1;
}

const char *field_type_name(enum field_type t)
{
    switch (t) {
    case FIELD_INTEGER: return "integer";
    case FIELD_NUMBER: return "number";
    case FIELD_BOOLEAN: return "boolean";
    case FIELD_DATE: return "date";
    default: return "string";
    }
}

static char **str_array(json_t *a, size_t *n, int *oom)
{
    char **v;
    size_t i;
    *n = 0;
    if (!json_is_array(a) || json_array_size(a) == 0)
        return NULL;
    v = calloc(json_array_size(a), sizeof *v);
    if (!v) {
        *oom = 1;
        return NULL;
    }
    for (i = 0; i < json_array_size(a); i++)
        v[i] = dup_str(json_string_value(json_array_get(a, i)), oom);
    *n = i;
    return v;
}

static void free_strs(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void title(json_t *o, const char *member, char **zh, char **en, int *oom)
{
    json_t *t = json_object_get(o, member);
    *zh = dup_str(json_string_value(json_object_get(t, "zh")), oom);
    *en = dup_str(json_string_value(json_object_get(t, "en")), oom);
}

/* "enum" and "aliases": absent, or arrays of strings (a NULL entry would
 * reach every comparison with an uploaded value). */
static int check_strings(json_t *jf, const char *member, const char *lid, const char *name,
                         struct err *e)
{
    json_t *a = json_object_get(jf, member), *v;
    size_t k;
    if (!a)
        return 0;
    if (!json_is_array(a))
        return err_set(e, ERR_INVALID, "layers: %s.%s.%s: expected an array of strings", lid,
                       name, member);
    json_array_foreach(a, k, v) if (!json_is_string(v)) return err_set(
        e, ERR_INVALID, "layers: %s.%s.%s[%zu]: expected a string", lid, name, member, k);
    return 0;
}

/* Columns every layer table has already. */
static int is_reserved(const char *name)
{
    /* the layer table's own columns, and those of its past versions' */
    static const char *const cols[] = {"fid",   "version", "area_m2",    "gj",
                                       "geom",  "since",   "valid_from", "valid_to",
                                       "pid"};
    for (size_t k = 0; k < sizeof cols / sizeof *cols; k++)
        if (!strcmp(name, cols[k]))
            return 1;
    return 0;
}

static int parse_field(json_t *jf, struct field *f, const char *lid, size_t i, struct err *e)
{
    const char *name = json_string_value(json_object_get(jf, "name"));
    int rc, oom = 0;
    if (!is_ident(name))
        return err_set(e, ERR_INVALID, "layers: %s.fields[%zu].name: expected a lower-case identifier",
                       lid, i);
    if (is_reserved(name))
        return err_set(e, ERR_INVALID, "layers: %s.fields[%zu].name: '%s' is a column of every "
                       "layer (fid, version, area_m2, gj, geom, since, pid, valid_from, valid_to); choose "
                       "another name", lid, i, name);
    if ((rc = check_strings(jf, "enum", lid, name, e)) ||
        (rc = check_strings(jf, "aliases", lid, name, e)))
        return rc;
    if (!(f->name = strdup(name)))
        return err_set(e, ERR_INTERNAL, "out of memory");
    if (parse_type(json_string_value(json_object_get(jf, "type")), &f->type))
        return err_set(e, ERR_INVALID, "layers: %s.%s.type: expected string, integer, number, "
                       "boolean or date", lid, name);
    title(jf, "title", &f->title_zh, &f->title_en, &oom);
    f->enums = str_array(json_object_get(jf, "enum"), &f->n_enums, &oom);
    f->aliases = str_array(json_object_get(jf, "aliases"), &f->n_aliases, &oom);
    f->pattern = dup_str(json_string_value(json_object_get(jf, "pattern")), &oom);
    f->required = json_is_true(json_object_get(jf, "required"));
    if (oom)
        return err_set(e, ERR_INTERNAL, "out of memory");
    if (f->pattern) {
        if (!(f->re = malloc(sizeof(regex_t))))
            return err_set(e, ERR_INTERNAL, "out of memory");
        if (regcomp(f->re, f->pattern, REG_EXTENDED | REG_NOSUB)) {
            free(f->re);
            f->re = NULL;
            return err_set(e, ERR_INVALID, "layers: %s.%s.pattern: not a valid regular expression",
                           lid, name);
        }
    }
    return 0;
}

static int parse_layer(json_t *jl, struct layer *l, struct err *e, size_t li)
{
    json_t *fields = json_object_get(jl, "fields");
    const char *id = json_string_value(json_object_get(jl, "id"));
    size_t i;
    int oom = 0;
    if (!is_ident(id))
        return err_set(e, ERR_INVALID, "layers[%zu].id: expected a lower-case identifier", li);
    l->id = dup_str(id, &oom);
    title(jl, "title", &l->title_zh, &l->title_en, &oom);
    title(jl, "description", &l->desc_zh, &l->desc_en, &oom);
    if (oom)
        return err_set(e, ERR_INTERNAL, "out of memory");
    if (!json_is_array(fields) || json_array_size(fields) == 0)
        return err_set(e, ERR_INVALID, "layers: %s.fields: expected a non-empty array", id);
    l->fields = calloc(json_array_size(fields), sizeof *l->fields);
    if (!l->fields)
        return err_set(e, ERR_INTERNAL, "out of memory");
    for (i = 0; i < json_array_size(fields); i++) {
        l->n_fields = i + 1;
        if (parse_field(json_array_get(fields, i), &l->fields[i], id, i, e))
            return e->code;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(l->fields[j].name, l->fields[i].name))
                return err_set(e, ERR_INVALID, "layers: %s.%s: duplicate field", id,
                               l->fields[i].name);
    }
    l->key = dup_str(json_string_value(json_object_get(jl, "key")), &oom);
    l->group_by = dup_str(json_string_value(json_object_get(jl, "group_by")), &oom);
    if (oom)
        return err_set(e, ERR_INTERNAL, "out of memory");
    l->key_field = l->key ? layer_field_index(l, l->key) : -1;
    if (l->key_field < 0)
        return err_set(e, ERR_INVALID, "layers: %s.key: must name one of its fields", id);
    if (l->group_by && layer_field_index(l, l->group_by) < 0)
        return err_set(e, ERR_INVALID, "layers: %s.group_by: must name one of its fields", id);
    return 0;
}

int layers_parse(const char *json_text, struct layers **out, struct err *e)
{
    json_error_t je;
    json_t *root = json_loads(json_text, JSON_REJECT_DUPLICATES, &je), *arr;
    struct layers *ls = NULL;
    size_t i;
    int rc = 0;
    *out = NULL;
    if (!root)
        return err_set(e, ERR_INVALID, "layers: line %d column %d: %s", je.line, je.column, je.text);
    arr = json_object_get(root, "layers");
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        rc = err_set(e, ERR_INVALID, "layers: expected a non-empty array \"layers\"");
        goto out;
    }
    ls = calloc(1, sizeof *ls);
    if (!ls || !(ls->v = calloc(json_array_size(arr), sizeof *ls->v))) {
        rc = err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    if (!(ls->json = strdup(json_text))) {
        rc = err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    for (i = 0; i < json_array_size(arr); i++) {
        ls->n = i + 1;
        if ((rc = parse_layer(json_array_get(arr, i), &ls->v[i], e, i)))
            goto out;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(ls->v[j].id, ls->v[i].id)) {
                rc = err_set(e, ERR_INVALID, "layers: duplicate layer id '%s'", ls->v[i].id);
                goto out;
            }
    }
    *out = ls;
    ls = NULL;
out:
    layers_free(ls);
    json_decref(root);
    return rc;
}

static void layer_clear(struct layer *l)
{
    for (size_t i = 0; i < l->n_fields; i++) {
        struct field *f = &l->fields[i];
        free(f->name);
        free(f->title_zh);
        free(f->title_en);
        free(f->pattern);
        if (f->re) {
            regfree(f->re);
            free(f->re);
        }
        free_strs(f->enums, f->n_enums);
        free_strs(f->aliases, f->n_aliases);
    }
    free(l->fields);
    free(l->id);
    free(l->title_zh);
    free(l->title_en);
    free(l->desc_zh);
    free(l->desc_en);
    free(l->key);
    free(l->group_by);
}

void layers_free(struct layers *ls)
{
    if (!ls)
        return;
    for (size_t i = 0; i < ls->n; i++)
        layer_clear(&ls->v[i]);
    free(ls->v);
    free(ls->json);
    free(ls);
}

const struct layer *layers_find(const struct layers *ls, const char *id)
{
    for (size_t i = 0; ls && id && i < ls->n; i++)
        if (!strcmp(ls->v[i].id, id))
            return &ls->v[i];
    return NULL;
}

int layer_field_index(const struct layer *l, const char *name)
{
    for (size_t i = 0; name && i < l->n_fields; i++)
        if (!strcmp(l->fields[i].name, name))
            return (int)i;
    return -1;
}

int layer_field_match(const struct layer *l, const char *name)
{
    size_t i, j, n;
    int idx = layer_field_index(l, name);
    if (idx >= 0 || !name)
        return idx;
    for (i = 0; i < l->n_fields; i++)
        if (!strcasecmp(l->fields[i].name, name))
            return (int)i;
    for (i = 0; i < l->n_fields; i++)
        for (j = 0; j < l->fields[i].n_aliases; j++)
            if (!strcasecmp(l->fields[i].aliases[j], name))
                return (int)i;
    n = strlen(name);
    if (n == 10) /* a Shapefile's DBF cuts names to 10 characters */
        for (i = 0; i < l->n_fields; i++)
            if (strlen(l->fields[i].name) > 10 && !strncasecmp(l->fields[i].name, name, 10))
                return (int)i;
    return -1;
}
