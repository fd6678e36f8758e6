/* Event-to-profile mappings (mapping.h). */
#include "flow/mapping.h"

#include "core/err.h"
#include "core/json.h"
#include "flow/path.h"
#include "flow/tql.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum op { OP_SET, OP_SET_IF_EMPTY, OP_APPEND, OP_INCREMENT };

struct pair {
    struct cdp_path *from, *to;
    enum op op;
};

struct cdp_mapping {
    char *event_type;
    struct cdp_tql *cond; /* NULL: always */
    struct pair *pairs;
    int npairs;
};

static const char *const op_names[] = {"set", "set_if_empty", "append", "increment"};
static const char *const profile_roots[] = {"data",      "traits",   "ids", "stats", "segments",
                                            "interests", "consents", "aux", "misc",  "trash"};

/* "properties.email" or "event@properties.email" as a parsed event@ reference. */
static int event_path(const char *v, struct cdp_path **out)
{
    char ref[512];
    snprintf(ref, sizeof(ref), "%s%s", strncmp(v, "event@", 6) == 0 ? "" : "event@", v);
    int rc = cdp_path_parse(ref, strlen(ref), out);
    if (!rc && ((*out)->source != CDP_PATH_EVENT || (*out)->nseg == 0)) {
        cdp_path_free(*out);
        *out = NULL;
        rc = CDP_E_INVALID;
    }
    return rc;
}

bool cdp_mapping_profile_root(const char *key)
{
    for (size_t i = 0; i < sizeof(profile_roots) / sizeof(profile_roots[0]); i++)
        if (strcmp(key, profile_roots[i]) == 0)
            return true;
    return false;
}

static int profile_path(const char *v, struct cdp_path **out)
{
    char ref[512];
    snprintf(ref, sizeof(ref), "%s%s", strncmp(v, "profile@", 8) == 0 ? "" : "profile@", v);
    int rc = cdp_path_parse(ref, strlen(ref), out);
    if (rc)
        return rc;
    if ((*out)->source == CDP_PATH_PROFILE && (*out)->nseg > 0 &&
        cdp_mapping_profile_root((*out)->seg[0]))
        return 0;
    cdp_path_free(*out);
    *out = NULL;
    return CDP_E_INVALID;
}

static int op_of(const cJSON *v)
{
    if (!v)
        return OP_SET;
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 3 &&
        v->valuedouble == (int)v->valuedouble)
        return (int)v->valuedouble;
    for (int i = 0; cJSON_IsString(v) && i < 4; i++)
        if (strcmp(v->valuestring, op_names[i]) == 0)
            return i;
    return -1;
}

/* The path text of {value, ref} or a plain string. */
static const char *path_text(const cJSON *v)
{
    return cJSON_IsString(v) ? v->valuestring : cdp_json_str(v, "value");
}

int cdp_mapping_normalize(cJSON *doc, char *err, size_t errlen)
{
    int rc = cdp_json_entity_head(doc, "a mapping", err, errlen);
    if (rc)
        return rc;
    if (!cdp_json_named(doc, "event_type")) {
        snprintf(err, errlen, "event_type: required ({\"id\", \"name\"} or an event type id)");
        return CDP_E_INVALID;
    }
    const char *cond = cdp_json_str(doc, "config.condition");
    if (cond && cond[strspn(cond, " \t\r\n")]) {
        struct cdp_tql *q;
        char why[200];
        if (cdp_tql_parse(cond, &q, why, sizeof(why))) {
            snprintf(err, errlen, "config.condition: %s", why);
            return CDP_E_INVALID;
        }
        cdp_tql_free(q);
    }
    cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "event_to_profile");
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0) {
        snprintf(err, errlen, "event_to_profile: a list of {event, op, profile} is required");
        return CDP_E_INVALID;
    }
    int i = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        const char *from = path_text(cJSON_GetObjectItemCaseSensitive(it, "event"));
        const char *to = path_text(cJSON_GetObjectItemCaseSensitive(it, "profile"));
        int op = op_of(cJSON_GetObjectItemCaseSensitive(it, "op"));
        struct cdp_path *p = NULL;
        if (!from || event_path(from, &p)) {
            snprintf(err, errlen,
                     "event_to_profile[%d].event: an event field such as "
                     "properties.email",
                     i);
            return CDP_E_INVALID;
        }
        cdp_path_free(p);
        if (!to || profile_path(to, &p)) {
            snprintf(err, errlen,
                     "event_to_profile[%d].profile: a profile field under data, "
                     "traits, ids, stats, segments, interests, consents, aux, misc or trash",
                     i);
            return CDP_E_INVALID;
        }
        cdp_path_free(p);
        if (op < 0) {
            snprintf(err, errlen,
                     "event_to_profile[%d].op: 0 set, 1 set_if_empty, 2 append or "
                     "3 increment",
                     i);
            return CDP_E_INVALID;
        }
        cdp_json_put_num(it, "op", op);
        i++;
    }
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

void cdp_mapping_free(struct cdp_mapping *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->npairs; i++) {
        cdp_path_free(m->pairs[i].from);
        cdp_path_free(m->pairs[i].to);
    }
    free(m->pairs);
    free(m->event_type);
    cdp_tql_free(m->cond);
    free(m);
}

