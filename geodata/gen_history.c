/* gen_history: the demo's history, the record of how today's files came
 * about since the start of 2019, written to OUTDIR/history/. Keeps the
 * register of the base (keys added later, files of earlier versions) and of
 * the dated steps that gen_parcels.c and gen_overlay.c report while they
 * write their step files, and writes the manifest, steps.json, with the
 * steps in time order. onemap's demo command loads it; tests read it. */
#include "gen_demo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define HIST_MAX_STEPS 128
#define HIST_MAX_ABSENT 64

/* Each layer's steps are recorded at its own hour of the day (UTC; the
 * office works 08:30-17:30 at UTC+8), so that two steps on one day never
 * share an instant. The order is that of the layers in layers.json. */
static const struct {
    const char *layer, *time;
} layers[] = {
    {"villages", "T00:30:00.000Z"},         {"grids", "T01:00:00.000Z"},
    {"parcels", "T06:00:00.000Z"},          {"farmland", "T02:00:00.000Z"},
    {"demolition_sites", "T01:30:00.000Z"}, {"communities", "T02:30:00.000Z"},
};
#define NLAYERS (int)(sizeof layers / sizeof layers[0])

struct step {
    char at[32], file[96], note[512];
    int layer;
};

struct hist {
    char dir[4096];  /* OUTDIR/history */
    char path[4200]; /* the file being written */
    struct step steps[HIST_MAX_STEPS];
    int nsteps;
    struct {
        int layer;
        char key[24];
    } absent[HIST_MAX_ABSENT];
    int nabsent;
    int earlier[NLAYERS]; /* base-LAYER.geojson was written */
};

static int layer_index(const char *layer)
{
    int k;
    for (k = 0; k < NLAYERS; k++)
        if (!strcmp(layers[k].layer, layer))
            return k;
    return -1;
}

int hist_begin(struct demo *d, const char *dir)
{
    struct hist *h = calloc(1, sizeof *h);
    if (!h) {
        fprintf(stderr, "onemap-gen: out of memory\n");
        return -1;
    }
    d->hist = h;
    snprintf(h->dir, sizeof h->dir, "%s/history", dir);
    if (mkdir(h->dir, 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "onemap-gen: %s: %s\n", h->dir, strerror(errno));
        return -1;
    }
    return 0;
}

void hist_free(struct demo *d)
{
    free(d->hist);
    d->hist = NULL;
}

int hist_absent(struct demo *d, const char *layer, const char *key)
{
    struct hist *h = d->hist;
    int l = layer_index(layer);
    if (l < 0 || h->nabsent == HIST_MAX_ABSENT) {
        fprintf(stderr, "onemap-gen: history: too many keys added later\n");
        return -1;
    }
    h->absent[h->nabsent].layer = l;
    snprintf(h->absent[h->nabsent++].key, sizeof h->absent[0].key, "%s", key);
    return 0;
}

int hist_earlier_begin(struct demo *d, struct jw *w, const char *layer)
{
    struct hist *h = d->hist;
    int l = layer_index(layer);
    if (l < 0)
        return -1;
    h->earlier[l] = 1;
    snprintf(h->path, sizeof h->path, "%s/base-%s.geojson", h->dir, layer);
    return demo_file_open(w, h->path, layer);
}

int hist_step_begin(struct demo *d, struct jw *w, const char *day, const char *layer,
                    const char *note)
{
    struct hist *h = d->hist;
    struct step *s;
    int l = layer_index(layer);
    if (l < 0 || h->nsteps == HIST_MAX_STEPS) {
        fprintf(stderr, "onemap-gen: history: too many steps\n");
        return -1;
    }
    s = &h->steps[h->nsteps++];
    s->layer = l;
    snprintf(s->at, sizeof s->at, "%.10s%s", day, layers[l].time);
    snprintf(s->file, sizeof s->file, "%.10s-%s.geojson", day, layer);
    snprintf(s->note, sizeof s->note, "%s", note);
    snprintf(h->path, sizeof h->path, "%s/%s", h->dir, s->file);
    return demo_file_open(w, h->path, layer);
}

int hist_file_end(struct demo *d, struct jw *w)
{
    return demo_file_close(w, d->hist->path);
}

/* A JSON string of the generator's own text: only quotes and backslashes
 * could need escaping, and it has neither. */
static void put_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static int step_cmp(const void *a, const void *b)
{
    const struct step *p = a, *q = b;
    return strcmp(p->at, q->at);
}

static void manifest(const struct hist *h, FILE *f)
{
    int l, k, n;
    fputs("{\n\"description\":", f);
    put_str(f, "芹阳办事处示范数据的历史：2019 年初的底数，再按日期逐步导入，止于今天的 "
               "demo/*.geojson。The history of the 芹阳 demo: the base at the start of "
               "2019, then dated steps, ending in today's demo/*.geojson. All of it is "
               "illustrative.");
    fputs(",\n\"base\":{\"at\":\"" HIST_BASE_AT "\",\"layers\":[", f);
    for (l = 0; l < NLAYERS; l++) {
        fprintf(f, "%s\n{\"layer\":\"%s\",\"file\":\"../%s.geojson\",\"absent\":[", l ? "," : "",
                layers[l].layer, layers[l].layer);
        for (k = n = 0; k < h->nabsent; k++)
            if (h->absent[k].layer == l)
                fprintf(f, "%s\"%s\"", n++ ? "," : "", h->absent[k].key);
        fputc(']', f);
        if (h->earlier[l])
            fprintf(f, ",\"earlier\":\"base-%s.geojson\"", layers[l].layer);
        fputc('}', f);
    }
    fputs("\n]},\n\"steps\":[", f);
    for (k = 0; k < h->nsteps; k++) {
        const struct step *s = &h->steps[k];
        fprintf(f,
                "%s\n{\"at\":\"%s\",\"layer\":\"%s\",\"file\":\"%s\",\"mode\":\"upsert\","
                "\"note\":",
                k ? "," : "", s->at, layers[s->layer].layer, s->file);
        put_str(f, s->note);
        fputc('}', f);
    }
    fputs("\n]}\n", f);
}

int hist_end(struct demo *d)
{
    struct hist *h = d->hist;
    FILE *f;
    int k, bad;
    qsort(h->steps, (size_t)h->nsteps, sizeof h->steps[0], step_cmp);
    for (k = 1; k < h->nsteps; k++)
        if (!strcmp(h->steps[k - 1].at, h->steps[k].at)) {
            fprintf(stderr, "onemap-gen: history: two steps at %s\n", h->steps[k].at);
            return -1;
        }
    snprintf(h->path, sizeof h->path, "%s/steps.json", h->dir);
    if (!(f = fopen(h->path, "wb"))) {
        fprintf(stderr, "onemap-gen: %s: %s\n", h->path, strerror(errno));
        return -1;
    }
    manifest(h, f);
    bad = ferror(f) != 0;
    bad |= fclose(f) != 0;
    if (bad) {
        fprintf(stderr, "onemap-gen: %s: write failed\n", h->path);
        return -1;
    }
    printf("%s: %d steps from %.10s to %.10s\n", h->path, h->nsteps,
           h->nsteps ? h->steps[0].at : "", h->nsteps ? h->steps[h->nsteps - 1].at : "");
    return 0;
}
