/* Profile plugins: segments (Add, Delete, Move, Has, Conditional segmentation), consents (Add
 * consent, Has consents), Merge profiles, interests (Increase, Decrease) and the UX widgets that
 * fill ctx->ux (Show snack bar and cdpd's generic UX tag) (tracardi-flows.md §7 "Segmentation
 * and interests", "Consents", "Operations", "UIX widgets"; §8.1). Each is one descriptor with
 * Tracardi's module, class, ports and config field names; setup validates the config once and
 * compiles it into a small state that run reads.
 *
 * The profile is changed in place (ctx->profile) and marked with cdp_flow_touch, or written with
 * cdp_flow_set. A profile-less request cannot be segmented: plugins with an `error` port answer
 * there, the condition-like ones (Has segment, Has consents, Conditional segmentation) take their
 * negative port with a warning as Tracardi does, and the others fail the node. */
#include "flow/flow.h"
#include "flow/plugins/util.h"
#include "model/consent.h"

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "flow/template.h"
#include "flow/tql.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- config helpers --- */

static bool is_blank(const char *s)
{
    return s[strspn(s, " \t\r\n")] == '\0';
}

/* An optional string field: absent or null means def. */
static int get_opt_text(const cJSON *init, const char *key, const char *def, const char **out,
                        char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(init, key);
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return 0;
    }
    if (!cJSON_IsString(v)) {
        snprintf(err, errlen, "%s: must be a string", key);
        return CDP_E_INVALID;
    }
    *out = v->valuestring;
    return 0;
}

/* One of the choices (compared case-insensitively, as Tracardi lowercases actions); its index. */
static int get_enum(const cJSON *init, const char *key, const char *const *choices, int def,
                    int *out, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(init, key);
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return 0;
    }
    if (cJSON_IsString(v))
        for (int i = 0; choices[i]; i++)
            if (strcasecmp(v->valuestring, choices[i]) == 0) {
                *out = i;
                return 0;
            }
    size_t n = (size_t)snprintf(err, errlen, "%s: must be one of", key);
    for (int i = 0; choices[i] && n < errlen; i++)
        n += (size_t)snprintf(err + n, errlen - n, "%s %s", i ? "," : "", choices[i]);
    return CDP_E_INVALID;
}

static void *alloc_state(size_t n)
{
    return calloc(1, n);
}

/* --- run helpers --- */

static const char no_profile[] = "the request has no profile (profile-less event)";

/* profile.segments, created when missing; NULL when it holds something else than an array. */
static cJSON *segments_of(cJSON *profile)
{
    cJSON *s = cJSON_GetObjectItemCaseSensitive(profile, "segments");
    if (!s) {
        s = cJSON_CreateArray();
        if (!s)
            return NULL;
        cJSON_AddItemToObject(profile, "segments", s);
    }
    return cJSON_IsArray(s) ? s : NULL;
}

static int segment_index(const cJSON *segs, const char *name)
{
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, segs)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, name) == 0)
            return i;
        i++;
    }
    return -1;
}

/* Adds name unless present; true when the list changed. */
static bool segment_add(cJSON *segs, const char *name)
{
    if (segment_index(segs, name) >= 0)
        return false;
    cJSON_AddItemToArray(segs, cJSON_CreateString(name));
    return true;
}

/* Removes every copy of name (Tracardi de-duplicates before removing); true when it changed. */
static bool segment_remove(cJSON *segs, const char *name)
{
    bool changed = false;
    int i;
    while ((i = segment_index(segs, name)) >= 0) {
        cJSON_DeleteItemFromArray(segs, i);
        changed = true;
    }
    return changed;
}

/* Marks a segmentation change: profile.metadata.time.segmentation = now, profile touched. */
static void segmented(struct cdp_flow_call *c)
{
    char iso[CDP_ISO_LEN];
    cdp_clock_iso(c->ctx->now_us, iso);
    cJSON *time = cdp_json_obj(cdp_json_obj(c->ctx->profile, "metadata"), "time");
    if (time)
        cdp_json_put_str(time, "segmentation", iso);
    cdp_flow_touch(c, CDP_PATH_PROFILE);
}

/* --- Add segment --- */

struct add_segment_state {
    const cJSON *segment; /* string or array of strings, borrowed from init */
};

static int add_segment_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(init, "segment");
    if (cJSON_IsString(v) && !is_blank(v->valuestring)) {
        /* a name or a reference */
    } else if (cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0) {
        int i = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, v)
        {
            if (!cJSON_IsString(it) || is_blank(it->valuestring)) {
                snprintf(err, errlen, "segment: item %d must be a segment name or a reference", i);
                return CDP_E_INVALID;
            }
            i++;
        }
    } else if (!v || cJSON_IsNull(v) || cJSON_IsString(v) || cJSON_IsArray(v)) {
        snprintf(err, errlen, "segment: cannot be empty");
        return CDP_E_INVALID;
    } else {
        snprintf(err, errlen, "segment: must be a segment name, a reference or a list of them");
        return CDP_E_INVALID;
    }
    struct add_segment_state *s = alloc_state(sizeof(*s));
    if (!s)
        return CDP_E_NOMEM;
    s->segment = v;
    *state = s;
    return 0;
}

/* Appends the segment names spec stands for to names: a literal, or a reference to a string or
 * a list of strings. 0, or a message in msg. */
static int collect_segments(struct cdp_flow_call *c, const char *spec, cJSON *names, char *msg,
                            size_t msglen)
{
    if (!cdp_path_is_ref(spec)) {
        cJSON_AddItemToArray(names, cJSON_CreateString(spec));
        return 0;
    }
    const cJSON *v = cdp_flow_get(c, spec);
    if (!v) {
        snprintf(msg, msglen, "segment: %s is missing", spec);
        return CDP_E_INVALID;
    }
    if (cJSON_IsString(v) && v->valuestring[0]) {
        cJSON_AddItemToArray(names, cJSON_CreateString(v->valuestring));
        return 0;
    }
    if (cJSON_IsArray(v)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, v)
        {
            if (!cJSON_IsString(it) || !it->valuestring[0]) {
                snprintf(msg, msglen,
                         "segment: %s must hold a segment name or a list of segment names", spec);
                return CDP_E_INVALID;
            }
            cJSON_AddItemToArray(names, cJSON_CreateString(it->valuestring));
        }
        return 0;
    }
    snprintf(msg, msglen, "segment: %s must hold a segment name or a list of segment names", spec);
    return CDP_E_INVALID;
}

