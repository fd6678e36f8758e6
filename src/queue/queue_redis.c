/* The Redis Streams backend of the queue seam (redis://HOST[:PORT][/DB]). A stream entry holds
 * the document as one field "doc"; groups are Redis consumer groups made at the stream's start
 * (MKSTREAM) on first use (when XAUTOCLAIM answers NOGROUP). consume() first takes over entries
 * idle for the lease (XAUTOCLAIM, which counts the delivery), reads their delivery counts with
 * XPENDING and dead-letters those past max_attempts (XADD to <stream>:dead and XACK in one MULTI),
 * then reads new entries with XREADGROUP. A lost connection is dropped and CDP_E_UNAVAILABLE
 * returned; the next call connects again. */
#include "core/err.h"
#include "core/json.h"
#include "core/redis.h"
#include "queue/queue.h"

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct redis_queue {
    struct cdp_queue base;
    struct cdp_redis conn;
};

/* Runs one command; *out is the reply (the caller frees it), an error reply included. */
static int command(struct redis_queue *r, int argc, const char **argv, redisReply **out)
{
    *out = NULL;
    char err[256];
    int rc = cdp_redis_connect(&r->conn, err, sizeof(err));
    if (rc)
        return rc;
    redisReply *rep = redisCommandArgv(r->conn.ctx, argc, argv, NULL);
    if (!rep) {
        cdp_redis_drop(&r->conn);
        return CDP_E_UNAVAILABLE;
    }
    *out = rep;
    return 0;
}

static bool is_error(const redisReply *rep, const char *prefix)
{
    return rep->type == REDIS_REPLY_ERROR &&
           (!prefix || strncmp(rep->str, prefix, strlen(prefix)) == 0);
}

static int open_redis(struct cdp_queue **out, const char *url, const struct cdp_queue_opts *o,
                      char *err, size_t errlen)
{
    struct redis_queue *r = calloc(1, sizeof(*r));
    if (!r)
        return CDP_E_NOMEM;
    int rc =
        cdp_redis_parse_url(&r->conn, url, o->timeout_ms > 0 ? o->timeout_ms : 5000, err, errlen);
    if (rc) {
        free(r);
        return rc;
    }
    *out = &r->base;
    return 0;
}

static void close_redis(struct cdp_queue *q)
{
    struct redis_queue *r = (struct redis_queue *)q;
    cdp_redis_drop(&r->conn);
    free(r);
}

static int publish_redis(struct cdp_queue *q, const char *stream, const cJSON *doc, char *id,
                         size_t idlen)
{
    struct redis_queue *r = (struct redis_queue *)q;
    char *text = cdp_json_print(doc);
    if (!text)
        return CDP_E_NOMEM;
    const char *argv[] = {"XADD", stream, "*", "doc", text};
    redisReply *rep;
    int rc = command(r, 5, argv, &rep);
    free(text);
    if (rc)
        return rc;
    if (rep->type == REDIS_REPLY_STRING && rep->len < idlen)
        snprintf(id, idlen, "%s", rep->str);
    else
        rc = CDP_E_STORE;
    freeReplyObject(rep);
    return rc;
}

static int ensure_group(struct redis_queue *r, const char *stream, const char *group)
{
    const char *argv[] = {"XGROUP", "CREATE", stream, group, "0", "MKSTREAM"};
    redisReply *rep;
    int rc = command(r, 6, argv, &rep);
    if (rc)
        return rc;
    if (is_error(rep, NULL) && !is_error(rep, "BUSYGROUP"))
        rc = CDP_E_STORE;
    freeReplyObject(rep);
    return rc;
}

/* The document of an entry reply [id, [field, value, ...]]; NULL when it has none (deleted). */
static cJSON *entry_doc(const redisReply *e)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 || e->element[1]->type != REDIS_REPLY_ARRAY)
        return NULL;
    const redisReply *f = e->element[1];
    for (size_t i = 0; i + 1 < f->elements; i += 2)
        if (f->element[i]->type == REDIS_REPLY_STRING && strcmp(f->element[i]->str, "doc") == 0)
            return cdp_json_parse(f->element[i + 1]->str, f->element[i + 1]->len, NULL);
    return NULL;
}

