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
#include "store/store.h"
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
/* Bits of a route's roles besides the roles (http reads CDP_ROUTE_BULK only): the route works on
 * production whatever x-context says (users and tokens live there); a GET that changes
 * something (Tracardi's GET /production/deploy), audited as the other methods are. */
#define CDP_API_ROUTE_PRODUCTION (1u << 29)
#define CDP_API_ROUTE_WRITES     (1u << 28)
/* A POST that only reads (searches, the flow debugger): not audited. */
#define CDP_API_ROUTE_READS (1u << 27)

int cdp_api_new(struct cdp_api **out, const struct cdp_config *cfg, char *err, size_t errlen);
void cdp_api_free(struct cdp_api *api);

extern const struct cdp_route cdp_api_routes[];
extern const size_t cdp_api_nroutes;
/* The http guard: authenticates the bearer token and checks the route's roles. */
bool cdp_api_guard(struct cdp_http_req *req, const struct cdp_route *route, void *app);

/* `cdpd user add`: creates a user with an argon2id password hash. roles is a comma list. */
int cdp_api_user_add(struct cdp_store *s, const char *email, const char *password,
                     const char *roles, const char *full_name, char *err, size_t errlen);

/* Users, the caller's own account and preferences (user.c), the audit log (audit.c). */
void cdp_api_user_create(struct cdp_http_req *req, void *app);
void cdp_api_install_get(struct cdp_http_req *req, void *app);
void cdp_api_install(struct cdp_http_req *req, void *app);
void cdp_api_user_get(struct cdp_http_req *req, void *app);
void cdp_api_user_update(struct cdp_http_req *req, void *app);
void cdp_api_user_delete(struct cdp_http_req *req, void *app);
void cdp_api_users_list(struct cdp_http_req *req, void *app);
void cdp_api_account_get(struct cdp_http_req *req, void *app);
void cdp_api_account_update(struct cdp_http_req *req, void *app);
void cdp_api_preference_get(struct cdp_http_req *req, void *app);
void cdp_api_preference_put(struct cdp_http_req *req, void *app);
void cdp_api_preference_delete(struct cdp_http_req *req, void *app);
void cdp_api_preferences_get(struct cdp_http_req *req, void *app);
void cdp_api_audit_list(struct cdp_http_req *req, void *app);

/* Internal to api/: the caller's e-mail and bearer-token hash (NULL on a public route). */
const char *cdp_api_user_email(const struct cdp_http_req *req);
const char *cdp_api_token_hash(const struct cdp_http_req *req);
/* An argon2id hash of password into out (crypto_pwhash_STRBYTES); CDP_E_NOMEM on failure. */
int cdp_api_password_hash(const char *password, char *out, size_t outlen);
/* Checks the caller's password again (to change it), slowed down as logins are: 0 when it
 * matches, else a reply is set (422 naming field, or 429) and the error returned. */
int cdp_api_password_recheck(struct cdp_http_req *req, const char *email, const char *pwhash,
                             const char *password, const char *field);

/* The audit log. The guard starts a record for every non-GET request it lets through and the
 * record is written when the reply goes out with a 2xx status: who (user id and e-mail), when,
 * method, path, status and the entity (kind and id from the route: its first path segment and
 * first parameter). Routes on a person's data (profile, session, event, merge ...) keep the
 * route's pattern for a path and ids only as SHA-256 (entity.id_sha256), never documents.
 * cdp_api_audit_start is the guard's; it returns the record, owned by the request's user and
 * freed with cdp_api_audit_free. */
struct cdp_api_audit;
struct cdp_api_audit *cdp_api_audit_start(struct cdp_http_req *req, struct cdp_api *api,
                                          const struct cdp_route *route, const char *user_id,
                                          const char *email);
void cdp_api_audit_free(struct cdp_api_audit *a);
/* The request's record, or NULL (auth.c keeps it with the authenticated user). */
struct cdp_api_audit *cdp_api_audit_of(const struct cdp_http_req *req);
/* What a handler knows better than the route: the entity's kind and id (NULL: keep), and with
 * _docs its documents before and after the change (copied, secrets redacted; NULL where it did
 * not or no longer exists). No-ops on a request without a record (GET); documents of a
 * person's data are never kept. */
void cdp_api_audit_entity(struct cdp_http_req *req, const char *kind, const char *id);
void cdp_api_audit_docs(struct cdp_http_req *req, const char *kind, const char *id,
                        const cJSON *before, const cJSON *after);