static int add_segment_run(struct cdp_flow_call *c)
{
    const struct add_segment_state *s = c->state;
    if (!c->ctx->profile)
        return cdp_emit_error(c, "cannot add a segment: %s", no_profile);
    cJSON *names = cJSON_CreateArray();
    if (!names)
        return CDP_E_NOMEM;
    char msg[256];
    int rc = 0;
    if (cJSON_IsString(s->segment)) {
        rc = collect_segments(c, s->segment->valuestring, names, msg, sizeof(msg));
    } else {
        const cJSON *it;
        cJSON_ArrayForEach(it, s->segment)
        {
            if (!rc)
                rc = collect_segments(c, it->valuestring, names, msg, sizeof(msg));
        }
    }
    if (rc) {
        cJSON_Delete(names);
        return cdp_emit_error(c, "%s", msg);
    }
    cJSON *segs = segments_of(c->ctx->profile);
    if (!segs) {
        cJSON_Delete(names);
        return cdp_emit_error(c, "profile@segments is not a list");
    }
    bool changed = false;
    const cJSON *n;
    cJSON_ArrayForEach(n, names)
    {
        changed |= segment_add(segs, n->valuestring);
    }
    cJSON_Delete(names);
    if (changed)
        segmented(c);
    return cdp_emit_payload(c, "payload");
}

/* --- Delete segment / Has segment (one static name) --- */

struct segment_state {
    const char *segment; /* borrowed from init */
};

static int segment_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const char *name;
    int rc = cdp_cfg_text(init, "segment", false, &name, err, errlen);
    if (rc)
        return rc;
    struct segment_state *s = alloc_state(sizeof(*s));
    if (!s)
        return CDP_E_NOMEM;
    s->segment = name;
    *state = s;
    return 0;
}

static int delete_segment_run(struct cdp_flow_call *c)
{
    const struct segment_state *s = c->state;
    if (!c->ctx->profile)
        return cdp_flow_fail(c, "cannot delete a segment: %s", no_profile);
    cJSON *segs = segments_of(c->ctx->profile);
    if (!segs)
        return cdp_flow_fail(c, "profile@segments is not a list");
    if (segment_remove(segs, s->segment))
        segmented(c);
    return cdp_emit_payload(c, "payload");
}

static int has_segment_run(struct cdp_flow_call *c)
{
    const struct segment_state *s = c->state;
    if (!c->ctx->profile) {
        cdp_flow_log(c, "warning", "cannot check the segment: %s", no_profile);
        return cdp_emit_payload(c, "False");
    }
    const cJSON *segs = cJSON_GetObjectItemCaseSensitive(c->ctx->profile, "segments");
    return cdp_emit_payload(c, segment_index(segs, s->segment) >= 0 ? "True" : "False");
}

/* --- Move segment --- */

struct move_state {
    const char *from, *to;
};

static int move_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const char *from, *to;
    int rc;
    if ((rc = cdp_cfg_text(init, "from_segment", false, &from, err, errlen)) ||
        (rc = cdp_cfg_text(init, "to_segment", false, &to, err, errlen)))
        return rc;
    struct move_state *s = alloc_state(sizeof(*s));
    if (!s)
        return CDP_E_NOMEM;
    s->from = from;
    s->to = to;
    *state = s;
    return 0;
}

static int move_run(struct cdp_flow_call *c)
{
    const struct move_state *s = c->state;
    if (!c->ctx->profile)
        return cdp_flow_fail(c, "cannot move a segment: %s", no_profile);
    cJSON *segs = segments_of(c->ctx->profile);
    if (!segs)
        return cdp_flow_fail(c, "profile@segments is not a list");
    bool changed = segment_remove(segs, s->from);
    changed |= segment_add(segs, s->to);
    if (changed)
        segmented(c);
    return cdp_emit_payload(c, "payload");
}

/* --- Conditional segmentation --- */

enum seg_action { SEG_ADD, SEG_REMOVE, SEG_NONE };
static const char *const seg_actions[] = {"add", "remove", "none", NULL};

struct cond_state {
    struct cdp_tql *q;
    int true_action, false_action;
    const char *true_segment, *false_segment;
};

static void cond_free(void *state)
{
    struct cond_state *s = state;
    if (s)
        cdp_tql_free(s->q);
    free(s);
}

static int cond_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const char *cond;
    int ta, fa, rc;
    const char *tseg = "", *fseg = "";
    if ((rc = cdp_cfg_text(init, "condition", false, &cond, err, errlen)) ||
        (rc = get_enum(init, "true_action", seg_actions, SEG_ADD, &ta, err, errlen)) ||
        (rc = get_enum(init, "false_action", seg_actions, SEG_REMOVE, &fa, err, errlen)) ||
        (rc = get_opt_text(init, "true_segment", "", &tseg, err, errlen)) ||
        (rc = get_opt_text(init, "false_segment", "", &fseg, err, errlen)))
        return rc;
    if (ta != SEG_NONE && is_blank(tseg)) {
        snprintf(err, errlen, "true_segment: is required when true_action is %s", seg_actions[ta]);
        return CDP_E_INVALID;
    }
    if (fa != SEG_NONE && is_blank(fseg)) {
        snprintf(err, errlen, "false_segment: is required when false_action is %s",
                 seg_actions[fa]);
        return CDP_E_INVALID;
    }
    struct cond_state *s = alloc_state(sizeof(*s));
    if (!s)
        return CDP_E_NOMEM;
    char msg[256];
    if ((rc = cdp_tql_parse(cond, &s->q, msg, sizeof(msg)))) {
        snprintf(err, errlen, "condition: %s", msg);
        free(s);
        return rc;
    }
    s->true_action = ta;
    s->false_action = fa;
    s->true_segment = tseg;
    s->false_segment = fseg;
    *state = s;
    return 0;
}

