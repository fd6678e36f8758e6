/* Connector plugins: Remote API call (Tracardi's RemoteCallAction, tracardi-flows.md §7).
 *
 * The first run builds the request from the config (the endpoint and text bodies are string
 * templates, JSON bodies, headers and cookies object templates) and asks the engine's caller for
 * an HTTP wait (flow/io.h performs it). The second run turns the outcome into Tracardi's result:
 * {status, content, headers, cookies} on "response" for a 2xx answer, the same on "error" for
 * any other status, {"message"} on "error" when no answer came. */
#include "flow/flow.h"
#include "flow/plugins/util.h"

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "flow/template.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REMOTE_MAX_TIMEOUT_S 60.0
#define REMOTE_MAX_RETRIES   5
#define REMOTE_MAX_URL       (64 * 1024)
#define REMOTE_MAX_BODY      (4 * 1024 * 1024)

struct remote_state {
    char *endpoint;   /* a string template */
    char method[8];   /* upper case */
    long timeout_ms;  /* per attempt */
    int retries;      /* further attempts after a connection error or timeout */
    bool ssl_check;   /* verify TLS peers */
    bool strict;      /* !set_default_null: a missing reference is an error */
    bool log;         /* log the request and the answer's status */
    cJSON *headers;   /* object template of name -> value, or NULL */
    cJSON *cookies;   /* likewise */
    char *body_type;  /* the request's content type */
    cJSON *json_body; /* application/json: the content as an object template */
    char *text_body;  /* otherwise: the content as a string template */
};

static void remote_free(void *state)
{
    struct remote_state *s = state;
    if (!s)
        return;
    free(s->endpoint);
    cJSON_Delete(s->headers);
    cJSON_Delete(s->cookies);
    free(s->body_type);
    cJSON_Delete(s->json_body);
    free(s->text_body);
    free(s);
}

static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"};

/* True for "http://x..." or "https://x..." (case-insensitive scheme, something after it). */
static bool http_url(const char *u)
{
    size_t n = strncasecmp(u, "http://", 7) == 0 ? 7 : strncasecmp(u, "https://", 8) == 0 ? 8 : 0;
    return n && u[n] && u[n] != '/' && !isspace((unsigned char)u[n]);
}

/* For a templated endpoint: the text before the first `{{` must be compatible with an http(s)
 * URL (a prefix of the scheme, or a scheme and a host); a template at the start is checked only
 * when it is rendered. */
static bool endpoint_prefix_ok(const char *u, size_t n)
{
    if (n == 0)
        return true;
    static const char *const schemes[] = {"http://", "https://"};
    for (size_t i = 0; i < 2; i++) {
        size_t sl = strlen(schemes[i]);
        if (n <= sl ? strncasecmp(u, schemes[i], n) == 0 : strncasecmp(u, schemes[i], sl) == 0)
            return true;
    }
    return false;
}

static bool token_char(int ch)
{
    return isalnum(ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* A header or cookie name; a trailing `?` marks it optional (object templates). */
static bool header_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n > 1 && s[n - 1] == '?')
        n--;
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!token_char((unsigned char)s[i]))
            return false;
    return true;
}

/* A {name: value} config field: an object (or null) whose values are strings, numbers or
 * booleans; names are header tokens. */
static int check_pairs(const cJSON *v, const char *field, cJSON **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsObject(v)) {
        snprintf(err, errlen, "%s: must be an object of name -> value", field);
        return CDP_E_INVALID;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if (!header_name_ok(it->string)) {
            snprintf(err, errlen, "%s: invalid name \"%s\"", field, it->string);
            return CDP_E_INVALID;
        }
        if (!cJSON_IsString(it) && !cJSON_IsNumber(it) && !cJSON_IsBool(it)) {
            snprintf(err, errlen, "%s.%s: must be a string", field, it->string);
            return CDP_E_INVALID;
        }
    }
    if (!(*out = cJSON_Duplicate(v, true)))
        return CDP_E_NOMEM;
    return 0;
}

