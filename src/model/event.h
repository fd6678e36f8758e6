/* Event documents (tracardi-api.md §2.3) and event-type naming. Pure logic, no I/O. */
#ifndef CDP_MODEL_EVENT_H
#define CDP_MODEL_EVENT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define CDP_EVENT_TYPE_MAX 128

/* "Page View " -> "page-view": trimmed, lower-cased, spaces to dashes. Returns the length, or
 * 0 when nothing is left or it does not fit. */
size_t cdp_event_type_slug(const char *in, char *out, size_t outlen);
/* "page-view" -> "Page View". */
void cdp_event_type_name(const char *slug, char *out, size_t outlen);

/* A new event of type slug with the default fields; caller owns it. */
cJSON *cdp_event_new(const char *id, const char *slug, int64_t now_us);

#endif
