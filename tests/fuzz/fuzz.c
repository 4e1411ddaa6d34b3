/* fuzz: shared set-up of the fuzz targets (see fuzz.h). Process-wide state
 * is fine here: a fuzzer runs one input at a time on one thread. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"
#include "ingest.h"

static ctx *the_ctx;
static struct layers *the_layers;
static char dir[64];
static char db_path[2][128];
static store *the_store[2];

static void die(const char *what, const struct err *e)
{
    fprintf(stderr, "fuzz set-up: %s: %s\n", what, e ? e->msg : "");
    exit(2);
}

static const char *geodata(void)
{
    const char *d = getenv("ONEMAP_GEODATA_DIR");
    return d && *d ? d : ONEMAP_GEODATA_DIR;
}

ctx *fuzz_ctx(void)
{
    struct err e;
    err_clear(&e);
    if (!the_ctx && !(the_ctx = ctx_new(&e)))
        die("ctx_new", &e);
    return the_ctx;
}

static char *schema_text(void)
{
    char path[1024], *text = NULL;
    struct err e;
    err_clear(&e);
    snprintf(path, sizeof path, "%s/layers.json", geodata());
    if (file_read_all(path, &text, NULL, &e))
        die(path, &e);
    return text;
}

const struct layers *fuzz_layers(void)
{
    struct err e;
    char *text;
    if (the_layers)
        return the_layers;
    err_clear(&e);
    text = schema_text();
    if (layers_parse(text, &the_layers, &e))
        die("layers_parse", &e);
    free(text);
    return the_layers;
}

static void cleanup(void)
{
    char p[300];
    for (int i = 0; i < 2; i++) {
        store_close(the_store[i]);
        the_store[i] = NULL;
        if (!db_path[i][0])
            continue;
        for (int k = 0; k < 3; k++) {
            snprintf(p, sizeof p, "%s%s", db_path[i], k == 0 ? "" : k == 1 ? "-wal" : "-shm");
            unlink(p);
        }
    }
    if (dir[0])
        rmdir(dir);
    ctx_free(the_ctx);
    the_ctx = NULL;
    layers_free(the_layers);
    the_layers = NULL;
}

/* Rectangles in degrees around 芹阳; attributes valid for each layer. */
static const char *SEED[][2] = {
    {"villages", "{\"type\":\"FeatureCollection\",\"features\":["
                 "{\"type\":\"Feature\",\"properties\":{\"code\":\"330824003001\",\"name\":\"A\"},"
                 "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[118.40,29.12],[118.42,29.12],"
                 "[118.42,29.14],[118.40,29.14],[118.40,29.12]]]}}]}"},
    {"grids", "{\"type\":\"FeatureCollection\",\"features\":["
              "{\"type\":\"Feature\",\"properties\":{\"code\":\"33082400300101\",\"name\":\"G1\","
              "\"level\":\"网格\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[118.40,29.12],"
              "[118.41,29.12],[118.41,29.13],[118.40,29.13],[118.40,29.12]]]}},"
              "{\"type\":\"Feature\",\"properties\":{\"code\":\"33082400300102\",\"name\":\"G2\","
              "\"level\":\"网格\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[118.41,29.12],"
              "[118.42,29.12],[118.42,29.13],[118.41,29.13],[118.41,29.12]]]}}]}"},
    {"parcels", "{\"type\":\"FeatureCollection\",\"features\":["
                "{\"type\":\"Feature\",\"properties\":{\"code\":\"P1\",\"dlbm\":\"0101\",\"qsxz\":\"集体\"},"
                "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[118.401,29.121],[118.402,29.121],"
                "[118.402,29.122],[118.401,29.122],[118.401,29.121]]]}},"
                "{\"type\":\"Feature\",\"properties\":{\"code\":\"P2\",\"dlbm\":\"0702\"},"
                "\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[[[[118.411,29.121],"
                "[118.412,29.121],[118.412,29.122],[118.411,29.121]]],[[[118.413,29.121],"
                "[118.414,29.121],[118.414,29.122],[118.413,29.121]]]]}}]}"},
};

static void seed(store *s)
{
    struct ingest_opts o;
    struct ingest_report *r = calloc(1, sizeof *r);
    struct err e;
    err_clear(&e);
    ingest_opts_default(&o);
    o.by = "fuzz";
    for (size_t i = 0; r && i < sizeof SEED / sizeof *SEED; i++) {
        const struct layer *l = layers_find(fuzz_layers(), SEED[i][0]);
        if (ingest_geojson(fuzz_ctx(), s, l, SEED[i][1], strlen(SEED[i][1]), &o, r, &e))
            die(SEED[i][0], &e);
    }
    free(r);
}

const char *fuzz_db_path(int with_data)
{
    struct err e;
    char *text;
    int k = !!with_data;
    if (the_store[k])
        return db_path[k];
    err_clear(&e);
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/onemap-fuzz-XXXXXX");
        if (!mkdtemp(dir))
            die("mkdtemp", NULL);
        atexit(cleanup);
    }
    snprintf(db_path[k], sizeof db_path[k], "%s/%s.db", dir, k ? "data" : "empty");
    text = schema_text();
    if (store_open(db_path[k], STORE_CREATE, &the_store[k], &e) ||
        store_init(the_store[k], text, &e))
        die(db_path[k], &e);
    free(text);
    if (k)
        seed(the_store[k]);
    return db_path[k];
}

store *fuzz_store(int with_data)
{
    fuzz_db_path(with_data);
    return the_store[!!with_data];
}

char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

void fuzz_require(int cond, const char *what, const struct err *e)
{
    if (cond)
        return;
    fprintf(stderr, "fuzz: broken promise: %s%s%s\n", what, e ? ": " : "", e ? e->msg : "");
    abort();
}
