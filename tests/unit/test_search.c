/* Unit tests of searches: the backend-neutral queries of store/query.h (normalisation, what is
 * left to C), and a property test of the SQLite store's search, histogram and terms against the
 * C evaluator: random documents of every JSON kind, random conditions (ones SQL answers, ones
 * it answers in part, ones it leaves to C), random ranges and pages, each result compared with
 * filtering, ordering and counting the same documents in memory with cdp_tql_eval. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "flow/path.h"
#include "flow/tql.h"
#include "store/pg_tql.h"
#include "store/query.h"
#include "store/store.h"

#include <dirent.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pg_fixture.h"

/* 2024-01-18T12:00:00Z */
#define NOW_US  ((int64_t)1705579200 * 1000000)
#define DAY_US  ((int64_t)86400 * 1000000)
#define NEVENTS 300
#define NOTHERS 120
#define NCONDS  1500

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* --- query.h --- */

static struct cdp_query *query_of(const char *text, const char *source)
{
    struct cdp_tql *t;
    char err[200];
    if (cdp_tql_parse_in(text, source, &t, err, sizeof(err)))
        fail_msg("%s: %s", text, err);
    struct cdp_query *q = NULL;
    assert_int_equal(cdp_query_new(&q, t, NOW_US, source), 0);
    cdp_tql_free(t);
    return q;
}

static void test_query_normalises(void **state)
{
    (void)state;
    struct cdp_query *q = query_of("5 < properties.n", "event");
    assert_true(q->exact);
    assert_int_equal(q->root->op, CDP_QUERY_GT); /* moved to the right */
    assert_int_equal(q->root->nkeys, 2);
    assert_string_equal(q->root->keys[1], "n");
    assert_int_equal(q->root->value.kind, CDP_QV_NUM);
    cdp_query_free(q);

    q = query_of("type == \"a\" AND (x BETWEEN 1 AND 9 AND y EXISTS)", "event");
    int n;
    struct cdp_query_node *const *terms = cdp_query_terms(q, &n);
    assert_int_equal(n, 4); /* nested ANDs and BETWEEN's two tests are one list of terms */
    assert_int_equal(terms[1]->op, CDP_QUERY_GE);
    assert_int_equal(terms[2]->op, CDP_QUERY_LE);
    assert_int_equal(terms[3]->op, CDP_QUERY_EXISTS);
    cdp_query_free(q);

    q = query_of("lowercase(data.x) == \"a\" OR x > now.offset(\"-1d\")", "profile");
    assert_int_equal(q->root->op, CDP_QUERY_OR);
    assert_int_equal(q->root->kids[0]->fold, CDP_QUERY_LOWER);
    assert_int_equal(q->root->kids[1]->value.kind, CDP_QV_TIME);
    assert_true(q->root->kids[1]->value.time_us == NOW_US - DAY_US);
    cdp_query_free(q);

    q = query_of("x == datetime.from_timestamp(\"no\")", "event"); /* a missing constant */
    assert_int_equal(q->root->op, CDP_QUERY_FALSE);
    cdp_query_free(q);
}

static void test_query_residual(void **state)
{
    (void)state;
    static const char *const residual[] = {
        "a == b", "datetime(a) > now()", "a.0 == 1", "profile@a == 1", "1 == a", "event@ EXISTS",
    };
    for (size_t i = 0; i < sizeof(residual) / sizeof(residual[0]); i++) {
        struct cdp_query *q = query_of(residual[i], "event");
        if (q->exact)
            fail_msg("exact, but should not be: %s", residual[i]);
        assert_true(q->why[0]);
        cdp_query_free(q);
    }
    struct cdp_query *q = query_of("profile@a == 1 AND b == 2", "event");
    assert_string_equal(q->other_source, "profile");
    int n;
    struct cdp_query_node *const *terms = cdp_query_terms(q, &n);
    assert_int_equal(n, 2);
    assert_false(cdp_query_is_exact(terms[0]));
    assert_true(cdp_query_is_exact(terms[1]));
    assert_int_equal(cdp_query_add_range(q, "metadata.time.insert", 1, 2), 0);
    terms = cdp_query_terms(q, &n);
    assert_int_equal(n, 4);
    assert_int_equal(terms[0]->op, CDP_QUERY_GE);
    assert_int_equal(terms[0]->nkeys, 3);
    assert_string_equal(terms[0]->keys[2], "insert");
    cdp_query_free(q);

    assert_true(cdp_query_plain_path("device.geo.country.name"));
    assert_false(cdp_query_plain_path("a..b"));
    assert_false(cdp_query_plain_path("a.0"));
    assert_false(cdp_query_plain_path("a'b"));
    assert_false(cdp_query_plain_path(""));
}

static void test_parse_bare_fields(void **state)
{
    (void)state;
    struct cdp_tql *t;
    char err[200];
    assert_int_equal(
        cdp_tql_parse_in("type == \"x\" AND NOT data.a EXISTS", "event", &t, err, sizeof(err)), 0);
    cJSON *doc = cJSON_Parse("{\"type\":\"x\"}");
    struct cdp_refs r = {.event = doc};
    bool yes = false;
    assert_int_equal(cdp_tql_eval(t, &r, NOW_US, &yes, err, sizeof(err)), 0);
    assert_true(yes);
    cdp_tql_free(t);
    cJSON_Delete(doc);
    /* keywords and functions stay what they are; a plain parse still wants a source */
    assert_int_equal(cdp_tql_parse_in("a == null OR b < now()", "event", &t, err, sizeof(err)), 0);
    cdp_tql_free(t);
    assert_int_equal(cdp_tql_parse("type == \"x\"", &t, err, sizeof(err)), CDP_E_INVALID);
    assert_int_equal(cdp_tql_parse_in("type == ", "event", &t, err, sizeof(err)), CDP_E_INVALID);
    assert_string_equal(err, "at 9: expected a value after '==', found end of input");
    assert_int_equal(cdp_tql_parse_in("a == and", "event", &t, err, sizeof(err)), CDP_E_INVALID);
}

