/* main: the onemap command — init, demo, import, export and serve. Each
 * command takes the database first; errors name the file, the feature
 * index and the reason, and the exit code is non-zero. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "copy.h"
#include "crs.h"
#include "edit.h"
#include "file.h"
#include "ingest.h"
#include "instant.h"
#include "layer.h"
#include "memo.h"
#include "server.h"
#include "static.h"
#include "store.h"
#include "tile_cache.h"
#include "tty_progress.h"

static const char *USAGE =
    "usage: onemap COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  init DB [--schema FILE]            create an empty database with the layer schema\n"
    "  demo DB                            create DB with the 芹阳 demo data set\n"
    "  import DB COLLECTION FILE [--crs CRS] [--make-valid] [--dry-run] [--mode upsert|replace]\n"
    "                                     bring in a GeoJSON file, all or nothing\n"
    "  export DB COLLECTION               write a collection as GeoJSON to standard output\n"
    "  copy SRC DST                       copy a whole database (SQLite file or PostgreSQL URL)\n"
    "  serve --db DB [--listen ADDR:PORT] [--threads N] [--request-timeout S] [--private] ...\n"
    "                                     serve the OGC API (default 127.0.0.1:8080)\n"
    "  token add DB NAME --role reader|editor|admin [--grid CODE]...\n"
    "  token list DB\n"
    "  token revoke DB NAME               manage write tokens (effective at once)\n"
    "\n"
    "On a terminal, init, demo, import, export and copy show their progress on standard\n"
    "error after half a second; --quiet silences it, --progress shows it from the start,\n"
    "also when standard error is not a terminal.\n"
    "\n"
    "'onemap COMMAND --help' tells more about one command.\n";

static const char *geodata_dir(void)
{
    const char *d = getenv("ONEMAP_GEODATA_DIR");
    return d && *d ? d : ONEMAP_GEODATA_DIR;
}

static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
    return 0;
}

/* A command's usage: on stdout with status 0 when asked for (--help), else
 * on stderr with status 2 (wrong arguments). */
static int usage(int asked, const char *text)
{
    fputs(text, asked ? stdout : stderr);
    return asked ? 0 : 2;
}

static int fail(const struct err *e)
{
    fprintf(stderr, "onemap: %s\n", e->msg);
    return 1;
}

static int cmd_init_db(const char *db, const char *schema_path, struct progress *p,
                       struct err *e)
{
    char path[1024], *schema = NULL;
    store *s = NULL;
    int rc;
    if (!schema_path) {
        snprintf(path, sizeof path, "%s/layers.json", geodata_dir());
        schema_path = path;
    }
    if ((rc = file_read_all(schema_path, &schema, NULL, e)))
        return rc;
    progress_phase(p, PROGRESS_WRITING, PROGRESS_NONE, 0, 0, 1);
    if (!(rc = store_open(db, STORE_CREATE, &s, e)))
        rc = store_init(s, schema, e);
    if (rc)
        err_prefix(e, "%s", db);
    store_close(s);
    free(schema);
    return rc;
}

