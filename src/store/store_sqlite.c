/* The embedded store: one SQLite database in WAL mode in the data directory. Documents are kept
 * as JSON text next to the columns that look-ups need; every statement is prepared once per
 * connection and bound, never built from input. */
#include "store/store.h"
#include "store/sqlite_tql.h"
#include "store/store_impl.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"

#include <ctype.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define ST_NAME(name) ST_##name,
enum stmt_id {
    ST_BEGIN = CDP_STORE_NSTMTS, /* before it: enum cdp_store_stmt (store_impl.h) */
    CDP_STORE_BACKEND_STMTS(ST_NAME)
    /* this backend's own */
    ST_PROFILE_ID_PUT,
    ST_INDEX_EVENTS,
    ST_INDEX_EVENTS_MARK,
    ST_DATA_VERSION,
    ST_COUNT
};

/* Events get into event_profile in bulk (cdp_store_ops.maintain), not one by one: an index
 * ordered by profile dirties a random page per event (measured 13k vs 15.7-17.7k req/s). Reads
 * add the tail of events not indexed yet, so they never wait for it. */
#define INDEXED_UPTO                                                                               \
    "coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'events-indexed'), 0)"

/* A person: every id of the profile ?1 (its own, and those of profiles merged into it). */
#define ALIASES_OF_1 "(SELECT alias FROM profile_id WHERE profile_id = ?1)"

/* Every id of the person any of whose ids ?1 is (?1 itself when no profile has it). */
#define PERSON_OF_1                                                                                \
    "(SELECT alias FROM profile_id WHERE profile_id = (SELECT profile_id FROM profile_id"          \
    " WHERE alias = ?1) UNION SELECT ?1)"

/* The rowids of the person's events: indexed in event_profile, and the tail not indexed yet. */
#define PERSON_EVENT_ROWIDS                                                                        \
    "(SELECT event_rowid FROM event_profile WHERE profile_id IN " ALIASES_OF_1                     \
    " UNION ALL SELECT rowid FROM event WHERE rowid > " INDEXED_UPTO                               \
    " AND profile_id IN " ALIASES_OF_1 ")"

/* The filter of entity_list: the value at JSON path ?4 equals ?5, or ?4 is NULL. */
#define ENTITY_WHERE "(?4 IS NULL OR json_extract(doc, ?4) = ?5)"

