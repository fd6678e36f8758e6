/* Metrics kept as relaxed atomics in memory allocated when a listener starts; GET /metrics reads
 * them without stopping anyone, so a scrape may see one request in a counter and not yet in its
 * histogram, which Prometheus tolerates. Process figures come from /proc at scrape time. */
#include "core/metrics.h"
#include "core/buf.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifndef CDPD_VERSION
#define CDPD_VERSION "0.0.0"
#endif

/* Statuses counted apart, in order; any other is counted with its class ("4xx"). */
static const short code_value[] = {200, 201, 202, 204, 206, 226, 301, 302, 303, 304, 307, 308,
                                   400, 401, 402, 403, 404, 405, 406, 408, 409, 410, 411, 413,
                                   414, 415, 422, 429, 431, 500, 501, 502, 503, 504};
#define NCODES (sizeof(code_value) / sizeof(code_value[0]))
/* Slots: NCODES named statuses, then the classes 1xx..5xx, then anything outside 100..599. */
#define NSLOTS (NCODES + 6)

static unsigned status_slot(int status)
{
    if (status < 100 || status > 599)
        return NSLOTS - 1;
    size_t lo = 0, hi = NCODES; /* binary search: six steps */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (code_value[mid] < status)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < NCODES && code_value[lo] == status)
        return (unsigned)lo;
    return (unsigned)(NCODES + (size_t)(status / 100 - 1));
}

/* Upper bounds in seconds, from 100 µs (a commit with --sync normal) to 10 s (the default flow
 * time limit). */
static const double bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
#define NBOUNDS (sizeof(bounds) / sizeof(bounds[0]))

struct hist {
    _Atomic uint64_t bucket[NBOUNDS + 1]; /* not cumulative; the last one is above every bound */
    _Atomic uint64_t sum_ns;
};

static void hist_observe(struct hist *h, double seconds)
{
    if (!(seconds >= 0)) /* NaN, or a clock that went back */
        seconds = 0;
    size_t i = 0;
    while (i < NBOUNDS && seconds > bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, (uint64_t)(seconds * 1e9), memory_order_relaxed);
}

/* One counter per cache line: the HTTP thread and the pipeline thread update different ones. */
static struct {
    _Atomic long v;
    char pad[64 - sizeof(long)];
} counters[CDP_METRIC_COUNT];

static struct hist commit_hist, storage_lag_hist;

void cdp_metric_add(enum cdp_metric m, long n)
{
    atomic_fetch_add_explicit(&counters[m].v, n, memory_order_relaxed);
}

long cdp_metric_get(enum cdp_metric m)
{
    return atomic_load_explicit(&counters[m].v, memory_order_relaxed);
}

void cdp_metric_commit_seconds(double seconds)
{
    hist_observe(&commit_hist, seconds);
}

void cdp_metric_storage_lag_seconds(double seconds)
{
    hist_observe(&storage_lag_hist, seconds);
}

/* --- HTTP listeners --- */

struct route_stats {
    const char *method, *route;
    _Atomic uint64_t status[NSLOTS];
    struct hist latency;
};

struct cdp_metrics_http {
    struct cdp_metrics_http *next;
    char *listener;
    size_t nroutes;
    struct route_stats routes[]; /* nroutes + 1: the last one is "matched no route" */
};

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cdp_metrics_http *registry;

struct cdp_metrics_http *cdp_metrics_http_new(const char *listener, size_t nroutes)
{
    struct cdp_metrics_http *m = calloc(1, sizeof(*m) + (nroutes + 1) * sizeof(m->routes[0]));
    if (!m)
        return NULL;
    m->listener = strdup(listener ? listener : "");
    if (!m->listener) {
        free(m);
        return NULL;
    }
    m->nroutes = nroutes;
    m->routes[nroutes].method = "";
    m->routes[nroutes].route = "unmatched";
    pthread_mutex_lock(&registry_mu);
    struct cdp_metrics_http **tail = &registry;
    while (*tail)
        tail = &(*tail)->next;
    *tail = m;
    pthread_mutex_unlock(&registry_mu);
    return m;
}

void cdp_metrics_http_name(struct cdp_metrics_http *m, size_t i, const char *method,
                           const char *route)
{
    if (!m || i >= m->nroutes)
        return;
    m->routes[i].method = method;
    m->routes[i].route = route;
}

void cdp_metrics_http_observe(struct cdp_metrics_http *m, size_t route, int status, double seconds)
{
    if (!m)
        return;
    struct route_stats *r = &m->routes[route < m->nroutes ? route : m->nroutes];
    atomic_fetch_add_explicit(&r->status[status_slot(status)], 1, memory_order_relaxed);
    hist_observe(&r->latency, seconds);
}

void cdp_metrics_http_free(struct cdp_metrics_http *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&registry_mu);
    for (struct cdp_metrics_http **p = &registry; *p; p = &(*p)->next)
        if (*p == m) {
            *p = m->next;
            break;
        }
    pthread_mutex_unlock(&registry_mu);
    free(m->listener);
    free(m);
}

