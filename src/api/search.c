/* Searching profiles, sessions and events, as Tracardi's generic search: POST /{index}/select
 * {where, limit, start}, POST /{index}/select/range[/page/{n}] (a DatetimeRange: minDate,
 * maxDate, where, start, limit) and POST /{index}/select/histogram[?group_by=&interval=], for
 * index profile, session or event. `where` is a condition of the condition language whose
 * fields need no source (`type == "page-view"`); the store compiles it (store/query.h) and
 * evaluates in C what it cannot, so results are the evaluator's. Totals count up to 10,000
 * matches, as Elasticsearch (and so Tracardi) does by default. */
#include "api/api.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "flow/tql.h"
#include "http/http.h"
#include "store/query.h"
#include "store/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Matches counted at most (Elasticsearch's track_total_hits default). */
#define MAX_TOTAL 10000L
#define MAX_LIMIT 1000
#define MAX_START 1000000
/* Tracardi's page of /select/range/page/{n}. */
#define PAGE_SIZE 25
/* Tracardi's histograms have about this many buckets. */
#define HISTOGRAM_BUCKETS 30
#define MAX_BUCKETS       1000
#define GROUP_LIMIT       5

static const struct {
    const char *name;
    enum cdp_doc_kind kind;
} indexes[] = {
    {"profile", CDP_DOC_PROFILE},
    {"session", CDP_DOC_SESSION},
    {"event", CDP_DOC_EVENT},
};

/* The index the path names; false after replying 404. */
static bool index_of(struct cdp_http_req *req, enum cdp_doc_kind *kind)
{
    const char *name = cdp_http_param(req, 0);
    for (size_t i = 0; i < sizeof(indexes) / sizeof(indexes[0]); i++)
        if (name && strcmp(name, indexes[i].name) == 0) {
            *kind = indexes[i].kind;
            return true;
        }
    cdp_http_reply_error(req, 404, "no index `%.64s` to search (profile, session or event)",
                         name ? name : "");
    return false;
}

/* The JSON body; an empty one is {} (Tracardi's defaults). NULL after replying. */
static cJSON *body_of(struct cdp_http_req *req, struct cdp_api *api)
{
    size_t len;
    const char *body = cdp_http_body(req, &len);
    if (!body || body[strspn(body, " \t\r\n")] == '\0')
        return cJSON_CreateObject();
    cJSON *doc = cdp_api_body_json(req, api);
    if (doc && !cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        cdp_http_reply_error(req, 422, "body: expected an object");
        return NULL;
    }
    return doc;
}

/* An integer field of the body in [lo, hi] (def when missing or null); false after replying. */
static bool int_field(struct cdp_http_req *req, const cJSON *body, const char *key, long lo,
                      long hi, long def, long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key);
    *out = def;
    if (!v || cJSON_IsNull(v))
        return true;
    /* the range first: a double past long's is no integer to convert */
    if (!cJSON_IsNumber(v) || v->valuedouble < (double)lo || v->valuedouble > (double)hi ||
        v->valuedouble != (double)(long)v->valuedouble) {
        cdp_http_reply_error(req, 422, "%s: expected an integer from %ld to %ld", key, lo, hi);
        return false;
    }
    *out = (long)v->valuedouble;
    return true;
}

/* The condition of body.where for kind (NULL when there is none); false after replying 422
 * with the position and the reason of a syntax error. */
static bool where_of(struct cdp_http_req *req, const cJSON *body, enum cdp_doc_kind kind,
                     struct cdp_tql **out)
{
    *out = NULL;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(body, "where");
    if (!w || cJSON_IsNull(w))
        return true;
    if (!cJSON_IsString(w)) {
        cdp_http_reply_error(req, 422, "where: expected a condition (a string)");
        return false;
    }
    if (w->valuestring[strspn(w->valuestring, " \t\r\n")] == '\0')
        return true;
    char err[256];
    const char *source = cdp_doc_source(kind);
    int rc = cdp_tql_parse_in(w->valuestring, source, out, err, sizeof(err));
    if (rc == CDP_E_NOMEM) {
        cdp_http_reply_error(req, 500, "out of memory");
        return false;
    }
    if (rc) { /* err: "at <position>: <reason>" */
        long pos = 0;
        const char *reason = err;
        if (strncmp(err, "at ", 3) == 0) {
            char *end;
            pos = strtol(err + 3, &end, 10);
            if (strncmp(end, ": ", 2) == 0)
                reason = end + 2;
        }
        cJSON *j = cdp_json_detail("where: %s", err);
        cdp_json_put_num(j, "position", (double)pos);
        cdp_json_put_str(j, "reason", reason);
        cdp_http_reply_json(req, 422, j);
        return false;
    }
    /* Only the searched documents' fields: another source's would never be there. */
    struct cdp_query *q = NULL;
    if ((rc = cdp_query_new(&q, *out, 0, source)) || q->other_source[0]) {
        if (rc)
            cdp_http_reply_error(req, 500, "out of memory");
        else
            cdp_http_reply_error(req, 422,
                                 "where: reads %s@ fields, but a %s search reads %s documents"
                                 " (write their fields without a source)",
                                 q->other_source, source, source);
        cdp_query_free(q);
        cdp_tql_free(*out);
        *out = NULL;
        return false;
    }
    cdp_query_free(q);
    return true;
}

