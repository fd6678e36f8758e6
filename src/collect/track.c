/* One collection request: source check, profile and session resolution (tracardi-api.md §1.6),
 * enrichment, system events, events, the flows the rules route them to, writes, and Tracardi's
 * response. Runs on the pipeline thread inside the batch transaction, so a request sees the
 * writes of those before it. Nothing is written before the flows end: a flow that waits (a
 * remote call, a sleep) parks the request with its documents, and the ids of its profile and
 * session stay busy until it is done, so requests for them wait instead of reading stale
 * copies (cdp_track_run, CDP_TRACK_DEFER). */
#include "collect/enrich.h"
#include "collect/hotcache.h"
#include "collect/identity.h"
#include "collect/pipeline.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/id.h"
#include "core/json.h"
#include "core/metrics.h"
#include "flow/engine.h"
#include "flow/segment.h"
#include "model/consent.h"
#include "model/event.h"
#include "model/event_types.h"
#include "model/merge.h"
#include "model/profile.h"
#include "model/session.h"
#include "model/source.h"
#include "store/store.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tevent {
    cJSON *doc;
    bool save; /* the event's options.save */
};

/* A flow to run: for which event, which plan, which rule sent it there. */
struct work {
    int event;
    struct cdp_flow_plan *plan; /* a reference of our own */
    char *rule;
};

struct track {
    struct cdp_track_env *env;
    struct cdp_job *job;
    const cJSON *source; /* only until the flows start: the source cache may be dropped */
    int64_t now;
    cJSON *profile; /* NULL when profile-less */
    cJSON *session;
    bool new_profile, new_session, count_visit, profile_changed;
    bool session_changed; /* beyond its activity times, which may be written later */
    bool save_session, save_events, save_profile;
    cJSON *event_ids;
    struct tevent *events;
    int nevents;
    struct work *work;
    int nwork, wi;
    struct cdp_flow_run *run; /* of work[wi] */
    struct cdp_flow_ctx fctx; /* response, ux, logs and merge span all flows of the request */
    cJSON *errors, *warnings;
    char *busy[2];  /* ids marked busy while parked */
    int ids_loaded; /* how many ids the profile had when loaded: more means look for merges */
};

#define FAIL(job, code, ...)                                                                       \
    do {                                                                                           \
        (job)->status = (code);                                                                    \
        (job)->reply = cdp_json_detail(__VA_ARGS__);                                               \
    } while (0)

/* A trimmed copy of a string field at path, or "" when absent. */
static void trimmed(const cJSON *obj, const char *path, char *out, size_t n)
{
    const char *s = cdp_json_str(obj, path);
    out[0] = '\0';
    if (!s)
        return;
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    if (len >= n)
        len = n - 1;
    memcpy(out, s, len);
    out[len] = '\0';
}

/* A document from the hot cache, else from the store; *out is NULL when there is none. */
static int load(struct cdp_store *s, struct cdp_hotcache *hot,
                int (*get)(struct cdp_store *, const char *, cJSON **), const char *id, cJSON **out)
{
    if ((*out = cdp_hotcache_take(hot, id)))
        return 0;
    int rc = get(s, id, out);
    return rc == CDP_E_NOT_FOUND ? 0 : rc;
}

static int new_profile(struct track *t)
{
    char id[CDP_UUID_LEN];
    cdp_id_uuid7(id); /* time-ordered: appended to the store's indexes, not scattered */
    t->profile = cdp_profile_new(id, t->now);
    t->new_profile = true;
    return t->profile ? 0 : CDP_E_NOMEM;
}

/* The table of §1.6: which session and profile this request belongs to. */
static int resolve(struct track *t, const char *session_id, const char *profile_id)
{
    struct cdp_store *s = t->env->store;
    const struct cdp_store_ops *ops = s->ops;
    int rc;
    if (*session_id && (rc = load(s, t->env->sessions, ops->session_get, session_id, &t->session)))
        return rc;
    if (t->session) {
        if (t->job->profile_less)
            return 0;
        const char *pid = cdp_json_str(t->session, "profile.id");
        if (cdp_busy_has(t->env->busy, pid)) { /* its profile's flows wait: our turn comes */
            cdp_hotcache_put_dirty(t->env->sessions, session_id, t->session, cdp_clock_mono());
            t->session = NULL;
            return CDP_TRACK_DEFER;
        }
        if (pid && (rc = load(s, t->env->profiles, ops->profile_get, pid, &t->profile)))
            return rc;
        if (!t->profile && (rc = new_profile(t)))
            return rc;
        const char *now_pid = cdp_json_str(t->profile, "id");
        if (!pid || strcmp(pid, now_pid) != 0) { /* merged away or never set: re-point */
            cdp_session_set_profile(t->session, now_pid);
            t->session_changed = true;
        }
        return 0;
    }
    char sid[CDP_UUID_LEN];
    if (!*session_id)
        cdp_id_uuid4(sid);
    const char *channel = cdp_json_str(t->source, "channel");
    t->session = cdp_session_new(*session_id ? session_id : sid, NULL, t->now, channel);
    if (!t->session)
        return CDP_E_NOMEM;
    t->new_session = true;
    t->count_visit = true;
    if (t->job->profile_less)
        return 0;
    if (*profile_id && (rc = load(s, t->env->profiles, ops->profile_get, profile_id, &t->profile)))
        return rc;
    const char *primary = t->profile ? cdp_json_str(t->profile, "id") : NULL;
    if (primary && cdp_busy_has(t->env->busy, primary)) { /* found by another of its ids */
        cdp_hotcache_put(t->env->profiles, primary, t->profile);
        t->profile = NULL;
        return CDP_TRACK_DEFER;
    }
    if (t->profile && !*session_id)
        t->count_visit = false; /* an artificial session of a known profile is not a visit */
    if (!t->profile && (rc = new_profile(t)))
        return rc;
    cdp_session_set_profile(t->session, cdp_json_str(t->profile, "id"));
    return 0;
}

