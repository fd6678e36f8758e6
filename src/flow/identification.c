/* Identification points (identification.h): checked when saved, compiled to parsed event paths
 * and canonical dotted profile paths, matched per event. */
#include "flow/identification.h"

#include "core/err.h"
#include "core/json.h"
#include "flow/mapping.h"
#include "flow/path.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct field {
    struct cdp_path *event; /* event@… */
    char *profile;          /* dotted, without profile@ */
};

struct cdp_identification {
    char *id, *name, *event_type, *source; /* source "" = any */
    struct field *fields;
    int nfields;
};

/* The path text of {value, ref} or a plain string. */
static const char *path_text(const cJSON *v)
{
    return cJSON_IsString(v) ? v->valuestring : cdp_json_str(v, "value");
}

/* text, with "<source>@" put in front unless it starts so, as a parsed reference into source;
 * CDP_E_INVALID when it is none or names the whole document. */
static int parse_as(const char *text, const char *source, enum cdp_path_source want,
                    struct cdp_path **out)
{
    *out = NULL;
    char ref[512];
    size_t sl = strlen(source);
    bool has = strncmp(text, source, sl) == 0 && text[sl] == '@';
    int n = snprintf(ref, sizeof(ref), "%s%s%s", has ? "" : source, has ? "" : "@", text);
    if (n < 0 || (size_t)n >= sizeof(ref))
        return CDP_E_INVALID;
    int rc = cdp_path_parse(ref, (size_t)n, out);
    if (!rc && ((*out)->source != want || (*out)->nseg == 0)) {
        cdp_path_free(*out);
        *out = NULL;
        rc = CDP_E_INVALID;
    }
    return rc;
}

/* The dotted profile path of text (canonical: keys joined by '.'), or CDP_E_INVALID when it is
 * no field under a root mappings may write (cdp_mapping_profile_root; the root itself is none) or a
 * key holds a '.' or is empty. */
static int profile_key(const char *text, char *out, size_t outlen)
{
    struct cdp_path *p;
    int rc = parse_as(text, "profile", CDP_PATH_PROFILE, &p);
    if (rc)
        return rc;
    rc = p->nseg > 1 && cdp_mapping_profile_root(p->seg[0]) ? 0 : CDP_E_INVALID;
    size_t len = 0;
    for (size_t i = 0; !rc && i < p->nseg; i++) {
        size_t n = strlen(p->seg[i]);
        if (n == 0 || strchr(p->seg[i], '.') || len + n + 2 > outlen) {
            rc = CDP_E_INVALID;
            break;
        }
        if (i)
            out[len++] = '.';
        memcpy(out + len, p->seg[i], n);
        len += n;
    }
    out[len] = '\0';
    cdp_path_free(p);
    return rc;
}

/* {value: text, ref: true} in place of a plain string at it[key]. */
static void as_ref(cJSON *it, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, key);
    if (!cJSON_IsString(v))
        return;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "value", v->valuestring);
    cJSON_AddBoolToObject(r, "ref", 1);
    cdp_json_put(it, key, r);
}

/* Checks the fields list; in err "fields[i].<what>: why". */
static int check_fields(const cJSON *list, char *err, size_t errlen)
{
    if (!cJSON_IsArray(list) || !list->child) {
        snprintf(err, errlen,
                 "fields: a list of {profile_trait, event_property} is required, e.g. "
                 "[{\"profile_trait\": \"data.contact.email.main\", "
                 "\"event_property\": \"properties.email\"}]");
        return CDP_E_INVALID;
    }
    int i = 0;
    for (const cJSON *it = list->child; it; it = it->next, i++) {
        const char *ev = path_text(cJSON_GetObjectItemCaseSensitive(it, "event_property"));
        const char *pr = path_text(cJSON_GetObjectItemCaseSensitive(it, "profile_trait"));
        struct cdp_path *p = NULL;
        char key[512], other[512];
        int rc = ev ? parse_as(ev, "event", CDP_PATH_EVENT, &p) : CDP_E_INVALID;
        cdp_path_free(p);
        if (rc == CDP_E_NOMEM)
            return rc;
        if (rc) {
            snprintf(err, errlen,
                     "fields[%d].event_property: an event field such as properties.email", i);
            return CDP_E_INVALID;
        }
        rc = pr ? profile_key(pr, key, sizeof(key)) : CDP_E_INVALID;
        if (rc == CDP_E_NOMEM)
            return rc;
        if (rc) {
            snprintf(err, errlen,
                     "fields[%d].profile_trait: a profile field under data, traits, ids, "
                     "stats, segments, interests, consents, aux, misc or trash, such as "
                     "data.contact.email.main",
                     i);
            return CDP_E_INVALID;
        }
        int k = 0;
        for (const cJSON *o = list->child; o != it; o = o->next, k++) {
            const char *t = path_text(cJSON_GetObjectItemCaseSensitive(o, "profile_trait"));
            if (profile_key(t, other, sizeof(other)) == 0 && strcmp(other, key) == 0) {
                snprintf(err, errlen, "fields[%d].profile_trait: %s is already in fields[%d]", i,
                         key, k);
                return CDP_E_INVALID;
            }
        }
    }
    return 0;
}

