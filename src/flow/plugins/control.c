/* Flow-control plugins: Start, End, If, Data exists, Join, Log message, Throw error and Sleep
 * (tracardi-flows.md §7 "Flow / flow control" and "Error reporting"). Each is one descriptor
 * with Tracardi's module, class, ports and config field names; setup validates the node's config
 * once and compiles it (conditions, references) into a small state that run reads. */
#include "flow/flow.h"
#include "flow/plugins/util.h"

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "flow/template.h"
#include "flow/tql.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- config helpers --- */

/* A reference field: a string that is a whole `source@path` reference. */
static int get_ref(const cJSON *init, const char *key, const char **out, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(init, key);
    if (!cJSON_IsString(v) || !v->valuestring[0]) {
        snprintf(err, errlen, "%s: is required (a reference such as profile@traits.email)", key);
        return CDP_E_INVALID;
    }
    if (!cdp_path_is_ref(v->valuestring)) {
        snprintf(err, errlen, "%s: '%s' is not a reference (source@path)", key, v->valuestring);
        return CDP_E_INVALID;
    }
    *out = v->valuestring;
    return 0;
}

/* --- Start --- */

struct start_state {
    cJSON *types; /* array of accepted event type ids; empty accepts all */
};

static void start_free(void *state)
{
    struct start_state *s = state;
    if (s)
        cJSON_Delete(s->types);
    free(s);
}

static int start_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    bool debug;
    int rc = cdp_cfg_bool(init, "debug", false, &debug, err, errlen);
    if (rc)
        return rc;
    struct start_state *s = calloc(1, sizeof(*s));
    if (!s)
        return CDP_E_NOMEM;
    /* The GUI's event type picker stores {id, name}; hand-written flows use strings. */
    if ((rc = cdp_cfg_id_list(init, "event_types", "event types", "an event type", &s->types, err,
                              errlen))) {
        free(s);
        return rc;
    }
    *state = s;
    return 0;
}

/* Tracardi's production Start also copies `debug` into event@metadata.debug; cdpd leaves the
 * event alone (debug collection is the engine's run option), so nothing is written here. */
static int start_run(struct cdp_flow_call *c)
{
    const struct start_state *s = c->state;
    if (cJSON_GetArraySize(s->types) > 0) {
        const cJSON *type = cdp_flow_get(c, "event@type");
        bool ok = false;
        const cJSON *t;
        cJSON_ArrayForEach(t, s->types)
        {
            if (cJSON_IsString(type) && strcmp(t->valuestring, type->valuestring) == 0)
                ok = true;
        }
        if (!ok)
            return 0; /* another event type: the flow does not start */
    }
    return cdp_emit_payload(c, "payload");
}

static const struct cdp_plugin start_plugin = {
    .id = "start",
    .module = "tracardi.process_engine.action.v1.flow.start.start_action",
    .class_name = "StartAction",
    .name = "Start",
    .desc = "Starts the workflow and returns an empty payload.",
    .group = "Input/Output",
    .inputs = "",
    .outputs = "payload",
    .init = "{\"event_types\": [], \"debug\": false}",
    .schema = "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
              "\"type\": \"object\", \"properties\": {"
              "\"event_types\": {\"title\": \"Accept only the following event types\","
              "\"description\": \"The flow starts only for these event types; empty accepts all.\","
              "\"type\": \"array\", \"items\": {\"anyOf\": [{\"type\": \"string\"},"
              "{\"type\": \"object\", \"properties\": {\"id\": {\"type\": \"string\"},"
              "\"name\": {\"type\": \"string\"}}, \"required\": [\"id\"]}]}, \"default\": []},"
              "\"debug\": {\"title\": \"Collect debugging information\", \"description\": "
              "\"Accepted for compatibility; debugging is a run option in cdpd.\","
              "\"type\": \"boolean\", \"default\": false}}, \"required\": []}",
    .flags = CDP_PLUGIN_START,
    .setup = start_setup,
    .free = start_free,
    .run = start_run,
};

/* --- End --- */

static int end_run(struct cdp_flow_call *c)
{
    (void)c;
    return 0; /* answers on no port: the branch ends */
}

static const struct cdp_plugin end_plugin = {
    .id = "end",
    .module = "tracardi.process_engine.action.v1.end_action",
    .class_name = "EndAction",
    .name = "End",
    .desc = "Ends the workflow branch.",
    .group = "Input/Output",
    .inputs = "payload",
    .outputs = "",
    .init = "{}",
    .schema = "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
              "\"type\": \"object\", \"properties\": {}, \"required\": []}",
    .run = end_run,
};

