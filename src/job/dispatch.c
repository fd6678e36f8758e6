/* The dispatch worker (dispatch.h). */
#include "job/dispatch.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/secret.h"
#include "flow/flow.h"
#include "flow/io.h"
#include "flow/path.h"
#include "flow/template.h"
#include "flow/tql.h"
#include "job/schedule.h"
#include "queue/queue.h"
#include "store/cluster.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH     32
#define BLOCK_MS  500
#define LEASE_MS  30000 /* a worker that dies: its entries go to another after this */
#define RETRY_MS  250
#define MAX_DESTS 1000

struct dest {
    const cJSON *doc; /* in dispatcher.docs */
    struct cdp_tql *cond;
    cJSON *creds; /* the resource's production credentials in clear */
    bool profile; /* on_profile_change_only: a profile destination, else an event one */
};

struct dispatcher {
    const struct cdp_config *cfg;
    enum cdp_store_context ctx;
    char stream[64], consumer[96];
    unsigned char key[CDP_SECRET_KEY_LEN];
    bool have_key;
    int64_t version; /* of the entities the destinations were loaded at (-1: none yet) */
    cJSON *docs;
    struct dest *dests;
    size_t ndests;
};

void cdp_dispatch_outbox_url(const struct cdp_config *cfg, char *out, size_t outlen)
{
    snprintf(out, outlen, "local:%s", cfg->data);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void dests_clear(struct dispatcher *d)
{
    for (size_t i = 0; i < d->ndests; i++) {
        cdp_tql_free(d->dests[i].cond);
        cJSON_Delete(d->dests[i].creds);
    }
    free(d->dests);
    d->dests = NULL;
    d->ndests = 0;
    cJSON_Delete(d->docs);
    d->docs = NULL;
}

int cdp_dispatch_wanted(struct cdp_store *s, bool *out)
{
    cJSON *list = NULL;
    long total = 0;
    int rc = s->ops->entity_list(s, "destination", NULL, 0, MAX_DESTS, &list, &total);
    *out = false;
    const cJSON *doc;
    cJSON_ArrayForEach(doc, list)
    {
        *out = *out || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "enabled"));
    }
    cJSON_Delete(list);
    return rc;
}

/* The production credentials of resource id, in clear; NULL (why in err) when it cannot be used. */
static cJSON *credentials(struct dispatcher *d, struct cdp_store *s, const char *id, char *err,
                          size_t errlen)
{
    cJSON *res = NULL, *plain = NULL;
    int rc = s->ops->entity_get(s, "resource", id, &res);
    if (rc) {
        snprintf(err, errlen, "resource `%s`: %s", id, cdp_err_str(rc));
    } else if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(res, "enabled"))) {
        snprintf(err, errlen, "resource `%s` is disabled", id);
    } else {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(res, "credentials");
        if (!cdp_secret_is_sealed(c)) {
            plain = cJSON_Duplicate(c, true);
        } else if (!d->have_key) {
            snprintf(err, errlen, "resource `%s`: no secret key to open its credentials", id);
        } else {
            char ctx[200];
            snprintf(ctx, sizeof(ctx), "resource:%s", id);
            cdp_secret_open(d->key, ctx, c, &plain, err, errlen);
        }
    }
    cJSON_Delete(res);
    cJSON *prod = plain ? cJSON_DetachItemFromObjectCaseSensitive(plain, "production") : NULL;
    cJSON_Delete(plain);
    if (!cdp_json_str(prod, "url")) {
        if (!*err)
            snprintf(err, errlen, "resource `%s`: its production credentials have no url", id);
        cJSON_Delete(prod);
        return NULL;
    }
    return prod;
}

