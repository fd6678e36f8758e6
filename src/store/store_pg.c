/* The shared store: PostgreSQL through libpq, one schema per context (production, staging)
 * holding the tables of store_sqlite.c with documents as jsonb. Same semantics as the SQLite
 * backend; every statement is prepared once per connection and run with bound parameters, never
 * built from input. A lost connection answers CDP_E_UNAVAILABLE and the next call reconnects. */
#include "store/store.h"
#include "store/pg_tql.h"
#include "store/store_impl.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ST_NAME(name) ST_##name,
enum stmt_id {
    ST_BEGIN = CDP_STORE_NSTMTS, /* before it: enum cdp_store_stmt (store_impl.h) */
    CDP_STORE_BACKEND_STMTS(ST_NAME)
    /* this backend's own */
    ST_BEGIN_SNAPSHOT,
    ST_WAL_LSN,
    ST_PROFILE_PUT_FENCED,
    ST_SESSION_PUT_FENCED,
    ST_COUNT
};

/* x as an object ('{}' when it is anything else), for documents rewritten in place. */
#define OBJ(x) "(CASE WHEN jsonb_typeof(" x ") = 'object' THEN " x " ELSE '{}'::jsonb END)"
/* x as an array ('[]' when it is anything else). */
#define ARR(x) "(CASE WHEN jsonb_typeof(" x ") = 'array' THEN " x " ELSE '[]'::jsonb END)"

#define META        OBJ("doc->'metadata'")
#define META_TIME   OBJ("doc->'metadata'->'time'")
#define PROFILE_OBJ OBJ("doc->'profile'")
#define IDS_ARR     ARR("p.ids")
#define ABSORBED    ARR("m.doc->'absorbed'")
#define SEGMENTS    ARR("p.doc->'segments'")

/* doc with profile.id set to p, a text parameter. */
#define SET_PROFILE_ID(p)                                                                          \
    "doc || jsonb_build_object('profile', " PROFILE_OBJ " || jsonb_build_object('id', " p "))"
#define DOC_TO_1 SET_PROFILE_ID("$1::text")
#define DOC_TO_2 SET_PROFILE_ID("$2::text")

/* A person: every id of the profile $1 (its own, and those of profiles merged into it). */
#define ALIASES_OF_1 "(SELECT alias FROM profile_id WHERE profile_id = $1::text)"

/* Every id of the person any of whose ids $1 is ($1 itself when no profile has it). */
#define PERSON_OF_1                                                                                \
    "(SELECT alias FROM profile_id WHERE profile_id = (SELECT profile_id FROM profile_id"          \
    " WHERE alias = $1::text) UNION SELECT $1::text)"

/* The merge records in which a profile with one of the ids in set was absorbed. */
#define ABSORBING(set)                                                                             \
    "(SELECT m.id FROM merge_log m, jsonb_array_elements(" ABSORBED ") a"                          \
    " WHERE a->>'id' IN " set ")"

/* The filter of entity_list: the value at path $w (text[]) equals $e, or $w is NULL. */
#define ENTITY_WHERE(w, e) "(" w "::text[] IS NULL OR doc #>> " w "::text[] = " e "::text)"

/* The audit records of user $1 (id or e-mail) and entity kind $2 (NULL: any) since $3. */
#define AUDIT_MATCH                                                                                \
    "($1::text IS NULL OR user_id = $1::text OR email = lower($1::text))"                          \
    " AND ($2::text IS NULL OR kind = $2::text) AND time >= $3::bigint"

/* Writes a profile ($1 id, $2 doc, $3 updated[, $4 fence]) and, when it was written, the ids in
 * its ids[] (and its own) that no profile holds yet. */
#define PROFILE_WRITE(conflict)                                                                    \
    "WITH p AS (INSERT INTO profile(id, doc, updated, fence)"                                      \
    " VALUES($1::text, $2::jsonb, $3::bigint, " conflict " RETURNING id, doc->'ids' AS ids)"       \
    " INSERT INTO profile_id(alias, profile_id) SELECT DISTINCT x.a, p.id FROM p,"                 \
    " LATERAL (SELECT p.id AS a UNION ALL SELECT e #>> '{}'"                                       \
    " FROM jsonb_array_elements(" IDS_ARR ") e WHERE jsonb_typeof(e) = 'string') x"                \
    " ON CONFLICT (alias) DO NOTHING"

#define SESSION_WRITE                                                                              \
    "INSERT INTO session(id, profile_id, doc, updated, fence)"                                     \
    " VALUES($1::text, $2::text, $3::jsonb, $4::bigint, "

struct stmt_def {
    const char *sql;
    bool write; /* outside a transaction, a commit of its own (external_version) */
};