static long delivery_count(struct redis_queue *r, const char *stream, const char *group,
                           const char *id, int *rc)
{
    const char *argv[] = {"XPENDING", stream, group, id, id, "1"};
    redisReply *rep;
    *rc = command(r, 6, argv, &rep);
    if (*rc)
        return 0;
    long n = 0;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
        rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements == 4 &&
        rep->element[0]->element[3]->type == REDIS_REPLY_INTEGER)
        n = (long)rep->element[0]->element[3]->integer;
    freeReplyObject(rep);
    return n;
}

static int ack_one(struct redis_queue *r, const char *stream, const char *group, const char *id)
{
    const char *argv[] = {"XACK", stream, group, id};
    redisReply *rep;
    int rc = command(r, 4, argv, &rep);
    if (rc)
        return rc;
    if (is_error(rep, NULL))
        rc = CDP_E_STORE;
    freeReplyObject(rep);
    return rc;
}

/* Moves an entry to the dead-letter stream and acknowledges it, both or neither (MULTI). */
static int dead_letter(struct redis_queue *r, const char *stream, const char *group, const char *id,
                       cJSON *doc, long deliveries)
{
    char dead[512];
    if (cdp_queue_dead_name(stream, dead, sizeof(dead)))
        return CDP_E_INVALID;
    cJSON *d = cJSON_CreateObject();
    if (!d)
        return CDP_E_NOMEM;
    cJSON_AddStringToObject(d, "id", id);
    cJSON_AddStringToObject(d, "stream", stream);
    cJSON_AddStringToObject(d, "group", group);
    cJSON_AddNumberToObject(d, "deliveries", (double)deliveries);
    cJSON_AddStringToObject(d, "reason", "delivered more than max_attempts times");
    cJSON_AddItemToObject(d, "doc", doc ? cJSON_Duplicate(doc, 1) : cJSON_CreateNull());
    char *text = cdp_json_print(d);
    cJSON_Delete(d);
    if (!text)
        return CDP_E_NOMEM;
    char err[256];
    int rc = cdp_redis_connect(&r->conn, err, sizeof(err));
    if (rc == 0) {
        const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"};
        const char *xadd[] = {"XADD", dead, "*", "doc", text};
        const char *xack[] = {"XACK", stream, group, id};
        redisAppendCommandArgv(r->conn.ctx, 1, multi, NULL);
        redisAppendCommandArgv(r->conn.ctx, 5, xadd, NULL);
        redisAppendCommandArgv(r->conn.ctx, 4, xack, NULL);
        redisAppendCommandArgv(r->conn.ctx, 1, exec, NULL);
        for (int i = 0; i < 4; i++) {
            void *v = NULL;
            if (redisGetReply(r->conn.ctx, &v) != REDIS_OK) {
                cdp_redis_drop(&r->conn);
                rc = CDP_E_UNAVAILABLE;
                break;
            }
            redisReply *rep = v;
            if (i == 3 && rep->type != REDIS_REPLY_ARRAY)
                rc = CDP_E_STORE;
            freeReplyObject(rep);
        }
    }
    free(text);
    return rc;
}

static int take(struct cdp_queue_entry *e, const char *id, cJSON *doc, long deliveries)
{
    snprintf(e->id, sizeof(e->id), "%s", id);
    e->doc = doc;
    e->deliveries = deliveries;
    return 0;
}

/* Takes over entries idle for lease_ms into out[*n..max). */
static int reclaim(struct redis_queue *r, const char *stream, const char *group,
                   const char *consumer, size_t max, int lease_ms, struct cdp_queue_entry *out,
                   size_t *n)
{
    char idle[24], count[24], cursor[CDP_QUEUE_ID_MAX] = "0-0";
    snprintf(idle, sizeof(idle), "%d", lease_ms);
    int rc = 0;
    for (int round = 0; round < 8 && *n < max; round++) {
        snprintf(count, sizeof(count), "%zu", max - *n);
        const char *argv[] = {"XAUTOCLAIM", stream, group, consumer, idle, cursor, "COUNT", count};
        redisReply *rep;
        if ((rc = command(r, 8, argv, &rep)))
            return rc;
        if (is_error(rep, "NOGROUP")) {
            freeReplyObject(rep);
            return CDP_E_NOT_FOUND;
        }
        if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 2 ||
            rep->element[0]->type != REDIS_REPLY_STRING ||
            rep->element[1]->type != REDIS_REPLY_ARRAY) {
            freeReplyObject(rep);
            return CDP_E_STORE;
        }
        snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
        const redisReply *list = rep->element[1];
        for (size_t i = 0; i < list->elements && rc == 0; i++) {
            const redisReply *e = list->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements < 1 ||
                e->element[0]->type != REDIS_REPLY_STRING)
                continue;
            const char *id = e->element[0]->str;
            long deliveries = delivery_count(r, stream, group, id, &rc);
            if (rc)
                break;
            cJSON *doc = entry_doc(e);
            if (!doc)
                rc = ack_one(r, stream, group, id); /* trimmed away: nothing to deliver */
            else if (deliveries > r->base.max_attempts) {
                rc = dead_letter(r, stream, group, id, doc, deliveries);
                cJSON_Delete(doc);
            } else
                take(&out[(*n)++], id, doc, deliveries);
        }
        freeReplyObject(rep);
        if (rc || strcmp(cursor, "0-0") == 0)
            break;
    }
    return rc;
}

