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

/* LOCK_LUA, then the document: KEYS: lock, fence, doc. Returns {token, doc or nil}, {0} when
 * held. */
static const char LOCK_GET_LUA[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return {0} end "
    "local t = tonumber(redis.call('GET', KEYS[2]) or '0') + 1 "
    "local now = tonumber(ARGV[2]) "
    "if now > t then t = now end "
    "redis.call('SET', KEYS[2], string.format('%d', t)) "
    "redis.call('SET', KEYS[1], string.format('%d', t), 'PX', ARGV[1]) "
    "return {t, redis.call('GET', KEYS[3])}";

/* FENCED_PUT_LUA when ARGV[2] is not empty, then UNLOCK_LUA: KEYS: fence, doc, lock; ARGV:
 * token, document or '', ttl s. Returns 0 when the write was refused, else 1. */
static const char FINISH_LUA[] =
    "local ok = 1 "
    "if ARGV[2] ~= '' then "
    "  if tonumber(redis.call('GET', KEYS[1]) or '0') > tonumber(ARGV[1]) then ok = 0 "
    "  elseif tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3]) "
    "  else redis.call('SET', KEYS[2], ARGV[2]) end "
    "end "
    "if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end "
    "return ok";

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

/* One EVAL of script per item, pipelined: argv of item i from fill(); reply i to take(). A
 * transport failure drops the connection (CDP_E_UNAVAILABLE); an error reply is CDP_E_STORE. */
struct batch_args {
    const char *argv[10]; /* NULL-terminated */
    size_t len[10];
    char keys[3][KEY_MAX];
    char a1[24], a2[24];
    char *text; /* owned */
};

typedef int (*batch_fill)(struct redis_cache *r, const struct cdp_cache_item *it, int num,
                          struct batch_args *a);
typedef int (*batch_take)(struct cdp_cache_item *it, const redisReply *rep);

static int pipeline(struct redis_cache *r, struct cdp_cache_item *items, size_t n, int num,
                    batch_fill fill, batch_take take)
{
    char err[256];
    int rc = cdp_redis_connect(&r->conn, err, sizeof(err));
    for (size_t i = 0; !rc && i < n; i++) {
        struct batch_args a = {0};
        if ((rc = key_ok(items[i].key)) || (rc = fill(r, &items[i], num, &a))) {
            free(a.text);
            break;
        }
        int argc = 0;
        while (argc < 9 && a.argv[argc])
            argc++;
        if (redisAppendCommandArgv(r->conn.ctx, argc, a.argv, a.len) != REDIS_OK)
            rc = CDP_E_NOMEM;
        free(a.text);
    }
    if (rc) {
        cdp_redis_drop(&r->conn); /* commands may be half queued */
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        redisReply *rep = NULL;
        if (redisGetReply(r->conn.ctx, (void **)&rep) != REDIS_OK || !rep) {
            cdp_redis_drop(&r->conn);
            return CDP_E_UNAVAILABLE;
        }
        int t = rep->type == REDIS_REPLY_ERROR ? CDP_E_STORE : take(&items[i], rep);
        rc = rc ? rc : t;
        freeReplyObject(rep);
    }
    return rc;
}

static void eval_head(struct redis_cache *r, const char *script, const char *key,
                      const char *const *parts, struct batch_args *a)
{
    a->argv[0] = "EVAL", a->len[0] = 4;
    a->argv[1] = script, a->len[1] = strlen(script);
    a->argv[2] = "3", a->len[2] = 1;
    for (int k = 0; k < 3; k++) {
        key_of(r, key, parts[k], a->keys[k], sizeof(a->keys[k]));
        a->argv[3 + k] = a->keys[k], a->len[3 + k] = strlen(a->keys[k]);
    }
}

static int lock_get_fill(struct redis_cache *r, const struct cdp_cache_item *it, int lease_ms,
                         struct batch_args *a)
{
    static const char *const parts[] = {"lock", "fence", "doc"};
    eval_head(r, LOCK_GET_LUA, it->key, parts, a);
    snprintf(a->a1, sizeof(a->a1), "%d", lease_ms);
    snprintf(a->a2, sizeof(a->a2), "%" PRId64, now_ms());
    a->argv[6] = a->a1, a->len[6] = strlen(a->a1);
    a->argv[7] = a->a2, a->len[7] = strlen(a->a2);
    return 0;
}

static int lock_get_take(struct cdp_cache_item *it, const redisReply *rep)
{
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
        rep->element[0]->type != REDIS_REPLY_INTEGER)
        return CDP_E_STORE;
    it->token = rep->element[0]->integer;
    if (rep->elements > 1 && rep->element[1]->type == REDIS_REPLY_STRING &&
        !(it->got = cdp_json_parse(rep->element[1]->str, rep->element[1]->len, NULL)))
        return CDP_E_BAD_JSON;
    return 0;
}

static int redis_lock_many(struct cdp_cache *c, struct cdp_cache_item *items, size_t n,
                           int lease_ms)
{
    if (lease_ms <= 0)
        return CDP_E_INVALID;
    for (size_t i = 0; i < n; i++)
        items[i].token = 0, items[i].got = NULL;
    /* not retried: locks taken whose answers were lost stay taken until their lease ends */
    return pipeline(of(c), items, n, lease_ms, lock_get_fill, lock_get_take);
}

static int finish_fill(struct redis_cache *r, const struct cdp_cache_item *it, int ttl_s,
                       struct batch_args *a)
{
    static const char *const parts[] = {"fence", "doc", "lock"};
    if (it->token <= 0)
        return CDP_E_INVALID;
    eval_head(r, FINISH_LUA, it->key, parts, a);
    snprintf(a->a1, sizeof(a->a1), "%" PRId64, it->token);
    snprintf(a->a2, sizeof(a->a2), "%d", ttl_s);
    if (it->put && !(a->text = cdp_json_print(it->put)))
        return CDP_E_NOMEM;
    a->argv[6] = a->a1, a->len[6] = strlen(a->a1);
    a->argv[7] = a->text ? a->text : "", a->len[7] = a->text ? strlen(a->text) : 0;
    a->argv[8] = a->a2, a->len[8] = strlen(a->a2);
    return 0;
}

static int finish_take(struct cdp_cache_item *it, const redisReply *rep)
{
    if (rep->type != REDIS_REPLY_INTEGER)
        return CDP_E_STORE;
    it->rc = rep->integer == 1 ? 0 : CDP_E_CONFLICT;
    return 0;
}

static int redis_finish_many(struct cdp_cache *c, struct cdp_cache_item *items, size_t n, int ttl_s)
{
    if (ttl_s < 0)
        return CDP_E_INVALID;
    struct redis_cache *r = of(c);
    bool fresh = !r->conn.ctx || r->conn.ctx->err;
    int rc = pipeline(r, items, n, ttl_s, finish_fill, finish_take);
    if (rc == CDP_E_UNAVAILABLE && !fresh) /* idempotent: once more on a new connection */
        rc = pipeline(r, items, n, ttl_s, finish_fill, finish_take);
    return rc;
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
    .lock_many = redis_lock_many,
    .finish_many = redis_finish_many,
};
