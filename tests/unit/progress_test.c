/* progress_test: one percentage across phases and windows, counts from
 * several threads, the watcher's shown fraction that never goes back, rates
 * and time left, and the words of the progress line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "progress.h"

static void test_phases_fill_their_share(void **state)
{
    struct progress p;
    struct progress_view v;
    (void)state;
    progress_start(&p);
    progress_read(&p, &v);
    assert_int_equal(v.phase, PROGRESS_STARTING);
    assert_true(v.fraction == 0);
    progress_phase(&p, PROGRESS_READING, PROGRESS_BYTES, 1000, 0, 0.1);
    progress_set(&p, 500);
    progress_read(&p, &v);
    assert_int_equal(v.unit, PROGRESS_BYTES);
    assert_true(v.fraction > 0.0499 && v.fraction < 0.0501);
    progress_set(&p, 400); /* never goes back */
    progress_read(&p, &v);
    assert_int_equal(v.done, 500);
    progress_phase(&p, PROGRESS_WRITING, PROGRESS_FEATURES, 200, 0.1, 0.9);
    progress_add(&p, 50);
    progress_read(&p, &v);
    assert_int_equal(v.phase, PROGRESS_WRITING);
    assert_int_equal(v.done, 50);
    assert_int_equal(v.total, 200);
    assert_true(v.fraction > 0.2999 && v.fraction < 0.3001); /* 0.1 + 0.8 / 4 */
    progress_add(&p, 1000); /* more than the total counts as all of it */
    progress_read(&p, &v);
    assert_int_equal(v.done, 200);
    assert_true(v.fraction > 0.8999 && v.fraction < 0.9001);
    /* no count: the phase's start */
    progress_phase(&p, PROGRESS_COMMITTING, PROGRESS_NONE, 0, 0.9, 1);
    progress_read(&p, &v);
    assert_true(v.fraction > 0.8999 && v.fraction < 0.9001);
    progress_done(&p);
    progress_read(&p, &v);
    assert_int_equal(v.phase, PROGRESS_DONE);
    assert_true(v.fraction == 1);
    assert_string_equal(progress_phase_name(PROGRESS_MATCHING), "matching");
    assert_string_equal(progress_phase_name(PROGRESS_DONE), "done");
}

static void test_windows_nest(void **state)
{
    struct progress p;
    struct progress_view v;
    (void)state;
    progress_start(&p);
    /* the second of two layers, three quarters of the bytes */
    progress_window(&p, 0.25, 1.0);
    progress_phase(&p, PROGRESS_WRITING, PROGRESS_FEATURES, 10, 0.0, 0.5);
    progress_add(&p, 10);
    progress_read(&p, &v);
    assert_true(v.fraction > 0.6249 && v.fraction < 0.6251); /* 0.25 + 0.75 * 0.5 */
    progress_phase(&p, PROGRESS_COMMITTING, PROGRESS_NONE, 0, 0.5, 1.0);
    progress_read(&p, &v);
    assert_true(v.fraction > 0.6249 && v.fraction < 0.6251);
}

static void test_null_is_no_one_watching(void **state)
{
    struct progress_view v;
    (void)state;
    progress_start(NULL);
    progress_window(NULL, 0, 1);
    progress_phase(NULL, PROGRESS_READING, PROGRESS_BYTES, 10, 0, 1);
    progress_add(NULL, 1);
    progress_set(NULL, 1);
    progress_done(NULL);
    progress_read(NULL, &v);
    assert_true(v.fraction == 0);
}

#define THREADS 4
#define ADDS 100000

static void *adder(void *arg)
{
    for (int i = 0; i < ADDS; i++)
        progress_add(arg, 1);
    return NULL;
}

static void test_counts_from_threads(void **state)
{
    struct progress p;
    struct progress_view v;
    pthread_t t[THREADS];
    (void)state;
    progress_start(&p);
    progress_phase(&p, PROGRESS_PARSING, PROGRESS_FEATURES, THREADS * ADDS, 0, 1);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, adder, &p), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    progress_read(&p, &v);
    assert_int_equal(v.done, THREADS * ADDS);
    assert_true(v.fraction == 1);
}

