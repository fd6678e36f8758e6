/* Folding profiles together and hashed contact ids: see merge.h. */
#include "model/merge.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

enum {
    SUM = 1,      /* numbers on both sides add up */
    CONFLICT = 2, /* different values are recorded in aux.conflicts */
};

struct fold {
    cJSON *conflicts; /* {path: [values]} found by this fold */
    char path[512];
};

static bool empty(const cJSON *v)
{
    return !v || cJSON_IsNull(v);
}

static int add_unique(cJSON *arr, const cJSON *v)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (cJSON_Compare(it, v, true))
            return 0;
    }
    cJSON *copy = cJSON_Duplicate(v, true);
    return copy && cJSON_AddItemToArray(arr, copy) ? 0 : CDP_E_NOMEM;
}

static int unite(cJSON *dst, const cJSON *src)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, src)
    {
        if (add_unique(dst, it))
            return CDP_E_NOMEM;
    }
    return 0;
}

static int conflict(struct fold *f, const cJSON *a, const cJSON *b)
{
    cJSON *list = cJSON_GetObjectItemCaseSensitive(f->conflicts, f->path);
    if (!list && !(list = cJSON_AddArrayToObject(f->conflicts, f->path)))
        return CDP_E_NOMEM;
    return add_unique(list, a) || add_unique(list, b) ? CDP_E_NOMEM : 0;
}

/* Folds object src into object dst; f->path[0..plen) is dst's path. */
static int fold(struct fold *f, cJSON *dst, const cJSON *src, size_t plen, int mode)
{
    const cJSON *sv;
    cJSON_ArrayForEach(sv, src)
    {
        if (!sv->string)
            continue;
        int n =
            snprintf(f->path + plen, sizeof(f->path) - plen, "%s%s", plen ? "." : "", sv->string);
        size_t len = n < 0 ? plen : plen + (size_t)n;
        if (len >= sizeof(f->path))
            len = sizeof(f->path) - 1;
        int m = strcmp(f->path, "data.metrics") == 0 ? mode | SUM : mode;
        if (strcmp(f->path, "data.anonymous") == 0)
            continue; /* recomputed from the contacts at the end */
        cJSON *dv = cJSON_GetObjectItemCaseSensitive(dst, sv->string);
        int rc = 0;
        if (empty(sv)) {
            continue;
        } else if (empty(dv)) {
            cJSON *copy = cJSON_Duplicate(sv, true);
            if (!copy)
                return CDP_E_NOMEM;
            cdp_json_put(dst, sv->string, copy);
        } else if (cJSON_IsObject(dv) && cJSON_IsObject(sv)) {
            rc = fold(f, dv, sv, len, m);
        } else if (cJSON_IsArray(dv) && cJSON_IsArray(sv)) {
            rc = unite(dv, sv);
        } else if ((m & SUM) && cJSON_IsNumber(dv) && cJSON_IsNumber(sv)) {
            cJSON_SetNumberValue(dv, dv->valuedouble + sv->valuedouble);
        } else if ((m & CONFLICT) && !cJSON_Compare(dv, sv, true)) {
            rc = conflict(f, dv, sv);
        }
        f->path[plen] = '\0';
        if (rc)
            return rc;
    }
    return 0;
}

static int fold_key(struct fold *f, cJSON *survivor, const cJSON *other, const char *key, int mode)
{
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(other, key);
    if (empty(sv))
        return 0;
    cJSON *dv = cJSON_GetObjectItemCaseSensitive(survivor, key);
    if (!cJSON_IsObject(dv) || !cJSON_IsObject(sv)) {
        cJSON *wrap = cJSON_CreateObject(), *copy = cJSON_Duplicate(sv, true);
        if (!wrap || !copy) {
            cJSON_Delete(wrap);
            cJSON_Delete(copy);
            return CDP_E_NOMEM;
        }
        cJSON_AddItemToObject(wrap, key, copy);
        f->path[0] = '\0';
        int rc = fold(f, survivor, wrap, 0, mode);
        cJSON_Delete(wrap);
        return rc;
    }
    snprintf(f->path, sizeof(f->path), "%s", key);
    return fold(f, dv, sv, strlen(f->path), mode);
}

/* A time of the profile's metadata.time, or 0 when it has none. */
static int64_t when(const cJSON *v)
{
    int64_t t = 0;
    return cJSON_IsString(v) && cdp_clock_parse_iso(v->valuestring, &t) == 0 ? t : 0;
}

/* Sets dst[key] to src[key] when keep_later says src's time is the one to keep. */
static void pick_time(cJSON *dst, const cJSON *src, const char *key, bool later)
{
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(src, key);
    int64_t s = when(sv), d = when(cJSON_GetObjectItemCaseSensitive(dst, key));
    if (s && (!d || (later ? s > d : s < d)))
        cdp_json_put(dst, key, cJSON_Duplicate(sv, false));
}

