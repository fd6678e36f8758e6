/* The in-process backend of the cache seam, for the embedded mode: the same semantics as the
 * Redis backend within one process. Every handle of one namespace shares one space (a hash
 * table under a mutex, refcounted by its open handles), so handles of different threads
 * exclude each other as Redis clients do. Documents are kept as printed JSON, so what a caller
 * changes after put never shows in the cache. Expired entries go when touched, and in a sweep
 * every SWEEP_EVERY writes. A fence (the newest token of a key) is kept as long as the space. */
#include "cache/cache.h"
#include "core/err.h"
#include "core/json.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NBUCKETS    4096
#define SWEEP_EVERY 4096

struct entry {
    struct entry *next;
    char *doc;            /* printed JSON, or NULL */
    int64_t doc_expires;  /* monotonic ms, 0: never */
    int64_t lock_token;   /* 0: not locked */
    int64_t lock_expires; /* monotonic ms */
    int64_t fence;        /* newest token issued */
    char key[];
};

struct space {
    struct space *next;
    int refs;
    pthread_mutex_t mu;
    unsigned writes;
    struct entry *buckets[NBUCKETS];
    char ns[];
};

struct local_cache {
    struct cdp_cache base;
    struct space *sp;
};

static pthread_mutex_t spaces_mu = PTHREAD_MUTEX_INITIALIZER;
static struct space *spaces;

static int64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct space *sp_of(struct cdp_cache *c)
{
    return ((struct local_cache *)c)->sp;
}

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % NBUCKETS;
}

/* Drops what has expired of e; true when nothing of it is left worth keeping. */
static bool expire(struct entry *e, int64_t now)
{
    if (e->doc && e->doc_expires && e->doc_expires <= now) {
        free(e->doc);
        e->doc = NULL;
    }
    if (e->lock_token && e->lock_expires <= now)
        e->lock_token = 0;
    return !e->doc && !e->lock_token && !e->fence;
}

static void sweep(struct space *sp, int64_t now)
{
    for (int i = 0; i < NBUCKETS; i++)
        for (struct entry **pp = &sp->buckets[i]; *pp;) {
            struct entry *e = *pp;
            if (expire(e, now)) {
                *pp = e->next;
                free(e);
            } else {
                pp = &e->next;
            }
        }
}

/* The entry of key (made when create), with what expired dropped; under sp->mu. */
static struct entry *find(struct space *sp, const char *key, bool create)
{
    int64_t now = clock_ms(CLOCK_MONOTONIC);
    struct entry **head = &sp->buckets[hash(key)];
    for (struct entry *e = *head; e; e = e->next)
        if (strcmp(e->key, key) == 0) {
            expire(e, now);
            return e;
        }
    if (!create)
        return NULL;
    if (++sp->writes % SWEEP_EVERY == 0)
        sweep(sp, now);
    size_t n = strlen(key) + 1;
    struct entry *e = calloc(1, sizeof(*e) + n);
    if (!e)
        return NULL;
    memcpy(e->key, key, n);
    e->next = *head;
    *head = e;
    return e;
}

static int set_doc(struct entry *e, const cJSON *doc, int ttl_s)
{
    char *text = cdp_json_print(doc);
    if (!text)
        return CDP_E_NOMEM;
    free(e->doc);
    e->doc = text;
    e->doc_expires = ttl_s > 0 ? clock_ms(CLOCK_MONOTONIC) + (int64_t)ttl_s * 1000 : 0;
    return 0;
}

static int local_get(struct cdp_cache *c, const char *key, cJSON **out)
{
    struct space *sp = sp_of(c);
    *out = NULL;
    if (!key || !*key)
        return CDP_E_INVALID;
    pthread_mutex_lock(&sp->mu);
    struct entry *e = find(sp, key, false);
    int rc = CDP_E_NOT_FOUND;
    if (e && e->doc) {
        *out = cdp_json_parse(e->doc, strlen(e->doc), NULL);
        rc = *out ? 0 : CDP_E_NOMEM;
    }
    pthread_mutex_unlock(&sp->mu);
    return rc;
}

static int local_put(struct cdp_cache *c, const char *key, const cJSON *doc, int ttl_s)
{
    struct space *sp = sp_of(c);
    if (!key || !*key || !doc || ttl_s < 0)
        return CDP_E_INVALID;
    pthread_mutex_lock(&sp->mu);
    struct entry *e = find(sp, key, true);
    int rc = e ? set_doc(e, doc, ttl_s) : CDP_E_NOMEM;
    pthread_mutex_unlock(&sp->mu);
    return rc;
}