/* --- exposition --- */

/* A label value with \, " and newline escaped. */
static void put_label(struct cdp_buf *b, const char *name, const char *v, bool first)
{
    cdp_buf_printf(b, "%s%s=\"", first ? "" : ",", name);
    for (const char *p = v; *p; p++) {
        if (*p == '\\' || *p == '"')
            cdp_buf_printf(b, "\\%c", *p);
        else if (*p == '\n')
            cdp_buf_puts(b, "\\n");
        else
            cdp_buf_append(b, p, 1);
    }
    cdp_buf_puts(b, "\"");
}

static void put_route_labels(struct cdp_buf *b, const struct cdp_metrics_http *m,
                             const struct route_stats *r)
{
    put_label(b, "listener", m->listener, true);
    put_label(b, "method", r->method ? r->method : "", false);
    put_label(b, "route", r->route ? r->route : "", false);
}

static void put_family(struct cdp_buf *b, const char *name, const char *type, const char *help)
{
    cdp_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static uint64_t hist_count(const struct hist *h, uint64_t *cum)
{
    uint64_t n = 0;
    for (size_t i = 0; i <= NBOUNDS; i++) {
        n += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        cum[i] = n;
    }
    return n;
}

/* The lines of one histogram; labels (without braces) may be "". */
static void put_hist(struct cdp_buf *b, const char *name, const char *labels, const struct hist *h)
{
    uint64_t cum[NBOUNDS + 1];
    uint64_t n = hist_count(h, cum);
    const char *sep = *labels ? "," : "";
    for (size_t i = 0; i < NBOUNDS; i++)
        cdp_buf_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, bounds[i],
                       (unsigned long long)cum[i]);
    cdp_buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
                   (unsigned long long)n);
    double sum = (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) / 1e9;
    cdp_buf_printf(b, "%s_sum%s%s%s %.9g\n", name, *labels ? "{" : "", labels, *labels ? "}" : "",
                   sum);
    cdp_buf_printf(b, "%s_count%s%s%s %llu\n", name, *labels ? "{" : "", labels, *labels ? "}" : "",
                   (unsigned long long)n);
}

static void put_http(struct cdp_buf *b)
{
    put_family(b, "cdpd_http_requests_total", "counter",
               "HTTP requests answered, by listener, route template and status code (codes "
               "not counted apart are grouped by class, as 4xx).");
    for (const struct cdp_metrics_http *m = registry; m; m = m->next)
        for (size_t i = 0; i <= m->nroutes; i++) {
            const struct route_stats *r = &m->routes[i];
            for (unsigned s = 0; s < NSLOTS; s++) {
                uint64_t n = atomic_load_explicit(&r->status[s], memory_order_relaxed);
                if (!n)
                    continue;
                cdp_buf_printf(b, "cdpd_http_requests_total{");
                put_route_labels(b, m, r);
                char code[8];
                if (s < NCODES)
                    snprintf(code, sizeof(code), "%d", code_value[s]);
                else if (s < NSLOTS - 1)
                    snprintf(code, sizeof(code), "%uxx", (unsigned)(s - NCODES + 1));
                else
                    snprintf(code, sizeof(code), "other");
                put_label(b, "code", code, false);
                cdp_buf_printf(b, "} %llu\n", (unsigned long long)n);
            }
        }
    put_family(b, "cdpd_http_request_duration_seconds", "histogram",
               "Time from a request's headers to its answer, by listener and route template "
               "(for the collector: queueing, processing and the durable commit included).");
    for (const struct cdp_metrics_http *m = registry; m; m = m->next)
        for (size_t i = 0; i <= m->nroutes; i++) {
            const struct route_stats *r = &m->routes[i];
            uint64_t cum[NBOUNDS + 1];
            if (!hist_count(&r->latency, cum))
                continue;
            struct cdp_buf labels;
            cdp_buf_init(&labels, 0);
            put_route_labels(&labels, m, r);
            put_hist(b, "cdpd_http_request_duration_seconds", labels.data ? labels.data : "",
                     &r->latency);
            cdp_buf_fini(&labels);
        }
}

/* What /proc says of this process; false when it cannot be read (not Linux). */
struct proc_stat {
    double cpu_seconds, start_time;
    unsigned long long vsize, rss_bytes;
};

static bool read_proc_stat(struct proc_stat *ps)
{
    char text[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return false;
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *p = strrchr(text, ')'); /* the command name may hold spaces and parentheses */
    if (!p)
        return false;
    /* After ")": state (3), ..., utime (14), stime (15), ..., starttime (22), vsize, rss. */
    unsigned long long utime = 0, stime = 0, start = 0, vsize = 0, rss = 0;
    if (sscanf(p + 2,
               "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d "
               "%llu %llu %llu",
               &utime, &stime, &start, &vsize, &rss) != 5)
        return false;
    double tick = (double)sysconf(_SC_CLK_TCK);
    long page = sysconf(_SC_PAGESIZE);
    unsigned long long btime = 0;
    if ((f = fopen("/proc/stat", "r"))) {
        char line[256];
        while (fgets(line, sizeof(line), f))
            if (sscanf(line, "btime %llu", &btime) == 1)
                break;
        fclose(f);
    }
    ps->cpu_seconds = (double)(utime + stime) / tick;
    ps->start_time = (double)btime + (double)start / tick;
    ps->vsize = vsize;
    ps->rss_bytes = rss * (unsigned long long)(page > 0 ? page : 4096);
    return true;
}

static long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long n = -1; /* the directory's own descriptor */
    while (readdir(d))
        n++;
    closedir(d);
    return n - 2; /* . and .. */
}

