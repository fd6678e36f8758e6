/* The embedded backend of the queue seam: an outbox in its own SQLite file (DIR/queue.db, WAL),
 * with the semantics of Redis Streams so one conformance suite runs on both. entry holds every
 * stream's documents by a global sequence number (the entry id); grp is a group's cursor (the
 * last sequence delivered); delivery is a group's pending list (who has an entry, since when,
 * how many deliveries), whose row an ack deletes. consume() runs in one IMMEDIATE transaction,
 * so consumers in other threads or processes never get the same delivery. */
#include "core/err.h"
#include "core/json.h"
#include "queue/queue.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct local_queue {
    struct cdp_queue base;
    sqlite3 *db;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS entry(seq INTEGER PRIMARY KEY AUTOINCREMENT, stream TEXT NOT NULL,"
    " doc TEXT NOT NULL, created_us INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS entry_stream ON entry(stream, seq);"
    "CREATE TABLE IF NOT EXISTS grp(stream TEXT NOT NULL, name TEXT NOT NULL,"
    " last_seq INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(stream, name));"
    "CREATE TABLE IF NOT EXISTS delivery(stream TEXT NOT NULL, grp TEXT NOT NULL,"
    " seq INTEGER NOT NULL, consumer TEXT NOT NULL, delivered_us INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL, PRIMARY KEY(stream, grp, seq));";

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int open_local(struct cdp_queue **out, const char *location, const struct cdp_queue_opts *o,
                      char *err, size_t errlen)
{
    (void)o;
    char path[4096];
    size_t len = strlen(location);
    int n;
    if (len > 3 && strcmp(location + len - 3, ".db") == 0) {
        n = snprintf(path, sizeof(path), "%s", location);
    } else {
        mkdir(location, 0700); /* an existing directory is fine; open reports the rest */
        n = snprintf(path, sizeof(path), "%s/queue.db", location);
    }
    if (n < 0 || (size_t)n >= sizeof(path)) {
        snprintf(err, errlen, "queue path too long: %s", location);
        return CDP_E_CONFIG;
    }
    struct local_queue *l = calloc(1, sizeof(*l));
    if (!l)
        return CDP_E_NOMEM;
    if (sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_busy_timeout(l->db, 5000) != SQLITE_OK ||
        sqlite3_exec(l->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open the queue %s: %s", path,
                 l->db ? sqlite3_errmsg(l->db) : "out of memory");
        sqlite3_close(l->db);
        free(l);
        return CDP_E_STORE;
    }
    *out = &l->base;
    return 0;
}

static void close_local(struct cdp_queue *q)
{
    struct local_queue *l = (struct local_queue *)q;
    sqlite3_close(l->db);
    free(l);
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    return st;
}

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : CDP_E_STORE;
}

static int append(sqlite3 *db, const char *stream, const char *text, char *id, size_t idlen)
{
    sqlite3_stmt *st = prepare(db, "INSERT INTO entry(stream, doc, created_us) VALUES(?,?,?)");
    if (!st)
        return CDP_E_STORE;
    sqlite3_bind_text(st, 1, stream, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_us());
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : CDP_E_STORE;
    sqlite3_finalize(st);
    if (rc == 0 && id)
        snprintf(id, idlen, "%lld", (long long)sqlite3_last_insert_rowid(db));
    return rc;
}

static int publish_local(struct cdp_queue *q, const char *stream, const cJSON *doc, char *id,
                         size_t idlen)
{
    struct local_queue *l = (struct local_queue *)q;
    char *text = cdp_json_print(doc);
    if (!text)
        return CDP_E_NOMEM;
    int rc = append(l->db, stream, text, id, idlen);
    free(text);
    return rc;
}

