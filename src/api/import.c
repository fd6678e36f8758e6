/* Bulk imports: POST /profiles/import, /sessions/import and /events/import. The body is NDJSON
 * (one document per line) or, as Tracardi's /profiles/import takes, one JSON array. Documents
 * are split off the body in place (core/ndjson.h) and parsed one at a time; each is checked and
 * completed with the defaults of a new document of its kind, a bad one is reported by its line
 * and the rest are written in chunks of one transaction each, so the collector waits at most
 * one chunk for the store. Imported profiles get hashed contact ids as collected ones do and
 * are merged at once with stored profiles they share an id with; events and sessions keep the
 * profile id they name, so they are found by any id of the person, whenever the profile comes. */
#include "api/api.h"
#include "collect/identity.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"
#include "core/id.h"
#include "core/json.h"
#include "core/ndjson.h"
#include "http/http.h"
#include "model/event.h"
#include "model/merge.h"
#include "model/profile.h"
#include "model/session.h"
#include "store/store.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Documents per transaction, and the bytes of JSON text that end a chunk early: a chunk holds
 * the store's write lock for milliseconds, and memory for a few megabytes of parsed documents. */
#define CHUNK_DOCS  500
#define CHUNK_BYTES (4u << 20)
/* Rejections listed in the reply; all of them are counted. */
#define MAX_REJECTED 1000
/* Longest id of a profile, session or event, and of each of a profile's ids. */
#define MAX_ID 128

enum import_kind { IMPORT_PROFILES, IMPORT_SESSIONS, IMPORT_EVENTS };

struct import {
    struct cdp_http_req *req;
    struct cdp_store *s;
    enum import_kind kind;
    bool array;       /* the body is a JSON array: places are indexes, not lines */
    size_t max_doc;   /* bytes of one document (--max-body) */
    int max_depth;    /* --max-depth */
    char salt[80];    /* the installation's, for hashed contact ids ("" = none yet) */
    const char *by;   /* the user importing */
    cJSON *rejected;  /* [{line | index, id?, error}], at most MAX_REJECTED */
    long documents;   /* seen */
    long nrejected;   /* all of them */
    long imported;    /* written */
    long replaced;    /* profiles that replaced a stored profile of the same id */
    long merged;      /* profiles merged with stored profiles that share an id */
    long failed_from; /* the places of the first and last document of the chunk that */
    long failed_to;   /* a store error stopped at */
};

__attribute__((format(printf, 4, 5))) static void reject(struct import *im, long at,
                                                         const cJSON *doc, const char *fmt, ...)
{
    im->nrejected++;
    if (cJSON_GetArraySize(im->rejected) >= MAX_REJECTED)
        return;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cJSON *r = cJSON_CreateObject();
    if (!r || !cJSON_AddItemToArray(im->rejected, r)) {
        cJSON_Delete(r);
        return;
    }
    cJSON_AddNumberToObject(r, im->array ? "index" : "line", (double)at);
    const char *id = doc ? cdp_json_str(doc, "id") : NULL;
    if (id)
        cJSON_AddStringToObject(r, "id", id);
    cJSON_AddStringToObject(r, "error", msg);
}

/* --- checking a document and filling its defaults --- */

/* What v should be, as the default def is; NULL when it is that (a null default takes
 * anything, a string default null too). */
static const char *type_wanted(const cJSON *def, const cJSON *v)
{
    if (cJSON_IsObject(def))
        return cJSON_IsObject(v) ? NULL : "an object";
    if (cJSON_IsArray(def))
        return cJSON_IsArray(v) ? NULL : "a list";
    if (cJSON_IsString(def))
        return cJSON_IsString(v) || cJSON_IsNull(v) ? NULL : "a string";
    if (cJSON_IsNumber(def))
        return cJSON_IsNumber(v) ? NULL : "a number";
    if (cJSON_IsBool(def))
        return cJSON_IsBool(v) ? NULL : "true or false";
    return NULL;
}