static void add_tags(cJSON *event, const cJSON *tags)
{
    cJSON *values = cJSON_Duplicate(cJSON_IsArray(tags) ? tags : NULL, true);
    if (!values)
        values = cJSON_CreateArray();
    cJSON *tg = cdp_json_obj(event, "tags");
    cdp_json_put_num(tg, "count", cJSON_GetArraySize(values));
    cdp_json_put(tg, "values", values);
}

/* Builds an event with the fields every event of this request shares. */
static cJSON *event_base(struct track *t, const char *id, const char *type, const char *source_id)
{
    cJSON *e = cdp_event_new(id, type, t->now);
    if (!e)
        return NULL;
    cJSON *md = cJSON_GetObjectItemCaseSensitive(e, "metadata");
    cdp_json_put_str(md, "ip", t->job->ip);
    const char *channel = cdp_json_str(t->source, "channel");
    cdp_json_put_str(md, "channel", channel && *channel ? channel : NULL);
    cdp_json_put_bool(md, "profile_less", t->job->profile_less);
    cdp_json_put_str(cdp_json_obj(e, "source"), "id", source_id);
    if (t->save_session && t->session) {
        cJSON *se = cJSON_CreateObject();
        cJSON_AddStringToObject(se, "id", cdp_json_str(t->session, "id"));
        cdp_json_put(se, "start",
                     cJSON_Duplicate(cdp_json_get(t->session, "metadata.time.insert"), false));
        cdp_json_put(se, "duration",
                     cJSON_Duplicate(cdp_json_get(t->session, "metadata.time.duration"), false));
        const char *tz = cdp_json_str(t->job->payload, "context.time.tz");
        cdp_json_put_str(se, "tz", tz);
        cdp_json_put(e, "session", se);
    }
    if (t->save_profile && t->profile) {
        cJSON *pr = cJSON_CreateObject();
        cJSON_AddStringToObject(pr, "id", cdp_json_str(t->profile, "id"));
        cdp_json_put(e, "profile", pr);
    }
    return e;
}

/* Keeps an event for the flows and for writing at the end (save: its options.save). */
static int add_event(struct track *t, cJSON *e, bool save)
{
    struct tevent *more = realloc(t->events, (size_t)(t->nevents + 1) * sizeof(*more));
    if (!more) {
        cJSON_Delete(e);
        return CDP_E_NOMEM;
    }
    t->events = more;
    t->events[t->nevents++] = (struct tevent){.doc = e, .save = save};
    cJSON_AddItemToArray(t->event_ids, cJSON_CreateString(cdp_json_str(e, "id")));
    return 0;
}

static int system_event(struct track *t, const char *type)
{
    char id[CDP_UUID_LEN];
    cdp_id_uuid7(id);
    cJSON *e = event_base(t, id, type, CDP_INTERNAL_SOURCE);
    if (!e)
        return CDP_E_NOMEM;
    cJSON *tags = cJSON_CreateArray();
    cJSON_AddItemToArray(tags, cJSON_CreateString("system"));
    add_tags(e, tags);
    cJSON_Delete(tags);
    cdp_enrich_event(e, t->session);
    return add_event(t, e, true);
}

