/* Unit tests of the control and data plugins (src/flow/plugins/control.c and data.c), each run
 * alone with cdp_plugin_run1 against a hand-built context: outputs (port and value), writes and
 * the changed bits, logs, and every config error. Plugins are looked up by Tracardi's module and
 * class so the registry is tested too. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/json.h"
#include "flow/flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char profile_json[] =
    "{\"id\":\"p1\",\"stats\":{\"visits\":12},\"segments\":[\"vip\"],"
    "\"traits\":{\"name\":\"Ann\",\"blank\":\"\",\"nick\":null,\"none\":[],\"count\":2,"
    "\"tags\":\"a\",\"list\":[\"a\",\"b\"]},\"aux\":{}}";
static const char event_json[] =
    "{\"id\":\"e1\",\"type\":\"purchase\",\"properties\":{\"email\":\"ann@example.com\","
    "\"total\":99.5,\"items\":[\"b\",\"c\"]}}";
static const char session_json[] = "{\"id\":\"s1\"}";

#define NOW_US ((int64_t)1705579200 * 1000000)

#define CONTROL "tracardi.process_engine.action.v1."
#define START   CONTROL "flow.start.start_action", "StartAction"
#define END     CONTROL "end_action", "EndAction"
#define IF      CONTROL "if_action", "IfAction"
#define EXISTS  CONTROL "flow.property_exists.plugin", "PropertyExistsAction"
#define JOIN    CONTROL "operations.join_payloads.plugin", "JoinPayloads"
#define LOG     CONTROL "log_action", "LogAction"
#define RAISE   CONTROL "raise_error_action", "RaiseErrorAction"
#define SLEEP   CONTROL "time.sleep_action", "SleepAction"
#define COPY    CONTROL "traits.copy_trait_action", "CopyTraitAction"
#define UPDATE  CONTROL "operations.update_profile_action", "UpdateProfileAction"
#define DELETE  CONTROL "traits.delete_trait_action", "DeleteTraitAction"
#define INCR    CONTROL "increment_action", "IncrementAction"
#define DECR    CONTROL "decrement_action", "DecrementAction"
#define APPEND  CONTROL "traits.append_trait_action", "AppendTraitAction"
#define CUT     CONTROL "traits.cut_out_trait_action", "CutOutTraitAction"
#define RESHAPE CONTROL "traits.reshape_payload_action", "ReshapePayloadAction"
#define INJECT  CONTROL "inject_action", "InjectAction"
#define RESP    CONTROL "internal.add_response.plugin", "CreateResponseAction"
#define TPL     CONTROL "template_action", "TemplateAction"

#define CH_PROFILE CDP_FLOW_CHANGED(CDP_PATH_PROFILE)
#define CH_EVENT   CDP_FLOW_CHANGED(CDP_PATH_EVENT)
#define CH_SESSION CDP_FLOW_CHANGED(CDP_PATH_SESSION)
#define CH_PAYLOAD CDP_FLOW_CHANGED(CDP_PATH_PAYLOAD)
#define CH_MEMORY  CDP_FLOW_CHANGED(CDP_PATH_MEMORY)

#include "plugin_fixture.h"

/* --- registry --- */

static void test_registry(void **state)
{
    (void)state;
    /* Ports as Tracardi has them (test_engine checks the registry as a whole). */
    static const struct {
        const char *module, *cls, *in, *out;
        unsigned flags;
    } ports[] = {
        {START, "", "payload", CDP_PLUGIN_START},
        {END, "payload", "", 0},
        {IF, "payload", "true,false", 0},
        {EXISTS, "payload", "true,false", 0},
        {JOIN, "payload", "payload", CDP_PLUGIN_JOIN},
        {LOG, "payload", "payload", 0},
        {RAISE, "payload", "", 0},
        {SLEEP, "payload", "payload", 0},
        {COPY, "payload", "payload,error", 0},
        {UPDATE, "payload", "", 0},
        {DELETE, "payload", "payload", 0},
        {INCR, "payload", "payload,error", 0},
        {DECR, "payload", "payload,error", 0},
        {APPEND, "payload", "payload", 0},
        {CUT, "payload", "trait", 0},
        {RESHAPE, "payload", "payload,error", 0},
        {INJECT, "", "payload", CDP_PLUGIN_START | CDP_PLUGIN_DEBUG},
        {RESP, "payload", "payload", 0},
        {TPL, "payload", "template", 0},
    };
    for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
        const struct cdp_plugin *p = find(ports[i].module, ports[i].cls);
        assert_string_equal(p->inputs, ports[i].in);
        assert_string_equal(p->outputs, ports[i].out);
        assert_int_equal(p->flags, ports[i].flags);
    }
}

/* --- control --- */

