/* Unit tests of batch segmentation: the SQLite translation of conditions (store/sqlite_tql.c)
 * against the C evaluator (flow/tql.c) on generated profiles of every JSON kind, condition by
 * condition and operator by operator; and the whole job (job/segment.c) run once with the
 * store's translation and once all in C on copies of the same store, which must end with the
 * same profiles and the same counts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/json.h"
#include "flow/path.h"
#include "flow/segment.h"
#include "flow/tql.h"
#include "job/segment.h"
#include "store/pg_tql.h"
#include "store/query.h"
#include "store/sqlite_tql.h"
#include "store/store.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg_fixture.h"

/* 2024-01-18T12:00:00Z */
#define NOW_US   ((int64_t)1705579200 * 1000000)
#define NPROFILE 400

/* Values of every kind tql.c tells apart, with the edges of each comparison. */
static const char *const values[] = {
    "null",
    "true",
    "false",
    "0",
    "1",
    "-1",
    "1.5",
    "2",
    "10",
    "100",
    "1e3",
    "-0.0",
    "9007199254740993",
    "1.0000000000000002",
    "\"\"",
    "\"a\"",
    "\"abc\"",
    "\"ABC\"",
    "\"aBc\"",
    "\"abcdef\"",
    "\"b\"",
    "\"1\"",
    "\"true\"",
    "\"\\u00e9t\\u00c9\"",
    "\"Ab\"",
    "\"x\\\"y\"",
    "\"2024-01-10T12:00:00Z\"",
    "\"2024-01-10T12:00:00+00:00\"",
    "\"2030-01-01T00:00:00Z\"",
    "\"2024-01-18t12:00:00z\"",
    "\"not a date\"",
    "[]",
    "[\"a\"]",
    "[\"a\",\"b\"]",
    "[\"b\",\"a\"]",
    "[1,2]",
    "[1.0000000000000002,2]",
    "[1,\"a\",true,null]",
    "[[1,2],\"x\"]",
    "[\"2024-01-10T12:00:00Z\"]",
    "[\"abc\",1]",
    "[true]",
    "[null]",
    "{}",
    "{\"a\":1}",
    "{\"abc\":2,\"x\":\"y\"}",
    "{\"x\":{\"y\":1}}",
    "{\"x\":\"abc\"}",
};
#define NVALUES (sizeof(values) / sizeof(values[0]))

static const char *const segments_variants[] = {
    NULL,
    "[]",
    "[\"s0\"]",
    "[\"s1\",\"x\"]",
    "\"s0\"",
    "[\"s0\",\"s0\"]",
    "[1,\"s2\"]",
    "null",
    "[\"s3\",\"s0\",\"s5\"]",
};
static const char *const metadata_variants[] = {
    "{\"time\":{\"insert\":\"2024-01-01T00:00:00+00:00\",\"segmentation\":null}}",
    NULL,
    "{\"time\":5}",
    "7",
    "{\"time\":{\"segmentation\":\"2020-01-01T00:00:00+00:00\"},\"aux\":{}}",
};

/* Constants for the right-hand side of comparisons. */
static const char *const consts[] = {
    "null",
    "true",
    "false",
    "0",
    "1",
    "1.5",
    "-1",
    "9007199254740992",
    "1000",
    "\"\"",
    "\"a\"",
    "\"abc\"",
    "\"ABC\"",
    "\"b\"",
    "\"2024-01-10T12:00:00Z\"",
    "[\"a\",\"b\"]",
    "[1,2]",
    "[\"a\"]",
    "[]",
    "[1.0,2]",
    "[[1,2],\"x\"]",
    "[\"abc\",1,null,true]",
    "now()",
    "now.offset(\"-9d\")",
    "datetime(\"2024-01-10T12:00:00Z\")",
    "lowercase(\"ABC\")",
    "datetime.from_timestamp(1e12)",
};
#define NCONSTS (sizeof(consts) / sizeof(consts[0]))

