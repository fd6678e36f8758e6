/* The scale-out store (cluster.h): a struct cdp_store over the shared store, the cache-and-lock
 * seam and the change stream. */
#include "store/cluster.h"
#include "cache/cache.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "queue/queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOCK_LEASE_MS        10000 /* a batch holds its profiles' locks at most this long */
#define LOCK_WAIT_MS         3000  /* how long a reader holding no lock waits for another's */
#define LOCK_WAIT_HOLDING_MS 20    /* ... and one holding locks, before CDP_E_BUSY */
#define CACHE_TTL_S          86400 /* cached copies outlive any storage backlog by far */
#define SETTLE_WAIT_MS       10000
#define MAX_SAVEPOINTS       64

struct pending {
    char
        kind; /* 'p' profile, 's' session, 'e' event, 'x' a profile merged away (no doc to write) */
    char *id;
    cJSON *doc;
};

struct held {
    char key[160]; /* "p:<id>" or "s:<id>" */
    int64_t token;
    cJSON *copy; /* the cached copy read with the lock (NULL: none was cached) */
};

struct cluster {
    struct cdp_store base;
    struct cdp_store *db;
    struct cdp_cache *cache;
    struct cdp_queue *queue;
    char stream[64];
    bool in_txn;
    struct pending *pend;
    size_t npend, pcap;
    size_t marks[MAX_SAVEPOINTS]; /* npend at each open savepoint */
    int nmarks;
    /* The shared store's transaction is opened only when something writes there (a merge, an
     * entity), with the savepoints open at that moment: collection writes none. */
    bool db_began;
    bool implicit; /* begun by a savepoint: ends with it, as SQLite's */
    int db_sp;     /* how many of the savepoints (the outermost) are open in the shared store */
    struct held *held;
    size_t nheld, hcap;
    cJSON *drop;  /* cache keys to delete after commit (merged, erased) */
    bool settled; /* this transaction waited for the workers already */
    int64_t version;
};

#define CL(s) ((struct cluster *)(s))
#define DB(s) (CL(s)->db)

void cdp_cluster_stream(enum cdp_store_context ctx, char *out, size_t outlen)
{
    snprintf(out, outlen, "cdpd:%s:changes", cdp_store_context_name(ctx));
}