static void test_start(void **state)
{
    struct fx *f = *state;
    expect(f, START, "{\"event_types\": [], \"debug\": false}", NULL,
           "[{\"port\":\"payload\",\"value\":{}}]");
    expect(f, START, "{}", NULL, "[{\"port\":\"payload\",\"value\":{}}]");
    expect(f, START, "{\"event_types\": [\"page-view\", \"purchase\"]}", NULL,
           "[{\"port\":\"payload\",\"value\":{}}]");
    expect(f, START, "{\"event_types\": [{\"id\": \"purchase\", \"name\": \"Purchase\"}]}", NULL,
           "[{\"port\":\"payload\",\"value\":{}}]");
    expect(f, START, "{\"event_types\": [\"page-view\", {\"id\": \"x\", \"name\": \"X\"}]}", NULL,
           "[]");
    /* An event without a type matches no list. */
    cJSON_DeleteItemFromObject(f->ctx.event, "type");
    expect(f, START, "{\"event_types\": [\"purchase\"]}", NULL, "[]");
    expect(f, START, "{\"event_types\": []}", NULL, "[{\"port\":\"payload\",\"value\":{}}]");
    assert_int_equal(f->ctx.changed, 0);

    expect_fail(f, START, "{\"event_types\": \"purchase\"}", NULL, "event_types: must be a list");
    expect_fail(f, START, "{\"event_types\": [\"a\", 5]}", NULL, "event_types: item 1");
    expect_fail(f, START, "{\"event_types\": [{\"name\": \"A\"}]}", NULL, "event_types: item 0");
    expect_fail(f, START, "{\"event_types\": [\"\"]}", NULL, "event_types: item 0");
    expect_fail(f, START, "{\"debug\": \"yes\"}", NULL, "debug: must be true or false");
}

static void test_end(void **state)
{
    struct fx *f = *state;
    expect(f, END, "{}", "{\"a\":1}", "[]");
    assert_int_equal(f->ctx.changed, 0);
}

static void test_if(void **state)
{
    struct fx *f = *state;
    expect(f, IF, "{\"condition\": \"profile@stats.visits > 3\"}", "{\"a\":1}",
           "[{\"port\":\"true\",\"value\":{\"a\":1}}]");
    expect(f, IF,
           "{\"condition\": \"profile@stats.visits > 3 AND event@type == \\\"page-view\\\"\"}",
           "{\"a\":1}", "[{\"port\":\"false\",\"value\":{\"a\":1}}]");
    expect(f, IF, "{\"condition\": \"payload@a == 1\", \"pass_payload\": false}", "{\"a\":1}",
           "[{\"port\":\"true\",\"value\":{\"result\":true}}]");
    expect(f, IF, "{\"condition\": \"payload@a == 2\", \"pass_payload\": false}", "{\"a\":1}",
           "[{\"port\":\"false\",\"value\":{\"result\":false}}]");
    expect(f, IF, "{\"condition\": \"memory@x NOT EXISTS\", \"ttl\": \"30\"}", NULL,
           "[{\"port\":\"true\",\"value\":{}}]");
    assert_null(f->ctx.logs);
    /* trigger_once is accepted, not implemented, and says so. */
    expect(f, IF, "{\"condition\": \"payload@a == 1\", \"trigger_once\": true, \"ttl\": 60}",
           "{\"a\":1}", "[{\"port\":\"true\",\"value\":{\"a\":1}}]");
    assert_log(f, "warning", "trigger_once is not supported; the condition fires on every run");
    /* Profile-less: a profile reference is missing, so the comparison is false. */
    drop_profile(f);
    expect(f, IF, "{\"condition\": \"profile@stats.visits > 3\"}", NULL,
           "[{\"port\":\"false\",\"value\":{}}]");
    assert_int_equal(f->ctx.changed, 0);

    expect_fail(f, IF, "{}", NULL, "condition: is required");
    expect_fail(f, IF, "{\"condition\": \"  \"}", NULL, "condition: is required");
    expect_fail(f, IF, "{\"condition\": 5}", NULL, "condition: is required");
    expect_fail(f, IF, "{\"condition\": \"profile@x ==\"}", NULL, "condition: at ");
    expect_fail(f, IF, "{\"condition\": \"a == 1\", \"pass_payload\": \"no\"}", NULL,
                "pass_payload: must be true or false");
    expect_fail(f, IF, "{\"condition\": \"payload@a == 1\", \"trigger_once\": 1}", NULL,
                "trigger_once: must be true or false");
    expect_fail(f, IF, "{\"condition\": \"payload@a == 1\", \"ttl\": -1}", NULL, "ttl: must be");
    expect_fail(f, IF, "{\"condition\": \"payload@a == 1\", \"ttl\": 1.5}", NULL, "ttl: must be");
    expect_fail(f, IF, "{\"condition\": \"payload@a == 1\", \"ttl\": \"soon\"}", NULL,
                "ttl: must be a number");
}

