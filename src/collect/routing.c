/* Which flows an event runs (tracardi-flows.md §2): the enabled rules for its (event type,
 * source), a rule without a source matching any source; and the compiled production plans of
 * their flows. Both are loaded from the store once and dropped whenever its entity version
 * moves, so saving a rule or deploying a flow through the management API takes effect on the
 * next batch without a compile per event. */
#include "collect/pipeline.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "flow/engine.h"
#include "flow/identification.h"
#include "flow/mapping.h"
#include "flow/reshape.h"
#include "flow/segment.h"
#include "model/consent.h"
#include "model/jsonschema.h"
#include "store/store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rule {
    char *id, *name, *event_type, *source, *flow_id; /* source "" = any */
    cJSON *consents; /* NULL, or ids the profile must have granted (properties.consents) */
};

struct validator {
    char *type, *name;
    struct cdp_jsonschema *schema;
};

struct plan_entry {
    char *flow_id;
    struct cdp_flow_plan *plan; /* NULL: not deployed or not valid (why says) */
    char *why;
};

struct cdp_routing {
    int64_t version;
    bool loaded, segments_loaded;
    struct cdp_segment **segments; /* enabled ones, compiled */
    int nsegments;
    cJSON *consent_types; /* NULL until loaded */
    struct validator *validators;
    int nvalidators;
    bool validators_loaded;
    struct cdp_mapping **mappings;
    int nmappings;
    bool mappings_loaded;
    struct cdp_reshape **reshapes; /* enabled, by name */
    int nreshapes;
    bool reshapes_loaded;
    struct cdp_identification **points; /* enabled, by name */
    int npoints;
    bool points_loaded;
    struct rule *rules;
    size_t nrules;
    struct plan_entry *plans;
    size_t nplans;
};

struct cdp_routing *cdp_routing_new(void)
{
    struct cdp_routing *rt = calloc(1, sizeof(*rt));
    if (rt)
        rt->version = -1;
    return rt;
}

static void clear(struct cdp_routing *rt)
{
    for (size_t i = 0; i < rt->nrules; i++) {
        free(rt->rules[i].id);
        free(rt->rules[i].name);
        free(rt->rules[i].event_type);
        free(rt->rules[i].source);
        free(rt->rules[i].flow_id);
        cJSON_Delete(rt->rules[i].consents);
    }
    for (size_t i = 0; i < rt->nplans; i++) {
        free(rt->plans[i].flow_id);
        free(rt->plans[i].why);
        cdp_flow_plan_unref(rt->plans[i].plan);
    }
    for (int i = 0; i < rt->nsegments; i++)
        cdp_segment_free(rt->segments[i]);
    free(rt->segments);
    rt->segments = NULL;
    rt->nsegments = 0;
    rt->segments_loaded = false;
    cJSON_Delete(rt->consent_types);
    rt->consent_types = NULL;
    for (int i = 0; i < rt->nvalidators; i++) {
        free(rt->validators[i].type);
        free(rt->validators[i].name);
        cdp_jsonschema_free(rt->validators[i].schema);
    }
    free(rt->validators);
    rt->validators = NULL;
    rt->nvalidators = 0;
    rt->validators_loaded = false;
    for (int i = 0; i < rt->nmappings; i++)
        cdp_mapping_free(rt->mappings[i]);
    free(rt->mappings);
    rt->mappings = NULL;
    rt->nmappings = 0;
    rt->mappings_loaded = false;
    for (int i = 0; i < rt->nreshapes; i++)
        cdp_reshape_free(rt->reshapes[i]);
    free(rt->reshapes);
    rt->reshapes = NULL;
    rt->nreshapes = 0;
    rt->reshapes_loaded = false;
    for (int i = 0; i < rt->npoints; i++)
        cdp_identification_free(rt->points[i]);
    free(rt->points);
    rt->points = NULL;
    rt->npoints = 0;
    rt->points_loaded = false;
    free(rt->rules);
    free(rt->plans);
    rt->rules = NULL;
    rt->plans = NULL;
    rt->nrules = rt->nplans = 0;
    rt->loaded = false;
}

void cdp_routing_free(struct cdp_routing *rt)
{
    if (!rt)
        return;
    clear(rt);
    free(rt);
}

void cdp_routing_sync(struct cdp_routing *rt, struct cdp_store *s)
{
    int64_t v;
    if (s->ops->entity_version(s, &v) == 0 && v != rt->version) {
        clear(rt);
        rt->version = v;
    }
}

