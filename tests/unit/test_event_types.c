/* Unit tests of src/model/event_types: the built-in table and its profile operations. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/json.h"
#include "model/event_types.h"

#include <stdlib.h>
#include <string.h>

static cJSON *parse(const char *s)
{
    cJSON *v = cJSON_Parse(s);
    assert_non_null(v);
    return v;
}

/* Asserts that doc equals the JSON text want (key order ignored). */
static void assert_json(const cJSON *doc, const char *want)
{
    cJSON *w = parse(want);
    if (!cJSON_Compare(doc, w, true)) {
        char *got = cdp_json_print(doc);
        print_error("got  %s\nwant %s\n", got, want);
        free(got);
        cJSON_Delete(w);
        fail();
    }
    cJSON_Delete(w);
}

/* Applies an event of type with properties props (JSON text) to profile. */
static int apply(const char *type, const char *props, cJSON *profile)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "type", type);
    cJSON_AddItemToObject(e, "properties", parse(props));
    int rc = cdp_event_type_apply(e, profile, 0);
    cJSON_Delete(e);
    return rc;
}

static void test_table(void **state)
{
    (void)state;
    const cJSON *all = cdp_event_types_all();
    assert_non_null(all);
    assert_ptr_equal(all, cdp_event_types_all());
    assert_true(cJSON_GetArraySize(all) >= 17);
    const cJSON *t;
    cJSON_ArrayForEach(t, all)
    {
        const char *id = cdp_json_str(t, "id");
        assert_non_null(id);
        assert_true(*id);
        assert_true(*cdp_json_str(t, "name"));
        assert_true(*cdp_json_str(t, "group"));
        assert_non_null(cdp_json_str(t, "description"));
        assert_true(cJSON_IsObject(cdp_json_get(t, "properties")));
        assert_string_equal(cdp_json_str(t, "properties.type"), "object");
        assert_true(cJSON_IsObject(cdp_json_get(t, "properties.properties")));
        assert_true(cJSON_IsArray(cdp_json_get(t, "profile")));
        assert_true(cJSON_IsArray(cdp_json_get(t, "tags")));
        const cJSON *st = cdp_json_get(t, "state");
        assert_true(cJSON_IsNull(st) || cJSON_IsString(st));
        const cJSON *op;
        cJSON_ArrayForEach(op, cdp_json_get(t, "profile"))
        {
            assert_non_null(cdp_json_str(op, "op"));
            assert_non_null(cdp_json_str(op, "profile"));
            assert_true(cdp_json_str(op, "event") || cJSON_IsNumber(cdp_json_get(op, "value")));
        }
        int same = 0;
        const cJSON *u;
        cJSON_ArrayForEach(u, all) same += strcmp(cdp_json_str(u, "id"), id) == 0;
        assert_int_equal(same, 1);
        assert_ptr_equal(cdp_event_type_get(id), t);
    }
    static const char *const need[] = {"identification",    "sign-up",
                                       "sign-in",           "account-deleted",
                                       "profile-update",    "consent-update",
                                       "add-to-cart",       "remove-from-cart",
                                       "checkout-started",  "checkout-completed",
                                       "order-completed",   "product-viewed",
                                       "increase-interest", "decrease-interest",
                                       "page-view",         "search",
                                       "screen-view"};
    for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
        assert_non_null(cdp_event_type_get(need[i]));
    assert_null(cdp_event_type_get("no-such-type"));
    assert_null(cdp_event_type_get(NULL));

    const cJSON *su = cdp_event_type_get("sign-up");
    assert_string_equal(cdp_json_str(su, "group"), "identity");
    assert_string_equal(cdp_json_str(su, "state"), "consideration");
    assert_string_equal(cdp_json_str(su, "properties.properties.email.type"), "string");
    assert_json(cJSON_GetArrayItem(cdp_json_get(su, "profile"), 0),
                "{\"event\":\"properties.email\",\"op\":\"set\","
                "\"profile\":\"data.contact.email.main\"}");
    const cJSON *pu = cdp_event_type_get("profile-update");
    assert_string_equal(cdp_json_str(pu, "properties.properties.pii.type"), "object");
    assert_string_equal(cdp_json_str(pu, "properties.properties.pii.properties.firstname.type"),
                        "string");
    assert_int_equal(
        cJSON_GetArraySize(cdp_json_get(cdp_event_type_get("consent-update"), "profile")), 0);
    assert_json(cdp_json_get(cdp_event_type_get("checkout-completed"), "profile"),
                "[{\"event\":\"properties.value\",\"op\":\"increment\","
                "\"profile\":\"data.metrics.ltcocv\"},"
                "{\"value\":1,\"op\":\"increment\",\"profile\":\"data.metrics.ltcocc\"}]");
}

