/* What a plugin's run may do (flow/flow.h): emit on ports, fail, log, read and write the
 * documents through references, ask for a wait; and the plugin registry. */
#include "flow/flow.h"

#include "core/err.h"
#include "core/json.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cdp_flow_wait_clear(struct cdp_flow_wait *w)
{
    free(w->method);
    free(w->url);
    free(w->body);
    cJSON_Delete(w->headers);
    memset(w, 0, sizeof(*w));
}

int cdp_flow_emit(struct cdp_flow_call *c, const char *port, cJSON *value)
{
    if (!value || cJSON_IsNull(value)) {
        cJSON_Delete(value);
        return 0; /* a null result ends the branch (§4.3) */
    }
    if (!c->out && !(c->out = cJSON_CreateArray())) {
        cJSON_Delete(value);
        return CDP_E_NOMEM;
    }
    cJSON *r = cJSON_CreateObject(), *p = cJSON_CreateString(port);
    if (!r || !p) {
        cJSON_Delete(r);
        cJSON_Delete(p);
        cJSON_Delete(value);
        return CDP_E_NOMEM;
    }
    cJSON_AddItemToObjectCS(r, "port", p); /* constant keys: not copied */
    cJSON_AddItemToObjectCS(r, "value", value);
    cJSON_AddItemToArray(c->out, r);
    return 0;
}

cJSON *cdp_flow_take_payload(struct cdp_flow_call *c)
{
    cJSON *p = c->payload ? c->payload : cJSON_CreateObject();
    c->payload = c->refs.payload = NULL;
    return p;
}

int cdp_flow_fail(struct cdp_flow_call *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    free(c->error);
    c->error = strdup(msg);
    return CDP_E_INVALID;
}

void cdp_flow_log(struct cdp_flow_call *c, const char *type, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!c->ctx->logs && !(c->ctx->logs = cJSON_CreateArray()))
        return;
    cJSON *l = cJSON_CreateObject();
    if (!l)
        return;
    cdp_json_put_str(l, "type", type);
    cdp_json_put_str(l, "message", msg);
    cdp_json_put_str(l, "flow_id", cdp_json_str(c->refs.flow, "id"));
    cdp_json_put_str(l, "node_id", c->node_id);
    cJSON_AddItemToArray(c->ctx->logs, l);
}

const cJSON *cdp_flow_get(const struct cdp_flow_call *c, const char *ref)
{
    return cdp_path_get(&c->refs, ref);
}

/* Tracardi's backtick cast: true/false, null/none, numbers; anything else stays a string. */
static cJSON *cast(const cJSON *v)
{
    if (!cJSON_IsString(v))
        return cJSON_Duplicate(v, true);
    const char *s = v->valuestring;
    if (strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0)
        return cJSON_CreateBool(strcasecmp(s, "true") == 0);
    if (strcasecmp(s, "null") == 0 || strcasecmp(s, "none") == 0)
        return cJSON_CreateNull();
    char *end;
    double d = strtod(s, &end);
    if (*s && !isspace((unsigned char)*s) && *end == '\0')
        return cJSON_CreateNumber(d);
    return cJSON_CreateString(s);
}

cJSON *cdp_flow_value(const struct cdp_flow_call *c, const cJSON *spec)
{
    if (!spec)
        return NULL;
    if (!cJSON_IsString(spec))
        return cJSON_Duplicate(spec, true);
    const char *s = spec->valuestring;
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '`' && s[n - 1] == '`') {
        char *inner = strndup(s + 1, n - 2);
        if (!inner)
            return NULL;
        cJSON *out = NULL;
        if (cdp_path_is_ref(inner)) {
            const cJSON *v = cdp_path_get(&c->refs, inner);
            out = v ? cast(v) : NULL;
        } else {
            cJSON *lit = cJSON_CreateString(inner);
            out = cast(lit);
            cJSON_Delete(lit);
        }
        free(inner);
        return out;
    }
    if (cdp_path_is_ref(s)) {
        const cJSON *v = cdp_path_get(&c->refs, s);
        return v ? cJSON_Duplicate(v, true) : NULL;
    }
    return cJSON_Duplicate(spec, true);
}

/* Parses ref for a write and refuses writes into flow@ or into a document the request does
 * not have (a profile-less request). */
static int write_target(struct cdp_flow_call *c, const char *ref, struct cdp_path **out)
{
    *out = NULL;
    struct cdp_path *p;
    int rc = cdp_path_parse(ref, strlen(ref), &p);
    if (rc)
        return rc;
    enum cdp_path_source src = p->source;
    if (src == CDP_PATH_FLOW)
        rc = CDP_E_FORBIDDEN;
    else if ((src == CDP_PATH_PROFILE && !c->ctx->profile) ||
             (src == CDP_PATH_SESSION && !c->ctx->session) ||
             (src == CDP_PATH_EVENT && !c->ctx->event))
        rc = CDP_E_NOT_FOUND;
    /* An event shares parts of the request's payload until it is first written. */
    else if (src == CDP_PATH_EVENT && !cdp_json_unborrow(c->ctx->event))
        rc = CDP_E_NOMEM;
    if (rc)
        cdp_path_free(p);
    else
        *out = p;
    return rc;
}

