/* Event defaults and type naming. */
#include "model/event.h"
#include "core/clock.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

size_t cdp_event_type_slug(const char *in, char *out, size_t outlen)
{
    while (isspace((unsigned char)*in))
        in++;
    size_t n = strlen(in);
    while (n && isspace((unsigned char)in[n - 1]))
        n--;
    if (n == 0 || n >= outlen)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        out[i] = c == ' ' ? '-' : (char)tolower(c);
    }
    out[n] = '\0';
    return n;
}

void cdp_event_type_name(const char *slug, char *out, size_t outlen)
{
    size_t o = 0;
    bool word_start = true;
    for (const char *p = slug; *p && o + 1 < outlen; p++) {
        if (*p == '-' || *p == '_') {
            out[o++] = ' ';
            word_start = true;
        } else {
            out[o++] = word_start ? (char)toupper((unsigned char)*p) : *p;
            word_start = false;
        }
    }
    out[o] = '\0';
}

cJSON *cdp_event_new(const char *id, const char *slug, int64_t now_us)
{
    char ts[CDP_ISO_LEN], name[CDP_EVENT_TYPE_MAX];
    cdp_clock_iso(now_us, ts);
    cdp_event_type_name(slug, name, sizeof(name));
    cJSON *e = cJSON_CreateObject();
    if (!e)
        return NULL;
    cJSON_AddStringToObject(e, "id", id);
    cJSON_AddStringToObject(e, "name", name);
    cJSON_AddStringToObject(e, "type", slug);
    cJSON *md = cJSON_AddObjectToObject(e, "metadata");
    cJSON *t = cJSON_AddObjectToObject(md, "time");
    cJSON_AddStringToObject(t, "insert", ts);
    cJSON_AddNullToObject(t, "create");
    cJSON_AddNullToObject(t, "update");
    cJSON_AddNumberToObject(t, "process_time", 0);
    cJSON_AddNullToObject(t, "total_time");
    cJSON_AddNullToObject(md, "ip");
    cJSON_AddStringToObject(md, "status", "collected");
    cJSON_AddNullToObject(md, "channel");
    cJSON *pb = cJSON_AddObjectToObject(md, "processed_by");
    cJSON_AddArrayToObject(pb, "rules");
    cJSON_AddArrayToObject(pb, "flows");
    cJSON_AddArrayToObject(pb, "third_party");
    cJSON_AddBoolToObject(md, "profile_less", 0);
    cJSON_AddBoolToObject(md, "debug", 0);
    cJSON_AddBoolToObject(md, "valid", 1);
    cJSON_AddBoolToObject(md, "error", 0);
    cJSON_AddBoolToObject(md, "warning", 0);
    cJSON_AddBoolToObject(md, "merge", 0);
    cJSON_AddObjectToObject(md, "aux");
    cJSON_AddObjectToObject(e, "source");
    cJSON_AddNullToObject(e, "session");
    cJSON_AddNullToObject(e, "profile");
    cJSON_AddObjectToObject(e, "properties");
    cJSON_AddObjectToObject(e, "traits");
    cJSON_AddObjectToObject(e, "context");
    cJSON_AddObjectToObject(e, "config");
    cJSON *tags = cJSON_AddObjectToObject(e, "tags");
    cJSON_AddArrayToObject(tags, "values");
    cJSON_AddNumberToObject(tags, "count", 0);
    cJSON_AddNullToObject(cJSON_AddObjectToObject(e, "journey"), "state");
    cJSON_AddObjectToObject(e, "os");
    cJSON_AddObjectToObject(e, "app");
    cJSON_AddObjectToObject(e, "device");
    cJSON_AddObjectToObject(e, "hit");
    cJSON_AddObjectToObject(e, "utm");
    cJSON_AddObjectToObject(e, "data");
    cJSON_AddObjectToObject(e, "aux");
    return e;
}
