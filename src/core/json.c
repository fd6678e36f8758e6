/* Small cJSON conveniences used across modules. */
#include "core/json.h"

#include "core/buf.h"
#include "core/err.h"
#include "core/id.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The next number literal at or after *p outside strings; advances *p past it. */
static bool next_number_token(const char **p, const char *end, const char **tok, size_t *n)
{
    const char *q = *p;
    while (q < end) {
        if (*q == '"') {
            for (q++; q < end && *q != '"'; q++)
                if (*q == '\\')
                    q++;
            q++;
        } else if (*q == '-' || (*q >= '0' && *q <= '9')) {
            *tok = q;
            while (q < end && (*q == '-' || *q == '+' || *q == '.' || *q == 'e' || *q == 'E' ||
                               (*q >= '0' && *q <= '9')))
                q++;
            *n = (size_t)(q - *tok);
            *p = q;
            return true;
        } else {
            q++;
        }
    }
    *p = q;
    return false;
}

/* Walks the tree in document order beside the text, so the k-th number node meets the k-th
 * number literal, and keeps the literal of integers a double cannot hold exactly. */
static void keep_exact_integers(cJSON *node, const char **p, const char *end)
{
    for (; node; node = node->next) {
        if (cJSON_IsNumber(node)) {
            const char *tok;
            size_t n;
            if (!next_number_token(p, end, &tok, &n))
                return;
            char exact[32];
            bool integer = n < sizeof(exact) && !memchr(tok, '.', n) && !memchr(tok, 'e', n) &&
                           !memchr(tok, 'E', n);
            if (integer) {
                snprintf(exact, sizeof(exact), "%.0f", node->valuedouble);
                if (strlen(exact) != n || memcmp(exact, tok, n) != 0)
                    node->valuestring = strndup(tok, n); /* printed verbatim; freed by cJSON */
            }
        }
        if (node->child)
            keep_exact_integers(node->child, p, end);
    }
}

/* True when the text has a run of 16 or more digits, the only way to write an integer that a
 * double may not hold exactly; most documents have none and skip the walk. */
static bool has_long_digit_run(const char *s, size_t len)
{
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        run = s[i] >= '0' && s[i] <= '9' ? run + 1 : 0;
        if (run >= 16)
            return true;
    }
    return false;
}

