/* Consents (tracardi-api.md §2.9): consent types as config entities, and the grants a profile
 * holds in profile.consents as {"<type id>": {"revoke": ISO time or null}}. Pure logic.
 *
 * Expiry: a grant whose revoke time has come (revoke <= now) counts as revoked. Nothing rewrites
 * the stored grant then: it stays in profile.consents with its revoke time, the record of when it
 * ended, and every reader judges it by cdp_consent_held at its own now (rules' required consents,
 * the Has consents plugin). Granting it again gives a fresh revoke time; withdrawing it removes
 * the entry. */
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

/* Whether consents (a profile's "consents" object) holds type id unrevoked at now_us: 1 yes
 * (revoke null or missing: until withdrawn; else now_us before the revoke time), 0 no (missing,
 * or now_us at or past its revoke time), -1 when its revoke is not an ISO time. */
int cdp_consent_held(const cJSON *consents, const char *id, int64_t now_us);

/* Applies a consent update to profile: grants (true) and withdrawals (false) by type id, or, with
 * all, grants every enabled type not held at now_us (one still held keeps its revoke time). types
 * is an array of consent type documents. A grant's revoke time is now + the type's auto_revoke,
 * or null. Withdrawing a type that is not revokable is refused. Sets profile.aux.consents.granted.
 * Returns 1 when the profile changed, 0 when not, CDP_E_FORBIDDEN with a message naming the
 * consent when one is unknown, disabled or not revokable (nothing is changed then), CDP_E_INVALID
 * for a malformed update. */
int cdp_consent_apply(cJSON *profile, const cJSON *types, const cJSON *consents, bool all,
                      int64_t now_us, char *err, size_t errlen);

#endif