bool cdp_cluster_mode(const struct cdp_config *cfg)
{
    return cfg->cache[0] && cfg->queue[0];
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* --- locks --- */

static struct held *held_find(struct cluster *c, const char *key)
{
    for (size_t i = 0; i < c->nheld; i++)
        if (strcmp(c->held[i].key, key) == 0)
            return &c->held[i];
    return NULL;
}

static void hold(struct cluster *c, const char *key, int64_t token, cJSON *copy)
{
    struct held *h = &c->held[c->nheld++];
    snprintf(h->key, sizeof(h->key), "%s", key);
    h->token = token;
    h->copy = copy;
}

/* Takes the lock of kind:id for this transaction unless it holds it, waiting up to
 * LOCK_WAIT_MS while another process holds it. */
static int lock_key(struct cluster *c, char kind, const char *id)
{
    char key[160];
    if (snprintf(key, sizeof(key), "%c:%s", kind, id) >= (int)sizeof(key))
        return CDP_E_INVALID;
    if (held_find(c, key))
        return 0;
    if (c->nheld == c->hcap) {
        size_t cap = c->hcap ? c->hcap * 2 : 16;
        struct held *h = realloc(c->held, cap * sizeof(*h));
        if (!h)
            return CDP_E_NOMEM;
        c->held = h, c->hcap = cap;
    }
    /* Waiting while holding other locks could deadlock with a process that waits for
     * those: wait briefly, then give up (CDP_E_BUSY: the collector runs the request again
     * after its commit released them). */
    int wait_ms = c->nheld ? LOCK_WAIT_HOLDING_MS : LOCK_WAIT_MS;
    struct cdp_cache_item it = {.key = key};
    int rc, waited = 0, step = 1;
    while (!(rc = c->cache->ops->lock_many(c->cache, &it, 1, LOCK_LEASE_MS)) && !it.token &&
           waited < wait_ms) {
        sleep_ms(step);
        waited += step;
        step = step < 16 ? step * 2 : step;
    }
    if (!rc && !it.token && !c->nheld)
        cdp_warn("cluster: %s stayed locked by another process for %d ms", key, waited);
    if (!rc && !it.token)
        rc = CDP_E_BUSY;
    if (rc)
        return rc;
    hold(c, key, it.token, it.got);
    return 0;
}

/* Locks, and reads the cached copies of, as many of the keys as are free, in one round trip;
 * the rest are locked one by one when read. */
static int lock_ahead(struct cluster *c, char kind, const char *const *ids, size_t n)
{
    struct cdp_cache_item *items = calloc(n ? n : 1, sizeof(*items));
    char(*keys)[160] = calloc(n ? n : 1, sizeof(*keys));
    size_t m = 0;
    int rc = items && keys ? 0 : CDP_E_NOMEM;
    for (size_t i = 0; !rc && i < n; i++) {
        if (!ids[i] ||
            snprintf(keys[m], sizeof(keys[m]), "%c:%s", kind, ids[i]) >= (int)sizeof(keys[m]) ||
            held_find(c, keys[m]))
            continue;
        bool dup = false;
        for (size_t j = 0; j < m && !dup; j++)
            dup = strcmp(keys[j], keys[m]) == 0;
        if (!dup)
            items[m].key = keys[m], m++;
    }
    if (!rc && m && c->nheld + m > c->hcap) {
        struct held *h = realloc(c->held, (c->nheld + m) * sizeof(*h));
        if (!h)
            rc = CDP_E_NOMEM;
        else
            c->held = h, c->hcap = c->nheld + m;
    }
    if (!rc && m)
        rc = c->cache->ops->lock_many(c->cache, items, m, LOCK_LEASE_MS);
    for (size_t i = 0; i < m; i++) /* what it took before any failure, too */
        if (items[i].token)
            hold(c, items[i].key, items[i].token, items[i].got);
    free(items);
    free(keys);
    return rc;
}

static const struct pending *pending_find(const struct cluster *c, char kind, const char *id);

/* Writes the newest pending copy of each locked key under its token (with write) and releases
 * every lock, in one round trip. CDP_E_UNAVAILABLE when a lease ran out (the copy is refused). */
static int finish(struct cluster *c, bool write)
{
    if (!c->nheld)
        return 0;
    struct cdp_cache_item *items = calloc(c->nheld, sizeof(*items));
    int rc = items ? 0 : CDP_E_NOMEM;
    for (size_t i = 0; !rc && i < c->nheld; i++) {
        items[i].key = c->held[i].key;
        items[i].token = c->held[i].token;
        const struct pending *p =
            write ? pending_find(c, c->held[i].key[0], c->held[i].key + 2) : NULL;
        items[i].put = p && p->kind != 'x' ? p->doc : NULL;
    }
    if (!rc)
        rc = c->cache->ops->finish_many(c->cache, items, c->nheld, CACHE_TTL_S);
    for (size_t i = 0; !rc && i < c->nheld; i++)
        if (items[i].rc == CDP_E_CONFLICT) {
            cdp_warn("cluster: the lock of %s ran out before commit; the change is refused",
                     items[i].key);
            rc = CDP_E_UNAVAILABLE;
        }
    free(items);
    for (size_t i = 0; i < c->nheld; i++)
        cJSON_Delete(c->held[i].copy);
    c->nheld = 0;
    return rc;
}

/* --- changes kept until commit --- */

static void pending_truncate(struct cluster *c, size_t n)
{
    while (c->npend > n) {
        struct pending *p = &c->pend[--c->npend];
        free(p->id);
        cJSON_Delete(p->doc);
    }
}

static int pending_add(struct cluster *c, char kind, const cJSON *doc)
{
    const char *id = cdp_json_str(doc, "id");
    if (!id)
        return CDP_E_INVALID;
    if (c->npend == c->pcap) {
        size_t cap = c->pcap ? c->pcap * 2 : 64;
        struct pending *p = realloc(c->pend, cap * sizeof(*p));
        if (!p)
            return CDP_E_NOMEM;
        c->pend = p, c->pcap = cap;
    }
    struct pending *p = &c->pend[c->npend];
    p->kind = kind;
    p->id = strdup(id);
    p->doc = cJSON_Duplicate(doc, true);
    if (!p->id || !p->doc) {
        free(p->id);
        cJSON_Delete(p->doc);
        return CDP_E_NOMEM;
    }
    c->npend++;
    return 0;
}

/* The newest pending write of kind:id, or NULL. */
/* The newest pending write of kind:id, or NULL; for a profile, its tombstone ('x') when the
 * newest thing that happened to it is being merged away. */
static const struct pending *pending_find(const struct cluster *c, char kind, const char *id)
{
    for (size_t i = c->npend; i-- > 0;)
        if ((c->pend[i].kind == kind || (kind == 'p' && c->pend[i].kind == 'x')) &&
            strcmp(c->pend[i].id, id) == 0)
            return &c->pend[i];
    return NULL;
}

static void txn_reset(struct cluster *c)
{
    pending_truncate(c, 0);
    c->nmarks = 0;
    finish(c, false);
    cJSON_Delete(c->drop);
    c->drop = NULL;
    c->in_txn = false;
    c->settled = false;
    c->db_began = false;
    c->db_sp = 0;
    c->implicit = false;
}

/* Waits until the storage workers have stored every change published so far: once a
 * transaction, which then sees what was acknowledged before it as a snapshot would. */
static int settle(struct cluster *c)
{
    if (c->settled)
        return 0;
    c->settled = c->in_txn;
    char tail[CDP_QUEUE_ID_MAX];
    int rc = c->queue->ops->tail(c->queue, c->stream, tail, sizeof(tail));
    for (int waited = 0, step = 1; !rc; waited += step, step = step < 32 ? step * 2 : step) {
        bool ok;
        if ((rc = c->queue->ops->settled(c->queue, c->stream, CDP_CLUSTER_GROUP, tail, &ok)) || ok)
            break;
        if (waited >= SETTLE_WAIT_MS) {
            cdp_warn("cluster: the storage workers are %d ms behind; is one running?", waited);
            return CDP_E_UNAVAILABLE;
        }
        sleep_ms(step);
    }
    return rc;
}

static int drop_later(struct cluster *c, char kind, const char *id)
{
    char key[160];
    snprintf(key, sizeof(key), "%c:%s", kind, id);
    if (!c->drop && !(c->drop = cJSON_CreateArray()))
        return CDP_E_NOMEM;
    cJSON *s = cJSON_CreateString(key);
    if (!s)
        return CDP_E_NOMEM;
    cJSON_AddItemToArray(c->drop, s);
    return 0;
}

/* Drops the cached copies of the profiles and sessions a merge record names. */
static int drop_merged(struct cluster *c, const cJSON *record)
{
    const char *survivor = cdp_json_str(record, "survivor.id");
    int rc = survivor ? drop_later(c, 'p', survivor) : 0;
    const cJSON *a, *it;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(record, "absorbed"))
    {
        const char *id = cdp_json_str(a, "id");
        if (!rc && id)
            rc = drop_later(c, 'p', id);
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(a, "sessions"))
        {
            if (!rc && cJSON_IsString(it))
                rc = drop_later(c, 's', it->valuestring);
        }
    }
    return rc;
}

