/* Merges through the API: POST /profiles/merge merges profiles by hand, GET /merges and
 * GET /merge/{id} show the record of every merge (whatever caused it), and
 * POST /merge/{id}/undo restores the profiles as they were. */
#include "api/api.h"
#include "collect/identity.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "http/http.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

/* Most profiles one request merges by hand. */
#define MAX_MANUAL 100

static void reply_tx_err(struct cdp_http_req *req, struct cdp_store *s, int rc, const char *what)
{
    s->ops->rollback(s);
    cdp_api_reply_err(req, rc, what);
}

/* Loads the profiles the ids name (each person once, the survivor's first) into docs; 422 or
 * 404 replies name the id at fault. */
static int load_people(struct cdp_http_req *req, struct cdp_store *s, const cJSON *ids,
                       const char *survivor, cJSON **sdoc, cJSON *docs)
{
    int i = 0, rc;
    const cJSON *it;
    cJSON_ArrayForEach(it, ids)
    {
        if (!cJSON_IsString(it) || !*it->valuestring) {
            cdp_http_reply_error(req, 422, "ids[%d]: must be a profile id", i);
            return CDP_E_INVALID;
        }
        cJSON *doc = NULL;
        if ((rc = s->ops->profile_get(s, it->valuestring, &doc))) {
            if (rc == CDP_E_NOT_FOUND)
                cdp_http_reply_error(req, 404, "ids[%d]: profile %s not found", i, it->valuestring);
            else
                cdp_api_reply_err(req, rc, "profile");
            return rc;
        }
        const char *pid = cdp_json_str(doc, "id");
        bool dup = *sdoc && strcmp(cdp_json_str(*sdoc, "id"), pid) == 0;
        const cJSON *d;
        cJSON_ArrayForEach(d, docs)
        {
            dup = dup || strcmp(cdp_json_str(d, "id"), pid) == 0;
        }
        if (dup)
            cJSON_Delete(doc);
        else if (!*sdoc && (!survivor || strcmp(survivor, it->valuestring) == 0 ||
                            strcmp(survivor, pid) == 0))
            *sdoc = doc;
        else
            cJSON_AddItemToArray(docs, doc);
        i++;
    }
    return 0;
}

void cdp_api_profiles_merge(struct cdp_http_req *req, void *app)
{
    cJSON *body = cdp_api_body_json(req, app);
    if (!body)
        return;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(body, "ids");
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(body, "survivor");
    if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) < 2 ||
        cJSON_GetArraySize(ids) > MAX_MANUAL) {
        cdp_http_reply_error(req, 422, "ids: must list 2 to %d profile ids", MAX_MANUAL);
        cJSON_Delete(body);
        return;
    }
    if (sv && !cJSON_IsNull(sv) && !cJSON_IsString(sv)) {
        cdp_http_reply_error(req, 422, "survivor: must be one of the ids");
        cJSON_Delete(body);
        return;
    }
    struct cdp_store *s = cdp_api_store(app, req);
    if (!s) {
        cJSON_Delete(body);
        return;
    }
    cJSON *sdoc = NULL, *docs = cJSON_CreateArray(), *record = NULL;
    const char *survivor = cJSON_GetStringValue(sv);
    int rc = s->ops->begin(s);
    if (rc) {
        cdp_api_reply_err(req, rc, "store");
        goto out;
    }
    if ((rc = load_people(req, s, ids, survivor, &sdoc, docs))) {
        s->ops->rollback(s);
        goto out;
    }
    if (!sdoc) {
        s->ops->rollback(s);
        cdp_http_reply_error(req, 422, "survivor: %s is not one of the ids", survivor);
        goto out;
    }
    if (cJSON_GetArraySize(docs) == 0) {
        s->ops->rollback(s);
        cdp_http_reply_error(req, 422, "ids: all name one profile (%s): nothing to merge",
                             cdp_json_str(sdoc, "id"));
        goto out;
    }
    cJSON *cause = cJSON_CreateArray();
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(cause, c);
    cJSON_AddStringToObject(c, "type", "api");
    const char *by = cdp_api_user_id(req);
    cdp_json_put_str(c, "by", by && *by ? by : NULL);
    rc = cdp_identity_merge(s, sdoc, docs, cause, cdp_clock_now_us(), &record);
    cJSON_Delete(cause);
    if (!rc)
        rc = s->ops->commit(s);
    if (rc) {
        reply_tx_err(req, s, rc, "merge");
        goto out;
    }
    cJSON_AddItemToObject(record, "profile", sdoc);
    sdoc = NULL;
    cdp_http_reply_json(req, 200, record);
out:
    cdp_api_store_put(app, s);
    cJSON_Delete(sdoc);
    cJSON_Delete(docs);
    cJSON_Delete(body);
}

void cdp_api_merge_list(struct cdp_http_req *req, void *app)
{
    int start, limit;
    cdp_api_paging(req, &start, &limit);
    struct cdp_store *s = cdp_api_store(app, req);
    if (!s)
        return;
    cJSON *list = NULL;
    long total = 0;
    int rc = s->ops->merge_list(s, cdp_http_query(req, "profile"), start, limit, &list, &total);
    cdp_api_store_put(app, s);
    if (rc) {
        cdp_api_reply_err(req, rc, "merges");
        return;
    }
    cJSON *result = cJSON_CreateArray();
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        cJSON_AddItemToArray(result, cdp_identity_summary(it));
    }
    cJSON_Delete(list);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "total", (double)total);
    cJSON_AddItemToObject(j, "result", result);
    cdp_http_reply_json(req, 200, j);
}

void cdp_api_merge_get(struct cdp_http_req *req, void *app)
{
    struct cdp_store *s = cdp_api_store(app, req);
    if (!s)
        return;
    cJSON *doc = NULL;
    int rc = s->ops->merge_get(s, cdp_http_param(req, 0), &doc);
    cdp_api_store_put(app, s);
    if (rc)
        cdp_api_reply_err(req, rc, "merge");
    else
        cdp_http_reply_json(req, 200, doc);
}

void cdp_api_merge_undo(struct cdp_http_req *req, void *app)
{
    struct cdp_store *s = cdp_api_store(app, req);
    if (!s)
        return;
    char now[CDP_ISO_LEN], why[300] = "";
    cdp_clock_iso(cdp_clock_now_us(), now);
    cJSON *rec = NULL;
    int rc = s->ops->begin(s);
    if (!rc && !(rc = s->ops->merge_undo(s, cdp_http_param(req, 0), now, &rec, why, sizeof(why))))
        rc = s->ops->commit(s);
    if (rc) {
        s->ops->rollback(s);
        if (rc == CDP_E_CONFLICT)
            cdp_http_reply_error(req, 409, "%s", why);
        else
            cdp_api_reply_err(req, rc, "merge");
    } else {
        cdp_http_reply_json(req, 200, cdp_identity_summary(rec));
    }
    cJSON_Delete(rec);
    cdp_api_store_put(app, s);
}
