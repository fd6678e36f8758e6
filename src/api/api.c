/* The management API's route table (roles per route in one place) and its store pool. */
#include "api/api.h"
#include "api/gui.h"
#include "core/config.h"
#include "core/err.h"
#include "core/json.h"
#include "core/secret.h"
#include "http/http.h"
#include "store/cluster.h"
#include "store/store.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_MAX 16

struct cdp_api {
    const struct cdp_config *cfg;
    pthread_mutex_t mu;
    struct cdp_store *idle[CDP_STORE_NCONTEXTS][POOL_MAX]; /* a pool per context */
    int nidle[CDP_STORE_NCONTEXTS];
    unsigned char secret_key[CDP_SECRET_KEY_LEN]; /* seals resource credentials */
};

#define ADMIN     CDP_ROLE_ADMIN
#define ADMIN_DEV (CDP_ROLE_ADMIN | CDP_ROLE_DEVELOPER)
#define ANY       CDP_ROLES_ALL
#define MARKETING (CDP_ROLE_ADMIN | CDP_ROLE_DEVELOPER | CDP_ROLE_MARKETER)
/* Maintenance (storage, settings, logs, the audit log's neighbours): Tracardi's set. */
#define MAINTENANCE (CDP_ROLE_ADMIN | CDP_ROLE_MAINTAINER)
/* The caller's own account and preferences: every role may manage its own. Users and tokens
 * live in production, whatever context a request asks for. */
#define SELF  (CDP_ROLES_ALL | CDP_API_ROUTE_PRODUCTION)
#define USERS (CDP_ROLE_ADMIN | CDP_API_ROUTE_PRODUCTION)

