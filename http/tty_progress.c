/* tty_progress: one line on standard error, redrawn in place ("\r", then
 * the line, then "erase to the end of the line"), by a thread of its own. */
#include "tty_progress.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define LOOK_MS 100      /* how often the thread looks */
#define FIRST_DRAW_S 0.5 /* work done sooner shows no line (unless forced) */
#define REDRAW_S 0.25    /* at most four times a second */

struct tty_progress {
    struct progress *p;
    struct progress_meter meter;
    char label[128];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    double first_s;  /* when the first line may be drawn */
    int drawn;       /* a line is on the screen */
    double drawn_at; /* its time (progress elapsed) */
};

int tty_progress_flag(const char *arg, enum tty_progress_mode *mode)
{
    if (!strcmp(arg, "--quiet") || !strcmp(arg, "-q"))
        *mode = TTY_PROGRESS_OFF;
    else if (!strcmp(arg, "--progress"))
        *mode = TTY_PROGRESS_ON;
    else
        return 0;
    return 1;
}

static size_t columns(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

/* Cuts s to at most n characters (UTF-8 sequences kept whole). */
static void cut(char *s, size_t n)
{
    size_t chars = 0;
    for (char *q = s; *q; q++) {
        if (((unsigned char)*q & 0xC0) == 0x80)
            continue;
        if (chars++ == n) {
            *q = '\0';
            return;
        }
    }
}

static void span(double s, char *out, size_t size)
{
    long x = (long)(s + 0.5);
    if (x >= 3600)
        snprintf(out, size, "%ld h %02ld min left", x / 3600, x / 60 % 60);
    else if (x >= 60)
        snprintf(out, size, "%ld min %02ld s left", x / 60, x % 60);
    else
        snprintf(out, size, "%ld s left", x);
}

/* Draws the line; called with mu held. */
static void draw(struct tty_progress *t, struct progress_view *v)
{
    char what[160], left[48] = "", line[512];
    double rate, eta;
    progress_meter_look(&t->meter, v, &rate, &eta);
    progress_describe(v, rate, what, sizeof what);
    if (eta >= 0 && v->phase != PROGRESS_DONE)
        span(eta, left, sizeof left);
    snprintf(line, sizeof line, "%s %3.0f%%  %s%s%s", t->label, 100 * v->fraction, left,
             left[0] ? "  " : "", what);
    cut(line, columns() - 1);
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    t->drawn = 1;
    t->drawn_at = v->elapsed_s;
}

static void erase(struct tty_progress *t)
{
    if (t->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        t->drawn = 0;
    }
}

static void *run(void *arg)
{
    struct tty_progress *t = arg;
    pthread_mutex_lock(&t->mu);
    while (!t->stop) {
        struct timespec until;
        struct progress_view v;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += LOOK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!t->stop && pthread_cond_timedwait(&t->cv, &t->mu, &until) != ETIMEDOUT)
            ;
        if (t->stop)
            break;
        progress_read(t->p, &v);
        if (v.elapsed_s >= t->first_s && (!t->drawn || v.elapsed_s - t->drawn_at >= REDRAW_S))
            draw(t, &v);
    }
    erase(t);
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

struct tty_progress *tty_progress_start(struct progress *p, const char *label,
                                        enum tty_progress_mode mode)
{
    struct tty_progress *t;
    if (!p || mode == TTY_PROGRESS_OFF || (mode == TTY_PROGRESS_AUTO && !isatty(STDERR_FILENO)))
        return NULL;
    if (!(t = calloc(1, sizeof *t)))
        return NULL;
    t->p = p;
    t->first_s = mode == TTY_PROGRESS_ON ? 0 : FIRST_DRAW_S;
    progress_meter_init(&t->meter);
    snprintf(t->label, sizeof t->label, "%s", label);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    if (pthread_create(&t->thread, NULL, run, t)) {
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->cv);
        free(t);
        return NULL;
    }
    return t;
}

void tty_progress_label(struct tty_progress *t, const char *label)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    snprintf(t->label, sizeof t->label, "%s", label);
    pthread_mutex_unlock(&t->mu);
}

void tty_progress_print(struct tty_progress *t, const char *text)
{
    if (t) {
        pthread_mutex_lock(&t->mu);
        erase(t);
    }
    fputs(text, stdout);
    fflush(stdout);
    if (t)
        pthread_mutex_unlock(&t->mu);
}

void tty_progress_stop(struct tty_progress *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = 1;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t);
}
