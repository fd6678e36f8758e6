/* Resources (tracardi-api.md §2.8): the credentials plugins and destinations use to reach other
 * systems, one set for production and one for test. POST /resource, GET|DELETE /resource/{id},
 * GET /resource/{id}/enabled/on|off, GET /resources, GET /resources/type/{name|configuration}.
 *
 * Credentials never reach the store in clear: they are sealed under the installation's secret
 * key (core/secret.h), bound to the resource's id. Admins read them back; the other roles that
 * may use these routes see "***" for each set, and may send "***" back to keep a stored set. */
#include "api/api.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/secret.h"
#include "http/http.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIND        "resource"
#define DESTINATION "destination"
#define MASK        "***"

static const char *const cred_sets[] = {"production", "test"};
#define NSETS (sizeof(cred_sets) / sizeof(cred_sets[0]))

/* The resource types offered for new resources (Tracardi's ids and names), each with the
 * credentials it expects. */
static const struct {
    const char *id, *name, *tags, *config;
} types[] = {
    {"api", "API endpoint", "[\"api\"]",
     "{\"url\": \"<url>\", \"username\": \"<username>\", \"password\": \"<password>\"}"},
    {"web-page", "Web page", "[\"web-page\", \"input\", \"output\"]",
     "{\"user\": \"<user>\", \"password\": \"<password>\"}"},
    {"token", "Token", "[\"token\"]", "{\"token\": \"<token>\"}"},
    {"smtp-server", "SMTP", "[\"mail\", \"smtp\"]",
     "{\"smtp\": \"<smtp-server-host>\", \"port\": \"<port>\", \"username\": \"<username>\", "
     "\"password\": \"<password>\"}"},
    {"aws", "AWS IAM Credentials", "[\"aws\", \"cloud\", \"token\"]",
     "{\"aws_access_key_id\": \"<key-id>\", \"aws_secret_access_key\": \"<access-key>\"}"},
    {"postgresql", "PostgreSQL", "[\"database\", \"postgresql\"]",
     "{\"host\": \"<host>\", \"port\": 5432, \"user\": \"<username>\", \"password\": "
     "\"<password>\", \"database\": \"<database>\"}"},
    {"mysql", "MySQL", "[\"mysql\", \"database\"]",
     "{\"host\": \"<host>\", \"port\": 3306, \"user\": \"<username>\", \"password\": "
     "\"<password>\", \"database\": \"<database>\"}"},
    {"redis", "Redis", "[\"redis\"]",
     "{\"url\": \"<url>\", \"user\": \"<user>\", \"password\": \"<password>\"}"},
    {"mongodb", "MongoDB", "[\"mongo\", \"database\", \"nosql\"]",
     "{\"uri\": \"mongodb://127.0.0.1:27017/\", \"timeout\": 5000}"},
    {"rabbitMQ", "RabbitMQ", "[\"rabbitmq\", \"queue\"]",
     "{\"uri\": \"amqp://127.0.0.1:5672//\", \"timeout\": 5, \"virtual_host\": null, "
     "\"port\": 5672}"},
};
#define NTYPES (sizeof(types) / sizeof(types[0]))

static int bad(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return CDP_E_INVALID;
}

static int check_credentials(cJSON *doc, char *err, size_t errlen)
{
    cJSON *c = cJSON_GetObjectItemCaseSensitive(doc, "credentials");
    if (!c || cJSON_IsNull(c)) {
        c = cJSON_CreateObject();
        cdp_json_put(doc, "credentials", c);
    }
    if (!cJSON_IsObject(c))
        return bad(err, errlen, "credentials: must be an object {production: {...}, test: {...}}");
    for (const cJSON *it = c->child; it; it = it->next) {
        if (strcmp(it->string, "production") != 0 && strcmp(it->string, "test") != 0) {
            snprintf(err, errlen, "credentials.%.64s: unknown set (production, test)", it->string);
            return CDP_E_INVALID;
        }
    }
    for (size_t i = 0; i < NSETS; i++) {
        const cJSON *set = cJSON_GetObjectItemCaseSensitive(c, cred_sets[i]);
        if (cJSON_IsString(set) && strcmp(set->valuestring, MASK) == 0)
            continue; /* keep the stored set (resolved when saving) */
        int rc = cdp_json_object_or_empty(c, cred_sets[i], "credentials.", err, errlen);
        if (rc) {
            snprintf(err, errlen,
                     "credentials.%s: must be an object (or \"" MASK "\" to keep the stored one)",
                     cred_sets[i]);
            return rc;
        }
    }
    return 0;
}

