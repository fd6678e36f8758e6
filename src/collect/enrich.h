/* Enrichment of sessions and events from the payload's context (tracardi-api.md §1.3):
 * user agent, screen, UTM, location, language, client IP, page hit. */
#ifndef CDP_COLLECT_ENRICH_H
#define CDP_COLLECT_ENRICH_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct cdp_ua_db;

/* The client's address: the peer, or, when the peer is a trusted proxy, the right-most address
 * of X-Forwarded-For that is not a trusted proxy. trusted is a comma list of IPs. */
void cdp_enrich_client_ip(const char *peer, const char *xff, const char *trusted, char *out,
                          size_t outlen);

/* What a user agent says of the session: {"os": {...}, "device": {...}, "app": {...}}.
 * Parsing costs tens of microseconds, so the pipeline caches these by user-agent string. */
cJSON *cdp_enrich_ua_fields(const struct cdp_ua_db *ua_db, const char *ua);

/* Fills a new session's os, device, app, utm and context from the user-agent fields (may be
 * NULL) and the payload context (which it may edit: utm and location are moved out of it, as
 * Tracardi does). */
void cdp_enrich_session(cJSON *session, cJSON *ctx, const cJSON *ua_fields, const char *ip);

/* Keys of the payload context that enrichment consumes (utm, location) and that therefore never
 * land in session.context, also on later requests of the session. */
void cdp_enrich_strip_context(cJSON *ctx);

/* Shows session os/app/device/utm in the event and fills hit from event.context.page. The
 * event borrows from the session (cdp_json_borrow): free it before the session. */
void cdp_enrich_event(cJSON *event, const cJSON *session);

#endif
