/* Users through the API, on Tracardi's paths: POST /user, GET|POST|DELETE /user/{id},
 * GET /users/{start}/{limit} (admin); the caller's own account, GET|POST /user-account, and
 * preferences, GET|POST|DELETE /user/preference/{key}, GET /user/preferences (any role).
 * Passwords are hashed (argon2id) before the transaction, so the store's write lock is never
 * held for a hash; every change is audited in its own transaction with the user's documents
 * before and after, which never hold the hash. No change may leave the installation without an
 * active administrator (409). */
#include "api/api.h"
#include "core/err.h"
#include "core/id.h"
#include "core/json.h"
#include "http/http.h"
#include "model/user.h"
#include "store/store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Users read per page when counting administrators. */
#define ADMIN_SCAN_PAGE 500

/* What GET answers: the document with its "expired" state, as Tracardi's user list. */
static cJSON *public_doc(const cJSON *doc)
{
    cJSON *j = cJSON_Duplicate(doc, true);
    if (!j)
        return NULL;
    cJSON_DeleteItemFromObjectCaseSensitive(j, "password"); /* never stored; never shown */
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(doc, "expiration_timestamp");
    cdp_json_put_bool(j, "expired",
                      cJSON_IsNumber(exp) && exp->valuedouble > 0 &&
                          exp->valuedouble < (double)time(NULL));
    return j;
}

/* A user document as the audit log keeps it: without the preferences, free-form state of the
 * GUI that may hold anything (their changes are recorded by key). */
static cJSON *audit_doc(const cJSON *doc)
{
    cJSON *j = doc ? cJSON_Duplicate(doc, true) : NULL;
    cJSON_DeleteItemFromObjectCaseSensitive(j, "preference");
    return j;
}

static void audit_user(struct cdp_http_req *req, const char *id, const cJSON *before,
                       const cJSON *after)
{
    cJSON *b = audit_doc(before), *a = audit_doc(after);
    cdp_api_audit_docs(req, "user", id, b, a);
    cJSON_Delete(b);
    cJSON_Delete(a);
}

/* Replies 422 with the problems when there are any (and frees them either way). */
static bool reply_problems(struct cdp_http_req *req, cJSON *problems)
{
    if (!problems) {
        cdp_http_reply_error(req, 500, "out of memory");
        return true;
    }
    if (cJSON_GetArraySize(problems) == 0) {
        cJSON_Delete(problems);
        return false;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "detail", problems);
    cdp_http_reply_json(req, 422, j);
    return true;
}

/* Whether some user other than except_id is an administrator who may act now. Inside the
 * caller's transaction, so two requests cannot each remove "the other" last admin. */
static int other_admin_exists(struct cdp_store *s, const char *except_id, bool *out)
{
    int64_t now = (int64_t)time(NULL);
    *out = false;
    for (int start = 0;; start += ADMIN_SCAN_PAGE) {
        cJSON *page = NULL;
        long total = 0;
        int rc = s->ops->user_list(s, start, ADMIN_SCAN_PAGE, &page, &total);
        if (rc)
            return rc;
        const cJSON *u;
        cJSON_ArrayForEach(u, page)
        {
            const char *id = cdp_json_str(u, "id");
            if (id && strcmp(id, except_id) != 0 && cdp_user_is_active_admin(u, now))
                *out = true;
        }
        int n = cJSON_GetArraySize(page);
        cJSON_Delete(page);
        if (*out || n < ADMIN_SCAN_PAGE)
            return 0;
    }
}

/* Commits after writing the audit record, or rolls back; replies on failure. */
static int finish(struct cdp_http_req *req, struct cdp_store *s, int rc, const char *what)
{
    if (!rc)
        rc = cdp_api_audit_write(req, s, 200);
    if (!rc)
        rc = s->ops->commit(s);
    if (rc) {
        s->ops->rollback(s);
        if (rc == CDP_E_CONFLICT)
            cdp_http_reply_error(req, 409, "email: a user with that e-mail already exists");
        else
            cdp_api_reply_err(req, rc, what);
    }
    return rc;
}

/* Whether the installation has any user at all (GET|POST /install). */
static int any_user(struct cdp_store *s, bool *out)
{
    cJSON *page = NULL;
    long total = 0;
    int rc = s->ops->user_list(s, 0, 1, &page, &total);
    cJSON_Delete(page);
    *out = total > 0;
    return rc;
}

/* Creates the user body describes. first: only while there is no user at all (the first
 * administrator, made from the GUI's first screen); 409 once there is one. */