/* --- the property test --- */

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
    "1e3",
    "9007199254740993",
    "\"\"",
    "\"a\"",
    "\"abc\"",
    "\"ABC\"",
    "\"b\"",
    "\"1\"",
    "\"page-view\"",
    "\"x\\\"y\"",
    "\"\\u00e9t\\u00c9\"",
    "\"2024-01-10T12:00:00Z\"",
    "\"2024-01-15T00:00:00+02:00\"",
    "\"not a date\"",
    "[]",
    "[\"a\"]",
    "[\"a\",\"b\"]",
    "[\"b\",\"a\",\"a\"]",
    "[1,2]",
    "[1,\"a\",true,null]",
    "[[1,2],\"x\"]",
    "{}",
    "{\"a\":1}",
    "{\"x\":\"abc\"}",
};
#define NVALUES (sizeof(values) / sizeof(values[0]))

static const char *const types[] = {"page-view", "purchase", "login", "Page-View", "a b", "z"};
#define NTYPES (sizeof(types) / sizeof(types[0]))

/* A time field: ISO 8601 times in the ten days before NOW (various offsets), or something else
 * a store must not take for one. */
static void put_time(cJSON *obj, const char *key)
{
    unsigned k = rnd(20);
    char iso[CDP_ISO_LEN];
    if (k == 0)
        return; /* missing */
    if (k == 1) {
        cJSON_AddNumberToObject(obj, key, 1705000000);
        return;
    }
    if (k == 2) {
        cJSON_AddStringToObject(obj, key, "not a date");
        return;
    }
    if (k == 3) {
        cJSON_AddStringToObject(obj, key, "1970-01-01T00:00:00Z");
        return;
    }
    if (k == 4) {
        cJSON_AddNullToObject(obj, key);
        return;
    }
    int64_t t = NOW_US - (int64_t)rnd(10 * 24 * 60) * 60 * 1000000 - (int64_t)rnd(60) * 1000000;
    if (k == 6) /* on the hour: the edge of a bucket */
        t = NOW_US - (int64_t)rnd(10 * 24) * 3600 * 1000000;
    cdp_clock_iso(t, iso);
    if (k == 5) { /* the same time written with an offset */
        char other[64];
        time_t secs = (time_t)(t / 1000000) + 7200;
        struct tm tm;
        gmtime_r(&secs, &tm);
        strftime(other, sizeof(other), "%Y-%m-%dT%H:%M:%S+02:00", &tm);
        cJSON_AddStringToObject(obj, key, other);
        return;
    }
    cJSON_AddStringToObject(obj, key, iso);
}

static void put_value(cJSON *obj, const char *key)
{
    if (rnd(6) == 0)
        return;
    const char *v = values[rnd(NVALUES)];
    cJSON_AddItemToObject(obj, key, cJSON_Parse(v));
}

static cJSON *make_doc(int i, enum cdp_doc_kind kind)
{
    char id[32];
    snprintf(id, sizeof(id), "%c-%04d", kind == CDP_DOC_EVENT ? 'e' : 'd', i);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "id", id);
    cJSON *md = cJSON_AddObjectToObject(d, "metadata"), *time = cJSON_AddObjectToObject(md, "time");
    put_time(time, "insert");
    put_time(time, "update");
    if (rnd(3))
        cJSON_AddStringToObject(md, "status", rnd(2) ? "collected" : "processed");
    if (kind == CDP_DOC_EVENT) {
        cJSON_AddStringToObject(d, "type", types[rnd(NTYPES)]);
        cJSON *src = cJSON_AddObjectToObject(d, "source");
        if (rnd(4))
            cJSON_AddStringToObject(src, "id", rnd(2) ? "web" : "app");
        cJSON *tags = cJSON_AddObjectToObject(d, "tags");
        put_value(tags, "values");
    } else {
        put_value(d, "type");
    }
    cJSON *props = cJSON_AddObjectToObject(d, "properties");
    put_value(props, "a");
    put_value(props, "b");
    put_value(props, "l");
    cJSON *o = cJSON_AddObjectToObject(props, "o");
    put_value(o, "x");
    if (rnd(2))
        cJSON_AddStringToObject(o, "os", types[rnd(NTYPES)]);
    /* as the store keeps it: printed, then parsed back */
    char *text = cdp_json_print(d);
    cJSON_Delete(d);
    d = cdp_json_parse(text, strlen(text), NULL);
    free(text);
    return d;
}

