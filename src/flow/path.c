/* Dot-notation references (`profile@traits.email`): scanning, parsing into segments, resolving
 * against the flow's documents and writing into them. See path.h for the syntax. */
#include "flow/path.h"

#include "core/err.h"
#include "core/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const source_names[] = {
    [CDP_PATH_PROFILE] = "profile", [CDP_PATH_EVENT] = "event", [CDP_PATH_SESSION] = "session",
    [CDP_PATH_PAYLOAD] = "payload", [CDP_PATH_FLOW] = "flow",   [CDP_PATH_MEMORY] = "memory",
};
#define NSOURCES (sizeof(source_names) / sizeof(source_names[0]))

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_key_char(char c)
{
    return is_alpha(c) || is_digit(c) || c == '_' || c == '-';
}

/* Source named by s[0..n) case-insensitively, or -1. */
static int find_source(const char *s, size_t n)
{
    for (size_t i = 0; i < NSOURCES; i++)
        if (strlen(source_names[i]) == n && strncasecmp(source_names[i], s, n) == 0)
            return (int)i;
    return -1;
}

size_t cdp_path_scan(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && is_alpha(s[i]))
        i++;
    if (i == len || s[i] != '@' || find_source(s, i) < 0)
        return 0;
    i++;
    while (i < len) {
        if (is_key_char(s[i]) || s[i] == '.') {
            i++;
        } else if (s[i] == '[') {
            /* A bracket runs to its ']', skipping over a quoted key that may hold anything. */
            i++;
            if (i < len && s[i] == '"') {
                i++;
                while (i < len && s[i] != '"')
                    i++;
                if (i < len)
                    i++;
            }
            while (i < len && s[i] != ']' && s[i] != ' ')
                i++;
            if (i < len && s[i] == ']')
                i++;
        } else {
            break;
        }
    }
    return i;
}

void cdp_path_free(struct cdp_path *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nseg; i++)
        free(p->seg[i]);
    free(p);
}

static int add_seg(struct cdp_path *p, const char *s, size_t n)
{
    char *k = strndup(s, n);
    if (!k)
        return CDP_E_NOMEM;
    p->seg[p->nseg++] = k;
    return 0;
}

int cdp_path_parse(const char *s, size_t len, struct cdp_path **out)
{
    *out = NULL;
    const char *at = memchr(s, '@', len);
    if (!at)
        return CDP_E_INVALID;
    int src = find_source(s, (size_t)(at - s));
    if (src < 0)
        return CDP_E_INVALID;
    const char *p = at + 1, *end = s + len;
    /* Every segment starts at the beginning, a '.' or a '[', which bounds the count. */
    size_t max = 1;
    for (const char *q = p; q < end; q++)
        max += (*q == '.' || *q == '[');
    struct cdp_path *path = calloc(1, sizeof(*path) + max * sizeof(char *));
    if (!path)
        return CDP_E_NOMEM;
    path->source = (enum cdp_path_source)src;
    int rc = CDP_E_INVALID;
    if (p == end || (end - p == 3 && memcmp(p, "...", 3) == 0)) {
        *out = path;
        return 0;
    }
    bool need_seg = true; /* at the start and after '.', a key must follow */
    while (p < end) {
        if (*p == '[') {
            p++;
            const char *k = p;
            if (p < end && *p == '"') {
                k = ++p;
                while (p < end && *p != '"')
                    p++;
                if (p >= end)
                    goto fail;
                rc = add_seg(path, k, (size_t)(p - k));
                p++;
            } else {
                while (p < end && is_digit(*p))
                    p++;
                if (p == k)
                    goto fail;
                rc = add_seg(path, k, (size_t)(p - k));
            }
            if (rc < 0)
                goto fail;
            rc = CDP_E_INVALID;
            if (p >= end || *p != ']')
                goto fail;
            p++;
            need_seg = false;
        } else if (need_seg) {
            const char *k = p;
            while (p < end && is_key_char(*p))
                p++;
            if (p == k)
                goto fail;
            rc = add_seg(path, k, (size_t)(p - k));
            if (rc < 0)
                goto fail;
            rc = CDP_E_INVALID;
            need_seg = false;
        } else if (*p == '.') {
            p++;
            need_seg = true;
        } else {
            goto fail;
        }
    }
    if (need_seg)
        goto fail; /* a trailing '.' */
    *out = path;
    return 0;
fail:
    cdp_path_free(path);
    return rc;
}

static cJSON **root_slot(const struct cdp_refs *r, enum cdp_path_source src)
{
    /* The slots are the caller's; writing through them is what cdp_path_set is for. */
    struct cdp_refs *w = (struct cdp_refs *)(uintptr_t)r;
    switch (src) {
    case CDP_PATH_PROFILE:
        return &w->profile;
    case CDP_PATH_EVENT:
        return &w->event;
    case CDP_PATH_SESSION:
        return &w->session;
    case CDP_PATH_PAYLOAD:
        return &w->payload;
    case CDP_PATH_FLOW:
        return &w->flow;
    case CDP_PATH_MEMORY:
        return &w->memory;
    }
    return NULL;
}

