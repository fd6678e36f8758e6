/* Session documents (tracardi-api.md §2.2). Pure logic, no I/O. */
#ifndef CDP_MODEL_SESSION_H
#define CDP_MODEL_SESSION_H

#include <cjson/cJSON.h>
#include <stdint.h>

cJSON *cdp_session_new(const char *id, const char *profile_id, int64_t now_us, const char *channel);
/* Updates metadata.time.update and duration (seconds since insert). */
void cdp_session_touch(cJSON *session, int64_t now_us);
/* Points the session at a profile (NULL for none). */
void cdp_session_set_profile(cJSON *session, const char *profile_id);

#endif
