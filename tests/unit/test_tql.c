/* Unit tests of src/flow: dot-notation references and the condition language, table-driven
 * over one fixture profile, event and session. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/err.h"
#include "flow/path.h"
#include "flow/tql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char profile_json[] =
    "{\"id\":\"p1\",\"active\":true,\"segments\":[\"vip\",\"new\",\"eu\"],"
    "\"stats\":{\"visits\":12,\"views\":3.5},"
    "\"traits\":{\"email\":\"Ann@Example.com\",\"age\":41,\"nick\":null,\"blank\":\"\","
    "\"none\":[],\"nothing\":{},\"My key\":\"spaced\",\"joined\":\"2024-01-10T12:00:00Z\","
    "\"ts\":1704888000,\"tier\":\"gold\",\"other_tier\":\"gold\"},"
    "\"metadata\":{\"time\":{\"visit\":{\"last\":\"2024-01-18T10:00:00+00:00\"}}}}";
static const char event_json[] =
    "{\"type\":\"purchase\",\"properties\":{\"total\":99.5,\"items\":[{\"sku\":\"A1\",\"qty\":2},"
    "{\"sku\":\"B2\",\"qty\":1}],\"tags\":[\"x\",\"y\"],\"url\":\"https://shop.example/cart\"}}";
static const char session_json[] = "{\"id\":\"s1\",\"context\":{\"tz\":\"Europe/Warsaw\"}}";

/* 2024-01-18T12:00:00Z, the fixed "now" of every test. */
#define NOW_US ((int64_t)1705579200 * 1000000)

struct fixture {
    struct cdp_refs r;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->r.profile = cJSON_Parse(profile_json);
    f->r.event = cJSON_Parse(event_json);
    f->r.session = cJSON_Parse(session_json);
    f->r.payload = cJSON_Parse("{\"n\":1,\"list\":[10,20]}");
    f->r.flow = cJSON_Parse("{\"id\":\"flow-1\"}");
    assert_non_null(f->r.profile);
    assert_non_null(f->r.event);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    cJSON_Delete(f->r.profile);
    cJSON_Delete(f->r.event);
    cJSON_Delete(f->r.session);
    cJSON_Delete(f->r.payload);
    cJSON_Delete(f->r.flow);
    cJSON_Delete(f->r.memory);
    free(f);
    return 0;
}

