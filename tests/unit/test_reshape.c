/* Unit tests of src/flow/reshape (event reshaping schemas) and src/flow/identification
 * (identification points): checks on save, and what they do to an event. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "collect/pipeline.h"
#include "core/err.h"
#include "core/json.h"
#include "flow/identification.h"
#include "flow/reshape.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdio.h>
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

/* Normalizes the schema text; on failure asserts err contains needle. */
static int normalize(int (*fn)(cJSON *, char *, size_t), const char *text, const char *needle)
{
    cJSON *doc = parse(text);
    char err[400] = "";
    int rc = fn(doc, err, sizeof(err));
    if (needle) {
        assert_int_equal(rc, CDP_E_INVALID);
        if (!strstr(err, needle)) {
            print_error("error `%s` does not name `%s`\n", err, needle);
            fail();
        }
    }
    cJSON_Delete(doc);
    return rc;
}

static struct cdp_reshape *compile_reshape(const char *text)
{
    cJSON *doc = parse(text);
    char err[400];
    assert_int_equal(cdp_reshape_normalize(doc, err, sizeof(err)), 0);
    struct cdp_reshape *r;
    assert_int_equal(cdp_reshape_compile(doc, &r, err, sizeof(err)), 0);
    cJSON_Delete(doc);
    return r;
}