/* The audit records of user ?1 (id or e-mail) and entity kind ?2 (NULL: any) since ?3. */
#define AUDIT_MATCH                                                                                \
    "(?1 IS NULL OR user_id = ?1 OR email = lower(?1)) AND (?2 IS NULL OR kind = ?2)"              \
    " AND time >= ?3"

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT req",
    [ST_RELEASE] = "RELEASE req",
    [ST_ROLLBACK_TO] = "ROLLBACK TO req",
    [ST_PROFILE_GET] = "SELECT p.doc FROM profile_id a JOIN profile p ON p.id = a.profile_id "
                       "WHERE a.alias = ?1",
    [ST_PROFILE_PUT] =
        "INSERT INTO profile(id, doc, updated) VALUES(?1, ?2, ?3) "
        "ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, updated = excluded.updated",
    [ST_PROFILE_ID_PUT] = "INSERT OR IGNORE INTO profile_id(alias, profile_id) VALUES(?1, ?2)",
    [ST_SESSION_GET] = "SELECT doc FROM session WHERE id = ?1",
    [ST_SESSION_PUT] = "INSERT INTO session(id, profile_id, doc, updated) VALUES(?1, ?2, ?3, ?4) "
                       "ON CONFLICT(id) DO UPDATE SET profile_id = excluded.profile_id, "
                       "doc = excluded.doc, updated = excluded.updated",
    [ST_SESSION_TOUCH] = "UPDATE session SET doc = json_set(doc, '$.metadata.time.update', ?2, "
                         "'$.metadata.time.duration', ?3, '$.metadata.status', ?4), "
                         "updated = ?5 WHERE id = ?1",
    [ST_EVENT_PUT] = "INSERT OR REPLACE INTO event(id, profile_id, session_id, type, source_id, "
                     "inserted, doc) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_EVENT_GET] = "SELECT doc FROM event WHERE id = ?1",
    /* A person's events (those of every id of the profile): indexed in event_profile, and the
     * tail not indexed yet. */
    [ST_EVENTS_BY_PROFILE] =
        "SELECT doc FROM event WHERE rowid IN ("
        " SELECT event_rowid FROM event_profile WHERE profile_id IN " PERSON_OF_1
        " UNION ALL SELECT rowid FROM event WHERE rowid > " INDEXED_UPTO
        " AND profile_id IN " PERSON_OF_1 ") ORDER BY inserted DESC, rowid DESC LIMIT ?3 OFFSET ?2",
    [ST_EVENTS_COUNT_BY_PROFILE] =
        "SELECT count(*) FROM event WHERE rowid IN ("
        " SELECT event_rowid FROM event_profile WHERE profile_id IN " PERSON_OF_1
        " UNION ALL SELECT rowid FROM event WHERE rowid > " INDEXED_UPTO
        " AND profile_id IN " PERSON_OF_1 ")",
    [ST_ENTITY_KINDS] = "SELECT DISTINCT kind FROM entity ORDER BY kind",
    [ST_INDEX_EVENTS] = "INSERT OR IGNORE INTO event_profile(profile_id, inserted, event_rowid)"
                        " SELECT profile_id, inserted, rowid FROM event"
                        " WHERE rowid > " INDEXED_UPTO " AND rowid <= " INDEXED_UPTO " + ?1"
                        " AND profile_id IS NOT NULL ORDER BY profile_id, inserted",
    [ST_INDEX_EVENTS_MARK] = "INSERT INTO meta(key, value) SELECT 'events-indexed',"
                             " min(max(rowid), " INDEXED_UPTO " + ?1) FROM event WHERE true"
                             " ON CONFLICT(key) DO UPDATE SET value = excluded.value"
                             " WHERE excluded.value IS NOT NULL",
    [ST_PROFILE_RESOLVE] = "SELECT a.profile_id FROM profile_id a JOIN profile p ON p.id = "
                           "a.profile_id WHERE a.alias = ?1",
    [CDP_PERSON_IDS] = "SELECT alias FROM profile_id WHERE profile_id = ?1 ORDER BY alias",
    [CDP_PERSON_SESSIONS] =
        "SELECT doc FROM session WHERE profile_id IN " ALIASES_OF_1 " ORDER BY updated, id",
    [CDP_PERSON_EVENTS] = "SELECT doc FROM event WHERE rowid IN " PERSON_EVENT_ROWIDS
                          " ORDER BY inserted, rowid LIMIT ?2",
    /* Erasure: the events go first, while the ids still say whose they are. Deleting the rows
     * of event (not only their index entries) is what keeps maintain() from indexing them
     * again, and seq never being reused keeps stale entries from naming another event. */
    [CDP_ERASE_EVENTS] = "DELETE FROM event WHERE rowid IN " PERSON_EVENT_ROWIDS,
    [CDP_ERASE_EVENT_INDEX] = "DELETE FROM event_profile WHERE profile_id IN " ALIASES_OF_1,
    [CDP_ERASE_SESSIONS] = "DELETE FROM session WHERE profile_id IN " ALIASES_OF_1,
    [CDP_ERASE_PROFILES] = "DELETE FROM profile WHERE id IN " ALIASES_OF_1,
    [CDP_ERASE_IDS] = "DELETE FROM profile_id WHERE profile_id = ?1",
    /* Merge records hold the profiles as they were: they go with the person. */
    [CDP_ERASE_MERGES] = "DELETE FROM merge_log WHERE survivor IN " ALIASES_OF_1
                         " OR id IN (SELECT m.id FROM merge_log m, json_each(m.doc, '$.absorbed') a"
                         " WHERE json_extract(a.value, '$.id') IN " ALIASES_OF_1 ")",
    /* A merge moves the absorbed profile ?1's rows to the survivor ?2. Event rows keep the
     * profile id they were collected under (the column; event_profile indexes it), so an undo
     * knows whose they were; their documents name the survivor. */
    [CDP_MERGE_ALIASES] = "SELECT alias FROM profile_id WHERE profile_id = ?1 ORDER BY alias",
    [CDP_MERGE_SESSION_IDS] =
        "SELECT id FROM session WHERE profile_id IN " ALIASES_OF_1 " ORDER BY id",
    [CDP_MERGE_EVENTS] = "UPDATE event SET doc = json_set(doc, '$.profile.id', ?2)"
                         " WHERE rowid IN " PERSON_EVENT_ROWIDS,
    [CDP_MERGE_SESSIONS] = "UPDATE session SET profile_id = ?2,"
                           " doc = json_set(doc, '$.profile.id', ?2)"
                           " WHERE profile_id IN " ALIASES_OF_1,
    [CDP_MERGE_IDS] = "UPDATE OR REPLACE profile_id SET profile_id = ?2 WHERE profile_id = ?1",
    [CDP_MERGE_DELETE] = "DELETE FROM profile WHERE id = ?1",
    [ST_MERGE_LOG_PUT] = "INSERT INTO merge_log(id, survivor, time, doc) VALUES(?1, ?2, ?3, ?4)",
    [ST_MERGE_LOG_GET] = "SELECT doc FROM merge_log WHERE id = ?1",
    /* ?1 NULL: every record; else those of the person any of whose ids ?1 is. */
    [ST_MERGE_LOG_LIST] =
        "SELECT doc FROM merge_log WHERE ?1 IS NULL OR survivor IN " PERSON_OF_1
        " OR id IN (SELECT m.id FROM merge_log m, json_each(m.doc, '$.absorbed') a"
        " WHERE json_extract(a.value, '$.id') IN " PERSON_OF_1 ")"
        " ORDER BY seq DESC LIMIT ?3 OFFSET ?2",
    [ST_MERGE_LOG_COUNT] =
        "SELECT count(*) FROM merge_log WHERE ?1 IS NULL OR survivor IN " PERSON_OF_1
        " OR id IN (SELECT m.id FROM merge_log m, json_each(m.doc, '$.absorbed') a"
        " WHERE json_extract(a.value, '$.id') IN " PERSON_OF_1 ")",
    /* A later merge, not undone, whose survivor is (now) the same person as ?2. */
    [CDP_MERGE_LATER] = "SELECT id FROM merge_log WHERE seq > (SELECT seq FROM merge_log"
                        " WHERE id = ?1) AND json_extract(doc, '$.undone') IS NULL"
                        " AND survivor IN (SELECT alias FROM profile_id WHERE profile_id = ?2)"
                        " ORDER BY seq LIMIT 1",
    [CDP_UNMERGE_IDS] = "UPDATE OR REPLACE profile_id SET profile_id = ?1"
                        " WHERE alias IN (SELECT value FROM json_each(?2))",
    [CDP_UNMERGE_EVENTS] =
        "UPDATE event SET doc = json_set(doc, '$.profile.id', ?1) WHERE rowid IN ("
        "SELECT event_rowid FROM event_profile WHERE profile_id IN (SELECT value FROM "
        "json_each(?2))"
        " UNION ALL SELECT rowid FROM event WHERE rowid > " INDEXED_UPTO
        " AND profile_id IN (SELECT value FROM json_each(?2)))",
    [CDP_UNMERGE_SESSIONS] = "UPDATE session SET profile_id = ?1,"
                             " doc = json_set(doc, '$.profile.id', ?1)"
                             " WHERE id IN (SELECT value FROM json_each(?2))",
    [CDP_MERGE_LOG_UNDONE] = "UPDATE merge_log SET doc = json_set(doc, '$.undone', ?2)"
                             " WHERE id = ?1",
    [ST_ENTITY_GET] = "SELECT doc FROM entity WHERE kind = ?1 AND id = ?2",
    [ST_ENTITY_PUT] = "INSERT INTO entity(kind, id, doc, updated) VALUES(?1, ?2, ?3, ?4) "
                      "ON CONFLICT(kind, id) DO UPDATE SET doc = excluded.doc, "
                      "updated = excluded.updated",
    [ST_ENTITY_DELETE] = "DELETE FROM entity WHERE kind = ?1 AND id = ?2",
    /* ?4/?5: only documents whose value at JSON path ?4 is ?5 (?4 NULL: all); ?6: the JSON path
     * of the sort key (NULL: by id alone). Paths come from the callers' fixed lists, as values. */
    [ST_ENTITY_LIST] = "SELECT doc FROM entity WHERE kind = ?1 AND " ENTITY_WHERE
                       " ORDER BY json_extract(doc, ?6) COLLATE NOCASE, id LIMIT ?3 OFFSET ?2",
    [ST_ENTITY_LIST_DESC] = "SELECT doc FROM entity WHERE kind = ?1 AND " ENTITY_WHERE
                            " ORDER BY json_extract(doc, ?6) COLLATE NOCASE DESC, id DESC"
                            " LIMIT ?3 OFFSET ?2",
    [ST_ENTITY_COUNT] = "SELECT count(*) FROM entity WHERE kind = ?1 AND " ENTITY_WHERE,
    [ST_ENTITY_VERSION] = "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'entity-version'",
    [ST_ENTITY_BUMP] = "INSERT INTO meta(key, value) VALUES('entity-version', 1) "
                       "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
    [ST_DATA_VERSION] = "PRAGMA data_version",
    [ST_USER_PUT] = "INSERT INTO user(id, email, pwhash, doc) VALUES(?1, ?2, ?3, ?4) "
                    "ON CONFLICT(id) DO UPDATE SET email = excluded.email, "
                    "pwhash = excluded.pwhash, doc = excluded.doc",
    [ST_USER_GET] = "SELECT id, email, pwhash, doc FROM user WHERE id = ?1 OR email = lower(?1)",
    [ST_TOKEN_PUT] = "INSERT INTO token(hash, user_id, expires) VALUES(?1, ?2, ?3)",
    [ST_TOKEN_GET] = "SELECT user_id FROM token WHERE hash = ?1 AND expires > ?2",
    [ST_TOKEN_SLIDE] = "UPDATE token SET expires = ?2 WHERE hash = ?1 AND expires < ?2 - ?3",
    [ST_TOKEN_DELETE] = "DELETE FROM token WHERE hash = ?1",
    [ST_USER_LIST] = "SELECT doc FROM user ORDER BY email LIMIT ?2 OFFSET ?1",
    [ST_USER_COUNT] = "SELECT count(*) FROM user",
    [ST_USER_DELETE] = "DELETE FROM user WHERE id = ?1",
    [ST_TOKENS_DELETE_USER] = "DELETE FROM token WHERE user_id = ?1 AND hash IS NOT ?2",
    [ST_AUDIT_PUT] = "INSERT INTO audit(time, user_id, email, kind, entity_id, doc)"
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_AUDIT_LIST] =
        "SELECT doc FROM audit WHERE " AUDIT_MATCH " ORDER BY seq DESC LIMIT ?5 OFFSET ?4",
    [ST_AUDIT_COUNT] = "SELECT count(*) FROM audit WHERE " AUDIT_MATCH,
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_SEGMENT_COUNTS] =
        "SELECT s.value, count(*) FROM profile p, json_each(p.doc, '$.segments') s "
        "WHERE s.type = 'text' GROUP BY s.value",
    [ST_META_PUT] = "INSERT INTO meta(key, value) VALUES(?1, ?2) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [ST_PROFILES_SCAN] = "SELECT doc FROM profile WHERE id > ?1 ORDER BY id LIMIT ?2",
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS profile(id TEXT PRIMARY KEY, doc TEXT NOT NULL,"
    " updated INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS profile_id(alias TEXT PRIMARY KEY, profile_id TEXT NOT NULL)"
    " WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS profile_id_by_profile ON profile_id(profile_id);"
    "CREATE TABLE IF NOT EXISTS merge_log(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " id TEXT NOT NULL UNIQUE, survivor TEXT NOT NULL, time INTEGER NOT NULL, doc TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS merge_log_by_survivor ON merge_log(survivor);"
    "CREATE TABLE IF NOT EXISTS session(id TEXT PRIMARY KEY, profile_id TEXT, doc TEXT NOT NULL,"
    " updated INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS session_by_profile ON session(profile_id);"
    /* seq never reuses a number (AUTOINCREMENT), so "events after the indexed watermark" holds
     * even after the newest event is deleted. */
    "CREATE TABLE IF NOT EXISTS event(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " id TEXT NOT NULL UNIQUE, profile_id TEXT, session_id TEXT, type TEXT NOT NULL,"
    " source_id TEXT, inserted INTEGER NOT NULL, doc TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS event_profile(profile_id TEXT NOT NULL, inserted INTEGER NOT NULL,"
    " event_rowid INTEGER NOT NULL, PRIMARY KEY(profile_id, inserted, event_rowid)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS event_by_time ON event(inserted);"
    /* searches and counts by type (store/sqlite_tql.c): a type's events in time order */
    "CREATE INDEX IF NOT EXISTS event_by_type ON event(type, inserted);"
    "CREATE TABLE IF NOT EXISTS entity(kind TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL,"
    " updated INTEGER NOT NULL, PRIMARY KEY(kind, id));"
    "CREATE TABLE IF NOT EXISTS user(id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE,"
    " pwhash TEXT NOT NULL, doc TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS token(hash TEXT PRIMARY KEY, user_id TEXT NOT NULL,"
    " expires INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS token_by_user ON token(user_id);"
    "CREATE TABLE IF NOT EXISTS audit(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " time INTEGER NOT NULL, user_id TEXT, email TEXT, kind TEXT, entity_id TEXT,"
    " doc TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS audit_by_kind ON audit(kind, seq);"
    "CREATE INDEX IF NOT EXISTS audit_by_user ON audit(user_id, seq);"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;";

struct sqlite_store {
    struct cdp_store base;
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    struct cdp_buf text; /* documents are printed here, reused by every write */
    char *key_index[16]; /* profile fields known to have a look-up index (profiles_find) */
    int nkey_index;
};

#define SS(s) ((struct sqlite_store *)(s))

static int db_err(struct sqlite_store *s, const char *what)
{
    cdp_error("sqlite: %s: %s", what, sqlite3_errmsg(s->db));
    return CDP_E_STORE;
}

static sqlite3_stmt *stmt(struct sqlite_store *s, enum stmt_id id)
{
    sqlite3_stmt *st = s->st[id];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

static int step_done(struct sqlite_store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : db_err(s, what);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* Runs a one-row SELECT whose first column is a JSON document. */
static int get_doc(struct sqlite_store *s, sqlite3_stmt *st, cJSON **out)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return CDP_E_NOT_FOUND;
    }
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return db_err(s, "select");
    }
    const char *txt = (const char *)sqlite3_column_text(st, 0);
    int n = sqlite3_column_bytes(st, 0);
    *out = cdp_json_parse(txt, (size_t)n, NULL);
    sqlite3_reset(st);
    return *out ? 0 : CDP_E_STORE;
}