static const char *const fields[] = {
    "properties.a",
    "properties.b",
    "properties.l",
    "properties.o.x",
    "type",
    "id",
    "metadata.time.insert",
    "metadata.time.update",
    "metadata.status",
    "source.id",
    "tags.values",
    "lowercase(properties.a)",
    "uppercase(type)",
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const char *const consts[] = {
    "null",
    "true",
    "1",
    "1.5",
    "-1",
    "1000",
    "\"\"",
    "\"a\"",
    "\"abc\"",
    "\"ABC\"",
    "\"b\"",
    "\"page-view\"",
    "\"Page-View\"",
    "\"purchase\"",
    "\"e-0100\"",
    "\"2024-01-10T12:00:00Z\"",
    "[\"a\",\"b\"]",
    "[\"page-view\",\"login\",1]",
    "[1,2]",
    "[]",
    "now()",
    "now.offset(\"-3d\")",
    "now.offset(\"-9d\")",
    "datetime(\"2024-01-15T00:00:00Z\")",
    "datetime(\"1970-01-01T00:00:00Z\")",
    "datetime.from_timestamp(\"no\")",
};
#define NCONSTS (sizeof(consts) / sizeof(consts[0]))

/* Parts SQL can never answer: fields against fields, functions of fields, indexes, other
 * documents. */
static const char *const residuals[] = {
    "properties.a == properties.b", "datetime(metadata.time.insert) > now.offset(\"-5d\")",
    "properties.l.0 == \"a\"",      "properties.l CONTAINS [1,2]",
    "profile@traits.x EXISTS",      "\"a\" == properties.a",
};
#define NRESIDUALS (sizeof(residuals) / sizeof(residuals[0]))

/* Constants for the fields a store keeps in columns (an event's type, id and time), so those
 * translations are tried often. */
static const char *const column_consts[] = {
    "\"page-view\"",
    "\"Page-View\"",
    "\"a b\"",
    "\"z\"",
    "\"e-0100\"",
    "\"login\"",
    "[\"page-view\",\"login\"]",
    "[\"z\",1,null]",
    "[]",
    "now.offset(\"-4d\")",
    "datetime(\"2024-01-12T06:00:00Z\")",
    "datetime(\"1970-01-01T00:00:00Z\")",
};
#define NCOLUMN_CONSTS (sizeof(column_consts) / sizeof(column_consts[0]))

static const char *some_const(const char *field)
{
    bool column = strcmp(field, "type") == 0 || strcmp(field, "id") == 0 ||
                  strcmp(field, "metadata.time.insert") == 0;
    return column && rnd(4) ? column_consts[rnd(NCOLUMN_CONSTS)] : consts[rnd(NCONSTS)];
}

static void random_test(char *out, size_t n)
{
    static const char *const binary[] = {"==", "!=",       ">",           ">=",       "<",
                                         "<=", "CONTAINS", "STARTS WITH", "ENDS WITH"};
    static const char *const unary[] = {"IS NULL",    "IS NOT NULL", "EXISTS",
                                        "NOT EXISTS", "EMPTY",       "NOT EMPTY"};
    const char *f = fields[rnd(NFIELDS)];
    unsigned k = rnd(20);
    if (k == 0)
        snprintf(out, n, "%s", residuals[rnd(NRESIDUALS)]);
    else if (k < 4)
        snprintf(out, n, "%s %s", f, unary[rnd(sizeof(unary) / sizeof(unary[0]))]);
    else if (k < 6)
        snprintf(out, n, "%s BETWEEN %s AND %s", f, some_const(f), some_const(f));
    else
        snprintf(out, n, "%s %s %s", f, binary[rnd(sizeof(binary) / sizeof(binary[0]))],
                 some_const(f));
}

static void random_condition(char *out, size_t n)
{
    char a[256], b[256], c[256];
    random_test(a, sizeof(a));
    random_test(b, sizeof(b));
    random_test(c, sizeof(c));
    switch (rnd(7)) {
    case 0:
    case 1:
        snprintf(out, n, "%s", a);
        break;
    case 2:
        snprintf(out, n, "%s AND %s", a, b);
        break;
    case 3:
        snprintf(out, n, "%s OR %s", a, b);
        break;
    case 4:
        snprintf(out, n, "NOT (%s) AND %s", a, b);
        break;
    case 5:
        snprintf(out, n, "(%s OR %s) AND %s", a, b, c);
        break;
    default:
        snprintf(out, n, "%s AND %s AND NOT %s", a, b, c);
    }
}

/* A condition nested depth deep of random tests (cut short: the parser refuses it). */
static void random_tree(char *out, size_t n, int depth)
{
    if (depth == 0 || rnd(4) == 0) {
        random_test(out, n);
        return;
    }
    char *a = malloc(n), *b = malloc(n);
    assert_non_null(a);
    assert_non_null(b);
    random_tree(a, n, depth - 1);
    random_tree(b, n, depth - 1);
    unsigned k = rnd(3);
    if (k == 0)
        snprintf(out, n, "(%s) AND (%s)", a, b);
    else if (k == 1)
        snprintf(out, n, "(%s) OR (%s)", a, b);
    else
        snprintf(out, n, "NOT (%s)", a);
    free(a);
    free(b);
}

struct fixture {
    char dir[64];
    struct cdp_store *s;
    PGconn *pg; /* PostgreSQL: pg_tql.c called on a connection of its own to the store's schema */
    cJSON *docs[3][NEVENTS]; /* by kind, in the order stored */
    int ndocs[3];
};

/* The documents stored in an embedded store (url NULL) or the PostgreSQL database at url. */
static void fixture_open(struct fixture *f, const char *url)
{
    memset(f, 0, sizeof(*f));
    char err[256];
    struct cdp_store_opts o = {.durable = false};
    if (url) {
        if (cdp_store_open(&f->s, url, &o, err, sizeof(err)))
            fail_msg("%s: %s", url, err);
    } else {
        snprintf(f->dir, sizeof(f->dir), "/tmp/cdpd-search-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        assert_int_equal(cdp_store_open(&f->s, f->dir, &o, err, sizeof(err)), 0);
    }
    struct cdp_store *s = f->s;
    assert_int_equal(s->ops->begin(s), 0);
    for (int k = 0; k < 3; k++) {
        f->ndocs[k] = k == CDP_DOC_EVENT ? NEVENTS : NOTHERS;
        for (int i = 0; i < f->ndocs[k]; i++) {
            cJSON *d = f->docs[k][i] = make_doc(i, (enum cdp_doc_kind)k);
            int rc = k == CDP_DOC_EVENT     ? s->ops->event_put(s, d)
                     : k == CDP_DOC_SESSION ? s->ops->session_put(s, d)
                                            : s->ops->profile_put(s, d);
            assert_int_equal(rc, 0);
        }
    }
    assert_int_equal(s->ops->commit(s), 0);
    if (url && !s->ops->search) { /* store_pg.c does not call pg_tql.c yet: call it directly */
        f->pg = PQconnectdb(url);
        assert_int_equal(PQstatus(f->pg), CONNECTION_OK);
        PGresult *r = PQexec(f->pg, "SET search_path TO production");
        assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
        PQclear(r);
    }
}

static int f_search(struct fixture *f, const struct cdp_search *q, cJSON **out, long *total)
{
    return f->pg ? cdp_pg_search(f->pg, q, out, total) : f->s->ops->search(f->s, q, out, total);
}

static int f_histogram(struct fixture *f, const struct cdp_search *q, const struct cdp_histogram *h,
                       cJSON **out)
{
    return f->pg ? cdp_pg_histogram(f->pg, q, h, out) : f->s->ops->histogram(f->s, q, h, out);
}

static int f_terms(struct fixture *f, const struct cdp_search *q, const char *field, int limit,
                   cJSON **out)
{
    return f->pg ? cdp_pg_terms(f->pg, q, field, limit, out)
                 : f->s->ops->terms(f->s, q, field, limit, out);
}

static void fixture_close(struct fixture *f)
{
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < f->ndocs[k]; i++)
            cJSON_Delete(f->docs[k][i]);
    cdp_store_close(f->s);
    PQfinish(f->pg);
    if (!f->dir[0])
        return;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
}

/* A document's time as the store reads it: its ISO 8601 string's, else none. */
static bool time_of(const cJSON *doc, const char *path, int64_t *t)
{
    const cJSON *v = cdp_json_get(doc, path);
    return cJSON_IsString(v) && cdp_clock_parse_iso(v->valuestring, t) == 0;
}

struct hit {
    int i;              /* the order stored */
    bool has_t, has_t2; /* the sort keys */
    int64_t t, t2;
};

/* Newest first: events by their insert time (0 when none, as the store's column), profiles by
 * update then insert time, sessions by insert time (none last), ties newest stored first. */
static enum cdp_doc_kind sort_kind;
static int newest_first(const void *a, const void *b)
{
    const struct hit *x = a, *y = b;
    if (sort_kind == CDP_DOC_EVENT) {
        int64_t tx = x->has_t ? x->t : 0, ty = y->has_t ? y->t : 0;
        if (tx != ty)
            return tx > ty ? -1 : 1;
    } else {
        if (x->has_t != y->has_t)
            return x->has_t ? -1 : 1;
        if (x->has_t && x->t != y->t)
            return x->t > y->t ? -1 : 1;
        if (sort_kind == CDP_DOC_PROFILE) {
            if (x->has_t2 != y->has_t2)
                return x->has_t2 ? -1 : 1;
            if (x->has_t2 && x->t2 != y->t2)
                return x->t2 > y->t2 ? -1 : 1;
        }
    }
    return y->i - x->i;
}

/* The documents of kind that cond holds for (within [from, to] when ranged), in the store's
 * order; their number. */
static int expect(struct fixture *f, enum cdp_doc_kind kind, const struct cdp_tql *cond,
                  bool ranged, int64_t from, int64_t to, struct hit *out)
{
    int n = 0;
    const char *tf = cdp_doc_time_field(kind);
    for (int i = 0; i < f->ndocs[kind]; i++) {
        cJSON *d = f->docs[kind][i];
        struct cdp_refs r = {0};
        *(kind == CDP_DOC_EVENT ? &r.event : kind == CDP_DOC_SESSION ? &r.session : &r.profile) = d;
        bool yes = true;
        char err[200];
        if (cond)
            assert_int_equal(cdp_tql_eval(cond, &r, NOW_US, &yes, err, sizeof(err)), 0);
        struct hit h = {.i = i};
        h.has_t = time_of(d, tf, &h.t);
        h.has_t2 = time_of(d, "metadata.time.insert", &h.t2);
        if (yes && ranged)
            yes = h.has_t && h.t >= from && h.t <= to;
        if (yes)
            out[n++] = h;
    }
    sort_kind = ranged || kind == CDP_DOC_EVENT ? kind : (enum cdp_doc_kind) - 1;
    if (ranged || kind == CDP_DOC_EVENT)
        qsort(out, (size_t)n, sizeof(*out), newest_first);
    else /* newest stored first */
        for (int i = 0; i < n / 2; i++) {
            struct hit tmp = out[i];
            out[i] = out[n - 1 - i];
            out[n - 1 - i] = tmp;
        }
    return n;
}

static void check_search(struct fixture *f, enum cdp_doc_kind kind, const char *text,
                         const struct cdp_tql *cond, bool ranged, int64_t from, int64_t to)
{
    static struct hit want[NEVENTS];
    int n = expect(f, kind, cond, ranged, from, to, want);
    struct cdp_search s = {.kind = kind,
                           .where = cond,
                           .now_us = NOW_US,
                           .ranged = ranged,
                           .from_us = from,
                           .to_us = to,
                           .start = 0,
                           .limit = NEVENTS};
    if (rnd(3) == 0) { /* a page, and a capped count */
        s.start = (int)rnd(8);
        s.limit = 1 + (int)rnd(6);
        s.max_total = 1 + rnd(12);
    }
    cJSON *list = NULL;
    long total = -1;
    assert_int_equal(f_search(f, &s, &list, &total), 0);
    long want_total = s.max_total > 0 && n > s.max_total ? s.max_total : n;
    int want_page = n - s.start < 0 ? 0 : n - s.start < s.limit ? n - s.start : s.limit;
    bool ok = total == want_total && cJSON_GetArraySize(list) == want_page;
    for (int i = 0; ok && i < want_page; i++)
        ok = strcmp(cdp_json_str(cJSON_GetArrayItem(list, i), "id"),
                    cdp_json_str(f->docs[kind][want[s.start + i].i], "id")) == 0;
    if (!ok) {
        char *got = cdp_json_print(list);
        fprintf(stderr, "want:");
        for (int i = 0; i < n; i++)
            fprintf(stderr, " %s", cdp_json_str(f->docs[kind][want[i].i], "id"));
        fprintf(stderr, "\n");
        fail_msg("%s search of %s (ranged %d, start %d limit %d cap %ld): total %ld, want %ld\n"
                 "  got %.2000s",
                 cdp_doc_source(kind), text, ranged, s.start, s.limit, s.max_total, total,
                 want_total, got);
    }
    cJSON_Delete(list);
}

/* The values at path of a document as terms count them: a string, or a list's distinct strings. */
static int values_at(const cJSON *doc, const char *path, const char **out)
{
    const cJSON *v = cdp_json_get(doc, path), *it;
    int n = 0;
    if (cJSON_IsString(v))
        out[n++] = v->valuestring;
    const cJSON *list = cJSON_IsArray(v) ? v : NULL;
    cJSON_ArrayForEach(it, list)
    {
        bool dup = false;
        for (int k = 0; k < n; k++)
            dup = dup || (cJSON_IsString(it) && strcmp(out[k], it->valuestring) == 0);
        if (cJSON_IsString(it) && !dup)
            out[n++] = it->valuestring;
    }
    return n;
}

struct count {
    const char *name;
    long n;
    long buckets[64];
};

static int by_count(const void *a, const void *b)
{
    const struct count *x = a, *y = b;
    return x->n != y->n ? (x->n > y->n ? -1 : 1) : strcmp(x->name, y->name);
}

static int tally(struct fixture *f, enum cdp_doc_kind kind, const struct hit *hits, int n,
                 const char *path, const struct cdp_histogram *h, struct count *out)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        const char *v[16];
        int m = values_at(f->docs[kind][hits[i].i], path, v);
        for (int j = 0; j < m; j++) {
            int at = 0;
            while (at < k && strcmp(out[at].name, v[j]) != 0)
                at++;
            if (at == k)
                out[k++] = (struct count){.name = v[j]};
            out[at].n++;
            if (h)
                out[at].buckets[(hits[i].t - h->origin_us) / h->width_us]++;
        }
    }
    qsort(out, (size_t)k, sizeof(*out), by_count);
    return k;
}

