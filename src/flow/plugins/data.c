/* Data plugins: Copy data, Update profile, Delete data, Increment / Decrement counter,
 * Append/Remove data, Cut out data, Inject payload, Inject, Create response and Template
 * (tracardi-flows.md §7 "Data processing and traits", "Stats and counters"). They read through
 * references and write only with cdp_flow_set / cdp_flow_delete / cdp_flow_touch, so the engine
 * knows which documents changed. Config field names are Tracardi's. */
#include "flow/flow.h"
#include "flow/plugins/util.h"

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "flow/template.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest text a string template may render to. */
#define TEMPLATE_MAX (256 * 1024)

/* --- config helpers --- */

/* Checks that ref can be written: a reference below a document other than flow@. what names
 * the config field in the message. */
static int check_target(const char *what, const char *ref, char *err, size_t errlen)
{
    struct cdp_path *p;
    if (!ref[0] || cdp_path_parse(ref, strlen(ref), &p) != 0) {
        snprintf(err, errlen, "%s: '%s' is not a reference (source@path)", what, ref);
        return CDP_E_INVALID;
    }
    enum cdp_path_source src = p->source;
    size_t nseg = p->nseg;
    cdp_path_free(p);
    if (src == CDP_PATH_FLOW) {
        snprintf(err, errlen, "%s: '%s' cannot be written, flow@ is read-only", what, ref);
        return CDP_E_INVALID;
    }
    if (nseg == 0) {
        snprintf(err, errlen, "%s: '%s' names a whole document; name a field inside it", what, ref);
        return CDP_E_INVALID;
    }
    return 0;
}

/* A required reference field that must be writable. */
static int get_target(const cJSON *init, const char *key, const char **out, char *err,
                      size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(init, key);
    if (!cJSON_IsString(v) || !v->valuestring[0]) {
        snprintf(err, errlen, "%s: is required (a reference such as profile@stats.counters.x)",
                 key);
        return CDP_E_INVALID;
    }
    *out = v->valuestring;
    return check_target(key, v->valuestring, err, errlen);
}

/* Why a write failed, in words. */
static const char *write_error(int rc)
{
    switch (rc) {
    case CDP_E_NOT_FOUND:
        return "the request has no such document (profile-less or session-less)";
    case CDP_E_FORBIDDEN:
        return "flow@ is read-only";
    case CDP_E_INVALID:
        return "a step of the path is not an object or list";
    default:
        return cdp_err_str(rc);
    }
}

/* A config value: a string with `{{` is a string template, anything else resolves as
 * cdp_flow_value does. NULL with *rc 0 when a reference is missing; msg says what. */
static cJSON *resolve(struct cdp_flow_call *c, const cJSON *spec, int *rc, char *msg, size_t msglen)
{
    *rc = 0;
    if (cJSON_IsString(spec) && strstr(spec->valuestring, "{{")) {
        struct cdp_buf b;
        cdp_buf_init(&b, TEMPLATE_MAX);
        int r = cdp_template_render(spec->valuestring, &c->refs, &b, msg, msglen);
        if (r) {
            cdp_buf_fini(&b);
            if (r == CDP_E_NOMEM)
                *rc = r;
            else if (r == CDP_E_TOO_LARGE)
                snprintf(msg, msglen, "the rendered text is longer than %d bytes", TEMPLATE_MAX);
            return NULL;
        }
        cJSON *s = cJSON_CreateString(b.len ? b.data : "");
        cdp_buf_fini(&b);
        if (!s)
            *rc = CDP_E_NOMEM;
        return s;
    }
    cJSON *v = cdp_flow_value(c, spec);
    if (!v)
        snprintf(msg, msglen, "missing value for %s",
                 cJSON_IsString(spec) ? spec->valuestring : "(value)");
    return v;
}

/* --- Copy data --- */

