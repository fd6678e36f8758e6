/* Flows and the rules that route events into them (tracardi-flows.md §2-§3):
 * POST /flow/draft, GET /flow/draft/{id}, POST /flow/production (deploy),
 * GET /flow/production/{id}, GET /flows, DELETE /flow/{id}, POST /flow/debug,
 * GET /flow/action/plugins; POST /rule, GET|DELETE /rule/{id}, GET /rules,
 * /rules/by_flow/{id}, /rules/by_event_type/{type}.
 *
 * A flow is compiled whenever it is saved, so a flow that could not run is refused with 422
 * naming the node; the collector compiles deployed flows once and caches the plans. Drafts are
 * entity kind "flow", deployed copies "flow-production"; rules run the deployed copy. */
#define _GNU_SOURCE /* strcasestr */
#include "api/api.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/id.h"
#include "core/json.h"
#include "flow/engine.h"
#include "flow/io.h"
#include "http/http.h"
#include "model/profile.h"
#include "model/session.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DRAFT      "flow"
#define PRODUCTION "flow-production"
#define RULE       "rule"

/* --- shared --- */

/* Every entity of a kind (config lists are small), or NULL after replying. */
static cJSON *list_all(struct cdp_http_req *req, struct cdp_api *api, const char *kind)
{
    struct cdp_store *s = cdp_api_store(api, req);
    if (!s)
        return NULL;
    cJSON *all = NULL;
    int rc = cdp_api_entity_all(s, kind, &all);
    cdp_api_store_put(api, s);
    if (rc) {
        cdp_api_reply_err(req, rc, kind);
        return NULL;
    }
    return all;
}

static void reply_list(struct cdp_http_req *req, cJSON *list)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "total", cJSON_GetArraySize(list));
    cJSON_AddItemToObject(j, "result", list);
    cdp_http_reply_json(req, 200, j);
}

/* A non-empty string at key, or NULL. */
static const char *text(const cJSON *doc, const char *key)
{
    const char *s = cdp_json_str(doc, key);
    return s && *s ? s : NULL;
}

static void default_str(cJSON *doc, const char *key, const char *def)
{
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, key)))
        cdp_json_put_str(doc, key, def);
}

static void default_tags(cJSON *doc)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "tags");
    if (cJSON_IsArray(t))
        return;
    cJSON *tags = cJSON_CreateArray();
    cJSON_AddItemToArray(tags, cJSON_CreateString("General"));
    cdp_json_put(doc, "tags", tags);
}

static void put_id(cJSON *doc)
{
    if (text(doc, "id"))
        return;
    char id[CDP_UUID_LEN];
    cdp_id_uuid4(id);
    cdp_json_put_str(doc, "id", id);
}

/* --- flows --- */

int cdp_api_flow_draft_normalize(cJSON *doc, char *err, size_t errlen)
{
    if (!cJSON_IsObject(doc)) {
        snprintf(err, errlen, "body: expected a flow object");
        return CDP_E_INVALID;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "id");
    if (id && !cJSON_IsString(id)) {
        snprintf(err, errlen, "id: expected a string");
        return CDP_E_INVALID;
    }
    put_id(doc);
    if (strlen(cdp_json_str(doc, "id")) > 128) {
        snprintf(err, errlen, "id: longer than 128 characters");
        return CDP_E_INVALID;
    }
    if (!text(doc, "name")) {
        snprintf(err, errlen, "name: a flow needs a name");
        return CDP_E_INVALID;
    }
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "flowGraph"))) {
        snprintf(err, errlen, "flowGraph: expected an object with nodes and edges");
        return CDP_E_INVALID;
    }
    default_str(doc, "description", "");
    default_str(doc, "type", "collection");
    default_tags(doc);
    return 0;
}

/* Whether the flow compiles: 0, or CDP_E_INVALID with the node and the reason in err. */
static int compiles(const cJSON *doc, char *err, size_t errlen)
{
    struct cdp_flow_plan *plan;
    char why[600];
    if (cdp_flow_compile(doc, &plan, why, sizeof(why))) {
        snprintf(err, errlen, "flowGraph: %s", why);
        return CDP_E_INVALID;
    }
    cdp_flow_plan_unref(plan);
    return 0;
}

int cdp_api_flow_normalize(cJSON *doc, char *err, size_t errlen)
{
    int rc = cdp_api_flow_draft_normalize(doc, err, errlen);
    return rc ? rc : compiles(doc, err, errlen);
}