cJSON *cdp_json_parse(const char *s, size_t len, size_t *err_pos)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(s, len, &end, false);
    if (j && end) {
        while (end < s + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
            end++;
        if (end < s + len) {
            cJSON_Delete(j);
            j = NULL;
        }
    }
    if (!j && err_pos)
        *err_pos = end && end >= s ? (size_t)(end - s) : 0;
    if (j && has_long_digit_run(s, len)) {
        const char *p = s;
        keep_exact_integers(j, &p, s + len);
    }
    return j;
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

cJSON *cdp_json_borrow(const cJSON *v)
{
    if (cJSON_IsObject(v))
        return cJSON_CreateObjectReference(v->child);
    if (cJSON_IsArray(v))
        return cJSON_CreateArrayReference(v->child);
    return cJSON_Duplicate(v, false);
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

bool cdp_json_merge(cJSON *dst, const cJSON *src)
{
    if (!cJSON_IsObject(dst) || !cJSON_IsObject(src))
        return false;
    bool changed = false;
    for (const cJSON *c = src->child; c; c = c->next) {
        if (!c->string)
            continue;
        cJSON *d = cJSON_GetObjectItemCaseSensitive(dst, c->string);
        if (cJSON_IsObject(d) && cJSON_IsObject(c)) {
            changed |= cdp_json_merge(d, c);
        } else if (!d || !cJSON_Compare(d, c, true)) {
            cdp_json_put(dst, c->string, cJSON_Duplicate(c, true));
            changed = true;
        }
    }
    return changed;
}

bool cdp_json_flag(const cJSON *obj, const char *key, bool def)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsBool(it) ? cJSON_IsTrue(it) : def;
}

/* Numbers print exactly: integers up to 2^53 as integers (cJSON 1.7's printer rounds them to
 * 15 digits, 9007199254740991 -> 9.00719925474099e+15), fractions in the shortest form that
 * reads back to the same double. */
static int write_number(struct cdp_buf *b, double d)
{
    if (!isfinite(d))
        return cdp_buf_puts(b, "null");
    char tmp[40];
    if (d == floor(d) && fabs(d) < 9007199254740992.0) { /* exact in a double: print digits */
        char *e = tmp + sizeof(tmp), *p = e;
        uint64_t v = (uint64_t)fabs(d);
        do {
            *--p = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        if (d < 0)
            *--p = '-';
        return cdp_buf_append(b, p, (size_t)(e - p));
    }
    if (d == floor(d) && fabs(d) < 1e17) {
        snprintf(tmp, sizeof(tmp), "%.0f", d);
    } else {
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
            if (strtod(tmp, NULL) == d)
                break;
        }
    }
    return cdp_buf_puts(b, tmp);
}

/* Bytes that JSON strings cannot hold as they are: '"', '\\' and controls. */
static const unsigned char needs_escape[256] = {
    [0 ... 0x1f] = 1,
    ['"'] = 1,
    ['\\'] = 1,
};

static int write_string(struct cdp_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    int rc = cdp_buf_append(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    while (!rc) {
        const unsigned char *run = p;
        while (*p && !needs_escape[*p])
            p++;
        if (p > run && (rc = cdp_buf_append(b, run, (size_t)(p - run))))
            break;
        if (!*p)
            break;
        char esc[6] = {'\\', (char)*p, 0, 0, 0, 0};
        size_t n = 2;
        switch (*p) {
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '"':
        case '\\':
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            n = 6;
        }
        rc = cdp_buf_append(b, esc, n);
        p++;
    }
    return rc ? rc : cdp_buf_append(b, "\"", 1);
}

int cdp_json_write(struct cdp_buf *b, const cJSON *item)
{
    switch (item->type & 0xff) {
    case cJSON_NULL:
        return cdp_buf_puts(b, "null");
    case cJSON_False:
        return cdp_buf_puts(b, "false");
    case cJSON_True:
        return cdp_buf_puts(b, "true");
    case cJSON_Number: /* valuestring holds the literal of an integer too big for a double */
        return item->valuestring ? cdp_buf_puts(b, item->valuestring)
                                 : write_number(b, item->valuedouble);
    case cJSON_String:
        return write_string(b, item->valuestring ? item->valuestring : "");
    case cJSON_Raw:
        return cdp_buf_puts(b, item->valuestring ? item->valuestring : "null");
    case cJSON_Array:
    case cJSON_Object: {
        bool obj = (item->type & 0xff) == cJSON_Object;
        int rc = cdp_buf_append(b, obj ? "{" : "[", 1);
        for (const cJSON *c = item->child; !rc && c; c = c->next) {
            if (c != item->child)
                rc = cdp_buf_append(b, ",", 1);
            if (!rc && obj) {
                rc = write_string(b, c->string ? c->string : "");
                if (!rc)
                    rc = cdp_buf_append(b, ":", 1);
            }
            if (!rc)
                rc = cdp_json_write(b, c);
        }
        return rc ? rc : cdp_buf_append(b, obj ? "}" : "]", 1);
    }
    default:
        return cdp_buf_puts(b, "null");
    }
}

cJSON *cdp_json_detail(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "detail", msg);
    return j;
}

char *cdp_json_print(const cJSON *item)
{
    struct cdp_buf b;
    cdp_buf_init(&b, 0);
    if (cdp_json_write(&b, item)) {
        cdp_buf_fini(&b);
        return NULL;
    }
    return cdp_buf_steal(&b, NULL);
}

static void diff_into(cJSON *out, const cJSON *a, const cJSON *b, char *path, size_t len,
                      size_t cap)
{
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, a)
        {
            int n = snprintf(path + len, cap - len, "%s%s", len ? "." : "", it->string);
            if (n < 0 || (size_t)n >= cap - len)
                continue;
            diff_into(out, it, cJSON_GetObjectItemCaseSensitive(b, it->string), path,
                      len + (size_t)n, cap);
        }
        cJSON_ArrayForEach(it, b)
        {
            if (cJSON_GetObjectItemCaseSensitive(a, it->string))
                continue;
            int n = snprintf(path + len, cap - len, "%s%s", len ? "." : "", it->string);
            if (n < 0 || (size_t)n >= cap - len)
                continue;
            diff_into(out, NULL, it, path, len + (size_t)n, cap);
        }
        path[len] = '\0';
        return;
    }
    if (a && b && cJSON_Compare(a, b, true))
        return;
    cJSON *d = cJSON_CreateObject();
    if (!d)
        return;
    path[len] = '\0';
    cJSON_AddStringToObject(d, "path", path);
    if (a)
        cJSON_AddItemToObject(d, "old", cJSON_Duplicate(a, true));
    if (b)
        cJSON_AddItemToObject(d, "new", cJSON_Duplicate(b, true));
    cJSON_AddItemToArray(out, d);
}