/* body.query_type as Tracardi's ?query_type=: only tql is spoken here. */
static bool tql_only(struct cdp_http_req *req)
{
    const char *qt = cdp_http_query(req, "query_type");
    if (qt && *qt && strcmp(qt, "tql") != 0) {
        cdp_http_reply_error(req, 422, "query_type: only tql is supported");
        return false;
    }
    return true;
}

/* Runs s and replies {total, result}. */
static void reply_search(struct cdp_http_req *req, struct cdp_api *api, const struct cdp_search *s)
{
    struct cdp_store *st = cdp_api_store(api, req);
    if (!st)
        return;
    cJSON *list = NULL;
    long total = 0;
    int rc = st->ops->search(st, s, &list, &total);
    cdp_api_store_put(api, st);
    if (rc) {
        cdp_api_reply_err(req, rc, "search");
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cdp_json_put_num(j, "total", (double)total);
    cdp_json_put(j, "result", list);
    cdp_http_reply_json(req, 200, j);
}

void cdp_api_select(struct cdp_http_req *req, void *app)
{
    enum cdp_doc_kind kind;
    if (!index_of(req, &kind) || !tql_only(req))
        return;
    cJSON *body = body_of(req, app);
    if (!body)
        return;
    struct cdp_search s = {.kind = kind, .now_us = cdp_clock_now_us(), .max_total = MAX_TOTAL};
    struct cdp_tql *where = NULL;
    long limit, start;
    if (int_field(req, body, "limit", 0, MAX_LIMIT, 20, &limit) &&
        int_field(req, body, "start", 0, MAX_START, 0, &start) &&
        where_of(req, body, kind, &where)) {
        s.where = where;
        s.limit = (int)limit;
        s.start = (int)start;
        reply_search(req, app, &s);
    }
    cdp_tql_free(where);
    cJSON_Delete(body);
}

/* --- Tracardi's DatetimeRange --- */

static const struct {
    const char *entity;
    int64_t seconds;
} delta_units[] = {
    {"second", 1},         {"minute", 60},      {"hour", 3600},
    {"day", 86400},        {"week", 7 * 86400}, {"month", 31 * 86400}, /* as Tracardi counts them */
    {"year", 365 * 86400}, /* Tracardi counts 356 days, a typo */
};

struct date {
    bool absolute; /* absolute given (and all its fields) */
    int64_t abs_us;
    bool has_delta;
    int64_t delta_us;
};

static bool fail422(struct cdp_http_req *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool fail422(struct cdp_http_req *req, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cdp_http_reply_error(req, 422, "%s", msg);
    return false;
}

/* An integer member of an absolute date in [lo, hi]; *set false when it is missing or null. */
static bool date_part(struct cdp_http_req *req, const cJSON *abs, const char *name, const char *key,
                      int lo, int hi, int *out, bool *set)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(abs, key);
    if (!v || cJSON_IsNull(v)) {
        *set = false;
        return true;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi ||
        v->valuedouble != (double)(int)v->valuedouble)
        return fail422(req, "%s.absolute.%s: expected an integer from %d to %d", name, key, lo, hi);
    *out = (int)v->valuedouble;
    return true;
}

/* minDate or maxDate; false after replying 422. */
static bool date_of(struct cdp_http_req *req, const cJSON *body, const char *name, struct date *d)
{
    memset(d, 0, sizeof(*d));
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(body, name);
    if (!o || cJSON_IsNull(o))
        return true;
    if (!cJSON_IsObject(o))
        return fail422(req, "%s: expected an object {absolute, delta}", name);
    const cJSON *abs = cJSON_GetObjectItemCaseSensitive(o, "absolute");
    const cJSON *delta = cJSON_GetObjectItemCaseSensitive(o, "delta");
    if (abs && !cJSON_IsNull(abs)) {
        if (!cJSON_IsObject(abs))
            return fail422(req, "%s.absolute: expected an object", name);
        int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
        const struct {
            const char *key;
            int lo, hi, *out;
        } parts[] = {{"year", 1, 9999, &year},   {"month", 1, 12, &month},
                     {"date", 1, 31, &day},      {"hour", 0, 23, &hour},
                     {"minute", 0, 59, &minute}, {"second", 0, 59, &second}};
        bool all = true;
        for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
            bool set = true;
            if (!date_part(req, abs, name, parts[i].key, parts[i].lo, parts[i].hi, parts[i].out,
                           &set))
                return false;
            all = all && set;
        }
        const char *mer = cdp_json_str(abs, "meridiem");
        if (mer && strcmp(mer, "AM") != 0 && strcmp(mer, "PM") != 0)
            return fail422(req, "%s.absolute.meridiem: expected \"AM\" or \"PM\"", name);
        /* Tracardi reads a date only when every part is there; else it is now. The hour is read
         * as 0-23, or as 1-12 with the meridiem when they disagree. */
        if (all && mer) {
            if (strcmp(mer, "PM") == 0 && hour >= 1 && hour <= 11)
                hour += 12;
            else if (strcmp(mer, "AM") == 0 && hour == 12)
                hour = 0;
            struct tm tm = {.tm_year = year - 1900,
                            .tm_mon = month - 1,
                            .tm_mday = day,
                            .tm_hour = hour,
                            .tm_min = minute,
                            .tm_sec = second};
            time_t t = timegm(&tm);
            if (tm.tm_mday != day)
                return fail422(req, "%s.absolute.date: %04d-%02d has no day %d", name, year, month,
                               day);
            d->absolute = true;
            d->abs_us = (int64_t)t * 1000000;
        }
    }
    if (delta && !cJSON_IsNull(delta)) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(delta, "value");
        const char *entity = cdp_json_str(delta, "entity");
        int64_t unit = 0;
        for (size_t i = 0; entity && i < sizeof(delta_units) / sizeof(delta_units[0]); i++) {
            size_t n = strlen(delta_units[i].entity);
            if (strncmp(entity, delta_units[i].entity, n) == 0 &&
                (entity[n] == '\0' || (entity[n] == 's' && entity[n + 1] == '\0')))
                unit = delta_units[i].seconds;
        }
        if (!cJSON_IsNumber(v) || v->valuedouble > 1e6 || v->valuedouble < -1e6 ||
            v->valuedouble != (double)(long)v->valuedouble)
            return fail422(req, "%s.delta.value: expected an integer", name);
        if (!unit)
            return fail422(req,
                           "%s.delta.entity: expected second, minute, hour, day, week, month"
                           " or year",
                           name);
        d->has_delta = true;
        d->delta_us = (int64_t)v->valuedouble * unit * 1000000;
    }
    return true;
}

