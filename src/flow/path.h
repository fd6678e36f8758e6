/* Tracardi's dot notation: `source@path` references into the documents a flow works on
 * (profile, event, session, payload, flow, memory). A path is dot-separated keys, numeric keys
 * index arrays, `["key with spaces"]` quotes a key, and `source@...` or `source@` is the whole
 * document. References are parsed once into struct cdp_path so the condition language can
 * resolve them many times without re-parsing. The trees in struct cdp_refs belong to the caller;
 * this module only reads them, or writes into them through cdp_path_set. */
#ifndef CDP_FLOW_PATH_H
#define CDP_FLOW_PATH_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

enum cdp_path_source {
    CDP_PATH_PROFILE,
    CDP_PATH_EVENT,
    CDP_PATH_SESSION,
    CDP_PATH_PAYLOAD,
    CDP_PATH_FLOW,
    CDP_PATH_MEMORY,
};

/* The documents references point into; any may be NULL (then every path under it is missing). */
struct cdp_refs {
    cJSON *profile, *event, *session, *payload, *flow, *memory;
};

/* A parsed reference. nseg == 0 means the whole document. */
struct cdp_path {
    enum cdp_path_source source;
    size_t nseg;
    char *seg[]; /* keys, NUL-terminated, owned by the path */
};

/* Length of the reference that starts s (at most len bytes), or 0 when s does not start with
 * `source@`. Only scans; cdp_path_parse validates. */
size_t cdp_path_scan(const char *s, size_t len);
/* Parses exactly len bytes as a reference into *out (free with cdp_path_free). CDP_E_INVALID
 * when the text is not a reference, CDP_E_NOMEM on allocation failure. */
int cdp_path_parse(const char *s, size_t len, struct cdp_path **out);
void cdp_path_free(struct cdp_path *p);
/* The value p points at, or NULL when any step is missing. Borrowed from r's trees. */
const cJSON *cdp_path_resolve(const struct cdp_refs *r, const struct cdp_path *p);

/* True when the whole of s is a valid reference. */
bool cdp_path_is_ref(const char *s);
/* Value at the reference ref, or NULL when it is missing or ref is not a reference. */
const cJSON *cdp_path_get(const struct cdp_refs *r, const char *ref);
/* Stores value at ref, creating objects on the way (and the root document when r has none;
 * the caller then owns it through r). Takes ownership of value, also on failure. A numeric key
 * under an array replaces an item or, one past the end, appends. `source@...` with an object
 * replaces the document's members. CDP_E_FORBIDDEN for flow@ (read-only, as in Tracardi),
 * CDP_E_INVALID for a bad reference or a step through a non-container. */
int cdp_path_set(struct cdp_refs *r, const char *ref, cJSON *value);
/* cdp_path_set with the reference already parsed. */
int cdp_path_put(struct cdp_refs *r, const struct cdp_path *p, cJSON *value);

#endif