const struct cdp_route cdp_api_routes[] = {
    {"GET", "/", cdp_api_root, 0},
    {"GET", "/healthcheck", cdp_http_healthcheck, 0},
    /* public, on this private listener only: the API's description and Prometheus's scrapes */
    {"GET", "/openapi.json", cdp_api_openapi, 0},
    {"GET", "/metrics", cdp_api_metrics, 0},
    {"GET", "/storage/backlog", cdp_api_storage_backlog, 0},
    {"GET", "/install", cdp_api_install_get, 0},
    {"POST", "/install", cdp_api_install, 0},
    {"POST", "/user/token", cdp_api_token, 0},
    {"POST", "/user/logout", cdp_api_logout, SELF},
    /* users [admin] as Tracardi; the caller's own account and preferences: SELF, where
     * Tracardi's router lets only admins through to endpoints meant for every role */
    {"POST", "/user", cdp_api_user_create, USERS},
    {"GET", "/user/preferences", cdp_api_preferences_get, SELF},
    {"GET", "/user/preference/{key}", cdp_api_preference_get, SELF},
    {"POST", "/user/preference/{key}", cdp_api_preference_put, SELF},
    {"DELETE", "/user/preference/{key}", cdp_api_preference_delete, SELF},
    {"GET", "/user/{id}", cdp_api_user_get, USERS},
    {"POST", "/user/{id}", cdp_api_user_update, USERS},
    {"DELETE", "/user/{id}", cdp_api_user_delete, USERS},
    {"GET", "/users/{start}/{limit}", cdp_api_users_list, USERS},
    {"GET", "/user-account", cdp_api_account_get, SELF},
    {"POST", "/user-account", cdp_api_account_update, SELF},
    /* cdpd's own: who changed what, for administrators only */
    {"GET", "/audit", cdp_api_audit_list, ADMIN},
    {"POST", "/event-source", cdp_api_source_put, ADMIN_DEV},
    {"GET", "/event-source/{id}", cdp_api_source_get, ADMIN_DEV},
    {"DELETE", "/event-source/{id}", cdp_api_source_delete, ADMIN_DEV},
    {"GET", "/event-sources", cdp_api_source_list, ADMIN_DEV},
    /* counters before /profile/{id} and the like, which would take "count" for an id */
    {"GET", "/profile/count", cdp_api_dashboard_count, ANY},
    {"GET", "/event/count", cdp_api_dashboard_count, ANY},
    {"GET", "/session/count", cdp_api_dashboard_count, ANY},
    {"GET", "/events/by_type", cdp_api_dashboard_by_value, ANY},
    {"GET", "/events/by_source", cdp_api_dashboard_by_value, ANY},
    {"GET", "/events/by_tag", cdp_api_dashboard_by_value, ANY},
    {"GET", "/events/by_status", cdp_api_dashboard_by_value, ANY},
    {"GET", "/events/by_channel", cdp_api_dashboard_by_value, ANY},
    {"GET", "/events/by_os_name", cdp_api_dashboard_by_value, ANY},
    {"GET", "/events/by_device_geo", cdp_api_dashboard_by_value, ANY},
    {"GET", "/sessions/count/by_os_name", cdp_api_dashboard_by_value, ANY},
    {"GET", "/sessions/count/by_device_geo", cdp_api_dashboard_by_value, ANY},
    {"GET", "/sessions/count/by_channel", cdp_api_dashboard_by_value, ANY},
    {"GET", "/sessions/count/by_app", cdp_api_dashboard_by_value, ANY},
    {"GET", "/sessions/count/by_resolution", cdp_api_dashboard_by_value, ANY},
    /* Tracardi's generic search; {index} is profile, session or event */
    {"POST", "/{index}/select", cdp_api_select, ANY | CDP_API_ROUTE_READS},
    {"POST", "/{index}/select/range", cdp_api_select_range, ANY | CDP_API_ROUTE_READS},
    {"POST", "/{index}/select/range/page/{page}", cdp_api_select_range, ANY | CDP_API_ROUTE_READS},
    {"POST", "/{index}/select/histogram", cdp_api_select_histogram, ANY | CDP_API_ROUTE_READS},
    {"GET", "/profile/{id}", cdp_api_profile_get, ANY},
    {"GET", "/session/{id}", cdp_api_session_get, ANY},
    {"GET", "/event/{id}", cdp_api_event_get, ANY},
    {"GET", "/events/profile/{id}", cdp_api_events_by_profile, ANY},
    /* cdpd's own: erasure, export and merging act on a whole person, so admin only (Tracardi
     * lets every role delete a profile and has no export or merge routes) */
    {"DELETE", "/profile/{id}", cdp_api_profile_delete, ADMIN},
    {"GET", "/profile/{id}/export", cdp_api_profile_export, ADMIN},
    {"POST", "/profiles/merge", cdp_api_profiles_merge, ADMIN},
    {"GET", "/merges", cdp_api_merge_list, ADMIN},
    {"GET", "/merge/{id}", cdp_api_merge_get, ADMIN},
    {"POST", "/merge/{id}/undo", cdp_api_merge_undo, ADMIN},
    {"POST", "/segment", cdp_api_segment_put, MARKETING},
    {"GET", "/segment/{id}", cdp_api_segment_get, MARKETING},
    {"DELETE", "/segment/{id}", cdp_api_segment_delete, MARKETING},
    {"GET", "/segments", cdp_api_segment_list, MARKETING},
    {"POST", "/segments/run", cdp_api_segments_run, MARKETING},
    {"POST", "/consent/type", cdp_api_consent_type_put, MARKETING},
    {"GET", "/consent/type/{id}", cdp_api_consent_type_get, MARKETING},
    {"DELETE", "/consent/type/{id}", cdp_api_consent_type_delete, MARKETING},
    {"GET", "/consents/type", cdp_api_consent_type_list, MARKETING},
    {"POST", "/event-validator", cdp_api_validator_put, ADMIN_DEV},
    {"GET", "/event-validator/{id}", cdp_api_validator_get, ADMIN_DEV},
    {"DELETE", "/event-validator/{id}", cdp_api_validator_delete, ADMIN_DEV},
    {"GET", "/event-validators", cdp_api_validator_list, ADMIN_DEV},
    {"POST", "/event-to-profile", cdp_api_mapping_put, ADMIN_DEV},
    {"GET", "/event-to-profile/{id}", cdp_api_mapping_get, ADMIN_DEV},
    {"DELETE", "/event-to-profile/{id}", cdp_api_mapping_delete, ADMIN_DEV},
    {"GET", "/event-to-profiles", cdp_api_mapping_list, ADMIN_DEV},
    /* reshaping and identification points are licensed in Tracardi; cdpd gives them the
     * set of the other event-processing configuration (validators, mappings) */
    {"POST", "/event-reshape-schema", cdp_api_reshape_put, ADMIN_DEV},
    {"GET", "/event-reshape-schema/{id}", cdp_api_reshape_get, ADMIN_DEV},
    {"DELETE", "/event-reshape-schema/{id}", cdp_api_reshape_delete, ADMIN_DEV},
    {"GET", "/event-reshape-schemas", cdp_api_reshape_list, ADMIN_DEV},
    {"POST", "/identification/point", cdp_api_identification_put, ADMIN_DEV},
    {"GET", "/identification/point/{id}", cdp_api_identification_get, ADMIN_DEV},
    {"DELETE", "/identification/point/{id}", cdp_api_identification_delete, ADMIN_DEV},
    {"GET", "/identification/points", cdp_api_identification_list, ADMIN_DEV},
    {"GET", "/event-types/build-in/by_type", cdp_api_event_types_by_type, ADMIN_DEV},
    {"GET", "/event-type/build-in/{id}", cdp_api_event_type_get, ADMIN_DEV},
    {"POST", "/flow/draft", cdp_api_flow_draft_put, ADMIN_DEV},
    {"GET", "/flow/draft/{id}", cdp_api_flow_draft_get, ADMIN_DEV},
    {"POST", "/flow/production", cdp_api_flow_deploy, ADMIN_DEV},
    {"GET", "/flow/production/{id}", cdp_api_flow_production_get, ADMIN_DEV},
    {"GET", "/flows", cdp_api_flow_list, ADMIN_DEV},
    {"DELETE", "/flow/{id}", cdp_api_flow_delete, ADMIN_DEV},
    {"POST", "/flow/debug", cdp_api_flow_debug, ADMIN_DEV | CDP_API_ROUTE_READS},
    {"GET", "/flow/action/plugins", cdp_api_flow_plugins, ADMIN_DEV},
    {"POST", "/rule", cdp_api_rule_put, ADMIN_DEV},
    {"GET", "/rule/{id}", cdp_api_rule_get, ADMIN_DEV},
    {"DELETE", "/rule/{id}", cdp_api_rule_delete, ADMIN_DEV},
    {"GET", "/rules", cdp_api_rule_list, ADMIN_DEV},
    {"GET", "/rules/by_flow/{id}", cdp_api_rules_by_flow, ADMIN_DEV},
    {"GET", "/rules/by_event_type/{type}", cdp_api_rules_by_event_type, ADMIN_DEV},
    /* staging's configuration to production, as Tracardi (GET, admin only here: it replaces
     * what production runs); ?dry_run=true and /production/dry-run change nothing */
    {"GET", "/production/deploy", cdp_api_deploy,
     ADMIN | CDP_API_ROUTE_PRODUCTION | CDP_API_ROUTE_WRITES},
    {"GET", "/production/dry-run", cdp_api_deploy_dry_run, ADMIN | CDP_API_ROUTE_PRODUCTION},
    {"POST", "/profiles/import", cdp_api_profiles_import, ADMIN | CDP_ROUTE_BULK},
    {"POST", "/sessions/import", cdp_api_sessions_import, ADMIN | CDP_ROUTE_BULK},
    {"POST", "/events/import", cdp_api_events_import, ADMIN | CDP_ROUTE_BULK},
    {"GET", "/config/export", cdp_api_config_export, ADMIN},
    {"POST", "/config/import", cdp_api_config_import, ADMIN | CDP_ROUTE_BULK},
    {"POST", "/resource", cdp_api_resource_put, ADMIN_DEV},
    {"GET", "/resource/{id}", cdp_api_resource_get, ADMIN_DEV},
    {"DELETE", "/resource/{id}", cdp_api_resource_delete, ADMIN_DEV},
    {"GET", "/resource/{id}/enabled/on", cdp_api_resource_enable, ADMIN_DEV},
    {"GET", "/resource/{id}/enabled/off", cdp_api_resource_disable, ADMIN_DEV},
    {"GET", "/resources", cdp_api_resource_list, ADMIN_DEV},
    {"GET", "/resources/type/{how}", cdp_api_resource_types, ADMIN_DEV},
    {"POST", "/destination", cdp_api_destination_put, ADMIN_DEV},
    {"GET", "/destination/{id}", cdp_api_destination_get, ADMIN_DEV},
    {"DELETE", "/destination/{id}", cdp_api_destination_delete, ADMIN_DEV},
    {"GET", "/destinations", cdp_api_destination_list, ADMIN_DEV},
    {"POST", "/setting", cdp_api_setting_put, MARKETING},
    {"GET", "/setting/{id}", cdp_api_setting_get, MARKETING},
    {"DELETE", "/setting/{id}", cdp_api_setting_delete, MARKETING},
    {"GET", "/settings", cdp_api_setting_list, MARKETING},
    {"GET", "/settings/{type}", cdp_api_settings_of_type, MARKETING},
};