/* --- transactions --- */

/* Opens the shared store's side of the transaction, savepoints included, before a write there. */
static int db_join(struct cluster *c)
{
    int rc = 0;
    if (!c->in_txn)
        return 0;
    if (!c->db_began && !(rc = c->db->ops->begin(c->db)))
        c->db_began = true;
    while (!rc && c->db_sp < c->nmarks && !(rc = c->db->ops->savepoint(c->db)))
        c->db_sp++;
    return rc;
}

static int cl_begin(struct cdp_store *s)
{
    struct cluster *c = CL(s);
    txn_reset(c);
    c->in_txn = true;
    return 0;
}

static int cl_savepoint(struct cdp_store *s)
{
    struct cluster *c = CL(s);
    if (c->nmarks == MAX_SAVEPOINTS)
        return CDP_E_INTERNAL;
    bool outside = !c->in_txn;
    if (outside) /* begins a transaction that its release ends; callers read a snapshot in it */
        cl_begin(s);
    c->marks[c->nmarks++] = c->npend;
    c->implicit = c->implicit || outside;
    return outside ? db_join(c) : 0;
}

/* Ends the innermost savepoint: in the shared store too when it was opened there. */
static int end_savepoint(struct cluster *c, bool undo)
{
    if (c->nmarks == 0)
        return CDP_E_INTERNAL;
    int rc = 0;
    if (c->db_sp == c->nmarks) {
        rc = undo ? c->db->ops->rollback_to(c->db) : c->db->ops->release(c->db);
        c->db_sp--;
    }
    c->nmarks--;
    if (undo)
        pending_truncate(c, c->marks[c->nmarks]);
    return rc;
}

static int cl_commit(struct cdp_store *s);
static int cl_rollback(struct cdp_store *s);

static int cl_release(struct cdp_store *s)
{
    struct cluster *c = CL(s);
    int rc = end_savepoint(c, false);
    if (!c->implicit || c->nmarks > 0)
        return rc;
    if (rc) {
        cl_rollback(s);
        return rc;
    }
    return cl_commit(s);
}

static int cl_rollback_to(struct cdp_store *s)
{
    struct cluster *c = CL(s);
    int rc = end_savepoint(c, true);
    if (c->implicit && c->nmarks == 0) {
        int r = cl_rollback(s);
        return rc ? rc : r;
    }
    return rc;
}

static int cl_rollback(struct cdp_store *s)
{
    struct cluster *c = CL(s);
    bool began = c->db_began;
    txn_reset(c);
    return began ? c->db->ops->rollback(c->db) : 0;
}