static void test_data_exists(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *prop;
        const char *port;
    } cases[] = {
        {"profile@traits.name", "true"},      {"profile@traits.count", "true"},
        {"profile@traits.blank", "false"},    {"profile@traits.nick", "false"},
        {"profile@traits.none", "false"},     {"profile@aux", "false"},
        {"profile@traits.nope", "false"},     {"payload@a", "true"},
        {"event@properties.items.1", "true"}, {"memory@m", "false"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char init[128], want[128];
        snprintf(init, sizeof(init), "{\"property\": \"%s\"}", cases[i].prop);
        snprintf(want, sizeof(want), "[{\"port\":\"%s\",\"value\":{\"a\":0}}]", cases[i].port);
        expect(f, EXISTS, init, "{\"a\":0}", want);
    }
    drop_profile(f);
    expect(f, EXISTS, "{\"property\": \"profile@id\"}", NULL,
           "[{\"port\":\"false\",\"value\":{}}]");
    expect_fail(f, EXISTS, "{}", NULL, "property: is required");
    expect_fail(f, EXISTS, "{\"property\": \"email\"}", NULL,
                "property: 'email' is not a reference");
    expect_fail(f, EXISTS, "{\"property\": 7}", NULL, "property: is required");
}

static void test_join(void **state)
{
    struct fx *f = *state;
    const char *joined = "{\"left\":{\"x\":1},\"e2\":{\"y\":2}}";
    expect(f, JOIN, "{\"reshape\": \"{}\", \"default\": true, \"type\": \"dict\"}", joined,
           "[{\"port\":\"payload\",\"value\":{\"left\":{\"x\":1},\"e2\":{\"y\":2}}}]");
    expect(f, JOIN, "{}", joined,
           "[{\"port\":\"payload\",\"value\":{\"left\":{\"x\":1},\"e2\":{\"y\":2}}}]");
    expect(
        f, JOIN,
        "{\"reshape\": {\"x\": \"payload@left.x\", \"all\": \"payload@...\", "
        "\"who\": \"profile@id\", \"gone\": \"payload@zzz\"}}",
        joined,
        "[{\"port\":\"payload\",\"value\":{\"x\":1,\"all\":{\"left\":{\"x\":1},\"e2\":{\"y\":2}},"
        "\"who\":\"p1\",\"gone\":null}}]");
    expect(f, JOIN, "{\"reshape\": \"{\\\"y\\\": \\\"payload@e2.y\\\"}\"}", joined,
           "[{\"port\":\"payload\",\"value\":{\"y\":2}}]");
    expect(f, JOIN, "{\"type\": \"list\"}", joined,
           "[{\"port\":\"payload\",\"value\":[{\"x\":1},{\"y\":2}]}]");
    expect(f, JOIN, "{\"type\": \"list\", \"reshape\": {\"first\": \"payload@0\"}}", joined,
           "[{\"port\":\"payload\",\"value\":{\"first\":{\"x\":1}}}]");
    expect_fail(f, JOIN, "{\"reshape\": {\"g\": \"payload@zzz\"}, \"default\": false}", joined,
                "reshape: ");
    expect_fail(f, JOIN, "{\"type\": \"set\"}", NULL, "type: must be \"dict\" or \"list\"");
    expect_fail(f, JOIN, "{\"reshape\": \"{bad\"}", NULL, "reshape: not valid JSON at byte");
    expect_fail(f, JOIN, "{\"reshape\": \"[1]\"}", NULL, "reshape: must be a JSON object");
    expect_fail(f, JOIN, "{\"reshape\": 5}", NULL, "reshape: must be a JSON object");
    expect_fail(f, JOIN, "{\"default\": \"yes\"}", NULL, "default: must be true or false");
}

static void test_log(void **state)
{
    struct fx *f = *state;
    expect(f, LOG, "{\"type\": \"info\", \"message\": \"visits {{profile@stats.visits}}\"}",
           "{\"a\":1}", "[{\"port\":\"payload\",\"value\":{\"a\":1}}]");
    assert_log(f, "info", "visits 12");
    expect(f, LOG, "{\"message\": \"plain\"}", NULL, "[{\"port\":\"payload\",\"value\":{}}]");
    assert_log(f, "warning", "plain");
    expect(f, LOG, "{\"type\": \"error\", \"message\": \"bad {{payload@a}}\"}", "{\"a\":\"x\"}",
           "[{\"port\":\"payload\",\"value\":{\"a\":\"x\"}}]");
    assert_log(f, "error", "bad x");
    assert_string_equal(cdp_json_str(cJSON_GetArrayItem(f->ctx.logs, 0), "node_id"), "node");
    assert_int_equal(cJSON_GetArraySize(f->ctx.logs), 3);
    drop_profile(f);
    expect_fail(f, LOG, "{\"type\": \"info\", \"message\": \"{{profile@id}}\"}", NULL,
                "message: missing value for profile@id");
    expect_fail(f, LOG, "{\"type\": \"debug\", \"message\": \"m\"}", NULL,
                "type: must be one of info, warning, error");
    expect_fail(f, LOG, "{\"type\": \"info\"}", NULL, "message: is required");
    expect_fail(f, LOG, "{\"type\": \"info\", \"message\": 5}", NULL, "message: is required");
}

