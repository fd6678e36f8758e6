/* The storage worker (storage.h). */
#include "job/storage.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/metrics.h"
#include "job/dispatch.h"
#include "job/schedule.h"
#include "queue/queue.h"
#include "store/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH    256   /* entries per transaction (each holds a collector's whole batch) */
#define BLOCK_MS 500   /* how long a read waits for new entries */
#define LEASE_MS 10000 /* entries of a worker silent this long go to another */
#define ATTEMPTS 10    /* deliveries before an entry the store refuses is dead-lettered */
#define RETRY_MS 250   /* pause between tries while the store is unreachable */
#define TRIM_S   1.0   /* how often the stream drops what every group acknowledged */

struct storage {
    const struct cdp_config *cfg;
    enum cdp_store_context ctx;
    char stream[64];
    char consumer[96];
};

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Writes one entry {profiles: [{fence, doc}], sessions: [...], events: [...]}. */
static int apply(struct cdp_store *s, const cJSON *entry, long *events)
{
    static const char *const lists[] = {"profiles", "sessions"};
    int rc = 0;
    const cJSON *w;
    for (int k = 0; k < 2; k++) {
        cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(entry, lists[k]))
        {
            const cJSON *doc = cJSON_GetObjectItemCaseSensitive(w, "doc");
            const cJSON *fence = cJSON_GetObjectItemCaseSensitive(w, "fence");
            if (!cJSON_IsObject(doc) || !cJSON_IsNumber(fence))
                return CDP_E_INVALID;
            int64_t f = (int64_t)fence->valuedouble;
            rc = k == 0 ? s->ops->profile_put_fenced(s, doc, f)
                        : s->ops->session_put_fenced(s, doc, f);
            if (rc)
                return rc;
        }
    }
    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(entry, "events"))
    {
        if ((rc = s->ops->event_put(s, w)))
            return rc;
        ++*events;
    }
    return 0;
}

/* Entries [from, to) in one transaction. */
static int write_batch(struct cdp_store *s, const struct cdp_queue_entry *e, size_t from, size_t to,
                       long *events)
{
    *events = 0;
    int rc = s->ops->begin(s);
    for (size_t i = from; !rc && i < to; i++)
        rc = e[i].doc ? apply(s, e[i].doc, events) : CDP_E_INVALID;
    if (!rc)
        rc = s->ops->commit(s);
    if (rc)
        s->ops->rollback(s);
    return rc;
}

static void stored(struct cdp_queue *q, const struct storage *w, const struct cdp_queue_entry *e,
                   size_t from, size_t to, long events)
{
    const char *ids[BATCH];
    int64_t now = cdp_clock_now_us();
    for (size_t i = from; i < to; i++) {
        ids[i - from] = e[i].id;
        const cJSON *at = cJSON_GetObjectItemCaseSensitive(e[i].doc, "published");
        if (cJSON_IsNumber(at))
            cdp_metric_storage_lag_seconds((double)(now - (int64_t)at->valuedouble) / 1e6);
    }
    cdp_metric_add(CDP_METRIC_STORED, events);
    /* a failed ack only means the entries come again, and are written again as they are */
    if (q->ops->ack(q, w->stream, CDP_CLUSTER_GROUP, ids, to - from))
        cdp_warn("storage worker: acknowledging %zu entries failed; they will be redelivered",
                 to - from);
}

static void storage_run(void *ud, bool (*stop)(void *), void *stop_ud)
{
    struct storage *w = ud;
    char err[512];
    struct cdp_store *s = NULL;
    struct cdp_queue *q = NULL;
    struct cdp_store_opts so = {.durable = strcmp(w->cfg->sync, "full") == 0, .context = w->ctx};
    struct cdp_queue_opts qo = {.max_attempts = ATTEMPTS};
    if (cdp_store_open(&s, cdp_config_store_url(w->cfg), &so, err, sizeof(err)) ||
        cdp_queue_open(&q, w->cfg->queue, &qo, err, sizeof(err))) {
        cdp_error("storage worker: %s; trying again", err);
        goto out;
    }
    if (!s->ops->profile_put_fenced || !s->ops->session_put_fenced) {
        cdp_error("storage worker: the store %s cannot be shared (use postgres://)",
                  cdp_config_store_url(w->cfg));
        goto out;
    }
    struct cdp_queue_entry e[BATCH];
    /* every worker process runs both: an entry goes when both have it */
    static const char *const trimmed_by[] = {CDP_CLUSTER_GROUP, CDP_DISPATCH_GROUP};
    double trimmed = 0;
    while (!stop(stop_ud)) {
        if (cdp_clock_mono() - trimmed >= TRIM_S) { /* else the stream grows for ever */
            if (q->ops->trim(q, w->stream, trimmed_by, 2))
                cdp_warn("storage worker: trimming %s failed; trying again", w->stream);
            trimmed = cdp_clock_mono();
        }
        size_t n = 0;
        int rc = q->ops->consume(q, w->stream, CDP_CLUSTER_GROUP, w->consumer, BATCH, BLOCK_MS,
                                 LEASE_MS, e, &n);
        if (rc) {
            cdp_warn("storage worker: reading %s: %s", w->stream, cdp_err_str(rc));
            sleep_ms(RETRY_MS);
            continue;
        }
        long events;
        /* the whole batch, as long as the store is unreachable */
        while (((rc = write_batch(s, e, 0, n, &events)) == CDP_E_UNAVAILABLE || rc == CDP_E_BUSY) &&
               !stop(stop_ud))
            sleep_ms(RETRY_MS);
        if (!rc) {
            stored(q, w, e, 0, n, events);
        } else {
            /* the store refused something: each entry alone, so one cannot hold back the rest;
             * what it still refuses comes back after its lease, and is dead-lettered at last */
            for (size_t i = 0; i < n; i++) {
                if ((rc = write_batch(s, e, i, i + 1, &events)) == 0)
                    stored(q, w, e, i, i + 1, events);
                else
                    cdp_warn("storage worker: entry %s (delivery %ld) refused: %s", e[i].id,
                             e[i].deliveries, cdp_err_str(rc));
            }
        }
        cdp_queue_entries_free(e, n);
    }
out:
    cdp_queue_close(q);
    cdp_store_close(s);
}

int cdp_storage_worker_start(struct cdp_schedule **out, const struct cdp_config *cfg,
                             enum cdp_store_context ctx, char *err, size_t errlen)
{
    struct storage *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errlen, "storage worker: out of memory");
        return CDP_E_NOMEM;
    }
    w->cfg = cfg;
    w->ctx = ctx;
    cdp_cluster_stream(ctx, w->stream, sizeof(w->stream));
    cdp_queue_consumer_name(w->consumer, sizeof(w->consumer));
    /* the run loops until stopped; it ends early only when it cannot open the store or the
     * queue, and is started again a second later */
    int rc = cdp_schedule_start(out, "storage", 1, storage_run, w, free, err, errlen);
    if (!rc)
        cdp_info("storage worker on %s", w->stream);
    return rc;
}