static int copy_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    (void)state;
    const cJSON *traits = cJSON_GetObjectItemCaseSensitive(init, "traits");
    if (!cJSON_IsObject(traits)) {
        snprintf(err, errlen, "traits: is required, an object {\"set\": {target: source}}");
        return CDP_E_INVALID;
    }
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(traits, "set");
    if (set && !cJSON_IsNull(set) && !cJSON_IsObject(set)) {
        snprintf(err, errlen, "traits.set: must be an object {target: source}");
        return CDP_E_INVALID;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, set)
    {
        char what[160];
        snprintf(what, sizeof(what), "traits.set.%s", it->string);
        int rc = check_target(what, it->string, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

/* All sources are resolved before anything is written, so a missing source changes nothing. */
static int copy_run(struct cdp_flow_call *c)
{
    const cJSON *set = cdp_json_get(c->init, "traits.set");
    int n = cJSON_IsObject(set) ? cJSON_GetArraySize(set) : 0, i = 0, rc = 0;
    if (n == 0)
        return cdp_emit_payload(c, "payload");
    cJSON **vals = calloc((size_t)n, sizeof(*vals));
    if (!vals)
        return CDP_E_NOMEM;
    const cJSON *it;
    cJSON_ArrayForEach(it, set)
    {
        char msg[256];
        vals[i] = resolve(c, it, &rc, msg, sizeof(msg));
        if (rc)
            goto out;
        if (!vals[i]) {
            rc = cdp_emit_error(c, "traits.set.%s: %s", it->string, msg);
            goto out;
        }
        i++;
    }
    i = 0;
    cJSON_ArrayForEach(it, set)
    {
        int w = cdp_flow_set(c, it->string, vals[i]);
        vals[i++] = NULL;
        if (w == CDP_E_NOMEM) {
            rc = w;
            goto out;
        }
        if (w) {
            rc = cdp_emit_error(c, "traits.set.%s: %s", it->string, write_error(w));
            goto out;
        }
    }
    rc = cdp_emit_payload(c, "payload");
out:
    for (int k = 0; k < n; k++)
        cJSON_Delete(vals[k]);
    free(vals);
    return rc;
}

static const struct cdp_plugin copy_plugin = {
    .id = "copy-data",
    .module = "tracardi.process_engine.action.v1.traits.copy_trait_action",
    .class_name = "CopyTraitAction",
    .name = "Copy data",
    .desc = "Copies data between the profile, session, event, payload and memory.",
    .group = "Data processing",
    .inputs = "payload",
    .outputs = "payload,error",
    .init = "{\"traits\": {\"set\": {}}}",
    .schema = CDP_SCHEMA_HEAD
    "\"properties\": {\"traits\": {\"title\": \"Define the copy/set actions\", \"description\": "
    "\"Pairs of target reference and source: a reference (event@properties.email), a template "
    "(\\\"Hi {{profile@traits.name}}\\\") or a literal value.\", \"type\": \"object\", "
    "\"properties\": {\"set\": {\"title\": \"Set to\", \"description\": \"target -> source\", "
    "\"type\": \"object\", \"propertyNames\": {\"pattern\": "
    "\"^(profile|session|event|payload|memory)@.+$\"}, \"default\": {}}}, \"required\": "
    "[\"set\"]}}, \"required\": [\"traits\"]}",
    .setup = copy_setup,
    .run = copy_run,
};

/* --- Update profile --- */

/* Every write persists in cdpd (cdp_flow_set marks the document), so this only marks the
 * profile changed; kept because Tracardi flows end with it. */
static int update_run(struct cdp_flow_call *c)
{
    if (!c->ctx->profile) {
        cdp_flow_log(c, "error", "Could not update profile within profile-less event.");
        return 0;
    }
    cdp_flow_touch(c, CDP_PATH_PROFILE);
    return 0;
}

static const struct cdp_plugin update_plugin = {
    .id = "update-profile",
    .module = "tracardi.process_engine.action.v1.operations.update_profile_action",
    .class_name = "UpdateProfileAction",
    .name = "Update profile",
    .desc = "Marks the profile for saving. Kept for compatibility: cdpd saves every write.",
    .group = "Operations",
    .inputs = "payload",
    .outputs = "",
    .init = "{}",
    .schema = CDP_SCHEMA_HEAD "\"properties\": {}, \"required\": []}",
    .run = update_run,
};

/* --- Delete data --- */

static int delete_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    (void)state;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(init, "delete");
    if (!cJSON_IsArray(list) || !list->child) {
        snprintf(err, errlen, "delete: must be a non-empty list of references");
        return CDP_E_INVALID;
    }
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        char what[32];
        snprintf(what, sizeof(what), "delete.%d", i++);
        if (!cJSON_IsString(it)) {
            snprintf(err, errlen, "%s: must be a reference", what);
            return CDP_E_INVALID;
        }
        int rc = check_target(what, it->valuestring, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

static int delete_run(struct cdp_flow_call *c)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(c->init, "delete"))
    {
        int rc = cdp_flow_delete(c, it->valuestring);
        if (rc == CDP_E_NOMEM)
            return rc;
        if (rc)
            return cdp_flow_fail(c, "delete: %s: %s", it->valuestring, write_error(rc));
    }
    return cdp_emit_payload(c, "payload");
}

static const struct cdp_plugin delete_plugin = {
    .id = "delete-data",
    .module = "tracardi.process_engine.action.v1.traits.delete_trait_action",
    .class_name = "DeleteTraitAction",
    .name = "Delete data",
    .desc = "Deletes fields from the profile, session, event, payload or memory.",
    .group = "Data processing",
    .inputs = "payload",
    .outputs = "payload",
    .init = "{\"delete\": []}",
    .schema = CDP_SCHEMA_HEAD
    "\"properties\": {\"delete\": {\"title\": \"Delete fields\", \"description\": \"References "
    "of the fields to delete, e.g. profile@traits.tmp.\", \"type\": \"array\", \"items\": "
    "{\"type\": \"string\", \"pattern\": \"^(profile|session|event|payload|memory)@.+$\"}, "
    "\"minItems\": 1}}, \"required\": [\"delete\"]}",
    .setup = delete_setup,
    .run = delete_run,
};

/* --- Increment / Decrement counter --- */

struct counter_state {
    char *field;
    double delta; /* signed: +increment or -decrement */
};

static void counter_free(void *state)
{
    struct counter_state *s = state;
    if (s)
        free(s->field);
    free(s);
}

static int counter_setup(const cJSON *init, void **state, char *err, size_t errlen, const char *key,
                         double sign)
{
    const char *field;
    double by;
    int rc;
    if ((rc = get_target(init, "field", &field, err, errlen)) ||
        (rc = cdp_cfg_number(init, key, 1, &by, err, errlen)))
        return rc;
    struct counter_state *s = calloc(1, sizeof(*s));
    if (!s || !(s->field = strdup(field))) {
        free(s);
        return CDP_E_NOMEM;
    }
    s->delta = sign * by;
    *state = s;
    return 0;
}

static int increment_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    return counter_setup(init, state, err, errlen, "increment", 1);
}