static const struct {
    const char *cond;
    bool want;
} cases[] = {
    /* comparison operators */
    {"profile@stats.visits == 12", true},
    {"profile@stats.visits = 12", true},
    {"profile@stats.visits != 12", false},
    {"profile@stats.visits != 13", true},
    {"profile@stats.visits > 11", true},
    {"profile@stats.visits > 12", false},
    {"profile@stats.visits >= 12", true},
    {"profile@stats.visits => 12", true},
    {"profile@stats.visits < 12.5", true},
    {"profile@stats.visits <= 12", true},
    {"profile@stats.visits =< 11", false},
    {"profile@stats.views == 3.5", true},
    {"event@properties.total>=99.5", true},
    {"profile@traits.age == -41", false},
    {"profile@traits.age > -1e3", true},
    {"event@type == \"purchase\"", true},
    {"event@type < \"zebra\"", true},
    {"profile@active == TRUE", true},
    {"profile@active == false", false},
    {"profile@traits.nick == null", true},
    /* field vs field */
    {"profile@traits.tier == profile@traits.other_tier", true},
    {"profile@traits.tier != profile@traits.other_tier", false},
    {"profile@stats.visits > profile@stats.views", true},
    /* string vs number: never equal, never ordered */
    {"profile@traits.tier == 1", false},
    {"profile@traits.tier > 1", false},
    {"profile@traits.tier < 1", false},
    {"profile@traits.tier != 1", true},
    /* lists */
    {"event@type == [\"view\", \"purchase\"]", true},
    {"event@type == [\"view\"]", false},
    {"event@type != [\"view\"]", true},
    {"payload@n == [1, 2]", true},
    {"profile@segments == [\"vip\", \"new\", \"eu\"]", true},
    {"payload@list == []", false},
    /* BETWEEN */
    {"profile@traits.age BETWEEN 18 AND 65", true},
    {"profile@traits.age between 41 and 41", true},
    {"profile@traits.age BETWEEN 50 AND 65", false},
    {"profile@traits.missing BETWEEN 1 AND 2", false},
    /* IS NULL */
    {"profile@traits.nick IS NULL", true},
    {"profile@traits.missing IS NULL", true},
    {"profile@traits.age IS NULL", false},
    {"profile@traits.age IS NOT NULL", true},
    {"profile@traits.nick is not null", false},
    {"profile@traits.missing IS NOT NULL", false},
    /* EXISTS */
    {"profile@traits.nick EXISTS", true},
    {"profile@traits.missing EXISTS", false},
    {"profile@traits.missing NOT EXISTS", true},
    {"profile@traits.age not exists", false},
    /* EMPTY */
    {"profile@traits.missing EMPTY", true},
    {"profile@traits.nick EMPTY", true},
    {"profile@traits.blank EMPTY", true},
    {"profile@traits.none EMPTY", true},
    {"profile@traits.nothing EMPTY", true},
    {"profile@traits.age EMPTY", false},
    {"profile@traits.tier NOT EMPTY", true},
    {"profile@traits.blank NOT EMPTY", false},
    /* CONTAINS, STARTS WITH, ENDS WITH */
    {"event@properties.url CONTAINS \"example\"", true},
    {"event@properties.url CONTAINS \"nope\"", false},
    {"profile@segments CONTAINS \"vip\"", true},
    {"profile@segments contains \"gold\"", false},
    {"profile@traits CONTAINS \"tier\"", true},
    {"event@properties.url STARTS WITH \"https://\"", true},
    {"event@properties.url starts with \"http://\"", false},
    {"event@properties.url ENDS WITH \"/cart\"", true},
    {"event@properties.url ENDS WITH \"https://shop.example/cart/more\"", false},
    {"profile@segments STARTS WITH \"vip\"", true},
    {"profile@segments ENDS WITH \"eu\"", true},
    {"profile@segments ENDS WITH \"vip\"", false},
    {"profile@traits.none STARTS WITH \"x\"", false},
    /* string escapes */
    {"\"a\\\"b\" == \"a\\\"b\"", true},
    {"\"a\\\\\" ENDS WITH \"\\\\\"", true},
    /* paths: arrays, quoted keys, case-insensitive sources, whole object */
    {"event@properties.items.0.sku == \"A1\"", true},
    {"event@properties.items.1.qty == 1", true},
    {"event@properties.items.2.sku EXISTS", false},
    {"profile@traits[\"My key\"] == \"spaced\"", true},
    {"PROFILE@id == \"p1\"", true},
    {"Session@context.tz == \"Europe/Warsaw\"", true},
    {"payload@... NOT EMPTY", true},
    {"payload@ NOT EMPTY", true},
    {"memory@x EXISTS", false},
    {"flow@id == \"flow-1\"", true},
    /* missing fields make comparisons false */
    {"profile@traits.missing == 1", false},
    {"profile@traits.missing != 1", false},
    {"profile@traits.missing > 1", false},
    {"profile@traits.missing CONTAINS \"a\"", false},
    {"profile@traits.age == profile@traits.missing", false},
    {"NOT profile@traits.missing == 1", true},
    {"profile@traits.missing NOT EMPTY AND profile@traits.missing == 1", false},
    /* precedence, parentheses, NOT */
    {"profile@id == \"p1\" AND event@type == \"purchase\"", true},
    {"profile@id == \"p1\" AND event@type == \"view\"", false},
    {"profile@id == \"x\" OR event@type == \"purchase\"", true},
    {"profile@id == \"p1\" AND event@type == \"view\" OR payload@n == 1", true},
    {"payload@n == 1 OR profile@id == \"x\" AND event@type == \"view\"", true},
    {"(payload@n == 1 OR profile@id == \"x\") AND event@type == \"view\"", false},
    {"payload@n == 2 or payload@n == 3 or payload@n == 1", true},
    {"NOT payload@n == 1", false},
    {"NOT (payload@n == 1)", false},
    {"NOT NOT payload@n == 1", true},
    {"not (payload@n == 2 or payload@n == 3)", true},
    {"NOT payload@n == 2 AND payload@n == 1", true},
    {"((((payload@n == 1))))", true},
    /* time literals (seconds) */
    {"payload@n < 10m", true},
    {"600 == 10m", true},
    {"7200 == 2h", true},
    {"259200 == 3d", true},
    {"5 == 5s", true},
    /* functions */
    {"profile@traits.joined < now()", true},
    {"profile@traits.joined < utcnow()", true},
    {"profile@traits.joined > now.offset(\"-15d\")", true},
    {"profile@traits.joined > now.offset(\"-7d\")", false},
    {"profile@metadata.time.visit.last > now.offset(\"-2h\")", false},
    {"profile@metadata.time.visit.last > now.offset(\"-3 hours\")", true},
    {"profile@metadata.time.visit.last > now.offset(\"-1h 59m\")", false},
    {"now() == datetime(\"2024-01-18T12:00:00Z\")", true},
    {"now(\"Europe/Warsaw\") == utcnow()", true},
    {"now.timezone(session@context.tz) == now()", true},
    {"now.timezone.offset(\"UTC\", \"+1d\") > now()", true},
    {"profile@traits.joined == datetime(\"2024-01-10T13:00:00+01:00\")", true},
    {"datetime(profile@traits.joined) < datetime(\"2024-01-11\")", true},
    {"datetime.offset(profile@traits.joined, \"+7 days\") < now()", true},
    {"datetime.offset(profile@traits.joined, \"+700 days\") > now()", true},
    {"datetime.timezone(profile@traits.joined, \"Europe/Warsaw\") == profile@traits.joined", true},
    {"datetime.from_timestamp(profile@traits.ts) == profile@traits.joined", true},
    {"datetime.from_timestamp(1704888000) == datetime(\"2024-01-10T12:00:00Z\")", true},
    {"profile@traits.tier < now()", false},
    {"profile@traits.missing < now()", false},
    {"lowercase(profile@traits.email) == \"ann@example.com\"", true},
    {"profile@traits.email == uppercase(\"ann@example.com\")", false},
    {"uppercase(profile@traits.email) == \"ANN@EXAMPLE.COM\"", true},
    {"lowercase(lowercase(\"ABC\")) == \"abc\"", true},
    {"lowercase(profile@stats.visits) == 12", true},
    {"Lowercase(\"X\") == \"x\"", true},
};