/* The enabled destinations, loaded again when configuration changed. */
static int load(struct dispatcher *d, struct cdp_store *s)
{
    int64_t v;
    int rc = s->ops->entity_version(s, &v);
    if (rc || v == d->version)
        return rc;
    dests_clear(d);
    long total = 0;
    if ((rc = s->ops->entity_list(s, "destination", NULL, 0, MAX_DESTS, &d->docs, &total)))
        return rc;
    d->dests = calloc((size_t)cJSON_GetArraySize(d->docs) + 1, sizeof(*d->dests));
    if (!d->dests)
        return CDP_E_NOMEM;
    const cJSON *doc;
    cJSON_ArrayForEach(doc, d->docs)
    {
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "enabled")))
            continue;
        const char *name = cdp_json_str(doc, "name"), *cond = cdp_json_str(doc, "condition");
        char err[300] = "";
        struct dest *t = &d->dests[d->ndests];
        *t = (struct dest){.doc = doc,
                           .profile = !cJSON_IsFalse(
                               cJSON_GetObjectItemCaseSensitive(doc, "on_profile_change_only"))};
        if (cond && cond[strspn(cond, " \t\r\n")] &&
            cdp_tql_parse(cond, &t->cond, err, sizeof(err)))
            cdp_warn("destination `%s`: condition: %s; not sent to", name ? name : "?", err);
        else if (!(t->creds =
                       credentials(d, s, cdp_json_str(doc, "resource.id"), err, sizeof(err))))
            cdp_warn("destination `%s`: %s; not sent to", name ? name : "?", err);
        else
            d->ndests++;
        if (!t->creds)
            cdp_tql_free(t->cond);
    }
    d->version = v;
    cdp_info("dispatch: %zu destination(s) enabled", d->ndests);
    return 0;
}

/* Builds the HTTP request of one send: Tracardi's HTTP connector. */
static int request(const struct dest *t, cJSON *data, struct cdp_flow_wait *w)
{
    const cJSON *init = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(t->doc, "destination"), "init");
    const char *method = cdp_json_str(init, "method");
    const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(init, "timeout");
    *w = (struct cdp_flow_wait){
        .kind = CDP_WAIT_HTTP,
        .timeout_ms = cJSON_IsNumber(timeout) && timeout->valuedouble > 0
                          ? (long)(timeout->valuedouble * 1000)
                          : 30000,
        .ssl_check = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(init, "ssl_check"))};
    cJSON *body = cJSON_CreateObject(), *h = cJSON_CreateObject();
    w->method = strdup(method && *method ? method : "POST");
    for (char *p = w->method; p && *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    w->url = strdup(cdp_json_str(t->creds, "url"));
    w->headers = h;
    if (!body || !h || !w->method || !w->url || !cJSON_AddItemToObject(body, "data", data) ||
        !cJSON_AddArrayToObject(body, "changes")) {
        cJSON_Delete(body);
        return CDP_E_NOMEM;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(init, "headers"))
    {
        if (cJSON_IsString(it))
            cJSON_AddStringToObject(h, it->string, it->valuestring);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(h, "Content-Type");
    cJSON_AddStringToObject(h, "Content-Type", "application/json");
    const char *user = cdp_json_str(t->creds, "username"),
               *pass = cdp_json_str(t->creds, "password");
    if (user && pass && *user) {
        char plain[512], b64[700], auth[720];
        snprintf(plain, sizeof(plain), "%s:%s", user, pass);
        sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)plain, strlen(plain),
                          sodium_base64_VARIANT_ORIGINAL);
        snprintf(auth, sizeof(auth), "Basic %s", b64);
        sodium_memzero(plain, sizeof(plain));
        cJSON_AddStringToObject(h, "Authorization", auth);
    }
    w->body = cdp_json_print(body);
    cJSON_Delete(body);
    return w->body ? 0 : CDP_E_NOMEM;
}

