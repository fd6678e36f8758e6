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

/* An installation keeps two sets of data apart, as Tracardi does: production, and staging,
 * where a team tries configuration on test traffic before deploying it (api/deploy.c). Each is
 * a store of its own (the embedded store: DIR/cdpd.db and DIR/staging/cdpd.db); users, tokens
 * and the installation's salt are production's, and staging gets the same salt. */
enum cdp_store_context { CDP_STORE_PRODUCTION, CDP_STORE_STAGING };
#define CDP_STORE_NCONTEXTS 2

struct cdp_store_opts {
    bool durable;           /* fsync every commit */
    bool manual_checkpoint; /* commits never checkpoint; the owner calls checkpoint() */
    /* which of the installation's stores (0: production) */
    enum cdp_store_context context;
};

struct cdp_user_rec {
    char id[64];
    char email[256];
    char pwhash[256]; /* argon2id string */
    cJSON *doc;       /* {id, email, full_name, roles[], disabled, expiration_timestamp} */
};

/* Which audit records audit_list returns (NULL / 0: any). */
struct cdp_audit_filter {
    const char *user; /* the acting user's id or e-mail */
    const char *kind; /* entity kind */
    int64_t since_us; /* recorded at or after, microseconds since the epoch */
};

/* What an erasure removed, row by row. */
struct cdp_erasure_counts {
    long profiles; /* profile documents (the survivor and any left by merges into it) */
    long ids;      /* ids the profile was known by, its own included */
    long sessions;
    long events;
};

/* Which config entities entity_list returns and in what order. The paths are JSON paths
 * ("$.name", "$.type.id") from the caller's own fixed list, never request text; a backend passes
 * them to its query as values, not as query text. */
struct cdp_entity_query {
    const char *sort;   /* the sort key's path; NULL: by id */
    bool desc;          /* descending (ties by id, descending too) */
    const char *where;  /* only entities whose value at this path ... */
    const char *equals; /* ... is this string; NULL where: every entity of the kind */
};

struct cdp_tql;
struct cdp_search;    /* store/query.h */
struct cdp_histogram; /* store/query.h */

/* One segment of a batch segmentation run. */
struct cdp_segment_pass {
    const char *name;           /* machine name */
    const struct cdp_tql *cond; /* flow/tql.h */
    bool remove_when_false;
    bool applied;    /* out: segments_apply did this segment */
    bool translated; /* out: ... in its query language (else by evaluating the condition in C) */
    long added;      /* out: profiles that joined */
    long removed;    /* out: profiles that left */
};

struct cdp_segment_batch {
    struct cdp_segment_pass *segs;
    size_t nsegs;
    int64_t now_us;         /* the condition's now() and the segmentation time */
    int chunk;              /* profiles read per step (0: the backend's choice) */
    int txn_rows;           /* most profile writes per transaction (0: the backend's choice) */
    bool (*stop)(void *ud); /* polled between steps; true ends the run with CDP_E_UNAVAILABLE */
    void *ud;
    long scanned; /* out: profiles read */
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
    /* The kinds of config entity stored (entity_put), as a new sorted array of strings. */
    int (*entity_kinds)(struct cdp_store *s, cJSON **out);

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

