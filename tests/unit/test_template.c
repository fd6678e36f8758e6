/* Unit tests of src/flow/template: string templates ({{ source@path }}) and object templates
 * (reshape), over one fixture profile, event, session and payload. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "flow/template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char profile_json[] =
    "{\"id\":\"p1\",\"active\":true,\"segments\":[\"vip\",\"new\"],"
    "\"stats\":{\"visits\":12,\"views\":3.5,\"big\":9007199254740991},"
    "\"traits\":{\"email\":\"ann@example.com\",\"nick\":null,\"blank\":\"\",\"none\":[],"
    "\"nothing\":{},\"off\":false,\"zero\":0,\"My key\":\"spaced\"},"
    "\"data\":{\"contact\":{\"email\":{\"main\":\"ann@work.example\"}}}}";
static const char event_json[] =
    "{\"type\":\"purchase\",\"properties\":{\"total\":99.5,\"items\":[{\"sku\":\"A1\",\"qty\":2},"
    "{\"sku\":\"B2\",\"qty\":1}]}}";
static const char session_json[] = "{\"id\":\"s1\"}";
static const char payload_json[] = "{\"a\":1,\"b\":\"two\"}";

struct fixture {
    struct cdp_refs r;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->r.profile = cJSON_Parse(profile_json);
    f->r.event = cJSON_Parse(event_json);
    f->r.session = cJSON_Parse(session_json);
    f->r.payload = cJSON_Parse(payload_json);
    assert_non_null(f->r.profile);
    assert_non_null(f->r.event);
    assert_non_null(f->r.session);
    assert_non_null(f->r.payload);
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
    free(f);
    return 0;
}

/* Renders tpl and checks the result (want) or, when want is NULL, the error (err_sub). */
static void check_render(const struct cdp_refs *r, const char *tpl, const char *want,
                         const char *err_sub)
{
    struct cdp_buf b;
    char err[160] = "";
    cdp_buf_init(&b, 0);
    int rc = cdp_template_render(tpl, r, &b, err, sizeof(err));
    if (want) {
        if (rc != 0)
            fail_msg("%s: %s", tpl, err);
        assert_string_equal(b.len ? b.data : "", want);
    } else {
        assert_int_equal(rc, CDP_E_INVALID);
        if (!strstr(err, err_sub))
            fail_msg("%s: error '%s' lacks '%s'", tpl, err, err_sub);
        assert_int_equal(b.len, 0);
    }
    cdp_buf_fini(&b);
}

