/* progress: counters bumped by the work, read by whoever watches it. */
#include "progress.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define PPM 1000000u

static unsigned ppm(double f)
{
    if (!(f > 0))
        return 0;
    if (f >= 1)
        return PPM;
    return (unsigned)(f * PPM + 0.5);
}

void progress_start(struct progress *p)
{
    if (!p)
        return;
    atomic_store(&p->phase, PROGRESS_STARTING);
    atomic_store(&p->unit, PROGRESS_NONE);
    atomic_store(&p->done, 0);
    atomic_store(&p->total, 0);
    atomic_store(&p->from_ppm, 0);
    atomic_store(&p->to_ppm, 0);
    p->win_from_ppm = 0;
    p->win_to_ppm = PPM;
    clock_gettime(CLOCK_MONOTONIC, &p->started);
}

void progress_window(struct progress *p, double from, double to)
{
    if (!p)
        return;
    p->win_from_ppm = ppm(from);
    p->win_to_ppm = ppm(to) > p->win_from_ppm ? ppm(to) : p->win_from_ppm;
}

void progress_phase(struct progress *p, enum progress_phase ph, enum progress_unit unit,
                    unsigned long long total, double from, double to)
{
    unsigned span, lo, hi;
    if (!p)
        return;
    span = p->win_to_ppm - p->win_from_ppm;
    lo = p->win_from_ppm + (unsigned)((double)span * (from < 0 ? 0 : from > 1 ? 1 : from));
    hi = p->win_from_ppm + (unsigned)((double)span * (to < 0 ? 0 : to > 1 ? 1 : to));
    /* the counts first, then the phase: a reader that sees the new phase
     * sees its counts (or later ones) */
    atomic_store(&p->done, 0);
    atomic_store(&p->total, total);
    atomic_store(&p->unit, unit);
    atomic_store(&p->from_ppm, lo);
    atomic_store(&p->to_ppm, hi < lo ? lo : hi);
    atomic_store(&p->phase, ph);
}

void progress_add(struct progress *p, unsigned long long n)
{
    if (p)
        atomic_fetch_add(&p->done, n);
}

void progress_set(struct progress *p, unsigned long long done)
{
    unsigned long long old;
    if (!p)
        return;
    old = atomic_load(&p->done);
    while (old < done && !atomic_compare_exchange_weak(&p->done, &old, done))
        ;
}

void progress_done(struct progress *p)
{
    if (!p)
        return;
    atomic_store(&p->from_ppm, PPM);
    atomic_store(&p->to_ppm, PPM);
    atomic_store(&p->phase, PROGRESS_DONE);
}

void progress_read(const struct progress *p, struct progress_view *v)
{
    struct timespec now;
    unsigned lo, hi;
    memset(v, 0, sizeof *v);
    if (!p)
        return;
    v->phase = atomic_load(&p->phase);
    v->unit = atomic_load(&p->unit);
    v->total = atomic_load(&p->total);
    v->done = atomic_load(&p->done);
    lo = atomic_load(&p->from_ppm);
    hi = atomic_load(&p->to_ppm);
    if (v->total && v->done > v->total)
        v->done = v->total;
    v->fraction = lo / (double)PPM;
    if (v->total && hi > lo)
        v->fraction += (hi - lo) / (double)PPM * ((double)v->done / (double)v->total);
    if (v->fraction > 1)
        v->fraction = 1;
    clock_gettime(CLOCK_MONOTONIC, &now);
    v->elapsed_s =
        (double)(now.tv_sec - p->started.tv_sec) + (double)(now.tv_nsec - p->started.tv_nsec) / 1e9;
}

const char *progress_phase_name(enum progress_phase ph)
{
    static const char *const names[PROGRESS_N_PHASES] = {
        "starting",   "reading", "parsing", "matching", "writing", "indexing",
        "committing", "copying", "history", "checking", "done"};
    return (unsigned)ph < PROGRESS_N_PHASES ? names[ph] : "working";
}

void progress_meter_init(struct progress_meter *m)
{
    memset(m, 0, sizeof *m);
}

/* Seconds over which rates are taken. */
#define RATE_WINDOW_S 5.0

