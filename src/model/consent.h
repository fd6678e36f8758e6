/* Consents (tracardi-api.md §2.9): consent types as config entities, and the grants a profile
 * holds in profile.consents as {"<type id>": {"revoke": ISO time or null}}. Pure logic. */
#ifndef CDP_MODEL_CONSENT_H
#define CDP_MODEL_CONSENT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Checks a consent type and fills its defaults: id (the slug of the name when missing),
 * description "", revokable true, default_value "deny" ("grant" or "deny"), enabled true,
 * required false, tags [], auto_revoke "" (or a duration such as "30d", "12h", "1w").
 * CDP_E_INVALID with "<field>: why" in err. */
int cdp_consent_type_normalize(cJSON *doc, char *err, size_t errlen);

/* Whether consents (a profile's "consents" object) holds type id unrevoked at now_us: 1 yes,
 * 0 no (missing, or its revoke time has passed), -1 when its revoke is not an ISO time. */
int cdp_consent_held(const cJSON *consents, const char *id, int64_t now_us);

/* Applies a consent update to profile: grants (true) and withdrawals (false) by type id, or, with
 * all, grants every enabled type. types is an array of consent type documents. A grant's revoke
 * time is now + the type's auto_revoke, or null. Withdrawing a type that is not revokable is
 * refused. Sets profile.aux.consents.granted. Returns 1 when the profile changed, 0 when not,
 * CDP_E_FORBIDDEN with a message naming the consent when one is unknown, disabled or not
 * revokable (nothing is changed then), CDP_E_INVALID for a malformed update. */
int cdp_consent_apply(cJSON *profile, const cJSON *types, const cJSON *consents, bool all,
                      int64_t now_us, char *err, size_t errlen);

#endif