static void create_user(struct cdp_http_req *req, void *app, cJSON *body, bool first)
{
    struct cdp_user_rec u;
    memset(&u, 0, sizeof(u));
    struct cdp_store *s = NULL;
    if (reply_problems(req, cdp_user_check(body, true)))
        goto out;
    cdp_id_uuid4(u.id);
    if (!(u.doc = cdp_user_new_doc(u.id, body))) {
        cdp_http_reply_error(req, 500, "out of memory");
        goto out;
    }
    snprintf(u.email, sizeof(u.email), "%s", cdp_json_str(u.doc, "email"));
    if (cdp_api_password_hash(cdp_json_str(body, "password"), u.pwhash, sizeof(u.pwhash))) {
        cdp_http_reply_error(req, 500, "cannot hash the password (out of memory)");
        goto out;
    }
    if (!(s = cdp_api_store_of(app, CDP_STORE_PRODUCTION, req)))
        goto out;
    struct cdp_user_rec old;
    memset(&old, 0, sizeof(old));
    int rc = s->ops->begin(s);
    if (rc) {
        cdp_api_reply_err(req, rc, "user");
        goto out;
    }
    if (first) {
        bool any = false;
        rc = any_user(s, &any);
        if (rc || any) {
            s->ops->rollback(s);
            if (rc)
                cdp_api_reply_err(req, rc, "user");
            else
                cdp_http_reply_error(req, 409, "cdpd has users already: log in");
            goto out;
        }
    }
    /* the id and the e-mail are both keys of user_get: an e-mail that is some user's id (or
     * the reverse) must not make two users one */
    rc = s->ops->user_get(s, u.email, &old);
    cdp_user_rec_fini(&old);
    if (rc == 0) {
        s->ops->rollback(s);
        cdp_http_reply_error(req, 409, "email: a user with e-mail %s already exists", u.email);
        goto out;
    }
    if (rc == CDP_E_NOT_FOUND)
        rc = s->ops->user_put(s, &u);
    if (!rc && first) /* no token, so no record from the guard: the installation's first entry */
        rc = cdp_api_audit_public(req, s, 200, u.id, u.email, "user", u.id, u.doc);
    audit_user(req, u.id, NULL, u.doc);
    if (finish(req, s, rc, "user"))
        goto out;
    cdp_http_reply_json(req, 200, public_doc(u.doc));
out:
    if (s)
        cdp_api_store_put(app, s);
    sodium_memzero(u.pwhash, sizeof(u.pwhash));
    cJSON_Delete(u.doc);
}

void cdp_api_user_create(struct cdp_http_req *req, void *app)
{
    cJSON *body = cdp_api_body_json(req, app);
    if (body)
        create_user(req, app, body, false);
    cJSON_Delete(body);
}

/* GET /install: {"users": false} while nobody can log in yet, so the GUI offers to create the
 * first administrator. */
void cdp_api_install_get(struct cdp_http_req *req, void *app)
{
    struct cdp_store *s = cdp_api_store_of(app, CDP_STORE_PRODUCTION, req);
    if (!s)
        return;
    bool any = false;
    int rc = any_user(s, &any);
    cdp_api_store_put(app, s);
    if (rc) {
        cdp_api_reply_err(req, rc, "user");
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "users", any);
    cdp_http_reply_json(req, 200, j);
}

/* POST /install {email, password, full_name?}: the first user, an administrator. */
void cdp_api_install(struct cdp_http_req *req, void *app)
{
    cJSON *body = cdp_api_body_json(req, app);
    if (!body)
        return;
    cJSON_DeleteItemFromObjectCaseSensitive(body, "roles");
    cJSON_DeleteItemFromObjectCaseSensitive(body, "disabled");
    cJSON_DeleteItemFromObjectCaseSensitive(body, "expiration_timestamp");
    cJSON *roles = cJSON_AddArrayToObject(body, "roles");
    cJSON_AddItemToArray(roles, cJSON_CreateString("admin"));
    create_user(req, app, body, true);
    cJSON_Delete(body);
}

void cdp_api_user_get(struct cdp_http_req *req, void *app)
{
    struct cdp_store *s = cdp_api_store(app, req);
    if (!s)
        return;
    struct cdp_user_rec u;
    memset(&u, 0, sizeof(u));
    int rc = s->ops->user_get(s, cdp_http_param(req, 0), &u);
    cdp_api_store_put(app, s);
    if (rc)
        cdp_api_reply_err(req, rc, "user");
    else
        cdp_http_reply_json(req, 200, public_doc(u.doc));
    cdp_user_rec_fini(&u);
}