void cdp_flow_touch(struct cdp_flow_call *c, enum cdp_path_source src)
{
    c->ctx->changed |= CDP_FLOW_CHANGED(src);
}

int cdp_flow_set(struct cdp_flow_call *c, const char *ref, cJSON *value)
{
    struct cdp_path *p;
    int rc = write_target(c, ref, &p);
    if (rc) {
        cJSON_Delete(value);
        return rc;
    }
    rc = cdp_path_put(&c->refs, p, value);
    c->payload = c->refs.payload;
    if (!rc)
        cdp_flow_touch(c, p->source);
    cdp_path_free(p);
    return rc;
}

int cdp_flow_delete(struct cdp_flow_call *c, const char *ref)
{
    struct cdp_path *p;
    int rc = write_target(c, ref, &p);
    if (rc)
        return rc == CDP_E_NOT_FOUND ? 0 : rc;
    if (p->nseg == 0) {
        cdp_path_free(p);
        return CDP_E_INVALID; /* a whole document cannot be deleted */
    }
    p->nseg--; /* the parent; restored before freeing */
    cJSON *parent = (cJSON *)(uintptr_t)cdp_path_resolve(&c->refs, p);
    const char *key = p->seg[p->nseg++];
    cJSON *gone = NULL;
    if (cJSON_IsObject(parent)) {
        gone = cJSON_DetachItemFromObjectCaseSensitive(parent, key);
    } else if (cJSON_IsArray(parent)) {
        char *end;
        long i = strtol(key, &end, 10);
        if (*key && *end == '\0' && i >= 0 && i < cJSON_GetArraySize(parent))
            gone = cJSON_DetachItemFromArray(parent, (int)i);
    }
    if (gone) {
        cJSON_Delete(gone);
        cdp_flow_touch(c, p->source);
    }
    cdp_path_free(p);
    return 0;
}

int cdp_flow_wait_http(struct cdp_flow_call *c, const char *method, const char *url, cJSON *headers,
                       const char *body, long timeout_ms, int retries, bool ssl_check)
{
    struct cdp_flow_wait *w = &c->wait;
    cdp_flow_wait_clear(w);
    w->kind = CDP_WAIT_HTTP;
    w->method = strdup(method);
    w->url = strdup(url);
    w->headers = headers;
    w->body = body ? strdup(body) : NULL;
    w->timeout_ms = timeout_ms;
    w->retries = retries;
    w->ssl_check = ssl_check;
    if (!w->method || !w->url || (body && !w->body)) {
        cdp_flow_wait_clear(w);
        return CDP_E_NOMEM;
    }
    return CDP_FLOW_WAIT;
}

int cdp_flow_wait_sleep(struct cdp_flow_call *c, double seconds)
{
    cdp_flow_wait_clear(&c->wait);
    c->wait.kind = CDP_WAIT_SLEEP;
    c->wait.seconds = seconds;
    return CDP_FLOW_WAIT;
}

/* --- registry --- */

static const struct cdp_plugin *const *const groups[] = {
    cdp_plugins_control, cdp_plugins_data,   cdp_plugins_profile,
    cdp_plugins_text,    cdp_plugins_remote,
};

void cdp_plugin_each(void (*fn)(void *ud, const struct cdp_plugin *p), void *ud)
{
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
        for (const struct cdp_plugin *const *p = groups[g]; *p; p++)
            fn(ud, *p);
}

static bool eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

const struct cdp_plugin *cdp_plugin_find(const char *module, const char *class_name)
{
    const struct cdp_plugin *by_class = NULL, *by_id = NULL;
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
        for (const struct cdp_plugin *const *pp = groups[g]; *pp; pp++) {
            const struct cdp_plugin *p = *pp;
            if (eq(p->module, module) && (!class_name || eq(p->class_name, class_name)))
                return p;
            if (!by_class && eq(p->class_name, class_name))
                by_class = p;
            if (!by_id && (eq(p->id, module) || eq(p->id, class_name)))
                by_id = p;
        }
    return by_class ? by_class : by_id;
}

static cJSON *parse_text(const char *s)
{
    return s ? cdp_json_parse(s, strlen(s), NULL) : NULL;
}

static cJSON *ports(const char *list)
{
    cJSON *a = cJSON_CreateArray();
    const char *s = list ? list : "";
    while (*s) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        char port[64];
        snprintf(port, sizeof(port), "%.*s", (int)n, s);
        cJSON_AddItemToArray(a, cJSON_CreateString(port));
        s += n + (e ? 1 : 0);
    }
    return a;
}