int cdp_api_resource_normalize(cJSON *doc, char *err, size_t errlen)
{
    int rc = cdp_json_entity_head(doc, "a resource", err, errlen);
    if (rc)
        return rc;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(doc, "type");
    if (type && !cJSON_IsString(type) && !cJSON_IsObject(type))
        return bad(err, errlen, "type: expected {\"id\", \"name\"} or a resource type id");
    const char *tid = cdp_json_named(doc, "type");
    if (!tid)
        return bad(err, errlen,
                   "type: required ({\"id\", \"name\"} or a resource type id, "
                   "see /resources/type/name)");
    cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "type");
    const char *tname = cdp_json_str(t, "name");
    for (size_t i = 0; i < NTYPES && tname && strcmp(tname, tid) == 0; i++) {
        if (strcmp(types[i].id, tid) == 0) {
            cdp_json_put_str(t, "name", types[i].name); /* a known type's own name */
            break;
        }
    }
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(doc, "description");
    if (desc && !cJSON_IsNull(desc) && !cJSON_IsString(desc))
        return bad(err, errlen, "description: expected a string");
    if (!cJSON_IsString(desc))
        cdp_json_put_str(doc, "description", "");
    rc = check_credentials(doc, err, errlen);
    if (rc)
        return rc;
    static const char *const flags[] = {"enabled", "consent"};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(doc, flags[i]);
        if (f && !cJSON_IsBool(f)) {
            snprintf(err, errlen, "%s: expected true or false", flags[i]);
            return CDP_E_INVALID;
        }
        if (!f)
            cdp_json_put_bool(doc, flags[i], i == 0);
    }
    if ((rc = cdp_json_string_list(doc, "tags", "general", true, err, errlen)) ||
        (rc = cdp_json_string_list(doc, "groups", NULL, true, err, errlen)))
        return rc;
    const cJSON *icon = cJSON_GetObjectItemCaseSensitive(doc, "icon");
    if (icon && !cJSON_IsNull(icon) && !cJSON_IsString(icon))
        return bad(err, errlen, "icon: expected a string");
    if (!icon)
        cdp_json_put(doc, "icon", cJSON_CreateNull());
    /* A resource that can be a destination says how (Tracardi's DestinationConfig). */
    cJSON *dest = cJSON_GetObjectItemCaseSensitive(doc, "destination");
    if (!dest) {
        cdp_json_put(doc, "destination", cJSON_CreateNull());
    } else if (!cJSON_IsNull(dest)) {
        if (!cJSON_IsObject(dest))
            return bad(err, errlen, "destination: must be an object {package, init, form} or null");
        const char *pkg = cdp_json_str(dest, "package");
        if (!pkg || !*pkg)
            return bad(err, errlen, "destination.package: required, a non-empty string");
        if ((rc = cdp_json_object_or_empty(dest, "init", "destination.", err, errlen)) ||
            (rc = cdp_json_object_or_empty(dest, "form", "destination.", err, errlen)))
            return rc;
    }
    char now[40];
    cdp_clock_iso(cdp_clock_now_us(), now);
    cdp_json_put_str(doc, "timestamp", now);
    return 0;
}

void cdp_api_resource_context(const char *id, char *out, size_t outlen)
{
    snprintf(out, outlen, "resource:%s", id ? id : "");
}