static void test_conditions(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cdp_tql *q = NULL;
        char err[160];
        int rc = cdp_tql_parse(cases[i].cond, &q, err, sizeof(err));
        if (rc != 0)
            fail_msg("parse failed for %s: %s", cases[i].cond, err);
        bool res = !cases[i].want;
        assert_int_equal(cdp_tql_eval(q, &f->r, NOW_US, &res, err, sizeof(err)), 0);
        if (res != cases[i].want)
            fail_msg("%s: got %d, want %d", cases[i].cond, res, cases[i].want);
        /* Parsed once, evaluated many times: a second run gives the same answer. */
        assert_int_equal(cdp_tql_eval(q, &f->r, NOW_US, &res, err, sizeof(err)), 0);
        assert_true(res == cases[i].want);
        cdp_tql_free(q);
    }
}

static const struct {
    const char *cond;
    const char *want; /* expected prefix of the message */
} bad[] = {
    {"", "at 1: expected a condition"},
    {"profile@a.b == ", "at 16: expected a value after '=='"},
    {"profile@stats.visits ==", "at 24: expected a value after '=='"},
    {"profile@a", "at 10: expected an operator"},
    {"profile@a == 1 AND", "at 19: expected a condition (a field, value, function, NOT or '(')"},
    {"profile@a == 1 extra", "at 16: expected AND, OR or the end"},
    {"(profile@a == 1", "at 16: expected ')' to close the '(' at 1"},
    {"profile@a == \"abc", "at 14: unterminated string"},
    {"profile@a BETWEEN 1 OR 2", "at 21: expected AND after BETWEEN"},
    {"profile@a IS 1", "at 14: expected NULL or NOT NULL after IS"},
    {"profile@a NOT 1", "at 15: expected EXISTS or EMPTY after NOT"},
    {"profile@a STARTS \"x\"", "at 18: expected WITH after STARTS"},
    {"profile@a == bogus(1)", "at 14: unknown function or keyword 'bogus'"},
    {"profile@a == now.offset()", "at 25: now.offset() takes 1 argument"},
    {"profile@a == now(1, 2)", "at 21: too many arguments to now()"},
    {"profile@a == now.offset(\"-15 fortnights\")", "at 14: invalid time offset"},
    {"profile@a. == 1", "at 1: invalid reference 'profile@a.'"},
    {"profile@a[\"x == 1", "at 1: invalid reference"},
    {"profile@a == [1, 2", "at 19: expected ',' or ']' in the list"},
    {"profile@a == 10x", "at 16: expected a time unit"},
    {"profile@a ! 1", "at 11: unexpected character '!'"},
    {"profile@a == 1e999", "at 14: number out of range"},
    {"profile@a == datetime(\"yesterday\")", "at 14: invalid ISO 8601 date"},
    {"profile@a > datetime.offset(\"2024-01-01\", \"soon\")", "at 13: invalid time offset"},
    {"profile@a == 1e308w", "at 14: number out of range"},
    {"== 1", "at 1: expected a condition"},
    {"profile@a == 1 AND OR profile@b == 2", "at 20: expected a condition"},
    {"NOT", "at 4: expected a condition"},
    {"()", "at 2: expected a condition"},
    {"profile@a == lowercase(\"A\"", "at 27: expected ',' or ')' after the argument"},
    {"profile@a == now", "at 17: expected '(' after the function name"},
    {"nosuch@a == 1", "at 1: expected a condition"},
    {"profile@a == bogus", "at 14: expected a value after '=='"},
};