    /* Identity resolution (collect/identity.c). */
    /* The primary id of the stored profile that alias (any id of it) belongs to. */
    int (*profile_resolve)(struct cdp_store *s, const char *alias, char *out, size_t outlen);
    /* The ids of up to limit stored profiles in which every path of keys ({"data.contact.email
     * .main": value, ...}; dot paths of letters, digits and _) holds a value equal to its
     * scalar value, as a new array. CDP_E_INVALID for a path or value it cannot look up. */
    int (*profiles_find)(struct cdp_store *s, const cJSON *keys, int limit, cJSON **out);
    /* The store's side of a merge, inside the caller's transaction: every profile in
     * record.absorbed[].id gives its ids, sessions and events to record.survivor.id and its own
     * document is deleted; the caller then writes the merged survivor. Adds to each absorbed
     * entry the ids it had (ids), its sessions (sessions) and how many events moved (events),
     * then keeps the record under record.id so merge_undo can restore it. */
    int (*profile_merge)(struct cdp_store *s, cJSON *record);
    /* A merge record as kept (with the profiles as they were), or CDP_E_NOT_FOUND. */
    int (*merge_get)(struct cdp_store *s, const char *id, cJSON **out);
    /* Merge records, newest first: all of them, or those a person took part in (profile_id is
     * any id of a survivor or of a profile absorbed). */
    int (*merge_list)(struct cdp_store *s, const char *profile_id, int start, int limit,
                      cJSON **out, long *total);
    /* Undoes a merge inside the caller's transaction: the absorbed profiles come back as they
     * were with their ids, sessions and events, and the survivor as it was before the merge.
     * CDP_E_CONFLICT (why in err) when it was undone already or a later merge built on it;
     * *out is the record, now with its undone time. */
    int (*merge_undo)(struct cdp_store *s, const char *id, const char *when, cJSON **out, char *err,
                      size_t errlen);

    /* Config entities by kind ("event-source", ...) and id. */
    int (*entity_get)(struct cdp_store *s, const char *kind, const char *id, cJSON **out);
    int (*entity_put)(struct cdp_store *s, const char *kind, const char *id, const cJSON *doc);
    int (*entity_delete)(struct cdp_store *s, const char *kind, const char *id);
    /* A page of the entities of a kind that q selects, in its order (q NULL: all, by id), and
     * in *total how many it selects in all. */
    int (*entity_list)(struct cdp_store *s, const char *kind, const struct cdp_entity_query *q,
                       int start, int limit, cJSON **out, long *total);
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
    /* Users ordered by e-mail, as their documents (a new array; never the hash), and how many
     * there are. */
    int (*user_list)(struct cdp_store *s, int start, int limit, cJSON **out, long *total);
    /* Deletes a user (not their tokens: tokens_delete_user); CDP_E_NOT_FOUND when none. */
    int (*user_delete)(struct cdp_store *s, const char *id);
    /* Ends every token of a user but the one whose hash is keep (NULL: all of them). */
    int (*tokens_delete_user)(struct cdp_store *s, const char *user_id, const char *keep);
    /* The audit log of management changes. audit_put appends a record {id, time (ISO),
     * user: {id, email}, entity: {kind, id}, ...}; audit_list gives the matching records newest
     * first (a new array) and how many match. */
    int (*audit_put)(struct cdp_store *s, const cJSON *rec);
    int (*audit_list)(struct cdp_store *s, const struct cdp_audit_filter *f, int start, int limit,
                      cJSON **out, long *total);

    /* Catches up on work the backend defers to do in bulk (building secondary indexes); runs
     * inside the caller's transaction. Reads never depend on it having run. */
    int (*maintain)(struct cdp_store *s);
    /* Moves committed data from the write-ahead log into the main file without blocking
     * writers, and says how long the log still is (*log_pages, may be NULL). A backend without
     * such a log does nothing and says 0. */
    int (*checkpoint)(struct cdp_store *s, int *log_pages);

    /* Scale-out storage (the storage workers of src/store/cluster.c): idempotent writes of
     * documents collectors acknowledged, which may arrive more than once and out of order. The
     * document is written only when fence (the profile's or session's lock token, higher for
     * every newer update) is higher than the one it was last written with; 0 either way. NULL
     * in a backend that cannot be the shared store (SQLite). event_put is idempotent in such
     * a backend: an event whose id is stored already is left as it is. */
    int (*profile_put_fenced)(struct cdp_store *s, const cJSON *profile, int64_t fence);
    int (*session_put_fenced)(struct cdp_store *s, const cJSON *session, int64_t fence);
    /* A hint at the start of a batch: the ids of the profiles and sessions its requests name
     * (NULLs allowed). A backend that locks or fetches them one by one may do it for all at
     * once (the scale-out store); NULL where there is nothing to gain. */
    int (*prefetch)(struct cdp_store *s, const char *const *profiles, size_t np,
                    const char *const *sessions, size_t ns);