/* doc[key] as {id, name}, where an absent, null or "" id means any (id ""). */
static int any_or_named(cJSON *doc, const char *key, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);
    const cJSON *id = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, "id") : v;
    if (id && !cJSON_IsNull(id) && !cJSON_IsString(id)) {
        snprintf(err, errlen, "%s: expected {\"id\", \"name\"}, a source id or \"\" for any", key);
        return CDP_E_INVALID;
    }
    if (cdp_json_named(doc, key))
        return 0;
    cJSON *any = cJSON_CreateObject();
    if (!any || !cJSON_AddStringToObject(any, "id", "") ||
        !cJSON_AddStringToObject(any, "name", "")) {
        cJSON_Delete(any);
        return CDP_E_NOMEM;
    }
    cdp_json_put(doc, key, any);
    return 0;
}

int cdp_identification_normalize(cJSON *doc, char *err, size_t errlen)
{
    int rc = cdp_json_entity_head(doc, "an identification point", err, errlen);
    if (rc)
        return rc;
    if (!cdp_json_named(doc, "event_type")) {
        snprintf(err, errlen, "event_type: required ({\"id\", \"name\"} or an event type id)");
        return CDP_E_INVALID;
    }
    rc = any_or_named(doc, "source", err, errlen);
    if (rc)
        return rc;
    cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "fields");
    if ((rc = check_fields(list, err, errlen)))
        return rc;
    cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        as_ref(it, "profile_trait");
        as_ref(it, "event_property");
    }
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(doc, "enabled");
    if (en && !cJSON_IsBool(en)) {
        snprintf(err, errlen, "enabled: expected true or false");
        return CDP_E_INVALID;
    }
    if (!en)
        cJSON_AddBoolToObject(doc, "enabled", 1);
    const cJSON *settings = cJSON_GetObjectItemCaseSensitive(doc, "settings");
    if (settings && !cJSON_IsNull(settings) && !cJSON_IsObject(settings)) {
        snprintf(err, errlen, "settings: expected an object");
        return CDP_E_INVALID;
    }
    if (!cJSON_IsObject(settings))
        cdp_json_put(doc, "settings", cJSON_CreateObject());
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "description")))
        cdp_json_put_str(doc, "description", "");
    return 0;
}

void cdp_identification_free(struct cdp_identification *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->nfields; i++) {
        cdp_path_free(p->fields[i].event);
        free(p->fields[i].profile);
    }
    free(p->fields);
    free(p->id);
    free(p->name);
    free(p->event_type);
    free(p->source);
    free(p);
}

int cdp_identification_compile(const cJSON *doc, struct cdp_identification **out, char *err,
                               size_t errlen)
{
    *out = NULL;
    const char *type = cdp_json_str(doc, "event_type.id");
    if (!type || !*type) {
        snprintf(err, errlen, "event_type: required");
        return CDP_E_INVALID;
    }
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "fields");
    int rc = check_fields(list, err, errlen);
    if (rc)
        return rc;
    const char *id = cdp_json_str(doc, "id"), *name = cdp_json_str(doc, "name");
    const char *src = cdp_json_str(doc, "source.id");
    struct cdp_identification *p = calloc(1, sizeof(*p));
    if (!p || !(p->fields = calloc((size_t)cJSON_GetArraySize(list), sizeof(*p->fields))) ||
        !(p->id = strdup(id ? id : "")) || !(p->name = strdup(name ? name : "")) ||
        !(p->event_type = strdup(type)) || !(p->source = strdup(src ? src : "")))
        goto oom;
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        struct field *f = &p->fields[p->nfields];
        char key[512];
        /* check_fields passed: only memory can fail here */
        if (parse_as(path_text(cJSON_GetObjectItemCaseSensitive(it, "event_property")), "event",
                     CDP_PATH_EVENT, &f->event) ||
            profile_key(path_text(cJSON_GetObjectItemCaseSensitive(it, "profile_trait")), key,
                        sizeof(key)) ||
            !(f->profile = strdup(key))) {
            cdp_path_free(f->event);
            goto oom;
        }
        p->nfields++;
    }
    *out = p;
    return 0;
oom:
    cdp_identification_free(p);
    snprintf(err, errlen, "identification point: %s", cdp_err_str(CDP_E_NOMEM));
    return CDP_E_NOMEM;
}

int cdp_identification_cmp(const void *a, const void *b)
{
    const struct cdp_identification *x = *(const struct cdp_identification *const *)a;
    const struct cdp_identification *y = *(const struct cdp_identification *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->id, y->id);
}

bool cdp_identification_matches(const struct cdp_identification *p, const char *type,
                                const char *source_id)
{
    return type && strcmp(p->event_type, type) == 0 &&
           (!*p->source || strcmp(p->source, source_id ? source_id : "") == 0);
}

static bool is_empty(const cJSON *v)
{
    return !v || cJSON_IsNull(v) || (cJSON_IsString(v) && !*v->valuestring) ||
           ((cJSON_IsArray(v) || cJSON_IsObject(v)) && !v->child);
}

int cdp_identification_keys(const struct cdp_identification *p, const cJSON *event, cJSON **keys)
{
    *keys = NULL;
    struct cdp_refs refs = {.event = (cJSON *)(uintptr_t)event}; /* only read */
    for (int i = 0; i < p->nfields; i++)
        if (is_empty(cdp_path_resolve(&refs, p->fields[i].event)))
            return 0;
    cJSON *k = cJSON_CreateObject();
    for (int i = 0; k && i < p->nfields; i++) {
        cJSON *v = cJSON_Duplicate(cdp_path_resolve(&refs, p->fields[i].event), true);
        if (!v || !cJSON_AddItemToObject(k, p->fields[i].profile, v)) {
            cJSON_Delete(v);
            cJSON_Delete(k);
            k = NULL;
        }
    }
    if (!k)
        return CDP_E_NOMEM;
    *keys = k;
    return 1;
}
