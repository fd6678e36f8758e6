/* Deploying staging's configuration to production: GET /production/deploy (Tracardi's path)
 * makes production's config entities those of staging, kind by kind, and answers what changed;
 * with ?dry_run=true, and on GET /production/dry-run, it answers what would change and changes
 * nothing.
 *
 * Every kind either store holds is deployed (event sources, flows and their deployed copies,
 * rules, segments, consent types, validators, mappings, reshaping schemas, identification
 * points, resources, destinations, settings ... and kinds added later), except records about
 * people kept as entities (erasures). Users, tokens, the audit log and merge records are not
 * entities and stay where they are. Staging is read from one snapshot; production is written
 * in one transaction that holds its write lock from the first read on, so the report is exactly
 * what was replaced, and the production collector (its caches follow the store's version)
 * runs the new configuration from its next batch. Only the store seam is used, so this works on
 * any backend. */
#include "api/api.h"
#include "core/err.h"
#include "core/json.h"
#include "http/http.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

/* The documents of list that have an id, sorted by it, as a new array of pointers into list
 * (*n of them); NULL with *n 0 for an empty list. */
static int by_id(const void *a, const void *b)
{
    return strcmp(cdp_json_str(*(const cJSON *const *)a, "id"),
                  cdp_json_str(*(const cJSON *const *)b, "id"));
}

static int sorted(const cJSON *list, const cJSON ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cap = (size_t)cJSON_GetArraySize(list);
    if (!cap)
        return 0;
    const cJSON **v = malloc(cap * sizeof(*v));
    if (!v)
        return CDP_E_NOMEM;
    const cJSON *d;
    cJSON_ArrayForEach(d, list)
    {
        const char *id = cdp_json_str(d, "id");
        if (id && *id) /* every config entity is stored under its id */
            v[(*n)++] = d;
    }
    qsort(v, *n, sizeof(*v), by_id);
    *out = v;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The kinds either store holds, without the record kinds, each once and sorted, as a new array
 * of strings. */
static int kinds_of(struct cdp_store *stg, struct cdp_store *prod, cJSON **out)
{
    cJSON *a = NULL, *b = NULL, *kinds = NULL;
    const char **names = NULL;
    int rc = stg->ops->entity_kinds(stg, &a);
    if (!rc)
        rc = prod->ops->entity_kinds(prod, &b);
    size_t n = 0, cap = rc ? 0 : (size_t)(cJSON_GetArraySize(a) + cJSON_GetArraySize(b));
    if (!rc && (!(kinds = cJSON_CreateArray()) || (cap && !(names = malloc(cap * sizeof(*names))))))
        rc = CDP_E_NOMEM;
    for (const cJSON *list = a; !rc && list; list = list == a ? b : NULL) {
        const cJSON *k;
        cJSON_ArrayForEach(k, list)
        {
            if (cJSON_IsString(k) && !cdp_api_is_person_record(k->valuestring))
                names[n++] = k->valuestring;
        }
    }
    if (n)
        qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; !rc && i < n; i++)
        if ((i == 0 || strcmp(names[i - 1], names[i]) != 0) &&
            !cJSON_AddItemToArray(kinds, cJSON_CreateString(names[i])))
            rc = CDP_E_NOMEM;
    free(names);
    cJSON_Delete(a);
    cJSON_Delete(b);
    if (rc)
        cJSON_Delete(kinds);
    else
        *out = kinds;
    return rc;
}

struct totals {
    long added, changed, removed, unchanged;
};

/* Compares kind in both stores, adds its entry {added, changed, removed (ids), unchanged} to
 * report, and with write makes production's equal to staging's. */
static int deploy_kind(struct cdp_store *stg, struct cdp_store *prod, const char *kind, bool write,
                       cJSON *report, struct totals *t)
{
    cJSON *from = NULL, *to = NULL;
    const cJSON **f = NULL, **p = NULL;
    size_t nf = 0, np = 0;
    int rc = cdp_api_entity_all(stg, kind, &from);
    if (!rc)
        rc = cdp_api_entity_all(prod, kind, &to);
    if (!rc)
        rc = sorted(from, &f, &nf);
    if (!rc)
        rc = sorted(to, &p, &np);
    cJSON *entry = rc ? NULL : cJSON_AddObjectToObject(report, kind);
    cJSON *added = entry ? cJSON_AddArrayToObject(entry, "added") : NULL;
    cJSON *changed = entry ? cJSON_AddArrayToObject(entry, "changed") : NULL;
    cJSON *removed = entry ? cJSON_AddArrayToObject(entry, "removed") : NULL;
    if (!rc && !removed)
        rc = CDP_E_NOMEM;
    long same = 0;
    for (size_t i = 0, j = 0; !rc && (i < nf || j < np);) {
        int cmp = i == nf   ? 1
                  : j == np ? -1
                            : strcmp(cdp_json_str(f[i], "id"), cdp_json_str(p[j], "id"));
        if (cmp < 0 || (cmp == 0 && !cJSON_Compare(f[i], p[j], true))) {
            const char *id = cdp_json_str(f[i], "id");
            cJSON_AddItemToArray(cmp < 0 ? added : changed, cJSON_CreateString(id));
            if (write)
                rc = prod->ops->entity_put(prod, kind, id, f[i]);
        } else if (cmp > 0) {
            const char *id = cdp_json_str(p[j], "id");
            cJSON_AddItemToArray(removed, cJSON_CreateString(id));
            if (write)
                rc = prod->ops->entity_delete(prod, kind, id);
        } else {
            same++;
        }
        i += cmp <= 0;
        j += cmp >= 0;
    }
    if (!rc) {
        cJSON_AddNumberToObject(entry, "unchanged", (double)same);
        t->added += cJSON_GetArraySize(added);
        t->changed += cJSON_GetArraySize(changed);
        t->removed += cJSON_GetArraySize(removed);
        t->unchanged += same;
    }
    free(f);
    free(p);
    cJSON_Delete(from);
    cJSON_Delete(to);
    return rc;
}