static int get_docs(struct sqlite_store *s, sqlite3_stmt *st, cJSON **out)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return CDP_E_NOMEM;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *txt = (const char *)sqlite3_column_text(st, 0);
        cJSON *d = cdp_json_parse(txt, (size_t)sqlite3_column_bytes(st, 0), NULL);
        if (d)
            cJSON_AddItemToArray(arr, d);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(arr);
        return db_err(s, "select list");
    }
    *out = arr;
    return 0;
}

/* Binds a document as text printed into the connection's buffer, which stays untouched until
 * the statement has run. */
static int bind_doc(struct sqlite_store *s, sqlite3_stmt *st, int i, const cJSON *doc)
{
    s->text.len = 0;
    if (cdp_json_write(&s->text, doc))
        return CDP_E_NOMEM;
    sqlite3_bind_text(st, i, s->text.data, (int)s->text.len, SQLITE_STATIC);
    return 0;
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

/* SQLite's own busy timeout sleeps up to 100 ms between tries, far longer than the locks here are
 * held (a commit, a checkpoint's last step): poll every 200 us, give up after 10 s. */
static int busy_wait(void *ud, int tries)
{
    (void)ud;
    if (tries >= 50000)
        return 0;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 200 * 1000};
    nanosleep(&ts, NULL);
    return 1;
}