static void test_raise_error(void **state)
{
    struct fx *f = *state;
    expect_fail(f, RAISE, "{\"message\": \"stop here\"}", NULL, "stop here");
    assert_string_equal(f->err, "stop here");
    expect_fail(f, RAISE, "{}", NULL, "Workflow stopped");
    expect_fail(f, RAISE, "{\"message\": 5}", NULL, "message: must be text");
}

static void test_sleep(void **state)
{
    struct fx *f = *state;
    const struct cdp_plugin *p = find(SLEEP);
    cJSON *init = parse("{\"wait\": \"2.5\"}"), *out = NULL;
    struct cdp_plugin_single *s = NULL;
    int rc = cdp_plugin_run1(p, init, &f->ctx, parse("{\"a\":1}"), NULL, &out, &s, f->err,
                             sizeof(f->err));
    assert_int_equal(rc, CDP_FLOW_WAIT);
    assert_non_null(s);
    assert_null(out);
    const struct cdp_flow_wait *w = cdp_plugin_single_wait(s);
    assert_int_equal(w->kind, CDP_WAIT_SLEEP);
    assert_true(w->seconds == 2.5);
    cJSON *io = cJSON_CreateObject();
    assert_int_equal(cdp_plugin_resume(s, io, &out, f->err, sizeof(f->err)), 0);
    assert_json(out, "[{\"port\":\"payload\",\"value\":{\"a\":1}}]");
    cJSON_Delete(out);
    cJSON_Delete(io);
    cdp_plugin_single_free(s);
    cJSON_Delete(init);

    /* The default is one second; 60 is the most. */
    static const char *const ok[] = {"{}", "{\"wait\": 60}", "{\"wait\": 0.01}"};
    static const double secs[] = {1, 60, 0.01};
    for (size_t i = 0; i < 3; i++) {
        init = parse(ok[i]);
        rc = cdp_plugin_run1(p, init, &f->ctx, NULL, NULL, &out, &s, f->err, sizeof(f->err));
        assert_int_equal(rc, CDP_FLOW_WAIT);
        assert_true(cdp_plugin_single_wait(s)->seconds == secs[i]);
        cdp_plugin_single_free(s);
        cJSON_Delete(init);
    }
    static const char *const bad[] = {"{\"wait\": 0}", "{\"wait\": -1}", "{\"wait\": 61}",
                                      "{\"wait\": 600000}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_fail(f, SLEEP, bad[i], NULL, "wait: must be more than 0 and at most 60 seconds");
    expect_fail(f, SLEEP, "{\"wait\": \"soon\"}", NULL, "wait: must be a number");
    expect_fail(f, SLEEP, "{\"wait\": true}", NULL, "wait: must be a number");
}

/* --- data --- */

static void test_copy(void **state)
{
    struct fx *f = *state;
    expect(f, COPY,
           "{\"traits\": {\"set\": {\"profile@traits.email\": \"event@properties.email\","
           "\"profile@traits.greeting\": \"Hi {{profile@traits.name}}!\","
           "\"profile@traits.score\": 5, \"session@context.x\": \"`true`\","
           "\"payload@copied\": \"event@properties.total\", \"memory@m\": \"literal\","
           "\"profile@traits.obj\": {\"a\": \"profile@id\"}}}}",
           "{\"a\":1}", "[{\"port\":\"payload\",\"value\":{\"a\":1,\"copied\":99.5}}]");
    assert_at(f, "profile@traits.email", "\"ann@example.com\"");
    assert_at(f, "profile@traits.greeting", "\"Hi Ann!\"");
    assert_at(f, "profile@traits.score", "5");
    assert_at(f, "profile@traits.obj", "{\"a\":\"profile@id\"}");
    assert_at(f, "session@context.x", "true");
    assert_at(f, "memory@m", "\"literal\"");
    assert_int_equal(f->ctx.changed & (CH_PROFILE | CH_SESSION | CH_EVENT),
                     CH_PROFILE | CH_SESSION);

    /* A missing source writes nothing and answers on error. */
    f->ctx.changed = 0;
    expect(f, COPY,
           "{\"traits\": {\"set\": {\"profile@traits.a\": \"profile@id\","
           "\"profile@traits.b\": \"event@properties.nope\"}}}",
           NULL,
           "[{\"port\":\"error\",\"value\":{\"message\":\"traits.set.profile@traits.b: missing "
           "value for event@properties.nope\"}}]");
    assert_at(f, "profile@traits.a", NULL);
    assert_int_equal(f->ctx.changed, 0);
    expect(f, COPY, "{\"traits\": {\"set\": {\"profile@traits.a\": \"x {{profile@nope}}\"}}}", NULL,
           "[{\"port\":\"error\",\"value\":{\"message\":\"traits.set.profile@traits.a: missing "
           "value for profile@nope at 2\"}}]");
    /* An empty mapping passes the payload. */
    expect(f, COPY, "{\"traits\": {\"set\": {}}}", "{\"a\":1}",
           "[{\"port\":\"payload\",\"value\":{\"a\":1}}]");
    /* A scalar in the way becomes an object (dotty dicts); a word key under a list fails. */
    expect(f, COPY, "{\"traits\": {\"set\": {\"profile@traits.name.first\": \"x\"}}}", NULL,
           "[{\"port\":\"payload\",\"value\":{}}]");
    assert_at(f, "profile@traits.name", "{\"first\":\"x\"}");
    expect(f, COPY, "{\"traits\": {\"set\": {\"profile@traits.list.x\": \"x\"}}}", NULL,
           "[{\"port\":\"error\",\"value\":{\"message\":\"traits.set.profile@traits.list.x: "
           "a step of the path is not an object or list\"}}]");
    /* Profile-less. */
    drop_profile(f);
    f->ctx.changed = 0;
    expect(f, COPY, "{\"traits\": {\"set\": {\"profile@traits.a\": \"event@id\"}}}", NULL,
           "[{\"port\":\"error\",\"value\":{\"message\":\"traits.set.profile@traits.a: the "
           "request has no such document (profile-less or session-less)\"}}]");
    assert_int_equal(f->ctx.changed, 0);
    assert_log(f, "error",
               "traits.set.profile@traits.a: the request has no such document (profile-less or "
               "session-less)");

    expect_fail(f, COPY, "{}", NULL, "traits: is required");
    expect_fail(f, COPY, "{\"traits\": {\"set\": []}}", NULL, "traits.set: must be an object");
    expect_fail(f, COPY, "{\"traits\": {\"set\": {\"flow@id\": \"x\"}}}", NULL,
                "traits.set.flow@id: 'flow@id' cannot be written, flow@ is read-only");
    expect_fail(f, COPY, "{\"traits\": {\"set\": {\"email\": \"x\"}}}", NULL,
                "traits.set.email: 'email' is not a reference");
    expect_fail(f, COPY, "{\"traits\": {\"set\": {\"profile@\": \"x\"}}}", NULL,
                "names a whole document");
}

static void test_update_profile(void **state)
{
    struct fx *f = *state;
    expect(f, UPDATE, "{}", "{\"a\":1}", "[]");
    assert_int_equal(f->ctx.changed, CH_PROFILE);
    f->ctx.changed = 0;
    drop_profile(f);
    expect(f, UPDATE, "{}", NULL, "[]");
    assert_int_equal(f->ctx.changed, 0);
    assert_log(f, "error", "Could not update profile within profile-less event.");
}

static void test_delete(void **state)
{
    struct fx *f = *state;
    expect(f, DELETE,
           "{\"delete\": [\"profile@traits.name\", \"payload@b\", \"profile@traits.nope\","
           "\"profile@traits.list.0\"]}",
           "{\"a\":1,\"b\":2}", "[{\"port\":\"payload\",\"value\":{\"a\":1}}]");
    assert_at(f, "profile@traits.name", NULL);
    assert_at(f, "profile@traits.list", "[\"b\"]");
    assert_int_equal(f->ctx.changed & CH_PROFILE, CH_PROFILE);
    f->ctx.changed = 0;
    expect(f, DELETE, "{\"delete\": [\"profile@traits.nope\"]}", NULL,
           "[{\"port\":\"payload\",\"value\":{}}]");
    assert_int_equal(f->ctx.changed, 0);
    drop_profile(f);
    expect(f, DELETE, "{\"delete\": [\"profile@traits.count\"]}", NULL,
           "[{\"port\":\"payload\",\"value\":{}}]");
    assert_int_equal(f->ctx.changed, 0);

    expect_fail(f, DELETE, "{}", NULL, "delete: must be a non-empty list");
    expect_fail(f, DELETE, "{\"delete\": []}", NULL, "delete: must be a non-empty list");
    expect_fail(f, DELETE, "{\"delete\": [\"profile@x\", 5]}", NULL,
                "delete.1: must be a reference");
    expect_fail(f, DELETE, "{\"delete\": [\"profile@...\"]}", NULL,
                "delete.0: 'profile@...' names a whole document");
    expect_fail(f, DELETE, "{\"delete\": [\"flow@id\"]}", NULL, "delete.0: 'flow@id' cannot");
    expect_fail(f, DELETE, "{\"delete\": [\"traits.x\"]}", NULL,
                "delete.0: 'traits.x' is not a reference");
}

static void test_counters(void **state)
{
    struct fx *f = *state;
    expect(f, INCR, "{\"field\": \"profile@traits.count\", \"increment\": \"3\"}", "{\"a\":1}",
           "[{\"port\":\"payload\",\"value\":{\"a\":1}}]");
    assert_at(f, "profile@traits.count", "5");
    assert_int_equal(f->ctx.changed, CH_PROFILE);
    expect(f, INCR, "{\"field\": \"profile@stats.counters.orders\"}", NULL,
           "[{\"port\":\"payload\",\"value\":{}}]");
    assert_at(f, "profile@stats.counters.orders", "1");
    assert_log(f, "warning",
               "Property `profile@stats.counters.orders` does not exist. Value "
               "set to 0.");
    expect(f, INCR, "{\"field\": \"profile@traits.nick\", \"increment\": 2}", NULL,
           "[{\"port\":\"payload\",\"value\":{}}]");
    assert_at(f, "profile@traits.nick", "2");
    expect(f, DECR, "{\"field\": \"profile@stats.visits\", \"decrement\": 2.5}", NULL,
           "[{\"port\":\"payload\",\"value\":{}}]");
    assert_at(f, "profile@stats.visits", "9.5");
    expect(f, DECR, "{\"field\": \"memory@n\", \"decrement\": 1}", NULL,
           "[{\"port\":\"payload\",\"value\":{}}]");
    assert_at(f, "memory@n", "-1");
    expect(f, INCR, "{\"field\": \"payload@n\", \"increment\": 1}", "{\"n\":1}",
           "[{\"port\":\"payload\",\"value\":{\"n\":2}}]");
    f->ctx.changed = 0;
    expect(f, INCR, "{\"field\": \"profile@traits.name\", \"increment\": 1}", "{\"a\":1}",
           "[{\"port\":\"error\",\"value\":{\"message\":\"Value of field "
           "'profile@traits.name' is not numeric.\"}}]");
    assert_at(f, "profile@traits.name", "\"Ann\"");
    assert_int_equal(f->ctx.changed, 0);
    assert_log(f, "error", "Value of field 'profile@traits.name' is not numeric.");
    expect(f, DECR, "{\"field\": \"profile@traits.list\", \"decrement\": 1}", NULL,
           "[{\"port\":\"error\",\"value\":{\"message\":\"Value of field "
           "'profile@traits.list' is not numeric.\"}}]");
    drop_profile(f);
    expect(f, INCR, "{\"field\": \"profile@stats.visits\", \"increment\": 1}", NULL,
           "[{\"port\":\"error\",\"value\":{\"message\":\"field: profile@stats.visits: the "
           "request has no such document (profile-less or session-less)\"}}]");
    assert_int_equal(f->ctx.changed, 0);

    expect_fail(f, INCR, "{\"increment\": 1}", NULL, "field: is required");
    expect_fail(f, INCR, "{\"field\": \"visits\"}", NULL, "field: 'visits' is not a reference");
    expect_fail(f, INCR, "{\"field\": \"flow@x\"}", NULL, "field: 'flow@x' cannot be written");
    expect_fail(f, INCR, "{\"field\": \"memory@x\", \"increment\": \"a lot\"}", NULL,
                "increment: must be a number");
    expect_fail(f, DECR, "{\"field\": \"memory@x\", \"decrement\": [1]}", NULL,
                "decrement: must be a number");
}

static void test_append(void **state)
{
    struct fx *f = *state;
    expect(f, APPEND,
           "{\"append\": {\"profile@traits.tags\": \"b\", \"profile@traits.list\": "
           "\"event@properties.items\", \"profile@traits.new\": \"event@properties.email\"}}",
           "{\"a\":1}", "[{\"port\":\"payload\",\"value\":{\"a\":1}}]");
    assert_at(f, "profile@traits.tags", "[\"a\",\"b\"]");
    assert_at(f, "profile@traits.list", "[\"a\",\"b\",\"c\"]");
    assert_at(f, "profile@traits.new", "[\"ann@example.com\"]");
    assert_int_equal(f->ctx.changed, CH_PROFILE);
    /* No duplicates; then remove a list of items and a single one. */
    expect(f, APPEND,
           "{\"append\": {\"profile@traits.tags\": \"a\"}, \"remove\": {\"profile@traits.list\": "
           "[\"a\", \"c\"], \"profile@traits.tags\": \"b\", \"profile@traits.nope\": \"x\"}}",
           NULL, "[{\"port\":\"payload\",\"value\":{}}]");
    assert_at(f, "profile@traits.tags", "[\"a\"]");
    assert_at(f, "profile@traits.list", "[\"b\"]");
    assert_at(f, "profile@traits.nope", NULL);
    expect(f, APPEND, "{\"append\": {\"payload@l\": {\"k\": 1}}}", "{\"l\":[{\"k\":1}]}",
           "[{\"port\":\"payload\",\"value\":{\"l\":[{\"k\":1}]}}]");
    expect_fail(f, APPEND, "{\"remove\": {\"profile@traits.name\": \"Ann\"}}", NULL,
                "remove.profile@traits.name: can not remove from non-list data");
    expect_fail(f, APPEND, "{\"append\": {\"profile@traits.tags\": \"event@nope\"}}", NULL,
                "append.profile@traits.tags: missing value for event@nope");
    drop_profile(f);
    expect_fail(f, APPEND, "{\"append\": {\"profile@traits.tags\": \"x\"}}", NULL,
                "append.profile@traits.tags: the request has no such document");

    expect_fail(f, APPEND, "{}", NULL, "append: define append or remove");
    expect_fail(f, APPEND, "{\"append\": [\"x\"]}", NULL, "append: must be an object");
    expect_fail(f, APPEND, "{\"remove\": 1}", NULL, "remove: must be an object");
    expect_fail(f, APPEND, "{\"append\": {\"target1\": \"source1\"}}", NULL,
                "append.target1: 'target1' is not a reference");
    expect_fail(f, APPEND, "{\"remove\": {\"flow@x\": \"a\"}}", NULL,
                "remove.flow@x: 'flow@x' cannot be written");
}

static void test_cut_out(void **state)
{
    struct fx *f = *state;
    expect(f, CUT, "{\"trait\": \"event@properties\"}", "{\"a\":1}",
           "[{\"port\":\"trait\",\"value\":{\"email\":\"ann@example.com\",\"total\":99.5,"
           "\"items\":[\"b\",\"c\"]}}]");
    expect(f, CUT, "{\"trait\": \"event@properties.total\", \"key\": \" total \"}", NULL,
           "[{\"port\":\"trait\",\"value\":{\"total\":99.5}}]");
    /* Non-object values go out as they are, as in Tracardi. */
    expect(f, CUT, "{\"trait\": \"event@properties.items\", \"key\": \"\"}", NULL,
           "[{\"port\":\"trait\",\"value\":[\"b\",\"c\"]}]");
    expect(f, CUT, "{\"trait\": \"profile@traits.name\"}", NULL,
           "[{\"port\":\"trait\",\"value\":\"Ann\"}]");
    /* null ends the branch. */
    expect(f, CUT, "{\"trait\": \"profile@traits.nick\"}", NULL, "[]");
    assert_int_equal(f->ctx.changed, 0);
    expect_fail(f, CUT, "{\"trait\": \"profile@traits.nope\"}", NULL,
                "trait: missing value for profile@traits.nope");
    drop_profile(f);
    expect_fail(f, CUT, "{\"trait\": \"profile@...\"}", NULL, "trait: missing value");
    expect_fail(f, CUT, "{\"trait\": \"\"}", NULL, "trait: is required");
    expect_fail(f, CUT, "{}", NULL, "trait: is required");
    expect_fail(f, CUT, "{\"trait\": \"properties\"}", NULL, "trait: 'properties' is not a");
    expect_fail(f, CUT, "{\"trait\": \"event@id\", \"key\": 1}", NULL, "key: must be text");
}

static void test_reshape(void **state)
{
    struct fx *f = *state;
    expect(f, RESHAPE,
           "{\"value\": \"{\\\"id\\\": \\\"profile@id\\\", \\\"a\\\": \\\"payload@a\\\", "
           "\\\"gone\\\": \\\"profile@nope\\\", \\\"opt?\\\": \\\"profile@nope\\\"}\", "
           "\"default\": true}",
           "{\"a\":1}", "[{\"port\":\"payload\",\"value\":{\"id\":\"p1\",\"a\":1,\"gone\":null}}]");
    expect(f, RESHAPE, "{\"value\": {\"e\": \"event@properties.email\", \"lit\": \"x\"}}", NULL,
           "[{\"port\":\"payload\",\"value\":{\"e\":\"ann@example.com\",\"lit\":\"x\"}}]");
    expect(f, RESHAPE, "{\"value\": \"\"}", NULL, "[{\"port\":\"payload\",\"value\":{}}]");
    expect(f, RESHAPE, "{\"value\": {\"g\": \"profile@nope\"}, \"default\": false}", NULL,
           "[{\"port\":\"error\",\"value\":{\"message\":\"value: missing value for "
           "profile@nope\"}}]");
    drop_profile(f);
    expect(f, RESHAPE, "{\"value\": {\"g\": \"profile@id\"}}", NULL,
           "[{\"port\":\"payload\",\"value\":{\"g\":null}}]");
    expect_fail(f, RESHAPE, "{\"value\": \"{oops\"}", NULL, "value: not valid JSON at byte 2");
    expect_fail(f, RESHAPE, "{\"value\": \"[1, 2]\"}", NULL, "value: must be a JSON object");
    expect_fail(f, RESHAPE, "{\"value\": 3}", NULL, "value: must be a JSON object");
    expect_fail(f, RESHAPE, "{\"value\": {}, \"default\": 1}", NULL,
                "default: must be true or false");
}

static void test_inject(void **state)
{
    struct fx *f = *state;
    expect(f, INJECT, "{\"value\": \"{\\\"a\\\": 1, \\\"who\\\": \\\"profile@id\\\"}\"}", NULL,
           "[{\"port\":\"payload\",\"value\":{\"a\":1,\"who\":\"p1\"}}]");
    expect(f, INJECT, "{\"value\": {\"b\": [1, 2]}, \"destination\": \"payload\"}", NULL,
           "[{\"port\":\"payload\",\"value\":{\"b\":[1,2]}}]");
    expect(f, INJECT, "{}", NULL, "[{\"port\":\"payload\",\"value\":{}}]");
    expect_fail(f, INJECT, "{\"value\": {\"x\": \"profile@nope\"}}", NULL,
                "value: missing value for profile@nope");
    expect_fail(f, INJECT, "{\"value\": \"nope\"}", NULL, "value: not valid JSON");
    expect_fail(f, INJECT, "{\"value\": {}, \"destination\": \"profile\"}", NULL,
                "destination: only \"payload\" is supported");
    assert_int_equal(f->ctx.changed, 0);
}

static void test_create_response(void **state)
{
    struct fx *f = *state;
    expect(f, RESP,
           "{\"key\": \"User Data\", \"body\": \"{\\\"id\\\": \\\"profile@id\\\", \\\"n\\\": "
           "{\\\"a\\\": 1}}\", \"default\": true}",
           "{\"p\":1}", "[{\"port\":\"payload\",\"value\":{\"id\":\"p1\",\"n\":{\"a\":1}}}]");
    assert_json(f->ctx.response, "{\"user_data\":{\"id\":\"p1\",\"n\":{\"a\":1}}}");
    /* Deep-merged into what is there; last wins. */
    expect(f, RESP, "{\"key\": \"user_data\", \"body\": {\"n\": {\"b\": 2}, \"id\": \"x\"}}", NULL,
           "[{\"port\":\"payload\",\"value\":{\"n\":{\"b\":2},\"id\":\"x\"}}]");
    expect(f, RESP, "{\"key\": \"other\", \"body\": {\"m\": \"profile@nope\"}}", NULL,
           "[{\"port\":\"payload\",\"value\":{\"m\":null}}]");
    assert_json(f->ctx.response,
                "{\"user_data\":{\"id\":\"x\",\"n\":{\"a\":1,\"b\":2}},\"other\":{\"m\":null}}");
    assert_int_equal(f->ctx.changed, 0);
    expect_fail(f, RESP,
                "{\"key\": \"k\", \"body\": {\"m\": \"profile@nope\"}, "
                "\"default\": false}",
                NULL, "body: missing value for profile@nope");
    expect_fail(f, RESP, "{\"body\": {}}", NULL, "key: is required");
    expect_fail(f, RESP, "{\"key\": \" \", \"body\": {}}", NULL, "key: is required");
    expect_fail(f, RESP, "{\"key\": \"k\", \"body\": \"{\"}", NULL, "body: not valid JSON");
    expect_fail(f, RESP, "{\"key\": \"k\", \"body\": [1]}", NULL, "body: must be a JSON object");
}

static void test_template(void **state)
{
    struct fx *f = *state;
    expect(f, TPL, "{\"template\": \"Hello {{profile@traits.name}}, {{payload@n}} items\"}",
           "{\"n\":3}",
           "[{\"port\":\"template\",\"value\":{\"template\":\"Hello Ann, 3 items\"}}]");
    expect(f, TPL, "{\"template\": \"\"}", NULL,
           "[{\"port\":\"template\",\"value\":{\"template\":\"\"}}]");
    drop_profile(f);
    expect_fail(f, TPL, "{\"template\": \"{{profile@id}}\"}", NULL,
                "template: missing value for profile@id");
    expect_fail(f, TPL, "{\"template\": \"{{ nope }}\"}", NULL, "template: not a reference");
    expect_fail(f, TPL, "{}", NULL, "template: is required");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        T(test_start),
        T(test_end),
        T(test_if),
        T(test_data_exists),
        T(test_join),
        T(test_log),
        T(test_raise_error),
        T(test_sleep),
        T(test_copy),
        T(test_update_profile),
        T(test_delete),
        T(test_counters),
        T(test_append),
        T(test_cut_out),
        T(test_reshape),
        T(test_inject),
        T(test_create_response),
        T(test_template),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