static void stamp(cJSON *doc, const char *key)
{
    char now[40];
    cdp_clock_iso(cdp_clock_now_us(), now);
    cdp_json_put_str(doc, key, now);
}

static void save_flow(struct cdp_http_req *req, struct cdp_api *api, bool deploy)
{
    cJSON *doc = cdp_api_body_json(req, api);
    if (!doc)
        return;
    /* a draft is work in progress: kept whenever it is a well-formed flow, with what stops it
     * from running in the answer's "problem"; only a flow that compiles is deployed */
    char err[700], problem[700] = "";
    if (deploy ? cdp_api_flow_normalize(doc, err, sizeof(err))
               : cdp_api_flow_draft_normalize(doc, err, sizeof(err))) {
        cdp_http_reply_error(req, 422, "%s", err);
        cJSON_Delete(doc);
        return;
    }
    if (!deploy)
        compiles(doc, problem, sizeof(problem));
    struct cdp_store *s = cdp_api_store(api, req);
    if (!s) {
        cJSON_Delete(doc);
        return;
    }
    const char *id = cdp_json_str(doc, "id");
    cJSON *old = NULL, *before = NULL;
    bool deployed = deploy || (s->ops->entity_get(s, PRODUCTION, id, &old) == 0);
    cJSON_Delete(old);
    s->ops->entity_get(s, DRAFT, id, &before); /* for the audit log */
    stamp(doc, "timestamp");
    cdp_json_put_bool(doc, "deployed", deployed);
    int rc = s->ops->begin(s);
    if (!rc && deploy) {
        stamp(doc, "deploy_timestamp");
        rc = s->ops->entity_put(s, PRODUCTION, id, doc);
    }
    if (!rc)
        rc = s->ops->entity_put(s, DRAFT, id, doc);
    if (!rc)
        rc = s->ops->commit(s);
    else
        s->ops->rollback(s);
    cdp_api_store_put(api, s);
    if (!rc)
        cdp_api_audit_docs(req, deploy ? PRODUCTION : DRAFT, id, before, doc);
    cJSON_Delete(before);
    if (rc) {
        cJSON_Delete(doc);
        cdp_api_reply_err(req, rc, "flow");
        return;
    }
    if (problem[0])
        cJSON_AddStringToObject(doc, "problem", problem);
    cdp_http_reply_json(req, 200, doc);
}

void cdp_api_flow_draft_put(struct cdp_http_req *req, void *app)
{
    save_flow(req, app, false);
}

void cdp_api_flow_deploy(struct cdp_http_req *req, void *app)
{
    save_flow(req, app, true);
}

void cdp_api_flow_draft_get(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_get(req, app, DRAFT, "flow");
}

void cdp_api_flow_production_get(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_get(req, app, PRODUCTION, "deployed flow");
}

void cdp_api_flow_list(struct cdp_http_req *req, void *app)
{
    long total = 0;
    cJSON *all = cdp_api_list_page(req, app, DRAFT, "flows", NULL, NULL, &total);
    if (!all)
        return;
    cJSON *f;
    cJSON_ArrayForEach(f, all)
    {
        cJSON *g = cJSON_DetachItemFromObjectCaseSensitive(f, "flowGraph");
        cJSON_AddNumberToObject(f, "nodes", cJSON_GetArraySize(cdp_json_get(g, "nodes")));
        cJSON_Delete(g);
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "total", (double)total);
    cJSON_AddItemToObject(j, "result", all);
    cdp_http_reply_json(req, 200, j);
}

void cdp_api_flow_delete(struct cdp_http_req *req, void *app)
{
    struct cdp_store *s = cdp_api_store(app, req);
    if (!s)
        return;
    const char *id = cdp_http_param(req, 0);
    cJSON *before = NULL;
    s->ops->entity_get(s, DRAFT, id, &before); /* for the audit log */
    int rc = s->ops->begin(s);
    int a = rc ? rc : s->ops->entity_delete(s, DRAFT, id);
    int b = rc ? rc : s->ops->entity_delete(s, PRODUCTION, id);
    if (!rc && (a == 0 || a == CDP_E_NOT_FOUND) && (b == 0 || b == CDP_E_NOT_FOUND))
        rc = s->ops->commit(s);
    else
        s->ops->rollback(s), rc = rc ? rc : a && a != CDP_E_NOT_FOUND ? a : b;
    cdp_api_store_put(app, s);
    if (!rc && a == CDP_E_NOT_FOUND && b == CDP_E_NOT_FOUND)
        rc = CDP_E_NOT_FOUND;
    if (!rc)
        cdp_api_audit_docs(req, DRAFT, id, before, NULL);
    cJSON_Delete(before);
    if (rc) {
        cdp_api_reply_err(req, rc, "flow");
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "deleted", 1);
    cdp_http_reply_json(req, 200, j);
}

