/* Chooses a store backend by URL, and the store of a context (production or staging) within an
 * installation. */
#include "store/store.h"
#include "store/store_impl.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct cdp_store_ops *const backends[] = {&cdp_store_sqlite_ops, &cdp_store_pg_ops,
                                                       &cdp_store_postgresql_ops};

static const char *const context_names[CDP_STORE_NCONTEXTS] = {
    [CDP_STORE_PRODUCTION] = "production",
    [CDP_STORE_STAGING] = "staging",
};

const char *cdp_store_context_name(enum cdp_store_context c)
{
    return (unsigned)c < CDP_STORE_NCONTEXTS ? context_names[c] : "?";
}

bool cdp_store_context_parse(const char *name, enum cdp_store_context *out)
{
    for (unsigned i = 0; name && i < CDP_STORE_NCONTEXTS; i++)
        if (strcmp(name, context_names[i]) == 0) {
            *out = (enum cdp_store_context)i;
            return true;
        }
    return false;
}

/* The backend of url and where its location starts; NULL for an unknown scheme. A URL without
 * a scheme (no ':' before the first '/') is a path of the embedded store. */
static const struct cdp_store_ops *backend_of(const char *url, const char **location)
{
    const char *colon = strchr(url, ':');
    const char *slash = strchr(url, '/');
    if (!colon || colon == url || (slash && slash < colon)) {
        *location = url;
        return &cdp_store_sqlite_ops;
    }
    size_t n = (size_t)(colon - url);
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        if (strlen(backends[i]->scheme) == n && strncmp(backends[i]->scheme, url, n) == 0) {
            *location = colon + 1;
            return backends[i];
        }
    return NULL;
}

/* The embedded store keeps production where it always was, so data directories made before
 * contexts existed stay production's, and every other context in a directory of its name
 * inside it (DIR/staging/cdpd.db); a store given as a file (X.db) has X-staging.db beside it.
 * PostgreSQL keeps each context in a schema of its name: the URL says which in its fragment
 * (postgres://host/db#staging). */
int cdp_store_context_url(const char *url, enum cdp_store_context c, char *out, size_t outlen,
                          char *err, size_t errlen)
{
    const char *loc;
    const struct cdp_store_ops *b = backend_of(url, &loc);
    if (!b) {
        snprintf(err, errlen, "no store backend for the URL %s", url);
        return CDP_E_CONFIG;
    }
    int n;
    if (c == CDP_STORE_PRODUCTION) {
        n = snprintf(out, outlen, "%s", url);
    } else if (b == &cdp_store_sqlite_ops) {
        size_t len = strlen(url), trail = 0;
        while (len - trail > 1 && url[len - trail - 1] == '/')
            trail++;
        len -= trail;
        if (len > 3 && strncmp(url + len - 3, ".db", 3) == 0)
            n = snprintf(out, outlen, "%.*s-%s.db", (int)(len - 3), url, context_names[c]);
        else
            n = snprintf(out, outlen, "%.*s/%s", (int)len, url, context_names[c]);
    } else if (b == &cdp_store_pg_ops || b == &cdp_store_postgresql_ops) {
        n = snprintf(out, outlen, "%.*s#%s", (int)strcspn(url, "#"), url, context_names[c]);
    } else {
        snprintf(err, errlen, "the %s: store has no %s context", b->scheme,
                 cdp_store_context_name(c));
        return CDP_E_CONFIG;
    }
    if (n < 0 || (size_t)n >= outlen) {
        snprintf(err, errlen, "store URL too long: %s", url);
        return CDP_E_CONFIG;
    }
    return 0;
}

static int open_url(struct cdp_store **out, const char *url, const struct cdp_store_opts *o,
                    char *err, size_t errlen)
{
    const char *loc;
    const struct cdp_store_ops *b = backend_of(url, &loc);
    if (!b) {
        const char *colon = strchr(url, ':');
        snprintf(err, errlen, "no store backend for '%.*s:' URLs", (int)(colon - url), url);
        return CDP_E_CONFIG;
    }
    return b->open(out, loc, o, err, errlen);
}

/* Hashed ids must be equal in every context, so a staging store takes production's salt when
 * it has none (it was just made). Production without a salt yet leaves it for later: `cdpd
 * serve` makes production's first, and the next open of staging copies it. */
