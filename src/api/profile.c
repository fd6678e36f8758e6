/* Reading what the collector built: GET /profile/{id} (by id or any of ids), /session/{id},
 * /event/{id}, /events/profile/{id}; and the person's rights over it: GET /profile/{id}/export
 * and DELETE /profile/{id} (erasure, audited as an "erasure" entity without personal data). */
#include "api/api.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/id.h"
#include "core/json.h"
#include "http/http.h"
#include "store/store.h"

#include <sodium.h>
#include <string.h>

#define ERASURE_KIND "erasure"

enum doc_kind { DOC_PROFILE, DOC_SESSION, DOC_EVENT };

static void get_doc(struct cdp_http_req *req, struct cdp_api *api, enum doc_kind kind,
                    const char *what)
{
    struct cdp_store *s = cdp_api_store(api, req);
    if (!s)
        return;
    const char *id = cdp_http_param(req, 0);
    cJSON *doc = NULL;
    int rc = kind == DOC_PROFILE   ? s->ops->profile_get(s, id, &doc)
             : kind == DOC_SESSION ? s->ops->session_get(s, id, &doc)
                                   : s->ops->event_get(s, id, &doc);
    cdp_api_store_put(api, s);
    if (rc)
        cdp_api_reply_err(req, rc, what);
    else
        cdp_http_reply_json(req, 200, doc);
}

void cdp_api_profile_get(struct cdp_http_req *req, void *app)
{
    get_doc(req, app, DOC_PROFILE, "profile");
}

void cdp_api_session_get(struct cdp_http_req *req, void *app)
{
    get_doc(req, app, DOC_SESSION, "session");
}

void cdp_api_event_get(struct cdp_http_req *req, void *app)
{
    get_doc(req, app, DOC_EVENT, "event");
}

void cdp_api_events_by_profile(struct cdp_http_req *req, void *app)
{
    int start, limit;
    cdp_api_paging(req, &start, &limit);
    struct cdp_store *s = cdp_api_store(app, req);
    if (!s)
        return;
    /* Resolve through ids[] first, so an old or merged id finds the survivor's events. */
    cJSON *profile = NULL, *list = NULL;
    long total = 0;
    int rc = s->ops->profile_get(s, cdp_http_param(req, 0), &profile);
    const char *pid = rc ? cdp_http_param(req, 0) : cdp_json_str(profile, "id");
    rc = s->ops->events_by_profile(s, pid, start, limit, &list, &total);
    cdp_api_store_put(app, s);
    cJSON_Delete(profile);
    if (rc) {
        cdp_api_reply_err(req, rc, "events");
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "total", (double)total);
    cJSON_AddItemToObject(j, "result", list);
    cdp_http_reply_json(req, 200, j);
}

/* Most events one export holds; "truncated": true says when a person has more. */
#define EXPORT_MAX_EVENTS 100000L

/* The audit record of an erasure, free of personal data: the primary id only as a hash. */
bool cdp_api_is_person_record(const char *kind)
{
    return strcmp(kind, ERASURE_KIND) == 0;
}

static cJSON *erasure_record(const char *audit_id, const char *pid,
                             const struct cdp_erasure_counts *n, const char *by)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[2 * crypto_hash_sha256_BYTES + 1], now[CDP_ISO_LEN];
    crypto_hash_sha256(h, (const unsigned char *)pid, strlen(pid));
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    cdp_clock_iso(cdp_clock_now_us(), now);
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    cdp_json_put_str(j, "id", audit_id);
    cdp_json_put_str(j, "time", now);
    cdp_json_put_str(j, "profile_id_hash", hex);
    cdp_json_put_num(j, "ids", (double)n->ids);
    cdp_json_put_num(j, "sessions", (double)n->sessions);
    cdp_json_put_num(j, "events", (double)n->events);
    cdp_json_put_str(j, "by", by);
    return j;
}

/* Erases the profile found by id and records the erasure, in one transaction. */
static int erase(struct cdp_store *s, const char *id, const char *by, const char *audit_id,
                 struct cdp_erasure_counts *n)
{
    cJSON *profile = NULL, *audit = NULL;
    const char *pid = NULL;
    int rc = s->ops->begin(s);
    if (rc)
        return rc;
    /* The primary id is hashed into the audit record, so read it before it is gone. */
    if ((rc = s->ops->profile_get(s, id, &profile)))
        goto fail;
    if (!(pid = cdp_json_str(profile, "id"))) {
        rc = CDP_E_STORE;
        goto fail;
    }
    if ((rc = s->ops->profile_erase(s, pid, n)))
        goto fail;
    if (!(audit = erasure_record(audit_id, pid, n, by))) {
        rc = CDP_E_NOMEM;
        goto fail;
    }
    if ((rc = s->ops->entity_put(s, ERASURE_KIND, audit_id, audit)))
        goto fail;
    if ((rc = s->ops->commit(s)))
        goto fail;
    cJSON_Delete(audit);
    cJSON_Delete(profile);
    return 0;
fail:
    s->ops->rollback(s);
    cJSON_Delete(audit);
    cJSON_Delete(profile);
    return rc;
}

void cdp_api_profile_delete(struct cdp_http_req *req, void *app)
{
    struct cdp_store *s = cdp_api_store(app, req);
    if (!s)
        return;
    const char *by = cdp_api_user_id(req);
    char audit_id[CDP_UUID_LEN];
    cdp_id_uuid4(audit_id);
    struct cdp_erasure_counts n;
    memset(&n, 0, sizeof(n));
    int rc = erase(s, cdp_http_param(req, 0), by && by[0] ? by : NULL, audit_id, &n);
    cdp_api_store_put(app, s);
    if (rc) {
        cdp_api_reply_err(req, rc, "profile");
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON *d = cJSON_AddObjectToObject(j, "deleted");
    cdp_json_put_num(d, "profiles", (double)n.profiles);
    cdp_json_put_num(d, "ids", (double)n.ids);
    cdp_json_put_num(d, "sessions", (double)n.sessions);
    cdp_json_put_num(d, "events", (double)n.events);
    cdp_json_put_str(j, "erasure", audit_id);
    cdp_http_reply_json(req, 200, j);
}

void cdp_api_profile_export(struct cdp_http_req *req, void *app)
{
    struct cdp_store *s = cdp_api_store(app, req);
    if (!s)
        return;
    cJSON *doc = NULL, *merges = NULL;
    long n = 0;
    int rc = s->ops->profile_export(s, cdp_http_param(req, 0), EXPORT_MAX_EVENTS, &doc);
    /* the merges the person took part in hold copies of their profiles too */
    if (!rc && !(rc = s->ops->merge_list(s, cdp_http_param(req, 0), 0, 1000, &merges, &n)))
        cJSON_AddItemToObject(doc, "merges", merges);
    cdp_api_store_put(app, s);
    if (rc) {
        cJSON_Delete(doc);
        cdp_api_reply_err(req, rc, "profile");
        return;
    }
    char now[CDP_ISO_LEN];
    cdp_clock_iso(cdp_clock_now_us(), now);
    cdp_json_put_str(doc, "exported", now);
    cdp_http_reply_json(req, 200, doc);
}
