/* Identity resolution with the store: merging profiles (recorded, undoable) and finding the
 * profiles one person left behind. model/merge.h folds the documents; the store moves ids,
 * sessions and events (cdp_store_ops.profile_merge). Callers own the transaction. */
#ifndef CDP_COLLECT_IDENTITY_H
#define CDP_COLLECT_IDENTITY_H

#include <cjson/cJSON.h>
#include <stdint.h>

struct cdp_store;

/* Folds every document of others (borrowed; absorbed profiles, stored or not) into survivor,
 * moves their ids, sessions and events to it, writes the survivor and keeps a record of the
 * merge ({id, time, survivor: {id, before}, absorbed: [{id, profile, ids, sessions, events}],
 * cause, undone}); *record (may be NULL) gets a copy without the profile snapshots. */
int cdp_identity_merge(struct cdp_store *s, cJSON *survivor, const cJSON *others,
                       const cJSON *cause, int64_t now_us, cJSON **record);

/* Adds to out (an array) the primary ids of the other stored profiles that any id of profile
 * belongs to, each once. */
int cdp_identity_shared(struct cdp_store *s, const cJSON *profile, cJSON *out);

/* Adds to out the ids of the other stored profiles whose fields equal the profile's at every
 * path of keys (an array of "profile@path" or "path" strings). 0 when the profile lacks a value
 * at one of them (nothing to merge by), 1 when it looked, CDP_E_INVALID for a key that cannot be
 * looked up, with why in err. */
int cdp_identity_find(struct cdp_store *s, const cJSON *profile, const cJSON *keys, cJSON *out,
                      char *err, size_t errlen);

/* What cdp_identity_sweep did. */
struct cdp_sweep {
    long profiles; /* looked at */
    long ids;      /* profiles that got hashed contact ids they lacked */
    long merges;   /* merges made */
    long absorbed; /* profiles merged into others */
};

/* `cdpd job merge`: gives every stored profile the hashed ids of its contacts (salt) and merges
 * the profiles that share an id, the oldest surviving; in transactions of a few hundred
 * profiles, so the collector is never held up long. */
int cdp_identity_sweep(struct cdp_store *s, const char *salt, int64_t now_us,
                       struct cdp_sweep *out);

/* Adds to out the ids of the other stored profiles (not self) whose fields equal the values of
 * query ({"<profile path>": value}): 1 when it looked, CDP_E_INVALID (why in err) when a path
 * or value cannot be looked up. */
int cdp_identity_find_by(struct cdp_store *s, const cJSON *query, const char *self, cJSON *out,
                         char *err, size_t errlen);

/* A merge record as the API shows it in lists: without the profile snapshots. */
cJSON *cdp_identity_summary(const cJSON *record);

#endif