/* Sends to destination t what it maps from the documents, when its condition holds. */
static void send(const struct dest *t, cJSON *profile, cJSON *session, cJSON *event)
{
    const char *name = cdp_json_str(t->doc, "name");
    struct cdp_refs r = {.profile = profile, .session = session, .event = event};
    char err[300] = "";
    bool ok = true;
    if (t->cond && cdp_tql_eval(t->cond, &r, cdp_clock_now_us(), &ok, err, sizeof(err))) {
        cdp_warn("destination `%s`: condition: %s", name, err);
        return;
    }
    if (!ok)
        return;
    cJSON *data = NULL;
    struct cdp_flow_wait w = {0};
    if (cdp_template_object(cJSON_GetObjectItemCaseSensitive(t->doc, "mapping"), &r, false, &data,
                            err, sizeof(err)) ||
        request(t, data, &w)) {
        cdp_warn("destination `%s`: %s", name, *err ? err : "out of memory");
        cdp_flow_wait_clear(&w);
        return;
    }
    cJSON *out = cdp_flow_io_run_sync(&w);
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(out, "status");
    if (cJSON_IsNumber(status) && status->valueint < 400) {
        cdp_metric_add(CDP_METRIC_DISPATCHED, 1);
    } else {
        cdp_metric_add(CDP_METRIC_DISPATCH_ERRORS, 1);
        const char *why = cdp_json_str(out, "error");
        if (why)
            cdp_warn("destination `%s`: %s %s: %s (not retried)", name, w.method, w.url, why);
        else
            cdp_warn("destination `%s`: %s %s answered %d (not retried)", name, w.method, w.url,
                     cJSON_IsNumber(status) ? status->valueint : 0);
    }
    cJSON_Delete(out);
    cdp_flow_wait_clear(&w);
}

/* The document with this id in an entry's list of {doc} (or of documents); NULL if none. */
static cJSON *by_id(const cJSON *list, const char *path, const char *id)
{
    cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        cJSON *doc = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(it, "doc"))
                         ? cJSON_GetObjectItemCaseSensitive(it, "doc")
                         : it;
        const char *v = cdp_json_str(doc, path);
        if (id && v && strcmp(v, id) == 0)
            return doc;
    }
    return NULL;
}

static bool matches(const cJSON *dest, const char *key, const char *value)
{
    const char *want = cdp_json_str(dest, key);
    return !want || !*want || (value && strcmp(want, value) == 0);
}

/* What one change entry calls for. Only entries of collection (they hold events) are sent:
 * edits and imports through the API are not, as in Tracardi. */
static int dispatch_entry(struct dispatcher *d, struct cdp_store *s, const cJSON *entry)
{
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(entry, "events");
    const cJSON *profiles = cJSON_GetObjectItemCaseSensitive(entry, "profiles");
    const cJSON *sessions = cJSON_GetObjectItemCaseSensitive(entry, "sessions");
    if (!d->ndests || cJSON_GetArraySize(events) == 0)
        return 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, profiles)
    {
        cJSON *p = cJSON_GetObjectItemCaseSensitive(w, "doc");
        cJSON *sess = by_id(sessions, "profile.id", cdp_json_str(p, "id"));
        for (size_t i = 0; p && i < d->ndests; i++)
            if (d->dests[i].profile)
                send(&d->dests[i], p, sess, NULL);
    }
    cJSON *e;
    cJSON_ArrayForEach(e, events)
    {
        const char *pid = cdp_json_str(e, "profile.id"), *sid = cdp_json_str(e, "session.id");
        cJSON *p = by_id(profiles, "id", pid), *sess = by_id(sessions, "id", sid);
        cJSON *pl = NULL, *sl = NULL; /* not changed by this batch: as stored */
        int rc = 0;
        for (size_t i = 0; !rc && i < d->ndests; i++) {
            const struct dest *t = &d->dests[i];
            if (t->profile || !matches(t->doc, "event_type.id", cdp_json_str(e, "type")) ||
                !matches(t->doc, "source.id", cdp_json_str(e, "source.id")))
                continue;
            if (!p && pid && !pl && (rc = s->ops->profile_get(s, pid, &pl)) == CDP_E_NOT_FOUND)
                rc = 0;
            if (!sess && sid && !sl && !rc &&
                (rc = s->ops->session_get(s, sid, &sl)) == CDP_E_NOT_FOUND)
                rc = 0;
            if (!rc)
                send(t, p ? p : pl, sess ? sess : sl, e);
        }
        cJSON_Delete(pl);
        cJSON_Delete(sl);
        if (rc)
            return rc;
    }
    return 0;
}

