/* The process's metrics for GET /metrics: counters, a gauge and latency histograms, written in
 * Prometheus's text exposition format. Every update is a relaxed atomic addition on memory
 * allocated up front, so the hot path takes no lock and allocates nothing; the lock below only
 * guards the list of listeners, which changes when a listener starts or stops. */
#ifndef CDP_CORE_METRICS_H
#define CDP_CORE_METRICS_H

#include <stddef.h>

enum cdp_metric {
    CDP_METRIC_EVENTS,          /* events of collection requests answered 2xx (committed) */
    CDP_METRIC_FLOWS,           /* workflow runs that ended, failed ones included */
    CDP_METRIC_FLOW_ERRORS,     /* workflow runs that ended with an error */
    CDP_METRIC_MERGES,          /* profile merges made (each may absorb several profiles) */
    CDP_METRIC_PIPELINE,        /* gauge: collection requests accepted and not yet answered */
    CDP_METRIC_STORED,          /* events written into the shared store by storage workers */
    CDP_METRIC_DISPATCHED,      /* sends to destinations answered below 400 */
    CDP_METRIC_DISPATCH_ERRORS, /* sends to destinations that failed (not retried) */
    CDP_METRIC_COUNT
};

/* Adds n (may be negative for the gauge). */
void cdp_metric_add(enum cdp_metric m, long n);
/* The current value, for tests. */
long cdp_metric_get(enum cdp_metric m);

/* One group commit of the collector's store took seconds. */
void cdp_metric_commit_seconds(double seconds);
/* Scale-out: a change was stored by a storage worker seconds after its collector published it
 * (and answered). */
void cdp_metric_storage_lag_seconds(double seconds);

/* The requests of one HTTP listener, by route and status. Created when the listener starts
 * (registered for the exposition) and freed when it stops (unregistered). */
struct cdp_metrics_http;
/* listener is copied; NULL on OOM (the listener then keeps no metrics). */
struct cdp_metrics_http *cdp_metrics_http_new(const char *listener, size_t nroutes);
/* Names route i; the strings are borrowed and must outlive m (the static route tables). */
void cdp_metrics_http_name(struct cdp_metrics_http *m, size_t i, const char *method,
                           const char *route);
/* A request answered with status after seconds; route >= nroutes: it matched no route.
 * m may be NULL. */
void cdp_metrics_http_observe(struct cdp_metrics_http *m, size_t route, int status, double seconds);
void cdp_metrics_http_free(struct cdp_metrics_http *m);

/* Every metric in the text exposition format (version 0.0.4), as a new NUL-terminated buffer
 * the caller frees; NULL on OOM. */
char *cdp_metrics_render(size_t *len);

#endif
