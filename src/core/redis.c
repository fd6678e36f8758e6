/* One Redis connection: see redis.h. */
#include "core/redis.h"
#include "core/err.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

int cdp_redis_parse_url(struct cdp_redis *r, const char *url, int timeout_ms, char *err,
                        size_t errlen)
{
    static const char scheme[] = "redis://";
    *r = (struct cdp_redis){.port = 6379, .timeout_ms = timeout_ms > 0 ? timeout_ms : 2000};
    const char *p = url;
    if (strncmp(p, scheme, sizeof(scheme) - 1) != 0)
        goto bad;
    p += sizeof(scheme) - 1;
    if (strpbrk(p, "@?#"))
        goto bad;
    const char *host = p, *host_end;
    if (*p == '[') {
        host = ++p;
        host_end = strchr(p, ']');
        if (!host_end)
            goto bad;
        p = host_end + 1;
    } else {
        host_end = p + strcspn(p, ":/");
        p = host_end;
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0 || hlen >= sizeof(r->host))
        goto bad;
    memcpy(r->host, host, hlen);
    r->host[hlen] = '\0';
    if (*p == ':') {
        char *end;
        errno = 0;
        long port = strtol(++p, &end, 10);
        if (end == p || errno || port < 1 || port > 65535)
            goto bad;
        r->port = (int)port;
        p = end;
    }
    if (*p == '/' && p[1]) {
        char *end;
        errno = 0;
        long db = strtol(++p, &end, 10);
        if (end == p || errno || db < 0 || db > 100000 || *end)
            goto bad;
        r->db = (int)db;
        p = end;
    } else if (*p == '/') {
        p++;
    }
    if (*p)
        goto bad;
    return 0;
bad:
    snprintf(err, errlen, "bad redis URL %s (want redis://host[:port][/db])", url);
    return CDP_E_CONFIG;
}

void cdp_redis_drop(struct cdp_redis *r)
{
    if (r->ctx)
        redisFree(r->ctx);
    r->ctx = NULL;
}

int cdp_redis_connect(struct cdp_redis *r, char *err, size_t errlen)
{
    if (r->ctx && !r->ctx->err)
        return 0;
    cdp_redis_drop(r);
    struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
    r->ctx = redisConnectWithTimeout(r->host, r->port, tv);
    if (!r->ctx || r->ctx->err) {
        snprintf(err, errlen, "cannot connect to redis at %s:%d: %s", r->host, r->port,
                 r->ctx ? r->ctx->errstr : "out of memory");
        cdp_redis_drop(r);
        return CDP_E_UNAVAILABLE;
    }
    redisSetTimeout(r->ctx, tv);
    if (r->db) {
        char db[16];
        snprintf(db, sizeof(db), "%d", r->db);
        const char *argv[] = {"SELECT", db};
        redisReply *rep = redisCommandArgv(r->ctx, 2, argv, NULL);
        bool ok = rep && rep->type == REDIS_REPLY_STATUS;
        if (!ok)
            snprintf(err, errlen, "redis SELECT %d failed: %s", r->db,
                     rep && rep->type == REDIS_REPLY_ERROR ? rep->str : r->ctx->errstr);
        if (rep)
            freeReplyObject(rep);
        if (!ok) {
            cdp_redis_drop(r);
            return rep ? CDP_E_CONFIG : CDP_E_UNAVAILABLE;
        }
    }
    return 0;
}

void cdp_redis_wait_longer(struct cdp_redis *r, int extra_ms)
{
    int ms = r->timeout_ms + (extra_ms > 0 ? extra_ms : 0);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    if (r->ctx)
        redisSetTimeout(r->ctx, tv);
}
