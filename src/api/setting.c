/* Settings (tracardi-api.md §2.15): named documents of a type that the GUI and plugins keep
 * their own configuration in. POST /setting, GET|DELETE /setting/{id}, GET /settings,
 * GET /settings/{type}. */
#include "api/api.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "http/http.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

#define KIND "setting"

static int bad(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return CDP_E_INVALID;
}

int cdp_api_setting_normalize(cJSON *doc, char *err, size_t errlen)
{
    int rc = cdp_json_entity_head(doc, "a setting", err, errlen);
    if (rc)
        return rc;
    const char *type = cdp_json_str(doc, "type");
    if (!type || !type[strspn(type, " \t")])
        return bad(err, errlen, "type: required, a non-empty string");
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(doc, "description");
    if (desc && !cJSON_IsNull(desc) && !cJSON_IsString(desc))
        return bad(err, errlen, "description: expected a string");
    if (!cJSON_IsString(desc))
        cdp_json_put_str(doc, "description", "");
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(doc, "enabled");
    if (en && !cJSON_IsBool(en))
        return bad(err, errlen, "enabled: expected true or false");
    if (!en)
        cdp_json_put_bool(doc, "enabled", false); /* Tracardi's default */
    static const char *const objects[] = {"content", "config"};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, objects[i]);
        if (!v || cJSON_IsNull(v)) {
            cdp_json_put(doc, objects[i], cJSON_CreateObject());
        } else if (!cJSON_IsObject(v)) {
            snprintf(err, errlen, "%s: must be an object", objects[i]);
            return CDP_E_INVALID;
        }
    }
    char now[40];
    cdp_clock_iso(cdp_clock_now_us(), now);
    cdp_json_put_str(doc, "timestamp", now); /* of the last save */
    return 0;
}

void cdp_api_setting_put(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_put(req, app, KIND, "setting", cdp_api_setting_normalize);
}

void cdp_api_setting_get(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_get(req, app, KIND, "setting");
}

void cdp_api_setting_delete(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_delete(req, app, KIND, "setting");
}

void cdp_api_setting_list(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_list(req, app, KIND, "settings");
}

void cdp_api_settings_of_type(struct cdp_http_req *req, void *app)
{
    long total = 0;
    cJSON *list =
        cdp_api_list_page(req, app, KIND, "settings", "$.type", cdp_http_param(req, 0), &total);
    if (!list)
        return;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "total", (double)total);
    cJSON_AddItemToObject(j, "result", list);
    cdp_http_reply_json(req, 200, j);
}
