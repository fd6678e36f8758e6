/* Session defaults and time keeping. */
#include "model/session.h"
#include "core/clock.h"
#include "core/json.h"

cJSON *cdp_session_new(const char *id, const char *profile_id, int64_t now_us, const char *channel)
{
    char ts[CDP_ISO_LEN];
    cdp_clock_iso(now_us, ts);
    cJSON *s = cJSON_CreateObject();
    if (!s)
        return NULL;
    cJSON_AddStringToObject(s, "id", id);
    cJSON *md = cJSON_AddObjectToObject(s, "metadata");
    cJSON *t = cJSON_AddObjectToObject(md, "time");
    cJSON_AddStringToObject(t, "insert", ts);
    cJSON_AddStringToObject(t, "create", ts);
    cJSON_AddStringToObject(t, "update", ts);
    cJSON_AddNumberToObject(t, "timestamp", (double)now_us / 1e6);
    cJSON_AddNumberToObject(t, "duration", 0);
    cJSON_AddNumberToObject(t, "weekday", cdp_clock_weekday(now_us));
    if (channel)
        cJSON_AddStringToObject(md, "channel", channel);
    else
        cJSON_AddNullToObject(md, "channel");
    cJSON_AddObjectToObject(md, "aux");
    cJSON_AddStringToObject(md, "status", "started");
    cJSON *p = cJSON_AddObjectToObject(s, "profile");
    if (profile_id)
        cJSON_AddStringToObject(p, "id", profile_id);
    else
        cJSON_AddNullToObject(p, "id");
    cJSON_AddObjectToObject(s, "device");
    cJSON_AddObjectToObject(s, "os");
    cJSON_AddObjectToObject(s, "app");
    cJSON_AddObjectToObject(s, "utm");
    cJSON_AddObjectToObject(s, "context");
    cJSON_AddObjectToObject(s, "properties");
    cJSON_AddObjectToObject(s, "traits");
    cJSON_AddObjectToObject(s, "aux");
    return s;
}

void cdp_session_touch(cJSON *session, int64_t now_us)
{
    char ts[CDP_ISO_LEN];
    cdp_clock_iso(now_us, ts);
    cJSON *md = cdp_json_obj(session, "metadata");
    cJSON *t = cdp_json_obj(md, "time");
    cdp_json_put_str(t, "update", ts);
    const char *ins = cdp_json_str(t, "insert");
    int64_t t0;
    if (ins && cdp_clock_parse_iso(ins, &t0) == 0 && now_us >= t0)
        cdp_json_put_num(t, "duration", (double)((now_us - t0) / 1000) / 1000.0);
    cdp_json_put_str(md, "status", "active");
}

void cdp_session_set_profile(cJSON *session, const char *profile_id)
{
    cdp_json_put_str(cdp_json_obj(session, "profile"), "id", profile_id);
}
