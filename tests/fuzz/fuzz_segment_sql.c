/* libFuzzer target: a condition that parses is described (cdp_tql_describe), translated into
 * SQLite (store/sqlite_tql.c) and, when translated, must prepare and must agree with the C
 * evaluator on every document of a fixed set that holds every JSON kind: a differential test of
 * the translation, which batch segmentation relies on being exact. */
#include "core/err.h"
#include "core/json.h"
#include "flow/path.h"
#include "flow/tql.h"
#include "store/sqlite_tql.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_US ((int64_t)1705579200 * 1000000)

static const char *const values[] = {
    "null",
    "true",
    "false",
    "0",
    "1",
    "-1",
    "1.5",
    "10",
    "1e3",
    "9007199254740993",
    "1.0000000000000002",
    "\"\"",
    "\"a\"",
    "\"abc\"",
    "\"ABC\"",
    "\"x\\\"y\"",
    "\"\\u00e9\"",
    "\"2024-01-10T12:00:00Z\"",
    "\"2030-01-01T00:00:00+01:00\"",
    "[]",
    "[\"a\",\"b\"]",
    "[1,2]",
    "[1,\"a\",true,null]",
    "[[1,2],\"x\"]",
    "[\"2024-01-10T12:00:00Z\"]",
    "{}",
    "{\"a\":1}",
    "{\"x\":{\"y\":\"abc\"}}",
};
#define NVALUES (sizeof(values) / sizeof(values[0]))
#define NDOCS   (NVALUES + 2)

static sqlite3 *db;
static bool ascii_case;
static cJSON *docs[NDOCS];

static void init(void)
{
    assert(sqlite3_open(":memory:", &db) == SQLITE_OK);
    assert(sqlite3_exec(db, "CREATE TABLE profile(doc TEXT)", NULL, NULL, NULL) == SQLITE_OK);
    assert(cdp_sql_cond_register(db, &ascii_case) == 0);
    sqlite3_stmt *st;
    assert(sqlite3_prepare_v2(db, "INSERT INTO profile(rowid, doc) VALUES(?1, ?2)", -1, &st,
                              NULL) == SQLITE_OK);
    for (size_t i = 0; i < NDOCS; i++) {
        char text[512];
        if (i < NVALUES) /* each value as a, its neighbour as b, a list and an object around */
            snprintf(text, sizeof(text),
                     "{\"id\":\"p%zu\",\"segments\":[\"vip\"],\"traits\":{\"a\":%s,\"b\":%s,"
                     "\"l\":[%s],\"o\":{\"x\":%s}},\"stats\":{\"visits\":%zu}}",
                     i, values[i], values[(i + 1) % NVALUES], values[i], values[(i + 7) % NVALUES],
                     i);
        else if (i == NVALUES)
            snprintf(text, sizeof(text), "{\"id\":\"empty\"}");
        else
            snprintf(text, sizeof(text), "{\"id\":\"odd\",\"segments\":\"vip\",\"traits\":5}");
        docs[i] = cdp_json_parse(text, strlen(text), NULL);
        assert(docs[i]);
        sqlite3_bind_int(st, 1, (int)i + 1);
        sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
        assert(sqlite3_step(st) == SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db)
        init();
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    struct cdp_tql *q = NULL;
    char err[128];
    cJSON *desc = NULL;
    if (cdp_tql_parse(s, &q, err, sizeof(err)) != 0 || cdp_tql_describe(q, NOW_US, &desc) != 0)
        goto out;
    struct cdp_sql_cond c;
    int rc = cdp_sql_cond_translate(desc, 0, ascii_case, &c);
    assert(rc == 0 || rc == CDP_E_UNSUPPORTED);
    if (rc == 0) {
        size_t n = c.sql.len + 64;
        char *sql = malloc(n);
        snprintf(sql, n, "SELECT coalesce((%s), 0) FROM profile ORDER BY rowid", c.sql.data);
        sqlite3_stmt *st = NULL;
        /* Only an expression deeper than SQLite allows may fail to prepare (the job then
         * evaluates it in C); anything else is a translation bug. */
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
            const char *msg = sqlite3_errmsg(db);
            if (!strstr(msg, "too large") && !strstr(msg, "too many")) {
                fprintf(stderr, "does not prepare: %s\n%s\n", msg, sql);
                abort();
            }
        } else {
            assert(cdp_sql_cond_bind(&c, st) == 0);
            for (size_t i = 0; i < NDOCS; i++) {
                assert(sqlite3_step(st) == SQLITE_ROW);
                bool in_c = false, in_sql = sqlite3_column_int(st, 0) != 0;
                struct cdp_refs r = {.profile = docs[i]};
                assert(cdp_tql_eval(q, &r, NOW_US, &in_c, err, sizeof(err)) == 0);
                if (in_c != in_sql) {
                    fprintf(stderr, "disagree on doc %zu: C %d, SQL %d\n%s\n", i, in_c, in_sql,
                            sql);
                    abort();
                }
            }
        }
        sqlite3_finalize(st);
        free(sql);
    }
    cdp_sql_cond_fini(&c);
out:
    cJSON_Delete(desc);
    cdp_tql_free(q);
    free(s);
    return 0;
}
