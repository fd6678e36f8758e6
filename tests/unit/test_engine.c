/* The workflow engine's semantics (tracardi-flows.md §4): compiling (errors name the node),
 * port routing, fan-in, Join, errors stopping only their flow, skip, unreachable nodes, waits
 * and resuming, the limits, and the debug trace. Flows use the real plugins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/json.h"
#include "flow/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- building flows --- */

static cJSON *node(const char *id, const char *cls, const char *init_json)
{
    char buf[2048];
    snprintf(buf, sizeof(buf),
             "{\"id\":\"%s\",\"data\":{\"spec\":{\"className\":\"%s\",\"init\":%s},"
             "\"metadata\":{\"name\":\"%s node\"}}}",
             id, cls, init_json ? init_json : "{}", id);
    cJSON *n = cJSON_Parse(buf);
    assert_non_null(n);
    return n;
}

static cJSON *edge(const char *src, const char *port, const char *dst, const char *name)
{
    char buf[512];
    snprintf(buf, sizeof(buf),
             "{\"id\":\"%s-%s-%s\",\"source\":\"%s\",\"sourceHandle\":\"%s\",\"target\":\"%s\","
             "\"targetHandle\":\"payload\",\"data\":{\"name\":\"%s\"}}",
             src, port, dst, src, port, dst, name ? name : "");
    cJSON *e = cJSON_Parse(buf);
    assert_non_null(e);
    return e;
}

struct graph {
    cJSON *doc, *nodes, *edges;
};

static struct graph graph(void)
{
    struct graph g;
    g.doc = cJSON_Parse("{\"id\":\"f1\",\"name\":\"Test flow\",\"flowGraph\":{\"nodes\":[],"
                        "\"edges\":[]}}");
    g.nodes = cdp_json_get(g.doc, "flowGraph.nodes");
    g.edges = cdp_json_get(g.doc, "flowGraph.edges");
    return g;
}

static void add_node(struct graph *g, const char *id, const char *cls, const char *init)
{
    cJSON_AddItemToArray(g->nodes, node(id, cls, init));
}

static void add_edge(struct graph *g, const char *src, const char *port, const char *dst)
{
    cJSON_AddItemToArray(g->edges, edge(src, port, dst, NULL));
}

static struct cdp_flow_plan *compile_ok(struct graph *g)
{
    struct cdp_flow_plan *p = NULL;
    char err[600] = "";
    int rc = cdp_flow_compile(g->doc, &p, err, sizeof(err));
    if (rc)
        fail_msg("compile: %s", err);
    cJSON_Delete(g->doc);
    return p;
}

static void compile_fails(struct graph *g, const char *needle)
{
    struct cdp_flow_plan *p = NULL;
    char err[600] = "";
    assert_int_equal(cdp_flow_compile(g->doc, &p, err, sizeof(err)), CDP_E_INVALID);
    assert_null(p);
    if (!strstr(err, needle))
        fail_msg("error `%s` does not mention `%s`", err, needle);
    cJSON_Delete(g->doc);
}

/* --- running --- */

static void ctx_init(struct cdp_flow_ctx *c)
{
    memset(c, 0, sizeof(*c));
    c->profile = cJSON_Parse("{\"id\":\"p1\",\"traits\":{},\"stats\":{\"counters\":{}},"
                             "\"segments\":[]}");
    c->session = cJSON_Parse("{\"id\":\"s1\"}");
    c->event = cJSON_Parse("{\"id\":\"e1\",\"type\":\"purchase\",\"properties\":{\"total\":120}}");
    c->now_us = (int64_t)1705579200 * 1000000;
}

static void ctx_fini(struct cdp_flow_ctx *c)
{
    cJSON_Delete(c->profile);
    cJSON_Delete(c->session);
    cJSON_Delete(c->event);
    cJSON_Delete(c->response);
    cJSON_Delete(c->ux);
    cJSON_Delete(c->logs);
    cJSON_Delete(c->merge);
}

/* Runs p to the end, answering every wait with an empty outcome; returns the step's code. */
static int run_all(struct cdp_flow_plan *p, struct cdp_flow_ctx *c, char *err, size_t errlen)
{
    struct cdp_flow_run *r = cdp_flow_run_new(p, c, 0, false);
    assert_non_null(r);
    int rc;
    while ((rc = cdp_flow_run_step(r)) == CDP_FLOW_WAIT)
        cdp_flow_run_resume(r, cJSON_CreateObject());
    if (err)
        snprintf(err, errlen, "%s", cdp_flow_run_error(r) ? cdp_flow_run_error(r) : "");
    cdp_flow_run_free(r);
    return rc;
}