static int64_t token_of(struct cluster *c, char kind, const char *id)
{
    char key[160];
    snprintf(key, sizeof(key), "%c:%s", kind, id);
    const struct held *h = held_find(c, key);
    return h ? h->token : 0;
}

/* The change entry of the transaction: the newest version of each profile and session with its
 * fencing token, and the events. NULL with nothing to publish. */
static int change_entry(struct cluster *c, cJSON **out)
{
    *out = NULL;
    if (!c->npend)
        return 0;
    cJSON *e = cJSON_CreateObject();
    cJSON *lists[3] = {cJSON_AddArrayToObject(e, "profiles"), cJSON_AddArrayToObject(e, "sessions"),
                       cJSON_AddArrayToObject(e, "events")};
    if (!e || !lists[0] || !lists[1] || !lists[2] ||
        !cJSON_AddNumberToObject(e, "published", (double)cdp_clock_now_us())) {
        cJSON_Delete(e);
        return CDP_E_NOMEM;
    }
    for (size_t i = 0; i < c->npend; i++) {
        struct pending *p = &c->pend[i];
        if (p->kind == 'x')
            continue;
        if (p->kind == 'e') {
            cJSON_AddItemReferenceToArray(lists[2], p->doc);
            continue;
        }
        if (pending_find(c, p->kind, p->id) != p)
            continue; /* a newer version follows */
        cJSON *w = cJSON_CreateObject();
        if (!w || !cJSON_AddNumberToObject(w, "fence", (double)token_of(c, p->kind, p->id)) ||
            !cJSON_AddItemReferenceToObject(w, "doc", p->doc)) {
            cJSON_Delete(w);
            cJSON_Delete(e);
            return CDP_E_NOMEM;
        }
        cJSON_AddItemToArray(lists[p->kind == 'p' ? 0 : 1], w);
    }
    *out = e;
    return 0;
}

/* Publish, then the cached copies under their tokens, then the shared store's own transaction
 * (merges), then the copies it made stale: a collector answers only after all of it. */
static int cl_commit(struct cdp_store *s)
{
    struct cluster *c = CL(s);
    cJSON *entry;
    int rc = change_entry(c, &entry);
    char id[CDP_QUEUE_ID_MAX];
    bool published = false;
    if (!rc && entry)
        published = !(rc = c->queue->ops->publish(c->queue, c->stream, entry, id, sizeof(id)));
    cJSON_Delete(entry);
    if (c->db_began && !rc)
        rc = c->db->ops->commit(c->db);
    else if (c->db_began)
        c->db->ops->rollback(c->db);
    const cJSON *k;
    cJSON_ArrayForEach(k, c->drop)
    {
        c->cache->ops->del(c->cache, k->valuestring);
    }
    /* published: the copies must show it, whatever failed after */
    int f = finish(c, published);
    txn_reset(c);
    return rc ? rc : f;
}

/* Runs op in a transaction of its own when the caller has none (a write outside begin()). */
#define AUTOCOMMIT(s, call)                                                                        \
    do {                                                                                           \
        if (CL(s)->in_txn)                                                                         \
            return (call);                                                                         \
        int rc_ = cl_begin(s);                                                                     \
        if (!rc_ && !(rc_ = (call)))                                                               \
            return cl_commit(s);                                                                   \
        if (CL(s)->in_txn)                                                                         \
            cl_rollback(s);                                                                        \
        return rc_;                                                                                \
    } while (0)

/* --- profiles and sessions --- */

static int cached_get(struct cluster *c, char kind, const char *id, cJSON **out)
{
    const struct pending *p = pending_find(c, kind, id);
    if (p && p->kind == 'x')
        return CDP_E_NOT_FOUND; /* merged away here: the shared store knows where it went */
    if (p)
        return (*out = cJSON_Duplicate(p->doc, true)) ? 0 : CDP_E_NOMEM;
    char key[160];
    if (snprintf(key, sizeof(key), "%c:%s", kind, id) >= (int)sizeof(key))
        return CDP_E_NOT_FOUND;
    const struct held *h = held_find(c, key); /* read with its lock */
    if (h && !h->copy)
        return CDP_E_NOT_FOUND;
    if (h)
        return (*out = cJSON_Duplicate(h->copy, true)) ? 0 : CDP_E_NOMEM;
    return c->cache->ops->get(c->cache, key, out);
}

/* A profile or session: the pending write, the cached copy, else the shared store's. Inside a
 * transaction, under its lock (and, for a profile found by another of its ids, its own id's). */