static int read_new(struct redis_queue *r, const char *stream, const char *group,
                    const char *consumer, size_t max, int block_ms, struct cdp_queue_entry *out,
                    size_t *n)
{
    char count[24], block[24];
    snprintf(count, sizeof(count), "%zu", max - *n);
    snprintf(block, sizeof(block), "%d", block_ms);
    const char *argv[] = {"XREADGROUP", "GROUP", group,     consumer, "COUNT", count,
                          "BLOCK",      block,   "STREAMS", stream,   ">"};
    int argc = 11;
    if (block_ms <= 0) { /* no BLOCK: drop its two words */
        argv[6] = "STREAMS", argv[7] = stream, argv[8] = ">";
        argc = 9;
    }
    char err[256];
    int rc = cdp_redis_connect(&r->conn, err, sizeof(err));
    if (rc)
        return rc;
    cdp_redis_wait_longer(&r->conn, block_ms); /* the reply may take block_ms to come */
    redisReply *rep;
    rc = command(r, argc, argv, &rep);
    cdp_redis_wait_longer(&r->conn, 0);
    if (rc)
        return rc;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
        rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements == 2 &&
        rep->element[0]->element[1]->type == REDIS_REPLY_ARRAY) {
        const redisReply *list = rep->element[0]->element[1];
        for (size_t i = 0; i < list->elements && *n < max; i++) {
            const redisReply *e = list->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements < 1 ||
                e->element[0]->type != REDIS_REPLY_STRING)
                continue;
            cJSON *doc = entry_doc(e);
            if (doc)
                take(&out[(*n)++], e->element[0]->str, doc, 1);
        }
    } else if (rep->type == REDIS_REPLY_ERROR) {
        rc = is_error(rep, "NOGROUP") ? CDP_E_NOT_FOUND : CDP_E_STORE;
    }
    freeReplyObject(rep);
    return rc;
}

static int consume_redis(struct cdp_queue *q, const char *stream, const char *group,
                         const char *consumer, size_t max, int block_ms, int lease_ms,
                         struct cdp_queue_entry *out, size_t *n)
{
    struct redis_queue *r = (struct redis_queue *)q;
    *n = 0;
    if (max == 0)
        return 0;
    /* the group is made on first use, when Redis says it has none */
    int rc = reclaim(r, stream, group, consumer, max, lease_ms, out, n);
    if (rc == CDP_E_NOT_FOUND && (rc = ensure_group(r, stream, group)) == 0)
        rc = reclaim(r, stream, group, consumer, max, lease_ms, out, n);
    if (rc == 0 && *n < max)
        rc = read_new(r, stream, group, consumer, max, *n ? 0 : block_ms, out, n);
    if (rc) {
        cdp_queue_entries_free(out, *n);
        *n = 0;
    }
    return rc;
}

static int ack_redis(struct cdp_queue *q, const char *stream, const char *group,
                     const char *const *ids, size_t nids)
{
    struct redis_queue *r = (struct redis_queue *)q;
    if (nids == 0)
        return 0;
    const char **argv = malloc((nids + 3) * sizeof(*argv));
    if (!argv)
        return CDP_E_NOMEM;
    argv[0] = "XACK", argv[1] = stream, argv[2] = group;
    for (size_t i = 0; i < nids; i++)
        argv[3 + i] = ids[i];
    redisReply *rep;
    int rc = command(r, (int)(nids + 3), argv, &rep);
    free(argv);
    if (rc)
        return rc;
    /* an id Redis cannot parse is unknown to it: ignored, as ack promises */
    if (is_error(rep, NULL) && !strstr(rep->str, "Invalid stream ID"))
        rc = is_error(rep, "NOGROUP") ? 0 : CDP_E_STORE;
    freeReplyObject(rep);
    return rc;
}