static int cond_run(struct cdp_flow_call *c)
{
    const struct cond_state *s = c->state;
    if (!c->ctx->profile) {
        cdp_flow_log(c, "warning", "cannot segment: %s", no_profile);
        return cdp_emit_payload(c, "false");
    }
    bool result;
    char msg[256];
    int rc = cdp_tql_eval(s->q, &c->refs, c->ctx->now_us, &result, msg, sizeof(msg));
    if (rc == CDP_E_NOMEM)
        return rc;
    if (rc) {
        cdp_flow_log(c, "error", "condition: %s", msg);
        return cdp_emit_payload(c, "error");
    }
    int action = result ? s->true_action : s->false_action;
    const char *segment = result ? s->true_segment : s->false_segment;
    if (action != SEG_NONE) {
        cJSON *segs = segments_of(c->ctx->profile);
        if (!segs) {
            cdp_flow_log(c, "error", "profile@segments is not a list");
            return cdp_emit_payload(c, "error");
        }
        bool changed =
            action == SEG_ADD ? segment_add(segs, segment) : segment_remove(segs, segment);
        if (changed)
            segmented(c);
    }
    return cdp_emit_payload(c, result ? "true" : "false");
}

/* --- Add consent --- */

struct consent_add_state {
    const char *consents;   /* reference to {consent-id: true | {revoke}} */
    int64_t auto_revoke_us; /* 0: grants never expire */
};

static int consent_add_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const char *ref, *revoke;
    int rc;
    if ((rc = cdp_cfg_text(init, "consents", false, &ref, err, errlen)) ||
        (rc = get_opt_text(init, "auto_revoke", "", &revoke, err, errlen)))
        return rc;
    if (!cdp_path_is_ref(ref)) {
        snprintf(err, errlen,
                 "consents: '%s' is not a reference (such as event@properties.consents)", ref);
        return CDP_E_INVALID;
    }
    int64_t off = 0;
    if (!is_blank(revoke) && (cdp_tql_parse_offset(revoke, &off) || off <= 0)) {
        snprintf(err, errlen, "auto_revoke: '%s' is not a positive duration such as 30d or 12h",
                 revoke);
        return CDP_E_INVALID;
    }
    struct consent_add_state *s = alloc_state(sizeof(*s));
    if (!s)
        return CDP_E_NOMEM;
    s->consents = ref;
    s->auto_revoke_us = off;
    *state = s;
    return 0;
}

/* Tracardi 0.6.3+ reads {id: true|false} (false is ignored); 0.6.0 read {id: {revoke}}; both are
 * accepted. The consent type store is not consulted, so every id is granted; auto_revoke (a
 * cdpd field) stands in for the consent type's auto-revoke period. */
static int consent_add_run(struct cdp_flow_call *c)
{
    const struct consent_add_state *s = c->state;
    if (!c->ctx->profile)
        return cdp_flow_fail(c, "cannot add consents: %s", no_profile);
    const cJSON *data = cdp_flow_get(c, s->consents);
    if (!data)
        return cdp_flow_fail(c, "consents: %s is missing", s->consents);
    if (!cJSON_IsObject(data))
        return cdp_flow_fail(c, "consents: %s must be an object of consent id -> true/false",
                             s->consents);
    const cJSON *it;
    cJSON_ArrayForEach(it, data)
    {
        const cJSON *revoke = NULL;
        if (cJSON_IsObject(it)) {
            revoke = cJSON_GetObjectItemCaseSensitive(it, "revoke");
            int64_t t;
            if (revoke && !cJSON_IsNull(revoke) &&
                (!cJSON_IsString(revoke) || cdp_clock_parse_iso(revoke->valuestring, &t)))
                return cdp_flow_fail(c, "consents: %s.revoke must be an ISO date-time or null",
                                     it->string);
        } else if (!cJSON_IsBool(it)) {
            return cdp_flow_fail(c, "consents: %s must be true, false or {revoke}", it->string);
        } else if (cJSON_IsFalse(it)) {
            continue;
        }
        if (!it->string[0])
            return cdp_flow_fail(c, "consents: a consent id cannot be empty");
        cJSON *consents = cdp_json_obj(c->ctx->profile, "consents");
        cJSON *grant = cJSON_CreateObject();
        if (!consents || !grant) {
            cJSON_Delete(grant);
            return CDP_E_NOMEM;
        }
        if (revoke && cJSON_IsString(revoke)) {
            cdp_json_put_str(grant, "revoke", revoke->valuestring);
        } else if (!revoke && s->auto_revoke_us > 0) {
            char iso[CDP_ISO_LEN];
            cdp_clock_iso(c->ctx->now_us + s->auto_revoke_us, iso);
            cdp_json_put_str(grant, "revoke", iso);
        } else {
            cdp_json_put_str(grant, "revoke", NULL);
        }
        cdp_json_put(consents, it->string, grant);
        cdp_flow_touch(c, CDP_PATH_PROFILE);
    }
    return cdp_emit_payload(c, "payload");
}

/* --- Has consents --- */

struct consent_req_state {
    cJSON *ids; /* array of consent id strings */
    bool require_all;
};

static void consent_req_free(void *state)
{
    struct consent_req_state *s = state;
    if (s)
        cJSON_Delete(s->ids);
    free(s);
}

static int consent_req_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    bool all;
    int rc = cdp_cfg_bool(init, "require_all", false, &all, err, errlen);
    if (rc)
        return rc;
    struct consent_req_state *s = alloc_state(sizeof(*s));
    if (!s)
        return CDP_E_NOMEM;
    /* The GUI's consent type picker stores {id, name}; hand-written flows use strings. */
    if ((rc = cdp_cfg_id_list(init, "consent_ids", "consent types", "a consent type id", &s->ids,
                              err, errlen))) {
        free(s);
        return rc;
    }
    s->require_all = all;
    *state = s;
    return 0;
}

