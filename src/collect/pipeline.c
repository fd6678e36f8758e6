/* The pipeline thread: takes queued jobs in batches, runs each inside a savepoint of one
 * transaction, commits the batch (group commit: one fsync for many requests), then answers
 * them. One thread owning the embedded store serialises updates of a profile for free. */
#include "collect/collect.h"
#include "collect/hotcache.h"
#include "collect/pipeline.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/metrics.h"
#include "flow/io.h"
#include "http/http.h"
#include "model/useragent.h"
#include "job/dispatch.h"
#include "queue/queue.h"
#include "store/cluster.h"
#include "store/store.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

struct cdp_collector {
    const struct cdp_config *cfg;
    struct cdp_track_env env;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct cdp_job *head, *tail;
    bool stopping;
    int64_t external_version; /* of the store when the caches were last known good */
    pthread_t checkpointer;
    struct cdp_store *checkpoint_store;
    atomic_bool restart_log; /* set by the checkpointer: the pipeline should restart the log */
    double last_maintain;    /* when the store last caught up on deferred work */
    struct cdp_flow_io *io;  /* performs the waits of parked flows */
    bool io_stopped;
    /* pipeline thread only: */
    long parked;                               /* jobs whose flows wait */
    struct cdp_job *deferred, **deferred_tail; /* jobs waiting for a parked job's ids */
    /* the embedded mode's outbox for the dispatch worker, while enabled destinations exist */
    struct cdp_queue *outbox;
    int64_t outbox_version; /* entity version it was decided at */
    char stream[64];
};

/* --- source cache --- */

struct source_entry {
    struct source_entry *next;
    char *id;
    cJSON *doc; /* NULL caches "unknown" */
};

struct cdp_source_cache {
    struct source_entry *head;
    int64_t version;
    unsigned count;
};

struct cdp_source_cache *cdp_source_cache_new(void)
{
    struct cdp_source_cache *c = calloc(1, sizeof(*c));
    if (c)
        c->version = -1;
    return c;
}

static void source_cache_clear(struct cdp_source_cache *c)
{
    struct source_entry *e = c->head;
    while (e) {
        struct source_entry *next = e->next;
        free(e->id);
        cJSON_Delete(e->doc);
        free(e);
        e = next;
    }
    c->head = NULL;
    c->count = 0;
}

void cdp_source_cache_free(struct cdp_source_cache *c)
{
    if (!c)
        return;
    source_cache_clear(c);
    free(c);
}

void cdp_source_cache_sync(struct cdp_source_cache *c, struct cdp_store *s)
{
    int64_t v;
    if (s->ops->entity_version(s, &v) == 0 && v != c->version) {
        source_cache_clear(c);
        c->version = v;
    }
}

const cJSON *cdp_source_cache_get(struct cdp_source_cache *c, struct cdp_store *s, const char *id)
{
    for (struct source_entry *e = c->head; e; e = e->next)
        if (strcmp(e->id, id) == 0)
            return e->doc;
    cJSON *doc = NULL;
    if (s->ops->entity_get(s, "event-source", id, &doc))
        doc = NULL;
    if (c->count >= 1024) /* bounded: forged ids must not grow it without end */
        source_cache_clear(c);
    struct source_entry *e = calloc(1, sizeof(*e));
    if (!e || !(e->id = strdup(id))) {
        free(e);
        cJSON_Delete(doc);
        return NULL;
    }
    e->doc = doc;
    e->next = c->head;
    c->head = e;
    c->count++;
    return doc;
}

/* --- jobs --- */

void cdp_job_free(struct cdp_job *job)
{
    if (!job)
        return;
    cJSON_Delete(job->payload);
    cJSON_Delete(job->headers);
    cJSON_Delete(job->reply);
    cJSON_Delete(job->outcome);
    cJSON_Delete(job->changes);
    cdp_track_free(job->track);
    free(job->user_agent);
    free(job);
}

static void answer(struct cdp_job *job)
{
    struct cdp_http_req *req = job->req;
    int status = job->status;
    if (status == 200) {
        const cJSON *errors = cJSON_GetObjectItemCaseSensitive(job->reply, "errors");
        if (cJSON_GetArraySize(errors) > 0)
            status = 226;
    }
    cdp_http_reply_json(req, status, job->reply);
    job->reply = NULL;
    if (status < 300) { /* committed */
        const cJSON *events = cJSON_GetObjectItemCaseSensitive(job->payload, "events");
        cdp_metric_add(CDP_METRIC_EVENTS, cJSON_GetArraySize(events));
    }
    cdp_metric_add(CDP_METRIC_PIPELINE, -1);
    cdp_job_free(job);
    cdp_http_resume(req);
}