/* The id of a {id, name} reference, or the string itself. */
static const char *ref_id(const cJSON *doc, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);
    if (cJSON_IsString(v))
        return v->valuestring;
    return cdp_json_str(v, "id");
}

/* Calls add for every entity of kind, a page at a time; stops at the first error. */
static int each_entity(struct cdp_routing *rt, struct cdp_store *s, const char *kind,
                       int (*add)(struct cdp_routing *rt, const cJSON *doc))
{
    for (int start = 0;; start += 500) {
        cJSON *list = NULL;
        long total = 0;
        int rc = s->ops->entity_list(s, kind, NULL, start, 500, &list, &total);
        if (rc)
            return rc;
        const cJSON *d;
        cJSON_ArrayForEach(d, list)
        {
            if ((rc = add(rt, d))) {
                cJSON_Delete(list);
                return rc;
            }
        }
        int n = cJSON_GetArraySize(list);
        cJSON_Delete(list);
        if (n < 500 || start + n >= total)
            return 0;
    }
}

/* The consent ids a rule requires (Tracardi's properties.consents: [{id, name}] or ids). */
static int consents_of(const cJSON *rule, cJSON **out)
{
    *out = NULL;
    const cJSON *c, *list = cdp_json_get(rule, "properties.consents");
    if (!cJSON_IsArray(list))
        return 0;
    cJSON_ArrayForEach(c, list)
    {
        const char *id = cJSON_IsString(c) ? c->valuestring : cdp_json_str(c, "id");
        if (!id || !*id)
            continue;
        if ((!*out && !(*out = cJSON_CreateArray())) ||
            !cJSON_AddItemToArray(*out, cJSON_CreateString(id)))
            return CDP_E_NOMEM;
    }
    return 0;
}

/* Whether profile holds every consent in ids, unexpired at now_us. Unlike Tracardi, a profile
 * without any consents does not pass a rule that requires some. */
static bool consents_granted(const cJSON *ids, const cJSON *profile, int64_t now_us)
{
    const cJSON *have = cJSON_GetObjectItemCaseSensitive(profile, "consents"), *id;
    cJSON_ArrayForEach(id, ids)
    {
        if (cdp_consent_held(have, id->valuestring, now_us) != 1)
            return false;
    }
    return true;
}

static int rule_cmp(const void *a, const void *b)
{
    const struct rule *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->id, y->id);
}

static int add_rule(struct cdp_routing *rt, const cJSON *r)
{
    const char *type = ref_id(r, "event_type"), *flow = ref_id(r, "flow");
    const char *src = ref_id(r, "source");
    if (!cdp_json_flag(r, "enabled", true) || !type || !flow)
        return 0;
    struct rule *more = realloc(rt->rules, (rt->nrules + 1) * sizeof(*more));
    if (!more)
        return CDP_E_NOMEM;
    rt->rules = more;
    const char *name = cdp_json_str(r, "name"), *id = cdp_json_str(r, "id");
    struct rule *nr = &rt->rules[rt->nrules++];
    *nr = (struct rule){
        .id = strdup(id ? id : ""),
        .name = strdup(name ? name
                       : id ? id
                            : ""),
        .event_type = strdup(type),
        .source = strdup(src ? src : ""),
        .flow_id = strdup(flow),
    };
    if (!nr->id || !nr->name || !nr->event_type || !nr->source || !nr->flow_id ||
        consents_of(r, &nr->consents))
        return CDP_E_NOMEM;
    return 0;
}

static int load(struct cdp_routing *rt, struct cdp_store *s)
{
    int rc = each_entity(rt, s, "rule", add_rule);
    if (rc)
        return rc;
    /* Flows run in the order of their rules' names (then ids): predictable, and in the
     * user's hands ("10 enrich", "20 score"). */
    if (rt->nrules > 1)
        qsort(rt->rules, rt->nrules, sizeof(*rt->rules), rule_cmp);
    rt->loaded = true;
    return 0;
}

