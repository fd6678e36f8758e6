/* Unit tests of the store seam, run on every backend (SQLite, and PostgreSQL when installed:
 * tests/unit/pg_fixture.h), of what only PostgreSQL does (fenced writes, idempotent events,
 * external_version), and of profile/session resolution (cdp_track_run) on each. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "collect/hotcache.h"
#include "collect/pipeline.h"
#include "core/config.h"
#include "core/err.h"
#include "core/json.h"
#include "store/store.h"

#include "pg_fixture.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fixture {
    bool pg;
    char dir[64];  /* SQLite: the data directory */
    char url[256]; /* the store's URL */
    struct cdp_store *s;
    struct cdp_config cfg;
    struct cdp_track_env env;
};

static int setup_store(struct fixture *f)
{
    char err[256];
    struct cdp_store_opts o = {.durable = false};
    if (cdp_store_open(&f->s, f->url, &o, err, sizeof(err))) {
        fprintf(stderr, "cannot open %s: %s\n", f->url, err);
        return -1;
    }
    cdp_config_defaults(&f->cfg);
    f->env = (struct cdp_track_env){.store = f->s,
                                    .cfg = &f->cfg,
                                    .ua = NULL,
                                    .sources = cdp_source_cache_new(),
                                    .profiles = cdp_hotcache_new(16),
                                    .sessions = cdp_hotcache_new(16),
                                    .agents = cdp_hotcache_new(16),
                                    .routing = cdp_routing_new(),
                                    .busy = cdp_busy_new()};
    cJSON *src = cJSON_Parse("{\"id\":\"web\",\"name\":\"Web\",\"type\":[\"rest\"],"
                             "\"enabled\":true,\"channel\":\"Web\"}");
    f->s->ops->entity_put(f->s, "event-source", "web", src);
    cJSON_Delete(src);
    return 0;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/cdpd-unit-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->url, sizeof(f->url), "%s", f->dir);
    *state = f;
    return setup_store(f);
}

/* A store in a new PostgreSQL database of its own. */
static int setup_pg(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->pg = true;
    *state = f;
    if (pg_fixture_db(f->url, sizeof(f->url)))
        return -1;
    return setup_store(f);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    cdp_source_cache_free(f->env.sources);
    cdp_hotcache_free(f->env.profiles);
    cdp_hotcache_free(f->env.sessions);
    cdp_hotcache_free(f->env.agents);
    cdp_routing_free(f->env.routing);
    cdp_busy_free(f->env.busy);
    cdp_store_close(f->s);
    if (!f->pg) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
        if (system(cmd) != 0)
            return -1;
    }
    free(f);
    return 0;
}

/* A connection of the test's own to the PostgreSQL database of f, in production's schema. */
static PGconn *pg_raw(struct fixture *f)
{
    PGconn *c = PQconnectdb(f->url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, "SET search_path TO production");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    return c;
}

