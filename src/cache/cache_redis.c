/* The Redis backend of the cache seam (hiredis). One struct is one connection; a broken
 * connection is dropped and the next call reconnects, so a restarted Redis is picked up again.
 *
 * Keys are cdpd:<ns>:{<key>}:doc (the hot copy, with EX), :lock (value: the holder's token, with
 * PX = the lease) and :fence (the newest token issued; kept without expiry). The braces are a
 * Redis Cluster hash tag: the three keys of one key share a slot, so one script can touch all.
 * lock, unlock and fenced_put are Lua scripts, so each check-and-write is atomic. A token is
 * max(fence + 1, the caller's clock in ms): tokens only grow, and after a Redis restart that
 * forgot the fence counters, new tokens still exceed those issued before it (unless the clocks
 * went back), so a stalled holder from before the restart stays fenced out. */
#include "cache/cache.h"
#include "core/err.h"
#include "core/json.h"
#include "core/redis.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* Connecting and each command. */
#define TIMEOUT_MS 2000

struct redis_cache {
    struct cdp_cache base;
    struct cdp_redis conn;
    char prefix[96]; /* "cdpd:<ns>:" */
};

/* KEYS: lock, fence; ARGV: lease ms, now ms. Returns the token, or 0 when held. */
static const char LOCK_LUA[] = "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end "
                               "local t = tonumber(redis.call('GET', KEYS[2]) or '0') + 1 "
                               "local now = tonumber(ARGV[2]) "
                               "if now > t then t = now end "
                               "redis.call('SET', KEYS[2], string.format('%d', t)) "
                               "redis.call('SET', KEYS[1], string.format('%d', t), 'PX', ARGV[1]) "
                               "return t";