static const struct stmt_def stmts[ST_COUNT] = {
    [ST_BEGIN] = {"BEGIN", false},
    [ST_BEGIN_SNAPSHOT] = {"BEGIN ISOLATION LEVEL REPEATABLE READ", false},
    [ST_COMMIT] = {"COMMIT", false},
    [ST_ROLLBACK] = {"ROLLBACK", false},
    [ST_SAVEPOINT] = {"SAVEPOINT sp", false},
    [ST_RELEASE] = {"RELEASE SAVEPOINT sp", false},
    [ST_ROLLBACK_TO] = {"ROLLBACK TO SAVEPOINT sp", false},
    [ST_WAL_LSN] = {"SELECT pg_current_wal_lsn()::text", false},
    [ST_PROFILE_GET] = {"SELECT p.doc::text FROM profile_id a JOIN profile p ON p.id = a.profile_id"
                        " WHERE a.alias = $1::text",
                        false},
    [ST_PROFILE_PUT] = {PROFILE_WRITE("0) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc,"
                                      " updated = excluded.updated"),
                        true},
    [ST_PROFILE_PUT_FENCED] = {PROFILE_WRITE("$4::bigint) ON CONFLICT (id) DO UPDATE SET"
                                             " doc = excluded.doc, updated = excluded.updated,"
                                             " fence = excluded.fence"
                                             " WHERE profile.fence < excluded.fence"),
                               true},
    [ST_SESSION_GET] = {"SELECT doc::text FROM session WHERE id = $1::text", false},
    [ST_SESSION_PUT] = {SESSION_WRITE "0) ON CONFLICT (id) DO UPDATE SET"
                                      " profile_id = excluded.profile_id, doc = excluded.doc,"
                                      " updated = excluded.updated",
                        true},
    [ST_SESSION_PUT_FENCED] = {SESSION_WRITE "$5::bigint) ON CONFLICT (id) DO UPDATE SET"
                                             " profile_id = excluded.profile_id,"
                                             " doc = excluded.doc, updated = excluded.updated,"
                                             " fence = excluded.fence"
                                             " WHERE session.fence < excluded.fence",
                               true},
    /* the activity fields of a session, objects on the way made as SQLite's json_set does */
    [ST_SESSION_TOUCH] = {"UPDATE session SET doc = doc || jsonb_build_object('metadata', " META
                          " || jsonb_build_object('status', $4::text, 'time', " META_TIME
                          " || jsonb_build_object('update', $2::text, 'duration', $3::float8))),"
                          " updated = $5::bigint WHERE id = $1::text",
                          true},
    [ST_EVENT_PUT] =
        {"INSERT INTO event(id, profile_id, session_id, type, source_id, inserted, doc)"
         " VALUES($1::text, $2::text, $3::text, $4::text, $5::text, $6::bigint,"
         " $7::jsonb) ON CONFLICT (id) DO NOTHING",
         true},
    [ST_EVENT_GET] = {"SELECT doc::text FROM event WHERE id = $1::text", false},
    [ST_EVENTS_BY_PROFILE] = {"SELECT doc::text FROM event WHERE profile_id IN " PERSON_OF_1
                              " ORDER BY inserted DESC, seq DESC LIMIT $3::bigint"
                              " OFFSET $2::bigint",
                              false},
    [ST_EVENTS_COUNT_BY_PROFILE] = {"SELECT count(*) FROM event WHERE profile_id IN " PERSON_OF_1,
                                    false},
    [ST_ENTITY_KINDS] = {"SELECT DISTINCT kind COLLATE \"C\" FROM entity ORDER BY 1", false},
    [ST_PROFILE_RESOLVE] = {"SELECT a.profile_id FROM profile_id a JOIN profile p"
                            " ON p.id = a.profile_id WHERE a.alias = $1::text",
                            false},
    [CDP_PERSON_IDS] = {"SELECT alias FROM profile_id WHERE profile_id = $1::text"
                        " ORDER BY alias COLLATE \"C\"",
                        false},
    [CDP_PERSON_SESSIONS] = {"SELECT doc::text FROM session WHERE profile_id IN " ALIASES_OF_1
                             " ORDER BY updated, id COLLATE \"C\"",
                             false},
    [CDP_PERSON_EVENTS] = {"SELECT doc::text FROM event WHERE profile_id IN " ALIASES_OF_1
                           " ORDER BY inserted, seq LIMIT $2::bigint",
                           false},
    [CDP_ERASE_EVENTS] = {"DELETE FROM event WHERE profile_id IN " ALIASES_OF_1, true},
    [CDP_ERASE_SESSIONS] = {"DELETE FROM session WHERE profile_id IN " ALIASES_OF_1, true},
    [CDP_ERASE_PROFILES] = {"DELETE FROM profile WHERE id IN " ALIASES_OF_1, true},
    [CDP_ERASE_IDS] = {"DELETE FROM profile_id WHERE profile_id = $1::text", true},
    /* Merge records hold the profiles as they were: they go with the person. */
    [CDP_ERASE_MERGES] = {"DELETE FROM merge_log WHERE survivor IN " ALIASES_OF_1
                          " OR id IN " ABSORBING(ALIASES_OF_1),
                          true},
    /* A merge moves the absorbed profile $1's rows to the survivor $2. Event rows keep the
     * profile id they were collected under, so an undo knows whose they were; their documents
     * name the survivor. */
    [CDP_MERGE_ALIASES] = {"SELECT alias FROM profile_id WHERE profile_id = $1::text"
                           " ORDER BY alias COLLATE \"C\"",
                           false},
    [CDP_MERGE_SESSION_IDS] = {"SELECT id FROM session WHERE profile_id IN " ALIASES_OF_1
                               " ORDER BY id COLLATE \"C\"",
                               false},
    [CDP_MERGE_EVENTS] = {"UPDATE event SET doc = " DOC_TO_2 " WHERE profile_id IN " ALIASES_OF_1,
                          true},
    [CDP_MERGE_SESSIONS] = {"UPDATE session SET profile_id = $2::text, doc = " DOC_TO_2
                            " WHERE profile_id IN " ALIASES_OF_1,
                            true},
    [CDP_MERGE_IDS] = {"UPDATE profile_id SET profile_id = $2::text WHERE profile_id = $1::text",
                       true},
    [CDP_MERGE_DELETE] = {"DELETE FROM profile WHERE id = $1::text", true},
    [ST_MERGE_LOG_PUT] = {"INSERT INTO merge_log(id, survivor, time, doc)"
                          " VALUES($1::text, $2::text, $3::bigint, $4::jsonb)",
                          true},
    [ST_MERGE_LOG_GET] = {"SELECT doc::text FROM merge_log WHERE id = $1::text", false},
    /* $1 NULL: every record; else those of the person any of whose ids $1 is. */
    [ST_MERGE_LOG_LIST] = {"SELECT doc::text FROM merge_log WHERE $1::text IS NULL"
                           " OR survivor IN " PERSON_OF_1 " OR id IN " ABSORBING(
                               PERSON_OF_1) " ORDER BY seq DESC LIMIT $3::bigint OFFSET $2::bigint",
                           false},
    [ST_MERGE_LOG_COUNT] = {"SELECT count(*) FROM merge_log WHERE $1::text IS NULL"
                            " OR survivor IN " PERSON_OF_1 " OR id IN " ABSORBING(PERSON_OF_1),
                            false},
    /* A later merge, not undone, whose survivor is (now) the same person as $2. */
    [CDP_MERGE_LATER] = {"SELECT id FROM merge_log WHERE seq > (SELECT seq FROM merge_log"
                         " WHERE id = $1::text)"
                         " AND coalesce(jsonb_typeof(doc->'undone'), 'null') = 'null'"
                         " AND survivor IN (SELECT alias FROM profile_id"
                         " WHERE profile_id = $2::text) ORDER BY seq LIMIT 1",
                         false},
    [CDP_UNMERGE_IDS] = {"UPDATE profile_id SET profile_id = $1::text"
                         " WHERE alias IN (SELECT jsonb_array_elements_text($2::jsonb))",
                         true},
    [CDP_UNMERGE_EVENTS] = {"UPDATE event SET doc = " DOC_TO_1
                            " WHERE profile_id IN (SELECT jsonb_array_elements_text($2::jsonb))",
                            true},
    [CDP_UNMERGE_SESSIONS] = {"UPDATE session SET profile_id = $1::text, doc = " DOC_TO_1
                              " WHERE id IN (SELECT jsonb_array_elements_text($2::jsonb))",
                              true},
    [CDP_MERGE_LOG_UNDONE] = {"UPDATE merge_log SET doc = doc || jsonb_build_object('undone',"
                              " $2::text) WHERE id = $1::text",
                              true},
    [ST_ENTITY_GET] = {"SELECT doc::text FROM entity WHERE kind = $1::text AND id = $2::text",
                       false},
    [ST_ENTITY_PUT] = {"INSERT INTO entity(kind, id, doc, updated)"
                       " VALUES($1::text, $2::text, $3::jsonb, $4::bigint)"
                       " ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc,"
                       " updated = excluded.updated",
                       true},
    [ST_ENTITY_DELETE] = {"DELETE FROM entity WHERE kind = $1::text AND id = $2::text", true},
    /* $4/$5: only documents whose value at path $4 is $5 ($4 NULL: all); $6: the path of the
     * sort key (NULL: by id alone), ordered as SQLite's NOCASE (NULL smallest). */
    [ST_ENTITY_LIST] = {"SELECT doc::text FROM entity WHERE kind = $1::text AND " ENTITY_WHERE(
                            "$4",
                            "$5") " ORDER BY lower(doc #>> $6::text[]) COLLATE \"C\" NULLS FIRST,"
                                  " id COLLATE \"C\" LIMIT $3::bigint OFFSET $2::bigint",
                        false},
    [ST_ENTITY_LIST_DESC] =
        {"SELECT doc::text FROM entity WHERE kind = $1::text AND " ENTITY_WHERE(
             "$4", "$5") " ORDER BY lower(doc #>> $6::text[]) COLLATE \"C\" DESC NULLS LAST,"
                         " id COLLATE \"C\" DESC LIMIT $3::bigint OFFSET $2::bigint",
         false},
    [ST_ENTITY_COUNT] = {"SELECT count(*) FROM entity WHERE kind = $1::text AND " ENTITY_WHERE(
                             "$2", "$3"),
                         false},
    [ST_ENTITY_VERSION] = {"SELECT value FROM meta WHERE key = 'entity-version'", false},
    [ST_ENTITY_BUMP] = {"INSERT INTO meta(key, value) VALUES('entity-version', '1')"
                        " ON CONFLICT (key) DO UPDATE SET value = (meta.value::bigint + 1)::text",
                        true},
    [ST_USER_PUT] = {"INSERT INTO cdp_user(id, email, pwhash, doc)"
                     " VALUES($1::text, $2::text, $3::text, $4::jsonb)"
                     " ON CONFLICT (id) DO UPDATE SET email = excluded.email,"
                     " pwhash = excluded.pwhash, doc = excluded.doc",
                     true},
    [ST_USER_GET] = {"SELECT id, email, pwhash, doc::text FROM cdp_user"
                     " WHERE id = $1::text OR email = lower($1::text) LIMIT 1",
                     false},
    [ST_TOKEN_PUT] = {"INSERT INTO token(hash, user_id, expires)"
                      " VALUES($1::text, $2::text, $3::bigint)",
                      true},
    [ST_TOKEN_GET] = {"SELECT user_id FROM token WHERE hash = $1::text AND expires > $2::bigint",
                      false},
    [ST_TOKEN_SLIDE] = {"UPDATE token SET expires = $2::bigint WHERE hash = $1::text"
                        " AND expires < $2::bigint - $3::bigint",
                        true},
    [ST_TOKEN_DELETE] = {"DELETE FROM token WHERE hash = $1::text", true},
    [ST_USER_LIST] = {"SELECT doc::text FROM cdp_user ORDER BY email COLLATE \"C\""
                      " LIMIT $2::bigint OFFSET $1::bigint",
                      false},
    [ST_USER_COUNT] = {"SELECT count(*) FROM cdp_user", false},
    [ST_USER_DELETE] = {"DELETE FROM cdp_user WHERE id = $1::text", true},
    [ST_TOKENS_DELETE_USER] = {"DELETE FROM token WHERE user_id = $1::text"
                               " AND hash IS DISTINCT FROM $2::text",
                               true},
    [ST_AUDIT_PUT] = {"INSERT INTO audit(time, user_id, email, kind, entity_id, doc)"
                      " VALUES($1::bigint, $2::text, $3::text, $4::text, $5::text, $6::jsonb)",
                      true},
    [ST_AUDIT_LIST] = {"SELECT doc::text FROM audit WHERE " AUDIT_MATCH
                       " ORDER BY seq DESC LIMIT $5::bigint OFFSET $4::bigint",
                       false},
    [ST_AUDIT_COUNT] = {"SELECT count(*) FROM audit WHERE " AUDIT_MATCH, false},
    [ST_META_GET] = {"SELECT value FROM meta WHERE key = $1::text", false},
    [ST_META_PUT] = {"INSERT INTO meta(key, value) VALUES($1::text, $2::text)"
                     " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                     true},
    [ST_SEGMENT_COUNTS] = {"SELECT s #>> '{}', count(*) FROM profile p,"
                           " jsonb_array_elements(" SEGMENTS ") s"
                           " WHERE jsonb_typeof(s) = 'string' GROUP BY 1",
                           false},
    [ST_PROFILES_SCAN] = {"SELECT doc::text FROM profile WHERE id > $1::text ORDER BY id"
                          " LIMIT $2::bigint",
                          false},
};

/* Made once per database by whichever process opens it first (the advisory lock keeps
 * concurrent opens from racing on the catalog); %s is the context's schema, a fixed name. */
#define SCHEMA_LOCK "7234096411"
static const char schema_fmt[] =
    "SET client_min_messages TO warning;"
    "BEGIN;"
    "SELECT pg_advisory_xact_lock(" SCHEMA_LOCK ");"
    "CREATE SCHEMA IF NOT EXISTS %s;"
    "SET search_path TO %s;"
    "CREATE TABLE IF NOT EXISTS profile(id text PRIMARY KEY, doc jsonb NOT NULL,"
    " updated bigint NOT NULL, fence bigint NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS profile_id(alias text PRIMARY KEY, profile_id text NOT NULL);"
    "CREATE INDEX IF NOT EXISTS profile_id_by_profile ON profile_id(profile_id);"
    "CREATE TABLE IF NOT EXISTS merge_log(seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE,"
    " survivor text NOT NULL, time bigint NOT NULL, doc jsonb NOT NULL);"
    "CREATE INDEX IF NOT EXISTS merge_log_by_survivor ON merge_log(survivor);"
    "CREATE TABLE IF NOT EXISTS session(id text PRIMARY KEY, profile_id text,"
    " doc jsonb NOT NULL, updated bigint NOT NULL, fence bigint NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS session_by_profile ON session(profile_id);"
    "CREATE TABLE IF NOT EXISTS event(seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE,"
    " profile_id text, session_id text, type text NOT NULL, source_id text,"
    " inserted bigint NOT NULL, doc jsonb NOT NULL);"
    "CREATE INDEX IF NOT EXISTS event_by_profile ON event(profile_id, inserted);"
    "CREATE INDEX IF NOT EXISTS event_by_time ON event(inserted);"
    "CREATE INDEX IF NOT EXISTS event_by_type ON event(type, inserted);"
    "CREATE INDEX IF NOT EXISTS event_by_session ON event(session_id);"
    "CREATE TABLE IF NOT EXISTS entity(kind text, id text, doc jsonb NOT NULL,"
    " updated bigint NOT NULL, PRIMARY KEY(kind, id));"
    "CREATE TABLE IF NOT EXISTS cdp_user(id text PRIMARY KEY, email text NOT NULL UNIQUE,"
    " pwhash text NOT NULL, doc jsonb NOT NULL);"
    "CREATE TABLE IF NOT EXISTS token(hash text PRIMARY KEY, user_id text NOT NULL,"
    " expires bigint NOT NULL);"
    "CREATE INDEX IF NOT EXISTS token_by_user ON token(user_id);"
    "CREATE TABLE IF NOT EXISTS audit(seq bigserial PRIMARY KEY, time bigint NOT NULL,"
    " user_id text, email text, kind text, entity_id text, doc jsonb NOT NULL);"
    "CREATE INDEX IF NOT EXISTS audit_by_kind ON audit(kind, seq);"
    "CREATE INDEX IF NOT EXISTS audit_by_user ON audit(user_id, seq);"
    "CREATE TABLE IF NOT EXISTS meta(key text PRIMARY KEY, value text);"
    "COMMIT;";

#define MAX_DEPTH 64

struct pg_store {
    struct cdp_store base;
    PGconn *db;
    const char *schema; /* the context's, a fixed name */
    bool prepared[ST_COUNT];
    struct cdp_buf text; /* documents are printed here, reused by every write */
    /* Open transaction levels: begin() or an outermost savepoint, then savepoints. */
    int depth;
    uint64_t own_txn; /* bit i: level i is a transaction of its own (released: commit) */
    bool lost;        /* the connection went down inside a transaction: only its end */
    char lsn[32];     /* the WAL position after this connection's last own commit */
    int64_t external; /* external_version's counter */
    char state[6];    /* SQLSTATE of the last failed statement */
};

#define PS(s) ((struct pg_store *)(s))

/* The text parameters of a statement (NULL: SQL NULL) as the count and array exec() and the
 * other runners take: run(s, id, PARAMS(a, b), NULL). */
#define PARAMS(...)                                                                                \
    (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), (const char *[])          \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static const char *i64s(char buf[24], int64_t v)
{
    snprintf(buf, 24, "%" PRId64, v);
    return buf;
}

/* A limit or offset parameter: NULL (no limit) for a negative limit. */
static const char *limit_s(char buf[24], int64_t v)
{
    return v < 0 ? NULL : i64s(buf, v);
}

/* Sets the connection up after (re)connecting: the schema of the context, and nothing
 * prepared yet. */
static int session_init(struct pg_store *s)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SET search_path TO %s; SET client_min_messages TO warning",
             s->schema);
    PGresult *r = PQexec(s->db, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    memset(s->prepared, 0, sizeof(s->prepared));
    return ok ? 0 : CDP_E_UNAVAILABLE;
}

