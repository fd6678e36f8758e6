/* Scale-out: the store that collectors, the API and workers share across processes when
 * `--cache` and `--queue` are given. It wraps the shared store (PostgreSQL) with the cache-and-
 * lock seam and the queue seam, behind the same struct cdp_store:
 *
 *  - inside a transaction, reading a profile or session takes its lock (a lease, waiting a
 *    little while another process holds it), so read-modify-write never loses an update;
 *  - its writes (profiles, sessions, events) are kept until commit, which publishes them as one
 *    entry of the change stream and writes the profiles and sessions to the cache with their
 *    fencing tokens; then the locks are released. A collector answers after that: the change
 *    survives the collector, and storage workers (cdp_storage_worker_*) batch the stream into
 *    the shared store, idempotently and in token order;
 *  - reads of profiles and sessions see the cache first, so a change is visible to every
 *    process at once; everything else (events, searches, config, users) reads the shared store;
 *  - what the shared store does itself to people (merges, undo, erasure) first waits until the
 *    workers have stored every change published before it, then drops the cached copies. */
#ifndef CDP_STORE_CLUSTER_H
#define CDP_STORE_CLUSTER_H

#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>

struct cdp_config;

/* The stream of changes of a context ("cdpd:production:changes") and the storage workers'
 * group on it. */
#define CDP_CLUSTER_GROUP "storage"
void cdp_cluster_stream(enum cdp_store_context ctx, char *out, size_t outlen);

/* Opens the store of context ctx that serve's roles and the jobs work on, as cfg says: --store
 * (or the embedded store in --data) alone, or behind --cache and --queue. manual_checkpoint as
 * in cdp_store_opts. CDP_E_* with why in err. */
int cdp_store_open_cfg(struct cdp_store **out, const struct cdp_config *cfg,
                       enum cdp_store_context ctx, bool manual_checkpoint, char *err,
                       size_t errlen);

/* Whether cfg runs in scale-out mode (--cache and --queue given). */
bool cdp_cluster_mode(const struct cdp_config *cfg);

#endif