static void add_plugin(void *ud, const struct cdp_plugin *p)
{
    cJSON **acc = ud; /* [list, query] */
    const char *q = acc[1] ? acc[1]->valuestring : NULL;
    if (q && *q && !strcasestr(p->name, q) && !strcasestr(p->id, q) &&
        !strcasestr(p->group ? p->group : "", q))
        return;
    cJSON_AddItemToArray(acc[0], cdp_plugin_describe(p));
}

void cdp_api_flow_plugins(struct cdp_http_req *req, void *app)
{
    (void)app;
    const char *q = cdp_http_query(req, "query");
    cJSON *acc[2] = {cJSON_CreateArray(), q ? cJSON_CreateString(q) : NULL};
    cdp_plugin_each(add_plugin, acc);
    cJSON_Delete(acc[1]);
    cJSON *grouped = cJSON_CreateObject();
    const cJSON *p;
    cJSON_ArrayForEach(p, acc[0])
    {
        const cJSON *group = cJSON_GetArrayItem(cdp_json_get(p, "metadata.group"), 0);
        const char *name = cJSON_IsString(group) ? group->valuestring : "Other";
        cJSON *list = cJSON_GetObjectItemCaseSensitive(grouped, name);
        if (!list)
            list = cJSON_AddArrayToObject(grouped, name);
        cJSON_AddItemToArray(list, cJSON_Duplicate(p, true));
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "total", cJSON_GetArraySize(acc[0]));
    cJSON_AddItemToObject(j, "grouped", grouped);
    cJSON_AddItemToObject(j, "result", acc[0]);
    cdp_http_reply_json(req, 200, j);
}

/* --- debugging --- */

static cJSON *debug_event(const cJSON *given, int64_t now)
{
    cJSON *e = cJSON_IsObject(given) ? cJSON_Duplicate(given, true) : cJSON_CreateObject();
    default_str(e, "id", "@debug-event-id");
    default_str(e, "type", "@debug-event-type");
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(e, "properties")))
        cdp_json_put(e, "properties", cJSON_CreateObject());
    cJSON *md = cdp_json_obj(e, "metadata");
    char iso[40];
    cdp_clock_iso(now, iso);
    if (!cdp_json_get(md, "time.insert"))
        cdp_json_set(md, "time.insert", cJSON_CreateString(iso));
    if (!cJSON_GetObjectItemCaseSensitive(md, "valid"))
        cJSON_AddBoolToObject(md, "valid", 1);
    if (!cdp_json_get(e, "source.id"))
        cdp_json_set(e, "source.id", cJSON_CreateString("@debug-source"));
    return e;
}

/* Runs the flow in the body against the body's (or a stored, or a made-up) event, profile and
 * session, stores nothing, and answers the per-node trace and what changed. */