/* --- If --- */

struct if_state {
    struct cdp_tql *q;
    bool pass_payload, trigger_once;
};

static void if_free(void *state)
{
    struct if_state *s = state;
    if (s)
        cdp_tql_free(s->q);
    free(s);
}

static int if_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const cJSON *cond = cJSON_GetObjectItemCaseSensitive(init, "condition");
    if (!cJSON_IsString(cond) || !cond->valuestring[strspn(cond->valuestring, " \t\r\n")]) {
        snprintf(err, errlen, "condition: is required");
        return CDP_E_INVALID;
    }
    bool pass, once;
    double ttl;
    int rc;
    if ((rc = cdp_cfg_bool(init, "pass_payload", true, &pass, err, errlen)) ||
        (rc = cdp_cfg_bool(init, "trigger_once", false, &once, err, errlen)) ||
        (rc = cdp_cfg_number(init, "ttl", 0, &ttl, err, errlen)))
        return rc;
    if (ttl < 0 || ttl != floor(ttl)) {
        snprintf(err, errlen, "ttl: must be a whole number of seconds, 0 or more");
        return CDP_E_INVALID;
    }
    struct if_state *s = calloc(1, sizeof(*s));
    if (!s)
        return CDP_E_NOMEM;
    char msg[256];
    if ((rc = cdp_tql_parse(cond->valuestring, &s->q, msg, sizeof(msg)))) {
        snprintf(err, errlen, "condition: %s", msg);
        free(s);
        return rc;
    }
    s->pass_payload = pass;
    s->trigger_once = once;
    *state = s;
    return 0;
}

/* trigger_once (fire only when the result changes, remembered per profile for ttl seconds in
 * Redis by Tracardi) is accepted but not implemented: cdpd has no value-threshold memory yet,
 * so the node fires every time and says so in the flow log. */
static int if_run(struct cdp_flow_call *c)
{
    const struct if_state *s = c->state;
    bool result;
    char msg[256];
    int rc = cdp_tql_eval(s->q, &c->refs, c->ctx->now_us, &result, msg, sizeof(msg));
    if (rc)
        return rc == CDP_E_NOMEM ? rc : cdp_flow_fail(c, "condition: %s", msg);
    if (s->trigger_once)
        cdp_flow_log(c, "warning",
                     "trigger_once is not supported; the condition fires on "
                     "every run");
    const char *port = result ? "true" : "false";
    if (s->pass_payload)
        return cdp_emit_payload(c, port);
    cJSON *v = cJSON_CreateObject();
    if (!v || !cJSON_AddBoolToObject(v, "result", result)) {
        cJSON_Delete(v);
        return CDP_E_NOMEM;
    }
    return cdp_flow_emit(c, port, v);
}

static const struct cdp_plugin if_plugin = {
    .id = "if",
    .module = "tracardi.process_engine.action.v1.if_action",
    .class_name = "IfAction",
    .name = "If",
    .desc = "Runs the true or the false branch depending on a condition.",
    .group = "Flow control",
    .inputs = "payload",
    .outputs = "true,false",
    .init = "{\"condition\": \"\", \"trigger_once\": false, \"pass_payload\": true, \"ttl\": 0}",
    .schema =
        "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
        "\"type\": \"object\", \"properties\": {"
        "\"condition\": {\"title\": \"If condition statement\", \"description\": \"A condition "
        "such as profile@stats.visits > 3 AND event@type == \\\"purchase\\\". When it is met the "
        "payload goes out on true, otherwise on false.\", \"type\": \"string\", \"minLength\": 1,"
        "\"format\": \"tql\"},"
        "\"pass_payload\": {\"title\": \"Return input payload instead of True/False\","
        "\"description\": \"When off, {\\\"result\\\": true|false} is returned.\","
        "\"type\": \"boolean\", \"default\": true},"
        "\"trigger_once\": {\"title\": \"Return value only once per condition change\","
        "\"description\": \"Accepted for compatibility; not implemented (fires every time).\","
        "\"type\": \"boolean\", \"default\": false},"
        "\"ttl\": {\"title\": \"Expire trigger again after\", \"description\": \"Seconds; used "
        "with trigger_once.\", \"type\": [\"integer\", \"string\"], \"minimum\": 0, \"default\": "
        "0}}, \"required\": [\"condition\"]}",
    .setup = if_setup,
    .free = if_free,
    .run = if_run,
};