static int dead_letter(struct local_queue *l, const char *stream, const char *group, int64_t seq,
                       const char *text, long deliveries)
{
    char dead[512], id[32];
    if (cdp_queue_dead_name(stream, dead, sizeof(dead)))
        return CDP_E_INVALID;
    snprintf(id, sizeof(id), "%lld", (long long)seq);
    cJSON *d = cJSON_CreateObject();
    if (!d)
        return CDP_E_NOMEM;
    cJSON_AddStringToObject(d, "id", id);
    cJSON_AddStringToObject(d, "stream", stream);
    cJSON_AddStringToObject(d, "group", group);
    cJSON_AddNumberToObject(d, "deliveries", (double)deliveries);
    cJSON_AddStringToObject(d, "reason", "delivered more than max_attempts times");
    cJSON *doc = cdp_json_parse(text, strlen(text), NULL);
    cJSON_AddItemToObject(d, "doc", doc ? doc : cJSON_CreateNull());
    char *dtext = cdp_json_print(d);
    cJSON_Delete(d);
    if (!dtext)
        return CDP_E_NOMEM;
    int rc = append(l->db, dead, dtext, NULL, 0);
    free(dtext);
    if (rc)
        return rc;
    sqlite3_stmt *st = prepare(l->db, "DELETE FROM delivery WHERE stream=? AND grp=? AND seq=?");
    if (!st)
        return CDP_E_STORE;
    sqlite3_bind_text(st, 1, stream, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, group, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, seq);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : CDP_E_STORE;
    sqlite3_finalize(st);
    return rc;
}

static void take(struct cdp_queue_entry *e, int64_t seq, const char *text, long deliveries)
{
    snprintf(e->id, sizeof(e->id), "%lld", (long long)seq);
    e->doc = cdp_json_parse(text, strlen(text), NULL);
    e->deliveries = deliveries;
}

/* One pass of consume inside a transaction: reclaim, then new entries. */
static int consume_once(struct local_queue *l, const char *stream, const char *group,
                        const char *consumer, size_t max, int lease_ms, struct cdp_queue_entry *out,
                        size_t *n)
{
    int64_t now = now_us();
    int rc = CDP_E_STORE;
    sqlite3_stmt *sel = NULL, *upd = NULL, *ins = NULL;

    sel = prepare(l->db, "INSERT OR IGNORE INTO grp(stream, name) VALUES(?,?)");
    if (!sel)
        goto out;
    sqlite3_bind_text(sel, 1, stream, -1, SQLITE_STATIC);
    sqlite3_bind_text(sel, 2, group, -1, SQLITE_STATIC);
    if (sqlite3_step(sel) != SQLITE_DONE)
        goto out;
    sqlite3_finalize(sel);

    /* pending entries idle for the lease, oldest first, one at a time: each is updated or
     * deleted before the next is read, and the cursor keeps a zero lease from looping */
    sel = prepare(l->db, "SELECT d.seq, d.attempts, e.doc FROM delivery d JOIN entry e"
                         " ON e.seq = d.seq WHERE d.stream=? AND d.grp=? AND d.delivered_us<=?"
                         " AND d.seq>? ORDER BY d.seq LIMIT 1");
    upd = prepare(l->db, "UPDATE delivery SET consumer=?, delivered_us=?, attempts=attempts+1"
                         " WHERE stream=? AND grp=? AND seq=?");
    if (!sel || !upd)
        goto out;
    int64_t cursor = 0;
    while (*n < max) {
        sqlite3_reset(sel);
        sqlite3_bind_text(sel, 1, stream, -1, SQLITE_STATIC);
        sqlite3_bind_text(sel, 2, group, -1, SQLITE_STATIC);
        sqlite3_bind_int64(sel, 3, now - (int64_t)lease_ms * 1000);
        sqlite3_bind_int64(sel, 4, cursor);
        int step = sqlite3_step(sel);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW)
            goto out;
        int64_t seq = cursor = sqlite3_column_int64(sel, 0);
        long deliveries = (long)sqlite3_column_int64(sel, 1) + 1;
        const char *text = (const char *)sqlite3_column_text(sel, 2);
        sqlite3_reset(upd);
        sqlite3_bind_text(upd, 1, consumer, -1, SQLITE_STATIC);
        sqlite3_bind_int64(upd, 2, now);
        sqlite3_bind_text(upd, 3, stream, -1, SQLITE_STATIC);
        sqlite3_bind_text(upd, 4, group, -1, SQLITE_STATIC);
        sqlite3_bind_int64(upd, 5, seq);
        if (sqlite3_step(upd) != SQLITE_DONE)
            goto out;
        if (deliveries > l->base.max_attempts) {
            if ((rc = dead_letter(l, stream, group, seq, text, deliveries)))
                goto out;
            rc = CDP_E_STORE;
        } else {
            take(&out[(*n)++], seq, text, deliveries);
        }
    }
    sqlite3_finalize(sel);
    sel = NULL;

    /* new entries after the group's cursor */
    sel = prepare(l->db, "SELECT e.seq, e.doc FROM entry e JOIN grp g ON g.stream=e.stream"
                         " AND g.name=? WHERE e.stream=? AND e.seq>g.last_seq ORDER BY e.seq"
                         " LIMIT ?");
    ins = prepare(l->db, "INSERT INTO delivery(stream, grp, seq, consumer, delivered_us, attempts)"
                         " VALUES(?,?,?,?,?,1)");
    if (!sel || !ins)
        goto out;
    sqlite3_bind_text(sel, 1, group, -1, SQLITE_STATIC);
    sqlite3_bind_text(sel, 2, stream, -1, SQLITE_STATIC);
    sqlite3_bind_int64(sel, 3, (sqlite3_int64)(max - *n));
    int64_t last = -1;
    while (*n < max && sqlite3_step(sel) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(sel, 0);
        sqlite3_reset(ins);
        sqlite3_bind_text(ins, 1, stream, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, group, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 3, seq);
        sqlite3_bind_text(ins, 4, consumer, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 5, now);
        if (sqlite3_step(ins) != SQLITE_DONE)
            goto out;
        take(&out[(*n)++], seq, (const char *)sqlite3_column_text(sel, 1), 1);
        last = seq;
    }
    sqlite3_finalize(sel);
    sel = NULL;
    if (last >= 0) {
        sel = prepare(l->db, "UPDATE grp SET last_seq=? WHERE stream=? AND name=?");
        if (!sel)
            goto out;
        sqlite3_bind_int64(sel, 1, last);
        sqlite3_bind_text(sel, 2, stream, -1, SQLITE_STATIC);
        sqlite3_bind_text(sel, 3, group, -1, SQLITE_STATIC);
        if (sqlite3_step(sel) != SQLITE_DONE)
            goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    sqlite3_finalize(ins);
    return rc;
}

