/* The configuration bundle: GET /config/export gives every config entity of the installation as
 * one document {version, cdpd, exported, entities: {kind: [documents]}}, and
 * POST /config/import?mode=merge|replace takes one back: every document checked first by the
 * checks of its own route, then all written in one transaction, or nothing.
 *
 * The kinds a bundle carries are the one table below, each with its route's checks; a kind
 * stored but not in it is named in the export's "skipped", never silently left out. What is kept
 * as an entity but is a record about people (erasures) is never in a bundle, nor are users,
 * tokens, the audit log and merge records, which are not entities. Resource credentials travel
 * sealed as stored, so only an installation with the same secret key can import them. */
#include "api/api.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/secret.h"
#include "flow/identification.h"
#include "flow/mapping.h"
#include "flow/reshape.h"
#include "flow/segment.h"
#include "http/http.h"
#include "model/consent.h"
#include "model/source.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

#ifndef CDPD_VERSION
#define CDPD_VERSION "0.0.0"
#endif

#define BUNDLE_VERSION 1

static int resource_check(struct cdp_api *api, cJSON *doc, char *err, size_t errlen);

static const struct bundle_kind {
    const char *kind; /* the entity kind, and its key under "entities" */
    int (*normalize)(cJSON *doc, char *err, size_t errlen);
    /* instead of normalize, for a kind whose check needs the installation's secrets */
    int (*check)(struct cdp_api *api, cJSON *doc, char *err, size_t errlen);
} kinds[] = {
    {"event-source", cdp_source_normalize, NULL},
    {"consent-type", cdp_consent_type_normalize, NULL},
    {"segment", cdp_segment_normalize, NULL},
    {"event-validator", cdp_api_validator_normalize, NULL},
    {"event-reshaping", cdp_reshape_normalize, NULL},
    {"event-to-profile", cdp_mapping_normalize, NULL},
    {"identification-point", cdp_identification_normalize, NULL},
    {"flow", cdp_api_flow_draft_normalize, NULL},      /* drafts, finished or not */
    {"flow-production", cdp_api_flow_normalize, NULL}, /* deployed copies, which rules run */
    {"rule", cdp_api_rule_normalize, NULL},
    {"resource", NULL, resource_check},
    {"destination", cdp_api_destination_normalize, NULL},
    {"setting", cdp_api_setting_normalize, NULL},
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* What entities name others by id: each must exist once the bundle is written ("" = any). */
static const struct bundle_ref {
    const char *kind, *path; /* the entity, and the id it names */
    const char *target;      /* the kind that id is of */
    const char *field, *what;
} refs[] = {
    {"rule", "flow.id", "flow", "flow", "flow"},
    {"rule", "source.id", "event-source", "source", "event source"},
    {"destination", "resource.id", "resource", "resource", "resource"},
};

static const struct bundle_kind *kind_of(const char *name)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (strcmp(kinds[i].kind, name) == 0)
            return &kinds[i];
    return NULL;
}

/* The bundle, read from one snapshot of the store. */
static int export_bundle(struct cdp_store *s, cJSON *bundle)
{
    char now[CDP_ISO_LEN];
    cdp_clock_iso(cdp_clock_now_us(), now);
    cJSON_AddNumberToObject(bundle, "version", BUNDLE_VERSION);
    cJSON_AddStringToObject(bundle, "cdpd", CDPD_VERSION);
    cJSON_AddStringToObject(bundle, "exported", now);
    cJSON *entities = cJSON_AddObjectToObject(bundle, "entities");
    if (!entities)
        return CDP_E_NOMEM;
    int rc = 0;
    for (size_t i = 0; !rc && i < NKINDS; i++) {
        cJSON *list = NULL;
        if (!(rc = cdp_api_entity_all(s, kinds[i].kind, &list)))
            cJSON_AddItemToObject(entities, kinds[i].kind, list);
    }
    /* Kinds stored that no bundle carries yet are named, so their absence is never silent. */
    cJSON *present = NULL;
    if (!rc && !(rc = s->ops->entity_kinds(s, &present))) {
        cJSON *skipped = cJSON_AddArrayToObject(bundle, "skipped");
        const cJSON *k;
        cJSON_ArrayForEach(k, present)
        {
            if (!kind_of(k->valuestring) && !cdp_api_is_person_record(k->valuestring))
                cJSON_AddItemToArray(skipped, cJSON_CreateString(k->valuestring));
        }
        cJSON_Delete(present);
    }
    return rc;
}