/* --- Data exists --- */

struct ref_state {
    char *ref;
};

static void ref_free(void *state)
{
    struct ref_state *s = state;
    if (s)
        free(s->ref);
    free(s);
}

static int exists_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const char *ref;
    int rc = get_ref(init, "property", &ref, err, errlen);
    if (rc)
        return rc;
    struct ref_state *s = calloc(1, sizeof(*s));
    if (!s || !(s->ref = strdup(ref))) {
        free(s);
        return CDP_E_NOMEM;
    }
    *state = s;
    return 0;
}

static bool is_empty(const cJSON *v)
{
    return !v || cJSON_IsNull(v) || (cJSON_IsString(v) && !v->valuestring[0]) ||
           ((cJSON_IsArray(v) || cJSON_IsObject(v)) && !v->child);
}

static int exists_run(struct cdp_flow_call *c)
{
    const struct ref_state *s = c->state;
    return cdp_emit_payload(c, is_empty(cdp_flow_get(c, s->ref)) ? "false" : "true");
}

static const struct cdp_plugin exists_plugin = {
    .id = "data-exists",
    .module = "tracardi.process_engine.action.v1.flow.property_exists.plugin",
    .class_name = "PropertyExistsAction",
    .name = "Data exists",
    .desc = "Checks if the data property exists and is not empty.",
    .group = "Operations",
    .inputs = "payload",
    .outputs = "true,false",
    .init = "{\"property\": \"event@context.page.url\"}",
    .schema = "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
              "\"type\": \"object\", \"properties\": {"
              "\"property\": {\"title\": \"Data property to check\", \"description\": \"A "
              "reference such as profile@data.contact.email.main. true when it holds a value "
              "other than null, \\\"\\\", [] or {}.\", \"type\": \"string\", \"format\": "
              "\"dot-path\"}}, \"required\": [\"property\"]}",
    .setup = exists_setup,
    .free = ref_free,
    .run = exists_run,
};

/* --- Join --- */

struct join_state {
    cJSON *reshape; /* object template; empty: the joined payload goes out as is */
    bool strict;    /* !default: a missing reference fails instead of becoming null */
    bool list;      /* type "list": the branches' payloads as an array, in edge order */
};

static void join_free(void *state)
{
    struct join_state *s = state;
    if (s)
        cJSON_Delete(s->reshape);
    free(s);
}

static int join_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    bool def;
    int rc = cdp_cfg_bool(init, "default", true, &def, err, errlen);
    if (rc)
        return rc;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(init, "type");
    bool list = false;
    if (type && !cJSON_IsNull(type)) {
        if (!cJSON_IsString(type) ||
            (strcmp(type->valuestring, "dict") != 0 && strcmp(type->valuestring, "list") != 0)) {
            snprintf(err, errlen, "type: must be \"dict\" or \"list\"");
            return CDP_E_INVALID;
        }
        list = strcmp(type->valuestring, "list") == 0;
    }
    cJSON *tpl;
    if ((rc = cdp_cfg_template(init, "reshape", &tpl, err, errlen)))
        return rc;
    struct join_state *s = calloc(1, sizeof(*s));
    if (!s) {
        cJSON_Delete(tpl);
        return CDP_E_NOMEM;
    }
    s->reshape = tpl;
    s->strict = !def;
    s->list = list;
    *state = s;
    return 0;
}

/* The engine runs a Join once, with payload {<edge name or id>: <that edge's payload>}. */
static int join_run(struct cdp_flow_call *c)
{
    const struct join_state *s = c->state;
    cJSON *joined = cdp_flow_take_payload(c);
    if (!joined)
        return CDP_E_NOMEM;
    if (s->list && cJSON_IsObject(joined)) {
        cJSON *arr = cJSON_CreateArray();
        if (!arr) {
            cJSON_Delete(joined);
            return CDP_E_NOMEM;
        }
        while (joined->child)
            cJSON_AddItemToArray(arr, cJSON_DetachItemViaPointer(joined, joined->child));
        cJSON_Delete(joined);
        joined = arr;
    }
    if (!s->reshape->child)
        return cdp_flow_emit(c, "payload", joined);
    struct cdp_refs r = c->refs;
    r.payload = joined;
    cJSON *out;
    char msg[256];
    int rc = cdp_template_object(s->reshape, &r, s->strict, &out, msg, sizeof(msg));
    cJSON_Delete(joined);
    if (rc)
        return rc == CDP_E_NOMEM ? rc : cdp_flow_fail(c, "reshape: %s", msg);
    return cdp_flow_emit(c, "payload", out);
}