static void test_syntax_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cdp_tql *q = (struct cdp_tql *)1;
        char err[160] = "";
        int rc = cdp_tql_parse(bad[i].cond, &q, err, sizeof(err));
        if (rc != CDP_E_INVALID)
            fail_msg("%s: parsed (rc %d)", bad[i].cond, rc);
        assert_null(q);
        if (strncmp(err, bad[i].want, strlen(bad[i].want)) != 0)
            fail_msg("%s: message \"%s\", want \"%s...\"", bad[i].cond, err, bad[i].want);
    }
}

static void test_limits(void **state)
{
    (void)state;
    struct cdp_tql *q;
    char err[160];
    /* Exactly at the length limit parses; one byte more is refused. */
    size_t n = CDP_TQL_MAX_LEN;
    char *s = malloc(n + 2);
    memset(s, ' ', n + 1);
    memcpy(s, "payload@n == 1", 14);
    s[n] = '\0';
    assert_int_equal(cdp_tql_parse(s, &q, err, sizeof(err)), 0);
    cdp_tql_free(q);
    s[n] = ' ';
    s[n + 1] = '\0';
    assert_int_equal(cdp_tql_parse(s, &q, err, sizeof(err)), CDP_E_INVALID);
    assert_non_null(strstr(err, "longer than 8192"));
    free(s);

    /* Deep nesting is refused, not recursed into. */
    char deep[600];
    size_t k = 0;
    for (int i = 0; i < 200; i++)
        deep[k++] = '(';
    memcpy(deep + k, "payload@n == 1", 14);
    k += 14;
    for (int i = 0; i < 200; i++)
        deep[k++] = ')';
    deep[k] = '\0';
    assert_int_equal(cdp_tql_parse(deep, &q, err, sizeof(err)), CDP_E_INVALID);
    assert_non_null(strstr(err, "nesting deeper than 64"));

    k = 0;
    for (int i = 0; i < 100; i++) {
        memcpy(deep + k, "NOT ", 4);
        k += 4;
    }
    memcpy(deep + k, "payload@n == 1", 15);
    assert_int_equal(cdp_tql_parse(deep, &q, err, sizeof(err)), CDP_E_INVALID);
    assert_non_null(strstr(err, "nesting"));

    char text[200];
    memcpy(text, "payload@n == ", 13);
    memset(text + 13, '[', 100);
    text[113] = '\0';
    assert_int_equal(cdp_tql_parse(text, &q, err, sizeof(err)), CDP_E_INVALID);
    assert_non_null(strstr(err, "nesting"));

    /* Long AND chains are flat, not deep. */
    char *chain = malloc(CDP_TQL_MAX_LEN + 1);
    k = 0;
    while (k + 24 < CDP_TQL_MAX_LEN) {
        memcpy(chain + k, "payload@n == 1 AND ", 19);
        k += 19;
    }
    memcpy(chain + k, "payload@n == 1", 15);
    assert_int_equal(cdp_tql_parse(chain, &q, err, sizeof(err)), 0);
    struct cdp_refs r = {.payload = cJSON_Parse("{\"n\":1}")};
    bool res = false;
    assert_int_equal(cdp_tql_eval(q, &r, NOW_US, &res, err, sizeof(err)), 0);
    assert_true(res);
    cJSON_Delete(r.payload);
    cdp_tql_free(q);
    free(chain);

    /* A tiny error buffer is truncated, never overrun. */
    char small[8];
    assert_int_equal(cdp_tql_parse("profile@a ==", &q, small, sizeof(small)), CDP_E_INVALID);
    assert_int_equal(strlen(small), 7);
}