/* Reconnects when the connection is down. Commits of others may have been missed meanwhile. */
static int ensure_conn(struct pg_store *s)
{
    if (PQstatus(s->db) == CONNECTION_OK)
        return 0;
    if (s->depth > 0)
        s->lost = true; /* its levels stay open until the caller ends them */
    PQreset(s->db);
    if (PQstatus(s->db) != CONNECTION_OK) {
        cdp_error("postgres: reconnect: %s", PQerrorMessage(s->db));
        return CDP_E_UNAVAILABLE;
    }
    s->lsn[0] = '\0';
    s->external++;
    return session_init(s);
}

/* The code for a failed statement of r (NULL: no result at all). */
static int pg_err(struct pg_store *s, PGresult *r, enum stmt_id id)
{
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    snprintf(s->state, sizeof(s->state), "%s", st ? st : "");
    const char *msg =
        r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r) : PQerrorMessage(s->db);
    cdp_error("postgres: %.48s...: %.*s", stmts[id].sql, (int)strcspn(msg, "\n"), msg);
    if (PQstatus(s->db) != CONNECTION_OK || !st || strncmp(st, "08", 2) == 0 ||
        strncmp(st, "57P", 3) == 0)
        return CDP_E_UNAVAILABLE;
    /* serialization failure, deadlock, lock not available: nothing is wrong but the timing;
     * the same work again succeeds (the collector runs such a request again) */
    if (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 || strcmp(st, "55P03") == 0)
        return CDP_E_BUSY;
    if (strcmp(st, "22P02") == 0 || strcmp(st, "22P05") == 0 || strcmp(st, "22021") == 0)
        return CDP_E_INVALID;
    return CDP_E_STORE;
}

