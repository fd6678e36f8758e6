/* Event-to-profile mappings (tracardi-api.md §2.10): for events of a type, copy event fields
 * into the profile with an operation, when an optional condition (flow/tql.h) holds. Tracardi's
 * record: {id, name, description, event_type: {id, name}, enabled, config: {condition},
 * event_to_profile: [{event: {value: "properties.email", ref}, op, profile: {value:
 * "data.contact.email.main", ref}}], tags}. op is 0 set, 1 set if the profile field is missing
 * or empty, 2 append (the field becomes a list; no duplicates), 3 increment by a number (cdpd's
 * addition); the names "set", "set_if_empty", "append", "increment" work too. Event paths are
 * relative to the event (or `event@…`); profile paths must start with data, traits, ids, stats,
 * segments, interests, consents, aux, misc or trash, as Tracardi's. No I/O. */
#ifndef CDP_FLOW_MAPPING_H
#define CDP_FLOW_MAPPING_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cdp_mapping;

/* Checks a mapping document and fills its defaults (id, description, enabled, tags, ops as
 * numbers, event_type as {id, name}). CDP_E_INVALID with "<field>: why" in err. */
int cdp_mapping_normalize(cJSON *doc, char *err, size_t errlen);
int cdp_mapping_compile(const cJSON *doc, struct cdp_mapping **out, char *err, size_t errlen);
void cdp_mapping_free(struct cdp_mapping *m);
/* Whether key is one of the profile's top-level fields that config may write (data, traits,
 * ids, stats, segments, interests, consents, aux, misc, trash). */
bool cdp_mapping_profile_root(const char *key);
const char *cdp_mapping_event_type(const struct cdp_mapping *m);
/* Applies m for event to profile: 1 when the profile changed, 0 when not (the condition does not
 * hold or nothing differs), CDP_E_NOMEM. Values that are missing in the event are skipped. */
int cdp_mapping_apply(const struct cdp_mapping *m, const cJSON *event, cJSON *profile,
                      const cJSON *session, int64_t now_us);

#endif
