/* One Redis connection as the cache and queue backends use it: the URL redis://host[:port][/db]
 * (host may be [an IPv6 address]; no user, password, query, TLS or unix socket yet), connected
 * on demand with one timeout for connecting and for each command, the database selected, and
 * dropped after a transport failure so the next call reconnects. */
#ifndef CDP_CORE_REDIS_H
#define CDP_CORE_REDIS_H

#include <hiredis/hiredis.h>
#include <stddef.h>

struct cdp_redis {
    redisContext *ctx; /* NULL until connected, and after a failure */
    char host[256];
    int port;
    int db;
    int timeout_ms;
};

/* Fills r from url (ctx NULL, timeout_ms as given); CDP_E_CONFIG with why in err. */
int cdp_redis_parse_url(struct cdp_redis *r, const char *url, int timeout_ms, char *err,
                        size_t errlen);
/* A live connection: 0 when there is one or it was made; CDP_E_UNAVAILABLE when the server does
 * not answer, CDP_E_CONFIG when it refuses the database; why in err. */
int cdp_redis_connect(struct cdp_redis *r, char *err, size_t errlen);
void cdp_redis_drop(struct cdp_redis *r);
/* Lets the commands that follow take extra_ms longer than the timeout (a blocking read); 0
 * puts the timeout back. No-op without a connection. */
void cdp_redis_wait_longer(struct cdp_redis *r, int extra_ms);

#endif
