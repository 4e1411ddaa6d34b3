/* progress: how far a long piece of work (an import, an export, a copy) has
 * got. The working threads bump counters; any other thread reads them at any
 * time: the command line's progress line, the server's log and
 * GET /imports/{id}. Every function takes NULL (no one is watching) and then
 * does nothing, so work reports its progress without asking who listens.
 *
 * The work goes through phases (reading, parsing, ...), each counting
 * features or bytes towards a total when one is known, and each filling a
 * given part of the whole, so that one percentage rises from 0 to 100
 * across all of them. A job made of jobs (the demo's layers) gives each its
 * window of the whole first. */
#ifndef ONEMAP_PROGRESS_H
#define ONEMAP_PROGRESS_H

#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

enum progress_phase {
    PROGRESS_STARTING = 0,
    PROGRESS_READING,    /* the input, in bytes, or records when the file has no byte count */
    PROGRESS_PARSING,    /* features parsed and validated */
    PROGRESS_MATCHING,   /* stored features compared with the upload's */
    PROGRESS_WRITING,    /* features (or an export's bytes) written */
    PROGRESS_INDEXING,   /* a bulk load's spatial index being built */
    PROGRESS_COMMITTING, /* the transaction made durable */
    PROGRESS_COPYING,    /* features copied (onemap copy) */
    PROGRESS_HISTORY,    /* history rows copied */
    PROGRESS_CHECKING,   /* counts compared at the end */
    PROGRESS_DONE,
    PROGRESS_N_PHASES
};

enum progress_unit {
    PROGRESS_NONE = 0, /* no count: only the phase and the time */
    PROGRESS_FEATURES,
    PROGRESS_BYTES,
    PROGRESS_ROWS /* history rows */
};

struct progress {
    _Atomic unsigned phase;                 /* enum progress_phase */
    _Atomic unsigned unit;                  /* enum progress_unit */
    _Atomic unsigned long long done, total; /* of the phase; total 0: not known */
    /* the part of the whole the phase fills, in millionths, already inside
     * the window */
    _Atomic unsigned from_ppm, to_ppm;
    unsigned win_from_ppm, win_to_ppm; /* the window (set by the one thread that runs the job) */
    struct timespec started;           /* CLOCK_MONOTONIC */
};

/* A snapshot, consistent enough to show. */
struct progress_view {
    enum progress_phase phase;
    enum progress_unit unit;
    unsigned long long done, total;
    double fraction;  /* of the whole job, 0..1 */
    double elapsed_s; /* since progress_start */
};

/* Zeroes p and starts its clock; the window is the whole job. */
void progress_start(struct progress *p);

/* The part [from, to] (fractions of the whole) that the phases started
 * from now on fill: a job of several jobs gives each one its window. */
void progress_window(struct progress *p, double from, double to);

/* Enters phase ph, which counts unit up to total (0: unknown) and fills
 * [from, to] of the current window. */
void progress_phase(struct progress *p, enum progress_phase ph, enum progress_unit unit,
                    unsigned long long total, double from, double to);

/* Counts n more done in the phase (any thread). */
void progress_add(struct progress *p, unsigned long long n);

/* Sets what is done in the phase (any thread; never goes back). */
void progress_set(struct progress *p, unsigned long long done);

/* The whole job is done. */
void progress_done(struct progress *p);

void progress_read(const struct progress *p, struct progress_view *v);

/* "reading", "parsing", ...: the names GET /imports/{id} gives. */
const char *progress_phase_name(enum progress_phase ph);

/* What a watcher remembers between looks to tell a rate and the time left:
 * the shown fraction never goes back, and rates are taken over the last few
 * seconds. Zero it (or progress_meter_init) before the first look. */
#define PROGRESS_SAMPLES 16

struct progress_meter {
    double t[PROGRESS_SAMPLES], f[PROGRESS_SAMPLES];
    unsigned long long d[PROGRESS_SAMPLES];
    unsigned n, head;
    enum progress_phase phase;
    double shown;
};

void progress_meter_init(struct progress_meter *m);

/* Takes v in: rate is the phase's units per second (0 until known), eta_s the
 * seconds left for the whole job (negative until it can be told). Makes
 * v->fraction the shown one (never lower than before). */
void progress_meter_look(struct progress_meter *m, struct progress_view *v, double *rate,
                         double *eta_s);

/* One line for people: "writing 412,345 of 1,000,000 features (58,210/s)",
 * "reading 120.4 of 400.0 MB (95.1 MB/s)", "indexing" — without percentage
 * or time left, which the caller puts where it wants them. */
void progress_describe(const struct progress_view *v, double rate, char *out, size_t size);

#endif
