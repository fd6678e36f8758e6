/* The storage worker of scale-out (store/cluster.h): a thread that takes the change stream of
 * a context in batches and writes it into the shared store in one transaction a batch, with
 * idempotent writes keyed by id (profiles and sessions only when their fencing token is newer
 * than the stored one, events only once), then acknowledges the batch. Entries of a worker
 * that dies are taken over by another after their lease; an entry the store refuses on its
 * own is retried alone and dead-lettered after its attempts; while the store is unreachable
 * the batch is retried until it comes back. */
#ifndef CDP_JOB_STORAGE_H
#define CDP_JOB_STORAGE_H

#include "store/store.h"

#include <stddef.h>

struct cdp_config;
struct cdp_schedule;

/* Starts the worker on the stream of context ctx; cfg must outlive it. Stop it with
 * cdp_schedule_stop (job/schedule.h): a batch in progress is finished first. */
int cdp_storage_worker_start(struct cdp_schedule **out, const struct cdp_config *cfg,
                             enum cdp_store_context ctx, char *err, size_t errlen);

#endif