/* Runs one statement on the store's database through a connection of the test's own. */
static void raw_exec(struct fixture *f, const char *sql)
{
    if (f->pg) {
        PGconn *c = pg_raw(f);
        PGresult *r = PQexec(c, sql);
        assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
        PQclear(r);
        PQfinish(c);
        return;
    }
    sqlite3 *db;
    char path[128];
    snprintf(path, sizeof(path), "%s/cdpd.db", f->dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_profile_ids(void **state)
{
    struct fixture *f = *state;
    const struct cdp_store_ops *ops = f->s->ops;
    cJSON *p = cJSON_Parse("{\"id\":\"p1\",\"ids\":[\"p1\",\"old-1\",\"emm-x\"],\"traits\":{}}");
    assert_int_equal(ops->profile_put(f->s, p), 0);
    cJSON_Delete(p);
    cJSON *got = NULL;
    assert_int_equal(ops->profile_get(f->s, "old-1", &got), 0);
    assert_string_equal(cdp_json_str(got, "id"), "p1");
    cJSON_Delete(got);
    assert_int_equal(ops->profile_get(f->s, "nope", &got), CDP_E_NOT_FOUND);
}

static long profile_events(struct fixture *f, const char *pid, cJSON **list)
{
    long total = -1;
    assert_int_equal(f->s->ops->events_by_profile(f->s, pid, 0, 10, list, &total), 0);
    return total;
}

/* Events are found by profile before the bulk index has them, after, and after a replace. */
static void test_events_by_profile(void **state)
{
    struct fixture *f = *state;
    const struct cdp_store_ops *ops = f->s->ops;
    const char *docs[] = {
        "{\"id\":\"e1\",\"type\":\"a\",\"profile\":{\"id\":\"p\"},"
        "\"metadata\":{\"time\":{\"insert\":\"2024-01-01T00:00:01Z\"}}}",
        "{\"id\":\"e2\",\"type\":\"b\",\"profile\":{\"id\":\"p\"},"
        "\"metadata\":{\"time\":{\"insert\":\"2024-01-01T00:00:02Z\"}}}",
        "{\"id\":\"e3\",\"type\":\"c\",\"profile\":{\"id\":\"q\"}}",
    };
    for (int i = 0; i < 3; i++) {
        cJSON *e = cJSON_Parse(docs[i]);
        assert_int_equal(ops->event_put(f->s, e), 0);
        cJSON_Delete(e);
    }
    cJSON *list;
    assert_int_equal(profile_events(f, "p", &list), 2);
    assert_string_equal(cdp_json_str(cJSON_GetArrayItem(list, 0), "id"), "e2"); /* newest first */
    cJSON_Delete(list);
    assert_int_equal(ops->maintain(f->s), 0);
    assert_int_equal(profile_events(f, "p", &list), 2);
    cJSON_Delete(list);
    cJSON *e = cJSON_Parse(docs[0]); /* the same id again replaces the event */
    assert_int_equal(ops->event_put(f->s, e), 0);
    cJSON_Delete(e);
    assert_int_equal(profile_events(f, "p", &list), 2);
    assert_int_equal(cJSON_GetArraySize(list), 2);
    cJSON_Delete(list);
    assert_int_equal(ops->maintain(f->s), 0);
    assert_int_equal(profile_events(f, "p", &list), 2);
    cJSON_Delete(list);
    assert_int_equal(profile_events(f, "q", &list), 1);
    cJSON_Delete(list);
    /* Deleting the newest event must not let the next one take its number below the
     * watermark (SQLite reuses rowids unless AUTOINCREMENT). */
    raw_exec(f, "DELETE FROM event WHERE id = 'e1'");
    e = cJSON_Parse(docs[1]);
    cJSON_SetValuestring(cJSON_GetObjectItem(e, "id"), "e4");
    cJSON_SetValuestring(cdp_json_get(e, "profile.id"), "r");
    assert_int_equal(ops->event_put(f->s, e), 0);
    cJSON_Delete(e);
    for (int round = 0; round < 2; round++) {               /* before and after indexing */
        assert_int_equal(profile_events(f, "p", &list), 1); /* e2 only */
        cJSON_Delete(list);
        assert_int_equal(profile_events(f, "r", &list), 1); /* e4 */
        cJSON_Delete(list);
        assert_int_equal(ops->maintain(f->s), 0);
    }
}

/* Rows in the database that mention any of ids, in any column of the tables erasure covers,
 * counted through a connection of its own. */
static long rows_mentioning(struct fixture *f, const char *const *ids, int nids)
{
    static const char *const sql[] = {
        "SELECT count(*) FROM profile WHERE id = ?1 OR instr(doc, ?1)",
        "SELECT count(*) FROM profile_id WHERE alias = ?1 OR profile_id = ?1",
        "SELECT count(*) FROM session WHERE profile_id = ?1 OR instr(doc, ?1)",
        "SELECT count(*) FROM event WHERE profile_id = ?1 OR instr(doc, ?1)",
        "SELECT count(*) FROM event_profile WHERE profile_id = ?1",
    };
    static const char *const pg_sql[] = {
        "SELECT count(*) FROM profile WHERE id = $1 OR strpos(doc::text, $1) > 0",
        "SELECT count(*) FROM profile_id WHERE alias = $1 OR profile_id = $1",
        "SELECT count(*) FROM session WHERE profile_id = $1 OR strpos(doc::text, $1) > 0",
        "SELECT count(*) FROM event WHERE profile_id = $1 OR strpos(doc::text, $1) > 0",
        "SELECT count(*) FROM event WHERE profile_id = $1", /* its index: event_profile's */
    };
    long n = 0;
    if (f->pg) {
        PGconn *c = pg_raw(f);
        for (size_t q = 0; q < sizeof(pg_sql) / sizeof(pg_sql[0]); q++)
            for (int i = 0; i < nids; i++) {
                PGresult *r = PQexecParams(c, pg_sql[q], 1, NULL, &ids[i], NULL, NULL, 0);
                assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
                n += atol(PQgetvalue(r, 0, 0));
                PQclear(r);
            }
        PQfinish(c);
        return n;
    }
    sqlite3 *db;
    char path[128];
    snprintf(path, sizeof(path), "%s/cdpd.db", f->dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    for (size_t q = 0; q < sizeof(sql) / sizeof(sql[0]); q++) {
        for (int i = 0; i < nids; i++) {
            sqlite3_stmt *st;
            assert_int_equal(sqlite3_prepare_v2(db, sql[q], -1, &st, NULL), SQLITE_OK);
            sqlite3_bind_text(st, 1, ids[i], -1, SQLITE_STATIC);
            assert_int_equal(sqlite3_step(st), SQLITE_ROW);
            n += sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
    }
    sqlite3_close(db);
    return n;
}

static void put_doc(struct fixture *f, int (*put)(struct cdp_store *, const cJSON *),
                    const char *text)
{
    cJSON *d = cJSON_Parse(text);
    assert_non_null(d);
    assert_int_equal(put(f->s, d), 0);
    cJSON_Delete(d);
}

/* A person "pa" known as pa, old-a (merged into it) and mail-a, with a session and events under
 * both pa and old-a, some indexed by maintain() and some not; and a bystander "pb". */
static void put_people(struct fixture *f)
{
    const struct cdp_store_ops *ops = f->s->ops;
    char e[256];
    put_doc(f, ops->profile_put,
            "{\"id\":\"pa\",\"ids\":[\"pa\",\"old-a\",\"mail-a\"],"
            "\"traits\":{\"email\":\"a@example.com\"}}");
    put_doc(f, ops->profile_put, "{\"id\":\"pb\",\"ids\":[\"pb\"],\"traits\":{}}");
    put_doc(f, ops->session_put, "{\"id\":\"sa1\",\"profile\":{\"id\":\"pa\"}}");
    put_doc(f, ops->session_put, "{\"id\":\"sa2\",\"profile\":{\"id\":\"old-a\"}}");
    put_doc(f, ops->session_put, "{\"id\":\"sb1\",\"profile\":{\"id\":\"pb\"}}");
    for (int i = 0; i < 6; i++) {
        if (i == 3)
            assert_int_equal(ops->maintain(f->s), 0); /* the first half indexed */
        snprintf(e, sizeof(e),
                 "{\"id\":\"ea%d\",\"type\":\"t\",\"profile\":{\"id\":\"%s\"},"
                 "\"session\":{\"id\":\"sa%d\"},"
                 "\"metadata\":{\"time\":{\"insert\":\"2024-01-01T00:00:0%dZ\"}}}",
                 i, i % 2 ? "old-a" : "pa", 1 + i % 2, i);
        put_doc(f, ops->event_put, e);
        snprintf(e, sizeof(e),
                 "{\"id\":\"eb%d\",\"type\":\"t\",\"profile\":{\"id\":\"pb\"},"
                 "\"session\":{\"id\":\"sb1\"}}",
                 i);
        put_doc(f, ops->event_put, e);
    }
}

static void test_profile_erase(void **state)
{
    struct fixture *f = *state;
    const struct cdp_store_ops *ops = f->s->ops;
    static const char *const ids[] = {"pa", "old-a", "mail-a", "a@example.com"};
    put_people(f);
    assert_int_equal(rows_mentioning(f, ids, 4) > 0, true);
    struct cdp_erasure_counts n;
    assert_int_equal(ops->begin(f->s), 0);
    assert_int_equal(ops->profile_erase(f->s, "mail-a", &n), 0); /* by a secondary id */
    assert_int_equal(ops->commit(f->s), 0);
    assert_int_equal(n.profiles, 1);
    assert_int_equal(n.ids, 3);
    assert_int_equal(n.sessions, 2);
    assert_int_equal(n.events, 6);
    assert_int_equal(rows_mentioning(f, ids, 4), 0);
    /* Nothing comes back once the bulk index catches up, nor through any read. */
    assert_int_equal(ops->maintain(f->s), 0);
    assert_int_equal(ops->maintain(f->s), 0);
    assert_int_equal(rows_mentioning(f, ids, 4), 0);
    cJSON *got = NULL, *list;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ops->profile_get(f->s, ids[i], &got), CDP_E_NOT_FOUND);
        assert_int_equal(profile_events(f, ids[i], &list), 0);
        assert_int_equal(cJSON_GetArraySize(list), 0);
        cJSON_Delete(list);
    }
    assert_int_equal(ops->session_get(f->s, "sa1", &got), CDP_E_NOT_FOUND);
    assert_int_equal(ops->event_get(f->s, "ea0", &got), CDP_E_NOT_FOUND);
    assert_int_equal(ops->event_get(f->s, "ea5", &got), CDP_E_NOT_FOUND);
    /* The bystander keeps everything. */
    static const char *const other[] = {"pb"};
    assert_int_equal(rows_mentioning(f, other, 1), 1 + 1 + 1 + 6 + 6);
    assert_int_equal(profile_events(f, "pb", &list), 6);
    cJSON_Delete(list);
    assert_int_equal(ops->begin(f->s), 0);
    assert_int_equal(ops->profile_erase(f->s, "pa", &n), CDP_E_NOT_FOUND);
    assert_int_equal(ops->rollback(f->s), 0);
}

/* Erasing before maintain() has indexed anything leaves nothing for it to index. */
static void test_profile_erase_unindexed(void **state)
{
    struct fixture *f = *state;
    const struct cdp_store_ops *ops = f->s->ops;
    put_doc(f, ops->profile_put, "{\"id\":\"px\",\"ids\":[\"px\"]}");
    put_doc(f, ops->event_put, "{\"id\":\"ex1\",\"type\":\"t\",\"profile\":{\"id\":\"px\"}}");
    put_doc(f, ops->event_put, "{\"id\":\"ex2\",\"type\":\"t\",\"profile\":{\"id\":\"px\"}}");
    struct cdp_erasure_counts n;
    assert_int_equal(ops->begin(f->s), 0);
    assert_int_equal(ops->profile_erase(f->s, "px", &n), 0);
    assert_int_equal(ops->commit(f->s), 0);
    assert_int_equal(n.events, 2);
    assert_int_equal(ops->maintain(f->s), 0);
    static const char *const ids[] = {"px"};
    assert_int_equal(rows_mentioning(f, ids, 1), 0);
}

static void test_profile_export(void **state)
{
    struct fixture *f = *state;
    const struct cdp_store_ops *ops = f->s->ops;
    put_people(f);
    cJSON *x = NULL;
    assert_int_equal(ops->profile_export(f->s, "old-a", -1, &x), 0);
    /* Raw documents inside: what the API prints must parse back. */
    char *text = cdp_json_print(x);
    cJSON_Delete(x);
    x = cJSON_Parse(text);
    free(text);
    assert_non_null(x);
    assert_string_equal(cdp_json_str(x, "profile.id"), "pa");
    assert_string_equal(cdp_json_str(x, "profile.traits.email"), "a@example.com");
    cJSON *ids = cJSON_GetObjectItem(x, "ids");
    assert_int_equal(cJSON_GetArraySize(ids), 3);
    assert_string_equal(cJSON_GetArrayItem(ids, 0)->valuestring, "mail-a");
    assert_string_equal(cJSON_GetArrayItem(ids, 1)->valuestring, "old-a");
    assert_string_equal(cJSON_GetArrayItem(ids, 2)->valuestring, "pa");
    cJSON *sessions = cJSON_GetObjectItem(x, "sessions");
    assert_int_equal(cJSON_GetArraySize(sessions), 2);
    cJSON *events = cJSON_GetObjectItem(x, "events");
    assert_int_equal(cJSON_GetArraySize(events), 6);
    for (int i = 0; i < 6; i++) { /* oldest first, the merged id's events among them */
        char want[8];
        snprintf(want, sizeof(want), "ea%d", i);
        assert_string_equal(cdp_json_str(cJSON_GetArrayItem(events, i), "id"), want);
    }
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(x, "truncated")));
    cJSON_Delete(x);
    /* Capped: the oldest events, and a word that there were more. */
    assert_int_equal(ops->profile_export(f->s, "pa", 4, &x), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(x, "events")), 4);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(x, "truncated")));
    cJSON_Delete(x);
    assert_int_equal(ops->profile_export(f->s, "pa", 6, &x), 0);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(x, "truncated")));
    cJSON_Delete(x);
    /* Inside a caller's transaction too. */
    assert_int_equal(ops->begin(f->s), 0);
    assert_int_equal(ops->profile_export(f->s, "pb", 100, &x), 0);
    assert_int_equal(ops->commit(f->s), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(x, "events")), 6);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(x, "sessions")), 1);
    cJSON_Delete(x);
    assert_int_equal(ops->profile_export(f->s, "nobody", 100, &x), CDP_E_NOT_FOUND);
}

