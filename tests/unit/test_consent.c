/* Unit tests of src/model/consent.c: consent types, grants with auto_revoke and their expiry,
 * judged at a `now` the test chooses (the injectable clock's unit-level counterpart). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "model/consent.h"

#include <string.h>

#define SEC  1000000LL
#define DAY  (86400 * SEC)
#define T0_S "2024-01-18T10:11:12.345678+00:00"

static cJSON *parse(const char *s)
{
    cJSON *j = cdp_json_parse(s, strlen(s), NULL);
    assert_non_null(j);
    return j;
}

static int64_t t0(void)
{
    int64_t t;
    assert_int_equal(cdp_clock_parse_iso(T0_S, &t), 0);
    return t;
}

/* Consent types as the API stores them: normalised. */
static cJSON *types(void)
{
    cJSON *ts = parse("[{\"id\":\"analytics\",\"name\":\"Analytics\",\"auto_revoke\":\"30d\"},"
                      "{\"id\":\"marketing\",\"name\":\"Marketing\"},"
                      "{\"id\":\"terms\",\"name\":\"Terms\",\"revokable\":false},"
                      "{\"id\":\"old\",\"name\":\"Old\",\"enabled\":false}]");
    cJSON *t;
    char err[200];
    cJSON_ArrayForEach(t, ts)
    {
        assert_int_equal(cdp_consent_type_normalize(t, err, sizeof(err)), 0);
    }
    return ts;
}

static int apply(cJSON *profile, const cJSON *ts, const char *update, bool all, int64_t now)
{
    cJSON *u = update ? parse(update) : NULL;
    char err[200] = "";
    int rc = cdp_consent_apply(profile, ts, u, all, now, err, sizeof(err));
    cJSON_Delete(u);
    return rc;
}

static const cJSON *held(const cJSON *profile)
{
    return cJSON_GetObjectItemCaseSensitive(profile, "consents");
}

static void test_type_normalize(void **state)
{
    (void)state;
    char err[200];
    cJSON *t = parse("{\"name\":\"Marketing e-mails!\"}");
    assert_int_equal(cdp_consent_type_normalize(t, err, sizeof(err)), 0);
    assert_string_equal(cdp_json_str(t, "id"), "marketing-e-mails");
    assert_string_equal(cdp_json_str(t, "auto_revoke"), "");
    assert_string_equal(cdp_json_str(t, "default_value"), "deny");
    assert_true(cdp_json_flag(t, "revokable", false));
    cJSON_Delete(t);
    static const char *const bad[] = {
        "{}",
        "{\"name\":\"x\",\"auto_revoke\":\"soon\"}",
        "{\"name\":\"x\",\"auto_revoke\":\"-30d\"}",
        "{\"name\":\"x\",\"auto_revoke\":30}",
        "{\"name\":\"x\",\"default_value\":\"maybe\"}",
        "{\"name\":\"x\",\"enabled\":\"yes\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t = parse(bad[i]);
        assert_int_equal(cdp_consent_type_normalize(t, err, sizeof(err)), CDP_E_INVALID);
        cJSON_Delete(t);
    }
}

/* A grant with auto_revoke holds until its revoke instant, not at it, and never after. */
static void test_auto_revoke_expiry(void **state)
{
    (void)state;
    cJSON *ts = types(), *p = cJSON_CreateObject();
    int64_t now = t0();
    assert_int_equal(apply(p, ts, "{\"analytics\":true}", false, now), 1);
    assert_string_equal(cdp_json_str(held(p), "analytics.revoke"),
                        "2024-02-17T10:11:12.345678+00:00");
    int64_t revoke = now + 30 * DAY;
    assert_int_equal(cdp_consent_held(held(p), "analytics", now), 1);
    assert_int_equal(cdp_consent_held(held(p), "analytics", now + 29 * DAY), 1);
    assert_int_equal(cdp_consent_held(held(p), "analytics", revoke - 1), 1);
    assert_int_equal(cdp_consent_held(held(p), "analytics", revoke), 0);
    assert_int_equal(cdp_consent_held(held(p), "analytics", revoke + 1), 0);
    assert_int_equal(cdp_consent_held(held(p), "analytics", now + 31 * DAY), 0);
    /* the expired grant stays on the profile as written: its revoke time records when it ended */
    assert_string_equal(cdp_json_str(held(p), "analytics.revoke"),
                        "2024-02-17T10:11:12.345678+00:00");
    assert_true(cJSON_IsTrue(cdp_json_get(p, "aux.consents.granted")));
    cJSON_Delete(p);
    cJSON_Delete(ts);
}

