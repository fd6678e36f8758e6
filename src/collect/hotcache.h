/* Hot copies of the profiles and sessions the pipeline touched last, so a returning visitor's
 * documents are neither read from the store nor parsed again. Owned by the pipeline thread.
 * A document is taken out while a request works on it and put back only after the request's
 * writes succeeded; a failed batch clears everything, so the cache never holds what the store
 * does not, except what is marked dirty, which the owner writes back itself. */
#ifndef CDP_COLLECT_HOTCACHE_H
#define CDP_COLLECT_HOTCACHE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
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
/* Same, but the cached copy is newer than the store in ways the owner writes later: flush
 * (and eviction, and clear) hand such documents to the cache's flush function first. */
void cdp_hotcache_put_dirty(struct cdp_hotcache *c, const char *key, cJSON *doc, double now);
/* The function that writes a dirty document back; without one, dirty is the same as clean. */
void cdp_hotcache_on_flush(struct cdp_hotcache *c, void (*fn)(void *ud, const cJSON *doc),
                           void *ud);
/* Writes back at most max of the documents dirty since older_than or before, oldest first;
 * they stay cached, clean. Returns how many. (Time is the caller's clock, as given to put.) */
size_t cdp_hotcache_flush(struct cdp_hotcache *c, double older_than, size_t max);
bool cdp_hotcache_has_dirty(const struct cdp_hotcache *c);
void cdp_hotcache_drop(struct cdp_hotcache *c, const char *key);
void cdp_hotcache_clear(struct cdp_hotcache *c);
size_t cdp_hotcache_count(const struct cdp_hotcache *c);

#endif