static void test_entities(void **state)
{
    struct fixture *f = *state;
    const struct cdp_store_ops *ops = f->s->ops;
    int64_t v1, v2;
    assert_int_equal(ops->entity_version(f->s, &v1), 0);
    cJSON *d = cJSON_Parse("{\"id\":\"a\",\"name\":\"A\"}");
    assert_int_equal(ops->entity_put(f->s, "event-source", "a", d), 0);
    cJSON_Delete(d);
    assert_int_equal(ops->entity_version(f->s, &v2), 0);
    assert_true(v2 > v1);
    cJSON *list;
    long total;
    assert_int_equal(ops->entity_list(f->s, "event-source", NULL, 0, 10, &list, &total), 0);
    assert_int_equal(total, 2);
    cJSON_Delete(list);
    assert_int_equal(ops->entity_delete(f->s, "event-source", "a"), 0);
    assert_int_equal(ops->entity_delete(f->s, "event-source", "a"), CDP_E_NOT_FOUND);
}

static void test_tokens(void **state)
{
    struct fixture *f = *state;
    const struct cdp_store_ops *ops = f->s->ops;
    char uid[64];
    assert_int_equal(ops->token_put(f->s, "h1", "u1", 100), 0);
    assert_int_equal(ops->token_touch(f->s, "h1", 50, 200, 0, uid, sizeof(uid)), 0);
    assert_string_equal(uid, "u1");
    assert_int_equal(ops->token_touch(f->s, "h1", 150, 300, 0, uid, sizeof(uid)), 0);  /* slid */
    assert_int_equal(ops->token_touch(f->s, "h1", 160, 310, 50, uid, sizeof(uid)), 0); /* small */
    assert_int_equal(ops->token_touch(f->s, "h1", 305, 400, 0, uid, sizeof(uid)), CDP_E_NOT_FOUND);
}

/* Runs one payload through cdp_track_run in its own transaction; returns the reply. */
static cJSON *track(struct fixture *f, const char *payload, bool profile_less, int *status)
{
    struct cdp_job job = {
        .payload = cJSON_Parse(payload), .bridge = "rest", .profile_less = profile_less};
    snprintf(job.ip, sizeof(job.ip), "127.0.0.1");
    assert_non_null(job.payload);
    assert_int_equal(f->s->ops->begin(f->s), 0);
    cdp_source_cache_sync(f->env.sources, f->s);
    cdp_routing_sync(f->env.routing, f->s);
    assert_int_equal(cdp_track_run(&f->env, &job), 0);
    assert_int_equal(f->s->ops->commit(f->s), 0);
    cJSON_Delete(job.payload);
    *status = job.status;
    return job.reply;
}

