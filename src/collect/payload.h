/* The TrackerPayload parser (tracardi-api.md §1.1): JSON text in, a checked cJSON tree out, with
 * the limits on size, depth and event count applied before anything else sees the input. */
#ifndef CDP_COLLECT_PAYLOAD_H
#define CDP_COLLECT_PAYLOAD_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct cdp_payload_limits {
    int max_depth;
    long max_events;
};

/* Parses and checks body. On success *out owns the payload (events normalised: type slugged).
 * On failure returns CDP_E_BAD_JSON or CDP_E_INVALID and *detail holds a FastAPI-style list
 * [{"loc": [...], "msg": "...", "type": "..."}] naming the problem (caller frees both). */
int cdp_payload_parse(const char *body, size_t len, const struct cdp_payload_limits *lim,
                      cJSON **out, cJSON **detail);

#endif