static int doc_get(struct cluster *c, char kind, const char *id, cJSON **out)
{
    int rc = c->in_txn ? lock_key(c, kind, id) : 0;
    if (rc || (rc = cached_get(c, kind, id, out)) != CDP_E_NOT_FOUND)
        return rc;
    rc = kind == 'p' ? c->db->ops->profile_get(c->db, id, out)
                     : c->db->ops->session_get(c->db, id, out);
    const char *primary = rc ? NULL : cdp_json_str(*out, "id");
    if (kind != 'p' || !primary || strcmp(primary, id) == 0)
        return rc;
    /* found by an alias: the profile's own id is what is locked and cached */
    char own[160];
    snprintf(own, sizeof(own), "%s", primary);
    cJSON *newer = NULL;
    if ((c->in_txn && (rc = lock_key(c, 'p', own))) ||
        ((rc = cached_get(c, 'p', own, &newer)) && rc != CDP_E_NOT_FOUND)) {
        cJSON_Delete(*out);
        *out = NULL;
        return rc;
    }
    if (newer) {
        cJSON_Delete(*out);
        *out = newer;
    }
    return 0;
}

static int doc_put(struct cdp_store *s, char kind, const cJSON *doc)
{
    struct cluster *c = CL(s);
    const char *id = cdp_json_str(doc, "id");
    if (!id)
        return CDP_E_INVALID;
    int rc = lock_key(c, kind, id);
    return rc ? rc : pending_add(c, kind, doc);
}

static int cl_profile_get(struct cdp_store *s, const char *id, cJSON **out)
{
    return doc_get(CL(s), 'p', id, out);
}

static int cl_session_get(struct cdp_store *s, const char *id, cJSON **out)
{
    return doc_get(CL(s), 's', id, out);
}

static int cl_profile_put(struct cdp_store *s, const cJSON *p)
{
    AUTOCOMMIT(s, doc_put(s, 'p', p));
}

static int cl_session_put(struct cdp_store *s, const cJSON *p)
{
    AUTOCOMMIT(s, doc_put(s, 's', p));
}

static int event_add(struct cdp_store *s, const cJSON *e)
{
    return pending_add(CL(s), 'e', e);
}

static int cl_event_put(struct cdp_store *s, const cJSON *e)
{
    AUTOCOMMIT(s, event_add(s, e));
}

static int touch(struct cdp_store *s, const char *id, const char *update, double duration,
                 const char *status)
{
    cJSON *doc;
    int rc = doc_get(CL(s), 's', id, &doc);
    if (rc)
        return rc == CDP_E_NOT_FOUND ? 0 : rc; /* a session not stored stays so */
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(doc, "metadata");
    cJSON *time = meta ? cJSON_GetObjectItemCaseSensitive(meta, "time") : NULL;
    if (!time && meta)
        time = cJSON_AddObjectToObject(meta, "time");
    if (!time) {
        cJSON_Delete(doc);
        return CDP_E_INVALID;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(time, "update");
    cJSON_DeleteItemFromObjectCaseSensitive(time, "duration");
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "status");
    if (!cJSON_AddStringToObject(time, "update", update) ||
        !cJSON_AddNumberToObject(time, "duration", duration) ||
        !cJSON_AddStringToObject(meta, "status", status))
        rc = CDP_E_NOMEM;
    else
        rc = doc_put(s, 's', doc);
    cJSON_Delete(doc);
    return rc;
}

static int cl_session_touch(struct cdp_store *s, const char *id, const char *update,
                            double duration, const char *status)
{
    AUTOCOMMIT(s, touch(s, id, update, duration, status));
}

/* --- what the shared store does to people --- */

static int merge(struct cdp_store *s, cJSON *record)
{
    struct cluster *c = CL(s);
    int rc = settle(c);
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(record, "absorbed"))
    {
        const char *id = cdp_json_str(a, "id");
        if (!rc && id)
            rc = lock_key(c, 'p', id);
    }
    if (!rc && !(rc = db_join(c)))
        rc = c->db->ops->profile_merge(c->db, record);
    /* what this transaction wrote of the absorbed profiles must not be written after all */
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(record, "absorbed"))
    {
        const char *id = cdp_json_str(a, "id");
        cJSON *tomb = rc || !id ? NULL : cJSON_CreateObject();
        if (tomb)
            rc = cJSON_AddStringToObject(tomb, "id", id) ? pending_add(c, 'x', tomb) : CDP_E_NOMEM;
        cJSON_Delete(tomb);
    }
    return rc ? rc : drop_merged(c, record);
}

static int cl_profile_merge(struct cdp_store *s, cJSON *record)
{
    AUTOCOMMIT(s, merge(s, record));
}

static int undo(struct cdp_store *s, const char *id, const char *when, cJSON **out, char *err,
                size_t errlen)
{
    struct cluster *c = CL(s);
    int rc = settle(c);
    if (!rc && !(rc = db_join(c)))
        rc = c->db->ops->merge_undo(c->db, id, when, out, err, errlen);
    return rc ? rc : drop_merged(c, *out);
}