static const char *const fields[] = {
    "profile@traits.a",
    "profile@traits.b",
    "profile@traits.o.x",
    "lowercase(profile@traits.a)",
    "uppercase(profile@traits.b)",
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* Conditions the store must leave to C. */
static const char *const untranslatable[] = {
    "event@type == \"purchase\"",
    "session@id EXISTS",
    "profile@traits.a == profile@traits.b",
    "profile@traits.a-b == 1",
    "profile@traits.l.0 == \"a\"",
    "profile@[\"traits\"][\"my key\"] == 1",
    "datetime(profile@traits.a) > now.offset(\"-30d\")",
    "profile@traits.a CONTAINS [1,2]",
    "1 == profile@traits.a",
    "profile@ EXISTS",
    "profile@traits.a == 1 OR event@type == \"x\"",
};

static uint64_t rng = 88172645463325252ull;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* A profile document of varied fields; id "p-<i>". */
static cJSON *make_profile(int i)
{
    char text[4096];
    const char *segs = segments_variants[rnd(sizeof(segments_variants) / sizeof(char *))];
    const char *meta = metadata_variants[rnd(sizeof(metadata_variants) / sizeof(char *))];
    int n = snprintf(text, sizeof(text), "{\"id\":\"p-%04d\",\"ids\":[\"p-%04d\"]", i, i);
    if (meta)
        n += snprintf(text + n, sizeof(text) - (size_t)n, ",\"metadata\":%s", meta);
    if (segs)
        n += snprintf(text + n, sizeof(text) - (size_t)n, ",\"segments\":%s", segs);
    n += snprintf(text + n, sizeof(text) - (size_t)n, ",\"traits\":{");
    static const char *const keys[] = {"a", "b", "o", "l"};
    const char *sep = "";
    for (size_t k = 0; k < 4; k++) {
        if (rnd(8) == 0)
            continue; /* missing */
        n += snprintf(text + n, sizeof(text) - (size_t)n, "%s\"%s\":%s", sep, keys[k],
                      values[rnd(NVALUES)]);
        sep = ",";
    }
    n += snprintf(text + n, sizeof(text) - (size_t)n, "},\"stats\":{\"visits\":%u}}", rnd(20));
    cJSON *doc = cdp_json_parse(text, (size_t)n, NULL);
    assert_non_null(doc);
    return doc;
}

struct conds {
    char **v;
    size_t n, cap;
};

static void add_cond(struct conds *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_cond(struct conds *c, const char *fmt, ...)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 256;
        c->v = realloc(c->v, c->cap * sizeof(char *));
        assert_non_null(c->v);
    }
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    c->v[c->n++] = strdup(buf);
}

static void free_conds(struct conds *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i]);
    free(c->v);
}

/* Every operator with every field form and every constant, plus combinations. */
static void all_conditions(struct conds *c)
{
    static const char *const binary[] = {"==", "!=",       ">",           ">=",       "<",
                                         "<=", "CONTAINS", "STARTS WITH", "ENDS WITH"};
    static const char *const unary[] = {"IS NULL",    "IS NOT NULL", "EXISTS",
                                        "NOT EXISTS", "EMPTY",       "NOT EMPTY"};
    for (size_t f = 0; f < NFIELDS; f++) {
        for (size_t u = 0; u < sizeof(unary) / sizeof(unary[0]); u++)
            add_cond(c, "%s %s", fields[f], unary[u]);
        for (size_t b = 0; b < sizeof(binary) / sizeof(binary[0]); b++)
            for (size_t k = 0; k < NCONSTS; k++)
                add_cond(c, "%s %s %s", fields[f], binary[b], consts[k]);
        add_cond(c, "%s BETWEEN 1 AND 10", fields[f]);
        add_cond(c, "%s BETWEEN \"a\" AND \"b\"", fields[f]);
        add_cond(c, "%s BETWEEN now.offset(\"-3650d\") AND now()", fields[f]);
        add_cond(c, "%s BETWEEN 1 AND \"b\"", fields[f]);
        add_cond(c, "%s BETWEEN 1 AND datetime.from_timestamp(1e12)", fields[f]);
    }
    for (size_t k = 0; k < NCONSTS; k++) {
        add_cond(c, "%s < profile@traits.a", consts[k]);
        add_cond(c, "%s >= profile@traits.b", consts[k]);
    }
    add_cond(c, "profile@traits.a == 1 AND profile@traits.b != \"a\"");
    add_cond(c, "profile@traits.a == 1 OR profile@traits.b EXISTS AND NOT profile@traits.o EMPTY");
    add_cond(c, "NOT (profile@traits.a > 1 OR profile@traits.a == \"abc\")");
    add_cond(c, "NOT profile@traits.a == 1");
    add_cond(c, "NOT NOT profile@traits.b CONTAINS \"a\"");
    add_cond(c, "profile@traits.l EXISTS AND (profile@traits.l == [\"a\",\"b\"] OR "
                "profile@traits.l STARTS WITH \"b\")");
    add_cond(c, "profile@segments CONTAINS \"s0\"");
    add_cond(c, "profile@segments EMPTY");
    add_cond(c, "profile@metadata.time.segmentation EXISTS");
    add_cond(c, "profile@metadata.time.insert < now()");
    add_cond(c, "profile@stats.visits >= 10");
    add_cond(c, "profile@id STARTS WITH \"p-00\"");
    add_cond(c, "profile@id ENDS WITH \"7\"");
}

struct db {
    sqlite3 *db;
    cJSON *docs[NPROFILE];
};