static int visits(struct fixture *f, const char *pid)
{
    cJSON *p = NULL;
    if (f->s->ops->profile_get(f->s, pid, &p))
        return -1;
    int n = cdp_json_get(p, "metadata.time.visit.count")->valueint;
    cJSON_Delete(p);
    return n;
}

static void test_resolution(void **state)
{
    struct fixture *f = *state;
    int st;
    char pl[512], pid[64], sid[64];
    /* new session, no profile: a new profile and one visit */
    cJSON *r = track(f,
                     "{\"source\":{\"id\":\"web\"},\"session\":{\"id\":\"s1\"},"
                     "\"events\":[{\"type\":\"page-view\"}]}",
                     false, &st);
    assert_int_equal(st, 200);
    snprintf(pid, sizeof(pid), "%s", cdp_json_str(r, "profile.id"));
    assert_string_equal(cdp_json_str(r, "session.id"), "s1");
    cJSON_Delete(r);
    assert_int_equal(visits(f, pid), 1);
    /* known session, other profile id sent: the session's profile wins, no new visit */
    r = track(f,
              "{\"source\":{\"id\":\"web\"},\"session\":{\"id\":\"s1\"},"
              "\"profile\":{\"id\":\"someone-else\"},\"events\":[{\"type\":\"a\"}]}",
              false, &st);
    assert_string_equal(cdp_json_str(r, "profile.id"), pid);
    cJSON_Delete(r);
    assert_int_equal(visits(f, pid), 1);
    /* new session with the known profile: same profile, a new visit */
    snprintf(pl, sizeof(pl),
             "{\"source\":{\"id\":\"web\"},\"session\":{\"id\":\"s2\"},\"profile\":{\"id\":\"%s\"},"
             "\"events\":[{\"type\":\"a\"}]}",
             pid);
    r = track(f, pl, false, &st);
    assert_string_equal(cdp_json_str(r, "profile.id"), pid);
    cJSON_Delete(r);
    assert_int_equal(visits(f, pid), 2);
    /* no session id with the known profile: an artificial session, not a visit */
    snprintf(
        pl, sizeof(pl),
        "{\"source\":{\"id\":\"web\"},\"profile\":{\"id\":\"%s\"},\"events\":[{\"type\":\"a\"}]}",
        pid);
    r = track(f, pl, false, &st);
    assert_string_equal(cdp_json_str(r, "profile.id"), pid);
    snprintf(sid, sizeof(sid), "%s", cdp_json_str(r, "session.id"));
    assert_int_equal(strlen(sid), 36);
    cJSON_Delete(r);
    assert_int_equal(visits(f, pid), 2);
    /* forged profile id on a new session: a new UUID, never the sent id */
    r = track(f,
              "{\"source\":{\"id\":\"web\"},\"session\":{\"id\":\"s3\"},"
              "\"profile\":{\"id\":\"forged\"},\"events\":[{\"type\":\"a\"}]}",
              false, &st);
    assert_string_not_equal(cdp_json_str(r, "profile.id"), "forged");
    assert_string_not_equal(cdp_json_str(r, "profile.id"), pid);
    assert_int_equal(strlen(cdp_json_str(r, "profile.id")), 36);
    cJSON_Delete(r);
    /* profile-less: no profile at all */
    r = track(f, "{\"source\":{\"id\":\"web\"},\"events\":[{\"type\":\"a\"}]}", true, &st);
    assert_true(cJSON_IsNull(cdp_json_get(r, "profile.id")));
    cJSON_Delete(r);
}

static void test_source_checks(void **state)
{
    struct fixture *f = *state;
    int st;
    cJSON *r = track(f, "{\"source\":{\"id\":\"nope\"},\"events\":[{\"type\":\"a\"}]}", false, &st);
    assert_int_equal(st, 401);
    cJSON_Delete(r);
    r = track(f, "{\"source\":{\"id\":\"@internal\"},\"events\":[{\"type\":\"a\"}]}", false, &st);
    assert_int_equal(st, 401);
    cJSON_Delete(r);
    cJSON *src = cJSON_Parse("{\"id\":\"off\",\"name\":\"Off\",\"type\":[\"rest\"],"
                             "\"enabled\":false}");
    f->s->ops->entity_put(f->s, "event-source", "off", src);
    cJSON_Delete(src);
    r = track(f, "{\"source\":{\"id\":\"off\"},\"events\":[{\"type\":\"a\"}]}", false, &st);
    assert_int_equal(st, 403);
    cJSON_Delete(r);
}

static void count_flush(void *ud, const cJSON *doc)
{
    (void)doc;
    (*(int *)ud)++;
}

static void test_hotcache(void **state)
{
    (void)state;
    struct cdp_hotcache *c = cdp_hotcache_new(2);
    cdp_hotcache_put(c, "a", cJSON_CreateNumber(1));
    cdp_hotcache_put(c, "b", cJSON_CreateNumber(2));
    assert_non_null(cdp_hotcache_peek(c, "a"));      /* a is now the most recent */
    cdp_hotcache_put(c, "c", cJSON_CreateNumber(3)); /* evicts b */
    assert_null(cdp_hotcache_peek(c, "b"));
    cJSON *a = cdp_hotcache_take(c, "a");
    assert_int_equal(a->valueint, 1);
    cJSON_Delete(a);
    assert_null(cdp_hotcache_take(c, "a"));
    cdp_hotcache_put(c, "c", cJSON_CreateNumber(4)); /* replaces */
    assert_int_equal(cdp_hotcache_count(c), 1);
    assert_int_equal(cdp_hotcache_peek(c, "c")->valueint, 4);
    cdp_hotcache_clear(c);
    assert_int_equal(cdp_hotcache_count(c), 0);
    cdp_hotcache_free(c);
    /* Dirty entries are handed to the flush function: oldest first, bounded, and on eviction. */
    c = cdp_hotcache_new(2);
    int flushed = 0;
    cdp_hotcache_on_flush(c, count_flush, &flushed);
    cdp_hotcache_put_dirty(c, "a", cJSON_CreateNumber(1), 10.0);
    cdp_hotcache_put_dirty(c, "b", cJSON_CreateNumber(2), 11.0);
    assert_int_equal(cdp_hotcache_flush(c, 9.0, 10), 0);  /* none dirty that long */
    assert_int_equal(cdp_hotcache_flush(c, 10.5, 10), 1); /* only a */
    assert_int_equal(flushed, 1);
    cdp_hotcache_put_dirty(c, "b", cJSON_CreateNumber(3), 12.0); /* still owed since 11 */
    assert_int_equal(cdp_hotcache_flush(c, 11.0, 10), 1);
    cdp_hotcache_put_dirty(c, "c", cJSON_CreateNumber(4), 13.0);
    cdp_hotcache_put(c, "d", cJSON_CreateNumber(5)); /* evicts dirty c's neighbour... */
    cdp_hotcache_put(c, "e", cJSON_CreateNumber(6)); /* ...and then c, written back first */
    assert_int_equal(flushed, 3);
    cJSON_Delete(cdp_hotcache_take(c, "e"));
    cdp_hotcache_free(c);
    c = cdp_hotcache_new(0); /* keeps nothing */
    cdp_hotcache_put(c, "a", cJSON_CreateNumber(1));
    assert_null(cdp_hotcache_peek(c, "a"));
    cdp_hotcache_free(c);
}