/* Gives doc every field of def it lacks (a null where def holds an object, list, number or
 * boolean counts as lacking), and refuses a field of another type than def's, naming its dotted
 * path (path[0..plen) is doc's own). */
static int fill(cJSON *doc, const cJSON *def, char *path, size_t plen, size_t cap, char *err,
                size_t errlen)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, def)
    {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, d->string);
        if (!v || (cJSON_IsNull(v) && !cJSON_IsNull(d) && !cJSON_IsString(d))) {
            cJSON *copy = cJSON_Duplicate(d, true);
            if (!copy)
                return CDP_E_NOMEM;
            if (v) {
                cJSON_ReplaceItemViaPointer(doc, v, copy);
            } else if (!cJSON_AddItemToObject(doc, d->string, copy)) {
                cJSON_Delete(copy);
                return CDP_E_NOMEM;
            }
            continue;
        }
        int n = snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", d->string);
        size_t end = n < 0 || (size_t)n >= cap - plen ? cap - 1 : plen + (size_t)n;
        const char *want = type_wanted(d, v);
        if (want) {
            snprintf(err, errlen, "%s: expected %s", path, want);
            return CDP_E_INVALID;
        }
        if (cJSON_IsObject(d)) {
            int rc = fill(v, d, path, end, cap, err, errlen);
            if (rc)
                return rc;
        }
        path[plen] = '\0';
    }
    return 0;
}

static int fill_defaults(cJSON *doc, cJSON *def, char *err, size_t errlen)
{
    if (!def)
        return CDP_E_NOMEM;
    char path[256] = "";
    int rc = fill(doc, def, path, 0, sizeof(path), err, errlen);
    cJSON_Delete(def);
    return rc;
}

/* doc.id: a non-empty string of at most MAX_ID bytes, or (optional) none, then a new one. */
static int check_id(cJSON *doc, bool optional, const char *what, char *err, size_t errlen)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "id");
    if ((!id || cJSON_IsNull(id)) && optional) {
        char uuid[CDP_UUID_LEN];
        cdp_id_uuid7(uuid);
        cdp_json_put_str(doc, "id", uuid);
        return 0;
    }
    if (!cJSON_IsString(id) || !*id->valuestring) {
        snprintf(err, errlen, "id: %s needs an id (a non-empty string)", what);
        return CDP_E_INVALID;
    }
    if (strlen(id->valuestring) > MAX_ID) {
        snprintf(err, errlen, "id: longer than %d characters", MAX_ID);
        return CDP_E_INVALID;
    }
    return 0;
}

/* The time of metadata.time.insert, or now when there is none; CDP_E_INVALID when it is not an
 * ISO 8601 time. */
static int insert_time(const cJSON *doc, int64_t now, int64_t *t, char *err, size_t errlen)
{
    const cJSON *v = cdp_json_get(doc, "metadata.time.insert");
    *t = now;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (cJSON_IsString(v) && cdp_clock_parse_iso(v->valuestring, t) == 0)
        return 0;
    snprintf(err, errlen, "metadata.time.insert: expected an ISO 8601 date-time");
    return CDP_E_INVALID;
}

/* Sets metadata.time.insert when the document had none (fill leaves a null string alone). */
static void stamp_insert(cJSON *doc, int64_t t)
{
    cJSON *time = cdp_json_get(doc, "metadata.time");
    if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(time, "insert")))
        return;
    char iso[CDP_ISO_LEN];
    cdp_clock_iso(t, iso);
    cdp_json_put_str(time, "insert", iso);
}

/* doc[key]: none, null, or an object whose id is a string (or null). */
static int check_ref(const cJSON *doc, const char *key, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);
    if (!v || cJSON_IsNull(v))
        return 0;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "id");
    if (!cJSON_IsObject(v)) {
        snprintf(err, errlen, "%s: expected {\"id\": \"…\"} or null", key);
        return CDP_E_INVALID;
    }
    if (id && !cJSON_IsNull(id) && (!cJSON_IsString(id) || strlen(id->valuestring) > MAX_ID)) {
        snprintf(err, errlen, "%s.id: expected a string of at most %d characters", key, MAX_ID);
        return CDP_E_INVALID;
    }
    return 0;
}