int cdp_mapping_compile(const cJSON *doc, struct cdp_mapping **out, char *err, size_t errlen)
{
    *out = NULL;
    struct cdp_mapping *m = calloc(1, sizeof(*m));
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "event_to_profile");
    int n = cJSON_GetArraySize(list);
    if (!m || !(m->pairs = calloc((size_t)n + 1, sizeof(*m->pairs))) ||
        !(m->event_type = strdup(
              cdp_json_str(doc, "event_type.id") ? cdp_json_str(doc, "event_type.id") : ""))) {
        cdp_mapping_free(m);
        return CDP_E_NOMEM;
    }
    const char *cond = cdp_json_str(doc, "config.condition");
    int rc = 0;
    if (cond && cond[strspn(cond, " \t\r\n")])
        rc = cdp_tql_parse(cond, &m->cond, err, errlen);
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        if (rc)
            break;
        struct pair *p = &m->pairs[m->npairs];
        const char *from = path_text(cJSON_GetObjectItemCaseSensitive(it, "event"));
        const char *to = path_text(cJSON_GetObjectItemCaseSensitive(it, "profile"));
        int op = op_of(cJSON_GetObjectItemCaseSensitive(it, "op"));
        if (!from || !to || op < 0 || event_path(from, &p->from) || profile_path(to, &p->to)) {
            snprintf(err, errlen, "event_to_profile[%d]: not normalized", m->npairs);
            rc = CDP_E_INVALID;
            cdp_path_free(p->from);
            p->from = NULL;
            break;
        }
        p->op = (enum op)op;
        m->npairs++;
    }
    if (rc) {
        cdp_mapping_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

const char *cdp_mapping_event_type(const struct cdp_mapping *m)
{
    return m->event_type;
}

static bool empty(const cJSON *v)
{
    return !v || cJSON_IsNull(v) || (cJSON_IsString(v) && !*v->valuestring) ||
           ((cJSON_IsArray(v) || cJSON_IsObject(v)) && !v->child);
}

/* Appends a copy of v to list unless an equal value is there; whether it did. */
static bool add_new(cJSON *list, const cJSON *v)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, list)
    {
        if (cJSON_Compare(x, v, true))
            return false;
    }
    cJSON_AddItemToArray(list, cJSON_Duplicate(v, true));
    return true;
}

/* One operation; 1 when the profile changed. */
static int apply_pair(const struct pair *p, const cJSON *value, struct cdp_refs *refs)
{
    const cJSON *cur = cdp_path_resolve(refs, p->to);
    switch (p->op) {
    case OP_SET_IF_EMPTY:
        if (!empty(cur))
            return 0;
        __attribute__((fallthrough));
    case OP_SET:
        if (cur && cJSON_Compare(cur, value, true))
            return 0;
        return cdp_path_put(refs, p->to, cJSON_Duplicate(value, true)) ? 0 : 1;
    case OP_APPEND: {
        cJSON *list = cJSON_IsArray(cur) ? cJSON_Duplicate(cur, true) : cJSON_CreateArray();
        if (!list)
            return CDP_E_NOMEM;
        bool changed = false;
        if (cur && !cJSON_IsArray(cur) && !empty(cur)) { /* a single value becomes a list */
            cJSON_AddItemToArray(list, cJSON_Duplicate(cur, true));
            changed = true;
        }
        if (cJSON_IsArray(value)) {
            const cJSON *one;
            cJSON_ArrayForEach(one, value) changed |= add_new(list, one);
        } else {
            changed |= add_new(list, value);
        }
        if (!changed) {
            cJSON_Delete(list);
            return 0;
        }
        return cdp_path_put(refs, p->to, list) ? 0 : 1;
    }
    case OP_INCREMENT: {
        if (!cJSON_IsNumber(value) || (cur && !cJSON_IsNumber(cur)) || value->valuedouble == 0)
            return 0;
        double base = cur ? cur->valuedouble : 0;
        return cdp_path_put(refs, p->to, cJSON_CreateNumber(base + value->valuedouble)) ? 0 : 1;
    }
    }
    return 0;
}

int cdp_mapping_apply(const struct cdp_mapping *m, const cJSON *event, cJSON *profile,
                      const cJSON *session, int64_t now_us)
{
    struct cdp_refs refs = {.profile = profile,
                            .event = (cJSON *)(uintptr_t)event,
                            .session = (cJSON *)(uintptr_t)session};
    if (m->cond) {
        bool holds = false;
        char err[200];
        if (cdp_tql_eval(m->cond, &refs, now_us, &holds, err, sizeof(err)))
            return CDP_E_NOMEM;
        if (!holds)
            return 0;
    }
    int changed = 0;
    for (int i = 0; i < m->npairs; i++) {
        const cJSON *v = cdp_path_resolve(&refs, m->pairs[i].from);
        if (!v)
            continue;
        int rc = apply_pair(&m->pairs[i], v, &refs);
        if (rc < 0)
            return rc;
        changed |= rc;
    }
    return changed;
}