cJSON *cdp_json_diff(const cJSON *before, const cJSON *after)
{
    cJSON *out = cJSON_CreateArray();
    char path[1024] = "";
    if (out)
        diff_into(out, before, after, path, 0, sizeof(path));
    return out;
}

bool cdp_json_unborrow(cJSON *doc)
{
    for (cJSON *it = doc ? doc->child : NULL; it; it = it->next) {
        if (it->type & cJSON_IsReference) {
            cJSON *own = cJSON_Duplicate(it, true);
            if (!own)
                return false;
            cJSON_ReplaceItemViaPointer(doc, it, own);
            it = own;
        } else if (!cdp_json_unborrow(it)) {
            return false;
        }
    }
    return true;
}

const char *cdp_json_named(cJSON *doc, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);
    const char *id = cJSON_IsString(v) ? v->valuestring : cdp_json_str(v, "id");
    if (!id || !*id)
        return NULL;
    const char *name = cJSON_IsObject(v) ? cdp_json_str(v, "name") : NULL;
    cJSON *named = cJSON_CreateObject();
    if (!named || !cJSON_AddStringToObject(named, "id", id) ||
        !cJSON_AddStringToObject(named, "name", name && *name ? name : id)) {
        cJSON_Delete(named);
        return NULL;
    }
    cdp_json_put(doc, key, named);
    return cdp_json_str(named, "id");
}

int cdp_json_object_or_empty(cJSON *doc, const char *key, const char *prefix, char *err,
                             size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);
    if (!v || cJSON_IsNull(v)) {
        cdp_json_put(doc, key, cJSON_CreateObject());
        return 0;
    }
    if (!cJSON_IsObject(v)) {
        snprintf(err, errlen, "%s%s: must be an object", prefix, key);
        return CDP_E_INVALID;
    }
    return 0;
}

int cdp_json_string_list(cJSON *doc, const char *key, const char *def, bool single, char *err,
                         size_t errlen)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);
    if (!v || cJSON_IsNull(v)) {
        cJSON *l = cJSON_CreateArray();
        if (def)
            cJSON_AddItemToArray(l, cJSON_CreateString(def));
        cdp_json_put(doc, key, l);
        return 0;
    }
    if (single && cJSON_IsString(v)) {
        cJSON *l = cJSON_CreateArray();
        cJSON_AddItemToArray(l, cJSON_CreateString(v->valuestring));
        cdp_json_put(doc, key, l);
        return 0;
    }
    if (!cJSON_IsArray(v)) {
        snprintf(err, errlen, "%s: expected a list of strings", key);
        return CDP_E_INVALID;
    }
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsString(it)) {
            snprintf(err, errlen, "%s[%d]: expected a string", key, i);
            return CDP_E_INVALID;
        }
        i++;
    }
    return 0;
}

int cdp_json_entity_head(cJSON *doc, const char *what, char *err, size_t errlen)
{
    if (!cJSON_IsObject(doc)) {
        snprintf(err, errlen, "body: expected %s object", what);
        return CDP_E_INVALID;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "id");
    if (id && !cJSON_IsNull(id) && !cJSON_IsString(id)) {
        snprintf(err, errlen, "id: expected a string");
        return CDP_E_INVALID;
    }
    if (!cJSON_IsString(id) || !*id->valuestring) {
        char uuid[CDP_UUID_LEN];
        cdp_id_uuid4(uuid);
        cdp_json_put_str(doc, "id", uuid);
    } else if (strlen(id->valuestring) > 128) {
        snprintf(err, errlen, "id: longer than 128 characters");
        return CDP_E_INVALID;
    }
    const char *name = cdp_json_str(doc, "name");
    if (!name || !name[strspn(name, " \t\r\n")]) {
        snprintf(err, errlen, "name: %s needs a name", what);
        return CDP_E_INVALID;
    }
    return 0;
}