static int decrement_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    return counter_setup(init, state, err, errlen, "decrement", -1);
}

/* A missing or null field counts from 0 (with a warning when missing, as Tracardi). */
static int counter_run(struct cdp_flow_call *c)
{
    const struct counter_state *s = c->state;
    const cJSON *v = cdp_flow_get(c, s->field);
    double value = 0;
    if (!v)
        cdp_flow_log(c, "warning", "Property `%s` does not exist. Value set to 0.", s->field);
    else if (cJSON_IsNumber(v))
        value = v->valuedouble;
    else if (!cJSON_IsNull(v))
        return cdp_emit_error(c, "Value of field '%s' is not numeric.", s->field);
    int rc = cdp_flow_set(c, s->field, cJSON_CreateNumber(value + s->delta));
    if (rc == CDP_E_NOMEM)
        return rc;
    if (rc)
        return cdp_emit_error(c, "field: %s: %s", s->field, write_error(rc));
    return cdp_emit_payload(c, "payload");
}

#define COUNTER_SCHEMA(key, verb)                                                                  \
    CDP_SCHEMA_HEAD                                                                                \
    "\"properties\": {\"field\": {\"title\": \"Path to field\", \"description\": "                 \
    "\"The counter to " verb ", e.g. profile@stats.counters.boughtProducts. Missing "              \
    "counts from 0.\", \"type\": \"string\", \"format\": \"dot-path\"}, \"" key "\": "             \
    "{\"title\": \"" verb " by\", \"description\": \"The number to " verb " by.\", "               \
    "\"type\": [\"number\", \"string\"], \"default\": 1}}, \"required\": "                         \
    "[\"field\", \"" key "\"]}"