static int cmd_init(int argc, char **argv)
{
    struct err e;
    const char *schema = NULL;
    enum tty_progress_mode mode = TTY_PROGRESS_AUTO;
    struct progress p;
    struct tty_progress *t;
    int rc;
    if (wants_help(argc, argv) || argc < 2)
        return usage(wants_help(argc, argv),
                     "usage: onemap init DB [--schema FILE] [--quiet|--progress]\n"
                     "Creates DB with onemap's tables, one per layer of the schema\n"
                     "(default: geodata/layers.json).\n");
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--schema") && i + 1 < argc)
            schema = argv[++i];
        else if (!tty_progress_flag(argv[i], &mode)) {
            fprintf(stderr, "onemap init: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    err_clear(&e);
    progress_start(&p);
    t = tty_progress_start(&p, "init", mode);
    rc = cmd_init_db(argv[1], schema, &p, &e);
    tty_progress_stop(t);
    if (rc)
        return fail(&e);
    {
        char shown[512];
        store_shown(argv[1], shown, sizeof shown);
        printf("initialised %s\n", shown);
    }
    return 0;
}

static void print_invalid(const char *file, const struct ingest_report *r)
{
    size_t n = r->n_invalid < INGEST_MAX_NOTES ? r->n_invalid : INGEST_MAX_NOTES;
    for (size_t i = 0; i < n; i++) {
        const struct ingest_note *v = &r->invalid[i];
        fprintf(stderr, "%s: features[%zu]%s%s%s: %s", file, v->index, v->key[0] ? " (" : "",
                v->key, v->key[0] ? ")" : "", v->reason);
        if (v->have_loc)
            fprintf(stderr, " [at %.9g %.9g]", v->loc[0], v->loc[1]);
        fputc('\n', stderr);
    }
    if (r->n_invalid > n)
        fprintf(stderr, "%s: ... and %zu more invalid features\n", file, r->n_invalid - n);
}

static void print_repaired(const char *file, const struct ingest_report *r)
{
    size_t n = r->n_repaired < INGEST_MAX_NOTES ? r->n_repaired : INGEST_MAX_NOTES;
    for (size_t i = 0; i < n; i++) {
        const struct ingest_note *v = &r->repaired[i];
        printf("%s: features[%zu]%s%s%s: %s\n", file, v->index, v->key[0] ? " (" : "", v->key,
               v->key[0] ? ")" : "", v->reason);
    }
    if (r->n_repaired > n)
        printf("%s: ... and %zu more repaired features\n", file, r->n_repaired - n);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* Opens db, finds the collection and imports file into it: a .shp with its
 * sidecar files beside it, a zip archive holding one Shapefile (by its
 * first bytes or a .zip name), else a GeoJSON FeatureCollection — what
 * POST /collections/{c}/import takes. key names the field matched on
 * (NULL: the layer's key). */
static int import_file(const char *db, const char *coll, const char *file, const char *key,
                       struct ingest_opts *o, struct progress *p, struct ingest_report *r,
                       struct err *e)
{
    store *s = NULL;
    ctx *c = NULL;
    struct layers *ls = NULL;
    const struct layer *l;
    struct file_data text = {NULL, 0, 0};
    int rc;
    if ((rc = store_open(db, 0, &s, e)) || (rc = store_layers_get(s, &ls, e)))
        goto out;
    if (!(l = layers_find(ls, coll))) {
        rc = err_set(e, ERR_NOT_FOUND, "collection '%s' does not exist", coll);
        goto out;
    }
    if (key && (o->key_field = layer_field_index(l, key)) < 0) {
        rc = err_set(e, ERR_PARAM, "--key: '%s' is not a property of %s", key, l->id);
        goto out;
    }
    if (!(c = ctx_new(e))) {
        rc = e->code;
        goto out;
    }
    ctx_set_progress(c, p);
    if (ends_with(file, ".shp")) {
        rc = ingest_shapefile_path(c, s, l, file, o, r, e);
    } else if (!(rc = file_map(file, &text, e))) {
        if (ends_with(file, ".zip") ||
            (text.len >= 4 && (!memcmp(text.data, "PK\3\4", 4) || !memcmp(text.data, "PK\5\6", 4))))
            rc = ingest_shapefile_zip(c, s, l, text.data, text.len, o, r, e);
        else
            rc = ingest_geojson(c, s, l, text.data, text.len, o, r, e);
    }
    if (rc && strncmp(e->msg, file, strlen(file)))
        err_prefix(e, "%s", file);
out:
    file_unmap(&text);
    ctx_free(c);
    layers_free(ls);
    store_close(s);
    return rc;
}

static int cmd_import(int argc, char **argv)
{
    struct ingest_opts o;
    struct ingest_report *r;
    struct err e;
    const char *key = NULL;
    enum tty_progress_mode mode = TTY_PROGRESS_AUTO;
    struct progress p;
    struct tty_progress *t;
    char label[160];
    int rc, json = 0;
    if (wants_help(argc, argv) || argc < 4)
        return usage(
            wants_help(argc, argv),
            "usage: onemap import DB COLLECTION FILE [--crs CRS] [--key FIELD]\n"
            "                     [--mode upsert|replace] [--dry-run] [--make-valid]\n"
            "                     [--encoding NAME] [--json] [--quiet|--progress]\n"
            "Brings a GeoJSON FeatureCollection, a zipped Shapefile or a .shp (with its\n"
            ".shx and .dbf, and .prj and .cpg if present, beside it) into COLLECTION in\n"
            "one transaction: features are matched to stored ones by the layer's key\n"
            "(--key: another field); new keys are added, others changed; --mode replace\n"
            "also removes stored features whose key is absent. If any feature is invalid\n"
            "nothing is written (--make-valid repairs what it can); --dry-run only reports.\n"
            "Coordinates are read x = easting/longitude in the file's CRS (a GeoJSON crs\n"
            "member or the Shapefile's .prj, else CRS84); --crs (e.g. EPSG:4548) overrides\n"
            "it. --encoding: the DBF text encoding when no .cpg names one (default GBK).\n"
            "--json prints the report as the API's import answers it.\n"
            "On a terminal a progress line shows on standard error while it runs;\n"
            "--quiet silences it, --progress shows it from the start, also when standard\n"
            "error is not a terminal.\n");
    ingest_opts_default(&o);
    o.by = "cli";
    err_clear(&e);
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--crs") && i + 1 < argc) {
            if (crs_parse(argv[++i], &o.crs, &e)) {
                fprintf(stderr, "onemap import: --crs: %s\n", e.msg);
                return 2;
            }
        } else if (!strcmp(argv[i], "--key") && i + 1 < argc) {
            key = argv[++i];
        } else if (!strcmp(argv[i], "--encoding") && i + 1 < argc) {
            o.encoding = argv[++i];
        } else if (!strcmp(argv[i], "--make-valid")) {
            o.make_valid = 1;
        } else if (!strcmp(argv[i], "--dry-run")) {
            o.dry_run = 1;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (tty_progress_flag(argv[i], &mode)) {
            continue;
        } else if (!strcmp(argv[i], "--mode") && i + 1 < argc) {
            const char *m = argv[++i];
            if (strcmp(m, "upsert") && strcmp(m, "replace")) {
                fprintf(stderr, "onemap import: --mode: expected upsert or replace\n");
                return 2;
            }
            o.mode = strcmp(m, "replace") ? INGEST_UPSERT : INGEST_REPLACE;
        } else {
            fprintf(stderr, "onemap import: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!(r = calloc(1, sizeof *r)))
        return 1;
    progress_start(&p);
    snprintf(label, sizeof label, "import %s", argv[2]);
    t = tty_progress_start(&p, label, mode);
    rc = import_file(argv[1], argv[2], argv[3], key, &o, &p, r, &e);
    tty_progress_stop(t);
    if (json && (!rc || (rc == ERR_INVALID && r->n_invalid))) {
        struct buf out;
        buf_init(&out);
        ingest_report_json(r, o.dry_run, &out);
        fwrite(out.data, 1, out.len, stdout);
        putchar('\n');
        buf_clear(&out);
    }
    if (rc) {
        if (!json)
            print_invalid(argv[3], r);
        fail(&e);
    } else if (!json) {
        print_repaired(argv[3], r);
        printf("%s: %s%zu added, %zu changed, %zu unchanged, %zu removed in %s "
               "(area change %.1f mu)%s%s\n", argv[3], o.dry_run ? "dry run: " : "", r->added,
               r->changed, r->unchanged, r->removed, argv[2], r->area_change_m2 / (10000.0 / 15.0),
               o.dry_run ? "" : ", change ", o.dry_run ? "" : r->change_id);
    }
    free(r);
    return rc == ERR_PARAM ? 2 : rc ? 1 : 0;
}

/* The demo's file of layer l. */
static void demo_path(const struct layer *l, char *path, size_t size)
{
    snprintf(path, size, "%s/demo/%s.geojson", geodata_dir(), l->id);
}

/* The demo is loaded as a dated history when geodata/demo/history/steps.json
 * is there (its format: geodata/README.md): the base of every layer at one
 * time, then each step at its own. Without it, today's files are imported
 * as they are, now. */
struct demo_history {
    char dir[1024];
    json_t *manifest;          /* NULL: no history */
    char base_at[INSTANT_LEN]; /* the base's time, as stored */
    json_t *steps;             /* borrowed from manifest */
};

/* A string member, or NULL. */
static const char *demo_str(const json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

/* Reads and checks the manifest: known layers, times in order after the
 * base, modes upsert or replace, file names within the history folder. */
static int demo_history_load(struct demo_history *h, const struct layers *ls, struct err *e)
{
    char path[1200], last[INSTANT_LEN];
    json_error_t je;
    json_t *base, *blayers, *v;
    size_t i;
    snprintf(h->dir, sizeof h->dir, "%s/demo/history", geodata_dir());
    snprintf(path, sizeof path, "%s/steps.json", h->dir);
    if (access(path, F_OK) != 0)
        return 0;
    if (!(h->manifest = json_load_file(path, JSON_REJECT_DUPLICATES, &je)))
        return err_set(e, ERR_INVALID, "%s:%d: %s", path, je.line, je.text);
    base = json_object_get(h->manifest, "base");
    blayers = json_object_get(base, "layers");
    h->steps = json_object_get(h->manifest, "steps");
    if (!demo_str(base, "at") || !json_is_array(blayers) || !json_is_array(h->steps))
        return err_set(e, ERR_INVALID, "%s: expected base.at, base.layers and steps", path);
    if (instant_parse(demo_str(base, "at"), h->base_at, "base.at", e))
        return err_prefix(e, "%s", path);
    json_array_foreach(blayers, i, v)
    {
        const char *l = demo_str(v, "layer"), *earlier = demo_str(v, "earlier");
        if (!l || !layers_find(ls, l))
            return err_set(e, ERR_INVALID, "%s: base.layers[%zu]: no such layer", path, i);
        if (!json_is_array(json_object_get(v, "absent")) ||
            (json_object_get(v, "earlier") && (!earlier || strchr(earlier, '/'))))
            return err_set(e, ERR_INVALID,
                           "%s: base.layers[%zu]: expected absent (keys) and earlier (a file "
                           "name in the history folder)",
                           path, i);
    }
    memcpy(last, h->base_at, sizeof last);
    json_array_foreach(h->steps, i, v)
    {
        const char *l = demo_str(v, "layer"), *file = demo_str(v, "file");
        const char *mode = demo_str(v, "mode"), *at = demo_str(v, "at");
        char stored[INSTANT_LEN];
        if (!l || !layers_find(ls, l) || !file || strchr(file, '/') || !at ||
            (mode && strcmp(mode, "upsert") && strcmp(mode, "replace")))
            return err_set(e, ERR_INVALID,
                           "%s: steps[%zu]: expected at, a layer, a file name in the history "
                           "folder and mode upsert or replace",
                           path, i);
        if (instant_parse(at, stored, "at", e))
            return err_prefix(e, "%s: steps[%zu]", path, i);
        if (strcmp(stored, last) <= 0)
            return err_set(e, ERR_INVALID, "%s: steps[%zu]: %s is not after the time before it",
                           path, i, stored);
        memcpy(last, stored, sizeof last);
    }
    return 0;
}

/* The base's entry for layer l, or NULL. */
static json_t *demo_base_entry(const struct demo_history *h, const struct layer *l)
{
    json_t *blayers = json_object_get(json_object_get(h->manifest, "base"), "layers"), *v;
    size_t i;
    json_array_foreach(blayers, i, v)
    {
        if (!strcmp(demo_str(v, "layer"), l->id))
            return v;
    }
    return NULL;
}

/* A feature's key as text ("" when it has none). */
static const char *demo_key(const struct layer *l, const json_t *f, char *buf, size_t size)
{
    const json_t *k = json_object_get(json_object_get(f, "properties"), l->key);
    if (json_is_string(k))
        return json_string_value(k);
    if (json_is_integer(k)) {
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(k));
        return buf;
    }
    return "";
}

/* The base of layer l: today's file without the keys listed absent (a
 * later step adds them), with the earlier versions of the features a later
 * step changes or removes in their place. *text is NULL when the file is
 * the base as it is. */
static int demo_base_text(const struct demo_history *h, const struct layer *l, const char *today,
                          char **text, struct err *e)
{
    json_t *entry = h->manifest ? demo_base_entry(h, l) : NULL, *absent, *v;
    json_t *now = NULL, *old = NULL, *older = NULL, *out = NULL, *feats;
    const char *earlier;
    char path[1200], kbuf[32];
    json_error_t je;
    size_t i;
    int rc = 0;
    *text = NULL;
    absent = json_object_get(entry, "absent");
    earlier = demo_str(entry, "earlier");
    if (!json_array_size(absent) && !earlier)
        return 0;
    if (!(now = json_load_file(today, JSON_REJECT_DUPLICATES, &je))) {
        rc = err_set(e, ERR_INVALID, "%s:%d: %s", today, je.line, je.text);
        goto out;
    }
    /* keys to leave out, and the earlier versions by key */
    if (!(older = json_object()) || !(out = json_object()) || !(feats = json_array())) {
        rc = err_set(e, ERR_INTERNAL, "out of memory");
        goto out;
    }
    json_object_set_new(out, "type", json_string("FeatureCollection"));
    json_object_set_new(out, "features", feats);
    if (earlier) {
        snprintf(path, sizeof path, "%s/%s", h->dir, earlier);
        if (!(old = json_load_file(path, JSON_REJECT_DUPLICATES, &je))) {
            rc = err_set(e, ERR_INVALID, "%s:%d: %s", path, je.line, je.text);
            goto out;
        }
        json_array_foreach(json_object_get(old, "features"), i, v)
        {
            json_object_set(older, demo_key(l, v, kbuf, sizeof kbuf), v);
        }
    }
    json_array_foreach(json_object_get(now, "features"), i, v)
    {
        const char *k = demo_key(l, v, kbuf, sizeof kbuf);
        size_t a;
        json_t *x, *was = json_object_get(older, k);
        int gone = 0;
        json_array_foreach(absent, a, x)
        {
            gone |= json_is_string(x) && !strcmp(json_string_value(x), k);
        }
        if (gone)
            continue;
        json_array_append(feats, was ? was : v);
        if (was)
            json_object_del(older, k);
    }
    /* what a later step removed is in the base only as its earlier version */
    json_array_foreach(json_object_get(old, "features"), i, v)
    {
        if (json_object_get(older, demo_key(l, v, kbuf, sizeof kbuf)))
            json_array_append(feats, v);
    }
    if (!(*text = json_dumps(out, JSON_COMPACT)))
        rc = err_set(e, ERR_INTERNAL, "out of memory");
out:
    json_decref(now);
    json_decref(old);
    json_decref(older);
    json_decref(out);
    return rc;
}

/* Imports text (named name in errors) into layer l, recorded at `at` (NULL:
 * now) under a change id of that time. */
static int demo_ingest(store *s, const struct layer *l, const char *name, const char *text,
                       size_t len, const char *at, enum ingest_mode mode, struct progress *p,
                       struct ingest_report *r, struct err *e)
{
    struct ingest_opts o;
    char change_id[48];
    ctx *c;
    int rc;
    ingest_opts_default(&o);
    o.by = "demo";
    o.at = at;
    o.mode = mode;
    if (at) {
        /* the change id's time is the step's: 2020-03-26T01:30:00.000Z -> 20200326T013000Z */
        size_t n = 0;
        edit_change_id(change_id);
        for (const char *q = at; *q && *q != '.' && n < 15; q++)
            if (*q != '-' && *q != ':')
                change_id[n++] = *q;
        o.change_id = change_id;
    }
    if (!(c = ctx_new(e)))
        return e->code;
    ctx_set_progress(c, p);
    rc = ingest_geojson(c, s, l, text, len, &o, r, e);
    if (rc && strncmp(e->msg, name, strlen(name)))
        err_prefix(e, "%s", name);
    ctx_free(c);
    return rc;
}

/* The size of a file, 0 when it cannot be read (the import says why). */
static double demo_size(const char *path)
{
    struct stat st;
    return stat(path, &st) ? 0 : (double)st.st_size;
}

static int cmd_demo(int argc, char **argv)
{
    struct ingest_report *r = NULL;
    struct layers *ls = NULL, *stored = NULL;
    struct demo_history h = {.manifest = NULL};
    struct err e;
    char *schema = NULL, path[1200], line[256];
    enum tty_progress_mode mode = TTY_PROGRESS_AUTO;
    struct progress p;
    struct tty_progress *t = NULL;
    double total = 0, before = 0, *m2 = NULL;
    long long *count = NULL;
    store *s = NULL;
    json_t *v;
    size_t k;
    int rc = 0;
    if (wants_help(argc, argv) || argc < 2)
        return usage(wants_help(argc, argv),
                     "usage: onemap demo DB [--quiet|--progress]\n"
                     "Creates DB with the 芹阳 demo data set from geodata/demo/: the base of\n"
                     "every layer dated the start of 2019, then the dated steps of\n"
                     "geodata/demo/history/, ending in today's files.\n");
    for (int i = 2; i < argc; i++)
        if (!tty_progress_flag(argv[i], &mode)) {
            fprintf(stderr, "onemap demo: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    err_clear(&e);
    if (access(argv[1], F_OK) == 0) {
        fprintf(stderr, "onemap demo: %s exists already; remove it first\n", argv[1]);
        return 1;
    }
    snprintf(path, sizeof path, "%s/layers.json", geodata_dir());
    progress_start(&p);
    if (cmd_init_db(argv[1], NULL, NULL, &e) || file_read_all(path, &schema, NULL, &e) ||
        layers_parse(schema, &ls, &e) || demo_history_load(&h, ls, &e)) {
        rc = fail(&e);
        goto out;
    }
    /* each file fills its part of the whole, by size */
    for (size_t i = 0; i < ls->n; i++) {
        demo_path(&ls->v[i], path, sizeof path);
        total += demo_size(path);
    }
    json_array_foreach(h.steps, k, v)
    {
        snprintf(path, sizeof path, "%s/%s", h.dir, demo_str(v, "file"));
        total += demo_size(path);
    }
    r = calloc(1, sizeof *r);
    count = calloc(ls->n, sizeof *count);
    m2 = calloc(ls->n, sizeof *m2);
    if (!r || !count || !m2) {
        err_set(&e, ERR_INTERNAL, "out of memory");
        rc = fail(&e);
        goto out;
    }
    if ((rc = store_open(argv[1], 0, &s, &e)) || (rc = store_layers_get(s, &stored, &e))) {
        fail(&e);
        goto out;
    }
    t = tty_progress_start(&p, "demo", mode);
    for (size_t i = 0; i < ls->n + json_array_size(h.steps) && !rc; i++) {
        const struct layer *l;
        const char *at = h.manifest ? h.base_at : NULL;
        enum ingest_mode how = INGEST_UPSERT;
        char *text = NULL, stored_at[INSTANT_LEN];
        struct file_data fd = {NULL, 0, 0};
        double size;
        if (i < ls->n) {
            l = layers_find(stored, ls->v[i].id);
            demo_path(&ls->v[i], path, sizeof path);
            snprintf(line, sizeof line, "demo %s", ls->v[i].id);
        } else {
            json_t *step = json_array_get(h.steps, i - ls->n);
            l = layers_find(stored, demo_str(step, "layer"));
            snprintf(path, sizeof path, "%s/%s", h.dir, demo_str(step, "file"));
            instant_parse(demo_str(step, "at"), stored_at, "at", &e);
            at = stored_at;
            how = demo_str(step, "mode") && !strcmp(demo_str(step, "mode"), "replace")
                      ? INGEST_REPLACE
                      : INGEST_UPSERT;
            snprintf(line, sizeof line, "demo %s %.10s", demo_str(step, "layer"), at);
        }
        if (!l) {
            rc = err_set(&e, ERR_NOT_FOUND, "%s: its layer is not in the database", path);
            break;
        }
        size = demo_size(path);
        progress_window(&p, total > 0 ? before / total : 0,
                        total > 0 ? (before + size) / total : 1);
        before += size;
        tty_progress_label(t, line);
        if (i < ls->n && !(rc = demo_base_text(&h, l, path, &text, &e)) && text)
            rc = demo_ingest(s, l, path, text, strlen(text), at, how, &p, r, &e);
        else if (!rc && !(rc = file_map(path, &fd, &e)))
            rc = demo_ingest(s, l, path, fd.data, fd.len, at, how, &p, r, &e);
        free(text);
        file_unmap(&fd);
        if (!rc) {
            size_t li = (size_t)(l - stored->v);
            count[li] += (long long)r->added - (long long)r->removed;
            m2[li] += r->area_change_m2;
        }
    }
    if (rc) {
        tty_progress_stop(t);
        t = NULL;
        if (rc == ERR_INVALID)
            print_invalid(path, r);
        fail(&e);
        goto out;
    }
    for (size_t i = 0; i < ls->n; i++) {
        const struct layer *l = layers_find(stored, ls->v[i].id);
        size_t li = l ? (size_t)(l - stored->v) : 0;
        snprintf(line, sizeof line, "%-17s %6lld features %12.1f mu\n", ls->v[i].id, count[li],
                 m2[li] / (10000.0 / 15.0));
        tty_progress_print(t, line);
    }
    if (json_array_size(h.steps)) {
        snprintf(line, sizeof line, "%-17s %6zu steps    from %.10s to %.10s\n", "history",
                 json_array_size(h.steps), demo_str(json_array_get(h.steps, 0), "at"),
                 demo_str(json_array_get(h.steps, json_array_size(h.steps) - 1), "at"));
        tty_progress_print(t, line);
    }
out:
    tty_progress_stop(t);
    store_close(s);
    layers_free(stored);
    json_decref(h.manifest);
    free(count);
    free(m2);
    free(r);
    free(schema);
    layers_free(ls);
    return rc ? 1 : 0;
}

/* Writes the export to standard output a megabyte at a time, its progress
 * the last part of the whole. */
static int write_out(const struct buf *out, struct progress *p, struct err *e)
{
    progress_phase(p, PROGRESS_WRITING, PROGRESS_BYTES, out->len, INGEST_EXPORT_SHARE, 1);
    for (size_t off = 0; off < out->len;) {
        size_t n = out->len - off < (1u << 20) ? out->len - off : (1u << 20);
        if (fwrite(out->data + off, 1, n, stdout) != n)
            return err_set(e, ERR_INTERNAL, "standard output: %s", strerror(errno));
        off += n;
        progress_set(p, off);
    }
    if (fflush(stdout))
        return err_set(e, ERR_INTERNAL, "standard output: %s", strerror(errno));
    return 0;
}

static int cmd_export(int argc, char **argv)
{
    store *s = NULL;
    ctx *c = NULL;
    struct layers *ls = NULL;
    const struct layer *l;
    struct buf out;
    struct err e;
    enum tty_progress_mode mode = TTY_PROGRESS_AUTO;
    struct progress p;
    struct tty_progress *t = NULL;
    char label[160];
    char asof[INSTANT_LEN] = "";
    int rc;
    if (wants_help(argc, argv) || argc < 3)
        return usage(
            wants_help(argc, argv),
            "usage: onemap export DB COLLECTION [--asof TIME] [--quiet|--progress]\n"
            "Writes COLLECTION as a GeoJSON FeatureCollection (CRS84) to standard output;\n"
            "with --asof (RFC 3339, e.g. 2019-12-31T23:59:59Z), as it stood at that time.\n");
    err_clear(&e);
    for (int i = 3; i < argc; i++)
        if (!strcmp(argv[i], "--asof") && i + 1 < argc) {
            if (instant_parse(argv[++i], asof, "--asof", &e)) {
                fprintf(stderr, "onemap export: %s\n", e.msg);
                return 2;
            }
        } else if (!tty_progress_flag(argv[i], &mode)) {
            fprintf(stderr, "onemap export: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    buf_init(&out);
    progress_start(&p);
    if ((rc = store_open(argv[1], STORE_READONLY, &s, &e)) || (rc = store_layers_get(s, &ls, &e)))
        goto out;
    if (!(l = layers_find(ls, argv[2]))) {
        rc = err_set(&e, ERR_NOT_FOUND, "collection '%s' does not exist", argv[2]);
        goto out;
    }
    snprintf(label, sizeof label, "export %s", l->id);
    t = tty_progress_start(&p, label, mode);
    if (!(c = ctx_new(&e))) {
        rc = e.code;
        goto out;
    }
    ctx_set_progress(c, &p);
    ctx_set_asof(c, asof[0] ? asof : NULL);
    if (!(rc = ingest_export(c, s, l, &out, &e)))
        rc = out.oom ? err_set(&e, ERR_INTERNAL, "out of memory") : write_out(&out, &p, &e);
out:
    tty_progress_stop(t);
    buf_clear(&out);
    ctx_free(c);
    layers_free(ls);
    store_close(s);
    return rc ? fail(&e) : 0;
}

static int cmd_copy(int argc, char **argv)
{
    store *src = NULL, *dst = NULL;
    struct copy_report r;
    struct err e;
    enum tty_progress_mode mode = TTY_PROGRESS_AUTO;
    struct progress p;
    struct tty_progress *t;
    int rc;
    if (wants_help(argc, argv) || argc < 3)
        return usage(wants_help(argc, argv),
                     "usage: onemap copy SRC DST [--quiet|--progress]\n"
                     "Copies the whole database SRC into DST, a new one: every layer with its\n"
                     "features (ids and versions kept), the history and the tokens. Each is a\n"
                     "SQLite file or a PostgreSQL URL (postgresql://user@host:port/db), either\n"
                     "way round; DST must not be initialised. Counts are checked at the end.\n");
    for (int i = 3; i < argc; i++)
        if (!tty_progress_flag(argv[i], &mode)) {
            fprintf(stderr, "onemap copy: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    err_clear(&e);
    if (!store_is_url(argv[2]) && access(argv[2], F_OK) == 0) {
        fprintf(stderr, "onemap copy: %s exists already; remove it first\n", argv[2]);
        return 1;
    }
    if ((rc = store_open(argv[1], STORE_READONLY, &src, &e)))
        err_prefix(&e, "SRC");
    else if ((rc = store_open(argv[2], STORE_CREATE, &dst, &e)))
        err_prefix(&e, "DST");
    progress_start(&p);
    t = tty_progress_start(&p, "copy", mode);
    if (!rc)
        rc = copy_database(src, dst, &p, &r, &e);
    tty_progress_stop(t);
    if (!rc)
        printf("copied %lld features, %lld history rows, %lld tokens\n", r.features, r.history,
               r.tokens);
    store_close(dst);
    store_close(src);
    if (rc && dst && !store_is_url(argv[2])) { /* no half-made file stays behind */
        char side[4096];
        unlink(argv[2]);
        snprintf(side, sizeof side, "%s-wal", argv[2]);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", argv[2]);
        unlink(side);
    }
    return rc ? fail(&e) : 0;
}

static const char *TOKEN_USAGE =
    "usage: onemap token add DB NAME --role reader|editor|admin [--grid CODE]...\n"
    "       onemap token list DB\n"
    "       onemap token revoke DB NAME\n"
    "'add' prints the secret once, alone on the last line: keep it; only its hash is\n"
    "stored. --grid (repeatable) limits an editor to geometries within those grids.\n";

static int token_add(store *s, int argc, char **argv, struct err *e)
{
    enum role role = ROLE_NONE;
    char grids[1024] = "", token[AUTH_TOKEN_MAX];
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--role") && i + 1 < argc) {
            if (auth_role_parse(argv[++i], &role))
                return err_set(e, ERR_PARAM, "--role: expected reader, editor or admin");
        } else if (!strcmp(argv[i], "--grid") && i + 1 < argc) {
            if (strlen(grids) + strlen(argv[i + 1]) + 2 > sizeof grids || strchr(argv[i + 1], ','))
                return err_set(e, ERR_PARAM, "--grid: too many or malformed grid codes");
            if (grids[0])
                strcat(grids, ",");
            strcat(grids, argv[++i]);
        } else {
            return err_set(e, ERR_PARAM, "unexpected argument '%s'", argv[i]);
        }
    }
    if (role == ROLE_NONE)
        return err_set(e, ERR_PARAM, "--role is required (reader, editor or admin)");
    if (auth_token_create(s, argv[2], role, grids, token, e))
        return e->code;
    printf("token '%s' (%s%s%s) created; its secret, shown only now:\n%s\n", argv[2],
           auth_role_name(role), grids[0] ? ", grids " : "", grids, token);
    return 0;
}

static int cmd_token(int argc, char **argv)
{
    store *s = NULL;
    struct buf out;
    struct err e;
    int rc = 0;
    const char *sub = argc > 1 ? argv[1] : "";
    if (wants_help(argc, argv) || argc < 3 ||
        (strcmp(sub, "add") && strcmp(sub, "list") && strcmp(sub, "revoke"))) {
        fputs(TOKEN_USAGE, wants_help(argc, argv) ? stdout : stderr);
        return wants_help(argc, argv) ? 0 : 2;
    }
    if ((!strcmp(sub, "add") && argc < 4) || (!strcmp(sub, "revoke") && argc != 4) ||
        (!strcmp(sub, "list") && argc != 3)) {
        fputs(TOKEN_USAGE, stderr);
        return 2;
    }
    err_clear(&e);
    buf_init(&out);
    if ((rc = store_open(argv[2], 0, &s, &e)) == 0) {
        /* argv: token SUB DB [NAME ...] -> shift so that argv[2] is NAME */
        if (!strcmp(sub, "add"))
            rc = token_add(s, argc - 1, argv + 1, &e);
        else if (!strcmp(sub, "revoke") && !(rc = store_token_revoke(s, argv[3], &e)))
            printf("token '%s' revoked\n", argv[3]);
        else if (!strcmp(sub, "list") && !(rc = auth_token_list(s, &out, &e)))
            fputs(out.data ? out.data : "", stdout);
    }
    buf_clear(&out);
    store_close(s);
    if (rc && e.code == ERR_PARAM) {
        fprintf(stderr, "onemap token: %s\n", e.msg);
        return 2;
    }
    return rc ? fail(&e) : 0;
}

/* Per worker thread; chosen with tests/bench at 1 000 000 parcels so that
 * the server stays small (the file is in the OS's cache anyway). */
#define DB_CACHE_MB 24
#define DB_MMAP_MB 0
#define DB_DEFAULTS "24 and 0"

static int cmd_serve(int argc, char **argv)
{
    struct app app;
    const char *listen = "127.0.0.1:8080";
    long tile_cache_mb = 256, db_cache_mb = DB_CACHE_MB, db_mmap_mb = DB_MMAP_MB;
    store *s = NULL;
    struct err e;
    int rc;
    memset(&app, 0, sizeof app);
    app.max_body = 64u << 20;
    app.max_url = 16384;
    app.threads = -1; /* below, once the database is known */
    app.heavy_max = -1; /* half the threads, below */
    app.queue_max = 512;
    app.request_timeout = 30;
    app.max_vertices = 200000;
    app.max_features = 100000;
    app.max_header = 16384;
    app.timeout = 30;
    app.max_lag = 5;
    app.read_wait = 0.2;
    if (wants_help(argc, argv)) {
        printf("usage: onemap serve --db DB [--listen ADDR:PORT] [--threads N] [--heavy N]\n"
               "                    [--queue N] [--request-timeout SECONDS] [--private]\n"
               "                    [--max-body BYTES] [--max-features N] [--max-vertices N]\n"
               "                    [--max-url BYTES] [--max-header BYTES] [--timeout SECONDS]\n"
               "                    [--tile-cache MB] [--db-cache MB] [--db-mmap MB]\n"
               "                    [--basemap URL]... [--stop-grace SECONDS]\n"
               "                    [--read-db URL]... [--max-lag SECONDS] [--read-wait MS]\n"
               "Serves DB over HTTP (OGC API Features and Tiles) until SIGINT or SIGTERM;\n"
               "then it takes no new connections and lets the requests in flight finish\n"
               "(up to 20 s). --stop-grace: before that, serve on for this long while\n"
               "/health answers 503, so that a load balancer stops sending first\n"
               "(default 0).\n"
               "--read-db (PostgreSQL): a replica of DB that GETs are read from (repeat\n"
               "it for several); writes and whatever a replica cannot answer go to DB. A\n"
               "write's answer carries where it committed (header Onemap-Position, and a\n"
               "cookie); a read that sends it back is answered from a replica that has\n"
               "replayed that far, waiting up to --read-wait (default 200 ms), or from DB.\n"
               "A replica more than --max-lag behind (default 5 s) or unreachable is\n"
               "skipped until it is back.\n"
               "Each connection has a thread of its own; its requests take one of the\n"
               "workers (a database connection each) while they are answered.\n"
               "--threads: workers (default twice the cores, at least 4; on PostgreSQL,\n"
               "where a worker waits for the network, four times, at least 8). --heavy: how\n"
               "many of them heavy requests (statistics, summaries and overlaps beyond a\n"
               "small box, imports, pages over 1000 features) may hold at once (default\n"
               "half), so light ones always find one.\n"
               "--queue: requests that may wait for a worker (default 512); past it, 503.\n"
               "--request-timeout: seconds a request may take, waiting included (default\n"
               "30; 0: no limit); past it the work stops, a write is rolled back whole, and\n"
               "the answer is 503. A request whose client leaves is stopped too.\n"
               "--private: reads need a token too (any role).\n"
               "Limits (defaults): body 64 MiB, 100000 features per request, 200000\n"
               "vertices per geometry, URL 16384 bytes, headers 16384 bytes together,\n"
               "connections idle for 30 s are closed.\n"
               "--tile-cache: memory for vector tiles, in MB (default 256; 0: no cache).\n"
               "--db-cache, --db-mmap: per worker thread, SQLite's page cache and the part\n"
               "of the database file mapped into memory, in MB (defaults " DB_DEFAULTS ").\n"
               "The operating system caches the file besides; these bound onemap's own\n"
               "memory (each thread maps the file separately).\n"
               "--basemap: an XYZ tile URL template ({z} {x} {y}, {a-c} or {0-7} for hosts)\n"
               "drawn under the layers in the map viewer, e.g. an OSM-style server or\n"
               "天地图 (vec_w + cva_w with your tk key); repeat it for a label overlay.\n"
               "None by default: the viewer then needs no internet access.\n"
               "Each request is logged as one JSON line on standard error.\n");
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--db") && i + 1 < argc)
            app.db_path = argv[++i];
        else if (!strcmp(argv[i], "--listen") && i + 1 < argc)
            listen = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            app.threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--heavy") && i + 1 < argc)
            app.heavy_max = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--queue") && i + 1 < argc)
            app.queue_max = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--request-timeout") && i + 1 < argc) {
            char *end;
            app.request_timeout = strtod(argv[++i], &end);
            if (*end || end == argv[i] || !(app.request_timeout >= 0) ||
                app.request_timeout > 86400) {
                fprintf(stderr, "onemap serve: --request-timeout: expected seconds from 0 (no "
                        "limit) to 86400, not '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--private"))
            app.private_reads = 1;
        else if (!strcmp(argv[i], "--max-body") && i + 1 < argc)
            app.max_body = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--max-features") && i + 1 < argc)
            app.max_features = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--max-vertices") && i + 1 < argc)
            app.max_vertices = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--max-url") && i + 1 < argc)
            app.max_url = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--max-header") && i + 1 < argc)
            app.max_header = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
            app.timeout = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--tile-cache") && i + 1 < argc)
            tile_cache_mb = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--db-cache") && i + 1 < argc)
            db_cache_mb = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--db-mmap") && i + 1 < argc)
            db_mmap_mb = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--read-db") && i + 1 < argc) {
            if (app.n_read_dbs == APP_MAX_READ_DBS || !store_is_url(argv[i + 1])) {
                fprintf(stderr,
                        "onemap serve: --read-db: expected at most %d PostgreSQL URLs "
                        "(postgresql://...), not '%s'\n",
                        APP_MAX_READ_DBS, argv[i + 1]);
                return 2;
            }
            app.read_dbs[app.n_read_dbs++] = argv[++i];
        } else if ((!strcmp(argv[i], "--max-lag") || !strcmp(argv[i], "--read-wait") ||
                    !strcmp(argv[i], "--stop-grace")) &&
                   i + 1 < argc) {
            char *end;
            double v = strtod(argv[i + 1], &end);
            int ms = !strcmp(argv[i], "--read-wait");
            if (*end || end == argv[i + 1] || !(v >= 0) || v > (ms ? 60000 : 3600)) {
                fprintf(stderr, "onemap serve: %s: expected %s from 0 to %d, not '%s'\n", argv[i],
                        ms ? "milliseconds" : "seconds", ms ? 60000 : 3600, argv[i + 1]);
                return 2;
            }
            if (ms)
                app.read_wait = v / 1e3;
            else if (!strcmp(argv[i], "--max-lag"))
                app.max_lag = v;
            else
                app.stop_grace = v;
            i++;
        } else if (!strcmp(argv[i], "--basemap") && i + 1 < argc) {
            char origin[256];
            if (app.n_basemaps == APP_MAX_BASEMAPS ||
                static_basemap_origin(argv[i + 1], origin, sizeof origin)) {
                fprintf(stderr,
                        "onemap serve: --basemap: expected at most %d http(s) URL "
                        "templates such as https://t{0-7}.example.org/{z}/{x}/{y}, "
                        "not '%s'\n",
                        APP_MAX_BASEMAPS, argv[i + 1]);
                return 2;
            }
            app.basemaps[app.n_basemaps++] = argv[++i];
        } else {
            fprintf(stderr, "onemap serve: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (app.threads == -1) {
        /* on PostgreSQL a worker spends much of a request waiting for the
         * network: more of them keep the cores busy */
        int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
        int url = app.db_path && store_is_url(app.db_path);
        app.threads = (url ? 4 : 2) * cores;
        if (app.threads < (url ? 8 : 4))
            app.threads = url ? 8 : 4;
    }
    if (app.heavy_max == -1)
        app.heavy_max = app.threads / 2 < 1 ? 1 : app.threads / 2;
    if (!app.db_path || app.threads < 1 || app.threads > 256 || app.heavy_max < 1 ||
        app.heavy_max > app.threads || app.queue_max > 100000 || !app.max_body ||
        !app.max_features || !app.max_vertices || !app.max_url || !app.max_header ||
        !app.timeout || tile_cache_mb < 0 || tile_cache_mb > 1048576 || db_cache_mb < 1 ||
        db_cache_mb > 65536 || db_mmap_mb < 0 || db_mmap_mb > 1048576) {
        fprintf(stderr, "usage: onemap serve --db DB [--listen ADDR:PORT] [--threads N]\n");
        return 2;
    }
    if (app.n_read_dbs && !store_is_url(app.db_path)) {
        fprintf(stderr, "onemap serve: --read-db: replicas are PostgreSQL's; --db is a SQLite "
                        "file\n");
        return 2;
    }
    err_clear(&e);
    /* Responses (tiles, pages of features) are built in buffers of a few
     * hundred kB; by default glibc maps each from the kernel afresh and
     * unmaps it after, paying page faults on every request. Kept in the
     * heap instead, they are reused. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    store_set_memory(db_cache_mb, db_mmap_mb);
    if ((rc = store_open(app.db_path, 0, &s, &e)))
        return fail(&e); /* the message names the file */
    if ((rc = store_layers_get(s, &app.layers, &e))) {
        store_close(s);
        char shown[512];
        store_shown(app.db_path, shown, sizeof shown);
        err_prefix(&e, "%s", shown);
        return fail(&e);
    }
    store_close(s);
    if (tile_cache_mb > 0 && !(app.tiles = tile_cache_new((size_t)tile_cache_mb << 20))) {
        fprintf(stderr, "onemap serve: out of memory for the tile cache\n");
        layers_free(app.layers);
        return 1;
    }
    app.summary = memo_new(); /* without it (no memory), summaries are computed each time */
    rc = server_run(&app, listen);
    memo_free(app.summary);
    tile_cache_free(app.tiles);
    layers_free(app.layers);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"init", cmd_init}, {"demo", cmd_demo}, {"import", cmd_import},
                {"export", cmd_export}, {"serve", cmd_serve},
                {"token", cmd_token}, {"copy", cmd_copy}};
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("onemap %s\n", ONEMAP_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
        if (!strcmp(argv[1], cmds[i].name))
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "onemap: unknown command '%s'\n%s", argv[1], USAGE);
    return 2;
}