static void check_terms(struct fixture *f, enum cdp_doc_kind kind, const char *text,
                        const struct cdp_tql *cond, const char *path)
{
    static struct hit hits[NEVENTS];
    static struct count want[NEVENTS * 4];
    int n = expect(f, kind, cond, false, 0, 0, hits);
    int k = tally(f, kind, hits, n, path, NULL, want), limit = 1 + (int)rnd(6);
    struct cdp_search s = {.kind = kind, .where = cond, .now_us = NOW_US};
    cJSON *list = NULL;
    assert_int_equal(f_terms(f, &s, path, limit, &list), 0);
    bool ok = cJSON_GetArraySize(list) == (k < limit ? k : limit);
    for (int i = 0; ok && i < cJSON_GetArraySize(list); i++) {
        const cJSON *e = cJSON_GetArrayItem(list, i);
        ok = strcmp(cdp_json_str(e, "name"), want[i].name) == 0 &&
             cdp_json_get(e, "value")->valuedouble == (double)want[i].n;
    }
    if (!ok) {
        char *got = cdp_json_print(list);
        fail_msg("terms of %s %s where %s: got %s, want %d values, first %s %ld",
                 cdp_doc_source(kind), path, text, got, k, k ? want[0].name : "-",
                 k ? want[0].n : 0);
    }
    cJSON_Delete(list);
}

