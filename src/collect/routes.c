/* The collector listener's routes: /track and /collect turn a request into a job for the
 * pipeline; /healthcheck and / answer at once. */
#include "collect/collect.h"
#include "collect/enrich.h"
#include "collect/payload.h"
#include "collect/pipeline.h"
#include "core/config.h"
#include "core/err.h"
#include "core/json.h"
#include "http/http.h"
#include "model/event.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void add_header(void *ud, const char *k, const char *v)
{
    if (strcmp(k, "authorization") == 0 || strcmp(k, "cookie") == 0)
        return;
    cJSON_AddItemToObject(ud, k, cJSON_CreateString(v));
}

static struct cdp_job *job_new(struct cdp_http_req *req, struct cdp_collector *c, cJSON *payload,
                               const char *bridge, bool profile_less)
{
    struct cdp_job *job = calloc(1, sizeof(*job));
    if (!job) {
        cJSON_Delete(payload);
        return NULL;
    }
    const struct cdp_config *cfg = cdp_collector_config(c);
    job->req = req;
    job->payload = payload;
    job->bridge = bridge;
    job->profile_less = profile_less;
    cdp_enrich_client_ip(cdp_http_client_ip(req), cdp_http_header(req, "X-Forwarded-For"),
                         cfg->trusted_proxies, job->ip, sizeof(job->ip));
    const char *ua = cdp_http_header(req, "User-Agent");
    job->user_agent = ua ? strdup(ua) : NULL;
    job->headers = cJSON_CreateObject();
    cdp_http_each_header(req, add_header, job->headers);
    return job;
}

static bool is_true(const char *v)
{
    return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0);
}

static void reply_detail(struct cdp_http_req *req, int rc, cJSON *detail)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddItemToObject(body, "detail", detail);
    cdp_http_reply_json(req, cdp_err_status(rc), body);
}

static void track(struct cdp_http_req *req, void *app)
{
    struct cdp_collector *c = app;
    const struct cdp_config *cfg = cdp_collector_config(c);
    size_t len;
    const char *body = cdp_http_body(req, &len);
    struct cdp_payload_limits lim = {.max_depth = (int)cfg->max_depth,
                                     .max_events = cfg->max_events};
    cJSON *payload, *detail;
    int rc = cdp_payload_parse(body, len, &lim, &payload, &detail);
    if (rc) {
        reply_detail(req, rc, detail);
        return;
    }
    struct cdp_job *job =
        job_new(req, c, payload, "rest", is_true(cdp_http_query(req, "profile_less")));
    if (!job) {
        cdp_http_reply_error(req, 500, "out of memory");
        return;
    }
    cdp_collector_submit(c, job);
}

/* Query and form values become properties; a repeated key becomes a list. */
static void add_property(void *ud, const char *k, const char *v)
{
    cJSON *props = ud;
    cJSON *old = cJSON_GetObjectItemCaseSensitive(props, k);
    if (!old) {
        cJSON_AddItemToObject(props, k, cJSON_CreateString(v));
        return;
    }
    if (!cJSON_IsArray(old)) {
        cJSON *arr = cJSON_CreateArray();
        cJSON_AddItemToArray(arr, cJSON_Duplicate(old, false));
        cJSON_ReplaceItemInObjectCaseSensitive(props, k, arr);
        old = arr;
    }
    cJSON_AddItemToArray(old, cJSON_CreateString(v));
}

static int collect_properties(struct cdp_http_req *req, const struct cdp_config *cfg, cJSON **out,
                              cJSON **detail)
{
    cJSON *props = cJSON_CreateObject();
    *out = props;
    if (strcmp(cdp_http_method(req), "GET") == 0) {
        cdp_http_each_query(req, add_property, props);
        return 0;
    }
    size_t len;
    const char *body = cdp_http_body(req, &len);
    const char *ctype = cdp_http_header(req, "Content-Type");
    if (len == 0)
        return 0;
    if (ctype && strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0) {
        if (cdp_http_form_parse(body, len, add_property, props) == 0)
            return 0;
        *detail = cJSON_CreateString("malformed form body: bad %-escape");
        return CDP_E_INVALID;
    }
    bool json = !ctype || strstr(ctype, "json");
    if (json) {
        if (!cdp_json_depth_ok(body, len, (int)cfg->max_depth)) {
            *detail = cJSON_CreateString("JSON nests too deep");
            return CDP_E_INVALID;
        }
        cJSON *j = cdp_json_parse(body, len, NULL);
        if (cJSON_IsObject(j)) {
            cJSON_Delete(props);
            *out = j;
            return 0;
        }
        if (j) {
            cJSON_AddItemToObject(props, "body", j);
            return 0;
        }
        if (ctype) {
            *detail = cJSON_CreateString("malformed JSON body");
            return CDP_E_BAD_JSON;
        }
    }
    cJSON_AddItemToObject(props, "body", cJSON_CreateString(body));
    return 0;
}

