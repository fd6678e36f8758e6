/* Small cJSON conveniences used across modules. */
#include "core/json.h"

#include <stdint.h>
#include <string.h>

bool cdp_json_depth_ok(const char *s, size_t len, int max_depth)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth)
                return false;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return true;
}

cJSON *cdp_json_get(const cJSON *obj, const char *path)
{
    /* cJSON's own getters drop const the same way: the tree is the caller's. */
    cJSON *cur = (cJSON *)(uintptr_t)obj;
    const char *p = path;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!cJSON_IsObject(cur))
            return NULL;
        cJSON *next = NULL;
        for (cJSON *c = cur->child; c; c = c->next)
            if (c->string && strlen(c->string) == n && memcmp(c->string, p, n) == 0) {
                next = c;
                break;
            }
        cur = next;
        p = dot ? dot + 1 : p + n;
    }
    return cur;
}

const char *cdp_json_str(const cJSON *obj, const char *path)
{
    const cJSON *it = cdp_json_get(obj, path);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

cJSON *cdp_json_obj(cJSON *obj, const char *key)
{
    cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsObject(it))
        return it;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cdp_json_put(obj, key, o);
    return o;
}

void cdp_json_put(cJSON *obj, const char *key, cJSON *item)
{
    if (!item)
        return;
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
    else
        cJSON_AddItemToObject(obj, key, item);
}

void cdp_json_put_str(cJSON *obj, const char *key, const char *s)
{
    cdp_json_put(obj, key, s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

void cdp_json_put_num(cJSON *obj, const char *key, double v)
{
    cdp_json_put(obj, key, cJSON_CreateNumber(v));
}

void cdp_json_put_bool(cJSON *obj, const char *key, bool v)
{
    cdp_json_put(obj, key, cJSON_CreateBool(v));
}

void cdp_json_set(cJSON *obj, const char *path, cJSON *item)
{
    char key[256];
    const char *p = path;
    cJSON *cur = obj;
    for (;;) {
        const char *dot = strchr(p, '.');
        if (!dot) {
            cdp_json_put(cur, p, item);
            return;
        }
        size_t n = (size_t)(dot - p);
        if (n >= sizeof(key) ||
            !(cur = (memcpy(key, p, n), key[n] = '\0', cdp_json_obj(cur, key)))) {
            cJSON_Delete(item);
            return;
        }
        p = dot + 1;
    }
}

void cdp_json_merge(cJSON *dst, const cJSON *src)
{
    if (!cJSON_IsObject(dst) || !cJSON_IsObject(src))
        return;
    for (const cJSON *c = src->child; c; c = c->next) {
        if (!c->string)
            continue;
        cJSON *d = cJSON_GetObjectItemCaseSensitive(dst, c->string);
        if (cJSON_IsObject(d) && cJSON_IsObject(c))
            cdp_json_merge(d, c);
        else
            cdp_json_put(dst, c->string, cJSON_Duplicate(c, true));
    }
}

bool cdp_json_flag(const cJSON *obj, const char *key, bool def)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsBool(it) ? cJSON_IsTrue(it) : def;
}

char *cdp_json_print(const cJSON *item)
{
    return cJSON_PrintUnformatted(item);
}
