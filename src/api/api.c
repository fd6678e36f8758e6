/* The management API's route table (roles per route in one place) and its store pool. */
#include "api/api.h"
#include "core/config.h"
#include "core/err.h"
#include "core/json.h"
#include "http/http.h"
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_MAX 16

struct cdp_api {
    const struct cdp_config *cfg;
    pthread_mutex_t mu;
    struct cdp_store *idle[POOL_MAX];
    int nidle;
};

#define ADMIN     CDP_ROLE_ADMIN
#define ADMIN_DEV (CDP_ROLE_ADMIN | CDP_ROLE_DEVELOPER)
#define ANY       CDP_ROLES_ALL
#define MARKETING (CDP_ROLE_ADMIN | CDP_ROLE_DEVELOPER | CDP_ROLE_MARKETER)

const struct cdp_route cdp_api_routes[] = {
    {"GET", "/", cdp_http_version, 0},
    {"GET", "/healthcheck", cdp_http_healthcheck, 0},
    {"POST", "/user/token", cdp_api_token, 0},
    {"POST", "/user/logout", cdp_api_logout, ANY},
    {"POST", "/event-source", cdp_api_source_put, ADMIN_DEV},
    {"GET", "/event-source/{id}", cdp_api_source_get, ADMIN_DEV},
    {"DELETE", "/event-source/{id}", cdp_api_source_delete, ADMIN_DEV},
    {"GET", "/event-sources", cdp_api_source_list, ADMIN_DEV},
    {"GET", "/profile/{id}", cdp_api_profile_get, ANY},
    {"GET", "/session/{id}", cdp_api_session_get, ANY},
    {"GET", "/event/{id}", cdp_api_event_get, ANY},
    {"GET", "/events/profile/{id}", cdp_api_events_by_profile, ANY},
    {"DELETE", "/profile/{id}", cdp_api_profile_delete, ADMIN},
    {"GET", "/profile/{id}/export", cdp_api_profile_export, ADMIN},
    {"POST", "/segment", cdp_api_segment_put, MARKETING},
    {"GET", "/segment/{id}", cdp_api_segment_get, MARKETING},
    {"DELETE", "/segment/{id}", cdp_api_segment_delete, MARKETING},
    {"GET", "/segments", cdp_api_segment_list, MARKETING},
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
    {"GET", "/event-types/build-in/by_type", cdp_api_event_types_by_type, ANY},
    {"GET", "/event-type/build-in/{id}", cdp_api_event_type_get, ANY},
    {"POST", "/flow/draft", cdp_api_flow_draft_put, ADMIN_DEV},
    {"GET", "/flow/draft/{id}", cdp_api_flow_draft_get, ADMIN_DEV},
    {"POST", "/flow/production", cdp_api_flow_deploy, ADMIN_DEV},
    {"GET", "/flow/production/{id}", cdp_api_flow_production_get, ADMIN_DEV},
    {"GET", "/flows", cdp_api_flow_list, ADMIN_DEV},
    {"DELETE", "/flow/{id}", cdp_api_flow_delete, ADMIN_DEV},
    {"POST", "/flow/debug", cdp_api_flow_debug, ADMIN_DEV},
    {"GET", "/flow/action/plugins", cdp_api_flow_plugins, ADMIN_DEV},
    {"POST", "/rule", cdp_api_rule_put, ADMIN_DEV},
    {"GET", "/rule/{id}", cdp_api_rule_get, ADMIN_DEV},
    {"DELETE", "/rule/{id}", cdp_api_rule_delete, ADMIN_DEV},
    {"GET", "/rules", cdp_api_rule_list, ADMIN_DEV},
    {"GET", "/rules/by_flow/{id}", cdp_api_rules_by_flow, ADMIN_DEV},
    {"GET", "/rules/by_event_type/{type}", cdp_api_rules_by_event_type, ADMIN_DEV},
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
    *out = api;
    return 0;
}

void cdp_api_free(struct cdp_api *api)
{
    if (!api)
        return;
    for (int i = 0; i < api->nidle; i++)
        cdp_store_close(api->idle[i]);
    pthread_mutex_destroy(&api->mu);
    free(api);
}

struct cdp_store *cdp_api_store(struct cdp_api *api, struct cdp_http_req *req)
{
    pthread_mutex_lock(&api->mu);
    struct cdp_store *s = api->nidle ? api->idle[--api->nidle] : NULL;
    pthread_mutex_unlock(&api->mu);
    if (s)
        return s;
    char err[256];
    struct cdp_store_opts so = {.durable = strcmp(api->cfg->sync, "full") == 0};
    if (cdp_store_open(&s, api->cfg->data, &so, err, sizeof(err))) {
        if (req)
            cdp_http_reply_error(req, 503, "store unavailable: %s", err);
        return NULL;
    }
    return s;
}

void cdp_api_store_put(struct cdp_api *api, struct cdp_store *s)
{
    pthread_mutex_lock(&api->mu);
    if (api->nidle < POOL_MAX) {
        api->idle[api->nidle++] = s;
        s = NULL;
    }
    pthread_mutex_unlock(&api->mu);
    cdp_store_close(s);
}

const struct cdp_config *cdp_api_config(const struct cdp_api *api)
{
    return api->cfg;
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
    int rc = s->ops->entity_put(s, kind, cdp_json_str(doc, "id"), doc);
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
    int rc = s->ops->entity_delete(s, kind, cdp_http_param(req, 0));
    cdp_api_store_put(api, s);
    if (rc) {
        cdp_api_reply_err(req, rc, what);
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "deleted", 1);
    cdp_http_reply_json(req, 200, j);
}

void cdp_api_entity_list(struct cdp_http_req *req, struct cdp_api *api, const char *kind,
                         const char *what)
{
    int start, limit;
    cdp_api_paging(req, &start, &limit);
    struct cdp_store *s = cdp_api_store(api, req);
    if (!s)
        return;
    cJSON *list = NULL;
    long total = 0;
    int rc = s->ops->entity_list(s, kind, start, limit, &list, &total);
    cdp_api_store_put(api, s);
    if (rc) {
        cdp_api_reply_err(req, rc, what);
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "total", (double)total);
    cJSON_AddItemToObject(j, "result", list);
    cdp_http_reply_json(req, 200, j);
}
