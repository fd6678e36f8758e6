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