static void test_by_type(void **state)
{
    (void)state;
    const cJSON *all = cdp_event_types_all();
    cJSON *doc = cdp_event_types_by_type();
    assert_non_null(doc);
    assert_int_equal(cdp_json_get(doc, "total")->valueint, cJSON_GetArraySize(all));
    int n = 0;
    const cJSON *g, *t;
    cJSON_ArrayForEach(g, cdp_json_get(doc, "grouped"))
    {
        assert_true(cJSON_IsArray(g));
        assert_true(cJSON_GetArraySize(g) > 0);
        const char *group = cdp_json_str(cJSON_GetArrayItem(g, 0), "group");
        cJSON_ArrayForEach(t, g)
        {
            assert_string_equal(cdp_json_str(t, "group"), group);
            assert_true(cJSON_Compare(t, cdp_event_type_get(cdp_json_str(t, "id")), true));
            n++;
        }
    }
    assert_int_equal(n, cJSON_GetArraySize(all));
    assert_string_equal(
        cdp_json_str(cJSON_GetArrayItem(cdp_json_get(doc, "grouped.Identity"), 0), "group"),
        "identity");
    assert_non_null(cdp_json_get(doc, "grouped.Ecommerce"));
    assert_non_null(cdp_json_get(doc, "grouped.Traffic"));
    assert_non_null(cdp_json_get(doc, "grouped.Interests"));
    assert_non_null(cdp_json_get(doc, "grouped.Data"));
    cJSON_Delete(doc);
}

static void test_set(void **state)
{
    (void)state;
    cJSON *p = parse("{\"id\":\"p1\",\"data\":{\"pii\":{\"firstname\":\"Old\"}}}");
    const char *props = "{\"email\":\"a@b.c\",\"firstname\":\"Ann\",\"login\":\"ann1\"}";
    assert_int_equal(apply("sign-up", props, p), 1);
    assert_json(p, "{\"id\":\"p1\",\"data\":{\"pii\":{\"firstname\":\"Ann\"},"
                   "\"contact\":{\"email\":{\"main\":\"a@b.c\"}},"
                   "\"identifier\":{\"token\":\"ann1\"}}}");
    /* Idempotent: the same event again changes nothing. */
    assert_int_equal(apply("sign-up", props, p), 0);
    assert_int_equal(apply("sign-in", props, p), 0);
    /* Null and missing fields are skipped. */
    assert_int_equal(apply("sign-in", "{\"email\":null}", p), 0);
    assert_int_equal(apply("sign-in", "{}", p), 0);
    assert_string_equal(cdp_json_str(p, "data.contact.email.main"), "a@b.c");
    cJSON_Delete(p);

    p = parse("{}");
    assert_int_equal(apply("identification",
                           "{\"phone\":\"+48\",\"lastname\":\"Smith\",\"twitter\":\"@s\","
                           "\"unknown\":1}",
                           p),
                     1);
    assert_json(p, "{\"data\":{\"pii\":{\"lastname\":\"Smith\"},"
                   "\"contact\":{\"phone\":{\"main\":\"+48\"},\"app\":{\"twitter\":\"@s\"}}}}");
    cJSON_Delete(p);

    p = parse("{}");
    assert_int_equal(apply("profile-update",
                           "{\"pii\":{\"firstname\":\"Jo\",\"language\":{\"spoken\":[\"en\"]}},"
                           "\"contact\":{\"email\":\"j@x.y\",\"address\":{\"town\":\"Oslo\"}},"
                           "\"job\":{\"salary\":10.5}}",
                           p),
                     1);
    assert_json(p, "{\"data\":{\"pii\":{\"firstname\":\"Jo\",\"language\":{\"spoken\":[\"en\"]}},"
                   "\"contact\":{\"email\":{\"main\":\"j@x.y\"},\"address\":{\"town\":\"Oslo\"}},"
                   "\"job\":{\"salary\":10.5}}}");
    cJSON_Delete(p);
}