static void open_docs(struct db *d)
{
    assert_int_equal(sqlite3_open(":memory:", &d->db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(d->db, "CREATE TABLE profile(doc TEXT)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(d->db, "INSERT INTO profile(rowid, doc) VALUES(?1, ?2)", -1, &st, NULL),
        SQLITE_OK);
    for (int i = 0; i < NPROFILE; i++) {
        d->docs[i] = make_profile(i);
        /* As the store holds it: cdpd's printer, then parsed back as the store reads it. */
        char *text = cdp_json_print(d->docs[i]);
        cJSON_Delete(d->docs[i]);
        d->docs[i] = cdp_json_parse(text, strlen(text), NULL);
        sqlite3_bind_int(st, 1, i + 1);
        sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
        free(text);
    }
    sqlite3_finalize(st);
}

static void close_docs(struct db *d)
{
    for (int i = 0; i < NPROFILE; i++)
        cJSON_Delete(d->docs[i]);
    sqlite3_close(d->db);
}

/* 1 when cond was translated (and agreed with the evaluator on every profile), 0 when not. */
static int check_one(struct db *d, bool ascii, const char *cond)
{
    struct cdp_tql *q;
    char err[200];
    if (cdp_tql_parse(cond, &q, err, sizeof(err)) != 0)
        fail_msg("%s: %s", cond, err);
    cJSON *desc = NULL;
    assert_int_equal(cdp_tql_describe(q, NOW_US, &desc), 0);
    struct cdp_sql_cond c;
    int rc = cdp_sql_cond_translate(desc, 0, ascii, &c);
    cJSON_Delete(desc);
    if (rc == CDP_E_UNSUPPORTED) {
        cdp_sql_cond_fini(&c);
        cdp_tql_free(q);
        return 0;
    }
    assert_int_equal(rc, 0);
    char *sql = malloc(c.sql.len + 64);
    sprintf(sql, "SELECT coalesce((%s), 0) FROM profile ORDER BY rowid", c.sql.data);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s\n%s", cond, sqlite3_errmsg(d->db), sql);
    assert_int_equal(cdp_sql_cond_bind(&c, st), 0);
    for (int i = 0; i < NPROFILE; i++) {
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        bool in_sql = sqlite3_column_int(st, 0) != 0, in_c = false;
        struct cdp_refs r = {.profile = d->docs[i]};
        assert_int_equal(cdp_tql_eval(q, &r, NOW_US, &in_c, err, sizeof(err)), 0);
        if (in_sql != in_c) {
            char *doc = cdp_json_print(d->docs[i]);
            fail_msg("%s\n  on %s\n  C says %d, SQL says %d\n  SQL: %s", cond, doc, in_c, in_sql,
                     c.sql.data);
        }
    }
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    free(sql);
    cdp_sql_cond_fini(&c);
    cdp_tql_free(q);
    return 1;
}

static void test_translation_agrees(void **state)
{
    (void)state;
    struct db d;
    open_docs(&d);
    bool ascii;
    assert_int_equal(cdp_sql_cond_register(d.db, &ascii), 0);
    assert_true(ascii); /* Debian's SQLite has no ICU */
    struct conds c = {0};
    all_conditions(&c);
    size_t translated = 0;
    for (size_t i = 0; i < c.n; i++)
        translated += (size_t)check_one(&d, ascii, c.v[i]);
    /* Every generated condition is one SQL can answer exactly, but for CONTAINS of a list. */
    size_t lists = 0;
    for (size_t i = 0; i < c.n; i++)
        lists += strstr(c.v[i], "CONTAINS [") != NULL;
    assert_int_equal(translated, c.n - lists);
    for (size_t i = 0; i < sizeof(untranslatable) / sizeof(untranslatable[0]); i++)
        if (check_one(&d, ascii, untranslatable[i]))
            fail_msg("translated, but should not be: %s", untranslatable[i]);
    /* Without ASCII-only lower(), lowercase() of a field is left to C. */
    assert_int_equal(check_one(&d, false, "lowercase(profile@traits.a) == \"abc\""), 0);
    free_conds(&c);
    close_docs(&d);
}

/* --- the whole job, both ways --- */

struct twin {
    char dir[2][64];
    struct cdp_store *s[2];
};

/* The store the translated run uses: PostgreSQL when set (a database of its own per twin),
 * else an embedded store like its twin. */
static bool twin_pg;
static char twin_url[256];

static void twin_open(struct twin *t)
{
    for (int k = 0; k < 2; k++) {
        char err[256];
        struct cdp_store_opts o = {.durable = false};
        t->dir[k][0] = '\0';
        if (k == 0 && twin_pg) {
            assert_int_equal(pg_fixture_db(twin_url, sizeof(twin_url)), 0);
            if (cdp_store_open(&t->s[k], twin_url, &o, err, sizeof(err)))
                fail_msg("%s: %s", twin_url, err);
            continue;
        }
        snprintf(t->dir[k], sizeof(t->dir[k]), "/tmp/cdpd-segjob-XXXXXX");
        assert_non_null(mkdtemp(t->dir[k]));
        assert_int_equal(cdp_store_open(&t->s[k], t->dir[k], &o, err, sizeof(err)), 0);
    }
}

static void twin_close(struct twin *t)
{
    for (int k = 0; k < 2; k++) {
        cdp_store_close(t->s[k]);
        if (!t->dir[k][0])
            continue;
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", t->dir[k]);
        assert_int_equal(system(cmd), 0);
    }
}

static void put_both(struct twin *t, const char *kind, const char *id, cJSON *doc)
{
    for (int k = 0; k < 2; k++) {
        struct cdp_store *s = t->s[k];
        assert_int_equal(kind ? s->ops->entity_put(s, kind, id, doc) : s->ops->profile_put(s, doc),
                         0);
    }
    cJSON_Delete(doc);
}

static void add_segment(struct twin *t, int i, const char *cond, bool rwf, bool enabled)
{
    cJSON *seg = cJSON_CreateObject();
    char id[16], name[16];
    snprintf(id, sizeof(id), "seg-%03d", i);
    snprintf(name, sizeof(name), "s%d", i);
    cJSON_AddStringToObject(seg, "id", id);
    cJSON_AddStringToObject(seg, "name", name);
    cJSON_AddStringToObject(seg, "machine_name", name);
    cJSON_AddStringToObject(seg, "condition", cond);
    cJSON_AddBoolToObject(seg, "enabled", enabled);
    cJSON_AddBoolToObject(seg, "remove_when_false", rwf);
    cJSON_AddItemToObject(seg, "eventType", cJSON_CreateArray());
    put_both(t, "segment", id, seg);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* segments as a sorted list of its printed items (membership is a set), or "-" when not a list;
 * the member is taken out of doc. */
static char *take_segments(cJSON *doc)
{
    cJSON *segs = cJSON_DetachItemFromObjectCaseSensitive(doc, "segments");
    if (!cJSON_IsArray(segs)) {
        char *s = segs ? cdp_json_print(segs) : strdup("-");
        cJSON_Delete(segs);
        return s;
    }
    int n = cJSON_GetArraySize(segs), i = 0;
    char **items = calloc((size_t)n + 1, sizeof(char *));
    const cJSON *it;
    cJSON_ArrayForEach(it, segs)
    {
        items[i++] = cdp_json_print(it);
    }
    qsort(items, (size_t)n, sizeof(char *), cmp_str);
    size_t len = 3;
    for (i = 0; i < n; i++)
        len += strlen(items[i]) + 1;
    char *out = calloc(1, len);
    strcat(out, "[");
    for (i = 0; i < n; i++) {
        strcat(out, items[i]);
        strcat(out, ",");
        free(items[i]);
    }
    strcat(out, "]");
    free(items);
    cJSON_Delete(segs);
    return out;
}

static void compare_stores(struct twin *t)
{
    for (int i = 0; i < NPROFILE; i++) {
        char id[16];
        snprintf(id, sizeof(id), "p-%04d", i);
        cJSON *doc[2];
        for (int k = 0; k < 2; k++)
            assert_int_equal(t->s[k]->ops->profile_get(t->s[k], id, &doc[k]), 0);
        char *segs[2] = {take_segments(doc[0]), take_segments(doc[1])};
        if (strcmp(segs[0], segs[1]) != 0 || !cJSON_Compare(doc[0], doc[1], true)) {
            char *a = cdp_json_print(doc[0]), *b = cdp_json_print(doc[1]);
            fail_msg("%s differs:\n  SQL %s %s\n  C   %s %s", id, segs[0], a, segs[1], b);
        }
        for (int k = 0; k < 2; k++) {
            free(segs[k]);
            cJSON_Delete(doc[k]);
        }
    }
}

static void compare_summaries(const cJSON *a, const cJSON *b)
{
    const cJSON *sa = cJSON_GetObjectItemCaseSensitive(a, "segments");
    const cJSON *sb = cJSON_GetObjectItemCaseSensitive(b, "segments");
    assert_int_equal(cJSON_GetArraySize(sa), cJSON_GetArraySize(sb));
    for (int i = 0; i < cJSON_GetArraySize(sa); i++) {
        const cJSON *x = cJSON_GetArrayItem(sa, i), *y = cJSON_GetArrayItem(sb, i);
        for (int k = 0; k < 2; k++) {
            const char *key = k ? "removed" : "added";
            double u = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(x, key));
            double v = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(y, key));
            if (u != v)
                fail_msg("%s: %s %g (SQL) vs %g (C)", cdp_json_str(x, "machine_name"), key, u, v);
        }
    }
}

static bool stop_now(void *ud)
{
    int *calls = ud;
    return ++*calls > 1;
}

static void test_job_both_ways(void **state)
{
    (void)state;
    struct twin t;
    twin_open(&t);
    for (int i = 0; i < NPROFILE; i++)
        put_both(&t, NULL, NULL, make_profile(i));
    struct conds c = {0};
    all_conditions(&c);
    /* A spread of the conditions (every operator and field form), the untranslatable ones, and
     * conditions on segments themselves, which see the segments before them. */
    int nseg = 0, lists = 0;
    for (size_t i = 0; i < c.n; i += 23, nseg++) {
        add_segment(&t, nseg, c.v[i], nseg % 2 == 0, true);
        lists += strstr(c.v[i], "CONTAINS [") != NULL;
    }
    for (size_t i = 0; i < sizeof(untranslatable) / sizeof(untranslatable[0]); i++, nseg++)
        add_segment(&t, nseg, untranslatable[i], nseg % 3 != 0, true);
    add_segment(&t, nseg++, "profile@segments CONTAINS \"s0\" AND profile@traits.a EXISTS", true,
                true);
    add_segment(&t, nseg++, "profile@segments CONTAINS \"s2\"", false, true);
    add_segment(&t, nseg++, "profile@metadata.time.segmentation == now()", true, true);
    add_segment(&t, nseg++, "profile@traits.a EXISTS", true, false); /* disabled */
    cJSON *bad = cJSON_Parse("{\"id\":\"seg-bad\",\"name\":\"bad\",\"machine_name\":\"bad\","
                             "\"condition\":\"profile@a ==\",\"enabled\":true}");
    put_both(&t, "segment", "seg-bad", bad);
    free_conds(&c);

    cJSON *sum[2][2];
    for (int round = 0; round < 2; round++) {
        for (int k = 0; k < 2; k++) {
            struct cdp_segment_job_opts o = {.now_us = NOW_US + round * 1000000,
                                             .no_translate = k == 1,
                                             .chunk = 37,
                                             .txn_rows = 11,
                                             .scan_chunk = 29};
            char err[256];
            if (cdp_segment_job_run(t.s[k], &o, &sum[round][k], err, sizeof(err)))
                fail_msg("job %d: %s", k, err);
        }
        compare_summaries(sum[round][0], sum[round][1]);
        compare_stores(&t);
    }
    const cJSON *s0 = sum[0][0];
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s0, "profiles")),
                     NPROFILE);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s0, "segments")),
                     nseg - 1);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s0, "skipped")), 1);
    /* The untranslatable ones, those on segments (judged after the ones before them) and
     * nothing else went to C. */
    int fallback = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s0, "fallback"));
    assert_int_equal(fallback, lists + (int)(sizeof(untranslatable) / sizeof(untranslatable[0])));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sum[0][1], "translated")),
                     0);
    long added = 0;
    const cJSON *seg;
    cJSON_ArrayForEach(seg, cJSON_GetObjectItemCaseSensitive(s0, "segments"))
    {
        added += (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(seg, "added"));
    }
    assert_true(added > NPROFILE); /* the run did real work */
    for (int r = 0; r < 2; r++)
        for (int k = 0; k < 2; k++)
            cJSON_Delete(sum[r][k]);

    /* A stop request ends the run between steps. */
    int calls = 0;
    struct cdp_segment_job_opts o = {.now_us = NOW_US, .chunk = 50, .stop = stop_now, .ud = &calls};
    cJSON *out = NULL;
    char err[256];
    assert_int_equal(cdp_segment_job_run(t.s[0], &o, &out, err, sizeof(err)), CDP_E_UNAVAILABLE);
    assert_null(out);
    assert_string_equal(err, "stopped");
    twin_close(&t);
}

