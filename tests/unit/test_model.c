/* Unit tests of src/model and the enrichment steps of src/collect. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "collect/enrich.h"
#include "core/json.h"
#include "model/event.h"
#include "model/profile.h"
#include "model/session.h"
#include "model/source.h"
#include "model/useragent.h"

#include <string.h>

static void test_event_type(void **state)
{
    (void)state;
    char slug[CDP_EVENT_TYPE_MAX], name[CDP_EVENT_TYPE_MAX];
    assert_int_equal(cdp_event_type_slug("  Page View ", slug, sizeof(slug)), 9);
    assert_string_equal(slug, "page-view");
    assert_int_equal(cdp_event_type_slug("   ", slug, sizeof(slug)), 0);
    cdp_event_type_name("add-to-cart", name, sizeof(name));
    assert_string_equal(name, "Add To Cart");
    cJSON *e = cdp_event_new("e1", "page-view", 0);
    assert_string_equal(cdp_json_str(e, "name"), "Page View");
    assert_true(cJSON_IsTrue(cdp_json_get(e, "metadata.valid")));
    assert_string_equal(cdp_json_str(e, "metadata.status"), "collected");
    cJSON_Delete(e);
}

static void test_profile_visits(void **state)
{
    (void)state;
    cJSON *p = cdp_profile_new("p1", 1000000);
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(p, "ids"), 0)->valuestring, "p1");
    assert_int_equal(cdp_json_get(p, "metadata.time.visit.count")->valueint, 0);
    assert_true(cJSON_IsTrue(cdp_json_get(p, "data.anonymous")));
    cdp_profile_count_visit(p, 2000000, "Europe/Warsaw");
    cdp_profile_count_visit(p, 3000000, NULL);
    assert_int_equal(cdp_json_get(p, "metadata.time.visit.count")->valueint, 2);
    assert_string_equal(cdp_json_str(p, "metadata.time.visit.last"),
                        "1970-01-01T00:00:02.000000+00:00");
    assert_string_equal(cdp_json_str(p, "metadata.time.visit.current"),
                        "1970-01-01T00:00:03.000000+00:00");
    assert_string_equal(cdp_json_str(p, "metadata.time.visit.tz"), "Europe/Warsaw");
    assert_int_equal(cdp_profile_add_language(p, "en-US"), 1);
    assert_int_equal(cdp_profile_add_language(p, "en-US"), 0);
    cJSON_Delete(p);
}

static void test_session(void **state)
{
    (void)state;
    cJSON *s = cdp_session_new("s1", "p1", 1000000, "Web");
    assert_string_equal(cdp_json_str(s, "profile.id"), "p1");
    assert_string_equal(cdp_json_str(s, "metadata.channel"), "Web");
    cdp_session_touch(s, 3500000);
    assert_true(cdp_json_get(s, "metadata.time.duration")->valuedouble == 2.5);
    cdp_session_set_profile(s, "p2");
    assert_string_equal(cdp_json_str(s, "profile.id"), "p2");
    cJSON_Delete(s);
}

static void test_source(void **state)
{
    (void)state;
    char err[200];
    cJSON *s = cJSON_Parse("{\"name\":\"Web\",\"type\":\"webhook\"}");
    assert_int_equal(cdp_source_normalize(s, err, sizeof(err)), 0);
    assert_non_null(cdp_json_str(s, "id"));
    assert_true(cdp_source_is_enabled(s));
    assert_true(cdp_source_has_bridge(s, "webhook"));
    assert_false(cdp_source_has_bridge(s, "rest"));
    cJSON_Delete(s);
    const char *bad[] = {"{\"id\":\"@x\",\"name\":\"a\"}", "{\"id\":\"a\"}",
                         "{\"name\":\"a\",\"type\":[\"ftp\"]}", "{\"name\":\"a\",\"enabled\":1}",
                         "[]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s = cJSON_Parse(bad[i]);
        assert_int_equal(cdp_source_normalize(s, err, sizeof(err)), -1);
        assert_true(strlen(err) > 0);
        cJSON_Delete(s);
    }
    s = cJSON_Parse("{\"name\":\"a\",\"enabled\":false}");
    assert_int_equal(cdp_source_normalize(s, err, sizeof(err)), 0);
    assert_false(cdp_source_is_enabled(s));
    cJSON_Delete(s);
}

static void test_client_ip(void **state)
{
    (void)state;
    char ip[64];
    cdp_enrich_client_ip("10.0.0.1", "1.2.3.4", "", ip, sizeof(ip));
    assert_string_equal(ip, "10.0.0.1"); /* no trusted proxies: header ignored */
    cdp_enrich_client_ip("10.0.0.1", "1.2.3.4", "10.0.0.2", ip, sizeof(ip));
    assert_string_equal(ip, "10.0.0.1"); /* peer not trusted */
    cdp_enrich_client_ip("10.0.0.1", "6.6.6.6, 1.2.3.4", "10.0.0.1", ip, sizeof(ip));
    assert_string_equal(ip, "1.2.3.4"); /* right-most untrusted hop */
    cdp_enrich_client_ip("10.0.0.1", "1.2.3.4, 10.0.0.9", "10.0.0.1, 10.0.0.9", ip, sizeof(ip));
    assert_string_equal(ip, "1.2.3.4");
}

