/* Event sources (tracardi-api.md §2.4, §1.5): validation of the entity and the collector's
 * check that a source may send through a bridge. Pure logic, no I/O. */
#ifndef CDP_MODEL_SOURCE_H
#define CDP_MODEL_SOURCE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* The id Tracardi 0.8.2 gives its internal source; system events come from it. */
#define CDP_INTERNAL_SOURCE "@internal-0053cfb8b750c197c49d"

bool cdp_source_is_enabled(const cJSON *source);
bool cdp_source_has_bridge(const cJSON *source, const char *bridge);
/* Checks and completes a source posted to the API (fills id, defaults). Returns 0, or -1 with
 * the bad field and reason in err. */
int cdp_source_normalize(cJSON *source, char *err, size_t errlen);

#endif