/* Writes a cached session's activity times (the hot cache holds them dirty, see track.c). */
static void flush_session(void *ud, const cJSON *session)
{
    struct cdp_collector *c = ud;
    struct cdp_store *s = c->env.store;
    const cJSON *d = cdp_json_get(session, "metadata.time.duration");
    s->ops->session_touch(
        s, cdp_json_str(session, "id"), cdp_json_str(session, "metadata.time.update"),
        cJSON_IsNumber(d) ? d->valuedouble : 0, cdp_json_str(session, "metadata.status"));
}

/* A session's activity time reaches the store at most this late; each batch writes at most
 * SESSION_FLUSH_MAX of them, so the work is spread instead of stalling one batch. */
#define SESSION_FLUSH_SECONDS 1.0
#define SESSION_FLUSH_MAX     256
/* Runs of one request after transient conflicts before it is answered 503. */
#define MAX_RETRIES 100

/* How often the store catches up on deferred work (its per-profile event index). */
#define MAINTAIN_SECONDS 0.1

/* The I/O thread's callback: the wait of a parked job is over; the job goes first in line. */
static void wait_done(void *ud, void *token, cJSON *outcome)
{
    struct cdp_collector *c = ud;
    struct cdp_job *j = token;
    cJSON_Delete(j->outcome);
    j->outcome = outcome;
    pthread_mutex_lock(&c->mu);
    j->next = c->head;
    c->head = j;
    if (!c->tail)
        c->tail = j;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void submit_wait(struct cdp_collector *c, struct cdp_job *j)
{
    const struct cdp_flow_wait *w = cdp_track_wait(j);
    pthread_mutex_lock(&c->mu); /* never while cdp_collector_drain stops the I/O thread */
    bool stopped = c->io_stopped;
    if (w && !stopped)
        cdp_flow_io_submit(c->io, w, j);
    pthread_mutex_unlock(&c->mu);
    if (!w || stopped) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "error", "the server is shutting down");
        wait_done(c, j, o);
    }
}

/* A parked job is done: the jobs that waited for its ids go back to the head of the queue,
 * in their order (they may wait again; then they come back here). */
static void requeue_deferred(struct cdp_collector *c)
{
    if (!c->deferred)
        return;
    pthread_mutex_lock(&c->mu);
    *c->deferred_tail = c->head;
    if (!c->head)
        c->tail = (struct cdp_job *)((char *)c->deferred_tail - offsetof(struct cdp_job, next));
    c->head = c->deferred;
    pthread_mutex_unlock(&c->mu);
    c->deferred = NULL;
    c->deferred_tail = &c->deferred;
}

/* Tells the store which profiles and sessions the batch's requests name (store.h prefetch). */
static void prefetch(struct cdp_store *s, const struct cdp_job *batch)
{
    size_t n = 0;
    for (const struct cdp_job *j = batch; j; j = j->next)
        n++;
    const char **ids = calloc(2 * n + 1, sizeof(*ids));
    if (!ids)
        return; /* only a hint */
    size_t i = 0;
    for (const struct cdp_job *j = batch; j; j = j->next, i++) {
        ids[i] = cdp_json_str(j->payload, "profile.id");
        ids[n + i] = cdp_json_str(j->payload, "session.id");
    }
    if (s->ops->prefetch(s, ids, n, ids + n, n))
        cdp_debug("prefetch failed; the batch reads one by one");
    free(ids);
}

/* The embedded mode: whether jobs keep their writes for the outbox (scale-out publishes every
 * change anyway), decided again when configuration changes (another connection committed). */
static void outbox_sync(struct cdp_collector *c, struct cdp_store *s)
{
    int64_t v;
    bool want = false;
    if (cdp_cluster_mode(c->cfg) || s->ops->entity_version(s, &v) || v == c->outbox_version ||
        cdp_dispatch_wanted(s, &want))
        return;
    char url[600], err[300];
    cdp_dispatch_outbox_url(c->cfg, url, sizeof(url));
    struct cdp_queue_opts qo = {0};
    if (want && !c->outbox && cdp_queue_open(&c->outbox, url, &qo, err, sizeof(err))) {
        cdp_error("destinations: cannot open the outbox %s: %s; nothing is sent", url, err);
        want = false;
    }
    c->env.outbox = want;
    c->outbox_version = v;
}