/* Transactions nest as savepoints; what a rolled back savepoint wrote is gone, and a statement
 * that fails (a duplicate token) leaves the transaction usable. */
static void test_transactions(void **state)
{
    struct fixture *f = *state;
    const struct cdp_store_ops *ops = f->s->ops;
    cJSON *got = NULL;
    assert_int_equal(ops->begin(f->s), 0);
    assert_int_equal(ops->savepoint(f->s), 0);
    put_doc(f, ops->profile_put, "{\"id\":\"gone\",\"ids\":[\"gone\"]}");
    assert_int_equal(ops->rollback_to(f->s), 0);
    assert_int_equal(ops->savepoint(f->s), 0);
    put_doc(f, ops->profile_put, "{\"id\":\"kept\",\"ids\":[\"kept\"]}");
    assert_int_equal(ops->token_put(f->s, "t1", "u1", 100), 0);
    assert_int_not_equal(ops->token_put(f->s, "t1", "u2", 100), 0); /* a duplicate */
    put_doc(f, ops->profile_put, "{\"id\":\"kept2\",\"ids\":[\"kept2\"]}");
    assert_int_equal(ops->release(f->s), 0);
    assert_int_equal(ops->commit(f->s), 0);
    assert_int_equal(ops->profile_get(f->s, "gone", &got), CDP_E_NOT_FOUND);
    assert_int_equal(ops->profile_get(f->s, "kept", &got), 0);
    cJSON_Delete(got);
    assert_int_equal(ops->profile_get(f->s, "kept2", &got), 0);
    cJSON_Delete(got);
    /* A savepoint outside a transaction is one: released, it commits. */
    assert_int_equal(ops->savepoint(f->s), 0);
    put_doc(f, ops->profile_put, "{\"id\":\"sp\",\"ids\":[\"sp\"]}");
    assert_int_equal(ops->release(f->s), 0);
    assert_int_equal(ops->profile_get(f->s, "sp", &got), 0);
    cJSON_Delete(got);
    assert_int_equal(ops->begin(f->s), 0);
    put_doc(f, ops->profile_put, "{\"id\":\"rb\",\"ids\":[\"rb\"]}");
    assert_int_equal(ops->rollback(f->s), 0);
    assert_int_equal(ops->profile_get(f->s, "rb", &got), CDP_E_NOT_FOUND);
}

static cJSON *user_doc(const char *id, const char *email)
{
    cJSON *d = cJSON_CreateObject();
    cdp_json_put_str(d, "id", id);
    cdp_json_put_str(d, "email", email);
    return d;
}

/* Users, tokens, meta values and the audit log. */
static void test_users_audit_meta(void **state)
{
    struct fixture *f = *state;
    const struct cdp_store_ops *ops = f->s->ops;
    struct cdp_user_rec u = {.id = "u1", .email = "a@x.io", .pwhash = "h1"};
    u.doc = user_doc("u1", "a@x.io");
    assert_int_equal(ops->user_put(f->s, &u), 0);
    cJSON_Delete(u.doc);
    struct cdp_user_rec v = {.id = "u2", .email = "b@x.io", .pwhash = "h2"};
    v.doc = user_doc("u2", "b@x.io");
    assert_int_equal(ops->user_put(f->s, &v), 0);
    /* Another user's e-mail is a conflict, inside a transaction that goes on. */
    assert_int_equal(ops->begin(f->s), 0);
    snprintf(v.email, sizeof(v.email), "a@x.io");
    assert_int_equal(ops->user_put(f->s, &v), CDP_E_CONFLICT);
    assert_int_equal(ops->meta_put(f->s, "k", "v1"), 0);
    assert_int_equal(ops->commit(f->s), 0);
    cJSON_Delete(v.doc);
    char val[16];
    assert_int_equal(ops->meta_get(f->s, "k", val, sizeof(val)), 0);
    assert_string_equal(val, "v1");
    assert_int_equal(ops->meta_put(f->s, "k", "v2"), 0);
    assert_int_equal(ops->meta_get(f->s, "k", val, sizeof(val)), 0);
    assert_string_equal(val, "v2");
    assert_int_equal(ops->meta_get(f->s, "nope", val, sizeof(val)), CDP_E_NOT_FOUND);
    struct cdp_user_rec got;
    assert_int_equal(ops->user_get(f->s, "A@X.IO", &got), 0);
    assert_string_equal(got.id, "u1");
    assert_string_equal(got.pwhash, "h1");
    assert_string_equal(cdp_json_str(got.doc, "email"), "a@x.io");
    cdp_user_rec_fini(&got);
    cJSON *list;
    long total;
    assert_int_equal(ops->user_list(f->s, 1, 10, &list, &total), 0);
    assert_int_equal(total, 2);
    assert_int_equal(cJSON_GetArraySize(list), 1);
    assert_string_equal(cdp_json_str(cJSON_GetArrayItem(list, 0), "id"), "u2");
    cJSON_Delete(list);
    char uid[64];
    assert_int_equal(ops->token_put(f->s, "ta", "u1", 100), 0);
    assert_int_equal(ops->token_put(f->s, "tb", "u1", 100), 0);
    assert_int_equal(ops->tokens_delete_user(f->s, "u1", "ta"), 0);
    assert_int_equal(ops->token_touch(f->s, "ta", 1, 100, 0, uid, sizeof(uid)), 0);
    assert_int_equal(ops->token_touch(f->s, "tb", 1, 100, 0, uid, sizeof(uid)), CDP_E_NOT_FOUND);
    assert_int_equal(ops->token_delete(f->s, "ta"), 0);
    assert_int_equal(ops->token_touch(f->s, "ta", 1, 100, 0, uid, sizeof(uid)), CDP_E_NOT_FOUND);
    assert_int_equal(ops->user_delete(f->s, "u2"), 0);
    assert_int_equal(ops->user_delete(f->s, "u2"), CDP_E_NOT_FOUND);
    for (int i = 0; i < 3; i++) {
        char rec[256];
        snprintf(rec, sizeof(rec),
                 "{\"id\":\"a%d\",\"time\":\"2024-01-0%dT00:00:00Z\",\"user\":{\"id\":\"u%d\","
                 "\"email\":\"%s\"},\"entity\":{\"kind\":\"%s\",\"id\":\"x\"}}",
                 i, i + 1, i % 2 + 1, i % 2 ? "b@x.io" : "a@x.io", i ? "segment" : "flow");
        put_doc(f, ops->audit_put, rec);
    }
    struct cdp_audit_filter af = {.user = "a@x.io"};
    assert_int_equal(ops->audit_list(f->s, &af, 0, 10, &list, &total), 0);
    assert_int_equal(total, 2);
    assert_string_equal(cdp_json_str(cJSON_GetArrayItem(list, 0), "id"), "a2"); /* newest first */
    cJSON_Delete(list);
    af = (struct cdp_audit_filter){.kind = "segment", .since_us = 1704153600000000LL};
    assert_int_equal(ops->audit_list(f->s, &af, 0, 10, &list, &total), 0);
    assert_int_equal(total, 2);
    cJSON_Delete(list);
    assert_int_equal(ops->audit_list(f->s, NULL, 0, 1, &list, &total), 0);
    assert_int_equal(total, 3);
    assert_int_equal(cJSON_GetArraySize(list), 1);
    cJSON_Delete(list);
}

