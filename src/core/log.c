/* One formatted write per line so lines from threads do not interleave. */
#include "core/log.h"
#include "core/clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum cdp_log_level cdp_log_min = CDP_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int cdp_log_parse_level(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

void cdp_log(enum cdp_log_level lvl, const char *fmt, ...)
{
    if (lvl < cdp_log_min)
        return;
    char line[1024], ts[CDP_ISO_LEN];
    cdp_clock_iso(cdp_clock_real_us(), ts); /* real time, even with CDPD_CLOCK_OFFSET */
    int n = snprintf(line, sizeof(line), "%.23s %-5s ", ts, level_names[lvl]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    if (write(STDERR_FILENO, line, len) < 0)
        return;
}
