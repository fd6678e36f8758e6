/* The store seam: profiles, sessions, events, config entities, users and tokens behind a table
 * of function pointers, one backend per file, chosen by URL. A struct cdp_store is one
 * connection: use it from one thread at a time and open one per thread.
 *
 * Documents are cJSON trees. Getters return a new tree the caller frees with cJSON_Delete;
 * putters copy what they need. Every operation returns 0, CDP_E_NOT_FOUND or another CDP_E_*. */
#ifndef CDP_STORE_STORE_H
#define CDP_STORE_STORE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cdp_store;

struct cdp_store_opts {
    bool durable;           /* fsync every commit */
    bool manual_checkpoint; /* commits never checkpoint; the owner calls checkpoint() */
};

struct cdp_user_rec {
    char id[64];
    char email[256];
    char pwhash[256]; /* argon2id string */
    cJSON *doc;       /* {id, email, full_name, roles[], disabled, expiration_timestamp} */
};

/* What an erasure removed, row by row. */
struct cdp_erasure_counts {
    long profiles; /* profile documents (the survivor and any left by merges into it) */
    long ids;      /* ids the profile was known by, its own included */
    long sessions;
    long events;
};

struct cdp_store_ops {
    const char *scheme; /* URL scheme, e.g. "sqlite" */
    int (*open)(struct cdp_store **out, const char *location, const struct cdp_store_opts *o,
                char *err, size_t errlen);
    void (*close)(struct cdp_store *s);

    /* Transactions; savepoints nest inside one transaction (one request within a batch). */
    int (*begin)(struct cdp_store *s);
    int (*commit)(struct cdp_store *s);
    int (*rollback)(struct cdp_store *s);
    int (*savepoint)(struct cdp_store *s);
    int (*release)(struct cdp_store *s);
    int (*rollback_to)(struct cdp_store *s);

    /* Profiles are found by their id or by any id in their ids[]. */
    int (*profile_get)(struct cdp_store *s, const char *id, cJSON **out);
    int (*profile_put)(struct cdp_store *s, const cJSON *profile);
    int (*session_get)(struct cdp_store *s, const char *id, cJSON **out);
    int (*session_put)(struct cdp_store *s, const cJSON *session);
    /* Updates only the activity fields of a stored session (metadata.time.update, .duration,
     * metadata.status); a session that is not stored stays so. */
    int (*session_touch)(struct cdp_store *s, const char *id, const char *update, double duration,
                         const char *status);
    int (*event_put)(struct cdp_store *s, const cJSON *event);
    int (*event_get)(struct cdp_store *s, const char *id, cJSON **out);
    /* Newest first; *out is an array, *total the number of the profile's events. */
    int (*events_by_profile)(struct cdp_store *s, const char *profile_id, int start, int limit,
                             cJSON **out, long *total);

    /* Erases a person: the profile found by any of its ids, every id of it (ids of profiles
     * merged into it too), and the sessions and events of any of those ids, with whatever
     * indexes them, so no later maintain() brings them back. Run it inside begin()/commit() so
     * it is all or nothing; CDP_E_NOT_FOUND when no profile has that id. */
    int (*profile_erase)(struct cdp_store *s, const char *id, struct cdp_erasure_counts *out);
    /* Everything held about the person the profile found by id belongs to, as one new tree
     * {profile, ids[], sessions[], events[] (oldest first), truncated}, read from one snapshot:
     * at most max_events events (all when negative), truncated true when there were more. The
     * stored documents in sessions[] and events[] are cJSON_Raw text, printed as they are and
     * never parsed (an export may hold 100,000 events). */
    int (*profile_export)(struct cdp_store *s, const char *id, long max_events, cJSON **out);
    /* How many profiles hold each segment: a new object {machine name: count}. */
    int (*segment_counts)(struct cdp_store *s, cJSON **out);

    /* Config entities by kind ("event-source", ...) and id. */
    int (*entity_get)(struct cdp_store *s, const char *kind, const char *id, cJSON **out);
    int (*entity_put)(struct cdp_store *s, const char *kind, const char *id, const cJSON *doc);
    int (*entity_delete)(struct cdp_store *s, const char *kind, const char *id);
    int (*entity_list)(struct cdp_store *s, const char *kind, int start, int limit, cJSON **out,
                       long *total);
    /* Bumped on every entity write, so caches in any process can tell they are stale. */
    int (*entity_version)(struct cdp_store *s, int64_t *out);
    /* Moves whenever another connection (or process) commits: what this connection caches
     * may be stale then. */
    int (*external_version)(struct cdp_store *s, int64_t *out);

    /* Users and management tokens (tokens are stored as hashes). */
    int (*user_put)(struct cdp_store *s, const struct cdp_user_rec *u);
    int (*user_get)(struct cdp_store *s, const char *id_or_email, struct cdp_user_rec *out);
    int (*token_put)(struct cdp_store *s, const char *hash, const char *user_id, int64_t expires);
    /* Finds a live token and slides its expiry to new_expires when that moves it by more than
     * min_step seconds (so most authenticated reads write nothing). */
    int (*token_touch)(struct cdp_store *s, const char *hash, int64_t now, int64_t new_expires,
                       int64_t min_step, char *user_id, size_t user_id_len);
    int (*token_delete)(struct cdp_store *s, const char *hash);

    /* Catches up on work the backend defers to do in bulk (building secondary indexes); runs
     * inside the caller's transaction. Reads never depend on it having run. */
    int (*maintain)(struct cdp_store *s);
    /* Moves committed data from the write-ahead log into the main file without blocking
     * writers, and says how long the log still is (*log_pages, may be NULL). A backend without
     * such a log does nothing and says 0. */
    int (*checkpoint)(struct cdp_store *s, int *log_pages);

    /* Installation-wide values (salt, schema version). */
    int (*meta_get)(struct cdp_store *s, const char *key, char *out, size_t outlen);
    int (*meta_put)(struct cdp_store *s, const char *key, const char *value);
};

struct cdp_store {
    const struct cdp_store_ops *ops;
};

/* Opens a store from a URL: "sqlite:PATH" or a plain directory (the embedded store in it). */
int cdp_store_open(struct cdp_store **out, const char *url, const struct cdp_store_opts *o,
                   char *err, size_t errlen);
void cdp_store_close(struct cdp_store *s);
void cdp_user_rec_fini(struct cdp_user_rec *u);

extern const struct cdp_store_ops cdp_store_sqlite_ops;

#endif
