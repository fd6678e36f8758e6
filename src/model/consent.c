/* Consent types and consent updates (consent.h). */
#include "model/consent.h"

#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "30d", "12h", "1w", "90m", "3600s" (also with a space or words: "30 days") in
 * microseconds; -1 when not a duration. */
static int64_t duration_us(const char *s)
{
    char *end;
    while (isspace((unsigned char)*s))
        s++;
    if (!isdigit((unsigned char)*s))
        return -1;
    long long n = strtoll(s, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    int64_t unit;
    switch (tolower((unsigned char)*end)) {
    case 's':
        unit = 1;
        break;
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86400;
        break;
    case 'w':
        unit = 7 * 86400;
        break;
    default:
        return -1;
    }
    while (isalpha((unsigned char)*end))
        end++;
    while (isspace((unsigned char)*end))
        end++;
    if (*end || n < 0 || n > 100LL * 365 * 86400)
        return -1;
    return (int64_t)n * unit * 1000000;
}

static int bad(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return CDP_E_INVALID;
}

int cdp_consent_type_normalize(cJSON *doc, char *err, size_t errlen)
{
    if (!cJSON_IsObject(doc))
        return bad(err, errlen, "body: expected a consent type object");
    const char *name = cdp_json_str(doc, "name");
    if (!name || !name[strspn(name, " \t")])
        return bad(err, errlen, "name: a consent type needs a name");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "id");
    if (id && !cJSON_IsString(id))
        return bad(err, errlen, "id: expected a string");
    if (!id || !*id->valuestring) {
        char slug[128];
        size_t n = 0;
        for (const char *p = name; *p && n + 1 < sizeof(slug); p++)
            if (isalnum((unsigned char)*p))
                slug[n++] = (char)tolower((unsigned char)*p);
            else if (n && slug[n - 1] != '-')
                slug[n++] = '-';
        while (n && slug[n - 1] == '-')
            n--;
        slug[n] = '\0';
        if (!n)
            return bad(err, errlen, "id: give one; the name has no letters or digits");
        cdp_json_put_str(doc, "id", slug);
    }
    static const char *const flags[] = {"revokable", "enabled", "required"};
    static const bool defs[] = {true, true, false};
    for (size_t i = 0; i < 3; i++) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(doc, flags[i]);
        if (f && !cJSON_IsBool(f)) {
            snprintf(err, errlen, "%s: expected true or false", flags[i]);
            return CDP_E_INVALID;
        }
        if (!f)
            cJSON_AddBoolToObject(doc, flags[i], defs[i]);
    }
    const char *dv = cdp_json_str(doc, "default_value");
    if (cJSON_GetObjectItemCaseSensitive(doc, "default_value") &&
        (!dv || (strcmp(dv, "grant") != 0 && strcmp(dv, "deny") != 0)))
        return bad(err, errlen, "default_value: \"grant\" or \"deny\"");
    if (!dv)
        cdp_json_put_str(doc, "default_value", "deny");
    const cJSON *ar = cJSON_GetObjectItemCaseSensitive(doc, "auto_revoke");
    if (ar && !cJSON_IsNull(ar) &&
        (!cJSON_IsString(ar) || (*ar->valuestring && duration_us(ar->valuestring) < 0)))
        return bad(err, errlen, "auto_revoke: a duration such as \"30d\", \"12h\" or \"1w\"");
    if (!cJSON_IsString(ar))
        cdp_json_put_str(doc, "auto_revoke", "");
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "description")))
        cdp_json_put_str(doc, "description", "");
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "tags")))
        cdp_json_put(doc, "tags", cJSON_CreateArray());
    return 0;
}

int cdp_consent_held(const cJSON *consents, const char *id, int64_t now_us)
{
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(consents, id);
    if (!g)
        return 0;
    const cJSON *revoke = cJSON_GetObjectItemCaseSensitive(g, "revoke");
    if (!revoke || cJSON_IsNull(revoke))
        return 1; /* until withdrawn */
    int64_t t;
    if (!cJSON_IsString(revoke) || cdp_clock_parse_iso(revoke->valuestring, &t))
        return -1;
    return t > now_us;
}

static const cJSON *type_of(const cJSON *types, const char *id)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, types)
    {
        const char *tid = cdp_json_str(t, "id");
        if (tid && strcmp(tid, id) == 0)
            return t;
    }
    return NULL;
}

static cJSON *grant(const cJSON *type, int64_t now_us)
{
    cJSON *g = cJSON_CreateObject();
    const char *ar = cdp_json_str(type, "auto_revoke");
    int64_t d = ar && *ar ? duration_us(ar) : -1;
    if (d > 0) {
        char iso[40];
        cdp_clock_iso(now_us + d, iso);
        cJSON_AddStringToObject(g, "revoke", iso);
    } else {
        cJSON_AddNullToObject(g, "revoke");
    }
    return g;
}

int cdp_consent_apply(cJSON *profile, const cJSON *types, const cJSON *consents, bool all,
                      int64_t now_us, char *err, size_t errlen)
{
    if (consents && !cJSON_IsNull(consents) && !cJSON_IsObject(consents))
        return bad(err, errlen, "consents: expected {\"<consent type id>\": true | false}");
    const cJSON *c, *list = cJSON_IsObject(consents) ? consents : NULL;
    cJSON_ArrayForEach(c, list)
    {
        const cJSON *t = type_of(types, c->string);
        if (!cJSON_IsBool(c)) {
            snprintf(err, errlen, "consents.%s: expected true or false", c->string);
            return CDP_E_INVALID;
        }
        if (!t || !cdp_json_flag(t, "enabled", true)) {
            snprintf(err, errlen, "consent type `%s` is %s", c->string, t ? "disabled" : "unknown");
            return CDP_E_FORBIDDEN;
        }
        if (cJSON_IsFalse(c) && !cdp_json_flag(t, "revokable", true)) {
            snprintf(err, errlen, "consent type `%s` cannot be revoked", c->string);
            return CDP_E_FORBIDDEN;
        }
    }
    cJSON *held = cdp_json_obj(profile, "consents");
    if (!held)
        return CDP_E_NOMEM;
    bool changed = false;
    if (all) {
        const cJSON *t;
        cJSON_ArrayForEach(t, types)
        {
            const char *id = cdp_json_str(t, "id");
            if (!id || !cdp_json_flag(t, "enabled", true))
                continue;
            /* A grant still held keeps its revoke time; a missing, expired or malformed one is
             * granted afresh. */
            if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(held, id)) ||
                cdp_consent_held(held, id, now_us) != 1) {
                cdp_json_put(held, id, grant(t, now_us));
                changed = true;
            }
        }
    }
    cJSON_ArrayForEach(c, list)
    {
        bool has = cJSON_GetObjectItemCaseSensitive(held, c->string) != NULL;
        if (cJSON_IsTrue(c)) {
            cdp_json_put(held, c->string, grant(type_of(types, c->string), now_us));
            changed = true;
        } else if (has) {
            cJSON_DeleteItemFromObjectCaseSensitive(held, c->string);
            changed = true;
        }
    }
    if (changed)
        cdp_json_set(profile, "aux.consents.granted", cJSON_CreateBool(cJSON_GetArraySize(held)));
    return changed ? 1 : 0;
}
