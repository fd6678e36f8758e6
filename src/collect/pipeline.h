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

struct track;

struct cdp_job {
    struct cdp_job *next;
    struct track *track;      /* state kept while the job's flows wait (cdp_track_run) */
    cJSON *outcome;           /* the finished wait, handed back by the I/O thread */
    struct cdp_http_req *req; /* resumed when the job is answered */
    cJSON *payload;           /* checked TrackerPayload, owned */
    const char *bridge;       /* "rest" for /track, "webhook" for /collect */
    bool profile_less;
    bool consent;     /* POST /customer/consent: answers with the consents, 403 on an unknown one */
    char ip[64];      /* client address after trusted-proxy handling */
    char *user_agent; /* User-Agent header, owned; used when the context has none */
    cJSON *headers;   /* request headers minus authorization and cookie, owned */
    /* result */
    int status;
    cJSON *reply;   /* response body (JSON null allowed), owned */
    cJSON *changes; /* with env->outbox: what it wrote, {profiles, sessions, events}, owned */
    int retries;    /* times it was run again after a transient conflict (CDP_TRACK_RETRY) */
};

struct cdp_source_cache;
struct cdp_hotcache;
struct cdp_routing;
struct cdp_busy;
struct cdp_flow_plan;
struct cdp_flow_wait;

/* What processing a job needs; touched only by the pipeline thread. */
struct cdp_track_env {
    struct cdp_store *store;
    const struct cdp_config *cfg;
    const struct cdp_ua_db *ua;
    struct cdp_source_cache *sources;
    struct cdp_hotcache *profiles; /* by primary id */
    struct cdp_hotcache *sessions; /* by id */
    struct cdp_hotcache *agents;   /* parsed user agents by user-agent string */
    struct cdp_routing *routing;   /* rules and compiled flows */
    struct cdp_busy *busy;         /* ids of profiles and sessions held by waiting jobs */
    char salt[80];                 /* the installation's salt of hashed contact ids */
    bool outbox; /* enabled destinations exist: jobs keep their writes for the outbox */
};

/* cdp_track_run's answer when the job must wait for a job whose flows wait on the same profile
 * or session: queue it again once that one is done. */
#define CDP_TRACK_DEFER 2
/* ... and when its profile or session is locked by another process (the scale-out store's
 * CDP_E_BUSY): nothing was done; run the job again in the next batch, once this batch's commit
 * has released the locks it holds (holding them while waiting could deadlock two collectors). */
#define CDP_TRACK_RETRY 3

/* Processes one job inside the caller's savepoint: sets job->status and job->reply. Returns 0
 * when the job's writes may be committed, or an error after which they must be rolled back.
 * CDP_FLOW_WAIT (flow/flow.h) when a flow waits: nothing was written, the job keeps its state,
 * cdp_track_wait says what to wait for, and cdp_track_resume continues once job->outcome is
 * set. CDP_TRACK_DEFER: nothing was done; run the job again later. */
int cdp_track_run(struct cdp_track_env *env, struct cdp_job *job);
int cdp_track_resume(struct cdp_track_env *env, struct cdp_job *job);
const struct cdp_flow_wait *cdp_track_wait(const struct cdp_job *job);
void cdp_track_free(struct track *t);

/* The rules and compiled production flows, reloaded when the store's entity version moves. */
struct cdp_route_hit {
    struct cdp_flow_plan *plan; /* borrowed until the next sync */
    const char *rule;           /* rule name, likewise */
};
struct cdp_routing *cdp_routing_new(void);
void cdp_routing_free(struct cdp_routing *rt);
void cdp_routing_sync(struct cdp_routing *rt, struct cdp_store *s);
/* Fills hits with the flows an event of type from source runs for profile (NULL when
 * profile-less; rules that require consents need a profile that holds them, unexpired at
 * now_us); returns how many (at most max) or a CDP_E_* code. Rules whose flow is not deployed
 * add a message to warnings (may be NULL). */
int cdp_routing_match(struct cdp_routing *rt, struct cdp_store *s, const char *type,
                      const char *source, const cJSON *profile, int64_t now_us,
                      struct cdp_route_hit *hits, int max, cJSON *warnings);

/* The enabled segments, compiled (flow/segment.h), borrowed until the next sync: their number,
 * or a CDP_E_* code. */
struct cdp_segment;
int cdp_routing_segments(struct cdp_routing *rt, struct cdp_store *s,
                         struct cdp_segment *const **out);

/* Every consent type document (an array), borrowed until the next sync. */
int cdp_routing_consent_types(struct cdp_routing *rt, struct cdp_store *s, const cJSON **out);

/* Validates event's properties against the enabled validators of its type: 0 valid, 1 invalid
 * (why in err), or a CDP_E_* code. */
int cdp_routing_validate(struct cdp_routing *rt, struct cdp_store *s, const cJSON *event, char *err,
                         size_t errlen);

/* Applies the enabled event-to-profile mappings of event's type (flow/mapping.h) to profile:
 * 1 when it changed, 0 when not, or a CDP_E_* code. */
int cdp_routing_map(struct cdp_routing *rt, struct cdp_store *s, const cJSON *event, cJSON *profile,
                    const cJSON *session, int64_t now_us);

/* Event reshaping: applies the first enabled reshaping schema (flow/reshape.h) of event's type
 * and source (its source.id), by name, to event and session: 1 when one applied
 * (*session_changed: it replaced the session's context), 0 when none, or a CDP_E_* code. */
int cdp_routing_reshape(struct cdp_routing *rt, struct cdp_store *s, cJSON *event, cJSON *session,
                        bool *session_changed);

/* Identification points (flow/identification.h): for the first enabled point, by name, whose
 * event type is event's, whose source is source_id or any, and all of whose event properties
 * event holds (not empty), sets *keys to a new object {"<dotted profile path>": <copy of the
 * value>, ...} (the caller frees it) and returns 1. 0 with *keys NULL when no point matches;
 * a CDP_E_* code on error. */
int cdp_routing_identify(struct cdp_routing *rt, struct cdp_store *s, const cJSON *event,
                         const char *source_id, cJSON **keys);

/* A multiset of ids (profiles and sessions of waiting jobs). */
struct cdp_busy *cdp_busy_new(void);
void cdp_busy_free(struct cdp_busy *b);
int cdp_busy_add(struct cdp_busy *b, const char *id);
void cdp_busy_del(struct cdp_busy *b, const char *id);
bool cdp_busy_has(const struct cdp_busy *b, const char *id);

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