static void remember_lsn(struct pg_store *s);

/* Runs statement id with n text parameters (NULL: SQL NULL). *res (may be NULL) gets the result
 * of a statement that succeeded, to PQclear. */
static int exec(struct pg_store *s, enum stmt_id id, int n, const char *const *p, PGresult **res)
{
    if (res)
        *res = NULL;
    int rc = ensure_conn(s);
    if (rc)
        return rc;
    if (s->lost)
        return CDP_E_UNAVAILABLE; /* the transaction is gone: the caller must end it */
    char name[16];
    snprintf(name, sizeof(name), "cdp_s%d", (int)id);
    if (!s->prepared[id]) {
        PGresult *r = PQprepare(s->db, name, stmts[id].sql, 0, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            rc = pg_err(s, r, id);
            PQclear(r);
            return rc;
        }
        PQclear(r);
        s->prepared[id] = true;
    }
    PGresult *r = PQexecPrepared(s->db, name, n, p, NULL, NULL, 0);
    ExecStatusType est = PQresultStatus(r);
    if (est != PGRES_COMMAND_OK && est != PGRES_TUPLES_OK) {
        rc = pg_err(s, r, id);
        PQclear(r);
        return rc;
    }
    if (stmts[id].write && s->depth == 0)
        remember_lsn(s);
    if (res)
        *res = r;
    else
        PQclear(r);
    return 0;
}

/* Notes where the WAL is after a commit of this connection's, so external_version does not
 * count it. A commit of another connection in between goes unnoticed: caches are then stale
 * until the next commit elsewhere, as rare as that race is. */
static void remember_lsn(struct pg_store *s)
{
    PGresult *r = NULL;
    if (exec(s, ST_WAL_LSN, 0, NULL, &r) == 0 && PQntuples(r) == 1)
        snprintf(s->lsn, sizeof(s->lsn), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
}

/* Runs a SELECT that finds a row or none: CDP_E_NOT_FOUND (and *res NULL) for none. */
static int exec_row(struct pg_store *s, enum stmt_id id, int n, const char *const *p,
                    PGresult **res)
{
    int rc = exec(s, id, n, p, res);
    if (!rc && PQntuples(*res) == 0) {
        PQclear(*res);
        *res = NULL;
        rc = CDP_E_NOT_FOUND;
    }
    return rc;
}

/* Runs a one-row SELECT whose first column is a document. */
static int get_doc(struct pg_store *s, enum stmt_id id, int n, const char *const *p, cJSON **out)
{
    PGresult *r;
    int rc = exec_row(s, id, n, p, &r);
    if (rc)
        return rc;
    *out = cdp_json_parse(PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0), NULL);
    PQclear(r);
    return *out ? 0 : CDP_E_STORE;
}

static int get_docs(struct pg_store *s, enum stmt_id id, int n, const char *const *p, cJSON **out)
{
    PGresult *r;
    int rc = exec(s, id, n, p, &r);
    if (rc)
        return rc;
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0, rows = PQntuples(r); arr && i < rows; i++) {
        cJSON *d = cdp_json_parse(PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0), NULL);
        if (d)
            cJSON_AddItemToArray(arr, d);
    }
    PQclear(r);
    if (!arr)
        return CDP_E_NOMEM;
    *out = arr;
    return 0;
}

/* Runs a one-row SELECT of a number (0 when it found no row). */
static int get_int(struct pg_store *s, enum stmt_id id, int n, const char *const *p, int64_t *out)
{
    PGresult *r;
    *out = 0;
    int rc = exec(s, id, n, p, &r);
    if (rc)
        return rc;
    if (PQntuples(r) == 1)
        *out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return 0;
}

/* Runs a one-row SELECT of a count. */
static int get_count(struct pg_store *s, enum stmt_id id, int n, const char *const *p, long *out)
{
    int64_t v;
    int rc = get_int(s, id, n, p, &v);
    *out = (long)v;
    return rc;
}

/* Runs statement id; *changes (may be NULL) is the number of rows it changed. */
static int run(struct pg_store *s, enum stmt_id id, int n, const char *const *p, long *changes)
{
    PGresult *r;
    int rc = exec(s, id, n, p, &r);
    if (changes)
        *changes = rc ? 0 : strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return rc;
}

/* Prints a document into the connection's buffer, untouched until the statement has run. */
static const char *doc_text(struct pg_store *s, const cJSON *doc)
{
    s->text.len = 0;
    if (cdp_json_write(&s->text, doc) || s->text.len == 0)
        return NULL;
    return s->text.data;
}

/* Runs statement id with the n parameters p, of which p[at] becomes the text of document d. */
static int run_doc(struct pg_store *s, enum stmt_id id, int n, const char **p, int at,
                   const cJSON *d)
{
    if (!(p[at] = doc_text(s, d)))
        return CDP_E_NOMEM;
    return run(s, id, n, p, NULL);
}