/* A number, or a string holding one (the GUI's text fields), into *out; false otherwise. */
static bool number_of(const cJSON *v, double *out)
{
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return true;
    }
    if (cJSON_IsString(v) && *v->valuestring) {
        char *end;
        *out = strtod(v->valuestring, &end);
        while (isspace((unsigned char)*end))
            end++;
        return *end == '\0' && !isspace((unsigned char)*v->valuestring);
    }
    return false;
}

static bool bool_field(const cJSON *init, const char *key, bool def, bool *out, char *err,
                       size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(init, key);
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return true;
    }
    if (!cJSON_IsBool(v)) {
        snprintf(err, errlen, "%s: must be true or false", key);
        return false;
    }
    *out = cJSON_IsTrue(v);
    return true;
}

static bool is_json_type(const char *type)
{
    size_t n = strlen("application/json");
    return strncasecmp(type, "application/json", n) == 0 && (type[n] == '\0' || type[n] == ';');
}

static bool content_type_ok(const char *t)
{
    const char *slash = strchr(t, '/');
    if (!slash || slash == t || !slash[1])
        return false;
    for (const char *p = t; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

static int setup_body(const cJSON *init, struct remote_state *s, char *err, size_t errlen)
{
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(init, "body");
    const char *type = "application/json";
    const cJSON *content = NULL;
    if (body && !cJSON_IsNull(body)) {
        if (!cJSON_IsObject(body)) {
            snprintf(err, errlen, "body: must be an object {type, content}");
            return CDP_E_INVALID;
        }
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(body, "type");
        if (t && !cJSON_IsNull(t)) {
            if (!cJSON_IsString(t) || !content_type_ok(t->valuestring)) {
                snprintf(err, errlen,
                         "body.type: must be a content type such as "
                         "application/json or text/plain");
                return CDP_E_INVALID;
            }
            type = t->valuestring;
        }
        content = cJSON_GetObjectItemCaseSensitive(body, "content");
    }
    if (!(s->body_type = strdup(type)))
        return CDP_E_NOMEM;
    if (is_json_type(type)) {
        if (!content || cJSON_IsNull(content) ||
            (cJSON_IsString(content) && !*content->valuestring)) {
            s->json_body = cJSON_CreateObject();
        } else if (cJSON_IsString(content)) {
            const char *text = content->valuestring;
            size_t len = strlen(text), pos = 0;
            if (!cdp_json_depth_ok(text, len, CDP_TEMPLATE_MAX_DEPTH)) {
                snprintf(err, errlen, "body.content: nested too deeply");
                return CDP_E_INVALID;
            }
            if (!(s->json_body = cdp_json_parse(text, len, &pos))) {
                snprintf(err, errlen, "body.content: not valid JSON (at byte %zu)", pos);
                return CDP_E_INVALID;
            }
        } else if (cJSON_IsObject(content) || cJSON_IsArray(content)) {
            s->json_body = cJSON_Duplicate(content, true);
        } else {
            snprintf(err, errlen, "body.content: must be JSON text or an object");
            return CDP_E_INVALID;
        }
        if (!s->json_body)
            return CDP_E_NOMEM;
        if (strcmp(s->method, "GET") == 0 && !cJSON_IsObject(s->json_body)) {
            snprintf(err, errlen,
                     "body.content: must be a JSON object for GET "
                     "(it becomes the query parameters)");
            return CDP_E_INVALID;
        }
        return 0;
    }
    if (content && !cJSON_IsNull(content) && !cJSON_IsString(content)) {
        snprintf(err, errlen, "body.content: must be text for %s", type);
        return CDP_E_INVALID;
    }
    s->text_body = strdup(cJSON_IsString(content) ? content->valuestring : "");
    return s->text_body ? 0 : CDP_E_NOMEM;
}

static int remote_setup_fill(const cJSON *init, struct remote_state *s, char *err, size_t errlen)
{
    /* endpoint (Tracardi 0.8+), or url (0.6) */
    const cJSON *ep = cJSON_GetObjectItemCaseSensitive(init, "endpoint");
    if (!ep || cJSON_IsNull(ep))
        ep = cJSON_GetObjectItemCaseSensitive(init, "url");
    if (!cJSON_IsString(ep) || !*ep->valuestring) {
        snprintf(err, errlen, "endpoint: required, an http:// or https:// URL");
        return CDP_E_INVALID;
    }
    const char *u = ep->valuestring;
    const char *tpl = strstr(u, "{{");
    if (tpl ? !endpoint_prefix_ok(u, (size_t)(tpl - u)) : !http_url(u)) {
        snprintf(err, errlen, "endpoint: must be an http:// or https:// URL");
        return CDP_E_INVALID;
    }
    if (strlen(u) > REMOTE_MAX_URL) {
        snprintf(err, errlen, "endpoint: too long");
        return CDP_E_INVALID;
    }
    if (!(s->endpoint = strdup(u)))
        return CDP_E_NOMEM;

    const cJSON *m = cJSON_GetObjectItemCaseSensitive(init, "method");
    const char *method = "GET";
    if (m && !cJSON_IsNull(m)) {
        if (!cJSON_IsString(m)) {
            snprintf(err, errlen, "method: must be one of GET, POST, PUT, DELETE, PATCH, HEAD");
            return CDP_E_INVALID;
        }
        method = NULL;
        for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
            if (strcasecmp(m->valuestring, methods[i]) == 0)
                method = methods[i];
        if (!method) {
            snprintf(err, errlen, "method: must be one of GET, POST, PUT, DELETE, PATCH, HEAD");
            return CDP_E_INVALID;
        }
    }
    snprintf(s->method, sizeof(s->method), "%s", method);

    const cJSON *t = cJSON_GetObjectItemCaseSensitive(init, "timeout");
    double secs = 30;
    if (t && !cJSON_IsNull(t) &&
        (!number_of(t, &secs) || !(secs > 0) || secs > REMOTE_MAX_TIMEOUT_S)) {
        snprintf(err, errlen, "timeout: must be a number of seconds above 0 and at most %g",
                 REMOTE_MAX_TIMEOUT_S);
        return CDP_E_INVALID;
    }
    s->timeout_ms = (long)ceil(secs * 1000);

    /* retries; or the node's on_connection_error_repeat when the engine passes it in */
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(init, "retries");
    bool from_node = false;
    if (!r || cJSON_IsNull(r)) {
        r = cJSON_GetObjectItemCaseSensitive(init, "on_connection_error_repeat");
        from_node = true;
    }
    double retries = 0;
    if (r && !cJSON_IsNull(r)) {
        if (!number_of(r, &retries) || retries != floor(retries) || retries < 0 ||
            (!from_node && retries > REMOTE_MAX_RETRIES)) {
            snprintf(err, errlen, "%s: must be a whole number from 0 to %d",
                     from_node ? "on_connection_error_repeat" : "retries", REMOTE_MAX_RETRIES);
            return CDP_E_INVALID;
        }
    }
    s->retries = retries > REMOTE_MAX_RETRIES ? REMOTE_MAX_RETRIES : (int)retries;

    bool set_null;
    if (!bool_field(init, "ssl_check", true, &s->ssl_check, err, errlen) ||
        !bool_field(init, "set_default_null", false, &set_null, err, errlen) ||
        !bool_field(init, "log", false, &s->log, err, errlen))
        return CDP_E_INVALID;
    s->strict = !set_null;

    int rc = check_pairs(cJSON_GetObjectItemCaseSensitive(init, "headers"), "headers", &s->headers,
                         err, errlen);
    if (!rc)
        rc = check_pairs(cJSON_GetObjectItemCaseSensitive(init, "cookies"), "cookies", &s->cookies,
                         err, errlen);
    if (!rc)
        rc = setup_body(init, s, err, errlen);
    return rc;
}

static int remote_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    struct remote_state *s = calloc(1, sizeof(*s));
    if (!s)
        return CDP_E_NOMEM;
    int rc = remote_setup_fill(init, s, err, errlen);
    if (rc) {
        if (rc == CDP_E_NOMEM)
            snprintf(err, errlen, "out of memory");
        remote_free(s);
        return rc;
    }
    *state = s;
    return 0;
}

/* --- the request --- */

/* Percent-encodes s (RFC 3986 unreserved characters stay) onto b. */
static int url_encode(struct cdp_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && !rc; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            rc = cdp_buf_append(b, p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            rc = cdp_buf_append(b, e, 3);
        }
    }
    return rc;
}

