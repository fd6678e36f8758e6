/* An open-hashing table with an intrusive LRU list. */
#include "collect/hotcache.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    struct entry *hnext;               /* hash chain */
    struct entry *lru_prev, *lru_next; /* most recent at head */
    uint64_t hash;
    cJSON *doc;
    bool dirty;
    double dirty_since;
    struct entry *dprev, *dnext; /* dirty entries, oldest first */
    char key[];                  /* NUL-terminated */
};

struct cdp_hotcache {
    size_t capacity, count, nbuckets;
    struct entry **buckets;
    struct entry *head, *tail;
    void (*flush)(void *ud, const cJSON *doc);
    void *flush_ud;
    struct entry *dhead, *dtail;
};

static void dirty_unlink(struct cdp_hotcache *c, struct entry *e)
{
    if (!e->dirty)
        return;
    if (e->dprev)
        e->dprev->dnext = e->dnext;
    else
        c->dhead = e->dnext;
    if (e->dnext)
        e->dnext->dprev = e->dprev;
    else
        c->dtail = e->dprev;
    e->dirty = false;
}

static void dirty_append(struct cdp_hotcache *c, struct entry *e, double now)
{
    e->dirty = true;
    e->dirty_since = now;
    e->dnext = NULL;
    e->dprev = c->dtail;
    if (c->dtail)
        c->dtail->dnext = e;
    else
        c->dhead = e;
    c->dtail = e;
}

static uint64_t hash_key(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

struct cdp_hotcache *cdp_hotcache_new(size_t capacity)
{
    struct cdp_hotcache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->capacity = capacity;
    c->nbuckets = 64;
    while (c->nbuckets < capacity * 2)
        c->nbuckets *= 2;
    c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
    if (!c->buckets) {
        free(c);
        return NULL;
    }
    return c;
}

static void lru_unlink(struct cdp_hotcache *c, struct entry *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        c->head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        c->tail = e->lru_prev;
}

/* Unlinks the entry from both lists and frees it; returns its document. */
static cJSON *remove_entry(struct cdp_hotcache *c, struct entry *e)
{
    if (e->dirty && c->flush)
        c->flush(c->flush_ud, e->doc);
    dirty_unlink(c, e);
    struct entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(c, e);
    cJSON *doc = e->doc;
    free(e);
    c->count--;
    return doc;
}

static struct entry *find(const struct cdp_hotcache *c, const char *key, uint64_t h)
{
    for (struct entry *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->hnext)
        if (e->hash == h && strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

cJSON *cdp_hotcache_take(struct cdp_hotcache *c, const char *key)
{
    struct entry *e = find(c, key, hash_key(key));
    if (!e)
        return NULL;
    dirty_unlink(c, e); /* the taker now owns what is newer than the store */
    return remove_entry(c, e);
}

const cJSON *cdp_hotcache_peek(struct cdp_hotcache *c, const char *key)
{
    struct entry *e = find(c, key, hash_key(key));
    if (!e)
        return NULL;
    lru_unlink(c, e); /* to the front: recently used */
    e->lru_prev = NULL;
    e->lru_next = c->head;
    if (c->head)
        c->head->lru_prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
    return e->doc;
}

static void put(struct cdp_hotcache *c, const char *key, cJSON *doc, bool dirty, double now)
{
    uint64_t h = hash_key(key);
    struct entry *old = find(c, key, h);
    double since = now;
    if (old) {
        if (old->dirty) /* still owed since then */
            since = old->dirty_since;
        dirty_unlink(c, old); /* replaced by a newer copy */
        cJSON_Delete(remove_entry(c, old));
    }
    if (c->capacity == 0 && dirty && c->flush)
        c->flush(c->flush_ud, doc);
    if (c->capacity == 0) {
        cJSON_Delete(doc);
        return;
    }
    if (c->count >= c->capacity)
        cJSON_Delete(remove_entry(c, c->tail));
    size_t n = strlen(key);
    struct entry *e = malloc(sizeof(*e) + n + 1);
    if (!e) {
        if (dirty && c->flush)
            c->flush(c->flush_ud, doc);
        cJSON_Delete(doc);
        return;
    }
    memcpy(e->key, key, n + 1);
    e->hash = h;
    e->doc = doc;
    e->dirty = false;
    if (dirty)
        dirty_append(c, e, since);
    e->hnext = c->buckets[h & (c->nbuckets - 1)];
    c->buckets[h & (c->nbuckets - 1)] = e;
    e->lru_prev = NULL;
    e->lru_next = c->head;
    if (c->head)
        c->head->lru_prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
    c->count++;
}

void cdp_hotcache_put(struct cdp_hotcache *c, const char *key, cJSON *doc)
{
    put(c, key, doc, false, 0);
}

void cdp_hotcache_put_dirty(struct cdp_hotcache *c, const char *key, cJSON *doc, double now)
{
    put(c, key, doc, true, now);
}

void cdp_hotcache_on_flush(struct cdp_hotcache *c, void (*fn)(void *ud, const cJSON *doc), void *ud)
{
    c->flush = fn;
    c->flush_ud = ud;
}

size_t cdp_hotcache_flush(struct cdp_hotcache *c, double older_than, size_t max)
{
    size_t n = 0;
    while (c->dhead && n < max && c->dhead->dirty_since <= older_than) {
        struct entry *e = c->dhead;
        if (c->flush)
            c->flush(c->flush_ud, e->doc);
        dirty_unlink(c, e);
        n++;
    }
    return n;
}

bool cdp_hotcache_has_dirty(const struct cdp_hotcache *c)
{
    return c->dhead != NULL;
}

void cdp_hotcache_drop(struct cdp_hotcache *c, const char *key)
{
    cJSON_Delete(cdp_hotcache_take(c, key));
}

void cdp_hotcache_clear(struct cdp_hotcache *c)
{
    while (c->head)
        cJSON_Delete(remove_entry(c, c->head));
}

size_t cdp_hotcache_count(const struct cdp_hotcache *c)
{
    return c->count;
}

void cdp_hotcache_free(struct cdp_hotcache *c)
{
    if (!c)
        return;
    cdp_hotcache_clear(c);
    free(c->buckets);
    free(c);
}