static int consent_req_run(struct cdp_flow_call *c)
{
    const struct consent_req_state *s = c->state;
    if (!c->ctx->profile) {
        cdp_flow_log(c, "warning", "cannot check consents: %s", no_profile);
        return cdp_emit_payload(c, "false");
    }
    const cJSON *consents = cJSON_GetObjectItemCaseSensitive(c->ctx->profile, "consents");
    const cJSON *it;
    cJSON_ArrayForEach(it, s->ids)
    {
        int ok = cdp_consent_held(consents, it->valuestring, c->ctx->now_us);
        if (ok < 0)
            return cdp_flow_fail(c, "corrupted data: profile@consents.%s.revoke is not a date",
                                 it->valuestring);
        if (s->require_all && !ok)
            return cdp_emit_payload(c, "false");
        if (!s->require_all && ok)
            return cdp_emit_payload(c, "true");
    }
    return cdp_emit_payload(c, s->require_all ? "true" : "false");
}

/* --- Merge profiles --- */

struct merge_state {
    const cJSON *keys; /* array of profile@ references, borrowed from init */
};

static int merge_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(init, "mergeBy");
    if (keys && !cJSON_IsNull(keys) && !cJSON_IsArray(keys)) {
        snprintf(err, errlen, "mergeBy: must be a list of profile@ references");
        return CDP_E_INVALID;
    }
    if (cJSON_GetArraySize(keys) == 0) {
        snprintf(err, errlen,
                 "mergeBy: is empty and has no effect on merging; add a merge key such as "
                 "profile@data.contact.email.main or remove this node");
        return CDP_E_INVALID;
    }
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, keys)
    {
        if (!cJSON_IsString(it)) {
            snprintf(err, errlen, "mergeBy: item %d must be a profile@ reference", i);
            return CDP_E_INVALID;
        }
        if (strncmp(it->valuestring, "profile@", 8) != 0 || !it->valuestring[8] ||
            !cdp_path_is_ref(it->valuestring)) {
            snprintf(err, errlen,
                     "mergeBy: '%s' is not a profile@ reference; only profile fields are used "
                     "for merging",
                     it->valuestring);
            return CDP_E_INVALID;
        }
        i++;
    }
    struct merge_state *s = alloc_state(sizeof(*s));
    if (!s)
        return CDP_E_NOMEM;
    s->keys = keys;
    *state = s;
    return 0;
}

static bool has_string(const cJSON *arr, const char *s)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0)
            return true;
    }
    return false;
}

/* Appends the keys not yet in arr. */
static void union_keys(cJSON *arr, const cJSON *keys)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, keys)
    {
        if (!has_string(arr, it->valuestring))
            cJSON_AddItemToArray(arr, cJSON_CreateString(it->valuestring));
    }
}

/* Several merge nodes add up: the keys are the union over all of them (not Tracardi's last one
 * wins, bug #875). The merge runs after the flows, from ctx->merge. */
static int merge_run(struct cdp_flow_call *c)
{
    const struct merge_state *s = c->state;
    if (!c->ctx->profile)
        return cdp_emit_error(c, "cannot merge: %s", no_profile);
    if (!c->ctx->merge && !(c->ctx->merge = cJSON_CreateArray()))
        return CDP_E_NOMEM;
    if (!cJSON_IsArray(c->ctx->merge))
        return cdp_flow_fail(c, "the request's merge keys are not a list");
    union_keys(c->ctx->merge, s->keys);
    const cJSON *old = cdp_flow_get(c, "profile@operation.merge");
    cJSON *keys = cJSON_IsArray(old) ? cJSON_Duplicate(old, true) : cJSON_CreateArray();
    if (!keys)
        return CDP_E_NOMEM;
    union_keys(keys, s->keys);
    int rc = cdp_flow_set(c, "profile@operation.merge", keys);
    if (rc)
        return rc == CDP_E_NOMEM ? rc : cdp_flow_fail(c, "cannot write profile@operation.merge");
    return cdp_emit_payload(c, "payload");
}

/* --- Increase / Decrease interest --- */

struct interest_state {
    const cJSON *interest; /* a name, a reference, or a list of names; borrowed */
    double value;
    double sign;
};

static int interest_setup(const cJSON *init, void **state, double sign, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(init, "interest");
    if (cJSON_IsArray(v)) {
        int i = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, v)
        {
            if (!cJSON_IsString(it) || is_blank(it->valuestring)) {
                snprintf(err, errlen, "interest: item %d must be an interest name", i);
                return CDP_E_INVALID;
            }
            i++;
        }
        if (i == 0) {
            snprintf(err, errlen, "interest: cannot be empty");
            return CDP_E_INVALID;
        }
    } else if (!cJSON_IsString(v) || is_blank(v->valuestring)) {
        snprintf(err, errlen,
                 cJSON_IsString(v) || !v || cJSON_IsNull(v)
                     ? "interest: cannot be empty"
                     : "interest: must be an interest name, a reference or a list of names");
        return CDP_E_INVALID;
    }
    double value;
    int rc = cdp_cfg_number(init, "value", 1.0, &value, err, errlen);
    if (rc)
        return rc;
    if (value < 0) {
        snprintf(err, errlen, "value: must be a number, 0 or more");
        return CDP_E_INVALID;
    }
    struct interest_state *s = alloc_state(sizeof(*s));
    if (!s)
        return CDP_E_NOMEM;
    s->interest = v;
    s->value = value;
    s->sign = sign;
    *state = s;
    return 0;
}

static int increase_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    return interest_setup(init, state, 1, err, errlen);
}

static int decrease_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    return interest_setup(init, state, -1, err, errlen);
}

/* Tracardi's is_valid_string: letters, digits, '_', '-' (',' separates names), at least one
 * letter or digit. Bytes of multi-byte UTF-8 characters count as letters. */
static bool interest_name_ok(const char *s, size_t n)
{
    bool alnum = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (isalnum(ch) || ch >= 0x80)
            alnum = true;
        else if (ch != '_' && ch != '-')
            return false;
    }
    return alnum;
}