/* A scalar as text: strings as they are, numbers in their exact form, true/false, null "". */
static char *scalar_text(const cJSON *v)
{
    if (cJSON_IsString(v))
        return strdup(v->valuestring);
    if (cJSON_IsNull(v))
        return strdup("");
    return cdp_json_print(v);
}

/* Flattens an object into query parameters: nested keys joined with dots, array items keyed by
 * their index ("a.b=1&list.0=x"). */
static int add_params(struct cdp_buf *q, const char *prefix, const cJSON *v, int depth)
{
    if (depth > CDP_TEMPLATE_MAX_DEPTH)
        return CDP_E_INVALID;
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        const cJSON *it;
        int i = 0, rc = 0;
        cJSON_ArrayForEach(it, v)
        {
            char idx[24];
            const char *key = it->string;
            if (cJSON_IsArray(v)) {
                snprintf(idx, sizeof(idx), "%d", i);
                key = idx;
            }
            i++;
            size_t n = (prefix ? strlen(prefix) + 1 : 0) + strlen(key) + 1;
            char *full = malloc(n);
            if (!full)
                return CDP_E_NOMEM;
            if (prefix)
                snprintf(full, n, "%s.%s", prefix, key);
            else
                snprintf(full, n, "%s", key);
            rc = add_params(q, full, it, depth + 1);
            free(full);
            if (rc)
                return rc;
        }
        return 0;
    }
    if (!prefix)
        return 0;
    char *text = scalar_text(v);
    if (!text)
        return CDP_E_NOMEM;
    int rc = q->len ? cdp_buf_append(q, "&", 1) : 0;
    if (!rc)
        rc = url_encode(q, prefix);
    if (!rc)
        rc = cdp_buf_append(q, "=", 1);
    if (!rc)
        rc = url_encode(q, text);
    free(text);
    return rc;
}

