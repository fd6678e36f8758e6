/* libFuzzer target: a condition as searches read it (fields without a source, of events) is
 * parsed (cdp_tql_parse_in), and the SQLite store's search (store/query.h, store/sqlite_tql.c:
 * columns, JSON, the rest in C) must find exactly the events of a fixed set the C evaluator
 * finds, in time order, with and without a time range: a differential test of the search. */
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "flow/path.h"
#include "flow/tql.h"
#include "store/query.h"
#include "store/store.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_US ((int64_t)1705579200 * 1000000)

static const char *const values[] = {
    "null",
    "true",
    "1",
    "1.5",
    "-1",
    "\"\"",
    "\"a\"",
    "\"abc\"",
    "\"ABC\"",
    "\"page-view\"",
    "\"2024-01-10T12:00:00Z\"",
    "\"2024-01-17T00:00:00+02:00\"",
    "[]",
    "[\"a\",\"b\"]",
    "[1,\"a\",true,null]",
    "{\"x\":\"abc\"}",
};
#define NVALUES (sizeof(values) / sizeof(values[0]))
static const char *const types[] = {"page-view", "Page-View", "purchase", "a b"};
static const char *const times[] = {
    "\"2024-01-18T11:00:00Z\"",
    "\"2024-01-17T12:00:00+00:00\"",
    "\"2024-01-10T00:00:00Z\"",
    "\"1970-01-01T00:00:00Z\"",
    "\"not a date\"",
    "5",
    "null",
};
#define NTIMES (sizeof(times) / sizeof(times[0]))
#define NDOCS  (NVALUES * 2)

static struct cdp_store *store;
static cJSON *docs[NDOCS];
static int64_t doc_time[NDOCS]; /* the insert time, 0 when none (as the store's column) */

static void init(void)
{
    char dir[] = "/tmp/cdpd-fuzz-search-XXXXXX", err[256];
    assert(mkdtemp(dir));
    struct cdp_store_opts o = {.durable = false};
    assert(cdp_store_open(&store, dir, &o, err, sizeof(err)) == 0);
    for (size_t i = 0; i < NDOCS; i++) {
        char text[512];
        const char *t = times[i % NTIMES];
        snprintf(text, sizeof(text),
                 "{\"id\":\"e%02zu\",\"type\":\"%s\",\"metadata\":{\"time\":{\"insert\":%s}},"
                 "\"properties\":{\"a\":%s,\"b\":%s},\"tags\":{\"values\":[%s]}}",
                 i, types[i % 4], t, values[i % NVALUES], values[(i * 7 + 3) % NVALUES],
                 values[(i + 5) % NVALUES]);
        docs[i] = cdp_json_parse(text, strlen(text), NULL);
        assert(docs[i]);
        assert(store->ops->event_put(store, docs[i]) == 0);
        const char *iso = cdp_json_str(docs[i], "metadata.time.insert");
        if (!iso || cdp_clock_parse_iso(iso, &doc_time[i]))
            doc_time[i] = 0;
    }
}

static int newest_first(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (doc_time[x] != doc_time[y])
        return doc_time[x] > doc_time[y] ? -1 : 1;
    return x > y ? -1 : 1;
}

static void check(const struct cdp_tql *q, bool ranged, int64_t from, int64_t to)
{
    size_t want[NDOCS], n = 0;
    char err[128];
    for (size_t i = 0; i < NDOCS; i++) {
        struct cdp_refs r = {.event = docs[i]};
        bool yes = false;
        assert(cdp_tql_eval(q, &r, NOW_US, &yes, err, sizeof(err)) == 0);
        const char *iso = cdp_json_str(docs[i], "metadata.time.insert");
        int64_t t;
        if (yes && ranged)
            yes = iso && cdp_clock_parse_iso(iso, &t) == 0 && t >= from && t <= to;
        if (yes)
            want[n++] = i;
    }
    qsort(want, n, sizeof(want[0]), newest_first);
    struct cdp_search s = {.kind = CDP_DOC_EVENT,
                           .where = q,
                           .now_us = NOW_US,
                           .ranged = ranged,
                           .from_us = from,
                           .to_us = to,
                           .limit = NDOCS};
    cJSON *list = NULL;
    long total = -1;
    assert(store->ops->search(store, &s, &list, &total) == 0);
    bool ok = total == (long)n && cJSON_GetArraySize(list) == (int)n;
    for (size_t i = 0; ok && i < n; i++)
        ok = strcmp(cdp_json_str(cJSON_GetArrayItem(list, (int)i), "id"),
                    cdp_json_str(docs[want[i]], "id")) == 0;
    if (!ok) {
        char *got = cdp_json_print(list);
        fprintf(stderr, "search disagrees (ranged %d): %ld found, %zu wanted\n%s\n", ranged, total,
                n, got);
        abort();
    }
    cJSON_Delete(list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store)
        init();
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    struct cdp_tql *q = NULL;
    char err[128];
    if (cdp_tql_parse_in(s, "event", &q, err, sizeof(err)) == 0) {
        check(q, false, 0, 0);
        check(q, true, NOW_US - 2 * 86400 * (int64_t)1000000, NOW_US);
    }
    cdp_tql_free(q);
    free(s);
    return 0;
}
