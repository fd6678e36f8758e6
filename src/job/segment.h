/* Batch segmentation: every enabled segment re-evaluated against every stored profile, for
 * `cdpd job segment` and the schedule of `cdpd serve` (--segment-interval). Semantics are live
 * segmentation's (flow/segment.h, cdp_segment_apply) with the profile alone: no event and no
 * session, so their fields are missing, whatever a segment's eventType says. The store
 * evaluates what it can express in its own query language (store.h segments_apply); the rest
 * is evaluated here, a page of profiles at a time, and only changed profiles are written. */
#ifndef CDP_JOB_SEGMENT_H
#define CDP_JOB_SEGMENT_H

#include "store/store.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cdp_store;
struct cdp_schedule;
struct cdp_config;

struct cdp_segment_job_opts {
    int64_t now_us;         /* now() of the conditions and the segmentation time */
    bool (*stop)(void *ud); /* polled between steps: true ends the run (CDP_E_UNAVAILABLE) */
    void *ud;
    int chunk;         /* profiles read per step by the store (0: its default) */
    int txn_rows;      /* most profile writes per transaction (0: the store's default) */
    int scan_chunk;    /* profiles per step where conditions are evaluated in C (0: 1000) */
    bool no_translate; /* evaluate every condition in C (tests compare the two ways) */
};

/* Runs the job on s (outside any transaction) and gives a summary (a new tree):
 * {job, profiles, seconds, segments: [{id, machine_name, translated, added, removed}],
 *  translated: [machine names], fallback: [machine names], skipped: [{id, why}]}.
 * A segment that no longer compiles is skipped, not an error. On failure a CDP_E_* code and
 * "what failed: why" in err. */
int cdp_segment_job_run(struct cdp_store *s, const struct cdp_segment_job_opts *o, cJSON **summary,
                        char *err, size_t errlen);
/* The summary as one log line. */
void cdp_segment_job_line(const cJSON *summary, char *out, size_t outlen);
/* Runs the job every cfg->segment_interval seconds on a thread of its own with its own
 * connection to the store of context ctx (cdp_store_open_cfg), logging each summary; stop with
 * cdp_schedule_stop (job/schedule.h), which ends a run in progress at its next step. cfg must
 * outlive the schedule. */
int cdp_segment_job_every(struct cdp_schedule **out, const struct cdp_config *cfg,
                          enum cdp_store_context ctx, char *err, size_t errlen);

#endif
