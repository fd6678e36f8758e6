/* Profile defaults and the few updates the collector makes itself. */
#include "model/profile.h"
#include "core/clock.h"
#include "core/json.h"

#include <string.h>

static cJSON *obj_of_nulls(const char *const *keys)
{
    cJSON *o = cJSON_CreateObject();
    for (; *keys; keys++)
        cJSON_AddNullToObject(o, *keys);
    return o;
}

static cJSON *profile_data(void)
{
    static const char *const pii[] = {"firstname", "lastname", "display_name",
                                      "birthday",  "gender",   NULL};
    static const char *const email[] = {"main", "private", "business", NULL};
    static const char *const phone[] = {"main", "business", "mobile", "whatsapp", NULL};
    static const char *const address[] = {"town",   "county", "country", "postcode",
                                          "street", "other",  NULL};
    static const char *const identifier[] = {"id",    "badge",   "passport", "credit_card",
                                             "token", "coupons", NULL};
    static const char *const metrics[] = {"ltv",    "ltcosc", "ltcocc", "ltcop",
                                          "ltcosv", "ltcocv", "next",   NULL};
    cJSON *d = cJSON_CreateObject();
    cJSON_AddBoolToObject(d, "anonymous", 1);
    cJSON *p = obj_of_nulls(pii);
    cJSON *lang = cJSON_AddObjectToObject(p, "language");
    cJSON_AddNullToObject(lang, "native");
    cJSON_AddArrayToObject(lang, "spoken");
    cJSON_AddItemToObject(d, "pii", p);
    cJSON *c = cJSON_AddObjectToObject(d, "contact");
    cJSON_AddItemToObject(c, "email", obj_of_nulls(email));
    cJSON_AddItemToObject(c, "phone", obj_of_nulls(phone));
    cJSON_AddObjectToObject(c, "app");
    cJSON_AddItemToObject(c, "address", obj_of_nulls(address));
    cJSON_AddArrayToObject(c, "confirmations");
    cJSON_AddItemToObject(d, "identifier", obj_of_nulls(identifier));
    cJSON *dev = cJSON_AddObjectToObject(d, "devices");
    cJSON_AddArrayToObject(dev, "push");
    cJSON_AddArrayToObject(dev, "other");
    cJSON_AddObjectToObject(dev, "last");
    cJSON *media = cJSON_AddObjectToObject(d, "media");
    cJSON_AddNullToObject(media, "image");
    cJSON_AddNullToObject(media, "webpage");
    cJSON_AddObjectToObject(media, "social");
    cJSON_AddObjectToObject(d, "preferences");
    cJSON *job = cJSON_AddObjectToObject(d, "job");
    cJSON_AddNullToObject(job, "position");
    cJSON_AddObjectToObject(job, "company");
    cJSON *m = obj_of_nulls(metrics);
    cJSON_AddObjectToObject(m, "custom");
    cJSON_AddItemToObject(d, "metrics", m);
    cJSON *loyalty = cJSON_AddObjectToObject(d, "loyalty");
    cJSON_AddArrayToObject(loyalty, "codes");
    cJSON_AddObjectToObject(loyalty, "card");
    return d;
}

cJSON *cdp_profile_new(const char *id, int64_t now_us)
{
    char ts[CDP_ISO_LEN];
    cdp_clock_iso(now_us, ts);
    cJSON *p = cJSON_CreateObject();
    if (!p)
        return NULL;
    cJSON_AddStringToObject(p, "id", id);
    cJSON *ids = cJSON_AddArrayToObject(p, "ids");
    cJSON_AddItemToArray(ids, cJSON_CreateString(id));
    cJSON *md = cJSON_AddObjectToObject(p, "metadata");
    cJSON *t = cJSON_AddObjectToObject(md, "time");
    cJSON_AddStringToObject(t, "insert", ts);
    cJSON_AddStringToObject(t, "create", ts);
    cJSON_AddStringToObject(t, "update", ts);
    cJSON_AddNullToObject(t, "segmentation");
    cJSON *v = cJSON_AddObjectToObject(t, "visit");
    cJSON_AddNullToObject(v, "last");
    cJSON_AddNullToObject(v, "current");
    cJSON_AddNumberToObject(v, "count", 0);
    cJSON_AddNullToObject(v, "tz");
    cJSON_AddObjectToObject(md, "aux");
    cJSON_AddNullToObject(md, "status");
    cJSON_AddObjectToObject(md, "fields");
    cJSON_AddObjectToObject(md, "system");
    cJSON *st = cJSON_AddObjectToObject(p, "stats");
    cJSON_AddNumberToObject(st, "visits", 0);
    cJSON_AddNumberToObject(st, "views", 0);
    cJSON_AddObjectToObject(st, "counters");
    cJSON_AddObjectToObject(p, "traits");
    cJSON_AddArrayToObject(p, "segments");
    cJSON_AddObjectToObject(p, "interests");
    cJSON_AddObjectToObject(p, "consents");
    cJSON_AddBoolToObject(p, "active", 1);
    cJSON *aux = cJSON_AddObjectToObject(p, "aux");
    cJSON_AddObjectToObject(aux, "geo");
    cJSON_AddItemToObject(p, "data", profile_data());
    return p;
}

void cdp_profile_count_visit(cJSON *profile, int64_t now_us, const char *tz)
{
    char ts[CDP_ISO_LEN];
    cdp_clock_iso(now_us, ts);
    cJSON *md = cdp_json_obj(profile, "metadata");
    cJSON *t = cdp_json_obj(md, "time");
    cJSON *v = cdp_json_obj(t, "visit");
    cJSON *cur = cJSON_GetObjectItemCaseSensitive(v, "current");
    cdp_json_put(v, "last", cur ? cJSON_Duplicate(cur, 0) : cJSON_CreateNull());
    cdp_json_put_str(v, "current", ts);
    cJSON *count = cJSON_GetObjectItemCaseSensitive(v, "count");
    cdp_json_put_num(v, "count", (cJSON_IsNumber(count) ? count->valuedouble : 0) + 1);
    if (tz)
        cdp_json_put_str(v, "tz", tz);
    cdp_json_put_str(t, "update", ts);
}

void cdp_profile_touch(cJSON *profile, int64_t now_us)
{
    char ts[CDP_ISO_LEN];
    cdp_clock_iso(now_us, ts);
    cdp_json_put_str(cdp_json_obj(cdp_json_obj(profile, "metadata"), "time"), "update", ts);
}

int cdp_profile_add_language(cJSON *profile, const char *lang)
{
    cJSON *l = cdp_json_obj(cdp_json_obj(cdp_json_obj(profile, "data"), "pii"), "language");
    cJSON *spoken = cJSON_GetObjectItemCaseSensitive(l, "spoken");
    if (!cJSON_IsArray(spoken)) {
        spoken = cJSON_CreateArray();
        cdp_json_put(l, "spoken", spoken);
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, spoken)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, lang) == 0)
            return 0;
    }
    cJSON_AddItemToArray(spoken, cJSON_CreateString(lang));
    return 1;
}