/* Appends the first column of each row to arr: as a string, or as raw JSON text. */
static int add_column(struct pg_store *s, enum stmt_id id, int n, const char *const *p, cJSON *arr,
                      bool raw)
{
    PGresult *r;
    int rc = exec(s, id, n, p, &r);
    if (rc)
        return rc;
    for (int i = 0, rows = PQntuples(r); !rc && i < rows; i++) {
        const char *v = PQgetisnull(r, i, 0) ? NULL : PQgetvalue(r, i, 0);
        cJSON *item = raw ? cJSON_CreateRaw(v ? v : "null") : cJSON_CreateString(v ? v : "");
        if (!item || !cJSON_AddItemToArray(arr, item)) {
            cJSON_Delete(item);
            rc = CDP_E_NOMEM;
        }
    }
    PQclear(r);
    return rc;
}

static void pg_close(struct cdp_store *base)
{
    struct pg_store *s = PS(base);
    PQfinish(s->db);
    cdp_buf_fini(&s->text);
    free(s);
}

/* Splits "postgres://...#context" into the libpq URI and the context. */
static int parse_location(const char *location, const struct cdp_store_opts *o, char *uri,
                          size_t urilen, enum cdp_store_context *c, char *err, size_t errlen)
{
    *c = o ? o->context : CDP_STORE_PRODUCTION;
    if (strncmp(location, "//", 2) != 0) {
        snprintf(err, errlen, "malformed PostgreSQL URL (postgres://user@host:port/db): %s",
                 location);
        return CDP_E_CONFIG;
    }
    const char *hash = strchr(location, '#');
    size_t n = hash ? (size_t)(hash - location) : strlen(location);
    if (hash && !cdp_store_context_parse(hash + 1, c)) {
        snprintf(err, errlen, "no store context '%s' in the URL", hash + 1);
        return CDP_E_CONFIG;
    }
    int w = snprintf(uri, urilen, "postgresql:%.*s", (int)n, location);
    if (w < 0 || (size_t)w >= urilen) {
        snprintf(err, errlen, "PostgreSQL URL too long");
        return CDP_E_CONFIG;
    }
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(uri, &perr);
    if (!opts) {
        snprintf(err, errlen, "malformed PostgreSQL URL: %s", perr ? perr : "out of memory");
        PQfreemem(perr);
        return CDP_E_CONFIG;
    }
    PQconninfoFree(opts);
    return 0;
}

static int pg_open(struct cdp_store **out, const char *location, const struct cdp_store_opts *o,
                   char *err, size_t errlen)
{
    char uri[1200];
    enum cdp_store_context c;
    int rc = parse_location(location, o, uri, sizeof(uri), &c, err, errlen);
    if (rc)
        return rc;
    if ((unsigned)c >= CDP_STORE_NCONTEXTS) {
        snprintf(err, errlen, "no store context %d", (int)c);
        return CDP_E_CONFIG;
    }
    struct pg_store *s = calloc(1, sizeof(*s));
    if (!s)
        return CDP_E_NOMEM;
    s->base.ops = &cdp_store_pg_ops;
    s->base.context = c;
    s->schema = cdp_store_context_name(c);
    s->db = PQconnectdb(uri);
    if (!s->db || PQstatus(s->db) != CONNECTION_OK) {
        snprintf(err, errlen, "cannot connect to PostgreSQL: %s",
                 s->db ? PQerrorMessage(s->db) : "out of memory");
        err[strcspn(err, "\n")] = '\0';
        pg_close(&s->base);
        return CDP_E_UNAVAILABLE;
    }
    char sql[sizeof(schema_fmt) + 64];
    snprintf(sql, sizeof(sql), schema_fmt, s->schema, s->schema);
    PGresult *r = PQexec(s->db, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        snprintf(err, errlen, "cannot make the %s schema: %s", s->schema, PQresultErrorMessage(r));
        err[strcspn(err, "\n")] = '\0';
        rc = PQstatus(s->db) == CONNECTION_OK ? CDP_E_STORE : CDP_E_UNAVAILABLE;
        PQclear(r);
        pg_close(&s->base);
        return rc;
    }
    PQclear(r);
    if ((rc = session_init(s))) {
        snprintf(err, errlen, "cannot use the %s schema: %s", s->schema, PQerrorMessage(s->db));
        pg_close(&s->base);
        return rc;
    }
    remember_lsn(s);
    *out = &s->base;
    return 0;
}

/* Transactions: begin() or a savepoint outside one opens a transaction (the savepoint's, a
 * snapshot as SQLite's read transaction is), later savepoints nest in it. */
static int open_level(struct pg_store *s, enum stmt_id id, bool own)
{
    if (s->depth >= MAX_DEPTH)
        return CDP_E_INTERNAL;
    int rc = run(s, id, 0, NULL, NULL);
    if (rc)
        return rc;
    if (own)
        s->own_txn |= (uint64_t)1 << s->depth;
    else
        s->own_txn &= ~((uint64_t)1 << s->depth);
    s->depth++;
    return 0;
}

/* Ends the transaction with a commit or a rollback. Committing one in which a statement failed
 * (and was not rolled back to a savepoint) rolls it back and fails, where PostgreSQL's own
 * COMMIT would report success. */
static int end_txn(struct pg_store *s, bool commit)
{
    bool lost = s->lost;
    s->lost = false;
    s->depth = 0;
    if (lost)
        return commit ? CDP_E_UNAVAILABLE : 0;
    if (commit && PQtransactionStatus(s->db) == PQTRANS_INERROR) {
        run(s, ST_ROLLBACK, 0, NULL, NULL);
        remember_lsn(s);
        return CDP_E_STORE; /* a statement failed and was not rolled back to a savepoint */
    }
    PGresult *r;
    int rc = exec(s, commit ? ST_COMMIT : ST_ROLLBACK, 0, NULL, &r);
    if (!rc && commit && strcmp(PQcmdStatus(r), "COMMIT") != 0)
        rc = CDP_E_STORE;
    PQclear(r);
    remember_lsn(s);
    return rc;
}

static int pg_begin(struct cdp_store *base)
{
    struct pg_store *s = PS(base);
    if (s->lost) { /* a transaction lost with the connection is over by now */
        s->lost = false;
        s->depth = 0;
    }
    if (s->depth > 0)
        return CDP_E_STORE; /* as SQLite: no transaction within a transaction */
    return open_level(s, ST_BEGIN, true);
}

static int pg_commit(struct cdp_store *base)
{
    return end_txn(PS(base), true);
}

static int pg_rollback(struct cdp_store *base)
{
    return end_txn(PS(base), false);
}

static int pg_savepoint(struct cdp_store *base)
{
    struct pg_store *s = PS(base);
    if (s->lost)
        return CDP_E_UNAVAILABLE;
    return s->depth == 0 ? open_level(s, ST_BEGIN_SNAPSHOT, true)
                         : open_level(s, ST_SAVEPOINT, false);
}

static bool top_is_own(const struct pg_store *s)
{
    return s->depth > 0 && (s->own_txn >> (s->depth - 1) & 1);
}

/* Ends the innermost level: released (commit) or rolled back to (and released). */
static int end_level(struct pg_store *s, bool commit)
{
    if (s->depth == 0)
        return CDP_E_STORE;
    if (top_is_own(s))
        return end_txn(s, commit);
    if (s->lost) {
        s->depth--;
        return CDP_E_UNAVAILABLE;
    }
    int rc = commit ? 0 : run(s, ST_ROLLBACK_TO, 0, NULL, NULL);
    if (!rc)
        rc = run(s, ST_RELEASE, 0, NULL, NULL);
    if (!rc)
        s->depth--;
    return rc;
}

static int pg_release(struct cdp_store *base)
{
    return end_level(PS(base), true);
}

