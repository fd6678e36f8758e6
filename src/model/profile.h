/* Profile documents with Tracardi's field names (tracardi-api.md §2.1). Pure logic, no I/O. */
#ifndef CDP_MODEL_PROFILE_H
#define CDP_MODEL_PROFILE_H

#include <cjson/cJSON.h>
#include <stdint.h>

/* A new profile with every default field; caller owns it. */
cJSON *cdp_profile_new(const char *id, int64_t now_us);
/* Counts a visit: visit.last = visit.current, visit.current = now, visit.count += 1. */
void cdp_profile_count_visit(cJSON *profile, int64_t now_us, const char *tz);
/* Marks the profile updated now. */
void cdp_profile_touch(cJSON *profile, int64_t now_us);
/* Adds a spoken language if it is not listed yet; returns 1 if it changed the profile. */
int cdp_profile_add_language(cJSON *profile, const char *lang);

#endif