/* Entity kinds, filtered and sorted pages, and session touches. */
static void test_entity_list_touch(void **state)
{
    struct fixture *f = *state;
    const struct cdp_store_ops *ops = f->s->ops;
    const char *docs[] = {"{\"id\":\"s1\",\"name\":\"beta\",\"type\":{\"id\":\"t1\"}}",
                          "{\"id\":\"s2\",\"name\":\"Alpha\",\"type\":{\"id\":\"t2\"}}",
                          "{\"id\":\"s3\",\"name\":\"gamma\",\"type\":{\"id\":\"t1\"}}"};
    for (int i = 0; i < 3; i++) {
        cJSON *d = cJSON_Parse(docs[i]);
        char id[8];
        snprintf(id, sizeof(id), "s%d", i + 1);
        assert_int_equal(ops->entity_put(f->s, "segment", id, d), 0);
        cJSON_Delete(d);
    }
    cJSON *list;
    long total;
    struct cdp_entity_query q = {.sort = "$.name"};
    assert_int_equal(ops->entity_list(f->s, "segment", &q, 0, 10, &list, &total), 0);
    assert_int_equal(total, 3);
    assert_string_equal(cdp_json_str(cJSON_GetArrayItem(list, 0), "id"), "s2"); /* no case */
    assert_string_equal(cdp_json_str(cJSON_GetArrayItem(list, 2), "id"), "s3");
    cJSON_Delete(list);
    q = (struct cdp_entity_query){
        .sort = "$.name", .desc = true, .where = "$.type.id", .equals = "t1"};
    assert_int_equal(ops->entity_list(f->s, "segment", &q, 0, 1, &list, &total), 0);
    assert_int_equal(total, 2);
    assert_int_equal(cJSON_GetArraySize(list), 1);
    assert_string_equal(cdp_json_str(cJSON_GetArrayItem(list, 0), "id"), "s3");
    cJSON_Delete(list);
    assert_int_equal(ops->entity_kinds(f->s, &list), 0);
    assert_int_equal(cJSON_GetArraySize(list), 2);
    assert_string_equal(cJSON_GetArrayItem(list, 0)->valuestring, "event-source");
    assert_string_equal(cJSON_GetArrayItem(list, 1)->valuestring, "segment");
    cJSON_Delete(list);
    put_doc(f, ops->session_put,
            "{\"id\":\"s\",\"profile\":{\"id\":\"p\"},\"metadata\":{\"time\":{\"insert\":\"x\"}}}");
    assert_int_equal(ops->session_touch(f->s, "s", "2024-01-01T00:00:00Z", 12.5, "active"), 0);
    assert_int_equal(ops->session_touch(f->s, "none", "2024-01-01T00:00:00Z", 1, "active"), 0);
    cJSON *got = NULL;
    assert_int_equal(ops->session_get(f->s, "s", &got), 0);
    assert_string_equal(cdp_json_str(got, "metadata.time.update"), "2024-01-01T00:00:00Z");
    assert_string_equal(cdp_json_str(got, "metadata.time.insert"), "x");
    assert_true(cdp_json_get(got, "metadata.time.duration")->valuedouble == 12.5);
    assert_string_equal(cdp_json_str(got, "metadata.status"), "active");
    cJSON_Delete(got);
    assert_int_equal(ops->session_get(f->s, "none", &got), CDP_E_NOT_FOUND);
    put_doc(f, ops->profile_put, "{\"id\":\"p1\",\"ids\":[\"p1\"],\"segments\":[\"a\",\"b\"]}");
    put_doc(f, ops->profile_put, "{\"id\":\"p2\",\"ids\":[\"p2\"],\"segments\":[\"a\"]}");
    assert_int_equal(ops->segment_counts(f->s, &got), 0);
    assert_int_equal(cJSON_GetObjectItem(got, "a")->valueint, 2);
    assert_int_equal(cJSON_GetObjectItem(got, "b")->valueint, 1);
    cJSON_Delete(got);
    assert_int_equal(ops->profiles_scan(f->s, "p1", 10, &list), 0);
    assert_int_equal(cJSON_GetArraySize(list), 1);
    assert_string_equal(cdp_json_str(cJSON_GetArrayItem(list, 0), "id"), "p2");
    cJSON_Delete(list);
}

/* A merge moves the absorbed profile's ids, sessions and events to the survivor; its undo
 * brings them back, once. */
