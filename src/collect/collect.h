/* The collector: Tracardi's public collection endpoints (/track, /collect) in front of the
 * event pipeline. One pipeline thread owns the store connection, processes requests in batches
 * and group-commits each batch before any of its requests is answered. */
#ifndef CDP_COLLECT_COLLECT_H
#define CDP_COLLECT_COLLECT_H

#include <stddef.h>

struct cdp_collector;
struct cdp_config;
struct cdp_ua_db;
#include "http/http.h"

int cdp_collector_start(struct cdp_collector **out, const struct cdp_config *cfg,
                        const struct cdp_ua_db *ua, char *err, size_t errlen);
/* Shutting down: drain answers every queued request and stops the threads (requests that still
 * arrive get 503); free comes after the listener has stopped calling the handlers. */
void cdp_collector_drain(struct cdp_collector *c);
void cdp_collector_free(struct cdp_collector *c);

/* Routes of the collector listener; the app pointer is the struct cdp_collector. */
extern const struct cdp_route cdp_collect_routes[];
extern const size_t cdp_collect_nroutes;

#endif
