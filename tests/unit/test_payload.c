/* Unit tests of the TrackerPayload parser: what passes, what is refused and how it is named. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "collect/payload.h"
#include "core/err.h"
#include "core/json.h"
#include "http/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cdp_payload_limits lim = {.max_depth = 64, .max_events = 3};

static int parse(const char *s, cJSON **out, cJSON **detail)
{
    return cdp_payload_parse(s, strlen(s), &lim, out, detail);
}

/* The first problem's msg and its loc joined by dots. */
static void expect_problem(const char *s, int rc, const char *loc)
{
    cJSON *out, *detail;
    assert_int_equal(parse(s, &out, &detail), rc);
    assert_null(out);
    assert_non_null(detail);
    cJSON *first = cJSON_GetArrayItem(detail, 0);
    assert_non_null(cJSON_GetObjectItem(first, "msg"));
    char got[128] = "";
    const cJSON *part;
    cJSON_ArrayForEach(part, cJSON_GetObjectItem(first, "loc"))
    {
        size_t n = strlen(got);
        if (cJSON_IsString(part))
            snprintf(got + n, sizeof(got) - n, "%s%s", n ? "." : "", part->valuestring);
        else
            snprintf(got + n, sizeof(got) - n, "%s%d", n ? "." : "", part->valueint);
    }
    assert_string_equal(got, loc);
    cJSON_Delete(detail);
}

static void test_valid(void **state)
{
    (void)state;
    cJSON *out, *detail;
    const char *s = "{\"source\":{\"id\":\"s1\"},\"session\":{\"id\":\"x\"},\"unknown\":[1,2],"
                    "\"events\":[{\"type\":\" Page View \",\"properties\":{\"a\":1}}]}";
    assert_int_equal(parse(s, &out, &detail), 0);
    assert_null(detail);
    assert_string_equal(
        cdp_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(out, "events"), 0), "type"),
        "page-view");
    cJSON_Delete(out);
    assert_int_equal(
        parse("{\"source\":{\"id\":\"s\"},\"profile\":null,\"session\":null}", &out, &detail), 0);
    cJSON_Delete(out);
}

static void test_refused(void **state)
{
    (void)state;
    expect_problem("{\"source\":", CDP_E_BAD_JSON, "body");
    expect_problem("{\"source\":{\"id\":\"s\"}} }garbage", CDP_E_BAD_JSON, "body");
    expect_problem("[1,2]", CDP_E_INVALID, "body");
    expect_problem("{}", CDP_E_INVALID, "body.source.id");
    expect_problem("{\"source\":{\"id\":5}}", CDP_E_INVALID, "body.source.id");
    expect_problem("{\"source\":{\"id\":\"s\"},\"events\":{}}", CDP_E_INVALID, "body.events");
    expect_problem("{\"source\":{\"id\":\"s\"},\"events\":[{}]}", CDP_E_INVALID,
                   "body.events.0.type");
    expect_problem("{\"source\":{\"id\":\"s\"},\"events\":[{\"type\":\"a\"},{\"type\":\"  \"}]}",
                   CDP_E_INVALID, "body.events.1.type");
    expect_problem("{\"source\":{\"id\":\"s\"},\"events\":[{\"type\":\"a\",\"tags\":[1]}]}",
                   CDP_E_INVALID, "body.events.0.tags");
    expect_problem("{\"source\":{\"id\":\"s\"},\"session\":{\"id\":[]}}", CDP_E_INVALID,
                   "body.session.id");
    expect_problem("{\"source\":{\"id\":\"s\"},\"context\":3}", CDP_E_INVALID, "body.context");
    expect_problem("{\"source\":{\"id\":\"s\"},\"events\":[{\"type\":\"a\"},{\"type\":\"a\"},"
                   "{\"type\":\"a\"},{\"type\":\"a\"}]}",
                   CDP_E_INVALID, "body.events");
}

static void test_depth(void **state)
{
    (void)state;
    char s[400];
    size_t n = (size_t)snprintf(s, sizeof(s), "{\"source\":{\"id\":\"s\"},\"context\":");
    for (int i = 0; i < 70; i++)
        s[n++] = '[';
    for (int i = 0; i < 70; i++)
        s[n++] = ']';
    s[n++] = '}';
    s[n] = '\0';
    expect_problem(s, CDP_E_INVALID, "body");
}

struct pairs {
    char text[256];
};

static void collect_pair(void *ud, const char *k, const char *v)
{
    struct pairs *p = ud;
    size_t n = strlen(p->text);
    snprintf(p->text + n, sizeof(p->text) - n, "[%s=%s]", k, v);
}

/* The form parser (POST /user/token, /collect): decoding, and keys without '=' (a fuzzer found
 * these wrote to a string literal). */
static void test_form(void **state)
{
    (void)state;
    struct pairs p = {""};
    const char *s = "username=admin%40x.com&password=p%20w+d&flag&=v&&x=";
    assert_int_equal(cdp_http_form_parse(s, strlen(s), collect_pair, &p), 0);
    assert_string_equal(p.text, "[username=admin@x.com][password=p w d][flag=][=v][x=]");
    p.text[0] = '\0';
    assert_int_equal(cdp_http_form_parse("a=%zz", 5, collect_pair, &p), -1);
    assert_int_equal(cdp_http_form_parse("a=%4", 4, collect_pair, &p), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
