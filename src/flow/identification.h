/* Identification points (tracardi-api.md §2.14, §3.3): an event of a type, from a source or any,
 * that names who the person is. Each field pairs an event property with the profile field that
 * holds the same value, so the profile can be found (and merged) by those values. Tracardi's
 * record:
 *   {id, name, description, source: {id, name} (id "" = any), event_type: {id, name},
 *    fields: [{profile_trait: {value: "data.contact.email.main", ref: true},
 *              event_property: {value: "properties.email", ref: true}}],
 *    enabled, settings: {}}
 * Event paths are relative to the event (or `event@…`); profile paths (or `profile@…`) must lie
 * below data, traits, ids, stats, segments, interests, consents, aux, misc or trash, as
 * event-to-profile mappings' (flow/mapping.h), and appear once per point. No I/O. */
#ifndef CDP_FLOW_IDENTIFICATION_H
#define CDP_FLOW_IDENTIFICATION_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct cdp_identification;

/* Checks a point and fills its defaults (id, description, enabled, settings, source and
 * event_type as {id, name}, fields' plain strings as {value, ref: true}). CDP_E_INVALID with
 * "<field>: why" in err (e.g. "fields[1].profile_trait: …"); CDP_E_NOMEM. */
int cdp_identification_normalize(cJSON *doc, char *err, size_t errlen);
/* A point ready to match, from a normalized document (its checks apply: CDP_E_INVALID with
 * err). Free with cdp_identification_free. */
int cdp_identification_compile(const cJSON *doc, struct cdp_identification **out, char *err,
                               size_t errlen);
void cdp_identification_free(struct cdp_identification *p);
/* qsort order of struct cdp_identification pointers: by name, then id. */
int cdp_identification_cmp(const void *a, const void *b);
/* Whether p is for events of type sent by source_id (NULL as ""). */
bool cdp_identification_matches(const struct cdp_identification *p, const char *type,
                                const char *source_id);
/* The values that identify the person of event: when every event property of p is present and
 * not empty (null, "", [] and {} are empty), sets *keys to a new object {"<profile path>":
 * <copy of the value>, ...} with dotted profile paths ("data.contact.email.main") and returns 1;
 * else 0 with *keys NULL. CDP_E_NOMEM. */
int cdp_identification_keys(const struct cdp_identification *p, const cJSON *event, cJSON **keys);

#endif