static void check_histogram(struct fixture *f, enum cdp_doc_kind kind, const char *text,
                            const struct cdp_tql *cond, const char *group_by)
{
    static struct hit hits[NEVENTS];
    static struct count want[NEVENTS * 4];
    int64_t from = NOW_US - (int64_t)rnd(11) * DAY_US - (int64_t)rnd(3600) * 1000000;
    int64_t to = from + (int64_t)(1 + rnd(10)) * DAY_US / 2;
    struct cdp_histogram h = {.width_us = (int64_t)(3 + rnd(22)) * 3600 * 1000000,
                              .group_by = group_by,
                              .group_limit = 3};
    h.origin_us = from / h.width_us * h.width_us;
    h.nbuckets = (int)((to - h.origin_us) / h.width_us) + 1;
    assert_true(h.nbuckets <= 64);
    int n = expect(f, kind, cond, true, from, to, hits);
    struct cdp_search s = {.kind = kind,
                           .where = cond,
                           .now_us = NOW_US,
                           .ranged = true,
                           .from_us = from,
                           .to_us = to};
    cJSON *res = NULL;
    assert_int_equal(f_histogram(f, &s, &h, &res), 0);
    bool ok = cdp_json_get(res, "total")->valuedouble == n;
    if (!group_by) {
        long buckets[64] = {0};
        for (int i = 0; i < n; i++)
            buckets[(hits[i].t - h.origin_us) / h.width_us]++;
        const cJSON *counts = cJSON_GetObjectItemCaseSensitive(res, "counts");
        ok = ok && cJSON_GetArraySize(counts) == h.nbuckets;
        for (int i = 0; ok && i < h.nbuckets; i++)
            ok = cJSON_GetArrayItem(counts, i)->valuedouble == buckets[i];
    } else {
        int k = tally(f, kind, hits, n, group_by, &h, want);
        const cJSON *groups = cJSON_GetObjectItemCaseSensitive(res, "groups");
        ok = ok && cJSON_GetArraySize(groups) == (k < h.group_limit ? k : h.group_limit);
        for (int g = 0; ok && g < cJSON_GetArraySize(groups); g++) {
            const cJSON *e = cJSON_GetArrayItem(groups, g);
            const cJSON *counts = cJSON_GetObjectItemCaseSensitive(e, "counts");
            ok = strcmp(cdp_json_str(e, "name"), want[g].name) == 0 &&
                 cJSON_GetArraySize(counts) == h.nbuckets;
            for (int i = 0; ok && i < h.nbuckets; i++)
                ok = cJSON_GetArrayItem(counts, i)->valuedouble == want[g].buckets[i];
        }
    }
    if (!ok) {
        char *got = cdp_json_print(res);
        fail_msg("histogram of %s where %s by %s: got %s; want total %d", cdp_doc_source(kind),
                 text, group_by ? group_by : "-", got, n);
    }
    cJSON_Delete(res);
}