/* The value of key in a flat [key, value, ...] reply; NULL when absent. */
static const redisReply *field(const redisReply *map, const char *key)
{
    for (size_t i = 0; map->type == REDIS_REPLY_ARRAY && i + 1 < map->elements; i += 2)
        if (map->element[i]->type == REDIS_REPLY_STRING && strcmp(map->element[i]->str, key) == 0)
            return map->element[i + 1];
    return NULL;
}

/* Entries after the group's last delivered id, counted (when Redis cannot tell the lag). */
static int count_after(struct redis_queue *r, const char *stream, const char *last, long *out)
{
    char from[CDP_QUEUE_ID_MAX + 1];
    snprintf(from, sizeof(from), "(%s", last);
    const char *argv[] = {"XRANGE", stream, from, "+"};
    redisReply *rep;
    int rc = command(r, 4, argv, &rep);
    if (rc)
        return rc;
    *out = rep->type == REDIS_REPLY_ARRAY ? (long)rep->elements : 0;
    freeReplyObject(rep);
    return 0;
}

static int backlog_redis(struct cdp_queue *q, const char *stream, const char *group,
                         struct cdp_queue_backlog *out)
{
    struct redis_queue *r = (struct redis_queue *)q;
    *out = (struct cdp_queue_backlog){0};
    const char *xlen[] = {"XLEN", stream};
    redisReply *rep;
    int rc = command(r, 2, xlen, &rep);
    if (rc)
        return rc;
    out->length = rep->type == REDIS_REPLY_INTEGER ? (long)rep->integer : 0;
    freeReplyObject(rep);
    out->lag = out->length; /* no group yet: everything is still to deliver */
    const char *info[] = {"XINFO", "GROUPS", stream};
    if ((rc = command(r, 3, info, &rep)))
        return rc;
    char last[CDP_QUEUE_ID_MAX] = "";
    bool lag_known = true;
    for (size_t i = 0; rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
        const redisReply *g = rep->element[i], *name = field(g, "name");
        if (!name || name->type != REDIS_REPLY_STRING || strcmp(name->str, group) != 0)
            continue;
        const redisReply *pending = field(g, "pending"), *lag = field(g, "lag"),
                         *ld = field(g, "last-delivered-id");
        out->pending = pending && pending->type == REDIS_REPLY_INTEGER ? (long)pending->integer : 0;
        lag_known = lag && lag->type == REDIS_REPLY_INTEGER;
        if (lag_known)
            out->lag = (long)lag->integer;
        else if (ld && ld->type == REDIS_REPLY_STRING)
            snprintf(last, sizeof(last), "%s", ld->str);
    }
    freeReplyObject(rep);
    if (!lag_known && last[0])
        rc = count_after(r, stream, last, &out->lag);
    return rc;
}

static int tail_redis(struct cdp_queue *q, const char *stream, char *id, size_t idlen)
{
    const char *argv[] = {"XREVRANGE", stream, "+", "-", "COUNT", "1"};
    redisReply *rep;
    int rc = command((struct redis_queue *)q, 6, argv, &rep);
    if (rc)
        return rc;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
        rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements >= 1 &&
        rep->element[0]->element[0]->type == REDIS_REPLY_STRING)
        snprintf(id, idlen, "%s", rep->element[0]->element[0]->str);
    else if (rep->type == REDIS_REPLY_ARRAY)
        snprintf(id, idlen, "%s", "");
    else
        rc = CDP_E_STORE;
    freeReplyObject(rep);
    return rc;
}

/* Whether stream id a comes at or after b ("ms-seq"). */
static bool id_at_or_after(const char *a, const char *b)
{
    unsigned long long am = 0, as = 0, bm = 0, bs = 0;
    sscanf(a, "%llu-%llu", &am, &as);
    sscanf(b, "%llu-%llu", &bm, &bs);
    return am > bm || (am == bm && as >= bs);
}

