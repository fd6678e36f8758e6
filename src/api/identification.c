/* Identification points (flow/identification.h, tracardi-api.md §2.14): POST
 * /identification/point, GET|DELETE /identification/point/{id}, GET /identification/points. */
#include "api/api.h"
#include "flow/identification.h"

#define KIND "identification-point"

void cdp_api_identification_put(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_put(req, app, KIND, "identification point", cdp_identification_normalize);
}

void cdp_api_identification_get(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_get(req, app, KIND, "identification point");
}

void cdp_api_identification_delete(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_delete(req, app, KIND, "identification point");
}

void cdp_api_identification_list(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_list(req, app, KIND, "identification points");
}
