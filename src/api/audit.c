/* The audit log of management changes. The guard starts a record for every request it lets
 * through that may change something (any method but GET and HEAD), so no handler can forget
 * one; handlers add what only they know (the entity and its documents before and after). The
 * record is written when the reply goes out with a 2xx status, or earlier, inside the
 * handler's own transaction, by cdp_api_audit_write. Secrets in documents are redacted, and
 * routes on a person's data keep no personal data at all: the route's pattern for a path and
 * the id as SHA-256, so erasing the person leaves nothing of them here. GET /audit reads it. */
#include "api/api.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/id.h"
#include "core/json.h"
#include "core/log.h"
#include "http/http.h"
#include "store/store.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct cdp_api_audit {
    struct cdp_api *api;
    const struct cdp_route *route;
    char user_id[64];
    char email[256];
    char kind[64];    /* "" until known: then segment */
    char segment[64]; /* the first path segment (of the path where the route's is a parameter) */
    char *id;         /* NULL until known: then the route's first parameter */
    bool personal;
    bool has_docs;
    cJSON *before, *after;
    cJSON *notes; /* extra top-level fields */
    bool written;
};

/* First path segments of the routes on a person's data. */
static const char *const personal_segments[] = {
    "profile", "profiles", "session", "sessions", "event", "events", "merge", "merges", "customer",
};

static void first_segment(const char *pattern, char *out, size_t outlen)
{
    const char *p = pattern[0] == '/' ? pattern + 1 : pattern;
    size_t n = strcspn(p, "/");
    if (*p == '{')
        n = 0;
    snprintf(out, outlen, "%.*s", (int)n, p);
}

static bool is_personal(const char *segment)
{
    for (size_t i = 0; i < sizeof(personal_segments) / sizeof(personal_segments[0]); i++)
        if (strcmp(segment, personal_segments[i]) == 0)
            return true;
    return false;
}

static bool is_secret_key(const char *key)
{
    static const char *const words[] = {"password",    "passwd",  "secret", "token",
                                        "credential",  "api_key", "apikey", "api-key",
                                        "private_key", "pwhash"};
    char lower[128];
    size_t i = 0;
    for (; key[i] && i + 1 < sizeof(lower); i++)
        lower[i] = (char)tolower((unsigned char)key[i]);
    lower[i] = '\0';
    for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++)
        if (strstr(lower, words[w]))
            return true;
    return false;
}

cJSON *cdp_api_audit_redact(const cJSON *doc)
{
    if (!doc)
        return NULL;
    if (!cJSON_IsObject(doc) && !cJSON_IsArray(doc))
        return cJSON_Duplicate(doc, true);
    cJSON *out = cJSON_IsObject(doc) ? cJSON_CreateObject() : cJSON_CreateArray();
    if (!out)
        return NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, doc)
    {
        cJSON *v = it->string && is_secret_key(it->string) ? cJSON_CreateString("[redacted]")
                                                           : cdp_api_audit_redact(it);
        if (!v) {
            cJSON_Delete(out);
            return NULL;
        }
        if (it->string)
            cJSON_AddItemToObject(out, it->string, v);
        else
            cJSON_AddItemToArray(out, v);
    }
    return out;
}

static void on_reply(struct cdp_http_req *req, void *ud);

struct cdp_api_audit *cdp_api_audit_start(struct cdp_http_req *req, struct cdp_api *api,
                                          const struct cdp_route *route, const char *user_id,
                                          const char *email)
{
    struct cdp_api_audit *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->api = api;
    a->route = route;
    snprintf(a->user_id, sizeof(a->user_id), "%s", user_id ? user_id : "");
    snprintf(a->email, sizeof(a->email), "%s", email ? email : "");
    first_segment(route->pattern, a->segment, sizeof(a->segment));
    if (!a->segment[0])
        first_segment(cdp_http_path(req), a->segment, sizeof(a->segment));
    a->personal = is_personal(a->segment);
    cdp_http_on_reply(req, on_reply, a);
    return a;
}

void cdp_api_audit_free(struct cdp_api_audit *a)
{
    if (!a)
        return;
    free(a->id);
    cJSON_Delete(a->before);
    cJSON_Delete(a->after);
    cJSON_Delete(a->notes);
    free(a);
}