/* Every item of the list at key is a string (of at most max bytes when max > 0). */
static int check_strings(const cJSON *doc, const char *key, size_t max, char *err, size_t errlen)
{
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(doc, key))
    {
        if (!cJSON_IsString(it) || (max && strlen(it->valuestring) > max)) {
            if (max)
                snprintf(err, errlen, "%s[%d]: expected a string of at most %zu characters", key, i,
                         max);
            else
                snprintf(err, errlen, "%s[%d]: expected a string", key, i);
            return CDP_E_INVALID;
        }
        i++;
    }
    return 0;
}

static int normalize_profile(struct import *im, cJSON *doc, int64_t now, char *err, size_t errlen)
{
    int64_t t;
    int rc;
    if ((rc = check_id(doc, false, "a profile", err, errlen)) ||
        (rc = insert_time(doc, now, &t, err, errlen)))
        return rc;
    const char *id = cdp_json_str(doc, "id");
    cJSON *ids = cJSON_GetObjectItemCaseSensitive(doc, "ids");
    if (!ids || cJSON_IsNull(ids)) { /* not the default's: that names the default's id */
        cdp_json_put(doc, "ids", ids = cJSON_CreateArray());
        if (!ids)
            return CDP_E_NOMEM;
    }
    /* Runtime state Tracardi never stores, and what its GET /profile adds. */
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "operation");
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "_meta");
    if ((rc = fill_defaults(doc, cdp_profile_new(id, t), err, errlen)) ||
        (rc = check_strings(doc, "ids", MAX_ID, err, errlen)) ||
        (rc = check_strings(doc, "segments", 0, err, errlen)))
        return rc;
    stamp_insert(doc, t);
    bool listed = false;
    const cJSON *it;
    cJSON_ArrayForEach(it, ids)
    {
        listed = listed || strcmp(it->valuestring, id) == 0;
    }
    if (!listed) {
        cJSON *own = cJSON_CreateString(id);
        if (!own || !cJSON_InsertItemInArray(ids, 0, own)) {
            cJSON_Delete(own);
            return CDP_E_NOMEM;
        }
    }
    cdp_json_put_bool(cdp_json_obj(doc, "data"), "anonymous", !cdp_profile_has_contact(doc));
    rc = cdp_profile_auto_ids(doc, im->salt);
    return rc < 0 ? rc : 0;
}

static int normalize_session(cJSON *doc, int64_t now, char *err, size_t errlen)
{
    int64_t t;
    int rc;
    if ((rc = check_id(doc, false, "a session", err, errlen)) ||
        (rc = check_ref(doc, "profile", err, errlen)) ||
        (rc = insert_time(doc, now, &t, err, errlen)))
        return rc;
    if ((rc = fill_defaults(doc, cdp_session_new(cdp_json_str(doc, "id"), NULL, t, NULL), err,
                            errlen)))
        return rc;
    stamp_insert(doc, t);
    return 0;
}

static int normalize_event(cJSON *doc, int64_t now, char *err, size_t errlen)
{
    char slug[CDP_EVENT_TYPE_MAX];
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(doc, "type");
    if (!cJSON_IsString(type) || cdp_event_type_slug(type->valuestring, slug, sizeof(slug)) == 0) {
        snprintf(err, errlen, "type: an event needs a type (a string of 1 to %d characters)",
                 CDP_EVENT_TYPE_MAX - 1);
        return CDP_E_INVALID;
    }
    int64_t t;
    int rc;
    if ((rc = check_ref(doc, "profile", err, errlen)) ||
        (rc = check_ref(doc, "session", err, errlen)) ||
        (rc = insert_time(doc, now, &t, err, errlen)) ||
        (rc = check_id(doc, true, "an event", err, errlen)))
        return rc;
    cdp_json_put_str(doc, "type", slug);
    bool has_profile = cdp_json_str(doc, "profile.id") != NULL;
    bool says_profile_less = cdp_json_get(doc, "metadata.profile_less") != NULL;
    if ((rc = fill_defaults(doc, cdp_event_new(cdp_json_str(doc, "id"), slug, t), err, errlen)))
        return rc;
    stamp_insert(doc, t);
    if (!has_profile && !says_profile_less)
        cdp_json_put_bool(cJSON_GetObjectItemCaseSensitive(doc, "metadata"), "profile_less", true);
    return 0;
}