static int cl_merge_undo(struct cdp_store *s, const char *id, const char *when, cJSON **out,
                         char *err, size_t errlen)
{
    AUTOCOMMIT(s, undo(s, id, when, out, err, errlen));
}

/* Erasure: the cached copies of the person's profile and sessions go too. */
static int erase(struct cdp_store *s, const char *id, struct cdp_erasure_counts *out)
{
    struct cluster *c = CL(s);
    cJSON *held = NULL;
    int rc = settle(c);
    if (!rc)
        rc = c->db->ops->profile_export(c->db, id, 0, &held);
    const char *own = rc ? NULL : cdp_json_str(held, "profile.id");
    if (!rc && own && !(rc = lock_key(c, 'p', own)))
        rc = drop_later(c, 'p', own);
    const cJSON *it, *sessions = cJSON_GetObjectItemCaseSensitive(held, "sessions");
    cJSON_ArrayForEach(it, sessions)
    {
        cJSON *doc = rc ? NULL : cJSON_Parse(it->valuestring);
        const char *sid = cdp_json_str(doc, "id");
        if (!rc && sid)
            rc = drop_later(c, 's', sid);
        cJSON_Delete(doc);
    }
    cJSON_Delete(held);
    return rc || (rc = db_join(c)) ? rc : c->db->ops->profile_erase(c->db, id, out);
}

static int cl_profile_erase(struct cdp_store *s, const char *id, struct cdp_erasure_counts *out)
{
    AUTOCOMMIT(s, erase(s, id, out));
}

/* --- identity look-ups: they must see every profile collectors acknowledged --- */

/* Whether a pending profile (the newest version of its id) has alias among its ids. */
static const char *pending_owner(const struct cluster *c, const char *alias)
{
    for (size_t i = c->npend; i-- > 0;) {
        const struct pending *p = &c->pend[i];
        if (p->kind != 'p' || pending_find(c, 'p', p->id) != p)
            continue;
        if (strcmp(p->id, alias) == 0)
            return p->id;
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(p->doc, "ids"))
        {
            if (cJSON_IsString(it) && strcmp(it->valuestring, alias) == 0)
                return p->id;
        }
    }
    return NULL;
}

static int cl_profile_resolve(struct cdp_store *s, const char *alias, char *out, size_t outlen)
{
    struct cluster *c = CL(s);
    const char *own = pending_owner(c, alias);
    if (own)
        return snprintf(out, outlen, "%s", own) < (int)outlen ? 0 : CDP_E_INVALID;
    int rc = settle(c);
    return rc ? rc : c->db->ops->profile_resolve(c->db, alias, out, outlen);
}

static bool holds_all(const cJSON *doc, const cJSON *keys)
{
    const cJSON *k;
    cJSON_ArrayForEach(k, keys)
    {
        const cJSON *v = cdp_json_get(doc, k->string);
        if (!v || !cJSON_Compare(v, k, true))
            return false;
    }
    return true;
}

static bool listed(const cJSON *ids, const char *id)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, ids)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, id) == 0)
            return true;
    }
    return false;
}

static int cl_profiles_find(struct cdp_store *s, const cJSON *keys, int limit, cJSON **out)
{
    struct cluster *c = CL(s);
    int rc = settle(c);
    if (rc || (rc = c->db->ops->profiles_find(c->db, keys, limit, out)))
        return rc;
    for (size_t i = 0; i < c->npend && cJSON_GetArraySize(*out) < limit; i++) {
        const struct pending *p = &c->pend[i];
        if (p->kind == 'p' && pending_find(c, 'p', p->id) == p && holds_all(p->doc, keys) &&
            !listed(*out, p->id))
            cJSON_AddItemToArray(*out, cJSON_CreateString(p->id));
    }
    return 0;
}

/* Profiles of the shared store (every acknowledged one), each replaced by its cached copy where
 * that is newer. */
static int cl_profiles_scan(struct cdp_store *s, const char *after_id, int limit, cJSON **out)
{
    struct cluster *c = CL(s);
    int rc = settle(c);
    if (rc || (rc = c->db->ops->profiles_scan(c->db, after_id, limit, out)))
        return rc;
    for (int i = 0; !rc && i < cJSON_GetArraySize(*out); i++) {
        const char *id = cdp_json_str(cJSON_GetArrayItem(*out, i), "id");
        cJSON *newer = NULL;
        if (id && (rc = cached_get(c, 'p', id, &newer)) == 0)
            cJSON_ReplaceItemInArray(*out, i, newer);
        rc = rc == CDP_E_NOT_FOUND ? 0 : rc;
    }
    if (rc) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return rc;
}