/* Applies body to the stored user id (admin's POST /user/{id}, or the caller's own account)
 * in one transaction, with a new password hash when one is given: that ends the user's other
 * tokens (all of them unless it is the caller's own), as disabling ends all of them. */
static void update_user(struct cdp_http_req *req, struct cdp_api *api, const char *id,
                        const cJSON *body, const char *new_password)
{
    char pwhash[256] = "";
    if (new_password && cdp_api_password_hash(new_password, pwhash, sizeof(pwhash))) {
        cdp_http_reply_error(req, 500, "cannot hash the password (out of memory)");
        return;
    }
    struct cdp_store *s = cdp_api_store(api, req);
    if (!s)
        return;
    struct cdp_user_rec u;
    memset(&u, 0, sizeof(u));
    cJSON *before = NULL;
    int rc = s->ops->begin(s);
    if (rc) {
        cdp_api_reply_err(req, rc, "user");
        goto out;
    }
    if ((rc = s->ops->user_get(s, id, &u))) {
        s->ops->rollback(s);
        cdp_api_reply_err(req, rc, "user");
        goto out;
    }
    before = cJSON_Duplicate(u.doc, true);
    cdp_user_apply(u.doc, body);
    snprintf(u.email, sizeof(u.email), "%s", cdp_json_str(u.doc, "email"));
    int64_t now = (int64_t)time(NULL);
    bool other_admin = true;
    if (cdp_user_is_active_admin(before, now) && !cdp_user_is_active_admin(u.doc, now) &&
        !(rc = other_admin_exists(s, u.id, &other_admin)) && !other_admin) {
        s->ops->rollback(s);
        cdp_http_reply_error(req, 409,
                             "%s is the last active administrator: make another user admin "
                             "first",
                             u.email);
        goto out;
    }
    if (!rc && pwhash[0])
        snprintf(u.pwhash, sizeof(u.pwhash), "%s", pwhash);
    if (!rc)
        rc = s->ops->user_put(s, &u);
    bool self = strcmp(u.id, cdp_api_user_id(req)) == 0;
    if (!rc && (pwhash[0] || cdp_user_refusal(u.doc, now)))
        rc = s->ops->tokens_delete_user(
            s, u.id, self && !cdp_user_refusal(u.doc, now) ? cdp_api_token_hash(req) : NULL);
    audit_user(req, u.id, before, u.doc);
    if (pwhash[0])
        cdp_api_audit_note(req, "password_changed", cJSON_CreateTrue());
    if (finish(req, s, rc, "user"))
        goto out;
    cdp_http_reply_json(req, 200, public_doc(u.doc));
out:
    sodium_memzero(pwhash, sizeof(pwhash));
    sodium_memzero(u.pwhash, sizeof(u.pwhash));
    cJSON_Delete(before);
    cdp_user_rec_fini(&u);
    cdp_api_store_put(api, s);
}

void cdp_api_user_update(struct cdp_http_req *req, void *app)
{
    cJSON *body = cdp_api_body_json(req, app);
    if (!body)
        return;
    if (!reply_problems(req, cdp_user_check(body, false))) {
        const cJSON *pw = cJSON_GetObjectItemCaseSensitive(body, "password");
        update_user(req, app, cdp_http_param(req, 0), body, cJSON_GetStringValue(pw));
    }
    cJSON_Delete(body);
}

void cdp_api_user_delete(struct cdp_http_req *req, void *app)
{
    struct cdp_store *s = cdp_api_store(app, req);
    if (!s)
        return;
    struct cdp_user_rec u;
    memset(&u, 0, sizeof(u));
    int rc = s->ops->begin(s);
    if (rc) {
        cdp_api_reply_err(req, rc, "user");
        goto out;
    }
    if ((rc = s->ops->user_get(s, cdp_http_param(req, 0), &u))) {
        s->ops->rollback(s);
        cdp_api_reply_err(req, rc, "user");
        goto out;
    }
    bool other_admin = true;
    if (cdp_user_is_active_admin(u.doc, (int64_t)time(NULL)) &&
        !(rc = other_admin_exists(s, u.id, &other_admin)) && !other_admin) {
        s->ops->rollback(s);
        cdp_http_reply_error(req, 409, "%s is the last active administrator and cannot be deleted",
                             u.email);
        goto out;
    }
    if (!rc && !(rc = s->ops->user_delete(s, u.id)))
        rc = s->ops->tokens_delete_user(s, u.id, NULL);
    audit_user(req, u.id, u.doc, NULL);
    if (finish(req, s, rc, "user"))
        goto out;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "deleted", 1);
    cdp_http_reply_json(req, 200, j);