/* Replaces a decrypt failure's code with its answer. */
static void reply_open_error(struct cdp_http_req *req, int rc, const char *id, const char *why)
{
    if (rc == CDP_E_NOMEM)
        cdp_http_reply_error(req, 500, "out of memory");
    else if (rc == CDP_E_CONFIG)
        cdp_http_reply_error(
            req, 500, "cannot decrypt credentials: wrong secret key? (resource `%s`: %s)", id, why);
    else
        cdp_http_reply_error(req, 500, "cannot decrypt credentials of resource `%s`: %s", id, why);
}

/* The stored credentials of doc in clear, as a new tree; NULL after replying. Credentials that
 * are not sealed (written by something other than this API) are returned as they are. */
static cJSON *open_credentials(struct cdp_http_req *req, struct cdp_api *api, const cJSON *doc)
{
    const char *id = cdp_json_str(doc, "id");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(doc, "credentials");
    if (!cdp_secret_is_sealed(c)) {
        cJSON *copy = cJSON_IsObject(c) ? cJSON_Duplicate(c, true) : cJSON_CreateObject();
        if (!copy)
            cdp_http_reply_error(req, 500, "out of memory");
        return copy;
    }
    char ctx[200], why[200];
    cdp_api_resource_context(id, ctx, sizeof(ctx));
    cJSON *plain = NULL;
    int rc = cdp_secret_open(cdp_api_secret_key(api), ctx, c, &plain, why, sizeof(why));
    if (rc) {
        reply_open_error(req, rc, id ? id : "", why);
        return NULL;
    }
    return plain;
}

/* Whether the request's user is an admin, the one role that reads credentials. */
static bool reader_is_admin(struct cdp_http_req *req, struct cdp_store *s)
{
    const char *uid = cdp_api_user_id(req);
    struct cdp_user_rec u;
    memset(&u, 0, sizeof(u));
    if (!uid || s->ops->user_get(s, uid, &u))
        return false;
    bool admin = false;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(u.doc, "roles"))
    {
        if (cJSON_IsString(r) && strcmp(r->valuestring, "admin") == 0)
            admin = true;
    }
    cdp_user_rec_fini(&u);
    return admin;
}

static cJSON *masked(void)
{
    cJSON *m = cJSON_CreateObject();
    for (size_t i = 0; i < NSETS; i++)
        cdp_json_put_str(m, cred_sets[i], MASK);
    return m;
}

/* Turns a stored resource into what the reader sees: credentials in clear for admins, masked
 * for the others. false after replying. */
static bool reveal(struct cdp_http_req *req, struct cdp_api *api, cJSON *doc, bool admin)
{
    cJSON *c = admin ? open_credentials(req, api, doc) : masked();
    if (!c)
        return false;
    cdp_json_put(doc, "credentials", c);
    return true;
}

/* Whether the request's user is an admin, on a store connection of its own. */
static int admin_of(struct cdp_http_req *req, struct cdp_api *api, bool *admin)
{
    struct cdp_store *s = cdp_api_store(api, req);
    if (!s)
        return CDP_E_UNAVAILABLE;
    *admin = reader_is_admin(req, s);
    cdp_api_store_put(api, s);
    return 0;
}

