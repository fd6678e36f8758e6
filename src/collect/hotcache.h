/* Hot copies of the profiles and sessions the pipeline touched last, so a returning visitor's
 * documents are neither read from the store nor parsed again. Owned by the pipeline thread.
 * A document is taken out while a request works on it and put back only after the request's
 * writes succeeded; a failed batch clears everything, so the cache never holds what the store
 * does not. */
#ifndef CDP_COLLECT_HOTCACHE_H
#define CDP_COLLECT_HOTCACHE_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct cdp_hotcache;

/* capacity 0 makes a cache that keeps nothing. */
struct cdp_hotcache *cdp_hotcache_new(size_t capacity);
void cdp_hotcache_free(struct cdp_hotcache *c);
/* Removes and returns the document cached under key (caller owns it), or NULL. */
cJSON *cdp_hotcache_take(struct cdp_hotcache *c, const char *key);
/* The document cached under key, left in place (borrowed until the next put or clear). */
const cJSON *cdp_hotcache_peek(struct cdp_hotcache *c, const char *key);
/* Caches doc under key, evicting the least recently used entry when full. Takes doc. */
void cdp_hotcache_put(struct cdp_hotcache *c, const char *key, cJSON *doc);
void cdp_hotcache_drop(struct cdp_hotcache *c, const char *key);
void cdp_hotcache_clear(struct cdp_hotcache *c);
size_t cdp_hotcache_count(const struct cdp_hotcache *c);

#endif