static void sq_close(struct cdp_store *base)
{
    struct sqlite_store *s = SS(base);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    cdp_buf_fini(&s->text);
    for (int i = 0; i < s->nkey_index; i++)
        free(s->key_index[i]);
    free(s);
}

static int sq_open(struct cdp_store **out, const char *location, const struct cdp_store_opts *o,
                   char *err, size_t errlen)
{
    char path[1024];
    struct stat sb;
    /* A directory (existing or to be made) holds cdpd.db; anything else is the file itself. */
    size_t n = strlen(location);
    bool is_dir = (stat(location, &sb) == 0 && S_ISDIR(sb.st_mode)) ||
                  (n > 3 && strcmp(location + n - 3, ".db") != 0);
    if (is_dir) {
        if (mkdir(location, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create data directory %s: %s", location, strerror(errno));
            return CDP_E_IO;
        }
        snprintf(path, sizeof(path), "%s/cdpd.db", location);
    } else {
        snprintf(path, sizeof(path), "%s", location);
    }
    struct sqlite_store *s = calloc(1, sizeof(*s));
    if (!s)
        return CDP_E_NOMEM;
    s->base.ops = &cdp_store_sqlite_ops;
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "?");
        goto fail;
    }
    sqlite3_busy_handler(s->db, busy_wait, NULL);
    char pragmas[256];
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA foreign_keys=OFF;"
             "PRAGMA cache_size=-8000; PRAGMA wal_autocheckpoint=%d;",
             o && o->durable ? "FULL" : "NORMAL", o && o->manual_checkpoint ? 0 : 1000);
    char *msg = NULL;
    if (sqlite3_exec(s->db, pragmas, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(s->db, schema_sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot prepare %s: %s", path, msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        goto fail;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                               NULL) != SQLITE_OK) {
            snprintf(err, errlen, "cannot prepare statement %d: %s", i, sqlite3_errmsg(s->db));
            goto fail;
        }
    }
    *out = &s->base;
    return 0;
fail:
    sq_close(&s->base);
    return CDP_E_STORE;
}

static int run(struct cdp_store *base, enum stmt_id id, const char *what)
{
    struct sqlite_store *s = SS(base);
    return step_done(s, stmt(s, id), what);
}

static int sq_begin(struct cdp_store *s)
{
    return run(s, ST_BEGIN, "begin");
}

static int sq_commit(struct cdp_store *s)
{
    return run(s, ST_COMMIT, "commit");
}

static int sq_rollback(struct cdp_store *s)
{
    return run(s, ST_ROLLBACK, "rollback");
}

static int sq_savepoint(struct cdp_store *s)
{
    return run(s, ST_SAVEPOINT, "savepoint");
}

static int sq_release(struct cdp_store *s)
{
    return run(s, ST_RELEASE, "release");
}

static int sq_rollback_to(struct cdp_store *s)
{
    int rc = run(s, ST_ROLLBACK_TO, "rollback to");
    return rc ? rc : run(s, ST_RELEASE, "release");
}

static int get_by_id(struct cdp_store *base, enum stmt_id id, const char *key, cJSON **out)
{
    struct sqlite_store *s = SS(base);
    sqlite3_stmt *st = stmt(s, id);
    bind_text(st, 1, key);
    return get_doc(s, st, out);
}

static int sq_profile_get(struct cdp_store *s, const char *id, cJSON **out)
{
    return get_by_id(s, ST_PROFILE_GET, id, out);
}

static int sq_profile_put(struct cdp_store *base, const cJSON *p)
{
    struct sqlite_store *s = SS(base);
    const char *id = cdp_json_str(p, "id");
    if (!id)
        return CDP_E_INVALID;
    sqlite3_stmt *st = stmt(s, ST_PROFILE_PUT);
    bind_text(st, 1, id);
    if (bind_doc(s, st, 2, p))
        return CDP_E_NOMEM;
    sqlite3_bind_int64(st, 3, now_s());
    int rc = step_done(s, st, "profile put");
    if (rc)
        return rc;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(p, "ids");
    const cJSON *it;
    st = stmt(s, ST_PROFILE_ID_PUT);
    bind_text(st, 1, id);
    bind_text(st, 2, id);
    if ((rc = step_done(s, st, "profile id put")))
        return rc;
    cJSON_ArrayForEach(it, ids)
    {
        if (!cJSON_IsString(it) || strcmp(it->valuestring, id) == 0)
            continue;
        st = stmt(s, ST_PROFILE_ID_PUT);
        bind_text(st, 1, it->valuestring);
        bind_text(st, 2, id);
        if ((rc = step_done(s, st, "profile id put")))
            return rc;
    }
    return 0;
}

static int sq_session_get(struct cdp_store *s, const char *id, cJSON **out)
{
    return get_by_id(s, ST_SESSION_GET, id, out);
}

static int sq_session_put(struct cdp_store *base, const cJSON *d)
{
    struct sqlite_store *s = SS(base);
    const char *id = cdp_json_str(d, "id");
    if (!id)
        return CDP_E_INVALID;
    sqlite3_stmt *st = stmt(s, ST_SESSION_PUT);
    bind_text(st, 1, id);
    bind_text(st, 2, cdp_json_str(d, "profile.id"));
    if (bind_doc(s, st, 3, d))
        return CDP_E_NOMEM;
    sqlite3_bind_int64(st, 4, now_s());
    int rc = step_done(s, st, "session put");
    return rc;
}

static int sq_session_touch(struct cdp_store *base, const char *id, const char *update,
                            double duration, const char *status)
{
    struct sqlite_store *s = SS(base);
    sqlite3_stmt *st = stmt(s, ST_SESSION_TOUCH);
    bind_text(st, 1, id);
    bind_text(st, 2, update);
    sqlite3_bind_double(st, 3, duration);
    bind_text(st, 4, status);
    sqlite3_bind_int64(st, 5, now_s());
    return step_done(s, st, "session touch");
}

