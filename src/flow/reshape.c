/* Event reshaping schemas (reshape.h): checking the templates once when a schema is saved, and
 * rendering them with the object templates of flow/template.c. */
#include "flow/reshape.h"

#include "core/err.h"
#include "core/json.h"
#include "flow/path.h"
#include "flow/template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The parts a schema rewrites: template key, document and member it replaces. */
enum part { PART_PROPERTIES, PART_CONTEXT, PART_SESSION, NPARTS };
static const char *const part_names[NPARTS] = {"properties", "context", "session"};

struct cdp_reshape {
    char *id, *name, *event_type, *source; /* source "" = any */
    cJSON *tpl[NPARTS];                    /* NULL: that part is left alone */
};

static bool is_nonempty_object(const cJSON *v)
{
    return cJSON_IsObject(v) && v->child;
}

/* Checks reshaping.reshape_schema: every part absent, null or an object template, and one at
 * least not empty. */
static int check_schema(const cJSON *doc, char *err, size_t errlen)
{
    const cJSON *rs = cdp_json_get(doc, "reshaping.reshape_schema");
    if (!cJSON_IsObject(rs)) {
        snprintf(err, errlen,
                 "reshaping.reshape_schema: expected {properties, context, session} templates");
        return CDP_E_INVALID;
    }
    bool any = false;
    for (int k = 0; k < NPARTS; k++) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(rs, part_names[k]);
        char path[300];
        snprintf(path, sizeof(path), "reshaping.reshape_schema.%s", part_names[k]);
        if (!t || cJSON_IsNull(t))
            continue;
        if (!cJSON_IsObject(t)) {
            snprintf(err, errlen, "%s: expected an object template", path);
            return CDP_E_INVALID;
        }
        int rc = cdp_template_object_check(t, 1u << CDP_PATH_EVENT | 1u << CDP_PATH_SESSION,
                                           "event@… and session@…", path, err, errlen);
        if (rc)
            return rc;
        any |= is_nonempty_object(t);
    }
    if (!any) {
        snprintf(err, errlen,
                 "reshaping.reshape_schema: give a properties, context or session template");
        return CDP_E_INVALID;
    }
    return 0;
}

/* The id of event_type given as a string or {id, name}. */
static const char *type_of(const cJSON *doc)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "event_type");
    return cJSON_IsString(v) ? v->valuestring : cdp_json_str(v, "id");
}

int cdp_reshape_normalize(cJSON *doc, char *err, size_t errlen)
{
    int rc = cdp_json_entity_head(doc, "a reshaping schema", err, errlen);
    if (rc)
        return rc;
    const char *type = type_of(doc);
    if (!type || !*type) {
        snprintf(err, errlen, "event_type: required (an event type id such as \"purchase\")");
        return CDP_E_INVALID;
    }
    cdp_json_put_str(doc, "event_type", type); /* Tracardi keeps the type as a string */
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(doc, "event_source");
    const cJSON *sid = cJSON_IsObject(src) ? cJSON_GetObjectItemCaseSensitive(src, "id") : src;
    if (sid && !cJSON_IsNull(sid) && !cJSON_IsString(sid)) {
        snprintf(err, errlen, "event_source: expected {\"id\", \"name\"} or a source id");
        return CDP_E_INVALID;
    }
    if (!cdp_json_named(doc, "event_source")) { /* no source: any */
        cJSON *any = cJSON_CreateObject();
        cJSON_AddStringToObject(any, "id", "");
        cJSON_AddStringToObject(any, "name", "");
        cdp_json_put(doc, "event_source", any);
    }
    rc = check_schema(doc, err, errlen);
    if (rc)
        return rc;
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(doc, "enabled");
    if (en && !cJSON_IsBool(en)) {
        snprintf(err, errlen, "enabled: expected true or false");
        return CDP_E_INVALID;
    }
    if (!en)
        cJSON_AddBoolToObject(doc, "enabled", 1);
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "description")))
        cdp_json_put_str(doc, "description", "");
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "tags")))
        cdp_json_put(doc, "tags", cJSON_CreateArray());
    return 0;
}

void cdp_reshape_free(struct cdp_reshape *r)
{
    if (!r)
        return;
    free(r->id);
    free(r->name);
    free(r->event_type);
    free(r->source);
    for (int k = 0; k < NPARTS; k++)
        cJSON_Delete(r->tpl[k]);
    free(r);
}

int cdp_reshape_compile(const cJSON *doc, struct cdp_reshape **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *type = type_of(doc);
    if (!type || !*type) {
        snprintf(err, errlen, "event_type: required");
        return CDP_E_INVALID;
    }
    int rc = check_schema(doc, err, errlen);
    if (rc)
        return rc;
    const char *id = cdp_json_str(doc, "id"), *name = cdp_json_str(doc, "name");
    const char *src = cdp_json_str(doc, "event_source.id");
    if (!src)
        src = cdp_json_str(doc, "event_source");
    struct cdp_reshape *r = calloc(1, sizeof(*r));
    if (!r || !(r->id = strdup(id ? id : "")) || !(r->name = strdup(name ? name : "")) ||
        !(r->event_type = strdup(type)) || !(r->source = strdup(src ? src : "")))
        goto oom;
    const cJSON *rs = cdp_json_get(doc, "reshaping.reshape_schema");
    for (int k = 0; k < NPARTS; k++) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(rs, part_names[k]);
        if (is_nonempty_object(t) && !(r->tpl[k] = cJSON_Duplicate(t, true)))
            goto oom;
    }
    *out = r;
    return 0;
oom:
    cdp_reshape_free(r);
    snprintf(err, errlen, "reshaping schema: %s", cdp_err_str(CDP_E_NOMEM));
    return CDP_E_NOMEM;
}

int cdp_reshape_cmp(const void *a, const void *b)
{
    const struct cdp_reshape *x = *(const struct cdp_reshape *const *)a;
    const struct cdp_reshape *y = *(const struct cdp_reshape *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->id, y->id);
}

bool cdp_reshape_matches(const struct cdp_reshape *r, const char *type, const char *source_id)
{
    return type && strcmp(r->event_type, type) == 0 &&
           (!*r->source || strcmp(r->source, source_id ? source_id : "") == 0);
}

int cdp_reshape_apply(const struct cdp_reshape *r, cJSON *event, cJSON *session,
                      bool *session_changed)
{
    *session_changed = false;
    struct cdp_refs refs = {.event = event, .session = session};
    cJSON *done[NPARTS] = {NULL};
    int rc = 0, n = 0;
    /* Render all parts before replacing any, so each reads the documents as they came. */
    for (int k = 0; k < NPARTS && !rc; k++) {
        if (!r->tpl[k] || (k == PART_SESSION && !session))
            continue;
        char err[200];
        rc = cdp_template_object(r->tpl[k], &refs, false, &done[k], err, sizeof(err));
        n++;
    }
    if (rc) {
        for (int k = 0; k < NPARTS; k++)
            cJSON_Delete(done[k]);
        /* Templates were checked when compiled: only memory can run out here. */
        return CDP_E_NOMEM;
    }
    if (done[PART_PROPERTIES])
        cdp_json_put(event, "properties", done[PART_PROPERTIES]);
    if (done[PART_CONTEXT])
        cdp_json_put(event, "context", done[PART_CONTEXT]);
    if (done[PART_SESSION]) {
        cdp_json_put(session, "context", done[PART_SESSION]);
        *session_changed = true;
    }
    return n > 0;
}
