/* Inside the collector: a job is one collection request on its way through the pipeline. */
#ifndef CDP_COLLECT_PIPELINE_H
#define CDP_COLLECT_PIPELINE_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct cdp_http_req;
struct cdp_store;
struct cdp_config;
struct cdp_ua_db;

struct cdp_job {
    struct cdp_job *next;
    struct cdp_http_req *req; /* resumed when the job is answered */
    cJSON *payload;           /* checked TrackerPayload, owned */
    const char *bridge;       /* "rest" for /track, "webhook" for /collect */
    bool profile_less;
    char ip[64];      /* client address after trusted-proxy handling */
    char *user_agent; /* User-Agent header, owned; used when the context has none */
    cJSON *headers;   /* request headers minus authorization and cookie, owned */
    /* result */
    int status;
    cJSON *reply; /* response body (JSON null allowed), owned */
};

struct cdp_source_cache;
struct cdp_hotcache;

/* What processing a job needs; touched only by the pipeline thread. */
struct cdp_track_env {
    struct cdp_store *store;
    const struct cdp_config *cfg;
    const struct cdp_ua_db *ua;
    struct cdp_source_cache *sources;
    struct cdp_hotcache *profiles; /* by primary id */
    struct cdp_hotcache *sessions; /* by id */
    struct cdp_hotcache *agents;   /* parsed user agents by user-agent string */
};

/* Processes one job inside the caller's transaction: sets job->status and job->reply. Returns 0
 * when the job's writes may be committed, or an error after which they must be rolled back. */
int cdp_track_run(struct cdp_track_env *env, struct cdp_job *job);

/* Source look-up through a cache that is dropped whenever the store's entity version moves. */
struct cdp_source_cache *cdp_source_cache_new(void);
void cdp_source_cache_free(struct cdp_source_cache *c);
void cdp_source_cache_sync(struct cdp_source_cache *c, struct cdp_store *s);
/* Borrowed pointer valid until the next sync; NULL if unknown. */
const cJSON *cdp_source_cache_get(struct cdp_source_cache *c, struct cdp_store *s, const char *id);

void cdp_job_free(struct cdp_job *job);

struct cdp_collector;
/* Queues a job and suspends its request; the pipeline answers it after commit. Takes job. */
void cdp_collector_submit(struct cdp_collector *c, struct cdp_job *job);
/* The collector's configuration, for the HTTP handlers. */
const struct cdp_config *cdp_collector_config(const struct cdp_collector *c);

#endif
