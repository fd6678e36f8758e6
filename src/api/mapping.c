/* Event-to-profile mappings (flow/mapping.h): POST /event-to-profile,
 * GET|DELETE /event-to-profile/{id}, GET /event-to-profiles. */
#include "api/api.h"
#include "core/err.h"
#include "core/json.h"
#include "flow/mapping.h"
#include "http/http.h"
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