const size_t cdp_api_nroutes = sizeof(cdp_api_routes) / sizeof(cdp_api_routes[0]);

int cdp_api_new(struct cdp_api **out, const struct cdp_config *cfg, char *err, size_t errlen)
{
    struct cdp_api *api = calloc(1, sizeof(*api));
    if (!api)
        return CDP_E_NOMEM;
    api->cfg = cfg;
    pthread_mutex_init(&api->mu, NULL);
    /* Open one connection now so a bad data directory fails at start, not on first request. */
    struct cdp_store *s = cdp_api_store(api, NULL);
    if (!s) {
        snprintf(err, errlen, "management API: cannot open the store in %s", cfg->data);
        cdp_api_free(api);
        return CDP_E_STORE;
    }
    cdp_api_store_put(api, s);
    if (cdp_secret_key_load(cfg, api->secret_key, err, errlen)) {
        cdp_api_free(api);
        return CDP_E_CONFIG;
    }
    *out = api;
    return 0;
}

void cdp_api_free(struct cdp_api *api)
{
    if (!api)
        return;
    for (int c = 0; c < CDP_STORE_NCONTEXTS; c++)
        for (int i = 0; i < api->nidle[c]; i++)
            cdp_store_close(api->idle[c][i]);
    pthread_mutex_destroy(&api->mu);
    sodium_memzero(api->secret_key, sizeof(api->secret_key));
    free(api);
}