/* The document at body[0..len) parsed and completed, or NULL after rejecting it. */
static cJSON *read_doc(struct import *im, const char *text, size_t len, long at, int64_t now)
{
    if (len > im->max_doc) {
        reject(im, at, NULL, "document of %zu bytes: larger than --max-body (%zu)", len,
               im->max_doc);
        return NULL;
    }
    if (!cdp_json_depth_ok(text, len, im->max_depth)) {
        reject(im, at, NULL, "JSON nests deeper than %d levels", im->max_depth);
        return NULL;
    }
    size_t pos = 0;
    cJSON *doc = cdp_json_parse(text, len, &pos);
    if (!doc) {
        reject(im, at, NULL, "malformed JSON at byte %zu", pos);
        return NULL;
    }
    char err[400];
    int rc;
    /* A rejection names the document's own id, not one made for it. */
    bool own_id = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "id"));
    if (!cJSON_IsObject(doc)) {
        snprintf(err, sizeof(err), "expected a JSON object");
        rc = CDP_E_INVALID;
    } else if (im->kind == IMPORT_PROFILES) {
        rc = normalize_profile(im, doc, now, err, sizeof(err));
    } else if (im->kind == IMPORT_SESSIONS) {
        rc = normalize_session(doc, now, err, sizeof(err));
    } else {
        rc = normalize_event(doc, now, err, sizeof(err));
    }
    if (rc) {
        if (rc == CDP_E_NOMEM)
            snprintf(err, sizeof(err), "out of memory");
        reject(im, at, own_id ? doc : NULL, "%s", err);
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

/* --- writing --- */

static int add_unique(cJSON *list, const char *s)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        if (strcmp(it->valuestring, s) == 0)
            return 0;
    }
    cJSON *item = cJSON_CreateString(s);
    if (!item || !cJSON_AddItemToArray(list, item)) {
        cJSON_Delete(item);
        return CDP_E_NOMEM;
    }
    return 0;
}

/* Merges p (taken) with the stored profiles owners names; the oldest survives, a stored one
 * before p when they are as old, as `cdpd job merge` decides. */
static int merge_profile(struct import *im, cJSON *p, const cJSON *owners, int64_t now)
{
    struct cdp_store *s = im->s;
    cJSON *docs = cJSON_CreateArray();
    int rc = docs ? 0 : CDP_E_NOMEM;
    const cJSON *it;
    cJSON_ArrayForEach(it, owners)
    {
        cJSON *o = NULL;
        if (rc || (rc = s->ops->profile_get(s, it->valuestring, &o)) == CDP_E_NOT_FOUND) {
            rc = rc == CDP_E_NOT_FOUND ? 0 : rc;
            continue;
        }
        if (!cJSON_AddItemToArray(docs, o)) {
            cJSON_Delete(o);
            rc = CDP_E_NOMEM;
        }
    }
    if (rc || !cJSON_AddItemToArray(docs, p)) {
        if (!rc)
            cJSON_Delete(p);
        cJSON_Delete(docs);
        return rc ? rc : CDP_E_NOMEM;
    }
    int n = cJSON_GetArraySize(docs), oldest = 0;
    int64_t first = INT64_MAX;
    for (int i = 0; i < n; i++) {
        const char *ts = cdp_json_str(cJSON_GetArrayItem(docs, i), "metadata.time.insert");
        int64_t t;
        if (ts && cdp_clock_parse_iso(ts, &t) == 0 && t < first) {
            first = t;
            oldest = i;
        }
    }
    if (n == 1) { /* the owners are gone */
        rc = s->ops->profile_put(s, p);
        cJSON_Delete(docs);
        return rc;
    }
    cJSON *cause = cJSON_CreateArray();
    cJSON *c = cJSON_CreateObject();
    if (!cause || !c || !cJSON_AddItemToArray(cause, c)) {
        cJSON_Delete(c);
        rc = CDP_E_NOMEM;
    } else {
        cJSON_AddStringToObject(c, "type", "import");
        cdp_json_put_str(c, "by", im->by && *im->by ? im->by : NULL);
    }
    if (!rc) {
        cJSON *survivor = cJSON_DetachItemFromArray(docs, oldest);
        rc = cdp_identity_merge(s, survivor, docs, cause, now, NULL);
        cJSON_Delete(survivor);
        im->merged++;
    }
    cJSON_Delete(cause);
    cJSON_Delete(docs);
    return rc;
}