/* Compares (and with write deploys) every kind; *report is {kinds: {...}} with the totals. */
static int deploy(struct cdp_store *stg, struct cdp_store *prod, bool write, cJSON *report,
                  struct totals *t)
{
    cJSON *kinds = NULL;
    int rc = kinds_of(stg, prod, &kinds);
    cJSON *per_kind = rc ? NULL : cJSON_AddObjectToObject(report, "kinds");
    if (!rc && !per_kind)
        rc = CDP_E_NOMEM;
    for (const cJSON *k = rc ? NULL : kinds->child; k && !rc; k = k->next)
        rc = deploy_kind(stg, prod, k->valuestring, write, per_kind, t);
    cJSON_Delete(kinds);
    return rc;
}

static bool query_flag(struct cdp_http_req *req, const char *name, bool *out)
{
    const char *v = cdp_http_query(req, name);
    *out = false;
    if (!v || strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "no") == 0)
        return true;
    if (!*v || strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0) {
        *out = true;
        return true;
    }
    cdp_http_reply_error(req, 422, "%s: want true or false, not `%.32s`", name, v);
    return false;
}

static void run(struct cdp_http_req *req, struct cdp_api *api, bool dry_run)
{
    bool allow_empty = false;
    if (!query_flag(req, "allow_empty", &allow_empty))
        return;
    struct cdp_store *stg = cdp_api_store_of(api, CDP_STORE_STAGING, req);
    if (!stg)
        return;
    struct cdp_store *prod = cdp_api_store_of(api, CDP_STORE_PRODUCTION, req);
    if (!prod) {
        cdp_api_store_put(api, stg);
        return;
    }
    cJSON *report = cJSON_CreateObject();
    struct totals t = {0};
    bool stg_open = false, prod_open = false;
    /* A snapshot of staging; production's write lock (or, dry, a snapshot) before its reads. */
    int rc = report ? stg->ops->savepoint(stg) : CDP_E_NOMEM;
    if (!rc) {
        stg_open = true;
        rc = dry_run ? prod->ops->savepoint(prod) : prod->ops->begin(prod);
    }
    if (!rc) {
        prod_open = true;
        cJSON_AddBoolToObject(report, "dry_run", dry_run);
        rc = deploy(stg, prod, !dry_run, report, &t);
    }
    /* Staging empty: deploying would delete all of production's configuration, which is far
     * more likely a mistake (a staging never used) than a wish. */
    bool refused =
        !rc && !dry_run && !allow_empty && t.added + t.changed + t.unchanged == 0 && t.removed > 0;
    if (!rc && !refused && !dry_run) {
        cJSON *note = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(report, "kinds"), true);
        cdp_api_audit_note(req, "deploy", note ? note : cJSON_CreateNull());
        rc = cdp_api_audit_write(req, prod, 200);
    }
    if (prod_open) {
        if (dry_run)
            prod->ops->release(prod); /* read only */
        else if (rc || refused)
            prod->ops->rollback(prod);
        else if ((rc = prod->ops->commit(prod)))
            prod->ops->rollback(prod);
    }
    if (stg_open)
        stg->ops->release(stg);
    cdp_api_store_put(api, stg);
    cdp_api_store_put(api, prod);
    if (rc) {
        cJSON_Delete(report);
        cdp_api_reply_err(req, rc, "deploy");
        return;
    }
    if (refused) {
        cJSON_Delete(report);
        cdp_http_reply_error(req, 409,
                             "staging holds no configuration: deploying it would delete all of "
                             "production's (%ld entities); add ?allow_empty=true to do that",
                             t.removed);
        return;
    }
    cJSON_AddBoolToObject(report, "deployed", !dry_run);
    cJSON_AddNumberToObject(report, "added", (double)t.added);
    cJSON_AddNumberToObject(report, "changed", (double)t.changed);
    cJSON_AddNumberToObject(report, "removed", (double)t.removed);
    cJSON_AddNumberToObject(report, "unchanged", (double)t.unchanged);
    cdp_http_reply_json(req, 200, report);
}

void cdp_api_deploy(struct cdp_http_req *req, void *app)
{
    bool dry_run;
    if (!query_flag(req, "dry_run", &dry_run))
        return;
    if (dry_run)
        cdp_api_audit_note(req, "dry_run", cJSON_CreateTrue());
    run(req, app, dry_run);
}

void cdp_api_deploy_dry_run(struct cdp_http_req *req, void *app)
{
    run(req, app, true);
}