static struct progress_view view(enum progress_phase ph, unsigned long long done,
                                 unsigned long long total, double fraction, double t)
{
    struct progress_view v;
    memset(&v, 0, sizeof v);
    v.phase = ph;
    v.unit = PROGRESS_FEATURES;
    v.done = done;
    v.total = total;
    v.fraction = fraction;
    v.elapsed_s = t;
    return v;
}

static void test_meter_rate_and_time_left(void **state)
{
    struct progress_meter m;
    struct progress_view v;
    double rate, eta;
    (void)state;
    progress_meter_init(&m);
    /* 1000 features a second, a tenth of the job a second */
    for (int i = 0; i <= 4; i++) {
        v = view(PROGRESS_WRITING, 1000ull * (unsigned)i, 10000, 0.1 * i, 1.0 * i);
        progress_meter_look(&m, &v, &rate, &eta);
    }
    assert_true(rate > 999 && rate < 1001);
    assert_true(eta > 5.99 && eta < 6.01); /* 0.6 left at 0.1 a second */
    /* a fraction that went back (a phase's estimate) is shown as before */
    v = view(PROGRESS_WRITING, 4100, 10000, 0.3, 4.1);
    progress_meter_look(&m, &v, &rate, &eta);
    assert_true(v.fraction > 0.3999 && v.fraction < 0.4001);
    /* a new phase: its rate starts again from its own count */
    v = view(PROGRESS_INDEXING, 0, 0, 0.5, 5.0);
    v.unit = PROGRESS_NONE;
    progress_meter_look(&m, &v, &rate, &eta);
    assert_true(rate == 0);
    assert_true(eta > 4.99 && eta < 5.01); /* the average so far: 5 s for half */
}

static void test_meter_needs_time_before_telling(void **state)
{
    struct progress_meter m;
    struct progress_view v;
    double rate, eta;
    (void)state;
    progress_meter_init(&m);
    v = view(PROGRESS_WRITING, 10, 100, 0.1, 0.1);
    progress_meter_look(&m, &v, &rate, &eta);
    assert_true(rate == 0);
    assert_true(eta < 0);
}

static void test_describe(void **state)
{
    struct progress_view v = view(PROGRESS_WRITING, 412345, 1000000, 0.4, 3);
    char out[160];
    (void)state;
    progress_describe(&v, 58210.4, out, sizeof out);
    assert_string_equal(out, "writing 412,345 of 1,000,000 features (58,210/s)");
    v.total = 0;
    progress_describe(&v, 0, out, sizeof out);
    assert_string_equal(out, "writing 412,345 features");
    v = view(PROGRESS_READING, 120400000, 400000000, 0.03, 1);
    v.unit = PROGRESS_BYTES;
    progress_describe(&v, 95100000, out, sizeof out);
    assert_string_equal(out, "reading 120.4 MB of 400.0 MB (95.1 MB/s)");
    v.total = 2500000000ull;
    progress_describe(&v, 0, out, sizeof out);
    assert_string_equal(out, "reading 120.4 MB of 2.50 GB");
    v.unit = PROGRESS_ROWS;
    v.phase = PROGRESS_HISTORY;
    v.done = 7;
    v.total = 0;
    progress_describe(&v, 0, out, sizeof out);
    assert_string_equal(out, "history 7 rows");
    v.unit = PROGRESS_NONE;
    v.phase = PROGRESS_INDEXING;
    progress_describe(&v, 0, out, sizeof out);
    assert_string_equal(out, "indexing");
    /* a short buffer is cut, never overrun */
    v = view(PROGRESS_WRITING, 412345, 1000000, 0.4, 3);
    progress_describe(&v, 0, out, 8);
    assert_string_equal(out, "writing");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phases_fill_their_share),
        cmocka_unit_test(test_windows_nest),
        cmocka_unit_test(test_null_is_no_one_watching),
        cmocka_unit_test(test_counts_from_threads),
        cmocka_unit_test(test_meter_rate_and_time_left),
        cmocka_unit_test(test_meter_needs_time_before_telling),
        cmocka_unit_test(test_describe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