static const struct cdp_plugin increment_plugin = {
    .id = "increment",
    .module = "tracardi.process_engine.action.v1.increment_action",
    .class_name = "IncrementAction",
    .name = "Increment counter",
    .desc = "Increments a numeric field; returns the payload, or an error if it is not numeric.",
    .group = "Stats",
    .inputs = "payload",
    .outputs = "payload,error",
    .init = "{\"field\": \"profile@aux.counters\", \"increment\": 1}",
    .schema = COUNTER_SCHEMA("increment", "increment"),
    .setup = increment_setup,
    .free = counter_free,
    .run = counter_run,
};

static const struct cdp_plugin decrement_plugin = {
    .id = "decrement",
    .module = "tracardi.process_engine.action.v1.decrement_action",
    .class_name = "DecrementAction",
    .name = "Decrement counter",
    .desc = "Decrements a numeric field; returns the payload, or an error if it is not numeric.",
    .group = "Stats",
    .inputs = "payload",
    .outputs = "payload,error",
    .init = "{\"field\": \"profile@aux.counters\", \"decrement\": 1}",
    .schema = COUNTER_SCHEMA("decrement", "decrement"),
    .setup = decrement_setup,
    .free = counter_free,
    .run = counter_run,
};

/* --- Append/Remove data --- */

static int check_pairs(const cJSON *init, const char *key, bool *present, char *err, size_t errlen)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(init, key);
    *present = m && !cJSON_IsNull(m);
    if (!*present)
        return 0;
    if (!cJSON_IsObject(m)) {
        snprintf(err, errlen, "%s: must be an object {target: source}", key);
        return CDP_E_INVALID;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, m)
    {
        char what[160];
        snprintf(what, sizeof(what), "%s.%s", key, it->string);
        int rc = check_target(what, it->string, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

static int append_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    (void)state;
    bool has_append, has_remove;
    int rc;
    if ((rc = check_pairs(init, "append", &has_append, err, errlen)) ||
        (rc = check_pairs(init, "remove", &has_remove, err, errlen)))
        return rc;
    if (!has_append && !has_remove) {
        snprintf(err, errlen, "append: define append or remove");
        return CDP_E_INVALID;
    }
    return 0;
}

static bool list_has(const cJSON *list, const cJSON *v)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        if (cJSON_Compare(it, v, true))
            return true;
    }
    return false;
}

/* Appends v (each item when v is a list) to list unless already there. */
static int list_add(cJSON *list, const cJSON *v)
{
    const cJSON *it;
    if (cJSON_IsArray(v)) {
        cJSON_ArrayForEach(it, v)
        {
            int rc = list_add(list, it);
            if (rc)
                return rc;
        }
        return 0;
    }
    if (list_has(list, v))
        return 0;
    cJSON *d = cJSON_Duplicate(v, true);
    if (!d)
        return CDP_E_NOMEM;
    cJSON_AddItemToArray(list, d);
    return 0;
}

/* Removes every occurrence of v (of each item when v is a list) from list. */
static void list_remove(cJSON *list, const cJSON *v)
{
    const cJSON *it;
    if (cJSON_IsArray(v)) {
        cJSON_ArrayForEach(it, v)
        {
            list_remove(list, it);
        }
        return;
    }
    cJSON *item = list->child;
    while (item) {
        cJSON *next = item->next;
        if (cJSON_Compare(item, v, true))
            cJSON_Delete(cJSON_DetachItemViaPointer(list, item));
        item = next;
    }
}

/* One target of Append/Remove. The target becomes a list: an existing value that is not one is
 * wrapped ([value]), a missing target starts empty. Appending never duplicates an item; a list
 * source appends (or removes) its items. */