static void test_merge_undo(void **state)
{
    struct fixture *f = *state;
    const struct cdp_store_ops *ops = f->s->ops;
    put_people(f); /* pa (with old-a), pb */
    cJSON *pa = NULL, *pb = NULL;
    assert_int_equal(ops->profile_get(f->s, "pa", &pa), 0);
    assert_int_equal(ops->profile_get(f->s, "pb", &pb), 0);
    cJSON *rec = cJSON_CreateObject();
    cdp_json_put_str(rec, "id", "m1");
    cJSON *surv = cdp_json_obj(rec, "survivor");
    cdp_json_put_str(surv, "id", "pa");
    cdp_json_put(surv, "before", pa);
    cJSON *abs = cJSON_AddArrayToObject(rec, "absorbed");
    cJSON *a = cJSON_CreateObject();
    cdp_json_put_str(a, "id", "pb");
    cdp_json_put(a, "profile", pb);
    cJSON_AddItemToArray(abs, a);
    assert_int_equal(ops->begin(f->s), 0);
    assert_int_equal(ops->profile_merge(f->s, rec), 0);
    put_doc(f, ops->profile_put,
            "{\"id\":\"pa\",\"ids\":[\"pa\",\"old-a\",\"mail-a\",\"pb\"],\"merged\":true}");
    assert_int_equal(ops->commit(f->s), 0);
    assert_int_equal(cdp_json_get(a, "events")->valueint, 6);
    assert_int_equal(cJSON_GetArraySize(cdp_json_get(a, "sessions")), 1);
    cJSON_Delete(rec);
    cJSON *got = NULL, *list;
    assert_int_equal(ops->profile_get(f->s, "pb", &got), 0);
    assert_string_equal(cdp_json_str(got, "id"), "pa");
    cJSON_Delete(got);
    assert_int_equal(profile_events(f, "pb", &list), 12);
    cJSON_Delete(list);
    assert_int_equal(ops->session_get(f->s, "sb1", &got), 0);
    assert_string_equal(cdp_json_str(got, "profile.id"), "pa");
    cJSON_Delete(got);
    assert_int_equal(ops->event_get(f->s, "eb0", &got), 0);
    assert_string_equal(cdp_json_str(got, "profile.id"), "pa");
    cJSON_Delete(got);
    long total;
    assert_int_equal(ops->merge_list(f->s, "pb", 0, 10, &list, &total), 0);
    assert_int_equal(total, 1);
    cJSON_Delete(list);
    assert_int_equal(ops->merge_list(f->s, NULL, 0, 10, &list, &total), 0);
    assert_int_equal(total, 1);
    cJSON_Delete(list);
    assert_int_equal(ops->merge_get(f->s, "m1", &got), 0);
    assert_string_equal(cdp_json_str(got, "survivor.id"), "pa");
    cJSON_Delete(got);
    char err[256];
    assert_int_equal(ops->begin(f->s), 0);
    assert_int_equal(ops->merge_undo(f->s, "m1", "2024-02-01T00:00:00Z", &got, err, sizeof(err)),
                     0);
    assert_int_equal(ops->commit(f->s), 0);
    assert_string_equal(cdp_json_str(got, "undone"), "2024-02-01T00:00:00Z");
    cJSON_Delete(got);
    assert_int_equal(ops->profile_get(f->s, "pb", &got), 0);
    assert_string_equal(cdp_json_str(got, "id"), "pb");
    cJSON_Delete(got);
    assert_int_equal(ops->profile_get(f->s, "pa", &got), 0);
    assert_null(cdp_json_get(got, "merged"));
    cJSON_Delete(got);
    assert_int_equal(profile_events(f, "pb", &list), 6);
    cJSON_Delete(list);
    assert_int_equal(ops->event_get(f->s, "eb0", &got), 0);
    assert_string_equal(cdp_json_str(got, "profile.id"), "pb");
    cJSON_Delete(got);
    assert_int_equal(ops->begin(f->s), 0);
    assert_int_equal(ops->merge_undo(f->s, "m1", "2024-02-02T00:00:00Z", &got, err, sizeof(err)),
                     CDP_E_CONFLICT);
    assert_int_equal(ops->rollback(f->s), 0);
    assert_int_equal(ops->merge_get(f->s, "nope", &got), CDP_E_NOT_FOUND);
}

/* PostgreSQL: fenced writes keep the newest fence's document, whatever order they come in. */
static void test_pg_fenced(void **state)
{
    struct fixture *f = *state;
    const struct cdp_store_ops *ops = f->s->ops;
    const char *v[] = {"{\"id\":\"p\",\"ids\":[\"p\",\"p-a\"],\"v\":1}",
                       "{\"id\":\"p\",\"ids\":[\"p\",\"p-old\"],\"v\":2}",
                       "{\"id\":\"p\",\"ids\":[\"p\",\"p-b\"],\"v\":3}"};
    const int64_t fence[] = {5, 3, 7};
    for (int round = 0; round < 2; round++) /* the second: a replay of all three */
        for (int i = 0; i < 3; i++) {
            cJSON *d = cJSON_Parse(v[i]);
            assert_int_equal(ops->profile_put_fenced(f->s, d, fence[i]), 0);
            cJSON_Delete(d);
        }
    cJSON *got = NULL;
    assert_int_equal(ops->profile_get(f->s, "p-b", &got), 0);
    assert_int_equal(cdp_json_get(got, "v")->valueint, 3);
    cJSON_Delete(got);
    assert_int_equal(ops->profile_get(f->s, "p-a", &got), 0); /* ids stay as profile_put's */
    cJSON_Delete(got);
    assert_int_equal(ops->profile_get(f->s, "p-old", &got), CDP_E_NOT_FOUND); /* refused */
    const char *sv[] = {"{\"id\":\"s\",\"profile\":{\"id\":\"p\"},\"v\":1}",
                        "{\"id\":\"s\",\"profile\":{\"id\":\"q\"},\"v\":2}",
                        "{\"id\":\"s\",\"profile\":{\"id\":\"p\"},\"v\":3}"};
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 3; i++) {
            cJSON *d = cJSON_Parse(sv[i]);
            assert_int_equal(ops->session_put_fenced(f->s, d, fence[i]), 0);
            cJSON_Delete(d);
        }
    assert_int_equal(ops->session_get(f->s, "s", &got), 0);
    assert_int_equal(cdp_json_get(got, "v")->valueint, 3);
    cJSON_Delete(got);
    /* Inside a transaction too, and a newer fence after an older one writes. */
    assert_int_equal(ops->begin(f->s), 0);
    cJSON *d = cJSON_Parse("{\"id\":\"s\",\"profile\":{\"id\":\"p\"},\"v\":4}");
    assert_int_equal(ops->session_put_fenced(f->s, d, 8), 0);
    cJSON_Delete(d);
    assert_int_equal(ops->commit(f->s), 0);
    assert_int_equal(ops->session_get(f->s, "s", &got), 0);
    assert_int_equal(cdp_json_get(got, "v")->valueint, 4);
    cJSON_Delete(got);
    /* Integers beyond a double's precision keep their digits. */
    const char *big = "{\"id\":\"big\",\"ids\":[\"big\"],\"n\":12345678901234567891}";
    d = cdp_json_parse(big, strlen(big), NULL);
    assert_int_equal(ops->profile_put(f->s, d), 0);
    cJSON_Delete(d);
    assert_int_equal(ops->profile_get(f->s, "big", &got), 0);
    char *text = cdp_json_print(got);
    assert_non_null(strstr(text, "12345678901234567891"));
    free(text);
    cJSON_Delete(got);
}

/* PostgreSQL: an event already stored is left as it is. */
static void test_pg_event_idempotent(void **state)
{
    struct fixture *f = *state;
    const struct cdp_store_ops *ops = f->s->ops;
    put_doc(f, ops->event_put, "{\"id\":\"e\",\"type\":\"first\",\"profile\":{\"id\":\"p\"}}");
    put_doc(f, ops->event_put, "{\"id\":\"e\",\"type\":\"second\",\"profile\":{\"id\":\"p\"}}");
    assert_int_equal(ops->begin(f->s), 0);
    put_doc(f, ops->event_put, "{\"id\":\"e\",\"type\":\"third\",\"profile\":{\"id\":\"p\"}}");
    assert_int_equal(ops->commit(f->s), 0);
    cJSON *got = NULL, *list;
    assert_int_equal(ops->event_get(f->s, "e", &got), 0);
    assert_string_equal(cdp_json_str(got, "type"), "first");
    cJSON_Delete(got);
    assert_int_equal(profile_events(f, "p", &list), 1);
    cJSON_Delete(list);
}