static int sq_event_put(struct cdp_store *base, const cJSON *e)
{
    struct sqlite_store *s = SS(base);
    struct cdp_event_row r;
    if (cdp_store_event_row(e, &r))
        return CDP_E_INVALID;
    sqlite3_stmt *st = stmt(s, ST_EVENT_PUT);
    bind_text(st, 1, r.id);
    bind_text(st, 2, r.profile_id);
    bind_text(st, 3, r.session_id);
    bind_text(st, 4, r.type);
    bind_text(st, 5, r.source_id);
    sqlite3_bind_int64(st, 6, r.inserted);
    if (bind_doc(s, st, 7, e))
        return CDP_E_NOMEM;
    return step_done(s, st, "event put");
}

static int sq_event_get(struct cdp_store *s, const char *id, cJSON **out)
{
    return get_by_id(s, ST_EVENT_GET, id, out);
}

/* Runs a one-row SELECT of a count. */
static int get_count(struct sqlite_store *s, sqlite3_stmt *st, long *out)
{
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : db_err(s, "count");
}

/* A page of documents by one key (?1; ?2 offset, ?3 limit) and the key's total. */
static int page_by(struct sqlite_store *s, enum stmt_id count, enum stmt_id list, const char *key,
                   int start, int limit, cJSON **out, long *total)
{
    sqlite3_stmt *st = stmt(s, count);
    bind_text(st, 1, key);
    int rc = get_count(s, st, total);
    if (rc)
        return rc;
    st = stmt(s, list);
    bind_text(st, 1, key);
    sqlite3_bind_int(st, 2, start);
    sqlite3_bind_int(st, 3, limit);
    return get_docs(s, st, out);
}

static int sq_events_by_profile(struct cdp_store *base, const char *profile_id, int start,
                                int limit, cJSON **out, long *total)
{
    return page_by(SS(base), ST_EVENTS_COUNT_BY_PROFILE, ST_EVENTS_BY_PROFILE, profile_id, start,
                   limit, out, total);
}

static int sq_entity_kinds(struct cdp_store *base, cJSON **out)
{
    struct sqlite_store *s = SS(base);
    sqlite3_stmt *st = stmt(s, ST_ENTITY_KINDS);
    cJSON *kinds = cJSON_CreateArray();
    int rc = kinds ? SQLITE_ROW : SQLITE_NOMEM;
    while (rc == SQLITE_ROW && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *k = cJSON_CreateString((const char *)sqlite3_column_text(st, 0));
        if (!k || !cJSON_AddItemToArray(kinds, k)) {
            cJSON_Delete(k);
            rc = SQLITE_NOMEM;
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(kinds);
        return rc == SQLITE_NOMEM ? CDP_E_NOMEM : db_err(s, "entity kinds");
    }
    *out = kinds;
    return 0;
}

/* The profile id that alias resolves to, copied into a new string (free()). */
static int resolve_profile(struct sqlite_store *s, const char *alias, char **out)
{
    sqlite3_stmt *st = stmt(s, ST_PROFILE_RESOLVE);
    bind_text(st, 1, alias);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? CDP_E_NOT_FOUND : db_err(s, "profile resolve");
    }
    const char *v = (const char *)sqlite3_column_text(st, 0);
    *out = v ? strdup(v) : NULL;
    sqlite3_reset(st);
    return *out ? 0 : CDP_E_NOMEM;
}

/* Appends the first column of each row to arr: as a string, or as raw JSON text. */
static int add_column(struct sqlite_store *s, sqlite3_stmt *st, cJSON *arr, bool raw,
                      const char *what)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        cJSON *item = raw ? cJSON_CreateRaw(v ? v : "null") : cJSON_CreateString(v ? v : "");
        if (!item || !cJSON_AddItemToArray(arr, item)) {
            cJSON_Delete(item);
            sqlite3_reset(st);
            return CDP_E_NOMEM;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : db_err(s, what);
}

/* What a failure of each statement of enum cdp_store_stmt is logged as. */
static const char *const shared_what[CDP_STORE_NSTMTS] = {
    [CDP_PERSON_IDS] = "select column",
    [CDP_PERSON_SESSIONS] = "select column",
    [CDP_PERSON_EVENTS] = "select column",
    [CDP_MERGE_ALIASES] = "select column",
    [CDP_MERGE_SESSION_IDS] = "select column",
    [CDP_MERGE_LATER] = "later merges",
    [CDP_ERASE_EVENTS] = "erase",
    [CDP_ERASE_EVENT_INDEX] = "erase",
    [CDP_ERASE_SESSIONS] = "erase",
    [CDP_ERASE_PROFILES] = "erase",
    [CDP_ERASE_MERGES] = "erase",
    [CDP_ERASE_IDS] = "erase",
    [CDP_MERGE_EVENTS] = "merge",
    [CDP_MERGE_SESSIONS] = "merge",
    [CDP_MERGE_IDS] = "merge",
    [CDP_MERGE_DELETE] = "merge",
    [CDP_UNMERGE_IDS] = "merge",
    [CDP_UNMERGE_EVENTS] = "merge",
    [CDP_UNMERGE_SESSIONS] = "merge",
    [CDP_MERGE_LOG_UNDONE] = "merge",
};

/* Binds ?1 = a and ?2 = b (unbound, so NULL, when b is NULL) to shared statement id. */
static sqlite3_stmt *shared(struct sqlite_store *s, enum cdp_store_stmt id, const char *a,
                            const char *b)
{
    sqlite3_stmt *st = stmt(s, (enum stmt_id)id);
    bind_text(st, 1, a);
    if (id == CDP_PERSON_EVENTS) /* ?2 is the limit: -1 for none */
        sqlite3_bind_int64(st, 2, b ? strtoll(b, NULL, 10) : -1);
    else if (b)
        bind_text(st, 2, b);
    return st;
}

static int sq_list(struct cdp_store *base, enum cdp_store_stmt id, const char *a, const char *b,
                   bool raw, cJSON *arr)
{
    struct sqlite_store *s = SS(base);
    return add_column(s, shared(s, id, a, b), arr, raw, shared_what[id]);
}

static int sq_run(struct cdp_store *base, enum cdp_store_stmt id, const char *a, const char *b,
                  long *changes)
{
    struct sqlite_store *s = SS(base);
    int rc = step_done(s, shared(s, id, a, b), shared_what[id]);
    if (changes)
        *changes = rc ? 0 : (long)sqlite3_changes(s->db);
    return rc;
}

static int sq_resolve(struct cdp_store *base, const char *alias, char **pid)
{
    return resolve_profile(SS(base), alias, pid);
}