/* Moves a job's writes into the batch's change entry. */
static void outbox_take(cJSON *entry, struct cdp_job *j)
{
    static const char *const lists[] = {"profiles", "sessions", "events"};
    for (size_t k = 0; entry && j->changes && k < 3; k++) {
        cJSON *from = cJSON_GetObjectItemCaseSensitive(j->changes, lists[k]);
        cJSON *to = cJSON_GetObjectItemCaseSensitive(entry, lists[k]);
        while (to && from && from->child)
            cJSON_AddItemToArray(to, cJSON_DetachItemViaPointer(from, from->child));
    }
    cJSON_Delete(j->changes);
    j->changes = NULL;
}

static void run_batch(struct cdp_collector *c, struct cdp_job *batch)
{
    struct cdp_store *s = c->env.store;
    int rc = s->ops->begin(s);
    bool began = rc == 0;
    int64_t v;
    if (!rc && (rc = s->ops->external_version(s, &v)) == 0 && v != c->external_version) {
        /* Another connection committed: what we hold may be stale. */
        cdp_hotcache_clear(c->env.profiles);
        cdp_hotcache_clear(c->env.sessions);
        cdp_source_cache_sync(c->env.sources, s); /* config is only written elsewhere */
        cdp_routing_sync(c->env.routing, s);
        outbox_sync(c, s);
        c->external_version = v;
    }
    if (!rc && s->ops->prefetch)
        prefetch(s, batch);
    cJSON *entry = NULL;
    if (c->env.outbox && (entry = cJSON_CreateObject()) &&
        (!cJSON_AddArrayToObject(entry, "profiles") || !cJSON_AddArrayToObject(entry, "sessions") ||
         !cJSON_AddArrayToObject(entry, "events"))) {
        cJSON_Delete(entry);
        entry = NULL;
    }
    struct cdp_job *done = NULL, **done_tail = &done, *waiting = NULL;
    struct cdp_job *retry = NULL, **retry_tail = &retry;
    bool unparked = false;
    for (struct cdp_job *j = batch, *next; j; j = next) {
        next = j->next;
        j->next = NULL;
        bool resumed = j->track != NULL;
        if (!rc && (rc = s->ops->savepoint(s)) == 0) {
            int jr = resumed ? cdp_track_resume(&c->env, j) : cdp_track_run(&c->env, j);
            /* A transient conflict with another process (a lock it holds, a deadlock in the
             * shared store): the whole request again in the next batch, unless a flow of it
             * waited on the outside world already. */
            if ((jr == CDP_TRACK_RETRY || (jr == CDP_E_BUSY && !resumed)) &&
                j->retries++ < MAX_RETRIES) {
                rc = s->ops->rollback_to(s);
                cJSON_Delete(j->reply);
                cJSON_Delete(j->changes);
                j->reply = j->changes = NULL;
                j->status = 0;
                *retry_tail = j, retry_tail = &j->next;
                continue;
            }
            if (jr == CDP_TRACK_RETRY) { /* still held after all those batches */
                j->status = 503;
                j->reply = cdp_json_detail(
                    "busy: another process holds this profile; nothing was stored, try again");
            }
            if (jr == CDP_FLOW_WAIT || jr == CDP_TRACK_DEFER) {
                rc = s->ops->release(s); /* nothing was written */
                if (jr == CDP_FLOW_WAIT) {
                    c->parked += !resumed;
                    j->next = waiting, waiting = j;
                } else {
                    *c->deferred_tail = j, c->deferred_tail = &j->next;
                }
                continue;
            }
            if (jr || j->status >= 300)
                rc = s->ops->rollback_to(s);
            else if ((rc = s->ops->release(s)) == 0)
                outbox_take(entry, j);
            cJSON_Delete(j->changes); /* rolled back: nothing to send */
            j->changes = NULL;
        }
        if (resumed)
            c->parked--, unparked = true;
        *done_tail = j, done_tail = &j->next;
    }
    if (began && !rc) {
        double now = cdp_clock_mono();
        if (!rc)
            cdp_hotcache_flush(c->env.sessions, now - SESSION_FLUSH_SECONDS, SESSION_FLUSH_MAX);
        if (!rc && now - c->last_maintain >= MAINTAIN_SECONDS) {
            /* Deferred upkeep; reads never depend on it, so a failure only means it is tried
             * again next time. (Not in a savepoint: that would copy every page it touches.) */
            if (s->ops->maintain(s))
                cdp_warn("store upkeep failed; retrying in %.1f s", MAINTAIN_SECONDS);
            c->last_maintain = now;
        }
        double t0 = cdp_clock_mono();
        rc = s->ops->commit(s);
        cdp_metric_commit_seconds(cdp_clock_mono() - t0);
    }
    /* Committed: the destinations' share. The outbox is not the store, so a crash right here
     * loses these sends, as Tracardi's dispatch does not retry either. */
    char id[CDP_QUEUE_ID_MAX];
    if (!rc && entry && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(entry, "events")) &&
        c->outbox->ops->publish(c->outbox, c->stream, entry, id, sizeof(id)))
        cdp_warn("destinations: the outbox refused a batch's changes; they are not sent");
    cJSON_Delete(entry);
    if (began && rc)
        s->ops->rollback(s);
    if (rc) { /* the cached copies may hold writes that were rolled back */
        cdp_hotcache_clear(c->env.profiles);
        cdp_hotcache_clear(c->env.sessions);
    }
    /* Waits start only now: a wait may end at once, and its job must not come back before
     * this batch is done with it. */
    for (struct cdp_job *j = waiting, *next; j; j = next) {
        next = j->next;
        j->next = NULL;
        submit_wait(c, j);
    }
    if (unparked)
        requeue_deferred(c);
    if (retry) { /* first in the next batch, this batch's locks released */
        pthread_mutex_lock(&c->mu);
        *retry_tail = c->head;
        if (!c->head)
            c->tail = (struct cdp_job *)((char *)retry_tail - offsetof(struct cdp_job, next));
        c->head = retry;
        pthread_mutex_unlock(&c->mu);
    }
    for (struct cdp_job *j = done, *next; j; j = next) {
        next = j->next;
        if (rc) {
            cJSON_Delete(j->reply);
            bool later = rc == CDP_E_UNAVAILABLE; /* e.g. the shared cache is down */
            j->reply = cdp_json_detail(later ? "storage unavailable: nothing was stored; retry"
                                             : "storage error: nothing was stored");
            j->status = later ? 503 : 500;
        }
        answer(j);
    }
    /* After the answers: copies only what came since the last background fold. */
    if (atomic_exchange(&c->restart_log, false))
        s->ops->checkpoint(s, NULL);
}