static int settled_redis(struct cdp_queue *q, const char *stream, const char *group,
                         const char *upto, bool *out)
{
    struct redis_queue *r = (struct redis_queue *)q;
    *out = !*upto;
    if (!*upto)
        return 0;
    const char *info[] = {"XINFO", "GROUPS", stream};
    redisReply *rep;
    int rc = command(r, 3, info, &rep);
    if (rc)
        return rc;
    bool delivered = false;
    for (size_t i = 0; rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
        const redisReply *g = rep->element[i], *name = field(g, "name"),
                         *ld = field(g, "last-delivered-id");
        if (name && name->type == REDIS_REPLY_STRING && strcmp(name->str, group) == 0 && ld &&
            ld->type == REDIS_REPLY_STRING)
            delivered = id_at_or_after(ld->str, upto);
    }
    freeReplyObject(rep);
    if (!delivered)
        return 0;
    const char *pending[] = {"XPENDING", stream, group, "-", upto, "1"};
    if ((rc = command(r, 6, pending, &rep)))
        return rc;
    if (rep->type == REDIS_REPLY_ARRAY)
        *out = rep->elements == 0;
    else
        rc = CDP_E_STORE;
    freeReplyObject(rep);
    return rc;
}

/* The id after id ("ms-seq" -> "ms-(seq+1)"). */
static void id_next(const char *id, char *out, size_t outlen)
{
    unsigned long long ms = 0, seq = 0;
    sscanf(id, "%llu-%llu", &ms, &seq);
    snprintf(out, outlen, "%llu-%llu", ms, seq + 1);
}

/* The first entry group still needs: its oldest pending one, else the one after the last
 * delivered; "" when it has no cursor yet. */
static int group_floor(struct redis_queue *r, const char *stream, const redisReply *g, char *out,
                       size_t outlen)
{
    const redisReply *name = field(g, "name"), *pending = field(g, "pending"),
                     *ld = field(g, "last-delivered-id");
    out[0] = '\0';
    if (!name || name->type != REDIS_REPLY_STRING || !ld || ld->type != REDIS_REPLY_STRING)
        return 0;
    if (!pending || pending->type != REDIS_REPLY_INTEGER || pending->integer == 0) {
        id_next(ld->str, out, outlen);
        return 0;
    }
    const char *argv[] = {"XPENDING", stream, name->str};
    redisReply *rep;
    int rc = command(r, 3, argv, &rep);
    if (rc)
        return rc;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2 &&
        rep->element[1]->type == REDIS_REPLY_STRING)
        snprintf(out, outlen, "%s", rep->element[1]->str);
    freeReplyObject(rep);
    return 0;
}

static int trim_redis(struct cdp_queue *q, const char *stream, const char *const *groups,
                      size_t ngroups)
{
    struct redis_queue *r = (struct redis_queue *)q;
    const char *info[] = {"XINFO", "GROUPS", stream};
    redisReply *rep;
    int rc = command(r, 3, info, &rep);
    if (rc)
        return rc;
    char floor[CDP_QUEUE_ID_MAX] = "", f[CDP_QUEUE_ID_MAX];
    bool all = rep->type == REDIS_REPLY_ARRAY && ngroups > 0;
    for (size_t k = 0; all && !rc && k < ngroups; k++) {
        const redisReply *g = NULL;
        for (size_t i = 0; !g && i < rep->elements; i++) {
            const redisReply *name = field(rep->element[i], "name");
            if (name && name->type == REDIS_REPLY_STRING && strcmp(name->str, groups[k]) == 0)
                g = rep->element[i];
        }
        f[0] = '\0';
        if (g)
            rc = group_floor(r, stream, g, f, sizeof(f));
        if (!f[0])
            all = false; /* not made yet: it will want every entry */
        else if (!floor[0] || !id_at_or_after(f, floor))
            snprintf(floor, sizeof(floor), "%s", f);
    }
    freeReplyObject(rep);
    if (rc || !all || !floor[0])
        return rc;
    const char *argv[] = {"XTRIM", stream, "MINID", floor};
    if ((rc = command(r, 4, argv, &rep)))
        return rc;
    rc = is_error(rep, NULL) ? CDP_E_STORE : 0;
    freeReplyObject(rep);
    return rc;
}

const struct cdp_queue_ops cdp_queue_redis_ops = {
    .scheme = "redis",
    .open = open_redis,
    .close = close_redis,
    .publish = publish_redis,
    .consume = consume_redis,
    .ack = ack_redis,
    .backlog = backlog_redis,
    .tail = tail_redis,
    .settled = settled_redis,
    .trim = trim_redis,
};