/* Undoes what was done since the savepoint, and ends it. */
static int pg_rollback_to(struct cdp_store *base)
{
    return end_level(PS(base), false);
}

static int get_by_id(struct pg_store *s, enum stmt_id id, const char *key, cJSON **out)
{
    return get_doc(s, id, PARAMS(key), out);
}

static int pg_profile_get(struct cdp_store *base, const char *id, cJSON **out)
{
    return get_by_id(PS(base), ST_PROFILE_GET, id, out);
}

/* Writes document d: $1 its id, [the value at extra,] its text, the time[, the fence: the
 * fenced statement]. */
static int doc_write(struct pg_store *s, const cJSON *d, const char *extra, enum stmt_id plain,
                     enum stmt_id fenced, const int64_t *fence)
{
    const char *id = cdp_json_str(d, "id");
    if (!id)
        return CDP_E_INVALID;
    char t[24], f[24];
    const char *p[5];
    int n = 0;
    p[n++] = id;
    if (extra)
        p[n++] = cdp_json_str(d, extra);
    int at = n++; /* the document */
    p[n++] = i64s(t, now_s());
    if (fence)
        p[n++] = i64s(f, *fence);
    return run_doc(s, fence ? fenced : plain, n, p, at, d);
}

static int profile_write(struct pg_store *s, const cJSON *p, const int64_t *fence)
{
    return doc_write(s, p, NULL, ST_PROFILE_PUT, ST_PROFILE_PUT_FENCED, fence);
}

static int pg_profile_put(struct cdp_store *base, const cJSON *p)
{
    return profile_write(PS(base), p, NULL);
}

static int pg_profile_put_fenced(struct cdp_store *base, const cJSON *p, int64_t fence)
{
    return profile_write(PS(base), p, &fence);
}

static int pg_session_get(struct cdp_store *base, const char *id, cJSON **out)
{
    return get_by_id(PS(base), ST_SESSION_GET, id, out);
}

static int session_write(struct pg_store *s, const cJSON *d, const int64_t *fence)
{
    return doc_write(s, d, "profile.id", ST_SESSION_PUT, ST_SESSION_PUT_FENCED, fence);
}

static int pg_session_put(struct cdp_store *base, const cJSON *d)
{
    return session_write(PS(base), d, NULL);
}

static int pg_session_put_fenced(struct cdp_store *base, const cJSON *d, int64_t fence)
{
    return session_write(PS(base), d, &fence);
}

static int pg_session_touch(struct cdp_store *base, const char *id, const char *update,
                            double duration, const char *status)
{
    char dur[40], t[24];
    snprintf(dur, sizeof(dur), "%.17g", duration);
    return run(PS(base), ST_SESSION_TOUCH, PARAMS(id, update, dur, status, i64s(t, now_s())), NULL);
}

static int pg_event_put(struct cdp_store *base, const cJSON *e)
{
    struct pg_store *s = PS(base);
    struct cdp_event_row r;
    if (cdp_store_event_row(e, &r))
        return CDP_E_INVALID;
    char t[24];
    return run_doc(
        s, ST_EVENT_PUT,
        PARAMS(r.id, r.profile_id, r.session_id, r.type, r.source_id, i64s(t, r.inserted), NULL), 6,
        e);
}

static int pg_event_get(struct cdp_store *base, const char *id, cJSON **out)
{
    return get_by_id(PS(base), ST_EVENT_GET, id, out);
}

/* A page of documents by one key ($1; $2 offset, $3 limit) and the key's total. */
static int page_by(struct pg_store *s, enum stmt_id count, enum stmt_id list, const char *key,
                   int start, int limit, cJSON **out, long *total)
{
    int rc = get_count(s, count, PARAMS(key), total);
    if (rc)
        return rc;
    char a[24], b[24];
    return get_docs(s, list, PARAMS(key, i64s(a, start > 0 ? start : 0), limit_s(b, limit)), out);
}

static int pg_events_by_profile(struct cdp_store *base, const char *profile_id, int start,
                                int limit, cJSON **out, long *total)
{
    return page_by(PS(base), ST_EVENTS_COUNT_BY_PROFILE, ST_EVENTS_BY_PROFILE, profile_id, start,
                   limit, out, total);
}

static int pg_entity_kinds(struct cdp_store *base, cJSON **out)
{
    cJSON *kinds = cJSON_CreateArray();
    if (!kinds)
        return CDP_E_NOMEM;
    int rc = add_column(PS(base), ST_ENTITY_KINDS, 0, NULL, kinds, false);
    if (rc) {
        cJSON_Delete(kinds);
        return rc;
    }
    *out = kinds;
    return 0;
}

/* The profile id that alias resolves to, copied into a new string (free()). */
static int resolve_profile(struct pg_store *s, const char *alias, char **out)
{
    PGresult *r;
    int rc = exec_row(s, ST_PROFILE_RESOLVE, PARAMS(alias), &r);
    if (rc)
        return rc;
    *out = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return *out ? 0 : CDP_E_NOMEM;
}

/* How many parameters each statement of enum cdp_store_stmt takes. */
static const int shared_n[CDP_STORE_NSTMTS] = {
    [CDP_PERSON_IDS] = 1,       [CDP_PERSON_SESSIONS] = 1,   [CDP_PERSON_EVENTS] = 2,
    [CDP_MERGE_ALIASES] = 1,    [CDP_MERGE_SESSION_IDS] = 1, [CDP_MERGE_LATER] = 2,
    [CDP_ERASE_EVENTS] = 1,     [CDP_ERASE_SESSIONS] = 1,    [CDP_ERASE_PROFILES] = 1,
    [CDP_ERASE_MERGES] = 1,     [CDP_ERASE_IDS] = 1,         [CDP_MERGE_EVENTS] = 2,
    [CDP_MERGE_SESSIONS] = 2,   [CDP_MERGE_IDS] = 2,         [CDP_MERGE_DELETE] = 1,
    [CDP_UNMERGE_IDS] = 2,      [CDP_UNMERGE_EVENTS] = 2,    [CDP_UNMERGE_SESSIONS] = 2,
    [CDP_MERGE_LOG_UNDONE] = 2,
};

static int pg_list(struct cdp_store *base, enum cdp_store_stmt id, const char *a, const char *b,
                   bool raw, cJSON *arr)
{
    const char *p[] = {a, b};
    return add_column(PS(base), (enum stmt_id)id, shared_n[id], p, arr, raw);
}

static int pg_run(struct cdp_store *base, enum cdp_store_stmt id, const char *a, const char *b,
                  long *changes)
{
    const char *p[] = {a, b};
    if (stmts[id].sql) /* none for CDP_ERASE_EVENT_INDEX: events are indexed in their table */
        return run(PS(base), (enum stmt_id)id, shared_n[id], p, changes);
    if (changes)
        *changes = 0;
    return 0;
}

static int pg_resolve(struct cdp_store *base, const char *alias, char **pid)
{
    return resolve_profile(PS(base), alias, pid);
}

static int pg_merge_log_put(struct cdp_store *base, const char *id, const char *survivor,
                            const cJSON *record)
{
    char t[24];
    return run_doc(PS(base), ST_MERGE_LOG_PUT, PARAMS(id, survivor, i64s(t, now_s()), NULL), 3,
                   record);
}

/* Outside a transaction, one of its own (a snapshot), rolled back at the end (read only). */
static int pg_snapshot(struct cdp_store *base, bool *own)
{
    *own = PS(base)->depth == 0;
    return *own ? pg_savepoint(base) : 0;
}

