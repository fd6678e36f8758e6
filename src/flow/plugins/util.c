/* Config readers and common answers of the plugins (util.h). */
#include "flow/plugins/util.h"

#include "core/err.h"
#include "core/json.h"
#include "flow/template.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cdp_cfg_bool(const cJSON *init, const char *key, bool def, bool *out, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(init, key);
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return 0;
    }
    if (!cJSON_IsBool(v)) {
        snprintf(err, errlen, "%s: must be true or false", key);
        return CDP_E_INVALID;
    }
    *out = cJSON_IsTrue(v);
    return 0;
}

int cdp_cfg_number(const cJSON *init, const char *key, double def, double *out, char *err,
                   size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(init, key);
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return 0;
    }
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
        *out = v->valuedouble;
        return 0;
    }
    if (cJSON_IsString(v) && v->valuestring[0] && !isspace((unsigned char)v->valuestring[0])) {
        char *end;
        errno = 0;
        double d = strtod(v->valuestring, &end);
        while (isspace((unsigned char)*end))
            end++;
        if (*end == '\0' && errno == 0 && isfinite(d)) {
            *out = d;
            return 0;
        }
    }
    snprintf(err, errlen, "%s: must be a number", key);
    return CDP_E_INVALID;
}

static bool is_blank(const char *s)
{
    return s[strspn(s, " \t\r\n")] == '\0';
}

int cdp_cfg_text(const cJSON *init, const char *key, bool allow_blank, const char **out, char *err,
                 size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(init, key);
    if (!v || cJSON_IsNull(v) ||
        (cJSON_IsString(v) && (allow_blank ? !v->valuestring[0] : is_blank(v->valuestring)))) {
        snprintf(err, errlen, "%s: is required", key);
        return CDP_E_INVALID;
    }
    if (!cJSON_IsString(v)) {
        snprintf(err, errlen, "%s: must be a string", key);
        return CDP_E_INVALID;
    }
    *out = v->valuestring;
    return 0;
}

int cdp_cfg_template(const cJSON *init, const char *key, cJSON **out, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(init, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v) || (cJSON_IsString(v) && is_blank(v->valuestring))) {
        *out = cJSON_CreateObject();
    } else if (cJSON_IsObject(v)) {
        *out = cJSON_Duplicate(v, true);
    } else if (cJSON_IsString(v)) {
        size_t len = strlen(v->valuestring), pos = 0;
        if (!cdp_json_depth_ok(v->valuestring, len, CDP_TEMPLATE_MAX_DEPTH)) {
            snprintf(err, errlen, "%s: nested deeper than %d levels", key, CDP_TEMPLATE_MAX_DEPTH);
            return CDP_E_INVALID;
        }
        cJSON *t = cdp_json_parse(v->valuestring, len, &pos);
        if (!t) {
            snprintf(err, errlen, "%s: not valid JSON at byte %zu", key, pos);
            return CDP_E_INVALID;
        }
        if (!cJSON_IsObject(t)) {
            cJSON_Delete(t);
            snprintf(err, errlen, "%s: must be a JSON object", key);
            return CDP_E_INVALID;
        }
        *out = t;
    } else {
        snprintf(err, errlen, "%s: must be a JSON object", key);
        return CDP_E_INVALID;
    }
    return *out ? 0 : CDP_E_NOMEM;
}

int cdp_cfg_id_list(const cJSON *init, const char *key, const char *list_of, const char *item,
                    cJSON **out, char *err, size_t errlen)
{
    *out = NULL;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(init, key);
    if (list && !cJSON_IsNull(list) && !cJSON_IsArray(list)) {
        snprintf(err, errlen, "%s: must be a list of %s", key, list_of);
        return CDP_E_INVALID;
    }
    cJSON *ids = cJSON_CreateArray();
    if (!ids)
        return CDP_E_NOMEM;
    int i = 0;
    const cJSON *it, *items = cJSON_IsArray(list) ? list : NULL;
    cJSON_ArrayForEach(it, items)
    {
        const char *id = cJSON_IsString(it) ? it->valuestring : cdp_json_str(it, "id");
        if (!id || !id[0]) {
            cJSON_Delete(ids);
            snprintf(err, errlen, "%s: item %d must be %s or {id, name}", key, i, item);
            return CDP_E_INVALID;
        }
        cJSON_AddItemToArray(ids, cJSON_CreateString(id));
        i++;
    }
    *out = ids;
    return 0;
}

int cdp_emit_payload(struct cdp_flow_call *c, const char *port)
{
    return cdp_flow_emit(c, port, cdp_flow_take_payload(c));
}

int cdp_emit_error(struct cdp_flow_call *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cdp_flow_log(c, "error", "%s", msg);
    cJSON *v = cJSON_CreateObject();
    if (!v || !cJSON_AddStringToObject(v, "message", msg)) {
        cJSON_Delete(v);
        return CDP_E_NOMEM;
    }
    return cdp_flow_emit(c, "error", v);
}
