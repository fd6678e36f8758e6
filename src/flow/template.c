/* String and object templates over dot-notation references, as Tracardi's dot_template.py and
 * dict_traverser.py. Rendering scans the text once, appending literal runs and resolved values to
 * the caller's buffer; reshaping walks the template tree recursively, bounded by
 * CDP_TEMPLATE_MAX_DEPTH so a hostile template cannot exhaust the stack. */
#include "flow/template.h"

#include "core/err.h"
#include "core/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Appends v as text: a string without quotes, anything else as compact JSON. */
static int write_value(struct cdp_buf *out, const cJSON *v)
{
    if (cJSON_IsString(v))
        return cdp_buf_puts(out, v->valuestring ? v->valuestring : "");
    return cdp_json_write(out, v);
}

/* Handles the `{{ ... }}` opening at tpl + at; on success *next is the offset past its `}}`. */
static int render_one(const char *tpl, size_t len, size_t at, const struct cdp_refs *r,
                      struct cdp_buf *out, size_t *next, char *err, size_t errlen)
{
    const char *close = strstr(tpl + at + 2, "}}");
    if (!close) {
        set_err(err, errlen, "unclosed {{ at %zu", at);
        return CDP_E_INVALID;
    }
    size_t i = at + 2;
    while (i < len && is_space(tpl[i]))
        i++;
    /* Scan the reference before looking for `}}` so a quoted key may hold braces. */
    size_t n = cdp_path_scan(tpl + i, len - i);
    size_t j = i + n;
    while (j < len && is_space(tpl[j]))
        j++;
    if (n == 0 || j + 1 >= len || tpl[j] != '}' || tpl[j + 1] != '}') {
        /* Name what the braces hold, up to the first `}}`, for the message. */
        size_t shown = (size_t)(close - (tpl + i));
        while (shown > 0 && is_space(tpl[i + shown - 1]))
            shown--;
        set_err(err, errlen, "not a reference in {{ }} at %zu: '%.*s'", at,
                (int)(shown > 64 ? 64 : shown), tpl + i);
        return CDP_E_INVALID;
    }
    struct cdp_path *p;
    int rc = cdp_path_parse(tpl + i, n, &p);
    if (rc == CDP_E_NOMEM) {
        set_err(err, errlen, "template reference: %s", cdp_err_str(rc));
        return rc;
    }
    if (rc < 0) {
        set_err(err, errlen, "not a reference in {{ }} at %zu: '%.*s'", at, (int)(n > 64 ? 64 : n),
                tpl + i);
        return CDP_E_INVALID;
    }
    const cJSON *v = cdp_path_resolve(r, p);
    cdp_path_free(p);
    if (!v) {
        set_err(err, errlen, "missing value for %.*s at %zu", (int)(n > 200 ? 200 : n), tpl + i,
                at);
        return CDP_E_INVALID;
    }
    rc = write_value(out, v);
    if (rc < 0) {
        set_err(err, errlen, "template output: %s", cdp_err_str(rc));
        return rc;
    }
    *next = j + 2;
    return 0;
}

int cdp_template_render(const char *tpl, const struct cdp_refs *r, struct cdp_buf *out, char *err,
                        size_t errlen)
{
    size_t start_len = out->len, len = strlen(tpl), i = 0;
    int rc = 0;
    while (i < len) {
        const char *open = strstr(tpl + i, "{{");
        size_t lit = open ? (size_t)(open - (tpl + i)) : len - i;
        rc = cdp_buf_append(out, tpl + i, lit);
        if (rc < 0) {
            set_err(err, errlen, "template output: %s", cdp_err_str(rc));
            goto fail;
        }
        i += lit;
        if (!open)
            break;
        rc = render_one(tpl, len, i, r, out, &i, err, errlen);
        if (rc < 0)
            goto fail;
    }
    return 0;
fail:
    /* Leave the caller's buffer as it was, so a failed render adds no half text. */
    out->len = start_len;
    if (out->data)
        out->data[out->len] = '\0';
    return rc;
}

/* A copy of v with no member name, so it can go into an array or under a new key. */
static cJSON *copy_value(const cJSON *v)
{
    cJSON *c = cJSON_Duplicate(v, true);
    if (c && c->string) {
        if (!(c->type & cJSON_StringIsConst))
            cJSON_free(c->string);
        c->string = NULL;
        c->type &= ~cJSON_StringIsConst;
    }
    return c;
}

static bool is_empty(const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return true;
    if (cJSON_IsString(v))
        return !v->valuestring || !v->valuestring[0];
    if (cJSON_IsArray(v) || cJSON_IsObject(v))
        return v->child == NULL;
    return false;
}

/* Reshapes one node at depth. With optional set a missing reference gives *out = NULL and no
 * error, so the caller can drop the key. */