/* A writer that changes profiles between the job's reading and its writing, as the pipeline
 * may: on its modify_at-th poll it sets traits.k = 2 on q-00..q-19 and gives them the segment
 * "zz", through a connection of its own. */
struct racer {
    struct cdp_store *other;
    int calls, modify_at;
};

static bool race(void *ud)
{
    struct racer *x = ud;
    if (++x->calls != x->modify_at)
        return false;
    for (int i = 0; i < 20; i++) {
        char id[16];
        snprintf(id, sizeof(id), "q-%02d", i);
        cJSON *p = NULL;
        assert_int_equal(x->other->ops->profile_get(x->other, id, &p), 0);
        cdp_json_set(p, "traits.k", cJSON_CreateNumber(2));
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(p, "segments"),
                             cJSON_CreateString("zz"));
        assert_int_equal(x->other->ops->profile_put(x->other, p), 0);
        cJSON_Delete(p);
    }
    return false;
}

static void test_job_under_concurrent_writes(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) { /* the store's translation, then all in C */
        struct twin t;
        twin_open(&t);
        char err[256];
        struct cdp_store_opts so = {.durable = false};
        struct racer x = {.modify_at = 2};
        assert_int_equal(
            cdp_store_open(&x.other, twin_pg ? twin_url : t.dir[0], &so, err, sizeof(err)), 0);
        for (int i = 0; i < 50; i++) {
            char text[128];
            snprintf(text, sizeof(text), "{\"id\":\"q-%02d\",\"segments\":[],\"traits\":{\"k\":1}}",
                     i);
            put_both(&t, NULL, NULL, cJSON_Parse(text));
        }
        add_segment(&t, 0, "profile@traits.k == 1", true, true);
        struct cdp_segment_job_opts o = {
            .now_us = NOW_US, .no_translate = k == 1, .stop = race, .ud = &x};
        cJSON *sum = NULL;
        assert_int_equal(cdp_segment_job_run(t.s[0], &o, &sum, err, sizeof(err)), 0);
        assert_int_equal(x.calls, 2); /* polled before reading and before writing */
        const cJSON *seg = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(sum, "segments"), 0);
        assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(seg, "added")), 30);
        assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(seg, "translated")), k == 0);
        for (int i = 0; i < 50; i++) {
            char id[16];
            snprintf(id, sizeof(id), "q-%02d", i);
            cJSON *p = NULL;
            assert_int_equal(t.s[0]->ops->profile_get(t.s[0], id, &p), 0);
            char *segs = cdp_json_print(cJSON_GetObjectItemCaseSensitive(p, "segments"));
            /* judged as they were when written, and the other writer's change kept */
            assert_string_equal(segs, i < 20 ? "[\"zz\"]" : "[\"s0\"]");
            free(segs);
            cJSON_Delete(p);
        }
        cJSON_Delete(sum);
        cdp_store_close(x.other);
        twin_close(&t);
    }
}