static int payload_event(struct track *t, const cJSON *pe, const char *source_id)
{
    char id[CDP_UUID_LEN];
    const char *given = cdp_json_str(pe, "id");
    if (!given || !*given) {
        cdp_id_uuid7(id);
        given = id;
    }
    cJSON *e = event_base(t, given, cdp_json_str(pe, "type"), source_id);
    if (!e)
        return CDP_E_NOMEM;
    static const char *const copied[] = {"properties", "context", NULL};
    for (int i = 0; copied[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(pe, copied[i]);
        if (cJSON_IsObject(v))
            cdp_json_put(e, copied[i], cdp_json_borrow(v));
    }
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(pe, "options");
    if (cJSON_IsObject(opts))
        cdp_json_put(e, "config", cdp_json_borrow(opts));
    add_tags(e, cJSON_GetObjectItemCaseSensitive(pe, "tags"));
    cJSON *tm = cdp_json_get(e, "metadata.time");
    const char *ins = cdp_json_str(pe, "time.insert");
    int64_t t_us;
    if (ins && cdp_clock_parse_iso(ins, &t_us) == 0)
        cdp_json_put_str(tm, "insert", ins);
    const cJSON *created = cdp_json_get(pe, "time.create");
    if (cJSON_IsString(created) || cJSON_IsNumber(created))
        cdp_json_put(tm, "create", cJSON_Duplicate(created, false));
    cJSON *req = cdp_json_obj(e, "request");
    if (t->job->headers)
        cdp_json_put(req, "headers", cdp_json_borrow(t->job->headers));
    cdp_enrich_event(e, t->session);
    return add_event(t, e, cdp_json_flag(opts, "save", true));
}

static const cJSON *ua_fields(struct cdp_track_env *env, const char *ua)
{
    if (!ua || !*ua || !env->ua)
        return NULL;
    const cJSON *f = cdp_hotcache_peek(env->agents, ua);
    if (!f) {
        cJSON *parsed = cdp_enrich_ua_fields(env->ua, ua);
        cdp_hotcache_put(env->agents, ua, parsed);
        f = parsed;
    }
    return f;
}

static void update_session(struct track *t, cJSON *ctx)
{
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(t->job->payload, "properties");
    if (t->new_session) {
        const char *ua = cdp_json_str(ctx, "browser.local.browser.userAgent");
        if (!ua)
            ua = t->job->user_agent;
        cdp_enrich_session(t->session, ctx, ua_fields(t->env, ua), t->job->ip);
    } else {
        cdp_session_touch(t->session, t->now);
        cdp_enrich_strip_context(ctx);
    }
    cJSON *sctx = cdp_json_obj(t->session, "context");
    const char *ip = cdp_json_str(sctx, "ip");
    if (*t->job->ip && (!ip || strcmp(ip, t->job->ip) != 0)) {
        cdp_json_put_str(sctx, "ip", t->job->ip);
        t->session_changed = true;
    }
    if (cJSON_IsObject(ctx) && cdp_json_merge(sctx, ctx))
        t->session_changed = true;
    if (cJSON_IsObject(props) && cdp_json_merge(cdp_json_obj(t->session, "properties"), props))
        t->session_changed = true;
}

static void update_profile(struct track *t, const cJSON *ctx)
{
    if (!t->profile)
        return;
    const char *tz = cdp_json_str(ctx, "time.tz");
    if (t->new_session && t->count_visit) {
        cdp_profile_count_visit(t->profile, t->now, tz);
        t->profile_changed = true;
    }
    const char *lang = cdp_json_str(ctx, "browser.local.browser.language");
    if (t->new_session && lang && cdp_profile_add_language(t->profile, lang))
        t->profile_changed = true;
    const cJSON *geo = cdp_json_get(t->session, "device.geo");
    if (t->new_session && cJSON_IsObject(geo)) {
        cdp_json_set(t->profile, "data.devices.last.geo", cJSON_Duplicate(geo, true));
        t->profile_changed = true;
    }
    if (t->profile_changed)
        cdp_profile_touch(t->profile, t->now);
}

static cJSON *take_or(cJSON **slot, bool array)
{
    cJSON *v = *slot;
    *slot = NULL;
    return v ? v : array ? cJSON_CreateArray() : cJSON_CreateObject();
}

static cJSON *response(struct track *t, const cJSON *opts)
{
    cJSON *r = cJSON_CreateObject();
    char task[CDP_UUID_LEN];
    cdp_id_uuid4(task);
    cJSON_AddStringToObject(r, "task", task);
    cJSON_AddItemToObject(r, "ux", take_or(&t->fctx.ux, true));
    cJSON_AddItemToObject(r, "response", take_or(&t->fctx.response, false));
    if (cdp_json_flag(opts, "debugger", false)) {
        cJSON_AddItemToObject(r, "events", t->event_ids);
        t->event_ids = NULL;
    } else {
        cJSON_AddArrayToObject(r, "events");
    }
    cJSON *p = cJSON_AddObjectToObject(r, "profile");
    cdp_json_put_str(p, "id", t->profile ? cdp_json_str(t->profile, "id") : NULL);
    cJSON *s = cJSON_AddObjectToObject(r, "session");
    cdp_json_put_str(s, "id", t->session ? cdp_json_str(t->session, "id") : NULL);
    cJSON_AddItemToObject(r, "errors", take_or(&t->errors, true));
    cJSON_AddItemToObject(r, "warnings", take_or(&t->warnings, true));
    return r;
}

/* POST /customer/consent's answer: the profile and the consents it now holds. */
static cJSON *consent_reply(struct track *t)
{
    cJSON *r = cJSON_CreateObject();
    cdp_json_put_str(cdp_json_obj(r, "profile"), "id", cdp_json_str(t->profile, "id"));
    const cJSON *held = cJSON_GetObjectItemCaseSensitive(t->profile, "consents");
    cdp_json_put(r, "consents", held ? cJSON_Duplicate(held, true) : cJSON_CreateObject());
    return r;
}

void cdp_track_free(struct track *t)
{
    if (!t)
        return;
    for (int i = 0; i < 2; i++)
        if (t->busy[i]) {
            cdp_busy_del(t->env->busy, t->busy[i]);
            free(t->busy[i]);
        }
    cdp_flow_run_free(t->run);
    for (int i = 0; i < t->nwork; i++) {
        cdp_flow_plan_unref(t->work[i].plan);
        free(t->work[i].rule);
    }
    free(t->work);
    for (int i = 0; i < t->nevents; i++)
        cJSON_Delete(t->events[i].doc);
    free(t->events);
    cJSON_Delete(t->fctx.response);
    cJSON_Delete(t->fctx.ux);
    cJSON_Delete(t->fctx.logs);
    cJSON_Delete(t->fctx.merge);
    cJSON_Delete(t->errors);
    cJSON_Delete(t->warnings);
    cJSON_Delete(t->event_ids);
    cJSON_Delete(t->profile);
    cJSON_Delete(t->session);
    free(t);
}

/* Whether an event is valid (not refused by a validator or a consent update). */
static bool is_valid(const cJSON *e)
{
    return cdp_json_flag(cdp_json_get(e, "metadata"), "valid", true);
}

/* Marks an event invalid: stored with the reason, neither mapped nor routed, and the reply's
 * warnings say why. */
static void invalidate(struct track *t, cJSON *e, const char *why)
{
    cJSON *md = cdp_json_obj(e, "metadata");
    cdp_json_put_bool(md, "valid", false);
    cdp_json_put_str(md, "error", why);
    cJSON_AddItemToArray(t->warnings, cJSON_CreateString(why));
}

/* Before validation: the first enabled reshaping schema of a payload event's type and source
 * rewrites its properties and context, and may replace the session's context
 * (cdp_routing_reshape); then every event gets its built-in type's copies into its data and hit
 * (cdp_event_type_copy), so validators, mappings and flows see the final shape. */
static int reshape(struct track *t)
{
    for (int i = 0; i < t->nevents; i++) {
        cJSON *e = t->events[i].doc;
        const char *src = cdp_json_str(e, "source.id");
        bool session_changed = false;
        int rc = 0;
        if (!src || strcmp(src, CDP_INTERNAL_SOURCE) != 0) /* system events are ours */
            rc = cdp_routing_reshape(t->env->routing, t->env->store, e, t->session,
                                     &session_changed);
        if (rc >= 0)
            rc = cdp_event_type_copy(e);
        if (rc < 0)
            return rc;
        if (session_changed)
            t->session_changed = true;
    }
    return 0;
}

/* Event validation: an event whose properties fail a validator of its type is stored with
 * metadata.valid false and the reason in metadata.error, is not routed, and the reply's warnings
 * say why. */
static int validate(struct track *t)
{
    for (int i = 0; i < t->nevents; i++) {
        cJSON *e = t->events[i].doc;
        char why[600];
        int rc = cdp_routing_validate(t->env->routing, t->env->store, e, why, sizeof(why));
        if (rc < 0)
            return rc;
        if (rc)
            invalidate(t, e, why);
    }
    return 0;
}

/* Tracardi's consent-update events: properties.consents ({type id: true | false}) and
 * properties.all change profile.consents before the flows run. An update naming an unknown,
 * disabled or unrevokable consent makes the event invalid (so it is not routed) with a warning;
 * for POST /customer/consent it refuses the request (403). */
static int consent_updates(struct track *t)
{
    for (int i = 0; i < t->nevents; i++) {
        cJSON *e = t->events[i].doc;
        const char *type = cdp_json_str(e, "type");
        if (!type || strcmp(type, "consent-update") != 0 || !is_valid(e))
            continue;
        char err[300];
        int rc = CDP_E_INVALID;
        const cJSON *types;
        if (!t->profile) {
            snprintf(err, sizeof(err), "a consent update needs a profile");
        } else if ((rc = cdp_routing_consent_types(t->env->routing, t->env->store, &types))) {
            return rc;
        } else {
            rc = cdp_consent_apply(t->profile, types, cdp_json_get(e, "properties.consents"),
                                   cdp_json_flag(cdp_json_get(e, "properties"), "all", false),
                                   t->now, err, sizeof(err));
        }
        if (rc == 1)
            t->profile_changed = true;
        if (rc >= 0)
            continue;
        if (rc == CDP_E_NOMEM)
            return rc;
        if (t->job->consent) {
            FAIL(t->job, rc == CDP_E_FORBIDDEN ? 403 : 422, "%s", err);
            return CDP_E_FORBIDDEN;
        }
        invalidate(t, e, err);
    }
    return 0;
}

/* The profile operations of every valid event, before the flows see the profile: first those of
 * its built-in event type (model/event_types.h), then the user's event-to-profile mappings. */
static int map_events(struct track *t)
{
    for (int i = 0; t->profile && i < t->nevents; i++) {
        const cJSON *e = t->events[i].doc;
        if (!is_valid(e))
            continue;
        int rc = cdp_event_type_apply(e, t->profile, t->now);
        if (rc < 0)
            return rc;
        if (rc)
            t->profile_changed = true;
        rc = cdp_routing_map(t->env->routing, t->env->store, e, t->profile, t->session, t->now);
        if (rc < 0)
            return rc;
        if (rc)
            t->profile_changed = true;
    }
    return 0;
}

/* Most flows one event runs; more matching rules are reported as a warning. */
#define MAX_FLOWS 32

/* The flows of every valid event, in event order and, per event, in rule order. (Events borrow
 * parts of the payload; a flow that writes an event gets copies first, flow/call.c.) */
static int route(struct track *t, const char *source_id)
{
    struct cdp_track_env *env = t->env;
    for (int i = 0; i < t->nevents; i++) {
        cJSON *e = t->events[i].doc;
        if (!is_valid(e))
            continue; /* invalid events are not routed */
        struct cdp_route_hit hits[MAX_FLOWS];
        const char *src = cdp_json_str(e, "source.id");
        int n = cdp_routing_match(env->routing, env->store, cdp_json_str(e, "type"),
                                  src ? src : source_id, t->profile, t->now, hits, MAX_FLOWS,
                                  t->warnings);
        if (n < 0)
            return n;
        if (n == 0)
            continue;
        if (n == MAX_FLOWS)
            cJSON_AddItemToArray(t->warnings,
                                 cJSON_CreateString("an event runs at most 32 flows; the rules "
                                                    "after the 32nd (by name) were skipped"));
        struct work *more = realloc(t->work, (size_t)(t->nwork + n) * sizeof(*more));
        if (!more)
            return CDP_E_NOMEM;
        t->work = more;
        for (int k = 0; k < n; k++)
            t->work[t->nwork++] = (struct work){
                .event = i, .plan = cdp_flow_plan_ref(hits[k].plan), .rule = strdup(hits[k].rule)};
    }
    return 0;
}

/* Notes on the event which rules and flows processed it (Tracardi's metadata.processed_by). */
static void processed_by(cJSON *e, const struct work *w)
{
    cJSON *pb = cdp_json_obj(cdp_json_obj(e, "metadata"), "processed_by");
    cJSON *rules = cdp_json_get(pb, "rules"), *flows = cdp_json_get(pb, "flows");
    if (!cJSON_IsArray(rules))
        cdp_json_put(pb, "rules", rules = cJSON_CreateArray());
    if (!cJSON_IsArray(flows))
        cdp_json_put(pb, "flows", flows = cJSON_CreateArray());
    cJSON_AddItemToArray(rules, cJSON_CreateString(w->rule ? w->rule : ""));
    cJSON_AddItemToArray(flows, cJSON_CreateString(cdp_flow_plan_id(w->plan)));
    cdp_json_put_str(cdp_json_obj(e, "metadata"), "status", "processed");
}

/* Runs the flows from where they stand: 0 when all are done, CDP_FLOW_WAIT when one waits.
 * A failing flow only adds its error (§4.4); the others still run. */
static int run_flows(struct track *t)
{
    for (; t->wi < t->nwork; t->wi++) {
        struct work *w = &t->work[t->wi];
        cJSON *e = t->events[w->event].doc;
        if (!t->run) {
            t->fctx.event = e;
            t->fctx.profile = t->profile;
            t->fctx.session = t->session;
            t->run = cdp_flow_run_new(w->plan, &t->fctx,
                                      (int64_t)t->env->cfg->flow_timeout_ms * 1000, false);
            if (!t->run)
                return CDP_E_NOMEM;
            processed_by(e, w);
        } else if (t->job->outcome) {
            cdp_flow_run_resume(t->run, t->job->outcome);
            t->job->outcome = NULL;
        }
        int rc = cdp_flow_run_step(t->run);
        if (rc == CDP_FLOW_WAIT)
            return rc;
        if (rc == CDP_E_NOMEM)
            return rc;
        cdp_metric_add(CDP_METRIC_FLOWS, 1);
        if (rc) {
            cdp_metric_add(CDP_METRIC_FLOW_ERRORS, 1);
            const char *why = cdp_flow_run_error(t->run);
            cJSON_AddItemToArray(t->errors, cJSON_CreateString(why));
            cdp_json_put_bool(cdp_json_obj(e, "metadata"), "error", true);
            /* the message stays with the event, for whoever looks at it later (the GUI) */
            cJSON *pb = cdp_json_obj(cdp_json_obj(e, "metadata"), "processed_by");
            cJSON *errs = cdp_json_get(pb, "errors");
            if (!cJSON_IsArray(errs))
                cdp_json_put(pb, "errors", errs = cJSON_CreateArray());
            cJSON *one = cJSON_CreateObject();
            cJSON_AddStringToObject(one, "flow", cdp_flow_plan_id(w->plan));
            cJSON_AddStringToObject(one, "rule", w->rule ? w->rule : "");
            cJSON_AddStringToObject(one, "message", why);
            cJSON_AddItemToArray(errs, one);
        }
        cdp_flow_run_free(t->run);
        t->run = NULL;
    }
    return 0;
}

/* Holds the ids of the job's profile and session while it waits. */
static int park(struct track *t)
{
    const char *ids[2] = {t->profile ? cdp_json_str(t->profile, "id") : NULL,
                          t->session ? cdp_json_str(t->session, "id") : NULL};
    for (int i = 0; i < 2; i++) {
        if (t->busy[i] || !ids[i])
            continue;
        if (!(t->busy[i] = strdup(ids[i])) || cdp_busy_add(t->env->busy, ids[i])) {
            free(t->busy[i]);
            t->busy[i] = NULL;
            return CDP_E_NOMEM;
        }
    }
    t->job->track = t;
    return CDP_FLOW_WAIT;
}

static void warn(struct track *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct track *t, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cJSON_AddItemToArray(t->warnings, cJSON_CreateString(msg));
}

/* Why this request merges: {type, ...} plus the rules that ran (for the merge record). */
static int add_cause(struct track *t, cJSON *causes, const char *type, const cJSON *extra,
                     const char *extra_key)
{
    cJSON *c = cJSON_CreateObject();
    if (!c || !cJSON_AddItemToArray(causes, c)) {
        cJSON_Delete(c);
        return CDP_E_NOMEM;
    }
    cJSON_AddStringToObject(c, "type", type);
    if (extra)
        cJSON_AddItemToObject(c, extra_key, cJSON_Duplicate(extra, true));
    cJSON *rules = cJSON_AddArrayToObject(c, "rules");
    for (int i = 0; rules && i < t->nwork; i++) {
        const cJSON *it;
        bool seen = false;
        cJSON_ArrayForEach(it, rules)
        {
            seen = seen || strcmp(it->valuestring, t->work[i].rule) == 0;
        }
        if (!seen)
            cJSON_AddItemToArray(rules, cJSON_CreateString(t->work[i].rule));
    }
    const cJSON *e = t->nevents ? t->events[t->nevents - 1].doc : NULL;
    cdp_json_put_str(c, "event", e ? cdp_json_str(e, "id") : NULL);
    return 0;
}

/* The profile that survives is the request's own, unless it is new: then the oldest profile
 * found, so a new visitor who identifies becomes the person already known. */
static cJSON *pick_survivor(struct track *t, cJSON *docs)
{
    if (!t->new_profile)
        return NULL;
    int best = 0, i = 0;
    const char *oldest = NULL;
    const cJSON *d;
    cJSON_ArrayForEach(d, docs)
    {
        const char *ins = cdp_json_str(d, "metadata.time.insert");
        if (ins && (!oldest || strcmp(ins, oldest) < 0)) {
            oldest = ins;
            best = i;
        }
        i++;
    }
    return cJSON_DetachItemFromArray(docs, best);
}

/* Merges the profiles of ids into the request's (or the request's into the oldest of them).
 * Profiles held by a waiting request are left for later: the survivor is marked merge_pending
 * and its next request looks again. */
static int merge_with(struct track *t, const cJSON *ids, const cJSON *causes)
{
    struct cdp_track_env *env = t->env;
    struct cdp_store *s = env->store;
    cJSON *docs = cJSON_CreateArray();
    if (!docs)
        return CDP_E_NOMEM;
    bool skipped = false;
    int rc = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, ids)
    {
        if (cdp_busy_has(env->busy, it->valuestring)) {
            warn(t, "profile %s is in use by a waiting request: it is merged later",
                 it->valuestring);
            skipped = true;
            continue;
        }
        cJSON *doc = NULL;
        if ((rc = load(s, env->profiles, s->ops->profile_get, it->valuestring, &doc)))
            break;
        if (doc)
            cJSON_AddItemToArray(docs, doc);
    }
    cJSON *survivor = NULL;
    if (!rc && cJSON_GetArraySize(docs) > 0) {
        if ((survivor = pick_survivor(t, docs))) {
            cJSON_AddItemToArray(docs, t->profile);
            t->profile = NULL;
        } else {
            survivor = t->profile;
        }
        rc = cdp_identity_merge(s, survivor, docs, causes, t->now, NULL);
        t->profile = survivor;
        t->profile_changed = true;
    }
    cJSON_Delete(docs);
    if (rc || !survivor) {
        if (skipped && !rc)
            cdp_json_put_bool(cdp_json_obj(cdp_json_obj(t->profile, "metadata"), "system"),
                              "merge_pending", true);
        return rc;
    }
    if (t->new_profile) { /* the request's events and session now belong to the survivor */
        const char *sid = cdp_json_str(survivor, "id");
        t->new_profile = false;
        for (int i = 0; i < t->nevents; i++) {
            cJSON *p = cJSON_GetObjectItemCaseSensitive(t->events[i].doc, "profile");
            if (cJSON_IsObject(p))
                cdp_json_put_str(p, "id", sid);
        }
        if (t->session) {
            cdp_session_set_profile(t->session, sid);
            t->session_changed = true;
        }
    }
    if (skipped)
        cdp_json_put_bool(cdp_json_obj(cdp_json_obj(survivor, "metadata"), "system"),
                          "merge_pending", true);
    return 0;
}