/* revoke null (a type without auto_revoke) never expires; a missing revoke counts the same. */
static void test_revoke_null_is_never(void **state)
{
    (void)state;
    cJSON *ts = types(), *p = cJSON_CreateObject();
    assert_int_equal(apply(p, ts, "{\"marketing\":true}", false, t0()), 1);
    assert_true(cJSON_IsNull(cdp_json_get(held(p), "marketing.revoke")));
    assert_int_equal(cdp_consent_held(held(p), "marketing", t0()), 1);
    assert_int_equal(cdp_consent_held(held(p), "marketing", t0() + 100 * 365 * DAY), 1);
    assert_int_equal(cdp_consent_held(held(p), "marketing", INT64_MAX), 1);
    cJSON_Delete(p);

    cJSON *c = parse("{\"a\":{},\"b\":{\"revoke\":\"not a date\"},\"c\":{\"revoke\":7},"
                     "\"d\":{\"revoke\":\"" T0_S "\"}}");
    assert_int_equal(cdp_consent_held(c, "a", INT64_MAX), 1);
    assert_int_equal(cdp_consent_held(c, "b", t0()), -1);
    assert_int_equal(cdp_consent_held(c, "c", t0()), -1);
    assert_int_equal(cdp_consent_held(c, "d", t0() - 1), 1);
    assert_int_equal(cdp_consent_held(c, "d", t0()), 0);
    assert_int_equal(cdp_consent_held(c, "missing", t0()), 0);
    assert_int_equal(cdp_consent_held(NULL, "a", t0()), 0);
    cJSON_Delete(c);
    cJSON_Delete(ts);
}

/* Granting again after expiry renews from the new now; withdrawing removes the entry. */
static void test_regrant_and_withdraw(void **state)
{
    (void)state;
    cJSON *ts = types(), *p = cJSON_CreateObject();
    assert_int_equal(apply(p, ts, "{\"analytics\":true}", false, t0()), 1);
    int64_t later = t0() + 31 * DAY;
    assert_int_equal(cdp_consent_held(held(p), "analytics", later), 0);
    assert_int_equal(apply(p, ts, "{\"analytics\":true}", false, later), 1);
    assert_string_equal(cdp_json_str(held(p), "analytics.revoke"),
                        "2024-03-19T10:11:12.345678+00:00");
    assert_int_equal(cdp_consent_held(held(p), "analytics", later), 1);
    assert_int_equal(cdp_consent_held(held(p), "analytics", later + 30 * DAY), 0);
    assert_int_equal(apply(p, ts, "{\"analytics\":false}", false, later), 1);
    assert_null(cJSON_GetObjectItemCaseSensitive(held(p), "analytics"));
    assert_int_equal(cdp_consent_held(held(p), "analytics", later), 0);
    assert_int_equal(apply(p, ts, "{\"analytics\":false}", false, later), 0);
    /* refused updates change nothing */
    assert_int_equal(apply(p, ts, "{\"marketing\":true,\"terms\":false}", false, later),
                     CDP_E_FORBIDDEN);
    assert_int_equal(apply(p, ts, "{\"old\":true}", false, later), CDP_E_FORBIDDEN);
    assert_int_equal(apply(p, ts, "{\"nosuch\":true}", false, later), CDP_E_FORBIDDEN);
    assert_int_equal(apply(p, ts, "{\"marketing\":1}", false, later), CDP_E_INVALID);
    assert_int_equal(apply(p, ts, "[]", false, later), CDP_E_INVALID);
    assert_int_equal(cJSON_GetArraySize(held(p)), 0);
    cJSON_Delete(p);
    cJSON_Delete(ts);
}

/* all=true grants every enabled type not held now: an expired grant is renewed, one still held
 * keeps its revoke time, a disabled type is skipped. */
static void test_all_renews_only_what_is_not_held(void **state)
{
    (void)state;
    cJSON *ts = types(), *p = cJSON_CreateObject();
    assert_int_equal(apply(p, ts, NULL, true, t0()), 1);
    assert_int_equal(cJSON_GetArraySize(held(p)), 3);
    assert_null(cJSON_GetObjectItemCaseSensitive(held(p), "old"));
    assert_string_equal(cdp_json_str(held(p), "analytics.revoke"),
                        "2024-02-17T10:11:12.345678+00:00");
    assert_true(cJSON_IsNull(cdp_json_get(held(p), "terms.revoke")));

    /* a day later nothing has expired: nothing changes */
    assert_int_equal(apply(p, ts, NULL, true, t0() + DAY), 0);
    assert_string_equal(cdp_json_str(held(p), "analytics.revoke"),
                        "2024-02-17T10:11:12.345678+00:00");

    /* after the revoke time only the expired grant is renewed */
    assert_int_equal(apply(p, ts, NULL, true, t0() + 31 * DAY), 1);
    assert_string_equal(cdp_json_str(held(p), "analytics.revoke"),
                        "2024-03-19T10:11:12.345678+00:00");
    assert_true(cJSON_IsNull(cdp_json_get(held(p), "marketing.revoke")));

    /* a malformed stored grant is replaced as well */
    cdp_json_set(p, "consents.marketing", cJSON_CreateTrue());
    cdp_json_set(p, "consents.terms", parse("{\"revoke\":\"someday\"}"));
    assert_int_equal(apply(p, ts, NULL, true, t0() + 31 * DAY), 1);
    assert_true(cJSON_IsNull(cdp_json_get(held(p), "marketing.revoke")));
    assert_true(cJSON_IsNull(cdp_json_get(held(p), "terms.revoke")));
    cJSON_Delete(p);
    cJSON_Delete(ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_normalize),
        cmocka_unit_test(test_auto_revoke_expiry),
        cmocka_unit_test(test_revoke_null_is_never),
        cmocka_unit_test(test_regrant_and_withdraw),
        cmocka_unit_test(test_all_renews_only_what_is_not_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
