/* Chooses a store backend by URL. */
#include "store/store.h"
#include "core/err.h"

#include <stdio.h>
#include <string.h>

static const struct cdp_store_ops *const backends[] = {&cdp_store_sqlite_ops};

int cdp_store_open(struct cdp_store **out, const char *url, const struct cdp_store_opts *o,
                   char *err, size_t errlen)
{
    const char *colon = strchr(url, ':');
    if (!colon || colon == url || strchr(url, '/') < colon)
        return cdp_store_sqlite_ops.open(out, url, o, err, errlen);
    size_t n = (size_t)(colon - url);
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        if (strlen(backends[i]->scheme) == n && strncmp(backends[i]->scheme, url, n) == 0)
            return backends[i]->open(out, colon + 1, o, err, errlen);
    snprintf(err, errlen, "no store backend for '%.*s:' URLs", (int)n, url);
    return CDP_E_CONFIG;
}

void cdp_store_close(struct cdp_store *s)
{
    if (s)
        s->ops->close(s);
}

void cdp_user_rec_fini(struct cdp_user_rec *u)
{
    cJSON_Delete(u->doc);
    u->doc = NULL;
}
