/* Unit tests of src/model/merge.c: the merge matrix (field types, conflicts, stats, times, ids)
 * and the hashed contact ids. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/json.h"
#include "model/merge.h"
#include "model/profile.h"

#include <string.h>

#define SEC 1000000LL
#define DAY (86400 * SEC)
#define T0  (1700000000 * SEC)

static cJSON *parse(const char *s)
{
    cJSON *j = cJSON_Parse(s);
    assert_non_null(j);
    return j;
}

/* A stored-looking profile made at `made` with its fields overlaid by the JSON in patch. */
static cJSON *profile(const char *id, int64_t made, const char *patch)
{
    cJSON *p = cdp_profile_new(id, made);
    cJSON *o = parse(patch);
    cdp_json_merge(p, o);
    cJSON_Delete(o);
    return p;
}

static bool has(const cJSON *arr, const char *s)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0)
            return true;
    }
    return false;
}

static double num(const cJSON *p, const char *path)
{
    const cJSON *v = cdp_json_get(p, path);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static void test_ids_and_lists(void **state)
{
    (void)state;
    cJSON *a = profile("a", T0,
                       "{\"ids\":[\"a\",\"x\"],\"segments\":[\"vip\"],"
                       "\"traits\":{\"tags\":[\"t1\",\"t2\"]}}");
    cJSON *b = profile("b", T0,
                       "{\"ids\":[\"b\",\"x\",\"y\"],\"segments\":[\"vip\",\"new\"],"
                       "\"traits\":{\"tags\":[\"t2\",\"t3\"]}}");
    assert_int_equal(cdp_profile_merge(a, b), 0);
    assert_string_equal(cdp_json_str(a, "id"), "a");
    const cJSON *ids = cdp_json_get(a, "ids");
    assert_int_equal(cJSON_GetArraySize(ids), 4);
    assert_true(has(ids, "a") && has(ids, "b") && has(ids, "x") && has(ids, "y"));
    assert_int_equal(cJSON_GetArraySize(cdp_json_get(a, "segments")), 2);
    assert_int_equal(cJSON_GetArraySize(cdp_json_get(a, "traits.tags")), 3);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

/* #892: the survivor lacks personal data the other holds, and keeps all of it after. */
static void test_fills_missing_pii(void **state)
{
    (void)state;
    cJSON *a = cdp_profile_new("a", T0);
    cJSON *b = profile("b", T0,
                       "{\"data\":{\"pii\":{\"firstname\":\"Ann\",\"lastname\":\"Lee\"},"
                       "\"contact\":{\"email\":{\"main\":\"ann@example.com\"},"
                       "\"address\":{\"town\":\"Oslo\"}},\"job\":{\"company\":"
                       "{\"name\":\"Acme\"}}},\"traits\":{\"plan\":\"gold\"}}");
    assert_true(cJSON_IsTrue(cdp_json_get(a, "data.anonymous")));
    assert_int_equal(cdp_profile_merge(a, b), 0);
    assert_string_equal(cdp_json_str(a, "data.pii.firstname"), "Ann");
    assert_string_equal(cdp_json_str(a, "data.pii.lastname"), "Lee");
    assert_string_equal(cdp_json_str(a, "data.contact.email.main"), "ann@example.com");
    assert_string_equal(cdp_json_str(a, "data.contact.address.town"), "Oslo");
    assert_string_equal(cdp_json_str(a, "data.job.company.name"), "Acme");
    assert_string_equal(cdp_json_str(a, "traits.plan"), "gold");
    assert_true(cJSON_IsFalse(cdp_json_get(a, "data.anonymous")));
    assert_null(cdp_json_get(a, "aux.conflicts"));
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static void test_conflicts(void **state)
{
    (void)state;
    cJSON *a = profile("a", T0,
                       "{\"traits\":{\"name\":\"Ann\",\"age\":30,\"vip\":true,"
                       "\"x\":\"text\",\"same\":\"v\"},\"data\":{\"pii\":{\"gender\":\"f\"}}}");
    cJSON *b = profile("b", T0,
                       "{\"traits\":{\"name\":\"Anna\",\"age\":31,\"vip\":false,"
                       "\"x\":{\"deep\":1},\"same\":\"v\"},\"data\":{\"pii\":{\"gender\":\"x\"}}}");
    cJSON *c = profile("c", T0, "{\"traits\":{\"name\":\"Annie\"}}");
    assert_int_equal(cdp_profile_merge(a, b), 0);
    assert_int_equal(cdp_profile_merge(a, c), 0);
    /* the survivor's values stay; numbers outside metrics are not added up */
    assert_string_equal(cdp_json_str(a, "traits.name"), "Ann");
    assert_int_equal((int)num(a, "traits.age"), 30);
    assert_true(cJSON_IsTrue(cdp_json_get(a, "traits.vip")));
    assert_string_equal(cdp_json_str(a, "traits.x"), "text");
    const cJSON *cf = cdp_json_get(a, "aux.conflicts");
    const cJSON *names = cJSON_GetObjectItem(cf, "traits.name");
    assert_int_equal(cJSON_GetArraySize(names), 3);
    assert_true(has(names, "Ann") && has(names, "Anna") && has(names, "Annie"));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cf, "traits.age")), 2);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cf, "traits.vip")), 2);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cf, "traits.x")), 2);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cf, "data.pii.gender")), 2);
    assert_null(cJSON_GetObjectItem(cf, "traits.same"));
    /* conflicts already held are kept and united */
    cJSON *d = profile("d", T0,
                       "{\"traits\":{\"name\":\"Anne\"},"
                       "\"aux\":{\"conflicts\":{\"traits.name\":[\"Anne\",\"Ana\"]}}}");
    assert_int_equal(cdp_profile_merge(a, d), 0);
    assert_int_equal(
        cJSON_GetArraySize(cJSON_GetObjectItem(cdp_json_get(a, "aux.conflicts"), "traits.name")),
        5);
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c);
    cJSON_Delete(d);
}