static struct plan_entry *plan_for(struct cdp_routing *rt, struct cdp_store *s, const char *id)
{
    for (size_t i = 0; i < rt->nplans; i++)
        if (strcmp(rt->plans[i].flow_id, id) == 0)
            return &rt->plans[i];
    struct plan_entry *more = realloc(rt->plans, (rt->nplans + 1) * sizeof(*more));
    if (!more)
        return NULL;
    rt->plans = more;
    struct plan_entry *e = &rt->plans[rt->nplans];
    *e = (struct plan_entry){.flow_id = strdup(id)};
    if (!e->flow_id)
        return NULL;
    rt->nplans++;
    cJSON *doc = NULL;
    char err[600];
    int rc = s->ops->entity_get(s, "flow-production", id, &doc);
    if (rc == CDP_E_NOT_FOUND) {
        snprintf(err, sizeof(err), "flow `%s` is not deployed", id);
    } else if (rc) {
        snprintf(err, sizeof(err), "flow `%s` cannot be loaded: %s", id, cdp_err_str(rc));
    } else if (cdp_flow_compile(doc, &e->plan, err, sizeof(err))) {
        /* Saved flows were valid; one that is not any more (a plugin gone) is reported. */
        cdp_warn("flow %s: %s", id, err);
    }
    cJSON_Delete(doc);
    if (!e->plan)
        e->why = strdup(err);
    return e;
}

int cdp_routing_match(struct cdp_routing *rt, struct cdp_store *s, const char *type,
                      const char *source, const cJSON *profile, int64_t now_us,
                      struct cdp_route_hit *hits, int max, cJSON *warnings)
{
    if (!rt->loaded) {
        int rc = load(rt, s);
        if (rc) {
            clear(rt);
            return rc;
        }
    }
    int n = 0;
    for (size_t i = 0; i < rt->nrules && n < max; i++) {
        const struct rule *r = &rt->rules[i];
        if (strcmp(r->event_type, type) != 0 || (*r->source && strcmp(r->source, source) != 0))
            continue;
        if (r->consents && !consents_granted(r->consents, profile, now_us))
            continue;
        struct plan_entry *e = plan_for(rt, s, r->flow_id);
        if (!e)
            return CDP_E_NOMEM;
        if (!e->plan) {
            if (warnings)
                cJSON_AddItemToArray(warnings,
                                     cJSON_CreateString(e->why ? e->why : "flow unavailable"));
            continue;
        }
        hits[n].plan = e->plan;
        hits[n].rule = r->name;
        n++;
    }
    return n;
}

/* --- segments --- */

static int add_segment(struct cdp_routing *rt, const cJSON *d)
{
    if (!cdp_json_flag(d, "enabled", true))
        return 0;
    struct cdp_segment *seg;
    char err[300];
    int rc = cdp_segment_compile(d, &seg, err, sizeof(err));
    if (rc) {
        if (rc != CDP_E_NOMEM)
            cdp_warn("segment %s: %s", cdp_json_str(d, "id"), err);
        return rc == CDP_E_NOMEM ? rc : 0;
    }
    struct cdp_segment **more = realloc(rt->segments, (size_t)(rt->nsegments + 1) * sizeof(*more));
    if (!more) {
        cdp_segment_free(seg);
        return CDP_E_NOMEM;
    }
    rt->segments = more;
    rt->segments[rt->nsegments++] = seg;
    return 0;
}

int cdp_routing_segments(struct cdp_routing *rt, struct cdp_store *s,
                         struct cdp_segment *const **out)
{
    if (!rt->segments_loaded) {
        int rc = each_entity(rt, s, "segment", add_segment);
        if (rc) {
            clear(rt); /* a partial load is not kept */
            return rc;
        }
        rt->segments_loaded = true;
    }
    *out = rt->segments;
    return rt->nsegments;
}

/* --- consent types --- */

static int add_consent_type(struct cdp_routing *rt, const cJSON *d)
{
    cJSON *copy = cJSON_Duplicate(d, true);
    return copy && cJSON_AddItemToArray(rt->consent_types, copy) ? 0 : CDP_E_NOMEM;
}

int cdp_routing_consent_types(struct cdp_routing *rt, struct cdp_store *s, const cJSON **out)
{
    if (!rt->consent_types) {
        if (!(rt->consent_types = cJSON_CreateArray()))
            return CDP_E_NOMEM;
        int rc = each_entity(rt, s, "consent-type", add_consent_type);
        if (rc) {
            cJSON_Delete(rt->consent_types);
            rt->consent_types = NULL;
            return rc;
        }
    }
    *out = rt->consent_types;
    return 0;
}

/* --- event validators --- */