/* An identification point that matches the event: its event fields find the profile the
 * person already has. */
static int identification_point(struct track *t, const cJSON *e, cJSON *ids, cJSON *causes)
{
    if (!is_valid(e))
        return 0;
    cJSON *keys = NULL;
    const char *src = cdp_json_str(e, "source.id");
    int rc = cdp_routing_identify(t->env->routing, t->env->store, e, src ? src : "", &keys);
    if (rc <= 0)
        return rc;
    char err[300];
    int before = cJSON_GetArraySize(ids);
    rc = cdp_identity_find_by(t->env->store, keys, cdp_json_str(t->profile, "id"), ids, err,
                              sizeof(err));
    if (rc == CDP_E_INVALID) {
        warn(t, "identification point: %s", err);
        rc = 0;
    } else if (rc > 0) {
        rc = cJSON_GetArraySize(ids) > before
                 ? add_cause(t, causes, "identification-point", keys, "keys")
                 : 0;
    }
    cJSON_Delete(keys);
    return rc;
}

/* Identity resolution after the flows: hashed ids of the contacts the request set, then the
 * profiles that share an id with this one, or equal it on the keys of Merge profiles nodes
 * (all of them: not only the last, Tracardi's #875), are merged into one. */
static int identify(struct track *t)
{
    if (!t->profile || !t->save_profile)
        return 0;
    struct cdp_store *s = t->env->store;
    int added = cdp_profile_auto_ids(t->profile, t->env->salt);
    if (added < 0)
        return added;
    if (added)
        t->profile_changed = true;
    cJSON *ids = cJSON_CreateArray(), *causes = cJSON_CreateArray();
    int rc = ids && causes ? 0 : CDP_E_NOMEM;
    bool pending =
        cdp_json_flag(cdp_json_get(t->profile, "metadata.system"), "merge_pending", false);
    if (!rc && (pending || cJSON_GetArraySize(cdp_json_get(t->profile, "ids")) != t->ids_loaded)) {
        int before = cJSON_GetArraySize(ids);
        rc = cdp_identity_shared(s, t->profile, ids);
        if (!rc && cJSON_GetArraySize(ids) > before)
            rc = add_cause(t, causes, "shared-id", NULL, NULL);
    }
    if (!rc && cJSON_GetArraySize(t->fctx.merge) > 0) {
        char err[300];
        int before = cJSON_GetArraySize(ids);
        int f = cdp_identity_find(s, t->profile, t->fctx.merge, ids, err, sizeof(err));
        if (f == CDP_E_INVALID)
            warn(t, "%s", err);
        else if (f < 0)
            rc = f;
        else if (cJSON_GetArraySize(ids) > before)
            rc = add_cause(t, causes, "merge-profiles", t->fctx.merge, "keys");
    }
    for (int i = 0; !rc && i < t->nevents; i++)
        rc = identification_point(t, t->events[i].doc, ids, causes);
    if (!rc && cJSON_GetArraySize(ids) > 0)
        rc = merge_with(t, ids, causes);
    else if (!rc && pending)
        cdp_json_put_bool(cdp_json_obj(cdp_json_obj(t->profile, "metadata"), "system"),
                          "merge_pending", false);
    cJSON_Delete(ids);
    cJSON_Delete(causes);
    return rc;
}