void cdp_api_audit_entity(struct cdp_http_req *req, const char *kind, const char *id)
{
    struct cdp_api_audit *a = cdp_api_audit_of(req);
    if (!a)
        return;
    if (kind)
        snprintf(a->kind, sizeof(a->kind), "%s", kind);
    if (id) {
        free(a->id);
        a->id = strdup(id);
    }
}

void cdp_api_audit_docs(struct cdp_http_req *req, const char *kind, const char *id,
                        const cJSON *before, const cJSON *after)
{
    struct cdp_api_audit *a = cdp_api_audit_of(req);
    if (!a)
        return;
    cdp_api_audit_entity(req, kind, id);
    if (a->personal)
        return;
    cJSON_Delete(a->before);
    cJSON_Delete(a->after);
    a->before = cdp_api_audit_redact(before);
    a->after = cdp_api_audit_redact(after);
    a->has_docs = true;
}

void cdp_api_audit_note(struct cdp_http_req *req, const char *key, cJSON *item)
{
    struct cdp_api_audit *a = cdp_api_audit_of(req);
    if (!a || (!a->notes && !(a->notes = cJSON_CreateObject()))) {
        cJSON_Delete(item);
        return;
    }
    cdp_json_put(a->notes, key, item);
}

static void sha256_hex(const char *s, char out[2 * crypto_hash_sha256_BYTES + 1])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
    sodium_bin2hex(out, 2 * crypto_hash_sha256_BYTES + 1, h, sizeof(h));
}

/* The common part of every record: id, time, who, what. */
static cJSON *record_head(const char *user_id, const char *email, const char *method,
                          const char *path)
{
    char id[CDP_UUID_LEN], now[CDP_ISO_LEN];
    cdp_id_uuid4(id);
    /* the real clock, as log lines: a test's CDPD_CLOCK_OFFSET must not move the log */
    cdp_clock_iso(cdp_clock_real_us(), now);
    cJSON *rec = cJSON_CreateObject();
    if (!rec)
        return NULL;
    cdp_json_put_str(rec, "id", id);
    cdp_json_put_str(rec, "time", now);
    cJSON *who = cJSON_AddObjectToObject(rec, "user");
    cdp_json_put_str(who, "id", user_id && *user_id ? user_id : NULL);
    cdp_json_put_str(who, "email", email && *email ? email : NULL);
    cdp_json_put_str(rec, "method", method);
    cdp_json_put_str(rec, "path", path);
    return rec;
}

static cJSON *request_record(struct cdp_http_req *req, struct cdp_api_audit *a, int status)
{
    cJSON *rec = record_head(a->user_id, a->email, cdp_http_method(req),
                             a->personal ? a->route->pattern : cdp_http_path(req));
    if (!rec)
        return NULL;
    cdp_json_put_num(rec, "status", status);
    const char *kind = a->kind[0] ? a->kind : a->segment;
    const char *id = a->id ? a->id : cdp_http_param(req, 0);
    cJSON *ent = cJSON_AddObjectToObject(rec, "entity");
    cdp_json_put_str(ent, "kind", kind);
    if (a->personal) {
        char hex[2 * crypto_hash_sha256_BYTES + 1];
        if (id)
            sha256_hex(id, hex);
        cdp_json_put_str(ent, "id_sha256", id ? hex : NULL);
    } else {
        cdp_json_put_str(ent, "id", id);
    }
    if (a->has_docs) {
        cdp_json_put(rec, "before",
                     a->before ? cJSON_Duplicate(a->before, true) : cJSON_CreateNull());
        cdp_json_put(rec, "after", a->after ? cJSON_Duplicate(a->after, true) : cJSON_CreateNull());
    }
    const cJSON *n;
    cJSON_ArrayForEach(n, a->notes)
    {
        cdp_json_put(rec, n->string, cJSON_Duplicate(n, true));
    }
    return rec;
}

static int put_record(struct cdp_store *s, cJSON *rec)
{
    if (!rec)
        return CDP_E_NOMEM;
    int rc = s->ops->audit_put(s, rec);
    cJSON_Delete(rec);
    return rc;
}