/* 1 when text parsed (and was checked), 0 when not. */
static int check_all_ways(struct fixture *f, const char *text, int i)
{
    enum cdp_doc_kind kind = i % 3 == 0 ? CDP_DOC_PROFILE : CDP_DOC_EVENT;
    struct cdp_tql *cond = NULL;
    char err[200];
    if (cdp_tql_parse_in(text, cdp_doc_source(kind), &cond, err, sizeof(err)))
        return 0;
    check_search(f, kind, text, cond, false, 0, 0);
    check_search(f, kind, text, cond, true, NOW_US - 4 * DAY_US, NOW_US);
    if (i % 4 == 0)
        check_histogram(f, kind, text, cond, NULL);
    if (i % 4 == 1)
        check_terms(f, kind, text, cond, kind == CDP_DOC_EVENT ? "type" : "properties.l");
    cdp_tql_free(cond);
    return 1;
}

/* Fuzz-style: the seed conditions of tests/fuzz (fuzz_search, fuzz_tql), with bytes of them
 * changed, and deeply nested random conditions, each searched and compared with the evaluator. */
static void fuzz_like(struct fixture *f)
{
    static const char *const dirs[] = {"fuzz_search", "fuzz_tql"};
    int i = 0, parsed = 0;
    for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/tests/fuzz/seeds/%s", CDP_SOURCE_ROOT, dirs[d]);
        DIR *dir = opendir(path);
        struct dirent *e;
        while (dir && (e = readdir(dir))) {
            char file[1024], text[2048];
            snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
            FILE *fp = e->d_name[0] == '.' ? NULL : fopen(file, "r");
            size_t n = fp ? fread(text, 1, sizeof(text) - 1, fp) : 0;
            if (fp)
                fclose(fp);
            text[n] = '\0';
            if (!n)
                continue;
            parsed += check_all_ways(f, text, i++);
            for (int m = 0; m < 20; m++) { /* a few bytes changed to other bytes of the text */
                char mut[2048];
                memcpy(mut, text, n + 1);
                for (int k = 0; k < 1 + (int)rnd(3); k++)
                    mut[rnd((unsigned)n)] = text[rnd((unsigned)n)];
                parsed += check_all_ways(f, mut, i++);
            }
        }
        if (dir)
            closedir(dir);
    }
    for (int k = 0; k < 200; k++) {
        char text[4096];
        random_tree(text, sizeof(text), 4);
        parsed += check_all_ways(f, text, i++);
    }
    if (parsed < 200)
        fail_msg("only %d of %d fuzz-style conditions parse", parsed, i);
}

