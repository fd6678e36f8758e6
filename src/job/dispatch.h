/* Sending to destinations (tracardi-flows.md §9): the dispatch worker of the worker role reads
 * the changes collectors made — the change stream of scale-out, or in the embedded mode the
 * local outbox (<data>/queue.db) the pipeline fills while enabled destinations exist — in a
 * consumer group "dispatch", and for each:
 *
 *  - every changed profile goes to the enabled profile destinations (on_profile_change_only),
 *  - every stored event to the enabled event destinations of its type and source (empty: any),
 *
 * when the destination's condition holds; the data is the destination's mapping (an object
 * template over profile@, session@ and event@; missing values are null), sent by the HTTP
 * connector as Tracardi's: {"data": …, "changes": []} to the resource's production url (basic
 * auth with its username and password when both are set), with the method, headers and timeout
 * of destination.init. As in Tracardi, a send that fails is logged, not retried; a change that
 * cannot be read (the store unreachable) is read again after its lease. */
#ifndef CDP_JOB_DISPATCH_H
#define CDP_JOB_DISPATCH_H

#include "store/store.h"

#include <cjson/cJSON.h>
#include <stddef.h>

struct cdp_config;
struct cdp_schedule;

#define CDP_DISPATCH_GROUP "dispatch"

/* The local outbox of the embedded mode: the queue URL for cfg ("local:<data>"). */
void cdp_dispatch_outbox_url(const struct cdp_config *cfg, char *out, size_t outlen);

/* Starts the dispatch worker of context ctx (cfg must outlive it); stop it with
 * cdp_schedule_stop. */
int cdp_dispatch_worker_start(struct cdp_schedule **out, const struct cdp_config *cfg,
                              enum cdp_store_context ctx, char *err, size_t errlen);

/* Whether s holds an enabled destination (the pipeline fills the outbox only then). */
int cdp_dispatch_wanted(struct cdp_store *s, bool *out);

#endif
