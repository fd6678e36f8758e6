/* Chooses a queue backend by URL. */
#include "queue/queue.h"
#include "core/err.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct cdp_queue_ops *const backends[] = {&cdp_queue_local_ops, &cdp_queue_redis_ops};

int cdp_queue_open(struct cdp_queue **out, const char *url, const struct cdp_queue_opts *o,
                   char *err, size_t errlen)
{
    static const struct cdp_queue_opts defaults;
    *out = NULL;
    if (!o)
        o = &defaults;
    const char *colon = strchr(url, ':');
    const char *slash = strchr(url, '/');
    const struct cdp_queue_ops *b = NULL;
    const char *location = url;
    if (!colon || colon == url || (slash && slash < colon)) {
        b = &cdp_queue_local_ops;
    } else {
        size_t n = (size_t)(colon - url);
        for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
            if (strlen(backends[i]->scheme) == n && strncmp(backends[i]->scheme, url, n) == 0)
                b = backends[i];
        if (b == &cdp_queue_local_ops)
            location = colon + 1;
    }
    if (!b) {
        snprintf(err, errlen, "no queue backend for the URL %s", url);
        return CDP_E_CONFIG;
    }
    int rc = b->open(out, location, o, err, errlen);
    if (rc == 0) {
        (*out)->ops = b;
        (*out)->max_attempts = o->max_attempts > 0 ? o->max_attempts : 5;
    }
    return rc;
}

void cdp_queue_close(struct cdp_queue *q)
{
    if (q)
        q->ops->close(q);
}

void cdp_queue_entries_free(struct cdp_queue_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cJSON_Delete(e[i].doc);
        e[i].doc = NULL;
    }
}

int cdp_queue_dead_name(const char *stream, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%s:dead", stream);
    return n < 0 || (size_t)n >= outlen ? CDP_E_INVALID : 0;
}

void cdp_queue_consumer_name(char *out, size_t outlen)
{
    char host[64] = "";
    gethostname(host, sizeof(host) - 1);
    snprintf(out, outlen, "%s-%d", host, (int)getpid());
}