    /* Installation-wide values (salt, schema version). */
    int (*meta_get)(struct cdp_store *s, const char *key, char *out, size_t outlen);
    int (*meta_put)(struct cdp_store *s, const char *key, const char *value);

    /* Batch segmentation (job/segment.c). Evaluates each segment's condition, against the
     * profile alone as of b->now_us, over every stored profile in the backend's own query
     * language where the backend can express the condition exactly; adds the machine name to
     * profile.segments where it holds and, with remove_when_false, removes it where it does
     * not, as cdp_segment_apply does, stamping metadata.time.segmentation. The segments of one
     * call must not read what segmentation writes (segments, metadata.time.segmentation): they
     * may be applied in any order. A backend may also evaluate, with cdp_tql_eval in the same
     * pass, conditions it cannot translate, when it translated others. Works in short
     * transactions of its own (call it outside one) so writers are never held up for long.
     * Sets applied (and translated) on the segments it did; CDP_E_UNSUPPORTED when it could
     * translate none (then it did nothing). */
    int (*segments_apply)(struct cdp_store *s, struct cdp_segment_batch *b);
    /* Up to limit profiles whose id sorts after after_id ("" from the start), by id, as a new
     * array (the fallback of segments_apply pages through profiles with it). */
    int (*profiles_scan)(struct cdp_store *s, const char *after_id, int limit, cJSON **out);

    /* Searches (api/search.c, api/dashboard.c; store/query.h has the structs). A backend
     * compiles q->where through store/query.h into its own query language and evaluates what
     * it cannot express with cdp_tql_eval on the documents the rest selects, so the results are
     * always the evaluator's. search: a page of documents (a new array) and in *total how many
     * match (up to q->max_total). histogram: {"total": n, "counts": [per bucket]}, or with
     * h->group_by {"total": n, "groups": [{"name": value, "counts": [...]}]}; q must be ranged.
     * terms: the text values at the dot path field (each distinct text item of a list) with
     * how many documents hold them, most first: [{"name": value, "value": n}]. */
    int (*search)(struct cdp_store *s, const struct cdp_search *q, cJSON **out, long *total);
    int (*histogram)(struct cdp_store *s, const struct cdp_search *q, const struct cdp_histogram *h,
                     cJSON **out);
    int (*terms)(struct cdp_store *s, const struct cdp_search *q, const char *field, int limit,
                 cJSON **out);
};

struct cdp_store {
    const struct cdp_store_ops *ops;
    enum cdp_store_context context; /* set by cdp_store_open */
};

/* Opens a store from a URL: "sqlite:PATH" or a plain directory (the embedded store in it), in
 * the context o asks for (o NULL: production). A staging store that has no salt yet gets
 * production's. */
int cdp_store_open(struct cdp_store **out, const char *url, const struct cdp_store_opts *o,
                   char *err, size_t errlen);
/* The URL of the store that holds context c of the installation at url, for whoever can be
 * handed one URL only (production: url itself); CDP_E_CONFIG with why in err. */
int cdp_store_context_url(const char *url, enum cdp_store_context c, char *out, size_t outlen,
                          char *err, size_t errlen);
/* "production" or "staging"; and back, false for any other name. */
const char *cdp_store_context_name(enum cdp_store_context c);
bool cdp_store_context_parse(const char *name, enum cdp_store_context *out);
void cdp_store_close(struct cdp_store *s);
void cdp_user_rec_fini(struct cdp_user_rec *u);

extern const struct cdp_store_ops cdp_store_sqlite_ops;
/* PostgreSQL (store_pg.c), as postgres: and as postgresql: URLs. */
extern const struct cdp_store_ops cdp_store_pg_ops, cdp_store_postgresql_ops;

#endif
