/* Destinations (tracardi-api.md §2.8, tracardi-flows.md §9): where profile and event data are
 * sent, through a resource's credentials. POST /destination, GET|DELETE /destination/{id},
 * GET /destinations. A destination is checked when saved: its condition parses, its mapping is
 * an object template whose references are references, and its resource exists. (Sending to
 * destinations is the dispatcher's work, not this file's.) */
#include "api/api.h"
#include "core/err.h"
#include "core/json.h"
#include "flow/path.h"
#include "flow/template.h"
#include "flow/tql.h"
#include "http/http.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

#define KIND     "destination"
#define RESOURCE "resource"

static int bad(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return CDP_E_INVALID;
}

/* doc[key] as {id, name}; absent, null or "" is {"id": "", "name": ""}: any. */
static int named_or_any(cJSON *doc, const char *key, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);
    if (v && !cJSON_IsNull(v) && !cJSON_IsString(v) && !cJSON_IsObject(v)) {
        snprintf(err, errlen, "%s: expected {\"id\", \"name\"} or an id", key);
        return CDP_E_INVALID;
    }
    if (cdp_json_named(doc, key))
        return 0;
    cJSON *any = cJSON_CreateObject();
    cdp_json_put_str(any, "id", "");
    cdp_json_put_str(any, "name", "");
    cdp_json_put(doc, key, any);
    return 0;
}

int cdp_api_destination_normalize(cJSON *doc, char *err, size_t errlen)
{
    int rc = cdp_json_entity_head(doc, "a destination", err, errlen);
    if (rc)
        return rc;
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(doc, "description");
    if (desc && !cJSON_IsNull(desc) && !cJSON_IsString(desc))
        return bad(err, errlen, "description: expected a string");
    if (!cJSON_IsString(desc))
        cdp_json_put_str(doc, "description", "");

    cJSON *dest = cJSON_GetObjectItemCaseSensitive(doc, "destination");
    if (!cJSON_IsObject(dest))
        return bad(err, errlen, "destination: required, an object {package, init, form}");
    const char *pkg = cdp_json_str(dest, "package");
    if (!pkg || !pkg[strspn(pkg, " \t")])
        return bad(err, errlen, "destination.package: required, a non-empty string");
    if ((rc = cdp_json_object_or_empty(dest, "init", "destination.", err, errlen)) ||
        (rc = cdp_json_object_or_empty(dest, "form", "destination.", err, errlen)))
        return rc;

    const cJSON *cond = cJSON_GetObjectItemCaseSensitive(doc, "condition");
    if (cond && !cJSON_IsNull(cond) && !cJSON_IsString(cond))
        return bad(err, errlen, "condition: expected a string");
    if (!cJSON_IsString(cond)) {
        cdp_json_put_str(doc, "condition", "");
    } else if (cond->valuestring[strspn(cond->valuestring, " \t\r\n")]) {
        struct cdp_tql *q;
        char why[200];
        if ((rc = cdp_tql_parse(cond->valuestring, &q, why, sizeof(why)))) {
            snprintf(err, errlen, "condition: %s", why);
            return rc;
        }
        cdp_tql_free(q);
    }

    if ((rc = cdp_json_object_or_empty(doc, "mapping", "", err, errlen)))
        return rc;
    if ((rc = cdp_template_object_check(cJSON_GetObjectItemCaseSensitive(doc, "mapping"), 0, NULL,
                                        "mapping", err, errlen)))
        return rc;

    static const char *const flags[] = {"enabled", "on_profile_change_only"};
    static const bool defs[] = {false, true}; /* Tracardi's defaults */
    for (size_t i = 0; i < 2; i++) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(doc, flags[i]);
        if (f && !cJSON_IsBool(f)) {
            snprintf(err, errlen, "%s: expected true or false", flags[i]);
            return CDP_E_INVALID;
        }
        if (!f)
            cdp_json_put_bool(doc, flags[i], defs[i]);
    }
    if ((rc = named_or_any(doc, "event_type", err, errlen)) ||
        (rc = named_or_any(doc, "source", err, errlen)))
        return rc;

    const cJSON *res = cJSON_GetObjectItemCaseSensitive(doc, "resource");
    const char *rid = cJSON_IsString(res) ? res->valuestring : cdp_json_str(res, "id");
    if (res && !cJSON_IsNull(res) && !cJSON_IsString(res) && !cJSON_IsObject(res))
        return bad(err, errlen, "resource: expected {\"id\"} or a resource id");
    if (!rid || !*rid)
        return bad(err, errlen, "resource.id: required, the id of the resource to send through");
    cJSON *r = cJSON_CreateObject();
    cdp_json_put_str(r, "id", rid);
    cdp_json_put(doc, "resource", r);

    return cdp_json_string_list(doc, "tags", NULL, false, err, errlen);
}

void cdp_api_destination_put(struct cdp_http_req *req, void *app)
{
    struct cdp_api *api = app;
    cJSON *doc = cdp_api_body_json(req, api);
    if (!doc)
        return;
    struct cdp_store *s = NULL;
    char err[400];
    if (cdp_api_destination_normalize(doc, err, sizeof(err))) {
        cdp_http_reply_error(req, 422, "%s", err);
        goto out;
    }
    if (!(s = cdp_api_store(api, req)))
        goto out;
    /* One transaction, so the resource cannot go between the check and the write. */
    const char *rid = cdp_json_str(doc, "resource.id"), *id = cdp_json_str(doc, "id");
    cJSON *res = NULL, *before = NULL;
    int rc = s->ops->begin(s);
    bool txn = rc == 0;
    if (!rc)
        rc = s->ops->entity_get(s, RESOURCE, rid, &res);
    cJSON_Delete(res);
    if (!rc && (rc = s->ops->entity_get(s, KIND, id, &before)) == CDP_E_NOT_FOUND)
        rc = 0;
    if (!rc)
        rc = s->ops->entity_put(s, KIND, id, doc);
    if (!rc) {
        cdp_api_audit_docs(req, KIND, id, before, doc);
        rc = cdp_api_audit_write(req, s, 200);
    }
    cJSON_Delete(before);
    if (!rc)
        rc = s->ops->commit(s);
    if (rc && txn)
        s->ops->rollback(s);
    if (rc == CDP_E_NOT_FOUND) {
        cdp_http_reply_error(req, 422, "resource.id: no resource `%.128s`", rid);
        goto out;
    }
    if (rc) {
        cdp_api_reply_err(req, rc, "destination");
        goto out;
    }
    cdp_http_reply_json(req, 200, doc);
    doc = NULL;
out:
    if (s)
        cdp_api_store_put(api, s);
    cJSON_Delete(doc);
}

void cdp_api_destination_get(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_get(req, app, KIND, "destination");
}

void cdp_api_destination_delete(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_delete(req, app, KIND, "destination");
}

void cdp_api_destination_list(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_list(req, app, KIND, "destinations");
}