static int append_one(struct cdp_flow_call *c, const char *target, const cJSON *spec, bool add)
{
    int rc;
    char msg[256];
    cJSON *v = resolve(c, spec, &rc, msg, sizeof(msg));
    if (rc)
        return rc;
    if (!v)
        return cdp_flow_fail(c, "%s.%s: %s", add ? "append" : "remove", target, msg);
    const cJSON *cur = cdp_flow_get(c, target);
    cJSON *list = NULL;
    if (!add && !cur) {
        cJSON_Delete(v);
        return 0; /* nothing to remove from */
    }
    if (!add && !cJSON_IsArray(cur)) {
        cJSON_Delete(v);
        return cdp_flow_fail(c, "remove.%s: can not remove from non-list data", target);
    }
    if (cJSON_IsArray(cur)) {
        list = cJSON_Duplicate(cur, true);
    } else if ((list = cJSON_CreateArray()) && cur && !cJSON_IsNull(cur)) {
        cJSON *d = cJSON_Duplicate(cur, true);
        if (d)
            cJSON_AddItemToArray(list, d);
        else
            cJSON_Delete(list), list = NULL;
    }
    if (!list) {
        cJSON_Delete(v);
        return CDP_E_NOMEM;
    }
    if (add) {
        rc = list_add(list, v);
    } else {
        list_remove(list, v);
        rc = 0;
    }
    cJSON_Delete(v);
    if (rc) {
        cJSON_Delete(list);
        return rc;
    }
    rc = cdp_flow_set(c, target, list);
    if (rc && rc != CDP_E_NOMEM)
        return cdp_flow_fail(c, "%s.%s: %s", add ? "append" : "remove", target, write_error(rc));
    return rc;
}

static int append_run(struct cdp_flow_call *c)
{
    static const char *const ops[] = {"append", "remove"};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(c->init, ops[i]))
        {
            int rc = append_one(c, it->string, it, i == 0);
            if (rc)
                return rc;
        }
    }
    return cdp_emit_payload(c, "payload");
}

static const struct cdp_plugin append_plugin = {
    .id = "append-remove-data",
    .module = "tracardi.process_engine.action.v1.traits.append_trait_action",
    .class_name = "AppendTraitAction",
    .name = "Append/Remove data",
    .desc = "Appends data to, or removes data from, a list field.",
    .group = "Data processing",
    .inputs = "payload",
    .outputs = "payload",
    .init = "{\"append\": {\"target1\": \"source1\", \"target2\": \"source2\"}, \"remove\": "
            "{\"target\": [\"item1\", \"item2\"]}}",
    .schema = CDP_SCHEMA_HEAD
    "\"properties\": {\"append\": {\"title\": \"Append\", \"description\": \"target -> source: "
    "the source's value (each item of a list) is added to the target list unless already "
    "there.\", \"type\": \"object\", \"propertyNames\": {\"pattern\": "
    "\"^(profile|session|event|payload|memory)@.+$\"}}, \"remove\": {\"title\": \"Remove\", "
    "\"description\": \"target -> source: the source's value (each item of a list) is removed "
    "from the target list.\", \"type\": \"object\", \"propertyNames\": {\"pattern\": "
    "\"^(profile|session|event|payload|memory)@.+$\"}}}, \"anyOf\": [{\"required\": "
    "[\"append\"]}, {\"required\": [\"remove\"]}]}",
    .setup = append_setup,
    .run = append_run,
};

/* --- Cut out data --- */

static int cut_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    (void)state;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(init, "trait");
    if (!cJSON_IsString(t) || !t->valuestring[0]) {
        snprintf(err, errlen, "trait: is required (a reference such as event@properties)");
        return CDP_E_INVALID;
    }
    if (!cdp_path_is_ref(t->valuestring)) {
        snprintf(err, errlen, "trait: '%s' is not a reference (source@path)", t->valuestring);
        return CDP_E_INVALID;
    }
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(init, "key");
    if (k && !cJSON_IsNull(k) && !cJSON_IsString(k)) {
        snprintf(err, errlen, "key: must be text");
        return CDP_E_INVALID;
    }
    return 0;
}

/* The value goes out as it is (an object, but also a list or a scalar, as in Tracardi), or as
 * {key: value} when key is set. A missing reference stops the flow, as Tracardi's KeyError. */