/* Adds delta to profile.interests[name[0..n)]. 0, or a message. */
static int bump_interest(struct cdp_flow_call *c, const char *name, size_t n, double delta,
                         char *msg, size_t msglen)
{
    char key[256];
    if (n >= sizeof(key)) {
        snprintf(msg, msglen, "interest name '%.*s...' is too long", 32, name);
        return CDP_E_INVALID;
    }
    memcpy(key, name, n);
    key[n] = '\0';
    cJSON *interests = cJSON_GetObjectItemCaseSensitive(c->ctx->profile, "interests");
    if (interests && !cJSON_IsObject(interests)) {
        snprintf(msg, msglen, "profile@interests is not an object");
        return CDP_E_INVALID;
    }
    if (!interests && !(interests = cdp_json_obj(c->ctx->profile, "interests")))
        return CDP_E_NOMEM;
    const cJSON *old = cJSON_GetObjectItemCaseSensitive(interests, key);
    if (old && !cJSON_IsNumber(old) && !cJSON_IsNull(old)) {
        snprintf(msg, msglen, "profile@interests.%.160s is not a number", key);
        return CDP_E_INVALID;
    }
    double v = (cJSON_IsNumber(old) ? old->valuedouble : 0) + delta;
    cdp_json_put_num(interests, key, v);
    cdp_flow_touch(c, CDP_PATH_PROFILE);
    return 0;
}

/* Bumps every name of a comma-separated list; invalid names are logged and skipped. */
static int bump_list(struct cdp_flow_call *c, const char *list, double delta, char *msg,
                     size_t msglen)
{
    const char *p = list;
    for (;;) {
        size_t n = strcspn(p, ",");
        if (!interest_name_ok(p, n)) {
            cdp_flow_log(c, "error",
                         "invalid interest name '%.*s': use letters, digits, '-' and '_' only",
                         (int)n, p);
        } else {
            int rc = bump_interest(c, p, n, delta, msg, msglen);
            if (rc)
                return rc;
        }
        if (!p[n])
            return 0;
        p += n + 1;
    }
}

static int interest_run(struct cdp_flow_call *c)
{
    const struct interest_state *s = c->state;
    if (!c->ctx->profile)
        return cdp_emit_error(c, "cannot change interests: %s", no_profile);
    cJSON *v = cdp_flow_value(c, s->interest);
    if (!v)
        return cdp_emit_error(c, "interest: %s is missing", s->interest->valuestring);
    double delta = s->sign * s->value;
    char msg[256];
    int rc = 0;
    if (cJSON_IsArray(v)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, v)
        {
            if (rc)
                break;
            if (!cJSON_IsString(it) || !interest_name_ok(it->valuestring, strlen(it->valuestring)))
                cdp_flow_log(c, "error", "invalid interest name in the list: skipped");
            else
                rc = bump_interest(c, it->valuestring, strlen(it->valuestring), delta, msg,
                                   sizeof(msg));
        }
    } else if (cJSON_IsString(v) && v->valuestring[strspn(v->valuestring, ",")] &&
               !strchr(v->valuestring, ' ')) {
        rc = bump_list(c, v->valuestring, delta, msg, sizeof(msg));
    } else {
        char *text = cdp_json_print(v);
        snprintf(msg, sizeof(msg),
                 "invalid interest name %s: expected letters, digits, '-' and '_' without spaces",
                 text ? text : "?");
        free(text);
        rc = CDP_E_INVALID;
    }
    cJSON_Delete(v);
    if (rc == CDP_E_NOMEM)
        return rc;
    if (rc)
        return cdp_emit_error(c, "%s", msg);
    return cdp_emit_payload(c, "payload");
}

/* --- UX: Show snack bar, UX tag --- */

/* Appends item (taken) to ctx->ux, creating the list. */
static int ux_append(struct cdp_flow_call *c, cJSON *item)
{
    if (!item)
        return CDP_E_NOMEM;
    if (!c->ctx->ux && !(c->ctx->ux = cJSON_CreateArray())) {
        cJSON_Delete(item);
        return CDP_E_NOMEM;
    }
    cJSON_AddItemToArray(c->ctx->ux, item);
    return 0;
}

static const char *const snack_types[] = {"success", "error", "warning", "info", NULL};
static const char *const snack_x[] = {"left", "center", "right", NULL};
static const char *const snack_y[] = {"bottom", "top", NULL};

struct snack_state {
    const char *message, *source;
    int type, x, y;
    char hide_after[32];
};

static int snack_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const char *message, *source;
    int type, x, y, rc;
    double hide;
    if ((rc = cdp_cfg_text(init, "message", false, &message, err, errlen)) ||
        (rc = get_enum(init, "type", snack_types, 0, &type, err, errlen)) ||
        (rc = get_enum(init, "position_x", snack_x, 1, &x, err, errlen)) ||
        (rc = get_enum(init, "position_y", snack_y, 0, &y, err, errlen)) ||
        (rc = cdp_cfg_number(init, "hide_after", 6000, &hide, err, errlen)) ||
        (rc = get_opt_text(init, "uix_mf_source", "http://localhost:8686", &source, err, errlen)))
        return rc;
    if (hide < 0 || hide != floor(hide) || hide > 1e9) {
        snprintf(err, errlen, "hide_after: must be a whole number of milliseconds");
        return CDP_E_INVALID;
    }
    if (strncmp(source, "http://", 7) != 0 && strncmp(source, "https://", 8) != 0) {
        snprintf(err, errlen, "uix_mf_source: must be an http:// or https:// URL");
        return CDP_E_INVALID;
    }
    struct snack_state *s = alloc_state(sizeof(*s));
    if (!s)
        return CDP_E_NOMEM;
    s->message = message;
    s->source = source;
    s->type = type;
    s->x = x;
    s->y = y;
    snprintf(s->hide_after, sizeof(s->hide_after), "%.0f", hide);
    *state = s;
    return 0;
}