static void property(const char *url)
{
    struct fixture f;
    fixture_open(&f, url);
    int exact = 0, partial = 0, in_c = 0;
    for (int i = 0; i < NCONDS; i++) {
        enum cdp_doc_kind kind = i % 5 == 3   ? CDP_DOC_SESSION
                                 : i % 5 == 4 ? CDP_DOC_PROFILE
                                              : CDP_DOC_EVENT;
        char text[1024], err[200];
        random_condition(text, sizeof(text));
        struct cdp_tql *cond = NULL;
        if (cdp_tql_parse_in(text, cdp_doc_source(kind), &cond, err, sizeof(err)))
            fail_msg("%s: %s", text, err);
        struct cdp_query *q = NULL;
        assert_int_equal(cdp_query_new(&q, cond, NOW_US, cdp_doc_source(kind)), 0);
        int n, exact_terms = 0;
        struct cdp_query_node *const *terms = cdp_query_terms(q, &n);
        for (int k = 0; k < n; k++)
            exact_terms += cdp_query_is_exact(terms[k]);
        exact += q->exact;
        partial += !q->exact && exact_terms > 0;
        in_c += exact_terms == 0;
        cdp_query_free(q);

        check_search(&f, kind, text, cond, false, 0, 0);
        int64_t from = NOW_US - (int64_t)rnd(12) * DAY_US, to = from + (int64_t)rnd(6) * DAY_US;
        check_search(&f, kind, text, cond, true, from, to);
        if (i % 3 == 0)
            check_histogram(&f, kind, text, cond,
                            i % 2                   ? NULL
                            : kind == CDP_DOC_EVENT ? (rnd(2) ? "type" : "tags.values")
                                                    : "properties.l");
        if (i % 4 == 0)
            check_terms(&f, kind, text, cond,
                        kind == CDP_DOC_EVENT ? (rnd(2) ? "type" : "source.id")
                                              : (rnd(2) ? "properties.a" : "properties.l"));
        cdp_tql_free(cond);
    }
    /* every way of answering was tried */
    assert_true(exact > NCONDS / 4);
    assert_true(partial > 20);
    assert_true(in_c > 20);
    /* no condition: counts, and the time range alone */
    check_search(&f, CDP_DOC_EVENT, "-", NULL, false, 0, 0);
    check_search(&f, CDP_DOC_PROFILE, "-", NULL, true, NOW_US - 5 * DAY_US, NOW_US);
    check_histogram(&f, CDP_DOC_EVENT, "-", NULL, NULL);
    check_histogram(&f, CDP_DOC_SESSION, "-", NULL, NULL);
    check_terms(&f, CDP_DOC_EVENT, "-", NULL, "tags.values");
    check_terms(&f, CDP_DOC_EVENT, "-", NULL, "metadata.status");
    fuzz_like(&f);
    fixture_close(&f);
}

static void test_property(void **state)
{
    (void)state;
    property(NULL);
}

/* The same property test on the PostgreSQL backend (store/pg_tql.c). */
static void test_property_pg(void **state)
{
    (void)state;
    char url[256];
    if (pg_fixture_db(url, sizeof(url)))
        skip();
    rng = 0x9e3779b97f4a7c15ull; /* the same documents and conditions as SQLite's */
    property(url);
}

/* PostgreSQL's cdp_iso_us() (made by the first search) against cdp_clock_parse_iso, the parser
 * tql.c compares times with: every edge of the grammar, then random mutations of valid times. */