void cdp_api_config_export(struct cdp_http_req *req, void *app)
{
    struct cdp_store *s = cdp_api_store(app, req);
    if (!s)
        return;
    cJSON *bundle = cJSON_CreateObject();
    int rc = bundle ? s->ops->savepoint(s) : CDP_E_NOMEM;
    if (!rc) {
        rc = export_bundle(s, bundle);
        int rrc = s->ops->release(s);
        rc = rc ? rc : rrc;
    }
    cdp_api_store_put(app, s);
    if (rc) {
        cJSON_Delete(bundle);
        cdp_api_reply_err(req, rc, "config export");
        return;
    }
    cdp_http_reply_json(req, 200, bundle);
}

/* --- import --- */

/* A resource as a bundle carries it: its credentials sealed as stored, which must open under
 * this installation's secret key (so it must have the key of the installation that exported
 * them), or in clear, which are sealed here as POST /resource seals them. */
static int resource_check(struct cdp_api *api, cJSON *doc, char *err, size_t errlen)
{
    cJSON *cred = cJSON_GetObjectItemCaseSensitive(doc, "credentials");
    cJSON *sealed = cdp_secret_is_sealed(cred) ? cJSON_DetachItemViaPointer(doc, cred) : NULL;
    int rc = cdp_api_resource_normalize(doc, err, errlen);
    if (rc) {
        cJSON_Delete(sealed);
        return rc;
    }
    char ctx[200], why[200];
    cdp_api_resource_context(cdp_json_str(doc, "id"), ctx, sizeof(ctx));
    const unsigned char *key = cdp_api_secret_key(api);
    cJSON *plain = NULL;
    if (sealed) {
        rc = cdp_secret_open(key, ctx, sealed, &plain, why, sizeof(why));
        cJSON_Delete(plain);
        if (rc == CDP_E_CONFIG)
            snprintf(err, errlen,
                     "credentials: sealed under another secret key: importing them needs the key "
                     "of the installation that exported them (CDPD_SECRET_KEY or its key file)");
        else if (rc && rc != CDP_E_NOMEM)
            snprintf(err, errlen, "credentials: cannot be opened: %s", why);
        if (rc) {
            cJSON_Delete(sealed);
            return rc == CDP_E_NOMEM ? rc : CDP_E_INVALID;
        }
        cdp_json_put(doc, "credentials", sealed);
        return 0;
    }
    plain = cJSON_DetachItemFromObjectCaseSensitive(doc, "credentials");
    const cJSON *set;
    cJSON_ArrayForEach(set, plain)
    {
        if (cJSON_IsString(set)) { /* "***": keep the stored set, which a bundle has not */
            snprintf(err, errlen, "credentials.%s: a bundle holds the credentials, not \"%.16s\"",
                     set->string, set->valuestring);
            cJSON_Delete(plain);
            return CDP_E_INVALID;
        }
    }
    cJSON *out = NULL;
    rc = cdp_secret_seal(key, ctx, plain, &out);
    cJSON_Delete(plain);
    if (!rc)
        cdp_json_put(doc, "credentials", out);
    return rc;
}

/* The message of a check (its "<field>: why", or "body: why" for the document itself) placed
 * under entities.<kind>[i]. */