const struct cdp_store_io cdp_store_pg_io = {
    .list = pg_list,
    .run = pg_run,
    .resolve = pg_resolve,
    .merge_log_put = pg_merge_log_put,
    .snapshot = pg_snapshot,
    .snapshot_end = pg_rollback_to,
};

static int pg_merge_get(struct cdp_store *base, const char *id, cJSON **out)
{
    return get_by_id(PS(base), ST_MERGE_LOG_GET, id, out);
}

static int pg_merge_list(struct cdp_store *base, const char *profile_id, int start, int limit,
                         cJSON **out, long *total)
{
    return page_by(PS(base), ST_MERGE_LOG_COUNT, ST_MERGE_LOG_LIST, profile_id, start, limit, out,
                   total);
}

static int pg_entity_get(struct cdp_store *base, const char *kind, const char *id, cJSON **out)
{
    return get_doc(PS(base), ST_ENTITY_GET, PARAMS(kind, id), out);
}

static int pg_entity_put(struct cdp_store *base, const char *kind, const char *id, const cJSON *doc)
{
    struct pg_store *s = PS(base);
    char t[24];
    int rc = run_doc(s, ST_ENTITY_PUT, PARAMS(kind, id, NULL, i64s(t, now_s())), 2, doc);
    return rc ? rc : run(s, ST_ENTITY_BUMP, 0, NULL, NULL);
}

static int pg_entity_delete(struct cdp_store *base, const char *kind, const char *id)
{
    struct pg_store *s = PS(base);
    long n = 0;
    int rc = run(s, ST_ENTITY_DELETE, PARAMS(kind, id), &n);
    if (rc)
        return rc;
    if (n == 0)
        return CDP_E_NOT_FOUND;
    return run(s, ST_ENTITY_BUMP, 0, NULL, NULL);
}

/* A JSON path of the callers' ("$.type.id") as a text[] literal ("{"type","id"}"), or NULL. */
static const char *path_array(const char *path, char *out, size_t outlen)
{
    if (!path)
        return NULL;
    if (path[0] == '$')
        path++;
    size_t k = 0;
    out[k++] = '{';
    for (const char *p = path; *p && k + 4 < outlen;) {
        if (*p == '.')
            p++;
        if (k > 1)
            out[k++] = ',';
        out[k++] = '"';
        for (; *p && *p != '.' && k + 4 < outlen; p++) {
            if (*p == '"' || *p == '\\')
                out[k++] = '\\';
            out[k++] = *p;
        }
        out[k++] = '"';
    }
    out[k++] = '}';
    out[k] = '\0';
    return out;
}

static int pg_entity_list(struct cdp_store *base, const char *kind,
                          const struct cdp_entity_query *q, int start, int limit, cJSON **out,
                          long *total)
{
    struct pg_store *s = PS(base);
    q = cdp_store_entity_query(q);
    char where[256], sort[256], a[24], b[24];
    const char *w = path_array(q->where, where, sizeof(where));
    const char *p[] = {kind,      i64s(a, start > 0 ? start : 0),         limit_s(b, limit), w,
                       q->equals, path_array(q->sort, sort, sizeof(sort))};
    const char *cp[] = {kind, w, q->equals};
    int rc = get_count(s, ST_ENTITY_COUNT, 3, cp, total);
    if (rc)
        return rc;
    return get_docs(s, q->desc ? ST_ENTITY_LIST_DESC : ST_ENTITY_LIST, 6, p, out);
}

static int pg_entity_version(struct cdp_store *base, int64_t *out)
{
    return get_int(PS(base), ST_ENTITY_VERSION, 0, NULL, out);
}

/* Moves when the WAL has moved since this connection last looked or committed: someone else
 * wrote. It may move for the server's own WAL records too, which only costs a cache refill. */
static int pg_external_version(struct cdp_store *base, int64_t *out)
{
    struct pg_store *s = PS(base);
    PGresult *r;
    int rc = exec(s, ST_WAL_LSN, 0, NULL, &r);
    if (rc)
        return rc;
    const char *lsn = PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "";
    if (strcmp(lsn, s->lsn) != 0) {
        if (s->lsn[0])
            s->external++;
        snprintf(s->lsn, sizeof(s->lsn), "%s", lsn);
    }
    PQclear(r);
    *out = s->external;
    return 0;
}

/* Runs a statement whose failure the caller handles (a conflict) inside a savepoint of its own
 * when in a transaction, so the failure does not abort the caller's transaction. */
static int run_guarded(struct pg_store *s, enum stmt_id id, int n, const char *const *p)
{
    bool guard = s->depth > 0;
    int rc = guard ? pg_savepoint(&s->base) : 0;
    if (rc)
        return rc;
    rc = run(s, id, n, p, NULL);
    if (!guard)
        return rc;
    char state[6];
    memcpy(state, s->state, sizeof(state));
    int rrc = rc ? pg_rollback_to(&s->base) : pg_release(&s->base);
    memcpy(s->state, state, sizeof(state));
    return rc ? rc : rrc;
}

static int pg_user_put(struct cdp_store *base, const struct cdp_user_rec *u)
{
    struct pg_store *s = PS(base);
    const char *doc = doc_text(s, u->doc);
    if (!doc)
        return CDP_E_NOMEM;
    s->state[0] = '\0';
    int rc = run_guarded(s, ST_USER_PUT, PARAMS(u->id, u->email, u->pwhash, doc));
    if (rc && strcmp(s->state, "23505") == 0)
        return CDP_E_CONFLICT;
    return rc;
}

static void copy_val(PGresult *r, int col, char *out, size_t n)
{
    snprintf(out, n, "%s", PQgetisnull(r, 0, col) ? "" : PQgetvalue(r, 0, col));
}

static int pg_user_get(struct cdp_store *base, const char *key, struct cdp_user_rec *u)
{
    PGresult *r;
    int rc = exec_row(PS(base), ST_USER_GET, PARAMS(key), &r);
    if (rc)
        return rc;
    memset(u, 0, sizeof(*u));
    copy_val(r, 0, u->id, sizeof(u->id));
    copy_val(r, 1, u->email, sizeof(u->email));
    copy_val(r, 2, u->pwhash, sizeof(u->pwhash));
    u->doc = cdp_json_parse(PQgetvalue(r, 0, 3), (size_t)PQgetlength(r, 0, 3), NULL);
    PQclear(r);
    return u->doc ? 0 : CDP_E_STORE;
}

static int pg_token_put(struct cdp_store *base, const char *hash, const char *user_id,
                        int64_t expires)
{
    char e[24];
    return run_guarded(PS(base), ST_TOKEN_PUT, PARAMS(hash, user_id, i64s(e, expires)));
}

static int pg_token_touch(struct cdp_store *base, const char *hash, int64_t now,
                          int64_t new_expires, int64_t min_step, char *user_id, size_t user_id_len)
{
    struct pg_store *s = PS(base);
    PGresult *r;
    char a[24], b[24];
    int rc = exec_row(s, ST_TOKEN_GET, PARAMS(hash, i64s(a, now)), &r);
    if (rc)
        return rc;
    copy_val(r, 0, user_id, user_id_len);
    PQclear(r);
    return run(s, ST_TOKEN_SLIDE, PARAMS(hash, i64s(a, new_expires), i64s(b, min_step)), NULL);
}

static int pg_token_delete(struct cdp_store *base, const char *hash)
{
    return run(PS(base), ST_TOKEN_DELETE, PARAMS(hash), NULL);
}