void cdp_api_flow_debug(struct cdp_http_req *req, void *app)
{
    cJSON *body = cdp_api_body_json(req, app);
    if (!body)
        return;
    cJSON *flow = cJSON_GetObjectItemCaseSensitive(body, "flow");
    if (!cJSON_IsObject(flow))
        flow = body; /* Tracardi's debugger posts the flow itself */
    struct cdp_flow_plan *plan;
    char err[600];
    if (cdp_flow_compile(flow, &plan, err, sizeof(err))) {
        cJSON_Delete(body);
        cdp_http_reply_error(req, 422, "flowGraph: %s", err);
        return;
    }
    int64_t now = cdp_clock_now_us();
    cJSON *event = NULL, *profile = NULL, *session = NULL;
    const char *event_id = cdp_http_query(req, "event_id");
    if (event_id) {
        struct cdp_store *s = cdp_api_store(app, req);
        if (!s)
            goto out;
        int rc = s->ops->event_get(s, event_id, &event);
        const char *pid = event ? cdp_json_str(event, "profile.id") : NULL;
        const char *sid = event ? cdp_json_str(event, "session.id") : NULL;
        if (!rc && pid)
            s->ops->profile_get(s, pid, &profile);
        if (!rc && sid)
            s->ops->session_get(s, sid, &session);
        cdp_api_store_put(app, s);
        if (rc) {
            cdp_api_reply_err(req, rc, "event");
            goto out;
        }
    } else {
        event = debug_event(cJSON_GetObjectItemCaseSensitive(body, "event"), now);
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(body, "profile");
        const cJSON *se = cJSON_GetObjectItemCaseSensitive(body, "session");
        profile = cJSON_IsObject(p) ? cJSON_Duplicate(p, true)
                                    : cdp_profile_new("@debug-profile-id", now);
        session = cJSON_IsObject(se) ? cJSON_Duplicate(se, true)
                                     : cdp_session_new("@debug-session-id",
                                                       cdp_json_str(profile, "id"), now, NULL);
    }
    cJSON *before[3] = {cJSON_Duplicate(profile, true), cJSON_Duplicate(session, true),
                        cJSON_Duplicate(event, true)};
    struct cdp_flow_ctx ctx = {
        .profile = profile, .session = session, .event = event, .now_us = now, .debug = true};
    const struct cdp_config *cfg = cdp_api_config(app);
    struct cdp_flow_run *run =
        cdp_flow_run_new(plan, &ctx, (int64_t)cfg->flow_timeout_ms * 1000, true);
    if (!run) {
        cdp_http_reply_error(req, 500, "out of memory");
    } else {
        int rc;
        while ((rc = cdp_flow_run_step(run)) == CDP_FLOW_WAIT)
            cdp_flow_run_resume(run, cdp_flow_io_run_sync(cdp_flow_run_wait(run)));
        cJSON *j = cJSON_CreateObject();
        cJSON_AddItemToObject(j, "debugInfo", cJSON_Duplicate(cdp_flow_run_trace(run), true));
        cJSON *errors = cJSON_AddArrayToObject(j, "errors");
        if (rc)
            cJSON_AddItemToArray(errors, cJSON_CreateString(cdp_flow_run_error(run)));
        cJSON_AddItemToObject(j, "logs", ctx.logs ? ctx.logs : cJSON_CreateArray());
        cJSON_AddItemToObject(j, "ux", ctx.ux ? ctx.ux : cJSON_CreateArray());
        cJSON_AddItemToObject(j, "response", ctx.response ? ctx.response : cJSON_CreateObject());
        cJSON_AddItemToObject(j, "merge", ctx.merge ? ctx.merge : cJSON_CreateArray());
        ctx.logs = ctx.ux = ctx.response = ctx.merge = NULL;
        cJSON *changes = cJSON_AddObjectToObject(j, "changes");
        cJSON_AddItemToObject(changes, "profile", cdp_json_diff(before[0], ctx.profile));
        cJSON_AddItemToObject(changes, "session", cdp_json_diff(before[1], ctx.session));
        cJSON_AddItemToObject(changes, "event", cdp_json_diff(before[2], ctx.event));
        cJSON_AddItemToObject(j, "profile", cJSON_Duplicate(ctx.profile, true));
        cJSON_AddItemToObject(j, "session", cJSON_Duplicate(ctx.session, true));
        cJSON_AddItemToObject(j, "event", cJSON_Duplicate(ctx.event, true));
        cdp_flow_run_free(run);
        cdp_http_reply_json(req, 200, j);
    }
    for (int i = 0; i < 3; i++)
        cJSON_Delete(before[i]);
    profile = ctx.profile, session = ctx.session, event = ctx.event;
out:
    cJSON_Delete(event);
    cJSON_Delete(profile);
    cJSON_Delete(session);
    cdp_flow_plan_unref(plan);
    cJSON_Delete(body);
}

/* --- rules --- */

/* `key` as {id, name}: from a string or an object; required unless optional. */
static int named(cJSON *doc, const char *key, bool optional, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);
    if (v && !cJSON_IsNull(v) && !cJSON_IsString(v) && !cJSON_IsObject(v)) {
        snprintf(err, errlen, "%s: expected {\"id\", \"name\"} or a string", key);
        return CDP_E_INVALID;
    }
    if (cdp_json_named(doc, key))
        return 0;
    if (!optional) {
        snprintf(err, errlen, "%s: required", key);
        return CDP_E_INVALID;
    }
    cJSON *any = cJSON_CreateObject(); /* no source: any source */
    cdp_json_put_str(any, "id", "");
    cdp_json_put_str(any, "name", "");
    cdp_json_put(doc, key, any);
    return 0;
}

