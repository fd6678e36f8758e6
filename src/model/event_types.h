/* Tracardi's predefined (built-in) event types (tracardi-api.md §2.10, §9 item 12): a fixed
 * table of well-known event types such as "sign-up", "checkout-completed" or "page-view", each
 * with a display name, a group, a description, a JSON Schema of its properties, the tags and
 * journey state it gives the event, and the profile operations it implies. Pure logic.
 *
 * A type is the JSON document
 *   {"id": "sign-up", "name": "Sign-up", "group": "identity", "description": "...",
 *    "properties": {"type": "object", "properties": {...}},
 *    "profile": [{"event": "properties.email", "op": "set", "profile": "data.contact.email.main"},
 *                {"value": 1, "op": "increment", "profile": "data.metrics.ltcocc"}, ...],
 *    "copy": {"data.contact.email.main": "properties.email", ...},
 *    "tags": ["entity:profile"], "state": "consideration" or null}
 * A profile operation reads the dotted path "event" of the event (or, without "event", uses the
 * constant "value") and changes the dotted path "profile" of the profile. Ops (Tracardi's name):
 *   set           (equal)                 overwrite when different;
 *   set_if_empty  (equals_if_not_exists)  only when the target is missing, null, "", [] or {};
 *   append        (append)                the target becomes a list (a scalar is wrapped), the
 *                                         value (or each item of a list value) is added unless
 *                                         already present;
 *   increment     (+, increment)          target += value, a missing target counting as 0;
 *   decrement     (-, decrement)          target -= value.
 * "copy" is Tracardi's copy of event fields into the event's own data and hit (target path:
 * source path), e.g. page-view's properties.category into hit.page.category, checkout-started's
 * properties.value into data.ec.checkout.value, sign-up's properties.email into
 * data.contact.email.main; the operations still read the event's properties directly, so they
 * do not depend on it. The interest types (increase-interest, decrease-interest,
 * reset-interest) change profile.interests[<properties.interest>] by properties.value (default
 * 1; reset: set to it, default 0) and are handled by code, not by the table; their "profile"
 * list is empty. consent-update has no operations: cdpd applies consents elsewhere (consent.h). */
#ifndef CDP_MODEL_EVENT_TYPES_H
#define CDP_MODEL_EVENT_TYPES_H

#include <cjson/cJSON.h>
#include <stdint.h>

/* The built-in types as a JSON array (the documents above), built once on first use
 * (thread-safe) and kept for the life of the process: never change or free it. NULL only when
 * memory ran out while building it (a later call does not retry). */
const cJSON *cdp_event_types_all(void);

/* The built-in type whose id is type_id, or NULL (also on OOM). Borrowed from the table. */
const cJSON *cdp_event_type_get(const char *type_id);

/* A new document in the shape of Tracardi's GET /event-types/build-in/by_type:
 * {"total": <number of types>, "grouped": {"<Group name>": [<type>, ...], ...}}, groups in
 * table order under their display names ("Identity", "Data", "Ecommerce", "Interests",
 * "Traffic", ...). Free with cJSON_Delete. NULL on OOM. */
cJSON *cdp_event_types_by_type(void);

/* Applies the profile operations of the built-in type named by event "type" to profile, as
 * described above. Event fields that are missing or null are skipped, as are increments whose
 * value or target is not a number and appends to an object. now_us is reserved (the caller sets
 * the profile's update time). Returns 1 when the profile changed, 0 when not (also for an
 * unknown or missing type), CDP_E_NOMEM (the profile may then be partly updated). */
int cdp_event_type_apply(const cJSON *event, cJSON *profile, int64_t now_us);

/* Copies the fields of the "copy" map of the built-in type named by event "type" within event
 * (into its data and hit); source fields that are missing or null are skipped. Returns 1 when
 * event changed, 0 when not (also for an unknown type), CDP_E_NOMEM. */
int cdp_event_type_copy(cJSON *event);

/* Applies a list of profile operations in the form of a type's "profile" list to profile,
 * reading event values from event; also for mappings that are not built in. "op" may be cdpd's
 * name or Tracardi's (equal, equals, equals_if_not_exists, append, +, -, increment,
 * decrement); operations with an unknown op, no "profile" path, or no value are skipped (an
 * empty path segment or one longer than 255 bytes skips the operation too). Returns 1 when
 * the profile changed, 0 when not, CDP_E_NOMEM. */
int cdp_event_profile_ops_apply(const cJSON *ops, const cJSON *event, cJSON *profile);

#endif
