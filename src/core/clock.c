/* Time helpers, all in UTC, and the wall clock business times come from (movable for tests). */
#include "core/clock.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Set once at start (cdp_clock_set_offset) before the threads that read it exist, so a plain
 * load suffices: cdp_clock_now_us runs many times per request. */
static int64_t clock_offset_us;

int64_t cdp_clock_real_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t cdp_clock_now_us(void)
{
    return cdp_clock_real_us() + clock_offset_us;
}

void cdp_clock_set_offset(int64_t offset_us)
{
    clock_offset_us = offset_us;
}

int64_t cdp_clock_offset_us(void)
{
    return clock_offset_us;
}

int cdp_clock_parse_offset(const char *s, int64_t *offset_us)
{
    static const struct {
        char unit;
        int64_t secs;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}};
    const int64_t max_secs = 100LL * 366 * 86400;
    if (!s)
        return -1;
    const char *p = s;
    int64_t sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*p))
        return -1;
    char *end;
    errno = 0;
    long long n = strtoll(p, &end, 10);
    if (errno || n > max_secs)
        return -1;
    int64_t unit = 1;
    if (*end) {
        size_t i = 0;
        while (i < sizeof(units) / sizeof(units[0]) &&
               units[i].unit != tolower((unsigned char)*end))
            i++;
        if (i == sizeof(units) / sizeof(units[0]) || end[1])
            return -1;
        unit = units[i].secs;
    }
    if (n * unit > max_secs)
        return -1;
    *offset_us = sign * n * unit * 1000000;
    return 0;
}

double cdp_clock_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *put_digits(char *p, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + width;
}

/* Formatted by hand: this runs several times per event, and snprintf showed in profiles. */
void cdp_clock_iso(int64_t t_us, char *out)
{
    time_t sec = (time_t)(t_us / 1000000);
    struct tm tm = {0};
    gmtime_r(&sec, &tm); /* out of its range tm stays zeroed: a wrong date, never garbage */
    char *p = put_digits(out, (unsigned)(tm.tm_year + 1900) % 10000, 4);
    *p++ = '-';
    p = put_digits(p, (unsigned)(tm.tm_mon + 1), 2);
    *p++ = '-';
    p = put_digits(p, (unsigned)tm.tm_mday, 2);
    *p++ = 'T';
    p = put_digits(p, (unsigned)tm.tm_hour, 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)tm.tm_min, 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)tm.tm_sec, 2);
    *p++ = '.';
    p = put_digits(p, (unsigned)(t_us % 1000000), 6);
    memcpy(p, "+00:00", 7);
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int cdp_clock_parse_iso(const char *s, int64_t *t_us)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    int y, mo, d, h = 0, mi = 0, se = 0;
    if (strlen(s) < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d))
        return -1;
    const char *p = s + 10;
    long frac = 0;
    int off = 0;
    if (*p == 'T' || *p == ' ') {
        if (strlen(p) < 6 || digits(p + 1, 2, &h) || p[3] != ':' || digits(p + 4, 2, &mi))
            return -1;
        p += 6;
        if (*p == ':') {
            if (digits(p + 1, 2, &se))
                return -1;
            p += 3;
        }
        if (*p == '.') {
            p++;
            int n = 0;
            while (*p >= '0' && *p <= '9') {
                if (n < 6) {
                    frac = frac * 10 + (*p - '0');
                    n++;
                }
                p++;
            }
            while (n++ < 6)
                frac *= 10;
        }
        if (*p == 'Z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om = 0;
            if (digits(p + 1, 2, &oh))
                return -1;
            const char *q = p + 3;
            if (*q == ':')
                q++;
            if (*q && digits(q, 2, &om))
                return -1;
            off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
            p = *q ? q + 2 : q;
        }
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    time_t t = timegm(&tm);
    *t_us = ((int64_t)t - off) * 1000000 + frac;
    return 0;
}

int cdp_clock_weekday(int64_t t_us)
{
    time_t sec = (time_t)(t_us / 1000000);
    struct tm tm = {0};
    gmtime_r(&sec, &tm);
    return (tm.tm_wday + 6) % 7;
}