static void test_describe(void **state)
{
    (void)state;
    struct cdp_tql *q;
    char err[200];
    assert_int_equal(cdp_tql_parse("NOT profile@a.b >= now.offset(\"-1d\") OR "
                                   "lowercase(profile@x) BETWEEN \"a\" AND uppercase(\"b\")",
                                   &q, err, sizeof(err)),
                     0);
    cJSON *d;
    assert_int_equal(cdp_tql_describe(q, NOW_US, &d), 0);
    char *text = cdp_json_print(d);
    assert_string_equal(
        text, "{\"or\":[{\"not\":{\"test\":\">=\",\"lhs\":{\"field\":\"profile\",\"path\":"
              "[\"a\",\"b\"]},\"a\":{\"time\":\"1705492800000000\"}}},{\"test\":\"between\","
              "\"lhs\":{\"fn\":\"lowercase\",\"args\":[{\"field\":\"profile\",\"path\":[\"x\"]}]},"
              "\"a\":{\"value\":\"a\"},\"b\":{\"value\":\"B\"}}]}");
    free(text);
    cJSON_Delete(d);
    cdp_tql_free(q);
}

/* --- PostgreSQL (store/pg_tql.c) on a database of its own --- */

struct pgdb {
    PGconn *db;
    cJSON *docs[NPROFILE]; /* as the store holds them, by id */
};

