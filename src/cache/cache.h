/* The cache-and-lock seam: hot copies of documents (profiles, sessions) with a time to live, and
 * per-key locks with a lease and a fencing token, behind a table of function pointers, one
 * backend per file, chosen by URL ("local:" in-process, "redis://host:port[/db]"). A struct
 * cdp_cache is one connection: use it from one thread at a time and open one per thread. Every
 * handle of one namespace (and one Redis database) sees the same documents and locks.
 *
 * Locks are leases: a holder that stalls past lease_ms loses the lock without knowing it, and
 * the next holder gets a higher token. Tokens are fencing tokens: fenced_put refuses a write
 * whose token is older than the newest token issued for the key, so a stalled holder cannot
 * overwrite a newer holder's update.
 *
 * Documents are cJSON trees: get returns a new tree the caller frees with cJSON_Delete; put
 * copies. Every operation returns 0, CDP_E_NOT_FOUND (get), CDP_E_CONFLICT (lock held,
 * unlock by a non-holder, a fenced write refused), CDP_E_UNAVAILABLE (the backend cannot be
 * reached; the next call tries to reconnect) or another CDP_E_*. */
#ifndef CDP_CACHE_CACHE_H
#define CDP_CACHE_CACHE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

struct cdp_cache;

/* One key of lock_many and finish_many. */
struct cdp_cache_item {
    const char *key;
    int64_t token;    /* lock_many: out, the token (0: another holds the lock); finish_many: in */
    cJSON *got;       /* lock_many: out, the document when locked and present (caller frees) */
    const cJSON *put; /* finish_many: the document to write under token first (NULL: none) */
    int rc;           /* finish_many: out, 0 or CDP_E_CONFLICT when the fenced write was refused */
};

struct cdp_cache_ops {
    const char *scheme; /* URL scheme, e.g. "redis" */
    int (*open)(struct cdp_cache **out, const char *url, const char *ns, char *err, size_t errlen);
    void (*close)(struct cdp_cache *c);

    /* Hot copies; ttl_s > 0 (seconds) or 0 for none. */
    int (*get)(struct cdp_cache *c, const char *key, cJSON **out);
    int (*put)(struct cdp_cache *c, const char *key, const cJSON *doc, int ttl_s);
    int (*del)(struct cdp_cache *c, const char *key);

    /* Takes the lock of key for lease_ms unless another holder has it (CDP_E_CONFLICT: try
     * again later; it never waits) and gives its fencing token, higher than every token issued
     * for key before. */
    int (*lock)(struct cdp_cache *c, const char *key, int lease_ms, int64_t *token);
    /* Releases the lock if token still holds it; otherwise changes nothing (CDP_E_CONFLICT). */
    int (*unlock)(struct cdp_cache *c, const char *key, int64_t token);
    /* put, atomically refused (CDP_E_CONFLICT) when a newer token than token was issued for
     * key: the lease of token ran out and someone else locked it since. */
    int (*fenced_put)(struct cdp_cache *c, const char *key, const cJSON *doc, int64_t token,
                      int ttl_s);

    /* Batches, in one round trip where the backend can: lock_many takes the lock of each key
     * (as lock) and, where it got it, reads its document (as get); finish_many writes each
     * item's put with its token (as fenced_put; the item's rc says whether it was refused),
     * then releases its lock (as unlock, whatever the write did). */
    int (*lock_many)(struct cdp_cache *c, struct cdp_cache_item *items, size_t n, int lease_ms);
    int (*finish_many)(struct cdp_cache *c, struct cdp_cache_item *items, size_t n, int ttl_s);
};

struct cdp_cache {
    const struct cdp_cache_ops *ops;
};

/* Opens a cache from a URL ("local:" or "redis://host[:port][/db]"); keys live in the
 * namespace ns (letters, digits, '-', '_'; e.g. the store context), so installations and
 * contexts sharing one Redis stay apart. CDP_E_CONFIG (why in err) for a bad URL,
 * CDP_E_UNAVAILABLE when the backend cannot be reached. */
int cdp_cache_open(struct cdp_cache **out, const char *url, const char *ns, char *err,
                   size_t errlen);
void cdp_cache_close(struct cdp_cache *c);

/* lock_many and finish_many one key at a time, for backends without a faster way. */
int cdp_cache_lock_each(struct cdp_cache *c, struct cdp_cache_item *items, size_t n, int lease_ms);
int cdp_cache_finish_each(struct cdp_cache *c, struct cdp_cache_item *items, size_t n, int ttl_s);

extern const struct cdp_cache_ops cdp_cache_local_ops;
extern const struct cdp_cache_ops cdp_cache_redis_ops;

#endif