static void test_append(void **state)
{
    (void)state;
    cJSON *p = parse("{}");
    assert_int_equal(apply("identification", "{\"coupon\":\"C1\"}", p), 1);
    assert_json(p, "{\"data\":{\"identifier\":{\"coupons\":[\"C1\"]}}}");
    assert_int_equal(apply("identification", "{\"coupon\":\"C1\"}", p), 0);
    assert_int_equal(apply("identification", "{\"coupon\":[\"C1\",\"C2\",\"C3\"]}", p), 1);
    assert_json(p, "{\"data\":{\"identifier\":{\"coupons\":[\"C1\",\"C2\",\"C3\"]}}}");
    cJSON_Delete(p);

    /* A scalar target becomes a list; an object target is left alone. */
    p = parse("{\"data\":{\"identifier\":{\"coupons\":\"C0\"}}}");
    assert_int_equal(apply("identification", "{\"coupon\":\"C1\"}", p), 1);
    assert_json(p, "{\"data\":{\"identifier\":{\"coupons\":[\"C0\",\"C1\"]}}}");
    cJSON_Delete(p);
    p = parse("{\"data\":{\"identifier\":{\"coupons\":{\"a\":1}}}}");
    assert_int_equal(apply("identification", "{\"coupon\":\"C1\"}", p), 0);
    assert_json(p, "{\"data\":{\"identifier\":{\"coupons\":{\"a\":1}}}}");
    cJSON_Delete(p);
}

static void test_increment(void **state)
{
    (void)state;
    cJSON *p = parse("{\"data\":{\"metrics\":{\"ltcocv\":10}}}");
    assert_int_equal(apply("checkout-completed", "{\"id\":\"c1\",\"value\":5.5}", p), 1);
    assert_json(p, "{\"data\":{\"metrics\":{\"ltcocv\":15.5,\"ltcocc\":1}}}");
    /* Without a value only the counter moves. */
    assert_int_equal(apply("checkout-completed", "{\"id\":\"c2\"}", p), 1);
    assert_json(p, "{\"data\":{\"metrics\":{\"ltcocv\":15.5,\"ltcocc\":2}}}");
    /* A non-numeric value is skipped. */
    assert_int_equal(apply("checkout-completed", "{\"value\":\"7\"}", p), 1);
    assert_json(p, "{\"data\":{\"metrics\":{\"ltcocv\":15.5,\"ltcocc\":3}}}");
    cJSON_Delete(p);

    p = parse("{}");
    assert_int_equal(apply("checkout-started", "{\"value\":3}", p), 1);
    assert_json(p, "{\"data\":{\"metrics\":{\"ltcosv\":3,\"ltcosc\":1}}}");
    cJSON_Delete(p);

    /* A non-numeric target is left alone; a number is added to. */
    p = parse("{\"data\":{\"metrics\":{\"ltcocv\":\"x\",\"ltcocc\":1}}}");
    assert_int_equal(apply("checkout-completed", "{\"value\":3}", p), 1);
    assert_json(p, "{\"data\":{\"metrics\":{\"ltcocv\":\"x\",\"ltcocc\":2}}}");
    cJSON_Delete(p);
    /* Tracardi's order-completed changes nothing in the profile. */
    p = parse("{\"data\":{\"metrics\":{\"ltv\":1}}}");
    assert_int_equal(apply("order-completed", "{\"value\":3}", p), 0);
    cJSON_Delete(p);
}