static int snack_run(struct cdp_flow_call *c)
{
    const struct snack_state *s = c->state;
    struct cdp_buf msg;
    cdp_buf_init(&msg, 64 * 1024);
    char err[256];
    int rc = cdp_template_render(s->message, &c->refs, &msg, err, sizeof(err));
    if (rc) {
        cdp_buf_fini(&msg);
        return rc == CDP_E_NOMEM ? rc : cdp_flow_fail(c, "message: %s", err);
    }
    cJSON *div = cJSON_CreateObject();
    cdp_json_put_str(div, "tag", "div");
    cJSON *props = cdp_json_obj(div, "props");
    cdp_json_put_str(props, "class", "tracardi-uix-snackbar");
    cdp_json_put_str(props, "data-type", snack_types[s->type]);
    cdp_json_put_str(props, "data-message", msg.len ? msg.data : "");
    cdp_json_put_str(props, "data-vertical", snack_y[s->y]);
    cdp_json_put_str(props, "data-horizontal", snack_x[s->x]);
    cdp_json_put_str(props, "data-auto-hide", s->hide_after);
    cdp_buf_fini(&msg);
    size_t n = strlen(s->source);
    while (n && s->source[n - 1] == '/')
        n--;
    char src[1024];
    snprintf(src, sizeof(src), "%.*s/uix/snackbar/index.js", (int)n, s->source);
    cJSON *script = cJSON_CreateObject();
    cdp_json_put_str(script, "tag", "script");
    cdp_json_put_str(cdp_json_obj(script, "props"), "src", src);
    if ((rc = ux_append(c, div))) {
        cJSON_Delete(script);
        return rc;
    }
    if ((rc = ux_append(c, script)))
        return rc;
    return cdp_emit_payload(c, "payload");
}

struct ux_tag_state {
    const char *tag, *content;
    const cJSON *props; /* object template, borrowed */
};

