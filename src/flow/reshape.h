/* Event reshaping schemas (tracardi-api.md §2.12): for events of a type, and optionally of one
 * source, object templates (flow/template.h) rewrite the event's properties and context and the
 * session's context before the event is validated, mapped or routed, so senders that cannot
 * change their payloads still produce the shape the rest of the configuration expects.
 * Tracardi's record:
 *   {id, name, description, event_type: "<type>", event_source: {id, name} (id "" = any),
 *    tags, enabled,
 *    reshaping: {reshape_schema: {properties: <template>, context: <template>,
 *                                 session: <template>}}}
 * A template is any JSON object; a string in it that is a whole `event@…` or `session@…`
 * reference becomes a copy of the referenced value (null when missing), through objects and
 * arrays; a key ending in `?` is left out when its value is missing or empty; everything else
 * is kept as written. An absent or empty template leaves its part alone. All templates of a
 * schema read the event and session as they were before it applied. No I/O. */
#ifndef CDP_FLOW_RESHAPE_H
#define CDP_FLOW_RESHAPE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct cdp_reshape;

/* Checks a schema document and fills its defaults (id, description, enabled, tags,
 * event_source as {id, name}, event_type as a string). CDP_E_INVALID with "<field>: why" in
 * err, e.g. "reshaping.reshape_schema.properties.email: `event@properties..x` is not a
 * reference"; CDP_E_NOMEM. */
int cdp_reshape_normalize(cJSON *doc, char *err, size_t errlen);
/* A schema ready to apply (its templates copied), from a normalized document; the checks of
 * cdp_reshape_normalize apply (CDP_E_INVALID with err). Free with cdp_reshape_free. */
int cdp_reshape_compile(const cJSON *doc, struct cdp_reshape **out, char *err, size_t errlen);
void cdp_reshape_free(struct cdp_reshape *r);
/* qsort order of struct cdp_reshape pointers: by name, then id. */
int cdp_reshape_cmp(const void *a, const void *b);
/* Whether r applies to events of type sent by source_id (NULL as ""). */
bool cdp_reshape_matches(const struct cdp_reshape *r, const char *type, const char *source_id);
/* Applies r to event and session (which may be NULL: then a session template is skipped):
 * 1 when something was replaced, *session_changed telling whether the session's context was;
 * 0 when r has nothing to do; CDP_E_NOMEM (nothing is replaced then). */
int cdp_reshape_apply(const struct cdp_reshape *r, cJSON *event, cJSON *session,
                      bool *session_changed);

#endif
