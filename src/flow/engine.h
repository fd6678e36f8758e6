/* The workflow engine (tracardi-flows.md §3-§4): a flow's JSON is validated and compiled once
 * into a plan (plugins found, configs set up, the part reachable from the start nodes sorted
 * topologically, cycles refused), and a plan is run for an event as a resumable state machine
 * so that a node waiting for I/O parks its flow instead of a thread. */
#ifndef CDP_FLOW_ENGINE_H
#define CDP_FLOW_ENGINE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/flow.h"

/* Per-flow limits (Tracardi has none, §12.1 item 15). */
#define CDP_FLOW_MAX_NODES      500  /* nodes in one flow */
#define CDP_FLOW_MAX_EXECUTIONS 1000 /* node runs in one flow run */

struct cdp_flow_plan;

/* Compiles a flow record ({id, name, flowGraph: {nodes, edges}, ...}). On failure returns
 * CDP_E_INVALID (or CDP_E_NOMEM) with a message naming the node and the reason in err. */
int cdp_flow_compile(const cJSON *flow, struct cdp_flow_plan **out, char *err, size_t errlen);
/* Plans are reference-counted: shared by caches and the runs using them. */
struct cdp_flow_plan *cdp_flow_plan_ref(struct cdp_flow_plan *p);
void cdp_flow_plan_unref(struct cdp_flow_plan *p);
const char *cdp_flow_plan_id(const struct cdp_flow_plan *p);
const char *cdp_flow_plan_name(const struct cdp_flow_plan *p);

/* One run of a plan against a context. */
struct cdp_flow_run;

/* time_limit_us bounds the run from its start, waits included (0: none); trace collects the
 * per-node debug information (cdp_flow_run_trace). */
struct cdp_flow_run *cdp_flow_run_new(struct cdp_flow_plan *p, struct cdp_flow_ctx *ctx,
                                      int64_t time_limit_us, bool trace);
/* Runs until the flow ends (0), a node waits (CDP_FLOW_WAIT: perform cdp_flow_run_wait, then
 * cdp_flow_run_resume and step again) or the flow fails (a CDP_E_* code; the message is
 * cdp_flow_run_error). */
int cdp_flow_run_step(struct cdp_flow_run *r);
const struct cdp_flow_wait *cdp_flow_run_wait(const struct cdp_flow_run *r);
/* Hands the outcome of the wait (taken) to the waiting node. */
void cdp_flow_run_resume(struct cdp_flow_run *r, cJSON *outcome);
/* "Flow `name` node `node`: reason", or NULL. */
const char *cdp_flow_run_error(const struct cdp_flow_run *r);
/* Seconds until the run's time limit (negative when past it; a large number without one). */
double cdp_flow_run_time_left(const struct cdp_flow_run *r);
/* The Tracardi DebugInfo-shaped trace: {flow, event, nodes: {id: {..., calls: [...]}}, edges}. */
cJSON *cdp_flow_run_trace(const struct cdp_flow_run *r);
void cdp_flow_run_free(struct cdp_flow_run *r);

#endif
