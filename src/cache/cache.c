/* Chooses a cache backend by URL scheme and checks the namespace every backend prefixes its
 * keys with. */
#include "cache/cache.h"
#include "core/err.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const struct cdp_cache_ops *const backends[] = {&cdp_cache_local_ops, &cdp_cache_redis_ops};

static bool ns_is_valid(const char *ns)
{
    if (!ns || !*ns || strlen(ns) > 64)
        return false;
    for (const char *p = ns; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

int cdp_cache_open(struct cdp_cache **out, const char *url, const char *ns, char *err,
                   size_t errlen)
{
    *out = NULL;
    if (!ns_is_valid(ns)) {
        snprintf(err, errlen, "bad cache namespace (letters, digits, '-' and '_', 1 to 64)");
        return CDP_E_CONFIG;
    }
    const char *colon = url ? strchr(url, ':') : NULL;
    if (colon) {
        size_t n = (size_t)(colon - url);
        for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
            if (strlen(backends[i]->scheme) == n && strncmp(backends[i]->scheme, url, n) == 0)
                return backends[i]->open(out, url, ns, err, errlen);
    }
    snprintf(err, errlen, "no cache backend for the URL %s (local: or redis://host:port[/db])",
             url ? url : "(none)");
    return CDP_E_CONFIG;
}

void cdp_cache_close(struct cdp_cache *c)
{
    if (c)
        c->ops->close(c);
}

int cdp_cache_lock_each(struct cdp_cache *c, struct cdp_cache_item *items, size_t n, int lease_ms)
{
    for (size_t i = 0; i < n; i++) {
        items[i].got = NULL;
        int rc = c->ops->lock(c, items[i].key, lease_ms, &items[i].token);
        if (rc == CDP_E_CONFLICT)
            continue;
        if (!rc && (rc = c->ops->get(c, items[i].key, &items[i].got)) == CDP_E_NOT_FOUND)
            rc = 0;
        if (rc)
            return rc;
    }
    return 0;
}

int cdp_cache_finish_each(struct cdp_cache *c, struct cdp_cache_item *items, size_t n, int ttl_s)
{
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        items[i].rc = 0;
        if (items[i].put) {
            items[i].rc = c->ops->fenced_put(c, items[i].key, items[i].put, items[i].token, ttl_s);
            if (items[i].rc != CDP_E_CONFLICT)
                rc = items[i].rc;
        }
        int u = rc ? 0 : c->ops->unlock(c, items[i].key, items[i].token);
        if (u && u != CDP_E_CONFLICT)
            rc = u;
    }
    return rc;
}