struct cdp_store *cdp_api_store(struct cdp_api *api, struct cdp_http_req *req)
{
    return cdp_api_store_of(api, req ? cdp_api_context(req) : CDP_STORE_PRODUCTION, req);
}

struct cdp_store *cdp_api_store_of(struct cdp_api *api, enum cdp_store_context ctx,
                                   struct cdp_http_req *req)
{
    pthread_mutex_lock(&api->mu);
    struct cdp_store *s = api->nidle[ctx] ? api->idle[ctx][--api->nidle[ctx]] : NULL;
    pthread_mutex_unlock(&api->mu);
    if (s)
        return s;
    char err[256];
    if (cdp_store_open_cfg(&s, api->cfg, ctx, false, err, sizeof(err))) {
        if (req)
            cdp_http_reply_error(req, 503, "store unavailable: %s", err);
        return NULL;
    }
    return s;
}

bool cdp_api_context_parse(struct cdp_http_req *req, enum cdp_store_context *out)
{
    const char *v = cdp_http_header(req, "x-context");
    *out = CDP_STORE_PRODUCTION;
    if (!v || cdp_store_context_parse(v, out))
        return true;
    cdp_http_reply_error(req, 422, "x-context: want production or staging, not `%.64s`", v);
    return false;
}

void cdp_api_store_put(struct cdp_api *api, struct cdp_store *s)
{
    pthread_mutex_lock(&api->mu);
    if (s && api->nidle[s->context] < POOL_MAX) {
        api->idle[s->context][api->nidle[s->context]++] = s;
        s = NULL;
    }
    pthread_mutex_unlock(&api->mu);
    cdp_store_close(s);
}

const struct cdp_config *cdp_api_config(const struct cdp_api *api)
{
    return api->cfg;
}

const unsigned char *cdp_api_secret_key(const struct cdp_api *api)
{
    return api->secret_key;
}

void cdp_api_reply_err(struct cdp_http_req *req, int rc, const char *what)
{
    if (rc == CDP_E_NOT_FOUND)
        cdp_http_reply_error(req, 404, "%s not found", what);
    else
        cdp_http_reply_error(req, cdp_err_status(rc), "%s: %s", what, cdp_err_str(rc));
}