int cdp_api_rule_normalize(cJSON *doc, char *err, size_t errlen)
{
    if (!cJSON_IsObject(doc)) {
        snprintf(err, errlen, "body: expected a rule object");
        return CDP_E_INVALID;
    }
    put_id(doc);
    if (!text(doc, "name")) {
        snprintf(err, errlen, "name: a rule needs a name");
        return CDP_E_INVALID;
    }
    int rc;
    if ((rc = named(doc, "event_type", false, err, errlen)) ||
        (rc = named(doc, "flow", false, err, errlen)) ||
        (rc = named(doc, "source", true, err, errlen)))
        return rc;
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(doc, "enabled");
    if (en && !cJSON_IsBool(en)) {
        snprintf(err, errlen, "enabled: expected true or false");
        return CDP_E_INVALID;
    }
    if (!en)
        cJSON_AddBoolToObject(doc, "enabled", 1);
    default_str(doc, "description", "");
    default_str(doc, "type", "event-collect");
    default_tags(doc);
    return 0;
}

/* The reference doc.key ({id, name}) named as the entity it points to is now: a rule given
 * plain ids shows names, and a renamed flow shows its new name once the rule is saved again. */
static void name_from(cJSON *doc, const char *key, const cJSON *entity)
{
    const char *name = cdp_json_str(entity, "name");
    if (name && *name)
        cdp_json_put_str(cdp_json_obj(doc, key), "name", name);
}

void cdp_api_rule_put(struct cdp_http_req *req, void *app)
{
    cJSON *doc = cdp_api_body_json(req, app);
    if (!doc)
        return;
    struct cdp_store *s = NULL;
    char err[400];
    if (cdp_api_rule_normalize(doc, err, sizeof(err))) {
        cdp_http_reply_error(req, 422, "%s", err);
        goto out;
    }
    if (!(s = cdp_api_store(app, req)))
        goto out;
    cJSON *found = NULL;
    const char *flow = cdp_json_str(doc, "flow.id");
    if (s->ops->entity_get(s, DRAFT, flow, &found) != 0) {
        cdp_http_reply_error(req, 422, "flow: no flow `%s`", flow);
        goto out;
    }
    name_from(doc, "flow", found);
    cJSON_Delete(found);
    found = NULL;
    const char *src = cdp_json_str(doc, "source.id");
    if (*src && s->ops->entity_get(s, "event-source", src, &found) != 0) {
        cdp_http_reply_error(req, 422, "source: no event source `%s`", src);
        goto out;
    }
    if (found)
        name_from(doc, "source", found);
    cJSON_Delete(found);
    found = NULL;
    const char *id = cdp_json_str(doc, "id");
    s->ops->entity_get(s, RULE, id, &found); /* for the audit log */
    stamp(cdp_json_obj(cdp_json_obj(doc, "metadata"), "time"), "insert");
    int rc = s->ops->entity_put(s, RULE, id, doc);
    if (!rc)
        cdp_api_audit_docs(req, RULE, id, found, doc);
    cJSON_Delete(found);
    if (rc) {
        cdp_api_reply_err(req, rc, "rule");
        goto out;
    }
    cdp_api_store_put(app, s);
    cdp_http_reply_json(req, 200, doc);
    return;
out:
    if (s)
        cdp_api_store_put(app, s);
    cJSON_Delete(doc);
}

void cdp_api_rule_get(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_get(req, app, RULE, "rule");
}

void cdp_api_rule_delete(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_delete(req, app, RULE, "rule");
}

/* Rules whose field (a {id, name}) has the id value; all when field is NULL. */
static void rules_where(struct cdp_http_req *req, void *app, const char *field, const char *id)
{
    cJSON *all = list_all(req, app, RULE);
    if (!all)
        return;
    for (cJSON *r = all->child, *next; field && r; r = next) {
        next = r->next;
        const char *v = cdp_json_str(cJSON_GetObjectItemCaseSensitive(r, field), "id");
        if (!v || strcmp(v, id) != 0)
            cJSON_Delete(cJSON_DetachItemViaPointer(all, r));
    }
    reply_list(req, all);
}

void cdp_api_rule_list(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_list(req, app, RULE, "rules");
}

void cdp_api_rules_by_flow(struct cdp_http_req *req, void *app)
{
    rules_where(req, app, "flow", cdp_http_param(req, 0));
}

void cdp_api_rules_by_event_type(struct cdp_http_req *req, void *app)
{
    rules_where(req, app, "event_type", cdp_http_param(req, 0));
}