void cdp_api_resource_put(struct cdp_http_req *req, void *app)
{
    struct cdp_api *api = app;
    cJSON *doc = cdp_api_body_json(req, api), *plain = NULL, *old = NULL, *kept = NULL,
          *sealed = NULL;
    struct cdp_store *s = NULL;
    bool txn = false;
    if (!doc)
        return;
    char err[400];
    if (cdp_api_resource_normalize(doc, err, sizeof(err))) {
        cdp_http_reply_error(req, 422, "%s", err);
        goto out;
    }
    const char *id = cdp_json_str(doc, "id");
    if (!(s = cdp_api_store(api, req)))
        goto out;
    /* One transaction: the stored set "***" keeps is the one replaced, and the audit record
     * (with the documents before and after, credentials redacted) goes with the change. */
    int rc = s->ops->begin(s);
    txn = rc == 0;
    if (!rc && (rc = s->ops->entity_get(s, KIND, id, &old)) == CDP_E_NOT_FOUND)
        rc = 0;
    if (rc) {
        cdp_api_reply_err(req, rc, "resource");
        goto out;
    }
    plain = cJSON_DetachItemFromObjectCaseSensitive(doc, "credentials");
    for (size_t i = 0; i < NSETS; i++) {
        if (!cdp_json_str(plain, cred_sets[i]))
            continue; /* "***": keep the stored set, what a reader who saw the mask sends back */
        if (!old) {
            cdp_http_reply_error(req, 422,
                                 "credentials.%s: \"" MASK "\" keeps the stored set, but no "
                                 "resource `%s` is stored",
                                 cred_sets[i], id);
            goto out;
        }
        if (!kept && !(kept = open_credentials(req, api, old)))
            goto out;
        const cJSON *set = cJSON_GetObjectItemCaseSensitive(kept, cred_sets[i]);
        cdp_json_put(plain, cred_sets[i],
                     cJSON_IsObject(set) ? cJSON_Duplicate(set, true) : cJSON_CreateObject());
    }
    char ctx[200];
    cdp_api_resource_context(id, ctx, sizeof(ctx));
    if (cdp_secret_seal(cdp_api_secret_key(api), ctx, plain, &sealed)) {
        cdp_http_reply_error(req, 500, "out of memory");
        goto out;
    }
    cdp_json_put(doc, "credentials", sealed);
    rc = s->ops->entity_put(s, KIND, id, doc);
    if (!rc) {
        cdp_api_audit_docs(req, KIND, id, old, doc);
        rc = cdp_api_audit_write(req, s, 200);
    }
    if (!rc)
        rc = s->ops->commit(s);
    if (rc) {
        cdp_api_reply_err(req, rc, "resource");
        goto out;
    }
    txn = false;
    /* The answer shows what a GET would. */
    if (reader_is_admin(req, s)) {
        cdp_json_put(doc, "credentials", plain);
        plain = NULL;
    } else {
        cdp_json_put(doc, "credentials", masked());
    }
    cdp_http_reply_json(req, 200, doc);
    doc = NULL;
out:
    if (txn)
        s->ops->rollback(s);
    if (s)
        cdp_api_store_put(api, s);
    cJSON_Delete(plain);
    cJSON_Delete(kept);
    cJSON_Delete(old);
    cJSON_Delete(doc);
}

void cdp_api_resource_get(struct cdp_http_req *req, void *app)
{
    struct cdp_api *api = app;
    struct cdp_store *s = cdp_api_store(api, req);
    if (!s)
        return;
    cJSON *doc = NULL;
    int rc = s->ops->entity_get(s, KIND, cdp_http_param(req, 0), &doc);
    bool admin = !rc && reader_is_admin(req, s);
    cdp_api_store_put(api, s);
    if (rc)
        cdp_api_reply_err(req, rc, "resource");
    else if (reveal(req, api, doc, admin))
        cdp_http_reply_json(req, 200, doc);
    else
        cJSON_Delete(doc);
}

/* GET /resource/{id}/enabled/on|off. */
static void set_enabled(struct cdp_http_req *req, struct cdp_api *api, bool on)
{
    struct cdp_store *s = cdp_api_store(api, req);
    if (!s)
        return;
    const char *id = cdp_http_param(req, 0);
    cJSON *doc = NULL, *before = NULL;
    int rc = s->ops->begin(s);
    bool txn = rc == 0;
    if (!rc)
        rc = s->ops->entity_get(s, KIND, id, &doc);
    if (!rc && !(before = cJSON_Duplicate(doc, true)))
        rc = CDP_E_NOMEM;
    if (!rc) {
        cdp_json_put_bool(doc, "enabled", on);
        rc = s->ops->entity_put(s, KIND, id, doc);
    }
    if (!rc) {
        cdp_api_audit_docs(req, KIND, id, before, doc);
        rc = cdp_api_audit_write(req, s, 200);
    }
    if (!rc)
        rc = s->ops->commit(s);
    if (rc && txn)
        s->ops->rollback(s);
    cJSON_Delete(before);
    bool admin = !rc && reader_is_admin(req, s);
    cdp_api_store_put(api, s);
    if (rc) {
        cJSON_Delete(doc);
        cdp_api_reply_err(req, rc, "resource");
    } else if (reveal(req, api, doc, admin)) {
        cdp_http_reply_json(req, 200, doc);
    } else {
        cJSON_Delete(doc);
    }
}