/* Live segmentation after the flows: each enabled segment is evaluated once, against the last
 * valid event of the request it applies to. */
static int segment(struct track *t)
{
    if (!t->profile)
        return 0;
    struct cdp_segment *const *segs;
    int n = cdp_routing_segments(t->env->routing, t->env->store, &segs);
    if (n < 0)
        return n;
    for (int i = 0; i < n; i++) {
        const cJSON *ev = NULL;
        for (int k = t->nevents - 1; k >= 0 && !ev; k--) {
            const cJSON *e = t->events[k].doc;
            if (is_valid(e) && cdp_segment_wants(segs[i], cdp_json_str(e, "type")))
                ev = e;
        }
        if (!ev)
            continue;
        int rc = cdp_segment_apply(segs[i], t->profile, ev, t->session, t->now);
        if (rc < 0)
            return rc;
        if (rc)
            t->profile_changed = true;
    }
    return 0;
}

/* What the request wrote, for the outbox the dispatch worker reads (job/dispatch.h): a change
 * entry as scale-out publishes them. */
static int keep_changes(struct track *t, bool wrote_session)
{
    cJSON *c = cJSON_CreateObject();
    cJSON *p = cJSON_AddArrayToObject(c, "profiles"), *s = cJSON_AddArrayToObject(c, "sessions"),
          *e = cJSON_AddArrayToObject(c, "events");
    bool ok = c && p && s && e;
    struct {
        cJSON *list;
        const cJSON *doc;
    } docs[] = {{p, t->profile && t->save_profile && (t->new_profile || t->profile_changed)
                        ? t->profile
                        : NULL},
                {s, wrote_session ? t->session : NULL}};
    for (size_t i = 0; ok && i < 2; i++) {
        cJSON *w = docs[i].doc ? cJSON_CreateObject() : NULL;
        ok = !docs[i].doc || (w && cJSON_AddNumberToObject(w, "fence", 0) &&
                              cJSON_AddItemToObject(w, "doc", cJSON_Duplicate(docs[i].doc, true)) &&
                              cJSON_AddItemToArray(docs[i].list, w));
        if (!ok)
            cJSON_Delete(w);
    }
    for (int i = 0; ok && i < t->nevents; i++)
        if (t->save_events && t->events[i].save)
            ok = cJSON_AddItemToArray(e, cJSON_Duplicate(t->events[i].doc, true));
    if (!ok) {
        cJSON_Delete(c);
        return CDP_E_NOMEM;
    }
    cJSON_Delete(t->job->changes);
    t->job->changes = c;
    return 0;
}