static void place_error(char *out, size_t outlen, const char *kind, int i, const char *err)
{
    if (strncmp(err, "body: ", 6) == 0)
        snprintf(out, outlen, "entities.%s[%d]: %s", kind, i, err + 6);
    else
        snprintf(out, outlen, "entities.%s[%d].%s", kind, i, err);
}

/* Checks every document of the bundle with its kind's checks (which complete them); 0, or
 * CDP_E_INVALID with the message in err. */
static int check_bundle(struct cdp_api *api, cJSON *bundle, char *err, size_t errlen)
{
    if (!cJSON_IsObject(bundle)) {
        snprintf(err, errlen, "body: expected a bundle {version, entities: {kind: [...]}}");
        return CDP_E_INVALID;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(bundle, "version");
    if (v && (!cJSON_IsNumber(v) || v->valuedouble != BUNDLE_VERSION)) {
        snprintf(err, errlen, "version: this cdpd reads bundles of version %d", BUNDLE_VERSION);
        return CDP_E_INVALID;
    }
    cJSON *entities = cJSON_GetObjectItemCaseSensitive(bundle, "entities");
    if (!cJSON_IsObject(entities)) {
        snprintf(err, errlen, "entities: expected an object {kind: [documents]}");
        return CDP_E_INVALID;
    }
    cJSON *list;
    cJSON_ArrayForEach(list, entities)
    {
        const struct bundle_kind *k = kind_of(list->string);
        if (!k) {
            char known[400] = "";
            size_t n = 0;
            for (size_t i = 0; i < NKINDS && n < sizeof(known); i++)
                n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s", i ? ", " : "",
                                      kinds[i].kind);
            snprintf(err, errlen, "entities.%.64s: not a kind of config entity (%s)", list->string,
                     known);
            return CDP_E_INVALID;
        }
        if (!cJSON_IsArray(list)) {
            snprintf(err, errlen, "entities.%s: expected a list of documents", k->kind);
            return CDP_E_INVALID;
        }
        int i = 0;
        cJSON *doc;
        cJSON_ArrayForEach(doc, list)
        {
            char why[400];
            int rc = k->check ? k->check(api, doc, why, sizeof(why))
                              : k->normalize(doc, why, sizeof(why));
            if (rc == CDP_E_NOMEM)
                snprintf(why, sizeof(why), "body: out of memory");
            if (rc) {
                place_error(err, errlen, k->kind, i, why);
                return rc;
            }
            const char *id = cdp_json_str(doc, "id");
            for (const cJSON *d = list->child; d != doc; d = d->next) {
                if (strcmp(cdp_json_str(d, "id"), id) == 0) {
                    snprintf(err, errlen, "entities.%s[%d].id: `%.128s` is listed twice", k->kind,
                             i, id);
                    return CDP_E_INVALID;
                }
            }
            i++;
        }
    }
    return 0;
}

/* Whether an entity of kind with id will exist once the bundle is written: it is in the bundle,
 * or stored and its kind is not being replaced. */
static int will_exist(struct cdp_store *s, const cJSON *entities, bool replace, const char *kind,
                      const char *id, bool *yes)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(entities, kind);
    const cJSON *d;
    cJSON_ArrayForEach(d, list)
    {
        if (strcmp(cdp_json_str(d, "id"), id) == 0)
            return *yes = true, 0;
    }
    *yes = false;
    if (replace && list)
        return 0;
    cJSON *found = NULL;
    int rc = s->ops->entity_get(s, kind, id, &found);
    cJSON_Delete(found);
    if (rc == CDP_E_NOT_FOUND)
        return 0;
    *yes = rc == 0;
    return rc;
}