/* Sets a top-level field of the record (takes item), e.g. {"password_changed": true}. */
void cdp_api_audit_note(struct cdp_http_req *req, const char *key, cJSON *item);
/* Writes the record now through s, inside the caller's transaction, as answered with status;
 * it is then not written again when the reply goes out. 0 without a record. */
int cdp_api_audit_write(struct cdp_http_req *req, struct cdp_store *s, int status);
/* A record of a change made outside the API (`cdpd user add`), through s. */
int cdp_api_audit_cli(struct cdp_store *s, const char *what, const char *kind, const char *id,
                      const cJSON *after);
/* The record of a request on a route without a token (logins, the first administrator), as
 * answered with status, through s: who it was about, and what it made (redacted). */
int cdp_api_audit_public(struct cdp_http_req *req, struct cdp_store *s, int status,
                         const char *user_id, const char *email, const char *kind, const char *id,
                         const cJSON *after);
/* A copy of doc with the values of secret-looking keys (password, secret, token, credential,
 * api key, private key) replaced by "[redacted]"; NULL on OOM. */
cJSON *cdp_api_audit_redact(const cJSON *doc);

/* Internal to api/: a store connection for this request, of its context, returned to the pool
 * after use; NULL after replying 503 when none can be opened. */
struct cdp_store *cdp_api_store(struct cdp_api *api, struct cdp_http_req *req);
/* The same for context ctx; with req NULL it replies nothing. */
struct cdp_store *cdp_api_store_of(struct cdp_api *api, enum cdp_store_context ctx,
                                   struct cdp_http_req *req);
void cdp_api_store_put(struct cdp_api *api, struct cdp_store *s);
/* The context a request works on: the x-context header's, checked by the guard (production
 * without one, on public routes and on CDP_API_ROUTE_PRODUCTION routes). */
enum cdp_store_context cdp_api_context(const struct cdp_http_req *req);
/* Reads x-context into *out (production when absent); false after replying 422. */
bool cdp_api_context_parse(struct cdp_http_req *req, enum cdp_store_context *out);
const struct cdp_config *cdp_api_config(const struct cdp_api *api);
/* The installation's secret key (core/secret.h), CDP_SECRET_KEY_LEN bytes. */
const unsigned char *cdp_api_secret_key(const struct cdp_api *api);

/* GET /openapi.json (openapi.c) and GET /metrics (metrics.c), public on this listener. */
void cdp_api_openapi(struct cdp_http_req *req, void *app);
void cdp_api_metrics(struct cdp_http_req *req, void *app);
void cdp_api_storage_backlog(struct cdp_http_req *req, void *app);
/* The OpenAPI document of both listeners' routes (cfg gives the collector's port; may be
 * NULL), a new object; and the routes its description table lacks: how many, the first max of
 * them in out. */
cJSON *cdp_api_openapi_doc(const struct cdp_config *cfg);
size_t cdp_api_openapi_undocumented(const struct cdp_route **out, size_t max);

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
/* Whether entities of kind are records about people (erasure audits), never configuration:
 * bundles and deploys leave them out. */