static void test_interest(void **state)
{
    (void)state;
    cJSON *p = parse("{\"interests\":{\"shoes\":2}}");
    assert_int_equal(apply("increase-interest", "{\"interest\":\"shoes\"}", p), 1);
    assert_int_equal(apply("increase-interest", "{\"interest\":\"hats\",\"value\":0.5}", p), 1);
    assert_json(p, "{\"interests\":{\"shoes\":3,\"hats\":0.5}}");
    assert_int_equal(apply("decrease-interest", "{\"interest\":\"shoes\",\"value\":2}", p), 1);
    assert_int_equal(apply("decrease-interest", "{\"interest\":\"bags\"}", p), 1);
    assert_json(p, "{\"interests\":{\"shoes\":1,\"hats\":0.5,\"bags\":-1}}");
    /* Dots in the interest name are part of the key. */
    assert_int_equal(apply("increase-interest", "{\"interest\":\"a.b\"}", p), 1);
    assert_json(cdp_json_get(p, "interests"), "{\"shoes\":1,\"hats\":0.5,\"bags\":-1,\"a.b\":1}");
    assert_int_equal(apply("reset-interest", "{\"interest\":\"shoes\"}", p), 1);
    assert_int_equal(apply("reset-interest", "{\"interest\":\"shoes\"}", p), 0);
    assert_int_equal(cdp_json_get(p, "interests.shoes")->valueint, 0);
    /* No interest, an empty one or a non-numeric value: nothing happens. */
    assert_int_equal(apply("increase-interest", "{\"value\":1}", p), 0);
    assert_int_equal(apply("increase-interest", "{\"interest\":\"\"}", p), 0);
    assert_int_equal(apply("increase-interest", "{\"interest\":\"shoes\",\"value\":\"2\"}", p), 0);
    assert_int_equal(cdp_json_get(p, "interests.shoes")->valueint, 0);
    cJSON_Delete(p);

    /* Interests created when missing. */
    p = parse("{}");
    assert_int_equal(apply("increase-interest", "{\"interest\":\"tea\",\"value\":4}", p), 1);
    assert_json(p, "{\"interests\":{\"tea\":4}}");
    cJSON_Delete(p);
}

static void test_no_ops(void **state)
{
    (void)state;
    cJSON *p = parse("{\"id\":\"p\"}");
    assert_int_equal(apply("no-such-type", "{\"email\":\"a@b.c\"}", p), 0);
    assert_int_equal(apply("consent-update", "{\"consents\":{\"marketing\":true}}", p), 0);
    assert_int_equal(apply("page-view", "{\"category\":\"x\"}", p), 0);
    assert_int_equal(apply("account-deleted", "{\"email\":\"a@b.c\"}", p), 0);
    cJSON *e = parse("{\"properties\":{\"email\":\"a@b.c\"}}");
    assert_int_equal(cdp_event_type_apply(e, p, 0), 0);
    cJSON_Delete(e);
    assert_json(p, "{\"id\":\"p\"}");
    cJSON_Delete(p);
}

static void test_delivery(void **state)
{
    (void)state;
    cJSON *p = parse("{\"data\":{\"contact\":{\"address\":{\"town\":\"A\",\"street\":\"S\"}}}}");
    assert_int_equal(apply("delivery-info-entered",
                           "{\"order_id\":\"o\",\"delivery\":{\"town\":\"B\",\"postcode\":\"1\"}}",
                           p),
                     1);
    assert_json(p, "{\"data\":{\"contact\":{\"address\":{\"town\":\"B\",\"street\":\"S\","
                   "\"postcode\":\"1\"}}}}");
    cJSON_Delete(p);
}