void cdp_api_resource_enable(struct cdp_http_req *req, void *app)
{
    set_enabled(req, app, true);
}

void cdp_api_resource_disable(struct cdp_http_req *req, void *app)
{
    set_enabled(req, app, false);
}

/* A resource that destinations send through stays until they are changed or deleted. */
void cdp_api_resource_delete(struct cdp_http_req *req, void *app)
{
    struct cdp_api *api = app;
    struct cdp_store *s = cdp_api_store(api, req);
    if (!s)
        return;
    const char *id = cdp_http_param(req, 0);
    struct cdp_entity_query q = {.where = "$.resource.id", .equals = id};
    cJSON *users = NULL, *before = NULL;
    long n = 0;
    int rc = s->ops->begin(s);
    if (rc) {
        cdp_api_store_put(api, s);
        cdp_api_reply_err(req, rc, "resource");
        return;
    }
    rc = s->ops->entity_list(s, DESTINATION, &q, 0, 1, &users, &n);
    if (!rc && n == 0 && !(rc = s->ops->entity_get(s, KIND, id, &before)) &&
        !(rc = s->ops->entity_delete(s, KIND, id))) {
        cdp_api_audit_docs(req, KIND, id, before, NULL);
        rc = cdp_api_audit_write(req, s, 200);
    }
    if (!rc)
        rc = s->ops->commit(s);
    if (rc)
        s->ops->rollback(s);
    cdp_api_store_put(api, s);
    cJSON_Delete(before);
    if (rc) {
        cdp_api_reply_err(req, rc, "resource");
    } else if (n > 0) {
        const char *dname = cdp_json_str(cJSON_GetArrayItem(users, 0), "name");
        cdp_http_reply_error(req, 409,
                             "resource `%s` is used by %ld destination(s), such as `%s`: delete "
                             "or change them first",
                             id, n, dname ? dname : "?");
    } else {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "deleted", 1);
        cdp_http_reply_json(req, 200, j);
    }
    cJSON_Delete(users);
}

void cdp_api_resource_list(struct cdp_http_req *req, void *app)
{
    struct cdp_api *api = app;
    bool admin = false;
    if (admin_of(req, api, &admin))
        return;
    long total = 0;
    cJSON *list = cdp_api_list_page(req, api, KIND, "resources", NULL, NULL, &total);
    if (!list)
        return;
    cJSON *doc;
    cJSON_ArrayForEach(doc, list)
    {
        if (!reveal(req, api, doc, admin)) {
            cJSON_Delete(list);
            return;
        }
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "total", (double)total);
    cJSON_AddItemToObject(j, "result", list);
    cdp_http_reply_json(req, 200, j);
}

/* GET /resources/type/name: {total, result: {type id: name}}; /resources/type/configuration:
 * {total, result: {type id: {name, tags, config}}}, config being the credentials it expects. */
void cdp_api_resource_types(struct cdp_http_req *req, void *app)
{
    (void)app;
    const char *how = cdp_http_param(req, 0);
    bool names = strcmp(how, "name") == 0;
    if (!names && strcmp(how, "configuration") != 0) {
        cdp_http_reply_error(req, 422, "type: `name` or `configuration`, not `%.64s`", how);
        return;
    }
    cJSON *result = cJSON_CreateObject();
    for (size_t i = 0; i < NTYPES; i++) {
        if (names) {
            cJSON_AddStringToObject(result, types[i].id, types[i].name);
            continue;
        }
        cJSON *t = cJSON_AddObjectToObject(result, types[i].id);
        cJSON_AddStringToObject(t, "name", types[i].name);
        cJSON_AddItemToObject(t, "tags", cJSON_Parse(types[i].tags));
        cJSON_AddItemToObject(t, "config", cJSON_Parse(types[i].config));
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "total", (double)NTYPES);
    cJSON_AddItemToObject(j, "result", result);
    cdp_http_reply_json(req, 200, j);
}