void cdp_api_paging(struct cdp_http_req *req, int *start, int *limit)
{
    const char *s = cdp_http_query(req, "start");
    const char *l = cdp_http_query(req, "limit");
    long sv = s ? strtol(s, NULL, 10) : 0;
    long lv = l ? strtol(l, NULL, 10) : 100;
    *start = sv < 0 ? 0 : sv > 1000000 ? 1000000 : (int)sv;
    *limit = lv < 1 ? 1 : lv > 1000 ? 1000 : (int)lv;
}

cJSON *cdp_api_body_json(struct cdp_http_req *req, struct cdp_api *api)
{
    size_t len;
    const char *body = cdp_http_body(req, &len);
    if (!cdp_json_depth_ok(body, len, (int)api->cfg->max_depth)) {
        cdp_http_reply_error(req, 422, "body: JSON nests deeper than %ld levels",
                             api->cfg->max_depth);
        return NULL;
    }
    size_t pos = 0;
    cJSON *doc = cdp_json_parse(body, len, &pos);
    if (!doc)
        cdp_http_reply_error(req, 422, "body: malformed JSON at byte %zu", pos);
    return doc;
}

/* Saves doc as kind/id (NULL: deletes it) and audits the change with the documents before and
 * after, in one transaction. */
static int entity_write(struct cdp_http_req *req, struct cdp_store *s, const char *kind,
                        const char *id, const cJSON *doc)
{
    cJSON *before = NULL;
    int rc = s->ops->begin(s);
    if (rc)
        return rc;
    rc = s->ops->entity_get(s, kind, id, &before);
    if (rc == CDP_E_NOT_FOUND && doc)
        rc = 0;
    if (!rc)
        rc = doc ? s->ops->entity_put(s, kind, id, doc) : s->ops->entity_delete(s, kind, id);
    if (!rc) {
        cdp_api_audit_docs(req, kind, id, before, doc);
        rc = cdp_api_audit_write(req, s, 200);
    }
    if (!rc)
        rc = s->ops->commit(s);
    if (rc)
        s->ops->rollback(s);
    cJSON_Delete(before);
    return rc;
}

void cdp_api_entity_put(struct cdp_http_req *req, struct cdp_api *api, const char *kind,
                        const char *what, int (*normalize)(cJSON *doc, char *err, size_t errlen))
{
    cJSON *doc = cdp_api_body_json(req, api);
    if (!doc)
        return;
    char err[400];
    if (normalize(doc, err, sizeof(err))) {
        cJSON_Delete(doc);
        cdp_http_reply_error(req, 422, "%s", err);
        return;
    }
    struct cdp_store *s = cdp_api_store(api, req);
    if (!s) {
        cJSON_Delete(doc);
        return;
    }
    int rc = entity_write(req, s, kind, cdp_json_str(doc, "id"), doc);
    cdp_api_store_put(api, s);
    if (rc) {
        cJSON_Delete(doc);
        cdp_api_reply_err(req, rc, what);
        return;
    }
    cdp_http_reply_json(req, 200, doc);
}

void cdp_api_entity_get(struct cdp_http_req *req, struct cdp_api *api, const char *kind,
                        const char *what)
{
    struct cdp_store *s = cdp_api_store(api, req);
    if (!s)
        return;
    cJSON *doc = NULL;
    int rc = s->ops->entity_get(s, kind, cdp_http_param(req, 0), &doc);
    cdp_api_store_put(api, s);
    if (rc)
        cdp_api_reply_err(req, rc, what);
    else
        cdp_http_reply_json(req, 200, doc);
}

void cdp_api_entity_delete(struct cdp_http_req *req, struct cdp_api *api, const char *kind,
                           const char *what)
{
    struct cdp_store *s = cdp_api_store(api, req);
    if (!s)
        return;
    int rc = entity_write(req, s, kind, cdp_http_param(req, 0), NULL);
    cdp_api_store_put(api, s);
    if (rc) {
        cdp_api_reply_err(req, rc, what);
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "deleted", 1);
    cdp_http_reply_json(req, 200, j);
}

/* What the lists of each kind sort by besides id, name and enabled (?sort=type, ?sort=-type):
 * names the API shows, and the JSON paths the store gets for them. */
struct sort_key {
    const char *name, *path;
};
static const struct sort_key common_sort_keys[] = {
    {"id", NULL}, {"name", "$.name"}, {"enabled", "$.enabled"}};
