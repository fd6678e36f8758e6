/* Segment documents and live segmentation (segment.h). */
#include "flow/segment.h"

#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "flow/tql.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

struct cdp_segment {
    char *machine_name;
    cJSON *types; /* array of event type ids; empty: every event */
    bool remove_when_false;
    struct cdp_tql *cond;
};

/* "VIP customers (EU)" -> "vip-customers-eu". */
static void slug(const char *in, char *out, size_t outlen)
{
    size_t n = 0;
    bool dash = false;
    for (const unsigned char *p = (const unsigned char *)in; *p && n + 1 < outlen; p++) {
        if (isalnum(*p)) {
            if (dash && n > 0)
                out[n++] = '-';
            if (n + 1 < outlen)
                out[n++] = (char)tolower(*p);
            dash = false;
        } else {
            dash = true;
        }
    }
    out[n] = '\0';
}

static int fail(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return CDP_E_INVALID;
}

int cdp_segment_normalize(cJSON *doc, char *err, size_t errlen)
{
    int rc = cdp_json_entity_head(doc, "a segment", err, errlen);
    if (rc)
        return rc;
    const char *name = cdp_json_str(doc, "name");
    const cJSON *cond = cJSON_GetObjectItemCaseSensitive(doc, "condition");
    if (!cJSON_IsString(cond) || !cond->valuestring[strspn(cond->valuestring, " \t\r\n")])
        return fail(err, errlen, "condition: a segment needs a condition");
    struct cdp_tql *q;
    char why[200];
    if (cdp_tql_parse(cond->valuestring, &q, why, sizeof(why))) {
        snprintf(err, errlen, "condition: %s", why);
        return CDP_E_INVALID;
    }
    cdp_tql_free(q);
    static const char *const flags[] = {"enabled", "remove_when_false"};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(doc, flags[i]);
        if (f && !cJSON_IsBool(f)) {
            snprintf(err, errlen, "%s: expected true or false", flags[i]);
            return CDP_E_INVALID;
        }
        if (!f)
            cJSON_AddBoolToObject(doc, flags[i], i == 0);
    }
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(doc, "eventType");
    if (types && !cJSON_IsNull(types) && !cJSON_IsArray(types))
        return fail(err, errlen, "eventType: expected a list of event types");
    cJSON *ids = cJSON_CreateArray();
    const cJSON *t, *list = cJSON_IsArray(types) ? types : NULL;
    cJSON_ArrayForEach(t, list)
    {
        const char *tid = cJSON_IsString(t) ? t->valuestring : cdp_json_str(t, "id");
        if (!tid || !*tid) {
            cJSON_Delete(ids);
            return fail(err, errlen, "eventType: each item is an event type id or {id, name}");
        }
        cJSON_AddItemToArray(ids, cJSON_CreateString(tid));
    }
    cdp_json_put(doc, "eventType", ids);
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "description")))
        cdp_json_put_str(doc, "description", "");
    const char *mn = cdp_json_str(doc, "machine_name");
    char made[256];
    slug(mn && *mn ? mn : name, made, sizeof(made));
    if (!*made)
        return fail(err, errlen, "machine_name: the name has no letters or digits to make it of");
    cdp_json_put_str(doc, "machine_name", made);
    return 0;
}

void cdp_segment_free(struct cdp_segment *seg)
{
    if (!seg)
        return;
    free(seg->machine_name);
    cJSON_Delete(seg->types);
    cdp_tql_free(seg->cond);
    free(seg);
}

int cdp_segment_compile(const cJSON *doc, struct cdp_segment **out, char *err, size_t errlen)
{
    *out = NULL;
    struct cdp_segment *seg = calloc(1, sizeof(*seg));
    if (!seg)
        return CDP_E_NOMEM;
    const char *mn = cdp_json_str(doc, "machine_name"), *cond = cdp_json_str(doc, "condition");
    if (!mn || !cond) {
        free(seg);
        return fail(err, errlen, "segment: not normalized (machine_name, condition)");
    }
    seg->machine_name = strdup(mn);
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(doc, "eventType");
    seg->types = cJSON_IsArray(types) ? cJSON_Duplicate(types, true) : cJSON_CreateArray();
    seg->remove_when_false = cdp_json_flag(doc, "remove_when_false", false);
    int rc = seg->machine_name && seg->types ? cdp_tql_parse(cond, &seg->cond, err, errlen)
                                             : CDP_E_NOMEM;
    if (rc) {
        cdp_segment_free(seg);
        return rc;
    }
    *out = seg;
    return 0;
}

const char *cdp_segment_machine_name(const struct cdp_segment *seg)
{
    return seg->machine_name;
}

const struct cdp_tql *cdp_segment_condition(const struct cdp_segment *seg)
{
    return seg->cond;
}

bool cdp_segment_removes_when_false(const struct cdp_segment *seg)
{
    return seg->remove_when_false;
}

bool cdp_segment_wants(const struct cdp_segment *seg, const char *event_type)
{
    if (cJSON_GetArraySize(seg->types) == 0)
        return true;
    const cJSON *t;
    cJSON_ArrayForEach(t, seg->types)
    {
        if (event_type && strcmp(t->valuestring, event_type) == 0)
            return true;
    }
    return false;
}

int cdp_segment_apply(const struct cdp_segment *seg, cJSON *profile, const cJSON *event,
                      const cJSON *session, int64_t now_us)
{
    struct cdp_refs refs = {.profile = profile,
                            .event = (cJSON *)(uintptr_t)event,
                            .session = (cJSON *)(uintptr_t)session};
    bool holds = false;
    char err[200];
    if (cdp_tql_eval(seg->cond, &refs, now_us, &holds, err, sizeof(err)))
        return CDP_E_NOMEM;
    return cdp_segment_set_member(profile, seg->machine_name, seg->remove_when_false, holds,
                                  now_us);
}

int cdp_segment_set_member(cJSON *profile, const char *name, bool remove_when_false, bool holds,
                           int64_t now_us)
{
    cJSON *segs = cJSON_GetObjectItemCaseSensitive(profile, "segments");
    if (!cJSON_IsArray(segs)) {
        if (!holds)
            return 0;
        segs = cJSON_CreateArray();
        if (!segs)
            return CDP_E_NOMEM;
        cdp_json_put(profile, "segments", segs);
    }
    int at = -1, i = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, segs)
    {
        if (cJSON_IsString(s) && strcmp(s->valuestring, name) == 0)
            at = i;
        i++;
    }
    if (holds == (at >= 0) || (!holds && !remove_when_false))
        return 0;
    if (holds)
        cJSON_AddItemToArray(segs, cJSON_CreateString(name));
    else
        cJSON_DeleteItemFromArray(segs, at);
    char iso[40];
    cdp_clock_iso(now_us, iso);
    cdp_json_set(profile, "metadata.time.segmentation", cJSON_CreateString(iso));
    return 1;
}