static void test_offsets(void **state)
{
    (void)state;
    int64_t us;
    assert_int_equal(cdp_tql_parse_offset("-15m", &us), 0);
    assert_true(us == -15 * 60 * (int64_t)1000000);
    assert_int_equal(cdp_tql_parse_offset("+700 days", &us), 0);
    assert_true(us == 700 * 86400 * (int64_t)1000000);
    assert_int_equal(cdp_tql_parse_offset("2h", &us), 0);
    assert_true(us == 7200 * (int64_t)1000000);
    assert_int_equal(cdp_tql_parse_offset("1 week", &us), 0);
    assert_true(us == 604800 * (int64_t)1000000);
    assert_int_equal(cdp_tql_parse_offset("1h 30m", &us), 0);
    assert_true(us == 5400 * (int64_t)1000000);
    assert_int_equal(cdp_tql_parse_offset("30", &us), 0);
    assert_true(us == 30 * (int64_t)1000000);
    assert_int_equal(cdp_tql_parse_offset("1.5 minutes", &us), 0);
    assert_true(us == 90 * (int64_t)1000000);
    assert_int_equal(cdp_tql_parse_offset("", &us), -1);
    assert_int_equal(cdp_tql_parse_offset("-", &us), -1);
    assert_int_equal(cdp_tql_parse_offset("5 parsecs", &us), -1);
    assert_int_equal(cdp_tql_parse_offset("999999999999999 d", &us), -1);
}

static void test_path_read(void **state)
{
    struct fixture *f = *state;
    assert_true(cdp_path_is_ref("profile@traits.email"));
    assert_true(cdp_path_is_ref("payload@items.0.sku"));
    assert_true(cdp_path_is_ref("profile@traits[\"My key\"]"));
    assert_true(cdp_path_is_ref("EVENT@type"));
    assert_true(cdp_path_is_ref("payload@..."));
    assert_true(cdp_path_is_ref("memory@"));
    assert_false(cdp_path_is_ref("hello"));
    assert_false(cdp_path_is_ref("other@x"));
    assert_false(cdp_path_is_ref("profile@a."));
    assert_false(cdp_path_is_ref("profile@a..b"));
    assert_false(cdp_path_is_ref("profile@a b"));
    assert_false(cdp_path_is_ref("profile@a[\"b"));
    assert_false(cdp_path_is_ref(NULL));

    assert_string_equal(cdp_path_get(&f->r, "profile@traits.email")->valuestring,
                        "Ann@Example.com");
    assert_string_equal(cdp_path_get(&f->r, "event@properties.items.1.sku")->valuestring, "B2");
    assert_string_equal(cdp_path_get(&f->r, "event@properties.items[1].sku")->valuestring, "B2");
    assert_string_equal(cdp_path_get(&f->r, "profile@traits[\"My key\"]")->valuestring, "spaced");
    assert_true(cdp_path_get(&f->r, "payload@...") == f->r.payload);
    assert_true(cdp_path_get(&f->r, "payload@") == f->r.payload);
    assert_null(cdp_path_get(&f->r, "event@properties.items.5.sku"));
    assert_null(cdp_path_get(&f->r, "event@properties.items.x"));
    assert_null(cdp_path_get(&f->r, "profile@id.deeper"));
    assert_null(cdp_path_get(&f->r, "memory@anything"));
    assert_null(cdp_path_get(&f->r, "not a ref"));
    assert_true(cJSON_IsNull(cdp_path_get(&f->r, "profile@traits.nick")));
}