static int sq_merge_log_put(struct cdp_store *base, const char *id, const char *survivor,
                            const cJSON *record)
{
    struct sqlite_store *s = SS(base);
    sqlite3_stmt *st = stmt(s, ST_MERGE_LOG_PUT);
    bind_text(st, 1, id);
    bind_text(st, 2, survivor);
    sqlite3_bind_int64(st, 3, now_s());
    if (bind_doc(s, st, 4, record))
        return CDP_E_NOMEM;
    return step_done(s, st, "merge log");
}

/* Outside a transaction, a savepoint opens a read transaction: one snapshot for the whole
 * document, without taking the write lock as begin() would. */
static int sq_snapshot(struct cdp_store *base, bool *own)
{
    *own = sqlite3_get_autocommit(SS(base)->db) != 0;
    return *own ? run(base, ST_SAVEPOINT, "savepoint") : 0;
}

static int sq_snapshot_end(struct cdp_store *base)
{
    return run(base, ST_RELEASE, "release");
}

const struct cdp_store_io cdp_store_sqlite_io = {
    .list = sq_list,
    .run = sq_run,
    .resolve = sq_resolve,
    .merge_log_put = sq_merge_log_put,
    .snapshot = sq_snapshot,
    .snapshot_end = sq_snapshot_end,
};

/* Merge keys name profile fields; a path goes into SQL text (an index needs the literal
 * expression), so only dot-separated words of letters, digits and _ are accepted. */
static bool key_path_ok(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > 200 || p[0] == '.' || p[n - 1] == '.' || strstr(p, ".."))
        return false;
    for (; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '.'))
            return false;
    return true;
}

/* Looks up by a field through an index on it, made on first use (once per database; the
 * IF NOT EXISTS makes later calls a cheap no-op, and each connection remembers a few). */
static int key_index(struct sqlite_store *s, const char *path)
{
    for (int i = 0; i < s->nkey_index; i++)
        if (strcmp(s->key_index[i], path) == 0)
            return 0;
    char name[256], sql[640];
    size_t k = 0;
    for (const char *p = path; *p && k < sizeof(name) - 2; p++) {
        name[k++] = *p == '.' ? '_' : *p;
        if (*p == '.')
            name[k++] = '_';
    }
    name[k] = '\0';
    snprintf(sql, sizeof(sql),
             "CREATE INDEX IF NOT EXISTS profile_key_%s ON profile(json_extract(doc, '$.%s'))",
             name, path);
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        cdp_error("sqlite: key index on %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        return CDP_E_STORE;
    }
    if (s->nkey_index < (int)(sizeof(s->key_index) / sizeof(s->key_index[0])))
        s->key_index[s->nkey_index++] = strdup(path);
    return 0;
}

#define MAX_FIND_KEYS 8

static int sq_profiles_find(struct cdp_store *base, const cJSON *keys, int limit, cJSON **out)
{
    struct sqlite_store *s = SS(base);
    int n = cJSON_GetArraySize(keys);
    if (!cJSON_IsObject(keys) || n == 0 || n > MAX_FIND_KEYS)
        return CDP_E_INVALID;
    char sql[2400] = "SELECT id FROM profile WHERE ";
    size_t len = strlen(sql);
    const cJSON *k;
    int i = 0;
    cJSON_ArrayForEach(k, keys)
    {
        if (!k->string || !key_path_ok(k->string) ||
            !(cJSON_IsString(k) || cJSON_IsNumber(k) || cJSON_IsBool(k)))
            return CDP_E_INVALID;
        int rc = key_index(s, k->string);
        if (rc)
            return rc;
        len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%sjson_extract(doc, '$.%s') = ?%d",
                                i ? " AND " : "", k->string, i + 1);
        i++;
    }
    snprintf(sql + len, sizeof(sql) - len, " LIMIT %d", limit > 0 ? limit : 1000);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_err(s, "profiles find");
    i = 1;
    cJSON_ArrayForEach(k, keys)
    {
        if (cJSON_IsString(k))
            sqlite3_bind_text(st, i, k->valuestring, -1, SQLITE_STATIC);
        else if (cJSON_IsBool(k))
            sqlite3_bind_int(st, i, cJSON_IsTrue(k));
        else if (k->valuedouble == (double)(int64_t)k->valuedouble)
            sqlite3_bind_int64(st, i, (int64_t)k->valuedouble);
        else
            sqlite3_bind_double(st, i, k->valuedouble);
        i++;
    }
    cJSON *ids = cJSON_CreateArray();
    int rc = ids ? add_column(s, st, ids, false, "select column") : CDP_E_NOMEM;
    sqlite3_finalize(st);
    if (rc) {
        cJSON_Delete(ids);
        return rc;
    }
    *out = ids;
    return 0;
}

static int sq_merge_get(struct cdp_store *base, const char *id, cJSON **out)
{
    return get_by_id(base, ST_MERGE_LOG_GET, id, out);
}

static int sq_merge_list(struct cdp_store *base, const char *profile_id, int start, int limit,
                         cJSON **out, long *total)
{
    return page_by(SS(base), ST_MERGE_LOG_COUNT, ST_MERGE_LOG_LIST, profile_id, start, limit, out,
                   total);
}

static int sq_entity_get(struct cdp_store *base, const char *kind, const char *id, cJSON **out)
{
    struct sqlite_store *s = SS(base);
    sqlite3_stmt *st = stmt(s, ST_ENTITY_GET);
    bind_text(st, 1, kind);
    bind_text(st, 2, id);
    return get_doc(s, st, out);
}

static int sq_entity_put(struct cdp_store *base, const char *kind, const char *id, const cJSON *doc)
{
    struct sqlite_store *s = SS(base);
    sqlite3_stmt *st = stmt(s, ST_ENTITY_PUT);
    bind_text(st, 1, kind);
    bind_text(st, 2, id);
    if (bind_doc(s, st, 3, doc))
        return CDP_E_NOMEM;
    sqlite3_bind_int64(st, 4, now_s());
    int rc = step_done(s, st, "entity put");
    return rc ? rc : run(base, ST_ENTITY_BUMP, "entity version");
}

static int sq_entity_delete(struct cdp_store *base, const char *kind, const char *id)
{
    struct sqlite_store *s = SS(base);
    sqlite3_stmt *st = stmt(s, ST_ENTITY_DELETE);
    bind_text(st, 1, kind);
    bind_text(st, 2, id);
    int rc = step_done(s, st, "entity delete");
    if (rc)
        return rc;
    if (sqlite3_changes(s->db) == 0)
        return CDP_E_NOT_FOUND;
    return run(base, ST_ENTITY_BUMP, "entity version");
}