static int add_validator(struct cdp_routing *rt, const cJSON *d)
{
    const char *type = cdp_json_str(d, "event_type.id"), *name = cdp_json_str(d, "name");
    if (!cdp_json_flag(d, "enabled", true) || !type)
        return 0;
    struct cdp_jsonschema *js;
    char err[300];
    int rc =
        cdp_jsonschema_compile(cdp_json_get(d, "validation.json_schema"), &js, err, sizeof(err));
    if (rc) {
        if (rc != CDP_E_NOMEM)
            cdp_warn("event validator %s: %s", cdp_json_str(d, "id"), err);
        return rc == CDP_E_NOMEM ? rc : 0;
    }
    struct validator *more = realloc(rt->validators, (size_t)(rt->nvalidators + 1) * sizeof(*more));
    if (more)
        rt->validators = more;
    char *t = strdup(type), *n = strdup(name ? name : type);
    if (!more || !t || !n) {
        free(t);
        free(n);
        cdp_jsonschema_free(js);
        return CDP_E_NOMEM;
    }
    rt->validators[rt->nvalidators++] = (struct validator){t, n, js};
    return 0;
}

int cdp_routing_validate(struct cdp_routing *rt, struct cdp_store *s, const cJSON *event, char *err,
                         size_t errlen)
{
    if (!rt->validators_loaded) {
        int rc = each_entity(rt, s, "event-validator", add_validator);
        if (rc) {
            clear(rt);
            return rc;
        }
        rt->validators_loaded = true;
    }
    const char *type = cdp_json_str(event, "type");
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(event, "properties");
    for (int i = 0; type && i < rt->nvalidators; i++) {
        const struct validator *v = &rt->validators[i];
        char why[400];
        if (strcmp(v->type, type) == 0 &&
            !cdp_jsonschema_validate(v->schema, props, why, sizeof(why))) {
            snprintf(err, errlen, "event `%s` is invalid (validator `%s`): properties%s", type,
                     v->name, why);
            return 1;
        }
    }
    return 0;
}

/* --- event-to-profile mappings --- */

static int add_mapping(struct cdp_routing *rt, const cJSON *d)
{
    if (!cdp_json_flag(d, "enabled", true))
        return 0;
    struct cdp_mapping *m;
    char err[300];
    int rc = cdp_mapping_compile(d, &m, err, sizeof(err));
    if (rc) {
        if (rc != CDP_E_NOMEM)
            cdp_warn("event-to-profile mapping %s: %s", cdp_json_str(d, "id"), err);
        return rc == CDP_E_NOMEM ? rc : 0;
    }
    struct cdp_mapping **more = realloc(rt->mappings, (size_t)(rt->nmappings + 1) * sizeof(*more));
    if (!more) {
        cdp_mapping_free(m);
        return CDP_E_NOMEM;
    }
    rt->mappings = more;
    rt->mappings[rt->nmappings++] = m;
    return 0;
}

int cdp_routing_map(struct cdp_routing *rt, struct cdp_store *s, const cJSON *event, cJSON *profile,
                    const cJSON *session, int64_t now_us)
{
    if (!rt->mappings_loaded) {
        int rc = each_entity(rt, s, "event-to-profile", add_mapping);
        if (rc) {
            clear(rt);
            return rc;
        }
        rt->mappings_loaded = true;
    }
    const char *type = cdp_json_str(event, "type");
    int changed = 0;
    for (int i = 0; type && i < rt->nmappings; i++) {
        if (strcmp(cdp_mapping_event_type(rt->mappings[i]), type) != 0)
            continue;
        int rc = cdp_mapping_apply(rt->mappings[i], event, profile, session, now_us);
        if (rc < 0)
            return rc;
        changed |= rc;
    }
    return changed;
}

/* --- event reshaping schemas --- */

static int add_reshape(struct cdp_routing *rt, const cJSON *d)
{
    if (!cdp_json_flag(d, "enabled", true))
        return 0;
    struct cdp_reshape *r;
    char err[300];
    int rc = cdp_reshape_compile(d, &r, err, sizeof(err));
    if (rc) {
        if (rc != CDP_E_NOMEM)
            cdp_warn("event reshaping schema %s: %s", cdp_json_str(d, "id"), err);
        return rc == CDP_E_NOMEM ? rc : 0;
    }
    struct cdp_reshape **more = realloc(rt->reshapes, (size_t)(rt->nreshapes + 1) * sizeof(*more));
    if (!more) {
        cdp_reshape_free(r);
        return CDP_E_NOMEM;
    }
    rt->reshapes = more;
    rt->reshapes[rt->nreshapes++] = r;
    return 0;
}