cJSON *cdp_plugin_describe(const struct cdp_plugin *p)
{
    cJSON *d = cJSON_CreateObject();
    cdp_json_put_str(d, "id", p->id);
    cJSON *spec = cdp_json_obj(d, "spec");
    cdp_json_put_str(spec, "module", p->module);
    cdp_json_put_str(spec, "className", p->class_name ? p->class_name : p->id);
    cdp_json_put(spec, "inputs", ports(p->inputs));
    cdp_json_put(spec, "outputs", ports(p->outputs));
    cJSON *init = parse_text(p->init);
    cdp_json_put(spec, "init", init ? init : cJSON_CreateObject());
    cJSON *schema = parse_text(p->schema);
    cdp_json_put(spec, "schema", schema ? schema : cJSON_CreateObject());
    cdp_json_put_str(spec, "version", CDPD_VERSION);
    cdp_json_put_str(spec, "license", "MIT");
    cJSON *md = cdp_json_obj(d, "metadata");
    cdp_json_put_str(md, "name", p->name);
    cdp_json_put_str(md, "desc", p->desc);
    cJSON *group = cJSON_CreateArray();
    cJSON_AddItemToArray(group, cJSON_CreateString(p->group));
    cdp_json_put(md, "group", group);
    const char *type = (p->flags & CDP_PLUGIN_START) ? "startNode"
                       : strchr(p->outputs ? p->outputs : "", ',') ? "condNode"
                                                                   : "flowNode";
    cdp_json_put_str(md, "type", type);
    cJSON *purpose = cJSON_CreateArray();
    cJSON_AddItemToArray(purpose, cJSON_CreateString("collection"));
    cdp_json_put(md, "purpose", purpose);
    cdp_json_put_bool(d, "start", p->flags & CDP_PLUGIN_START);
    return d;
}

/* --- one plugin outside a flow (tests) --- */

struct cdp_plugin_single {
    const struct cdp_plugin *p;
    void *state;
    cJSON *init;
    struct cdp_flow_call call;
};

void cdp_plugin_single_free(struct cdp_plugin_single *s)
{
    if (!s)
        return;
    if (s->p->free)
        s->p->free(s->state);
    cJSON_Delete(s->init);
    cJSON_Delete(s->call.payload);
    cJSON_Delete(s->call.out);
    free(s->call.error);
    cdp_flow_wait_clear(&s->call.wait);
    free(s);
}

static int finish(struct cdp_plugin_single *s, int rc, cJSON **out, char *err, size_t errlen)
{
    if (rc == CDP_FLOW_WAIT)
        return rc;
    if (rc) {
        snprintf(err, errlen, "%s", s->call.error ? s->call.error : cdp_err_str(rc));
        return rc;
    }
    *out = s->call.out ? s->call.out : cJSON_CreateArray();
    s->call.out = NULL;
    return 0;
}

int cdp_plugin_run1(const struct cdp_plugin *p, const cJSON *init, struct cdp_flow_ctx *ctx,
                    cJSON *payload, cJSON *memory, cJSON **out, struct cdp_plugin_single **single,
                    char *err, size_t errlen)
{
    *out = NULL;
    *single = NULL;
    struct cdp_plugin_single *s = calloc(1, sizeof(*s));
    if (!s || !(s->init = init ? cJSON_Duplicate(init, true) : cJSON_CreateObject())) {
        free(s);
        cJSON_Delete(payload);
        return CDP_E_NOMEM;
    }
    s->p = p;
    int rc = p->setup ? p->setup(s->init, &s->state, err, errlen) : 0;
    if (rc) {
        cJSON_Delete(s->init);
        cJSON_Delete(payload);
        free(s);
        return rc;
    }
    struct cdp_flow_call *c = &s->call;
    c->ctx = ctx;
    c->state = s->state;
    c->init = s->init;
    c->node_id = "node";
    c->node_name = p->name;
    c->in_port = "payload";
    c->payload = payload ? payload : cJSON_CreateObject();
    c->refs = (struct cdp_refs){.profile = ctx->profile,
                                .event = ctx->event,
                                .session = ctx->session,
                                .payload = c->payload,
                                .flow = NULL,
                                .memory = memory};
    rc = p->run(c);
    *single = s;
    rc = finish(s, rc, out, err, errlen);
    if (rc != CDP_FLOW_WAIT) {
        cdp_plugin_single_free(s);
        *single = NULL;
    }
    return rc;
}

const struct cdp_flow_wait *cdp_plugin_single_wait(const struct cdp_plugin_single *s)
{
    return &s->call.wait;
}

int cdp_plugin_resume(struct cdp_plugin_single *s, const cJSON *io, cJSON **out, char *err,
                      size_t errlen)
{
    s->call.io = io;
    int rc = s->p->run(&s->call);
    s->call.io = NULL;
    return finish(s, rc, out, err, errlen);
}