static void test_ops(void **state)
{
    (void)state;
    cJSON *ops =
        parse("["
              "{\"event\":\"properties.a\",\"op\":\"set_if_empty\",\"profile\":\"traits.a\"},"
              "{\"event\":\"properties.b\",\"op\":\"equals_if_not_exists\","
              "\"profile\":\"traits.b\"},"
              "{\"event\":\"properties.n\",\"op\":\"decrement\",\"profile\":\"traits.n\"},"
              "{\"event\":\"properties.n\",\"op\":\"-\",\"profile\":\"traits.m\"},"
              "{\"event\":\"properties.n\",\"op\":\"+\",\"profile\":\"traits.k\"},"
              "{\"value\":[\"x\"],\"op\":\"append\",\"profile\":\"traits.l\"},"
              "{\"event\":\"properties.s\",\"op\":\"equal\",\"profile\":\"traits.s\"},"
              "{\"event\":\"properties.a\",\"op\":\"delete\",\"profile\":\"traits.d\"},"
              "{\"event\":\"properties.a\",\"op\":\"set\",\"profile\":\"traits..e\"},"
              "{\"event\":\"properties.a\",\"op\":\"set\"}]");
    cJSON *e = parse("{\"properties\":{\"a\":\"A\",\"b\":\"B\",\"n\":2,\"s\":{\"x\":1}}}");
    cJSON *p =
        parse("{\"traits\":{\"a\":\"\",\"b\":\"kept\",\"n\":5,\"m\":\"str\",\"l\":[\"x\"]}}");
    assert_int_equal(cdp_event_profile_ops_apply(ops, e, p), 1);
    assert_json(p, "{\"traits\":{\"a\":\"A\",\"b\":\"kept\",\"n\":3,\"m\":\"str\",\"k\":2,"
                   "\"l\":[\"x\"],\"s\":{\"x\":1}}}");
    /* Second run: set_if_empty, equal and append are idempotent; counters move again. */
    assert_int_equal(cdp_event_profile_ops_apply(ops, e, p), 1);
    assert_json(p, "{\"traits\":{\"a\":\"A\",\"b\":\"kept\",\"n\":1,\"m\":\"str\",\"k\":4,"
                   "\"l\":[\"x\"],\"s\":{\"x\":1}}}");
    cJSON_Delete(e);
    /* Only the idempotent ops, nothing to do: 0. */
    e = parse("{\"properties\":{\"a\":\"Z\",\"b\":null,\"s\":{\"x\":1}}}");
    assert_int_equal(cdp_event_profile_ops_apply(ops, e, p), 0);
    cJSON_Delete(e);
    /* set_if_empty fills null, [] and {} too. */
    cJSON_Delete(p);
    p = parse("{\"traits\":{\"a\":null,\"b\":{}}}");
    e = parse("{\"properties\":{\"a\":\"A\",\"b\":[1]}}");
    assert_int_equal(cdp_event_profile_ops_apply(ops, e, p), 1);
    assert_json(p, "{\"traits\":{\"a\":\"A\",\"b\":[1],\"l\":[\"x\"]}}");
    cJSON_Delete(e);
    cJSON_Delete(p);
    cJSON_Delete(ops);
}

/* Applies the copy of an event (JSON text); returns the result and the changed event. */
static int copy(const char *event, cJSON **out)
{
    *out = parse(event);
    return cdp_event_type_copy(*out);
}