int cdp_routing_reshape(struct cdp_routing *rt, struct cdp_store *s, cJSON *event, cJSON *session,
                        bool *session_changed)
{
    *session_changed = false;
    if (!rt->reshapes_loaded) {
        int rc = each_entity(rt, s, "event-reshaping", add_reshape);
        if (rc) {
            clear(rt);
            return rc;
        }
        /* The first schema by name applies, as Tracardi applies one per event. */
        if (rt->nreshapes > 1)
            qsort(rt->reshapes, (size_t)rt->nreshapes, sizeof(*rt->reshapes), cdp_reshape_cmp);
        rt->reshapes_loaded = true;
    }
    const char *type = cdp_json_str(event, "type"), *src = cdp_json_str(event, "source.id");
    for (int i = 0; type && i < rt->nreshapes; i++)
        if (cdp_reshape_matches(rt->reshapes[i], type, src))
            return cdp_reshape_apply(rt->reshapes[i], event, session, session_changed);
    return 0;
}

/* --- identification points --- */

static int add_point(struct cdp_routing *rt, const cJSON *d)
{
    if (!cdp_json_flag(d, "enabled", true))
        return 0;
    struct cdp_identification *p;
    char err[300];
    int rc = cdp_identification_compile(d, &p, err, sizeof(err));
    if (rc) {
        if (rc != CDP_E_NOMEM)
            cdp_warn("identification point %s: %s", cdp_json_str(d, "id"), err);
        return rc == CDP_E_NOMEM ? rc : 0;
    }
    struct cdp_identification **more =
        realloc(rt->points, (size_t)(rt->npoints + 1) * sizeof(*more));
    if (!more) {
        cdp_identification_free(p);
        return CDP_E_NOMEM;
    }
    rt->points = more;
    rt->points[rt->npoints++] = p;
    return 0;
}

int cdp_routing_identify(struct cdp_routing *rt, struct cdp_store *s, const cJSON *event,
                         const char *source_id, cJSON **keys)
{
    *keys = NULL;
    if (!rt->points_loaded) {
        int rc = each_entity(rt, s, "identification-point", add_point);
        if (rc) {
            clear(rt);
            return rc;
        }
        if (rt->npoints > 1)
            qsort(rt->points, (size_t)rt->npoints, sizeof(*rt->points), cdp_identification_cmp);
        rt->points_loaded = true;
    }
    const char *type = cdp_json_str(event, "type");
    for (int i = 0; type && i < rt->npoints; i++) {
        if (!cdp_identification_matches(rt->points[i], type, source_id))
            continue;
        int rc = cdp_identification_keys(rt->points[i], event, keys);
        if (rc) /* 1 found, or an error */
            return rc;
    }
    return 0;
}

/* --- ids held by waiting jobs --- */

#define BUSY_BUCKETS 4096

struct busy_entry {
    struct busy_entry *next;
    unsigned count;
    char id[];
};

struct cdp_busy {
    struct busy_entry *bucket[BUSY_BUCKETS];
};

static unsigned busy_hash(const char *s)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % BUSY_BUCKETS;
}

struct cdp_busy *cdp_busy_new(void)
{
    return calloc(1, sizeof(struct cdp_busy));
}

void cdp_busy_free(struct cdp_busy *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < BUSY_BUCKETS; i++)
        for (struct busy_entry *e = b->bucket[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    free(b);
}

static struct busy_entry **busy_slot(const struct cdp_busy *b, const char *id)
{
    struct busy_entry **p = (struct busy_entry **)(uintptr_t)&b->bucket[busy_hash(id)];
    while (*p && strcmp((*p)->id, id) != 0)
        p = &(*p)->next;
    return p;
}

int cdp_busy_add(struct cdp_busy *b, const char *id)
{
    struct busy_entry **p = busy_slot(b, id);
    if (*p) {
        (*p)->count++;
        return 0;
    }
    size_t n = strlen(id) + 1;
    struct busy_entry *e = malloc(sizeof(*e) + n);
    if (!e)
        return CDP_E_NOMEM;
    e->next = NULL;
    e->count = 1;
    memcpy(e->id, id, n);
    *p = e;
    return 0;
}

void cdp_busy_del(struct cdp_busy *b, const char *id)
{
    struct busy_entry **p = busy_slot(b, id);
    if (*p && --(*p)->count == 0) {
        struct busy_entry *e = *p;
        *p = e->next;
        free(e);
    }
}

bool cdp_busy_has(const struct cdp_busy *b, const char *id)
{
    return id && *id && *busy_slot(b, id) != NULL;
}