/* KEYS: lock; ARGV: token. Deletes the lock only if the token holds it. */
static const char UNLOCK_LUA[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end "
    "return 0";

/* KEYS: fence, doc; ARGV: token, document, ttl s. Refuses (0) when a newer token was issued. */
static const char FENCED_PUT_LUA[] =
    "local f = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "if f > tonumber(ARGV[1]) then return 0 end "
    "if tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3]) "
    "else redis.call('SET', KEYS[2], ARGV[2]) end "
    "return 1";

static struct redis_cache *of(struct cdp_cache *c)
{
    return (struct redis_cache *)c;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs one command given as argv; a transport failure drops the connection and, when the
 * command is idempotent and the connection was an old one, retries once on a new one (a Redis
 * that restarted since the last call breaks the old connection only when it is used). */
static int run(struct redis_cache *r, bool idempotent, int argc, const char **argv,
               const size_t *argvlen, redisReply **out)
{
    char err[256];
    for (int attempt = 0; attempt < 2; attempt++) {
        bool fresh = !r->conn.ctx || r->conn.ctx->err;
        int rc = cdp_redis_connect(&r->conn, err, sizeof(err));
        if (rc)
            return rc;
        redisReply *rep = redisCommandArgv(r->conn.ctx, argc, argv, argvlen);
        if (rep) {
            if (rep->type == REDIS_REPLY_ERROR) {
                freeReplyObject(rep);
                return CDP_E_STORE;
            }
            *out = rep;
            return 0;
        }
        cdp_redis_drop(&r->conn);
        if (!idempotent || fresh)
            break;
    }
    return CDP_E_UNAVAILABLE;
}

static void key_of(const struct redis_cache *r, const char *key, const char *part, char *out,
                   size_t outlen)
{
    snprintf(out, outlen, "%s{%s}:%s", r->prefix, key, part);
}

#define KEY_MAX 1024

static int key_ok(const char *key)
{
    return key && *key && strlen(key) < KEY_MAX - 128 ? 0 : CDP_E_INVALID;
}

static int redis_get(struct cdp_cache *c, const char *key, cJSON **out)
{
    struct redis_cache *r = of(c);
    *out = NULL;
    if (key_ok(key))
        return CDP_E_INVALID;
    char k[KEY_MAX];
    key_of(r, key, "doc", k, sizeof(k));
    const char *argv[] = {"GET", k};
    size_t len[] = {3, strlen(k)};
    redisReply *rep;
    int rc = run(r, true, 2, argv, len, &rep);
    if (rc)
        return rc;
    if (rep->type == REDIS_REPLY_NIL) {
        rc = CDP_E_NOT_FOUND;
    } else if (rep->type != REDIS_REPLY_STRING) {
        rc = CDP_E_STORE;
    } else {
        *out = cdp_json_parse(rep->str, rep->len, NULL);
        rc = *out ? 0 : CDP_E_BAD_JSON;
    }
    freeReplyObject(rep);
    return rc;
}

static int redis_put(struct cdp_cache *c, const char *key, const cJSON *doc, int ttl_s)
{
    struct redis_cache *r = of(c);
    if (key_ok(key) || !doc || ttl_s < 0)
        return CDP_E_INVALID;
    char k[KEY_MAX], ttl[16];
    key_of(r, key, "doc", k, sizeof(k));
    char *text = cdp_json_print(doc);
    if (!text)
        return CDP_E_NOMEM;
    snprintf(ttl, sizeof(ttl), "%d", ttl_s);
    const char *argv[] = {"SET", k, text, "EX", ttl};
    size_t len[] = {3, strlen(k), strlen(text), 2, strlen(ttl)};
    redisReply *rep;
    int rc = run(r, true, ttl_s > 0 ? 5 : 3, argv, len, &rep);
    free(text);
    if (rc)
        return rc;
    freeReplyObject(rep);
    return 0;
}

static int redis_del(struct cdp_cache *c, const char *key)
{
    struct redis_cache *r = of(c);
    if (key_ok(key))
        return CDP_E_INVALID;
    char k[KEY_MAX];
    key_of(r, key, "doc", k, sizeof(k));
    const char *argv[] = {"DEL", k};
    size_t len[] = {3, strlen(k)};
    redisReply *rep;
    int rc = run(r, true, 2, argv, len, &rep);
    if (rc)
        return rc;
    freeReplyObject(rep);
    return 0;
}

/* The integer reply of a script on the keys part1 and (unless NULL) part2 of key. */
static int eval_int(struct redis_cache *r, bool idempotent, const char *script, const char *key,
                    const char *part1, const char *part2, int nargs, const char **args,
                    long long *out)
{
    char k1[KEY_MAX], k2[KEY_MAX];
    key_of(r, key, part1, k1, sizeof(k1));
    const char *argv[8] = {"EVAL", script, part2 ? "2" : "1", k1};
    size_t len[8] = {4, strlen(script), 1, strlen(k1)};
    int argc = 4;
    if (part2) {
        key_of(r, key, part2, k2, sizeof(k2));
        argv[argc] = k2;
        len[argc++] = strlen(k2);
    }
    for (int i = 0; i < nargs && argc < 8; i++, argc++) {
        argv[argc] = args[i];
        len[argc] = strlen(args[i]);
    }
    redisReply *rep;
    int rc = run(r, idempotent, argc, argv, len, &rep);
    if (rc)
        return rc;
    rc = rep->type == REDIS_REPLY_INTEGER ? 0 : CDP_E_STORE;
    *out = rep->integer;
    freeReplyObject(rep);
    return rc;
}

static int redis_lock(struct cdp_cache *c, const char *key, int lease_ms, int64_t *token)
{
    *token = 0;
    if (key_ok(key) || lease_ms <= 0)
        return CDP_E_INVALID;
    char lease[16], now[24];
    snprintf(lease, sizeof(lease), "%d", lease_ms);
    snprintf(now, sizeof(now), "%" PRId64, now_ms());
    const char *args[] = {lease, now};
    long long t;
    /* not retried: a lock taken whose answer was lost stays taken until its lease ends */
    int rc = eval_int(of(c), false, LOCK_LUA, key, "lock", "fence", 2, args, &t);
    if (rc)
        return rc;
    if (t <= 0)
        return CDP_E_CONFLICT;
    *token = t;
    return 0;
}

static int redis_unlock(struct cdp_cache *c, const char *key, int64_t token)
{
    if (key_ok(key))
        return CDP_E_INVALID;
    char tok[24];
    snprintf(tok, sizeof(tok), "%" PRId64, token);
    const char *args[] = {tok};
    long long n;
    int rc = eval_int(of(c), true, UNLOCK_LUA, key, "lock", NULL, 1, args, &n);
    if (rc)
        return rc;
    return n == 1 ? 0 : CDP_E_CONFLICT;
}

static int redis_fenced_put(struct cdp_cache *c, const char *key, const cJSON *doc, int64_t token,
                            int ttl_s)
{
    if (key_ok(key) || !doc || ttl_s < 0 || token <= 0)
        return CDP_E_INVALID;
    char tok[24], ttl[16];
    snprintf(tok, sizeof(tok), "%" PRId64, token);
    snprintf(ttl, sizeof(ttl), "%d", ttl_s);
    char *text = cdp_json_print(doc);
    if (!text)
        return CDP_E_NOMEM;
    const char *args[] = {tok, text, ttl};
    long long ok;
    int rc = eval_int(of(c), true, FENCED_PUT_LUA, key, "fence", "doc", 3, args, &ok);
    free(text);
    if (rc)
        return rc;
    return ok == 1 ? 0 : CDP_E_CONFLICT;
}

static void redis_close(struct cdp_cache *c)
{
    struct redis_cache *r = of(c);
    cdp_redis_drop(&r->conn);
    free(r);
}

static int redis_open(struct cdp_cache **out, const char *url, const char *ns, char *err,
                      size_t errlen)
{
    *out = NULL;
    struct redis_cache *r = calloc(1, sizeof(*r));
    if (!r)
        return CDP_E_NOMEM;
    r->base.ops = &cdp_cache_redis_ops;
    snprintf(r->prefix, sizeof(r->prefix), "cdpd:%s:", ns);
    int rc = cdp_redis_parse_url(&r->conn, url, TIMEOUT_MS, err, errlen);
    if (!rc)
        rc = cdp_redis_connect(&r->conn, err, errlen);
    if (rc) {
        redis_close(&r->base);
        return rc;
    }
    *out = &r->base;
    return 0;
}

const struct cdp_cache_ops cdp_cache_redis_ops = {
    .scheme = "redis",
    .open = redis_open,
    .close = redis_close,
    .get = redis_get,
    .put = redis_put,
    .del = redis_del,
    .lock = redis_lock,
    .unlock = redis_unlock,
    .fenced_put = redis_fenced_put,
};