static void *pipeline_main(void *arg)
{
    struct cdp_collector *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        while (!c->head && (!c->stopping || c->parked)) {
            if (!cdp_hotcache_has_dirty(c->env.sessions)) {
                pthread_cond_wait(&c->cv, &c->mu);
                continue;
            }
            /* Idle with session times still owed to the store: write them when due. */
            struct timespec due;
            clock_gettime(CLOCK_REALTIME, &due);
            due.tv_sec += 1;
            if (pthread_cond_timedwait(&c->cv, &c->mu, &due) == ETIMEDOUT && !c->head) {
                pthread_mutex_unlock(&c->mu);
                run_batch(c, NULL);
                pthread_mutex_lock(&c->mu);
            }
        }
        if (!c->head && c->stopping) {
            pthread_mutex_unlock(&c->mu);
            struct cdp_store *s = c->env.store;
            if (s->ops->begin(s) == 0) { /* last activity times, in one transaction */
                cdp_hotcache_flush(c->env.sessions, cdp_clock_mono(), SIZE_MAX);
                if (s->ops->commit(s))
                    s->ops->rollback(s);
            }
            return NULL;
        }
        struct cdp_job *batch = c->head, *last = batch;
        for (long n = 1; last->next && n < c->cfg->batch_max; n++)
            last = last->next;
        c->head = last->next;
        if (!c->head)
            c->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&c->mu);
        run_batch(c, batch);
    }
}

/* Commits only append to the store's log; this thread folds the log into the main file in the
 * background, so no request waits for it. It cannot start the log over, though: only a writer
 * that finds the whole log folded in can, and the pipeline always has the log busy. So when the
 * log is long, right after a fold (when little is left to copy), it asks the pipeline to
 * checkpoint once itself between two batches; its next commit then starts the log over.
 * The tick trades throughput for latency (docs/benchmarks.md): folding often means less to copy
 * in the pipeline's own checkpoint, but more fsyncs of the main file. */
#define CHECKPOINT_TICK_MS 20
#define LOG_RESTART_PAGES  4096

static void *checkpoint_main(void *arg)
{
    struct cdp_collector *c = arg;
    struct timespec tick = {.tv_sec = 0, .tv_nsec = CHECKPOINT_TICK_MS * 1000 * 1000};
    for (;;) {
        pthread_mutex_lock(&c->mu);
        bool stop = c->stopping;
        pthread_mutex_unlock(&c->mu);
        int log = 0;
        c->checkpoint_store->ops->checkpoint(c->checkpoint_store, &log);
        if (log > LOG_RESTART_PAGES)
            atomic_store(&c->restart_log, true);
        if (stop)
            return NULL;
        nanosleep(&tick, NULL);
    }
}