/* The range of a DatetimeRange body, as Tracardi's get_dates: a date with a delta is anchored
 * at the other date's absolute time when that one has none, else both at now; a date with
 * neither is now. False after replying 422. */
static bool range_of(struct cdp_http_req *req, const cJSON *body, int64_t now, int64_t *from,
                     int64_t *to)
{
    struct date lo, hi;
    if (!date_of(req, body, "minDate", &lo) || !date_of(req, body, "maxDate", &hi))
        return false;
    /* "absolute" in Tracardi's sense: no delta; a date with neither is now, absolute */
    if (!lo.absolute && !lo.has_delta)
        lo.absolute = true, lo.abs_us = now;
    if (!hi.absolute && !hi.has_delta)
        hi.absolute = true, hi.abs_us = now;
    bool lo_abs = !lo.has_delta, hi_abs = !hi.has_delta;
    if (lo_abs && !hi_abs)
        hi.abs_us = lo.abs_us, hi.absolute = true;
    else if (!lo_abs && hi_abs)
        lo.abs_us = hi.abs_us, lo.absolute = true;
    else if (!lo_abs && !hi_abs)
        lo.abs_us = hi.abs_us = now, lo.absolute = hi.absolute = true;
    *from = (lo.absolute ? lo.abs_us : now) + (lo.has_delta ? lo.delta_us : 0);
    *to = (hi.absolute ? hi.abs_us : now) + (hi.has_delta ? hi.delta_us : 0);
    if (*from >= *to) {
        char a[CDP_ISO_LEN], b[CDP_ISO_LEN];
        cdp_clock_iso(*from, a);
        cdp_clock_iso(*to, b);
        return fail422(req, "Incorrect time range: minDate (%s) must be before maxDate (%s)", a, b);
    }
    return true;
}