/* Writes what the request and its flows produced, and answers. */
static int finish(struct track *t)
{
    struct cdp_track_env *env = t->env;
    struct cdp_job *job = t->job;
    struct cdp_store *s = env->store;
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(job->payload, "options");
    int rc = 0;
    if (t->fctx.changed & CDP_FLOW_CHANGED(CDP_PATH_PROFILE))
        t->profile_changed = true;
    if ((rc = identify(t)) || (rc = segment(t)))
        return rc;
    if (t->fctx.changed & CDP_FLOW_CHANGED(CDP_PATH_SESSION))
        t->session_changed = true;
    if (t->profile_changed && t->profile)
        cdp_profile_touch(t->profile, t->now);
    for (int i = 0; i < t->nevents && !rc; i++)
        if (t->save_events && t->events[i].save)
            rc = s->ops->event_put(s, t->events[i].doc);
    if (rc)
        return rc;
    if (t->profile && t->save_profile && (t->new_profile || t->profile_changed) &&
        (rc = s->ops->profile_put(s, t->profile)))
        return rc;
    bool write_session = t->save_session && (t->new_session || t->session_changed);
    if (write_session && (rc = s->ops->session_put(s, t->session)))
        return rc;
    if (env->outbox && (rc = keep_changes(t, write_session)))
        return rc;
    job->status = 200;
    job->reply = job->consent ? consent_reply(t) : response(t, opts);
    /* Keep hot copies of what now equals the store, and of sessions whose only news is their
     * activity time: the pipeline writes those times within a second (cdp_pipeline flush).
     * Documents seen for the first time are not kept: most one-page visitors never return, and
     * caching them only evicts those who do (measured: new visitors 4.5k -> 5.8k req/s). */
    if (t->save_session && !t->new_session) {
        if (write_session)
            cdp_hotcache_put(env->sessions, cdp_json_str(t->session, "id"), t->session);
        else
            cdp_hotcache_put_dirty(env->sessions, cdp_json_str(t->session, "id"), t->session,
                                   cdp_clock_mono());
        t->session = NULL;
    }
    if (t->profile && !t->new_profile && (t->save_profile || !t->profile_changed)) {
        cdp_hotcache_put(env->profiles, cdp_json_str(t->profile, "id"), t->profile);
        t->profile = NULL;
    }
    return 0;
}

