/* The dashboard's counters, on Tracardi's paths: GET /profile/count, /event/count,
 * /session/count ({"count": n}), and counts by value, most first, as [{"name": value,
 * "value": n}]: /events/by_type, by_source (named by the event source), by_tag, by_status,
 * by_channel, by_os_name, by_device_geo, and /sessions/count/by_os_name, by_device_geo,
 * by_channel, by_app, by_resolution. Each takes an optional time range, ?from= and ?to= (ISO
 * 8601 or seconds since 1970), over the documents' time (store/query.h). */
#include "api/api.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "http/http.h"
#include "store/query.h"
#include "store/store.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *path;
    enum cdp_doc_kind kind;
} counts[] = {
    {"/profile/count", CDP_DOC_PROFILE},
    {"/event/count", CDP_DOC_EVENT},
    {"/session/count", CDP_DOC_SESSION},
};

/* Tracardi's fields and bucket sizes. */
static const struct {
    const char *path;
    enum cdp_doc_kind kind;
    const char *field;
    int limit;
} by_value[] = {
    {"/events/by_type", CDP_DOC_EVENT, "type", 15},
    {"/events/by_source", CDP_DOC_EVENT, "source.id", 15},
    {"/events/by_tag", CDP_DOC_EVENT, "tags.values", 15},
    {"/events/by_status", CDP_DOC_EVENT, "metadata.status", 15},
    {"/events/by_channel", CDP_DOC_EVENT, "metadata.channel", 15},
    {"/events/by_os_name", CDP_DOC_EVENT, "os.name", 15},
    {"/events/by_device_geo", CDP_DOC_EVENT, "device.geo.country.name", 15},
    {"/sessions/count/by_os_name", CDP_DOC_SESSION, "os.name", 20},
    {"/sessions/count/by_device_geo", CDP_DOC_SESSION, "device.geo.country.name", 20},
    {"/sessions/count/by_channel", CDP_DOC_SESSION, "metadata.channel", 20},
    {"/sessions/count/by_app", CDP_DOC_SESSION, "app.name", 20},
    {"/sessions/count/by_resolution", CDP_DOC_SESSION, "device.resolution", 20},
};

/* A time of ?from= / ?to=: seconds since 1970 or ISO 8601. */
static bool time_of(const char *v, int64_t *us)
{
    char *end;
    long long secs = strtoll(v, &end, 10);
    if (*v && !*end && secs > -100000000000LL && secs < 100000000000LL) {
        *us = (int64_t)secs * 1000000;
        return true;
    }
    return cdp_clock_parse_iso(v, us) == 0;
}

/* The search every counter runs: kind, ranged by ?from= and ?to= when given. False after
 * replying 422. */
static bool search_of(struct cdp_http_req *req, enum cdp_doc_kind kind, struct cdp_search *s)
{
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->now_us = cdp_clock_now_us();
    const char *from = cdp_http_query(req, "from"), *to = cdp_http_query(req, "to");
    if ((!from || !*from) && (!to || !*to))
        return true;
    s->ranged = true;
    s->from_us = INT64_MIN / 2;
    s->to_us = s->now_us;
    if (from && *from && !time_of(from, &s->from_us)) {
        cdp_http_reply_error(req, 422, "from: expected seconds since 1970 or an ISO 8601 time");
        return false;
    }
    if (to && *to && !time_of(to, &s->to_us)) {
        cdp_http_reply_error(req, 422, "to: expected seconds since 1970 or an ISO 8601 time");
        return false;
    }
    if (s->from_us > s->to_us) {
        cdp_http_reply_error(req, 422, "from: must not be after to");
        return false;
    }
    return true;
}

void cdp_api_dashboard_count(struct cdp_http_req *req, void *app)
{
    const char *path = cdp_http_path(req);
    size_t i = 0;
    while (i < sizeof(counts) / sizeof(counts[0]) - 1 && strcmp(path, counts[i].path) != 0)
        i++;
    struct cdp_search s;
    if (!search_of(req, counts[i].kind, &s))
        return;
    struct cdp_store *st = cdp_api_store(app, req);
    if (!st)
        return;
    cJSON *none = NULL;
    long total = 0;
    int rc = st->ops->search(st, &s, &none, &total);
    cdp_api_store_put(app, st);
    cJSON_Delete(none);
    if (rc) {
        cdp_api_reply_err(req, rc, "count");
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cdp_json_put_num(j, "count", (double)total);
    cdp_http_reply_json(req, 200, j);
}

/* Names each {name: source id} of list by its event source, keeping the id as "id". */
static void name_sources(struct cdp_store *st, cJSON *list)
{
    cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
        const char *id = cdp_json_str(e, "name");
        cJSON *src = NULL;
        if (!id || st->ops->entity_get(st, "event-source", id, &src))
            continue;
        const char *name = cdp_json_str(src, "name");
        cdp_json_put_str(e, "id", id);
        if (name && *name)
            cdp_json_put_str(e, "name", name);
        cJSON_Delete(src);
    }
}

void cdp_api_dashboard_by_value(struct cdp_http_req *req, void *app)
{
    const char *path = cdp_http_path(req);
    size_t i = 0;
    while (i < sizeof(by_value) / sizeof(by_value[0]) - 1 && strcmp(path, by_value[i].path) != 0)
        i++;
    struct cdp_search s;
    if (!search_of(req, by_value[i].kind, &s))
        return;
    struct cdp_store *st = cdp_api_store(app, req);
    if (!st)
        return;
    cJSON *list = NULL;
    int rc = st->ops->terms(st, &s, by_value[i].field, by_value[i].limit, &list);
    if (!rc && strcmp(by_value[i].field, "source.id") == 0)
        name_sources(st, list);
    cdp_api_store_put(app, st);
    if (rc)
        cdp_api_reply_err(req, rc, "counts");
    else
        cdp_http_reply_json(req, 200, list);
}