static void test_render_values(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *tpl, *want;
    } cases[] = {
        {"Hi {{ profile@traits.email }}!", "Hi ann@example.com!"},
        {"{{profile@id}}", "p1"},
        {"{{   profile@id\t}}", "p1"},
        {"{{ profile@stats.visits }}", "12"},
        {"{{ profile@stats.views }}", "3.5"},
        {"{{ profile@stats.big }}", "9007199254740991"},
        {"{{ event@properties.total }}", "99.5"},
        {"{{ profile@active }}/{{ profile@traits.off }}", "true/false"},
        {"{{ profile@traits.nick }}", "null"},
        {"{{ profile@traits.blank }}", ""},
        {"{{ profile@segments }}", "[\"vip\",\"new\"]"},
        {"{{ event@properties.items.0 }}", "{\"sku\":\"A1\",\"qty\":2}"},
        {"{{ event@properties.items.1.sku }}", "B2"},
        {"{{ profile@traits[\"My key\"] }}", "spaced"},
        {"{{ payload@... }}", "{\"a\":1,\"b\":\"two\"}"},
        {"{{ session@id }}-{{ event@type }}-{{ payload@b }}", "s1-purchase-two"},
        {"no references at all", "no references at all"},
        {"", ""},
        {"single { brace } and }} alone", "single { brace } and }} alone"},
        {"profile@id stays literal", "profile@id stays literal"},
        {"{{ profile@id }}{{ profile@id }}", "p1p1"},
        {"ü {{ profile@id }} ✓", "ü p1 ✓"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_render(&f->r, cases[i].tpl, cases[i].want, NULL);
}

static void test_render_errors(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *tpl, *err;
    } cases[] = {
        {"Hello name {{ profile@traits.x }}", "missing value for profile@traits.x at 11"},
        {"{{ profile@traits.x }}", "missing value for profile@traits.x at 0"},
        {"{{ memory@x }}", "missing value for memory@x at 0"},
        {"{{ profile@segments.5 }}", "missing value for profile@segments.5"},
        {"ok {{ profile@id }} then {{ profile@id", "unclosed {{ at 25"},
        {"{{", "unclosed {{ at 0"},
        {"{{ }}", "not a reference in {{ }} at 0"},
        {"a {{ hello }}", "not a reference in {{ }} at 2: 'hello'"},
        {"{{ profile@id extra }}", "not a reference in {{ }} at 0: 'profile@id extra'"},
        {"{{ nosuch@id }}", "not a reference"},
        {"{{ profile@id. }}", "not a reference"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_render(&f->r, cases[i].tpl, NULL, cases[i].err);

    /* A failed render leaves what the buffer held before untouched. */
    struct cdp_buf b;
    char err[160];
    cdp_buf_init(&b, 0);
    assert_int_equal(cdp_buf_puts(&b, "kept"), 0);
    assert_int_equal(cdp_template_render("x {{ profile@nope }}", &f->r, &b, err, sizeof(err)),
                     CDP_E_INVALID);
    assert_string_equal(b.data, "kept");
    assert_int_equal(cdp_template_render(" {{profile@id}}", &f->r, &b, err, sizeof(err)), 0);
    assert_string_equal(b.data, "kept p1");
    cdp_buf_fini(&b);

    /* A capped buffer reports its cap. */
    cdp_buf_init(&b, 8);
    assert_int_equal(
        cdp_template_render("{{ event@properties.items }}", &f->r, &b, err, sizeof(err)),
        CDP_E_TOO_LARGE);
    cdp_buf_fini(&b);

    /* No documents at all: every reference is missing. */
    struct cdp_refs none = {0};
    check_render(&none, "{{ profile@id }}", NULL, "missing value for profile@id");
    check_render(&none, "plain", "plain", NULL);
}

/* Reshapes tpl_json and compares the compact result with want (or checks the error). */
static void check_object(const struct cdp_refs *r, const char *tpl_json, bool strict,
                         const char *want, const char *err_sub)
{
    cJSON *tpl = cJSON_Parse(tpl_json), *out = (cJSON *)1;
    char err[160] = "";
    assert_non_null(tpl);
    int rc = cdp_template_object(tpl, r, strict, &out, err, sizeof(err));
    if (want) {
        if (rc != 0)
            fail_msg("%s: %s", tpl_json, err);
        char *s = cdp_json_print(out);
        assert_non_null(s);
        if (strcmp(s, want) != 0)
            fail_msg("%s: got %s, want %s", tpl_json, s, want);
        free(s);
        cJSON_Delete(out);
    } else {
        assert_int_equal(rc, CDP_E_INVALID);
        assert_null(out);
        if (!strstr(err, err_sub))
            fail_msg("%s: error '%s' lacks '%s'", tpl_json, err, err_sub);
    }
    cJSON_Delete(tpl);
}

static void test_object_reshape(void **state)
{
    struct fixture *f = *state;
    /* The example of Tracardi's docs. */
    check_object(&f->r,
                 "{\"customer\":{\"id\":\"profile@id\",\"email?\":\"profile@data.contact.email."
                 "main\"},\"order\":\"event@properties.items.0\",\"source\":\"web\","
                 "\"all_payload\":\"payload@...\"}",
                 false,
                 "{\"customer\":{\"id\":\"p1\",\"email\":\"ann@work.example\"},"
                 "\"order\":{\"sku\":\"A1\",\"qty\":2},\"source\":\"web\","
                 "\"all_payload\":{\"a\":1,\"b\":\"two\"}}",
                 NULL);
    /* Scalars of every type, literals of every type. */
    check_object(
        &f->r,
        "{\"n\":\"profile@stats.visits\",\"v\":\"profile@stats.views\",\"t\":\"profile@"
        "active\",\"z\":\"profile@traits.nick\",\"lit\":\"hello\",\"num\":7,\"b\":false,"
        "\"nul\":null,\"big\":\"profile@stats.big\"}",
        true,
        "{\"n\":12,\"v\":3.5,\"t\":true,\"z\":null,\"lit\":\"hello\",\"num\":7,\"b\":false,"
        "\"nul\":null,\"big\":9007199254740991}",
        NULL);
    /* Arrays of references, nested arrays and objects inside arrays. */
    check_object(&f->r,
                 "[\"profile@id\",[\"session@id\",\"x\"],{\"sku\":\"event@properties.items.1."
                 "sku\"},\"profile@segments\",1]",
                 true, "[\"p1\",[\"s1\",\"x\"],{\"sku\":\"B2\"},[\"vip\",\"new\"],1]", NULL);
    /* A string that only looks like part of a reference stays literal. */
    check_object(&f->r, "{\"a\":\"see profile@id\",\"b\":\"profile@\",\"c\":\"@id\"}", true,
                 "{\"a\":\"see profile@id\",\"b\":{\"id\":\"p1\",\"active\":true,"
                 "\"segments\":[\"vip\",\"new\"],\"stats\":{\"visits\":12,\"views\":3.5,"
                 "\"big\":9007199254740991},\"traits\":{\"email\":\"ann@example.com\","
                 "\"nick\":null,\"blank\":\"\",\"none\":[],\"nothing\":{},\"off\":false,"
                 "\"zero\":0,\"My key\":\"spaced\"},\"data\":{\"contact\":{\"email\":{\"main\":"
                 "\"ann@work.example\"}}}},\"c\":\"@id\"}",
                 NULL);
    /* A top-level string reference and a top-level scalar. */
    check_object(&f->r, "\"session@...\"", true, "{\"id\":\"s1\"}", NULL);
    check_object(&f->r, "\"text\"", true, "\"text\"", NULL);
    check_object(&f->r, "{}", true, "{}", NULL);
    cJSON *none_out = (cJSON *)1;
    char none_err[160];
    assert_int_equal(cdp_template_object(NULL, &f->r, true, &none_out, none_err, sizeof(none_err)),
                     CDP_E_INVALID);
    assert_null(none_out);
    /* The copy is deep: changing the result leaves the source alone. */
    cJSON *tpl = cJSON_Parse("{\"p\":\"payload@...\"}"), *out;
    char err[160];
    assert_int_equal(cdp_template_object(tpl, &f->r, true, &out, err, sizeof(err)), 0);
    cJSON_AddNumberToObject(cJSON_GetObjectItem(out, "p"), "c", 3);
    assert_null(cJSON_GetObjectItem(f->r.payload, "c"));
    cJSON_Delete(out);
    cJSON_Delete(tpl);
}

static void test_object_optional(void **state)
{
    struct fixture *f = *state;
    /* Missing, null, "", [] and {} drop an optional key, in strict mode too; false and 0 stay. */
    static const char tpl[] =
        "{\"miss?\":\"profile@traits.x\",\"null?\":\"profile@traits.nick\","
        "\"blank?\":\"profile@traits.blank\",\"none?\":\"profile@traits.none\","
        "\"nothing?\":\"profile@traits.nothing\",\"off?\":\"profile@traits.off\","
        "\"zero?\":\"profile@traits.zero\",\"id?\":\"profile@id\",\"lit?\":\"\","
        "\"lnull?\":null,\"arr?\":[],\"obj?\":{\"inner?\":\"profile@traits.x\"},"
        "\"keep?\":{\"v\":\"profile@traits.x\"},\"?\":\"profile@id\"}";
    static const char want[] =
        "{\"off\":false,\"zero\":0,\"id\":\"p1\",\"keep\":{\"v\":null},\"\":\"p1\"}";
    check_object(&f->r, tpl, false, want, NULL);
    /* In strict mode only the non-optional missing reference inside "keep" fails. */
    check_object(&f->r, tpl, true, NULL, "missing value for profile@traits.x");
    /* Optional keys inside arrays of objects, and a key with `?` in the middle stays. */
    check_object(&f->r, "[{\"a?\":\"profile@traits.x\",\"b\":1},{\"is?it\":\"profile@id\"}]", true,
                 "[{\"b\":1},{\"is?it\":\"p1\"}]", NULL);
    /* A long optional key is still written without its `?`. */
    char big[600];
    char want_big[600];
    char key[200];
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    snprintf(big, sizeof(big), "{\"%s?\":\"profile@id\"}", key);
    snprintf(want_big, sizeof(want_big), "{\"%s\":\"p1\"}", key);
    check_object(&f->r, big, true, want_big, NULL);
}

static void test_object_strict(void **state)
{
    struct fixture *f = *state;
    check_object(&f->r, "{\"a\":\"profile@traits.x\",\"b\":[\"event@nope\"]}", false,
                 "{\"a\":null,\"b\":[null]}", NULL);
    check_object(&f->r, "{\"a\":{\"b\":\"profile@traits.x\"}}", true, NULL,
                 "missing value for profile@traits.x");
    check_object(&f->r, "[\"memory@m\"]", true, NULL, "missing value for memory@m");
    check_object(&f->r, "\"flow@id\"", true, NULL, "missing value for flow@id");
    check_object(&f->r, "\"flow@id\"", false, "null", NULL);
    struct cdp_refs none = {0};
    check_object(&none, "{\"id\":\"profile@id\",\"x\":\"lit\"}", false,
                 "{\"id\":null,\"x\":\"lit\"}", NULL);
}

/* A template nested n levels deep: [[[...]]] with a reference at the bottom. */
static cJSON *nested(int n)
{
    cJSON *v = cJSON_CreateString("profile@id");
    for (int i = 1; i < n; i++) {
        cJSON *a = cJSON_CreateArray();
        cJSON_AddItemToArray(a, v);
        v = a;
    }
    return v;
}

static void test_object_depth(void **state)
{
    struct fixture *f = *state;
    char err[160];
    cJSON *out;
    cJSON *ok = nested(CDP_TEMPLATE_MAX_DEPTH);
    assert_int_equal(cdp_template_object(ok, &f->r, true, &out, err, sizeof(err)), 0);
    const cJSON *leaf = out;
    for (int i = 1; i < CDP_TEMPLATE_MAX_DEPTH; i++)
        leaf = leaf->child;
    assert_string_equal(leaf->valuestring, "p1");
    cJSON_Delete(out);
    cJSON_Delete(ok);

    cJSON *deep = nested(CDP_TEMPLATE_MAX_DEPTH + 1);
    out = (cJSON *)1;
    assert_int_equal(cdp_template_object(deep, &f->r, false, &out, err, sizeof(err)),
                     CDP_E_INVALID);
    assert_null(out);
    assert_non_null(strstr(err, "deeper than 64"));
    cJSON_Delete(deep);

    /* A deep referenced value is copied whole; only the template's own nesting is bounded. */
    cJSON *tpl = cJSON_CreateString("payload@deep");
    cJSON_AddItemToObject(f->r.payload, "deep", nested(100));
    assert_int_equal(cdp_template_object(tpl, &f->r, true, &out, err, sizeof(err)), 0);
    assert_true(cJSON_Compare(out, cJSON_GetObjectItem(f->r.payload, "deep"), true));
    cJSON_Delete(out);
    cJSON_Delete(tpl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_render_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_render_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_object_reshape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_object_optional, setup, teardown),
        cmocka_unit_test_setup_teardown(test_object_strict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_object_depth, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