static void test_reshape_normalize(void **state)
{
    (void)state;
    cJSON *doc = parse("{\"name\": \"r\", \"event_type\": {\"id\": \"purchase\", \"name\": \"P\"},"
                       " \"reshaping\": {\"reshape_schema\": {\"properties\": {\"a\": 1}}}}");
    char err[400];
    assert_int_equal(cdp_reshape_normalize(doc, err, sizeof(err)), 0);
    assert_true(*cdp_json_str(doc, "id"));
    assert_string_equal(cdp_json_str(doc, "event_type"), "purchase");
    assert_json(cdp_json_get(doc, "event_source"), "{\"id\": \"\", \"name\": \"\"}");
    assert_true(cJSON_IsTrue(cdp_json_get(doc, "enabled")));
    assert_string_equal(cdp_json_str(doc, "description"), "");
    assert_true(cJSON_IsArray(cdp_json_get(doc, "tags")));
    cJSON_Delete(doc);

    doc = parse("{\"name\": \"r\", \"event_type\": \"e\", \"event_source\": \"web\","
                " \"reshaping\": {\"reshape_schema\": {\"session\": {\"a\": 1}}}}");
    assert_int_equal(cdp_reshape_normalize(doc, err, sizeof(err)), 0);
    assert_json(cdp_json_get(doc, "event_source"), "{\"id\": \"web\", \"name\": \"web\"}");
    cJSON_Delete(doc);

    static const struct {
        const char *doc, *needle;
    } bad[] = {
        {"[]", "body"},
        {"{\"event_type\": \"e\", \"reshaping\": {\"reshape_schema\": {\"properties\": {\"a\": "
         "1}}}}",
         "name"},
        {"{\"name\": \"r\", \"reshaping\": {\"reshape_schema\": {\"properties\": {\"a\": 1}}}}",
         "event_type"},
        {"{\"name\": \"r\", \"event_type\": \"\", \"reshaping\": {\"reshape_schema\": "
         "{\"properties\": {\"a\": 1}}}}",
         "event_type"},
        {"{\"name\": \"r\", \"event_type\": \"e\"}", "reshaping.reshape_schema"},
        {"{\"name\": \"r\", \"event_type\": \"e\", \"reshaping\": {\"reshape_schema\": {}}}",
         "reshaping.reshape_schema: give"},
        {"{\"name\": \"r\", \"event_type\": \"e\", \"reshaping\": {\"reshape_schema\": "
         "{\"properties\": {}, \"context\": null}}}",
         "reshaping.reshape_schema: give"},
        {"{\"name\": \"r\", \"event_type\": \"e\", \"reshaping\": {\"reshape_schema\": "
         "{\"properties\": \"event@properties\"}}}",
         "reshaping.reshape_schema.properties: expected an object"},
        {"{\"name\": \"r\", \"event_type\": \"e\", \"reshaping\": {\"reshape_schema\": "
         "{\"context\": [1]}}}",
         "reshaping.reshape_schema.context: expected an object"},
        {"{\"name\": \"r\", \"event_type\": \"e\", \"reshaping\": {\"reshape_schema\": "
         "{\"properties\": {\"user\": {\"email\": \"event@properties..email\"}}}}}",
         "reshaping.reshape_schema.properties.user.email: `event@properties..email` is not"},
        {"{\"name\": \"r\", \"event_type\": \"e\", \"reshaping\": {\"reshape_schema\": "
         "{\"session\": {\"list\": [1, \"session@context.a b\"]}}}}",
         "reshaping.reshape_schema.session.list[1]"},
        {"{\"name\": \"r\", \"event_type\": \"e\", \"reshaping\": {\"reshape_schema\": "
         "{\"properties\": {\"t\": \"profile@traits.tier\"}}}}",
         "reshaping.reshape_schema.properties.t: `profile@traits.tier`: this template reads "
         "only"},
        {"{\"name\": \"r\", \"event_type\": \"e\", \"event_source\": 5, \"reshaping\": "
         "{\"reshape_schema\": {\"properties\": {\"a\": 1}}}}",
         "event_source"},
        {"{\"name\": \"r\", \"event_type\": \"e\", \"enabled\": \"yes\", \"reshaping\": "
         "{\"reshape_schema\": {\"properties\": {\"a\": 1}}}}",
         "enabled"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        normalize(cdp_reshape_normalize, bad[i].doc, bad[i].needle);
}

static void test_reshape_depth(void **state)
{
    (void)state;
    /* A template nested past CDP_TEMPLATE_MAX_DEPTH is refused with its place. */
    char text[2048];
    size_t n = (size_t)snprintf(text, sizeof(text),
                                "{\"name\": \"r\", \"event_type\": \"e\", \"reshaping\": "
                                "{\"reshape_schema\": {\"properties\": ");
    for (int i = 0; i < 70; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "{\"a\": ");
    n += (size_t)snprintf(text + n, sizeof(text) - n, "1");
    for (int i = 0; i < 70 + 3; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "}");
    assert_true(n < sizeof(text));
    normalize(cdp_reshape_normalize, text, "nests deeper than");
}

static void test_reshape_apply(void **state)
{
    (void)state;
    struct cdp_reshape *r = compile_reshape(
        "{\"name\": \"r\", \"event_type\": \"purchase\", \"reshaping\": {\"reshape_schema\": {"
        " \"properties\": {\"order\": {\"total\": \"event@properties.sum\","
        "   \"items\": [\"event@properties.item\", \"literal\", 3, null]},"
        "   \"from\": \"event@context.page.url\", \"gone\": \"event@properties.nope\","
        "   \"coupon?\": \"event@properties.coupon\", \"mail\": \"a@example.com\","
        "   \"visit\": \"session@context.visit\"},"
        " \"context\": {\"was\": \"event@properties.sum\"},"
        " \"session\": {\"shop\": \"event@properties.shop\", \"old\": \"session@context\"}}}}");
    cJSON *event = parse("{\"type\": \"purchase\", \"source\": {\"id\": \"web\"},"
                         " \"properties\": {\"sum\": 12.5, \"item\": {\"sku\": \"x\"},"
                         "   \"shop\": \"berlin\", \"coupon\": \"\"},"
                         " \"context\": {\"page\": {\"url\": \"https://a.example/\"}}}");
    cJSON *session = parse("{\"id\": \"s\", \"context\": {\"visit\": 2}}");
    bool sc = false;
    assert_true(cdp_reshape_matches(r, "purchase", "web"));
    assert_true(cdp_reshape_matches(r, "purchase", NULL)); /* no source: any */
    assert_false(cdp_reshape_matches(r, "refund", "web"));
    assert_false(cdp_reshape_matches(r, NULL, "web"));
    assert_int_equal(cdp_reshape_apply(r, event, session, &sc), 1);
    assert_true(sc);
    /* Every part reads the documents as they were: context still sees the old properties. */
    assert_json(cdp_json_get(event, "properties"),
                "{\"order\": {\"total\": 12.5, \"items\": [{\"sku\": \"x\"}, \"literal\", 3, "
                "null]}, \"from\": \"https://a.example/\", \"gone\": null, "
                "\"mail\": \"a@example.com\", \"visit\": 2}");
    assert_json(cdp_json_get(event, "context"), "{\"was\": 12.5}");
    assert_json(cdp_json_get(session, "context"),
                "{\"shop\": \"berlin\", \"old\": {\"visit\": 2}}");

    /* Without a session, the session template is skipped and the event still reshaped. */
    cJSON *e2 = parse("{\"type\": \"purchase\", \"properties\": {\"sum\": 1}}");
    assert_int_equal(cdp_reshape_apply(r, e2, NULL, &sc), 1);
    assert_false(sc);
    assert_true(cdp_json_get(e2, "properties.order.total")->valuedouble == 1);
    cJSON_Delete(e2);
    cJSON_Delete(event);
    cJSON_Delete(session);
    cdp_reshape_free(r);
}

static void test_reshape_parts(void **state)
{
    (void)state;
    /* Only the session template: the event is left alone; a source limits the schema. */
    struct cdp_reshape *r = compile_reshape(
        "{\"name\": \"r\", \"event_type\": \"e\", \"event_source\": {\"id\": \"app\"},"
        " \"reshaping\": {\"reshape_schema\": {\"properties\": {},"
        "  \"session\": {\"a\": \"event@properties.a\"}}}}");
    assert_true(cdp_reshape_matches(r, "e", "app"));
    assert_false(cdp_reshape_matches(r, "e", "web"));
    assert_false(cdp_reshape_matches(r, "e", NULL));
    cJSON *event = parse("{\"type\": \"e\", \"properties\": {\"a\": 1}, \"context\": {\"c\": 2}}");
    bool sc;
    assert_int_equal(cdp_reshape_apply(r, event, NULL, &sc), 0);
    assert_false(sc);
    cJSON *session = parse("{\"context\": {}}");
    assert_int_equal(cdp_reshape_apply(r, event, session, &sc), 1);
    assert_true(sc);
    assert_json(event, "{\"type\": \"e\", \"properties\": {\"a\": 1}, \"context\": {\"c\": 2}}");
    assert_json(session, "{\"context\": {\"a\": 1}}");
    cJSON_Delete(event);
    cJSON_Delete(session);
    cdp_reshape_free(r);
}

static void test_reshape_order(void **state)
{
    (void)state;
    struct cdp_reshape *r[3] = {
        compile_reshape("{\"id\": \"2\", \"name\": \"b\", \"event_type\": \"e\", \"reshaping\": "
                        "{\"reshape_schema\": {\"properties\": {\"x\": 1}}}}"),
        compile_reshape("{\"id\": \"9\", \"name\": \"a\", \"event_type\": \"e\", \"reshaping\": "
                        "{\"reshape_schema\": {\"properties\": {\"x\": 2}}}}"),
        compile_reshape("{\"id\": \"1\", \"name\": \"b\", \"event_type\": \"e\", \"reshaping\": "
                        "{\"reshape_schema\": {\"properties\": {\"x\": 3}}}}"),
    };
    struct cdp_reshape *want[3] = {r[1], r[2], r[0]};
    qsort(r, 3, sizeof(r[0]), cdp_reshape_cmp);
    for (int i = 0; i < 3; i++)
        assert_ptr_equal(r[i], want[i]);
    for (int i = 0; i < 3; i++)
        cdp_reshape_free(r[i]);
}

static struct cdp_identification *compile_point(const char *text)
{
    cJSON *doc = parse(text);
    char err[400];
    assert_int_equal(cdp_identification_normalize(doc, err, sizeof(err)), 0);
    struct cdp_identification *p;
    assert_int_equal(cdp_identification_compile(doc, &p, err, sizeof(err)), 0);
    cJSON_Delete(doc);
    return p;
}

static void test_point_normalize(void **state)
{
    (void)state;
    cJSON *doc =
        parse("{\"name\": \"login\", \"event_type\": \"sign-in\","
              " \"fields\": [{\"profile_trait\": \"data.contact.email.main\","
              "   \"event_property\": {\"value\": \"properties.email\", \"ref\": true}}]}");
    char err[400];
    assert_int_equal(cdp_identification_normalize(doc, err, sizeof(err)), 0);
    assert_true(*cdp_json_str(doc, "id"));
    assert_json(cdp_json_get(doc, "event_type"), "{\"id\": \"sign-in\", \"name\": \"sign-in\"}");
    assert_json(cdp_json_get(doc, "source"), "{\"id\": \"\", \"name\": \"\"}");
    assert_json(cdp_json_get(doc, "fields"),
                "[{\"profile_trait\": {\"value\": \"data.contact.email.main\", \"ref\": true},"
                " \"event_property\": {\"value\": \"properties.email\", \"ref\": true}}]");
    assert_json(cdp_json_get(doc, "settings"), "{}");
    assert_true(cJSON_IsTrue(cdp_json_get(doc, "enabled")));
    cJSON_Delete(doc);

    static const struct {
        const char *doc, *needle;
    } bad[] = {
        {"1", "body"},
        {"{\"event_type\": \"e\", \"fields\": [{\"profile_trait\": \"data.a\", "
         "\"event_property\": \"properties.a\"}]}",
         "name"},
        {"{\"name\": \"n\", \"fields\": [{\"profile_trait\": \"data.a\", "
         "\"event_property\": \"properties.a\"}]}",
         "event_type"},
        {"{\"name\": \"n\", \"event_type\": \"e\"}", "fields"},
        {"{\"name\": \"n\", \"event_type\": \"e\", \"fields\": []}", "fields"},
        {"{\"name\": \"n\", \"event_type\": \"e\", \"fields\": [{\"profile_trait\": \"data.a\"}]}",
         "fields[0].event_property"},
        {"{\"name\": \"n\", \"event_type\": \"e\", \"fields\": [{\"profile_trait\": \"data.a\", "
         "\"event_property\": \"properties.a\"}, {\"profile_trait\": \"metadata.time\", "
         "\"event_property\": \"properties.b\"}]}",
         "fields[1].profile_trait: a profile field under data"},
        {"{\"name\": \"n\", \"event_type\": \"e\", \"fields\": [{\"profile_trait\": \"data\", "
         "\"event_property\": \"properties.a\"}]}",
         "fields[0].profile_trait"},
        {"{\"name\": \"n\", \"event_type\": \"e\", \"fields\": [{\"profile_trait\": "
         "\"data[\\\"a.b\\\"]\", \"event_property\": \"properties.a\"}]}",
         "fields[0].profile_trait"},
        {"{\"name\": \"n\", \"event_type\": \"e\", \"fields\": [{\"profile_trait\": \"data.a\", "
         "\"event_property\": \"session@context.a\"}]}",
         "fields[0].event_property"},
        {"{\"name\": \"n\", \"event_type\": \"e\", \"fields\": [{\"profile_trait\": \"data.a\", "
         "\"event_property\": \"properties..a\"}]}",
         "fields[0].event_property"},
        {"{\"name\": \"n\", \"event_type\": \"e\", \"fields\": [{\"profile_trait\": \"data.a\", "
         "\"event_property\": \"properties.a\"}, {\"profile_trait\": \"profile@data.a\", "
         "\"event_property\": \"properties.b\"}]}",
         "fields[1].profile_trait: data.a is already in fields[0]"},
        {"{\"name\": \"n\", \"event_type\": \"e\", \"source\": [1], \"fields\": "
         "[{\"profile_trait\": \"data.a\", \"event_property\": \"properties.a\"}]}",
         "source"},
        {"{\"name\": \"n\", \"event_type\": \"e\", \"settings\": 1, \"fields\": "
         "[{\"profile_trait\": \"data.a\", \"event_property\": \"properties.a\"}]}",
         "settings"},
        {"{\"name\": \"n\", \"event_type\": \"e\", \"enabled\": 1, \"fields\": "
         "[{\"profile_trait\": \"data.a\", \"event_property\": \"properties.a\"}]}",
         "enabled"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        normalize(cdp_identification_normalize, bad[i].doc, bad[i].needle);
}

static void test_point_keys(void **state)
{
    (void)state;
    struct cdp_identification *p = compile_point(
        "{\"name\": \"n\", \"event_type\": {\"id\": \"sign-in\"}, \"source\": {\"id\": \"web\"},"
        " \"fields\": [{\"profile_trait\": \"profile@data.contact.email.main\","
        "               \"event_property\": \"event@properties.email\"},"
        "              {\"profile_trait\": {\"value\": \"traits.ids[0]\", \"ref\": true},"
        "               \"event_property\": \"properties.ids[1]\"}]}");
    assert_true(cdp_identification_matches(p, "sign-in", "web"));
    assert_false(cdp_identification_matches(p, "sign-in", "app"));
    assert_false(cdp_identification_matches(p, "sign-in", NULL));
    assert_false(cdp_identification_matches(p, "sign-up", "web"));
    cJSON *e = parse("{\"type\": \"sign-in\", \"properties\": {\"email\": \"ann@example.com\","
                     " \"ids\": [\"a\", {\"n\": 7}]}}");
    cJSON *keys;
    assert_int_equal(cdp_identification_keys(p, e, &keys), 1);
    assert_json(keys, "{\"data.contact.email.main\": \"ann@example.com\","
                      " \"traits.ids.0\": {\"n\": 7}}");
    cJSON_Delete(keys);
    cJSON_Delete(e);
    static const char *const empty[] = {
        "{\"type\": \"sign-in\", \"properties\": {\"ids\": [0, 1]}}",
        "{\"type\": \"sign-in\", \"properties\": {\"email\": \"\", \"ids\": [0, 1]}}",
        "{\"type\": \"sign-in\", \"properties\": {\"email\": \"a\", \"ids\": [0, null]}}",
        "{\"type\": \"sign-in\", \"properties\": {\"email\": \"a\", \"ids\": [0, {}]}}",
        "{\"type\": \"sign-in\", \"properties\": {\"email\": \"a\", \"ids\": [0, []]}}",
        "{\"type\": \"sign-in\"}",
    };
    for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
        e = parse(empty[i]);
        keys = e; /* must be reset */
        assert_int_equal(cdp_identification_keys(p, e, &keys), 0);
        assert_null(keys);
        cJSON_Delete(e);
    }
    cdp_identification_free(p);

    /* No source: any source. */
    p = compile_point("{\"name\": \"n\", \"event_type\": \"e\", \"source\": \"\", \"fields\": "
                      "[{\"profile_trait\": \"data.a\", \"event_property\": \"properties.a\"}]}");
    assert_true(cdp_identification_matches(p, "e", "web"));
    assert_true(cdp_identification_matches(p, "e", NULL));
    cdp_identification_free(p);
}

static void test_point_order(void **state)
{
    (void)state;
    const char *f = "\"fields\": [{\"profile_trait\": \"data.a\", "
                    "\"event_property\": \"properties.a\"}]";
    char a[300], b[300];
    snprintf(a, sizeof(a), "{\"id\": \"1\", \"name\": \"z\", \"event_type\": \"e\", %s}", f);
    snprintf(b, sizeof(b), "{\"id\": \"2\", \"name\": \"y\", \"event_type\": \"e\", %s}", f);
    struct cdp_identification *p[2] = {compile_point(a), compile_point(b)};
    struct cdp_identification *first = p[1];
    qsort(p, 2, sizeof(p[0]), cdp_identification_cmp);
    assert_ptr_equal(p[0], first);
    cdp_identification_free(p[0]);
    cdp_identification_free(p[1]);
}

/* Saves the normalized document text as an entity of kind. */
static void put(struct cdp_store *s, const char *kind, int (*norm)(cJSON *, char *, size_t),
                const char *text)
{
    cJSON *d = parse(text);
    char err[400];
    assert_int_equal(norm(d, err, sizeof(err)), 0);
    assert_int_equal(s->ops->entity_put(s, kind, cdp_json_str(d, "id"), d), 0);
    cJSON_Delete(d);
}

/* Identifies event (JSON text) from source; returns the result, keys compared with want. */
static int identify(struct cdp_routing *rt, struct cdp_store *s, const char *event,
                    const char *source, const char *want)
{
    cJSON *e = parse(event), *keys;
    int rc = cdp_routing_identify(rt, s, e, source, &keys);
    if (want)
        assert_json(keys, want);
    else
        assert_null(keys);
    cJSON_Delete(keys);
    cJSON_Delete(e);
    return rc;
}

/* The collector's cache of both (collect/routing.c): loaded from the store, first by name,
 * disabled ones left out, reloaded when the entity version moves. */
static void test_routing(void **state)
{
    (void)state;
    char dir[] = "/tmp/cdpd-unit-XXXXXX", err[256];
    assert_non_null(mkdtemp(dir));
    struct cdp_store *s;
    struct cdp_store_opts o = {.durable = false};
    assert_int_equal(cdp_store_open(&s, dir, &o, err, sizeof(err)), 0);
    struct cdp_routing *rt = cdp_routing_new();
    put(s, "identification-point", cdp_identification_normalize,
        "{\"name\": \"b email\", \"event_type\": \"sign-in\", \"fields\": [{\"profile_trait\": "
        "\"data.contact.email.main\", \"event_property\": \"properties.email\"}]}");
    put(s, "identification-point", cdp_identification_normalize,
        "{\"name\": \"a login\", \"event_type\": \"sign-in\", \"source\": \"web\", \"fields\": "
        "[{\"profile_trait\": \"data.identifier.token\", \"event_property\": "
        "\"properties.login\"}]}");
    put(s, "identification-point", cdp_identification_normalize,
        "{\"name\": \"0 off\", \"event_type\": \"sign-in\", \"enabled\": false, \"fields\": "
        "[{\"profile_trait\": \"traits.off\", \"event_property\": \"properties.email\"}]}");
    const char *both = "{\"type\": \"sign-in\", \"properties\": {\"email\": \"ann@example.com\","
                       " \"login\": \"ann\"}}";
    assert_int_equal(identify(rt, s, both, "web", "{\"data.identifier.token\": \"ann\"}"), 1);
    assert_int_equal(
        identify(rt, s, both, "app", "{\"data.contact.email.main\": \"ann@example.com\"}"), 1);
    /* A point whose property is missing gives way to the next one. */
    assert_int_equal(identify(rt, s,
                              "{\"type\": \"sign-in\", \"properties\": {\"email\": \"a@b.c\"}}",
                              "web", "{\"data.contact.email.main\": \"a@b.c\"}"),
                     1);
    assert_int_equal(identify(rt, s, "{\"type\": \"sign-in\", \"properties\": {}}", "web", NULL),
                     0);
    assert_int_equal(identify(rt, s,
                              "{\"type\": \"sign-up\", \"properties\": {\"email\": \"a@b.c\"}}",
                              "web", NULL),
                     0);

    put(s, "event-reshaping", cdp_reshape_normalize,
        "{\"name\": \"b\", \"event_type\": \"purchase\", \"reshaping\": {\"reshape_schema\": "
        "{\"properties\": {\"total\": \"event@properties.sum\"}, \"session\": {\"s\": 1}}}}");
    cJSON *e = parse("{\"type\": \"purchase\", \"source\": {\"id\": \"web\"}, "
                     "\"properties\": {\"sum\": 5}}");
    cJSON *session = parse("{\"context\": {}}");
    bool sc;
    cdp_routing_sync(rt, s);
    assert_int_equal(cdp_routing_reshape(rt, s, e, session, &sc), 1);
    assert_true(sc);
    assert_json(cdp_json_get(e, "properties"), "{\"total\": 5}");
    assert_json(cdp_json_get(session, "context"), "{\"s\": 1}");
    cJSON_Delete(e);

    /* A schema saved later applies after the sync; the first by name wins. */
    put(s, "event-reshaping", cdp_reshape_normalize,
        "{\"name\": \"a\", \"event_type\": \"purchase\", \"reshaping\": {\"reshape_schema\": "
        "{\"properties\": {\"first\": true}}}}");
    cdp_routing_sync(rt, s);
    e = parse("{\"type\": \"purchase\", \"properties\": {\"sum\": 5}}");
    assert_int_equal(cdp_routing_reshape(rt, s, e, session, &sc), 1);
    assert_false(sc);
    assert_json(cdp_json_get(e, "properties"), "{\"first\": true}");
    cJSON_Delete(e);
    e = parse("{\"type\": \"refund\", \"properties\": {\"sum\": 5}}");
    assert_int_equal(cdp_routing_reshape(rt, s, e, session, &sc), 0);
    assert_json(cdp_json_get(e, "properties"), "{\"sum\": 5}");
    cJSON_Delete(e);
    cJSON_Delete(session);

    cdp_routing_free(rt);
    cdp_store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reshape_normalize), cmocka_unit_test(test_reshape_depth),
        cmocka_unit_test(test_reshape_apply),     cmocka_unit_test(test_reshape_parts),
        cmocka_unit_test(test_reshape_order),     cmocka_unit_test(test_point_normalize),
        cmocka_unit_test(test_point_keys),        cmocka_unit_test(test_point_order),
        cmocka_unit_test(test_routing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
