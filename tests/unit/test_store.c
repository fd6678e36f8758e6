/* Unit tests of the SQLite store and of profile/session resolution (cdp_track_run) on it. */
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

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fixture {
    char dir[64];
    struct cdp_store *s;
    struct cdp_config cfg;
    struct cdp_track_env env;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/cdpd-unit-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    char err[256];
    struct cdp_store_opts o = {.durable = false};
    if (cdp_store_open(&f->s, f->dir, &o, err, sizeof(err)))
        return -1;
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
    *state = f;
    return 0;
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
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
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
    sqlite3 *db;
    char path[128];
    snprintf(path, sizeof(path), "%s/cdpd.db", f->dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DELETE FROM event WHERE id = 'e1'", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
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

/* Rows in the database file that mention any of ids, in any column of the tables erasure
 * covers, counted through a connection of its own. */
static long rows_mentioning(struct fixture *f, const char *const *ids, int nids)
{
    static const char *const sql[] = {
        "SELECT count(*) FROM profile WHERE id = ?1 OR instr(doc, ?1)",
        "SELECT count(*) FROM profile_id WHERE alias = ?1 OR profile_id = ?1",
        "SELECT count(*) FROM session WHERE profile_id = ?1 OR instr(doc, ?1)",
        "SELECT count(*) FROM event WHERE profile_id = ?1 OR instr(doc, ?1)",
        "SELECT count(*) FROM event_profile WHERE profile_id = ?1",
    };
    sqlite3 *db;
    char path[128];
    snprintf(path, sizeof(path), "%s/cdpd.db", f->dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    long n = 0;
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
        cmocka_unit_test_setup_teardown(test_resolution, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_checks, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