static void pg_exec(PGconn *db, const char *sql)
{
    PGresult *r = PQexec(db, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

static void pg_put(PGconn *db, const cJSON *doc)
{
    char *text = cdp_json_print(doc);
    const char *vals[2] = {cdp_json_str(doc, "id"), text};
    PGresult *r = PQexecParams(db,
                               "INSERT INTO profile(id, doc, updated) VALUES($1, $2::jsonb, 0)"
                               " ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
                               2, NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("insert: %s", PQresultErrorMessage(r));
    PQclear(r);
    free(text);
}

/* A database with the schema store_pg.c makes (the tables pg_tql.c reads) and the profiles;
 * false when PostgreSQL is missing. */
static bool pg_open_docs(struct pgdb *d)
{
    char url[256];
    memset(d, 0, sizeof(*d));
    if (pg_fixture_db(url, sizeof(url)))
        return false;
    d->db = PQconnectdb(url);
    assert_int_equal(PQstatus(d->db), CONNECTION_OK);
    pg_exec(d->db, "SET client_min_messages TO warning");
    pg_exec(d->db,
            "CREATE TABLE profile(id text PRIMARY KEY, doc jsonb NOT NULL, updated bigint NOT NULL,"
            " fence bigint NOT NULL DEFAULT 0)");
    for (int i = 0; i < NPROFILE; i++) {
        d->docs[i] = make_profile(i);
        char *text = cdp_json_print(d->docs[i]);
        cJSON_Delete(d->docs[i]);
        d->docs[i] = cdp_json_parse(text, strlen(text), NULL);
        free(text);
        pg_put(d->db, d->docs[i]);
    }
    return true;
}

static void pg_close_docs(struct pgdb *d)
{
    for (int i = 0; i < NPROFILE; i++)
        cJSON_Delete(d->docs[i]);
    PQfinish(d->db);
}

/* Every generated condition as a search of the profiles on PostgreSQL against the evaluator;
 * *exact counts those the translation answered without C. */
static void pg_check_one(struct pgdb *d, const char *cond, int *exact)
{
    struct cdp_tql *q;
    char err[200];
    if (cdp_tql_parse(cond, &q, err, sizeof(err)) != 0)
        fail_msg("%s: %s", cond, err);
    struct cdp_query *qq = NULL;
    assert_int_equal(cdp_query_new(&qq, q, NOW_US, "profile"), 0);
    *exact += qq->exact;
    cdp_query_free(qq);
    struct cdp_search s = {
        .kind = CDP_DOC_PROFILE, .where = q, .now_us = NOW_US, .limit = NPROFILE + 1};
    cJSON *list = NULL;
    long total = 0;
    if (cdp_pg_search(d->db, &s, &list, &total))
        fail_msg("search failed: %s", cond);
    bool got[NPROFILE] = {false};
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        got[atoi(cdp_json_str(it, "id") + 2)] = true;
    }
    long want = 0;
    for (int i = 0; i < NPROFILE; i++) {
        struct cdp_refs r = {.profile = d->docs[i]};
        bool in_c = false;
        assert_int_equal(cdp_tql_eval(q, &r, NOW_US, &in_c, err, sizeof(err)), 0);
        want += in_c;
        if (in_c != got[i]) {
            char *doc = cdp_json_print(d->docs[i]);
            fail_msg("%s\n  on %s\n  C says %d, PostgreSQL %d", cond, doc, in_c, got[i]);
        }
    }
    assert_int_equal(total, want);
    cJSON_Delete(list);
    cdp_tql_free(q);
}

static void test_translation_agrees_pg(void **state)
{
    (void)state;
    struct pgdb d;
    if (!pg_open_docs(&d))
        skip();
    struct conds c = {0};
    all_conditions(&c);
    int exact = 0, ignored = 0;
    for (size_t i = 0; i < c.n; i++)
        pg_check_one(&d, c.v[i], &exact);
    for (size_t i = 0; i < sizeof(untranslatable) / sizeof(untranslatable[0]); i++)
        pg_check_one(&d, untranslatable[i], &ignored);
    assert_true(exact > (int)c.n / 2);
    free_conds(&c);
    pg_close_docs(&d);
}

/* Whether a condition reads what segmentation writes (then it may not share a run). */
static bool reads_segmentation(const char *cond)
{
    return strstr(cond, "segments") || strstr(cond, "segmentation");
}

/* What a run of segs over the profiles must leave: each profile's document with
 * cdp_segment_set_member applied for every segment in turn (conditions on the profile as it
 * was), and the counts. */
static void pg_expect(cJSON **docs, struct cdp_segment_pass *segs, size_t n, int64_t now,
                      long *added, long *removed)
{
    for (int i = 0; i < NPROFILE; i++) {
        cJSON *before = cJSON_Duplicate(docs[i], true);
        for (size_t k = 0; k < n; k++) {
            struct cdp_refs r = {.profile = before};
            bool yes = false, was = false;
            char err[200];
            assert_int_equal(cdp_tql_eval(segs[k].cond, &r, now, &yes, err, sizeof(err)), 0);
            const cJSON *it;
            cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(docs[i], "segments"))
            {
                was = was || (cJSON_IsString(it) && strcmp(it->valuestring, segs[k].name) == 0);
            }
            if (cdp_segment_set_member(docs[i], segs[k].name, segs[k].remove_when_false, yes, now) >
                0)
                ++*(was ? &removed[k] : &added[k]);
        }
        cJSON_Delete(before);
    }
}

static void pg_compare(struct pgdb *d)
{
    PGresult *r = PQexec(d->db, "SELECT id, doc::text FROM profile ORDER BY id COLLATE \"C\"");
    assert_int_equal(PQntuples(r), NPROFILE);
    for (int i = 0; i < NPROFILE; i++) {
        cJSON *got = cdp_json_parse(PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1), NULL);
        if (!cJSON_Compare(got, d->docs[i], true)) {
            char *a = cdp_json_print(got), *b = cdp_json_print(d->docs[i]);
            fail_msg("%s differs:\n  PostgreSQL %s\n  C          %s", PQgetvalue(r, i, 0), a, b);
        }
        cJSON_Delete(got);
    }
    PQclear(r);
}

