/* tty_progress: the command line's progress line. While a long command runs
 * (import, export, demo, copy), a thread redraws one line on standard error
 * a few times a second — what it is doing, how far (percent), how fast and
 * how long is left — and erases it at the end, so that only the command's
 * report stays. Off when standard error is not a terminal (a pipe, CI, cron)
 * unless forced. */
#ifndef ONEMAP_TTY_PROGRESS_H
#define ONEMAP_TTY_PROGRESS_H

#include "progress.h"

enum tty_progress_mode {
    TTY_PROGRESS_AUTO = 0, /* on when standard error is a terminal */
    TTY_PROGRESS_ON,       /* --progress: also from the start of short work */
    TTY_PROGRESS_OFF       /* --quiet */
};

struct tty_progress;

/* Sets mode from a command-line argument: 1 when arg was --quiet or
 * --progress, else 0. */
int tty_progress_flag(const char *arg, enum tty_progress_mode *mode);

/* Starts watching p (which the caller has started): returns NULL when the
 * line is off, or could not be started; the work goes on either way. label
 * heads the line ("import parcels"); it is copied. */
struct tty_progress *tty_progress_start(struct progress *p, const char *label,
                                        enum tty_progress_mode mode);

/* Heads the line with label from now on (a job of several parts). */
void tty_progress_label(struct tty_progress *t, const char *label);

/* Prints text on standard output without the line getting in its way. t
 * may be NULL (plain printing). */
void tty_progress_print(struct tty_progress *t, const char *text);

/* Erases the line and stops watching; t may be NULL. */
void tty_progress_stop(struct tty_progress *t);

#endif