static const struct cdp_plugin join_plugin = {
    .id = "join",
    .module = "tracardi.process_engine.action.v1.operations.join_payloads.plugin",
    .class_name = "JoinPayloads",
    .name = "Join",
    .desc = "Joins the payloads of all incoming connections into one payload.",
    .group = "Operations",
    .inputs = "payload",
    .outputs = "payload",
    .init = "{\"reshape\": \"{}\", \"default\": true, \"type\": \"dict\"}",
    .schema =
        "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
        "\"type\": \"object\", \"properties\": {"
        "\"reshape\": {\"title\": \"Reshape output payload\", \"description\": \"An object "
        "template over references; payload@ is the joined payload, keyed by connection "
        "name. Empty: the joined payload as is.\", \"type\": [\"object\", \"string\"],"
        "\"format\": \"object-template\", \"default\": \"{}\"},"
        "\"type\": {\"title\": \"Type of join\", \"description\": \"dict keys the payloads by "
        "connection name; list collects them in a list.\", \"type\": \"string\","
        "\"enum\": [\"dict\", \"list\"], \"default\": \"dict\"},"
        "\"default\": {\"title\": \"Missing values equal null\", \"description\": \"When off, "
        "a missing reference in the reshape template stops the flow.\","
        "\"type\": \"boolean\", \"default\": true}}, \"required\": []}",
    .flags = CDP_PLUGIN_JOIN,
    .setup = join_setup,
    .free = join_free,
    .run = join_run,
};

/* --- Log message --- */

struct log_state {
    const char *type; /* static: "info", "warning" or "error" */
    char *message;    /* string template */
};

static void log_free(void *state)
{
    struct log_state *s = state;
    if (s)
        free(s->message);
    free(s);
}

static int log_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    static const char *const types[] = {"info", "warning", "error"};
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(init, "type");
    const char *type = NULL;
    if (!t || cJSON_IsNull(t)) {
        type = "warning";
    } else if (cJSON_IsString(t)) {
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strcmp(t->valuestring, types[i]) == 0)
                type = types[i];
    }
    if (!type) {
        snprintf(err, errlen, "type: must be one of info, warning, error");
        return CDP_E_INVALID;
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(init, "message");
    if (!cJSON_IsString(m)) {
        snprintf(err, errlen, "message: is required (text; {{ source@path }} inserts values)");
        return CDP_E_INVALID;
    }
    struct log_state *s = calloc(1, sizeof(*s));
    if (!s || !(s->message = strdup(m->valuestring))) {
        free(s);
        return CDP_E_NOMEM;
    }
    s->type = type;
    *state = s;
    return 0;
}

static int log_run(struct cdp_flow_call *c)
{
    const struct log_state *s = c->state;
    struct cdp_buf b;
    char msg[256];
    cdp_buf_init(&b, 64 * 1024);
    int rc = cdp_template_render(s->message, &c->refs, &b, msg, sizeof(msg));
    if (rc) {
        cdp_buf_fini(&b);
        if (rc == CDP_E_INVALID)
            return cdp_flow_fail(c, "message: %s", msg);
        return rc == CDP_E_NOMEM ? rc : cdp_flow_fail(c, "message: too long");
    }
    cdp_flow_log(c, s->type, "%s", b.len ? b.data : "");
    cdp_buf_fini(&b);
    return cdp_emit_payload(c, "payload");
}

static const struct cdp_plugin log_plugin = {
    .id = "log",
    .module = "tracardi.process_engine.action.v1.log_action",
    .class_name = "LogAction",
    .name = "Log message",
    .desc = "Logs a message to the flow log.",
    .group = "Error reporting",
    .inputs = "payload",
    .outputs = "payload",
    .init = "{\"type\": \"warning\", \"message\": \"<log-message>\"}",
    .schema = "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
              "\"type\": \"object\", \"properties\": {"
              "\"type\": {\"title\": \"Message type\", \"description\": \"The kind of log entry.\","
              "\"type\": \"string\", \"enum\": [\"warning\", \"error\", \"info\"], \"default\": "
              "\"warning\"},"
              "\"message\": {\"title\": \"Message\", \"description\": \"The text to log; {{ "
              "profile@traits.email }} inserts a value.\", \"type\": \"string\", \"format\": "
              "\"template\"}}, \"required\": [\"type\", \"message\"]}",
    .setup = log_setup,
    .free = log_free,
    .run = log_run,
};