static int cut_run(struct cdp_flow_call *c)
{
    const char *ref = cdp_json_str(c->init, "trait");
    const cJSON *v = cdp_flow_get(c, ref);
    if (!v)
        return cdp_flow_fail(c, "trait: missing value for %s", ref);
    cJSON *out = cJSON_Duplicate(v, true);
    if (!out)
        return CDP_E_NOMEM;
    const char *key = cdp_json_str(c->init, "key");
    char trimmed[256];
    if (key) {
        while (isspace((unsigned char)*key))
            key++;
        size_t n = strlen(key);
        while (n && isspace((unsigned char)key[n - 1]))
            n--;
        snprintf(trimmed, sizeof(trimmed), "%.*s", (int)n, key);
        key = trimmed[0] ? trimmed : NULL;
    }
    if (key) {
        cJSON *wrap = cJSON_CreateObject();
        if (!wrap) {
            cJSON_Delete(out);
            return CDP_E_NOMEM;
        }
        cJSON_AddItemToObject(wrap, key, out);
        out = wrap;
    }
    return cdp_flow_emit(c, "trait", out);
}

static const struct cdp_plugin cut_plugin = {
    .id = "cut-out-data",
    .module = "tracardi.process_engine.action.v1.traits.cut_out_trait_action",
    .class_name = "CutOutTraitAction",
    .name = "Cut out data",
    .desc = "Returns a part of the referenced data as the payload.",
    .group = "Data processing",
    .inputs = "payload",
    .outputs = "trait",
    .init = "{\"trait\": \"\", \"key\": \"\"}",
    .schema = CDP_SCHEMA_HEAD
    "\"properties\": {\"trait\": {\"title\": \"Path to data\", \"description\": \"The data to "
    "return as the payload, e.g. event@properties.\", \"type\": \"string\", \"format\": "
    "\"dot-path\", \"minLength\": 1}, \"key\": {\"title\": \"Return as\", \"description\": "
    "\"When set, the data is returned as {key: data}; empty returns it as it is.\", \"type\": "
    "\"string\", \"default\": \"\"}}, \"required\": [\"trait\"]}",
    .setup = cut_setup,
    .run = cut_run,
};

/* --- Inject payload, Inject, Create response: object templates --- */

struct tpl_state {
    cJSON *tpl;
    bool strict;
    char *key; /* Create response: the response key */
};

static void tpl_free(void *state)
{
    struct tpl_state *s = state;
    if (s) {
        cJSON_Delete(s->tpl);
        free(s->key);
    }
    free(s);
}

/* Builds the state of a template plugin: the template in field, strict unless `default`. */
static int tpl_setup(const cJSON *init, void **state, char *err, size_t errlen, const char *field,
                     bool def_default)
{
    bool def;
    cJSON *tpl;
    int rc;
    if ((rc = cdp_cfg_bool(init, "default", def_default, &def, err, errlen)) ||
        (rc = cdp_cfg_template(init, field, &tpl, err, errlen)))
        return rc;
    struct tpl_state *s = calloc(1, sizeof(*s));
    if (!s) {
        cJSON_Delete(tpl);
        return CDP_E_NOMEM;
    }
    s->tpl = tpl;
    s->strict = !def;
    *state = s;
    return 0;
}

/* Reshapes the template; NULL with a message when a reference is missing (strict). */
static cJSON *tpl_render(struct cdp_flow_call *c, int *rc, char *msg, size_t msglen)
{
    const struct tpl_state *s = c->state;
    cJSON *out = NULL;
    *rc = cdp_template_object(s->tpl, &c->refs, s->strict, &out, msg, msglen);
    return out;
}

static int reshape_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    return tpl_setup(init, state, err, errlen, "value", true);
}

static int reshape_run(struct cdp_flow_call *c)
{
    int rc;
    char msg[256];
    cJSON *out = tpl_render(c, &rc, msg, sizeof(msg));
    if (rc == CDP_E_NOMEM)
        return rc;
    if (rc)
        return cdp_emit_error(c, "value: %s", msg);
    return cdp_flow_emit(c, "payload", out);
}

