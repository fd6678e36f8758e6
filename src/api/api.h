/* The management API: users and tokens, roles per route, and the resources. It listens apart
 * from the collector (127.0.0.1:8687 by default) and never on the public listener. */
#ifndef CDP_API_API_H
#define CDP_API_API_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct cdp_api;
struct cdp_config;
#include "http/http.h"
struct cdp_http_req;
struct cdp_store;

enum cdp_role {
    CDP_ROLE_ADMIN = 1u << 0,
    CDP_ROLE_DEVELOPER = 1u << 1,
    CDP_ROLE_MARKETER = 1u << 2,
    CDP_ROLE_MAINTAINER = 1u << 3,
};
#define CDP_ROLES_ALL                                                                              \
    (CDP_ROLE_ADMIN | CDP_ROLE_DEVELOPER | CDP_ROLE_MARKETER | CDP_ROLE_MAINTAINER)

int cdp_api_new(struct cdp_api **out, const struct cdp_config *cfg, char *err, size_t errlen);
void cdp_api_free(struct cdp_api *api);

extern const struct cdp_route cdp_api_routes[];
extern const size_t cdp_api_nroutes;
/* The http guard: authenticates the bearer token and checks the route's roles. */
bool cdp_api_guard(struct cdp_http_req *req, const struct cdp_route *route, void *app);

/* `cdpd user add`: creates a user with an argon2id password hash. roles is a comma list. */
int cdp_api_user_add(struct cdp_store *s, const char *email, const char *password,
                     const char *roles, const char *full_name, char *err, size_t errlen);

/* Internal to api/: a store connection for this request, returned to the pool after use; NULL
 * after replying 503 when none can be opened. */
struct cdp_store *cdp_api_store(struct cdp_api *api, struct cdp_http_req *req);
void cdp_api_store_put(struct cdp_api *api, struct cdp_store *s);
const struct cdp_config *cdp_api_config(const struct cdp_api *api);

/* Handlers, one file per resource. */
void cdp_api_token(struct cdp_http_req *req, void *app);
void cdp_api_logout(struct cdp_http_req *req, void *app);
void cdp_api_source_put(struct cdp_http_req *req, void *app);
void cdp_api_source_get(struct cdp_http_req *req, void *app);
void cdp_api_source_delete(struct cdp_http_req *req, void *app);
void cdp_api_source_list(struct cdp_http_req *req, void *app);
void cdp_api_profile_get(struct cdp_http_req *req, void *app);
void cdp_api_session_get(struct cdp_http_req *req, void *app);
void cdp_api_event_get(struct cdp_http_req *req, void *app);
void cdp_api_events_by_profile(struct cdp_http_req *req, void *app);
void cdp_api_profile_delete(struct cdp_http_req *req, void *app);
void cdp_api_profile_export(struct cdp_http_req *req, void *app);
void cdp_api_segment_put(struct cdp_http_req *req, void *app);
void cdp_api_segment_get(struct cdp_http_req *req, void *app);
void cdp_api_segment_delete(struct cdp_http_req *req, void *app);
void cdp_api_segment_list(struct cdp_http_req *req, void *app);
void cdp_api_consent_type_put(struct cdp_http_req *req, void *app);
void cdp_api_consent_type_get(struct cdp_http_req *req, void *app);
void cdp_api_consent_type_delete(struct cdp_http_req *req, void *app);
void cdp_api_consent_type_list(struct cdp_http_req *req, void *app);
void cdp_api_validator_put(struct cdp_http_req *req, void *app);
void cdp_api_validator_get(struct cdp_http_req *req, void *app);
void cdp_api_validator_delete(struct cdp_http_req *req, void *app);
void cdp_api_validator_list(struct cdp_http_req *req, void *app);
void cdp_api_mapping_put(struct cdp_http_req *req, void *app);
void cdp_api_mapping_get(struct cdp_http_req *req, void *app);
void cdp_api_mapping_delete(struct cdp_http_req *req, void *app);
void cdp_api_mapping_list(struct cdp_http_req *req, void *app);
void cdp_api_event_types_by_type(struct cdp_http_req *req, void *app);
void cdp_api_event_type_get(struct cdp_http_req *req, void *app);
void cdp_api_flow_draft_put(struct cdp_http_req *req, void *app);
void cdp_api_flow_draft_get(struct cdp_http_req *req, void *app);
void cdp_api_flow_deploy(struct cdp_http_req *req, void *app);
void cdp_api_flow_production_get(struct cdp_http_req *req, void *app);
void cdp_api_flow_list(struct cdp_http_req *req, void *app);
void cdp_api_flow_delete(struct cdp_http_req *req, void *app);
void cdp_api_flow_debug(struct cdp_http_req *req, void *app);
void cdp_api_flow_plugins(struct cdp_http_req *req, void *app);
void cdp_api_rule_put(struct cdp_http_req *req, void *app);
void cdp_api_rule_get(struct cdp_http_req *req, void *app);
void cdp_api_rule_delete(struct cdp_http_req *req, void *app);
void cdp_api_rule_list(struct cdp_http_req *req, void *app);
void cdp_api_rules_by_flow(struct cdp_http_req *req, void *app);
void cdp_api_rules_by_event_type(struct cdp_http_req *req, void *app);

/* The id of the user the request was authenticated as, or NULL on a public route. */
const char *cdp_api_user_id(const struct cdp_http_req *req);
/* The request body as JSON, or NULL after replying 422 (too deep, malformed). */
cJSON *cdp_api_body_json(struct cdp_http_req *req, struct cdp_api *api);
/* The generic config-entity answers: save the body as an entity of kind after normalize (which
 * checks it, fills defaults and an id, or writes a 422 message); the entity with the id in the
 * path, or 404 (what names it in messages); delete it ({"deleted": 1}); a page of them
 * ({total, result}). */
void cdp_api_entity_put(struct cdp_http_req *req, struct cdp_api *api, const char *kind,
                        const char *what, int (*normalize)(cJSON *doc, char *err, size_t errlen));
void cdp_api_entity_get(struct cdp_http_req *req, struct cdp_api *api, const char *kind,
                        const char *what);
void cdp_api_entity_delete(struct cdp_http_req *req, struct cdp_api *api, const char *kind,
                           const char *what);
void cdp_api_entity_list(struct cdp_http_req *req, struct cdp_api *api, const char *kind,
                         const char *what);
/* Replies with the store error rc (404 for CDP_E_NOT_FOUND). */
void cdp_api_reply_err(struct cdp_http_req *req, int rc, const char *what);
/* Parses ?start=&limit= with defaults and bounds. */
void cdp_api_paging(struct cdp_http_req *req, int *start, int *limit);

#endif
