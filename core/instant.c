/* instant: RFC 3339 date-times read and written as onemap stores them. */
#include "instant.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void format(long long secs, int ms, char out[INSTANT_LEN])
{
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    /* the fields' ranges are gmtime's, said again for the compiler */
    snprintf(out, INSTANT_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000,
             (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
             tm.tm_sec % 100, (ms % 1000 + 1000) % 1000);
}

void instant_now(char out[INSTANT_LEN])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    format((long long)ts.tv_sec, (int)(ts.tv_nsec / 1000000), out);
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar. */
static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return 0;
}

static int month_days(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

static int parse(const char *p, long long *secs, int *ms)
{
    int y, mo, d, h, mi, s, frac = 0, scale = 100, off = 0;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
        return -1;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -1;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &s))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 || s > 60)
        return -1;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        for (; isdigit((unsigned char)*p); p++, scale /= 10)
            frac += scale > 0 ? (*p - '0') * scale : 0;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
            return -1;
        off = sign * (oh * 60 + om) * 60;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    if (s == 60) /* a leap second: the instant just before the next minute */
        s = 59, frac = 999;
    *secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - off;
    *ms = frac;
    return 0;
}

int instant_parse(const char *text, char out[INSTANT_LEN], const char *what, struct err *e)
{
    long long secs;
    int ms;
    if (!text || parse(text, &secs, &ms) || secs < 0 || secs > 253402300799LL)
        return err_set(e, ERR_PARAM,
                       "%s: '%.60s' is not an RFC 3339 date-time such as 2019-12-31T23:59:59Z",
                       what, text ? text : "");
    format(secs, ms, out);
    return 0;
}

double instant_seconds(const char *stored)
{
    long long secs;
    int ms;
    return stored && !parse(stored, &secs, &ms) ? (double)secs + ms / 1000.0 : 0;
}
