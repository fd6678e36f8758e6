/* Wall-clock time as Tracardi writes it: ISO 8601 UTC with microseconds. */
#ifndef CDP_CORE_CLOCK_H
#define CDP_CORE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define CDP_ISO_LEN 33 /* "2024-01-18T10:11:12.123456+00:00" + NUL */

/* Microseconds since the epoch (CLOCK_REALTIME). */
int64_t cdp_clock_now_us(void);
/* Seconds from CLOCK_MONOTONIC, for durations. */
double cdp_clock_mono(void);
/* Formats t_us into out (at least CDP_ISO_LEN bytes). */
void cdp_clock_iso(int64_t t_us, char *out);
/* Parses an ISO 8601 date-time ("2024-01-18T10:11:12[.frac][Z|+hh:mm]"); -1 if it is not one. */
int cdp_clock_parse_iso(const char *s, int64_t *t_us);
/* Day of the week of t_us, 0 = Monday as Python's weekday(). */
int cdp_clock_weekday(int64_t t_us);

#endif