void progress_meter_look(struct progress_meter *m, struct progress_view *v, double *rate,
                         double *eta_s)
{
    unsigned oldest, k;
    double dt;
    if (v->fraction < m->shown)
        v->fraction = m->shown;
    m->shown = v->fraction;
    if (m->n && v->phase != m->phase) {
        /* the phase's rate starts again from its last look; the whole job's
         * fraction goes on */
        unsigned last = (m->head + PROGRESS_SAMPLES - 1) % PROGRESS_SAMPLES;
        m->t[0] = m->t[last], m->f[0] = m->f[last], m->d[0] = 0;
        m->n = 1, m->head = 1;
    }
    m->phase = v->phase;
    /* drop samples older than the window, keeping at least one */
    while (m->n > 1) {
        oldest = (m->head + PROGRESS_SAMPLES - m->n) % PROGRESS_SAMPLES;
        if (v->elapsed_s - m->t[oldest] <= RATE_WINDOW_S)
            break;
        m->n--;
    }
    *rate = 0;
    *eta_s = -1;
    if (m->n && v->unit != PROGRESS_NONE && v->total) {
        /* a phase without counts does not move the fraction: the average
         * so far tells the time left better than the last seconds */
        oldest = (m->head + PROGRESS_SAMPLES - m->n) % PROGRESS_SAMPLES;
        dt = v->elapsed_s - m->t[oldest];
        if (dt >= 0.2) {
            if (v->done >= m->d[oldest])
                *rate = (double)(v->done - m->d[oldest]) / dt;
            if (v->fraction > m->f[oldest] + 1e-4 && v->elapsed_s >= 1.0)
                *eta_s = (1 - v->fraction) * dt / (v->fraction - m->f[oldest]);
        }
    }
    if (*eta_s < 0 && v->fraction > 0.02 && v->elapsed_s >= 1.0)
        *eta_s = v->elapsed_s * (1 - v->fraction) / v->fraction; /* the average so far */
    k = m->head;
    m->t[k] = v->elapsed_s, m->f[k] = v->fraction, m->d[k] = v->done;
    m->head = (k + 1) % PROGRESS_SAMPLES;
    if (m->n < PROGRESS_SAMPLES)
        m->n++;
}

/* 1234567 as "1,234,567". */
static void grouped(unsigned long long x, char *out, size_t size)
{
    char digits[32];
    size_t n = (size_t)snprintf(digits, sizeof digits, "%llu", x), o = 0;
    for (size_t i = 0; i < n && o + 2 < size; i++) {
        if (i && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

static void megabytes(double bytes, char *out, size_t size)
{
    snprintf(out, size, bytes >= 1e9 ? "%.2f GB" : "%.1f MB",
             bytes >= 1e9 ? bytes / 1e9 : bytes / 1e6);
}

void progress_describe(const struct progress_view *v, double rate, char *out, size_t size)
{
    const char *name = progress_phase_name(v->phase);
    char a[32], b[32], r[32];
    if (v->unit == PROGRESS_FEATURES || v->unit == PROGRESS_ROWS) {
        const char *what = v->unit == PROGRESS_ROWS ? "rows" : "features";
        grouped(v->done, a, sizeof a);
        grouped(v->total, b, sizeof b);
        grouped((unsigned long long)llround(rate), r, sizeof r);
        if (v->total)
            snprintf(out, size, "%s %s of %s %s", name, a, b, what);
        else
            snprintf(out, size, "%s %s %s", name, a, what);
        if (rate > 0)
            snprintf(out + strlen(out), size - strlen(out), " (%s/s)", r);
    } else if (v->unit == PROGRESS_BYTES) {
        megabytes((double)v->done, a, sizeof a);
        megabytes((double)v->total, b, sizeof b);
        if (v->total)
            snprintf(out, size, "%s %s of %s", name, a, b);
        else
            snprintf(out, size, "%s %s", name, a);
        if (rate > 0) {
            megabytes(rate, r, sizeof r);
            snprintf(out + strlen(out), size - strlen(out), " (%s/s)", r);
        }
    } else {
        snprintf(out, size, "%s", name);
    }
}
