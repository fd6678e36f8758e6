/* A job run periodically on a thread of its own (the compute role of DESIGN.md §2 in one
 * process): the first run one interval after the start, the next one interval after a run
 * ends. Stopping wakes the thread and asks a run in progress to end at its next step. */
#ifndef CDP_JOB_SCHEDULE_H
#define CDP_JOB_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>

struct cdp_schedule;

/* Starts the thread; run(ud, stop, stop_ud) is one run, which polls stop(stop_ud) between its
 * steps. The schedule owns ud from here on (also on failure) and frees it with ud_free. */
int cdp_schedule_start(struct cdp_schedule **out, const char *name, long interval_s,
                       void (*run)(void *ud, bool (*stop)(void *), void *stop_ud), void *ud,
                       void (*ud_free)(void *), char *err, size_t errlen);
/* Stops and joins the thread and frees the schedule; NULL is a no-op. */
void cdp_schedule_stop(struct cdp_schedule *s);

#endif