out:
    sodium_memzero(u.pwhash, sizeof(u.pwhash));
    cdp_user_rec_fini(&u);
    cdp_api_store_put(app, s);
}

static bool parse_count(const char *v, long max, int *out)
{
    char *end;
    long n = v ? strtol(v, &end, 10) : -1;
    if (!v || !*v || *end || n < 0 || n > max)
        return false;
    *out = (int)n;
    return true;
}

void cdp_api_users_list(struct cdp_http_req *req, void *app)
{
    int start, limit;
    if (!parse_count(cdp_http_param(req, 0), 1000000, &start)) {
        cdp_http_reply_error(req, 422, "start: must be a whole number from 0");
        return;
    }
    if (!parse_count(cdp_http_param(req, 1), 1000, &limit)) {
        cdp_http_reply_error(req, 422, "limit: must be a whole number from 0 to 1000");
        return;
    }
    struct cdp_store *s = cdp_api_store(app, req);
    if (!s)
        return;
    cJSON *list = NULL;
    long total = 0;
    int rc = s->ops->user_list(s, start, limit, &list, &total);
    cdp_api_store_put(app, s);
    if (rc) {
        cdp_api_reply_err(req, rc, "users");
        return;
    }
    cJSON *result = cJSON_CreateArray();
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        cJSON_AddItemToArray(result, public_doc(it));
    }
    cJSON_Delete(list);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "total", (double)total);
    cJSON_AddItemToObject(j, "result", result);
    cdp_http_reply_json(req, 200, j);
}

/* --- the caller's own account --- */

void cdp_api_account_get(struct cdp_http_req *req, void *app)
{
    struct cdp_store *s = cdp_api_store(app, req);
    if (!s)
        return;
    struct cdp_user_rec u;
    memset(&u, 0, sizeof(u));
    int rc = s->ops->user_get(s, cdp_api_user_id(req), &u);
    cdp_api_store_put(app, s);
    if (rc)
        cdp_api_reply_err(req, rc, "user");
    else
        cdp_http_reply_json(req, 200, public_doc(u.doc));
    cdp_user_rec_fini(&u);
}

/* Fields of POST /user-account: Tracardi's UserSoftEditPayload (name, password) with
 * full_name and preference, and old_password, required with a new password. */
static const char *const account_fields[] = {"full_name", "name", "preference", "password",
                                             "old_password"};

static cJSON *account_check(const cJSON *body, cJSON **changes)
{
    cJSON *problems = cJSON_CreateArray();
    *changes = cJSON_CreateObject();
    if (!problems || !*changes || !cJSON_IsObject(body)) {
        cJSON_Delete(*changes);
        *changes = NULL;
        if (problems)
            cJSON_AddItemToArray(problems, cJSON_Parse("{\"loc\":[\"body\"],\"msg\":\"the body "
                                                       "must be a JSON object\",\"type\":"
                                                       "\"type_error.dict\"}"));
        return problems;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, body)
    {
        bool known = false;
        for (size_t i = 0; i < sizeof(account_fields) / sizeof(account_fields[0]); i++)
            known = known || strcmp(it->string, account_fields[i]) == 0;
        if (!known) {
            cJSON *p = cJSON_CreateObject();
            cJSON *loc = cJSON_AddArrayToObject(p, "loc");
            cJSON_AddItemToArray(loc, cJSON_CreateString("body"));
            cJSON_AddItemToArray(loc, cJSON_CreateString(it->string));
            cJSON_AddStringToObject(p, "msg",
                                    "cannot be changed on your own account (an administrator "
                                    "changes it with POST /user/{id})");
            cJSON_AddStringToObject(p, "type", "value_error.forbidden");
            cJSON_AddItemToArray(problems, p);
        }
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "full_name");
    if (!name)
        name = cJSON_GetObjectItemCaseSensitive(body, "name");
    if (name)
        cdp_json_put(*changes, "full_name", cJSON_Duplicate(name, true));
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(body, "preference")))
        cdp_json_put(*changes, "preference", cJSON_Duplicate(v, true));
    if ((v = cJSON_GetObjectItemCaseSensitive(body, "password")))
        cdp_json_put(*changes, "password", cJSON_Duplicate(v, true));
    /* the same checks as an administrator's edit, for the fields a user may set */
    cJSON *more = cdp_user_check(*changes, false);
    cJSON *p;
    while (more && (p = cJSON_DetachItemFromArray(more, 0)))
        cJSON_AddItemToArray(problems, p);
    cJSON_Delete(more);
    return problems;
}