/* The two latest visits of both profiles become current and last; counts add up. */
static void merge_visits(cJSON *dv, const cJSON *sv)
{
    const cJSON *times[4] = {
        cJSON_GetObjectItemCaseSensitive(dv, "current"),
        cJSON_GetObjectItemCaseSensitive(dv, "last"),
        cJSON_GetObjectItemCaseSensitive(sv, "current"),
        cJSON_GetObjectItemCaseSensitive(sv, "last"),
    };
    int best = -1, second = -1;
    for (int i = 0; i < 4; i++) {
        int64_t t = when(times[i]);
        if (!t)
            continue;
        if (best < 0 || t > when(times[best])) {
            second = best;
            best = i;
        } else if (t != when(times[best]) && (second < 0 || t > when(times[second]))) {
            second = i;
        }
    }
    const cJSON *tz = cJSON_GetObjectItemCaseSensitive(best >= 2 ? sv : dv, "tz");
    cJSON *cur = best >= 0 ? cJSON_Duplicate(times[best], false) : cJSON_CreateNull();
    cJSON *last = second >= 0 ? cJSON_Duplicate(times[second], false) : cJSON_CreateNull();
    cJSON *tzc = tz ? cJSON_Duplicate(tz, false) : cJSON_CreateNull();
    cdp_json_put(dv, "current", cur);
    cdp_json_put(dv, "last", last);
    cdp_json_put(dv, "tz", tzc);
    const cJSON *dc = cJSON_GetObjectItemCaseSensitive(dv, "count");
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(sv, "count");
    cdp_json_put_num(dv, "count",
                     (cJSON_IsNumber(dc) ? dc->valuedouble : 0) +
                         (cJSON_IsNumber(sc) ? sc->valuedouble : 0));
}

static void merge_times(cJSON *survivor, const cJSON *other)
{
    cJSON *dt = cdp_json_obj(cdp_json_obj(survivor, "metadata"), "time");
    const cJSON *st = cdp_json_get(other, "metadata.time");
    if (!cJSON_IsObject(dt) || !cJSON_IsObject(st))
        return;
    pick_time(dt, st, "insert", false);
    pick_time(dt, st, "create", false);
    pick_time(dt, st, "update", true);
    pick_time(dt, st, "segmentation", true);
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(st, "visit");
    if (cJSON_IsObject(sv))
        merge_visits(cdp_json_obj(dt, "visit"), sv);
}

/* metadata.fields: {field: [time, event id]}; the newer entry of each field stays. */
static int merge_fields(cJSON *survivor, const cJSON *other)
{
    cJSON *df = cdp_json_obj(cdp_json_obj(survivor, "metadata"), "fields");
    const cJSON *sf = cdp_json_get(other, "metadata.fields");
    const cJSON *it;
    cJSON_ArrayForEach(it, sf)
    {
        const cJSON *mine = cJSON_GetObjectItemCaseSensitive(df, it->string);
        const char *a =
            cJSON_IsArray(mine) ? cJSON_GetStringValue(cJSON_GetArrayItem(mine, 0)) : NULL;
        const char *b = cJSON_GetStringValue(cJSON_GetArrayItem(it, 0));
        if (mine && (!b || (a && strcmp(a, b) >= 0)))
            continue;
        cJSON *copy = cJSON_Duplicate(it, true);
        if (!copy)
            return CDP_E_NOMEM;
        cdp_json_put(df, it->string, copy);
    }
    return 0;
}

