/* Identity resolution's pure part: folding one profile into another (tracardi-api.md §3.2, minus
 * Tracardi's defects #892 and #850) and the hashed contact ids that make profiles of one person
 * find each other (§3.4). No I/O: collect/identity.c does the store's side. */
#ifndef CDP_MODEL_MERGE_H
#define CDP_MODEL_MERGE_H

#include <cjson/cJSON.h>
#include <stdbool.h>

/* Folds other into survivor, which keeps its id:
 * - ids, segments and list values are united; consents and objects are united key by key;
 * - stats (visits, views, counters), metadata.time.visit.count, interests and the numbers of
 *   data.metrics are summed; the earliest insert/create and the latest update/visit are kept;
 * - any other value the survivor lacks (missing or null) is taken from other, so no personal data
 *   is lost; where both hold different values the survivor's stays and aux.conflicts records
 *   every value seen under the field's path ({"data.pii.firstname": ["Ann", "Anna"]});
 * - data.anonymous is recomputed.
 * Returns 0 or CDP_E_NOMEM. */
int cdp_profile_merge(cJSON *survivor, const cJSON *other);

/* Whether the profile has an email, phone or messenger contact (Tracardi's !data.anonymous). */
bool cdp_profile_has_contact(const cJSON *profile);

/* Adds to ids the hashed id of every email and phone field that is set: the field's prefix
 * (emm, emb, emp, phm, phb, pho, pwa), a dash, and a keyed BLAKE2b hash of the trimmed,
 * lower-cased value under the installation's salt, in UUID form. Ids of earlier values stay,
 * so an old address still finds the person. Returns how many ids it added, or CDP_E_NOMEM. */
int cdp_profile_auto_ids(cJSON *profile, const char *salt);

#endif