static int local_del(struct cdp_cache *c, const char *key)
{
    struct space *sp = sp_of(c);
    if (!key || !*key)
        return CDP_E_INVALID;
    pthread_mutex_lock(&sp->mu);
    struct entry *e = find(sp, key, false);
    if (e) {
        free(e->doc);
        e->doc = NULL;
    }
    pthread_mutex_unlock(&sp->mu);
    return 0;
}

static int local_lock(struct cdp_cache *c, const char *key, int lease_ms, int64_t *token)
{
    struct space *sp = sp_of(c);
    *token = 0;
    if (!key || !*key || lease_ms <= 0)
        return CDP_E_INVALID;
    pthread_mutex_lock(&sp->mu);
    struct entry *e = find(sp, key, true);
    int rc = 0;
    if (!e) {
        rc = CDP_E_NOMEM;
    } else if (e->lock_token) {
        rc = CDP_E_CONFLICT;
    } else {
        /* as the Redis backend: max(fence + 1, the clock in ms) */
        int64_t t = e->fence + 1, now = clock_ms(CLOCK_REALTIME);
        e->fence = now > t ? now : t;
        e->lock_token = e->fence;
        e->lock_expires = clock_ms(CLOCK_MONOTONIC) + lease_ms;
        *token = e->fence;
    }
    pthread_mutex_unlock(&sp->mu);
    return rc;
}

static int local_unlock(struct cdp_cache *c, const char *key, int64_t token)
{
    struct space *sp = sp_of(c);
    if (!key || !*key)
        return CDP_E_INVALID;
    pthread_mutex_lock(&sp->mu);
    struct entry *e = find(sp, key, false);
    int rc = CDP_E_CONFLICT;
    if (e && e->lock_token && e->lock_token == token) {
        e->lock_token = 0;
        rc = 0;
    }
    pthread_mutex_unlock(&sp->mu);
    return rc;
}

static int local_fenced_put(struct cdp_cache *c, const char *key, const cJSON *doc, int64_t token,
                            int ttl_s)
{
    struct space *sp = sp_of(c);
    if (!key || !*key || !doc || ttl_s < 0 || token <= 0)
        return CDP_E_INVALID;
    pthread_mutex_lock(&sp->mu);
    struct entry *e = find(sp, key, true);
    int rc;
    if (!e)
        rc = CDP_E_NOMEM;
    else if (e->fence > token)
        rc = CDP_E_CONFLICT;
    else
        rc = set_doc(e, doc, ttl_s);
    pthread_mutex_unlock(&sp->mu);
    return rc;
}

static void local_close(struct cdp_cache *c)
{
    struct space *sp = sp_of(c);
    pthread_mutex_lock(&spaces_mu);
    if (--sp->refs == 0) {
        for (struct space **pp = &spaces; *pp; pp = &(*pp)->next)
            if (*pp == sp) {
                *pp = sp->next;
                break;
            }
        for (int i = 0; i < NBUCKETS; i++)
            for (struct entry *e = sp->buckets[i], *next; e; e = next) {
                next = e->next;
                free(e->doc);
                free(e);
            }
        pthread_mutex_destroy(&sp->mu);
        free(sp);
    }
    pthread_mutex_unlock(&spaces_mu);
    free(c);
}

static int local_open(struct cdp_cache **out, const char *url, const char *ns, char *err,
                      size_t errlen)
{
    *out = NULL;
    if (strcmp(url, "local:") != 0 && strcmp(url, "local://") != 0) {
        snprintf(err, errlen, "bad local cache URL %s (want local:)", url);
        return CDP_E_CONFIG;
    }
    struct local_cache *lc = calloc(1, sizeof(*lc));
    if (!lc)
        return CDP_E_NOMEM;
    lc->base.ops = &cdp_cache_local_ops;
    pthread_mutex_lock(&spaces_mu);
    struct space *sp = spaces;
    while (sp && strcmp(sp->ns, ns) != 0)
        sp = sp->next;
    if (!sp) {
        size_t n = strlen(ns) + 1;
        sp = calloc(1, sizeof(*sp) + n);
        if (sp) {
            memcpy(sp->ns, ns, n);
            pthread_mutex_init(&sp->mu, NULL);
            sp->next = spaces;
            spaces = sp;
        }
    }
    if (sp)
        sp->refs++;
    pthread_mutex_unlock(&spaces_mu);
    if (!sp) {
        free(lc);
        return CDP_E_NOMEM;
    }
    lc->sp = sp;
    *out = &lc->base;
    return 0;
}

const struct cdp_cache_ops cdp_cache_local_ops = {
    .scheme = "local",
    .lock_many = cdp_cache_lock_each,
    .finish_many = cdp_cache_finish_each,
    .open = local_open,
    .close = local_close,
    .get = local_get,
    .put = local_put,
    .del = local_del,
    .lock = local_lock,
    .unlock = local_unlock,
    .fenced_put = local_fenced_put,
};