/* Batch segmentation on PostgreSQL against live segmentation's own rules, in C: a spread of
 * the conditions (translated, and left to C in the same pass), run twice (joins, then leaves
 * and stamps), in small chunks and transactions. */
static void test_segments_apply_pg(void **state)
{
    (void)state;
    struct pgdb d;
    if (!pg_open_docs(&d))
        skip();
    struct conds c = {0};
    all_conditions(&c);
    struct cdp_segment_pass segs[128];
    struct cdp_tql *tql[128];
    char names[128][16];
    size_t n = 0;
    for (size_t i = 0; i < c.n && n < 100; i += 17) {
        if (reads_segmentation(c.v[i]))
            continue;
        char err[200];
        if (cdp_tql_parse(c.v[i], &tql[n], err, sizeof(err)))
            fail_msg("%s: %s", c.v[i], err);
        snprintf(names[n], sizeof(names[n]), "s%zu", n);
        segs[n] = (struct cdp_segment_pass){
            .name = names[n], .cond = tql[n], .remove_when_false = n % 2 == 0};
        n++;
    }
    for (size_t i = 0; i < sizeof(untranslatable) / sizeof(untranslatable[0]); i++, n++) {
        char err[200];
        assert_int_equal(cdp_tql_parse(untranslatable[i], &tql[n], err, sizeof(err)), 0);
        snprintf(names[n], sizeof(names[n]), "u%zu", i);
        segs[n] =
            (struct cdp_segment_pass){.name = names[n], .cond = tql[n], .remove_when_false = true};
    }
    for (int round = 0; round < 2; round++) {
        int64_t now = NOW_US + round * 3600 * (int64_t)1000000;
        long added[128] = {0}, removed[128] = {0};
        pg_expect(d.docs, segs, n, now, added, removed);
        struct cdp_segment_batch b = {
            .segs = segs, .nsegs = n, .now_us = now, .chunk = 37, .txn_rows = 11};
        assert_int_equal(cdp_pg_segments_apply(d.db, &b), 0);
        assert_int_equal(b.scanned, NPROFILE);
        int translated = 0;
        for (size_t k = 0; k < n; k++) {
            assert_true(segs[k].applied);
            translated += segs[k].translated;
            if (segs[k].added != added[k] || segs[k].removed != removed[k])
                fail_msg("%s: added %ld removed %ld, want %ld %ld", segs[k].name, segs[k].added,
                         segs[k].removed, added[k], removed[k]);
        }
        assert_true(translated > (int)n / 2);
        pg_compare(&d);
    }
    /* nothing it can translate: CDP_E_UNSUPPORTED, nothing done */
    struct cdp_segment_batch b = {.segs = segs + n - 2, .nsegs = 1, .now_us = NOW_US};
    assert_int_equal(cdp_pg_segments_apply(d.db, &b), CDP_E_UNSUPPORTED);
    for (size_t k = 0; k < n; k++)
        cdp_tql_free(tql[k]);
    free_conds(&c);
    pg_close_docs(&d);
}