/* The shared store's own batch segmentation would write around the cache: the job evaluates in
 * C and writes each changed profile through profile_get/profile_put, under its lock. */
static int cl_segments_apply(struct cdp_store *s, struct cdp_segment_batch *b)
{
    (void)s, (void)b;
    return CDP_E_UNSUPPORTED;
}

static int cl_prefetch(struct cdp_store *s, const char *const *profiles, size_t np,
                       const char *const *sessions, size_t ns)
{
    struct cluster *c = CL(s);
    if (!c->in_txn)
        return 0;
    int rc = lock_ahead(c, 'p', profiles, np);
    return rc ? rc : lock_ahead(c, 's', sessions, ns);
}

/* Another process's change may be in any cached copy: a hot cache lives one batch. */
static int cl_external_version(struct cdp_store *s, int64_t *out)
{
    *out = ++CL(s)->version;
    return 0;
}

/* --- the rest is the shared store's --- */

#define FORWARD(name, params, args)                                                                \
    static int cl_##name params                                                                    \
    {                                                                                              \
        return DB(s)->ops->name args;                                                              \
    }
/* A write: inside the caller's transaction */
#define FORWARD_W(name, params, args)                                                              \
    static int cl_##name params                                                                    \
    {                                                                                              \
        int rc = db_join(CL(s));                                                                   \
        return rc ? rc : DB(s)->ops->name args;                                                    \
    }

FORWARD(event_get, (struct cdp_store * s, const char *id, cJSON **out), (DB(s), id, out))
FORWARD(events_by_profile,
        (struct cdp_store * s, const char *pid, int start, int limit, cJSON **out, long *total),
        (DB(s), pid, start, limit, out, total))
FORWARD(entity_kinds, (struct cdp_store * s, cJSON **out), (DB(s), out))
FORWARD(profile_export, (struct cdp_store * s, const char *id, long max, cJSON **out),
        (DB(s), id, max, out))
FORWARD(segment_counts, (struct cdp_store * s, cJSON **out), (DB(s), out))
FORWARD(merge_get, (struct cdp_store * s, const char *id, cJSON **out), (DB(s), id, out))
FORWARD(merge_list,
        (struct cdp_store * s, const char *pid, int start, int limit, cJSON **out, long *total),
        (DB(s), pid, start, limit, out, total))
FORWARD(entity_get, (struct cdp_store * s, const char *kind, const char *id, cJSON **out),
        (DB(s), kind, id, out))
FORWARD_W(entity_put, (struct cdp_store * s, const char *kind, const char *id, const cJSON *doc),
          (DB(s), kind, id, doc))
FORWARD_W(entity_delete, (struct cdp_store * s, const char *kind, const char *id),
          (DB(s), kind, id))
FORWARD(entity_list,
        (struct cdp_store * s, const char *kind, const struct cdp_entity_query *q, int start,
         int limit, cJSON **out, long *total),
        (DB(s), kind, q, start, limit, out, total))
FORWARD(entity_version, (struct cdp_store * s, int64_t *out), (DB(s), out))
FORWARD_W(user_put, (struct cdp_store * s, const struct cdp_user_rec *u), (DB(s), u))
FORWARD(user_get, (struct cdp_store * s, const char *id, struct cdp_user_rec *out),
        (DB(s), id, out))
FORWARD_W(token_put, (struct cdp_store * s, const char *hash, const char *uid, int64_t expires),
          (DB(s), hash, uid, expires))
FORWARD_W(token_touch,
          (struct cdp_store * s, const char *hash, int64_t now, int64_t next, int64_t step,
           char *uid, size_t uidlen),
          (DB(s), hash, now, next, step, uid, uidlen))
FORWARD_W(token_delete, (struct cdp_store * s, const char *hash), (DB(s), hash))
FORWARD(user_list, (struct cdp_store * s, int start, int limit, cJSON **out, long *total),
        (DB(s), start, limit, out, total))
FORWARD_W(user_delete, (struct cdp_store * s, const char *id), (DB(s), id))
FORWARD_W(tokens_delete_user, (struct cdp_store * s, const char *uid, const char *keep),
          (DB(s), uid, keep))
FORWARD_W(audit_put, (struct cdp_store * s, const cJSON *rec), (DB(s), rec))
FORWARD(audit_list,
        (struct cdp_store * s, const struct cdp_audit_filter *f, int start, int limit, cJSON **out,
         long *total),
        (DB(s), f, start, limit, out, total))
FORWARD(maintain, (struct cdp_store * s), (DB(s)))
FORWARD(checkpoint, (struct cdp_store * s, int *pages), (DB(s), pages))
FORWARD(meta_get, (struct cdp_store * s, const char *key, char *out, size_t outlen),
        (DB(s), key, out, outlen))