void cdp_collector_submit(struct cdp_collector *c, struct cdp_job *job)
{
    pthread_mutex_lock(&c->mu);
    if (c->stopping) {
        pthread_mutex_unlock(&c->mu);
        cdp_http_reply_error(job->req, 503, "the server is shutting down");
        cdp_job_free(job);
        return;
    }
    cdp_http_suspend(job->req);
    if (c->tail)
        c->tail->next = job;
    else
        c->head = job;
    c->tail = job;
    cdp_metric_add(CDP_METRIC_PIPELINE, 1); /* before the pipeline can answer it */
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void free_env(struct cdp_track_env *env)
{
    cdp_source_cache_free(env->sources);
    cdp_hotcache_free(env->profiles);
    cdp_hotcache_free(env->sessions);
    cdp_hotcache_free(env->agents);
    cdp_routing_free(env->routing);
    cdp_busy_free(env->busy);
    cdp_store_close(env->store);
}

const struct cdp_config *cdp_collector_config(const struct cdp_collector *c)
{
    return c->cfg;
}

int cdp_collector_start(struct cdp_collector **out, const struct cdp_config *cfg,
                        const struct cdp_ua_db *ua, char *err, size_t errlen)
{
    struct cdp_collector *c = calloc(1, sizeof(*c));
    if (!c)
        return CDP_E_NOMEM;
    c->cfg = cfg;
    c->env.cfg = cfg;
    c->env.ua = ua;
    /* The store of --context: a staging collector never touches production's data. */
    enum cdp_store_context ctx = CDP_STORE_PRODUCTION;
    cdp_store_context_parse(cfg->context, &ctx); /* checked by cdp_config_load */
    int rc = cdp_store_open_cfg(&c->env.store, cfg, ctx, true, err, errlen);
    if (!rc && (rc = cdp_store_open_cfg(&c->checkpoint_store, cfg, ctx, true, err, errlen)))
        cdp_store_close(c->env.store);
    if (rc) {
        free(c);
        return rc;
    }
    c->external_version = -1;
    c->outbox_version = -1;
    cdp_cluster_stream(ctx, c->stream, sizeof(c->stream));
    if (c->env.store->ops->meta_get(c->env.store, "salt", c->env.salt, sizeof(c->env.salt)))
        c->env.salt[0] = '\0'; /* no hashed ids without the salt `cdpd serve` makes */
    c->env.sources = cdp_source_cache_new();
    c->env.profiles = cdp_hotcache_new((size_t)cfg->hot_cache);
    c->env.sessions = cdp_hotcache_new((size_t)cfg->hot_cache);
    if (c->env.sessions)
        cdp_hotcache_on_flush(c->env.sessions, flush_session, c);
    c->env.agents = cdp_hotcache_new(1024);
    c->env.routing = cdp_routing_new();
    c->env.busy = cdp_busy_new();
    c->deferred_tail = &c->deferred;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (!c->env.sources || !c->env.profiles || !c->env.sessions || !c->env.agents ||
        !c->env.routing || !c->env.busy || cdp_flow_io_start(&c->io, wait_done, c) != 0 ||
        pthread_create(&c->thread, NULL, pipeline_main, c) != 0) {
        cdp_flow_io_stop(c->io);
        snprintf(err, errlen, "cannot start the pipeline thread");
        free_env(&c->env);
        cdp_store_close(c->checkpoint_store);
        free(c);
        return CDP_E_INTERNAL;
    }
    if (pthread_create(&c->checkpointer, NULL, checkpoint_main, c) != 0) {
        snprintf(err, errlen, "cannot start the checkpoint thread");
        cdp_store_close(c->checkpoint_store);
        c->checkpoint_store = NULL;
        cdp_collector_free(c);
        return CDP_E_INTERNAL;
    }
    *out = c;
    return 0;
}

void cdp_collector_drain(struct cdp_collector *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    bool was_stopping = c->stopping;
    c->stopping = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (was_stopping)
        return;
    /* Parked flows get their waits cut short and finish; then the pipeline ends. */
    pthread_mutex_lock(&c->mu);
    c->io_stopped = true;
    pthread_mutex_unlock(&c->mu);
    cdp_flow_io_stop(c->io);
    pthread_join(c->thread, NULL);
    if (c->checkpoint_store)
        pthread_join(c->checkpointer, NULL);
}

void cdp_collector_free(struct cdp_collector *c)
{
    if (!c)
        return;
    cdp_collector_drain(c);
    cdp_store_close(c->checkpoint_store);
    cdp_queue_close(c->outbox);
    free_env(&c->env);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}