static int reshape(const cJSON *tpl, const struct cdp_refs *r, bool strict, bool optional,
                   int depth, cJSON **out, char *err, size_t errlen)
{
    *out = NULL;
    if (depth > CDP_TEMPLATE_MAX_DEPTH) {
        set_err(err, errlen, "object template nested deeper than %d", CDP_TEMPLATE_MAX_DEPTH);
        return CDP_E_INVALID;
    }
    if (cJSON_IsString(tpl) && cdp_path_is_ref(tpl->valuestring)) {
        const cJSON *v = cdp_path_get(r, tpl->valuestring);
        if (!v) {
            if (optional)
                return 0;
            if (strict) {
                set_err(err, errlen, "missing value for %.200s", tpl->valuestring);
                return CDP_E_INVALID;
            }
            *out = cJSON_CreateNull();
        } else {
            *out = copy_value(v);
        }
        goto done;
    }
    if (!cJSON_IsArray(tpl) && !cJSON_IsObject(tpl)) {
        *out = copy_value(tpl);
        goto done;
    }
    bool obj = cJSON_IsObject(tpl);
    cJSON *c = obj ? cJSON_CreateObject() : cJSON_CreateArray();
    if (!c)
        goto done;
    for (const cJSON *it = tpl->child; it; it = it->next) {
        const char *key = it->string ? it->string : "";
        size_t klen = strlen(key);
        bool opt = obj && klen > 0 && key[klen - 1] == '?';
        cJSON *v;
        int rc = reshape(it, r, strict, opt, depth + 1, &v, err, errlen);
        if (rc < 0) {
            cJSON_Delete(c);
            return rc;
        }
        if (opt && is_empty(v)) {
            cJSON_Delete(v);
            continue;
        }
        if (!obj) {
            cJSON_AddItemToArray(c, v);
            continue;
        }
        /* cJSON copies the key, so the name without its `?` can live on the stack when short. */
        char small[128], *name = small;
        if (opt) {
            if (klen > sizeof(small) && !(name = malloc(klen))) {
                cJSON_Delete(v);
                cJSON_Delete(c);
                set_err(err, errlen, "object template: %s", cdp_err_str(CDP_E_NOMEM));
                return CDP_E_NOMEM;
            }
            memcpy(name, key, klen - 1);
            name[klen - 1] = '\0';
        }
        const char *nm = opt ? name : key;
        bool added = cJSON_AddItemToObject(c, nm, v);
        if (name != small)
            free(name);
        if (!added) {
            cJSON_Delete(v);
            cJSON_Delete(c);
            set_err(err, errlen, "object template: %s", cdp_err_str(CDP_E_NOMEM));
            return CDP_E_NOMEM;
        }
    }
    *out = c;
done:
    if (!*out) {
        set_err(err, errlen, "object template: %s", cdp_err_str(CDP_E_NOMEM));
        return CDP_E_NOMEM;
    }
    return 0;
}

int cdp_template_object(const cJSON *tpl, const struct cdp_refs *r, bool strict, cJSON **out,
                        char *err, size_t errlen)
{
    if (!tpl) {
        *out = NULL;
        set_err(err, errlen, "object template is missing");
        return CDP_E_INVALID;
    }
    return reshape(tpl, r, strict, false, 1, out, err, errlen);
}

/* Appends ".key" or "[i]" to the path in buf (len bytes used), truncating quietly: the path only
 * names the place in a message. */
static size_t path_push(char *buf, size_t size, size_t len, const cJSON *it, int index)
{
    int n = it->string ? snprintf(buf + len, size - len, ".%s", it->string)
                       : snprintf(buf + len, size - len, "[%d]", index);
    if (n < 0)
        return len;
    return len + (size_t)n < size ? len + (size_t)n : size - 1;
}

struct check {
    unsigned sources;
    const char *reads;
    char *err;
    size_t errlen;
    char path[300];
};

static int check_leaf(struct check *c, const char *s)
{
    size_t n = strlen(s);
    if (cdp_path_scan(s, n) == 0)
        return 0; /* a literal */
    struct cdp_path *p;
    int rc = cdp_path_parse(s, n, &p);
    if (rc == CDP_E_NOMEM)
        return rc;
    if (rc) {
        snprintf(c->err, c->errlen, "%s: `%.120s` is not a reference (such as %s)", c->path, s,
                 c->sources & (1u << CDP_PATH_PROFILE) || !c->sources
                     ? "profile@data.contact.email.main"
                     : "event@properties.email");
        return CDP_E_INVALID;
    }
    bool ok = !c->sources || (c->sources & (1u << p->source));
    cdp_path_free(p);
    if (!ok) {
        snprintf(c->err, c->errlen, "%s: `%.120s`: this template reads only %s", c->path, s,
                 c->reads);
        return CDP_E_INVALID;
    }
    return 0;
}

static int check_node(struct check *c, const cJSON *tpl, int depth, size_t len)
{
    if (depth > CDP_TEMPLATE_MAX_DEPTH) {
        snprintf(c->err, c->errlen, "%s: the template nests deeper than %d levels", c->path,
                 CDP_TEMPLATE_MAX_DEPTH);
        return CDP_E_INVALID;
    }
    if (cJSON_IsString(tpl))
        return check_leaf(c, tpl->valuestring);
    int i = 0;
    for (const cJSON *it = cJSON_IsArray(tpl) || cJSON_IsObject(tpl) ? tpl->child : NULL; it;
         it = it->next, i++) {
        size_t l = path_push(c->path, sizeof(c->path), len, it, i);
        int rc = check_node(c, it, depth + 1, l);
        c->path[len] = '\0';
        if (rc)
            return rc;
    }
    return 0;
}

int cdp_template_object_check(const cJSON *tpl, unsigned sources, const char *reads, const char *at,
                              char *err, size_t errlen)
{
    struct check c = {
        .sources = sources, .reads = reads ? reads : "", .err = err, .errlen = errlen};
    snprintf(c.path, sizeof(c.path), "%s", at);
    int rc = check_node(&c, tpl, 1, strlen(c.path));
    if (rc == CDP_E_NOMEM)
        snprintf(err, errlen, "%s: out of memory", at);
    return rc;
}
