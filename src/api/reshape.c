/* Event reshaping schemas (flow/reshape.h, tracardi-api.md §2.12): POST /event-reshape-schema,
 * GET|DELETE /event-reshape-schema/{id}, GET /event-reshape-schemas. Templates are checked when
 * saved, so a reference that is not one is refused with the place it stands. */
#include "api/api.h"
#include "flow/reshape.h"

#define KIND "event-reshaping"

void cdp_api_reshape_put(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_put(req, app, KIND, "event reshaping schema", cdp_reshape_normalize);
}

void cdp_api_reshape_get(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_get(req, app, KIND, "event reshaping schema");
}

void cdp_api_reshape_delete(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_delete(req, app, KIND, "event reshaping schema");
}

void cdp_api_reshape_list(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_list(req, app, KIND, "event reshaping schemas");
}