static int adopt_salt(struct cdp_store *s, const char *url, const struct cdp_store_opts *o,
                      char *err, size_t errlen)
{
    char salt[128];
    int rc = s->ops->meta_get(s, "salt", salt, sizeof(salt));
    if (rc != CDP_E_NOT_FOUND)
        return rc;
    struct cdp_store_opts po = *o;
    po.context = CDP_STORE_PRODUCTION;
    struct cdp_store *prod;
    if ((rc = open_url(&prod, url, &po, err, errlen)))
        return rc;
    rc = prod->ops->meta_get(prod, "salt", salt, sizeof(salt));
    cdp_store_close(prod);
    if (rc == CDP_E_NOT_FOUND)
        return 0;
    if (!rc)
        rc = s->ops->meta_put(s, "salt", salt);
    if (rc)
        snprintf(err, errlen, "cannot give the staging store production's salt: %s",
                 cdp_err_str(rc));
    return rc;
}

int cdp_store_open(struct cdp_store **out, const char *url, const struct cdp_store_opts *o,
                   char *err, size_t errlen)
{
    static const struct cdp_store_opts defaults;
    if (!o)
        o = &defaults;
    if (o->context == CDP_STORE_PRODUCTION) {
        int rc = open_url(out, url, o, err, errlen);
        if (!rc)
            (*out)->context = CDP_STORE_PRODUCTION;
        return rc;
    }
    if ((unsigned)o->context >= CDP_STORE_NCONTEXTS) {
        snprintf(err, errlen, "no store context %d", (int)o->context);
        return CDP_E_CONFIG;
    }
    char curl[1100];
    int rc = cdp_store_context_url(url, o->context, curl, sizeof(curl), err, errlen);
    if (rc)
        return rc;
    /* The embedded store makes its own directory, not its parent: make production's first. */
    const char *loc;
    size_t clen = strlen(curl);
    bool in_dir = clen <= 3 || strcmp(curl + clen - 3, ".db") != 0;
    if (backend_of(url, &loc) == &cdp_store_sqlite_ops && in_dir && mkdir(loc, 0700) != 0 &&
        errno != EEXIST) {
        snprintf(err, errlen, "cannot create data directory %s: %s", loc, strerror(errno));
        return CDP_E_IO;
    }
    struct cdp_store *s;
    if ((rc = open_url(&s, curl, o, err, errlen)))
        return rc;
    s->context = o->context;
    if ((rc = adopt_salt(s, url, o, err, errlen))) {
        cdp_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void cdp_store_close(struct cdp_store *s)
{
    if (s)
        s->ops->close(s);
}

void cdp_user_rec_fini(struct cdp_user_rec *u)
{
    cJSON_Delete(u->doc);
    u->doc = NULL;
}

/* What the backends share (store_impl.h). */

static const struct {
    const struct cdp_store_ops *ops;
    const struct cdp_store_io *io;
} ios[] = {
    {&cdp_store_sqlite_ops, &cdp_store_sqlite_io},
    {&cdp_store_pg_ops, &cdp_store_pg_io},
    {&cdp_store_postgresql_ops, &cdp_store_pg_io},
};

static const struct cdp_store_io *io_of(const struct cdp_store *s)
{
    for (size_t i = 0; i < sizeof(ios) / sizeof(ios[0]); i++)
        if (ios[i].ops == s->ops)
            return ios[i].io;
    abort(); /* a backend without an io does not point its ops here */
}

int cdp_store_profile_resolve(struct cdp_store *s, const char *alias, char *out, size_t outlen)
{
    const struct cdp_store_io *io = io_of(s);
    char *pid = NULL;
    int rc = io->resolve(s, alias, &pid);
    if (!rc)
        snprintf(out, outlen, "%s", pid);
    free(pid);
    return rc;
}

int cdp_store_profile_erase(struct cdp_store *s, const char *id, struct cdp_erasure_counts *out)
{
    const struct cdp_store_io *io = io_of(s);
    memset(out, 0, sizeof(*out));
    char *pid = NULL;
    long other = 0;
    int rc = io->resolve(s, id, &pid);
    if (rc)
        return rc;
    /* The events go first, while the ids still say whose they are. */
    rc = io->run(s, CDP_ERASE_EVENTS, pid, NULL, &out->events);
    if (!rc)
        rc = io->run(s, CDP_ERASE_EVENT_INDEX, pid, NULL, &other);
    if (!rc)
        rc = io->run(s, CDP_ERASE_SESSIONS, pid, NULL, &out->sessions);
    if (!rc)
        rc = io->run(s, CDP_ERASE_PROFILES, pid, NULL, &out->profiles);
    if (!rc)
        rc = io->run(s, CDP_ERASE_MERGES, pid, NULL, &other);
    if (!rc)
        rc = io->run(s, CDP_ERASE_IDS, pid, NULL, &out->ids);
    free(pid);
    return rc;
}

static int export_person(struct cdp_store *s, const struct cdp_store_io *io, const char *id,
                         long max_events, cJSON *doc)
{
    cJSON *profile = NULL;
    int rc = s->ops->profile_get(s, id, &profile);
    if (rc)
        return rc;
    cJSON_AddItemToObject(doc, "profile", profile);
    const char *pid = cdp_json_str(profile, "id");
    cJSON *ids = cJSON_AddArrayToObject(doc, "ids");
    cJSON *sessions = cJSON_AddArrayToObject(doc, "sessions");
    cJSON *events = cJSON_AddArrayToObject(doc, "events");
    if (!pid || !ids || !sessions || !events)
        return pid ? CDP_E_NOMEM : CDP_E_STORE;
    if ((rc = io->list(s, CDP_PERSON_IDS, pid, NULL, false, ids)) ||
        (rc = io->list(s, CDP_PERSON_SESSIONS, pid, NULL, true, sessions)))
        return rc;
    /* One more than asked tells whether there were more. */
    char lim[24];
    if (max_events >= 0)
        snprintf(lim, sizeof(lim), "%ld", max_events + 1);
    if ((rc = io->list(s, CDP_PERSON_EVENTS, pid, max_events < 0 ? NULL : lim, true, events)))
        return rc;
    bool truncated = max_events >= 0 && cJSON_GetArraySize(events) > max_events;
    if (truncated)
        cJSON_DeleteItemFromArray(events, cJSON_GetArraySize(events) - 1);
    return cJSON_AddBoolToObject(doc, "truncated", truncated) ? 0 : CDP_E_NOMEM;
}

int cdp_store_profile_export(struct cdp_store *s, const char *id, long max_events, cJSON **out)
{
    const struct cdp_store_io *io = io_of(s);
    /* Outside a transaction, one snapshot for the whole document. */
    bool own = false;
    int rc = io->snapshot(s, &own);
    if (rc)
        return rc;
    cJSON *doc = cJSON_CreateObject();
    rc = doc ? export_person(s, io, id, max_events, doc) : CDP_E_NOMEM;
    if (own) {
        int rrc = io->snapshot_end(s);
        rc = rc ? rc : rrc;
    }
    if (rc) {
        cJSON_Delete(doc);
        return rc;
    }
    *out = doc;
    return 0;
}

/* Adds the rows of list statement st for $1 = key to a new array under obj[name]. */
static int list_into(struct cdp_store *s, const struct cdp_store_io *io, enum cdp_store_stmt st,
                     const char *key, cJSON *obj, const char *name)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return CDP_E_NOMEM;
    cdp_json_put(obj, name, arr);
    return io->list(s, st, key, NULL, false, arr);
}

int cdp_store_profile_merge(struct cdp_store *s, cJSON *record)
{
    const struct cdp_store_io *io = io_of(s);
    const char *id = cdp_json_str(record, "id");
    const char *survivor = cdp_json_str(record, "survivor.id");
    cJSON *absorbed = cJSON_GetObjectItemCaseSensitive(record, "absorbed");
    if (!id || !survivor || !cJSON_IsArray(absorbed))
        return CDP_E_INVALID;
    cJSON *a;
    cJSON_ArrayForEach(a, absorbed)
    {
        const char *aid = cdp_json_str(a, "id");
        if (!aid || strcmp(aid, survivor) == 0)
            return CDP_E_INVALID;
        long events = 0;
        int rc = list_into(s, io, CDP_MERGE_ALIASES, aid, a, "ids");
        if (!rc && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(a, "ids")) == 0) {
            /* never stored (made by the request that merges it): its ids are in the document */
            const cJSON *ids = cdp_json_get(a, "profile.ids");
            cdp_json_put(a, "ids", cJSON_Duplicate(ids ? ids : NULL, true));
        }
        if (!rc)
            rc = list_into(s, io, CDP_MERGE_SESSION_IDS, aid, a, "sessions");
        /* events first: they are found through the ids that move next */
        if (!rc)
            rc = io->run(s, CDP_MERGE_EVENTS, aid, survivor, &events);
        if (!rc)
            rc = io->run(s, CDP_MERGE_SESSIONS, aid, survivor, NULL);
        if (!rc)
            rc = io->run(s, CDP_MERGE_IDS, aid, survivor, NULL);
        if (!rc)
            rc = io->run(s, CDP_MERGE_DELETE, aid, NULL, NULL);
        if (rc)
            return rc;
        cdp_json_put_num(a, "events", (double)events);
    }
    return io->merge_log_put(s, id, survivor, record);
}