/* url with the query appended (before any fragment); caller frees. */
static char *with_query(const char *url, const char *query)
{
    if (!*query)
        return strdup(url);
    const char *hash = strchr(url, '#');
    size_t base = hash ? (size_t)(hash - url) : strlen(url);
    const char *q = memchr(url, '?', base);
    const char *sep = !q ? "?" : (url[base - 1] == '?' || url[base - 1] == '&') ? "" : "&";
    struct cdp_buf b;
    cdp_buf_init(&b, 0);
    cdp_buf_append(&b, url, base);
    cdp_buf_puts(&b, sep);
    cdp_buf_puts(&b, query);
    if (hash)
        cdp_buf_puts(&b, hash);
    if (b.failed) {
        cdp_buf_fini(&b);
        return NULL;
    }
    return cdp_buf_steal(&b, NULL);
}

/* Renders a value of headers/cookies: object-templated already; strings may also hold `{{ }}`
 * templates. Returns a new string, or NULL with err set (or err empty on OOM); *skip when the
 * value is null (a missing reference with set_default_null). */
static char *pair_value(const struct cdp_flow_call *c, const char *field, const cJSON *v,
                        bool *skip, char *err, size_t errlen)
{
    *skip = false;
    err[0] = '\0';
    if (cJSON_IsNull(v)) {
        *skip = true;
        return NULL;
    }
    if (cJSON_IsString(v) && strstr(v->valuestring, "{{")) {
        struct cdp_buf b;
        cdp_buf_init(&b, REMOTE_MAX_URL);
        char terr[256];
        int rc = cdp_template_render(v->valuestring, &c->refs, &b, terr, sizeof(terr));
        if (rc) {
            cdp_buf_fini(&b);
            if (rc == CDP_E_INVALID)
                snprintf(err, errlen, "%s.%s: %s", field, v->string, terr);
            else
                snprintf(err, errlen, "%s.%s: %s", field, v->string, cdp_err_str(rc));
            return NULL;
        }
        char *s = b.data ? cdp_buf_steal(&b, NULL) : strdup("");
        cdp_buf_fini(&b);
        return s;
    }
    if (cJSON_IsString(v) || cJSON_IsNumber(v) || cJSON_IsBool(v))
        return scalar_text(v);
    snprintf(err, errlen, "%s.%s: must be a string, got %s", field, v->string,
             cJSON_IsArray(v) ? "a list" : "an object");
    return NULL;
}