void cdp_api_account_update(struct cdp_http_req *req, void *app)
{
    cJSON *body = cdp_api_body_json(req, app);
    if (!body)
        return;
    cJSON *changes = NULL;
    struct cdp_user_rec u;
    memset(&u, 0, sizeof(u));
    if (reply_problems(req, account_check(body, &changes)))
        goto out;
    const char *pw = cdp_json_str(changes, "password");
    if (pw) {
        /* a stolen token alone must not be enough to take the account over */
        struct cdp_store *s = cdp_api_store(app, req);
        if (!s)
            goto out;
        int rc = s->ops->user_get(s, cdp_api_user_id(req), &u);
        cdp_api_store_put(app, s);
        if (rc) {
            cdp_api_reply_err(req, rc, "user");
            goto out;
        }
        if (cdp_api_password_recheck(req, u.email, u.pwhash, cdp_json_str(body, "old_password"),
                                     "old_password"))
            goto out;
    }
    update_user(req, app, cdp_api_user_id(req), changes, pw);
out:
    sodium_memzero(u.pwhash, sizeof(u.pwhash));
    cdp_user_rec_fini(&u);
    cJSON_Delete(changes);
    cJSON_Delete(body);
}

/* --- preferences: the caller's own, in their user document as Tracardi keeps them --- */

static void preferences_reply(struct cdp_http_req *req, struct cdp_api *api, const char *key)
{
    struct cdp_store *s = cdp_api_store(api, req);
    if (!s)
        return;
    struct cdp_user_rec u;
    memset(&u, 0, sizeof(u));
    int rc = s->ops->user_get(s, cdp_api_user_id(req), &u);
    cdp_api_store_put(api, s);
    const cJSON *pref = rc ? NULL : cJSON_GetObjectItemCaseSensitive(u.doc, "preference");
    const cJSON *v = key ? cJSON_GetObjectItemCaseSensitive(pref, key) : pref;
    if (rc)
        cdp_api_reply_err(req, rc, "user");
    else if (key && !v)
        cdp_http_reply_error(req, 404, "preference %s not found", key);
    else
        cdp_http_reply_json(req, 200, v ? cJSON_Duplicate(v, true) : cJSON_CreateObject());
    cdp_user_rec_fini(&u);
}

void cdp_api_preference_get(struct cdp_http_req *req, void *app)
{
    preferences_reply(req, app, cdp_http_param(req, 0));
}

void cdp_api_preferences_get(struct cdp_http_req *req, void *app)
{
    preferences_reply(req, app, NULL);
}

/* Sets (value) or deletes (NULL) one preference of the caller; answers all of them. */
static void preference_change(struct cdp_http_req *req, struct cdp_api *api, cJSON *value)
{
    const char *key = cdp_http_param(req, 0);
    struct cdp_store *s = cdp_api_store(api, req);
    if (!s) {
        cJSON_Delete(value);
        return;
    }
    struct cdp_user_rec u;
    memset(&u, 0, sizeof(u));
    int rc = s->ops->begin(s);
    if (!rc)
        rc = s->ops->user_get(s, cdp_api_user_id(req), &u);
    if (rc) {
        s->ops->rollback(s);
        cdp_api_reply_err(req, rc, "user");
        goto out;
    }
    cJSON *pref = cJSON_GetObjectItemCaseSensitive(u.doc, "preference");
    if (!cJSON_IsObject(pref)) {
        pref = cJSON_CreateObject();
        cdp_json_put(u.doc, "preference", pref);
    }
    cJSON *old = cJSON_DetachItemFromObjectCaseSensitive(pref, key);
    if (!value && !old) {
        s->ops->rollback(s);
        cdp_http_reply_error(req, 404, "preference %s not found", key);
        goto out;
    }
    if (value)
        cJSON_AddItemToObject(pref, key, value);
    cdp_api_audit_entity(req, "user-preference", key);
    value = NULL;
    cJSON_Delete(old);
    rc = s->ops->user_put(s, &u);
    if (finish(req, s, rc, "user"))
        goto out;
    cdp_http_reply_json(req, 200, cJSON_Duplicate(pref, true));
out:
    cJSON_Delete(value);
    sodium_memzero(u.pwhash, sizeof(u.pwhash));
    cdp_user_rec_fini(&u);
    cdp_api_store_put(api, s);
}

void cdp_api_preference_put(struct cdp_http_req *req, void *app)
{
    cJSON *value = cdp_api_body_json(req, app);
    if (value)
        preference_change(req, app, value);
}

void cdp_api_preference_delete(struct cdp_http_req *req, void *app)
{
    preference_change(req, app, NULL);
}