static int sq_entity_list(struct cdp_store *base, const char *kind,
                          const struct cdp_entity_query *q, int start, int limit, cJSON **out,
                          long *total)
{
    struct sqlite_store *s = SS(base);
    q = cdp_store_entity_query(q);
    sqlite3_stmt *st = stmt(s, ST_ENTITY_COUNT);
    bind_text(st, 1, kind);
    bind_text(st, 4, q->where);
    bind_text(st, 5, q->equals);
    int rc = get_count(s, st, total);
    if (rc)
        return rc;
    st = stmt(s, q->desc ? ST_ENTITY_LIST_DESC : ST_ENTITY_LIST);
    bind_text(st, 1, kind);
    sqlite3_bind_int(st, 2, start);
    sqlite3_bind_int(st, 3, limit);
    bind_text(st, 4, q->where);
    bind_text(st, 5, q->equals);
    bind_text(st, 6, q->sort);
    return get_docs(s, st, out);
}

static int sq_entity_version(struct cdp_store *base, int64_t *out)
{
    struct sqlite_store *s = SS(base);
    sqlite3_stmt *st = stmt(s, ST_ENTITY_VERSION);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_err(s, "entity version");
}

static int sq_external_version(struct cdp_store *base, int64_t *out)
{
    struct sqlite_store *s = SS(base);
    sqlite3_stmt *st = stmt(s, ST_DATA_VERSION);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : db_err(s, "data version");
}

static int sq_user_put(struct cdp_store *base, const struct cdp_user_rec *u)
{
    struct sqlite_store *s = SS(base);
    sqlite3_stmt *st = stmt(s, ST_USER_PUT);
    bind_text(st, 1, u->id);
    bind_text(st, 2, u->email);
    bind_text(st, 3, u->pwhash);
    if (bind_doc(s, st, 4, u->doc))
        return CDP_E_NOMEM;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_CONSTRAINT)
        return CDP_E_CONFLICT;
    return rc == SQLITE_DONE ? 0 : db_err(s, "user put");
}

static void copy_col(sqlite3_stmt *st, int col, char *out, size_t n)
{
    const char *v = (const char *)sqlite3_column_text(st, col);
    snprintf(out, n, "%s", v ? v : "");
}

static int sq_user_get(struct cdp_store *base, const char *key, struct cdp_user_rec *u)
{
    struct sqlite_store *s = SS(base);
    sqlite3_stmt *st = stmt(s, ST_USER_GET);
    bind_text(st, 1, key);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? CDP_E_NOT_FOUND : db_err(s, "user get");
    }
    memset(u, 0, sizeof(*u));
    copy_col(st, 0, u->id, sizeof(u->id));
    copy_col(st, 1, u->email, sizeof(u->email));
    copy_col(st, 2, u->pwhash, sizeof(u->pwhash));
    u->doc = cdp_json_parse((const char *)sqlite3_column_text(st, 3),
                            (size_t)sqlite3_column_bytes(st, 3), NULL);
    sqlite3_reset(st);
    return u->doc ? 0 : CDP_E_STORE;
}

static int sq_token_put(struct cdp_store *base, const char *hash, const char *user_id,
                        int64_t expires)
{
    struct sqlite_store *s = SS(base);
    sqlite3_stmt *st = stmt(s, ST_TOKEN_PUT);
    bind_text(st, 1, hash);
    bind_text(st, 2, user_id);
    sqlite3_bind_int64(st, 3, expires);
    return step_done(s, st, "token put");
}

static int sq_token_touch(struct cdp_store *base, const char *hash, int64_t now,
                          int64_t new_expires, int64_t min_step, char *user_id, size_t user_id_len)
{
    struct sqlite_store *s = SS(base);
    sqlite3_stmt *st = stmt(s, ST_TOKEN_GET);
    bind_text(st, 1, hash);
    sqlite3_bind_int64(st, 2, now);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? CDP_E_NOT_FOUND : db_err(s, "token get");
    }
    copy_col(st, 0, user_id, user_id_len);
    sqlite3_reset(st);
    st = stmt(s, ST_TOKEN_SLIDE);
    bind_text(st, 1, hash);
    sqlite3_bind_int64(st, 2, new_expires);
    sqlite3_bind_int64(st, 3, min_step);
    return step_done(s, st, "token slide");
}

static int sq_token_delete(struct cdp_store *base, const char *hash)
{
    struct sqlite_store *s = SS(base);
    sqlite3_stmt *st = stmt(s, ST_TOKEN_DELETE);
    bind_text(st, 1, hash);
    return step_done(s, st, "token delete");
}

static int sq_user_list(struct cdp_store *base, int start, int limit, cJSON **out, long *total)
{
    struct sqlite_store *s = SS(base);
    int rc = get_count(s, stmt(s, ST_USER_COUNT), total);
    if (rc)
        return rc;
    sqlite3_stmt *st = stmt(s, ST_USER_LIST);
    sqlite3_bind_int(st, 1, start);
    sqlite3_bind_int(st, 2, limit);
    return get_docs(s, st, out);
}

static int sq_user_delete(struct cdp_store *base, const char *id)
{
    struct sqlite_store *s = SS(base);
    sqlite3_stmt *st = stmt(s, ST_USER_DELETE);
    bind_text(st, 1, id);
    int rc = step_done(s, st, "user delete");
    return rc ? rc : sqlite3_changes(s->db) ? 0 : CDP_E_NOT_FOUND;
}

static int sq_tokens_delete_user(struct cdp_store *base, const char *user_id, const char *keep)
{
    struct sqlite_store *s = SS(base);
    sqlite3_stmt *st = stmt(s, ST_TOKENS_DELETE_USER);
    bind_text(st, 1, user_id);
    bind_text(st, 2, keep);
    return step_done(s, st, "tokens delete");
}

static int sq_audit_put(struct cdp_store *base, const cJSON *rec)
{
    struct sqlite_store *s = SS(base);
    struct cdp_audit_row r;
    if (cdp_store_audit_row(rec, &r))
        return CDP_E_INVALID;
    sqlite3_stmt *st = stmt(s, ST_AUDIT_PUT);
    sqlite3_bind_int64(st, 1, r.time);
    bind_text(st, 2, r.user_id);
    bind_text(st, 3, r.email);
    bind_text(st, 4, r.kind);
    bind_text(st, 5, r.entity_id);
    if (bind_doc(s, st, 6, rec))
        return CDP_E_NOMEM;
    return step_done(s, st, "audit put");
}