/* A writer changing profiles between the run's reading and its writing (on its second poll):
 * those are judged again as they are now, and the writer's change is kept. */
struct pg_racer {
    PGconn *other;
    int calls;
};

static bool pg_race(void *ud)
{
    struct pg_racer *x = ud;
    if (++x->calls == 2)
        pg_exec(x->other, "UPDATE profile SET doc = jsonb_set(jsonb_set(doc, '{traits,k}', '2'),"
                          " '{segments}', '[\"zz\"]') WHERE id < 'q-20'");
    return false;
}

static void test_segments_apply_pg_race(void **state)
{
    (void)state;
    char url[256];
    if (pg_fixture_db(url, sizeof(url)))
        skip();
    struct pg_racer x = {.other = PQconnectdb(url)};
    PGconn *db = PQconnectdb(url);
    assert_int_equal(PQstatus(db), CONNECTION_OK);
    pg_exec(db, "CREATE TABLE profile(id text PRIMARY KEY, doc jsonb NOT NULL, updated bigint"
                " NOT NULL, fence bigint NOT NULL DEFAULT 0)");
    for (int i = 0; i < 50; i++) {
        char text[128];
        snprintf(text, sizeof(text), "{\"id\":\"q-%02d\",\"segments\":[],\"traits\":{\"k\":1}}", i);
        cJSON *p = cJSON_Parse(text);
        pg_put(db, p);
        cJSON_Delete(p);
    }
    struct cdp_tql *t;
    char err[200];
    assert_int_equal(cdp_tql_parse("profile@traits.k == 1", &t, err, sizeof(err)), 0);
    struct cdp_segment_pass seg = {.name = "s0", .cond = t, .remove_when_false = true};
    struct cdp_segment_batch b = {
        .segs = &seg, .nsegs = 1, .now_us = NOW_US, .stop = pg_race, .ud = &x};
    assert_int_equal(cdp_pg_segments_apply(db, &b), 0);
    assert_int_equal(x.calls, 2); /* polled before reading and before writing */
    assert_true(seg.translated);
    assert_int_equal(seg.added, 30);
    PGresult *r = PQexec(db, "SELECT id, doc->'segments' FROM profile ORDER BY id");
    assert_int_equal(PQntuples(r), 50);
    for (int i = 0; i < 50; i++)
        assert_string_equal(PQgetvalue(r, i, 1), i < 20 ? "[\"zz\"]" : "[\"s0\"]");
    PQclear(r);
    cdp_tql_free(t);
    PQfinish(db);
    PQfinish(x.other);
}

/* The whole job with PostgreSQL's translation (store_pg.c, pg_tql.c) against an embedded
 * store's run all in C. */
static void test_job_both_ways_pg(void **state)
{
    if (pg_fixture_missing())
        skip();
    twin_pg = true;
    test_job_both_ways(state);
    twin_pg = false;
}

static void test_job_under_concurrent_writes_pg(void **state)
{
    if (pg_fixture_missing())
        skip();
    twin_pg = true;
    test_job_under_concurrent_writes(state);
    twin_pg = false;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_translation_agrees),
        cmocka_unit_test(test_job_both_ways),
        cmocka_unit_test(test_job_under_concurrent_writes),
        cmocka_unit_test(test_translation_agrees_pg),
        cmocka_unit_test(test_segments_apply_pg),
        cmocka_unit_test(test_segments_apply_pg_race),
        cmocka_unit_test(test_job_both_ways_pg),
        cmocka_unit_test(test_job_under_concurrent_writes_pg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
