/* Wall-clock time as Tracardi writes it: ISO 8601 UTC with microseconds, and the clock that
 * business times come from, which tests and demos may move (CDPD_CLOCK_OFFSET). */
#ifndef CDP_CORE_CLOCK_H
#define CDP_CORE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define CDP_ISO_LEN 33 /* "2024-01-18T10:11:12.123456+00:00" + NUL */

/* Microseconds since the epoch: CLOCK_REALTIME plus the offset set at start (0 unless set).
 * Every business-visible time comes from here: events, profiles, sessions, consents and their
 * expiry, rules' and flows' now, time-ordered ids, the management API's timestamps. What stays on
 * the real clock: log lines (cdp_clock_real_us), management tokens, user account expiry and login
 * throttling (src/api/auth.c: security must not be moved by a testing aid), the store's row
 * bookkeeping (store_sqlite.c `updated`), and timed waits (pthread_cond_timedwait). */
int64_t cdp_clock_now_us(void);
/* Microseconds since the epoch, never offset: for log lines. */
int64_t cdp_clock_real_us(void);
/* Moves cdp_clock_now_us by offset_us. Call once at start, before any thread that reads the
 * clock is created (the offset is a plain static, read without synchronisation). */
void cdp_clock_set_offset(int64_t offset_us);
/* The offset cdp_clock_now_us adds, 0 unless set. */
int64_t cdp_clock_offset_us(void);
/* Parses a signed offset: a number with a unit ("31d", "-2h", "90s", "+1w", "15m") or a plain
 * number of seconds ("3600", "-60"); at most 100 years either way. -1 if it is not one. */
int cdp_clock_parse_offset(const char *s, int64_t *offset_us);
/* Seconds from CLOCK_MONOTONIC, for durations. */
double cdp_clock_mono(void);
/* Formats t_us into out (at least CDP_ISO_LEN bytes). */
void cdp_clock_iso(int64_t t_us, char *out);
/* Parses an ISO 8601 date-time ("2024-01-18T10:11:12[.frac][Z|+hh:mm]"); -1 if it is not one. */
int cdp_clock_parse_iso(const char *s, int64_t *t_us);
/* Day of the week of t_us, 0 = Monday as Python's weekday(). */
int cdp_clock_weekday(int64_t t_us);

#endif