/* After the flows: finish, or fail with nothing stored. Frees t unless it waits. */
static int conclude(struct track *t, int rc)
{
    struct cdp_job *job = t->job;
    if (rc == CDP_FLOW_WAIT && (rc = park(t)) == CDP_FLOW_WAIT)
        return rc;
    if (!rc)
        rc = finish(t);
    if (rc && !job->reply)
        FAIL(job, cdp_err_status(rc), "%s: nothing was stored", cdp_err_str(rc));
    job->track = NULL;
    cdp_track_free(t);
    return rc;
}

int cdp_track_resume(struct cdp_track_env *env, struct cdp_job *job)
{
    struct track *t = job->track;
    int rc = run_flows(t);
    if (rc == 0 && t->profile && !t->new_profile) {
        /* The profile may have been erased (DELETE /profile) while this request waited: then
         * nothing of it is written back. */
        const char *id = cdp_json_str(t->profile, "id");
        char now[160];
        rc = env->store->ops->profile_resolve(env->store, id, now, sizeof(now));
        if (rc == CDP_E_NOT_FOUND) {
            FAIL(job, 409, "the profile was erased while this request waited: nothing was stored");
            rc = CDP_E_CONFLICT;
        } else if (!rc && strcmp(now, id) != 0) {
            FAIL(job, 409,
                 "the profile was merged into %s while this request waited: nothing was stored",
                 now);
            rc = CDP_E_CONFLICT;
        }
    }
    return conclude(t, rc);
}

