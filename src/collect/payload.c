/* TrackerPayload checks: types of the fields the collector reads; unknown fields pass. */
#include "collect/payload.h"
#include "core/err.h"
#include "core/json.h"
#include "model/event.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* loc is a list of path parts: strings, or ints given as "#<n>". */
static cJSON *problem(const char *type, const char *msg, int nloc, ...)
{
    cJSON *list = cJSON_CreateArray();
    cJSON *e = cJSON_CreateObject();
    cJSON *loc = cJSON_AddArrayToObject(e, "loc");
    cJSON_AddItemToArray(loc, cJSON_CreateString("body"));
    va_list ap;
    va_start(ap, nloc);
    for (int i = 0; i < nloc; i++) {
        const char *part = va_arg(ap, const char *);
        if (part[0] == '#')
            cJSON_AddItemToArray(loc, cJSON_CreateNumber(strtol(part + 1, NULL, 10)));
        else
            cJSON_AddItemToArray(loc, cJSON_CreateString(part));
    }
    va_end(ap);
    cJSON_AddStringToObject(e, "msg", msg);
    cJSON_AddStringToObject(e, "type", type);
    cJSON_AddItemToArray(list, e);
    return list;
}

static bool is_obj_or_null(const cJSON *it)
{
    return !it || cJSON_IsObject(it) || cJSON_IsNull(it);
}

/* Checks an optional {id: string|null} object such as session or profile. */
static int check_ref(const cJSON *p, const char *key, cJSON **detail)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(p, key);
    if (!is_obj_or_null(o)) {
        *detail = problem("type_error.dict", "value is not a valid dict", 1, key);
        return CDP_E_INVALID;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    if (id && !cJSON_IsString(id) && !cJSON_IsNull(id)) {
        *detail = problem("type_error.str", "str type expected", 2, key, "id");
        return CDP_E_INVALID;
    }
    if (cJSON_IsString(id) && strlen(id->valuestring) > 128) {
        *detail = problem("value_error.any_str.max_length",
                          "ensure this value has at most 128 characters", 2, key, "id");
        return CDP_E_INVALID;
    }
    return 0;
}

static int check_event(cJSON *ev, int i, cJSON **detail)
{
    char idx[16];
    snprintf(idx, sizeof(idx), "#%d", i);
    if (!cJSON_IsObject(ev)) {
        *detail = problem("type_error.dict", "value is not a valid dict", 2, "events", idx);
        return CDP_E_INVALID;
    }
    cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
    if (!type) {
        *detail = problem("value_error.missing", "field required", 3, "events", idx, "type");
        return CDP_E_INVALID;
    }
    char slug[CDP_EVENT_TYPE_MAX];
    if (!cJSON_IsString(type) || cdp_event_type_slug(type->valuestring, slug, sizeof(slug)) == 0) {
        *detail = problem("value_error",
                          "event type must be a non-empty string of at most 127 "
                          "characters",
                          3, "events", idx, "type");
        return CDP_E_INVALID;
    }
    cJSON_SetValuestring(type, slug);
    static const char *const objects[] = {"properties", "context", "options", "time", NULL};
    for (int k = 0; objects[k]; k++) {
        if (!is_obj_or_null(cJSON_GetObjectItemCaseSensitive(ev, objects[k]))) {
            *detail = problem("type_error.dict", "value is not a valid dict", 3, "events", idx,
                              objects[k]);
            return CDP_E_INVALID;
        }
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(ev, "id");
    if (id && !cJSON_IsNull(id) &&
        (!cJSON_IsString(id) || !*id->valuestring || strlen(id->valuestring) > 128)) {
        *detail = problem("type_error.str", "event id must be a string of 1 to 128 characters", 3,
                          "events", idx, "id");
        return CDP_E_INVALID;
    }
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(ev, "tags");
    if (tags && !cJSON_IsNull(tags)) {
        const cJSON *t;
        bool ok = cJSON_IsArray(tags);
        cJSON_ArrayForEach(t, tags) ok = ok && cJSON_IsString(t);
        if (!ok) {
            *detail = problem("type_error.list", "tags must be a list of strings", 3, "events", idx,
                              "tags");
            return CDP_E_INVALID;
        }
    }
    return 0;
}

int cdp_payload_parse(const char *body, size_t len, const struct cdp_payload_limits *lim,
                      cJSON **out, cJSON **detail)
{
    *out = NULL;
    *detail = NULL;
    if (!cdp_json_depth_ok(body, len, lim->max_depth)) {
        char msg[96];
        snprintf(msg, sizeof(msg), "JSON nests deeper than %d levels", lim->max_depth);
        *detail = problem("value_error.jsondepth", msg, 0);
        return CDP_E_INVALID;
    }
    size_t pos = 0;
    cJSON *p = cdp_json_parse(body, len, &pos);
    if (!p) {
        char msg[128];
        snprintf(msg, sizeof(msg), "malformed JSON at byte %zu", pos);
        *detail = problem("value_error.jsondecode", msg, 0);
        return CDP_E_BAD_JSON;
    }
    int rc = CDP_E_INVALID;
    if (!cJSON_IsObject(p)) {
        *detail = problem("type_error.dict", "payload must be a JSON object", 0);
        goto fail;
    }
    const cJSON *source = cJSON_GetObjectItemCaseSensitive(p, "source");
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(source, "id");
    if (!cJSON_IsObject(source) || !cJSON_IsString(sid) || !*sid->valuestring) {
        *detail = problem("value_error.missing", "field required: source.id (a string)", 2,
                          "source", "id");
        goto fail;
    }
    if (strlen(sid->valuestring) > 128) {
        *detail = problem("value_error.any_str.max_length",
                          "ensure this value has at most 128 characters", 2, "source", "id");
        goto fail;
    }
    if ((rc = check_ref(p, "session", detail)) || (rc = check_ref(p, "profile", detail)))
        goto fail;
    rc = CDP_E_INVALID;
    static const char *const objects[] = {"context", "properties", "options", "request", NULL};
    for (int k = 0; objects[k]; k++) {
        if (!is_obj_or_null(cJSON_GetObjectItemCaseSensitive(p, objects[k]))) {
            *detail = problem("type_error.dict", "value is not a valid dict", 1, objects[k]);
            goto fail;
        }
    }
    cJSON *events = cJSON_GetObjectItemCaseSensitive(p, "events");
    if (events && !cJSON_IsArray(events) && !cJSON_IsNull(events)) {
        *detail = problem("type_error.list", "value is not a valid list", 1, "events");
        goto fail;
    }
    if (cJSON_GetArraySize(events) > lim->max_events) {
        char msg[96];
        snprintf(msg, sizeof(msg), "too many events: at most %ld per payload", lim->max_events);
        *detail = problem("value_error.list.max_items", msg, 1, "events");
        goto fail;
    }
    int i = 0;
    cJSON *ev;
    cJSON_ArrayForEach(ev, events)
    {
        if ((rc = check_event(ev, i++, detail)))
            goto fail;
    }
    *out = p;
    return 0;
fail:
    cJSON_Delete(p);
    return rc;
}
