/* Event-source rules. */
#include "model/source.h"
#include "core/clock.h"
#include "core/id.h"
#include "core/json.h"

#include <stdio.h>
#include <string.h>

static const char *const bridge_types[] = {"rest",     "webhook",    "redirect",
                                           "internal", "javascript", NULL};

bool cdp_source_is_enabled(const cJSON *source)
{
    return cdp_json_flag(source, "enabled", true);
}

/* Whether a source of type `type` takes traffic of `bridge`: its own, and /track's ("rest")
 * also from a "javascript" source, as the JavaScript tracker posts to /track. */
static bool takes(const char *type, const char *bridge)
{
    return strcmp(type, bridge) == 0 ||
           (strcmp(bridge, "rest") == 0 && strcmp(type, "javascript") == 0);
}

bool cdp_source_has_bridge(const cJSON *source, const char *bridge)
{
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(source, "type");
    const cJSON *t;
    if (cJSON_IsString(types))
        return takes(types->valuestring, bridge);
    cJSON_ArrayForEach(t, types)
    {
        if (cJSON_IsString(t) && takes(t->valuestring, bridge))
            return true;
    }
    return false;
}

static bool known_bridge(const char *b)
{
    for (int i = 0; bridge_types[i]; i++)
        if (strcmp(bridge_types[i], b) == 0)
            return true;
    return false;
}

int cdp_source_normalize(cJSON *s, char *err, size_t errlen)
{
    if (!cJSON_IsObject(s)) {
        snprintf(err, errlen, "body: an event source must be a JSON object");
        return -1;
    }
    cJSON *id = cJSON_GetObjectItemCaseSensitive(s, "id");
    if (id && !cJSON_IsNull(id)) {
        if (!cJSON_IsString(id) || !*id->valuestring || strlen(id->valuestring) > 128) {
            snprintf(err, errlen, "id: must be a non-empty string of at most 128 characters");
            return -1;
        }
        if (id->valuestring[0] == '@') {
            snprintf(err, errlen, "id: ids starting with @ are reserved for internal sources");
            return -1;
        }
    } else {
        char uuid[CDP_UUID_LEN];
        cdp_id_uuid4(uuid);
        cdp_json_put_str(s, "id", uuid);
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");
    if (!cJSON_IsString(name) || !*name->valuestring) {
        snprintf(err, errlen, "name: field required (a non-empty string)");
        return -1;
    }
    cJSON *type = cJSON_GetObjectItemCaseSensitive(s, "type");
    if (cJSON_IsString(type)) {
        cJSON *arr = cJSON_CreateArray();
        cJSON_AddItemToArray(arr, cJSON_CreateString(type->valuestring));
        cdp_json_put(s, "type", arr);
        type = arr;
    } else if (!type || cJSON_IsNull(type)) {
        cJSON *arr = cJSON_CreateArray();
        cJSON_AddItemToArray(arr, cJSON_CreateString("rest"));
        cdp_json_put(s, "type", arr);
        type = arr;
    }
    if (!cJSON_IsArray(type) || cJSON_GetArraySize(type) == 0) {
        snprintf(err, errlen, "type: must be a non-empty list of bridge types");
        return -1;
    }
    const cJSON *t;
    cJSON_ArrayForEach(t, type)
    {
        if (!cJSON_IsString(t) || !known_bridge(t->valuestring)) {
            snprintf(err, errlen,
                     "type: unknown bridge type (want rest, webhook, redirect, internal or "
                     "javascript)");
            return -1;
        }
    }
    static const char *const bools[] = {"enabled",
                                        "transitional",
                                        "returns_profile",
                                        "permanent_profile_id",
                                        "requires_consent",
                                        "manual",
                                        "locked",
                                        "synchronize_profiles",
                                        NULL};
    for (int i = 0; bools[i]; i++) {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(s, bools[i]);
        if (b && !cJSON_IsBool(b) && !cJSON_IsNull(b)) {
            snprintf(err, errlen, "%s: must be true or false", bools[i]);
            return -1;
        }
        if (!b || cJSON_IsNull(b))
            cdp_json_put_bool(s, bools[i], strcmp(bools[i], "enabled") == 0);
    }
    static const char *const strs[] = {"description", "channel", NULL};
    for (int i = 0; strs[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, strs[i]);
        if (v && !cJSON_IsString(v) && !cJSON_IsNull(v)) {
            snprintf(err, errlen, "%s: must be a string", strs[i]);
            return -1;
        }
        if (!v)
            cdp_json_put_str(s, strs[i], "");
    }
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(s, "tags");
    if (tags && !cJSON_IsArray(tags)) {
        snprintf(err, errlen, "tags: must be a list of strings");
        return -1;
    }
    if (!tags)
        cJSON_AddArrayToObject(s, "tags");
    if (!cJSON_GetObjectItemCaseSensitive(s, "timestamp")) {
        char ts[CDP_ISO_LEN];
        cdp_clock_iso(cdp_clock_now_us(), ts);
        cdp_json_put_str(s, "timestamp", ts);
    }
    return 0;
}