static bool has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 && *s != '\t')
            return true;
    return false;
}

/* Object-templates a {name: value} field into *out (NULL when the config has none). */
static int render_pairs(const struct cdp_flow_call *c, const cJSON *tpl, const char *field,
                        cJSON **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!tpl)
        return 0;
    const struct remote_state *s = c->state;
    char terr[256];
    cJSON *shaped;
    int rc = cdp_template_object(tpl, &c->refs, s->strict, &shaped, terr, sizeof(terr));
    if (rc) {
        snprintf(err, errlen, "%s: %s", field, rc == CDP_E_INVALID ? terr : cdp_err_str(rc));
        return rc;
    }
    cJSON *res = cJSON_CreateObject();
    if (!res) {
        cJSON_Delete(shaped);
        return CDP_E_NOMEM;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, shaped)
    {
        bool skip;
        char *v = pair_value(c, field, it, &skip, err, errlen);
        if (skip)
            continue;
        if (!v || has_ctl(v)) {
            if (v)
                snprintf(err, errlen, "%s.%s: control characters are not allowed", field,
                         it->string);
            free(v);
            cJSON_Delete(shaped);
            cJSON_Delete(res);
            return err[0] ? CDP_E_INVALID : CDP_E_NOMEM;
        }
        cJSON *str = cJSON_CreateString(v);
        free(v);
        if (!str) {
            cJSON_Delete(shaped);
            cJSON_Delete(res);
            return CDP_E_NOMEM;
        }
        cJSON_AddItemToObject(res, it->string, str);
    }
    cJSON_Delete(shaped);
    *out = res;
    return 0;
}

static const cJSON *header_get(const cJSON *h, const char *name)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, h)
    {
        if (strcasecmp(it->string, name) == 0)
            return it;
    }
    return NULL;
}