static void test_sums(void **state)
{
    (void)state;
    cJSON *a = profile("a", T0,
                       "{\"stats\":{\"visits\":2,\"views\":10,\"counters\":{\"buy\":1}},"
                       "\"interests\":{\"shoes\":1.5},\"data\":{\"metrics\":{\"ltv\":100,"
                       "\"custom\":{\"points\":5}}}}");
    cJSON *b = profile("b", T0,
                       "{\"stats\":{\"visits\":3,\"views\":1,\"counters\":{\"buy\":2,"
                       "\"cart\":4}},\"interests\":{\"shoes\":1,\"bags\":2},"
                       "\"data\":{\"metrics\":{\"ltv\":50.5,\"custom\":{\"points\":1}}}}");
    assert_int_equal(cdp_profile_merge(a, b), 0);
    assert_int_equal((int)num(a, "stats.visits"), 5);
    assert_int_equal((int)num(a, "stats.views"), 11);
    assert_int_equal((int)num(a, "stats.counters.buy"), 3);
    assert_int_equal((int)num(a, "stats.counters.cart"), 4);
    assert_true(num(a, "interests.shoes") == 2.5);
    assert_int_equal((int)num(a, "interests.bags"), 2);
    assert_true(num(a, "data.metrics.ltv") == 150.5);
    assert_int_equal((int)num(a, "data.metrics.custom.points"), 6);
    assert_null(cdp_json_get(a, "aux.conflicts"));
    cJSON_Delete(a);
    cJSON_Delete(b);
}

/* Times: earliest creation, latest update; visits counted once each (#850): the counts add up
 * and the two latest visits become current and last. */