static void test_enrich_session(void **state)
{
    (void)state;
    struct cdp_ua_db *db = NULL;
    char err[256];
    assert_int_equal(cdp_ua_db_open(&db, CDP_UA_DEFAULT_REGEXES, err, sizeof(err)), 0);
    cJSON *s = cdp_session_new("s1", "p1", 0, NULL);
    cJSON *ctx = cJSON_Parse("{\"screen\":{\"local\":{\"width\":1920,\"height\":1080}},"
                             "\"utm\":{\"source\":\"google\",\"x\":1},"
                             "\"location\":{\"city\":\"Berlin\"},"
                             "\"browser\":{\"local\":{\"browser\":{\"language\":\"de\"}}}}");
    const char *ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 "
                     "(KHTML, like Gecko) Version/16.5 Mobile/15E148 Safari/604.1";
    cJSON *uaf = cdp_enrich_ua_fields(db, ua);
    cdp_enrich_session(s, ctx, uaf, "1.2.3.4");
    cJSON_Delete(uaf);
    assert_string_equal(cdp_json_str(s, "os.name"), "iOS");
    assert_string_equal(cdp_json_str(s, "app.name"), "Mobile Safari");
    assert_string_equal(cdp_json_str(s, "device.type"), "mobile");
    assert_string_equal(cdp_json_str(s, "device.resolution"), "1920x1080");
    assert_string_equal(cdp_json_str(s, "device.ip"), "1.2.3.4");
    assert_string_equal(cdp_json_str(s, "device.geo.city"), "Berlin");
    assert_string_equal(cdp_json_str(s, "utm.source"), "google");
    assert_null(cdp_json_get(s, "utm.x"));
    assert_string_equal(cdp_json_str(s, "app.language"), "de");
    assert_null(cdp_json_get(ctx, "utm")); /* moved out of the context, as Tracardi does */
    cJSON *e = cJSON_Parse("{\"context\":{\"page\":{\"title\":\"Home\",\"url\":\"https://x/\","
                           "\"referer\":{\"host\":\"g.com\"}}}}");
    cdp_enrich_event(e, s);
    assert_string_equal(cdp_json_str(e, "hit.name"), "Home");
    assert_string_equal(cdp_json_str(e, "hit.referer"), "g.com");
    assert_string_equal(cdp_json_str(e, "os.name"), "iOS");
    cJSON_Delete(e);
    cJSON_Delete(ctx);
    cJSON_Delete(s);
    cdp_ua_db_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_type), cmocka_unit_test(test_profile_visits),
        cmocka_unit_test(test_session),    cmocka_unit_test(test_source),
        cmocka_unit_test(test_client_ip),  cmocka_unit_test(test_enrich_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