/* --- Throw error --- */

struct text_state {
    char *text;
};

static void text_free(void *state)
{
    struct text_state *s = state;
    if (s)
        free(s->text);
    free(s);
}

static int raise_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(init, "message");
    const char *text = "Workflow stopped"; /* Tracardi's model default */
    if (m && !cJSON_IsNull(m)) {
        if (!cJSON_IsString(m)) {
            snprintf(err, errlen, "message: must be text");
            return CDP_E_INVALID;
        }
        text = m->valuestring;
    }
    struct text_state *s = calloc(1, sizeof(*s));
    if (!s || !(s->text = strdup(text))) {
        free(s);
        return CDP_E_NOMEM;
    }
    *state = s;
    return 0;
}

static int raise_run(struct cdp_flow_call *c)
{
    const struct text_state *s = c->state;
    return cdp_flow_fail(c, "%s", s->text);
}

static const struct cdp_plugin raise_plugin = {
    .id = "throw-error",
    .module = "tracardi.process_engine.action.v1.raise_error_action",
    .class_name = "RaiseErrorAction",
    .name = "Throw error",
    .desc = "Stops the workflow with an error message.",
    .group = "Error reporting",
    .inputs = "payload",
    .outputs = "",
    .init = "{\"message\": \"Flow stopped due to error.\"}",
    .schema = "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
              "\"type\": \"object\", \"properties\": {"
              "\"message\": {\"title\": \"Error message\", \"description\": \"The message the "
              "flow stops with.\", \"type\": \"string\", \"default\": \"Flow stopped due to "
              "error.\"}}, \"required\": [\"message\"]}",
    .setup = raise_setup,
    .free = text_free,
    .run = raise_run,
};

/* --- Sleep --- */

#define SLEEP_MAX_SECONDS 60.0

struct sleep_state {
    double wait;
};

static void sleep_free(void *state)
{
    free(state);
}

static int sleep_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    double wait;
    int rc = cdp_cfg_number(init, "wait", 1, &wait, err, errlen);
    if (rc)
        return rc;
    if (!(wait > 0 && wait <= SLEEP_MAX_SECONDS)) {
        snprintf(err, errlen, "wait: must be more than 0 and at most %g seconds",
                 SLEEP_MAX_SECONDS);
        return CDP_E_INVALID;
    }
    struct sleep_state *s = calloc(1, sizeof(*s));
    if (!s)
        return CDP_E_NOMEM;
    s->wait = wait;
    *state = s;
    return 0;
}

/* The first call asks the engine's caller to sleep; the second (io set) passes the payload. */
static int sleep_run(struct cdp_flow_call *c)
{
    const struct sleep_state *s = c->state;
    if (!c->io)
        return cdp_flow_wait_sleep(c, s->wait);
    return cdp_emit_payload(c, "payload");
}

static const struct cdp_plugin sleep_plugin = {
    .id = "sleep",
    .module = "tracardi.process_engine.action.v1.time.sleep_action",
    .class_name = "SleepAction",
    .name = "Sleep",
    .desc = "Waits the given number of seconds, then passes the payload on.",
    .group = "Time",
    .inputs = "payload",
    .outputs = "payload",
    .init = "{\"wait\": 1}",
    .schema =
        "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
        "\"type\": \"object\", \"properties\": {"
        "\"wait\": {\"title\": \"Wait time\", \"description\": \"Seconds to wait, more than 0 "
        "and at most 60.\", \"type\": [\"number\", \"string\"], \"exclusiveMinimum\": 0,"
        "\"maximum\": 60, \"default\": 1}}, \"required\": [\"wait\"]}",
    .setup = sleep_setup,
    .free = sleep_free,
    .run = sleep_run,
};

const struct cdp_plugin *const cdp_plugins_control[] = {
    &start_plugin, &end_plugin,   &if_plugin,    &exists_plugin, &join_plugin,
    &log_plugin,   &raise_plugin, &sleep_plugin, NULL,
};