/* Headers of the request: the config's, a Cookie header from the cookies, the content type. */
static int build_headers(const struct cdp_flow_call *c, bool with_body, cJSON **out, char *err,
                         size_t errlen)
{
    const struct remote_state *s = c->state;
    cJSON *h = NULL, *ck = NULL;
    int rc = render_pairs(c, s->headers, "headers", &h, err, errlen);
    if (!rc)
        rc = render_pairs(c, s->cookies, "cookies", &ck, err, errlen);
    if (!rc && !h && !(h = cJSON_CreateObject()))
        rc = CDP_E_NOMEM;
    if (!rc && cJSON_GetArraySize(ck) > 0) {
        struct cdp_buf b;
        cdp_buf_init(&b, 0);
        const cJSON *existing = header_get(h, "cookie");
        if (cJSON_IsString(existing) && *existing->valuestring)
            cdp_buf_printf(&b, "%s", existing->valuestring);
        const cJSON *it;
        cJSON_ArrayForEach(it, ck)
        {
            if (strpbrk(it->valuestring, ";,") || strchr(it->string, '=')) {
                snprintf(err, errlen, "cookies.%s: ';', ',' and '=' are not allowed", it->string);
                rc = CDP_E_INVALID;
                break;
            }
            cdp_buf_printf(&b, "%s%s=%s", b.len ? "; " : "", it->string, it->valuestring);
        }
        if (!rc && b.failed)
            rc = CDP_E_NOMEM;
        if (!rc) {
            if (existing)
                cJSON_DeleteItemFromObjectCaseSensitive(h, existing->string);
            cdp_json_put_str(h, "Cookie", b.data ? b.data : "");
        }
        cdp_buf_fini(&b);
    }
    if (!rc && with_body && !header_get(h, "content-type"))
        cdp_json_put_str(h, "Content-Type", s->body_type);
    cJSON_Delete(ck);
    if (rc) {
        cJSON_Delete(h);
        h = NULL;
    }
    *out = h;
    return rc;
}

/* The first run: the request, as a wait. Problems with the data go out on "error". */
static int remote_request(struct cdp_flow_call *c)
{
    const struct remote_state *s = c->state;
    char err[512] = "";
    char *url = NULL, *body = NULL;
    cJSON *headers = NULL;
    int rc = 0;

    struct cdp_buf ub;
    cdp_buf_init(&ub, REMOTE_MAX_URL);
    char terr[256];
    rc = cdp_template_render(s->endpoint, &c->refs, &ub, terr, sizeof(terr));
    if (rc) {
        snprintf(err, sizeof(err), "endpoint: %s", rc == CDP_E_INVALID ? terr : cdp_err_str(rc));
        cdp_buf_fini(&ub);
        goto out;
    }
    url = cdp_buf_steal(&ub, NULL);
    cdp_buf_fini(&ub);
    if (!url || !http_url(url) || has_ctl(url) || strchr(url, ' ')) {
        snprintf(err, sizeof(err), "endpoint: \"%.200s\" is not an http:// or https:// URL",
                 url ? url : "");
        goto out;
    }

    bool query_body = strcmp(s->method, "GET") == 0 || strcmp(s->method, "HEAD") == 0;
    if (s->json_body) {
        cJSON *shaped;
        if ((rc = cdp_template_object(s->json_body, &c->refs, s->strict, &shaped, terr,
                                      sizeof(terr)))) {
            snprintf(err, sizeof(err), "body.content: %s",
                     rc == CDP_E_INVALID ? terr : cdp_err_str(rc));
            goto out;
        }
        if (query_body) {
            struct cdp_buf q;
            cdp_buf_init(&q, REMOTE_MAX_URL);
            rc = add_params(&q, NULL, shaped, 1);
            if (!rc) {
                char *full = with_query(url, q.data ? q.data : "");
                if (full) {
                    free(url);
                    url = full;
                } else {
                    rc = CDP_E_NOMEM;
                }
            }
            cdp_buf_fini(&q);
            if (rc)
                snprintf(err, sizeof(err), "body.content: %s", cdp_err_str(rc));
        } else if (!(body = cdp_json_print(shaped))) {
            rc = CDP_E_NOMEM;
            snprintf(err, sizeof(err), "%s", cdp_err_str(rc));
        }
        cJSON_Delete(shaped);
        if (rc)
            goto out;
    } else if (s->text_body && (*s->text_body || !query_body)) {
        struct cdp_buf bb;
        cdp_buf_init(&bb, REMOTE_MAX_BODY);
        if ((rc = cdp_template_render(s->text_body, &c->refs, &bb, terr, sizeof(terr)))) {
            snprintf(err, sizeof(err), "body.content: %s",
                     rc == CDP_E_INVALID ? terr : cdp_err_str(rc));
            cdp_buf_fini(&bb);
            goto out;
        }
        body = bb.data ? cdp_buf_steal(&bb, NULL) : strdup("");
        cdp_buf_fini(&bb);
        if (!body) {
            rc = CDP_E_NOMEM;
            snprintf(err, sizeof(err), "%s", cdp_err_str(rc));
            goto out;
        }
    }

    if ((rc = build_headers(c, body != NULL, &headers, err, sizeof(err)))) {
        if (!err[0])
            snprintf(err, sizeof(err), "%s", cdp_err_str(rc));
        goto out;
    }
    if (s->log)
        cdp_flow_log(c, "info", "Making %s request to %s", s->method, url);
    rc = cdp_flow_wait_http(c, s->method, url, headers, body, s->timeout_ms, s->retries,
                            s->ssl_check);
    headers = NULL;
out:
    free(url);
    free(body);
    cJSON_Delete(headers);
    if (rc == CDP_E_NOMEM)
        return rc;
    if (err[0])
        return cdp_emit_error(c, "%s", err);
    return rc;
}