static const struct cdp_plugin reshape_plugin = {
    .id = "inject-payload",
    .module = "tracardi.process_engine.action.v1.traits.reshape_payload_action",
    .class_name = "ReshapePayloadAction",
    .name = "Inject payload",
    .desc = "Creates a new payload from an object template.",
    .group = "Data processing",
    .inputs = "payload",
    .outputs = "payload,error",
    .init = "{\"value\": \"{}\", \"default\": true}",
    .schema = CDP_SCHEMA_HEAD
    "\"properties\": {\"value\": {\"title\": \"Object to inject\", \"description\": \"An object "
    "template: string leaves that are references (profile@id) are replaced by their values.\", "
    "\"type\": [\"object\", \"string\"], \"format\": \"object-template\", \"default\": \"{}\"}, "
    "\"default\": {\"title\": \"Missing values equal null\", \"description\": \"When off, a "
    "missing reference sends an error instead.\", \"type\": \"boolean\", \"default\": true}}, "
    "\"required\": [\"value\"]}",
    .setup = reshape_setup,
    .free = tpl_free,
    .run = reshape_run,
};

static int inject_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(init, "destination");
    if (d && !cJSON_IsNull(d) && !(cJSON_IsString(d) && strcmp(d->valuestring, "payload") == 0)) {
        snprintf(err, errlen, "destination: only \"payload\" is supported");
        return CDP_E_INVALID;
    }
    return tpl_setup(init, state, err, errlen, "value", false);
}

static int inject_run(struct cdp_flow_call *c)
{
    int rc;
    char msg[256];
    cJSON *out = tpl_render(c, &rc, msg, sizeof(msg));
    if (rc == CDP_E_NOMEM)
        return rc;
    if (rc)
        return cdp_flow_fail(c, "value: %s", msg);
    return cdp_flow_emit(c, "payload", out);
}

/* Tracardi registers Inject with start=True and debug=True: it starts flows in debug runs
 * only, to feed a test payload. */
static const struct cdp_plugin inject_plugin = {
    .id = "inject",
    .module = "tracardi.process_engine.action.v1.inject_action",
    .class_name = "InjectAction",
    .name = "Inject",
    .desc = "Starts a debug run with the given payload.",
    .group = "Input/Output",
    .inputs = "",
    .outputs = "payload",
    .init = "{\"value\": \"{}\"}",
    .schema = CDP_SCHEMA_HEAD
    "\"properties\": {\"value\": {\"title\": \"Object to inject\", \"description\": \"The "
    "payload, as a JSON object; string leaves that are references are replaced by their "
    "values.\", \"type\": [\"object\", \"string\"], \"format\": \"object-template\", "
    "\"default\": \"{}\"}, \"destination\": {\"title\": \"Destination\", \"description\": "
    "\"Where the value goes.\", \"type\": \"string\", \"enum\": [\"payload\"], \"default\": "
    "\"payload\"}}, \"required\": [\"value\"]}",
    .flags = CDP_PLUGIN_START | CDP_PLUGIN_DEBUG,
    .setup = inject_setup,
    .free = tpl_free,
    .run = inject_run,
};

/* Tracardi's key normalisation: spaces become underscores, letters lower case. */
static int response_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(init, "key");
    if (!cJSON_IsString(k) || !k->valuestring[strspn(k->valuestring, " ")]) {
        snprintf(err, errlen, "key: is required (the name of the response entry)");
        return CDP_E_INVALID;
    }
    char *key = strdup(k->valuestring);
    if (!key)
        return CDP_E_NOMEM;
    for (char *p = key; *p; p++)
        *p = *p == ' ' ? '_' : (char)tolower((unsigned char)*p);
    int rc = tpl_setup(init, state, err, errlen, "body", true);
    if (rc) {
        free(key);
        return rc;
    }
    ((struct tpl_state *)*state)->key = key;
    return 0;
}

/* Writes {key: body} into the shared response (deep-merged, last wins) and answers the body. */
static int response_run(struct cdp_flow_call *c)
{
    const struct tpl_state *s = c->state;
    int rc;
    char msg[256];
    cJSON *out = tpl_render(c, &rc, msg, sizeof(msg));
    if (rc == CDP_E_NOMEM)
        return rc;
    if (rc)
        return cdp_flow_fail(c, "body: %s", msg);
    cJSON *entry = cJSON_CreateObject();
    if (!entry || (!c->ctx->response && !(c->ctx->response = cJSON_CreateObject()))) {
        cJSON_Delete(entry);
        cJSON_Delete(out);
        return CDP_E_NOMEM;
    }
    cJSON_AddItemReferenceToObject(entry, s->key, out);
    cdp_json_merge(c->ctx->response, entry);
    cJSON_Delete(entry);
    return cdp_flow_emit(c, "payload", out);
}