static void collect(struct cdp_http_req *req, void *app)
{
    struct cdp_collector *c = app;
    const char *type = cdp_http_param(req, 0);
    const char *source = cdp_http_param(req, 1);
    const char *session = cdp_http_param(req, 2);
    char slug[CDP_EVENT_TYPE_MAX];
    if (cdp_event_type_slug(type, slug, sizeof(slug)) == 0) {
        cdp_http_reply_error(req, 422, "event type must be a non-empty string");
        return;
    }
    cJSON *props, *detail = NULL;
    int rc = collect_properties(req, cdp_collector_config(c), &props, &detail);
    if (rc) {
        cJSON_Delete(props);
        reply_detail(req, rc, detail);
        return;
    }
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(cJSON_AddObjectToObject(p, "source"), "id", source);
    if (session)
        cJSON_AddStringToObject(cJSON_AddObjectToObject(p, "session"), "id", session);
    cJSON_AddBoolToObject(cJSON_AddObjectToObject(p, "options"), "saveSession", session != NULL);
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "type", slug);
    cJSON_AddItemToObject(ev, "properties", props);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(p, "events"), ev);
    struct cdp_job *job = job_new(req, c, p, "webhook", session == NULL);
    if (!job) {
        cdp_http_reply_error(req, 500, "out of memory");
        return;
    }
    cdp_collector_submit(c, job);
}

/* POST /customer/consent[?all=true] (no authentication, as Tracardi):
 * {source: {id}, session?: {id}, profile?: {id}, consents: {type id: true | false}, all?}.
 * It runs through the pipeline as a consent-update event, so it is serialised with the
 * profile's other updates; the answer is {profile: {id}, consents}. */
static void customer_consent(struct cdp_http_req *req, void *app)
{
    struct cdp_collector *c = app;
    const struct cdp_config *cfg = cdp_collector_config(c);
    size_t len;
    const char *body = cdp_http_body(req, &len);
    if (!cdp_json_depth_ok(body, len, (int)cfg->max_depth)) {
        cdp_http_reply_error(req, 422, "body: JSON nests deeper than %ld levels", cfg->max_depth);
        return;
    }
    size_t pos = 0;
    cJSON *in = cdp_json_parse(body, len, &pos);
    if (!in) {
        cdp_http_reply_error(req, 422, "body: malformed JSON at byte %zu", pos);
        return;
    }
    const char *src = cdp_json_str(in, "source.id");
    const cJSON *consents = cJSON_GetObjectItemCaseSensitive(in, "consents");
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(in, "all");
    const char *why = !cJSON_IsObject(in) ? "body: expected an object"
                      : !src || !*src     ? "source.id: required"
                      : consents && !cJSON_IsObject(consents)
                          ? "consents: expected {\"<consent type id>\": true | false}"
                      : all && !cJSON_IsBool(all) ? "all: expected true or false"
                                                  : NULL;
    if (why) {
        cJSON_Delete(in);
        cdp_http_reply_error(req, 422, "%s", why);
        return;
    }
    cJSON *p = cJSON_CreateObject(), *ev = cJSON_CreateObject();
    static const char *const keep[] = {"source", "session", "profile"};
    for (size_t i = 0; i < 3; i++) {
        cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(in, keep[i]);
        if (v)
            cJSON_AddItemToObject(p, keep[i], v);
    }
    cJSON_AddStringToObject(ev, "type", "consent-update");
    cJSON *props = cJSON_AddObjectToObject(ev, "properties");
    cJSON *given = cJSON_DetachItemFromObjectCaseSensitive(in, "consents");
    cJSON_AddItemToObject(props, "consents", given ? given : cJSON_CreateObject());
    cJSON_AddBoolToObject(props, "all", cJSON_IsTrue(all) || is_true(cdp_http_query(req, "all")));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(p, "events"), ev);
    cJSON_Delete(in);
    struct cdp_job *job = job_new(req, c, p, "rest", false);
    if (!job) {
        cdp_http_reply_error(req, 500, "out of memory");
        return;
    }
    job->consent = true;
    cdp_collector_submit(c, job);
}

const struct cdp_route cdp_collect_routes[] = {
    {"GET", "/", cdp_http_version, 0},
    {"GET", "/healthcheck", cdp_http_healthcheck, 0},
    {"POST", "/track", track, 0},
    {"GET", "/collect/{type}/{source}", collect, 0},
    {"POST", "/collect/{type}/{source}", collect, 0},
    {"GET", "/collect/{type}/{source}/{session}", collect, 0},
    {"POST", "/collect/{type}/{source}/{session}", collect, 0},
    {"POST", "/customer/consent", customer_consent, 0},
};

const size_t cdp_collect_nroutes = sizeof(cdp_collect_routes) / sizeof(cdp_collect_routes[0]);
