/* What the store backends (store_sqlite.c, store_pg.c) share, private to them: the logic of
 * merges, their undo, erasure and export, which is the same whatever the database, written once
 * in store.c over a small table of callbacks (struct cdp_store_io) that run each backend's own
 * statements. Not part of the seam in store.h. */
#ifndef CDP_STORE_STORE_IMPL_H
#define CDP_STORE_STORE_IMPL_H

#include "store/store.h"

/* The statements the shared code has a backend run; each backend keeps them under these numbers,
 * its own after them. $1 and $2 are the callbacks' a and b (text; NULL: SQL NULL, or none for a
 * statement of $1 alone). */
enum cdp_store_stmt {
    /* lists (cdp_store_io.list) */
    CDP_PERSON_IDS,        /* every id of profile $1 */
    CDP_PERSON_SESSIONS,   /* the session documents of the person $1, oldest first */
    CDP_PERSON_EVENTS,     /* the event documents of the person $1, oldest first; $2 the most
                            * rows as decimal text (NULL: all) */
    CDP_MERGE_ALIASES,     /* the ids of profile $1 */
    CDP_MERGE_SESSION_IDS, /* the ids of the sessions of the person $1 */
    CDP_MERGE_LATER,       /* a later merge than $1, not undone, whose survivor is the person $2 */
    /* runs (cdp_store_io.run) */
    CDP_ERASE_EVENTS,      /* erasing the person $1: its events first, while the ids say whose */
    CDP_ERASE_EVENT_INDEX, /* ... whatever indexes them (none: a backend runs nothing) */
    CDP_ERASE_SESSIONS,
    CDP_ERASE_PROFILES,
    CDP_ERASE_MERGES,
    CDP_ERASE_IDS,
    CDP_MERGE_EVENTS,     /* the events of the absorbed profile $1 name the survivor $2 */
    CDP_MERGE_SESSIONS,   /* ... its sessions go to $2 */
    CDP_MERGE_IDS,        /* ... its ids go to $2 */
    CDP_MERGE_DELETE,     /* ... and its document goes ($1 alone) */
    CDP_UNMERGE_IDS,      /* the ids in the JSON array $2 go back to profile $1 */
    CDP_UNMERGE_EVENTS,   /* ... the events collected under those ids name $1 again */
    CDP_UNMERGE_SESSIONS, /* ... the sessions in the JSON array $2 go back to $1 */
    CDP_MERGE_LOG_UNDONE, /* the merge record $1 was undone at $2 */
    CDP_STORE_NSTMTS      /* a backend numbers its own statements from here */
};

/* The other statements both backends have, each with SQL of its own: as X(NAME) for their
 * ST_NAME, numbered from ST_BEGIN (= CDP_STORE_NSTMTS) on, before each backend's own. */
/* clang-format off */
#define CDP_STORE_BACKEND_STMTS(X) \
    X(COMMIT) X(ROLLBACK) X(SAVEPOINT) X(RELEASE) X(ROLLBACK_TO) X(PROFILE_GET) X(PROFILE_PUT) \
    X(SESSION_GET) X(SESSION_PUT) X(SESSION_TOUCH) X(EVENT_PUT) X(EVENT_GET) \
    X(EVENTS_BY_PROFILE) X(EVENTS_COUNT_BY_PROFILE) X(ENTITY_KINDS) X(PROFILE_RESOLVE) \
    X(MERGE_LOG_PUT) X(MERGE_LOG_GET) X(MERGE_LOG_LIST) X(MERGE_LOG_COUNT) X(ENTITY_GET) \
    X(ENTITY_PUT) X(ENTITY_DELETE) X(ENTITY_LIST) X(ENTITY_LIST_DESC) X(ENTITY_COUNT) \
    X(ENTITY_VERSION) X(ENTITY_BUMP) X(USER_PUT) X(USER_GET) X(TOKEN_PUT) X(TOKEN_GET) \
    X(TOKEN_SLIDE) X(TOKEN_DELETE) X(USER_LIST) X(USER_COUNT) X(USER_DELETE) \
    X(TOKENS_DELETE_USER) X(AUDIT_PUT) X(AUDIT_LIST) X(AUDIT_COUNT) X(META_GET) X(META_PUT) \
    X(SEGMENT_COUNTS) X(PROFILES_SCAN)
/* clang-format on */

struct cdp_store_io {
    /* Runs list statement st and appends its first column, row by row, to arr: as strings, or
     * as cJSON_Raw text when raw. */
    int (*list)(struct cdp_store *s, enum cdp_store_stmt st, const char *a, const char *b, bool raw,
                cJSON *arr);
    /* Runs statement st; *changes (may be NULL) is how many rows it changed. */
    int (*run)(struct cdp_store *s, enum cdp_store_stmt st, const char *a, const char *b,
               long *changes);
    /* The id of the stored profile that alias belongs to, as a new string (free()). */
    int (*resolve)(struct cdp_store *s, const char *alias, char **pid);
    /* Keeps a merge record (its id, its survivor's id and the record itself). */
    int (*merge_log_put)(struct cdp_store *s, const char *id, const char *survivor,
                         const cJSON *record);
    /* Outside a transaction, opens a read snapshot and says so in *own; snapshot_end ends it. */
    int (*snapshot)(struct cdp_store *s, bool *own);
    int (*snapshot_end)(struct cdp_store *s);
};

/* Each backend's io (store.c finds a store's by its ops). */
extern const struct cdp_store_io cdp_store_sqlite_io, cdp_store_pg_io;

/* The operations of cdp_store_ops of the same names, for every backend, over its io. */
int cdp_store_profile_resolve(struct cdp_store *s, const char *alias, char *out, size_t outlen);
int cdp_store_profile_erase(struct cdp_store *s, const char *id, struct cdp_erasure_counts *out);
int cdp_store_profile_export(struct cdp_store *s, const char *id, long max_events, cJSON **out);
int cdp_store_profile_merge(struct cdp_store *s, cJSON *record);
int cdp_store_merge_undo(struct cdp_store *s, const char *id, const char *when, cJSON **out,
                         char *err, size_t errlen);

/* q, or (NULL) the query of every entity, by id. */
const struct cdp_entity_query *cdp_store_entity_query(const struct cdp_entity_query *q);

/* The columns of an event row, from its document (pointers into it). */
struct cdp_event_row {
    const char *id, *profile_id, *session_id, *type, *source_id;
    int64_t inserted; /* metadata.time.insert in microseconds (0: none) */
};
/* CDP_E_INVALID for an event without an id or a type. */
int cdp_store_event_row(const cJSON *e, struct cdp_event_row *r);

/* The columns of an audit record's row, from its document (pointers into it). */
struct cdp_audit_row {
    int64_t time; /* microseconds since the epoch */
    const char *user_id, *email, *kind, *entity_id;
};
/* CDP_E_INVALID for a record without an ISO time. */
int cdp_store_audit_row(const cJSON *rec, struct cdp_audit_row *r);

#endif