static const struct cdp_plugin response_plugin = {
    .id = "create-response",
    .module = "tracardi.process_engine.action.v1.internal.add_response.plugin",
    .class_name = "CreateResponseAction",
    .name = "Create response",
    .desc = "Adds an object to the response returned to the tracker and returns it.",
    .group = "Data processing",
    .inputs = "payload",
    .outputs = "payload",
    .init = "{\"key\": \"\", \"body\": \"{}\", \"default\": true}",
    .schema = CDP_SCHEMA_HEAD
    "\"properties\": {\"key\": {\"title\": \"Response key name\", \"description\": \"The name "
    "of the entry in the response, e.g. user_name (spaces become _, letters lower case).\", "
    "\"type\": \"string\", \"minLength\": 1}, \"body\": {\"title\": \"Response object\", "
    "\"description\": \"An object template: string leaves that are references are replaced by "
    "their values.\", \"type\": [\"object\", \"string\"], \"format\": \"object-template\", "
    "\"default\": \"{}\"}, \"default\": {\"title\": \"Missing values equal null\", "
    "\"description\": \"When off, a missing reference stops the flow.\", \"type\": "
    "\"boolean\", \"default\": true}}, \"required\": [\"key\", \"body\"]}",
    .setup = response_setup,
    .free = tpl_free,
    .run = response_run,
};

/* --- Template --- */

static int template_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    (void)state;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(init, "template");
    if (!cJSON_IsString(t)) {
        snprintf(err, errlen, "template: is required (text; {{ source@path }} inserts values)");
        return CDP_E_INVALID;
    }
    return 0;
}

static int template_run(struct cdp_flow_call *c)
{
    struct cdp_buf b;
    char msg[256];
    cdp_buf_init(&b, TEMPLATE_MAX);
    int rc = cdp_template_render(cdp_json_str(c->init, "template"), &c->refs, &b, msg, sizeof(msg));
    if (rc) {
        cdp_buf_fini(&b);
        if (rc == CDP_E_NOMEM)
            return rc;
        if (rc == CDP_E_TOO_LARGE)
            return cdp_flow_fail(c, "template: the text is longer than %d bytes", TEMPLATE_MAX);
        return cdp_flow_fail(c, "template: %s", msg);
    }
    cJSON *out = cJSON_CreateObject();
    if (!out || !cJSON_AddStringToObject(out, "template", b.len ? b.data : "")) {
        cJSON_Delete(out);
        cdp_buf_fini(&b);
        return CDP_E_NOMEM;
    }
    cdp_buf_fini(&b);
    return cdp_flow_emit(c, "template", out);
}

static const struct cdp_plugin template_plugin = {
    .id = "template",
    .module = "tracardi.process_engine.action.v1.template_action",
    .class_name = "TemplateAction",
    .name = "Template",
    .desc = "Renders a text template and returns {\"template\": text}.",
    .group = "Data processing",
    .inputs = "payload",
    .outputs = "template",
    .init = "{\"template\": \"\"}",
    .schema = CDP_SCHEMA_HEAD
    "\"properties\": {\"template\": {\"title\": \"Template\", \"description\": \"Text in which "
    "{{ profile@data.pii.firstname }} inserts a value.\", \"type\": \"string\", \"format\": "
    "\"template\"}}, \"required\": [\"template\"]}",
    .setup = template_setup,
    .run = template_run,
};

const struct cdp_plugin *const cdp_plugins_data[] = {
    &copy_plugin,      &update_plugin,   &delete_plugin,   &increment_plugin,
    &decrement_plugin, &append_plugin,   &cut_plugin,      &reshape_plugin,
    &inject_plugin,    &response_plugin, &template_plugin, NULL,
};