static int ux_tag_setup(const cJSON *init, void **state, char *err, size_t errlen)
{
    const char *tag, *content;
    int rc;
    if ((rc = cdp_cfg_text(init, "tag", false, &tag, err, errlen)) ||
        (rc = get_opt_text(init, "content", "", &content, err, errlen)))
        return rc;
    if (!isalpha((unsigned char)tag[0]) ||
        tag[strspn(tag, "abcdefghijklmnopqrstuvwxyz"
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")]) {
        snprintf(err, errlen, "tag: '%s' is not an HTML tag name", tag);
        return CDP_E_INVALID;
    }
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(init, "props");
    if (props && !cJSON_IsNull(props) && !cJSON_IsObject(props)) {
        snprintf(err, errlen, "props: must be an object of attribute -> value");
        return CDP_E_INVALID;
    }
    struct ux_tag_state *s = alloc_state(sizeof(*s));
    if (!s)
        return CDP_E_NOMEM;
    s->tag = tag;
    s->content = content;
    s->props = cJSON_IsObject(props) ? props : NULL;
    *state = s;
    return 0;
}

static int ux_tag_run(struct cdp_flow_call *c)
{
    const struct ux_tag_state *s = c->state;
    char err[256];
    cJSON *props = NULL;
    int rc = s->props ? cdp_template_object(s->props, &c->refs, false, &props, err, sizeof(err))
                      : ((props = cJSON_CreateObject()) ? 0 : CDP_E_NOMEM);
    if (rc)
        return rc == CDP_E_NOMEM ? rc : cdp_flow_fail(c, "props: %s", err);
    struct cdp_buf content;
    cdp_buf_init(&content, 256 * 1024);
    if ((rc = cdp_template_render(s->content, &c->refs, &content, err, sizeof(err)))) {
        cdp_buf_fini(&content);
        cJSON_Delete(props);
        return rc == CDP_E_NOMEM ? rc : cdp_flow_fail(c, "content: %s", err);
    }
    cJSON *d = cJSON_CreateObject();
    cdp_json_put_str(d, "tag", s->tag);
    cdp_json_put(d, "props", props);
    cdp_json_put_str(d, "content", content.len ? content.data : "");
    cdp_buf_fini(&content);
    if ((rc = ux_append(c, d)))
        return rc;
    return cdp_emit_payload(c, "payload");
}

/* --- descriptors --- */

#define V1 "tracardi.process_engine.action.v1."

static const struct cdp_plugin add_segment_plugin = {
    .id = "add-segment",
    .module = V1 "segmentation.add.plugin",
    .class_name = "AddSegmentAction",
    .name = "Add segment",
    .desc = "Adds segment to profile.",
    .group = "Segmentation",
    .inputs = "payload",
    .outputs = "payload,error",
    .init = "{\"segment\": \"\"}",
    .schema = CDP_SCHEMA_HEAD
    "\"properties\": {\"segment\": {\"title\": \"Segment name\", \"description\": \"A segment "
    "name, a reference to a name or a list of names (profile@traits.tier), or a list of "
    "them. Names are stored as written.\", \"anyOf\": [{\"type\": \"string\", \"minLength\": 1},"
    "{\"type\": \"array\", \"items\": {\"type\": \"string\", \"minLength\": 1}, \"minItems\": "
    "1}]}},"
    "\"required\": [\"segment\"]}",
    .setup = add_segment_setup,
    .free = free,
    .run = add_segment_run,
};

static const struct cdp_plugin delete_segment_plugin = {
    .id = "delete-segment",
    .module = V1 "segmentation.delete.plugin",
    .class_name = "DeleteSegmentAction",
    .name = "Delete segment",
    .desc = "Deletes segment from profile.",
    .group = "Segmentation",
    .inputs = "payload",
    .outputs = "payload",
    .init = "{\"segment\": \"\"}",
    .schema =
        CDP_SCHEMA_HEAD "\"properties\": {\"segment\": {\"title\": \"Segment name\", "
                        "\"description\": \"Please type segment name.\", \"type\": \"string\", "
                        "\"minLength\": 1}}, \"required\": [\"segment\"]}",
    .setup = segment_setup,
    .free = free,
    .run = delete_segment_run,
};

static const struct cdp_plugin move_segment_plugin = {
    .id = "move-segment",
    .module = V1 "segmentation.move.plugin",
    .class_name = "MoveSegmentAction",
    .name = "Move segment",
    .desc = "Moves profile from one segment to other segment.",
    .group = "Segmentation",
    .inputs = "payload",
    .outputs = "payload",
    .init = "{\"from_segment\": \"\", \"to_segment\": \"\"}",
    .schema = CDP_SCHEMA_HEAD
    "\"properties\": {\"from_segment\": {\"title\": \"Move from segment\", \"description\": "
    "\"The segment the profile leaves.\", \"type\": \"string\", \"minLength\": 1},"
    "\"to_segment\": {\"title\": \"Move to segment\", \"description\": \"The segment the "
    "profile joins.\", \"type\": \"string\", \"minLength\": 1}},"
    "\"required\": [\"from_segment\", \"to_segment\"]}",
    .setup = move_setup,
    .free = free,
    .run = move_run,
};

static const struct cdp_plugin has_segment_plugin = {
    .id = "has-segment",
    .module = V1 "segmentation.has.plugin",
    .class_name = "HasSegmentAction",
    .name = "Has segment",
    .desc = "Checks if profile is in defined segment.",
    .group = "Segmentation",
    .inputs = "payload",
    .outputs = "True,False",
    .init = "{\"segment\": \"\"}",
    .schema =
        CDP_SCHEMA_HEAD "\"properties\": {\"segment\": {\"title\": \"Profile segment to check\", "
                        "\"description\": \"The segment name, as stored in profile@segments.\", "
                        "\"type\": \"string\", \"minLength\": 1}}, \"required\": [\"segment\"]}",
    .setup = segment_setup,
    .free = free,
    .run = has_segment_run,
};

static const struct cdp_plugin cond_segment_plugin = {
    .id = "conditional-segmentation",
    .module = V1 "segmentation.conditional.plugin",
    .class_name = "ProfileSegmentAction",
    .name = "Conditional segmentation",
    .desc = "This plugin will add/remove segment from the profile.",
    .group = "Segmentation",
    .inputs = "payload",
    .outputs = "true,false,error",
    .init = "{\"condition\": \"\", \"true_segment\": \"\", \"true_action\": \"add\", "
            "\"false_segment\": \"\", \"false_action\": \"remove\"}",
    .schema = CDP_SCHEMA_HEAD
    "\"properties\": {\"condition\": {\"title\": \"Condition statement\", \"description\": "
    "\"Condition for segmentation; when it is met the positive action runs, otherwise the "
    "negative one.\", \"type\": \"string\", \"minLength\": 1},"
    "\"true_action\": {\"title\": \"When the condition is met\", \"description\": \"Add the "
    "segment, remove it, or do nothing.\", \"type\": \"string\", \"enum\": [\"add\", "
    "\"remove\", \"none\"], \"default\": \"add\"},"
    "\"true_segment\": {\"title\": \"Segment name\", \"description\": \"Segment to add or "
    "remove when the condition is met. Use dashes instead of spaces.\", \"type\": \"string\"},"
    "\"false_action\": {\"title\": \"When the condition is not met\", \"description\": \"Add "
    "the segment, remove it, or do nothing.\", \"type\": \"string\", \"enum\": [\"add\", "
    "\"remove\", \"none\"], \"default\": \"remove\"},"
    "\"false_segment\": {\"title\": \"Segment name\", \"description\": \"Segment to add or "
    "remove when the condition is not met.\", \"type\": \"string\"}},"
    "\"required\": [\"condition\"]}",
    .setup = cond_setup,
    .free = cond_free,
    .run = cond_run,
};

static const struct cdp_plugin consent_add_plugin = {
    .id = "add-consent",
    .module = V1 "consents.add_consent_action.plugin",
    .class_name = "ConsentAdder",
    .name = "Add consent",
    .desc = "This plugin adds consents to profile.",
    .group = "Consents",
    .inputs = "payload",
    .outputs = "payload",
    .init = "{\"consents\": null, \"auto_revoke\": \"\"}",
    .schema = CDP_SCHEMA_HEAD
    "\"properties\": {\"consents\": {\"title\": \"Reference to consents\", \"description\": "
    "\"Reference to an object of consent id -> true/false (false is ignored), e.g. "
    "event@properties.consents.\", \"type\": \"string\", \"minLength\": 1},"
    "\"auto_revoke\": {\"title\": \"Revoke after\", \"description\": \"cdpd: grants expire "
    "after this long (30d, 12h); empty: never.\", \"type\": \"string\", \"default\": \"\"}},"
    "\"required\": [\"consents\"]}",
    .setup = consent_add_setup,
    .free = free,
    .run = consent_add_run,
};

static const struct cdp_plugin consent_req_plugin = {
    .id = "has-consents",
    .module = V1 "consents.require_consents_action.plugin",
    .class_name = "RequireConsentsAction",
    .name = "Has consents",
    .desc = "Checks if defined consents are granted by current profile.",
    .group = "Consents",
    .inputs = "payload",
    .outputs = "true,false",
    .init = "{\"consent_ids\": [], \"require_all\": false}",
    .schema = CDP_SCHEMA_HEAD
    "\"properties\": {\"consent_ids\": {\"title\": \"IDs of required consents\", "
    "\"description\": \"Consents the profile must grant (not revoked at the time of the "
    "event).\", \"type\": \"array\", \"items\": {\"anyOf\": [{\"type\": \"string\"}, {\"type\": "
    "\"object\", \"properties\": {\"id\": {\"type\": \"string\"}, \"name\": {\"type\": "
    "\"string\"}}, \"required\": [\"id\"]}]}, \"default\": []},"
    "\"require_all\": {\"title\": \"Require all\", \"description\": \"On: all consents must be "
    "granted; off: one is enough.\", \"type\": \"boolean\", \"default\": false}},"
    "\"required\": [\"consent_ids\"]}",
    .setup = consent_req_setup,
    .free = consent_req_free,
    .run = consent_req_run,
};

static const struct cdp_plugin merge_plugin = {
    .id = "merge-profiles",
    .module = V1 "operations.merge_profiles_action",
    .class_name = "MergeProfilesAction",
    .name = "Merge profiles",
    .desc = "Merges profile in storage when flow ends. This operation is expensive so use it "
            "with caution, only when there is a new PII information added.",
    .group = "Operations",
    .inputs = "payload",
    .outputs = "payload,error",
    .init = "{\"mergeBy\": []}",
    .schema = CDP_SCHEMA_HEAD
    "\"properties\": {\"mergeBy\": {\"title\": \"Merge by fields\", \"description\": \"Profile "
    "fields that identify the customer, e.g. profile@data.contact.email.main; profiles with "
    "the same values are merged.\", \"type\": \"array\", \"items\": {\"type\": \"string\", "
    "\"pattern\": \"^profile@.+\"}, \"minItems\": 1}}, \"required\": [\"mergeBy\"]}",
    .setup = merge_setup,
    .free = free,
    .run = merge_run,
};

#define INTEREST_SCHEMA(verb)                                                                      \
    CDP_SCHEMA_HEAD                                                                                \
    "\"properties\": {\"interest\": {\"title\": \"Interest name\", \"description\": \"An "         \
    "interest name (letters, digits, - and _), comma-separated names, a reference to them, or "    \
    "a list.\", \"anyOf\": [{\"type\": \"string\", \"minLength\": 1}, {\"type\": \"array\", "      \
    "\"items\": {\"type\": \"string\"}, \"minItems\": 1}]},"                                       \
    "\"value\": {\"title\": \"Interest value\", \"description\": \"The value by which the "        \
    "interest is " verb ".\", \"type\": [\"string\", \"number\"], \"default\": \"1.0\"}},"         \
    "\"required\": [\"interest\"]}"

static const struct cdp_plugin increase_plugin = {
    .id = "increase-interest",
    .module = V1 "interest.increase.plugin",
    .class_name = "IncreaseInterestAction",
    .name = "Increase interest",
    .desc = "Increases interest in profile and returns payload.",
    .group = "Segmentation",
    .inputs = "payload",
    .outputs = "payload,error",
    .init = "{\"interest\": \"\", \"value\": \"1.0\"}",
    .schema = INTEREST_SCHEMA("raised"),
    .setup = increase_setup,
    .free = free,
    .run = interest_run,
};

static const struct cdp_plugin decrease_plugin = {
    .id = "decrease-interest",
    .module = V1 "interest.decrease.plugin",
    .class_name = "DecreaseInterestAction",
    .name = "Decrease interest",
    .desc = "Decreases interest in profile and returns payload.",
    .group = "Segmentation",
    .inputs = "payload",
    .outputs = "payload,error",
    .init = "{\"interest\": \"\", \"value\": \"1.0\"}",
    .schema = INTEREST_SCHEMA("lowered"),
    .setup = decrease_setup,
    .free = free,
    .run = interest_run,
};

static const struct cdp_plugin snack_plugin = {
    .id = "snack-bar",
    .module = V1 "ux.snackbar.plugin",
    .class_name = "SnackBarUx",
    .name = "Show snack bar",
    .desc = "Shows snack bar pop-up on the front end.",
    .group = "UIX Widgets",
    .inputs = "payload",
    .outputs = "payload",
    .init = "{\"type\": \"success\", \"message\": \"\", \"hide_after\": 6000, \"position_x\": "
            "\"center\", \"position_y\": \"bottom\", \"uix_mf_source\": \"http://localhost:8686\"}",
    .schema = CDP_SCHEMA_HEAD
    "\"properties\": {\"message\": {\"title\": \"Pop-up message\", \"description\": \"Message "
    "shown on the web page; {{profile@...}} templates are filled in.\", \"type\": \"string\", "
    "\"minLength\": 1},"
    "\"type\": {\"title\": \"Alert type\", \"description\": \"Select alert type.\", \"type\": "
    "\"string\", \"enum\": [\"success\", \"error\", \"warning\", \"info\"], \"default\": "
    "\"success\"},"
    "\"hide_after\": {\"title\": \"Hide message after\", \"description\": \"Milliseconds the "
    "message stays visible.\", \"type\": [\"integer\", \"string\"], \"default\": 6000},"
    "\"position_y\": {\"title\": \"Vertical position\", \"description\": \"Where to place the "
    "message.\", \"type\": \"string\", \"enum\": [\"bottom\", \"top\"], \"default\": \"bottom\"},"
    "\"position_x\": {\"title\": \"Horizontal position\", \"description\": \"Where to place the "
    "message.\", \"type\": \"string\", \"enum\": [\"left\", \"center\", \"right\"], \"default\": "
    "\"center\"},"
    "\"uix_mf_source\": {\"title\": \"Micro frontend source location\", \"description\": \"URL "
    "the widget script is served from (the API, or a CDN).\", \"type\": \"string\", \"format\": "
    "\"uri\", \"default\": \"http://localhost:8686\"}},"
    "\"required\": [\"message\"]}",
    .setup = snack_setup,
    .free = free,
    .run = snack_run,
};

static const struct cdp_plugin ux_tag_plugin = {
    .id = "ux-tag",
    .module = "cdpd.plugin.ux-tag",
    .class_name = NULL,
    .name = "UX tag",
    .desc = "Appends an HTML tag {tag, props, content} for the tracker to inject into the page.",
    .group = "UIX Widgets",
    .inputs = "payload",
    .outputs = "payload",
    .init = "{\"tag\": \"div\", \"props\": {}, \"content\": \"\"}",
    .schema = CDP_SCHEMA_HEAD
    "\"properties\": {\"tag\": {\"title\": \"Tag\", \"description\": \"HTML tag name, e.g. div "
    "or script.\", \"type\": \"string\", \"pattern\": \"^[A-Za-z][A-Za-z0-9-]*$\"},"
    "\"props\": {\"title\": \"Attributes\", \"description\": \"Attribute -> value; values that "
    "are references (profile@...) are filled in.\", \"type\": \"object\", \"default\": {}},"
    "\"content\": {\"title\": \"Content\", \"description\": \"Inner text; {{profile@...}} "
    "templates are filled in.\", \"type\": \"string\", \"default\": \"\"}},"
    "\"required\": [\"tag\"]}",
    .setup = ux_tag_setup,
    .free = free,
    .run = ux_tag_run,
};

const struct cdp_plugin *const cdp_plugins_profile[] = {
    &add_segment_plugin,
    &delete_segment_plugin,
    &move_segment_plugin,
    &has_segment_plugin,
    &cond_segment_plugin,
    &consent_add_plugin,
    &consent_req_plugin,
    &merge_plugin,
    &increase_plugin,
    &decrease_plugin,
    &snack_plugin,
    &ux_tag_plugin,
    NULL,
};