const struct cdp_flow_wait *cdp_track_wait(const struct cdp_job *job)
{
    return job->track && job->track->run ? cdp_flow_run_wait(job->track->run) : NULL;
}

int cdp_track_run(struct cdp_track_env *env, struct cdp_job *job)
{
    cJSON *p = job->payload;
    char source_id[160], session_id[160], profile_id[160];
    trimmed(p, "source.id", source_id, sizeof(source_id));
    trimmed(p, "session.id", session_id, sizeof(session_id));
    trimmed(p, "profile.id", profile_id, sizeof(profile_id));
    if (source_id[0] == '@') {
        FAIL(job, 401, "Invalid event source `%s`: internal sources cannot be used here",
             source_id);
        return 0;
    }
    const cJSON *source = cdp_source_cache_get(env->sources, env->store, source_id);
    if (!source) {
        FAIL(job, 401, "Invalid event source `%s`", source_id);
        return 0;
    }
    if (!cdp_source_is_enabled(source)) {
        FAIL(job, 403, "Event source `%s` is disabled.", source_id);
        return 0;
    }
    if (!cdp_source_has_bridge(source, job->bridge)) {
        FAIL(job, 403, "Event source `%s` does not accept %s traffic", source_id, job->bridge);
        return 0;
    }
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(p, "events");
    if (cJSON_GetArraySize(events) == 0) {
        job->status = 200;
        job->reply = cJSON_CreateNull();
        return 0;
    }
    /* A request for a profile or session whose flows wait must wait its turn. */
    if (cdp_busy_has(env->busy, session_id) || cdp_busy_has(env->busy, profile_id))
        return CDP_TRACK_DEFER;
    struct track *t = calloc(1, sizeof(*t));
    if (!t)
        return CDP_E_NOMEM;
    *t = (struct track){.env = env, .job = job, .source = source, .now = cdp_clock_now_us()};
    t->fctx.now_us = t->now;
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(p, "options");
    bool ephemeral = cdp_json_flag(source, "transitional", false);
    t->save_session = cdp_json_flag(opts, "saveSession", true) && !ephemeral;
    t->save_events = cdp_json_flag(opts, "saveEvents", true) && !ephemeral;
    t->save_profile = cdp_json_flag(opts, "saveProfile", true) && !job->profile_less;

    int rc = resolve(t, session_id, profile_id);
    if (rc == CDP_TRACK_DEFER || rc == CDP_E_BUSY) {
        cdp_track_free(t);
        return rc == CDP_E_BUSY ? CDP_TRACK_RETRY : rc;
    }
    if (rc)
        return conclude(t, rc);
    t->ids_loaded = t->profile ? cJSON_GetArraySize(cdp_json_get(t->profile, "ids")) : 0;
    cJSON *ctx = cJSON_GetObjectItemCaseSensitive(p, "context");
    update_session(t, ctx);
    update_profile(t, ctx);

    t->event_ids = cJSON_CreateArray();
    t->errors = cJSON_CreateArray();
    t->warnings = cJSON_CreateArray();
    if (!t->event_ids || !t->errors || !t->warnings)
        return conclude(t, CDP_E_NOMEM);
    if (t->env->cfg->system_events) {
        if (t->new_profile && t->save_profile && (rc = system_event(t, "profile-created")))
            return conclude(t, rc);
        if (t->new_session && t->count_visit && t->save_session &&
            ((rc = system_event(t, "session-opened")) || (rc = system_event(t, "visit-started"))))
            return conclude(t, rc);
    }
    const cJSON *pe;
    cJSON_ArrayForEach(pe, events)
    {
        if ((rc = payload_event(t, pe, source_id)))
            return conclude(t, rc);
    }
    t->source = NULL;
    if ((rc = reshape(t)) || (rc = validate(t)) || (rc = consent_updates(t)) ||
        (rc = map_events(t)) || (rc = route(t, source_id)))
        return conclude(t, rc);
    return conclude(t, run_flows(t));
}
