/* Consent types: POST /consent/type, GET|DELETE /consent/type/{id}, GET /consents/type. The
 * collector applies them to POST /customer/consent and consent-update events (model/consent.h). */
#include "api/api.h"
#include "core/err.h"
#include "core/json.h"
#include "http/http.h"
#include "model/consent.h"
#include "store/store.h"

#define KIND "consent-type"

void cdp_api_consent_type_put(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_put(req, app, KIND, "consent type", cdp_consent_type_normalize);
}

void cdp_api_consent_type_get(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_get(req, app, KIND, "consent type");
}

void cdp_api_consent_type_delete(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_delete(req, app, KIND, "consent type");
}

void cdp_api_consent_type_list(struct cdp_http_req *req, void *app)
{
    cdp_api_entity_list(req, app, KIND, "consent types");
}