/* Runs statement st with $1 = a and $2 = the JSON text of list ("[]" when not an array). */
static int run_list(struct cdp_store *s, const struct cdp_store_io *io, enum cdp_store_stmt st,
                    const char *a, const cJSON *list)
{
    char *txt = cJSON_IsArray(list) ? cdp_json_print(list) : NULL;
    if (!txt && cJSON_IsArray(list))
        return CDP_E_NOMEM;
    int rc = io->run(s, st, a, txt ? txt : "[]", NULL);
    free(txt);
    return rc;
}

/* CDP_E_CONFLICT (why in err) when a merge later than id, not undone, built on the person pid. */
static int later_merge(struct cdp_store *s, const struct cdp_store_io *io, const char *id,
                       const char *pid, char *err, size_t errlen)
{
    cJSON *later = cJSON_CreateArray();
    int rc = later ? io->list(s, CDP_MERGE_LATER, id, pid, false, later) : CDP_E_NOMEM;
    if (!rc && cJSON_GetArraySize(later) > 0) {
        snprintf(err, errlen, "merge %s of the same profile came later: undo it first",
                 cJSON_GetArrayItem(later, 0)->valuestring);
        rc = CDP_E_CONFLICT;
    }
    cJSON_Delete(later);
    return rc;
}

static int undo_merge(struct cdp_store *s, const struct cdp_store_io *io, const char *id,
                      cJSON *rec, const char *when, char *err, size_t errlen)
{
    if (!cJSON_IsNull(cdp_json_get(rec, "undone")) && cdp_json_get(rec, "undone")) {
        snprintf(err, errlen, "merge %s was undone already (%s)", id,
                 cdp_json_str(rec, "undone") ? cdp_json_str(rec, "undone") : "?");
        return CDP_E_CONFLICT;
    }
    const char *survivor = cdp_json_str(rec, "survivor.id");
    char *pid = NULL;
    int rc = survivor ? io->resolve(s, survivor, &pid) : CDP_E_STORE;
    if (rc == CDP_E_NOT_FOUND) {
        snprintf(err, errlen, "the profile %s that merge %s made was erased", survivor, id);
        return CDP_E_CONFLICT;
    }
    if (rc)
        return rc;
    rc = later_merge(s, io, id, pid, err, errlen);
    free(pid);
    if (rc)
        return rc;
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(rec, "absorbed"))
    {
        const char *aid = cdp_json_str(a, "id");
        const cJSON *profile = cdp_json_get(a, "profile");
        if (!aid || !cJSON_IsObject(profile))
            return CDP_E_STORE;
        if ((rc = run_list(s, io, CDP_UNMERGE_IDS, aid, cdp_json_get(a, "ids"))) ||
            (rc = run_list(s, io, CDP_UNMERGE_EVENTS, aid, cdp_json_get(a, "ids"))) ||
            (rc = run_list(s, io, CDP_UNMERGE_SESSIONS, aid, cdp_json_get(a, "sessions"))) ||
            (rc = s->ops->profile_put(s, profile)))
            return rc;
    }
    const cJSON *before = cdp_json_get(rec, "survivor.before");
    if (cJSON_IsObject(before) && (rc = s->ops->profile_put(s, before)))
        return rc;
    if ((rc = io->run(s, CDP_MERGE_LOG_UNDONE, id, when, NULL)))
        return rc;
    cdp_json_put_str(rec, "undone", when);
    return 0;
}

