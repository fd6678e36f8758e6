/* Event-to-profile mappings (flow/mapping.h): POST /event-to-profile,
 * GET|DELETE /event-to-profile/{id}, GET /event-to-profiles; and the built-in event types with
 * their own profile operations (model/event_types.h): GET /event-types/build-in/by_type,
 * GET /event-type/build-in/{id}. */
#include "api/api.h"
#include "core/err.h"
#include "core/json.h"
#include "flow/mapping.h"
#include "http/http.h"
#include "model/event_types.h"
#include "store/store.h"

#define KIND "event-to-profile"

void cdp_api_mapping_put(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_put(req, app, KIND, "event-to-profile mapping", cdp_mapping_normalize);
}

void cdp_api_mapping_get(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_get(req, app, KIND, "event-to-profile mapping");
}

void cdp_api_mapping_delete(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_delete(req, app, KIND, "event-to-profile mapping");
}

void cdp_api_mapping_list(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_list(req, app, KIND, "event-to-profile mappings");
}

void cdp_api_event_types_by_type(struct cdp_http_req *req, void *app)
{
    (void)app;
    cJSON *j = cdp_event_types_by_type();
    if (!j)
        cdp_http_reply_error(req, 500, "out of memory");
    else
        cdp_http_reply_json(req, 200, j);
}

void cdp_api_event_type_get(struct cdp_http_req *req, void *app)
{
    (void)app;
    const cJSON *t = cdp_event_type_get(cdp_http_param(req, 0));
    if (!t)
        cdp_http_reply_error(req, 404, "no built-in event type `%s`", cdp_http_param(req, 0));
    else
        cdp_http_reply_json(req, 200, cJSON_Duplicate(t, true));
}