/* The parts every ranged request shares, the condition into *where (free it); false after
 * replying. */
static bool ranged_search(struct cdp_http_req *req, const cJSON *body, enum cdp_doc_kind kind,
                          struct cdp_search *s, struct cdp_tql **where)
{
    memset(s, 0, sizeof(*s));
    *where = NULL;
    s->kind = kind;
    s->now_us = cdp_clock_now_us();
    s->ranged = true;
    s->max_total = MAX_TOTAL;
    if (!range_of(req, body, s->now_us, &s->from_us, &s->to_us) ||
        !where_of(req, body, kind, where))
        return false;
    s->where = *where;
    return true;
}

void cdp_api_select_range(struct cdp_http_req *req, void *app)
{
    enum cdp_doc_kind kind;
    if (!index_of(req, &kind) || !tql_only(req))
        return;
    cJSON *body = body_of(req, app);
    if (!body)
        return;
    struct cdp_search s;
    long limit = PAGE_SIZE, start = 0;
    const char *page = cdp_http_nparams(req) > 1 ? cdp_http_param(req, 1) : NULL;
    bool ok = true;
    if (page) {
        char *end;
        long n = strtol(page, &end, 10);
        if (!*page || *end || n < 0 || n > MAX_START / PAGE_SIZE) {
            cdp_http_reply_error(req, 422, "page: expected a page number from 0 to %d",
                                 MAX_START / PAGE_SIZE);
            ok = false;
        }
        start = n * PAGE_SIZE;
    } else {
        ok = int_field(req, body, "limit", 0, MAX_LIMIT, 20, &limit);
        /* DatetimeRange calls it offset; the generic search start */
        ok = ok && int_field(req, body, "offset", 0, MAX_START, 0, &start) &&
             (start || int_field(req, body, "start", 0, MAX_START, 0, &start));
    }
    struct cdp_tql *where = NULL;
    if (ok && ranged_search(req, body, kind, &s, &where)) {
        s.limit = (int)limit;
        s.start = (int)start;
        reply_search(req, app, &s);
    }
    cdp_tql_free(where);
    cJSON_Delete(body);
}

/* --- histograms --- */

struct unit {
    char c; /* s m h d w */
    int64_t seconds;
};

