/* Identity resolution with the store: see identity.h. */
#include "collect/identity.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/id.h"
#include "core/json.h"
#include "core/metrics.h"
#include "model/merge.h"
#include "model/profile.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

/* Most profiles one look-up merges, as Tracardi's query of 1000. */
#define MAX_FOUND 1000

static bool listed(const cJSON *arr, const char *s)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0)
            return true;
    }
    return false;
}

static int add_id(cJSON *out, const char *id)
{
    if (listed(out, id))
        return 0;
    cJSON *s = cJSON_CreateString(id);
    return s && cJSON_AddItemToArray(out, s) ? 0 : CDP_E_NOMEM;
}

cJSON *cdp_identity_summary(const cJSON *record)
{
    cJSON *r = cJSON_Duplicate(record, true);
    if (!r)
        return NULL;
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "survivor"),
                                            "before");
    cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(r, "absorbed"))
    {
        cJSON_DeleteItemFromObjectCaseSensitive(a, "profile");
    }
    return r;
}

int cdp_identity_merge(struct cdp_store *s, cJSON *survivor, const cJSON *others,
                       const cJSON *cause, int64_t now_us, cJSON **record)
{
    const char *sid = cdp_json_str(survivor, "id");
    if (!sid || cJSON_GetArraySize(others) == 0)
        return CDP_E_INVALID;
    char id[CDP_UUID_LEN], ts[CDP_ISO_LEN];
    cdp_id_uuid4(id);
    cdp_clock_iso(now_us, ts);
    cJSON *rec = cJSON_CreateObject();
    cJSON *sv = cJSON_AddObjectToObject(rec, "survivor");
    cJSON *absorbed = cJSON_AddArrayToObject(rec, "absorbed");
    if (!sv || !absorbed) {
        cJSON_Delete(rec);
        return CDP_E_NOMEM;
    }
    cJSON_AddStringToObject(rec, "id", id);
    cJSON_AddStringToObject(rec, "time", ts);
    cJSON_AddStringToObject(sv, "id", sid);
    cJSON_AddItemToObject(sv, "before", cJSON_Duplicate(survivor, true));
    cJSON_AddItemToObject(rec, "cause", cause ? cJSON_Duplicate(cause, true) : cJSON_CreateNull());
    cJSON_AddNullToObject(rec, "undone");
    int rc = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, others)
    {
        const char *oid = cdp_json_str(o, "id");
        if (!oid || strcmp(oid, sid) == 0) {
            rc = CDP_E_INVALID;
            break;
        }
        cJSON *a = cJSON_CreateObject();
        if (!a || !cJSON_AddItemToArray(absorbed, a)) {
            cJSON_Delete(a);
            rc = CDP_E_NOMEM;
            break;
        }
        cJSON_AddStringToObject(a, "id", oid);
        cJSON_AddItemToObject(a, "profile", cJSON_Duplicate(o, true));
        if ((rc = cdp_profile_merge(survivor, o)))
            break;
    }
    if (!rc) {
        cdp_json_put_bool(cdp_json_obj(cdp_json_obj(survivor, "metadata"), "system"),
                          "merge_pending", false);
        cdp_profile_touch(survivor, now_us);
        rc = s->ops->profile_merge(s, rec);
    }
    if (!rc)
        rc = s->ops->profile_put(s, survivor);
    if (!rc && record && !(*record = cdp_identity_summary(rec)))
        rc = CDP_E_NOMEM;
    if (!rc)
        cdp_metric_add(CDP_METRIC_MERGES, 1);
    cJSON_Delete(rec);
    return rc;
}

int cdp_identity_shared(struct cdp_store *s, const cJSON *profile, cJSON *out)
{
    const char *self = cdp_json_str(profile, "id");
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(profile, "ids"))
    {
        char owner[160];
        if (!cJSON_IsString(it) || (self && strcmp(it->valuestring, self) == 0))
            continue;
        int rc = s->ops->profile_resolve(s, it->valuestring, owner, sizeof(owner));
        if (rc == CDP_E_NOT_FOUND)
            continue;
        if (rc)
            return rc;
        if ((!self || strcmp(owner, self) != 0) && (rc = add_id(out, owner)))
            return rc;
    }
    return 0;
}

int cdp_identity_find(struct cdp_store *s, const cJSON *profile, const cJSON *keys, cJSON *out,
                      char *err, size_t errlen)
{
    cJSON *q = cJSON_CreateObject();
    if (!q)
        return CDP_E_NOMEM;
    int rc = 1;
    const cJSON *k;
    cJSON_ArrayForEach(k, keys)
    {
        const char *path = cJSON_GetStringValue(k);
        if (!path)
            continue;
        if (strncmp(path, "profile@", 8) == 0)
            path += 8;
        const cJSON *v = cdp_json_get(profile, path);
        if (!v || cJSON_IsNull(v) || (cJSON_IsString(v) && !*v->valuestring)) {
            rc = 0; /* no value to look for: this profile is not merged by these keys */
            break;
        }
        if (!cJSON_IsString(v) && !cJSON_IsNumber(v) && !cJSON_IsBool(v)) {
            snprintf(err, errlen,
                     "merge key %s holds a %s; only text, numbers and booleans "
                     "can be merged by",
                     path, cJSON_IsArray(v) ? "list" : "object");
            rc = CDP_E_INVALID;
            break;
        }
        cJSON_AddItemToObject(q, path, cJSON_Duplicate(v, false));
    }
    if (rc == 1 && cJSON_GetArraySize(q) > 0)
        rc = cdp_identity_find_by(s, q, cdp_json_str(profile, "id"), out, err, errlen);
    cJSON_Delete(q);
    return rc;
}