int cdp_profile_merge(cJSON *survivor, const cJSON *other)
{
    struct fold f = {.conflicts = cJSON_CreateObject()};
    if (!f.conflicts)
        return CDP_E_NOMEM;
    int rc = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, other)
    {
        const char *k = it->string;
        if (!k || strcmp(k, "id") == 0 || strcmp(k, "operation") == 0)
            continue;
        if (strcmp(k, "metadata") == 0) {
            merge_times(survivor, other);
            rc = merge_fields(survivor, other);
            /* The rest of metadata (aux, system, status): filled in and united, no conflicts. */
            cJSON *md = cdp_json_obj(survivor, "metadata");
            cJSON *rest = cJSON_Duplicate(it, true);
            if (!rc && !rest)
                rc = CDP_E_NOMEM;
            if (!rc) {
                cJSON_DeleteItemFromObjectCaseSensitive(rest, "time");
                cJSON_DeleteItemFromObjectCaseSensitive(rest, "fields");
                snprintf(f.path, sizeof(f.path), "metadata");
                rc = fold(&f, md, rest, strlen(f.path), 0);
            }
            cJSON_Delete(rest);
        } else if (strcmp(k, "stats") == 0 || strcmp(k, "interests") == 0) {
            rc = fold_key(&f, survivor, other, k, SUM);
        } else if (strcmp(k, "traits") == 0 || strcmp(k, "data") == 0 || strcmp(k, "aux") == 0) {
            rc = fold_key(&f, survivor, other, k, CONFLICT);
        } else if (strcmp(k, "active") == 0) {
            if (cJSON_IsTrue(it))
                cdp_json_put_bool(survivor, "active", true);
        } else {
            /* ids, segments, consents and anything else: united, the survivor's values stay */
            rc = fold_key(&f, survivor, other, k, 0);
        }
        if (rc)
            break;
    }
    if (!rc && cJSON_GetArraySize(f.conflicts) > 0) {
        cJSON *held = cdp_json_obj(cdp_json_obj(survivor, "aux"), "conflicts");
        cJSON_ArrayForEach(it, f.conflicts)
        {
            cJSON *list = cJSON_GetObjectItemCaseSensitive(held, it->string);
            if (!cJSON_IsArray(list))
                cdp_json_put(held, it->string, list = cJSON_CreateArray());
            if ((rc = unite(list, it)))
                break;
        }
    }
    cJSON_Delete(f.conflicts);
    if (!rc)
        cdp_json_put_bool(cdp_json_obj(survivor, "data"), "anonymous",
                          !cdp_profile_has_contact(survivor));
    return rc;
}

static bool set_string(const cJSON *v)
{
    return cJSON_IsString(v) && v->valuestring[strspn(v->valuestring, " \t\r\n")];
}

bool cdp_profile_has_contact(const cJSON *p)
{
    static const char *const groups[] = {"data.contact.email", "data.contact.phone",
                                         "data.contact.app", NULL};
    for (int g = 0; groups[g]; g++) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cdp_json_get(p, groups[g]))
        {
            if (set_string(it))
                return true;
        }
    }
    return false;
}

static const struct {
    const char *path, *prefix;
} contact_ids[] = {
    {"data.contact.email.main", "emm"},     {"data.contact.email.business", "emb"},
    {"data.contact.email.private", "emp"},  {"data.contact.phone.main", "phm"},
    {"data.contact.phone.business", "phb"}, {"data.contact.phone.mobile", "pho"},
    {"data.contact.phone.whatsapp", "pwa"},
};

/* prefix-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx from the normalised value, keyed by key. */
static int hashed_id(const char *prefix, const char *value, const unsigned char *key, char *out,
                     size_t outlen)
{
    char norm[512];
    while (isspace((unsigned char)*value))
        value++;
    size_t n = 0;
    for (; value[n] && n < sizeof(norm) - 1; n++)
        norm[n] = (char)tolower((unsigned char)value[n]);
    while (n && isspace((unsigned char)norm[n - 1]))
        n--;
    if (!n)
        return -1;
    unsigned char h[16];
    crypto_generichash(h, sizeof(h), (const unsigned char *)norm, n, key,
                       crypto_generichash_KEYBYTES);
    char hex[33];
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    snprintf(out, outlen, "%s-%.8s-%.4s-%.4s-%.4s-%.12s", prefix, hex, hex + 8, hex + 12, hex + 16,
             hex + 20);
    return 0;
}

int cdp_profile_auto_ids(cJSON *profile, const char *salt)
{
    if (!salt || !*salt)
        return 0;
    cJSON *ids = cJSON_GetObjectItemCaseSensitive(profile, "ids");
    int added = 0;
    unsigned char key[crypto_generichash_KEYBYTES];
    bool keyed = false;
    for (size_t i = 0; i < sizeof(contact_ids) / sizeof(contact_ids[0]); i++) {
        const char *v = cdp_json_str(profile, contact_ids[i].path);
        char id[64];
        if (!v)
            continue;
        if (!keyed) { /* the salt of any length, as a key of the hash's size */
            crypto_generichash(key, sizeof(key), (const unsigned char *)salt, strlen(salt), NULL,
                               0);
            keyed = true;
        }
        if (hashed_id(contact_ids[i].prefix, v, key, id, sizeof(id)))
            continue;
        if (!cJSON_IsArray(ids)) {
            cdp_json_put(profile, "ids", ids = cJSON_CreateArray());
            if (!ids)
                return CDP_E_NOMEM;
        }
        cJSON *item = cJSON_CreateString(id);
        if (!item)
            return CDP_E_NOMEM;
        int before = cJSON_GetArraySize(ids);
        int rc = add_unique(ids, item);
        cJSON_Delete(item);
        if (rc)
            return rc;
        added += cJSON_GetArraySize(ids) - before;
    }
    return added;
}