static int consume_local(struct cdp_queue *q, const char *stream, const char *group,
                         const char *consumer, size_t max, int block_ms, int lease_ms,
                         struct cdp_queue_entry *out, size_t *n)
{
    struct local_queue *l = (struct local_queue *)q;
    *n = 0;
    if (max == 0)
        return 0;
    int64_t deadline = now_us() + (int64_t)(block_ms > 0 ? block_ms : 0) * 1000;
    for (;;) {
        int rc = exec(l->db, "BEGIN IMMEDIATE");
        if (rc == 0) {
            rc = consume_once(l, stream, group, consumer, max, lease_ms, out, n);
            rc = rc ? rc : exec(l->db, "COMMIT");
            if (rc)
                exec(l->db, "ROLLBACK");
        }
        if (rc) {
            cdp_queue_entries_free(out, *n);
            *n = 0;
            return rc;
        }
        if (*n > 0 || now_us() >= deadline)
            return 0;
        /* no notification across processes: poll the outbox */
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static int ack_local(struct cdp_queue *q, const char *stream, const char *group,
                     const char *const *ids, size_t nids)
{
    struct local_queue *l = (struct local_queue *)q;
    sqlite3_stmt *st = prepare(l->db, "DELETE FROM delivery WHERE stream=? AND grp=? AND seq=?");
    if (!st)
        return CDP_E_STORE;
    int rc = exec(l->db, "BEGIN IMMEDIATE");
    for (size_t i = 0; rc == 0 && i < nids; i++) {
        char *end;
        long long seq = strtoll(ids[i], &end, 10);
        if (end == ids[i] || *end)
            continue; /* not an id of this queue: unknown, ignored */
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, stream, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, group, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, seq);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = CDP_E_STORE;
    }
    sqlite3_finalize(st);
    if (rc == 0)
        rc = exec(l->db, "COMMIT");
    if (rc)
        exec(l->db, "ROLLBACK");
    return rc;
}

static long count(sqlite3 *db, const char *sql, const char *stream, const char *group, int *rc)
{
    sqlite3_stmt *st = prepare(db, sql);
    long n = 0;
    if (!st) {
        *rc = CDP_E_STORE;
        return 0;
    }
    sqlite3_bind_text(st, 1, stream, -1, SQLITE_STATIC);
    if (group)
        sqlite3_bind_text(st, 2, group, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = (long)sqlite3_column_int64(st, 0);
    else
        *rc = CDP_E_STORE;
    sqlite3_finalize(st);
    return n;
}

static int backlog_local(struct cdp_queue *q, const char *stream, const char *group,
                         struct cdp_queue_backlog *out)
{
    struct local_queue *l = (struct local_queue *)q;
    int rc = 0;
    out->length = count(l->db, "SELECT count(*) FROM entry WHERE stream=?", stream, NULL, &rc);
    out->pending =
        count(l->db, "SELECT count(*) FROM delivery WHERE stream=? AND grp=?", stream, group, &rc);
    out->lag = count(l->db,
                     "SELECT count(*) FROM entry WHERE stream=?1 AND seq > coalesce((SELECT"
                     " last_seq FROM grp WHERE stream=?1 AND name=?2), 0)",
                     stream, group, &rc);
    return rc;
}

static int tail_local(struct cdp_queue *q, const char *stream, char *id, size_t idlen)
{
    int rc = 0;
    long seq = count(((struct local_queue *)q)->db,
                     "SELECT coalesce(max(seq), 0) FROM entry WHERE stream=?", stream, NULL, &rc);
    if (!rc)
        snprintf(id, idlen, "%s", "");
    if (!rc && seq > 0)
        snprintf(id, idlen, "%ld", seq);
    return rc;
}

static int settled_local(struct cdp_queue *q, const char *stream, const char *group,
                         const char *upto, bool *out)
{
    struct local_queue *l = (struct local_queue *)q;
    *out = !*upto;
    if (!*upto)
        return 0;
    sqlite3_stmt *st = prepare(l->db, "SELECT coalesce((SELECT last_seq FROM grp WHERE stream=?1"
                                      " AND name=?2), 0) >= ?3 AND NOT EXISTS (SELECT 1 FROM"
                                      " delivery WHERE stream=?1 AND grp=?2 AND seq<=?3)");
    if (!st)
        return CDP_E_STORE;
    sqlite3_bind_text(st, 1, stream, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, group, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, strtoll(upto, NULL, 10));
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : CDP_E_STORE;
    if (!rc)
        *out = sqlite3_column_int(st, 0) != 0;
    sqlite3_finalize(st);
    return rc;
}

static int trim_local(struct cdp_queue *q, const char *stream, const char *const *groups,
                      size_t ngroups)
{
    struct local_queue *l = (struct local_queue *)q;
    /* the first entry a group still needs: its oldest pending one, else the one after its
     * cursor (no row: the group is not made yet) */
    sqlite3_stmt *st = prepare(l->db, "SELECT coalesce((SELECT min(d.seq) FROM delivery d WHERE"
                                      " d.stream=g.stream AND d.grp=g.name), g.last_seq + 1)"
                                      " FROM grp g WHERE g.stream=? AND g.name=?");
    if (!st)
        return CDP_E_STORE;
    int64_t floor = -1;
    int rc = 0;
    for (size_t k = 0; !rc && k < ngroups; k++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, stream, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, groups[k], -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step != SQLITE_ROW) {
            rc = step == SQLITE_DONE ? 1 : CDP_E_STORE; /* 1: not made yet, trim nothing */
            break;
        }
        int64_t f = sqlite3_column_int64(st, 0);
        floor = floor < 0 || f < floor ? f : floor;
    }
    sqlite3_finalize(st);
    if (rc || floor < 0)
        return rc == 1 ? 0 : rc;
    if (!(st = prepare(l->db, "DELETE FROM entry WHERE stream=? AND seq < ?")))
        return CDP_E_STORE;
    sqlite3_bind_text(st, 1, stream, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, floor);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : CDP_E_STORE;
    sqlite3_finalize(st);
    return rc;
}

const struct cdp_queue_ops cdp_queue_local_ops = {
    .scheme = "local",
    .open = open_local,
    .close = close_local,
    .publish = publish_local,
    .consume = consume_local,
    .ack = ack_local,
    .backlog = backlog_local,
    .tail = tail_local,
    .settled = settled_local,
    .trim = trim_local,
};