int cdp_identity_find_by(struct cdp_store *s, const cJSON *query, const char *self, cJSON *out,
                         char *err, size_t errlen)
{
    cJSON *found = NULL;
    int rc = s->ops->profiles_find(s, query, MAX_FOUND, &found);
    if (rc == CDP_E_INVALID)
        snprintf(err, errlen,
                 "cannot merge by %s: fields are paths of letters, digits and _ "
                 "holding text, numbers or booleans",
                 cJSON_GetArraySize(query) == 1 ? query->child->string : "these keys");
    if (rc)
        return rc;
    const cJSON *k;
    cJSON_ArrayForEach(k, found)
    {
        if (!rc && (!self || strcmp(k->valuestring, self) != 0) && add_id(out, k->valuestring))
            rc = CDP_E_NOMEM;
    }
    cJSON_Delete(found);
    return rc ? rc : 1;
}

/* Merges the profiles of ids with doc (all taken), the one made first surviving. */
static int sweep_merge(struct cdp_store *s, cJSON *doc, const cJSON *ids, int64_t now_us,
                       struct cdp_sweep *out)
{
    cJSON *docs = cJSON_CreateArray();
    if (!docs || !cJSON_AddItemToArray(docs, doc)) {
        cJSON_Delete(docs);
        cJSON_Delete(doc);
        return CDP_E_NOMEM;
    }
    int rc = 0, oldest = 0, n = 1;
    const cJSON *it;
    cJSON_ArrayForEach(it, ids)
    {
        cJSON *o = NULL;
        if ((rc = s->ops->profile_get(s, it->valuestring, &o)) == CDP_E_NOT_FOUND)
            continue;
        if (rc)
            break;
        cJSON_AddItemToArray(docs, o);
        const char *a = cdp_json_str(o, "metadata.time.insert");
        const char *b = cdp_json_str(cJSON_GetArrayItem(docs, oldest), "metadata.time.insert");
        if (a && (!b || strcmp(a, b) < 0))
            oldest = n;
        n++;
    }
    cJSON *cause = cJSON_CreateArray();
    cJSON *c = cJSON_CreateObject();
    if (!rc && (!cause || !c || !cJSON_AddItemToArray(cause, c))) {
        cJSON_Delete(c);
        rc = CDP_E_NOMEM;
    }
    if (!rc && n > 1) {
        cJSON_AddStringToObject(c, "type", "job");
        cJSON *survivor = cJSON_DetachItemFromArray(docs, oldest);
        rc = cdp_identity_merge(s, survivor, docs, cause, now_us, NULL);
        cJSON_Delete(survivor);
        if (!rc) {
            out->merges++;
            out->absorbed += n - 1;
        }
    }
    cJSON_Delete(cause);
    cJSON_Delete(docs);
    return rc;
}

/* Profiles one sweep transaction handles. */
#define SWEEP_CHUNK 500

static int sweep_chunk(struct cdp_store *s, const cJSON *chunk, const char *salt, int64_t now_us,
                       struct cdp_sweep *out)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, chunk)
    {
        const char *id = cdp_json_str(it, "id");
        cJSON *doc = NULL, *ids = NULL;
        int rc = id ? s->ops->profile_get(s, id, &doc) : CDP_E_NOT_FOUND;
        if (rc == CDP_E_NOT_FOUND)
            continue;
        if (rc)
            return rc;
        out->profiles++;
        if (strcmp(cdp_json_str(doc, "id"), id) != 0) { /* merged earlier in this sweep */
            cJSON_Delete(doc);
            continue;
        }
        int added = cdp_profile_auto_ids(doc, salt);
        if (added > 0)
            out->ids++;
        rc = added < 0 ? added : (ids = cJSON_CreateArray()) ? 0 : CDP_E_NOMEM;
        if (!rc)
            rc = cdp_identity_shared(s, doc, ids);
        if (!rc && cJSON_GetArraySize(ids) > 0) {
            rc = sweep_merge(s, doc, ids, now_us, out);
            doc = NULL;
        } else if (!rc && added > 0) {
            rc = s->ops->profile_put(s, doc);
        }
        cJSON_Delete(doc);
        cJSON_Delete(ids);
        if (rc)
            return rc;
    }
    return 0;
}

int cdp_identity_sweep(struct cdp_store *s, const char *salt, int64_t now_us, struct cdp_sweep *out)
{
    memset(out, 0, sizeof(*out));
    char after[160] = "";
    for (;;) {
        cJSON *chunk = NULL;
        int rc = s->ops->profiles_scan(s, after, SWEEP_CHUNK, &chunk);
        if (rc)
            return rc;
        int n = cJSON_GetArraySize(chunk);
        if (n == 0) {
            cJSON_Delete(chunk);
            return 0;
        }
        const char *last = cdp_json_str(cJSON_GetArrayItem(chunk, n - 1), "id");
        snprintf(after, sizeof(after), "%s", last ? last : "");
        if (!(rc = s->ops->begin(s))) {
            rc = sweep_chunk(s, chunk, salt, now_us, out);
            rc = rc ? rc : s->ops->commit(s);
            if (rc)
                s->ops->rollback(s);
        }
        cJSON_Delete(chunk);
        if (rc || !last)
            return rc;
    }
}