static const struct unit units[] = {
    {'w', 7 * 86400}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The interval: ?interval= ("15m", "1h", "1d", "1w", "30s"), or as Tracardi picks it, the
 * range over 30 in its largest whole unit. False after replying 422. */
static bool interval_of(struct cdp_http_req *req, int64_t from, int64_t to, long *count,
                        const struct unit **unit)
{
    const char *iv = cdp_http_query(req, "interval");
    if (iv && *iv) {
        char *end;
        long n = strtol(iv, &end, 10);
        *unit = NULL;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (end[0] == units[i].c && end[1] == '\0')
                *unit = &units[i];
        if (!*unit || n < 1 || n > 100000 || end == iv) {
            cdp_http_reply_error(req, 422,
                                 "interval: expected a number and a unit: s, m, h, d or w (15m)");
            return false;
        }
        *count = n;
        return true;
    }
    int64_t secs = (to - from) / 1000000 / HISTOGRAM_BUCKETS;
    *unit = &units[sizeof(units) / sizeof(units[0]) - 1];
    for (size_t i = 1; i < sizeof(units) / sizeof(units[0]); i++) /* d h m s, as Tracardi */
        if (secs >= units[i].seconds) {
            *unit = &units[i];
            break;
        }
    *count = secs / (*unit)->seconds;
    if (*count < 1)
        *count = 1;
    return true;
}

static void bucket_label(int64_t t_us, const struct unit *u, char *out, size_t outlen)
{
    time_t t = (time_t)floor_div(t_us, 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    switch (u->c) { /* Tracardi's formats; %M for seconds was a slip of its */
    case 'w':
    case 'd':
        snprintf(out, outlen, "%02d-%02d-%02d", tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday);
        break;
    case 'h':
        strftime(out, outlen, "%d/%m %H:%M", &tm);
        break;
    case 'm':
        strftime(out, outlen, "%H:%M", &tm);
        break;
    default:
        strftime(out, outlen, "%H:%M:%S", &tm);
    }
}

void cdp_api_select_histogram(struct cdp_http_req *req, void *app)
{
    enum cdp_doc_kind kind;
    if (!index_of(req, &kind) || !tql_only(req))
        return;
    cJSON *body = body_of(req, app);
    if (!body)
        return;
    struct cdp_search s;
    long n;
    const struct unit *u;
    const char *group_by = cdp_http_query(req, "group_by");
    if (group_by && !*group_by)
        group_by = NULL;
    if (group_by && !cdp_query_plain_path(group_by)) {
        cdp_http_reply_error(req, 422, "group_by: expected a field (letters, digits, _ and dots)");
        cJSON_Delete(body);
        return;
    }
    struct cdp_tql *where = NULL;
    bool ok = ranged_search(req, body, kind, &s, &where);
    cJSON_Delete(body);
    if (!ok)
        return;
    struct cdp_histogram h = {.group_by = group_by, .group_limit = GROUP_LIMIT};
    if (!interval_of(req, s.from_us, s.to_us, &n, &u)) {
        cdp_tql_free(where);
        return;
    }
    h.width_us = n * u->seconds * 1000000;
    int64_t first = floor_div(s.from_us, h.width_us), last = floor_div(s.to_us, h.width_us);
    if (last - first + 1 > MAX_BUCKETS) {
        cdp_http_reply_error(req, 422, "interval: %lld buckets over this range; at most %d",
                             (long long)(last - first + 1), MAX_BUCKETS);
        cdp_tql_free(where);
        return;
    }
    h.origin_us = first * h.width_us;
    h.nbuckets = (int)(last - first + 1);
    struct cdp_store *st = cdp_api_store(app, req);
    cJSON *res = NULL;
    int rc = st ? st->ops->histogram(st, &s, &h, &res) : CDP_E_UNAVAILABLE;
    if (st)
        cdp_api_store_put(app, st);
    cdp_tql_free(where);
    if (!st)
        return;
    if (rc) {
        cdp_api_reply_err(req, rc, "histogram");
        return;
    }
    /* Tracardi's shape: {total, result: [{date, interval, count, speed}], buckets: [names]} */
    char interval[32];
    snprintf(interval, sizeof(interval), "+%ld%c", n, u->c);
    cJSON *out = cJSON_CreateObject(), *result = cJSON_CreateArray(), *names = cJSON_CreateArray();
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(res, "counts");
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(res, "groups"), *g;
    for (int i = 0; i < h.nbuckets; i++) {
        char date[64], iso[CDP_ISO_LEN], speed[64];
        int64_t t = h.origin_us + i * h.width_us;
        bucket_label(t, u, date, sizeof(date));
        cdp_clock_iso(t, iso);
        cJSON *row = cJSON_CreateObject();
        cdp_json_put_str(row, "date", date);
        cdp_json_put_str(row, "time", iso);
        cdp_json_put_str(row, "interval", interval);
        if (!groups) {
            double c =
                cJSON_GetArrayItem(counts, i) ? cJSON_GetArrayItem(counts, i)->valuedouble : 0;
            cdp_json_put_num(row, "count", c);
            snprintf(speed, sizeof(speed), "%.3f/%c", c / (double)n, u->c);
            cdp_json_put_str(row, "speed", speed);
        }
        cJSON_ArrayForEach(g, groups)
        {
            const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(g, "counts"), i);
            cdp_json_put_num(row, cdp_json_str(g, "name"), c ? c->valuedouble : 0);
        }
        cJSON_AddItemToArray(result, row);
    }
    if (groups)
        cJSON_ArrayForEach(g, groups)
        {
            cJSON_AddItemToArray(names, cJSON_CreateString(cdp_json_str(g, "name")));
        }
    else
        cJSON_AddItemToArray(names, cJSON_CreateString("count"));
    const cJSON *total = cJSON_GetObjectItemCaseSensitive(res, "total");
    cdp_json_put_num(out, "total", total ? total->valuedouble : 0);
    cdp_json_put(out, "result", result);
    cdp_json_put(out, "buckets", names);
    cJSON_Delete(res);
    cdp_http_reply_json(req, 200, out);
}