/* Every id the bundle's entities name (refs) is of an entity that will exist. */
static int check_refs(struct cdp_store *s, const cJSON *entities, bool replace, char *err,
                      size_t errlen)
{
    for (size_t k = 0; k < sizeof(refs) / sizeof(refs[0]); k++) {
        const struct bundle_ref *ref = &refs[k];
        int i = 0;
        const cJSON *d;
        cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(entities, ref->kind))
        {
            const char *id = cdp_json_str(d, ref->path);
            bool ok = true;
            int rc = id && *id ? will_exist(s, entities, replace, ref->target, id, &ok) : 0;
            if (rc)
                return rc;
            if (!ok) {
                snprintf(err, errlen, "entities.%s[%d].%s: no %s `%.128s`", ref->kind, i,
                         ref->field, ref->what, id);
                return CDP_E_INVALID;
            }
            i++;
        }
    }
    return 0;
}

/* Deletes every stored entity of kind; *n says how many. */
static int clear_kind(struct cdp_store *s, const char *kind, long *n)
{
    cJSON *all = NULL;
    int rc = cdp_api_entity_all(s, kind, &all);
    const cJSON *d;
    cJSON_ArrayForEach(d, all)
    {
        if (!rc && !(rc = s->ops->entity_delete(s, kind, cdp_json_str(d, "id"))))
            (*n)++;
    }
    cJSON_Delete(all);
    return rc;
}

/* Writes the checked bundle inside the caller's transaction; counts per kind into imported
 * (and deleted, in replace mode). */
static int write_bundle(struct cdp_store *s, const cJSON *entities, bool replace, cJSON *imported,
                        cJSON *deleted)
{
    int rc = 0;
    const cJSON *list;
    cJSON_ArrayForEach(list, entities)
    {
        long gone = 0, put = 0;
        if (replace && (rc = clear_kind(s, list->string, &gone)))
            return rc;
        const cJSON *d;
        cJSON_ArrayForEach(d, list)
        {
            if ((rc = s->ops->entity_put(s, list->string, cdp_json_str(d, "id"), d)))
                return rc;
            put++;
        }
        cJSON_AddNumberToObject(imported, list->string, (double)put);
        if (replace)
            cJSON_AddNumberToObject(deleted, list->string, (double)gone);
    }
    return 0;
}

void cdp_api_config_import(struct cdp_http_req *req, void *app)
{
    const char *mode = cdp_http_query(req, "mode");
    if (mode && strcmp(mode, "merge") != 0 && strcmp(mode, "replace") != 0) {
        cdp_http_reply_error(req, 422, "mode: merge (the default) or replace");
        return;
    }
    bool replace = mode && strcmp(mode, "replace") == 0;
    cJSON *bundle = cdp_api_body_json(req, app);
    if (!bundle)
        return;
    char err[700];
    int rc = check_bundle(app, bundle, err, sizeof(err));
    if (rc) {
        cJSON_Delete(bundle);
        cdp_http_reply_error(req, rc == CDP_E_INVALID ? 422 : cdp_err_status(rc), "%s", err);
        return;
    }
    struct cdp_store *s = cdp_api_store(app, req);
    if (!s) {
        cJSON_Delete(bundle);
        return;
    }
    const cJSON *entities = cJSON_GetObjectItemCaseSensitive(bundle, "entities");
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "mode", replace ? "replace" : "merge");
    cJSON *imported = cJSON_AddObjectToObject(j, "imported");
    cJSON *deleted = replace ? cJSON_AddObjectToObject(j, "deleted") : NULL;
    err[0] = '\0';
    rc = imported && (deleted || !replace) ? s->ops->begin(s) : CDP_E_NOMEM;
    if (!rc) {
        if (!(rc = check_refs(s, entities, replace, err, sizeof(err))) &&
            !(rc = write_bundle(s, entities, replace, imported, deleted)))
            rc = s->ops->commit(s);
        if (rc)
            s->ops->rollback(s);
    }
    cdp_api_store_put(app, s);
    cJSON_Delete(bundle);
    if (rc == CDP_E_INVALID && err[0]) {
        cJSON_Delete(j);
        cdp_http_reply_error(req, 422, "%s", err);
    } else if (rc) {
        cJSON_Delete(j);
        cdp_api_reply_err(req, rc, "config import");
    } else {
        cdp_http_reply_json(req, 200, j);
    }
}
