/* Segments (tracardi-flows.md §8.2): a named condition over the profile, evaluated after the
 * events of a request (live segmentation) with the condition language (flow/tql.h). A segment holds
 * for the events of its eventType list (any event when the list is empty); when its condition is
 * true the profile gets its machine_name in profile.segments, and, when remove_when_false is set
 * (cdpd's addition), loses it again once the condition no longer holds. No I/O. */
#ifndef CDP_FLOW_SEGMENT_H
#define CDP_FLOW_SEGMENT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cdp_segment;
struct cdp_tql;

/* Checks a segment document and fills its defaults: id (a uuid4), description "",
 * eventType [] (items may be ids or {id, name}; stored as ids), enabled true,
 * remove_when_false false, machine_name (the slug of the name: lower-case letters, digits and
 * '-'). CDP_E_INVALID with "<field>: why" in err (a condition that does not parse names its
 * position). */
int cdp_segment_normalize(cJSON *doc, char *err, size_t errlen);
/* Compiles a normalized segment; NULL-free on failure. */
int cdp_segment_compile(const cJSON *doc, struct cdp_segment **out, char *err, size_t errlen);
void cdp_segment_free(struct cdp_segment *seg);
const char *cdp_segment_machine_name(const struct cdp_segment *seg);
/* The compiled condition (owned by seg) and the remove_when_false switch, for batch runs. */
const struct cdp_tql *cdp_segment_condition(const struct cdp_segment *seg);
bool cdp_segment_removes_when_false(const struct cdp_segment *seg);
/* Whether an event of this type is one the segment is evaluated for. */
bool cdp_segment_wants(const struct cdp_segment *seg, const char *event_type);
/* Evaluates seg for profile after event and adds or removes its machine name. Returns 1 when
 * profile.segments changed, 0 when not, CDP_E_NOMEM. */
int cdp_segment_apply(const struct cdp_segment *seg, cJSON *profile, const cJSON *event,
                      const cJSON *session, int64_t now_us);
/* The membership half of cdp_segment_apply, for a condition already evaluated (holds): adds
 * name to profile.segments (a new list when segments is not one) or, with remove_when_false,
 * removes its last occurrence, stamping metadata.time.segmentation; 1 when it changed. */
int cdp_segment_set_member(cJSON *profile, const char *name, bool remove_when_false, bool holds,
                           int64_t now_us);

#endif