/* PostgreSQL: external_version moves on another connection's commits, not on its own. */
static void test_pg_external_version(void **state)
{
    struct fixture *f = *state;
    const struct cdp_store_ops *ops = f->s->ops;
    struct cdp_store *other;
    char err[256];
    assert_int_equal(cdp_store_open(&other, f->url, NULL, err, sizeof(err)), 0);
    int64_t v0, v;
    assert_int_equal(ops->external_version(f->s, &v0), 0);
    assert_int_equal(ops->begin(f->s), 0);
    put_doc(f, ops->profile_put, "{\"id\":\"mine\",\"ids\":[\"mine\"]}");
    assert_int_equal(ops->commit(f->s), 0);
    assert_int_equal(ops->external_version(f->s, &v), 0);
    assert_int_equal(v, v0);
    put_doc(f, ops->profile_put, "{\"id\":\"mine2\",\"ids\":[\"mine2\"]}"); /* autocommit */
    assert_int_equal(ops->external_version(f->s, &v), 0);
    assert_int_equal(v, v0);
    cJSON *d = cJSON_Parse("{\"id\":\"theirs\",\"ids\":[\"theirs\"]}");
    assert_int_equal(other->ops->begin(other), 0);
    assert_int_equal(other->ops->profile_put(other, d), 0);
    assert_int_equal(other->ops->commit(other), 0);
    cJSON_Delete(d);
    assert_int_equal(ops->external_version(f->s, &v), 0);
    assert_int_not_equal(v, v0);
    cdp_store_close(other);
}

struct opener {
    const char *url;
    enum cdp_store_context context;
    int rc;
};

static void *open_one(void *arg)
{
    struct opener *o = arg;
    struct cdp_store_opts so = {.context = o->context};
    struct cdp_store *s;
    char err[256];
    o->rc = cdp_store_open(&s, o->url, &so, err, sizeof(err));
    if (!o->rc)
        cdp_store_close(s);
    return NULL;
}

/* PostgreSQL: stores opened at once on a new database all make (or find) their schema. */
static void test_pg_concurrent_open(void **state)
{
    struct fixture *f = *state;
    char url[256];
    assert_int_equal(pg_fixture_db(url, sizeof(url)), 0);
    struct opener o[8];
    pthread_t t[8];
    for (int i = 0; i < 8; i++) {
        o[i] = (struct opener){.url = url, .context = i % 2 ? CDP_STORE_STAGING : 0};
        assert_int_equal(pthread_create(&t[i], NULL, open_one, &o[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(o[i].rc, 0);
    }
    (void)f;
}

/* Ends the store's server connections from another one, as a server restart would. */
static void pg_kill_others(struct fixture *f)
{
    PGconn *c = pg_raw(f);
    PGresult *r = PQexec(c, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE datname = current_database() AND pid <> pg_backend_pid()");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    PQfinish(c);
    usleep(200 * 1000);
}

/* PostgreSQL: a lost connection fails the call (and the rest of its transaction) with
 * CDP_E_UNAVAILABLE; the next call reconnects. */
static void test_pg_reconnect(void **state)
{
    struct fixture *f = *state;
    const struct cdp_store_ops *ops = f->s->ops;
    cJSON *got = NULL;
    put_doc(f, ops->profile_put, "{\"id\":\"p\",\"ids\":[\"p\"]}");
    pg_kill_others(f);
    assert_int_equal(ops->profile_get(f->s, "p", &got), CDP_E_UNAVAILABLE);
    assert_int_equal(ops->profile_get(f->s, "p", &got), 0);
    cJSON_Delete(got);
    assert_int_equal(ops->begin(f->s), 0);
    put_doc(f, ops->profile_put, "{\"id\":\"q\",\"ids\":[\"q\"]}");
    pg_kill_others(f);
    assert_int_equal(ops->savepoint(f->s), CDP_E_UNAVAILABLE);
    assert_int_equal(ops->profile_get(f->s, "p", &got), CDP_E_UNAVAILABLE); /* not half a txn */
    assert_int_equal(ops->rollback(f->s), 0);
    assert_int_equal(ops->profile_get(f->s, "q", &got), CDP_E_NOT_FOUND);
    put_doc(f, ops->profile_put, "{\"id\":\"q\",\"ids\":[\"q\"]}");
    assert_int_equal(ops->profile_get(f->s, "q", &got), 0);
    cJSON_Delete(got);
    /* Inside a savepoint: its end and the commit fail, then the store works again. */
    cJSON *d = cJSON_Parse("{\"id\":\"r\",\"ids\":[\"r\"]}");
    assert_int_equal(ops->begin(f->s), 0);
    assert_int_equal(ops->savepoint(f->s), 0);
    pg_kill_others(f);
    assert_int_equal(ops->profile_put(f->s, d), CDP_E_UNAVAILABLE);
    assert_int_equal(ops->profile_put(f->s, d), CDP_E_UNAVAILABLE);
    assert_int_equal(ops->rollback_to(f->s), CDP_E_UNAVAILABLE);
    assert_int_equal(ops->commit(f->s), CDP_E_UNAVAILABLE);
    assert_int_equal(ops->profile_get(f->s, "r", &got), CDP_E_NOT_FOUND);
    assert_int_equal(ops->begin(f->s), 0);
    assert_int_equal(ops->profile_put(f->s, d), 0);
    assert_int_equal(ops->commit(f->s), 0);
    assert_int_equal(ops->profile_get(f->s, "r", &got), 0);
    cJSON_Delete(got);
    cJSON_Delete(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hotcache),
        cmocka_unit_test_setup_teardown(test_profile_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_entities, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_by_profile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_erase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_erase_unindexed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_export, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users_audit_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_entity_list_touch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_undo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolution, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_checks, setup, teardown),
    };
    /* The same conformance tests on PostgreSQL, and what only it does. */
    const struct CMUnitTest pg_tests[] = {
        cmocka_unit_test_setup_teardown(test_profile_ids, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_entities, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_events_by_profile, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_profile_erase, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_profile_erase_unindexed, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_profile_export, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_users_audit_meta, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_entity_list_touch, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_merge_undo, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_resolution, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_source_checks, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_pg_fenced, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_pg_event_idempotent, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_pg_external_version, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_pg_reconnect, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_pg_concurrent_open, setup_pg, teardown),
    };
    int failed = cmocka_run_group_tests_name("sqlite", tests, NULL, NULL);
    if (!pg_fixture_missing())
        failed += cmocka_run_group_tests_name("postgres", pg_tests, NULL, NULL);
    return failed;
}