static void test_copy(void **state)
{
    (void)state;
    cJSON *e;
    assert_int_equal(copy("{\"type\":\"page-view\",\"properties\":{\"category\":\"shoes\"},"
                          "\"hit\":{\"url\":\"https://a.example/\"}}",
                          &e),
                     1);
    assert_json(cdp_json_get(e, "hit"),
                "{\"url\":\"https://a.example/\",\"page\":{\"category\":\"shoes\"}}");
    assert_int_equal(cdp_event_type_copy(e), 0); /* already there */
    cJSON_Delete(e);

    /* Set operations into data.* are copied; the append of coupon is not. */
    assert_int_equal(copy("{\"type\":\"identification\",\"properties\":{\"email\":\"a@b.c\","
                          "\"firstname\":\"Ann\",\"coupon\":\"X\",\"twitter\":null},\"data\":{}}",
                          &e),
                     1);
    assert_json(cdp_json_get(e, "data"), "{\"contact\":{\"email\":{\"main\":\"a@b.c\"}},"
                                         "\"pii\":{\"firstname\":\"Ann\"}}");
    cJSON_Delete(e);

    assert_int_equal(copy("{\"type\":\"checkout-started\",\"properties\":{\"id\":\"c1\","
                          "\"order_id\":\"o1\",\"value\":9.5,\"currency\":\"EUR\"}}",
                          &e),
                     1);
    assert_json(cdp_json_get(e, "data"), "{\"ec\":{\"order\":{\"id\":\"o1\"},\"checkout\":"
                                         "{\"id\":\"c1\",\"currency\":\"EUR\",\"value\":9.5}}}");
    cJSON_Delete(e);

    /* delivery-info-entered: its set operations and its own list. */
    assert_int_equal(copy("{\"type\":\"delivery-info-entered\",\"properties\":{\"order_id\":"
                          "\"o1\",\"delivery\":{\"town\":\"Bonn\"}}}",
                          &e),
                     1);
    assert_json(cdp_json_get(e, "data"), "{\"contact\":{\"address\":{\"town\":\"Bonn\"}},"
                                         "\"ec\":{\"order\":{\"id\":\"o1\"}}}");
    cJSON_Delete(e);

    /* Values are deep copies: the properties can go without the data. */
    assert_int_equal(
        copy("{\"type\":\"add-to-cart\",\"properties\":{\"variant\":{\"size\":\"M\"}}}", &e), 1);
    cJSON_DeleteItemFromObject(e, "properties");
    assert_json(cdp_json_get(e, "data"), "{\"ec\":{\"product\":{\"variant\":{\"size\":\"M\"}}}}");
    cJSON_Delete(e);

    assert_int_equal(copy("{\"type\":\"page-view\",\"properties\":{}}", &e), 0);
    assert_null(cdp_json_get(e, "hit"));
    cJSON_Delete(e);
    assert_int_equal(copy("{\"type\":\"no-such-type\",\"properties\":{\"category\":1}}", &e), 0);
    cJSON_Delete(e);
    assert_int_equal(copy("{\"type\":\"visit-started\"}", &e), 0);
    cJSON_Delete(e);

    /* The JSON form shows the map, target: source. */
    assert_json(cdp_json_get(cdp_event_type_get("page-view"), "copy"),
                "{\"hit.page.category\":\"properties.category\"}");
    assert_json(cdp_json_get(cdp_event_type_get("sign-up"), "copy"),
                "{\"data.contact.email.main\":\"properties.email\","
                "\"data.identifier.token\":\"properties.login\","
                "\"data.pii.firstname\":\"properties.firstname\","
                "\"data.pii.lastname\":\"properties.lastname\"}");
    assert_json(cdp_json_get(cdp_event_type_get("consent-update"), "copy"), "{}");
    const cJSON *t, *c;
    cJSON_ArrayForEach(t, cdp_event_types_all())
    {
        assert_true(cJSON_IsObject(cdp_json_get(t, "copy")));
        cJSON_ArrayForEach(c, cdp_json_get(t, "copy"))
        {
            assert_true(strncmp(c->string, "data.", 5) == 0 || strncmp(c->string, "hit.", 4) == 0);
            assert_true(strncmp(c->valuestring, "properties.", 11) == 0);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),     cmocka_unit_test(test_by_type),
        cmocka_unit_test(test_set),       cmocka_unit_test(test_append),
        cmocka_unit_test(test_increment), cmocka_unit_test(test_interest),
        cmocka_unit_test(test_no_ops),    cmocka_unit_test(test_delivery),
        cmocka_unit_test(test_ops),       cmocka_unit_test(test_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