int cdp_store_merge_undo(struct cdp_store *s, const char *id, const char *when, cJSON **out,
                         char *err, size_t errlen)
{
    const struct cdp_store_io *io = io_of(s);
    cJSON *rec = NULL;
    int rc = s->ops->merge_get(s, id, &rec);
    if (rc)
        return rc;
    rc = undo_merge(s, io, id, rec, when, err, errlen);
    if (rc) {
        cJSON_Delete(rec);
        return rc;
    }
    *out = rec;
    return 0;
}

const struct cdp_entity_query *cdp_store_entity_query(const struct cdp_entity_query *q)
{
    static const struct cdp_entity_query all = {0};
    return q ? q : &all;
}

int cdp_store_event_row(const cJSON *e, struct cdp_event_row *r)
{
    r->id = cdp_json_str(e, "id");
    r->type = cdp_json_str(e, "type");
    if (!r->id || !r->type)
        return CDP_E_INVALID;
    r->profile_id = cdp_json_str(e, "profile.id");
    r->session_id = cdp_json_str(e, "session.id");
    r->source_id = cdp_json_str(e, "source.id");
    const char *ts = cdp_json_str(e, "metadata.time.insert");
    r->inserted = 0;
    if (ts)
        cdp_clock_parse_iso(ts, &r->inserted);
    return 0;
}

int cdp_store_audit_row(const cJSON *rec, struct cdp_audit_row *r)
{
    r->time = 0;
    if (!cdp_json_str(rec, "time") || cdp_clock_parse_iso(cdp_json_str(rec, "time"), &r->time))
        return CDP_E_INVALID;
    r->user_id = cdp_json_str(rec, "user.id");
    r->email = cdp_json_str(rec, "user.email");
    r->kind = cdp_json_str(rec, "entity.kind");
    r->entity_id = cdp_json_str(rec, "entity.id");
    return 0;
}