FORWARD_W(meta_put, (struct cdp_store * s, const char *key, const char *value), (DB(s), key, value))
FORWARD(search, (struct cdp_store * s, const struct cdp_search *q, cJSON **out, long *total),
        (DB(s), q, out, total))
FORWARD(histogram,
        (struct cdp_store * s, const struct cdp_search *q, const struct cdp_histogram *h,
         cJSON **out),
        (DB(s), q, h, out))
FORWARD(terms,
        (struct cdp_store * s, const struct cdp_search *q, const char *field, int limit,
         cJSON **out),
        (DB(s), q, field, limit, out))

static void cl_close(struct cdp_store *s)
{
    struct cluster *c = CL(s);
    if (!c)
        return;
    if (c->in_txn)
        cl_rollback(s);
    txn_reset(c);
    free(c->pend);
    free(c->held);
    cdp_store_close(c->db);
    cdp_cache_close(c->cache);
    cdp_queue_close(c->queue);
    free(c);
}

static const struct cdp_store_ops cluster_ops = {
    .scheme = "cluster",
    .close = cl_close,
    .begin = cl_begin,
    .commit = cl_commit,
    .rollback = cl_rollback,
    .savepoint = cl_savepoint,
    .release = cl_release,
    .rollback_to = cl_rollback_to,
    .profile_get = cl_profile_get,
    .profile_put = cl_profile_put,
    .session_get = cl_session_get,
    .session_put = cl_session_put,
    .session_touch = cl_session_touch,
    .event_put = cl_event_put,
    .event_get = cl_event_get,
    .events_by_profile = cl_events_by_profile,
    .entity_kinds = cl_entity_kinds,
    .profile_erase = cl_profile_erase,
    .profile_export = cl_profile_export,
    .segment_counts = cl_segment_counts,
    .profile_resolve = cl_profile_resolve,
    .profiles_find = cl_profiles_find,
    .profile_merge = cl_profile_merge,
    .merge_get = cl_merge_get,
    .merge_list = cl_merge_list,
    .merge_undo = cl_merge_undo,
    .entity_get = cl_entity_get,
    .entity_put = cl_entity_put,
    .entity_delete = cl_entity_delete,
    .entity_list = cl_entity_list,
    .entity_version = cl_entity_version,
    .external_version = cl_external_version,
    .user_put = cl_user_put,
    .user_get = cl_user_get,
    .token_put = cl_token_put,
    .token_touch = cl_token_touch,
    .token_delete = cl_token_delete,
    .user_list = cl_user_list,
    .user_delete = cl_user_delete,
    .tokens_delete_user = cl_tokens_delete_user,
    .audit_put = cl_audit_put,
    .audit_list = cl_audit_list,
    .maintain = cl_maintain,
    .checkpoint = cl_checkpoint,
    .meta_get = cl_meta_get,
    .meta_put = cl_meta_put,
    .segments_apply = cl_segments_apply,
    .profiles_scan = cl_profiles_scan,
    .prefetch = cl_prefetch,
    .search = cl_search,
    .histogram = cl_histogram,
    .terms = cl_terms,
};

int cdp_store_open_cfg(struct cdp_store **out, const struct cdp_config *cfg,
                       enum cdp_store_context ctx, bool manual_checkpoint, char *err, size_t errlen)
{
    struct cdp_store_opts so = {.durable = strcmp(cfg->sync, "full") == 0,
                                .manual_checkpoint = manual_checkpoint,
                                .context = ctx};
    if (!cdp_cluster_mode(cfg))
        return cdp_store_open(out, cdp_config_store_url(cfg), &so, err, errlen);
    struct cluster *c = calloc(1, sizeof(*c));
    if (!c)
        return CDP_E_NOMEM;
    c->base.ops = &cluster_ops;
    c->base.context = ctx;
    cdp_cluster_stream(ctx, c->stream, sizeof(c->stream));
    char why[400];
    struct cdp_queue_opts qo = {0};
    int rc = cdp_store_open(&c->db, cdp_config_store_url(cfg), &so, err, errlen);
    if (!rc &&
        (rc = cdp_cache_open(&c->cache, cfg->cache, cdp_store_context_name(ctx), why, sizeof(why))))
        snprintf(err, errlen, "cache %s: %s", cfg->cache, why);
    if (!rc && (rc = cdp_queue_open(&c->queue, cfg->queue, &qo, why, sizeof(why))))
        snprintf(err, errlen, "queue %s: %s", cfg->queue, why);
    if (rc) {
        cl_close(&c->base);
        return rc;
    }
    *out = &c->base;
    return 0;
}