/* Cookies the server set: {name: value} from the set-cookie header(s). */
static cJSON *response_cookies(const cJSON *headers)
{
    cJSON *out = cJSON_CreateObject();
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(headers, "set-cookie");
    if (!out || !sc)
        return out;
    const cJSON *one = cJSON_IsArray(sc) ? sc->child : sc;
    for (; one; one = cJSON_IsArray(sc) ? one->next : NULL) {
        if (!cJSON_IsString(one))
            continue;
        const char *p = one->valuestring, *eq = strchr(p, '='), *semi = strchr(p, ';');
        if (!eq || (semi && semi < eq))
            continue;
        size_t vlen = semi ? (size_t)(semi - eq - 1) : strlen(eq + 1);
        char *name = strndup(p, (size_t)(eq - p)), *value = strndup(eq + 1, vlen);
        if (name && value) {
            /* trim spaces around the name */
            char *n = name;
            while (*n == ' ')
                n++;
            size_t nl = strlen(n);
            while (nl && n[nl - 1] == ' ')
                n[--nl] = '\0';
            if (*n)
                cdp_json_put_str(out, n, value);
        }
        free(name);
        free(value);
    }
    return out;
}

/* The second run: the outcome of the wait onto the ports. */
static int remote_response(struct cdp_flow_call *c)
{
    const struct remote_state *s = c->state;
    const cJSON *io = c->io;
    const char *error = cdp_json_str(io, "error");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(io, "status");
    if (error || !cJSON_IsNumber(status))
        return cdp_emit_error(c, "%s", error ? error : "no answer from the remote server");
    int code = (int)status->valuedouble;
    if (s->log)
        cdp_flow_log(c, "info", "Response %d from %s %s", code, s->method, s->endpoint);
    const cJSON *headers = cJSON_GetObjectItemCaseSensitive(io, "headers");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(io, "content");
    cJSON *r = cJSON_CreateObject();
    if (!r)
        return CDP_E_NOMEM;
    cdp_json_put_num(r, "status", code);
    cdp_json_put(r, "content", content ? cJSON_Duplicate(content, true) : cJSON_CreateString(""));
    cdp_json_put(r, "headers", headers ? cJSON_Duplicate(headers, true) : cJSON_CreateObject());
    cdp_json_put(r, "cookies", response_cookies(headers));
    if (cJSON_GetArraySize(r) != 4) {
        cJSON_Delete(r);
        return CDP_E_NOMEM;
    }
    return cdp_flow_emit(c, code >= 200 && code < 300 ? "response" : "error", r);
}

static int remote_run(struct cdp_flow_call *c)
{
    return c->io ? remote_response(c) : remote_request(c);
}