static double number_at(const cJSON *doc, const char *path)
{
    const cJSON *v = cdp_json_get(doc, path);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

/* --- tests --- */

static void compile_errors_name_the_node(void **state)
{
    (void)state;
    struct graph g = graph();
    add_node(&g, "s", "StartAction", NULL);
    add_node(&g, "x", "NoSuchAction", NULL);
    add_edge(&g, "s", "payload", "x");
    compile_fails(&g, "x node");

    g = graph();
    add_node(&g, "a", "IfAction", "{\"condition\":\"event@type == \\\"a\\\"\"}");
    compile_fails(&g, "no start node");

    g = graph();
    add_node(&g, "s", "StartAction", NULL);
    add_node(&g, "if", "IfAction", "{\"condition\":\"event@type == \"}");
    add_edge(&g, "s", "payload", "if");
    compile_fails(&g, "if node");

    g = graph();
    add_node(&g, "s", "StartAction", NULL);
    add_node(&g, "a", "LogAction", "{\"type\":\"info\",\"message\":\"a\"}");
    add_node(&g, "b", "LogAction", "{\"type\":\"info\",\"message\":\"b\"}");
    add_edge(&g, "s", "payload", "a");
    add_edge(&g, "a", "payload", "b");
    add_edge(&g, "b", "payload", "a");
    compile_fails(&g, "cycle");

    g = graph();
    add_node(&g, "s", "StartAction", NULL);
    add_node(&g, "if", "IfAction", "{\"condition\":\"event@type == \\\"a\\\"\"}");
    add_edge(&g, "s", "yes", "if");
    compile_fails(&g, "no output port `yes`");

    g = graph();
    add_node(&g, "s", "StartAction", NULL);
    add_edge(&g, "s", "payload", "ghost");
    compile_fails(&g, "ghost");

    g = graph();
    add_node(&g, "s", "StartAction", NULL);
    add_node(&g, "s", "StartAction", NULL);
    compile_fails(&g, "duplicate node id");

    g = graph();
    cJSON_DeleteItemFromObject(cdp_json_get(g.doc, "flowGraph"), "nodes");
    compile_fails(&g, "nodes");
}

static void ports_route_only_their_edges(void **state)
{
    (void)state;
    struct graph g = graph();
    add_node(&g, "s", "StartAction", NULL);
    add_node(&g, "if", "IfAction", "{\"condition\":\"event@properties.total > 100\"}");
    add_node(&g, "yes", "CopyTraitAction",
             "{\"traits\":{\"set\":{\"profile@traits.big\":\"`true`\"}}}");
    add_node(&g, "no", "CopyTraitAction",
             "{\"traits\":{\"set\":{\"profile@traits.small\":\"`true`\"}}}");
    add_edge(&g, "s", "payload", "if");
    add_edge(&g, "if", "true", "yes");
    add_edge(&g, "if", "false", "no");
    struct cdp_flow_plan *p = compile_ok(&g);
    struct cdp_flow_ctx c;
    ctx_init(&c);
    assert_int_equal(run_all(p, &c, NULL, 0), 0);
    assert_true(cJSON_IsTrue(cdp_json_get(c.profile, "traits.big")));
    assert_null(cdp_json_get(c.profile, "traits.small"));
    assert_true(c.changed & CDP_FLOW_CHANGED(CDP_PATH_PROFILE));
    assert_false(c.changed & CDP_FLOW_CHANGED(CDP_PATH_SESSION));
    ctx_fini(&c);

    /* Nothing written: nothing marked changed. */
    ctx_init(&c);
    cJSON_SetNumberValue(cdp_json_get(c.event, "properties.total"), 5);
    assert_int_equal(run_all(p, &c, NULL, 0), 0);
    assert_true(cJSON_IsTrue(cdp_json_get(c.profile, "traits.small")));
    assert_null(cdp_json_get(c.profile, "traits.big"));
    ctx_fini(&c);
    cdp_flow_plan_unref(p);
}

static void fan_in_runs_once_per_input(void **state)
{
    (void)state;
    struct graph g = graph();
    add_node(&g, "s", "StartAction", NULL);
    add_node(&g, "a", "LogAction", "{\"type\":\"info\",\"message\":\"a\"}");
    add_node(&g, "b", "LogAction", "{\"type\":\"info\",\"message\":\"b\"}");
    add_node(&g, "inc", "IncrementAction",
             "{\"field\":\"profile@stats.counters.n\",\"increment\":1}");
    add_edge(&g, "s", "payload", "a");
    add_edge(&g, "s", "payload", "b");
    add_edge(&g, "a", "payload", "inc");
    add_edge(&g, "b", "payload", "inc");
    add_edge(&g, "b", "payload", "inc"); /* a duplicate edge collapses */
    struct cdp_flow_plan *p = compile_ok(&g);
    struct cdp_flow_ctx c;
    ctx_init(&c);
    assert_int_equal(run_all(p, &c, NULL, 0), 0);
    assert_int_equal((int)number_at(c.profile, "stats.counters.n"), 2);
    ctx_fini(&c);
    cdp_flow_plan_unref(p);
}

static void join_runs_once_with_every_branch(void **state)
{
    (void)state;
    struct graph g = graph();
    add_node(&g, "s", "StartAction", NULL);
    add_node(&g, "a", "ReshapePayloadAction", "{\"value\":{\"x\":1}}");
    add_node(&g, "b", "ReshapePayloadAction", "{\"value\":{\"y\":2}}");
    add_node(&g, "j", "JoinPayloads", NULL);
    add_node(&g, "inc", "IncrementAction",
             "{\"field\":\"profile@stats.counters.joined\",\"increment\":1}");
    add_node(&g, "r", "CreateResponseAction",
             "{\"key\":\"joined\",\"body\":{\"a\":\"payload@left.x\",\"b\":\"payload@right.y\"}}");
    add_edge(&g, "s", "payload", "a");
    add_edge(&g, "s", "payload", "b");
    cJSON_AddItemToArray(g.edges, edge("a", "payload", "j", "left"));
    cJSON_AddItemToArray(g.edges, edge("b", "payload", "j", "right"));
    add_edge(&g, "j", "payload", "inc");
    add_edge(&g, "j", "payload", "r");
    struct cdp_flow_plan *p = compile_ok(&g);
    struct cdp_flow_ctx c;
    ctx_init(&c);
    char err[600];
    assert_int_equal(run_all(p, &c, err, sizeof(err)), 0);
    assert_int_equal((int)number_at(c.profile, "stats.counters.joined"), 1);
    assert_int_equal((int)number_at(c.response, "joined.a"), 1);
    assert_int_equal((int)number_at(c.response, "joined.b"), 2);
    ctx_fini(&c);
    cdp_flow_plan_unref(p);
}

static void a_failing_node_stops_its_flow(void **state)
{
    (void)state;
    struct graph g = graph();
    add_node(&g, "s", "StartAction", NULL);
    add_node(&g, "early", "CopyTraitAction",
             "{\"traits\":{\"set\":{\"profile@traits.early\":\"`true`\"}}}");
    add_node(&g, "cut", "CutOutTraitAction", "{\"trait\":\"event@properties.missing\"}");
    add_node(&g, "after", "CopyTraitAction",
             "{\"traits\":{\"set\":{\"profile@traits.after\":\"`true`\"}}}");
    add_edge(&g, "s", "payload", "early");
    add_edge(&g, "early", "payload", "cut");
    add_edge(&g, "cut", "trait", "after");
    struct cdp_flow_plan *p = compile_ok(&g);
    struct cdp_flow_ctx c;
    ctx_init(&c);
    char err[600];
    assert_true(run_all(p, &c, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "Test flow"));
    assert_non_null(strstr(err, "cut node"));
    assert_true(cJSON_IsTrue(cdp_json_get(c.profile, "traits.early")));
    assert_null(cdp_json_get(c.profile, "traits.after"));
    ctx_fini(&c);
    cdp_flow_plan_unref(p);

    /* Throw error stops with its message; it has no output port to connect. */
    g = graph();
    add_node(&g, "s", "StartAction", NULL);
    add_node(&g, "boom", "RaiseErrorAction", "{\"message\":\"out of stock\"}");
    add_node(&g, "after", "LogAction", "{\"type\":\"info\",\"message\":\"x\"}");
    add_edge(&g, "s", "payload", "boom");
    add_edge(&g, "boom", "payload", "after");
    compile_fails(&g, "no output port");
    g = graph();
    add_node(&g, "s", "StartAction", NULL);
    add_node(&g, "boom", "RaiseErrorAction", "{\"message\":\"out of stock\"}");
    add_edge(&g, "s", "payload", "boom");
    p = compile_ok(&g);
    ctx_init(&c);
    assert_true(run_all(p, &c, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "out of stock"));
    ctx_fini(&c);
    cdp_flow_plan_unref(p);
}

static void unreachable_and_skipped_nodes(void **state)
{
    (void)state;
    struct graph g = graph();
    add_node(&g, "s", "StartAction", NULL);
    add_node(&g, "if", "IfAction", "{\"condition\":\"event@type == \\\"never\\\"\"}");
    cJSON_AddBoolToObject(cdp_json_get(cJSON_GetArrayItem(g.nodes, 1), "data.spec"), "skip", 1);
    add_node(&g, "t", "IncrementAction", "{\"field\":\"profile@stats.counters.t\"}");
    add_node(&g, "f", "IncrementAction", "{\"field\":\"profile@stats.counters.f\"}");
    add_node(&g, "island", "IncrementAction", "{\"field\":\"profile@stats.counters.island\"}");
    add_edge(&g, "s", "payload", "if");
    add_edge(&g, "if", "true", "t");
    add_edge(&g, "if", "false", "f");
    struct cdp_flow_plan *p = compile_ok(&g);
    struct cdp_flow_ctx c;
    ctx_init(&c);
    assert_int_equal(run_all(p, &c, NULL, 0), 0);
    /* skip: the input goes out on every port */
    assert_int_equal((int)number_at(c.profile, "stats.counters.t"), 1);
    assert_int_equal((int)number_at(c.profile, "stats.counters.f"), 1);
    assert_null(cdp_json_get(c.profile, "stats.counters.island"));
    ctx_fini(&c);
    cdp_flow_plan_unref(p);
}

static void execution_limit(void **state)
{
    (void)state;
    /* Each node gets two inputs from the two before it: runs grow like Fibonacci. */
    struct graph g = graph();
    add_node(&g, "n0", "StartAction", NULL);
    char id[16], prev[16], prev2[16];
    for (int i = 1; i <= 20; i++) {
        snprintf(id, sizeof(id), "n%d", i);
        add_node(&g, id, "LogAction", "{\"type\":\"info\",\"message\":\"x\"}");
        snprintf(prev, sizeof(prev), "n%d", i - 1);
        add_edge(&g, prev, "payload", id);
        if (i >= 2) {
            snprintf(prev2, sizeof(prev2), "n%d", i - 2);
            add_edge(&g, prev2, "payload", id);
        }
    }
    struct cdp_flow_plan *p = compile_ok(&g);
    struct cdp_flow_ctx c;
    ctx_init(&c);
    char err[600];
    assert_true(run_all(p, &c, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "node executions"));
    assert_true(cJSON_GetArraySize(c.logs) <= CDP_FLOW_MAX_EXECUTIONS);
    ctx_fini(&c);
    cdp_flow_plan_unref(p);
}

static struct cdp_flow_plan *sleepy(void)
{
    struct graph g = graph();
    add_node(&g, "s", "StartAction", NULL);
    add_node(&g, "zz", "SleepAction", "{\"wait\":5}");
    add_node(&g, "after", "CopyTraitAction",
             "{\"traits\":{\"set\":{\"profile@traits.woke\":\"`true`\"}}}");
    add_edge(&g, "s", "payload", "zz");
    add_edge(&g, "zz", "payload", "after");
    return compile_ok(&g);
}

static void waits_park_and_resume(void **state)
{
    (void)state;
    struct cdp_flow_plan *p = sleepy();
    struct cdp_flow_ctx c;
    ctx_init(&c);
    struct cdp_flow_run *r = cdp_flow_run_new(p, &c, 0, false);
    assert_int_equal(cdp_flow_run_step(r), CDP_FLOW_WAIT);
    const struct cdp_flow_wait *w = cdp_flow_run_wait(r);
    assert_non_null(w);
    assert_int_equal(w->kind, CDP_WAIT_SLEEP);
    assert_true(w->seconds == 5);
    assert_null(cdp_json_get(c.profile, "traits.woke"));
    cdp_flow_run_resume(r, cJSON_CreateObject());
    assert_int_equal(cdp_flow_run_step(r), 0);
    assert_true(cJSON_IsTrue(cdp_json_get(c.profile, "traits.woke")));
    cdp_flow_run_free(r);

    /* A wait is cut to the time limit, and the flow ends there. */
    cJSON_DeleteItemFromObject(cdp_json_get(c.profile, "traits"), "woke");
    r = cdp_flow_run_new(p, &c, 50 * 1000, false);
    assert_int_equal(cdp_flow_run_step(r), CDP_FLOW_WAIT);
    assert_true(cdp_flow_run_wait(r)->seconds <= 0.05);
    cdp_flow_run_resume(r, cJSON_CreateObject());
    assert_true(cdp_flow_run_step(r) < 0);
    assert_non_null(strstr(cdp_flow_run_error(r), "time limit"));
    assert_null(cdp_json_get(c.profile, "traits.woke"));
    cdp_flow_run_free(r);

    /* Past the limit before a node starts. */
    r = cdp_flow_run_new(p, &c, 1, false);
    struct timespec ms = {0, 2 * 1000 * 1000};
    nanosleep(&ms, NULL);
    assert_true(cdp_flow_run_step(r) < 0);
    assert_non_null(strstr(cdp_flow_run_error(r), "time limit"));
    cdp_flow_run_free(r);
    ctx_fini(&c);
    cdp_flow_plan_unref(p);
}

static void trace_records_calls_and_edges(void **state)
{
    (void)state;
    struct graph g = graph();
    add_node(&g, "s", "StartAction", NULL);
    add_node(&g, "if", "IfAction", "{\"condition\":\"event@properties.total > 100\"}");
    add_node(&g, "yes", "IncrementAction", "{\"field\":\"profile@stats.counters.y\"}");
    add_node(&g, "no", "IncrementAction", "{\"field\":\"profile@stats.counters.n\"}");
    add_edge(&g, "s", "payload", "if");
    add_edge(&g, "if", "true", "yes");
    add_edge(&g, "if", "false", "no");
    struct cdp_flow_plan *p = compile_ok(&g);
    assert_string_equal(cdp_flow_plan_id(p), "f1");
    assert_string_equal(cdp_flow_plan_name(p), "Test flow");
    struct cdp_flow_ctx c;
    ctx_init(&c);
    c.debug = true;
    struct cdp_flow_run *r = cdp_flow_run_new(p, &c, 0, true);
    assert_int_equal(cdp_flow_run_step(r), 0);
    const cJSON *t = cdp_flow_run_trace(r);
    assert_string_equal(cdp_json_str(t, "flow.id"), "f1");
    const cJSON *ifn = cdp_json_get(t, "nodes.if");
    assert_non_null(ifn);
    assert_int_equal((int)number_at(ifn, "executionNumber"), 1);
    const cJSON *call = cJSON_GetArrayItem(cdp_json_get(ifn, "calls"), 0);
    assert_string_equal(cdp_json_str(call, "input.edge.id"), "s-payload-if");
    const cJSON *res = cJSON_GetArrayItem(cdp_json_get(call, "output.results"), 0);
    assert_string_equal(cdp_json_str(res, "port"), "true");
    assert_non_null(cdp_json_get(t, "nodes.yes"));
    assert_null(cdp_json_get(t, "nodes.no"));
    const cJSON *act = cdp_json_get(cdp_json_get(t, "edges"), "if-true-yes");
    assert_true(cJSON_IsTrue(cJSON_GetArrayItem(cdp_json_get(act, "active"), 0)));
    cdp_flow_run_free(r);
    ctx_fini(&c);
    cdp_flow_plan_unref(p);
}

static void debug_only_nodes_run_only_when_debugging(void **state)
{
    (void)state;
    struct graph g = graph();
    add_node(&g, "inj", "InjectAction", "{\"value\":{\"x\":7},\"destination\":\"payload\"}");
    add_node(&g, "s", "StartAction", NULL);
    add_node(&g, "inc", "IncrementAction", "{\"field\":\"profile@stats.counters.i\"}");
    add_edge(&g, "inj", "payload", "inc");
    add_edge(&g, "s", "payload", "inc");
    struct cdp_flow_plan *p = compile_ok(&g);
    struct cdp_flow_ctx c;
    ctx_init(&c);
    assert_int_equal(run_all(p, &c, NULL, 0), 0);
    assert_int_equal((int)number_at(c.profile, "stats.counters.i"), 1);
    c.debug = true;
    assert_int_equal(run_all(p, &c, NULL, 0), 0);
    assert_int_equal((int)number_at(c.profile, "stats.counters.i"), 3);
    ctx_fini(&c);
    cdp_flow_plan_unref(p);
}

static void plans_are_shared_by_reference(void **state)
{
    (void)state;
    struct cdp_flow_plan *p = sleepy();
    struct cdp_flow_ctx c;
    ctx_init(&c);
    struct cdp_flow_run *r = cdp_flow_run_new(p, &c, 0, false);
    cdp_flow_plan_unref(p); /* the run keeps it alive */
    assert_int_equal(cdp_flow_run_step(r), CDP_FLOW_WAIT);
    cdp_flow_run_resume(r, cJSON_CreateObject());
    assert_int_equal(cdp_flow_run_step(r), 0);
    cdp_flow_run_free(r);
    ctx_fini(&c);
}

/* --- the plugin registry as a whole --- */

struct reg {
    const struct cdp_plugin *seen[256];
    int n;
};

static void check_plugin(void *ud, const struct cdp_plugin *p)
{
    struct reg *r = ud;
    for (int i = 0; i < r->n; i++) {
        if (strcmp(r->seen[i]->id, p->id) == 0)
            fail_msg("two plugins with id %s", p->id);
        if (p->class_name && r->seen[i]->class_name &&
            strcmp(r->seen[i]->class_name, p->class_name) == 0)
            fail_msg("two plugins with class %s", p->class_name);
    }
    assert_true(r->n < 256);
    r->seen[r->n++] = p;
    /* Found by Tracardi's names and by cdpd's id. */
    assert_ptr_equal(cdp_plugin_find(p->module, p->class_name), p);
    assert_ptr_equal(cdp_plugin_find(p->id, NULL), p);
    assert_ptr_equal(cdp_plugin_find(NULL, p->id), p);
    if (p->class_name) {
        assert_ptr_equal(cdp_plugin_find(NULL, p->class_name), p);
        assert_non_null(strstr(p->module, "tracardi.process_engine.action.v1."));
    } else {
        char want[128];
        snprintf(want, sizeof(want), "cdpd.plugin.%s", p->id);
        assert_string_equal(p->module, want);
    }
    assert_non_null(p->run);
    assert_true(p->name && *p->name && p->desc && *p->desc && p->group && *p->group);
    /* The default config and a schema a form can be generated from. */
    cJSON *init = cJSON_Parse(p->init), *schema = cJSON_Parse(p->schema);
    if (!cJSON_IsObject(init) || !cJSON_IsObject(schema))
        fail_msg("%s: init or schema is not a JSON object", p->id);
    assert_string_equal(cdp_json_str(schema, "type"), "object");
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
    assert_true(cJSON_IsObject(props));
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(schema, "required"))
    {
        if (!cJSON_IsString(it) || !cJSON_GetObjectItemCaseSensitive(props, it->valuestring))
            fail_msg("%s: a required field is not a property", p->id);
    }
    cJSON_ArrayForEach(it, props)
    {
        if (!cdp_json_str(it, "title") || !cdp_json_str(it, "description"))
            fail_msg("%s: property %s lacks title or description", p->id, it->string);
    }
    cJSON_ArrayForEach(it, init)
    {
        if (!cJSON_GetObjectItemCaseSensitive(props, it->string))
            fail_msg("%s: default config field %s is not in the schema", p->id, it->string);
    }
    cJSON *d = cdp_plugin_describe(p);
    assert_string_equal(cdp_json_str(d, "spec.module"), p->module);
    assert_true(cJSON_IsObject(cdp_json_get(d, "spec.schema")));
    cJSON_Delete(d);
    cJSON_Delete(init);
    cJSON_Delete(schema);
}

static void registry_is_consistent(void **state)
{
    (void)state;
    struct reg r = {.n = 0};
    cdp_plugin_each(check_plugin, &r);
    assert_true(r.n >= 40);
    assert_null(cdp_plugin_find("tracardi.nope", "Nope"));
    assert_null(cdp_plugin_find(NULL, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(compile_errors_name_the_node),
        cmocka_unit_test(ports_route_only_their_edges),
        cmocka_unit_test(fan_in_runs_once_per_input),
        cmocka_unit_test(join_runs_once_with_every_branch),
        cmocka_unit_test(a_failing_node_stops_its_flow),
        cmocka_unit_test(unreachable_and_skipped_nodes),
        cmocka_unit_test(execution_limit),
        cmocka_unit_test(waits_park_and_resume),
        cmocka_unit_test(trace_records_calls_and_edges),
        cmocka_unit_test(debug_only_nodes_run_only_when_debugging),
        cmocka_unit_test(plans_are_shared_by_reference),
        cmocka_unit_test(registry_is_consistent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