static void test_iso_us_pg(void **state)
{
    (void)state;
    char url[256], err[256];
    if (pg_fixture_db(url, sizeof(url)))
        skip();
    struct cdp_store *s;
    struct cdp_store_opts o = {.durable = false};
    if (cdp_store_open(&s, url, &o, err, sizeof(err)))
        fail_msg("%s: %s", url, err);
    cdp_store_close(s);
    PGconn *db = PQconnectdb(url);
    assert_int_equal(PQstatus(db), CONNECTION_OK);
    PGresult *r = PQexec(db, "SET search_path TO production");
    PQclear(r);
    struct cdp_search q = {.kind = CDP_DOC_EVENT, .limit = 1};
    cJSON *list = NULL;
    long total;
    assert_int_equal(cdp_pg_search(db, &q, &list, &total), 0);
    cJSON_Delete(list);
    r = PQexec(db, "SELECT n.nspname FROM pg_proc p JOIN pg_namespace n ON"
                   " n.oid = p.pronamespace WHERE p.proname = 'cdp_iso_us'");
    assert_int_equal(PQntuples(r), 1);
    char sql[200];
    snprintf(sql, sizeof(sql), "SELECT \"%s\".cdp_iso_us($1)", PQgetvalue(r, 0, 0));
    PQclear(r);
    static const char *const fixed[] = {
        "2024-01-18T12:00:00Z",
        "2024-01-18",
        "2024-01-18T12:00",
        "2024-01-18 12:00:00.5",
        "2024-01-18T12:00:00.1234567Z",
        "2024-01-18T12:00:00.+01",
        "2024-01-18T12:00:00+01:",
        "2024-01-18T12:00:00+0130",
        "2024-01-18T12:00:00-01:30",
        "2024-01-18T12:00:00+01:3",
        "2024-02-31T00:00:00Z",
        "2024-13-01",
        "2024-00-10",
        "2024-01-32",
        "2024-01-18T24:00",
        "2024-01-18T23:60",
        "2023-12-31T23:59:60Z",
        "0000-01-01",
        "9999-12-31T23:59:59.999999Z",
        "1969-12-31T23:59:59Z",
        "2024-01-18t12:00",
        "2024-01-18T12",
        "2024-01-18T12:00Zx",
        "2024-1-18",
        "",
        "not a date",
        "2024-01-18T12:00:00Z ",
        " 2024-01-18",
        "1900-02-29",
        "2000-02-29T12:00:00+99:99",
    };
    char buf[64];
    for (int i = 0; i < 3000; i++) {
        const char *in = buf;
        if (i < (int)(sizeof(fixed) / sizeof(fixed[0]))) {
            in = fixed[i];
        } else { /* a valid time with a few bytes changed, cut or inserted */
            snprintf(buf, sizeof(buf), "%s", fixed[rnd(10)]);
            for (int k = 0, m = 1 + (int)rnd(3); k < m; k++) {
                size_t len = strlen(buf), at = rnd((unsigned)len + 1);
                const char *alphabet = "0123456789-:.TZ+ 9x";
                char ch = alphabet[rnd((unsigned)strlen(alphabet))];
                if (rnd(4) == 0)
                    buf[at] = '\0';
                else if (at < len)
                    buf[at] = ch;
                else if (len + 1 < sizeof(buf))
                    buf[len] = ch, buf[len + 1] = '\0';
            }
        }
        int64_t want = 0;
        bool ok = cdp_clock_parse_iso(in, &want) == 0;
        const char *vals[1] = {in};
        r = PQexecParams(db, sql, 1, NULL, vals, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            fail_msg("cdp_iso_us(%s): %s", in, PQresultErrorMessage(r));
        bool got_ok = !PQgetisnull(r, 0, 0);
        long long got = got_ok ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
        if (ok != got_ok || (ok && got != (long long)want))
            fail_msg("cdp_iso_us(\"%s\"): C %d %lld, PostgreSQL %d %lld", in, ok, (long long)want,
                     got_ok, got);
        PQclear(r);
    }
    PQfinish(db);
}

/* profiles_find on PostgreSQL: equality of the value at each path (strings, numbers, booleans;
 * a list holding the value is no match), an expression index per key made on first use, and
 * paths outside the whitelist refused. */
static void test_profiles_find_pg(void **state)
{
    (void)state;
    char url[256], err[256];
    if (pg_fixture_db(url, sizeof(url)))
        skip();
    struct cdp_store *s;
    struct cdp_store_opts o = {.durable = false};
    if (cdp_store_open(&s, url, &o, err, sizeof(err)))
        fail_msg("%s: %s", url, err);
    static const char *const docs[] = {
        "{\"id\":\"p1\",\"data\":{\"contact\":{\"email\":{\"main\":\"a@x\"}},\"n\":1}}",
        "{\"id\":\"p2\",\"data\":{\"contact\":{\"email\":{\"main\":[\"a@x\"]}},\"n\":1.0}}",
        ("{\"id\":\"p3\",\"data\":{\"contact\":{\"email\":{\"main\":\"A@x\"}},\"n\":2,"
         "\"ok\":true}}"),
        "{\"id\":\"p4\",\"data\":{\"n\":\"1\",\"ok\":false}}",
    };
    assert_int_equal(s->ops->begin(s), 0);
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        cJSON *d = cJSON_Parse(docs[i]);
        assert_int_equal(s->ops->profile_put(s, d), 0);
        cJSON_Delete(d);
    }
    assert_int_equal(s->ops->commit(s), 0);
    cdp_store_close(s);
    PGconn *db = PQconnectdb(url);
    assert_int_equal(PQstatus(db), CONNECTION_OK);
    PQclear(PQexec(db, "SET search_path TO production"));
    static const struct {
        const char *keys, *want;
    } cases[] = {
        {"{\"data.contact.email.main\":\"a@x\"}", "[\"p1\"]"},
        {"{\"data.n\":1}", "[\"p1\",\"p2\"]"},
        {"{\"data.n\":1,\"data.contact.email.main\":\"a@x\"}", "[\"p1\"]"},
        {"{\"data.ok\":true}", "[\"p3\"]"},
        {"{\"data.ok\":false,\"data.n\":\"1\"}", "[\"p4\"]"},
        {"{\"data.missing\":\"a@x\"}", "[]"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *keys = cJSON_Parse(cases[i].keys), *ids = NULL;
        assert_int_equal(cdp_pg_profiles_find(db, keys, 10, &ids), 0);
        /* sorted, for the comparison */
        char *got = cdp_json_print(ids);
        if (cJSON_GetArraySize(ids) == 2 && strcmp(cJSON_GetArrayItem(ids, 0)->valuestring,
                                                   cJSON_GetArrayItem(ids, 1)->valuestring) > 0) {
            free(got);
            cJSON *rev = cJSON_CreateArray();
            cJSON_AddItemToArray(rev, cJSON_Duplicate(cJSON_GetArrayItem(ids, 1), true));
            cJSON_AddItemToArray(rev, cJSON_Duplicate(cJSON_GetArrayItem(ids, 0), true));
            got = cdp_json_print(rev);
            cJSON_Delete(rev);
        }
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("find %s: got %s, want %s", cases[i].keys, got, cases[i].want);
        free(got);
        cJSON_Delete(ids);
        cJSON_Delete(keys);
    }
    static const char *const bad[] = {"{\"data.0\":1}", "{\"a'b\":1}", "{\"a\":[1]}", "{}",
                                      "{\"a\":null}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cJSON *keys = cJSON_Parse(bad[i]), *ids = NULL;
        assert_int_equal(cdp_pg_profiles_find(db, keys, 10, &ids), CDP_E_INVALID);
        cJSON_Delete(keys);
    }
    PGresult *r = PQexec(db, "SELECT count(*) FROM pg_indexes WHERE schemaname = 'production'"
                             " AND indexname LIKE 'profile_find_%'");
    assert_string_equal(PQgetvalue(r, 0, 0), "4"); /* one per key path looked up */
    PQclear(r);
    PQfinish(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_normalises),  cmocka_unit_test(test_query_residual),
        cmocka_unit_test(test_parse_bare_fields), cmocka_unit_test(test_property),
        cmocka_unit_test(test_property_pg),       cmocka_unit_test(test_iso_us_pg),
        cmocka_unit_test(test_profiles_find_pg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