int cdp_api_audit_write(struct cdp_http_req *req, struct cdp_store *s, int status)
{
    struct cdp_api_audit *a = cdp_api_audit_of(req);
    if (!a || a->written)
        return 0;
    int rc = put_record(s, request_record(req, a, status));
    if (!rc)
        a->written = true;
    return rc;
}

/* The record of a request whose handler did not write it in its own transaction: right after
 * the change, before the answer reaches the client. */
static void on_reply(struct cdp_http_req *req, void *ud)
{
    struct cdp_api_audit *a = ud;
    int status = cdp_http_status(req);
    if (a->written || status < 200 || status > 299)
        return;
    struct cdp_store *s = cdp_api_store_of(a->api, cdp_api_context(req), NULL); /* its log */
    int rc = s ? put_record(s, request_record(req, a, status)) : CDP_E_UNAVAILABLE;
    if (s)
        cdp_api_store_put(a->api, s);
    if (rc)
        cdp_error("audit: cannot record %s %s by %s: %s", cdp_http_method(req),
                  a->personal ? a->route->pattern : cdp_http_path(req), a->email, cdp_err_str(rc));
    else
        a->written = true;
}

/* A record made outside the guard's: status < 0 is null; after is redacted. */
static int put_record_of(struct cdp_store *s, const char *user_id, const char *email,
                         const char *method, const char *path, int status, const char *kind,
                         const char *id, const cJSON *after)
{
    cJSON *rec = record_head(user_id, email, method, path);
    if (!rec)
        return CDP_E_NOMEM;
    if (status < 0)
        cJSON_AddNullToObject(rec, "status");
    else
        cdp_json_put_num(rec, "status", status);
    cJSON *ent = cJSON_AddObjectToObject(rec, "entity");
    cdp_json_put_str(ent, "kind", kind);
    cdp_json_put_str(ent, "id", id);
    cJSON_AddNullToObject(rec, "before");
    cdp_json_put(rec, "after", after ? cdp_api_audit_redact(after) : cJSON_CreateNull());
    return put_record(s, rec);
}

int cdp_api_audit_cli(struct cdp_store *s, const char *what, const char *kind, const char *id,
                      const cJSON *after)
{
    return put_record_of(s, NULL, NULL, "CLI", what, -1, kind, id, after);
}

int cdp_api_audit_public(struct cdp_http_req *req, struct cdp_store *s, int status,
                         const char *user_id, const char *email, const char *kind, const char *id,
                         const cJSON *after)
{
    return put_record_of(s, user_id, email, cdp_http_method(req), cdp_http_path(req), status, kind,
                         id, after);
}

/* ?since= as seconds since 1970 or an ISO 8601 time; false when it is neither. */
static bool parse_since(const char *v, int64_t *us)
{
    char *end;
    long long secs = strtoll(v, &end, 10);
    if (*v && !*end && secs >= 0 && secs < 100000000000LL) {
        *us = (int64_t)secs * 1000000;
        return true;
    }
    return cdp_clock_parse_iso(v, us) == 0;
}

void cdp_api_audit_list(struct cdp_http_req *req, void *app)
{
    int start, limit;
    cdp_api_paging(req, &start, &limit);
    struct cdp_audit_filter f = {
        .user = cdp_http_query(req, "user"),
        .kind = cdp_http_query(req, "kind"),
    };
    const char *since = cdp_http_query(req, "since");
    if (f.user && !*f.user)
        f.user = NULL;
    if (f.kind && !*f.kind)
        f.kind = NULL;
    if (since && *since && !parse_since(since, &f.since_us)) {
        cdp_http_reply_error(req, 422, "since: want seconds since 1970 or an ISO 8601 time");
        return;
    }
    struct cdp_store *s = cdp_api_store(app, req);
    if (!s)
        return;
    cJSON *list = NULL;
    long total = 0;
    int rc = s->ops->audit_list(s, &f, start, limit, &list, &total);
    cdp_api_store_put(app, s);
    if (rc) {
        cdp_api_reply_err(req, rc, "audit log");
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "total", (double)total);
    cJSON_AddItemToObject(j, "result", list);
    cdp_http_reply_json(req, 200, j);
}