static const struct {
    const char *kind;
    struct sort_key keys[3];
} kind_sort_keys[] = {
    {"event-source", {{"channel", "$.channel"}, {"timestamp", "$.timestamp"}}},
    {"segment", {{"machine_name", "$.machine_name"}}},
    {"consent-type", {{"revokable", "$.revokable"}, {"required", "$.required"}}},
    {"event-validator", {{"event_type", "$.event_type.id"}}},
    {"event-to-profile", {{"event_type", "$.event_type.id"}}},
    {"event-reshaping", {{"event_type", "$.event_type"}}},
    {"identification-point", {{"event_type", "$.event_type.id"}}},
    {"flow", {{"type", "$.type"}, {"timestamp", "$.timestamp"}}},
    {"rule", {{"event_type", "$.event_type.id"}, {"flow", "$.flow.name"}}},
    {"resource", {{"type", "$.type.id"}, {"timestamp", "$.timestamp"}}},
    {"destination", {{"resource", "$.resource.id"}, {"event_type", "$.event_type.id"}}},
    {"setting", {{"type", "$.type"}, {"timestamp", "$.timestamp"}}},
};

/* Finds ?sort= among the keys of kind; false after replying 422 naming the allowed ones. */
static bool list_sort(struct cdp_http_req *req, const char *kind, struct cdp_entity_query *q)
{
    const char *sort = cdp_http_query(req, "sort");
    if (!sort || !*sort)
        return true;
    q->desc = *sort == '-';
    const char *field = sort + q->desc;
    const struct sort_key *extra = NULL;
    for (size_t i = 0; i < sizeof(kind_sort_keys) / sizeof(kind_sort_keys[0]); i++)
        if (strcmp(kind_sort_keys[i].kind, kind) == 0)
            extra = kind_sort_keys[i].keys;
    char allowed[200] = "";
    size_t n = 0;
    for (size_t i = 0; i < 3 + (extra ? 3 : 0); i++) {
        const struct sort_key *k = i < 3 ? &common_sort_keys[i] : &extra[i - 3];
        if (!k->name)
            continue;
        if (strcmp(k->name, field) == 0) {
            q->sort = k->path;
            return true;
        }
        n += (size_t)snprintf(allowed + n, n < sizeof(allowed) ? sizeof(allowed) - n : 0, "%s%s",
                              n ? ", " : "", k->name);
    }
    cdp_http_reply_error(req, 422, "sort: cannot sort by `%.64s` (by %s; a leading - reverses)",
                         field, allowed);
    return false;
}

cJSON *cdp_api_list_page(struct cdp_http_req *req, struct cdp_api *api, const char *kind,
                         const char *what, const char *where, const char *equals, long *total)
{
    int start, limit;
    cdp_api_paging(req, &start, &limit);
    struct cdp_entity_query q = {.where = where, .equals = equals};
    if (!list_sort(req, kind, &q))
        return NULL;
    struct cdp_store *s = cdp_api_store(api, req);
    if (!s)
        return NULL;
    cJSON *list = NULL;
    int rc = s->ops->entity_list(s, kind, &q, start, limit, &list, total);
    cdp_api_store_put(api, s);
    if (rc) {
        cdp_api_reply_err(req, rc, what);
        return NULL;
    }
    return list;
}

void cdp_api_entity_list(struct cdp_http_req *req, struct cdp_api *api, const char *kind,
                         const char *what)
{
    long total = 0;
    cJSON *list = cdp_api_list_page(req, api, kind, what, NULL, NULL, &total);
    if (!list)
        return;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "total", (double)total);
    cJSON_AddItemToObject(j, "result", list);
    cdp_http_reply_json(req, 200, j);
}

int cdp_api_entity_all(struct cdp_store *s, const char *kind, cJSON **out)
{
    cJSON *all = cJSON_CreateArray();
    int rc = all ? 0 : CDP_E_NOMEM;
    for (int start = 0; !rc;) {
        cJSON *page = NULL;
        long total = 0;
        if ((rc = s->ops->entity_list(s, kind, NULL, start, 1000, &page, &total)))
            break;
        int n = cJSON_GetArraySize(page);
        while (page->child)
            cJSON_AddItemToArray(all, cJSON_DetachItemViaPointer(page, page->child));
        cJSON_Delete(page);
        start += n;
        if (n == 0 || start >= total)
            break;
    }
    if (rc)
        cJSON_Delete(all);
    else
        *out = all;
    return rc;
}
