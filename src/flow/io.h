/* Performs the waits flows ask for (flow/flow.h: HTTP calls and sleeps) on one thread of its
 * own with libcurl's multi interface, so a slow remote server holds up only the flow that
 * called it. The pipeline submits a wait with a token and gets the outcome back through a
 * callback on the I/O thread; the management API's debugger uses the blocking variant. */
#ifndef CDP_FLOW_IO_H
#define CDP_FLOW_IO_H

#include <cjson/cJSON.h>

#include "flow/flow.h"

struct cdp_flow_io;

/* Called on the I/O thread when a wait is over; outcome (taken) is what call->io becomes:
 * HTTP {"status", "headers", "content"} or {"error": "..."}; SLEEP {}. */
typedef void (*cdp_flow_io_done)(void *ud, void *token, cJSON *outcome);

int cdp_flow_io_start(struct cdp_flow_io **out, cdp_flow_io_done done, void *ud);
/* Queues a copy of w; done(ud, token, outcome) follows exactly once, also on failure and on
 * stop (with {"error": "shutting down"}). */
void cdp_flow_io_submit(struct cdp_flow_io *io, const struct cdp_flow_wait *w, void *token);
/* Ends every pending wait (their callbacks run) and joins the thread. */
void cdp_flow_io_stop(struct cdp_flow_io *io);

/* Performs w on the calling thread and returns the outcome (caller frees). */
cJSON *cdp_flow_io_run_sync(const struct cdp_flow_wait *w);

#endif