static void test_times_and_visits(void **state)
{
    (void)state;
    cJSON *a = cdp_profile_new("a", T0 + 5 * DAY);
    cdp_profile_count_visit(a, T0 + 5 * DAY, "Europe/Oslo");
    cJSON *b = cdp_profile_new("b", T0);
    cdp_profile_count_visit(b, T0 + DAY, "UTC");
    cdp_profile_count_visit(b, T0 + 7 * DAY, "America/Lima");
    cdp_profile_touch(b, T0 + 7 * DAY);
    char early[CDP_ISO_LEN], late[CDP_ISO_LEN], mid[CDP_ISO_LEN];
    cdp_clock_iso(T0, early);
    cdp_clock_iso(T0 + 7 * DAY, late);
    cdp_clock_iso(T0 + 5 * DAY, mid);
    assert_int_equal(cdp_profile_merge(a, b), 0);
    assert_string_equal(cdp_json_str(a, "metadata.time.insert"), early);
    assert_string_equal(cdp_json_str(a, "metadata.time.create"), early);
    assert_string_equal(cdp_json_str(a, "metadata.time.update"), late);
    assert_int_equal((int)num(a, "metadata.time.visit.count"), 3);
    assert_string_equal(cdp_json_str(a, "metadata.time.visit.current"), late);
    assert_string_equal(cdp_json_str(a, "metadata.time.visit.last"), mid);
    assert_string_equal(cdp_json_str(a, "metadata.time.visit.tz"), "America/Lima");
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static void test_consents_and_fields(void **state)
{
    (void)state;
    cJSON *a = profile("a", T0,
                       "{\"consents\":{\"marketing\":{\"revoke\":\"2030-01-01\"}},"
                       "\"metadata\":{\"fields\":{\"traits.x\":[\"2024-01-01T00:00:00\","
                       "\"e1\"]},\"system\":{\"aux\":{\"auto_merge\":[\"email\"]}}},"
                       "\"active\":false}");
    cJSON *b = profile("b", T0,
                       "{\"consents\":{\"marketing\":{\"revoke\":null},\"stats\":"
                       "{\"revoke\":null}},\"metadata\":{\"fields\":{\"traits.x\":"
                       "[\"2025-01-01T00:00:00\",\"e2\"],\"traits.y\":[\"2020-01-01T00:00:00\","
                       "\"e3\"]},\"system\":{\"aux\":{\"auto_merge\":[\"phone\"]}}},"
                       "\"active\":true}");
    assert_int_equal(cdp_profile_merge(a, b), 0);
    assert_string_equal(cdp_json_str(a, "consents.marketing.revoke"), "2030-01-01");
    assert_non_null(cdp_json_get(a, "consents.stats"));
    const cJSON *fields = cdp_json_get(a, "metadata.fields");
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(fields, "traits.x"), 1)->valuestring,
                        "e2");
    assert_non_null(cJSON_GetObjectItem(fields, "traits.y"));
    assert_int_equal(cJSON_GetArraySize(cdp_json_get(a, "metadata.system.aux.auto_merge")), 2);
    assert_true(cJSON_IsTrue(cdp_json_get(a, "active")));
    assert_null(cdp_json_get(a, "aux.conflicts"));
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static void test_auto_ids(void **state)
{
    (void)state;
    const char *salt = "0123456789abcdef0123456789abcdef";
    cJSON *a = profile("a", T0,
                       "{\"data\":{\"contact\":{\"email\":{\"main\":\" Ann@Example.com \","
                       "\"business\":\"ann@acme.com\"},\"phone\":{\"mobile\":\"+47 123\","
                       "\"whatsapp\":\"\"}}}}");
    cJSON *b =
        profile("b", T0, "{\"data\":{\"contact\":{\"email\":{\"main\":\"ann@example.com\"}}}}");
    assert_int_equal(cdp_profile_auto_ids(a, salt), 3);
    assert_int_equal(cdp_profile_auto_ids(a, salt), 0); /* already there */
    assert_int_equal(cdp_profile_auto_ids(b, salt), 1);
    const cJSON *ids = cdp_json_get(a, "ids");
    const char *emm = cJSON_GetArrayItem(cdp_json_get(b, "ids"), 1)->valuestring;
    assert_int_equal(strncmp(emm, "emm-", 4), 0);
    assert_int_equal(strlen(emm), 4 + 36);
    assert_true(has(ids, emm)); /* trimmed and lower-cased before hashing */
    int prefixes = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, ids)
    {
        prefixes +=
            strncmp(it->valuestring, "emb-", 4) == 0 || strncmp(it->valuestring, "pho-", 4) == 0;
    }
    assert_int_equal(prefixes, 2);
    /* another installation's salt gives other ids; no salt, none */
    cJSON *c =
        profile("c", T0, "{\"data\":{\"contact\":{\"email\":{\"main\":\"ann@example.com\"}}}}");
    assert_int_equal(cdp_profile_auto_ids(c, "another-installation-salt-000000"), 1);
    assert_false(has(cdp_json_get(c, "ids"), emm));
    assert_int_equal(cdp_profile_auto_ids(c, ""), 0);
    /* a changed address adds its id and keeps the old one */
    cdp_json_put_str(cdp_json_obj(cdp_json_obj(cdp_json_obj(b, "data"), "contact"), "email"),
                     "main", "ann@new.example");
    assert_int_equal(cdp_profile_auto_ids(b, salt), 1);
    assert_true(has(cdp_json_get(b, "ids"), emm));
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_and_lists),    cmocka_unit_test(test_fills_missing_pii),
        cmocka_unit_test(test_conflicts),        cmocka_unit_test(test_sums),
        cmocka_unit_test(test_times_and_visits), cmocka_unit_test(test_consents_and_fields),
        cmocka_unit_test(test_auto_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