/* Writes an imported profile (taken): it replaces a stored profile of its id (keeping that
 * one's other ids) and is merged with stored profiles any of its ids belongs to. */
static int put_profile(struct import *im, cJSON *p, int64_t now)
{
    struct cdp_store *s = im->s;
    const char *id = cdp_json_str(p, "id");
    cJSON *owners = cJSON_CreateArray();
    bool stored = false;
    int rc = owners ? 0 : CDP_E_NOMEM;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(p, "ids"))
    {
        char owner[MAX_ID + 32];
        int r = rc ? rc : s->ops->profile_resolve(s, it->valuestring, owner, sizeof(owner));
        if (r == CDP_E_NOT_FOUND)
            continue;
        if ((rc = r))
            break;
        if (strcmp(owner, id) == 0)
            stored = true;
        else
            rc = add_unique(owners, owner);
    }
    if (!rc && stored) {
        cJSON *old = NULL;
        if (!(rc = s->ops->profile_get(s, id, &old))) {
            cJSON *ids = cJSON_GetObjectItemCaseSensitive(p, "ids");
            cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(old, "ids"))
            {
                if (!rc && cJSON_IsString(it))
                    rc = add_unique(ids, it->valuestring);
            }
            im->replaced++;
        }
        cJSON_Delete(old);
    }
    if (rc) {
        cJSON_Delete(p);
    } else if (cJSON_GetArraySize(owners) > 0) {
        rc = merge_profile(im, p, owners, now);
    } else {
        rc = s->ops->profile_put(s, p);
        cJSON_Delete(p);
    }
    cJSON_Delete(owners);
    return rc;
}

/* Writes a chunk in one transaction; the documents are taken. */
static int write_chunk(struct import *im, cJSON **docs, const long *at, int n, int64_t now)
{
    struct cdp_store *s = im->s;
    int rc = s->ops->begin(s);
    int i = 0;
    for (; !rc && i < n; i++) {
        cJSON *d = docs[i];
        docs[i] = NULL;
        if (im->kind == IMPORT_PROFILES) {
            rc = put_profile(im, d, now);
            continue;
        }
        rc = im->kind == IMPORT_SESSIONS ? s->ops->session_put(s, d) : s->ops->event_put(s, d);
        cJSON_Delete(d);
    }
    /* Index the events now rather than leave a long tail to every read until the collector
     * catches up (store.h, maintain). */
    if (!rc && im->kind == IMPORT_EVENTS)
        rc = s->ops->maintain(s);
    if (!rc)
        rc = s->ops->commit(s);
    if (rc) {
        s->ops->rollback(s);
        im->failed_from = at[0];
        im->failed_to = at[n - 1];
        for (; i < n; i++)
            cJSON_Delete(docs[i]);
        return rc;
    }
    im->imported += n;
    return 0;
}

/* --- the routes --- */

static bool is_ndjson(const char *ctype)
{
    static const char *const types[] = {"application/x-ndjson", "application/ndjson",
                                        "application/jsonl", "application/x-jsonlines"};
    for (size_t i = 0; ctype && i < sizeof(types) / sizeof(types[0]); i++) {
        size_t n = strlen(types[i]);
        if (strncasecmp(ctype, types[i], n) == 0 && (ctype[n] == '\0' || ctype[n] == ';'))
            return true;
    }
    return false;
}

