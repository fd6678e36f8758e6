/* Event sources: POST /event-source, GET|DELETE /event-source/{id}, GET /event-sources. */
#include "api/api.h"
#include "core/config.h"
#include "core/err.h"
#include "core/json.h"
#include "http/http.h"
#include "model/source.h"
#include "store/store.h"

#define KIND "event-source"

void cdp_api_source_put(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_put(req, app, KIND, "event source", cdp_source_normalize);
}

void cdp_api_source_get(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_get(req, app, KIND, "event source");
}

void cdp_api_source_delete(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_delete(req, app, KIND, "event source");
}

void cdp_api_source_list(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_list(req, app, KIND, "event sources");
}