static const struct cdp_plugin remote_call_plugin = {
    .id = "remote-call",
    .module = "tracardi.process_engine.action.v1.connectors.api_call.plugin",
    .class_name = "RemoteCallAction",
    .name = "Remote API call",
    .desc = "Sends a request to a remote API endpoint and returns its answer.",
    .group = "Connectors",
    .inputs = "payload",
    .outputs = "response,error",
    .init = "{\"method\": \"post\", \"endpoint\": null, \"timeout\": 30, \"headers\": {},"
            " \"cookies\": {}, \"ssl_check\": true,"
            " \"body\": {\"type\": \"application/json\", \"content\": \"{}\"},"
            " \"set_default_null\": true, \"retries\": 0, \"log\": false}",
    .schema =
        "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
        "\"type\": \"object\", \"properties\": {"
        "\"endpoint\": {\"title\": \"Endpoint\", \"description\": \"The http:// or https:// URL "
        "to call. Dot templates are allowed, e.g. https://api.example.com/{{payload@id}}.\","
        "\"type\": \"string\", \"pattern\": \"^([Hh][Tt][Tt][Pp][Ss]?://|\\\\{\\\\{)\"},"
        "\"method\": {\"title\": \"Method\", \"description\": \"The request method.\","
        "\"type\": \"string\", \"enum\": [\"get\", \"post\", \"put\", \"delete\", \"patch\","
        "\"head\", \"GET\", \"POST\", \"PUT\", \"DELETE\", \"PATCH\", \"HEAD\"],"
        "\"default\": \"post\"},"
        "\"timeout\": {\"title\": \"Timeout\", \"description\": \"Seconds each attempt may take.\","
        "\"type\": \"number\", \"exclusiveMinimum\": 0, \"maximum\": 60, \"default\": 30},"
        "\"retries\": {\"title\": \"Retries\", \"description\": \"Further attempts after a "
        "connection error or a timeout.\", \"type\": \"integer\", \"minimum\": 0,"
        "\"maximum\": 5, \"default\": 0},"
        "\"headers\": {\"title\": \"Request headers\", \"description\": \"Header names and "
        "values; a value may be a reference or a dot template.\", \"type\": \"object\","
        "\"additionalProperties\": {\"type\": [\"string\", \"number\", \"boolean\"]},"
        "\"default\": {}},"
        "\"cookies\": {\"title\": \"Cookies\", \"description\": \"Cookie names and values sent "
        "with the request; a value may be a reference or a dot template.\","
        "\"type\": \"object\", \"additionalProperties\": {\"type\": [\"string\", \"number\","
        "\"boolean\"]}, \"default\": {}},"
        "\"ssl_check\": {\"title\": \"Validate SSL certificate\", \"description\": \"Verify the "
        "server's TLS certificate.\", \"type\": \"boolean\", \"default\": true},"
        "\"body\": {\"title\": \"Content\", \"description\": \"The request content and its type. "
        "JSON content is an object template (sent as query parameters for GET); other types "
        "are text with {{ }} templates.\", \"type\": \"object\", \"properties\": {"
        "\"type\": {\"type\": \"string\", \"examples\": [\"application/json\", \"text/plain\","
        "\"text/html\"], \"default\": \"application/json\"},"
        "\"content\": {\"type\": [\"string\", \"object\", \"array\", \"null\"],"
        "\"default\": \"{}\"}}},"
        "\"set_default_null\": {\"title\": \"On missing data set null\", \"description\": "
        "\"A missing reference becomes null instead of failing the call.\","
        "\"type\": \"boolean\", \"default\": true},"
        "\"log\": {\"title\": \"Log request and response\", \"description\": \"Writes the URL "
        "and the answer's status to the console; for debugging.\", \"type\": \"boolean\","
        "\"default\": false}},"
        "\"required\": [\"endpoint\"]}",
    .setup = remote_setup,
    .free = remote_free,
    .run = remote_run,
};

const struct cdp_plugin *const cdp_plugins_remote[] = {&remote_call_plugin, NULL};