static void dispatch_run(void *ud, bool (*stop)(void *), void *stop_ud)
{
    struct dispatcher *d = ud;
    char err[512], url[600];
    struct cdp_store *s = NULL;
    struct cdp_queue *q = NULL;
    struct cdp_queue_opts qo = {0};
    if (cdp_cluster_mode(d->cfg))
        snprintf(url, sizeof(url), "%s", d->cfg->queue);
    else
        cdp_dispatch_outbox_url(d->cfg, url, sizeof(url));
    /* in scale-out the scale-out store: a profile the batch did not change may not be in
     * PostgreSQL yet, but it is in the cache */
    if (cdp_store_open_cfg(&s, d->cfg, d->ctx, false, err, sizeof(err)) ||
        cdp_queue_open(&q, url, &qo, err, sizeof(err))) {
        cdp_error("dispatch worker: %s; trying again", err);
        goto out;
    }
    d->version = -1;
    struct cdp_queue_entry e[BATCH];
    double trimmed = 0;
    while (!stop(stop_ud)) {
        /* the embedded outbox has no other reader; in scale-out the storage worker trims */
        if (!cdp_cluster_mode(d->cfg) && cdp_clock_mono() - trimmed >= 1.0) {
            static const char *const mine[] = {CDP_DISPATCH_GROUP};
            q->ops->trim(q, d->stream, mine, 1);
            trimmed = cdp_clock_mono();
        }
        /* the embedded outbox is polled (a file has no notification): while no destination is
         * enabled, nothing comes into it, and once a second is enough */
        bool idle = !cdp_cluster_mode(d->cfg) && !load(d, s) && !d->ndests;
        size_t n = 0;
        int rc = q->ops->consume(q, d->stream, CDP_DISPATCH_GROUP, d->consumer, BATCH,
                                 idle ? 0 : BLOCK_MS, LEASE_MS, e, &n);
        if (!rc && !n && idle)
            sleep_ms(1000);
        if (rc) {
            cdp_warn("dispatch worker: reading %s: %s", d->stream, cdp_err_str(rc));
            sleep_ms(RETRY_MS);
            continue;
        }
        const char *done[BATCH];
        size_t ndone = 0;
        for (size_t i = 0; i < n; i++) {
            if (!(rc = load(d, s)) && e[i].doc)
                rc = dispatch_entry(d, s, e[i].doc);
            if (rc == 0 || rc != CDP_E_UNAVAILABLE) /* else again after the lease */
                done[ndone++] = e[i].id;
            if (rc && rc != CDP_E_UNAVAILABLE)
                cdp_warn("dispatch worker: entry %s: %s", e[i].id, cdp_err_str(rc));
        }
        if (ndone && q->ops->ack(q, d->stream, CDP_DISPATCH_GROUP, done, ndone))
            cdp_warn("dispatch worker: acknowledging failed; entries will come again");
        cdp_queue_entries_free(e, n);
    }
out:
    dests_clear(d);
    cdp_queue_close(q);
    cdp_store_close(s);
}

static void dispatcher_free(void *ud)
{
    struct dispatcher *d = ud;
    if (d)
        sodium_memzero(d->key, sizeof(d->key));
    free(d);
}

int cdp_dispatch_worker_start(struct cdp_schedule **out, const struct cdp_config *cfg,
                              enum cdp_store_context ctx, char *err, size_t errlen)
{
    struct dispatcher *d = calloc(1, sizeof(*d));
    if (!d) {
        snprintf(err, errlen, "dispatch worker: out of memory");
        return CDP_E_NOMEM;
    }
    d->cfg = cfg;
    d->ctx = ctx;
    d->version = -1;
    cdp_cluster_stream(ctx, d->stream, sizeof(d->stream));
    char why[300];
    cdp_queue_consumer_name(d->consumer, sizeof(d->consumer));
    d->have_key = cdp_secret_key_load(cfg, d->key, why, sizeof(why)) == 0;
    if (!d->have_key)
        cdp_warn("dispatch worker: %s; destinations whose resource has sealed credentials are "
                 "not sent to",
                 why);
    char stream[64];
    snprintf(stream, sizeof(stream), "%s", d->stream); /* d belongs to the schedule from here */
    int rc = cdp_schedule_start(out, "dispatch", 1, dispatch_run, d, dispatcher_free, err, errlen);
    if (!rc)
        cdp_info("dispatch worker on %s", stream);
    return rc;
}