static void bind_audit_filter(sqlite3_stmt *st, const struct cdp_audit_filter *f)
{
    bind_text(st, 1, f ? f->user : NULL);
    bind_text(st, 2, f ? f->kind : NULL);
    sqlite3_bind_int64(st, 3, f ? f->since_us : 0);
}

static int sq_audit_list(struct cdp_store *base, const struct cdp_audit_filter *f, int start,
                         int limit, cJSON **out, long *total)
{
    struct sqlite_store *s = SS(base);
    sqlite3_stmt *st = stmt(s, ST_AUDIT_COUNT);
    bind_audit_filter(st, f);
    int rc = get_count(s, st, total);
    if (rc)
        return rc;
    st = stmt(s, ST_AUDIT_LIST);
    bind_audit_filter(st, f);
    sqlite3_bind_int(st, 4, start);
    sqlite3_bind_int(st, 5, limit);
    return get_docs(s, st, out);
}

/* Events indexed per call at most: enough to keep up with 80k events/s at the pipeline's
 * 10 calls a second, few enough that a call costs a batch milliseconds, not tens of them. */
#define INDEX_CHUNK 8192

static int sq_maintain(struct cdp_store *base)
{
    struct sqlite_store *s = SS(base);
    sqlite3_stmt *st = stmt(s, ST_INDEX_EVENTS);
    sqlite3_bind_int(st, 1, INDEX_CHUNK);
    int rc = step_done(s, st, "index events");
    if (rc)
        return rc;
    st = stmt(s, ST_INDEX_EVENTS_MARK);
    sqlite3_bind_int(st, 1, INDEX_CHUNK);
    return step_done(s, st, "index events mark");
}

static int sq_checkpoint(struct cdp_store *base, int *log_pages)
{
    struct sqlite_store *s = SS(base);
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    if (log_pages)
        *log_pages = log > 0 ? log : 0;
    return rc == SQLITE_OK || rc == SQLITE_BUSY ? 0 : db_err(s, "checkpoint");
}

static int sq_segment_counts(struct cdp_store *base, cJSON **out)
{
    struct sqlite_store *s = SS(base);
    sqlite3_stmt *st = stmt(s, ST_SEGMENT_COUNTS);
    cJSON *counts = cJSON_CreateObject();
    int rc;
    while (counts && (rc = sqlite3_step(st)) == SQLITE_ROW)
        cJSON_AddNumberToObject(counts, (const char *)sqlite3_column_text(st, 0),
                                (double)sqlite3_column_int64(st, 1));
    sqlite3_reset(st);
    if (!counts)
        return CDP_E_NOMEM;
    if (rc != SQLITE_DONE) {
        cJSON_Delete(counts);
        return db_err(s, "segment counts");
    }
    *out = counts;
    return 0;
}

static int sq_meta_get(struct cdp_store *base, const char *key, char *out, size_t outlen)
{
    struct sqlite_store *s = SS(base);
    sqlite3_stmt *st = stmt(s, ST_META_GET);
    bind_text(st, 1, key);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        copy_col(st, 0, out, outlen);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return CDP_E_NOT_FOUND;
    return rc == SQLITE_ROW ? 0 : db_err(s, "meta get");
}

static int sq_meta_put(struct cdp_store *base, const char *key, const char *value)
{
    struct sqlite_store *s = SS(base);
    sqlite3_stmt *st = stmt(s, ST_META_PUT);
    bind_text(st, 1, key);
    bind_text(st, 2, value);
    return step_done(s, st, "meta put");
}

static int sq_segments_apply(struct cdp_store *base, struct cdp_segment_batch *b)
{
    return cdp_sqlite_segments_apply(SS(base)->db, b);
}

static int sq_profiles_scan(struct cdp_store *base, const char *after_id, int limit, cJSON **out)
{
    struct sqlite_store *s = SS(base);
    sqlite3_stmt *st = stmt(s, ST_PROFILES_SCAN);
    bind_text(st, 1, after_id ? after_id : "");
    sqlite3_bind_int(st, 2, limit);
    return get_docs(s, st, out);
}

static int sq_search(struct cdp_store *base, const struct cdp_search *q, cJSON **out, long *total)
{
    return cdp_sqlite_search(SS(base)->db, q, out, total);
}

static int sq_histogram(struct cdp_store *base, const struct cdp_search *q,
                        const struct cdp_histogram *h, cJSON **out)
{
    return cdp_sqlite_histogram(SS(base)->db, q, h, out);
}

static int sq_terms(struct cdp_store *base, const struct cdp_search *q, const char *field,
                    int limit, cJSON **out)
{
    return cdp_sqlite_terms(SS(base)->db, q, field, limit, out);
}

const struct cdp_store_ops cdp_store_sqlite_ops = {
    .scheme = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .savepoint = sq_savepoint,
    .release = sq_release,
    .rollback_to = sq_rollback_to,
    .profile_get = sq_profile_get,
    .profile_put = sq_profile_put,
    .session_get = sq_session_get,
    .session_put = sq_session_put,
    .session_touch = sq_session_touch,
    .event_put = sq_event_put,
    .event_get = sq_event_get,
    .events_by_profile = sq_events_by_profile,
    .entity_kinds = sq_entity_kinds,
    .profile_erase = cdp_store_profile_erase,
    .profile_export = cdp_store_profile_export,
    .segment_counts = sq_segment_counts,
    .profile_resolve = cdp_store_profile_resolve,
    .profiles_find = sq_profiles_find,
    .profile_merge = cdp_store_profile_merge,
    .merge_get = sq_merge_get,
    .merge_list = sq_merge_list,
    .merge_undo = cdp_store_merge_undo,
    .entity_get = sq_entity_get,
    .entity_put = sq_entity_put,
    .entity_delete = sq_entity_delete,
    .entity_list = sq_entity_list,
    .entity_version = sq_entity_version,
    .external_version = sq_external_version,
    .user_put = sq_user_put,
    .user_get = sq_user_get,
    .token_put = sq_token_put,
    .token_touch = sq_token_touch,
    .token_delete = sq_token_delete,
    .user_list = sq_user_list,
    .user_delete = sq_user_delete,
    .tokens_delete_user = sq_tokens_delete_user,
    .audit_put = sq_audit_put,
    .audit_list = sq_audit_list,
    .maintain = sq_maintain,
    .checkpoint = sq_checkpoint,
    .meta_get = sq_meta_get,
    .meta_put = sq_meta_put,
    .segments_apply = sq_segments_apply,
    .profiles_scan = sq_profiles_scan,
    .search = sq_search,
    .histogram = sq_histogram,
    .terms = sq_terms,
};