static void put_process(struct cdp_buf *b)
{
    struct proc_stat ps;
    if (read_proc_stat(&ps)) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        double uptime = (double)now.tv_sec + (double)now.tv_nsec / 1e9 - ps.start_time;
        put_family(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        cdp_buf_printf(b, "process_resident_memory_bytes %llu\n", ps.rss_bytes);
        put_family(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
        cdp_buf_printf(b, "process_virtual_memory_bytes %llu\n", ps.vsize);
        put_family(b, "process_cpu_seconds_total", "counter",
                   "User and system CPU time spent, in seconds.");
        cdp_buf_printf(b, "process_cpu_seconds_total %.2f\n", ps.cpu_seconds);
        put_family(b, "process_start_time_seconds", "gauge",
                   "Start time of the process since the epoch, in seconds.");
        cdp_buf_printf(b, "process_start_time_seconds %.2f\n", ps.start_time);
        put_family(b, "cdpd_uptime_seconds", "gauge", "Seconds since the process started.");
        cdp_buf_printf(b, "cdpd_uptime_seconds %.2f\n", uptime < 0 ? 0 : uptime);
    }
    long fds = open_fds();
    if (fds >= 0) {
        put_family(b, "process_open_fds", "gauge", "Open file descriptors.");
        cdp_buf_printf(b, "process_open_fds %ld\n", fds);
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        put_family(b, "process_max_fds", "gauge", "Most open file descriptors allowed.");
        cdp_buf_printf(b, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
    }
}

static void put_counter(struct cdp_buf *b, const char *name, const char *type, const char *help,
                        enum cdp_metric m)
{
    put_family(b, name, type, help);
    cdp_buf_printf(b, "%s %ld\n", name, cdp_metric_get(m));
}

char *cdp_metrics_render(size_t *len)
{
    struct cdp_buf b;
    cdp_buf_init(&b, 0);
    put_family(&b, "cdpd_build_info", "gauge", "The running cdpd's version (always 1).");
    cdp_buf_printf(&b, "cdpd_build_info{version=\"%s\"} 1\n", CDPD_VERSION);
    pthread_mutex_lock(&registry_mu);
    put_http(&b);
    pthread_mutex_unlock(&registry_mu);
    put_counter(&b, "cdpd_events_collected_total", "counter",
                "Events of collection requests answered 2xx, so committed (system events not "
                "counted).",
                CDP_METRIC_EVENTS);
    put_counter(&b, "cdpd_flows_run_total", "counter",
                "Workflow runs of collection requests that ended, failed ones included.",
                CDP_METRIC_FLOWS);
    put_counter(&b, "cdpd_flow_errors_total", "counter",
                "Workflow runs that ended with an error (a node failed or the time limit passed).",
                CDP_METRIC_FLOW_ERRORS);
    put_counter(&b, "cdpd_profile_merges_total", "counter",
                "Profile merges made by this process: shared ids, Merge profiles nodes, the API "
                "and imports.",
                CDP_METRIC_MERGES);
    put_counter(&b, "cdpd_pipeline_jobs", "gauge",
                "Collection requests accepted and not answered yet: queued, in the batch being "
                "run, or waiting on a flow.",
                CDP_METRIC_PIPELINE);
    put_family(&b, "cdpd_store_commit_duration_seconds", "histogram",
               "Duration of the collector's group commits (one per batch of requests).");
    put_hist(&b, "cdpd_store_commit_duration_seconds", "", &commit_hist);
    put_counter(&b, "cdpd_storage_events_total", "counter",
                "Scale-out: events written into the shared store by this process's storage "
                "worker.",
                CDP_METRIC_STORED);
    put_counter(&b, "cdpd_destination_sends_total", "counter",
                "Data sent to destinations by this process's dispatch worker (answered below 400).",
                CDP_METRIC_DISPATCHED);
    put_counter(&b, "cdpd_destination_errors_total", "counter",
                "Sends to destinations that failed: no answer or a status of 400 or more (logged, "
                "not retried).",
                CDP_METRIC_DISPATCH_ERRORS);
    put_family(&b, "cdpd_storage_lag_seconds", "histogram",
               "Scale-out: time from a collector's answer to its change being stored by a storage "
               "worker.");
    put_hist(&b, "cdpd_storage_lag_seconds", "", &storage_lag_hist);
    put_process(&b);
    if (b.failed) {
        cdp_buf_fini(&b);
        return NULL;
    }
    return cdp_buf_steal(&b, len);
}