static void reply(struct import *im, int rc)
{
    cJSON *j = cJSON_CreateObject();
    if (rc) {
        char msg[300];
        const char *place = im->array ? "index" : "line";
        snprintf(msg, sizeof(msg),
                 "import stopped: the documents from %s %ld to %s %ld were not stored (%s); those "
                 "before them were",
                 place, im->failed_from, place, im->failed_to, cdp_err_str(rc));
        cJSON_AddStringToObject(j, "detail", msg);
    }
    cJSON_AddNumberToObject(j, "documents", (double)im->documents);
    cJSON_AddNumberToObject(j, "imported", (double)im->imported);
    if (im->kind == IMPORT_PROFILES) {
        cJSON_AddNumberToObject(j, "replaced", (double)im->replaced);
        cJSON_AddNumberToObject(j, "merged", (double)im->merged);
    }
    cJSON_AddNumberToObject(j, "rejected_total", (double)im->nrejected);
    cJSON_AddItemToObject(j, "rejected", im->rejected);
    im->rejected = NULL;
    cdp_http_reply_json(im->req, rc ? cdp_err_status(rc) : 200, j);
}

static void run_import(struct cdp_http_req *req, struct cdp_api *api, enum import_kind kind)
{
    const struct cdp_config *cfg = cdp_api_config(api);
    struct import im = {.req = req,
                        .kind = kind,
                        .max_doc = (size_t)cfg->max_body,
                        .max_depth = (int)cfg->max_depth,
                        .by = cdp_api_user_id(req)};
    size_t len;
    const char *body = cdp_http_body(req, &len);
    struct cdp_ndjson it;
    const char *doc;
    size_t dlen;
    long at;
    int r = 1;
    cdp_ndjson_init(&it, body, len, !is_ndjson(cdp_http_header(req, "Content-Type")));
    im.array = it.array;
    if (im.array) { /* refuse a broken array before anything of it is written */
        while ((r = cdp_ndjson_next(&it, &doc, &dlen, &at)) == 1)
            ;
        if (r < 0) {
            cdp_http_reply_error(req, 422, "body: not one JSON array (at byte %ld)", at);
            return;
        }
        cdp_ndjson_init(&it, body, len, true);
    }
    if (!(im.rejected = cJSON_CreateArray())) {
        cdp_http_reply_error(req, 500, "out of memory");
        return;
    }
    if (!(im.s = cdp_api_store(api, req))) {
        cJSON_Delete(im.rejected);
        return;
    }
    if (kind == IMPORT_PROFILES && im.s->ops->meta_get(im.s, "salt", im.salt, sizeof(im.salt)))
        im.salt[0] = '\0'; /* no hashed ids without the salt `cdpd serve` makes */
    int64_t now = cdp_clock_now_us();
    cJSON *docs[CHUNK_DOCS];
    long places[CHUNK_DOCS];
    int rc = 0;
    do {
        int n = 0;
        size_t bytes = 0;
        while (n < CHUNK_DOCS && bytes < CHUNK_BYTES &&
               (r = cdp_ndjson_next(&it, &doc, &dlen, &at)) == 1) {
            im.documents++;
            cJSON *d = read_doc(&im, doc, dlen, at, now);
            if (!d)
                continue;
            docs[n] = d;
            places[n++] = at;
            bytes += dlen;
        }
        if (n > 0)
            rc = write_chunk(&im, docs, places, n, now);
    } while (!rc && r == 1);
    cdp_api_store_put(api, im.s);
    reply(&im, rc);
    cJSON_Delete(im.rejected);
}

void cdp_api_profiles_import(struct cdp_http_req *req, void *app)
{
    run_import(req, app, IMPORT_PROFILES);
}

void cdp_api_sessions_import(struct cdp_http_req *req, void *app)
{
    run_import(req, app, IMPORT_SESSIONS);
}

void cdp_api_events_import(struct cdp_http_req *req, void *app)
{
    run_import(req, app, IMPORT_EVENTS);
}