static void test_path_write(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(cdp_path_set(&f->r, "profile@traits.score", cJSON_CreateNumber(5)), 0);
    assert_int_equal(cdp_path_get(&f->r, "profile@traits.score")->valueint, 5);
    /* Objects are created on the way, scalars in the way are replaced. */
    assert_int_equal(cdp_path_set(&f->r, "profile@aux.a.b", cJSON_CreateString("x")), 0);
    assert_string_equal(cdp_path_get(&f->r, "profile@aux.a.b")->valuestring, "x");
    assert_int_equal(cdp_path_set(&f->r, "profile@id.sub", cJSON_CreateTrue()), 0);
    assert_true(cJSON_IsTrue(cdp_path_get(&f->r, "profile@id.sub")));
    /* Arrays: replace an item, append one past the end, refuse further. */
    assert_int_equal(cdp_path_set(&f->r, "event@properties.items.0.sku", cJSON_CreateString("Z")),
                     0);
    assert_string_equal(cdp_path_get(&f->r, "event@properties.items.0.sku")->valuestring, "Z");
    assert_int_equal(cdp_path_set(&f->r, "payload@list.2", cJSON_CreateNumber(30)), 0);
    assert_int_equal(cdp_path_get(&f->r, "payload@list.2")->valueint, 30);
    assert_int_equal(cdp_path_set(&f->r, "payload@list.9", cJSON_CreateNumber(1)), CDP_E_INVALID);
    assert_int_equal(cdp_path_set(&f->r, "payload@list.x", cJSON_CreateNumber(1)), CDP_E_INVALID);
    /* Quoted keys. */
    assert_int_equal(cdp_path_set(&f->r, "profile@traits[\"a b\"].c", cJSON_CreateNumber(1)), 0);
    assert_int_equal(cdp_path_get(&f->r, "profile@traits[\"a b\"].c")->valueint, 1);
    /* A missing root document is created. */
    assert_null(f->r.memory);
    assert_int_equal(cdp_path_set(&f->r, "memory@counter", cJSON_CreateNumber(1)), 0);
    assert_non_null(f->r.memory);
    assert_int_equal(cdp_path_get(&f->r, "memory@counter")->valueint, 1);
    /* The whole object: members replaced, the root pointer kept. */
    cJSON *old = f->r.payload;
    assert_int_equal(cdp_path_set(&f->r, "payload@...", cJSON_Parse("{\"k\":2}")), 0);
    assert_true(f->r.payload == old);
    assert_int_equal(cdp_path_get(&f->r, "payload@k")->valueint, 2);
    assert_null(cdp_path_get(&f->r, "payload@n"));
    assert_int_equal(cdp_path_set(&f->r, "payload@", cJSON_CreateNumber(1)), CDP_E_INVALID);
    /* flow@ is read-only; bad references are refused; value is freed either way (ASan). */
    assert_int_equal(cdp_path_set(&f->r, "flow@id", cJSON_CreateString("x")), CDP_E_FORBIDDEN);
    assert_string_equal(cdp_path_get(&f->r, "flow@id")->valuestring, "flow-1");
    assert_int_equal(cdp_path_set(&f->r, "flow@...", cJSON_CreateObject()), CDP_E_FORBIDDEN);
    assert_int_equal(cdp_path_set(&f->r, "nope", cJSON_CreateString("x")), CDP_E_INVALID);
    assert_int_equal(cdp_path_set(&f->r, "profile@a.", cJSON_CreateString("x")), CDP_E_INVALID);
}

static void test_eval_edges(void **state)
{
    (void)state;
    struct cdp_tql *q;
    char err[160];
    bool res = true;
    /* No documents at all: every field is missing. */
    assert_int_equal(cdp_tql_parse("profile@x EMPTY AND NOT profile@x == 1", &q, err, 160), 0);
    assert_int_equal(cdp_tql_eval(q, NULL, NOW_US, &res, err, sizeof(err)), 0);
    assert_true(res);
    struct cdp_refs empty = {0};
    assert_int_equal(cdp_tql_eval(q, &empty, NOW_US, &res, err, sizeof(err)), 0);
    assert_true(res);
    cdp_tql_free(q);
    cdp_tql_free(NULL);
    /* Times far from now are missing rather than overflowing. */
    assert_int_equal(cdp_tql_parse("now.offset(\"+1000 days\") > now()", &q, err, 160), 0);
    assert_int_equal(cdp_tql_eval(q, NULL, INT64_MAX, &res, err, sizeof(err)), 0);
    assert_false(res);
    assert_int_equal(cdp_tql_eval(q, NULL, NOW_US, &res, err, sizeof(err)), 0);
    assert_true(res);
    cdp_tql_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_conditions, setup, teardown),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_offsets),
        cmocka_unit_test_setup_teardown(test_path_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_path_write, setup, teardown),
        cmocka_unit_test(test_eval_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