bool cdp_api_is_person_record(const char *kind);
void cdp_api_profiles_merge(struct cdp_http_req *req, void *app);
void cdp_api_merge_list(struct cdp_http_req *req, void *app);
void cdp_api_merge_get(struct cdp_http_req *req, void *app);
void cdp_api_merge_undo(struct cdp_http_req *req, void *app);
void cdp_api_segment_put(struct cdp_http_req *req, void *app);
void cdp_api_segment_get(struct cdp_http_req *req, void *app);
void cdp_api_segment_delete(struct cdp_http_req *req, void *app);
void cdp_api_segment_list(struct cdp_http_req *req, void *app);
void cdp_api_segments_run(struct cdp_http_req *req, void *app);
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
void cdp_api_reshape_put(struct cdp_http_req *req, void *app);
void cdp_api_reshape_get(struct cdp_http_req *req, void *app);
void cdp_api_reshape_delete(struct cdp_http_req *req, void *app);
void cdp_api_reshape_list(struct cdp_http_req *req, void *app);
void cdp_api_identification_put(struct cdp_http_req *req, void *app);
void cdp_api_identification_get(struct cdp_http_req *req, void *app);
void cdp_api_identification_delete(struct cdp_http_req *req, void *app);
void cdp_api_identification_list(struct cdp_http_req *req, void *app);
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
void cdp_api_resource_put(struct cdp_http_req *req, void *app);
void cdp_api_resource_get(struct cdp_http_req *req, void *app);
void cdp_api_resource_delete(struct cdp_http_req *req, void *app);
void cdp_api_resource_enable(struct cdp_http_req *req, void *app);
void cdp_api_resource_disable(struct cdp_http_req *req, void *app);
void cdp_api_resource_list(struct cdp_http_req *req, void *app);
void cdp_api_resource_types(struct cdp_http_req *req, void *app);
void cdp_api_destination_put(struct cdp_http_req *req, void *app);
void cdp_api_destination_get(struct cdp_http_req *req, void *app);
void cdp_api_destination_delete(struct cdp_http_req *req, void *app);
void cdp_api_destination_list(struct cdp_http_req *req, void *app);
void cdp_api_setting_put(struct cdp_http_req *req, void *app);
void cdp_api_setting_get(struct cdp_http_req *req, void *app);
void cdp_api_setting_delete(struct cdp_http_req *req, void *app);
void cdp_api_setting_list(struct cdp_http_req *req, void *app);
void cdp_api_settings_of_type(struct cdp_http_req *req, void *app);
void cdp_api_profiles_import(struct cdp_http_req *req, void *app);
void cdp_api_sessions_import(struct cdp_http_req *req, void *app);
void cdp_api_events_import(struct cdp_http_req *req, void *app);
void cdp_api_config_export(struct cdp_http_req *req, void *app);
void cdp_api_config_import(struct cdp_http_req *req, void *app);
/* Searches (search.c) and the dashboard's counters (dashboard.c). */
void cdp_api_select(struct cdp_http_req *req, void *app);
void cdp_api_select_range(struct cdp_http_req *req, void *app);
void cdp_api_select_histogram(struct cdp_http_req *req, void *app);
void cdp_api_dashboard_count(struct cdp_http_req *req, void *app);
void cdp_api_dashboard_by_value(struct cdp_http_req *req, void *app);
/* Staging's configuration to production (deploy.c). */
void cdp_api_deploy(struct cdp_http_req *req, void *app);
void cdp_api_deploy_dry_run(struct cdp_http_req *req, void *app);

/* Checks that complete a config entity (defaults, an id), shared by its route and the bundle
 * import (bundle.c): 0, or CDP_E_INVALID with a message naming the field in err. Rules are
 * checked alone here: whether their flow and source exist is the caller's question. */
int cdp_api_flow_normalize(cJSON *doc, char *err, size_t errlen);
/* A draft's check: the shape of a flow, not whether it compiles (work in progress). */
int cdp_api_flow_draft_normalize(cJSON *doc, char *err, size_t errlen);
int cdp_api_rule_normalize(cJSON *doc, char *err, size_t errlen);
int cdp_api_validator_normalize(cJSON *doc, char *err, size_t errlen);
int cdp_api_setting_normalize(cJSON *doc, char *err, size_t errlen);
/* A destination all but whether its resource exists. */
int cdp_api_destination_normalize(cJSON *doc, char *err, size_t errlen);
/* A resource with its credentials in clear (or "***" for a set to keep), as POST /resource takes
 * it; stored, they are sealed (core/secret.h) under the context cdp_api_resource_context names,
 * which binds them to the resource's id. */
int cdp_api_resource_normalize(cJSON *doc, char *err, size_t errlen);
void cdp_api_resource_context(const char *id, char *out, size_t outlen);

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
/* One page of the entities of kind as ?start=&limit=&sort= ask (sort: a field the kind's lists
 * sort by, `-` first for descending; default by id), only those whose value at the JSON path
 * where is equals when where is not NULL; *total counts them all. A new array, or NULL after
 * replying (422 naming the sort fields allowed, or the store error). */
cJSON *cdp_api_list_page(struct cdp_http_req *req, struct cdp_api *api, const char *kind,
                         const char *what, const char *where, const char *equals, long *total);
/* Replies with the store error rc (404 for CDP_E_NOT_FOUND). */
void cdp_api_reply_err(struct cdp_http_req *req, int rc, const char *what);
/* Parses ?start=&limit= with defaults and bounds. */
void cdp_api_paging(struct cdp_http_req *req, int *start, int *limit);
/* Every stored entity of kind, by id, as a new array (config lists are small). */
int cdp_api_entity_all(struct cdp_store *s, const char *kind, cJSON **out);

#endif