static int pg_user_list(struct cdp_store *base, int start, int limit, cJSON **out, long *total)
{
    struct pg_store *s = PS(base);
    int rc = get_count(s, ST_USER_COUNT, 0, NULL, total);
    if (rc)
        return rc;
    char a[24], b[24];
    return get_docs(s, ST_USER_LIST, PARAMS(i64s(a, start > 0 ? start : 0), limit_s(b, limit)),
                    out);
}

static int pg_user_delete(struct cdp_store *base, const char *id)
{
    long n = 0;
    int rc = run(PS(base), ST_USER_DELETE, PARAMS(id), &n);
    return rc ? rc : n ? 0 : CDP_E_NOT_FOUND;
}

static int pg_tokens_delete_user(struct cdp_store *base, const char *user_id, const char *keep)
{
    return run(PS(base), ST_TOKENS_DELETE_USER, PARAMS(user_id, keep), NULL);
}

static int pg_audit_put(struct cdp_store *base, const cJSON *rec)
{
    struct pg_store *s = PS(base);
    struct cdp_audit_row a;
    if (cdp_store_audit_row(rec, &a))
        return CDP_E_INVALID;
    char tb[24];
    return run_doc(s, ST_AUDIT_PUT,
                   PARAMS(i64s(tb, a.time), a.user_id, a.email, a.kind, a.entity_id, NULL), 5, rec);
}

static int pg_audit_list(struct cdp_store *base, const struct cdp_audit_filter *f, int start,
                         int limit, cJSON **out, long *total)
{
    struct pg_store *s = PS(base);
    char since[24], a[24], b[24];
    const char *p[] = {f ? f->user : NULL, f ? f->kind : NULL, i64s(since, f ? f->since_us : 0),
                       i64s(a, start > 0 ? start : 0), limit_s(b, limit)};
    int rc = get_count(s, ST_AUDIT_COUNT, 3, p, total);
    if (rc)
        return rc;
    return get_docs(s, ST_AUDIT_LIST, 5, p, out);
}

/* Events are indexed by profile as they are written: nothing is left for later. */
static int pg_maintain(struct cdp_store *base)
{
    (void)base;
    return 0;
}

/* The server checkpoints its own WAL. */
static int pg_checkpoint(struct cdp_store *base, int *log_pages)
{
    (void)base;
    if (log_pages)
        *log_pages = 0;
    return 0;
}

static int pg_segment_counts(struct cdp_store *base, cJSON **out)
{
    PGresult *r;
    int rc = exec(PS(base), ST_SEGMENT_COUNTS, 0, NULL, &r);
    if (rc)
        return rc;
    cJSON *counts = cJSON_CreateObject();
    for (int i = 0, rows = PQntuples(r); counts && i < rows; i++)
        cJSON_AddNumberToObject(counts, PQgetvalue(r, i, 0),
                                (double)strtoll(PQgetvalue(r, i, 1), NULL, 10));
    PQclear(r);
    if (!counts)
        return CDP_E_NOMEM;
    *out = counts;
    return 0;
}

static int pg_meta_get(struct cdp_store *base, const char *key, char *out, size_t outlen)
{
    PGresult *r;
    int rc = exec_row(PS(base), ST_META_GET, PARAMS(key), &r);
    if (rc)
        return rc;
    copy_val(r, 0, out, outlen);
    PQclear(r);
    return 0;
}

static int pg_meta_put(struct cdp_store *base, const char *key, const char *value)
{
    return run(PS(base), ST_META_PUT, PARAMS(key, value), NULL);
}

static int pg_profiles_scan(struct cdp_store *base, const char *after_id, int limit, cJSON **out)
{
    char b[24];
    return get_docs(PS(base), ST_PROFILES_SCAN, PARAMS(after_id ? after_id : "", limit_s(b, limit)),
                    out);
}

/* The condition-language operations live in pg_tql.c, on this connection. */
static int pg_profiles_find(struct cdp_store *base, const cJSON *keys, int limit, cJSON **out)
{
    int rc = ensure_conn(PS(base));
    return rc ? rc : cdp_pg_profiles_find(PS(base)->db, keys, limit, out);
}

static int pg_segments_apply(struct cdp_store *base, struct cdp_segment_batch *b)
{
    int rc = ensure_conn(PS(base));
    return rc ? rc : cdp_pg_segments_apply(PS(base)->db, b);
}

static int pg_search(struct cdp_store *base, const struct cdp_search *q, cJSON **out, long *total)
{
    int rc = ensure_conn(PS(base));
    return rc ? rc : cdp_pg_search(PS(base)->db, q, out, total);
}

static int pg_histogram(struct cdp_store *base, const struct cdp_search *q,
                        const struct cdp_histogram *h, cJSON **out)
{
    int rc = ensure_conn(PS(base));
    return rc ? rc : cdp_pg_histogram(PS(base)->db, q, h, out);
}

static int pg_terms(struct cdp_store *base, const struct cdp_search *q, const char *field,
                    int limit, cJSON **out)
{
    int rc = ensure_conn(PS(base));
    return rc ? rc : cdp_pg_terms(PS(base)->db, q, field, limit, out);
}

/* "postgres:" and "postgresql:" URLs alike (libpq takes both). */
#define PG_OPS(name)                                                                               \
    {                                                                                              \
        .scheme = name, .open = pg_open, .close = pg_close, .begin = pg_begin,                     \
        .commit = pg_commit, .rollback = pg_rollback, .savepoint = pg_savepoint,                   \
        .release = pg_release, .rollback_to = pg_rollback_to, .profile_get = pg_profile_get,       \
        .profile_put = pg_profile_put, .session_get = pg_session_get,                              \
        .session_put = pg_session_put, .session_touch = pg_session_touch,                          \
        .event_put = pg_event_put, .event_get = pg_event_get,                                      \
        .events_by_profile = pg_events_by_profile, .entity_kinds = pg_entity_kinds,                \
        .profile_erase = cdp_store_profile_erase, .profile_export = cdp_store_profile_export,      \
        .segment_counts = pg_segment_counts, .profile_resolve = cdp_store_profile_resolve,         \
        .profiles_find = pg_profiles_find, .profile_merge = cdp_store_profile_merge,               \
        .merge_get = pg_merge_get, .merge_list = pg_merge_list,                                    \
        .merge_undo = cdp_store_merge_undo, .entity_get = pg_entity_get,                           \
        .entity_put = pg_entity_put, .entity_delete = pg_entity_delete,                            \
        .entity_list = pg_entity_list, .entity_version = pg_entity_version,                        \
        .external_version = pg_external_version, .user_put = pg_user_put, .user_get = pg_user_get, \
        .token_put = pg_token_put, .token_touch = pg_token_touch, .token_delete = pg_token_delete, \
        .user_list = pg_user_list, .user_delete = pg_user_delete,                                  \
        .tokens_delete_user = pg_tokens_delete_user, .audit_put = pg_audit_put,                    \
        .audit_list = pg_audit_list, .maintain = pg_maintain, .checkpoint = pg_checkpoint,         \
        .profile_put_fenced = pg_profile_put_fenced, .session_put_fenced = pg_session_put_fenced,  \
        .meta_get = pg_meta_get, .meta_put = pg_meta_put, .segments_apply = pg_segments_apply,     \
        .profiles_scan = pg_profiles_scan, .search = pg_search, .histogram = pg_histogram,         \
        .terms = pg_terms,                                                                         \
    }

const struct cdp_store_ops cdp_store_pg_ops = PG_OPS("postgres");
const struct cdp_store_ops cdp_store_postgresql_ops = PG_OPS("postgresql");
