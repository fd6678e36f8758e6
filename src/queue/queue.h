/* The queue seam: durable streams of JSON documents read by consumer groups, behind a table of
 * function pointers, one backend per file, chosen by URL. Delivery is at least once: an entry
 * stays pending in its group until acknowledged, and an entry not acknowledged within its lease
 * is delivered again (to any consumer of the group) with a higher delivery count, so consumers
 * must be idempotent, keyed by the entry's id or the document's own. An entry delivered more
 * than max_attempts times is moved to the stream "<stream>:dead" instead, as a document
 * {id, stream, group, deliveries, reason, doc}, and acknowledged.
 *
 * A struct cdp_queue is one connection: use it from one thread at a time and open one per
 * thread. Every operation returns 0 or a CDP_E_*; CDP_E_UNAVAILABLE when the queue's server
 * cannot be reached (the next call connects again). */
#ifndef CDP_QUEUE_QUEUE_H
#define CDP_QUEUE_QUEUE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct cdp_queue;

#define CDP_QUEUE_ID_MAX 48

struct cdp_queue_opts {
    int max_attempts; /* deliveries before an entry is dead-lettered (0: 5) */
    int timeout_ms;   /* network timeout of one call besides its block_ms (0: 5000) */
};

/* One delivered entry; doc is owned by the entry (cdp_queue_entries_free). */
struct cdp_queue_entry {
    char id[CDP_QUEUE_ID_MAX];
    cJSON *doc;
    long deliveries; /* 1 on the first delivery */
};

struct cdp_queue_backlog {
    long length;  /* entries in the stream */
    long pending; /* delivered to the group and not acknowledged */
    long lag;     /* not yet delivered to the group */
};

struct cdp_queue_ops {
    const char *scheme; /* URL scheme, e.g. "redis" */
    int (*open)(struct cdp_queue **out, const char *url, const struct cdp_queue_opts *o, char *err,
                size_t errlen);
    void (*close)(struct cdp_queue *q);

    /* Appends a copy of doc; its id (NUL-terminated) into id. */
    int (*publish)(struct cdp_queue *q, const char *stream, const cJSON *doc, char *id,
                   size_t idlen);
    /* Up to max entries for consumer of group (made at the stream's start on first use): first
     * pending ones idle for lease_ms or more, taken over from whichever consumer had them, then
     * new ones, waiting up to block_ms for any when there are none (0: no wait). *n is set to
     * how many were written to out. */
    int (*consume)(struct cdp_queue *q, const char *stream, const char *group, const char *consumer,
                   size_t max, int block_ms, int lease_ms, struct cdp_queue_entry *out, size_t *n);
    /* Acknowledges entries: they are never delivered to group again. Unknown ids are ignored. */
    int (*ack)(struct cdp_queue *q, const char *stream, const char *group, const char *const *ids,
               size_t nids);
    int (*backlog)(struct cdp_queue *q, const char *stream, const char *group,
                   struct cdp_queue_backlog *out);
    /* A barrier in two steps: tail gives the id of the stream's newest entry ("" when it has
     * none); settled says whether group has acknowledged (or dead-lettered) every entry up to
     * and including that id. */
    int (*tail)(struct cdp_queue *q, const char *stream, char *id, size_t idlen);
    int (*settled)(struct cdp_queue *q, const char *stream, const char *group, const char *upto,
                   bool *out);
    /* Drops the entries that each of the groups named has acknowledged (or dead-lettered), so
     * the stream does not grow for ever; nothing while one of them has not been made yet (it
     * will want every entry). */
    int (*trim)(struct cdp_queue *q, const char *stream, const char *const *groups, size_t ngroups);
};

struct cdp_queue {
    const struct cdp_queue_ops *ops;
    int max_attempts;
};

extern const struct cdp_queue_ops cdp_queue_local_ops; /* queue_local.c */
extern const struct cdp_queue_ops cdp_queue_redis_ops; /* queue_redis.c */

/* Opens a queue from a URL: "redis://HOST[:PORT][/DB]", or "local:DIR" or a plain directory
 * (the embedded outbox DIR/queue.db; a path ending in .db is the file itself). CDP_E_CONFIG
 * with why in err for a bad URL; the caller closes with cdp_queue_close. */
int cdp_queue_open(struct cdp_queue **out, const char *url, const struct cdp_queue_opts *o,
                   char *err, size_t errlen);
void cdp_queue_close(struct cdp_queue *q);
/* A consumer name for this process, "<host>-<pid>": a worker that restarts is a new consumer,
 * and takes its old self's entries over after their lease like any other's. */
void cdp_queue_consumer_name(char *out, size_t outlen);
/* Frees the documents of n consumed entries. */
void cdp_queue_entries_free(struct cdp_queue_entry *e, size_t n);

/* The dead-letter stream of stream ("<stream>:dead") into out; CDP_E_INVALID when it does not
 * fit. */
int cdp_queue_dead_name(const char *stream, char *out, size_t outlen);

#endif