/* Array index spelled by key, or -1 when key is not a plain non-negative integer. */
static int array_index(const char *key)
{
    int v = 0;
    if (!*key)
        return -1;
    for (const char *p = key; *p; p++) {
        if (!is_digit(*p) || v > 100000000)
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v;
}

static cJSON *child(const cJSON *cur, const char *key)
{
    if (cJSON_IsObject(cur))
        return cJSON_GetObjectItemCaseSensitive(cur, key);
    if (cJSON_IsArray(cur)) {
        int i = array_index(key);
        return i < 0 ? NULL : cJSON_GetArrayItem(cur, i);
    }
    return NULL;
}

const cJSON *cdp_path_resolve(const struct cdp_refs *r, const struct cdp_path *p)
{
    if (!r || !p)
        return NULL;
    const cJSON *cur = *root_slot(r, p->source);
    for (size_t i = 0; cur && i < p->nseg; i++)
        cur = child(cur, p->seg[i]);
    return cur;
}

bool cdp_path_is_ref(const char *s)
{
    if (!s)
        return false;
    struct cdp_path *p;
    if (cdp_path_parse(s, strlen(s), &p) < 0)
        return false;
    cdp_path_free(p);
    return true;
}

const cJSON *cdp_path_get(const struct cdp_refs *r, const char *ref)
{
    if (!ref)
        return NULL;
    struct cdp_path *p;
    if (cdp_path_parse(ref, strlen(ref), &p) < 0)
        return NULL;
    const cJSON *v = cdp_path_resolve(r, p);
    cdp_path_free(p);
    return v;
}

/* Moves the members of src into the object dst, whose old members are dropped. */
static void replace_members(cJSON *dst, cJSON *src)
{
    while (dst->child)
        cJSON_Delete(cJSON_DetachItemViaPointer(dst, dst->child));
    while (src->child)
        cJSON_AddItemToArray(dst, cJSON_DetachItemViaPointer(src, src->child));
    cJSON_Delete(src);
}

/* Stores item under key in the container cur; takes ownership of item. */
static int put(cJSON *cur, const char *key, cJSON *item)
{
    if (cJSON_IsObject(cur)) {
        cdp_json_put(cur, key, item);
        return 0;
    }
    int i = array_index(key);
    int n = cJSON_GetArraySize(cur);
    if (i >= 0 && i < n) {
        cJSON_ReplaceItemInArray(cur, i, item);
        return 0;
    }
    if (i == n) {
        cJSON_AddItemToArray(cur, item);
        return 0;
    }
    cJSON_Delete(item);
    return CDP_E_INVALID;
}

int cdp_path_set(struct cdp_refs *r, const char *ref, cJSON *value)
{
    struct cdp_path *p = NULL;
    if (!r || !ref || !value) {
        cJSON_Delete(value);
        return CDP_E_INVALID;
    }
    int rc = cdp_path_parse(ref, strlen(ref), &p);
    if (rc < 0) {
        cJSON_Delete(value);
        return rc;
    }
    rc = cdp_path_put(r, p, value);
    cdp_path_free(p);
    return rc;
}

int cdp_path_put(struct cdp_refs *r, const struct cdp_path *p, cJSON *value)
{
    int rc = CDP_E_INVALID;
    if (!r || !p || !value)
        goto out;
    rc = CDP_E_FORBIDDEN;
    if (p->source == CDP_PATH_FLOW)
        goto out;
    cJSON **root = root_slot(r, p->source);
    if (p->nseg == 0) {
        rc = CDP_E_INVALID;
        if (!cJSON_IsObject(value) || (*root && !cJSON_IsObject(*root)))
            goto out;
        if (*root)
            replace_members(*root, value);
        else
            *root = value;
        value = NULL;
        rc = 0;
        goto out;
    }
    rc = CDP_E_NOMEM;
    if (!*root && !(*root = cJSON_CreateObject()))
        goto out;
    rc = CDP_E_INVALID;
    cJSON *cur = *root;
    if (!cJSON_IsObject(cur) && !cJSON_IsArray(cur))
        goto out;
    for (size_t i = 0; i + 1 < p->nseg; i++) {
        cJSON *next = child(cur, p->seg[i]);
        if (!cJSON_IsObject(next) && !cJSON_IsArray(next)) {
            /* A missing step or a scalar in the way becomes an object, as dotty dicts do. */
            rc = CDP_E_NOMEM;
            if (!(next = cJSON_CreateObject()))
                goto out;
            rc = put(cur, p->seg[i], next);
            if (rc < 0)
                goto out;
        }
        cur = next;
    }
    rc = put(cur, p->seg[p->nseg - 1], value);
    value = NULL;
out:
    cJSON_Delete(value);
    return rc;
}
